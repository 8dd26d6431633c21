"""FAH-targeted threshold tuning, alarm-level sklearn scorers and a threshold-tuning classifier.

Threshold selection rule (used everywhere here)
-----------------------------------------------
For a false-alarm-rate target ``f`` (per interictal hour), among the candidate thresholds whose
validation FAH is ``<= f`` pick the one with the highest validation sensitivity; ties go to the
highest validation FAH (closest to the target from below), then to the middle (median) of the
thresholds still tied, the widest margin on both sides. A
threshold just above the largest risk (no alarm, FAH 0) is always a candidate, so every target
gets a threshold unless the validation data holds no interictal time (then NaN). Because the
feasible sets grow with ``f``, the selected validation sensitivity is non-decreasing in ``f``.

The threshold is chosen on validation data only and applied unchanged to the test data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import make_scorer
from sklearn.model_selection import GroupKFold
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_is_fitted

from sklearn_eeg.evaluation.alarm_scoring import alarm_metrics_over_thresholds, surrogate_histogram
from sklearn_eeg.evaluation.alarms import AlarmPolicy

_TEST_KEYS = (
    "fah",
    "fah_interictal",
    "sensitivity",
    "n_predicted",
    "n_seizures",
    "n_not_scorable",
    "n_alarms",
    "n_false_alarms",
    "warning_time_mean",
    "time_in_warning",
    "chance_poisson",
    "chance_p",
    "ioc",
    "p_value",
    "surrogate_chance",
    "p_surrogate",
)
_SCORER_METRICS = ("sensitivity", "ioc", "warning_time_mean", "time_in_warning")


def candidate_thresholds(risk: np.ndarray, n_thresholds: int = 200) -> np.ndarray:
    """Candidate alarm thresholds: risk quantiles plus one value above the maximum (no alarm).

    Parameters
    ----------
    risk : array-like of shape (n_windows,)
        (Smoothed) risk values.
    n_thresholds : int, default=200
        Number of quantiles (duplicates removed).

    Returns
    -------
    thresholds : ndarray of shape (<= n_thresholds + 1,)
        Increasing.
    """
    risk = np.asarray(risk, dtype=float)
    if risk.size == 0:
        raise ValueError("cannot derive thresholds from an empty risk timeline")
    q = np.unique(np.quantile(risk, np.linspace(0.0, 1.0, int(n_thresholds))))
    return np.append(q, np.nextafter(q[-1], np.inf))


def _select(table: pd.DataFrame, fah_target: float) -> int | None:
    """Row label of ``table`` chosen for one FAH target (rule in the module docstring)."""
    feasible = table[np.isfinite(table["fah"]) & (table["fah"] <= fah_target)]
    if feasible.empty:
        return None
    key = feasible.assign(_sens=feasible["sensitivity"].fillna(-np.inf))
    best = key[(key["_sens"] == key["_sens"].max())]
    best = best[best["fah"] == best["fah"].max()].sort_values("threshold", kind="stable")
    # the middle of the tied thresholds: the widest margin on both sides (a perfectly separating
    # validation risk would otherwise push the threshold to just under its largest value)
    return best.index[(len(best) - 1) // 2]


def _alarm_table(
    risk: np.ndarray, meta: pd.DataFrame, thresholds: np.ndarray | None, n_thresholds: int, policy: AlarmPolicy
) -> pd.DataFrame:
    if thresholds is None:
        thresholds = candidate_thresholds(policy.smooth(risk, meta), n_thresholds)
    # the threshold search needs no surrogates: only the chosen operating point is tested
    return alarm_metrics_over_thresholds(risk, meta, np.asarray(thresholds, dtype=float), policy=policy, n_surrogates=0)


def tune_threshold(
    risk: np.ndarray,
    meta: pd.DataFrame,
    fah_targets: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0),
    *,
    test_risk: np.ndarray | None = None,
    test_meta: pd.DataFrame | None = None,
    thresholds: np.ndarray | None = None,
    n_thresholds: int = 200,
    policy: AlarmPolicy | None = None,
    n_surrogates: int = 1000,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Choose one alarm threshold per FAH target on validation data; optionally score it on test.

    Parameters
    ----------
    risk : array-like of shape (n_val_windows,)
        Validation risk, one value per row of ``meta``.
    meta : DataFrame of shape (n_val_windows, ...)
        Validation window table.
    fah_targets : tuple of float, default=(0.1, 0.2, 0.5, 1.0)
        False alarms per interictal hour.
    test_risk : array-like of shape (n_test_windows,), optional
        Test risk; the chosen thresholds are applied to it unchanged.
    test_meta : DataFrame of shape (n_test_windows, ...), optional
        Test window table (required with ``test_risk``).
    thresholds : array-like, optional
        Candidate thresholds; by default :func:`candidate_thresholds` of the smoothed validation risk.
    n_thresholds : int, default=200
        Quantiles used for the default candidates.
    policy : AlarmPolicy, optional
        The alarm rule, identical on validation and test (default
        :class:`~sklearn_eeg.evaluation.alarms.AlarmPolicy` ()).
    n_surrogates : int, default=1000
        Seizure-time surrogates of the test scoring (the validation search uses none).
    random_state : int or None, default=0
        Seed of the test surrogates.

    Returns
    -------
    table : DataFrame of shape (n_targets, 4 or 13)
        ``fah_target``, ``threshold``, ``val_fah``, ``val_sensitivity``; with test data also
        ``test_<key>`` for the keys of :func:`~sklearn_eeg.evaluation.alarm_scoring.alarm_metrics_over_thresholds`
        ``fah``, ``fah_interictal``, ``sensitivity``, ``n_predicted``, ``n_seizures``,
        ``n_not_scorable``, ``n_alarms``, ``n_false_alarms``, ``warning_time_mean``,
        ``time_in_warning``, ``chance_poisson``, ``chance_p``, ``ioc``, ``p_value``,
        ``surrogate_chance``, ``p_surrogate``, and ``test_surrogate_hist``: the surrogates as a
        histogram string (:func:`~sklearn_eeg.evaluation.alarm_scoring.surrogate_histogram`), which is all that
        pooling independent folds needs.
    """
    if (test_risk is None) != (test_meta is None):
        raise ValueError("pass test_risk and test_meta together")
    targets = np.atleast_1d(np.asarray(fah_targets, dtype=float))
    if targets.size == 0 or np.any(~np.isfinite(targets)) or np.any(targets <= 0):
        raise ValueError(f"fah_targets must be positive false alarms per hour, got {fah_targets}")
    policy = AlarmPolicy() if policy is None else policy
    val = _alarm_table(risk, meta, thresholds, n_thresholds, policy)
    rows = []
    for target in targets:
        chosen = _select(val, target)
        row = val.loc[chosen] if chosen is not None else None
        rows.append(
            {
                "fah_target": float(target),
                "threshold": row["threshold"] if row is not None else np.nan,
                "val_fah": row["fah"] if row is not None else np.nan,
                "val_sensitivity": row["sensitivity"] if row is not None else np.nan,
            }
        )
    out = pd.DataFrame(rows)
    if test_risk is not None:
        finite = np.isfinite(out["threshold"].to_numpy())
        test = None
        if finite.any():
            test = alarm_metrics_over_thresholds(
                test_risk, test_meta, out["threshold"].to_numpy()[finite], policy=policy, n_surrogates=n_surrogates,
                random_state=random_state,
            )
        for key in _TEST_KEYS:
            values = np.full(len(out), np.nan)
            if test is not None:
                values[finite] = test[key].to_numpy(dtype=float)
            out[f"test_{key}"] = values
        histograms = [""] * len(out)
        for i, counts in zip(np.flatnonzero(finite), [] if test is None else test["surrogate_counts"]):
            histograms[i] = surrogate_histogram(counts)
        out["test_surrogate_hist"] = histograms
    return out


def _alarm_score(
    y_true: np.ndarray,
    y_score: np.ndarray,
    *,
    meta: pd.DataFrame | None = None,
    metric: str,
    fah_target: float,
    threshold: float | None,
    n_thresholds: int,
    policy: AlarmPolicy,
) -> float:
    if not isinstance(meta, pd.DataFrame) or len(meta) != len(y_score):
        raise ValueError(
            "the alarm scorer needs the window table rows of the scored split as `meta` "
            "(route it with scorer.set_score_request(meta=True) and params={'meta': meta})"
        )
    thresholds = None if threshold is None else [threshold]
    table = _alarm_table(np.asarray(y_score, dtype=float), meta, thresholds, n_thresholds, policy)
    chosen = 0 if threshold is not None else _select(table, fah_target)
    return float(table.loc[chosen, metric]) if chosen is not None else np.nan


def make_alarm_scorer(
    metric: str = "sensitivity",
    *,
    fah_target: float = 0.5,
    threshold: float | None = None,
    n_thresholds: int = 200,
    policy: AlarmPolicy | None = None,
):
    """An sklearn scorer of alarm-level performance that reads the window table by metadata routing.

    Without ``threshold``, the score is ``metric`` at the operating point chosen *on the scored
    split itself* by the FAH-target rule of this module: a threshold-free summary of the risk
    timeline ("sensitivity at FAH <= target"), like AUROC, for model selection. It is not an
    estimate of performance at a threshold fixed in advance: for that, tune on validation data
    (:func:`tune_threshold`, :class:`FAHThresholdClassifier`) or pass a fixed ``threshold``.

    Parameters
    ----------
    metric : {"sensitivity", "ioc", "warning_time_mean", "time_in_warning"}, default="sensitivity"
        Key of :func:`sklearn_eeg.evaluation.metrics.alarm_metrics` returned (greater is better). NaN when
        undefined on a split (e.g. no seizure).
    fah_target : float, default=0.5
        False alarms per interictal hour allowed at the operating point.
    threshold : float, optional
        Use this fixed threshold instead of the FAH-target operating point.
    n_thresholds : int, default=200
        Candidate thresholds (risk quantiles of the split).
    policy : AlarmPolicy, optional
        The alarm rule (default :class:`~sklearn_eeg.evaluation.alarms.AlarmPolicy` ()).

    Returns
    -------
    scorer : callable ``scorer(estimator, X, y, meta=...)``
        Uses ``predict_proba`` (positive class). ``meta`` is requested for routing, which must be
        enabled (``sklearn.set_config(enable_metadata_routing=True)``), also to call the scorer
        directly with ``meta=``. Pass ``params={"meta": meta}`` to
        ``cross_validate`` / ``GridSearchCV.fit``: sklearn slices the DataFrame to the rows of each
        split, in the same order as ``X``.

    Examples
    --------
    >>> import sklearn
    >>> from sklearn_eeg.evaluation.alarms import AlarmPolicy
    >>> sklearn.set_config(enable_metadata_routing=True)
    >>> scorer = make_alarm_scorer("sensitivity", fah_target=0.5, policy=AlarmPolicy(persistence=2))
    >>> # cross_validate(pipe, X, y, cv=LeaveOneGroupOut(), scoring=scorer,
    >>> #                params={"groups": groups, "meta": meta})
    >>> sklearn.set_config(enable_metadata_routing=False)
    """
    if metric not in _SCORER_METRICS:
        raise ValueError(f"metric must be one of {_SCORER_METRICS}, got {metric!r}")
    scorer = make_scorer(
        _alarm_score,
        response_method="predict_proba",
        metric=metric,
        fah_target=float(fah_target),
        threshold=threshold,
        n_thresholds=n_thresholds,
        policy=AlarmPolicy() if policy is None else policy,
    )
    with sklearn.config_context(enable_metadata_routing=True):
        return scorer.set_score_request(meta=True)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p)).reshape(-1, 1)


class FAHThresholdClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Binary classifier whose decision threshold meets a false-alarm-rate target on held-out groups.

    ``fit`` computes out-of-fold risk with a group-wise cross-validation (each subject's risk comes
    from a model that never saw that subject), picks the threshold by :func:`tune_threshold`
    on that risk and the window table, then refits ``estimator`` on all the data. ``predict``
    applies ``threshold_`` unchanged: ``predict_proba(X)[:, 1] >= threshold_``. To turn a test
    risk timeline into alarms with the same rule, call
    ``raise_alarms(clf.predict_proba(X)[:, 1], meta, threshold=clf.threshold_, policy=clf.policy)``.
    As with sklearn's ``TunedThresholdClassifierCV``, the threshold comes from the fold models and
    is applied to the refitted model, whose risk scale is assumed to be comparable.

    Parameters
    ----------
    estimator : classifier
        Any sklearn classifier with ``predict_proba``; labels 0 (interictal) and 1 (preictal).
    fah_target : float, default=0.5
        False alarms per interictal hour.
    cv : int or splitter, default=5
        Group-wise splitter; an int means ``GroupKFold(min(cv, n_groups))``.
    n_thresholds : int, default=200
        Candidate thresholds (quantiles of the out-of-fold risk).
    calibration : {None, "sigmoid"}, default=None
        ``"sigmoid"``: Platt scaling (temperature and bias on the logit) fitted on the out-of-fold
        risk only, applied by ``predict_proba``; the threshold is tuned on the calibrated risk.
    policy : AlarmPolicy, optional
        The alarm rule of the tuning (default :class:`~sklearn_eeg.evaluation.alarms.AlarmPolicy` ()).

    Attributes
    ----------
    estimator_ : classifier
        Refitted on all the data.
    calibrator_ : LogisticRegression or None
        Fitted on the logit of the out-of-fold risk when ``calibration="sigmoid"``.
    threshold_ : float
        Tuned threshold.
    tuning_ : dict
        ``val_fah`` and ``val_sensitivity`` of the out-of-fold risk at ``threshold_``.
    classes_ : ndarray of shape (2,)
    """

    def __init__(
        self,
        estimator,
        *,
        fah_target: float = 0.5,
        cv=5,
        n_thresholds: int = 200,
        calibration: str | None = None,
        policy: AlarmPolicy | None = None,
    ):
        self.estimator = estimator
        self.fah_target = fah_target
        self.cv = cv
        self.n_thresholds = n_thresholds
        self.calibration = calibration
        self.policy = policy

    def fit(self, X, y, groups=None, meta: pd.DataFrame | None = None):
        """Tune the threshold on out-of-fold risk, then refit on everything.

        Parameters
        ----------
        X : array-like of shape (n_windows, ...)
        y : array-like of shape (n_windows,)
            1 preictal, 0 interictal, -1 excluded. Pass the full timeline (excluded windows with
            -1): they never train the models but get an out-of-fold risk, so the alarms used for
            tuning run without the label-induced gaps that would otherwise re-arm them.
        groups : array-like of shape (n_windows,)
            Subject per window (required: the validation split is by group).
        meta : DataFrame of shape (n_windows, ...)
            Window table rows of ``X`` (required to count seizures and interictal hours).

        Returns
        -------
        self : FAHThresholdClassifier
        """
        if self.calibration not in (None, "sigmoid"):
            raise ValueError(f"calibration must be None or 'sigmoid', got {self.calibration!r}")
        if groups is None or meta is None:
            raise ValueError("FAHThresholdClassifier.fit needs groups= and meta= (the window table rows of X)")
        y = np.asarray(y)
        if len(meta) != len(y) or len(groups) != len(y):
            raise ValueError(f"X, y, groups and meta must have equal lengths, got {len(y)}, {len(groups)}, {len(meta)}")
        labeled = y >= 0  # -1: excluded windows, scored for alarms but never trained on
        self.classes_ = np.unique(y[labeled])
        if not np.array_equal(self.classes_, [0, 1]) or not np.isin(y, (-1, 0, 1)).all():
            raise ValueError(f"y must hold both classes 0 and 1 (and -1 for excluded windows), got {np.unique(y)}")
        groups = np.asarray(groups)
        cv = GroupKFold(n_splits=min(int(self.cv), len(np.unique(groups)))) if isinstance(self.cv, int) else self.cv
        oof = np.full(len(y), np.nan)
        for train, val in cv.split(X, y, groups):
            train = train[labeled[train]]
            model = clone(self.estimator).fit(_safe_indexing(X, train), y[train])
            oof[val] = model.predict_proba(_safe_indexing(X, val))[:, 1]
        if np.isnan(oof).any():
            raise ValueError("cv must place every window in exactly one validation fold")
        self.calibrator_ = None
        if self.calibration == "sigmoid":
            self.calibrator_ = LogisticRegression(C=np.inf).fit(_logit(oof[labeled]), y[labeled])
            oof = self.calibrator_.predict_proba(_logit(oof))[:, 1]
        table = tune_threshold(
            oof, meta.reset_index(drop=True), (self.fah_target,), n_thresholds=self.n_thresholds, policy=self.policy
        )
        self.threshold_ = float(table["threshold"].iloc[0])
        self.tuning_ = {
            "val_fah": float(table["val_fah"].iloc[0]),
            "val_sensitivity": float(table["val_sensitivity"].iloc[0]),
        }
        self.estimator_ = clone(self.estimator).fit(_safe_indexing(X, np.flatnonzero(labeled)), y[labeled])
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities of the refitted estimator, shape (n_windows, 2)."""
        check_is_fitted(self)
        proba = self.estimator_.predict_proba(X)
        if self.calibrator_ is None:
            return proba
        return self.calibrator_.predict_proba(_logit(proba[:, 1]))

    def predict(self, X) -> np.ndarray:
        """1 where ``predict_proba(X)[:, 1] >= threshold_``, else 0; shape (n_windows,)."""
        return (self.predict_proba(X)[:, 1] >= self.threshold_).astype(int)
