"""Ablations: alarm post-processing, calibration, BCE vs focal loss.

Runs :mod:`sklearn_eeg.commands.ablate`, installed as ``sklearn-eeg-ablate``;
``--help`` lists the options.
"""

import sys

from sklearn_eeg.commands.ablate import main

if __name__ == "__main__":
    sys.exit(main())
