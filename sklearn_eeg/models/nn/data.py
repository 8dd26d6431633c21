"""Torch dataset over the on-disk window store (one ``.npy`` array of windows per recording)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

__all__ = ["MemmapWindowDataset"]


class MemmapWindowDataset(Dataset):
    """Windows read on demand from per-recording ``.npy`` files opened with ``mmap_mode="r"``.

    Each file is memory-mapped at most once per process, lazily, on first access; the maps are not
    pickled and are reopened after a fork, so the dataset is safe with ``DataLoader(num_workers > 0)``.
    ``__getitem__`` is O(1) and copies one window; the whole store is never loaded into memory.

    Parameters
    ----------
    files : sequence of str or Path
        ``.npy`` files, each an array of shape (n_windows_in_file, n_channels, n_times).
    index : array-like of shape (n_windows, 2)
        Rows ``(file_number, row_in_file)``: item ``i`` is ``np.load(files[index[i, 0]])[index[i, 1]]``.
    y : array-like of shape (n_windows,) or (n_windows, n_targets), default=None
        Targets returned with each window (as float32); ``None`` returns a dummy 0 (prediction).

    Attributes
    ----------
    n_channels, n_times : int
        Window shape, read from the first file's header.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> d = tempfile.mkdtemp(); f = os.path.join(d, "rec.npy")
    >>> np.save(f, np.zeros((5, 18, 2560), dtype=np.float32))
    >>> ds = MemmapWindowDataset([f], np.c_[np.zeros(5, int), np.arange(5)], y=np.arange(5) % 2)
    >>> x, y = ds[3]; tuple(x.shape), float(y)
    ((18, 2560), 1.0)
    """

    def __init__(self, files: Sequence[str | os.PathLike], index: np.ndarray, y: np.ndarray | None = None) -> None:
        self.files = [str(Path(f)) for f in files]
        index = np.asarray(index)
        if index.ndim != 2 or index.shape[1] != 2 or not np.issubdtype(index.dtype, np.integer):
            raise ValueError(f"index must be an integer array of shape (n_windows, 2), got {index.shape} {index.dtype}")
        if len(index) and (index[:, 0].min() < 0 or index[:, 0].max() >= len(self.files) or index[:, 1].min() < 0):
            raise ValueError("index refers to a file number or row outside the store")
        self.index = index
        self.y = None if y is None else np.asarray(y, dtype=np.float32)
        if self.y is not None and len(self.y) != len(index):
            raise ValueError(f"y has {len(self.y)} rows but index has {len(index)}")
        if not self.files:
            raise ValueError("files is empty")
        first = np.load(self.files[0], mmap_mode="r")
        if first.ndim != 3:
            raise ValueError(f"{self.files[0]}: expected (n_windows, n_channels, n_times), got shape {first.shape}")
        self.n_channels, self.n_times = int(first.shape[1]), int(first.shape[2])
        del first
        self._maps: dict[int, np.ndarray] = {}
        self._pid = os.getpid()

    def __len__(self) -> int:
        return len(self.index)

    def _map(self, file_number: int) -> np.ndarray:
        if self._pid != os.getpid():  # forked worker: do not reuse the parent's maps
            self._maps, self._pid = {}, os.getpid()
        arr = self._maps.get(file_number)
        if arr is None:
            arr = np.load(self.files[file_number], mmap_mode="r")
            if arr.shape[1:] != (self.n_channels, self.n_times):
                raise ValueError(
                    f"{self.files[file_number]}: window shape {arr.shape[1:]} differs from "
                    f"{(self.n_channels, self.n_times)} of {self.files[0]}"
                )
            self._maps[file_number] = arr
        return arr

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        file_number, row = self.index[i]
        x = torch.from_numpy(np.array(self._map(int(file_number))[row], dtype=np.float32))
        y = torch.zeros((), dtype=torch.float32) if self.y is None else torch.from_numpy(np.asarray(self.y[i]))
        return x, y

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_maps"] = {}
        return state
