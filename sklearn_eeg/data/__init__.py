"""CHB-MIT (and CHB-MIT-like) datasets: summaries, EDF signals, the recording index, a synthetic generator."""

from .bids import load_bids_index
from .chbmit import SummaryFormatError, load_index, parse_summary, read_records, read_seizure_annotations, read_summary
from .download import download_chbmit
from .edf import (
    CANONICAL_CHANNELS,
    CorruptEDFError,
    EEGDataError,
    EEGRecording,
    MissingChannelsError,
    read_edf,
    read_edf_header,
)
from .mne_input import epochs_to_windows, raw_to_array, raw_to_recording
from .synthetic import CHBMIT_CHANNELS, describe_dataset, embedded_dataset, make_chbmit_like
from .verify import verify_dataset

__all__ = [
    "CANONICAL_CHANNELS",
    "CHBMIT_CHANNELS",
    "CorruptEDFError",
    "EEGDataError",
    "EEGRecording",
    "MissingChannelsError",
    "SummaryFormatError",
    "describe_dataset",
    "download_chbmit",
    "embedded_dataset",
    "epochs_to_windows",
    "load_bids_index",
    "load_index",
    "make_chbmit_like",
    "parse_summary",
    "raw_to_array",
    "raw_to_recording",
    "read_edf",
    "read_edf_header",
    "read_records",
    "read_seizure_annotations",
    "read_summary",
    "verify_dataset",
]
