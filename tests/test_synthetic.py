"""The synthetic CHB-MIT-like generator and the EDF writer: format, round trip, determinism, effect size."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path

import mne
import numpy as np
import pytest
from scipy.signal import welch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_eeg.data import CANONICAL_CHANNELS, load_index, parse_summary, read_edf, read_edf_header
from sklearn_eeg.data import synthetic
from sklearn_eeg.data.edf_writer import write_edf
from sklearn_eeg.data.synthetic import (
    CHBMIT_CHANNELS,
    PRESETS,
    describe_dataset,
    embedded_dataset,
    make_chbmit_like,
)

REPO = Path(__file__).resolve().parents[1]
CANONICAL = CHBMIT_CHANNELS[:18]
SMALL = dict(n_subjects=2, hours=1.5, seizures=1, seed=3, progress=False)
BANDS = [(0.5, 4), (4, 8), (8, 13), (13, 30), (30, 45)]


@pytest.fixture(scope="module")
def strong_root(tmp_path_factory) -> Path:
    return make_chbmit_like(tmp_path_factory.mktemp("strong"), preictal_effect=2.0, **SMALL)


@pytest.fixture(scope="module")
def null_root(tmp_path_factory) -> Path:
    return make_chbmit_like(tmp_path_factory.mktemp("null"), preictal_effect=0.0, **SMALL)


def _manifest(root: Path) -> dict:
    return json.loads((root / "SYNTHETIC.json").read_text())


def _edf_labels(path: Path) -> list[str]:
    with open(path, "rb") as fh:
        n_signals = int(fh.read(256)[252:256])
        labels = fh.read(16 * n_signals)
    return [labels[16 * i : 16 * (i + 1)].decode().strip() for i in range(n_signals)]


def test_channel_names_match_the_reader():
    assert CANONICAL == tuple(CANONICAL_CHANNELS)
    assert CHBMIT_CHANNELS[18:] == ("P7-T7", "T7-FT9", "FT9-FT10", "FT10-T8", "T8-P8")


# ------------------------------------------------------------------------------------------- EDF writer


def test_write_edf_round_trip_through_mne(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.normal(0, 50, size=(3, 512))
    data[0, :10] = 5000.0  # clipped to the physical maximum
    start = dt.datetime(2001, 1, 2, 23, 59, 58)
    path = write_edf(tmp_path / "x.edf", data, 256, ["FP1-F7", "-", "FP1-F7"], start=start)
    assert path.stat().st_size == 256 * 4 + 3 * 512 * 2
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    assert raw.info["sfreq"] == 256 and raw.n_times == 512
    assert raw.info["meas_date"].replace(tzinfo=None) == start
    got = raw.get_data() * 1e6
    step = 1600 / 4095
    expected = np.clip(data, -800, 800)
    assert np.max(np.abs(got - expected)) <= step / 2 + 1e-6
    assert np.allclose(got[0, :10], 800.0)
    header = read_edf_header(path)
    assert header["ch_names"] == ["FP1-F7", "-", "FP1-F7"] and header["n_records"] == 2


def test_write_edf_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="x.edf.*whole number"):
        write_edf(tmp_path / "x.edf", np.zeros((2, 300)), 256, ["A", "B"])
    with pytest.raises(ValueError, match="ch_names"):
        write_edf(tmp_path / "x.edf", np.zeros((2, 256)), 256, ["A"])
    with pytest.raises(ValueError, match="2-D"):
        write_edf(tmp_path / "x.edf", np.zeros(256), 256, ["A"])
    with pytest.raises(ValueError, match="label"):
        write_edf(tmp_path / "x.edf", np.zeros((1, 256)), 256, ["A" * 17])


# ------------------------------------------------------------------------------------------------ files


def test_layout_records_and_manifest(strong_root):
    records = (strong_root / "RECORDS").read_text()
    lines = records.splitlines()
    assert records.endswith(".edf\n")
    assert lines == sorted(str(p.relative_to(strong_root)) for p in strong_root.glob("chb*/chb*_*.edf"))
    with_seizures = (strong_root / "RECORDS-WITH-SEIZURES").read_text()
    assert with_seizures.endswith(".edf\n\n")  # a trailing blank line, as in CHB-MIT
    truth = _manifest(strong_root)["subjects"]
    assert with_seizures.split() == [
        f"{s['name']}/{r['stem']}.edf" for s in truth for r in s["recordings"] if r["seizures"]
    ]
    assert [s["name"] for s in truth] == ["chb01", "chb02"]
    assert len({s["preictal_kind"] for s in truth}) == 2  # subjects differ in their preictal change
    assert "chb01: 1.5 h in 2 files, 1 seizures" in describe_dataset(strong_root)
    assert _manifest(strong_root)["params"]["common_effect"] == 1.0
    assert "preictal_effect=2.0, common_effect=1.0, seed=3" in describe_dataset(strong_root)
    assert "2 seizures, 0 look-alike episodes, preictal_effect" in describe_dataset(strong_root)
    params = _manifest(strong_root)["params"]
    assert params["boundary_seizure"] is False and params["lookalike_rate"] == 0.0
    assert all(s["lookalike_onsets"] == [] for s in truth)


def test_edf_files_readable_by_mne(strong_root):
    truth = _manifest(strong_root)["subjects"]
    for subject in truth:
        for rec in subject["recordings"]:
            path = strong_root / subject["name"] / f"{rec['stem']}.edf"
            assert _edf_labels(path) == rec["channels"]
            raw = mne.io.read_raw_edf(path, preload=False, verbose="error")
            assert raw.info["sfreq"] == 256
            assert raw.n_times == rec["duration"] * 256
            assert set(CANONICAL) <= {"T8-P8" if name == "T8-P8-0" else name for name in raw.ch_names}
    # every CHB-MIT signal name, the duplicate T8-P8 last; quirky subjects add "-" or VNS signals
    assert truth[0]["quirk"] == "dummy" and truth[0]["recordings"][0]["channels"].count("-") == 5
    assert truth[1]["quirk"] == "changed"
    assert truth[1]["recordings"][0]["channels"] == list(CHBMIT_CHANNELS)
    assert truth[1]["recordings"][1]["channels"] == list(CHBMIT_CHANNELS) + ["VNS"]


def test_quirks_cycle_and_reader_reorders_channels(tmp_path):
    root = make_chbmit_like(tmp_path, n_subjects=4, hours=0.1, file_hours=0.05, seizures=0, progress=False)
    quirks = [s["quirk"] for s in _manifest(root)["subjects"]]
    assert quirks == ["dummy", "changed", "order", "none"]
    path = root / "chb03" / "chb03_01.edf"
    assert _edf_labels(path)[:3] == ["FZ-CZ", "CZ-PZ", "FP2-F4"]
    rec = read_edf(path)
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    picks = ["T8-P8-0" if name == "T8-P8" else name for name in CANONICAL]
    assert rec.ch_names == CANONICAL
    assert np.allclose(rec.data, raw.get_data(picks=picks) * 1e6, atol=1e-3)
    plain = make_chbmit_like(tmp_path / "plain", n_subjects=2, hours=0.05, seizures=0, quirks=False, progress=False)
    assert all(_edf_labels(p) == list(CHBMIT_CHANNELS) for p in plain.glob("chb*/*.edf"))


def test_montage_is_bipolar_and_amplitudes_realistic(strong_root):
    rec = read_edf(strong_root / "chb02" / "chb02_01.edf", channels=None)
    data = dict(zip(rec.ch_names, rec.data))
    raw = mne.io.read_raw_edf(strong_root / "chb02" / "chb02_01.edf", preload=True, verbose="error")
    duplicate = raw.get_data(picks=["T8-P8-0", "T8-P8-1"])
    assert np.array_equal(duplicate[0], duplicate[1])  # the duplicate T8-P8 is the same derivation
    step = 1600 / 4095
    assert np.max(np.abs(data["P7-T7"] + data["T7-P7"])) <= step * 1.01
    seconds = slice(0, 600 * 256)
    rms = {name: float(np.sqrt(np.mean(data[name][seconds] ** 2))) for name in CANONICAL}
    assert all(10 < value < 80 for value in rms.values()), rms
    # a posterior alpha peak at the subject's frequency
    alpha_hz = _manifest(strong_root)["subjects"][1]["alpha_hz"]
    freqs, power = welch(data["P3-O1"][seconds], fs=256, nperseg=1024)
    band = (freqs >= 7) & (freqs <= 14)
    assert abs(freqs[band][np.argmax(power[band])] - alpha_hz) < 0.75
    assert power[band].max() > 3 * np.median(power[(freqs >= 14) & (freqs <= 20)])


def test_seizures_are_high_amplitude_rhythmic_discharges(strong_root):
    subject = _manifest(strong_root)["subjects"][0]
    (stem, (onset, offset)), = [(r["stem"], s) for r in subject["recordings"] for s in r["seizures"]]
    assert 30 <= offset - onset <= 120
    rec = read_edf(strong_root / "chb01" / f"{stem}.edf")
    ictal = rec.data[:, (onset + 10) * 256 : (offset - 5) * 256]
    before = rec.data[:, (onset - 100) * 256 : (onset - 20) * 256]
    ratio = np.median(np.abs(ictal), axis=1) / np.median(np.abs(before), axis=1)  # robust to blinks and pops
    assert ratio.max() > 3, ratio
    freqs, power = welch(ictal[np.argmax(ratio)], fs=256, nperseg=512)
    assert 2 <= freqs[np.argmax(power)] <= 8.5


def test_artifacts_are_sparse_additions(tmp_path):
    short = dict(n_subjects=1, hours=0.25, seizures=0, quirks=False, progress=False)
    clean = read_edf(make_chbmit_like(tmp_path / "clean", artifacts=False, **short) / "chb01" / "chb01_01.edf")
    dirty = read_edf(make_chbmit_like(tmp_path / "dirty", artifacts=True, **short) / "chb01" / "chb01_01.edf")
    difference = np.abs(dirty.data - clean.data)
    frontal = [CANONICAL.index(name) for name in ("FP1-F3", "FP2-F4")]
    assert difference[frontal].max() > 50  # eye blinks
    assert (difference > 1).mean() < 0.15  # rare events on an unchanged background


def test_summary_matches_real_format_and_parser(strong_root, shared_fixtures):
    text = (strong_root / "chb01" / "chb01-summary.txt").read_text()
    real = (shared_fixtures / "chbmit" / "summaries" / "chb12-summary.txt").read_text()
    assert text.startswith("Data Sampling Rate: 256 Hz\n*************************\n\nChannels in EDF Files:\n")
    assert real.split("File Name:")[0] == text.split("File Name:")[0]  # same 28-signal layout as chb12
    assert "File End Time: 24:" in text and "File Start Time: 00:" in text  # midnight crossing
    changed = (strong_root / "chb02" / "chb02-summary.txt").read_text()
    assert "\n\nChannels changed:\n*****************\nChannel 1: FP1-F7\n" in changed
    assert "Channel 24: VNS\n\nFile Name: chb02_02.edf" in changed
    assert "Seizure 1 Start Time:" in changed and "Seizure Start Time:" in text
    truth = _manifest(strong_root)["subjects"]
    for subject in truth:
        parsed = parse_summary(strong_root / subject["name"] / f"{subject['name']}-summary.txt")
        expected = {f"{r['stem']}.edf": [tuple(map(float, s)) for s in r["seizures"]] for r in subject["recordings"]}
        assert parsed == expected


def test_load_index_recovers_planted_seizures(strong_root):
    recordings, seizures = load_index(strong_root)
    truth = _manifest(strong_root)["subjects"]
    planted = [
        (s["name"], r["stem"], on, off, r["t_file_start"] + on)
        for s in truth
        for r in s["recordings"]
        for on, off in r["seizures"]
    ]
    got = list(seizures[["subject", "recording", "onset", "offset", "t_onset"]].itertuples(index=False, name=None))
    assert got == planted
    assert np.allclose(seizures["t_offset"] - seizures["t_onset"], seizures["offset"] - seizures["onset"])
    expected_files = [(s["name"], r["stem"], r["t_file_start"], r["duration"]) for s in truth for r in s["recordings"]]
    columns = ["subject", "recording", "t_file_start", "duration"]
    got_files = list(recordings[columns].itertuples(index=False, name=None))
    assert got_files == expected_files
    assert (recordings["segment"] == 0).all()


def test_boundary_seizure_quirk_is_opt_in(tmp_path):
    root = make_chbmit_like(tmp_path, **{**SMALL, "n_subjects": 1}, boundary_seizure=True)
    assert _manifest(root)["params"]["boundary_seizure"] is True
    recordings, seizures = load_index(root)
    # chb01 has a seizure 2-5 min into its second file: its 10-min preictal period starts in the first file
    (_, first), = seizures.iterrows()
    assert first["recording"] == recordings.loc[1, "recording"] and 120 <= first["onset"] <= 300
    assert recordings.loc[0, "t_file_start"] < first["t_onset"] - 600 < recordings.loc[0, "t_file_end"]


def _onsets_near_file_starts(boundary_seizure: bool) -> tuple[float, float, bool]:
    """Planned seizures of 25 seeds x 8 subjects (3 h, 2 seizures): the share within 5 min of a file
    start, the share of subjects with such a seizure, and whether every first subject has one."""
    near = []
    for seed in range(25):
        params = dict(n_subjects=8, hours=3.0, seizures=2, seed=seed, boundary_seizure=boundary_seizure)
        near.append([[on < 300 for r in s.recordings for on, _ in r.seizures] for s in _planned_subjects(params)])
    per_subject = [any(flags) for subjects in near for flags in subjects]
    return float(np.mean(near)), float(np.mean(per_subject)), all(any(subjects[0]) for subjects in near)


def test_onsets_are_uniform_over_recorded_time_by_default():
    # uniform onsets: the first 5 min (less the 10-s margin) of the 2nd and 3rd files hold 2 x 290 s of
    # the 3 h (the first onset comes after its 12-min preictal ramp, so not in the first file's start)
    uniform = 2 * 290 / (3 * 3600)
    share, subjects, every_first = _onsets_near_file_starts(boundary_seizure=False)
    assert 0.5 * uniform < share < 1.5 * uniform and subjects < 0.2 and not every_first
    # the opt-in quirk: chb01 always, every other subject with probability 1/2
    share, subjects, every_first = _onsets_near_file_starts(boundary_seizure=True)
    assert share > 0.25 and subjects > 0.5 and every_first


# ---------------------------------------------------------------------------------------- determinism


def test_same_seed_same_bytes_different_seed_different(strong_root, tmp_path):
    # subject chb01 depends only on (seed, subject index): a 1-subject dataset reproduces it byte for byte
    again = make_chbmit_like(tmp_path / "again", **{**SMALL, "n_subjects": 1}, preictal_effect=2.0)
    for name in ("chb01_01.edf", "chb01_02.edf", "chb01-summary.txt"):
        assert (again / "chb01" / name).read_bytes() == (strong_root / "chb01" / name).read_bytes()
    short = dict(n_subjects=1, hours=0.25, seizures=0, progress=False)
    first, second = (make_chbmit_like(tmp_path / f"seed{seed}", seed=seed, **short) for seed in (3, 4))
    assert (first / "chb01" / "chb01_01.edf").read_bytes() != (second / "chb01" / "chb01_01.edf").read_bytes()


# ------------------------------------------------------------------------------------ preictal effect


def _band_power_windows(root: Path, subject: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log band powers of 10-s windows (stride 5 s): preictal (1), interictal (0), alternate 2-min blocks."""
    onsets = np.array([r["t_file_start"] + on for r in subject["recordings"] for on, _ in r["seizures"]])
    offsets = np.array([r["t_file_start"] + off for r in subject["recordings"] for _, off in r["seizures"]])
    features, labels, blocks = [], [], []
    for rec in subject["recordings"]:
        data = read_edf(root / subject["name"] / f"{rec['stem']}.edf").data
        starts = np.arange(0, rec["duration"] - 10 + 1, 5)
        ends = rec["t_file_start"] + starts + 10
        preictal = ((ends[:, None] >= onsets - 600) & (ends[:, None] <= onsets - 30)).any(axis=1)
        far = ((ends[:, None] < onsets - 1800) | (ends[:, None] - 10 > offsets + 1800)).all(axis=1)
        keep = preictal | far
        windows = np.stack([data[:, s * 256 : (s + 10) * 256] for s in starts[keep]])
        freqs, power = welch(windows, fs=256, nperseg=256)
        features.append(np.log(np.stack([power[..., (freqs >= a) & (freqs < b)].sum(-1) for a, b in BANDS], -1)))
        labels.append(preictal[keep].astype(int))
        blocks.append(ends[keep] // 120 % 2)
    features = np.concatenate(features).reshape(-1, len(CANONICAL) * len(BANDS))
    return features, np.concatenate(labels), np.concatenate(blocks)


def _separability(root: Path) -> list[tuple[float, float]]:
    """Per subject: cross-validated AUROC of a band-power logistic regression, max |Cohen's d|."""
    scores = []
    for subject in _manifest(root)["subjects"]:
        X, y, blocks = _band_power_windows(root, subject)
        assert y.sum() >= 100 and (1 - y).sum() >= 100
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
        proba = cross_val_predict(model, X, y, groups=blocks, cv=GroupKFold(2), method="predict_proba")[:, 1]
        pooled = np.sqrt((X[y == 1].var(axis=0) + X[y == 0].var(axis=0)) / 2)
        cohen = np.abs(X[y == 1].mean(axis=0) - X[y == 0].mean(axis=0)) / pooled
        scores.append((roc_auc_score(y, proba), float(cohen.max())))
    return scores


def test_strong_effect_is_separable_within_subject(strong_root):
    for auroc, cohen in _separability(strong_root):
        assert auroc >= 0.9 and cohen > 1.5


def test_null_dataset_has_no_preictal_effect(null_root):
    for auroc, cohen in _separability(null_root):
        assert abs(auroc - 0.5) < 0.25 and cohen < 0.6


def test_effect_changes_only_the_preictal_periods(strong_root, null_root):
    subject = _manifest(strong_root)["subjects"][0]
    onsets = [r["t_file_start"] + on for r in subject["recordings"] for on, _ in r["seizures"]]
    for rec in subject["recordings"]:
        strong = read_edf(strong_root / "chb01" / f"{rec['stem']}.edf").data
        null = read_edf(null_root / "chb01" / f"{rec['stem']}.edf").data
        t_abs = rec["t_file_start"] + np.arange(strong.shape[1]) / 256
        ramp = np.zeros(t_abs.size, dtype=bool)
        for onset in onsets:
            ramp |= (t_abs >= onset - 600 - 60) & (t_abs < onset)
        assert np.array_equal(strong[:, ~ramp], null[:, ~ramp])
        if ramp.any():
            late = ramp & (t_abs >= max(onsets) - 300)
            assert np.abs(strong[:, late] - null[:, late]).max() > 10


def _ramp_mask(subject: dict, rec: dict, n_times: int) -> np.ndarray:
    """Samples of ``rec`` inside a preictal ramp (``onset - 660 s`` to the onset)."""
    onsets = [r["t_file_start"] + on for r in subject["recordings"] for on, _ in r["seizures"]]
    t_abs = rec["t_file_start"] + np.arange(n_times) / 256
    return np.any([(t_abs >= onset - 600 - 60) & (t_abs < onset) for onset in onsets], axis=0)


def test_common_effect_scales_only_the_shared_change(strong_root, tmp_path):
    # chb01 depends only on (seed, subject index); common_effect=3 adds 2 x the shared 20-40 Hz change
    shared = make_chbmit_like(tmp_path, **{**SMALL, "n_subjects": 1}, preictal_effect=2.0, common_effect=3.0)
    subject = _manifest(shared)["subjects"][0]
    assert _manifest(shared)["params"]["common_effect"] == 3.0
    differences = []
    for rec in subject["recordings"]:
        more = read_edf(shared / "chb01" / f"{rec['stem']}.edf").data
        usual = read_edf(strong_root / "chb01" / f"{rec['stem']}.edf").data
        ramp = _ramp_mask(subject, rec, more.shape[1])
        assert np.array_equal(more[:, ~ramp], usual[:, ~ramp])
        differences.append((more - usual)[:, ramp])
    difference = np.concatenate(differences, axis=1)
    assert difference.shape[1] >= 256 * 600 and np.abs(difference).max() > 10
    # the focal change is drawn identically: the difference is the extra shared band only
    freqs, power = welch(difference, fs=256, nperseg=512)
    assert power[:, (freqs >= 20) & (freqs <= 40)].sum() / power.sum() > 0.95


# ------------------------------------------------------------------------------------ look-alikes


def _ramp_start(onset: float) -> float:
    return onset - 600 - 60  # a preictal change rises from onset - sop_s - 60 s


def test_lookalike_episodes_arrive_at_the_rate_far_from_seizures():
    params = dict(n_subjects=20, hours=4.0, seizures=1, seed=5, lookalike_rate=1.0)
    subjects = _planned_subjects(params)
    onsets = [t for s in subjects for t in s.lookalike_onsets]
    assert 0.6 < len(onsets) / 80 < 1.4  # Poisson(80): 80 +- 9
    for subject in subjects:
        assert subject.lookalike_onsets == sorted(subject.lookalike_onsets)
        (seizure_on, seizure_off), = [
            (r.t_file_start + on, r.t_file_start + off) for r in subject.recordings for on, off in r.seizures
        ]
        for t in subject.lookalike_onsets:
            assert any(r.t_file_start <= t < r.t_file_start + r.duration for r in subject.recordings)
            assert _ramp_start(t) >= 0
            assert t <= seizure_on - 1800 or _ramp_start(t) >= seizure_off + 1800  # windows interictal
    assert _planned_subjects({**params, "lookalike_rate": 0.0})[0].lookalike_onsets == []


@pytest.fixture(scope="module")
def lookalike_root(tmp_path_factory) -> Path:
    """``strong_root``'s chb01 with look-alike episodes (chb01 depends only on seed and subject index)."""
    return make_chbmit_like(
        tmp_path_factory.mktemp("lookalike"), preictal_effect=2.0, lookalike_rate=1.0, **{**SMALL, "n_subjects": 1}
    )


def test_lookalikes_are_recorded_and_change_nothing_else(lookalike_root, strong_root):
    subject = _manifest(lookalike_root)["subjects"][0]
    episodes = subject.pop("lookalike_onsets")
    assert len(episodes) == 2 and _manifest(lookalike_root)["params"]["lookalike_rate"] == 1.0
    reference = _manifest(strong_root)["subjects"][0]
    assert reference.pop("lookalike_onsets") == [] and subject == reference  # same plan and traits
    text = describe_dataset(lookalike_root)
    assert "2 look-alike episodes" in text
    assert f"look-alikes ending at {episodes[0]:.0f} s, {episodes[1]:.0f} s" in text
    summary = "chb01-summary.txt"
    assert (lookalike_root / "chb01" / summary).read_bytes() == (strong_root / "chb01" / summary).read_bytes()
    # the episodes' own stream: outside them the EEG is byte-identical to lookalike_rate=0, inside it differs
    for rec in subject["recordings"]:
        path = Path("chb01") / f"{rec['stem']}.edf"
        with_episodes, without = read_edf(lookalike_root / path).data, read_edf(strong_root / path).data
        t_abs = rec["t_file_start"] + np.arange(with_episodes.shape[1]) / 256
        inside = np.any([(t_abs >= _ramp_start(t)) & (t_abs < t) for t in episodes], axis=0)
        assert np.array_equal(with_episodes[:, ~inside], without[:, ~inside])
        assert not inside.any() or np.abs(with_episodes[:, inside] - without[:, inside]).max() > 10
    first_file = Path("chb01") / "chb01_01.edf"  # no episode in it
    assert (lookalike_root / first_file).read_bytes() == (strong_root / first_file).read_bytes()


def test_lookalike_episode_raises_the_preictal_band_on_the_focus(lookalike_root):
    subject = _manifest(lookalike_root)["subjects"][0]
    episode = subject["lookalike_onsets"][0]
    rec = next(r for r in subject["recordings"] if r["t_file_start"] <= episode < r["t_file_start"] + r["duration"])
    # full envelope: the last 5 min before the episode's onset; quiet: 5 min ending 1 min before its ramp
    during = (episode - 300, episode)
    quiet = (_ramp_start(episode) - 360, _ramp_start(episode) - 60)
    seizures = [
        (r["t_file_start"] + on, r["t_file_start"] + off) for r in subject["recordings"] for on, off in r["seizures"]
    ]
    assert rec["t_file_start"] <= quiet[0]
    assert all(quiet[0] > off + 120 or quiet[1] < _ramp_start(on) for on, off in seizures)  # not pre-, ictal, postictal
    assert all(quiet[1] <= _ramp_start(t) or quiet[0] >= t for t in subject["lookalike_onsets"])
    data = read_edf(lookalike_root / "chb01" / f"{rec['stem']}.edf").data
    focal = [i for i, name in enumerate(CANONICAL) if set(name.split("-")) & set(subject["focus"])]
    low, high = synthetic._PREICTAL_BANDS[subject["preictal_kind"]]

    def band_power(span: tuple[float, float]) -> np.ndarray:
        start, stop = (int((t - rec["t_file_start"]) * 256) for t in span)
        windows = data[focal, start:stop].reshape(len(focal), -1, 10 * 256)  # 10-s windows
        freqs, power = welch(windows, fs=256, nperseg=256)
        return np.median(power[..., (freqs >= low) & (freqs <= high)].sum(-1), axis=1)  # robust to artifacts

    ratio = band_power(during) / band_power(quiet)
    assert ratio.min() > 3, ratio  # about 7-8 x at preictal_effect=2


# ------------------------------------------------------------------------------------------- planning


def test_impossible_placement_and_bad_arguments_raise(tmp_path):
    with pytest.raises(ValueError, match="cannot place 3 seizures.*chb01"):
        make_chbmit_like(tmp_path, n_subjects=1, hours=1.0, seizures=3, progress=False)
    with pytest.raises(ValueError, match="preictal_effect"):
        make_chbmit_like(tmp_path, preictal_effect=-1, progress=False)
    with pytest.raises(ValueError, match="common_effect"):
        make_chbmit_like(tmp_path, common_effect=float("nan"), progress=False)
    with pytest.raises(ValueError, match="seizures"):
        make_chbmit_like(tmp_path, seizures=(3, 2), progress=False)
    with pytest.raises(ValueError, match="lookalike_rate"):
        make_chbmit_like(tmp_path, lookalike_rate=-0.5, progress=False)


def _planned_subjects(params: dict) -> list:
    """The seizure plans of a preset (drawn before any signal, as :func:`make_chbmit_like` does)."""
    return [
        synthetic._plan_subject(
            i, seed=params["seed"], hours=params["hours"], file_hours=1.0, seizures=params["seizures"],
            gap_s=(3, 30), quirks=True, boundary_seizure=params.get("boundary_seizure", False),
            lookalike_rate=params.get("lookalike_rate", 0.0), sop_s=600.0,
            min_separation_s=params.get("min_separation_s", 2400.0), interictal_margin_s=1800.0,
            min_interictal_s=900.0,
        )
        for i in range(params["n_subjects"])
    ]


def test_presets_are_feasible_and_documented():
    for name, params in PRESETS.items():
        assert f'``"{name}"``' in embedded_dataset.__doc__
        subjects = _planned_subjects(params)
        n = [sum(len(r.seizures) for r in s.recordings) for s in subjects]
        low, high = params["seizures"] if isinstance(params["seizures"], tuple) else (params["seizures"],) * 2
        assert all(low <= k <= high for k in n)
    assert PRESETS["null"] == {**PRESETS["tiny"], "preictal_effect": 0.0, "lookalike_rate": 0.25}
    assert not any(params.get("boundary_seizure", False) for params in PRESETS.values())
    assert PRESETS["default"]["lookalike_rate"] == 0.25
    assert "lookalike_rate" not in PRESETS["tiny"] and "lookalike_rate" not in PRESETS["tiny_shared"]
    total_hours = PRESETS["default"]["n_subjects"] * PRESETS["default"]["hours"]
    assert 12 <= total_hours <= 20


def test_tiny_shared_preset_has_interictal_time_before_and_between_seizures():
    params = PRESETS["tiny_shared"]
    assert params["n_subjects"] == 3 and params["common_effect"] > 1 and params["preictal_effect"] > 0
    for subject in _planned_subjects(params):
        (on1, off1), (on2, _) = sorted(
            (r.t_file_start + on, r.t_file_start + off) for r in subject.recordings for on, off in r.seizures
        )
        # interictal = at least 30 min from every seizure: >= 20 min before the first, >= 10 min between
        assert on1 - 1800 >= 1200 and (on2 - 1800) - (off1 + 1800) >= 600


# ------------------------------------------------------------------------------------- embedded dataset


def test_embedded_dataset_is_generated_once_atomically(tmp_path, monkeypatch):
    small = dict(n_subjects=1, hours=0.5, file_hours=0.25, seizures=0, preictal_effect=2.0, seed=0)
    monkeypatch.setitem(PRESETS, "tiny", small)
    root = embedded_dataset(tmp_path, preset="tiny", progress=False)
    assert root == tmp_path / "synthetic" / "tiny"
    assert root.stat().st_mode & 0o777 == 0o755
    assert sorted(p.name for p in (tmp_path / "synthetic").iterdir()) == ["tiny"]  # no temp folder left
    stamp = (root / "chb01" / "chb01_01.edf").stat().st_mtime_ns
    assert embedded_dataset(tmp_path, preset="tiny", progress=False) == root
    assert (root / "chb01" / "chb01_01.edf").stat().st_mtime_ns == stamp  # reused, not regenerated
    monkeypatch.setitem(PRESETS, "tiny", {**small, "seed": 1})  # stale parameters: regenerated
    embedded_dataset(tmp_path, preset="tiny", progress=False)
    assert _manifest(root)["params"]["seed"] == 1
    assert sorted(p.name for p in (tmp_path / "synthetic").iterdir()) == ["tiny"]
    with pytest.raises(ValueError, match="preset"):
        embedded_dataset(tmp_path, preset="huge")


def test_make_synthetic_script(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("make_synthetic", REPO / "pipelines" / "make_synthetic.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    args = ["--root", str(tmp_path), "--n_subjects", "1", "--hours", "0.5", "--file_hours", "0.25"]
    assert script.main(args + ["--seizures", "0", "--no_quirks", "--quiet"]) == 0
    assert "1 subjects, 0.5 h, 0 seizures" in capsys.readouterr().out
    assert _edf_labels(tmp_path / "chb01" / "chb01_01.edf") == list(CHBMIT_CHANNELS)
    with pytest.raises(SystemExit):
        script.main(["--root", str(tmp_path), "--seizures", "two"])
