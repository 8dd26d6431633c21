"""Fusion of the spectrogram CNN with an MLP on handcrafted features; logit plus soft-risk head."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .augment import SignalAugment, SpecAugment
from .spectrogram_cnn import SpectrogramCNN

__all__ = ["FusionNet"]


class FusionNet(nn.Module):
    """Spectrogram branch + optional feature-MLP branch → shared head with two outputs.

    The head maps ``concat(cnn_embedding, feature_embedding)`` through ``Linear → ReLU → Dropout`` to
    a classification logit and a soft-risk logit; :meth:`forward` returns ``(logit, sigmoid(risk))``.

    Parameters
    ----------
    n_channels, n_times : int
        Signal shape per window.
    n_features : int, default=0
        Handcrafted features per window; 0 builds no feature branch (``features`` must then be None).
    n_filters, embedding_dim, n_fft, hop_length, n_freqs, signal_augment, spec_augment
        Passed to the :class:`SpectrogramCNN` branch.
    feature_dim : int, default=64
        Width of the feature MLP (``BatchNorm1d → Linear → ReLU → Dropout → Linear → ReLU``).
    head_dim : int, default=64
        Width of the shared head.
    dropout : float, default=0.25
        Dropout in all three parts.

    Examples
    --------
    >>> import torch
    >>> net = FusionNet(n_channels=18, n_times=2560, n_features=40).eval()
    >>> logit, risk = net(torch.randn(3, 18, 2560), torch.randn(3, 40))
    >>> logit.shape, risk.shape
    (torch.Size([3]), torch.Size([3]))
    """

    def __init__(
        self,
        n_channels: int,
        n_times: int,
        n_features: int = 0,
        *,
        n_filters: Sequence[int] = (16, 32, 64),
        embedding_dim: int = 128,
        n_fft: int = 256,
        hop_length: int = 64,
        n_freqs: int | None = 65,
        feature_dim: int = 64,
        head_dim: int = 64,
        dropout: float = 0.25,
        signal_augment: SignalAugment | None = None,
        spec_augment: SpecAugment | None = None,
    ) -> None:
        super().__init__()
        if n_features < 0:
            raise ValueError(f"n_features must be >= 0, got {n_features}")
        self.n_features = n_features
        self.cnn = SpectrogramCNN(
            n_channels,
            n_times,
            n_filters=n_filters,
            embedding_dim=embedding_dim,
            dropout=dropout,
            n_fft=n_fft,
            hop_length=hop_length,
            n_freqs=n_freqs,
            signal_augment=signal_augment,
            spec_augment=spec_augment,
        )
        self.feature_mlp = None
        joint = embedding_dim
        if n_features > 0:
            self.feature_mlp = nn.Sequential(
                nn.BatchNorm1d(n_features),
                nn.Linear(n_features, feature_dim),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout),
                nn.Linear(feature_dim, feature_dim),
                nn.ReLU(inplace=True),
            )
            joint += feature_dim
        self.head = nn.Sequential(nn.Linear(joint, head_dim), nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(head_dim, 2))

    def forward(self, signal: torch.Tensor, features: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Logit and soft risk of a batch.

        Parameters
        ----------
        signal : Tensor of shape (batch, n_channels, n_times)
        features : Tensor of shape (batch, n_features) or None
            Required iff ``n_features > 0``. Non-finite values are not allowed.

        Returns
        -------
        logit : Tensor of shape (batch,)
            Preictal logit.
        risk : Tensor of shape (batch,)
            Soft risk in [0, 1] (regressed on ``y_soft`` by :class:`~sklearn_eeg.models.nn.MultiTaskLoss`).
        """
        parts = [self.cnn.embed(signal)]
        if self.feature_mlp is not None:
            if features is None or features.dim() != 2 or features.shape[1] != self.n_features:
                got = None if features is None else tuple(features.shape)
                raise ValueError(f"expected features of shape (batch, {self.n_features}), got {got}")
            parts.append(self.feature_mlp(features.float()))
        elif features is not None:
            raise ValueError("this FusionNet was built with n_features=0 but received features")
        out = self.head(torch.cat(parts, dim=1))
        return out[:, 0], torch.sigmoid(out[:, 1])
