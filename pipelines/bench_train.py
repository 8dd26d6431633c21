"""Training and inference throughput of the CNNs on CPU, with a ShallowFBCSPNet-like reference.

Each model trains one epoch on synthetic CHB-MIT-shaped windows and then scores them, through the same
skorch estimator, batch size and thread count, in a fresh process (so peak RSS is per model). References:
a plain-torch ShallowFBCSPNet-like net (sklearn_eeg.models.nn.ShallowConvNet) and, with --models ... braindecode_shallow
where braindecode is installed (pip install -e ".[bench]"), braindecode's ShallowFBCSPNet via EEGClassifier.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sklearn_eeg.commands.options import add_option, command_parser
from sklearn_eeg.models.throughput import BENCH_MODELS, BRAINDECODE_MODEL, run_throughput_benchmark

COLUMNS = (
    ("model", "{}"),
    ("n_params", "{:,}"),
    ("train_windows_per_s", "{:.0f}"),
    ("infer_windows_per_s", "{:.0f}"),
    ("train_windows_per_cpu_s", "{:.0f}"),
    ("infer_windows_per_cpu_s", "{:.0f}"),
    ("latency_ms", "{:.1f}"),
    ("realtime_factor_single", "{:.0f}x"),
    ("realtime_factor_batched", "{:.0f}x"),
    ("peak_rss_mb", "{:.0f}"),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_parser(__doc__)
    parser.add_argument("--models", nargs="+", choices=sorted([*BENCH_MODELS, BRAINDECODE_MODEL]),
                        default=list(BENCH_MODELS),
                        help=f"models to time (default: ours and the torch reference; {BRAINDECODE_MODEL} needs braindecode)")
    parser.add_argument("--n_windows", type=int, default=2048, help="synthetic 10 s windows (default 2048)")
    parser.add_argument("--n_channels", type=int, default=18)
    parser.add_argument("--n_times", type=int, default=2560, help="samples per window (default 2560 = 10 s at 256 Hz)")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per model, round-robin; the best is reported")
    add_option(parser, "--out_file", "--out", type=Path, default=Path("reports/tables/bench_train.json"),
               help="JSON results file (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = run_throughput_benchmark(
        args.models,
        repeats=args.repeats,
        n_windows=args.n_windows,
        n_channels=args.n_channels,
        n_times=args.n_times,
        batch_size=args.batch_size,
        n_threads=args.threads,
    )
    print(" | ".join(name for name, _ in COLUMNS))
    for row in results:
        print(" | ".join(fmt.format(row[name]) for name, fmt in COLUMNS))
    args.out_file.parent.mkdir(parents=True, exist_ok=True)
    args.out_file.write_text(json.dumps(results, indent=2))
    print(f"Results written to {args.out_file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
