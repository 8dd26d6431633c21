"""Probabilistic, threshold-free forecast scores of a risk timeline (SzCORE / SeFEF style).

Alarm-level metrics (:mod:`sklearn_eeg.evaluation.alarm_scoring`) judge one operating point. The scores here
judge the risk itself, on the **full timeline** (every window, whatever its label), against the
same event the alarms forecast:

* **Forecast target.** A window at ``t`` is positive when a lead-seizure onset lies in
  ``[t + SPH, t + SPH + SOP]``: the window ends in that seizure's alarm window, so an alarm raised
  there would be true (:func:`forecast_target`).
* **Sensitivity vs time in warning** (Snyder et al. 2008; Kuhlmann et al. 2018). Every alarm
  threshold gives one point (time in warning, sensitivity); the area under that curve, closed at
  (0, 0) and (1, 1), is 1 for a perfect forecaster and 0.5 -- the diagonal -- for one whose
  warnings are independent of the seizures, since a warning covering a fraction ``w`` of the time
  catches a seizure with probability ``w`` (:func:`sensitivity_tiw_curve`, :func:`sensitivity_tiw_auc`).
  The diagonal slightly overstates chance, so 0.5 is a conservative reference: a warning period
  ``[t, t + SPH + SOP]`` counts its SPH as time in warning although no onset there is predicted,
  and a seizure whose alarm window is partly unrecorded (a file gap) is harder to catch than the
  recorded time suggests. Random risks score 0.48 on average on gap-free simulated timelines
  (about 0.44 with the simulator's 10-min gaps between 1-h files).
* **Brier skill score** against climatology: ``BSS = 1 - BS / BS_clim`` with ``BS`` the mean squared
  difference of risk and target and ``BS_clim`` that of a constant forecast, the training rate of
  the target. 1 is perfect, 0 no better than the constant, negative worse (an uncalibrated risk,
  e.g. one trained with class weights, is penalised even when it ranks well)
  (:func:`brier_skill_score`, :func:`reliability_on_timeline`).
* **Bootstrap CI** of a mean over subjects, resampling subjects (:func:`bootstrap_ci`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sklearn_eeg.evaluation.alarm_scoring import alarm_metrics_over_thresholds
from sklearn_eeg.evaluation.alarms import AlarmPolicy
from sklearn_eeg.evaluation.metrics import reliability_curve

__all__ = [
    "bootstrap_ci",
    "brier_skill_score",
    "closed_tiw_curve",
    "fold_forecast_scores",
    "forecast_target",
    "reliability_on_timeline",
    "sensitivity_tiw_auc",
    "sensitivity_tiw_curve",
]

def forecast_target(meta: pd.DataFrame, *, sop: float = 600.0, sph: float = 30.0) -> np.ndarray:
    """Per window, 1 when it ends in a lead seizure's alarm window, else 0.

    A window ending at ``t_abs`` is positive iff the onset ``t_abs + tte`` of its next seizure is a
    lead seizure (``lead_seizure`` non-empty) and lies in ``[t_abs + sph, t_abs + sph + sop]``
    (closed), exactly when an alarm raised at ``t_abs`` would predict it. Only the next seizure is
    looked at: a lead seizure follows a seizure-free period, so no other onset can be the lead one
    within ``sph + sop`` of a window. Every row is scored, whatever its ``label`` or ``state``.

    Tables without ``lead_seizure`` fall back to ``label == 1`` (the preictal windows): then the
    target follows the labeling's preictal definition, and excluded windows are 0.

    Parameters
    ----------
    meta : DataFrame of shape (n_windows, ...)
        Full-timeline window table with ``t_abs``, ``tte`` and ``lead_seizure`` (or ``label``).
    sop, sph : float, default=600.0, 30.0
        Seizure occurrence period and prediction horizon (s).

    Returns
    -------
    target : ndarray of shape (n_windows,)
        0/1 integers in the row order of ``meta``.

    Examples
    --------
    >>> meta = pd.DataFrame({"t_abs": [0.0, 500.0, 1000.0], "tte": [700.0, 200.0, np.nan],
    ...                      "lead_seizure": ["s1", "s1", ""]})
    >>> forecast_target(meta).tolist()
    [0, 1, 0]
    """
    if "lead_seizure" not in meta.columns:
        return (meta["label"].to_numpy() == 1).astype(int)
    lead = meta["lead_seizure"].fillna("").astype(str).to_numpy() != ""
    tte = meta["tte"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        inside = (tte >= sph) & (tte <= sph + sop)
    return (lead & inside).astype(int)


def _threshold_grid(smoothed: np.ndarray, n_thresholds: int) -> np.ndarray:
    """Risk quantiles at evenly spaced levels and at log-spaced exceedances, plus one above the maximum.

    Evenly spaced levels alone leave the top tail -- where a fast-varying risk raises few alarms
    and the time in warning is small -- with one or two thresholds; log-spaced exceedances
    ``1 / n_windows .. 1`` fill it.
    """
    if int(n_thresholds) != n_thresholds or n_thresholds < 2:
        raise ValueError(f"n_thresholds must be an integer >= 2, got {n_thresholds}")
    if smoothed.size == 0:
        raise ValueError("cannot derive thresholds from an empty risk timeline")
    exceedance = np.geomspace(1.0 / smoothed.size, 1.0, int(n_thresholds))
    levels = np.union1d(np.linspace(0.0, 1.0, int(n_thresholds)), 1.0 - exceedance)
    q = np.unique(np.quantile(smoothed, np.clip(levels, 0.0, 1.0)))
    return np.append(q, np.nextafter(q[-1], np.inf))


def sensitivity_tiw_curve(
    risk: np.ndarray, meta: pd.DataFrame, *, policy: AlarmPolicy | None = None, n_thresholds: int = 50
) -> pd.DataFrame:
    """Sensitivity and time in warning of the alarms at many thresholds of one risk timeline.

    The thresholds are quantiles of the (smoothed) risk -- ``n_thresholds`` evenly spaced levels and
    ``n_thresholds`` levels ``1 - e`` with exceedances ``e`` log-spaced from one window to all, so
    that the top tail, where time in warning is small, is sampled too -- plus one value above its
    maximum (no alarm), without those below a fixed ``reset`` (the hysteresis level must not
    exceed the threshold).

    Parameters
    ----------
    risk : array-like of shape (n_windows,)
        Risk per row of ``meta``.
    meta : DataFrame of shape (n_windows, ...)
        Full-timeline window table (see :func:`~sklearn_eeg.evaluation.alarm_scoring.alarm_metrics_over_thresholds`).
    policy : AlarmPolicy, optional
        The alarm rule (default :class:`~sklearn_eeg.evaluation.alarms.AlarmPolicy` ()).
    n_thresholds : int, default=50
        Quantile levels of each kind (duplicate thresholds removed).

    Returns
    -------
    curve : DataFrame of shape (n_points, 3)
        ``threshold`` (increasing), ``time_in_warning``, ``sensitivity`` (NaN without scorable
        lead seizures).
    """
    policy = AlarmPolicy() if policy is None else policy
    thresholds = _threshold_grid(policy.smooth(risk, meta), n_thresholds)
    if policy.reset is not None:
        thresholds = thresholds[thresholds >= policy.reset]
    table = alarm_metrics_over_thresholds(risk, meta, thresholds, policy=policy, n_surrogates=0)
    return table[["threshold", "time_in_warning", "sensitivity"]]


def sensitivity_tiw_auc(curve: pd.DataFrame) -> float:
    """Area under sensitivity against time in warning; 0.5 is chance, 1 a perfect forecaster.

    The points are closed at (0, 0) (no alarm) and (1, 1) (always in warning), sorted on time in
    warning (ties on sensitivity) so the curve runs left to right (:func:`closed_tiw_curve`), and
    integrated with the trapezoidal rule. The points are not replaced by their upper envelope (running maximum): a
    refractory alarm rule can lose a seizure at a lower threshold, and taking the best point
    below each time in warning would lift a chance forecaster above 0.5.

    Parameters
    ----------
    curve : DataFrame of shape (n_points, >= 2)
        ``time_in_warning`` and ``sensitivity`` (:func:`sensitivity_tiw_curve`).

    Returns
    -------
    auc : float
        In [0, 1]; NaN when the curve is empty or has no scorable seizures (NaN sensitivity).

    Examples
    --------
    >>> round(sensitivity_tiw_auc(pd.DataFrame({"time_in_warning": [0.1], "sensitivity": [1.0]})), 3)
    0.95
    """
    tiw, sens = closed_tiw_curve(curve)
    if tiw.size == 2 or not (np.all(np.isfinite(tiw)) and np.all(np.isfinite(sens))):
        return np.nan
    return float(np.trapezoid(sens, tiw))


def closed_tiw_curve(curve: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The points of a sensitivity / time-in-warning curve closed at (0, 0) and (1, 1), left to right.

    Parameters
    ----------
    curve : DataFrame of shape (n_points, >= 2)
        ``time_in_warning`` and ``sensitivity`` (:func:`sensitivity_tiw_curve`).

    Returns
    -------
    time_in_warning, sensitivity : ndarray of shape (n_points + 2,)
        Sorted on time in warning, ties on sensitivity (what :func:`sensitivity_tiw_auc` integrates).
    """
    x = np.concatenate([[0.0], curve["time_in_warning"].to_numpy(dtype=float), [1.0]])
    y = np.concatenate([[0.0], curve["sensitivity"].to_numpy(dtype=float), [1.0]])
    order = np.lexsort((y, x))
    return x[order], y[order]


def brier_skill_score(risk: np.ndarray, target: np.ndarray, climatology: float) -> dict[str, float]:
    """Brier score of a risk timeline and its skill against a constant (climatological) forecast.

    Parameters
    ----------
    risk : array-like of shape (n_windows,)
        Predicted probability in [0, 1] on the full timeline.
    target : array-like of shape (n_windows,)
        0/1 forecast target (:func:`forecast_target`).
    climatology : float
        The constant reference probability: the target rate of the *training* windows, never of
        the scored ones.

    Returns
    -------
    scores : dict
        ``brier`` = mean((risk - target)^2), ``brier_climatology`` = mean((climatology - target)^2)
        and ``bss`` = 1 - brier / brier_climatology (NaN when ``brier_climatology`` is 0 or NaN;
        everything NaN for empty input).

    Examples
    --------
    >>> brier_skill_score([0.0, 1.0], [0, 1], climatology=0.5)
    {'brier': 0.0, 'brier_climatology': 0.25, 'bss': 1.0}
    """
    risk = np.asarray(risk, dtype=float)
    target = np.asarray(target, dtype=float)
    if risk.ndim != 1 or risk.shape != target.shape:
        raise ValueError(f"risk and target must be 1-D of equal length, got {risk.shape} and {target.shape}")
    if not np.isin(target, (0, 1)).all():
        raise ValueError("target must contain only 0 and 1")
    if risk.size == 0:
        return {"brier": np.nan, "brier_climatology": np.nan, "bss": np.nan}
    brier = float(np.mean((risk - target) ** 2))
    brier_clim = float(np.mean((climatology - target) ** 2))
    bss = 1.0 - brier / brier_clim if brier_clim > 0 else np.nan
    return {"brier": brier, "brier_climatology": brier_clim, "bss": bss}


def reliability_on_timeline(risk: np.ndarray, target: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Reliability table of the risk against the forecast target on the full timeline.

    :func:`sklearn_eeg.evaluation.metrics.reliability_curve` with ``y_true = target``: calibration judged on
    every window against the event alarms forecast, not on the labeled windows only.

    Parameters
    ----------
    risk : array-like of shape (n_windows,)
        Predicted probability in [0, 1].
    target : array-like of shape (n_windows,)
        0/1 forecast target (:func:`forecast_target`).
    n_bins : int, default=10
        Equal-width risk bins on [0, 1].

    Returns
    -------
    table : DataFrame of shape (n_bins, 5)
        ``bin_lower``, ``bin_upper``, ``mean_risk``, ``frac_pos`` (NaN for empty bins), ``count``.
    """
    return reliability_curve(target, risk, n_bins=n_bins)


def bootstrap_ci(
    values_by_subject: np.ndarray, *, n_boot: int = 1000, random_state: int | None = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean over subjects.

    Subjects are resampled with replacement ``n_boot`` times; the interval holds the central
    ``level`` of the resampled means. NaN values (unscorable subjects) are left out.

    Parameters
    ----------
    values_by_subject : array-like of shape (n_subjects,)
        One value per subject (average a subject's folds first).
    n_boot : int, default=1000
        Bootstrap resamples.
    random_state : int or None, default=0
        Seed of the resampling.
    level : float, default=0.95
        Coverage, in (0, 1).

    Returns
    -------
    low, high : float
        Interval bounds; NaN when no value is finite.

    Examples
    --------
    >>> low, high = bootstrap_ci([0.6, 0.7, 0.8, 0.9])
    >>> bool(0.6 <= low < 0.75 < high <= 0.9)
    True
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if int(n_boot) != n_boot or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot}")
    values = np.asarray(values_by_subject, dtype=float).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.nan, np.nan
    rng = np.random.default_rng(random_state)
    means = values[rng.integers(0, values.size, size=(int(n_boot), values.size))].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def fold_forecast_scores(
    risk: np.ndarray, meta: pd.DataFrame, train_meta: pd.DataFrame, policy: AlarmPolicy
) -> dict[str, float]:
    """The threshold-free scores of one benchmark fold's test timeline.

    Parameters
    ----------
    risk : array-like of shape (n_windows,)
        Test risk per row of ``meta``.
    meta : DataFrame of shape (n_windows, ...)
        Full test timeline.
    train_meta : DataFrame of shape (n_train_windows, ...)
        The fold's training windows (full timeline of the training data): the climatology is
        their :func:`forecast_target` rate and nothing else of them is used.
    policy : AlarmPolicy
        The fold's alarm rule (its SOP and SPH also define the forecast target).

    Returns
    -------
    scores : dict
        ``climatology``, ``sens_tiw_auc``, ``brier_timeline``, ``brier_climatology``, ``bss``.
    """
    window = {"sop": policy.sop, "sph": policy.sph}
    climatology = float(np.mean(forecast_target(train_meta, **window))) if len(train_meta) else np.nan
    brier = brier_skill_score(risk, forecast_target(meta, **window), climatology)
    return {
        "climatology": climatology,
        "sens_tiw_auc": sensitivity_tiw_auc(sensitivity_tiw_curve(risk, meta, policy=policy)),
        "brier_timeline": brier["brier"],
        "brier_climatology": brier["brier_climatology"],
        "bss": brier["bss"],
    }
