"""Per-recording feature cache: features of one window file, cached on disk with joblib.

The cache key is small: the file's resolved path, size and modification time, the feature
parameters and :data:`FEATURE_CACHE_VERSION`. The window array itself is never hashed (it is
opened with ``mmap_mode="r"`` only when the features must be computed). Bump
:data:`FEATURE_CACHE_VERSION` whenever feature code changes its output.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np
from joblib import Memory

from .features import FeatureExtractor

__all__ = ["FEATURE_CACHE_VERSION", "recording_features"]

#: Part of every cache key; bump to invalidate cached features after a change in feature code.
FEATURE_CACHE_VERSION = 1


def _compute_recording_features(
    path: str,
    size: int,
    mtime_ns: int,
    sfreq: float,
    feature_set: str,
    cache_version: int,
    verbose: bool,
) -> np.ndarray:
    """Load a window file (memory-mapped) and compute its features.

    ``size``, ``mtime_ns`` and ``cache_version`` are unused here: they are part of the joblib
    cache key, so that a rewritten file or new feature code misses the cache.
    """
    X = np.load(path, mmap_mode="r")
    if X.ndim != 3:
        raise ValueError(f"window file {path} must hold (n_windows, n_channels, n_times), got shape {X.shape}")
    extractor = FeatureExtractor(sfreq=sfreq, feature_set=feature_set, verbose=verbose)
    return extractor.fit(X[:1]).transform(X)


def recording_features(
    window_file: str | PathLike,
    *,
    sfreq: float = 256.0,
    feature_set: str = "basic_plus",
    memory: str | PathLike | Memory | None = "cache/joblib",
    verbose: bool = False,
) -> np.ndarray:
    """Features of one recording's window file, cached per recording.

    Parameters
    ----------
    window_file : path
        ``.npy`` file of shape (n_windows, n_channels, n_times), in µV.
    sfreq : float, default=256.0
        Sampling frequency in Hz.
    feature_set : str, default="basic_plus"
        See :class:`~sklearn_eeg.features.FeatureExtractor`.
    memory : path, joblib.Memory or None, default="cache/joblib"
        Cache location; ``None`` computes without caching.
    verbose : bool, default=False
        Progress bar while computing (not part of the cache key).

    Returns
    -------
    F : ndarray of shape (n_windows, n_features)
        Columns named by ``FeatureExtractor(sfreq=sfreq, feature_set=feature_set)
        .fit(X).get_feature_names_out()``.

    Raises
    ------
    FileNotFoundError
        If ``window_file`` does not exist.
    """
    path = Path(window_file).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"window_file {path} does not exist")
    stat = path.stat()
    if not isinstance(memory, Memory):
        memory = Memory(None if memory is None else str(memory), verbose=0)
    cached = memory.cache(_compute_recording_features, ignore=["verbose"])
    return cached(str(path), stat.st_size, stat.st_mtime_ns, float(sfreq), feature_set, FEATURE_CACHE_VERSION, verbose)
