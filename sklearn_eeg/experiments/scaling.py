"""How a run scales with the dataset: peak memory and seconds per EEG hour, projected to CHB-MIT.

Each measurement runs in a fresh interpreter (:func:`measure_in_subprocess`), so its peak resident
memory is its own: imports, the window store build, features and the folds, nothing of the parent.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["CHBMIT_HOURS", "STEPS", "measure_in_subprocess", "peak_rss_mib", "project", "run_step"]

#: Recorded EEG hours of CHB-MIT (the 24 cases' 686 files).
CHBMIT_HOURS = 980.0
#: What a measurement runs: ``cache`` = EDF -> window store -> features, cold; ``loso`` = the LOSO
#: benchmark of the config's model on the built cache.
STEPS = ("cache", "loso")


def peak_rss_mib() -> float:
    """Peak resident memory of this process in MiB.

    VmHWM on Linux (``ru_maxrss`` survives ``exec``, so a freshly started interpreter would report
    its forking parent's peak); ``ru_maxrss`` elsewhere.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_step(step: str, *, data_root: str, cache_dir: str, out_dir: str, model: str = "logreg", n_jobs: int = 1) -> dict:
    """Run one step in this process and return its seconds, EEG hours and peak RSS.

    Parameters
    ----------
    step : {"cache", "loso"}
        See :data:`STEPS`.
    data_root : str
        CHB-MIT(-like) dataset.
    cache_dir, out_dir : str
        Cache and report folders of the run.
    model : str, default="logreg"
        Model of the LOSO step.
    n_jobs : int, default=1
        Parallel recordings (cache) or folds (LOSO).

    Returns
    -------
    result : dict
        ``step``, ``seconds``, ``eeg_hours`` (windows x stride; None for ``loso``), ``peak_rss_mib``.
    """
    from sklearn_eeg.experiments.benchmark import loso_from_config
    from sklearn_eeg.experiments.config import load_config
    from sklearn_eeg.experiments.run_data import load_dataset

    if step not in STEPS:
        raise ValueError(f"step must be one of {STEPS}, got {step!r}")
    cfg = load_config(data__data_root=data_root, data__cache_dir=cache_dir, output_dir=out_dir, model__name=model,
                      n_jobs=n_jobs)
    start = time.perf_counter()
    if step == "cache":
        n_windows = len(load_dataset(cfg, progress=False)[3])
    else:
        loso_from_config(cfg, progress=False)
        n_windows = None
    seconds = time.perf_counter() - start
    hours = None if n_windows is None else n_windows * cfg.labeling.stride / 3600
    return {"step": step, "seconds": seconds, "eeg_hours": hours, "peak_rss_mib": peak_rss_mib()}


def measure_in_subprocess(module: str, step: str, **kwargs) -> dict:
    """:func:`run_step` in a fresh interpreter running ``python -m module --child STEP --data_root ...``.

    The module must call :func:`run_step` with its arguments and print the result as the last line
    of JSON (:mod:`sklearn_eeg.commands.bench_scale` does).
    """
    args = [sys.executable, "-m", module, "--child", step]
    for key, value in kwargs.items():
        args += [f"--{key}", str(value)]
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def project(hours: Sequence[float], values: Sequence[float], target_hours: float = CHBMIT_HOURS) -> float:
    """Linear extrapolation of ``values`` measured at ``hours`` (the two largest) to ``target_hours``.

    Examples
    --------
    >>> round(project([12, 48], [500.0, 520.0]))
    1038
    """
    order = np.argsort(hours)[-2:]
    h = np.asarray(hours, dtype=float)[order]
    v = np.asarray(values, dtype=float)[order]
    if h.size < 2 or h[1] == h[0]:
        return float(v[-1])
    slope = (v[1] - v[0]) / (h[1] - h[0])
    return float(v[1] + slope * (target_hours - h[1]))
