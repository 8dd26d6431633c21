"""Detection mode: ictal-probability post-processing and event-based scoring.

Post-processing turns per-window ictal probabilities into events (start, end in seconds):
hysteresis (an event starts when ``p >= tau_on`` and lasts while ``p >= tau_off``), then a
morphological closing (fills gaps shorter than ``closing`` windows inside a run) and opening
(removes events shorter than ``opening`` windows). Windows of one contiguous run (as in
:mod:`sklearn_eeg.evaluation.alarms`) are processed together; runs never merge. An event covering windows
``i..j`` spans ``[t_abs_i - window, t_abs_j]``.

Event scoring (``ref``/``hyp`` are arrays of shape (n_events, 2), start and end in seconds, sorted):

* :func:`score_ovlp` -- NEDC "OVLP" any-overlap: a reference event is hit when any hypothesis event
  overlaps it (``h_end > r_start`` and ``h_start < r_end``); a hypothesis event overlapping no
  reference event is a false alarm.
* :func:`score_taes` -- NEDC time-aligned event scoring (TAES, Shah et al. 2021): fractional hits,
  misses and false alarms from the overlap durations, following the conventions of NEDC
  ``nedc_eeg_eval`` v6.0.0 (including that two events "touch" when their whole-second ranges
  ``[floor(start), floor(end)]`` intersect, and that one hypothesis spanning several reference events
  scores the first and counts the others as missed).
* :func:`score_szcore` -- SzCORE event scoring (Dan et al. 2024; ``timescoring`` package): events
  closer than ``min_gap`` are merged, events longer than ``max_event_duration`` split, a reference
  event extended by ``tolerance_before``/``tolerance_after`` is detected when the hypothesis covers
  more than ``min_overlap`` of it; a hypothesis event touching no detected (extended) reference
  event is a false positive. Computed on a 10 Hz grid, as the package does.

False alarms per 24 h use the total recording duration (NEDC and SzCORE convention):
``fa_per_24h = n_false_alarms / total_duration_s * 86400``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_eeg.evaluation.alarms import check_risk, subject_timeline

SECONDS_PER_DAY = 86400.0
_SZCORE_FS = 10  # Hz: SzCORE / timescoring time grid


# --------------------------------------------------------------------------------------------------
# Post-processing
# --------------------------------------------------------------------------------------------------


def hysteresis(prob: np.ndarray, *, tau_on: float = 0.86, tau_off: float = 0.78) -> np.ndarray:
    """Two-level thresholding of one contiguous probability sequence.

    Parameters
    ----------
    prob : array-like of shape (n_windows,)
    tau_on, tau_off : float, default=0.86, 0.78
        Switch on at ``p >= tau_on``; stay on while ``p >= tau_off`` (``tau_off <= tau_on``).

    Returns
    -------
    mask : ndarray of bool, shape (n_windows,)
    """
    prob = np.asarray(prob, dtype=float)
    if tau_off > tau_on:
        raise ValueError(f"tau_off ({tau_off}) must not exceed tau_on ({tau_on})")
    idx = np.arange(prob.size)
    decided = (prob >= tau_on) | (prob < tau_off)
    last = np.maximum.accumulate(np.where(decided, idx, -1)) if prob.size else idx
    return np.where(last >= 0, prob[np.maximum(last, 0)] >= tau_on, False)


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) indices of the True runs of a 1-D bool mask."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    change = np.flatnonzero(np.diff(padded))
    return change[0::2], change[1::2]


def closing(mask: np.ndarray, size: int) -> np.ndarray:
    """Fill interior gaps shorter than ``size`` windows (1-D morphological closing, edge-safe)."""
    mask = np.asarray(mask, dtype=bool).copy()
    starts, ends = _runs(mask)
    for end, nxt in zip(ends[:-1], starts[1:]):
        if nxt - end < size:
            mask[end:nxt] = True
    return mask


def opening(mask: np.ndarray, size: int) -> np.ndarray:
    """Remove runs shorter than ``size`` windows (1-D morphological opening, edge-safe)."""
    mask = np.asarray(mask, dtype=bool).copy()
    for start, end in zip(*_runs(mask)):
        if end - start < size:
            mask[start:end] = False
    return mask


def detect_events(
    prob: np.ndarray,
    meta: pd.DataFrame,
    *,
    tau_on: float = 0.86,
    tau_off: float = 0.78,
    closing_size: int = 0,
    opening_size: int = 0,
    window: float = 10.0,
    stride: float | None = None,
) -> pd.DataFrame:
    """Seizure events from per-window ictal probabilities.

    Parameters
    ----------
    prob : array-like of shape (n_windows,)
        Ictal probability per row of ``meta``.
    meta : DataFrame of shape (n_windows, ...)
        Window table (``subject``, ``t_abs``); all windows of the recordings, not only preictal and
        interictal ones.
    tau_on, tau_off : float
        Hysteresis levels (:func:`hysteresis`).
    closing_size, opening_size : int, default=0
        Kernel sizes in windows of :func:`closing` then :func:`opening` (0 or 1: none).
    window : float, default=10.0
        Window length in seconds.
    stride : float, optional
        Inferred from ``meta`` when omitted.

    Returns
    -------
    events : DataFrame of shape (n_events, 3)
        ``subject``, ``start``, ``end`` (s on the subject timeline).
    """
    prob = check_risk(prob, meta)
    tl = subject_timeline(meta, stride, pad=1.0)
    p = prob[tl.order]
    bounds = np.append(np.flatnonzero(tl.run_start), p.size)
    rows = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        mask = opening(closing(hysteresis(p[lo:hi], tau_on=tau_on, tau_off=tau_off), closing_size), opening_size)
        for s, e in zip(*_runs(mask)):
            rows.append((tl.subjects[tl.subject[lo]], tl.t[lo + s] - window, tl.t[lo + e - 1]))
    return pd.DataFrame(rows, columns=["subject", "start", "end"])


def events_from_mask(mask: np.ndarray, meta: pd.DataFrame, *, window: float = 10.0, stride: float | None = None) -> pd.DataFrame:
    """Reference events from a per-window bool column such as ``meta["ictal"]`` (same conventions
    as :func:`detect_events`)."""
    return detect_events(np.asarray(mask, dtype=float), meta, tau_on=0.5, tau_off=0.5, window=window, stride=stride)


# --------------------------------------------------------------------------------------------------
# Event scoring
# --------------------------------------------------------------------------------------------------


def _events(events) -> np.ndarray:
    arr = np.asarray(events, dtype=float).reshape(-1, 2) if len(events) else np.zeros((0, 2))
    if np.any(arr[:, 1] < arr[:, 0]):
        raise ValueError("every event needs end >= start")
    return arr[np.argsort(arr[:, 0], kind="stable")]


def fa_per_24h(n_false_alarms: float, duration_s: float) -> float:
    """False alarms per 24 h of recording."""
    return float(n_false_alarms) / duration_s * SECONDS_PER_DAY if duration_s > 0 else np.nan


def score_ovlp(ref, hyp) -> dict:
    """NEDC any-overlap (OVLP) scoring of one record.

    Parameters
    ----------
    ref, hyp : array-like of shape (n_events, 2)
        Reference and hypothesis seizure events (start, end) in seconds.

    Returns
    -------
    counts : dict
        ``hits``, ``misses``, ``false_alarms`` (int).
    """
    ref, hyp = _events(ref), _events(hyp)
    ov = (hyp[None, :, 1] > ref[:, None, 0]) & (hyp[None, :, 0] < ref[:, None, 1])
    hits = int(ov.any(axis=1).sum())
    return {"hits": hits, "misses": int(ref.shape[0] - hits), "false_alarms": int((~ov.any(axis=0)).sum())}


def _taes_pair(r: np.ndarray, h: np.ndarray) -> tuple[float, float]:
    """Fractional (hit, false alarm) of hypothesis ``h`` against reference ``r`` (NEDC cases)."""
    dur = r[1] - r[0]
    if h[0] <= r[0] and h[1] <= r[1]:  # starts early, ends inside
        return (h[1] - r[0]) / dur, min(1.0, (r[0] - h[0]) / dur)
    if h[0] >= r[0] and h[1] >= r[1]:  # starts inside, ends late
        return (r[1] - h[0]) / dur, min(1.0, (h[1] - r[1]) / dur)
    if h[0] < r[0] and h[1] > r[1]:  # covers the reference
        return 1.0, min(1.0, ((h[1] - r[1]) + (r[0] - h[0])) / dur)
    return (h[1] - h[0]) / dur, 0.0  # inside the reference


def _touch(a: np.ndarray, b: np.ndarray) -> bool:
    """NEDC's any-overlap test for TAES: whole-second ranges [int(start), int(end)] intersect."""
    return max(int(a[0]), int(b[0])) <= min(int(a[1]), int(b[1]))


def score_taes(ref, hyp) -> dict:
    """NEDC time-aligned event scoring (TAES) of one record.

    Each reference event ``r`` with an overlapping hypothesis is matched against the unused
    hypotheses touching it, in time order. A hypothesis ending at or after ``r`` ends scores its
    fractional hit (overlap / duration of ``r``) and false alarm (spill-over / duration of ``r``,
    at most 1), and every later reference it also touches counts as one full miss. A hypothesis
    ending inside ``r`` is summed with every later hypothesis touching ``r``. Unmatched references
    are full misses, unmatched hypotheses full false alarms. Misses are ``1 - hit`` per scored pair.

    Parameters
    ----------
    ref, hyp : array-like of shape (n_events, 2)
        Reference and hypothesis seizure events (start, end) in seconds.

    Returns
    -------
    scores : dict
        ``hits``, ``misses``, ``false_alarms`` (float).
    """
    ref, hyp = _events(ref), _events(hyp)
    ref_free = np.ones(ref.shape[0], dtype=bool)
    hyp_free = np.ones(hyp.shape[0], dtype=bool)
    hit = miss = fa = 0.0
    for i, r in enumerate(ref):
        overlapped = np.any((hyp[:, 1] > r[0]) & (hyp[:, 0] < r[1]))
        if not (overlapped and ref_free[i]):
            continue
        for j, h in enumerate(hyp):
            if not hyp_free[j] or not _touch(r, h):
                continue
            p_hit, p_fa = _taes_pair(r, h)
            p_miss = 1.0 - p_hit
            ref_free[i] = hyp_free[j] = False
            if h[1] >= r[1]:
                for k in range(i + 1, ref.shape[0]):
                    if _touch(ref[k], h):
                        ref_free[k] = False
                        p_miss += 1.0
            else:
                for k in range(j + 1, hyp.shape[0]):
                    if _touch(r, hyp[k]):
                        hyp_free[k] = False
                        extra_hit, extra_fa = _taes_pair(r, hyp[k])
                        p_hit += extra_hit
                        p_miss -= extra_hit
                        p_fa += extra_fa
            hit, miss, fa = hit + p_hit, miss + p_miss, fa + p_fa
    return {"hits": float(hit), "misses": float(miss + ref_free.sum()), "false_alarms": float(fa + hyp_free.sum())}


def _merge(events: np.ndarray, min_gap: float) -> np.ndarray:
    out: list[list[float]] = []
    for s, e in events:
        if out and s - out[-1][1] < min_gap:
            out[-1][1] = e
        else:
            out.append([s, e])
    return np.asarray(out, dtype=float).reshape(-1, 2)


def _split(events: np.ndarray, max_duration: float) -> np.ndarray:
    out = []
    for s, e in events:
        while e - s > max_duration:
            out.append((s, s + max_duration))
            s = s + max_duration
        out.append((s, e))
    return np.asarray(out, dtype=float).reshape(-1, 2)


def _ticks(t) -> np.ndarray:
    return np.round(np.asarray(t, dtype=float) * _SZCORE_FS).astype(np.int64)


def _coverage(mask_cumsum: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    n = mask_cumsum.size - 1
    lo, hi = np.clip(lo, 0, n), np.clip(hi, 0, n)
    return np.where(hi > lo, mask_cumsum[hi] - mask_cumsum[lo], 0)


def score_szcore(
    ref,
    hyp,
    duration: float,
    *,
    tolerance_before: float = 30.0,
    tolerance_after: float = 60.0,
    min_overlap: float = 0.0,
    max_event_duration: float = 300.0,
    min_gap: float = 90.0,
) -> dict:
    """SzCORE event scoring of one record (defaults: the SzCORE parameters).

    Parameters
    ----------
    ref, hyp : array-like of shape (n_events, 2)
        Reference and hypothesis events (start, end) in seconds within ``[0, duration]``.
    duration : float
        Record duration (s).
    tolerance_before, tolerance_after : float, default=30.0, 60.0
        Seconds added before / after each reference event when looking for a detection.
    min_overlap : float, default=0.0
        A detection needs a covered fraction of the extended reference event above this.
    max_event_duration : float, default=300.0
        Longer events are split into pieces of this length.
    min_gap : float, default=90.0
        Events separated by less than this are merged.

    Returns
    -------
    scores : dict
        ``n_ref``, ``tp``, ``fp``, ``sensitivity`` (NaN without reference events), ``precision``
        (NaN without any detection), ``f1`` (NaN without events), ``fp_per_24h``.
    """
    n_ticks = int(round(duration * _SZCORE_FS))
    ref = _split(_merge(_events(ref), min_gap), max_event_duration)
    hyp = _split(_merge(_events(hyp), min_gap), max_event_duration)
    hyp_mask = np.zeros(n_ticks, dtype=bool)
    for lo, hi in zip(_ticks(hyp[:, 0]), _ticks(hyp[:, 1])):
        hyp_mask[max(lo, 0):hi] = True
    covered = np.concatenate([[0], np.cumsum(hyp_mask)])
    ext_start = np.maximum(0.0, ref[:, 0] - tolerance_before)
    ext_end = np.minimum(n_ticks / _SZCORE_FS, ref[:, 1] + tolerance_after)
    lo, hi = _ticks(ext_start), _ticks(ext_end)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = _coverage(covered, lo, hi) / _SZCORE_FS / (ext_end - ext_start)
    detected = frac > min_overlap + 1e-6
    tp_mask = np.zeros(n_ticks, dtype=bool)
    for a, b in zip(lo[detected], hi[detected]):
        tp_mask[a:b] = True
    tp_cum = np.concatenate([[0], np.cumsum(tp_mask)])
    fp = int(np.sum(_coverage(tp_cum, _ticks(hyp[:, 0]), _ticks(hyp[:, 1])) == 0))
    tp, n_ref = int(detected.sum()), int(ref.shape[0])
    return {
        "n_ref": n_ref,
        "tp": tp,
        "fp": fp,
        "sensitivity": tp / n_ref if n_ref else np.nan,
        "precision": tp / (tp + fp) if tp + fp else np.nan,
        "f1": 2 * tp / (tp + fp + n_ref) if n_ref + fp else np.nan,
        "fp_per_24h": fa_per_24h(fp, n_ticks / _SZCORE_FS),
    }


_SCORERS = {"ovlp": score_ovlp, "taes": score_taes}


def score_records(records, method: str = "ovlp") -> dict:
    """NEDC-style totals over many records.

    Parameters
    ----------
    records : iterable of (ref, hyp, duration)
        Seizure events of each record and its duration in seconds.
    method : {"ovlp", "taes"}, default="ovlp"

    Returns
    -------
    totals : dict
        ``hits``, ``misses``, ``false_alarms``, ``duration`` (s), ``sensitivity`` (hits / (hits +
        misses)), ``fa_per_24h`` (false alarms per 24 h of total duration).
    """
    if method not in _SCORERS:
        raise ValueError(f"method must be one of {sorted(_SCORERS)}, got {method!r}")
    hits = misses = fas = duration = 0.0
    for ref, hyp, dur in records:
        counts = _SCORERS[method](ref, hyp)
        hits, misses, fas = hits + counts["hits"], misses + counts["misses"], fas + counts["false_alarms"]
        duration += dur
    return {
        "hits": hits,
        "misses": misses,
        "false_alarms": fas,
        "duration": duration,
        "sensitivity": hits / (hits + misses) if hits + misses else np.nan,
        "fa_per_24h": fa_per_24h(fas, duration),
    }


def read_csv_bi(path: str | Path, label: str = "seiz") -> tuple[np.ndarray, float]:
    """Events of one label and the duration from an NEDC/TUH ``.csv_bi`` annotation file.

    Returns
    -------
    events : ndarray of shape (n_events, 2)
        (start, stop) in seconds, sorted.
    duration : float
        From the ``# duration = ... secs`` header line.
    """
    path = Path(path)
    duration = None
    for line in path.read_text().splitlines():
        if line.startswith("#") and "duration" in line:
            duration = float(line.split("=", 1)[1].split()[0])
    if duration is None:
        raise ValueError(f"{path}: no '# duration = ... secs' header line")
    table = pd.read_csv(path, comment="#")
    table = table[table["label"].astype(str).str.strip() == label]
    return _events(table[["start_time", "stop_time"]].to_numpy(dtype=float)), duration


# --------------------------------------------------------------------------------------------------
# Operating points
# --------------------------------------------------------------------------------------------------


def fa_curve(
    prob: np.ndarray,
    meta: pd.DataFrame,
    ref: pd.DataFrame,
    thresholds: np.ndarray,
    *,
    off_margin: float = 0.08,
    closing_size: int = 0,
    opening_size: int = 0,
    window: float = 10.0,
    stride: float | None = None,
) -> pd.DataFrame:
    """Any-overlap sensitivity and FA/24h as ``tau_on`` sweeps ``thresholds``.

    ``tau_off = tau_on - off_margin`` (the 0.86 / 0.78 default pair has margin 0.08).
    The duration is the observed time: windows x stride.

    Parameters
    ----------
    prob : array-like of shape (n_windows,)
    meta : DataFrame of shape (n_windows, ...)
    ref : DataFrame with ``subject``, ``start``, ``end``
        Reference seizures on the subject timelines.
    thresholds : array-like of shape (n_thresholds,)

    Returns
    -------
    curve : DataFrame of shape (n_thresholds, 6)
        ``tau_on``, ``tau_off``, ``sensitivity``, ``fa_per_24h``, ``hits``, ``false_alarms``.
    """
    tl_stride = subject_timeline(meta, stride, pad=1.0).stride
    duration = len(meta) * tl_stride
    subjects = meta["subject"].unique()
    rows = []
    for tau in np.asarray(thresholds, dtype=float):
        hyp = detect_events(
            prob, meta, tau_on=tau, tau_off=tau - off_margin, closing_size=closing_size,
            opening_size=opening_size, window=window, stride=stride,
        )
        records = [
            (ref.loc[ref["subject"] == s, ["start", "end"]].to_numpy(), hyp.loc[hyp["subject"] == s, ["start", "end"]].to_numpy(), 0.0)
            for s in subjects
        ]
        totals = score_records(records, "ovlp")
        rows.append(
            {
                "tau_on": tau,
                "tau_off": tau - off_margin,
                "sensitivity": totals["sensitivity"],
                "fa_per_24h": fa_per_24h(totals["false_alarms"], duration),
                "hits": totals["hits"],
                "false_alarms": totals["false_alarms"],
            }
        )
    return pd.DataFrame(rows)


def sensitivity_at_fa(curve: pd.DataFrame, targets: tuple[float, ...] = (10.0, 5.0, 2.5, 1.0)) -> pd.DataFrame:
    """Best sensitivity of an FA curve with ``fa_per_24h <= target``, per target.

    Returns
    -------
    table : DataFrame of shape (n_targets, 4)
        ``fa_target``, ``sensitivity`` (NaN when no point qualifies), ``fa_per_24h``, ``tau_on``.
    """
    rows = []
    for target in targets:
        ok = curve[curve["fa_per_24h"] <= target]
        if ok.empty:
            rows.append({"fa_target": target, "sensitivity": np.nan, "fa_per_24h": np.nan, "tau_on": np.nan})
            continue
        best = ok.sort_values(["sensitivity", "fa_per_24h"], ascending=[False, True], kind="stable").iloc[0]
        rows.append({"fa_target": target, "sensitivity": best["sensitivity"], "fa_per_24h": best["fa_per_24h"], "tau_on": best["tau_on"]})
    return pd.DataFrame(rows)
