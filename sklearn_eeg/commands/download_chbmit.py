"""Download CHB-MIT subjects from PhysioNet (resumable; checksums verified).

Run it again to resume an interrupted download. See docs/DATA_DOWNLOAD.md for wget and AWS S3
alternatives. Exits with status 1 when a file could not be fetched or verified, and with status 2
and one "error: ..." line when the download is refused: RECORDS cannot be fetched, too little disk
space, an unknown subject, or a list entry that could write outside --data_root (an absolute path, a
'..' component, a symbolic link leading out), named with its file and line; in that case no data
file is fetched.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sklearn_eeg.commands.options import RUN_ERRORS, add_option, command_parser, report_error
from sklearn_eeg.data.download import CHBMIT_URL, DownloadError, download_chbmit


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_parser(__doc__)
    add_option(parser, "--data_root", "--dest", required=True, type=Path,
               help="local dataset root to download into (PhysioNet layout)")
    parser.add_argument(
        "--subjects", nargs="+", default=["chb01"], help="subjects such as chb01 chb02, or 'all' (~43 GB)"
    )
    parser.add_argument("--base_url", default=CHBMIT_URL, help="dataset root URL (PhysioNet or a mirror)")
    parser.add_argument("--no_verify", action="store_true", help="skip the SHA256SUMS.txt checks")
    parser.add_argument("--no_annotations", action="store_true", help="skip the .seizures annotation files")
    parser.add_argument("--retries", type=int, default=3, help="attempts per file")
    parser.add_argument("--timeout", type=float, default=60.0, help="socket timeout in seconds")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    subjects = "all" if args.subjects == ["all"] else args.subjects
    try:
        report = download_chbmit(
            args.data_root,
            subjects,
            base_url=args.base_url,
            verify=not args.no_verify,
            annotations=not args.no_annotations,
            timeout=args.timeout,
            retries=args.retries,
            progress=not args.quiet,
        )
    except (DownloadError, *RUN_ERRORS) as err:
        return report_error(err)
    print(
        f"downloaded {len(report.downloaded)}, resumed {len(report.resumed)}, skipped {len(report.skipped)}, "
        f"re-fetched {len(report.refetched)}, failed {len(report.failed)}"
    )
    for line in report.failed:
        print(f"FAILED {line}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
