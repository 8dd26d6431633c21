"""The model registry: every estimator a run can name, and the one factory that builds it.

========== ============================== ===================== ==========================================
name       family                         input                 built by
========== ============================== ===================== ==========================================
logreg     classical baseline             feature matrix        :func:`sklearn_eeg.models.baselines.make_baseline`
hgb        classical baseline             feature matrix        (features -> scaler -> classifier)
mlp        classical baseline             feature matrix
constant   chance baseline                either (reads rows)   :func:`sklearn_eeg.models.chance.make_chance`
random     chance baseline                either (reads rows)
cnn        deep (skorch)                  raw windows           :class:`~sklearn_eeg.models.estimators.SpectrogramCNNClassifier`
fusion     deep (skorch)                  raw windows+features  :class:`~sklearn_eeg.models.estimators.FusionClassifier`
multiphase deep, in phases                raw windows           :class:`~sklearn_eeg.models.multiphase.MultiPhaseCNNClassifier`
========== ============================== ===================== ==========================================

Run scripts, benchmarks, sweeps, ablations and deep runs all build their estimators with
:func:`make_model`; torch is imported only when a deep model is asked for.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from sklearn_eeg.models.baselines import BASELINE_MODELS, make_baseline
from sklearn_eeg.models.chance import CHANCE_MODELS, make_chance

__all__ = [
    "BASELINE_MODELS",
    "CHANCE_MODELS",
    "DEEP_MODELS",
    "FEATURE_MATRIX_MODELS",
    "MODEL_NAMES",
    "MULTIPHASE_MODELS",
    "STREAMABLE_ESTIMATORS",
    "STREAMABLE_MODELS",
    "as_estimator",
    "make_model",
    "model_name",
]

DEEP_MODELS = {"cnn": "SpectrogramCNNClassifier", "fusion": "FusionClassifier"}
"""Deep model names and their estimator classes in :mod:`sklearn_eeg.models.estimators`."""
MULTIPHASE_MODELS = ("multiphase",)
"""Deep models trained in phases (:class:`~sklearn_eeg.models.multiphase.MultiPhaseCNNClassifier`); not
in :data:`DEEP_MODELS`, whose single-phase estimators the deep runs (``train_deep``) resume and checkpoint."""
MODEL_NAMES = (*BASELINE_MODELS, *CHANCE_MODELS, *DEEP_MODELS, *MULTIPHASE_MODELS)
"""Every model name :func:`make_model` knows."""
FEATURE_MATRIX_MODELS = (*BASELINE_MODELS, *CHANCE_MODELS)
"""Models that config-driven runs fit on the cached feature matrix instead of raw windows."""
STREAMABLE_MODELS = (*FEATURE_MATRIX_MODELS, *DEEP_MODELS)
"""Models whose run folders stream online (:mod:`sklearn_eeg.online`): from the window's features, the
filtered window, or both (fusion)."""
STREAMABLE_ESTIMATORS = {name: f"sklearn_eeg.models.estimators.{cls}" for name, cls in DEEP_MODELS.items()}
"""Deep model name -> its estimator class as ``save_run`` names it in a model's manifest (all stream)."""


def make_model(
    name: str,
    *,
    precomputed_features: bool,
    feature_set: str = "basic_plus",
    sampler: str | None = None,
    params: dict | None = None,
    random_state: int | None = 0,
) -> BaseEstimator:
    """Unfitted estimator for a model name.

    Parameters
    ----------
    name : {"logreg", "hgb", "mlp", "constant", "random", "cnn", "fusion", "multiphase"}
        See the module's table.
    precomputed_features : bool
        The data are a feature matrix (classical baselines skip the feature step; deep models refuse).
    feature_set, sampler :
        Passed to the baseline factory. Chance baselines have no feature step and take no
        sampler (undersampling would only change the rate they learn).
    params : dict, optional
        Estimator parameters (classifier parameters of a baseline, ``step`` and ``reversion`` of
        the random chance baseline, constructor arguments of a deep estimator).
    random_state : int or None, default=0
        Seed of the estimator.

    Returns
    -------
    estimator : classifier with ``predict_proba``
    """
    params = dict(params or {})
    if name in BASELINE_MODELS:
        return make_baseline(
            name,
            feature_set=feature_set,
            features=not precomputed_features,
            sampler=sampler,
            random_state=random_state,
            **params,
        )
    if name in CHANCE_MODELS:
        if sampler is not None:
            raise ValueError(f"chance model {name!r} takes no sampler; got sampler={sampler!r}")
        return make_chance(name, random_state=random_state, **params)
    if name in DEEP_MODELS or name in MULTIPHASE_MODELS:
        if precomputed_features:
            raise ValueError(f"model {name!r} needs raw windows of shape (n_windows, n_channels, n_times)")
        params = {"random_state": random_state, **params}
        if name in MULTIPHASE_MODELS:
            from sklearn_eeg.models.multiphase import MultiPhaseCNNClassifier  # loads torch and skorch

            return MultiPhaseCNNClassifier(**params)
        from sklearn_eeg.models import estimators  # torch and skorch load only when a deep model is asked for

        return getattr(estimators, DEEP_MODELS[name])(**params)
    raise ValueError(f"unknown model {name!r}; choose one of {list(MODEL_NAMES)}")


def as_estimator(model: str | BaseEstimator, X: Any, random_state: int | None) -> BaseEstimator:
    """``model`` itself, or :func:`make_model` of a name for data ``X`` (2-D: a feature matrix)."""
    if isinstance(model, str):
        return make_model(model, precomputed_features=np.ndim(X) == 2, random_state=random_state)
    return model


def model_name(model: str | BaseEstimator) -> str:
    """A model's name for run folders: the name itself, or the final estimator's class in lower case."""
    if isinstance(model, str):
        return model
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    return type(final).__name__.lower()
