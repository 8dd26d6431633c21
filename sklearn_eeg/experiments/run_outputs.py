"""Run outputs: timestamped run folders, manifests, result tables, fitted models and training histories."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from sklearn_eeg.atomic_files import atomic_write, atomic_write_text
from sklearn_eeg.evaluation.alarm_scoring import lead_seizure_table
from sklearn_eeg.experiments.config import RunConfig, config_hash

__all__ = [
    "append_rows", "dataset_counts", "new_run_dir", "training_history", "write_csv", "write_lead_seizures", "write_manifest",
    "write_outputs",
]


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, cwd=Path(__file__).parent
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _n_lead_seizures(meta: pd.DataFrame) -> int:
    """Lead seizures of a window table: ``lead_seizure`` ids (with or without preictal windows)."""
    column = "lead_seizure" if "lead_seizure" in meta.columns else "seizure_id"
    ids = meta[column].fillna("").astype(str)
    if column == "seizure_id":
        ids = ids[meta["label"].to_numpy() == 1]
    return int(ids[ids != ""].nunique())


def dataset_counts(meta: pd.DataFrame) -> dict:
    """Subjects, windows per class and lead seizures of a window table (for manifests)."""
    labels = meta["label"].to_numpy()
    return {
        "n_subjects": int(meta["subject"].nunique()),
        "subjects": sorted(map(str, meta["subject"].unique())),
        "n_windows": len(meta),
        "n_preictal": int((labels == 1).sum()),
        "n_interictal": int((labels == 0).sum()),
        "n_lead_seizures": _n_lead_seizures(meta),
    }


def new_run_dir(out_dir: str | Path, kind: str, model_name: str) -> Path:
    """Create ``out_dir/runs/<UTC timestamp>_<kind>_<model>/`` (unique) and return it."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    base = Path(out_dir) / "runs" / f"{stamp}_{kind}_{model_name}"
    run_dir, n = base, 1
    while run_dir.exists():
        run_dir, n = base.with_name(f"{base.name}_{n}"), n + 1
    run_dir.mkdir(parents=True)
    return run_dir


def write_csv(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a result table as CSV atomically (a full disk or a kill leaves the previous file)."""
    return atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))


def append_rows(path: str | Path, rows: pd.DataFrame) -> Path:
    """Add ``rows`` to the CSV table ``path`` (created with its folder if missing), atomically.

    New columns widen the header (earlier rows get empty cells); the whole table is rewritten through a
    temporary file, so a kill or a full disk never leaves a half-written row.

    Parameters
    ----------
    path : str or Path
        CSV file.
    rows : DataFrame
        The rows to add.

    Returns
    -------
    Path
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file() and path.stat().st_size:
        rows = pd.concat([pd.read_csv(path), rows], ignore_index=True)
    return write_csv(rows, path)


def write_manifest(run_dir: Path, meta: pd.DataFrame, *, config: RunConfig | None, extra: dict) -> None:
    """Write ``manifest.json`` atomically: config and its hash, seed, dataset counts, git commit, time,
    the recordings the run could not read (``skipped_files``: path -> reason, from
    ``meta.attrs["skipped_files"]``) and ``extra`` (every run kind -- benchmarks, train, deep runs --
    writes its manifest here)."""
    manifest = {
        "created": datetime.now(timezone.utc).isoformat(),
        "git_commit": _git_commit(),
        "config": None if config is None else config.to_dict(),
        "config_hash": None if config is None else config_hash(config),
        "seed": None if config is None else config.seed,
        "dataset": dataset_counts(meta),
        "skipped_files": dict(meta.attrs.get("skipped_files", {})),
        **extra,
    }
    atomic_write_text(run_dir / "manifest.json", json.dumps(manifest, indent=2, default=_json_value))


def _json_value(value: Any) -> Any:
    """numpy scalars as numbers, anything else JSON does not know as its string."""
    return value.item() if isinstance(value, np.generic) else str(value)


def write_lead_seizures(run_dir: Path, meta: pd.DataFrame, *, config: RunConfig | None) -> Path:
    """Write ``lead_seizures.csv``: every lead seizure of the run's timeline, scorable or not, with the reason.

    Scored on each subject's full timeline (a LOSO test set); in patient-specific runs the seizure
    that closes a training block is also not scorable in the next test block (its alarm window was
    training time), which the result tables count as ``n_not_scorable``.
    """
    sop, sph = (config.labeling.sop, config.labeling.sph) if config is not None else (600.0, 30.0)
    path = run_dir / "lead_seizures.csv"
    return write_csv(lead_seizure_table(meta, sop=sop, sph=sph), path)


def write_outputs(out_dir, kind, model_name, results, summary, fold_results, meta, *, config, extra) -> Path:
    """Write a benchmark's outputs: result and summary tables (``<out_dir>/tables`` and the run folder),
    the manifest, the fitted models and ``lead_seizures.csv``; returns the new run folder."""
    tables = Path(out_dir) / "tables"
    tables.mkdir(parents=True, exist_ok=True)
    write_csv(results, tables / f"{kind}_results.csv")
    write_csv(summary, tables / f"{kind}_summary.csv")
    run_dir = new_run_dir(out_dir, kind, model_name)
    write_manifest(run_dir, meta, config=config, extra={"kind": kind, "model": model_name, **extra})
    write_csv(results, run_dir / f"{kind}_results.csv")
    write_csv(summary, run_dir / f"{kind}_summary.csv")
    write_lead_seizures(run_dir, meta, config=config)
    (run_dir / "models").mkdir()
    for name, result in fold_results.items():
        model = result.get("model", result.get("models"))
        atomic_write(run_dir / "models" / f"{name}.joblib", lambda tmp: joblib.dump(model, tmp))
        history = training_history(model)
        if history:
            (run_dir / "histories").mkdir(exist_ok=True)
            atomic_write_text(run_dir / "histories" / f"{name}.json", json.dumps(history))
    return run_dir


def training_history(model: Any) -> list[dict]:
    """Per-epoch scalar entries of a fitted deep estimator's skorch history (empty for other models).

    Parameters
    ----------
    model : estimator or Pipeline
        A fitted model; a :class:`~sklearn.pipeline.Pipeline` is looked into through its last step.

    Returns
    -------
    list of dict
        One dict per epoch with the numeric and boolean entries (``epoch``, ``train_loss``,
        ``valid_loss``, ``valid_auroc``...); batch-level entries are dropped.
    """
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    history = getattr(final, "history", None)
    if not isinstance(history, Sequence) or isinstance(history, (str, bytes)):
        return []
    return [
        {k: (v.item() if isinstance(v, np.generic) else v) for k, v in dict(epoch).items()
         if k != "batches" and isinstance(v, (int, float, bool, np.generic))}
        for epoch in history
    ]
