"""Replay an EDF recording through a run's model as a live stream: alarms as they happen, a risk timeline.

The recording is fed in chunks to an online forecaster (causal filter, 10-s windows every 5 s, the
run's model, tuned threshold and alarm rule; see sklearn_eeg.online). The run may be a LOSO or train run
of a classical or chance model, or a deep run of the spectrogram CNN or the fusion network
(train_deep.py --model cnn / fusion; the fusion features are computed from each window and
standardised with the statistics the run saved). Each alarm is printed when it is raised, as one line: the window end time
(s from the file start) and its risk.
Times are those of the recording's own clock, starting at 0; the risk timeline is written to
--out_file (CSV: t, risk, alarm; one row per window) when given.

By default the file is replayed as fast as possible; --speed K paces it at K times real time.

Example:
  python pipelines/stream.py --edf data/chbmit/chb01/chb01_03.edf --run reports/runs/<run> --subject chb01
  python pipelines/stream.py --edf rec.edf --run reports/runs/<run> --speed 60 --out_file risk.csv
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_eeg.atomic_files import atomic_write
from sklearn_eeg.commands.options import RUN_ERRORS, add_option, command_parser, report_error


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = command_parser(__doc__)
    parser.add_argument("--edf", required=True, metavar="FILE", help="EDF recording to replay")
    parser.add_argument("--run", required=True, metavar="RUN_DIR", help="LOSO or train run folder with the model")
    parser.add_argument("--subject", default=None, help="test subject whose fold model to use (LOSO runs)")
    parser.add_argument("--fah_target", type=float, default=None,
                        help="false alarms per hour whose tuned threshold to use (default 0.5 if tuned)")
    parser.add_argument("--speed", type=float, default=0.0,
                        help="replay at this many times real time (default 0: as fast as possible)")
    parser.add_argument("--chunk", type=float, default=1.0, help="seconds of signal per chunk (default 1)")
    add_option(parser, "--out_file", default=None, help="CSV file for the risk timeline (written atomically)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary line, not each alarm")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads of a CNN run (default 1: one window at a time gains little from more)")
    return parser.parse_args(argv)


def replay(args: argparse.Namespace) -> pd.DataFrame:
    """Stream ``args.edf`` through the forecaster of ``args.run``; print alarms; return the risk timeline."""
    from sklearn_eeg.online import OnlineForecaster, recording_chunks

    if not args.speed >= 0:
        raise ValueError(f"--speed must be >= 0, got {args.speed}")
    if not Path(args.edf).is_file():
        raise FileNotFoundError(f"--edf {args.edf}: no such file")
    if args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    forecaster = OnlineForecaster.from_run(args.run, args.subject, fah_target=args.fah_target)
    if forecaster.feature_set is None:  # the run's CNN reads the windows
        import torch

        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    times, risks, alarmed = [], [], []
    for chunk in recording_chunks(args.edf, chunk=args.chunk, sfreq=forecaster.sfreq):
        out = forecaster.update(chunk)
        times.extend(out.times)
        risks.extend(out.risks)
        alarmed.extend(out.alarm_times)
        if not args.quiet:
            for t in out.alarm_times:
                print(f"alarm t={t:.1f} s risk={out.risks[out.times == t][0]:.4f}", flush=True)
        if args.speed > 0:
            time.sleep(max(0.0, forecaster.n_samples / forecaster.sfreq / args.speed - (time.perf_counter() - started)))
    timeline = pd.DataFrame({"t": times, "risk": risks, "alarm": np.isin(times, alarmed).astype(int)})
    elapsed = time.perf_counter() - started
    signal_s = forecaster.n_samples / forecaster.sfreq
    print(f"{len(timeline)} windows, {len(alarmed)} alarms, threshold {forecaster.threshold:.4g}; "
          f"{signal_s:.0f} s of signal in {elapsed:.1f} s ({signal_s / max(elapsed, 1e-9):.0f}x real time)")
    return timeline


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        timeline = replay(args)
        if args.out_file:
            atomic_write(args.out_file, lambda tmp: timeline.to_csv(tmp, index=False))
    except RUN_ERRORS as err:
        return report_error(err)
    return 0


if __name__ == "__main__":
    sys.exit(main())
