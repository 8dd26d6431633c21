"""Causal band-pass + notch filtering whose state carries across chunks.

The window store filters each recording zero-phase (``sosfiltfilt``: forward and backward, so every
sample depends on the future). A forecaster running on a live stream cannot look ahead, so the online
path filters causally: the same Butterworth band-pass and IIR notch sections
(:func:`sklearn_eeg.signal.preprocessing.design_filter_sos`, same band edges, order and Q) applied once,
forward only, with ``scipy.signal.sosfilt``. The filter's internal state ``zi`` is carried from chunk to
chunk, so filtering a stream chunk by chunk gives bit for bit the same samples as filtering the whole
recording in one call (:func:`causal_filter`).

A single forward pass has the magnitude of one Butterworth filter (-3 dB at the band edges, order 4 per
edge), not the squared magnitude of the zero-phase store (-6 dB, order 8), and a frequency-dependent delay.
Features of the causal signal therefore differ from those of the store: a model trained on store features
is used here as it is, and its online risk is compared with the *causal offline reference*
(:func:`sklearn_eeg.online.forecaster.offline_causal_risk`), never with the zero-phase store's risk.

The state starts as the filter's steady state for a constant input equal to each channel's first sample
(``sosfilt_zi`` scaled by it): a DC offset then raises no start-up transient.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from sklearn_eeg.signal.preprocessing import design_filter_sos

__all__ = ["CausalFilter", "causal_filter"]

#: Samples filtered per ``sosfilt`` call: bounds the float64 workspace of a long chunk (64 s at 1024 Hz).
BLOCK_SAMPLES = 65536


class CausalFilter:
    """Forward-only band-pass + notch filter of a multichannel stream, its state kept between chunks.

    Parameters
    ----------
    sfreq : float, default=256.0
        Sampling frequency in Hz.
    l_freq : float or None, default=0.5
        High-pass edge in Hz (None: no high-pass).
    h_freq : float or None, default=45.0
        Low-pass edge in Hz (None, or at or above Nyquist: no low-pass).
    notch : float or None, default=60.0
        Line frequency in Hz (None, or at or above Nyquist: no notch).

    Attributes
    ----------
    sos : ndarray of shape (n_sections, 6)
        The second-order sections, as the window store designs them.
    zi : ndarray of shape (n_sections, n_channels, 2) or None
        Filter state after the samples seen so far; None before the first chunk.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal((2, 1000)).astype("float32")
    >>> f = CausalFilter()
    >>> parts = np.concatenate([f.filter(x[:, :7]), f.filter(x[:, 7:])], axis=1)
    >>> bool(np.array_equal(parts, causal_filter(x, 256.0)))
    True
    """

    def __init__(self, sfreq: float = 256.0, *, l_freq: float | None = 0.5, h_freq: float | None = 45.0,
                 notch: float | None = 60.0):
        self.sfreq = float(sfreq)
        self.l_freq, self.h_freq, self.notch = l_freq, h_freq, notch
        self.sos = design_filter_sos(self.sfreq, l_freq=l_freq, h_freq=h_freq, notch=notch)
        self.zi: np.ndarray | None = None

    def filter(self, chunk: np.ndarray) -> np.ndarray:
        """Filter the next samples of the stream.

        Parameters
        ----------
        chunk : ndarray of shape (n_channels, n_samples)
            The next samples in µV (read as float32, as the window store reads recordings).

        Returns
        -------
        filtered : ndarray of shape (n_channels, n_samples), float32
        """
        chunk = np.asarray(chunk, dtype=np.float32)
        if self.zi is None:
            if chunk.shape[1] == 0:
                return chunk
            steady = signal.sosfilt_zi(self.sos)  # (n_sections, 2), for a unit step
            self.zi = steady[:, None, :] * chunk[:, 0].astype(np.float64)[None, :, None]
        elif chunk.shape[0] != self.zi.shape[1]:
            raise ValueError(f"chunk has {chunk.shape[0]} channels, the stream has {self.zi.shape[1]}")
        out = np.empty(chunk.shape, dtype=np.float32)
        for start in range(0, chunk.shape[1], BLOCK_SAMPLES):
            block = chunk[:, start : start + BLOCK_SAMPLES]  # sosfilt filters a float64 copy (sos and zi are float64)
            out[:, start : start + BLOCK_SAMPLES], self.zi = signal.sosfilt(self.sos, block, axis=-1, zi=self.zi)
        return out

    def get_state(self) -> dict:
        """The filter state: ``{"zi": ndarray}`` (an empty array before the first sample)."""
        return {"zi": np.empty((0, 0, 2)) if self.zi is None else self.zi.copy()}

    def set_state(self, state: dict) -> None:
        """Restore a state written by :meth:`get_state` (of a filter with the same parameters)."""
        zi = np.asarray(state["zi"], dtype=np.float64)
        self.zi = zi.copy() if zi.size else None


def causal_filter(data: np.ndarray, sfreq: float, *, l_freq: float | None = 0.5, h_freq: float | None = 45.0,
                  notch: float | None = 60.0) -> np.ndarray:
    """Causal band-pass + notch of a whole recording in one go (the reference for chunked filtering).

    Parameters
    ----------
    data : ndarray of shape (n_channels, n_times)
        Signal in µV.
    sfreq : float
        Sampling frequency in Hz.
    l_freq, h_freq, notch : float or None
        As in :class:`CausalFilter`.

    Returns
    -------
    filtered : ndarray of shape (n_channels, n_times), float32
        Equal to the concatenated output of :meth:`CausalFilter.filter` over any chunking of ``data``.
    """
    return CausalFilter(sfreq, l_freq=l_freq, h_freq=h_freq, notch=notch).filter(data)
