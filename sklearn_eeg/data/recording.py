"""An EEG recording in a fixed channel order: the object every reader returns, and the rules that build it.

Channel names are matched case- and space-insensitively (``"EEG Fp1 - F7"`` is ``FP1-F7``), the first
of duplicate names is used, dummy (``-``) and annotation signals are ignored, other rates are
resampled, and absent channels are refused or zero-filled. The EDF reader
(:mod:`sklearn_eeg.data.edf`) and the MNE converters (:mod:`sklearn_eeg.data.mne_input`) share them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

import numpy as np
from scipy.signal import resample_poly

__all__ = [
    "ANNOTATION_LABELS",
    "CANONICAL_CHANNELS",
    "DUMMY_NAMES",
    "EEGDataError",
    "EEGRecording",
    "MissingChannelsError",
    "assemble_recording",
    "check_read_args",
    "first_indices",
    "flat_channels",
    "match_channels",
    "normalize_channel_name",
    "resample_signal",
]

logger = logging.getLogger(__name__)

CANONICAL_CHANNELS: tuple[str, ...] = (
    "FP1-F7", "F7-T7", "T7-P7", "P7-O1",
    "FP1-F3", "F3-C3", "C3-P3", "P3-O1",
    "FP2-F4", "F4-C4", "C4-P4", "P4-O2",
    "FP2-F8", "F8-T8", "T8-P8", "P8-O2",
    "FZ-CZ", "CZ-PZ",
)  # fmt: skip

EEG_PREFIX = re.compile(r"^EEG\s+", re.IGNORECASE)
DUMMY_NAMES = frozenset({"", "-", "."})
ANNOTATION_LABELS = frozenset({"EDFANNOTATIONS", "BDFANNOTATIONS"})


class EEGDataError(Exception):
    """Raised when an EEG file or its annotations cannot be used; names the file."""


class MissingChannelsError(EEGDataError):
    """Raised when requested channels are absent from a file (``missing="skip"``)."""


@dataclass
class EEGRecording:
    """Signals of one EDF file in a fixed channel order.

    Attributes
    ----------
    data : ndarray of shape (n_channels, n_times), float32
        Signals in microvolts; rows of missing channels are zero.
    sfreq : float
        Sampling rate in Hz after any resampling.
    ch_names : tuple of str
        Channel names in the requested (canonical) order.
    mask : ndarray of shape (n_channels,), bool
        False where a channel was missing and zero-filled.
    dropped : tuple of str
        Names of file signals that were not used (extra, duplicate, dummy, annotation).
    path : str
        The file read.
    flat_channels : tuple of str
        Present channels that are constant or hold no finite value.
    """

    data: np.ndarray
    sfreq: float
    ch_names: tuple[str, ...]
    mask: np.ndarray
    dropped: tuple[str, ...]
    path: str
    flat_channels: tuple[str, ...] = field(default=())

    @property
    def n_times(self) -> int:
        """Number of samples per channel."""
        return int(self.data.shape[1])

    @property
    def duration(self) -> float:
        """Duration in seconds."""
        return self.n_times / self.sfreq


def normalize_channel_name(name: str) -> str:
    """Return a channel name in comparable form: upper case, no spaces, no ``EEG`` prefix.

    Parameters
    ----------
    name : str
        Channel label as written in a file or summary.

    Returns
    -------
    str
        e.g. ``"Fp1 - F7"`` -> ``"FP1-F7"``, ``"EEG FP1-REF"`` -> ``"FP1-REF"``.
    """
    return "".join(EEG_PREFIX.sub("", name.strip()).split()).upper()


def first_indices(labels: Sequence[str]) -> dict[str, int]:
    """Map each normalised signal name to its first index, skipping annotation and dummy signals."""
    first: dict[str, int] = {}
    for idx, label in enumerate(labels):
        norm = normalize_channel_name(label)
        if norm in DUMMY_NAMES or norm in ANNOTATION_LABELS:
            continue
        first.setdefault(norm, idx)
    return first


def resample_signal(signal: np.ndarray, rate: float, sfreq: float, *, name: str, source: object) -> np.ndarray:
    """One channel's ``signal`` at ``rate`` Hz brought to ``sfreq`` Hz (as is when the rates agree).

    Resampling uses :func:`scipy.signal.resample_poly` and is logged naming ``source`` and the
    channel ``name``, so every reader (EDF, MNE Raw) resamples and reports it the same way.
    """
    if np.isclose(rate, sfreq):
        return signal
    logger.info("%s: resampling %s from %g Hz to %g Hz", source, name, rate, sfreq)
    ratio = Fraction(sfreq / rate).limit_denominator(1000)
    return resample_poly(signal, ratio.numerator, ratio.denominator).astype(np.float32, copy=False)


def check_read_args(sfreq: float, missing: str) -> None:
    """Validate the ``sfreq`` and ``missing`` arguments shared by every recording reader."""
    if missing not in ("skip", "zero"):
        raise ValueError(f"missing must be 'skip' or 'zero', got {missing!r}")
    if not sfreq or sfreq <= 0:
        raise ValueError(f"sfreq must be positive, got {sfreq!r}")


def match_channels(
    labels: Sequence[str],
    channels: Sequence[str] | str | None,
    missing: Literal["skip", "zero"],
    source: str,
) -> tuple[list[str], dict[str, int], list[str]]:
    """Match requested channel names to a source's signal labels (normalised, first occurrence).

    Parameters
    ----------
    labels : sequence of str
        Signal labels of the source, in source order.
    channels : sequence of str, str or None
        Requested names in output order; None: every signal (annotation and dummy signals
        excluded, duplicates once).
    missing : {"skip", "zero"}
        ``"skip"`` raises :class:`MissingChannelsError` when a requested channel is absent.
    source : str
        File path (or object description) named in messages.

    Returns
    -------
    channels : list of str
        The requested names (resolved when None was given).
    chosen : dict str -> int
        Each present requested name -> index of its signal in ``labels``.
    dropped : list of str
        Labels that were not used.
    """
    if isinstance(channels, str):
        channels = [channels]
    first = first_indices(labels)
    if channels is None:
        channels = [labels[idx] for idx in sorted(first.values())]
    channels = list(channels)
    chosen = {name: first[normalize_channel_name(name)] for name in channels if normalize_channel_name(name) in first}
    used = set(chosen.values())
    dropped = [label for idx, label in enumerate(labels) if idx not in used]
    absent = [name for name in channels if name not in chosen]
    if absent and missing == "skip":
        raise MissingChannelsError(f"{source}: missing channels {absent} (file has {list(labels)})")
    if absent:
        logger.info("%s: zero-filling missing channels %s", source, absent)
    if dropped:
        logger.debug("%s: dropped channels %s", source, dropped)
    return channels, chosen, dropped


def assemble_recording(
    rows: dict[str, np.ndarray],
    channels: Sequence[str],
    *,
    sfreq: float,
    n_times_if_empty: int,
    dropped: Sequence[str],
    source: str,
) -> EEGRecording:
    """Stack decoded rows (µV, float32, at ``sfreq``) in ``channels`` order; zero rows where absent."""
    n_times = min((len(r) for r in rows.values()), default=n_times_if_empty)
    data = np.zeros((len(channels), n_times), dtype=np.float32)
    mask = np.zeros(len(channels), dtype=bool)
    for i, name in enumerate(channels):
        if name in rows:
            data[i] = rows[name][:n_times]
            mask[i] = True
    flat = flat_channels(data, mask, channels)
    if flat:
        logger.warning("%s: flat or non-finite channels %s", source, flat)
    return EEGRecording(
        data=data,
        sfreq=float(sfreq),
        ch_names=tuple(channels),
        mask=mask,
        dropped=tuple(dropped),
        path=source,
        flat_channels=flat,
    )


def flat_channels(data: np.ndarray, mask: np.ndarray, names: Sequence[str]) -> tuple[str, ...]:
    """Names of present channels that hold no finite value or a constant one."""
    flat = []
    for row, present, name in zip(data, mask, names):
        if not present:
            continue
        finite = row[np.isfinite(row)]
        if finite.size == 0 or finite.min() == finite.max():
            flat.append(name)
    return tuple(flat)
