"""Signal figures: EEG snippets (raw vs preprocessed), power spectra and spectrograms."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy import signal

from ._style import new_axes, new_figure


def _check_signal(data: object, name: str) -> np.ndarray:
    arr = np.asarray(data, dtype=float)
    if arr.ndim == 1:
        arr = arr[np.newaxis]
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise ValueError(f"{name} must have shape (n_channels, n_times) with n_times >= 2, got {arr.shape}")
    return arr


def _channel_names(ch_names: Sequence[str] | None, n_channels: int) -> list[str]:
    if ch_names is None:
        return [f"ch{i}" for i in range(n_channels)]
    if len(ch_names) != n_channels:
        raise ValueError(f"got {len(ch_names)} channel names for {n_channels} channels")
    return list(ch_names)


def _scale_bar_uv(spacing: float) -> float:
    """A round scale-bar height (1, 2 or 5 × 10^k µV) not taller than the trace spacing."""
    exponent = np.floor(np.log10(spacing))
    for mantissa in (5.0, 2.0, 1.0):
        if mantissa * 10**exponent <= spacing:
            return float(mantissa * 10**exponent)
    return float(10**exponent)


def plot_eeg_snippet(
    data: np.ndarray,
    sfreq: float,
    *,
    ch_names: Sequence[str] | None = None,
    n_channels: int = 6,
    t0: float = 0.0,
    spacing: float | None = None,
    title: str = "EEG",
    ax: Axes | None = None,
) -> Figure:
    """Offset traces of the first ``n_channels`` channels with a µV scale bar.

    Parameters
    ----------
    data : ndarray of shape (n_channels, n_times)
        Signal in µV.
    sfreq : float
        Sampling frequency in Hz.
    ch_names : sequence of str, optional
        One name per channel of ``data``.
    n_channels : int, default 6
        Number of channels drawn (from the top).
    t0 : float, default 0.0
        Time of the first sample in s (x axis origin).
    spacing : float, optional
        Vertical distance between traces in µV; default 4 × the median channel standard deviation.
    title : str, default "EEG"
        Axes title.
    ax : Axes, optional
        Axes to draw in; a new figure is created when omitted.

    Returns
    -------
    matplotlib.figure.Figure
    """
    arr = _check_signal(data, "data")
    names = _channel_names(ch_names, arr.shape[0])[:n_channels]
    arr = arr[:n_channels]
    if sfreq <= 0:
        raise ValueError(f"sfreq must be positive, got {sfreq}")
    if spacing is None:
        spacing = 4.0 * float(np.median(np.std(arr, axis=1)))
        spacing = spacing if spacing > 0 else 1.0
    fig, ax = new_axes(ax, figsize=(8.0, 4.5))
    times = t0 + np.arange(arr.shape[1]) / sfreq
    offsets = spacing * np.arange(len(names))[::-1]
    centered = arr - arr.mean(axis=1, keepdims=True)
    for trace, offset in zip(centered, offsets):
        ax.plot(times, trace + offset, color="#1f3b73", linewidth=0.6)
    ax.set_yticks(offsets, names)
    ax.set_ylim(-spacing, offsets[0] + spacing)
    ax.set_xlim(times[0], times[-1])
    ax.set_xlabel("Time (s)")
    ax.set_title(title)
    bar = _scale_bar_uv(spacing)
    x_bar = times[-1] - 0.02 * (times[-1] - times[0])
    y_bar = -0.8 * spacing
    ax.plot([x_bar, x_bar], [y_bar, y_bar + bar], color="black", linewidth=2.0, clip_on=False)
    ax.text(x_bar, y_bar + bar / 2, f"{bar:g} µV ", ha="right", va="center", fontsize=9)
    return fig


def plot_raw_vs_preprocessed(
    raw: np.ndarray,
    preprocessed: np.ndarray,
    sfreq: float,
    *,
    ch_names: Sequence[str] | None = None,
    n_channels: int = 6,
    t0: float = 0.0,
    title: str = "EEG before and after preprocessing (same span)",
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """Raw and preprocessed EEG of the same time span, side by side, each panel with its own µV scale bar.

    Parameters
    ----------
    raw, preprocessed : ndarray of shape (n_channels, n_times)
        The same span before and after preprocessing, in µV.
    sfreq : float
        Sampling frequency in Hz.
    ch_names : sequence of str, optional
        Channel names.
    n_channels : int, default 6
        Channels drawn.
    t0 : float, default 0.0
        Time of the first sample in s.
    title : str
        Figure title (suptitle) above both panels; "" for none.
    axes : pair of Axes, optional
        Where to draw; a new two-panel figure is created when omitted.

    Returns
    -------
    matplotlib.figure.Figure
    """
    raw_arr = _check_signal(raw, "raw")
    pre_arr = _check_signal(preprocessed, "preprocessed")
    if raw_arr.shape != pre_arr.shape:
        raise ValueError(f"raw {raw_arr.shape} and preprocessed {pre_arr.shape} must have the same shape")
    if axes is None:
        fig, grid = new_figure(1, 2, figsize=(12.0, 4.5))
        axes = list(grid.ravel())
    if len(axes) != 2:
        raise ValueError(f"axes must hold 2 Axes, got {len(axes)}")
    for arr, ax, panel in zip((raw_arr, pre_arr), axes, ("Raw", "Preprocessed")):
        plot_eeg_snippet(arr, sfreq, ch_names=ch_names, n_channels=n_channels, t0=t0, title=panel, ax=ax)
    fig = axes[0].figure
    if title:
        fig.suptitle(title)
    return fig


def plot_psd_comparison(
    raw: np.ndarray,
    preprocessed: np.ndarray,
    sfreq: float,
    *,
    fmax: float | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Welch power spectral density (mean over channels, dB) before and after filtering.

    Parameters
    ----------
    raw, preprocessed : ndarray of shape (n_channels, n_times)
        Signals in µV.
    sfreq : float
        Sampling frequency in Hz.
    fmax : float, optional
        Upper frequency shown (default Nyquist).
    ax : Axes, optional
        Axes to draw in.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = new_axes(ax)
    for arr, name, label, color in ((raw, "raw", "Raw", "#999999"),
                                    (preprocessed, "preprocessed", "Preprocessed", "#0072B2")):
        checked = _check_signal(arr, name)
        nperseg = int(min(checked.shape[1], 2 * sfreq))
        freqs, psd = signal.welch(checked, fs=sfreq, nperseg=nperseg, axis=-1)
        power_db = 10.0 * np.log10(np.mean(psd, axis=0) + np.finfo(float).tiny)
        ax.plot(freqs, power_db, label=label, color=color, linewidth=1.2)
    ax.set_xlim(0, fmax if fmax is not None else sfreq / 2)
    ax.set_xlabel("Frequency (Hz)")
    ax.set_ylabel("Power (dB re 1 µV²/Hz)")
    ax.set_title("Power spectral density (mean over channels) before and after filtering")
    ax.legend(frameon=False)
    return fig


def plot_spectrogram(
    x: np.ndarray,
    sfreq: float,
    *,
    t0: float = 0.0,
    fmax: float = 45.0,
    nperseg: int | None = None,
    channel: str = "",
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Log-power spectrogram (time in s × frequency in Hz) of one channel, with a colorbar.

    Parameters
    ----------
    x : ndarray of shape (n_times,)
        One channel in µV.
    sfreq : float
        Sampling frequency in Hz.
    t0 : float, default 0.0
        Time of the first sample in s.
    fmax : float, default 45.0
        Upper frequency shown in Hz.
    nperseg : int, optional
        STFT segment length (default 2 s).
    channel : str, default ""
        Channel name for the title.
    title : str, optional
        Axes title; default "Spectrogram of <channel>".
    ax : Axes, optional
        Axes to draw in.

    Returns
    -------
    matplotlib.figure.Figure
    """
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"x must be one channel (1-D), got shape {arr.shape}")
    nperseg = int(nperseg or min(arr.size, 2 * sfreq))
    if arr.size < nperseg or nperseg < 4:
        raise ValueError(f"x has {arr.size} samples, too short for nperseg={nperseg}")
    freqs, times, sxx = signal.spectrogram(arr, fs=sfreq, nperseg=nperseg, noverlap=nperseg // 2)
    keep = freqs <= fmax
    power_db = 10.0 * np.log10(sxx[keep] + np.finfo(float).tiny)
    fig, ax = new_axes(ax, figsize=(8.0, 4.0))
    mesh = ax.pcolormesh(t0 + times, freqs[keep], power_db, shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="Power (dB re 1 µV²/Hz)")
    ax.set_xlabel("Time (s)")
    ax.set_ylabel("Frequency (Hz)")
    ax.set_title(title if title is not None else f"Spectrogram of {channel}" if channel else "Spectrogram")
    return fig
