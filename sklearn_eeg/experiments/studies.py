"""Optuna hyperparameter studies scored by held-out subjects' sensitivity at a false-alarm target.

Protocol of one trial (no leakage)
----------------------------------
The search space (:func:`classical_space`, :func:`cnn_space`) draws an estimator, a feature set and
alarm post-processing parameters. For every leave-one-subject-out fold
(:func:`sklearn_eeg.evaluation.model_selection.loso_splits`: one test subject, rotating validation subjects
taken from the others) the estimator is fitted on the training subjects, the alarm threshold is
tuned on the validation subjects for ``fah_target`` (:func:`sklearn_eeg.evaluation.scoring.tune_threshold`) and
applied unchanged to the test subject. The objective is the mean test sensitivity over folds
(folds whose test subject has no seizure are skipped); the multi-objective variant also returns the
mean test AUPRC. Features are computed once before the study: they are stateless per window.

The best value of a study is a maximum over many trials of this LOSO score, so it is optimistic
for the configuration it selects: sweep on development subjects and report the chosen
configuration on subjects the sweep never saw (e.g. ``pipelines/loso.py --config best_config.yaml``,
the run config :func:`write_results` writes, with ``data.subjects`` changed).

Results
-------
:func:`write_results` writes ``sweep_results.csv`` (every trial), ``sweep_summary.yaml`` (the best
trial or the Pareto front, with run-config sections) and ``best_config.yaml``: a complete run config
(:mod:`sklearn_eeg.experiments.config`) that ``loso.py --config`` accepts as is, the study's facts
in its leading comments. The objectives are named (``Study.set_metric_names``:
``mean_test_sensitivity``, and ``mean_test_auprc`` for the multi-objective variant), so the dashboard
and ``sweep_results.csv`` (``value_mean_test_sensitivity``) say what was maximized.

Pruning
-------
Single-objective trials report each fold's sensitivity with the fold index as step and stop when
:class:`optuna.pruners.WilcoxonPruner` finds them significantly worse than the best trial on the
same folds (fold order is shuffled per trial, as that pruner recommends). Optuna does not support
``Trial.report`` / pruning for multi-objective studies: those trials always run every fold.

Storage and parallel workers
----------------------------
Studies are named and resumable (``load_if_exists=True``). ``storage=None`` means SQLite in
``studies/<name>.db`` (one writer plus ``optuna-dashboard sqlite:///studies/<name>.db``); a URL
(``postgresql://...``, ``sqlite:///...``) is an RDB storage; any other string is a
:class:`optuna.storages.JournalStorage` log file, safe for many worker processes on one filesystem.
Each worker runs :func:`run_study` (or ``pipelines/sweep.py``) with the same name and storage;
``max_trials`` stops all of them once that many trials have completed.

Killed workers (heartbeat)
--------------------------
A worker killed in the middle of a trial (``kill -9``, out of memory, a pre-empted node) cannot mark
its trial finished: without more, the trial stays RUNNING forever and is never rerun. Every worker
therefore records a heartbeat of its running trial every ``heartbeat_s`` seconds (Optuna's
heartbeat, :func:`optuna.storages.fail_stale_trials`); at the start of each of its trials, a worker
marks FAIL every RUNNING trial of the study whose last heartbeat is older than ``grace_s`` seconds,
and enqueues it again with the same parameters (up to ``max_retry`` times,
:class:`optuna.storages.RetryHeartbeatStaleTrialCallback`, named ``RetryFailedTrialCallback`` before
Optuna 4.9; the new trial's system attribute ``failed_trial`` is the number of the killed one). Each such event is a warning of the
``sklearn_eeg.experiments.studies`` logger. A killed trial is thus rerun by the next trial any worker
of the study starts once ``grace_s`` has passed, or by the next worker started on the study.

RDB storages (SQLite, PostgreSQL...) have Optuna's heartbeat, timed by the database server. Optuna's
:class:`~optuna.storages.JournalStorage` has none (up to at least Optuna 5.0): a journal file gets a
:class:`HeartbeatJournalStorage`, which records the heartbeats in the journal itself (a trial system
attribute) and times them with the workers' clocks, so workers on several machines need
synchronized clocks (NTP), to well within ``grace_s``. A trial whose worker never recorded a
heartbeat (heartbeat off, or a study run before heartbeats existed) is never failed this way.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import numbers
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import sqlalchemy
import yaml
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages._heartbeat import BaseHeartbeat
from optuna.storages.journal import BaseJournalBackend, JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

try:  # Optuna >= 4.9 renamed RetryFailedTrialCallback and RDBStorage's failed_trial_callback
    from optuna.storages import RetryHeartbeatStaleTrialCallback as _OptunaRetry

    _STALE_CALLBACK_ARG = "heartbeat_stale_trial_callback"
except ImportError:  # Optuna 4.0 to 4.8
    from optuna.storages import RetryFailedTrialCallback as _OptunaRetry

    _STALE_CALLBACK_ARG = "failed_trial_callback"

from sklearn_eeg.atomic_files import atomic_write_text, check_output_dir
from sklearn_eeg.experiments.fold_evaluation import FoldSplit, evaluate_fold
from sklearn_eeg.evaluation.alarms import AlarmPolicy
from sklearn_eeg.experiments.config import FeaturesConfig, RunConfig, default_cache_dir
from sklearn_eeg.evaluation.model_selection import clip_n_val_subjects, loso_splits
from sklearn_eeg.models.registry import BASELINE_MODELS, CHANCE_MODELS, make_model
from sklearn_eeg.experiments.run_data import load_dataset
from sklearn_eeg.experiments.run_outputs import write_csv

__all__ = [
    "BEST_CONFIG",
    "FoldObjective",
    "HeartbeatJournalStorage",
    "METRIC_NAMES",
    "SPACES",
    "SWEEP_RESULTS",
    "SWEEP_SUMMARY",
    "best_run_config",
    "build_estimator",
    "classical_space",
    "cnn_space",
    "make_objective",
    "resolve_storage",
    "run_config_sections",
    "run_study",
    "sweep_from_config",
    "write_results",
]

CLASSICAL_MODELS = BASELINE_MODELS
"""Models the classical space searches by default."""
SPACE_MODELS = (*CLASSICAL_MODELS, *CHANCE_MODELS)
"""Models the classical space can draw: the classical baselines and, when asked for, the chance
baselines (no parameters of their own), to score a sweep's protocol against a forecaster that
knows nothing."""
FEATURE_SETS = ("basic", "basic_plus")
_META_COLUMNS = ("subject", "t_abs", "label", "tte", "seizure_id")
_SCHEMA_ATTEMPTS = 5
HEARTBEAT_S = 60
"""Default seconds between two heartbeats of a running trial."""
GRACE_S = 180
"""Default seconds without a heartbeat after which a running trial counts as killed."""
MAX_RETRY = 2
"""Default number of reruns of a killed trial (with the same parameters)."""
_HEARTBEAT_ATTR = "sklearn_eeg:heartbeat"
METRIC_NAMES = ("mean_test_sensitivity", "mean_test_auprc")
"""Names of the objectives (the first only for a single-objective study), as the dashboard shows them."""
SWEEP_RESULTS = "sweep_results.csv"
"""Every trial of a study (:func:`write_results`)."""
SWEEP_SUMMARY = "sweep_summary.yaml"
"""The study's best trial or Pareto front (:func:`write_results`)."""
BEST_CONFIG = "best_config.yaml"
"""The best trial as a run config for ``loso.py --config`` (:func:`write_results`)."""

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------------- search spaces


def _alarm_space(trial: optuna.Trial) -> dict[str, Any]:
    smoothing = trial.suggest_categorical("smoothing", ["none", "ema"])
    params: dict[str, Any] = {"smoothing": None if smoothing == "none" else smoothing}
    if smoothing == "ema":
        params["alpha"] = trial.suggest_float("alpha", 0.1, 0.9)
    params["persistence"] = trial.suggest_int("persistence", 1, 3)
    return params


def classical_space(
    trial: optuna.Trial,
    *,
    models: Sequence[str] = CLASSICAL_MODELS,
    feature_sets: Sequence[str] | None = FEATURE_SETS,
) -> dict[str, Any]:
    """Search space of the classical baselines (:func:`sklearn_eeg.models.baselines.make_baseline`).

    Parameters
    ----------
    trial : optuna.Trial
        Trial that draws the parameters.
    models : sequence of str, default=("logreg", "hgb", "mlp")
        Models to choose from, among :data:`SPACE_MODELS`: the classical baselines and the chance
        baselines ``"constant"`` and ``"random"`` (:mod:`sklearn_eeg.models.chance`).
    feature_sets : sequence of str or None, default=("basic", "basic_plus")
        Feature sets to choose from; ``None`` draws none (a single precomputed feature matrix).

    Returns
    -------
    params : dict
        ``model`` (one of ``models``); ``model_params`` (logreg: ``C`` log-uniform in
        [1e-3, 1e2]; hgb: ``max_depth`` in 2..8 and ``learning_rate`` log-uniform in [0.01, 0.3];
        mlp: ``hidden_size`` in 16..128, log scale; chance baselines: none, they are not tuned);
        ``feature_set`` (drawn for every model; the chance baselines read only its row count);
        ``alarm_params`` (``smoothing`` None or "ema" with ``alpha`` in [0.1, 0.9]; ``persistence``
        in 1..3).

    Examples
    --------
    >>> trial = optuna.trial.FixedTrial({"model": "logreg", "C": 0.1, "feature_set": "basic",
    ...                                  "smoothing": "none", "persistence": 2})
    >>> classical_space(trial)["model_params"]
    {'C': 0.1}
    """
    unknown = set(models) - set(SPACE_MODELS)
    if unknown or not models:
        raise ValueError(f"models must be a non-empty subset of {SPACE_MODELS}, got {list(models)}")
    model = trial.suggest_categorical("model", list(models))
    if model == "logreg":
        model_params = {"C": trial.suggest_float("C", 1e-3, 1e2, log=True)}
    elif model == "hgb":
        model_params = {
            "max_depth": trial.suggest_int("max_depth", 2, 8),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
        }
    elif model == "mlp":
        model_params = {"hidden_size": trial.suggest_int("hidden_size", 16, 128, log=True)}
    else:
        model_params = {}
    feature_set = trial.suggest_categorical("feature_set", list(feature_sets)) if feature_sets else None
    return {"model": model, "model_params": model_params, "feature_set": feature_set, "alarm_params": _alarm_space(trial)}


def cnn_space(trial: optuna.Trial) -> dict[str, Any]:
    """Search space of the spectrogram CNN (:class:`sklearn_eeg.models.estimators.SpectrogramCNNClassifier`).

    Parameters
    ----------
    trial : optuna.Trial
        Trial that draws the parameters.

    Returns
    -------
    params : dict
        ``model`` = "cnn"; ``model_params``: ``dropout`` in [0.2, 0.5], ``weight_decay``
        log-uniform in [1e-4, 1e-3], ``focal_gamma`` in [1.5, 3] (focal loss), ``augmentation``
        (bool: signal noise/shift and SpecAugment masks); ``feature_set`` None (raw windows);
        ``alarm_params`` as in :func:`classical_space`.
    """
    model_params = {
        "dropout": trial.suggest_float("dropout", 0.2, 0.5),
        "weight_decay": trial.suggest_float("weight_decay", 1e-4, 1e-3, log=True),
        "focal_gamma": trial.suggest_float("focal_gamma", 1.5, 3.0),
        "augmentation": trial.suggest_categorical("augmentation", [False, True]),
    }
    return {"model": "cnn", "model_params": model_params, "feature_set": None, "alarm_params": _alarm_space(trial)}


SPACES: dict[str, Callable[..., dict[str, Any]]] = {"classical": classical_space, "cnn": cnn_space}


def build_estimator(params: Mapping[str, Any], *, fixed_params: Mapping[str, Any] | None = None, random_state: int | None = 0):
    """Unfitted estimator for the parameters drawn by a search space.

    Parameters
    ----------
    params : mapping
        Output of :func:`classical_space` or :func:`cnn_space`.
    fixed_params : mapping, optional
        Extra constructor arguments that are not searched, e.g. ``{"max_iter": 50}`` for hgb or
        ``{"max_epochs": 3, "device": "cpu"}`` for the CNN.
    random_state : int or None, default=0
        Seed of the estimator.

    Returns
    -------
    estimator : classifier with ``predict_proba``
        A baseline pipeline ``StandardScaler → classifier`` taking a feature matrix, a chance
        baseline (:func:`sklearn_eeg.models.chance.make_chance`) or the CNN taking raw windows
        ``(n_windows, n_channels, n_times)``.
    """
    model = params["model"]
    searched = dict(params["model_params"])
    fixed = dict(fixed_params or {})
    if model in SPACE_MODELS:  # classical and chance baselines (the chance ones draw no parameter)
        return make_model(model, precomputed_features=True, params={**fixed, **_classifier_params(searched)},
                          random_state=random_state)
    if model == "cnn":
        from sklearn_eeg.models.nn import SignalAugment, SpecAugment

        augment = searched["augmentation"]
        seed = 0 if random_state is None else random_state
        return make_model("cnn", precomputed_features=False, random_state=random_state, params={
            **fixed,
            "module__dropout": searched["dropout"],
            "optimizer__weight_decay": searched["weight_decay"],
            "loss": "focal",
            "focal_gamma": searched["focal_gamma"],
            "module__signal_augment": SignalAugment(noise_std=0.1, max_shift=64, seed=seed) if augment else None,
            "module__spec_augment": SpecAugment(max_freq=8, max_time=4, seed=seed) if augment else None,
        })
    raise ValueError(f"unknown model {model!r}; choose one of {[*SPACE_MODELS, 'cnn']}")


def _classifier_params(model_params: Mapping[str, Any]) -> dict[str, Any]:
    """Classifier arguments of a classical space draw (``hidden_size`` -> ``hidden_layer_sizes``)."""
    params = dict(model_params)
    if "hidden_size" in params:
        params["hidden_layer_sizes"] = [params.pop("hidden_size")]
    return params


def run_config_sections(params: Mapping[str, Any]) -> dict[str, Any]:
    """Sections of a YAML run config (:mod:`sklearn_eeg.experiments.config`) that reproduce a classical draw.

    Parameters
    ----------
    params : mapping
        Output of :func:`classical_space`.

    Returns
    -------
    sections : dict
        ``model`` (``name``, ``params``), ``features`` (``feature_set``, when drawn) and ``alarms``
        (``smoothing``, ``alpha``, ``persistence``): paste them into a config for
        ``pipelines/loso.py --config``.

    Examples
    --------
    >>> run_config_sections({"model": "mlp", "model_params": {"hidden_size": 32}, "feature_set": "basic",
    ...                      "alarm_params": {"smoothing": None, "persistence": 2}})["model"]
    {'name': 'mlp', 'params': {'hidden_layer_sizes': [32]}}
    """
    if params["model"] not in SPACE_MODELS:
        raise ValueError(f"run config sections exist for the models {SPACE_MODELS}, not {params['model']!r}")
    sections: dict[str, Any] = {"model": {"name": params["model"], "params": _classifier_params(params["model_params"])}}
    if params["feature_set"] is not None:
        sections["features"] = {"feature_set": params["feature_set"]}
    sections["alarms"] = dict(params["alarm_params"])
    return sections


# --------------------------------------------------------------------------------- objective


class FoldObjective:
    """Optuna objective: leave-one-subject-out folds, threshold tuned on validation subjects.

    Build it with :func:`make_objective`; see the module docstring for the protocol.

    Attributes
    ----------
    directions : list of str
        ``["maximize"]`` (mean test sensitivity at FAH <= ``fah_target``) or
        ``["maximize", "maximize"]`` (sensitivity, mean test AUPRC).
    folds : list of (train, val, test) index arrays
        Fixed for the whole study, so that the pruner compares trials on the same folds.
    test_subjects : list of str
        Test subject of each fold (the step reported for fold ``k`` is ``k``).
    metric_names : list of str
        Names of the objective values (:data:`METRIC_NAMES`), one per direction.
    """

    def __init__(
        self,
        features: Mapping[str | None, np.ndarray],
        y: np.ndarray,
        meta: pd.DataFrame,
        folds: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
        test_subjects: list[str],
        *,
        space: Callable[[optuna.Trial], dict[str, Any]],
        directions: list[str],
        fah_target: float,
        policy: AlarmPolicy,
        n_thresholds: int,
        fixed_params: Mapping[str, Mapping[str, Any]],
        random_state: int | None,
    ):
        self.features = features
        self.y = y
        self.meta = meta
        self.folds = folds
        self.test_subjects = test_subjects
        self.space = space
        self.directions = directions
        self.fah_target = fah_target
        self.policy = policy
        self.n_thresholds = n_thresholds
        self.fixed_params = fixed_params
        self.random_state = random_state

    @property
    def metric_names(self) -> list[str]:
        """``["mean_test_sensitivity"]``, or with ``"mean_test_auprc"`` for two directions."""
        return list(METRIC_NAMES[: len(self.directions)])

    def _matrix(self, feature_set: str | None) -> np.ndarray:
        if feature_set in self.features:
            return self.features[feature_set]
        if feature_set is None and len(self.features) == 1:
            return next(iter(self.features.values()))
        raise ValueError(f"the space drew feature_set={feature_set!r}, but the features given are {list(self.features)}")

    def evaluate_fold(self, params: Mapping[str, Any], k: int) -> dict[str, float]:
        """Fit on fold ``k``'s training subjects, tune on its validation subjects, score its test subject.

        Returns
        -------
        scores : dict
            ``sensitivity`` (test, at the validation threshold; NaN without test seizures),
            ``fah`` (test), ``threshold``, ``val_sensitivity``, ``auprc`` (test windows).
        """
        X = self._matrix(params["feature_set"])
        train, val, test = self.folds[k]
        if not np.any(self.y[val] == 0):  # no interictal time: no FAH, no threshold
            return dict.fromkeys(("sensitivity", "fah", "threshold", "val_sensitivity", "auprc"), float("nan"))
        estimator = build_estimator(
            params, fixed_params=self.fixed_params.get(params["model"]), random_state=self.random_state
        )
        (row,) = evaluate_fold(
            estimator, X, self.y, self.meta, FoldSplit(train, val, test), fah_targets=(self.fah_target,),
            policy=self.policy.replace(**params["alarm_params"]), n_thresholds=self.n_thresholds,
            forecast_scores=False,
        ).rows
        return {key: float(row[key]) for key in ("sensitivity", "fah", "threshold", "val_sensitivity", "auprc")}

    def __call__(self, trial: optuna.Trial) -> float | tuple[float, float]:
        params = self.space(trial)
        single = len(self.directions) == 1
        seed = 0 if self.random_state is None else self.random_state
        order = np.random.default_rng([seed, trial.number]).permutation(len(self.folds))
        scores: dict[str, dict[str, float]] = {}
        for k in order:
            fold = self.evaluate_fold(params, int(k))
            scores[self.test_subjects[k]] = fold
            trial.set_user_attr("folds", _json_safe(scores))
            if single and np.isfinite(fold["sensitivity"]):
                trial.report(fold["sensitivity"], step=int(k))
                if trial.should_prune():
                    trial.set_user_attr("mean_sensitivity_so_far", _nanmean(scores, "sensitivity"))  # finite here
                    raise optuna.TrialPruned(f"pruned after {len(scores)} of {len(self.folds)} folds")
        sensitivity, auprc = _nanmean(scores, "sensitivity"), _nanmean(scores, "auprc")
        means = {"sensitivity": sensitivity, "auprc": auprc, "test_fah": _nanmean(scores, "fah")}
        for key, value in means.items():
            trial.set_user_attr(f"mean_{key}", value if np.isfinite(value) else None)
        return sensitivity if single else (sensitivity, auprc)


def _json_safe(scores: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float | None]]:
    """Per-fold scores with NaN as None (strict JSON for storages and the dashboard)."""
    return {s: {k: (v if np.isfinite(v) else None) for k, v in fold.items()} for s, fold in scores.items()}


def _nanmean(scores: Mapping[str, Mapping[str, float]], key: str) -> float:
    values = np.array([s[key] for s in scores.values()], dtype=float)
    return float(np.mean(values[np.isfinite(values)])) if np.isfinite(values).any() else float("nan")


def make_objective(
    features: np.ndarray | Mapping[str, np.ndarray],
    y: np.ndarray,
    groups: np.ndarray,
    meta: pd.DataFrame,
    *,
    space: str | Callable[[optuna.Trial], dict[str, Any]] = "classical",
    fah_target: float = 0.5,
    n_val_subjects: int = 1,
    directions: Sequence[str] = ("maximize",),
    policy: AlarmPolicy | None = None,
    n_thresholds: int = 100,
    fixed_params: Mapping[str, Mapping[str, Any]] | None = None,
    random_state: int | None = 0,
) -> FoldObjective:
    """Objective of a study: mean held-out-subject sensitivity at FAH <= ``fah_target``.

    Parameters
    ----------
    features : ndarray of shape (n_windows, ...) or mapping of str to such arrays
        Precomputed inputs: a feature matrix ``(n_windows, n_features)``, raw windows
        ``(n_windows, n_channels, n_times)`` for the CNN, or a mapping from feature-set name to
        feature matrix (``{"basic": F1, "basic_plus": F2}``), whose keys the classical space searches.
    y : array-like of shape (n_windows,)
        1 preictal, 0 interictal.
    groups : array-like of shape (n_windows,)
        Subject of every window.
    meta : DataFrame of shape (n_windows, ...)
        Window table (``subject``, ``t_abs``, ``label``, ``tte``, ``seizure_id``).
    space : {"classical", "cnn"} or callable, default="classical"
        Search space: a name of :data:`SPACES` or a function ``trial -> dict`` returning the same
        keys as :func:`classical_space`.
    fah_target : float, default=0.5
        False alarms per interictal hour allowed on the validation subjects.
    n_val_subjects : int, default=1
        Validation subjects per fold (rotating, drawn from the non-test subjects).
    directions : sequence of str, default=("maximize",)
        ``("maximize",)``: mean sensitivity; ``("maximize", "maximize")``: (mean sensitivity, mean
        AUPRC), a multi-objective study (no pruning).
    policy : AlarmPolicy, optional
        The study's alarm rule (default :class:`~sklearn_eeg.evaluation.alarms.AlarmPolicy` ()); every trial
        changes the fields its space draws (``smoothing``, ``alpha``, ``persistence``) and keeps
        the others (``sop``, ``sph``, ``refractory``...).
    n_thresholds : int, default=100
        Candidate thresholds in the validation tuning.
    fixed_params : mapping, optional
        Per-model constructor arguments that are not searched, e.g.
        ``{"hgb": {"max_iter": 50}, "cnn": {"max_epochs": 3}}``.
    random_state : int or None, default=0
        Seeds the validation rotation, the estimators and the per-trial fold order.

    Returns
    -------
    objective : FoldObjective
        Callable ``objective(trial)``; ``objective.directions`` tells :func:`run_study` the
        study directions.

    Examples
    --------
    >>> from sklearn_eeg.evaluation.alarms import simulate_risk_timeline
    >>> risk, meta = simulate_risk_timeline(3, 6, seizure_every_h=1.0, random_state=0)
    >>> F = np.c_[np.log(risk / (1 - risk)), np.random.default_rng(0).normal(size=len(risk))]
    >>> objective = make_objective(F, meta["label"], meta["subject"], meta, fah_target=1.0)
    >>> len(objective.folds)
    3
    """
    if isinstance(space, str):
        if space not in SPACES:
            raise ValueError(f"space must be one of {sorted(SPACES)} or a callable, got {space!r}")
        space_name, space = space, SPACES[space]
    else:
        space_name = None
    if isinstance(features, Mapping):
        if not features:
            raise ValueError("features is an empty mapping")
        mapping = {str(k): v for k, v in features.items()}
    else:
        mapping = {None: features}
    if space_name == "classical":
        space = partial(classical_space, feature_sets=None if None in mapping else tuple(mapping))
    y = np.asarray(y)
    groups = np.asarray(groups)
    if not isinstance(meta, pd.DataFrame):
        raise TypeError(f"meta must be a pandas DataFrame (the window table), got {type(meta).__name__}")
    missing = [c for c in _META_COLUMNS if c not in meta.columns]
    if missing:
        raise ValueError(f"meta lacks column(s) {missing}; see docs/DATA_CONTRACTS.md")
    for name, X in mapping.items():
        if len(X) != len(y):
            raise ValueError(f"features{'' if name is None else f'[{name!r}]'} has {len(X)} rows, y has {len(y)}")
    if len(groups) != len(y) or len(meta) != len(y):
        raise ValueError(f"y, groups and meta must have equal lengths, got {len(y)}, {len(groups)}, {len(meta)}")
    if not np.isin(y, (-1, 0, 1)).all():
        raise ValueError("y must contain only 1 (preictal), 0 (interictal) and -1 (excluded, risk only)")
    directions = list(directions)
    if len(directions) not in (1, 2) or any(d != "maximize" for d in directions):
        raise ValueError(f"directions must be ['maximize'] or ['maximize', 'maximize'], got {directions}")
    if not np.isfinite(fah_target) or fah_target < 0:
        raise ValueError(f"fah_target must be finite and >= 0, got {fah_target}")
    with_seizures = np.unique(groups[y == 1])
    if with_seizures.size == 0:
        raise ValueError("no subject has preictal windows: sensitivity is undefined on every fold")
    n_val_subjects = clip_n_val_subjects(len(np.unique(groups)), n_val_subjects)  # a 3-subject dataset keeps 1
    folds = list(loso_splits(groups, n_val_subjects=n_val_subjects, random_state=random_state))
    test_subjects = [str(groups[test[0]]) for _, _, test in folds]
    return FoldObjective(
        mapping,
        y,
        meta.reset_index(drop=True),
        folds,
        test_subjects,
        space=space,
        directions=directions,
        fah_target=float(fah_target),
        policy=AlarmPolicy() if policy is None else policy,
        n_thresholds=n_thresholds,
        fixed_params=dict(fixed_params or {}),
        random_state=random_state,
    )


# --------------------------------------------------------------------------------- studies


def _check_heartbeat(heartbeat_s: int | None, grace_s: int, max_retry: int) -> None:
    """Raise ValueError, naming the argument, unless the heartbeat settings are usable."""

    def whole(value: Any) -> bool:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)

    if heartbeat_s is not None and not (whole(heartbeat_s) and heartbeat_s >= 0):
        raise ValueError(f"heartbeat_s must be a whole number of seconds >= 0 (0: no heartbeat), got {heartbeat_s!r}")
    if not (whole(grace_s) and grace_s > 0):
        raise ValueError(f"grace_s must be a whole number of seconds > 0, got {grace_s!r}")
    if heartbeat_s and grace_s <= heartbeat_s:
        raise ValueError(
            f"grace_s ({grace_s}) must exceed heartbeat_s ({heartbeat_s}), or live trials are failed "
            "between two heartbeats; take a few heartbeats (default 180 for 60)"
        )
    if not (whole(max_retry) and max_retry >= 0):
        raise ValueError(f"max_retry must be a whole number >= 0, got {max_retry!r}")


class _RetryStaleTrial:
    """Heartbeat-stale trial callback: log the killed trial, then rerun it with the same parameters.

    Wraps Optuna's :class:`~optuna.storages.RetryHeartbeatStaleTrialCallback`, which enqueues a
    WAITING copy of the trial (parameters, user attributes, system attribute ``failed_trial``)
    unless it has already been retried ``max_retry`` times.
    """

    def __init__(self, max_retry: int, grace_s: int):
        self.max_retry = max_retry
        self.grace_s = grace_s
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            self._retry = _OptunaRetry(max_retry=max_retry)

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        attempt = len(trial.system_attrs.get("retry_history", [])) + 1
        original = trial.system_attrs.get("failed_trial", trial.number)
        fate = (f"rerun with the same parameters (retry {attempt} of {self.max_retry})" if attempt <= self.max_retry
                else f"not rerun: it failed {attempt} times (max_retry={self.max_retry})")
        logger.warning(
            "study %r: trial %d (%s) had no heartbeat for over %d s (its worker was killed or lost the storage): "
            "marked FAIL, %s",
            study.study_name, trial.number, "first run" if original == trial.number else f"a retry of trial {original}",
            self.grace_s, fate,
        )
        self._retry(study, trial)


class HeartbeatJournalStorage(JournalStorage, BaseHeartbeat):
    """A :class:`~optuna.storages.JournalStorage` with Optuna's heartbeat of running trials.

    Optuna's journal storage has no heartbeat (it is not a ``BaseHeartbeat``), so a trial whose worker
    is killed stays RUNNING forever. This one records each heartbeat in the journal, as the trial
    system attribute ``"sklearn_eeg:heartbeat"`` = ``[trial number, Unix time]``, and implements
    the interface :func:`optuna.study.Study.optimize` uses: its heartbeat thread calls
    :meth:`record_heartbeat` every ``heartbeat_interval`` seconds, and every new trial starts by
    failing the stale ones (:func:`optuna.storages.fail_stale_trials`) and passing them to
    ``stale_trial_callback``.

    Parameters
    ----------
    log_storage : optuna.storages.journal.BaseJournalBackend
        E.g. ``JournalFileBackend("studies/x.log")``.
    heartbeat_interval : int, optional
        Seconds between two heartbeats of a running trial; None: no heartbeat (a plain journal).
    grace_period : int, optional
        Seconds without a heartbeat after which a RUNNING trial is stale; default
        ``2 * heartbeat_interval``, as in :class:`~optuna.storages.RDBStorage`.
    stale_trial_callback : callable, optional
        ``callback(study, frozen_trial)`` called on each trial failed as stale, e.g.
        :class:`optuna.storages.RetryHeartbeatStaleTrialCallback`.

    Notes
    -----
    Heartbeats are timed with the clock of the worker that records them and compared with the clock
    of the worker that checks them: workers on several machines need synchronized clocks. A trial
    that never recorded a heartbeat is never stale. A heartbeat copied into a retried trial (the
    retry copies the system attributes) names the killed trial's number and is ignored.

    Examples
    --------
    >>> import tempfile
    >>> from optuna.storages.journal import JournalFileBackend
    >>> path = f"{tempfile.mkdtemp()}/study.log"
    >>> storage = HeartbeatJournalStorage(JournalFileBackend(path), heartbeat_interval=60, grace_period=180)
    >>> storage.get_heartbeat_interval()
    60
    """

    def __init__(
        self,
        log_storage: BaseJournalBackend,
        *,
        heartbeat_interval: int | None = None,
        grace_period: int | None = None,
        stale_trial_callback: Callable[[optuna.Study, FrozenTrial], None] | None = None,
    ):
        super().__init__(log_storage)
        self._heartbeat_interval = heartbeat_interval
        self._grace_period = grace_period
        self._stale_trial_callback = stale_trial_callback

    def record_heartbeat(self, trial_id: int) -> None:
        """Write ``[trial number, time.time()]`` as the trial's heartbeat attribute."""
        number = self.get_trial_number_from_id(trial_id)
        try:
            self.set_trial_system_attr(trial_id, _HEARTBEAT_ATTR, [number, time.time()])
        except UpdateFinishedTrialError:
            pass  # another worker found this trial stale and failed it; the objective still finishes

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        grace = 2 * self._heartbeat_interval if self._grace_period is None else self._grace_period
        now = time.time()
        stale = []
        for trial in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
            beat = trial.system_attrs.get(_HEARTBEAT_ATTR)
            if beat is not None and beat[0] == trial.number and now - beat[1] > grace:
                stale.append(trial._trial_id)
        return stale

    def get_heartbeat_interval(self) -> int | None:
        return self._heartbeat_interval

    def get_heartbeat_stale_trial_callback(self) -> Callable[[optuna.Study, FrozenTrial], None] | None:
        return self._stale_trial_callback

    def get_failed_trial_callback(self) -> Callable[[optuna.Study, FrozenTrial], None] | None:
        # the name of the same getter before Optuna 4.9
        return self._stale_trial_callback


def resolve_storage(
    storage: str | BaseStorage | None,
    name: str,
    studies_dir: str | Path = "studies",
    *,
    heartbeat_s: int | None = HEARTBEAT_S,
    grace_s: int = GRACE_S,
    max_retry: int = MAX_RETRY,
) -> BaseStorage:
    """Optuna storage for a study, with a heartbeat that reruns the trials of killed workers.

    Parameters
    ----------
    storage : str, BaseStorage or None
        ``None``: SQLite file ``<studies_dir>/<name>.db``; a URL with ``://`` (``sqlite:///x.db``,
        ``postgresql://user:pw@host/db``): an RDB storage; any other string: a journal log file
        (created with its folder), for many worker processes; a storage object is returned as
        it is (the heartbeat arguments are then ignored: set them on it).
    name : str
        Study name (file name of the default SQLite database).
    studies_dir : str or Path, default="studies"
        Folder of the default SQLite databases.
    heartbeat_s : int or None, default=60
        Seconds between two heartbeats of a running trial; 0 or None: no heartbeat (a killed
        worker's trial then stays RUNNING).
    grace_s : int, default=180
        A RUNNING trial with no heartbeat for longer is marked FAIL by the next trial any worker
        starts; must exceed ``heartbeat_s``.
    max_retry : int, default=2
        Times a trial failed this way is enqueued again with the same parameters (0: never).

    Returns
    -------
    storage : optuna.storages.BaseStorage
        An :class:`~optuna.storages.RDBStorage` (with Optuna's heartbeat) or a
        :class:`HeartbeatJournalStorage` (a plain :class:`~optuna.storages.JournalStorage` when the
        heartbeat is off). See "Killed workers" in the module docstring.
    """
    if isinstance(storage, BaseStorage):
        return storage
    _check_heartbeat(heartbeat_s, grace_s, max_retry)
    heartbeat_s = heartbeat_s or None
    callback = _RetryStaleTrial(max_retry, grace_s) if heartbeat_s else None
    if storage is None:
        Path(studies_dir).mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{Path(studies_dir) / f'{name}.db'}"
    if "://" in storage:
        # SQLite: wait for the lock instead of failing when several processes write
        engine = {"connect_args": {"timeout": 60}} if storage.startswith("sqlite") else None
        heartbeat = {}
        if heartbeat_s:
            heartbeat = {"heartbeat_interval": heartbeat_s, "grace_period": grace_s, _STALE_CALLBACK_ARG: callback}
        for attempt in range(_SCHEMA_ATTEMPTS):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    return RDBStorage(storage, engine_kwargs=engine, **heartbeat)
            except sqlalchemy.exc.SQLAlchemyError:
                # workers started together race to create the schema; the loser finds it made
                if attempt == _SCHEMA_ATTEMPTS - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
    Path(storage).parent.mkdir(parents=True, exist_ok=True)
    backend = JournalFileBackend(str(storage))
    if not heartbeat_s:
        return JournalStorage(backend)
    logger.info("%s: Optuna's JournalStorage has no heartbeat; sklearn_eeg records one in the journal every %d s "
                "(stale after %d s, on the workers' clocks)", storage, heartbeat_s, grace_s)
    return HeartbeatJournalStorage(backend, heartbeat_interval=heartbeat_s, grace_period=grace_s,
                                   stale_trial_callback=callback)


def run_study(
    name: str,
    objective: Callable[[optuna.Trial], float | tuple[float, ...]],
    *,
    storage: str | BaseStorage | None = None,
    n_trials: int | None = 20,
    max_trials: int | None = None,
    timeout: float | None = None,
    seed: int | None = 0,
    directions: Sequence[str] | None = None,
    pruner: optuna.pruners.BasePruner | None = None,
    studies_dir: str | Path = "studies",
    out_dir: str | Path | None = None,
    show_progress_bar: bool = True,
    heartbeat_s: int | None = HEARTBEAT_S,
    grace_s: int = GRACE_S,
    max_retry: int = MAX_RETRY,
    metric_names: Sequence[str] | None = None,
    run_config: RunConfig | None = None,
) -> optuna.Study:
    """Create or resume a named study and run trials on it.

    Parameters
    ----------
    name : str
        Study name; an existing study of that name in ``storage`` is resumed.
    objective : callable
        ``objective(trial)``, e.g. from :func:`make_objective`.
    storage : str, BaseStorage or None
        See :func:`resolve_storage`; ``None`` = ``sqlite:///<studies_dir>/<name>.db``.
    n_trials : int or None, default=20
        Trials run by this call (this worker).
    max_trials : int, optional
        Stop once the study holds this many complete trials, counting those of every worker
        (:class:`optuna.study.MaxTrialsCallback`).
    timeout : float, optional
        Seconds after which this call starts no new trial.
    seed : int or None, default=0
        Seed of the TPE sampler. Give parallel workers different seeds (or None), or they
        propose the same parameters.
    directions : sequence of str, optional
        Default: ``objective.directions`` if present, else ``["maximize"]``.
    pruner : BasePruner, optional
        Default: ``WilcoxonPruner(p_threshold=0.1)`` for one direction, none for several (Optuna
        cannot prune multi-objective trials).
    studies_dir : str or Path, default="studies"
        Folder of the default SQLite storage.
    out_dir : str or Path, optional
        Also write ``sweep_results.csv``, ``sweep_summary.yaml`` and ``best_config.yaml`` there
        (:func:`write_results`).
    show_progress_bar : bool, default=True
        Optuna's tqdm progress bar over this call's trials.
    heartbeat_s : int or None, default=60
        Seconds between two heartbeats of this worker's running trial; 0 or None: none.
    grace_s : int, default=180
        At the start of each trial, RUNNING trials of the study without a heartbeat for longer
        (their worker was killed) are marked FAIL and enqueued again with the same parameters; a
        retried trial counts in ``n_trials``.
    max_retry : int, default=2
        Reruns of a killed trial. See :func:`resolve_storage`; ignored when ``storage`` is a
        storage object.
    metric_names : sequence of str, optional
        Names of the objective values, one per direction (``Study.set_metric_names``: the
        dashboard's axis labels instead of "Objective 0"). Default: ``objective.metric_names`` if
        present (:class:`FoldObjective`), else the study keeps unnamed values.
    run_config : RunConfig, optional
        The sweep's run config (data, labeling, split, seed): the base of ``best_config.yaml``
        (:func:`write_results`).

    Returns
    -------
    study : optuna.Study
    """
    directions = list(directions or getattr(objective, "directions", ["maximize"]))
    if metric_names is not None and len(metric_names) != len(directions):
        raise ValueError(f"metric_names {list(metric_names)} must name each of the {len(directions)} direction(s)")
    names = metric_names if metric_names is not None else getattr(objective, "metric_names", None)
    if names is not None and len(names) != len(directions):
        names = None  # an objective built for other directions: the directions check below says so
    if pruner is None and len(directions) > 1:
        pruner = optuna.pruners.NopPruner()
    elif pruner is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            pruner = optuna.pruners.WilcoxonPruner(p_threshold=0.1)
    study = optuna.create_study(
        study_name=name,
        storage=resolve_storage(storage, name, studies_dir, heartbeat_s=heartbeat_s, grace_s=grace_s,
                                max_retry=max_retry),
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=pruner,
        directions=directions,
        load_if_exists=True,
    )
    expected = [optuna.study.StudyDirection.MAXIMIZE if d == "maximize" else optuna.study.StudyDirection.MINIMIZE for d in directions]
    if list(study.directions) != expected:
        raise ValueError(f"study {name!r} exists with directions {study.directions}, not {directions}; use another name")
    if names is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names(list(names))
    callbacks = [optuna.study.MaxTrialsCallback(max_trials, states=(TrialState.COMPLETE,))] if max_trials else None
    if max_trials is None or _n_complete(study) < max_trials:
        study.optimize(objective, n_trials=n_trials, timeout=timeout, callbacks=callbacks, show_progress_bar=show_progress_bar)
    if out_dir is not None:
        write_results(study, out_dir, space=getattr(objective, "space", None), objective=objective,
                      run_config=run_config)
    return study


def _n_complete(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def write_results(
    study: optuna.Study,
    out_dir: str | Path = "reports/tables",
    *,
    space: Callable[[optuna.Trial], dict[str, Any]] | None = None,
    objective: Any = None,
    run_config: RunConfig | None = None,
) -> tuple[Path, Path, Path | None]:
    """Write the trials table, the study summary and the best trial as a run config.

    Parameters
    ----------
    study : optuna.Study
    out_dir : str or Path, default="reports/tables"
    space : callable, optional
        The study's search space (default: ``objective.space``); with a classical space the best
        trial (and each Pareto-optimal trial) also becomes run-config sections
        (:func:`run_config_sections`).
    objective : FoldObjective, optional
        The study's objective: its space, ``fixed_params`` (part of the best config's
        ``model.params``) and ``fah_target`` (named in the best config's comments).
    run_config : RunConfig, optional
        The sweep's run config: data, labeling, split, seed and the alarm settings the space does
        not draw. Default: the schema defaults.

    Returns
    -------
    paths : (Path, Path, Path or None)
        ``sweep_results.csv`` (``study.trials_dataframe()``: one row per trial, parameters,
        values named after the study's metric names, state, per-fold scores in
        ``user_attrs_folds``), ``sweep_summary.yaml`` (the best trial, or the Pareto front of a
        multi-objective study, with run-config sections where the space allows) and
        ``best_config.yaml``: a complete run config (``loso.py --config best_config.yaml`` runs it
        as is), the study's facts in its leading comments. The last is None, and an older
        ``best_config.yaml`` in ``out_dir`` is removed, when the study has no single best classical
        trial (no complete trial, several objectives, or the CNN space).

    Notes
    -----
    The best value is the maximum over trials of a LOSO score, hence optimistic for the chosen
    configuration; estimate its performance on subjects the sweep did not use.
    """
    space = space if space is not None else getattr(objective, "space", None)
    fixed = dict(getattr(objective, "fixed_params", None) or {})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv = out / SWEEP_RESULTS
    write_csv(study.trials_dataframe(), csv)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    counts = {s.name.lower(): len(study.get_trials(deepcopy=False, states=(s,))) for s in TrialState}
    names = study.metric_names or [f"objective_{k}" for k in range(len(study.directions))]
    summary: dict[str, Any] = {
        "study": study.study_name,
        "directions": [d.name.lower() for d in study.directions],
        "metric_names": list(names),
        "trials": {k: v for k, v in counts.items() if v},
    }
    best_sections = None
    if complete:
        single = len(study.directions) == 1
        best = [study.best_trial] if single else study.best_trials
        entries = []
        for t in best:
            entry = {"trial": t.number, "values": [float(v) for v in t.values], "params": dict(t.params),
                     "mean_test_fah": t.user_attrs.get("mean_test_fah")}
            sections = _trial_sections(space, t, fixed)
            if sections is not None and not single:  # each Pareto-optimal trial, to pick one by hand
                entry["run_config"] = sections
            entries.append(entry)
        summary["best" if single else "pareto_front"] = entries
        if single:
            best_sections = _trial_sections(space, study.best_trial, fixed)
            if best_sections is not None:
                summary["run_config"] = best_sections
    summary_path = out / SWEEP_SUMMARY
    atomic_write_text(summary_path, yaml.safe_dump(summary, sort_keys=False))
    best_path = out / BEST_CONFIG
    if best_sections is None:
        best_path.unlink(missing_ok=True)  # a best config of another study must not pass for this one's
        return csv, summary_path, None
    header = _best_config_header(study, names, counts, getattr(objective, "fah_target", None), best_path)
    values = best_run_config(run_config or RunConfig(), best_sections)
    atomic_write_text(best_path, header + yaml.safe_dump(values, sort_keys=False))
    return csv, summary_path, best_path


def _trial_sections(space: Callable[[optuna.Trial], dict[str, Any]] | None, trial: FrozenTrial,
                    fixed: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    """Run-config sections of a classical trial, the model's fixed (not searched) parameters included."""
    if space is None:
        return None
    params = space(optuna.trial.FixedTrial(trial.params))
    if params["model"] not in SPACE_MODELS:
        return None
    sections = run_config_sections(params)
    sections["model"]["params"] = {**fixed.get(params["model"], {}), **sections["model"]["params"]}
    return sections


def best_run_config(base: RunConfig, sections: Mapping[str, Any]) -> dict[str, Any]:
    """A whole run config (as a mapping for YAML): ``base`` with a trial's run-config sections.

    Parameters
    ----------
    base : RunConfig
        The sweep's config: data, labeling, split, seed, and the alarm settings no trial draws.
    sections : mapping
        From :func:`run_config_sections`: ``model`` (replaced whole, so no sampler and no
        parameters of another model remain), ``features`` and ``alarms`` (merged).

    Returns
    -------
    values : dict
        Every key of :class:`~sklearn_eeg.experiments.config.RunConfig`; ``data.cache_dir`` is None
        (the default cache location of whoever runs it) unless the sweep named another folder.
    """
    values = base.to_dict()
    values["model"] = {"name": sections["model"]["name"], "sampler": None, "params": dict(sections["model"]["params"])}
    values["features"].update(sections.get("features", {}))
    values["alarms"].update(sections.get("alarms", {}))
    if Path(values["data"]["cache_dir"]) == default_cache_dir():
        values["data"]["cache_dir"] = None
    return values


def _format_value(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _best_config_header(study: optuna.Study, names: Sequence[str], counts: Mapping[str, int],
                        fah_target: float | None, path: Path) -> str:
    """The leading YAML comments of ``best_config.yaml``: what produced it and how to use it."""
    best = study.best_trial
    target = f" at FAH <= {fah_target:g}/h (thresholds tuned on validation subjects)" if fah_target is not None else ""
    lines = [
        f"Best trial of the Optuna study {study.study_name!r}: a run config; run it as is with",
        f"  sklearn-eeg-loso --config {path}",
        f"trial {best.number}: {names[0]} = {_format_value(best.value)}{target}",
        f"mean test FAH: {_format_value(best.user_attrs.get('mean_test_fah'))} per hour",
        f"searched parameters: {json.dumps(best.params)}",
        "trials: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v),
        "The best of many trials is optimistic for the configuration it selects: report it on",
        "subjects the sweep did not use (change data.subjects or data.data_root).",
        f"All trials: {SWEEP_RESULTS}; study summary: {SWEEP_SUMMARY}.",
    ]
    return "".join(f"# {line}\n" for line in lines) + "\n"


# --------------------------------------------------------------------------------- data + CLI


def sweep_from_config(
    cfg,
    *,
    name: str,
    space: str = "classical",
    n_trials: int = 20,
    max_trials: int | None = None,
    storage: str | None = None,
    fah_target: float = 0.5,
    directions: Sequence[str] = ("maximize",),
    models: Sequence[str] = CLASSICAL_MODELS,
    feature_sets: Sequence[str] = FEATURE_SETS,
    fixed_params: Mapping[str, Mapping[str, Any]] | None = None,
    sampler_seed: int | None = None,
    timeout: float | None = None,
    studies_dir: str | Path = "studies",
    out_dir: str | Path = "reports/tables",
    progress: bool = True,
    heartbeat_s: int | None = HEARTBEAT_S,
    grace_s: int = GRACE_S,
    max_retry: int = MAX_RETRY,
) -> optuna.Study:
    """Load a run config's dataset, precompute its inputs once and run a study on them.

    Parameters
    ----------
    cfg : sklearn_eeg.experiments.config.RunConfig
        Data (``data_root`` or synthetic ``preset``), labeling, ``split.n_val_subjects`` and ``seed``.
    name, space, n_trials, max_trials, storage, timeout, studies_dir, out_dir, heartbeat_s, grace_s, max_retry :
        As in :func:`run_study` and :func:`make_objective`; the heartbeat settings are checked
        before any data is loaded.
    fah_target, directions, fixed_params :
        As in :func:`make_objective`.
    sampler_seed : int, optional
        Seed of the TPE sampler (default: ``cfg.seed``). ``cfg.seed`` fixes the folds and the
        models and must be the same for every worker of a study; give each worker its own
        ``sampler_seed``.
    models : sequence of str, default=("logreg", "hgb", "mlp")
        Models searched by the classical space (any of :data:`SPACE_MODELS`).
    feature_sets : sequence of str, default=("basic", "basic_plus")
        Feature sets computed (and cached) and searched by the classical space.
    progress : bool, default=True
        Progress bars (data loading and trials).

    Returns
    -------
    study : optuna.Study
    """
    if space not in SPACES:
        raise ValueError(f"space must be one of {sorted(SPACES)}, got {space!r}")
    _check_heartbeat(heartbeat_s, grace_s, max_retry)
    check_output_dir(out_dir)  # before any data is loaded
    if space == "cnn":
        features, y, groups, meta = load_dataset(cfg, features=False, progress=progress)
        space_fn = cnn_space
    else:
        space_fn = partial(classical_space, models=tuple(models), feature_sets=tuple(feature_sets))
        features = {}
        for feature_set in feature_sets:
            fs_cfg = dataclasses.replace(cfg, features=FeaturesConfig(feature_set=feature_set))
            features[feature_set], y, groups, meta = load_dataset(fs_cfg, features=True, progress=progress)
    objective = make_objective(
        features,
        y,
        groups,
        meta,
        space=space_fn,
        fah_target=fah_target,
        n_val_subjects=cfg.split.n_val_subjects,
        directions=directions,
        policy=cfg.alarm_policy(),
        fixed_params=fixed_params,
        random_state=cfg.seed,
    )
    return run_study(
        name,
        objective,
        storage=storage,
        n_trials=n_trials,
        max_trials=max_trials,
        timeout=timeout,
        seed=cfg.seed if sampler_seed is None else sampler_seed,
        studies_dir=studies_dir,
        out_dir=out_dir,
        show_progress_bar=progress,
        heartbeat_s=heartbeat_s,
        grace_s=grace_s,
        max_retry=max_retry,
        run_config=cfg,
    )
