"""Classical baselines: feature extraction, scaling and a linear, boosted-tree or MLP classifier.

Class imbalance (preictal windows are a few percent) is always handled *inside* ``fit``, from the
training split only: ``class_weight="balanced"`` for logistic regression and gradient boosting,
balanced sample weights for the MLP (which has no ``class_weight``) through
:class:`ClassBalancedClassifier`, and optionally random undersampling of the majority class
(``sampler="undersample"``), which also acts at fit time only: prediction always sees every window.
imbalanced-learn is not a dependency; :class:`ClassBalancedClassifier` is the small piece we need.

Features are stateless per window, so computing them once for a whole dataset before
cross-validation (``features=False`` here, feature matrix in) is not leakage; the scaler, which
*is* fitted, stays inside the pipeline and sees the training split only.
"""

from __future__ import annotations

import inspect

import numpy as np
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from sklearn_eeg.features.extractor import FeatureExtractor

__all__ = ["BASELINE_MODELS", "ClassBalancedClassifier", "make_baseline"]

BASELINE_MODELS = ("logreg", "hgb", "mlp")
_STRATEGIES = ("weight", "undersample")


class ClassBalancedClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Fit a classifier on class-balanced training data; predict unchanged.

    Parameters
    ----------
    estimator : classifier
        Cloned and fitted in :meth:`fit`.
    strategy : {"weight", "undersample"}, default="weight"
        ``"weight"`` passes balanced ``sample_weight`` (``n / (n_classes * count)``, from the ``y``
        given to ``fit``) to the estimator; ``"undersample"`` keeps every window of the rarest class
        and a random subset of equal size of each other class.
    random_state : int, RandomState instance or None, default=None
        Seeds the undersampling.

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen in ``fit``.
    sample_indices_ : ndarray of int
        Training rows actually used (all rows with ``strategy="weight"``).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.r_[np.zeros((90, 1)), np.ones((10, 1))]; y = np.r_[np.zeros(90), np.ones(10)]
    >>> clf = ClassBalancedClassifier(LogisticRegression(), strategy="undersample", random_state=0)
    >>> len(clf.fit(X, y).sample_indices_)
    20
    """

    def __init__(self, estimator, *, strategy: str = "weight", random_state=None):
        self.estimator = estimator
        self.strategy = strategy
        self.random_state = random_state

    def fit(self, X, y, sample_weight: np.ndarray | None = None) -> ClassBalancedClassifier:
        """Fit a clone of ``estimator`` on the balanced training data.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_features)
            Training features.
        y : array-like of shape (n_windows,)
            Training labels.
        sample_weight : array-like of shape (n_windows,), optional
            Multiplied with the balancing weights (``"weight"``) or subset with the rows kept.
        """
        if self.strategy not in _STRATEGIES:
            raise ValueError(f"strategy must be one of {_STRATEGIES}; got {self.strategy!r}")
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.classes_, counts = np.unique(y, return_counts=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"the training data must hold at least 2 classes; got 1 class: {self.classes_.tolist()}"
            )
        weight = None if sample_weight is None else _check_sample_weight(sample_weight, X)
        if self.strategy == "weight":
            self.sample_indices_ = np.arange(len(y))
            balanced = compute_sample_weight("balanced", y)
            weight = balanced if weight is None else balanced * weight
        else:
            rng = check_random_state(self.random_state)
            n_keep = counts.min()
            keep = [rng.choice(np.flatnonzero(y == c), size=n_keep, replace=False) for c in self.classes_]
            self.sample_indices_ = np.sort(np.concatenate(keep))
            weight = None if weight is None else weight[self.sample_indices_]
        X_fit, y_fit = X[self.sample_indices_], y[self.sample_indices_]
        self.estimator_ = clone(self.estimator)
        if weight is None:
            self.estimator_.fit(X_fit, y_fit)
        else:
            self.estimator_.fit(X_fit, y_fit, sample_weight=weight)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities of the fitted estimator, shape (n_windows, n_classes)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self.estimator_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        """Predicted class of every window, shape (n_windows,)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self.estimator_.predict(X)


def _classifier(model: str, random_state: int | None, model_params: dict):
    if model == "logreg":
        params = {"C": 1.0, "max_iter": 2000, "class_weight": "balanced", "random_state": random_state}
        return LogisticRegression(**{**params, **model_params})
    if model == "hgb":
        params = {"max_iter": 200, "learning_rate": 0.1, "class_weight": "balanced", "random_state": random_state}
        return HistGradientBoostingClassifier(**{**params, **model_params})
    params = {"hidden_layer_sizes": (64,), "alpha": 1e-3, "max_iter": 200, "random_state": random_state}
    return ClassBalancedClassifier(MLPClassifier(**{**params, **model_params}), strategy="weight")


def make_baseline(
    model: str = "logreg",
    *,
    feature_set: str = "basic_plus",
    features: bool = True,
    sampler: str | None = None,
    sfreq: float = 256.0,
    random_state: int | None = 0,
    **model_params,
) -> Pipeline:
    """Build a classical baseline pipeline ``features → StandardScaler → classifier``.

    Parameters
    ----------
    model : {"logreg", "hgb", "mlp"}, default="logreg"
        Logistic regression, histogram gradient boosting or a one-hidden-layer MLP.
    feature_set : str, default="basic_plus"
        Passed to :class:`sklearn_eeg.features.extractor.FeatureExtractor`.
    features : bool, default=True
        Start with the feature extractor (input: windows of shape
        ``(n_windows, n_channels, n_times)``). ``False`` starts at the scaler, for a precomputed
        feature matrix of shape ``(n_windows, n_features)``.
    sampler : {None, "undersample"}, default=None
        ``"undersample"`` wraps the classifier in :class:`ClassBalancedClassifier` with random
        undersampling of the majority class (fit time only).
    sfreq : float, default=256.0
        Sampling frequency of the windows, for the feature extractor.
    random_state : int or None, default=0
        Seeds the classifier and the undersampling.
    **model_params
        Override the classifier's parameters (for example ``C=0.1``, ``max_iter=100``).

    Returns
    -------
    pipeline : Pipeline
        Unfitted, with steps ``features`` (optional), ``scaler`` and ``clf``. The scaler and the
        classifier request ``sample_weight`` (``set_fit_request(sample_weight=True)``): with metadata
        routing enabled, ``fit(X, y, sample_weight=w)`` weights both (``w = 0`` on excluded windows
        keeps them out of the scaling and the fit while the full timeline stays in ``X``, as
        scikit-learn's cross-validation and threshold tuning need). With routing disabled nothing
        changes: pass ``scaler__sample_weight`` / ``clf__sample_weight`` as with any pipeline.

    Examples
    --------
    >>> pipe = make_baseline("hgb", features=False, max_iter=50)
    >>> [name for name, _ in pipe.steps]
    ['scaler', 'clf']
    >>> import sklearn
    >>> X = np.random.default_rng(0).normal(size=(60, 3)); y = np.arange(60) % 2; w = (np.arange(60) < 40) * 1.0
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     _ = make_baseline(features=False).fit(X, y, sample_weight=w)   # routed to scaler and clf
    """
    if model not in BASELINE_MODELS:
        raise ValueError(f"unknown baseline model {model!r}; choose one of {BASELINE_MODELS}")
    if sampler not in (None, "undersample"):
        raise ValueError(f"sampler must be None or 'undersample'; got {sampler!r}")
    clf = _classifier(model, random_state, model_params)
    if sampler == "undersample":
        clf = ClassBalancedClassifier(clf, strategy="undersample", random_state=random_state)
    steps = [("scaler", StandardScaler()), ("clf", clf)]
    if features:
        steps.insert(0, ("features", FeatureExtractor(sfreq=sfreq, feature_set=feature_set)))
    _request_sample_weight(step for _, step in steps)
    return Pipeline(steps)


def _request_sample_weight(steps) -> None:
    """``set_fit_request(sample_weight=True)`` on every step whose ``fit`` takes ``sample_weight``.

    The request is stored on the step and read only when metadata routing is enabled; sklearn
    refuses to set it otherwise, hence the temporary ``config_context``. With routing disabled the
    pipeline behaves as before (``fit(X, y, clf__sample_weight=w)``).
    """
    with config_context(enable_metadata_routing=True):
        for step in steps:
            if "sample_weight" in inspect.signature(step.fit).parameters:
                step.set_fit_request(sample_weight=True)
