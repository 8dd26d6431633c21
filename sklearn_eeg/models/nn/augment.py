"""Training-only augmentations as modules: identity in ``eval()`` mode, seeded in ``train()`` mode.

Each module owns a ``torch.Generator`` created lazily on the input's device from ``seed``, so a model
built with the same seed sees the same augmentation stream. The generator is not part of the
``state_dict`` and is dropped when pickling or deep-copying (a copy restarts the stream from ``seed``);
a training checkpoint saves and restores it (``rng_state`` / ``set_rng_state``), so a resumed fit
continues the stream.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["SignalAugment", "SpecAugment"]


class _SeededAugment(nn.Module):
    """Base: lazily created per-device generator seeded with ``seed``."""

    def __init__(self, seed: int | None) -> None:
        super().__init__()
        self.seed = seed
        self._generator: torch.Generator | None = None

    def _rng(self, device: torch.device) -> torch.Generator:
        if self._generator is None or self._generator.device != device:
            self._generator = torch.Generator(device=device)
            if self.seed is None:
                self._generator.seed()
            else:
                self._generator.manual_seed(self.seed)
        return self._generator

    def rng_state(self) -> torch.Tensor | None:
        """The generator's state (None before the first augmented batch): saved with a training checkpoint."""
        return None if self._generator is None else self._generator.get_state()

    def set_rng_state(self, state: torch.Tensor, device: str | torch.device) -> None:
        """Continue the augmentation stream from ``state`` (of :meth:`rng_state`) on ``device``."""
        self._rng(torch.device(device)).set_state(state)

    def __getstate__(self) -> dict:
        state = super().__getstate__().copy()
        state["_generator"] = None
        return state


class SignalAugment(_SeededAugment):
    """Random augmentations of raw windows, applied per window in training mode only.

    Parameters
    ----------
    noise_std : float, default=0.0
        Gaussian noise, as a fraction of each channel's standard deviation in the window.
    max_shift : int, default=0
        Circular time shift drawn uniformly in ``[-max_shift, max_shift]`` samples.
    scale_range : tuple of float or None, default=None
        Amplitude scale drawn uniformly in ``(low, high)`` per window; ``None`` disables.
    channel_dropout : float, default=0.0
        Probability of zeroing each channel of each window.
    seed : int or None, default=0
        Seed of the generator; ``None`` draws a fresh seed.

    Examples
    --------
    >>> import torch
    >>> aug = SignalAugment(noise_std=0.1, max_shift=32, seed=0).eval()
    >>> x = torch.randn(2, 18, 2560)
    >>> bool(torch.equal(aug(x), x))
    True
    """

    def __init__(
        self,
        noise_std: float = 0.0,
        max_shift: int = 0,
        scale_range: tuple[float, float] | None = None,
        channel_dropout: float = 0.0,
        seed: int | None = 0,
    ) -> None:
        super().__init__(seed)
        if noise_std < 0 or max_shift < 0 or not 0.0 <= channel_dropout < 1.0:
            raise ValueError("noise_std and max_shift must be >= 0 and channel_dropout in [0, 1)")
        if scale_range is not None and not 0 < scale_range[0] <= scale_range[1]:
            raise ValueError(f"scale_range must be (low, high) with 0 < low <= high, got {scale_range}")
        self.noise_std = noise_std
        self.max_shift = max_shift
        self.scale_range = scale_range
        self.channel_dropout = channel_dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Augment a batch.

        Parameters
        ----------
        x : Tensor of shape (batch, n_channels, n_times)

        Returns
        -------
        Tensor of shape (batch, n_channels, n_times)
            ``x`` itself in eval mode.
        """
        if not self.training:
            return x
        rng = self._rng(x.device)
        batch, n_channels, n_times = x.shape
        if self.max_shift > 0:
            shifts = torch.randint(-self.max_shift, self.max_shift + 1, (batch, 1, 1), generator=rng, device=x.device)
            idx = (torch.arange(n_times, device=x.device).view(1, 1, -1) - shifts) % n_times
            x = torch.gather(x, 2, idx.expand(batch, n_channels, n_times))
        if self.scale_range is not None:
            low, high = self.scale_range
            x = x * (low + (high - low) * torch.rand((batch, 1, 1), generator=rng, device=x.device, dtype=x.dtype))
        if self.noise_std > 0:
            std = x.std(dim=2, keepdim=True)
            x = x + self.noise_std * std * torch.randn(x.shape, generator=rng, device=x.device, dtype=x.dtype)
        if self.channel_dropout > 0:
            keep = torch.rand((batch, n_channels, 1), generator=rng, device=x.device) >= self.channel_dropout
            x = x * keep.to(x.dtype)
        return x


class SpecAugment(_SeededAugment):
    """SpecAugment-style masks on spectrograms, training mode only (Park et al. 2019).

    Each window gets ``n_masks`` frequency masks of up to ``max_freq`` bins and ``n_masks`` time
    masks of up to ``max_time`` frames (the same masks for all its channels), set to zero.

    Parameters
    ----------
    max_freq : int, default=0
        Widest frequency mask in bins; 0 disables.
    max_time : int, default=0
        Widest time mask in frames; 0 disables.
    n_masks : int, default=1
        Masks of each kind per window.
    seed : int or None, default=0
        Seed of the generator; ``None`` draws a fresh seed.
    """

    def __init__(self, max_freq: int = 0, max_time: int = 0, n_masks: int = 1, seed: int | None = 0) -> None:
        super().__init__(seed)
        if max_freq < 0 or max_time < 0 or n_masks < 0:
            raise ValueError("max_freq, max_time and n_masks must be >= 0")
        self.max_freq = max_freq
        self.max_time = max_time
        self.n_masks = n_masks

    def _mask(self, batch: int, size: int, width: int, rng: torch.Generator, device: torch.device) -> torch.Tensor:
        """Boolean (batch, size): True where any of ``n_masks`` random bands covers the position."""
        widths = torch.randint(0, width + 1, (batch, self.n_masks, 1), generator=rng, device=device)
        starts = (torch.rand((batch, self.n_masks, 1), generator=rng, device=device) * (size - widths + 1)).long()
        pos = torch.arange(size, device=device).view(1, 1, -1)
        return ((pos >= starts) & (pos < starts + widths)).any(dim=1)

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        """Mask a batch.

        Parameters
        ----------
        s : Tensor of shape (batch, n_channels, n_freqs, n_frames)

        Returns
        -------
        Tensor of shape (batch, n_channels, n_freqs, n_frames)
            ``s`` itself in eval mode.
        """
        if not self.training or self.n_masks == 0:
            return s
        rng = self._rng(s.device)
        batch, _, n_freqs, n_frames = s.shape
        if self.max_freq > 0:
            masked = self._mask(batch, n_freqs, min(self.max_freq, n_freqs), rng, s.device)
            s = s.masked_fill(masked[:, None, :, None], 0.0)
        if self.max_time > 0:
            masked = self._mask(batch, n_frames, min(self.max_time, n_frames), rng, s.device)
            s = s.masked_fill(masked[:, None, None, :], 0.0)
        return s
