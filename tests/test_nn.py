"""Torch modules: models, losses, augmentations and the memmap dataset."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from sklearn_eeg.models.nn import (
    FocalLoss,
    FusionNet,
    MemmapWindowDataset,
    MultiTaskLoss,
    RawCNN1d,
    SignalAugment,
    SpecAugment,
    SpectrogramCNN,
    focal_loss_with_logits,
)

torch.set_num_threads(1)


# ---------------------------------------------------------------- models


@pytest.mark.parametrize("n_filters", [(16, 32, 64), (8, 16, 32, 64)])
def test_spectrogram_cnn_shapes_and_embedding(n_filters: tuple[int, ...]) -> None:
    net = SpectrogramCNN(18, 2560, n_filters=n_filters, embedding_dim=128).eval()
    x = torch.randn(3, 18, 2560)
    assert net(x).shape == (3,)
    assert net.embed(x).shape == (3, 128)
    n_params = sum(p.numel() for p in net.parameters())
    assert 10_000 < n_params < 200_000


def test_models_reject_wrong_shapes() -> None:
    with pytest.raises(ValueError, match="too small"):
        SpectrogramCNN(2, 512, n_filters=(4, 4, 4, 4, 4))
    with pytest.raises(ValueError, match="too short"):
        RawCNN1d(2, 100)
    net = SpectrogramCNN(18, 2560)
    with pytest.raises(ValueError, match=r"\(batch, 18, 2560\)"):
        net(torch.randn(2, 17, 2560))


def test_raw_cnn_and_constant_input_is_finite() -> None:
    for net in (RawCNN1d(18, 2560), SpectrogramCNN(18, 2560)):
        net.eval()
        out = net(torch.zeros(4, 18, 2560))
        assert out.shape == (4,) and torch.isfinite(out).all()


def test_fusion_net_outputs_and_feature_checks() -> None:
    net = FusionNet(4, 1024, n_features=6, n_filters=(8, 16)).eval()
    logit, risk = net(torch.randn(5, 4, 1024), torch.randn(5, 6))
    assert logit.shape == risk.shape == (5,)
    assert ((risk >= 0) & (risk <= 1)).all()
    with pytest.raises(ValueError, match="features of shape"):
        net(torch.randn(5, 4, 1024))
    no_feat = FusionNet(4, 1024, n_filters=(8, 16)).eval()
    assert no_feat.feature_mlp is None
    assert no_feat(torch.randn(2, 4, 1024))[0].shape == (2,)
    with pytest.raises(ValueError, match="n_features=0"):
        no_feat(torch.randn(2, 4, 1024), torch.randn(2, 3))


def test_augment_passed_to_model_is_copied() -> None:
    aug = SignalAugment(noise_std=0.5, seed=3)
    net = SpectrogramCNN(2, 512, n_filters=(4, 8), signal_augment=aug)
    assert net.signal_augment is not aug
    net.train()(torch.randn(4, 2, 512))
    assert aug._generator is None  # the caller's object is never used


# ---------------------------------------------------------------- augmentations


@pytest.mark.parametrize(
    "aug",
    [
        SignalAugment(noise_std=0.2, max_shift=50, scale_range=(0.8, 1.2), channel_dropout=0.3, seed=1),
        SpecAugment(max_freq=10, max_time=5, n_masks=2, seed=1),
    ],
)
def test_augment_shape_determinism_and_eval_identity(aug: torch.nn.Module) -> None:
    shape = (6, 3, 512) if isinstance(aug, SignalAugment) else (6, 3, 129, 37)
    x = torch.randn(shape)
    twin = copy.deepcopy(aug)
    out = aug.train()(x)
    assert out.shape == x.shape
    assert not torch.equal(out, x)
    assert torch.equal(twin.train()(x), out)  # same seed → same stream
    assert not torch.equal(aug(x), out)  # the stream advances
    assert aug.eval()(x) is x
    restored = pickle.loads(pickle.dumps(twin))
    assert torch.equal(restored.train()(x), out)  # pickling restarts the stream from the seed


def test_signal_augment_components() -> None:
    x = torch.randn(4, 3, 100)
    rolled = SignalAugment(max_shift=10, seed=0).train()(x)
    assert any(torch.equal(rolled[0], torch.roll(x[0], s, dims=-1)) for s in range(-10, 11))
    scaled = SignalAugment(scale_range=(2.0, 2.0), seed=0).train()(x)
    torch.testing.assert_close(scaled, 2 * x)
    dropped = SignalAugment(channel_dropout=0.5, seed=0).train()(torch.ones(50, 3, 10))
    per_channel = dropped[:, :, 0]
    assert set(per_channel.unique().tolist()) == {0.0, 1.0}
    assert (dropped == per_channel[..., None]).all()  # whole channels are dropped
    with pytest.raises(ValueError):
        SignalAugment(channel_dropout=1.0)


def test_spec_augment_masks_bands() -> None:
    s = torch.ones(8, 2, 40, 30)
    out = SpecAugment(max_freq=10, max_time=0, seed=0).train()(s)
    zero_rows = (out == 0).all(dim=-1)  # (batch, ch, freq): whole frequency rows masked
    assert (zero_rows.sum(dim=-1) <= 10).all()
    assert torch.equal(zero_rows[:, 0], zero_rows[:, 1])  # same mask for all channels
    assert ((out == 0) | (out == 1)).all()


# ---------------------------------------------------------------- losses


def test_focal_reduces_to_bce_and_down_weights_easy_examples() -> None:
    logits = torch.tensor([-3.0, -0.2, 0.5, 4.0])
    target = torch.tensor([0.0, 1.0, 0.0, 1.0])
    pw = torch.tensor(3.0)
    bce = F.binary_cross_entropy_with_logits(logits, target, pos_weight=pw, reduction="none")
    torch.testing.assert_close(focal_loss_with_logits(logits, target, gamma=0.0, pos_weight=pw), bce)
    focal = focal_loss_with_logits(logits, target, gamma=2.0)
    plain = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    ratio = focal / plain
    assert (ratio <= 1).all() and ratio[0] < ratio[1]  # the easy negative is down-weighted most
    alpha = focal_loss_with_logits(logits, target, gamma=2.0, alpha=0.25)
    torch.testing.assert_close(alpha, torch.where(target == 1, 0.25, 0.75) * focal)
    assert torch.isfinite(focal_loss_with_logits(torch.tensor([80.0, -80.0]), torch.tensor([0.0, 1.0]))).all()
    torch.testing.assert_close(FocalLoss(gamma=2.0)(logits, target), focal.mean())


def test_multitask_loss_terms_and_weights() -> None:
    logits = torch.tensor([0.3, -1.0, 2.0])
    target = torch.tensor([1.0, 0.0, 1.0])
    risk = torch.tensor([0.5, 0.1, 0.9])
    y_soft = torch.tensor([1.0, 0.0, 0.5])
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    loss = MultiTaskLoss(risk_weight=2.0)
    expected = (bce + 2.0 * (risk - y_soft) ** 2).mean()
    torch.testing.assert_close(loss(logits, target, risk=risk, y_soft=y_soft), expected)
    w = torch.tensor([1.0, 0.0, 3.0])
    weighted = MultiTaskLoss()(logits, target, sample_weight=w)
    torch.testing.assert_close(weighted, (bce * w).sum() / w.sum())
    with pytest.raises(ValueError, match="y_soft"):
        loss(logits, target)
    with pytest.raises(ValueError, match="'bce' or 'focal'"):
        MultiTaskLoss(loss="hinge")
    assert "pos_weight" in dict(MultiTaskLoss(pos_weight=2.0).named_buffers())


# ---------------------------------------------------------------- memmap dataset


def _write_store(tmp_path, sizes=(5, 7, 3), n_channels=2, n_times=32):
    files, rows = [], []
    for f, n in enumerate(sizes):
        data = (np.arange(n)[:, None, None] + 1000 * f + np.zeros((1, n_channels, n_times))).astype(np.float32)
        path = tmp_path / f"rec{f}.npy"
        np.save(path, data)
        files.append(path)
        rows += [(f, r) for r in range(n)]
    return files, np.array(rows)


def test_memmap_dataset_items_and_lazy_single_open(tmp_path, monkeypatch) -> None:
    files, index = _write_store(tmp_path)
    y = np.arange(len(index)) % 2
    ds = MemmapWindowDataset(files, index[::-1].copy(), y=y)
    assert len(ds) == 15 and (ds.n_channels, ds.n_times) == (2, 32)
    opened: list[str] = []
    real_load = np.load
    monkeypatch.setattr(np, "load", lambda f, *a, **k: opened.append(str(f)) or real_load(f, *a, **k))
    for i in range(len(ds)):
        x, yi = ds[i]
        f, r = index[::-1][i]
        assert x.dtype == torch.float32 and x.shape == (2, 32)
        assert float(x[0, 0]) == 1000 * f + r and float(yi) == y[i]
    assert sorted(opened) == sorted(map(str, files))  # each file mapped once, lazily
    assert pickle.loads(pickle.dumps(ds))._maps == {}


def test_memmap_dataset_with_workers(tmp_path) -> None:
    files, index = _write_store(tmp_path)
    ds = MemmapWindowDataset(files, index, y=np.c_[np.ones(len(index)), np.zeros(len(index))])
    loader = DataLoader(ds, batch_size=4, num_workers=2, shuffle=False)
    xs, ys = zip(*loader)
    x = torch.cat(xs)
    expected = torch.tensor([1000.0 * f + r for f, r in index], dtype=torch.float32)
    torch.testing.assert_close(x[:, 0, 0], expected)
    assert torch.cat(ys).shape == (15, 2)


def test_memmap_dataset_errors(tmp_path) -> None:
    files, index = _write_store(tmp_path)
    with pytest.raises(ValueError, match="outside"):
        MemmapWindowDataset(files, np.array([[3, 0]]))
    with pytest.raises(ValueError, match="shape \\(n_windows, 2\\)"):
        MemmapWindowDataset(files, np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="rows"):
        MemmapWindowDataset(files, index, y=np.zeros(3))
    np.save(tmp_path / "bad.npy", np.zeros((2, 3, 32), dtype=np.float32))
    ds = MemmapWindowDataset([files[0], tmp_path / "bad.npy"], np.array([[1, 0]]))
    with pytest.raises(ValueError, match="differs"):
        ds[0]


# ---------------------------------------------------------------- throughput benchmark


def test_measure_throughput_reports_positive_numbers() -> None:
    from sklearn_eeg.models.throughput import measure_throughput

    row = measure_throughput("shallow_reference", n_windows=16, n_channels=2, n_times=1024, batch_size=8, n_threads=1, latency_repeats=2)
    assert row["model"] == "shallow_reference" and row["n_params"] > 0
    for key in ("train_windows_per_s", "infer_windows_per_s", "latency_ms", "realtime_factor_single", "peak_rss_mb"):
        assert row[key] > 0, key
    with pytest.raises(ValueError, match="unknown model"):
        measure_throughput("braindecode")


def test_braindecode_reference_runs_when_installed_and_explains_itself_otherwise() -> None:
    from sklearn_eeg.models.throughput import BRAINDECODE_MODEL, measure_throughput

    small = {"n_windows": 16, "n_channels": 2, "n_times": 1024, "batch_size": 8, "n_threads": 1, "latency_repeats": 2}
    try:
        import braindecode  # noqa: F401
    except (ImportError, OSError):
        with pytest.raises(ImportError, match="pip install braindecode"):
            measure_throughput(BRAINDECODE_MODEL, **small)
        return
    row = measure_throughput(BRAINDECODE_MODEL, **small)
    assert row["model"] == BRAINDECODE_MODEL and row["n_params"] > 0 and row["train_windows_per_s"] > 0
