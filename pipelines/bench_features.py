"""Benchmark: basic_plus features (numpy) against mne-features on the same synthetic windows."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sklearn_eeg.commands.options import add_option, command_parser
from sklearn_eeg.features.functions import benchmark_against_mne_features, make_benchmark_windows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_parser(__doc__)
    add_option(parser, "--n_windows", "--n-windows", type=int, default=500, help="number of windows (default: 500)")
    add_option(parser, "--n_channels", "--n-channels", type=int, default=18, help="channels per window (default: 18)")
    add_option(parser, "--n_times", "--n-times", type=int, default=2560,
               help="samples per window (default: 2560 = 10 s)")
    parser.add_argument("--sfreq", type=float, default=256.0, help="sampling frequency in Hz (default: 256)")
    add_option(parser, "--repeats", "--repeat", type=int, default=3,
               help="timed runs per side, median reported (default: 3)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the windows (default: 0)")
    add_option(parser, "--out_file", "--json", type=Path, default=None, help="also write the result to this JSON file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)

    X = make_benchmark_windows(
        args.n_windows, n_channels=args.n_channels, n_times=args.n_times, sfreq=args.sfreq, seed=args.seed
    )
    result = benchmark_against_mne_features(X, args.sfreq, repeat=args.repeats)
    print(f"windows: {result['shape']} float32")
    print(f"ours (basic_plus, numpy):       {result['ours_s']:.3f} s  {result['ours_windows_per_s']:.0f} windows/s")
    print(f"mne-features (8 shared funcs):  {result['mne_s']:.3f} s  {result['mne_windows_per_s']:.0f} windows/s")
    print(f"RATIO (mne-features time / ours): {result['ratio']:.1f}x wall, {result['cpu_ratio']:.1f}x CPU time "
          f"(CPU {result['mne_cpu_s']:.3f} s vs {result['ours_cpu_s']:.3f} s)")
    for group, value in result["max_abs_diff"].items():
        print(f"  {group:22s} max abs diff {value:.3g}  max rel diff {result['max_rel_diff'][group]:.3g}")
    if args.out_file is not None:
        args.out_file.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
