"""Build the on-disk window store (filtered signals + labeled window tables) of a CHB-MIT(-like) dataset.

Resumable: finished recordings are skipped, half-written ones are redone, and stored files that are missing
or truncated are rebuilt (one warning line names each). Unreadable or missing EDF files are reported at
the end and skipped; the rest of the cache is kept. Several runs may share one cache at once: each
recording is built by one of them while the others wait for it.

With ``--features SET`` the features of every window are computed too, recording by recording from
the store's memory maps, and cached where the run scripts look for them (``<cache_dir>/joblib``).
Without --cache_dir the cache folder is the one the run scripts use by default: $SKLEARN_EEG_CACHE,
else the per-user cache folder (pipelines/cache_report.py shows which).

Examples:
  sklearn-eeg-build-cache --data_root data/synth --subjects all
  sklearn-eeg-build-cache --data_root data/chbmit --subjects chb01 chb02 --dtype float16
  sklearn-eeg-build-cache --data_root data/chbmit --features basic_plus --n_jobs 2
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sklearn_eeg.commands.options import RUN_ERRORS, add_cache_option, command_parser, report_error
from sklearn_eeg.experiments.config import cache_location
from sklearn_eeg.features.functions import FEATURE_SETS
from sklearn_eeg.data.labeling import LABELING_DEFAULTS
from sklearn_eeg.experiments.run_data import store_features
from sklearn_eeg.signal.windows import build_window_store


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_parser(__doc__)
    parser.add_argument("--data_root", required=True, type=Path, help="dataset root (chbNN/ folders)")
    parser.add_argument("--subjects", nargs="+", default=["all"], help="subject ids, or 'all' (default)")
    add_cache_option(parser)
    parser.add_argument("--dtype", choices=("float32", "float16"), default="float32", help="stored dtype")
    parser.add_argument("--window", type=float, default=10.0, help="window length in s (default 10)")
    parser.add_argument("--stride", type=float, default=5.0, help="window step in s (default 5)")
    parser.add_argument("--missing", choices=("skip", "zero"), default="skip",
                        help="recordings lacking a canonical channel: skip them or zero-fill (default skip)")
    for name, value in LABELING_DEFAULTS.items():
        parser.add_argument(f"--{name}", type=float, default=value, help=f"labeling: {name} in s (default {value:g})")
    parser.add_argument("--features", choices=FEATURE_SETS, help="also compute and cache this feature set")
    parser.add_argument("--n_jobs", type=int, default=1, help="recordings featurized in parallel (default 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.data_root.is_dir():
        return report_error(NotADirectoryError(f"--data_root {args.data_root} is not a folder"))
    subjects = None if args.subjects == ["all"] else args.subjects
    cache_dir = cache_location(args.cache_dir).path
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    logging.getLogger("sklearn_eeg.signal.windows").setLevel(logging.INFO)  # rebuilt files, waits on other runs
    try:
        store = build_window_store(
            args.data_root, subjects, cache_dir=cache_dir, window=args.window, stride=args.stride,
            dtype=args.dtype, missing=args.missing, progress=not args.quiet,
            **{name: getattr(args, name) for name in LABELING_DEFAULTS},
        )
    except RUN_ERRORS as exc:
        return report_error(exc)
    counts = store.table["state"].value_counts()
    print(f"store {store.root}: {len(store)} windows in {store.table['recording'].nunique()} recordings, "
          + ", ".join(f"{state} {n}" for state, n in counts.items()))
    print(f"on disk {store.disk_nbytes / 2**20:.1f} MiB")
    if args.features:
        try:
            F = store_features(store, feature_set=args.features, cache_dir=cache_dir, n_jobs=args.n_jobs,
                               progress=not args.quiet)
        except RUN_ERRORS as exc:  # e.g. a store file damaged since it was built: one line naming it
            return report_error(exc)
        print(f"features {args.features}: {F.shape[1]} per window, cached in {cache_dir / 'joblib'}")
    for path, reason in store.errors.items():
        print(f"NOT STORED {path}: {reason}")
    return 1 if store.errors else 0


if __name__ == "__main__":
    sys.exit(main())
