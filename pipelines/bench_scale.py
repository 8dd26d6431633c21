"""Benchmark: peak memory and seconds per EEG hour, projected to CHB-MIT.

Runs :mod:`sklearn_eeg.commands.bench_scale`, installed as ``sklearn-eeg-bench-scale``;
``--help`` lists the options.
"""

import sys

from sklearn_eeg.commands.bench_scale import main

if __name__ == "__main__":
    sys.exit(main())
