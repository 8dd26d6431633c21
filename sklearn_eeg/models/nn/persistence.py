"""Fitted estimators on disk: ``model.pt`` weights plus a JSON manifest, and loading them back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from skorch import NeuralNetBinaryClassifier

__all__ = ["json_safe", "load_run", "save_run"]


def json_safe(value: Any) -> Any:
    """``value`` with numpy scalars, tuples, mappings and classes turned into JSON types (anything else: its repr)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    return repr(value)


def save_run(estimator: NeuralNetBinaryClassifier, path: str | Path, manifest: Mapping[str, Any] | None = None) -> Path:
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
        "params": json_safe(estimator.get_params(deep=False)),
        "signal_args": json_safe(estimator._signal_args()),
        "pos_weight": json_safe(estimator.pos_weight_),
        "history": [{k: json_safe(row[k]) for k in history_keys if k in row} for row in estimator.history],
        **json_safe(dict(manifest or {})),
    }
    (path / "manifest.json").write_text(json.dumps(record, indent=2))
    return path


def load_run(estimator: NeuralNetBinaryClassifier, path: str | Path) -> NeuralNetBinaryClassifier:
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
