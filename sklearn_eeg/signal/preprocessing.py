"""Signal preprocessing: pure filter functions and 3-D transformers.

The transformers take and return windows ``(n_windows, n_channels, n_times)`` in µV. They are
stateless (``fit`` only validates), so they cannot leak information between windows or folds.

They also take ``mne.Epochs`` / ``mne.EpochsArray`` (any ``mne.BaseEpochs``), converted to float32
µV windows by :func:`~sklearn_eeg.data.mne_input.epochs_to_windows` (each channel's unit from
``info``, EEG-type channels only); the output is an array, never Epochs. The sampling rate of
Epochs is ``info["sfreq"]``: a transformer with ``sfreq=None`` uses it, one whose ``sfreq`` is set
(the default 256.0 included) raises a ``ValueError`` naming both rates when they differ. With
``sfreq=None`` an array input is refused (its rate is unknown). MNE is never imported for arrays.
"""

from __future__ import annotations

import sys
import warnings
from fractions import Fraction

import numpy as np
from scipy import signal
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_array

__all__ = [
    "ArtifactRejector",
    "ArtifactWarning",
    "BandpassFilter",
    "NotchFilter",
    "Rereference",
    "Resampler",
    "design_filter_sos",
    "filter_signal",
]


def design_filter_sos(
    sfreq: float,
    *,
    l_freq: float | None = 0.5,
    h_freq: float | None = 45.0,
    notch: float | None = 60.0,
    order: int = 4,
    notch_q: float = 30.0,
) -> np.ndarray:
    """Second-order sections of the band-pass (Butterworth) and notch (IIR) cascade.

    Applied forward-backward by :func:`filter_signal`, the response is zero-phase with
    squared magnitude: -6 dB at the band edges, order ``2 * order``.
    """
    nyquist = sfreq / 2.0
    sections = []
    if l_freq is not None and h_freq is not None and h_freq < nyquist:
        sections.append(signal.butter(order, [l_freq, h_freq], btype="bandpass", fs=sfreq, output="sos"))
    elif l_freq is not None:
        sections.append(signal.butter(order, l_freq, btype="highpass", fs=sfreq, output="sos"))
    elif h_freq is not None and h_freq < nyquist:
        sections.append(signal.butter(order, h_freq, btype="lowpass", fs=sfreq, output="sos"))
    if notch is not None and notch < nyquist:
        b, a = signal.iirnotch(notch, notch_q, fs=sfreq)
        sections.append(signal.tf2sos(b, a))
    if not sections:
        return np.array([[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]])
    return np.vstack(sections)


def filter_signal(
    data: np.ndarray,
    sfreq: float,
    *,
    l_freq: float | None = 0.5,
    h_freq: float | None = 45.0,
    notch: float | None = 60.0,
) -> np.ndarray:
    """Zero-phase band-pass + notch along the last axis; returns float32 of the same shape."""
    sos = design_filter_sos(sfreq, l_freq=l_freq, h_freq=h_freq, notch=notch)
    return signal.sosfiltfilt(sos, np.asarray(data, dtype=np.float32), axis=-1).astype(np.float32, copy=False)


# --------------------------------------------------------------------------------------------
# 3-D transformers: (n_windows, n_channels, n_times) -> same layout, stateless


def _check_windows(X) -> np.ndarray:
    X = check_array(X, allow_nd=True, dtype=(np.float32, np.float64), input_name="X")
    if X.ndim != 3:
        raise ValueError(f"X must be 3-D (n_windows, n_channels, n_times), got shape {X.shape}")
    return X


def _windows_of(X) -> tuple[np.ndarray, float | None, list[str] | None]:
    """``(windows, sfreq, ch_names)``: Epochs converted to µV with their rate and names; arrays checked, Nones."""
    if not isinstance(X, np.ndarray) and "mne" in sys.modules:  # an Epochs object implies a loaded mne
        from sklearn_eeg.data.mne_input import epochs_to_windows, is_mne_epochs  # not at import: import time

        if is_mne_epochs(X):
            X, sfreq, ch_names = epochs_to_windows(X)
            return _check_windows(X), sfreq, ch_names
    return _check_windows(X), None, None


def _resolve_sfreq(estimator, epochs_sfreq: float | None) -> float:
    """``estimator.sfreq`` checked against the Epochs' rate, or the Epochs' rate when ``sfreq`` is None."""
    name = type(estimator).__name__
    if estimator.sfreq is None:
        if epochs_sfreq is None:
            raise ValueError(
                f"{name}: sfreq=None takes the sampling rate from mne.Epochs input (info['sfreq']); "
                "pass sfreq (Hz) for array input"
            )
        return float(epochs_sfreq)
    sfreq = _check_positive("sfreq", estimator.sfreq)
    if epochs_sfreq is not None and not np.isclose(sfreq, epochs_sfreq):
        raise ValueError(
            f"{name}: sfreq={sfreq:g} Hz but the Epochs were sampled at info['sfreq']={epochs_sfreq:g} Hz; "
            f"pass sfreq=None to take the Epochs' rate (or sfreq={epochs_sfreq:g})"
        )
    return sfreq


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


class _StatelessWindowTransformer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """fit only validates; transform works window by window (no state, no leakage).

    In a Pipeline, channel names pass through :meth:`get_feature_names_out` and
    :meth:`set_output` is a no-op (3-D output has no table form), so a later feature step can
    still emit a pandas DataFrame.

    Subclasses with an ``sfreq`` parameter get the resolved rate in :meth:`_check_params` and
    :meth:`_transform` (None for the others).
    """

    def _input_sfreq(self, epochs_sfreq: float | None) -> float | None:
        return _resolve_sfreq(self, epochs_sfreq) if hasattr(self, "sfreq") else None

    def fit(self, X, y=None):
        """Validate the parameters and ``X``; nothing is learned.

        Parameters
        ----------
        X : ndarray of shape (n_windows, n_channels, n_times), or mne.BaseEpochs
            Windows in µV; Epochs are converted (see the module docstring).
        y : ignored

        Returns
        -------
        self
            With ``n_features_in_`` (the number of channels) and, for Epochs, ``ch_names_``
            (their channel names), used only for names.
        """
        X, epochs_sfreq, ch_names = _windows_of(X)
        self._check_params(self._input_sfreq(epochs_sfreq))
        self.n_features_in_ = X.shape[1]
        if ch_names is not None:
            self.ch_names_ = ch_names
        elif hasattr(self, "ch_names_"):
            del self.ch_names_
        return self

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Channel names, unchanged: ``input_features``, else the Epochs' names or ``ch0``, ``ch1``... after ``fit``.

        Returns
        -------
        names : ndarray of str of shape (n_channels,)
        """
        if input_features is not None:
            return np.asarray(input_features, dtype=object)
        if not hasattr(self, "n_features_in_"):
            raise ValueError(f"{type(self).__name__}: call fit (or pass input_features) to get channel names")
        if hasattr(self, "ch_names_"):
            return np.asarray(self.ch_names_, dtype=object)
        return np.asarray([f"ch{i}" for i in range(self.n_features_in_)], dtype=object)

    def set_output(self, *, transform=None):
        """No-op: the output is 3-D, which has no DataFrame form. Returns ``self``."""
        return self

    def _check_params(self, sfreq: float | None) -> None:
        """Raise ValueError naming the offending parameter; ``sfreq`` is the resolved rate."""

    def _transform(self, X: np.ndarray, sfreq: float | None) -> np.ndarray:
        raise NotImplementedError

    def transform(self, X) -> np.ndarray:
        """Transform windows.

        Parameters
        ----------
        X : ndarray of shape (n_windows, n_channels, n_times), or mne.BaseEpochs
            Windows in µV; Epochs are converted (see the module docstring).

        Returns
        -------
        X_out : ndarray of shape (n_windows, n_channels, n_times_out)
        """
        X, epochs_sfreq, _ = _windows_of(X)
        sfreq = self._input_sfreq(epochs_sfreq)
        self._check_params(sfreq)
        return self._transform(X, sfreq)

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


class BandpassFilter(_StatelessWindowTransformer):
    """Zero-phase Butterworth band-pass of each window.

    Butterworth order 4 per edge, applied forward and backward (``sosfiltfilt``): zero phase,
    effective order 8 per edge, -6 dB exactly at ``l_freq`` and ``h_freq``. At 256 Hz with the
    defaults the -3 dB band is 0.56-41.2 Hz; attenuation is -12 dB at 50 Hz, -28 dB at 60 Hz,
    -49 dB at 0.25 Hz. ``h_freq`` at or above Nyquist gives a high-pass only.

    Parameters
    ----------
    sfreq : float or None, default=256.0
        Sampling frequency in Hz; None: the ``info["sfreq"]`` of ``mne.Epochs`` input.
    l_freq : float or None, default=0.5
        High-pass edge in Hz (``None``: low-pass only).
    h_freq : float or None, default=45.0
        Low-pass edge in Hz (``None``: high-pass only).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((2, 18, 2560)).astype("float32")
    >>> BandpassFilter().fit_transform(X).shape
    (2, 18, 2560)
    """

    def __init__(self, *, sfreq: float = 256.0, l_freq: float | None = 0.5, h_freq: float | None = 45.0):
        self.sfreq = sfreq
        self.l_freq = l_freq
        self.h_freq = h_freq

    def _check_params(self, sfreq: float | None) -> None:
        if self.l_freq is None and self.h_freq is None:
            raise ValueError("l_freq and h_freq cannot both be None")
        if self.l_freq is not None and _check_positive("l_freq", self.l_freq) >= sfreq / 2:
            raise ValueError(f"l_freq must be below Nyquist ({sfreq / 2} Hz), got {self.l_freq!r}")
        if self.h_freq is not None:
            _check_positive("h_freq", self.h_freq)
        if self.l_freq is not None and self.h_freq is not None and self.l_freq >= self.h_freq:
            raise ValueError(f"l_freq ({self.l_freq}) must be below h_freq ({self.h_freq})")

    def _transform(self, X: np.ndarray, sfreq: float | None) -> np.ndarray:
        return filter_signal(X, sfreq, l_freq=self.l_freq, h_freq=self.h_freq, notch=None)


class NotchFilter(_StatelessWindowTransformer):
    """Zero-phase IIR notch (``scipy.signal.iirnotch``, Q = 30) applied forward and backward.

    At 60 Hz and 256 Hz the -3 dB stop band is 58.4-61.6 Hz.

    Parameters
    ----------
    sfreq : float or None, default=256.0
        Sampling frequency in Hz; None: the ``info["sfreq"]`` of ``mne.Epochs`` input.
    freq : float, default=60.0
        Line frequency in Hz (below Nyquist).
    """

    def __init__(self, *, sfreq: float = 256.0, freq: float = 60.0):
        self.sfreq = sfreq
        self.freq = freq

    def _check_params(self, sfreq: float | None) -> None:
        if _check_positive("freq", self.freq) >= sfreq / 2:
            raise ValueError(f"freq must be below Nyquist ({sfreq / 2} Hz), got {self.freq!r}")

    def _transform(self, X: np.ndarray, sfreq: float | None) -> np.ndarray:
        return filter_signal(X, sfreq, l_freq=None, h_freq=None, notch=self.freq)


class Rereference(_StatelessWindowTransformer):
    """Re-reference channels within each window.

    Parameters
    ----------
    method : {"average", "keep"}, default="average"
        ``"average"`` subtracts the mean over channels at every sample; ``"keep"`` returns the
        data unchanged (e.g. the CHB-MIT bipolar montage).
    """

    def __init__(self, *, method: str = "average"):
        self.method = method

    def _check_params(self, sfreq: float | None) -> None:
        if self.method not in ("average", "keep"):
            raise ValueError(f"method must be 'average' or 'keep', got {self.method!r}")

    def _transform(self, X: np.ndarray, sfreq: float | None) -> np.ndarray:
        if self.method == "keep":
            return X
        return X - X.mean(axis=1, keepdims=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class Resampler(_StatelessWindowTransformer):
    """Polyphase resampling of each window (``scipy.signal.resample_poly``, Kaiser FIR).

    The up/down factors are ``new_sfreq / sfreq`` as a fraction (denominator at most 1000);
    the anti-aliasing filter is resample_poly's default.

    Parameters
    ----------
    sfreq : float or None, default=256.0
        Input sampling frequency in Hz; None: the ``info["sfreq"]`` of ``mne.Epochs`` input.
    new_sfreq : float, default=128.0
        Output sampling frequency in Hz.
    """

    def __init__(self, *, sfreq: float = 256.0, new_sfreq: float = 128.0):
        self.sfreq = sfreq
        self.new_sfreq = new_sfreq

    def _check_params(self, sfreq: float | None) -> None:
        _check_positive("new_sfreq", self.new_sfreq)

    def _transform(self, X: np.ndarray, sfreq: float | None) -> np.ndarray:
        ratio = Fraction(float(self.new_sfreq) / sfreq).limit_denominator(1000)
        if ratio == 1:
            return X
        out = signal.resample_poly(X, ratio.numerator, ratio.denominator, axis=-1)
        return out.astype(X.dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class ArtifactWarning(UserWarning):
    """Windows were rejected; ``indices`` holds their positions in the input."""

    def __init__(self, message: str, indices: np.ndarray):
        super().__init__(message)
        self.indices = indices


class ArtifactRejector(_StatelessWindowTransformer):
    """Peak-to-peak amplitude artifact detection.

    A window is bad when the peak-to-peak amplitude of any channel exceeds ``threshold`` µV.

    Parameters
    ----------
    threshold : float, default=500.0
        Peak-to-peak limit in µV.
    mode : {"flag", "reject"}, default="flag"
        ``"flag"``: ``transform`` returns ``X`` unchanged; call :meth:`flag` for the bad windows
        (e.g. to fill the window table's ``bad`` column). ``"reject"``: ``transform`` drops the
        bad windows and emits an :class:`ArtifactWarning` with their count and ``indices``
        (rows no longer align with ``y``: use it outside a supervised Pipeline).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((3, 2, 100), dtype="float32"); X[1, 0, 50] = 900.0
    >>> ArtifactRejector().flag(X)
    array([False,  True, False])
    """

    def __init__(self, *, threshold: float = 500.0, mode: str = "flag"):
        self.threshold = threshold
        self.mode = mode

    def _check_params(self, sfreq: float | None) -> None:
        _check_positive("threshold", self.threshold)
        if self.mode not in ("flag", "reject"):
            raise ValueError(f"mode must be 'flag' or 'reject', got {self.mode!r}")

    def flag(self, X) -> np.ndarray:
        """Bad-window mask.

        Parameters
        ----------
        X : ndarray of shape (n_windows, n_channels, n_times), or mne.BaseEpochs
            Windows in µV (Epochs are converted to µV).

        Returns
        -------
        bad : ndarray of shape (n_windows,), bool
        """
        self._check_params(None)
        X, _, _ = _windows_of(X)
        return np.ptp(X, axis=-1).max(axis=-1, initial=0.0) > self.threshold

    def _transform(self, X: np.ndarray, sfreq: float | None) -> np.ndarray:
        if self.mode == "flag":
            return X
        bad = self.flag(X)
        if bad.any():
            indices = np.flatnonzero(bad)
            shown = ", ".join(map(str, indices[:10])) + (", ..." if indices.size > 10 else "")
            warnings.warn(
                ArtifactWarning(
                    f"ArtifactRejector rejected {indices.size} of {len(X)} windows "
                    f"(peak-to-peak > {self.threshold} µV): indices [{shown}]",
                    indices,
                ),
                stacklevel=3,
            )
        return X[~bad]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
