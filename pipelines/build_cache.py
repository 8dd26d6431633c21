"""Build the on-disk window store (and cached features) of a dataset.

Runs :mod:`sklearn_eeg.commands.build_cache`, installed as ``sklearn-eeg-build-cache``;
``--help`` lists the options.
"""

import sys

from sklearn_eeg.commands.build_cache import main

if __name__ == "__main__":
    sys.exit(main())
