"""Benchmark: peak memory and seconds per EEG hour at two dataset sizes, projected to all of CHB-MIT.

For each size a synthetic CHB-MIT-like dataset is generated (``--n_subjects`` subjects sharing the
hours), then two steps run, each in a fresh interpreter so that its peak RSS is its own:

* ``cache``: EDF -> window store (filtered signal per recording) -> features, from a cold cache;
* ``loso``: ``sklearn-eeg-loso``'s benchmark of ``--model`` on that cache.

Memory that stays flat between the sizes is what lets the run reach CHB-MIT's ~980 h; the projection
extrapolates both figures linearly from the two sizes.

Example:
  sklearn-eeg-bench-scale                      # 12 h and 48 h, 4 subjects, logreg (~5 min)
  sklearn-eeg-bench-scale --hours 6 12 --n_subjects 3
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from sklearn_eeg.commands.options import MODEL_CHOICES, add_option, command_parser
from sklearn_eeg.data import make_chbmit_like
from sklearn_eeg.experiments.scaling import CHBMIT_HOURS, STEPS, measure_in_subprocess, project, run_step


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = command_parser(__doc__)
    parser.add_argument("--hours", type=float, nargs=2, default=[12.0, 48.0], metavar=("SMALL", "LARGE"),
                        help="EEG hours of the two datasets (default 12 48)")
    add_option(parser, "--n_subjects", "--subjects", type=int, default=4, help="subjects per dataset (default 4)")
    parser.add_argument("--model", choices=MODEL_CHOICES, default="logreg",
                        help="model of the LOSO step (default logreg)")
    parser.add_argument("--n_jobs", type=int, default=1, help="parallel recordings / folds (default 1)")
    add_option(parser, "--work_dir", "--workdir", type=Path,
               help="keep data and caches here (default: a temporary folder)")
    parser.add_argument("--child", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--data_root", help=argparse.SUPPRESS)
    parser.add_argument("--cache_dir", help=argparse.SUPPRESS)
    parser.add_argument("--out_dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.hours[0] <= 0 or args.hours[1] <= args.hours[0]:
        parser.error(f"--hours needs 0 < SMALL < LARGE, got {args.hours}")
    if args.n_subjects < 3:
        parser.error("--n_subjects must be >= 3 (LOSO needs training, validation and test subjects)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        result = run_step(args.child, data_root=args.data_root, cache_dir=args.cache_dir, out_dir=args.out_dir,
                          model=args.model, n_jobs=args.n_jobs)
        print(json.dumps(result))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work_dir or Path(tmp)
        rows = []
        for hours in args.hours:
            folder = work / f"{hours:g}h"
            per_subject = hours / args.n_subjects
            root = make_chbmit_like(folder / "data", n_subjects=args.n_subjects, hours=per_subject,
                                    seizures=2 if per_subject >= 2.5 else 1, seed=0, progress=False)
            common = dict(data_root=root, cache_dir=folder / "cache", out_dir=folder / "reports", model=args.model,
                          n_jobs=args.n_jobs)
            cache = measure_in_subprocess(__spec__.name, "cache", **common)
            loso = measure_in_subprocess(__spec__.name, "loso", **common)
            rows.append({"hours": cache["eeg_hours"], "cache_s": cache["seconds"], "cache_mib": cache["peak_rss_mib"],
                         "loso_s": loso["seconds"], "loso_mib": loso["peak_rss_mib"]})
            print(f"{rows[-1]['hours']:6.1f} h  cache {cache['seconds']:7.1f} s ({cache['seconds'] / rows[-1]['hours']:.2f} s/h)"
                  f"  peak {cache['peak_rss_mib']:7.0f} MiB   LOSO {loso['seconds']:7.1f} s  peak {loso['peak_rss_mib']:7.0f} MiB",
                  flush=True)
    hours = [r["hours"] for r in rows]
    print(f"\nprojected to CHB-MIT ({CHBMIT_HOURS:.0f} h, {args.n_jobs} job(s)):")
    print(f"  cache  {project(hours, [r['cache_s'] for r in rows]) / 60:6.1f} min,"
          f" peak {project(hours, [r['cache_mib'] for r in rows]) / 1024:5.2f} GiB")
    print(f"  LOSO   {project(hours, [r['loso_s'] for r in rows]) / 60:6.1f} min,"
          f" peak {project(hours, [r['loso_mib'] for r in rows]) / 1024:5.2f} GiB")
    print(f"  peak RSS ratio {hours[1] / hours[0]:.0f}x data: cache {rows[1]['cache_mib'] / rows[0]['cache_mib']:.2f}x,"
          f" LOSO {rows[1]['loso_mib'] / rows[0]['loso_mib']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
