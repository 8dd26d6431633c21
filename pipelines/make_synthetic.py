"""Write a synthetic CHB-MIT-like dataset.

Runs :mod:`sklearn_eeg.commands.make_synthetic`, installed as ``sklearn-eeg-make-synthetic``;
``--help`` lists the options.
"""

import sys

from sklearn_eeg.commands.make_synthetic import main

if __name__ == "__main__":
    sys.exit(main())
