"""Forecasting metrics: window-level (AUROC, AUPRC, Brier, reliability) and alarm-level.

Alarm-level metrics follow the literature rules spelled out in :mod:`sklearn_eeg.evaluation.alarm_scoring`:
an alarm at ``t`` opens the occurrence period ``[t + SPH, t + SPH + SOP]``; a lead seizure is predicted
iff its onset lies in one; every other alarm is false wherever it is raised (alarms raised on
ictal/postictal windows are exempt); FAH is per recorded hour outside seizures and postictal
periods; the chance level is floored at the time in warning; the seizure-time surrogate test gives
``p_surrogate``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from sklearn_eeg.evaluation.alarm_scoring import alarm_metrics_over_thresholds
from sklearn_eeg.evaluation.alarms import AlarmPolicy


def _binary_inputs(y_true: np.ndarray, risk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true)
    risk = np.asarray(risk, dtype=float)
    if y_true.ndim != 1 or risk.shape != y_true.shape:
        raise ValueError(f"y_true and risk must be 1-D of equal length, got {y_true.shape} and {risk.shape}")
    if not np.isin(y_true, (0, 1)).all():
        raise ValueError("y_true must contain only 0 (interictal) and 1 (preictal)")
    if not np.all(np.isfinite(risk)):
        raise ValueError("risk contains NaN or infinite values")
    return y_true.astype(int), risk


def window_metrics(y_true: np.ndarray, risk: np.ndarray) -> dict:
    """Window-level discrimination and calibration.

    Parameters
    ----------
    y_true : array-like of shape (n_windows,)
        1 preictal, 0 interictal.
    risk : array-like of shape (n_windows,)
        Predicted probability of the preictal class.

    Returns
    -------
    metrics : dict
        ``auroc``, ``auprc`` (average precision) -- both NaN, not 0, when only one class is
        present -- ``brier`` (NaN for an empty input), ``n_pos``, ``n_neg``.
    """
    y_true, risk = _binary_inputs(y_true, risk)
    n_pos = int(y_true.sum())
    n_neg = int(y_true.size - n_pos)
    both = n_pos > 0 and n_neg > 0
    return {
        "auroc": float(roc_auc_score(y_true, risk)) if both else np.nan,
        "auprc": float(average_precision_score(y_true, risk)) if both else np.nan,
        "brier": float(brier_score_loss(y_true, risk, labels=[0, 1])) if y_true.size else np.nan,
        "n_pos": n_pos,
        "n_neg": n_neg,
    }


def reliability_curve(y_true: np.ndarray, risk: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Reliability (calibration) table over equal-width risk bins on [0, 1].

    Parameters
    ----------
    y_true : array-like of shape (n_windows,)
        1 preictal, 0 interictal.
    risk : array-like of shape (n_windows,)
        Predicted probability in [0, 1].
    n_bins : int, default=10
        Number of bins; bin ``b`` holds ``b / n_bins <= risk < (b + 1) / n_bins`` (1.0 in the last).

    Returns
    -------
    table : DataFrame of shape (n_bins, 5)
        ``bin_lower``, ``bin_upper``, ``mean_risk``, ``frac_pos`` (NaN for empty bins), ``count``.
    """
    y_true, risk = _binary_inputs(y_true, risk)
    if int(n_bins) != n_bins or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins}")
    if risk.size and (risk.min() < 0 or risk.max() > 1):
        raise ValueError("risk must lie in [0, 1] for a reliability curve")
    edges = np.linspace(0.0, 1.0, int(n_bins) + 1)
    b = np.clip(np.floor(risk * n_bins).astype(int), 0, n_bins - 1)
    count = np.bincount(b, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_risk = np.bincount(b, weights=risk, minlength=n_bins) / count
        frac_pos = np.bincount(b, weights=y_true, minlength=n_bins) / count
    return pd.DataFrame(
        {"bin_lower": edges[:-1], "bin_upper": edges[1:], "mean_risk": mean_risk, "frac_pos": frac_pos, "count": count}
    )


def confusion_at_threshold(y_true: np.ndarray, risk: np.ndarray, threshold: float) -> dict:
    """Window-level confusion counts with ``risk >= threshold`` predicted preictal.

    Returns
    -------
    counts : dict
        ``tn``, ``fp``, ``fn``, ``tp``, ``sensitivity`` and ``specificity`` (NaN when undefined).
    """
    y_true, risk = _binary_inputs(y_true, risk)
    pred = risk >= threshold
    tp = int(np.sum(pred & (y_true == 1)))
    fp = int(np.sum(pred & (y_true == 0)))
    fn = int(np.sum(~pred & (y_true == 1)))
    tn = int(np.sum(~pred & (y_true == 0)))
    return {
        "tn": tn,
        "fp": fp,
        "fn": fn,
        "tp": tp,
        "sensitivity": tp / (tp + fn) if tp + fn else np.nan,
        "specificity": tn / (tn + fp) if tn + fp else np.nan,
    }


def alarm_metrics(
    risk: np.ndarray,
    meta: pd.DataFrame,
    *,
    threshold: float,
    policy: AlarmPolicy | None = None,
    n_surrogates: int = 1000,
    random_state: int | None = 0,
) -> dict:
    """Alarm-level forecasting metrics of one operating point (definitions in the module docstring).

    Parameters
    ----------
    risk : array-like of shape (n_windows,)
        Risk per row of ``meta``.
    meta : DataFrame of shape (n_windows, ...)
        Window table with ``subject``, ``t_abs``, ``label``, ``tte``, ``seizure_id``.
    threshold : float
        Alarm threshold.
    policy : AlarmPolicy, optional
        SOP, SPH and the detector (smoothing, persistence, reset, refractory, stride); default
        :class:`~sklearn_eeg.evaluation.alarms.AlarmPolicy` ().
    n_surrogates : int, default=1000
        Seizure-time surrogates for ``p_surrogate`` (0 skips the test).
    random_state : int or None, default=0
        Seed of the surrogates.

    Returns
    -------
    metrics : dict
        The keys of :func:`sklearn_eeg.evaluation.alarm_scoring.alarm_metrics_over_thresholds` (without
        ``threshold``): ``sensitivity``, ``n_seizures`` (scorable lead seizures), ``n_predicted``,
        ``n_not_scorable``, ``n_alarms``, ``n_false_alarms``, ``n_exempt_alarms``, ``fah`` (false
        alarms per non-ictal hour), ``fah_interictal``, ``nonictal_hours``, ``interictal_hours``,
        ``warning_time_mean``, ``warning_time_median``, ``warning_times`` (list, s),
        ``time_in_warning``, ``chance_poisson``, ``chance_p``, ``ioc``, ``p_value``,
        ``surrogate_chance``, ``p_surrogate``, ``surrogate_counts`` (list).
    """
    table = alarm_metrics_over_thresholds(
        risk, meta, [threshold], policy=policy, n_surrogates=n_surrogates, random_state=random_state
    )
    row = table.iloc[0].to_dict()
    del row["threshold"]
    return row
