"""All figures of a run folder: reads what is present, skips what is missing with a message.

A run folder may hold ``loso_results.csv`` (or ``within_results.csv``), a predictions file (see
:mod:`sklearn_eeg.reporting.predictions`) and ``history.json`` (a skorch-like list of per-epoch dicts)
or, for a benchmark of deep models, one ``histories/<fold>.json`` per fold.
With a data root, the signal and labeling figures of its first recording are added.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_eeg.evaluation.alarms import AlarmPolicy
from ._style import save_figure
from .curves import (
    plot_confusion_matrix,
    plot_fah_sensitivity_tradeoff,
    plot_loso_bars,
    plot_reliability,
    plot_sensitivity_tiw,
    plot_threshold_vs_fah,
    plot_threshold_vs_sensitivity,
    plot_training_curves,
    plot_warning_times,
)
from .predictions import find_predictions, infer_onsets, read_predictions
from .signals import plot_psd_comparison, plot_raw_vs_preprocessed, plot_spectrogram
from .tables import dataset_totals, write_final_summary
from .timelines import plot_label_timeline, plot_risk_timeline

#: Limits stated in every final summary written from a run folder.
DEFAULT_LIMITS: tuple[str, ...] = (
    "Results on the synthetic CHB-MIT-like generator measure the pipeline, not clinical performance.",
    "CHB-MIT is pediatric scalp EEG from one centre; seizure counts per subject are small, so "
    "per-subject sensitivities are coarse and their spread is large.",
    "False alarms per hour count every alarm that predicts no seizure (alarms in a seizure or its postictal "
    "period exempt) over the recorded hours outside seizures and postictal periods; gaps between files are "
    "unobserved and never counted.",
    "The binomial (Snyder) p-value assumes independent seizures; the seizure-time surrogate p-value, which "
    "moves a subject's seizures together, is the one to read when seizures cluster.",
)

#: Threshold grid of the threshold/FAH/sensitivity sweeps.
THRESHOLDS: np.ndarray = np.round(np.linspace(0.05, 0.95, 19), 2)


def _results_figures(run_dir: Path, out: Path) -> list[Path]:
    written = []
    for kind in ("loso", "within"):
        path = run_dir / f"{kind}_results.csv"
        if not path.is_file():
            continue
        results = pd.read_csv(path)
        if "test_subject" not in results.columns and "subject" in results.columns:
            results = results.rename(columns={"subject": "test_subject"})
        written.append(save_figure(plot_loso_bars(results, metric="auroc"), out / f"{kind}_auroc.png"))
        for target in sorted(results["fah_target"].dropna().unique()):
            fig = plot_loso_bars(results, metric="sensitivity", fah_target=float(target))
            written.append(save_figure(fig, out / f"{kind}_sensitivity_fah{target:g}.png"))
    return written


def tuned_thresholds(run_dir: str | Path, fah_target: float = 0.5) -> pd.DataFrame:
    """Per test subject, the threshold its LOSO fold tuned for ``fah_target`` (the run's own alarm policy applies).

    Parameters
    ----------
    run_dir : str or Path
        Run folder with ``loso_results.csv`` (``test_subject``, ``fah_target``, ``threshold``) and a
        ``manifest.json`` whose config holds the ``alarms`` section the thresholds were tuned with.
    fah_target : float, default 0.5
        False alarms per hour the thresholds were tuned for on the validation subjects.

    Returns
    -------
    DataFrame
        Column ``threshold`` indexed by ``test_subject``; empty when the run folder lacks the results,
        the manifest or its alarm settings, or has no finite threshold for ``fah_target``.
    """
    run_dir = Path(run_dir)
    results, manifest = run_dir / "loso_results.csv", run_dir / "manifest.json"
    if not (results.is_file() and manifest.is_file()):
        return pd.DataFrame(columns=["threshold"])
    if not (json.loads(manifest.read_text()).get("config") or {}).get("alarms"):
        return pd.DataFrame(columns=["threshold"])
    table = pd.read_csv(results)
    if not {"test_subject", "fah_target", "threshold"} <= set(table.columns):
        return pd.DataFrame(columns=["threshold"])
    table = table[np.isclose(table["fah_target"], fah_target) & np.isfinite(table["threshold"])]
    return table.groupby("test_subject")[["threshold"]].first()


_operating_points = tuned_thresholds  # former private name, used by tests


def _scope(run_dir: Path) -> str:
    """What the windows of a run's predictions file pool, for figure titles."""
    if (run_dir / "loso_results.csv").is_file():
        return "all LOSO test folds"
    if (run_dir / "within_results.csv").is_file():
        return "all within-subject test splits"
    return "all windows of the predictions file"


def _policy_text(policy: AlarmPolicy) -> str:
    """The alarm rule in a few words, for figure titles."""
    smoothing = {"ema": f"EMA α {policy.alpha:g}", "ma": f"moving average of {policy.n}"}.get(
        policy.smoothing or "", "no smoothing")
    return f"{smoothing}, persistence {policy.persistence}"


def _prediction_figures(run_dir: Path, out: Path, max_subjects: int) -> list[Path]:
    from sklearn_eeg.evaluation.alarm_scoring import alarm_metrics_over_thresholds
    from sklearn_eeg.evaluation.alarms import raise_alarms
    from sklearn_eeg.evaluation.metrics import reliability_curve

    pred = read_predictions(find_predictions(run_dir))
    operating = tuned_thresholds(run_dir)
    policy = run_alarm_policy(run_dir)
    scope = _scope(run_dir)
    written = []
    for subject in sorted(pred["subject"].unique())[:max_subjects]:
        rows = pred[pred["subject"] == subject].reset_index(drop=True)
        extra, title = {}, f"{subject} (test subject): risk forecast and seizure onsets"
        if subject in operating.index:  # the run's own alarm rule at its FAH-0.5 threshold
            threshold = operating.loc[subject, "threshold"]
            extra = {
                "smoothed": policy.smooth(rows["risk"].to_numpy(), rows),
                "threshold": threshold,
                "alarm_times": raise_alarms(rows["risk"].to_numpy(), rows, threshold=threshold,
                                            policy=policy)["t_alarm"].to_numpy(),
            }
            title = (f"{subject} (test subject): risk and alarms at the threshold tuned for FAH ≤ 0.5/h "
                     f"on validation subjects\n({_policy_text(policy)})")
        fig = plot_risk_timeline(rows["t_abs"].to_numpy(), rows["risk"].to_numpy(), onsets=infer_onsets(rows),
                                 title=title, **extra)
        written.append(save_figure(fig, out / f"risk_timeline_{subject}.png"))
    scored = pred[pred["label"].isin([0, 1])]
    rel = reliability_curve(scored["label"].to_numpy(), scored["risk"].to_numpy()).query("count > 0")
    fig = plot_reliability(rel["mean_risk"], rel["frac_pos"], counts=rel["count"])
    fig.axes[0].set_title(f"Reliability of the raw risk (window level)\npooled over {scope}, "
                          "interictal and preictal windows")
    written.append(save_figure(fig, out / "reliability.png"))
    fig = plot_confusion_matrix(scored["label"].to_numpy(), (scored["risk"].to_numpy() >= 0.5).astype(int),
                                threshold=0.5, pooled_over=scope)
    written.append(save_figure(fig, out / "confusion_matrix_t0.5.png"))
    if scored["tte"].isna().all():
        print("skipped threshold/FAH/warning-time figures: predictions carry no tte (seizure information)")
        return written
    # alarms on the full timeline (excluded windows included), as the benchmark scores them
    sweep = pd.concat([alarm_metrics_over_thresholds(rows["risk"].to_numpy(), rows.reset_index(drop=True),
                                                     THRESHOLDS, policy=policy)
                       .assign(subject=subject) for subject, rows in pred.groupby("subject")])
    pooled = sweep.groupby("threshold").agg(
        n_false=("n_false_alarms", "sum"), hours=("nonictal_hours", "sum"),
        n_pred=("n_predicted", "sum"), n_sz=("n_seizures", "sum")).reset_index()
    fah = pooled["n_false"] / pooled["hours"]
    sens = pooled["n_pred"] / pooled["n_sz"].replace(0, np.nan)
    pooled_text = f"pooled over {scope}, same threshold for every subject\nalarm rule: {_policy_text(policy)}"
    fig = plot_threshold_vs_fah(pooled["threshold"], fah)
    fig.axes[0].set_title(f"False alarms per hour vs alarm threshold\n{pooled_text}")
    written.append(save_figure(fig, out / "threshold_vs_fah.png"))
    fig = plot_threshold_vs_sensitivity(pooled["threshold"], sens)
    fig.axes[0].set_title(f"Seizure sensitivity vs alarm threshold\n{pooled_text}")
    written.append(save_figure(fig, out / "threshold_vs_sensitivity.png"))
    fig = plot_fah_sensitivity_tradeoff(fah, sens, sop_s=policy.sop)
    fig.axes[0].set_title(f"Sensitivity vs false alarms per hour (monotone operating curve)\n{pooled_text}")
    written.append(save_figure(fig, out / "fah_sensitivity_tradeoff.png"))
    best = float(pooled["threshold"].iloc[int(np.argmin(np.abs(fah.fillna(np.inf) - 0.2)))])
    warn = np.concatenate([np.asarray(w, dtype=float) for w in sweep.loc[sweep["threshold"] == best, "warning_times"]])
    fig = plot_warning_times(warn, sop_s=policy.sop, sph_s=policy.sph)
    fig.axes[0].set_title(f"Warning times of predicted seizures at threshold {best:.2f} "
                          f"(pooled FAH closest to 0.2/h)\n{pooled_text}")
    written.append(save_figure(fig, out / "warning_times.png"))
    return written


def run_alarm_policy(run_dir: str | Path) -> AlarmPolicy:
    """The run's alarm policy (its config's ``alarms`` section, SOP and SPH from its ``labeling``),
    read from its manifest; the default :class:`~sklearn_eeg.evaluation.alarms.AlarmPolicy` without one."""
    manifest = Path(run_dir) / "manifest.json"
    config = (json.loads(manifest.read_text()).get("config") or {}) if manifest.is_file() else {}
    alarms, labeling = config.get("alarms") or {}, config.get("labeling") or {}
    fields = {f.name for f in dataclasses.fields(AlarmPolicy)}
    rule = {k: v for k, v in alarms.items() if k in fields}
    rule.update({k: labeling[k] for k in ("sop", "sph") if labeling.get(k) is not None})
    return AlarmPolicy(**rule)


_run_alarm_policy = run_alarm_policy  # former private name, used by tests


def _forecast_figures(run_dir: Path, out: Path) -> list[Path]:
    """Per test subject, sensitivity vs time in warning of its LOSO test risk, and the reliability of
    the risk against the alarm target on the full timeline."""
    from sklearn_eeg.evaluation.forecast_scores import forecast_target, reliability_on_timeline, sensitivity_tiw_curve

    pred = read_predictions(find_predictions(run_dir))
    if pred["tte"].isna().all():
        print("skipped sensitivity/time-in-warning curves: predictions carry no tte (seizure information)")
        return []
    policy = run_alarm_policy(run_dir)
    curves = {str(subject): sensitivity_tiw_curve(rows["risk"].to_numpy(), rows.reset_index(drop=True), policy=policy)
              for subject, rows in pred.groupby("subject")}
    fig = plot_sensitivity_tiw(curves)
    auc_line = fig.axes[0].get_title().split("\n", 1)[-1]  # "mean AUC ... over n subjects"
    fig.axes[0].set_title(f"Sensitivity vs time in warning per LOSO test subject\n{auc_line} ({_policy_text(policy)})")
    written = [save_figure(fig, out / "sensitivity_tiw_curves.png")]
    target = forecast_target(pred, sop=policy.sop, sph=policy.sph)
    rel = reliability_on_timeline(np.clip(pred["risk"].to_numpy(), 0.0, 1.0), target).query("count > 0")
    fig = plot_reliability(rel["mean_risk"], rel["frac_pos"], counts=rel["count"])
    fig.axes[0].set_title(f"Reliability of the risk on the full timeline, pooled over {_scope(run_dir)}\n"
                          "(event: a lead-seizure onset SPH to SPH + SOP ahead)")
    fig.axes[0].set_ylabel("Observed fraction of windows with the event")
    written.append(save_figure(fig, out / "reliability_timeline.png"))
    return written


def _history_files(run_dir: Path) -> list[Path]:
    """``history.json`` of a single-model run, or one ``histories/<fold>.json`` per fold model."""
    single = run_dir / "history.json"
    return [single] if single.is_file() else sorted((run_dir / "histories").glob("*.json"))


def _history_figures(run_dir: Path, out: Path) -> list[Path]:
    written = []
    for path in _history_files(run_dir):
        fig = plot_training_curves(json.loads(path.read_text()))
        if path.parent.name == "histories":
            fig.suptitle(f"Training curves of the {path.stem.replace('_', ' ')} model")
            written.append(save_figure(fig, out / f"training_curves_{path.stem}.png"))
        else:
            written.append(save_figure(fig, out / "training_curves.png"))
    return written


def _data_figures(data_root: Path, out: Path) -> list[Path]:
    from sklearn_eeg.data import load_index, read_edf
    from sklearn_eeg.data.labeling import label_windows
    from sklearn_eeg.signal.preprocessing import filter_signal

    recordings, seizures = load_index(data_root)
    first = recordings.iloc[0]
    rec = read_edf(first["path"])
    n, pad = int(20 * rec.sfreq), int(10 * rec.sfreq)  # 20 s shown, filtered with 10 s margins
    start = int(min(300.0, max(float(first["duration"]) - 20.0, 0.0)) * rec.sfreq)
    lo = max(start - pad, 0)
    segment = rec.data[:, lo:start + n + pad]
    span = segment[:, start - lo:start - lo + n]
    clean = filter_signal(segment, rec.sfreq)[:, start - lo:start - lo + n]
    t0 = start / rec.sfreq
    where = f"{first['recording']}, {t0:.0f}–{t0 + 20:.0f} s from file start"
    psd = plot_psd_comparison(span, clean, rec.sfreq, fmax=80.0)
    psd.axes[0].set_title(f"Power spectral density (mean over channels) before and after filtering\n{where}")
    written = [
        save_figure(plot_raw_vs_preprocessed(span, clean, rec.sfreq, ch_names=rec.ch_names, t0=t0,
                                             title=f"EEG of {where}: raw vs preprocessed (band-pass + notch)"),
                    out / "eeg_raw_vs_preprocessed.png"),
        save_figure(psd, out / "psd_before_after.png"),
        save_figure(plot_spectrogram(clean[0], rec.sfreq, t0=t0, channel=rec.ch_names[0],
                                     title=f"Spectrogram of {rec.ch_names[0]} (preprocessed), {where}"),
                    out / "spectrogram.png"),
    ]
    windows = label_windows(recordings, seizures)
    subject = str(first["subject"])
    written.append(save_figure(plot_label_timeline(windows, recordings, subject=subject),
                               out / f"label_timeline_{subject}.png"))
    return written


def make_run_figures(
    run_dir: str | Path | None,
    out_dir: str | Path = "reports/figures",
    *,
    data_root: str | Path | None = None,
    max_subjects: int = 3,
) -> list[Path]:
    """Write every figure the inputs allow into ``out_dir``; print one line per skipped group.

    Parameters
    ----------
    run_dir : str or Path or None
        Run folder (``loso_results.csv``, predictions file, ``history.json``); None for data figures only.
    out_dir : str or Path, default "reports/figures"
        Destination folder.
    data_root : str or Path, optional
        CHB-MIT(-like) folder for the EEG, PSD, spectrogram and label-timeline figures.
    max_subjects : int, default 3
        Risk timelines drawn (first subjects in name order).

    Returns
    -------
    list of Path
        The written figures.
    """
    out = Path(out_dir)
    groups: list[tuple[str, bool, Callable[[], list[Path]]]] = []
    if run_dir is not None:
        run = Path(run_dir)
        if not run.is_dir():
            raise FileNotFoundError(f"run folder not found: {run}")
        groups += [
            ("benchmark bars", any((run / f"{k}_results.csv").is_file() for k in ("loso", "within")),
             lambda: _results_figures(run, out)),
            ("prediction figures", find_predictions(run) is not None,
             lambda: _prediction_figures(run, out, max_subjects)),
            ("sensitivity/time-in-warning and full-timeline reliability (LOSO results and predictions)",
             (run / "loso_results.csv").is_file() and find_predictions(run) is not None,
             lambda: _forecast_figures(run, out)),
            ("training curves", bool(_history_files(run)), lambda: _history_figures(run, out)),
        ]
    if data_root is not None:
        groups.append(("signal and label figures", Path(data_root).is_dir(),
                       lambda: _data_figures(Path(data_root), out)))
    written: list[Path] = []
    for name, present, make in groups:
        if not present:
            print(f"skipped {name}: input not found")
            continue
        written += make()
    return written


def write_run_summary(
    run_dir: str | Path,
    out_dir: str | Path = "reports/tables",
    *,
    data_root: str | Path | None = None,
    limits: tuple[str, ...] = DEFAULT_LIMITS,
) -> tuple[Path, Path]:
    """:func:`~sklearn_eeg.reporting.write_final_summary` of a run folder's benchmark results.

    Parameters
    ----------
    run_dir : str or Path
        Folder with ``loso_results.csv`` and/or ``within_results.csv``.
    out_dir : str or Path, default "reports/tables"
        Where ``final_summary.txt`` and ``final_summary.md`` go.
    data_root : str or Path, optional
        Dataset for the totals (``load_index``); without it the totals table is empty.
    limits : tuple of str
        Honest limits listed at the end.

    Returns
    -------
    txt_path, md_path : Path
    """
    run = Path(run_dir)
    results = {kind: pd.read_csv(run / f"{kind}_results.csv") if (run / f"{kind}_results.csv").is_file() else None
               for kind in ("loso", "within")}
    totals: dict[str, object] = {}
    if data_root is not None:
        from sklearn_eeg.data import load_index

        totals = dataset_totals(*load_index(data_root))
    return write_final_summary(out_dir, dataset_totals=totals, loso=results["loso"], within=results["within"],
                               limits=list(limits))
