"""Multi-lead ECG with the project's estimators: WFDB/EDF records, a label table, a synthetic cohort,
patient-level splits, a 1-D CNN with training-only lead statistics, validation thresholds, bootstrap CIs.

Records become ``(n_records, n_leads, n_times)`` float32 arrays in millivolts -- the same window
contract as the EEG side, one record per window -- stored once on disk and read lazily.
"""

from .estimator import ECGNetClassifier, lead_statistics
from .labels import LABEL_COLUMNS, read_label_table
from .records import ECG_LEADS, ECGDataError, find_record, read_ecg_record
from .scores import classification_scores, patient_bootstrap, patient_scores
from .splits import patient_split
from .store import RecordDataset, build_signal_store
from .synthetic import ECG_PRESETS, embedded_cohort, make_ecg_cohort, simulate_ecg
from .thresholds import THRESHOLD_RULES, choose_threshold
from .workflow import ECGRun, patient_level, run_ecg_classification

__all__ = [
    "ECGDataError",
    "ECGNetClassifier",
    "ECGRun",
    "ECG_LEADS",
    "ECG_PRESETS",
    "LABEL_COLUMNS",
    "RecordDataset",
    "THRESHOLD_RULES",
    "build_signal_store",
    "choose_threshold",
    "classification_scores",
    "embedded_cohort",
    "find_record",
    "lead_statistics",
    "make_ecg_cohort",
    "patient_bootstrap",
    "patient_level",
    "patient_scores",
    "patient_split",
    "read_ecg_record",
    "read_label_table",
    "run_ecg_classification",
    "simulate_ecg",
]
