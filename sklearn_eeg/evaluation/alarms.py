"""Alarms from a risk timeline: smoothing, persistence, hysteresis, refractory period.

A *risk timeline* is one risk value per row of the window table ``meta`` (see
``docs/DATA_CONTRACTS.md``). Rows may come in any order; every function here sorts them by
``(subject, t_abs)`` internally and returns results aligned with (or independent of) the input order.

The detector lives on the subject timeline
------------------------------------------
All state -- smoothing, the persistence counter, the hysteresis (armed/disarmed) state and the
refractory period -- runs continuously over each subject's windows in time order. A file boundary,
an unobserved gap between files or a span of dropped windows changes nothing by itself: it never
raises an alarm and never re-arms the detector. Only a new subject starts a fresh detector
(smoothing from its first window, counter at zero, armed). A constant risk therefore raises at most
one alarm per subject, and a forecaster cannot gain alarms from the way a recording is cut into
files. (An earlier version restarted the detector at every file start; because seizures early in a
file are common, that gave an uninformative constant risk "significant" sensitivity.)

Alarm rule
----------
With ``count_i`` the number of consecutive windows of the subject ending at window ``i`` with
``risk >= threshold``, window ``i`` raises an alarm when ``count_i >= persistence``, the detector is
armed, and no alarm of the subject was raised in ``(t_i - refractory, t_i)``. Raising an alarm
disarms the detector; it re-arms at the first later window with ``risk < reset`` (``reset`` defaults
to ``threshold``: one alarm per excursion). The refractory period is in seconds on the subject
timeline; its default is the warning period ``SPH + SOP`` (630 s with the default 30 s and 600 s),
the time one alarm already covers.

How alarms are scored (occurrence periods, false alarms, chance levels, surrogates) is in
:mod:`sklearn_eeg.evaluation.alarm_scoring`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import signal

SECONDS_PER_HOUR = 3600.0
_STEP_ATOL = 1e-3  # s: two window ends are one stride apart when they differ by stride +- this


SMOOTHING_METHODS = (None, "ema", "ma")


@dataclass(frozen=True)
class AlarmPolicy:
    """How a risk timeline becomes alarms, and the horizon the alarms are scored against.

    One value object passed to everything that raises or scores alarms (the detector, the
    threshold tuning, the scorers, the benchmarks), so that validation and test always use the
    same rule. Fields are validated when the policy is built.

    Parameters
    ----------
    sop : float, default=600.0
        Seizure occurrence period (s): an alarm predicts a seizure whose onset falls in
        ``[t_alarm + sph, t_alarm + sph + sop]``.
    sph : float, default=30.0
        Seizure prediction horizon (s).
    smoothing : {None, "ema", "ma"}, default=None
        Causal smoothing of the risk before the threshold (:func:`smooth_risk`).
    alpha : float, default=0.3
        EMA weight of the newest window.
    n : int, default=3
        Moving-average length in windows.
    persistence : int, default=1
        Consecutive over-threshold windows of the subject needed to raise an alarm.
    reset : float, optional
        Hysteresis re-arm level (``<= threshold``); None: the threshold itself.
    refractory : float, optional
        Seconds after an alarm without another one; None: the warning period ``sph + sop``.
    stride : float, optional
        Window stride (s); None: inferred from the window table (:func:`infer_stride`).

    Examples
    --------
    >>> policy = AlarmPolicy(smoothing="ema", persistence=2)
    >>> policy.refractory_s, policy.replace(refractory=0.0).refractory_s
    (630.0, 0.0)
    """

    sop: float = 600.0
    sph: float = 30.0
    smoothing: str | None = None
    alpha: float = 0.3
    n: int = 3
    persistence: int = 1
    reset: float | None = None
    refractory: float | None = None
    stride: float | None = None

    def __post_init__(self) -> None:
        if not (np.isfinite(self.sop) and self.sop > 0):
            raise ValueError(f"sop must be a positive number of seconds, got {self.sop}")
        if not (np.isfinite(self.sph) and self.sph >= 0):
            raise ValueError(f"sph must be >= 0 s, got {self.sph}")
        if self.smoothing not in SMOOTHING_METHODS:
            raise ValueError(f"smoothing must be one of {SMOOTHING_METHODS}, got {self.smoothing!r}")
        if not 0.0 < self.alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {self.alpha}")
        if int(self.n) != self.n or self.n < 1:
            raise ValueError(f"n must be a positive integer, got {self.n}")
        if int(self.persistence) != self.persistence or self.persistence < 1:
            raise ValueError(f"persistence must be a positive integer, got {self.persistence}")
        if self.reset is not None and not np.isfinite(self.reset):
            raise ValueError(f"reset must be finite, got {self.reset}")
        if self.refractory is not None and not self.refractory >= 0:
            raise ValueError(f"refractory must be >= 0 s, got {self.refractory}")
        if self.stride is not None and not self.stride > 0:
            raise ValueError(f"stride must be positive, got {self.stride}")

    @property
    def refractory_s(self) -> float:
        """The refractory period in seconds (the warning period ``sph + sop`` when not set)."""
        return float(self.sop + self.sph) if self.refractory is None else float(self.refractory)

    def replace(self, **changes: Any) -> AlarmPolicy:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (for manifests, run keys and YAML)."""
        return dataclasses.asdict(self)

    def smooth(self, risk: np.ndarray, meta: pd.DataFrame) -> np.ndarray:
        """The risk smoothed as this policy's detector sees it (unchanged without ``smoothing``)."""
        return smooth_risk(risk, meta, method=self.smoothing, alpha=self.alpha, n=self.n, stride=self.stride)


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
    check_columns(meta, ("subject", "t_abs"))
    frame = meta[["subject", "t_abs"]].sort_values(["subject", "t_abs"], kind="stable")
    steps = frame.groupby("subject", sort=False)["t_abs"].diff().to_numpy(dtype=float)
    steps = steps[np.isfinite(steps) & (steps > _STEP_ATOL)]
    if steps.size == 0:
        raise ValueError("cannot infer the window stride: no subject has two distinct window ends; pass stride=")
    return float(np.round(steps.min(), 3))


@dataclass(frozen=True)
class SubjectTimeline:
    """Window table sorted by (subject, t_abs), with runs and a global clock.

    ``gt`` places all subjects on one increasing clock, separated by ``pad`` seconds, so that
    time arithmetic (refractory, SOP) never crosses from one subject to the next.
    """

    order: np.ndarray  # positions in the input that give the sorted order
    subject: np.ndarray  # subject code per sorted window
    t: np.ndarray  # t_abs per sorted window
    gt: np.ndarray  # global clock per sorted window
    run_start: np.ndarray  # bool, first window of a contiguous run (event detection uses runs)
    subject_start: np.ndarray  # bool, first window of a subject (the alarm detector restarts only here)
    subject_offset: np.ndarray  # gt - t for each subject code
    subjects: np.ndarray  # subject names by code
    stride: float


def check_columns(meta: pd.DataFrame, columns: tuple[str, ...]) -> None:
    """Raise a clear error unless ``meta`` is a DataFrame holding ``columns``."""
    if not isinstance(meta, pd.DataFrame):
        raise TypeError(f"meta must be a pandas DataFrame (the window table), got {type(meta).__name__}")
    missing = [c for c in columns if c not in meta.columns]
    if missing:
        raise ValueError(f"meta lacks column(s) {missing}; see docs/DATA_CONTRACTS.md")


def check_risk(risk: np.ndarray, meta: pd.DataFrame) -> np.ndarray:
    """``risk`` as a finite float array with one value per row of ``meta`` (else a clear error)."""
    risk = np.asarray(risk, dtype=float)
    if risk.ndim != 1 or risk.shape[0] != len(meta):
        raise ValueError(f"risk must have shape ({len(meta)},) like meta, got {risk.shape}")
    if not np.all(np.isfinite(risk)):
        raise ValueError("risk contains NaN or infinite values")
    return risk


def subject_timeline(meta: pd.DataFrame, stride: float | None, pad: float) -> SubjectTimeline:
    """The window table in (subject, time) order on one global clock, subjects ``pad`` seconds apart."""
    check_columns(meta, ("subject", "t_abs"))
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
    subject_start = np.ones(n, dtype=bool)
    if n > 1:
        same = subject[1:] == subject[:-1]
        contiguous = np.abs(np.diff(t) - stride) <= _STEP_ATOL
        run_start[1:] = ~(same & contiguous)
        subject_start[1:] = ~same
    n_subjects = len(subjects)
    t_min = np.full(n_subjects, np.inf)
    t_max = np.full(n_subjects, -np.inf)
    np.minimum.at(t_min, subject, t)
    np.maximum.at(t_max, subject, t)
    span = np.where(np.isfinite(t_min), t_max - t_min, 0.0)
    start = np.concatenate([[0.0], np.cumsum(span + pad)[:-1]])
    offset = start - np.where(np.isfinite(t_min), t_min, 0.0)
    return SubjectTimeline(
        order, subject, t, t + offset[subject], run_start, subject_start, offset, np.asarray(subjects), stride
    )


def _run_ids(run_start: np.ndarray) -> np.ndarray:
    return np.cumsum(run_start) - 1


def smooth_sorted(risk: np.ndarray, run_start: np.ndarray, method: str | None, alpha: float, n: int) -> np.ndarray:
    """Causal smoothing of time-sorted risk, restarted wherever ``run_start`` is True (a subject's first window)."""
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
    """Causal smoothing of a risk timeline, continuous over each subject's windows in time order.

    Parameters
    ----------
    risk : array-like of shape (n_windows,)
        Risk per row of ``meta``.
    meta : DataFrame of shape (n_windows, ...)
        Window table (``subject``, ``t_abs``).
    method : {"ema", "ma", None}, default="ema"
        ``"ema"``: ``s_i = alpha * r_i + (1 - alpha) * s_{i-1}`` with ``s_0 = r_0`` at the subject's
        first window. ``"ma"``: trailing mean of the subject's last ``n`` windows (fewer at its start).
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
        Aligned with the rows of ``meta``. Gaps between files do not reset the state (the detector
        lives on the subject timeline); subjects never influence each other.
    """
    risk = check_risk(risk, meta)
    tl = subject_timeline(meta, stride, pad=1.0)
    out = np.empty_like(risk)
    out[tl.order] = smooth_sorted(risk[tl.order], tl.subject_start, method, alpha, n)
    return out


def alarm_positions(
    r: np.ndarray,
    start: np.ndarray,
    gt: np.ndarray,
    *,
    threshold: float,
    persistence: int,
    reset: float,
    refractory: float,
) -> np.ndarray:
    """Sorted positions (in timeline order) of the windows that raise an alarm.

    ``start`` marks the first window of each subject (the detector restarts there only).
    Vectorized over windows: the over-threshold stretches and the re-arm points are found with
    boolean array operations; the candidate windows of a stretch are those from its
    ``persistence``-th window on. The remaining loop runs once per alarm (binary searches).
    """
    n = r.size
    over = r >= threshold
    end = np.append(start[1:], True)
    first = over & (start | ~np.append(False, over[:-1]))
    last = over & (end | ~np.append(over[1:], False))
    seg_first = np.flatnonzero(first) + (persistence - 1)  # first candidate of each stretch
    seg_end = np.flatnonzero(last) + 1  # exclusive end of each stretch
    keep = seg_first < seg_end
    seg_first, seg_end = seg_first[keep], seg_end[keep]
    rearm = np.flatnonzero(~over | start if reset == threshold else (r < reset) | start)

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


def check_reset(threshold: float, reset: float | None) -> float:
    """The re-arm level of an alarm threshold (``reset``, defaulting to ``threshold``), checked."""
    if not np.isfinite(threshold):
        raise ValueError(f"threshold must be finite, got {threshold}")
    reset = threshold if reset is None else float(reset)
    if reset > threshold:
        raise ValueError(f"reset ({reset}) must not exceed threshold ({threshold})")
    return reset


def raise_alarms(
    risk: np.ndarray,
    meta: pd.DataFrame,
    *,
    threshold: float,
    policy: AlarmPolicy | None = None,
) -> pd.DataFrame:
    """Alarms raised by a risk timeline (see the module docstring for the exact rule).

    Parameters
    ----------
    risk : array-like of shape (n_windows,)
        Risk per row of ``meta``.
    meta : DataFrame of shape (n_windows, ...)
        Window table (``subject``, ``recording``, ``t_abs``).
    threshold : float
        Alarm level; a window is over threshold when ``risk >= threshold`` (after the policy's smoothing).
    policy : AlarmPolicy, optional
        Smoothing, persistence, hysteresis re-arm level, refractory period and stride; default
        :class:`AlarmPolicy` () (no smoothing, one window, refractory = the 630-s warning period).

    Returns
    -------
    alarms : DataFrame of shape (n_alarms, 3)
        Columns ``subject``, ``t_alarm`` (window end of the triggering window, s on the subject
        timeline) and ``recording``, sorted by subject and time.
    """
    policy = AlarmPolicy() if policy is None else policy
    risk = check_risk(risk, meta)
    reset = check_reset(threshold, policy.reset)
    refractory = policy.refractory_s
    tl = subject_timeline(meta, policy.stride, pad=refractory + 1.0)
    r = smooth_sorted(risk[tl.order], tl.subject_start, policy.smoothing, policy.alpha, policy.n)
    pos = alarm_positions(
        r, tl.subject_start, tl.gt, threshold=threshold, persistence=policy.persistence, reset=reset,
        refractory=refractory,
    )
    rows = tl.order[pos]
    recording = meta["recording"].to_numpy()[rows] if "recording" in meta.columns else np.full(pos.size, "")
    return pd.DataFrame(
        {"subject": tl.subjects[tl.subject[pos]], "t_alarm": tl.t[pos], "recording": recording}
    ).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Reference implementation and a simulated timeline (used by tests and pipelines/bench_alarms.py)
# --------------------------------------------------------------------------------------------------


def alarm_positions_loop(
    r: np.ndarray,
    start: np.ndarray,
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
    for i, (value, first, now) in enumerate(zip(r.tolist(), start.tolist(), gt.tolist())):
        if first:
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
    (exponential inter-seizure times, every one a lead seizure, 60 s long); windows within 30 min
    of a seizure that are not preictal are kept as excluded (``label == -1``), so the table is the
    full timeline the alarm metrics need. Meant for tests and benchmarks, not for science.

    Returns
    -------
    risk : ndarray of shape (n_windows,)
    meta : DataFrame of shape (n_windows, 10)
        Window table (``subject``, ``recording``, ``t_start``, ``t_abs``, ``state``, ``label``,
        ``tte``, ``seizure_id``, ``lead_seizure``, ``bad``).
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
        ictal = prev < window + 60.0  # window overlaps [onset, onset + 60 s]
        postictal = ~ictal & (prev < window + 660.0)
        subject = f"sim{s:02d}"
        ids = np.array([f"{subject}_s{k:03d}" for k in nxt])
        seizure_id = np.where(preictal, ids, "")
        state = np.select([ictal, postictal, preictal, interictal], ["ictal", "postictal", "preictal", "interictal"],
                          default="excluded")
        frames.append(
            pd.DataFrame(
                {
                    "subject": subject,
                    "recording": np.repeat([f"{subject}_{f:03d}" for f in range(n_files)], per_file),
                    "t_start": t_start,
                    "t_abs": t_abs,
                    "state": state,
                    "label": np.where(state == "preictal", 1, np.where(state == "interictal", 0, -1)),
                    "tte": np.where(np.isfinite(tte), tte, np.nan),
                    "seizure_id": seizure_id,
                    "lead_seizure": np.where(np.isfinite(tte), ids, ""),
                    "bad": False,
                }
            )
        )
    meta = pd.concat(frames, ignore_index=True)
    noise = signal.lfilter([0.3], [1.0, -0.7], rng.normal(0.0, 1.0, len(meta)))
    risk = 1.0 / (1.0 + np.exp(-(noise - 2.5 + 1.0 * (meta["label"].to_numpy() == 1))))
    return risk, meta
