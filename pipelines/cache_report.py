"""Show the cache folder in use and what it holds.

Runs :mod:`sklearn_eeg.commands.cache_report`; ``--help`` lists the options.
"""

import sys

from sklearn_eeg.commands.cache_report import main

if __name__ == "__main__":
    sys.exit(main())
