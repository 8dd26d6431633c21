"""Show the cache folder in use and what it holds: synthetic datasets, window stores, feature cache.

The cache folder is --cache_dir when given, else $SKLEARN_EEG_CACHE when set, else the per-user cache
folder ($XDG_CACHE_HOME/sklearn-eeg or ~/.cache/sklearn-eeg), whatever the working folder; the first
line says which one applies and why. Then the size of each part, and for every window store its
windows, positive rate, disk and RAM size per subject. Exits with status 1 when no window store is
there yet (pipelines/build_cache.py, or any run command, builds one).

Example:
  python pipelines/cache_report.py
  python pipelines/cache_report.py --cache_dir /scratch/eeg-cache
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sklearn_eeg.commands.options import add_cache_option, command_parser
from sklearn_eeg.experiments.config import cache_location
from sklearn_eeg.signal.windows import cache_summary

PARTS = {"synthetic": "embedded synthetic datasets", "windows": "window stores", "joblib": "feature cache"}
"""Sub-folders of the cache folder and what they hold."""


def folder_size(path: Path) -> int:
    """Bytes of the files under ``path`` (0 when it does not exist); links are not followed."""
    total = 0
    for folder, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:  # removed meanwhile (another run cleaning up a temporary file)
                continue
    return total


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_parser(__doc__)
    add_cache_option(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    location = cache_location(args.cache_dir)
    cache_dir = location.path
    print(f"cache folder: {location.describe()}")
    for part, what in PARTS.items():
        size = folder_size(cache_dir / part)
        print(f"  {part + '/':<11} {size / 2**30:7.2f} GiB  {what}")
    summary = cache_summary(cache_dir)
    if summary.empty:
        print(f"no window store under {cache_dir / 'windows'}; run pipelines/build_cache.py first")
        return 1
    for store, rows in summary.groupby("store"):
        print(f"\nstore {store}")
        print(rows.drop(columns="store").to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        pre, inter = rows["preictal"].sum(), rows["interictal"].sum()
        print(f"total: {rows['windows'].sum()} windows, positive rate {pre / max(pre + inter, 1):.3f}, "
              f"{rows['disk_mb'].sum():.1f} MiB on disk, {rows['ram_mb'].sum():.1f} MiB RAM to load "
              "preictal+interictal as float32")
    return 0


if __name__ == "__main__":
    sys.exit(main())
