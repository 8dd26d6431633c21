"""Where joblib work runs: this machine, or the workers of a Dask cluster."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import joblib

__all__ = ["parallel_backend", "worker_count"]


@contextlib.contextmanager
def parallel_backend(scheduler: str | None) -> Iterator[None]:
    """Run the ``joblib.Parallel`` calls inside the block on a Dask cluster (``scheduler`` given) or here.

    Parameters
    ----------
    scheduler : str or None
        Address of a Dask scheduler (``"tcp://host:8786"``); None keeps joblib's default backend.

    Raises
    ------
    ImportError
        With ``scheduler`` but without the ``distributed`` package.
    """
    if scheduler is None:
        yield
        return
    try:
        from distributed import Client
    except ImportError as err:
        raise ImportError("scheduler= needs the 'distributed' package (pip install sklearn-eeg[distributed])") from err
    with Client(scheduler), joblib.parallel_config(backend="dask"):
        yield


def worker_count(n_jobs: int, scheduler: str | None) -> int:
    """``n_jobs`` for ``joblib.Parallel``: all cluster workers (-1) with a scheduler, else ``n_jobs``."""
    return -1 if scheduler else n_jobs
