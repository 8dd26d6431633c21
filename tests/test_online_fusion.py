"""Online forecasting with the fusion network (CNN on the window + its standardised features).

A fitted :class:`FusionClassifier` wrapped in :class:`StreamingFusion`, or the fusion network of a deep run
folder (``models/<subject>/`` with ``feature_scaling`` in its manifest), scores each causally filtered
window from the window and its features, standardised with the run's training statistics. Chunked
streaming equals the causal offline reference bit for bit, and each risk equals the network's
``predict_proba`` on the window and its features computed the ordinary way.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from skorch.helper import SliceDict

from sklearn_eeg.features.extractor import FeatureExtractor
from sklearn_eeg.models.estimators import FusionClassifier, save_run
from sklearn_eeg.online import (
    OnlineForecaster,
    StreamingFusion,
    array_chunks,
    causal_filter,
    load_fusion,
    offline_causal_risk,
)
from sklearn_eeg.signal.windows import segment_windows
import test_online
from test_online import POLICY, SFREQ, chunkings, run_stream, stream_data
from test_online_cnn import TINY_NET, write_deep_run

FEATURES = "basic"
edf_file = test_online.edf_file  # the 18-channel EDF fixture


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return stream_data()


@pytest.fixture(scope="module")
def fitted(data):
    """A tiny fusion network fitted on the causal windows and their standardised features, and the scaling."""
    windows = np.array(segment_windows(causal_filter(data, SFREQ), SFREQ, 10.0, 5.0))
    F = FeatureExtractor(sfreq=SFREQ, feature_set=FEATURES).fit_transform(windows)
    mean, scale = F.mean(axis=0), F.std(axis=0) + 1e-6  # float32, as a deep run computes them
    y = (np.sin(2 * np.pi * (5.0 * np.arange(len(windows)) + 5.0) / 60.0) > 0).astype(int)
    torch.manual_seed(0)
    net = FusionClassifier(max_epochs=3, train_split=None, device="cpu", amp=False, random_state=0, **TINY_NET)
    net.fit(SliceDict(signal=windows, features=((F - mean) / scale).astype(np.float32)), y)
    return net, mean, scale, windows


def test_fusion_stream_equals_offline_reference_and_the_networks_own_prediction(data, fitted):
    net, mean, scale, windows = fitted
    model = StreamingFusion(net, FEATURES, SFREQ, mean.tolist(), scale.tolist())  # the manifest's JSON floats
    risks = offline_causal_risk(data, model, feature_set=None).risks
    params = dict(threshold=float(np.quantile(risks, 0.6)), policy=POLICY.replace(refractory=0.0), feature_set=None)
    ref = offline_causal_risk(data, model, **params)
    assert ref.alarm_times.size >= 2 and np.ptp(ref.risks) > 0
    for name in ("1s", "random_mix_0", "random_mix_1"):
        times, risks, alarms = run_stream(OnlineForecaster(model, **params), array_chunks(data, chunkings(data.shape[1])[name]))
        np.testing.assert_array_equal(risks, ref.risks)
        np.testing.assert_array_equal(alarms, ref.alarm_times)
    extractor = FeatureExtractor(sfreq=SFREQ, feature_set=FEATURES).fit(windows)
    expected = [net.predict_proba({"signal": windows[i : i + 1],
                                   "features": ((extractor.transform(windows[i : i + 1]) - mean) / scale)})[0, 1]
                for i in range(len(windows))]
    np.testing.assert_array_equal(ref.risks, expected)


def fusion_run(root: Path, net, mean, scale) -> Path:
    """A deep run folder of the fusion network, with the feature scaling in each model's manifest."""
    run = write_deep_run(root, net, name="fusion", subjects=("chb01",))
    config = json.loads((run / "manifest.json").read_text())
    config["config"]["features"] = {"feature_set": FEATURES}
    (run / "manifest.json").write_text(json.dumps(config))
    save_run(net, run / "models" / "chb01", manifest={"subject": "chb01",
                                                      "feature_scaling": {"mean": mean.tolist(), "scale": scale.tolist()}})
    return run


def test_a_fusion_run_folder_streams_and_resumes(data, fitted, tmp_path):
    net, mean, scale, _ = fitted
    run = fusion_run(tmp_path, net, mean, scale)
    fc = OnlineForecaster.from_run(run)
    assert fc.feature_set is None and isinstance(fc.model, StreamingFusion) and fc.model.sfreq == SFREQ
    ref = offline_causal_risk(data, load_fusion(run / "models" / "chb01", feature_set=FEATURES, window=10.0),
                              threshold=fc.threshold, policy=fc.policy, feature_set=None)
    chunks = list(array_chunks(data, 1000))
    before = run_stream(fc, chunks[:20])
    fc.save(tmp_path / "state.npz")
    after = run_stream(OnlineForecaster.load(tmp_path / "state.npz"), chunks[20:])  # reloaded from the run folder
    np.testing.assert_array_equal(np.concatenate([before[1], after[1]]), ref.risks)
    np.testing.assert_array_equal(np.concatenate([before[2], after[2]]), ref.alarm_times)


def test_stream_command_refuses_a_fusion_run_without_its_feature_scaling(edf_file, fitted, tmp_path, capsys):
    """One error line naming the manifest (a fusion run replayed by the command: the slow test of test_online_cnn)."""
    from sklearn_eeg.commands import stream

    net, mean, scale, _ = fitted
    run = fusion_run(tmp_path, net, mean, scale)
    manifest = run / "models" / "chb01" / "manifest.json"
    record = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({k: v for k, v in record.items() if k != "feature_scaling"}))
    assert stream.main(["--edf", str(edf_file), "--run", str(run), "--quiet"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: ") and "manifest.json: no feature_scaling" in line


def test_scaling_and_channels_must_match_the_network(data, fitted):
    net, mean, scale, _ = fitted
    with pytest.raises(ValueError, match="reads 28 features; the scaling has 27 means"):
        StreamingFusion(net, FEATURES, SFREQ, mean[:-1], scale[:-1])
    with pytest.raises(ValueError, match="reads 2 channels; the stream has 3"):
        OnlineForecaster(StreamingFusion(net, FEATURES, SFREQ, mean, scale), feature_set=None).update(np.zeros((3, 10)))
