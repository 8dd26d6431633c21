"""Benchmark summaries: mean ± std over folds, pooled seizure-level significance, the printed table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sklearn_eeg.evaluation.forecast_scores import bootstrap_ci

__all__ = [
    "CI_METRICS",
    "SUMMARY_METRICS",
    "format_summary",
    "poisson_binomial_sf",
    "significance_table",
    "summarize_results",
]

SUMMARY_METRICS = (
    "auroc",
    "auprc",
    "sensitivity",
    "fah",
    "fah_interictal",
    "warning_time_mean",
    "time_in_warning",
    "chance_p",
    "ioc",
    "p_surrogate",
    # threshold-free forecast scores (sklearn_eeg.evaluation.forecast_scores), NaN in older result tables
    "sens_tiw_auc",
    "brier_timeline",
    "brier_climatology",
    "bss",
)
#: Metrics given a bootstrap 95 % confidence interval of their mean over test subjects.
CI_METRICS = ("auroc", "sens_tiw_auc", "bss")
#: Significance level of the per-patient count of forecasters above chance.
ALPHA = 0.05


def poisson_binomial_sf(k: int, probabilities: np.ndarray) -> float:
    """P(K >= k) for K a sum of independent Bernoulli(p_i).

    Examples
    --------
    >>> round(poisson_binomial_sf(1, [0.5, 0.5]), 3)
    0.75
    """
    pmf = np.array([1.0])
    for p in np.asarray(probabilities, dtype=float):
        pmf = np.convolve(pmf, [1.0 - p, p])
    return float(pmf[max(int(k), 0) :].sum())


def _surrogate_counts_of(histogram) -> np.ndarray | None:
    """Counts of a :func:`~sklearn_eeg.evaluation.alarm_scoring.surrogate_histogram` string (a CSV may have read
    "1000" as a number)."""
    if histogram is None or (isinstance(histogram, float) and np.isnan(histogram)) or str(histogram) == "":
        return None
    return np.array([float(c) for c in str(histogram).split(";")])


def _pooled_surrogate_p(part: pd.DataFrame) -> float:
    """P(seizures predicted by the folds' surrogates together >= observed), folds independent.

    The pooled null distribution is the convolution of the folds' surrogate histograms; the result
    is floored at ``1 / (n_surrogates + 1)``, the smallest p-value the surrogates can support.
    """
    if "surrogate_hist" not in part.columns:
        return np.nan
    scored = part[part["n_seizures"].fillna(0) > 0]
    histograms = [_surrogate_counts_of(h) for h in scored["surrogate_hist"]]
    if not histograms or any(h is None for h in histograms):
        return np.nan
    pooled = np.array([1.0])
    for counts in histograms:
        pooled = np.convolve(pooled, counts / counts.sum())
    n_surrogates = int(min(counts.sum() for counts in histograms))
    k = int(scored["n_predicted"].fillna(0).sum())
    return float(max(pooled[k:].sum(), 1.0 / (n_surrogates + 1)))


def _per_seizure(part: pd.DataFrame, column: str) -> np.ndarray:
    """A fold-level chance repeated once per scorable seizure of the fold (NaN counts as 0).

    ``chance_p`` is floored at the fold's ``time_in_warning`` (as the scoring already does; kept here
    for result tables written before the floor existed).
    """
    n_seizures = part["n_seizures"].fillna(0).astype(int).to_numpy()
    chance = part[column].to_numpy(dtype=float)
    if column == "chance_p" and "time_in_warning" in part.columns:
        chance = np.fmax(chance, part["time_in_warning"].to_numpy(dtype=float))
    return np.repeat(np.nan_to_num(chance, nan=0.0), n_seizures)


def _patients_above_chance(part: pd.DataFrame) -> tuple[int, int]:
    """(patients with scorable seizures, those whose surrogate p over their folds is < ALPHA)."""
    if "test_subject" not in part.columns or "surrogate_hist" not in part.columns:
        return 0, 0
    n_patients = n_above = 0
    for _, rows in part.groupby("test_subject", sort=False):
        if rows["n_seizures"].fillna(0).sum() == 0:
            continue
        n_patients += 1
        n_above += int(_pooled_surrogate_p(rows) < ALPHA)
    return n_patients, n_above


def _subject_ci(part: pd.DataFrame, metric: str) -> tuple[float, float]:
    """Bootstrap 95 % CI of ``metric``'s mean over test subjects (each subject's folds averaged first).

    NaN when the table lacks ``metric`` or ``test_subject`` (result tables of older runs).
    """
    if metric not in part.columns or "test_subject" not in part.columns:
        return np.nan, np.nan
    return bootstrap_ci(part.groupby("test_subject")[metric].mean().astype(float).to_numpy())


def summarize_results(results: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std over folds per FAH target, plus pooled seizure-level significance.

    Each test seizure is an independent trial. ``pooled_p_value``: P(K >= k predicted) under the
    Poisson-binomial null whose chance per seizure is its fold's ``chance_p`` (the Snyder Poisson
    chance floored at the fold's time in warning). ``pooled_p_surrogate``: the seizure-time surrogate
    test pooled over folds -- the folds' surrogate histograms (``surrogate_hist``) convolved, since
    folds are scored independently, floored at ``1 / (n_surrogates + 1)``.
    ``n_patients_above_chance``: test subjects whose own surrogate p-value over their folds is
    below 0.05. ``<metric>_ci_low`` / ``<metric>_ci_high`` for :data:`CI_METRICS`: percentile
    bootstrap 95 % interval of the mean over test subjects (:func:`~sklearn_eeg.evaluation.forecast_scores.bootstrap_ci`).

    Parameters
    ----------
    results : DataFrame
        Rows of :func:`~sklearn_eeg.experiments.benchmark.run_loso` or :func:`~sklearn_eeg.experiments.benchmark.run_within_subject`.

    Returns
    -------
    summary : DataFrame
        One row per ``fah_target``: ``n_folds``, ``<metric>_mean``, ``<metric>_std``,
        ``<metric>_ci_low``, ``<metric>_ci_high`` (:data:`CI_METRICS`, NaN when absent),
        ``n_seizures`` (scorable lead seizures), ``n_not_scorable``, ``n_predicted``,
        ``pooled_sensitivity``, ``pooled_chance_p``, ``pooled_ioc``, ``pooled_p_value``,
        ``pooled_surrogate_chance``, ``pooled_p_surrogate``, ``n_patients``,
        ``n_patients_above_chance``.
    """
    if results.empty:
        return pd.DataFrame(columns=["fah_target", "n_folds"])
    rows = []
    for target, part in results.groupby("fah_target", sort=True):
        row = {"fah_target": target, "n_folds": len(part)}
        for metric in SUMMARY_METRICS:
            values = part[metric].astype(float) if metric in part.columns else pd.Series(np.nan, index=part.index)
            row[f"{metric}_mean"] = values.mean()
            row[f"{metric}_std"] = values.std(ddof=1) if values.notna().sum() > 1 else np.nan
        for metric in CI_METRICS:
            row[f"{metric}_ci_low"], row[f"{metric}_ci_high"] = _subject_ci(part, metric)
        total = int(part["n_seizures"].fillna(0).sum())
        n_predicted = int(part["n_predicted"].fillna(0).sum())
        chance = _per_seizure(part, "chance_p")
        surrogate = _per_seizure(part, "surrogate_chance") if "surrogate_chance" in part.columns else np.zeros(0)
        n_patients, n_above = _patients_above_chance(part)
        row.update(
            n_seizures=total,
            n_not_scorable=int(part["n_not_scorable"].fillna(0).sum()) if "n_not_scorable" in part.columns else 0,
            n_predicted=n_predicted,
            pooled_sensitivity=n_predicted / total if total else np.nan,
            pooled_chance_p=chance.mean() if total else np.nan,
            pooled_p_value=poisson_binomial_sf(n_predicted, chance) if total else np.nan,
            pooled_surrogate_chance=surrogate.mean() if total and surrogate.size else np.nan,
            pooled_p_surrogate=_pooled_surrogate_p(part) if total else np.nan,
            n_patients=n_patients,
            n_patients_above_chance=n_above,
        )
        row["pooled_ioc"] = row["pooled_sensitivity"] - row["pooled_chance_p"]
        rows.append(row)
    return pd.DataFrame(rows)


def significance_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The pooled seizure-level columns of a :func:`summarize_results` output, formatted.

    Returns
    -------
    table : DataFrame of shape (n_targets, 5)
        ``predicted`` (predicted / scorable lead seizures), ``not scorable``, ``binomial p``
        (``pooled_p_value``), ``surrogate p`` (``pooled_p_surrogate``) and ``patients > chance``.
    """
    return pd.DataFrame(
        {
            "predicted": [f"{p}/{n}" for p, n in zip(summary["n_predicted"], summary["n_seizures"])],
            "not scorable": summary["n_not_scorable"].to_numpy(),
            "binomial p": summary["pooled_p_value"].map(lambda p: f"{p:.3g}").to_numpy(),
            "surrogate p": summary["pooled_p_surrogate"].map(lambda p: f"{p:.3g}").to_numpy(),
            "patients > chance": [
                f"{a}/{n}" for a, n in zip(summary["n_patients_above_chance"], summary["n_patients"])
            ],
        }
    )


def format_summary(summary: pd.DataFrame) -> str:
    """Human-readable ``mean ± std`` table of a :func:`summarize_results` output."""
    if summary.empty:
        return "(no evaluated folds)"
    table = pd.DataFrame({"FAH target": summary["fah_target"], "folds": summary["n_folds"]})
    headers = {"auroc": "auroc", "sensitivity": "sensitivity", "fah": "FAH/h non-ictal", "ioc": "ioc",
               "time_in_warning": "time_in_warning"}
    for metric, header in headers.items():
        table[header] = [f"{m:.3f} ± {s:.3f}" for m, s in zip(summary[f"{metric}_mean"], summary[f"{metric}_std"])]
    return pd.concat([table, significance_table(summary)], axis=1).to_string(index=False)
