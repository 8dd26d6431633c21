"""The Streamlit demo: widget-driven AppTest runs and a headless-chromium end-to-end screenshot."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from sklearn_eeg.commands.app_logic import (
    OperatingPoint,
    alarm_view,
    check_data_root,
    list_runs,
    pick_fah_target,
    run_operating_point,
)
from sklearn_eeg.reporting import validate_predictions, write_predictions

# Hand-made window tables without excluded (label -1) windows, on purpose: the warning that a real
# run's table must keep them is asserted in test_scoring.py (pytest.warns sees it despite this filter).
pytestmark = pytest.mark.filterwarnings("ignore:the window table has preictal windows but no excluded:UserWarning")

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "pipelines" / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
RUN = "20260101T000000_loso_logreg"
#: The demo run's tuned thresholds of chb01 per FAH target (FAH 0.5/h is the one the demo opens at).
TUNED = {0.1: 0.81, 0.5: 0.62, 1.0: 0.45}
ALARMS = {"smoothing": "ema", "alpha": 0.3, "n": 3, "persistence": 2, "reset": None, "refractory": None,
          "fah_targets": [0.1, 0.5, 1.0]}


def write_run_files(run_dir: Path, *, alarms: dict | None = ALARMS, tuned: dict[float, float] | None = None,
                    subject: str = "chb01", results: str = "loso_results.csv") -> Path:
    """A run folder's manifest (alarm settings) and per-fold results with the tuned thresholds of ``subject``."""
    import json

    run_dir.mkdir(parents=True, exist_ok=True)
    config = {"labeling": {"sop": 600.0, "sph": 30.0}} | ({"alarms": alarms} if alarms is not None else {})
    (run_dir / "manifest.json").write_text(json.dumps({"config": config}))
    column = "test_subject" if results.startswith("loso") else "subject"
    rows = [{column: subject, "fah_target": target, "threshold": threshold}
            for target, threshold in (TUNED if tuned is None else tuned).items()]
    pd.DataFrame(rows).to_csv(run_dir / results, index=False)
    return run_dir


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A one-subject CHB-MIT-like data root and a runs folder with a predictions file labeled from it."""
    from sklearn_eeg.data import load_index, make_chbmit_like
    from sklearn_eeg.data.labeling import label_windows

    base = tmp_path_factory.mktemp("demo")
    root = make_chbmit_like(base / "data", n_subjects=1, hours=1.5, seizures=1, file_hours=0.75,
                            min_interictal_s=600, progress=False)
    recordings, seizures = load_index(root)
    windows = label_windows(recordings, seizures)
    windows = windows[windows["state"].isin(["interictal", "preictal"])].reset_index(drop=True)
    rng = np.random.default_rng(0)
    risk = np.clip(0.25 + 0.45 * windows["label"] + 0.15 * rng.standard_normal(len(windows)), 0, 1)
    pred = windows[["subject", "recording", "t_abs", "label", "tte", "state", "seizure_id"]].assign(risk=risk)
    write_predictions(pred, base / "runs" / RUN / "predictions.csv")
    write_run_files(base / "runs" / RUN)
    return Path(root), base / "runs"


def _app(data_root: str, runs_root: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.text_input(key="data_root").set_value(data_root).run()
    at.text_input(key="runs_root").set_value(runs_root).run()
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def test_missing_data_root_shows_error(tmp_path: Path) -> None:
    at = _app(str(tmp_path / "does_not_exist"), str(tmp_path / "runs"))
    assert not at.exception
    assert any("Data root not found" in e.value for e in at.error)
    assert len(at.metric) == 0
    assert check_data_root("")[1] and check_data_root(str(tmp_path)) == (tmp_path, None)


def test_no_run_offers_quick_baseline(demo_data: tuple[Path, Path], tmp_path: Path) -> None:
    root, _ = demo_data
    at = _app(str(root), str(tmp_path / "empty_runs"))
    assert not at.exception
    assert any("No trained run" in i.value for i in at.info)
    assert at.button(key="train").label == "Train quick baseline"


def test_risk_plot_and_threshold_change_fah(demo_data: tuple[Path, Path]) -> None:
    root, runs = demo_data
    assert [p.name for p in list_runs(runs)] == [RUN]
    at = _app(str(root), str(runs))
    assert not at.exception and not at.error
    images = [el for el in at.main if type(el).__name__ == "Image"]
    assert len(images) == 2  # risk timeline + EEG replay
    assert not at.warning  # the EEG replay found the recording
    assert _metric(at, "Sensitivity") != "n/a"
    assert at.slider(key="threshold").value == TUNED[0.5]  # opens at the run's operating point
    fah_high = float(_metric(at, "FAH"))
    at.slider(key="threshold").set_value(0.3).run()
    fah_low = float(_metric(at, "FAH"))
    assert fah_low > fah_high
    at.slider(key="position").set_value(20.0).run()
    assert not at.exception
    assert any(c.value == "Replay at 20 s of chb01_01" for c in at.caption)
    at.slider(key="speed").set_value(2)
    at.toggle(key="play").set_value(True).run()
    assert any(c.value.startswith("Replay at 20 s") for c in at.caption)
    at.run()  # the next replay tick: 20 s + 2 windows of 10 s
    assert any(c.value.startswith("Replay at 40 s") for c in at.caption)
    assert not at.exception


@pytest.fixture(scope="module")
def streamable_runs(demo_data: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder whose run is the demo run plus a fold model for chb01 (logreg on basic_plus)."""
    import shutil

    import joblib

    from sklearn_eeg.features.extractor import FeatureExtractor
    from sklearn_eeg.models.registry import make_model

    _, runs = demo_data
    root = tmp_path_factory.mktemp("live_runs")
    run = Path(shutil.copytree(runs / RUN, root / RUN))
    windows = np.random.default_rng(0).normal(0.0, 20.0, (16, 18, 2560)).astype(np.float32)
    X = FeatureExtractor(feature_set="basic_plus").fit_transform(windows)
    (run / "models").mkdir()
    joblib.dump(make_model("logreg", precomputed_features=True).fit(X, [0, 1] * 8), run / "models" / "fold_chb01.joblib")
    return root


def test_live_replay_streams_the_file_like_the_offline_reference(demo_data, streamable_runs) -> None:
    from sklearn_eeg.commands.app_logic import advance_live_replay, read_eeg_recording, start_live_replay
    from sklearn_eeg.online import offline_causal_risk

    root, _ = demo_data
    data, sfreq, _ = read_eeg_recording(sorted(root.rglob("chb01_01.edf"))[0])
    live = start_live_replay(streamable_runs / RUN, "chb01")
    for until in (3.5, 30.0, 29.0, 61.0):  # replay ticks (a tick before the last one feeds nothing)
        advance_live_replay(live, data, sfreq, until)
    fc = live.forecaster
    ref = offline_causal_risk(data[:, : int(61 * sfreq)], fc.model, threshold=fc.threshold, policy=fc.policy)
    assert live.times == ref.times.tolist() and len(live.times) == 11
    np.testing.assert_array_equal(live.risks, ref.risks)
    assert live.alarm_times == ref.alarm_times.tolist()
    with pytest.raises(ValueError, match="Hz"):
        advance_live_replay(live, data, 2 * sfreq, 70.0)


def test_live_forecast_mode_of_the_page(demo_data, streamable_runs) -> None:
    root, runs = demo_data
    at = _app(str(root), str(streamable_runs))
    assert not at.exception and not at.warning
    at.toggle(key="live").set_value(True).run()
    assert not at.exception and not at.warning
    assert _metric(at, "Live risk") != "n/a"
    assert any(c.value.startswith("Live forecast: 1 windows streamed up to 10 s of chb01_01") for c in at.caption)
    at.slider(key="position").set_value(20.0).run()
    assert any(c.value.startswith("Live forecast: 5 windows streamed up to 30 s") for c in at.caption)
    at = _app(str(root), str(runs))  # the demo run: predictions only, no model to stream
    at.toggle(key="live").set_value(True).run()
    (warning,) = [w.value for w in at.warning]
    assert warning.startswith("Live forecast unavailable") and "not a LOSO or train run folder" in warning
    assert not at.exception and _metric(at, "Sensitivity") != "n/a"  # the rest of the page is unchanged


def test_alarm_view_validates_input(demo_data: tuple[Path, Path]) -> None:
    _, runs = demo_data
    pred = validate_predictions(pd.read_csv(next(runs.iterdir()) / "predictions.csv"))
    view = alarm_view(pred, threshold=0.5, alpha=1.0, persistence=2)
    assert view.smoothed == pytest.approx(pred["risk"].to_numpy())
    assert view.metrics["n_seizures"] == 1
    with pytest.raises(ValueError, match="alpha"):
        alarm_view(pred, threshold=0.5, alpha=0.0)
    with pytest.raises(ValueError, match="one subject"):
        alarm_view(pd.concat([pred, pred.assign(subject="chb99")]), threshold=0.5)


def test_pick_fah_target() -> None:
    assert pick_fah_target([0.1, 0.2, 0.5, 1.0]) == 0.5
    assert pick_fah_target([1.0, 0.2]) == 1.0  # no 0.5/h: the config's first target
    assert pick_fah_target([0.1, 0.2], preferred=0.2) == 0.2
    assert pick_fah_target([]) is None and pick_fah_target([np.nan]) is None


def test_run_operating_point_reads_the_runs_tuned_threshold(tmp_path: Path) -> None:
    from sklearn_eeg.evaluation.alarms import AlarmPolicy

    run = write_run_files(tmp_path / "run", tuned={0.1: 0.81, 0.5: 0.62, 1.0: 0.45})
    point = run_operating_point(run, "chb01")
    assert (point.threshold, point.alpha, point.persistence, point.fah_target) == (0.62, 0.3, 2, 0.5)
    assert point.policy == AlarmPolicy(sop=600.0, sph=30.0, smoothing="ema", alpha=0.3, n=3, persistence=2)
    assert "0.62" in point.source and "FAH ≤ 0.5/h" in point.source and "chb01" in point.source
    assert run_operating_point(run, "chb01", preferred_target=1.0).threshold == 0.45
    # the config lists no 0.5/h target: its first target
    write_run_files(run, alarms=ALARMS | {"fah_targets": [1.0, 0.1]})
    assert run_operating_point(run, "chb01").fah_target == 1.0
    # no smoothing in the run: alpha 1 (the slider's "none")
    write_run_files(run, alarms=ALARMS | {"smoothing": None, "persistence": 3})
    assert (run_operating_point(run, "chb01").alpha, run_operating_point(run, "chb01").persistence) == (1.0, 3)
    # within-subject results name the subject "subject"
    within = write_run_files(tmp_path / "within", results="within_results.csv", tuned={0.5: 0.7})
    assert run_operating_point(within, "chb01").threshold == 0.7


@pytest.mark.parametrize("case", ["no files", "other subject", "nan threshold", "no alarms section"])
def test_run_operating_point_falls_back_and_says_why(tmp_path: Path, case: str) -> None:
    run = tmp_path / "run"
    run.mkdir()
    if case == "other subject":
        write_run_files(run, subject="chb07")
    elif case == "nan threshold":
        write_run_files(run, tuned={0.5: float("nan")})
    elif case == "no alarms section":
        write_run_files(run, alarms=None)
    point = run_operating_point(run, "chb01")
    if case == "no alarms section":  # the thresholds are there, the rule they were tuned with is not
        assert point.threshold == 0.62 and point.policy is None and (point.alpha, point.persistence) == (0.3, 1)
        assert "no alarm settings" in point.source
    else:
        assert point == OperatingPoint(0.5, point.alpha, point.persistence, None, point.policy, point.source)
        assert "no tuned threshold for chb01" in point.source.lower()


def test_run_operating_point_clips_to_the_slider(tmp_path: Path) -> None:
    point = run_operating_point(write_run_files(tmp_path / "run", tuned={0.5: 1.5}), "chb01")
    assert point.threshold == 1.0 and "clipped" in point.source
    point = run_operating_point(write_run_files(tmp_path / "ma", alarms=ALARMS | {"smoothing": "ma"}), "chb01")
    assert point.alpha == 1.0 and "moving average" in point.source


def test_alarm_view_at_the_operating_point_scores_like_the_run(demo_data: tuple[Path, Path]) -> None:
    """With the run's policy and tuned threshold the demo's numbers are the run's own alarm metrics."""
    from sklearn_eeg.evaluation.metrics import alarm_metrics

    _, runs = demo_data
    pred = validate_predictions(pd.read_csv(runs / RUN / "predictions.csv"))
    point = run_operating_point(runs / RUN, "chb01")
    view = alarm_view(pred, threshold=point.threshold, alpha=point.alpha, persistence=point.persistence,
                      policy=point.policy)
    expected = alarm_metrics(pred["risk"].to_numpy(), pred, threshold=0.62, policy=point.policy)
    assert view.metrics["fah"] == expected["fah"] and view.metrics["n_alarms"] == expected["n_alarms"]
    assert view.metrics["sensitivity"] == expected["sensitivity"]


def test_sliders_open_at_the_runs_operating_point(demo_data: tuple[Path, Path], tmp_path: Path) -> None:
    import shutil

    root, runs = demo_data
    at = _app(str(root), str(runs))
    assert not at.exception and not at.error
    assert (at.slider(key="threshold").value, at.slider(key="alpha").value,
            at.slider(key="persistence").value) == (0.62, 0.3, 2)
    assert any("the run's tuned operating point, FAH target 0.5/h" in c.value for c in at.caption)
    assert any("tuned on the validation subjects of chb01's fold for FAH ≤ 0.5/h" in c.value
               for c in at.sidebar.caption)
    at.slider(key="threshold").set_value(0.3).run()
    assert at.slider(key="threshold").value == 0.3  # the user's choice survives reruns
    assert any("changed from the run's operating point" in c.value for c in at.caption)
    at.button(key="reset_operating_point").click().run()
    assert at.slider(key="threshold").value == 0.62 and not at.exception
    # a run without manifest and results: the old default, and the page says why
    bare = tmp_path / "runs" / RUN
    bare.mkdir(parents=True)
    shutil.copy(runs / RUN / "predictions.csv", bare / "predictions.csv")
    at = _app(str(root), str(tmp_path / "runs"))
    assert not at.exception and at.slider(key="threshold").value == 0.5
    assert any("No tuned threshold for chb01" in c.value for c in at.sidebar.caption)
    assert any("default: the run has no tuned threshold" in c.value for c in at.caption)


def _has_content(png: Path) -> bool:
    """True when the PNG is not blank: varied pixels and more than 5 % clearly darker than white."""
    with Image.open(png) as img:
        pixels = np.asarray(img.convert("L"), dtype=float)
    return bool(pixels.std() > 20.0 and (pixels < 200).mean() > 0.01)


def _chromium_flags(tmp_path: Path, budget_ms: int) -> list[str]:
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium'}", f"--virtual-time-budget={budget_ms}",
            "--window-size=1400,1000"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow  # ~19 s: a headless Chromium session (CI runs the slow tests too)
@pytest.mark.skipif(not CHROMIUM.is_file(), reason="end-to-end demo test needs Debian chromium at /usr/bin/chromium")
def test_browser_screenshot(demo_data: tuple[Path, Path], tmp_path: Path) -> None:
    root, runs = demo_data
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--",
         "--data_root", str(root), "--runs_root", str(runs)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.read().strip() == b"ok":
                        break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("streamlit server did not become healthy within 30 s")
                time.sleep(0.5)
        # Streamlit renders client-side over a websocket, racing chromium's virtual time: retry with
        # growing budgets (the first sessions also warm the server up)
        budgets = (60_000, 120_000, 240_000, 480_000, 960_000)
        for budget in budgets:
            dom = subprocess.run([str(CHROMIUM), *_chromium_flags(tmp_path, budget), "--dump-dom", url],
                                 check=True, timeout=90, capture_output=True, text=True).stdout
            if "EEG replay" in dom and "Alarm rule: threshold" in dom:
                break
        shot = REPO / "reports" / "figures" / "demo_screenshot.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        for budget in budgets:  # a capture can still show the loading skeleton: take it again
            shot.unlink(missing_ok=True)
            subprocess.run([str(CHROMIUM), *_chromium_flags(tmp_path, budget), f"--screenshot={shot}", url],
                           check=True, timeout=90, capture_output=True)
            if _has_content(shot):
                break
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert "seizure-risk forecast replay" in dom  # the app's title, rendered client-side
    assert "FAH (false alarms / non-ictal h)" in dom and "Surrogate p" in dom and "Risk timeline of chb01" in dom
    # the first screen shows the run's tuned threshold, not 0.50: on the slider and in the alarm-rule caption
    assert f"threshold {TUNED[0.5]:g} on the smoothed risk" in dom and "the run's tuned operating point" in dom
    assert f">{TUNED[0.5]:g}<" in dom  # the threshold slider's value label
    with Image.open(shot) as img:
        assert img.format == "PNG" and img.size == (1400, 1000)
    assert _has_content(shot)
