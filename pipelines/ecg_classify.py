"""Patient-level multi-lead ECG classification (WFDB/EDF records, or the embedded synthetic cohort).

Runs :mod:`sklearn_eeg.commands.ecg_classify`, installed as ``sklearn-eeg-ecg-classify``;
``--help`` lists the options.
"""

import sys

from sklearn_eeg.commands.ecg_classify import main

if __name__ == "__main__":
    sys.exit(main())
