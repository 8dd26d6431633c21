"""Honest benchmarks: leave-one-subject-out, patient-specific chronological, and one fixed split.

Every fold of every benchmark is evaluated by
:func:`sklearn_eeg.experiments.fold_evaluation.evaluate_fold` (the protocol is written there once):
fit on the training windows only, predict a risk for the validation and test windows, tune one
alarm threshold per false-alarm-rate target on the validation risk -- validation *subjects* for
LOSO, *earlier seizures* of the same subject for the patient-specific benchmark -- and apply it
unchanged to the test windows.

Each fold writes its result atomically (temporary file + ``os.replace``) and then a completion
marker into ``out_dir/folds/<run key>/``. A rerun skips finished folds whose run key (data
fingerprint, estimator, splits, alarm parameters, seed) matches, so a resumed run gives exactly the
result of an uninterrupted one. Folds run in parallel with joblib; with ``scheduler="tcp://..."``
they run on a Dask ``distributed`` cluster (whose workers must share ``out_dir``'s filesystem).

Helpers live in their own modules and their public names are re-exported here: the fold store in
:mod:`~sklearn_eeg.experiments.fold_store`, run folders and manifests in
:mod:`~sklearn_eeg.experiments.run_outputs`, summaries in :mod:`~sklearn_eeg.evaluation.benchmark_summary`
and a config's data in :mod:`~sklearn_eeg.experiments.run_data`.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from sklearn_eeg.atomic_files import atomic_write, atomic_write_text, check_output_dir
from sklearn_eeg.evaluation.benchmark_summary import format_summary, summarize_results
from sklearn_eeg.experiments.config import RunConfig, config_hash
from sklearn_eeg.experiments.fold_evaluation import FoldSplit, check_window_inputs, evaluate_fold
from sklearn_eeg.experiments.fold_store import FoldStore, fingerprint
from sklearn_eeg.evaluation.metrics import confusion_at_threshold
from sklearn_eeg.evaluation.model_selection import (
    ChronologicalSeizureSplit,
    assert_chronological,
    assert_disjoint_subjects,
    clip_n_val_subjects,
    loso_splits,
)
from sklearn_eeg.reporting.predictions import write_predictions
from sklearn_eeg.models import registry as models
from sklearn_eeg.evaluation.alarms import AlarmPolicy
from sklearn_eeg.models.registry import FEATURE_MATRIX_MODELS, as_estimator
from sklearn_eeg.experiments.parallel import parallel_backend, worker_count
from sklearn_eeg.experiments.run_data import compute_features, load_dataset
from sklearn_eeg.experiments.run_outputs import (
    append_rows,
    dataset_counts,
    new_run_dir,
    training_history,
    write_csv,
    write_manifest,
    write_outputs,
)

__all__ = [
    "FoldStore",
    "compute_features",
    "dataset_counts",
    "format_summary",
    "load_dataset",
    "loso_from_config",
    "new_run_dir",
    "run_loso",
    "run_split",
    "run_within_subject",
    "summarize_results",
    "train_baseline_from_config",
    "training_history",
    "within_subject_from_config",
    "write_manifest",
]

FAH_TARGETS = (0.1, 0.2, 0.5, 1.0)


# --------------------------------------------------------------------------- parallel folds


def _run_parallel(tasks: list, n_jobs: int, scheduler: str | None, desc: str, progress: bool) -> None:
    if not tasks:
        return
    with parallel_backend(scheduler):
        runner = joblib.Parallel(n_jobs=worker_count(n_jobs, scheduler), return_as="generator")
        for _ in tqdm(runner(tasks), total=len(tasks), desc=desc, unit="fold", disable=not progress):
            pass


# --------------------------------------------------------------------------- one split


def run_split(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    meta: pd.DataFrame,
    *,
    model,
    train_subjects: Sequence[str],
    val_subjects: Sequence[str],
    test_subjects: Sequence[str],
    fah_targets: Sequence[float] = FAH_TARGETS,
    policy: AlarmPolicy | None = None,
    random_state: int | None = 0,
) -> dict:
    """Fit on training subjects, tune thresholds on validation subjects, evaluate on test subjects.

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_features) or (n_windows, n_channels, n_times)
        Precomputed features or raw windows.
    y : ndarray of shape (n_windows,)
        Window labels (``meta["label"]``).
    groups : ndarray of shape (n_windows,)
        Subject of every window.
    meta : DataFrame
        Window table.
    model : str or estimator
        Model name (see :func:`sklearn_eeg.models.registry.make_model`) or an unfitted classifier with ``predict_proba``.
    train_subjects, val_subjects, test_subjects : sequence of str
        Disjoint subject lists.
    fah_targets : sequence of float
        False alarms per hour targets for threshold tuning.
    policy : AlarmPolicy, optional
        The alarm rule (default :class:`~sklearn_eeg.evaluation.alarms.AlarmPolicy` ()).
    random_state : int or None
        Seed of the model built from a name.

    Returns
    -------
    result : dict
        ``results`` (DataFrame, one row per FAH target), ``confusion`` (window-level confusion
        counts on test at each tuned threshold), ``model`` (fitted), ``test_risk``, ``test_index``.
    """
    y, groups, meta = check_window_inputs(X, y, groups, meta)
    sets = {}
    for name, subjects in (("train", train_subjects), ("val", val_subjects), ("test", test_subjects)):
        unknown = sorted(set(subjects) - set(groups))
        if unknown or not subjects:
            raise ValueError(f"{name} subjects {list(subjects)} not found in the data (unknown: {unknown})")
        sets[name] = np.flatnonzero(np.isin(groups, list(subjects)))
    assert_disjoint_subjects(groups, sets["train"], sets["val"], sets["test"])
    info = {
        "test_subject": ";".join(test_subjects),
        "val_subjects": ";".join(val_subjects),
        "train_subjects": ";".join(train_subjects),
        "n_pos_train": int((y[sets["train"]] == 1).sum()),
        "n_neg_train": int((y[sets["train"]] == 0).sum()),
    }
    fold = evaluate_fold(
        as_estimator(model, X, random_state), X, y, meta, FoldSplit(sets["train"], sets["val"], sets["test"], info),
        fah_targets=fah_targets, policy=policy, groups=groups,
    )
    rows, fitted, test_risk = fold.rows, fold.model, fold.test_risk
    results = pd.DataFrame(rows)
    labeled = y[sets["test"]] >= 0
    confusion = {
        float(r["fah_target"]): confusion_at_threshold(
            y[sets["test"]][labeled], test_risk[labeled], float(r["threshold"])
        )
        for r in rows
    }
    return {
        "results": results,
        "confusion": confusion,
        "model": fitted,
        "test_risk": test_risk,
        "test_index": sets["test"],
    }


# --------------------------------------------------------------------------- LOSO


def _loso_fold(store, name, estimator, X, y, meta, train, val, test, fold, fah_targets, policy) -> str:
    groups = meta["subject"].to_numpy().astype(str)
    assert_disjoint_subjects(groups, train, val, test)
    info = {
        "fold": fold,
        "test_subject": str(groups[test][0]),
        "val_subjects": ";".join(np.unique(groups[val])),
        "n_train_subjects": len(np.unique(groups[train])),
        "n_pos_train": int((y[train] == 1).sum()),
        "n_neg_train": int((y[train] == 0).sum()),
    }
    result = evaluate_fold(estimator, X, y, meta, FoldSplit(train, val, test, info), fah_targets=fah_targets,
                           policy=policy, groups=groups)
    store.save(name, {"rows": result.rows, "model": result.model, "test_index": test, "test_risk": result.test_risk})
    return name


def run_loso(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    meta: pd.DataFrame,
    *,
    model="logreg",
    n_val_subjects: int = 1,
    test_subjects: Sequence[str] | None = None,
    fah_targets: Sequence[float] = FAH_TARGETS,
    policy: AlarmPolicy | None = None,
    out_dir: str | Path = "reports",
    n_jobs: int = 1,
    force: bool = False,
    scheduler: str | None = None,
    random_state: int | None = 0,
    config: RunConfig | None = None,
    model_name: str | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Leave-one-subject-out benchmark with rotating validation subjects and resumable folds.

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_features) or (n_windows, n_channels, n_times)
        Precomputed features (see :func:`compute_features`) or raw windows.
    y : ndarray of shape (n_windows,)
        Window labels, equal to ``meta["label"]``.
    groups : ndarray of shape (n_windows,)
        Subject of every window, equal to ``meta["subject"]``.
    meta : DataFrame
        Window table.
    model : str or estimator, default="logreg"
        Model name (see :func:`sklearn_eeg.models.registry.make_model`) or an unfitted classifier with ``predict_proba``;
        cloned for every fold.
    n_val_subjects : int, default=1
        Validation subjects per fold (threshold tuning only; never used for fitting). More than
        the number of subjects minus 2 is lowered to it with a warning (see
        :func:`~sklearn_eeg.evaluation.model_selection.clip_n_val_subjects`); fewer than 3 subjects raise.
    test_subjects : sequence of str, optional
        Run only the folds testing these subjects (the folds themselves, and so the results, do not
        depend on this choice).
    fah_targets : sequence of float, default=(0.1, 0.2, 0.5, 1.0)
        False alarms per hour targets.
    policy : AlarmPolicy, optional
        The alarm rule of validation and test (default :class:`~sklearn_eeg.evaluation.alarms.AlarmPolicy` ()).
    out_dir : str or Path, default="reports"
        Root of the outputs: ``folds/`` (fold results and markers), ``tables/loso_results.csv``
        and ``tables/loso_summary.csv``, and the run folder ``runs/<timestamp>_loso_<model>/``
        (``manifest.json``, the tables, ``predictions.csv`` with every test window's risk and labels, and
        ``models/fold_<subject>.joblib``).
    n_jobs : int, default=1
        Folds run in parallel (joblib); ignored with ``scheduler`` (all cluster workers).
    force : bool, default=False
        Recompute finished folds.
    scheduler : str, optional
        Address of a Dask scheduler (``"tcp://host:8786"``).
    random_state : int or None, default=0
        Seeds the validation rotation and the models built from a name.
    config : RunConfig, optional
        Recorded in the run manifest.
    model_name : str, optional
        Name used in output paths; default: ``model`` if it is a name, else the final
        estimator's class name.
    progress : bool, default=True
        Show progress bars.

    Returns
    -------
    results : DataFrame
        One row per fold and FAH target (``fold``, ``test_subject``, ``val_subjects``, ``auroc``,
        ``auprc``, ``threshold``, ``sensitivity``, ``fah``, ``warning_time_mean``,
        ``time_in_warning``, ``chance_p``, ``ioc``, ``p_value``, window counts per split...).
    """
    y, groups, meta = check_window_inputs(X, y, groups, meta)
    check_output_dir(out_dir)
    estimator = as_estimator(model, X, random_state)
    name = model_name or models.model_name(model)
    if n_val_subjects < 1:
        raise ValueError(
            f"n_val_subjects={n_val_subjects}: alarm thresholds are tuned on validation subjects only, "
            "never on training or test; use at least 1"
        )
    n_val_subjects = clip_n_val_subjects(len(np.unique(groups)), n_val_subjects)
    folds = list(loso_splits(groups, n_val_subjects=n_val_subjects, random_state=random_state))
    names = [f"fold_{groups[test][0]}" for _, _, test in folds]
    if test_subjects is not None:
        unknown = sorted(set(test_subjects) - set(groups))
        if unknown:
            raise ValueError(f"test subjects not in the data: {unknown}")
    selected = [i for i, (*_, test) in enumerate(folds) if test_subjects is None or groups[test][0] in test_subjects]
    policy = AlarmPolicy() if policy is None else policy
    key = fingerprint(
        X, y, meta, estimator, n_val_subjects, tuple(fah_targets), sorted(policy.to_dict().items()), random_state
    )
    store = FoldStore(Path(out_dir) / "folds" / f"loso_{name}_{key}", key)
    tasks = [
        joblib.delayed(_loso_fold)(store, names[i], estimator, X, y, meta, *folds[i], i, fah_targets, policy)
        for i in selected
        if force or not store.is_done(names[i])
    ]
    if progress:
        print(f"LOSO: {len(selected)} folds, {len(selected) - len(tasks)} already done, fold store {store.directory}")
    _run_parallel(tasks, n_jobs, scheduler, "LOSO folds", progress)
    fold_results = {names[i]: store.load(names[i]) for i in selected}
    results = pd.DataFrame([row for r in fold_results.values() for row in r["rows"]])
    results = results.sort_values(["fold", "fah_target"], ignore_index=True)
    summary = summarize_results(results)
    run_dir = write_outputs(
        out_dir,
        "loso",
        name,
        results,
        summary,
        fold_results,
        meta,
        config=config,
        extra={"run_key": key, "n_val_subjects": n_val_subjects, "random_state": random_state},
    )
    columns = ["subject", "recording", "t_abs", "label", "tte", "state", "seizure_id", "lead_seizure"]
    predictions = [
        meta.iloc[r["test_index"]].reindex(columns=columns).assign(risk=r["test_risk"], fold=r["rows"][0]["fold"])
        for r in fold_results.values()
        if r["rows"]
    ]
    write_predictions(pd.concat(predictions, ignore_index=True), run_dir / "predictions.csv")
    results.attrs["run_dir"] = str(run_dir)
    return results


# --------------------------------------------------------------------------- patient-specific


def _within_subject(store, subject, estimator, X, y, meta, splitter, threshold_on, fah_targets, policy) -> str:
    index = np.flatnonzero(meta["subject"].to_numpy().astype(str) == subject)
    sub_meta = meta.iloc[index].reset_index(drop=True)
    t_abs = sub_meta["t_abs"].to_numpy(dtype=float)
    previous = None  # (risk, meta, positions) of the previous test block, out of sample
    rows, models = [], []
    for k, (train, test) in enumerate(splitter.split(sub_meta)):
        assert_chronological(t_abs, train, test)
        y_train = y[index[train]]
        if not {0, 1} <= set(np.unique(y_train)):  # the training set lacks a class: nothing to fit yet
            previous = None
            continue
        info = {
            "fold": k,
            "test_subject": subject,
            "n_train_seizures": int(sub_meta["seizure_id"].iloc[train][y_train == 1].nunique()),
            "n_pos_train": int((y_train == 1).sum()),
            "n_neg_train": int((y_train == 0).sum()),
        }
        in_sample = threshold_on == "train"  # tune on the fold's own training risk, else on the previous block's
        if not in_sample and previous is not None:
            assert_chronological(t_abs, previous[2], test)
        result = evaluate_fold(
            estimator, X, y, meta, FoldSplit(index[train], index[train] if in_sample else index[:0], index[test], info),
            fah_targets=fah_targets if in_sample or previous is not None else (), policy=policy,
            validation=None if in_sample or previous is None else previous[:2],
        )
        models.append(result.model)
        rows += result.rows
        previous = (result.test_risk, sub_meta.iloc[test], test)
    store.save(f"subject_{subject}", {"rows": rows, "models": models})
    return subject


def run_within_subject(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    meta: pd.DataFrame,
    *,
    model="logreg",
    subjects: Sequence[str] | None = None,
    min_train_seizures: int = 1,
    threshold_on: str = "previous",
    fah_targets: Sequence[float] = FAH_TARGETS,
    policy: AlarmPolicy | None = None,
    out_dir: str | Path = "reports",
    n_jobs: int = 1,
    force: bool = False,
    scheduler: str | None = None,
    random_state: int | None = 0,
    config: RunConfig | None = None,
    model_name: str | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Patient-specific chronological benchmark (:class:`ChronologicalSeizureSplit` per subject).

    Fold ``k`` of a subject trains on all windows before test block ``k``. Its thresholds are tuned
    on earlier data only, chosen by ``threshold_on``:

    ``"previous"`` (default)
        the out-of-sample risk of block ``k - 1``, predicted by fold ``k - 1``'s model (trained on
        even earlier data). Unbiased; the first fold of each subject only provides that validation
        risk and yields no row, so a subject needs ``min_train_seizures + 2`` lead seizures.
    ``"train"``
        the in-sample risk of fold ``k``'s own training windows. Every fold yields a row (useful
        for subjects with few seizures), but in-sample interictal risk is optimistic, so test FAH
        tends to exceed its target. Still never touches the test block.

    Parameters are those of :func:`run_loso`, with ``subjects`` (default all),
    ``min_train_seizures`` (lead seizures in the first training set) and ``threshold_on``.
    Outputs go to ``out_dir/tables/within_subject_results.csv`` and ``within_subject_summary.csv``.

    Returns
    -------
    results : DataFrame
        One row per evaluated fold and FAH target.
    """
    y, groups, meta = check_window_inputs(X, y, groups, meta)
    check_output_dir(out_dir)
    estimator = as_estimator(model, X, random_state)
    name = model_name or models.model_name(model)
    subjects = sorted(set(groups)) if subjects is None else list(subjects)
    unknown = sorted(set(subjects) - set(groups))
    if unknown:
        raise ValueError(f"subjects not in the data: {unknown}")
    if threshold_on not in ("previous", "train"):
        raise ValueError(f"threshold_on must be 'previous' or 'train'; got {threshold_on!r}")
    splitter = ChronologicalSeizureSplit(min_train_seizures=min_train_seizures)
    policy = AlarmPolicy() if policy is None else policy
    key = fingerprint(
        X,
        y,
        meta,
        estimator,
        min_train_seizures,
        threshold_on,
        tuple(fah_targets),
        sorted(policy.to_dict().items()),
        random_state,
    )
    store = FoldStore(Path(out_dir) / "folds" / f"within_{name}_{key}", key)
    tasks = [
        joblib.delayed(_within_subject)(
            store, s, estimator, X, y, meta, splitter, threshold_on, fah_targets, policy
        )
        for s in subjects
        if force or not store.is_done(f"subject_{s}")
    ]
    _run_parallel(tasks, n_jobs, scheduler, "subjects", progress)
    subject_results = {f"subject_{s}": store.load(f"subject_{s}") for s in subjects}
    results = pd.DataFrame([row for r in subject_results.values() for row in r["rows"]])
    if results.empty:
        needed = min_train_seizures + (2 if threshold_on == "previous" else 1)
        warnings.warn(
            f"no patient-specific fold could be evaluated: with min_train_seizures={min_train_seizures} and "
            f"threshold_on={threshold_on!r} a subject needs at least {needed} lead seizures (with both classes "
            "before each test block); with fewer seizures per subject use threshold_on='train'",
            UserWarning,
            stacklevel=2,
        )
    else:
        results = results.sort_values(["test_subject", "fold", "fah_target"], ignore_index=True)
    summary = summarize_results(results)
    write_outputs(
        out_dir,
        "within_subject",
        name,
        results,
        summary,
        subject_results,
        meta,
        config=config,
        extra={
            "run_key": key,
            "min_train_seizures": min_train_seizures,
            "threshold_on": threshold_on,
            "random_state": random_state,
        },
    )
    return results


# --------------------------------------------------------------------------- config-driven entry points


def loso_from_config(
    cfg: RunConfig, *, force: bool = False, scheduler: str | None = None, progress: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load the configured dataset and run :func:`run_loso`; returns ``(results, summary)``.

    ``results.attrs["run_dir"]`` names the run folder and ``results.attrs["data_root"]`` the dataset.
    """
    model = cfg.estimator()  # fails fast on an unknown or unavailable model
    check_output_dir(cfg.output_dir)  # ... and on an output folder it cannot write, before any work
    X, y, groups, meta = load_dataset(
        cfg, features=cfg.model.name in FEATURE_MATRIX_MODELS, scheduler=scheduler, progress=progress
    )
    results = run_loso(
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
        force=force,
        scheduler=scheduler,
        random_state=cfg.seed,
        config=cfg,
        model_name=cfg.model.name,
        progress=progress,
    )
    results.attrs["data_root"] = meta.attrs["data_root"]
    return results, summarize_results(results)


def within_subject_from_config(
    cfg: RunConfig,
    *,
    threshold_on: str = "previous",
    force: bool = False,
    scheduler: str | None = None,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load the configured dataset and run :func:`run_within_subject`; returns ``(results, summary)``."""
    model = cfg.estimator()  # fails fast on an unknown or unavailable model
    check_output_dir(cfg.output_dir)  # ... and on an output folder it cannot write, before any work
    X, y, groups, meta = load_dataset(
        cfg, features=cfg.model.name in FEATURE_MATRIX_MODELS, scheduler=scheduler, progress=progress
    )
    results = run_within_subject(
        X,
        y,
        groups,
        meta,
        model=model,
        min_train_seizures=cfg.split.min_train_seizures,
        threshold_on=threshold_on,
        fah_targets=cfg.alarms.fah_targets,
        policy=cfg.alarm_policy(),
        out_dir=cfg.output_dir,
        n_jobs=cfg.n_jobs,
        force=force,
        scheduler=scheduler,
        random_state=cfg.seed,
        config=cfg,
        model_name=cfg.model.name,
        progress=progress,
    )
    return results, summarize_results(results)


def train_baseline_from_config(cfg: RunConfig, *, progress: bool = True) -> tuple[Path, pd.DataFrame]:
    """Fit on ``cfg.split.train_subjects``, tune on ``val_subjects``, evaluate on ``test_subjects``.

    Writes a run folder ``<output_dir>/runs/<timestamp>_train_<model>/`` (``manifest.json``,
    ``metrics.json`` with window metrics and confusion matrices, ``results.csv``, ``model.joblib``)
    and appends one row per FAH target to ``<output_dir>/tables/metrics.csv``.

    Returns
    -------
    run_dir : Path
    results : DataFrame
        One row per FAH target.
    """
    split = cfg.split
    if not (split.train_subjects and split.val_subjects and split.test_subjects):
        raise ValueError("train_baseline needs split.train_subjects, split.val_subjects and split.test_subjects")
    if cfg.data.subjects is None:
        cfg = dataclasses.replace(
            cfg,
            data=dataclasses.replace(
                cfg.data, subjects=[*split.train_subjects, *split.val_subjects, *split.test_subjects]
            ),
        )
    model = cfg.estimator()
    check_output_dir(cfg.output_dir)
    X, y, groups, meta = load_dataset(cfg, features=cfg.model.name in FEATURE_MATRIX_MODELS, progress=progress)
    out = run_split(
        X,
        y,
        groups,
        meta,
        model=model,
        train_subjects=split.train_subjects,
        val_subjects=split.val_subjects,
        test_subjects=split.test_subjects,
        fah_targets=cfg.alarms.fah_targets,
        policy=cfg.alarm_policy(),
        random_state=cfg.seed,
    )
    results = out["results"]
    run_dir = new_run_dir(cfg.output_dir, "train", cfg.model.name)
    write_manifest(run_dir, meta, config=cfg, extra={"kind": "train", "model": cfg.model.name})
    metrics = {
        "test_window": {k: results.iloc[0][k] for k in ("auroc", "auprc", "brier", "n_pos_test", "n_neg_test")},
        "val_window": {k: results.iloc[0][k] for k in ("val_auroc", "val_auprc", "n_pos_val", "n_neg_val")},
        "confusion_at_tuned_threshold": {str(t): c for t, c in out["confusion"].items()},
    }
    atomic_write_text(run_dir / "metrics.json", json.dumps(metrics, indent=2, default=float))
    write_csv(results, run_dir / "results.csv")
    atomic_write(run_dir / "model.joblib", lambda tmp: joblib.dump(out["model"], tmp))
    counts = dataset_counts(meta)
    row = results.assign(
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        run_dir=str(run_dir),
        config_hash=config_hash(cfg),
        seed=cfg.seed,
        model=cfg.model.name,
        n_windows=counts["n_windows"],
        n_preictal=counts["n_preictal"],
        n_interictal=counts["n_interictal"],
    )
    append_rows(Path(cfg.output_dir) / "tables" / "metrics.csv", row)
    return run_dir, results
