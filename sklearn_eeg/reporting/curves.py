"""Evaluation figures: training curves, confusion matrix, threshold curves, trade-off, calibration, LOSO."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import confusion_matrix

from ._checks import as_1d, check_columns, same_length
from ._style import new_axes, new_figure


def chance_sensitivity(fah: np.ndarray | float, sop_s: float = 600.0) -> np.ndarray:
    """Sensitivity of a Poisson predictor with the same alarm rate: ``1 - exp(-FAH * SOP_h)`` (Snyder 2008)."""
    return 1.0 - np.exp(-np.asarray(fah, dtype=float) * sop_s / 3600.0)


def _history_key(history: Sequence[Mapping[str, object]], candidates: Sequence[str]) -> str | None:
    keys = set().union(*(h.keys() for h in history))
    return next((k for k in candidates if k in keys), None)


def plot_training_curves(
    history: Sequence[Mapping[str, object]],
    *,
    auroc_key: str | None = None,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """Loss and AUROC per epoch from a skorch-like history (list of per-epoch dicts).

    Parameters
    ----------
    history : list of dict
        One dict per epoch with ``epoch`` (optional), ``train_loss``, ``valid_loss`` and an AUROC entry.
    auroc_key : str, optional
        History key of the validation AUROC; default the first present of ``valid_auroc``,
        ``valid_roc_auc``, ``roc_auc``, ``auroc``.
    axes : pair of Axes, optional
        Where to draw loss and AUROC.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if len(history) == 0:
        raise ValueError("history is empty")
    if axes is None:
        fig, grid = new_figure(1, 2, figsize=(10.0, 3.8))
        axes = list(grid.ravel())
    if len(axes) != 2:
        raise ValueError(f"axes must hold 2 Axes, got {len(axes)}")
    epochs = np.array([h.get("epoch", i + 1) for i, h in enumerate(history)], dtype=float)
    loss_keys = [k for k in ("train_loss", "valid_loss") if _history_key(history, [k])]
    if not loss_keys:
        raise ValueError("history has neither 'train_loss' nor 'valid_loss'")
    auroc_key = auroc_key or _history_key(history, ("valid_auroc", "valid_roc_auc", "roc_auc", "auroc"))
    ax_loss, ax_auc = axes
    for key, color in zip(loss_keys, ("#0072B2", "#D55E00")):
        values = [h.get(key, np.nan) for h in history]
        ax_loss.plot(epochs, values, marker="o", markersize=3, color=color, label=key.replace("_", " "))
    for ax in (ax_loss, ax_auc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax_loss.set_xlabel("Epoch")
    ax_loss.set_ylabel("Loss")
    ax_loss.set_title("Training and validation loss per epoch")
    ax_loss.legend(frameon=False)
    if auroc_key is not None:
        ax_auc.plot(epochs, [h.get(auroc_key, np.nan) for h in history], marker="o", markersize=3,
                    color="#009E73", label=auroc_key.replace("_", " "))
    ax_auc.axhline(0.5, color="#999999", linestyle="--", linewidth=1.0, label="chance")
    ax_auc.set_ylim(0.0, 1.0)
    ax_auc.set_xlabel("Epoch")
    ax_auc.set_ylabel("AUROC")
    ax_auc.set_title("Validation AUROC per epoch" if auroc_key else "Validation AUROC (not recorded)")
    ax_auc.legend(frameon=False)
    return ax_loss.figure


def classification_summary(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Sensitivity, specificity, precision, F1 and balanced accuracy of binary window predictions."""
    yt = np.asarray(y_true).astype(int)
    yp = np.asarray(y_pred).astype(int)
    if yt.shape != yp.shape or yt.ndim != 1:
        raise ValueError(f"y_true {yt.shape} and y_pred {yp.shape} must be 1-D of the same length")
    tn, fp, fn, tp = confusion_matrix(yt, yp, labels=[0, 1]).ravel()

    def ratio(a: float, b: float) -> float:
        return float(a / b) if b else float("nan")

    sens, spec, prec = ratio(tp, tp + fn), ratio(tn, tn + fp), ratio(tp, tp + fp)
    return {
        "sensitivity": sens,
        "specificity": spec,
        "precision": prec,
        "F1": ratio(2 * prec * sens, prec + sens),
        "balanced accuracy": (sens + spec) / 2,
    }


def plot_confusion_matrix(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    labels: tuple[str, str] = ("interictal", "preictal"),
    threshold: float | None = None,
    pooled_over: str | None = None,
    unit: str = "window",
    ax: Axes | None = None,
) -> Figure:
    """Confusion matrix (counts and % of the true class) with a table of summary metrics beside it.

    Parameters
    ----------
    y_true, y_pred : ndarray of shape (n_windows,)
        Binary labels (1 preictal) and thresholded predictions.
    labels : (str, str)
        Names of class 0 and class 1.
    threshold : float, optional
        Risk threshold that made ``y_pred`` (``risk >= threshold``), stated in the title and x label.
    pooled_over : str, optional
        What the counted items pool, stated in the title (e.g. ``"all LOSO test folds"``).
    unit : str, default="window"
        What one count is (``"record"`` for record-level ECG), stated in the title.
    ax : Axes, optional
        Axes for the matrix; the metrics table is drawn to its right.

    Returns
    -------
    matplotlib.figure.Figure
    """
    summary = classification_summary(y_true, y_pred)
    cm = confusion_matrix(np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int), labels=[0, 1])
    fig, ax = new_axes(ax, figsize=(8.0, 4.0))
    row_frac = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    ax.imshow(row_frac, cmap="Blues", vmin=0, vmax=1)
    for i in range(2):
        for j in range(2):
            ax.text(j, i, f"{cm[i, j]}\n({100 * row_frac[i, j]:.1f}%)", ha="center", va="center",
                    color="white" if row_frac[i, j] > 0.5 else "black")
    ax.set_xticks([0, 1], labels)
    ax.set_yticks([0, 1], labels)
    ax.set_xlabel("Predicted" if threshold is None else f"Predicted (risk ≥ {threshold:g})")
    ax.set_ylabel("True label")
    title = "Confusion matrix" + ("" if threshold is None else f" at risk threshold {threshold:g}") + f" ({unit} level)"
    n = int(cm.sum())
    count = f"{n} {unit}s"
    ax.set_title(title + (f"\npooled over {pooled_over}, {count}" if pooled_over else f"\n{count}"))
    cells = [[name, f"{value:.3f}"] for name, value in summary.items()]
    table = ax.table(cellText=cells, colLabels=["metric", "value"], loc="right", bbox=[1.25, 0.1, 0.9, 0.8])
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    return fig


def plot_threshold_vs_fah(
    thresholds: np.ndarray,
    fah: np.ndarray,
    *,
    fah_targets: Sequence[float] = (0.1, 0.2, 0.5, 1.0),
    ax: Axes | None = None,
) -> Figure:
    """False alarms per interictal hour against the alarm threshold (log scale), with FAH targets.

    Parameters
    ----------
    thresholds : ndarray of shape (n,)
        Alarm thresholds.
    fah : ndarray of shape (n,)
        False alarms per hour at each threshold.
    fah_targets : sequence of float
        Horizontal reference lines.
    ax : Axes, optional
        Axes to draw in.

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = as_1d(thresholds, "thresholds")
    f = as_1d(fah, "fah")
    same_length(thresholds=t, fah=f)
    fig, ax = new_axes(ax)
    order = np.argsort(t)
    floor = 1e-3
    ax.plot(t[order], np.maximum(f[order], floor), marker="o", markersize=3, color="#0072B2",
            label=f"false alarms per hour (0 drawn at {floor:g})")
    if len(fah_targets):
        ax.hlines(list(fah_targets), 0, 1, transform=ax.get_yaxis_transform(), color="#999999", linestyle="--",
                  linewidth=0.8, label="FAH targets (" + ", ".join(f"{x:g}" for x in fah_targets) + "/h)")
    for target in fah_targets:
        ax.text(t.min(), target, f" {target:g}/h", va="bottom", fontsize=8, color="#555555")
    ax.set_yscale("log")
    ax.set_xlabel("Alarm threshold on the smoothed risk")
    ax.set_ylabel("False alarms per hour (log)")
    ax.set_title("False alarms per hour vs alarm threshold")
    ax.legend(frameon=False)
    return fig


def plot_threshold_vs_sensitivity(
    thresholds: np.ndarray,
    sensitivity: np.ndarray,
    *,
    ax: Axes | None = None,
) -> Figure:
    """Seizure sensitivity against the alarm threshold.

    Parameters
    ----------
    thresholds : ndarray of shape (n,)
        Alarm thresholds.
    sensitivity : ndarray of shape (n,)
        Fraction of seizures predicted at each threshold.
    ax : Axes, optional
        Axes to draw in.

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = as_1d(thresholds, "thresholds")
    s = as_1d(sensitivity, "sensitivity")
    same_length(thresholds=t, sensitivity=s)
    fig, ax = new_axes(ax)
    order = np.argsort(t)
    ax.plot(t[order], s[order], marker="o", markersize=3, color="#D55E00", label="seizure sensitivity")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("Alarm threshold on the smoothed risk")
    ax.set_ylabel("Sensitivity (fraction of seizures)")
    ax.set_title("Seizure sensitivity vs alarm threshold")
    ax.legend(frameon=False)
    return fig


def monotone_operating_curve(fah: np.ndarray, sensitivity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The best sensitivity reachable at each false-alarm rate: points sorted by FAH, running maximum of sensitivity.

    Raw operating points (one per threshold) zig-zag: the refractory period and the hysteresis make
    the alarms of neighbouring thresholds differ in both directions. An operator who may accept ``x``
    false alarms per hour can pick any threshold whose FAH is at most ``x``, so the curve to read is
    the upper envelope ``max{sensitivity_i : FAH_i <= x}``, non-decreasing by construction.

    Parameters
    ----------
    fah, sensitivity : ndarray of shape (n,)
        Operating points; pairs with a non-finite value are dropped.

    Returns
    -------
    fah_sorted, best_sensitivity : ndarray of shape (n_finite,)
        FAH in increasing order (ties: lower sensitivity first) and the running maximum of sensitivity.

    Examples
    --------
    >>> monotone_operating_curve(np.array([0.5, 0.1, 0.3]), np.array([0.6, 0.5, 0.4]))
    (array([0.1, 0.3, 0.5]), array([0.5, 0.5, 0.6]))
    """
    f = np.asarray(fah, dtype=float)
    s = np.asarray(sensitivity, dtype=float)
    keep = np.isfinite(f) & np.isfinite(s)
    f, s = f[keep], s[keep]
    order = np.lexsort((s, f))
    return f[order], np.maximum.accumulate(s[order]) if s.size else s


def plot_fah_sensitivity_tradeoff(
    fah: np.ndarray,
    sensitivity: np.ndarray,
    *,
    sop_s: float = 600.0,
    label: str = "model",
    ax: Axes | None = None,
) -> Figure:
    """Sensitivity against FAH as a monotone operating curve, with the raw points and the chance curve.

    The curve is a step function through :func:`monotone_operating_curve` (the best sensitivity of any
    threshold whose FAH is at most the x value); the raw operating points are drawn as faint dots;
    chance is ``p = 1 - exp(-FAH * SOP_h)``.

    Parameters
    ----------
    fah, sensitivity : ndarray of shape (n,)
        Operating points (e.g. one per threshold).
    sop_s : float, default 600
        Seizure occurrence period in s.
    label : str, default "model"
        Legend label of the operating curve.
    ax : Axes, optional
        Axes to draw in.

    Returns
    -------
    matplotlib.figure.Figure
    """
    f = as_1d(fah, "fah")
    s = as_1d(sensitivity, "sensitivity")
    same_length(fah=f, sensitivity=s)
    fig, ax = new_axes(ax)
    f_max = max(float(np.nanmax(f)) if np.isfinite(f).any() else 1.0, 1.0)
    ax.scatter(f, s, s=14, color="#0072B2", alpha=0.35, linewidths=0, label="operating points (one per threshold)")
    curve_f, curve_s = monotone_operating_curve(f, s)
    if curve_f.size:  # the step reaches the right edge: larger FAH budgets keep the best sensitivity
        ax.step(np.append(curve_f, f_max), np.append(curve_s, curve_s[-1]), where="post", color="#0072B2",
                linewidth=1.8, label=f"{label}: best sensitivity at FAH ≤ x (running max)")
    grid = np.linspace(0.0, f_max, 200)
    ax.plot(grid, chance_sensitivity(grid, sop_s), color="#999999", linestyle="--",
            label=f"chance (Poisson, SOP {sop_s / 60:g} min)")
    ax.set_xlim(0.0, f_max)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("False alarms per hour (x: largest accepted)")
    ax.set_ylabel("Best sensitivity at FAH ≤ x (fraction of seizures)")
    ax.set_title("Sensitivity vs false alarms per hour (monotone operating curve)")
    ax.legend(frameon=False, loc="lower right")
    return fig


def plot_warning_times(
    warning_times_s: np.ndarray,
    *,
    sop_s: float = 600.0,
    sph_s: float = 30.0,
    bins: int = 10,
    ax: Axes | None = None,
) -> Figure:
    """Histogram of warning times (seizure onset − first alarm in its SOP window), in minutes.

    Parameters
    ----------
    warning_times_s : ndarray of shape (n_predicted,)
        Warning times in s (NaN entries, i.e. missed seizures, are ignored).
    sop_s, sph_s : float
        The admissible range ``[sph_s, sph_s + sop_s]`` is marked.
    bins : int, default 10
        Histogram bins over ``[0, sph_s + sop_s]``.
    ax : Axes, optional
        Axes to draw in.

    Returns
    -------
    matplotlib.figure.Figure
    """
    w = as_1d(warning_times_s, "warning_times_s", allow_empty=True)
    w = w[np.isfinite(w)] / 60.0
    sph_min, end_min = sph_s / 60.0, (sph_s + sop_s) / 60.0
    fig, ax = new_axes(ax, figsize=(9.5, 4.0))
    ax.hist(w, bins=np.linspace(0.0, end_min, bins + 1), color="#009E73", edgecolor="white",
            label=f"{w.size} predicted seizures")
    ax.axvline(sph_min, color="#999999", linestyle=":", linewidth=1.2,
               label=f"SPH {sph_min:g} min (shortest admissible warning)")
    ax.axvline(end_min, color="#999999", linestyle="--", linewidth=1.0,
               label=f"SPH + SOP {end_min:g} min (longest admissible warning)")
    if w.size:
        ax.axvline(float(np.median(w)), color="black", linewidth=1.2, label=f"median {np.median(w):.1f} min")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel("Warning time (min before onset)")
    ax.set_ylabel("Predicted seizures (count)")
    ax.set_title("Warning times of predicted seizures")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def plot_reliability(
    prob_pred: np.ndarray,
    prob_true: np.ndarray,
    *,
    counts: np.ndarray | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Reliability diagram: observed preictal fraction against mean predicted risk per bin.

    Parameters
    ----------
    prob_pred : ndarray of shape (n_bins,)
        Mean predicted risk per bin (``sklearn.calibration.calibration_curve`` second output).
    prob_true : ndarray of shape (n_bins,)
        Observed fraction of preictal windows per bin.
    counts : ndarray of shape (n_bins,), optional
        Windows per bin, drawn as marker sizes.
    ax : Axes, optional
        Axes to draw in.

    Returns
    -------
    matplotlib.figure.Figure
    """
    p = as_1d(prob_pred, "prob_pred")
    o = as_1d(prob_true, "prob_true")
    same_length(prob_pred=p, prob_true=o)
    fig, ax = new_axes(ax, figsize=(5.0, 5.0))
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", label="perfect calibration")
    ax.plot(p, o, color="#0072B2", linewidth=1.2, marker="o", markersize=4, label="model (marker size ∝ windows)")
    sizes = 20.0
    if counts is not None:
        c = as_1d(counts, "counts")
        same_length(prob_pred=p, counts=c)
        sizes = 15.0 + 150.0 * c / max(float(c.max()), 1.0)
    ax.scatter(p, o, s=sizes, color="#0072B2", zorder=3)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("Mean predicted risk")
    ax.set_ylabel("Observed preictal fraction")
    ax.set_title("Reliability diagram (window level)")
    ax.legend(frameon=False, loc="upper left")
    return fig


def plot_loso_bars(
    loso: pd.DataFrame,
    *,
    metric: str = "sensitivity",
    fah_target: float | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Per-test-subject bars of a LOSO metric with the mean line and chance-level markers.

    Parameters
    ----------
    loso : DataFrame
        ``loso_results.csv`` table: ``test_subject``, ``fah_target`` and ``metric``; ``chance_p`` is drawn
        as chance markers for ``sensitivity``; AUROC gets a 0.5 chance line.
    metric : str, default "sensitivity"
        Column to plot (``sensitivity``, ``auroc``, ``ioc``, …).
    fah_target : float, optional
        Operating point to plot; required when the table holds several and the metric depends on it.
    ax : Axes, optional
        Axes to draw in.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_columns(loso, ("test_subject", "fah_target", metric), "loso")
    targets = sorted(loso["fah_target"].dropna().unique())
    table = loso
    if metric == "auroc":
        table = loso.drop_duplicates("test_subject")
    elif fah_target is not None:
        table = loso[np.isclose(loso["fah_target"], fah_target)]
        if table.empty:
            raise ValueError(f"fah_target {fah_target} not in loso results (targets {targets})")
    elif len(targets) > 1:
        raise ValueError(f"loso results hold FAH targets {targets}: pass fah_target=")
    table = table.sort_values("test_subject")
    values = table[metric].to_numpy(dtype=float)
    x = np.arange(len(table))
    fig, ax = new_axes(ax, figsize=(max(6.0, 0.45 * len(table) + 2.0), 4.0))
    ax.bar(x, values, color="#0072B2", label=metric)
    mean = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
    ax.axhline(mean, color="black", linewidth=1.2, label=f"mean {mean:.2f} ± {np.nanstd(values):.2f}")
    if metric == "sensitivity" and "chance_p" in table.columns:
        ax.scatter(x, table["chance_p"].to_numpy(dtype=float), marker="_", s=300, color="#D55E00",
                   linewidths=2.5, zorder=3, label="chance level p")
    elif metric == "auroc":
        ax.axhline(0.5, color="#D55E00", linestyle="--", linewidth=1.0, label="chance 0.5")
    ax.set_xticks(x, table["test_subject"].astype(str), rotation=60, ha="right")
    ax.set_xlabel("Test subject")
    ax.set_ylabel(metric.upper() if metric == "auroc" else metric.capitalize())
    if metric in ("sensitivity", "auroc"):
        ax.set_ylim(0.0, 1.05)
    if metric == "auroc":
        title = "Window-level AUROC per LOSO test subject"
    else:
        suffix = "" if not targets else (f"\nthreshold tuned on validation subjects for FAH ≤ "
                                         f"{table['fah_target'].iloc[0]:g}/h")
        title = f"{metric.capitalize()} per LOSO test subject{suffix}"
    ax.set_title(title)
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def plot_sensitivity_tiw(curves: Mapping[str, pd.DataFrame], *, ax: Axes | None = None) -> Figure:
    """Sensitivity against time in warning: every subject's operating points, their binned mean, chance.

    A subject's points (one per threshold) zig-zag -- the refractory period and hysteresis make the
    alarms of neighbouring thresholds differ in both directions -- so they are drawn as dots, and the
    mean sensitivity over subjects in 10 bins of time in warning as a line.

    Parameters
    ----------
    curves : mapping of str to DataFrame
        Per test subject, its :func:`~sklearn_eeg.evaluation.forecast_scores.sensitivity_tiw_curve` table
        (``time_in_warning``, ``sensitivity``). Subjects without scorable seizures (NaN
        sensitivity) are left out and counted in the title.
    ax : Axes, optional
        Axes to draw in.

    Returns
    -------
    matplotlib.figure.Figure
        Title with the mean area under the curves (:func:`~sklearn_eeg.evaluation.forecast_scores.sensitivity_tiw_auc`).
    """
    from sklearn_eeg.evaluation.forecast_scores import closed_tiw_curve, sensitivity_tiw_auc

    if not curves:
        raise ValueError("curves is empty: no subject to draw")
    for name, curve in curves.items():
        check_columns(curve, ("time_in_warning", "sensitivity"), f"curve of {name}")
    aucs = {name: sensitivity_tiw_auc(curve) for name, curve in curves.items()}
    scored = [name for name, auc in aucs.items() if np.isfinite(auc)]
    fig, ax = new_axes(ax, figsize=(5.5, 5.0))
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", label="chance (AUC 0.5)")
    points = [closed_tiw_curve(curves[name]) for name in scored]
    for i, (tiw, sens) in enumerate(points):
        ax.scatter(tiw, sens, s=8, color="#0072B2", alpha=0.35, linewidths=0,
                   label="operating points (per subject)" if i == 0 else None)
    if points:
        tiw, sens = np.concatenate([p[0] for p in points]), np.concatenate([p[1] for p in points])
        edges = np.linspace(0.0, 1.0, 11)
        which = np.clip(np.digitize(tiw, edges) - 1, 0, 9)
        filled = [b for b in range(10) if np.any(which == b)]
        ax.plot([tiw[which == b].mean() for b in filled], [sens[which == b].mean() for b in filled],
                color="#0072B2", linewidth=2.0, marker="o", markersize=4, label="mean over subjects")
    mean = float(np.mean([aucs[name] for name in scored])) if scored else float("nan")
    skipped = len(curves) - len(scored)
    note = f", {skipped} without scorable seizures" if skipped else ""
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel("Time in warning (fraction of recorded time)")
    ax.set_ylabel("Sensitivity (fraction of lead seizures)")
    ax.set_title(f"Sensitivity vs time in warning, one curve per test subject\n"
                 f"mean AUC {mean:.2f} over {len(scored)} subjects{note}")
    ax.legend(frameon=False, loc="lower right")
    return fig
