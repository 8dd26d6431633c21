"""Test scores with patient-level bootstrap confidence intervals.

Records of one patient are not independent, so the intervals resample *patients* with replacement
(a cluster bootstrap) and recompute each score on all records of the drawn patients. (The project's
:func:`~sklearn_eeg.evaluation.forecast_scores.bootstrap_ci` resamples per-subject values of a mean,
which AUROC is not.) AUROC and AUPRC are computed here from sorted scores, equal to scikit-learn's
``roc_auc_score`` and ``average_precision_score`` (tested) without their per-call argument checks,
which take most of the time of a thousand resamples.

For patient-level scores, :func:`patient_scores` turns records into one row per patient (the mean of
its records' probabilities); the same functions then score those rows, where the patient bootstrap is
an ordinary bootstrap of patients.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import roc_curve

from sklearn_eeg.evaluation.metrics import confusion_at_threshold

__all__ = ["auprc", "auroc", "classification_scores", "patient_bootstrap", "patient_scores", "roc_band"]


def auroc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with tied scores counted half); NaN with one class."""
    y = np.asarray(y).astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return np.nan
    ranks = rankdata(score)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auprc(y: np.ndarray, score: np.ndarray) -> float:
    """Average precision: precision at each distinct threshold weighted by the recall it adds; NaN with one class."""
    y = np.asarray(y).astype(bool)
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == len(y):
        return np.nan
    order = np.argsort(-np.asarray(score, dtype=float), kind="mergesort")
    s, hits = np.asarray(score, dtype=float)[order], y[order]
    last_of_tie = np.r_[s[1:] != s[:-1], True]
    tp = np.cumsum(hits)[last_of_tie]
    seen = np.flatnonzero(last_of_tie) + 1
    recall_gain = np.diff(np.r_[0, tp]) / n_pos
    return float(np.sum(recall_gain * tp / seen))


def _threshold_scores(y: np.ndarray, score: np.ndarray, threshold: float) -> dict[str, float]:
    counts = confusion_at_threshold(y, score, threshold)
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    return {
        "sensitivity": counts["sensitivity"],
        "specificity": counts["specificity"],
        "precision": tp / (tp + fp) if tp + fp else np.nan,
        "F1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else np.nan,
    }


def _all_scores(y: np.ndarray, score: np.ndarray, threshold: float) -> dict[str, float]:
    return {
        "AUROC": auroc(y, score),
        "AUPRC": auprc(y, score),
        **_threshold_scores(y, score, threshold),
    }


def patient_bootstrap(
    y: np.ndarray,
    score: np.ndarray,
    patients: np.ndarray,
    statistic: Callable[[np.ndarray, np.ndarray], dict[str, float]],
    *,
    n_boot: int = 1000,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """``statistic`` on ``n_boot`` resamples of the patients (with replacement), one row per resample.

    Parameters
    ----------
    y, score, patients : array-like of shape (n_records,)
    statistic : callable
        ``statistic(y, score) -> {name: value}``.
    n_boot : int, default=1000
    random_state : int or None, default=0

    Returns
    -------
    DataFrame of shape (n_boot, n_statistics)
    """
    y, score, patients = np.asarray(y), np.asarray(score, dtype=float), np.asarray(patients)
    ids, inverse = np.unique(patients, return_inverse=True)
    rows_of = [np.flatnonzero(inverse == i) for i in range(len(ids))]
    rng = np.random.default_rng(random_state)
    results = []
    for _ in range(int(n_boot)):
        rows = np.concatenate([rows_of[i] for i in rng.integers(0, len(ids), len(ids))])
        results.append(statistic(y[rows], score[rows]))
    return pd.DataFrame(results)


def classification_scores(
    y: np.ndarray, score: np.ndarray, patients: np.ndarray, threshold: float, *, n_boot: int = 1000,
    random_state: int | None = 0, level: float = 0.95,
) -> pd.DataFrame:
    """AUROC, AUPRC, and sensitivity, specificity, precision, F1 at ``threshold``, with bootstrap CIs.

    Parameters
    ----------
    y : array-like of shape (n_records,)
        0/1 labels.
    score : array-like of shape (n_records,)
        Predicted probabilities.
    patients : array-like of shape (n_records,)
        Patient of each record (the bootstrap unit).
    threshold : float
        Records with ``score >= threshold`` are predicted positive.
    n_boot : int, default=1000
    random_state : int or None, default=0
    level : float, default=0.95

    Returns
    -------
    DataFrame
        Columns ``metric``, ``value``, ``ci_low``, ``ci_high`` (percentile interval over the resamples;
        resamples where a score is undefined are left out).
    """
    y = np.asarray(y).astype(int)
    point = _all_scores(y, np.asarray(score, dtype=float), threshold)
    boot = patient_bootstrap(y, score, patients, lambda a, b: _all_scores(a, b, threshold),
                             n_boot=n_boot, random_state=random_state)
    q = [(1 - level) / 2, (1 + level) / 2]
    rows = []
    for name, value in point.items():
        values = boot[name].dropna().to_numpy()
        low, high = np.quantile(values, q) if len(values) else (np.nan, np.nan)
        rows.append({"metric": name, "value": value, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def patient_scores(patients: np.ndarray, y: np.ndarray, score: np.ndarray) -> pd.DataFrame:
    """One row per patient: its label, its number of records and the mean of its records' probabilities.

    The patient's score is the mean of its records' predicted probabilities. The label table is per
    record and does not require a patient's records to share a label, so the patient's label is 1 when
    *any* of its records is positive -- the rule :func:`~sklearn_eeg.ecg.splits.patient_split`
    stratifies by; ``n_positive_records`` shows the patients whose records disagree.

    Parameters
    ----------
    patients, y, score : array-like of shape (n_records,)
        Patient, 0/1 label and predicted probability of each record.

    Returns
    -------
    DataFrame
        ``patient``, ``label``, ``n_records``, ``n_positive_records``, ``score``; sorted by patient.

    Examples
    --------
    >>> patient_scores(["b", "a", "b"], [1, 0, 0], [0.75, 0.25, 0.5]).to_dict("list")
    {'patient': ['a', 'b'], 'label': [0, 1], 'n_records': [1, 2], 'n_positive_records': [0, 1], 'score': [0.25, 0.625]}
    """
    records = pd.DataFrame({"patient": np.asarray(patients), "y": np.asarray(y).astype(int),
                            "score": np.asarray(score, dtype=float)})
    grouped = records.groupby("patient", sort=True)
    return pd.DataFrame({
        "label": grouped["y"].max(),
        "n_records": grouped.size(),
        "n_positive_records": grouped["y"].sum(),
        "score": grouped["score"].mean(),
    }).reset_index()


def roc_band(
    y: np.ndarray, score: np.ndarray, patients: np.ndarray, *, n_boot: int = 1000, random_state: int | None = 0,
    level: float = 0.95, n_points: int = 101,
) -> pd.DataFrame:
    """The ROC curve on a false-positive-rate grid, with a patient-bootstrap band of its sensitivity.

    Returns
    -------
    DataFrame
        ``fpr``, ``tpr`` (the curve of all records), ``tpr_low``, ``tpr_high``.
    """
    grid = np.linspace(0.0, 1.0, n_points)

    def curve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        fpr, tpr, _ = roc_curve(a, b)
        return np.interp(grid, fpr, tpr)

    def resampled(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
        values = curve(a, b) if len(np.unique(a)) == 2 else np.full(n_points, np.nan)
        return dict(enumerate(values))

    boot = patient_bootstrap(y, score, patients, resampled, n_boot=n_boot, random_state=random_state).dropna()
    low, high = np.quantile(boot.to_numpy(), [(1 - level) / 2, (1 + level) / 2], axis=0)
    return pd.DataFrame({"fpr": grid, "tpr": curve(np.asarray(y).astype(int), np.asarray(score, dtype=float)),
                         "tpr_low": low, "tpr_high": high})
