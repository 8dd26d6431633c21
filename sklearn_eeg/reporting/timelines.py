"""Timeline figures on the subject timeline: labeling states and the risk forecast with alarms."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ._checks import as_1d, check_columns, same_length
from ._style import STATE_COLORS, new_axes
from .predictions import break_gaps, infer_onsets

_TIME_UNITS: dict[str, float] = {"s": 1.0, "min": 60.0, "h": 3600.0}


def _time_unit(span_s: float) -> tuple[str, float]:
    """Pick a readable unit for a time span in s."""
    if span_s > 3 * 3600:
        return "h", _TIME_UNITS["h"]
    if span_s > 600:
        return "min", _TIME_UNITS["min"]
    return "s", _TIME_UNITS["s"]


def state_spans(windows: pd.DataFrame, *, window_s: float = 10.0) -> pd.DataFrame:
    """Merge consecutive windows of the same state into spans on the subject timeline.

    Each window covers ``[max(t_abs - window_s, previous t_abs), t_abs]`` so overlapping windows tile
    their recording; spans never cross a recording boundary.

    Parameters
    ----------
    windows : DataFrame
        Full labeled window table of one subject with ``recording``, ``t_abs`` and ``state``.
    window_s : float, default 10.0
        Window length in s.

    Returns
    -------
    DataFrame
        Columns ``recording``, ``state``, ``start``, ``end`` (s on the subject timeline).
    """
    check_columns(windows, ("recording", "t_abs", "state"), "windows")
    rows = []
    for recording, group in windows.sort_values("t_abs", kind="stable").groupby("recording", sort=False):
        t_end = group["t_abs"].to_numpy(dtype=float)
        t_begin = np.maximum(t_end - window_s, np.concatenate([[-np.inf], t_end[:-1]]))
        states = group["state"].astype(str).to_numpy()
        run_start = 0
        for i in range(1, len(states) + 1):
            if i == len(states) or states[i] != states[run_start]:
                rows.append((recording, states[run_start], t_begin[run_start], t_end[i - 1]))
                run_start = i
    return pd.DataFrame(rows, columns=["recording", "state", "start", "end"])


def plot_label_timeline(
    windows: pd.DataFrame,
    recordings: pd.DataFrame,
    *,
    subject: str | None = None,
    onsets: np.ndarray | None = None,
    window_s: float = 10.0,
    t_range: tuple[float, float] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Labeling states of one subject as coloured spans, with file boundaries, gaps and seizure onsets.

    Parameters
    ----------
    windows : DataFrame
        Full labeled window table (``label_windows`` output) with ``subject``, ``recording``, ``t_abs``,
        ``state`` and, when ``onsets`` is omitted, ``tte``.
    recordings : DataFrame
        Recording index with ``subject``, ``recording``, ``t_file_start``, ``t_file_end``.
    subject : str, optional
        Subject to draw; required when ``windows`` holds several.
    onsets : ndarray of shape (n_seizures,), optional
        Seizure onsets in s on the subject timeline; default ``t_abs + tte`` of the windows.
    window_s : float, default 10.0
        Window length in s.
    t_range : (float, float), optional
        Zoom on this interval (s on the subject timeline).
    ax : Axes, optional
        Axes to draw in.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_columns(windows, ("subject", "recording", "t_abs", "state"), "windows")
    check_columns(recordings, ("subject", "recording", "t_file_start", "t_file_end"), "recordings")
    subjects = windows["subject"].astype(str).unique()
    if subject is None:
        if len(subjects) != 1:
            raise ValueError(f"windows hold subjects {list(subjects)}: pass subject=")
        subject = str(subjects[0])
    win = windows[windows["subject"].astype(str) == subject]
    recs = recordings[recordings["subject"].astype(str) == subject].sort_values("t_file_start")
    if win.empty or recs.empty:
        raise ValueError(f"no windows or recordings for subject {subject!r}")
    unknown = sorted(set(win["state"].astype(str)) - set(STATE_COLORS))
    if unknown:
        raise ValueError(f"unknown state(s) {unknown}; expected {sorted(set(STATE_COLORS) - {'gap'})}")
    if onsets is None:
        onsets = infer_onsets(win) if "tte" in win.columns else np.array([])
    onsets = np.asarray(onsets, dtype=float)

    lo, hi = (recs["t_file_start"].min(), recs["t_file_end"].max()) if t_range is None else t_range
    unit, scale = _time_unit(hi - lo)
    fig, ax = new_axes(ax, figsize=(11.0, 3.2))

    spans = state_spans(win, window_s=window_s)
    for state, group in spans.groupby("state"):
        bars = [((s / scale), (e - s) / scale) for s, e in zip(group["start"], group["end"])]
        ax.broken_barh(bars, (0.0, 1.0), facecolors=STATE_COLORS[state], edgecolor="none")
    starts = recs["t_file_start"].to_numpy(dtype=float)
    ends = recs["t_file_end"].to_numpy(dtype=float)
    gaps = [(e / scale, (s - e) / scale) for e, s in zip(ends[:-1], starts[1:]) if s > e]
    ax.broken_barh(gaps, (0.0, 1.0), facecolors="white", edgecolor="#555555", hatch="///", linewidth=0.5)
    for name, s, e in zip(recs["recording"], starts, ends):
        ax.broken_barh([(s / scale, (e - s) / scale)], (1.15, 0.35), facecolors="#EEEEEE", edgecolor="#555555")
        mid = (max(s, lo) + min(e, hi)) / 2
        if lo <= mid <= hi:
            ax.text(mid / scale, 1.325, str(name), ha="center", va="center", fontsize=8, clip_on=True)
    ax.vlines(starts / scale, 0.0, 1.5, color="#555555", linewidth=0.6, linestyle="--", label="file start")
    if onsets.size:
        ax.vlines(onsets / scale, 0.0, 1.6, color="#B00000", linewidth=1.5, label="seizure onset")
        ax.scatter(onsets / scale, np.full(onsets.size, 1.6), marker="v", color="#B00000", s=64, clip_on=False)

    ax.set_xlim(lo / scale, hi / scale)
    ax.set_ylim(0.0, 1.7)
    ax.set_yticks([0.5, 1.325], ["state", "files"])
    ax.set_xlabel(f"Time on subject timeline ({unit})")
    ax.set_title(f"Window labels of {subject} on its recording timeline (files, gaps, seizure onsets)")
    handles = [Patch(facecolor=STATE_COLORS[s], label=s) for s in ("interictal", "preictal", "ictal",
                                                                     "postictal", "excluded")]
    handles.append(Patch(facecolor="white", edgecolor="#555555", hatch="///", label="gap (unobserved)"))
    handles.append(Line2D([], [], color="#B00000", linewidth=1.5, marker="v", label="seizure onset"))
    handles.append(Line2D([], [], color="#555555", linewidth=0.6, linestyle="--", label="file start"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=8, frameon=False)
    return fig


def plot_risk_timeline(
    t_abs: np.ndarray,
    risk: np.ndarray,
    *,
    smoothed: np.ndarray | None = None,
    threshold: float | None = None,
    alarm_times: np.ndarray | None = None,
    onsets: np.ndarray | None = None,
    sop_s: float = 600.0,
    sph_s: float = 30.0,
    max_step: float | None = None,
    cursor: float | None = None,
    title: str = "Seizure-risk forecast",
    ax: Axes | None = None,
) -> Figure:
    """Risk over time with threshold, alarms, seizure onsets and shaded preictal spans; gaps break lines.

    Parameters
    ----------
    t_abs : ndarray of shape (n_windows,)
        Window ends in s on the subject timeline, increasing.
    risk : ndarray of shape (n_windows,)
        Raw risk in [0, 1].
    smoothed : ndarray of shape (n_windows,), optional
        Smoothed risk (the one compared with the threshold).
    threshold : float, optional
        Alarm threshold (horizontal line).
    alarm_times : ndarray, optional
        Alarm times in s (vertical markers).
    onsets : ndarray, optional
        Seizure onsets in s; each shades its preictal span ``[onset - sop_s, onset - sph_s]``.
    sop_s, sph_s : float, default 600 and 30
        Seizure occurrence period and prediction horizon in s.
    max_step : float, optional
        Largest step between windows drawn as a line (default 1.5 × median step).
    cursor : float, optional
        A time in s marked as the current position (e.g. of an EEG replay).
    title : str
        Axes title.
    ax : Axes, optional
        Axes to draw in.

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = as_1d(t_abs, "t_abs")
    r = as_1d(risk, "risk")
    same_length(t_abs=t, risk=r)
    if np.any(np.diff(t) < 0):
        raise ValueError("t_abs must be increasing (sort the rows of one subject by t_abs)")
    unit, scale = _time_unit(t[-1] - t[0])
    fig, ax = new_axes(ax, figsize=(11.0, 3.8))
    onset_s = np.asarray(onsets if onsets is not None else [], dtype=float)
    for i, onset in enumerate(onset_s):
        ax.axvspan((onset - sop_s) / scale, (onset - sph_s) / scale, color=STATE_COLORS["preictal"], alpha=0.3,
                   linewidth=0, label="preictal span" if i == 0 else None)
    if onset_s.size:
        ax.vlines(onset_s / scale, 0, 1, transform=ax.get_xaxis_transform(), color="#B00000", linewidth=1.5,
                  label="seizure onset")
    tt, rr = break_gaps(t, r, max_step=max_step)
    ax.plot(tt / scale, rr, color="#999999", linewidth=0.7, label="risk")
    if smoothed is not None:
        s = as_1d(smoothed, "smoothed")
        same_length(t_abs=t, smoothed=s)
        _, ss = break_gaps(t, s, max_step=max_step)
        ax.plot(tt / scale, ss, color="#0072B2", linewidth=1.4, label="smoothed risk")
    if threshold is not None:
        ax.axhline(threshold, color="black", linestyle="--", linewidth=1.0, label=f"threshold {threshold:.2f}")
    alarm_s = np.asarray(alarm_times if alarm_times is not None else [], dtype=float)
    if alarm_s.size:
        ax.vlines(alarm_s / scale, 0, 1, transform=ax.get_xaxis_transform(), color="#009E73", linestyle=":",
                  linewidth=1.6, label=f"alarm ({alarm_s.size})")
    if cursor is not None:
        ax.axvline(cursor / scale, color="black", linewidth=2.0, alpha=0.5, label="current position")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(t[0] / scale, t[-1] / scale)
    ax.set_xlabel(f"Time on subject timeline ({unit})")
    ax.set_ylabel("Preictal risk")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return fig


def labeling_example_figure() -> Figure:
    """The example timeline of ``docs/LABELING_SCHEMA.md`` with the default labeling parameters.

    Two contiguous files, then a 30-minute gap and a third file. Seizure 1 starts 2 min into file 2
    (its preictal period lies in file 1); seizure 2 follows 20 min later (not a lead seizure);
    seizure 3 is in file 3, its SOP partly inside the unobserved gap.
    """
    from sklearn_eeg.data.labeling import label_windows

    recordings = pd.DataFrame({
        "subject": "demo", "recording": ["demo_01", "demo_02", "demo_03"],
        "t_file_start": [0.0, 3600.0, 9000.0], "duration": 3600.0, "segment": 0,
    })
    recordings["t_file_end"] = recordings["t_file_start"] + recordings["duration"]
    seizures = pd.DataFrame({
        "subject": "demo", "recording": ["demo_02", "demo_02", "demo_03"],
        "seizure_id": ["demo_s01", "demo_s02", "demo_s03"],
        "t_onset": [3720.0, 5040.0, 9300.0], "t_offset": [3780.0, 5080.0, 9360.0],
    })
    fig = plot_label_timeline(label_windows(recordings, seizures), recordings,
                              onsets=seizures["t_onset"].to_numpy())
    fig.axes[0].set_title("Window states (defaults: SOP 10 min, SPH 30 s, postictal 10 min, buffer 30 min)")
    return fig
