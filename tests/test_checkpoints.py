"""Checkpoints of the skorch estimators: best per validation criterion, last state, resume, selection."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sklearn_eeg.models.estimators import (
    SpectrogramCNNClassifier,
    TimelineScoring,
    ValidScoring,
    checkpoint_index,
)

torch.set_num_threads(1)
TINY = {
    "module__n_filters": (4, 8),
    "module__embedding_dim": 8,
    "module__n_fft": 64,
    "module__hop_length": 16,
    "module__n_freqs": None,
    "batch_size": 16,
    "lr": 1e-2,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def data():
    """64 windows of 4 channels x 256 samples, two subjects; class 1 carries a 20 Hz rhythm."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 4, 256)).astype(np.float32)
    y = np.arange(64) % 2
    X[y == 1] += 2 * np.sin(2 * np.pi * 20 * np.arange(256) / 256).astype(np.float32)
    return X, y, np.repeat(["s1", "s2"], 32)


class Scripted(Callback):
    """Records a scripted score per epoch under ``name`` (stands in for a validation AUROC)."""

    def __init__(self, name: str, values: list[float]) -> None:
        self.name = name
        self.values = values

    def on_epoch_end(self, net, **kwargs) -> None:
        net.history.record(self.name, self.values[len(net.history) - 1])


class ScriptedScore:
    """A ``valid_scoring`` hook returning the next scripted value (``start`` sets the next epoch)."""

    def __init__(self, values: list[float]) -> None:
        self.values = values
        self.calls = 0

    def start(self, epoch: int) -> "ScriptedScore":
        self.calls = epoch - 1
        return self

    def __call__(self, y_true, y_score, index) -> float:
        self.calls += 1
        return self.values[self.calls - 1]


class Interrupt(Callback):
    """Raises KeyboardInterrupt when epoch ``at`` (1-based) begins, as Ctrl-C would (skorch catches it)."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_epoch_begin(self, net, **kwargs) -> None:
        if len(net.history) == self.at:
            raise KeyboardInterrupt


def _state(path):
    return torch.load(path, weights_only=True)


def _assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key].cpu(), b[key].cpu()), key


def test_checkpoint_folder_round_trips_with_weights_only(data, tmp_path) -> None:
    X, y, groups = data
    auroc = ScriptedScore([0.6, 0.8, 0.7, 0.8])  # a tie does not replace the best epoch
    clf = SpectrogramCNNClassifier(
        max_epochs=4, patience=None, checkpoint_dir=tmp_path,
        callbacks=[("valid_auroc", ValidScoring(auroc, name="valid_auroc"))], **TINY,
    ).fit(X, y, groups=groups)
    directory = clf.checkpoint_dir_
    assert directory.parent == tmp_path and directory.name.startswith("fit-")
    assert clf.history[:, "valid_auroc_best"] == [True, True, False, False]
    files = {p.name for p in directory.iterdir()}
    assert {"best_valid_loss.pt", "best_valid_auroc.pt", "last_module.pt", "last_optimizer.pt", "last_state.pt",
            "last_history.json", "checkpoints.json"} <= files
    for name in files - {"last_history.json", "checkpoints.json"}:
        torch.load(directory / name, weights_only=True)  # no pickled Python objects anywhere
    index = json.loads((directory / "checkpoints.json").read_text())
    assert index == checkpoint_index(clf.history, ["valid_loss", "valid_auroc"])
    assert index["valid_auroc"] == {"file": "best_valid_auroc.pt", "epoch": 2, "score": 0.8}
    assert index["last"]["epoch"] == 4
    losses = clf.history[:, "valid_loss"]
    assert index["valid_loss"]["epoch"] == int(np.argmin(losses)) + 1
    assert index["valid_loss"]["score"] == pytest.approx(min(losses))
    # the estimator ends on the early-stopping monitor's best epoch: its checkpoint file
    _assert_same_weights(_state(clf.checkpoint_path_), clf.module_.state_dict())
    assert clf.checkpoint_path_.name == "best_valid_loss.pt"
    # restoring another checkpoint changes the model to exactly those weights
    proba_loss = clf.predict_proba(X)[:, 1]
    clf.restore_checkpoint("valid_auroc")
    _assert_same_weights(_state(directory / "best_valid_auroc.pt"), clf.module_.state_dict())
    assert clf.restored_checkpoint_ == "valid_auroc"
    if index["valid_loss"]["epoch"] != 2:
        assert not np.allclose(clf.predict_proba(X)[:, 1], proba_loss)
    clf.restore_checkpoint("last")
    _assert_same_weights(_state(directory / "last_module.pt"), clf.module_.state_dict())
    with pytest.raises(FileNotFoundError, match="valid_nothing"):
        clf.restore_checkpoint("valid_nothing")


def test_timeline_scoring_ties_go_to_the_tie_breaker_and_nan_ranks_last(data, tmp_path) -> None:
    X, y, groups = data
    sens = [0.5, 0.5, float("nan"), 1.0, 1.0]
    auroc = [0.6, 0.7, 0.9, 0.5, 0.5]
    seen = []

    def sensitivity(risk):
        seen.append(len(risk))
        return sens[len(seen) - 1]

    timeline = X[:10]
    clf = SpectrogramCNNClassifier(
        max_epochs=5, patience=None, checkpoint_dir=tmp_path,
        callbacks=[("auroc", Scripted("valid_auroc", auroc)),
                   ("sens", TimelineScoring(sensitivity, timeline, name="valid_sens", tie_breaker="valid_auroc"))],
        **TINY,
    ).fit(X, y, groups=groups)
    assert seen == [10] * 5  # the timeline windows, not the estimator's validation split
    assert clf.history[:, "valid_sens_best"] == [True, True, False, True, False]
    index = json.loads((clf.checkpoint_dir_ / "checkpoints.json").read_text())
    assert index["valid_sens"]["epoch"] == 4 and index["valid_sens"]["score"] == 1.0


def test_timeline_scoring_falls_back_to_the_tie_breaker_when_always_nan(data, tmp_path) -> None:
    X, y, groups = data
    clf = SpectrogramCNNClassifier(
        max_epochs=3, patience=None, checkpoint_dir=tmp_path,
        callbacks=[("auroc", Scripted("valid_auroc", [0.6, 0.8, 0.7])),
                   ("sens", TimelineScoring(lambda risk: math.nan, X[:4], name="valid_sens", tie_breaker="valid_auroc"))],
        **TINY,
    ).fit(X, y, groups=groups)
    assert clf.history[:, "valid_sens_best"] == [True, True, False]


@pytest.mark.parametrize("at", [2, 4])
def test_resume_after_interrupt_equals_an_uninterrupted_fit(data, tmp_path, at) -> None:
    X, y, groups = data
    params = {**TINY, "lr": 5e-2, "max_epochs": 5, "patience": None, "checkpoint_dir": tmp_path}
    reference = SpectrogramCNNClassifier(**params).fit(X, y, groups=groups)
    assert not all(reference.history[:, "valid_loss_best"])  # so the resumed best-so-far matters
    interrupted = SpectrogramCNNClassifier(callbacks=[("stop", Interrupt(at))], **params).fit(X, y, groups=groups)
    saved = json.loads((interrupted.checkpoint_dir_ / "last_history.json").read_text())
    assert len(saved) == at - 1  # the epoch in progress is lost, nothing more
    resumed = SpectrogramCNNClassifier(**params).resume(X, y, groups=groups, checkpoint=interrupted.checkpoint_dir_)
    assert len(resumed.history) == 5 and resumed.history[:, "epoch"] == [1, 2, 3, 4, 5]
    assert resumed.checkpoint_dir_ == interrupted.checkpoint_dir_  # new checkpoints in the same folder
    # same seed, RNG states restored: every epoch of the resumed part matches the uninterrupted run
    np.testing.assert_array_equal(resumed.history[:, "valid_loss"], reference.history[:, "valid_loss"])
    np.testing.assert_array_equal(resumed.history[:, "event_lr"], reference.history[:, "event_lr"])
    assert resumed.history[:, "valid_loss_best"] == reference.history[:, "valid_loss_best"]
    _assert_same_weights(_state(resumed.checkpoint_dir_ / "last_module.pt"), _state(reference.checkpoint_dir_ / "last_module.pt"))
    _assert_same_weights(resumed.module_.state_dict(), reference.module_.state_dict())  # same best epoch restored
    np.testing.assert_array_equal(resumed.predict_proba(X), reference.predict_proba(X))


def test_resume_continues_early_stopping_and_does_not_retrain_a_finished_fit(data, tmp_path) -> None:
    X, y, groups = data
    score = ScriptedScore([0.9, 0.5, 0.4, 0.3, 0.2, 0.1])
    params = {**TINY, "max_epochs": 6, "patience": 2, "checkpoint_dir": tmp_path, "valid_scoring": score}
    reference = SpectrogramCNNClassifier(**params).fit(X, y, groups=groups)
    assert len(reference.history) == 3  # best at epoch 1, patience 2
    score.start(1)
    interrupted = SpectrogramCNNClassifier(callbacks=[("stop", Interrupt(3))], **params).fit(X, y, groups=groups)
    score.start(3)
    resumed = SpectrogramCNNClassifier(**params).resume(X, y, groups=groups, checkpoint=interrupted.checkpoint_dir_)
    assert len(resumed.history) == 3  # the patience count went on from epoch 2: one more epoch only
    _assert_same_weights(resumed.module_.state_dict(), _state(interrupted.checkpoint_dir_ / "best_valid_score.pt"))
    _assert_same_weights(resumed.module_.state_dict(), reference.module_.state_dict())
    again = SpectrogramCNNClassifier(**params).resume(X, y, groups=groups, checkpoint=interrupted.checkpoint_dir_)
    assert len(again.history) == 3  # finished: nothing trained, the best epoch restored
    _assert_same_weights(again.module_.state_dict(), reference.module_.state_dict())


def test_resume_needs_a_last_checkpoint(data, tmp_path) -> None:
    X, y, groups = data
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        SpectrogramCNNClassifier(checkpoint_dir=tmp_path, **TINY).resume(X, y, groups=groups, checkpoint=tmp_path)
    (tmp_path / "last_module.pt").touch()
    with pytest.raises(ValueError, match="checkpoint_dir"):
        SpectrogramCNNClassifier(**TINY).resume(X, y, groups=groups, checkpoint=tmp_path)
