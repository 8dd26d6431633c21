"""Alarm-level scoring of a risk timeline: occurrence periods, false alarms, chance levels, surrogates.

The rules (Winterhalder et al. 2003; Snyder et al. 2008; Kuhlmann et al. 2018)
-------------------------------------------------------------------------------
* **Lead seizures.** The forecasting targets are the lead seizures of the window table: the
  distinct non-empty ``lead_seizure`` ids (every window whose next seizure is a lead seizure names
  it; onset = ``t_abs + tte``). Tables without that column (or with it empty, as in older prediction
  files) fall back to the ``seizure_id`` of the preictal windows (then seizures without preictal
  windows cannot be reported).
* **Occurrence period.** An alarm at ``t`` opens the occurrence period ``[t + SPH, t + SPH + SOP]``;
  its *warning period* is ``[t, t + SPH + SOP]``. A lead seizure is *predicted* iff its onset lies
  in some alarm's occurrence period, i.e. some alarm lies in ``[onset - SPH - SOP, onset - SPH]``
  (its *alarm window*); warning time = onset - the first such alarm.
* **Scorable.** A lead seizure is scorable when at least one recorded window ends in its alarm
  window; otherwise no forecaster could predict it. Unscorable seizures are counted
  (``n_not_scorable``) and listed with the reason by :func:`lead_seizure_table`, never dropped
  silently; ``n_seizures`` and sensitivity refer to the scorable ones.
* **False alarms.** An alarm is *true* when its occurrence period holds a lead-seizure onset. Every
  other alarm is false wherever it is raised -- in interictal, preictal-buffer or excluded time --
  with one exemption: an alarm raised on an ictal or postictal window (``state``) is neither true
  nor false (the patient is in or just after a seizure; a warning then carries no forecast).
  ``fah`` = false alarms per recorded hour outside seizures and postictal periods
  (``nonictal_hours``, windows x stride); ``fah_interictal`` = false alarms per interictal
  (``label == 0``) hour, beside it. Gaps are never counted.
* **Time in warning** = fraction of the recorded windows whose end lies in the union of the warning
  periods.
* **Chance level** (Snyder 2008): a Poisson alarm process with the same false-alarm rate predicts a
  seizure with ``chance_poisson = 1 - exp(-fah * SOP_h)``. That is 0 for a forecaster without false
  alarms, however much time it spends in warning, so each seizure's chance is floored at the time
  in warning: ``chance_p = max(chance_poisson, time_in_warning)``; ``ioc = sensitivity -
  chance_p``; ``p_value = P(X >= k)``, ``X ~ Binomial(n_seizures, chance_p)``.
* **Seizure-time surrogates** (Andrzejak et al. 2003; Schelter et al. 2006): the same alarms are
  rescored against onsets moved to random admissible positions of the subject's recorded timeline
  (window ends whose own alarm window holds recorded time, so every surrogate seizure is scorable),
  ``n_surrogates`` times with a seeded generator. All onsets of a subject move together by one
  random circular shift along its admissible positions: each lands uniformly at random, and the
  spacing of clustered seizures is kept (moving them independently made the test reject a random
  walk in about 13 % of seeds on the real CHB-MIT timeline, where seizures cluster).
  ``p_surrogate = (1 + #{surrogates predicting >= k}) / (n_surrogates + 1)``;
  ``surrogate_chance`` is the expected fraction predicted by a surrogate seizure;
  ``surrogate_counts`` (seizures predicted in each surrogate) lets independent folds be pooled.

``meta`` must be the full timeline (every window with its risk, excluded ones with ``label == -1``
and their ``state``): alarms are raised on it and false alarms are counted wherever they fall.
"""

from __future__ import annotations

import time
import warnings
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sklearn_eeg.evaluation.alarms import (
    SECONDS_PER_HOUR,
    AlarmPolicy,
    alarm_positions,
    alarm_positions_loop,
    check_reset,
    check_columns,
    check_risk,
    smooth_sorted,
    subject_timeline,
    SubjectTimeline,
)

__all__ = [
    "alarm_metrics_of_risks",
    "alarm_metrics_over_thresholds",
    "benchmark_over_thresholds",
    "lead_seizure_table",
    "surrogate_histogram",
    "surrogate_p_value",
]

#: Window states whose alarms are exempt (neither true nor false) and whose time FAH does not count.
EXEMPT_STATES = ("ictal", "postictal")
NOT_SCORABLE_REASON = "no recorded window in its alarm window [onset - SPH - SOP, onset - SPH]"


def surrogate_p_value(observed: int, counts: np.ndarray) -> float:
    """Monte Carlo p-value ``(1 + #{counts >= observed}) / (len(counts) + 1)``.

    Parameters
    ----------
    observed : int
        Seizures predicted with the real onsets.
    counts : array-like of shape (n_surrogates,)
        Seizures predicted in each surrogate.

    Returns
    -------
    p : float
        NaN without surrogates.

    Examples
    --------
    >>> surrogate_p_value(2, [0, 1, 2, 3])
    0.6
    """
    counts = np.asarray(counts)
    if counts.size == 0:
        return np.nan
    return float((1 + np.sum(counts >= observed)) / (counts.size + 1))


def surrogate_histogram(counts) -> str:
    """``"n0;n1;..."``: how many surrogates predicted 0, 1, ... seizures ("" without surrogates).

    Examples
    --------
    >>> surrogate_histogram([0, 2, 0, 1])
    '2;1;1'
    """
    counts = np.asarray(counts, dtype=np.int64)
    return ";".join(map(str, np.bincount(counts))) if counts.size else ""


def _lead_seizures(meta: pd.DataFrame, tl: SubjectTimeline) -> pd.DataFrame:
    """Lead seizures of the table: ``code`` (subject code), ``subject``, ``seizure_id``, ``onset`` (t)."""
    tte = meta["tte"].to_numpy(dtype=float)
    ids = meta["lead_seizure"].fillna("").astype(str).to_numpy() if "lead_seizure" in meta.columns else None
    if ids is not None and np.any(ids != ""):
        rows = (ids != "") & np.isfinite(tte)
    else:
        ids = meta["seizure_id"].fillna("").astype(str).to_numpy()
        rows = (meta["label"].to_numpy() == 1) & (ids != "")
        if np.any(rows & ~np.isfinite(tte)):
            raise ValueError("preictal windows must have a finite tte")
    frame = pd.DataFrame(
        {
            "code": pd.Categorical(meta["subject"].to_numpy()[rows], categories=tl.subjects).codes,
            "seizure_id": ids[rows],
            "onset": meta["t_abs"].to_numpy(dtype=float)[rows] + tte[rows],
        }
    )
    out = frame.groupby(["code", "seizure_id"], sort=True)["onset"].median().reset_index()
    out.insert(1, "subject", tl.subjects[out["code"].to_numpy()] if len(out) else np.array([], dtype=object))
    return out.sort_values(["code", "onset"], kind="stable").reset_index(drop=True)


def _windows_in(gt: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Number of sorted clock values ``gt`` in each closed interval ``[lo, hi]``."""
    return np.searchsorted(gt, hi, side="right") - np.searchsorted(gt, lo, side="left")


@dataclass(frozen=True)
class _EvalContext:
    """Everything alarm-level scoring needs, computed once per risk timeline."""

    tl: SubjectTimeline
    exempt: np.ndarray  # bool, ictal/postictal window, in timeline order
    interictal: np.ndarray  # bool, label == 0, in timeline order
    seizures: pd.DataFrame  # lead seizures with ``gt`` and ``scorable``
    onset: np.ndarray  # global clock of the scorable lead seizures, sorted
    admissible: np.ndarray  # timeline positions where a surrogate onset may be placed
    admissible_code: np.ndarray  # subject code of each admissible position
    sop: float
    sph: float


def _exempt_windows(meta: pd.DataFrame) -> np.ndarray:
    if "state" in meta.columns:
        return meta["state"].astype(str).isin(EXEMPT_STATES).to_numpy()
    if "ictal" in meta.columns:
        return meta["ictal"].fillna(False).to_numpy(dtype=bool)
    return np.zeros(len(meta), dtype=bool)


def _eval_context(meta: pd.DataFrame, *, sop: float, sph: float, refractory: float, stride: float | None) -> _EvalContext:
    """The risk-free part of scoring a window table: timeline, seizures, exemptions, surrogate positions."""
    check_columns(meta, ("subject", "t_abs", "label", "tte", "seizure_id"))
    if not (0 <= sph and sop > 0):
        raise ValueError(f"need sph >= 0 and sop > 0, got sph={sph}, sop={sop}")
    tl = subject_timeline(meta, stride, pad=2.0 * max(refractory, sop + sph) + 1.0)
    label = meta["label"].to_numpy()
    if np.any(label == 1) and not np.any(label == -1):
        warnings.warn(
            "the window table has preictal windows but no excluded (label -1) windows: alarms must run "
            "on the full timeline (all states, risk on every window); dropped windows hide the alarms "
            "raised there",
            UserWarning,
            stacklevel=3,
        )
    seizures = _lead_seizures(meta, tl)
    onset_gt = seizures["onset"].to_numpy() + tl.subject_offset[seizures["code"].to_numpy()]
    scorable = _windows_in(tl.gt, onset_gt - sph - sop, onset_gt - sph) > 0
    seizures = seizures.assign(gt=onset_gt, scorable=scorable)
    admissible = np.flatnonzero(_windows_in(tl.gt, tl.gt - sph - sop, tl.gt - sph) > 0)
    return _EvalContext(
        tl=tl,
        exempt=_exempt_windows(meta)[tl.order],
        interictal=label[tl.order] == 0,
        seizures=seizures,
        onset=np.sort(onset_gt[scorable]),
        admissible=admissible,
        admissible_code=tl.subject[admissible],
        sop=float(sop),
        sph=float(sph),
    )


def _surrogate_counts(ctx: _EvalContext, alarm_gt: np.ndarray, n_surrogates: int, seed) -> tuple[np.ndarray, float]:
    """Seizures predicted in each surrogate, and the mean chance of one surrogate seizure.

    A surrogate moves all scorable onsets of a subject together by one random circular shift along
    the subject's admissible positions (their recorded-time order): each onset lands on a uniformly
    random admissible position while the spacing of the subject's seizures -- their clustering --
    is kept, so clustered seizures do not make the test anti-conservative.
    """
    if n_surrogates <= 0 or ctx.onset.size == 0:
        return np.zeros(0, dtype=np.int64), np.nan
    t = ctx.tl.gt[ctx.admissible]
    hit = _windows_in(alarm_gt, t - ctx.sph - ctx.sop, t - ctx.sph) > 0
    counts = np.zeros(n_surrogates, dtype=np.int64)
    chance = []
    scorable = ctx.seizures[ctx.seizures["scorable"]]
    for code, onsets in scorable.groupby("code", sort=True)["gt"]:
        mine = ctx.admissible_code == code
        ring, ring_t = hit[mine], t[mine]
        start = np.minimum(np.searchsorted(ring_t, onsets.to_numpy()), ring.size - 1)
        # one stream per (seed, subject): folds scored separately pool as independent surrogates
        name = str(ctx.tl.subjects[code]).encode()
        rng = np.random.default_rng([0 if seed is None else int(seed), zlib.crc32(name)])
        shift = rng.integers(0, ring.size, size=n_surrogates)
        counts += ring[(start[None, :] + shift[:, None]) % ring.size].sum(axis=1)
        chance += [ring.mean()] * start.size
    return counts, float(np.mean(chance))


def _score_positions(ctx: _EvalContext, pos: np.ndarray, *, n_surrogates: int = 0, random_state=0) -> dict:
    tl, sop, sph = ctx.tl, ctx.sop, ctx.sph
    alarm_gt = tl.gt[pos]
    # predicted seizures: the first alarm at or after the start of the seizure's alarm window
    lo, hi = ctx.onset - sph - sop, ctx.onset - sph
    first = np.searchsorted(alarm_gt, lo, side="left")
    first_t = np.full(lo.size, np.inf)
    has = first < alarm_gt.size
    first_t[has] = alarm_gt[first[has]]
    predicted = first_t <= hi
    warning_times = (ctx.onset - first_t)[predicted]
    # true alarms hold a lead-seizure onset in their occurrence period; the rest are false unless
    # raised on an ictal/postictal window (exempt)
    true_alarm = _windows_in(ctx.onset, alarm_gt + sph, alarm_gt + sph + sop) > 0
    exempt = ~true_alarm & ctx.exempt[pos]
    n_false = int(np.sum(~true_alarm & ~exempt))
    # time in warning: windows whose end lies in the union of [alarm, alarm + SPH + SOP)
    ends = np.minimum(alarm_gt + sph + sop, np.append(alarm_gt[1:], np.inf))
    covered = np.sum(np.searchsorted(tl.gt, ends, "left") - np.searchsorted(tl.gt, alarm_gt, "left"))
    n_windows = tl.gt.size
    n_seizures, k = int(ctx.onset.size), int(np.sum(predicted))
    nonictal_hours = int(np.sum(~ctx.exempt)) * tl.stride / SECONDS_PER_HOUR
    interictal_hours = int(np.sum(ctx.interictal)) * tl.stride / SECONDS_PER_HOUR
    fah = n_false / nonictal_hours if nonictal_hours > 0 else np.nan
    time_in_warning = covered / n_windows if n_windows else np.nan
    sensitivity = k / n_seizures if n_seizures else np.nan
    chance_poisson = 1.0 - np.exp(-fah * sop / SECONDS_PER_HOUR) if np.isfinite(fah) else np.nan
    chance_p = float(np.fmax(chance_poisson, time_in_warning)) if np.isfinite(fah) else np.nan
    p_value = float(stats.binom.sf(k - 1, n_seizures, chance_p)) if n_seizures and np.isfinite(chance_p) else np.nan
    counts, surrogate_chance = _surrogate_counts(ctx, alarm_gt, n_surrogates, random_state)
    return {
        "sensitivity": sensitivity,
        "n_seizures": n_seizures,
        "n_predicted": k,
        "n_not_scorable": int(np.sum(~ctx.seizures["scorable"].to_numpy())),
        "n_alarms": int(alarm_gt.size),
        "n_false_alarms": n_false,
        "n_exempt_alarms": int(np.sum(exempt)),
        "fah": fah,
        "fah_interictal": n_false / interictal_hours if interictal_hours > 0 else np.nan,
        "nonictal_hours": nonictal_hours,
        "interictal_hours": interictal_hours,
        "warning_time_mean": float(np.mean(warning_times)) if k else np.nan,
        "warning_time_median": float(np.median(warning_times)) if k else np.nan,
        "warning_times": warning_times.tolist(),
        "time_in_warning": time_in_warning,
        "chance_poisson": chance_poisson,
        "chance_p": chance_p,
        "ioc": sensitivity - chance_p if n_seizures else np.nan,
        "p_value": p_value,
        "surrogate_chance": surrogate_chance,
        "p_surrogate": surrogate_p_value(k, counts) if n_seizures else np.nan,
        "surrogate_counts": counts.tolist(),
    }


def _scores_at(
    ctx: _EvalContext, r: np.ndarray, threshold: float, policy: AlarmPolicy, *, n_surrogates: int, random_state
) -> dict:
    """Raise the alarms of the smoothed risk ``r`` (timeline order) at ``threshold`` and score them."""
    pos = alarm_positions(
        r,
        ctx.tl.subject_start,
        ctx.tl.gt,
        threshold=threshold,
        persistence=policy.persistence,
        reset=check_reset(threshold, policy.reset),
        refractory=policy.refractory_s,
    )
    return _score_positions(ctx, pos, n_surrogates=n_surrogates, random_state=random_state)


def _smoothed(ctx: _EvalContext, risk: np.ndarray, meta: pd.DataFrame, policy: AlarmPolicy) -> np.ndarray:
    """The checked risk of ``meta``'s rows in timeline order, smoothed per subject."""
    return smooth_sorted(check_risk(risk, meta)[ctx.tl.order], ctx.tl.subject_start, policy.smoothing, policy.alpha,
                         policy.n)


def _checked_context(meta: pd.DataFrame, policy: AlarmPolicy, thresholds) -> _EvalContext:
    for th in thresholds:
        check_reset(th, policy.reset)
    return _eval_context(meta, sop=policy.sop, sph=policy.sph, refractory=policy.refractory_s, stride=policy.stride)


def _check_n_surrogates(n_surrogates: int) -> int:
    if int(n_surrogates) != n_surrogates or n_surrogates < 0:
        raise ValueError(f"n_surrogates must be an integer >= 0, got {n_surrogates}")
    return int(n_surrogates)


def alarm_metrics_over_thresholds(
    risk: np.ndarray,
    meta: pd.DataFrame,
    thresholds: np.ndarray,
    *,
    policy: AlarmPolicy | None = None,
    n_surrogates: int = 0,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Alarm-level metrics for many thresholds, sharing all threshold-free work.

    The window table is sorted, smoothed and its seizures and admissible surrogate positions found
    once; for each threshold the alarms are found with cumulative numpy operations (a Python step
    runs once per alarm, not per window) and scored with binary searches.

    Parameters
    ----------
    risk : array-like of shape (n_windows,)
        Risk per row of ``meta``.
    meta : DataFrame of shape (n_windows, ...)
        Full-timeline window table with ``subject``, ``t_abs``, ``label``, ``tte``, ``seizure_id``
        and, for the complete rules, ``state`` and ``lead_seizure`` (see the module docstring).
    thresholds : array-like of shape (n_thresholds,)
        Alarm thresholds.
    policy : AlarmPolicy, optional
        SOP and SPH of the scoring, and the detector (:func:`sklearn_eeg.evaluation.alarms.raise_alarms`);
        default :class:`~sklearn_eeg.evaluation.alarms.AlarmPolicy` (). Its ``reset``, when set, is used for
        every threshold (it must not exceed any of them).
    n_surrogates : int, default=0
        Seizure-time surrogates per threshold (0: none, ``p_surrogate`` NaN).
    random_state : int or None, default=0
        Seed of the surrogates; each subject draws from its own stream seeded by this and its name,
        the same for every threshold.

    Returns
    -------
    table : DataFrame of shape (n_thresholds, n_metrics + 1)
        Column ``threshold`` plus ``sensitivity``, ``n_seizures`` (scorable lead seizures),
        ``n_predicted``, ``n_not_scorable``, ``n_alarms``, ``n_false_alarms``, ``n_exempt_alarms``,
        ``fah`` (per non-ictal hour), ``fah_interictal``, ``nonictal_hours``, ``interictal_hours``,
        ``warning_time_mean``, ``warning_time_median``, ``warning_times``, ``time_in_warning``,
        ``chance_poisson``, ``chance_p``, ``ioc``, ``p_value``, ``surrogate_chance``,
        ``p_surrogate``, ``surrogate_counts``. Sensitivity, IoC and p-values are NaN without
        scorable seizures; FAH is NaN without non-ictal time.
    """
    policy = AlarmPolicy() if policy is None else policy
    thresholds = np.atleast_1d(np.asarray(thresholds, dtype=float))
    n_surrogates = _check_n_surrogates(n_surrogates)
    ctx = _checked_context(meta, policy, thresholds)
    r = _smoothed(ctx, risk, meta, policy)
    return pd.DataFrame([
        {"threshold": float(th), **_scores_at(ctx, r, th, policy, n_surrogates=n_surrogates, random_state=random_state)}
        for th in thresholds
    ])


def alarm_metrics_of_risks(
    risks: list[np.ndarray],
    meta: pd.DataFrame,
    *,
    threshold: float,
    policy: AlarmPolicy | None = None,
    n_surrogates: int = 1000,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Alarm-level metrics of many risk timelines on one window table, sharing the table's work.

    For example the risks of a chance baseline over many seeds: the table is sorted and its seizures
    and surrogate positions found once.

    Parameters
    ----------
    risks : list of array-like of shape (n_windows,)
        Risk timelines, each one value per row of ``meta``.
    meta : DataFrame of shape (n_windows, ...)
        Full-timeline window table.
    threshold : float
        Alarm threshold, the same for every risk.
    policy, n_surrogates, random_state :
        As in :func:`alarm_metrics_over_thresholds`.

    Returns
    -------
    table : DataFrame of shape (n_risks, n_metrics)
        One row per risk, columns as in :func:`alarm_metrics_over_thresholds` without ``threshold``.
    """
    policy = AlarmPolicy() if policy is None else policy
    n_surrogates = _check_n_surrogates(n_surrogates)
    ctx = _checked_context(meta, policy, [threshold])
    smoothed = (_smoothed(ctx, risk, meta, policy) for risk in risks)
    return pd.DataFrame([
        _scores_at(ctx, r, threshold, policy, n_surrogates=n_surrogates, random_state=random_state) for r in smoothed
    ])


def lead_seizure_table(meta: pd.DataFrame, *, sop: float = 600.0, sph: float = 30.0) -> pd.DataFrame:
    """Every lead seizure of a window table, scorable or not, with the reason.

    Parameters
    ----------
    meta : DataFrame of shape (n_windows, ...)
        Full-timeline window table (see :func:`alarm_metrics_over_thresholds`).
    sop, sph : float, default=600.0, 30.0
        Seizure occurrence period and prediction horizon (s).

    Returns
    -------
    seizures : DataFrame of shape (n_lead_seizures, 5)
        ``subject``, ``seizure_id``, ``onset`` (s on the subject timeline), ``scorable`` (bool),
        ``reason`` ("" when scorable).
    """
    ctx = _eval_context(meta, sop=sop, sph=sph, refractory=sop + sph, stride=None)
    table = ctx.seizures[["subject", "seizure_id", "onset", "scorable"]].copy()
    table["reason"] = np.where(table["scorable"], "", NOT_SCORABLE_REASON)
    return table.reset_index(drop=True)


def benchmark_over_thresholds(
    risk: np.ndarray,
    meta: pd.DataFrame,
    thresholds: np.ndarray,
    *,
    n_naive: int = 5,
    policy: AlarmPolicy | None = None,
) -> dict:
    """Time :func:`alarm_metrics_over_thresholds` against a per-window Python loop.

    The loop (the reference state machine, then the same scoring, after the same one-off
    preparation) runs on ``n_naive`` evenly spaced thresholds of ``thresholds``; its results must
    equal the fast ones (AssertionError otherwise). With ``n_naive < len(thresholds)`` its time for
    all thresholds is extrapolated: preparation + mean loop time x number of thresholds.

    Returns
    -------
    report : dict
        ``n_windows``, ``hours`` (windows x stride), ``n_thresholds``, ``fast_s`` and ``naive_s``
        (all thresholds), ``naive_measured`` (False when extrapolated), ``speedup``
        (``naive_s / fast_s``), ``n_naive``.
    """
    policy = AlarmPolicy() if policy is None else policy
    thresholds = np.asarray(thresholds, dtype=float)
    tic = time.perf_counter()
    fast = alarm_metrics_over_thresholds(risk, meta, thresholds, policy=policy)
    fast_s = time.perf_counter() - tic
    picked = np.unique(np.linspace(0, thresholds.size - 1, n_naive).round().astype(int))
    tic = time.perf_counter()
    ctx = _checked_context(meta, policy, thresholds)
    r = _smoothed(ctx, risk, meta, policy)
    prep_s = time.perf_counter() - tic
    tic = time.perf_counter()
    naive = []
    for th in thresholds[picked]:
        pos = alarm_positions_loop(
            r,
            ctx.tl.subject_start,
            ctx.tl.gt,
            threshold=th,
            persistence=policy.persistence,
            reset=check_reset(th, policy.reset),
            refractory=policy.refractory_s,
        )
        naive.append({"threshold": float(th), **_score_positions(ctx, pos)})
    loop_s = time.perf_counter() - tic
    pd.testing.assert_frame_equal(fast.iloc[picked].reset_index(drop=True), pd.DataFrame(naive))
    naive_total = prep_s + loop_s / picked.size * thresholds.size
    return {
        "n_windows": len(meta),
        "hours": len(meta) * ctx.tl.stride / SECONDS_PER_HOUR,
        "n_thresholds": int(thresholds.size),
        "fast_s": fast_s,
        "naive_s": naive_total,
        "naive_measured": bool(picked.size == thresholds.size),
        "speedup": naive_total / fast_s,
        "n_naive": int(picked.size),
    }
