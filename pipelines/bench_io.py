"""Benchmark EDF -> canonical channels -> filtered -> windows: our path against plain MNE.

Ours: ``read_edf`` (numpy EDF decode, 18 canonical channels) + ``filter_signal`` (zero-phase
Butterworth band-pass 0.5-45 Hz + IIR notch 60 Hz, float32) + ``segment_windows``.
MNE: ``mne.io.read_raw_edf(preload=True)`` + pick the same 18 channels + ``raw.filter(0.5, 45)`` (FIR)
+ ``raw.notch_filter(60)`` + the same windowing. The filters differ (IIR vs FIR), so this compares
throughput, not identical outputs. Both run in the same process, alternating, and the ratio of medians
is reported; peak memory (VmHWM) comes from one fresh subprocess per path, imports included.

Example:
  python pipelines/bench_io.py --repeats 3
  python pipelines/bench_io.py --edf data/synth/chb01/chb01_01.edf
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sklearn_eeg.commands.options import command_parser
from sklearn_eeg.data import CANONICAL_CHANNELS, make_chbmit_like, read_edf
from sklearn_eeg.signal.preprocessing import filter_signal
from sklearn_eeg.experiments.scaling import peak_rss_mib
from sklearn_eeg.signal.windows import segment_windows

SFREQ = 256.0


def ours(path: Path) -> tuple[np.ndarray, float]:
    """Windows of one EDF through the package; returns (windows, hours of EEG)."""
    rec = read_edf(path)
    data = filter_signal(rec.data, rec.sfreq)
    return segment_windows(data, rec.sfreq, 10.0, 5.0), data.shape[1] / rec.sfreq / 3600


def mne_path(path: Path) -> tuple[np.ndarray, float]:
    """Windows of one EDF through plain MNE; returns (windows, hours of EEG)."""
    import mne

    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    names = [n.upper() for n in raw.ch_names]
    picks = [names.index(ch) if ch in names else names.index(f"{ch}-0") for ch in CANONICAL_CHANNELS]
    raw.pick(picks)
    raw.filter(0.5, 45.0, verbose="error")
    raw.notch_filter(60.0, verbose="error")
    data = (raw.get_data() * 1e6).astype(np.float32)
    return segment_windows(data, raw.info["sfreq"], 10.0, 5.0), data.shape[1] / raw.info["sfreq"] / 3600


PATHS = {"ours": ours, "mne": mne_path}


def _peak_memory(name: str, path: Path) -> float:
    """Peak RSS in MiB of a fresh interpreter running one path once."""
    out = subprocess.run([sys.executable, __file__, "--child", name, "--edf", str(path)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["maxrss_mib"]


def main(argv: list[str] | None = None) -> int:
    parser = command_parser(__doc__)
    parser.add_argument("--edf", type=Path, help="EDF to read (default: a fresh synthetic one-hour file)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per path (default 3)")
    parser.add_argument("--child", choices=sorted(PATHS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        PATHS[args.child](args.edf)
        print(json.dumps({"maxrss_mib": peak_rss_mib()}))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = args.edf
        if path is None:
            root = make_chbmit_like(tmp, n_subjects=1, hours=1.0, seizures=1, quirks=False, progress=False)
            path = root / "chb01" / "chb01_01.edf"
        if not path.is_file():
            parser.error(f"--edf {path} not found")
        times: dict[str, list[float]] = {name: [] for name in PATHS}
        shapes = {}
        for _ in range(args.repeats):
            for name, fn in PATHS.items():
                start = time.perf_counter()
                windows, hours = fn(path)
                times[name].append(time.perf_counter() - start)
                shapes[name] = windows.shape
        memory = {name: _peak_memory(name, path) for name in PATHS}
    print(f"file {path.name}: {hours:.2f} h of EEG, windows {shapes['ours']}, median of {args.repeats} repeats")
    print(f"{'path':<6} {'seconds':>8} {'h EEG / s':>10} {'peak RSS MiB':>13}")
    for name in PATHS:
        median = float(np.median(times[name]))
        print(f"{name:<6} {median:8.2f} {hours / median:10.2f} {memory[name]:13.0f}")
    print(f"speed-up ours / mne: {np.median(times['mne']) / np.median(times['ours']):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
