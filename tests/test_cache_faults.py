"""Faults of the on-disk caches (#13): concurrent builds, damaged store files, stale temporary files,
corrupt feature-cache entries."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from sklearn_eeg import atomic_files
from sklearn_eeg.commands.build_cache import main as build_cache
from sklearn_eeg.data import EEGDataError, load_index, make_chbmit_like
from sklearn_eeg.features import cache as feature_cache
from sklearn_eeg.signal import windows as W

DAMAGED = ("chb01", "chb01_02")  # the recording the damage tests break


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Two subjects of four 7.5-min recordings each (8 recordings, 66 MB of float32 store)."""
    return make_chbmit_like(tmp_path_factory.mktemp("data"), n_subjects=2, hours=0.5, file_hours=0.125, seizures=1,
                            seed=3, min_separation_s=600, min_interictal_s=300, interictal_margin_s=600,
                            progress=False)


@pytest.fixture(scope="module")
def reference(dataset, tmp_path_factory) -> Path:
    """The cache folder of one ``build_cache --features basic`` run into a fresh cache."""
    cache_dir = tmp_path_factory.mktemp("reference")
    assert build_cache(["--data_root", str(dataset), "--cache_dir", str(cache_dir), "--features", "basic",
                        "--quiet"]) == 0
    return cache_dir


def _digests(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``, by relative path."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _mtimes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def _store_root(cache_dir: Path, dataset: Path) -> Path:
    return cache_dir / "windows" / W.store_params(dataset)[0]


def _copy_store(reference: Path, cache_dir: Path) -> Path:
    """A copy of the reference window store (file times kept), as a cache of its own."""
    shutil.copytree(reference / "windows", cache_dir / "windows")
    (root,) = (p for p in (cache_dir / "windows").iterdir() if p.is_dir())
    return root


def _dead_pid() -> int:
    """A pid no process has: above the kernel's largest (Linux), else a child that has been reaped."""
    try:
        return int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
    except OSError:  # pragma: no cover - not Linux
        child = subprocess.Popen([sys.executable, "-c", ""])
        child.wait()
        return child.pid


# ------------------------------------------------------------------ two concurrent build_cache runs


def test_concurrent_builds_equal_a_single_build(dataset, reference, tmp_path):
    """Two ``build_cache`` processes started on one fresh cache both exit 0 and leave exactly the files
    of a single run: the window store byte for byte, the same feature entries, no temporary or lock file.

    They are started while the test holds the first recording's lock and released once both wait on
    it, so they really build the same recordings at the same time whatever their start-up times.
    """
    cache_dir = tmp_path / "cache"
    first = load_index(dataset)[0].iloc[0]
    lock = _store_root(cache_dir, dataset) / first["subject"] / f"{first['recording']}.lock"
    lock.parent.mkdir(parents=True)
    command = [sys.executable, "-m", "sklearn_eeg.commands.build_cache", "--data_root", str(dataset),
               "--cache_dir", str(cache_dir), "--features", "basic", "--quiet"]
    started = time.monotonic()
    with W._locked(lock):
        runs = []
        for i in range(2):
            out, err = open(tmp_path / f"out{i}", "w+"), open(tmp_path / f"err{i}", "w+")
            runs.append((subprocess.Popen(command, stdout=out, stderr=err, cwd=tmp_path), out, err))
        while not all("waiting for another process building" in (tmp_path / f"err{i}").read_text()
                      for i in range(2)):
            for proc, out, err in runs:
                assert proc.poll() is None, (tmp_path / f"err{runs.index((proc, out, err))}").read_text()
            assert time.monotonic() - started < 60, "the runs never waited on the held lock"
            time.sleep(0.05)
    for i, (proc, out, err) in enumerate(runs):
        assert proc.wait(timeout=120) == 0, (tmp_path / f"err{i}").read_text()
        out.close(), err.close()
        assert "NOT STORED" not in (tmp_path / f"out{i}").read_text()
    assert _digests(cache_dir / "windows") == _digests(reference / "windows")
    # feature entries are keyed by the signal's absolute path and mtime (so named differently in each
    # cache) and their metadata.json holds timings: compare the outputs, one entry per recording, and
    # no file but joblib's own (no temporary file left)
    names = Counter(p.name for p in (cache_dir / "joblib").rglob("*") if p.is_file())
    assert names["output.pkl"] == names["metadata.json"] == 8
    assert set(names) <= {"output.pkl", "metadata.json", "func_code.py", ".gitignore"}, names
    outputs = [sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in (c / "joblib").rglob("output.pkl"))
               for c in (cache_dir, reference)]
    assert outputs[0] == outputs[1]


def test_lock_is_exclusive_and_removed_on_release(tmp_path):
    lock = tmp_path / "rec.lock"
    with W._locked(lock):
        assert lock.exists()
        assert W._acquire(lock, blocking=False) is None  # another open file: refused, even in this process
    assert not lock.exists()
    fd = W._acquire(lock, blocking=False)
    assert fd is not None
    W._release(lock, fd)
    assert not lock.exists()


# ------------------------------------------------------------------ damaged store files are rebuilt


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _drop_sizes_from_marker(folder: Path, recording: str) -> None:
    """Make the marker look like one written before #13 (no recorded file sizes)."""
    marker = folder / f"{recording}.json"
    done = json.loads(marker.read_text())
    del done["files"]
    marker.write_text(json.dumps(done))


TABLE = f".windows{W.TABLE_SUFFIX}"
#: damage done to one recording's files, and the suffix of the file the warning must name
DAMAGES = {
    "truncated signal": (lambda folder, rec: _truncate(folder / f"{rec}.npy"), ".npy"),
    "missing signal": (lambda folder, rec: (folder / f"{rec}.npy").unlink(), ".npy"),
    "signal longer than its header": (lambda folder, rec: open(folder / f"{rec}.npy", "ab").write(b"\0" * 64),
                                      ".npy"),
    "garbage signal header": (lambda folder, rec: open(folder / f"{rec}.npy", "r+b").write(b"garbage" * 20), ".npy"),
    "truncated window table": (lambda folder, rec: _truncate(folder / f"{rec}{TABLE}"), TABLE),
    "missing window table": (lambda folder, rec: (folder / f"{rec}{TABLE}").unlink(), TABLE),
    "corrupt marker": (lambda folder, rec: _truncate(folder / f"{rec}.json"), ".json"),
    "truncated signal, pre-#13 marker": (lambda folder, rec: (_drop_sizes_from_marker(folder, rec),
                                                              _truncate(folder / f"{rec}.npy")), ".npy"),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_store_file_is_rebuilt(damage, dataset, reference, tmp_path, caplog):
    """``build_cache`` rebuilds a damaged recording (one warning line naming the file), exits 0, and
    leaves the store byte-identical to the original; no other file is rewritten."""
    root = _copy_store(reference, tmp_path)
    before = _mtimes(root)
    subject, recording = DAMAGED
    damage_files, named = DAMAGES[damage]
    damage_files(root / subject, recording)
    caplog.set_level(logging.INFO, logger="sklearn_eeg.signal.windows")
    assert build_cache(["--data_root", str(dataset), "--cache_dir", str(tmp_path), "--quiet"]) == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "\n" not in warnings[0], warnings
    assert f"{subject}/{recording}" in warnings[0] and str(root / subject / f"{recording}{named}") in warnings[0]
    assert _digests(root) == _digests(reference / "windows" / root.name)
    rebuilt = {f"{subject}/{recording}{suffix}" for suffix in (".npy", ".json", TABLE)}
    after = _mtimes(root)
    assert {k: v for k, v in after.items() if k not in rebuilt} == {
        k: v for k, v in before.items() if k not in rebuilt}
    assert after[f"{subject}/{recording}.npy"] != before[f"{subject}/{recording}.npy"]


def test_intact_store_with_pre_13_markers_is_not_rebuilt(dataset, reference, tmp_path, monkeypatch):
    """Markers without recorded file sizes (stores built before #13) are still valid: nothing is redone."""
    root = _copy_store(reference, tmp_path)
    for marker in root.glob("*/*.json"):
        _drop_sizes_from_marker(marker.parent, marker.stem)
    before = _mtimes(root)

    def fail(*args, **kwargs):
        raise AssertionError("an intact recording was rebuilt")

    monkeypatch.setattr(W, "_build_recording", fail)
    store = W.build_window_store(dataset, cache_dir=tmp_path, progress=False)
    assert not store.errors and _mtimes(root) == before


def test_truncated_signal_is_a_clear_error_when_read(reference, tmp_path):
    """Reading a truncated store file (before build_cache repairs it) names the file and the fix."""
    root = _copy_store(reference, tmp_path)
    subject, recording = DAMAGED
    path = root / subject / f"{recording}.npy"
    _truncate(path)
    store = W.WindowStore.open(root)
    match = f"{path}.* shorter than its header says .*rebuild the window store"
    with pytest.raises(EEGDataError, match=match):
        store.recording_array(subject, recording)
    with pytest.raises(EEGDataError, match=match):
        feature_cache.signal_features(path, sfreq=256.0, window=10.0, stride=5.0, feature_set="basic", memory=None)


# ------------------------------------------------------------------ temporary and lock files


def test_only_dead_writers_temp_files_and_unheld_locks_are_removed(dataset, reference, tmp_path):
    root = _copy_store(reference, tmp_path)
    folder = root / "chb01"
    host, dead, alive = atomic_files._host(), _dead_pid(), os.getpid()
    files = {
        "chb01_01.npy.{host}-{dead}-0a1b.tmp": False,  # writer gone: removed
        "chb01_01.json.{dead}.tmp": False,  # name written before #13, writer gone: removed
        "chb01_02.npy.{host}-{alive}-0a1b.tmp": True,  # writer alive (in flight): kept
        "chb01_03.npy.{host}-{alive}-2c3d.tmp": False,  # writer alive but no write for two days: removed
        "chb01_04.npy.otherhost-{dead}-0a1b.tmp": True,  # another host's writer: judged by age only, kept
        "../params.json.{host}-{dead}-0a1b.tmp": False,
    }
    for name in files:
        (folder / name.format(host=host, dead=dead, alive=alive)).write_bytes(b"partial")
    old = time.time() - 2 * W.STALE_TEMP_SECONDS
    os.utime(folder / f"chb01_03.npy.{host}-{alive}-2c3d.tmp", (old, old))
    (root / "chb02" / "chb02_01.lock").touch()  # left by a killed build: nobody holds it
    before = _mtimes(root)
    with W._locked(root / "chb02" / "chb02_02.lock"):  # held by a (finished) recording's builder
        store = W.build_window_store(dataset, cache_dir=tmp_path, progress=False)
        assert (root / "chb02" / "chb02_02.lock").exists()
    assert not store.errors
    for name, kept in files.items():
        assert (folder / name.format(host=host, dead=dead, alive=alive)).exists() == kept, name
    assert not (root / "chb02" / "chb02_01.lock").exists()
    npy = {k: v for k, v in before.items() if k.endswith(".npy")}
    assert {k: v for k, v in _mtimes(root).items() if k.endswith(".npy")} == npy  # nothing rebuilt


def test_failed_atomic_write_leaves_the_old_file_and_no_temp(tmp_path):
    path = tmp_path / "table.parquet"
    path.write_bytes(b"old")

    def failing(fh):
        fh.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        W._atomic(path, failing)
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["table.parquet"]


# ------------------------------------------------------------------ feature-cache entries


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage"])
def test_corrupt_feature_entry_is_recomputed_and_rewritten(damage, dataset, reference, tmp_path, caplog):
    """joblib cannot load a damaged ``output.pkl``: it logs a warning, recomputes and rewrites the entry
    (no error reaches the caller); the next call loads it again silently."""
    signal = _store_root(reference, dataset) / "chb01" / "chb01_01.npy"
    memory = tmp_path / "joblib"
    kwargs = dict(sfreq=256.0, window=10.0, stride=5.0, feature_set="basic", memory=memory)
    F = feature_cache.signal_features(signal, **kwargs)
    (entry,) = memory.rglob("output.pkl")
    good = entry.read_bytes()
    if damage == "truncated":
        entry.write_bytes(good[: len(good) // 2])
    elif damage == "empty":
        entry.write_bytes(b"")
    else:
        entry.write_bytes(np.random.default_rng(0).bytes(len(good)))
    caplog.set_level(logging.WARNING)
    np.testing.assert_array_equal(feature_cache.signal_features(signal, **kwargs), F)
    assert any("Exception while loading results" in r.getMessage() for r in caplog.records)
    assert entry.read_bytes() == good
    caplog.clear()
    np.testing.assert_array_equal(feature_cache.signal_features(signal, **kwargs), F)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
