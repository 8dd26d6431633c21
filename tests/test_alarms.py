"""Alarm raising on the subject timeline: smoothing, persistence, hysteresis, refractory; fast == reference loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sklearn_eeg.evaluation.alarm_scoring import alarm_metrics_over_thresholds, benchmark_over_thresholds
from sklearn_eeg.evaluation.alarms import (
    AlarmPolicy,
    alarm_positions_loop,
    subject_timeline,
    infer_stride,
    raise_alarms,
    simulate_risk_timeline,
    smooth_risk,
)


def make_meta(t_abs, subject="s1", recording=None):
    t_abs = np.asarray(t_abs, dtype=float)
    return pd.DataFrame(
        {
            "subject": subject,
            "recording": recording if recording is not None else f"{subject}_01",
            "t_abs": t_abs,
            "label": 0,
            "tte": np.nan,
            "seizure_id": "",
        }
    )


def test_infer_stride_ignores_gaps_and_order():
    meta = make_meta([30, 10, 15, 20, 500, 505])
    assert infer_stride(meta) == 5.0
    with pytest.raises(ValueError, match="stride"):
        infer_stride(make_meta([10.0]))


def test_ema_runs_across_gaps_and_keeps_input_order():
    # file 1: t = 10, 15, 20 ; gap ; file 2: t = 100, 105 -- one subject, one continuous detector
    meta = make_meta([10, 15, 20, 100, 105])
    risk = np.array([1.0, 0.0, 0.0, 0.0, 1.0])
    out = smooth_risk(risk, meta, method="ema", alpha=0.5)
    np.testing.assert_allclose(out, [1.0, 0.5, 0.25, 0.125, 0.5625])
    perm = np.array([4, 2, 0, 3, 1])
    out_perm = smooth_risk(risk[perm], meta.iloc[perm].reset_index(drop=True), method="ema", alpha=0.5)
    np.testing.assert_allclose(out_perm, out[perm])
    # a new subject starts from its own first value
    two = pd.concat([meta, make_meta([10, 15], subject="s2")], ignore_index=True)
    out2 = smooth_risk(np.r_[risk, 0.2, 0.4], two, method="ema", alpha=0.5)
    np.testing.assert_allclose(out2[5:], [0.2, 0.3])


def test_moving_average_is_causal_and_subject_local():
    meta = make_meta([10, 15, 20, 25, 200, 205])
    risk = np.array([3.0, 6.0, 9.0, 0.0, 4.0, 8.0])
    np.testing.assert_allclose(smooth_risk(risk, meta, method="ma", n=3), [3, 4.5, 6, 5, 13 / 3, 4])
    np.testing.assert_array_equal(smooth_risk(risk, meta, method=None), risk)
    with pytest.raises(ValueError, match="method"):
        smooth_risk(risk, meta, method="median")


def test_persistence_counts_consecutive_windows_of_the_subject():
    t = np.arange(1, 11) * 5.0
    risk = np.array([0.9, 0.9, 0.1, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1])
    policy = AlarmPolicy(persistence=3, refractory=0.0)
    alarms = raise_alarms(risk, make_meta(t), threshold=0.5, policy=policy)
    assert alarms["t_alarm"].tolist() == [30.0]  # third consecutive window of the second excursion
    assert list(alarms.columns) == ["subject", "t_alarm", "recording"]
    # a gap in the middle of an excursion neither restarts the count nor re-arms the detector
    t_gap = np.array([5, 10, 100, 105, 110], dtype=float)
    risk_gap = np.full(5, 0.9)
    alarms = raise_alarms(risk_gap, make_meta(t_gap), threshold=0.5, policy=policy)
    assert alarms["t_alarm"].tolist() == [100.0]


def test_hysteresis_requires_drop_below_reset():
    t = np.arange(1, 9) * 5.0
    risk = np.array([0.9, 0.6, 0.9, 0.3, 0.9, 0.9, 0.1, 0.9])
    # default reset = threshold: every excursion over the threshold alarms once
    no_refractory = AlarmPolicy(refractory=0.0)
    assert raise_alarms(risk, make_meta(t), threshold=0.5, policy=no_refractory)["t_alarm"].tolist() == [5, 25, 40]
    assert raise_alarms(risk, make_meta(t), threshold=0.7, policy=no_refractory)["t_alarm"].tolist() == [5, 15, 25, 40]
    # reset 0.4: the dip to 0.6 does not re-arm, nor does staying high
    got = raise_alarms(risk, make_meta(t), threshold=0.7, policy=AlarmPolicy(reset=0.4, refractory=0.0))
    assert got["t_alarm"].tolist() == [5, 25, 40]
    # reset > threshold depends on the threshold: checked when the alarms are raised
    with pytest.raises(ValueError, match="reset"):
        raise_alarms(risk, make_meta(t), threshold=0.5, policy=AlarmPolicy(reset=0.6))


def test_refractory_spans_file_boundaries_but_subjects_are_independent():
    t1 = np.arange(1, 5) * 5.0  # 5..20, file 1
    t2 = 300.0 + np.arange(1, 5) * 5.0  # 305..320 after a gap, file 2
    meta = pd.concat([make_meta(t1, recording="a"), make_meta(t2, recording="b")], ignore_index=True)
    risk = np.array([0.9, 0.1, 0.1, 0.1, 0.9, 0.1, 0.9, 0.1])
    got = raise_alarms(risk, meta, threshold=0.5, policy=AlarmPolicy(refractory=310.0))
    assert got["t_alarm"].tolist() == [5.0, 315.0]  # 305 is within 310 s of 5
    assert got["recording"].tolist() == ["a", "b"]
    other = make_meta(t1, subject="s2")
    both = pd.concat([meta, other], ignore_index=True)
    got = raise_alarms(np.r_[risk, 0.9, 0.1, 0.1, 0.1], both, threshold=0.5, policy=AlarmPolicy(refractory=1e6))
    assert got[["subject", "t_alarm"]].values.tolist() == [["s1", 5.0], ["s2", 5.0]]


def test_gaps_and_file_boundaries_never_rearm_the_detector():
    meta = pd.concat(
        [make_meta([5, 10, 15], recording="a"), make_meta([1000, 1005], recording="b"),
         make_meta([3600 * 5, 3600 * 5 + 5], recording="c")],
        ignore_index=True,
    )
    got = raise_alarms(np.full(len(meta), 0.9), meta, threshold=0.5, policy=AlarmPolicy(refractory=600.0))
    assert got["t_alarm"].tolist() == [5.0]  # a constant risk: one alarm per subject


@pytest.mark.parametrize(
    "params",
    [
        {"persistence": 1, "refractory": 600.0, "reset": None},
        {"persistence": 3, "refractory": 120.0, "reset": None},
        {"persistence": 2, "refractory": 0.0, "reset": 0.05},
        {"persistence": 4, "refractory": 900.0, "reset": 0.1},
    ],
)
def test_vectorized_alarms_equal_reference_loop(params):
    risk, meta = simulate_risk_timeline(3, 30, seizure_every_h=4, random_state=3)
    tl = subject_timeline(meta, None, pad=params["refractory"] + 1)
    r = risk[tl.order]
    for th in (0.1, 0.2, 0.35, 0.6):
        reset = th if params["reset"] is None else min(params["reset"], th)
        ref = alarm_positions_loop(r, tl.subject_start, tl.gt, threshold=th, persistence=params["persistence"],
                                    reset=reset, refractory=params["refractory"])
        policy = AlarmPolicy(persistence=params["persistence"], reset=reset, refractory=params["refractory"])
        got = raise_alarms(risk, meta, threshold=th, policy=policy)
        assert got["t_alarm"].tolist() == tl.t[ref].tolist()


def test_benchmark_asserts_equal_results_and_reports_ratio():
    risk, meta = simulate_risk_timeline(2, 20, seizure_every_h=4, random_state=0)
    policy = AlarmPolicy(persistence=2, smoothing="ema")
    report = benchmark_over_thresholds(risk, meta, np.linspace(0.05, 0.95, 10), n_naive=3, policy=policy)
    assert report["n_thresholds"] == 10 and report["n_naive"] == 3
    assert report["speedup"] > 0 and not report["naive_measured"]


def test_over_thresholds_fewer_alarms_at_higher_threshold_without_hysteresis_effects():
    risk, meta = simulate_risk_timeline(2, 20, random_state=1)
    table = alarm_metrics_over_thresholds(risk, meta, [0.99, 0.5, 0.2], policy=AlarmPolicy(refractory=0.0, reset=0.0))
    # reset 0 never re-arms: at most one alarm per subject, at the first crossing
    assert table["n_alarms"].iloc[0] <= table["n_alarms"].iloc[1] <= table["n_alarms"].iloc[2]


def test_bad_inputs_raise_clear_errors():
    meta = make_meta([5, 10, 15])
    with pytest.raises(ValueError, match="shape"):
        raise_alarms(np.zeros(2), meta, threshold=0.5)
    with pytest.raises(ValueError, match="NaN"):
        raise_alarms(np.array([0.1, np.nan, 0.2]), meta, threshold=0.5)
    with pytest.raises(ValueError, match="persistence"):  # the rule is checked when it is built
        AlarmPolicy(persistence=0)
    with pytest.raises(ValueError, match="column"):
        raise_alarms(np.zeros(3), meta.drop(columns="t_abs"), threshold=0.5)
    with pytest.raises(TypeError, match="DataFrame"):
        raise_alarms(np.zeros(3), meta.to_numpy(), threshold=0.5)
