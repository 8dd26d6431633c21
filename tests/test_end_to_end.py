"""End to end on tiny EDF datasets (issue #6): the default suite runs the whole chain.

EDF files -> window table -> features -> logistic baseline -> risk -> alarms -> seizure-level chance
and significance, with the packaged ``default`` config (``n_val_subjects: 2``, clipped to 1 on 3
subjects). The strong dataset's leave-one-subject-out run goes through ``pipelines/loso.py``.

Data, generated once per module into a temporary cache (about 7.5 h of EEG each):

* ``tiny_shared``: 3 subjects x 2.5 h x 2 seizures, strong preictal effect with a dominant shared
  20-40 Hz part, so a model fit on one subject transfers to another;
* its null counterpart: the same EEG with ``preictal_effect=0``.

Criteria, fixed before running: at the most lenient FAH target of the config (1.0/h) the pooled
seizure-level p-value (Poisson-binomial, :func:`sklearn_eeg.experiments.benchmark.summarize_results`) is below
0.05 and the pooled IoC is positive on the strong dataset; on the null dataset no FAH target reaches
p < 0.05. With the chance probability of 1 - exp(-1.0 h^-1 x 10 min) = 0.15 per seizure, LOSO's 6
test seizures reach p < 0.05 with 4 predicted, and the patient-specific benchmark's 3 test
seizures (one per subject: each subject's first seizure only trains) only with all 3.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sklearn_eeg.experiments.benchmark import loso_from_config, within_subject_from_config
from sklearn_eeg.experiments.config import find_config, load_config
from sklearn_eeg.data.synthetic import PRESETS, make_chbmit_like

REPO = Path(__file__).resolve().parents[1]
FAH_TARGET = 1.0
ALPHA = 0.05


def _loso_script(config: Path, out_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``python pipelines/loso.py --preset tiny_shared``; returns its results and summary tables."""
    main = runpy.run_path(str(REPO / "pipelines" / "loso.py"))["main"]
    args = ["--config", str(config), "--preset", "tiny_shared", "--out_dir", str(out_dir), "--quiet", "--no_figures"]
    with pytest.warns(UserWarning, match="using n_val_subjects=1"):
        assert main(args) == 0
    tables = out_dir / "tables"
    return pd.read_csv(tables / "loso_results.csv"), pd.read_csv(tables / "loso_summary.csv")


def _within_subject(cfg) -> tuple[pd.DataFrame, pd.DataFrame]:
    # 2 lead seizures per subject: thresholds on the training block (earlier data), not the previous block
    return within_subject_from_config(cfg, threshold_on="train", progress=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """LOSO and patient-specific results on ``tiny_shared`` and on its null counterpart."""
    cache, out = tmp_path_factory.mktemp("cache"), tmp_path_factory.mktemp("reports")
    settings = yaml.safe_load(find_config("default").read_text())
    assert settings["split"]["n_val_subjects"] == 2
    settings["data"]["cache_dir"], settings["n_jobs"] = str(cache), 1
    config = out / "default.yaml"
    config.write_text(yaml.safe_dump(settings))
    null_root = make_chbmit_like(
        cache / "null_shared", progress=False, **{**PRESETS["tiny_shared"], "preictal_effect": 0.0}
    )
    strong = load_config(config, data__preset="tiny_shared", output_dir=str(out / "strong"))
    null = load_config(config, data__data_root=str(null_root), output_dir=str(out / "null"))
    with pytest.warns(UserWarning, match="using n_val_subjects=1"):
        null_loso = loso_from_config(null, progress=False)
    return {
        "strong": {"loso": _loso_script(config, out / "strong"), "within": _within_subject(strong)},
        "null": {"loso": null_loso, "within": _within_subject(null)},
    }


def _at_target(summary: pd.DataFrame) -> pd.Series:
    return summary.set_index("fah_target").loc[FAH_TARGET]


def test_loso_on_three_subjects_with_a_shared_effect_beats_chance(runs):
    results, summary = runs["strong"]["loso"]
    folds = results.drop_duplicates("fold")
    assert sorted(folds["test_subject"]) == ["chb01", "chb02", "chb03"]
    assert (folds["n_train_subjects"] == 1).all() and not (folds["val_subjects"] == folds["test_subject"]).any()
    assert folds["auroc"].mean() > 0.75
    row = _at_target(summary)
    assert row["n_seizures"] == 6
    assert row["pooled_ioc"] > 0 and row["pooled_p_value"] < ALPHA


def test_patient_specific_on_the_strong_dataset_beats_chance(runs):
    results, summary = runs["strong"]["within"]
    assert sorted(results["test_subject"].unique()) == ["chb01", "chb02", "chb03"]
    assert results["fah"].notna().all()  # every test block holds interictal time
    row = _at_target(summary)
    assert row["n_seizures"] == 3
    assert row["pooled_ioc"] > 0 and row["pooled_p_value"] < ALPHA


@pytest.mark.parametrize("benchmark", ["loso", "within"])
def test_null_dataset_has_no_significant_ioc(runs, benchmark):
    results, summary = runs["null"][benchmark]
    assert (summary["n_seizures"] == (6 if benchmark == "loso" else 3)).all()  # not vacuous
    assert abs(results.drop_duplicates(["test_subject", "fold"])["auroc"].mean() - 0.5) < 0.15
    assert (summary["pooled_p_value"] >= ALPHA).all()
    assert (summary["pooled_p_surrogate"] >= ALPHA).all() and (summary["n_patients_above_chance"] == 0).all()
