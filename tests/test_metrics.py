"""Window metrics and alarm-level metrics on hand-built timelines with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sklearn_eeg.evaluation.alarm_scoring import alarm_metrics_over_thresholds
from sklearn_eeg.evaluation.alarms import AlarmPolicy, simulate_risk_timeline
from sklearn_eeg.evaluation.metrics import alarm_metrics, confusion_at_threshold, reliability_curve, window_metrics

STRIDE = 5.0


def one_seizure_timeline():
    """One subject, stride 5 s: 1 h interictal (720 windows), a 28-min unobserved gap, the preictal
    windows of a seizure at t = 6000 s (window ends 5400..5970), then its ictal (6005..6060) and
    postictal (6065..6600) windows."""
    t_inter = np.arange(1, 721) * STRIDE  # 5 .. 3600
    t_pre = np.arange(5400.0, 5971.0, STRIDE)  # onset - 600 .. onset - 30
    t_post = np.arange(6005.0, 6601.0, STRIDE)
    meta = pd.DataFrame(
        {
            "subject": "s1",
            "recording": ["r1"] * t_inter.size + ["r2"] * (t_pre.size + t_post.size),
            "t_abs": np.r_[t_inter, t_pre, t_post],
            "state": ["interictal"] * t_inter.size + ["preictal"] * t_pre.size
            + ["ictal" if t <= 6060 else "postictal" for t in t_post],
            "label": np.r_[np.zeros(t_inter.size, int), np.ones(t_pre.size, int), -np.ones(t_post.size, int)],
            "tte": np.r_[np.full(t_inter.size, np.nan), 6000.0 - t_pre, np.full(t_post.size, np.nan)],
            "seizure_id": [""] * t_inter.size + ["s1_s01"] * t_pre.size + [""] * t_post.size,
            "lead_seizure": [""] * t_inter.size + ["s1_s01"] * t_pre.size + [""] * t_post.size,
        }
    )
    return meta


def test_window_metrics_known_values_and_nan_for_single_class():
    y = np.array([0, 0, 1, 1])
    risk = np.array([0.1, 0.4, 0.35, 0.8])
    m = window_metrics(y, risk)
    assert m["auroc"] == pytest.approx(0.75)
    assert m["auprc"] == pytest.approx((1.0 + 2 / 3) / 2)
    assert m["brier"] == pytest.approx(np.mean((risk - y) ** 2))
    assert (m["n_pos"], m["n_neg"]) == (2, 2)
    single = window_metrics(np.zeros(3, int), np.array([0.1, 0.2, 0.3]))
    assert np.isnan(single["auroc"]) and np.isnan(single["auprc"])
    with pytest.raises(ValueError, match="0"):
        window_metrics(np.array([0, 2]), np.array([0.1, 0.2]))


def test_reliability_curve_and_confusion():
    y = np.array([0, 1, 1, 0, 1])
    risk = np.array([0.05, 0.15, 0.95, 0.91, 1.0])
    table = reliability_curve(y, risk, n_bins=10)
    assert table["count"].tolist() == [1, 1, 0, 0, 0, 0, 0, 0, 0, 3]
    assert table["frac_pos"].iloc[-1] == pytest.approx(2 / 3)
    assert table["mean_risk"].iloc[-1] == pytest.approx((0.95 + 0.91 + 1.0) / 3)
    assert np.isnan(table["frac_pos"].iloc[4])
    c = confusion_at_threshold(y, risk, 0.5)
    assert (c["tn"], c["fp"], c["fn"], c["tp"]) == (1, 1, 1, 2)
    assert c["sensitivity"] == pytest.approx(2 / 3) and c["specificity"] == pytest.approx(0.5)


def test_alarm_metrics_hand_built_one_seizure():
    meta = one_seizure_timeline()
    risk = np.zeros(len(meta))
    t = meta["t_abs"].to_numpy()
    risk[t == 1000.0] = 0.9  # false alarm (interictal)
    risk[t == 2000.0] = 0.9  # false alarm
    risk[t == 5700.0] = 0.9  # true alarm: 300 s before onset
    risk[t == 5800.0] = 0.9  # second alarm, blocked by the refractory period (SPH + SOP = 630 s)
    risk[t == 6400.0] = 0.9  # postictal: exempt, neither true nor false
    m = alarm_metrics(risk, meta, threshold=0.5)
    assert m["n_seizures"] == 1 and m["n_predicted"] == 1 and m["sensitivity"] == 1.0
    assert (m["n_alarms"], m["n_false_alarms"], m["n_exempt_alarms"], m["n_not_scorable"]) == (4, 2, 1, 0)
    nonictal_h = (720 + 115) * STRIDE / 3600  # interictal + preictal windows
    assert m["nonictal_hours"] == pytest.approx(nonictal_h)
    assert m["fah"] == pytest.approx(2.0 / nonictal_h)
    assert m["interictal_hours"] == pytest.approx(1.0) and m["fah_interictal"] == pytest.approx(2.0)
    assert m["warning_times"] == [300.0] and m["warning_time_mean"] == 300.0
    # warning periods [t, t + 630): 126 + 126 + (55 preictal + 65 ictal/postictal) + 41 postictal windows
    assert m["time_in_warning"] == pytest.approx((126 + 126 + 120 + 41) / len(meta))
    poisson = 1 - np.exp(-m["fah"] * 600 / 3600)
    assert m["chance_poisson"] == pytest.approx(poisson)
    assert m["chance_p"] == pytest.approx(max(poisson, m["time_in_warning"]))  # floored at the time in warning
    assert m["ioc"] == pytest.approx(1.0 - m["chance_p"])
    assert m["p_value"] == pytest.approx(stats.binom.sf(0, 1, m["chance_p"]))


def test_alarm_too_late_or_too_early_is_a_miss():
    meta = one_seizure_timeline()
    t = meta["t_abs"].to_numpy()
    # an alarm exactly at onset - SPH (the last preictal window) still counts
    risk = np.where(t == 5970.0, 0.9, 0.0)
    assert alarm_metrics(risk, meta, threshold=0.5)["n_predicted"] == 1
    # alarm 700 s before onset (interictal run): a false alarm, the seizure is missed
    risk = np.where(t == 3300.0, 0.9, 0.0)
    m = alarm_metrics(risk, meta, threshold=0.5)
    assert (m["n_predicted"], m["n_false_alarms"]) == (0, 1)
    assert m["ioc"] == pytest.approx(-m["chance_p"])
    assert m["p_value"] == pytest.approx(1.0)
    assert np.isnan(m["warning_time_mean"])


def test_no_seizures_gives_nan_sensitivity():
    meta = one_seizure_timeline()
    meta = meta[meta["label"] == 0]
    m = alarm_metrics(np.zeros(len(meta)), meta, threshold=0.5)
    assert m["n_seizures"] == 0 and np.isnan(m["sensitivity"]) and np.isnan(m["p_value"])
    assert m["fah"] == 0.0 and m["chance_p"] == 0.0


def test_alarm_metrics_matches_over_thresholds_and_properties():
    risk, meta = simulate_risk_timeline(3, 30, seizure_every_h=4, random_state=2)
    thresholds = np.linspace(0.1, 0.9, 9)
    policy = AlarmPolicy(persistence=2, smoothing="ma")
    table = alarm_metrics_over_thresholds(risk, meta, thresholds, policy=policy)
    for i, th in enumerate(thresholds):
        single = alarm_metrics(risk, meta, threshold=th, policy=policy)
        assert single["n_false_alarms"] == table["n_false_alarms"].iloc[i]
        assert single["sensitivity"] == table["sensitivity"].iloc[i]
    assert (table["n_predicted"] + table["n_false_alarms"] <= table["n_alarms"] + table["n_seizures"]).all()
    assert ((table["time_in_warning"] >= 0) & (table["time_in_warning"] <= 1)).all()
    assert np.allclose(table["ioc"], table["sensitivity"] - table["chance_p"])
    with pytest.raises(ValueError, match="sph"):  # the rule is checked when it is built
        AlarmPolicy(sph=-1.0)
