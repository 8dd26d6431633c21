"""Real-data check on the Bonn epilepsy dataset (Andrzejak et al. 2001): ictal (S) vs interictal (F, N).

Each file is one 23.6 s single-channel segment (4097 samples at 173.61 Hz). Each file is one window,
so a StratifiedKFold over files never puts a file in two folds. The features use the default bands
(all below Nyquist, 86.8 Hz) and are fitted inside each training fold (Pipeline).
"""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_eeg.features.extractor import FeatureExtractor

BONN_SFREQ = 173.61
N_SAMPLES = 4097


def read_bonn_set(zip_path) -> np.ndarray:
    """(100, 4097) float32 µV from one set's zip, read in memory (nothing extracted)."""
    with zipfile.ZipFile(zip_path) as archive:
        names = sorted(
            n for n in archive.namelist() if n.lower().endswith(".txt") and not n.startswith("__MACOSX")
        )
        return np.stack([np.loadtxt(archive.open(n), dtype=np.float32) for n in names])


@pytest.fixture(scope="module")
def bonn(shared_fixtures):
    root = shared_fixtures / "bonn"
    if not root.is_dir():
        pytest.skip(f"Bonn fixtures not found in {root}")
    sets = {name: read_bonn_set(root / f"{name}.zip") for name in ("S", "F", "N")}
    return sets


def test_bonn_sets_shape(bonn):
    for name, X in bonn.items():
        assert X.shape == (100, N_SAMPLES), name
        assert np.isfinite(X).all()


def test_bonn_ictal_vs_interictal_accuracy(bonn):
    X = np.concatenate([bonn["S"], bonn["F"], bonn["N"]])[:, None, :]
    y = np.r_[np.ones(100), np.zeros(200)]
    pipe = make_pipeline(
        FeatureExtractor(sfreq=BONN_SFREQ, feature_set="basic_plus", ch_names=["EEG"]),
        StandardScaler(),
        LogisticRegression(max_iter=2000),
    )
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    scores = cross_val_score(pipe, X, y, cv=cv)
    print(f"Bonn S vs F+N, basic_plus + LogisticRegression, 5-fold accuracy: {scores.mean():.3f} {np.round(scores, 3)}")
    assert scores.mean() >= 0.90
    names = pipe.fit(X, y)[0].get_feature_names_out()
    assert "EEG__pow_gamma" in names  # gamma band (30-45 Hz) lies below Nyquist at 173.61 Hz
