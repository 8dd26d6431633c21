"""Log-magnitude short-time Fourier transform, batched over windows and channels.

``LogSpectrogram`` is a parameter-free ``torch.nn.Module`` that runs inside a model on the training
device (CPU or CUDA); :func:`log_spectrogram` applies the same transform to numpy arrays in bounded
chunks. Both compute ``log(1 + |STFT|)`` with one ``torch.stft`` call per chunk over all
``(window, channel)`` rows: nothing loops over samples in Python.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["LogSpectrogram", "log_spectrogram", "spectrogram_shape"]


def spectrogram_shape(
    n_times: int, *, n_fft: int = 256, hop_length: int = 64, n_freqs: int | None = None
) -> tuple[int, int]:
    """Return ``(n_freqs, n_frames)`` of the log-spectrogram of a signal of ``n_times`` samples.

    Parameters
    ----------
    n_times : int
        Samples per window.
    n_fft : int, default=256
        FFT length.
    hop_length : int, default=64
        Samples between frames.
    n_freqs : int or None, default=None
        Keep only the lowest ``n_freqs`` bins; None keeps all ``n_fft // 2 + 1``.

    Returns
    -------
    n_freqs, n_frames : tuple of int
        Frequency bins kept and ``1 + (n_times - n_fft) // hop_length`` (frames are not centred, so
        no frame reaches past the window).
    """
    if n_times < n_fft:
        raise ValueError(f"n_times={n_times} is shorter than n_fft={n_fft}")
    n_bins = n_fft // 2 + 1
    if n_freqs is not None and not 0 < n_freqs <= n_bins:
        raise ValueError(f"n_freqs must be in [1, {n_bins}] for n_fft={n_fft}, got {n_freqs}")
    return n_bins if n_freqs is None else n_freqs, 1 + (n_times - n_fft) // hop_length


class LogSpectrogram(nn.Module):
    """``log(1 + |STFT|)`` of multichannel windows, computed on the input's device.

    Frames are not centred (no padding), the Hann window is periodic, and the transform always runs
    in float32 (autocast is disabled inside, since half-precision FFTs are not supported for all
    sizes).

    Parameters
    ----------
    n_fft : int, default=256
        FFT length (1 s at 256 Hz: 1 Hz bins).
    hop_length : int, default=64
        Samples between frames.
    win_length : int or None, default=None
        Hann window length; ``None`` means ``n_fft``.
    n_freqs : int or None, default=None
        Keep only the lowest ``n_freqs`` frequency bins (cropped before the magnitude is taken, which
        saves time); with ``n_fft = sfreq`` bins are 1 Hz apart, so 65 keeps 0–64 Hz.

    Examples
    --------
    >>> import torch
    >>> spec = LogSpectrogram()
    >>> spec(torch.zeros(2, 18, 2560)).shape
    torch.Size([2, 18, 129, 37])
    """

    def __init__(
        self, n_fft: int = 256, hop_length: int = 64, win_length: int | None = None, n_freqs: int | None = None
    ) -> None:
        super().__init__()
        win_length = n_fft if win_length is None else win_length
        if not 0 < win_length <= n_fft:
            raise ValueError(f"win_length must be in (0, n_fft={n_fft}], got {win_length}")
        if hop_length <= 0:
            raise ValueError(f"hop_length must be positive, got {hop_length}")
        if n_freqs is not None and not 0 < n_freqs <= n_fft // 2 + 1:
            raise ValueError(f"n_freqs must be in [1, {n_fft // 2 + 1}], got {n_freqs}")
        self.n_freqs = n_freqs
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.register_buffer("window", torch.hann_window(win_length), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Transform a batch.

        Parameters
        ----------
        x : Tensor of shape (batch, n_channels, n_times)
            Signal (any float dtype; computed in float32).

        Returns
        -------
        Tensor of shape (batch, n_channels, n_freqs, n_frames)
            float32 log-magnitudes, ``n_freqs = n_fft // 2 + 1`` unless cropped.
        """
        if x.dim() != 3:
            raise ValueError(f"expected (batch, n_channels, n_times), got shape {tuple(x.shape)}")
        batch, n_channels, n_times = x.shape
        spectrogram_shape(n_times, n_fft=self.n_fft, hop_length=self.hop_length)  # checks the length
        with torch.autocast(device_type=x.device.type, enabled=False):
            stft = torch.stft(
                x.reshape(batch * n_channels, n_times).float(),
                n_fft=self.n_fft,
                hop_length=self.hop_length,
                win_length=self.win_length,
                window=self.window.to(x.device),
                center=False,
                return_complex=True,
            )
            if self.n_freqs is not None:
                stft = stft[:, : self.n_freqs]
            out = torch.log1p(stft.abs())
        return out.reshape(batch, n_channels, out.shape[-2], out.shape[-1])


def log_spectrogram(
    X: np.ndarray,
    *,
    n_fft: int = 256,
    hop_length: int = 64,
    win_length: int | None = None,
    n_freqs: int | None = None,
    chunk_size: int = 256,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """Log-spectrogram of a numpy array of windows, in chunks of ``chunk_size`` windows.

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_channels, n_times)
        Signal windows (a memmap is fine: only one chunk is in memory at a time).
    n_fft, hop_length, win_length, n_freqs : int
        See :class:`LogSpectrogram`.
    chunk_size : int, default=256
        Windows transformed per ``torch.stft`` call (bounds peak memory).
    device : str or torch.device, default="cpu"
        Where to compute.

    Returns
    -------
    S : ndarray of shape (n_windows, n_channels, n_freqs, n_frames)
        float32 ``log(1 + |STFT|)``.
    """
    X = np.asarray(X)  # a memmap stays file-backed (no copy)
    if X.ndim != 3:
        raise ValueError(f"X must be 3-D (n_windows, n_channels, n_times), got shape {X.shape}")
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    n_bins, n_frames = spectrogram_shape(X.shape[2], n_fft=n_fft, hop_length=hop_length, n_freqs=n_freqs)
    module = LogSpectrogram(n_fft=n_fft, hop_length=hop_length, win_length=win_length, n_freqs=n_freqs).to(device)
    out = np.empty((X.shape[0], X.shape[1], n_bins, n_frames), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, X.shape[0], chunk_size):
            chunk = torch.from_numpy(np.ascontiguousarray(X[start : start + chunk_size], dtype=np.float32))
            out[start : start + chunk.shape[0]] = module(chunk.to(device)).cpu().numpy()
    return out
