"""Downloader against a local HTTP server with Range support serving a fake PhysioNet layout."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import threading
from collections import namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from sklearn_eeg.data import download as download_module
from sklearn_eeg.data.download import DownloadError, download_chbmit, read_checksums

REPO = Path(__file__).resolve().parents[1]
PREFIX = "/files/chbmit/1.0.0/"
EDFS = ["chb01/chb01_01.edf", "chb01/chb01_02.edf", "chb02/chb02_01.edf"]
ANNOTATION = "chb01/chb01_02.edf.seizures"
SUBJ = ("chb01", "chb02")


class RangeHandler(BaseHTTPRequestHandler):
    """Serves ``server.root`` under PREFIX; honours ``Range: bytes=N-``; can drop a transfer."""

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_HEAD(self):
        self._serve(head=True)

    def do_GET(self):
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        rel = self.path[len(PREFIX) :] if self.path.startswith(PREFIX) else None
        requested = self.headers.get("Range")
        self.server.requests.append((self.command, rel, requested))
        path = self.server.root / rel if rel else None
        if path is None or not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start, status = 0, 200
        if requested:
            start = int(re.fullmatch(r"bytes=(\d+)-", requested).group(1))
            if start >= len(data):
                self.send_error(416)
                return
            status = 206
        body = data[start:]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if head:
            return
        cut = self.server.cuts.pop(rel, None)
        self.wfile.write(body if cut is None else body[:cut])
        if cut is not None:
            self.close_connection = True


Served = namedtuple("Served", "url root server")


@pytest.fixture
def served(tmp_path):
    """A fake PhysioNet CHB-MIT tree (tiny random EDF payloads) on 127.0.0.1."""
    root = tmp_path / "remote"
    rng = np.random.default_rng(0)
    for rel in EDFS:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(rng.integers(0, 256, 40_000 + 1000 * len(rel), dtype=np.uint8).tobytes())
    for subject in SUBJ:
        (root / subject / f"{subject}-summary.txt").write_text(f"Data Sampling Rate: 256 Hz\n# {subject}\n")
    (root / "RECORDS").write_text("\n".join(EDFS) + "\n")
    (root / "RECORDS-WITH-SEIZURES").write_text("chb01/chb01_02.edf\n")
    (root / ANNOTATION).write_bytes(b"\x00\x58\x00\x00")
    sums = [
        f"{hashlib.sha256((root / rel).read_bytes()).hexdigest()} {rel}"
        for rel in ["RECORDS", "RECORDS-WITH-SEIZURES", *EDFS, ANNOTATION, *(f"{s}/{s}-summary.txt" for s in SUBJ)]
    ]
    (root / "SHA256SUMS.txt").write_text("\n".join(sums) + "\n")
    server = ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    server.root, server.requests, server.cuts = root, [], {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Served(f"http://127.0.0.1:{server.server_address[1]}{PREFIX}", root, server)
    server.shutdown()
    server.server_close()


def gets(served, rel):
    return [r for r in served.server.requests if r[0] == "GET" and r[1] == rel]


def same(served, dest, rel):
    return (dest / rel).read_bytes() == (served.root / rel).read_bytes()


def test_full_download_then_skip(served, tmp_path):
    dest = tmp_path / "local"
    report = download_chbmit(dest, ["chb01"], base_url=served.url, progress=False)
    assert report.ok, report.failed
    expected = ["chb01/chb01-summary.txt", "chb01/chb01_01.edf", "chb01/chb01_02.edf", ANNOTATION]
    assert sorted(report.downloaded) == expected
    for rel in expected + ["RECORDS", "RECORDS-WITH-SEIZURES", "SHA256SUMS.txt"]:
        assert same(served, dest, rel), rel
    assert not (dest / "chb02").exists()
    assert report.free_bytes > 0 and report.needed_bytes == sum((served.root / r).stat().st_size for r in expected)
    assert not list(dest.rglob("*.part"))
    n_requests = len(served.server.requests)
    again = download_chbmit(dest, ["chb01"], base_url=served.url, progress=False)
    assert sorted(again.skipped) == expected and again.downloaded == [] and again.ok
    assert not any(r[0] == "GET" for r in served.server.requests[n_requests:])


def test_all_subjects_and_unknown_subject(served, tmp_path):
    report = download_chbmit(tmp_path / "all", "all", base_url=served.url, progress=False)
    assert report.ok and len(report.downloaded) == 6
    plain = download_chbmit(tmp_path / "plain", ["chb01"], base_url=served.url, progress=False, annotations=False)
    assert ANNOTATION not in plain.downloaded and len(plain.downloaded) == 3
    assert same(served, tmp_path / "all", "chb02/chb02_01.edf")
    with pytest.raises(ValueError, match="chb07"):
        download_chbmit(tmp_path / "x", ["chb07"], base_url=served.url, progress=False)


@pytest.mark.parametrize("suffix", [".part", ""])
def test_partial_file_resumes_with_range(served, tmp_path, suffix):
    dest = tmp_path / "local"
    rel = "chb01/chb01_01.edf"
    (dest / "chb01").mkdir(parents=True)
    (dest / (rel + suffix)).write_bytes((served.root / rel).read_bytes()[:12_345])
    report = download_chbmit(dest, ["chb01"], base_url=served.url, progress=False)
    assert report.resumed == [rel] and report.ok
    assert same(served, dest, rel)
    assert gets(served, rel) == [("GET", rel, "bytes=12345-")]


def test_interrupted_transfer_is_resumed(served, tmp_path, monkeypatch):
    monkeypatch.setattr(download_module, "RETRY_BACKOFF_S", 0.0)
    rel = "chb01/chb01_02.edf"
    served.server.cuts[rel] = 5_000
    report = download_chbmit(tmp_path / "local", ["chb01"], base_url=served.url, progress=False, timeout=5)
    assert report.ok and rel in report.resumed
    assert same(served, tmp_path / "local", rel)
    assert [r[2] for r in gets(served, rel)] == [None, "bytes=5000-"]


def test_corrupt_local_file_detected_and_refetched(served, tmp_path):
    dest = tmp_path / "local"
    download_chbmit(dest, ["chb01"], base_url=served.url, progress=False)
    rel = "chb01/chb01_02.edf"
    data = bytearray((dest / rel).read_bytes())
    data[100] ^= 0xFF  # same size, one byte flipped
    (dest / rel).write_bytes(bytes(data))
    report = download_chbmit(dest, ["chb01"], base_url=served.url, progress=False)
    assert report.refetched == [rel] and report.ok
    assert same(served, dest, rel)


def test_corrupt_remote_file_reported(served, tmp_path):
    rel = "chb01/chb01_01.edf"
    sums = (served.root / "SHA256SUMS.txt").read_text()
    good = read_checksums(served.root / "SHA256SUMS.txt")[rel]
    (served.root / "SHA256SUMS.txt").write_text(sums.replace(good, "0" * 64))
    report = download_chbmit(tmp_path / "local", ["chb01"], base_url=served.url, progress=False)
    assert not report.ok
    assert report.failed == [f"{rel}: SHA256 mismatch after a fresh download"]
    assert not (tmp_path / "local" / rel).exists()
    assert len(gets(served, rel)) == 2
    unverified = download_chbmit(tmp_path / "plain", ["chb01"], base_url=served.url, progress=False, verify=False)
    assert unverified.ok


def test_missing_records_and_small_disk(served, tmp_path, monkeypatch):
    with pytest.raises(DownloadError, match="RECORDS"):
        download_chbmit(tmp_path / "a", base_url=served.url + "nothing/", progress=False)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(download_module.shutil, "disk_usage", lambda path: usage(100, 90, 10))
    with pytest.raises(DownloadError, match="GB free"):
        download_chbmit(tmp_path / "b", ["chb01"], base_url=served.url, progress=False)
    assert not (tmp_path / "b" / "chb01" / "chb01_01.edf").exists()


def test_server_without_head(served, tmp_path, monkeypatch):
    monkeypatch.setattr(RangeHandler, "do_HEAD", lambda self: self.send_error(501))
    dest = tmp_path / "local"
    report = download_chbmit(dest, ["chb02"], base_url=served.url, progress=False)
    assert report.ok and report.needed_bytes == 0  # sizes unknown
    assert sorted(report.downloaded) == ["chb02/chb02-summary.txt", "chb02/chb02_01.edf"]
    assert same(served, dest, "chb02/chb02_01.edf")
    again = download_chbmit(dest, ["chb02"], base_url=served.url, progress=False)
    assert len(again.skipped) == 2 and again.ok


def test_read_checksums(tmp_path):
    path = tmp_path / "SHA256SUMS.txt"
    path.write_text("ABC123 chb01/chb01_01.edf\n\ndef456 *RECORDS\n")
    assert read_checksums(path) == {"chb01/chb01_01.edf": "abc123", "RECORDS": "def456"}


def test_script(served, tmp_path):
    script = REPO / "pipelines" / "download_chbmit.py"
    run = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0 and "--subjects" in run.stdout
    dest = tmp_path / "cli"
    cmd = [sys.executable, str(script), "--dest", str(dest), "--subjects", "chb02", "--base_url", served.url, "--quiet"]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr
    assert "downloaded 2" in run.stdout
    assert same(served, dest, "chb02/chb02_01.edf")


# --------------------------------------------------------------------------- unsafe paths (issue #13)
def outside(top: Path, dest: Path) -> list[str]:
    """Everything under ``top`` that is not under ``dest``, as sorted strings."""
    return sorted(str(p) for p in top.rglob("*") if not p.is_relative_to(dest))


def data_gets(served):
    """GET requests for anything but the three lists."""
    return [r for r in served.server.requests if r[0] == "GET" and r[1] not in download_module.INDEX_FILES]


def append_line(path: Path, line: str) -> int:
    """Append ``line`` to a list file; return its 1-based line number."""
    text = path.read_text()
    path.write_text(text + line + "\n")
    return len(text.splitlines()) + 1


@pytest.mark.parametrize(
    ("listing", "entry", "reason"),
    [
        ("RECORDS", "chb01/../../escaped/evil.edf", "'..' component"),
        ("RECORDS", "chb01/../../../../../../escaped/evil.edf", "'..' component"),
        ("RECORDS", "{tmp}/escaped/evil.edf", "absolute path"),
        ("RECORDS", "chb01\\..\\..\\evil.edf", "backslash"),
        ("RECORDS", "C:/escaped/evil.edf", "drive letter"),
        ("RECORDS", "chb01//evil.edf", "empty component"),
        ("RECORDS-WITH-SEIZURES", "chb01/../../escaped/evil.edf", "'..' component"),
        ("SHA256SUMS.txt", "0123abcd chb01/../../escaped/chb01_01.edf.seizures", "'..' component"),
        ("SHA256SUMS.txt", "0123abcd {tmp}/escaped/chb01_01.edf.seizures", "absolute path"),
        ("SHA256SUMS.txt", "0123abcd *chb02/../../../escaped", "'..' component"),  # another subject's entry
    ],
)
def test_unsafe_list_entry_refuses_the_whole_download(served, tmp_path, listing, entry, reason):
    """A crafted line in any list stops the download before any data file is fetched, naming file and line."""
    entry = entry.format(tmp=tmp_path)
    lineno = append_line(served.root / listing, entry)
    dest = tmp_path / "a" / "local"
    dest.parent.mkdir()
    before, parent_before = outside(tmp_path, dest), sorted(tmp_path.parent.iterdir())
    shown = entry.split(maxsplit=1)[-1].lstrip("*") if listing == "SHA256SUMS.txt" else entry
    pattern = rf"{re.escape(str(dest / listing))}, line {lineno}: unsafe path {re.escape(repr(shown))} \(.*{reason}"
    with pytest.raises(DownloadError, match=pattern) as caught:
        download_chbmit(dest, "all", base_url=served.url, progress=False)
    assert isinstance(caught.value, download_module.UnsafePathError) and isinstance(caught.value, ValueError)
    assert data_gets(served) == []  # refused up front: no EDF, summary or annotation was fetched
    assert sorted(p.name for p in dest.iterdir()) == sorted(download_module.INDEX_FILES)
    assert outside(tmp_path, dest) == before and sorted(tmp_path.parent.iterdir()) == parent_before


def test_read_checksums_refuses_unsafe_entries(tmp_path):
    path = tmp_path / "SHA256SUMS.txt"
    path.write_text("abc chb01/chb01_01.edf\n\ndef ../../etc/passwd\n")
    message = r"SHA256SUMS\.txt, line 3: unsafe path '\.\./\.\./etc/passwd'"
    with pytest.raises(download_module.UnsafePathError, match=message):
        read_checksums(path)


@pytest.mark.parametrize("link", ["chb01", "chb01/chb01_01.edf", "chb01/chb01_01.edf.part", "SHA256SUMS.txt"])
def test_symlink_leading_out_of_dest_is_refused(served, tmp_path, link):
    """A link inside dest (subject folder, file, partial file, list) that points outside it is never written through."""
    dest = tmp_path / "a" / "local"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (dest / "chb01").mkdir(parents=True)
    if link == "chb01":
        (dest / "chb01").rmdir()
        (dest / "chb01").symlink_to(elsewhere, target_is_directory=True)
    else:
        (dest / link).symlink_to(elsewhere / "target")
    before = outside(tmp_path, dest)
    with pytest.raises(download_module.UnsafePathError, match=rf"resolves to {re.escape(str(elsewhere))}.*, outside "):
        download_chbmit(dest, ["chb01"], base_url=served.url, progress=False)
    assert data_gets(served) == []
    assert list(elsewhere.iterdir()) == [] and outside(tmp_path, dest) == before


def test_symlink_message_names_the_list_line(served, tmp_path):
    dest = tmp_path / "local"
    dest.mkdir()
    (dest / "chb02").symlink_to(tmp_path, target_is_directory=True)
    message = rf"{re.escape(str(dest / 'RECORDS'))}, line 3 \(subject chb02\): 'chb02/chb02-summary\.txt' resolves"
    with pytest.raises(download_module.UnsafePathError, match=message):
        download_chbmit(dest, ["chb02"], base_url=served.url, progress=False)


def test_dest_itself_may_be_a_symlink(served, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    report = download_chbmit(tmp_path / "link", ["chb02"], base_url=served.url, progress=False)
    assert report.ok and same(served, real, "chb02/chb02_01.edf")


@pytest.mark.parametrize(
    ("listing", "entry"),
    [("RECORDS", "chb01/../../escaped/evil.edf"), ("SHA256SUMS.txt", "0123 /etc/chb01_01.edf.seizures")],
)
def test_command_reports_unsafe_entry_in_one_line(served, tmp_path, capsys, listing, entry):
    from sklearn_eeg.commands.download_chbmit import main

    lineno = append_line(served.root / listing, entry)
    dest = tmp_path / "a" / "local"
    dest.parent.mkdir()
    before = outside(tmp_path, dest)
    code = main(["--dest", str(dest), "--subjects", "chb01", "--base_url", served.url, "--quiet"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert len(captured.err.splitlines()) == 1, captured.err
    assert captured.err.startswith(f"error: {dest / listing}, line {lineno}: unsafe path ")
    assert outside(tmp_path, dest) == before and data_gets(served) == []


def test_command_reports_other_refusals_in_one_line(served, tmp_path, capsys):
    from sklearn_eeg.commands.download_chbmit import main

    code = main(["--dest", str(tmp_path / "x"), "--subjects", "chb07", "--base_url", served.url, "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error: subjects ['chb07']")
    code = main(["--dest", str(tmp_path / "y"), "--base_url", served.url + "nothing/", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1 and "cannot fetch" in err and "RECORDS" in err


def test_script_refuses_traversal(served, tmp_path):
    append_line(served.root / "RECORDS", "chb01/../../escaped/evil.edf")
    dest = tmp_path / "a" / "cli"
    script = REPO / "pipelines" / "download_chbmit.py"
    cmd = [sys.executable, str(script), "--dest", str(dest), "--base_url", served.url, "--quiet"]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "RECORDS, line 4: unsafe path 'chb01/../../escaped/evil.edf'" in run.stderr
    assert not (tmp_path / "escaped").exists() and data_gets(served) == []


def test_empty_remote_file(served, tmp_path):
    (served.root / "RECORDS-WITH-SEIZURES").write_text("")
    report = download_chbmit(tmp_path / "local", ["chb02"], base_url=served.url, progress=False, verify=False)
    assert report.ok and (tmp_path / "local" / "RECORDS-WITH-SEIZURES").read_bytes() == b""


def test_symlink_loop_is_refused(served, tmp_path):
    dest = tmp_path / "local"
    dest.mkdir()
    (dest / "chb01").symlink_to(dest / "chb01", target_is_directory=True)
    message = r"RECORDS, line 1 \(subject chb01\): 'chb01/chb01-summary\.txt' cannot be resolved"
    with pytest.raises(download_module.UnsafePathError, match=message):
        download_chbmit(dest, ["chb01"], base_url=served.url, progress=False)
    assert data_gets(served) == []
