"""Leave-one-subject-out seizure-forecasting benchmark (the project's main job).

With no arguments: the embedded synthetic CHB-MIT-like dataset (generated into the cache folder on
first use: --cache_dir, else $SKLEARN_EEG_CACHE, else ~/.cache/sklearn-eeg), the logistic-regression
baseline and the packaged default config; a few minutes on 2 cores.
Results: <out_dir>/tables/loso_results.csv, loso_summary.csv, final_summary.md, <out_dir>/figures/ and
<out_dir>/runs/<timestamp>_loso_<model>/ (manifest, models, predictions).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sklearn_eeg.experiments.benchmark import loso_from_config
from sklearn_eeg.evaluation.benchmark_summary import format_summary
from sklearn_eeg.commands.options import RUN_ERRORS, config_overrides, report_error, run_parser, selected_subjects
from sklearn_eeg.experiments.config import load_config
from sklearn_eeg.reporting.run_figures import make_run_figures, write_run_summary


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = run_parser(__doc__)
    parser.add_argument("--subjects", nargs="+", help="'all' or subject ids (chb01 chb02 ...)")
    parser.add_argument("--n_val_subjects", type=int, help="rotating validation subjects per fold")
    parser.add_argument("--n_jobs", type=int, help="folds in parallel")
    parser.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786) to run folds on a cluster")
    parser.add_argument("--force", action="store_true", help="recompute folds that already finished")
    parser.add_argument("--no_figures", action="store_true", help="skip the figures and final_summary tables")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cfg = load_config(
            args.config,
            **config_overrides(args),
            data__subjects=selected_subjects(args.subjects),
            split__n_val_subjects=args.n_val_subjects,
            n_jobs=args.n_jobs,
        )
        results, summary = loso_from_config(cfg, force=args.force, scheduler=args.scheduler, progress=not args.quiet)
    except RUN_ERRORS as err:
        return report_error(err)
    print(f"\nLOSO, model {cfg.model.name}, {results['test_subject'].nunique()} test subjects")
    print(format_summary(summary, results))  # the table final_summary.md repeats, with notes on identical rows
    tables = Path(cfg.output_dir) / "tables"
    print(f"\nper-fold results: {tables / 'loso_results.csv'}")
    if not args.no_figures:
        run_dir, data_root = results.attrs["run_dir"], results.attrs["data_root"]
        figures = make_run_figures(run_dir, Path(cfg.output_dir) / "figures", data_root=data_root)
        write_run_summary(run_dir, tables, data_root=data_root)
        print(f"{len(figures)} figures in {Path(cfg.output_dir) / 'figures'}; summary: {tables / 'final_summary.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
