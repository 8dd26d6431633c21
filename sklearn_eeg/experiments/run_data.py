"""The data of a run config: its windows, or their features computed once and cached."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Memory, Parallel, delayed
from tqdm.auto import tqdm

from sklearn_eeg.cache_location import cache_location
from sklearn_eeg.data.edf import EEGDataError
from sklearn_eeg.data.labeling import STATES
from sklearn_eeg.data.synthetic import embedded_dataset
from sklearn_eeg.experiments.config import RunConfig
from sklearn_eeg.experiments.parallel import parallel_backend, worker_count
from sklearn_eeg.features.cache import signal_features
from sklearn_eeg.features.extractor import FeatureExtractor
from sklearn_eeg.signal.windows import WindowArray, WindowStore, load_window_store

__all__ = ["compute_features", "dataset_root", "load_dataset", "run_window_store", "store_features"]


def compute_features(
    X: np.ndarray, *, feature_set: str = "basic_plus", sfreq: float = 256.0, n_jobs: int = 1, progress: bool = True
) -> np.ndarray:
    """Feature matrix of a whole dataset, computed in chunks with a progress bar.

    Features are computed per window without fitted state (``fit`` only checks shapes), so
    computing them once before cross-validation is not leakage.

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_channels, n_times)
        Windows.
    feature_set : str, default="basic_plus"
        See :class:`sklearn_eeg.features.extractor.FeatureExtractor`.
    sfreq : float, default=256.0
        Sampling frequency.
    n_jobs : int, default=1
        Parallel chunks.
    progress : bool, default=True
        Show a tqdm bar.

    Returns
    -------
    features : ndarray of shape (n_windows, n_features)
    """
    extractor = FeatureExtractor(sfreq=sfreq, feature_set=feature_set, n_jobs=n_jobs, verbose=progress)
    return extractor.fit(X[:1]).transform(X)


def dataset_root(cfg: RunConfig, progress: bool) -> Path:
    """The configured CHB-MIT(-like) folder, or the embedded synthetic preset (built on first use)."""
    if cfg.data.data_root:
        return Path(cfg.data.data_root)
    return embedded_dataset(cfg.data.cache_dir, preset=cfg.data.preset, progress=progress)


def store_features(
    store: WindowStore,
    *,
    feature_set: str = "basic_plus",
    cache_dir: str | Path | None = None,
    n_jobs: int = 1,
    progress: bool = True,
) -> np.ndarray:
    """Feature matrix of a window store's rows, computed recording by recording from its memory maps.

    Each recording's features are computed once for all its windows (every state) by
    :func:`sklearn_eeg.features.cache.signal_features` and cached with ``joblib.Memory`` under
    ``<cache_dir>/joblib`` (key: the stored signal's path, size and mtime, window, stride, feature set);
    the rows of the store are then picked from them. At most one chunk of one recording's windows is
    in memory per worker, whatever the dataset's size.

    Parameters
    ----------
    store : WindowStore
        Window store (possibly a selection of rows).
    feature_set : str, default="basic_plus"
        See :class:`sklearn_eeg.features.extractor.FeatureExtractor`.
    cache_dir : str or Path, optional
        Cache root (None: the default cache folder, :func:`sklearn_eeg.cache_location.cache_location`).
    n_jobs : int, default=1
        Recordings computed in parallel (joblib; a Dask backend spreads them over a cluster).
    progress : bool, default=True
        Show a progress bar over recordings.

    Returns
    -------
    F : ndarray of shape (len(store), n_features), float32
        Row ``i`` holds the features of ``store[i]``.
    """
    params = store.params
    memory = Memory(str(cache_location(cache_dir).path / "joblib"), verbose=0)
    table = store.table
    recordings = table.groupby(["subject", "recording"], sort=False).indices

    def features_of(subject: str, recording: str) -> np.ndarray:
        return signal_features(store.signal_path(subject, recording), sfreq=params["sfreq"],
                               window=params["window"], stride=params["stride"], feature_set=feature_set,
                               memory=memory)

    jobs = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(features_of)(*key) for key in recordings)
    F = None  # filled as the recordings come back, so only a few recordings' features wait in memory
    for rows, features in tqdm(zip(recordings.values(), jobs), total=len(recordings), disable=not progress,
                               desc="features", unit="rec"):
        if F is None:
            F = np.empty((len(table), features.shape[1]), dtype=np.float32)
        F[rows] = features[store.positions[rows]]
    return np.empty((0, 0), dtype=np.float32) if F is None else F


def _check_windows(store: WindowStore, data_root: Path, cfg: RunConfig) -> None:
    """A run needs windows, and preictal ones among them; say why there are none in one line."""
    if not len(store):
        if store.errors:
            path, reason = next(iter(store.errors.items()))
            raise EEGDataError(f"{data_root}: no recording could be read ({len(store.errors)} failed; {path}: {reason})")
        raise EEGDataError(
            f"{data_root}: no windows: labeling.window = {cfg.labeling.window:g} s does not fit in any recording"
        )
    if not (store.table["label"].to_numpy() == 1).any():
        lab = cfg.labeling
        raise EEGDataError(
            f"{data_root}: no preictal windows: no lead seizure has {lab.sph:g}-{lab.sph + lab.sop:g} s of "
            "recording before it (labeling.sph, labeling.sop), so there is nothing to forecast"
        )


def run_window_store(cfg: RunConfig, progress: bool = True) -> WindowStore:
    """The window store of a run config's dataset, every window of the timeline, checked for use.

    Parameters
    ----------
    cfg : RunConfig
        Run configuration (data and labeling sections).
    progress : bool, default=True
        Show progress bars (dataset generation, store building).

    Returns
    -------
    store : WindowStore
        Every state's windows (excluded windows get a risk, never a training label);
        ``store.table.attrs["skipped_files"]`` maps each unreadable recording to the reason (a run's
        manifest records it); ``store.table.attrs["data_root"]`` names the dataset folder it was read
        from (the embedded preset's generated folder when no ``data_root`` is configured).

    Raises
    ------
    EEGDataError
        When no window fits in any recording, no recording could be read, or no window is preictal.
    """
    data_root = dataset_root(cfg, progress)
    store = load_window_store(
        data_root, cfg.data.subjects, cache_dir=cfg.data.cache_dir, states=STATES, progress=progress,
        **dataclasses.asdict(cfg.labeling),
    )
    _check_windows(store, data_root, cfg)
    store.table.attrs["skipped_files"] = dict(store.errors)
    store.table.attrs["data_root"] = str(data_root)
    return store


def load_dataset(
    cfg: RunConfig, *, features: bool = True, scheduler: str | None = None, progress: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """Windows (or their features) of a run config's dataset.

    ``cfg.data.data_root`` names a CHB-MIT(-like) folder; ``None`` uses the embedded synthetic
    dataset of ``cfg.data.preset`` (generated into ``cfg.data.cache_dir`` on first use). Windows
    are labeled with ``cfg.labeling``. Features come from :func:`store_features`: computed and
    cached per recording from the window store's memory maps; raw windows (``features=False``, the
    deep models' input) come as a :class:`~sklearn_eeg.signal.windows.WindowArray` that loads a window
    when it is indexed. Neither loads the dataset's windows into RAM.

    Parameters
    ----------
    cfg : RunConfig
        Run configuration.
    features : bool, default=True
        Return the feature matrix ``(n_windows, n_features)`` instead of the raw windows
        ``(n_windows, n_channels, n_times)`` (a lazy :class:`~sklearn_eeg.signal.windows.WindowArray`).
    scheduler : str, optional
        Address of a Dask scheduler: the per-recording feature jobs then run on its workers (which
        must see ``cfg.data.cache_dir``); otherwise on ``cfg.n_jobs`` local processes.
    progress : bool, default=True
        Show progress bars.

    Returns
    -------
    X, y, groups, meta
        As :func:`sklearn_eeg.signal.windows.load_windows`, with ``X`` replaced by features if asked.
    """
    store = run_window_store(cfg, progress)
    meta = store.table.reset_index(drop=True)
    y, groups = meta["label"].to_numpy(dtype=np.int64), meta["subject"].to_numpy(dtype=str)
    if not features:
        return WindowArray(store), y, groups, meta
    with parallel_backend(scheduler):
        F = store_features(store, feature_set=cfg.features.feature_set, cache_dir=cfg.data.cache_dir,
                           n_jobs=worker_count(cfg.n_jobs, scheduler), progress=progress)
    return F, y, groups, meta
