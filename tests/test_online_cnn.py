"""Online forecasting with the spectrogram CNN (issue #15): a deep run streams like a classical one.

A fitted :class:`SpectrogramCNNClassifier` passed directly, or the CNN of a deep run folder
(``models/<subject>/`` written by ``save_run``, thresholds in ``thresholds.csv``), scores each
causally filtered window on its own. Chunked streaming must equal the causal offline reference
bit for bit for any chunking, as for the classical pipeline.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import test_online
import torch

from sklearn_eeg.models.estimators import SpectrogramCNNClassifier, save_run
from sklearn_eeg.online import OnlineForecaster, array_chunks, causal_filter, load_cnn, offline_causal_risk
from sklearn_eeg.signal.windows import segment_windows
from test_online import POLICY, SFREQ, chunkings, run_stream, stream_data

edf_file = test_online.edf_file  # the 18-channel EDF fixture
TINY_NET = {"module__n_filters": [4, 8], "module__embedding_dim": 8}


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return stream_data()


@pytest.fixture(scope="module")
def cnn(data) -> SpectrogramCNNClassifier:
    """A tiny CNN fitted on the causal windows of the stream (labels: high alpha drift)."""
    torch.manual_seed(0)
    windows = np.array(segment_windows(causal_filter(data, SFREQ), SFREQ, 10.0, 5.0))  # writable, for torch
    y = (np.sin(2 * np.pi * (5.0 * np.arange(len(windows)) + 5.0) / 60.0) > 0).astype(int)
    net = SpectrogramCNNClassifier(max_epochs=3, train_split=None, device="cpu", amp=False, random_state=0, **TINY_NET)
    return net.fit(windows, y)


def params_for(model, data) -> dict:
    """Causal parameters with a threshold that the smoothed CNN risk crosses several times."""
    risks = offline_causal_risk(data, model, feature_set=None).risks
    return dict(threshold=float(np.quantile(risks, 0.6)), policy=POLICY.replace(refractory=0.0), feature_set=None)


@pytest.mark.parametrize("name", list(chunkings(1)))
def test_cnn_chunked_stream_equals_offline_reference_exactly(data, cnn, name):
    params = params_for(cnn, data)
    ref = offline_causal_risk(data, cnn, **params)
    assert ref.alarm_times.size >= 2 and np.ptp(ref.risks) > 0, "the test must compare moving risks and alarms"
    times, risks, alarms = run_stream(OnlineForecaster(cnn, **params), array_chunks(data, chunkings(data.shape[1])[name]))
    np.testing.assert_array_equal(times, ref.times)
    np.testing.assert_array_equal(risks, ref.risks)  # one window per predict call on both paths: no tolerance
    np.testing.assert_array_equal(alarms, ref.alarm_times)


def test_cnn_window_shape_must_match_the_stream(data, cnn):
    with pytest.raises(ValueError, match="reads windows of 2560 samples"):
        OnlineForecaster(cnn, feature_set=None, window=8.0)
    with pytest.raises(ValueError, match="reads 2 channels; the stream has 3"):
        OnlineForecaster(cnn, feature_set=None).update(np.zeros((3, 10)))


def write_deep_run(root: Path, model, *, name: str = "cnn", subjects=("chb01", "chb02")) -> Path:
    """A deep run folder as experiments/deep_training.py writes it (manifest, save_run folders, thresholds)."""
    run = root / "deep_run"
    config = {"labeling": {"window": 10.0, "stride": 5.0, "sop": 600.0, "sph": 30.0},
              "model": {"name": name, "params": TINY_NET},
              "alarms": {"smoothing": "ema", "alpha": 0.5, "persistence": 2, "refractory": 0.0}}
    rows = []
    for k, subject in enumerate(subjects):
        save_run(model, run / "models" / subject, manifest={"subject": subject})
        rows += [{"subject": subject, "fah_target": f, "threshold": 0.4 + 0.05 * k + f / 10} for f in (0.1, 0.5)]
    (run / "manifest.json").write_text(json.dumps({"kind": "deep", "config": config}))
    pd.DataFrame(rows).to_csv(run / "thresholds.csv", index=False)
    return run


def test_load_cnn_rebuilds_the_saved_model(data, cnn, tmp_path):
    run = write_deep_run(tmp_path, cnn, subjects=("chb01",))
    loaded = load_cnn(run / "models" / "chb01")
    windows = np.array(segment_windows(causal_filter(data, SFREQ), SFREQ, 10.0, 5.0)[:4])
    np.testing.assert_array_equal(loaded.predict_proba(windows), cnn.predict_proba(windows))
    assert (loaded.n_channels_, loaded.n_times_) == (2, 2560)


def test_deep_run_streams_and_resumes_from_its_folder(data, cnn, tmp_path):
    run = write_deep_run(tmp_path, cnn)
    with pytest.raises(ValueError, match="pass subject"):
        OnlineForecaster.from_run(run)
    fc = OnlineForecaster.from_run(run, "chb02")
    assert fc.feature_set is None and fc.threshold == pytest.approx(0.5) and fc.policy.persistence == 2
    ref = offline_causal_risk(data, cnn, threshold=fc.threshold, policy=fc.policy, feature_set=None)
    chunks = list(array_chunks(data, [700, 2560, 33]))
    before = run_stream(fc, chunks[:40])
    fc.save(tmp_path / "s.npz")
    after = run_stream(OnlineForecaster.load(tmp_path / "s.npz"), chunks[40:])  # the CNN from the run folder
    for a, b, r in zip(before, after, ref):
        np.testing.assert_array_equal(np.concatenate([a, b]), r)


def test_stream_command_replays_an_edf_through_a_deep_run(edf_file, tmp_path, capsys):
    from sklearn_eeg.commands import stream
    from sklearn_eeg.data import read_edf

    rec = read_edf(edf_file)  # 18 canonical channels
    windows = np.array(segment_windows(causal_filter(rec.data, SFREQ), SFREQ, 10.0, 5.0))
    net = SpectrogramCNNClassifier(max_epochs=1, train_split=None, device="cpu", amp=False, random_state=0, **TINY_NET)
    run = write_deep_run(tmp_path, net.fit(windows, np.arange(len(windows)) % 2), subjects=("chb01",))
    out = tmp_path / "risk.csv"
    threads = torch.get_num_threads()
    try:
        assert stream.main(["--edf", str(edf_file), "--run", str(run), "--out_file", str(out), "--quiet"]) == 0
        assert torch.get_num_threads() == 1  # --threads 1 by default for a CNN run
    finally:
        torch.set_num_threads(threads)
    fc = OnlineForecaster.from_run(run)
    ref = offline_causal_risk(rec.data, load_cnn(run / "models" / "chb01"), threshold=fc.threshold, policy=fc.policy,
                              feature_set=None)
    timeline = pd.read_csv(out)
    np.testing.assert_allclose(timeline["risk"], ref.risks, rtol=1e-12, atol=0)  # exact up to the CSV round trip
    np.testing.assert_array_equal(timeline["t"][timeline["alarm"] == 1], ref.alarm_times)
    assert capsys.readouterr().out.startswith(f"{len(ref.times)} windows, {len(ref.alarm_times)} alarms")


def test_stream_command_refuses_deep_runs_that_cannot_stream(edf_file, cnn, tmp_path, capsys):
    from sklearn_eeg.commands import stream

    def error_line(run: Path) -> str:
        assert stream.main(["--edf", str(edf_file), "--run", str(run), "--quiet"]) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        return line

    run = write_deep_run(tmp_path, cnn, subjects=("chb01",))
    assert error_line(run) == "error: the model reads 2 channels; the stream has 18"
    multiphase = write_deep_run(tmp_path / "m", cnn, name="multiphase", subjects=("chb01",))
    assert "manifest.json: model.name 'multiphase' cannot stream" in error_line(multiphase)
    fusion = write_deep_run(tmp_path / "f", cnn, name="fusion", subjects=("chb01",))  # a CNN's files
    assert "manifest.json: a SpectrogramCNNClassifier, not a FusionClassifier" in error_line(fusion)
    model_manifest = run / "models" / "chb01" / "manifest.json"
    record = json.loads(model_manifest.read_text())
    model_manifest.write_text(json.dumps({**record, "params": {**record["params"], "module": "os.system"}}))
    assert "params.module 'os.system' is not a module class" in error_line(run)
    (run / "models" / "chb01" / "model.pt").unlink()
    assert error_line(run).endswith("not a deep run folder: no models/<subject>/model.pt")


@pytest.mark.slow  # a real deep run (2 subjects x 1 h, one epoch): about a minute
@pytest.mark.parametrize("model", ["cnn", "fusion"])
def test_a_run_deep_folder_streams(tmp_path, model):
    """The run folder pipelines/train_deep.py writes (experiments.deep_training.run_deep) streams as written."""
    from sklearn_eeg.commands import stream
    from sklearn_eeg.data import make_chbmit_like, read_edf
    from sklearn_eeg.experiments.config import load_config
    from sklearn_eeg.experiments.deep_training import run_deep

    root = make_chbmit_like(tmp_path / "data", n_subjects=2, hours=1.0, seizures=1, preictal_effect=2.0, seed=3,
                            progress=False)
    cfg = load_config(data__data_root=str(root), data__cache_dir=str(tmp_path / "cache"), model__name=model,
                      model__params={**TINY_NET, "max_epochs": 1}, features__feature_set="basic",
                      output_dir=str(tmp_path / "reports"))
    threads = torch.get_num_threads()
    try:
        run = run_deep(cfg, model=model, mode="loso-fold", test_subject="chb02", verbose=0, progress=False).run_dir
        edf = sorted(Path(root).rglob("chb02_*.edf"))[0]
        out = tmp_path / "risk.csv"
        assert stream.main(["--edf", str(edf), "--run", str(run), "--out_file", str(out), "--quiet"]) == 0
    finally:
        torch.set_num_threads(threads)
    fc = OnlineForecaster.from_run(run)
    assert fc.feature_set is None and fc.source["subject"] == "chb02"
    thresholds = pd.read_csv(run / "thresholds.csv")
    assert fc.threshold == thresholds.loc[thresholds["fah_target"] == 0.5, "threshold"].item()
    ref = offline_causal_risk(read_edf(edf).data, fc.model, threshold=fc.threshold, policy=fc.policy, feature_set=None)
    timeline = pd.read_csv(out)
    np.testing.assert_allclose(timeline["risk"], ref.risks, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(timeline["t"][timeline["alarm"] == 1], ref.alarm_times)
