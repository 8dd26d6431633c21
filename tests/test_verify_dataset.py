"""Dataset verifier on the real summaries/RECORDS (no EDFs) and on small layouts with EDFs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import edfio
import numpy as np
import pytest

from sklearn_eeg.data.edf import CANONICAL_CHANNELS
from sklearn_eeg.data.verify import verify_dataset

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "pipelines" / "verify_dataset.py"
SUBJECTS = [f"chb{i:02d}" for i in range(1, 25)]


@pytest.fixture(scope="module")
def real_layout(shared_fixtures, tmp_path_factory):
    root = tmp_path_factory.mktemp("chbmit")
    src = shared_fixtures / "chbmit" / "summaries"
    for subject in SUBJECTS:
        (root / subject).mkdir()
        shutil.copy(src / f"{subject}-summary.txt", root / subject)
    for name in ("RECORDS", "RECORDS-WITH-SEIZURES"):
        shutil.copy(src / name, root)
    return root


def _edf(path: Path, seconds: int = 2) -> None:
    rng = np.random.default_rng(1)
    signals = [
        edfio.EdfSignal(rng.normal(0, 30, seconds * 256), 256, label=c, physical_range=(-800, 800))
        for c in CANONICAL_CHANNELS
    ]
    edfio.Edf(signals).write(path)


@pytest.fixture
def small_layout(tmp_path):
    """One subject, two listed EDFs (one with a seizure), consistent RECORDS lists."""
    root = tmp_path / "data"
    (root / "chb31").mkdir(parents=True)
    (root / "chb31" / "chb31-summary.txt").write_text(
        "Data Sampling Rate: 256 Hz\n\n"
        "File Name: chb31_01.edf\nFile Start Time: 10:00:00\nFile End Time: 10:00:02\n"
        "Number of Seizures in File: 0\n\n"
        "File Name: chb31_02.edf\nFile Start Time: 10:00:05\nFile End Time: 10:00:07\n"
        "Number of Seizures in File: 1\nSeizure 1 Start Time: 1 seconds\nSeizure 1 End Time: 2 seconds\n"
    )
    for name in ("chb31_01.edf", "chb31_02.edf"):
        _edf(root / "chb31" / name)
    (root / "RECORDS").write_text("chb31/chb31_01.edf\nchb31/chb31_02.edf\nchb32/chb32_01.edf\n")
    (root / "RECORDS-WITH-SEIZURES").write_text("chb31/chb31_02.edf\n")
    return root


def test_real_summaries_only(real_layout):
    report = verify_dataset(real_layout, summaries_only=True)
    assert sum(report.seizures_per_subject.values()) == 198
    assert sum(report.files_per_subject.values()) == 676
    assert sum(report.files_with_seizures.values()) == 141
    assert report.seizures_per_subject["chb01"] == 7
    assert report.problems == []
    assert "RECORDS-WITH-SEIZURES lists chb07/chb07_18.edf, whose summary gives no seizure" in report.known
    assert "summary gives seizures to chb07/chb07_19.edf, absent from RECORDS-WITH-SEIZURES" in report.known
    assert len(report.known) == 12  # + the 10 chb24 files the chb24 summary does not name
    assert not report.ok() and report.ok(allow_known=True)
    text = report.to_text()
    assert "Seizures (summaries): 198" in text and "chb07_18" in text
    assert "not checked" in text


def test_real_summaries_report_missing_edfs(real_layout):
    report = verify_dataset(real_layout)
    missing = [p for p in report.problems if p.startswith("summary names a missing EDF")]
    assert len(missing) == 676
    assert len([p for p in report.problems if p.startswith("RECORDS lists a missing EDF")]) == 686
    assert report.n_edf == 0 and not report.ok(allow_known=True)


def test_consistent_small_layout(small_layout):
    report = verify_dataset(small_layout)
    assert report.problems == [] and report.known == [], report.to_text()
    assert report.ok()
    assert report.edf_per_subject == {"chb31": 2}
    assert report.seizures_per_subject == {"chb31": 1}


def test_small_layout_inconsistencies(small_layout):
    (small_layout / "chb31" / "chb31_03.edf").write_bytes((small_layout / "chb31" / "chb31_01.edf").read_bytes())
    data = (small_layout / "chb31" / "chb31_02.edf").read_bytes()
    (small_layout / "chb31" / "chb31_02.edf").write_bytes(data[: len(data) // 2])
    (small_layout / "chb33").mkdir()
    (small_layout / "RECORDS-WITH-SEIZURES").write_text("chb31/chb31_01.edf\n")
    problems = verify_dataset(small_layout).problems
    assert "EDF present but not in RECORDS: chb31/chb31_03.edf" in problems
    assert any(p.startswith("unreadable EDF") and "chb31_02.edf" in p and "truncated" in p for p in problems)
    assert "folder chb33 has no summary chb33-summary.txt" in problems
    assert "RECORDS-WITH-SEIZURES lists chb31/chb31_01.edf, whose summary gives no seizure" in problems
    assert "summary gives seizures to chb31/chb31_02.edf, absent from RECORDS-WITH-SEIZURES" in problems
    (small_layout / "chb31" / "chb31_01.edf").unlink()
    problems = verify_dataset(small_layout).problems
    assert "summary names a missing EDF: chb31/chb31_01.edf" in problems
    assert "RECORDS lists a missing EDF: chb31/chb31_01.edf" in problems


def test_bad_summary_is_reported(small_layout):
    path = small_layout / "chb31" / "chb31-summary.txt"
    path.write_text(path.read_text().replace("Number of Seizures in File: 1", "Number of Seizures in File: 3"))
    problems = verify_dataset(small_layout).problems
    assert any("chb31-summary.txt, line" in p and "declares 3" in p for p in problems)


def test_script_exit_status_and_report(real_layout, small_layout, tmp_path):
    out = tmp_path / "tables" / "summary.txt"
    cmd = [sys.executable, str(SCRIPT), "--data_root", str(real_layout), "--summaries_only", "--out", str(out)]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 1, run.stderr
    assert "chb07_18" in out.read_text() and "chb07_18" in run.stdout
    assert subprocess.run(cmd + ["--allow_known"], capture_output=True, cwd=REPO).returncode == 0
    cmd = [sys.executable, str(SCRIPT), "--data_root", str(small_layout), "--out", str(out)]
    assert subprocess.run(cmd, capture_output=True, cwd=REPO).returncode == 0
    assert "EDF files found: 2" in out.read_text()
    help_run = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, cwd=REPO)
    assert help_run.returncode == 0 and "--summaries_only" in help_run.stdout


def test_annotation_files_compared(small_layout, shared_fixtures):
    real = shared_fixtures / "chbmit" / "annotations" / "chb01_03.edf.seizures"  # seizure 2996-3036 s
    shutil.copy(real, small_layout / "chb31" / "chb31_02.edf.seizures")
    report = verify_dataset(small_layout)
    assert "chb31/chb31_02.edf.seizures gives seizures [(2996.0, 3036.0)], the summary [(1.0, 2.0)]" in report.problems
    summary = small_layout / "chb31" / "chb31-summary.txt"
    text = summary.read_text().replace("Start Time: 1 seconds", "Start Time: 2996 seconds")
    summary.write_text(text.replace("End Time: 2 seconds", "End Time: 3036 seconds"))
    _edf(small_layout / "chb31" / "chb31_02.edf", seconds=3040)  # long enough to hold that seizure
    report = verify_dataset(small_layout)
    assert report.problems == [] and report.ok()
    assert "1 .seizures annotation files compared with the summaries" in report.notes


def test_a_seizure_after_the_end_of_its_file_is_reported_and_refused(tmp_path):
    """A summary whose seizure ends after its EDF ends (9731/9807 s in a 0.5-h file) used to be labeled
    silently; verify_dataset now lists it, load_index refuses it naming summary, seizure and file, and
    loso.py stops with that one line (exit 2) before any work."""
    import re

    from sklearn_eeg.data import EEGDataError, load_index, make_chbmit_like, verify_dataset

    root = make_chbmit_like(tmp_path / "data", n_subjects=2, hours=1.0, file_hours=0.5, seizures=1, seed=2,
                            progress=False)
    summary = root / "chb01" / "chb01-summary.txt"
    text = summary.read_text()
    start = re.search(r"Seizure (?:1 )?Start Time: *(\d+)", text)
    end = re.search(r"Seizure (?:1 )?End Time: *(\d+)", text)
    summary.write_text(text[: start.start(1)] + "9731" + text[start.end(1) : end.start(1)] + "9807" + text[end.end(1) :])
    problems = verify_dataset(root).problems
    assert any("seizure after the end of its file" in p and "chb01/" in p and "9807" in p for p in problems), problems
    with pytest.raises(EEGDataError, match=r"chb01-summary\.txt: seizure 1 of chb01_\d+\.edf ends at 9807 s, after the end"):
        load_index(root)
    script = Path(__file__).resolve().parents[1] / "pipelines" / "loso.py"
    out = subprocess.run([sys.executable, str(script), "--data_root", str(root), "--quiet", "--out_dir",
                          str(tmp_path / "out")], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "9807" in out.stderr, out.stderr
    assert not (tmp_path / "out" / "runs").exists()


# --------------------------------------------------------------------------- paths from file content (issue #13)
@pytest.mark.parametrize(
    ("name", "reason"), [("../../x.edf", "'..' component"), ("/etc/x.edf", "absolute path")]
)
def test_summary_file_name_outside_the_root_is_a_problem(small_layout, name, reason):
    summary = small_layout / "chb31" / "chb31-summary.txt"
    summary.write_text(summary.read_text().replace("File Name: chb31_02.edf", f"File Name: {name}"))
    (small_layout.parent / "x.edf").write_bytes((small_layout / "chb31" / "chb31_01.edf").read_bytes())
    before = sorted(small_layout.parent.rglob("*"))
    report = verify_dataset(small_layout)
    expected = f"unreadable summary: {summary}, line 8: file name {name!r} is not a plain EDF file name"
    assert any(p.startswith(expected) and reason in p for p in report.problems), report.problems
    assert not report.ok(allow_known=True)
    assert not any("x.edf" in p and "unreadable summary" not in p for p in report.problems + report.notes)
    assert sorted(small_layout.parent.rglob("*")) == before


def test_unsafe_records_entry_is_a_problem(small_layout):
    (small_layout / "RECORDS").write_text("chb31/chb31_01.edf\nchb31/../../x.edf\n")
    report = verify_dataset(small_layout)
    expected = (
        f"unusable RECORDS list: {small_layout / 'RECORDS'}, line 2: unsafe path 'chb31/../../x.edf' (a '..' component)"
    )
    assert expected in report.problems, report.problems
    assert not any(n.startswith("no RECORDS") for n in report.notes)
    assert not report.ok(allow_known=True)
