"""Train a deep model (spectrogram CNN or CNN + feature fusion) and evaluate it without leakage.

Patient-specific (train on each subject's earlier data, test on its later data) or one
leave-one-subject-out fold. Writes a run folder under <out_dir>/runs/ (manifest.json, models, training
curves, predictions, checkpoints) and appends a row to <out_dir>/tables/metrics.csv.

Each model keeps checkpoints of its best epoch by validation loss, by validation AUROC and by
validation sensitivity at FAH <= 0.5, and of its last epoch; --select_by picks the final model. An
interrupted run continues with the same options plus --resume <run folder>.

Examples
--------
    sklearn-eeg-train-deep --preset tiny --model cnn --mode patient --max_epochs 5
    sklearn-eeg-train-deep --config small_run --model fusion --mode loso-fold --test_subjects chb05
    sklearn-eeg-train-deep --preset tiny --max_epochs 5 --resume reports/runs/20250101T120000_deep-patient_cnn
"""

from __future__ import annotations

import argparse
import sys

from sklearn_eeg.commands.options import (
    RUN_ERRORS,
    add_config_option,
    add_data_options,
    add_option,
    command_parser,
    report_error,
)
from sklearn_eeg.experiments.deep_training import MODELS, MODES, SELECT_BY, run_deep_from_config


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_parser(__doc__)
    add_config_option(parser, default=None)
    add_data_options(parser)
    parser.add_argument("--subjects", nargs="+", help="subjects to use (default: all)")
    parser.add_argument("--model", choices=MODELS, default="cnn")
    parser.add_argument("--mode", choices=MODES, default="patient")
    add_option(parser, "--test_subjects", "--test_subject", metavar="SUBJECT",
               help="held-out subject of --mode loso-fold (one: one model is trained)")
    parser.add_argument("--max_epochs", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--batch_size", type=int)
    parser.add_argument("--train_fraction", type=float, default=0.7, help="target training share per subject (patient mode)")
    add_option(parser, "--val_fraction", "--valid_fraction", type=float, default=0.2,
               help="validation tail of the training data")
    parser.add_argument(
        "--select_by", choices=tuple(SELECT_BY), default="loss",
        help="checkpoint kept as the final model: best validation loss (default), AUROC or sensitivity at FAH <= 0.5",
    )
    parser.add_argument(
        "--resume", metavar="RUN_DIR",
        help="continue an interrupted run in this folder (give the same options it was started with)",
    )
    parser.add_argument("--seed", type=int)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--out_dir", help="output root: runs/ and tables/metrics.csv go there (default: config output_dir)")
    parser.add_argument("--quiet", action="store_true", help="no epoch table or progress bars")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = run_deep_from_config(
            args.config,
            preset=args.preset,
            data_root=args.data_root,
            subjects=args.subjects,
            cache_dir=args.cache_dir,
            max_epochs=args.max_epochs,
            lr=args.lr,
            batch_size=args.batch_size,
            seed=args.seed,
            model=args.model,
            mode=args.mode,
            test_subject=args.test_subjects,
            train_fraction=args.train_fraction,
            valid_fraction=args.val_fraction,
            select_by=args.select_by,
            resume=args.resume,
            out_dir=args.out_dir,
            n_threads=args.threads,
            verbose=0 if args.quiet else 1,
            progress=not args.quiet,
        )
    except RUN_ERRORS as err:
        return report_error(err)
    columns = ["subject", "n_train", "n_valid", "best_epoch", "best_epoch_loss", "best_epoch_auroc", "best_epoch_sensitivity", "test_n_pos", "test_n_neg", "test_auroc", "test_auprc",
               "threshold@0.5", "test_sensitivity@0.5", "test_fah@0.5"]
    print(result.per_subject[[c for c in columns if c in result.per_subject]].to_string(index=False))
    print({k: v for k, v in result.metrics.items() if k.startswith("test_")})
    print(f"run folder: {result.run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
