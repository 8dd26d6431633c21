"""Checkpoints of a fit: best weights per validation criterion, the last state, resumable early stopping."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from skorch import NeuralNetBinaryClassifier
from skorch.callbacks import Callback, EarlyStopping

from .persistence import json_safe

__all__ = ["FitCheckpoint", "ResumableEarlyStopping", "checkpoint_index"]


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
      loses at most the epoch in progress (see
      :meth:`~sklearn_eeg.models.estimators.SpectrogramCNNClassifier.resume`);
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
        monitors = self._monitors(row)
        state = {k: v.detach().cpu() for k, v in net.module_.state_dict().items()}
        for key in monitors:
            if row.get(key + "_best", False):
                torch.save(state, directory / f"best_{key}.pt")
        net.save_params(
            f_params=directory / "last_module.pt",
            f_optimizer=directory / "last_optimizer.pt",
            f_history=directory / "last_history.json",
        )
        torch.save(_train_state(net), directory / "last_state.pt")
        (directory / "checkpoints.json").write_text(json.dumps(checkpoint_index(net.history, monitors), indent=2))


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
            index[key] = {"file": f"best_{key}.pt", "epoch": int(best[-1]["epoch"]), "score": json_safe(best[-1][key])}
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


class ResumableEarlyStopping(EarlyStopping):
    """skorch's ``EarlyStopping`` whose patience count continues from the history on a resumed fit.

    An improvement is a strict one (``threshold=0``), the same rule as the ``<monitor>_best`` flags, so
    the best epoch it restores is the ``best_<monitor>.pt`` checkpoint; ``resume_weights_`` (set by
    :meth:`~sklearn_eeg.models.estimators.SpectrogramCNNClassifier.resume`) holds those weights when the best
    epoch precedes the resumed part.
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
