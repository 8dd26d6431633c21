"""Sliding windows and a resumable on-disk window store.

Layout under ``<cache_dir>/windows/<params-hash>/`` (one store per dataset folder and parameters)::

    params.json                      parameters that produced the store, dataset folder included (the hash covers them)
    <subject>/<recording>.npy        filtered continuous signal, (n_channels, n_times), float32/16
    <subject>/<recording>.windows.<parquet|pkl>   per-window table of the recording (t_start, bad)
    <subject>/<recording>.json       completion marker, written last (source size/mtime, shape, file sizes)
    <subject>/windows.<parquet|pkl>  labeled window table of the subject (labels + bad)
    <subject>/<recording>.lock       only while a process builds the recording (flock)

The store keeps the *continuous* filtered signal, not the overlapping windows: windows are strided
views of a memory map (half the disk of stored windows at 50 % overlap, O(1) access).

Faults and concurrency:

* Every file is written to a temporary name ``<name>.<host>-<pid>-<token>.tmp`` then moved with
  :func:`os.replace`, so a reader sees the old file or the new one, never a partial one. Temporary
  files are removed only once their writer is gone (its pid is not alive on this host) or after a
  day without writes, so concurrent builds never delete each other's files.
* A recording is built under an exclusive lock on ``<recording>.lock`` (``fcntl.flock``): a second
  process building the same cache waits, then finds the recording done and skips it.
* A recording is redone when its marker is missing (an interrupted build) or does not match its
  source EDF, or when a stored file is missing or its size is not what the marker and the ``.npy``
  header say (a truncated file, checked without reading the data); a damaged file is logged as one
  warning line naming it. Otherwise it is never redone.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from sklearn_eeg.atomic_files import atomic_write, writer_gone
from sklearn_eeg.cache_location import cache_location
from sklearn_eeg.data import CANONICAL_CHANNELS, EEGDataError, load_index, read_edf
from sklearn_eeg.data.labeling import LABELING_DEFAULTS, STATES, label_windows
from sklearn_eeg.data.mne_input import is_mne_raw, raw_to_array
from sklearn_eeg.signal.preprocessing import filter_signal

if TYPE_CHECKING:
    import mne

logger = logging.getLogger(__name__)

CACHE_VERSION = 1
_FILTER_CHUNK = 6  # channels filtered at once
#: A temporary file not written to for this long is removed even if its writer's pid is alive (pid
#: reuse, or a writer on another host sharing the cache): no live write pauses that long.
STALE_TEMP_SECONDS = 24 * 3600
_TABLE_ERRORS = (OSError, ValueError)  # a damaged parquet table
TABLE_SUFFIX = ".parquet"  # never a pickle: a cache folder holds data, not code


def segment_windows(data: np.ndarray | mne.io.BaseRaw, sfreq: float | None, window: float, stride: float) -> np.ndarray:
    """Cut a continuous signal into overlapping windows without copying.

    Parameters
    ----------
    data : ndarray of shape (n_channels, n_times) or mne.io.Raw
        Continuous signal in µV (a memory map works and stays on disk). An ``mne.io.Raw`` is
        converted with :func:`~sklearn_eeg.data.mne_input.raw_to_array`: its EEG-type channels in
        µV (MNE stores volts), the rate from ``raw.info``.
    sfreq : float or None
        Sampling rate in Hz. None takes it from a Raw's ``info``; a rate that differs from the
        Raw's is refused (resample the Raw first).
    window, stride : float
        Window length and step in seconds; ``window * sfreq`` and ``stride * sfreq`` must be
        whole numbers of samples.

    Returns
    -------
    windows : ndarray of shape (n_windows, n_channels, n_window_times)
        Read-only strided view; window ``k`` starts at sample ``k * stride * sfreq``.

    Examples
    --------
    >>> segment_windows(np.zeros((2, 1000)), 100.0, window=4.0, stride=2.0).shape
    (4, 2, 400)
    """
    if is_mne_raw(data):
        data, raw_sfreq, _ = raw_to_array(data)
        if sfreq is not None and not np.isclose(sfreq, raw_sfreq):
            raise ValueError(f"sfreq={sfreq} Hz differs from the Raw's info['sfreq'] = {raw_sfreq} Hz; "
                             "resample the Raw (raw.resample) or pass sfreq=None")
        sfreq = raw_sfreq
    elif sfreq is None:
        raise ValueError("sfreq is required for an array (None takes it from an mne.io.Raw's info)")
    n_win, n_step = _samples(window, sfreq, "window"), _samples(stride, sfreq, "stride")
    data = np.asarray(data)  # a memory map stays a view of the file
    if data.ndim != 2:
        raise ValueError(f"data must be 2-D (n_channels, n_times), got shape {data.shape}")
    if data.shape[1] < n_win:
        return np.empty((0, data.shape[0], n_win), dtype=data.dtype)
    view = np.lib.stride_tricks.sliding_window_view(data, n_win, axis=1)[:, ::n_step]
    return view.transpose(1, 0, 2)


def _samples(seconds: float, sfreq: float, name: str) -> int:
    n = seconds * sfreq
    if seconds <= 0 or abs(n - round(n)) > 1e-6:
        raise ValueError(f"{name}={seconds} s must be > 0 and a whole number of samples at {sfreq} Hz")
    return int(round(n))


def bad_windows(
    windows: np.ndarray,
    *,
    max_ptp: float = 1000.0,
    flat_ptp: float = 0.1,
    channel_mask: np.ndarray | None = None,
) -> np.ndarray:
    """Flag windows with an amplitude artifact or a flat channel.

    Parameters
    ----------
    windows : ndarray of shape (n_windows, n_channels, n_times)
        Windows in µV.
    max_ptp : float
        A window is bad if any channel's peak-to-peak amplitude exceeds this (µV).
    flat_ptp : float
        A window is bad if any used channel's peak-to-peak amplitude is below this (µV).
    channel_mask : ndarray of shape (n_channels,) of bool, optional
        Channels to check; zero-filled (absent) channels should be False here.

    Returns
    -------
    bad : ndarray of shape (n_windows,) of bool
    """
    ptp = np.ptp(windows, axis=-1)
    if channel_mask is not None:
        ptp = ptp[:, np.asarray(channel_mask, dtype=bool)]
    if ptp.shape[1] == 0:
        return np.zeros(len(windows), dtype=bool)
    return (ptp.max(axis=1) > max_ptp) | (ptp.min(axis=1) < flat_ptp)


def store_params(
    data_root: str | Path,
    *,
    window: float = 10.0,
    stride: float = 5.0,
    l_freq: float | None = 0.5,
    h_freq: float | None = 45.0,
    notch: float | None = 60.0,
    dtype: str = "float32",
    sfreq: float = 256.0,
    channels: Sequence[str] = CANONICAL_CHANNELS,
    missing: str = "skip",
) -> tuple[str, dict]:
    """Parameters that determine the stored arrays, and their hash (the store folder name).

    The dataset's resolved folder is one of them: two datasets with the same recording names (the
    synthetic presets all have ``chb01_01``...) get separate stores, so building one never rewrites
    the files another run is reading.
    """
    if np.dtype(dtype) not in (np.float32, np.float16):
        raise ValueError(f"dtype must be 'float32' or 'float16', got {dtype!r}")
    params = dict(cache_version=CACHE_VERSION, data_root=str(Path(data_root).resolve()), window=float(window),
                  stride=float(stride), l_freq=l_freq, h_freq=h_freq, notch=notch, dtype=np.dtype(dtype).name,
                  sfreq=float(sfreq), channels=list(channels), missing=missing)
    digest = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    return digest, params


def _atomic(path: Path, write) -> None:
    """Write ``path`` through ``write(fh)`` (a binary file) atomically: see :func:`~sklearn_eeg.atomic_files.atomic_write`."""
    def fill(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            write(fh)

    atomic_write(path, fill)


def _write_if_changed(path: Path, data: bytes) -> None:
    """Atomically write ``data`` to ``path`` unless it already holds exactly these bytes."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return
    except FileNotFoundError:
        pass
    _atomic(path, lambda fh: fh.write(data))


def _table_bytes(df: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _write_table(df: pd.DataFrame, path: Path) -> None:
    _write_if_changed(path, _table_bytes(df))


def _read_table(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def _remove_stale_temps(root: Path) -> None:
    """Remove the temporary files of dead writers and the lock files nobody holds, under a store folder."""
    now = time.time()
    for tmp in [*root.glob("*.tmp"), *root.glob("*/*.tmp")]:
        if writer_gone(tmp, max_age_s=STALE_TEMP_SECONDS, now=now):
            tmp.unlink(missing_ok=True)
            logger.info("window store: removed %s, left by an interrupted build", tmp)
    for lock in root.glob("*/*.lock"):
        fd = _acquire(lock, blocking=False)
        if fd is not None:  # nobody builds that recording: the file is a leftover of a killed build
            _release(lock, fd)


def _acquire(path: Path, blocking: bool = True) -> int | None:
    """An open descriptor holding an exclusive ``flock`` on the lock file ``path`` (created if absent).

    Returns None instead of waiting when ``blocking`` is False and another process holds it. The
    holder unlinks the file on release (:func:`_release`), so after locking we check that ``path``
    still names the locked file, and start over if it was unlinked meanwhile.
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not blocking:
                    os.close(fd)
                    return None
                logger.info("window store: waiting for another process building %s", path.with_suffix(""))
                fcntl.flock(fd, fcntl.LOCK_EX)
            held, current = os.fstat(fd), os.stat(path)
            if (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino):
                return fd
        except FileNotFoundError:
            pass  # unlinked by its holder while we waited
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


def _release(path: Path, fd: int) -> None:
    path.unlink(missing_ok=True)  # while still held: nobody else can hold this name now
    os.close(fd)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the lock file ``path`` (POSIX ``flock``); the file is removed on exit."""
    fd = _acquire(path)
    try:
        yield
    finally:
        _release(path, fd)


def _source_stamp(path: str) -> dict:
    st = os.stat(path)
    return {"source": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def check_signal_file(path: str | os.PathLike) -> tuple[tuple[int, ...], np.dtype, int]:
    """Shape, dtype and data offset of a ``.npy`` file, checked against its size (the data is not read).

    Parameters
    ----------
    path : str or path-like
        A ``.npy`` file, such as a window store's ``<recording>.npy``.

    Returns
    -------
    shape : tuple of int
    dtype : numpy.dtype
    offset : int
        Where the data starts (the header's length).

    Raises
    ------
    EEGDataError
        If the header is unreadable, the array is not a C-ordered numeric one, or the file is shorter
        or longer than the header says (a truncated or damaged file); the message names the file.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                raise ValueError(f"unsupported .npy version {version}")
            offset = fh.tell()
            size = os.fstat(fh.fileno()).st_size
    except (ValueError, EOFError) as exc:
        raise EEGDataError(f"{path} has an unreadable .npy header ({exc}): rebuild the window store") from None
    if fortran or dtype.hasobject:
        raise EEGDataError(f"{path} does not hold a C-ordered numeric array: rebuild the window store")
    expected = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if size != expected:
        which = "shorter" if size < expected else "longer"
        raise EEGDataError(f"{path} is {which} than its header says ({size} of {expected} bytes): "
                           "rebuild the window store")
    return tuple(shape), dtype, offset


def _stale(folder: Path, recording: str, stamp: dict) -> tuple[int, str] | None:
    """Why a recording must be (re)built, as (logging level, reason); None when it is stored and intact.

    Cheap: reads the marker and the ``.npy`` header and compares file sizes, never the data.
    """
    marker = folder / f"{recording}.json"
    signal = folder / f"{recording}.npy"
    table = folder / f"{recording}.windows{TABLE_SUFFIX}"
    if not marker.is_file():
        if signal.exists() or table.exists():
            return logging.INFO, "unfinished build"
        return logging.DEBUG, "not built"
    try:
        done = json.loads(marker.read_text())
    except (OSError, ValueError) as exc:
        return logging.WARNING, f"{marker} is unreadable ({exc})"
    if not all(done.get(k) == v for k, v in stamp.items()):
        return logging.INFO, "source EDF changed"
    for path in (signal, table):
        if not path.is_file():
            return logging.WARNING, f"{path} is missing"
    try:
        shape, dtype, _ = check_signal_file(signal)
    except EEGDataError as exc:
        return logging.WARNING, str(exc).removesuffix(": rebuild the window store")
    if list(shape) != done.get("shape") or dtype.name != done.get("dtype"):
        return logging.WARNING, (f"{signal} holds {dtype.name} {list(shape)}, its marker says "
                                 f"{done.get('dtype')} {done.get('shape')}")
    for name, size in done.get("files", {}).items():  # sizes recorded at build time (markers since #13)
        try:
            actual = (folder / name).stat().st_size
        except FileNotFoundError:
            return logging.WARNING, f"{folder / name} is missing"
        if actual != size:
            return logging.WARNING, f"{folder / name} has {actual} bytes, {size} when built"
    return None


def _is_done(folder: Path, recording: str, stamp: dict) -> bool:
    return _stale(folder, recording, stamp) is None


def _build_recording(path: str, folder: Path, recording: str, params: dict, stamp: dict) -> None:
    """Read, filter and store one recording; the marker is written last (call with its lock held)."""
    (folder / f"{recording}.json").unlink(missing_ok=True)
    rec = read_edf(path, params["channels"], sfreq=params["sfreq"], missing=params["missing"])
    data = np.empty(rec.data.shape, dtype=params["dtype"])
    for start in range(0, len(data), _FILTER_CHUNK):  # channel blocks bound the filter's float64 workspace
        block = slice(start, start + _FILTER_CHUNK)
        data[block] = filter_signal(rec.data[block], rec.sfreq, l_freq=params["l_freq"], h_freq=params["h_freq"],
                                    notch=params["notch"])
    windows = segment_windows(data, params["sfreq"], params["window"], params["stride"])
    bad = bad_windows(windows, channel_mask=rec.mask)
    table = pd.DataFrame({"t_start": np.arange(len(windows)) * params["stride"], "bad": bad})
    files = [f"{recording}.npy", f"{recording}.windows{TABLE_SUFFIX}"]
    _atomic(folder / files[0], lambda fh: np.save(fh, data))
    _atomic(folder / files[1], lambda fh: fh.write(_table_bytes(table)))
    marker = dict(stamp, shape=list(data.shape), dtype=data.dtype.name, mask=np.asarray(rec.mask).tolist(),
                  files={name: (folder / name).stat().st_size for name in files})
    _atomic(folder / f"{recording}.json", lambda fh: fh.write(json.dumps(marker).encode()))


def _stored_table(
    folder: Path, recording: str, stamp: dict
) -> tuple[pd.DataFrame | None, tuple[int, str] | None]:
    """The per-window table of an intact stored recording, or None and why it must be (re)built."""
    reason = _stale(folder, recording, stamp)
    if reason is not None:
        return None, reason
    path = folder / f"{recording}.windows{TABLE_SUFFIX}"
    try:
        return _read_table(path), None
    except _TABLE_ERRORS as exc:
        return None, (logging.WARNING, f"{path} is unreadable ({type(exc).__name__}: {exc})")


def _ensure_recording(path: str, folder: Path, recording: str, params: dict, stamp: dict) -> pd.DataFrame:
    """The per-window table of a recording, built (or repaired) first if needed, under its lock."""
    table, _ = _stored_table(folder, recording, stamp)
    if table is not None:
        return table
    with _locked(folder / f"{recording}.lock"):
        table, stale = _stored_table(folder, recording, stamp)  # another process may have built it meanwhile
        if table is None:
            level, reason = stale
            verb = "building" if reason == "not built" else "rebuilding"
            logger.log(level, "window store: %s %s/%s (%s)", verb, folder.name, recording, reason)
            _build_recording(path, folder, recording, params, stamp)
            table = _read_table(folder / f"{recording}.windows{TABLE_SUFFIX}")
    return table


class WindowStore:
    """Labeled windows backed by per-recording memory maps.

    Parameters
    ----------
    root : str or Path
        Store folder ``<cache_dir>/windows/<params-hash>``.
    table : DataFrame of shape (n_windows, n_columns)
        Window table (contract columns plus ``state``, ``ictal``, ``bad``), one row per item.

    Attributes
    ----------
    table : DataFrame
        The window table; row ``i`` describes ``store[i]``.
    params : dict
        Parameters the store was built with (``window``, ``stride``, filter, ``dtype``...).
    errors : dict of str to str
        Recordings that could not be stored (path -> reason), from the last build.
    positions : ndarray of shape (n_windows,), int
        Row ``i``'s window number within its recording's stored signal (its start over the stride).

    Notes
    -----
    A store holds no open file or memory map (windows are read on demand: :meth:`get` with
    positional reads, :meth:`recording_array` and :meth:`take` through a map dropped after use), so it
    pickles small and can be sent to DataLoader, joblib or Dask workers.

    Examples
    --------
    >>> store = build_window_store("data/chbmit", ["chb01"])  # doctest: +SKIP
    >>> x = store[0]  # (18, 2560) float32
    """

    def __init__(self, root: str | Path, table: pd.DataFrame) -> None:
        self.root = Path(root)
        self.params = json.loads((self.root / "params.json").read_text())
        self.table = table.reset_index(drop=True)
        self.errors: dict[str, str] = {}
        self._layouts: dict[tuple[str, str], tuple[Path, int, tuple[int, int], np.dtype]] = {}
        keys = pd.MultiIndex.from_frame(self.table[["subject", "recording"]])
        self._codes, uniques = pd.factorize(keys)
        self._keys = list(uniques)
        self.positions = np.rint(self.table["t_start"].to_numpy() / self.params["stride"]).astype(np.int64)

    @classmethod
    def open(cls, root: str | Path, subjects: Sequence[str] | None = None) -> WindowStore:
        """Open a built store from its folder, with the window tables of ``subjects`` (all if None)."""
        root = Path(root)
        if not (root / "params.json").is_file():
            raise FileNotFoundError(f"{root} is not a window store (no params.json); run build_cache first")
        tables = sorted(root.glob(f"*/windows{TABLE_SUFFIX}"))
        if subjects is not None:
            tables = [t for t in tables if t.parent.name in set(subjects)]
        frames = [_read_table(t) for t in tables]
        table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=["subject", "recording", "t_start", "t_abs", "state", "label", "tte", "y_soft",
                     "seizure_id", "lead_seizure", "ictal", "bad"])
        return cls(root, table)

    def __len__(self) -> int:
        return len(self.table)

    def signal_path(self, subject: str, recording: str) -> Path:
        """The stored filtered signal of one recording, ``<root>/<subject>/<recording>.npy``."""
        return self.root / subject / f"{recording}.npy"

    def _path(self, subject: str, recording: str) -> Path:
        path = self.signal_path(subject, recording)
        if not path.is_file():
            raise KeyError(f"recording {subject}/{recording} is not in the store {self.root}")
        return path

    def recording_array(self, subject: str, recording: str) -> np.ndarray:
        """All windows of one recording as a read-only strided view of its memory map.

        The map is not kept: once the view is dropped, its pages leave this process.

        Returns
        -------
        windows : ndarray of shape (n_windows, n_channels, n_times)
            In the stored dtype (float32 or float16).
        """
        path = self._path(subject, recording)
        check_signal_file(path)  # a truncated file: a clear error, not numpy's mmap one
        signal = np.load(path, mmap_mode="r")
        return segment_windows(signal, self.params["sfreq"], self.params["window"], self.params["stride"])

    def _layout(self, key: tuple[str, str]) -> tuple[Path, int, tuple[int, int], np.dtype]:
        """Path, data offset, shape and dtype of a recording's stored signal (read once from its header)."""
        if key not in self._layouts:
            path = self._path(*key)
            shape, dtype, offset = check_signal_file(path)
            if len(shape) != 2:
                raise ValueError(f"{path} does not hold a C-ordered (n_channels, n_times) signal")
            self._layouts[key] = (path, offset, shape, dtype)
        return self._layouts[key]

    def get(self, i: int) -> np.ndarray:
        """Window ``i`` (row ``i`` of :attr:`table`) as float32 of shape (n_channels, n_times).

        Read with one positional read per channel, not through a memory map, so reading windows one
        by one (a training epoch) leaves no mapped pages in this process's memory.
        """
        if not -len(self) <= i < len(self):
            raise IndexError(f"window index {i} out of range for a store of {len(self)} windows")
        i = int(i) % len(self)
        path, offset, (n_channels, n_total), dtype = self._layout(self._keys[self._codes[i]])
        n_times = self.window_shape[1]
        start = int(self.positions[i]) * _samples(self.params["stride"], self.params["sfreq"], "stride")
        window = np.empty((n_channels, n_times), dtype=dtype)
        fd = os.open(path, os.O_RDONLY)
        try:
            for channel in range(n_channels):
                at = offset + (channel * n_total + start) * dtype.itemsize
                if os.preadv(fd, [window[channel]], at) != window[channel].nbytes:
                    raise EEGDataError(f"{path} is shorter than its header says: rebuild the window store")
        finally:
            os.close(fd)
        return window.astype(np.float32, copy=False)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.get(i)

    def select(self, mask: np.ndarray | pd.Series) -> WindowStore:
        """A store over the rows of :attr:`table` where ``mask`` is True."""
        out = WindowStore(self.root, self.table[np.asarray(mask, dtype=bool)])
        out.errors = dict(self.errors)
        return out

    @property
    def window_shape(self) -> tuple[int, int]:
        """``(n_channels, n_times)`` of one window."""
        return len(self.params["channels"]), _samples(self.params["window"], self.params["sfreq"], "window")

    def take(self, rows: np.ndarray, progress: bool = False) -> np.ndarray:
        """Load the windows of ``rows`` (row numbers of :attr:`table`), in that order.

        Returns
        -------
        X : ndarray of shape (len(rows), n_channels, n_times), float32
        """
        rows = np.asarray(rows, dtype=np.int64)
        X = np.empty((len(rows), *self.window_shape), dtype=np.float32)
        by_recording = pd.Series(np.arange(len(rows))).groupby(self._codes[rows]).indices
        for code, at in tqdm(by_recording.items(), total=len(by_recording), disable=not progress,
                             desc="loading windows"):
            X[at] = self.recording_array(*self._keys[code])[self.positions[rows[at]]]
        return X

    def to_array(self, progress: bool = False) -> np.ndarray:
        """Load every window in table order (all in RAM: prefer :class:`WindowArray` for big data).

        Returns
        -------
        X : ndarray of shape (n_windows, n_channels, n_times), float32
        """
        return self.take(np.arange(len(self)), progress=progress)

    @property
    def nbytes(self) -> int:
        """Bytes the windows of :attr:`table` take once loaded as float32 (:meth:`to_array`)."""
        n_channels, n_times = self.window_shape
        return len(self) * n_channels * n_times * 4

    @property
    def disk_nbytes(self) -> int:
        """Bytes of the stored signal arrays on disk."""
        return sum(p.stat().st_size for p in self.root.glob("*/*.npy"))


class WindowArray:
    """Read-only ``(n_windows, n_channels, n_times)`` float32 array of a store's windows, loaded on access.

    Drop-in for the raw-window array of the deep estimators: ``len``, ``shape``, ``dtype``, ``ndim``;
    an integer index reads one window from disk (:meth:`WindowStore.get`), any other index (slice, integer array,
    boolean mask) returns another :class:`WindowArray` over those rows without loading anything. A
    skorch/torch dataset indexes it one window at a time, so training and prediction hold a batch
    in RAM, never the dataset. ``np.asarray`` (or :meth:`load`) loads the rows it covers.

    Parameters
    ----------
    store : WindowStore
        The store; row ``i`` of this array is ``store.table`` row ``rows[i]``.
    rows : array-like of int, optional
        Store rows covered, in order (all rows when None).

    Examples
    --------
    >>> X = WindowArray(load_window_store("data/chbmit", ["chb01"]))  # doctest: +SKIP
    >>> X[10:20].shape, X[10].shape  # doctest: +SKIP
    ((10, 18, 2560), (18, 2560))
    """

    dtype = np.dtype(np.float32)
    ndim = 3

    def __init__(self, store: WindowStore, rows: np.ndarray | None = None) -> None:
        self.store = store
        self.rows = np.arange(len(store), dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self.rows), *self.store.window_shape)

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return self.store.get(int(self.rows[key]))
        return WindowArray(self.store, self.rows[key])

    def load(self, progress: bool = False) -> np.ndarray:
        """The windows as an in-memory float32 array."""
        return self.store.take(self.rows, progress=progress)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        X = self.load()
        return X if dtype is None else X.astype(dtype, copy=False)

    def identity(self) -> tuple:
        """What the windows are (store folder and the rows' subject, recording and start), for cache keys.

        A store folder is named by the hash of its parameters and a recording's signal is rebuilt
        only when its source EDF changes, so this names the content without reading it.
        """
        keys = self.store.table[["subject", "recording", "t_start"]].iloc[self.rows]
        return (str(self.store.root.resolve()), pd.util.hash_pandas_object(keys, index=False).to_numpy())

    def __repr__(self) -> str:
        return f"WindowArray(shape={self.shape}, store={str(self.store.root)!r})"


def _split_labeling(labeling: dict) -> dict:
    unknown = set(labeling) - set(LABELING_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown labeling parameters {sorted(unknown)}; expected some of {sorted(LABELING_DEFAULTS)}")
    return {**LABELING_DEFAULTS, **labeling}


def build_window_store(
    data_root: str | Path,
    subjects: Sequence[str] | None = None,
    *,
    cache_dir: str | Path | None = None,
    window: float = 10.0,
    stride: float = 5.0,
    l_freq: float | None = 0.5,
    h_freq: float | None = 45.0,
    notch: float | None = 60.0,
    dtype: str = "float32",
    missing: str = "skip",
    progress: bool = True,
    **labeling: float,
) -> WindowStore:
    """Filter, window, label and store every recording of a CHB-MIT(-like) dataset.

    Each recording is read (:func:`~sklearn_eeg.data.read_edf`), filtered once as a whole
    (:func:`~sklearn_eeg.signal.preprocessing.filter_signal`) and saved; windows are views of it. Finished
    recordings are skipped, so a second call does no signal work. Labels come from the recording
    index and :func:`~sklearn_eeg.data.labeling.label_windows` (cheap; recomputed every call).

    Parameters
    ----------
    data_root : str or Path
        Dataset root (``chbNN/chbNN-summary.txt`` and EDF files).
    subjects : sequence of str, optional
        Subjects to store; all with a summary when None.
    cache_dir : str or Path, optional
        The store goes to ``<cache_dir>/windows/<params-hash>/``; None: the default cache folder
        (:func:`sklearn_eeg.cache_location.cache_location`).
    window, stride : float
        Window length and step in seconds.
    l_freq, h_freq, notch : float or None
        Band-pass edges and notch frequency in Hz (None disables).
    dtype : {"float32", "float16"}
        Stored dtype; windows are always returned as float32.
    missing : {"skip", "zero"}
        Passed to ``read_edf``: skip recordings lacking a canonical channel, or zero-fill it.
    progress : bool
        Show a progress bar over recordings.
    **labeling : float
        ``sop``, ``sph``, ``postictal``, ``interictal_buffer``, ``lead_seizure_gap``, ``tau``.

    Returns
    -------
    store : WindowStore
        All windows of the stored recordings (every state). Recordings that could not be read are
        listed in ``store.errors`` (path -> reason) and logged; the rest of the cache is kept.

    Notes
    -----
    Several processes may build one cache at once (POSIX ``flock``): each recording is built by one
    of them while the others wait for it, and every file is written atomically, so the store ends
    up as one process alone would have built it. A recording whose stored files are missing,
    truncated or otherwise not the size their marker and header say is rebuilt, with one warning
    line naming the file; stale temporary files of dead writers are removed.
    """
    label_params = _split_labeling(labeling)
    digest, params = store_params(data_root, window=window, stride=stride, l_freq=l_freq, h_freq=h_freq,
                                  notch=notch, dtype=dtype, missing=missing)
    root = cache_location(cache_dir).path / "windows" / digest
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(root)
    _write_if_changed(root / "params.json", json.dumps(params, indent=1).encode())

    recordings, seizures = load_index(data_root, subjects)
    table = label_windows(recordings, seizures, window=window, stride=stride, **label_params)
    errors: dict[str, str] = {}
    stored = []
    bar = tqdm(recordings.itertuples(index=False), total=len(recordings), disable=not progress,
               desc="window store", unit="rec")
    for rec in bar:
        folder = root / rec.subject
        folder.mkdir(exist_ok=True)
        bar.set_postfix_str(rec.recording)
        if not os.path.isfile(rec.path):
            errors[rec.path] = "EDF file not found"
            continue
        stamp = _source_stamp(rec.path)
        try:
            bad = _ensure_recording(rec.path, folder, rec.recording, params, stamp)
        except (EEGDataError, OSError, ValueError) as exc:
            errors[rec.path] = f"{type(exc).__name__}: {exc}"
            logger.warning("skipping %s: %s", rec.path, exc)
            continue
        bad = bad.assign(subject=rec.subject, recording=rec.recording)
        stored.append(bad)
    if errors:
        logger.warning("window store: %d recording(s) not stored: %s", len(errors), "; ".join(
            f"{p} ({e})" for p, e in errors.items()))

    bad = pd.concat(stored, ignore_index=True) if stored else pd.DataFrame(
        columns=["t_start", "bad", "subject", "recording"])
    table = table.merge(bad, on=["subject", "recording", "t_start"], how="inner", validate="one_to_one")
    for subject, rows in table.groupby("subject", sort=False):
        _write_table(rows.reset_index(drop=True), root / subject / f"windows{TABLE_SUFFIX}")
    store = WindowStore(root, table)
    store.errors = errors
    return store


def load_window_store(
    data_root: str | Path,
    subjects: Sequence[str] | None = None,
    *,
    cache_dir: str | Path | None = None,
    states: Sequence[str] = STATES,
    progress: bool = True,
    **params,
) -> WindowStore:
    """The window store of a dataset (built on first use), restricted to windows of ``states``.

    By default every state: the full timeline, which alarm scoring needs (see :func:`load_windows`).

    Nothing is loaded: windows stay on disk until asked for (:meth:`WindowStore.get`,
    :meth:`WindowStore.take`, :class:`WindowArray`). Parameters as in :func:`load_windows`.
    """
    unknown = set(states) - set(STATES)
    if unknown:
        raise ValueError(f"unknown states {sorted(unknown)}; expected some of {STATES}")
    store = build_window_store(data_root, subjects, cache_dir=cache_dir, progress=progress, **params)
    return store.select(store.table["state"].isin(list(states)))


def load_windows(
    data_root: str | Path,
    subjects: Sequence[str] | None = None,
    *,
    cache_dir: str | Path | None = None,
    states: Sequence[str] = STATES,
    progress: bool = True,
    **params,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """Windows, labels and groups of a dataset, built into the window store on first use.

    Parameters
    ----------
    data_root : str or Path
        Dataset root.
    subjects : sequence of str, optional
        Subjects to load (all when None).
    cache_dir : str or Path, optional
        Cache folder of the window store (None: the default cache folder).
    states : sequence of str, default=STATES
        Window states to keep (see :data:`sklearn_eeg.data.labeling.STATES`). The default keeps
        every state: the full timeline, so alarms and their scoring see no gaps where excluded
        windows were dropped (a gap would tell them where the seizures are). Train on the labeled
        windows only with ``sample_weight = (y >= 0)`` or rows ``y >= 0``; pass
        ``states=("preictal", "interictal")`` for a window-level study without alarms.
    progress : bool
        Show progress bars.
    **params
        Store and labeling parameters of :func:`build_window_store`.

    Returns
    -------
    X : ndarray of shape (n_windows, n_channels, n_times), float32
    y : ndarray of shape (n_windows,), int
        ``label`` (1 preictal, 0 interictal, -1 for other states).
    groups : ndarray of shape (n_windows,), str
        Subject of each window.
    meta : DataFrame of shape (n_windows, n_columns)
        The window table of the kept rows (with ``state``, ``bad``), index reset.
    """
    store = load_window_store(data_root, subjects, cache_dir=cache_dir, states=states, progress=progress, **params)
    X = store.to_array(progress=progress)
    meta = store.table.reset_index(drop=True)
    return X, meta["label"].to_numpy(dtype=np.int64), meta["subject"].to_numpy(dtype=str), meta


def cache_summary(cache_dir: str | Path | None = None) -> pd.DataFrame:
    """One row per (store, subject): windows by state, positive rate, disk and RAM size.

    Returns
    -------
    summary : DataFrame
        Columns ``store``, ``subject``, ``recordings``, ``windows``, ``preictal``, ``interictal``,
        ``positive_rate`` (preictal / (preictal + interictal)), ``bad``, ``disk_mb``, ``ram_mb``
        (float32 X of the preictal + interictal windows).
    """
    rows = []
    for root in sorted((cache_location(cache_dir).path / "windows").glob("*/params.json")):
        store = WindowStore.open(root.parent)
        for subject, t in store.table.groupby("subject"):
            kept = store.select((store.table["subject"] == subject)
                                & store.table["state"].isin(["preictal", "interictal"]))
            pre, inter = int((t["label"] == 1).sum()), int((t["label"] == 0).sum())
            rows.append({
                "store": root.parent.name, "subject": subject, "recordings": t["recording"].nunique(),
                "windows": len(t), "preictal": pre, "interictal": inter,
                "positive_rate": pre / max(pre + inter, 1), "bad": int(t["bad"].sum()),
                "disk_mb": sum(p.stat().st_size for p in (root.parent / subject).glob("*.npy")) / 2**20,
                "ram_mb": kept.nbytes / 2**20,
            })
    return pd.DataFrame(rows)
