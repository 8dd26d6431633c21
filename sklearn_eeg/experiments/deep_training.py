"""Train and evaluate the deep estimators on one dataset: split, fit, metrics, run folder, table row.

The run logic behind ``pipelines/train_deep.py``:

1. windows of the window store (a CHB-MIT-like ``data_root`` or an embedded synthetic preset) as a
   lazy :class:`~sklearn_eeg.signal.windows.WindowArray`: a window is read from disk when a batch
   needs it, so training holds a batch in RAM, never the dataset;
2. a split that never lets the future leak into training:

   * ``mode="patient"`` -- one model per subject, trained on the subject's earlier data and tested on
     its later data (:func:`patient_chronological_split`);
   * ``mode="loso-fold"`` -- one model trained on every subject but ``test_subject``, tested on it;

3. a :class:`~sklearn_eeg.models.estimators.SpectrogramCNNClassifier` (``model="cnn"``) or a
   :class:`~sklearn_eeg.models.estimators.FusionClassifier` on windows plus the per-recording cached
   features of :func:`~sklearn_eeg.experiments.run_data.store_features` (``model="fusion"``). Its early-stopping
   split is a chronological tail of the *training* data only: the last ``valid_fraction`` of each
   subject's interictal windows and of its preictal windows (so both classes are present);
   ``pos_weight`` comes from the training windows;
4. window metrics (AUROC, AUPRC, Brier) on the labeled test windows; alarm thresholds per
   false-alarm-rate target tuned on the validation tail with :func:`sklearn_eeg.evaluation.scoring.tune_threshold`
   and applied unchanged to test. Risk is predicted on every window (ictal, postictal and excluded
   ones too) so that the alarm metrics run on the whole timeline; models never fit on those;
5. a run folder ``<out_dir>/runs/<UTC stamp>_deep-<mode>_<model>/`` with ``manifest.json`` (config,
   arguments and their hash, split, thresholds, metrics), one :func:`~sklearn_eeg.models.estimators.save_run`
   folder per model, training-curve figures, per-window test predictions and ``lead_seizures.csv``
   (manifest and seizure table written by :mod:`sklearn_eeg.experiments.run_outputs`, as for every
   run kind); and one row appended to
   ``<out_dir>/tables/metrics.csv``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score
from skorch.dataset import ValidSplit
from skorch.helper import SliceDict
from tqdm.auto import tqdm

from sklearn_eeg.atomic_files import check_output_dir
from sklearn_eeg.evaluation.alarms import AlarmPolicy
from sklearn_eeg.experiments.config import RunConfig, config_hash, load_config
from sklearn_eeg.models.estimators import (
    ChronologicalSplit,
    TimelineScoring,
    ValidScoring,
    checkpoint_index,
    save_run,
)
from sklearn_eeg.models.nn.checkpoints import latest_last_set
from sklearn_eeg.experiments.fold_evaluation import FoldSplit, evaluate_fold
from sklearn_eeg.evaluation.metrics import window_metrics
from sklearn_eeg.models.registry import DEEP_MODELS, make_model
from sklearn_eeg.experiments.run_data import run_window_store, store_features
from sklearn_eeg.experiments.run_outputs import append_rows, new_run_dir, write_csv, write_lead_seizures, write_manifest
from sklearn_eeg.evaluation.scoring import tune_threshold
from sklearn_eeg.signal.windows import WindowArray

__all__ = [
    "MODES",
    "MODELS",
    "SELECT_BY",
    "DeepRunResult",
    "chance_auroc_tolerance",
    "patient_chronological_split",
    "run_deep",
    "run_deep_from_config",
    "validation_tail",
    "validation_timeline",
    "with_deep_model",
]

logger = logging.getLogger(__name__)

MODES = ("patient", "loso-fold")
MODELS = tuple(DEEP_MODELS)
METRICS_TABLE = Path("tables") / "metrics.csv"
SELECTION_FAH = 0.5
SENSITIVITY_KEY = f"valid_sens_fah{SELECTION_FAH:g}"
SELECT_BY = {"loss": "valid_loss", "auroc": "valid_auroc", "sensitivity": SENSITIVITY_KEY}
"""Checkpoint criteria of :func:`run_deep` (``select_by``) and the history keys they select on."""


@dataclass
class DeepRunResult:
    """What :func:`run_deep` produced.

    Attributes
    ----------
    run_dir : Path
        The run folder.
    metrics : dict
        Summary metrics (the row appended to ``metrics.csv``).
    per_subject : DataFrame
        One row per test subject: split counts, window metrics, alarm metrics at each FAH target.
    predictions : DataFrame
        Test windows (``subject``, ``t_abs``, ``label``, ``risk``, ...).
    """

    run_dir: Path
    metrics: dict
    per_subject: pd.DataFrame
    predictions: pd.DataFrame


# ----------------------------------------------------------------------------------------------
# splits


def _cut_candidates(sub: pd.DataFrame) -> np.ndarray:
    """Times (window ends) at which a subject's timeline may be cut: recording and seizure starts."""
    t_abs = sub["t_abs"].to_numpy(dtype=float)
    new_recording = np.r_[True, sub["recording"].to_numpy()[1:] != sub["recording"].to_numpy()[:-1]]
    label = sub["label"].to_numpy()
    sid = sub["seizure_id"].to_numpy()
    new_preictal_run = (label == 1) & np.r_[True, (label[:-1] != 1) | (sid[1:] != sid[:-1])]
    return np.unique(t_abs[(new_recording | new_preictal_run)][1:] if len(t_abs) else t_abs)


def patient_chronological_split(
    meta: pd.DataFrame, *, train_fraction: float = 0.7
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], pd.DataFrame]:
    """Per subject, train on the earlier part of the timeline and test on the later part.

    The cut is placed at the start of a recording or of a preictal run (the first window of an
    upcoming seizure's SOP), so the test period begins with a whole recording or a whole seizure.
    Among the cuts whose training part holds both classes and whose test part holds at least one
    preictal window, the chosen one prefers, in order: a test part with both classes, a cut at a
    recording boundary (no recording in both parts), a training share of windows closest to
    ``train_fraction``. Every training window ends before every test window starts.

    Parameters
    ----------
    meta : DataFrame of shape (n_windows, ...)
        Window table (``subject``, ``recording``, ``t_abs``, ``label``, ``seizure_id``) in the row order of ``X``;
        rows with ``label == -1`` (ictal, postictal, excluded) are split by time like the others but
        count for neither class.
    train_fraction : float, default=0.7
        Target share of a subject's windows in training, in (0, 1).

    Returns
    -------
    splits : dict of str to (ndarray, ndarray)
        Subject -> (train rows, test rows) into ``meta`` (all rows of the subject, labeled or not);
        subjects without a valid cut are left out.
    table : DataFrame
        One row per subject: ``subject``, ``cut_t_abs``, ``cut_at_recording``, ``seizure_in_both``, ``n_train``,
        ``n_train_pos``, ``n_test``, ``n_test_pos`` (labeled windows), ``train_recordings``, ``test_recordings``,
        ``status`` ("ok" or why the subject was left out).

    Examples
    --------
    >>> meta = pd.DataFrame({"subject": "s1", "recording": ["r1"] * 4 + ["r2"] * 4,
    ...                      "t_abs": np.arange(8.0), "label": [0, 0, 1, 1, 0, 0, 1, 1],
    ...                      "seizure_id": ["", "", "a", "a", "", "", "b", "b"]})
    >>> splits, table = patient_chronological_split(meta, train_fraction=0.5)
    >>> [s.tolist() for s in splits["s1"]]
    [[0, 1, 2, 3], [4, 5, 6, 7]]
    """
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    missing = {"subject", "recording", "t_abs", "label", "seizure_id"} - set(meta.columns)
    if missing:
        raise ValueError(f"window table lacks columns {sorted(missing)}")
    splits: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    rows = []
    for subject in pd.unique(meta["subject"]):
        rows_s = np.flatnonzero(meta["subject"].to_numpy() == subject)
        order = rows_s[np.argsort(meta["t_abs"].to_numpy()[rows_s], kind="stable")]
        sub = meta.iloc[order]
        t_abs, label = sub["t_abs"].to_numpy(dtype=float), sub["label"].to_numpy()
        recordings, seizure_ids = sub["recording"].to_numpy(), sub["seizure_id"].to_numpy()
        best, best_key = None, None
        labeled = label >= 0
        for cut in _cut_candidates(sub):
            train = t_abs < cut
            test = ~train
            if len(set(label[train & labeled])) < 2 or not (label[test] == 1).any():
                continue
            at_recording = not set(recordings[train]) & set(recordings[test])
            seizure_shared = bool(set(seizure_ids[train & (label == 1)]) & set(seizure_ids[test & (label == 1)]))
            key = (len(set(label[test & labeled])) == 2, not seizure_shared, at_recording, -abs(train.mean() - train_fraction))
            if best_key is None or key > best_key:
                best, best_key = (cut, train, test, at_recording, seizure_shared), key
        if best is None:
            rows.append({"subject": subject, "status": "no cut with both classes in training and a seizure in test"})
            continue
        cut, train, test, at_recording, seizure_shared = best
        splits[str(subject)] = (order[train], order[test])
        rows.append(
            {
                "subject": subject,
                "cut_t_abs": float(cut),
                "cut_at_recording": bool(at_recording),
                "seizure_in_both": seizure_shared,
                "n_train": int((train & labeled).sum()),
                "n_train_pos": int((label[train] == 1).sum()),
                "n_test": int((test & labeled).sum()),
                "n_test_pos": int((label[test] == 1).sum()),
                "train_recordings": " ".join(pd.unique(recordings[train])),
                "test_recordings": " ".join(pd.unique(recordings[test])),
                "status": "ok",
            }
        )
    return splits, pd.DataFrame(rows)


def validation_tail(meta: pd.DataFrame, valid_fraction: float = 0.2) -> np.ndarray:
    """Boolean mask of the validation tail: the latest windows of each subject and class.

    The last ``valid_fraction`` of every subject's interictal windows and of its preictal windows
    (in time order) -- the same rows the estimator's internal :class:`ChronologicalSplit` holds out
    when ``fit`` gets ``groups = subject|label`` on time-ordered rows.

    Parameters
    ----------
    meta : DataFrame of shape (n_windows, ...)
        Training window table, time-ordered within each subject.
    valid_fraction : float, default=0.2

    Returns
    -------
    ndarray of shape (n_windows,), bool
    """
    groups = _valid_groups(meta)
    _, valid = next(ChronologicalSplit(valid_fraction).split(np.arange(len(meta)), groups=groups))
    mask = np.zeros(len(meta), dtype=bool)
    mask[valid] = True
    return mask


def _valid_groups(meta: pd.DataFrame) -> np.ndarray:
    return (meta["subject"].astype(str) + "|" + meta["label"].astype(str)).to_numpy()


def validation_timeline(meta: pd.DataFrame, train: np.ndarray, valid_fraction: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the validation tail of ``train`` and of its full timeline (the rows alarms are tuned on).

    The tail is :func:`validation_tail` of the labeled training rows (what the estimator holds out);
    its full timeline adds the unlabeled (label -1) training rows that fall inside the tail's time
    span of their subject: they are never trained on, get a risk, and count neither as hits nor as
    false alarms (the full-timeline rule of ``docs/DATA_CONTRACTS.md``).

    Parameters
    ----------
    meta : DataFrame of shape (n_windows, ...)
        Window table (``subject``, ``t_abs``, ``label``).
    train : ndarray of int
        Training rows into ``meta``, labeled or not.
    valid_fraction : float, default=0.2

    Returns
    -------
    tail : ndarray of int
        Labeled validation rows into ``meta``.
    timeline : ndarray of int
        ``tail`` plus the unlabeled rows in its span, sorted by subject and time.
    """
    t_abs, subjects, labels = meta["t_abs"].to_numpy(), meta["subject"].to_numpy(), meta["label"].to_numpy()
    train = np.asarray(train)[np.lexsort((t_abs[train], subjects[train]))]
    fit_rows = train[labels[train] >= 0]
    tail = fit_rows[validation_tail(meta.iloc[fit_rows].reset_index(drop=True), valid_fraction)]
    span_start = pd.Series(t_abs[tail]).groupby(subjects[tail]).min()
    unlabeled = train[labels[train] < 0]
    in_span = t_abs[unlabeled] >= span_start.reindex(subjects[unlabeled]).to_numpy(dtype=float)
    timeline = np.concatenate([tail, unlabeled[in_span]])
    return tail, timeline[np.lexsort((t_abs[timeline], subjects[timeline]))]


# ----------------------------------------------------------------------------------------------
# metrics helpers


def chance_auroc_tolerance(n_pos: int, n_neg: int, *, z: float = 3.0) -> float:
    """Half-width of a ``z``-sigma band of AUROC around 0.5 for a score unrelated to the labels.

    Under the null the AUROC equals the Mann-Whitney ``U / (n_pos n_neg)``, whose variance with
    independent windows is ``(n_pos + n_neg + 1) / (12 n_pos n_neg)``. Windows of one recording are
    correlated (overlapping, slowly varying EEG), so the real spread is wider; use it as a floor.

    Parameters
    ----------
    n_pos, n_neg : int
        Test windows per class (both > 0).
    z : float, default=3.0

    Returns
    -------
    float

    Examples
    --------
    >>> round(chance_auroc_tolerance(100, 300), 3)
    0.1
    """
    if n_pos < 1 or n_neg < 1:
        raise ValueError(f"need both classes, got n_pos={n_pos}, n_neg={n_neg}")
    return z * math.sqrt((n_pos + n_neg + 1) / (12.0 * n_pos * n_neg))


def _labeled_metrics(label: np.ndarray, risk: np.ndarray) -> dict:
    """Window metrics on the labeled rows (label 0 or 1) only."""
    keep = label >= 0
    return window_metrics(label[keep], risk[keep])


def _auroc_or_nan(y_true: np.ndarray, y_score: np.ndarray, index: np.ndarray | None = None) -> float:
    """ROC AUC, NaN when one class is missing (a ``ValidScoring`` hook)."""
    return float(roc_auc_score(y_true, y_score)) if len(np.unique(y_true)) == 2 else float("nan")


def _sensitivity_at_fah(risk: np.ndarray, *, meta: pd.DataFrame, fah_target: float, policy: AlarmPolicy) -> float:
    """Validation sensitivity at the threshold tuned for ``fah_target`` on the same rows (a ``TimelineScoring`` hook)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        table = tune_threshold(risk, meta, (fah_target,), policy=policy)
    return float(table["val_sensitivity"].iloc[0])


# ----------------------------------------------------------------------------------------------
# one model


def _make_estimator(
    model: str, params: Mapping[str, Any], valid_fraction: float, seed: int, verbose: int,
    callbacks: Sequence[tuple[str, Any]] = (), checkpoint_dir: Path | None = None,
):
    return make_model(model, precomputed_features=False, random_state=seed, params={
        "train_split": ValidSplit(ChronologicalSplit(valid_fraction)),
        "verbose": verbose,
        "callbacks": [("valid_auroc", ValidScoring(_auroc_or_nan, name="valid_auroc")), *callbacks],
        "checkpoint_dir": checkpoint_dir,
        **params,
    })


def _inputs(X, features: np.ndarray | None, mean, scale):
    """The estimator's input for every row: the windows, or the windows and standardised features."""
    if features is None:
        return X
    return SliceDict(signal=X, features=((features - mean) / scale).astype(np.float32))


def _restore_selected(est, select_by: str) -> dict:
    """Restore the checkpoint of ``select_by`` (the best validation loss when it was never finite);
    returns the checkpoint index with the ``selected`` monitor."""
    index = checkpoint_index(est.history, list(SELECT_BY.values()))
    selected = SELECT_BY[select_by]
    if selected not in index:
        warnings.warn(f"no epoch has a finite {selected}: keeping the best validation loss", UserWarning, stacklevel=4)
        selected = "valid_loss"
    est.restore_checkpoint(selected)
    return {"selected": selected, **index}


def _fit_one(
    model: str,
    params: Mapping[str, Any],
    X: np.ndarray,
    features: np.ndarray | None,
    meta: pd.DataFrame,
    valid_groups: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    *,
    valid_fraction: float,
    seed: int,
    verbose: int,
    fah_targets: Sequence[float],
    policy: AlarmPolicy,
    checkpoint_dir: Path,
    select_by: str = "loss",
    resume: bool = False,
) -> dict:
    """Fit on the labeled ``train`` rows (validation tail held out), predict ``test``, tune thresholds.

    Risk is predicted on every test row, labeled or not, so the alarm metrics see the whole
    timeline; the thresholds are tuned on the validation tail plus the unlabeled training-period rows
    that fall inside its time span (never trained on). The same validation timeline gives the
    per-epoch sensitivity at FAH <= ``SELECTION_FAH`` (ties broken by the validation AUROC); the
    checkpoint of ``select_by`` becomes the final model. With ``resume``, training continues from the
    newest checkpoint folder under ``checkpoint_dir`` when there is one. ``valid_groups`` is
    ``subject|label`` of every row of ``meta``: the estimator takes its validation tail per group.
    """
    t_abs, subjects, labels = meta["t_abs"].to_numpy(), meta["subject"].to_numpy(), meta["label"].to_numpy()
    train = train[np.lexsort((t_abs[train], subjects[train]))]
    test = test[np.lexsort((t_abs[test], subjects[test]))]
    fit_rows = train[labels[train] >= 0]
    mean = scale = None
    if features is not None:  # standardise with training statistics only
        mean = features[fit_rows].mean(axis=0)
        scale = features[fit_rows].std(axis=0) + 1e-6
    inputs = _inputs(X, features, mean, scale)
    in_valid, val_rows = validation_timeline(meta, train, valid_fraction)
    meta_val = meta.iloc[val_rows].reset_index(drop=True)
    sensitivity = TimelineScoring(
        partial(_sensitivity_at_fah, meta=meta_val, fah_target=SELECTION_FAH, policy=policy),
        inputs[val_rows],
        name=SENSITIVITY_KEY,
        tie_breaker="valid_auroc",
    )
    est = _make_estimator(model, params, valid_fraction, seed, verbose, [(SENSITIVITY_KEY, sensitivity)], checkpoint_dir)
    resume_from = latest_last_set(checkpoint_dir) if resume else None
    selection: dict = {}

    def fit(estimator, X_fit, y_fit, **fit_params):
        if resume_from is not None:
            estimator.resume(X_fit, y_fit, checkpoint=resume_from, **fit_params)
        else:
            estimator.fit(X_fit, y_fit, **fit_params)
        selection.update(_restore_selected(estimator, select_by))
        return estimator

    fold = evaluate_fold(est, inputs, labels, meta, FoldSplit(train, val_rows, test), groups=valid_groups, fit=fit)
    val_risk, test_risk = fold.val_risk, fold.test_risk
    meta_test = meta.iloc[test].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        thresholds = tune_threshold(
            val_risk, meta_val, tuple(fah_targets), test_risk=test_risk, test_meta=meta_test, policy=policy
        )
    return {
        "estimator": est,
        "test_risk": test_risk,
        "meta_test": meta_test,
        "thresholds": thresholds,
        "valid_window": _labeled_metrics(meta_val["label"].to_numpy(), val_risk),
        "test_window": _labeled_metrics(meta_test["label"].to_numpy(), test_risk),
        "n_train": len(fit_rows) - len(in_valid),
        "n_valid": len(in_valid),
        "feature_scaling": None if mean is None else {"mean": mean.tolist(), "scale": scale.tolist()},
        "checkpoints": {**selection, "folder": est.checkpoint_dir_},
    }


# ----------------------------------------------------------------------------------------------
# outputs


def _start_run_dir(
    out_dir: Path, kind: str, model: str, resume: str | Path | None, meta: pd.DataFrame, cfg: RunConfig,
    extra: Mapping[str, Any],
) -> Path:
    """A new run folder with a ``status: running`` manifest, or the folder of the run to resume."""
    if resume is None:
        run_dir = new_run_dir(out_dir, kind, model)
        write_manifest(run_dir, meta, config=cfg, extra={**extra, "status": "running"})
        return run_dir
    run_dir = Path(resume)
    path = run_dir / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{str(run_dir)!r} is not a run folder (no manifest.json)")
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:  # invalid JSON or not UTF-8 (a write cut short)
        raise ValueError(f"{path}: not valid JSON ({err}); cannot resume this run") from err
    if not isinstance(previous, dict):
        raise ValueError(f"{path}: not a run manifest (a JSON {type(previous).__name__}); cannot resume this run")
    if previous.get("args_hash") != extra["args_hash"]:
        raise ValueError(
            f"cannot resume {str(run_dir)!r}: it was started with other settings "
            f"(args_hash {previous.get('args_hash')} != {extra['args_hash']}); pass the same config and arguments"
        )
    return run_dir


def _save_curves(history: Sequence[Mapping[str, Any]], path: Path, title: str) -> Path:
    from sklearn_eeg.reporting import plot_training_curves, save_figure

    rows = [{k: v for k, v in row.items() if k in ("epoch", "train_loss", "valid_loss", "valid_auroc")} for row in history]
    fig = plot_training_curves(rows, auroc_key="valid_auroc")
    fig.suptitle(title)
    return save_figure(fig, path)


def _nanmean(values: Sequence[float]) -> float:
    values = np.asarray(values, dtype=float)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


# ----------------------------------------------------------------------------------------------
# entry points


def run_deep(
    cfg: RunConfig,
    *,
    model: str = "cnn",
    mode: str = "patient",
    test_subject: str | None = None,
    train_fraction: float = 0.7,
    valid_fraction: float = 0.2,
    out_dir: str | Path | None = None,
    n_threads: int | None = 2,
    verbose: int = 1,
    progress: bool = True,
    select_by: str = "loss",
    resume: str | Path | None = None,
) -> DeepRunResult:
    """Train and evaluate a deep model on the dataset of ``cfg``; write the run folder and table row.

    Every model keeps a checkpoint folder (``models/<subject>/checkpoints/fit-*``, see
    :class:`~sklearn_eeg.models.estimators.FitCheckpoint`): its best epoch by validation loss, by validation
    AUROC and by validation sensitivity at FAH <= 0.5 (``valid_sens_fah0.5``: the alarm threshold
    tuned for FAH <= 0.5 on the validation tail's full timeline, the rows the thresholds are tuned on,
    and the sensitivity read there; with few validation seizures it ties often, and a tie goes to the
    higher validation AUROC), plus the last epoch's state for resuming. The manifest lists each
    checkpoint's epoch and score.

    Parameters
    ----------
    cfg : RunConfig
        Data (``data_root`` or synthetic ``preset``, ``subjects``, ``cache_dir``), labeling, alarms
        (smoothing, persistence, ``fah_targets``), ``seed``, ``output_dir`` and, in ``model.params``,
        estimator arguments (``max_epochs``, ``lr``, ``batch_size``, ``module__n_filters``...).
        ``features.feature_set`` is used by ``model="fusion"``.
    model : {"cnn", "fusion"}, default="cnn"
    mode : {"patient", "loso-fold"}, default="patient"
        Patient-specific chronological split per subject, or one leave-one-subject-out fold.
    test_subject : str, optional
        Held-out subject of ``mode="loso-fold"`` (required there).
    train_fraction : float, default=0.7
        Target training share per subject in ``mode="patient"``.
    valid_fraction : float, default=0.2
        Validation tail of the training data (per subject and class), for early stopping, the
        per-epoch validation AUROC and threshold tuning.
    out_dir : str or Path, optional
        Output root (default ``cfg.output_dir``): the run goes to ``<out_dir>/runs/``, the row to
        ``<out_dir>/tables/metrics.csv``.
    n_threads : int or None, default=2
        ``torch.set_num_threads`` for the run (None leaves it).
    verbose : int, default=1
        skorch epoch table (1) or silent (0).
    progress : bool, default=True
        Progress bars while loading and over subjects.
    select_by : {"loss", "auroc", "sensitivity"}, default="loss"
        Checkpoint that becomes the final model (and sets the thresholds): best validation loss (the
        smoothest criterion, and the early-stopping one), AUROC or sensitivity at FAH <= 0.5 (a
        clinical criterion, but a coarse one on a few validation seizures). Falls back to the loss,
        with a warning, when the criterion is NaN at every epoch (e.g. no validation seizure).
    resume : str or Path, optional
        Folder of an interrupted run started with the same configuration and arguments: finished
        models are reloaded, the interrupted one continues from its last checkpoint (losing at most
        one epoch), the rest are trained; outputs are then written as usual.

    Returns
    -------
    DeepRunResult
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "loso-fold" and test_subject is None:
        raise ValueError("mode='loso-fold' needs test_subject")
    if not 0.0 < valid_fraction < 1.0:
        raise ValueError(f"valid_fraction must be in (0, 1), got {valid_fraction}")
    if select_by not in SELECT_BY:
        raise ValueError(f"select_by must be one of {tuple(SELECT_BY)}, got {select_by!r}")
    if n_threads is not None:
        torch.set_num_threads(int(n_threads))
    out_dir = check_output_dir(cfg.output_dir if out_dir is None else out_dir)
    store = run_window_store(cfg, progress)  # every state: alarms run on the whole timeline, models fit on labeled rows
    X, meta = WindowArray(store), store.table
    features = None
    if model == "fusion":
        features = store_features(store, feature_set=cfg.features.feature_set, cache_dir=cfg.data.cache_dir,
                                  n_jobs=cfg.n_jobs, progress=progress)
    if mode == "patient":
        splits, split_table = patient_chronological_split(meta, train_fraction=train_fraction)
        if not splits:
            raise ValueError(f"no subject can be split chronologically:\n{split_table.to_string(index=False)}")
    else:
        subjects = meta["subject"].astype(str).to_numpy()
        if test_subject not in set(subjects):
            raise ValueError(f"test_subject {test_subject!r} not in the data (subjects: {sorted(set(subjects))})")
        splits = {test_subject: (np.flatnonzero(subjects != test_subject), np.flatnonzero(subjects == test_subject))}
        labeled = meta["label"].to_numpy() >= 0
        split_table = pd.DataFrame(
            [{"subject": test_subject, "n_train": int(((subjects != test_subject) & labeled).sum()),
              "n_test": int(((subjects == test_subject) & labeled).sum()), "status": "ok"}]
        )
    params = dict(cfg.model.params)
    run_args = {"model": model, "mode": mode, "test_subject": test_subject, "train_fraction": train_fraction,
                "valid_fraction": valid_fraction, "select_by": select_by}
    args_hash = hashlib.sha256(
        json.dumps({"config": cfg.to_dict(), **run_args}, sort_keys=True, default=str).encode()
    ).hexdigest()[:12]
    run_identity = {"kind": "deep", "model": model, "args": run_args, "args_hash": args_hash}
    run_dir = _start_run_dir(out_dir, f"deep-{mode}", model, resume, meta, cfg, run_identity)
    per_subject, predictions, thresholds, checkpoints = [], [], [], {}
    policy = cfg.alarm_policy()
    valid_groups = _valid_groups(meta)  # once per run: every model's validation tail is per subject|label
    for subject, (train, test) in tqdm(splits.items(), desc="models", disable=not progress):
        fit = _fit_one(
            model, params, X, features, meta, valid_groups, train, test, valid_fraction=valid_fraction, seed=cfg.seed,
            verbose=verbose, fah_targets=cfg.alarms.fah_targets, policy=policy,
            checkpoint_dir=run_dir / "models" / subject / "checkpoints", select_by=select_by, resume=resume is not None,
        )
        est = fit["estimator"]
        ckpt = {**fit["checkpoints"], "folder": str(Path(fit["checkpoints"]["folder"]).relative_to(run_dir))}
        checkpoints[subject] = ckpt
        model_dir = save_run(est, run_dir / "models" / subject,
                             manifest={"subject": subject, "feature_scaling": fit["feature_scaling"], "checkpoints": ckpt})
        _save_curves(list(est.history), run_dir / f"curves_{subject}.png", f"{model} — {mode} — {subject}")
        row = {"subject": subject, "n_train": fit["n_train"], "n_valid": fit["n_valid"],
               "best_epoch": ckpt[ckpt["selected"]]["epoch"], "selected_by": ckpt["selected"],
               **{f"best_epoch_{name}": ckpt.get(key, {}).get("epoch") for name, key in SELECT_BY.items()},
               f"best_{SENSITIVITY_KEY}": ckpt.get(SENSITIVITY_KEY, {}).get("score"),
               "epochs_run": len(est.history), "model_dir": str(model_dir.relative_to(run_dir))}
        row.update({f"valid_{k}": v for k, v in fit["valid_window"].items()})
        row.update({f"test_{k}": v for k, v in fit["test_window"].items()})
        for t in fit["thresholds"].to_dict("records"):
            target = t["fah_target"]
            row.update({f"{k}@{target:g}": v for k, v in t.items() if k != "fah_target"})
            thresholds.append({"subject": subject, **t})
        per_subject.append(row)
        pred = fit["meta_test"][["subject", "recording", "t_abs", "state", "label", "tte", "seizure_id", "lead_seizure"]].copy()
        pred["risk"] = fit["test_risk"]
        predictions.append(pred)
    per_subject_df = pd.DataFrame(per_subject)
    one_class = per_subject_df.loc[per_subject_df["test_auroc"].isna(), "subject"].tolist()
    if one_class:
        warnings.warn(
            f"test windows of {one_class} hold one class only: their AUROC is undefined (recordings too "
            "short for a chronological split with interictal time after a later seizure)",
            UserWarning,
            stacklevel=2,
        )
    predictions_df = pd.concat(predictions, ignore_index=True)
    pooled = _labeled_metrics(predictions_df["label"].to_numpy(), predictions_df["risk"].to_numpy())
    threshold_df = pd.DataFrame(thresholds)
    metrics: dict[str, Any] = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": model,
        "mode": mode,
        "config_hash": config_hash(cfg),
        "args_hash": args_hash,
        "seed": cfg.seed,
        "dataset": cfg.data.data_root or f"synthetic:{cfg.data.preset}",
        "n_subjects": int(meta["subject"].nunique()),
        "n_models": len(splits),
        "n_windows": int((meta["label"] >= 0).sum()),
        "n_preictal": int((meta["label"] == 1).sum()),
        "n_interictal": int((meta["label"] == 0).sum()),
        "n_test": int((predictions_df["label"] >= 0).sum()),
        "n_test_pos": int((predictions_df["label"] == 1).sum()),
        "test_auroc_mean": _nanmean(per_subject_df["test_auroc"]),
        "test_auprc_mean": _nanmean(per_subject_df["test_auprc"]),
        "test_auroc_pooled": pooled["auroc"],
        "test_auprc_pooled": pooled["auprc"],
    }
    for target in cfg.alarms.fah_targets:
        sel = threshold_df[threshold_df["fah_target"] == target] if len(threshold_df) else threshold_df
        n_seizures = float(np.nansum(sel.get("test_n_seizures", pd.Series(dtype=float))))
        metrics[f"test_sensitivity@{target:g}"] = (
            float(np.nansum(sel["test_n_predicted"])) / n_seizures if n_seizures else float("nan")
        )
        metrics[f"test_fah@{target:g}"] = _nanmean(sel.get("test_fah", pd.Series(dtype=float)))
    metrics["run_dir"] = str(run_dir)
    write_csv(per_subject_df, run_dir / "per_subject.csv")
    write_csv(threshold_df, run_dir / "thresholds.csv")
    write_csv(predictions_df, run_dir / "predictions.csv")
    write_lead_seizures(run_dir, meta, config=cfg)
    write_manifest(run_dir, meta, config=cfg, extra={
        **run_identity,
        "status": "done",
        "data_root": meta.attrs["data_root"],
        "split": split_table.to_dict("records"),
        "thresholds": threshold_df.to_dict("records"),
        "threshold_tuning": f"validation tail ({valid_fraction:g} of each subject's training windows per class)",
        "checkpoints": checkpoints,
        "metrics": metrics,
        "per_subject": per_subject_df.to_dict("records"),
    })
    append_rows(out_dir / METRICS_TABLE, pd.DataFrame([metrics]))
    return DeepRunResult(run_dir=run_dir, metrics=metrics, per_subject=per_subject_df, predictions=predictions_df)


def run_deep_from_config(
    config: str | Path | None = None,
    *,
    preset: str | None = None,
    data_root: str | None = None,
    subjects: Sequence[str] | None = None,
    cache_dir: str | None = None,
    max_epochs: int | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    **kwargs: Any,
) -> DeepRunResult:
    """:func:`run_deep` on a YAML config (or the defaults) with command-line overrides.

    Parameters
    ----------
    config : str or Path, optional
        YAML run config (see :func:`sklearn_eeg.experiments.config.load_config`).
    preset, data_root, subjects, cache_dir, seed :
        Overrides of the ``data`` section and the seed (None keeps the config's value).
    max_epochs, lr, batch_size :
        Estimator overrides, merged into ``model.params``.
    **kwargs
        Passed to :func:`run_deep` (``model``, ``mode``, ``test_subject``, ``out_dir``...).

    Returns
    -------
    DeepRunResult
    """
    cfg = load_config(
        config, data__preset=preset, data__data_root=data_root, data__subjects=list(subjects) if subjects else None,
        data__cache_dir=cache_dir, seed=seed,
    )
    model = kwargs.setdefault("model", "cnn")
    return run_deep(with_deep_model(cfg, model, max_epochs=max_epochs, lr=lr, batch_size=batch_size), **kwargs)


def with_deep_model(cfg: RunConfig, model: str, **overrides: Any) -> RunConfig:
    """``cfg`` with ``model.name = model`` and estimator parameters for it.

    The config's ``model.params`` are kept when they were written for this model (its name matches)
    and dropped otherwise (a classical config's ``C`` means nothing to a CNN); ``overrides`` that are
    not None are merged over them.

    Parameters
    ----------
    cfg : RunConfig
    model : {"cnn", "fusion"}
    **overrides
        Estimator parameters (``max_epochs``, ``lr``, ``loss``...); None values are ignored.

    Returns
    -------
    RunConfig
    """
    params = dict(cfg.model.params) if cfg.model.name == model else {}
    params.update({k: v for k, v in overrides.items() if v is not None})
    return dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, name=model, params=params))
