"""Ablations: alarm post-processing and risk calibration (classical LOSO), BCE vs focal loss and
multi-phase training (deep).

--ablation classical (default) fits every leave-one-subject-out fold once (classical model, or the
chance baseline constant / random, on precomputed features), then, on the same validation/test risk:

* alarm settings none / EMA smoothing (alpha 0.3) / persistence (K=3) / both, thresholds tuned
  per setting and FAH target on the validation subjects, applied unchanged to the test subject;
* uncalibrated risk vs sigmoid (Platt) calibration fitted on the validation subjects only: test
  Brier score, ECE (10 bins) and operating points (config alarm settings).

With no arguments: the embedded synthetic dataset, the packaged default config, the logistic baseline;
well under 2 minutes on 2 cores once the features are cached. Tables go to <out_dir>/tables/:
alarm_ablation.csv, alarm_ablation_summary.csv, calibration_comparison.csv,
calibration_summary.csv, calibration_reliability.csv.

--ablation loss trains the same deep model (--model cnn or fusion; same data, split, seed and
parameters) once with BCE and once with focal loss, both with pos_weight = n_neg/n_pos of each
model's training windows, and compares them per test subject (patient-specific chronological
split, or --mode loso-fold with --test_subjects). Thresholds are tuned per loss on the training
data's validation tail. Tables: loss_comparison.csv (loss x subject x FAH target),
loss_comparison_summary.csv (mean +- std per loss), loss_comparison_paired.csv (per-subject
differences focal - bce, Wilcoxon signed-rank; descriptive with few subjects); run folders under
<out_dir>/runs/. Estimator parameters: the config's model.params when its model name matches
--model, plus the options below.

--ablation multiphase (model multiphase, e.g. --config configs/multiphase.yaml) fits every
leave-one-subject-out fold once per phase sequence -- supervised only, pretrain -> fine-tune,
pretrain -> contrastive -> fine-tune -- with the config's parameters, seed and alarm rule, every
phase on the fold's training subjects only, thresholds tuned per variant on the validation subjects.
Tables: multiphase_comparison.csv (variant x fold x FAH target), multiphase_comparison_summary.csv.

Examples
--------
    sklearn-eeg-ablate
    sklearn-eeg-ablate --ablation loss --max_epochs 5 --out_dir reports/loss
    sklearn-eeg-ablate --ablation loss --preset tiny --mode loso-fold --test_subjects chb01 chb02
    sklearn-eeg-ablate --config configs/multiphase.yaml --ablation multiphase
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sklearn_eeg.atomic_files import check_output_dir
from sklearn_eeg.experiments.ablations import LOSSES, loss_comparison, multiphase_comparison, run_ablations
from sklearn_eeg.commands.options import (
    RUN_ERRORS,
    add_option,
    config_overrides,
    report_error,
    run_parser,
    selected_subjects,
)
from sklearn_eeg.experiments.config import RunConfig, load_config
from sklearn_eeg.experiments.deep_training import MODELS, MODES, with_deep_model
from sklearn_eeg.models.registry import FEATURE_MATRIX_MODELS
from sklearn_eeg.experiments.run_data import load_dataset

SUMMARY_COLUMNS = ["fah_target", "n_folds", "sensitivity_mean", "fah_mean", "ioc_mean", "n_predicted", "n_seizures",
                   "pooled_sensitivity", "pooled_ioc", "pooled_p_value", "pooled_p_surrogate"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = run_parser(__doc__)
    parser.add_argument("--subjects", nargs="+", help="'all' or subject ids (chb01 chb02 ...)")
    parser.add_argument("--n_val_subjects", type=int, help="rotating validation subjects per fold")
    parser.add_argument("--n_jobs", type=int, help="folds fitted in parallel")
    parser.add_argument("--ablation", choices=("classical", "loss", "multiphase"), default="classical",
                        help="classical: alarm + calibration ablations; loss: BCE vs focal (deep model, default cnn); "
                             "multiphase: supervised vs pretrain -> fine-tune vs pretrain -> contrastive -> fine-tune")
    deep = parser.add_argument_group("loss comparison (--ablation loss)")
    deep.add_argument("--losses", nargs="+", choices=LOSSES, default=list(LOSSES), help="losses (first = reference)")
    deep.add_argument("--mode", choices=MODES, default="patient", help="split (default: %(default)s)")
    deep.add_argument("--test_subjects", nargs="+", help="held-out subjects of --mode loso-fold (default: --subjects)")
    deep.add_argument("--max_epochs", type=int, help="training epochs (estimator default 30)")
    deep.add_argument("--batch_size", type=int)
    deep.add_argument("--lr", type=float)
    deep.add_argument("--focal_gamma", type=float, help="focal loss gamma (estimator default 2.0)")
    deep.add_argument("--focal_alpha", type=float, help="focal loss alpha in (0, 1) (estimator default: none)")
    deep.add_argument("--train_fraction", type=float, default=0.7, help="training share per subject (patient mode)")
    add_option(deep, "--val_fraction", "--valid_fraction", type=float, default=0.2,
               help="validation tail of the training data")
    deep.add_argument("--threads", type=int, default=2, help="torch threads (default: %(default)s)")
    return parser.parse_args(argv)


def deep_config(cfg: RunConfig, args: argparse.Namespace) -> RunConfig:
    """``cfg`` with ``model.name`` = the deep model and the command-line estimator overrides in its params."""
    model = args.model or "cnn"
    if model not in MODELS:
        raise ValueError(f"--ablation loss trains a deep model ({', '.join(MODELS)}); got --model {model!r}")
    return with_deep_model(cfg, model, max_epochs=args.max_epochs, batch_size=args.batch_size, lr=args.lr,
                           focal_gamma=args.focal_gamma, focal_alpha=args.focal_alpha)


def run_loss_comparison(cfg: RunConfig, args: argparse.Namespace) -> None:
    """Run :func:`sklearn_eeg.experiments.ablations.loss_comparison` and print its summary."""
    start = time.perf_counter()
    tables = loss_comparison(
        cfg,
        losses=args.losses,
        model=cfg.model.name,
        mode=args.mode,
        test_subjects=args.test_subjects,
        train_fraction=args.train_fraction,
        valid_fraction=args.val_fraction,
        n_threads=args.threads,
        verbose=0,
        progress=not args.quiet,
    )
    results = tables["loss_comparison"]
    print(f"\nLoss comparison, model {cfg.model.name}, mode {args.mode}, {results['subject'].nunique()} test subjects "
          f"(params {cfg.model.params})")
    columns = ["loss", "fah_target", "n_folds", "auroc_mean", "auroc_std", "auprc_mean", "brier_mean",
               "sensitivity_mean", "fah_mean", "ioc_mean", "time_in_warning_mean", "pooled_sensitivity",
               "pooled_p_value"]
    print(tables["loss_comparison_summary"][columns].to_string(index=False, float_format="%.3f"))
    paired = tables["loss_comparison_paired"]
    if not paired.empty:
        print("\nPaired per-subject differences (loss - reference; descriptive with few subjects), window metrics "
              "and FAH target 0.5 (all targets in loss_comparison_paired.csv):")
        paired = paired[paired["fah_target"].isna() | (paired["fah_target"] == 0.5)]
        print(paired.drop(columns="higher_is_better").to_string(index=False, float_format="%.3f"))
    print("\nrun folders:", *results["run_dir"].unique(), sep="\n  ")
    print(f"tables: {Path(cfg.output_dir) / 'tables'}; {time.perf_counter() - start:.1f} s")


def run_multiphase_comparison(cfg: RunConfig, args: argparse.Namespace) -> None:
    """Run :func:`sklearn_eeg.experiments.ablations.multiphase_comparison` and print its summary."""
    if cfg.model.name != "multiphase":
        raise ValueError(f"--ablation multiphase needs model multiphase (--config configs/multiphase.yaml); "
                         f"got {cfg.model.name!r}")
    start = time.perf_counter()
    model = cfg.estimator()
    X, y, groups, meta = load_dataset(cfg, features=False, progress=not args.quiet)
    tables = multiphase_comparison(
        X, y, groups, meta, model=model, n_val_subjects=cfg.split.n_val_subjects, fah_targets=cfg.alarms.fah_targets,
        policy=cfg.alarm_policy(), out_dir=cfg.output_dir, n_jobs=cfg.n_jobs, random_state=cfg.seed,
        progress=not args.quiet,
    )
    results = tables["multiphase_comparison"]
    print(f"\nMulti-phase training, {results['fold'].nunique()} LOSO folds, thresholds tuned per variant on "
          f"validation subjects (mean over folds; pooled over seizures):")
    columns = ["variant", "fah_target", "n_folds", "auroc_mean", "auroc_std", "sensitivity_mean", "fah_mean",
               "time_in_warning_mean", "pooled_sensitivity", "pooled_p_value", "pooled_p_surrogate"]
    print(tables["multiphase_comparison_summary"][columns].to_string(index=False, float_format="%.3f"))
    print(f"\ntables: {Path(cfg.output_dir) / 'tables'}; {time.perf_counter() - start:.1f} s")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        cfg = load_config(
            args.config,
            **config_overrides(args),
            data__subjects=selected_subjects(args.subjects),
            split__n_val_subjects=args.n_val_subjects,
            n_jobs=args.n_jobs,
        )
        check_output_dir(cfg.output_dir)
        if args.ablation == "loss":
            run_loss_comparison(deep_config(cfg, args), args)
            return 0
        if args.ablation == "multiphase":
            run_multiphase_comparison(cfg, args)
            return 0
        if cfg.model.name not in FEATURE_MATRIX_MODELS:
            raise ValueError(f"--ablation classical runs the models on precomputed features only "
                             f"({', '.join(FEATURE_MATRIX_MODELS)}); got {cfg.model.name!r} (deep models: --ablation loss)")
        model = cfg.estimator()  # a classical or chance model on precomputed features
        X, y, groups, meta = load_dataset(cfg, features=True, progress=not args.quiet)
        tables = run_ablations(
            X,
            y,
            groups,
            meta,
            model=model,
            n_val_subjects=cfg.split.n_val_subjects,
            fah_targets=cfg.alarms.fah_targets,
            policy=cfg.alarm_policy(),
            out_dir=cfg.output_dir,
            n_jobs=cfg.n_jobs,
            random_state=cfg.seed,
            progress=not args.quiet,
        )
    except RUN_ERRORS as err:
        return report_error(err)
    n_folds = tables["alarm_ablation"]["fold"].nunique()
    print(f"\nAblations, model {cfg.model.name}, {n_folds} LOSO folds (each fitted once)")
    print("\nAlarm post-processing (thresholds tuned per setting on validation subjects):")
    print(tables["alarm_ablation_summary"][["setting", *SUMMARY_COLUMNS]].to_string(index=False, float_format="%.3f"))
    alarms = {k: v for k, v in cfg.alarm_policy().to_dict().items() if k in ("smoothing", "alpha", "persistence")}
    print(f"\nCalibration (sigmoid fitted on validation subjects; alarms {alarms}):")
    columns = ["method", "fah_target", "auroc_mean", "brier_mean", "ece_mean", "sensitivity_mean", "fah_mean",
               "pooled_sensitivity"]
    print(tables["calibration_summary"][columns].to_string(index=False, float_format="%.3f"))
    sigmoid = tables["calibration_comparison"].query("method == 'sigmoid'").drop_duplicates("fold")
    reversed_ = sigmoid.loc[sigmoid["calib_coef"] <= 0, "test_subject"].tolist()
    if reversed_:
        print(f"calibrator slope <= 0 (validation risk anti-informative, test ranking reversed) in "
              f"{len(reversed_)}/{len(sigmoid)} folds: {', '.join(reversed_)}")
    print(f"\ntables: {Path(cfg.output_dir) / 'tables'}; {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
