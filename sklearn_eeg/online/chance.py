"""Chance forecasters for a stream: a random walk and periodic spikes that continue from window to window.

The chance baselines of :mod:`sklearn_eeg.models.chance` are scikit-learn classifiers whose risk is a
function of the rows of one ``predict_proba`` call: the random walk drifts over the rows *it is given*.
:class:`~sklearn_eeg.online.forecaster.OnlineForecaster` scores one window per call, so that walk restarts
at every window (an independent draw each time). The stream baselines here keep their position between
calls instead, as a forecaster that knows nothing about the EEG but has a memory would:

* :class:`RandomWalkStream`: the logit AR(1) walk of
  :class:`~sklearn_eeg.models.chance.RandomWalkRiskClassifier` (the same
  :func:`~sklearn_eeg.models.chance.logit_walk`, ``step`` and ``reversion``), one step per window scored,
  started from its stationary distribution;
* :class:`PeriodicStream`: a one-window spike of risk 1 every ``period`` windows (0 otherwise), at a
  chosen phase.

Both read only the number of rows they are given, never their values, and hold the state of one stream:
they are not scikit-learn estimators (nothing to fit; ``predict_proba`` moves them on). The forecaster
saves their state with its own (:meth:`get_state` / :meth:`set_state`, plain values), so a resumed stream
continues the same walk. The project rule that what scores alarms keeps a constant, a periodic and a
random-walk risk in its tests applies to the online path through these (``tests/test_online.py``).
"""

from __future__ import annotations

import json

import numpy as np
from scipy.special import expit, logit

from sklearn_eeg.models.chance import logit_walk

__all__ = ["PeriodicStream", "RandomWalkStream"]


class RandomWalkStream:
    """Random-walk chance risk that continues across ``predict_proba`` calls, one step per row.

    The risk of the ``t``-th row scored is ``expit(logit(prevalence) + d_t)`` with
    ``d_t = (1 - reversion) * d_{t-1} + step * e_t``, ``e_t ~ N(0, 1)`` drawn from ``seed``, and ``d_0``
    from the walk's stationary distribution.

    Parameters
    ----------
    prevalence : float, default=0.5
        Centre of the walk, in (0, 1) (a training preictal rate).
    step : float, default=0.05
        Standard deviation of a row's logit increment (>= 0).
    reversion : float, default=0.001
        Share of the logit deviation removed at every row, in (0, 1].
    seed : int, default=0
        Seed of the increments.

    Examples
    --------
    >>> walk = RandomWalkStream(seed=1)
    >>> a = walk.predict_proba(np.zeros((3, 2)))[:, 1]
    >>> b = walk.predict_proba(np.zeros((2, 2)))[:, 1]
    >>> bool(np.array_equal(np.r_[a, b], RandomWalkStream(seed=1).predict_proba(np.zeros((5, 2)))[:, 1]))
    True
    """

    def __init__(self, prevalence: float = 0.5, *, step: float = 0.05, reversion: float = 0.001, seed: int = 0):
        if not 0.0 < prevalence < 1.0:
            raise ValueError(f"prevalence must be in (0, 1), got {prevalence!r}")
        if not step >= 0:
            raise ValueError(f"step must be >= 0, got {step!r}")
        if not 0.0 < reversion <= 1.0:
            raise ValueError(f"reversion must be in (0, 1], got {reversion!r}")
        self.prevalence, self.step, self.reversion, self.seed = float(prevalence), float(step), float(reversion), int(seed)
        self._rng = np.random.default_rng(self.seed)
        self._deviation: float | None = None

    def predict_proba(self, X) -> np.ndarray:
        """Advance the walk by one step per row of ``X``; ``[1 - risk, risk]`` per row.

        Parameters
        ----------
        X : array-like of shape (n_rows, ...)
            Only its length is read.

        Returns
        -------
        proba : ndarray of shape (n_rows, 2)
        """
        deviations = logit_walk(self._rng.standard_normal(len(X)), step=self.step, reversion=self.reversion,
                                previous=self._deviation)
        if len(deviations):
            self._deviation = float(deviations[-1])
        risk = expit(logit(self.prevalence) + deviations)
        return np.column_stack([1.0 - risk, risk])

    def get_state(self) -> dict:
        """The walk's position and generator state (plain JSON values)."""
        return {"deviation": self._deviation, "rng": json.dumps(self._rng.bit_generator.state)}

    def set_state(self, state: dict) -> None:
        """Continue from a state written by :meth:`get_state` (of a walk with the same parameters)."""
        deviation = state["deviation"]
        self._deviation = None if deviation is None or np.isnan(deviation) else float(deviation)
        self._rng.bit_generator.state = json.loads(str(state["rng"]))


class PeriodicStream:
    """Periodic chance risk: 1 on every ``period``-th row scored (from ``phase``), 0 on the others.

    Parameters
    ----------
    period : int
        Rows (windows) from one spike to the next (>= 1); with 5-s strides, 126 rows is one warning
        period of SPH + SOP = 630 s.
    phase : int, default=0
        Row of the first spike, in ``[0, period)``.

    Examples
    --------
    >>> PeriodicStream(3, phase=1).predict_proba(np.zeros((7, 1)))[:, 1]
    array([0., 1., 0., 0., 1., 0., 0.])
    """

    def __init__(self, period: int, *, phase: int = 0):
        if int(period) < 1 or not 0 <= int(phase) < int(period):
            raise ValueError(f"need period >= 1 and 0 <= phase < period, got period={period}, phase={phase}")
        self.period, self.phase = int(period), int(phase)
        self._rows = 0

    def predict_proba(self, X) -> np.ndarray:
        """``[1 - risk, risk]`` of the next ``len(X)`` rows of the stream.

        Parameters
        ----------
        X : array-like of shape (n_rows, ...)
            Only its length is read.

        Returns
        -------
        proba : ndarray of shape (n_rows, 2)
        """
        rows = self._rows + np.arange(len(X))
        self._rows += len(X)
        risk = (rows % self.period == self.phase).astype(float)
        return np.column_stack([1.0 - risk, risk])

    def get_state(self) -> dict:
        """Rows scored so far."""
        return {"rows": self._rows}

    def set_state(self, state: dict) -> None:
        """Continue from a state written by :meth:`get_state`."""
        self._rows = int(state["rows"])
