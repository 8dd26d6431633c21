"""Rules every dataset index follows, whatever its layout (CHB-MIT folders or BIDS-EEG).

Timeline placement constants, the tolerance of a seizure ending after its file, and the check that a
relative path read from a data file stays inside its root.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

__all__ = [
    "DAY_S", "OVERLAP_TOLERANCE_S", "SEIZURE_END_TOLERANCE_S", "UNKNOWN_GAP_S", "select_subjects", "unsafe_path_reason",
]

DAY_S = 86_400.0
UNKNOWN_GAP_S = DAY_S  # placement gap before a file without clock times (and after it)
OVERLAP_TOLERANCE_S = 60.0  # a file starting earlier than this before the previous end is misplaced
#: Seconds a seizure may end after its file's duration (rounding of summary times) before it is an error.
SEIZURE_END_TOLERANCE_S = 1.0

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def unsafe_path_reason(entry: str) -> str | None:
    """Why ``entry`` is not a plain relative POSIX path, or None when it is one.

    A plain relative path such as ``"chb01/chb01_03.edf"`` joined to a root always names
    something under that root (symbolic links aside): it is not empty or absolute and
    has no backslash, no ``:`` (drive letter, URL scheme), no control character, and no
    empty, ``.`` or ``..`` component. Every relative path read from a data file (RECORDS
    lists, ``SHA256SUMS.txt``) is checked with it before use.

    Parameters
    ----------
    entry : str
        The path as written in the file (surrounding whitespace already removed).

    Returns
    -------
    str or None
        A short reason such as ``"a '..' component"``; None for a safe path.

    Examples
    --------
    >>> unsafe_path_reason("chb01/chb01_03.edf") is None
    True
    >>> unsafe_path_reason("chb01/../../escaped/evil.edf")
    "a '..' component"
    """
    if not entry:
        return "an empty path"
    if entry.startswith("/"):
        return "an absolute path"
    if "\\" in entry:
        return "a backslash"
    if ":" in entry:
        return "a ':' (drive letter or URL scheme)"
    if _CONTROL_RE.search(entry):
        return "a control character"
    parts = entry.split("/")
    if ".." in parts:
        return "a '..' component"
    if "." in parts:
        return "a '.' component"
    if "" in parts:
        return "an empty component"
    return None


def select_subjects(
    requested: str | Sequence[str] | None, available: Sequence[str], missing_error: Callable[[list[str]], Exception]
) -> list[str]:
    """The subjects to index: all ``available`` ones when ``requested`` is None, else the requested ones.

    Parameters
    ----------
    requested : str, sequence of str or None
        Subject ids asked for (one id as a string).
    available : sequence of str
        Subjects the dataset has.
    missing_error : callable
        Builds the error raised for the requested ids that are not available (its message names them
        and says what the layout expects).

    Returns
    -------
    subjects : list of str
    """
    if requested is None:
        return list(available)
    subjects = [requested] if isinstance(requested, str) else list(requested)
    missing = [s for s in subjects if s not in available]
    if missing:
        raise missing_error(missing)
    return subjects

