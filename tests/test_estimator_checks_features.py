"""scikit-learn conformance of every preprocessing and feature transformer.

* The feature transformers also accept 2-D ``(n_windows, n_times)`` (single-channel windows), so
  they run the full ``parametrize_with_checks`` suite with no expected failure.
  ``check_array_api_input`` skips itself unless ``SCIPY_ARRAY_API=1`` is set. Caveat:
  ``BandPowerTrend`` depends on row order by design, yet passes ``check_methods_subset_invariance``
  and ``check_methods_sample_order_invariance`` only because those checks use 3-sample rows, whose
  spectra have no bin inside any EEG band (all trends 0); test_features.py tests the order
  dependence on real-length windows.
  ``Coherence`` is left out of the 2-D suite: 2-D input is single-channel and has no pairs.
* The preprocessing transformers are 3-D only (``input_tags.two_d_array = False``): sklearn skips
  all its common checks for them, and pretending otherwise would test nothing. They, and the
  feature transformers on 3-D input, get our own checks below: clone round trip, ``get_params``
  equality, pickling, determinism, fit/transform on 3-D, the stateless tags, ``set_output``.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

from sklearn_eeg.features.extractor import (
    BandPowerTrend,
    BandPowers,
    BandRatios,
    Coherence,
    FeatureExtractor,
    Hjorth,
    Kurtosis,
    LineLength,
    SpectralEdge,
    SpectralEntropy,
    Variance,
    WaveletEnergy,
)
from sklearn_eeg.signal.preprocessing import (
    ArtifactRejector,
    BandpassFilter,
    NotchFilter,
    Rereference,
    Resampler,
)

FEATURE_TRANSFORMERS = [
    BandPowerTrend(),
    BandPowers(),
    BandPowers(relative=True, bands={"low": (1.0, 10.0), "high": (10.0, 40.0)}),
    BandRatios(),
    Coherence(pairs=[(0, 1), (2, 0)]),
    FeatureExtractor(feature_set="basic"),
    FeatureExtractor(feature_set="basic_plus", convention="mne-features"),
    FeatureExtractor(feature_set="connectivity_light"),
    Hjorth(),
    Kurtosis(),
    LineLength(),
    SpectralEdge(),
    SpectralEntropy(),
    Variance(),
    WaveletEnergy(),
]
PREPROCESSING_TRANSFORMERS = [
    ArtifactRejector(threshold=50.0),
    BandpassFilter(),
    NotchFilter(freq=50.0),
    Rereference(),
    Rereference(method="keep"),
    Resampler(new_sfreq=100.0),
]
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


def _two_d_capable(estimators):
    # Coherence needs >= 2 channels: not meaningful on single-channel 2-D input
    return [e for e in estimators if not isinstance(e, Coherence)]


@parametrize_with_checks(
    _two_d_capable(FEATURE_TRANSFORMERS), expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS
)
def test_sklearn_compatible_feature_transformer(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def windows() -> np.ndarray:
    return np.random.default_rng(3).standard_normal((5, 3, 1024)).astype(np.float32) * 30


ALL = FEATURE_TRANSFORMERS + PREPROCESSING_TRANSFORMERS
IDS = [repr(e) for e in ALL]


@pytest.mark.parametrize("estimator", ALL, ids=IDS)
def test_clone_round_trip_and_params(estimator):
    cloned = clone(estimator)
    assert type(cloned) is type(estimator)
    assert cloned.get_params() == estimator.get_params()
    assert repr(cloned) == repr(estimator)


@pytest.mark.parametrize("estimator", ALL, ids=IDS)
def test_fit_transform_3d_deterministic_and_picklable(estimator, windows):
    est = clone(estimator)
    out1 = est.fit(windows).transform(windows)
    out2 = clone(estimator).fit_transform(windows)
    np.testing.assert_array_equal(out1, out2)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(windows), out1)
    assert np.isfinite(out1).all()
    assert out1.shape[0] == windows.shape[0]


@pytest.mark.parametrize("estimator", FEATURE_TRANSFORMERS, ids=[repr(e) for e in FEATURE_TRANSFORMERS])
def test_feature_transformers_3d_names_and_pandas(estimator, windows):
    est = clone(estimator).fit(windows)
    names = est.get_feature_names_out()
    out = est.transform(windows)
    assert out.ndim == 2 and out.shape[1] == len(names) and out.dtype == np.float32
    assert all("__" in n for n in names)
    df = clone(estimator).set_output(transform="pandas").fit_transform(windows)
    assert list(df.columns) == list(names)
    tags = est.__sklearn_tags__()
    assert tags.input_tags.three_d_array and tags.input_tags.two_d_array and tags.requires_fit


@pytest.mark.parametrize(
    "estimator", PREPROCESSING_TRANSFORMERS, ids=[repr(e) for e in PREPROCESSING_TRANSFORMERS]
)
def test_preprocessing_is_stateless_3d(estimator, windows):
    est = clone(estimator)
    check_is_fitted(est)  # stateless: usable without fit
    tags = est.__sklearn_tags__()
    assert tags.requires_fit is False
    assert tags.input_tags.three_d_array and not tags.input_tags.two_d_array
    out = est.transform(windows)
    assert out.ndim == 3 and out.shape[1] == windows.shape[1]
    assert out.dtype == np.float32
    assert est.__dict__ == clone(estimator).__dict__  # transform leaves no state behind
    with pytest.raises(ValueError, match="3-D"):
        est.transform(windows[0])
