"""Optuna hyperparameter sweep scored by LOSO sensitivity.

Runs :mod:`sklearn_eeg.commands.sweep`, installed as ``sklearn-eeg-sweep``;
``--help`` lists the options.
"""

import sys

from sklearn_eeg.commands.sweep import main

if __name__ == "__main__":
    sys.exit(main())
