"""Train and evaluate a deep model (spectrogram CNN or fusion).

Runs :mod:`sklearn_eeg.commands.train_deep`, installed as ``sklearn-eeg-train-deep``;
``--help`` lists the options.
"""

import sys

from sklearn_eeg.commands.train_deep import main

if __name__ == "__main__":
    sys.exit(main())
