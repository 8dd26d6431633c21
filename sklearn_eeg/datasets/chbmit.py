"""Placeholder: being written."""
def load_index(*a, **k): raise NotImplementedError
def parse_summary(*a, **k): raise NotImplementedError
def read_records(*a, **k): raise NotImplementedError
def read_summary(*a, **k): raise NotImplementedError
