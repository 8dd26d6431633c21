"""Train one model, tune alarm thresholds on validation subjects, evaluate on test subjects.

Runs :mod:`sklearn_eeg.commands.train_baseline`, installed as ``sklearn-eeg-train-baseline``;
``--help`` lists the options.
"""

import sys

from sklearn_eeg.commands.train_baseline import main

if __name__ == "__main__":
    sys.exit(main())
