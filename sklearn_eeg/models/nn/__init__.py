"""Torch modules for EEG windows: models (one per file), losses, augmentations, on-disk dataset.

The skorch training pieces (``devices``, ``targets``, ``splits``, ``callbacks``, ``checkpoints``,
``persistence``) are not imported here, so that importing this package does not load skorch; their
public names are re-exported by :mod:`sklearn_eeg.models.estimators`.
"""

from .augment import SignalAugment, SpecAugment
from .data import MemmapWindowDataset
from .fusion import FusionNet
from .losses import FocalLoss, MultiTaskLoss, focal_loss_with_logits
from .raw_cnn import RawCNN1d
from .shallow_convnet import ShallowConvNet
from .spectrogram_cnn import SpectrogramCNN

__all__ = [
    "FocalLoss",
    "FusionNet",
    "MemmapWindowDataset",
    "MultiTaskLoss",
    "RawCNN1d",
    "ShallowConvNet",
    "SignalAugment",
    "SpecAugment",
    "SpectrogramCNN",
    "focal_loss_with_logits",
]
