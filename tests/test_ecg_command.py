"""``pipelines/ecg_classify.py`` end to end (issue #16): exit 0 with the run folder written and the console
table (record and patient level) equal to metrics.csv; a bad input is one ``error:`` line naming the file,
exit status 2; the embedded presets at chance (null) and far above it (default) per patient."""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest
import torch

from sklearn_eeg.commands import ecg_classify
from sklearn_eeg.ecg.synthetic import ECG_PRESETS, make_ecg_cohort

QUICK = ["--quiet", "--max_epochs", "2", "--n_boot", "50"]
METRICS = ["AUROC", "AUPRC", "sensitivity", "specificity", "precision", "F1"]


@pytest.fixture(autouse=True)
def restore_torch_threads():
    """The command sets torch's thread count (--threads): put it back for the other tests."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """40 patients, one record each, strong effect."""
    root = tmp_path_factory.mktemp("cohort")
    make_ecg_cohort(root, n_patients=40, max_records=1, effect=1.5, seed=2, progress=False)
    return root


def console_metrics(out: str) -> pd.DataFrame:
    columns = ["level", "metric", "value", "ci_low", "ci_high"]
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split() == columns)
    rows = [line.split() for line in lines[start + 1:] if not line.startswith("run folder:")]
    return pd.DataFrame(rows, columns=columns)


def test_help():
    with pytest.raises(SystemExit) as exc:
        ecg_classify.main(["--help"])
    assert exc.value.code == 0


def test_runs_on_a_wfdb_folder_and_writes_the_run_folder(cohort, tmp_path, capsys):
    assert ecg_classify.main(["--data_root", str(cohort), "--cache_dir", str(tmp_path / "cache"),
                              "--out_dir", str(tmp_path / "out"), *QUICK]) == 0
    out = capsys.readouterr().out
    (run_dir,) = (tmp_path / "out" / "runs").iterdir()
    assert f"run folder: {run_dir}" in out
    for name in ("manifest.json", "metrics.csv", "predictions.csv", "patient_predictions.csv", "history.csv", "roc.png",
                 "pr.png", "confusion.png"):
        assert (run_dir / name).is_file(), name
    metrics = pd.read_csv(run_dir / "metrics.csv")
    assert metrics["level"].tolist() == ["record"] * 6 + ["patient"] * 6
    assert metrics["metric"].tolist() == METRICS * 2
    shown = console_metrics(out)
    assert shown["level"].tolist() == metrics["level"].tolist()
    assert shown["metric"].tolist() == metrics["metric"].tolist()
    for column in ("value", "ci_low", "ci_high"):
        assert shown[column].tolist() == [f"{v:.3f}" for v in metrics[column]], column
    manifest = json.loads((run_dir / "manifest.json").read_text())
    sides = manifest["patients"]
    assert not set(sides["train"]) & set(sides["validation"]) and not set(sides["test"]) & set(sides["train"] + sides["validation"])
    assert manifest["patients_per_side"] == {"train": 24, "validation": 8, "test": 8}
    assert manifest["threshold_rule"].startswith("best F1 on validation")
    assert (run_dir / manifest["checkpoint"].split(str(run_dir) + "/")[1]).is_file()
    predictions = pd.read_csv(run_dir / "predictions.csv")
    assert set(predictions["side"]) == {"validation", "test"} and "age" in predictions
    patients = pd.read_csv(run_dir / "patient_predictions.csv", dtype={"patient": str})
    assert sorted(patients.query("side == 'test'")["patient"]) == sides["test"]
    # One record per patient: the patient level repeats the record level, threshold and bootstrap included.
    assert manifest["patient_threshold"] == manifest["threshold"]
    assert manifest["patient_threshold_rule"].startswith("best F1 on validation")
    assert manifest["n_patients_with_mixed_labels"] == 0
    assert manifest["n_positive_patients"] == manifest["n_positive_records"]  # one record per patient
    levels = metrics.set_index(["level", "metric"])
    pd.testing.assert_frame_equal(levels.loc["patient"], levels.loc["record"])


def test_embedded_preset_is_generated_in_the_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(ECG_PRESETS, "tiny", {"n_patients": 30, "effect": 1.5, "seed": 4})
    assert ecg_classify.main(["--preset", "tiny", "--cache_dir", str(tmp_path / "cache"), "--out_dir",
                              str(tmp_path / "out"), "--no_figures", *QUICK]) == 0
    assert (tmp_path / "cache" / "synthetic" / "ecg-tiny" / "labels.csv").is_file()
    assert "ECG classification:" in capsys.readouterr().out


@pytest.mark.slow  # ~25 s each on 2 cores: the 120-patient presets with the default training budget
@pytest.mark.parametrize("preset", ["null", "default"])
def test_presets_at_the_patient_level(preset, tmp_path):
    assert ecg_classify.main(["--preset", preset, "--cache_dir", str(tmp_path / "cache"), "--out_dir",
                              str(tmp_path / "out"), "--quiet", "--no_figures"]) == 0
    (run_dir,) = (tmp_path / "out" / "runs").iterdir()
    auroc = pd.read_csv(run_dir / "metrics.csv").set_index(["level", "metric"]).loc[("patient", "AUROC")]
    if preset == "null":
        assert auroc["ci_low"] < 0.5 < auroc["ci_high"], auroc
    else:
        assert auroc["value"] > 0.9 and auroc["ci_low"] > 0.75, auroc


def break_labels(root):
    (root / "labels.csv").write_text("record,label\nrecords/p0000_r0,0\n")


def absent_record(root):
    table = pd.read_csv(root / "labels.csv")
    table.loc[3, "record"] = "records/absent"
    table.to_csv(root / "labels.csv", index=False)


def bad_label(root):
    table = pd.read_csv(root / "labels.csv")
    table["label"] = table["label"].astype(object)
    table.loc[2, "label"] = "2"
    table.to_csv(root / "labels.csv", index=False)


def truncated_data(root):
    dat = root / "records" / "p0005_r0.dat"
    dat.write_bytes(dat.read_bytes()[:100])


def lead_missing(root):
    hea = root / "records" / "p0001_r0.hea"
    hea.write_text(hea.read_text().replace(" V6\n", " V7\n"))


@pytest.mark.parametrize(
    "damage, message",
    [
        (break_labels, r"labels\.csv: missing column\(s\) \['patient'\]"),
        (absent_record, r"record 'records/absent' listed in the label table is missing"),
        (bad_label, r"labels\.csv: column 'label' must be 0 or 1; line 4 has '2'"),
        (truncated_data, r"p0005_r0\.hea: unreadable WFDB record, its header is malformed or disagrees with its data file"),
        (lead_missing, r"p0001_r0\.hea: leads \['V6'\] not in the file"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(cohort, tmp_path, capsys, damage, message):
    root = tmp_path / "data"
    shutil.copytree(cohort, root)
    damage(root)
    assert ecg_classify.main(["--data_root", str(root), "--cache_dir", str(tmp_path / "cache"),
                              "--out_dir", str(tmp_path / "out"), *QUICK]) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("error: ") and re.search(message, line), line
    assert not (tmp_path / "out" / "runs").exists()


def test_missing_folder_and_unwritable_output_are_one_line(tmp_path, capsys):
    assert ecg_classify.main(["--data_root", str(tmp_path / "nope"), "--out_dir", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip() == f"error: data folder {str(tmp_path / 'nope')!r} does not exist"
    (tmp_path / "file").write_text("x")
    assert ecg_classify.main(["--data_root", str(tmp_path), "--out_dir", str(tmp_path / "file")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"error: output folder {str(tmp_path / 'file')!r} is not writable")
