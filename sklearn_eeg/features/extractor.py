"""Feature transformers: 3-D windows ``(n_windows, n_channels, n_times)`` to a 2-D feature matrix.

Thin scikit-learn wrappers around :mod:`sklearn_eeg.features.functions`. Every transformer

* also accepts 2-D ``X`` of shape ``(n_windows, n_times)``, read as single-channel windows;
* resolves channel names in ``fit`` (``ch_names_``): the given ``ch_names``, else the 18 canonical
  bipolar names when there are 18 channels, else ``ch0``, ``ch1``...;
* names its columns ``<channel>__<feature>`` (``FP1-F7__pow_alpha``), so
  ``set_output(transform="pandas")`` works;
* preserves float32/float64 (float32 input is computed in float32 where safe);
* also accepts ``mne.Epochs`` / ``mne.EpochsArray`` (any ``mne.BaseEpochs``), converted by
  :func:`~sklearn_eeg.data.mne_input.epochs_to_windows`: data in µV from each channel's unit
  (float32), the EEG-type channels only. The sampling rate is ``epochs.info["sfreq"]``: a
  transformer with ``sfreq=None`` takes it (``sfreq_``); one whose ``sfreq`` is set (the default
  256.0 included) raises a ``ValueError`` naming both rates when they differ. The column names use
  the Epochs' channel names (an explicit ``ch_names`` must be the same names). In ``transform``,
  Epochs must have the fitted ``sfreq_`` and ``ch_names_``.

``n_features_in_`` is ``X.shape[1]`` as in scikit-learn (the number of channels for 3-D input).
MNE is never imported for array input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data
from tqdm.auto import tqdm

from sklearn_eeg.data import CANONICAL_CHANNELS
from sklearn_eeg.data.edf import normalize_channel_name
from sklearn_eeg.data.mne_input import epochs_to_windows, is_mne_epochs
from sklearn_eeg.features import functions as ff

__all__ = [
    "BACKENDS",
    "BandPowerTrend",
    "BandPowers",
    "BandRatios",
    "Coherence",
    "FeatureExtractor",
    "Hjorth",
    "Kurtosis",
    "LineLength",
    "SpectralEdge",
    "SpectralEntropy",
    "Variance",
    "WaveletEnergy",
]

BACKENDS = ("numpy", "mne-features")


def _split_epochs(X) -> tuple[object, float | None, list[str] | None]:
    """``(X, sfreq, ch_names)``: Epochs converted to µV windows; anything else unchanged, with Nones."""
    if is_mne_epochs(X):
        return epochs_to_windows(X)
    return X, None, None


def _resolve_sfreq(estimator, param: float | None, epochs_sfreq: float | None) -> float:
    """The rate to use: ``param`` checked against the Epochs' rate, or the Epochs' rate when ``param`` is None."""
    name = type(estimator).__name__
    if param is None:
        if epochs_sfreq is None:
            raise ValueError(
                f"{name}: sfreq=None takes the sampling rate from mne.Epochs input (info['sfreq']); "
                "pass sfreq (Hz) for array input"
            )
        return float(epochs_sfreq)
    if isinstance(param, bool) or not isinstance(param, Real) or not param > 0:
        raise ValueError(f"sfreq must be a positive number or None, got {param!r}")
    if epochs_sfreq is not None and not np.isclose(float(param), epochs_sfreq):
        raise ValueError(
            f"{name}: sfreq={float(param):g} Hz but the Epochs were sampled at info['sfreq']={epochs_sfreq:g} Hz; "
            f"pass sfreq=None to take the Epochs' rate (or sfreq={epochs_sfreq:g})"
        )
    return float(param)


def _same_names(a: Sequence[str], b: Sequence[str]) -> bool:
    return [normalize_channel_name(str(x)) for x in a] == [normalize_channel_name(str(x)) for x in b]


class _WindowFeatures(TransformerMixin, BaseEstimator):
    """Shared fit/validation/naming; subclasses define ``_groups`` and ``_compute``."""

    def _groups(self) -> tuple[str, ...]:
        raise NotImplementedError

    def _sfreq(self) -> float | None:
        """The fitted rate ``sfreq_`` (None for transformers without an ``sfreq`` parameter)."""
        if not hasattr(self, "sfreq"):
            return None
        return getattr(self, "sfreq_", self.sfreq)  # estimators pickled before sfreq_ existed

    def _bands(self) -> dict[str, tuple[float, float]] | None:
        bands = getattr(self, "bands", None)
        sfreq = self._sfreq()
        return None if sfreq is None else ff.resolve_bands(bands, sfreq)

    def _pairs(self) -> list[tuple[int, int]] | None:
        return None

    def _aggregate(self) -> bool:
        return False

    def _validate(self, X, *, reset: bool) -> np.ndarray:
        X = validate_data(self, X, reset=reset, allow_nd=True, dtype=[np.float64, np.float32])
        if X.ndim == 2:
            X = X[:, None, :]
        if X.ndim != 3:
            raise ValueError(
                f"X must be 3-D (n_windows, n_channels, n_times) or 2-D (n_windows, n_times); got shape {X.shape}"
            )
        return X

    def fit(self, X, y=None):
        """Check ``X`` and the parameters; resolve the sampling rate and channel names.

        Parameters
        ----------
        X : ndarray of shape (n_windows, n_channels, n_times) or (n_windows, n_times), or mne.BaseEpochs
            Windows in µV; Epochs are converted (see the module docstring).
        y : ignored

        Returns
        -------
        self
        """
        X, epochs_sfreq, epochs_names = _split_epochs(X)
        X = self._validate(X, reset=True)
        n_channels = X.shape[1]
        if hasattr(self, "sfreq"):
            self.sfreq_ = _resolve_sfreq(self, self.sfreq, epochs_sfreq)
        self._bands()  # validates bands against Nyquist
        convention = getattr(self, "convention", "standard")
        if convention not in ff.CONVENTIONS:
            raise ValueError(f"convention must be one of {ff.CONVENTIONS}, got {convention!r}")
        ch_names = self.ch_names
        if ch_names is None:
            if epochs_names is not None:
                ch_names = epochs_names
            else:
                ch_names = CANONICAL_CHANNELS if n_channels == 18 else [f"ch{i}" for i in range(n_channels)]
        elif len(ch_names) != n_channels:
            raise ValueError(f"ch_names has {len(ch_names)} names but X has {n_channels} channels")
        elif epochs_names is not None and not _same_names(ch_names, epochs_names):
            raise ValueError(
                f"{type(self).__name__}: ch_names {list(ch_names)} differ from the Epochs' channels {epochs_names}; "
                "leave ch_names=None to use the Epochs' names"
            )
        self.ch_names_ = [str(c) for c in ch_names]
        pairs = self._pairs()
        if pairs is not None and any(not (0 <= i < n_channels and 0 <= j < n_channels) for i, j in pairs):
            raise ValueError(f"pairs must index channels 0..{n_channels - 1}, got {pairs!r}")
        self._n_out = len(self.get_feature_names_out())
        return self

    def _compute(self, X: np.ndarray) -> np.ndarray:
        """Features of ``X`` in chunks of ``feature_functions.CHUNK_SIZE`` windows."""
        params = {
            "features": self._groups(),
            "bands": self._bands(),
            "convention": getattr(self, "convention", "standard"),
            "pairs": self._pairs(),
            "aggregate": self._aggregate(),
        }
        sfreq = self._sfreq()
        starts = range(0, X.shape[0], ff.CHUNK_SIZE)
        chunks = (X[s : s + ff.CHUNK_SIZE] for s in starts)
        if getattr(self, "verbose", False):  # even disabled, tqdm locks and scans its instances (per streamed window)
            chunks = tqdm(chunks, total=len(starts), desc="features")
        n_jobs = getattr(self, "n_jobs", None)
        if n_jobs in (None, 1):
            results = [ff.compute_features(c, sfreq, **params) for c in chunks]
        else:
            results = Parallel(n_jobs=n_jobs)(delayed(ff.compute_features)(c, sfreq, **params) for c in chunks)
        if not results:
            return np.zeros((0, self._n_out))
        return np.concatenate(results, axis=0)

    def transform(self, X) -> np.ndarray:
        """Compute the features.

        Parameters
        ----------
        X : ndarray of shape (n_windows, n_channels, n_times) or (n_windows, n_times), or mne.BaseEpochs
            Epochs must have the fitted ``sfreq_`` and channel names ``ch_names_``.

        Returns
        -------
        F : ndarray of shape (n_windows, n_features_out)
            Same float dtype as ``X`` (float32 for Epochs); never NaN or inf for finite input.
        """
        check_is_fitted(self)
        X, epochs_sfreq, epochs_names = _split_epochs(X)
        if epochs_sfreq is not None:
            sfreq = self._sfreq()
            if sfreq is not None and not np.isclose(sfreq, epochs_sfreq):
                raise ValueError(
                    f"{type(self).__name__} was fitted at sfreq_={sfreq:g} Hz but the Epochs were sampled at "
                    f"info['sfreq']={epochs_sfreq:g} Hz"
                )
            if len(epochs_names) == len(self.ch_names_) and not _same_names(epochs_names, self.ch_names_):
                raise ValueError(
                    f"{type(self).__name__} was fitted on channels {self.ch_names_} but the Epochs have {epochs_names}"
                )
        X = self._validate(X, reset=False)
        return self._compute(X).astype(X.dtype, copy=False)

    def transform_checked(self, X: np.ndarray) -> np.ndarray:
        """:meth:`transform` for windows the caller has already checked, without scikit-learn's validation.

        For a stream that featurizes one window per call, where the validation costs about as much as a
        small feature set. Nothing is checked: ``X`` must be what :meth:`transform` would accept and pass
        on (a C-contiguous float32 or float64 array of shape (n_windows, n_channels, n_times), finite,
        with the fitted channel count); the features are then identical.

        Parameters
        ----------
        X : ndarray of shape (n_windows, n_channels, n_times)

        Returns
        -------
        F : ndarray of shape (n_windows, n_features_out)
        """
        return self._compute(X).astype(X.dtype, copy=False)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names ``<channel>__<feature>`` (plus ``mean__``/``std__`` aggregates where enabled).

        Parameters
        ----------
        input_features : ignored
            Checked against ``n_features_in_`` for scikit-learn compatibility only.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self, "ch_names_")
        _check_feature_names_in(self, input_features, generate_names=False)
        names = ff.feature_names(
            self._groups(), self.ch_names_, bands=self._bands(), pairs=self._pairs(), aggregate=self._aggregate()
        )
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class FeatureExtractor(_WindowFeatures):
    """Per-channel EEG features plus cross-channel aggregates, from a named feature set.

    Parameters
    ----------
    sfreq : float or None, default=256.0
        Sampling frequency in Hz. None: ``info["sfreq"]`` of ``mne.Epochs`` input (arrays then
        need an explicit rate). A set rate that differs from the Epochs' raises a ``ValueError``.
    feature_set : {"basic", "basic_plus", "connectivity_light"}, default="basic_plus"
        ``basic``: band powers, line length, variance. ``basic_plus``: + relative band powers,
        theta/alpha, beta/alpha and (delta+theta)/(alpha+beta) ratios, kurtosis, Hjorth
        mobility/complexity, spectral entropy, SEF95. ``connectivity_light``: + alpha/beta
        coherence on at most 20 channel pairs (:func:`~sklearn_eeg.features.functions.default_channel_pairs`).
    backend : {"numpy", "mne-features"}, default="numpy"
        ``"numpy"``: batched Welch (one FFT for all spectral features), chunks of
        ``feature_functions.CHUNK_SIZE`` windows. ``"mne-features"``: computed by
        ``mne_features.feature_extraction.extract_features`` (slow, a reference; its conventions;
        coherence by numpy).
    bands : dict name -> (low, high), default=None
        Frequency bands in Hz; ``None``: delta 0.5-4, theta 4-8, alpha 8-12, beta 12-30,
        gamma 30-45. Every edge must be at most ``sfreq / 2``.
    n_jobs : int, default=None
        Parallel chunks (joblib); ``None`` means 1.
    ch_names : list of str, default=None
        Channel names for the column names; see the module docstring (None with Epochs input:
        the Epochs' channel names).
    convention : {"standard", "mne-features"}, default="standard"
        Numpy-backend definitions (see :mod:`sklearn_eeg.features.functions`); ``"mne-features"``
        reproduces mne-features 0.3.2 to float precision.
    verbose : bool, default=False
        Show a progress bar over chunks.

    Attributes
    ----------
    sfreq_ : float
        Sampling frequency used: ``sfreq``, or the Epochs' ``info["sfreq"]`` when ``sfreq`` is None.
    ch_names_ : list of str
        Resolved channel names.
    n_features_in_ : int
        Number of channels seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_eeg.features.extractor import FeatureExtractor
    >>> X = np.random.default_rng(0).standard_normal((4, 18, 2560)).astype("float32")
    >>> fe = FeatureExtractor(feature_set="basic").fit(X)
    >>> fe.transform(X).shape
    (4, 140)
    >>> fe.get_feature_names_out()[2]
    'FP1-F7__pow_alpha'

    MNE Epochs (volts) are converted to µV; ``sfreq=None`` takes their sampling rate:

    >>> import mne
    >>> info = mne.create_info(["Fp1", "Cz"], 128.0, ch_types="eeg")
    >>> epochs = mne.EpochsArray(1e-6 * np.ones((2, 2, 1280)), info, verbose="error")
    >>> fe = FeatureExtractor(sfreq=None, feature_set="basic").fit(epochs)
    >>> fe.sfreq_, fe.get_feature_names_out()[0]
    (128.0, 'Fp1__pow_delta')
    """

    def __init__(
        self,
        *,
        sfreq: float = 256.0,
        feature_set: str = "basic_plus",
        backend: str = "numpy",
        bands: Mapping[str, Sequence[float]] | None = None,
        n_jobs: int | None = None,
        ch_names: Sequence[str] | None = None,
        convention: str = "standard",
        verbose: bool = False,
    ):
        self.sfreq = sfreq
        self.feature_set = feature_set
        self.backend = backend
        self.bands = bands
        self.n_jobs = n_jobs
        self.ch_names = ch_names
        self.convention = convention
        self.verbose = verbose

    def _groups(self) -> tuple[str, ...]:
        return ff.check_feature_set(self.feature_set)

    def _aggregate(self) -> bool:
        return True

    def fit(self, X, y=None):
        """Check ``X`` and the parameters; resolve channel names.

        Parameters
        ----------
        X : ndarray of shape (n_windows, n_channels, n_times) or (n_windows, n_times)
        y : ignored

        Returns
        -------
        self
        """
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        return super().fit(X, y)

    def _compute(self, X: np.ndarray) -> np.ndarray:
        if self.backend == "mne-features":
            return ff.compute_features_mne(
                X, self._sfreq(), features=self._groups(), bands=self._bands(), n_jobs=self.n_jobs or 1
            )
        return super()._compute(X)


class BandPowers(_WindowFeatures):
    """Welch band powers per channel (absolute in µV², or relative to the total power).

    Parameters
    ----------
    sfreq : float or None, default=256.0
        None: the Epochs' ``info["sfreq"]`` (see :class:`FeatureExtractor`).
    bands : dict name -> (low, high), default=None
        ``None``: the five default bands (see :class:`FeatureExtractor`).
    relative : bool, default=False
    convention : {"standard", "mne-features"}, default="standard"
        Absolute power as µV² (``"standard"``) or mne-features' plain bin sum.
    ch_names : list of str, default=None

    Attributes
    ----------
    sfreq_ : float
        Sampling frequency used (``sfreq`` or the Epochs' rate).
    ch_names_ : list of str
    n_features_in_ : int
    """

    def __init__(
        self,
        *,
        sfreq: float = 256.0,
        bands: Mapping[str, Sequence[float]] | None = None,
        relative: bool = False,
        convention: str = "standard",
        ch_names: Sequence[str] | None = None,
    ):
        self.sfreq = sfreq
        self.bands = bands
        self.relative = relative
        self.convention = convention
        self.ch_names = ch_names

    def _groups(self):
        return ("relative_band_powers",) if self.relative else ("band_powers",)


class BandPowerTrend(_WindowFeatures):
    """Change of each band power from the previous window: ``(p_t - p_{t-1}) / (p_t + p_{t-1})``.

    Bounded in [-1, 1]; 0 for the first window and where both powers are 0. The previous window
    is the previous row of ``X``, so ``X`` must hold consecutive windows of **one recording in
    time order**: a batch spanning several recordings (or shuffled windows) would mix them. For
    that reason it is in no named feature set of :class:`FeatureExtractor`; apply it per
    recording (e.g. in :func:`~sklearn_eeg.features.cache.recording_features`-style code).

    Parameters
    ----------
    sfreq : float or None, default=256.0
        None: the Epochs' ``info["sfreq"]`` (see :class:`FeatureExtractor`).
    bands : dict name -> (low, high), default=None
    ch_names : list of str, default=None

    Attributes
    ----------
    sfreq_ : float
        Sampling frequency used (``sfreq`` or the Epochs' rate).
    ch_names_ : list of str
    n_features_in_ : int
    """

    def __init__(
        self,
        *,
        sfreq: float = 256.0,
        bands: Mapping[str, Sequence[float]] | None = None,
        ch_names: Sequence[str] | None = None,
    ):
        self.sfreq = sfreq
        self.bands = bands
        self.ch_names = ch_names

    def _groups(self):
        return ("band_power_trend",)

    def _compute(self, X: np.ndarray) -> np.ndarray:
        powers = np.concatenate(
            [ff.compute_band_powers(X[s : s + ff.CHUNK_SIZE], self._sfreq(), bands=self._bands())
             for s in range(0, X.shape[0], ff.CHUNK_SIZE)]
            or [np.zeros((0, X.shape[1], len(self._bands())))]
        )  # fmt: skip
        return ff.band_power_trend(powers).reshape(X.shape[0], -1)


class BandRatios(_WindowFeatures):
    """theta/alpha, beta/alpha and (delta+theta)/(alpha+beta) power ratios per channel.

    Parameters
    ----------
    sfreq : float or None, default=256.0
        None: the Epochs' ``info["sfreq"]`` (see :class:`FeatureExtractor`).
    bands : dict name -> (low, high), default=None
        Ratios whose bands are missing from ``bands`` are left out.
    ch_names : list of str, default=None

    Attributes
    ----------
    sfreq_ : float
        Sampling frequency used (``sfreq`` or the Epochs' rate).
    ch_names_ : list of str
    n_features_in_ : int
    """

    def __init__(
        self,
        *,
        sfreq: float = 256.0,
        bands: Mapping[str, Sequence[float]] | None = None,
        ch_names: Sequence[str] | None = None,
    ):
        self.sfreq = sfreq
        self.bands = bands
        self.ch_names = ch_names

    def _groups(self):
        return ("band_ratios",)


class SpectralEntropy(_WindowFeatures):
    """Shannon entropy (bits) of the Welch PSD per channel, DC excluded.

    Parameters
    ----------
    sfreq : float or None, default=256.0
        None: the Epochs' ``info["sfreq"]`` (see :class:`FeatureExtractor`).
    convention : {"standard", "mne-features"}, default="standard"
    ch_names : list of str, default=None

    Attributes
    ----------
    sfreq_ : float
        Sampling frequency used (``sfreq`` or the Epochs' rate).
    ch_names_ : list of str
    n_features_in_ : int
    """

    def __init__(
        self, *, sfreq: float = 256.0, convention: str = "standard", ch_names: Sequence[str] | None = None
    ):
        self.sfreq = sfreq
        self.convention = convention
        self.ch_names = ch_names

    def _groups(self):
        return ("spectral_entropy",)


class SpectralEdge(_WindowFeatures):
    """95 % spectral edge frequency (Hz) per channel.

    Parameters
    ----------
    sfreq : float or None, default=256.0
        None: the Epochs' ``info["sfreq"]`` (see :class:`FeatureExtractor`).
    ch_names : list of str, default=None

    Attributes
    ----------
    sfreq_ : float
        Sampling frequency used (``sfreq`` or the Epochs' rate).
    ch_names_ : list of str
    n_features_in_ : int
    """

    def __init__(self, *, sfreq: float = 256.0, ch_names: Sequence[str] | None = None):
        self.sfreq = sfreq
        self.ch_names = ch_names

    def _groups(self):
        return ("spectral_edge",)


class Coherence(_WindowFeatures):
    """Alpha and beta magnitude-squared coherence on channel pairs (Welch cross-spectra).

    Parameters
    ----------
    sfreq : float or None, default=256.0
        None: the Epochs' ``info["sfreq"]`` (see :class:`FeatureExtractor`).
    bands : dict name -> (low, high), default=None
        Must contain ``alpha`` and ``beta``.
    pairs : list of (int, int), default=None
        Channel index pairs; ``None``: :func:`~sklearn_eeg.features.functions.default_channel_pairs`.
        Columns are named ``A|B__coh_alpha``.
    ch_names : list of str, default=None

    Attributes
    ----------
    sfreq_ : float
        Sampling frequency used (``sfreq`` or the Epochs' rate).
    ch_names_ : list of str
    n_features_in_ : int
    """

    def __init__(
        self,
        *,
        sfreq: float = 256.0,
        bands: Mapping[str, Sequence[float]] | None = None,
        pairs: Sequence[tuple[int, int]] | None = None,
        ch_names: Sequence[str] | None = None,
    ):
        self.sfreq = sfreq
        self.bands = bands
        self.pairs = pairs
        self.ch_names = ch_names

    def _groups(self):
        return ("coherence",)

    def _pairs(self):
        if self.pairs is None:
            return ff.default_channel_pairs(len(self.ch_names_)) if hasattr(self, "ch_names_") else None
        return [tuple(int(v) for v in p) for p in self.pairs]


class LineLength(_WindowFeatures):
    """Mean absolute first difference per channel (µV/sample).

    Parameters
    ----------
    ch_names : list of str, default=None

    Attributes
    ----------
    ch_names_ : list of str
    n_features_in_ : int
    """

    def __init__(self, *, ch_names: Sequence[str] | None = None):
        self.ch_names = ch_names

    def _groups(self):
        return ("line_length",)


class Variance(_WindowFeatures):
    """Unbiased variance per channel (µV²).

    Parameters
    ----------
    ch_names : list of str, default=None

    Attributes
    ----------
    ch_names_ : list of str
    n_features_in_ : int
    """

    def __init__(self, *, ch_names: Sequence[str] | None = None):
        self.ch_names = ch_names

    def _groups(self):
        return ("variance",)


class Kurtosis(_WindowFeatures):
    """Pearson kurtosis per channel (3 for Gaussian noise; 0 for a constant).

    Parameters
    ----------
    ch_names : list of str, default=None

    Attributes
    ----------
    ch_names_ : list of str
    n_features_in_ : int
    """

    def __init__(self, *, ch_names: Sequence[str] | None = None):
        self.ch_names = ch_names

    def _groups(self):
        return ("kurtosis",)


class Hjorth(_WindowFeatures):
    """Hjorth mobility and complexity per channel.

    Parameters
    ----------
    convention : {"standard", "mne-features"}, default="standard"
    ch_names : list of str, default=None

    Attributes
    ----------
    ch_names_ : list of str
    n_features_in_ : int
    """

    def __init__(self, *, convention: str = "standard", ch_names: Sequence[str] | None = None):
        self.convention = convention
        self.ch_names = ch_names

    def _groups(self):
        return ("hjorth",)


class WaveletEnergy(_WindowFeatures):
    """Energy of the db4 wavelet detail coefficients D1 (finest) to D6 per channel.

    Equal to mne-features ``wavelet_coef_energy`` for windows of at least 448 samples; not in a
    named feature set (combine with ``sklearn.pipeline.FeatureUnion``). Needs PyWavelets.

    Parameters
    ----------
    ch_names : list of str, default=None

    Attributes
    ----------
    ch_names_ : list of str
    n_features_in_ : int
    """

    def __init__(self, *, ch_names: Sequence[str] | None = None):
        self.ch_names = ch_names

    def _groups(self):
        return ("wavelet_energy",)
