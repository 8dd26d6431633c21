"""Checkpoints of a fit: best weights per validation criterion, the last state, resumable early stopping.

A checkpoint folder stays usable whenever the writing process dies (``kill -9``, out of memory).
Every file is written to a temporary file of a name unique to the writing process, flushed to disk,
and renamed over its target (:func:`sklearn_eeg.atomic_files.atomic_write`). The last state is a set
of four files that must come from the same epoch: it is written into a temporary folder that is
renamed ``last-<epoch>`` in one step once complete, and the folder of the epoch before is kept, so
:func:`last_checkpoint` finds a complete set, or none when the fit died in its first epoch.

Why not skorch's ``Checkpoint`` and ``LoadInitState``: they write the files of a checkpoint in place,
one after the other (a kill leaves a truncated file or a set mixing two epochs) and load exactly one
set; they keep one "best" per callback. This module adds what they cannot: atomic files, complete
per-epoch sets with a fallback, and the best epoch of every validation criterion from one callback.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import torch
from skorch import NeuralNetBinaryClassifier
from skorch.callbacks import Callback, EarlyStopping

from sklearn_eeg.atomic_files import atomic_write, atomic_write_text

from .augment import _SeededAugment
from .persistence import json_safe

__all__ = [
    "FitCheckpoint",
    "ResumableEarlyStopping",
    "checkpoint_index",
    "is_last_set",
    "last_checkpoint",
    "latest_last_set",
    "restore_train_state",
]

logger = logging.getLogger(__name__)

_INDEX = "checkpoints.json"
_LAST_FILES = ("module.pt", "optimizer.pt", "history.json", "state.pt")
_LAST_NAME = re.compile(r"last-(\d+)")
_READ_ERRORS = (OSError, EOFError, RuntimeError, ValueError, pickle.UnpicklingError)


class FitCheckpoint(Callback):
    """Per-fit checkpoint folder: the best weights by each validation criterion, and the last state.

    Each fit writes into its own new directory under ``root`` (``tempfile.mkdtemp``), so parallel
    folds and trials never overwrite each other (skorch issue #848); a resumed fit keeps writing into
    the directory it resumes from. The directory is stored on the net as ``checkpoint_dir_``. Files:

    * ``best_<key>.pt`` -- the module ``state_dict`` of the latest epoch whose history flag
      ``<key>_best`` was True, for every monitored key (by default every ``valid_*`` key with a flag:
      ``valid_loss``, ``valid_auroc``, ``valid_sens_fah0.5``...);
    * ``last-<epoch>/`` (``last-0007/``) -- ``module.pt``, ``optimizer.pt``, ``history.json`` and
      ``state.pt`` (torch RNG states and the fp16 gradient scaler) of the end of that epoch, written
      every epoch, so an interrupted fit loses at most the epoch in progress (see
      :meth:`~sklearn_eeg.models.estimators.SpectrogramCNNClassifier.resume`). The folder of the
      epoch before is kept as a fallback;
    * ``checkpoints.json`` -- for each checkpoint its file, epoch and score.

    Each epoch writes, in this order: the ``last-<epoch>`` folder (filled under a temporary name,
    then renamed), the new best files, the index, then removes older ``last-*`` folders. Every file
    is replaced atomically, so a kill leaves at worst temporary files (``*.tmp``), a best
    file or index one epoch behind the last state and a half-removed old ``last-*`` folder, which
    :meth:`prepare_resume` tidies up. Every ``.pt`` file loads with
    ``torch.load(path, weights_only=True)``. The callback should run after every scoring callback
    of the epoch (the estimators place it there).

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
        epoch = int(row["epoch"])
        monitors = self._monitors(row)
        state = {k: v.detach().cpu() for k, v in net.module_.state_dict().items()}
        history = json.dumps(net.history.to_list())
        _write_last(directory, epoch, {
            "module.pt": partial(torch.save, state),
            "optimizer.pt": partial(torch.save, net.optimizer_.state_dict()),
            "history.json": lambda path: path.write_text(history, encoding="utf-8"),
            "state.pt": partial(torch.save, _train_state(net)),
        })
        for key in monitors:
            if row.get(key + "_best", False):
                atomic_write(directory / f"best_{key}.pt", partial(torch.save, state))
        atomic_write_text(directory / _INDEX, json.dumps(checkpoint_index(net.history, monitors), indent=2))
        _prune_last(directory, epoch)

    def prepare_resume(self, net: NeuralNetBinaryClassifier) -> None:
        """Tidy the folder of a fit resumed from its last checkpoint, whose history ``net`` has loaded.

        Removes the temporary files of interrupted writes and every ``last-*`` folder but the one
        resumed from and the one before it (a damaged newer one, a half-removed older one), and
        brings each ``best_<key>.pt`` in line with the loaded history: the last epoch's weights where
        that epoch is the best (a kill may have come before that file was written); the file is
        removed, with a logged warning, where the folder's index names another best epoch than the
        history (the file was written after the checkpoint resumed from, which was then lost). Then
        rewrites the index.

        Parameters
        ----------
        net : SpectrogramCNNClassifier or FusionClassifier
            With ``checkpoint_dir_`` set and the history of :func:`last_checkpoint` loaded.
        """
        directory = Path(net.checkpoint_dir_)
        for tmp in directory.glob("*.tmp"):
            if tmp.is_dir():
                shutil.rmtree(tmp)
            else:
                tmp.unlink()
        monitors = self._monitors(net.history[-1])
        index = checkpoint_index(net.history, monitors)
        recorded = _read_index(directory)
        for key in monitors:
            path = directory / f"best_{key}.pt"
            best = index.get(key, {}).get("epoch")
            if best == index["last"]["epoch"]:
                atomic_write(path, partial(shutil.copyfile, directory / index["last"]["file"]))
            elif best != recorded.get(key, {}).get("epoch") and path.is_file():
                logger.warning("%s: not the best epoch of the resumed history, removed", path)
                path.unlink()
        atomic_write_text(directory / _INDEX, json.dumps(index, indent=2))
        _prune_last(directory, index["last"]["epoch"])


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
        best epoch, plus ``"last": {"file": "last-<epoch>/module.pt", "epoch": int}``.
    """
    index: dict[str, dict[str, Any]] = {}
    for key in monitors:
        best = [row for row in history if row.get(key + "_best", False)]
        if best:
            index[key] = {"file": f"best_{key}.pt", "epoch": int(best[-1]["epoch"]), "score": json_safe(best[-1][key])}
    if len(history):
        epoch = int(history[-1]["epoch"])
        index["last"] = {"file": f"{_last_name(epoch)}/module.pt", "epoch": epoch}
    return index


def last_checkpoint(directory: str | Path) -> Path | None:
    """The newest complete and readable ``last-<epoch>`` folder of a :class:`FitCheckpoint` folder.

    Every file of a candidate is read in full; an incomplete or damaged one (missing, empty or
    truncated file, invalid JSON, a history ending at another epoch) is skipped with a logged
    warning and the one before it is tried.

    Parameters
    ----------
    directory : str or Path
        A ``fit-*`` folder.

    Returns
    -------
    Path or None
        The folder holding ``module.pt``, ``optimizer.pt``, ``history.json`` and ``state.pt``; None
        when no complete one exists (e.g. a kill during the first epoch).
    """
    for epoch, folder in sorted(_last_folders(Path(directory)).items(), reverse=True):
        problem = _last_problem(folder, epoch)
        if problem is None:
            return folder
        logger.warning("%s: %s; trying an earlier checkpoint", folder, problem)
    return None


def is_last_set(folder: str | Path) -> bool:
    """Whether ``folder`` is named like a ``last-<epoch>`` set of a :class:`FitCheckpoint` folder."""
    return _LAST_NAME.fullmatch(Path(folder).name) is not None


def _last_name(epoch: int) -> str:
    return f"last-{epoch:04d}"


def _last_folders(directory: Path) -> dict[int, Path]:
    """``last-<epoch>`` folders by epoch (temporary folders, ``.last-<epoch>.*.tmp``, excluded)."""
    matches = ((_LAST_NAME.fullmatch(p.name), p) for p in directory.glob("last-*") if p.is_dir())
    return {int(match.group(1)): path for match, path in matches if match}


def _last_problem(folder: Path, epoch: int) -> str | None:
    """Why ``folder`` is not a complete last checkpoint of ``epoch`` (None when it is)."""
    contents = {}
    for name in _LAST_FILES:
        try:
            contents[name] = _read(folder / name)
        except _READ_ERRORS as err:
            return f"{name} is unreadable ({type(err).__name__})"
    history = contents["history.json"]
    if not (isinstance(history, list) and history and isinstance(history[-1], dict) and history[-1].get("epoch") == epoch):
        return f"history.json does not end at epoch {epoch}"
    return None


def _read(path: Path) -> Any:
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    return torch.load(path, weights_only=True, map_location="cpu")


def _read_index(directory: Path) -> dict[str, Any]:
    """The folder's ``checkpoints.json``; empty when missing or unreadable."""
    try:
        index = json.loads((directory / _INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return index if isinstance(index, dict) else {}


def _write_last(directory: Path, epoch: int, files: Mapping[str, Callable[[Path], object]]) -> None:
    """Write the ``last-<epoch>`` folder: every file into a temporary folder, then one rename."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{_last_name(epoch)}.", suffix=".tmp", dir=directory))
    try:
        for name, write in files.items():
            atomic_write(tmp / name, write)
        os.replace(tmp, directory / _last_name(epoch))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone after the rename; only a failed write leaves it


def _prune_last(directory: Path, epoch: int) -> None:
    """Remove every ``last-*`` folder but the one of ``epoch`` and the one before it."""
    folders = _last_folders(directory)
    previous = max((e for e in folders if e < epoch), default=None)
    for e, folder in folders.items():
        if e not in (epoch, previous):
            shutil.rmtree(folder)


def _train_state(net: NeuralNetBinaryClassifier) -> dict[str, Any]:
    """RNG and gradient-scaler state of a fit (tensors and numbers only: ``weights_only``-loadable).

    Besides torch's global generators (weights, shuffling, dropout), the generators of the network's
    seeded augmentations (:mod:`sklearn_eeg.models.nn.augment`: masks, views, noise) by module name.
    """
    state: dict[str, Any] = {"torch_rng": torch.get_rng_state()}
    device = torch.device(net.device)
    if device.type == "cuda":
        state["cuda_rng"] = torch.cuda.get_rng_state(device)
    if net.grad_scaler_ is not None:
        state["grad_scaler"] = net.grad_scaler_.state_dict()
    augment = {name: m.rng_state() for name, m in net.module_.named_modules()
               if isinstance(m, _SeededAugment) and m.rng_state() is not None}
    if augment:
        state["augment_rng"] = augment
    return state


def restore_train_state(net: NeuralNetBinaryClassifier, last: Path) -> None:
    """Put back the RNG and gradient-scaler state saved with the ``last-<epoch>`` set ``last``.

    Parameters
    ----------
    net : skorch net
        Initialized, with ``grad_scaler_`` (None without fp16) and the checkpoint's module loaded.
    last : Path
        A complete ``last-<epoch>`` folder (:func:`last_checkpoint`).
    """
    state = torch.load(last / "state.pt", weights_only=True)
    torch.set_rng_state(state["torch_rng"])
    device = torch.device(net.device)
    if "cuda_rng" in state and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda_rng"], device)
    if "grad_scaler" in state and net.grad_scaler_ is not None:
        net.grad_scaler_.load_state_dict(state["grad_scaler"])
    modules = dict(net.module_.named_modules())
    for name, generator_state in state.get("augment_rng", {}).items():
        augment = modules.get(name)
        if isinstance(augment, _SeededAugment):
            augment.set_rng_state(generator_state, device)


def latest_last_set(root: str | Path) -> Path | None:
    """The complete last checkpoint set (``fit-*/last-<epoch>``) of the newest resumable fit under ``root``.

    Fit folders are tried newest first (modification time); one without a complete, readable
    checkpoint (:func:`last_checkpoint`) is skipped. When fit folders exist but none can be resumed,
    a warning says that the model is trained from scratch (None).

    Parameters
    ----------
    root : str or Path
        The ``checkpoint_dir`` of the fits (missing: None).

    Returns
    -------
    Path or None
    """
    root = Path(root)
    fits = sorted(root.glob("fit-*"), key=lambda d: d.stat().st_mtime, reverse=True)
    latest = next((last for last in map(last_checkpoint, fits) if last is not None), None)
    if fits and latest is None:
        logger.warning("%s: no complete checkpoint to resume from; training from scratch", root)
    return latest


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
