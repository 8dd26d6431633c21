"""skorch estimators: learning, sklearn conformance, determinism, checkpoints, device/AMP logic."""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from skorch.helper import SliceDict
from torch.utils.data import WeightedRandomSampler

from sklearn_eeg.models import estimators as est
from sklearn_eeg.models.estimators import (
    ChronologicalSplit,
    FusionClassifier,
    SpectrogramCNNClassifier,
    load_run,
    onset_sample_weight,
    pack_targets,
    resolve_amp,
    resolve_device,
    save_run,
    warmup_cosine,
)
from sklearn_eeg.models.nn import MemmapWindowDataset, RawCNN1d

torch.set_num_threads(1)
SFREQ = 256
SMALL = {"module__n_filters": (4, 8), "module__embedding_dim": 16, "batch_size": 16, "lr": 1e-2}


def make_windows(n: int = 64, n_channels: int = 2, n_times: int = 512, seed: int = 0):
    """Noise windows; class 1 (every other window) carries extra 20 Hz power."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_channels, n_times)).astype(np.float32) * 10
    y = np.arange(n) % 2
    phase = rng.uniform(0, 2 * np.pi, (n, n_channels, 1))
    t = np.arange(n_times) / SFREQ
    X[y == 1] += (15 * np.sin(2 * np.pi * 20 * t + phase[y == 1])).astype(np.float32)
    return X, y


@pytest.fixture(scope="module")
def data():
    return make_windows()


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return SpectrogramCNNClassifier(max_epochs=20, train_split=None, random_state=0, **SMALL).fit(X, y)


def test_overfits_structured_tiny_data(data, fitted) -> None:
    X, y = data
    losses = fitted.history[:, "train_loss"]
    assert losses[-1] < 0.6 * losses[0]
    assert roc_auc_score(y, fitted.predict_proba(X)[:, 1]) > 0.97


@pytest.mark.parametrize("module", [RawCNN1d])
def test_other_module_trains(data, module) -> None:
    X, y = data
    clf = SpectrogramCNNClassifier(module, max_epochs=2, train_split=None, random_state=0, batch_size=16, module__n_filters=(4, 4), module__pool=2)
    assert clf.fit(X, y).predict_proba(X).shape == (len(X), 2)


def test_predict_proba_shape_range_and_classes(data, fitted) -> None:
    X, _ = data
    proba = fitted.predict_proba(X[:10])
    assert proba.shape == (10, 2) and proba.dtype == np.float32
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(fitted.classes_, [0, 1])
    assert set(np.unique(fitted.predict(X))) <= {0, 1}
    assert (fitted.n_channels_, fitted.n_times_) == (2, 512)


def test_constant_input_gives_finite_output(data) -> None:
    X, y = data
    X = X.copy()
    X[:8] = 0.0
    clf = SpectrogramCNNClassifier(max_epochs=2, train_split=None, random_state=0, **SMALL).fit(X, y)
    proba = clf.predict_proba(np.full((4, 2, 512), 3.0, dtype=np.float32))
    assert np.isfinite(proba).all()
    assert np.isfinite(clf.history[:, "train_loss"]).all()


def test_seeded_refit_and_clone_are_deterministic_and_rng_untouched(data) -> None:
    X, y = data
    clf = SpectrogramCNNClassifier(max_epochs=2, random_state=7, **SMALL)
    torch.manual_seed(123)
    clf.fit(X, y)
    after = torch.rand(3)
    torch.manual_seed(123)
    assert torch.equal(torch.rand(3), after)  # fit did not consume the caller's RNG
    p1 = clf.predict_proba(X)
    np.testing.assert_array_equal(clf.fit(X, y).predict_proba(X), p1)
    np.testing.assert_array_equal(clone(clf).fit(X, y).predict_proba(X), p1)
    other = clone(clf).set_params(random_state=8).fit(X, y).predict_proba(X)
    assert not np.array_equal(other, p1)


def test_clone_get_params_and_pickle_conformance(data, fitted) -> None:
    clf = SpectrogramCNNClassifier(amp="bf16", loss="focal", focal_alpha=0.3, patience=2, **SMALL)
    params = clf.get_params(deep=False)
    assert params["device"] == "auto" and params["amp"] == "bf16" and params["module__n_filters"] == (4, 8)
    cloned = clone(clf)
    for key, value in params.items():
        if key not in ("train_split", "callbacks"):
            assert cloned.get_params(deep=False)[key] == value, key
    assert clone(fitted).get_params(deep=False)["device"] == "auto"
    assert not hasattr(clone(fitted), "n_channels_")
    X, _ = data
    restored = pickle.loads(pickle.dumps(fitted))
    assert restored.get_params(deep=False)["device"] == "auto"
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))


def test_input_tags_declare_3d_and_dict_input() -> None:
    tags = SpectrogramCNNClassifier(random_state=0).__sklearn_tags__()
    assert tags.estimator_type == "classifier"
    assert tags.input_tags.three_d_array and not tags.input_tags.two_d_array and not tags.input_tags.allow_nan
    assert not tags.non_deterministic
    assert FusionClassifier().__sklearn_tags__().input_tags.dict


def test_pipeline_and_cross_validate_with_groups(data) -> None:
    X, y = data
    groups = np.repeat(["s1", "s2", "s3", "s4"], len(X) // 4)
    pipe = make_pipeline(
        FunctionTransformer(lambda a: a / 10.0),
        SpectrogramCNNClassifier(max_epochs=3, random_state=0, **SMALL),
    )
    res = cross_validate(pipe, X, y, groups=groups, cv=GroupKFold(n_splits=2), scoring="roc_auc")
    assert res["test_score"].shape == (2,) and np.isfinite(res["test_score"]).all()


def test_pos_weight_from_each_fit(data) -> None:
    X, y = data
    keep = (y == 0) | (np.arange(len(y)) % 6 == 1)  # 3 negatives per positive
    clf = SpectrogramCNNClassifier(max_epochs=1, train_split=None, **SMALL).fit(X[keep], y[keep])
    expected = (y[keep] == 0).sum() / (y[keep] == 1).sum()
    assert clf.pos_weight_ == pytest.approx(expected)
    assert float(clf.criterion_.pos_weight) == pytest.approx(expected)
    clf.set_params(pos_weight=None).fit(X, y)
    assert clf.criterion_.pos_weight is None


def test_chronological_split_is_a_per_group_tail() -> None:
    groups = np.array(["a"] * 10 + ["b"] * 5)
    train, valid = next(ChronologicalSplit(0.2).split(np.arange(15), groups=groups))
    assert valid.tolist() == [8, 9, 14]
    assert sorted(train.tolist() + valid.tolist()) == list(range(15))
    with pytest.raises(ValueError, match="valid_fraction"):
        next(ChronologicalSplit(1.5).split(np.arange(5)))


def test_valid_scoring_hook_selects_and_checkpoints_best_epoch(data, tmp_path) -> None:
    X, y = data
    calls: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    scores = [0.1, 0.9, 0.2, 0.3]

    def dummy_alarm_score(y_true, y_score, index):
        calls.append((y_true, y_score, index))
        return scores[(len(calls) - 1) % len(scores)]

    groups = np.repeat(["s1", "s2"], len(X) // 2)
    clf = SpectrogramCNNClassifier(max_epochs=4, valid_scoring=dummy_alarm_score, checkpoint_dir=tmp_path, random_state=0, **SMALL)
    clf.fit(X, y, groups=groups)
    assert clf.history[:, "valid_score"] == scores
    assert clf.history[:, "valid_score_best"] == [True, True, False, False]
    y_true, y_score, index = calls[0]
    assert index.tolist() == list(range(26, 32)) + list(range(58, 64))  # last 20 % of each subject
    np.testing.assert_array_equal(y_true, y[index])
    assert y_score.shape == index.shape
    best = torch.load(clf.checkpoint_path_, weights_only=True)
    for key, value in clf.module_.state_dict().items():
        torch.testing.assert_close(best[key], value)  # the restored module is the epoch-2 checkpoint
    first_dir = clf.checkpoint_path_.parent
    clone(clf).fit(X, y)
    assert len(list(tmp_path.iterdir())) == 2 and first_dir.exists()  # one directory per fit


def test_save_run_round_trip(fitted, data, tmp_path) -> None:
    X, _ = data
    save_run(fitted, tmp_path / "run", {"metrics": {"auroc": np.float64(0.9)}, "subjects": ["chb01"]})
    state = torch.load(tmp_path / "run" / "model.pt", weights_only=True)
    assert set(state) == set(fitted.module_.state_dict())
    fresh = load_run(clone(fitted), tmp_path / "run")
    np.testing.assert_allclose(fresh.predict_proba(X), fitted.predict_proba(X), rtol=1e-6)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["metrics"] == {"auroc": 0.9}
    assert manifest["signal_args"] == {"n_channels": 2, "n_times": 512}
    assert len(manifest["history"]) == 20


def test_fusion_dict_input_multitask_and_cross_validate(data) -> None:
    X, y = data
    rng = np.random.default_rng(0)
    feats = np.c_[y + rng.normal(0, 0.3, len(y)), rng.normal(size=(len(y), 3))].astype(np.float32)
    Xd = SliceDict(signal=X, features=feats)
    y_soft = y * 0.8
    clf = FusionClassifier(max_epochs=6, risk_weight=1.0, train_split=None, random_state=0, **SMALL)
    clf.fit(Xd, y, y_soft=y_soft)
    assert clf.n_features_ == 4
    risk = clf.predict_risk(Xd)
    assert risk.shape == (len(y),) and ((risk >= 0) & (risk <= 1)).all()
    assert risk[y == 1].mean() > risk[y == 0].mean()
    assert roc_auc_score(y, clf.predict_proba(Xd)[:, 1]) > 0.9
    with pytest.raises(ValueError, match="y_soft"):
        clone(clf).fit(Xd, y)
    res = cross_validate(
        FusionClassifier(max_epochs=2, random_state=0, **SMALL), Xd, y, cv=GroupKFold(2),
        groups=np.repeat([0, 1], len(y) // 2), params={"y_soft": y_soft}, scoring="roc_auc",
    )
    assert np.isfinite(res["test_score"]).all()


def test_fit_from_memmap_dataset_with_workers(data, tmp_path) -> None:
    X, y = data
    np.save(tmp_path / "a.npy", X[:40])
    np.save(tmp_path / "b.npy", X[40:])
    index = np.r_[np.c_[np.zeros(40, int), np.arange(40)], np.c_[np.ones(24, int), np.arange(24)]]
    train = MemmapWindowDataset([tmp_path / "a.npy", tmp_path / "b.npy"], index, y=pack_targets(y))
    clf = SpectrogramCNNClassifier(max_epochs=2, random_state=0, num_workers=2, **SMALL).fit(train)
    proba = clf.predict_proba(MemmapWindowDataset(train.files, index))
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_balanced_sampler_and_sample_weights(data) -> None:
    X, y = data
    clf = SpectrogramCNNClassifier(max_epochs=1, balanced_sampler=True, train_split=None, random_state=0, **SMALL)
    w = onset_sample_weight(y, np.where(y == 1, 300.0, np.nan), sop=600.0, max_weight=3.0)
    np.testing.assert_allclose(np.unique(w), [1.0, 2.0])
    clf.fit(X, y, sample_weight=w)
    iterator = clf.get_iterator(clf.get_dataset(X, pack_targets(y)), training=True)
    assert isinstance(iterator.sampler, WeightedRandomSampler)


@pytest.mark.parametrize(
    ("kwargs", "fit_args", "match"),
    [
        ({}, (np.zeros((4, 512), np.float32), np.array([0, 1, 0, 1])), "3-D"),
        ({}, (None, np.array([0, 1, 2, 1])), "only 0 and 1"),
        ({}, (None, np.zeros(64, int)), "both classes"),
        ({"loss": "hinge"}, (None, None), "'bce' or 'focal'"),
        ({"amp": "int8"}, (None, None), "amp"),
        ({"risk_weight": 1.0}, (None, None), "y_soft"),
    ],
)
def test_clear_errors(data, kwargs, fit_args, match) -> None:
    X, y = data
    X_bad, y_bad = fit_args
    with pytest.raises(ValueError, match=match):
        SpectrogramCNNClassifier(max_epochs=1, **kwargs).fit(X if X_bad is None else X_bad, y if y_bad is None else y_bad)


def test_nan_input_rejected(data) -> None:
    X, y = data
    X = X.copy()
    X[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SpectrogramCNNClassifier(max_epochs=1).fit(X, y)


def test_warmup_cosine_schedule() -> None:
    factors = [warmup_cosine(e, warmup_epochs=2, max_epochs=10) for e in range(10)]
    assert factors[0] < factors[1] < factors[2] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(factors[2:], factors[3:]))
    assert factors[-1] > 0


def test_fit_follows_the_warmup_cosine_schedule(fitted) -> None:
    """skorch's LRScheduler (LambdaLR policy) sets epoch e's rate to lr * warmup_cosine(e)."""
    expected = [fitted.lr * warmup_cosine(e, warmup_epochs=fitted.warmup_epochs, max_epochs=fitted.max_epochs)
                for e in range(fitted.max_epochs)]
    np.testing.assert_allclose(fitted.history[:, "event_lr"], expected, rtol=1e-12)


# ---------------------------------------------------------------- device and AMP (CUDA mocked)


def test_device_and_amp_resolution_with_cuda_mocked(monkeypatch) -> None:
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_amp("auto", "cuda") is torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert resolve_amp("auto", "cuda") is torch.float16
    assert resolve_amp("bf16", "cuda:0") is torch.bfloat16
    assert resolve_amp("fp16", "cuda") is torch.float16
    assert resolve_amp(False, "cuda") is None
    assert resolve_amp("auto", "cpu") is None
    with pytest.warns(UserWarning, match="only used on CUDA"):
        assert resolve_amp("fp16", "cpu") is None
    clf = SpectrogramCNNClassifier()
    assert clf.device == "cuda" and clf.get_params()["device"] == "auto"


def test_fp16_scaler_path_runs_with_precision_mocked(data, monkeypatch) -> None:
    """Force the fp16 branch (GradScaler, unscale, clip, step) on CPU; autocast/scaler disable themselves."""
    X, y = data
    monkeypatch.setattr(est, "resolve_amp", lambda amp, device: torch.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "CUDA not available" from autocast / GradScaler
        clf = SpectrogramCNNClassifier(max_epochs=2, train_split=None, random_state=0, max_norm=0.5, **SMALL).fit(X, y)
    assert clf.amp_dtype_ is torch.float16
    assert isinstance(clf.grad_scaler_, torch.amp.GradScaler)
    assert np.isfinite(clf.history[:, "train_loss"]).all()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_real_gpu_training_with_amp(data, amp) -> None:
    X, y = data
    clf = SpectrogramCNNClassifier(max_epochs=3, amp=amp, random_state=0, **SMALL).fit(X, y)
    assert clf.device == "cuda" and next(clf.module_.parameters()).is_cuda
    assert clf.amp_dtype_ is (torch.bfloat16 if amp == "bf16" else torch.float16)
    assert (clf.grad_scaler_ is not None) == (amp == "fp16")
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.isfinite(proba).all()


def test_metadata_routing_passes_groups_and_y_soft(data) -> None:
    X, y = data
    seen: list[np.ndarray] = []

    def record_index(y_true, y_score, index):
        seen.append(index)
        return 0.0

    groups = np.repeat([0, 1, 2, 3], 16)
    with sklearn.config_context(enable_metadata_routing=True):
        clf = SpectrogramCNNClassifier(max_epochs=1, valid_scoring=record_index, random_state=0, **SMALL)
        clf.set_fit_request(groups=True, y_soft=True)
        res = cross_validate(clf, X, y, cv=GroupKFold(2), params={"groups": groups, "y_soft": y * 0.5}, scoring="roc_auc")
    assert np.isfinite(res["test_score"]).all()
    assert seen[0].tolist() == [13, 14, 15, 29, 30, 31]  # per-subject tails of the 32 training rows
