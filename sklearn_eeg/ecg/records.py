"""Reading one ECG record (WFDB or EDF) into a ``(n_leads, n_times)`` float32 array in millivolts.

A record is named as in the label table: a path relative to the data folder without extension
(PTB-XL's ``records100/00000/00001_lr``). ``<name>.hea`` (WFDB, read with the ``wfdb`` package) is
used when present, else ``<name>.edf`` (read with :func:`sklearn_eeg.data.edf.read_edf`). Leads are
matched by name, case-insensitively, and returned in the requested order; a record at another
sampling rate is resampled (:func:`sklearn_eeg.data.recording.resample_signal`); a longer record is
cut to its first ``n_times`` samples, a shorter one is an error. Every problem raises
:class:`ECGDataError` naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import wfdb

from sklearn_eeg.data.edf import read_edf
from sklearn_eeg.data.recording import EEGDataError, resample_signal

__all__ = ["ECGDataError", "ECG_LEADS", "find_record", "read_ecg_record"]

ECG_LEADS = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")
"""The eight independent leads of a 12-lead ECG (III, aVR, aVL and aVF are sums of I and II)."""

_MV_PER_UNIT = {"MV": 1.0, "UV": 1e-3, "V": 1e3, "NV": 1e-6}


class ECGDataError(EEGDataError):
    """An ECG record or label table that cannot be used; the message names the file and the field."""


def find_record(data_root: str | os.PathLike, record: str) -> Path:
    """The file of ``record`` under ``data_root``: ``<record>.hea`` (WFDB), else ``<record>.edf``.

    Raises
    ------
    ECGDataError
        When neither file exists.
    """
    base = Path(data_root) / str(record)
    for suffix in (".hea", ".edf"):
        path = base.with_name(base.name + suffix) if base.suffix.lower() != suffix else base
        if path.is_file():
            return path
    raise ECGDataError(f"record {record!r} listed in the label table is missing: no {base}.hea or {base}.edf")


def _lead_rows(names: Sequence[str], leads: Sequence[str], path: Path) -> list[int]:
    """Row of each requested lead among the file's signal names (case- and space-insensitive)."""
    index = {name.strip().upper().replace(" ", ""): i for i, name in reversed(list(enumerate(names)))}
    missing = [lead for lead in leads if lead.strip().upper().replace(" ", "") not in index]
    if missing:
        raise ECGDataError(f"{path}: leads {missing} not in the file (it has {list(names)})")
    return [index[lead.strip().upper().replace(" ", "")] for lead in leads]


def _read_wfdb(path: Path, leads: Sequence[str]) -> tuple[list[np.ndarray], float]:
    """Requested leads of a WFDB record in mV, and its sampling rate."""
    try:
        record = wfdb.rdrecord(str(path.with_suffix("")))
    except Exception as exc:  # wfdb raises many kinds: a malformed header, a data file that disagrees with it...
        raise ECGDataError(f"{path}: unreadable WFDB record, its header is malformed or disagrees with its data file "
                           f"({type(exc).__name__}: {exc})") from None
    rows = _lead_rows(record.sig_name or [], leads, path)
    signals = []
    for lead, row in zip(leads, rows):
        unit = (record.units[row] or "mV").strip().replace("\u00b5", "u").upper()
        if unit not in _MV_PER_UNIT:
            raise ECGDataError(f"{path}: lead {lead} has unit {record.units[row]!r}; expected mV, uV or V")
        signals.append((record.p_signal[:, row] * _MV_PER_UNIT[unit]).astype(np.float32))
    return signals, float(record.fs)


def read_ecg_record(
    path: str | os.PathLike, leads: Sequence[str] = ECG_LEADS, *, sfreq: float = 100.0, n_times: int = 1000
) -> np.ndarray:
    """One ECG record as a float32 array in millivolts, leads in the requested order.

    Parameters
    ----------
    path : str or path-like
        A WFDB header (``.hea``, its ``.dat`` beside it) or an EDF file (``.edf``).
    leads : sequence of str, default=ECG_LEADS
        Lead names to return, in this order.
    sfreq : float, default=100.0
        Output sampling rate in Hz (other rates are resampled).
    n_times : int, default=1000
        Samples per record at ``sfreq``: the first ``n_times`` are kept.

    Returns
    -------
    ndarray of shape (n_leads, n_times), float32
        Millivolts.

    Raises
    ------
    ECGDataError
        A missing or unreadable file, a missing lead, an unknown unit, a header that disagrees with its
        data, a record shorter than ``n_times``, or a value that is not finite.

    Examples
    --------
    >>> import numpy as np, tempfile, wfdb
    >>> d = tempfile.mkdtemp()
    >>> wfdb.wrsamp("r1", fs=100, units=["mV", "mV"], sig_name=["I", "II"], p_signal=np.zeros((1000, 2)),
    ...             fmt=["16", "16"], write_dir=d)
    >>> read_ecg_record(f"{d}/r1.hea", ["II", "I"]).shape
    (2, 1000)
    """
    path = Path(path)
    if not path.is_file():
        raise ECGDataError(f"{path}: no such file")
    if path.suffix.lower() == ".hea":
        signals, rate = _read_wfdb(path, leads)
    elif path.suffix.lower() == ".edf":
        recording = read_edf(path, list(leads), sfreq=sfreq)  # µV, resampled; MissingChannelsError names the file
        signals, rate = list(recording.data / np.float32(1000.0)), float(sfreq)
    else:
        raise ECGDataError(f"{path}: not a WFDB header (.hea) or an EDF file (.edf)")
    rows = [resample_signal(s, rate, sfreq, name=lead, source=path) for s, lead in zip(signals, leads)]
    data = np.stack(rows).astype(np.float32, copy=False)
    if data.shape[1] < n_times:
        raise ECGDataError(
            f"{path}: {data.shape[1] / sfreq:g} s at {sfreq:g} Hz is shorter than the {n_times / sfreq:g} s a record needs"
        )
    data = data[:, :n_times]
    if not np.isfinite(data).all():
        raise ECGDataError(f"{path}: contains NaN or infinite samples")
    return np.ascontiguousarray(data)
