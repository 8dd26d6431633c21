"""Download CHB-MIT subjects from PhysioNet.

Runs :mod:`sklearn_eeg.commands.download_chbmit`, installed as ``sklearn-eeg-download-chbmit``;
``--help`` lists the options.
"""

import sys

from sklearn_eeg.commands.download_chbmit import main

if __name__ == "__main__":
    sys.exit(main())
