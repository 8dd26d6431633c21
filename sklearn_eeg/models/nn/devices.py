"""Device and mixed-precision resolution of the skorch estimators, and moving batches to the device."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import torch

__all__ = ["AMP_CHOICES", "move_to_device", "resolve_amp", "resolve_device"]

AMP_CHOICES = ("auto", "bf16", "fp16")


def resolve_device(device: str | torch.device) -> str:
    """Resolve ``"auto"`` to ``"cuda"`` when a CUDA device is available, else ``"cpu"``.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` or anything ``torch.device`` accepts.

    Returns
    -------
    str
    """
    if isinstance(device, str) and device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        return str(torch.device(device))
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be 'auto' or a torch device, got {device!r}") from err


def resolve_amp(amp: str | bool | None, device: str | torch.device) -> torch.dtype | None:
    """Autocast dtype for ``amp`` on ``device``; ``None`` means full float32.

    ``"auto"`` gives bfloat16 on CUDA devices that support it, float16 on other CUDA devices and
    ``None`` on CPU. ``"bf16"``/``"fp16"`` on CPU are ignored with a warning (autocast is CUDA-only).

    Parameters
    ----------
    amp : {"auto", "bf16", "fp16"}, False or None
    device : str or torch.device
        The resolved device.

    Returns
    -------
    torch.dtype or None
    """
    if amp is False or amp is None:
        return None
    if amp not in AMP_CHOICES:
        raise ValueError(f"amp must be one of {AMP_CHOICES}, False or None; got {amp!r}")
    if torch.device(device).type != "cuda":
        if amp != "auto":
            warnings.warn(f"amp={amp!r} ignored on {device}: mixed precision is only used on CUDA", UserWarning, stacklevel=3)
        return None
    if amp == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if amp == "bf16" else torch.float16


def move_to_device(x: Any, device: str, non_blocking: bool) -> Any:
    """Move tensors (also inside dicts, lists and tuples) to ``device``."""
    if isinstance(x, torch.Tensor):
        return x.to(device, non_blocking=non_blocking)
    if isinstance(x, Mapping):
        return {k: move_to_device(v, device, non_blocking) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(move_to_device(v, device, non_blocking) for v in x)
    return x
