"""A small EDF (European Data Format) writer, numpy only.

Follows the EDF specification (Kemp et al. 1992): a 256-byte fixed header, then 256 bytes of
per-signal header fields (stored field by field, each field repeated for every signal), then the
data records. Every data record holds ``record_duration`` seconds of every signal as little-endian
int16 samples; digital values map linearly onto the physical range
``[physical_min, physical_max]``. The defaults reproduce the CHB-MIT files: µV, ±800 µV physical
range, 12-bit digital range (-2048..2047), 1-s data records.

Why not edfio (which the tests use to write third-party-style files): this writer produces the
plain-EDF identification fields of the CHB-MIT files (local patient ``Surrogate Name``, a free
local recording field such as ``01``), where edfio's public API writes EDF+ subfields
(``Startdate dd-MMM-yyyy ...``); and it scales float32 signals in float32, without a float64 copy
of an hour-long file, which keeps the synthetic datasets (and every number measured on them)
bit-identical. Its data records equal edfio's byte for byte for float64 input
(``tests/test_edf.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["write_edf"]


def _field(value: object, width: int, name: str) -> bytes:
    """Left-justify ``value`` as ASCII in a field of ``width`` bytes."""
    text = str(value)
    if len(text) > width:
        raise ValueError(f"EDF header field {name!r}={text!r} is longer than {width} characters")
    try:
        return text.ljust(width).encode("ascii")
    except UnicodeEncodeError as exc:
        raise ValueError(f"EDF header field {name!r}={text!r} must be ASCII") from exc


def _number(value: float) -> str:
    """Format a number in at most 8 characters (EDF numeric header fields)."""
    if float(value).is_integer() and abs(value) < 1e7:
        return str(int(value))
    for digits in range(8, 0, -1):
        text = f"{value:.{digits}g}"
        if len(text) <= 8:
            return text
    raise ValueError(f"cannot format {value!r} in 8 characters for an EDF header")


def _per_signal(value: float | Sequence[float], n_signals: int, name: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(value, dtype=float), (n_signals,))
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return arr


def write_edf(
    path: str | Path,
    data: np.ndarray,
    sfreq: float,
    ch_names: Sequence[str],
    *,
    start: dt.datetime = dt.datetime(2001, 1, 1),
    units: str = "uV",
    physical_min: float | Sequence[float] = -800.0,
    physical_max: float | Sequence[float] = 800.0,
    digital_min: int = -2048,
    digital_max: int = 2047,
    record_duration: float = 1.0,
    patient_id: str = "Surrogate Name",
    recording_id: str = "",
) -> Path:
    """Write signals to an EDF file.

    Parameters
    ----------
    path : str or Path
        Output file; its parent folder must exist.
    data : ndarray of shape (n_signals, n_times)
        Signals in physical units (``units``). Values outside the physical range are clipped.
        ``n_times`` must be a whole number of data records.
    sfreq : float
        Sampling frequency in Hz; ``sfreq * record_duration`` must be an integer.
    ch_names : sequence of str
        Signal labels (at most 16 ASCII characters each); duplicates are allowed, as in CHB-MIT.
    start : datetime, default=2001-01-01 00:00:00
        Recording start written to the header (``dd.mm.yy`` and ``hh.mm.ss``).
    units : str, default="uV"
        Physical dimension of every signal.
    physical_min, physical_max : float or sequence of float, default=-800, 800
        Physical range, one value for all signals or one per signal.
    digital_min, digital_max : int, default=-2048, 2047
        Digital range, within the int16 range.
    record_duration : float, default=1.0
        Duration of a data record in seconds.
    patient_id, recording_id : str
        Local patient and recording identification (at most 80 characters).

    Returns
    -------
    path : Path
        The file written.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "x.edf"
    >>> write_edf(out, np.zeros((2, 512)), 256, ["FP1-F7", "F7-T7"]).stat().st_size
    2816
    """
    path = Path(path)
    data = np.asarray(data)
    if data.ndim != 2:
        raise ValueError(f"data for {path} must be 2-D (n_signals, n_times), got shape {data.shape}")
    n_signals, n_times = data.shape
    if len(ch_names) != n_signals:
        raise ValueError(f"ch_names for {path} has {len(ch_names)} names for {n_signals} signals")
    samples_per_record = sfreq * record_duration
    if sfreq <= 0 or record_duration <= 0 or not float(samples_per_record).is_integer():
        raise ValueError(
            f"sfreq * record_duration must be a positive integer for {path}, got {sfreq} * {record_duration}"
        )
    spr = int(samples_per_record)
    if n_times % spr:
        raise ValueError(
            f"n_times={n_times} for {path} is not a whole number of {record_duration}-s data records"
        )
    if not (-32768 <= digital_min < digital_max <= 32767):
        raise ValueError(f"digital range [{digital_min}, {digital_max}] must lie within int16")
    pmin = _per_signal(physical_min, n_signals, "physical_min")
    pmax = _per_signal(physical_max, n_signals, "physical_max")
    if np.any(pmax <= pmin):
        raise ValueError("physical_max must exceed physical_min for every signal")
    n_records = n_times // spr

    header_bytes = 256 * (n_signals + 1)
    header = b"".join(
        [
            _field("0", 8, "version"),
            _field(patient_id, 80, "patient_id"),
            _field(recording_id, 80, "recording_id"),
            _field(start.strftime("%d.%m.%y"), 8, "startdate"),
            _field(start.strftime("%H.%M.%S"), 8, "starttime"),
            _field(header_bytes, 8, "header bytes"),
            _field("", 44, "reserved"),
            _field(n_records, 8, "number of data records"),
            _field(_number(record_duration), 8, "record_duration"),
            _field(n_signals, 4, "number of signals"),
        ]
    )
    per_signal_fields = [
        ([name for name in ch_names], 16, "label"),
        ([""] * n_signals, 80, "transducer"),
        ([units] * n_signals, 8, "units"),
        ([_number(v) for v in pmin], 8, "physical_min"),
        ([_number(v) for v in pmax], 8, "physical_max"),
        ([digital_min] * n_signals, 8, "digital_min"),
        ([digital_max] * n_signals, 8, "digital_max"),
        ([""] * n_signals, 80, "prefiltering"),
        ([spr] * n_signals, 8, "samples per record"),
        ([""] * n_signals, 32, "reserved"),
    ]
    header += b"".join(_field(v, width, name) for values, width, name in per_signal_fields for v in values)

    # digital = (physical - pmin) * gain + digital_min, rounded and clipped to the digital range
    gain = ((digital_max - digital_min) / (pmax - pmin))[:, None]
    offset = digital_min - pmin[:, None] * gain
    scaled = np.asarray(data, dtype=np.float64 if data.dtype == np.float64 else np.float32) * gain.astype(
        np.float32
    )
    scaled += offset.astype(np.float32)
    np.rint(scaled, out=scaled)
    np.clip(scaled, digital_min, digital_max, out=scaled)
    records = np.empty((n_records, n_signals, spr), dtype="<i2")
    records[...] = scaled.reshape(n_signals, n_records, spr).transpose(1, 0, 2)
    with open(path, "wb") as fh:
        fh.write(header)
        fh.write(records.tobytes())
    return path
