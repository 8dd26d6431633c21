"""Placeholder: being written."""
CANONICAL_CHANNELS = ("FP1-F7", "F7-T7", "T7-P7", "P7-O1", "FP1-F3", "F3-C3", "C3-P3", "P3-O1", "FP2-F4", "F4-C4", "C4-P4", "P4-O2", "FP2-F8", "F8-T8", "T8-P8", "P8-O2", "FZ-CZ", "CZ-PZ")
class EEGDataError(Exception): pass
class EEGRecording: pass
def read_edf(*a, **k): raise NotImplementedError
def read_edf_header(*a, **k): raise NotImplementedError
