"""The samples of the next window: a stream cut into the window store's windows, chunk by chunk.

Window ``k`` covers samples ``[k * step, k * step + size)`` of the stream, as
:func:`sklearn_eeg.signal.windows.segment_windows` cuts a stored recording. The buffer holds only the
samples that a later window still needs (at most one window), so its memory does not grow with the
length of the stream.
"""

from __future__ import annotations

import numpy as np

__all__ = ["WindowBuffer"]


class WindowBuffer:
    """Collect samples; hand out each window as soon as its last sample arrives.

    Parameters
    ----------
    size : int
        Window length in samples.
    step : int
        Samples from one window start to the next (a step longer than ``size`` skips the samples between
        windows).

    Attributes
    ----------
    n_windows : int
        Windows completed so far.

    Examples
    --------
    >>> buf = WindowBuffer(4, 2)
    >>> buf.push(np.arange(5.0)[None]).shape, buf.samples_needed
    ((1, 1, 4), 1)
    >>> buf.push(np.arange(5.0, 8.0)[None])[:, 0]
    array([[2., 3., 4., 5.],
           [4., 5., 6., 7.]])
    """

    def __init__(self, size: int, step: int):
        if size < 1 or step < 1:
            raise ValueError(f"window size and step must be at least one sample, got {size} and {step}")
        self.size, self.step = int(size), int(step)
        self.n_windows = 0
        self._data: np.ndarray | None = None  # (n_channels, size), the first ``_fill`` columns in use
        self._fill = 0
        self._skip = 0  # samples still to drop before the next window starts (step > size)

    @property
    def samples_needed(self) -> int:
        """Samples still to push before the next window is complete."""
        return self._skip + self.size - self._fill

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Add the next samples; return the windows they complete.

        Parameters
        ----------
        samples : ndarray of shape (n_channels, n_samples)

        Returns
        -------
        windows : ndarray of shape (n_completed, n_channels, size)
            Copies, in stream order (none when no window ends among ``samples``).
        """
        if self._data is None:
            self._data = np.zeros((samples.shape[0], self.size), dtype=samples.dtype)
        elif samples.shape[0] != self._data.shape[0]:
            raise ValueError(f"samples have {samples.shape[0]} channels, the stream has {self._data.shape[0]}")
        done = []
        pos, n = 0, samples.shape[1]
        while pos < n:
            if self._skip:
                dropped = min(self._skip, n - pos)
                self._skip -= dropped
                pos += dropped
                continue
            take = min(n - pos, self.size - self._fill)
            self._data[:, self._fill : self._fill + take] = samples[:, pos : pos + take]
            self._fill += take
            pos += take
            if self._fill == self.size:
                done.append(self._data.copy())
                self.n_windows += 1
                kept = max(self.size - self.step, 0)
                self._data[:, :kept] = self._data[:, self.size - kept :]
                self._fill, self._skip = kept, max(self.step - self.size, 0)
        if not done:
            return np.empty((0, samples.shape[0], self.size), dtype=self._data.dtype)
        return np.stack(done)

    def get_state(self) -> dict:
        """The buffer's state: plain values and arrays (see :meth:`set_state`)."""
        data = np.empty((0, 0), dtype=np.float32) if self._data is None else self._data[:, : self._fill].copy()
        return {"n_windows": self.n_windows, "fill": self._fill, "skip": self._skip,
                "started": self._data is not None, "data": data}

    def set_state(self, state: dict) -> None:
        """Restore a state written by :meth:`get_state` (of a buffer with the same ``size`` and ``step``)."""
        self.n_windows, self._fill, self._skip = int(state["n_windows"]), int(state["fill"]), int(state["skip"])
        self._data = None
        if state["started"]:
            data = np.asarray(state["data"])
            self._data = np.zeros((data.shape[0], self.size), dtype=data.dtype)
            self._data[:, : self._fill] = data
