"""Classical baseline factory and the fit-time class balancing meta-estimator."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
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
