"""skorch estimators for EEG windows: spectrogram CNN and CNN + feature fusion (CUDA + AMP, CPU fallback).

Both classifiers subclass :class:`skorch.NeuralNetBinaryClassifier`, so they are ordinary sklearn
classifiers (``fit``, ``predict_proba`` of shape (n, 2), ``predict``, ``classes_``, ``clone``,
``Pipeline``, ``cross_validate``). What they add:

* the module's input shape (``n_channels``, ``n_times``, ``n_features``) is read from ``X`` at fit time
  and stored as fitted attributes, not written into the parameters;
* ``device="auto"`` (CUDA when available) and ``amp="auto"`` (bf16 autocast where supported, else fp16
  with a ``GradScaler``; autocast is never used on CPU);
* AdamW, gradient clipping, linear warm-up then cosine learning rate (per epoch);
* a validation tail taken from the *training* data only (:class:`ChronologicalSplit`, per group when
  ``groups`` is passed to ``fit``), early stopping on it and the best epoch restored at the end from an
  in-memory copy (no files, so parallel CV cannot collide: skorch issue #848); an optional
  ``valid_scoring(y_true, y_score, index)`` hook that picks the best epoch instead (e.g. sensitivity
  at FAH <= 0.5 with the alarm metrics);
* optional checkpoint files in a unique directory per fit (:class:`FitCheckpoint`): the best weights
  by every validation score in the history (loss, AUROC, a :class:`TimelineScoring` criterion...),
  chosen afterwards with ``restore_checkpoint``, and the last epoch's state, from which ``resume``
  continues an interrupted fit (every ``.pt`` file loads with ``torch.load(weights_only=True)``);
* ``pos_weight`` from the labels of each fit, BCE or focal loss, a soft-risk multi-task term,
  per-window sample weights and an optional class-balanced sampler;
* ``random_state`` seeds weights, shuffling and dropout inside ``fit`` without touching the caller's
  global torch RNG.

Targets beyond the label travel as extra columns of the training target: ``fit(X, y, y_soft=...,
sample_weight=...)`` packs them into an ``(n, 3)`` float32 array ``[label, y_soft, weight]`` that only
the loss reads (see :func:`pack_targets`); a :class:`~sklearn_eeg.nn.data.MemmapWindowDataset` may carry
such an array as its ``y``.
"""

from __future__ import annotations

import json
import math
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from skorch import NeuralNetBinaryClassifier
from skorch.callbacks import Callback, EarlyStopping, EpochTimer, PassthroughScoring, PrintLog
from skorch.dataset import ValidSplit, unpack_data
from skorch.utils import is_dataset, to_tensor
from torch.utils.data import Dataset, Subset, WeightedRandomSampler

from .nn.fusion import FusionNet
from .nn.losses import MultiTaskLoss
from .nn.spectrogram_cnn import SpectrogramCNN

__all__ = [
    "ChronologicalSplit",
    "FitCheckpoint",
    "FusionClassifier",
    "SpectrogramCNNClassifier",
    "TimelineScoring",
    "ValidScoring",
    "WarmupCosineLR",
    "checkpoint_index",
    "load_run",
    "onset_sample_weight",
    "pack_targets",
    "resolve_amp",
    "resolve_device",
    "save_run",
    "warmup_cosine",
]

AMP_CHOICES = ("auto", "bf16", "fp16")


# ----------------------------------------------------------------------------------------------
# device / precision resolution


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


def _move(x: Any, device: str, non_blocking: bool) -> Any:
    """Move tensors (also inside dicts, lists and tuples) to ``device``."""
    if isinstance(x, torch.Tensor):
        return x.to(device, non_blocking=non_blocking)
    if isinstance(x, Mapping):
        return {k: _move(v, device, non_blocking) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_move(v, device, non_blocking) for v in x)
    return x


# ----------------------------------------------------------------------------------------------
# targets, weights, splits


def pack_targets(
    y: np.ndarray, y_soft: np.ndarray | None = None, sample_weight: np.ndarray | None = None
) -> np.ndarray:
    """Stack the label, the soft-risk target and the sample weight into one training target.

    Parameters
    ----------
    y : array-like of shape (n_windows,)
        0/1 labels (1 = preictal).
    y_soft : array-like of shape (n_windows,), default=None
        Soft risk in [0, 1] (the window table's ``y_soft``); zeros when None.
    sample_weight : array-like of shape (n_windows,), default=None
        Non-negative per-window weights; ones when None.

    Returns
    -------
    ndarray of shape (n_windows, 3)
        float32 columns ``[label, y_soft, weight]``.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"y must contain only 0 and 1, got values {np.unique(y)[:10]}")
    cols = [y.astype(np.float32)]
    for name, arr, default in (("y_soft", y_soft, 0.0), ("sample_weight", sample_weight, 1.0)):
        if arr is None:
            cols.append(np.full(len(y), default, dtype=np.float32))
            continue
        arr = np.asarray(arr, dtype=np.float32)
        if arr.shape != y.shape:
            raise ValueError(f"{name} must have shape {y.shape}, got {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or inf")
        if name == "y_soft" and (arr.min() < 0 or arr.max() > 1):
            raise ValueError("y_soft must lie in [0, 1]")
        if name == "sample_weight" and (arr.min() < 0 or arr.sum() <= 0):
            raise ValueError("sample_weight must be non-negative with a positive sum")
        cols.append(arr)
    return np.stack(cols, axis=1)


def onset_sample_weight(y: np.ndarray, tte: np.ndarray, *, sop: float = 600.0, max_weight: float = 2.0) -> np.ndarray:
    """Weights that grow linearly towards seizure onset inside the preictal period.

    Interictal windows get 1; a preictal window with time to onset ``tte`` gets
    ``1 + (max_weight - 1) * (1 - clip(tte / sop, 0, 1))`` (``max_weight`` right before onset, about 1 at
    the start of the SOP). Pass the result as ``fit(..., sample_weight=...)``.

    Parameters
    ----------
    y : array-like of shape (n_windows,)
        0/1 labels.
    tte : array-like of shape (n_windows,)
        Seconds to the next onset (the window table's ``tte``; NaN for interictal is fine).
    sop : float, default=600.0
        Seizure occurrence period in seconds.
    max_weight : float, default=2.0
        Weight at onset (>= 1).

    Returns
    -------
    ndarray of shape (n_windows,)
        float32 weights.
    """
    if sop <= 0 or max_weight < 1:
        raise ValueError("need sop > 0 and max_weight >= 1")
    y = np.asarray(y)
    closeness = 1.0 - np.clip(np.nan_to_num(np.asarray(tte, dtype=float), nan=sop) / sop, 0.0, 1.0)
    return np.where(y == 1, 1.0 + (max_weight - 1.0) * closeness, 1.0).astype(np.float32)


class ChronologicalSplit:
    """One train/validation split holding out the last ``valid_fraction`` of the rows of each group.

    Rows are assumed to be in time order within each group (as ``load_windows`` returns them), so the
    validation windows are later than every training window of their group: no future data leaks into
    training and, with ``groups`` = subject, every training subject is represented in validation. The
    split boundary is not padded, so the first validation window may overlap the last training window
    by the window stride.

    Parameters
    ----------
    valid_fraction : float, default=0.2
        Fraction in (0, 1) held out per group (at least one row per group of two or more rows).

    Examples
    --------
    >>> train, valid = next(ChronologicalSplit(0.25).split(np.arange(8)))
    >>> valid.tolist()
    [6, 7]
    """

    def __init__(self, valid_fraction: float = 0.2) -> None:
        self.valid_fraction = valid_fraction

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Always 1."""
        return 1

    def split(self, X: Any, y: Any = None, groups: np.ndarray | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield one ``(train_index, valid_index)`` pair.

        Parameters
        ----------
        X : array-like of length n_samples
        y : ignored
        groups : array-like of shape (n_samples,), default=None
            Group of each row (e.g. subject); None treats all rows as one group.
        """
        if not 0.0 < self.valid_fraction < 1.0:
            raise ValueError(f"valid_fraction must be in (0, 1), got {self.valid_fraction}")
        n = len(X)
        groups = np.zeros(n) if groups is None else np.asarray(groups)
        if len(groups) != n:
            raise ValueError(f"groups has {len(groups)} rows, X has {n}")
        is_valid = np.zeros(n, dtype=bool)
        for g in np.unique(groups):
            rows = np.flatnonzero(groups == g)
            n_valid = int(round(self.valid_fraction * len(rows)))
            n_valid = min(max(n_valid, 1), len(rows) - 1) if len(rows) > 1 else 0
            if n_valid:
                is_valid[rows[-n_valid:]] = True
        if not is_valid.any():
            raise ValueError("too few rows to hold out a validation split")
        yield np.flatnonzero(~is_valid), np.flatnonzero(is_valid)

    def __repr__(self) -> str:
        return f"ChronologicalSplit(valid_fraction={self.valid_fraction})"


def _subset_rows(dataset: Dataset) -> tuple[Dataset, np.ndarray]:
    """Unwrap nested ``Subset``s: the base dataset and the rows of it that ``dataset`` holds."""
    rows = np.arange(len(dataset))
    while isinstance(dataset, Subset):
        rows = np.asarray(dataset.indices)[rows]
        dataset = dataset.dataset
    return dataset, rows


def _dataset_labels(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """0/1 labels of a (possibly subset) dataset and the row numbers in the fitted data."""
    base, rows = _subset_rows(dataset)
    y = getattr(base, "y", None)
    if y is None:
        raise ValueError(f"{type(base).__name__} exposes no `y`: labels are needed for pos_weight, sampling and scoring")
    y = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)
    y = y[rows]
    return (y if y.ndim == 1 else y[:, 0]).astype(np.int64), rows


# ----------------------------------------------------------------------------------------------
# callbacks


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


class WarmupCosineLR(Callback):
    """Set the learning rate at the start of every epoch to ``lr * warmup_cosine(epoch, ...)``.

    Stateless (the factor depends on the epoch number only, read from the history), so a fit resumed
    from a checkpoint continues the schedule exactly where it stopped. Records ``event_lr``.

    Parameters
    ----------
    warmup_epochs, max_epochs : int
        As in :func:`warmup_cosine`.
    """

    def __init__(self, warmup_epochs: int, max_epochs: int) -> None:
        self.warmup_epochs = warmup_epochs
        self.max_epochs = max_epochs

    def on_epoch_begin(self, net: NeuralNetBinaryClassifier, **kwargs: Any) -> None:
        epoch = len(net.history) - 1  # the row of this epoch is already open
        lr = net.lr * warmup_cosine(epoch, warmup_epochs=self.warmup_epochs, max_epochs=self.max_epochs)
        for name in net._optimizers:
            for group in getattr(net, name + "_").param_groups:
                group["lr"] = lr
        net.history.record("event_lr", lr)


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
    training starts, so a resumed fit (:meth:`SpectrogramCNNClassifier.resume`) continues it.

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
        y_true, index = _dataset_labels(dataset_valid)
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


class FitCheckpoint(Callback):
    """Per-fit checkpoint folder: the best weights by each validation criterion, and the last state.

    Each fit writes into its own new directory under ``root`` (``tempfile.mkdtemp``), so parallel
    folds and trials never overwrite each other (skorch issue #848); a resumed fit keeps writing into
    the directory it resumes from. The directory is stored on the net as ``checkpoint_dir_``. Files:

    * ``best_<key>.pt`` -- the module ``state_dict`` of the latest epoch whose history flag
      ``<key>_best`` was True, for every monitored key (by default every ``valid_*`` key with a flag:
      ``valid_loss``, ``valid_auroc``, ``valid_sens_fah0.5``...);
    * ``last_module.pt``, ``last_optimizer.pt``, ``last_history.json``, ``last_state.pt`` (torch RNG
      states and the fp16 gradient scaler) -- written at the end of every epoch, so an interrupted fit
      loses at most the epoch in progress (see :meth:`SpectrogramCNNClassifier.resume`);
    * ``checkpoints.json`` -- for each checkpoint its file, epoch and score.

    Every ``.pt`` file loads with ``torch.load(path, weights_only=True)``. The callback should run
    after every scoring callback of the epoch (the estimators place it there).

    Parameters
    ----------
    root : str or Path
        Parent directory (created if missing).
    monitors : sequence of str or None, default=None
        History keys to keep a best checkpoint for; None = every ``valid_*`` key with a ``_best`` flag.
    """

    def __init__(self, root: str | Path, monitors: tuple[str, ...] | None = None) -> None:
        self.root = root
        self.monitors = monitors

    def on_train_begin(self, net: NeuralNetBinaryClassifier, X: Any = None, y: Any = None, **kwargs: Any) -> None:
        if len(net.history) and getattr(net, "checkpoint_dir_", None) is not None:
            return  # resumed fit: continue in the same folder
        Path(self.root).mkdir(parents=True, exist_ok=True)
        net.checkpoint_dir_ = Path(tempfile.mkdtemp(prefix="fit-", dir=self.root))

    def _monitors(self, row: Mapping[str, Any]) -> list[str]:
        if self.monitors is not None:
            return list(self.monitors)
        return [k[: -len("_best")] for k in row if k.startswith("valid_") and k.endswith("_best")]

    def on_epoch_end(self, net: NeuralNetBinaryClassifier, **kwargs: Any) -> None:
        directory = Path(net.checkpoint_dir_)
        row = net.history[-1]
        state = {k: v.detach().cpu() for k, v in net.module_.state_dict().items()}
        for key in self._monitors(row):
            if row.get(key + "_best", False):
                torch.save(state, directory / f"best_{key}.pt")
        net.save_params(
            f_params=directory / "last_module.pt",
            f_optimizer=directory / "last_optimizer.pt",
            f_history=directory / "last_history.json",
        )
        torch.save(_train_state(net), directory / "last_state.pt")
        (directory / "checkpoints.json").write_text(json.dumps(checkpoint_index(net.history, self._monitors(row)), indent=2))


def checkpoint_index(history: Any, monitors: list[str]) -> dict[str, dict[str, Any]]:
    """Epoch and score of each checkpoint of a :class:`FitCheckpoint` folder, read from the history.

    Parameters
    ----------
    history : skorch.History or list of dict
        Per-epoch rows with ``epoch``, the monitored scores and their ``_best`` flags.
    monitors : list of str
        Monitored history keys.

    Returns
    -------
    dict
        ``{key: {"file": "best_<key>.pt", "epoch": int, "score": float}}`` for every monitor with a
        best epoch, plus ``"last": {"file": "last_module.pt", "epoch": int}``.
    """
    index: dict[str, dict[str, Any]] = {}
    for key in monitors:
        best = [row for row in history if row.get(key + "_best", False)]
        if best:
            index[key] = {"file": f"best_{key}.pt", "epoch": int(best[-1]["epoch"]), "score": _json_safe(best[-1][key])}
    if len(history):
        index["last"] = {"file": "last_module.pt", "epoch": int(history[-1]["epoch"])}
    return index


def _train_state(net: NeuralNetBinaryClassifier) -> dict[str, Any]:
    """RNG and gradient-scaler state of a fit (tensors and numbers only: ``weights_only``-loadable)."""
    state: dict[str, Any] = {"torch_rng": torch.get_rng_state()}
    device = torch.device(net.device)
    if device.type == "cuda":
        state["cuda_rng"] = torch.cuda.get_rng_state(device)
    if net.grad_scaler_ is not None:
        state["grad_scaler"] = net.grad_scaler_.state_dict()
    return state


class _ResumableEarlyStopping(EarlyStopping):
    """skorch's ``EarlyStopping`` whose patience count continues from the history on a resumed fit.

    An improvement is a strict one (``threshold=0``), the same rule as the ``<monitor>_best`` flags, so
    the best epoch it restores is the ``best_<monitor>.pt`` checkpoint; ``resume_weights_`` (set by
    :meth:`SpectrogramCNNClassifier.resume`) holds those weights when the best epoch precedes the
    resumed part.
    """

    def on_train_begin(self, net: NeuralNetBinaryClassifier, **kwargs: Any) -> None:
        super().on_train_begin(net, **kwargs)
        for row in net.history:
            score = row.get(self.monitor)
            if score is not None and self._is_score_improved(score):
                self.misses_ = 0
                self.dynamic_threshold_ = self._calc_new_threshold(score)
                self.best_epoch_ = row["epoch"]
            else:
                self.misses_ += 1
        self.best_model_weights_ = getattr(self, "resume_weights_", None) if len(net.history) else None

    def on_train_end(self, net: NeuralNetBinaryClassifier, **kwargs: Any) -> None:
        super().on_train_end(net, **kwargs)
        self.resume_weights_ = None

    def stopped(self) -> bool:
        """Whether the patience was used up by the epochs in the history (after ``on_train_begin``)."""
        return self.misses_ >= self.patience


def _sigmoid_proba(logits: torch.Tensor) -> torch.Tensor:
    """(n,) logits → (n, 2) probabilities [P(interictal), P(preictal)]."""
    p = torch.sigmoid(logits)
    return torch.stack((1.0 - p, p), dim=1)


# ----------------------------------------------------------------------------------------------
# estimators


class _EEGNetClassifier(NeuralNetBinaryClassifier):
    """Shared machinery of the EEG classifiers; see the module docstring and the subclasses."""

    def __init__(
        self,
        module: type[torch.nn.Module],
        *,
        criterion: type[torch.nn.Module] = MultiTaskLoss,
        optimizer: type[torch.optim.Optimizer] = torch.optim.AdamW,
        lr: float = 1e-3,
        max_epochs: int = 30,
        batch_size: int = 64,
        train_split: Callable | None = ValidSplit(ChronologicalSplit(0.2)),
        device: str = "auto",
        amp: str | bool = "auto",
        loss: str = "bce",
        focal_gamma: float = 2.0,
        focal_alpha: float | None = None,
        pos_weight: float | str | None = "auto",
        risk_weight: float = 0.0,
        max_norm: float | None = 1.0,
        warmup_epochs: int = 1,
        patience: int | None = 5,
        valid_scoring: Callable[[np.ndarray, np.ndarray, np.ndarray], float] | None = None,
        checkpoint_dir: str | Path | None = None,
        balanced_sampler: bool = False,
        num_workers: int = 0,
        random_state: int | None = None,
        verbose: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            device=device,
            verbose=verbose,
            **kwargs,
        )
        self.amp = amp
        self.loss = loss
        self.focal_gamma = focal_gamma
        self.focal_alpha = focal_alpha
        self.pos_weight = pos_weight
        self.risk_weight = risk_weight
        self.max_norm = max_norm
        self.warmup_epochs = warmup_epochs
        self.patience = patience
        self.valid_scoring = valid_scoring
        self.checkpoint_dir = checkpoint_dir
        self.balanced_sampler = balanced_sampler
        self.num_workers = num_workers
        self.random_state = random_state

    # --- device: the parameter keeps "auto"; skorch internals read the resolved device --------

    @property
    def device(self) -> str:
        return resolve_device(self.__dict__["device"])

    @device.setter
    def device(self, value: str | torch.device) -> None:
        self.__dict__["device"] = value

    def get_params(self, deep: bool = True, **kwargs: Any) -> dict[str, Any]:
        params = super().get_params(deep=deep, **kwargs)
        params["device"] = self.__dict__["device"]
        return params

    def __setstate__(self, state: dict[str, Any]) -> None:
        raw = state["device"]
        state["device"] = resolve_device(raw)
        super().__setstate__(state)
        if raw == "auto":
            self.__dict__["device"] = raw

    def __sklearn_tags__(self) -> Any:
        # 3-D windows (sklearn's common checks do not apply; see tests/test_estimators.py)
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        return tags

    # --- callbacks -----------------------------------------------------------------------------

    @property
    def _default_callbacks(self) -> list[tuple[str, Callback | None]]:
        monitor, lower = self._early_stopping_monitor()
        callbacks: list[tuple[str, Callback | None]] = [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
        ]
        if self.valid_scoring is not None:
            callbacks.append(("valid_score", ValidScoring(self.valid_scoring)))
        callbacks.append(("lr_scheduler", WarmupCosineLR(self.warmup_epochs, self.max_epochs)))
        if self.train_split is not None:
            if self.checkpoint_dir is not None:
                callbacks.append(("checkpoint", FitCheckpoint(self.checkpoint_dir)))
            patience = self.max_epochs + 1 if self.patience is None else self.patience
            callbacks.append(
                (
                    "early_stopping",
                    _ResumableEarlyStopping(
                        monitor=monitor, patience=patience, lower_is_better=lower, load_best=True,
                        threshold=0.0, threshold_mode="abs",
                    ),
                )
            )
        callbacks.append(("print_log", PrintLog()))
        return callbacks

    def _early_stopping_monitor(self) -> tuple[str, bool]:
        return ("valid_loss", True) if self.valid_scoring is None else ("valid_score", False)

    def _yield_callbacks(self) -> Iterator[tuple[str, Callback, bool]]:
        # checkpoint and early stopping after the user's callbacks (e.g. a ValidScoring): they read
        # every score of the epoch, and an early stop never skips the epoch's checkpoint
        items = list(super()._yield_callbacks())
        last = [item for item in items if item[0] in ("checkpoint", "early_stopping")]
        others = [item for item in items if item[0] not in ("checkpoint", "early_stopping")]
        n_logs = sum(isinstance(item[1], PrintLog) or item[1] is PrintLog for item in others)
        cut = len(others) - n_logs
        yield from others[:cut] + last + others[cut:]

    # --- validation and set-up -------------------------------------------------------------------

    def _check_params(self) -> None:
        if self.loss not in ("bce", "focal"):
            raise ValueError(f"loss must be 'bce' or 'focal', got {self.loss!r}")
        if not (self.amp is False or self.amp is None or self.amp in AMP_CHOICES):
            raise ValueError(f"amp must be one of {AMP_CHOICES} or False, got {self.amp!r}")
        if self.max_norm is not None and self.max_norm <= 0:
            raise ValueError(f"max_norm must be positive or None, got {self.max_norm}")
        if self.warmup_epochs < 0 or self.max_epochs < 1:
            raise ValueError("need warmup_epochs >= 0 and max_epochs >= 1")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"patience must be >= 1 or None, got {self.patience}")
        if self.risk_weight < 0:
            raise ValueError(f"risk_weight must be >= 0, got {self.risk_weight}")
        if self.valid_scoring is not None and self.train_split is None:
            raise ValueError("valid_scoring needs a validation split; train_split is None")
        if not (self.pos_weight is None or self.pos_weight == "auto" or (isinstance(self.pos_weight, (int, float)) and self.pos_weight > 0)):
            raise ValueError(f"pos_weight must be 'auto', a positive number or None, got {self.pos_weight!r}")

    def _set_signal_args(self, X: Any) -> None:
        """Read the module's input shape from ``X`` into fitted attributes (subclasses)."""
        raise NotImplementedError

    def _signal_args(self) -> dict[str, int]:
        """Module keyword arguments inferred at fit time (subclasses)."""
        raise NotImplementedError

    def initialize(self) -> "_EEGNetClassifier":
        """Resolve device and precision, then build module, criterion, optimizer and callbacks."""
        self.amp_dtype_ = resolve_amp(self.amp, self.device)
        self.grad_scaler_ = torch.amp.GradScaler("cuda") if self.amp_dtype_ == torch.float16 else None
        return super().initialize()

    def get_params_for(self, prefix: str) -> dict[str, Any]:
        params = super().get_params_for(prefix)
        if prefix == "module":
            try:
                inferred = self._signal_args()
            except AttributeError as err:
                raise AttributeError("the input shape is unknown: call fit (or load_run) first") from err
            for key, value in inferred.items():
                params.setdefault(key, value)
        elif prefix == "criterion":
            params.setdefault("loss", self.loss)
            params.setdefault("gamma", self.focal_gamma)
            params.setdefault("alpha", self.focal_alpha)
            params.setdefault("risk_weight", self.risk_weight)
            params.setdefault("pos_weight", getattr(self, "pos_weight_", None))
        return params

    def check_data(self, X: Any, y: Any = None) -> None:
        """Accept the packed ``(n, 3)`` training target (see :func:`pack_targets`)."""

    # --- fit -----------------------------------------------------------------------------------

    def fit(
        self,
        X: Any,
        y: np.ndarray | None = None,
        *,
        y_soft: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
        groups: np.ndarray | None = None,
    ) -> "_EEGNetClassifier":
        """Train from scratch.

        Parameters
        ----------
        X : see the subclass
            Training windows, or a ``torch.utils.data.Dataset`` returning ``(x, target)`` whose
            ``y`` attribute holds the labels (``(n,)``) or packed targets (``(n, 3)``).
        y : array-like of shape (n_windows,)
            0/1 labels; None when ``X`` is a Dataset.
        y_soft : array-like of shape (n_windows,), default=None
            Soft-risk targets in [0, 1]; required when ``risk_weight > 0``.
        sample_weight : array-like of shape (n_windows,), default=None
            Per-window loss weights (e.g. :func:`onset_sample_weight`).
        groups : array-like of shape (n_windows,), default=None
            Group of each window (subject), used by the default :class:`ChronologicalSplit` to take
            the validation tail per group.

        Returns
        -------
        self
        """
        target = self._prepare_fit(X, y, y_soft, sample_weight, groups)
        try:
            with torch.random.fork_rng(devices=self._rng_devices(), enabled=self.random_state is not None):
                if self.random_state is not None:
                    torch.manual_seed(self.random_state)
                super().fit(X, target)
        finally:
            self._fit_groups_ = None
        return self

    def resume(
        self,
        X: Any,
        y: np.ndarray | None = None,
        *,
        checkpoint: str | Path | None = None,
        y_soft: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
        groups: np.ndarray | None = None,
    ) -> "_EEGNetClassifier":
        """Continue an interrupted :meth:`fit` from the ``last`` checkpoint for the remaining epochs.

        Needs ``checkpoint_dir`` (the fit's :class:`FitCheckpoint` folder) and the same parameters
        and data as the interrupted fit. Module, optimizer, history, torch RNG states (and the fp16
        gradient scaler) come back from the end of the last finished epoch; the learning-rate
        schedule, the running best scores and the early-stopping patience continue from the history;
        new checkpoints go to the same folder. A seeded fit resumed this way ends with the same
        weights as an uninterrupted one on the same device. A fit that had already finished (all
        epochs, or stopped early) is not trained further; its final weights are restored.

        Parameters
        ----------
        X, y, y_soft, sample_weight, groups
            As in :meth:`fit`.
        checkpoint : str or Path, default=None
            The fit's checkpoint folder (``checkpoint_dir_`` of the interrupted estimator, a
            ``fit-*`` folder under ``checkpoint_dir``); None = this estimator's ``checkpoint_dir_``.

        Returns
        -------
        self
        """
        directory = Path(checkpoint if checkpoint is not None else getattr(self, "checkpoint_dir_", ""))
        if not (directory / "last_module.pt").is_file():
            raise FileNotFoundError(f"no 'last' checkpoint in {str(directory)!r}: nothing to resume")
        if self.train_split is None or self.checkpoint_dir is None:
            raise ValueError("resume needs a validation split and checkpoint_dir (where the last checkpoint is written)")
        target = self._prepare_fit(X, y, y_soft, sample_weight, groups)
        try:
            with torch.random.fork_rng(devices=self._rng_devices()):
                self.initialize()
                self.checkpoint_dir_ = directory
                self.load_params(
                    f_params=directory / "last_module.pt",
                    f_optimizer=directory / "last_optimizer.pt",
                    f_history=directory / "last_history.json",
                )
                remaining = self._restore_training_state(directory)
                self.partial_fit(X, target, epochs=remaining)
        finally:
            self._fit_groups_ = None
        return self

    def _prepare_fit(
        self, X: Any, y: np.ndarray | None, y_soft: np.ndarray | None, sample_weight: np.ndarray | None, groups: np.ndarray | None
    ) -> np.ndarray | None:
        """Validate, set the fitted input shape, ``pos_weight_`` and groups; return the packed target."""
        self._check_params()
        if is_dataset(X):
            if y is not None or y_soft is not None or sample_weight is not None:
                raise ValueError("with a Dataset X, put labels (and packed targets) in the dataset, not in fit")
            labels, _ = _dataset_labels(X)
            target = None
        else:
            if y is None:
                raise ValueError("y is required unless X is a Dataset")
            target = pack_targets(y, y_soft, sample_weight)
            labels = target[:, 0]
            if y_soft is None and self.risk_weight > 0:
                raise ValueError("risk_weight > 0 needs y_soft")
        n_pos = int((labels == 1).sum())
        n_neg = int((labels == 0).sum())
        if n_pos == 0 or n_neg == 0:
            raise ValueError(f"both classes are needed to fit; got {n_neg} negatives and {n_pos} positives")
        self._set_signal_args(X)
        self.pos_weight_ = n_neg / n_pos if self.pos_weight == "auto" else self.pos_weight
        self._fit_groups_ = None if groups is None else np.asarray(groups)
        return target

    @property
    def checkpoint_path_(self) -> Path:
        """The ``best_<monitor>.pt`` file of the early-stopping monitor in the last fit's checkpoint folder."""
        return Path(self.checkpoint_dir_) / f"best_{self._early_stopping_monitor()[0]}.pt"

    def _rng_devices(self) -> list[int]:
        device = torch.device(self.device)
        return [device.index or 0] if device.type == "cuda" else []

    def _restore_training_state(self, directory: Path) -> int:
        """After loading the last checkpoint: RNG, scaler, best scores, patience; the epochs left."""
        state = torch.load(directory / "last_state.pt", weights_only=True)
        torch.set_rng_state(state["torch_rng"])
        if "cuda_rng" in state and torch.device(self.device).type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        if "grad_scaler" in state and self.grad_scaler_ is not None:
            self.grad_scaler_.load_state_dict(state["grad_scaler"])
        for _, cb in self.callbacks_:
            if isinstance(cb, PassthroughScoring):  # best so far, not reset to +-inf
                scores = [row[cb.name] for row in self.history if cb.name in row]
                if scores:
                    cb.best_score_ = min(scores) if cb.lower_is_better else max(scores)
        remaining = max(0, self.max_epochs - len(self.history))
        es = dict(self.callbacks_).get("early_stopping")
        if isinstance(es, _ResumableEarlyStopping):
            es.on_train_begin(self)  # replays the history
            best_file = directory / f"best_{es.monitor}.pt"
            if best_file.is_file():
                es.resume_weights_ = torch.load(best_file, weights_only=True, map_location=self.device)
            if es.stopped():
                remaining = 0
        return remaining

    def restore_checkpoint(self, key: str) -> "_EEGNetClassifier":
        """Load the weights of one checkpoint of the last fit (see :class:`FitCheckpoint`).

        Parameters
        ----------
        key : str
            A monitored history key (``"valid_loss"``, ``"valid_auroc"``, ``"valid_sens_fah0.5"``...)
            for its best epoch, or ``"last"`` for the last finished epoch.

        Returns
        -------
        self
            With ``module_`` holding those weights and ``restored_checkpoint_`` = ``key``.
        """
        directory = getattr(self, "checkpoint_dir_", None)
        if directory is None:
            raise ValueError("no checkpoint folder: fit with checkpoint_dir set first")
        path = Path(directory) / ("last_module.pt" if key == "last" else f"best_{key}.pt")
        if not path.is_file():
            available = sorted(p.name for p in Path(directory).glob("*.pt"))
            raise FileNotFoundError(f"no checkpoint {key!r} in {str(directory)!r} (have {available})")
        self.module_.load_state_dict(torch.load(path, weights_only=True, map_location=self.device))
        self.restored_checkpoint_ = key
        return self

    def get_split_datasets(self, X: Any, y: Any = None, **fit_params: Any) -> tuple[Dataset, Dataset | None]:
        dataset = self.get_dataset(X, y)
        if self.train_split is None:
            return dataset, None
        groups = getattr(self, "_fit_groups_", None)
        if groups is not None:
            fit_params = {**fit_params, "groups": groups}
        return self.train_split(dataset, y, **fit_params)

    def get_iterator(self, dataset: Dataset, training: bool = False) -> torch.utils.data.DataLoader:
        kwargs = self.get_params_for("iterator_train" if training else "iterator_valid")
        kwargs.setdefault("batch_size", self.batch_size)
        if kwargs["batch_size"] == -1:
            kwargs["batch_size"] = len(dataset)
        kwargs.setdefault("num_workers", self.num_workers)
        kwargs.setdefault("pin_memory", torch.device(self.device).type == "cuda")
        if training:
            if self.balanced_sampler and "sampler" not in kwargs:
                labels, _ = _dataset_labels(dataset)
                counts = np.bincount(labels, minlength=2).astype(float)
                weights = 1.0 / counts[labels]
                kwargs["sampler"] = WeightedRandomSampler(torch.as_tensor(weights), num_samples=len(labels), replacement=True)
            elif "sampler" not in kwargs:
                kwargs.setdefault("shuffle", True)
        iterator = self.iterator_train if training else self.iterator_valid
        return iterator(dataset, **kwargs)

    # --- steps: autocast, GradScaler, clipping ---------------------------------------------------

    def infer(self, x: Any, **fit_params: Any) -> torch.Tensor | tuple[torch.Tensor, ...]:
        x = _move(x, self.device, non_blocking=torch.device(self.device).type == "cuda")
        amp_dtype = getattr(self, "amp_dtype_", None)
        with torch.autocast(device_type="cuda", dtype=amp_dtype or torch.float16, enabled=amp_dtype is not None):
            out = super().infer(x, **fit_params)
        if isinstance(out, tuple):
            return tuple(o.float() for o in out)
        return out.float()

    def get_loss(self, y_pred: Any, y_true: Any, X: Any = None, training: bool = False) -> torch.Tensor:
        logits, risk = (y_pred[0], y_pred[1]) if isinstance(y_pred, tuple) else (y_pred, None)
        y_true = to_tensor(y_true, device=self.device).float()
        if y_true.dim() == 1:
            return self.criterion_(logits, y_true, risk=risk)
        cols = y_true.shape[1]
        return self.criterion_(
            logits,
            y_true[:, 0],
            risk=risk,
            y_soft=y_true[:, 1] if cols > 1 else None,
            sample_weight=y_true[:, 2] if cols > 2 else None,
        )

    def train_step_single(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        (loss if self.grad_scaler_ is None else self.grad_scaler_.scale(loss)).backward()
        return {"loss": loss, "y_pred": y_pred}

    def _step_optimizer(self, step_fn: Callable[[], torch.Tensor]) -> None:
        # GradScaler cannot take a closure: run the step, unscale, clip, then step (skorch/hf.py pattern)
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

    def _get_predict_nonlinearity(self) -> Callable[[torch.Tensor], torch.Tensor]:
        if self.predict_nonlinearity == "auto":
            return _sigmoid_proba
        return super()._get_predict_nonlinearity()


def _dataset_first_x(X: Dataset) -> Any:
    if len(X) == 0:
        raise ValueError("the dataset is empty")
    return unpack_data(X[0])[0]


def _signal_shape(signal: Any, what: str = "X") -> tuple[int, int, int]:
    """(n_windows, n_channels, n_times) of a 3-D array, with clear errors."""
    shape = tuple(signal.shape)
    if len(shape) != 3:
        raise ValueError(f"{what} must be 3-D (n_windows, n_channels, n_times), got shape {shape}")
    if isinstance(signal, np.ndarray):
        if not np.issubdtype(signal.dtype, np.floating):
            raise ValueError(f"{what} must be a float array, got dtype {signal.dtype}")
        for start in range(0, shape[0], 1024):  # chunked: no full-size boolean temporary
            if not np.isfinite(signal[start : start + 1024]).all():
                raise ValueError(f"{what} contains NaN or inf")
    return shape  # type: ignore[return-value]


class SpectrogramCNNClassifier(_EEGNetClassifier):
    """Preictal-vs-interictal classifier on raw windows; the spectrogram is computed inside the model.

    Parameters
    ----------
    module : type, default=SpectrogramCNN
        A module class taking ``n_channels`` and ``n_times`` (e.g. :class:`~sklearn_eeg.nn.SpectrogramCNN`
        or :class:`~sklearn_eeg.nn.RawCNN1d`), returning one logit per window. Other arguments go as
        ``module__name=value``.
    criterion : type, default=MultiTaskLoss
        Built with ``loss``, ``focal_gamma``, ``focal_alpha``, ``risk_weight`` and the fit's ``pos_weight_``.
    optimizer : type, default=torch.optim.AdamW
        Further arguments as ``optimizer__weight_decay=...``.
    lr : float, default=1e-3
        Peak learning rate (after warm-up).
    max_epochs : int, default=30
    batch_size : int, default=64
    train_split : callable or None, default=ValidSplit(ChronologicalSplit(0.2))
        Internal validation split of the training data (early stopping, best epoch); ``None`` trains
        on everything for ``max_epochs`` and keeps the last epoch.
    device : str, default="auto"
        ``"auto"`` = CUDA when available, else CPU; or any torch device.
    amp : {"auto", "bf16", "fp16"} or False, default="auto"
        Mixed precision on CUDA (bf16 without scaler, fp16 with ``GradScaler``); ignored on CPU.
    loss : {"bce", "focal"}, default="bce"
    focal_gamma : float, default=2.0
    focal_alpha : float or None, default=None
    pos_weight : "auto", float or None, default="auto"
        ``"auto"`` = n_negative / n_positive of the labels passed to this fit.
    risk_weight : float, default=0.0
        λ of the soft-risk MSE term (needs a module with a risk output, see :class:`FusionClassifier`).
    max_norm : float or None, default=1.0
        Gradient-norm clipping.
    warmup_epochs : int, default=1
        Linear warm-up epochs before the cosine decay over ``max_epochs``.
    patience : int or None, default=5
        Early-stopping patience in epochs (None: no early stop, best epoch still restored).
    valid_scoring : callable or None, default=None
        ``f(y_true, y_score, index) -> float`` (higher is better) selecting the best epoch instead
        of the validation loss; see :class:`ValidScoring`.
    checkpoint_dir : str, Path or None, default=None
        Write checkpoints to a fresh sub-directory per fit (``checkpoint_dir_``, see
        :class:`FitCheckpoint`): the best weights by each validation score, and the last epoch's full
        state for :meth:`resume`. Pick one with :meth:`restore_checkpoint`.
    balanced_sampler : bool, default=False
        Draw training batches with class-balanced probabilities (with replacement).
    num_workers : int, default=0
        DataLoader workers (useful with :class:`~sklearn_eeg.nn.data.MemmapWindowDataset`).
    random_state : int or None, default=None
        Seed of weights, shuffling, sampling and dropout (the caller's RNG state is restored).
    verbose : int, default=0
    **kwargs
        skorch's prefixed parameters (``module__*``, ``optimizer__*``, ``iterator_train__*``, ...).

    Attributes
    ----------
    n_channels_, n_times_ : int
        Input shape read from ``X``.
    pos_weight_ : float or None
        Positive-class weight used by the loss in the last fit.
    amp_dtype_ : torch.dtype or None
        Autocast dtype in use.
    module_ : torch.nn.Module
        The trained network (best epoch restored).
    history_ : skorch.History
        Per-epoch losses and scores.
    checkpoint_dir_ : Path
        This fit's checkpoint folder (with ``checkpoint_dir``); ``checkpoint_path_`` is its
        ``best_<monitor>.pt`` for the early-stopping monitor.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 2, 512)).astype(np.float32); y = np.r_[np.zeros(20), np.ones(20)]
    >>> clf = SpectrogramCNNClassifier(max_epochs=2, random_state=0, module__n_filters=(4, 8)).fit(X, y)
    >>> clf.predict_proba(X).shape
    (40, 2)
    """

    def __init__(self, module: type[torch.nn.Module] = SpectrogramCNN, **kwargs: Any) -> None:
        super().__init__(module, **kwargs)

    def _set_signal_args(self, X: Any) -> None:
        if is_dataset(X):
            x0 = _dataset_first_x(X)
            if not hasattr(x0, "shape") or len(x0.shape) != 2:
                raise ValueError("dataset items must be (x, y) with x of shape (n_channels, n_times)")
            self.n_channels_, self.n_times_ = int(x0.shape[0]), int(x0.shape[1])
            return
        _, self.n_channels_, self.n_times_ = _signal_shape(X)

    def _signal_args(self) -> dict[str, int]:
        return {"n_channels": self.n_channels_, "n_times": self.n_times_}


class FusionClassifier(_EEGNetClassifier):
    """Spectrogram CNN fused with handcrafted features; classification logit plus soft-risk output.

    ``X`` is a mapping ``{"signal": (n, n_channels, n_times), "features": (n, n_features)}``; use
    :class:`skorch.helper.SliceDict` instead of a plain dict for ``cross_validate``/``Pipeline`` (it
    can be indexed by rows). A plain 3-D array means no feature branch. With ``risk_weight > 0`` pass
    ``y_soft`` to :meth:`fit`; the loss is then ``classification + risk_weight * MSE(risk, y_soft)``.
    ``predict_proba`` returns the classification probability; the soft risk is available through
    :meth:`predict_risk`.

    Parameters
    ----------
    module : type, default=FusionNet
        Module taking ``n_channels``, ``n_times``, ``n_features`` and returning ``(logit, risk)``.
    **kwargs
        All parameters of :class:`SpectrogramCNNClassifier`.

    Attributes
    ----------
    n_channels_, n_times_, n_features_ : int
        Input shapes read from ``X`` (``n_features_ = 0`` without features).
    pos_weight_, amp_dtype_, module_, history_
        As in :class:`SpectrogramCNNClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from skorch.helper import SliceDict
    >>> rng = np.random.default_rng(0)
    >>> X = SliceDict(signal=rng.standard_normal((40, 2, 512)).astype(np.float32),
    ...               features=rng.standard_normal((40, 5)).astype(np.float32))
    >>> y = np.r_[np.zeros(20), np.ones(20)]
    >>> clf = FusionClassifier(max_epochs=1, risk_weight=0.5, module__n_filters=(4, 8)).fit(X, y, y_soft=y * 0.8)
    >>> clf.predict_risk(X).shape
    (40,)
    """

    def __init__(self, module: type[torch.nn.Module] = FusionNet, **kwargs: Any) -> None:
        super().__init__(module, **kwargs)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.dict = True
        return tags

    def _set_signal_args(self, X: Any) -> None:
        if is_dataset(X):
            X = _dataset_first_x(X)
            X = {k: v[None] for k, v in X.items()} if isinstance(X, Mapping) else X[None]
        if isinstance(X, Mapping):
            unknown = set(X) - {"signal", "features"}
            if "signal" not in X or unknown:
                raise ValueError(f"X must have the keys 'signal' and optionally 'features'; got {sorted(X)}")
            n, self.n_channels_, self.n_times_ = _signal_shape(X["signal"], "X['signal']")
            features = X.get("features")
            if features is None:
                self.n_features_ = 0
                return
            if len(features.shape) != 2 or features.shape[0] != n:
                raise ValueError(f"X['features'] must have shape ({n}, n_features), got {tuple(features.shape)}")
            if isinstance(features, np.ndarray) and not np.isfinite(features).all():
                raise ValueError("X['features'] contains NaN or inf: impute before fitting")
            self.n_features_ = int(features.shape[1])
            return
        _, self.n_channels_, self.n_times_ = _signal_shape(X)
        self.n_features_ = 0

    def _signal_args(self) -> dict[str, int]:
        return {"n_channels": self.n_channels_, "n_times": self.n_times_, "n_features": self.n_features_}

    def predict_risk(self, X: Any) -> np.ndarray:
        """Soft-risk output of the fitted model.

        Parameters
        ----------
        X : mapping or ndarray
            As in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_windows,)
            Values in [0, 1].
        """
        return np.concatenate([risk.numpy() for _, risk in self.forward_iter(X, training=False)])


# ----------------------------------------------------------------------------------------------
# runs on disk


def _json_safe(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    return repr(value)


def save_run(estimator: _EEGNetClassifier, path: str | Path, manifest: Mapping[str, Any] | None = None) -> Path:
    """Save a fitted estimator as ``model.pt`` (module ``state_dict``) plus ``manifest.json``.

    ``model.pt`` loads with ``torch.load(..., weights_only=True)``. The manifest records the class,
    the parameters, the input shape, ``pos_weight_``, the per-epoch history and everything in
    ``manifest`` (e.g. metrics, data config).

    Parameters
    ----------
    estimator : SpectrogramCNNClassifier or FusionClassifier
        Fitted.
    path : str or Path
        Directory (created).
    manifest : mapping, default=None
        Extra JSON-serialisable entries.

    Returns
    -------
    Path
        The directory.
    """
    estimator.check_is_fitted()
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in estimator.module_.state_dict().items()}
    torch.save(state, path / "model.pt")
    history_keys = ("epoch", "train_loss", "valid_loss", "valid_score", "dur")
    record = {
        "estimator": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
        "params": _json_safe(estimator.get_params(deep=False)),
        "signal_args": _json_safe(estimator._signal_args()),
        "pos_weight": _json_safe(estimator.pos_weight_),
        "history": [{k: _json_safe(row[k]) for k in history_keys if k in row} for row in estimator.history],
        **_json_safe(dict(manifest or {})),
    }
    (path / "manifest.json").write_text(json.dumps(record, indent=2))
    return path


def load_run(estimator: _EEGNetClassifier, path: str | Path) -> _EEGNetClassifier:
    """Load weights saved by :func:`save_run` into an unfitted estimator with the same parameters.

    Parameters
    ----------
    estimator : SpectrogramCNNClassifier or FusionClassifier
        Constructed with the module parameters of the saved run.
    path : str or Path
        Directory written by :func:`save_run`.

    Returns
    -------
    estimator
        Initialized on its device with the saved weights, ready for ``predict_proba``.
    """
    path = Path(path)
    record = json.loads((path / "manifest.json").read_text())
    for key, value in record["signal_args"].items():
        setattr(estimator, key + "_", int(value))
    estimator.pos_weight_ = record.get("pos_weight")
    estimator.initialize()
    state = torch.load(path / "model.pt", weights_only=True, map_location=estimator.device)
    estimator.module_.load_state_dict(state)
    return estimator
