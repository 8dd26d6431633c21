"""Resumable fold results: atomic writes, completion markers and the run key that validates them.

Each fold writes its result atomically (temporary file + ``os.replace``) and then a completion
marker. A rerun skips finished folds whose run key (a fingerprint of the data, estimator,
splits, alarm parameters and seed) matches, so a resumed run gives exactly the result of an
uninterrupted one.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from sklearn_eeg.atomic_files import atomic_write

__all__ = ["META_COLUMNS", "SCORING_COLUMNS", "FoldStore", "FoldStoreError", "fingerprint"]

logger = logging.getLogger(__name__)

# window-table columns every benchmark needs; the run key hashes them
META_COLUMNS = ("subject", "recording", "t_abs", "label", "tte", "seizure_id")
# columns the alarm scoring reads when present (exempt ictal/postictal alarms, unscorable seizures)
SCORING_COLUMNS = ("state", "lead_seizure")


class FoldStore:
    """Atomic per-fold results plus completion markers in one directory.

    Parameters
    ----------
    directory : str or Path
        Created on first write.
    key : str
        Run key; a marker written under another key does not count as done.
    """

    def __init__(self, directory: str | Path, key: str):
        self.directory = Path(directory)
        self.key = key

    def _paths(self, name: str) -> tuple[Path, Path]:
        return self.directory / f"{name}.joblib", self.directory / f"{name}.done"

    def is_done(self, name: str) -> bool:
        """Whether fold ``name`` finished under this run key (an unreadable marker: not done, with a warning)."""
        result, marker = self._paths(name)
        if not (result.is_file() and marker.is_file()):
            return False
        try:
            record = json.loads(marker.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            logger.warning("%s is unreadable (%s): fold %s will be recomputed", marker, exc, name)
            return False
        return isinstance(record, dict) and record.get("key") == self.key

    def save(self, name: str, result: dict) -> None:
        """Write ``result`` atomically, then the completion marker."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path, marker = self._paths(name)
        marker.unlink(missing_ok=True)
        atomic_write(path, lambda p: joblib.dump(result, p))
        atomic_write(marker, lambda p: p.write_text(json.dumps({"key": self.key, "fold": name})))

    def load(self, name: str) -> dict:
        """Read a finished fold's result.

        Raises
        ------
        FoldStoreError
            If the result file cannot be read; the message names it and the way out.
        """
        path = self._paths(name)[0]
        try:
            return joblib.load(path)
        except Exception as exc:  # a damaged pickle raises anything from EOFError to KeyError
            raise FoldStoreError(
                f"{path}: fold result is unreadable ({type(exc).__name__}: {exc}); "
                "delete it (or rerun with --force) to recompute the fold"
            ) from None


class FoldStoreError(ValueError):
    """A finished fold's stored result cannot be read."""


def fingerprint(*arrays: Any) -> str:
    """Cheap content hash: small arrays fully, wide rows (raw windows) on a regular subsample, lazy window arrays by identity."""
    parts = []
    for a in arrays:
        if hasattr(a, "identity"):  # a lazy WindowArray: named by its store rows, never read
            parts.append(a.identity())
        elif isinstance(a, np.ndarray) and a.ndim >= 2:
            flat = a.reshape(len(a), -1)
            step = max(1, flat.shape[1] // 4096)
            parts.append((a.shape, a.dtype.str, np.ascontiguousarray(flat[:, ::step])))
        elif isinstance(a, pd.DataFrame):
            columns = [*META_COLUMNS, *(c for c in SCORING_COLUMNS if c in a.columns)]
            parts.append(pd.util.hash_pandas_object(a[columns], index=False).to_numpy())
        else:
            parts.append(a)
    return joblib.hash(parts)[:16]
