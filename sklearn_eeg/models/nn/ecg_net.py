"""1-D CNN for multi-lead ECG records: per-lead standardisation with fitted statistics, then :class:`RawCNN1d`."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .augment import SignalAugment
from .raw_cnn import RawCNN1d

__all__ = ["ECGNet"]


class ECGNet(nn.Module):
    """``(x - lead_mean) / lead_scale`` per lead, then a :class:`RawCNN1d` body (one logit per record).

    The statistics are buffers (saved in the ``state_dict``), set by the estimator from its training
    rows with :meth:`set_lead_statistics`; until then they are 0 and 1.

    Parameters
    ----------
    n_channels : int
        Leads.
    n_times : int
        Samples per record.
    n_filters : sequence of int, default=(16, 32, 32)
    kernel_size : int, default=7
    pool : int, default=4
    embedding_dim : int, default=32
    dropout : float, default=0.25
    signal_augment : SignalAugment or None, default=None
        Training-time augmentation of the standardised signal.

    Examples
    --------
    >>> import torch
    >>> ECGNet(n_channels=8, n_times=1000).eval()(torch.randn(2, 8, 1000)).shape
    torch.Size([2])
    """

    def __init__(
        self,
        n_channels: int,
        n_times: int,
        *,
        n_filters: Sequence[int] = (16, 32, 32),
        kernel_size: int = 7,
        pool: int = 4,
        embedding_dim: int = 32,
        dropout: float = 0.25,
        signal_augment: SignalAugment | None = None,
    ) -> None:
        super().__init__()
        self.register_buffer("lead_mean", torch.zeros(n_channels, 1))
        self.register_buffer("lead_scale", torch.ones(n_channels, 1))
        self.body = RawCNN1d(
            n_channels, n_times, n_filters=n_filters, kernel_size=kernel_size, pool=pool,
            embedding_dim=embedding_dim, dropout=dropout, signal_augment=signal_augment,
        )

    def set_lead_statistics(self, mean: Sequence[float], scale: Sequence[float]) -> None:
        """Set the per-lead mean and scale (each of length ``n_channels``; scales must be positive)."""
        mean_t = torch.as_tensor(mean, dtype=torch.float32).reshape(-1, 1)
        scale_t = torch.as_tensor(scale, dtype=torch.float32).reshape(-1, 1)
        if mean_t.shape != self.lead_mean.shape or scale_t.shape != self.lead_scale.shape or not (scale_t > 0).all():
            raise ValueError(f"need {self.lead_mean.shape[0]} means and as many positive scales")
        self.lead_mean.copy_(mean_t)
        self.lead_scale.copy_(scale_t)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logit of a batch: ``x (batch, n_channels, n_times)`` → ``(batch,)``."""
        return self.body((x.float() - self.lead_mean) / self.lead_scale)
