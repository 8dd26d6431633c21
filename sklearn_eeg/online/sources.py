"""Chunk sources for replaying recordings through :class:`~sklearn_eeg.online.forecaster.OnlineForecaster`.

A live acquisition hands the forecaster ``(n_channels, n_samples)`` arrays in µV. To replay a recording
the same way, :func:`recording_chunks` reads an EDF file or converts an ``mne.io.Raw`` as
:func:`sklearn_eeg.data.read_edf` does (µV, canonical channels in canonical order, resampled to the rate
asked for; a Raw already at that rate chunk by chunk) and hands it out in chunks; :func:`array_chunks` cuts an array already in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np

from sklearn_eeg.data import read_edf
from sklearn_eeg.data.mne_input import is_mne_raw, raw_blocks

__all__ = ["array_chunks", "recording_chunks"]


def array_chunks(data: np.ndarray, sizes: int | Sequence[int]) -> Iterator[np.ndarray]:
    """Cut ``(n_channels, n_times)`` data into consecutive chunks along time.

    Parameters
    ----------
    data : ndarray of shape (n_channels, n_times)
    sizes : int or sequence of int
        Samples per chunk: one size for all chunks, or the sizes in turn (repeated until the data end).

    Yields
    ------
    chunk : ndarray of shape (n_channels, n_chunk_samples)
        Views of ``data``; the last one may be shorter.

    Examples
    --------
    >>> [c.shape[1] for c in array_chunks(np.zeros((2, 10)), [3, 1])]
    [3, 1, 3, 1, 2]
    """
    sizes = [sizes] if np.isscalar(sizes) else list(sizes)
    if not sizes or min(sizes) < 1:
        raise ValueError(f"chunk sizes must be at least one sample, got {sizes}")
    start, k = 0, 0
    while start < data.shape[1]:
        size = int(sizes[k % len(sizes)])
        yield data[:, start : start + size]
        start, k = start + size, k + 1


def recording_chunks(source: str | os.PathLike, *, chunk: float = 1.0, sfreq: float = 256.0) -> Iterator[np.ndarray]:
    """Replay an EDF file or an ``mne.io.Raw`` in chunks of ``chunk`` seconds.

    Parameters
    ----------
    source : str, path-like or mne.io.BaseRaw
        An EDF file is read by :func:`sklearn_eeg.data.read_edf` (the whole recording first: this
        replays a recording, it does not tail a growing file). An ``mne.io.Raw`` at ``sfreq`` is read
        chunk by chunk (:func:`~sklearn_eeg.data.mne_input.raw_blocks`: the same values, and a Raw that
        is not preloaded stays on disk); a Raw at another rate is converted whole, then resampled.
    chunk : float, default=1.0
        Seconds per chunk.
    sfreq : float, default=256.0
        Rate the recording is resampled to.

    Yields
    ------
    chunk : ndarray of shape (n_channels, n_chunk_samples), float32
        µV, canonical channels in canonical order (missing channels zero).
    """
    size = int(round(chunk * sfreq))
    if size < 1:
        raise ValueError(f"chunk={chunk} s is less than one sample at {sfreq} Hz")
    if is_mne_raw(source) and np.isclose(source.info["sfreq"], sfreq):
        yield from raw_blocks(source, size)
    else:
        yield from array_chunks(read_edf(source, sfreq=sfreq).data, size)
