"""The cohort on disk: every record read once into one ``.npy`` signal store, then read lazily.

:func:`build_signal_store` reads the records of a label table one at a time (bounded memory) into a
``(n_records, n_leads, n_times)`` float32 array written as a memory-mapped ``.npy`` file, keyed on the
record files (path, size, modification time) and the reading parameters, so a second run reuses it.
:class:`RecordDataset` serves rows of that store to torch one record at a time; nothing holds the
whole cohort in memory (PTB-XL at 500 Hz is 21,799 x 12 x 5,000 float32 = 5.2 GB).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from sklearn_eeg.atomic_files import atomic_write

from .records import find_record, read_ecg_record

__all__ = ["RecordDataset", "build_signal_store"]

STORE_VERSION = 1
"""Bump when the reading code changes what a store holds."""


def _store_key(files: Sequence[Path], leads: Sequence[str], sfreq: float, n_times: int) -> str:
    """Hash of the record files (path, size, mtime) and the reading parameters."""
    stats = [(str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    text = json.dumps({"files": stats, "leads": list(leads), "sfreq": sfreq, "n_times": n_times, "v": STORE_VERSION})
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def build_signal_store(
    table: pd.DataFrame,
    data_root: str | os.PathLike,
    store_dir: str | os.PathLike,
    *,
    leads: Sequence[str],
    sfreq: float,
    n_times: int,
    progress: bool = True,
) -> Path:
    """Read every record of ``table`` once into a ``.npy`` store under ``store_dir`` (reused when current).

    Parameters
    ----------
    table : DataFrame
        Label table (:func:`~sklearn_eeg.ecg.labels.read_label_table`); its ``record`` order is the
        store's row order.
    data_root : str or path-like
        Folder the record names are relative to.
    store_dir : str or path-like
        Cache folder for the store.
    leads, sfreq, n_times
        As in :func:`~sklearn_eeg.ecg.records.read_ecg_record`.
    progress : bool, default=True
        Progress bar while reading.

    Returns
    -------
    Path
        ``store-<key>.npy`` of shape (n_records, n_leads, n_times), float32, millivolts.

    Raises
    ------
    ECGDataError
        A record listed in the table is missing or unreadable (before anything is written).
    """
    data_root = Path(data_root)
    if not data_root.is_dir():
        raise FileNotFoundError(f"data folder {str(data_root)!r} does not exist")
    files = [find_record(data_root, record) for record in table["record"]]
    sidecars = [f.with_suffix(".dat") for f in files if f.suffix == ".hea" and f.with_suffix(".dat").is_file()]
    path = Path(store_dir) / f"store-{_store_key(files + sidecars, leads, sfreq, n_times)}.npy"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        store = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(len(files), len(leads), n_times))
        for i, file in enumerate(tqdm(files, desc="reading ECG records", unit="record", disable=not progress)):
            store[i] = read_ecg_record(file, leads, sfreq=sfreq, n_times=n_times)
        store.flush()
        del store

    return atomic_write(path, write)


class RecordDataset(Dataset):
    """Rows of a signal store served one record at a time: ``(x (n_leads, n_times) float32, y float32)``.

    The store is memory-mapped lazily on first access (and again after a fork), never loaded whole.

    Parameters
    ----------
    store : str or path-like
        ``.npy`` file of shape (n_records, n_leads, n_times).
    rows : array-like of int
        Store rows of this dataset, in order.
    y : array-like of shape (len(rows),), default=None
        0/1 labels (None: a dummy 0, for prediction).

    Attributes
    ----------
    y : ndarray of shape (len(rows),) or None
        The labels (read by the estimators for ``pos_weight`` and scoring).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "s.npy"); np.save(f, np.ones((4, 8, 1000), np.float32))
    >>> x, y = RecordDataset(f, [3, 1], y=[1, 0])[0]; x.shape, float(y)
    ((8, 1000), 1.0)
    """

    def __init__(self, store: str | os.PathLike, rows: Sequence[int], y: Sequence[int] | None = None) -> None:
        self.store = str(store)
        self.rows = np.asarray(rows, dtype=np.int64)
        self.y = None if y is None else np.asarray(y, dtype=np.float32)
        if self.y is not None and len(self.y) != len(self.rows):
            raise ValueError(f"y has {len(self.y)} rows but rows has {len(self.rows)}")
        self._map: np.ndarray | None = None
        self._pid = os.getpid()

    def __len__(self) -> int:
        return len(self.rows)

    def _signals(self) -> np.ndarray:
        if self._map is None or self._pid != os.getpid():
            self._map, self._pid = np.load(self.store, mmap_mode="r"), os.getpid()
        return self._map

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.float32]:
        x = np.array(self._signals()[self.rows[i]], dtype=np.float32)
        return x, np.float32(0.0 if self.y is None else self.y[i])

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_map": None}
