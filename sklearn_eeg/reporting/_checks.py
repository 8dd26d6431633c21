"""Input checks shared by the plotting and table functions."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def check_columns(df: pd.DataFrame, required: Iterable[str], name: str) -> None:
    """Raise ``ValueError`` naming ``name`` and the missing columns when ``df`` lacks any of ``required``."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [col for col in required if col not in df.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {missing}; it has {list(df.columns)}")


def as_1d(values: object, name: str, *, allow_empty: bool = False) -> np.ndarray:
    """Return ``values`` as a 1-D float array, raising ``ValueError`` with ``name`` otherwise."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} is empty")
    return arr


def same_length(**arrays: np.ndarray) -> None:
    """Raise ``ValueError`` when the named 1-D arrays differ in length."""
    lengths = {name: len(arr) for name, arr in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"arrays must have the same length, got {lengths}")
