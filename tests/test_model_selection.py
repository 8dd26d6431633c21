"""Subject-wise LOSO with rotating validation subjects, chronological splits, leakage guards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, cross_validate

from sklearn_eeg.evaluation.model_selection import (
    ChronologicalSeizureSplit,
    LeakageError,
    LeaveOneSubjectOutWithValidation,
    assert_chronological,
    assert_disjoint_subjects,
    clip_n_val_subjects,
    loso_splits,
)


def _groups(n_subjects: int = 5, per_subject: int = 7) -> np.ndarray:
    return np.repeat([f"chb{i:02d}" for i in range(1, n_subjects + 1)], per_subject)


def _subject_table(onsets: list[float], hours: float = 8.0, stride: float = 5.0, subject: str = "chb01"):
    """Window table of one subject: preictal 30-600 s before each onset, interictal >= 1800 s away."""
    t_abs = np.arange(10.0, hours * 3600, stride)
    onsets_arr = np.asarray(onsets)
    after = onsets_arr[None, :] > t_abs[:, None]
    tte = np.where(after.any(axis=1), np.where(after, onsets_arr[None, :], np.inf).min(axis=1) - t_abs, np.nan)
    preictal = (tte >= 30) & (tte <= 600)
    interictal = np.abs(t_abs[:, None] - onsets_arr[None, :]).min(axis=1) >= 1800
    next_id = np.searchsorted(onsets_arr, t_abs) + 1
    keep = preictal | interictal
    return pd.DataFrame(
        {
            "subject": subject,
            "recording": [f"{subject}_{int(t // 3600) + 1:02d}" for t in t_abs],
            "t_abs": t_abs,
            "label": preictal.astype(int),
            "tte": tte,
            "seizure_id": np.where(preictal, [f"{subject}_s{i:02d}" for i in next_id], ""),
        }
    )[keep].reset_index(drop=True)


@pytest.mark.parametrize("n_val", [0, 1, 2])
def test_loso_folds_are_disjoint_and_cover_every_subject(n_val):
    groups = _groups()
    folds = list(loso_splits(groups, n_val_subjects=n_val, random_state=3))
    assert len(folds) == 5
    tested = []
    for train, val, test in folds:
        assert_disjoint_subjects(groups, train, val, test)
        assert len(np.unique(groups[test])) == 1
        assert len(np.unique(groups[val])) == n_val
        assert len(train) + len(val) + len(test) == len(groups)
        tested.append(groups[test][0])
    assert sorted(tested) == sorted(set(groups))


def test_validation_subjects_rotate():
    groups = _groups(n_subjects=6)
    val_counts = pd.Series(
        [s for _, val, _ in loso_splits(groups, n_val_subjects=2, random_state=0) for s in np.unique(groups[val])]
    ).value_counts()
    # every subject validates exactly n_val_subjects times across the folds
    assert set(val_counts.index) == set(groups)
    assert (val_counts == 2).all()


def test_loso_is_deterministic_and_seed_dependent():
    groups = _groups(n_subjects=8)
    def vals(seed):
        return [tuple(np.unique(groups[v])) for _, v, _ in loso_splits(groups, random_state=seed)]
    assert vals(0) == vals(0)
    assert any(vals(s) != vals(0) for s in range(1, 5))


def test_loso_errors():
    with pytest.raises(ValueError, match="groups"):
        list(LeaveOneSubjectOutWithValidation().split_with_validation(np.zeros(3)))
    with pytest.raises(ValueError, match="at least 4 subjects"):
        list(loso_splits(_groups(n_subjects=3), n_val_subjects=2))


def test_clip_n_val_subjects_keeps_one_subject_to_fit_on():
    assert clip_n_val_subjects(6, 2) == 2
    assert clip_n_val_subjects(4, 2) == 2
    assert clip_n_val_subjects(3, 0) == 0
    assert clip_n_val_subjects(2, 0) == 0
    with pytest.warns(UserWarning, match=r"n_val_subjects=2 leaves no subject to fit on with 3 subjects.*using n_val_subjects=1"):
        assert clip_n_val_subjects(3, 2) == 1
    with pytest.warns(UserWarning, match="using n_val_subjects=3"):
        assert clip_n_val_subjects(5, 7) == 3
    with pytest.raises(ValueError, match=r"at least 3 subjects \(1 test, 1 validation, 1 to fit on\); got 2"):
        clip_n_val_subjects(2, 1)
    with pytest.raises(ValueError, match=">= 0"):
        clip_n_val_subjects(5, -1)


def test_run_loso_clips_n_val_subjects_on_small_datasets(window_table, tmp_path):
    from sklearn_eeg.experiments.benchmark import run_loso

    data = window_table(1.5, onsets_h=(1.5, 4.0), n_subjects=3, hours=5.0)
    with pytest.warns(UserWarning, match="using n_val_subjects=1"):
        results = run_loso(*data, n_val_subjects=2, out_dir=tmp_path, progress=False)
    folds = results.drop_duplicates("fold")
    assert len(folds) == 3 and (folds["n_train_subjects"] == 1).all()
    assert (folds["val_subjects"].str.count(";") == 0).all()  # one validation subject per fold
    assert not (folds["val_subjects"] == folds["test_subject"]).any()
    two = window_table(1.5, onsets_h=(1.5, 4.0), n_subjects=2, hours=5.0)
    with pytest.raises(ValueError, match="at least 3 subjects"):
        run_loso(*two, n_val_subjects=1, out_dir=tmp_path, progress=False)


def test_splitter_works_in_cross_validate_like_leave_one_group_out():
    rng = np.random.default_rng(0)
    groups = _groups(n_subjects=4, per_subject=30)
    X = rng.normal(size=(len(groups), 3))
    y = np.tile([0, 1], len(groups) // 2)
    cv = LeaveOneSubjectOutWithValidation(n_val_subjects=0)
    ours = cross_validate(LogisticRegression(), X, y, groups=groups, cv=cv)["test_score"]
    ref = cross_validate(LogisticRegression(), X, y, groups=groups, cv=LeaveOneGroupOut())["test_score"]
    np.testing.assert_allclose(ours, ref)
    assert cv.get_n_splits(groups=groups) == 4
    for train, test in LeaveOneSubjectOutWithValidation(n_val_subjects=1).split(X, y, groups):
        # validation subject is held out of the fit as well
        assert len(np.unique(groups[train])) == 2 and len(np.unique(groups[test])) == 1


def test_leakage_guard_raises_on_shared_subject_or_window():
    groups = np.array(["a", "a", "b", "b", "c"])
    assert_disjoint_subjects(groups, [0, 1], [2, 3], [4])
    with pytest.raises(LeakageError, match="'a'"):
        assert_disjoint_subjects(groups, [0], [1, 2])
    with pytest.raises(LeakageError, match="'c'"):
        assert_disjoint_subjects(groups, [0, 4], [4])


def test_chronological_split_trains_on_the_past_only():
    meta = _subject_table([1.5 * 3600, 3.2 * 3600, 5.0 * 3600, 7.0 * 3600])
    cv = ChronologicalSeizureSplit(min_train_seizures=1)
    folds = list(cv.split(meta))
    assert len(folds) == cv.get_n_splits(meta=meta) == 3
    t_abs = meta["t_abs"].to_numpy()
    seen_test = set()
    for k, (train, test) in enumerate(folds, start=1):
        assert t_abs[train].max() < t_abs[test].min()
        # exactly one new lead seizure in each test block, k seizures in training
        assert meta.loc[test][meta.loc[test, "label"] == 1]["seizure_id"].nunique() == 1
        assert meta.loc[train][meta.loc[train, "label"] == 1]["seizure_id"].nunique() == k
        assert not seen_test & set(test)
        seen_test |= set(test)
    # trailing interictal windows after the last seizure are tested in the last fold
    assert folds[-1][1].max() == len(meta) - 1
    blocks = cv.blocks(meta)
    assert np.all(np.diff(blocks[np.argsort(t_abs)]) >= 0)


def test_chronological_split_min_train_and_errors():
    meta = _subject_table([1.5 * 3600, 3.2 * 3600, 5.0 * 3600])
    assert len(list(ChronologicalSeizureSplit(min_train_seizures=2).split(meta))) == 1
    assert len(list(ChronologicalSeizureSplit(min_train_seizures=3).split(meta))) == 0
    two = pd.concat([meta, meta.assign(subject="chb02")])
    with pytest.raises(ValueError, match="within one subject"):
        list(ChronologicalSeizureSplit().split(two))
    with pytest.raises(ValueError, match="window table"):
        list(ChronologicalSeizureSplit().split(np.zeros((3, 2))))
    X = np.zeros((len(meta), 2))
    assert len(list(ChronologicalSeizureSplit().split(X, meta=meta))) == 2


def test_assert_chronological():
    t = np.array([0.0, 5.0, 10.0])
    assert_chronological(t, [0, 1], [2])
    assert_chronological(t, [], [2])
    with pytest.raises(LeakageError):
        assert_chronological(t, [0, 2], [1])
