"""Leave-one-subject-out seizure-forecasting benchmark.

Runs :mod:`sklearn_eeg.commands.loso`, installed as ``sklearn-eeg-loso``;
``--help`` lists the options.
"""

import sys

from sklearn_eeg.commands.loso import main

if __name__ == "__main__":
    sys.exit(main())
