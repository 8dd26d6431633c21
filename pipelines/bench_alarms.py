"""Benchmark: alarm metrics over many thresholds, vectorized vs a per-window Python loop.

Prints the time of both for all thresholds and their ratio, measured in one run on one simulated
CHB-MIT-like timeline; the loop's results are asserted equal to the fast ones.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from sklearn_eeg.commands.options import add_option, command_parser
from sklearn_eeg.evaluation.alarm_scoring import benchmark_over_thresholds
from sklearn_eeg.evaluation.alarms import AlarmPolicy, simulate_risk_timeline


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_parser(__doc__)
    add_option(parser, "--n_subjects", "--subjects", type=int, default=24, help="simulated subjects (default 24)")
    parser.add_argument("--hours", type=float, default=1000.0, help="recorded hours in all (default 1000)")
    parser.add_argument("--thresholds", type=int, default=100, help="thresholds scored by the fast path (default 100)")
    parser.add_argument(
        "--naive", type=int, default=100, help="thresholds also scored by the slow loop (default 100 = all; fewer: extrapolated)"
    )
    parser.add_argument("--persistence", type=int, default=2, help="consecutive windows to alarm (default 2)")
    parser.add_argument("--smoothing", choices=["ema", "ma", "none"], default="ema", help="risk smoothing (default ema)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    risk, meta = simulate_risk_timeline(args.n_subjects, args.hours, random_state=args.seed)
    report = benchmark_over_thresholds(
        risk,
        meta,
        np.linspace(0.01, 0.99, args.thresholds),
        n_naive=args.naive,
        policy=AlarmPolicy(persistence=args.persistence, smoothing=None if args.smoothing == "none" else args.smoothing),
    )
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
