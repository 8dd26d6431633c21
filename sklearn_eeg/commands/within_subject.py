"""Patient-specific chronological benchmark: per subject, train on earlier seizures, test on the next.

Thresholds come from earlier data only (--threshold_on previous: the previous block's out-of-sample
risk; train: in-sample risk of the training windows). Results:
<out_dir>/tables/within_subject_results.csv and within_subject_summary.csv.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sklearn_eeg.experiments.benchmark import within_subject_from_config
from sklearn_eeg.evaluation.benchmark_summary import format_summary
from sklearn_eeg.commands.options import RUN_ERRORS, config_overrides, report_error, run_parser, selected_subjects
from sklearn_eeg.experiments.config import load_config


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = run_parser(__doc__)
    parser.add_argument("--subjects", nargs="+", help="'all' or subject ids (chb01 chb02 ...)")
    parser.add_argument("--min_train_seizures", type=int, help="lead seizures in the first training set")
    parser.add_argument("--threshold_on", choices=("previous", "train"), default="previous",
                        help="where thresholds are tuned (default: %(default)s)")
    parser.add_argument("--n_jobs", type=int, help="subjects in parallel")
    parser.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786)")
    parser.add_argument("--force", action="store_true", help="recompute subjects that already finished")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cfg = load_config(
            args.config,
            **config_overrides(args),
            data__subjects=selected_subjects(args.subjects),
            split__min_train_seizures=args.min_train_seizures,
            n_jobs=args.n_jobs,
        )
        results, summary = within_subject_from_config(
            cfg, threshold_on=args.threshold_on, force=args.force, scheduler=args.scheduler, progress=not args.quiet
        )
    except RUN_ERRORS as err:
        return report_error(err)
    print(f"\nPatient-specific, model {cfg.model.name}, thresholds on {args.threshold_on}")
    print(format_summary(summary, results))
    print(f"\nper-fold results: {Path(cfg.output_dir) / 'tables' / 'within_subject_results.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
