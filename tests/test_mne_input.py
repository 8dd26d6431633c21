"""MNE objects as input (#14): ``mne.io.Raw`` wherever recordings enter, ``mne.Epochs`` wherever windows do.

Each path checks units (MNE keeps volts, the package works in µV), the sampling rate (from
``info``, never assumed) and channel names, against the equivalent µV array or EDF file.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap

import mne
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from sklearn_eeg.data import CANONICAL_CHANNELS, make_chbmit_like
from sklearn_eeg.data.edf import MissingChannelsError, read_edf
from sklearn_eeg.data.edf_writer import write_edf
from sklearn_eeg.data.mne_input import epochs_to_windows, is_mne_epochs, is_mne_raw, raw_to_array, raw_to_recording
from sklearn_eeg.features.extractor import BandPowers, FeatureExtractor
from sklearn_eeg.signal.preprocessing import ArtifactRejector, BandpassFilter, Rereference, Resampler

pytestmark = pytest.mark.filterwarnings("ignore:Channel names are not unique")

SFREQ = 256.0


@pytest.fixture(scope="module")
def synthetic_edf(tmp_path_factory):
    """``{rate: path}``: half an hour of the first synthetic subject at 256 and 128 Hz.

    The first subject has the chb12-like layout: five dummy ``-`` channels and the duplicate
    ``T8-P8``, which MNE renames ``--0``... and ``T8-P8-0``/``T8-P8-1``.
    """
    paths = {}
    for rate in (256, 128):
        root = tmp_path_factory.mktemp(f"synthetic{rate}")
        make_chbmit_like(root, n_subjects=1, hours=0.5, file_hours=0.5, seizures=0, sfreq=rate, progress=False)
        (paths[rate],) = sorted(root.rglob("*.edf"))
    return paths


def _sine_windows(freq: float, sfreq: float, *, n_windows: int = 3, n_channels: int = 2, seconds: float = 10.0,
                  amplitude_uv: float = 50.0) -> np.ndarray:  # fmt: skip
    t = np.arange(int(seconds * sfreq)) / sfreq
    return np.broadcast_to(amplitude_uv * np.sin(2 * np.pi * freq * t), (n_windows, n_channels, t.size)).copy()


def _epochs(X_uv: np.ndarray, sfreq: float, ch_names=None, **kwargs) -> mne.EpochsArray:
    """EpochsArray in volts (MNE's unit) holding the µV windows ``X_uv``."""
    ch_names = ch_names or [f"EEG{i:02d}" for i in range(X_uv.shape[1])]
    info = mne.create_info(list(ch_names), sfreq, ch_types="eeg")
    return mne.EpochsArray(np.asarray(X_uv, dtype=float) * 1e-6, info, verbose="error", **kwargs)


# ------------------------------------------------------------------------------------------------
# Raw -> read_edf / raw_to_recording


@pytest.mark.parametrize("preload", [True, False])
def test_raw_equals_reading_the_same_edf(synthetic_edf, preload):
    path = synthetic_edf[256]
    from_file = read_edf(path)
    raw = mne.io.read_raw_edf(path, preload=preload, verbose="error")
    assert "T8-P8-0" in raw.ch_names and "T8-P8" not in raw.ch_names  # MNE's renaming is undone
    from_raw = read_edf(raw)
    assert from_raw.ch_names == from_file.ch_names == CANONICAL_CHANNELS
    assert from_raw.sfreq == from_file.sfreq == SFREQ
    assert from_raw.data.dtype == np.float32 and from_raw.data.shape == from_file.data.shape
    np.testing.assert_array_equal(from_raw.mask, from_file.mask)
    assert from_raw.dropped == from_file.dropped  # dummies, extras and the second T8-P8
    assert from_raw.path == str(path)
    # MNE decodes in float64 then we round to float32; the EDF reader decodes in float32
    np.testing.assert_allclose(from_raw.data, from_file.data, rtol=1e-6, atol=1e-3)
    # the first T8-P8 is used, as for the file; every channel holds its own signal
    every = read_edf(path, channels=None)
    t8 = every.ch_names.index("T8-P8")
    np.testing.assert_allclose(from_raw.data[CANONICAL_CHANNELS.index("T8-P8")], every.data[t8], atol=1e-3)
    via_function = raw_to_recording(raw)
    np.testing.assert_array_equal(via_function.data, from_raw.data)


def test_raw_at_another_rate_is_resampled_like_read_edf(synthetic_edf):
    path = synthetic_edf[128]
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    assert raw.info["sfreq"] == 128.0
    from_file, from_raw = read_edf(path), read_edf(raw)
    assert from_raw.sfreq == from_file.sfreq == SFREQ
    assert from_raw.data.shape == from_file.data.shape == (18, int(raw.n_times * 2))
    np.testing.assert_allclose(from_raw.data, from_file.data, rtol=1e-5, atol=1e-2)
    # sfreq=None keeps the Raw's own rate (the rate comes from info, not an assumption)
    native = raw_to_recording(raw, sfreq=None)
    assert native.sfreq == 128.0 and native.n_times == raw.n_times
    np.testing.assert_allclose(native.data, read_edf(path, sfreq=128.0).data, rtol=1e-6, atol=1e-3)


def test_raw_in_volts_becomes_microvolts():
    rate = 512.0
    X_uv = _sine_windows(10.0, rate, n_windows=1, n_channels=18, seconds=8.0)[0]  # 50 µV, 10 Hz
    names = [c.title() for c in CANONICAL_CHANNELS]  # "Fp1-F7": matched case-insensitively
    raw = mne.io.RawArray(X_uv * 1e-6, mne.create_info(names, rate, ch_types="eeg"), verbose="error")
    rec = read_edf(raw)
    assert rec.ch_names == CANONICAL_CHANNELS and rec.sfreq == SFREQ and rec.path == "<RawArray>"
    assert rec.data.shape == (18, 8 * 256)
    assert 45.0 < np.abs(rec.data[:, 100:-100]).max() < 55.0  # µV, not 5e-5
    windows = rec.data[:, : 2560 - 512].reshape(18, 1, -1).transpose(1, 0, 2)
    power = pd.Series(BandPowers().fit_transform(windows)[0], BandPowers().fit(windows).get_feature_names_out())
    alpha = power.filter(like="__pow_alpha")
    np.testing.assert_allclose(alpha, 50.0**2 / 2, rtol=0.05)  # µV², not 1e-9
    assert (power.filter(like="__pow_beta") < 1.0).all()


def test_raw_missing_channels_follow_read_edf_rules():
    names = list(CANONICAL_CHANNELS[:-1]) + ["ECG"]
    info = mne.create_info(names, SFREQ, ch_types=["eeg"] * 17 + ["ecg"])
    raw = mne.io.RawArray(np.full((18, 512), 1e-5), info, verbose="error")
    with pytest.raises(MissingChannelsError, match=r"<RawArray>: missing channels \['CZ-PZ'\]"):
        read_edf(raw)
    rec = read_edf(raw, missing="zero")
    assert rec.mask.tolist() == [True] * 17 + [False]
    assert not rec.data[-1].any() and np.allclose(rec.data[:-1], 10.0)
    assert rec.dropped == ("ECG",)
    with pytest.raises(TypeError, match="mne.io.BaseRaw"):
        raw_to_recording(np.zeros((18, 512)))


def test_raw_channels_not_in_volts_are_kept_with_a_warning(caplog):
    info = mne.create_info(list(CANONICAL_CHANNELS), SFREQ)  # default type "misc": no unit
    raw = mne.io.RawArray(np.full((18, 512), 3.0), info, verbose="error")
    with caplog.at_level(logging.WARNING, logger="sklearn_eeg.data.mne_input"):
        rec = read_edf(raw)
    assert np.allclose(rec.data, 3.0) and "not in volts" in caplog.text and "FP1-F7" in caplog.text


# ------------------------------------------------------------------------------------------------
# Epochs -> windows -> transformers


def test_epochs_to_windows_units_rate_names():
    X_uv = np.random.default_rng(0).normal(0, 30, (4, 3, 640))
    info = mne.create_info(["Fp1-F7", "F7-T7", "STI 014"], 64.0, ch_types=["eeg", "eeg", "stim"])
    data = np.concatenate([X_uv[:, :2] * 1e-6, np.ones((4, 1, 640))], axis=1)
    epochs = mne.EpochsArray(data, info, verbose="error")
    X, sfreq, names = epochs_to_windows(epochs)
    assert X.dtype == np.float32 and X.shape == (4, 2, 640)  # the stimulus channel is left out
    assert sfreq == 64.0 and names == ["Fp1-F7", "F7-T7"]
    np.testing.assert_allclose(X, X_uv[:, :2], rtol=1e-6)
    assert is_mne_epochs(epochs) and not is_mne_raw(epochs) and not is_mne_epochs(X)
    misc = mne.EpochsArray(data[:, :2], mne.create_info(2, 64.0), verbose="error")  # default type: misc
    with pytest.raises(ValueError, match="no EEG channel.*ch_types='eeg'"):
        epochs_to_windows(misc)


def test_epochs_give_the_features_of_the_microvolt_array():
    X_uv = np.random.default_rng(1).normal(0, 40, (5, 18, 2560))
    epochs = _epochs(X_uv, SFREQ, CANONICAL_CHANNELS)
    fe = FeatureExtractor(feature_set="basic_plus")
    from_epochs = fe.fit_transform(epochs)
    expected = FeatureExtractor(feature_set="basic_plus").fit_transform(X_uv.astype(np.float32))
    assert from_epochs.dtype == np.float32 and fe.sfreq_ == SFREQ
    np.testing.assert_allclose(from_epochs, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(fe.transform(epochs), from_epochs)


def test_epochs_from_a_raw_give_the_features_of_the_microvolt_array():
    rate = 200.0
    data_uv = np.random.default_rng(2).normal(0, 25, (4, int(60 * rate)))
    raw = mne.io.RawArray(data_uv * 1e-6, mne.create_info(["Fp1", "Fp2", "Cz", "Oz"], rate, "eeg"), verbose="error")
    epochs = mne.make_fixed_length_epochs(raw, duration=10.0, preload=False, verbose="error")
    fe = FeatureExtractor(sfreq=None, feature_set="basic")
    from_epochs = fe.fit_transform(epochs)
    windows = data_uv.reshape(4, 6, 2000).transpose(1, 0, 2).astype(np.float32)
    expected = FeatureExtractor(sfreq=rate, feature_set="basic").fit_transform(windows)
    assert fe.sfreq_ == rate
    np.testing.assert_allclose(from_epochs, expected, rtol=1e-4, atol=1e-4)


def test_sfreq_comes_from_info_a_10hz_sine_is_alpha():
    X_uv = _sine_windows(10.0, 128.0)  # 10 Hz sampled at 128 Hz
    epochs = _epochs(X_uv, 128.0, ["Fp1", "Cz"])
    fe = FeatureExtractor(sfreq=None, feature_set="basic").set_output(transform="pandas")
    powers = fe.fit_transform(epochs).filter(like="Fp1__pow_")
    assert fe.sfreq_ == 128.0
    assert powers.iloc[0].idxmax() == "Fp1__pow_alpha"
    np.testing.assert_allclose(powers["Fp1__pow_alpha"], 50.0**2 / 2, rtol=0.05)  # µV²
    # the same samples read as 256 Hz (the old silent assumption) put the sine at 20 Hz: beta
    wrong = FeatureExtractor(sfreq=256.0, feature_set="basic").set_output(transform="pandas")
    assert wrong.fit_transform(X_uv.astype(np.float32)).filter(like="ch0__pow_").iloc[0].idxmax() == "ch0__pow_beta"


@pytest.mark.parametrize(
    "estimator", [FeatureExtractor(feature_set="basic"), BandPowers(), BandpassFilter(), Resampler(new_sfreq=64.0)]
)
def test_a_set_sfreq_that_differs_from_info_is_refused(estimator):
    epochs = _epochs(_sine_windows(10.0, 128.0), 128.0)
    with pytest.raises(ValueError, match=r"sfreq=256 Hz but the Epochs were sampled at info\['sfreq'\]=128 Hz"):
        estimator.fit(epochs)
    with pytest.raises(ValueError, match="sfreq=None takes the sampling rate from mne.Epochs"):
        estimator.set_params(sfreq=None).fit(_sine_windows(10.0, 128.0))


def test_fitted_rate_and_channels_are_checked_in_transform():
    fe = FeatureExtractor(sfreq=None, feature_set="basic").fit(_epochs(_sine_windows(10.0, 128.0), 128.0, ["A", "B"]))
    with pytest.raises(ValueError, match=r"fitted at sfreq_=128 Hz.*info\['sfreq'\]=256 Hz"):
        fe.transform(_epochs(_sine_windows(10.0, 256.0), 256.0, ["A", "B"]))
    with pytest.raises(ValueError, match="fitted on channels"):
        fe.transform(_epochs(_sine_windows(10.0, 128.0), 128.0, ["B", "A"]))
    assert fe.transform(_epochs(_sine_windows(10.0, 128.0), 128.0, ["a", "b"])).shape == (3, 2 * 7 + 14)


def test_channel_names_of_the_epochs_name_the_features():
    names = ["Fp1-F7", "F7-T7", "Cz-Pz"]
    epochs = _epochs(_sine_windows(10.0, SFREQ, n_channels=3), SFREQ, names)
    out = FeatureExtractor(feature_set="basic").fit(epochs).get_feature_names_out()
    assert "Fp1-F7__pow_alpha" in out and "Cz-Pz__variance" in out and not any(n.startswith("ch0") for n in out)
    # an explicit ch_names must name the same channels (case and spaces aside)
    same = FeatureExtractor(feature_set="basic", ch_names=["FP1-F7", "F7 - T7", "CZ-PZ"]).fit(epochs)
    assert same.get_feature_names_out()[0] == "FP1-F7__pow_delta"
    with pytest.raises(ValueError, match="differ from the Epochs' channels"):
        FeatureExtractor(ch_names=["a", "b", "c"]).fit(epochs)
    # stateless preprocessing passes the Epochs' names through
    assert list(BandpassFilter().fit(epochs).get_feature_names_out()) == names
    assert list(BandpassFilter().fit(np.zeros((1, 3, 512))).get_feature_names_out()) == ["ch0", "ch1", "ch2"]


def test_preprocessing_takes_epochs_in_microvolts():
    X_uv = np.random.default_rng(3).normal(0, 20, (4, 3, 1280))
    X_uv[2, 1, 600] = 900.0  # a 900 µV spike: over the 500 µV threshold only if units are µV
    epochs = _epochs(X_uv, 128.0)
    assert ArtifactRejector().flag(epochs).tolist() == [False, False, True, False]
    filtered = BandpassFilter(sfreq=None).fit_transform(epochs)
    expected = BandpassFilter(sfreq=128.0).fit_transform(X_uv.astype(np.float32))
    assert isinstance(filtered, np.ndarray) and filtered.dtype == np.float32
    np.testing.assert_allclose(filtered, expected, rtol=1e-4, atol=1e-3)
    assert Resampler(sfreq=None, new_sfreq=64.0).transform(epochs).shape == (4, 3, 640)
    np.testing.assert_allclose(Rereference().transform(epochs).mean(axis=1), 0.0, atol=1e-3)
    # in a Pipeline the first step converts; later steps get the µV array (give them the rate)
    pipe = make_pipeline(BandpassFilter(sfreq=None), FeatureExtractor(sfreq=128.0, feature_set="basic"))
    np.testing.assert_allclose(
        pipe.fit_transform(epochs), FeatureExtractor(sfreq=128.0, feature_set="basic").fit_transform(expected),
        rtol=1e-3, atol=1e-3,
    )  # fmt: skip


def test_plain_arrays_need_no_mne(tmp_path):
    """The array and file paths import no MNE module (checked in a fresh interpreter) and are unchanged."""
    write_edf(tmp_path / "small.edf", np.zeros((18, 512)), 256.0, CANONICAL_CHANNELS)
    code = textwrap.dedent(
        f"""
        import json, sys
        import numpy as np
        import sklearn_eeg.data, sklearn_eeg.features.extractor, sklearn_eeg.signal.preprocessing
        from sklearn_eeg.data import read_edf
        from sklearn_eeg.features.extractor import FeatureExtractor
        from sklearn_eeg.signal.preprocessing import ArtifactRejector, BandpassFilter
        loaded = lambda: sorted(m for m in sys.modules if m == "mne" or m.startswith("mne."))
        before = loaded()
        X = np.random.default_rng(0).standard_normal((2, 18, 2560)).astype("float32")
        F = FeatureExtractor(feature_set="basic").fit_transform(BandpassFilter().fit_transform(X))
        ArtifactRejector().flag(X.tolist())
        rec = read_edf({str(tmp_path / "small.edf")!r})
        print(json.dumps({{"before": before, "after": loaded(), "shape": list(F.shape), "rec": list(rec.data.shape)}}))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["after"] == out["before"], "the array path imported MNE modules"
    assert out["shape"] == [2, 140] and out["rec"] == [18, 512]


def test_cnn_takes_epochs_as_microvolt_windows():
    """SpectrogramCNNClassifier on EpochsArray (volts) fits and predicts exactly as on the same µV array."""
    from sklearn_eeg.models.estimators import SpectrogramCNNClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(0, 20, (32, 2, 512)).astype(np.float32)
    y = np.tile([0, 1], 16)
    X[y == 1] += 30 * np.sin(2 * np.pi * 10 * np.arange(512) / 256).astype(np.float32)
    info = mne.create_info(["FP1-F7", "F7-T7"], 256.0, ch_types="eeg")
    epochs = mne.EpochsArray(X.astype(np.float64) * 1e-6, info, verbose="error")
    params = {"module__n_filters": (4, 8), "module__embedding_dim": 16, "batch_size": 16, "lr": 1e-2,
              "max_epochs": 2, "train_split": None, "random_state": 0}
    on_array = SpectrogramCNNClassifier(**params).fit(X, y)
    on_epochs = SpectrogramCNNClassifier(**params).fit(epochs, y)
    np.testing.assert_allclose(on_epochs.predict_proba(epochs), on_array.predict_proba(X), rtol=1e-5, atol=1e-6)
    assert on_epochs.n_channels_ == 2 and on_epochs.n_times_ == 512


def test_fusion_takes_epochs_as_the_signal_of_its_mapping():
    """FusionClassifier on {"signal": Epochs in volts, "features": F} = on the same µV array; rate kept.

    A plain dict: skorch's SliceDict needs arrays (it reads ``.shape``)."""
    from skorch.helper import SliceDict

    from sklearn_eeg.models.estimators import FusionClassifier

    rng = np.random.default_rng(1)
    X = rng.normal(0, 20, (32, 2, 512)).astype(np.float32)
    y = np.tile([0, 1], 16)
    F = rng.normal(size=(32, 3)).astype(np.float32) + y[:, None]
    epochs = _epochs(X, SFREQ)
    params = {"module__n_filters": (4, 8), "batch_size": 16, "lr": 1e-2, "max_epochs": 2, "train_split": None,
              "random_state": 0}
    on_array = FusionClassifier(**params).fit(SliceDict(signal=X, features=F), y)
    on_epochs = FusionClassifier(**params).fit({"signal": epochs, "features": F}, y)
    np.testing.assert_allclose(on_epochs.predict_proba({"signal": epochs, "features": F}),
                               on_array.predict_proba(SliceDict(signal=X, features=F)), rtol=1e-5, atol=1e-6)
    assert (on_epochs.n_channels_, on_epochs.n_times_, on_epochs.n_features_) == (2, 512, 3)
    assert on_epochs.sfreq_ == SFREQ and on_array.sfreq_ is None


def test_a_cnn_fitted_on_epochs_refuses_epochs_at_another_rate():
    from sklearn_eeg.models.estimators import SpectrogramCNNClassifier

    X = np.random.default_rng(2).normal(0, 20, (8, 2, 512)).astype(np.float32)
    clf = SpectrogramCNNClassifier(module__n_filters=(4, 8), max_epochs=1, train_split=None, random_state=0)
    clf.fit(_epochs(X, SFREQ), np.tile([0, 1], 4))
    with pytest.raises(ValueError, match="at 128 Hz but the model was fitted on Epochs at 256 Hz"):
        clf.predict_proba(_epochs(X, 128.0))
    assert clf.predict_proba(X).shape == (8, 2)  # arrays carry no rate: the caller's responsibility


def test_segment_windows_takes_a_raw_in_microvolts_at_its_own_rate():
    from sklearn_eeg.signal.windows import segment_windows

    data_uv = np.random.default_rng(3).normal(0, 30, (2, 1000))
    info = mne.create_info(["FP1-F7", "F7-T7", "STI"], 100.0, ch_types=["eeg", "eeg", "stim"])
    raw = mne.io.RawArray(np.vstack([data_uv * 1e-6, np.zeros((1, 1000))]), info, verbose="error")
    windows = segment_windows(raw, None, window=4.0, stride=2.0)
    expected = segment_windows(data_uv.astype(np.float32), 100.0, window=4.0, stride=2.0)
    assert windows.shape == (4, 2, 400)  # the stimulus channel is not EEG
    np.testing.assert_allclose(windows, expected, rtol=1e-6)
    np.testing.assert_array_equal(segment_windows(raw, 100.0, 4.0, 2.0), windows)
    with pytest.raises(ValueError, match=r"sfreq=256.0 Hz differs from the Raw's info\['sfreq'\] = 100.0 Hz"):
        segment_windows(raw, 256.0, 4.0, 2.0)
    with pytest.raises(ValueError, match="sfreq is required for an array"):
        segment_windows(data_uv, None, 4.0, 2.0)


def test_raw_to_array_units_rate_names_and_no_eeg_refused():
    info = mne.create_info(["FP1-F7", "ECG"], 200.0, ch_types=["eeg", "ecg"])
    raw = mne.io.RawArray(np.full((2, 50), 7e-6), info, verbose="error")
    data, sfreq, names = raw_to_array(raw)
    assert data.dtype == np.float32 and data.shape == (1, 50) and np.allclose(data, 7.0)
    assert sfreq == 200.0 and names == ["FP1-F7"]
    only_ecg = mne.io.RawArray(np.zeros((1, 50)), mne.create_info(["ECG"], 200.0, ch_types="ecg"), verbose="error")
    with pytest.raises(ValueError, match="the Raw has no EEG channel"):
        raw_to_array(only_ecg)
    with pytest.raises(TypeError, match="raw must be an mne.io.BaseRaw"):
        raw_to_array(data)


def test_a_raw_at_the_stream_rate_replays_block_by_block_as_read_edf_reads_the_file(synthetic_edf):
    """``recording_chunks(raw)`` reads one chunk at a time (an unloaded Raw stays on disk) and gives
    exactly what ``read_edf(raw)`` converts whole (and the file's data to float32 rounding: MNE scales in
    float64), dummy and duplicate channels included."""
    from sklearn_eeg.online import recording_chunks

    raw = mne.io.read_raw_edf(synthetic_edf[256], preload=False, verbose="error")
    chunks = list(recording_chunks(raw, chunk=37 / 256))  # 37-sample chunks
    assert not raw.preload and {c.shape[1] for c in chunks[:-1]} == {37}
    streamed = np.concatenate(chunks, axis=1)
    np.testing.assert_array_equal(streamed, read_edf(raw).data)
    np.testing.assert_allclose(streamed, read_edf(synthetic_edf[256]).data, rtol=1e-6, atol=1e-4)
    raw128 = mne.io.read_raw_edf(synthetic_edf[128], preload=False, verbose="error")  # another rate: whole, resampled
    np.testing.assert_array_equal(np.concatenate(list(recording_chunks(raw128)), axis=1), read_edf(raw128).data)


def test_raw_blocks_follow_the_missing_channel_rules():
    from sklearn_eeg.data.mne_input import raw_blocks

    raw = mne.io.RawArray(np.full((1, 30), 2e-6), mne.create_info(["FP1-F7"], 10.0, ch_types="eeg"), verbose="error")
    (block,) = raw_blocks(raw, 100, ["FP1-F7", "F7-T7"], missing="zero")
    np.testing.assert_array_equal(block, np.vstack([np.full(30, 2.0, np.float32), np.zeros(30, np.float32)]))
    with pytest.raises(MissingChannelsError):
        next(raw_blocks(raw, 10, ["FP1-F7", "F7-T7"]))
    with pytest.raises(ValueError, match="size must be at least one sample"):
        next(raw_blocks(raw, 0))
