"""Where generated data and caches live: one folder, whatever the current folder.

``--cache_dir`` (or a config's ``data.cache_dir``) when given, else ``$SKLEARN_EEG_CACHE``, else the
per-user cache folder (``$XDG_CACHE_HOME/sklearn-eeg`` or ``~/.cache/sklearn-eeg``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

__all__ = ["CACHE_ENV", "CacheLocation", "cache_location", "default_cache_dir"]

CACHE_ENV = "SKLEARN_EEG_CACHE"
"""Environment variable naming the cache folder (used when no ``--cache_dir`` / ``data.cache_dir`` is given)."""


class CacheLocation(NamedTuple):
    """The cache folder in use and where that choice came from."""

    path: Path
    source: str
    """``"option"`` (``--cache_dir`` or ``data.cache_dir``), ``"env"`` (:data:`CACHE_ENV`) or ``"default"``."""

    def describe(self) -> str:
        """One line: the folder and why it is the one in use."""
        why = {
            "option": "given with --cache_dir or data.cache_dir",
            "env": f"from ${CACHE_ENV}",
            "default": f"per-user default; set ${CACHE_ENV} or --cache_dir to change it",
        }[self.source]
        return f"{self.path} ({why})"


def cache_location(cache_dir: str | Path | None = None) -> CacheLocation:
    """The cache folder for ``cache_dir`` (an option or config value; None: not given) and its source.

    Order: ``cache_dir`` when given; else ``$SKLEARN_EEG_CACHE`` when set and not empty (made
    absolute); else ``$XDG_CACHE_HOME/sklearn-eeg`` when ``XDG_CACHE_HOME`` is an absolute path; else
    ``~/.cache/sklearn-eeg``. Without ``cache_dir`` the result does not depend on the working folder
    (unless ``$SKLEARN_EEG_CACHE`` is itself relative).

    Parameters
    ----------
    cache_dir : str or Path, optional
        An explicit folder (``--cache_dir``, ``data.cache_dir``); returned as given, ``~`` expanded.

    Returns
    -------
    location : CacheLocation
        ``path`` and ``source`` (``"option"``, ``"env"`` or ``"default"``).

    Examples
    --------
    >>> cache_location("/tmp/eeg-cache").source
    'option'
    """
    if cache_dir is not None and str(cache_dir) != "":
        return CacheLocation(Path(cache_dir).expanduser(), "option")
    env = os.environ.get(CACHE_ENV, "")
    if env:
        return CacheLocation(Path(env).expanduser().absolute(), "env")
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"  # XDG: relative values are invalid
    return CacheLocation(base / "sklearn-eeg", "default")


def default_cache_dir() -> Path:
    """The cache folder used when none is given: ``$SKLEARN_EEG_CACHE``, else the per-user cache folder.

    See :func:`cache_location`; a config's ``data.cache_dir: null`` resolves to this folder.

    Returns
    -------
    path : Path
    """
    return cache_location(None).path
