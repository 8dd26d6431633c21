"""BIDS-EEG datasets (the SzCORE / epilepsy2bids layout): the recording/seizure index on subject timelines.

A BIDS-EEG root holds, per subject and session::

    root/dataset_description.json
    root/participants.tsv
    root/sub-01/ses-01/sub-01_ses-01_scans.tsv                          filename, acq_time
    root/sub-01/ses-01/eeg/sub-01_ses-01_task-szMonitoring_run-01_eeg.edf
    root/sub-01/ses-01/eeg/sub-01_ses-01_task-szMonitoring_run-01_events.tsv

:func:`load_bids_index` returns the same two tables as :func:`sklearn_eeg.data.chbmit.load_index`
(see docs/DATA_CONTRACTS.md), so the window store, the labels and every benchmark run unchanged:

* **Subjects** keep their BIDS name, ``sub-<label>`` (``sub-01``); seizure ids are ``sub-01_s01``...
* **Recordings** are the ``*_eeg.edf`` files of the ``eeg`` data type (found with
  :func:`mne_bids.find_matching_paths`); the recording id is the file name without ``_eeg.edf``
  (``sub-01_ses-01_task-szMonitoring_run-01``). Durations come from the EDF header.
* **Timeline.** When every recording of a subject has an ``acq_time`` in its ``*_scans.tsv``
  (SzCORE writes it), recordings are placed by acquisition time (0 = first start). Otherwise they
  are taken in session/task/run order and each recording without ``acq_time`` gets its own segment
  ``UNKNOWN_GAP_S`` after the previous one, as CHB-MIT files without clock times (chb24). A
  recording starting more than ``OVERLAP_TOLERANCE_S`` before the previous one ends starts a new
  segment, as in CHB-MIT.
* **Seizures** are the ``*_events.tsv`` rows whose ``eventType`` (``trial_type`` when there is
  no ``eventType`` column) is ``sz`` or starts with ``sz_`` (``sz_foc_a``, ``sz_gen_m_tonicClonic``...:
  the SzCORE / HED-SCORE vocabulary); ``bckg`` and other rows are not seizures. ``onset`` and
  ``duration`` are seconds from the recording start.

Paths read from ``*_scans.tsv`` are never trusted: each ``filename`` must be a plain relative POSIX
path (:func:`~sklearn_eeg.data.chbmit.unsafe_path_reason`). A malformed TSV raises a one-line
:class:`~sklearn_eeg.data.edf.EEGDataError` naming the file, the line and the field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .index_rules import (
    OVERLAP_TOLERANCE_S,
    SEIZURE_END_TOLERANCE_S,
    UNKNOWN_GAP_S,
    select_subjects,
    unsafe_path_reason,
)
from .edf import EEGDataError, read_edf_header

if TYPE_CHECKING:  # mne_bids (and so mne) is imported on first use: ``import sklearn_eeg.data`` stays light
    from mne_bids import BIDSPath

__all__ = [
    "BACKGROUND_EVENT",
    "BIDSEvents",
    "EVENTS_COLUMNS",
    "find_bids_subjects",
    "is_bids_root",
    "is_seizure_event",
    "load_bids_index",
    "read_events_tsv",
    "read_scans_tsv",
]

logger = logging.getLogger(__name__)

#: Columns of an SzCORE ``*_events.tsv`` (the generator writes them in this order).
EVENTS_COLUMNS = ("onset", "duration", "eventType", "confidence", "channels", "dateTime", "recordingDuration")
#: ``eventType`` of an SzCORE row marking seizure-free background.
BACKGROUND_EVENT = "bckg"

_SEIZURE_EVENT_RE = re.compile(r"^sz(?:_.*)?$")
_RECORDING_COLUMNS = ["subject", "recording", "path", "t_file_start", "duration", "t_file_end", "segment", "n_seizures"]
_SEIZURE_COLUMNS = ["subject", "recording", "onset", "offset", "t_onset", "t_offset"]


def is_bids_root(data_root: str | os.PathLike) -> bool:
    """True when ``data_root`` looks like a BIDS dataset.

    Parameters
    ----------
    data_root : str or path-like
        Dataset root.

    Returns
    -------
    bool
        True when it holds ``dataset_description.json``, or a ``sub-*`` folder and no CHB-MIT
        summary (``<subject>/<subject>-summary.txt``: a CHB-MIT folder that also holds a
        ``sub-*`` folder stays a CHB-MIT folder); False otherwise (also when it is not a directory).
    """
    root = Path(data_root)
    if not root.is_dir():
        return False
    if (root / "dataset_description.json").is_file():
        return True
    folders = [d for d in root.iterdir() if d.is_dir()]
    if any((d / f"{d.name}-summary.txt").is_file() for d in folders):
        return False
    return any(d.name.startswith("sub-") for d in folders)


def is_seizure_event(event_type: str) -> bool:
    """True for an SzCORE seizure ``eventType``: ``sz`` or ``sz_<type>``.

    Examples
    --------
    >>> is_seizure_event("sz_foc_ia"), is_seizure_event("bckg")
    (True, False)
    """
    return bool(_SEIZURE_EVENT_RE.match(event_type.strip()))


def find_bids_subjects(data_root: str | os.PathLike) -> list[str]:
    """Subjects (``sub-<label>``) of a BIDS root, sorted.

    ``derivatives/`` and ``sourcedata/`` are ignored (:func:`mne_bids.get_entity_vals`).

    Raises
    ------
    EEGDataError
        If ``data_root`` is not a directory.
    """
    from mne_bids import get_entity_vals

    root = Path(data_root)
    if not root.is_dir():
        raise EEGDataError(f"data_root {root} is not a directory")
    return sorted(f"sub-{label}" for label in get_entity_vals(root, "subject"))


# ------------------------------------------------------------------------------------------ TSV files


def _read_tsv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and ``(line number, row)`` pairs of a tab-separated file; blank lines skipped."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise EEGDataError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise EEGDataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    lines = list(csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))
    if not lines or not any(field.strip() for field in lines[0]):
        raise EEGDataError(f"{path}, line 1: empty file, expected a header line")
    header = [name.strip() for name in lines[0]]
    rows = []
    for lineno, fields in enumerate(lines[1:], start=2):
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(header):
            raise EEGDataError(f"{path}, line {lineno}: {len(fields)} fields, the header has {len(header)}")
        rows.append((lineno, {name: value.strip() for name, value in zip(header, fields)}))
    return header, rows


def _seconds(path: Path, lineno: int, row: dict[str, str], column: str) -> float:
    """A finite, non-negative number of seconds from ``row[column]``, or a one-line error."""
    value = row[column]
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise EEGDataError(f"{path}, line {lineno}: {column} {value!r} is not a non-negative number of seconds")
    return seconds


@dataclass
class BIDSEvents:
    """Seizures of one ``*_events.tsv``.

    Attributes
    ----------
    seizures : list of (float, float)
        (onset, offset) in seconds from the recording start, in file order.
    recording_duration : float
        The ``recordingDuration`` column (SzCORE), NaN when absent or ``n/a``.
    """

    seizures: list[tuple[float, float]]
    recording_duration: float = math.nan


def read_events_tsv(path: str | os.PathLike) -> BIDSEvents:
    """Read the seizures of a BIDS ``*_events.tsv`` (SzCORE convention).

    Parameters
    ----------
    path : str or path-like
        Events file with at least ``onset``, ``duration`` and ``eventType`` (or ``trial_type``).

    Returns
    -------
    BIDSEvents
        Seizure (onset, offset) pairs, seconds from the recording start, and the recording duration
        it states.

    Raises
    ------
    EEGDataError
        If a column is missing, a row has the wrong number of fields, or a seizure's onset or
        duration is not a non-negative number; the message names the file and the line.

    Examples
    --------
    >>> read_events_tsv("sub-01_ses-01_task-szMonitoring_run-01_events.tsv").seizures  # doctest: +SKIP
    [(2996.0, 3036.0)]
    """
    path = Path(path)
    header, rows = _read_tsv(path)
    kind = "eventType" if "eventType" in header else "trial_type" if "trial_type" in header else None
    missing = [c for c in ("onset", "duration") if c not in header] + ([] if kind else ["eventType"])
    if missing:
        raise EEGDataError(f"{path}, line 1: no {', '.join(repr(c) for c in missing)} column (header {header})")
    seizures = []
    durations = set()
    for lineno, row in rows:
        if "recordingDuration" in row and row["recordingDuration"] not in ("", "n/a"):
            durations.add(_seconds(path, lineno, row, "recordingDuration"))
        if not is_seizure_event(row[kind]):
            continue
        onset = _seconds(path, lineno, row, "onset")
        seizures.append((onset, onset + _seconds(path, lineno, row, "duration")))
    return BIDSEvents(seizures, durations.pop() if len(durations) == 1 else math.nan)


def _acq_time(path: Path, lineno: int, value: str) -> dt.datetime | None:
    """``acq_time`` as a naive datetime (aware times converted to UTC); None for ``n/a``/empty."""
    if value in ("", "n/a"):
        return None
    try:
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise EEGDataError(
            f"{path}, line {lineno}: acq_time {value!r} is not a date-time (expected YYYY-MM-DDThh:mm:ss)"
        ) from None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return stamp


def read_scans_tsv(path: str | os.PathLike) -> dict[str, dt.datetime | None]:
    """Acquisition times of a BIDS ``*_scans.tsv``.

    Parameters
    ----------
    path : str or path-like
        Scans file with a ``filename`` column (relative to the folder holding the scans file) and
        optionally ``acq_time``.

    Returns
    -------
    dict of str to datetime or None
        ``filename`` -> acquisition time (naive; times with an offset are converted to UTC), None
        when the file gives none.

    Raises
    ------
    EEGDataError
        If a ``filename`` is not a plain relative path (absolute, a ``..`` component...: it could
        point outside the dataset root), is listed twice, or an ``acq_time`` cannot be read; the
        message names the file and the line.
    """
    path = Path(path)
    header, rows = _read_tsv(path)
    if "filename" not in header:
        raise EEGDataError(f"{path}, line 1: no 'filename' column (header {header})")
    times: dict[str, dt.datetime | None] = {}
    for lineno, row in rows:
        entry = row["filename"]
        reason = unsafe_path_reason(entry)
        if reason:
            raise EEGDataError(f"{path}, line {lineno}: unsafe filename {entry!r} ({reason})")
        if entry in times:
            raise EEGDataError(f"{path}, line {lineno}: filename {entry!r} is listed twice")
        times[entry] = _acq_time(path, lineno, row.get("acq_time", ""))
    return times


# --------------------------------------------------------------------------------------------- index


@dataclass
class _Recording:
    """One ``*_eeg.edf`` of a subject, before placement on the timeline."""

    bids_path: BIDSPath
    acq_time: dt.datetime | None
    duration: float
    seizures: list[tuple[float, float]]

    @property
    def name(self) -> str:
        """Recording id: the file name without ``_eeg.edf``."""
        return self.bids_path.fpath.name[: -len("_eeg.edf")]

    def order_key(self) -> tuple:
        """Session/task/acquisition/run order, used when not every recording has an acq_time."""
        bp = self.bids_path
        run = int(bp.run) if bp.run is not None and str(bp.run).isdigit() else -1
        return (bp.session or "", bp.task or "", bp.acquisition or "", run, bp.basename)


def _scans_times(root: Path, subject: str, session: str | None) -> tuple[Path, dict[str, dt.datetime | None]]:
    """Folder of the scans file of a subject/session and its acquisition times (empty when absent)."""
    from mne_bids import BIDSPath

    scans = BIDSPath(subject=subject, session=session, suffix="scans", extension=".tsv", root=root, check=False)
    folder = scans.fpath.parent
    return folder, (read_scans_tsv(scans.fpath) if scans.fpath.is_file() else {})


def _events(bids_path: BIDSPath) -> BIDSEvents:
    """Seizures of the events file beside an EEG file; none (logged) when it is absent."""
    events = bids_path.copy().update(suffix="events", extension=".tsv").fpath
    if not events.is_file():
        logger.warning("%s: no events file %s; the recording is taken to have no seizure", bids_path.fpath,
                       events.name)
        return BIDSEvents([])
    return read_events_tsv(events)


def _duration(path: Path, events: BIDSEvents) -> float:
    """EDF header duration, else the events file's ``recordingDuration`` (logged), else NaN."""
    try:
        return float(read_edf_header(path)["duration"])
    except EEGDataError as exc:
        logger.warning("%s; using recordingDuration of the events file (%g s)", exc, events.recording_duration)
        return events.recording_duration


def _subject_recordings(root: Path, label: str) -> list[_Recording]:
    """The EEG recordings of one subject with acquisition times, durations and seizures."""
    from mne_bids import find_matching_paths

    found = find_matching_paths(root, subjects=label, datatypes="eeg", suffixes="eeg", extensions=".edf")
    scans: dict[str | None, tuple[Path, dict]] = {}
    recordings = []
    for bids_path in sorted(found, key=lambda bp: str(bp.fpath)):
        if bids_path.session not in scans:
            scans[bids_path.session] = _scans_times(root, label, bids_path.session)
        folder, times = scans[bids_path.session]
        relative = bids_path.fpath.relative_to(folder).as_posix()
        events = _events(bids_path)
        duration = _duration(bids_path.fpath, events)
        recordings.append(_Recording(bids_path, times.get(relative), duration, events.seizures))
    return recordings


def _place(recordings: list[_Recording], subject: str) -> list[tuple[float, int]]:
    """``(t_file_start, segment)`` per recording, in timeline order (the CHB-MIT placement rules)."""
    placed = []
    segment, cursor = -1, 0.0
    prev_acq: dt.datetime | None = None
    prev_t = 0.0
    for i, rec in enumerate(recordings):
        if rec.acq_time is None or prev_acq is None:
            segment += 1
            t_start = 0.0 if i == 0 else cursor + UNKNOWN_GAP_S
            if rec.acq_time is None:
                logger.info("%s: %s has no acq_time; placed in its own segment", subject, rec.name)
        else:
            t_start = prev_t + (rec.acq_time - prev_acq).total_seconds()
            if t_start < cursor - OVERLAP_TOLERANCE_S:
                logger.warning(
                    "%s: %s starts %.0f s before the previous recording ends; placed in a new segment %.0f s "
                    "after it", subject, rec.name, cursor - t_start, UNKNOWN_GAP_S,
                )
                segment += 1
                t_start = cursor + UNKNOWN_GAP_S
        if rec.acq_time is None:
            prev_acq = None
        else:
            prev_acq, prev_t = rec.acq_time, t_start
        cursor = t_start + (0.0 if math.isnan(rec.duration) else rec.duration)
        placed.append((t_start, segment))
    return placed


def _subject_tables(root: Path, subject: str) -> tuple[list[dict], list[dict]]:
    """Recording and seizure rows of one BIDS subject on its timeline."""
    recordings = _subject_recordings(root, subject[len("sub-"):])
    if all(rec.acq_time is not None for rec in recordings):
        recordings.sort(key=lambda rec: (rec.acq_time, rec.order_key()))
    else:
        recordings.sort(key=_Recording.order_key)
    rec_rows, seizure_rows = [], []
    for rec, (t_start, segment) in zip(recordings, _place(recordings, subject)):
        name = rec.name
        rec_rows.append({
            "subject": subject, "recording": name, "path": str(rec.bids_path.fpath.resolve()),
            "t_file_start": t_start, "duration": rec.duration, "t_file_end": t_start + rec.duration,
            "segment": segment, "n_seizures": len(rec.seizures),
        })
        for k, (onset, offset) in enumerate(rec.seizures, start=1):
            if offset > rec.duration + SEIZURE_END_TOLERANCE_S:  # False for an unknown (NaN) duration
                events = rec.bids_path.copy().update(suffix="events", extension=".tsv").fpath
                raise EEGDataError(
                    f"{events}: seizure {k} ends at {offset:g} s, after the end of the recording "
                    f"({rec.duration:g} s)"
                )
            seizure_rows.append({
                "subject": subject, "recording": name, "onset": onset, "offset": offset,
                "t_onset": t_start + onset, "t_offset": t_start + offset,
            })
    return rec_rows, seizure_rows


def _tables(rec_rows: list[dict], seizure_rows: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two index tables, typed and sorted exactly as :func:`~sklearn_eeg.data.chbmit.load_index` does."""
    recordings = pd.DataFrame(rec_rows, columns=_RECORDING_COLUMNS)
    recordings = recordings.sort_values(["subject", "t_file_start"], kind="stable").reset_index(drop=True)
    recordings = recordings.astype({"segment": np.int64, "n_seizures": np.int64, "duration": float})
    seizures = pd.DataFrame(seizure_rows, columns=_SEIZURE_COLUMNS)
    seizures = seizures.sort_values(["subject", "t_onset"], kind="stable").reset_index(drop=True)
    rank = seizures.groupby("subject").cumcount() + 1
    seizures.insert(2, "seizure_id", seizures["subject"] + "_s" + rank.map("{:02d}".format))
    return recordings, seizures


def load_bids_index(
    data_root: str | os.PathLike, subjects: Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Index the recordings and seizures of a BIDS-EEG dataset on per-subject timelines.

    The EDF signal itself is read later by :func:`~sklearn_eeg.data.read_edf` (fast, canonical
    channel mapping), so :func:`mne_bids.read_raw_bids` is not needed: only the paths and the TSV
    sidecars are read here.

    Parameters
    ----------
    data_root : str or path-like
        BIDS root (``sub-*/[ses-*/]eeg/*_eeg.edf`` with ``*_events.tsv`` and ``*_scans.tsv``).
    subjects : sequence of str or None, default=None
        Subjects to index, as ``sub-<label>`` (``"sub-01"``); None indexes every subject.

    Returns
    -------
    recordings : DataFrame
        One row per ``*_eeg.edf``: ``subject, recording, path, t_file_start, duration, t_file_end,
        segment, n_seizures`` (the contract of :func:`~sklearn_eeg.data.chbmit.load_index`; the
        module docstring says how the timeline is built).
    seizures : DataFrame
        One row per seizure event: ``subject, recording, seizure_id, onset, offset, t_onset,
        t_offset``; ``seizure_id`` is ``sub-01_s01``... in time order per subject.

    Raises
    ------
    EEGDataError
        If ``data_root`` is not a directory, a requested subject is absent, a TSV file is malformed
        or unsafe, or a seizure ends after its recording.

    Examples
    --------
    >>> recordings, seizures = load_bids_index("data/synth_bids")  # doctest: +SKIP
    >>> seizures.loc[0, "seizure_id"]  # doctest: +SKIP
    'sub-01_s01'
    """
    root = Path(data_root)
    available = find_bids_subjects(root)
    subjects = select_subjects(subjects, available, lambda missing: EEGDataError(
        f"data_root {root}: no BIDS subjects {missing} (subjects are named like "
        f"{available[0] if available else 'sub-01'})"
    ))
    rec_rows: list[dict] = []
    seizure_rows: list[dict] = []
    for subject in subjects:
        recs, seizures = _subject_tables(root, subject)
        rec_rows += recs
        seizure_rows += seizures
    return _tables(rec_rows, seizure_rows)
