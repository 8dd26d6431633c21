"""EDF reading: real CHB-MIT crops, TUH files of another montage, and files made with edfio."""

from __future__ import annotations

import logging
import shutil

import edfio
import mne
import numpy as np
import pytest

from sklearn_eeg.data.edf import (
    CANONICAL_CHANNELS,
    CorruptEDFError,
    EEGDataError,
    EEGRecording,
    MissingChannelsError,
    normalize_channel_name,
    read_edf,
    read_edf_header,
)
from sklearn_eeg.data.recording import flat_channels

EXTRA = ["P7-T7", "T7-FT9", "FT9-FT10", "FT10-T8", "T8-P8"]


def _write(path, signals, *, sfreq=256.0, units="uV", limit=1000.0, seconds=4):
    """Write ``{label: array or None}`` with edfio (None -> a seeded random signal)."""
    rng = np.random.default_rng(0)
    edf_signals = []
    for label, values in signals:
        rate = sfreq[label] if isinstance(sfreq, dict) else sfreq
        if values is None:
            values = rng.normal(0, 50, int(seconds * rate))
        edf_signals.append(
            edfio.EdfSignal(
                np.asarray(values, dtype=float),
                rate,
                label=label,
                physical_dimension=units,
                physical_range=(-limit, limit),
                digital_range=(-32768, 32767),
            )
        )
    edfio.Edf(edf_signals).write(path)
    return path


@pytest.fixture
def chb_crop(shared_fixtures):
    return shared_fixtures / "chbmit" / "edf" / "chb01_03_Seizure.edf"


def test_canonical_channels_order():
    assert len(CANONICAL_CHANNELS) == 18
    assert CANONICAL_CHANNELS[:4] == ("FP1-F7", "F7-T7", "T7-P7", "P7-O1")
    assert CANONICAL_CHANNELS[-2:] == ("FZ-CZ", "CZ-PZ")
    assert len(set(CANONICAL_CHANNELS)) == 18


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Fp1-F7", "FP1-F7"), ("FP1 - F7", "FP1-F7"), (" t8-p8 ", "T8-P8"), ("EEG FP1-REF", "FP1-REF"), ("-", "-")],
)
def test_normalize_channel_name(raw, expected):
    assert normalize_channel_name(raw) == expected


def test_header_of_real_crop(chb_crop):
    head = read_edf_header(chb_crop)
    assert head["n_times"] == 41 * 256
    assert head["sfreq"] == 256.0
    assert head["duration"] == 41.0
    assert len(head["ch_names"]) == 23
    assert head["ch_names"].count("T8-P8") == 2


def test_real_crop_matches_npy_excerpt(chb_crop, shared_fixtures):
    rec = read_edf(chb_crop)
    assert isinstance(rec, EEGRecording)
    assert rec.data.dtype == np.float32
    assert rec.data.shape == (18, 41 * 256)
    assert rec.ch_names == CANONICAL_CHANNELS
    assert rec.mask.all() and rec.flat_channels == ()
    assert sorted(rec.dropped) == sorted(EXTRA)  # the second T8-P8 and the 4 extra derivations
    excerpt = np.load(shared_fixtures / "chbmit" / "edf" / "chb01_03_ictal.npy")
    assert excerpt.shape == (23, 2561)
    # canonical channels are the first 18 signals of chb01 files; µV to float32 precision
    np.testing.assert_allclose(rec.data[:, 2816:5377], excerpt[:18], atol=1e-3, rtol=0)
    assert np.abs(rec.data).max() > 50  # really µV, not volts


def test_real_crops_agree_with_mne(shared_fixtures):
    for name in ("chb01_03_Seizure.edf", "chb01_03_NonSeizure.edf"):
        path = shared_fixtures / "chbmit" / "edf" / name
        rec = read_edf(path, channels=None)
        assert len(rec.ch_names) == 22  # duplicate T8-P8 kept once
        raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
        picks = [raw.ch_names.index("T8-P8-0" if c == "T8-P8" else c) for c in rec.ch_names]
        np.testing.assert_allclose(rec.data, raw.get_data(picks=picks) * 1e6, atol=1e-3, rtol=0)


def test_duplicate_takes_first_and_names_are_normalised(tmp_path):
    t = np.arange(4 * 256) / 256
    first, second = 100 * np.sin(2 * np.pi * 3 * t), 100 * np.sin(2 * np.pi * 7 * t)
    labels = [c.title() if i % 2 else c.replace("-", " - ") for i, c in enumerate(CANONICAL_CHANNELS)]
    signals = [(lab, None) for lab in labels if normalize_channel_name(lab) != "T8-P8"]
    signals = [("-", None), ("T8-P8", first)] + signals[::-1] + [("T8-P8", second), (".", None)]
    path = _write(tmp_path / "dup.edf", signals)
    rec = read_edf(path)
    assert rec.ch_names == CANONICAL_CHANNELS
    np.testing.assert_allclose(rec.data[CANONICAL_CHANNELS.index("T8-P8")], first, atol=0.05)
    assert sorted(rec.dropped) == ["-", ".", "T8-P8"]
    # every other channel lands in its canonical row
    ref = read_edf(path, channels=None)
    for i, name in enumerate(CANONICAL_CHANNELS):
        j = [normalize_channel_name(c) for c in ref.ch_names].index(name)
        np.testing.assert_array_equal(rec.data[i], ref.data[j])


def test_tuh_other_montage_missing_channels(shared_fixtures, caplog):
    path = shared_fixtures / "tuh" / "00009578_s002_t001.edf"
    with pytest.raises(MissingChannelsError, match="00009578_s002_t001.edf"):
        read_edf(path)
    assert issubclass(MissingChannelsError, EEGDataError)
    with caplog.at_level(logging.INFO, logger="sklearn_eeg.data"):
        rec = read_edf(path, missing="zero")
    assert rec.data.shape == (18, 17 * 256)  # 17 s at 250 Hz, resampled to 256 Hz
    assert not rec.mask.any() and not rec.data.any()
    assert "zero-filling" in caplog.text


def test_tuh_mixed_rates_resampled(shared_fixtures):
    path = shared_fixtures / "tuh" / "00009578_s002_t001.edf"
    head = read_edf_header(path)
    assert head["sfreq"] == 250.0 and head["n_times"] == 17 * 250
    assert sorted(set(head["signal_sfreqs"])) == [1.0, 250.0]
    rec = read_edf(path, ["EEG FP1-REF", "eeg cz-ref"], sfreq=250.0)
    assert read_edf(path, "EEG FP1-REF", sfreq=250.0).ch_names == ("EEG FP1-REF",)
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    np.testing.assert_allclose(rec.data, raw.get_data(picks=["EEG FP1-REF", "EEG CZ-REF"]) * 1e6, atol=1e-2)
    up = read_edf(path, ["EEG FP1-REF"], sfreq=500.0)
    assert up.data.shape == (1, 17 * 500)
    np.testing.assert_allclose(up.data[0, ::2], rec.data[0], atol=0.5 * np.abs(rec.data[0]).max())


def test_resample_keeps_a_sine(tmp_path, caplog):
    rate = 512.0
    t = np.arange(4 * int(rate)) / rate
    sine = 200 * np.sin(2 * np.pi * 10 * t)
    path = _write(tmp_path / "r.edf", [(c, sine) for c in CANONICAL_CHANNELS], sfreq=rate)
    with caplog.at_level(logging.INFO, logger="sklearn_eeg.data"):
        rec = read_edf(path)
    assert "resampling" in caplog.text
    assert rec.data.shape == (18, 4 * 256) and rec.sfreq == 256.0
    expected = 200 * np.sin(2 * np.pi * 10 * np.arange(4 * 256) / 256)
    np.testing.assert_allclose(rec.data[:, 50:-50], np.broadcast_to(expected, (18, 1024))[:, 50:-50], atol=2.0)


def test_millivolt_units_converted(tmp_path):
    values = np.full(4 * 256, 0.5)
    values[::2] = -0.25
    path = _write(tmp_path / "mv.edf", [(c, values) for c in CANONICAL_CHANNELS], units="mV", limit=1.0)
    rec = read_edf(path)
    np.testing.assert_allclose(rec.data[:, :2], [[-250.0, 500.0]] * 18, atol=0.1)


def test_flat_channel_flagged(tmp_path, caplog):
    signals = [(c, np.full(4 * 256, 12.0) if c == "F7-T7" else None) for c in CANONICAL_CHANNELS]
    path = _write(tmp_path / "flat.edf", signals)
    with caplog.at_level(logging.WARNING, logger="sklearn_eeg.data"):
        rec = read_edf(path)
    assert rec.flat_channels == ("F7-T7",)
    assert "flat" in caplog.text


def test_nan_channel_flagged():
    data = np.ones((3, 10), dtype=np.float32)
    data[0] = np.nan
    data[1, 3] = 2.0
    mask = np.array([True, True, False])
    assert flat_channels(data, mask, ["A", "B", "C"]) == ("A",)  # C is zero-filled: not reported


def test_truncated_and_corrupt_files(chb_crop, tmp_path):
    data = chb_crop.read_bytes()
    truncated = tmp_path / "truncated.edf"
    truncated.write_bytes(data[: len(data) - 5000])
    with pytest.raises(CorruptEDFError, match="truncated.edf.*truncated"):
        read_edf(truncated)
    with pytest.raises(CorruptEDFError, match="truncated"):
        read_edf_header(truncated)
    short_header = tmp_path / "short.edf"
    short_header.write_bytes(data[:1000])
    with pytest.raises(CorruptEDFError, match="short.edf"):
        read_edf(short_header)
    garbage = tmp_path / "garbage.edf"
    garbage.write_bytes(b"hello world" * 40)
    with pytest.raises(EEGDataError, match="garbage.edf"):
        read_edf(garbage)
    bad_number = tmp_path / "bad_number.edf"
    bad_number.write_bytes(data[:236] + b"xx      " + data[244:])
    with pytest.raises(CorruptEDFError, match="bad_number.edf.*number of records"):
        read_edf_header(bad_number)
    with pytest.raises(EEGDataError, match="missing.edf"):
        read_edf(tmp_path / "missing.edf")


def test_unknown_record_count_is_inferred(chb_crop, tmp_path):
    path = tmp_path / "minus_one.edf"
    shutil.copy(chb_crop, path)
    data = bytearray(path.read_bytes())
    data[236:244] = b"-1      "
    path.write_bytes(bytes(data))
    assert read_edf_header(path)["n_times"] == 41 * 256
    np.testing.assert_array_equal(read_edf(path).data, read_edf(chb_crop).data)


def test_bad_arguments(chb_crop):
    with pytest.raises(ValueError, match="missing"):
        read_edf(chb_crop, missing="drop")
    with pytest.raises(ValueError, match="sfreq"):
        read_edf(chb_crop, sfreq=0)


# ------------------------------------------------------------------ headers that disagree with the data

_FIELD_WIDTHS = {"physical_min": 8, "physical_max": 8, "digital_min": 8, "digital_max": 8, "n_samples": 8}
_FIELD_BEFORE = {"physical_min": 104, "physical_max": 112, "digital_min": 120, "digital_max": 128, "n_samples": 216}


def _patch(data: bytes, field: str, value: str, channels) -> bytes:
    """``data`` with a per-signal header field of ``channels`` set to ``value`` (space padded)."""
    out = bytearray(data)
    n_signals = int(out[252:256].decode().strip())
    for i in channels:
        at = 256 + n_signals * _FIELD_BEFORE[field] + i * _FIELD_WIDTHS[field]
        out[at : at + 8] = value.ljust(8).encode()
    return bytes(out)


@pytest.fixture(scope="module")
def synthetic_edf(tmp_path_factory):
    from sklearn_eeg.data import make_chbmit_like

    root = make_chbmit_like(tmp_path_factory.mktemp("edf"), n_subjects=1, hours=0.5, file_hours=0.5, seizures=0,
                            seed=1, progress=False)
    return next(root.glob("chb01/*.edf"))


@pytest.mark.parametrize(
    "corrupt, field",
    [
        (lambda d: _patch(d, "n_samples", "255", [0]), "samples"),  # one channel's samples per record
        (lambda d: _patch(d, "n_samples", "128", range(int(d[252:256].decode()))), "samples"),  # all halved
        (lambda d: d[:236] + str(int(d[236:244].decode()) - 1).ljust(8).encode() + d[244:], "number of records"),
        (lambda d: _patch(_patch(d, "digital_min", "32767", [2]), "digital_max", "-32768", [2]), "digital max"),
        (lambda d: _patch(d, "physical_min", "nan", [1]), "physical range"),
        (lambda d: _patch(d, "physical_max", "1e38", [1]), "physical range"),
        (lambda d: d[:244] + b"inf     " + d[252:], "record duration"),
        (lambda d: d[:236] + b"inf     " + d[244:], "number of records"),  # used to be an OverflowError
        (lambda d: d[:236] + b"nan     " + d[244:], "number of records"),
        (lambda d: d[:236] + b"12.5    " + d[244:], "number of records"),
        (lambda d: _patch(d, "n_samples", "inf", [0]), "samples"),
        (lambda d: d[:184] + b"1e999   " + d[192:], "header bytes"),
    ],
    ids=["one-channel-samples", "all-samples-halved", "fewer-records", "digital-inverted", "physical-nan",
         "physical-huge", "duration-inf", "records-inf", "records-nan", "records-fraction", "samples-inf",
         "header-bytes-overflow"],
)
def test_a_header_that_disagrees_with_the_data_is_refused(synthetic_edf, tmp_path, corrupt, field):
    """Each of these used to read as garbage without an error; now one line names the file and the field,
    the reader, the header reader and verify_dataset all refuse it, and the original still reads."""
    from sklearn_eeg.data import verify_dataset

    bad = tmp_path / "chb01" / synthetic_edf.name  # the name its summary gives
    bad.parent.mkdir()
    bad.write_bytes(corrupt(synthetic_edf.read_bytes()))
    for read in (read_edf_header, read_edf):
        with pytest.raises(CorruptEDFError, match=rf"{bad.name}.*{field}") as info:
            read(bad)
        assert "\n" not in str(info.value)
    shutil.copy(synthetic_edf.with_name("chb01-summary.txt"), tmp_path / "chb01")
    problems = verify_dataset(tmp_path).problems
    assert any(bad.name in p and field in p for p in problems), problems
    assert read_edf(synthetic_edf).data.shape[0] == 18


def test_the_generators_writer_equals_edfio_on_the_data_and_writes_the_chbmit_header(tmp_path, chb_crop):
    """``write_edf`` is kept beside edfio for what edfio's public API cannot write: the plain-EDF
    identification fields of CHB-MIT files (edfio writes EDF+ ``Startdate ...`` subfields). Its data
    records equal edfio's byte for byte (float64 input, clipped to the physical range)."""
    from sklearn_eeg.data.edf_writer import write_edf

    rng = np.random.default_rng(7)
    data = np.clip(rng.normal(0, 300, (3, 4 * 256)), -800, 800)
    labels = ["FP1-F7", "T8-P8", "T8-P8"]  # duplicate labels, as in CHB-MIT
    ours = write_edf(tmp_path / "ours.edf", data, 256.0, labels, recording_id="01")
    theirs = tmp_path / "edfio.edf"
    edfio.Edf([edfio.EdfSignal(row, 256, label=label, physical_dimension="uV", physical_range=(-800, 800),
                               digital_range=(-2048, 2047)) for row, label in zip(data, labels)]).write(theirs)
    header = 256 * (len(labels) + 1)
    assert ours.read_bytes()[header:] == theirs.read_bytes()[header:]
    real, written = chb_crop.read_bytes()[:256], ours.read_bytes()[:256]
    assert written[8:168] == real[8:168]  # "Surrogate Name", then the plain recording field "01"
    assert theirs.read_bytes()[88:98] == b"Startdate "  # edfio: EDF+ subfields
    np.testing.assert_array_equal(read_edf(ours, channels=["FP1-F7", "T8-P8"]).data,
                                  read_edf(theirs, channels=["FP1-F7", "T8-P8"]).data)
