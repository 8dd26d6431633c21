"""Per-recording feature cache: features of one window file or one stored signal, cached with joblib.

The cache key is small: the file's resolved path, size and modification time, the feature
parameters and :data:`FEATURE_CACHE_VERSION`. The array itself is never hashed (it is opened with
``mmap_mode="r"`` only when the features must be computed). Bump :data:`FEATURE_CACHE_VERSION`
whenever feature code changes its output.

:func:`signal_features` is what run paths use: the window store keeps one filtered signal per
recording, and the features of all its windows are computed from that memory map in chunks, so no
more than one chunk of windows is ever in memory.

Faults: joblib writes each entry to a temporary file and renames it into place, so concurrent
processes sharing the cache never see a partial entry; an entry it cannot load (truncated or
corrupt ``output.pkl``) is logged as a warning by joblib and recomputed, which rewrites it. A stored
signal shorter than its ``.npy`` header says is refused with :class:`~sklearn_eeg.data.EEGDataError`
naming the file (rebuild the window store), not numpy's mmap error.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np
from joblib import Memory

from sklearn_eeg.features.extractor import FeatureExtractor
from sklearn_eeg.signal.windows import check_signal_file, segment_windows

__all__ = ["FEATURE_CACHE_VERSION", "recording_features", "signal_features"]

#: Part of every cache key; bump to invalidate cached features after a change in feature code.
FEATURE_CACHE_VERSION = 1
#: Windows converted to float32 and featurized at once (about 47 MB for 18 x 2560 samples).
CHUNK_WINDOWS = 256


def _cached_on_file(compute, file: str | PathLike, name: str, memory: str | PathLike | Memory | None, *args,
                    ignore: tuple[str, ...] = ()) -> np.ndarray:
    """``compute(path, size, mtime_ns, *args)`` through ``memory``: the file is keyed by its resolved
    path, size and modification time, never hashed; ``name`` is the argument named in errors."""
    path = Path(file).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"{name} {path} does not exist")
    stat = path.stat()
    if not isinstance(memory, Memory):
        memory = Memory(None if memory is None else str(memory), verbose=0)
    return memory.cache(compute, ignore=list(ignore))(str(path), stat.st_size, stat.st_mtime_ns, *args)


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
        See :class:`~sklearn_eeg.features.extractor.FeatureExtractor`.
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
    return _cached_on_file(_compute_recording_features, window_file, "window_file", memory, float(sfreq),
                           feature_set, FEATURE_CACHE_VERSION, verbose, ignore=("verbose",))


def _compute_signal_features(
    path: str,
    size: int,
    mtime_ns: int,
    sfreq: float,
    window: float,
    stride: float,
    feature_set: str,
    cache_version: int,
) -> np.ndarray:
    """Features of every window of a stored ``(n_channels, n_times)`` signal, chunk by chunk.

    ``size``, ``mtime_ns`` and ``cache_version`` only key the cache.
    """
    signal = np.load(path, mmap_mode="r")
    if signal.ndim != 2:
        raise ValueError(f"signal file {path} must hold (n_channels, n_times), got shape {signal.shape}")
    windows = segment_windows(signal, sfreq, window, stride)
    extractor = FeatureExtractor(sfreq=sfreq, feature_set=feature_set)
    extractor.fit(np.zeros((1, *windows.shape[1:]), dtype=np.float32))
    chunks = [
        extractor.transform(np.asarray(windows[s : s + CHUNK_WINDOWS], dtype=np.float32))
        for s in range(0, len(windows), CHUNK_WINDOWS)
    ]
    n_features = len(extractor.get_feature_names_out())
    return np.concatenate(chunks) if chunks else np.empty((0, n_features), dtype=np.float32)


def signal_features(
    signal_file: str | PathLike,
    *,
    sfreq: float,
    window: float,
    stride: float,
    feature_set: str = "basic_plus",
    memory: str | PathLike | Memory | None = "cache/joblib",
) -> np.ndarray:
    """Features of every window of one recording's stored signal, cached per recording.

    Parameters
    ----------
    signal_file : path
        ``.npy`` file of shape (n_channels, n_times) (a window store's ``<recording>.npy``).
    sfreq : float
        Sampling frequency in Hz.
    window, stride : float
        Window length and step in seconds (window ``k`` starts at ``k * stride``).
    feature_set : str, default="basic_plus"
        See :class:`~sklearn_eeg.features.extractor.FeatureExtractor`.
    memory : path, joblib.Memory or None, default="cache/joblib"
        Cache location; ``None`` computes without caching.

    Returns
    -------
    F : ndarray of shape (n_windows, n_features), float32
        Row ``k``: the window starting at ``k * stride``; the same values as
        ``FeatureExtractor(...).transform`` of those windows as float32.

    Raises
    ------
    FileNotFoundError
        If ``signal_file`` does not exist.
    EEGDataError
        If ``signal_file`` is shorter or longer than its header says, or its header is unreadable.
    """
    if Path(signal_file).is_file():  # checked here, not in the cached function: its code keys the cache
        check_signal_file(signal_file)
    return _cached_on_file(_compute_signal_features, signal_file, "signal_file", memory, float(sfreq),
                           float(window), float(stride), feature_set, FEATURE_CACHE_VERSION)
