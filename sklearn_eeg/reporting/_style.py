"""Shared figure style, axes creation and saving (Agg backend, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sklearn_eeg.atomic_files import atomic_write  # noqa: E402

#: Publication style applied to every figure made by :mod:`sklearn_eeg.reporting`.
STYLE: dict[str, object] = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 9,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
}

#: One colour per labeling state (colour-blind friendly, Okabe-Ito palette).
STATE_COLORS: dict[str, str] = {
    "interictal": "#56B4E9",
    "preictal": "#E69F00",
    "gap": "#FFFFFF",
    "ictal": "#D55E00",
    "postictal": "#CC79A7",
    "excluded": "#999999",
}


def new_axes(ax: Axes | None = None, *, figsize: tuple[float, float] = (7.0, 4.0)) -> tuple[Figure, Axes]:
    """Return ``(figure, axes)``: the figure of ``ax`` or a new styled figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    with plt.rc_context(STYLE):
        fig, new_ax = plt.subplots(figsize=figsize, layout="constrained")
    _apply_style(new_ax)
    return fig, new_ax


def _apply_style(ax: Axes) -> None:
    """Apply :data:`STYLE` to axes created outside an ``rc_context``."""
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.title.set_fontsize(STYLE["axes.titlesize"])
    ax.xaxis.label.set_fontsize(STYLE["axes.labelsize"])
    ax.yaxis.label.set_fontsize(STYLE["axes.labelsize"])


def new_figure(nrows: int, ncols: int = 1, *, figsize: tuple[float, float], **kwargs: object) -> tuple[Figure, object]:
    """Return ``(figure, axes array)`` for multi-panel figures, styled like :func:`new_axes`."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=figsize, layout="constrained", squeeze=False, **kwargs)
    for ax in axes.ravel():
        _apply_style(ax)
    return fig, axes


def save_figure(fig: Figure, path: str | Path, *, close: bool = True) -> Path:
    """Save ``fig`` (format from the suffix, default PNG) creating parent folders; return the path.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Figure to save.
    path : str or Path
        Destination; ``.png`` is appended when the path has no suffix.
    close : bool, default True
        Close the figure afterwards to free memory.

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    with plt.rc_context(STYLE):
        atomic_write(path, lambda tmp: fig.savefig(tmp, format=path.suffix[1:]))
    if close:
        plt.close(fig)
    return path
