"""Replay an EDF recording through a run's model as a live stream: alarms as they happen, a risk timeline.

Runs :mod:`sklearn_eeg.commands.stream`; ``--help`` lists the options.
"""

import sys

from sklearn_eeg.commands.stream import main

if __name__ == "__main__":
    sys.exit(main())
