"""Online forecasting (issue #15): chunked streaming equals the causal offline reference, exactly.

The reference (:func:`offline_causal_risk`) filters a whole recording causally in one call, windows it
like the store and raises alarms with the offline rule; any chunking of the same data, and a stream
stopped, saved, loaded and continued, must give the same risks and alarm times. Chance baselines go
through the same path (project rule: what scores alarms keeps chance baselines in its tests): the
constant and per-call random classifiers, and the stream baselines that keep their state across windows
(a random walk, periodic spikes), which also score at chance on every preset (slow test).
"""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import test_chance_levels
from scipy import signal

from sklearn_eeg.evaluation.alarms import AlarmPolicy, raise_alarms
from sklearn_eeg.models.chance import make_chance
from sklearn_eeg.models.registry import make_model
from sklearn_eeg.online import (
    AlarmState,
    CausalFilter,
    OnlineForecaster,
    PeriodicStream,
    RandomWalkStream,
    array_chunks,
    causal_filter,
    offline_causal_risk,
)
from sklearn_eeg.signal.preprocessing import design_filter_sos

REPO = Path(__file__).resolve().parents[1]
SFREQ = 256.0
FEATURES = "basic"
preset_timeline = test_chance_levels.preset_timeline  # the fixture: every embedded preset's labeled timeline
POLICY = AlarmPolicy(smoothing="ema", alpha=0.5, persistence=2, refractory=20.0)


def stream_data(seconds: float = 180.0, n_channels: int = 2, seed: int = 0) -> np.ndarray:
    """Noise in µV whose alpha-band amplitude drifts, with a DC offset (so risks move and alarms happen)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SFREQ)
    t = np.arange(n) / SFREQ
    drift = 1.0 + 0.8 * np.sin(2 * np.pi * t / 60.0)
    alpha = drift * 30.0 * np.sin(2 * np.pi * 10.0 * t)
    return (40.0 + alpha + rng.normal(0.0, 15.0, (n_channels, n))).astype(np.float32)


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return stream_data()


@pytest.fixture(scope="module")
def logreg(data):
    """Logistic regression on the causal features of the stream, labels = high alpha drift."""
    from sklearn_eeg.features.extractor import FeatureExtractor
    from sklearn_eeg.signal.windows import segment_windows

    windows = segment_windows(causal_filter(data, SFREQ), SFREQ, 10.0, 5.0)
    X = FeatureExtractor(sfreq=SFREQ, feature_set=FEATURES).fit_transform(np.asarray(windows))
    mid = 5.0 * np.arange(len(X)) + 5.0  # window centres (s)
    y = (np.sin(2 * np.pi * mid / 60.0) > 0).astype(int)
    return make_model("logreg", precomputed_features=True, feature_set=FEATURES).fit(X, y)


def run_stream(forecaster: OnlineForecaster, chunks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parts = [forecaster.update(c) for c in chunks]
    return tuple(np.concatenate([getattr(p, f) for p in parts] or [np.empty(0)]) for f in ("times", "risks", "alarm_times"))


def reference_threshold(model, data, feature_set=FEATURES) -> float:
    """A threshold that the smoothed risk crosses several times (alarms to compare)."""
    risks = offline_causal_risk(data, model, feature_set=feature_set).risks
    return float(np.quantile(risks, 0.6))


# ------------------------------------------------------------------------------------------------
# pieces


def test_causal_filter_in_chunks_equals_one_sosfilt_call(data):
    sos = design_filter_sos(SFREQ)
    zi = signal.sosfilt_zi(sos)[:, None, :] * data[:, 0].astype(np.float64)[None, :, None]
    expected = signal.sosfilt(sos, data.astype(np.float64), axis=-1, zi=zi)[0].astype(np.float32)
    np.testing.assert_array_equal(causal_filter(data, SFREQ), expected)
    f = CausalFilter(SFREQ)
    parts = [f.filter(c) for c in array_chunks(data, [1, 255, 9473, 3])]
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), expected)


@pytest.mark.parametrize("smoothing, persistence, reset_gap, refractory", [
    (None, 1, 0.0, None), ("ema", 2, 0.0, 0.0), ("ema", 3, 0.1, 60.0), ("ma", 2, 0.05, 0.0), ("ma", 1, 0.0, 30.0),
])
def test_alarm_state_equals_raise_alarms(smoothing, persistence, reset_gap, refractory):
    rng = np.random.default_rng(persistence)
    for _ in range(5):
        risk = 1.0 / (1.0 + np.exp(-np.cumsum(rng.normal(0.0, 0.5, 500))))
        t = 10.0 + 5.0 * np.arange(risk.size)
        threshold = float(rng.uniform(0.3, 0.7))
        policy = AlarmPolicy(smoothing=smoothing, n=3, persistence=persistence, reset=threshold - reset_gap,
                             refractory=refractory, stride=5.0)
        meta = pd.DataFrame({"subject": "s", "t_abs": t})
        expected = raise_alarms(risk, meta, threshold=threshold, policy=policy)["t_alarm"].to_numpy()
        state = AlarmState(threshold, policy)
        steps = [state.step(r, ti) for r, ti in zip(risk, t)]
        np.testing.assert_array_equal([ti for ti, (_, a) in zip(t, steps) if a], expected)
        np.testing.assert_array_equal([s for s, _ in steps], policy.smooth(risk, meta))


# ------------------------------------------------------------------------------------------------
# chunked stream == causal offline reference


def chunkings(n: int, seed: int = 0) -> dict[str, list[int]]:
    rng = np.random.default_rng(seed)
    return {
        "1s": [int(SFREQ)],
        "37s": [int(37 * SFREQ)],
        "whole": [n],
        "random_mix_0": list(rng.integers(1, 3000, 50)),
        "random_mix_1": list(rng.choice([1, 7, 256, 2560, 9999], 40)),
        "random_mix_2": list(rng.integers(1, 20 * int(SFREQ), 30)),
    }


@pytest.mark.parametrize("name", list(chunkings(1)))
def test_chunked_stream_equals_offline_causal_reference(data, logreg, name):
    threshold = reference_threshold(logreg, data)
    params = dict(threshold=threshold, policy=POLICY, feature_set=FEATURES)
    ref = offline_causal_risk(data, logreg, **params)
    assert ref.alarm_times.size >= 2, "the test must compare alarms"
    times, risks, alarms = run_stream(OnlineForecaster(logreg, **params),
                                      array_chunks(data, chunkings(data.shape[1])[name]))
    np.testing.assert_array_equal(times, ref.times)
    np.testing.assert_allclose(risks, ref.risks, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(alarms, ref.alarm_times)


def test_one_sample_chunks_equal_offline_reference(logreg):
    data = stream_data(45.0, seed=1)
    params = dict(threshold=reference_threshold(logreg, data), policy=POLICY.replace(refractory=0.0),
                  feature_set=FEATURES)
    ref = offline_causal_risk(data, logreg, **params)
    times, risks, alarms = run_stream(OnlineForecaster(logreg, **params), array_chunks(data, 1))
    np.testing.assert_array_equal(times, ref.times)
    np.testing.assert_allclose(risks, ref.risks, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(alarms, ref.alarm_times)


def test_empty_and_short_chunks_give_nothing_until_a_window_ends(logreg, data):
    fc = OnlineForecaster(logreg, feature_set=FEATURES)
    assert fc.update(data[:, :0]).times.size == 0
    assert fc.update(data[:, : 2559]).times.size == 0
    np.testing.assert_array_equal(fc.update(data[:, 2559:2560]).times, [10.0])


def test_bad_chunks_are_refused(logreg, data):
    fc = OnlineForecaster(logreg, feature_set=FEATURES)
    fc.update(data[:, :100])
    with pytest.raises(ValueError, match="channels"):
        fc.update(data[:1, 100:200])
    with pytest.raises(ValueError, match="2-D"):
        fc.update(data[0])
    with pytest.raises(ValueError, match="NaN"):
        fc.update(np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match="whole number of samples"):
        OnlineForecaster(logreg, window=10.001)


# ------------------------------------------------------------------------------------------------
# save / restore


@pytest.mark.parametrize("smoothing", ["ema", "ma"])
def test_resume_after_restart_equals_uninterrupted_stream(data, logreg, tmp_path, smoothing):
    policy = POLICY.replace(smoothing=smoothing)
    params = dict(threshold=reference_threshold(logreg, data), policy=policy, feature_set=FEATURES)
    chunks = list(array_chunks(data, [1000, 37, 5000]))
    whole = run_stream(OnlineForecaster(logreg, **params), chunks)
    rng = np.random.default_rng(3)
    for stop in rng.integers(1, len(chunks) - 1, 3):
        first = OnlineForecaster(logreg, **params)
        before = run_stream(first, chunks[:stop])
        first.save(tmp_path / "state.npz")
        resumed = OnlineForecaster.load(tmp_path / "state.npz", model=logreg)
        after = run_stream(resumed, chunks[stop:])
        for a, b, w in zip(before, after, whole):
            np.testing.assert_array_equal(np.concatenate([a, b]), w)
    assert not list(tmp_path.glob("*.tmp"))


def write_run_folder(root: Path, model, *, subjects=("chb01", "chb02"), feature_set=FEATURES) -> Path:
    """A LOSO run folder as pipelines/loso.py writes it (manifest, fold models, results table)."""
    run = root / "run"
    (run / "models").mkdir(parents=True)
    config = {"labeling": {"window": 10.0, "stride": 5.0, "sop": 600.0, "sph": 30.0},
              "features": {"feature_set": feature_set}, "model": {"name": "logreg"},
              "alarms": {"smoothing": "ema", "alpha": 0.5, "persistence": 2, "refractory": 20.0}}
    (run / "manifest.json").write_text(json.dumps({"config": config}))
    rows = []
    for k, subject in enumerate(subjects):
        joblib.dump(model, run / "models" / f"fold_{subject}.joblib")
        rows += [{"test_subject": subject, "fah_target": f, "threshold": 0.3 + 0.1 * k + f / 10} for f in (0.1, 0.5)]
    pd.DataFrame(rows).to_csv(run / "loso_results.csv", index=False)
    return run


def test_from_run_and_load_without_model(data, logreg, tmp_path):
    run = write_run_folder(tmp_path, logreg)
    with pytest.raises(ValueError, match="pass subject"):
        OnlineForecaster.from_run(run)
    fc = OnlineForecaster.from_run(run, "chb02")
    assert fc.threshold == pytest.approx(0.45) and fc.policy.persistence == 2 and fc.feature_set == FEATURES
    assert OnlineForecaster.from_run(run, "chb02", fah_target=0.1).threshold == pytest.approx(0.41)
    ref = offline_causal_risk(data, logreg, threshold=fc.threshold, policy=fc.policy, feature_set=FEATURES)
    chunks = list(array_chunks(data, int(SFREQ)))
    before = run_stream(fc, chunks[:70])
    fc.save(tmp_path / "s.npz")
    after = run_stream(OnlineForecaster.load(tmp_path / "s.npz"), chunks[70:])  # the model from the run folder
    for a, b, r in zip(before, after, ref):
        np.testing.assert_allclose(np.concatenate([a, b]), r, rtol=1e-12, atol=0)
    with np.load(tmp_path / "s.npz", allow_pickle=False) as npz:  # no pickled object in the state file
        assert all(npz[k].dtype != object for k in npz.files)


# ------------------------------------------------------------------------------------------------
# chance baselines


@pytest.mark.parametrize("chance", ["constant", "random"])
@pytest.mark.parametrize("feature_set", [FEATURES, None])
def test_chance_baselines_online_equal_offline(data, chance, feature_set):
    shape = (10, 28) if feature_set else (10, 2, 2560)  # 2 channels x 14 basic features, or raw windows
    model = make_chance(chance, random_state=0).fit(np.zeros(shape), [0] * 7 + [1] * 3)
    threshold = 0.3 if chance == "constant" else reference_threshold(model, data, feature_set)
    params = dict(threshold=threshold, policy=POLICY.replace(refractory=0.0), feature_set=feature_set)
    ref = offline_causal_risk(data, model, **params)
    times, risks, alarms = run_stream(OnlineForecaster(model, **params),
                                      array_chunks(data, chunkings(data.shape[1])["random_mix_0"]))
    np.testing.assert_array_equal(risks, ref.risks)
    np.testing.assert_array_equal(alarms, ref.alarm_times)
    if chance == "constant":  # a constant risk over threshold raises exactly one alarm per stream
        np.testing.assert_array_equal(alarms, [15.0])
    else:
        assert alarms.size >= 1


def stream_chance(kind: str, seed: int = 0):
    """A fresh stream chance baseline: the walk continues across windows, the spikes come every 9 windows."""
    return RandomWalkStream(0.3, step=0.3, reversion=0.05, seed=seed) if kind == "walk" else PeriodicStream(9, phase=4)


@pytest.mark.parametrize("kind", ["walk", "periodic"])
def test_stream_chance_baselines_online_equal_offline_and_resume(data, tmp_path, kind):
    if kind == "periodic":  # every spike alarms (no smoothing, no persistence)
        params = dict(threshold=0.5, policy=AlarmPolicy(smoothing=None, persistence=1, refractory=0.0))
    else:
        params = dict(threshold=reference_threshold(stream_chance(kind), data, None), policy=POLICY.replace(refractory=0.0))
    params["feature_set"] = None
    ref = offline_causal_risk(data, stream_chance(kind), **params)
    chunks = list(array_chunks(data, chunkings(data.shape[1])["random_mix_1"]))
    whole = run_stream(OnlineForecaster(stream_chance(kind), **params), chunks)
    for a, r in zip(whole, ref):
        np.testing.assert_array_equal(a, r)
    assert ref.alarm_times.size >= 1
    if kind == "periodic":  # a spike every 9 windows, from the 5th
        spikes = np.arange(ref.risks.size) % 9 == 4
        np.testing.assert_array_equal(ref.risks, spikes.astype(float))
        np.testing.assert_array_equal(ref.alarm_times, ref.times[spikes])
    first = OnlineForecaster(stream_chance(kind), **params)
    before = run_stream(first, chunks[:17])
    first.save(tmp_path / "state.npz")
    resumed = OnlineForecaster.load(tmp_path / "state.npz", model=stream_chance(kind))  # a fresh model, state restored
    after = run_stream(resumed, chunks[17:])
    for a, b, w in zip(before, after, whole):
        np.testing.assert_array_equal(np.concatenate([a, b]), w)


def test_random_walk_stream_walks_where_the_per_call_classifier_does_not(data):
    """RandomWalkRiskClassifier draws a fresh walk per predict_proba call: online (one window per call) its
    risks are independent draws. RandomWalkStream continues one walk across calls."""
    per_call = make_chance("random", random_state=0).fit(np.zeros((10, 1, 2560)), [0] * 7 + [1] * 3)
    walks = {"per_call": per_call, "stream": RandomWalkStream(0.3, seed=0)}
    long = stream_data(1800.0, n_channels=1, seed=4)
    lag1 = {}
    for name, model in walks.items():
        risk = offline_causal_risk(long, model, feature_set=None).risks
        lag1[name] = np.corrcoef(risk[:-1], risk[1:])[0, 1]
    assert lag1["stream"] > 0.95 and abs(lag1["per_call"]) < 0.3, lag1


@pytest.mark.slow  # 100 seeds x every preset's timeline, one predict_proba call per window: about a minute
@pytest.mark.parametrize("kind", ["constant", "walk", "periodic_warning"])
def test_online_chance_risks_are_at_chance(preset_timeline, kind):
    """The risks the online path gives a chance baseline (one predict_proba call per window, in time order,
    one stream per subject) score at chance on every preset (Snyder and surrogate p-values, IoC), by the
    alarm rule AlarmState reproduces exactly (test_alarm_state_equals_raise_alarms)."""
    from test_chance_levels import SOP, SPH, STRIDE, assert_at_chance

    period = int(round((SOP + SPH) / STRIDE))  # one spike per warning period, as test_chance_levels' periodic
    constant = make_chance("constant").fit(np.zeros((2, 1)), [0, 1])
    memo: dict[str, np.ndarray] = {}  # the constant's risks do not depend on the seed: score them once

    def make_risk(meta: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
        if kind == "constant" and "constant" in memo:
            return memo["constant"]
        risk = np.empty(len(meta))
        for _, rows in meta.groupby("subject", sort=False).indices.items():
            rows = rows[np.argsort(meta["t_abs"].to_numpy()[rows], kind="stable")]
            model = {"constant": lambda: constant,
                     "walk": lambda: RandomWalkStream(0.5, step=0.1, seed=int(rng.integers(2**31))),
                     "periodic_warning": lambda: PeriodicStream(period, phase=int(rng.integers(period)))}[kind]()
            risk[rows] = [model.predict_proba(np.zeros((1, 1)))[0, 1] for _ in rows]
        memo[kind] = risk
        return risk

    assert_at_chance(preset_timeline, make_risk)


# ------------------------------------------------------------------------------------------------
# command line


@pytest.fixture(scope="module")
def edf_file(tmp_path_factory) -> Path:
    from sklearn_eeg.data import make_chbmit_like

    root = tmp_path_factory.mktemp("edf")
    make_chbmit_like(root, n_subjects=1, hours=0.05, seizures=0, quirks=False, artifacts=False, progress=False)
    (edf,) = sorted(root.rglob("*.edf"))
    return edf


def test_stream_command_replays_an_edf(edf_file, tmp_path, capsys):
    from sklearn_eeg.commands import stream
    from sklearn_eeg.data import read_edf
    from sklearn_eeg.features.extractor import FeatureExtractor

    rec = read_edf(edf_file)
    width = FeatureExtractor(feature_set=FEATURES).fit(np.zeros((1, rec.data.shape[0], 2560))).get_feature_names_out().size
    rng = np.random.default_rng(0)
    model = make_chance("random").fit(rng.normal(size=(20, width)), [0, 1] * 10)
    run = write_run_folder(tmp_path, model, subjects=("chb01",))
    out = tmp_path / "risk.csv"
    assert stream.main(["--edf", str(edf_file), "--run", str(run), "--out_file", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    timeline = pd.read_csv(out)
    fc = OnlineForecaster.from_run(run)
    ref = offline_causal_risk(rec.data, model, threshold=fc.threshold, policy=fc.policy, feature_set=FEATURES)
    np.testing.assert_allclose(timeline["risk"], ref.risks, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(timeline["t"][timeline["alarm"] == 1], ref.alarm_times)
    assert [line for line in printed if line.startswith("alarm")] == [
        f"alarm t={t:.1f} s risk={r:.4f}" for t, r in zip(ref.times, ref.risks) if t in ref.alarm_times]
    assert printed[-1].startswith(f"{len(ref.times)} windows, {len(ref.alarm_times)} alarms")


@pytest.mark.parametrize("argv, message", [
    (["--edf", "missing.edf", "--run", "."], "no such file"),
    (["--run", "nothing"], "not a run folder"),
    (["--speed", "-1", "--run", "."], "--speed"),
])
def test_stream_command_bad_input_is_one_error_line(edf_file, tmp_path, capsys, argv, message):
    from sklearn_eeg.commands import stream

    if "--edf" not in argv:
        argv = ["--edf", str(edf_file), *argv]
    assert stream.main([a if a != "nothing" else str(tmp_path) for a in argv]) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("error: ") and message in line


def test_bench_stream_runs_small(capsys):
    main = runpy.run_path(str(REPO / "pipelines" / "bench_stream.py"))["main"]
    rows = main(["--hours", "0.02", "0.04", "--n_channels", "2"])
    out = capsys.readouterr().out
    assert "real-time factor" in out and [(r["model"], r["hours"]) for r in rows] == [
        ("logreg", 0.02), ("logreg", 0.04), ("cnn", 0.02), ("cnn", 0.04)]
    assert all(r["real_time_factor"] > 1 and r["windows"] > 0 for r in rows)
