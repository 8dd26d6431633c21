"""Honesty of the classical baseline: patient-specific AUROC is high on a strong synthetic preictal
effect and at chance on the null dataset (``preictal_effect=0``).

Patient-specific means one model per subject, fitted on that subject's earlier windows and scored on
its later ones (:func:`sklearn_eeg.experiments.deep_training.patient_chronological_split`). Both tests run in the
default suite on small data (about 30 s for the module on 2 shared CPU cores).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sklearn_eeg.models.baselines import make_baseline
from sklearn_eeg.data import make_chbmit_like
from sklearn_eeg.experiments.deep_training import chance_auroc_tolerance, patient_chronological_split
from sklearn_eeg.data.labeling import STATES
from sklearn_eeg.evaluation.metrics import window_metrics
from sklearn_eeg.signal.windows import load_windows

# The smallest data found that gives every subject a valid chronological split with both classes in
# its test part: 2 subjects x 2.5 h, 2 seizures each (2 h fails for every seed 0-24; at 2.5 h about
# 60 % of seeds work). The seed was chosen on the split structure alone, before any model was fitted:
# among the seeds where both subjects have >= 100 interictal test windows, the one with the largest
# smallest test set. With generator version 3 (uniform onsets) seeds 3, 4, 10, 18 and 20 qualify and
# seed 10 is chosen (chb01: 114 preictal / 299 interictal, chb02: 112 / 304); version 2 chose seed 16 by
# the same rule. Placement does not depend on ``preictal_effect``, so the strong and null datasets
# share their timelines and splits.
DATA = dict(n_subjects=2, hours=2.5, seizures=2, seed=10, progress=False)
SFREQ = 256.0


def _patient_specific_scores(tmp_path_factory, name: str, effect: float) -> pd.DataFrame:
    """Test AUROC of ``make_baseline("logreg")`` per subject; one row per subject."""
    base = tmp_path_factory.mktemp(name)
    root = make_chbmit_like(base / "data", preictal_effect=effect, **DATA)
    X, y, groups, meta = load_windows(root, cache_dir=base / "cache", states=STATES, progress=False)
    splits, table = patient_chronological_split(meta, train_fraction=0.7)
    assert sorted(splits) == sorted(np.unique(groups)), table
    window_s = X.shape[-1] / SFREQ
    t_abs = meta["t_abs"].to_numpy(dtype=float)
    rows = []
    for subject, (train, test) in splits.items():
        # fit and score on this subject's labeled windows only (ictal/postictal/excluded are -1)
        train, test = train[y[train] >= 0], test[y[test] >= 0]
        assert (groups[train] == subject).all() and (groups[test] == subject).all()
        assert t_abs[train].max() <= t_abs[test].min() - window_s  # train ends before test starts
        model = make_baseline("logreg", feature_set="basic_plus").fit(X[train], y[train])
        metrics = window_metrics(y[test], model.predict_proba(X[test])[:, 1])
        rows.append({"subject": subject, "auroc": metrics["auroc"], "n_pos": metrics["n_pos"],
                     "n_neg": metrics["n_neg"], "n_train": train.size, "n_train_pos": int(y[train].sum())})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def strong_scores(tmp_path_factory) -> pd.DataFrame:
    return _patient_specific_scores(tmp_path_factory, "strong", 2.0)


@pytest.fixture(scope="module")
def null_scores(tmp_path_factory) -> pd.DataFrame:
    return _patient_specific_scores(tmp_path_factory, "null", 0.0)


def _both_classes_in_test(scores: pd.DataFrame) -> None:
    assert len(scores) == DATA["n_subjects"], scores
    assert (scores["n_pos"] > 0).all() and (scores["n_neg"] > 0).all(), scores


def test_patient_specific_logreg_separates_strong_effect(strong_scores):
    _both_classes_in_test(strong_scores)
    mean = strong_scores["auroc"].mean()
    assert mean >= 0.9, f"mean test AUROC {mean:.3f} < 0.9; per subject:\n{strong_scores.to_string()}"


def test_patient_specific_logreg_is_at_chance_without_effect(null_scores):
    _both_classes_in_test(null_scores)
    # Under the null each subject's test AUROC is a Mann-Whitney U / (n_pos n_neg) with variance
    # (n_pos + n_neg + 1) / (12 n_pos n_neg) for independent windows, i.e. chance_auroc_tolerance(z=1)**2.
    # Subjects are independent (separate models, separate data), so the mean over S subjects has
    # variance sum(var_s) / S**2, and the 3-sigma band is 3 sqrt(sum(var_s)) / S.
    # Caveat: the windows are NOT independent -- 10-s windows at a 5-s stride overlap by half, and the
    # EEG varies slowly, so the preictal windows form one correlated 10-min block per seizure. The
    # nominal band is therefore optimistic (too narrow). The honest fallback, if this ever fails for
    # that reason, is an effective sample size of n/2 per class (one independent window per 10 s),
    # which widens the band by sqrt(2); it is fixed in advance from the window counts, never from the
    # observed AUROC. With the data above the nominal band holds, so it is the one asserted. For the
    # record (generator version 2): over the 5 seeds that passed the structural rule (4, 6, 7, 15, 16) the 10 per-subject
    # null AUROCs spread with an RMS deviation from 0.5 of about 0.05, against a nominal sigma of about
    # 0.03 -- the correlation is real; every seed's mean still lay inside the nominal band.
    variances = [chance_auroc_tolerance(p, n, z=1.0) ** 2 for p, n in zip(null_scores["n_pos"], null_scores["n_neg"])]
    tolerance = 3.0 * math.sqrt(sum(variances)) / len(variances)
    mean = null_scores["auroc"].mean()
    assert abs(mean - 0.5) < tolerance, (
        f"mean test AUROC {mean:.3f} outside 0.5 +/- {tolerance:.3f} (3 sigma, independent windows); "
        f"per subject:\n{null_scores.to_string()}"
    )
