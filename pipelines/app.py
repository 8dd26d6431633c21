"""Streamlit demo page: ``streamlit run pipelines/app.py -- [--data_root DIR] [--runs_root DIR]``.

Draws :mod:`sklearn_eeg.commands.app_page`, as ``sklearn-eeg-app`` does.
"""

from sklearn_eeg.commands.app_page import main

if __name__ == "__main__":
    main()
