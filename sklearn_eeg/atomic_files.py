"""Atomic file writes and output-folder checks: a crash, a kill or a full disk never leaves a half-written file.

Every file a run produces is first written to a temporary file in the same folder, flushed to disk, and
then renamed over the target with :func:`os.replace` -- an atomic step on POSIX and Windows. Readers
therefore see the old file or the new one, never a truncated one. The temporary name
(``<name>.<host>-<pid>-<random>.tmp``) is unique to the writer, so concurrent writers (processes, threads,
hosts sharing a folder) never share one, and :func:`writer_gone` can tell a leftover of a killed writer
from a file still being written.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_text", "check_output_dir", "temp_path", "writer_gone"]

_TEMP_NAME = re.compile(r"\.(?:(?P<host>[A-Za-z0-9_]+)-)?(?P<pid>\d+)(?:-[0-9a-f]+)?\.tmp$")


def _host() -> str:
    """This machine's name as it appears in temporary file names (letters, digits and ``_``)."""
    return re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname()) or "localhost"


def temp_path(path: str | os.PathLike) -> Path:
    """A temporary file name beside ``path`` that names its writer: ``<name>.<host>-<pid>-<random>.tmp``."""
    path = Path(path)
    return path.with_name(f"{path.name}.{_host()}-{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp")


def writer_gone(tmp: str | os.PathLike, *, max_age_s: float, now: float | None = None) -> bool:
    """Whether the temporary file ``tmp`` is a leftover: its writer died, or it is too old to be in use.

    Parameters
    ----------
    tmp : str or path-like
        A temporary file named by :func:`temp_path` (or the older ``<name>.<pid>.tmp``).
    max_age_s : float
        A file not written for this long is a leftover whoever wrote it.
    now : float, optional
        The current time (``time.time()``).

    Returns
    -------
    bool
        True when its writer's process no longer exists on this host, or the file is older than
        ``max_age_s``; a writer on another host is judged by age only.
    """
    tmp = Path(tmp)
    try:
        if (time.time() if now is None else now) - tmp.stat().st_mtime > max_age_s:
            return True
    except FileNotFoundError:
        return False  # its writer just moved it into place
    match = _TEMP_NAME.search(tmp.name)
    if match is None or match["host"] not in (None, _host()):
        return False  # not ours to judge (another host's pid): only the age rule applies
    try:
        os.kill(int(match["pid"]), 0)
    except (ProcessLookupError, OverflowError):
        return True
    except PermissionError:
        return False  # alive, run by another user
    return False


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Write ``path`` atomically: ``write(tmp)`` fills a temporary file that then replaces ``path``.

    Parameters
    ----------
    path : str or path-like
        Target file; its folder must exist.
    write : callable
        Called with the temporary file's path; writes the whole content there.

    Returns
    -------
    path : Path

    Notes
    -----
    If ``write`` raises (disk full, kill), the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    tmp = temp_path(path)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def check_output_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` if needed and prove it writable, before any work is done.

    Parameters
    ----------
    path : str or path-like
        An output folder (``--out_dir``).

    Returns
    -------
    path : Path

    Raises
    ------
    OSError
        One line naming the folder: it cannot be created (a file is in the way, no permission)
        or a file cannot be written into it (read-only, disk full).
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".write-check.", suffix=".tmp")
        try:
            os.write(fd, b"ok")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise OSError(f"output folder {str(path)!r} is not writable: {exc.strerror or exc}") from None
    return path
