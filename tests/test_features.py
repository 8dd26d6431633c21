"""Feature functions and transformers: names, known signals, NaN policy, mne-features agreement.

Tolerances against mne-features 0.3.2 (``convention="mne-features"``, float64 input): relative
1e-9 (same arithmetic up to summation order). float32 input versus float64: relative 1e-4.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from sklearn_eeg.features import functions as ff
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
    Variance,
    WaveletEnergy,
)

SFREQ = 256.0


@pytest.fixture(scope="module")
def eeg_like() -> np.ndarray:
    """(6, 18, 2560) float64: pink-ish noise plus a 10 Hz rhythm, 10 s windows."""
    rng = np.random.default_rng(42)
    n_windows, n_channels, n_times = 6, 18, 2560
    white = rng.standard_normal((n_windows, n_channels, n_times))
    spectrum = np.fft.rfft(white, axis=-1)
    freqs = np.fft.rfftfreq(n_times, 1 / SFREQ)
    spectrum[..., 1:] /= np.sqrt(freqs[1:])
    pink = np.fft.irfft(spectrum, n=n_times, axis=-1) * 20
    t = np.arange(n_times) / SFREQ
    alpha = 15 * np.sin(2 * np.pi * 10 * t + rng.uniform(0, 2 * np.pi, (n_windows, n_channels, 1)))
    return pink + alpha


def pathological_windows(n_channels: int = 4, n_times: int = 2560) -> np.ndarray:
    """All-zero, constant, clipped square wave, single spike (one window each)."""
    t = np.arange(n_times)
    X = np.zeros((4, n_channels, n_times))
    X[1] = 37.5
    X[2] = np.clip(800 * np.sin(2 * np.pi * 3 * t / SFREQ), -100, 100)
    X[3, :, n_times // 2] = 1000.0
    return X


def test_names_canonical_channels(eeg_like):
    fe = FeatureExtractor(feature_set="basic").fit(eeg_like)
    names = list(fe.get_feature_names_out())
    assert fe.ch_names_[0] == "FP1-F7" and len(fe.ch_names_) == 18
    assert "FP1-F7__pow_alpha" in names and "CZ-PZ__variance" in names
    assert "mean__pow_alpha" in names and "std__line_length" in names
    F = fe.transform(eeg_like.astype(np.float32))
    assert F.shape == (6, len(names)) and F.dtype == np.float32
    assert len(set(names)) == len(names)


def test_names_generic_and_given_channels():
    X = np.random.default_rng(0).standard_normal((3, 2, 512))
    assert FeatureExtractor(feature_set="basic").fit(X).get_feature_names_out()[0] == "ch0__pow_delta"
    fe = FeatureExtractor(feature_set="basic", ch_names=["C3", "C4"]).fit(X)
    assert "C4__line_length" in fe.get_feature_names_out()
    with pytest.raises(ValueError, match="ch_names"):
        FeatureExtractor(ch_names=["a"]).fit(X)


def test_feature_sets_nested(eeg_like):
    names = {
        fs: set(FeatureExtractor(feature_set=fs).fit(eeg_like).get_feature_names_out())
        for fs in ("basic", "basic_plus", "connectivity_light")
    }
    assert names["basic"] < names["basic_plus"] < names["connectivity_light"]
    coh = sorted(n for n in names["connectivity_light"] if n.endswith("coh_alpha") and "|" in n)
    assert len(coh) == 20 and "FP1-F7|FP2-F8__coh_alpha" in coh
    for needed in ("FP1-F7__ratio_theta_alpha", "FP1-F7__ratio_slow_fast", "FP1-F7__sef95",
                   "FP1-F7__hjorth_complexity", "FP1-F7__spect_entropy", "mean__rpow_gamma"):  # fmt: skip
        assert needed in names["basic_plus"]


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"feature_set": "everything"}, r"basic.*basic_plus.*connectivity_light"),
        ({"backend": "torch"}, "backend"),
        ({"convention": "eeglab"}, "convention"),
        ({"bands": {"hi": (40.0, 200.0)}}, r"bands\['hi'\].*Nyquist"),
        ({"sfreq": -1.0}, "sfreq"),
    ],
)
def test_bad_parameters_raise_in_fit(eeg_like, params, match):
    fe = FeatureExtractor(**params)  # __init__ never validates
    with pytest.raises(ValueError, match=match):
        fe.fit(eeg_like)


def test_bad_input_shape():
    with pytest.raises(ValueError, match="3-D"):
        FeatureExtractor().fit(np.zeros((2, 3, 4, 5)))


def test_sine_known_values():
    t = np.arange(2560) / SFREQ
    X = np.sin(2 * np.pi * 10 * t)[None, None, :] * 50
    rel = BandPowers(relative=True).fit(X).transform(X)[0]
    assert rel[2] > 0.95  # alpha
    sef = SpectralEdge().fit(X).transform(X)[0, 0]
    assert 9.0 <= sef <= 12.0
    mobility, complexity = Hjorth().fit(X).transform(X)[0]
    assert mobility == pytest.approx(2 * np.sin(np.pi * 10 / SFREQ), rel=1e-3)  # sqrt(var(dx)/var(x))
    assert complexity == pytest.approx(1.0, abs=1e-2)
    # absolute power in µV² integrates the PSD: total power of a 50 µV sine is 50² / 2
    total = BandPowers(bands={"all": (0.0, 128.0)}).fit(X).transform(X)[0, 0]
    assert total == pytest.approx(50**2 / 2, rel=0.05)
    assert Kurtosis().fit(X).transform(X)[0, 0] == pytest.approx(1.5, rel=1e-3)
    assert Variance().fit(X).transform(X)[0, 0] == pytest.approx(50**2 / 2, rel=1e-3)
    assert LineLength().fit(X).transform(X)[0, 0] == pytest.approx(
        np.mean(np.abs(np.diff(X[0, 0]))), rel=1e-12
    )


def test_band_ratios_follow_band_powers(eeg_like):
    pw = BandPowers().fit(eeg_like).transform(eeg_like).reshape(6, 18, 5)
    ratios = BandRatios().fit(eeg_like).transform(eeg_like).reshape(6, 18, 3)
    np.testing.assert_allclose(ratios[..., 0], pw[..., 1] / pw[..., 2], rtol=1e-10)
    np.testing.assert_allclose(ratios[..., 2], (pw[..., 0] + pw[..., 1]) / (pw[..., 2] + pw[..., 3]), rtol=1e-10)
    partial = BandRatios(bands={"alpha": (8, 12), "beta": (12, 30)}).fit(eeg_like)
    assert list(partial.get_feature_names_out()[:1]) == ["FP1-F7__ratio_beta_alpha"]


def test_coherence_matches_scipy(eeg_like):
    X = eeg_like[:2, :3]
    coh = Coherence(pairs=[(0, 1), (1, 2)]).fit(X).transform(X).reshape(2, 2, 2)
    for w in range(2):
        for p, (i, j) in enumerate([(0, 1), (1, 2)]):
            f, c = signal.coherence(X[w, i], X[w, j], fs=SFREQ, window="hamming", nperseg=256, noverlap=0)
            alpha = (f >= 8) & (f <= 12)
            assert coh[w, p, 0] == pytest.approx(c[alpha].mean(), rel=1e-8)
    same = np.repeat(X[:, :1], 2, axis=1)
    np.testing.assert_allclose(Coherence(pairs=[(0, 1)]).fit(same).transform(same), 1.0, rtol=1e-9)


@pytest.mark.parametrize("feature_set", sorted(ff.FEATURE_SETS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_no_nan_or_inf_on_pathological_windows(feature_set, dtype):
    X = pathological_windows().astype(dtype)
    fe = FeatureExtractor(feature_set=feature_set).fit(X)
    with np.errstate(divide="raise", invalid="raise", over="raise"):
        F = fe.transform(X)
    assert np.isfinite(F).all()
    names = list(fe.get_feature_names_out())
    # flat windows: zero spectrum -> entropy 0, relative power 0, kurtosis 0, SEF 0 Hz
    for window in (0, 1):
        for name in ("ch0__spect_entropy", "ch0__rpow_alpha", "ch0__kurtosis", "ch0__sef95"):
            if name in names:
                assert F[window, names.index(name)] == 0.0


def test_float32_matches_float64(eeg_like):
    fe = FeatureExtractor(feature_set="connectivity_light").fit(eeg_like)
    F64 = fe.transform(eeg_like)
    F32 = fe.transform(eeg_like.astype(np.float32))
    scale = np.abs(F64).max(axis=0) + 1e-12  # std aggregates can be ~0: compare per column scale
    assert (np.abs(F32 - F64) / scale).max() < 1e-4


def test_chunks_and_jobs_do_not_change_results(monkeypatch, eeg_like):
    X = np.concatenate([eeg_like] * 3)
    reference = FeatureExtractor().fit(X).transform(X)
    monkeypatch.setattr(ff, "CHUNK_SIZE", 4)
    np.testing.assert_array_equal(FeatureExtractor().fit(X).transform(X), reference)
    np.testing.assert_array_equal(FeatureExtractor(n_jobs=2).fit(X).transform(X), reference)


def test_two_dimensional_input_is_single_channel(eeg_like):
    X2 = eeg_like[:, 0, :]
    fe = FeatureExtractor(feature_set="basic").fit(X2)
    assert fe.n_features_in_ == 2560 and fe.ch_names_ == ["ch0"]
    np.testing.assert_allclose(
        fe.transform(X2)[:, :7],
        FeatureExtractor(feature_set="basic").fit(eeg_like[:, :1]).transform(eeg_like[:, :1])[:, :7],
    )


def test_pandas_output(eeg_like):
    df = FeatureExtractor(feature_set="basic").set_output(transform="pandas").fit_transform(eeg_like)
    assert df.columns[0] == "FP1-F7__pow_delta" and df.shape[0] == 6


def test_standard_convention_differs_only_where_documented(eeg_like):
    df = SFREQ / 256
    std = BandPowers().fit(eeg_like).transform(eeg_like)
    mne = BandPowers(convention="mne-features").fit(eeg_like).transform(eeg_like)
    np.testing.assert_allclose(std, mne * df, rtol=1e-12)
    offset = eeg_like + 500.0  # a DC offset changes mne-features' Hjorth (prepended 0), not ours
    h = Hjorth().fit(eeg_like)
    np.testing.assert_allclose(h.transform(offset), h.transform(eeg_like), rtol=1e-6)
    hm = Hjorth(convention="mne-features").fit(eeg_like)
    assert not np.allclose(hm.transform(offset), hm.transform(eeg_like), rtol=1e-3)


# ---------------------------------------------------------------------------------------------
# mne-features reference (import costs ~10 s of numba compilation, once per session)


@pytest.fixture(scope="module")
def extract_features():
    module = pytest.importorskip("mne_features.feature_extraction")
    return module.extract_features


@pytest.mark.parametrize(
    ("func", "params", "ours"),
    [
        ("line_length", {}, lambda X: ff.compute_line_length(X)),
        ("variance", {}, lambda X: ff.compute_variance(X)),
        ("kurtosis", {}, lambda X: ff.compute_kurtosis(X)),
        ("hjorth_mobility", {}, lambda X: ff.compute_hjorth(X, convention="mne-features")[..., :1]),
        ("hjorth_complexity", {}, lambda X: ff.compute_hjorth(X, convention="mne-features")[..., 1:]),
        ("spect_entropy", {}, lambda X: ff.compute_spectral_entropy(X, SFREQ, convention="mne-features")),
        ("spect_edge_freq", {"spect_edge_freq__edge": [0.95]}, lambda X: ff.compute_spectral_edge(X, SFREQ)),
        ("wavelet_coef_energy", {}, lambda X: ff.compute_wavelet_energy(X)),
        (
            "pow_freq_bands",
            {"pow_freq_bands__freq_bands": {k: list(v) for k, v in ff.BANDS.items()}},
            lambda X: ff.compute_band_powers(X, SFREQ, relative=True),
        ),
        (
            "pow_freq_bands",
            {"pow_freq_bands__freq_bands": {k: list(v) for k, v in ff.BANDS.items()},
             "pow_freq_bands__normalize": False},  # fmt: skip
            lambda X: ff.compute_band_powers(X, SFREQ, convention="mne-features"),
        ),
    ],
)
def test_agrees_with_mne_features(extract_features, eeg_like, func, params, ours):
    X = eeg_like[:, :4]
    expected = extract_features(X, SFREQ, [func], funcs_params=params, separator="__")
    np.testing.assert_allclose(ours(X).reshape(len(X), -1), expected, rtol=1e-9, atol=1e-12)


def test_backend_mne_features_equals_numpy_compat(extract_features, eeg_like):
    X = np.concatenate([eeg_like[:3, :4], pathological_windows()])
    numpy_fe = FeatureExtractor(feature_set="basic_plus", convention="mne-features").fit(X)
    mne_fe = FeatureExtractor(feature_set="basic_plus", backend="mne-features").fit(X)
    assert list(numpy_fe.get_feature_names_out()) == list(mne_fe.get_feature_names_out())
    reference = mne_fe.transform(X)
    np.testing.assert_allclose(numpy_fe.transform(X), reference, rtol=1e-9, atol=1e-9)


def test_band_power_trend_uses_previous_window(eeg_like):
    X = eeg_like[:4, :2].copy()
    X[2] = 3.0 * X[1]  # exactly 9x the power of window 1
    trend = BandPowerTrend().fit(X)
    T = trend.transform(X).reshape(4, 2, 5)
    assert trend.get_feature_names_out()[0] == "ch0__trend_delta"
    np.testing.assert_array_equal(T[0], 0.0)  # first window of the batch
    np.testing.assert_allclose(T[2], (9 - 1) / (9 + 1), rtol=1e-9)  # (p_t - p_{t-1}) / (p_t + p_{t-1})
    assert np.all(np.abs(T) <= 1.0)
    flat = np.zeros((3, 2, 512))
    np.testing.assert_array_equal(BandPowerTrend().fit(flat).transform(flat), 0.0)
    all_names = " ".join(FeatureExtractor(feature_set="connectivity_light").fit(X).get_feature_names_out())
    assert "trend_" not in all_names  # order-dependent: in no named set
    with pytest.raises(ValueError, match="window order"):
        ff.compute_features(X, SFREQ, features=("band_power_trend",))


def test_benchmark_helpers_smoke(extract_features):
    X = ff.make_benchmark_windows(6, n_channels=3, n_times=1024, seed=1)
    assert X.shape == (6, 3, 1024) and X.dtype == np.float32
    result = ff.benchmark_against_mne_features(X, SFREQ, repeat=1)
    assert result["ours_s"] > 0 and result["mne_s"] > 0 and result["ratio"] > 0
    assert set(result["max_rel_diff"]) == {g for g in ff.FEATURE_SETS["basic_plus"] if g in ff.MNE_FEATURES_EQUIVALENTS}
    assert max(result["max_rel_diff"].values()) < 1e-4  # float32 ours vs float64 mne-features


def test_bench_script_help():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "pipelines" / "bench_features.py"
    out = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, check=True)
    assert "--n_windows" in out.stdout


def test_wavelet_energy_levels_and_short_windows():
    t = np.arange(2560) / SFREQ
    X = np.sin(2 * np.pi * 40 * t)[None, None, :]  # 40 Hz: inside D2 (32-64 Hz at 256 Hz)
    we = WaveletEnergy().fit(X)
    energy = we.transform(X)[0]
    assert list(we.get_feature_names_out()) == [f"ch0__wav_d{k}" for k in range(1, 7)]
    assert energy.argmax() == 1
    short = np.random.default_rng(0).standard_normal((2, 1, 64))  # room for 3 db4 levels only
    out = WaveletEnergy().fit(short).transform(short)
    assert np.all(out[:, :3] > 0) and np.all(out[:, 3:] == 0)


def test_reference_backend_without_mne_features_says_how_to_install(monkeypatch, eeg_like):
    """mne-features is an optional extra (`sklearn-eeg[reference]`): without it, one clear ImportError."""
    import sys

    monkeypatch.setitem(sys.modules, "mne_features", None)
    monkeypatch.setitem(sys.modules, "mne_features.feature_extraction", None)
    with pytest.raises(ImportError, match=r"pip install \"sklearn-eeg\[reference\]\""):
        FeatureExtractor(feature_set="basic", backend="mne-features").fit(eeg_like).transform(eeg_like)


def test_channel_aggregates_equal_numpy_mean_and_std_bit_for_bit():
    """The aggregates skip np.mean/np.std's per-call overhead (streamed windows) but must equal them exactly."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        shape = (int(rng.choice([1, 2, 256])), int(rng.choice([1, 2, 17, 18, 20, 23])), int(rng.integers(1, 8)))
        values = rng.normal(size=shape) * 10.0 ** rng.uniform(-8, 8)
        values = values.astype(np.float32) if rng.random() < 0.3 else values
        mean, std = ff._aggregates(values)
        for got, expected in ((mean, values.mean(axis=1)), (std, values.std(axis=1))):
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(got, expected)
