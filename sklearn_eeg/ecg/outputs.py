"""The run folder of an ECG run: manifest, tables and figures, each written atomically."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from sklearn_eeg.atomic_files import atomic_write_text
from sklearn_eeg.experiments.run_outputs import training_history, write_csv
from sklearn_eeg.reporting._style import save_figure

from .figures import plot_confusion, plot_pr, plot_roc
from .scores import roc_band
from .workflow import ECGRun

__all__ = ["write_run"]


def write_run(run_dir: Path, run: ECGRun, config: dict, *, n_boot: int, seed: int, figures: bool = True) -> list[Path]:
    """Write ``manifest.json``, ``metrics.csv``, ``predictions.csv``, ``patient_predictions.csv``,
    ``history.csv`` and the figures.

    ``metrics.csv`` is :attr:`ECGRun.metrics`: a ``level`` column (``record``, ``patient``) and the test
    scores with their bootstrap CIs. The figures show the record level.

    Parameters
    ----------
    run_dir : Path
        Existing run folder.
    run : ECGRun
    config : dict
        The run's options (written to the manifest).
    n_boot, seed : int
        Bootstrap resamples and seed of the ROC band.
    figures : bool, default=True
        ``roc.png``, ``pr.png``, ``confusion.png`` (test records).

    Returns
    -------
    list of Path
        The files written.
    """
    test = run.predictions[run.predictions["side"] == "test"]
    record_metrics = run.metrics[run.metrics["level"] == "record"]
    n_test_patients = len(run.patients["test"])
    manifest = {
        "created": datetime.now(timezone.utc).isoformat(),
        "config": config,
        "seed": seed,
        "patients_per_side": {side: len(ids) for side, ids in run.patients.items()},
        "patients": run.patients,
        "threshold": run.threshold,
        "threshold_rule": run.threshold_rule,
        "patient_threshold": run.patient_threshold,
        "patient_threshold_rule": run.patient_threshold_rule,
        "patient_score": "mean of the patient's record probabilities; patient label 1 when any record is positive",
        **run.extra,
    }
    written = [
        atomic_write_text(run_dir / "manifest.json", json.dumps(manifest, indent=2, default=str)),
        write_csv(run.metrics, run_dir / "metrics.csv"),
        write_csv(run.predictions, run_dir / "predictions.csv"),
        write_csv(run.patient_predictions, run_dir / "patient_predictions.csv"),
        write_csv(pd.DataFrame(training_history(run.classifier)), run_dir / "history.csv"),
    ]
    if figures:
        y, score = test["label"].to_numpy(), test["score"].to_numpy()
        band = roc_band(y, score, test["patient"].to_numpy(), n_boot=n_boot, random_state=seed)
        for name, fig in (
            ("roc.png", plot_roc(band, record_metrics, n_patients=n_test_patients, n_records=len(test))),
            ("pr.png", plot_pr(y, score, record_metrics, n_patients=n_test_patients)),
            ("confusion.png", plot_confusion(y, score, run.threshold, n_patients=n_test_patients)),
        ):
            written.append(save_figure(fig, run_dir / name))
    return written
