"""Logic behind the Streamlit demo (:mod:`sklearn_eeg.commands.app_page`), importable and testable without Streamlit.

The demo reads a data root (CHB-MIT-like folder) for the EEG replay and a run folder holding a
predictions file (see :mod:`sklearn_eeg.reporting.predictions`) for the risk timeline. The alarm and
metric modules are imported lazily so that the demo still starts while they are unavailable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_eeg.reporting.predictions import find_predictions

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
                      "`sklearn-eeg-make-synthetic --root DIR --preset default` or enter another folder.")
    return path, None


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
    from sklearn_eeg.data import read_edf

    rec = read_edf(path)
    names = list(rec.ch_names)
    picks = [names.index(c) for c in channels] if channels else list(range(len(names)))
    start = int(max(t0, 0.0) * rec.sfreq)
    stop = start + int(duration * rec.sfreq)
    return np.asarray(rec.data[picks, start:stop]), float(rec.sfreq), [names[i] for i in picks]


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
        Seizure occurrence period and prediction horizon in s.

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
    policy = AlarmPolicy(sop=sop, sph=sph, smoothing="ema" if alpha < 1.0 else None, alpha=alpha,
                         persistence=persistence)
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
