"""FAH-targeted threshold tuning, the routed alarm scorer and FAHThresholdClassifier."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
from scipy import stats
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, TunedThresholdClassifierCV, cross_validate

from sklearn_eeg.evaluation.alarms import AlarmPolicy, simulate_risk_timeline
from sklearn_eeg.evaluation.metrics import alarm_metrics
from sklearn_eeg.evaluation.scoring import FAHThresholdClassifier, candidate_thresholds, make_alarm_scorer, tune_threshold

# Hand-made window tables without excluded (label -1) windows, on purpose: the warning that a real
# run's table must keep them is asserted in test_scoring.py (pytest.warns sees it despite this filter).
pytestmark = pytest.mark.filterwarnings("ignore:the window table has preictal windows but no excluded:UserWarning")

TARGETS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0)


@pytest.fixture(scope="module")
def data():
    risk, meta = simulate_risk_timeline(4, 40, seizure_every_h=3, random_state=5)
    # the sklearn-API tests below fit classifiers on these rows, so they keep the labeled windows
    # only (sklearn classifiers would read label -1 as a class); they check mechanics, not honesty
    labeled = (meta["label"] >= 0).to_numpy()
    risk, meta = risk[labeled], meta[labeled].reset_index(drop=True)
    rng = np.random.default_rng(0)
    logit = np.log(risk / (1 - risk))
    X = np.c_[logit + rng.normal(0, 0.5, risk.size), rng.normal(size=risk.size)]
    return risk, meta, X, meta["label"].to_numpy(), meta["subject"].to_numpy()


def test_candidate_thresholds_include_no_alarm_level():
    th = candidate_thresholds(np.array([0.2, 0.1, 0.4]), n_thresholds=5)
    assert np.all(np.diff(th) > 0) and th[-1] > 0.4


def test_tune_threshold_respects_targets_and_is_monotone(data):
    risk, meta, *_ = data
    val = meta["subject"].isin(["sim00", "sim01"]).to_numpy()
    policy = AlarmPolicy(persistence=2)
    table = tune_threshold(risk[val], meta[val], TARGETS, test_risk=risk[~val], test_meta=meta[~val], policy=policy)
    assert (table["val_fah"] <= table["fah_target"] + 1e-12).all()
    assert (np.diff(table["val_sensitivity"]) >= 0).all()
    # the test columns are the test metrics at the validation threshold, unchanged
    for _, row in table.iterrows():
        m = alarm_metrics(risk[~val], meta[~val], threshold=row["threshold"], policy=policy)
        assert row["test_fah"] == pytest.approx(m["fah"])
        assert row["test_sensitivity"] == pytest.approx(m["sensitivity"])
        assert row["test_n_seizures"] == m["n_seizures"]
    assert {"test_ioc", "test_p_value", "test_chance_p", "test_time_in_warning"} <= set(table.columns)


def test_tune_threshold_prefers_sensitivity_then_closest_fah(data):
    risk, meta, *_ = data
    thresholds = np.linspace(0.05, 0.99, 60)
    table = tune_threshold(risk, meta, (0.5,), thresholds=thresholds)
    from sklearn_eeg.evaluation.alarm_scoring import alarm_metrics_over_thresholds

    full = alarm_metrics_over_thresholds(risk, meta, thresholds)
    feasible = full[full["fah"] <= 0.5]
    best = feasible["sensitivity"].max()
    assert table["val_sensitivity"].iloc[0] == best
    assert table["val_fah"].iloc[0] == feasible.loc[feasible["sensitivity"] == best, "fah"].max()
    with pytest.raises(ValueError, match="together"):
        tune_threshold(risk, meta, test_risk=risk)


def test_scorer_in_cross_validate_with_leave_one_group_out(data):
    risk, meta, X, y, groups = data
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_alarm_scorer("sensitivity", fah_target=0.5)
        res = cross_validate(
            LogisticRegression(), X, y, cv=LeaveOneGroupOut(), scoring={"sens": scorer},
            params={"groups": groups, "meta": meta}, return_estimator=True,
        )
    assert len(res["test_sens"]) == 4
    # each fold's score equals the metric on that subject's rows, computed by hand
    splits = LeaveOneGroupOut().split(X, y, groups)
    for fold, (est, (_, test)) in enumerate(zip(res["estimator"], splits)):
        r = est.predict_proba(X[test])[:, 1]
        expected = tune_threshold(r, meta.iloc[test], (0.5,))["val_sensitivity"].iloc[0]
        assert res["test_sens"][fold] == pytest.approx(expected, nan_ok=True)


def test_scorer_in_grid_search(data):
    _, meta, X, y, groups = data
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_alarm_scorer("ioc", fah_target=1.0, policy=AlarmPolicy(persistence=2))
        gs = GridSearchCV(LogisticRegression(), {"C": [0.001, 1.0]}, cv=LeaveOneGroupOut(), scoring=scorer)
        gs.fit(X, y, groups=groups, meta=meta)
    assert np.all(np.isfinite(gs.cv_results_["mean_test_score"]))
    with pytest.raises(ValueError, match="metric"):
        make_alarm_scorer("auroc")


def test_fixed_threshold_scorer_needs_meta(data):
    _, meta, X, y, _ = data
    est = LogisticRegression().fit(X, y)
    scorer = make_alarm_scorer("sensitivity", threshold=0.3)
    with sklearn.config_context(enable_metadata_routing=True):
        value = scorer(est, X, y, meta=meta)
        with pytest.raises(ValueError, match="window table"):
            scorer(est, X, y, meta=meta.iloc[:10])
    assert value == pytest.approx(alarm_metrics(est.predict_proba(X)[:, 1], meta, threshold=0.3)["sensitivity"])


def test_fah_threshold_classifier_tunes_on_out_of_fold_risk(data):
    _, meta, X, y, groups = data
    clf = FAHThresholdClassifier(LogisticRegression(), fah_target=0.5, cv=LeaveOneGroupOut())
    assert clone(clf).get_params()["fah_target"] == 0.5
    clf.fit(X, y, groups=groups, meta=meta)
    oof = np.empty(len(y))
    for train, val in LeaveOneGroupOut().split(X, y, groups):
        oof[val] = LogisticRegression().fit(X[train], y[train]).predict_proba(X[val])[:, 1]
    expected = tune_threshold(oof, meta, (0.5,))
    assert clf.threshold_ == pytest.approx(expected["threshold"].iloc[0])
    assert clf.tuning_["val_fah"] <= 0.5
    np.testing.assert_array_equal(clf.predict(X), (clf.predict_proba(X)[:, 1] >= clf.threshold_).astype(int))
    with pytest.raises(ValueError, match="groups"):
        FAHThresholdClassifier(LogisticRegression()).fit(X, y)


def test_fah_threshold_classifier_in_cross_validate_with_routing(data):
    _, meta, X, y, groups = data
    with sklearn.config_context(enable_metadata_routing=True):
        clf = FAHThresholdClassifier(LogisticRegression(), fah_target=1.0, cv=3).set_fit_request(groups=True, meta=True)
        res = cross_validate(
            clf, X, y, cv=LeaveOneGroupOut(), scoring=make_alarm_scorer("sensitivity", threshold=None),
            params={"groups": groups, "meta": meta}, return_estimator=True,
        )
    assert all(np.isfinite(e.threshold_) for e in res["estimator"])


def test_sigmoid_calibration_is_fitted_on_out_of_fold_risk_only(data):
    _, meta, X, y, groups = data
    clf = FAHThresholdClassifier(LogisticRegression(), cv=LeaveOneGroupOut(), calibration="sigmoid")
    clf.fit(X, y, groups=groups, meta=meta)
    oof = np.empty(len(y))
    for train, val in LeaveOneGroupOut().split(X, y, groups):
        oof[val] = LogisticRegression().fit(X[train], y[train]).predict_proba(X[val])[:, 1]
    logit = np.log(oof / (1 - oof)).reshape(-1, 1)
    expected = LogisticRegression(C=np.inf).fit(logit, y)
    np.testing.assert_allclose(clf.calibrator_.coef_, expected.coef_, rtol=1e-4)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.predict(X).tolist() == (proba[:, 1] >= clf.threshold_).astype(int).tolist()
    with pytest.raises(ValueError, match="calibration"):
        FAHThresholdClassifier(LogisticRegression(), calibration="isotonic").fit(X, y, groups=groups, meta=meta)


def test_fah_threshold_classifier_on_the_full_timeline_is_honest():
    """A constant risk predicts nothing beyond chance, on the full timeline and (with a warning) on
    the labeled-only table, whose gaps no longer re-arm the detector."""
    from sklearn.dummy import DummyClassifier

    risk, meta = simulate_risk_timeline(4, 40, seizure_every_h=3, random_state=5)
    X, y, groups = risk.reshape(-1, 1), meta["label"].to_numpy(), meta["subject"].to_numpy()
    constant = FAHThresholdClassifier(
        DummyClassifier(strategy="prior"), fah_target=2.0, cv=4, policy=AlarmPolicy(refractory=600.0)
    )
    full = clone(constant).fit(X, y, groups=groups, meta=meta)
    assert list(full.classes_) == [0, 1] and full.estimator_.n_features_in_ == 1
    n_seizures = meta.loc[meta["label"] == 1, "seizure_id"].nunique()

    def chance_p_value(tuning):  # Snyder et al.: P(>= k of n predicted) for a Poisson alarm process
        k = round(tuning["val_sensitivity"] * n_seizures)
        return stats.binom.sf(k - 1, n_seizures, 1 - np.exp(-tuning["val_fah"] * 600 / 3600))

    # one alarm at the start of each recorded run: the seizures it catches are chance hits
    assert chance_p_value(full.tuning_) >= 0.05
    labeled = y >= 0
    with pytest.warns(UserWarning, match="no excluded"):
        leaky = clone(constant).fit(X[labeled], y[labeled], groups=groups[labeled], meta=meta[labeled])
    # the detector lives on the subject timeline: the gaps left by dropped windows re-arm nothing
    assert chance_p_value(leaky.tuning_) >= 0.05


def test_scorer_in_tuned_threshold_classifier_cv_on_the_full_timeline():
    """sklearn's threshold tuner on the full timeline: y = preictal or not, excluded windows weighted 0
    (never trained on) but kept in the routed window table, so the alarms see no label-induced gaps."""
    risk, meta = simulate_risk_timeline(4, 40, seizure_every_h=3, random_state=5)
    rng = np.random.default_rng(0)
    label, groups = meta["label"].to_numpy(), meta["subject"].to_numpy()
    y, weight = (label == 1).astype(int), (label >= 0).astype(float)
    features = {
        "informative": np.c_[np.log(risk / (1 - risk)) + rng.normal(0, 0.5, risk.size), rng.normal(size=risk.size)],
        "noise": rng.normal(size=(risk.size, 2)),
    }
    tuned = {}
    with sklearn.config_context(enable_metadata_routing=True):
        for name, X in features.items():
            estimator = LogisticRegression().set_fit_request(sample_weight=True)
            search = TunedThresholdClassifierCV(
                estimator, scoring=make_alarm_scorer("ioc", threshold=0.5), cv=LeaveOneGroupOut(), thresholds=30
            )
            tuned[name] = search.fit(X, y, groups=groups, meta=meta, sample_weight=weight)
    informative, noise = tuned["informative"], tuned["noise"]
    assert 0.0 < informative.best_threshold_ < 1.0
    assert informative.best_score_ > noise.best_score_ + 0.3
    # the refitted model never saw an excluded window: zero weight, same fit as dropping them
    labeled = label >= 0
    dropped = LogisticRegression().fit(features["informative"][labeled], y[labeled])
    np.testing.assert_allclose(informative.estimator_.coef_, dropped.coef_, rtol=1e-4)
