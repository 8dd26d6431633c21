"""The alarm detector as a state machine: one risk at a time, the same alarms as the offline rule.

:func:`sklearn_eeg.evaluation.alarms.raise_alarms` turns a whole risk timeline into alarms.
:class:`AlarmState` applies the same rule (see :mod:`sklearn_eeg.evaluation.alarms`: smoothing,
persistence, hysteresis re-arm level, refractory period) to one window at a time and keeps what the rule
needs between windows: the smoothing state, the over-threshold count, the armed flag and the time of the
last alarm. A stream is one subject's timeline: the detector starts once, at the first window, and is
never restarted.

The smoothing is computed by the same calls as the offline rule, so that the smoothed risk, and with it
every threshold comparison, is bit for bit the offline one: the EMA by ``scipy.signal.lfilter`` with its
state carried from window to window (the offline EMA is one ``lfilter`` call over the timeline), the
moving average by :func:`~sklearn_eeg.evaluation.alarms.smooth_sorted` on the last ``n`` risks.
Window times are compared as given; offline they are shifted to a clock starting at the subject's first
window, which is the same comparison whenever times are exact in floating point (window ends on a grid of
multiples of 1/256 s are).
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from sklearn_eeg.evaluation.alarms import AlarmPolicy, check_reset, smooth_sorted

__all__ = ["AlarmState"]


class AlarmState:
    """Incremental alarm detector for one risk stream.

    Parameters
    ----------
    threshold : float
        Alarm level on the (smoothed) risk.
    policy : AlarmPolicy, optional
        Smoothing, persistence, re-arm level and refractory period; default :class:`AlarmPolicy` ().

    Attributes
    ----------
    count : int
        Consecutive over-threshold windows up to the last one.
    armed : bool
        Whether the next qualifying window may raise an alarm.
    last_alarm : float
        Time of the last alarm (``-inf`` before the first).

    Examples
    --------
    >>> state = AlarmState(0.5, AlarmPolicy(persistence=2, refractory=0.0))
    >>> [state.step(r, t)[1] for r, t in [(0.7, 10.0), (0.8, 15.0), (0.9, 20.0), (0.1, 25.0), (0.6, 30.0)]]
    [False, True, False, False, False]
    """

    def __init__(self, threshold: float, policy: AlarmPolicy | None = None):
        self.policy = AlarmPolicy() if policy is None else policy
        self.threshold = float(threshold)
        self.reset = check_reset(self.threshold, self.policy.reset)
        self.count, self.armed, self.last_alarm = 0, True, -np.inf
        self._ema: np.ndarray | None = None  # lfilter state of the EMA
        self._recent: list[float] = []  # the last n risks (moving average)

    def _smooth(self, risk: float) -> float:
        policy = self.policy
        if policy.smoothing == "ema":
            if self._ema is None:
                self._ema = np.array([(1.0 - policy.alpha) * risk])  # the offline start: s_0 = r_0
            out, self._ema = signal.lfilter([policy.alpha], [1.0, policy.alpha - 1.0], [risk], zi=self._ema)
            return float(out[0])
        if policy.smoothing == "ma":
            # every kept risk is inside the newest window's trailing average, offline as here
            self._recent = [*self._recent, risk][-int(policy.n):]
            start = np.zeros(len(self._recent), dtype=bool)
            start[0] = True
            return float(smooth_sorted(np.array(self._recent), start, "ma", policy.alpha, policy.n)[-1])
        return risk

    def step(self, risk: float, t: float) -> tuple[float, bool]:
        """Feed the next window's risk.

        Parameters
        ----------
        risk : float
            The window's risk (finite).
        t : float
            The window's time in seconds (its end), increasing from window to window.

        Returns
        -------
        smoothed : float
            The risk as the detector compares it with the threshold.
        alarm : bool
            Whether this window raises an alarm.
        """
        risk = float(risk)
        if not np.isfinite(risk):
            raise ValueError(f"risk must be finite, got {risk}")
        value = self._smooth(risk)
        if value < self.reset:
            self.armed = True
        self.count = self.count + 1 if value >= self.threshold else 0
        alarm = self.armed and self.count >= self.policy.persistence and t >= self.last_alarm + self.policy.refractory_s
        if alarm:
            self.armed, self.last_alarm = False, float(t)
        return value, bool(alarm)

    def get_state(self) -> dict:
        """The detector's state: plain values and arrays (see :meth:`set_state`)."""
        return {"count": self.count, "armed": self.armed, "last_alarm": self.last_alarm,
                "ema": np.empty(0) if self._ema is None else self._ema.copy(),
                "recent": np.asarray(self._recent, dtype=np.float64)}

    def set_state(self, state: dict) -> None:
        """Restore a state written by :meth:`get_state` (of a detector with the same threshold and policy)."""
        self.count, self.armed, self.last_alarm = int(state["count"]), bool(state["armed"]), float(state["last_alarm"])
        ema = np.asarray(state["ema"], dtype=np.float64)
        self._ema = ema.copy() if ema.size else None
        self._recent = [float(v) for v in np.asarray(state["recent"], dtype=np.float64)]
