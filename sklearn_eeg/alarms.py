"""Alarms from a risk timeline: smoothing, persistence, hysteresis, refractory period.

A *risk timeline* is one risk value per row of the window table ``meta`` (see
``docs/DATA_CONTRACTS.md``). Rows may come in any order; every function here sorts them by
``(subject, t_abs)`` internally and returns results aligned with (or independent of) the input order.

Contiguous runs
---------------
A *run* is a maximal sequence of windows of one subject whose window ends ``t_abs`` step by exactly
one stride. A run therefore breaks at file boundaries that are not stride-aligned, at unobserved gaps
between files and at spans whose windows were dropped (excluded, ictal, artifact). At the start of
every run the stateful parts of the alarm logic restart:

* smoothing (EMA / moving average) starts again from the first window of the run;
* the persistence counter restarts at zero;
* the hysteresis detector is re-armed.

The refractory period is different: it is measured in seconds on the subject timeline, so an alarm
at ``t`` blocks any further alarm of the same subject before ``t + refractory`` even across file
boundaries and gaps (the warning it raised is still running). Subjects never interact.

Alarm rule
----------
With ``count_i`` the number of consecutive windows of the run ending at window ``i`` with
``risk >= threshold``, window ``i`` raises an alarm when ``count_i >= persistence``, the detector is
armed, and no alarm of the subject was raised in ``(t_i - refractory, t_i)``. Raising an alarm
disarms the detector; it re-arms at the first later window with ``risk < reset`` (``reset`` defaults
to ``threshold``: one alarm per excursion) or at the start of the next run.
"""

from __future__ import annotations

import warnings

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import signal, stats

SECONDS_PER_HOUR = 3600.0
_STEP_ATOL = 1e-3  # s: two window ends are one stride apart when they differ by stride +- this


def infer_stride(meta: pd.DataFrame) -> float:
    """Window stride (s): the smallest positive step of ``t_abs`` within a subject.

    Parameters
    ----------
    meta : DataFrame of shape (n_windows, ...)
        Window table with ``subject`` and ``t_abs``.

    Returns
    -------
    stride : float
        Smallest positive difference between window ends of one subject, rounded to 1 ms.
    """
    _check_columns(meta, ("subject", "t_abs"))
    frame = meta[["subject", "t_abs"]].sort_values(["subject", "t_abs"], kind="stable")
    steps = frame.groupby("subject", sort=False)["t_abs"].diff().to_numpy(dtype=float)
    steps = steps[np.isfinite(steps) & (steps > _STEP_ATOL)]
    if steps.size == 0:
        raise ValueError("cannot infer the window stride: no subject has two distinct window ends; pass stride=")
    return float(np.round(steps.min(), 3))


@dataclass(frozen=True)
class _Timeline:
    """Window table sorted by (subject, t_abs), with runs and a global clock.

    ``gt`` places all subjects on one increasing clock, separated by ``pad`` seconds, so that
    time arithmetic (refractory, SOP) never crosses from one subject to the next.
    """

    order: np.ndarray  # positions in the input that give the sorted order
    subject: np.ndarray  # subject code per sorted window
    t: np.ndarray  # t_abs per sorted window
    gt: np.ndarray  # global clock per sorted window
    run_start: np.ndarray  # bool, first window of a run
    subject_offset: np.ndarray  # gt - t for each subject code
    subjects: np.ndarray  # subject names by code
    stride: float


def _check_columns(meta: pd.DataFrame, columns: tuple[str, ...]) -> None:
    if not isinstance(meta, pd.DataFrame):
        raise TypeError(f"meta must be a pandas DataFrame (the window table), got {type(meta).__name__}")
    missing = [c for c in columns if c not in meta.columns]
    if missing:
        raise ValueError(f"meta lacks column(s) {missing}; see docs/DATA_CONTRACTS.md")


def _check_risk(risk: np.ndarray, meta: pd.DataFrame) -> np.ndarray:
    risk = np.asarray(risk, dtype=float)
    if risk.ndim != 1 or risk.shape[0] != len(meta):
        raise ValueError(f"risk must have shape ({len(meta)},) like meta, got {risk.shape}")
    if not np.all(np.isfinite(risk)):
        raise ValueError("risk contains NaN or infinite values")
    return risk


def _timeline(meta: pd.DataFrame, stride: float | None, pad: float) -> _Timeline:
    _check_columns(meta, ("subject", "t_abs"))
    stride = infer_stride(meta) if stride is None else float(stride)
    if stride <= 0:
        raise ValueError(f"stride must be positive, got {stride}")
    codes, subjects = pd.factorize(meta["subject"], sort=True)
    t_in = meta["t_abs"].to_numpy(dtype=float)
    if not np.all(np.isfinite(t_in)):
        raise ValueError("meta['t_abs'] contains NaN or infinite values")
    order = np.lexsort((t_in, codes))
    subject, t = codes[order], t_in[order]
    n = t.size
    run_start = np.ones(n, dtype=bool)
    if n > 1:
        same = subject[1:] == subject[:-1]
        contiguous = np.abs(np.diff(t) - stride) <= _STEP_ATOL
        run_start[1:] = ~(same & contiguous)
    n_subjects = len(subjects)
    t_min = np.full(n_subjects, np.inf)
    t_max = np.full(n_subjects, -np.inf)
    np.minimum.at(t_min, subject, t)
    np.maximum.at(t_max, subject, t)
    span = np.where(np.isfinite(t_min), t_max - t_min, 0.0)
    start = np.concatenate([[0.0], np.cumsum(span + pad)[:-1]])
    offset = start - np.where(np.isfinite(t_min), t_min, 0.0)
    return _Timeline(order, subject, t, t + offset[subject], run_start, offset, np.asarray(subjects), stride)


def _run_ids(run_start: np.ndarray) -> np.ndarray:
    return np.cumsum(run_start) - 1


def _smooth_sorted(risk: np.ndarray, run_start: np.ndarray, method: str | None, alpha: float, n: int) -> np.ndarray:
    if method is None:
        return risk
    starts = np.flatnonzero(run_start)
    if method == "ma":
        if int(n) != n or n < 1:
            raise ValueError(f"n must be a positive integer, got {n}")
        # explicit trailing windows (n is small): a running sum over the whole timeline would turn
        # a constant into the constant +- rounding error, and re-arm alarms at a plateau threshold
        idx = np.arange(risk.size)
        first = starts[_run_ids(run_start)]
        lags = idx[:, None] - np.arange(int(n))[None, :]
        valid = lags >= first[:, None]
        values = risk[np.maximum(lags, 0)]
        mean = np.where(valid, values, 0.0).sum(axis=1) / valid.sum(axis=1)
        low = np.where(valid, values, np.inf).min(axis=1)
        high = np.where(valid, values, -np.inf).max(axis=1)
        return np.clip(mean, low, high)
    if method == "ema":
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {alpha}")
        out = np.empty_like(risk)
        bounds = np.append(starts, risk.size)
        b, a = [alpha], [1.0, alpha - 1.0]
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            seg = risk[lo:hi]
            # state chosen so that the first output equals the first input (no warm-up bias to 0)
            out[lo:hi] = signal.lfilter(b, a, seg, zi=[(1.0 - alpha) * seg[0]])[0]
        return out
    raise ValueError(f"method must be 'ema', 'ma' or None, got {method!r}")


def smooth_risk(
    risk: np.ndarray,
    meta: pd.DataFrame,
    *,
    method: str | None = "ema",
    alpha: float = 0.3,
    n: int = 3,
    stride: float | None = None,
) -> np.ndarray:
    """Causal smoothing of a risk timeline, restarted at every contiguous run.

    Parameters
    ----------
    risk : array-like of shape (n_windows,)
        Risk per row of ``meta``.
    meta : DataFrame of shape (n_windows, ...)
        Window table (``subject``, ``t_abs``).
    method : {"ema", "ma", None}, default="ema"
        ``"ema"``: ``s_i = alpha * r_i + (1 - alpha) * s_{i-1}`` with ``s_0 = r_0`` at a run start.
        ``"ma"``: trailing mean of the last ``n`` windows of the run (fewer at the run start).
        ``None``: no smoothing.
    alpha : float, default=0.3
        EMA weight of the newest window.
    n : int, default=3
        Moving-average length in windows.
    stride : float, optional
        Window stride in seconds; inferred from ``meta`` by :func:`infer_stride` when omitted.

    Returns
    -------
    smoothed : ndarray of shape (n_windows,)
        Aligned with the rows of ``meta``. A gap (any step other than one stride) resets the state:
        no value before a gap influences a value after it.
    """
    risk = _check_risk(risk, meta)
    tl = _timeline(meta, stride, pad=1.0)
    out = np.empty_like(risk)
    out[tl.order] = _smooth_sorted(risk[tl.order], tl.run_start, method, alpha, n)
    return out


def _alarm_positions(
    r: np.ndarray,
    run_start: np.ndarray,
    gt: np.ndarray,
    *,
    threshold: float,
    persistence: int,
    reset: float,
    refractory: float,
) -> np.ndarray:
    """Sorted positions (in timeline order) of the windows that raise an alarm.

    Vectorized over windows: the over-threshold stretches of each run and the re-arm points are
    found with boolean array operations; the candidate windows of a stretch are those from its
    ``persistence``-th window on. The remaining loop runs once per alarm (binary searches).
    """
    n = r.size
    over = r >= threshold
    run_end = np.append(run_start[1:], True)
    first = over & (run_start | ~np.append(False, over[:-1]))
    last = over & (run_end | ~np.append(over[1:], False))
    seg_first = np.flatnonzero(first) + (persistence - 1)  # first candidate of each stretch
    seg_end = np.flatnonzero(last) + 1  # exclusive end of each stretch
    keep = seg_first < seg_end
    seg_first, seg_end = seg_first[keep], seg_end[keep]
    rearm = np.flatnonzero(~over | run_start if reset == threshold else (r < reset) | run_start)

    def next_candidate(k: int) -> int:
        s = int(np.searchsorted(seg_end, k, side="right"))
        return n if s == seg_end.size else max(k, int(seg_first[s]))

    alarms = []
    i = next_candidate(0)
    while i < n:
        alarms.append(i)
        j = int(np.searchsorted(rearm, i + 1, side="left"))
        if j == rearm.size:
            break
        free = int(np.searchsorted(gt, gt[i] + refractory, side="left"))
        i = next_candidate(max(int(rearm[j]), free))
    return np.asarray(alarms, dtype=np.intp)


def _check_alarm_params(threshold: float, persistence: int, reset: float | None, refractory: float) -> float:
    if not np.isfinite(threshold):
        raise ValueError(f"threshold must be finite, got {threshold}")
    if int(persistence) != persistence or persistence < 1:
        raise ValueError(f"persistence must be a positive integer, got {persistence}")
    if refractory < 0:
        raise ValueError(f"refractory must be >= 0 s, got {refractory}")
    reset = threshold if reset is None else float(reset)
    if reset > threshold:
        raise ValueError(f"reset ({reset}) must not exceed threshold ({threshold})")
    return reset


def raise_alarms(
    risk: np.ndarray,
    meta: pd.DataFrame,
    *,
    threshold: float,
    persistence: int = 1,
    reset: float | None = None,
    refractory: float = 600.0,
    smoothing: str | None = None,
    alpha: float = 0.3,
    n: int = 3,
    stride: float | None = None,
) -> pd.DataFrame:
    """Alarms raised by a risk timeline (see the module docstring for the exact rule).

    Parameters
    ----------
    risk : array-like of shape (n_windows,)
        Risk per row of ``meta``.
    meta : DataFrame of shape (n_windows, ...)
        Window table (``subject``, ``recording``, ``t_abs``).
    threshold : float
        Alarm level; a window is over threshold when ``risk >= threshold``.
    persistence : int, default=1
        Consecutive over-threshold windows of one run needed to raise an alarm.
    reset : float, optional
        Hysteresis re-arm level (``<= threshold``); defaults to ``threshold``.
    refractory : float, default=600.0
        Seconds after an alarm during which the subject raises no other alarm (default: SOP).
    smoothing : {"ema", "ma", None}, default=None
        Applied first, by :func:`smooth_risk` with ``alpha`` and ``n``.
    alpha, n :
        Smoothing parameters.
    stride : float, optional
        Window stride in seconds; inferred from ``meta`` when omitted.

    Returns
    -------
    alarms : DataFrame of shape (n_alarms, 3)
        Columns ``subject``, ``t_alarm`` (window end of the triggering window, s on the subject
        timeline) and ``recording``, sorted by subject and time.
    """
    risk = _check_risk(risk, meta)
    reset = _check_alarm_params(threshold, persistence, reset, refractory)
    tl = _timeline(meta, stride, pad=refractory + 1.0)
    r = _smooth_sorted(risk[tl.order], tl.run_start, smoothing, alpha, n)
    pos = _alarm_positions(
        r, tl.run_start, tl.gt, threshold=threshold, persistence=persistence, reset=reset, refractory=refractory
    )
    rows = tl.order[pos]
    recording = meta["recording"].to_numpy()[rows] if "recording" in meta.columns else np.full(pos.size, "")
    return pd.DataFrame(
        {"subject": tl.subjects[tl.subject[pos]], "t_alarm": tl.t[pos], "recording": recording}
    ).reset_index(drop=True)


@dataclass(frozen=True)
class _EvalContext:
    """Everything alarm-level scoring needs, computed once per risk timeline."""

    tl: _Timeline
    r: np.ndarray  # (smoothed) risk in timeline order
    interictal: np.ndarray  # bool, label == 0, in timeline order
    seizure_onset: np.ndarray  # global clock, sorted
    sop: float
    sph: float


def _eval_context(
    risk: np.ndarray,
    meta: pd.DataFrame,
    *,
    sop: float,
    sph: float,
    refractory: float,
    smoothing: str | None,
    alpha: float,
    n: int,
    stride: float | None,
) -> _EvalContext:
    risk = _check_risk(risk, meta)
    _check_columns(meta, ("subject", "t_abs", "label", "tte", "seizure_id"))
    if not 0 <= sph < sop:
        raise ValueError(f"need 0 <= sph < sop, got sph={sph}, sop={sop}")
    tl = _timeline(meta, stride, pad=2.0 * max(refractory, sop) + 1.0)
    r = _smooth_sorted(risk[tl.order], tl.run_start, smoothing, alpha, n)
    label = meta["label"].to_numpy()
    if np.any(label == 1) and not np.any(label == -1):
        warnings.warn(
            "the window table has preictal windows but no excluded (label -1) windows: if excluded "
            "windows were dropped, every preictal block starts a new run, re-arms the alarm and leaks "
            "the labels; pass the full timeline (all states, risk on every window)",
            UserWarning,
            stacklevel=3,
        )
    pre = (label == 1) & (meta["seizure_id"].fillna("").astype(str).to_numpy() != "")
    onsets = pd.DataFrame(
        {
            "seizure_id": meta["seizure_id"].to_numpy()[pre],
            "code": pd.Categorical(meta["subject"].to_numpy()[pre], categories=tl.subjects).codes,
            "onset": (meta["t_abs"].to_numpy(dtype=float) + meta["tte"].to_numpy(dtype=float))[pre],
        }
    )
    if onsets["onset"].isna().any():
        raise ValueError("preictal windows must have a finite tte")
    per_seizure = onsets.groupby(["code", "seizure_id"], sort=False)["onset"].median().reset_index()
    onset_gt = np.sort(per_seizure["onset"].to_numpy() + tl.subject_offset[per_seizure["code"].to_numpy()])
    return _EvalContext(tl, r, label[tl.order] == 0, onset_gt, float(sop), float(sph))


def _chance(fah: float, sop: float, k: int, n_seizures: int) -> tuple[float, float]:
    """Poisson chance of predicting one seizure and the binomial P(X >= k)."""
    if not np.isfinite(fah):
        return np.nan, np.nan
    p = 1.0 - np.exp(-fah * sop / SECONDS_PER_HOUR)
    p_value = float(stats.binom.sf(k - 1, n_seizures, p)) if n_seizures else np.nan
    return float(p), p_value


def _score_positions(ctx: _EvalContext, pos: np.ndarray) -> dict:
    tl, sop, sph = ctx.tl, ctx.sop, ctx.sph
    alarm_gt = tl.gt[pos]
    lo, hi = ctx.seizure_onset - sop, ctx.seizure_onset - sph
    # predicted seizures: first alarm at or after the window start, if it falls in the window
    first = np.searchsorted(alarm_gt, lo, side="left")
    first_t = np.full(lo.size, np.inf)
    has = first < alarm_gt.size
    first_t[has] = alarm_gt[first[has]]
    predicted = first_t <= hi
    warning_times = (ctx.seizure_onset - first_t)[predicted]
    # false alarms: alarms raised on interictal windows outside every seizure window (equal-length
    # windows, sorted starts); alarms on excluded windows (ictal, postictal, buffer) are not counted
    w = np.searchsorted(lo, alarm_gt, side="right") - 1
    true_alarm = (w >= 0) & (alarm_gt <= hi[np.maximum(w, 0)]) if lo.size else np.zeros(alarm_gt.size, bool)
    n_false = int(np.sum(~true_alarm & ctx.interictal[pos]))
    # time in warning: windows whose end lies in the union of [alarm, alarm + SOP)
    ends = np.minimum(alarm_gt + sop, np.append(alarm_gt[1:], np.inf))
    covered = np.sum(np.searchsorted(tl.gt, ends, "left") - np.searchsorted(tl.gt, alarm_gt, "left"))
    n_windows = tl.gt.size
    n_seizures, k = int(ctx.seizure_onset.size), int(np.sum(predicted))
    interictal_hours = int(np.sum(ctx.interictal)) * tl.stride / SECONDS_PER_HOUR
    total_hours = n_windows * tl.stride / SECONDS_PER_HOUR
    fah = n_false / interictal_hours if interictal_hours > 0 else np.nan
    sensitivity = k / n_seizures if n_seizures else np.nan
    chance_p, p_value = _chance(fah, sop, k, n_seizures)
    return {
        "sensitivity": sensitivity,
        "n_seizures": n_seizures,
        "n_predicted": k,
        "n_alarms": int(alarm_gt.size),
        "n_false_alarms": n_false,
        "fah": fah,
        "fah_total": n_false / total_hours if total_hours > 0 else np.nan,
        "interictal_hours": interictal_hours,
        "warning_time_mean": float(np.mean(warning_times)) if k else np.nan,
        "warning_time_median": float(np.median(warning_times)) if k else np.nan,
        "warning_times": warning_times.tolist(),
        "time_in_warning": covered / n_windows if n_windows else np.nan,
        "chance_p": chance_p,
        "ioc": sensitivity - chance_p,
        "p_value": p_value,
    }


def alarm_metrics_over_thresholds(
    risk: np.ndarray,
    meta: pd.DataFrame,
    thresholds: np.ndarray,
    *,
    sop: float = 600.0,
    sph: float = 30.0,
    persistence: int = 1,
    reset: float | None = None,
    refractory: float | None = None,
    smoothing: str | None = None,
    alpha: float = 0.3,
    n: int = 3,
    stride: float | None = None,
) -> pd.DataFrame:
    """Alarm-level metrics for many thresholds, sharing all threshold-free work.

    The window table is sorted, split into runs and smoothed once; for each threshold the alarms
    are found with cumulative numpy operations (a Python step runs once per alarm, not per window),
    and scoring uses binary searches over alarms and seizures.

    Parameters
    ----------
    risk : array-like of shape (n_windows,)
        Risk per row of ``meta``.
    meta : DataFrame of shape (n_windows, ...)
        Window table with ``subject``, ``t_abs``, ``label``, ``tte``, ``seizure_id``.
    thresholds : array-like of shape (n_thresholds,)
        Alarm thresholds.
    sop, sph : float
        Seizure occurrence period and prediction horizon (s): an alarm predicts a seizure when it
        falls in ``[onset - sop, onset - sph]``.
    persistence, reset, refractory, smoothing, alpha, n, stride :
        As in :func:`raise_alarms`; ``refractory=None`` means ``sop``. ``reset``, when given, is
        used for every threshold at or above it (it must not exceed a threshold).

    Returns
    -------
    table : DataFrame of shape (n_thresholds, n_metrics + 1)
        Column ``threshold`` plus the keys of :func:`sklearn_eeg.metrics.alarm_metrics`
        and ``n_alarms``.
    """
    thresholds = np.atleast_1d(np.asarray(thresholds, dtype=float))
    refractory = sop if refractory is None else float(refractory)
    for th in thresholds:
        _check_alarm_params(th, persistence, reset, refractory)
    ctx = _eval_context(
        risk, meta, sop=sop, sph=sph, refractory=refractory, smoothing=smoothing, alpha=alpha, n=n, stride=stride
    )
    rows = []
    for th in thresholds:
        pos = _alarm_positions(
            ctx.r,
            ctx.tl.run_start,
            ctx.tl.gt,
            threshold=th,
            persistence=persistence,
            reset=th if reset is None else reset,
            refractory=refractory,
        )
        rows.append({"threshold": float(th), **_score_positions(ctx, pos)})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------
# Reference implementation and benchmark (used by tests and pipelines/bench_alarms.py)
# --------------------------------------------------------------------------------------------------


def _alarm_positions_loop(
    r: np.ndarray,
    run_start: np.ndarray,
    gt: np.ndarray,
    *,
    threshold: float,
    persistence: int,
    reset: float,
    refractory: float,
) -> np.ndarray:
    """Window-by-window state machine; the plain reading of the alarm rule (slow reference)."""
    alarms = []
    count, armed, last = 0, True, -np.inf
    for i, (value, start, now) in enumerate(zip(r.tolist(), run_start.tolist(), gt.tolist())):
        if start:
            count, armed = 0, True
        if value < reset:
            armed = True
        count = count + 1 if value >= threshold else 0
        if armed and count >= persistence and now >= last + refractory:
            alarms.append(i)
            armed, last = False, now
    return np.asarray(alarms, dtype=np.intp)


def simulate_risk_timeline(
    n_subjects: int = 24,
    hours: float = 1000.0,
    *,
    stride: float = 5.0,
    window: float = 10.0,
    file_hours: float = 1.0,
    gap_s: float = 600.0,
    seizure_every_h: float = 8.0,
    sop: float = 600.0,
    sph: float = 30.0,
    random_state: int | None = 0,
) -> tuple[np.ndarray, pd.DataFrame]:
    """A CHB-MIT-like labeled window table with a noisy risk that rises before seizures.

    Files of ``file_hours`` separated by ``gap_s`` of unobserved time; seizures at random
    (exponential inter-seizure times); windows within 30 min of a seizure that are not preictal
    are kept as excluded (``label == -1``), so the table is the full timeline the alarm metrics
    need. Meant for tests and benchmarks, not for science.

    Returns
    -------
    risk : ndarray of shape (n_windows,)
    meta : DataFrame of shape (n_windows, 8)
        Window table (``subject``, ``recording``, ``t_start``, ``t_abs``, ``label``, ``tte``,
        ``seizure_id``, ``bad``).
    """
    rng = np.random.default_rng(random_state)
    per_file = int((file_hours * SECONDS_PER_HOUR - window) // stride) + 1
    n_files = max(1, int(round(hours / n_subjects / file_hours)))
    frames = []
    for s in range(n_subjects):
        file_start = np.arange(n_files) * (file_hours * SECONDS_PER_HOUR + gap_s)
        t_start = np.tile(np.arange(per_file) * stride, n_files)
        t_abs = np.repeat(file_start, per_file) + t_start + window
        span = file_start[-1] + file_hours * SECONDS_PER_HOUR
        onsets = np.cumsum(rng.exponential(seizure_every_h * SECONDS_PER_HOUR, size=int(span / 1800) + 2))
        onsets = onsets[onsets < span]
        nxt = np.searchsorted(onsets, t_abs, side="left")
        padded = np.concatenate([[-np.inf], onsets, [np.nan]])  # previous onset / next onset lookups
        tte = padded[nxt + 1] - t_abs
        prev = t_abs - padded[nxt]
        preictal = (tte >= sph) & (tte <= sop)
        interictal = ~(tte < 1800) & (prev > 1800)
        subject = f"sim{s:02d}"
        seizure_id = np.where(preictal, [f"{subject}_s{k:03d}" for k in nxt], "")
        frames.append(
            pd.DataFrame(
                {
                    "subject": subject,
                    "recording": np.repeat([f"{subject}_{f:03d}" for f in range(n_files)], per_file),
                    "t_start": t_start,
                    "t_abs": t_abs,
                    "label": np.where(preictal, 1, np.where(interictal, 0, -1)),
                    "tte": np.where(tte < 1800, tte, np.nan),
                    "seizure_id": seizure_id,
                    "bad": False,
                }
            )
        )
    meta = pd.concat(frames, ignore_index=True)
    noise = signal.lfilter([0.3], [1.0, -0.7], rng.normal(0.0, 1.0, len(meta)))
    risk = 1.0 / (1.0 + np.exp(-(noise - 2.5 + 1.0 * (meta["label"].to_numpy() == 1))))
    return risk, meta


def benchmark_over_thresholds(
    risk: np.ndarray,
    meta: pd.DataFrame,
    thresholds: np.ndarray,
    *,
    n_naive: int = 5,
    **alarm_params,
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
    import time

    thresholds = np.asarray(thresholds, dtype=float)
    tic = time.perf_counter()
    fast = alarm_metrics_over_thresholds(risk, meta, thresholds, **alarm_params)
    fast_s = time.perf_counter() - tic
    picked = np.unique(np.linspace(0, thresholds.size - 1, n_naive).round().astype(int))
    sop = alarm_params.get("sop", 600.0)
    refractory = alarm_params.get("refractory") or sop
    tic = time.perf_counter()
    ctx = _eval_context(
        risk,
        meta,
        sop=sop,
        sph=alarm_params.get("sph", 30.0),
        refractory=refractory,
        smoothing=alarm_params.get("smoothing"),
        alpha=alarm_params.get("alpha", 0.3),
        n=alarm_params.get("n", 3),
        stride=alarm_params.get("stride"),
    )
    prep_s = time.perf_counter() - tic
    tic = time.perf_counter()
    naive = []
    for th in thresholds[picked]:
        pos = _alarm_positions_loop(
            ctx.r,
            ctx.tl.run_start,
            ctx.tl.gt,
            threshold=th,
            persistence=alarm_params.get("persistence", 1),
            reset=alarm_params.get("reset") if alarm_params.get("reset") is not None else th,
            refractory=refractory,
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
