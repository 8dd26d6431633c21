"""EDF reading with canonical channel selection and ordering.

A small numpy decoder of the EDF/EDF+ data layout (validated against
``mne.io.read_raw_edf`` in the tests): header fields are parsed once, the data
records are read as little-endian int16 in one call, and only the requested
signals are scaled to microvolts (float32).

Channel names are matched after normalisation (upper case, spaces removed, an
``EEG`` prefix dropped), so ``"Fp1-F7"`` and ``"FP1 - F7"`` both match
``"FP1-F7"``. When a name occurs twice (CHB-MIT's ``T8-P8``) the first
occurrence is used; dummy ``-``/``.`` channels are ignored.

:func:`read_edf` also accepts an ``mne.io.Raw`` (see :mod:`sklearn_eeg.data.mne_input`): the same
channel rules apply to its channel names, its units come from ``raw.info``.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from .mne_input import is_mne_raw, raw_to_recording
from .recording import (
    ANNOTATION_LABELS,
    CANONICAL_CHANNELS,
    EEGDataError,
    EEGRecording,
    MissingChannelsError,
    assemble_recording,
    check_read_args,
    match_channels,
    normalize_channel_name,
    resample_signal,
)

if TYPE_CHECKING:
    import mne

__all__ = [
    "CANONICAL_CHANNELS",
    "CorruptEDFError",
    "EEGDataError",
    "EEGRecording",
    "MissingChannelsError",
    "normalize_channel_name",
    "read_edf",
    "read_edf_header",
]

logger = logging.getLogger(__name__)

_UNIT_TO_UV = {"": 1.0, "UV": 1.0, "MV": 1e3, "V": 1e6, "NV": 1e-3}

# Per-signal header fields: (name, width in bytes), in file order.
_SIGNAL_FIELDS = (
    ("label", 16),
    ("transducer", 80),
    ("physical_dimension", 8),
    ("physical_min", 8),
    ("physical_max", 8),
    ("digital_min", 8),
    ("digital_max", 8),
    ("prefiltering", 80),
    ("n_samples", 8),
    ("reserved", 32),
)


class CorruptEDFError(EEGDataError):
    """Raised when an EDF file is truncated or its header is malformed."""


def _field_text(raw: bytes) -> str:
    return raw.decode("latin-1").strip()


def _parse_number(raw: bytes, path: str, what: str, kind: type = float) -> float:
    text = _field_text(raw)
    try:
        value = float(text)
    except ValueError:
        raise CorruptEDFError(f"{path}: header field {what!r} is not a number: {text!r}") from None
    if kind is int:
        if not (np.isfinite(value) and value == int(value)):
            raise CorruptEDFError(f"{path}: header field {what!r} is not a whole number: {text!r}")
        return int(value)
    return value


def _parse_header(path: str) -> dict:
    """Parse the fixed and per-signal EDF header of ``path`` (no signal data is read)."""
    try:
        file_size = os.path.getsize(path)
        with open(path, "rb") as fh:
            fixed = fh.read(256)
            if len(fixed) < 256:
                raise CorruptEDFError(f"{path}: not an EDF file (only {len(fixed)} bytes)")
            n_signals = _parse_number(fixed[252:256], path, "number of signals", int)
            if n_signals <= 0:
                raise CorruptEDFError(f"{path}: header declares {n_signals} signals")
            sig_raw = fh.read(256 * n_signals)
    except FileNotFoundError:
        raise EEGDataError(f"{path}: file not found") from None
    except OSError as exc:
        raise EEGDataError(f"{path}: cannot read ({exc})") from exc
    if _field_text(fixed[0:8]) != "0":
        raise CorruptEDFError(f"{path}: not an EDF file (version field {fixed[0:8]!r})")
    if len(sig_raw) < 256 * n_signals:
        raise CorruptEDFError(f"{path}: truncated header ({n_signals} signals declared)")
    header_bytes = _parse_number(fixed[184:192], path, "header bytes", int)
    if header_bytes != 256 * (n_signals + 1):
        raise CorruptEDFError(
            f"{path}: header size {header_bytes} does not match {n_signals} signals"
        )
    signals: dict[str, list] = {}
    offset = 0
    for name, width in _SIGNAL_FIELDS:
        chunk = sig_raw[offset : offset + width * n_signals]
        signals[name] = [chunk[i * width : (i + 1) * width] for i in range(n_signals)]
        offset += width * n_signals
    labels = [_field_text(b) for b in signals["label"]]
    n_samples = [_parse_number(b, path, f"samples of {lab!r}", int) for b, lab in zip(signals["n_samples"], labels)]
    numeric = {
        key: np.array([_parse_number(b, path, f"{key} of {lab!r}") for b, lab in zip(signals[key], labels)])
        for key in ("physical_min", "physical_max", "digital_min", "digital_max")
    }
    if any(n <= 0 for n in n_samples):
        raise CorruptEDFError(f"{path}: non-positive samples per record {n_samples}")
    _check_scaling(path, labels, numeric)
    record_duration = _parse_number(fixed[244:252], path, "record duration")
    if not (np.isfinite(record_duration) and record_duration > 0):
        raise CorruptEDFError(f"{path}: header field 'record duration' is {record_duration}, not a positive number")
    n_records = _parse_number(fixed[236:244], path, "number of records", int)
    record_bytes = 2 * sum(n_samples)
    data_bytes = file_size - header_bytes
    if n_records < 0:  # allowed by the standard while recording: the file's size decides
        n_records = data_bytes // record_bytes
        if data_bytes % record_bytes:
            raise CorruptEDFError(
                f"{path}: {data_bytes} data bytes are not a whole number of {record_bytes}-byte records "
                "(a 'samples' header field is wrong or the file is truncated)"
            )
    elif data_bytes != n_records * record_bytes:
        problem = "truncated" if data_bytes < n_records * record_bytes else "size does not match its header"
        raise CorruptEDFError(
            f"{path}: {problem}: header declares {n_records} data records of {record_bytes} bytes "
            f"({n_records * record_bytes} bytes) but the file holds {data_bytes} data bytes "
            "(check the 'number of records' and 'samples' header fields)"
        )
    return {
        "labels": labels,
        "units": [_field_text(b) for b in signals["physical_dimension"]],
        "n_samples": n_samples,
        "record_duration": record_duration,
        "n_records": n_records,
        "header_bytes": header_bytes,
        "start_date": _field_text(fixed[168:176]),
        "start_time": _field_text(fixed[176:184]),
        **numeric,
    }


def _check_scaling(path: str, labels: Sequence[str], numeric: dict[str, np.ndarray]) -> None:
    """Every signal's digital range must be increasing and its physical range finite and non-empty."""
    for i, label in enumerate(labels):
        dmin, dmax = numeric["digital_min"][i], numeric["digital_max"][i]
        pmin, pmax = numeric["physical_min"][i], numeric["physical_max"][i]
        if not (np.isfinite([dmin, dmax]).all() and dmax > dmin):
            raise CorruptEDFError(f"{path}: channel {label!r}: digital max {dmax:g} is not above digital min {dmin:g}")
        if not (np.isfinite([pmin, pmax]).all() and max(abs(pmin), abs(pmax)) < 1e30 and pmax != pmin):
            raise CorruptEDFError(
                f"{path}: channel {label!r}: physical range [{pmin:g}, {pmax:g}] is not a finite, non-empty range"
            )


def _is_annotation(label: str) -> bool:
    return normalize_channel_name(label) in ANNOTATION_LABELS


def read_edf_header(path: str | os.PathLike) -> dict:
    """Read the header of an EDF file without reading the signals.

    Parameters
    ----------
    path : str or path-like
        EDF file.

    Returns
    -------
    dict
        ``n_times`` (samples at ``sfreq``), ``sfreq`` (the most common signal rate, Hz),
        ``duration`` (s), ``ch_names`` (signal labels as in the file, annotation signals
        excluded), ``signal_sfreqs`` (per channel), ``n_records``, ``record_duration``,
        ``start_date`` and ``start_time`` (header strings ``dd.mm.yy``/``hh.mm.ss``).

    Raises
    ------
    EEGDataError
        If the file is missing, not EDF, or truncated.
    """
    path = str(path)
    head = _parse_header(path)
    keep = [i for i, lab in enumerate(head["labels"]) if not _is_annotation(lab)]
    rates = [head["n_samples"][i] / head["record_duration"] for i in keep]
    if not rates:
        raise EEGDataError(f"{path}: no signal channels (only annotations)")
    counts = Counter(rates)
    sfreq = max(counts, key=lambda r: (counts[r], r))
    duration = head["n_records"] * head["record_duration"]
    return {
        "n_times": int(round(duration * sfreq)),
        "sfreq": float(sfreq),
        "duration": float(duration),
        "ch_names": [head["labels"][i] for i in keep],
        "signal_sfreqs": [float(r) for r in rates],
        "n_records": head["n_records"],
        "record_duration": head["record_duration"],
        "start_date": head["start_date"],
        "start_time": head["start_time"],
    }


def _to_uv(unit: str, path: str, label: str) -> float:
    """Factor converting a signal's physical unit to microvolts (1 for an empty unit)."""
    key = unit.strip().replace("\u00b5", "u").replace("\u03bc", "u").upper()
    if key in _UNIT_TO_UV:
        return _UNIT_TO_UV[key]
    logger.info("%s: unknown unit %r for channel %s; values kept as stored", path, unit, label)
    return 1.0


def _decode_signal(head: dict, digital: np.ndarray, idx: int, path: str) -> np.ndarray:
    """Scale one signal's int16 samples (n_records, samples_per_record) to float32 µV."""
    label = head["labels"][idx]
    dmin, dmax = head["digital_min"][idx], head["digital_max"][idx]
    pmin, pmax = head["physical_min"][idx], head["physical_max"][idx]
    to_uv = _to_uv(head["units"][idx], path, label)
    scale = (pmax - pmin) / (dmax - dmin)
    signal = digital.reshape(-1).astype(np.float32)
    signal *= np.float32(to_uv * scale)
    signal += np.float32(to_uv * (pmin - scale * dmin))
    return signal


def read_edf(
    path: str | os.PathLike | mne.io.BaseRaw,
    channels: Sequence[str] | None = CANONICAL_CHANNELS,
    *,
    sfreq: float = 256.0,
    missing: Literal["skip", "zero"] = "skip",
) -> EEGRecording:
    """Read an EDF file (or convert an ``mne.io.Raw``) into microvolts, with channels in a fixed order.

    Parameters
    ----------
    path : str, path-like or mne.io.BaseRaw
        EDF file. An MNE ``Raw`` object is converted instead of reading a file, by
        :func:`~sklearn_eeg.data.mne_input.raw_to_recording` with the same channel rules
        (units and sampling rate from ``raw.info``).
    channels : sequence of str or None, default=CANONICAL_CHANNELS
        Channel names to return, in this order (matched case- and space-insensitively).
        None returns every signal of the file (annotation and dummy signals excluded,
        duplicates keep the first occurrence).
    sfreq : float, default=256.0
        Output sampling rate; signals at another rate are resampled with
        :func:`scipy.signal.resample_poly` (and logged).
    missing : {"skip", "zero"}, default="skip"
        What to do when a requested channel is absent: ``"skip"`` raises
        :class:`MissingChannelsError` (the caller skips the file), ``"zero"`` fills the
        row with zeros and sets its ``mask`` entry to False.

    Returns
    -------
    EEGRecording
        ``data`` of shape (n_channels, n_times), float32, in µV.

    Raises
    ------
    MissingChannelsError
        If ``missing="skip"`` and a requested channel is absent.
    CorruptEDFError
        If the file is truncated or its header malformed.
    EEGDataError
        Any other unreadable file.

    Examples
    --------
    >>> rec = read_edf("chb01_03.edf")  # doctest: +SKIP
    >>> rec.data.shape  # doctest: +SKIP
    (18, 921600)
    >>> raw = mne.io.read_raw_edf("chb01_03.edf")  # doctest: +SKIP
    >>> read_edf(raw).data.shape  # doctest: +SKIP
    (18, 921600)
    """
    if is_mne_raw(path):
        return raw_to_recording(path, channels, sfreq=sfreq, missing=missing)
    path = str(path)
    check_read_args(sfreq, missing)
    head = _parse_header(path)
    labels = head["labels"]
    channels, chosen, dropped = match_channels(labels, channels, missing, path)

    n_samples = head["n_samples"]
    record_len = sum(n_samples)
    n_records = head["n_records"]
    try:
        raw = np.fromfile(path, dtype="<i2", count=n_records * record_len, offset=head["header_bytes"])
    except (OSError, ValueError) as exc:
        raise CorruptEDFError(f"{path}: cannot read data records ({exc})") from exc
    if raw.size != n_records * record_len:
        raise CorruptEDFError(f"{path}: truncated data ({raw.size} of {n_records * record_len} samples)")
    records = raw.reshape(n_records, record_len)

    starts = np.concatenate([[0], np.cumsum(n_samples)])
    rows: dict[str, np.ndarray] = {}
    for name, idx in chosen.items():
        signal = _decode_signal(head, records[:, starts[idx] : starts[idx + 1]], idx, path)
        rate = n_samples[idx] / head["record_duration"]
        rows[name] = resample_signal(signal, rate, sfreq, name=labels[idx], source=path)
    return assemble_recording(
        rows,
        channels,
        sfreq=sfreq,
        n_times_if_empty=int(round(n_records * head["record_duration"] * sfreq)),
        dropped=dropped,
        source=path,
    )


