"""CHB-MIT (and CHB-MIT-like) datasets: summaries, EDF signals, the recording index, a synthetic generator."""

from .chbmit import load_index, parse_summary, read_records, read_summary
from .edf import CANONICAL_CHANNELS, EEGDataError, EEGRecording, read_edf, read_edf_header
from .synthetic import make_chbmit_like

__all__ = [
    "CANONICAL_CHANNELS",
    "EEGDataError",
    "EEGRecording",
    "load_index",
    "make_chbmit_like",
    "parse_summary",
    "read_edf",
    "read_edf_header",
    "read_records",
    "read_summary",
]
