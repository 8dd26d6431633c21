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

from sklearn_eeg.commands.app_logic import alarm_view, check_data_root, list_runs
from sklearn_eeg.reporting import validate_predictions, write_predictions

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "pipelines" / "app.py"
CHROMIUM = Path("/usr/bin/chromium")


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
    write_predictions(pred, base / "runs" / "20260101T000000_loso_logreg" / "predictions.csv")
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
    assert [p.name for p in list_runs(runs)] == ["20260101T000000_loso_logreg"]
    at = _app(str(root), str(runs))
    assert not at.exception and not at.error
    images = [el for el in at.main if type(el).__name__ == "Image"]
    assert len(images) == 2  # risk timeline + EEG replay
    assert not at.warning  # the EEG replay found the recording
    assert _metric(at, "Sensitivity") != "n/a"
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
            if "EEG replay" in dom:
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
    with Image.open(shot) as img:
        assert img.format == "PNG" and img.size == (1400, 1000)
    assert _has_content(shot)
