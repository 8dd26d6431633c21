"""Decision thresholds chosen on validation records, then applied unchanged to test records."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_curve

__all__ = ["THRESHOLD_RULES", "choose_threshold"]

THRESHOLD_RULES = ("f1", "sensitivity")
"""``f1``: the threshold of best F1; ``sensitivity``: the highest threshold reaching a target sensitivity."""


def choose_threshold(
    y_true: np.ndarray, score: np.ndarray, *, rule: str = "f1", target_sensitivity: float = 0.9
) -> tuple[float, str]:
    """A threshold on ``score`` (predict positive when ``score >= threshold``) and how it was chosen.

    Parameters
    ----------
    y_true : array-like of shape (n_records,)
        0/1 labels of the validation records.
    score : array-like of shape (n_records,)
        Their predicted probabilities.
    rule : {"f1", "sensitivity"}, default="f1"
    target_sensitivity : float, default=0.9
        With ``rule="sensitivity"``.

    Returns
    -------
    threshold : float
    description : str
        E.g. ``"best F1 on validation (F1 = 0.812)"``.

    Examples
    --------
    >>> choose_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])[0]
    0.35
    >>> choose_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], rule="sensitivity", target_sensitivity=0.5)[0]
    0.8
    """
    y_true = np.asarray(y_true).astype(int)
    score = np.asarray(score, dtype=float)
    if y_true.shape != score.shape or y_true.ndim != 1 or set(np.unique(y_true)) != {0, 1}:
        raise ValueError("need 1-D labels with both classes and one score per label")
    if rule == "f1":
        precision, recall, thresholds = precision_recall_curve(y_true, score)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)[:-1]
        best = int(np.argmax(f1))
        return float(thresholds[best]), f"best F1 on validation (F1 = {f1[best]:.3f})"
    if rule == "sensitivity":
        if not 0 < target_sensitivity <= 1:
            raise ValueError(f"target_sensitivity must lie in (0, 1], got {target_sensitivity}")
        positives = np.sort(score[y_true == 1])[::-1]
        k = int(np.ceil(target_sensitivity * len(positives)))
        threshold = float(positives[k - 1])
        reached = float(np.mean(positives >= threshold))
        return threshold, f"highest threshold with validation sensitivity >= {target_sensitivity:g} (reached {reached:.3f})"
    raise ValueError(f"rule must be one of {THRESHOLD_RULES}, got {rule!r}")
