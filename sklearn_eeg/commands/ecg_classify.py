"""Patient-level classification of multi-lead ECG records (WFDB or EDF) with a 1-D CNN.

Reads the records of a label table (CSV: record, patient, label, optional covariates; a record is a
path under --data_root without extension, <record>.hea for WFDB or <record>.edf), splits the patients
into train / validation / test, trains the CNN on the training patients (per-lead standardisation
from those patients only, pos_weight, augmentation, early stopping on validation AUPRC, best
checkpoint), chooses the decision threshold on the validation patients and applies it unchanged to
the test patients. Without --data_root it runs on an embedded synthetic cohort (--preset).

Scores per record and per patient (a patient's score: the mean of its records' probabilities, its
label: any record positive; its own threshold, chosen on the validation patients by the same rule).
Writes a run folder under <out_dir>/runs/: manifest.json, metrics.csv (AUROC, AUPRC, sensitivity,
specificity, precision and F1 at the threshold, with patient-bootstrap 95 % CIs; a level column,
record or patient), predictions.csv, patient_predictions.csv, history.csv, roc.png, pr.png,
confusion.png (record level), checkpoints/.

Examples
--------
    sklearn-eeg-ecg-classify
    sklearn-eeg-ecg-classify --preset null
    sklearn-eeg-ecg-classify --data_root data/ptbxl --labels data/ptbxl/labels.csv --leads I II V1 V2 V3 V4 V5 V6
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sklearn_eeg.atomic_files import check_output_dir
from sklearn_eeg.cache_location import cache_location
from sklearn_eeg.commands.options import RUN_ERRORS, command_parser, report_error
from sklearn_eeg.ecg.labels import read_label_table
from sklearn_eeg.ecg.records import ECG_LEADS
from sklearn_eeg.ecg.store import build_signal_store
from sklearn_eeg.ecg.synthetic import ECG_PRESETS, embedded_cohort
from sklearn_eeg.ecg.thresholds import THRESHOLD_RULES
from sklearn_eeg.experiments.run_outputs import new_run_dir


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_parser(__doc__)
    parser.add_argument("--data_root", help="folder of the records (default: the embedded synthetic cohort)")
    parser.add_argument("--labels", metavar="CSV", help="label table (default: <data_root>/labels.csv)")
    parser.add_argument("--preset", choices=tuple(ECG_PRESETS), default="default",
                        help="embedded synthetic cohort when --data_root is not given (null: no class effect)")
    parser.add_argument("--cache_dir", metavar="DIR",
                        help="cache folder for the synthetic cohort and the signal store (default: $SKLEARN_EEG_CACHE, "
                        "else the per-user cache folder)")
    parser.add_argument("--leads", nargs="+", default=list(ECG_LEADS), help="leads, in this order (default: %(default)s)")
    parser.add_argument("--sfreq", type=float, default=100.0, help="sampling rate in Hz (others are resampled)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per record (the first ones are kept)")
    parser.add_argument("--val_fraction", type=float, default=0.2, help="share of patients for validation")
    parser.add_argument("--test_fraction", type=float, default=0.2, help="share of patients for test")
    parser.add_argument("--threshold_rule", choices=THRESHOLD_RULES, default="f1",
                        help="threshold chosen on validation: best F1, or the highest reaching --target_sensitivity")
    parser.add_argument("--target_sensitivity", type=float, default=0.9)
    parser.add_argument("--max_epochs", type=int, default=30)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--patience", type=int, default=6, help="early-stopping patience in epochs")
    parser.add_argument("--no_augment", action="store_true", help="train without signal augmentation")
    parser.add_argument("--n_boot", type=int, default=1000, help="patient-bootstrap resamples of the CIs")
    parser.add_argument("--seed", type=int, default=0, help="random seed (split, weights, augmentation, bootstrap)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (one is fastest for this small net on a shared 2-core machine)")
    parser.add_argument("--out_dir", default="reports/ecg", help="output root; the run folder goes to <out_dir>/runs/")
    parser.add_argument("--no_figures", action="store_true", help="write no figures")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or epoch table")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import torch

        from sklearn_eeg.ecg.outputs import write_run
        from sklearn_eeg.ecg.workflow import run_ecg_classification

        out_dir = check_output_dir(args.out_dir)
        cache = cache_location(args.cache_dir).path
        if args.data_root is None:
            root = embedded_cohort(cache, preset=args.preset, progress=not args.quiet)
        else:
            root = Path(args.data_root)
            if not root.is_dir():
                raise FileNotFoundError(f"data folder {str(root)!r} does not exist")
        if args.sfreq <= 0 or args.duration <= 0:
            raise ValueError(f"--sfreq and --duration must be positive, got {args.sfreq} and {args.duration}")
        table = read_label_table(args.labels or root / "labels.csv")
        n_times = int(round(args.duration * args.sfreq))
        store = build_signal_store(table, root, cache / "ecg", leads=args.leads, sfreq=args.sfreq, n_times=n_times,
                                   progress=not args.quiet)
        torch.set_num_threads(args.threads)
        run_dir = new_run_dir(out_dir, "ecg", "cnn")
        run = run_ecg_classification(
            table, store, sfreq=args.sfreq, val_fraction=args.val_fraction, test_fraction=args.test_fraction,
            threshold_rule=args.threshold_rule, target_sensitivity=args.target_sensitivity, n_boot=args.n_boot,
            seed=args.seed, max_epochs=args.max_epochs, batch_size=args.batch_size, lr=args.lr,
            patience=args.patience, augment=not args.no_augment, checkpoint_dir=run_dir / "checkpoints",
            verbose=0 if args.quiet else 1,
        )
        config = {**vars(args), "data_root": str(root), "labels": str(args.labels or root / "labels.csv"),
                  "signal_store": str(store), "n_times": n_times}
        write_run(run_dir, run, config, n_boot=args.n_boot, seed=args.seed, figures=not args.no_figures)
    except RUN_ERRORS as err:
        return report_error(err)
    sides = {side: len(ids) for side, ids in run.patients.items()}
    print(f"ECG classification: {sides['train']} train / {sides['validation']} validation / {sides['test']} test patients; "
          f"threshold {run.threshold:.4f} ({run.threshold_rule}); patient threshold {run.patient_threshold:.4f} "
          f"({run.patient_threshold_rule})")
    print(run.metrics.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"run folder: {run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
