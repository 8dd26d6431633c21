"""Benchmark summaries: mean ± std over folds, pooled seizure-level significance, the printed table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sklearn_eeg.evaluation.forecast_scores import bootstrap_ci

__all__ = [
    "CI_METRICS",
    "SUMMARY_METRICS",
    "STD_DEFINITION",
    "SUMMARY_TABLE_COLUMNS",
    "format_mean_std",
    "format_summary",
    "format_target",
    "identical_targets_notes",
    "poisson_binomial_sf",
    "significance_table",
    "summarize_results",
    "summary_table",
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
#: Seizure-level columns of :func:`summarize_results` (NaN for result tables without seizure counts).
_POOLED_COLUMNS = (
    "n_seizures", "n_not_scorable", "n_predicted", "pooled_sensitivity", "pooled_chance_p", "pooled_p_value",
    "pooled_surrogate_chance", "pooled_p_surrogate", "n_patients", "n_patients_above_chance", "pooled_ioc",
)
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
        One row per ``fah_target``: ``n_folds``, ``<metric>_mean``, ``<metric>_std`` (sample std,
        ddof=1, over folds; NaN with one fold),
        ``<metric>_ci_low``, ``<metric>_ci_high`` (:data:`CI_METRICS`, NaN when absent),
        ``n_seizures`` (scorable lead seizures), ``n_not_scorable``, ``n_predicted``,
        ``pooled_sensitivity``, ``pooled_chance_p``, ``pooled_ioc``, ``pooled_p_value``,
        ``pooled_surrogate_chance``, ``pooled_p_surrogate``, ``n_patients``,
        ``n_patients_above_chance`` (the seizure-level columns NaN when ``results`` has no
        ``n_seizures`` / ``n_predicted``).
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
        if "n_seizures" not in part.columns or "n_predicted" not in part.columns:
            rows.append(row)  # a table without seizure counts: no seizure-level columns
            continue
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
    summary = pd.DataFrame(rows)
    return summary.reindex(columns=list(dict.fromkeys([*summary.columns, *_POOLED_COLUMNS])))


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


#: Columns of :func:`summary_table`: metric of :func:`summarize_results` -> (header, decimals, scale).
SUMMARY_TABLE_COLUMNS: dict[str, tuple[str, int, float]] = {
    "auroc": ("AUROC", 3, 1.0),
    "sensitivity": ("sensitivity", 3, 1.0),
    "fah": ("FAH (/h non-ictal)", 3, 1.0),
    "warning_time_mean": ("warning time (min)", 1, 60.0),
    "time_in_warning": ("time in warning", 3, 1.0),
    "ioc": ("IoC", 3, 1.0),
}
#: What every ``mean ± std`` of the summaries means (printed under the tables).
STD_DEFINITION = "mean ± sample std (ddof=1) over folds; LOSO has one fold per test subject"


def format_mean_std(mean: float, std: float, decimals: int = 3) -> str:
    """``"mean ± std"`` at ``decimals`` decimals; the mean alone when std is NaN, ``"n/a"`` without a mean.

    Examples
    --------
    >>> format_mean_std(0.49612, 0.25791)
    '0.496 ± 0.258'
    >>> format_mean_std(0.5, float("nan"), 2)
    '0.50'
    """
    if not np.isfinite(mean):
        return "n/a"
    if not np.isfinite(std):
        return f"{mean:.{decimals}f}"
    return f"{mean:.{decimals}f} ± {std:.{decimals}f}"


def format_target(target: float) -> str:
    """An FAH target as every summary prints it (``0.1``, ``1``)."""
    return f"{float(target):g}"


def summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The benchmark table: one formatted row per FAH target of a :func:`summarize_results` output.

    The one table of a benchmark: the console (``pipelines/loso.py``, ``within_subject.py``) prints
    it and ``final_summary.{md,txt}`` writes it, so both show the same numbers with the same
    rounding for the same FAH targets (every target of the results). Each ``mean ± std`` is over
    folds with ddof=1 (:data:`STD_DEFINITION`), as in ``loso_summary.csv``.

    Returns
    -------
    table : DataFrame of shape (n_targets, n_columns)
        ``FAH target (/h)``, ``folds``, the :data:`SUMMARY_TABLE_COLUMNS` as ``mean ± std`` and,
        when the results counted seizures, the :func:`significance_table` columns.
    """
    table = pd.DataFrame(
        {"FAH target (/h)": summary["fah_target"].map(format_target).to_numpy(), "folds": summary["n_folds"].to_numpy()}
    )
    for metric, (header, decimals, scale) in SUMMARY_TABLE_COLUMNS.items():
        means, stds = summary[f"{metric}_mean"] / scale, summary[f"{metric}_std"] / scale
        table[header] = [format_mean_std(m, s, decimals) for m, s in zip(means, stds)]
    if summary["n_seizures"].notna().any():
        table = pd.concat([table, significance_table(summary)], axis=1)
    return table


def _fold_columns(results: pd.DataFrame) -> list[str]:
    return [c for c in ("test_subject", "subject", "fold") if c in results.columns]


def identical_targets_notes(table: pd.DataFrame, results: pd.DataFrame | None = None) -> list[str]:
    """One line per group of FAH targets whose rows of ``table`` are identical, saying why.

    The reason comes from the fold results' tuned thresholds (``threshold`` per fold and target):
    the same threshold in every fold means the validation search found nothing as good between the
    targets (the tuning picks the best validation sensitivity with validation FAH <= target, ties to
    the higher FAH, so a threshold whose validation FAH lies between them would have been chosen had
    it caught as many validation seizures);
    different thresholds with identical rows mean they raised the same alarms on the test data.

    Parameters
    ----------
    table : DataFrame
        A :func:`summary_table`.
    results : DataFrame, optional
        The fold results it summarises (``fah_target``, ``threshold``, ``val_fah``); without them
        the lines only name the targets.

    Returns
    -------
    notes : list of str
    """
    target_col = "FAH target (/h)"
    body = table.drop(columns=[target_col]).astype(str)
    groups: dict[tuple, list[str]] = {}
    for target, row in zip(table[target_col], body.itertuples(index=False)):
        if "not run" not in tuple(row):
            groups.setdefault(tuple(row), []).append(str(target))
    notes = []
    for targets in groups.values():
        if len(targets) < 2:
            continue
        names = ", ".join(targets[:-1]) + f" and {targets[-1]} /h"
        notes.append(f"FAH targets {names} give identical rows: " + _identical_reason(targets, results))
    return notes


def _identical_reason(targets: list[str], results: pd.DataFrame | None) -> str:
    keys = [] if results is None else _fold_columns(results)
    if results is None or not keys or "threshold" not in results.columns:
        return "the fold results are not at hand to say why."
    values = [float(t) for t in targets]
    rows = results[np.isclose(results["fah_target"].to_numpy(dtype=float)[:, None], values).any(axis=1)]
    thresholds = rows.groupby(keys + ["fah_target"], sort=False)["threshold"].first().unstack("fah_target")
    n_folds = len(thresholds)
    chosen = thresholds.to_numpy(dtype=float)
    first = chosen[:, [0]]
    same = ((chosen == first) | (np.isnan(chosen) & np.isnan(first))).all(axis=1)
    low, high = targets[0], targets[-1]
    if np.isnan(chosen).all():
        return f"no threshold met even {high}/h on validation in any of the {n_folds} folds, so none was tuned."
    if same.all():
        reason = (f"validation tuning chose the same threshold for them in all {n_folds} folds, since no "
                  f"threshold with validation FAH above {low} and up to {high}/h caught as many validation seizures")
        if "val_fah" in rows.columns:
            highest = rows.loc[np.isclose(rows["fah_target"], float(high)), "val_fah"].max()
            if np.isfinite(highest):
                reason += f" (validation FAH of the chosen thresholds at most {highest:.2f}/h)"
        return reason + "."
    return (f"their thresholds differ in {int((~same).sum())} of {n_folds} folds but raise the same alarms on "
            "the test subjects.")


def format_summary(summary: pd.DataFrame, results: pd.DataFrame | None = None) -> str:
    """The benchmark table of a :func:`summarize_results` output as printed text, with its notes.

    Parameters
    ----------
    summary : DataFrame
        A :func:`summarize_results` output.
    results : DataFrame, optional
        The fold results behind it: FAH targets with identical rows then get a line saying why
        (:func:`identical_targets_notes`).

    Returns
    -------
    text : str
        :func:`summary_table` as text, the std definition and one line per group of identical rows.
    """
    if summary.empty:
        return "(no evaluated folds)"
    table = summary_table(summary)
    lines = [table.to_string(index=False), f"({STD_DEFINITION})"]
    return "\n".join(lines + identical_targets_notes(table, results))
