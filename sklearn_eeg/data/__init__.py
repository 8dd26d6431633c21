"""CHB-MIT (and CHB-MIT-like) datasets: summaries, EDF signals, the recording index, a synthetic generator."""

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
    "load_index",
    "make_chbmit_like",
    "parse_summary",
    "read_edf",
    "read_edf_header",
    "read_records",
    "read_seizure_annotations",
    "read_summary",
    "verify_dataset",
]
