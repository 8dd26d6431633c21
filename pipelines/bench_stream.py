"""Benchmark: the online forecaster on a random EEG stream -- latency per chunk, real-time factor, memory.

Streams random data (--n_channels channels at 256 Hz, in chunks of --chunk seconds) through an
OnlineForecaster, once per --models value and --hours value: "logreg", the classical pipeline (logistic
regression on --feature_set features), and "cnn", the spectrogram CNN of train_deep.py at its default size
(reading the filtered windows), each fitted on a few random windows (their values do not matter here).
Prints one row per model and stream length: median and 99th percentile latency per chunk and the
real-time factor (seconds of signal per second of compute), timed without tracing, then memory from a
second, traced pass over the same stream: the peak of Python allocations (tracemalloc; torch's own
buffers are not traced), the process's resident memory at the end of the stream (RSS, /proc: torch
included) and its peak RSS (resource.getrusage, which never goes down: read it across rows as "did not
grow"). Memory must not grow with stream length: the forecaster keeps one window of samples, whatever
the length. Torch runs on --threads threads (default 1: a single window gains little from a second
thread, and on a busy machine spinning torch threads stall each other, up to hundreds of ms per window).

Example:
  python pipelines/bench_stream.py --hours 1 4
  python pipelines/bench_stream.py --models cnn --hours 0.1 --n_channels 2 --out_file bench_stream.json
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc

from pathlib import Path

import numpy as np

from sklearn_eeg.atomic_files import atomic_write_text
from sklearn_eeg.commands.options import add_option, command_parser
from sklearn_eeg.features.extractor import FeatureExtractor
from sklearn_eeg.models.registry import make_model
from sklearn_eeg.online import OnlineForecaster

SFREQ = 256.0
MODELS = ("logreg", "cnn")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_parser(__doc__)
    parser.add_argument("--hours", type=float, nargs="+", default=[1.0, 4.0], help="stream lengths (default 1 4)")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS),
                        help="models to stream (default: logreg cnn)")
    add_option(parser, "--n_channels", type=int, default=18, help="channels (default 18)")
    parser.add_argument("--chunk", type=float, default=1.0, help="seconds per chunk (default 1)")
    parser.add_argument("--feature_set", default="basic_plus", help="feature set (default basic_plus)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the CNN (default 1)")
    add_option(parser, "--out_file", default=None, help="JSON file for the rows")
    return parser.parse_args(argv)


def fitted_model(name: str, n_channels: int, feature_set: str, rng: np.random.Generator):
    """The model ``name`` fitted on a few random windows, and the feature set it reads (None: the windows)."""
    windows = rng.normal(0.0, 20.0, (16, n_channels, int(10 * SFREQ))).astype(np.float32)
    y = [0, 1] * 8
    if name == "cnn":
        params = {"max_epochs": 1, "train_split": None, "device": "cpu", "amp": False}
        return make_model("cnn", precomputed_features=False, params=params).fit(windows, y), None
    X = FeatureExtractor(sfreq=SFREQ, feature_set=feature_set).fit_transform(windows)
    return make_model("logreg", precomputed_features=True, feature_set=feature_set).fit(X, y), feature_set


def rss_mib() -> float:
    """Resident memory of this process now (MiB; NaN where /proc is missing)."""
    statm = Path("/proc/self/statm")
    if not statm.is_file():
        return float("nan")
    return int(statm.read_text().split()[1]) * resource.getpagesize() / 2**20


def stream(model, feature_set: str | None, hours: float, args: argparse.Namespace, seed: int, *,
           trace: bool) -> tuple[np.ndarray, int, int]:
    """Stream ``hours`` of random data chunk by chunk: per-chunk latencies, windows, traced peak bytes (or 0)."""
    rng = np.random.default_rng(seed)
    forecaster = OnlineForecaster(model, threshold=0.5, feature_set=feature_set)
    size = int(round(args.chunk * SFREQ))
    latencies = np.empty(int(hours * 3600 / args.chunk))
    if trace:
        tracemalloc.start()
    for k in range(len(latencies)):
        chunk = rng.normal(0.0, 20.0, (args.n_channels, size)).astype(np.float32)  # a fresh chunk: no stored stream
        start = time.perf_counter()
        forecaster.update(chunk)
        latencies[k] = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    return latencies, forecaster.n_windows, peak


def stream_once(name: str, model, feature_set: str | None, hours: float, args: argparse.Namespace, seed: int) -> dict:
    """Time a stream without tracing (tracemalloc slows Python down), then trace the memory of the same stream."""
    latencies, n_windows, _ = stream(model, feature_set, hours, args, seed, trace=False)
    _, _, peak = stream(model, feature_set, hours, args, seed, trace=True)
    return {
        "model": name,
        "hours": hours,
        "chunks": len(latencies),
        "windows": n_windows,
        "latency_median_ms": float(np.median(latencies) * 1e3),
        "latency_p99_ms": float(np.quantile(latencies, 0.99) * 1e3),
        "real_time_factor": float(hours * 3600 / latencies.sum()),
        "traced_peak_mib": peak / 2**20,
        "rss_end_mib": rss_mib(),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    if "cnn" in args.models:
        import torch

        torch.set_num_threads(args.threads)
    rows = []
    for name in args.models:
        model, feature_set = fitted_model(name, args.n_channels, args.feature_set, np.random.default_rng(args.seed))
        rows += [stream_once(name, model, feature_set, hours, args, args.seed + 1 + i) for i, hours in enumerate(args.hours)]
    print(f"online forecaster: logreg on {args.feature_set} features, cnn on the windows; {args.n_channels} channels "
          f"at {SFREQ:g} Hz, {args.chunk:g}-s chunks, {args.threads} torch threads")
    print(f"{'model':>6} {'hours':>6} {'windows':>8} {'median ms':>10} {'p99 ms':>8} {'real-time factor':>17} "
          f"{'traced peak MiB':>16} {'RSS end MiB':>12} {'peak RSS MiB':>13}")
    for r in rows:
        print(f"{r['model']:>6} {r['hours']:>6g} {r['windows']:>8d} {r['latency_median_ms']:>10.2f} "
              f"{r['latency_p99_ms']:>8.2f} {r['real_time_factor']:>17.0f} {r['traced_peak_mib']:>16.2f} "
              f"{r['rss_end_mib']:>12.1f} {r['peak_rss_mib']:>13.1f}")
    if args.out_file:
        atomic_write_text(args.out_file, json.dumps(rows, indent=2))
    return rows


if __name__ == "__main__":
    main()
    sys.exit(0)
