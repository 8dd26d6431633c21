"""Report what the window stores under a cache folder hold: windows, positive rate, disk and RAM size.

Example:
  python pipelines/cache_report.py --cache_dir cache
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sklearn_eeg.signal.windows import cache_summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache_dir", type=Path, default=Path("cache"), help="cache folder (default cache)")
    args = parser.parse_args(argv)
    summary = cache_summary(args.cache_dir)
    if summary.empty:
        print(f"no window store under {args.cache_dir / 'windows'}; run pipelines/build_cache.py first")
        return 1
    for store, rows in summary.groupby("store"):
        print(f"store {store}")
        print(rows.drop(columns="store").to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        pre, inter = rows["preictal"].sum(), rows["interictal"].sum()
        print(f"total: {rows['windows'].sum()} windows, positive rate {pre / max(pre + inter, 1):.3f}, "
              f"{rows['disk_mb'].sum():.1f} MiB on disk, {rows['ram_mb'].sum():.1f} MiB RAM to load "
              "preictal+interictal as float32\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
