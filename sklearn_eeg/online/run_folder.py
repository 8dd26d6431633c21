"""What a run folder gives the online forecaster: the fitted model, its tuned threshold and its alarm rule.

Three kinds of run folder are read:

* a LOSO run (``pipelines/loso.py``): ``models/fold_<subject>.joblib``, one model per test subject, and
  ``loso_results.csv`` with the threshold each fold tuned on its validation subjects per FAH target;
* a train run (``pipelines/train_baseline.py``): ``model.joblib`` and ``results.csv``;
* a deep run (``pipelines/train_deep.py``, :mod:`sklearn_eeg.experiments.deep_training`) of the spectrogram
  CNN or the fusion network: ``models/<subject>/`` (``model.pt`` + ``manifest.json``, see
  :func:`~sklearn_eeg.online.deep_run.load_cnn` and :func:`~sklearn_eeg.online.deep_run.load_fusion`),
  one model per test subject, and ``thresholds.csv`` with the threshold each model tuned on its
  validation tail per FAH target.

The window length and stride come from the manifest's ``labeling`` section, the feature set from its
``features`` section, and the alarm rule from its ``alarms`` and ``labeling`` sections
(:func:`sklearn_eeg.reporting.run_figures.run_alarm_policy`). Feature-matrix models (classical and chance
baselines) are scored on the window's features, the CNN on the filtered window itself (``feature_set`` None),
a fusion network on both (:class:`~sklearn_eeg.online.streaming_fusion.StreamingFusion` computes the features
from the window and standardises them with the statistics its deep run saved; ``feature_set`` None).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from sklearn_eeg.evaluation.alarms import AlarmPolicy
from sklearn_eeg.models.registry import DEEP_MODELS, STREAMABLE_MODELS
from sklearn_eeg.online.deep_run import load_cnn, load_fusion

__all__ = ["PREFERRED_FAH_TARGET", "RunModel", "load_run_model"]

PREFERRED_FAH_TARGET = 0.5
"""False alarms per hour whose tuned threshold is used when none is asked for (if the run tuned one)."""


@dataclass(frozen=True)
class RunModel:
    """A fitted model of a run folder with everything needed to stream it.

    Attributes
    ----------
    model : estimator
        Fitted classifier with ``predict_proba`` on the feature matrix (the windows when
        ``feature_set`` is None).
    threshold : float
        The alarm threshold tuned for ``fah_target``.
    fah_target : float
        False alarms per hour the threshold was tuned for.
    policy : AlarmPolicy
        The run's alarm rule.
    window, stride : float
        Window length and step in seconds.
    feature_set : str or None
        Feature set the model was trained on; None for a model that reads the windows (the CNN).
    source : dict
        ``run_dir``, ``subject`` and ``fah_target``: how to load the same model again (saved states
        reference the model by this, never by pickling it).
    """

    model: Any
    threshold: float
    fah_target: float
    policy: AlarmPolicy
    window: float
    stride: float
    feature_set: str | None
    source: dict


def _pick_subject(run_dir: Path, subjects: list[str], subject: str | None) -> str:
    if subject is None and len(subjects) > 1:
        raise ValueError(f"{run_dir} holds one model per test subject; pass subject= (one of {subjects})")
    subject = subjects[0] if subject is None else str(subject)
    if subject not in subjects:
        raise ValueError(f"{run_dir} has no model for subject {subject!r}; it has {subjects}")
    return subject


def _classical_model(run_dir: Path, subject: str | None) -> tuple[Any, pd.DataFrame, str | None]:
    """The fitted model, its rows of the results table, and the subject it was tested on."""
    folds = sorted((run_dir / "models").glob("fold_*.joblib"))
    if folds:
        subject = _pick_subject(run_dir, [p.stem.removeprefix("fold_") for p in folds], subject)
        results = pd.read_csv(run_dir / "loso_results.csv")
        return (joblib.load(run_dir / "models" / f"fold_{subject}.joblib"),
                results[results["test_subject"].astype(str) == subject], subject)
    if (run_dir / "model.joblib").is_file():
        return joblib.load(run_dir / "model.joblib"), pd.read_csv(run_dir / "results.csv"), subject
    raise ValueError(f"{run_dir} is not a LOSO or train run folder: no models/fold_*.joblib and no model.joblib")


def _deep_model(run_dir: Path, subject: str | None, name: str, feature_set: str, window: float
                ) -> tuple[Any, pd.DataFrame, str]:
    """The network of a deep run's subject (a fusion one wrapped to read windows), its rows of
    ``thresholds.csv``, and the subject."""
    subjects = sorted(p.parent.name for p in (run_dir / "models").glob("*/model.pt"))
    if not subjects:
        raise ValueError(f"{run_dir} is not a deep run folder: no models/<subject>/model.pt")
    subject = _pick_subject(run_dir, subjects, subject)
    thresholds = run_dir / "thresholds.csv"
    if not thresholds.is_file():
        raise FileNotFoundError(f"{thresholds} not found: the deep run did not finish")
    results = pd.read_csv(thresholds)
    model_dir = run_dir / "models" / subject
    model = load_fusion(model_dir, feature_set=feature_set, window=window) if name == "fusion" else load_cnn(model_dir)
    return model, results[results["subject"].astype(str) == subject], subject


def load_run_model(run_dir: str | Path, subject: str | None = None, *, fah_target: float | None = None) -> RunModel:
    """Load a run folder's fitted model with its tuned threshold and alarm rule.

    Parameters
    ----------
    run_dir : str or Path
        A LOSO or train run folder (``manifest.json`` and the model files).
    subject : str, optional
        Test subject whose fold model to use (LOSO runs with several folds need it).
    fah_target : float, optional
        FAH target whose tuned threshold to use; default :data:`PREFERRED_FAH_TARGET` when the run
        tuned it, else the run's smallest target.

    Returns
    -------
    RunModel

    Raises
    ------
    FileNotFoundError
        If the folder or one of its files is missing.
    ValueError
        If the folder is not a run folder, the subject or FAH target is not in it, or its model cannot
        stream (a multi-phase model).
    """
    from sklearn_eeg.reporting.run_figures import run_alarm_policy  # imports matplotlib: only when used

    run_dir = Path(run_dir)
    manifest = run_dir / "manifest.json"
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest} not found: not a run folder")
    try:
        config = json.loads(manifest.read_text(encoding="utf-8")).get("config") or {}
    except (ValueError, AttributeError) as err:  # invalid JSON, not UTF-8, or not a JSON object
        raise ValueError(f"{manifest}: not a run manifest ({err})") from err
    name = (config.get("model") or {}).get("name", "logreg")
    if name not in STREAMABLE_MODELS:
        raise ValueError(f"{manifest}: model.name {name!r} cannot stream; streamable models: {STREAMABLE_MODELS}")
    labeling = config.get("labeling") or {}
    window = float(labeling.get("window", 10.0))
    feature_set = str((config.get("features") or {}).get("feature_set", "basic_plus"))
    deep = name in DEEP_MODELS
    if deep:
        model, results, subject = _deep_model(run_dir, subject, name, feature_set, window)
    else:
        model, results, subject = _classical_model(run_dir, subject)
    results = results[np.isfinite(results["threshold"].astype(float))]
    targets = sorted(results["fah_target"].astype(float).unique())
    if not targets:
        raise ValueError(f"{run_dir} has no tuned threshold" + (f" for subject {subject}" if subject else ""))
    if fah_target is None:
        fah_target = next((t for t in targets if np.isclose(t, PREFERRED_FAH_TARGET)), targets[0])
    chosen = results[np.isclose(results["fah_target"].astype(float), fah_target)]
    if chosen.empty:
        raise ValueError(f"{run_dir} tuned no threshold for FAH target {fah_target}; it has {targets}")
    return RunModel(
        model=model,
        threshold=float(chosen["threshold"].iloc[0]),
        fah_target=float(fah_target),
        policy=run_alarm_policy(run_dir),
        window=window,
        stride=float(labeling.get("stride", 5.0)),
        feature_set=None if deep else feature_set,
        source={"run_dir": str(run_dir.resolve()), "subject": subject, "fah_target": float(fah_target)},
    )
