"""Check a CHB-MIT(-like) download.

Runs :mod:`sklearn_eeg.commands.verify_dataset`, installed as ``sklearn-eeg-verify-dataset``;
``--help`` lists the options.
"""

import sys

from sklearn_eeg.commands.verify_dataset import main

if __name__ == "__main__":
    sys.exit(main())
