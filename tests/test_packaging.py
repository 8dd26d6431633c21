"""Packaging: the wheel ships the run configs and the console scripts, and a non-editable install runs
from any folder; ``--config`` takes a file or a packaged name and reports a bad one in one line."""

from __future__ import annotations

import configparser
import importlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sklearn_eeg.experiments.config import load_config, packaged_configs

REPO = Path(__file__).resolve().parents[1]
COMMANDS = ("loso", "within_subject", "train_baseline", "train_deep", "sweep", "ablate", "build_cache",
            "make_synthetic", "make_figures", "verify_dataset", "download_chbmit", "bench_scale", "cache_report", "stream", "app",
            "ecg_classify")
CONFIG_COMMANDS = ("loso", "within_subject", "train_baseline", "train_deep", "sweep", "ablate")
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built offline from a copy of the sources (the checkout gets no build/ folder)."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    shutil.copytree(REPO / "sklearn_eeg", src / "sklearn_eeg", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("setup.cfg", "pyproject.toml", "README.md"):  # README.md: the long description
        shutil.copy(REPO / name, src / name)
    subprocess.run([*PIP, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(base / "dist"),
                    str(src)], check=True, capture_output=True, text=True, timeout=300)
    (built,) = (base / "dist").glob("sklearn_eeg-*.whl")
    return built


@pytest.fixture(scope="module")
def site(wheel: Path) -> Path:
    """The wheel installed (not editable) into a folder of its own."""
    target = wheel.parents[1] / "site"
    subprocess.run([*PIP, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, text=True, timeout=300)
    return target


def _run(site: Path, cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """A command with only the installed copy of the package importable, in a folder outside the repository."""
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_wheel_ships_the_configs_and_the_console_scripts(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (entry_points,) = (n for n in names if n.endswith(".dist-info/entry_points.txt"))
        parser = configparser.ConfigParser()
        parser.read_string(zf.read(entry_points).decode())
    for config in packaged_configs():
        assert f"sklearn_eeg/configs/{config}.yaml" in names
    assert {f"sklearn_eeg/commands/{name}.py" for name in (*COMMANDS, "options", "app_page")} <= names
    scripts = dict(parser["console_scripts"])
    assert scripts == {f"sklearn-eeg-{name.replace('_', '-')}": f"sklearn_eeg.commands.{name}:main" for name in COMMANDS}


@pytest.mark.slow  # ~15 s: runs every installed command from outside the repository
def test_installed_package_finds_its_configs_and_commands_outside_the_repository(site: Path, tmp_path: Path) -> None:
    code = (
        "import json, importlib.metadata as md, sklearn_eeg\n"
        "from sklearn_eeg.experiments.config import load_config, packaged_configs\n"
        "eps = md.distribution('sklearn-eeg').entry_points\n"
        "mains = {ep.name: ep.load().__module__ for ep in eps if ep.group == 'console_scripts'}\n"
        "print(json.dumps({'package': sklearn_eeg.__file__, 'configs': packaged_configs(), 'mains': mains,\n"
        "                  'default': load_config('default').to_dict(), 'cnn': load_config('cnn.yaml').to_dict()}))\n"
    )
    out = _run(site, tmp_path, sys.executable, "-c", code)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert Path(found["package"]).is_relative_to(site)
    assert found["configs"] == ["cnn", "default", "multiphase", "small_run"]
    assert found["mains"] == {f"sklearn-eeg-{name.replace('_', '-')}": f"sklearn_eeg.commands.{name}" for name in COMMANDS}
    assert found["default"] == json.loads(json.dumps(load_config("default").to_dict()))
    assert found["cnn"]["model"]["name"] == "cnn"

    help_ = _run(site, tmp_path, sys.executable, "-m", "sklearn_eeg.commands.loso", "--help")
    assert help_.returncode == 0, help_.stderr
    text = " ".join(help_.stdout.split())  # argparse wraps the option help
    assert "Leave-one-subject-out" in text and "packaged config (cnn, default, multiphase, small_run)" in text
    script = _run(site, tmp_path, str(site / "bin" / "sklearn-eeg-train-deep"), "--help")
    assert script.returncode == 0, script.stderr
    assert "--resume" in script.stdout and "Patient-specific" in script.stdout


def test_unknown_config_is_one_line_and_exit_status_2(site: Path, tmp_path: Path, capsys) -> None:
    out = _run(site, tmp_path, sys.executable, "-m", "sklearn_eeg.commands.loso", "--config", "configs/cnn.yaml")
    assert out.returncode == 2 and out.stdout == ""
    (line,) = out.stderr.strip().splitlines()
    assert "'configs/cnn.yaml' not found" in line and "packaged configs: cnn, default, multiphase, small_run" in line
    for name in CONFIG_COMMANDS:
        main = importlib.import_module(f"sklearn_eeg.commands.{name}").main
        assert main(["--config", "nosuch"]) == 2, name
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.startswith("error: config 'nosuch' not found") and "small_run" in line, name


def test_app_command_runs_streamlit_on_the_installed_page(monkeypatch) -> None:
    from sklearn_eeg.commands import app

    calls = []

    def call(command: list[str]) -> int:
        calls.append(command)
        return 0

    monkeypatch.setattr(app.subprocess, "call", call)
    assert app.main(["--data_root", "data", "--server.port", "8502"]) == 0
    (command,) = calls
    assert command[1:5] == ["-m", "streamlit", "run", str(app.PAGE)] and app.PAGE.is_file()
    assert command[5:] == ["--server.port", "8502", "--", "--data_root", "data", "--runs_root", "reports/runs"]


@pytest.mark.slow
def test_installed_loso_runs_on_the_tiny_preset_in_another_folder(site: Path, tmp_path: Path, monkeypatch) -> None:
    """``python -m sklearn_eeg.commands.loso --preset tiny`` with the packaged default config (about 30 s); the
    synthetic data goes to the per-user cache folder, not to the working folder."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SKLEARN_EEG_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    (tmp_path / "work").mkdir()
    out = _run(site, tmp_path / "work", sys.executable, "-m", "sklearn_eeg.commands.loso", "--preset", "tiny",
               "--quiet", "--no_figures", "--out_dir", "out", timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "LOSO, model logreg, 3 test subjects" in out.stdout
    assert (tmp_path / "work" / "out" / "tables" / "loso_results.csv").is_file()
    assert (tmp_path / "home" / ".cache" / "sklearn-eeg" / "synthetic" / "tiny").is_dir()
    assert not (tmp_path / "work" / "cache").exists()
