"""Figures of an ECG run: ROC with a patient-bootstrap band, precision-recall, confusion matrix at the threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve

from sklearn_eeg.reporting._style import new_axes
from sklearn_eeg.reporting.curves import plot_confusion_matrix

__all__ = ["plot_confusion", "plot_pr", "plot_roc"]


def _metric(metrics: pd.DataFrame, name: str) -> pd.Series:
    return metrics.set_index("metric").loc[name]


def plot_roc(band: pd.DataFrame, metrics: pd.DataFrame, *, n_patients: int, n_records: int) -> Figure:
    """ROC curve of the test records with its 95 % patient-bootstrap band and the chance diagonal."""
    auc = _metric(metrics, "AUROC")
    fig, ax = new_axes(None, figsize=(5.2, 5.0))
    ax.fill_between(band["fpr"], band["tpr_low"], band["tpr_high"], color="#0072B2", alpha=0.2,
                    label="95 % bootstrap band (patients)")
    ax.plot(band["fpr"], band["tpr"], color="#0072B2",
            label=f"AUROC {auc['value']:.3f} [{auc['ci_low']:.3f}, {auc['ci_high']:.3f}]")
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1.0, label="chance")
    ax.set_xlabel("False-positive rate (1 - specificity)")
    ax.set_ylabel("Sensitivity (true-positive rate)")
    ax.set_title(f"ROC on test patients ({n_patients} patients, {n_records} records)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    return fig


def plot_pr(y: np.ndarray, score: np.ndarray, metrics: pd.DataFrame, *, n_patients: int) -> Figure:
    """Precision-recall curve of the test records, with the prevalence (chance) line."""
    precision, recall, _ = precision_recall_curve(np.asarray(y).astype(int), score)
    ap = _metric(metrics, "AUPRC")
    fig, ax = new_axes(None, figsize=(5.2, 5.0))
    ax.step(recall, precision, where="post", color="#D55E00",
            label=f"AUPRC {ap['value']:.3f} [{ap['ci_low']:.3f}, {ap['ci_high']:.3f}]")
    ax.axhline(float(np.mean(y)), color="#999999", linestyle="--", linewidth=1.0,
               label=f"chance (prevalence {np.mean(y):.2f})")
    ax.set_xlabel("Recall (sensitivity)")
    ax.set_ylabel("Precision (positive predictive value)")
    ax.set_title(f"Precision-recall on test patients ({n_patients} patients, {len(y)} records)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.legend(loc="lower left", frameon=False, fontsize=8)
    return fig


def plot_confusion(y: np.ndarray, score: np.ndarray, threshold: float, *, n_patients: int) -> Figure:
    """Confusion matrix of the test records at the threshold chosen on validation."""
    fig = plot_confusion_matrix(np.asarray(y).astype(int), (np.asarray(score) >= threshold).astype(int),
                                labels=("label 0", "label 1"), threshold=round(threshold, 4),
                                pooled_over=f"{n_patients} test patients", unit="record")
    return fig
