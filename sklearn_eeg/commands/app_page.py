"""The Streamlit page of the demo: rolling seizure-risk forecast, alarms, FAH/sensitivity and EEG replay.

With "Live forecast" on, the replayed file is also streamed through the run's model by the online
forecaster (:mod:`sklearn_eeg.online`) up to the end of the replay window: the latest risk and the alarms
raised so far, as a bedside device would have shown them (causal, chunk by chunk).

A Streamlit script: ``sklearn-eeg-app`` (:mod:`sklearn_eeg.commands.app`, whose ``--help`` lists the
options) runs it with ``streamlit run``, as ``streamlit run pipelines/app.py -- --data_root DIR`` does
in a checkout.
"""

from __future__ import annotations

import argparse
import io
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import streamlit as st
from matplotlib.figure import Figure

from sklearn_eeg.commands.app_logic import (
    ALPHA_RANGE,
    PERSISTENCE_RANGE,
    THRESHOLD_RANGE,
    OperatingPoint,
    alarm_rule_text,
    alarm_view,
    check_data_root,
    eeg_span,
    list_runs,
    load_recordings,
    read_eeg_recording,
    advance_live_replay,
    run_operating_point,
    start_live_replay,
    train_quick_baseline,
)
from sklearn_eeg.commands.app import parse_args
from sklearn_eeg.data import CANONICAL_CHANNELS
from sklearn_eeg.reporting import infer_onsets, plot_eeg_snippet, plot_risk_timeline, read_predictions


@st.cache_data(show_spinner=False)
def _predictions(run_dir: str):
    return read_predictions(run_dir)


@st.cache_data(show_spinner=False)
def _recordings(data_root: str):
    return load_recordings(data_root)


@st.cache_data(show_spinner=False)
def _operating_point(run_dir: str, subject: str) -> OperatingPoint:
    return run_operating_point(run_dir, subject)


@st.cache_resource(show_spinner=False, max_entries=2)
def _eeg_recording(path: str):
    """One EDF file read once per server (the replay ticks slice it instead of rereading the file)."""
    return read_eeg_recording(path)


_SLIDER_KEYS = ("threshold", "alpha", "persistence")

FIGURE_DPI = 110
"""Resolution of the page's figures. ``st.pyplot`` renders at 200 dpi and then re-reads and re-encodes the PNG:
about 60 % of the page's own time on the first screen (profiled on the default run); 110 dpi still fills
the wide layout's main column."""


def _show_figure(fig: Figure) -> None:
    """Draw ``fig`` as a PNG at :data:`FIGURE_DPI`, stretched to the column width, and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    plt.close(fig)
    st.image(buf.getvalue(), width="stretch")


def _set_operating_point(point: OperatingPoint) -> None:
    """Move the alarm sliders to ``point`` (before they are drawn, or from a button callback)."""
    st.session_state["threshold"] = point.threshold
    st.session_state["alpha"] = point.alpha
    st.session_state["persistence"] = point.persistence


def _alarm_sliders(run: Path, subject: str) -> tuple[float, float, int, OperatingPoint]:
    """Alarm sliders that open at the run's tuned operating point for ``subject``, and again whenever the
    run or the subject changes; a button moves them back to it."""
    point = _operating_point(str(run), subject)
    shown_for = (str(run), subject)
    if st.session_state.get("_operating_point_of") != shown_for or any(k not in st.session_state
                                                                        for k in _SLIDER_KEYS):
        st.session_state["_operating_point_of"] = shown_for
        _set_operating_point(point)
    st.sidebar.header("Alarm settings")
    threshold = st.sidebar.slider("Threshold", *THRESHOLD_RANGE, step=0.001, format="%.4g", key="threshold")
    alpha = st.sidebar.slider("Smoothing (EMA alpha, 1 = none)", *ALPHA_RANGE, step=0.05, key="alpha")
    persistence = st.sidebar.slider("Persistence K (windows)", *PERSISTENCE_RANGE, key="persistence")
    st.sidebar.button("Back to the run's operating point", key="reset_operating_point",
                      on_click=_set_operating_point, args=(point,))
    opened = "" if point.fah_target is None else "Opened at the run's operating point. "
    st.sidebar.caption(opened + point.source)
    return threshold, alpha, persistence, point


def _sidebar_paths(args: argparse.Namespace) -> tuple[Path | None, str]:
    st.sidebar.header("Data")
    data_text = st.sidebar.text_input("Data root", value=args.data_root, key="data_root")
    runs_text = st.sidebar.text_input("Runs folder", value=args.runs_root, key="runs_root")
    data_root, error = check_data_root(data_text)
    if error:
        st.error(error)
    return data_root, runs_text


def _offer_training(data_root: Path) -> None:
    st.info("No trained run with a predictions file was found. Train the quick baseline (LOSO on the data root, "
            "small_run config) to create one.")
    if st.button("Train quick baseline", key="train"):
        try:
            with st.spinner("Training the quick baseline…"):
                runs = train_quick_baseline(data_root)
            st.success(f"Done: runs written to {runs}. Set 'Runs folder' to it.")
        except Exception as exc:  # the demo must show the reason, not a traceback
            st.error(f"Training the quick baseline failed: {exc}")


@dataclass(frozen=True)
class _Replay:
    """Where and how to replay one EDF file (times in s from the file start)."""

    path: Path
    recording: str
    t_file_start: float
    position: float
    span: float
    last: float
    play: bool
    speed: int
    live: bool


def _replay_controls(data_root: Path, recording: str) -> _Replay | None:
    """Sidebar replay controls, or None (with a warning) when the EEG of ``recording`` cannot be found."""
    try:
        recordings = _recordings(str(data_root))
    except Exception as exc:  # any unreadable data root: tell the user, keep the risk view
        st.warning(f"EEG replay unavailable (cannot index {data_root}): {exc}")
        return None
    row = recordings[recordings["recording"] == recording]
    if row.empty or not Path(row["path"].iloc[0]).is_file():
        st.warning(f"EEG replay unavailable: {recording} is not in {data_root}.")
        return None
    st.sidebar.header("EEG replay")
    span = st.sidebar.slider("Replay window (s)", 5, 60, 10, key="span")
    last = max(float(row["duration"].iloc[0]) - span, 0.0)
    position = st.sidebar.slider("Replay start (s from file start)", 0.0, last, step=float(span), key="position")
    play = st.sidebar.toggle("Play", key="play")
    speed = st.sidebar.slider("Replay speed (windows per second)", 1, 10, 1, key="speed")
    live = st.sidebar.toggle("Live forecast (the run's model, online)", key="live",
                             help="Stream the file through the run's model as an amplifier would deliver it: "
                                  "causal filter, risk and alarms up to the replay time.")
    if not play:
        st.session_state["replay_t"] = position
    return _Replay(Path(row["path"].iloc[0]), recording, float(row["t_file_start"].iloc[0]), position,
                   float(span), last, play, speed, live)


def _live_panel(replay: _Replay, run: Path, subject: str, until: float) -> None:
    """The run's online forecast of the replayed file up to ``until`` (s from the file start)."""
    data, sfreq, _ = _eeg_recording(str(replay.path))
    key = (str(run), subject, replay.recording)
    live = st.session_state.get("live_replay")
    if live is None or st.session_state.get("live_key") != key or live.forecaster.n_samples > until * sfreq:
        try:  # a new stream (another run, file, or the replay moved back)
            live = start_live_replay(run, subject)
        except (OSError, ValueError) as exc:
            st.warning(f"Live forecast unavailable: {exc}")
            return
        st.session_state["live_replay"], st.session_state["live_key"] = live, key
    try:
        advance_live_replay(live, data, sfreq, until)
    except ValueError as exc:
        st.warning(f"Live forecast unavailable: {exc}")
        return
    st.metric("Live risk (online, causal)", f"{live.risks[-1]:.3f}" if live.risks else "n/a")
    alarms = ", ".join(f"{t:.0f} s" for t in live.alarm_times) or "none"
    st.caption(f"Live forecast: {len(live.times)} windows streamed up to {until:.0f} s of {replay.recording}; "
               f"threshold {live.forecaster.threshold:.4g}; alarms at {alarms}")


def _eeg_panel(replay: _Replay, run: Path, subject: str) -> None:
    """EEG at the replay time (and the live forecast up to its end); while playing, a fragment redraws it
    every second one step further."""

    def panel() -> None:
        t = float(st.session_state.get("replay_t", replay.position))
        try:
            data, sfreq, names = eeg_span(*_eeg_recording(str(replay.path)), t, replay.span)
        except Exception as exc:  # unreadable EDF: tell the user, keep the risk view
            st.warning(f"EEG replay unavailable: {exc}")
            return
        picks = [names.index(c) for c in st.session_state.get("channels") or names[:6] if c in names] or [0]
        fig = plot_eeg_snippet(data[picks], sfreq, ch_names=[names[i] for i in picks], n_channels=len(picks),
                               t0=t, title=f"EEG {replay.recording} (time from file start)")
        _show_figure(fig)
        st.caption(f"Replay at {t:.0f} s of {replay.recording}" + (" (playing)" if replay.play else ""))
        if replay.live:
            _live_panel(replay, run, subject, t + replay.span)
        if replay.play:
            st.session_state["replay_t"] = min(t + replay.speed * replay.span, replay.last)

    st.fragment(panel, run_every=1.0 if replay.play else None)()


def main(argv: list[str] | None = None) -> None:
    """Draw the page with the options of ``argv`` (default: those after ``--`` on the ``streamlit run`` line)."""
    args = parse_args(argv)
    st.set_page_config(page_title="sklearn-eeg seizure-risk demo", layout="wide")
    st.title("sklearn-eeg: seizure-risk forecast replay")
    data_root, runs_root = _sidebar_paths(args)
    if data_root is None:
        return
    runs = list_runs(runs_root)
    if not runs:
        _offer_training(data_root)
        return
    run = st.sidebar.selectbox("Trained run", runs, format_func=lambda p: p.name, key="run")
    try:
        pred = _predictions(str(run))
    except (OSError, ValueError) as exc:
        st.error(f"Cannot read the predictions of {run}: {exc}")
        return
    subject = st.sidebar.selectbox("Subject", sorted(pred["subject"].unique()), key="subject")
    rows = pred[pred["subject"] == subject].reset_index(drop=True)
    recording = st.sidebar.selectbox("File", sorted(rows["recording"].unique()), key="recording")
    threshold, alpha, persistence, point = _alarm_sliders(run, str(subject))
    try:
        view = alarm_view(rows, threshold=threshold, alpha=alpha, persistence=persistence, policy=point.policy)
    except (RuntimeError, ValueError) as exc:
        st.error(f"Cannot compute alarms: {exc}")
        return
    cols = st.columns(5)
    metrics = view.metrics
    cols[0].metric("FAH (false alarms / non-ictal h)", f"{metrics['fah']:.3f}" if metrics else "n/a")
    cols[1].metric("Sensitivity", f"{metrics['sensitivity']:.2f}" if metrics else "n/a")
    cols[2].metric("Seizures predicted", f"{metrics['n_predicted']}/{metrics['n_seizures']}" if metrics else "n/a")
    cols[3].metric("Alarms", str(len(view.alarm_times)))
    cols[4].metric("Surrogate p", f"{metrics['p_surrogate']:.3g}" if metrics else "n/a")
    if view.note:
        st.warning(f"Alarm metrics unavailable: {view.note}")
    replay = _replay_controls(data_root, recording)
    if replay is not None:
        st.sidebar.multiselect("Channels", list(CANONICAL_CHANNELS), default=list(CANONICAL_CHANNELS[:6]),
                               key="channels")
    st.subheader(f"Risk timeline of {subject} ({run.name})")
    st.caption(alarm_rule_text(threshold, alpha, persistence, point))
    fig = plot_risk_timeline(rows["t_abs"].to_numpy(), rows["risk"].to_numpy(), smoothed=view.smoothed,
                             threshold=threshold, alarm_times=view.alarm_times, onsets=infer_onsets(rows),
                             cursor=None if replay is None else replay.t_file_start + replay.position,
                             title=f"{subject} (test subject): risk, alarms at threshold {threshold:.4g} "
                                   "and seizure onsets")
    _show_figure(fig)
    st.caption("Risk plot: grey = raw risk, blue = smoothed, shaded = preictal spans, red = seizure onsets, "
               "green dotted = alarms, black = replay position.")
    if replay is not None:
        st.subheader("EEG replay")
        _eeg_panel(replay, run, str(subject))


if __name__ == "__main__":
    main()
