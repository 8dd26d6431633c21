"""Shared fixtures: the real third-party data in ../shared/fixtures (skipped where absent)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import os

import numpy as np
import pandas as pd
import pytest

SHARED_FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"

# Plain `pytest` uses the checkout's cache/ folder, as `make test` does (Makefile: SKLEARN_EEG_CACHE).
os.environ.setdefault("SKLEARN_EEG_CACHE", str(Path(__file__).resolve().parents[1] / "cache"))


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """Root of ../shared/fixtures; tests using it skip on a user's clone where it is absent."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"real reference data not found at {SHARED_FIXTURES} (only present in the project's CI)")
    return SHARED_FIXTURES


def make_window_table(
    effect: float,
    *,
    onsets_h: Sequence[float],
    n_subjects: int = 4,
    hours: float = 12.0,
    n_features: int = 5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """Features, labels, groups and the full window table of hand-made subjects (10-s windows, 5-s stride).

    Every subject has (lead) seizures of 60 s at ``onsets_h`` hours; preictal = 30-600 s before an
    onset, interictal >= 30 min from every onset, all other windows kept as excluded (label -1, with
    their ``state``: ictal, 10-min postictal or excluded), as on a real timeline.
    Feature 0 shifts by ``effect`` on preictal windows; the others are noise.
    """
    rng = np.random.default_rng(seed)
    onsets = np.asarray(onsets_h) * 3600
    metas, feats = [], []
    for s in range(n_subjects):
        subject = f"chb{s + 1:02d}"
        t_abs = np.arange(10.0, hours * 3600 + 1e-9, 5.0)
        after = onsets[None, :] > t_abs[:, None]
        tte = np.where(after.any(axis=1), np.where(after, onsets[None, :], np.inf).min(axis=1) - t_abs, np.nan)
        preictal = (tte >= 30) & (tte <= 600)
        interictal = np.abs(t_abs[:, None] - onsets[None, :]).min(axis=1) >= 1800
        seizure = np.array([f"{subject}_s{i:02d}" for i in np.searchsorted(onsets, t_abs) + 1])
        since = np.where(onsets[None, :] <= t_abs[:, None], t_abs[:, None] - onsets[None, :], np.inf).min(axis=1)
        state = np.select(
            [since < 70, since < 670, preictal, interictal],  # 60-s seizures, 10-min postictal
            ["ictal", "postictal", "preictal", "interictal"],
            default="excluded",
        )
        meta = pd.DataFrame(
            {
                "subject": subject,
                "recording": [f"{subject}_{int(t // 3600) + 1:02d}" for t in t_abs],
                "t_start": t_abs % 3600,
                "t_abs": t_abs,
                "state": state,
                "label": np.where(preictal, 1, np.where(interictal, 0, -1)),
                "tte": tte,
                "y_soft": 0.0,
                "seizure_id": np.where(preictal, seizure, ""),
                "lead_seizure": np.where(np.isfinite(tte), seizure, ""),
                "bad": False,
            }
        )
        f = rng.normal(size=(len(meta), n_features))
        f[:, 0] += effect * (meta["label"].to_numpy() == 1)
        metas.append(meta)
        feats.append(f)
    meta = pd.concat(metas, ignore_index=True)
    return np.concatenate(feats), meta["label"].to_numpy(), meta["subject"].to_numpy(), meta


@pytest.fixture(scope="session")
def window_table() -> Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]]:
    """Factory of hand-made full-timeline window tables (:func:`make_window_table`)."""
    return make_window_table
