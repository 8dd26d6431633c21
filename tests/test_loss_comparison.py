"""Loss comparison (BCE + pos_weight vs focal): sklearn_eeg.experiments.ablations.loss_comparison and pipelines/ablate.py.

The trained comparison runs on a small generated dataset (2 subjects x 1 h at 128 Hz, one seizure each,
strong preictal effect, windows every 20 s) with a 2-block CNN of 4/8 filters and one epoch per loss,
in one leave-one-subject-out fold: chb02 tested, both classes in its test windows.
"""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import wilcoxon

from sklearn_eeg.experiments.ablations import LOSSES, loss_comparison, paired_loss_differences
from sklearn_eeg.experiments.config import load_config
from sklearn_eeg.data.synthetic import make_chbmit_like

ROOT = Path(__file__).resolve().parents[1]
TINY_NET = {"module__n_filters": [4, 8], "module__embedding_dim": 8, "batch_size": 32, "max_epochs": 1}
TARGETS = [0.1, 0.2, 0.5, 1.0]


def _small_config(root: Path, cache: Path, out: Path, **params):
    return load_config(
        data__data_root=str(root),
        data__cache_dir=str(cache),
        labeling__stride=20.0,
        model__name="cnn",
        model__params={**TINY_NET, **params},
        output_dir=str(out),
    )


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    torch.set_num_threads(2)
    base = tmp_path_factory.mktemp("loss_comparison")
    root = make_chbmit_like(base / "data", n_subjects=2, hours=1.0, seizures=1, preictal_effect=2.0, seed=3,
                            sfreq=128, progress=False)
    cfg = _small_config(root, base / "cache", base / "reports")
    tables = loss_comparison(cfg, mode="loso-fold", test_subjects=["chb02"])
    return tables, base / "reports"


# ------------------------------------------------------------------------------------------ trained runs


def test_loss_table_schema_and_csvs(compared):
    tables, out = compared
    assert set(tables) == {"loss_comparison", "loss_comparison_summary", "loss_comparison_paired"}
    results = tables["loss_comparison"]
    assert results["loss"].tolist() == ["bce"] * 4 + ["focal"] * 4
    assert results["fah_target"].tolist() == TARGETS * 2 and set(results["subject"]) == {"chb02"}
    for column in ("n_train", "n_valid", "n_test", "test_n_pos", "test_n_neg", "pos_weight", "focal_gamma",
                   "valid_auroc", "auroc", "auprc", "brier", "threshold", "val_fah", "sensitivity", "fah",
                   "n_predicted", "n_seizures", "time_in_warning", "chance_p", "ioc", "p_value", "run_dir"):
        assert column in results, column
    for stem, table in tables.items():
        written = pd.read_csv(out / "tables" / f"{stem}.csv")
        assert list(written.columns) == list(table.columns) and len(written) == len(table)
    summary = tables["loss_comparison_summary"]
    assert summary[["loss", "fah_target"]].values.tolist() == [[loss, t] for loss in LOSSES for t in TARGETS]
    assert (summary["n_folds"] == 1).all()
    paired = tables["loss_comparison_paired"]
    assert set(paired["loss"]) == {"focal"} and set(paired["reference"]) == {"bce"}
    assert {"auroc", "auprc", "brier", "sensitivity", "fah", "ioc"} <= set(paired["metric"])


def test_losses_share_data_split_and_weighting(compared):
    results = compared[0]["loss_comparison"]
    by_loss = results.drop_duplicates("loss").set_index("loss")
    same = ["n_train", "n_valid", "n_test", "test_n_pos", "test_n_neg", "pos_weight"]
    assert by_loss.loc["bce", same].tolist() == by_loss.loc["focal", same].tolist()
    assert by_loss.loc["bce", "test_n_pos"] > 0 and by_loss.loc["bce", "test_n_neg"] > 0
    assert by_loss.loc["bce", "pos_weight"] > 1.0  # interictal windows outnumber preictal ones
    assert np.isnan(by_loss.loc["bce", "focal_gamma"]) and by_loss.loc["focal", "focal_gamma"] == 2.0
    # one run folder per loss, each trained with its loss; identical test windows, different risks
    run_dirs = [Path(d) for d in by_loss["run_dir"]]
    assert run_dirs[0] != run_dirs[1] and all(d.is_dir() for d in run_dirs)
    losses = [json.loads((Path(d) / "manifest.json").read_text())["params"]["loss"] for d in by_loss["model_dir"]]
    assert losses == ["bce", "focal"]
    bce, focal = (pd.read_csv(d / "predictions.csv") for d in run_dirs)
    keys = ["subject", "recording", "t_abs", "label"]
    pd.testing.assert_frame_equal(bce[keys], focal[keys])
    assert (bce["label"] >= 0).sum() == by_loss.loc["bce", "n_test"]
    assert not np.allclose(bce["risk"], focal["risk"])


def test_loss_metrics_are_finite(compared):
    results = compared[0]["loss_comparison"]
    for column in ("valid_auroc", "auroc", "auprc", "brier", "threshold", "sensitivity", "fah", "time_in_warning"):
        assert np.isfinite(results[column].to_numpy(dtype=float)).all(), column
    assert results["auroc"].between(0, 1).all() and results["brier"].between(0, 1).all()
    summary = compared[0]["loss_comparison_summary"]
    assert np.isfinite(summary[["auroc_mean", "brier_mean", "sensitivity_mean", "fah_mean"]].to_numpy()).all()


# ------------------------------------------------------------------------------------------ paired differences


def _per_subject(values: dict[str, list[float]], metric: str = "auroc", targets=(0.5,)) -> pd.DataFrame:
    rows = []
    for loss, per_subject in values.items():
        for i, value in enumerate(per_subject):
            rows += [{"loss": loss, "subject": f"s{i}", "fah_target": t, metric: value} for t in targets]
    return pd.DataFrame(rows)


def test_paired_differences_direction_and_wilcoxon():
    bce = [0.60, 0.70, 0.80, 0.65, 0.90, 0.75]
    focal = [0.70, 0.72, 0.85, 0.60, 0.95, 0.90]
    paired = paired_loss_differences(_per_subject({"bce": bce, "focal": focal})).iloc[0]
    diff = np.subtract(focal, bce)
    assert paired["metric"] == "auroc" and np.isnan(paired["fah_target"]) and paired["n_pairs"] == 6
    assert paired["mean_diff"] == pytest.approx(diff.mean()) and paired["std_diff"] == pytest.approx(diff.std(ddof=1))
    assert (paired["n_better"], paired["n_worse"], paired["n_tied"]) == (5, 1, 0)
    assert paired["wilcoxon_p"] == pytest.approx(wilcoxon(diff).pvalue)
    # lower is better for the false-alarm rate: a focal FAH below BCE's counts as better
    fah = paired_loss_differences(_per_subject({"bce": [1.0, 2.0], "focal": [0.5, 2.0]}, "fah", TARGETS))
    assert fah["fah_target"].tolist() == TARGETS
    assert (fah["n_better"] == 1).all() and (fah["n_tied"] == 1).all() and (fah["mean_diff"] == -0.25).all()


def test_paired_differences_skip_undefined_and_honour_reference():
    table = _per_subject({"bce": [0.6, np.nan, 0.8], "focal": [0.7, 0.9, 0.8]})
    paired = paired_loss_differences(table, reference="focal").iloc[0]
    assert paired["loss"] == "bce" and paired["n_pairs"] == 2  # the NaN AUROC pair is left out
    assert (paired["n_better"], paired["n_worse"], paired["n_tied"]) == (0, 1, 1)
    with pytest.raises(ValueError, match="reference"):
        paired_loss_differences(table, reference="mse")


def test_all_tied_pairs_have_no_p_value():
    paired = paired_loss_differences(_per_subject({"bce": [0.5, 0.6], "focal": [0.5, 0.6]})).iloc[0]
    assert paired["n_tied"] == 2 and paired["mean_diff"] == 0 and np.isnan(paired["wilcoxon_p"])


# ------------------------------------------------------------------------------------------ validation and CLI


def test_loss_comparison_rejects_bad_arguments(tmp_path):
    cfg = load_config(output_dir=str(tmp_path))
    with pytest.raises(ValueError, match="losses"):
        loss_comparison(cfg, losses=("bce", "mse"))
    with pytest.raises(ValueError, match="losses"):
        loss_comparison(cfg, losses=("bce", "bce"))
    with pytest.raises(ValueError, match="model"):
        loss_comparison(cfg, model="rnn")
    with pytest.raises(ValueError, match="test_subjects"):
        loss_comparison(cfg, mode="loso-fold")
    assert not (tmp_path / "runs").exists()


def test_ablate_script_help(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["ablate.py", "--help"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(ROOT / "pipelines" / "ablate.py"), run_name="__main__")
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--ablation", "--losses", "--mode", "--test_subjects", "--max_epochs", "--focal_gamma"):
        assert option in out, option
    assert "loss_comparison.csv" in out and "pos_weight" in out


def test_ablate_script_rejects_classical_model_for_loss(capsys):
    main = runpy.run_path(str(ROOT / "pipelines" / "ablate.py"))["main"]
    assert main(["--ablation", "loss", "--model", "hgb", "--quiet"]) == 2
    assert "deep model" in capsys.readouterr().err


@pytest.mark.slow
def test_ablate_script_runs_loss_comparison_per_patient(tmp_path, capsys):
    """End to end through the script: one subject x 4 h, patient-specific chronological split (12-26 s)."""
    torch.set_num_threads(2)
    root = make_chbmit_like(tmp_path / "data", n_subjects=1, hours=4.0, seizures=2, preictal_effect=2.0, seed=1,
                            sfreq=128, progress=False)
    config = tmp_path / "run.yaml"
    config.write_text(json.dumps({
        "data": {"data_root": str(root), "cache_dir": str(tmp_path / "cache")},
        "labeling": {"stride": 20.0},
        "model": {"name": "cnn", "params": {"module__n_filters": [4, 8], "module__embedding_dim": 8}},
    }))
    main = runpy.run_path(str(ROOT / "pipelines" / "ablate.py"))["main"]
    code = main(["--config", str(config), "--ablation", "loss", "--max_epochs", "2", "--focal_gamma", "1.0",
                 "--out_dir", str(tmp_path / "reports"), "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert "Loss comparison" in capsys.readouterr().out
    results = pd.read_csv(tmp_path / "reports" / "tables" / "loss_comparison.csv")
    assert set(results["loss"]) == {"bce", "focal"} and set(results["subject"]) == {"chb01"}
    assert (results.loc[results["loss"] == "focal", "focal_gamma"] == 1.0).all()
    assert (results["epochs_run"] <= 2).all() and results["n_test"].nunique() == 1
    assert (results["test_n_pos"] > 0).all() and (results["test_n_neg"] > 0).all()  # a later seizure in test
    assert results["auroc"].between(0, 1).all()
