"""Training targets of the skorch estimators: packed [label, y_soft, weight], onset weights, dataset labels."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset, Subset

__all__ = ["dataset_labels", "onset_sample_weight", "pack_targets"]


def pack_targets(
    y: np.ndarray, y_soft: np.ndarray | None = None, sample_weight: np.ndarray | None = None
) -> np.ndarray:
    """Stack the label, the soft-risk target and the sample weight into one training target.

    Parameters
    ----------
    y : array-like of shape (n_windows,)
        0/1 labels (1 = preictal).
    y_soft : array-like of shape (n_windows,), default=None
        Soft risk in [0, 1] (the window table's ``y_soft``); zeros when None.
    sample_weight : array-like of shape (n_windows,), default=None
        Non-negative per-window weights; ones when None.

    Returns
    -------
    ndarray of shape (n_windows, 3)
        float32 columns ``[label, y_soft, weight]``.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"y must contain only 0 and 1, got values {np.unique(y)[:10]}")
    cols = [y.astype(np.float32)]
    for name, arr, default in (("y_soft", y_soft, 0.0), ("sample_weight", sample_weight, 1.0)):
        if arr is None:
            cols.append(np.full(len(y), default, dtype=np.float32))
            continue
        arr = np.asarray(arr, dtype=np.float32)
        if arr.shape != y.shape:
            raise ValueError(f"{name} must have shape {y.shape}, got {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or inf")
        if name == "y_soft" and (arr.min() < 0 or arr.max() > 1):
            raise ValueError("y_soft must lie in [0, 1]")
        if name == "sample_weight" and (arr.min() < 0 or arr.sum() <= 0):
            raise ValueError("sample_weight must be non-negative with a positive sum")
        cols.append(arr)
    return np.stack(cols, axis=1)


def onset_sample_weight(y: np.ndarray, tte: np.ndarray, *, sop: float = 600.0, max_weight: float = 2.0) -> np.ndarray:
    """Weights that grow linearly towards seizure onset inside the preictal period.

    Interictal windows get 1; a preictal window with time to onset ``tte`` gets
    ``1 + (max_weight - 1) * (1 - clip(tte / sop, 0, 1))`` (``max_weight`` right before onset, about 1 at
    the start of the SOP). Pass the result as ``fit(..., sample_weight=...)``.

    Parameters
    ----------
    y : array-like of shape (n_windows,)
        0/1 labels.
    tte : array-like of shape (n_windows,)
        Seconds to the next onset (the window table's ``tte``; NaN for interictal is fine).
    sop : float, default=600.0
        Seizure occurrence period in seconds.
    max_weight : float, default=2.0
        Weight at onset (>= 1).

    Returns
    -------
    ndarray of shape (n_windows,)
        float32 weights.
    """
    if sop <= 0 or max_weight < 1:
        raise ValueError("need sop > 0 and max_weight >= 1")
    y = np.asarray(y)
    closeness = 1.0 - np.clip(np.nan_to_num(np.asarray(tte, dtype=float), nan=sop) / sop, 0.0, 1.0)
    return np.where(y == 1, 1.0 + (max_weight - 1.0) * closeness, 1.0).astype(np.float32)


def _subset_rows(dataset: Dataset) -> tuple[Dataset, np.ndarray]:
    """Unwrap nested ``Subset``s: the base dataset and the rows of it that ``dataset`` holds."""
    rows = np.arange(len(dataset))
    while isinstance(dataset, Subset):
        rows = np.asarray(dataset.indices)[rows]
        dataset = dataset.dataset
    return dataset, rows


def dataset_labels(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """0/1 labels of a (possibly subset) dataset and the row numbers in the fitted data."""
    base, rows = _subset_rows(dataset)
    y = getattr(base, "y", None)
    if y is None:
        raise ValueError(f"{type(base).__name__} exposes no `y`: labels are needed for pos_weight, sampling and scoring")
    y = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)
    y = y[rows]
    return (y if y.ndim == 1 else y[:, 0]).astype(np.int64), rows
