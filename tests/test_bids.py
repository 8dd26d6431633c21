"""BIDS-EEG input (issue #14): the SzCORE layout indexes like CHB-MIT, and LOSO runs on it unchanged.

The synthetic generator writes the same recordings in either layout, so the BIDS reader is checked
against the CHB-MIT reader on identical EDF files and seizures.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sklearn_eeg.commands import loso, make_synthetic
from sklearn_eeg.data import EEGDataError, load_bids_index, load_index, make_chbmit_like, verify_dataset
from sklearn_eeg.data.bids import EVENTS_COLUMNS, is_bids_root, read_events_tsv, read_scans_tsv
from sklearn_eeg.data.chbmit import UNKNOWN_GAP_S, find_subjects

PARAMS = dict(n_subjects=3, hours=1.5, file_hours=0.5, seizures=1, seed=0, progress=False)
RUN = "sub-01_ses-01_task-szMonitoring_run-01"


@pytest.fixture(scope="module")
def roots(tmp_path_factory) -> dict[str, Path]:
    """The same synthetic data (3 subjects x 1.5 h, one seizure each) in both layouts."""
    folder = tmp_path_factory.mktemp("data")
    return {layout: make_chbmit_like(folder / layout, layout=layout, **PARAMS) for layout in ("chbmit", "bids")}


@pytest.fixture
def tiny_bids(tmp_path) -> Path:
    """One subject, two 2-min runs, no seizure: a BIDS root to damage."""
    return make_chbmit_like(tmp_path / "bids", n_subjects=1, hours=4 / 60, file_hours=2 / 60, seizures=0,
                            layout="bids", progress=False)


def _eeg_folder(root: Path) -> Path:
    return root / "sub-01" / "ses-01" / "eeg"


def _scans(root: Path) -> Path:
    return root / "sub-01" / "ses-01" / "sub-01_ses-01_scans.tsv"


def _bids_name(name: str) -> str:
    """``chb02`` -> ``sub-02``; ``chb02_03`` -> ``sub-02_ses-01_task-szMonitoring_run-03``."""
    subject, _, run = name.partition("_")
    bids = f"sub-{subject[3:]}"
    return f"{bids}_ses-01_task-szMonitoring_run-{run}" if run else bids


# ------------------------------------------------------------------------------------------ generator


def test_a_chbmit_folder_holding_a_sub_folder_stays_chbmit(tmp_path):
    (tmp_path / "chb01").mkdir()
    (tmp_path / "chb01" / "chb01-summary.txt").write_text("Data Sampling Rate: 256 Hz\n")
    (tmp_path / "sub-notes").mkdir()  # e.g. a user's own folder next to the subjects
    assert not is_bids_root(tmp_path)
    (tmp_path / "chb01" / "chb01-summary.txt").unlink()
    assert is_bids_root(tmp_path)  # sub-* folders and no summary: BIDS without a description file
    (tmp_path / "chb01" / "chb01-summary.txt").write_text("")
    (tmp_path / "dataset_description.json").write_text("{}")
    assert is_bids_root(tmp_path)  # the description file decides


def test_bids_layout_files(roots):
    root = roots["bids"]
    assert is_bids_root(root) and not is_bids_root(roots["chbmit"])
    assert json.loads((root / "dataset_description.json").read_text())["BIDSVersion"]
    assert (root / "participants.tsv").read_text().split() == ["participant_id", "sub-01", "sub-02", "sub-03"]
    stems = sorted(p.name for p in _eeg_folder(root).iterdir() if p.name.startswith(RUN))
    assert stems == [f"{RUN}_{s}" for s in ("channels.tsv", "eeg.edf", "eeg.json", "events.tsv")]
    assert (_eeg_folder(root) / f"{RUN}_events.tsv").read_text().split("\n")[0].split("\t") == list(EVENTS_COLUMNS)
    scans = pd.read_csv(_scans(root), sep="\t")
    assert scans["filename"].tolist() == [f"eeg/{RUN[:-2]}{k:02d}_eeg.edf" for k in (1, 2, 3)]
    assert pd.to_datetime(scans["acq_time"]).is_monotonic_increasing
    assert not (root / "RECORDS").exists() and not (root / "chb01").exists()


def test_same_edf_files_and_ground_truth(roots):
    chbmit, bids = roots["chbmit"], roots["bids"]
    for edf in sorted(chbmit.glob("chb*/*.edf")):
        name = _bids_name(edf.stem)
        assert (bids / name[:6] / "ses-01" / "eeg" / f"{name}_eeg.edf").read_bytes() == edf.read_bytes()
    truth = {k: json.loads((root / "SYNTHETIC.json").read_text()) for k, root in roots.items()}
    assert "layout" not in truth["chbmit"]["params"]  # the CHB-MIT manifest is unchanged
    assert truth["bids"]["params"].pop("layout") == "bids"
    assert truth["bids"]["params"] == truth["chbmit"]["params"]
    for subject in truth["chbmit"]["subjects"]:
        subject["name"] = _bids_name(subject["name"])
        for rec in subject["recordings"]:
            rec["stem"] = _bids_name(rec["stem"])
    assert truth["bids"]["subjects"] == truth["chbmit"]["subjects"]


def test_make_synthetic_command_layout(tmp_path, capsys):
    args = ["--data_root", str(tmp_path / "b"), "--n_subjects", "1", "--hours", str(2 / 60), "--file_hours", str(1 / 60),
            "--seizures", "0", "--layout", "bids", "--quiet"]
    assert make_synthetic.main(args) == 0
    assert "sub-01: 0.0 h in 2 files" in capsys.readouterr().out
    assert (tmp_path / "b" / "dataset_description.json").is_file()
    with pytest.raises(ValueError, match="layout must be"):
        make_chbmit_like(tmp_path / "x", layout="edf", progress=False)


# --------------------------------------------------------------------------------------------- index


def test_bids_index_equals_chbmit_index(roots):
    chb_recs, chb_seizures = load_index(roots["chbmit"])
    bids_recs, bids_seizures = load_index(roots["bids"])
    assert find_subjects(roots["bids"]) == ["sub-01", "sub-02", "sub-03"]
    assert bids_recs.dtypes.equals(chb_recs.dtypes) and bids_seizures.dtypes.equals(chb_seizures.dtypes)
    for table in (chb_recs, chb_seizures):
        table["subject"] = table["subject"].map(_bids_name)
        table["recording"] = table["recording"].map(_bids_name)
    chb_seizures["seizure_id"] = chb_seizures["seizure_id"].str.replace("chb", "sub-")
    assert all(Path(p).is_file() and Path(p).is_relative_to(roots["bids"].resolve()) for p in bids_recs["path"])
    pd.testing.assert_frame_equal(bids_recs.drop(columns="path"), chb_recs.drop(columns="path"))
    pd.testing.assert_frame_equal(bids_seizures, chb_seizures)
    truth = json.loads((roots["bids"] / "SYNTHETIC.json").read_text())["subjects"]
    planted = sorted((s["name"], r["t_file_start"] + on, r["t_file_start"] + off)
                     for s in truth for r in s["recordings"] for on, off in r["seizures"])
    assert list(bids_seizures[["subject", "t_onset", "t_offset"]].itertuples(index=False, name=None)) == planted
    assert len(planted) == 3 and (bids_recs["segment"] == 0).all()


def test_subject_selection(roots):
    recordings, _ = load_bids_index(roots["bids"], ["sub-02"])
    assert set(recordings["subject"]) == {"sub-02"} and len(recordings) == 3
    with pytest.raises(EEGDataError, match=r"no BIDS subjects \['chb01'\]"):
        load_index(roots["bids"], ["chb01"])


def test_without_acq_time_each_run_is_a_segment(tiny_bids):
    scans = _scans(tiny_bids)
    lines = scans.read_text().splitlines()
    scans.write_text("\n".join(line.split("\t")[0] for line in lines) + "\n")  # filename column only
    recordings, _ = load_index(tiny_bids)
    assert recordings["segment"].tolist() == [0, 1]
    assert recordings["t_file_start"].tolist() == [0.0, 120.0 + UNKNOWN_GAP_S]
    scans.unlink()  # no scans file at all: the same placement
    pd.testing.assert_frame_equal(load_index(tiny_bids)[0], recordings)


def test_event_types(tiny_bids, tmp_path):
    events = _eeg_folder(tiny_bids) / f"{RUN}_events.tsv"
    rows = ["onset\tduration\teventType", "10\t5\tsz_foc_a", "20\t80\tbckg", "30.5\t4.5\tsz", "40\t5\tszx",
            "50\t1\tsz_gen_m_tonicClonic"]
    events.write_text("\n".join(rows) + "\n")
    assert read_events_tsv(events).seizures == [(10.0, 15.0), (30.5, 35.0), (50.0, 51.0)]
    _, seizures = load_index(tiny_bids)
    assert seizures["seizure_id"].tolist() == ["sub-01_s01", "sub-01_s02", "sub-01_s03"]
    trial_type = tmp_path / "events.tsv"
    trial_type.write_text("onset\tduration\ttrial_type\n1\t2\tsz\n")
    assert read_events_tsv(trial_type).seizures == [(1.0, 3.0)]


# ------------------------------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["onset\tduration\teventType", "12\tabc\tsz"], r"line 2: duration 'abc' is not a non-negative number"),
        (["onset\tduration\teventType", "", "-4\t10\tsz"], r"line 3: onset '-4' is not a non-negative number"),
        (["onset\tduration\teventType", "1\t2"], r"line 2: 2 fields, the header has 3"),
        (["onset\teventType", "1\tsz"], r"line 1: no 'duration' column"),
        (["onset\tduration\tvalue", "1\t2\tsz"], r"line 1: no 'eventType' column"),
        ([], r"line 1: empty file"),
        (["onset\tduration\teventType", "100\t30\tsz"], r"seizure 1 ends at 130 s, after the end of the recording"),
    ],
)
def test_malformed_events_one_line_error(tiny_bids, rows, message):
    events = _eeg_folder(tiny_bids) / f"{RUN}_events.tsv"
    events.write_text("\n".join(rows) + ("\n" if rows else ""))
    with pytest.raises(EEGDataError, match=message) as info:
        load_index(tiny_bids)
    assert str(events) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "entry", ["../../../etc/evil_eeg.edf", "/tmp/evil_eeg.edf", "eeg/../../sub-02/x_eeg.edf", "C:\\x_eeg.edf"]
)
def test_unsafe_scans_filename_refused(tiny_bids, entry):
    scans = _scans(tiny_bids)
    scans.write_text(scans.read_text() + f"{entry}\t2001-01-01T00:00:00\n")
    with pytest.raises(EEGDataError, match=r"line 4: unsafe filename") as info:
        load_index(tiny_bids)
    assert str(scans) in str(info.value) and "\n" not in str(info.value)
    report = verify_dataset(tiny_bids)
    assert not report.ok() and "unsafe filename" in report.problems[0]


def test_bad_acq_time(tiny_bids):
    scans = _scans(tiny_bids)
    scans.write_text(scans.read_text().replace("2001-01-01T", "yesterday ", 1))
    with pytest.raises(EEGDataError, match=r"scans.tsv, line 2: acq_time 'yesterday .*' is not a date-time"):
        read_scans_tsv(scans)


def test_verify_dataset_accepts_bids(roots):
    report = verify_dataset(roots["bids"])
    assert report.ok(), report.to_text()
    assert report.seizures_per_subject == {"sub-01": 1, "sub-02": 1, "sub-03": 1}
    assert report.n_edf == 9


# -------------------------------------------------------------------------------------------- LOSO


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    """A run config with its own cache folder, one validation subject and one process."""
    folder = tmp_path_factory.mktemp("config")
    path = folder / "run.yaml"
    path.write_text(yaml.safe_dump({"data": {"cache_dir": str(folder / "cache")}, "split": {"n_val_subjects": 1},
                                    "n_jobs": 1, "alarms": {"fah_targets": [0.5]}}))
    return path


def _loso(config: Path, root: Path, out: Path) -> pd.DataFrame:
    args = ["--data_root", str(root), "--out_dir", str(out), "--quiet", "--no_figures", "--config", str(config)]
    assert loso.main(args) == 0
    return pd.read_csv(out / "tables" / "loso_results.csv")


@pytest.fixture(scope="module")
def bids_results(roots, config, tmp_path_factory) -> pd.DataFrame:
    return _loso(config, roots["bids"], tmp_path_factory.mktemp("out_bids"))


def test_loso_runs_on_bids_root(bids_results):
    assert sorted(bids_results["test_subject"]) == ["sub-01", "sub-02", "sub-03"]
    assert np.isfinite(bids_results["auroc"]).all()


@pytest.mark.slow
def test_loso_same_results_in_both_layouts(roots, config, bids_results, tmp_path_factory):
    chbmit = _loso(config, roots["chbmit"], tmp_path_factory.mktemp("out_chbmit"))
    for column in ("test_subject", "val_subjects", "train_subjects"):
        if column in chbmit:
            chbmit[column] = chbmit[column].map(lambda s: ";".join(_bids_name(x) for x in str(s).split(";")))
    # the surrogate stream is seeded by the subject's name (alarm_scoring._surrogate_counts): only it differs
    surrogate = [c for c in chbmit.columns if c in ("p_surrogate", "surrogate_hist")]
    pd.testing.assert_frame_equal(bids_results.drop(columns=surrogate), chbmit.drop(columns=surrogate))
    np.testing.assert_array_equal(bids_results["auroc"], chbmit["auroc"])
