"""Preprocessing transformers: filter responses, re-referencing, resampling, artifact flags."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import signal
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_eeg.features.extractor import FeatureExtractor
from sklearn_eeg.signal.preprocessing import (
    ArtifactRejector,
    ArtifactWarning,
    BandpassFilter,
    NotchFilter,
    Rereference,
    Resampler,
    design_filter_sos,
    filter_signal,
)

SFREQ = 256.0


def sines(freqs, n_times=5120, amplitude=100.0) -> np.ndarray:
    """One window, one channel per frequency: (1, len(freqs), n_times) float32."""
    t = np.arange(n_times) / SFREQ
    return (amplitude * np.sin(2 * np.pi * np.asarray(freqs)[:, None] * t))[None].astype(np.float32)


def gain_db(X_in: np.ndarray, X_out: np.ndarray) -> np.ndarray:
    """Steady-state gain per channel (middle half, away from edge transients)."""
    n = X_in.shape[-1]
    mid = slice(n // 4, 3 * n // 4)
    return 20 * np.log10(X_out[0, :, mid].std(axis=-1) / X_in[0, :, mid].std(axis=-1))


def test_bandpass_response_documented():
    freqs = [0.5, 2.0, 10.0, 30.0, 45.0, 60.0]
    X = sines(freqs)
    gains = gain_db(X, BandpassFilter().fit_transform(X))
    assert gains[0] == pytest.approx(-6.0, abs=0.7)  # -6 dB at l_freq (forward-backward)
    assert abs(gains[1]) < 0.1 and abs(gains[2]) < 0.1
    assert gains[3] == pytest.approx(0.0, abs=0.5)
    assert gains[4] == pytest.approx(-6.0, abs=0.5)  # -6 dB at h_freq
    assert gains[5] < -25.0


def test_bandpass_magnitude_from_sos():
    w, h = signal.sosfreqz(design_filter_sos(SFREQ, notch=None), worN=2**16, fs=SFREQ)
    g = 20 * np.log10(np.abs(h[1:]) ** 2)  # skip DC, where the high-pass response is exactly 0
    w = w[1:]
    passband = w[g >= -3.0]
    assert passband.min() == pytest.approx(0.56, abs=0.02)
    assert passband.max() == pytest.approx(41.2, abs=0.1)


def test_notch_removes_line_noise_only():
    X = sines([10.0, 60.0])
    gains = gain_db(X, NotchFilter().fit_transform(X))
    assert abs(gains[0]) < 0.05
    assert gains[1] < -40.0
    np.testing.assert_array_equal(
        NotchFilter().transform(X), filter_signal(X, SFREQ, l_freq=None, h_freq=None, notch=60.0)
    )


def test_rereference():
    X = np.random.default_rng(0).standard_normal((3, 4, 100)).astype(np.float32)
    avg = Rereference().fit_transform(X)
    np.testing.assert_allclose(avg.sum(axis=1), 0.0, atol=1e-5)
    np.testing.assert_array_equal(Rereference(method="keep").fit_transform(X), X)


def test_resampler_keeps_in_band_sine():
    X = sines([5.0], n_times=2560)
    Y = Resampler(new_sfreq=128.0).fit_transform(X)
    assert Y.shape == (1, 1, 1280) and Y.dtype == np.float32
    t = np.arange(1280) / 128.0
    np.testing.assert_allclose(Y[0, 0, 100:-100], 100 * np.sin(2 * np.pi * 5 * t)[100:-100], atol=1.0)
    assert Resampler(sfreq=173.61, new_sfreq=256.0).fit_transform(np.zeros((2, 1, 4097), np.float32)).shape[-1] in (
        6041,
        6042,
    )


def test_artifact_flag_and_reject():
    X = np.zeros((4, 3, 256), dtype=np.float32)
    X[1, 2, 10] = 600.0  # ptp 600 > 500
    X[3, 0, :] = np.linspace(-300, 300, 256)  # ptp 600
    flag = ArtifactRejector()
    np.testing.assert_array_equal(flag.flag(X), [False, True, False, True])
    np.testing.assert_array_equal(flag.fit_transform(X), X)  # flag mode: unchanged
    reject = ArtifactRejector(mode="reject")
    with pytest.warns(ArtifactWarning, match=r"rejected 2 of 4 windows.*\[1, 3\]") as record:
        kept = reject.fit_transform(X)
    assert kept.shape == (2, 3, 256)
    np.testing.assert_array_equal(record[0].message.indices, [1, 3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert reject.transform(X[[0, 2]]).shape[0] == 2  # nothing rejected, no warning


@pytest.mark.parametrize(
    ("estimator", "match"),
    [
        (BandpassFilter(l_freq=None, h_freq=None), "both be None"),
        (BandpassFilter(l_freq=40.0, h_freq=30.0), "l_freq"),
        (BandpassFilter(l_freq=200.0, h_freq=None), "Nyquist"),
        (BandpassFilter(sfreq=0), "sfreq"),
        (NotchFilter(freq=130.0), "freq"),
        (Rereference(method="median"), "method"),
        (Resampler(new_sfreq=-1.0), "new_sfreq"),
        (ArtifactRejector(mode="drop"), "mode"),
        (ArtifactRejector(threshold=0), "threshold"),
    ],
)
def test_bad_parameters(estimator, match):
    with pytest.raises(ValueError, match=match):
        estimator.fit(np.zeros((1, 1, 512), dtype=np.float32))


def test_pipeline_end_to_end():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 2, 1024)).astype(np.float32) * 10
    y = np.r_[np.zeros(20), np.ones(20)]
    X[20:] += sines([10.0, 10.0], n_times=1024)[0] * 0.5  # alpha in class 1
    pipe = make_pipeline(
        BandpassFilter(), NotchFilter(), FeatureExtractor(feature_set="basic"), StandardScaler(), LogisticRegression()
    )
    assert pipe.fit(X, y).score(X, y) > 0.9
    assert pipe[:-2].get_feature_names_out()[2] == "ch0__pow_alpha"
    df = pipe[:-2].set_output(transform="pandas").transform(X)
    assert df.columns[2] == "ch0__pow_alpha" and len(df) == 40
