"""Figures and tables: pure functions on arrays and documented DataFrames, Agg backend.

Every ``plot_*`` function returns a :class:`matplotlib.figure.Figure` and accepts ``ax=`` (or ``axes=`` for
two-panel figures) to draw into an existing layout; :func:`save_figure` writes it.
"""

from ._style import STATE_COLORS, save_figure
from .curves import (
    chance_sensitivity,
    classification_summary,
    plot_confusion_matrix,
    plot_fah_sensitivity_tradeoff,
    plot_loso_bars,
    plot_reliability,
    plot_threshold_vs_fah,
    plot_threshold_vs_sensitivity,
    plot_training_curves,
    plot_warning_times,
)
from .predictions import (
    PREDICTION_COLUMNS,
    PREDICTION_FILES,
    REQUIRED_COLUMNS,
    break_gaps,
    find_predictions,
    infer_onsets,
    read_predictions,
    validate_predictions,
    write_predictions,
)
from .signals import plot_eeg_snippet, plot_psd_comparison, plot_raw_vs_preprocessed, plot_spectrogram
from .tables import dataset_totals, summarize_benchmark, write_final_summary
from .timelines import labeling_example_figure, plot_label_timeline, plot_risk_timeline, state_spans

__all__ = [
    "PREDICTION_COLUMNS",
    "PREDICTION_FILES",
    "REQUIRED_COLUMNS",
    "STATE_COLORS",
    "break_gaps",
    "chance_sensitivity",
    "classification_summary",
    "dataset_totals",
    "find_predictions",
    "infer_onsets",
    "plot_confusion_matrix",
    "plot_eeg_snippet",
    "plot_fah_sensitivity_tradeoff",
    "labeling_example_figure",
    "plot_label_timeline",
    "plot_loso_bars",
    "plot_psd_comparison",
    "plot_raw_vs_preprocessed",
    "plot_reliability",
    "plot_risk_timeline",
    "plot_spectrogram",
    "plot_threshold_vs_fah",
    "plot_threshold_vs_sensitivity",
    "plot_training_curves",
    "plot_warning_times",
    "read_predictions",
    "save_figure",
    "state_spans",
    "summarize_benchmark",
    "validate_predictions",
    "write_final_summary",
    "write_predictions",
]
