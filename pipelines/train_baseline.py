#!/usr/bin/env python
"""Train one model on the configured train subjects, tune alarm thresholds on the validation
subjects, evaluate on the test subjects.

Writes <out_dir>/runs/<timestamp>_train_<model>/ (manifest.json, metrics.json with window
AUROC/AUPRC and confusion matrices, results.csv, model.joblib) and appends to
<out_dir>/tables/metrics.csv.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sklearn_eeg.benchmark import train_baseline_from_config
from sklearn_eeg.config import ConfigError, load_config

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "small_run.yaml"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="YAML run config (default: %(default)s)")
    parser.add_argument("--data_root", help="CHB-MIT(-like) folder; default: the embedded synthetic dataset")
    parser.add_argument("--preset", choices=("default", "tiny", "null"), help="embedded synthetic preset")
    parser.add_argument("--model", choices=("logreg", "hgb", "mlp", "cnn", "fusion"), help="estimator")
    parser.add_argument("--train", nargs="+", help="training subjects")
    parser.add_argument("--val", nargs="+", help="validation subjects (threshold tuning)")
    parser.add_argument("--test", nargs="+", help="test subjects")
    parser.add_argument("--seed", type=int, help="random seed")
    parser.add_argument("--out_dir", help="output root; default from the config: reports")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cfg = load_config(
            args.config,
            data__data_root=args.data_root,
            data__preset=args.preset,
            model__name=args.model,
            split__train_subjects=args.train,
            split__val_subjects=args.val,
            split__test_subjects=args.test,
            seed=args.seed,
            output_dir=args.out_dir,
        )
        run_dir, results = train_baseline_from_config(cfg, progress=not args.quiet)
    except (ConfigError, ImportError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    columns = ["fah_target", "threshold", "auroc", "auprc", "sensitivity", "fah", "ioc", "p_value"]
    print(results[columns].to_string(index=False))
    print(f"\nrun folder: {run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
