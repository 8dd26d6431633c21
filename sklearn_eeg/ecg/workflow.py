"""The ECG workflow: patient split, fit, threshold on validation, scores on test.

1. Patients are split into train / validation / test (:func:`~sklearn_eeg.ecg.splits.patient_split`).
2. :class:`~sklearn_eeg.ecg.estimator.ECGNetClassifier` is fit on the training records; it computes
   the per-lead statistics from them only, weighs positives by ``pos_weight`` (negatives / positives
   among the training records), augments the training signals, scores the validation patients
   (AUPRC) after every epoch, stops early when that stops improving and restores the best epoch's
   checkpoint.
3. The decision threshold is chosen on the validation patients' predictions
   (:func:`~sklearn_eeg.ecg.thresholds.choose_threshold`) and applied unchanged to the test patients.
4. Test AUROC, AUPRC and the scores at the threshold get patient-bootstrap 95 % intervals
   (:func:`~sklearn_eeg.ecg.scores.classification_scores`).
5. The same at the patient level (:func:`patient_level`): a patient's score is the mean of its
   records' probabilities, its label 1 when any of its records is positive
   (:func:`~sklearn_eeg.ecg.scores.patient_scores`); a second threshold, chosen by the same rule on the
   validation patients' scores, is applied unchanged to the test patients, whose scores get bootstrap
   intervals over patients.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from skorch.helper import predefined_split
from sklearn.metrics import average_precision_score

from sklearn_eeg.models.nn.augment import SignalAugment

from .estimator import ECGNetClassifier
from .scores import classification_scores, patient_scores
from .splits import SIDES, patient_split
from .store import RecordDataset
from .thresholds import choose_threshold

__all__ = ["METRIC_COLUMNS", "ECGRun", "make_classifier", "patient_level", "run_ecg_classification", "valid_auprc"]

METRIC_COLUMNS = ("level", "metric", "value", "ci_low", "ci_high")
"""Columns of :attr:`ECGRun.metrics` (and ``metrics.csv``); ``level`` is ``record`` or ``patient``."""


def valid_auprc(y_true: np.ndarray, y_score: np.ndarray, index: np.ndarray) -> float:
    """AUPRC of the validation records (the estimator's ``valid_scoring``: higher is better)."""
    return float(average_precision_score(y_true, y_score))


@dataclass
class ECGRun:
    """What one run produced.

    Attributes
    ----------
    predictions : DataFrame
        Validation and test records: the label table's columns, ``side``, ``score``, ``predicted``.
    metrics : DataFrame
        Test scores, columns :data:`METRIC_COLUMNS`: the ``record`` rows score the test records at
        ``threshold``, the ``patient`` rows the test patients at ``patient_threshold``.
    threshold : float
        Record-level threshold.
    threshold_rule : str
        How the threshold was chosen.
    patient_predictions : DataFrame
        Validation and test patients (:func:`patient_level`): ``patient``, ``side``, ``label``,
        ``n_records``, ``n_positive_records``, ``score`` (mean record probability), ``predicted``.
    patient_threshold : float
        Patient-level threshold, chosen on the validation patients' scores.
    patient_threshold_rule : str
        How the patient-level threshold was chosen.
    patients : dict
        Patient ids per side.
    classifier : ECGNetClassifier
        The fitted estimator (best epoch restored).
    extra : dict
        For the manifest: records, positive records and positive patients per side, the number of
        patients whose records carry both labels, ``pos_weight``, epochs trained, best epoch
        and its validation AUPRC, the restored checkpoint file, the per-lead training statistics.
    """

    predictions: pd.DataFrame
    metrics: pd.DataFrame
    threshold: float
    threshold_rule: str
    patient_predictions: pd.DataFrame
    patient_threshold: float
    patient_threshold_rule: str
    patients: dict[str, list[str]]
    classifier: ECGNetClassifier
    extra: dict = field(default_factory=dict)


def make_classifier(
    valid: RecordDataset, *, sfreq: float, max_epochs: int = 30, batch_size: int = 32, lr: float = 3e-3,
    patience: int = 6, augment: bool = True, checkpoint_dir: str | os.PathLike | None = None,
    random_state: int | None = 0, verbose: int = 0,
) -> ECGNetClassifier:
    """The workflow's estimator: validation patients for early stopping on AUPRC, augmentation on.

    Parameters
    ----------
    valid : RecordDataset
        The validation patients' records (``train_split=predefined_split(valid)``): scored (AUPRC)
        after every epoch, never trained on, never part of the lead statistics.
    sfreq : float
        Sampling rate (the augmentation shifts by up to half a second).
    max_epochs, batch_size, lr, patience : int, int, float, int
        Training budget; early stopping after ``patience`` epochs without a better validation AUPRC.
    augment : bool, default=True
        Training-only augmentation: 5 % noise, a circular shift of up to half a second and an
        amplitude scale in [0.9, 1.1] per record.
    checkpoint_dir : str or path-like, optional
        Best-epoch checkpoints (``best_valid_score.pt``) go to a fresh folder under it.
    random_state : int or None, default=0
    verbose : int, default=0

    Returns
    -------
    ECGNetClassifier
    """
    signal_augment = (SignalAugment(noise_std=0.05, max_shift=int(sfreq // 2), scale_range=(0.9, 1.1),
                                    seed=random_state) if augment else None)
    return ECGNetClassifier(
        train_split=predefined_split(valid), valid_scoring=valid_auprc, pos_weight="auto",
        max_epochs=max_epochs, batch_size=batch_size, lr=lr, patience=patience, checkpoint_dir=checkpoint_dir,
        random_state=random_state, verbose=verbose, module__signal_augment=signal_augment,
    )


def patient_level(
    predictions: pd.DataFrame, *, threshold_rule: str = "f1", target_sensitivity: float = 0.9, n_boot: int = 1000,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, float, str]:
    """Patient-level scores: the threshold from the validation patients, the test patients scored at it.

    Each patient's score is the mean of its records' probabilities and its label is 1 when any of its
    records is positive (:func:`~sklearn_eeg.ecg.scores.patient_scores`). The threshold is chosen with
    :func:`~sklearn_eeg.ecg.thresholds.choose_threshold` on the validation patients only, and the test
    patients are scored at it by :func:`~sklearn_eeg.ecg.scores.classification_scores` (one row per
    patient, so its patient bootstrap resamples the test patients).

    Parameters
    ----------
    predictions : DataFrame
        Validation and test records with ``patient``, ``label``, ``side`` and ``score``
        (:attr:`ECGRun.predictions`).
    threshold_rule : {"f1", "sensitivity"}, default="f1"
    target_sensitivity : float, default=0.9
    n_boot : int, default=1000
    seed : int, default=0
        Bootstrap seed.

    Returns
    -------
    patients : DataFrame
        One row per validation and test patient: ``patient``, ``side``, ``label``, ``n_records``,
        ``n_positive_records``, ``score``, ``predicted`` (``score >= threshold``).
    metrics : DataFrame
        The test patients' ``metric``, ``value``, ``ci_low``, ``ci_high``.
    threshold : float
    description : str
        How the threshold was chosen.
    """
    sides = ("validation", "test")
    per_side = {s: patient_scores(*(predictions.loc[predictions["side"] == s, c] for c in ("patient", "label", "score")))
                for s in sides}
    val, test = per_side["validation"], per_side["test"]
    threshold, how = choose_threshold(val["label"], val["score"], rule=threshold_rule,
                                      target_sensitivity=target_sensitivity)
    metrics = classification_scores(test["label"], test["score"], test["patient"], threshold, n_boot=n_boot,
                                    random_state=seed)
    patients = pd.concat([per_side[s].assign(side=s) for s in sides], ignore_index=True)
    patients["predicted"] = (patients["score"] >= threshold).astype(int)
    columns = ["patient", "side", "label", "n_records", "n_positive_records", "score", "predicted"]
    return patients[columns], metrics, threshold, how


def run_ecg_classification(
    table: pd.DataFrame,
    store: str | os.PathLike,
    *,
    sfreq: float,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    threshold_rule: str = "f1",
    target_sensitivity: float = 0.9,
    n_boot: int = 1000,
    seed: int = 0,
    max_epochs: int = 30,
    batch_size: int = 32,
    lr: float = 3e-3,
    patience: int = 6,
    augment: bool = True,
    checkpoint_dir: str | os.PathLike | None = None,
    verbose: int = 0,
) -> ECGRun:
    """Split by patient, fit, choose the threshold on validation, score the test patients.

    Parameters
    ----------
    table : DataFrame
        Label table (:func:`~sklearn_eeg.ecg.labels.read_label_table`), row ``i`` = store row ``i``.
    store : str or path-like
        Signal store of the table (:func:`~sklearn_eeg.ecg.store.build_signal_store`).
    sfreq : float
        Sampling rate of the store (sets the augmentation's shift).
    val_fraction, test_fraction : float, default=0.2
        Patient shares of validation and test.
    threshold_rule : {"f1", "sensitivity"}, default="f1"
    target_sensitivity : float, default=0.9
    n_boot : int, default=1000
        Patient-bootstrap resamples of the test scores (record and patient level).
    seed : int, default=0
        Split, weights, augmentation and bootstrap.
    max_epochs, batch_size, lr, patience, augment
        Training (see :func:`make_classifier`).
    checkpoint_dir : str or path-like, optional
        Where the best-epoch checkpoints are written; the best-AUPRC one is restored from there.
    verbose : int, default=0
        1 prints the epoch table.

    Returns
    -------
    ECGRun
    """
    side = patient_split(table, val_fraction=val_fraction, test_fraction=test_fraction, random_state=seed)
    rows = {s: np.flatnonzero(side == s) for s in SIDES}
    labels = table["label"].to_numpy()
    data = {s: RecordDataset(store, rows[s], labels[rows[s]]) for s in SIDES}
    clf = make_classifier(data["validation"], sfreq=sfreq, max_epochs=max_epochs, batch_size=batch_size, lr=lr,
                          patience=patience, augment=augment, checkpoint_dir=checkpoint_dir, random_state=seed,
                          verbose=verbose)
    clf.fit(data["train"])
    if checkpoint_dir is not None:
        clf.restore_checkpoint("valid_score")
    scores = {s: clf.predict_proba(data[s])[:, 1] for s in ("validation", "test")}
    threshold, how = choose_threshold(labels[rows["validation"]], scores["validation"], rule=threshold_rule,
                                      target_sensitivity=target_sensitivity)
    test = rows["test"]
    record_metrics = classification_scores(labels[test], scores["test"], table["patient"].to_numpy()[test], threshold,
                                           n_boot=n_boot, random_state=seed)
    predictions = pd.concat(
        [table.iloc[rows[s]].assign(side=s, score=scores[s], predicted=(scores[s] >= threshold).astype(int))
         for s in ("validation", "test")],
        ignore_index=True,
    )
    patient_predictions, patient_metrics, patient_threshold, patient_how = patient_level(
        predictions, threshold_rule=threshold_rule, target_sensitivity=target_sensitivity, n_boot=n_boot, seed=seed)
    metrics = pd.concat([record_metrics.assign(level="record"), patient_metrics.assign(level="patient")],
                        ignore_index=True)[list(METRIC_COLUMNS)]
    patients = {s: sorted(table["patient"].iloc[rows[s]].unique()) for s in SIDES}
    patient_label = table.groupby("patient")["label"].agg(["max", "nunique"])
    history = clf.history
    best = [row["epoch"] for row in history if row.get("valid_score_best")]
    extra = {
        "n_records": {s: int(len(rows[s])) for s in SIDES},
        "n_positive_records": {s: int(labels[rows[s]].sum()) for s in SIDES},
        "n_positive_patients": {s: int(patient_label.loc[patients[s], "max"].sum()) for s in SIDES},
        "n_patients_with_mixed_labels": int((patient_label["nunique"] > 1).sum()),
        "pos_weight": clf.pos_weight_,
        "epochs_trained": len(history),
        "best_epoch": best[-1] if best else None,
        "best_valid_auprc": max((row["valid_score"] for row in history), default=None),
        "checkpoint": None if checkpoint_dir is None else str(Path(clf.checkpoint_dir_) / "best_valid_score.pt"),
        "lead_mean": clf.lead_mean_.tolist(),
        "lead_scale": clf.lead_scale_.tolist(),
    }
    return ECGRun(predictions=predictions, metrics=metrics, threshold=threshold, threshold_rule=how,
                  patient_predictions=patient_predictions, patient_threshold=patient_threshold,
                  patient_threshold_rule=patient_how, patients=patients, classifier=clf, extra=extra)
