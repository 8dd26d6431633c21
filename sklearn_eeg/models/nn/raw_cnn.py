"""1-D CNN on the raw signal, the comparison model for :class:`SpectrogramCNN`."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from .augment import SignalAugment

__all__ = ["RawCNN1d"]


class RawCNN1d(nn.Module):
    """Temporal CNN on raw windows, channels as Conv1d input channels.

    ``x (batch, n_channels, n_times)`` → ``BatchNorm1d`` without affine parameters (input scaling) →
    blocks of
    ``Conv1d(kernel_size) → BatchNorm1d → ReLU → MaxPool1d(pool)`` → global average pool →
    ``Linear → ReLU → Dropout`` (embedding) → ``Linear`` (logit).

    Parameters
    ----------
    n_channels : int
        EEG channels.
    n_times : int
        Samples per window; checked against the total pooling factor.
    n_filters : sequence of int, default=(32, 32, 64, 64)
        Output channels of each block.
    kernel_size : int, default=7
        Temporal kernel (odd; padded to keep length before pooling).
    pool : int, default=4
        Pooling factor of each block.
    embedding_dim : int, default=128
        Size of the embedding.
    dropout : float, default=0.25
        Dropout before the output layer.
    signal_augment : SignalAugment or None, default=None
        Raw-signal augmentation (training mode only); the model keeps its own copy.

    Examples
    --------
    >>> import torch
    >>> RawCNN1d(n_channels=18, n_times=2560).eval()(torch.randn(2, 18, 2560)).shape
    torch.Size([2])
    """

    def __init__(
        self,
        n_channels: int,
        n_times: int,
        *,
        n_filters: Sequence[int] = (32, 32, 64, 64),
        kernel_size: int = 7,
        pool: int = 4,
        embedding_dim: int = 128,
        dropout: float = 0.25,
        signal_augment: SignalAugment | None = None,
    ) -> None:
        super().__init__()
        if n_channels < 1 or len(n_filters) < 1 or kernel_size % 2 == 0 or pool < 1:
            raise ValueError("need n_channels >= 1, at least one block, an odd kernel_size and pool >= 1")
        if n_times < pool ** len(n_filters):
            raise ValueError(f"n_times={n_times} is too short for {len(n_filters)} blocks pooling by {pool}")
        self.n_channels = n_channels
        self.n_times = n_times
        self.embedding_dim = embedding_dim
        self.signal_augment = copy.deepcopy(signal_augment)
        self.input_norm = nn.BatchNorm1d(n_channels, affine=False)
        blocks: list[nn.Module] = []
        in_ch = n_channels
        for out_ch in n_filters:
            blocks += [
                nn.Conv1d(in_ch, out_ch, kernel_size, padding=kernel_size // 2, bias=False),
                nn.BatchNorm1d(out_ch),
                nn.ReLU(inplace=True),
                nn.MaxPool1d(pool),
            ]
            in_ch = out_ch
        self.features = nn.Sequential(*blocks, nn.AdaptiveAvgPool1d(1), nn.Flatten())
        self.embedding = nn.Sequential(nn.Linear(in_ch, embedding_dim), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.classifier = nn.Linear(embedding_dim, 1)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Embedding ``(batch, embedding_dim)`` of ``x (batch, n_channels, n_times)``."""
        if x.dim() != 3 or x.shape[1] != self.n_channels or x.shape[2] != self.n_times:
            raise ValueError(
                f"expected input of shape (batch, {self.n_channels}, {self.n_times}), got {tuple(x.shape)}"
            )
        if self.signal_augment is not None:
            x = self.signal_augment(x)
        return self.embedding(self.features(self.input_norm(x.float())))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Preictal logit of a batch: ``x (batch, n_channels, n_times)`` → ``(batch,)``."""
        return self.classifier(self.embed(x)).squeeze(-1)
