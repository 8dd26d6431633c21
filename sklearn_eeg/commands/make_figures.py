"""Write every figure a run folder allows (benchmark bars, risk timelines, threshold curves, calibration,
training curves) and, with --data_root, the EEG/PSD/spectrogram/label-timeline figures.

With --tables_dir, also writes final_summary.txt/.md from the run's loso/within results.
Missing inputs are skipped with a message. The predictions file format is documented in
sklearn_eeg.reporting.predictions.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sklearn_eeg.commands.options import add_option, command_parser
from sklearn_eeg.reporting.run_figures import make_run_figures, write_run_summary


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_parser(__doc__)
    parser.add_argument("--run_dir", type=Path, help="run folder (e.g. reports/runs/<timestamp>_loso_logreg)")
    parser.add_argument("--data_root", type=Path, help="CHB-MIT(-like) folder for the signal figures")
    add_option(parser, "--out_dir", "--out", type=Path, default=Path("reports/figures"),
               help="output folder (%(default)s)")
    add_option(parser, "--tables_dir", "--tables", type=Path,
               help="also write final_summary.txt/.md here (e.g. reports/tables)")
    parser.add_argument("--max_subjects", type=int, default=3, help="risk timelines drawn (%(default)s)")
    args = parser.parse_args(argv)
    if args.run_dir is None and args.data_root is None:
        parser.error("give --run_dir and/or --data_root")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        written = make_run_figures(args.run_dir, args.out_dir, data_root=args.data_root, max_subjects=args.max_subjects)
        if args.tables_dir is not None and args.run_dir is not None:
            written += write_run_summary(args.run_dir, args.tables_dir, data_root=args.data_root)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
