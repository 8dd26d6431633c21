"""Logic behind the Streamlit demo (:mod:`sklearn_eeg.commands.app_page`), importable and testable without Streamlit.

The demo reads a data root (CHB-MIT-like folder) for the EEG replay and a run folder holding a
predictions file (see :mod:`sklearn_eeg.reporting.predictions`) for the risk timeline. It opens at
the run's own operating point (:func:`run_operating_point`: the threshold the shown subject's fold
tuned, the run's smoothing and persistence). The alarm and metric modules are imported lazily so
that the demo still starts while they are unavailable. The live-replay mode (:class:`LiveReplay`)
streams the replayed file through the run's online forecaster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sklearn_eeg.reporting.predictions import find_predictions

if TYPE_CHECKING:
    from sklearn_eeg.evaluation.alarms import AlarmPolicy
    from sklearn_eeg.online import OnlineForecaster

#: Embedded synthetic datasets tried, in order, as the default data root.
DEFAULT_DATA_ROOTS: tuple[str, ...] = ("cache/synthetic/default", "cache/synthetic/tiny")  # make run builds default


def default_data_root(base: str | Path = ".") -> str:
    """First existing folder of :data:`DEFAULT_DATA_ROOTS` under ``base`` (the first one if none exists)."""
    for candidate in DEFAULT_DATA_ROOTS:
        if (Path(base) / candidate).is_dir():
            return candidate
    return DEFAULT_DATA_ROOTS[0]


def check_data_root(text: str) -> tuple[Path | None, str | None]:
    """Return ``(path, None)`` for an existing folder, else ``(None, message)`` for the user."""
    if not text or not text.strip():
        return None, "No data root given: enter the folder of a CHB-MIT(-like) dataset."
    path = Path(text.strip()).expanduser()
    if not path.is_dir():
        return None, (f"Data root not found: {path}. Generate the embedded synthetic set with "
                      "`sklearn-eeg-make-synthetic --data_root DIR --preset default` or enter another folder.")
    return path, None


#: FAH target (false alarms per hour) whose tuned threshold the demo opens at when the run tuned one for it;
#: otherwise the first target of the run's config.
DEFAULT_FAH_TARGET: float = 0.5

#: Range of the demo's alarm sliders: threshold, EMA alpha (1 = no smoothing), persistence (windows).
THRESHOLD_RANGE: tuple[float, float] = (0.0, 1.0)
ALPHA_RANGE: tuple[float, float] = (0.05, 1.0)
PERSISTENCE_RANGE: tuple[int, int] = (1, 10)


def list_runs(runs_root: str | Path) -> list[Path]:
    """Run folders directly under ``runs_root`` that hold a predictions file, newest name first."""
    root = Path(runs_root)
    if not root.is_dir():
        return []
    runs = [p for p in root.iterdir() if p.is_dir() and find_predictions(p) is not None]
    return sorted(runs, key=lambda p: p.name, reverse=True)


def load_recordings(data_root: str | Path) -> pd.DataFrame:
    """Recording index of ``data_root`` (``sklearn_eeg.data.load_index``); raises on unreadable data."""
    from sklearn_eeg.data import load_index

    recordings, _ = load_index(data_root)
    return recordings


def read_eeg_recording(path: str | Path) -> tuple[np.ndarray, float, list[str]]:
    """The whole EEG of one EDF file: ``(data of shape (n_channels, n_times) in µV, sfreq in Hz, channel names)``."""
    from sklearn_eeg.data import read_edf

    rec = read_edf(path)
    return np.asarray(rec.data), float(rec.sfreq), list(rec.ch_names)


def eeg_span(
    data: np.ndarray, sfreq: float, names: list[str], t0: float, duration: float, channels: list[str] | None = None
) -> tuple[np.ndarray, float, list[str]]:
    """``duration`` s of ``data`` from ``t0`` (s from its first sample), of ``channels`` (default all).

    Returns
    -------
    data : ndarray of shape (n_channels, n_times)
    sfreq : float
    ch_names : list of str
    """
    picks = [names.index(c) for c in channels] if channels else list(range(len(names)))
    start = int(max(t0, 0.0) * sfreq)
    stop = start + int(duration * sfreq)
    return np.asarray(data[picks, start:stop]), float(sfreq), [names[i] for i in picks]


def read_eeg_span(
    path: str | Path, t0: float, duration: float, channels: list[str] | None = None
) -> tuple[np.ndarray, float, list[str]]:
    """Read ``duration`` s of EEG from ``t0`` (s from file start) of one EDF file.

    Returns
    -------
    data : ndarray of shape (n_channels, n_times)
        Signal in µV.
    sfreq : float
        Sampling frequency in Hz.
    ch_names : list of str
    """
    return eeg_span(*read_eeg_recording(path), t0, duration, channels)


def read_run_config(run_dir: str | Path) -> dict:
    """The ``config`` section of a run folder's ``manifest.json``; ``{}`` without a readable manifest."""
    path = Path(run_dir) / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    config = manifest.get("config") if isinstance(manifest, dict) else None
    return config if isinstance(config, dict) else {}


def read_run_results(run_dir: str | Path) -> pd.DataFrame:
    """The run's per-fold results (``loso_results.csv``, else ``within_results.csv``) with a ``test_subject``
    column; an empty table when the run folder has neither or it lacks ``fah_target``/``threshold``."""
    for name in ("loso_results.csv", "within_results.csv"):
        path = Path(run_dir) / name
        if not path.is_file():
            continue
        table = pd.read_csv(path)
        if "test_subject" not in table.columns and "subject" in table.columns:
            table = table.rename(columns={"subject": "test_subject"})
        if {"test_subject", "fah_target", "threshold"} <= set(table.columns):
            return table.assign(test_subject=table["test_subject"].astype(str))
    return pd.DataFrame(columns=["test_subject", "fah_target", "threshold"])


def pick_fah_target(targets: list[float] | tuple[float, ...] | np.ndarray,
                    preferred: float = DEFAULT_FAH_TARGET) -> float | None:
    """``preferred`` when it is among ``targets``, else the first target (config order); None without targets.

    Examples
    --------
    >>> pick_fah_target([0.1, 0.2, 0.5, 1.0]), pick_fah_target([0.2, 1.0]), pick_fah_target([])
    (0.5, 0.2, None)
    """
    values = [float(t) for t in targets if np.isfinite(float(t))]
    if not values:
        return None
    return next((t for t in values if np.isclose(t, preferred)), values[0])


@dataclass(frozen=True)
class OperatingPoint:
    """Where the demo's alarm sliders start: the run's tuned operating point for one test subject.

    Attributes
    ----------
    threshold : float
        Alarm threshold on the smoothed risk, in :data:`THRESHOLD_RANGE`.
    alpha : float
        EMA weight of the newest window (1 = no smoothing), in :data:`ALPHA_RANGE`.
    persistence : int
        Consecutive over-threshold windows needed for an alarm.
    fah_target : float or None
        The FAH target the threshold was tuned for on the validation subjects; None when the run has
        no tuned threshold for the subject (the threshold is then 0.5).
    policy : AlarmPolicy or None
        The run's alarm rule (SOP, SPH, reset, refractory, ...) the sliders modify; None without a
        manifest (the default rule then applies).
    source : str
        One sentence for the user: where the values come from.
    """

    threshold: float
    alpha: float
    persistence: int
    fah_target: float | None = None
    policy: AlarmPolicy | None = None
    source: str = ""


def run_operating_point(run_dir: str | Path, subject: str, *,
                        preferred_target: float = DEFAULT_FAH_TARGET) -> OperatingPoint:
    """The run's tuned operating point for test subject ``subject``.

    The threshold is the one ``subject``'s fold tuned on its validation subjects for the FAH target
    :func:`pick_fah_target` chooses among the run's targets (its config's ``alarms.fah_targets``, else
    the targets of its results table); smoothing and persistence come from the config's ``alarms``
    section. Missing pieces fall back to threshold 0.5, EMA alpha 0.3 and persistence 1, and
    ``source`` says so.

    Parameters
    ----------
    run_dir : str or Path
        Run folder (``manifest.json``, ``loso_results.csv`` or ``within_results.csv``).
    subject : str
        The test subject shown.
    preferred_target : float, default :data:`DEFAULT_FAH_TARGET`
        FAH target to open at when the run tuned for it.

    Returns
    -------
    OperatingPoint
    """
    config = read_run_config(run_dir)
    alarms = config.get("alarms") if isinstance(config.get("alarms"), dict) else {}
    notes: list[str] = []
    policy = None
    if alarms:
        from sklearn_eeg.reporting.run_figures import run_alarm_policy

        policy = run_alarm_policy(run_dir)
        alpha = {"ema": policy.alpha, None: 1.0}.get(policy.smoothing, 1.0)
        if policy.smoothing == "ma":
            notes.append(f"the run smooths with a moving average of {policy.n} windows, the smoothing slider "
                         "is an EMA: alarms differ from the run's")
        persistence = int(policy.persistence)
    else:
        alpha, persistence = 0.3, 1
        notes.append("no alarm settings in the run's manifest: default smoothing and persistence")
    results = read_run_results(run_dir)
    rows = results[(results["test_subject"] == str(subject)) & np.isfinite(results["threshold"].astype(float))]
    targets = alarms.get("fah_targets") or sorted(results["fah_target"].dropna().unique())
    target = pick_fah_target(targets, preferred_target)
    chosen = rows[np.isclose(rows["fah_target"].astype(float), target)] if target is not None else rows.iloc[:0]
    if chosen.empty:
        threshold, target = 0.5, None
        notes.insert(0, f"no tuned threshold for {subject} in this run: threshold 0.50")
        source = "; ".join(notes)
    else:
        tuned = float(chosen["threshold"].iloc[0])
        threshold = float(np.clip(tuned, *THRESHOLD_RANGE))
        if threshold != tuned:
            notes.append(f"tuned threshold {tuned:.4g} clipped to the slider range")
        source = (f"threshold {threshold:.4g}: tuned on the validation subjects of {subject}'s fold for "
                  f"FAH ≤ {target:g}/h; smoothing " + (f"EMA α {alpha:g}" if alpha < 1 else "none")
                  + f", persistence {persistence} from the run's config")
        source = "; ".join([source, *notes])
    alpha = float(np.clip(alpha, *ALPHA_RANGE))
    if not PERSISTENCE_RANGE[0] <= persistence <= PERSISTENCE_RANGE[1]:
        source += f"; persistence {persistence} clipped to the slider range"
        persistence = int(np.clip(persistence, *PERSISTENCE_RANGE))
    return OperatingPoint(threshold, alpha, persistence, target, policy, source[0].upper() + source[1:] + ".")


def alarm_rule_text(threshold: float, alpha: float, persistence: int, point: OperatingPoint) -> str:
    """One line naming the alarm rule shown and whether it is ``point`` (the run's operating point).

    Examples
    --------
    >>> point = OperatingPoint(0.62, 0.3, 2, 0.5)
    >>> alarm_rule_text(0.62, 0.3, 2, point)
    "Alarm rule: threshold 0.62 on the smoothed risk, EMA α 0.3, persistence 2 (the run's tuned operating point, FAH target 0.5/h)"
    >>> alarm_rule_text(0.4, 1.0, 2, point)
    "Alarm rule: threshold 0.4 on the smoothed risk, no smoothing, persistence 2 (changed from the run's operating point)"
    """
    rule = (f"Alarm rule: threshold {threshold:.4g} on the smoothed risk, "
            + (f"EMA α {alpha:g}" if alpha < 1 else "no smoothing") + f", persistence {persistence}")
    if (threshold, alpha, persistence) != (point.threshold, point.alpha, point.persistence):
        return rule + " (changed from the run's operating point)"
    if point.fah_target is None:
        return rule + " (default: the run has no tuned threshold for this subject)"
    return rule + f" (the run's tuned operating point, FAH target {point.fah_target:g}/h)"


@dataclass
class AlarmView:
    """Smoothed risk, alarms and metrics of one subject at the chosen settings.

    Attributes
    ----------
    smoothed : ndarray of shape (n_windows,)
        Risk after EMA smoothing, aligned with the predictions rows.
    alarm_times : ndarray of shape (n_alarms,)
        Alarm times in s on the subject timeline.
    metrics : dict
        ``sklearn_eeg.evaluation.metrics.alarm_metrics`` output (empty when unavailable).
    note : str
        Why metrics are missing, "" otherwise.
    """

    smoothed: np.ndarray
    alarm_times: np.ndarray
    metrics: dict = field(default_factory=dict)
    note: str = ""


def alarm_view(
    pred: pd.DataFrame,
    *,
    threshold: float,
    alpha: float = 0.3,
    persistence: int = 1,
    sop: float = 600.0,
    sph: float = 30.0,
    policy: AlarmPolicy | None = None,
) -> AlarmView:
    """Smooth, raise alarms and score them for one subject's predictions.

    Parameters
    ----------
    pred : DataFrame
        Validated predictions (:func:`sklearn_eeg.reporting.read_predictions`) of one subject.
    threshold : float
        Alarm threshold on the smoothed risk.
    alpha : float, default 0.3
        EMA weight of the newest window; 1 means no smoothing.
    persistence : int, default 1
        Consecutive windows over the threshold needed to raise an alarm.
    sop, sph : float
        Seizure occurrence period and prediction horizon in s (ignored with ``policy``).
    policy : AlarmPolicy, optional
        The run's alarm rule (:attr:`OperatingPoint.policy`): its SOP, SPH, reset, refractory and
        stride apply, with smoothing, alpha and persistence replaced by the arguments.

    Returns
    -------
    AlarmView
    """
    if pred["subject"].nunique() != 1:
        raise ValueError(f"alarm_view needs one subject, got {sorted(pred['subject'].unique())}")
    try:
        from sklearn_eeg.evaluation.alarms import AlarmPolicy, raise_alarms
        from sklearn_eeg.evaluation.metrics import alarm_metrics
    except ImportError as exc:
        raise RuntimeError(f"the alarm modules could not be imported: {exc}") from exc
    base = policy if policy is not None else AlarmPolicy(sop=sop, sph=sph)
    policy = base.replace(smoothing="ema" if alpha < 1.0 else None, alpha=alpha, persistence=persistence)
    risk = pred["risk"].to_numpy(dtype=float)
    meta = pred.reset_index(drop=True)
    smoothed = policy.smooth(risk, meta)
    times = raise_alarms(risk, meta, threshold=threshold, policy=policy)["t_alarm"].to_numpy(dtype=float)
    if meta["tte"].isna().all():
        return AlarmView(smoothed, times, {}, "no seizure information (tte) in the predictions file")
    return AlarmView(smoothed, times, alarm_metrics(risk, meta, threshold=threshold, policy=policy))


def train_quick_baseline(data_root: str | Path, out_dir: str | Path = "reports",
                         config: str | Path = "small_run") -> Path:
    """Run the quick LOSO baseline of ``config`` on ``data_root``; return the runs folder it wrote into.

    ``config`` is a YAML file or the name of a packaged config (see :func:`sklearn_eeg.experiments.config.find_config`).
    """
    from sklearn_eeg.experiments.benchmark import loso_from_config
    from sklearn_eeg.experiments.config import load_config

    cfg = load_config(config, data__data_root=str(data_root), output_dir=str(out_dir))
    loso_from_config(cfg, progress=False)
    return Path(out_dir) / "runs"


@dataclass
class LiveReplay:
    """The live-replay mode's stream: the run's online forecaster fed one recording up to the replay time.

    Attributes
    ----------
    forecaster : OnlineForecaster
        Causal filter, window buffer and alarm detector of the stream, with the run's model, tuned
        threshold and alarm rule (:meth:`~sklearn_eeg.online.OnlineForecaster.from_run`).
    times, risks, alarm_times : list of float
        Window end times (s from the file start), their risks, and the alarms raised so far.
    """

    forecaster: OnlineForecaster
    times: list[float] = field(default_factory=list)
    risks: list[float] = field(default_factory=list)
    alarm_times: list[float] = field(default_factory=list)


def start_live_replay(run_dir: str | Path, subject: str) -> LiveReplay:
    """A live replay with the online forecaster of ``subject``'s model in ``run_dir``.

    Raises
    ------
    OSError, ValueError
        If the run folder holds no model that can stream (e.g. a predictions-only or multi-phase run); the
        message names the file or field.
    """
    from sklearn_eeg.online import OnlineForecaster

    return LiveReplay(OnlineForecaster.from_run(run_dir, subject))


def advance_live_replay(live: LiveReplay, data: np.ndarray, sfreq: float, until: float, *,
                        chunk: float = 1.0) -> LiveReplay:
    """Feed ``data`` (one recording, µV) to the stream in ``chunk``-s chunks up to ``until`` s from its start.

    Samples already fed are skipped, so calling it at every replay tick streams the recording once, as
    an amplifier would deliver it; the risks and alarms equal those of the causal offline reference
    (:func:`sklearn_eeg.online.offline_causal_risk`) for the same samples.

    Parameters
    ----------
    live : LiveReplay
        Updated in place.
    data : ndarray of shape (n_channels, n_times)
        The recording (canonical channels, as :func:`read_eeg_recording` returns them).
    sfreq : float
        Its sampling frequency; must be the forecaster's.
    until : float
        Replay time in seconds from the recording's start.
    chunk : float, default=1.0
        Seconds per chunk.

    Returns
    -------
    LiveReplay
        ``live``.
    """
    from sklearn_eeg.online import array_chunks

    forecaster = live.forecaster
    if not np.isclose(sfreq, forecaster.sfreq):
        raise ValueError(f"the recording is sampled at {sfreq:g} Hz, the forecaster streams {forecaster.sfreq:g} Hz")
    stop = min(int(round(until * sfreq)), data.shape[1])
    if stop > forecaster.n_samples:
        for piece in array_chunks(data[:, forecaster.n_samples : stop], max(1, int(round(chunk * sfreq)))):
            out = forecaster.update(piece)
            live.times += out.times.tolist()
            live.risks += out.risks.tolist()
            live.alarm_times += out.alarm_times.tolist()
    return live
