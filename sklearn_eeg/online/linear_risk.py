"""A verified shortcut for streaming: one feature row through a fitted scaler → logistic-regression pipeline.

A stream scores one window per call. For one row, scikit-learn's input validation (type and dataframe
detection, shape, dtype, feature names, at every pipeline step) costs about 1 ms, some twenty times the
arithmetic of a standardised logistic regression. :func:`linear_risk` returns a function that does the
very operations of ``Pipeline(StandardScaler, LogisticRegression).predict_proba(row)[0, 1]``, in the same
dtypes, without the validation; the row must already be what the pipeline accepts (a finite 2-D array of
one row and ``n_features_in_`` columns, as the forecaster's feature step gives).

The shortcut is used only where it is exact: it is built for pipelines whose steps are
``StandardScaler`` (any number, ``"passthrough"`` allowed) followed by a binary ``LogisticRegression``,
and is then compared with ``predict_proba`` on probe rows (zeros, the scaler's mean, rows spread over the
training scale, rows that saturate the logistic function) in float32 and float64. Any difference in the
last bit, any other step or classifier, and :func:`linear_risk` returns None: the caller keeps
``predict_proba``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

__all__ = ["linear_risk"]

_N_PROBES = 24  # random probe rows per dtype, besides zeros and the scaler's mean


class _ScaledLogisticRisk:
    """Positive-class probability of one row: the scalers' ``(x - mean_) / scale_``, then ``expit(x @ coef_.T + b)``."""

    def __init__(self, scalers: list[StandardScaler], clf: LogisticRegression):
        self._scalers = [(s.mean_ if s.with_mean else None, s.scale_ if s.with_std else None) for s in scalers]
        self._coef_t = clf.coef_.T
        self._intercept = clf.intercept_
        self._cast: dict[np.dtype, list[tuple[np.ndarray | None, np.ndarray | None]]] = {}

    def _scaling(self, dtype: np.dtype) -> list[tuple[np.ndarray | None, np.ndarray | None]]:
        """The scalers' statistics cast to the row's dtype, as ``StandardScaler.transform`` casts them."""
        if dtype not in self._cast:
            self._cast[dtype] = [(None if m is None else m.astype(dtype), None if s is None else s.astype(dtype))
                                 for m, s in self._scalers]
        return self._cast[dtype]

    def __call__(self, row: np.ndarray) -> float:
        x = row
        for mean, scale in self._scaling(row.dtype):
            if mean is not None:
                x = x - mean
            if scale is not None:
                x = x / scale
        scores = x @ self._coef_t + self._intercept
        return float(special.expit(scores.reshape(-1))[0])


def _steps(model: Any) -> tuple[list[StandardScaler], LogisticRegression] | None:
    """The scalers and the classifier of a supported pipeline (None otherwise)."""
    if not isinstance(model, Pipeline):
        return None
    *head, (_, clf) = model.steps
    scalers = [step for _, step in head if step not in (None, "passthrough")]
    if type(clf) is not LogisticRegression or any(type(s) is not StandardScaler for s in scalers):
        return None
    if len(clf.classes_) != 2 or clf.coef_.shape[0] != 1:
        return None
    return scalers, clf


def _probe_rows(scalers: list[StandardScaler], n_features: int, dtype: type) -> np.ndarray:
    """Rows spread over the first scaler's training scale, plus zeros, its mean and saturating rows."""
    rng = np.random.default_rng(0)
    mean = scalers[0].mean_ if scalers and scalers[0].with_mean else np.zeros(n_features)
    scale = scalers[0].scale_ if scalers and scalers[0].with_std else np.ones(n_features)
    spread = rng.normal(size=(_N_PROBES, n_features)) * rng.choice([0.1, 1.0, 3.0, 100.0], size=(_N_PROBES, 1))
    return np.vstack([np.zeros(n_features), mean, mean + spread * scale]).astype(dtype)


def linear_risk(model: Any) -> Callable[[np.ndarray], float] | None:
    """A function scoring one row as ``model.predict_proba(row)[0, 1]`` does, bit for bit, or None.

    Parameters
    ----------
    model : estimator
        Fitted. Only a ``Pipeline`` of ``StandardScaler`` steps and a binary ``LogisticRegression`` gets a
        shortcut, and only if it equals ``predict_proba`` on every probe row (see the module docstring).

    Returns
    -------
    callable or None
        ``risk(row) -> float`` for ``row`` of shape (1, n_features) (float32 or float64, finite), or None
        where ``predict_proba`` must be used.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> X = np.random.default_rng(0).normal(size=(40, 3)); y = np.arange(40) % 2
    >>> model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    >>> risk = linear_risk(model)
    >>> risk(X[:1]) == model.predict_proba(X[:1])[0, 1]
    True
    >>> linear_risk(LogisticRegression().fit(X, y)) is None   # not a scaler -> classifier pipeline
    True
    """
    steps = _steps(model)
    if steps is None:
        return None
    scalers, clf = steps
    risk = _ScaledLogisticRisk(scalers, clf)
    for dtype in (np.float32, np.float64):
        rows = _probe_rows(scalers, clf.coef_.shape[1], dtype)
        # one row per call, as the stream calls it (a batch's matrix product may round differently)
        if any(risk(rows[i : i + 1]) != model.predict_proba(rows[i : i + 1])[0, 1] for i in range(len(rows))):
            return None
    return risk
