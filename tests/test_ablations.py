"""Ablations: alarm post-processing and calibration on one set of fitted LOSO folds.

Hand-made full-timeline window tables (as in ``tests/test_benchmark.py``): 4 subjects x 6 h,
3 lead seizures each, preictal 30-600 s before onset, interictal >= 30 min away, every other
window kept with label -1; feature 0 shifted by ``effect`` standard deviations in preictal windows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from sklearn_eeg.experiments.ablations import (
    ALARM_SETTINGS,
    alarm_ablation,
    calibration_comparison,
    expected_calibration_error,
    fit_loso_folds,
    fit_sigmoid_calibrator,
    run_ablations,
    summarize_ablation,
)
from sklearn_eeg.evaluation.alarms import AlarmPolicy

ONSETS_H = (1.5, 3.5, 5.5)
TARGETS = (0.1, 0.2, 0.5, 1.0)
SUBJECTS = ["chb01", "chb02", "chb03", "chb04"]


FITS: list[int] = []


class CountingLogReg(ClassifierMixin, BaseEstimator):
    """Logistic regression that records every ``fit`` call (clones share the module-level list)."""

    def __init__(self, *, C: float = 1.0):
        self.C = C

    def fit(self, X, y):
        FITS.append(len(y))
        self.model_ = LogisticRegression(C=self.C, class_weight="balanced").fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


@pytest.fixture(scope="module")
def strong(window_table):
    return window_table(1.5, onsets_h=ONSETS_H, hours=6.0, n_features=4)


@pytest.fixture(scope="module")
def tables(strong, tmp_path_factory):
    FITS.clear()
    out = tmp_path_factory.mktemp("ablate")
    policy = AlarmPolicy(sop=600.0, sph=30.0)
    result = run_ablations(*strong, model=CountingLogReg(), policy=policy, out_dir=out)
    return result, len(FITS), out


def test_every_fold_is_fitted_once_and_on_labeled_windows_only(tables, strong):
    _, n_fits, _ = tables
    assert n_fits == len(SUBJECTS)  # one fit per LOSO fold, shared by both ablations
    labels = strong[1]
    # 2 training subjects per fold (1 validation, 1 test), labeled windows only
    per_subject = (labels[strong[2] == "chb01"] >= 0).sum()
    assert all(n == 2 * per_subject for n in FITS)


def test_alarm_ablation_table(tables):
    result, _, out = tables
    ablation = result["alarm_ablation"]
    written = pd.read_csv(out / "tables" / "alarm_ablation.csv", keep_default_na=False, na_values=[""])
    assert list(written.columns) == list(ablation.columns)
    for column in ("setting", "fah_target", "fold", "test_subject", "val_subjects", "threshold", "val_fah",
                   "sensitivity", "fah", "ioc", "n_predicted", "n_seizures", "auroc"):
        assert column in ablation.columns
    # every setting x target appears exactly once per fold
    counts = ablation.groupby(["test_subject", "setting", "fah_target"]).size()
    assert len(counts) == len(SUBJECTS) * len(ALARM_SETTINGS) * len(TARGETS) and (counts == 1).all()
    assert (ablation["val_subjects"] != ablation["test_subject"]).all()
    assert np.isfinite(ablation["threshold"]).all()
    # validation FAH meets its target (the rule picks among feasible thresholds)
    assert (ablation["val_fah"] <= ablation["fah_target"] + 1e-12).all()
    # the settings differ in their thresholds somewhere (smoothing changes the risk scale)
    assert ablation.groupby(["test_subject", "fah_target"])["threshold"].nunique().max() > 1
    summary = result["alarm_ablation_summary"]
    assert (out / "tables" / "alarm_ablation_summary.csv").is_file()
    assert len(summary) == len(ALARM_SETTINGS) * len(TARGETS)
    assert list(summary["setting"].unique()) == list(ALARM_SETTINGS)
    assert (summary["n_folds"] == len(SUBJECTS)).all()
    assert (summary["n_seizures"] == 3 * len(SUBJECTS)).all()
    best = summary.set_index(["setting", "fah_target"]).loc[("all", 1.0)]
    assert best["pooled_sensitivity"] >= 0.5


def test_calibration_table_and_auroc_unchanged(tables):
    result, _, out = tables
    calib = result["calibration_comparison"]
    assert (out / "tables" / "calibration_comparison.csv").is_file()
    for column in ("method", "fah_target", "test_subject", "auroc", "brier", "ece", "calib_coef", "sensitivity",
                   "fah", "threshold"):
        assert column in calib.columns
    counts = calib.groupby(["test_subject", "method", "fah_target"]).size()
    assert len(counts) == len(SUBJECTS) * 2 * len(TARGETS) and (counts == 1).all()
    raw = calib[calib["method"] == "uncalibrated"].set_index(["test_subject", "fah_target"])
    cal = calib[calib["method"] == "sigmoid"].set_index(["test_subject", "fah_target"])
    assert (cal["calib_coef"] > 0).all()  # informative validation risk: an increasing map
    # a monotone increasing calibration leaves the ranking, hence AUROC, unchanged
    np.testing.assert_allclose(cal["auroc"], raw["auroc"], atol=1e-9)
    # balanced class weights inflate the raw risk; calibration on validation brings it down
    assert cal["brier"].mean() < raw["brier"].mean()
    assert cal["ece"].mean() < raw["ece"].mean()
    summary = result["calibration_summary"]
    assert {"brier_mean", "ece_mean", "auroc_mean"} <= set(summary.columns)
    assert len(summary) == 2 * len(TARGETS)
    reliability = result["calibration_reliability"]
    assert len(reliability) == len(SUBJECTS) * 2 * 10


def test_thresholds_and_calibrator_use_validation_only(strong):
    """Scrambling the test subject's features changes its risk, not its fold's thresholds."""
    X, y, groups, meta = strong
    scrambled = X.copy()
    test = groups == "chb01"
    rng = np.random.default_rng(5)
    scrambled[test] = rng.normal(size=(test.sum(), X.shape[1])) * 3
    runs = []
    for data in (X, scrambled):
        folds = fit_loso_folds(data, y, groups, meta, model=CountingLogReg(), test_subjects=["chb01"])
        assert [f.test_subject for f in folds] == ["chb01"]
        runs.append(
            (
                folds[0],
                alarm_ablation(folds, meta, fah_targets=TARGETS),
                calibration_comparison(folds, meta, fah_targets=TARGETS)[0],
            )
        )
    (fold_a, abl_a, cal_a), (fold_b, abl_b, cal_b) = runs
    np.testing.assert_array_equal(fold_a.val_risk, fold_b.val_risk)
    assert not np.allclose(fold_a.test_risk, fold_b.test_risk)
    np.testing.assert_array_equal(abl_a["threshold"], abl_b["threshold"])
    np.testing.assert_array_equal(abl_a["val_sensitivity"], abl_b["val_sensitivity"])
    for column in ("threshold", "calib_coef", "calib_intercept", "val_auroc"):
        np.testing.assert_array_equal(cal_a[column], cal_b[column])
    assert not np.allclose(cal_a["auroc"], cal_b["auroc"])


def test_sigmoid_calibrator_and_ece():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    risk = np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.1, y.size), 0.01, 0.99)
    calibrator = fit_sigmoid_calibrator(risk, y)
    logit = np.log(risk / (1 - risk)).reshape(-1, 1)
    calibrated = calibrator.predict_proba(logit)[:, 1]
    assert calibrator.coef_[0, 0] > 0
    assert roc_auc_score(y, calibrated) == pytest.approx(roc_auc_score(y, risk))
    assert expected_calibration_error(y, calibrated) < expected_calibration_error(y, risk)
    assert expected_calibration_error(np.array([0, 1]), np.array([0.0, 1.0])) == 0.0
    assert expected_calibration_error(np.array([0, 0]), np.array([0.95, 0.95])) == pytest.approx(0.95)
    with pytest.raises(ValueError, match="both classes"):
        fit_sigmoid_calibrator(risk[y == 1], y[y == 1])


def test_summarize_ablation_empty():
    empty = pd.DataFrame(columns=["setting", "fah_target"])
    assert list(summarize_ablation(empty, "setting").columns[:2]) == ["setting", "fah_target"]


def test_ablation_setting_matches_run_loso(strong, tmp_path):
    """A setting of the ablation gives exactly the LOSO benchmark run with those alarm parameters."""
    from sklearn_eeg.experiments.benchmark import run_loso

    policy = AlarmPolicy(sop=600.0, sph=30.0).replace(**ALARM_SETTINGS["all"])
    loso = run_loso(*strong, model="logreg", policy=policy, out_dir=tmp_path, progress=False,
                    test_subjects=["chb02"])
    folds = fit_loso_folds(*strong, model="logreg", test_subjects=["chb02"])
    ablation = alarm_ablation(folds, strong[3], settings={"all": ALARM_SETTINGS["all"]})
    for column in ("threshold", "sensitivity", "fah", "ioc", "auroc"):
        np.testing.assert_allclose(ablation[column], loso[column], err_msg=column)


def test_decreasing_calibration_is_reported_not_hidden(strong):
    """Platt scaling is not sign-constrained: anti-informative validation risk reverses the ranking."""
    X, y, groups, meta = strong
    (fold,) = fit_loso_folds(X, y, groups, meta, test_subjects=["chb01"])
    fold.val_risk = 1.0 - fold.val_risk  # validation risk now anti-correlated with the labels
    calib, _ = calibration_comparison([fold], meta, fah_targets=(0.5,))
    raw, cal = calib.set_index("method").loc["uncalibrated"], calib.set_index("method").loc["sigmoid"]
    assert cal["calib_coef"] < 0 and cal["val_auroc"] < 0.5
    assert cal["auroc"] == pytest.approx(1.0 - raw["auroc"])
