"""Result tables: benchmark summaries (the printed benchmark table, mean ± std over folds) and the final summary report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_eeg.atomic_files import atomic_write_text
from sklearn_eeg.evaluation.benchmark_summary import (
    STD_DEFINITION,
    format_mean_std,
    format_target,
    identical_targets_notes,
    summarize_results,
    summary_table,
)
from sklearn_eeg.evaluation.forecast_scores import bootstrap_ci
from ._checks import check_columns


def _subject_column(results: pd.DataFrame, name: str) -> str:
    for col in ("test_subject", "subject"):
        if col in results.columns:
            return col
    raise ValueError(f"{name} needs a 'test_subject' or 'subject' column; it has {list(results.columns)}")


def summarize_benchmark(
    results: pd.DataFrame,
    *,
    fah_targets: Sequence[float] | None = None,
    name: str = "results",
) -> tuple[str, pd.DataFrame]:
    """The benchmark table of a fold-result table: the one the benchmark commands print.

    Built by :func:`~sklearn_eeg.evaluation.benchmark_summary.summary_table` from
    :func:`~sklearn_eeg.evaluation.benchmark_summary.summarize_results`, so ``final_summary``, the
    console and ``loso_summary.csv`` show the same numbers: ``mean ± std`` over folds with ddof=1
    (LOSO: one fold per test subject), the same rounding, every FAH target.

    Parameters
    ----------
    results : DataFrame
        One row per (fold, FAH target): ``test_subject`` (or ``subject``), ``fah_target``, ``auroc``
        and any of ``sensitivity``, ``fah`` (achieved on test), ``warning_time_mean`` (mean time to
        warning, s), ``time_in_warning``, ``ioc`` and the seizure counts of
        :func:`sklearn_eeg.experiments.benchmark.run_loso` (``n_seizures``, ``n_predicted``...).
    fah_targets : sequence of float, optional
        Operating points listed (default: every target of ``results``); targets absent from
        ``results`` are shown as "not run".
    name : str
        Name used in error messages.

    Returns
    -------
    auroc : str
        Window AUROC, ``mean ± std`` over folds (as in the table's AUROC column).
    table : DataFrame
        One row per FAH target (``FAH target (/h)``, ``folds``, the metrics as ``mean ± std`` and
        the pooled seizure-level columns when ``results`` counts seizures).
    """
    check_columns(results, ("fah_target", "auroc"), name)
    _subject_column(results, name)
    summary = summarize_results(results)
    table = summary_table(summary)
    auroc = format_mean_std(summary["auroc_mean"].iloc[0], summary["auroc_std"].iloc[0])
    if fah_targets is None:
        return auroc, table
    present = dict(zip(summary["fah_target"].to_numpy(dtype=float), range(len(table))))
    rows = []
    for target in fah_targets:
        match = [i for t, i in present.items() if np.isclose(t, target)]
        if match:
            rows.append(table.iloc[match[0]])
        else:
            missing = {col: "not run" for col in table.columns}
            rows.append(pd.Series({**missing, "FAH target (/h)": format_target(target), "folds": 0}))
    return auroc, pd.DataFrame(rows).reset_index(drop=True)


def _mean_ci(per_subject: pd.Series, digits: int) -> str:
    v = per_subject.to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return "n/a"
    low, high = bootstrap_ci(v)
    return f"{v.mean():.{digits}f} (95 % CI {low:.{digits}f} to {high:.{digits}f})"


def _probabilistic_scores(results: pd.DataFrame, *, name: str = "results") -> pd.DataFrame | None:
    """Threshold-free forecast scores of a benchmark table: mean over subjects with a bootstrap 95 % CI.

    Each subject's folds are averaged first (the scores repeat on every FAH-target row of a fold);
    the interval resamples subjects (:func:`~sklearn_eeg.evaluation.forecast_scores.bootstrap_ci`).

    Parameters
    ----------
    results : DataFrame
        Benchmark rows with ``test_subject`` (or ``subject``) and any of ``sens_tiw_auc``,
        ``brier_timeline``, ``brier_climatology``, ``bss``.
    name : str
        Name used in error messages.

    Returns
    -------
    table : DataFrame of shape (3, 3) or None
        ``score``, ``mean over subjects``, ``reading``; None when the table has none of the scores
        (runs written before they existed).
    """
    columns = ("sens_tiw_auc", "brier_timeline", "brier_climatology", "bss")
    if not any(col in results.columns for col in columns):
        return None
    per_subject = results.groupby(_subject_column(results, name)).mean(numeric_only=True)
    per_subject = per_subject.reindex(columns=list(columns))
    clim_brier = per_subject["brier_climatology"].mean()
    clim_text = f"{clim_brier:.4f}" if np.isfinite(clim_brier) else "n/a"
    return pd.DataFrame(
        {
            "score": ["sensitivity–time-in-warning AUC", "Brier score (full timeline)", "Brier skill score (BSS)"],
            "mean over subjects": [
                _mean_ci(per_subject["sens_tiw_auc"], 2),
                _mean_ci(per_subject["brier_timeline"], 4),
                _mean_ci(per_subject["bss"], 2),
            ],
            "reading": [
                "about 0.5 chance (warnings independent of seizures), 1 perfect",
                f"lower is better; the constant training-rate forecast scores {clim_text}",
                "vs that constant forecast: 0 no skill, 1 perfect, < 0 worse",
            ],
        }
    )


def dataset_totals(recordings: pd.DataFrame, seizures: pd.DataFrame) -> dict[str, object]:
    """Subjects, files, recorded hours and seizures of a recording index (``load_index`` output)."""
    check_columns(recordings, ("subject", "recording", "duration"), "recordings")
    check_columns(seizures, ("subject",), "seizures")
    return {
        "subjects": int(recordings["subject"].nunique()),
        "files": int(len(recordings)),
        "recorded hours": round(float(recordings["duration"].sum()) / 3600.0, 1),
        "seizures": int(len(seizures)),
    }


def _markdown_table(table: pd.DataFrame) -> str:
    header = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(map(str, row)) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def write_final_summary(
    out_dir: str | Path,
    *,
    dataset_totals: Mapping[str, object],
    loso: pd.DataFrame | None,
    within: pd.DataFrame | None,
    limits: Sequence[str],
) -> tuple[Path, Path]:
    """Write ``final_summary.txt`` and ``final_summary.md`` into ``out_dir`` (e.g. ``reports/tables``).

    Parameters
    ----------
    out_dir : str or Path
        Output folder, created if needed.
    dataset_totals : mapping
        Dataset totals to report, e.g. ``{"subjects": 24, "seizures": 198, "recorded hours": 983.4}``.
    loso : DataFrame or None
        LOSO results (``loso_results.csv`` layout, see :func:`summarize_benchmark`); None if not run.
    within : DataFrame or None
        Patient-specific results, same layout with ``subject`` or ``test_subject``; None if not run.
    limits : sequence of str
        Honest limitations, one per bullet.

    Returns
    -------
    txt_path, md_path : Path
        The two written files.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    totals = pd.DataFrame({"quantity": list(dataset_totals), "value": [str(v) for v in dataset_totals.values()]})
    md = ["# Final summary", "", "## Dataset", "", _markdown_table(totals), ""]
    txt = ["FINAL SUMMARY", "", "Dataset", totals.to_string(index=False), ""]
    targets = sorted({float(t) for r in (loso, within) if r is not None and not r.empty for t in r["fah_target"]})
    for title, results in (("Leave-one-subject-out (LOSO)", loso), ("Patient-specific (within subject)", within)):
        md += [f"## {title}", ""]
        txt += [title]
        if results is None or results.empty:
            md += ["Not run.", ""]
            txt += ["  not run", ""]
            continue
        auroc, table = summarize_benchmark(results, fah_targets=targets, name=title)
        n = results[_subject_column(results, title)].nunique()
        notes = identical_targets_notes(table, results)
        md += [f"Subjects: {n}. Window AUROC: {auroc} ({STD_DEFINITION}).", "",
               "Operating points (thresholds tuned without the test data; the table the benchmark command "
               f"prints, {STD_DEFINITION}) and seizure-level significance pooled over test subjects (lead "
               "seizures predicted of those scorable, seizures not scorable, binomial p with each seizure's "
               "chance floored at the time in warning, seizure-time surrogate p, patients whose own surrogate "
               "p < 0.05):", "", _markdown_table(table), ""]
        md += [line for note in notes for line in (note, "")]
        txt += [f"  subjects: {n}", f"  window AUROC: {auroc}", table.to_string(index=False), f"  ({STD_DEFINITION})",
                *[f"  {note}" for note in notes], ""]
        scores = _probabilistic_scores(results, name=title)
        if scores is not None:
            md += ["### Probabilistic scores", "",
                   "Threshold-free, on the full test timeline, against the alarm target (a lead-seizure onset "
                   "within SPH to SPH + SOP); mean over subjects with a subject-bootstrap 95 % CI:", "",
                   _markdown_table(scores), ""]
            txt += ["  Probabilistic scores (full test timeline)", scores.to_string(index=False), ""]
    md += ["## Limits", ""] + [f"- {item}" for item in limits] + [""]
    txt += ["Limits"] + [f"  - {item}" for item in limits] + [""]
    txt_path, md_path = out / "final_summary.txt", out / "final_summary.md"
    atomic_write_text(txt_path, "\n".join(txt))
    atomic_write_text(md_path, "\n".join(md))
    return txt_path, md_path
