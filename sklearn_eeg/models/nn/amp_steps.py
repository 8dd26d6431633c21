"""The mixed-precision training step shared by every skorch net of the package.

skorch's ``train_step`` runs the optimizer with a closure, which a ``torch.amp.GradScaler`` cannot
take. :class:`AmpTrainingSteps` computes the loss (scaled when fp16 needs it) in
``train_step_single``, then in ``_step_optimizer`` unscales, clips the gradient norm and steps each
optimizer. Mix it in before a skorch ``NeuralNet`` class; the net sets ``grad_scaler_`` (a
``GradScaler`` or None) in ``initialize`` and has a ``max_norm`` parameter (None: no clipping).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from skorch.dataset import unpack_data

__all__ = ["AmpTrainingSteps"]


class AmpTrainingSteps:
    """skorch training-step overrides for autocast + ``GradScaler`` + gradient-norm clipping."""

    grad_scaler_: torch.amp.GradScaler | None
    max_norm: float | None

    def train_step_single(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
        """Forward and backward pass of one batch; the loss is scaled when a ``GradScaler`` is in use."""
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        (loss if self.grad_scaler_ is None else self.grad_scaler_.scale(loss)).backward()
        return {"loss": loss, "y_pred": y_pred}

    def _step_optimizer(self, step_fn: Callable[[], torch.Tensor]) -> None:
        # a GradScaler cannot take a closure: compute the gradients, unscale, clip, then step
        step_fn()
        for name in self._optimizers:
            optimizer = getattr(self, name + "_")
            if self.grad_scaler_ is not None:
                self.grad_scaler_.unscale_(optimizer)
            if self.max_norm is not None:
                params = [p for group in optimizer.param_groups for p in group["params"]]
                torch.nn.utils.clip_grad_norm_(params, self.max_norm)
            if self.grad_scaler_ is not None:
                self.grad_scaler_.step(optimizer)
            else:
                optimizer.step()
        if self.grad_scaler_ is not None:
            self.grad_scaler_.update()
