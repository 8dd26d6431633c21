"""The ECG workflow without leakage (issue #16): patients never on two sides, lead statistics from
training patients only, the threshold from validation applied unchanged to test, a null cohort at
chance and a planted effect recovered -- per record and per patient (mean record probability)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import average_precision_score, roc_auc_score

from sklearn_eeg.ecg.estimator import ECGNetClassifier, lead_statistics
from sklearn_eeg.ecg import workflow
from sklearn_eeg.ecg.scores import auprc, auroc, classification_scores, patient_scores
from sklearn_eeg.ecg.records import ECG_LEADS
from sklearn_eeg.ecg.splits import SIDES, patient_split
from sklearn_eeg.ecg.store import build_signal_store
from sklearn_eeg.ecg.synthetic import make_ecg_cohort
from sklearn_eeg.ecg.thresholds import choose_threshold
from sklearn_eeg.ecg.workflow import METRIC_COLUMNS, patient_level, run_ecg_classification

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


def test_patient_score_is_the_mean_of_its_records_and_its_label_any_positive():
    patients = np.array(["b", "a", "b", "c", "b", "c"])
    y = np.array([0, 0, 1, 0, 0, 0])
    score = np.array([0.2, 0.9, 0.5, 0.1, 0.8, 0.4])
    table = patient_scores(patients, y, score).set_index("patient")
    assert table.index.tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(table["score"], [0.9, 0.5, 0.25])
    assert table["label"].tolist() == [0, 1, 0]  # b has one positive record of three
    assert table["n_records"].tolist() == [1, 3, 2] and table["n_positive_records"].tolist() == [0, 1, 0]


def record_predictions(side, patients, labels, scores):
    """A predictions table: one row per record of ``patients[i]`` (label ``labels[i]``, scores ``scores[i]``)."""
    rows = [(p, y, s) for p, y, ss in zip(patients, labels, scores) for s in ss]
    return pd.DataFrame(rows, columns=["patient", "label", "score"]).assign(side=side)


def test_patient_threshold_is_chosen_on_validation_patients_only():
    """The test patients' low-scoring positives would pull a pooled threshold down; the threshold comes
    from the validation patients' mean scores alone and does not move when the test scores change."""
    val = record_predictions("validation", ["v0", "v1", "v2", "v3", "v4"], [0, 1, 1, 0, 0],
                             [[0.2, 0.4], [0.7], [0.5, 0.7], [0.1], [0.65]])
    test_scores = [[0.1, 0.3], [0.2], [0.25, 0.15], [0.05], [0.9]]
    test = record_predictions("test", ["t0", "t1", "t2", "t3", "t4"], [1, 1, 1, 0, 0], test_scores)
    patients, metrics, threshold, how = patient_level(pd.concat([val, test]), n_boot=50)

    val_patients = patient_scores(val["patient"], val["label"], val["score"])
    assert threshold == choose_threshold(val_patients["label"], val_patients["score"])[0] == pytest.approx(0.6)
    assert how.startswith("best F1 on validation")
    assert choose_threshold(patients["label"], patients["score"])[0] < 0.3  # tuned with the test patients: moved

    moved = record_predictions("test", ["t0", "t1", "t2", "t3", "t4"], [1, 1, 1, 0, 0],
                               [[0.99, 0.98], [0.97], [0.01, 0.02], [0.96], [0.03]])
    assert patient_level(pd.concat([val, moved]), n_boot=50)[2] == threshold

    test_patients = patients[patients["side"] == "test"]
    assert (test_patients["predicted"] == (test_patients["score"] >= threshold)).all()
    table = metrics.set_index("metric")
    assert table.loc["sensitivity", "value"] == 0.0 and table.loc["specificity", "value"] == 0.5
    assert table.loc["AUROC", "value"] == pytest.approx(roc_auc_score(test_patients["label"], test_patients["score"]))


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


def test_threshold_is_chosen_on_validation_and_applied_unchanged_to_test(cohorts, monkeypatch):
    table, store = cohorts["planted"]
    calls = []

    def spy(y_true, score, **kwargs):
        calls.append((np.asarray(y_true), np.asarray(score, dtype=float)))
        return choose_threshold(y_true, score, **kwargs)

    monkeypatch.setattr(workflow, "choose_threshold", spy)
    run = run_ecg_classification(table, store, sfreq=100.0, max_epochs=2, n_boot=20, seed=1,
                                 threshold_rule="sensitivity", target_sensitivity=0.8)
    val = run.predictions.query("side == 'validation'")
    test = run.predictions.query("side == 'test'")
    assert run.threshold == choose_threshold(val["label"], val["score"], rule="sensitivity", target_sensitivity=0.8)[0]
    assert (test["predicted"] == (test["score"] >= run.threshold)).all()
    assert set(test["patient"]) == set(run.patients["test"]) and set(val["patient"]) == set(run.patients["validation"])
    sens = run.metrics.query("level == 'record'").set_index("metric").loc["sensitivity", "value"]
    assert sens == pytest.approx(test.query("label == 1")["predicted"].mean())

    # Patient level: mean record score per patient, threshold from the validation patients only.
    assert tuple(run.metrics.columns) == METRIC_COLUMNS and run.metrics["level"].unique().tolist() == ["record", "patient"]
    by_patient = run.predictions.groupby("patient").agg(score=("score", "mean"), label=("label", "max"), side=("side", "first"))
    patients = run.patient_predictions.set_index("patient").loc[by_patient.index]
    np.testing.assert_allclose(patients["score"], by_patient["score"], rtol=1e-6)
    assert (patients["label"] == by_patient["label"]).all() and (patients["side"] == by_patient["side"]).all()
    val_patients = run.patient_predictions.query("side == 'validation'")
    test_patients = run.patient_predictions.query("side == 'test'")
    assert len(calls) == 2  # record level, then patient level
    np.testing.assert_array_equal(calls[1][0], val_patients["label"])
    np.testing.assert_array_equal(calls[1][1], val_patients["score"])
    assert sorted(val_patients["patient"]) == run.patients["validation"]
    assert run.patient_threshold == choose_threshold(val_patients["label"], val_patients["score"], rule="sensitivity",
                                                     target_sensitivity=0.8)[0]
    assert (test_patients["predicted"] == (test_patients["score"] >= run.patient_threshold)).all()
    sens = run.metrics.query("level == 'patient'").set_index("metric").loc["sensitivity", "value"]
    assert sens == pytest.approx(test_patients.query("label == 1")["predicted"].mean())


def auroc_row(run, level):
    return run.metrics.query("level == @level").set_index("metric").loc["AUROC"]


@pytest.mark.parametrize("level", ["record", "patient"])
def test_null_cohort_is_at_chance(null_run, level):
    auroc = auroc_row(null_run, level)
    assert auroc["ci_low"] < 0.5 < auroc["ci_high"], auroc


@pytest.mark.parametrize("level", ["record", "patient"])
def test_planted_effect_is_recovered(planted_run, level):
    auroc = auroc_row(planted_run, level)
    assert auroc["value"] > 0.8 and auroc["ci_low"] > 0.5, auroc


@pytest.fixture(scope="module")
def null_run(cohorts):
    return run_ecg_classification(*cohorts["null"], **FAST)


@pytest.fixture(scope="module")
def planted_run(cohorts):
    return run_ecg_classification(*cohorts["planted"], **FAST)


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
