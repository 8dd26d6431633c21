"""ECG reading (issue #16): WFDB and EDF records into (n_leads, n_times) mV arrays, the label table,
and one-line errors naming the file and the field."""

from __future__ import annotations

import numpy as np
import pytest
import wfdb

from sklearn_eeg.data.edf_writer import write_edf
from sklearn_eeg.ecg.labels import read_label_table
from sklearn_eeg.ecg.records import ECG_LEADS, ECGDataError, find_record, read_ecg_record


def sines(n_leads: int, n_times: int, sfreq: float) -> np.ndarray:
    """Lead ``i`` is a (i + 1) Hz sine of amplitude (i + 1) / 4 mV: slow enough to survive resampling."""
    t = np.arange(n_times) / sfreq
    return np.stack([(i + 1) / 4 * np.sin(2 * np.pi * (i + 1) * t) for i in range(n_leads)])


def write_wfdb(folder, name, data_mv, sfreq, names, units="mV"):
    scale = {"mV": 1.0, "uV": 1000.0}[units]
    wfdb.wrsamp(name, fs=sfreq, units=[units] * len(names), sig_name=list(names), p_signal=(data_mv * scale).T,
                fmt=["16"] * len(names), write_dir=str(folder))
    return folder / f"{name}.hea"


def test_wfdb_record_in_millivolts_leads_by_name_and_resampled(tmp_path):
    data = sines(8, 2000, 200.0)
    shuffled = [ECG_LEADS[i] for i in (7, 6, 5, 4, 3, 2, 1, 0)]
    path = write_wfdb(tmp_path, "r1", data[::-1], 200.0, [n.lower() for n in shuffled], units="uV")
    x = read_ecg_record(path, ECG_LEADS, sfreq=100.0, n_times=1000)
    assert x.shape == (8, 1000) and x.dtype == np.float32
    expected = sines(8, 1000, 100.0)
    inner = slice(50, 950)  # resample_poly edges
    np.testing.assert_allclose(x[:, inner], expected[:, inner], atol=0.01)


def test_longer_records_are_cut_and_shorter_ones_refused(tmp_path):
    path = write_wfdb(tmp_path, "r1", sines(2, 1200, 100.0), 100.0, ["I", "II"])
    assert read_ecg_record(path, ["I", "II"], n_times=1000).shape == (2, 1000)
    with pytest.raises(ECGDataError, match=r"r1\.hea: 12 s at 100 Hz is shorter than the 15 s"):
        read_ecg_record(path, ["I", "II"], n_times=1500)


def test_edf_record_reads_through_the_project_reader(tmp_path):
    data = sines(3, 1000, 100.0)
    path = write_edf(tmp_path / "r1.edf", data * 1000.0, 100.0, ["V1", "I", "II"], physical_min=-3000, physical_max=3000)
    x = read_ecg_record(path, ["I", "II", "V1"], sfreq=100.0, n_times=1000)
    np.testing.assert_allclose(x, data[[1, 2, 0]], atol=0.002)  # 12-bit steps of 6000/4095 µV
    assert find_record(tmp_path, "r1") == path


def test_wfdb_is_preferred_and_missing_records_are_named(tmp_path):
    path = write_wfdb(tmp_path, "r1", sines(2, 1000, 100.0), 100.0, ["I", "II"])
    assert find_record(tmp_path, "r1") == path
    with pytest.raises(ECGDataError, match=r"record 'sub/r9' listed in the label table is missing: no .*sub/r9\.hea"):
        find_record(tmp_path, "sub/r9")


def test_missing_lead_and_disagreeing_header_name_the_file(tmp_path):
    path = write_wfdb(tmp_path, "r1", sines(2, 1000, 100.0), 100.0, ["I", "II"])
    with pytest.raises(ECGDataError, match=r"r1\.hea: leads \['V1'\] not in the file"):
        read_ecg_record(path, ["I", "V1"])
    dat = tmp_path / "r1.dat"
    dat.write_bytes(dat.read_bytes()[:101])  # the header promises 1000 samples
    with pytest.raises(ECGDataError, match=r"r1\.hea: unreadable WFDB record, its header is malformed or disagrees with its data file"):
        read_ecg_record(path, ["I", "II"])
    (tmp_path / "bad.hea").write_text("this is not a header\n")
    with pytest.raises(ECGDataError, match=r"bad\.hea: unreadable WFDB record"):
        read_ecg_record(tmp_path / "bad.hea", ["I"])


def write_csv(tmp_path, text):
    path = tmp_path / "labels.csv"
    path.write_text(text)
    return path


def test_label_table_keeps_covariates(tmp_path):
    table = read_label_table(write_csv(tmp_path, "record,patient,label,age,sex\nr1,7,0,61,F\nr2,7,1,61,F\n"))
    assert table.to_dict("list") == {"record": ["r1", "r2"], "patient": ["7", "7"], "label": [0, 1],
                                     "age": [61, 61], "sex": ["F", "F"]}


@pytest.mark.parametrize(
    "text, message",
    [
        ("record,label\nr1,0\n", r"missing column\(s\) \['patient'\]"),
        ("record,patient,label\nr1,p1,2\n", r"column 'label' must be 0 or 1; line 2 has '2'"),
        ("record,patient,label\nr1,p1,yes\n", r"column 'label' must be 0 or 1; line 2 has 'yes'"),
        ("record,patient,label\nr1,p1,0\nr1,p2,1\n", r"record 'r1' is listed twice"),
        ("record,patient,label\nr1,,0\n", r"column 'patient' is empty on line 2"),
        ("record,patient,label\n", r"no rows"),
    ],
)
def test_label_table_errors_name_the_file_and_the_field(tmp_path, text, message):
    with pytest.raises(ECGDataError, match=r"labels\.csv: " + message):
        read_label_table(write_csv(tmp_path, text))


def test_missing_label_table(tmp_path):
    with pytest.raises(ECGDataError, match=r"nope\.csv: label table not found"):
        read_label_table(tmp_path / "nope.csv")
