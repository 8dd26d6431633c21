"""Scale benchmark: projection arithmetic, peak-RSS reading and the script end to end (slow)."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

from sklearn_eeg.experiments.scaling import CHBMIT_HOURS, peak_rss_mib, project

REPO = Path(__file__).resolve().parents[1]


def test_projection_is_linear_in_hours_from_the_two_largest_sizes():
    assert project([12, 48], [100.0, 400.0]) == pytest.approx(400 + 300 / 36 * (CHBMIT_HOURS - 48))
    assert project([48, 12], [400.0, 100.0]) == pytest.approx(project([12, 48], [100.0, 400.0]))  # any order
    assert project([12, 48], [500.0, 500.0]) == 500.0  # flat stays flat
    assert project([3, 12, 48], [1.0, 100.0, 400.0], target_hours=84) == pytest.approx(700.0)


def test_peak_rss_grows_with_an_allocation():
    before = peak_rss_mib()
    block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
    assert peak_rss_mib() >= before and peak_rss_mib() > 60 and block.sum() > 0


@pytest.mark.slow
def test_bench_scale_script_prints_flat_memory_and_a_projection(capsys):
    main = runpy.run_path(str(REPO / "pipelines" / "bench_scale.py"))["main"]
    assert main(["--hours", "3", "6", "--subjects", "3"]) == 0
    out = capsys.readouterr().out
    assert "projected to CHB-MIT (980 h" in out and "peak RSS ratio 2x data" in out
    ratio = float(out.split("cache ")[-1].split("x")[0])
    assert ratio < 1.3  # the cache step's memory does not grow with the data
    with pytest.raises(SystemExit):
        main(["--hours", "6", "3"])
