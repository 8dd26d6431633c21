"""The online scorer's shortcut for scaler -> logistic-regression pipelines (issue #15, stream speed).

:func:`sklearn_eeg.online.linear_risk.linear_risk` must equal ``predict_proba(row)[0, 1]`` bit for bit
wherever it is used, be refused for every other model, and refuse itself when its arithmetic would differ;
the forecaster's risks with the shortcut equal the plain ``FeatureExtractor.transform`` + ``predict_proba``
path, window by window.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import sklearn_eeg.online.forecaster as forecaster_module
import sklearn_eeg.online.linear_risk as linear_risk_module
from sklearn_eeg.features.extractor import FeatureExtractor
from sklearn_eeg.models.baselines import make_baseline
from sklearn_eeg.online import OnlineForecaster, array_chunks, causal_filter
from sklearn_eeg.online.linear_risk import linear_risk
from sklearn_eeg.signal.windows import segment_windows

SFREQ = 256.0


def feature_data(n: int = 120, n_features: int = 7, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features on very different scales (as EEG band powers and ratios are), labels from a noisy rule."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features)) * 10.0 ** rng.uniform(-3, 4, n_features) + rng.normal(0, 50, n_features)
    y = ((X[:, 0] - X[:, 0].mean()) / X[:, 0].std() + rng.normal(0, 1, n) > 0).astype(int)
    return X, y


@pytest.mark.parametrize("model", [
    make_pipeline(StandardScaler(), LogisticRegression()),
    make_pipeline(StandardScaler(with_mean=False), LogisticRegression(C=0.01)),
    make_pipeline(StandardScaler(), "passthrough", StandardScaler(with_std=False), LogisticRegression(C=100.0)),
    make_baseline("logreg", features=False),
], ids=["default", "no_mean", "two_scalers", "project_baseline"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shortcut_equals_predict_proba_bit_for_bit(model, dtype):
    X, y = feature_data()
    model.fit(X, y)
    risk = linear_risk(model)
    assert risk is not None
    rows = np.vstack([X, feature_data(200, seed=1)[0] * 3.0, X * 1e3]).astype(dtype)  # new and saturating rows
    got = np.array([risk(rows[i : i + 1]) for i in range(len(rows))])
    expected = np.array([model.predict_proba(rows[i : i + 1])[0, 1] for i in range(len(rows))])
    np.testing.assert_array_equal(got, expected)
    assert np.any((got < 1e-12) | (got > 1 - 1e-12)) and np.any((got > 0.05) & (got < 0.95))  # saturated and ordinary rows


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # a few MLP iterations suffice here
@pytest.mark.parametrize("make", [
    lambda: LogisticRegression(),  # no pipeline
    lambda: make_pipeline(MinMaxScaler(), LogisticRegression()),
    lambda: make_pipeline(StandardScaler(), MLPClassifier(max_iter=50, random_state=0)),
    lambda: make_baseline("hgb", features=False, max_iter=5),
    lambda: make_baseline("logreg", features=False, sampler="undersample"),
], ids=["bare_classifier", "minmax", "mlp", "hgb", "wrapped_classifier"])
def test_other_models_keep_predict_proba(make):
    X, y = feature_data()
    assert linear_risk(make().fit(X, y)) is None


def test_multiclass_logistic_keeps_predict_proba():
    X, _ = feature_data()
    y = np.arange(len(X)) % 3
    assert linear_risk(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)) is None


def test_shortcut_refuses_itself_when_its_arithmetic_differs(monkeypatch):
    X, y = feature_data()
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    exact = linear_risk_module._ScaledLogisticRisk.__call__
    monkeypatch.setattr(linear_risk_module._ScaledLogisticRisk, "__call__",
                        lambda self, row: float(np.nextafter(exact(self, row), 2.0)))  # one ulp off
    assert linear_risk(model) is None


# ------------------------------------------------------------------------------------------------
# in the forecaster


@pytest.fixture(scope="module")
def stream_and_model():
    rng = np.random.default_rng(3)
    n = int(120 * SFREQ)
    t = np.arange(n) / SFREQ
    data = (30.0 * (1 + np.sin(2 * np.pi * t / 40.0)) * np.sin(2 * np.pi * 10.0 * t)
            + rng.normal(0.0, 15.0, (3, n))).astype(np.float32)
    windows = np.asarray(segment_windows(causal_filter(data, SFREQ), SFREQ, 10.0, 5.0))
    X = FeatureExtractor(sfreq=SFREQ, feature_set="basic").fit_transform(windows)
    y = (np.sin(2 * np.pi * (5.0 * np.arange(len(X)) + 5.0) / 40.0) > 0).astype(int)
    return data, windows, make_baseline("logreg", features=False).fit(X, y)


def test_forecaster_risks_equal_transform_then_predict_proba(stream_and_model, monkeypatch):
    data, windows, model = stream_and_model
    fast = OnlineForecaster(model, feature_set="basic")
    assert fast._scorer._risk is not None, "the project's logreg baseline must take the shortcut"
    risks = np.concatenate([fast.update(c).risks for c in array_chunks(data, [256, 999, 37, 5000])])
    extractor = FeatureExtractor(sfreq=SFREQ, feature_set="basic").fit(windows[:1])
    expected = [model.predict_proba(extractor.transform(windows[i : i + 1]))[0, 1] for i in range(len(windows))]
    np.testing.assert_array_equal(risks, expected)
    monkeypatch.setattr(forecaster_module, "linear_risk", lambda model: None)  # the plain path, same stream
    slow = OnlineForecaster(model, feature_set="basic")
    assert slow._scorer._risk is None
    np.testing.assert_array_equal(np.concatenate([slow.update(c).risks for c in array_chunks(data, 256)]), risks)


def test_transform_checked_equals_transform(stream_and_model):
    _, windows, _ = stream_and_model
    extractor = FeatureExtractor(sfreq=SFREQ, feature_set="basic_plus").fit(windows)
    np.testing.assert_array_equal(extractor.transform_checked(windows), extractor.transform(windows))
    np.testing.assert_array_equal(extractor.transform_checked(windows[:1]), extractor.transform(windows[:1]))


def test_a_stream_with_other_channels_than_the_model_read_is_refused(stream_and_model):
    data, _, model = stream_and_model
    fc = OnlineForecaster(model, feature_set="basic")
    with pytest.raises(ValueError, match=r"the model reads \d+ features; 2 channels give \d+ 'basic' features"):
        fc.update(data[:2])
