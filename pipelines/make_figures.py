"""Figures and summary tables of a run folder.

Runs :mod:`sklearn_eeg.commands.make_figures`, installed as ``sklearn-eeg-make-figures``;
``--help`` lists the options.
"""

import sys

from sklearn_eeg.commands.make_figures import main

if __name__ == "__main__":
    sys.exit(main())
