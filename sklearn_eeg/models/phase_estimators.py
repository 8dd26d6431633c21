"""The skorch estimators of the training phases: a self-supervised pretext net and a CNN classifier
initialised from a pretrained encoder.

:class:`PretextNet` trains a pretext module of :mod:`sklearn_eeg.models.nn.pretext` (masked-spectrogram
reconstruction or contrastive views) on unlabeled windows: ``fit(X)`` takes no labels. Like the
classifiers of :mod:`sklearn_eeg.models.estimators` it runs on CUDA with autocast (bf16, or fp16
with a ``GradScaler``) when asked, clips gradients and seeds its weights, shuffling and dropout
with ``random_state`` without touching the caller's RNG.

:class:`PretrainedCNNClassifier` is :class:`~sklearn_eeg.models.estimators.SpectrogramCNNClassifier`
whose network starts from the encoder weights of an earlier phase (``encoder_init``); its output
layer starts fresh. Weights hand over as a :class:`~sklearn_eeg.models.nn.SpectrogramCNN`
``state_dict`` (a ``.pt`` file that loads with ``torch.load(weights_only=True)``, or the mapping itself).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from skorch import NeuralNet

from sklearn_eeg.models.estimators import SpectrogramCNNClassifier
from sklearn_eeg.models.nn.amp_steps import AmpTrainingSteps
from sklearn_eeg.models.nn.checkpoints import FitCheckpoint, is_last_set, last_checkpoint, restore_train_state
from sklearn_eeg.models.nn.devices import move_to_device, resolve_amp
from sklearn_eeg.models.nn.spectrogram_cnn import SpectrogramCNN

__all__ = ["PretextNet", "PretrainedCNNClassifier", "load_encoder_state"]

EncoderInit = str | Path | Mapping[str, torch.Tensor] | None
logger = logging.getLogger(__name__)


def load_encoder_state(encoder_init: str | Path | Mapping[str, torch.Tensor], device: str) -> dict[str, torch.Tensor]:
    """A :class:`SpectrogramCNN` ``state_dict`` from a ``.pt`` file or a mapping, on ``device``."""
    if isinstance(encoder_init, Mapping):
        return {k: v.to(device) for k, v in encoder_init.items()}
    return torch.load(encoder_init, weights_only=True, map_location=device)


class PretextNet(AmpTrainingSteps, NeuralNet):
    """Self-supervised training of a pretext module on unlabeled windows (one phase of a multi-phase fit).

    Parameters
    ----------
    module : type
        A pretext module class of :mod:`sklearn_eeg.models.nn.pretext` taking ``n_channels`` and
        ``n_times`` (read from ``X`` at fit time), holding its encoder as ``encoder`` and returning a
        pair that ``criterion`` turns into the loss.
    criterion : type
        Loss module called as ``criterion(*module(x))`` (``torch.nn.MSELoss``, :class:`InfoNCELoss`).
    encoder_init : str, Path, mapping or None, default=None
        Encoder weights to start from (a :class:`SpectrogramCNN` ``state_dict`` or its ``.pt`` file);
        None starts from random weights.
    optimizer : type, default=torch.optim.AdamW
    lr : float, default=1e-3
    max_epochs : int, default=2
    batch_size : int, default=64
    device : str, default="cpu"
        A torch device (resolve ``"auto"`` with :func:`~sklearn_eeg.models.nn.devices.resolve_device` first).
    amp : {"auto", "bf16", "fp16"} or False, default="auto"
        Mixed precision on CUDA only (see :func:`~sklearn_eeg.models.nn.devices.resolve_amp`).
    max_norm : float or None, default=1.0
        Gradient-norm clipping.
    random_state : int or None, default=None
        Seed of weights, shuffling, augmentations' dropout (the caller's RNG state is restored).
    checkpoint_dir : str, Path or None, default=None
        Write the state at the end of every epoch to a fresh ``fit-*`` folder under it
        (:class:`~sklearn_eeg.models.nn.checkpoints.FitCheckpoint`: module, optimizer, history, RNG
        and augmentation-generator states), which :meth:`resume` continues from.
    verbose : int, default=0
    **kwargs
        skorch's prefixed parameters (``module__*``, ``criterion__*``, ``callbacks``...).

    Attributes
    ----------
    n_channels_, n_times_ : int
        Input shape read from ``X``.
    checkpoint_dir_ : Path
        This fit's checkpoint folder (with ``checkpoint_dir``).
    module_ : torch.nn.Module
        The trained pretext module; ``module_.encoder`` is the encoder to hand over.
    history_ : skorch.History
        ``train_loss`` per epoch.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_eeg.models.nn.pretext import MaskedSpectrogramModel
    >>> X = np.random.default_rng(0).standard_normal((32, 2, 512)).astype(np.float32)
    >>> net = PretextNet(MaskedSpectrogramModel, criterion=torch.nn.MSELoss, max_epochs=1, random_state=0,
    ...                  module__encoder={"n_filters": (4, 8), "embedding_dim": 8}).fit(X)
    >>> len(net.history)
    1
    """

    def __init__(
        self,
        module: type[torch.nn.Module],
        *,
        criterion: type[torch.nn.Module],
        encoder_init: EncoderInit = None,
        optimizer: type[torch.optim.Optimizer] = torch.optim.AdamW,
        lr: float = 1e-3,
        max_epochs: int = 2,
        batch_size: int = 64,
        device: str = "cpu",
        amp: str | bool = "auto",
        max_norm: float | None = 1.0,
        random_state: int | None = None,
        checkpoint_dir: str | Path | None = None,
        verbose: int = 0,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("iterator_train__shuffle", True)
        super().__init__(
            module, criterion=criterion, optimizer=optimizer, lr=lr, max_epochs=max_epochs,
            batch_size=batch_size, train_split=None, device=device, verbose=verbose, **kwargs,
        )
        self.encoder_init = encoder_init
        self.amp = amp
        self.max_norm = max_norm
        self.random_state = random_state
        self.checkpoint_dir = checkpoint_dir

    @property
    def _default_callbacks(self) -> list[tuple[str, Any]]:
        callbacks = list(super()._default_callbacks)
        if self.checkpoint_dir is not None:
            callbacks.append(("checkpoint", FitCheckpoint(self.checkpoint_dir)))
        return callbacks

    def fit(self, X: np.ndarray, y: None = None, **fit_params: Any) -> "PretextNet":
        """Train on unlabeled windows.

        Parameters
        ----------
        X : ndarray of shape (n_windows, n_channels, n_times)
        y : None
            Ignored (no labels in a pretext task).

        Returns
        -------
        self
        """
        self._check_input(X)
        with torch.random.fork_rng(devices=self._rng_devices(), enabled=self.random_state is not None):
            if self.random_state is not None:
                torch.manual_seed(self.random_state)
            super().fit(np.asarray(X, dtype=np.float32), None, **fit_params)
        return self

    def resume(self, X: np.ndarray, *, checkpoint: str | Path) -> "PretextNet":
        """Continue an interrupted :meth:`fit` from its last complete checkpoint, for the epochs left.

        Module, optimizer, history, torch's RNG states, the augmentations' generators (and the fp16
        gradient scaler) come back from the end of the last saved epoch, so a seeded fit resumed on
        the same data and device ends exactly as an uninterrupted one. Without a complete checkpoint
        in the folder (killed in the first epoch), a warning is logged and :meth:`fit` starts over.

        Parameters
        ----------
        X : ndarray of shape (n_windows, n_channels, n_times)
            The windows of the interrupted fit.
        checkpoint : str or Path
            The fit's ``fit-*`` folder, or a ``last-<epoch>`` set in it
            (:func:`~sklearn_eeg.models.nn.checkpoints.latest_last_set`).

        Returns
        -------
        self
        """
        if self.checkpoint_dir is None:
            raise ValueError("resume needs checkpoint_dir (where the next checkpoints are written)")
        folder = Path(checkpoint)
        last = folder if is_last_set(folder) else last_checkpoint(folder)
        if last is None:
            logger.warning("%s: no complete checkpoint to resume from; fitting from scratch", folder)
            return self.fit(X)
        self._check_input(X)
        with torch.random.fork_rng(devices=self._rng_devices()):
            self.initialize()
            self.checkpoint_dir_ = last.parent
            self.load_params(f_params=last / "module.pt", f_optimizer=last / "optimizer.pt",
                             f_history=last / "history.json")
            dict(self.callbacks_)["checkpoint"].prepare_resume(self)
            restore_train_state(self, last)
            remaining = max(0, self.max_epochs - len(self.history))
            if remaining:
                self.partial_fit(np.asarray(X, dtype=np.float32), None, epochs=remaining)
        return self

    def _check_input(self, X: np.ndarray) -> None:
        """Check ``X`` and the parameters; set ``n_channels_`` and ``n_times_``."""
        if np.ndim(X) != 3 or len(X) < 2:
            raise ValueError(f"X must be (n_windows >= 2, n_channels, n_times); got shape {np.shape(X)}")
        if self.max_norm is not None and self.max_norm <= 0:
            raise ValueError(f"max_norm must be positive or None, got {self.max_norm}")
        _, self.n_channels_, self.n_times_ = (int(n) for n in np.shape(X))

    def _rng_devices(self) -> list[int]:
        device = torch.device(self.device)
        return [device.index or 0] if device.type == "cuda" else []

    def check_data(self, X: Any, y: Any = None) -> None:
        """No labels are needed: skorch's check that ``y`` is given does not apply."""

    def get_params_for(self, prefix: str) -> dict[str, Any]:
        params = super().get_params_for(prefix)
        if prefix == "module":
            params.setdefault("n_channels", self.n_channels_)
            params.setdefault("n_times", self.n_times_)
        return params

    def initialize(self) -> "PretextNet":
        """Resolve the precision, build everything, then load ``encoder_init`` into ``module_.encoder``."""
        self.amp_dtype_ = resolve_amp(self.amp, self.device)
        self.grad_scaler_ = torch.amp.GradScaler("cuda") if self.amp_dtype_ == torch.float16 else None
        super().initialize()
        if self.encoder_init is not None:
            self.module_.encoder.load_state_dict(load_encoder_state(self.encoder_init, self.device))
        return self

    def infer(self, x: Any, **fit_params: Any) -> tuple[torch.Tensor, ...]:
        x = move_to_device(x, self.device, non_blocking=torch.device(self.device).type == "cuda")
        dtype = self.amp_dtype_
        with torch.autocast(device_type="cuda", dtype=dtype or torch.float16, enabled=dtype is not None):
            out = self.module_(x, **fit_params)
        return tuple(o.float() for o in out)

    def get_loss(self, y_pred: tuple[torch.Tensor, ...], y_true: Any, X: Any = None, training: bool = False) -> torch.Tensor:
        """``criterion(*y_pred)``; ``y_true`` is skorch's placeholder and is ignored."""
        return self.criterion_(*y_pred)


class PretrainedCNNClassifier(SpectrogramCNNClassifier):
    """:class:`~sklearn_eeg.models.estimators.SpectrogramCNNClassifier` starting from pretrained encoder weights.

    Parameters
    ----------
    module : type, default=SpectrogramCNN
        Must have the architecture of the encoder in ``encoder_init`` (same ``module__*`` arguments).
    encoder_init : str, Path, mapping or None, default=None
        A :class:`SpectrogramCNN` ``state_dict`` (or its ``.pt`` file) loaded into the network when
        it is built; its ``classifier.*`` entries are skipped, so the output layer starts from fresh
        weights. None: a plain :class:`SpectrogramCNNClassifier`.
    **kwargs
        All parameters of :class:`SpectrogramCNNClassifier`.

    Attributes
    ----------
    As :class:`SpectrogramCNNClassifier`.
    """

    def __init__(self, module: type[torch.nn.Module] = SpectrogramCNN, *, encoder_init: EncoderInit = None, **kwargs: Any) -> None:
        super().__init__(module, **kwargs)
        self.encoder_init = encoder_init

    def initialize_module(self) -> "PretrainedCNNClassifier":
        """Build the network, then load the encoder weights of ``encoder_init`` (all but the output layer)."""
        super().initialize_module()
        if self.encoder_init is not None:
            state = load_encoder_state(self.encoder_init, self.device)
            state = {k: v for k, v in state.items() if not k.startswith("classifier.")}
            missing, unexpected = self.module_.load_state_dict(state, strict=False)
            if unexpected or any(not k.startswith("classifier.") for k in missing):
                raise ValueError(
                    f"encoder_init does not match the network: missing {missing}, unexpected {unexpected}"
                )
        return self
