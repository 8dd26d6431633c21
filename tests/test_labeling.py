"""Known-answer tests for the seizure-occurrence-period labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sklearn_eeg.data.labeling import STATES, label_windows, lead_seizures, window_starts


def make_index(files, seizures, subject="s"):
    """files: list of (start, duration[, segment]); seizures: list of (file_index, onset, offset) in file time."""
    recs = pd.DataFrame({
        "subject": subject,
        "recording": [f"{subject}_{i:02d}" for i in range(len(files))],
        "t_file_start": [float(f[0]) for f in files],
        "duration": [float(f[1]) for f in files],
        "segment": [f[2] if len(f) > 2 else 0 for f in files],
    })
    sz = pd.DataFrame({
        "subject": subject,
        "recording": [recs["recording"][i] for i, _, _ in seizures],
        "seizure_id": [f"{subject}_s{k + 1:02d}" for k in range(len(seizures))],
        "onset": [float(on) for _, on, _ in seizures],
        "offset": [float(off) for _, _, off in seizures],
    })
    starts = recs["t_file_start"].to_numpy()[[i for i, _, _ in seizures]] if seizures else []
    sz["t_onset"] = sz["onset"] + starts
    sz["t_offset"] = sz["offset"] + starts
    return recs, sz


def test_window_starts_counts_and_times():
    rec, t = window_starts(np.array([30.0, 9.0, np.nan, 10.0]), 10.0, 5.0)
    np.testing.assert_array_equal(rec, [0, 0, 0, 0, 0, 3])
    np.testing.assert_array_equal(t, [0, 5, 10, 15, 20, 0])


def test_no_seizure_all_interictal():
    recs, sz = make_index([(0, 3600)], [])
    table = label_windows(recs, sz)
    assert len(table) == 719
    assert (table["state"] == "interictal").all() and (table["label"] == 0).all()
    assert table["tte"].isna().all() and (table["y_soft"] == 0).all()
    assert list(table.columns) == ["subject", "recording", "t_start", "t_abs", "state", "label", "tte",
                                   "y_soft", "seizure_id", "lead_seizure", "ictal"]


def test_exact_counts_single_seizure():
    recs, sz = make_index([(0, 7200)], [(0, 3600, 3660)])
    table = label_windows(recs, sz)
    te = table["t_abs"].to_numpy()
    ts = te - 10
    # preictal: window end in [3000, 3570]
    assert (table["state"] == "preictal").sum() == np.sum((te >= 3000) & (te <= 3570)) == 115
    # ictal: overlap (3600, 3660)
    assert (table["state"] == "ictal").sum() == np.sum((ts < 3660) & (te > 3600)) == 13
    assert (table["state"] == "postictal").sum() == np.sum((ts >= 3660) & (ts < 4260)) == 120
    interictal = (te <= 3600 - 1800) | (ts >= 3660 + 1800)
    assert (table["state"] == "interictal").sum() == interictal.sum()
    assert (table["label"] == 1).sum() == 115 and (table["label"] == 0).sum() == interictal.sum()
    excluded = table["state"] == "excluded"
    assert excluded.sum() == len(table) - 115 - 13 - 120 - interictal.sum()
    # the SPH gap is excluded
    assert set(table.loc[(te > 3570) & (te <= 3600), "state"]) == {"excluded"}
    pre = table[table["state"] == "preictal"]
    assert (pre["seizure_id"] == "s_s01").all()
    np.testing.assert_allclose(pre["tte"], 3600 - pre["t_abs"])
    np.testing.assert_allclose(pre["y_soft"], np.exp(-(3600 - pre["t_abs"]) / 300.0))
    assert (table.loc[table["state"] != "preictal", "seizure_id"] == "").all()
    assert table["ictal"].sum() == 13
    assert table.loc[te > 3600, "tte"].isna().all()


def test_preictal_in_previous_file():
    # seizure 2 min into file 1; file 0 contiguous before it
    recs, sz = make_index([(0, 3600), (3600, 3600)], [(1, 120, 160)])
    table = label_windows(recs, sz)
    pre = table[table["state"] == "preictal"]
    # window end in [3120, 3690]: file 0 windows end 3120..3600 (97), file 1 ends 3610..3690 (17)
    assert (pre["recording"] == "s_00").sum() == 97
    assert (pre["recording"] == "s_01").sum() == 17
    assert (pre["seizure_id"] == "s_s01").all()


def test_two_seizures_twenty_minutes_apart():
    recs, sz = make_index([(0, 3 * 3600)], [(0, 3600, 3660), (0, 4860, 4900)])
    assert lead_seizures(sz, recs).tolist() == [True, False]
    table = label_windows(recs, sz)
    te = table["t_abs"]
    between = table[(te - 10 >= 3660) & (te <= 4860)]
    assert not between["state"].isin(["interictal", "preictal"]).any()
    assert set(table.loc[table["state"] == "preictal", "seizure_id"]) == {"s_s01"}
    assert (table["state"] == "preictal").sum() == 115
    # lowering the gap makes the second seizure a lead seizure with its own (non-postictal) preictal windows
    table2 = label_windows(recs, sz, lead_seizure_gap=600)
    pre2 = table2[table2["seizure_id"] == "s_s02"]
    assert len(pre2) > 0 and (pre2["t_abs"] - 10 >= 3660 + 600).all()


def test_seizure_at_end_of_file():
    recs, sz = make_index([(0, 3600), (3600, 3600)], [(0, 3580, 3600)])
    table = label_windows(recs, sz)
    assert (table["state"] == "preictal").sum() == 115
    # postictal continues in the next contiguous file: window starts in [3600, 4200)
    nxt = table[table["recording"] == "s_01"]
    assert (nxt["state"] == "postictal").sum() == 120  # starts 3600, 3605, ..., 4195
    assert set(nxt.loc[nxt["t_start"] < 600, "state"]) == {"postictal"}
    assert (table.loc[table["recording"] == "s_00", "state"] == "ictal").sum() == 4  # ends 3585 ... 3600


def test_gap_between_files():
    # file 0 ends at 3600, 25 min gap, file 1 starts at 5100, seizure 3 min into file 1 (t=5280)
    recs, sz = make_index([(0, 3600), (5100, 3600)], [(1, 180, 220)])
    table = label_windows(recs, sz)
    te = table["t_abs"]
    # no window in the gap
    assert not ((te > 3600) & (te - 10 < 5100)).any()
    pre = table[table["state"] == "preictal"]
    # SOP [4680, 5250] lies in the gap except window ends 5110..5250 in file 1 (29 windows)
    assert (pre["recording"] == "s_01").all() and len(pre) == 29
    # file 0 windows within 30 min of onset (end > 3480) are excluded, earlier ones interictal
    f0 = table[table["recording"] == "s_00"]
    assert set(f0.loc[f0["t_abs"] > 5280 - 1800, "state"]) == {"excluded"}
    assert set(f0.loc[f0["t_abs"] <= 5280 - 1800, "state"]) == {"interictal"}


def test_separate_segments_do_not_share_labels():
    # same timeline times on purpose: segment 1 would be preictal if segments were ignored
    recs, sz = make_index([(0, 3600, 0), (3600, 3600, 1)], [(1, 120, 160)])
    table = label_windows(recs, sz)
    assert set(table.loc[table["recording"] == "s_00", "state"]) == {"interictal"}
    assert table.loc[table["recording"] == "s_00", "tte"].isna().all()
    assert (table.loc[table["recording"] == "s_01", "state"] == "preictal").sum() == 17


def test_subjects_are_independent():
    r1, s1 = make_index([(0, 3600)], [(0, 1800, 1830)], subject="a")
    r2, s2 = make_index([(0, 3600)], [], subject="b")
    table = label_windows(pd.concat([r1, r2], ignore_index=True), pd.concat([s1, s2], ignore_index=True))
    assert (table.loc[table["subject"] == "b", "state"] == "interictal").all()
    assert (table.loc[table["subject"] == "a", "state"] == "preictal").sum() == 115


def test_states_and_labels_consistent():
    recs, sz = make_index([(0, 7200), (9000, 3600)], [(0, 2000, 2100), (0, 2500, 2520), (1, 300, 330)])
    table = label_windows(recs, sz, window=4.0, stride=2.0)
    assert set(table["state"]) <= set(STATES)
    assert ((table["label"] == 1) == (table["state"] == "preictal")).all()
    assert ((table["label"] == 0) == (table["state"] == "interictal")).all()
    assert ((table["label"] == -1) == ~table["state"].isin(["preictal", "interictal"])).all()
    assert (table["ictal"] == (table["state"] == "ictal")).all()


@pytest.mark.parametrize("bad", [dict(sph=700.0), dict(tau=0.0), dict(window=0.0), dict(postictal=-1.0)])
def test_bad_parameters_raise(bad):
    recs, sz = make_index([(0, 3600)], [])
    with pytest.raises(ValueError):
        label_windows(recs, sz, **bad)


def test_unknown_recording_or_missing_column_raises():
    recs, sz = make_index([(0, 3600)], [(0, 100, 120)])
    with pytest.raises(ValueError, match="s_s01"):
        label_windows(recs, sz.assign(recording="nope"))
    with pytest.raises(ValueError, match="segment"):
        label_windows(recs.drop(columns="segment"), sz)


def test_real_chbmit_summaries(shared_fixtures, tmp_path):
    """All 24 real CHB-MIT summaries: vectorized labeling of ~690k windows with known answers."""
    from sklearn_eeg.data import load_index

    for summary in sorted((shared_fixtures / "chbmit" / "summaries").glob("chb*-summary.txt")):
        subject = summary.name.split("-")[0]
        (tmp_path / subject).mkdir()
        (tmp_path / subject / summary.name).write_bytes(summary.read_bytes())
    recordings, seizures = load_index(tmp_path)
    table = label_windows(recordings, seizures)
    lead = lead_seizures(seizures, recordings)
    assert len(seizures) == 198 and len(table) > 600_000
    # chb01_03: seizure at 2996-3036 s from file start, its whole SOP inside the file
    chb01_03 = table[(table["recording"] == "chb01_03") & (table["state"] == "preictal")]
    # window ends 2400, 2405, ..., 2965 s (multiples of 5 in [2396, 2966])
    assert len(chb01_03) == 114 and set(chb01_03["seizure_id"]) == {"chb01_s01"}
    # every preictal window points to a lead seizure, at most 115 windows each
    per_seizure = table.loc[table["label"] == 1, "seizure_id"].value_counts()
    assert set(per_seizure.index) <= set(seizures.loc[lead, "seizure_id"])
    assert per_seizure.max() <= 115
    assert table.loc[table["ictal"], "recording"].isin(seizures["recording"]).all()
