"""A ShallowFBCSPNet-like reference network, for throughput comparisons only.

Written from the description in Schirrmeister et al. (2017), "Deep learning with convolutional neural
networks for EEG decoding and visualization" (temporal convolution → spatial convolution across all
channels → square → mean pooling → log → dropout → linear). It is *not* braindecode's implementation
(braindecode cannot share this environment's torch build); layer sizes follow the paper at 250 Hz.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ShallowConvNet"]


class ShallowConvNet(nn.Module):
    """Shallow filter-bank-CSP-like ConvNet returning one logit per window.

    Parameters
    ----------
    n_channels : int
        EEG channels.
    n_times : int
        Samples per window.
    n_filters : int, default=40
        Temporal and spatial filters.
    filter_length : int, default=25
        Temporal kernel in samples.
    pool_length, pool_stride : int, default=75, 15
        Mean-pooling window and stride in samples.
    dropout : float, default=0.5

    Examples
    --------
    >>> import torch
    >>> ShallowConvNet(18, 2560).eval()(torch.randn(2, 18, 2560)).shape
    torch.Size([2])
    """

    def __init__(
        self,
        n_channels: int,
        n_times: int,
        *,
        n_filters: int = 40,
        filter_length: int = 25,
        pool_length: int = 75,
        pool_stride: int = 15,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if n_times < filter_length + pool_length - 1:
            raise ValueError(f"n_times={n_times} is too short for filter_length + pool_length")
        self.n_channels = n_channels
        self.n_times = n_times
        self.temporal = nn.Conv2d(1, n_filters, (1, filter_length))
        self.spatial = nn.Conv2d(n_filters, n_filters, (n_channels, 1), bias=False)
        self.norm = nn.BatchNorm2d(n_filters)
        self.pool = nn.AvgPool2d((1, pool_length), stride=(1, pool_stride))
        self.dropout = nn.Dropout(dropout)
        n_pooled = (n_times - filter_length + 1 - pool_length) // pool_stride + 1
        self.classifier = nn.Linear(n_filters * n_pooled, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logit ``(batch,)`` of ``x (batch, n_channels, n_times)``."""
        if x.dim() != 3 or x.shape[1] != self.n_channels or x.shape[2] != self.n_times:
            raise ValueError(
                f"expected input of shape (batch, {self.n_channels}, {self.n_times}), got {tuple(x.shape)}"
            )
        h = self.norm(self.spatial(self.temporal(x.float().unsqueeze(1))))
        h = torch.log(torch.clamp(self.pool(h * h), min=1e-6))
        return self.classifier(self.dropout(h).flatten(1)).squeeze(-1)
