"""MNE-Python objects as input: ``mne.io.Raw`` to a recording, ``mne.Epochs`` to windows.

MNE keeps signals in SI units (EEG in volts) and records each channel's unit in
``info["chs"][i]["unit"]``; this package works in microvolts. The functions here convert with each
channel's own unit (volts x 1e6; a channel in any other unit, e.g. an untyped ``misc`` channel of
``mne.create_info``, is kept as stored, with a warning), take the sampling rate from
``info["sfreq"]`` and keep the channel names.

* :func:`raw_to_recording` returns what :func:`~sklearn_eeg.data.edf.read_edf` returns for an EDF
  file: the requested (canonical) channels matched by the same rules (normalised names, first
  occurrence of a duplicate, dummy channels ignored, ``missing="skip"``/``"zero"``), resampled to
  ``sfreq`` as ``read_edf`` resamples signals of another rate. MNE renames duplicate channels
  ``T8-P8-0``, ``T8-P8-1``; that renaming is undone before matching, so the first ``T8-P8`` is used
  as in ``read_edf``.
* :func:`epochs_to_windows` returns ``(X, sfreq, ch_names)`` with ``X`` float32 µV of shape
  ``(n_windows, n_channels, n_times)``, the layout every window transformer takes (the EEG-type
  channels only, in the Epochs' order: no canonical montage is imposed on windows);
  :func:`raw_to_array` is the same for a continuous Raw (``(n_channels, n_times)``).
* :func:`raw_blocks` hands out a Raw in blocks as :func:`raw_to_recording` would convert them, one
  block read at a time (an online replay in constant memory).

Nothing here imports MNE at import time: :func:`is_mne_raw` and :func:`is_mne_epochs` inspect the
object's class hierarchy by name, so a plain array never triggers an MNE import.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from .recording import (
    CANONICAL_CHANNELS,
    EEGRecording,
    assemble_recording,
    check_read_args,
    match_channels,
    resample_signal,
)

if TYPE_CHECKING:
    import mne

__all__ = ["epochs_to_windows", "is_mne_epochs", "is_mne_raw", "raw_blocks", "raw_to_array", "raw_to_recording"]

logger = logging.getLogger(__name__)

_FIFF_UNIT_V = 107  # FIFF.FIFF_UNIT_V: the unit code of EEG channels in MNE (data in volts)
_RUNNING_NUMBER = re.compile(r"^(.*)-(\d+)$")


def _derives_from(obj: object, class_name: str) -> bool:
    """True when ``obj`` is an instance of MNE's ``class_name`` (or a subclass); imports nothing."""
    if isinstance(obj, np.ndarray):
        return False
    return any(cls.__name__ == class_name and cls.__module__.split(".")[0] == "mne" for cls in type(obj).__mro__)


def is_mne_raw(obj: object) -> bool:
    """Whether ``obj`` is an ``mne.io.BaseRaw`` (``Raw``, ``RawArray``, ``RawEDF``...), without importing MNE.

    Parameters
    ----------
    obj : object

    Returns
    -------
    bool
    """
    return _derives_from(obj, "BaseRaw")


def is_mne_epochs(obj: object) -> bool:
    """Whether ``obj`` is an ``mne.BaseEpochs`` (``Epochs``, ``EpochsArray``...), without importing MNE.

    Parameters
    ----------
    obj : object

    Returns
    -------
    bool
    """
    return _derives_from(obj, "BaseEpochs")


def _uv_factors(info: mne.Info, picks: Sequence[int], source: str) -> np.ndarray:
    """Per-channel factor from MNE's stored unit to µV: 1e6 for volts, 1 (with a warning) for anything else."""
    factors = np.ones(len(picks))
    other = []
    for k, idx in enumerate(picks):
        ch = info["chs"][idx]
        if int(ch["unit"]) == _FIFF_UNIT_V:
            factors[k] = 1e6
        else:
            other.append(f"{ch['ch_name']} ({ch['unit']})")
    if other:
        logger.warning(
            "%s: channels not in volts kept as stored (not converted to µV): %s; if they hold EEG in volts, "
            "set their type, e.g. raw.set_channel_types({name: 'eeg'})",
            source,
            ", ".join(other),
        )
    return factors


def _undo_running_numbers(names: Sequence[str]) -> list[str]:
    """Undo MNE's renaming of duplicate channels (``T8-P8`` twice -> ``T8-P8-0``, ``T8-P8-1``).

    A group ``stem-0``, ``stem-1``, ... ``stem-(n-1)`` (n >= 2, in channel order, ``stem`` itself
    absent) is MNE's doing and gets its ``stem`` back; every other name is unchanged.
    """
    present = set(names)
    groups: dict[str, list[tuple[int, int]]] = {}
    for idx, name in enumerate(names):
        match = _RUNNING_NUMBER.match(name)
        if match and match.group(1) not in present:
            groups.setdefault(match.group(1), []).append((idx, int(match.group(2))))
    out = list(names)
    for stem, members in groups.items():
        if len(members) >= 2 and [number for _, number in members] == list(range(len(members))):
            for idx, _ in members:
                out[idx] = stem
    return out


def _describe(obj: object) -> str:
    """The file an MNE object was read from, else ``<ClassName>`` (for messages and ``path``)."""
    filenames = [f for f in (getattr(obj, "filenames", None) or ()) if f is not None]
    return str(filenames[0]) if filenames else f"<{type(obj).__name__}>"


def raw_to_recording(
    raw: mne.io.BaseRaw,
    channels: Sequence[str] | None = CANONICAL_CHANNELS,
    *,
    sfreq: float | None = 256.0,
    missing: Literal["skip", "zero"] = "skip",
) -> EEGRecording:
    """Convert an ``mne.io.Raw`` to the recording :func:`~sklearn_eeg.data.edf.read_edf` returns.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Any MNE raw object (read from a file or a ``RawArray``); loaded if not preloaded. Bad
        channels (``info["bads"]``) are converted like the others.
    channels : sequence of str or None, default=CANONICAL_CHANNELS
        Channel names to return, in this order, matched to ``raw.ch_names`` exactly as
        ``read_edf`` matches EDF labels (case, spaces and an ``EEG`` prefix ignored; the first
        of duplicate channels used). None returns every channel once.
    sfreq : float or None, default=256.0
        Output sampling rate; a Raw at another rate (``raw.info["sfreq"]``) is resampled with
        :func:`scipy.signal.resample_poly`, as ``read_edf`` resamples. None keeps the Raw's rate.
    missing : {"skip", "zero"}, default="skip"
        As in :func:`~sklearn_eeg.data.edf.read_edf`.

    Returns
    -------
    EEGRecording
        ``data`` of shape (n_channels, n_times), float32, in µV (volts x 1e6, from each
        channel's unit); ``path`` is the Raw's file, or ``"<RawArray>"`` for an in-memory Raw.

    Raises
    ------
    MissingChannelsError
        If ``missing="skip"`` and a requested channel is absent.
    TypeError
        If ``raw`` is not an MNE Raw object.

    Examples
    --------
    >>> import mne, numpy as np
    >>> info = mne.create_info(["Fp1-F7", "F7-T7"], 128.0, ch_types="eeg")
    >>> raw = mne.io.RawArray(np.full((2, 256), 50e-6), info, verbose="error")
    >>> rec = raw_to_recording(raw, ["FP1-F7", "F7-T7"], sfreq=None)
    >>> rec.data.shape, float(rec.data[0, 0]), rec.sfreq
    ((2, 256), 50.0, 128.0)
    """
    if not is_mne_raw(raw):
        raise TypeError(f"raw must be an mne.io.BaseRaw, got {type(raw).__name__}")
    source = _describe(raw)
    raw_sfreq = float(raw.info["sfreq"])
    sfreq = raw_sfreq if sfreq is None else sfreq
    check_read_args(sfreq, missing)
    labels = _undo_running_numbers(raw.ch_names)
    channels, chosen, dropped = match_channels(labels, channels, missing, source)
    picks = list(chosen.values())
    rows: dict[str, np.ndarray] = {}
    if picks:
        factors = _uv_factors(raw.info, picks, source)
        data = raw.get_data(picks=picks)
        for (name, idx), row, factor in zip(chosen.items(), data, factors):
            signal = (row * factor).astype(np.float32)
            rows[name] = resample_signal(signal, raw_sfreq, sfreq, name=raw.ch_names[idx], source=source)
    return assemble_recording(
        rows,
        channels,
        sfreq=sfreq,
        n_times_if_empty=int(round(raw.n_times * sfreq / raw_sfreq)),
        dropped=dropped,
        source=source,
    )


def raw_blocks(
    raw: mne.io.BaseRaw,
    size: int,
    channels: Sequence[str] | None = CANONICAL_CHANNELS,
    *,
    missing: Literal["skip", "zero"] = "skip",
) -> Iterator[np.ndarray]:
    """Hand out an ``mne.io.Raw`` at its own rate in blocks of ``size`` samples, read one at a time.

    Each block is what :func:`raw_to_recording` (with ``sfreq=None``) returns for those samples:
    the same channels in the same order, the same µV values (``missing="zero"`` rows zero). Only one
    block is read at a time (``raw.get_data(start=..., stop=...)``), so a Raw that is not preloaded
    stays on disk: a day-long recording replays in constant memory.

    Parameters
    ----------
    raw : mne.io.BaseRaw
    size : int
        Samples per block (the last block may be shorter).
    channels, missing
        As in :func:`raw_to_recording`.

    Yields
    ------
    block : ndarray of shape (n_channels, n_block_samples), float32

    Examples
    --------
    >>> import mne, numpy as np
    >>> info = mne.create_info(["Fp1-F7", "F7-T7"], 100.0, ch_types="eeg")
    >>> raw = mne.io.RawArray(np.full((2, 250), 3e-6), info, verbose="error")
    >>> [b.shape for b in raw_blocks(raw, 100, ["FP1-F7"])]
    [(1, 100), (1, 100), (1, 50)]
    """
    if not is_mne_raw(raw):
        raise TypeError(f"raw must be an mne.io.BaseRaw, got {type(raw).__name__}")
    if size < 1:
        raise ValueError(f"size must be at least one sample, got {size}")
    source = _describe(raw)
    check_read_args(float(raw.info["sfreq"]), missing)
    channels, chosen, _ = match_channels(_undo_running_numbers(raw.ch_names), channels, missing, source)
    picks = list(chosen.values())
    rows = [channels.index(name) for name in chosen]
    factors = _uv_factors(raw.info, picks, source) if picks else np.ones(0)
    for start in range(0, raw.n_times, size):
        stop = min(start + size, raw.n_times)
        block = np.zeros((len(channels), stop - start), dtype=np.float32)
        if picks:
            data = raw.get_data(picks=picks, start=start, stop=stop)
            for row, values, factor in zip(rows, data, factors):
                block[row] = (values * factor).astype(np.float32)
        yield block


def epochs_to_windows(epochs: mne.BaseEpochs) -> tuple[np.ndarray, float, list[str]]:
    """Convert ``mne.Epochs`` to windows in µV, with their sampling rate and channel names.

    The electrical-potential channels are used (types ``eeg``, ``seeg``, ``ecog``, ``dbs``;
    stimulus, EOG/ECG/EMG, misc and MEG channels are left out), bad channels included, so the
    channel layout does not depend on ``info["bads"]``.

    Parameters
    ----------
    epochs : mne.BaseEpochs
        ``Epochs``, ``EpochsArray`` ...; loaded if not preloaded.

    Returns
    -------
    X : ndarray of shape (n_windows, n_channels, n_times), float32
        In µV (volts x 1e6, from each channel's unit in ``epochs.info``).
    sfreq : float
        ``epochs.info["sfreq"]``.
    ch_names : list of str
        The channel names of the rows of ``X``, as in ``epochs.ch_names``.

    Raises
    ------
    TypeError
        If ``epochs`` is not an MNE Epochs object.
    ValueError
        If the Epochs hold no EEG, sEEG, ECoG or DBS channel.

    Examples
    --------
    >>> import mne, numpy as np
    >>> info = mne.create_info(["Fp1-F7", "F7-T7"], 128.0, ch_types="eeg")
    >>> epochs = mne.EpochsArray(np.full((3, 2, 256), 20e-6), info, verbose="error")
    >>> X, sfreq, names = epochs_to_windows(epochs)
    >>> X.shape, X.dtype, float(X[0, 0, 0]), sfreq, names
    ((3, 2, 256), dtype('float32'), 20.0, 128.0, ['Fp1-F7', 'F7-T7'])
    """
    if not is_mne_epochs(epochs):
        raise TypeError(f"epochs must be an mne.BaseEpochs, got {type(epochs).__name__}")
    picks, factors = _eeg_picks(epochs, "Epochs")
    X = (epochs.get_data(picks=picks) * factors[None, :, None]).astype(np.float32)
    return X, float(epochs.info["sfreq"]), [epochs.ch_names[idx] for idx in picks]


def raw_to_array(raw: mne.io.BaseRaw) -> tuple[np.ndarray, float, list[str]]:
    """Convert an ``mne.io.Raw`` to a continuous µV array, with its sampling rate and channel names.

    The channels are chosen as in :func:`epochs_to_windows` (the EEG-type channels, in the Raw's
    order, bad ones included): the array :func:`~sklearn_eeg.signal.windows.segment_windows` cuts
    into windows. :func:`raw_to_recording` is the reader's counterpart (canonical montage).

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Loaded if not preloaded.

    Returns
    -------
    data : ndarray of shape (n_channels, n_times), float32
        In µV (volts x 1e6, from each channel's unit in ``raw.info``).
    sfreq : float
        ``raw.info["sfreq"]``.
    ch_names : list of str
        The channel names of the rows of ``data``.

    Raises
    ------
    TypeError
        If ``raw`` is not an MNE Raw object.
    ValueError
        If the Raw holds no EEG, sEEG, ECoG or DBS channel.

    Examples
    --------
    >>> import mne, numpy as np
    >>> info = mne.create_info(["Fp1-F7", "STI"], 100.0, ch_types=["eeg", "stim"])
    >>> raw = mne.io.RawArray(np.full((2, 300), 5e-6), info, verbose="error")
    >>> data, sfreq, names = raw_to_array(raw)
    >>> data.shape, float(data[0, 0]), sfreq, names
    ((1, 300), 5.0, 100.0, ['Fp1-F7'])
    """
    if not is_mne_raw(raw):
        raise TypeError(f"raw must be an mne.io.BaseRaw, got {type(raw).__name__}")
    picks, factors = _eeg_picks(raw, "Raw")
    data = (raw.get_data(picks=picks) * factors[:, None]).astype(np.float32)
    return data, float(raw.info["sfreq"]), [raw.ch_names[idx] for idx in picks]


def _eeg_picks(inst: mne.io.BaseRaw | mne.BaseEpochs, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the electrical-potential channels of a Raw/Epochs and their factors to µV."""
    from mne import pick_types  # mne is already imported: an MNE object exists

    source = _describe(inst)
    picks = pick_types(inst.info, meg=False, eeg=True, seeg=True, ecog=True, dbs=True, exclude=())
    if len(picks) == 0:
        types = sorted(set(inst.get_channel_types()))
        raise ValueError(
            f"{source}: the {what} has no EEG channel (channel types {types}); set the EEG "
            "channels' type, e.g. mne.create_info(ch_names, sfreq, ch_types='eeg')"
        )
    return picks, _uv_factors(inst.info, picks, source)
