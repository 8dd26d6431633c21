"""CHB-MIT summaries, RECORDS lists and the recording/seizure index on the subject timeline.

The ``chbNN-summary.txt`` files come in several variants; :func:`read_summary`
accepts all of those in the 24 PhysioNet summaries:

* ``Seizure Start Time: 2996 seconds`` and ``Seizure 1 Start Time: 2996 seconds``
  (with any spacing);
* files without ``File Start Time``/``File End Time`` (chb24);
* ``Channels changed:`` blocks, so each file carries the channel list in effect;
* clock times past midnight written as ``24:44:29``/``26:02:15`` or rolling over
  to ``00:44:37``;
* files with no seizure.

Each file's parsed seizure count is checked against its ``Number of Seizures in
File`` line; any line that cannot be understood raises :class:`SummaryFormatError`
naming the file and line number.

Paths read from data files are never trusted: a summary ``File Name:`` must be a plain
``.edf`` file name and every ``RECORDS`` entry a plain relative POSIX path
(:func:`unsafe_path_reason`), so no entry can point outside the dataset root.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .bids import find_bids_subjects, is_bids_root, load_bids_index
from .edf import EEGDataError, read_edf_header
from .index_rules import (
    DAY_S,
    OVERLAP_TOLERANCE_S,
    SEIZURE_END_TOLERANCE_S,
    UNKNOWN_GAP_S,
    select_subjects,
    unsafe_path_reason,
)

__all__ = [
    "DAY_S",
    "OVERLAP_TOLERANCE_S",
    "UNKNOWN_GAP_S",
    "RecordsMismatch",
    "SummaryFile",
    "SummaryFormatError",
    "SummaryInfo",
    "compare_records",
    "find_subjects",
    "load_index",
    "parse_summary",
    "read_records",
    "read_seizure_annotations",
    "read_summary",
    "summary_path",
    "unsafe_path_reason",
]

logger = logging.getLogger(__name__)


_SUBJECT_RE = re.compile(r"^chb\d{2}$")
_SEIZURE_RE = re.compile(
    r"^Seizure(?:\s+(?P<num>\d+))?\s+(?P<kind>Start|End)\s+Time\s*:\s*"
    r"(?P<value>\d+(?:\.\d+)?)\s*(?:seconds|secs|sec|s)?$",
    re.IGNORECASE,
)
_KEY_RE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z ]*?)\s*:\s*(?P<value>.*)$")
_CHANNEL_RE = re.compile(r"^Channel\s+(?P<num>\d+)\s*:\s*(?P<name>.*)$", re.IGNORECASE)
_FILE_KEYS = frozenset({"file start time", "file end time", "number of seizures in file"})
_CLOCK_RE = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})$")


class SummaryFormatError(EEGDataError):
    """Raised when a summary file cannot be parsed; the message names the file and line."""


def _file_name_problem(name: str) -> str | None:
    """Why a summary ``File Name:`` value is not a plain EDF file name, or None."""
    reason = unsafe_path_reason(name)
    if reason is None and "/" in name:
        reason = "a '/'"
    if reason is None and name.startswith("."):
        reason = "a leading '.'"
    if reason is None and not name.lower().endswith(".edf"):
        reason = "no .edf extension"
    return reason


@dataclass
class SummaryFile:
    """One ``File Name:`` entry of a CHB-MIT summary.

    Attributes
    ----------
    name : str
        EDF file name, e.g. ``"chb01_03.edf"``.
    start_clock, end_clock : float or None
        Clock times in seconds after midnight of the recording day as written
        (values of 24 h or more are kept), None when the summary gives none.
    n_seizures_declared : int
        The ``Number of Seizures in File`` value.
    seizures : list of (float, float)
        (start, end) in seconds from file start.
    channels : tuple of str
        Channel list in effect for this file (from the latest channel block).
    line : int
        1-based line number of the ``File Name:`` line.
    """

    name: str
    start_clock: float | None = None
    end_clock: float | None = None
    n_seizures_declared: int | None = None
    seizures: list[tuple[float, float]] = field(default_factory=list)
    channels: tuple[str, ...] = ()
    line: int = 0

    @property
    def stem(self) -> str:
        """File name without the ``.edf`` extension (the recording id)."""
        return self.name[:-4] if self.name.lower().endswith(".edf") else self.name


@dataclass
class SummaryInfo:
    """A parsed ``chbNN-summary.txt``.

    Attributes
    ----------
    path : str
        The summary file.
    subject : str
        Subject id taken from the file name (``chb01``).
    sfreq : float or None
        ``Data Sampling Rate`` in Hz.
    files : list of SummaryFile
        In the order of the summary.
    """

    path: str
    subject: str
    sfreq: float | None
    files: list[SummaryFile]

    @property
    def n_seizures(self) -> int:
        """Total number of seizures in the summary."""
        return sum(len(f.seizures) for f in self.files)


def _parse_clock(text: str, where: str) -> float:
    match = _CLOCK_RE.match(text.strip())
    if not match:
        raise SummaryFormatError(f"{where}: cannot read clock time {text!r} (expected hh:mm:ss)")
    hours, minutes, seconds = (int(g) for g in match.groups())
    if minutes >= 60 or seconds >= 60:
        raise SummaryFormatError(f"{where}: invalid clock time {text!r}")
    return float(hours * 3600 + minutes * 60 + seconds)


class _SummaryParser:
    """Line-by-line state machine behind :func:`read_summary`."""

    def __init__(self, path: str):
        self.path = path
        self.sfreq: float | None = None
        self.files: list[SummaryFile] = []
        self.channels: list[str] = []
        self.in_channel_block = False
        self.current: SummaryFile | None = None
        self.count_line = 0
        self.pending_start: float | None = None

    def where(self, lineno: int) -> str:
        return f"{self.path}, line {lineno}"

    def finish_file(self, lineno: int) -> None:
        cur = self.current
        if cur is None:
            return
        if self.pending_start is not None:
            raise SummaryFormatError(
                f"{self.where(lineno)}: seizure start without end time in {cur.name}"
            )
        if cur.n_seizures_declared is None:
            raise SummaryFormatError(
                f"{self.where(cur.line)}: {cur.name} has no 'Number of Seizures in File' line"
            )
        if cur.n_seizures_declared != len(cur.seizures):
            raise SummaryFormatError(
                f"{self.where(self.count_line)}: {cur.name} declares {cur.n_seizures_declared} "
                f"seizures but {len(cur.seizures)} are listed"
            )
        self.current = None

    def feed(self, lineno: int, line: str) -> None:
        text = line.strip()
        if not text or set(text) == {"*"}:
            return
        channel = _CHANNEL_RE.match(text)
        if channel:
            if not self.in_channel_block:
                raise SummaryFormatError(f"{self.where(lineno)}: channel line outside a channel block")
            self.channels.append(channel.group("name").strip())
            return
        seizure = _SEIZURE_RE.match(text)
        if seizure:
            self.add_seizure(lineno, seizure)
            return
        keyed = _KEY_RE.match(text)
        if not keyed:
            raise SummaryFormatError(f"{self.where(lineno)}: cannot parse line {text!r}")
        self.add_key(lineno, keyed.group("key").strip().lower(), keyed.group("value").strip())

    def add_seizure(self, lineno: int, match: re.Match) -> None:
        cur = self.current
        if cur is None:
            raise SummaryFormatError(f"{self.where(lineno)}: seizure line before any 'File Name:'")
        value = float(match.group("value"))
        number = match.group("num")
        expected = len(cur.seizures) + 1
        if number is not None and int(number) != expected:
            # chb09_08 numbers its second seizure's end "Seizure 1": lines are paired by order
            logger.info("%s: seizure number %s where %d was expected", self.where(lineno), number, expected)
        if match.group("kind").lower() == "start":
            if self.pending_start is not None:
                raise SummaryFormatError(f"{self.where(lineno)}: two seizure starts without an end")
            self.pending_start = value
            return
        if self.pending_start is None:
            raise SummaryFormatError(f"{self.where(lineno)}: seizure end without a start")
        if value < self.pending_start:
            raise SummaryFormatError(
                f"{self.where(lineno)}: seizure ends ({value}) before it starts ({self.pending_start})"
            )
        cur.seizures.append((self.pending_start, value))
        self.pending_start = None

    def add_key(self, lineno: int, key: str, value: str) -> None:
        where = self.where(lineno)
        if key in ("channels in edf files", "channels changed"):
            self.finish_file(lineno)
            self.channels = []
            self.in_channel_block = True
            return
        if key == "data sampling rate":
            match = re.match(r"^(\d+(?:\.\d+)?)\s*(?:Hz)?$", value, re.IGNORECASE)
            if not match:
                raise SummaryFormatError(f"{where}: cannot read sampling rate {value!r}")
            self.sfreq = float(match.group(1))
            return
        if key == "file name":
            self.finish_file(lineno)
            self.in_channel_block = False
            if not value:
                raise SummaryFormatError(f"{where}: empty file name")
            problem = _file_name_problem(value)
            if problem:
                raise SummaryFormatError(
                    f"{where}: file name {value!r} is not a plain EDF file name ({problem})"
                )
            if any(f.name == value for f in self.files):
                raise SummaryFormatError(f"{where}: {value} is listed twice")
            self.current = SummaryFile(name=value, channels=tuple(self.channels), line=lineno)
            self.files.append(self.current)
            return
        if key not in _FILE_KEYS:
            raise SummaryFormatError(f"{where}: unknown entry {key!r}")
        cur = self.current
        if cur is None:
            raise SummaryFormatError(f"{where}: {key!r} line before any 'File Name:'")
        if key == "file start time":
            cur.start_clock = _parse_clock(value, where)
        elif key == "file end time":
            cur.end_clock = _parse_clock(value, where)
        else:
            if not value.isdigit():
                raise SummaryFormatError(f"{where}: cannot read seizure count {value!r}")
            cur.n_seizures_declared = int(value)
            self.count_line = lineno


def _read_text(path: str) -> str:
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise EEGDataError(f"{path}: file not found") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_summary(path: str | os.PathLike) -> SummaryInfo:
    """Parse one CHB-MIT ``chbNN-summary.txt``.

    Parameters
    ----------
    path : str or path-like
        Summary file.

    Returns
    -------
    SummaryInfo
        Sampling rate and one :class:`SummaryFile` per ``File Name:`` entry.

    Raises
    ------
    SummaryFormatError
        On an unreadable line, a ``File Name:`` that is not a plain ``.edf`` file name
        (``../../x.edf``, ``/etc/x.edf``: it could reach outside the data root), or a
        seizure count that disagrees with ``Number of Seizures in File`` (the message
        names file and line).

    Examples
    --------
    >>> info = read_summary("chb01/chb01-summary.txt")  # doctest: +SKIP
    >>> info.files[2].name, info.files[2].seizures  # doctest: +SKIP
    ('chb01_03.edf', [(2996.0, 3036.0)])
    """
    path = str(path)
    parser = _SummaryParser(path)
    lines = _read_text(path).splitlines()
    for lineno, line in enumerate(lines, start=1):
        parser.feed(lineno, line)
    parser.finish_file(len(lines))
    subject = Path(path).name.split("-")[0]
    return SummaryInfo(path=path, subject=subject, sfreq=parser.sfreq, files=parser.files)


def parse_summary(path: str | os.PathLike) -> dict[str, list[tuple[float, float]]]:
    """Seizure times per EDF file of one summary.

    Parameters
    ----------
    path : str or path-like
        ``chbNN-summary.txt``.

    Returns
    -------
    dict of str to list of (float, float)
        EDF file name -> (start_s, end_s) pairs from file start; every listed file
        is present (empty list when it has no seizure).
    """
    return {f.name: list(f.seizures) for f in read_summary(path).files}


def summary_path(data_root: str | os.PathLike, subject: str) -> Path:
    """Path of ``<data_root>/<subject>/<subject>-summary.txt``."""
    return Path(data_root) / subject / f"{subject}-summary.txt"


def find_subjects(data_root: str | os.PathLike) -> list[str]:
    """Subjects (``chbNN``) under ``data_root`` that have a summary file, sorted.

    A BIDS root (:func:`~sklearn_eeg.data.bids.is_bids_root`) gives its ``sub-<label>`` subjects.
    """

    root = Path(data_root)
    if is_bids_root(root):
        return find_bids_subjects(root)
    if not root.is_dir():
        raise EEGDataError(f"data_root {root} is not a directory")
    return sorted(
        d.name for d in root.iterdir() if _SUBJECT_RE.match(d.name) and summary_path(root, d.name).is_file()
    )


def read_records(data_root: str | os.PathLike) -> dict[str, list[str] | None]:
    """Read the PhysioNet ``RECORDS`` and ``RECORDS-WITH-SEIZURES`` lists at ``data_root``.

    Parameters
    ----------
    data_root : str or path-like
        Dataset root (PhysioNet layout).

    Returns
    -------
    dict
        ``"records"`` and ``"records_with_seizures"``: lists of relative paths such
        as ``"chb01/chb01_03.edf"`` in file order, or None when the file is absent.

    Raises
    ------
    EEGDataError
        If an entry is not a plain relative path (absolute, a ``..`` component...: see
        :func:`unsafe_path_reason`); the message names the file, the line and the entry.
    """
    root = Path(data_root)
    out: dict[str, list[str] | None] = {}
    for key, name in (("records", "RECORDS"), ("records_with_seizures", "RECORDS-WITH-SEIZURES")):
        path = root / name
        out[key] = _read_list(path) if path.is_file() else None
    return out


def _read_list(path: Path) -> list[str]:
    """Non-blank lines of a RECORDS list, each checked with :func:`unsafe_path_reason`."""
    entries = []
    for lineno, line in enumerate(_read_text(str(path)).splitlines(), start=1):
        entry = line.strip()
        if not entry:
            continue
        reason = unsafe_path_reason(entry)
        if reason:
            raise EEGDataError(f"{path}, line {lineno}: unsafe path {entry!r} ({reason})")
        entries.append(entry)
    return entries


@dataclass
class RecordsMismatch:
    """Disagreements between the RECORDS lists and the summaries (relative paths).

    Attributes
    ----------
    listed_not_in_summaries : list of str
        In ``RECORDS`` but named by no summary.
    in_summaries_not_listed : list of str
        Named by a summary but absent from ``RECORDS``.
    seizures_not_in_summaries : list of str
        In ``RECORDS-WITH-SEIZURES`` while the summary gives the file no seizure.
    summary_seizures_not_listed : list of str
        Files with seizures in the summary but absent from ``RECORDS-WITH-SEIZURES``.
    """

    listed_not_in_summaries: list[str] = field(default_factory=list)
    in_summaries_not_listed: list[str] = field(default_factory=list)
    seizures_not_in_summaries: list[str] = field(default_factory=list)
    summary_seizures_not_listed: list[str] = field(default_factory=list)

    @property
    def seizure_lists_agree(self) -> bool:
        """True when RECORDS-WITH-SEIZURES and the summaries name the same files."""
        return not (self.seizures_not_in_summaries or self.summary_seizures_not_listed)


def compare_records(
    records: dict[str, list[str] | None], summaries: Iterable[SummaryInfo]
) -> RecordsMismatch:
    """Compare RECORDS lists (from :func:`read_records`) with parsed summaries.

    Only subjects with a summary are compared, so a partial download is not flagged
    for the subjects it lacks.

    Parameters
    ----------
    records : dict
        Output of :func:`read_records`.
    summaries : iterable of SummaryInfo
        Parsed summaries.

    Returns
    -------
    RecordsMismatch
    """
    summaries = list(summaries)
    subjects = {s.subject for s in summaries}
    named = {f"{s.subject}/{f.name}" for s in summaries for f in s.files}
    with_seizures = {f"{s.subject}/{f.name}" for s in summaries for f in s.files if f.seizures}

    def of_subjects(paths: list[str] | None) -> list[str] | None:
        return None if paths is None else [p for p in paths if p.split("/")[0] in subjects]

    out = RecordsMismatch()
    listed = of_subjects(records.get("records"))
    if listed is not None:
        out.listed_not_in_summaries = sorted(set(listed) - named)
        out.in_summaries_not_listed = sorted(named - set(listed))
    seized = of_subjects(records.get("records_with_seizures"))
    if seized is not None:
        out.seizures_not_in_summaries = sorted(set(seized) - with_seizures)
        out.summary_seizures_not_listed = sorted(with_seizures - set(seized))
    return out


_WFDB_SKIP, _WFDB_NUM, _WFDB_SUB, _WFDB_CHN, _WFDB_AUX = 59, 60, 61, 62, 63
_WFDB_SEIZURE_START, _WFDB_SEIZURE_END = 32, 33  # "[" and "]"


def read_seizure_annotations(path: str | os.PathLike, sfreq: float | None = None) -> list[tuple[float, float]]:
    """Seizures of a PhysioNet binary annotation file (``chb01_03.edf.seizures``).

    Decodes the WFDB "MIT" annotation format: 16-bit words holding a 6-bit code and a
    10-bit sample increment, with SKIP (long increments), AUX (text) and modifier
    words. Seizures are the ``[``/``]`` annotation pairs.

    Parameters
    ----------
    path : str or path-like
        Annotation file.
    sfreq : float or None, default=None
        Sampling rate; None reads it from the file's ``## time resolution:`` note.

    Returns
    -------
    list of (float, float)
        (start_s, end_s) from file start, in file order.

    Raises
    ------
    EEGDataError
        If the file is truncated, has unpaired seizure marks, or no sampling rate is known.
    """
    path = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise EEGDataError(f"{path}: cannot read annotation file ({exc})") from exc
    pos, sample, marks = 0, 0, []
    while pos + 2 <= len(raw):
        word = int.from_bytes(raw[pos : pos + 2], "little")
        pos += 2
        code, increment = word >> 10, word & 0x3FF
        if code == 0 and increment == 0:
            break
        if code == _WFDB_SKIP:
            if pos + 4 > len(raw):
                raise EEGDataError(f"{path}: truncated annotation file")
            high, low = int.from_bytes(raw[pos : pos + 2], "little"), int.from_bytes(raw[pos + 2 : pos + 4], "little")
            pos += 4
            skip = (high << 16) | low
            sample += skip - (1 << 32) if skip >= 1 << 31 else skip
        elif code == _WFDB_AUX:
            note = raw[pos : pos + increment].decode("latin-1")
            pos += increment + (increment & 1)
            found = re.search(r"time resolution:\s*(\d+(?:\.\d+)?)", note)
            if found and sfreq is None:
                sfreq = float(found.group(1))
        elif code not in (_WFDB_NUM, _WFDB_SUB, _WFDB_CHN):
            sample += increment
            if code in (_WFDB_SEIZURE_START, _WFDB_SEIZURE_END):
                marks.append((code, sample))
    if sfreq is None:
        raise EEGDataError(f"{path}: no sampling rate given and no 'time resolution' note in the file")
    codes = [code for code, _ in marks]
    if codes != [_WFDB_SEIZURE_START, _WFDB_SEIZURE_END] * (len(marks) // 2):
        raise EEGDataError(f"{path}: seizure start/end marks are not paired")
    return [(marks[k][1] / sfreq, marks[k + 1][1] / sfreq) for k in range(0, len(marks), 2)]


def _header_duration(path: Path) -> float | None:
    """EDF duration from the header; None when the file is absent or unreadable (logged)."""
    if not path.is_file():
        return None
    try:
        return float(read_edf_header(path)["duration"])
    except EEGDataError as exc:
        logger.warning("%s; using the summary clock times for its duration", exc)
        return None


def _subject_tables(root: Path, info: SummaryInfo) -> tuple[list[dict], list[dict]]:
    """Recording and seizure rows of one subject on its timeline (see :func:`load_index`)."""
    rec_rows: list[dict] = []
    seizure_rows: list[dict] = []
    segment = -1
    cursor = 0.0  # timeline end of the previous file
    prev_clock: float | None = None  # absolute clock start of the previous clocked file
    prev_t = 0.0  # timeline start of the previous clocked file
    for i, entry in enumerate(info.files):
        path = root / info.subject / entry.name
        clock_duration = math.nan
        if entry.start_clock is None or prev_clock is None:
            segment += 1
            t_start = 0.0 if i == 0 else cursor + UNKNOWN_GAP_S
            if entry.start_clock is None:
                logger.info(
                    "%s: %s has no clock times; placed %.0f s after the previous file in its own segment",
                    info.path, entry.name, t_start - cursor,
                )
            clock_start = entry.start_clock
        else:
            clock_start = entry.start_clock
            while clock_start < prev_clock:
                clock_start += DAY_S
            t_start = prev_t + (clock_start - prev_clock)
            if t_start < cursor - OVERLAP_TOLERANCE_S:
                # real clock errors (chb10_89, chb18_36 start before the previous file ends)
                logger.warning(
                    "%s: %s starts %.0f s before the previous file ends; clock times are inconsistent, "
                    "placed in a new segment %.0f s after it",
                    info.path, entry.name, cursor - t_start, UNKNOWN_GAP_S,
                )
                segment += 1
                t_start = cursor + UNKNOWN_GAP_S
        if entry.start_clock is not None and entry.end_clock is not None:
            clock_duration = entry.end_clock - entry.start_clock
            while clock_duration < 0:
                clock_duration += DAY_S
        header_duration = _header_duration(path)
        duration = header_duration if header_duration is not None else clock_duration
        if header_duration is not None and abs(header_duration - clock_duration) > 2.0:  # False for NaN
            logger.info(
                "%s: EDF duration %.0f s differs from summary clock times (%.0f s)",
                path, header_duration, clock_duration,
            )
        if clock_start is None:
            prev_clock = None
        else:
            prev_clock, prev_t = clock_start, t_start
        cursor = t_start + (0.0 if math.isnan(duration) else duration)
        rec_rows.append(
            {
                "subject": info.subject,
                "recording": entry.stem,
                "path": str(path.resolve()),
                "t_file_start": t_start,
                "duration": duration,
                "t_file_end": t_start + duration,
                "segment": segment,
                "n_seizures": len(entry.seizures),
            }
        )
        for k, (onset, offset) in enumerate(entry.seizures, start=1):
            if offset > duration + SEIZURE_END_TOLERANCE_S:  # False for an unknown (NaN) duration
                raise EEGDataError(
                    f"{info.path}: seizure {k} of {entry.name} ends at {offset:g} s, after the end of the "
                    f"file ({duration:g} s): fix its Start/End Time lines"
                )
            seizure_rows.append(
                {
                    "subject": info.subject,
                    "recording": entry.stem,
                    "onset": onset,
                    "offset": offset,
                    "t_onset": t_start + onset,
                    "t_offset": t_start + offset,
                }
            )
    return rec_rows, seizure_rows


_RECORDING_COLUMNS = ["subject", "recording", "path", "t_file_start", "duration", "t_file_end", "segment", "n_seizures"]
_SEIZURE_COLUMNS = ["subject", "recording", "seizure_id", "onset", "offset", "t_onset", "t_offset"]


def load_index(
    data_root: str | os.PathLike, subjects: Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Index the recordings and seizures of a CHB-MIT(-like) dataset on per-subject timelines.

    Parameters
    ----------
    data_root : str or path-like
        Root holding ``chbNN/chbNN-summary.txt`` and ``chbNN/chbNN_MM.edf``
        (PhysioNet layout). The EDF files are optional.
    subjects : sequence of str or None, default=None
        Subjects to index (``"chb01"``...); None indexes every subject with a summary.

    Returns
    -------
    recordings : DataFrame
        One row per file listed in a summary, sorted by subject then ``t_file_start``,
        with columns ``subject, recording, path, t_file_start, duration, t_file_end,
        segment, n_seizures`` (see docs/DATA_CONTRACTS.md). Timeline 0 is the first
        file start of each subject; clock times crossing midnight add a day; durations
        come from EDF headers when the files exist (an unreadable header is logged and
        ignored), else from clock times, else NaN.
        A file without clock times gets its own segment, placed ``UNKNOWN_GAP_S``
        after the previous file (and the next file another ``UNKNOWN_GAP_S`` later).
        A file whose clock start falls more than ``OVERLAP_TOLERANCE_S`` before the
        previous file's end (real clock errors: chb10_89, chb18_36) starts a new
        segment ``UNKNOWN_GAP_S`` after it; later files keep their clock offsets.
    seizures : DataFrame
        One row per seizure: ``subject, recording, seizure_id, onset, offset,
        t_onset, t_offset``; ``seizure_id`` is ``chbNN_sKK`` in time order per subject.

    Raises
    ------
    EEGDataError
        If ``data_root`` is not a directory, a requested subject has no summary, or a
        summary is malformed.

    Notes
    -----
    A BIDS-EEG root (``dataset_description.json`` or ``sub-*`` folders, the SzCORE layout) is
    indexed by :func:`~sklearn_eeg.data.bids.load_bids_index` into the same two tables, with
    subjects named ``sub-<label>``.
    """

    root = Path(data_root)
    if is_bids_root(root):
        return load_bids_index(root, subjects)
    subjects = select_subjects(subjects, find_subjects(root), lambda missing: EEGDataError(
        f"data_root {root}: no summary for subjects {missing} (expected e.g. {summary_path(root, missing[0])})"
    ))
    rec_rows: list[dict] = []
    seizure_rows: list[dict] = []
    for subject in subjects:
        info = read_summary(summary_path(root, subject))
        info.subject = subject
        recs, seizures = _subject_tables(root, info)
        rec_rows += recs
        seizure_rows += seizures
    recordings = pd.DataFrame(rec_rows, columns=_RECORDING_COLUMNS)
    recordings = recordings.sort_values(["subject", "t_file_start"], kind="stable").reset_index(drop=True)
    recordings = recordings.astype({"segment": np.int64, "n_seizures": np.int64, "duration": float})
    seizures = pd.DataFrame(seizure_rows, columns=[c for c in _SEIZURE_COLUMNS if c != "seizure_id"])
    seizures = seizures.sort_values(["subject", "t_onset"], kind="stable").reset_index(drop=True)
    rank = seizures.groupby("subject").cumcount() + 1
    seizures.insert(2, "seizure_id", seizures["subject"] + "_s" + rank.map("{:02d}".format))
    return recordings, seizures
