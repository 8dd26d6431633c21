"""Multi-phase training of the spectrogram CNN: self-supervised pretraining, contrastive training, fine-tuning.

:class:`MultiPhaseCNNClassifier` is one sklearn classifier whose ``fit(X, y, groups=...)`` runs, on
exactly the windows it is given (in a LOSO fold: the training subjects' labeled windows, see
:func:`sklearn_eeg.experiments.fold_evaluation.fit_predict_risk`), up to three phases, each a skorch
estimator of :mod:`sklearn_eeg.models.phase_estimators`:

1. ``"pretrain"`` -- masked-spectrogram reconstruction (:class:`~sklearn_eeg.models.nn.pretext.MaskedSpectrogramModel`,
   labels unused);
2. ``"contrastive"`` -- SimCLR-style InfoNCE on two augmented views per window
   (:class:`~sklearn_eeg.models.nn.pretext.ContrastiveModel`, labels unused);
3. ``"finetune"`` -- supervised training of the whole CNN (:class:`~sklearn_eeg.models.phase_estimators.PretrainedCNNClassifier`:
   early stopping on a validation tail of the same training windows, ``pos_weight`` from their labels).

The encoder weights (a :class:`~sklearn_eeg.models.nn.SpectrogramCNN` ``state_dict``) hand over from
phase to phase; the projection and reconstruction heads are dropped, the output layer of the
fine-tuned network starts fresh. ``phases=("finetune",)`` is the supervised-only baseline.

With ``checkpoint_dir`` every finished phase is saved and recorded by a
:class:`~sklearn_eeg.models.nn.phase_tracker.PhaseTracker` (manifest: phase, epochs, losses,
checkpoint), in a run folder named after the data and the shared parameters. A rerun of an
interrupted fit reuses the finished phases' checkpoints and continues the first unfinished phase
from the last epoch it saved (every phase writes its state at each epoch's end: module, optimizer,
history, RNG and augmentation-generator states, :class:`~sklearn_eeg.models.nn.checkpoints.FitCheckpoint`;
killed in its first epoch, it starts over): each phase is seeded by ``random_state`` and its
position, so the result equals an uninterrupted fit's on the same device. A phase that stops before its last epoch
without early stopping (Ctrl-C, which skorch swallows) is not recorded, and ``fit`` raises
``KeyboardInterrupt``.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from sklearn_eeg.atomic_files import atomic_write
from sklearn_eeg.models.nn.checkpoints import latest_last_set
from sklearn_eeg.models.nn.devices import resolve_device
from sklearn_eeg.models.nn.phase_tracker import PhaseTracker
from sklearn_eeg.models.nn.persistence import load_run, save_run
from sklearn_eeg.models.nn.pretext import ContrastiveModel, InfoNCELoss, MaskedSpectrogramModel
from sklearn_eeg.models.phase_estimators import PretextNet, PretrainedCNNClassifier

__all__ = ["PHASES", "VARIANTS", "MultiPhaseCNNClassifier"]

PHASES = ("pretrain", "contrastive", "finetune")
"""The phases, in the order they run."""

VARIANTS: dict[str, tuple[str, ...]] = {
    "supervised": ("finetune",),
    "pretrain_finetune": ("pretrain", "finetune"),
    "pretrain_contrastive_finetune": PHASES,
}
"""Phase sequences compared by :func:`sklearn_eeg.experiments.ablations.multiphase_comparison`."""


def _completed(history: Any, max_epochs: int, stopped: bool = False) -> bool:
    """Whether a skorch fit ran to its end: every epoch (or an early stop), the last one complete."""
    return len(history) > 0 and "train_loss" in history[-1] and (len(history) >= max_epochs or stopped)


def _cpu_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


class MultiPhaseCNNClassifier(ClassifierMixin, BaseEstimator):
    """Spectrogram CNN trained in phases: masked-spectrogram pretraining → contrastive → fine-tuning.

    Parameters
    ----------
    phases : sequence of {"pretrain", "contrastive", "finetune"}, default=PHASES
        Phases to run, in the order of :data:`PHASES`, ending with ``"finetune"``.
    encoder_params : mapping, optional
        :class:`~sklearn_eeg.models.nn.SpectrogramCNN` arguments shared by every phase
        (``n_filters``, ``embedding_dim``, ``dropout``, ``n_fft``, ``hop_length``, ``n_freqs``).
    pretrain_epochs, contrastive_epochs : int, default=2
        Epochs of the two self-supervised phases.
    pretext_max_windows : int or None, default=1024
        The self-supervised phases train on at most this many windows, drawn at random (seeded) from
        ``X``; None uses them all.
    pretext_lr : float, default=1e-3
    pretext_batch_size : int, default=64
    mask_params : mapping, optional
        :class:`~sklearn_eeg.models.nn.pretext.MaskedSpectrogramModel` arguments (``target_shape``,
        ``max_freq``, ``max_time``, ``n_masks``).
    view_params : mapping, optional
        :class:`~sklearn_eeg.models.nn.pretext.ContrastiveModel` arguments (``signal_augment``,
        ``spec_augment``, ``projection_dim``).
    temperature : float, default=0.1
        InfoNCE temperature.
    finetune_params : mapping, optional
        :class:`~sklearn_eeg.models.estimators.SpectrogramCNNClassifier` parameters of the fine-tuning
        (``max_epochs``, ``patience``, ``lr``, ``batch_size``, ``loss``...); not ``module__*`` (the
        architecture is ``encoder_params``), ``device``, ``amp``, ``random_state``, ``callbacks`` or
        ``checkpoint_dir`` (the phase tracker saves the fine-tuned weights).
    checkpoint_dir : str, Path or None, default=None
        Save finished phases and their manifest under ``<checkpoint_dir>/multiphase-<key>/`` and reuse
        them when refitting the same data with the same parameters. None keeps nothing on disk.
    device : str, default="auto"
        ``"auto"`` = CUDA when available, else CPU.
    amp : {"auto", "bf16", "fp16"} or False, default="auto"
        Mixed precision on CUDA (every phase).
    phase_callbacks : mapping of str to list, optional
        Extra skorch callbacks ``[(name, callback), ...]`` per phase name (logging, inspection).
        They are not part of the checkpoint key.
    random_state : int or None, default=None
        Seeds the windows of the self-supervised phases and every phase's training (phase ``i`` with
        ``random_state + i``).
    verbose : int, default=0

    Attributes
    ----------
    estimator_ : PretrainedCNNClassifier
        The fine-tuned network (predicts).
    classes_ : ndarray of shape (2,)
    phase_log_ : list of dict
        One entry per phase: ``phase``, ``chain``, ``status`` (``"trained"``, ``"resumed"`` from the
        last epoch an interrupted run saved, or ``"reused"`` finished), ``epochs``, ``losses`` (training loss per epoch), ``n_windows`` and ``checkpoint``.
    run_dir_ : Path or None
        The phase tracker's folder (with ``checkpoint_dir``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((64, 2, 512)).astype(np.float32); y = np.arange(64) % 2
    >>> clf = MultiPhaseCNNClassifier(encoder_params={"n_filters": (4, 8), "embedding_dim": 8},
    ...     pretrain_epochs=1, contrastive_epochs=1, finetune_params={"max_epochs": 1}, random_state=0).fit(X, y)
    >>> [entry["phase"] for entry in clf.phase_log_], clf.predict_proba(X).shape
    (['pretrain', 'contrastive', 'finetune'], (64, 2))
    """

    def __init__(
        self,
        *,
        phases: Sequence[str] = PHASES,
        encoder_params: Mapping[str, Any] | None = None,
        pretrain_epochs: int = 2,
        contrastive_epochs: int = 2,
        pretext_max_windows: int | None = 1024,
        pretext_lr: float = 1e-3,
        pretext_batch_size: int = 64,
        mask_params: Mapping[str, Any] | None = None,
        view_params: Mapping[str, Any] | None = None,
        temperature: float = 0.1,
        finetune_params: Mapping[str, Any] | None = None,
        checkpoint_dir: str | Path | None = None,
        device: str = "auto",
        amp: str | bool = "auto",
        phase_callbacks: Mapping[str, list] | None = None,
        random_state: int | None = None,
        verbose: int = 0,
    ) -> None:
        self.phases = phases
        self.encoder_params = encoder_params
        self.pretrain_epochs = pretrain_epochs
        self.contrastive_epochs = contrastive_epochs
        self.pretext_max_windows = pretext_max_windows
        self.pretext_lr = pretext_lr
        self.pretext_batch_size = pretext_batch_size
        self.mask_params = mask_params
        self.view_params = view_params
        self.temperature = temperature
        self.finetune_params = finetune_params
        self.checkpoint_dir = checkpoint_dir
        self.device = device
        self.amp = amp
        self.phase_callbacks = phase_callbacks
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self) -> Any:
        # 3-D windows (sklearn's common checks do not apply; see tests/test_multiphase.py)
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.non_deterministic = self.random_state is None
        return tags

    # --- validation ------------------------------------------------------------------------------

    def _check_params(self) -> tuple[str, ...]:
        phases = tuple(self.phases)
        if not phases or phases[-1] != "finetune" or len(set(phases)) != len(phases) or not set(phases) <= set(PHASES):
            raise ValueError(f"phases must be distinct values of {PHASES} ending with 'finetune'; got {self.phases!r}")
        if list(phases) != sorted(phases, key=PHASES.index):
            raise ValueError(f"phases must keep the order {PHASES}; got {self.phases!r}")
        for name in ("pretrain_epochs", "contrastive_epochs", "pretext_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.pretext_max_windows is not None and self.pretext_max_windows < 2:
            raise ValueError(f"pretext_max_windows must be >= 2 or None, got {self.pretext_max_windows}")
        reserved = {"device", "amp", "random_state", "callbacks", "encoder_init", "module", "checkpoint_dir"}
        bad = sorted(k for k in (self.finetune_params or {}) if k in reserved or k.startswith("module__"))
        if bad:
            raise ValueError(f"finetune_params may not set {bad}: use encoder_params, device, amp, random_state")
        unknown = set(self.phase_callbacks or {}) - set(PHASES)
        if unknown:
            raise ValueError(f"phase_callbacks has unknown phases {sorted(unknown)}; phases are {PHASES}")
        return phases

    def _phase_params(self, phase: str) -> dict[str, Any]:
        """What a phase's result depends on, besides the data, the encoder and the seed (its checkpoint key)."""
        pretext = {"lr": self.pretext_lr, "batch_size": self.pretext_batch_size, "max_windows": self.pretext_max_windows}
        if phase == "pretrain":
            return {**pretext, "epochs": self.pretrain_epochs, "mask": dict(self.mask_params or {})}
        if phase == "contrastive":
            return {**pretext, "epochs": self.contrastive_epochs, "views": dict(self.view_params or {}),
                    "temperature": self.temperature}
        return dict(self.finetune_params or {})

    # --- fit -------------------------------------------------------------------------------------

    def fit(self, X: np.ndarray, y: np.ndarray, *, groups: np.ndarray | None = None) -> "MultiPhaseCNNClassifier":
        """Run the phases on ``X``, handing the encoder weights from each phase to the next.

        Parameters
        ----------
        X : ndarray of shape (n_windows, n_channels, n_times)
            Training windows; every phase sees these windows only (the self-supervised phases a
            seeded subset of at most ``pretext_max_windows``).
        y : ndarray of shape (n_windows,)
            0/1 labels, used by the fine-tuning only.
        groups : ndarray of shape (n_windows,), optional
            Subject of every window: the fine-tuning's validation tail is taken per subject.

        Returns
        -------
        self
        """
        phases = self._check_params()
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y)
        if X.ndim != 3 or len(X) != len(y):
            raise ValueError(f"X must be (n_windows, n_channels, n_times) with one label per window; got {X.shape}, {y.shape}")
        device = resolve_device(self.device)
        # the data (shape, labels, groups, every n/64-th window) and what every phase shares
        run_key = joblib.hash((X.shape, y, groups, X[:: max(1, len(X) // 64)], dict(self.encoder_params or {}),
                               self.random_state, device, self.amp))
        tracker = None
        if self.checkpoint_dir is not None:
            tracker = PhaseTracker(Path(self.checkpoint_dir) / f"multiphase-{run_key[:12]}", run_key)
        rows = np.arange(len(X))
        if self.pretext_max_windows is not None and len(X) > self.pretext_max_windows:
            rows = np.sort(np.random.default_rng(self.random_state).choice(len(X), self.pretext_max_windows, replace=False))
        self.phase_log_: list[dict[str, Any]] = []
        encoder: dict[str, torch.Tensor] | None = None
        key, chain = run_key, []
        for phase in phases:
            chain.append(phase)
            key = joblib.hash((key, phase, self._phase_params(phase)))
            seed = None if self.random_state is None else self.random_state + PHASES.index(phase)
            entry = None if tracker is None else tracker.finished(">".join(chain), key)
            if phase == "finetune":
                self.estimator_ = self._finetune(X, y, groups, encoder, seed, device, tracker, ">".join(chain), key, entry)
            else:
                encoder = self._pretext(phase, X[rows], encoder, seed, device, tracker, ">".join(chain), key, entry)
        self.classes_ = self.estimator_.classes_
        self.run_dir_ = None if tracker is None else tracker.directory
        return self

    def _log(self, phase: str, chain: str, status: str, epochs: int, losses: list, n_windows: int, checkpoint) -> None:
        self.phase_log_.append({"phase": phase, "chain": chain, "status": status, "epochs": epochs, "losses": losses,
                                "n_windows": n_windows, "checkpoint": None if checkpoint is None else str(checkpoint)})

    def _pretext(self, phase, X, encoder, seed, device, tracker, chain, key, entry) -> dict[str, torch.Tensor]:
        """Train (or reuse) one self-supervised phase; returns the encoder's weights on the CPU."""
        if entry is not None:
            self._log(phase, chain, "reused", entry["epochs"], entry["losses"], len(X), entry["checkpoint"])
            return torch.load(entry["checkpoint"], weights_only=True, map_location="cpu")
        if phase == "pretrain":
            module, criterion, epochs = MaskedSpectrogramModel, torch.nn.MSELoss, self.pretrain_epochs
            extra = {f"module__{k}": v for k, v in (self.mask_params or {}).items()}
        else:
            module, criterion, epochs = ContrastiveModel, InfoNCELoss, self.contrastive_epochs
            extra = {f"module__{k}": v for k, v in (self.view_params or {}).items()}
            extra["criterion__temperature"] = self.temperature
        folder = None if tracker is None else tracker.checkpoint_folder(chain, key)
        net = PretextNet(
            module, criterion=criterion, encoder_init=encoder, lr=self.pretext_lr, max_epochs=epochs,
            batch_size=self.pretext_batch_size, device=device, amp=self.amp, random_state=seed, verbose=self.verbose,
            callbacks=list((self.phase_callbacks or {}).get(phase, [])), module__encoder=dict(self.encoder_params or {}),
            module__seed=seed, checkpoint_dir=folder, **extra,
        )
        last = None if folder is None else latest_last_set(folder)  # an interrupted run of this phase
        net = net.fit(X) if last is None else net.resume(X, checkpoint=last)
        if not _completed(net.history, epochs):
            raise KeyboardInterrupt(f"phase {phase!r} interrupted after {len(net.history)} of {epochs} epochs")
        state = _cpu_state(net.module_.encoder)
        losses = [float(v) for v in net.history[:, "train_loss"]]
        checkpoint = None
        if tracker is not None:
            checkpoint = tracker.checkpoint_folder(chain, key) / "encoder.pt"
            atomic_write(checkpoint, lambda tmp: torch.save(state, tmp))
            tracker.record(chain, phase=phase, key=key, epochs=len(losses), losses=losses, checkpoint=checkpoint)
            shutil.rmtree(net.checkpoint_dir_, ignore_errors=True)  # the per-epoch states served resuming only
        self._log(phase, chain, "trained" if last is None else "resumed", len(losses), losses, len(X), checkpoint)
        return state

    def _finetune(self, X, y, groups, encoder, seed, device, tracker, chain, key, entry) -> PretrainedCNNClassifier:
        """Fine-tune (or reload) the supervised network from the handed-over encoder."""
        params = {
            **dict(self.finetune_params or {}),
            **{f"module__{k}": v for k, v in (self.encoder_params or {}).items()},
            "device": self.device, "amp": self.amp, "random_state": seed, "verbose": self.verbose,
        }
        if entry is not None:
            clf = load_run(PretrainedCNNClassifier(**params), entry["checkpoint"].parent)
            self._log("finetune", chain, "reused", entry["epochs"], entry["losses"], len(X), entry["checkpoint"])
            return clf
        callbacks = list((self.phase_callbacks or {}).get("finetune", []))
        folder = None if tracker is None else tracker.checkpoint_folder(chain, key)
        clf = PretrainedCNNClassifier(encoder_init=encoder, callbacks=callbacks, checkpoint_dir=folder, **params)
        last = None if folder is None or clf.train_split is None else latest_last_set(folder)
        clf = clf.fit(X, y, groups=groups) if last is None else clf.resume(X, y, checkpoint=last, groups=groups)
        early = dict(clf.callbacks_).get("early_stopping")
        if not _completed(clf.history, clf.max_epochs, stopped=early is not None and early.stopped()):
            raise KeyboardInterrupt(f"phase 'finetune' interrupted after {len(clf.history)} of {clf.max_epochs} epochs")
        losses = [float(v) for v in clf.history[:, "train_loss"]]
        checkpoint = None
        if tracker is not None:
            folder = tracker.checkpoint_folder(chain, key)
            save_run(clf, folder, {"chain": chain})
            checkpoint = folder / "model.pt"
            tracker.record(chain, phase="finetune", key=key, epochs=len(losses), losses=losses, checkpoint=checkpoint)
        self._log("finetune", chain, "trained" if last is None else "resumed", len(losses), losses, len(X), checkpoint)
        return clf

    # --- predict ---------------------------------------------------------------------------------

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities of the fine-tuned network.

        Parameters
        ----------
        X : ndarray of shape (n_windows, n_channels, n_times)

        Returns
        -------
        ndarray of shape (n_windows, 2)
            ``[P(interictal), P(preictal)]``.
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """0/1 predictions of the fine-tuned network (probability 0.5).

        Parameters
        ----------
        X : ndarray of shape (n_windows, n_channels, n_times)

        Returns
        -------
        ndarray of shape (n_windows,)
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)
