"""CHB-MIT summary parsing, RECORDS checks and the recording index, on the 24 real summaries."""

from __future__ import annotations

import logging
import re
import shutil

import edfio
import numpy as np
import pytest

from sklearn_eeg.data.chbmit import (
    UNKNOWN_GAP_S,
    SummaryFormatError,
    compare_records,
    find_subjects,
    load_index,
    parse_summary,
    read_records,
    read_seizure_annotations,
    read_summary,
    unsafe_path_reason,
)
from sklearn_eeg.data.edf import EEGDataError

SUBJECTS = [f"chb{i:02d}" for i in range(1, 25)]
REC_COLUMNS = ["subject", "recording", "path", "t_file_start", "duration", "t_file_end", "segment", "n_seizures"]
SZ_COLUMNS = ["subject", "recording", "seizure_id", "onset", "offset", "t_onset", "t_offset"]


def hms(text: str) -> int:
    h, m, s = (int(x) for x in text.split(":"))
    return h * 3600 + m * 60 + s


@pytest.fixture(scope="module")
def summaries_dir(shared_fixtures):
    return shared_fixtures / "chbmit" / "summaries"


@pytest.fixture(scope="module")
def layout(summaries_dir, tmp_path_factory):
    """PhysioNet layout made of the real summaries and RECORDS files, without EDFs."""
    root = tmp_path_factory.mktemp("chbmit")
    for subject in SUBJECTS:
        (root / subject).mkdir()
        shutil.copy(summaries_dir / f"{subject}-summary.txt", root / subject)
    for name in ("RECORDS", "RECORDS-WITH-SEIZURES"):
        shutil.copy(summaries_dir / name, root)
    return root


@pytest.fixture(scope="module")
def index(layout):
    return load_index(layout)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --------------------------------------------------------------------------- summaries
def test_all_real_summaries_parse(summaries_dir):
    infos = [read_summary(summaries_dir / f"{s}-summary.txt") for s in SUBJECTS]
    assert sum(info.n_seizures for info in infos) == 198
    assert sum(len(info.files) for info in infos) == 676
    assert {info.sfreq for info in infos} == {256.0}
    assert [info.subject for info in infos] == SUBJECTS
    for info in infos:
        for entry in info.files:
            assert entry.n_seizures_declared == len(entry.seizures)
            assert all(0 <= a < b for a, b in entry.seizures)
    files_with_seizures = sum(1 for info in infos for f in info.files if f.seizures)
    assert files_with_seizures == 141


def test_known_answers(summaries_dir):
    chb01 = parse_summary(summaries_dir / "chb01-summary.txt")
    assert len(chb01) == 42
    assert chb01["chb01_01.edf"] == []
    assert chb01["chb01_03.edf"] == [(2996.0, 3036.0)]  # "Seizure Start Time:" form
    chb06 = parse_summary(summaries_dir / "chb06-summary.txt")
    assert chb06["chb06_01.edf"] == [(1724.0, 1738.0), (7461.0, 7476.0), (13525.0, 13540.0)]
    # chb09_08 numbers its second seizure's end "Seizure 1 End Time"
    assert parse_summary(summaries_dir / "chb09-summary.txt")["chb09_08.edf"] == [(2951.0, 3030.0), (9196.0, 9267.0)]
    chb02 = parse_summary(summaries_dir / "chb02-summary.txt")
    assert chb02["chb02_16.edf"] == [(130.0, 212.0)]
    assert chb02["chb02_16+.edf"] == [(2972.0, 3053.0)]
    chb17 = parse_summary(summaries_dir / "chb17-summary.txt")
    assert "chb17a_03.edf" in chb17 and "chb17c_13.edf" in chb17


def test_clock_times_and_missing_times(summaries_dir):
    chb04 = {f.name: f for f in read_summary(summaries_dir / "chb04-summary.txt").files}
    assert chb04["chb04_02.edf"].start_clock == hms("22:02:15")
    assert chb04["chb04_02.edf"].end_clock == hms("26:02:15")  # past midnight written as 26 h
    chb24 = read_summary(summaries_dir / "chb24-summary.txt")
    assert len(chb24.files) == 12
    first = chb24.files[0]
    assert (first.name, first.start_clock, first.end_clock) == ("chb24_01.edf", None, None)
    assert first.seizures == [(480.0, 505.0), (2451.0, 2476.0)]


def test_channel_blocks_tracked(summaries_dir):
    files = {f.name: f for f in read_summary(summaries_dir / "chb12-summary.txt").files}
    assert files["chb12_06.edf"].channels[:2] == ("FP1-F7", "F7-T7")
    assert len(files["chb12_06.edf"].channels) == 28  # with 5 dummy "-" channels
    assert files["chb12_06.edf"].channels.count("-") == 5
    assert files["chb12_27.edf"].channels[:3] == ("F7-CS2", "T7-CS2", "P7-CS2")
    assert files["chb12_28.edf"].channels[:2] == ("F7", "T7")
    assert files["chb12_28.edf"].channels[8] == "01"  # as written in the summary
    chb01 = read_summary(summaries_dir / "chb01-summary.txt")
    assert {f.channels for f in chb01.files} == {chb01.files[0].channels}
    assert chb01.files[0].channels.count("T8-P8") == 2


def test_crlf_summary_parses_the_same(summaries_dir, tmp_path):
    text = (summaries_dir / "chb18-summary.txt").read_text()
    crlf = tmp_path / "chb18-summary.txt"
    crlf.write_bytes(text.replace("\n", "\r\n").encode())
    assert parse_summary(crlf) == parse_summary(summaries_dir / "chb18-summary.txt")


GOOD = """Data Sampling Rate: 256 Hz
*************************

Channels in EDF Files:
**********************
Channel 1: FP1-F7

File Name: chb99_01.edf
File Start Time: 23:00:00
File End Time: 24:00:00
Number of Seizures in File: 1
Seizure 1 Start Time: 100 seconds
Seizure 1 End Time: 130 seconds
"""


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (GOOD.replace("Number of Seizures in File: 1", "Number of Seizures in File: 2"), 11, "declares 2"),
        (GOOD.replace("Seizure 1 Start Time: 100 seconds", "Seizure begins at 100"), 12, "cannot parse"),
        (GOOD.replace("File Start Time: 23:00:00", "File Start Time: 23h00"), 9, "clock time"),
        (GOOD.replace("Seizure 1 Start Time: 100 seconds\n", ""), 12, "end without a start"),
        (GOOD.replace("Seizure 1 End Time: 130 seconds\n", ""), 12, "start without end"),
        (GOOD.replace("Data Sampling Rate: 256 Hz", "Sampling: fast"), 1, "unknown entry"),
        (GOOD + "\nFile Name: chb99_01.edf\nNumber of Seizures in File: 0\n", 15, "listed twice"),
    ],
)
def test_bad_summaries_name_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path / "chb99-summary.txt", text)
    with pytest.raises(SummaryFormatError, match=f"chb99-summary.txt, line {line}: .*{message}"):
        read_summary(path)
    assert issubclass(SummaryFormatError, EEGDataError)


def test_missing_summary_is_a_clear_error(tmp_path):
    with pytest.raises(EEGDataError, match="nope-summary.txt"):
        read_summary(tmp_path / "nope-summary.txt")


# --------------------------------------------------------------------------- .seizures files
def wfdb_seizures(pairs, sfreq=256):
    """Encode seizure (start, end) samples as a WFDB MIT annotation file, like PhysioNet's."""

    def word(code, increment=0):
        return ((code << 10) | increment).to_bytes(2, "little")

    def skip(n):
        n &= 0xFFFFFFFF
        return word(59) + (n >> 16).to_bytes(2, "little") + (n & 0xFFFF).to_bytes(2, "little")

    note = f"## time resolution: {sfreq}".encode()
    out = word(22) + word(63, len(note)) + note + b"\x00" * (len(note) % 2)
    last = 0
    for start, end in pairs:
        out += skip(start - last) + word(32) + skip(end - start) + word(33)
        last = end
    return out + word(0)


def test_real_annotation_files_match_summary(shared_fixtures, summaries_dir):
    chb01 = parse_summary(summaries_dir / "chb01-summary.txt")
    files = sorted((shared_fixtures / "chbmit" / "annotations").glob("*.seizures"))
    assert len(files) == 7
    for path in files:
        assert read_seizure_annotations(path) == chb01[path.name.removesuffix(".seizures")]
    assert read_seizure_annotations(files[0]) == [(2996.0, 3036.0)]


def test_annotation_encoding_round_trip_and_errors(tmp_path):
    path = tmp_path / "x.edf.seizures"
    path.write_bytes(wfdb_seizures([(256, 512), (300_000, 300_300)]))
    assert read_seizure_annotations(path) == [(1.0, 2.0), (300_000 / 256, 300_300 / 256)]
    assert read_seizure_annotations(path, sfreq=512) == [(0.5, 1.0), (300_000 / 512, 300_300 / 512)]
    path.write_bytes(wfdb_seizures([(256, 512)])[:-8])  # cut inside the last SKIP
    with pytest.raises(EEGDataError, match="x.edf.seizures"):
        read_seizure_annotations(path)


# --------------------------------------------------------------------------- RECORDS
def test_read_records(layout, tmp_path):
    records = read_records(layout)
    assert len(records["records"]) == 686
    assert len(records["records_with_seizures"]) == 141
    assert records["records"][0] == "chb01/chb01_01.edf"
    assert read_records(tmp_path) == {"records": None, "records_with_seizures": None}


def test_records_disagree_with_summaries_once(layout):
    infos = [read_summary(layout / s / f"{s}-summary.txt") for s in SUBJECTS]
    mismatch = compare_records(read_records(layout), infos)
    # RECORDS-WITH-SEIZURES names chb07_18 while the summary puts the seizure in chb07_19
    assert mismatch.seizures_not_in_summaries == ["chb07/chb07_18.edf"]
    assert mismatch.summary_seizures_not_listed == ["chb07/chb07_19.edf"]
    assert not mismatch.seizure_lists_agree
    # chb24's summary names only its 12 files with seizures
    assert len(mismatch.listed_not_in_summaries) == 10
    assert all(p.startswith("chb24/") for p in mismatch.listed_not_in_summaries)
    assert mismatch.in_summaries_not_listed == []
    # a partial download (one subject) is not flagged for the others
    only01 = compare_records(read_records(layout), infos[:1])
    assert only01.listed_not_in_summaries == [] and only01.seizure_lists_agree


# --------------------------------------------------------------------------- index
def test_index_shape_and_columns(index, layout):
    recordings, seizures = index
    assert list(recordings.columns) == REC_COLUMNS
    assert list(seizures.columns) == SZ_COLUMNS
    assert len(recordings) == 676 and len(seizures) == 198
    assert recordings["n_seizures"].sum() == 198
    assert sorted(recordings["subject"].unique()) == SUBJECTS
    assert recordings.loc[0, "path"] == str((layout / "chb01" / "chb01_01.edf").resolve())
    assert (recordings.groupby("subject")["t_file_start"].min() == 0).all()
    known = recordings["duration"].notna()
    assert known.sum() == 676 - 12  # chb24's 12 files have no clock times and no EDF here
    assert (recordings["t_file_end"] == recordings["t_file_start"] + recordings["duration"])[known].all()
    for _, group in recordings.groupby("subject"):
        assert group["t_file_start"].is_monotonic_increasing
        gaps = group["t_file_start"].to_numpy()[1:] - group["t_file_end"].to_numpy()[:-1]
        assert np.all(gaps[~np.isnan(gaps)] >= 0)  # no file overlaps another


def test_index_known_times(index):
    recordings, seizures = index
    rec = recordings.set_index("recording")
    assert rec.loc["chb01_03", "t_file_start"] == hms("13:43:04") - hms("11:42:54")
    assert rec.loc["chb01_03", "duration"] == 3600.0
    # chb01_14 starts after midnight: a day is added
    assert rec.loc["chb01_14", "t_file_start"] == 86400 + hms("00:44:37") - hms("11:42:54")
    # chb04_02 runs 22:02:15 -> 26:02:15; chb04_03 starts at 02:02:23 the next day
    assert rec.loc["chb04_02", "duration"] == 4 * 3600
    assert rec.loc["chb04_03", "t_file_start"] - rec.loc["chb04_02", "t_file_start"] == 4 * 3600 + 8
    sz = seizures.set_index("seizure_id")
    assert sz.loc["chb01_s01", "recording"] == "chb01_03"
    assert sz.loc["chb01_s01", "t_onset"] == rec.loc["chb01_03", "t_file_start"] + 2996
    assert sz.loc["chb01_s01", "t_offset"] - sz.loc["chb01_s01", "t_onset"] == 40
    assert list(seizures[seizures.subject == "chb01"]["seizure_id"]) == [f"chb01_s{k:02d}" for k in range(1, 8)]
    for _, group in seizures.groupby("subject"):
        assert group["t_onset"].is_monotonic_increasing


def test_index_segments(index):
    recordings, _ = index
    chb24 = recordings[recordings.subject == "chb24"]
    assert list(chb24["segment"]) == list(range(12))
    assert chb24["duration"].isna().all()  # no clock times and no EDF here
    assert np.allclose(np.diff(chb24["t_file_start"]), UNKNOWN_GAP_S)
    segments = recordings.groupby("subject")["segment"].max()
    # chb10_89 and chb18_36 start before the previous file ends (clock errors): new segments
    assert segments["chb10"] == 1 and segments["chb18"] == 1
    assert (segments.drop(["chb10", "chb18", "chb24"]) == 0).all()


def test_index_subset_and_errors(layout, tmp_path):
    recordings, seizures = load_index(layout, subjects=["chb02", "chb05"])
    assert sorted(recordings["subject"].unique()) == ["chb02", "chb05"]
    assert len(seizures) == 3 + 5
    assert find_subjects(layout) == SUBJECTS
    with pytest.raises(EEGDataError, match="chb42"):
        load_index(layout, subjects=["chb42"])
    with pytest.raises(EEGDataError, match="not a directory"):
        load_index(tmp_path / "absent")
    empty_rec, empty_sz = load_index(tmp_path)
    assert empty_rec.empty and empty_sz.empty and list(empty_sz.columns) == SZ_COLUMNS


def test_index_uses_edf_headers_and_rolls_over_midnight(tmp_path, caplog):
    summary = """Data Sampling Rate: 256 Hz

File Name: chb99_01.edf
File Start Time: 23:59:50
File End Time: 00:00:10
Number of Seizures in File: 0

File Name: chb99_02.edf
File Start Time: 00:00:12
File End Time: 00:00:22
Number of Seizures in File: 1
Seizure Start Time: 2 seconds
Seizure End Time: 5 seconds

File Name: chb99_03.edf
Number of Seizures in File: 0

File Name: chb99_04.edf
File Start Time: 01:00:00
File End Time: 01:00:10
Number of Seizures in File: 0
"""
    write(tmp_path / "chb99" / "chb99-summary.txt", summary)
    signal = edfio.EdfSignal(np.zeros(8 * 256), 256, label="FP1-F7", physical_range=(-800, 800))
    edfio.Edf([signal]).write(tmp_path / "chb99" / "chb99_02.edf")  # 8 s, not the 10 s of the clock
    with caplog.at_level(logging.INFO, logger="sklearn_eeg.data.chbmit"):
        recordings, seizures = load_index(tmp_path)
    assert "chb99_03.edf has no clock times" in caplog.text
    assert list(recordings["t_file_start"]) == [0.0, 22.0, 22.0 + 8 + UNKNOWN_GAP_S, 22.0 + 8 + 2 * UNKNOWN_GAP_S]
    assert list(recordings["duration"][:2]) == [20.0, 8.0]  # clock (crossing midnight), then EDF header
    assert np.isnan(recordings["duration"][2])
    assert list(recordings["segment"]) == [0, 0, 1, 2]
    assert seizures.loc[0, "t_onset"] == 24.0 and seizures.loc[0, "seizure_id"] == "chb99_s01"
    # an unreadable EDF falls back to the clock times, with a warning naming it
    (tmp_path / "chb99" / "chb99_01.edf").write_bytes(b"not an edf")
    with caplog.at_level(logging.WARNING, logger="sklearn_eeg.data.chbmit"):
        recordings, _ = load_index(tmp_path)
    assert recordings.loc[0, "duration"] == 20.0 and "chb99_01.edf" in caplog.text


# --------------------------------------------------------------------------- paths from file content (issue #13)
@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../../x.edf", "'..' component"),
        ("/etc/x.edf", "absolute path"),
        ("sub/chb99_01.edf", "a '/'"),
        ("..\\..\\x.edf", "backslash"),
        ("C:x.edf", "drive letter"),
        (".hidden.edf", "leading '.'"),
        ("..", "'..' component"),
        ("chb99_01.txt", "no .edf extension"),
    ],
)
def test_summary_file_name_must_be_a_plain_edf_name(tmp_path, name, reason):
    path = write(tmp_path / "data" / "chb99" / "chb99-summary.txt", GOOD.replace("chb99_01.edf", name))
    before = sorted(tmp_path.rglob("*"))
    pattern = (
        rf"chb99-summary\.txt, line 8: file name {re.escape(repr(name))} is not a plain EDF file name "
        rf"\(.*{re.escape(reason)}"
    )
    with pytest.raises(SummaryFormatError, match=pattern):
        read_summary(path)
    with pytest.raises(SummaryFormatError, match=pattern):  # the index (and so the cache) never sees the name
        load_index(tmp_path / "data")
    assert sorted(tmp_path.rglob("*")) == before


def test_summary_traversal_does_not_read_outside_the_root(tmp_path):
    """``File Name: ../../x.edf`` used to index (and read the header of) a file outside the data root."""
    root = tmp_path / "root" / "data"
    write(root / "chb99" / "chb99-summary.txt", GOOD.replace("chb99_01.edf", "../../x.edf"))
    (tmp_path / "root" / "x.edf").write_bytes(b"0" * 256)
    with pytest.raises(SummaryFormatError, match=r"chb99-summary\.txt, line 8: file name '\.\./\.\./x\.edf'"):
        load_index(root)
    mixed = GOOD.replace("File Name: chb99_01.edf", "File name:   /etc/x.EDF  ")
    with pytest.raises(SummaryFormatError, match=r"line 8: file name '/etc/x\.EDF' .*absolute path"):
        read_summary(write(tmp_path / "chb99-summary.txt", mixed))


def test_real_file_names_and_lists_are_plain(summaries_dir):
    """Every real summary File Name, RECORDS and SHA256SUMS.txt entry passes the path checks."""
    from sklearn_eeg.data.download import read_checksums

    names = [f.name for s in SUBJECTS for f in read_summary(summaries_dir / f"{s}-summary.txt").files]
    assert len(names) == 676 and all(n.lower().endswith(".edf") and "/" not in n for n in names)
    records = read_records(summaries_dir)
    assert len(records["records"]) == 686 and len(records["records_with_seizures"]) == 141
    sums = read_checksums(summaries_dir / "SHA256SUMS.txt")
    assert len(sums) == 856 and all(unsafe_path_reason(rel) is None for rel in sums)


@pytest.mark.parametrize(
    ("listing", "entry", "reason"),
    [
        ("RECORDS", "chb01/../../escaped/evil.edf", "'..' component"),
        ("RECORDS", "/etc/chb01_01.edf", "absolute path"),
        ("RECORDS-WITH-SEIZURES", "chb01/./chb01_03.edf", "'.' component"),
    ],
)
def test_read_records_refuses_unsafe_entries(tmp_path, listing, entry, reason):
    write(tmp_path / "RECORDS", "chb01/chb01_01.edf\n")
    write(tmp_path / "RECORDS-WITH-SEIZURES", "chb01/chb01_01.edf\n")
    (tmp_path / listing).write_text(f"chb01/chb01_01.edf\n\n{entry}\n")
    with pytest.raises(EEGDataError, match=rf"{listing}, line 3: unsafe path {re.escape(repr(entry))} \(.*{reason}"):
        read_records(tmp_path)


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("chb01/chb01_03.edf", None),
        ("chb01/chb01_03.edf.seizures", None),
        ("RECORDS", None),
        ("", "an empty path"),
        ("/abs.edf", "an absolute path"),
        ("a\\b.edf", "a backslash"),
        ("c:/x.edf", "a ':' (drive letter or URL scheme)"),
        ("http://evil/x.edf", "a ':' (drive letter or URL scheme)"),
        ("//host/x.edf", "an absolute path"),
        ("a/\x00.edf", "a control character"),
        ("a/\nb.edf", "a control character"),
        ("a/../b.edf", "a '..' component"),
        ("..", "a '..' component"),
        ("./a.edf", "a '.' component"),
        ("a//b.edf", "an empty component"),
        ("a/", "an empty component"),
    ],
)
def test_unsafe_path_reason(entry, reason):
    assert unsafe_path_reason(entry) == reason
