"""sklearn-eeg: seizure-risk forecasting on scalp EEG as scikit-learn estimators."""

__version__ = "0.1.0"
