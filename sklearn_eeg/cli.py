"""Command-line arguments shared by the run scripts in ``pipelines/`` (config, data, model, output)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sklearn_eeg.benchmark import MODEL_NAMES
from sklearn_eeg.datasets.synthetic import PRESETS

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"
MODEL_CHOICES = MODEL_NAMES
PRESET_CHOICES = tuple(PRESETS)


def run_parser(description: str | None, *, default_config: str = "default.yaml") -> argparse.ArgumentParser:
    """A parser with the options every run script takes: config, data, model, seed, output, quiet.

    Parameters
    ----------
    description : str or None
        The script's help text (its module docstring).
    default_config : str, default="default.yaml"
        File name under ``configs/`` used when ``--config`` is not given.

    Returns
    -------
    argparse.ArgumentParser
        Add the script's own options to it, then read the overrides with :func:`config_overrides`.
    """
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=CONFIG_DIR / default_config,
                        help="YAML run config (default: %(default)s)")
    parser.add_argument("--data_root", help="CHB-MIT(-like) folder; default: the embedded synthetic dataset")
    parser.add_argument("--preset", choices=PRESET_CHOICES, help="embedded synthetic preset")
    parser.add_argument("--model", choices=MODEL_CHOICES,
                        help="estimator (constant, random: chance baselines that never read the EEG)")
    parser.add_argument("--seed", type=int, help="random seed")
    parser.add_argument("--out_dir", help="output root (tables/, runs/, folds/); default from the config: reports")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def config_overrides(args: argparse.Namespace) -> dict:
    """``load_config`` overrides from the options of :func:`run_parser` (None leaves the config value)."""
    return {
        "data__data_root": args.data_root,
        "data__preset": args.preset,
        "model__name": args.model,
        "seed": args.seed,
        "output_dir": args.out_dir,
    }


def selected_subjects(subjects: list[str] | None) -> list[str] | None:
    """``--subjects`` as the config wants it: None for all (absent or ``all``), else the list."""
    return None if subjects is None or subjects == ["all"] else subjects
