"""Command-line conventions shared by the commands: parser, config, data and run options, errors.

Every command builds its parser with :func:`command_parser` (its module docstring is the ``--help``
text), takes ``--config`` as a YAML file or the name of a packaged config (:func:`add_config_option`),
and reports a bad config, a missing file or a bad value as one ``error: ...`` line on stderr with
exit status 2 (:data:`RUN_ERRORS`, :func:`report_error`).

Option names
------------
One spelling per concept, lower case with underscores (:data:`CONVENTIONS`): ``--data_root`` for any
dataset folder (read, downloaded or generated), ``--cache_dir``, ``--out_dir`` for an output folder,
``--out_file`` for a single output file, ``--train_subjects`` / ``--val_subjects`` /
``--test_subjects``, ``--n_subjects`` / ``--n_windows`` for counts, ``--val_fraction``, ``--repeats``.
Older spellings (:data:`OLD_SPELLINGS`) still parse but are left out of ``--help``
(:func:`add_option`).
"""

from __future__ import annotations

import argparse
import copy
import sys

from sklearn_eeg.data import EEGDataError
from sklearn_eeg.data.synthetic import PRESETS
from sklearn_eeg.experiments.config import CACHE_ENV, ConfigError, packaged_configs
from sklearn_eeg.models.registry import MODEL_NAMES

__all__ = [
    "CONVENTIONS",
    "HelpFormatter",
    "MODEL_CHOICES",
    "OLD_SPELLINGS",
    "PRESET_CHOICES",
    "RUN_ERRORS",
    "add_cache_option",
    "add_config_option",
    "add_data_options",
    "add_option",
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


CONVENTIONS = {
    "dataset folder (read, downloaded or generated)": "--data_root",
    "cache folder": "--cache_dir",
    "output folder": "--out_dir",
    "single output file": "--out_file",
    "subjects by id": "--subjects / --train_subjects / --val_subjects / --test_subjects",
    "counts": "--n_subjects / --n_windows / --n_channels / --n_times / --n_trials / --n_jobs",
    "validation share": "--val_fraction",
    "timed repetitions": "--repeats",
}
"""One option spelling per concept, used by every command."""

OLD_SPELLINGS = {
    "--root": "--data_root",
    "--dest": "--data_root",
    "--out": "--out_dir (a folder) or --out_file (a file)",
    "--json": "--out_file",
    "--tables": "--tables_dir",
    "--workdir": "--work_dir",
    "--train": "--train_subjects",
    "--val": "--val_subjects",
    "--test": "--test_subjects",
    "--test_subject": "--test_subjects",
    "--valid_fraction": "--val_fraction",
    "--n-windows": "--n_windows",
    "--n-channels": "--n_channels",
    "--n-times": "--n_times",
    "--repeat": "--repeats",
}
"""Spellings replaced by :data:`CONVENTIONS`: still accepted where a command had them, never shown in
``--help``. (``--subjects`` stays, for subject ids only; a number of subjects is ``--n_subjects``.)"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The description as written; each option under its current spelling only (see :func:`add_option`)."""

    def _format_action_invocation(self, action: argparse.Action) -> str:
        old = getattr(action, "old_spellings", ())
        if old:
            action = copy.copy(action)
            action.option_strings = [s for s in action.option_strings if s not in old]
        return super()._format_action_invocation(action)


def add_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup, name: str, *old_spellings: str,
               **kwargs) -> argparse.Action:
    """``parser.add_argument(name, *old_spellings, **kwargs)``, with the old spellings hidden from ``--help``.

    The option's destination comes from ``name``, so ``--dest DIR`` and ``--data_root DIR`` set the
    same attribute; :class:`HelpFormatter` (the formatter of :func:`command_parser`) lists ``name`` only.

    Parameters
    ----------
    parser : ArgumentParser or argument group
    name : str
        The current spelling, e.g. ``"--data_root"``.
    *old_spellings : str
        Spellings still accepted (see :data:`OLD_SPELLINGS`).
    **kwargs
        ``add_argument`` arguments.

    Returns
    -------
    action : argparse.Action
    """
    action = parser.add_argument(name, *old_spellings, **kwargs)
    action.old_spellings = old_spellings
    return action


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
    return argparse.ArgumentParser(description=description, formatter_class=HelpFormatter)


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
    """Add ``--data_root``, ``--preset`` and ``--cache_dir``: real CHB-MIT(-like) data or an embedded
    synthetic preset, and the cache folder (``data.cache_dir``)."""
    parser.add_argument("--data_root", help="CHB-MIT(-like) folder; default: the embedded synthetic dataset")
    parser.add_argument("--preset", choices=PRESET_CHOICES, help="embedded synthetic preset")
    add_cache_option(parser)


def add_cache_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--cache_dir``: synthetic data, window store and features (see :func:`~sklearn_eeg.experiments.config.cache_location`)."""
    parser.add_argument(
        "--cache_dir", metavar="DIR",
        help=f"cache folder for the synthetic data, window store and features (default: the config's data.cache_dir, "
        f"else ${CACHE_ENV}, else $XDG_CACHE_HOME/sklearn-eeg or ~/.cache/sklearn-eeg)",
    )


def run_parser(description: str | None, *, default_config: str = "default") -> argparse.ArgumentParser:
    """A parser with the options every run command takes: config, data, cache, model, seed, output, quiet.

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
        "data__cache_dir": args.cache_dir,
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
