"""Placeholder: being written."""
def make_chbmit_like(*a, **k): raise NotImplementedError
