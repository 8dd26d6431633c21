"""Resumable download of CHB-MIT from PhysioNet (or any mirror with the same layout).

Files are fetched with :mod:`urllib` into ``<file>.part`` and renamed once complete, so a
file under its final name is always whole. An interrupted transfer resumes with an HTTP
``Range`` request; complete files (size equal to the server's ``Content-Length``) are
skipped; every file listed in ``SHA256SUMS.txt`` is checked and fetched again once when
its checksum is wrong.

The lists the server sends (``RECORDS``, ``RECORDS-WITH-SEIZURES``, ``SHA256SUMS.txt``)
are data, not instructions: before any data file is fetched, every entry of every list
must be a plain relative POSIX path (see :func:`sklearn_eeg.data.chbmit.unsafe_path_reason`)
and every file to write must resolve inside ``dest`` (symbolic links followed). One unsafe
entry refuses the whole download with :class:`UnsafePathError`; nothing is written outside
``dest``.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urljoin

from tqdm.auto import tqdm

from .index_rules import unsafe_path_reason

__all__ = ["CHBMIT_URL", "DownloadError", "DownloadReport", "UnsafePathError", "download_chbmit", "read_checksums"]

logger = logging.getLogger(__name__)

CHBMIT_URL = "https://physionet.org/files/chbmit/1.0.0/"
INDEX_FILES = ("RECORDS", "RECORDS-WITH-SEIZURES", "SHA256SUMS.txt")
RETRY_BACKOFF_S = 1.0  # wait before the first retry, doubled for each further one
_CHUNK = 1 << 20
_NET_ERRORS = (OSError, http.client.HTTPException)  # URLError, timeouts, dropped connections


class DownloadError(OSError):
    """Raised when the file list cannot be fetched or is unsafe, or the disk is too small."""


class UnsafePathError(DownloadError, ValueError):
    """Raised when a downloaded list names a path that could lead outside the destination.

    The message names the list file, the line and the entry (or the local path that
    resolves outside the destination through a symbolic link).
    """


@dataclass
class DownloadReport:
    """What :func:`download_chbmit` did, as paths relative to ``dest``.

    Attributes
    ----------
    downloaded : list of str
        Fetched from scratch.
    resumed : list of str
        Completed from a partial local copy.
    skipped : list of str
        Already complete locally.
    refetched : list of str
        Failed the checksum and were fetched again.
    failed : list of str
        ``"path: reason"`` for files that could not be fetched or verified.
    free_bytes : int
        Free disk space at ``dest`` before starting.
    needed_bytes : int
        Bytes still to download when starting (files of unknown size not counted).
    """

    downloaded: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    refetched: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    free_bytes: int = 0
    needed_bytes: int = 0

    @property
    def ok(self) -> bool:
        """True when every file is present and verified."""
        return not self.failed


def read_checksums(path: str | os.PathLike) -> dict[str, str]:
    """Parse a ``SHA256SUMS.txt`` (``<hex digest> <relative path>`` per line) into path -> digest.

    Parameters
    ----------
    path : str or path-like
        The checksum list; blank lines and lines without two fields are ignored, a ``*``
        (binary mode mark) before the path is dropped.

    Returns
    -------
    dict of str to str
        Relative path -> lower-case hex digest.

    Raises
    ------
    UnsafePathError
        If a path is not a plain relative POSIX path (absolute, a ``..`` component...);
        the message names the file, the line and the entry.
    """
    return {rel: digest for _, rel, digest in _checksum_lines(Path(path))}


def _lines(path: Path) -> list[tuple[int, str]]:
    """(1-based line number, stripped text) of the non-blank lines of a list file."""
    numbered = enumerate(path.read_text(errors="replace").splitlines(), start=1)
    return [(lineno, line.strip()) for lineno, line in numbered if line.strip()]


def _checked(path: Path, lineno: int, entry: str) -> str:
    """``entry`` (line ``lineno`` of ``path``) when it is a plain relative path, else UnsafePathError."""
    reason = unsafe_path_reason(entry)
    if reason:
        raise UnsafePathError(f"{path}, line {lineno}: unsafe path {entry!r} ({reason}); download refused")
    return entry


def _checksum_lines(path: Path) -> list[tuple[int, str, str]]:
    """(line number, checked relative path, digest) of each entry of a ``SHA256SUMS.txt``."""
    out = []
    for lineno, text in _lines(path):
        parts = text.split(maxsplit=1)
        if len(parts) == 2:
            out.append((lineno, _checked(path, lineno, parts[1].lstrip("*")), parts[0].lower()))
    return out


def _read_list(path: Path) -> list[tuple[int, str]]:
    """(line number, checked relative path) of each entry of a RECORDS list."""
    return [(lineno, _checked(path, lineno, entry)) for lineno, entry in _lines(path)]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Fetcher:
    """HTTP helpers bound to one base URL, with retries and a shared progress bar."""

    def __init__(self, base_url: str, dest: Path, *, timeout: float, retries: int, progress: bool):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.dest = dest
        self.root = dest.resolve()
        self.timeout = timeout
        self.retries = retries
        self.bar = tqdm(total=0, unit="B", unit_scale=True, desc="CHB-MIT", disable=not progress)

    def url(self, rel: str) -> str:
        return urljoin(self.base_url, rel)

    def escape(self, rel: str) -> str | None:
        """How ``dest/rel`` or its ``.part`` would land outside ``dest`` (symbolic links followed), else None."""
        for path in (self.dest / rel, self.dest / (rel + ".part")):
            try:
                resolved = path.resolve()
            except (OSError, RuntimeError) as exc:  # a symbolic link loop
                return f"cannot be resolved ({exc})"
            if not resolved.is_relative_to(self.root):
                return f"resolves to {resolved}, outside {self.root} (symbolic link)"
        return None

    def check_inside(self, rel: str, origin: str) -> None:
        """Raise UnsafePathError when ``dest/rel`` (named at ``origin``) would be written outside ``dest``."""
        problem = self.escape(rel)
        if problem is not None:
            raise UnsafePathError(f"{origin}: {rel!r} {problem}; download refused")

    def remote_size(self, rel: str) -> int | None:
        """``Content-Length`` from a HEAD request, None when the server does not say."""
        request = urllib.request.Request(self.url(rel), method="HEAD")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                length = response.headers.get("Content-Length")
        except urllib.error.HTTPError as exc:
            if exc.code in (405, 501):  # HEAD not supported: size unknown
                return None
            raise
        return int(length) if length is not None else None

    def fetch(self, rel: str, size: int | None) -> str:
        """Bring ``dest/rel`` to ``size`` bytes; return "downloaded", "resumed" or "skipped"."""
        self.check_inside(rel, str(self.dest / rel))  # again just before writing: links may have changed
        final = self.dest / rel
        part = final.with_name(final.name + ".part")
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.is_file():
            have = final.stat().st_size
            if size is None or have == size:
                return "skipped"
            if have < size:  # a partial file under its final name (e.g. left by wget -c)
                final.replace(part)
            else:
                final.unlink()
        outcome = "resumed" if part.is_file() and part.stat().st_size > 0 else "downloaded"
        for attempt in range(1, self.retries + 1):
            try:
                self._transfer(rel, part, size)
                break
            except _NET_ERRORS as exc:
                if isinstance(exc, urllib.error.HTTPError) and exc.code == 404:
                    raise
                if attempt == self.retries:
                    raise
                logger.warning("%s: transfer interrupted (%s); retry %d of %d", rel, exc, attempt, self.retries - 1)
                outcome = "resumed"
                time.sleep(RETRY_BACKOFF_S * 2 ** (attempt - 1))
        part.replace(final)
        return outcome

    def _transfer(self, rel: str, part: Path, size: int | None) -> None:
        have = part.stat().st_size if part.is_file() else 0
        if size is not None and have > size:
            part.unlink()
            have = 0
        if size is not None and have == size:
            part.touch()  # an empty remote file has no partial copy yet
            return
        headers = {"Range": f"bytes={have}-"} if have else {}
        request = urllib.request.Request(self.url(rel), headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            if exc.code != 416:
                raise
            part.unlink()  # our partial copy does not fit the remote file: start again
            raise ConnectionError(f"{rel}: range not satisfiable, restarting") from exc
        with response:
            if have and response.status != 206:
                logger.info("%s: server ignored the range request; downloading from the start", rel)
                have = 0
            mode = "ab" if have else "wb"
            with open(part, mode) as fh:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    fh.write(chunk)
                    self.bar.update(len(chunk))
        got = part.stat().st_size
        if size is not None and got != size:
            raise ConnectionError(f"{rel}: got {got} of {size} bytes")


def _wanted_subjects(records: list[str], subjects: Sequence[str] | Literal["all"] | str) -> list[str]:
    available = sorted({r.split("/")[0] for r in records if "/" in r})
    if subjects == "all":
        return available
    subjects = [subjects] if isinstance(subjects, str) else list(subjects)
    unknown = [s for s in subjects if s not in available]
    if unknown:
        raise ValueError(f"subjects {unknown} are not in RECORDS (available: {', '.join(available)})")
    return subjects


def download_chbmit(
    dest: str | os.PathLike,
    subjects: Sequence[str] | Literal["all"] = ("chb01",),
    *,
    base_url: str = CHBMIT_URL,
    verify: bool = True,
    annotations: bool = True,
    timeout: float = 60.0,
    retries: int = 3,
    progress: bool = True,
) -> DownloadReport:
    """Download (or complete) CHB-MIT subjects in PhysioNet layout.

    Fetches ``RECORDS``, ``RECORDS-WITH-SEIZURES`` and ``SHA256SUMS.txt`` (when the
    server has them), then each requested subject's ``chbNN-summary.txt``, the EDF
    files ``RECORDS`` lists for it and its ``.seizures`` annotation files. Run it again
    to resume: complete files are skipped, partial ones continue with HTTP ``Range``
    requests.

    Parameters
    ----------
    dest : str or path-like
        Local dataset root (created if needed).
    subjects : sequence of str or "all", default=("chb01",)
        Subjects such as ``"chb01"``; ``"all"`` takes every subject in ``RECORDS``
        (about 43 GB).
    base_url : str, default=CHBMIT_URL
        Root URL of the dataset (PhysioNet or a mirror with the same layout).
    verify : bool, default=True
        Check every file listed in ``SHA256SUMS.txt`` (skipped files included) and
        fetch a file again once when its checksum is wrong.
    annotations : bool, default=True
        Also fetch the subjects' PhysioNet ``.seizures`` annotation files named in
        ``SHA256SUMS.txt`` (small; :func:`verify_dataset` compares them with the summaries).
    timeout : float, default=60.0
        Socket timeout in seconds.
    retries : int, default=3
        Attempts per file; an interrupted attempt resumes where it stopped.
    progress : bool, default=True
        Show a tqdm progress bar (bytes).

    Returns
    -------
    DownloadReport
        Files downloaded, resumed, skipped, re-fetched and failed; ``report.ok``.

    Raises
    ------
    UnsafePathError
        If an entry of ``RECORDS``, ``RECORDS-WITH-SEIZURES`` or ``SHA256SUMS.txt`` is not a
        plain relative path (absolute, a ``..`` component, a backslash...), or a file to
        write resolves outside ``dest`` through a symbolic link. All lists are checked
        before any data file is fetched, so nothing but the lists themselves is written;
        the message names the list, the line and the entry.
    DownloadError
        If ``RECORDS`` cannot be fetched or the free disk space is smaller than the
        bytes still to download.
    ValueError
        If a requested subject is not in ``RECORDS``.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    fetcher = _Fetcher(base_url, dest, timeout=timeout, retries=retries, progress=progress)
    report = DownloadReport()
    try:
        index_sizes = {}
        for name in INDEX_FILES:
            try:
                index_sizes[name] = fetcher.remote_size(name)
                fetcher.fetch(name, index_sizes[name])
            except UnsafePathError:
                raise
            except urllib.error.HTTPError as exc:
                if name == "RECORDS":
                    raise DownloadError(f"cannot fetch {fetcher.url(name)}: {exc}") from exc
                logger.info("%s not available (%s)", fetcher.url(name), exc)
            except _NET_ERRORS as exc:
                raise DownloadError(f"cannot fetch {fetcher.url(name)}: {exc}") from exc
        # every list is checked in full before any data file is fetched
        numbered = _read_list(dest / "RECORDS")
        if (dest / "RECORDS-WITH-SEIZURES").is_file():
            _read_list(dest / "RECORDS-WITH-SEIZURES")
        sums_path = dest / "SHA256SUMS.txt"
        sum_lines = _checksum_lines(sums_path) if sums_path.is_file() else []
        checksums = {rel: digest for _, rel, digest in sum_lines}
        origin = {rel: f"{sums_path}, line {lineno}" for lineno, rel, _ in reversed(sum_lines)}
        origin.update({rel: f"{dest / 'RECORDS'}, line {lineno}" for lineno, rel in reversed(numbered)})
        records = [rel for _, rel in numbered]
        wanted = _wanted_subjects(records, subjects)
        files = []
        for subject in wanted:
            of_subject = [r for r in records if r.split("/")[0] == subject]
            summary = f"{subject}/{subject}-summary.txt"
            origin[summary] = f"{origin[of_subject[0]]} (subject {subject})"  # where the subject was named
            files.append(summary)
            files += of_subject
            if annotations:
                files += sorted(r for r in checksums if r.endswith(".seizures") and r.split("/")[0] == subject)
        for rel in files:
            fetcher.check_inside(rel, origin[rel])

        sizes: dict[str, int | None] = {}
        for rel in tqdm(files, desc="sizes", unit="file", disable=not progress or len(files) < 20, leave=False):
            try:
                sizes[rel] = fetcher.remote_size(rel)
            except _NET_ERRORS as exc:
                report.failed.append(f"{rel}: {exc}")
        todo = [rel for rel in files if rel in sizes]
        report.needed_bytes = sum(max((sizes[r] or 0) - _local_size(dest / r), 0) for r in todo)
        report.free_bytes = shutil.disk_usage(dest).free
        logger.info(
            "%d files, %.2f GB to download, %.2f GB free at %s",
            len(todo), report.needed_bytes / 1e9, report.free_bytes / 1e9, dest,
        )
        if report.needed_bytes > report.free_bytes:
            raise DownloadError(
                f"{dest}: {report.needed_bytes / 1e9:.2f} GB to download but only "
                f"{report.free_bytes / 1e9:.2f} GB free"
            )
        fetcher.bar.reset(total=report.needed_bytes)
        for rel in todo:
            _fetch_verified(fetcher, rel, sizes[rel], checksums.get(rel) if verify else None, report)
    finally:
        fetcher.bar.close()
    for name in INDEX_FILES:
        if verify and name in checksums and _sha256(dest / name) != checksums[name]:
            report.failed.append(f"{name}: SHA256 mismatch")
    return report


def _local_size(path: Path) -> int:
    part = path.with_name(path.name + ".part")
    for candidate in (path, part):
        if candidate.is_file():
            return candidate.stat().st_size
    return 0


def _fetch_verified(fetcher: _Fetcher, rel: str, size: int | None, digest: str | None, report: DownloadReport) -> None:
    """Fetch one file, check its checksum, fetch it again once when wrong; record the outcome."""
    for attempt in (1, 2):
        try:
            outcome = fetcher.fetch(rel, size)
        except UnsafePathError:
            raise
        except _NET_ERRORS as exc:
            report.failed.append(f"{rel}: {exc}")
            return
        if digest is None or _sha256(fetcher.dest / rel) == digest:
            if attempt == 2:
                report.refetched.append(rel)
            else:
                getattr(report, outcome).append(rel)
            return
        logger.warning("%s: SHA256 mismatch%s", rel, "; fetching again" if attempt == 1 else "")
        (fetcher.dest / rel).unlink()
    report.failed.append(f"{rel}: SHA256 mismatch after a fresh download")
