"""Properties of alarms and alarm metrics on hand-built timelines (seeded random cases).

1. Smoothing (EMA, moving average) never adds alarms: a constant signal keeps its alarms, a signal
   everywhere below the threshold never alarms after smoothing.
2. The refractory period caps the number of alarms per observed time.
3. Alarm scoring equals a brute-force reading of the literature rules: an alarm is true iff a
   lead-seizure onset lies in its occurrence period [t + SPH, t + SPH + SOP]; every other alarm is
   false (wherever it is raised); FAH is per non-ictal hour; a seizure far away in time changes
   no earlier false alarm.
4. In ``tune_threshold`` the validation sensitivity is non-decreasing in the FAH target.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sklearn_eeg.evaluation.alarms import AlarmPolicy, raise_alarms, smooth_risk
from sklearn_eeg.evaluation.metrics import alarm_metrics
from sklearn_eeg.evaluation.scoring import tune_threshold

# Hand-made window tables without excluded (label -1) windows, on purpose: the warning that a real
# run's table must keep them is asserted in test_scoring.py (pytest.warns sees it despite this filter).
pytestmark = pytest.mark.filterwarnings("ignore:the window table has preictal windows but no excluded:UserWarning")

STRIDE = 5.0
SOP, SPH = 600.0, 30.0
POLICY = AlarmPolicy(sop=SOP, sph=SPH)  # refractory None: the warning period SPH + SOP
NO_REFRACTORY = AlarmPolicy(refractory=0.0)
SEEDS = [0, 1, 2, 3, 4]
SMOOTHERS = [("ema", {"alpha": 0.1}), ("ema", {"alpha": 0.7}), ("ma", {"n": 2}), ("ma", {"n": 12})]


def run_table(runs: list[tuple[str, float, int]], *, label: int = 0) -> pd.DataFrame:
    """Window table of contiguous runs ``(subject, first window end, n_windows)``."""
    frames = []
    for k, (subject, t0, n_windows) in enumerate(runs):
        frames.append(
            pd.DataFrame(
                {
                    "subject": subject,
                    "recording": f"{subject}_{k:02d}",
                    "t_abs": t0 + STRIDE * np.arange(n_windows),
                    "label": label,
                    "tte": np.nan,
                    "seizure_id": "",
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def random_runs(rng: np.random.Generator, n_subjects: int = 3) -> list[tuple[str, float, int]]:
    """Runs with random lengths separated by random gaps (unobserved time) for a few subjects."""
    runs = []
    for s in range(n_subjects):
        t = 10.0
        for _ in range(rng.integers(1, 5)):
            n_windows = int(rng.integers(1, 400))
            runs.append((f"s{s}", t, n_windows))
            t += STRIDE * n_windows + float(rng.choice([7.0, 300.0, 2000.0]))
    return runs


def shuffled(risk: np.ndarray, meta: pd.DataFrame, rng: np.random.Generator) -> tuple[np.ndarray, pd.DataFrame]:
    perm = rng.permutation(len(meta))
    return risk[perm], meta.iloc[perm].reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# 1. smoothing never adds alarms
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("method", "params"), SMOOTHERS)
def test_smoothing_a_constant_signal_changes_no_alarm(seed, method, params):
    rng = np.random.default_rng(seed)
    meta = run_table(random_runs(rng))
    level = float(rng.uniform(0.05, 0.95))
    risk = np.full(len(meta), level)
    for threshold in (level / 2, 1.5 * level):
        policy = AlarmPolicy(persistence=int(rng.integers(1, 4)), refractory=300.0)
        plain = raise_alarms(risk, meta, threshold=threshold, policy=policy)
        smoothed = raise_alarms(risk, meta, threshold=threshold, policy=policy.replace(smoothing=method, **params))
        pd.testing.assert_frame_equal(smoothed, plain)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("alpha", [0.1, 0.3, 0.7])
def test_ema_of_a_constant_at_the_threshold_adds_no_alarm(seed, alpha):
    rng = np.random.default_rng(seed)
    meta = run_table(random_runs(rng))
    level = float(rng.uniform(0.05, 0.95))
    risk = np.full(len(meta), level)
    plain = raise_alarms(risk, meta, threshold=level, policy=NO_REFRACTORY)
    smoothed = raise_alarms(risk, meta, threshold=level, policy=NO_REFRACTORY.replace(smoothing="ema", alpha=alpha))
    assert set(smoothed["t_alarm"]) <= set(plain["t_alarm"])


def test_moving_average_of_a_constant_at_the_threshold_adds_no_alarm():
    meta = run_table([("s0", 10.0, 720)])  # one hour, one run
    risk = np.full(len(meta), 0.1)
    plain = raise_alarms(risk, meta, threshold=0.1, policy=NO_REFRACTORY)
    assert len(plain) == 1  # one excursion, one alarm
    smoothed = raise_alarms(risk, meta, threshold=0.1, policy=NO_REFRACTORY.replace(smoothing="ma", n=3))
    assert len(smoothed) <= 1  # a running sum over the whole timeline once gave 3 alarms here


def test_moving_average_of_a_constant_below_the_threshold_never_alarms():
    meta = run_table([("s0", 10.0, 100_000)])  # 139 h, one run
    risk = np.full(len(meta), 0.1)
    threshold = 0.1 + 1e-13
    assert raise_alarms(risk, meta, threshold=threshold, policy=NO_REFRACTORY).empty
    assert smooth_risk(risk, meta, method="ma", n=3).max() < threshold  # once 0.1 + 3.6e-13 (rounding)
    assert raise_alarms(risk, meta, threshold=threshold, policy=NO_REFRACTORY.replace(smoothing="ma", n=3)).empty


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("method", "params"), SMOOTHERS)
def test_smoothing_a_signal_below_threshold_never_alarms(seed, method, params):
    rng = np.random.default_rng(seed)
    meta = run_table(random_runs(rng))
    threshold = 0.6
    # any signal below the threshold: white noise, spikes just under it, a constant just under it
    candidates = [
        rng.uniform(0.0, threshold, len(meta)) * 0.999,
        np.where(rng.random(len(meta)) < 0.3, threshold - 1e-9, 0.0),
        np.full(len(meta), threshold - 1e-9),
    ]
    for risk in candidates:
        risk, perm_meta = shuffled(risk, meta, rng)
        smoothed = smooth_risk(risk, perm_meta, method=method, **params)
        assert smoothed.max() < threshold
        policy = NO_REFRACTORY.replace(smoothing=method, **params)
        assert raise_alarms(risk, perm_meta, threshold=threshold, policy=policy).empty


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("method", "params"), SMOOTHERS)
def test_smoothed_risk_stays_within_the_range_of_its_subject(seed, method, params):
    """Smoothing is a convex combination of the subject's past values: it never exceeds their range."""
    rng = np.random.default_rng(seed)
    meta = run_table(random_runs(rng))
    risk = rng.random(len(meta))
    smoothed = smooth_risk(risk, meta, method=method, **params)
    subject = meta["subject"].to_numpy()
    lo = pd.Series(risk).groupby(subject).cummin().to_numpy()
    hi = pd.Series(risk).groupby(subject).cummax().to_numpy()
    assert np.all(smoothed >= lo - 1e-12) and np.all(smoothed <= hi + 1e-12)


# ------------------------------------------------------------------------------------------------
# 2. refractory period caps alarms
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("refractory", [5.0, 60.0, 600.0, 3000.0])
def test_refractory_caps_alarms_per_observed_time(seed, refractory):
    rng = np.random.default_rng(seed)
    runs = random_runs(rng)
    meta = run_table(runs)
    risk = rng.random(len(meta))  # crosses 0.5 every other window on average: as many alarms as allowed
    risk_s, meta_s = shuffled(risk, meta, rng)
    alarms = raise_alarms(risk_s, meta_s, threshold=0.5, policy=AlarmPolicy(refractory=refractory))
    for subject, own in alarms.groupby("subject"):
        t = np.sort(own["t_alarm"].to_numpy())
        assert np.all(np.diff(t) >= refractory)
        subject_runs = [(t0, n) for s, t0, n in runs if s == subject]
        span = max(t0 + STRIDE * (n - 1) for t0, n in subject_runs) - min(t0 for t0, _ in subject_runs)
        assert len(t) <= math.floor(span / refractory) + 1
        # each contiguous run of n windows observes n * stride seconds
        assert len(t) <= sum(math.ceil(n * STRIDE / refractory) for _, n in subject_runs)
        if len(subject_runs) == 1:
            assert len(t) <= math.ceil(subject_runs[0][1] * STRIDE / refractory)


def test_refractory_bound_is_reached_by_a_signal_always_over_threshold_with_rearming():
    meta = run_table([("s0", 10.0, 720)])  # one hour
    risk = np.tile([0.9, 0.1], 360)  # re-arms every other window
    for refractory in (10.0, 60.0, 600.0):
        n = len(raise_alarms(risk, meta, threshold=0.5, policy=AlarmPolicy(refractory=refractory)))
        assert n == math.ceil(720 * STRIDE / refractory)


# ------------------------------------------------------------------------------------------------
# 3. FAH excludes preictal / ictal / postictal time
# ------------------------------------------------------------------------------------------------


def seizure_timeline(rng: np.random.Generator, n_seizures: int) -> pd.DataFrame:
    """One subject: interictal hours, then per seizure its preictal windows; the ictal, postictal and
    30-min exclusion spans around each onset are dropped (not in the table), as the labeling does."""
    frames, t = [], 10.0
    for k in range(n_seizures + 1):
        n_inter = int(rng.integers(50, 800))
        frames.append(run_table([("s0", t, n_inter)]).assign(recording=f"r{k}"))
        t += STRIDE * n_inter + 1800.0  # interictal ends >= 30 min before the next onset
        if k == n_seizures:
            break
        onset = round(t + rng.uniform(0, 2.0), 3)
        t_pre = np.arange(onset - SOP, onset - SPH + 1e-9, STRIDE)  # SOP window, ends included
        frames.append(
            pd.DataFrame(
                {
                    "subject": "s0",
                    "recording": f"r{k}",
                    "t_abs": t_pre,
                    "label": 1,
                    "tte": onset - t_pre,
                    "seizure_id": f"s0_s{k:02d}",
                }
            )
        )
        t = onset + 1800.0 + 60.0  # seizure + postictal + 30 min exclusion
    return pd.concat(frames, ignore_index=True)


def brute_force_scores(alarm_t: np.ndarray, onsets: np.ndarray) -> tuple[int, int]:
    """(seizures predicted, false alarms) by the literal rules, one alarm and one seizure at a time."""
    predicted = sum(any(t + SPH <= onset <= t + SPH + SOP for t in alarm_t) for onset in onsets)
    false = sum(not any(t + SPH <= onset <= t + SPH + SOP for onset in onsets) for t in alarm_t)
    return predicted, false


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("persistence", [1, 3])
def test_alarm_scoring_equals_the_literal_rules(seed, persistence):
    rng = np.random.default_rng(seed)
    meta = seizure_timeline(rng, n_seizures=3)
    risk = rng.random(len(meta))
    onsets = (meta["t_abs"] + meta["tte"])[meta["label"] == 1].round(6).unique()
    for threshold in (0.6, 0.8, 0.95):
        m = alarm_metrics(risk, meta, threshold=threshold, policy=POLICY.replace(persistence=persistence))
        rule = AlarmPolicy(persistence=persistence, refractory=SOP + SPH)
        alarms = raise_alarms(risk, meta, threshold=threshold, policy=rule)
        predicted, false = brute_force_scores(alarms["t_alarm"].to_numpy(), onsets)
        assert (m["n_predicted"], m["n_false_alarms"], m["n_alarms"]) == (predicted, false, len(alarms))
        # no state column: no ictal/postictal windows, every window counts as non-ictal time
        assert m["nonictal_hours"] == pytest.approx(len(meta) * STRIDE / 3600)
        assert m["interictal_hours"] == pytest.approx((meta["label"] == 0).sum() * STRIDE / 3600)
        assert m["fah"] == pytest.approx(false / m["nonictal_hours"])


@pytest.mark.parametrize("seed", SEEDS)
def test_alarms_in_the_alarm_window_are_true_and_elsewhere_false(seed):
    rng = np.random.default_rng(seed)
    meta = seizure_timeline(rng, n_seizures=3)
    pre = (meta["label"] == 1).to_numpy()
    # one short excursion inside every preictal period, one in the interictal hours
    spikes = pre & (np.r_[False, pre[:-1]] & ~np.r_[False, False, pre[:-2]])  # 2nd window of each block
    inter = np.flatnonzero(~pre)[[0, -1]]  # far apart: the refractory period blocks neither
    risk = np.where(spikes, 1.0, 0.0)
    risk[inter] = 1.0
    m = alarm_metrics(risk, meta, threshold=0.5, policy=POLICY)
    assert (m["n_alarms"], m["n_predicted"], m["n_false_alarms"], m["n_seizures"]) == (5, 3, 2, 3)
    # the same alarm 25 min before an onset (outside its alarm window) is false, not ignored
    early = np.zeros(len(meta))
    t = meta["t_abs"].to_numpy()
    for onset in (meta["t_abs"] + meta["tte"])[pre].round(6).unique():
        early[np.argmin(np.abs(t - (onset - 1500)))] = 1.0
    m = alarm_metrics(early, meta, threshold=0.5, policy=POLICY)
    assert (m["n_predicted"], m["n_false_alarms"]) == (0, m["n_alarms"])


@pytest.mark.parametrize("seed", SEEDS)
def test_adding_a_seizure_in_a_gap_never_changes_false_alarms(seed):
    rng = np.random.default_rng(seed)
    meta = seizure_timeline(rng, n_seizures=2)
    risk = rng.random(len(meta))
    kwargs = {"threshold": 0.75, "policy": POLICY.replace(smoothing="ema", alpha=0.5)}
    before = alarm_metrics(risk, meta, **kwargs)
    # a new seizure 3 days later, observed only through its preictal windows (all alarming)
    onset = meta["t_abs"].max() + 3 * 86400.0
    t_pre = np.arange(onset - SOP, onset - SPH + 1e-9, STRIDE)
    extra = pd.DataFrame(
        {"subject": "s0", "recording": "late", "t_abs": t_pre, "label": 1, "tte": onset - t_pre, "seizure_id": "s0_s99"}
    )
    late = np.r_[0.0, np.ones(len(extra) - 1)]  # low first: the continuous detector re-arms, then alarms
    after = alarm_metrics(np.r_[risk, late], pd.concat([meta, extra], ignore_index=True), **kwargs)
    assert after["n_false_alarms"] == before["n_false_alarms"]
    assert after["interictal_hours"] == before["interictal_hours"]
    assert after["nonictal_hours"] == before["nonictal_hours"] + len(extra) * STRIDE / 3600
    assert after["n_seizures"] == before["n_seizures"] + 1
    assert after["n_predicted"] == before["n_predicted"] + 1


# ------------------------------------------------------------------------------------------------
# 4. tuned sensitivity is non-decreasing in the FAH target
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "policy",
    [
        AlarmPolicy(),
        AlarmPolicy(persistence=3),
        AlarmPolicy(smoothing="ema", alpha=0.3),
        AlarmPolicy(smoothing="ma", n=4, refractory=300.0),
    ],
)
def test_tuned_sensitivity_is_non_decreasing_in_the_fah_target(seed, policy):
    rng = np.random.default_rng(seed)
    meta = pd.concat(
        [seizure_timeline(rng, n_seizures=int(rng.integers(2, 6))).assign(subject=f"s{k}") for k in range(2)],
        ignore_index=True,
    )
    meta["seizure_id"] = np.where(meta["seizure_id"] != "", meta["subject"] + "_" + meta["seizure_id"], "")
    risk = np.clip(rng.normal(0.3 + 0.2 * meta["label"].to_numpy(), 0.2), 0.0, 1.0)
    targets = np.sort(rng.uniform(0.0, 5.0, 8))
    table = tune_threshold(risk, meta, tuple(targets), n_thresholds=60, policy=policy)
    assert np.all(np.isfinite(table["threshold"]))
    assert np.all(table["val_fah"] <= table["fah_target"] + 1e-12)
    assert np.all(np.diff(table["val_sensitivity"]) >= 0)
    # the same holds for a fixed candidate grid, and applying the chosen thresholds to the same data
    # as "test" reproduces the validation numbers
    grid = np.linspace(0.0, 1.01, 40)
    fixed = tune_threshold(risk, meta, tuple(targets), thresholds=grid, test_risk=risk, test_meta=meta, policy=policy)
    assert np.all(np.diff(fixed["val_sensitivity"]) >= 0)
    np.testing.assert_allclose(fixed["test_sensitivity"], fixed["val_sensitivity"])
    np.testing.assert_allclose(fixed["test_fah"], fixed["val_fah"])


def test_tune_threshold_without_validation_interictal_time_gives_nan_test_columns():
    rng = np.random.default_rng(0)
    meta = seizure_timeline(rng, n_seizures=2)
    pre = (meta["label"] == 1).to_numpy()
    # only postictal windows: no non-ictal hours, FAH undefined
    val_meta = meta[pre].assign(state="postictal").reset_index(drop=True)
    alone = tune_threshold(rng.random(pre.sum()), val_meta, (0.5, 1.0))
    assert alone["threshold"].isna().all()  # documented: NaN without validation non-ictal time
    table = tune_threshold(rng.random(pre.sum()), val_meta, (0.5, 1.0), test_risk=rng.random(len(meta)), test_meta=meta)
    assert table["threshold"].isna().all() and table["test_sensitivity"].isna().all()
