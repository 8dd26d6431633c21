"""Consistency check of a CHB-MIT(-like) download: EDF files, summaries and RECORDS lists (or a BIDS-EEG root)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from .bids import is_bids_root, load_bids_index
from .chbmit import (
    SEIZURE_END_TOLERANCE_S,
    SummaryInfo,
    compare_records,
    find_subjects,
    read_records,
    read_seizure_annotations,
    read_summary,
    summary_path,
)
from .edf import CANONICAL_CHANNELS, EEGDataError, normalize_channel_name, read_edf_header

__all__ = ["KNOWN_ISSUES", "DatasetReport", "verify_dataset"]

# Inconsistencies of the real PhysioNet CHB-MIT 1.0.0 release, reported but tolerated with
# ``allow_known=True``.
KNOWN_ISSUES: dict[str, str] = {
    "RECORDS-WITH-SEIZURES lists chb07/chb07_18.edf, whose summary gives no seizure": (
        "the summary puts the chb07 seizure in chb07_19"
    ),
    "summary gives seizures to chb07/chb07_19.edf, absent from RECORDS-WITH-SEIZURES": (
        "the counterpart of the chb07_18 entry"
    ),
    **{
        f"RECORDS lists chb24/chb24_{n}.edf, named by no summary": "chb24's summary names only files with seizures"
        for n in ("02", "05", "08", "10", "12", "16", "18", "19", "20", "22")
    },
}


@dataclass
class DatasetReport:
    """Outcome of :func:`verify_dataset`.

    Attributes
    ----------
    data_root : str
        The checked folder.
    edf_checked : bool
        False when the EDF files were not looked at (``summaries_only``).
    edf_per_subject : dict of str to int
        EDF files found per subject folder.
    files_per_subject : dict of str to int
        Files named by each summary.
    files_with_seizures : dict of str to int
        Files with at least one seizure, per summary.
    seizures_per_subject : dict of str to int
        Seizures per summary.
    problems : list of str
        Inconsistencies that fail the check.
    known : list of str
        Known inconsistencies of the real release (fail only when not allowed).
    notes : list of str
        Facts worth knowing that are not errors (e.g. files without the canonical channels).
    """

    data_root: str
    edf_checked: bool = True
    edf_per_subject: dict[str, int] = field(default_factory=dict)
    files_per_subject: dict[str, int] = field(default_factory=dict)
    files_with_seizures: dict[str, int] = field(default_factory=dict)
    seizures_per_subject: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    known: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def n_edf(self) -> int:
        """Total number of EDF files found."""
        return sum(self.edf_per_subject.values())

    def ok(self, *, allow_known: bool = False) -> bool:
        """True when there is no problem (and no known issue unless ``allow_known``)."""
        return not self.problems and (allow_known or not self.known)

    def to_text(self) -> str:
        """Plain-text report, one fact per line."""
        subjects = sorted(set(self.files_per_subject) | set(self.edf_per_subject))
        lines = [
            f"Dataset: {self.data_root}",
            f"Subjects with a summary: {len(self.files_per_subject)}",
            f"EDF files found: {self.n_edf if self.edf_checked else 'not checked (summaries only)'}",
            f"Files named by summaries: {sum(self.files_per_subject.values())}",
            f"Files with seizures (summaries): {sum(self.files_with_seizures.values())}",
            f"Seizures (summaries): {sum(self.seizures_per_subject.values())}",
            "",
            f"{'subject':<8} {'edf':>5} {'listed':>7} {'w/ seiz':>8} {'seizures':>9}",
        ]
        for s in subjects:
            lines.append(
                f"{s:<8} {self.edf_per_subject.get(s, 0):>5} {self.files_per_subject.get(s, 0):>7} "
                f"{self.files_with_seizures.get(s, 0):>8} {self.seizures_per_subject.get(s, 0):>9}"
            )
        sections = (("Problems", self.problems), ("Known PhysioNet issues", self.known), ("Notes", self.notes))
        for title, items in sections:
            lines += ["", f"{title}: {len(items)}"] + [f"  - {item}" for item in items]
        return "\n".join(lines) + "\n"


def _edf_files(root: Path, subject: str) -> list[str]:
    folder = root / subject
    return sorted(p.name for p in folder.iterdir() if p.suffix.lower() == ".edf") if folder.is_dir() else []


def _check_headers(root: Path, summaries: list[SummaryInfo], report: DatasetReport) -> None:
    """Read every existing EDF header named by a summary; report unreadable files and montages."""
    canonical = {normalize_channel_name(c) for c in CANONICAL_CHANNELS}
    entries = [(s.subject, f) for s in summaries for f in s.files if (root / s.subject / f.name).is_file()]
    lacking = []
    for subject, entry in tqdm(entries, desc="EDF headers", unit="file", disable=len(entries) < 50):
        path = root / subject / entry.name
        try:
            header = read_edf_header(path)
        except EEGDataError as exc:
            report.problems.append(f"unreadable EDF: {exc}")
            continue
        if not canonical <= {normalize_channel_name(c) for c in header["ch_names"]}:
            lacking.append(f"{subject}/{entry.name}")
        for k, (_, offset) in enumerate(entry.seizures, start=1):
            if offset > header["duration"] + SEIZURE_END_TOLERANCE_S:
                report.problems.append(
                    f"seizure after the end of its file: seizure {k} of {subject}/{entry.name} ends at "
                    f"{offset:g} s, the EDF lasts {header['duration']:g} s"
                )
    if lacking:
        report.notes.append(f"{len(lacking)} EDF files lack some canonical channels: {', '.join(lacking)}")


def _check_annotations(root: Path, summaries: list[SummaryInfo], report: DatasetReport, tol_s: float = 1.0) -> None:
    """Compare each ``<edf>.seizures`` annotation file present with its summary's seizures."""
    n_checked = 0
    for info in summaries:
        for entry in info.files:
            path = root / info.subject / f"{entry.name}.seizures"
            if not path.is_file():
                continue
            n_checked += 1
            try:
                annotated = read_seizure_annotations(path)
            except EEGDataError as exc:
                report.problems.append(f"unreadable annotation file: {exc}")
                continue
            agree = len(annotated) == len(entry.seizures) and all(
                abs(a - b) <= tol_s for pair, ref in zip(annotated, entry.seizures) for a, b in zip(pair, ref)
            )
            if not agree:
                report.problems.append(
                    f"{info.subject}/{path.name} gives seizures {annotated}, the summary {entry.seizures}"
                )
    if n_checked:
        report.notes.append(f"{n_checked} .seizures annotation files compared with the summaries")


def _verify_bids(root: Path, report: DatasetReport, *, check_headers: bool) -> DatasetReport:
    """Check a BIDS-EEG root: its index reads (TSV files well formed and safe) and its EDF headers too."""
    try:
        recordings, seizures = load_bids_index(root)
    except EEGDataError as exc:
        report.problems.append(f"unreadable BIDS dataset: {exc}")
        return report
    if recordings.empty:
        report.problems.append(f"no sub-*/[ses-*/]eeg/*_eeg.edf found under {root}")
    for subject, rows in recordings.groupby("subject"):
        report.edf_per_subject[subject] = len(rows)
        report.files_per_subject[subject] = len(rows)
        report.files_with_seizures[subject] = int((rows["n_seizures"] > 0).sum())
        report.seizures_per_subject[subject] = int((seizures["subject"] == subject).sum())
    report.notes.append("BIDS-EEG layout: seizures from *_events.tsv, timeline from *_scans.tsv acq_time")
    if not check_headers:
        return report
    canonical = {normalize_channel_name(c) for c in CANONICAL_CHANNELS}
    lacking = []
    for rec in recordings.itertuples(index=False):
        try:
            header = read_edf_header(rec.path)
        except EEGDataError as exc:
            report.problems.append(f"unreadable EDF: {exc}")
            continue
        if not canonical <= {normalize_channel_name(c) for c in header["ch_names"]}:
            lacking.append(rec.recording)
    if lacking:
        report.notes.append(f"{len(lacking)} EDF files lack some canonical channels: {', '.join(lacking)}")
    return report


def _add(report: DatasetReport, message: str) -> None:
    (report.known if message in KNOWN_ISSUES else report.problems).append(message)


def verify_dataset(
    data_root: str | os.PathLike, *, summaries_only: bool = False, check_headers: bool = True
) -> DatasetReport:
    """Check that EDF files, summaries and RECORDS lists of a dataset agree.

    Checks: every summary parses (seizure counts included, every ``File Name:`` a
    plain ``.edf`` file name); every file a summary names exists; RECORDS entries are
    plain relative paths, exist, and every EDF found is listed;
    RECORDS-WITH-SEIZURES names the files the summaries give seizures; PhysioNet
    ``.seizures`` annotation files, where present, agree with the summaries; EDF
    headers are readable. RECORDS entries of subjects without a folder are ignored, so a
    partial download of a few subjects verifies cleanly.

    A BIDS-EEG root (:func:`~sklearn_eeg.data.bids.is_bids_root`) is checked instead by
    indexing it (every ``*_scans.tsv`` and ``*_events.tsv`` well formed, no filename reaching
    outside the root, no seizure after the end of its recording) and reading its EDF headers.

    Parameters
    ----------
    data_root : str or path-like
        Root in PhysioNet layout (``chbNN/chbNN-summary.txt``, ``chbNN/*.edf``,
        ``RECORDS`` and ``RECORDS-WITH-SEIZURES`` at the root), or a BIDS-EEG root.
    summaries_only : bool, default=False
        Skip every check that needs the EDF files (existence, headers).
    check_headers : bool, default=True
        Read the header of each EDF file (fast, no signal is read).

    Returns
    -------
    DatasetReport
        Counts, problems, known PhysioNet issues and notes; ``report.ok()`` tells
        whether the dataset is consistent.

    Raises
    ------
    EEGDataError
        If ``data_root`` is not a directory.
    """
    root = Path(data_root)
    report = DatasetReport(data_root=str(root), edf_checked=not summaries_only)
    if is_bids_root(root):
        return _verify_bids(root, report, check_headers=check_headers and not summaries_only)
    subjects = find_subjects(root)
    folders = sorted(d.name for d in root.iterdir() if d.is_dir() and d.name.startswith("chb"))
    for folder in sorted(set(folders) - set(subjects)):
        report.problems.append(f"folder {folder} has no summary {summary_path(root, folder).name}")
    if not subjects:
        report.problems.append(f"no chbNN/chbNN-summary.txt found under {root}")
    summaries: list[SummaryInfo] = []
    for subject in subjects:
        try:
            info = read_summary(summary_path(root, subject))
        except EEGDataError as exc:
            report.problems.append(f"unreadable summary: {exc}")
            continue
        info.subject = subject
        summaries.append(info)
        report.files_per_subject[subject] = len(info.files)
        report.files_with_seizures[subject] = sum(1 for f in info.files if f.seizures)
        report.seizures_per_subject[subject] = info.n_seizures
        if not summaries_only:
            for entry in info.files:
                if not (root / subject / entry.name).is_file():
                    report.problems.append(f"summary names a missing EDF: {subject}/{entry.name}")
    edfs: set[str] = set()
    if not summaries_only:
        for subject in folders:
            names = _edf_files(root, subject)
            report.edf_per_subject[subject] = len(names)
            edfs |= {f"{subject}/{n}" for n in names}

    try:
        records = read_records(root)
        refused = False
    except EEGDataError as exc:  # an unsafe entry (absolute, '..'): no RECORDS check can be trusted
        report.problems.append(f"unusable RECORDS list: {exc}")
        records, refused = {"records": None, "records_with_seizures": None}, True
    if records["records"] is None:
        if not refused:
            report.notes.append("no RECORDS file at the root: RECORDS checks skipped")
    elif not summaries_only:
        present = set(folders)
        listed = {r for r in records["records"] if r.split("/")[0] in present}
        for path in sorted(listed - edfs):
            report.problems.append(f"RECORDS lists a missing EDF: {path}")
        for path in sorted(edfs - set(records["records"])):
            report.problems.append(f"EDF present but not in RECORDS: {path}")
    if records["records_with_seizures"] is None and not refused:
        report.notes.append("no RECORDS-WITH-SEIZURES file at the root: seizure list check skipped")
    mismatch = compare_records(records, summaries)
    for path in mismatch.listed_not_in_summaries:
        _add(report, f"RECORDS lists {path}, named by no summary")
    for path in mismatch.in_summaries_not_listed:
        _add(report, f"summary names {path}, absent from RECORDS")
    for path in mismatch.seizures_not_in_summaries:
        _add(report, f"RECORDS-WITH-SEIZURES lists {path}, whose summary gives no seizure")
    for path in mismatch.summary_seizures_not_listed:
        _add(report, f"summary gives seizures to {path}, absent from RECORDS-WITH-SEIZURES")
    if not summaries_only:
        _check_annotations(root, summaries, report)
    if check_headers and not summaries_only:
        _check_headers(root, summaries, report)
    return report
