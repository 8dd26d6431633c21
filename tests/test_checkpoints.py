"""Checkpoints of the skorch estimators: best per validation criterion, last state, resume, selection, kills."""

from __future__ import annotations

import copy
import json
import math
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sklearn_eeg.experiments import deep_training
from sklearn_eeg.models.estimators import (
    SpectrogramCNNClassifier,
    TimelineScoring,
    ValidScoring,
    checkpoint_index,
    last_checkpoint,
)
from sklearn_eeg.models.nn.checkpoints import latest_last_set

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
    # the last state of the last two epochs, each a complete set in its own folder; no temporary files
    assert {p.name for p in directory.iterdir()} == {"best_valid_loss.pt", "best_valid_auroc.pt", "checkpoints.json",
                                                     "last-0003", "last-0004"}
    assert {p.name for p in (directory / "last-0004").iterdir()} == {"module.pt", "optimizer.pt", "history.json", "state.pt"}
    for path in directory.rglob("*.pt"):
        torch.load(path, weights_only=True)  # no pickled Python objects anywhere
    assert last_checkpoint(directory) == directory / "last-0004"
    assert json.loads((directory / "last-0003" / "history.json").read_text())[-1]["epoch"] == 3
    index = json.loads((directory / "checkpoints.json").read_text())
    assert index == checkpoint_index(clf.history, ["valid_loss", "valid_auroc"])
    assert index["valid_auroc"] == {"file": "best_valid_auroc.pt", "epoch": 2, "score": 0.8}
    assert index["last"] == {"file": "last-0004/module.pt", "epoch": 4}
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
    _assert_same_weights(_state(directory / index["last"]["file"]), clf.module_.state_dict())
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


@pytest.mark.parametrize(("at", "given"), [(2, "fit folder"), (4, "fit folder"), (4, "last set")])
def test_resume_after_interrupt_equals_an_uninterrupted_fit(data, tmp_path, at, given) -> None:
    X, y, groups = data
    params = {**TINY, "lr": 5e-2, "max_epochs": 5, "patience": None, "checkpoint_dir": tmp_path}
    reference = SpectrogramCNNClassifier(**params).fit(X, y, groups=groups)
    assert not all(reference.history[:, "valid_loss_best"])  # so the resumed best-so-far matters
    interrupted = SpectrogramCNNClassifier(callbacks=[("stop", Interrupt(at))], **params).fit(X, y, groups=groups)
    saved = json.loads((last_checkpoint(interrupted.checkpoint_dir_) / "history.json").read_text())
    assert len(saved) == at - 1  # the epoch in progress is lost, nothing more
    # the fit folder, or the complete last set that last_checkpoint found in it (as run_deep passes it)
    checkpoint = interrupted.checkpoint_dir_ if given == "fit folder" else last_checkpoint(interrupted.checkpoint_dir_)
    resumed = SpectrogramCNNClassifier(**params).resume(X, y, groups=groups, checkpoint=checkpoint)
    assert len(resumed.history) == 5 and resumed.history[:, "epoch"] == [1, 2, 3, 4, 5]
    assert resumed.checkpoint_dir_ == interrupted.checkpoint_dir_  # new checkpoints in the same folder
    # same seed, RNG states restored: every epoch of the resumed part matches the uninterrupted run
    np.testing.assert_array_equal(resumed.history[:, "valid_loss"], reference.history[:, "valid_loss"])
    np.testing.assert_array_equal(resumed.history[:, "event_lr"], reference.history[:, "event_lr"])
    assert resumed.history[:, "valid_loss_best"] == reference.history[:, "valid_loss_best"]
    _assert_same_weights(_state(last_checkpoint(resumed.checkpoint_dir_) / "module.pt"),
                         _state(last_checkpoint(reference.checkpoint_dir_) / "module.pt"))
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


def test_resume_needs_a_checkpoint_folder(data, tmp_path) -> None:
    X, y, groups = data
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        SpectrogramCNNClassifier(checkpoint_dir=tmp_path, **TINY).resume(X, y, groups=groups, checkpoint=tmp_path / "fit-x")
    with pytest.raises(ValueError, match="checkpoint_dir"):
        SpectrogramCNNClassifier(**TINY).resume(X, y, groups=groups, checkpoint=tmp_path)


# ------------------------------------------------------------------------------ kills and damaged files


class Killed(Exception):
    """The process dies (``kill -9``) at a checkpoint write."""


class Kill:
    """Counts the write steps under ``root`` and kills the process at step ``at`` (None: never).

    A step puts a file or a ``last-*`` folder in place (``os.replace``) or removes an old ``last-*``
    folder. The killed step does not happen (a removal is left half done) and, with
    ``half_written``, the temporary file it would have put in place is cut in half. After the kill
    nothing under ``root`` changes: the removal of temporary files that Python still runs
    (``finally``) is skipped, so they stay behind as after ``kill -9``.
    """

    def __init__(self, root, at: int | None = None, half_written: bool = False) -> None:
        self.root = Path(root)
        self.at = at
        self.half_written = half_written
        self.steps: list[tuple[str, Path]] = []
        self.dead = False

    def install(self, monkeypatch) -> "Kill":
        replace, rmtree, unlink = os.replace, shutil.rmtree, os.unlink

        def kill_replace(src, dst):
            if self._is_kill("replace", dst):
                if self.half_written and Path(src).is_file():
                    os.truncate(src, Path(src).stat().st_size // 2)
                raise Killed(dst)
            if not self._is_frozen(dst):
                replace(src, dst)

        def kill_rmtree(path, *args, **kwargs):
            if re.fullmatch(r"last-\d+", Path(path).name) and self._is_kill("remove", path):
                next(Path(path).iterdir()).unlink()
                raise Killed(path)
            if not self._is_frozen(path):
                rmtree(path, *args, **kwargs)

        def kill_unlink(path, *args, **kwargs):
            if not self._is_frozen(path):
                unlink(path, *args, **kwargs)

        monkeypatch.setattr(os, "replace", kill_replace)
        monkeypatch.setattr(shutil, "rmtree", kill_rmtree)
        monkeypatch.setattr(os, "unlink", kill_unlink)
        return self

    def _is_frozen(self, path) -> bool:
        return self.dead and Path(path).is_relative_to(self.root)

    def _is_kill(self, kind: str, path) -> bool:
        if self.dead or not Path(path).is_relative_to(self.root):
            return False
        self.steps.append((kind, Path(path)))
        self.dead = len(self.steps) == self.at
        return self.dead

    def committed_epochs(self) -> int:
        """``last-*`` folders put in place before the kill: the epoch a resume continues from."""
        return sum(kind == "replace" and bool(re.fullmatch(r"last-\d+", p.name)) for kind, p in self.steps[:-1])


class Snapshots(Callback):
    """Copies of module and optimizer state at the end of every epoch."""

    def on_train_begin(self, net, **kwargs) -> None:
        self.module_, self.optimizer_ = {}, {}

    def on_epoch_end(self, net, **kwargs) -> None:
        epoch = len(net.history)
        self.module_[epoch] = copy.deepcopy(net.module_.state_dict())
        self.optimizer_[epoch] = copy.deepcopy(net.optimizer_.state_dict())


def _assert_same_tree(a, b, where: str = "") -> None:
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _assert_same_tree(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b)):
            _assert_same_tree(u, v, f"{where}/{i}")
    else:
        assert a == b, where


RESUMABLE = {**TINY, "max_epochs": 3, "patience": None}
AUROC = [0.6, 0.5, 0.7]  # best at epochs 1 and 3: a resume from epoch 2 finds an older best file


def _resumable(root, first_epoch: int = 1, *callbacks) -> SpectrogramCNNClassifier:
    """A fit whose validation AUROC is scripted (:data:`AUROC`) from epoch ``first_epoch`` on."""
    auroc = ScriptedScore(AUROC).start(first_epoch)
    return SpectrogramCNNClassifier(
        checkpoint_dir=root, callbacks=[("valid_auroc", ValidScoring(auroc, name="valid_auroc")), *callbacks], **RESUMABLE
    )


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory):
    """An uninterrupted fit, its per-epoch states and the write steps of its checkpoints."""
    X, y, groups = data
    root = tmp_path_factory.mktemp("reference")
    snapshots = Snapshots()
    with pytest.MonkeyPatch.context() as monkeypatch:
        kill = Kill(root).install(monkeypatch)
        clf = _resumable(root, 1, ("snapshots", snapshots)).fit(X, y, groups=groups)
    return clf, snapshots, kill.steps


def _assert_resumed_like(resumed, reference, where: str = "") -> None:
    """``resumed`` ends as the uninterrupted ``reference`` fit: history, weights, checkpoint files."""
    clf = reference[0]
    assert resumed.history[:, "epoch"] == [1, 2, 3], where
    assert resumed.history[:, "valid_loss"] == clf.history[:, "valid_loss"], where
    _assert_same_tree(resumed.module_.state_dict(), clf.module_.state_dict(), where)
    for name in ("best_valid_loss.pt", "best_valid_auroc.pt", "last-0003/module.pt", "last-0003/optimizer.pt"):
        _assert_same_tree(_state(resumed.checkpoint_dir_ / name), _state(clf.checkpoint_dir_ / name), f"{where}: {name}")
    # no leftovers of a kill (temporary files, a half-removed or damaged last-* folder)
    assert {p.name for p in resumed.checkpoint_dir_.iterdir()} == {p.name for p in clf.checkpoint_dir_.iterdir()}, where


@pytest.mark.parametrize("half_written", [False, True], ids=["before-rename", "mid-write"])
def test_a_kill_at_any_checkpoint_write_resumes_from_a_complete_epoch(data, reference, tmp_path, caplog, half_written) -> None:
    X, y, groups = data
    clf, snapshots, steps = reference
    assert len(steps) >= 3 * 6  # per epoch: 4 files and their folder, best files, index (and a removal)
    for at in range(1, len(steps) + 1):
        root = tmp_path / f"kill-{at}"
        crashed = _resumable(root)
        with pytest.MonkeyPatch.context() as monkeypatch:
            kill = Kill(root, at, half_written).install(monkeypatch)
            with pytest.raises(Killed):
                crashed.fit(X, y, groups=groups)
        where = f"killed at step {at}: {kill.steps[-1][0]} {kill.steps[-1][1].relative_to(root)}"
        epoch = kill.committed_epochs()
        last = last_checkpoint(crashed.checkpoint_dir_)
        if epoch == 0:
            assert last is None, where
        else:  # a complete set: module, optimizer and history of one and the same epoch
            assert last.name == f"last-{epoch:04d}", where
            _assert_same_tree(_state(last / "module.pt"), snapshots.module_[epoch], where)
            _assert_same_tree(_state(last / "optimizer.pt"), snapshots.optimizer_[epoch], where)
            history = json.loads((last / "history.json").read_text())
            assert [row["valid_loss"] for row in history] == clf.history[:epoch, "valid_loss"], where
        caplog.clear()
        resumed = _resumable(root, epoch + 1).resume(X, y, groups=groups, checkpoint=crashed.checkpoint_dir_)
        _assert_resumed_like(resumed, reference, where)
        if epoch == 0:
            assert "fitting from scratch" in caplog.text and resumed.checkpoint_dir_ != crashed.checkpoint_dir_, where
        else:
            assert resumed.checkpoint_dir_ == crashed.checkpoint_dir_, where


@pytest.mark.parametrize(
    ("name", "keep"), [("module.pt", 0.0), ("optimizer.pt", 0.5), ("state.pt", 0.0), ("history.json", 0.0), ("history.json", 0.5)]
)
def test_a_damaged_last_checkpoint_falls_back_to_the_epoch_before(data, reference, tmp_path, caplog, name, keep) -> None:
    X, y, groups = data
    directory = Path(shutil.copytree(reference[0].checkpoint_dir_, tmp_path / "fit-copy"))
    damaged = directory / "last-0003" / name
    os.truncate(damaged, int(damaged.stat().st_size * keep))  # empty or cut short
    assert last_checkpoint(directory) == directory / "last-0002"
    assert f"last-0003: {name} is unreadable" in caplog.text
    resumed = _resumable(tmp_path, 3).resume(X, y, groups=groups, checkpoint=directory)
    assert "best_valid_auroc.pt: not the best epoch of the resumed history, removed" in caplog.text
    assert resumed.checkpoint_dir_ == directory
    _assert_resumed_like(resumed, reference)  # epoch 3 trained again, the damaged folder replaced
    assert last_checkpoint(directory) == directory / "last-0003"


def test_a_last_checkpoint_must_end_at_its_epoch(reference, tmp_path, caplog) -> None:
    directory = Path(shutil.copytree(reference[0].checkpoint_dir_, tmp_path / "fit-copy"))
    shutil.copytree(directory / "last-0003", directory / "last-0004")  # a set of epoch 3 under another name
    assert last_checkpoint(directory) == directory / "last-0003"
    assert "last-0004: history.json does not end at epoch 4" in caplog.text


def test_empty_files_of_the_old_layout_fit_from_scratch_with_a_warning(data, reference, tmp_path, caplog) -> None:
    X, y, groups = data
    old = tmp_path / "fit-old"  # what a kill during a write left before (issue #13)
    old.mkdir()
    for name in ("last_module.pt", "last_optimizer.pt", "last_history.json", "last_state.pt", "checkpoints.json"):
        (old / name).touch()
    resumed = _resumable(tmp_path).resume(X, y, groups=groups, checkpoint=old)
    assert "fit-old: no complete checkpoint to resume from; fitting from scratch" in caplog.text
    assert resumed.checkpoint_dir_.parent == tmp_path and resumed.checkpoint_dir_ != old
    _assert_resumed_like(resumed, reference)


def test_latest_last_set_skips_fit_folders_without_a_complete_checkpoint(data, tmp_path, caplog) -> None:
    X, y, groups = data
    complete = SpectrogramCNNClassifier(checkpoint_dir=tmp_path, max_epochs=2, **TINY).fit(X, y, groups=groups).checkpoint_dir_
    damaged = tmp_path / "fit-newer"
    (damaged / "last-0005").mkdir(parents=True)
    for name in ("module.pt", "optimizer.pt", "history.json", "state.pt"):
        (damaged / "last-0005" / name).touch()
    os.utime(complete, (1, 1))  # the damaged folder is the newer one
    assert latest_last_set(tmp_path) == complete / "last-0002"
    for path in complete.glob("last-*/state.pt"):
        path.write_bytes(b"")
    assert latest_last_set(tmp_path) is None
    assert "no complete checkpoint to resume from; training from scratch" in caplog.text
    assert latest_last_set(tmp_path / "not-yet") is None


@pytest.mark.parametrize("text", ["", '{"args_hash": "ab', "[]", "\udcff"])
def test_resuming_a_run_with_a_damaged_manifest_names_the_file(tmp_path, text) -> None:
    (tmp_path / "manifest.json").write_text(text, errors="surrogateescape")
    with pytest.raises(ValueError, match="manifest.json: not") as info:
        deep_training._start_run_dir(tmp_path, "deep-patient", "cnn", tmp_path, None, None, {"args_hash": "ab"})
    assert str(tmp_path / "manifest.json") in str(info.value) and "\n" not in str(info.value)
