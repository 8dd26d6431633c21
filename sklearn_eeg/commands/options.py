"""Command-line conventions shared by the commands: parser, config, data and run options, errors.

Every command builds its parser with :func:`command_parser` (its module docstring is the ``--help``
text), takes ``--config`` as a YAML file or the name of a packaged config (:func:`add_config_option`),
and reports a bad config, a missing file or a bad value as one ``error: ...`` line on stderr with
exit status 2 (:data:`RUN_ERRORS`, :func:`report_error`).
"""

from __future__ import annotations

import argparse
import sys

from sklearn_eeg.data import EEGDataError
from sklearn_eeg.data.synthetic import PRESETS
from sklearn_eeg.experiments.config import ConfigError, packaged_configs
from sklearn_eeg.models.registry import MODEL_NAMES

__all__ = [
    "MODEL_CHOICES",
    "PRESET_CHOICES",
    "RUN_ERRORS",
    "add_config_option",
    "add_data_options",
    "command_parser",
    "config_overrides",
    "report_error",
    "run_parser",
    "selected_subjects",
]

MODEL_CHOICES = MODEL_NAMES
PRESET_CHOICES = tuple(PRESETS)
RUN_ERRORS = (ConfigError, EEGDataError, ImportError, OSError, ValueError)
"""Errors a command reports with :func:`report_error` instead of a traceback (``OSError``: a missing
file, an output folder that cannot be written, a full disk -- each message names the path)."""


def command_parser(description: str | None) -> argparse.ArgumentParser:
    """An argument parser that shows ``description`` (the command's docstring) as written.

    Parameters
    ----------
    description : str or None
        The command's help text, its module docstring.

    Returns
    -------
    argparse.ArgumentParser
    """
    return argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)


def add_config_option(parser: argparse.ArgumentParser, default: str | None = "default") -> None:
    """Add ``--config``: a YAML file or the name of a packaged config (see :func:`sklearn_eeg.experiments.config.find_config`).

    Parameters
    ----------
    parser : argparse.ArgumentParser
    default : str or None, default="default"
        Packaged config used when ``--config`` is not given; None: the schema defaults.
    """
    fallback = "%(default)s" if default else "the defaults of sklearn_eeg.experiments.config"
    parser.add_argument(
        "--config", default=default, metavar="FILE_OR_NAME",
        help=f"YAML run config: a file, or a packaged config ({', '.join(packaged_configs())}); "
        f"command-line options override it (default: {fallback})",
    )


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--data_root`` and ``--preset``: real CHB-MIT(-like) data or an embedded synthetic preset."""
    parser.add_argument("--data_root", help="CHB-MIT(-like) folder; default: the embedded synthetic dataset")
    parser.add_argument("--preset", choices=PRESET_CHOICES, help="embedded synthetic preset")


def run_parser(description: str | None, *, default_config: str = "default") -> argparse.ArgumentParser:
    """A parser with the options every run command takes: config, data, model, seed, output, quiet.

    Parameters
    ----------
    description : str or None
        The command's help text (its module docstring).
    default_config : str, default="default"
        Packaged config used when ``--config`` is not given.

    Returns
    -------
    argparse.ArgumentParser
        Add the command's own options to it, then read the overrides with :func:`config_overrides`.
    """
    parser = command_parser(description)
    add_config_option(parser, default_config)
    add_data_options(parser)
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


def report_error(err: Exception) -> int:
    """Print ``err`` as one ``error: ...`` line on stderr; return the exit status 2."""
    print(f"error: {err}", file=sys.stderr)
    return 2
