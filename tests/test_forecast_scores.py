"""Threshold-free forecast scores: target, sensitivity / time-in-warning AUC, Brier skill, bootstrap CI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sklearn_eeg.evaluation.alarms import AlarmPolicy, simulate_risk_timeline
from sklearn_eeg.experiments.fold_evaluation import score_fold
from sklearn_eeg.evaluation.benchmark_summary import CI_METRICS, summarize_results
from sklearn_eeg.evaluation.forecast_scores import (
    bootstrap_ci,
    brier_skill_score,
    closed_tiw_curve,
    fold_forecast_scores,
    forecast_target,
    reliability_on_timeline,
    sensitivity_tiw_auc,
    sensitivity_tiw_curve,
)
from sklearn_eeg.evaluation.metrics import reliability_curve
from sklearn_eeg.reporting.curves import plot_sensitivity_tiw
from sklearn_eeg.reporting.tables import write_final_summary

NEW_COLUMNS = ("sens_tiw_auc", "brier_timeline", "brier_climatology", "bss")


def simulated(seed: int, **kwargs) -> tuple[np.ndarray, pd.DataFrame]:
    """A gap-free simulated timeline with many seizures (chance levels need many trials)."""
    return simulate_risk_timeline(
        n_subjects=4, hours=160, gap_s=0.0, seizure_every_h=2.0, random_state=seed, **kwargs
    )


# --------------------------------------------------------------------------- forecast target


def test_forecast_target_marks_the_alarm_window_on_the_full_timeline():
    # SPH 30 s, SOP 600 s: positive iff the next lead onset is 30..630 s ahead (closed)
    meta = pd.DataFrame(
        {
            "t_abs": np.arange(8) * 100.0,
            "tte": [700.0, 630.0, 400.0, 30.0, 29.0, 300.0, 300.0, np.nan],
            "lead_seizure": ["s1", "s1", "s1", "s1", "s1", "", None, ""],
            "label": [0, 1, 1, 1, -1, -1, 0, 0],
        }
    )
    # an excluded window (label -1) is scored too; non-lead seizures and unknown onsets are 0
    meta.loc[2, "label"] = -1
    assert forecast_target(meta).tolist() == [0, 1, 1, 1, 0, 0, 0, 0]
    assert forecast_target(meta, sop=300.0, sph=100.0).tolist() == [0, 0, 1, 0, 0, 0, 0, 0]
    # without lead_seizure the preictal labels are the target
    assert forecast_target(meta.drop(columns="lead_seizure")).tolist() == [0, 1, 0, 1, 0, 0, 0, 0]


def test_forecast_target_matches_the_alarm_scoring_rule():
    _, meta = simulated(0)
    target = forecast_target(meta).astype(bool)
    onset = (meta["t_abs"] + meta["tte"]).to_numpy()
    assert np.all((onset[target] - meta["t_abs"].to_numpy()[target] >= 30.0))
    assert target.sum() > 0 and np.any(meta["label"].to_numpy()[target] != 1)  # not only the preictal windows


# --------------------------------------------------------------------------- sensitivity vs time in warning


def test_auc_of_a_perfect_forecaster_is_near_one():
    _, meta = simulated(0)
    curve = sensitivity_tiw_curve(forecast_target(meta).astype(float), meta)
    assert list(curve.columns) == ["threshold", "time_in_warning", "sensitivity"]
    assert np.all(np.diff(curve["threshold"]) > 0)
    assert sensitivity_tiw_auc(curve) > 0.95


def test_auc_of_uninformative_risks_is_chance():
    aucs = []
    for seed in range(6):
        _, meta = simulated(seed)
        rng = np.random.default_rng(seed)
        aucs.append(sensitivity_tiw_auc(sensitivity_tiw_curve(rng.random(len(meta)), meta)))
    assert 0.45 <= np.mean(aucs) <= 0.55 and max(aucs) < 0.6
    constant = sensitivity_tiw_auc(sensitivity_tiw_curve(np.full(len(meta), 0.3), meta))
    assert constant == pytest.approx(0.5, abs=0.05)


def test_auc_of_the_simulated_forecaster_is_above_chance():
    risk, meta = simulated(1)
    assert sensitivity_tiw_auc(sensitivity_tiw_curve(risk, meta, policy=AlarmPolicy(smoothing="ema"))) > 0.7


def test_auc_closes_the_curve_and_is_nan_without_scorable_seizures():
    curve = pd.DataFrame({"time_in_warning": [0.5, 0.2], "sensitivity": [0.5, 0.2]})
    x, y = closed_tiw_curve(curve)
    assert x.tolist() == [0.0, 0.2, 0.5, 1.0] and y.tolist() == [0.0, 0.2, 0.5, 1.0]
    assert sensitivity_tiw_auc(curve) == pytest.approx(0.5)
    assert np.isnan(sensitivity_tiw_auc(curve.assign(sensitivity=np.nan)))
    assert np.isnan(sensitivity_tiw_auc(curve.iloc[:0]))
    _, meta = simulated(0)
    no_seizures = meta.assign(lead_seizure="", tte=np.nan, seizure_id="", label=0, state="interictal")
    assert np.isnan(sensitivity_tiw_auc(sensitivity_tiw_curve(np.random.default_rng(0).random(len(meta)), no_seizures)))


def test_curve_takes_the_alarm_rule_only():
    risk, meta = simulate_risk_timeline(n_subjects=1, hours=20, random_state=0)
    curve = sensitivity_tiw_curve(risk, meta, policy=AlarmPolicy(reset=0.2, persistence=2, smoothing="ema"))
    assert curve["threshold"].min() >= 0.2
    with pytest.raises(TypeError, match="n_surrogates"):
        sensitivity_tiw_curve(risk, meta, n_surrogates=10)


# --------------------------------------------------------------------------- Brier skill and reliability


def test_brier_skill_of_climatology_is_zero_and_of_a_perfect_risk_is_one():
    target = np.array([0, 0, 0, 1, 0, 1, 0, 0])
    climatology = 0.2
    assert brier_skill_score(np.full(target.size, climatology), target, climatology)["bss"] == pytest.approx(0.0)
    perfect = brier_skill_score(target.astype(float), target, climatology)
    assert perfect["brier"] == 0.0 and perfect["bss"] == 1.0
    assert perfect["brier_climatology"] == pytest.approx(np.mean((climatology - target) ** 2))
    assert brier_skill_score(np.full(target.size, 0.9), target, climatology)["bss"] < 0
    assert np.isnan(brier_skill_score(np.zeros(3), np.zeros(3, dtype=int), 0.0)["bss"])  # BS_clim = 0
    with pytest.raises(ValueError, match="equal length"):
        brier_skill_score(np.zeros(3), target, climatology)


def test_reliability_on_timeline_uses_the_forecast_target():
    risk, meta = simulate_risk_timeline(n_subjects=1, hours=20, random_state=0)
    target = forecast_target(meta)
    pd.testing.assert_frame_equal(reliability_on_timeline(risk, target, n_bins=5), reliability_curve(target, risk, 5))


def test_fold_scores_take_climatology_from_training_windows_only():
    risk, meta = simulated(0)
    train, test = meta[meta["subject"] != "sim03"], meta[meta["subject"] == "sim03"]
    scores = fold_forecast_scores(risk[test.index], test, train, AlarmPolicy(sop=600.0, sph=30.0))
    assert scores["climatology"] == pytest.approx(forecast_target(train).mean())
    # the test timeline's own targets never reach the climatology
    relabeled = test.assign(lead_seizure="", label=0)
    again = fold_forecast_scores(risk[test.index], relabeled, train, AlarmPolicy())
    assert again["climatology"] == scores["climatology"]
    assert set(scores) == {"climatology", *NEW_COLUMNS}
    assert 0.5 < scores["sens_tiw_auc"] <= 1.0


def test_benchmark_rows_carry_the_scores_with_a_training_climatology():
    risk, meta = simulated(2)
    parts = {name: meta["subject"] == s for name, s in (("val", "sim01"), ("test", "sim02"))}
    train_meta = meta[meta["subject"].isin(["sim00", "sim03"])]
    rows = score_fold(
        risk[parts["val"]],
        meta[parts["val"]],
        risk[parts["test"]],
        meta[parts["test"]],
        fah_targets=(0.5, 1.0),
        policy=AlarmPolicy(),
        n_surrogates=0,
        info={"test_subject": "sim02"},
        train_meta=train_meta,
    )
    assert len(rows) == 2 and all(set(NEW_COLUMNS) <= set(row) for row in rows)
    assert rows[0]["climatology"] == pytest.approx(forecast_target(train_meta).mean())
    assert rows[0]["bss"] == rows[1]["bss"] and np.isfinite(rows[0]["sens_tiw_auc"])


# --------------------------------------------------------------------------- bootstrap and summaries


def test_bootstrap_ci_covers_the_mean_and_shrinks_with_more_subjects():
    rng = np.random.default_rng(0)
    few, many = rng.normal(0.6, 0.1, 6), rng.normal(0.6, 0.1, 60)
    low, high = bootstrap_ci(few)
    assert low < few.mean() < high
    low_many, high_many = bootstrap_ci(many)
    assert low_many < many.mean() < high_many and high_many - low_many < high - low
    assert bootstrap_ci(few) == bootstrap_ci(few)  # seeded
    assert bootstrap_ci([0.7, np.nan, 0.7]) == pytest.approx((0.7, 0.7))
    assert all(np.isnan(bootstrap_ci([np.nan])))
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci(few, level=95)


def _results(n_subjects: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for fold in range(n_subjects):
        scores = {"auroc": rng.uniform(0.5, 0.9), "sens_tiw_auc": rng.uniform(0.5, 0.9), "bss": rng.normal(0, 0.1),
                  "brier_timeline": 0.02, "brier_climatology": 0.025}
        for target in (0.2, 0.5):
            rows.append({"fold": fold, "test_subject": f"chb{fold:02d}", "fah_target": target, "sensitivity": 0.5,
                         "fah": 0.3, "n_seizures": 2, "n_predicted": 1, "chance_p": 0.1, **scores})
    return pd.DataFrame(rows)


def test_summary_has_the_new_columns_and_tolerates_their_absence():
    results = _results()
    summary = summarize_results(results)
    for metric in NEW_COLUMNS:
        first = results[results["fah_target"] == 0.2][metric]
        assert summary.loc[0, f"{metric}_mean"] == pytest.approx(first.mean())
    for metric in CI_METRICS:
        low, high = summary.loc[0, f"{metric}_ci_low"], summary.loc[0, f"{metric}_ci_high"]
        assert low <= summary.loc[0, f"{metric}_mean"] <= high
    old = summarize_results(results.drop(columns=[*NEW_COLUMNS]))
    assert old[[f"{m}_mean" for m in NEW_COLUMNS]].isna().all().all()
    assert old[["sens_tiw_auc_ci_low", "bss_ci_high"]].isna().all().all()
    assert old["auroc_ci_low"].notna().all()


# --------------------------------------------------------------------------- reporting


def test_final_summary_has_a_probabilistic_block(tmp_path: Path):
    results = _results()
    _, md = write_final_summary(tmp_path, dataset_totals={}, loso=results, within=None, limits=[])
    text = md.read_text()
    assert "### Probabilistic scores" in text and "sensitivity–time-in-warning AUC" in text
    auc = results.drop_duplicates("test_subject")["sens_tiw_auc"].mean()
    assert f"{auc:.2f} (95 % CI" in text and "Brier skill score" in text
    _, md_old = write_final_summary(tmp_path / "old", dataset_totals={}, loso=results.drop(columns=[*NEW_COLUMNS]),
                                    within=None, limits=[])
    assert "Probabilistic scores" not in md_old.read_text()


def test_forecast_figures(tmp_path: Path):
    from sklearn_eeg.reporting.predictions import write_predictions
    from sklearn_eeg.reporting.run_figures import _forecast_figures, _run_alarm_policy

    risk, meta = simulate_risk_timeline(n_subjects=2, hours=40, random_state=0)
    curves = {s: sensitivity_tiw_curve(risk[idx], meta.iloc[idx]) for s, idx in meta.groupby("subject").indices.items()}
    fig = plot_sensitivity_tiw(curves)
    ax = fig.axes[0]
    assert "mean AUC" in ax.get_title()
    assert len(ax.lines) == 2 and len(ax.collections) == 2  # diagonal + binned mean; one dot cloud per subject
    run = tmp_path / "run"
    write_predictions(meta.assign(risk=risk), run / "predictions.csv")
    config = {"alarms": {"smoothing": "ema", "persistence": 2, "reset": None}, "labeling": {"sop": 600, "sph": 30}}
    (run / "manifest.json").write_text(json.dumps({"config": config}))
    # refractory not set: the warning period SPH + SOP, as the scoring uses
    policy = _run_alarm_policy(run)
    assert policy == AlarmPolicy(smoothing="ema", persistence=2, sop=600.0, sph=30.0)
    assert policy.refractory_s == 630.0
    written = _forecast_figures(run, tmp_path / "figs")
    assert [w.name for w in written] == ["sensitivity_tiw_curves.png", "reliability_timeline.png"]
    assert all(w.stat().st_size > 0 for w in written)
