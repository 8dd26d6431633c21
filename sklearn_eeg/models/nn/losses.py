"""Losses for preictal-vs-interictal training: BCE and focal loss with ``pos_weight``, multi-task risk.

All losses take logits. ``pos_weight`` multiplies the positive-class term, as in
``torch.nn.BCEWithLogitsLoss``; compute it from the training labels of each fit (never from test data).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["focal_loss_with_logits", "FocalLoss", "MultiTaskLoss"]


def focal_loss_with_logits(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    gamma: float = 2.0,
    alpha: float | None = None,
    pos_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Per-sample binary focal loss (Lin et al. 2017), numerically stable from logits.

    ``FL = -w_t (1 - p_t)^gamma log(p_t)`` with ``w_t = alpha * pos_weight`` for positives and
    ``1 - alpha`` for negatives (``alpha=None`` means 1 and 1). ``gamma=0`` and ``alpha=None`` give
    ``binary_cross_entropy_with_logits(..., pos_weight=pos_weight, reduction="none")``.

    Parameters
    ----------
    logits, target : Tensor of shape (n,)
        Logits and 0/1 (or soft) targets.
    gamma : float, default=2.0
        Focusing parameter (>= 0).
    alpha : float in (0, 1) or None, default=None
        Class balance weight of the positive class.
    pos_weight : Tensor of shape () or None
        Extra weight of the positive term.

    Returns
    -------
    Tensor of shape (n,)
    """
    logits = logits.float()
    target = target.float()
    log_p = F.logsigmoid(logits)
    log_not_p = F.logsigmoid(-logits)
    pos_term = -target * log_p * torch.exp(log_not_p) ** gamma
    neg_term = -(1.0 - target) * log_not_p * torch.exp(log_p) ** gamma
    if pos_weight is not None:
        pos_term = pos_term * pos_weight
    if alpha is not None:
        pos_term = alpha * pos_term
        neg_term = (1.0 - alpha) * neg_term
    return pos_term + neg_term


class FocalLoss(nn.Module):
    """Mean binary focal loss from logits; see :func:`focal_loss_with_logits`.

    Parameters
    ----------
    gamma : float, default=2.0
    alpha : float or None, default=None
    pos_weight : float, Tensor or None, default=None
        Registered as a buffer, so it follows the module to its device.
    """

    def __init__(self, gamma: float = 2.0, alpha: float | None = None, pos_weight: float | torch.Tensor | None = None) -> None:
        super().__init__()
        _check_loss_args(gamma, alpha)
        self.gamma = gamma
        self.alpha = alpha
        self.register_buffer("pos_weight", None if pos_weight is None else torch.as_tensor(pos_weight, dtype=torch.float32))

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean loss over the batch. ``logits``, ``target``: shape (n,)."""
        return focal_loss_with_logits(logits, target, gamma=self.gamma, alpha=self.alpha, pos_weight=self.pos_weight).mean()


def _check_loss_args(gamma: float, alpha: float | None) -> None:
    if gamma < 0:
        raise ValueError(f"gamma must be >= 0, got {gamma}")
    if alpha is not None and not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1) or None, got {alpha}")


class MultiTaskLoss(nn.Module):
    """Classification loss (BCE or focal) plus ``risk_weight`` × MSE(soft risk, ``y_soft``).

    Parameters
    ----------
    loss : {"bce", "focal"}, default="bce"
        Classification term.
    pos_weight : float, Tensor or None, default=None
        Weight of the positive class (buffer; moves with the module).
    gamma : float, default=2.0
        Focal ``gamma`` (``loss="focal"`` only).
    alpha : float or None, default=None
        Focal ``alpha`` (``loss="focal"`` only).
    risk_weight : float, default=0.0
        λ of the soft-risk regression term; needs ``risk`` and ``y_soft`` in :meth:`forward`.
    """

    def __init__(
        self,
        loss: str = "bce",
        pos_weight: float | torch.Tensor | None = None,
        gamma: float = 2.0,
        alpha: float | None = None,
        risk_weight: float = 0.0,
    ) -> None:
        super().__init__()
        if loss not in ("bce", "focal"):
            raise ValueError(f"loss must be 'bce' or 'focal', got {loss!r}")
        if risk_weight < 0:
            raise ValueError(f"risk_weight must be >= 0, got {risk_weight}")
        _check_loss_args(gamma, alpha)
        self.loss = loss
        self.gamma = gamma
        self.alpha = alpha
        self.risk_weight = risk_weight
        self.register_buffer("pos_weight", None if pos_weight is None else torch.as_tensor(pos_weight, dtype=torch.float32))

    def forward(
        self,
        logits: torch.Tensor,
        target: torch.Tensor,
        *,
        risk: torch.Tensor | None = None,
        y_soft: torch.Tensor | None = None,
        sample_weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Weighted mean loss of a batch.

        Parameters
        ----------
        logits, target : Tensor of shape (n,)
            Classification logits and 0/1 labels.
        risk, y_soft : Tensor of shape (n,) or None
            Predicted soft risk in [0, 1] and its target; required when ``risk_weight > 0``.
        sample_weight : Tensor of shape (n,) or None
            Per-window weights; the loss is ``sum(w * l) / sum(w)``.

        Returns
        -------
        Tensor of shape ()
        """
        if self.loss == "bce":
            per_sample = F.binary_cross_entropy_with_logits(
                logits.float(), target.float(), pos_weight=self.pos_weight, reduction="none"
            )
        else:
            per_sample = focal_loss_with_logits(logits, target, gamma=self.gamma, alpha=self.alpha, pos_weight=self.pos_weight)
        if self.risk_weight > 0:
            if risk is None or y_soft is None:
                raise ValueError("risk_weight > 0 needs a module with a soft-risk output and y_soft targets")
            per_sample = per_sample + self.risk_weight * (risk.float() - y_soft.float()) ** 2
        if sample_weight is None:
            return per_sample.mean()
        sample_weight = sample_weight.float()
        return (per_sample * sample_weight).sum() / sample_weight.sum().clamp_min(torch.finfo(torch.float32).tiny)
