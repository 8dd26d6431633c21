"""Write a synthetic CHB-MIT-like dataset (EDF files, summaries, RECORDS) and print a short summary.

With --layout bids the same EDF files and seizures are written as a BIDS-EEG dataset (the SzCORE
layout: sub-NN/ses-01/eeg/*_eeg.edf, *_events.tsv, *_scans.tsv with acq_time).

Examples:
  sklearn-eeg-make-synthetic --data_root data/synth --preset tiny
  sklearn-eeg-make-synthetic --data_root data/synth_bids --preset tiny --layout bids
  sklearn-eeg-make-synthetic --data_root data/synth --n_subjects 4 --hours 3 --seizures 2-3 --preictal_effect 0.5
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sklearn_eeg.commands.options import add_option, command_parser
from sklearn_eeg.data.synthetic import PRESETS, describe_dataset, make_chbmit_like


def _seizures(text: str) -> int | tuple[int, int]:
    low, _, high = text.partition("-")
    try:
        return (int(low), int(high)) if high else int(low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seizures must be N or MIN-MAX, got {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    parser = command_parser(__doc__)
    add_option(parser, "--data_root", "--root", required=True, type=Path, help="output folder (dataset root)")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="start from a preset; other options override it")
    parser.add_argument("--n_subjects", type=int, help="number of subjects (default 3)")
    parser.add_argument("--hours", type=float, help="recorded hours per subject (default 3)")
    parser.add_argument("--seizures", type=_seizures, help="seizures per subject: N or MIN-MAX (default 2)")
    parser.add_argument("--preictal_effect", type=float, help="0 = null dataset, 1 = moderate, 2 = strong (default 1)")
    parser.add_argument("--seed", type=int, help="random seed (default 0)")
    parser.add_argument("--file_hours", type=float, help="hours per EDF file (default 1)")
    parser.add_argument("--no_quirks", action="store_true", help="standard 23 channels everywhere")
    parser.add_argument("--lookalike_rate", type=float,
                        help="interictal look-alike episodes (the preictal change, no seizure) per recorded hour")
    parser.add_argument("--boundary_seizure", action="store_true",
                        help="one seizure 2-5 min into a later file per subject (the CHB-MIT quirk; default: uniform onsets)")
    parser.add_argument("--layout", choices=("chbmit", "bids"), default="chbmit",
                        help="folder layout: PhysioNet CHB-MIT (default) or BIDS-EEG (SzCORE)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    params = dict(PRESETS[args.preset]) if args.preset else {}
    for name in ("n_subjects", "hours", "seizures", "preictal_effect", "seed", "file_hours", "lookalike_rate"):
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    if args.no_quirks:
        params["quirks"] = False
    if args.boundary_seizure:
        params["boundary_seizure"] = True
    try:
        root = make_chbmit_like(args.data_root, layout=args.layout, progress=not args.quiet, **params)
    except ValueError as exc:
        parser.error(str(exc))
    print(describe_dataset(root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
