"""Spectrogram CNN: log-STFT inside the model, EEG channels as Conv2d input channels."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from sklearn_eeg.signal.spectrogram import LogSpectrogram, spectrogram_shape
from .augment import SignalAugment, SpecAugment

__all__ = ["SpectrogramCNN"]


class SpectrogramCNN(nn.Module):
    """2-D CNN on per-channel log-spectrograms, ending in an embedding and one logit.

    ``x (batch, n_channels, n_times)`` → optional :class:`SignalAugment` → :class:`LogSpectrogram`
    ``(batch, n_channels, n_freqs, n_frames)`` → ``BatchNorm2d`` over channels without affine
    parameters (input scaling; with nothing learnable before the first convolution, no gradient is
    computed for its input) →
    optional :class:`SpecAugment` → blocks of ``Conv2d(3×3) → BatchNorm2d → ReLU → MaxPool2d(2)``
    → global average pool → ``Linear → ReLU → Dropout`` (embedding) → ``Linear`` (logit).

    Parameters
    ----------
    n_channels : int
        EEG channels (Conv2d input channels).
    n_times : int
        Samples per window; used to check that the spectrogram survives the pooling stages.
    n_filters : sequence of int, default=(16, 32, 64)
        Output channels of each block (3–4 blocks is typical).
    embedding_dim : int, default=128
        Size of the embedding returned by :meth:`embed`.
    dropout : float, default=0.25
        Dropout before the output layer.
    n_fft, hop_length : int, default=256, 64
        STFT parameters (see :class:`~sklearn_eeg.signal.spectrogram.LogSpectrogram`).
    n_freqs : int or None, default=65
        Lowest frequency bins kept (1 Hz bins at n_fft = 256 and 256 Hz: 0–64 Hz, above the 45 Hz
        band-pass edge); halves the cost of the first block. None keeps all ``n_fft // 2 + 1``.
    signal_augment : SignalAugment or None, default=None
        Raw-signal augmentation (training mode only); the model keeps its own copy.
    spec_augment : SpecAugment or None, default=None
        Spectrogram masks (training mode only); the model keeps its own copy.

    Examples
    --------
    >>> import torch
    >>> net = SpectrogramCNN(n_channels=18, n_times=2560).eval()
    >>> net(torch.randn(4, 18, 2560)).shape
    torch.Size([4])
    """

    def __init__(
        self,
        n_channels: int,
        n_times: int,
        *,
        n_filters: Sequence[int] = (16, 32, 64),
        embedding_dim: int = 128,
        dropout: float = 0.25,
        n_fft: int = 256,
        hop_length: int = 64,
        n_freqs: int | None = 65,
        signal_augment: SignalAugment | None = None,
        spec_augment: SpecAugment | None = None,
    ) -> None:
        super().__init__()
        if n_channels < 1 or len(n_filters) < 1:
            raise ValueError("n_channels and len(n_filters) must be >= 1")
        n_bins, n_frames = spectrogram_shape(n_times, n_fft=n_fft, hop_length=hop_length, n_freqs=n_freqs)
        if min(n_bins, n_frames) < 2 ** len(n_filters):
            raise ValueError(
                f"spectrogram of {n_bins}x{n_frames} is too small for {len(n_filters)} pooling blocks; "
                "use fewer blocks, a smaller hop_length or longer windows"
            )
        self.n_channels = n_channels
        self.n_times = n_times
        self.embedding_dim = embedding_dim
        self.signal_augment = copy.deepcopy(signal_augment)
        self.spectrogram = LogSpectrogram(n_fft=n_fft, hop_length=hop_length, n_freqs=n_freqs)
        self.input_norm = nn.BatchNorm2d(n_channels, affine=False)
        self.spec_augment = copy.deepcopy(spec_augment)
        blocks: list[nn.Module] = []
        in_ch = n_channels
        for out_ch in n_filters:
            blocks += [
                nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(out_ch),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            in_ch = out_ch
        self.features = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.embedding = nn.Sequential(nn.Linear(in_ch, embedding_dim), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.classifier = nn.Linear(embedding_dim, 1)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Embedding of a batch.

        Parameters
        ----------
        x : Tensor of shape (batch, n_channels, n_times)

        Returns
        -------
        Tensor of shape (batch, embedding_dim)
        """
        if x.dim() != 3 or x.shape[1] != self.n_channels or x.shape[2] != self.n_times:
            raise ValueError(
                f"expected input of shape (batch, {self.n_channels}, {self.n_times}), got {tuple(x.shape)}"
            )
        if self.signal_augment is not None:
            x = self.signal_augment(x)
        s = self.input_norm(self.spectrogram(x))
        if self.spec_augment is not None:
            s = self.spec_augment(s)
        return self.embedding(self.features(s))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Preictal logit of a batch: ``x (batch, n_channels, n_times)`` → ``(batch,)``."""
        return self.classifier(self.embed(x)).squeeze(-1)
