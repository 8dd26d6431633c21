"""Train one model on the configured train subjects, tune alarm thresholds on the validation
subjects, evaluate on the test subjects.

Writes <out_dir>/runs/<timestamp>_train_<model>/ (manifest.json, metrics.json with window
AUROC/AUPRC and confusion matrices, results.csv, model.joblib) and appends to
<out_dir>/tables/metrics.csv.
"""

from __future__ import annotations

import argparse
import sys

from sklearn_eeg.experiments.benchmark import train_baseline_from_config
from sklearn_eeg.commands.options import RUN_ERRORS, add_option, config_overrides, report_error, run_parser
from sklearn_eeg.experiments.config import load_config


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = run_parser(__doc__, default_config="small_run")
    add_option(parser, "--train_subjects", "--train", nargs="+", metavar="SUBJECT", help="training subjects")
    add_option(parser, "--val_subjects", "--val", nargs="+", metavar="SUBJECT",
               help="validation subjects (threshold tuning)")
    add_option(parser, "--test_subjects", "--test", nargs="+", metavar="SUBJECT", help="test subjects")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cfg = load_config(
            args.config,
            **config_overrides(args),
            split__train_subjects=args.train_subjects,
            split__val_subjects=args.val_subjects,
            split__test_subjects=args.test_subjects,
        )
        run_dir, results = train_baseline_from_config(cfg, progress=not args.quiet)
    except RUN_ERRORS as err:
        return report_error(err)
    columns = ["fah_target", "threshold", "auroc", "auprc", "sensitivity", "fah", "ioc", "p_value"]
    print(results[columns].to_string(index=False))
    print(f"\nrun folder: {run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
