"""Ablations: alarm post-processing and risk calibration (classical LOSO), loss function (deep).

The two classical ablations reuse one set of fitted LOSO folds. :func:`fit_loso_folds` fits
every fold **once** (training subjects' labeled windows only, as in
:func:`sklearn_eeg.experiments.benchmark.run_loso`) and keeps the validation and test risk of every window of
the full timeline (excluded windows included). Then

* :func:`alarm_ablation` evaluates the alarm settings of :data:`ALARM_SETTINGS` (no
  post-processing, EMA smoothing, persistence, both): for each setting and FAH target one
  threshold is tuned on the validation subjects' risk *with that setting* and applied unchanged
  to the test subject;
* :func:`calibration_comparison` compares the raw risk with a sigmoid (Platt) calibration fitted
  on the validation subjects' labeled windows only (a logistic regression on the logit of the
  risk) and applied to the test subject: test Brier score, expected calibration error and the
  alarm operating points, with thresholds tuned on the (calibrated) validation risk.

A monotone increasing calibration leaves the test AUROC unchanged; it can still move the alarm
operating points, because candidate thresholds are interpolated risk quantiles and smoothing is
not invariant under a nonlinear rescaling of the risk.

:func:`run_ablations` runs both and writes ``<out_dir>/tables/alarm_ablation.csv``,
``alarm_ablation_summary.csv``, ``calibration_comparison.csv``, ``calibration_summary.csv`` and
``calibration_reliability.csv``.

:func:`loss_comparison` trains the same deep model (:func:`sklearn_eeg.experiments.deep_training.run_deep`:
same data, split, seed and hyper-parameters) once per loss -- BCE with ``pos_weight`` vs focal
loss -- and compares the test metrics per subject: mean ± std per loss
(``loss_comparison_summary.csv``) and the paired per-subject differences to the first loss
(``loss_comparison_paired.csv``, :func:`paired_loss_differences`).

:func:`multiphase_comparison` fits the LOSO folds once per phase sequence of a
:class:`~sklearn_eeg.models.multiphase.MultiPhaseCNNClassifier` -- supervised only, pretrain → fine-tune,
pretrain → contrastive → fine-tune (:data:`~sklearn_eeg.models.multiphase.VARIANTS`) -- on the same
folds, seed and alarm rule, and scores each with thresholds tuned on the validation subjects
(``multiphase_comparison.csv``, ``multiphase_comparison_summary.csv``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from scipy.stats import wilcoxon
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from tqdm.auto import tqdm

from sklearn_eeg.evaluation.alarms import AlarmPolicy
from sklearn_eeg.experiments.benchmark import FAH_TARGETS
from sklearn_eeg.experiments.run_outputs import write_csv
from sklearn_eeg.experiments.fold_evaluation import FoldSplit, check_window_inputs, evaluate_fold
from sklearn_eeg.models.registry import as_estimator
from sklearn_eeg.evaluation.benchmark_summary import summarize_results
from sklearn_eeg.experiments.config import RunConfig
from sklearn_eeg.evaluation.metrics import reliability_curve, window_metrics
from sklearn_eeg.evaluation.model_selection import assert_disjoint_subjects, clip_n_val_subjects, loso_splits
from sklearn_eeg.evaluation.scoring import tune_threshold

__all__ = [
    "ALARM_SETTINGS",
    "LOSSES",
    "FoldRisk",
    "alarm_ablation",
    "calibration_comparison",
    "expected_calibration_error",
    "fit_loso_folds",
    "fit_sigmoid_calibrator",
    "loss_comparison",
    "multiphase_comparison",
    "paired_loss_differences",
    "run_ablations",
    "summarize_ablation",
]

#: Alarm post-processing settings compared by :func:`alarm_ablation`: changes to the run's
#: :class:`~sklearn_eeg.evaluation.alarms.AlarmPolicy` (its other fields, such as ``sop`` and ``sph``, are shared).
ALARM_SETTINGS: dict[str, dict] = {
    "none": {"smoothing": None, "persistence": 1},
    "smoothing": {"smoothing": "ema", "alpha": 0.3, "persistence": 1},
    "persistence": {"smoothing": None, "persistence": 3},
    "all": {"smoothing": "ema", "alpha": 0.3, "persistence": 3},
}

#: Losses compared by :func:`loss_comparison` (the first is the reference of the paired differences).
LOSSES: tuple[str, ...] = ("bce", "focal")

_FOLD_COLUMNS = ("fold", "test_subject", "val_subjects")
_OPERATING_COLUMNS = (
    "threshold",
    "val_fah",
    "val_sensitivity",
    "sensitivity",
    "fah",
    "n_predicted",
    "n_seizures",
    "warning_time_mean",
    "time_in_warning",
    "n_not_scorable",
    "chance_p",
    "ioc",
    "p_value",
    "surrogate_chance",
    "p_surrogate",
    "surrogate_hist",
)


@dataclasses.dataclass
class FoldRisk:
    """Out-of-sample risk of one fitted LOSO fold.

    Attributes
    ----------
    fold : int
        Fold number (position in :func:`sklearn_eeg.evaluation.model_selection.loso_splits`).
    test_subject : str
    val_subjects : list of str
    val_index, test_index : ndarray of int
        Rows of the window table (full timeline, excluded windows included).
    val_risk, test_risk : ndarray of float
        Preictal risk of those rows, from the model fitted on the training subjects only.
    """

    fold: int
    test_subject: str
    val_subjects: list[str]
    val_index: np.ndarray
    test_index: np.ndarray
    val_risk: np.ndarray
    test_risk: np.ndarray

    def info(self) -> dict:
        return {"fold": self.fold, "test_subject": self.test_subject, "val_subjects": ";".join(self.val_subjects)}


def _fit_fold(estimator, X, y, meta, groups, train, val, test, fold) -> FoldRisk:
    assert_disjoint_subjects(groups, train, val, test)
    # fit and predict (scored later); an estimator whose fit takes groups gets them, as in run_loso
    result = evaluate_fold(estimator, X, y, meta, FoldSplit(train, val, test), groups=groups)
    val_risk, test_risk = result.val_risk, result.test_risk
    return FoldRisk(
        fold=fold,
        test_subject=str(groups[test][0]),
        val_subjects=sorted(map(str, np.unique(groups[val]))),
        val_index=np.asarray(val),
        test_index=np.asarray(test),
        val_risk=np.asarray(val_risk, dtype=float),
        test_risk=np.asarray(test_risk, dtype=float),
    )


def fit_loso_folds(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    meta: pd.DataFrame,
    *,
    model="logreg",
    n_val_subjects: int = 1,
    test_subjects: Sequence[str] | None = None,
    n_jobs: int = 1,
    random_state: int | None = 0,
    progress: bool = False,
) -> list[FoldRisk]:
    """Fit every LOSO fold once and keep its validation and test risk.

    The folds are those of :func:`sklearn_eeg.experiments.benchmark.run_loso` (same splitter and seed): the
    model is fitted on the training subjects' labeled windows (an estimator whose ``fit`` takes
    ``groups`` gets their subjects, as in ``run_loso``); the validation and test subjects get a risk
    for every window of their timeline.

    Parameters
    ----------
    X : ndarray of shape (n_windows, n_features) or (n_windows, n_channels, n_times)
        Features (or raw windows), one row per row of ``meta``.
    y : ndarray of shape (n_windows,)
        ``meta["label"]``: 1 preictal, 0 interictal, -1 excluded (never trains).
    groups : ndarray of shape (n_windows,)
        ``meta["subject"]``.
    meta : DataFrame
        Full-timeline window table.
    model : str or estimator, default="logreg"
        Model name (:func:`sklearn_eeg.models.registry.make_model`) or an unfitted classifier with
        ``predict_proba``; cloned for every fold.
    n_val_subjects : int, default=1
        Rotating validation subjects per fold.
    test_subjects : sequence of str, optional
        Fit only the folds testing these subjects (the folds themselves do not change).
    n_jobs : int, default=1
        Folds fitted in parallel (joblib).
    random_state : int or None, default=0
        Seeds the validation rotation and a model built from a name.
    progress : bool, default=False
        Show a progress bar.

    Returns
    -------
    folds : list of FoldRisk
        In fold order.
    """
    y, groups, meta = check_window_inputs(X, y, groups, meta)
    model = as_estimator(model, X, random_state)
    n_val_subjects = clip_n_val_subjects(len(np.unique(groups)), n_val_subjects)  # a 3-subject dataset keeps 1
    splits = list(loso_splits(groups, n_val_subjects=n_val_subjects, random_state=random_state))
    if test_subjects is not None:
        unknown = sorted(set(test_subjects) - set(groups))
        if unknown:
            raise ValueError(f"test subjects not in the data: {unknown}")
    tasks = [
        joblib.delayed(_fit_fold)(model, X, y, meta, groups, train, val, test, i)
        for i, (train, val, test) in enumerate(splits)
        if test_subjects is None or groups[test][0] in test_subjects
    ]
    runner = joblib.Parallel(n_jobs=n_jobs, return_as="generator")
    return list(tqdm(runner(tasks), total=len(tasks), desc="LOSO folds", unit="fold", disable=not progress))


def _window_scores(y: np.ndarray, risk: np.ndarray) -> dict:
    labeled = y >= 0
    w = window_metrics(y[labeled], risk[labeled])
    return {"auroc": w["auroc"], "auprc": w["auprc"], "brier": w["brier"]}


def _operating_points(
    fold: FoldRisk, val_risk, test_risk, meta: pd.DataFrame, fah_targets, policy: AlarmPolicy
) -> list[dict]:
    tuned = tune_threshold(
        val_risk,
        meta.iloc[fold.val_index].reset_index(drop=True),
        tuple(fah_targets),
        test_risk=test_risk,
        test_meta=meta.iloc[fold.test_index].reset_index(drop=True),
        policy=policy,
    )
    tuned.columns = [c.removeprefix("test_") for c in tuned.columns]
    return tuned[["fah_target", *_OPERATING_COLUMNS]].to_dict("records")


def alarm_ablation(
    folds: Sequence[FoldRisk],
    meta: pd.DataFrame,
    *,
    settings: Mapping[str, dict] | None = None,
    fah_targets: Sequence[float] = FAH_TARGETS,
    policy: AlarmPolicy | None = None,
) -> pd.DataFrame:
    """Alarm post-processing settings on the same fitted folds.

    For each fold, setting and FAH target, the threshold is tuned on the validation risk with that
    setting's post-processing and applied unchanged to the test risk (same post-processing).

    Parameters
    ----------
    folds : sequence of FoldRisk
        From :func:`fit_loso_folds`.
    meta : DataFrame
        The full-timeline window table the folds index.
    settings : mapping of str to dict, optional
        Setting name to the policy fields it changes (``smoothing``, ``alpha``, ``n``,
        ``persistence``...); default :data:`ALARM_SETTINGS`.
    fah_targets : sequence of float, default=(0.1, 0.2, 0.5, 1.0)
    policy : AlarmPolicy, optional
        The policy the settings change (default :class:`~sklearn_eeg.evaluation.alarms.AlarmPolicy` ()); its
        other fields (``sop``, ``sph``, ``refractory``...) are shared by all settings.

    Returns
    -------
    results : DataFrame
        One row per fold x setting x target: ``setting``, ``fah_target``, ``fold``,
        ``test_subject``, ``val_subjects``, ``threshold``, ``val_fah``, ``val_sensitivity``,
        ``sensitivity``, ``fah``, ``n_predicted``, ``n_seizures``, ``warning_time_mean``,
        ``time_in_warning``, ``chance_p``, ``ioc``, ``p_value``, and the test window metrics
        ``auroc``, ``auprc`` (the same for every setting of a fold).
    """
    settings = dict(ALARM_SETTINGS if settings is None else settings)
    policy = AlarmPolicy() if policy is None else policy
    labels = meta["label"].to_numpy()
    rows = []
    for fold in folds:
        window = _window_scores(labels[fold.test_index], fold.test_risk)
        auc = {"auroc": window["auroc"], "auprc": window["auprc"]}
        for name, changes in settings.items():
            setting = policy.replace(**changes)
            for point in _operating_points(fold, fold.val_risk, fold.test_risk, meta, fah_targets, setting):
                rows.append({"setting": name, **point, **fold.info(), **auc})
    columns = ["setting", "fah_target", *_FOLD_COLUMNS, *_OPERATING_COLUMNS, "auroc", "auprc"]
    return pd.DataFrame(rows, columns=columns)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p)).reshape(-1, 1)


def fit_sigmoid_calibrator(risk: np.ndarray, y: np.ndarray) -> LogisticRegression:
    """Platt scaling: an unpenalised logistic regression on the logit of the risk.

    Parameters
    ----------
    risk : array-like of shape (n_windows,)
        Risk of labeled windows (validation subjects only, never the test subject).
    y : array-like of shape (n_windows,)
        Their labels, 0 or 1.

    Returns
    -------
    calibrator : LogisticRegression
        ``calibrator.predict_proba(logit(risk))[:, 1]`` is the calibrated risk; increasing in the
        risk when ``coef_ > 0``.
    """
    y = np.asarray(y)
    if not np.isin(y, (0, 1)).all() or len(np.unique(y)) < 2:
        raise ValueError("the calibration windows must be labeled 0/1 and contain both classes")
    return LogisticRegression(C=np.inf).fit(_logit(risk), y)


def expected_calibration_error(y: np.ndarray, risk: np.ndarray, n_bins: int = 10) -> float:
    """ECE: bin-count-weighted mean of ``|mean risk - fraction positive|`` over equal-width bins.

    Parameters
    ----------
    y : array-like of shape (n_windows,)
        1 preictal, 0 interictal.
    risk : array-like of shape (n_windows,)
        Risk in [0, 1].
    n_bins : int, default=10
        Bins of :func:`sklearn_eeg.evaluation.metrics.reliability_curve`.

    Returns
    -------
    ece : float
        NaN for empty input.
    """
    table = reliability_curve(y, risk, n_bins=n_bins)
    filled = table[table["count"] > 0]
    if filled.empty:
        return np.nan
    gap = (filled["mean_risk"] - filled["frac_pos"]).abs()
    return float((gap * filled["count"]).sum() / filled["count"].sum())


def calibration_comparison(
    folds: Sequence[FoldRisk],
    meta: pd.DataFrame,
    *,
    fah_targets: Sequence[float] = FAH_TARGETS,
    policy: AlarmPolicy | None = None,
    n_bins: int = 10,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Uncalibrated risk vs sigmoid calibration fitted on the validation subjects only.

    Per fold, :func:`fit_sigmoid_calibrator` is fitted on the validation subjects' labeled windows
    and applied to every validation and test window. Thresholds are tuned on the validation risk
    of each method (raw or calibrated) and applied unchanged to the test risk of that method.

    Parameters
    ----------
    folds : sequence of FoldRisk
        From :func:`fit_loso_folds`.
    meta : DataFrame
        The full-timeline window table the folds index.
    fah_targets : sequence of float, default=(0.1, 0.2, 0.5, 1.0)
    policy : AlarmPolicy, optional
        The alarm rule of both methods (default :class:`~sklearn_eeg.evaluation.alarms.AlarmPolicy` ()).
    n_bins : int, default=10
        Equal-width bins for the ECE and the reliability table.

    Returns
    -------
    results : DataFrame
        One row per fold x method (``uncalibrated``, ``sigmoid``) x target: ``method``,
        ``fah_target``, fold columns, the test window metrics ``auroc``, ``auprc``, ``brier``,
        ``ece`` (labeled test windows), ``val_auroc`` (raw validation risk, labeled windows),
        ``calib_coef`` and ``calib_intercept`` of the fold's calibrator (NaN for
        ``uncalibrated``), and the operating point columns of :func:`alarm_ablation`. Platt
        scaling does not constrain the sign of ``calib_coef``: where the pooled validation risk
        is anti-informative (``calib_coef < 0``) the calibration reverses the ranking and the
        test AUROC becomes ``1 - AUROC``; it is unchanged wherever ``calib_coef > 0``.
    reliability : DataFrame
        ``method``, ``fold``, ``test_subject`` and the :func:`sklearn_eeg.evaluation.metrics.reliability_curve`
        columns of the labeled test windows.
    """
    policy = AlarmPolicy() if policy is None else policy
    labels = meta["label"].to_numpy()
    rows, curves = [], []
    for fold in folds:
        y_val, y_test = labels[fold.val_index], labels[fold.test_index]
        labeled_val, labeled_test = y_val >= 0, y_test >= 0
        calibrator = fit_sigmoid_calibrator(fold.val_risk[labeled_val], y_val[labeled_val])
        val_auroc = _window_scores(y_val, fold.val_risk)["auroc"]
        methods = {
            "uncalibrated": (fold.val_risk, fold.test_risk, np.nan, np.nan),
            "sigmoid": (
                calibrator.predict_proba(_logit(fold.val_risk))[:, 1],
                calibrator.predict_proba(_logit(fold.test_risk))[:, 1],
                float(calibrator.coef_[0, 0]),
                float(calibrator.intercept_[0]),
            ),
        }
        for method, (val_risk, test_risk, coef, intercept) in methods.items():
            window = _window_scores(y_test, test_risk)
            window["ece"] = expected_calibration_error(y_test[labeled_test], test_risk[labeled_test], n_bins)
            for point in _operating_points(fold, val_risk, test_risk, meta, fah_targets, policy):
                rows.append(
                    {
                        "method": method,
                        **point,
                        **fold.info(),
                        **window,
                        "val_auroc": val_auroc,
                        "calib_coef": coef,
                        "calib_intercept": intercept,
                    }
                )
            curve = reliability_curve(y_test[labeled_test], test_risk[labeled_test], n_bins=n_bins)
            curves.append(curve.assign(method=method, fold=fold.fold, test_subject=fold.test_subject))
    columns = [
        "method",
        "fah_target",
        *_FOLD_COLUMNS,
        "auroc",
        "auprc",
        "brier",
        "ece",
        "val_auroc",
        "calib_coef",
        "calib_intercept",
        *_OPERATING_COLUMNS,
    ]
    reliability = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    if not reliability.empty:
        first = ["method", "fold", "test_subject"]
        reliability = reliability[first + [c for c in reliability.columns if c not in first]]
    return pd.DataFrame(rows, columns=columns), reliability


def summarize_ablation(results: pd.DataFrame, by: str) -> pd.DataFrame:
    """:func:`sklearn_eeg.experiments.benchmark.summarize_results` per value of column ``by``.

    Parameters
    ----------
    results : DataFrame
        Output of :func:`alarm_ablation` (``by="setting"``) or :func:`calibration_comparison`
        (``by="method"``).
    by : str
        Grouping column; kept first, in order of appearance.

    Returns
    -------
    summary : DataFrame
        One row per ``by`` value x FAH target: mean ± std over folds and the pooled seizure-level
        sensitivity, chance and p-value; with ``brier``/``ece`` columns, their fold means too.
    """
    parts = []
    for value, part in results.groupby(by, sort=False):
        summary = summarize_results(part)
        for extra in ("brier", "ece"):
            if extra in part:
                means = part.groupby("fah_target")[extra].mean()
                summary[f"{extra}_mean"] = summary["fah_target"].map(means)
        parts.append(summary.assign(**{by: value}))
    if not parts:
        return pd.DataFrame(columns=[by, "fah_target", "n_folds"])
    summary = pd.concat(parts, ignore_index=True)
    return summary[[by] + [c for c in summary.columns if c != by]]


def run_ablations(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    meta: pd.DataFrame,
    *,
    model="logreg",
    n_val_subjects: int = 1,
    test_subjects: Sequence[str] | None = None,
    fah_targets: Sequence[float] = FAH_TARGETS,
    settings: Mapping[str, dict] | None = None,
    policy: AlarmPolicy | None = None,
    n_bins: int = 10,
    out_dir: str | Path | None = "reports",
    n_jobs: int = 1,
    random_state: int | None = 0,
    progress: bool = False,
) -> dict[str, pd.DataFrame]:
    """Fit the LOSO folds once, run both ablations on their risk, write the tables.

    Parameters
    ----------
    X, y, groups, meta, model, n_val_subjects, test_subjects, n_jobs, random_state, progress :
        As in :func:`fit_loso_folds`.
    fah_targets : sequence of float, default=(0.1, 0.2, 0.5, 1.0)
    settings : mapping, optional
        Alarm settings of :func:`alarm_ablation` (default :data:`ALARM_SETTINGS`).
    policy : AlarmPolicy, optional
        The benchmark's alarm rule: the alarm ablation's settings change it, the calibration
        comparison uses it as is.
    n_bins : int, default=10
        ECE / reliability bins.
    out_dir : str or Path or None, default="reports"
        Tables go to ``out_dir/tables/``: ``alarm_ablation.csv``, ``alarm_ablation_summary.csv``,
        ``calibration_comparison.csv``, ``calibration_summary.csv``,
        ``calibration_reliability.csv``. ``None`` writes nothing.

    Returns
    -------
    tables : dict of str to DataFrame
        The five tables, keyed by file stem.
    """
    folds = fit_loso_folds(
        X,
        y,
        groups,
        meta,
        model=model,
        n_val_subjects=n_val_subjects,
        test_subjects=test_subjects,
        n_jobs=n_jobs,
        random_state=random_state,
        progress=progress,
    )
    meta = meta.reset_index(drop=True)
    ablation = alarm_ablation(
        folds,
        meta,
        settings=settings,
        fah_targets=fah_targets,
        policy=policy,
    )
    calibration, reliability = calibration_comparison(
        folds, meta, fah_targets=fah_targets, policy=policy, n_bins=n_bins
    )
    tables = {
        "alarm_ablation": ablation,
        "alarm_ablation_summary": summarize_ablation(ablation, "setting"),
        "calibration_comparison": calibration,
        "calibration_summary": summarize_ablation(calibration, "method"),
        "calibration_reliability": reliability,
    }
    if out_dir is not None:
        _write_tables(tables, out_dir)
    return tables


def _write_tables(tables: Mapping[str, pd.DataFrame], out_dir: str | Path) -> None:
    """Write each table to ``<out_dir>/tables/<name>.csv``."""
    directory = Path(out_dir) / "tables"
    directory.mkdir(parents=True, exist_ok=True)
    for stem, table in tables.items():
        write_csv(table, directory / f"{stem}.csv")


# ----------------------------------------------------------------------------------------------
# loss comparison (deep models)

#: Per-subject columns of :func:`loss_comparison` and whether higher is better (paired differences).
_PAIRED_METRICS: dict[str, bool] = {
    "auroc": True,
    "auprc": True,
    "brier": False,
    "sensitivity": True,
    "fah": False,
    "ioc": True,
    "time_in_warning": False,
}
_WINDOW_METRICS = ("auroc", "auprc", "brier")
_RUN_COLUMNS = ("n_train", "n_valid", "test_n_pos", "test_n_neg", "best_epoch", "epochs_run")
_TUNING_COLUMNS = ("threshold", "val_fah", "val_sensitivity")  # unprefixed in run_deep's per-subject table
_LOSS_COLUMNS = (
    "loss",
    "subject",
    "fah_target",
    "n_train",
    "n_valid",
    "n_test",
    "test_n_pos",
    "test_n_neg",
    "pos_weight",
    "focal_gamma",
    "focal_alpha",
    "best_epoch",
    "epochs_run",
    "valid_auroc",
    "auroc",
    "auprc",
    "brier",
    *_OPERATING_COLUMNS,
    "run_dir",
    "model_dir",
)


def _loss_rows(per_subject: pd.DataFrame, run_dir: Path, loss: str, fah_targets: Sequence[float]) -> list[dict]:
    """Long rows (subject x FAH target) from one :class:`~sklearn_eeg.experiments.deep_training.DeepRunResult` table."""
    rows = []
    for subject_row in per_subject.to_dict("records"):
        model_manifest = json.loads((run_dir / subject_row["model_dir"] / "manifest.json").read_text())
        params = model_manifest["params"]
        if params["loss"] != loss:
            raise RuntimeError(f"run {run_dir} trained loss {params['loss']!r}, expected {loss!r}")
        base = {
            "loss": loss,
            "subject": subject_row["subject"],
            **{k: subject_row[k] for k in _RUN_COLUMNS},
            "n_test": subject_row["test_n_pos"] + subject_row["test_n_neg"],
            "pos_weight": model_manifest["pos_weight"],
            "focal_gamma": params["focal_gamma"] if loss == "focal" else np.nan,
            "focal_alpha": params["focal_alpha"] if loss == "focal" and params["focal_alpha"] is not None else np.nan,
            "valid_auroc": subject_row["valid_auroc"],
            **{k: subject_row[f"test_{k}"] for k in _WINDOW_METRICS},
            "run_dir": str(run_dir),
            "model_dir": str(run_dir / subject_row["model_dir"]),
        }
        for target in fah_targets:
            at = f"@{target:g}"
            point = {k: subject_row[(k if k in _TUNING_COLUMNS else f"test_{k}") + at] for k in _OPERATING_COLUMNS}
            rows.append({**base, "fah_target": float(target), **point})
    return rows


def paired_loss_differences(results: pd.DataFrame, *, reference: str | None = None) -> pd.DataFrame:
    """Per-subject differences of every loss to a reference loss, with a Wilcoxon signed-rank test.

    The window metrics (``auroc``, ``auprc``, ``brier``) are compared once per subject, the alarm
    metrics (``sensitivity``, ``fah``, ``ioc``, ``time_in_warning``) per subject and FAH target.
    Subjects where either value is NaN (e.g. a test part with one class) are left out. The test
    uses subjects as the unit: with fewer than 6 non-tied subjects no two-sided p-value can fall
    below 0.05, and the table is descriptive.

    Parameters
    ----------
    results : DataFrame
        Output of :func:`loss_comparison` (``loss``, ``subject``, ``fah_target`` and the metric columns).
    reference : str, optional
        Loss the others are compared with; default the first loss of ``results``.

    Returns
    -------
    paired : DataFrame
        One row per other loss x metric (x FAH target for the alarm metrics; NaN ``fah_target`` for
        window metrics): ``loss``, ``reference``, ``metric``, ``fah_target``, ``higher_is_better``,
        ``n_pairs``, ``mean_diff``, ``std_diff``, ``median_diff`` (``loss - reference``), ``n_better``,
        ``n_worse``, ``n_tied`` (subjects where ``loss`` beats / loses to / ties the reference) and
        ``wilcoxon_p`` (two-sided, exact for small samples; NaN when every pair is tied).

    Examples
    --------
    >>> results = pd.DataFrame({"loss": ["bce", "bce", "focal", "focal"], "subject": ["a", "b", "a", "b"],
    ...                         "fah_target": 0.5, "auroc": [0.7, 0.8, 0.75, 0.9]})
    >>> paired = paired_loss_differences(results)
    >>> paired[["loss", "metric", "n_pairs", "n_better"]].to_dict("records")
    [{'loss': 'focal', 'metric': 'auroc', 'n_pairs': 2, 'n_better': 2}]
    """
    losses = list(pd.unique(results["loss"]))
    reference = losses[0] if reference is None else reference
    if reference not in losses:
        raise ValueError(f"reference loss {reference!r} not in the results (losses: {losses})")
    rows = []
    for metric, higher_is_better in _PAIRED_METRICS.items():
        if metric not in results:
            continue
        keys = ["subject"] if metric in _WINDOW_METRICS else ["fah_target", "subject"]
        table = results.drop_duplicates(["loss", *keys]).pivot(index=keys, columns="loss", values=metric)
        for loss in losses:
            if loss == reference:
                continue
            diff = (table[loss] - table[reference]).dropna()
            groups = diff.groupby(level="fah_target") if "fah_target" in keys else [(np.nan, diff)]
            for target, d in groups:
                rows.append({"loss": loss, "reference": reference, "metric": metric, "fah_target": target,
                             "higher_is_better": higher_is_better, **_paired_stats(d.to_numpy(), higher_is_better)})
    columns = ["loss", "reference", "metric", "fah_target", "higher_is_better", "n_pairs", "mean_diff", "std_diff",
               "median_diff", "n_better", "n_worse", "n_tied", "wilcoxon_p"]
    return pd.DataFrame(rows, columns=columns)


def _paired_stats(diff: np.ndarray, higher_is_better: bool) -> dict:
    signed = diff if higher_is_better else -diff
    nonzero = diff[diff != 0]
    return {
        "n_pairs": len(diff),
        "mean_diff": float(diff.mean()) if len(diff) else np.nan,
        "std_diff": float(diff.std(ddof=1)) if len(diff) > 1 else np.nan,
        "median_diff": float(np.median(diff)) if len(diff) else np.nan,
        "n_better": int((signed > 0).sum()),
        "n_worse": int((signed < 0).sum()),
        "n_tied": int((diff == 0).sum()),
        "wilcoxon_p": float(wilcoxon(nonzero).pvalue) if len(nonzero) else np.nan,
    }


def loss_comparison(
    cfg: RunConfig,
    *,
    losses: Sequence[str] = LOSSES,
    model: str = "cnn",
    mode: str = "patient",
    test_subjects: Sequence[str] | None = None,
    train_fraction: float = 0.7,
    valid_fraction: float = 0.2,
    out_dir: str | Path | None = None,
    n_threads: int | None = 2,
    verbose: int = 0,
    progress: bool = False,
) -> dict[str, pd.DataFrame]:
    """Train the same deep model once per loss and compare the test metrics per subject.

    Every run is a :func:`sklearn_eeg.experiments.deep_training.run_deep` call with the same data, split,
    seed (``cfg.seed``: same initial weights and batch order) and estimator parameters
    (``cfg.model.params`` when ``cfg.model.name == model``, else the estimator defaults); only
    ``loss`` changes. Both losses use the same ``pos_weight`` parameter (default ``"auto"``: the
    negative-to-positive ratio of the labeled training windows of each model, validation tail
    included, never test windows), so BCE is weighted and the focal loss ``FL = -w_t (1 - p_t)^gamma
    log(p_t)`` multiplies its positive term by the same ``pos_weight`` (and by ``focal_alpha`` when
    set); ``focal_gamma`` and ``focal_alpha`` come from the parameters (defaults 2.0 and None).
    Thresholds are tuned per loss on that model's validation tail and applied unchanged to test.
    The run folders (models, curves, predictions) are kept and named in the table.

    Parameters
    ----------
    cfg : RunConfig
        Data, labeling, alarms (``fah_targets``), seed, ``output_dir`` and estimator parameters.
    losses : sequence of {"bce", "focal"}, default=("bce", "focal")
        Losses to train; the first is the reference of the paired differences.
    model : {"cnn", "fusion"}, default="cnn"
    mode : {"patient", "loso-fold"}, default="patient"
        One :func:`run_deep` per loss with a chronological split of every subject, or one
        leave-one-subject-out fold per loss and test subject.
    test_subjects : sequence of str, optional
        Held-out subjects of ``mode="loso-fold"`` (default ``cfg.data.subjects``; one of the two is
        required there). Not used by ``mode="patient"``.
    train_fraction, valid_fraction, n_threads, verbose :
        As in :func:`run_deep`.
    out_dir : str or Path, optional
        Output root (default ``cfg.output_dir``): run folders go to ``<out_dir>/runs/``, the tables to
        ``<out_dir>/tables/``: ``loss_comparison.csv``, ``loss_comparison_summary.csv``,
        ``loss_comparison_paired.csv``. :func:`run_deep` also appends its rows to ``metrics.csv``.
    progress : bool, default=False
        Progress bars over the runs and, inside each run, :func:`run_deep`'s (loading, models).

    Returns
    -------
    tables : dict of str to DataFrame
        ``loss_comparison``: one row per loss x test subject x FAH target: ``loss``, ``subject``,
        ``fah_target``, ``n_train``, ``n_valid``, ``n_test`` (labeled test windows), ``test_n_pos``,
        ``test_n_neg``, ``pos_weight``, ``focal_gamma``, ``focal_alpha`` (NaN for BCE),
        ``best_epoch``, ``epochs_run``, ``valid_auroc``, the test window metrics ``auroc``,
        ``auprc``, ``brier``, the operating point columns of :func:`alarm_ablation`, ``run_dir`` and
        ``model_dir``. ``loss_comparison_summary``: :func:`summarize_ablation` by ``loss`` (mean ±
        std over subjects; ``n_folds`` counts subjects). ``loss_comparison_paired``:
        :func:`paired_loss_differences`.
    """
    # torch loads only when a deep model runs
    from sklearn_eeg.experiments.deep_training import MODELS, MODES, run_deep, with_deep_model

    losses = list(losses)
    if not losses or len(set(losses)) != len(losses) or not set(losses) <= set(LOSSES):
        raise ValueError(f"losses must be distinct values among {LOSSES}, got {losses}")
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "loso-fold":
        test_subjects = list(test_subjects or cfg.data.subjects or [])
        if not test_subjects:
            raise ValueError("mode='loso-fold' needs test_subjects (or cfg.data.subjects)")
    folds = [None] if mode == "patient" else test_subjects
    out_dir = Path(cfg.output_dir if out_dir is None else out_dir)
    runs = [(loss, subject) for loss in losses for subject in folds]
    rows = []
    bar = tqdm(runs, desc="loss comparison", unit="run", disable=not progress)
    for loss, subject in bar:
        bar.set_postfix(loss=loss, **({} if subject is None else {"test_subject": subject}))
        result = run_deep(
            with_deep_model(cfg, model, loss=loss), model=model, mode=mode, test_subject=subject, train_fraction=train_fraction,
            valid_fraction=valid_fraction, out_dir=out_dir, n_threads=n_threads, verbose=verbose, progress=progress,
        )
        rows.extend(_loss_rows(result.per_subject, result.run_dir, loss, cfg.alarms.fah_targets))
    results = pd.DataFrame(rows, columns=list(_LOSS_COLUMNS))
    tables = {
        "loss_comparison": results,
        "loss_comparison_summary": summarize_ablation(results, "loss"),
        "loss_comparison_paired": paired_loss_differences(results),
    }
    _write_tables(tables, out_dir)
    return tables


# ----------------------------------------------------------------------------------------------
# multi-phase training (deep)


def multiphase_comparison(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    meta: pd.DataFrame,
    *,
    model,
    variants: Mapping[str, Sequence[str]] | None = None,
    n_val_subjects: int = 1,
    test_subjects: Sequence[str] | None = None,
    fah_targets: Sequence[float] = FAH_TARGETS,
    policy: AlarmPolicy | None = None,
    out_dir: str | Path | None = "reports",
    n_jobs: int = 1,
    random_state: int | None = 0,
    progress: bool = False,
) -> dict[str, pd.DataFrame]:
    """Supervised-only vs pretrain → fine-tune vs pretrain → contrastive → fine-tune on the same LOSO folds.

    Each variant is ``model`` with its ``phases`` replaced, fitted on every fold by
    :func:`fit_loso_folds` (same splits and seed: the training subjects' windows are the only data of
    every phase, pretraining included); thresholds are tuned per variant and FAH target on the
    validation subjects' risk and applied unchanged to the test subject (``policy`` for all).
    With ``model.checkpoint_dir`` set, variants that share their first phases with the same
    parameters share those phases' checkpoints (see :class:`~sklearn_eeg.models.nn.phase_tracker.PhaseTracker`).

    Parameters
    ----------
    X : array-like of shape (n_windows, n_channels, n_times)
        Raw windows, one per row of ``meta``.
    y, groups, meta, n_val_subjects, test_subjects, n_jobs, random_state, progress :
        As in :func:`fit_loso_folds`.
    model : MultiPhaseCNNClassifier
        Unfitted; its ``phases`` parameter is set per variant.
    variants : mapping of str to sequence of str, optional
        Variant name to phase sequence; default :data:`sklearn_eeg.models.multiphase.VARIANTS`.
    fah_targets : sequence of float, default=(0.1, 0.2, 0.5, 1.0)
    policy : AlarmPolicy, optional
        The alarm rule (default :class:`~sklearn_eeg.evaluation.alarms.AlarmPolicy` ()).
    out_dir : str or Path or None, default="reports"
        Tables go to ``out_dir/tables/``: ``multiphase_comparison.csv`` and
        ``multiphase_comparison_summary.csv``. ``None`` writes nothing.

    Returns
    -------
    tables : dict of str to DataFrame
        ``multiphase_comparison``: one row per variant x fold x FAH target: ``variant``, ``phases``,
        the fold columns, the test window metrics ``auroc``, ``auprc`` and the operating point
        columns of :func:`alarm_ablation` (``sensitivity``, ``fah``, ``time_in_warning``,
        ``p_value``, ``p_surrogate``...). ``multiphase_comparison_summary``: :func:`summarize_ablation`
        by ``variant``.
    """
    if variants is None:
        from sklearn_eeg.models.multiphase import VARIANTS  # loads torch

        variants = VARIANTS
    if "phases" not in model.get_params():
        raise ValueError(f"model must be a MultiPhaseCNNClassifier (a 'phases' parameter); got {type(model).__name__}")
    policy = AlarmPolicy() if policy is None else policy
    labels = meta["label"].to_numpy()
    rows = []
    for name, phases in variants.items():
        folds = fit_loso_folds(
            X, y, groups, meta, model=clone(model).set_params(phases=tuple(phases)), n_val_subjects=n_val_subjects,
            test_subjects=test_subjects, n_jobs=n_jobs, random_state=random_state, progress=progress,
        )
        for fold in folds:
            window = _window_scores(labels[fold.test_index], fold.test_risk)
            for point in _operating_points(fold, fold.val_risk, fold.test_risk, meta, fah_targets, policy):
                rows.append({"variant": name, "phases": ">".join(phases), **point, **fold.info(),
                             "auroc": window["auroc"], "auprc": window["auprc"]})
    columns = ["variant", "phases", "fah_target", *_FOLD_COLUMNS, *_OPERATING_COLUMNS, "auroc", "auprc"]
    results = pd.DataFrame(rows, columns=columns)
    tables = {"multiphase_comparison": results, "multiphase_comparison_summary": summarize_ablation(results, "variant")}
    if out_dir is not None:
        _write_tables(tables, out_dir)
    return tables
