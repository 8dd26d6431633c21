"""Command-line conventions (issue #14): one spelling per concept in every command's ``--help``, old
spellings still accepted, ``--cache_dir`` on every run command, the cache location reported."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import re
import runpy
from collections.abc import Callable
from pathlib import Path

import pytest

from sklearn_eeg.commands.options import OLD_SPELLINGS, add_option, command_parser, config_overrides
from sklearn_eeg.experiments.config import CACHE_ENV, load_config

REPO = Path(__file__).resolve().parents[1]
PIPELINES = sorted(p.stem for p in (REPO / "pipelines").glob("*.py"))
RUN_COMMANDS = ("loso", "within_subject", "train_baseline", "train_deep", "sweep", "ablate")
"""Commands that load a run config: they share the data, cache and output options."""
PENDING: dict[str, str] = {}
"""Commands whose rename is still to come: their forbidden-spelling check is a strict xfail, so it
fails the day the rename lands and this entry must go."""


def command_main(name: str) -> Callable:
    """``main`` of ``pipelines/<name>.py``: the command module's, or the script's own (benchmarks)."""
    if name == "app":  # pipelines/app.py is the Streamlit page; the command is sklearn_eeg.commands.app
        return importlib.import_module("sklearn_eeg.commands.app").main
    return runpy.run_path(str(REPO / "pipelines" / f"{name}.py"))["main"]


def command_parse_args(name: str) -> Callable[[list[str]], argparse.Namespace]:
    """``parse_args`` of a command module, else of the pipelines script."""
    try:
        return importlib.import_module(f"sklearn_eeg.commands.{name}").parse_args
    except ModuleNotFoundError:
        return runpy.run_path(str(REPO / "pipelines" / f"{name}.py"))["parse_args"]


_HELP: dict[str, str] = {}


def help_text(name: str) -> str:
    """The ``--help`` output of a command (cached: importing some commands takes seconds)."""
    if name not in _HELP:
        main = command_main(name)
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exc:
            main(["--help"])
        assert exc.value.code == 0, name
        _HELP[name] = out.getvalue()
    return _HELP[name]


def option_invocations(text: str) -> dict[str, str]:
    """Options listed by a help text: ``{"--data_root": "--data_root DATA_ROOT", ...}``."""
    found = {}
    for line in text.splitlines():
        match = re.match(r"^  (-\S.*?)(?:\s{2,}|$)", line)
        if match:
            for part in match.group(1).split(", "):
                found[part.split(" ")[0]] = part
    return found


def mentions(text: str, option: str) -> bool:
    """``option`` appears in ``text`` as a whole option name (``--out`` is not in ``--out_dir``)."""
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


@pytest.mark.parametrize("name", PIPELINES)
def test_every_command_has_help(name):
    text = help_text(name)
    assert text.startswith("usage:") and "-h, --help" in text
    assert len(text.split("options:")[0].splitlines()) > 2, "a description under the usage line"


@pytest.mark.parametrize("name", PIPELINES)
def test_options_are_lower_case_with_underscores(name):
    options = option_invocations(help_text(name))
    assert options, name
    for option in options:
        assert option in ("-h", "--help") or re.fullmatch(r"--[a-z0-9]+(_[a-z0-9]+)*", option), (name, option)


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=PENDING[n])) if n in PENDING else n
             for n in PIPELINES])
def test_no_help_text_uses_an_old_spelling(name):
    """Neither the option list nor the description (examples included) shows a replaced spelling."""
    text = help_text(name)
    used = [old for old in OLD_SPELLINGS if mentions(text, old)]
    assert not used, f"{name} --help shows {used}; use {[OLD_SPELLINGS[o] for o in used]}"


@pytest.mark.parametrize("name", PIPELINES)
def test_one_meaning_per_spelling(name):
    """``--subjects`` is always a list of subject ids (a number of subjects is ``--n_subjects``)."""
    options = option_invocations(help_text(name))
    if "--subjects" in options:
        assert "..." in options["--subjects"], (name, options["--subjects"])


@pytest.mark.parametrize("name", RUN_COMMANDS)
def test_run_commands_share_the_data_cache_and_output_options(name):
    options = option_invocations(help_text(name))
    assert {"--config", "--data_root", "--preset", "--cache_dir", "--out_dir", "--seed", "--quiet"} <= set(options)


@pytest.mark.parametrize(
    "name, old, new",
    [
        ("train_baseline", ["--train", "chb01", "--val", "chb02", "--test", "chb03", "chb04"],
         ["--train_subjects", "chb01", "--val_subjects", "chb02", "--test_subjects", "chb03", "chb04"]),
        ("train_deep", ["--test_subject", "chb05", "--valid_fraction", "0.3"],
         ["--test_subjects", "chb05", "--val_fraction", "0.3"]),
        ("ablate", ["--valid_fraction", "0.3"], ["--val_fraction", "0.3"]),
        ("sweep", ["--model", "constant", "random"], ["--models", "constant", "random"]),
        ("download_chbmit", ["--dest", "data/chbmit"], ["--data_root", "data/chbmit"]),
        ("make_figures", ["--run_dir", "r", "--out", "figs", "--tables", "t"],
         ["--run_dir", "r", "--out_dir", "figs", "--tables_dir", "t"]),
        ("verify_dataset", ["--data_root", "d", "--out", "s.txt"], ["--data_root", "d", "--out_file", "s.txt"]),
        ("bench_scale", ["--subjects", "3", "--workdir", "w"], ["--n_subjects", "3", "--work_dir", "w"]),
        ("bench_alarms", ["--subjects", "5"], ["--n_subjects", "5"]),
        ("bench_features", ["--n-windows", "9", "--n-channels", "2", "--n-times", "256", "--repeat", "1",
                            "--json", "r.json"],
         ["--n_windows", "9", "--n_channels", "2", "--n_times", "256", "--repeats", "1", "--out_file", "r.json"]),
        ("bench_train", ["--out", "t.json"], ["--out_file", "t.json"]),
    ],
)
def test_old_spellings_still_parse(name, old, new):
    parse_args = command_parse_args(name)
    assert parse_args(old) == parse_args(new)


def test_old_spellings_are_hidden_but_errors_name_them():
    parser = command_parser("demo")
    add_option(parser, "--data_root", "--dest", required=True)
    assert parser.parse_args(["--dest", "x"]).data_root == "x"
    text = parser.format_help()
    assert "--data_root DATA_ROOT" in text and not mentions(text, "--dest")
    assert "--dest" not in parser.format_usage()


def test_every_old_spelling_names_its_replacement():
    for old, new in OLD_SPELLINGS.items():
        assert re.fullmatch(r"--\w[\w-]*", old) and new.startswith("--") and old not in new.split()


@pytest.mark.parametrize("name", RUN_COMMANDS)
def test_cache_dir_reaches_the_config(name, tmp_path):
    args = command_parse_args(name)(["--cache_dir", str(tmp_path / "c")])
    assert args.cache_dir == str(tmp_path / "c")
    if name in ("loso", "within_subject", "train_baseline", "ablate"):  # the shared run_parser options
        assert load_config(args.config, **config_overrides(args)).data.cache_dir == str(tmp_path / "c")


def test_loso_takes_cache_dir_and_uses_it(tmp_path, monkeypatch):
    """``loso.py --cache_dir`` reaches the data loader (the loader is replaced: nothing is computed)."""
    from sklearn_eeg.commands import loso

    seen = []

    def loso_from_config(cfg, **kwargs):
        seen.append(cfg.data.cache_dir)
        raise ValueError("stop here")

    monkeypatch.setattr(loso, "loso_from_config", loso_from_config)
    assert loso.main(["--preset", "tiny", "--cache_dir", str(tmp_path / "c"), "--quiet"]) == 2
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "env"))
    assert loso.main(["--preset", "tiny", "--quiet"]) == 2
    assert seen == [str(tmp_path / "c"), str(tmp_path / "env")]


def test_cache_report_says_which_cache_folder_and_why(tmp_path, monkeypatch, capsys):
    from sklearn_eeg.commands import cache_report

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "env"))
    (tmp_path / "env" / "synthetic" / "tiny").mkdir(parents=True)
    (tmp_path / "env" / "synthetic" / "tiny" / "x.edf").write_bytes(b"0" * 2**20)
    assert cache_report.main([]) == 1  # no window store yet
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"cache folder: {tmp_path / 'env'} (from ${CACHE_ENV})"
    assert re.search(r"synthetic/\s+0\.00 GiB", out) and "no window store under" in out
    assert cache_report.folder_size(tmp_path / "env") == 2**20
    assert cache_report.main(["--cache_dir", str(tmp_path / "opt")]) == 1
    assert capsys.readouterr().out.startswith(f"cache folder: {tmp_path / 'opt'} (given with --cache_dir")
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache_report.main([]) == 1
    assert capsys.readouterr().out.startswith(f"cache folder: {tmp_path / 'home' / '.cache' / 'sklearn-eeg'} (per-user default")
