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
the loss reads (see :func:`pack_targets`); a :class:`~sklearn_eeg.models.nn.data.MemmapWindowDataset` may carry
such an array as its ``y``.

The training pieces live in :mod:`sklearn_eeg.models.nn`, one module each (``devices``, ``targets``,
``splits``, ``callbacks``, ``checkpoints``, ``persistence``), and are re-exported here, as are the
chance baselines of :mod:`sklearn_eeg.models.chance` (:class:`ConstantRiskClassifier`,
:class:`RandomWalkRiskClassifier`), which need no torch: import them from there to avoid loading it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from skorch import NeuralNetBinaryClassifier
from skorch.callbacks import Callback, EpochTimer, PassthroughScoring, PrintLog
from skorch.dataset import ValidSplit, unpack_data
from skorch.utils import is_dataset, to_tensor
from torch.utils.data import Dataset, WeightedRandomSampler

from sklearn_eeg.data.mne_input import epochs_to_windows, is_mne_epochs
from sklearn_eeg.models.chance import ConstantRiskClassifier, RandomWalkRiskClassifier
from sklearn_eeg.models.nn.callbacks import TimelineScoring, ValidScoring, warmup_cosine, warmup_cosine_scheduler
from sklearn_eeg.models.nn.checkpoints import (
    FitCheckpoint,
    ResumableEarlyStopping,
    checkpoint_index,
    is_last_set,
    last_checkpoint,
    restore_train_state,
)
from sklearn_eeg.models.nn.amp_steps import AmpTrainingSteps
from sklearn_eeg.models.nn.devices import AMP_CHOICES, move_to_device, resolve_amp, resolve_device
from sklearn_eeg.models.nn.fusion import FusionNet
from sklearn_eeg.models.nn.losses import MultiTaskLoss
from sklearn_eeg.models.nn.persistence import load_run, save_run
from sklearn_eeg.models.nn.spectrogram_cnn import SpectrogramCNN
from sklearn_eeg.models.nn.splits import ChronologicalSplit
from sklearn_eeg.models.nn.targets import dataset_labels, onset_sample_weight, pack_targets

__all__ = [
    "ChronologicalSplit",
    "ConstantRiskClassifier",
    "FitCheckpoint",
    "FusionClassifier",
    "RandomWalkRiskClassifier",
    "SpectrogramCNNClassifier",
    "TimelineScoring",
    "ValidScoring",
    "checkpoint_index",
    "last_checkpoint",
    "load_run",
    "onset_sample_weight",
    "pack_targets",
    "resolve_amp",
    "resolve_device",
    "save_run",
    "warmup_cosine",
    "warmup_cosine_scheduler",
]

logger = logging.getLogger(__name__)


def _sigmoid_proba(logits: torch.Tensor) -> torch.Tensor:
    """(n,) logits → (n, 2) probabilities [P(interictal), P(preictal)]."""
    p = torch.sigmoid(logits)
    return torch.stack((1.0 - p, p), dim=1)


# ----------------------------------------------------------------------------------------------
# estimators


class _EEGNetClassifier(AmpTrainingSteps, NeuralNetBinaryClassifier):
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
        callbacks.append(("lr_scheduler", warmup_cosine_scheduler(self.warmup_epochs, self.max_epochs)))
        if self.train_split is not None:
            if self.checkpoint_dir is not None:
                callbacks.append(("checkpoint", FitCheckpoint(self.checkpoint_dir)))
            patience = self.max_epochs + 1 if self.patience is None else self.patience
            callbacks.append(
                (
                    "early_stopping",
                    ResumableEarlyStopping(
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
        sfreq = _epochs_sfreq(X)
        X = _mne_as_windows(X)
        target = self._prepare_fit(X, y, y_soft, sample_weight, groups)
        self.sfreq_ = sfreq
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

        Needs ``checkpoint_dir`` and the same parameters and data as the interrupted fit. Module,
        optimizer, history, torch RNG states (and the fp16 gradient scaler) come back from the end
        of the last epoch with a complete checkpoint (:func:`last_checkpoint`: a damaged newest one
        is skipped); the learning-rate schedule, the running best scores and the early-stopping
        patience continue from the history; new checkpoints go to the same folder. A seeded fit
        resumed this way ends with the same weights as an uninterrupted one on the same device. A
        fit that had already finished (all epochs, or stopped early) is not trained further; its
        final weights are restored. When the folder holds no complete checkpoint (the fit was killed
        in its first epoch, or every checkpoint is damaged), a warning is logged and :meth:`fit`
        starts from scratch in a new folder.

        Parameters
        ----------
        X, y, y_soft, sample_weight, groups
            As in :meth:`fit`.
        checkpoint : str or Path, default=None
            The fit's checkpoint folder (``checkpoint_dir_`` of the interrupted estimator, a
            ``fit-*`` folder under ``checkpoint_dir``), or one ``last-<epoch>`` set inside it that
            :func:`last_checkpoint` already found complete (it is then not read twice); None = this
            estimator's ``checkpoint_dir_``.

        Returns
        -------
        self

        Raises
        ------
        FileNotFoundError
            When the checkpoint folder does not exist.
        """
        folder = checkpoint if checkpoint is not None else getattr(self, "checkpoint_dir_", None)
        if folder is None or not Path(folder).is_dir():
            raise FileNotFoundError(f"no checkpoint folder {str(folder)!r}: nothing to resume")
        directory = Path(folder)
        if self.train_split is None or self.checkpoint_dir is None:
            raise ValueError("resume needs a validation split and checkpoint_dir (where the last checkpoint is written)")
        if is_last_set(directory):
            directory, last = directory.parent, directory
        else:
            last = last_checkpoint(directory)
        if last is None:
            logger.warning("%s: no complete checkpoint to resume from; fitting from scratch", directory)
            return self.fit(X, y, y_soft=y_soft, sample_weight=sample_weight, groups=groups)
        sfreq = _epochs_sfreq(X)
        X = _mne_as_windows(X)
        target = self._prepare_fit(X, y, y_soft, sample_weight, groups)
        self.sfreq_ = sfreq
        try:
            with torch.random.fork_rng(devices=self._rng_devices()):
                self.initialize()
                self.checkpoint_dir_ = directory
                self.load_params(
                    f_params=last / "module.pt", f_optimizer=last / "optimizer.pt", f_history=last / "history.json"
                )
                dict(self.callbacks_)["checkpoint"].prepare_resume(self)
                remaining = self._restore_training_state(last)
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
            labels, _ = dataset_labels(X)
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

    def _restore_training_state(self, last: Path) -> int:
        """After loading the last checkpoint (folder ``last``): RNG, scaler, best scores, patience; the epochs left."""
        restore_train_state(self, last)
        for _, cb in self.callbacks_:
            if isinstance(cb, PassthroughScoring):  # best so far, not reset to +-inf
                scores = [row[cb.name] for row in self.history if cb.name in row]
                if scores:
                    cb.best_score_ = min(scores) if cb.lower_is_better else max(scores)
        remaining = max(0, self.max_epochs - len(self.history))
        es = dict(self.callbacks_).get("early_stopping")
        if isinstance(es, ResumableEarlyStopping):
            es.on_train_begin(self)  # replays the history
            best_file = Path(self.checkpoint_dir_) / f"best_{es.monitor}.pt"
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
            for its best epoch, or ``"last"`` for the last epoch with a complete checkpoint.

        Returns
        -------
        self
            With ``module_`` holding those weights and ``restored_checkpoint_`` = ``key``.
        """
        directory = getattr(self, "checkpoint_dir_", None)
        if directory is None:
            raise ValueError("no checkpoint folder: fit with checkpoint_dir set first")
        if key == "last":
            last = last_checkpoint(directory)
            path = None if last is None else last / "module.pt"
        else:
            path = Path(directory) / f"best_{key}.pt"
        if path is None or not path.is_file():
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

    def get_dataset(self, dataset: Any, y: Any = None) -> Dataset:
        """skorch's dataset of ``dataset``, with ``mne.Epochs`` first converted to µV windows (predict paths).

        Epochs at another rate than the Epochs the model was fitted on (``sfreq_``) are refused.
        """
        sfreq, fitted = _epochs_sfreq(dataset), getattr(self, "sfreq_", None)
        if sfreq is not None and fitted is not None and not np.isclose(sfreq, fitted):
            raise ValueError(f"the Epochs are at {sfreq:g} Hz but the model was fitted on Epochs at {fitted:g} Hz; "
                             "resample them first (epochs.resample)")
        return super().get_dataset(_mne_as_windows(dataset), y)

    def get_iterator(self, dataset: Dataset, training: bool = False) -> torch.utils.data.DataLoader:
        kwargs = self.get_params_for("iterator_train" if training else "iterator_valid")
        kwargs.setdefault("batch_size", self.batch_size)
        if kwargs["batch_size"] == -1:
            kwargs["batch_size"] = len(dataset)
        kwargs.setdefault("num_workers", self.num_workers)
        kwargs.setdefault("pin_memory", torch.device(self.device).type == "cuda")
        if training:
            if self.balanced_sampler and "sampler" not in kwargs:
                labels, _ = dataset_labels(dataset)
                counts = np.bincount(labels, minlength=2).astype(float)
                weights = 1.0 / counts[labels]
                kwargs["sampler"] = WeightedRandomSampler(torch.as_tensor(weights), num_samples=len(labels), replacement=True)
            elif "sampler" not in kwargs:
                kwargs.setdefault("shuffle", True)
        iterator = self.iterator_train if training else self.iterator_valid
        return iterator(dataset, **kwargs)

    # --- steps: autocast, GradScaler, clipping ---------------------------------------------------

    def infer(self, x: Any, **fit_params: Any) -> torch.Tensor | tuple[torch.Tensor, ...]:
        x = move_to_device(x, self.device, non_blocking=torch.device(self.device).type == "cuda")
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

    def _get_predict_nonlinearity(self) -> Callable[[torch.Tensor], torch.Tensor]:
        if self.predict_nonlinearity == "auto":
            return _sigmoid_proba
        return super()._get_predict_nonlinearity()


def _dataset_first_x(X: Dataset) -> Any:
    if len(X) == 0:
        raise ValueError("the dataset is empty")
    return unpack_data(X[0])[0]


def _mne_as_windows(X: Any) -> Any:
    """``mne.Epochs`` (alone, or as the ``"signal"`` of a dict) as float32 µV windows (units from
    ``info``, EEG channels); anything else unchanged."""
    if is_mne_epochs(X):
        return epochs_to_windows(X)[0]
    if isinstance(X, Mapping) and is_mne_epochs(X.get("signal")):
        return type(X)(**{**X, "signal": epochs_to_windows(X["signal"])[0]})
    return X


def _epochs_sfreq(X: Any) -> float | None:
    """The sampling rate of ``mne.Epochs`` input (alone or as a mapping's ``"signal"``); None otherwise."""
    signal = X.get("signal") if isinstance(X, Mapping) else X
    return float(signal.info["sfreq"]) if is_mne_epochs(signal) else None


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
        A module class taking ``n_channels`` and ``n_times`` (e.g. :class:`~sklearn_eeg.models.nn.SpectrogramCNN`
        or :class:`~sklearn_eeg.models.nn.RawCNN1d`), returning one logit per window. Other arguments go as
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
        DataLoader workers (useful with :class:`~sklearn_eeg.models.nn.data.MemmapWindowDataset`).
    random_state : int or None, default=None
        Seed of weights, shuffling, sampling and dropout (the caller's RNG state is restored).
    verbose : int, default=0
    **kwargs
        skorch's prefixed parameters (``module__*``, ``optimizer__*``, ``iterator_train__*``, ...).

    Attributes
    ----------
    n_channels_, n_times_ : int
        Input shape read from ``X``.
    sfreq_ : float or None
        Sampling rate of ``mne.Epochs`` fitted on (``info["sfreq"]``; Epochs at another rate are
        refused at predict time); None when fitted on arrays, which carry no rate.
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
    can be indexed by rows). The signal may be ``mne.Epochs`` (µV and rate from ``info``, as for
    :class:`SpectrogramCNNClassifier`) in a plain dict (a ``SliceDict`` holds arrays only). A plain 3-D array means no feature branch. With ``risk_weight > 0`` pass
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
    sfreq_, pos_weight_, amp_dtype_, module_, history_
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
