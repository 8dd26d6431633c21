"""Windowing, the on-disk window store and load_windows on a tiny synthetic dataset."""

from __future__ import annotations

import json
import os
import pickle
import shutil

import numpy as np
import pytest

from sklearn_eeg.signal import windows as W
from sklearn_eeg.data import EEGDataError, load_index, make_chbmit_like, read_edf
from sklearn_eeg.data.labeling import label_windows
from sklearn_eeg.signal.preprocessing import filter_signal


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    return make_chbmit_like(root, n_subjects=2, hours=1.5, file_hours=0.5, seizures=1, seed=3,
                            min_separation_s=600, min_interictal_s=300, interictal_margin_s=900, progress=False)


@pytest.fixture(scope="module")
def store(dataset, tmp_path_factory):
    return W.build_window_store(dataset, cache_dir=tmp_path_factory.mktemp("cache"), progress=False)


def test_segment_windows_is_a_strided_view():
    data = np.arange(2 * 40, dtype=np.float32).reshape(2, 40)
    win = W.segment_windows(data, 4.0, window=2.5, stride=1.25)  # 10 samples, step 5
    assert win.shape == (7, 2, 10)
    assert np.shares_memory(win, data)
    np.testing.assert_array_equal(win[3], data[:, 15:25])
    assert W.segment_windows(data[:, :5], 4.0, 2.5, 1.25).shape == (0, 2, 10)
    with pytest.raises(ValueError, match="whole number"):
        W.segment_windows(data, 4.0, window=2.6, stride=1.25)


def test_bad_windows_flags_artifacts_and_flat_channels():
    rng = np.random.default_rng(0)
    win = rng.normal(0, 20, size=(4, 3, 100)).astype(np.float32)
    win[1, 2, 50] = 2000.0
    win[2, 0] = 5.0
    win[:, 1] = 0.0  # an absent (zero-filled) channel
    mask = np.array([True, False, True])
    np.testing.assert_array_equal(W.bad_windows(win, channel_mask=mask), [False, True, True, False])
    assert W.bad_windows(win).all()  # without the mask the zero channel is flat everywhere


def test_store_round_trip_equals_filtered_signal(store, dataset):
    recordings, _ = load_index(dataset)
    rec = recordings.iloc[1]
    expected = filter_signal(read_edf(rec["path"]).data, 256.0)
    arr = store.recording_array(rec["subject"], rec["recording"])
    assert not arr.flags.writeable  # a read-only view of the memory map
    assert arr.shape == ((expected.shape[1] - 2560) // 1280 + 1, 18, 2560)
    np.testing.assert_array_equal(arr[7], expected[:, 7 * 1280: 7 * 1280 + 2560])
    rows = np.flatnonzero((store.table["recording"] == rec["recording"]).to_numpy())
    i = rows[10]
    k = int(store.table["t_start"].iloc[i] / 5.0)
    np.testing.assert_array_equal(store[i], expected[:, k * 1280: k * 1280 + 2560])
    assert store[i].dtype == np.float32 and len(store) == len(store.table)


def test_store_table_matches_labels(store, dataset):
    recordings, seizures = load_index(dataset)
    labels = label_windows(recordings, seizures)
    assert len(store) == len(labels)
    assert store.table["state"].value_counts().to_dict() == labels["state"].value_counts().to_dict()
    assert store.table["bad"].dtype == bool
    reopened = W.WindowStore.open(store.root)
    assert len(reopened) == len(store)
    np.testing.assert_array_equal(reopened[5], store[5])


def test_second_build_does_no_work(store, dataset, monkeypatch):
    cache_dir = store.root.parents[1]
    mtimes = {p: p.stat().st_mtime_ns for p in store.root.glob("*/*.npy")}

    def fail(*args, **kwargs):
        raise AssertionError("a finished recording was rebuilt")

    monkeypatch.setattr(W, "_build_recording", fail)
    again = W.build_window_store(dataset, cache_dir=cache_dir, progress=False)
    assert len(again) == len(store) and not again.errors
    assert {p: p.stat().st_mtime_ns for p in store.root.glob("*/*.npy")} == mtimes


def test_two_datasets_with_the_same_recording_names_never_share_a_store(store, dataset, tmp_path, monkeypatch):
    """Each dataset folder has its own store: building another dataset whose recordings have the same
    names (as the synthetic presets do) leaves this store's files untouched, so a run reading it
    lazily never gets the other dataset's windows."""
    cache_dir = store.root.parents[1]
    other = make_chbmit_like(tmp_path / "other", n_subjects=1, hours=0.5, file_hours=0.5, seizures=0, seed=9,
                             progress=False)
    files = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in store.root.rglob("*") if p.is_file()}
    built = W.build_window_store(other, cache_dir=cache_dir, progress=False)
    assert built.root != store.root and built.table["recording"].isin(store.table["recording"]).all()
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in store.root.rglob("*") if p.is_file()} == files
    assert json.loads((built.root / "params.json").read_text())["data_root"] == str(other.resolve())
    monkeypatch.setattr(W, "_build_recording", lambda *a, **k: pytest.fail("a finished recording was rebuilt"))
    assert len(W.build_window_store(dataset, cache_dir=cache_dir, progress=False)) == len(store)


def test_half_written_recording_is_redone(dataset, tmp_path):
    first = W.build_window_store(dataset, ["chb01"], cache_dir=tmp_path, progress=False)
    folder = first.root / "chb01"
    good = np.load(folder / "chb01_02.npy")
    # simulate a crash while writing: marker gone, array truncated, a temp file left behind
    (folder / "chb01_02.json").unlink()
    with open(folder / "chb01_02.npy", "r+b") as fh:
        fh.truncate(1000)
    (folder / "chb01_02.npy.999.tmp").write_bytes(b"partial")
    os.utime(folder / "chb01_02.npy.999.tmp", (0, 0))  # a leftover however pid 999 is doing: no write for decades
    calls = []
    build = W._build_recording

    def counting(path, *args, **kwargs):
        calls.append(os.path.basename(path))
        return build(path, *args, **kwargs)

    W._build_recording = counting
    try:
        again = W.build_window_store(dataset, ["chb01"], cache_dir=tmp_path, progress=False)
    finally:
        W._build_recording = build
    assert calls == ["chb01_02.edf"]
    np.testing.assert_array_equal(np.load(folder / "chb01_02.npy"), good)
    assert json.loads((folder / "chb01_02.json").read_text())["shape"] == list(good.shape)
    assert len(again) == len(first)
    assert not list(folder.glob("*.tmp"))


def test_corrupt_and_missing_edf_reported_cache_kept(dataset, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(dataset / "chb01", data / "chb01")
    for name in ("RECORDS", "RECORDS-WITH-SEIZURES"):
        if (dataset / name).exists():
            shutil.copy(dataset / name, data / name)
    first = W.build_window_store(data, cache_dir=tmp_path / "cache", progress=False)
    kept = np.load(first.root / "chb01" / "chb01_01.npy")
    with open(data / "chb01" / "chb01_02.edf", "r+b") as fh:
        fh.truncate(300)
    (data / "chb01" / "chb01_03.edf").unlink()
    again = W.build_window_store(data, cache_dir=tmp_path / "cache", progress=False)
    assert set(map(os.path.basename, again.errors)) == {"chb01_02.edf", "chb01_03.edf"}
    assert "not found" in again.errors[str(data / "chb01" / "chb01_03.edf")]
    assert set(again.table["recording"]) == {"chb01_01"}
    np.testing.assert_array_equal(np.load(first.root / "chb01" / "chb01_01.npy"), kept)


def test_float16_store(store, dataset, tmp_path):
    half = W.build_window_store(dataset, ["chb02"], cache_dir=tmp_path, dtype="float16", progress=False)
    assert half.root != store.root
    rec = half.table["recording"].iloc[0]
    assert half.recording_array("chb02", rec).dtype == np.float16
    full = store.recording_array("chb02", rec)
    assert half[3].dtype == np.float32
    np.testing.assert_allclose(half[3], full[3], rtol=2e-3, atol=0.05)
    assert half.disk_nbytes * 2 == pytest.approx(sum(
        (store.root / "chb02" / f"{r}.npy").stat().st_size for r in half.table["recording"].unique()), rel=1e-3)


def test_load_windows_defaults_to_the_full_timeline(store, dataset):
    """Every state by default (alarm scoring needs the excluded windows); y is -1 on them."""
    cache_dir = store.root.parents[1]
    _, y, _, meta = W.load_windows(dataset, ["chb01"], cache_dir=cache_dir, progress=False)
    labels = label_windows(*load_index(dataset, subjects=["chb01"]))
    assert len(meta) == len(labels) == len(store.table[store.table["subject"] == "chb01"])
    assert set(meta["state"]) == set(labels["state"]) and {"excluded", "ictal"} <= set(meta["state"])
    np.testing.assert_array_equal(y, meta["label"])
    assert set(np.unique(y)) == {-1, 0, 1} and ((y == -1) == ~meta["state"].isin(["preictal", "interictal"])).all()
    lazy = W.load_window_store(dataset, ["chb01"], cache_dir=cache_dir, progress=False)
    assert len(lazy) == len(meta) and set(lazy.table["state"]) == set(meta["state"])


def test_load_windows_shapes_and_counts(store, dataset):
    cache_dir = store.root.parents[1]
    X, y, groups, meta = W.load_windows(dataset, cache_dir=cache_dir, progress=False,
                                        states=("preictal", "interictal"))
    recordings, seizures = load_index(dataset)
    labels = label_windows(recordings, seizures)
    assert X.shape == (len(meta), 18, 2560) and X.dtype == np.float32
    assert (y == 1).sum() == (labels["label"] == 1).sum() > 0
    assert (y == 0).sum() == (labels["label"] == 0).sum() > 0
    assert set(np.unique(y)) == {0, 1}
    assert list(np.unique(groups)) == ["chb01", "chb02"]
    assert list(meta.index) == list(range(len(meta)))
    assert "bad" in meta.columns and "state" in meta.columns
    i = 17
    j = np.flatnonzero((store.table["recording"] == meta["recording"][i])
                       & (store.table["t_start"] == meta["t_start"][i]))[0]
    np.testing.assert_array_equal(X[i], store[j])
    X_all, y_all, _, meta_all = W.load_windows(dataset, cache_dir=cache_dir, progress=False,
                                               states=("ictal",))
    assert len(X_all) == (labels["state"] == "ictal").sum() and (y_all == -1).all()


def test_store_pickles_without_memmaps(store):
    first = store[0]
    data = pickle.dumps(store)
    assert b"memmap" not in data and len(data) < store.table.memory_usage(deep=True).sum() + 100_000
    clone = pickle.loads(data)
    np.testing.assert_array_equal(clone[0], first)
    np.testing.assert_array_equal(clone[len(clone) - 1], store[-1])


def test_single_window_reads_equal_the_memory_map_and_keep_no_map(store, tmp_path):
    """``get`` (positional reads per channel) equals the strided memory-map view, float16 stores too,
    and a truncated signal file is a clear error."""
    rows = np.linspace(0, len(store) - 1, 25).astype(int)
    expected = [store.recording_array(*store.table.loc[i, ["subject", "recording"]])[
        int(round(store.table.loc[i, "t_start"] / store.params["stride"]))].copy() for i in rows]
    fresh = W.WindowStore(store.root, store.table)
    for i, window in zip(rows, expected):
        np.testing.assert_array_equal(fresh.get(i), window)
    if os.path.exists("/proc/self/maps"):  # Linux: the reads left no mapping of the store's files
        assert not [line for line in open("/proc/self/maps") if str(store.root) in line]
    copy = tmp_path / "store"
    shutil.copytree(store.root, copy)
    rec = store.table.iloc[-1]
    path = copy / rec["subject"] / f"{rec['recording']}.npy"
    for layout_known in (True, False):
        shutil.copy(store.root / rec["subject"] / f"{rec['recording']}.npy", path)
        truncated = W.WindowStore(copy, store.table)
        if layout_known:
            truncated.get(len(store) - 1)
        os.truncate(path, path.stat().st_size // 2)
        with pytest.raises(EEGDataError, match="shorter than its header"):
            truncated.get(len(store) - 1)


def test_window_array_is_the_loaded_array_read_lazily(store, monkeypatch):
    """Every kind of index gives what the loaded array gives; sub-views, pickles and the fold-store
    fingerprint never read a window (``take`` refused), an integer index reads one."""
    from sklearn_eeg.experiments.fold_store import fingerprint

    full = store.to_array()
    X = W.WindowArray(store)
    assert X.shape == full.shape and len(X) == len(full) and X.dtype == full.dtype and np.ndim(X) == 3
    rows = np.array([5, 0, len(full) - 1, 5])
    mask = np.arange(len(full)) % 3 == 0

    def refuse(self, rows, progress=False):
        raise AssertionError("a lazy view must not load windows")

    monkeypatch.setattr(W.WindowStore, "take", refuse)
    views = {"slice": (X[2:40:3], full[2:40:3]), "rows": (X[rows], full[rows]), "mask": (X[mask], full[mask]),
             "nested": (X[10:][rows[:2]], full[10:][rows[:2]]), "pickled": (pickle.loads(pickle.dumps(X[rows])), full[rows])}
    fingerprints = {fingerprint(X[rows]), fingerprint(X[rows[::-1]]), fingerprint(X)}
    for name, (view, expected) in views.items():
        assert isinstance(view, W.WindowArray) and view.shape == expected.shape, name
        np.testing.assert_array_equal(view[1], expected[1], err_msg=name)
        np.testing.assert_array_equal(view[-1], expected[-1], err_msg=name)
    monkeypatch.undo()
    for name, (view, expected) in views.items():
        np.testing.assert_array_equal(np.asarray(view), expected, err_msg=name)
    assert len(fingerprints) == 3 and fingerprint(X[rows]) == fingerprint(W.WindowArray(store, rows))
    with pytest.raises(IndexError):
        X[len(full)]


def test_bad_arguments(dataset, tmp_path):
    with pytest.raises(TypeError, match="sop_s"):
        W.build_window_store(dataset, cache_dir=tmp_path, sop_s=600, progress=False)
    with pytest.raises(ValueError, match="dtype"):
        W.build_window_store(dataset, cache_dir=tmp_path, dtype="int16", progress=False)
    with pytest.raises(ValueError, match="states"):
        W.load_windows(dataset, cache_dir=tmp_path, states=("preictl",), progress=False)
    with pytest.raises(FileNotFoundError, match="params.json"):
        W.WindowStore.open(tmp_path)


def _script(name):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "pipelines" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"pipelines_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_cache_and_report_scripts(store, dataset, capsys):
    cache_dir = store.root.parents[1]
    assert _script("build_cache").main(["--data_root", str(dataset), "--cache_dir", str(cache_dir),
                                        "--subjects", "chb01", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert store.root.name in out and "preictal" in out
    # --features: the feature matrix of every window, cached per recording where the run scripts look
    from sklearn_eeg.experiments.run_data import store_features

    assert _script("build_cache").main(["--data_root", str(dataset), "--cache_dir", str(cache_dir),
                                        "--subjects", "chb01", "--features", "basic", "--quiet"]) == 0
    assert "features basic" in capsys.readouterr().out
    cached = list((cache_dir / "joblib").rglob("output.pkl"))
    chb01 = store.select(store.table["subject"] == "chb01")
    assert len(cached) == chb01.table["recording"].nunique()
    F = store_features(chb01, feature_set="basic", cache_dir=cache_dir, progress=False)
    assert F.shape[0] == len(chb01) and len(list((cache_dir / "joblib").rglob("output.pkl"))) == len(cached)
    assert _script("cache_report").main(["--cache_dir", str(cache_dir)]) == 0
    out = capsys.readouterr().out
    assert "chb01" in out and "chb02" in out and "positive rate" in out
    assert _script("build_cache").main(["--data_root", str(dataset / "nope")]) == 2
    assert capsys.readouterr().err == f"error: --data_root {dataset / 'nope'} is not a folder\n"
    for name in ("build_cache", "cache_report", "bench_io"):
        with pytest.raises(SystemExit) as exc:
            _script(name).main(["--help"])
        assert exc.value.code == 0
