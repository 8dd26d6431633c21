"""Figures and tables of sklearn_eeg.reporting, built from small synthetic inputs."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from PIL import Image

from sklearn_eeg import reporting
from sklearn_eeg.evaluation.benchmark_summary import summarize_results, summary_table
from sklearn_eeg.reporting import (
    infer_onsets,
    plot_confusion_matrix,
    plot_eeg_snippet,
    plot_fah_sensitivity_tradeoff,
    labeling_example_figure,
    plot_label_timeline,
    plot_loso_bars,
    plot_psd_comparison,
    plot_raw_vs_preprocessed,
    plot_reliability,
    plot_risk_timeline,
    plot_spectrogram,
    plot_threshold_vs_fah,
    plot_threshold_vs_sensitivity,
    plot_training_curves,
    plot_warning_times,
    read_predictions,
    save_figure,
    state_spans,
    write_final_summary,
    write_predictions,
)

# Hand-made window tables (and run folders) without excluded (label -1) windows, on purpose: the warning that a real
# run's table must keep them is asserted in test_scoring.py (pytest.warns sees it despite this filter).
pytestmark = pytest.mark.filterwarnings("ignore:the window table has preictal windows but no excluded:UserWarning")

SFREQ = 256.0


def assert_nonblank_png(path: Path, *, min_size: tuple[int, int] = (300, 200)) -> None:
    """The file is a PNG of at least ``min_size`` pixels with real content (not uniform, not all white)."""
    assert path.is_file() and path.suffix == ".png"
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert img.size[0] >= min_size[0] and img.size[1] >= min_size[1]
        pixels = np.asarray(img.convert("L"), dtype=float)
    assert pixels.std() > 5.0
    assert (pixels < 250).mean() > 0.01


def _legend_texts(ax: Axes) -> set[str]:
    legend = ax.get_legend()
    return {t.get_text() for t in legend.get_texts()} if legend is not None else set()


def _is_broken(linestyle: object) -> bool:
    """True for a dashed, dotted or dash-dotted line style (Line2D string or LineCollection dash pattern)."""
    if isinstance(linestyle, str):
        return linestyle in ("--", ":", "-.", "dashed", "dotted", "dashdot")
    return any(dashes is not None for _, dashes in linestyle)


def unlabeled_lines(ax: Axes) -> list[str]:
    """Lines of ``ax`` a reader cannot name: a dashed/dotted line without a legend entry, or any line
    missing from the legend of an axes that has one. Returns a description of each."""
    shown = _legend_texts(ax)
    bad = []
    for artist in [*ax.get_lines(), *(c for c in ax.collections if isinstance(c, LineCollection))]:
        label = str(artist.get_label())
        style = artist.get_linestyle() if isinstance(artist, Line2D) else artist.get_linestyles()
        if (_is_broken(style) or shown) and label not in shown:
            bad.append(f"{type(artist).__name__} {label!r} (style {style!r})")
    return bad


def figure_titles(fig: Figure) -> list[str]:
    """The suptitle (if any) and the title of every data axes (colorbars excluded)."""
    titles = [fig._suptitle.get_text()] if fig._suptitle is not None else []
    return titles + [ax.get_title() for ax in fig.axes if ax.get_label() != "<colorbar>"]


def check_readable(fig: Figure, *words: str) -> None:
    """Every data axes has a title and axis labels, every line is named, and the titles contain ``words``."""
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>":
            continue
        assert ax.get_title().strip() or fig._suptitle is not None, "axes without a title"
        assert ax.get_xlabel().strip() and (ax.get_ylabel().strip() or ax.get_yticklabels()), "unlabeled axis"
        assert not unlabeled_lines(ax), unlabeled_lines(ax)
    text = " ".join(figure_titles(fig))
    for word in words:
        assert word in text, f"{word!r} not in titles {text!r}"


def has_integer_ticks(axis: object) -> bool:
    """The axis uses an integer MaxNLocator and its ticks inside the view are whole numbers."""
    locator = axis.get_major_locator()
    ticks = [t for t in axis.get_ticklocs() if axis.get_view_interval()[0] <= t <= axis.get_view_interval()[1]]
    return isinstance(locator, MaxNLocator) and bool(ticks) and all(float(t).is_integer() for t in ticks)


@pytest.fixture
def eeg() -> tuple[np.ndarray, np.ndarray]:
    """Raw 8-channel EEG (10 Hz + 60 Hz line noise + drift) and a 'preprocessed' version without them."""
    rng = np.random.default_rng(0)
    t = np.arange(int(10 * SFREQ)) / SFREQ
    clean = 30 * np.sin(2 * np.pi * 10 * t) + 10 * rng.standard_normal((8, t.size))
    raw = clean + 40 * np.sin(2 * np.pi * 60 * t) + 200 * t
    return raw.astype(np.float32), clean.astype(np.float32)


@pytest.fixture
def subject_tables() -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Two 1-h files with a 2-min gap; the seizure 3 min into file 2, so its preictal span starts in file 1."""
    recordings = pd.DataFrame({
        "subject": ["chb01", "chb01"], "recording": ["chb01_01", "chb01_02"],
        "t_file_start": [0.0, 3720.0], "t_file_end": [3600.0, 7320.0],
    })
    onset, offset = 3900.0, 3960.0
    rows = []
    for rec in recordings.itertuples():
        for t_abs in np.arange(rec.t_file_start + 10, rec.t_file_end + 1e-9, 5.0):
            if onset - 600 <= t_abs <= onset - 30:
                state = "preictal"
            elif onset < t_abs and t_abs - 10 < offset:
                state = "ictal"
            elif offset <= t_abs - 10 and t_abs <= offset + 600:
                state = "postictal"
            elif abs(t_abs - onset) < 1800:
                state = "excluded"
            else:
                state = "interictal"
            tte = onset - t_abs if t_abs < onset else np.nan
            rows.append((rec.subject, rec.recording, t_abs, state, tte))
    windows = pd.DataFrame(rows, columns=["subject", "recording", "t_abs", "state", "tte"])
    return windows, recordings, onset


@pytest.fixture
def loso() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    subjects = [f"chb{i:02d}" for i in range(1, 7)]
    rows = []
    for s in subjects:
        auroc = rng.uniform(0.5, 0.9)
        for target in (0.1, 0.2, 0.5, 1.0):
            p = 1 - np.exp(-target * 600 / 3600)
            sens = min(1.0, p + rng.uniform(0, 0.5))
            rows.append({"test_subject": s, "fah_target": target, "auroc": auroc, "sensitivity": sens,
                         "fah": target * rng.uniform(0.5, 1.5), "warning_time_mean": rng.uniform(60, 540),
                         "chance_p": p, "ioc": sens - p})
    return pd.DataFrame(rows)


def test_eeg_figures(tmp_path: Path, eeg: tuple[np.ndarray, np.ndarray]) -> None:
    raw, clean = eeg
    names = [f"CH{i}" for i in range(8)]
    fig = plot_raw_vs_preprocessed(raw, clean, SFREQ, ch_names=names, t0=100.0)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    left = fig.axes[0]
    assert [t.get_text() for t in left.get_yticklabels()] == names[:6]
    assert any("µV" in t.get_text() for t in left.texts)
    assert left.get_xlim() == pytest.approx((100.0, 100.0 + (raw.shape[1] - 1) / SFREQ))
    assert_nonblank_png(save_figure(fig, tmp_path / "raw_vs_pre"))
    fig = plot_psd_comparison(raw, clean, SFREQ)
    raw_line, pre_line = fig.axes[0].get_lines()
    f = raw_line.get_xdata()
    at60 = np.argmin(np.abs(f - 60))
    assert raw_line.get_ydata()[at60] > pre_line.get_ydata()[at60] + 10
    assert_nonblank_png(save_figure(fig, tmp_path / "psd.png"))
    fig = plot_spectrogram(raw[0], SFREQ, channel="CH0")
    assert len(fig.axes) == 2  # image + colorbar
    assert_nonblank_png(save_figure(fig, tmp_path / "spec.png"))
    with pytest.raises(ValueError, match="same shape"):
        plot_raw_vs_preprocessed(raw, clean[:, :100], SFREQ)
    with pytest.raises(ValueError, match="channel names"):
        plot_eeg_snippet(raw, SFREQ, ch_names=["a"])


def test_label_timeline_preictal_crosses_file_boundary(tmp_path: Path, subject_tables) -> None:
    windows, recordings, onset = subject_tables
    spans = state_spans(windows)
    pre = spans[spans["state"] == "preictal"]
    assert set(pre["recording"]) == {"chb01_01", "chb01_02"}  # preictal starts in the previous file
    assert pre["start"].min() == pytest.approx(onset - 600 - 5, abs=5)
    assert pre["end"].max() == pytest.approx(onset - 30, abs=5)
    assert infer_onsets(windows) == pytest.approx([onset])
    fig = plot_label_timeline(windows, recordings, t_range=(onset - 1500, onset + 900))
    ax = fig.axes[0]
    assert "gap (unobserved)" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert ax.get_xlabel().endswith("(min)")
    assert {"chb01_01", "chb01_02"} <= {t.get_text() for t in ax.texts}  # both files named in the zoom
    assert_nonblank_png(save_figure(fig, tmp_path / "labels.png"))
    fig = plot_label_timeline(windows, recordings, subject="chb01")
    assert_nonblank_png(save_figure(fig, tmp_path / "labels_full.png"))
    with pytest.raises(ValueError, match="unknown state"):
        plot_label_timeline(windows.assign(state="weird"), recordings)


def test_labeling_example_figure_shows_all_states(tmp_path: Path) -> None:
    fig = labeling_example_figure()
    labels = {t.get_text() for t in fig.axes[0].get_legend().get_texts()}
    assert {"interictal", "preictal", "ictal", "postictal", "excluded", "gap (unobserved)"} <= labels
    assert_nonblank_png(save_figure(fig, tmp_path / "labeling_timeline.png"))


def test_risk_timeline_breaks_lines_at_gaps(tmp_path: Path) -> None:
    t = np.concatenate([np.arange(10, 3600, 5.0), np.arange(4510, 8100, 5.0)])
    risk = np.clip(0.2 + 0.1 * np.sin(t / 300), 0, 1)
    fig = plot_risk_timeline(t, risk, smoothed=risk, threshold=0.25, alarm_times=[2000.0, 5000.0],
                             onsets=[4690.0])
    ax = fig.axes[0]
    line = ax.get_lines()[0]  # raw risk, smoothed risk, threshold
    assert line.get_label() == "risk" and np.isnan(line.get_ydata()).sum() == 1
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    for expected in ("risk", "smoothed risk", "threshold 0.25", "alarm (2)", "seizure onset", "preictal span"):
        assert expected in labels
    check_readable(fig)
    assert_nonblank_png(save_figure(fig, tmp_path / "risk.png"))
    with pytest.raises(ValueError, match="increasing"):
        plot_risk_timeline(t[::-1], risk)


def test_evaluation_curves(tmp_path: Path) -> None:
    history = [{"epoch": i + 1, "train_loss": 1 / (i + 1), "valid_loss": 1.2 / (i + 1) + 0.1,
                "valid_roc_auc": 0.5 + 0.04 * i} for i in range(8)]
    fig = plot_training_curves(history)
    assert fig.axes[1].get_lines()[0].get_ydata()[-1] == pytest.approx(0.78)
    assert_nonblank_png(save_figure(fig, tmp_path / "train.png"))
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 200)
    fig = plot_confusion_matrix(y, np.where(rng.random(200) < 0.8, y, 1 - y))
    assert len(fig.axes[0].tables) == 1
    assert_nonblank_png(save_figure(fig, tmp_path / "cm.png"))
    thresholds = np.linspace(0.1, 0.9, 9)
    fah = 2.0 * (1 - thresholds) ** 2
    sens = 1 - thresholds**2
    assert_nonblank_png(save_figure(plot_threshold_vs_fah(thresholds, fah), tmp_path / "t_fah.png"))
    assert_nonblank_png(save_figure(plot_threshold_vs_sensitivity(thresholds, sens), tmp_path / "t_sens.png"))
    fig = plot_fah_sensitivity_tradeoff(fah, sens, sop_s=600)
    chance = next(line for line in fig.axes[0].get_lines() if line.get_label().startswith("chance"))
    x, p = chance.get_xdata(), chance.get_ydata()
    assert p == pytest.approx(1 - np.exp(-x * 600 / 3600))
    assert_nonblank_png(save_figure(fig, tmp_path / "tradeoff.png"))
    fig = plot_warning_times(np.array([60, 120, 300, 540, np.nan]))
    assert sum(p.get_height() for p in fig.axes[0].patches) == 4
    assert_nonblank_png(save_figure(fig, tmp_path / "warn.png"))
    fig = plot_reliability([0.1, 0.3, 0.5, 0.7], [0.05, 0.25, 0.6, 0.65], counts=[100, 50, 20, 5])
    assert_nonblank_png(save_figure(fig, tmp_path / "rel.png"), min_size=(300, 300))
    with pytest.raises(ValueError, match="same length"):
        plot_threshold_vs_fah(thresholds, fah[:3])


def test_loso_bars(tmp_path: Path, loso: pd.DataFrame) -> None:
    fig = plot_loso_bars(loso, metric="sensitivity", fah_target=0.2)
    ax = fig.axes[0]
    assert len(ax.patches) == 6
    expected = loso[loso["fah_target"] == 0.2]["sensitivity"].mean()
    assert any(f"mean {expected:.2f}" in t.get_text() for t in ax.get_legend().get_texts())
    assert_nonblank_png(save_figure(fig, tmp_path / "loso_sens.png"))
    assert_nonblank_png(save_figure(plot_loso_bars(loso, metric="auroc"), tmp_path / "loso_auc.png"))
    with pytest.raises(ValueError, match="pass fah_target"):
        plot_loso_bars(loso, metric="sensitivity")
    with pytest.raises(ValueError, match="missing column"):
        plot_loso_bars(loso.drop(columns="auroc"), metric="auroc")


def test_final_summary(tmp_path: Path, loso: pd.DataFrame) -> None:
    within = loso.rename(columns={"test_subject": "subject"}).query("fah_target != 0.1")
    txt, md = write_final_summary(tmp_path / "tables", dataset_totals={"subjects": 6, "seizures": 21},
                                  loso=loso, within=within, limits=["synthetic data only"])
    assert txt.name == "final_summary.txt" and md.name == "final_summary.md"
    text, mark = txt.read_text(), md.read_text()
    # the console's numbers: mean ± sample std (ddof=1) over folds, 3 decimals (minutes: 1)
    auroc = loso.drop_duplicates("test_subject")["auroc"]
    assert f"{auroc.mean():.3f} ± {auroc.std(ddof=1):.3f}" in mark and f"{auroc.mean():.3f} ± " in text
    sens01 = loso[loso["fah_target"] == 0.1]["sensitivity"]
    assert f"{sens01.mean():.3f} ± {sens01.std(ddof=1):.3f}" in mark
    warn = loso[loso["fah_target"] == 0.5]["warning_time_mean"] / 60
    assert f"{warn.mean():.1f} ± {warn.std(ddof=1):.1f}" in mark  # warning time in minutes
    assert "ddof=1" in mark and "ddof=1" in text
    console = summary_table(summarize_results(loso))
    assert list(console["FAH target (/h)"]) == ["0.1", "0.2", "0.5", "1"]  # no target dropped
    for row in console.itertuples(index=False):
        assert "| " + " | ".join(map(str, row)) + " |" in mark
    assert "not run" in mark  # within has no FAH 0.1 operating point
    assert "| 0.5 |" in mark and "| 1 |" in mark and "synthetic data only" in text and "seizures" in mark
    _, md2 = write_final_summary(tmp_path / "t2", dataset_totals={}, loso=None, within=None, limits=[])
    assert md2.read_text().count("Not run.") == 2


def test_predictions_round_trip(tmp_path: Path) -> None:
    pred = pd.DataFrame({"subject": ["chb02", "chb01", "chb01"], "recording": ["chb02_01", "chb01_01", "chb01_01"],
                         "t_abs": [10.0, 15.0, 10.0], "risk": [0.1, 0.9, 0.2], "label": [0, 1, 1],
                         "tte": [np.nan, 100.0, 105.0], "state": ["interictal", "preictal", "preictal"]})
    for suffix in ("csv", "parquet"):
        path = write_predictions(pred, tmp_path / f"predictions.{suffix}")
        back = read_predictions(path)
        assert list(back["subject"]) == ["chb01", "chb01", "chb02"]
        assert list(back["t_abs"]) == [10.0, 15.0, 10.0]
    assert read_predictions(tmp_path)["risk"].tolist() == [0.2, 0.9, 0.1]
    minimal = read_predictions(write_predictions(pred.drop(columns=["tte", "state"]), tmp_path / "minimal.csv"))
    assert list(minimal["state"]) == ["preictal", "preictal", "interictal"]
    assert minimal["tte"].isna().all() and (minimal["seizure_id"] == "").all()
    with pytest.raises(ValueError, match="missing column"):
        write_predictions(pred.drop(columns="risk"), tmp_path / "p.csv")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        write_predictions(pred.assign(risk=2.0), tmp_path / "p.csv")
    with pytest.raises(FileNotFoundError):
        read_predictions(tmp_path / "nothing")


def test_public_api_is_complete() -> None:
    for name in reporting.__all__:
        assert hasattr(reporting, name)


def _run_folder(path: Path) -> Path:
    """A run folder with LOSO results, a predictions file (2 subjects, 1 seizure each) and a history."""
    import json

    rng = np.random.default_rng(3)
    frames = []
    for subject in ("chb01", "chb02"):
        t = np.concatenate([np.arange(10, 3600, 5.0), np.arange(3720, 9000, 5.0)])
        onset = 5400.0
        tte = np.where(t < onset, onset - t, np.nan)
        label = ((tte >= 30) & (tte <= 600)).astype(int)
        keep = (label == 1) | (np.abs(t - onset) >= 1800)
        risk = np.clip(0.2 + 0.5 * label + 0.15 * rng.standard_normal(t.size), 0, 1)
        frames.append(pd.DataFrame({
            "subject": subject, "recording": np.where(t < 3600, f"{subject}_01", f"{subject}_02"), "t_abs": t,
            "risk": risk, "label": label, "tte": tte, "state": np.where(label == 1, "preictal", "interictal"),
            "seizure_id": np.where(label == 1, f"{subject}_s01", ""),
        })[keep])
    write_predictions(pd.concat(frames), path / "predictions.parquet")
    rows = [{"test_subject": s, "fah_target": f, "auroc": 0.8, "sensitivity": 0.5, "chance_p": 0.1, "ioc": 0.4}
            for s in ("chb01", "chb02") for f in (0.2, 0.5)]
    pd.DataFrame(rows).to_csv(path / "loso_results.csv", index=False)
    (path / "history.json").write_text(json.dumps([{"epoch": 1, "train_loss": 0.7, "valid_loss": 0.8}]))
    return path


@pytest.mark.slow  # ~13 s: every figure of a run through the command
def test_make_figures_pipeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess
    import sys

    from sklearn_eeg.data import make_chbmit_like
    from sklearn_eeg.reporting.run_figures import make_run_figures, write_run_summary

    script = Path(__file__).resolve().parents[1] / "pipelines" / "make_figures.py"
    assert "--run_dir" in subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                                         text=True, check=True).stdout
    run = _run_folder(tmp_path / "run")
    root = make_chbmit_like(tmp_path / "data", n_subjects=1, hours=1.5, seizures=1, file_hours=0.75,
                            min_interictal_s=600, progress=False)
    written = make_run_figures(run, tmp_path / "figs", data_root=root)
    names = {p.name for p in written}
    for expected in ("loso_auroc.png", "loso_sensitivity_fah0.2.png", "risk_timeline_chb01.png", "reliability.png",
                     "confusion_matrix_t0.5.png", "threshold_vs_fah.png", "threshold_vs_sensitivity.png",
                     "fah_sensitivity_tradeoff.png", "warning_times.png", "training_curves.png",
                     "eeg_raw_vs_preprocessed.png", "psd_before_after.png", "spectrogram.png",
                     "label_timeline_chb01.png"):
        assert expected in names
    for path in written:
        assert_nonblank_png(path)
    _, md = write_run_summary(run, tmp_path / "tables", data_root=root)
    summary = md.read_text()
    assert "| subjects | 1 |" in summary and "| seizures | 1 |" in summary
    assert "0.800 ± 0.000" in summary and "synthetic" in summary
    (run / "history.json").unlink()
    (run / "loso_results.csv").unlink()
    assert len(make_run_figures(run, tmp_path / "figs2")) == 8  # 2 risk timelines + 6 pooled figures
    out = capsys.readouterr().out
    assert "skipped benchmark bars" in out and "skipped training curves" in out
    with pytest.raises(FileNotFoundError, match="run folder not found"):
        make_run_figures(tmp_path / "missing", tmp_path / "figs3")


def test_run_risk_timelines_show_the_runs_own_operating_point(tmp_path: Path) -> None:
    import json

    from sklearn_eeg.evaluation.alarms import AlarmPolicy
    from sklearn_eeg.reporting.run_figures import _operating_points, _run_alarm_policy, make_run_figures

    run = _run_folder(tmp_path / "run")
    table = pd.read_csv(run / "loso_results.csv").assign(threshold=lambda t: np.where(t["test_subject"] == "chb01", 0.6, 0.65))
    table.to_csv(run / "loso_results.csv", index=False)
    alarms = {"smoothing": "ema", "alpha": 0.3, "n": 3, "persistence": 2, "reset": None, "refractory": None}
    (run / "manifest.json").write_text(json.dumps({"config": {"alarms": alarms}}))
    points = _operating_points(run)
    assert points.loc["chb01", "threshold"] == 0.6 and points.loc["chb02", "threshold"] == 0.65
    # the run's own rule applies; refractory null: the warning period SPH + SOP (the default labeling's 30 s + 600 s)
    policy = _run_alarm_policy(run)
    assert policy == AlarmPolicy(smoothing="ema", alpha=0.3, n=3, persistence=2)
    assert policy.refractory_s == 630.0
    written = {p.name: p for p in make_run_figures(run, tmp_path / "figs")}
    assert_nonblank_png(written["risk_timeline_chb01.png"])
    (run / "manifest.json").unlink()  # without the alarm rule: risk and onsets only
    assert _operating_points(run).empty


def test_fold_histories_give_one_training_curve_figure_per_fold(tmp_path: Path) -> None:
    import json

    from sklearn_eeg.reporting.run_figures import make_run_figures

    run = _run_folder(tmp_path / "run")
    (run / "history.json").unlink()
    (run / "histories").mkdir()
    for fold in ("fold_chb01", "fold_chb02"):
        history = [{"epoch": e, "train_loss": 0.7 / e, "valid_loss": 0.8 / e, "valid_auroc": 0.5 + 0.1 * e}
                   for e in (1, 2, 3)]
        (run / "histories" / f"{fold}.json").write_text(json.dumps(history))
    names = {p.name for p in make_run_figures(run, tmp_path / "figs")}
    assert {"training_curves_fold_chb01.png", "training_curves_fold_chb02.png"} <= names
    assert "training_curves.png" not in names


def test_monotone_operating_curve_is_the_running_maximum() -> None:
    from sklearn_eeg.reporting.curves import monotone_operating_curve

    fah = np.array([0.9, 0.1, 0.5, 0.3, np.nan, 0.5, 2.0])
    sens = np.array([0.6, 0.4, 0.3, 0.7, 1.0, 0.2, 0.5])  # zig-zags in FAH order
    f, s = monotone_operating_curve(fah, sens)
    assert f.tolist() == [0.1, 0.3, 0.5, 0.5, 0.9, 2.0]  # NaN pair dropped, sorted by FAH
    assert s.tolist() == [0.4, 0.7, 0.7, 0.7, 0.7, 0.7]  # best sensitivity at FAH <= x
    assert monotone_operating_curve(np.array([]), np.array([]))[0].size == 0


def test_fah_sensitivity_curve_is_monotone_and_named() -> None:
    rng = np.random.default_rng(4)
    fah = np.sort(rng.uniform(0, 3, 19))[::-1]
    sens = np.clip(1 - fah / 3 + rng.normal(0, 0.15, fah.size), 0, 1)  # noisy: raw points zig-zag
    assert np.any(np.diff(sens[np.argsort(fah)]) < 0)
    fig = plot_fah_sensitivity_tradeoff(fah, sens)
    ax = fig.axes[0]
    check_readable(fig, "monotone operating curve")
    curve = next(line for line in ax.get_lines() if "running max" in line.get_label())
    x, y = np.asarray(curve.get_xdata(), float), np.asarray(curve.get_ydata(), float)
    assert np.all(np.diff(x) >= 0) and np.all(np.diff(y) >= 0)
    assert curve.get_drawstyle() == "steps-post"
    assert y.max() == pytest.approx(sens.max())
    assert "running max" in ax.get_ylabel() or "FAH ≤ x" in ax.get_ylabel()
    assert any("one per threshold" in t for t in _legend_texts(ax))  # the raw points stay visible


def test_figures_state_what_they_show() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 300)
    fig = plot_confusion_matrix(y, np.where(rng.random(300) < 0.8, y, 1 - y), threshold=0.5,
                                pooled_over="all LOSO test folds")
    check_readable(fig, "threshold 0.5", "window level", "pooled over all LOSO test folds", "300 windows")
    assert "0.5" in fig.axes[0].get_xlabel()
    fig = plot_confusion_matrix(y[:40], y[:40], labels=("label 0", "label 1"), threshold=0.2,
                                pooled_over="8 test patients", unit="record")  # record-level ECG
    check_readable(fig, "record level", "pooled over 8 test patients, 40 records")
    fig = plot_warning_times(np.array([45.0, 120, 130, 300, 540, 600, np.nan]), sop_s=600, sph_s=30)
    ax = fig.axes[0]
    check_readable(fig, "Warning times")
    fig.canvas.draw()
    assert has_integer_ticks(ax.yaxis)
    labels = _legend_texts(ax)
    assert any(t.startswith("SPH 0.5 min") for t in labels) and any(t.startswith("SPH + SOP 10.5 min") for t in labels)
    thresholds = np.linspace(0.1, 0.9, 9)
    fig = plot_threshold_vs_fah(thresholds, 2.0 * (1 - thresholds) ** 2)
    check_readable(fig, "False alarms per hour")
    assert any(t.startswith("FAH targets") for t in _legend_texts(fig.axes[0]))
    history = [{"epoch": e, "train_loss": 1 / e, "valid_loss": 1.1 / e, "valid_auroc": 0.6} for e in (1, 2, 3)]
    fig = plot_training_curves(history)
    fig.canvas.draw()
    check_readable(fig, "per epoch")
    assert all(has_integer_ticks(ax.xaxis) for ax in fig.axes)
    fig = labeling_example_figure()
    check_readable(fig, "Window states")
    assert {"file start", "seizure onset"} <= _legend_texts(fig.axes[0])


def test_unlabeled_lines_are_detected() -> None:
    """The checker itself: a dashed line without a legend entry is reported."""
    fig = plot_threshold_vs_sensitivity(np.linspace(0.1, 0.9, 5), np.linspace(1, 0, 5))
    ax = fig.axes[0]
    assert not unlabeled_lines(ax)
    ax.axhline(0.5, linestyle="--")
    assert len(unlabeled_lines(ax)) == 1


def test_every_run_figure_says_what_it_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from sklearn_eeg.data import make_chbmit_like
    from sklearn_eeg.reporting import run_figures

    run = _run_folder(tmp_path / "run")
    table = pd.read_csv(run / "loso_results.csv").assign(threshold=0.6)
    table.to_csv(run / "loso_results.csv", index=False)
    alarms = {"smoothing": "ema", "alpha": 0.3, "persistence": 2, "fah_targets": [0.2, 0.5]}
    (run / "manifest.json").write_text(json.dumps({"config": {"alarms": alarms}}))
    root = make_chbmit_like(tmp_path / "data", n_subjects=1, hours=1.5, seizures=1, file_hours=0.75,
                            min_interictal_s=600, progress=False)
    figures: dict[str, Figure] = {}
    save = run_figures.save_figure

    def keep(fig: Figure, path: Path, **kwargs: object) -> Path:
        figures[Path(path).name] = fig
        return save(fig, path, close=False)

    monkeypatch.setattr(run_figures, "save_figure", keep)
    monkeypatch.setitem(plt.rcParams, "figure.max_open_warning", 0)  # all kept open until checked
    written = run_figures.make_run_figures(run, tmp_path / "figs", data_root=root)
    assert {p.name for p in written} == set(figures)
    expected = {
        "loso_auroc.png": ("AUROC", "LOSO test subject"),
        "loso_sensitivity_fah0.5.png": ("LOSO test subject", "FAH ≤ 0.5/h"),
        "risk_timeline_chb01.png": ("chb01", "test subject", "FAH ≤ 0.5/h", "EMA α 0.3, persistence 2"),
        "reliability.png": ("window level", "pooled over all LOSO test folds"),
        "confusion_matrix_t0.5.png": ("threshold 0.5", "window level", "pooled over all LOSO test folds"),
        "threshold_vs_fah.png": ("False alarms per hour", "pooled over all LOSO test folds", "EMA α 0.3"),
        "threshold_vs_sensitivity.png": ("sensitivity", "pooled over all LOSO test folds"),
        "fah_sensitivity_tradeoff.png": ("monotone operating curve", "pooled over all LOSO test folds"),
        "warning_times.png": ("Warning times", "threshold", "pooled over all LOSO test folds"),
        "sensitivity_tiw_curves.png": ("time in warning", "LOSO test subject"),
        "reliability_timeline.png": ("full timeline", "pooled over all LOSO test folds"),
        "training_curves.png": ("per epoch",),
        "eeg_raw_vs_preprocessed.png": ("chb01_01", "raw vs preprocessed"),
        "psd_before_after.png": ("Power spectral density", "chb01_01"),
        "spectrogram.png": ("Spectrogram of", "chb01_01"),
        "label_timeline_chb01.png": ("chb01",),
    }
    assert set(expected) <= set(figures)
    for name, fig in figures.items():
        fig.canvas.draw()
        try:
            check_readable(fig, *expected.get(name, ()))
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc
    assert has_integer_ticks(figures["warning_times.png"].axes[0].yaxis)
    assert has_integer_ticks(figures["training_curves.png"].axes[0].xaxis)
    curve = next(line for line in figures["fah_sensitivity_tradeoff.png"].axes[0].get_lines()
                 if "running max" in line.get_label())
    assert np.all(np.diff(curve.get_xdata()) >= 0) and np.all(np.diff(curve.get_ydata()) >= 0)
    timeline = figures["risk_timeline_chb01.png"].axes[0]
    assert "threshold 0.60" in _legend_texts(timeline)
    for fig in figures.values():
        plt.close(fig)
