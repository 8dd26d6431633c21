"""Self-supervised pretext tasks for the spectrogram CNN encoder, and their losses.

Both modules wrap a :class:`~sklearn_eeg.models.nn.spectrogram_cnn.SpectrogramCNN` as ``encoder`` and
train its spectrogram normalisation, convolution blocks and embedding (its ``classifier`` layer is
not used), so that ``module.encoder.state_dict()`` can initialise a supervised
:class:`SpectrogramCNN` of the same architecture:

* :class:`MaskedSpectrogramModel` -- masked-spectrogram reconstruction: the encoder sees the window's
  normalised log-spectrogram with random time and frequency bands zeroed (:class:`SpecAugment`
  masks) and a linear decoder predicts, from the embedding, the *unmasked* spectrogram pooled to a
  coarse ``target_shape`` grid per channel; loss :class:`torch.nn.MSELoss`.
* :class:`ContrastiveModel` -- SimCLR-style contrastive learning: two random views of every window
  (the project's augmentations, :class:`SignalAugment` on the raw signal then :class:`SpecAugment`
  on the spectrogram), a projection head, and the InfoNCE / NT-Xent loss (:class:`InfoNCELoss`,
  Chen et al. 2020): each view must pick its partner among the ``2 * batch - 1`` other views.

Each ``forward`` returns a pair that the loss takes as its two arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .augment import SignalAugment, SpecAugment
from .spectrogram_cnn import SpectrogramCNN

__all__ = ["ContrastiveModel", "InfoNCELoss", "MaskedSpectrogramModel", "info_nce_loss"]


def _spectrogram(encoder: SpectrogramCNN, x: torch.Tensor) -> torch.Tensor:
    """Normalised log-spectrogram ``(batch, n_channels, n_freqs, n_frames)`` as the encoder computes it."""
    return encoder.input_norm(encoder.spectrogram(x))


def _embed_spectrogram(encoder: SpectrogramCNN, s: torch.Tensor) -> torch.Tensor:
    """Encoder embedding ``(batch, embedding_dim)`` of a normalised spectrogram."""
    return encoder.embedding(encoder.features(s))


def info_nce_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """InfoNCE (NT-Xent) loss of two views of the same batch.

    Row ``i`` of ``z1`` and row ``i`` of ``z2`` are a positive pair; every other row of either view
    is a negative. Cosine similarities are divided by ``temperature``; the loss is the mean
    cross-entropy of picking the partner over the ``2 * batch`` views.

    Parameters
    ----------
    z1, z2 : Tensor of shape (batch, dim)
        Projections of the two views.
    temperature : float, default=0.1

    Returns
    -------
    Tensor
        Scalar loss; ``log(2 * batch - 1)`` for random embeddings, 0 when every view is closer to
        its partner than to anything else by a wide margin.

    Examples
    --------
    >>> z = torch.eye(4)
    >>> float(info_nce_loss(z, z, temperature=0.01)) < 1e-6
    True
    """
    if z1.shape != z2.shape or z1.dim() != 2:
        raise ValueError(f"z1 and z2 must both have shape (batch, dim); got {tuple(z1.shape)} and {tuple(z2.shape)}")
    n = z1.shape[0]
    z = F.normalize(torch.cat((z1, z2)).float(), dim=1)
    logits = z @ z.T / temperature
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    partner = torch.cat((torch.arange(n, 2 * n), torch.arange(n))).to(z.device)
    return F.cross_entropy(logits, partner)


class InfoNCELoss(nn.Module):
    """:func:`info_nce_loss` as a criterion module.

    Parameters
    ----------
    temperature : float, default=0.1
    """

    def __init__(self, temperature: float = 0.1) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.temperature = temperature

    def forward(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        """Loss of the pair of projections ``(z1, z2)``, each of shape (batch, dim)."""
        return info_nce_loss(z1, z2, self.temperature)


class MaskedSpectrogramModel(nn.Module):
    """Masked-spectrogram reconstruction around a :class:`SpectrogramCNN` encoder.

    Parameters
    ----------
    n_channels, n_times : int
        Input shape (as :class:`SpectrogramCNN`).
    encoder : mapping, optional
        Further :class:`SpectrogramCNN` arguments (``n_filters``, ``embedding_dim``, ``n_fft``...).
    target_shape : tuple of int, default=(8, 8)
        Frequency x time grid the unmasked spectrogram is average-pooled to (per channel): the target.
    max_freq, max_time, n_masks : int, default=16, 8, 2
        Masks of the encoder's input (:class:`SpecAugment`: bands of up to ``max_freq`` bins and
        ``max_time`` frames, ``n_masks`` of each per window).
    seed : int or None, default=0
        Seed of the masks.

    Examples
    --------
    >>> model = MaskedSpectrogramModel(2, 512, encoder={"n_filters": (4, 8), "embedding_dim": 8})
    >>> prediction, target = model(torch.randn(3, 2, 512))
    >>> prediction.shape == target.shape == (3, 2 * 8 * 8)
    True
    """

    def __init__(
        self,
        n_channels: int,
        n_times: int,
        *,
        encoder: Mapping[str, Any] | None = None,
        target_shape: tuple[int, int] = (8, 8),
        max_freq: int = 16,
        max_time: int = 8,
        n_masks: int = 2,
        seed: int | None = 0,
    ) -> None:
        super().__init__()
        self.encoder = SpectrogramCNN(n_channels, n_times, **dict(encoder or {}))
        self.target_shape = tuple(target_shape)
        self.mask = SpecAugment(max_freq=max_freq, max_time=max_time, n_masks=n_masks, seed=seed)
        n_target = n_channels * self.target_shape[0] * self.target_shape[1]
        self.decoder = nn.Linear(self.encoder.embedding_dim, n_target)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Reconstruction and target of a batch ``x (batch, n_channels, n_times)``, both ``(batch, n_target)``."""
        s = _spectrogram(self.encoder, x)
        target = F.adaptive_avg_pool2d(s, self.target_shape).flatten(1).detach()
        return self.decoder(_embed_spectrogram(self.encoder, self.mask(s))), target


class ContrastiveModel(nn.Module):
    """Two augmented views per window through a :class:`SpectrogramCNN` encoder and a projection head.

    Parameters
    ----------
    n_channels, n_times : int
        Input shape (as :class:`SpectrogramCNN`).
    encoder : mapping, optional
        Further :class:`SpectrogramCNN` arguments.
    signal_augment : mapping, optional
        :class:`SignalAugment` arguments of the views; default ``noise_std=0.1, max_shift=128,
        scale_range=(0.8, 1.2), channel_dropout=0.1``.
    spec_augment : mapping, optional
        :class:`SpecAugment` arguments of the views; default ``max_freq=8, max_time=4, n_masks=1``.
    projection_dim : int, default=32
        Output size of the ``Linear -> ReLU -> Linear`` projection head (discarded after training).
    seed : int or None, default=0
        Seed of the augmentations.

    Examples
    --------
    >>> model = ContrastiveModel(2, 512, encoder={"n_filters": (4, 8), "embedding_dim": 8})
    >>> z1, z2 = model(torch.randn(3, 2, 512))
    >>> z1.shape
    torch.Size([3, 32])
    """

    def __init__(
        self,
        n_channels: int,
        n_times: int,
        *,
        encoder: Mapping[str, Any] | None = None,
        signal_augment: Mapping[str, Any] | None = None,
        spec_augment: Mapping[str, Any] | None = None,
        projection_dim: int = 32,
        seed: int | None = 0,
    ) -> None:
        super().__init__()
        self.encoder = SpectrogramCNN(n_channels, n_times, **dict(encoder or {}))
        signal = {"noise_std": 0.1, "max_shift": 128, "scale_range": (0.8, 1.2), "channel_dropout": 0.1}
        spec = {"max_freq": 8, "max_time": 4, "n_masks": 1}
        self.signal_augment = SignalAugment(**{**signal, **dict(signal_augment or {}), "seed": seed})
        self.spec_augment = SpecAugment(**{**spec, **dict(spec_augment or {}), "seed": None if seed is None else seed + 1})
        dim = self.encoder.embedding_dim
        self.projection = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(inplace=True), nn.Linear(dim, projection_dim))

    def _view(self, x: torch.Tensor) -> torch.Tensor:
        s = self.spec_augment(_spectrogram(self.encoder, self.signal_augment(x)))
        return self.projection(_embed_spectrogram(self.encoder, s))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Projections of two random views of a batch ``x (batch, n_channels, n_times)``."""
        return self._view(x), self._view(x)
