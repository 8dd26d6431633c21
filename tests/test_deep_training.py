"""Tests of the deep-model run logic (sklearn_eeg.experiments.deep_training, pipelines/train_deep.py)."""

from __future__ import annotations

import json
import math
import runpy
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import rankdata

from sklearn_eeg.experiments import deep_training
from sklearn_eeg.experiments.config import load_config
from sklearn_eeg.data.synthetic import make_chbmit_like
from sklearn_eeg.experiments.run_outputs import append_rows
from sklearn_eeg.experiments.deep_training import (
    SENSITIVITY_KEY,
    chance_auroc_tolerance,
    patient_chronological_split,
    run_deep,
    validation_tail,
    validation_timeline,
)

ROOT = Path(__file__).resolve().parents[1]
TINY_NET = {"module__n_filters": [4, 8], "module__embedding_dim": 8, "batch_size": 32}


def _table(subject: str, labels: list[int], recordings: list[str], seizures: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "subject": subject,
            "recording": recordings,
            "t_abs": np.arange(len(labels), dtype=float) * 5.0 + 10.0,
            "label": labels,
            "seizure_id": seizures,
        }
    )


# ------------------------------------------------------------------------------------------ splits


def test_patient_split_is_chronological_and_prefers_recording_boundaries():
    meta = pd.concat(
        [
            _table("s1", [0, 0, 1, 1, 0, 0, 1, 1, 0, 0], ["a"] * 4 + ["b"] * 3 + ["c"] * 3,
                   ["", "", "x", "x", "", "", "y", "y", "", ""]),
            _table("s2", [0, 1, 1, 0, 0, 0], ["d"] * 3 + ["e"] * 3, ["", "z", "z", "", "", ""]),
        ],
        ignore_index=True,
    ).sample(frac=1.0, random_state=0).reset_index(drop=True)  # row order must not matter
    splits, table = patient_chronological_split(meta, train_fraction=0.5)
    train, test = splits["s1"]
    assert meta.loc[train, "t_abs"].max() < meta.loc[test, "t_abs"].min()
    assert set(meta.loc[train, "recording"]) == {"a"} and set(meta.loc[test, "recording"]) == {"b", "c"}
    assert set(meta.loc[test, "label"]) == {0, 1} and set(meta.loc[train, "label"]) == {0, 1}
    assert "s2" not in splits  # no later seizure to test on
    row = table.set_index("subject").loc["s2"]
    assert row["status"].startswith("no cut")
    ok = table.set_index("subject").loc["s1"]
    assert ok["status"] == "ok" and bool(ok["cut_at_recording"]) and not bool(ok["seizure_in_both"])


def test_patient_split_never_splits_a_seizure_when_avoidable():
    # seizure x's preictal run spans recordings a and b: cutting at b would put it on both sides
    meta = _table("s1", [0, 0, 1, 1, 1, 0, 0, 1, 1, 0], ["a"] * 3 + ["b"] * 4 + ["c"] * 3,
                  ["", "", "x", "x", "x", "", "", "y", "y", ""])
    splits, table = patient_chronological_split(meta, train_fraction=0.3)
    train, test = splits["s1"]
    assert set(meta.loc[train[meta.loc[train, "label"].to_numpy() == 1], "seizure_id"]) == {"x"}
    assert set(meta.loc[test[meta.loc[test, "label"].to_numpy() == 1], "seizure_id"]) == {"y"}
    assert not table["seizure_in_both"].iloc[0]


def test_patient_split_assigns_unlabeled_rows_by_time():
    # label -1 (ictal/postictal/excluded) rows count for neither class but follow the cut
    meta = _table("s1", [0, 0, 1, -1, -1, 0, 0, 1, -1, 0], ["a"] * 5 + ["b"] * 5,
                  ["", "", "x", "", "", "", "", "y", "", ""])
    splits, table = patient_chronological_split(meta, train_fraction=0.5)
    train, test = splits["s1"]
    assert sorted(train.tolist()) == [0, 1, 2, 3, 4] and sorted(test.tolist()) == [5, 6, 7, 8, 9]
    assert table["n_train"].iloc[0] == 3 and table["n_test"].iloc[0] == 4 and table["n_test_pos"].iloc[0] == 1


def test_patient_split_rejects_bad_fraction():
    with pytest.raises(ValueError, match="train_fraction"):
        patient_chronological_split(_table("s", [0, 1], ["a", "a"], ["", "x"]), train_fraction=1.0)


def test_validation_tail_takes_latest_windows_of_each_class():
    meta = _table("s1", [0] * 10 + [1] * 5, ["a"] * 15, [""] * 10 + ["x"] * 5)
    mask = validation_tail(meta, 0.2)
    assert mask.tolist() == [False] * 8 + [True] * 2 + [False] * 4 + [True]


def test_validation_timeline_adds_unlabeled_rows_inside_the_tail_span_only():
    labels = [0, -1, 0, 0, 0, 1, -1, 1, 0, -1, 0, 1, -1, 0]
    meta = _table("s1", labels, ["a"] * 14, [""] * 14)
    train = np.arange(10)[::-1]  # rows 10-13 are test; order of train must not matter
    tail, timeline = validation_timeline(meta, train, 0.4)
    # labeled training rows: interictal 0 2 3 4 8 -> tail 4 8; preictal 5 7 -> tail 7
    assert sorted(tail.tolist()) == [4, 7, 8]
    assert timeline.tolist() == [4, 6, 7, 8, 9]  # unlabeled 6 and 9 are in the span, 1 is before it
    assert set(timeline) <= set(train)


# ------------------------------------------------------------------------------------------ helpers


def test_chance_auroc_tolerance_matches_mann_whitney_variance():
    rng = np.random.default_rng(0)
    n_pos, n_neg = 30, 90
    ranks = rankdata(rng.random((4000, n_pos + n_neg)), axis=1)  # label-free scores; first n_pos are positive
    aucs = (ranks[:, :n_pos].sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    assert np.std(aucs) == pytest.approx(chance_auroc_tolerance(n_pos, n_neg, z=1.0), rel=0.1)
    assert chance_auroc_tolerance(n_pos, n_neg) == pytest.approx(3 * math.sqrt(121 / (12 * 30 * 90)))
    with pytest.raises(ValueError, match="both classes"):
        chance_auroc_tolerance(0, 5)


def test_append_rows_widens_header(tmp_path):
    path = tmp_path / "t" / "metrics.csv"
    append_rows(path, pd.DataFrame([{"model": "cnn", "auroc": 0.9}]))
    append_rows(path, pd.DataFrame([{"model": "cnn", "auroc": 0.8}]))
    append_rows(path, pd.DataFrame([{"model": "fusion", "auprc": 0.5}]))
    table = pd.read_csv(path)
    assert table["model"].tolist() == ["cnn", "cnn", "fusion"]
    assert table["auroc"].tolist()[:2] == [0.9, 0.8] and np.isnan(table["auroc"].iloc[2])
    assert table["auprc"].iloc[2] == 0.5


# ------------------------------------------------------------------------------------------ runs


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory) -> Path:
    """2 subjects x 1 h, one seizure each, strong effect (a few seconds to generate)."""
    root = tmp_path_factory.mktemp("deep_data") / "data"
    return make_chbmit_like(root, n_subjects=2, hours=1.0, seizures=1, preictal_effect=2.0, seed=3, progress=False)


def test_cnn_on_a_lazy_window_array_equals_the_cnn_on_loaded_windows(small_dataset, tmp_path):
    """Out-of-core training and prediction (windows read per sample from the memory maps, also in
    DataLoader worker processes) give the very model and risks of the in-RAM array."""
    from sklearn_eeg.models.estimators import SpectrogramCNNClassifier
    from sklearn_eeg.signal.windows import WindowArray, load_window_store

    torch.set_num_threads(2)
    store = load_window_store(small_dataset, cache_dir=tmp_path / "cache", progress=False)
    y = store.table["label"].to_numpy()
    rows = np.r_[np.flatnonzero(y == 1)[:48], np.flatnonzero(y == 0)[::20][:80]]
    lazy, loaded = WindowArray(store)[rows], store.take(rows)
    risks = []
    for X, workers in ((loaded, 0), (lazy, 0), (lazy, 2)):
        net = SpectrogramCNNClassifier(max_epochs=2, random_state=0, train_split=None, num_workers=workers, **TINY_NET)
        risks.append(net.fit(X, y[rows]).predict_proba(X)[:, 1])
    np.testing.assert_array_equal(risks[1], risks[0])
    np.testing.assert_allclose(risks[2], risks[0], rtol=1e-6)
    assert risks[0].std() > 0


def test_run_deep_smoke_writes_all_outputs(small_dataset, tmp_path, monkeypatch):
    from sklearn_eeg.signal.windows import WindowStore

    def refuse(self, progress=False):
        raise AssertionError("the deep run path must not load every window")

    monkeypatch.setattr(WindowStore, "to_array", refuse)
    torch.set_num_threads(2)
    cfg = load_config(
        data__data_root=str(small_dataset),
        data__cache_dir=str(tmp_path / "cache"),
        model__name="cnn",
        model__params={**TINY_NET, "max_epochs": 1},
        output_dir=str(tmp_path / "reports"),
    )
    result = run_deep(cfg, model="cnn", mode="loso-fold", test_subject="chb02", verbose=0, progress=False)
    run_dir = result.run_dir
    assert run_dir.parent == tmp_path / "reports" / "runs"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["args"]["mode"] == "loso-fold" and manifest["split"][0]["subject"] == "chb02"
    assert {"config_hash", "args_hash", "thresholds", "metrics"} <= set(manifest)
    assert [t["fah_target"] for t in manifest["thresholds"]] == [0.1, 0.2, 0.5, 1.0]
    assert (run_dir / "curves_chb02.png").stat().st_size > 1000
    model_manifest = json.loads((run_dir / "models" / "chb02" / "manifest.json").read_text())
    assert len(model_manifest["history"]) == 1 and (run_dir / "models" / "chb02" / "model.pt").is_file()
    pred = pd.read_csv(run_dir / "predictions.csv")
    assert set(pred["subject"]) == {"chb02"} and pred["risk"].between(0, 1).all()
    assert (pred["label"] == -1).any() and pred["t_abs"].is_monotonic_increasing  # whole timeline for alarms
    table = pd.read_csv(tmp_path / "reports" / "tables" / "metrics.csv")
    assert len(table) == 1 and table["model"].iloc[0] == "cnn"
    assert table["n_test"].iloc[0] == (pred["label"] >= 0).sum()
    assert 0.0 <= table["test_auroc_pooled"].iloc[0] <= 1.0


def _tiny_cfg(root: Path, tmp_path: Path, max_epochs: int = 2):
    return load_config(
        data__data_root=str(root), data__cache_dir=str(tmp_path / "cache"), model__name="cnn",
        model__params={**TINY_NET, "max_epochs": max_epochs}, output_dir=str(tmp_path / "reports"),
    )


@pytest.mark.slow
def test_run_deep_checkpoints_select_and_score_sensitivity_on_validation_only(small_dataset, tmp_path, monkeypatch):
    torch.set_num_threads(2)
    scored = []
    original = deep_training._sensitivity_at_fah

    def spy(risk, *, meta, fah_target, policy):
        scored.append(meta)
        return original(risk, meta=meta, fah_target=fah_target, policy=policy)

    monkeypatch.setattr(deep_training, "_sensitivity_at_fah", spy)
    result = run_deep(_tiny_cfg(small_dataset, tmp_path), model="cnn", mode="loso-fold", test_subject="chb02",
                      select_by="auroc", verbose=0, progress=False)
    row = result.per_subject.iloc[0]
    assert len(scored) == 2  # once per epoch
    for meta in scored:  # the validation tail's full timeline: training subject, labeled tail + unlabeled rows
        assert set(meta["subject"]) == {"chb01"} and (meta["label"] == -1).any()
        assert (meta["label"] >= 0).sum() == row["n_valid"] and meta["t_abs"].is_monotonic_increasing
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["status"] == "done" and manifest["args"]["select_by"] == "auroc"
    ckpt = manifest["checkpoints"]["chb02"]
    assert ckpt["selected"] == "valid_auroc" and ckpt["last"]["epoch"] == 2
    assert {"valid_loss", "valid_auroc"} <= set(ckpt) and row["best_epoch"] == ckpt["valid_auroc"]["epoch"]
    model_manifest = json.loads((result.run_dir / "models" / "chb02" / "manifest.json").read_text())
    history = model_manifest["history"]
    assert len(history) == 2 and model_manifest["checkpoints"]["selected"] == "valid_auroc"
    if SENSITIVITY_KEY in ckpt:  # NaN at every epoch (no feasible threshold) leaves no checkpoint
        assert row["best_epoch_sensitivity"] == ckpt[SENSITIVITY_KEY]["epoch"]
    folder = result.run_dir / ckpt["folder"]
    selected = torch.load(folder / "best_valid_auroc.pt", weights_only=True)
    final = torch.load(result.run_dir / "models" / "chb02" / "model.pt", weights_only=True)
    for key, value in selected.items():
        torch.testing.assert_close(final[key], value, rtol=0, atol=0)  # the restored model is the chosen checkpoint


@pytest.mark.slow
def test_run_deep_resumes_a_crashed_run_to_the_same_result(small_dataset, tmp_path, monkeypatch):
    torch.set_num_threads(2)
    cfg = _tiny_cfg(small_dataset, tmp_path)
    kwargs = {"model": "cnn", "mode": "loso-fold", "test_subject": "chb02", "verbose": 0, "progress": False}
    reference = run_deep(cfg, out_dir=tmp_path / "ref", **kwargs)
    original = deep_training._sensitivity_at_fah
    calls = []

    def crash_in_epoch_two(risk, **params):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return original(risk, **params)

    monkeypatch.setattr(deep_training, "_sensitivity_at_fah", crash_in_epoch_two)
    with pytest.raises(RuntimeError, match="killed"):
        run_deep(cfg, out_dir=tmp_path / "crash", **kwargs)
    monkeypatch.setattr(deep_training, "_sensitivity_at_fah", original)
    (run_dir,) = (tmp_path / "crash" / "runs").iterdir()
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "running"
    with pytest.raises(ValueError, match="other settings"):
        run_deep(cfg, out_dir=tmp_path / "crash", resume=run_dir, **{**kwargs, "select_by": "auroc"})
    resumed = run_deep(cfg, out_dir=tmp_path / "crash", resume=run_dir, **kwargs)
    assert resumed.run_dir == run_dir and resumed.per_subject["epochs_run"].iloc[0] == 2
    np.testing.assert_array_equal(resumed.predictions["risk"], reference.predictions["risk"])
    assert resumed.metrics["test_auroc_pooled"] == reference.metrics["test_auroc_pooled"]


def test_train_deep_script_help(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["train_deep.py", "--help"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(ROOT / "pipelines" / "train_deep.py"), run_name="__main__")
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--mode" in out and "loso-fold" in out and "--out_dir" in out
    assert "--resume" in out and "--select_by" in out and "sensitivity" in out


def test_run_deep_rejects_unknown_arguments(tmp_path):
    cfg = load_config(output_dir=str(tmp_path))
    with pytest.raises(ValueError, match="model"):
        run_deep(cfg, model="rnn")
    with pytest.raises(ValueError, match="test_subject"):
        run_deep(cfg, mode="loso-fold")


# ------------------------------------------------------------------------------------------ science


def _strong_or_null(root: Path, effect: float) -> Path:
    """3 subjects x 4 h, 2 seizures each: long enough for a chronological split with both classes in
    test for every subject (the embedded "tiny" preset, 2 h per subject, has none: see the report)."""
    return make_chbmit_like(root, n_subjects=3, hours=4.0, seizures=2, preictal_effect=effect, seed=1, progress=False)


@pytest.mark.slow
def test_patient_specific_cnn_separates_strong_effect(tmp_path):
    torch.set_num_threads(2)
    root = _strong_or_null(tmp_path / "strong", 2.0)
    cfg = load_config(data__data_root=str(root), data__cache_dir=str(tmp_path / "cache"),
                      model__name="cnn", model__params={"max_epochs": 5}, output_dir=str(tmp_path / "reports"))
    result = run_deep(cfg, model="cnn", mode="patient", verbose=0, progress=False)
    per = result.per_subject
    assert len(per) == 3 and (per["test_n_pos"] > 0).all() and (per["test_n_neg"] > 0).all()
    assert result.metrics["test_auroc_mean"] >= 0.9, per[["subject", "test_auroc"]]


@pytest.mark.slow
def test_patient_specific_cnn_is_at_chance_without_effect(tmp_path):
    torch.set_num_threads(2)
    root = _strong_or_null(tmp_path / "null", 0.0)
    cfg = load_config(data__data_root=str(root), data__cache_dir=str(tmp_path / "cache"),
                      model__name="cnn", model__params={"max_epochs": 5}, output_dir=str(tmp_path / "reports"))
    result = run_deep(cfg, model="cnn", mode="patient", verbose=0, progress=False)
    per = result.per_subject
    # mean of independent per-subject AUROCs: its null variance is the mean of the variances / n
    variances = [(chance_auroc_tolerance(p, n, z=1.0)) ** 2 for p, n in zip(per["test_n_pos"], per["test_n_neg"])]
    tolerance = 3.0 * math.sqrt(sum(variances)) / len(variances)
    assert abs(result.metrics["test_auroc_mean"] - 0.5) < tolerance, per[["subject", "test_auroc"]]
