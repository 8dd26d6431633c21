"""skorch callbacks of the estimators: warm-up + cosine learning rate, per-epoch validation scoring."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np
from skorch import NeuralNetBinaryClassifier
from skorch.callbacks import Callback, LRScheduler
from torch.optim.lr_scheduler import LambdaLR

from .targets import dataset_labels

__all__ = ["TimelineScoring", "ValidScoring", "warmup_cosine", "warmup_cosine_scheduler"]


def warmup_cosine(epoch: int, *, warmup_epochs: int, max_epochs: int, min_factor: float = 0.01) -> float:
    """Learning-rate factor: linear warm-up over ``warmup_epochs``, then cosine decay to ``min_factor``.

    Parameters
    ----------
    epoch : int
        0-based epoch.
    warmup_epochs, max_epochs : int
    min_factor : float, default=0.01

    Returns
    -------
    float
    """
    if epoch < warmup_epochs:
        return (epoch + 1) / (warmup_epochs + 1)
    progress = min(1.0, (epoch - warmup_epochs) / max(1, max_epochs - warmup_epochs))
    return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def warmup_cosine_scheduler(warmup_epochs: int, max_epochs: int) -> LRScheduler:
    """skorch ``LRScheduler`` of a ``LambdaLR`` policy: ``lr * warmup_cosine(epoch, ...)`` at every epoch.

    skorch starts the policy at the epoch count of the history (``last_epoch``), so a fit resumed from a
    checkpoint continues the schedule where it stopped. Records ``event_lr``.

    Parameters
    ----------
    warmup_epochs, max_epochs : int
        As in :func:`warmup_cosine`.

    Returns
    -------
    skorch.callbacks.LRScheduler
    """
    return LRScheduler(
        policy=LambdaLR, lr_lambda=partial(warmup_cosine, warmup_epochs=warmup_epochs, max_epochs=max_epochs),
        step_every="epoch",
    )


def _selection_key(row: Mapping[str, Any], name: str, lower_is_better: bool, tie_breaker: str | None) -> tuple[float, ...]:
    """Lexicographic key of an epoch (higher is better; NaN or missing counts as -inf)."""
    values = [(row.get(name), -1.0 if lower_is_better else 1.0)]
    if tie_breaker is not None:
        values.append((row.get(tie_breaker), 1.0))
    return tuple(sign * v if v is not None and np.isfinite(v) else -math.inf for v, sign in values)


class ValidScoring(Callback):
    """Score the validation split each epoch with ``scoring(y_true, y_score, index)``.

    The hook for model selection by a clinical criterion: ``index`` are the rows of the validation
    windows in the ``X`` given to ``fit``, so a closure can look up their times in the window table and
    run the alarm metrics (e.g. sensitivity at FAH <= 0.5). Records ``name`` and ``name + "_best"`` in
    the history; the estimator then early-stops on and restores the best epoch of this score.

    An epoch is best when its score is strictly better than every earlier one; with ``tie_breaker``
    (the history key of a score recorded earlier in the same epoch, higher is better, e.g.
    ``"valid_auroc"``) an equal score with a strictly higher tie-breaker also wins. NaN never beats a
    number (it ranks as the worst score). The running best is read back from the history when
    training starts, so a resumed fit
    (:meth:`~sklearn_eeg.models.estimators.SpectrogramCNNClassifier.resume`) continues it.

    Parameters
    ----------
    scoring : callable
        ``scoring(y_true (n_valid,), y_score (n_valid,), index (n_valid,)) -> float``.
    name : str, default="valid_score"
    lower_is_better : bool, default=False
    tie_breaker : str or None, default=None
    """

    def __init__(
        self,
        scoring: Callable[[np.ndarray, np.ndarray, np.ndarray], float],
        name: str = "valid_score",
        lower_is_better: bool = False,
        tie_breaker: str | None = None,
    ) -> None:
        self.scoring = scoring
        self.name = name
        self.lower_is_better = lower_is_better
        self.tie_breaker = tie_breaker

    def _key(self, row: Mapping[str, Any]) -> tuple[float, ...]:
        return _selection_key(row, self.name, self.lower_is_better, self.tie_breaker)

    def on_train_begin(self, net: NeuralNetBinaryClassifier, X: Any = None, y: Any = None, **kwargs: Any) -> None:
        keys = [self._key(row) for row in net.history if self.name in row]
        self.best_key_ = max(keys, default=self._key({}))

    def _score(self, net: NeuralNetBinaryClassifier, dataset_valid: Any) -> float:
        if dataset_valid is None:
            raise ValueError(f"{type(self).__name__} needs a validation split (train_split is None)")
        y_true, index = dataset_labels(dataset_valid)
        y_score = net.predict_proba(dataset_valid)[:, 1]
        return float(self.scoring(y_true, y_score, index))

    def on_epoch_end(self, net: NeuralNetBinaryClassifier, dataset_train: Any = None, dataset_valid: Any = None, **kwargs: Any) -> None:
        net.history.record(self.name, self._score(net, dataset_valid))
        key = self._key(net.history[-1])
        is_best = key > self.best_key_
        if is_best:
            self.best_key_ = key
        net.history.record(self.name + "_best", bool(is_best))


class TimelineScoring(ValidScoring):
    """Score fixed held-out windows each epoch with ``scoring(y_score)``: the risk of every window.

    For criteria that need windows the estimator never fits on, such as the unlabeled (ictal,
    postictal, excluded) windows inside the validation tail's time span: with them, the alarm metrics
    run on the validation's full timeline (``scoring`` closes over their window table). Selection,
    ties and resuming work as in :class:`ValidScoring`.

    Parameters
    ----------
    scoring : callable
        ``scoring(y_score (n_windows,)) -> float``.
    X : array-like or mapping
        The windows, in the layout the estimator's ``predict_proba`` takes.
    name : str, default="valid_score"
    lower_is_better : bool, default=False
    tie_breaker : str or None, default=None
    """

    def __init__(
        self,
        scoring: Callable[[np.ndarray], float],
        X: Any,
        name: str = "valid_score",
        lower_is_better: bool = False,
        tie_breaker: str | None = None,
    ) -> None:
        super().__init__(scoring, name=name, lower_is_better=lower_is_better, tie_breaker=tie_breaker)
        self.X = X

    def _score(self, net: NeuralNetBinaryClassifier, dataset_valid: Any) -> float:
        return float(self.scoring(net.predict_proba(self.X)[:, 1]))
