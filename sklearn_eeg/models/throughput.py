"""Training and inference throughput of the EEG networks, measured through the skorch estimator.

Every model is trained for one epoch and then scores the same windows with the same estimator
(:class:`~sklearn_eeg.models.estimators.SpectrogramCNNClassifier` with the model as ``module``), the same batch
size and thread count, each in a fresh process so that the peak resident memory (``ru_maxrss``) is
per model. The references are :class:`~sklearn_eeg.models.nn.ShallowConvNet`, a plain-torch
ShallowFBCSPNet-like network, and, where braindecode is installed (the ``bench`` extra), braindecode's
own ShallowFBCSPNet in its ``EEGClassifier``.
"""

from __future__ import annotations

import multiprocessing
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import torch

from sklearn_eeg.models.estimators import SpectrogramCNNClassifier
from sklearn_eeg.models.nn.raw_cnn import RawCNN1d
from sklearn_eeg.models.nn.shallow_convnet import ShallowConvNet
from sklearn_eeg.models.nn.spectrogram_cnn import SpectrogramCNN

__all__ = ["BENCH_MODELS", "BRAINDECODE_MODEL", "measure_throughput", "run_throughput_benchmark"]

BENCH_MODELS: dict[str, type[torch.nn.Module]] = {
    "spectrogram_cnn": SpectrogramCNN,
    "raw_cnn1d": RawCNN1d,
    "shallow_reference": ShallowConvNet,
}

#: braindecode's ShallowFBCSPNet through its own ``EEGClassifier`` (optional: ``pip install braindecode``).
BRAINDECODE_MODEL = "braindecode_shallow"


def _classifier(model: str, *, n_channels: int, n_times: int, batch_size: int, seed: int):
    """The skorch classifier timed for ``model``: ours around a BENCH_MODELS module, or braindecode's."""
    if model == BRAINDECODE_MODEL:
        try:
            from braindecode import EEGClassifier
            from braindecode.models import ShallowFBCSPNet
        except (ImportError, OSError) as err:  # torchaudio's CUDA build fails to load beside CPU torch
            raise ImportError(
                f"{BRAINDECODE_MODEL} needs braindecode (pip install braindecode; if torchaudio fails to load "
                f"libc10_cuda.so beside CPU torch, move torchaudio/lib/*.so out of the way): {err}"
            ) from err
        torch.manual_seed(seed)
        return EEGClassifier(
            ShallowFBCSPNet, module__n_chans=n_channels, module__n_outputs=2, module__n_times=n_times,
            max_epochs=1, train_split=None, batch_size=batch_size, device="cpu",
        )

    if model not in BENCH_MODELS:
        raise ValueError(f"unknown model {model!r}; choose from {sorted([*BENCH_MODELS, BRAINDECODE_MODEL])}")
    return SpectrogramCNNClassifier(
        BENCH_MODELS[model], max_epochs=1, train_split=None, batch_size=batch_size, device="cpu", random_state=seed
    )


def _synthetic_windows(n_windows: int, n_channels: int, n_times: int, sfreq: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_windows, n_channels, n_times), dtype=np.float32) * 20
    y = np.arange(n_windows) % 2
    X[y == 1] += (10 * np.sin(2 * np.pi * 20 * np.arange(n_times) / sfreq)).astype(np.float32)
    return X, y


def measure_throughput(
    model: str,
    *,
    n_windows: int = 2048,
    n_channels: int = 18,
    n_times: int = 2560,
    sfreq: float = 256.0,
    batch_size: int = 64,
    n_threads: int = 2,
    latency_repeats: int = 30,
    seed: int = 0,
) -> dict[str, Any]:
    """Time one training epoch, batched inference and single-window latency of one model (CPU).

    Parameters
    ----------
    model : str
        Key of :data:`BENCH_MODELS`, or :data:`BRAINDECODE_MODEL` (braindecode's ShallowFBCSPNet in its
        ``EEGClassifier``, when braindecode is installed).
    n_windows, n_channels, n_times : int
        Synthetic data shape (default: 2,048 CHB-MIT-like 10 s windows at 256 Hz).
    sfreq : float, default=256.0
        Sampling rate (for the real-time factor).
    batch_size : int, default=64
        Training and inference batch size.
    n_threads : int, default=2
        ``torch.set_num_threads``.
    latency_repeats : int, default=30
        Single-window ``predict_proba`` calls; the median is reported.
    seed : int, default=0

    Returns
    -------
    dict
        ``model``, ``n_params``, ``train_windows_per_s`` (one epoch, excluding set-up),
        ``infer_windows_per_s``, the same per process CPU second (``*_per_cpu_s``, all threads; less
        sensitive to other load on a shared machine; training includes set-up), ``latency_ms`` (median single-window ``predict_proba``),
        ``realtime_factor_batched`` and ``realtime_factor_single`` (signal seconds per compute second),
        ``peak_rss_mb`` (this process).
    """
    torch.set_num_threads(n_threads)
    clf = _classifier(model, n_channels=n_channels, n_times=n_times, batch_size=batch_size, seed=seed)
    X, y = _synthetic_windows(n_windows, n_channels, n_times, sfreq, seed)
    cpu_start = time.process_time()
    clf.fit(X, y)
    train_cpu_s = time.process_time() - cpu_start
    train_s = float(clf.history[-1, "dur"])
    start, cpu_start = time.perf_counter(), time.process_time()
    clf.predict_proba(X)
    infer_s, infer_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    one = X[:1]
    clf.predict_proba(one)  # warm-up
    latencies = []
    for _ in range(latency_repeats):
        start = time.perf_counter()
        clf.predict_proba(one)
        latencies.append(time.perf_counter() - start)
    latency = statistics.median(latencies)
    window_s = n_times / sfreq
    return {
        "model": model,
        "n_params": sum(p.numel() for p in clf.module_.parameters()),
        "n_windows": n_windows,
        "batch_size": batch_size,
        "n_threads": n_threads,
        "train_windows_per_s": n_windows / train_s,
        "infer_windows_per_s": n_windows / infer_s,
        "train_windows_per_cpu_s": n_windows / train_cpu_s,
        "infer_windows_per_cpu_s": n_windows / infer_cpu_s,
        "latency_ms": 1000 * latency,
        "realtime_factor_batched": n_windows * window_s / infer_s,
        "realtime_factor_single": window_s / latency,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_throughput_benchmark(models: list[str] | None = None, *, repeats: int = 1, **kwargs: Any) -> list[dict[str, Any]]:
    """Run :func:`measure_throughput` for each model, each run in a fresh spawned process.

    Runs go round-robin over the models ``repeats`` times, so load from other processes on a shared
    machine hits all models alike; each model reports its best run (highest throughputs, lowest
    latency) and the highest peak memory.

    Parameters
    ----------
    models : list of str or None
        Keys of :data:`BENCH_MODELS`; None runs all.
    repeats : int, default=1
        Runs per model.
    **kwargs
        Passed to :func:`measure_throughput`.

    Returns
    -------
    list of dict
        One summary per model, in order, with the individual runs under ``"runs"``.
    """
    models = list(BENCH_MODELS) if models is None else models
    unknown = set(models) - {*BENCH_MODELS, BRAINDECODE_MODEL}
    if unknown:
        raise ValueError(f"unknown models {sorted(unknown)}; choose from {sorted([*BENCH_MODELS, BRAINDECODE_MODEL])}")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in models}
    context = multiprocessing.get_context("spawn")
    for _ in range(repeats):
        for name in models:
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                runs[name].append(pool.submit(measure_throughput, name, **kwargs).result())
    summaries = []
    for name in models:
        best = dict(runs[name][0])
        for key in (
            "train_windows_per_s",
            "infer_windows_per_s",
            "train_windows_per_cpu_s",
            "infer_windows_per_cpu_s",
            "realtime_factor_batched",
            "realtime_factor_single",
            "peak_rss_mb",
        ):
            best[key] = max(run[key] for run in runs[name])
        best["latency_ms"] = min(run["latency_ms"] for run in runs[name])
        best["runs"] = runs[name]
        summaries.append(best)
    return summaries
