"""Patient-specific chronological benchmark.

Runs :mod:`sklearn_eeg.commands.within_subject`, installed as ``sklearn-eeg-within-subject``;
``--help`` lists the options.
"""

import sys

from sklearn_eeg.commands.within_subject import main

if __name__ == "__main__":
    sys.exit(main())
