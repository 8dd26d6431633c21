"""Streamlit demo: replay EEG with the rolling seizure-risk forecast, alarms and their FAH/sensitivity.

Starts a Streamlit server on the demo page (sklearn_eeg/commands/app_page.py) and opens it in the
browser; stop it with Ctrl+C. Needs the demo extra (pip install "sklearn-eeg[demo]"). Options that
are not listed below go to `streamlit run` (e.g. --server.port 8502 --server.headless true).

The alarm sliders open at the chosen run's own operating point: the threshold the shown subject's
LOSO fold tuned on its validation subjects for FAH <= 0.5/h (else the config's first FAH target),
and the smoothing and persistence of the run's config (manifest.json).

Examples:
  sklearn-eeg-app --data_root cache/synthetic/default --runs_root reports/runs
  streamlit run pipelines/app.py -- --data_root cache/synthetic/default --runs_root reports/runs
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

from sklearn_eeg.commands.app_logic import default_data_root
from sklearn_eeg.commands.options import command_parser, report_error

PAGE = Path(__file__).with_name("app_page.py")
"""The Streamlit script of the demo page, inside the installed package."""


def build_parser() -> argparse.ArgumentParser:
    """The demo's options: the initial data root and runs folder of the page."""
    parser = command_parser(__doc__)
    parser.add_argument("--data_root", default=default_data_root(), help="initial data root (default: %(default)s)")
    parser.add_argument("--runs_root", default="reports/runs", help="folder of run folders (default: %(default)s)")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The page's options; unknown ones (``streamlit run``'s, a test runner's) are ignored."""
    return build_parser().parse_known_args(argv)[0]


def main(argv: list[str] | None = None) -> int:
    args, streamlit_options = build_parser().parse_known_args(argv)
    if importlib.util.find_spec("streamlit") is None:
        return report_error(ImportError('the demo needs streamlit: pip install "sklearn-eeg[demo]"'))
    command = [sys.executable, "-m", "streamlit", "run", str(PAGE), *streamlit_options,
               "--", "--data_root", args.data_root, "--runs_root", args.runs_root]
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
