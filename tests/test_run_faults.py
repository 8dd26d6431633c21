"""Bad inputs and faults of a run: one clear line and exit status 2, nothing computed earlier lost.

Each case is what a careful user tried (issue #13): a bad option or config value, data with no
windows or no seizure, an output folder that cannot be written, a damaged fold marker or result, a
full disk while the manifest is written, an unreadable EDF file in the middle of a run.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
import yaml

from sklearn_eeg.atomic_files import atomic_write_text, check_output_dir
from sklearn_eeg.commands import ablate, loso, train_baseline, train_deep, within_subject
from sklearn_eeg.data import make_chbmit_like


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Four subjects of 1.5 hours (three half-hour files), one seizure each."""
    return make_chbmit_like(tmp_path_factory.mktemp("data") / "chbmit", n_subjects=4, hours=1.5, file_hours=0.5,
                            seizures=1, seed=3, progress=False)


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    """A run config with its own cache folder, one validation subject and one process."""
    folder = tmp_path_factory.mktemp("config")
    path = folder / "run.yaml"
    path.write_text(yaml.safe_dump({"data": {"cache_dir": str(folder / "cache")}, "split": {"n_val_subjects": 1},
                                    "n_jobs": 1, "alarms": {"fah_targets": [0.5]}}))
    return path


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in "\n".join(err), err
    return errors[0]


def _loso(config, dataset, out_dir, *extra) -> int:
    return loso.main(["--config", str(config), "--data_root", str(dataset), "--out_dir", str(out_dir), "--quiet",
                      "--no_figures", *extra])


@pytest.fixture(scope="module")
def finished_run(config, dataset, tmp_path_factory) -> Path:
    """The output folder of one finished LOSO run."""
    out = tmp_path_factory.mktemp("reports")
    assert _loso(config, dataset, out) == 0
    return out


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--n_val_subjects", "0"], "split.n_val_subjects = 0"),
        (["--data_root", "/no/such/folder"], "/no/such/folder is not a directory"),
        (["--subjects", "chb99"], "chb99"),
    ],
)
def test_bad_options_are_one_line(options, named, config, dataset, tmp_path, capsys):
    args = ["--config", str(config), "--data_root", str(dataset), "--out_dir", str(tmp_path), "--quiet", *options]
    assert loso.main(args) == 2
    assert named in _error_line(capsys)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"alarms": {"fah_targets": [0.0]}}, "alarms.fah_targets"),
        ({"alarms": {"fah_targets": []}}, "alarms.fah_targets"),
        ({"labeling": {"window": -10}}, "labeling.window"),
        ({"labeling": {"sop": 0}}, "labeling.sop"),
        ({"split": {"min_train_seizures": 0}}, "split.min_train_seizures"),
        ({"alarms": {"persistence": 0}}, "persistence"),
    ],
)
def test_bad_config_values_name_their_key(settings, named, dataset, tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(settings))
    assert loso.main(["--config", str(path), "--data_root", str(dataset), "--out_dir", str(tmp_path), "--quiet"]) == 2
    line = _error_line(capsys)
    assert named in line and str(path) in line, line


def test_preset_next_to_a_configured_data_root_is_refused(dataset, tmp_path, capsys):
    path = tmp_path / "data.yaml"
    path.write_text(yaml.safe_dump({"data": {"data_root": str(dataset)}}))
    assert loso.main(["--config", str(path), "--preset", "tiny", "--out_dir", str(tmp_path), "--quiet"]) == 2
    assert "conflicts with data.data_root" in _error_line(capsys)


def test_data_root_option_replacing_the_config_folder_is_said(dataset, tmp_path, caplog):
    from sklearn_eeg.experiments.config import load_config

    path = tmp_path / "data.yaml"
    path.write_text(yaml.safe_dump({"data": {"data_root": "/somewhere/else"}}))
    with caplog.at_level(logging.WARNING):
        cfg = load_config(path, data__data_root=str(dataset))
    assert cfg.data.data_root == str(dataset)
    assert f"--data_root {dataset} replaces data.data_root /somewhere/else" in caplog.text


def test_window_longer_than_every_recording(config, dataset, tmp_path, capsys):
    path = tmp_path / "long.yaml"
    settings = yaml.safe_load(config.read_text())
    path.write_text(yaml.safe_dump({**settings, "labeling": {"window": 99999.0, "stride": 5.0}}))
    assert loso.main(["--config", str(path), "--data_root", str(dataset), "--out_dir", str(tmp_path), "--quiet"]) == 2
    assert "no windows: labeling.window = 99999 s does not fit in any recording" in _error_line(capsys)


def test_no_seizure_anywhere(config, tmp_path, capsys):
    root = make_chbmit_like(tmp_path / "noseizure", n_subjects=3, hours=0.5, file_hours=0.5, seizures=0, seed=4,
                            progress=False)
    assert loso.main(["--config", str(config), "--data_root", str(root), "--out_dir", str(tmp_path / "out"),
                      "--quiet"]) == 2
    assert "no preictal windows" in _error_line(capsys)


def test_training_set_without_preictal_windows_is_named():
    import numpy as np

    from sklearn_eeg.experiments.fold_evaluation import fit_predict_risk
    from sklearn.linear_model import LogisticRegression

    X, y = np.zeros((6, 2)), np.array([0, 0, -1, 0, 0, 0])
    with pytest.raises(ValueError, match=r"training set \(subjects a, b\) has only interictal windows"):
        fit_predict_risk(LogisticRegression(), X, y, np.arange(6), np.arange(6), groups=np.array(list("aabbbb")))


@pytest.mark.parametrize("command", [loso, within_subject, train_baseline, ablate])
def test_unwritable_output_folder_fails_before_any_work(command, config, dataset, tmp_path, capsys):
    """A file where the output folder should be (a read-only folder acts the same, but root may write
    anywhere): one line naming the folder, before the dataset is even read."""
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    args = ["--config", str(config), "--data_root", str(dataset), "--out_dir", str(blocker / "out"), "--quiet"]
    if command is train_baseline:
        args += ["--train", "chb01", "--val", "chb02", "--test", "chb03"]
    assert command.main(args) == 2
    assert f"output folder '{blocker / 'out'}' is not writable" in _error_line(capsys)


def test_train_deep_unwritable_output_folder(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert train_deep.main(["--preset", "tiny", "--out_dir", str(blocker / "out"), "--quiet"]) == 2
    assert "is not writable" in _error_line(capsys)


def test_check_output_dir_creates_and_proves(tmp_path):
    assert check_output_dir(tmp_path / "a" / "b").is_dir()
    assert list((tmp_path / "a" / "b").iterdir()) == []  # the probe file is gone


def test_full_disk_leaves_the_previous_file(tmp_path, monkeypatch):
    """A write that fails half-way (ENOSPC) leaves the old file whole and no temporary file behind."""
    target = tmp_path / "manifest.json"
    atomic_write_text(target, '{"ok": true}')

    def full_disk(self, text, encoding=None):
        Path.write_bytes(self, text.encode()[:3])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_text(target, '{"ok": false, "much": "more"}')
    monkeypatch.undo()
    assert json.loads(target.read_text()) == {"ok": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]


def test_corrupt_fold_marker_is_recomputed(finished_run, config, dataset, tmp_path, caplog):
    out = tmp_path / "out"
    shutil.copytree(finished_run, out)
    results = (out / "tables" / "loso_results.csv").read_text()
    marker = next((out / "folds").glob("*/fold_chb02.done"))
    marker.write_text("{not json")
    with caplog.at_level(logging.WARNING):
        assert _loso(config, dataset, out) == 0
    assert "fold_chb02.done is unreadable" in caplog.text
    assert json.loads(marker.read_text())["fold"] == "fold_chb02"
    assert (out / "tables" / "loso_results.csv").read_text() == results


def test_corrupt_fold_result_is_one_line(finished_run, config, dataset, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(finished_run, out)
    result = next((out / "folds").glob("*/fold_chb01.joblib"))
    result.write_bytes(result.read_bytes()[:100])
    assert _loso(config, dataset, out) == 2
    line = _error_line(capsys)
    assert str(result) in line and "--force" in line, line


def test_an_unreadable_recording_is_skipped_and_recorded(config, dataset, tmp_path):
    """A corrupt EDF without seizures (one channel's samples-per-record field changed) is skipped with a
    log line; the run goes on and its manifest names the file and the reason."""
    root = tmp_path / "data"
    shutil.copytree(dataset, root)
    with_seizures = (root / "RECORDS-WITH-SEIZURES").read_text().split()
    edf = next(p for p in sorted((root / "chb02").glob("*.edf")) if f"chb02/{p.name}" not in with_seizures)
    raw = bytearray(edf.read_bytes())
    n_signals = int(raw[252:256].decode())
    at = 256 + n_signals * 216  # the first channel's 'samples per record' field
    raw[at : at + 8] = b"255     "
    edf.write_bytes(bytes(raw))
    assert _loso(config, root, tmp_path / "out") == 0
    manifest = json.loads(next((tmp_path / "out" / "runs").glob("*/manifest.json")).read_text())
    assert list(manifest["skipped_files"]) == [str(edf)]
    assert "samples" in manifest["skipped_files"][str(edf)]


def _garbled_copy(dataset: Path, folder: Path) -> tuple[Path, Path]:
    root = folder / "garbled"
    shutil.copytree(dataset, root)
    summary = root / "chb01" / "chb01-summary.txt"
    lines = summary.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("Seizure") and "Start Time" in line)
    lines[at] = "Seizure Start Time: about noon\n"
    summary.write_text("".join(lines))
    return root, summary


@pytest.mark.parametrize("command", ["loso", "within_subject", "train_baseline", "ablate", "train_deep", "sweep",
                                     "build_cache", "verify_dataset"])
def test_a_garbled_summary_line_is_one_line_from_every_command(command, dataset, config, tmp_path, capsys):
    """Every program names the summary file and line of a garbled seizure time, instead of a 25-line
    traceback, and stops with a non-zero exit."""
    import importlib

    root, summary = _garbled_copy(dataset, tmp_path)
    module = importlib.import_module(f"sklearn_eeg.commands.{command}")
    common = ["--data_root", str(root), "--quiet"]
    args = {
        "loso": [*common, "--config", str(config), "--out_dir", str(tmp_path / "out")],
        "within_subject": [*common, "--config", str(config), "--out_dir", str(tmp_path / "out")],
        "train_baseline": [*common, "--config", str(config), "--out_dir", str(tmp_path / "out"),
                           "--train", "chb01", "--val", "chb02", "--test", "chb03"],
        "ablate": [*common, "--config", str(config), "--out_dir", str(tmp_path / "out")],
        "train_deep": [*common, "--out_dir", str(tmp_path / "out"), "--cache_dir", str(tmp_path / "cache")],
        "sweep": [*common, "--out_dir", str(tmp_path / "out"), "--cache_dir", str(tmp_path / "cache"),
                  "--studies_dir", str(tmp_path / "studies"), "--n_trials", "1"],
        "build_cache": [*common, "--cache_dir", str(tmp_path / "cache")],
        "verify_dataset": ["--data_root", str(root)],
    }[command]
    assert module.main(args) != 0
    captured = capsys.readouterr()
    text = captured.err + captured.out
    assert "Traceback" not in text
    hits = [line for line in text.splitlines() if "chb01-summary.txt, line " in line]
    assert hits, text
    if command != "verify_dataset":  # a report of every problem rather than one error line
        assert len([line for line in captured.err.splitlines() if line.strip()]) == 1, captured.err
