"""Benchmark summaries: mean ± std over folds, pooled seizure-level significance, the printed table."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SUMMARY_METRICS", "format_summary", "summarize_results"]

SUMMARY_METRICS = ("auroc", "auprc", "sensitivity", "fah", "warning_time_mean", "time_in_warning", "chance_p", "ioc")


def _poisson_binomial_sf(k: int, probabilities: np.ndarray) -> float:
    """P(K >= k) for K a sum of independent Bernoulli(p_i)."""
    pmf = np.array([1.0])
    for p in probabilities:
        pmf = np.convolve(pmf, [1.0 - p, p])
    return float(pmf[k:].sum())


def summarize_results(results: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std over folds per FAH target, plus pooled seizure-level significance.

    The pooled p-value treats every test seizure as an independent Bernoulli trial whose chance
    probability is its fold's ``max(chance_p, time_in_warning)`` and gives P(K >= k predicted)
    under that Poisson-binomial null. ``chance_p`` is the Poisson chance from the false-alarm rate
    (Snyder et al. 2008); ``time_in_warning`` is the chance that a seizure falls under a warning
    placed at random with the same total warning time. The maximum keeps the test conservative in
    folds without false alarms, where ``chance_p`` is 0 and a single lucky alarm would otherwise be
    "significant".

    Parameters
    ----------
    results : DataFrame
        Rows of :func:`~sklearn_eeg.benchmark.run_loso` or :func:`~sklearn_eeg.benchmark.run_within_subject`.

    Returns
    -------
    summary : DataFrame
        One row per ``fah_target``: ``n_folds``, ``<metric>_mean``, ``<metric>_std``,
        ``n_seizures``, ``n_predicted``, ``pooled_sensitivity``, ``pooled_chance_p``,
        ``pooled_ioc``, ``pooled_p_value``.
    """
    if results.empty:
        return pd.DataFrame(columns=["fah_target", "n_folds"])
    rows = []
    for target, part in results.groupby("fah_target", sort=True):
        row = {"fah_target": target, "n_folds": len(part)}
        for metric in SUMMARY_METRICS:
            values = part[metric].astype(float)
            row[f"{metric}_mean"] = values.mean()
            row[f"{metric}_std"] = values.std(ddof=1) if values.notna().sum() > 1 else np.nan
        n_seizures = part["n_seizures"].fillna(0).astype(int).to_numpy()
        n_predicted = int(part["n_predicted"].fillna(0).sum())
        fold_chance = np.fmax(part["chance_p"].to_numpy(dtype=float), part["time_in_warning"].to_numpy(dtype=float))
        chance = np.repeat(np.nan_to_num(fold_chance, nan=0.0), n_seizures)
        total = int(n_seizures.sum())
        row.update(
            n_seizures=total,
            n_predicted=n_predicted,
            pooled_sensitivity=n_predicted / total if total else np.nan,
            pooled_chance_p=chance.mean() if total else np.nan,
            pooled_p_value=_poisson_binomial_sf(n_predicted, chance) if total else np.nan,
        )
        row["pooled_ioc"] = row["pooled_sensitivity"] - row["pooled_chance_p"]
        rows.append(row)
    return pd.DataFrame(rows)


def format_summary(summary: pd.DataFrame) -> str:
    """Human-readable ``mean ± std`` table of a :func:`summarize_results` output."""
    if summary.empty:
        return "(no evaluated folds)"
    table = pd.DataFrame({"FAH target": summary["fah_target"], "folds": summary["n_folds"]})
    for metric in ("auroc", "sensitivity", "fah", "ioc", "time_in_warning"):
        table[metric] = [f"{m:.3f} ± {s:.3f}" for m, s in zip(summary[f"{metric}_mean"], summary[f"{metric}_std"])]
    table["predicted"] = [f"{p}/{n}" for p, n in zip(summary["n_predicted"], summary["n_seizures"])]
    table["pooled p"] = summary["pooled_p_value"].map(lambda p: f"{p:.3g}")
    return table.to_string(index=False)
