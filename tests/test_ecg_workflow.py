"""The ECG workflow without leakage (issue #16): patients never on two sides, lead statistics from
training patients only, the threshold from validation applied unchanged to test, a null cohort at
chance and a planted effect recovered."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import average_precision_score, roc_auc_score

from sklearn_eeg.ecg.estimator import ECGNetClassifier, lead_statistics
from sklearn_eeg.ecg.scores import auprc, auroc, classification_scores
from sklearn_eeg.ecg.records import ECG_LEADS
from sklearn_eeg.ecg.splits import SIDES, patient_split
from sklearn_eeg.ecg.store import build_signal_store
from sklearn_eeg.ecg.synthetic import make_ecg_cohort
from sklearn_eeg.ecg.thresholds import choose_threshold
from sklearn_eeg.ecg.workflow import run_ecg_classification

FAST = dict(sfreq=100.0, max_epochs=6, patience=3, n_boot=300, batch_size=16)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """One thread: faster for this small net on the shared 2-core machine; restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory):
    """50 patients (1-2 records each) with a planted effect, and the same patients without it."""
    base = tmp_path_factory.mktemp("ecg")
    out = {}
    for name, effect in (("planted", 1.0), ("null", 0.0)):
        table = make_ecg_cohort(base / name, n_patients=50, max_records=2, effect=effect, seed=3, progress=False)
        store = build_signal_store(table, base / name, base / "stores", leads=ECG_LEADS, sfreq=100.0, n_times=1000,
                                   progress=False)
        out[name] = (table, store)
    return out


@pytest.mark.parametrize("seed", range(5))
def test_no_patient_is_on_two_sides_and_every_side_has_both_classes(seed):
    rng = np.random.default_rng(seed)
    patients = np.repeat([f"p{i}" for i in range(50)], rng.integers(1, 5, 50))
    labels = pd.Series(rng.random(50) < 0.4, index=[f"p{i}" for i in range(50)]).astype(int)
    table = pd.DataFrame({"patient": patients, "label": labels[patients].to_numpy()})
    side = patient_split(table, random_state=seed)
    assert (table.assign(side=side).groupby("patient")["side"].nunique() == 1).all()
    assert set(side) == set(SIDES)
    for s in SIDES:
        assert set(table["label"][side == s]) == {0, 1}
    n_test = table.assign(side=side).query("side == 'test'")["patient"].nunique()
    assert 8 <= n_test <= 12  # 20 % of 50 patients


def test_too_few_patients_is_a_clear_error():
    table = pd.DataFrame({"patient": ["a", "b", "c", "d"], "label": [0, 1, 0, 1]})
    with pytest.raises(ValueError, match="too few patients to split: 2 negative and 2 positive"):
        patient_split(table)


@pytest.mark.parametrize("seed", range(20))
def test_fast_auroc_and_auprc_equal_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    y = np.r_[0, 1, rng.integers(0, 2, rng.integers(1, 60))]
    score = np.round(rng.random(len(y)), 1)  # ties
    assert auroc(y, score) == pytest.approx(roc_auc_score(y, score))
    assert auprc(y, score) == pytest.approx(average_precision_score(y, score))


def test_bootstrap_resamples_patients():
    """Two patients, each with a perfectly separated pair of records but opposite directions: AUROC 0.5
    over both, and each resample that draws one patient twice scores 0 or 1."""
    y, score = np.array([0, 1, 0, 1]), np.array([0.1, 0.9, 0.9, 0.1])
    table = classification_scores(y, score, np.array(["a", "a", "b", "b"]), 0.5, n_boot=200).set_index("metric")
    assert table.loc["AUROC", "value"] == 0.5
    assert table.loc["AUROC", "ci_low"] == 0.0 and table.loc["AUROC", "ci_high"] == 1.0


def outlier_store(store, rows, path):
    """A copy of ``store`` with 1000 mV added to every sample of ``rows``."""
    data = np.load(store)
    data[rows] += 1000.0
    np.save(path, data)
    return path


def test_lead_statistics_come_from_training_patients_only(cohorts, tmp_path):
    table, store = cohorts["planted"]
    kwargs = dict(sfreq=100.0, max_epochs=1, n_boot=20, seed=0)
    clean = run_ecg_classification(table, store, **kwargs)
    train_rows = np.flatnonzero(table["patient"].isin(clean.patients["train"]))
    data = np.load(store)[train_rows].astype(np.float64)
    np.testing.assert_allclose(clean.extra["lead_mean"], data.mean(axis=(0, 2)), rtol=1e-9)
    np.testing.assert_allclose(clean.extra["lead_scale"], data.std(axis=(0, 2)), rtol=1e-6)

    first_val = table.index[table["patient"] == clean.patients["validation"][0]][0]
    first_test = table.index[table["patient"] == clean.patients["test"][0]][0]
    planted = run_ecg_classification(table, outlier_store(store, [first_val, first_test], tmp_path / "held.npy"), **kwargs)
    assert planted.patients == clean.patients
    assert planted.extra["lead_mean"] == clean.extra["lead_mean"]
    assert planted.extra["lead_scale"] == clean.extra["lead_scale"]

    moved = run_ecg_classification(table, outlier_store(store, train_rows[:1], tmp_path / "train.npy"), **kwargs)
    assert np.all(np.array(moved.extra["lead_mean"]) > np.array(clean.extra["lead_mean"]) + 1.0)  # control


def test_threshold_is_chosen_on_validation_and_applied_unchanged_to_test(cohorts):
    table, store = cohorts["planted"]
    run = run_ecg_classification(table, store, sfreq=100.0, max_epochs=2, n_boot=20, seed=1,
                                 threshold_rule="sensitivity", target_sensitivity=0.8)
    val = run.predictions.query("side == 'validation'")
    test = run.predictions.query("side == 'test'")
    assert run.threshold == choose_threshold(val["label"], val["score"], rule="sensitivity", target_sensitivity=0.8)[0]
    assert (test["predicted"] == (test["score"] >= run.threshold)).all()
    assert set(test["patient"]) == set(run.patients["test"]) and set(val["patient"]) == set(run.patients["validation"])
    sens = run.metrics.set_index("metric").loc["sensitivity", "value"]
    assert sens == pytest.approx(test.query("label == 1")["predicted"].mean())


def auroc_row(run):
    return run.metrics.set_index("metric").loc["AUROC"]


def test_null_cohort_is_at_chance(cohorts):
    table, store = cohorts["null"]
    auroc = auroc_row(run_ecg_classification(table, store, **FAST))
    assert auroc["ci_low"] < 0.5 < auroc["ci_high"], auroc


def test_planted_effect_is_recovered(cohorts):
    table, store = cohorts["planted"]
    auroc = auroc_row(run_ecg_classification(table, store, **FAST))
    assert auroc["value"] > 0.8 and auroc["ci_low"] > 0.5, auroc


def test_estimator_clones_pickles_and_keeps_its_statistics():
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((24, 8, 256)) * 2 + 3).astype(np.float32)
    y = np.r_[np.zeros(12), np.ones(12)]
    clf = ECGNetClassifier(max_epochs=1, train_split=None, random_state=0, module__n_filters=(4, 8))
    assert clone(clf).get_params().keys() == clf.get_params().keys()
    clf.fit(X, y)
    mean, scale = lead_statistics(_Pairs(X))
    np.testing.assert_allclose(clf.lead_mean_, mean)
    np.testing.assert_allclose(clf.module_.lead_scale.numpy().ravel(), scale, rtol=1e-6)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_allclose(again.lead_mean_, X.astype(np.float64).mean(axis=(0, 2)))


class _Pairs:
    """A minimal dataset of ``(x, 0)`` pairs."""

    def __init__(self, X):
        self.X = X

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], np.float32(0)
