"""The data of a run config: its windows, or their features computed once and cached."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_eeg.config import RunConfig
from sklearn_eeg.datasets.synthetic import embedded_dataset
from sklearn_eeg.features import FeatureExtractor
from sklearn_eeg.fold_store import _atomic_write, _fingerprint
from sklearn_eeg.labeling import STATES
from sklearn_eeg.windows import load_windows

__all__ = ["compute_features", "load_dataset"]


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
        See :class:`sklearn_eeg.features.FeatureExtractor`.
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

def _data_root(cfg: RunConfig, progress: bool) -> Path:
    """The configured CHB-MIT(-like) folder, or the embedded synthetic preset (built on first use)."""
    if cfg.data.data_root:
        return Path(cfg.data.data_root)
    return embedded_dataset(cfg.data.cache_dir, preset=cfg.data.preset, progress=progress)


def load_dataset(
    cfg: RunConfig, *, features: bool = True, progress: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """Windows (or their features) of a run config's dataset.

    ``cfg.data.data_root`` names a CHB-MIT(-like) folder; ``None`` uses the embedded synthetic
    dataset of ``cfg.data.preset`` (generated into ``cfg.data.cache_dir`` on first use). Windows
    are labeled with ``cfg.labeling``. Features are computed once for the whole dataset (stateless
    per window, so not leakage) and cached in ``<cache_dir>/features/`` keyed on the data root,
    the window table, the feature set and a sample of the signals.

    Parameters
    ----------
    cfg : RunConfig
        Run configuration.
    features : bool, default=True
        Return the feature matrix ``(n_windows, n_features)`` instead of the raw windows
        ``(n_windows, n_channels, n_times)``.
    progress : bool, default=True
        Show progress bars.

    Returns
    -------
    X, y, groups, meta
        As :func:`sklearn_eeg.windows.load_windows`, with ``X`` replaced by features if asked.
    """
    data_root = _data_root(cfg, progress)
    X, y, groups, meta = load_windows(
        data_root,
        cfg.data.subjects,
        cache_dir=cfg.data.cache_dir,
        states=STATES,  # the full timeline: excluded windows get a risk, never a training label
        progress=progress,
        **dataclasses.asdict(cfg.labeling),
    )
    if not features:
        return X, y, groups, meta
    # the first 2 s of the first channel of every window stand for the signal content (preprocessing
    # changes in the window store change them) without reading the whole array
    head = np.ascontiguousarray(X[:, 0, : int(2 * 256)])
    key = _fingerprint(str(Path(data_root).resolve()), meta.reset_index(drop=True), cfg.features.feature_set, head)
    path = Path(cfg.data.cache_dir) / "features" / f"{cfg.features.feature_set}_{key}.npy"
    if path.is_file():
        return np.load(path), y, groups, meta
    F = compute_features(X, feature_set=cfg.features.feature_set, n_jobs=cfg.n_jobs, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    def save(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.save(fh, F)

    _atomic_write(path, save)
    return F, y, groups, meta
