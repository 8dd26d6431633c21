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
from .scores import classification_scores
from .splits import SIDES, patient_split
from .store import RecordDataset
from .thresholds import choose_threshold

__all__ = ["ECGRun", "make_classifier", "run_ecg_classification", "valid_auprc"]


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
        Test scores: ``metric``, ``value``, ``ci_low``, ``ci_high``.
    threshold : float
    threshold_rule : str
        How the threshold was chosen.
    patients : dict
        Patient ids per side.
    classifier : ECGNetClassifier
        The fitted estimator (best epoch restored).
    extra : dict
        For the manifest: records and positives per side, ``pos_weight``, epochs trained, best epoch
        and its validation AUPRC, the restored checkpoint file, the per-lead training statistics.
    """

    predictions: pd.DataFrame
    metrics: pd.DataFrame
    threshold: float
    threshold_rule: str
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
        Patient-bootstrap resamples of the test scores.
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
    metrics = classification_scores(labels[test], scores["test"], table["patient"].to_numpy()[test], threshold,
                                    n_boot=n_boot, random_state=seed)
    predictions = pd.concat(
        [table.iloc[rows[s]].assign(side=s, score=scores[s], predicted=(scores[s] >= threshold).astype(int))
         for s in ("validation", "test")],
        ignore_index=True,
    )
    patients = {s: sorted(table["patient"].iloc[rows[s]].unique()) for s in SIDES}
    history = clf.history
    best = [row["epoch"] for row in history if row.get("valid_score_best")]
    extra = {
        "n_records": {s: int(len(rows[s])) for s in SIDES},
        "n_positive_records": {s: int(labels[rows[s]].sum()) for s in SIDES},
        "pos_weight": clf.pos_weight_,
        "epochs_trained": len(history),
        "best_epoch": best[-1] if best else None,
        "best_valid_auprc": max((row["valid_score"] for row in history), default=None),
        "checkpoint": None if checkpoint_dir is None else str(Path(clf.checkpoint_dir_) / "best_valid_score.pt"),
        "lead_mean": clf.lead_mean_.tolist(),
        "lead_scale": clf.lead_scale_.tolist(),
    }
    return ECGRun(predictions, metrics, threshold, how, patients, clf, extra)
