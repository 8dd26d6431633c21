"""A fitted fusion model (CNN on the window + its feature vector) as a model that reads windows alone.

:class:`~sklearn_eeg.models.estimators.FusionClassifier` reads ``{"signal": windows, "features": F}``,
where a deep run (:mod:`sklearn_eeg.experiments.deep_training`) standardised the feature matrix with the
mean and scale of its training rows and saved both in the model's manifest (``feature_scaling``). A
stream has only the window: :class:`StreamingFusion` computes its features with the run's feature set
(:meth:`~sklearn_eeg.features.extractor.FeatureExtractor.transform_checked`, float32 as the run's cached
features), standardises them with the saved statistics in float32 (the run's arithmetic), and passes both
to the network. The online forecaster then scores it like the CNN (``feature_set=None``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sklearn_eeg.features.extractor import FeatureExtractor

__all__ = ["StreamingFusion"]


class StreamingFusion:
    """A fitted fusion network fed the windows' standardised features, as the deep run fed it.

    Not a scikit-learn estimator: it wraps a fitted one for prediction.

    Parameters
    ----------
    estimator : FusionClassifier
        Fitted (or loaded by :func:`~sklearn_eeg.online.deep_run.load_fusion`), with ``n_features_`` > 0.
    feature_set : str
        The run's feature set (``features.feature_set`` of its config).
    sfreq : float
        Sampling frequency of the windows in Hz.
    mean, scale : sequence of float
        The training rows' feature mean and scale (``feature_scaling`` of the model's manifest).

    Attributes
    ----------
    n_channels_, n_times_ : int
        The window shape the network reads (checked by the online forecaster).

    Examples
    --------
    >>> import numpy as np
    >>> from skorch.helper import SliceDict
    >>> from sklearn_eeg.models.estimators import FusionClassifier
    >>> rng = np.random.default_rng(0)
    >>> W = rng.normal(0, 20, (16, 2, 2560)).astype(np.float32)
    >>> F = FeatureExtractor(sfreq=256.0, feature_set="basic").fit_transform(W)
    >>> mean, scale = F.mean(axis=0), F.std(axis=0) + 1e-6
    >>> net = FusionClassifier(max_epochs=1, train_split=None, module__n_filters=(4, 8), random_state=0)
    >>> _ = net.fit(SliceDict(signal=W, features=(F - mean) / scale), np.arange(16) % 2)
    >>> StreamingFusion(net, "basic", 256.0, mean, scale).predict_proba(W[:3]).shape
    (3, 2)
    """

    def __init__(self, estimator, feature_set: str, sfreq: float, mean: Sequence[float], scale: Sequence[float]):
        self.estimator = estimator
        self.feature_set = feature_set
        self.sfreq = float(sfreq)
        self.mean = np.asarray(mean, dtype=np.float32)
        self.scale = np.asarray(scale, dtype=np.float32)
        n_features = int(getattr(estimator, "n_features_", 0))
        if n_features == 0 or self.mean.shape != (n_features,) or self.scale.shape != (n_features,):
            raise ValueError(f"the fusion network reads {n_features} features; the scaling has "
                             f"{self.mean.shape[0]} means and {self.scale.shape[0]} scales")
        self.n_channels_, self.n_times_ = int(estimator.n_channels_), int(estimator.n_times_)
        self._extractor: FeatureExtractor | None = None

    def standardized_features(self, windows: np.ndarray) -> np.ndarray:
        """The windows' features, standardised with the run's training statistics (float32).

        Parameters
        ----------
        windows : ndarray of shape (n_windows, n_channels, n_times)
            Filtered, float32, C-contiguous, finite (as the forecaster gives them).

        Returns
        -------
        ndarray of shape (n_windows, n_features)
        """
        if self._extractor is None:
            extractor = FeatureExtractor(sfreq=self.sfreq, feature_set=self.feature_set).fit(windows[:1])
            n = len(extractor.get_feature_names_out())
            if n != self.mean.shape[0]:
                raise ValueError(f"the fusion network reads {self.mean.shape[0]} features; {windows.shape[1]} "
                                 f"channels give {n} {self.feature_set!r} features")
            self._extractor = extractor
        return (self._extractor.transform_checked(windows) - self.mean) / self.scale

    def predict_proba(self, windows: np.ndarray) -> np.ndarray:
        """``[P(interictal), P(preictal)]`` of each window.

        Parameters
        ----------
        windows : ndarray of shape (n_windows, n_channels, n_times)

        Returns
        -------
        ndarray of shape (n_windows, 2)
        """
        windows = np.require(windows, np.float32, ["C"])
        features = self.standardized_features(windows)
        return self.estimator.predict_proba({"signal": windows, "features": features})
