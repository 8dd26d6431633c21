"""Chronological train/validation split of the training windows (the estimators' ``train_split``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["ChronologicalSplit"]


class ChronologicalSplit:
    """One train/validation split holding out the last ``valid_fraction`` of the rows of each group.

    Rows are assumed to be in time order within each group (as ``load_windows`` returns them), so the
    validation windows are later than every training window of their group: no future data leaks into
    training and, with ``groups`` = subject, every training subject is represented in validation. The
    split boundary is not padded, so the first validation window may overlap the last training window
    by the window stride.

    Parameters
    ----------
    valid_fraction : float, default=0.2
        Fraction in (0, 1) held out per group (at least one row per group of two or more rows).

    Examples
    --------
    >>> train, valid = next(ChronologicalSplit(0.25).split(np.arange(8)))
    >>> valid.tolist()
    [6, 7]
    """

    def __init__(self, valid_fraction: float = 0.2) -> None:
        self.valid_fraction = valid_fraction

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Always 1."""
        return 1

    def split(self, X: Any, y: Any = None, groups: np.ndarray | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield one ``(train_index, valid_index)`` pair.

        Parameters
        ----------
        X : array-like of length n_samples
        y : ignored
        groups : array-like of shape (n_samples,), default=None
            Group of each row (e.g. subject); None treats all rows as one group.
        """
        if not 0.0 < self.valid_fraction < 1.0:
            raise ValueError(f"valid_fraction must be in (0, 1), got {self.valid_fraction}")
        n = len(X)
        groups = np.zeros(n) if groups is None else np.asarray(groups)
        if len(groups) != n:
            raise ValueError(f"groups has {len(groups)} rows, X has {n}")
        is_valid = np.zeros(n, dtype=bool)
        for g in np.unique(groups):
            rows = np.flatnonzero(groups == g)
            n_valid = int(round(self.valid_fraction * len(rows)))
            n_valid = min(max(n_valid, 1), len(rows) - 1) if len(rows) > 1 else 0
            if n_valid:
                is_valid[rows[-n_valid:]] = True
        if not is_valid.any():
            raise ValueError("too few rows to hold out a validation split")
        yield np.flatnonzero(~is_valid), np.flatnonzero(is_valid)

    def __repr__(self) -> str:
        return f"ChronologicalSplit(valid_fraction={self.valid_fraction})"
