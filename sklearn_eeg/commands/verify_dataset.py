"""Check a CHB-MIT(-like) download: EDF files, summaries and RECORDS lists agree.

Writes a plain-text report and exits with status 1 when the dataset is inconsistent.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sklearn_eeg.commands.options import add_option, command_parser
from sklearn_eeg.data.verify import verify_dataset


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_parser(__doc__)
    parser.add_argument("--data_root", required=True, type=Path, help="dataset root in PhysioNet layout")
    add_option(parser, "--out_file", "--out", type=Path, default=Path("reports/tables/dataset_summary.txt"),
               help="report file to write (default: %(default)s)")
    parser.add_argument("--summaries_only", action="store_true", help="skip checks that need the EDF files")
    parser.add_argument("--no_headers", action="store_true", help="do not read the EDF headers")
    parser.add_argument(
        "--allow_known",
        action="store_true",
        help="exit 0 despite the known inconsistencies of the real PhysioNet release (still reported)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    report = verify_dataset(args.data_root, summaries_only=args.summaries_only, check_headers=not args.no_headers)
    text = report.to_text()
    args.out_file.parent.mkdir(parents=True, exist_ok=True)
    args.out_file.write_text(text)
    print(text, end="")
    print(f"Report written to {args.out_file}")
    return 0 if report.ok(allow_known=args.allow_known) else 1


if __name__ == "__main__":
    sys.exit(main())
