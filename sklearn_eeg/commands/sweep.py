"""Optuna hyperparameter sweep scored by leave-one-subject-out sensitivity at FAH <= target.

Each trial draws a model, a feature set and alarm post-processing, runs every LOSO fold (threshold
tuned on the rotating validation subject, applied unchanged to the test subject) and returns the
mean test sensitivity; WilcoxonPruner stops trials that are worse than the best on the same folds.
The study is named and resumable: rerun the command to add trials.

  sklearn-eeg-sweep --study classical_tiny --preset tiny --n_trials 20
  sklearn-eeg-sweep --study chance_tiny --preset tiny --model constant random --n_trials 10
  optuna-dashboard sqlite:///studies/classical_tiny.db

Parallel workers: start the same command several times with one shared --storage (a JournalStorage
file such as studies/classical.log, or postgresql://...), a different --sampler_seed each, and --max_trials
for the total. Results in <out_dir>: sweep_results.csv (every trial), sweep_summary.yaml (the best
trial, or the Pareto front of --multi_objective) and best_config.yaml, a run config that
`sklearn-eeg-loso --config <out_dir>/best_config.yaml` runs as is (the sweep's data, labeling and split
settings with the best trial's model, features and alarm settings; single-objective classical
sweeps).

Killed workers: each worker records a heartbeat of its running trial every --heartbeat_s seconds
(SQLite, RDB and journal storages). At the start of each trial, any worker marks FAIL the trials left
RUNNING without a heartbeat for --grace_s seconds (their worker was killed) and reruns them with the
same parameters, up to --max_retry times; a warning names each one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sklearn_eeg.commands.options import (
    RUN_ERRORS,
    add_config_option,
    add_data_options,
    add_option,
    command_parser,
    report_error,
    selected_subjects,
)
from sklearn_eeg.experiments.config import load_config
from sklearn_eeg.experiments.studies import (
    BEST_CONFIG,
    CLASSICAL_MODELS,
    FEATURE_SETS,
    GRACE_S,
    HEARTBEAT_S,
    MAX_RETRY,
    SPACE_MODELS,
    SWEEP_RESULTS,
    SWEEP_SUMMARY,
    sweep_from_config,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_parser(__doc__)
    parser.add_argument("--study", help="study name (default: sweep_<space>)")
    parser.add_argument("--space", choices=("classical", "cnn"), default="classical", help="search space")
    parser.add_argument("--n_trials", type=int, default=20, help="trials run by this worker (default: %(default)s)")
    parser.add_argument("--max_trials", type=int, help="stop every worker once the study has this many complete trials")
    parser.add_argument("--timeout", type=float, help="seconds after which this worker starts no new trial")
    parser.add_argument(
        "--storage",
        help="RDB URL (sqlite:///..., postgresql://...) or a JournalStorage file path; "
        "default: sqlite:///<studies_dir>/<study>.db",
    )
    parser.add_argument(
        "--heartbeat_s", type=int, default=HEARTBEAT_S, metavar="SECONDS",
        help="seconds between two heartbeats of a running trial, so that a trial whose worker is killed is "
        "rerun; 0: no heartbeat, a killed worker's trial stays RUNNING (default: %(default)s)",
    )
    parser.add_argument(
        "--grace_s", type=int, default=GRACE_S, metavar="SECONDS",
        help="a RUNNING trial without a heartbeat for this long counts as killed: marked FAIL and rerun with "
        "the same parameters; more than --heartbeat_s (default: %(default)s)",
    )
    parser.add_argument("--max_retry", type=int, default=MAX_RETRY,
                        help="reruns of a killed trial; 0: none (default: %(default)s)")
    parser.add_argument("--studies_dir", default="studies", help="folder of the default SQLite files (default: %(default)s)")
    parser.add_argument("--out_dir", default="reports/tables",
                        help="folder of sweep_results.csv, sweep_summary.yaml and best_config.yaml (default: %(default)s)")
    add_config_option(parser)
    add_data_options(parser)
    parser.add_argument("--subjects", nargs="+", help="'all' or subject ids (chb01 chb02 ...)")
    parser.add_argument("--n_val_subjects", type=int, help="rotating validation subjects per fold")
    parser.add_argument("--fah_target", type=float, default=0.5, help="false alarms per hour allowed (default: %(default)s)")
    parser.add_argument(
        "--multi_objective", action="store_true", help="maximize (sensitivity, AUPRC) together; disables pruning"
    )
    add_option(parser, "--models", "--model", nargs="+", choices=SPACE_MODELS,
                        help=f"models of the classical space (default: {' '.join(CLASSICAL_MODELS)}; "
                        "constant, random: chance baselines, nothing to tune but the alarm settings)")
    parser.add_argument("--feature_sets", nargs="+", default=list(FEATURE_SETS), help="classical feature sets (default: %(default)s)")
    parser.add_argument("--hgb_max_iter", type=int, help="boosting iterations of hgb (not searched; default 200)")
    parser.add_argument("--max_epochs", type=int, help="CNN training epochs (not searched; default 30)")
    parser.add_argument("--seed", type=int, help="split and model seed: the same for every worker of a study")
    parser.add_argument("--sampler_seed", type=int, help="TPE sampler seed (default: --seed); one per parallel worker")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    fixed = {"hgb": {"max_iter": args.hgb_max_iter}, "cnn": {"max_epochs": args.max_epochs}}
    fixed = {model: {k: v for k, v in p.items() if v is not None} for model, p in fixed.items()}
    try:
        cfg = load_config(
            args.config,
            data__data_root=args.data_root,
            data__preset=args.preset,
            data__subjects=selected_subjects(args.subjects),
            data__cache_dir=args.cache_dir,
            split__n_val_subjects=args.n_val_subjects,
            seed=args.seed,
        )
        study = sweep_from_config(
            cfg,
            name=args.study or f"sweep_{args.space}",
            space=args.space,
            models=args.models or CLASSICAL_MODELS,
            feature_sets=args.feature_sets,
            n_trials=args.n_trials,
            max_trials=args.max_trials,
            timeout=args.timeout,
            storage=args.storage,
            fah_target=args.fah_target,
            directions=("maximize", "maximize") if args.multi_objective else ("maximize",),
            fixed_params=fixed,
            sampler_seed=args.sampler_seed,
            studies_dir=args.studies_dir,
            out_dir=args.out_dir,
            progress=not args.quiet,
            heartbeat_s=args.heartbeat_s,
            grace_s=args.grace_s,
            max_retry=args.max_retry,
        )
    except RUN_ERRORS as err:
        return report_error(err)
    print(f"\nstudy {study.study_name}: {len(study.trials)} trials")
    out = Path(args.out_dir)
    written = [out / name for name in (SWEEP_RESULTS, SWEEP_SUMMARY, BEST_CONFIG) if (out / name).is_file()]
    print("results:", ", ".join(map(str, written)))
    if (out / BEST_CONFIG).is_file():
        print(f"next: sklearn-eeg-loso --config {out / BEST_CONFIG}  (on subjects the sweep did not see)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
