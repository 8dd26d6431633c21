"""A saved deep model (``save_run`` folder) rebuilt for streaming, without the code that trained it.

:func:`sklearn_eeg.models.nn.persistence.save_run` writes ``model.pt`` (the module's weights) and a
``manifest.json`` with the estimator's class, its parameters as JSON and the input shape. Its
counterpart :func:`~sklearn_eeg.models.nn.persistence.load_run` needs an estimator built with the same
module parameters; :func:`load_cnn` and :func:`load_fusion` build it from the manifest: the module class
(a class of :mod:`sklearn_eeg.models.nn`, imported by name, never unpickled) and its ``module__*``
arguments. Training settings (optimizer, callbacks, early stopping) are not needed to predict and are left
at their defaults.

A :class:`~sklearn_eeg.models.estimators.SpectrogramCNNClassifier` reads the filtered window alone. A
:class:`~sklearn_eeg.models.estimators.FusionClassifier` also reads the window's features, standardised
with the training statistics its deep run saved in the manifest (``feature_scaling``):
:func:`load_fusion` wraps it in a :class:`~sklearn_eeg.online.streaming_fusion.StreamingFusion`, which
computes them from the window.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from sklearn_eeg.models.registry import STREAMABLE_ESTIMATORS
from sklearn_eeg.online.streaming_fusion import StreamingFusion

__all__ = ["load_cnn", "load_fusion"]

_MODULE_PACKAGE = "sklearn_eeg.models.nn."


def _module_class(path: str, manifest: Path) -> type:
    """The module class named ``path``, which must live in :mod:`sklearn_eeg.models.nn`."""
    import torch

    name, _, attr = str(path).rpartition(".")
    if not name.startswith(_MODULE_PACKAGE):
        raise ValueError(f"{manifest}: params.module {path!r} is not a module class of {_MODULE_PACKAGE.rstrip('.')}")
    try:
        cls = getattr(importlib.import_module(name), attr, None)
    except ImportError as err:
        raise ValueError(f"{manifest}: params.module {path!r} cannot be imported ({err})") from err
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        raise ValueError(f"{manifest}: params.module {path!r} is not a torch module class")
    return cls


def _rebuild(model_dir: str | Path, name: str, device: str) -> tuple[Any, dict]:
    """The estimator of a ``save_run`` folder of the deep model ``name`` (``"cnn"``, ``"fusion"``) and its manifest."""
    from sklearn_eeg.models import estimators
    from sklearn_eeg.models.estimators import load_run

    model_dir = Path(model_dir)
    manifest = model_dir / "manifest.json"
    for path in (manifest, model_dir / "model.pt"):
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: not a saved deep model")
    try:
        record = json.loads(manifest.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ValueError(f"{manifest}: not valid JSON ({err})") from err
    estimator = record.get("estimator") if isinstance(record, dict) else None
    if estimator not in STREAMABLE_ESTIMATORS.values():
        raise ValueError(f"{manifest}: estimator {estimator!r} cannot stream; streamable: {list(STREAMABLE_ESTIMATORS.values())}")
    expected = STREAMABLE_ESTIMATORS[name]
    if estimator != expected:
        raise ValueError(f"{manifest}: a {estimator.rpartition('.')[2]}, not a {expected.rpartition('.')[2]}")
    params = record.get("params") or {}
    module = _module_class(params.get("module", ""), manifest)
    module_args = {k: v for k, v in params.items() if k.startswith("module__")}
    net = getattr(estimators, estimator.rpartition(".")[2])(module, device=device, amp=False, train_split=None,
                                                             **module_args)
    return load_run(net, model_dir), record


def load_cnn(model_dir: str | Path, *, device: str = "cpu") -> Any:
    """Rebuild the fitted spectrogram CNN of a ``save_run`` folder, ready for ``predict_proba``.

    Parameters
    ----------
    model_dir : str or Path
        Folder with ``model.pt`` and ``manifest.json`` (``models/<subject>/`` of a deep run).
    device : str, default="cpu"
        Torch device of the rebuilt estimator (a stream scores one window at a time: the CPU is the
        usual choice, and predictions on one device are reproducible).

    Returns
    -------
    SpectrogramCNNClassifier
        Initialized with the saved weights; ``n_channels_`` and ``n_times_`` give its input shape.

    Raises
    ------
    FileNotFoundError
        If ``model.pt`` or ``manifest.json`` is missing.
    ValueError
        If the manifest is not valid JSON, names another estimator (a fusion model: :func:`load_fusion`)
        or a module class outside :mod:`sklearn_eeg.models.nn`.
    """
    return _rebuild(model_dir, "cnn", device)[0]


def load_fusion(model_dir: str | Path, *, feature_set: str, window: float, device: str = "cpu") -> StreamingFusion:
    """Rebuild the fitted fusion network of a deep run's ``save_run`` folder with its feature scaling.

    Parameters
    ----------
    model_dir : str or Path
        Folder with ``model.pt`` and ``manifest.json`` (``models/<subject>/`` of a deep run of
        ``train_deep.py --model fusion``; the manifest holds ``feature_scaling``).
    feature_set : str
        The run's feature set (``features.feature_set`` of its config).
    window : float
        The run's window length in seconds (the windows' rate is ``n_times_ / window``).
    device : str, default="cpu"

    Returns
    -------
    StreamingFusion
        Reads windows: computes and standardises their features, then calls the network.

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`load_cnn`; also when the manifest has no feature scaling.
    """
    net, record = _rebuild(model_dir, "fusion", device)
    scaling = record.get("feature_scaling")
    if not isinstance(scaling, dict) or not {"mean", "scale"} <= set(scaling):
        raise ValueError(f"{Path(model_dir) / 'manifest.json'}: no feature_scaling (mean, scale) for the fusion features")
    return StreamingFusion(net, feature_set, net.n_times_ / float(window), scaling["mean"], scaling["scale"])
