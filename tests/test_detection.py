"""Detection mode: post-processing, NEDC OVLP/TAES totals, SzCORE event scoring vs timescoring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sklearn_eeg.evaluation.detection import (
    closing,
    detect_events,
    events_from_mask,
    fa_curve,
    fa_per_24h,
    hysteresis,
    opening,
    read_csv_bi,
    score_ovlp,
    score_records,
    score_szcore,
    score_taes,
    sensitivity_at_fa,
)


def test_hysteresis_switches_on_high_and_off_low():
    p = np.array([0.5, 0.8, 0.9, 0.8, 0.79, 0.7, 0.85, 0.9, 0.1])
    got = hysteresis(p, tau_on=0.86, tau_off=0.78)
    assert got.tolist() == [False, False, True, True, True, False, False, True, False]
    with pytest.raises(ValueError, match="tau_off"):
        hysteresis(p, tau_on=0.5, tau_off=0.6)


def test_closing_and_opening_are_edge_safe():
    m = np.array([1, 0, 1, 1, 0, 0, 0, 1, 0, 1], dtype=bool)
    assert closing(m, 2).astype(int).tolist() == [1, 1, 1, 1, 0, 0, 0, 1, 1, 1]
    assert closing(m, 4).all()
    assert opening(m, 2).astype(int).tolist() == [0, 0, 1, 1, 0, 0, 0, 0, 0, 0]
    assert opening(m, 1).tolist() == m.tolist()


def test_detect_events_per_run_in_seconds():
    t = np.r_[np.arange(1, 7) * 5.0, 1000 + np.arange(1, 4) * 5.0]
    meta = pd.DataFrame({"subject": "s1", "t_abs": t})
    prob = np.array([0.1, 0.9, 0.9, 0.1, 0.9, 0.9, 0.9, 0.1, 0.1])
    ev = detect_events(prob, meta, tau_on=0.5, tau_off=0.5, closing_size=2, window=10.0)
    # windows 2..6 (gap of one window closed) end at the run end; the run after the gap is separate
    assert ev[["start", "end"]].values.tolist() == [[0.0, 30.0], [995.0, 1005.0]]
    ev = detect_events(prob, meta, tau_on=0.5, tau_off=0.5, opening_size=2, window=10.0)
    assert ev[["start", "end"]].values.tolist() == [[0.0, 15.0], [15.0, 30.0]]
    ref = events_from_mask(prob > 0.5, meta)
    assert len(ref) == 3


def test_ovlp_and_taes_hand_cases():
    assert score_ovlp([[10, 20]], [[15, 25]]) == {"hits": 1, "misses": 0, "false_alarms": 0}
    assert score_ovlp([[10, 20]], [[20, 25]]) == {"hits": 0, "misses": 1, "false_alarms": 1}
    t = score_taes([[10, 20]], [[15, 25]])  # late start, late end: hit 0.5, fa 0.5
    assert (t["hits"], t["misses"], t["false_alarms"]) == pytest.approx((0.5, 0.5, 0.5))
    t = score_taes([[10, 20]], [[12, 14], [16, 18]])  # two inside: hits add up
    assert (t["hits"], t["misses"], t["false_alarms"]) == pytest.approx((0.4, 0.6, 0.0))
    t = score_taes([[10, 20], [30, 40]], [[5, 45]])  # one long hyp over two refs: second ref missed
    assert (t["hits"], t["misses"], t["false_alarms"]) == pytest.approx((1.0, 1.0, 1.0))
    t = score_taes([[10, 20]], [])
    assert (t["hits"], t["misses"], t["false_alarms"]) == (0.0, 1.0, 0.0)
    assert fa_per_24h(2, 43200) == 4.0


def _nedc_records(root: Path):
    names = [Path(line).name for line in (root / "data/lists/ref.list").read_text().split()]
    records = []
    for name in names:
        ref, dur = read_csv_bi(root / "data/csv/ref" / name)
        hyp, dur_hyp = read_csv_bi(root / "data/csv/hyp" / name)
        assert dur == dur_hyp
        records.append((ref, hyp, dur))
    return records


def _official(summary: str, section: str) -> dict:
    block = summary.split(section, 1)[1].split("LABEL: BCKG", 1)[0]
    values = {}
    for key in ("Hits", "Misses", "False Alarms", "Sensitivity (TPR, Recall)", "False Alarm Rate"):
        line = next(ln for ln in block.splitlines() if ln.strip().startswith(key + ":"))
        values[key] = float(line.split(":", 1)[1].split()[0].rstrip("%"))
    return values


@pytest.mark.parametrize("method, section", [("ovlp", "NEDC OVLP"), ("taes", "NEDC TAES")])
def test_nedc_official_totals(shared_fixtures, method, section):
    root = shared_fixtures / "nedc"
    summary = (root / "expected_outputs/summary.txt").read_text()
    section = "NEDC OVERLAP SCORING SUMMARY" if method == "ovlp" else "NEDC TAES SCORING SUMMARY"
    official = _official(summary, section)
    totals = score_records(_nedc_records(root), method)
    assert totals["duration"] == 45277.0
    assert round(totals["hits"], 2) == official["Hits"]
    assert round(totals["misses"], 2) == official["Misses"]
    assert round(totals["false_alarms"], 2) == official["False Alarms"]
    assert round(100 * totals["sensitivity"], 4) == official["Sensitivity (TPR, Recall)"]
    assert round(totals["fa_per_24h"], 4) == official["False Alarm Rate"]


EDGE_CASES = [
    # (ref, hyp, duration, params)
    ([(100, 160)], [(110, 150)], 600, {}),
    ([(100, 160)], [], 600, {}),
    ([], [(100, 160)], 600, {}),
    ([], [], 600, {}),
    ([(100, 160)], [(160, 200)], 600, {}),  # touching
    ([(100, 160)], [(160, 200)], 600, {"tolerance_after": 0.0, "tolerance_before": 0.0}),  # touching, no tolerance
    ([(100, 160)], [(60, 75)], 600, {}),  # within the start tolerance
    ([(100, 160)], [(50, 69.9)], 600, {}),  # just outside the start tolerance
    ([(0, 40)], [(0, 10)], 600, {}),  # at the record start
    ([(560, 600)], [(590, 600)], 600, {}),  # at the record end
    ([(100, 1000)], [(120, 130)], 1200, {}),  # long reference split into 3
    ([(100, 200)], [(100, 1100)], 1200, {}),  # long hypothesis split: extra false positives
    ([(100, 150), (200, 250)], [(120, 130)], 600, {}),  # refs merged within 90 s
    ([(100, 150), (300, 350)], [(120, 130), (180, 190)], 600, {"min_gap": 0.0}),
    ([(100, 150)], [(100, 110), (150, 160)], 600, {"min_overlap": 0.5}),
    ([(100, 150)], [(100, 149)], 600, {"min_overlap": 0.5, "tolerance_before": 0.0, "tolerance_after": 0.0}),
    ([(100.04, 150.05)], [(150.05, 150.15)], 600.05, {"tolerance_after": 0.0}),  # sub-grid times
    ([(10, 20), (400, 420)], [(15, 18), (250, 260), (415, 700)], 900, {"max_event_duration": 100.0}),
]


def _random_cases(n, seed=0):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        duration = float(rng.integers(300, 3000)) + float(rng.choice([0.0, 0.05, 0.37]))

        def events():
            k = int(rng.integers(0, 6))
            pts = np.sort(rng.uniform(0, duration, 2 * k)).round(int(rng.choice([0, 1, 2])))
            return [(float(a), float(b)) for a, b in zip(pts[0::2], pts[1::2]) if b > a]

        params = {
            "tolerance_before": float(rng.choice([0.0, 30.0])),
            "tolerance_after": float(rng.choice([0.0, 60.0])),
            "min_overlap": float(rng.choice([0.0, 0.3])),
            "max_event_duration": float(rng.choice([300.0, 60.0])),
            "min_gap": float(rng.choice([90.0, 0.0, 10.0])),
        }
        cases.append((events(), events(), duration, params))
    return cases


@pytest.mark.parametrize("ref, hyp, duration, params", EDGE_CASES + _random_cases(40))
def test_szcore_agrees_with_timescoring(ref, hyp, duration, params):
    annotations = pytest.importorskip("timescoring.annotations")
    scoring = pytest.importorskip("timescoring.scoring")
    defaults = {"tolerance_before": 30.0, "tolerance_after": 60.0, "min_overlap": 0.0,
                "max_event_duration": 300.0, "min_gap": 90.0}
    p = {**defaults, **params}
    n = int(round(duration * 10))
    ts = scoring.EventScoring(
        annotations.Annotation(list(ref), 10, n),
        annotations.Annotation(list(hyp), 10, n),
        scoring.EventScoring.Parameters(
            toleranceStart=p["tolerance_before"], toleranceEnd=p["tolerance_after"], minOverlap=p["min_overlap"],
            maxEventDuration=p["max_event_duration"], minDurationBetweenEvents=p["min_gap"],
        ),
    )
    ours = score_szcore(ref, hyp, n / 10, **p)
    assert (ours["n_ref"], ours["tp"], ours["fp"]) == (ts.refTrue, ts.tp, ts.fp)
    for key, theirs in (("sensitivity", ts.sensitivity), ("precision", ts.precision), ("f1", ts.f1),
                        ("fp_per_24h", ts.fpRate)):
        assert ours[key] == pytest.approx(theirs, nan_ok=True)


def test_fa_curve_and_sensitivity_at_fa_targets():
    t = np.arange(1, 17281) * 5.0  # 24 h, one run
    meta = pd.DataFrame({"subject": "s1", "t_abs": t})
    ictal = ((t > 3000) & (t <= 3060)) | ((t > 50000) & (t <= 50100))
    prob = np.where(ictal, 0.95, 0.1)
    prob[np.isin(t, [10000.0, 20000.0, 30000.0])] = 0.9  # three strong false detections
    prob[np.isin(t, [40000.0, 60000.0])] = 0.7  # two weak ones
    ref = events_from_mask(ictal, meta)
    curve = fa_curve(prob, meta, ref, [0.65, 0.86, 0.97])
    assert curve["false_alarms"].tolist() == [5, 3, 0]
    assert curve["fa_per_24h"].tolist() == pytest.approx([5.0, 3.0, 0.0])
    assert curve["sensitivity"].tolist() == [1.0, 1.0, 0.0]
    table = sensitivity_at_fa(curve)
    assert table["fa_target"].tolist() == [10.0, 5.0, 2.5, 1.0]
    assert table["sensitivity"].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert table["tau_on"].tolist() == [0.86, 0.86, 0.97, 0.97]
