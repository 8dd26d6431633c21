"""Chance baselines: seizure forecasters that never look at the EEG.

A forecaster's sensitivity, false-alarm rate and improvement over chance mean little on their own;
shown beside a forecaster that knows nothing about the signal, they say how much of a result the
protocol itself produces (thresholds tuned on validation data, alarm post-processing, the share of
time spent in warning). Two such forecasters, both binary scikit-learn classifiers that read only
the number of rows of ``X``, never its values:

* :class:`ConstantRiskClassifier`: climatology, the training preictal rate for every window. All
  windows tie, so window AUROC is 0.5 and a threshold raises alarms everywhere or nowhere.
* :class:`RandomWalkRiskClassifier`: a seeded random risk that drifts slowly over the rows in the
  order given, which is the window table's timeline order in every benchmark. It raises alarms of
  realistic length and number at a tuned threshold, by chance.

Both accept a feature matrix ``(n_windows, n_features)`` as well as raw windows ``(n_windows,
n_channels, n_times)`` (or any array with a first axis); ``n_features_in_`` is ``X.shape[1]`` as in
scikit-learn. Excluded windows (label -1) must be dropped before ``fit``, as
:func:`sklearn_eeg.experiments.benchmark.fit_predict_risk` does: the labels must be binary.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import joblib
import numpy as np
from scipy.signal import lfilter
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["CHANCE_MODELS", "ConstantRiskClassifier", "RandomWalkRiskClassifier", "logit_walk", "make_chance"]

_CHECK_PARAMS = {"accept_sparse": True, "dtype": None, "ensure_all_finite": False, "allow_nd": True}


class _ChanceRiskClassifier(ClassifierMixin, BaseEstimator):
    """Shared fitting and prediction: learn the classes and the preictal rate, read only ``len(X)``."""

    def _fit_rate(self, X, y) -> np.ndarray:
        """Check ``X`` (shape only) and ``y``, set ``classes_`` and ``prevalence_``; return checked ``y``."""
        _, y = validate_data(self, X, y, **_CHECK_PARAMS)
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError(
                f"Only binary classification is supported. The type of the target is {y_type}; "
                "drop excluded windows (label -1) before fit"
            )
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"the training data must hold 2 classes; got 1 class: {self.classes_.tolist()}"
            )
        self.prevalence_ = float(np.mean(y == self.classes_[1]))
        return y

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``[P(negative), P(positive)]`` of every row.

        Parameters
        ----------
        X : array-like of shape (n_windows, ...)
            Only its number of rows (and, as in scikit-learn, ``X.shape[1]``) is used.

        Returns
        -------
        proba : ndarray of shape (n_windows, 2)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, **_CHECK_PARAMS)
        risk = self._risk(X.shape[0], X)
        return np.column_stack([1.0 - risk, risk])

    def predict(self, X) -> np.ndarray:
        """Most probable class of every row (the negative class unless the risk exceeds 0.5).

        Parameters
        ----------
        X : array-like of shape (n_windows, ...)

        Returns
        -------
        y_pred : ndarray of shape (n_windows,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # X's values are never read: any dtype, NaN, sparse or 3-D input is as good as any other
        tags.input_tags.three_d_array = True
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.classifier_tags.multi_class = False
        tags.classifier_tags.poor_score = True
        return tags


class ConstantRiskClassifier(_ChanceRiskClassifier):
    """Climatology forecaster: the training preictal rate as the risk of every window.

    The risk never changes, so every window ties: window AUROC is 0.5, and an alarm threshold at
    or below it raises one alarm per subject (the detector lives on the subject timeline and is
    never re-armed), above it none.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Class labels; ``classes_[1]`` is the positive (preictal) class.
    prevalence_ : float
        Share of training windows of the positive class, the risk of every window.
    n_features_in_ : int
        ``X.shape[1]`` in ``fit`` (features of a matrix, channels of 3-D windows).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` in ``fit`` is a DataFrame with string column names.

    See Also
    --------
    RandomWalkRiskClassifier : a chance forecaster whose risk drifts over time.
    sklearn.dummy.DummyClassifier : ``strategy="prior"`` is the same forecaster for 2-D input.

    Examples
    --------
    >>> X = np.zeros((10, 3, 256))  # raw windows: (n_windows, n_channels, n_times)
    >>> y = np.r_[np.zeros(8), np.ones(2)]
    >>> clf = ConstantRiskClassifier().fit(X, y)
    >>> clf.prevalence_
    0.2
    >>> clf.predict_proba(X[:2])
    array([[0.8, 0.2],
           [0.8, 0.2]])
    """

    def fit(self, X, y) -> ConstantRiskClassifier:
        """Learn the classes and the training preictal rate; ``X`` only gives the row count.

        Parameters
        ----------
        X : array-like of shape (n_windows, ...)
            Feature matrix ``(n_windows, n_features)``, windows ``(n_windows, n_channels, n_times)``
            or any array with a first axis; its values are never read.
        y : array-like of shape (n_windows,)
            Binary labels; the larger one (1, preictal) is the positive class.

        Returns
        -------
        self
        """
        self._fit_rate(X, y)
        return self

    def _risk(self, n_rows: int, X=None) -> np.ndarray:
        return np.full(n_rows, self.prevalence_)


class RandomWalkRiskClassifier(_ChanceRiskClassifier):
    """Chance forecaster: a seeded risk that drifts slowly over the rows, in the order given.

    The risk of row ``t`` is ``expit(logit(prevalence_) + d_t)``, where ``d`` is a logit-space
    AR(1) process close to a random walk::

        d_t = (1 - reversion) * d_{t-1} + step * e_t,    e_t ~ N(0, 1),

    started from its stationary distribution (standard deviation
    ``step / sqrt(1 - (1 - reversion)**2)``), so that it neither saturates at 0 or 1 nor has a
    special first row. Rows are read as consecutive windows of one timeline (the window table's
    order).

    The walk is a function of ``seed_``, the number of rows and a fingerprint of ``X`` (a hash of
    a subsample of its rows): the values of ``X`` only seed the generator, so the walk carries no
    information about them, yet validation and test sets of equal length (subjects of a synthetic
    dataset all have as many windows) draw independent walks -- otherwise the validation risk would
    tell how the test risk moves and a calibration fitted on it could exploit that. The same ``X``
    always gets the same walk.

    Parameters
    ----------
    step : float, default=0.05
        Standard deviation of one row's logit increment (>= 0; 0 gives the constant climatology).
    reversion : float, default=0.001
        Share of the logit deviation from ``logit(prevalence_)`` removed at every row, in (0, 1]:
        a time constant of ``1 / reversion`` rows (1000 rows = 83 min of 5-s strides). The
        defaults give a stationary logit standard deviation of 1.1.
    random_state : int, RandomState instance or None, default=0
        Draws the seed of the walks in :meth:`fit`.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Class labels; ``classes_[1]`` is the positive (preictal) class.
    prevalence_ : float
        Share of training windows of the positive class, the centre of the walk.
    seed_ : int
        Seed of the walks, drawn in ``fit`` from ``random_state`` and the number of training rows.
    n_features_in_ : int
        ``X.shape[1]`` in ``fit`` (features of a matrix, channels of 3-D windows).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` in ``fit`` is a DataFrame with string column names.

    See Also
    --------
    ConstantRiskClassifier : the constant climatology.

    Examples
    --------
    >>> X = np.zeros((2000, 5))  # a feature matrix; only its row count matters
    >>> y = np.r_[np.zeros(1900), np.ones(100)]
    >>> risk = RandomWalkRiskClassifier(random_state=0).fit(X, y).predict_proba(X)[:, 1]
    >>> risk.shape, bool((risk > 0).all() and (risk < 1).all())
    ((2000,), True)
    >>> again = RandomWalkRiskClassifier(random_state=0).fit(X, y).predict_proba(np.ones((2000, 5)))[:, 1]
    >>> bool(np.array_equal(again, risk))
    True
    """

    def __init__(self, *, step: float = 0.05, reversion: float = 0.001, random_state=0):
        self.step = step
        self.reversion = reversion
        self.random_state = random_state

    def fit(self, X, y) -> RandomWalkRiskClassifier:
        """Check the parameters, learn the classes and the preictal rate, draw the walk's seed.

        Parameters
        ----------
        X : array-like of shape (n_windows, ...)
            Feature matrix, windows or any array with a first axis; its values are never read.
        y : array-like of shape (n_windows,)
            Binary labels; the larger one (1, preictal) is the positive class.

        Returns
        -------
        self
        """
        for name in ("step", "reversion"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value):
                raise ValueError(f"{name} must be a finite number; got {value!r}")
        if self.step < 0:
            raise ValueError(f"step must be >= 0; got {self.step!r}")
        if not 0 < self.reversion <= 1:
            raise ValueError(f"reversion must be in (0, 1]; got {self.reversion!r}")
        y = self._fit_rate(X, y)
        drawn = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        self.seed_ = int(np.random.SeedSequence([drawn, len(y)]).generate_state(1)[0])
        return self

    def _risk(self, n_rows: int, X) -> np.ndarray:
        rows = X.tocsr() if hasattr(X, "tocsr") else X  # sparse input: a format that slices rows
        content = int(joblib.hash(rows[:: max(1, n_rows // 256)])[:8], 16)
        normals = np.random.default_rng([self.seed_, n_rows, content]).standard_normal(n_rows)
        return expit(logit(self.prevalence_) + logit_walk(normals, step=self.step, reversion=self.reversion))


def logit_walk(normals: np.ndarray, *, step: float, reversion: float, previous: float | None = None) -> np.ndarray:
    """The logit deviations of the chance random walk, one per standard normal draw.

    ``d_t = (1 - reversion) * d_{t-1} + step * e_t``; without ``previous`` the walk starts from its
    stationary distribution, ``d_0 = step * e_0 / sqrt(1 - (1 - reversion)**2)``. Shared by
    :class:`RandomWalkRiskClassifier` (a walk over the rows of one call) and the stream baseline
    :class:`sklearn_eeg.online.chance.RandomWalkStream` (a walk continued from call to call).

    Parameters
    ----------
    normals : ndarray of shape (n_steps,)
        The draws ``e_t``.
    step : float
        Standard deviation of one increment.
    reversion : float
        Share of the deviation removed per step, in (0, 1].
    previous : float, optional
        The deviation before the first draw (a walk continued); None starts a new walk.

    Returns
    -------
    deviations : ndarray of shape (n_steps,)
    """
    keep = 1.0 - reversion
    increments = step * np.asarray(normals, dtype=float)
    if previous is None:
        increments[:1] /= np.sqrt(1.0 - keep**2)  # first step: a draw from the stationary distribution
        return lfilter([1.0], [1.0, -keep], increments)
    return lfilter([1.0], [1.0, -keep], increments, zi=[keep * previous])[0]


CHANCE_MODELS = ("constant", "random")
"""Model names of the chance baselines (:func:`make_chance`)."""


def make_chance(
    model: str, *, random_state: int | None = 0, **params
) -> ConstantRiskClassifier | RandomWalkRiskClassifier:
    """Unfitted chance baseline for a model name.

    The estimator reads only the number of rows of ``X``, so it needs no feature or scaling step
    and takes a precomputed feature matrix and raw windows alike.

    Parameters
    ----------
    model : {"constant", "random"}
        :class:`ConstantRiskClassifier` or :class:`RandomWalkRiskClassifier`.
    random_state : int or None, default=0
        Seed of the random walk (ignored by ``"constant"``, which has nothing random).
    **params
        Parameters of the estimator (``step``, ``reversion`` for ``"random"``).

    Returns
    -------
    estimator : ConstantRiskClassifier or RandomWalkRiskClassifier

    Examples
    --------
    >>> make_chance("random", random_state=3, step=0.1)
    RandomWalkRiskClassifier(random_state=3, step=0.1)
    """
    if model == "constant":
        return ConstantRiskClassifier(**params)
    if model == "random":
        return RandomWalkRiskClassifier(**{"random_state": random_state, **params})
    raise ValueError(f"unknown chance model {model!r}; choose one of {CHANCE_MODELS}")
