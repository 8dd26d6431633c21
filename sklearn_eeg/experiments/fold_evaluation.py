"""The one fold evaluator: fit on a fold's training rows, predict risk, tune thresholds on validation, score test.

Every benchmark of the package evaluates its folds here -- leave-one-subject-out and
patient-specific (:mod:`sklearn_eeg.experiments.benchmark`), the ablations (:mod:`sklearn_eeg.experiments.ablations`), the
Optuna objective (:mod:`sklearn_eeg.experiments.studies`) and the deep runs (:mod:`sklearn_eeg.experiments.deep_training`)
-- so that the protocol cannot drift between them:

1. a clone of the estimator is fitted on the fold's *labeled* training rows (excluded windows never
   train; estimators whose ``fit`` takes ``groups`` get the subject of every training row);
2. a risk is predicted for every validation and test row, labeled or not: the alarm metrics run on
   the whole timeline, since dropping rows would leak the labels through the gaps they leave;
3. one alarm threshold per false-alarm-rate target is tuned on the validation risk
   (:func:`sklearn_eeg.evaluation.scoring.tune_threshold`) and applied unchanged to the test risk;
4. one result row per target: window metrics of validation and test, alarm metrics of test and the
   threshold-free forecast scores of the test timeline.

A fold whose validation risk comes from elsewhere (the patient-specific benchmark tunes on the
previous block's out-of-sample risk) passes it as ``validation``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from sklearn_eeg.evaluation.alarms import AlarmPolicy
from sklearn_eeg.experiments.fold_store import META_COLUMNS
from sklearn_eeg.evaluation.forecast_scores import fold_forecast_scores
from sklearn_eeg.evaluation.metrics import window_metrics
from sklearn_eeg.evaluation.scoring import tune_threshold

__all__ = ["FoldResult", "FoldSplit", "check_window_inputs", "evaluate_fold", "fit_predict_risk", "score_fold"]


@dataclass(frozen=True)
class FoldSplit:
    """Rows of the window table that one fold trains on, tunes its thresholds on and tests on.

    Attributes
    ----------
    train, val, test : ndarray of int
        Row positions (full timeline: excluded rows included; only labeled training rows are fitted).
    info : dict
        Fold description copied into every result row (``fold``, ``test_subject``...).
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    info: dict = field(default_factory=dict)


@dataclass
class FoldResult:
    """What :func:`evaluate_fold` returns.

    Attributes
    ----------
    split : FoldSplit
    model : estimator
        The fitted clone.
    val_risk, test_risk : ndarray of float
        Risk of every row of ``split.val`` and ``split.test``, in that order.
    rows : list of dict
        One scored row per FAH target (empty when no target was asked for).
    """

    split: FoldSplit
    model: Any
    val_risk: np.ndarray
    test_risk: np.ndarray
    rows: list[dict]


def check_window_inputs(X, y, groups, meta: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Validate a benchmark's inputs: one row per window, labels and groups equal to the window table's.

    Returns
    -------
    y : ndarray of int
    groups : ndarray of str
    meta : DataFrame
        With its index reset.
    """
    if not isinstance(meta, pd.DataFrame):
        raise TypeError(f"meta must be the window table (a pandas DataFrame); got {type(meta).__name__}")
    missing = set(META_COLUMNS) - set(meta.columns)
    if missing:
        raise ValueError(f"the window table lacks columns {sorted(missing)}")
    y = np.asarray(y)
    groups = np.asarray(groups if groups is not None else meta["subject"]).astype(str)
    if not len(X) == len(y) == len(groups) == len(meta):
        raise ValueError(
            f"X, y, groups and meta must have one row per window; got {len(X)}, {len(y)}, {len(groups)}, {len(meta)}"
        )
    if not np.isin(y, (-1, 0, 1)).all():
        raise ValueError(
            f"y must be 1 (preictal), 0 (interictal) or -1 (excluded); got values {np.unique(y)[:5].tolist()}"
        )
    if not np.array_equal(groups, meta["subject"].to_numpy().astype(str)):
        raise ValueError("groups must equal meta['subject'] (the window table's subject of every window)")
    if not np.array_equal(y, meta["label"].to_numpy()):
        raise ValueError("y must equal meta['label']")
    return y.astype(int), groups, meta.reset_index(drop=True)


def _fit_clone(estimator, X, y, **fit_params):
    return clone(estimator).fit(X, y, **fit_params)


def _check_two_classes(y_train: np.ndarray, train_groups: np.ndarray | None) -> None:
    """A model learns preictal from interictal only if the training rows hold both."""
    classes = np.unique(y_train)
    if len(classes) == 2:
        return
    have = "no labeled windows" if not len(classes) else f"only {'preictal' if classes[0] == 1 else 'interictal'} windows"
    who = "" if train_groups is None else f" (subjects {', '.join(map(str, np.unique(train_groups)))})"
    raise ValueError(
        f"the training set{who} has {have}: a forecaster needs preictal windows (the SOP before a lead "
        "seizure, after the SPH) and interictal ones; check the seizures of these subjects and labeling.sop/sph"
    )


def fit_predict_risk(
    estimator, X, y, train: np.ndarray, *predict_on: np.ndarray, groups: np.ndarray | None = None,
    fit: Callable[..., Any] = _fit_clone,
):
    """Fit on the labeled rows of ``train``; predict a risk for every row of each ``predict_on``.

    ``fit(estimator, X_train, y_train, **fit_params)`` returns the model to predict with; the
    default fits a clone. (The deep runs pass one that resumes an interrupted fit and restores the
    selected checkpoint.)

    Returns
    -------
    model, risks : fitted estimator, list of ndarray
    """
    train = train[y[train] >= 0]
    _check_two_classes(y[train], None if groups is None else groups[train])
    fit_params = {}
    if groups is not None and "groups" in inspect.signature(estimator.fit).parameters:
        fit_params["groups"] = groups[train]
    model = fit(estimator, X[train], y[train], **fit_params)
    return model, [model.predict_proba(X[idx])[:, 1] if len(idx) else np.empty(0) for idx in predict_on]


def score_fold(
    val_risk: np.ndarray,
    val_meta: pd.DataFrame,
    test_risk: np.ndarray,
    test_meta: pd.DataFrame,
    *,
    fah_targets: Sequence[float],
    policy: AlarmPolicy,
    info: Mapping[str, Any],
    train_meta: pd.DataFrame,
    n_thresholds: int = 200,
    n_surrogates: int = 1000,
    forecast_scores: bool = True,
) -> list[dict]:
    """One row per FAH target: fold info, window metrics of val and test, tuned alarms on test.

    Window metrics use the labeled windows; alarms use the full timeline (excluded windows too).
    The threshold-free forecast scores (:func:`~sklearn_eeg.evaluation.forecast_scores.fold_forecast_scores`:
    ``sens_tiw_auc``, ``brier_timeline``, ``bss``...; skipped with ``forecast_scores=False``) use the
    full test timeline; ``train_meta`` (the fold's training rows) only gives their climatology.
    ``n_surrogates`` seizure-time surrogates test the alarms on test (0: no surrogate test).
    """
    val_labeled = val_meta["label"].to_numpy() >= 0
    test_labeled = test_meta["label"].to_numpy() >= 0
    val_w = window_metrics(val_meta["label"].to_numpy()[val_labeled], val_risk[val_labeled])
    test_w = window_metrics(test_meta["label"].to_numpy()[test_labeled], test_risk[test_labeled])
    tuned = tune_threshold(
        val_risk, val_meta, tuple(fah_targets), test_risk=test_risk, test_meta=test_meta,
        n_thresholds=n_thresholds, policy=policy, n_surrogates=n_surrogates,
    )
    base = {
        **info,
        "n_pos_val": val_w["n_pos"],
        "n_neg_val": val_w["n_neg"],
        "n_pos_test": test_w["n_pos"],
        "n_neg_test": test_w["n_neg"],
        "val_auroc": val_w["auroc"],
        "val_auprc": val_w["auprc"],
        "auroc": test_w["auroc"],
        "auprc": test_w["auprc"],
        "brier": test_w["brier"],
    }
    if forecast_scores:
        base.update(fold_forecast_scores(test_risk, test_meta, train_meta, policy))
    rows = []
    for record in tuned.to_dict("records"):
        row = dict(base)
        for column, value in record.items():
            row[column.removeprefix("test_")] = value
        rows.append(row)
    return rows


def evaluate_fold(
    estimator,
    X,
    y: np.ndarray,
    meta: pd.DataFrame,
    split: FoldSplit,
    *,
    fah_targets: Sequence[float] = (),
    policy: AlarmPolicy | None = None,
    groups: np.ndarray | None = None,
    validation: tuple[np.ndarray, pd.DataFrame] | None = None,
    fit: Callable[..., Any] = _fit_clone,
    n_thresholds: int = 200,
    forecast_scores: bool = True,
) -> FoldResult:
    """Fit, predict and score one fold (see the module docstring for the protocol).

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
        Cloned before fitting (unless ``fit`` says otherwise).
    X : array-like of shape (n_windows, ...)
        Features, raw windows (a lazy :class:`~sklearn_eeg.signal.windows.WindowArray` works) or a
        ``SliceDict``; indexed by row arrays only.
    y : ndarray of shape (n_windows,)
        ``meta["label"]``.
    meta : DataFrame
        The full-timeline window table.
    split : FoldSplit
        The fold's rows and description.
    fah_targets : sequence of float, default=()
        Targets to tune and score; empty: fit and predict only (``rows`` stays empty).
    policy : AlarmPolicy, optional
        The alarm rule, identical on val and test (default :class:`~sklearn_eeg.evaluation.alarms.AlarmPolicy` ()).
    groups : ndarray of shape (n_windows,), optional
        Subject of every row, for estimators whose ``fit`` takes ``groups``.
    validation : (risk, meta), optional
        Tune the thresholds on this out-of-sample risk instead of the risk this model predicts for
        ``split.val``.
    fit : callable, optional
        ``fit(estimator, X_train, y_train, **fit_params) -> model``; default: fit a clone.
    n_thresholds : int, default=200
        Candidate thresholds of the tuning.
    forecast_scores : bool, default=True
        Add the threshold-free forecast scores to the rows.

    Returns
    -------
    FoldResult
    """
    model, (val_risk, test_risk) = fit_predict_risk(
        estimator, X, y, split.train, split.val, split.test, groups=groups, fit=fit
    )
    rows: list[dict] = []
    if len(fah_targets):
        tune_risk, tune_meta = validation if validation is not None else (val_risk, meta.iloc[split.val])
        rows = score_fold(
            tune_risk, tune_meta, test_risk, meta.iloc[split.test],
            fah_targets=fah_targets, policy=AlarmPolicy() if policy is None else policy, info=split.info,
            train_meta=meta.iloc[split.train], n_thresholds=n_thresholds, forecast_scores=forecast_scores,
        )
    return FoldResult(split=split, model=model, val_risk=val_risk, test_risk=test_risk, rows=rows)
