"""The synthetic ECG cohort and the on-disk signal store (issue #16)."""

from __future__ import annotations

import numpy as np
import pytest

from sklearn_eeg.ecg.labels import read_label_table
from sklearn_eeg.ecg.records import ECG_LEADS, ECGDataError, read_ecg_record
from sklearn_eeg.ecg.store import RecordDataset, build_signal_store
from sklearn_eeg.ecg.synthetic import make_ecg_cohort


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory):
    """The same 8 patients with a planted effect, again (same seed), and without the effect."""
    base = tmp_path_factory.mktemp("cohorts")
    kwargs = dict(n_patients=8, max_records=3, seed=5, progress=False)
    return {name: (base / name, make_ecg_cohort(base / name, effect=effect, **kwargs))
            for name, effect in (("planted", 1.0), ("again", 1.0), ("null", 0.0))}


def signals(root, table):
    return np.stack([read_ecg_record(root / f"{r}.hea") for r in table["record"]])


def test_cohort_is_real_wfdb_with_a_label_table_and_several_records_per_patient(cohorts):
    root, table = cohorts["planted"]
    assert read_label_table(root / "labels.csv").equals(table)
    assert list(table.columns) == ["record", "patient", "label", "age", "sex"]
    per_patient = table.groupby("patient").agg(n=("record", "size"), labels=("label", "nunique"))
    assert per_patient["n"].max() > 1 and (per_patient["labels"] == 1).all()
    x = read_ecg_record(root / f"{table['record'][0]}.hea", ECG_LEADS)
    assert x.shape == (8, 1000) and 0.3 < np.abs(x).max() < 5.0  # millivolts


def test_cohort_is_deterministic_and_the_effect_touches_positive_patients_only(cohorts):
    (root, table), (root2, table2), (root0, table0) = cohorts["planted"], cohorts["again"], cohorts["null"]
    assert table.equals(table2) and table.equals(table0)
    planted, null = signals(root, table), signals(root0, table0)
    np.testing.assert_array_equal(planted, signals(root2, table2))
    negative = table["label"].to_numpy() == 0
    assert negative.any() and (~negative).any()
    np.testing.assert_array_equal(planted[negative], null[negative])
    assert not np.allclose(planted[~negative], null[~negative])


def test_store_is_written_once_and_read_lazily(cohorts, tmp_path):
    root, table = cohorts["planted"]
    store = build_signal_store(table, root, tmp_path, leads=ECG_LEADS, sfreq=100.0, n_times=1000, progress=False)
    stamp = store.stat().st_mtime_ns
    assert build_signal_store(table, root, tmp_path, leads=ECG_LEADS, sfreq=100.0, n_times=1000, progress=False) == store
    assert store.stat().st_mtime_ns == stamp
    assert isinstance(np.load(store, mmap_mode="r"), np.memmap)
    dataset = RecordDataset(store, [2, 0], y=table["label"].to_numpy()[[2, 0]])
    assert dataset._map is None  # nothing read before indexing
    x, y = dataset[0]
    np.testing.assert_array_equal(x, read_ecg_record(root / f"{table['record'][2]}.hea"))
    assert float(y) == table["label"][2]


def test_store_refuses_a_listed_record_that_is_absent(cohorts, tmp_path):
    root, table = cohorts["planted"]
    table = table.copy()
    table.loc[1, "record"] = "records/absent"
    with pytest.raises(ECGDataError, match=r"record 'records/absent' listed in the label table is missing"):
        build_signal_store(table, root, tmp_path, leads=ECG_LEADS, sfreq=100.0, n_times=1000, progress=False)
    assert not list(tmp_path.iterdir())
