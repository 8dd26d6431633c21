"""Classical baseline factory and the fit-time class balancing meta-estimator."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_eeg.models.baselines import ClassBalancedClassifier, make_baseline
from sklearn_eeg.features.extractor import FeatureExtractor

# Balancing reweights by class counts, which change when rows are repeated: by design, fitting with
# integer sample weights is not equivalent to repeating rows.
_EXPECTED = {"check_sample_weight_equivalence_on_dense_data": "class balancing depends on class counts"}


@parametrize_with_checks(
    [
        ClassBalancedClassifier(LogisticRegression(), strategy="weight"),
        ClassBalancedClassifier(LogisticRegression(), strategy="undersample", random_state=0),
    ],
    expected_failed_checks=lambda est: _EXPECTED,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _imbalanced(n: int = 400, frac: float = 0.1, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < frac).astype(int)
    X = rng.normal(size=(n, 4)) + 1.5 * y[:, None] * np.array([1.0, 0.0, 0.0, 0.0])
    return X, y


@pytest.mark.parametrize("model, final", [("logreg", LogisticRegression), ("hgb", HistGradientBoostingClassifier)])
def test_factory_steps_and_class_weight(model, final):
    pipe = make_baseline(model, features=False)
    assert [n for n, _ in pipe.steps] == ["scaler", "clf"]
    assert isinstance(pipe[-1], final) and pipe[-1].class_weight == "balanced"
    full = make_baseline(model)
    assert isinstance(full[0], FeatureExtractor) and full[0].feature_set == "basic_plus"


def test_mlp_is_balanced_by_sample_weight():
    pipe = make_baseline("mlp", features=False, hidden_layer_sizes=(8,), max_iter=50)
    clf = pipe[-1]
    assert isinstance(clf, ClassBalancedClassifier) and clf.strategy == "weight"
    assert isinstance(clf.estimator, MLPClassifier) and clf.estimator.hidden_layer_sizes == (8,)


def test_model_params_and_errors():
    assert make_baseline("logreg", features=False, C=0.01)[-1].C == 0.01
    with pytest.raises(ValueError, match="unknown baseline model"):
        make_baseline("svm")
    with pytest.raises(ValueError, match="sampler"):
        make_baseline("logreg", sampler="smote")
    with pytest.raises(TypeError):
        make_baseline("logreg", features=False, not_a_param=1).fit(*_imbalanced())


def test_balancing_raises_minority_recall():
    X, y = _imbalanced(frac=0.05, seed=1)
    plain = LogisticRegression().fit(X, y)
    balanced = make_baseline("logreg", features=False).fit(X, y)
    assert balanced.predict(X)[y == 1].mean() > plain.predict(X)[y == 1].mean()


def test_undersampling_acts_at_fit_only():
    X, y = _imbalanced()
    pipe = make_baseline("logreg", features=False, sampler="undersample", random_state=0).fit(X, y)
    inner = pipe[-1]
    assert isinstance(inner, ClassBalancedClassifier)
    kept = y[inner.sample_indices_]
    assert kept.sum() == (kept == 0).sum() == y.sum()
    assert pipe.predict_proba(X).shape == (len(X), 2)  # every window is scored
    again = make_baseline("logreg", features=False, sampler="undersample", random_state=0).fit(X, y)
    np.testing.assert_array_equal(again[-1].sample_indices_, inner.sample_indices_)


def test_weight_strategy_multiplies_user_weights():
    X, y = _imbalanced()
    w = np.ones(len(y))
    a = ClassBalancedClassifier(LogisticRegression()).fit(X, y)
    b = ClassBalancedClassifier(LogisticRegression()).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X))
    with pytest.raises(ValueError, match="2 classes"):
        ClassBalancedClassifier(LogisticRegression()).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="strategy"):
        ClassBalancedClassifier(LogisticRegression(), strategy="smote").fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("model, sampler", [("logreg", None), ("hgb", None), ("mlp", None), ("logreg", "undersample")])
def test_sample_weight_is_routed_with_metadata_routing(model, sampler):
    """Routing on: fit(X, y, sample_weight=w) reaches the scaler and the classifier (issue #14: it raised
    UnsetMetadataPassedError), the same fit as passing it to each step by hand; zero weights train
    like dropped rows."""
    X, y = _imbalanced()
    w = (np.arange(len(y)) % 3 > 0).astype(float)  # a third of the rows "excluded"
    params = {"max_iter": 30} if model != "logreg" else {}
    routed_steps = [n for n, s in make_baseline(model, features=False, sampler=sampler, **params).steps]
    assert routed_steps == ["scaler", "clf"]
    by_hand = make_baseline(model, features=False, sampler=sampler, **params).fit(
        X, y, scaler__sample_weight=w, clf__sample_weight=w)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = clone(make_baseline(model, features=False, sampler=sampler, **params))
        for step in ("scaler", "clf"):
            assert pipe.named_steps[step].get_metadata_routing().fit.requests["sample_weight"] is True
        routed = pipe.fit(X, y, sample_weight=w)
        np.testing.assert_allclose(routed.predict_proba(X), by_hand.predict_proba(X))
        if model == "logreg" and sampler is None:
            dropped = make_baseline(model, features=False).fit(X[w > 0], y[w > 0])
            np.testing.assert_allclose(routed.predict_proba(X), dropped.predict_proba(X), atol=1e-6)
        full = make_baseline(model, sampler=sampler, **params)  # with the feature extractor first
        assert full.named_steps["clf"].get_metadata_routing().fit.requests["sample_weight"] is True
        assert "sample_weight" not in full.named_steps["features"].get_metadata_routing().fit.requests


def test_without_metadata_routing_nothing_changes():
    """Routing off (the default): fits as before, per-step sample weights as in any pipeline, and an
    unprefixed sample_weight is refused as sklearn's Pipeline always did."""
    X, y = _imbalanced()
    w = np.linspace(0.5, 1.5, len(y))
    assert not sklearn.get_config()["enable_metadata_routing"]
    pipe = make_baseline("logreg", features=False)
    plain = Pipeline([("scaler", StandardScaler()), ("clf", LogisticRegression(**pipe[-1].get_params()))])
    np.testing.assert_allclose(pipe.fit(X, y).predict_proba(X), plain.fit(X, y).predict_proba(X))
    np.testing.assert_allclose(pipe.fit(X, y, clf__sample_weight=w).predict_proba(X),
                               plain.fit(X, y, clf__sample_weight=w).predict_proba(X))
    with pytest.raises(ValueError, match="sample_weight"):
        pipe.fit(X, y, sample_weight=w)
    again = pickle.loads(pickle.dumps(clone(pipe)))
    np.testing.assert_allclose(again.fit(X, y).predict_proba(X), plain.fit(X, y).predict_proba(X))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("model", ["logreg", "hgb", "mlp"])
def test_pipeline_on_raw_windows_clone_pickle_determinism(model):
    rng = np.random.default_rng(0)
    y = np.tile([0, 0, 0, 1], 10)
    X = rng.normal(size=(len(y), 18, 512)).astype(np.float32)
    X[y == 1] *= 3.0  # preictal windows have more power
    params = {"max_iter": 20} if model != "logreg" else {}
    pipe = make_baseline(model, random_state=0, **params)
    assert isinstance(pipe, Pipeline)
    assert clone(pipe).get_params()["clf"].__class__ is pipe.get_params()["clf"].__class__
    p1 = clone(pipe).fit(X, y).predict_proba(X)[:, 1]
    fitted = clone(pipe).fit(X, y)
    p2 = pickle.loads(pickle.dumps(fitted)).predict_proba(X)[:, 1]
    np.testing.assert_allclose(p1, p2)
    assert p1[y == 1].mean() > p1[y == 0].mean()
