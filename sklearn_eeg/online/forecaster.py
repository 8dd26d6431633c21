"""Online seizure-risk forecasting: raw EEG chunks in, a risk per completed window and alarms out.

:class:`OnlineForecaster` takes a multichannel stream in chunks of any length and keeps everything that
crosses a chunk boundary: the causal filter's state (:class:`~sklearn_eeg.online.causal.CausalFilter`), the
samples of the next window (:class:`~sklearn_eeg.online.window_buffer.WindowBuffer`) and the alarm detector
(:class:`~sklearn_eeg.online.alarm_state.AlarmState`). Raw chunks are queued until they complete a window
and then filtered in one call: the filter is a recurrence, so this gives the samples that filtering every
chunk would, at one ``sosfilt`` call per window instead of one per chunk. Each window is featurized
(:class:`~sklearn_eeg.features.extractor.FeatureExtractor`) and scored by the model on its own, one row per
``predict_proba`` call (for a scaler → logistic-regression pipeline, the same arithmetic without
scikit-learn's per-call input validation: :func:`~sklearn_eeg.online.linear_risk.linear_risk`, used only
where it equals ``predict_proba`` bit for bit): a window's risk never depends on which other windows arrived in the same chunk
(the random-walk chance baseline, whose output depends on the rows it is given, therefore gives a
per-window random risk here). This also keeps a CNN exact: a batch of windows through a convolution
differs from the same windows one by one in the last float bits (about 1e-7 on the risk), so the online
path and the offline reference both predict one window per call and agree bit for bit.

The causal offline reference
----------------------------
The window store filters recordings zero-phase (with look-ahead), which no stream can do. The online
output is defined by, and tested against, :func:`offline_causal_risk`: the whole recording filtered
causally in one call, cut by :func:`~sklearn_eeg.signal.windows.segment_windows` like the store, every
window scored as above, and alarms raised by the offline rule
:func:`~sklearn_eeg.evaluation.alarms.raise_alarms`. For any chunking of a recording the online risks and
alarm times equal the reference's exactly.

Window ``k`` (from 0) covers stream samples ``[k * step, k * step + size)``; its time is its end,
``t0 + (k * step + size) / sfreq`` seconds, as ``t_abs`` in the window table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import sklearn

from sklearn_eeg.atomic_files import atomic_write
from sklearn_eeg.evaluation.alarms import AlarmPolicy, raise_alarms
from sklearn_eeg.features.extractor import FeatureExtractor
from sklearn_eeg.online.alarm_state import AlarmState
from sklearn_eeg.online.causal import BLOCK_SAMPLES, CausalFilter
from sklearn_eeg.online.linear_risk import linear_risk
from sklearn_eeg.online.run_folder import load_run_model
from sklearn_eeg.online.window_buffer import WindowBuffer
from sklearn_eeg.signal.windows import segment_windows

__all__ = ["OnlineForecaster", "StreamOutput", "offline_causal_risk"]

STATE_VERSION = 1
"""Version of the saved state's layout (:meth:`OnlineForecaster.save`)."""
_WINDOW_BATCH = 256  # windows featurized at once by the offline reference (bounded memory)
_STATE_PARTS = ("filter", "buffer", "alarms", "model")


class StreamOutput(NamedTuple):
    """What a chunk (or a whole recording) produced."""

    times: np.ndarray
    """Window end times (s) of the windows completed, shape (n_windows,)."""
    risks: np.ndarray
    """Their risks (the model's positive-class probability), shape (n_windows,)."""
    alarm_times: np.ndarray
    """Times of the windows that raised an alarm, shape (n_alarms,)."""


def _samples(seconds: float, sfreq: float, name: str) -> int:
    n = seconds * sfreq
    if not seconds > 0 or abs(n - round(n)) > 1e-6:
        raise ValueError(f"{name}={seconds} s must be > 0 and a whole number of samples at {sfreq} Hz")
    return int(round(n))


def _model_state(model: Any) -> dict:
    """The state of a model that keeps one (the stream chance baselines, :mod:`sklearn_eeg.online.chance`)."""
    get_state = getattr(model, "get_state", None)
    return get_state() if callable(get_state) else {}


class _WindowScorer:
    """The model's risk of each window on its own (features first unless ``feature_set`` is None).

    A model that reads windows and knows their shape (a fitted CNN's ``n_channels_`` and ``n_times_``)
    is checked against the window length here and against the stream's channels by
    :meth:`check_channels`, before any window is scored.
    """

    def __init__(self, model: Any, sfreq: float, feature_set: str | None, size: int):
        self.model, self.sfreq, self.feature_set = model, sfreq, feature_set
        self._extractor: FeatureExtractor | None = None
        # a scaler -> logistic-regression pipeline scores a row without scikit-learn's per-call validation
        self._risk = linear_risk(model) if feature_set is not None else None
        self._channels = getattr(model, "n_channels_", None) if feature_set is None else None
        n_times = getattr(model, "n_times_", None) if feature_set is None else None
        if n_times is not None and int(n_times) != size:
            raise ValueError(f"the model reads windows of {n_times} samples; the stream's windows have {size} "
                             f"({size / sfreq:g} s at {sfreq:g} Hz)")

    def check_channels(self, n_channels: int) -> None:
        """Refuse a stream whose channel count the model cannot read."""
        if self._channels is not None and int(self._channels) != n_channels:
            raise ValueError(f"the model reads {self._channels} channels; the stream has {n_channels}")

    def _fit_extractor(self, window: np.ndarray) -> FeatureExtractor:
        """The feature step, fitted on the stream's first window; refused if the model reads other features."""
        extractor = FeatureExtractor(sfreq=self.sfreq, feature_set=self.feature_set).fit(window)
        n_model, n_stream = getattr(self.model, "n_features_in_", None), len(extractor.get_feature_names_out())
        if n_model is not None and int(n_model) != n_stream:
            raise ValueError(f"the model reads {n_model} features; {window.shape[1]} channels give {n_stream} "
                             f"{self.feature_set!r} features")
        return extractor

    def risks(self, windows: np.ndarray) -> np.ndarray:
        windows = np.require(windows, np.float32, ["C", "W"])  # a strided or read-only view scores as a copy does
        if len(windows) == 0:
            return np.empty(0)
        X = windows
        if self.feature_set is not None:
            if self._extractor is None:
                self._extractor = self._fit_extractor(windows[:1])
            X = self._extractor.transform_checked(windows)  # finite float32 windows of the fitted channels
        if self._risk is not None:
            return np.array([self._risk(X[i : i + 1]) for i in range(len(X))], dtype=np.float64)
        # the stream was checked finite and features of finite windows are finite: skip sklearn's re-checks
        with sklearn.config_context(assume_finite=True):
            return np.array([self.model.predict_proba(X[i : i + 1])[0, 1] for i in range(len(X))], dtype=np.float64)


class OnlineForecaster:
    """Seizure-risk forecaster fed by a live EEG stream, chunk by chunk.

    Not a scikit-learn estimator: it wraps a fitted model and holds the state of one stream.

    Parameters
    ----------
    model : classifier
        Fitted, with ``predict_proba``; it receives a feature matrix of shape (1, n_features), or the
        filtered window of shape (1, n_channels, n_times) in µV when ``feature_set`` is None (a fitted
        :class:`~sklearn_eeg.models.estimators.SpectrogramCNNClassifier`, whose ``n_channels_`` and
        ``n_times_`` must then match the stream and the window, or a chance baseline).
    threshold : float, default=0.5
        Alarm threshold on the (smoothed) risk.
    policy : AlarmPolicy, optional
        Alarm rule; default :class:`~sklearn_eeg.evaluation.alarms.AlarmPolicy` ().
    window, stride : float, default=10.0, 5.0
        Window length and step in seconds (whole numbers of samples).
    sfreq : float, default=256.0
        Sampling frequency of the stream in Hz.
    feature_set : str or None, default="basic_plus"
        Feature set of :class:`~sklearn_eeg.features.extractor.FeatureExtractor`; None: the model reads
        the windows themselves.
    l_freq, h_freq, notch : float or None, default=0.5, 45.0, 60.0
        Causal band-pass edges and notch frequency in Hz (:class:`~sklearn_eeg.online.causal.CausalFilter`).
    t0 : float, default=0.0
        Time (s) of the stream's first sample.
    source : dict, optional
        How to load ``model`` again (``run_dir``, ``subject``, ``fah_target``; set by :meth:`from_run`),
        saved with the state so that :meth:`load` needs no model.

    Attributes
    ----------
    n_samples : int
        Samples received so far.
    n_windows : int
        Windows scored so far.

    Examples
    --------
    >>> from sklearn_eeg.models.chance import ConstantRiskClassifier
    >>> model = ConstantRiskClassifier().fit(np.zeros((4, 2, 2560)), [0, 0, 1, 1])
    >>> fc = OnlineForecaster(model, threshold=0.4, feature_set=None)
    >>> data = np.random.default_rng(0).normal(0, 20, (2, 256 * 30))
    >>> out = fc.update(data[:, :3000]), fc.update(data[:, 3000:])
    >>> [o.times.tolist() for o in out], out[0].alarm_times
    ([[10.0], [15.0, 20.0, 25.0, 30.0]], array([10.]))
    """

    def __init__(
        self,
        model: Any,
        *,
        threshold: float = 0.5,
        policy: AlarmPolicy | None = None,
        window: float = 10.0,
        stride: float = 5.0,
        sfreq: float = 256.0,
        feature_set: str | None = "basic_plus",
        l_freq: float | None = 0.5,
        h_freq: float | None = 45.0,
        notch: float | None = 60.0,
        t0: float = 0.0,
        source: dict | None = None,
    ):
        self.model = model
        self.threshold = float(threshold)
        self.policy = AlarmPolicy() if policy is None else policy
        self.window, self.stride, self.sfreq = float(window), float(stride), float(sfreq)
        self.feature_set = feature_set
        self.l_freq, self.h_freq, self.notch = l_freq, h_freq, notch
        self.t0 = float(t0)
        self.source = source
        self._size = _samples(self.window, self.sfreq, "window")
        self._step = _samples(self.stride, self.sfreq, "stride")
        self._filter = CausalFilter(self.sfreq, l_freq=l_freq, h_freq=h_freq, notch=notch)
        self._buffer = WindowBuffer(self._size, self._step)
        self._alarms = AlarmState(self.threshold, self.policy)
        self._scorer = _WindowScorer(model, self.sfreq, feature_set, self._size)
        self._raw: list[np.ndarray] = []  # raw samples not filtered yet (fewer than the next window needs)
        self._n_raw = 0
        self.n_samples = 0

    @property
    def n_windows(self) -> int:
        """Windows scored so far."""
        return self._buffer.n_windows

    @classmethod
    def from_run(cls, run_dir: str | Path, subject: str | None = None, *, fah_target: float | None = None,
                 **params: Any) -> OnlineForecaster:
        """A forecaster with a run folder's model, tuned threshold, alarm rule, windows and feature set.

        Parameters
        ----------
        run_dir : str or Path
            A LOSO, train or deep (CNN) run folder (see :func:`~sklearn_eeg.online.run_folder.load_run_model`).
        subject : str, optional
            Test subject whose fold model to use (LOSO runs with several folds).
        fah_target : float, optional
            FAH target whose tuned threshold to use.
        **params
            Other :class:`OnlineForecaster` parameters (``sfreq``, ``t0``, the filter).

        Returns
        -------
        OnlineForecaster
        """
        run = load_run_model(run_dir, subject, fah_target=fah_target)
        return cls(run.model, threshold=run.threshold, policy=run.policy, window=run.window, stride=run.stride,
                   feature_set=run.feature_set, source=run.source, **params)

    def update(self, chunk: np.ndarray) -> StreamOutput:
        """Feed the next samples; score every window they complete and run the alarm detector.

        Parameters
        ----------
        chunk : ndarray of shape (n_channels, n_samples)
            The next samples of every channel in µV, any length (0 included); the number of channels
            must not change during a stream.

        Returns
        -------
        StreamOutput
            ``(times, risks, alarm_times)`` of the windows completed by this chunk.
        """
        chunk = np.asarray(chunk)
        if chunk.ndim != 2:
            raise ValueError(f"chunk must be 2-D (n_channels, n_samples), got shape {chunk.shape}")
        if not np.all(np.isfinite(chunk)):
            raise ValueError("chunk contains NaN or infinite values")
        self._scorer.check_channels(chunk.shape[0])
        channels = self._channels()
        if channels is not None and chunk.shape[0] != channels:
            raise ValueError(f"chunk has {chunk.shape[0]} channels, the stream has {channels}")
        times, risks, alarms = [], [], []
        for start in range(0, chunk.shape[1], BLOCK_SAMPLES):  # a long chunk: a few windows in memory at once
            block = chunk[:, start : start + BLOCK_SAMPLES]
            first = self._buffer.n_windows
            windows = self._push(block)
            self.n_samples += block.shape[1]
            if not len(windows):
                continue
            for k, risk in enumerate(self._scorer.risks(windows), start=first):
                t = self.t0 + (k * self._step + self._size) / self.sfreq
                times.append(t)
                risks.append(risk)
                if self._alarms.step(risk, t)[1]:
                    alarms.append(t)
        return StreamOutput(np.asarray(times, dtype=float), np.asarray(risks, dtype=float),
                            np.asarray(alarms, dtype=float))

    def _channels(self) -> int | None:
        """Channels of the stream (None before its first sample)."""
        if self._raw:
            return self._raw[0].shape[0]
        return None if self._filter.zi is None else self._filter.zi.shape[1]

    def _push(self, block: np.ndarray) -> np.ndarray:
        """Queue raw samples; once they complete a window, filter the queue in one call and cut windows.

        Filtering is a recurrence carried across calls, so the queue filtered in one call gives the very
        samples that filtering each chunk would: deferring it only saves the per-call overhead of
        ``sosfilt`` on chunks that complete no window.
        """
        if block.shape[1]:
            self._raw.append(np.array(block, dtype=np.float32))  # a copy: the caller may reuse its buffer
            self._n_raw += block.shape[1]
        if not self._raw or self._n_raw < self._buffer.samples_needed:
            return np.empty((0, block.shape[0], self._size), dtype=np.float32)
        return self._flush()

    def _flush(self) -> np.ndarray:
        """Filter the queued raw samples into the window buffer; the windows they complete."""
        raw = self._raw[0] if len(self._raw) == 1 else np.concatenate(self._raw, axis=1)
        self._raw, self._n_raw = [], 0
        return self._buffer.push(self._filter.filter(raw))

    # ---------------------------------------------------------------------------------------------
    # save / restore

    def params(self) -> dict:
        """The parameters as plain JSON values (the policy as a dict)."""
        return {"threshold": self.threshold, "policy": self.policy.to_dict(), "window": self.window,
                "stride": self.stride, "sfreq": self.sfreq, "feature_set": self.feature_set,
                "l_freq": self.l_freq, "h_freq": self.h_freq, "notch": self.notch, "t0": self.t0,
                "source": self.source}

    def get_state(self) -> dict:
        """Everything needed to resume the stream, except the model itself.

        Raw samples queued for filtering are filtered into the window buffer first (they complete no
        window, and the output of the stream does not change).

        Returns
        -------
        state : dict
            ``params`` (:meth:`params`), ``n_samples``, and the ``filter``, ``buffer`` and ``alarms``
            states (plain values and numpy arrays); ``model``: the state of a model that keeps one
            (``get_state``/``set_state``, the stream chance baselines of :mod:`sklearn_eeg.online.chance`),
            else empty.
        """
        if self._raw:
            self._flush()
        return {"version": STATE_VERSION, "params": self.params(), "n_samples": self.n_samples,
                "filter": self._filter.get_state(), "buffer": self._buffer.get_state(),
                "alarms": self._alarms.get_state(), "model": _model_state(self.model)}

    @classmethod
    def from_state(cls, state: dict, model: Any = None) -> OnlineForecaster:
        """A forecaster that continues the stream where :meth:`get_state` left it.

        Parameters
        ----------
        state : dict
            Written by :meth:`get_state`.
        model : classifier, optional
            The same fitted model; default: loaded again from ``state["params"]["source"]`` (a run folder).

        Returns
        -------
        OnlineForecaster
        """
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"saved state version {state.get('version')!r} is not {STATE_VERSION}")
        params = dict(state["params"])
        params["policy"] = AlarmPolicy(**params["policy"])
        source = params.get("source")
        if model is None:
            if not source:
                raise ValueError("the state references no run folder: pass the model")
            model = load_run_model(source["run_dir"], source["subject"], fah_target=source["fah_target"]).model
        forecaster = cls(model, **params)
        forecaster.n_samples = int(state["n_samples"])
        forecaster._filter.set_state(state["filter"])
        forecaster._buffer.set_state(state["buffer"])
        forecaster._alarms.set_state(state["alarms"])
        if state.get("model"):
            model.set_state(state["model"])
        return forecaster

    def save(self, path: str | Path) -> Path:
        """Write the state (:meth:`get_state`) to an ``.npz`` file atomically; no pickle, no model.

        Parameters
        ----------
        path : str or Path
            Target file; its folder must exist.

        Returns
        -------
        Path
        """
        state = self.get_state()
        arrays, values = {}, {}
        for part in _STATE_PARTS:
            for key, value in state[part].items():
                if isinstance(value, np.ndarray):
                    arrays[f"{part}.{key}"] = value
                else:
                    values[f"{part}.{key}"] = value
        header = {"version": state["version"], "params": state["params"], "n_samples": state["n_samples"],
                  "values": values}

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:  # a file object: np.savez would append ".npz" to a name
                np.savez(f, header=np.array(json.dumps(header)), **arrays)

        return atomic_write(path, write)

    @classmethod
    def load(cls, path: str | Path, model: Any = None) -> OnlineForecaster:
        """Resume from a file written by :meth:`save`.

        Parameters
        ----------
        path : str or Path
        model : classifier, optional
            The same fitted model; default: loaded from the run folder the state references.

        Returns
        -------
        OnlineForecaster
        """
        with np.load(path, allow_pickle=False) as npz:
            header = json.loads(str(npz["header"]))
            arrays = {key: npz[key] for key in npz.files if key != "header"}
        state = {"version": header["version"], "params": header["params"], "n_samples": header["n_samples"]}
        for part in _STATE_PARTS:
            state[part] = {key.split(".", 1)[1]: value for key, value in {**header["values"], **arrays}.items()
                           if key.startswith(part + ".")}
        return cls.from_state(state, model)


def offline_causal_risk(data: np.ndarray, model: Any, **params: Any) -> StreamOutput:
    """The causal offline reference: what :class:`OnlineForecaster` must output for a whole recording.

    The recording is filtered causally in one call (the forecaster's filter, fresh), cut into windows as
    the window store cuts it (:func:`~sklearn_eeg.signal.windows.segment_windows`), each window scored on
    its own, and alarms raised on the whole risk timeline by :func:`~sklearn_eeg.evaluation.alarms.raise_alarms`.

    Parameters
    ----------
    data : ndarray of shape (n_channels, n_times)
        The recording in µV.
    model : classifier
        As in :class:`OnlineForecaster`.
    **params
        The other :class:`OnlineForecaster` parameters (``threshold``, ``policy``, ``window``, ``stride``,
        ``sfreq``, ``feature_set``, ``l_freq``, ``h_freq``, ``notch``, ``t0``) with its defaults: the
        reference is configured by, and checked as, the forecaster it stands for.

    Returns
    -------
    StreamOutput
        ``(times, risks, alarm_times)`` of all windows.
    """
    spec = OnlineForecaster(model, **params)  # parameters resolved and checked once, for both paths
    windows = segment_windows(spec._filter.filter(data), spec.sfreq, spec.window, spec.stride)
    spec._scorer.check_channels(data.shape[0])
    risks = np.concatenate([np.empty(0)] + [spec._scorer.risks(windows[s : s + _WINDOW_BATCH])
                                            for s in range(0, len(windows), _WINDOW_BATCH)])
    times = spec.t0 + (np.arange(len(risks)) * spec._step + spec._size) / spec.sfreq
    if not len(risks):
        return StreamOutput(times, risks, np.empty(0))
    meta = pd.DataFrame({"subject": "stream", "t_abs": times})
    policy = spec.policy if spec.policy.stride is not None else spec.policy.replace(stride=spec.stride)
    alarms = raise_alarms(risks, meta, threshold=spec.threshold, policy=policy)["t_alarm"].to_numpy(dtype=float)
    return StreamOutput(times, risks, alarms)
