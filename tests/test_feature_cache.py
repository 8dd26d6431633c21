"""Per-recording feature cache: hits without recomputing, misses when a key part changes."""

from __future__ import annotations

import os

import numpy as np
import pytest
from joblib import Memory

from sklearn_eeg import feature_cache
from sklearn_eeg.features import FeatureExtractor


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
