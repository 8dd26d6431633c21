"""The *predictions* file: per-window risk scores written by evaluation runs and read by figures and the app.

Format
------
One row per window, sorted by ``subject`` then ``t_abs``, saved in a run folder as
``predictions.parquet`` or ``predictions.csv`` (:func:`sklearn_eeg.experiments.benchmark.run_loso` writes the
latter, with a ``fold`` column):

=============  =======  ==========================================================================
column         type     meaning
=============  =======  ==========================================================================
``subject``    str      test subject (``chb01``)
``recording``  str      file stem (``chb01_03``)
``t_abs``      float    window end in s on the subject timeline (the window-table ``t_abs``)
``risk``       float    predicted preictal probability in [0, 1] (unsmoothed model output)
``label``      int      1 preictal, 0 interictal, -1 for any other state kept for display
``tte``        float    s to the next seizure onset, NaN when none follows in the recording set
``state``      str      ``interictal``, ``preictal``, ``ictal``, ``postictal`` or ``excluded``
=============  =======  ==========================================================================

``tte``, ``state`` and ``seizure_id`` (of the upcoming seizure, "" otherwise) are recommended: without
them seizure onsets and alarm metrics are unavailable; when absent they are filled with NaN, the state
implied by ``label`` and "". Optional: ``fold``, ``fah_target``, ``threshold``, ``t_start``.
Seizure onsets are recovered as ``t_abs + tte``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_eeg.atomic_files import atomic_write

from ._checks import check_columns

#: Columns of a predictions table (after :func:`validate_predictions`).
PREDICTION_COLUMNS: tuple[str, ...] = ("subject", "recording", "t_abs", "risk", "label", "tte", "state",
                                       "seizure_id", "lead_seizure")

#: Columns a predictions file must have; the others are filled in when absent.
REQUIRED_COLUMNS: tuple[str, ...] = ("subject", "recording", "t_abs", "risk", "label")

#: File names looked for in a run folder, in order of preference.
PREDICTION_FILES: tuple[str, ...] = ("predictions.parquet", "predictions.csv")


def validate_predictions(pred: pd.DataFrame) -> pd.DataFrame:
    """Check the predictions contract and return a copy sorted by subject and ``t_abs``.

    Parameters
    ----------
    pred : DataFrame
        Table with at least :data:`REQUIRED_COLUMNS`.

    Returns
    -------
    DataFrame
        Sorted copy with all :data:`PREDICTION_COLUMNS`; ``subject``/``recording``/``state``/``seizure_id``/
        ``lead_seizure`` as str and numeric columns as float. A file without ``lead_seizure`` (older
        runs) is scored with the seizures of its preictal windows.
    """
    check_columns(pred, REQUIRED_COLUMNS, "predictions")
    out = pred.copy()
    if "tte" not in out.columns:
        out["tte"] = np.nan
    if "state" not in out.columns:
        out["state"] = np.where(out["label"].to_numpy() == 1, "preictal", "interictal")
    for col in ("seizure_id", "lead_seizure"):
        if col not in out.columns:
            out[col] = ""
        out[col] = out[col].astype(object).where(out[col].notna(), "")
    for col in ("subject", "recording", "state", "seizure_id", "lead_seizure"):
        out[col] = out[col].astype(str)
    for col in ("t_abs", "risk", "tte"):
        out[col] = pd.to_numeric(out[col], errors="raise").astype(float)
    out["label"] = pd.to_numeric(out["label"], errors="raise").astype(int)
    risk = out["risk"].to_numpy()
    if np.any((risk[np.isfinite(risk)] < 0) | (risk[np.isfinite(risk)] > 1)):
        raise ValueError("predictions column 'risk' must lie in [0, 1]")
    return out.sort_values(["subject", "t_abs"], kind="stable").reset_index(drop=True)


def find_predictions(run_dir: str | Path) -> Path | None:
    """Return the predictions file of ``run_dir`` (see :data:`PREDICTION_FILES`) or None."""
    for name in PREDICTION_FILES:
        path = Path(run_dir) / name
        if path.is_file():
            return path
    return None


def read_predictions(path: str | Path) -> pd.DataFrame:
    """Read and validate a predictions file (``.parquet`` or ``.csv``), or the one inside a run folder.

    Raises
    ------
    FileNotFoundError
        When the file (or a predictions file in the folder) does not exist.
    ValueError
        When the table breaks the contract.
    """
    path = Path(path)
    if path.is_dir():
        found = find_predictions(path)
        if found is None:
            raise FileNotFoundError(f"no {' or '.join(PREDICTION_FILES)} in {path}")
        path = found
    if not path.is_file():
        raise FileNotFoundError(f"predictions file not found: {path}")
    if path.suffix == ".parquet":
        table = pd.read_parquet(path)
    elif path.suffix == ".csv":
        table = pd.read_csv(path, dtype={"subject": str, "recording": str, "state": str, "seizure_id": str,
                                         "lead_seizure": str})
    else:
        raise ValueError(f"predictions must be .parquet or .csv, got {path.name}")
    return validate_predictions(table)


def write_predictions(pred: pd.DataFrame, path: str | Path) -> Path:
    """Validate ``pred`` and write it to ``path`` (``.parquet`` or ``.csv``); return the path."""
    path = Path(path)
    table = validate_predictions(pred)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        atomic_write(path, lambda tmp: table.to_parquet(tmp, index=False))
    elif path.suffix == ".csv":
        atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))
    else:
        raise ValueError(f"predictions must be .parquet or .csv, got {path.name}")
    return path


def infer_onsets(pred: pd.DataFrame, *, resolution_s: float = 1.0) -> np.ndarray:
    """Seizure onsets (s on the subject timeline) recovered as ``t_abs + tte`` for one subject's rows.

    Parameters
    ----------
    pred : DataFrame
        Rows of one subject with ``t_abs`` and ``tte``.
    resolution_s : float, default 1.0
        Onsets closer than this are merged (rounding of ``tte``).

    Returns
    -------
    ndarray of shape (n_seizures,)
        Sorted unique onsets.
    """
    check_columns(pred, ("t_abs", "tte"), "predictions")
    onsets = (pred["t_abs"] + pred["tte"]).to_numpy(dtype=float)
    onsets = np.sort(onsets[np.isfinite(onsets)])
    if onsets.size == 0:
        return onsets
    keep = np.concatenate([[True], np.diff(onsets) > resolution_s])
    return onsets[keep]


def break_gaps(t: np.ndarray, values: np.ndarray, *, max_step: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Insert NaN between samples further apart than ``max_step`` so a line plot breaks at gaps.

    Parameters
    ----------
    t : ndarray of shape (n,)
        Increasing times in s.
    values : ndarray of shape (n,)
        Values at ``t``.
    max_step : float, optional
        Largest step drawn as a line; default 1.5 × the median step.

    Returns
    -------
    t_out, values_out : ndarray
        Arrays with one NaN sample inserted inside every gap.
    """
    t = np.asarray(t, dtype=float)
    values = np.asarray(values, dtype=float)
    if t.shape != values.shape or t.ndim != 1:
        raise ValueError(f"t {t.shape} and values {values.shape} must be 1-D of the same length")
    if t.size < 2:
        return t, values
    steps = np.diff(t)
    if max_step is None:
        max_step = 1.5 * float(np.median(steps))
    gaps = np.flatnonzero(steps > max_step)
    t_out = np.insert(t, gaps + 1, t[gaps] + steps[gaps] / 2)
    v_out = np.insert(values, gaps + 1, np.nan)
    return t_out, v_out
