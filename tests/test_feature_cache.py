"""Per-recording feature cache: hits without recomputing, misses when a key part changes."""

from __future__ import annotations

import os

import numpy as np
import pytest
from joblib import Memory

from sklearn_eeg.features import cache as feature_cache
from sklearn_eeg.features.extractor import FeatureExtractor


@pytest.fixture
def window_file(tmp_path):
    X = np.random.default_rng(0).standard_normal((7, 18, 1024)).astype(np.float32) * 20
    path = tmp_path / "chb01_01_windows.npy"
    np.save(path, X)
    return path, X


@pytest.fixture
def transform_calls(monkeypatch):
    """Count FeatureExtractor.transform calls (the expensive step)."""
    calls = []
    original = FeatureExtractor.transform

    def counting(self, X):
        calls.append(self.get_params())
        return original(self, X)

    monkeypatch.setattr(FeatureExtractor, "transform", counting)
    return calls


def test_second_run_hits_cache(tmp_path, window_file, transform_calls):
    path, X = window_file
    memory = Memory(str(tmp_path / "joblib"), verbose=0)  # a str location, as recording_features makes
    first = feature_cache.recording_features(path, memory=memory)
    assert len(transform_calls) == 1
    expected = FeatureExtractor().fit(X).transform(X)
    np.testing.assert_array_equal(first, expected)
    second = feature_cache.recording_features(str(path), memory=tmp_path / "joblib")  # same key, path or str
    assert len(transform_calls) == 2  # the cached call plus the direct one above: no recompute
    np.testing.assert_array_equal(second, first)


def test_parameter_or_file_change_recomputes(tmp_path, window_file, transform_calls, monkeypatch):
    path, X = window_file
    memory = tmp_path / "joblib"
    feature_cache.recording_features(path, memory=memory)
    feature_cache.recording_features(path, memory=memory, feature_set="basic")
    assert [c["feature_set"] for c in transform_calls] == ["basic_plus", "basic"]
    feature_cache.recording_features(path, memory=memory, sfreq=200.0)
    assert len(transform_calls) == 3
    np.save(path, X[:3])  # rewritten file: new size and mtime
    os.utime(path, ns=(1, 1))
    assert feature_cache.recording_features(path, memory=memory).shape[0] == 3
    assert len(transform_calls) == 4
    monkeypatch.setattr(feature_cache, "FEATURE_CACHE_VERSION", feature_cache.FEATURE_CACHE_VERSION + 1)
    feature_cache.recording_features(path, memory=memory)
    assert len(transform_calls) == 5
    feature_cache.recording_features(path, memory=memory, verbose=True)  # verbose is not in the key
    assert len(transform_calls) == 5


def test_no_cache_and_missing_file(tmp_path, window_file, transform_calls):
    path, _ = window_file
    feature_cache.recording_features(path, memory=None)
    feature_cache.recording_features(path, memory=None)
    assert len(transform_calls) == 2
    with pytest.raises(FileNotFoundError, match="window_file"):
        feature_cache.recording_features(tmp_path / "absent.npy", memory=None)
    np.save(tmp_path / "flat.npy", np.zeros((3, 4)))
    with pytest.raises(ValueError, match="n_windows, n_channels, n_times"):
        feature_cache.recording_features(tmp_path / "flat.npy", memory=None)


# ------------------------------------------------------------------ features of a stored signal


def test_signal_features_equal_the_windows_features_and_are_cached(tmp_path, transform_calls):
    from sklearn_eeg.signal.windows import segment_windows

    signal = (np.random.default_rng(1).standard_normal((18, 256 * 700)) * 20).astype(np.float16)
    path = tmp_path / "chb01_01.npy"
    np.save(path, signal)
    memory = Memory(str(tmp_path / "joblib"), verbose=0)
    F = feature_cache.signal_features(path, sfreq=256.0, window=10.0, stride=5.0, memory=memory)
    windows = np.asarray(segment_windows(signal, 256.0, 10.0, 5.0), dtype=np.float32)
    expected = FeatureExtractor(sfreq=256.0).fit(windows[:1]).transform(windows)
    assert F.shape == (139, expected.shape[1]) and F.dtype == np.float32
    np.testing.assert_array_equal(F, expected)  # chunking (256 windows) changes nothing
    n_calls = len(transform_calls)
    again = feature_cache.signal_features(path, sfreq=256.0, window=10.0, stride=5.0, memory=memory)
    assert len(transform_calls) == n_calls and np.array_equal(again, F)  # a cache hit
    feature_cache.signal_features(path, sfreq=256.0, window=10.0, stride=2.5, memory=memory)
    assert len(transform_calls) > n_calls  # another stride: another key
    with pytest.raises(FileNotFoundError, match="does not exist"):
        feature_cache.signal_features(tmp_path / "missing.npy", sfreq=256.0, window=10.0, stride=5.0)


def test_load_dataset_features_never_load_the_windows(tmp_path, monkeypatch):
    """The run paths' feature matrix comes from the stores' memory maps recording by recording,
    equal to featurizing the loaded windows, and never through ``WindowStore.to_array``."""
    import dataclasses

    from sklearn_eeg.experiments.config import load_config
    from sklearn_eeg.data.synthetic import make_chbmit_like
    from sklearn_eeg.data.labeling import STATES
    from sklearn_eeg.experiments.run_data import compute_features, load_dataset
    from sklearn_eeg.signal.windows import WindowStore, load_windows

    root = make_chbmit_like(tmp_path / "data", n_subjects=2, hours=1.0, seizures=1, seed=3, progress=False)
    cfg = load_config(data__data_root=str(root), data__cache_dir=str(tmp_path / "cache"), n_jobs=1)
    X, y_ref, _, meta_ref = load_windows(root, cache_dir=cfg.data.cache_dir, states=STATES, progress=False,
                                         **dataclasses.asdict(cfg.labeling))
    expected = compute_features(X, feature_set=cfg.features.feature_set, progress=False)

    def refuse(self, progress=False):
        raise AssertionError("the feature path must not load every window")

    monkeypatch.setattr(WindowStore, "to_array", refuse)
    F, y, groups, meta = load_dataset(cfg, progress=False)
    np.testing.assert_array_equal(F, expected)
    assert np.array_equal(y, y_ref) and meta.equals(meta_ref) and (groups == meta["subject"]).all()
    assert (tmp_path / "cache" / "joblib").is_dir()  # cached per recording under <cache_dir>/joblib


@pytest.mark.slow  # ~8 s: starts a local Dask cluster
def test_feature_jobs_run_on_a_dask_cluster_with_a_shared_cache(tmp_path):
    distributed = pytest.importorskip("distributed")
    from sklearn_eeg.experiments.config import load_config
    from sklearn_eeg.data.synthetic import make_chbmit_like
    from sklearn_eeg.experiments.run_data import load_dataset

    root = make_chbmit_like(tmp_path / "data", n_subjects=2, hours=1.0, seizures=1, seed=4, progress=False)
    local = load_config(data__data_root=str(root), data__cache_dir=str(tmp_path / "local"), n_jobs=1)
    shared = load_config(data__data_root=str(root), data__cache_dir=str(tmp_path / "shared"), n_jobs=1)
    expected = load_dataset(local, progress=False)[0]
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=None
    ) as cluster:
        F = load_dataset(shared, scheduler=cluster.scheduler_address, progress=False)[0]
    np.testing.assert_array_equal(F, expected)
    # the workers wrote one cached entry per recording into the shared cache folder
    entries = list((tmp_path / "shared" / "joblib").rglob("output.pkl"))
    assert len(entries) == 2
