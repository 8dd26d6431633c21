"""Signal preprocessing: pure filter functions and 3-D transformers."""

from __future__ import annotations

import numpy as np
from scipy import signal


def design_filter_sos(
    sfreq: float,
    *,
    l_freq: float | None = 0.5,
    h_freq: float | None = 45.0,
    notch: float | None = 60.0,
    order: int = 4,
    notch_q: float = 30.0,
) -> np.ndarray:
    """Second-order sections of the band-pass (Butterworth) and notch (IIR) cascade.

    Applied forward-backward by :func:`filter_signal`, the response is zero-phase with
    squared magnitude: -6 dB at the band edges, order ``2 * order``.
    """
    nyquist = sfreq / 2.0
    sections = []
    if l_freq is not None and h_freq is not None and h_freq < nyquist:
        sections.append(signal.butter(order, [l_freq, h_freq], btype="bandpass", fs=sfreq, output="sos"))
    elif l_freq is not None:
        sections.append(signal.butter(order, l_freq, btype="highpass", fs=sfreq, output="sos"))
    elif h_freq is not None and h_freq < nyquist:
        sections.append(signal.butter(order, h_freq, btype="lowpass", fs=sfreq, output="sos"))
    if notch is not None and notch < nyquist:
        b, a = signal.iirnotch(notch, notch_q, fs=sfreq)
        sections.append(signal.tf2sos(b, a))
    if not sections:
        return np.array([[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]])
    return np.vstack(sections)


def filter_signal(
    data: np.ndarray,
    sfreq: float,
    *,
    l_freq: float | None = 0.5,
    h_freq: float | None = 45.0,
    notch: float | None = 60.0,
) -> np.ndarray:
    """Zero-phase band-pass + notch along the last axis; returns float32 of the same shape."""
    sos = design_filter_sos(sfreq, l_freq=l_freq, h_freq=h_freq, notch=notch)
    return signal.sosfiltfilt(sos, np.asarray(data, dtype=np.float32), axis=-1).astype(np.float32, copy=False)
