"""Multi-phase training (pretrain -> contrastive -> fine-tune): pretext losses, weight handover, phase
tracker, resume after an interrupt, no leakage of the test subject into any phase, chance on null data."""

from __future__ import annotations

import json
import math
import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from skorch.callbacks import Callback

from sklearn_eeg.experiments.ablations import multiphase_comparison
from sklearn_eeg.experiments.benchmark import run_loso
from sklearn_eeg.experiments.config import find_config, load_config
from sklearn_eeg.models.nn.phase_tracker import MANIFEST, PhaseTracker
from sklearn_eeg.models.multiphase import PHASES, VARIANTS, MultiPhaseCNNClassifier
from sklearn_eeg.models.nn.pretext import ContrastiveModel, MaskedSpectrogramModel, info_nce_loss
from sklearn_eeg.models.phase_estimators import PretrainedCNNClassifier
from sklearn_eeg.models.registry import make_model

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[1]
SFREQ = 256
ENCODER = {"n_filters": (4, 8), "embedding_dim": 8, "n_fft": 64, "hop_length": 16, "n_freqs": None}
TINY = dict(
    encoder_params=ENCODER, pretrain_epochs=2, contrastive_epochs=2, pretext_max_windows=48, pretext_batch_size=16,
    finetune_params={"max_epochs": 3, "patience": None, "batch_size": 16, "lr": 1e-2}, random_state=0,
)


def _windows(n: int = 64, seed: int = 0, effect: float = 2.0):
    """Noise windows of 2 channels x 256 samples; class 1 (every other window) carries a 20 Hz rhythm."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2, 256)).astype(np.float32)
    y = np.arange(n) % 2
    X[y == 1] += effect * np.sin(2 * np.pi * 20 * np.arange(256) / SFREQ).astype(np.float32)
    return X, y, np.repeat(["s1", "s2"], n // 2)


@pytest.fixture(scope="module")
def data():
    return _windows()


class Interrupt(Callback):
    """Raises KeyboardInterrupt when epoch ``at`` (1-based) begins, as Ctrl-C would (skorch catches it)."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_epoch_begin(self, net, **kwargs) -> None:
        if len(net.history) == self.at:
            raise KeyboardInterrupt


class SubjectLog(Callback):
    """Appends, per fit, the subject markers its training and validation batches held, to a JSON-lines file.

    A file, not an attribute: the estimator (and this callback) is cloned for every fold.
    """

    def __init__(self, path: str | Path, phase: str) -> None:
        self.path = path
        self.phase = phase

    def on_train_begin(self, net, **kwargs) -> None:
        self.seen_: set[float] = set()

    def on_batch_begin(self, net, batch=None, training=None, **kwargs) -> None:
        self.seen_ |= set(np.asarray(batch[0][:, 0, 0]).tolist())

    def on_train_end(self, net, **kwargs) -> None:
        with open(self.path, "a") as fh:
            fh.write(json.dumps({"phase": self.phase, "markers": sorted(self.seen_)}) + "\n")


# ---------------------------------------------------------------------------------------------- pretext


def test_info_nce_is_low_for_matching_views_and_log_n_for_unrelated_ones() -> None:
    z = torch.randn(32, 16, generator=torch.Generator().manual_seed(0))
    assert float(info_nce_loss(z, z + 0.01 * torch.randn_like(z), temperature=0.1)) < 0.1
    unrelated = torch.randn(32, 16, generator=torch.Generator().manual_seed(1))
    assert abs(float(info_nce_loss(z, unrelated, temperature=10.0)) - math.log(63)) < 0.1
    with pytest.raises(ValueError, match="shape"):
        info_nce_loss(z, z[:, :8])


def test_pretext_modules_mask_and_augment_in_training_only() -> None:
    x = torch.randn(4, 2, 256)
    masked = MaskedSpectrogramModel(2, 256, encoder=ENCODER, target_shape=(4, 4))
    prediction, target = masked(x)
    assert prediction.shape == target.shape == (4, 2 * 4 * 4) and not target.requires_grad
    views = ContrastiveModel(2, 256, encoder=ENCODER, projection_dim=5).eval()
    z1, z2 = views(x)
    assert z1.shape == (4, 5) and torch.equal(z1, z2)  # eval: no augmentation, identical views
    z1, z2 = views.train()(x)
    assert not torch.allclose(z1, z2)


# ---------------------------------------------------------------------------------------------- estimator


def test_registry_config_and_top_level_copy() -> None:
    assert isinstance(make_model("multiphase", precomputed_features=False, params={"pretrain_epochs": 1}),
                      MultiPhaseCNNClassifier)
    with pytest.raises(ValueError, match="raw windows"):
        make_model("multiphase", precomputed_features=True)
    cfg = load_config(REPO / "configs" / "multiphase.yaml")
    assert cfg.model.name == "multiphase" and cfg.estimator().get_params()["phases"] == list(PHASES)
    assert (REPO / "configs" / "multiphase.yaml").read_text() == find_config("multiphase").read_text()


def test_clone_params_tags_and_validation_in_fit(data) -> None:
    X, y, groups = data
    clf = MultiPhaseCNNClassifier(**TINY)
    assert clone(clf).get_params() == clf.get_params()
    tags = clf.__sklearn_tags__()
    assert tags.input_tags.three_d_array and not tags.input_tags.two_d_array and not tags.non_deterministic
    for bad in [{"phases": ("pretrain",)}, {"phases": ("contrastive", "pretrain", "finetune")},
                {"phases": ("finetune", "finetune")}, {"finetune_params": {"module__n_filters": (4,)}},
                {"phase_callbacks": {"warmup": []}}, {"pretrain_epochs": 0}]:
        est = MultiPhaseCNNClassifier(**{**TINY, **bad})  # __init__ only stores
        with pytest.raises(ValueError):
            est.fit(X, y, groups=groups)


def test_encoder_weights_hand_over_from_phase_to_phase(data, tmp_path) -> None:
    X, y, groups = data
    clf = MultiPhaseCNNClassifier(**{**TINY, "phases": ("pretrain", "finetune"), "checkpoint_dir": tmp_path})
    snapshots = {}

    class Snapshot(Callback):
        def on_train_begin(self, net, **kwargs) -> None:
            snapshots["finetune_start"] = {k: v.clone() for k, v in net.module_.state_dict().items()}

    clf.set_params(phase_callbacks={"finetune": [("snap", Snapshot())]}).fit(X, y, groups=groups)
    pretrained = torch.load(clf.phase_log_[0]["checkpoint"], weights_only=True)
    start = snapshots["finetune_start"]
    for key, value in pretrained.items():
        if key.startswith("classifier."):
            assert not torch.equal(start[key], value)  # the output layer starts fresh
        else:
            assert torch.equal(start[key], value), key  # the encoder starts where pretraining ended
    assert [e["status"] for e in clf.phase_log_] == ["trained", "trained"]
    assert clf.phase_log_[0]["n_windows"] == 48 and clf.phase_log_[1]["n_windows"] == len(X)
    assert isinstance(clf.estimator_, PretrainedCNNClassifier)


def test_seeded_fit_is_deterministic_and_pickles(data) -> None:
    X, y, groups = data
    a = MultiPhaseCNNClassifier(**TINY).fit(X, y, groups=groups)
    b = MultiPhaseCNNClassifier(**TINY).fit(X, y, groups=groups)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(a)).predict_proba(X), a.predict_proba(X))
    assert set(a.predict(X)) <= {0, 1} and list(a.classes_) == [0, 1]
    for entry in a.phase_log_:
        assert len(entry["losses"]) == entry["epochs"] and all(np.isfinite(entry["losses"]))


# ---------------------------------------------------------------------------------------------- tracker, resume


def test_phase_tracker_ignores_foreign_manifests_and_missing_checkpoints(tmp_path) -> None:
    tracker = PhaseTracker(tmp_path, run_key="run-a")
    with pytest.raises(FileNotFoundError, match="not on disk"):
        tracker.record("pretrain", phase="pretrain", key="k", epochs=1, losses=[1.0], checkpoint=tmp_path / "x.pt")
    (tmp_path / "x.pt").write_bytes(b"w")
    tracker.record("pretrain", phase="pretrain", key="k", epochs=1, losses=[1.0], checkpoint=tmp_path / "x.pt")
    assert tracker.finished("pretrain", "k")["checkpoint"] == tmp_path / "x.pt"
    assert PhaseTracker(tmp_path, run_key="run-b").finished("pretrain", "k") is None  # other data or parameters
    (tmp_path / "x.pt").unlink()
    assert tracker.finished("pretrain", "k") is None
    (tmp_path / MANIFEST).write_text("{not json")
    assert tracker.entries() == {}
    assert not list(tmp_path.glob("*.tmp"))  # atomic writes leave no temporary file


def test_interrupted_multiphase_fit_resumes_at_the_unfinished_phase(data, tmp_path) -> None:
    X, y, groups = data
    reference = MultiPhaseCNNClassifier(**{**TINY, "checkpoint_dir": tmp_path / "reference"}).fit(X, y, groups=groups)
    log = tmp_path / "pretrain_batches.jsonl"
    params = {**TINY, "checkpoint_dir": tmp_path / "run"}
    interrupted = MultiPhaseCNNClassifier(**params, phase_callbacks={"contrastive": [("stop", Interrupt(1))]})
    with pytest.raises(KeyboardInterrupt, match="contrastive"):
        interrupted.fit(X, y, groups=groups)
    (run_dir,) = (tmp_path / "run").iterdir()
    manifest = json.loads((run_dir / MANIFEST).read_text())
    assert list(manifest["phases"]) == ["pretrain"]  # the tracker: phase 1 done, nothing after it
    entry = manifest["phases"]["pretrain"]
    assert entry["epochs"] == 2 and len(entry["losses"]) == 2 and (run_dir / entry["checkpoint"]).is_file()
    mtime = (run_dir / entry["checkpoint"]).stat().st_mtime_ns

    resumed = MultiPhaseCNNClassifier(**params, phase_callbacks={"pretrain": [("log", SubjectLog(log, "pretrain"))]})
    resumed.fit(X, y, groups=groups)
    assert [e["status"] for e in resumed.phase_log_] == ["reused", "trained", "trained"]
    assert not log.exists()  # phase 1 was not retrained: its callbacks never ran
    assert (run_dir / entry["checkpoint"]).stat().st_mtime_ns == mtime
    # same seeds, same handover: identical to the uninterrupted run, phase by phase
    for a, b in zip(resumed.phase_log_, reference.phase_log_):
        assert a["losses"] == b["losses"]
    np.testing.assert_array_equal(resumed.predict_proba(X), reference.predict_proba(X))

    again = MultiPhaseCNNClassifier(**params).fit(X, y, groups=groups)  # everything finished: nothing trains
    assert [e["status"] for e in again.phase_log_] == ["reused"] * 3
    np.testing.assert_array_equal(again.predict_proba(X), reference.predict_proba(X))
    # pretrain -> fine-tune shares the pretraining checkpoint of the same data and parameters
    shared = MultiPhaseCNNClassifier(**{**params, "phases": ("pretrain", "finetune")}).fit(X, y, groups=groups)
    assert [e["status"] for e in shared.phase_log_] == ["reused", "trained"]


@pytest.mark.parametrize("phase", PHASES)
def test_a_phase_interrupted_mid_way_resumes_from_its_last_epoch(data, tmp_path, phase) -> None:
    """Killed after epoch 1 of a phase: the rerun reuses the phases before it, continues this one from the
    epoch-1 checkpoint (module, optimizer, history, RNG and augmentation generators) and ends bit for bit
    as the uninterrupted fit."""
    X, y, groups = data
    params = {**TINY, "pretrain_epochs": 3, "contrastive_epochs": 3}
    reference = MultiPhaseCNNClassifier(**{**params, "checkpoint_dir": tmp_path / "reference"}).fit(X, y, groups=groups)
    params["checkpoint_dir"] = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt, match=phase):
        MultiPhaseCNNClassifier(**params, phase_callbacks={phase: [("stop", Interrupt(2))]}).fit(X, y, groups=groups)
    (run_dir,) = (tmp_path / "run").iterdir()
    manifest = run_dir / MANIFEST  # written once a phase has finished
    recorded = list(json.loads(manifest.read_text())["phases"]) if manifest.exists() else []
    assert recorded == [">".join(PHASES[: k + 1]) for k in range(PHASES.index(phase))]  # chains of finished phases
    saved = sorted(p.relative_to(run_dir).parts[0] + "/" + p.name for p in run_dir.rglob("last-*") if p.is_dir())
    chain = "-".join(PHASES[: PHASES.index(phase) + 1])
    assert len(saved) == 1 and re.fullmatch(chain + r"-[0-9a-f]{8}/last-0001", saved[0]), saved  # finished phases
    # keep their product only (encoder.pt); the interrupted one its first epoch, and nothing after it

    resumed = MultiPhaseCNNClassifier(**params).fit(X, y, groups=groups)
    expected = ["reused"] * PHASES.index(phase) + ["resumed"] + ["trained"] * (len(PHASES) - PHASES.index(phase) - 1)
    assert [e["status"] for e in resumed.phase_log_] == expected
    for a, b in zip(resumed.phase_log_, reference.phase_log_):
        assert a["losses"] == b["losses"], a["phase"]
    np.testing.assert_array_equal(resumed.predict_proba(X), reference.predict_proba(X))


# ---------------------------------------------------------------------------------------------- LOSO


ONSET = 2700.0  # s


def _timeline(effect: float, seed: int = 0, n_subjects: int = 3):
    """Raw 2 x 256 windows on a full-timeline window table: 3 subjects x 1 h, one seizure at 45 min each.

    Preictal windows carry a 20 Hz rhythm of amplitude ``effect``. Sample [0, 0] of every window is
    replaced by its subject's marker (:func:`_marker`, exact in float32 and within the noise's range, so
    it changes nothing the model could use), so any batch tells which subjects it holds.
    """
    rng = np.random.default_rng(seed)
    metas = []
    for s in range(n_subjects):
        subject = f"chb{s + 1:02d}"
        t_abs = np.arange(10.0, 3600 + 1e-9, 5.0)
        tte = np.where(t_abs < ONSET, ONSET - t_abs, np.nan)
        preictal = (tte >= 30) & (tte <= 600)
        interictal = np.abs(t_abs - ONSET) >= 1800
        after = t_abs - ONSET
        state = np.select([(after >= 0) & (after < 70), (after >= 70) & (after < 670), preictal, interictal],
                          ["ictal", "postictal", "preictal", "interictal"], default="excluded")
        metas.append(pd.DataFrame({
            "subject": subject, "recording": f"{subject}_01", "t_start": t_abs - 10, "t_abs": t_abs, "state": state,
            "label": np.where(preictal, 1, np.where(interictal, 0, -1)), "tte": tte, "y_soft": 0.0,
            "seizure_id": np.where(preictal, f"{subject}_s01", ""),
            "lead_seizure": np.where(t_abs < ONSET, f"{subject}_s01", ""), "bad": False,
        }))
    meta = pd.concat(metas, ignore_index=True)
    X = rng.standard_normal((len(meta), 2, 256)).astype(np.float32)
    X[meta["label"].to_numpy() == 1] += effect * np.sin(2 * np.pi * 20 * np.arange(256) / SFREQ).astype(np.float32)
    X[:, 0, 0] = [_marker(s) for s in meta["subject"]]
    return X, meta["label"].to_numpy(), meta["subject"].to_numpy(), meta


def _marker(subject: str) -> float:
    return 1.0 + int(subject[3:]) / 16


LOSO_MODEL = dict(TINY, pretext_max_windows=256, pretext_batch_size=64,
                  finetune_params={"max_epochs": 3, "patience": 2, "batch_size": 64, "lr": 1e-2})


def test_no_phase_of_a_fold_sees_its_test_or_validation_subject(tmp_path) -> None:
    X, y, groups, meta = _timeline(effect=2.0)
    log = tmp_path / "batches.jsonl"
    model = MultiPhaseCNNClassifier(**LOSO_MODEL, phase_callbacks={p: [("log", SubjectLog(log, p))] for p in PHASES})
    results = run_loso(X, y, groups, meta, model=model, n_val_subjects=1, fah_targets=(0.5,), out_dir=tmp_path,
                       progress=False)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    folds = results.sort_values("fold").to_dict("records")
    assert len(records) == 3 * len(folds) == 9  # folds run in order (n_jobs=1), three phases each
    for fold, phase_records in zip(folds, (records[i:i + 3] for i in range(0, 9, 3))):
        held_out = {fold["test_subject"], *fold["val_subjects"].split(";")}
        train = {_marker(s) for s in set(np.unique(groups)) - held_out}
        assert [r["phase"] for r in phase_records] == list(PHASES)
        for record in phase_records:  # pretraining included: only the training subject's windows
            assert set(record["markers"]) == train, (fold["test_subject"], record)
    assert results["auroc"].mean() > 0.8  # and the model learns the planted effect


def test_multiphase_loso_is_at_chance_on_null_data(tmp_path) -> None:
    X, y, groups, meta = _timeline(effect=0.0, seed=1)
    X[:, 0, 0] = 0.0  # no marker either: nothing tells preictal from interictal
    tables = multiphase_comparison(X, y, groups, meta, model=MultiPhaseCNNClassifier(**LOSO_MODEL), n_val_subjects=1,
                                   fah_targets=(0.5,), out_dir=tmp_path)
    results, summary = tables["multiphase_comparison"], tables["multiphase_comparison_summary"]
    assert set(summary["variant"]) == set(VARIANTS) and (summary["n_seizures"] == 3).all()  # not vacuous
    for _, part in results.groupby("variant"):
        assert abs(part["auroc"].mean() - 0.5) < 0.15
    assert (summary["pooled_p_value"] >= 0.05).all() and (summary["pooled_p_surrogate"] >= 0.05).all()
    assert (tmp_path / "tables" / "multiphase_comparison_summary.csv").is_file()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_every_phase_runs_on_cuda_with_autocast(data, amp) -> None:
    X, y, groups = data
    clf = MultiPhaseCNNClassifier(**{**TINY, "device": "cuda", "amp": amp}).fit(X, y, groups=groups)
    assert clf.estimator_.amp_dtype_ == (torch.bfloat16 if amp == "bf16" else torch.float16)
    assert next(clf.estimator_.module_.parameters()).is_cuda
    for entry in clf.phase_log_:
        assert all(np.isfinite(entry["losses"])), entry
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.isfinite(proba).all()
