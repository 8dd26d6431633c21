"""Optuna studies: spaces, an honest LOSO objective, SQLite/Journal storages, resume, pruning,
parallel worker processes, killed workers (heartbeat) and the dashboard."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from functools import partial
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import yaml
from optuna.trial import TrialState

from sklearn_eeg.evaluation.alarms import AlarmPolicy, simulate_risk_timeline
from sklearn_eeg.experiments import studies
from sklearn_eeg.experiments.config import load_config
from sklearn_eeg.evaluation.model_selection import loso_splits
from sklearn_eeg.evaluation.scoring import tune_threshold
from sklearn_eeg.experiments.studies import (
    HeartbeatJournalStorage,
    build_estimator,
    classical_space,
    cnn_space,
    make_objective,
    resolve_storage,
    run_study,
    write_results,
)

REPO = Path(__file__).resolve().parents[1]
N_SUBJECTS = 5

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def data():
    """Window table of 5 subjects (2 h each, 1-2 seizures each) and feature sets of differing quality."""
    risk, meta = simulate_risk_timeline(N_SUBJECTS, 10, seizure_every_h=1.5, random_state=3)
    classes = meta.groupby("subject")["label"].agg(lambda labels: set(labels) >= {0, 1})
    assert classes.all()  # both classes in every subject (plus excluded windows, label -1)
    rng = np.random.default_rng(0)
    # the simulated risk rises by 1 logit before onsets; the good feature set doubles that rise, so that
    # alarm-level sensitivity (one warning per SPH + SOP on the subject timeline) separates the sets
    logit = np.log(risk / (1 - risk)) + 1.0 * (meta["label"].to_numpy() == 1)
    good = np.c_[logit + rng.normal(0, 0.5, risk.size), rng.normal(size=(risk.size, 2))]
    features = {
        "basic": good,
        "basic_plus": np.c_[good, rng.normal(size=(risk.size, 3))],
        "noise": rng.normal(size=(risk.size, 3)),
    }
    return features, meta["label"].to_numpy(), meta["subject"].to_numpy(), meta


def logreg_space(trial, feature_sets=("basic", "basic_plus")):
    """The classical space restricted to logistic regression: fast trials for tests."""
    return classical_space(trial, models=("logreg",), feature_sets=feature_sets)


def objective_for(data, **kwargs):
    features, y, groups, meta = data
    kwargs.setdefault("space", logreg_space)
    kwargs.setdefault("fah_target", 1.0)
    return make_objective(features, y, groups, meta, **kwargs)


# ------------------------------------------------------------------------------ spaces


def test_spaces_draw_within_documented_ranges():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(40):
        params = classical_space(study.ask())
        seen.add(params["model"])
        mp, alarm = params["model_params"], params["alarm_params"]
        if params["model"] == "logreg":
            assert 1e-3 <= mp["C"] <= 1e2
        elif params["model"] == "hgb":
            assert 2 <= mp["max_depth"] <= 8 and 0.01 <= mp["learning_rate"] <= 0.3
        else:
            assert 16 <= mp["hidden_size"] <= 128
        assert params["feature_set"] in ("basic", "basic_plus")
        assert alarm["smoothing"] in (None, "ema") and 1 <= alarm["persistence"] <= 3
        assert ("alpha" in alarm) == (alarm["smoothing"] == "ema")
        if "alpha" in alarm:
            assert 0.1 <= alarm["alpha"] <= 0.9
    assert seen == {"logreg", "hgb", "mlp"}
    augment = set()
    for _ in range(20):
        params = cnn_space(study.ask())
        mp = params["model_params"]
        assert params["model"] == "cnn" and params["feature_set"] is None
        assert 0.2 <= mp["dropout"] <= 0.5 and 1e-4 <= mp["weight_decay"] <= 1e-3 and 1.5 <= mp["focal_gamma"] <= 3
        augment.add(mp["augmentation"])
    assert augment == {False, True}
    with pytest.raises(ValueError, match="models"):
        classical_space(study.ask(), models=("svm",))


@pytest.mark.parametrize(
    ("fixed", "expected"),
    [
        ({"model": "logreg", "C": 0.5}, {"clf__C": 0.5}),
        ({"model": "hgb", "max_depth": 3, "learning_rate": 0.05}, {"clf__max_depth": 3, "clf__learning_rate": 0.05}),
        ({"model": "mlp", "hidden_size": 24}, {"clf__estimator__hidden_layer_sizes": [24]}),
    ],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_build_estimator_maps_classical_params(data, fixed, expected):
    features, y, *_ = data
    trial = optuna.trial.FixedTrial({**fixed, "feature_set": "basic", "smoothing": "none", "persistence": 1})
    params = classical_space(trial)
    est = build_estimator(params, fixed_params={"max_iter": 20})
    got = est.get_params()
    assert {k: got[k] for k in expected} == expected
    assert [name for name, _ in est.steps] == ["scaler", "clf"]  # takes precomputed features
    rows = np.r_[np.flatnonzero(y == 0)[:400], np.flatnonzero(y == 1)[:200]]
    proba = est.fit(features["basic"][rows], y[rows]).predict_proba(features["basic"][:50])
    assert proba.shape == (50, 2)


def test_build_estimator_maps_cnn_params():
    trial = optuna.trial.FixedTrial(
        {"dropout": 0.3, "weight_decay": 5e-4, "focal_gamma": 2.5, "augmentation": True, "smoothing": "ema",
         "alpha": 0.4, "persistence": 2}
    )
    params = cnn_space(trial)
    assert params["alarm_params"] == {"smoothing": "ema", "alpha": 0.4, "persistence": 2}
    net = build_estimator(params, fixed_params={"max_epochs": 2})
    got = net.get_params()
    assert got["module__dropout"] == 0.3 and got["optimizer__weight_decay"] == 5e-4
    assert got["loss"] == "focal" and got["focal_gamma"] == 2.5 and got["max_epochs"] == 2
    assert got["module__signal_augment"] is not None and got["module__spec_augment"] is not None
    off = build_estimator({**params, "model_params": {**params["model_params"], "augmentation": False}})
    assert off.get_params()["module__signal_augment"] is None
    with pytest.raises(ValueError, match="unknown model"):
        build_estimator({**params, "model": "svm"})


# ------------------------------------------------------------------------------ objective


def test_objective_folds_are_subject_wise_and_threshold_comes_from_validation(data):
    features, y, groups, meta = data
    objective = objective_for(data)
    assert len(objective.folds) == N_SUBJECTS and sorted(objective.test_subjects) == sorted(set(groups))
    for (train, val, test), expected in zip(objective.folds, loso_splits(groups, n_val_subjects=1, random_state=0)):
        assert [np.array_equal(a, b) for a, b in zip((train, val, test), expected)] == [True] * 3
        assert len({*groups[train]} & {*groups[val]}) == len({*groups[train]} & {*groups[test]}) == 0
        assert len(set(groups[val])) == 1 and len(set(groups[test])) == 1
    params = logreg_space(optuna.trial.FixedTrial({"model": "logreg", "C": 1.0, "feature_set": "basic",
                                                   "smoothing": "none", "persistence": 1}))
    fold = objective.evaluate_fold(params, 0)
    # the same numbers by hand: threshold tuned on the validation subject, applied to the test subject
    train, val, test = objective.folds[0]
    labeled = train[y[train] >= 0]  # excluded windows (-1) never train
    est = build_estimator(params).fit(features["basic"][labeled], y[labeled])
    table = tune_threshold(est.predict_proba(features["basic"][val])[:, 1], meta.iloc[val], (1.0,),
                           test_risk=est.predict_proba(features["basic"][test])[:, 1], test_meta=meta.iloc[test],
                           n_thresholds=100, policy=AlarmPolicy(persistence=1, smoothing=None))
    assert fold["threshold"] == table["threshold"].iloc[0]
    assert fold["sensitivity"] == table["test_sensitivity"].iloc[0]
    # the test subject's data never moves the threshold
    scrambled = dict(features)
    scrambled["basic"] = features["basic"].copy()
    scrambled["basic"][test] = np.random.default_rng(1).normal(size=scrambled["basic"][test].shape)
    other = make_objective(scrambled, y, groups, meta, space=logreg_space, fah_target=1.0).evaluate_fold(params, 0)
    assert other["threshold"] == fold["threshold"] and other["val_sensitivity"] == fold["val_sensitivity"]


def test_make_objective_rejects_bad_inputs(data):
    features, y, groups, meta = data
    with pytest.raises(ValueError, match="space"):
        make_objective(features, y, groups, meta, space="svm")
    with pytest.raises(ValueError, match="rows"):
        make_objective(features["basic"][:10], y, groups, meta)
    with pytest.raises(ValueError, match="column"):
        make_objective(features, y, groups, meta.drop(columns="tte"))
    with pytest.raises(ValueError, match="directions"):
        make_objective(features, y, groups, meta, directions=["minimize"])
    with pytest.raises(ValueError, match="preictal"):
        make_objective(features, np.zeros_like(y), groups, meta)
    trial = optuna.create_study().ask()
    assert make_objective(features["basic"], y, groups, meta).space(trial)["feature_set"] is None  # one matrix
    assert "feature_set" not in trial.params
    with pytest.raises(ValueError, match="feature_set"):
        objective_for(data, space=partial(logreg_space, feature_sets=("connectivity",)))(optuna.create_study().ask())


# ------------------------------------------------------------------------------ studies


def test_tiny_study_on_sqlite_writes_results_and_resumes(data, tmp_path):
    objective = objective_for(data)
    storage = f"sqlite:///{tmp_path / 'tiny.db'}"
    study = run_study("tiny", objective, storage=storage, n_trials=3, seed=0, out_dir=tmp_path / "tables",
                      show_progress_bar=False)
    assert [t.number for t in study.trials] == [0, 1, 2]
    for trial in study.get_trials(states=(TrialState.COMPLETE,)):
        folds = trial.user_attrs["folds"]
        assert len(folds) == N_SUBJECTS
        sens = [f["sensitivity"] for f in folds.values() if f["sensitivity"] is not None]
        assert trial.value == pytest.approx(np.mean(sens))
        assert 0.0 <= trial.value <= 1.0
        # one report per fold, keyed by the fold index, equal to that fold's test sensitivity
        assert trial.intermediate_values == {
            k: folds[s]["sensitivity"] for k, s in enumerate(objective.test_subjects) if folds[s]["sensitivity"] is not None
        }
    table = pd.read_csv(tmp_path / "tables" / "sweep_results.csv")
    assert len(table) == 3 and {"number", "value_mean_test_sensitivity", "state", "params_C",
                                "params_feature_set"} <= set(table.columns)
    best = yaml.safe_load((tmp_path / "tables" / "sweep_summary.yaml").read_text())
    assert best["study"] == "tiny" and best["best"][0]["trial"] == study.best_trial.number
    assert best["best"][0]["params"] == study.best_trial.params
    assert best["metric_names"] == ["mean_test_sensitivity"]
    # the best trial as run-config sections that the config loader accepts
    cfg = load_config(**best["run_config"])
    assert cfg.model.name == "logreg" and cfg.model.params == {"C": study.best_trial.params["C"]}
    assert cfg.features.feature_set == study.best_trial.params["feature_set"]
    assert cfg.alarms.persistence == study.best_trial.params["persistence"]
    # ... and as a whole run config file, loaded as is (no run_config given: the schema defaults around it)
    text = (tmp_path / "tables" / "best_config.yaml").read_text()
    assert text.startswith("# Best trial of the Optuna study 'tiny'") and "mean_test_sensitivity" in text
    assert load_config(tmp_path / "tables" / "best_config.yaml") == cfg
    # resume: same name and storage add trials to the same study
    again = run_study("tiny", objective, storage=storage, n_trials=2, seed=1, show_progress_bar=False)
    assert [t.number for t in again.trials] == [0, 1, 2, 3, 4]
    assert len(optuna.get_all_study_names(storage)) == 1
    with pytest.raises(ValueError, match="directions"):
        run_study("tiny", objective, storage=storage, n_trials=1, directions=["maximize", "maximize"])


def test_default_storage_is_sqlite_under_studies_dir(tmp_path):
    storage = resolve_storage(None, "named", studies_dir=tmp_path / "studies")
    assert isinstance(storage, optuna.storages.RDBStorage)
    optuna.create_study(study_name="named", storage=storage)
    assert (tmp_path / "studies" / "named.db").is_file()
    journal = resolve_storage(str(tmp_path / "j" / "x.log"), "named")
    assert isinstance(journal, optuna.storages.JournalStorage)


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_wilcoxon_pruner_prunes_a_trial_worse_on_every_fold(data, tmp_path):
    space = partial(logreg_space, feature_sets=("basic", "noise"))
    objective = objective_for(data, space=space)
    study = optuna.create_study(study_name="p", storage=f"sqlite:///{tmp_path / 'p.db'}", direction="maximize",
                                pruner=optuna.pruners.WilcoxonPruner(p_threshold=0.2, n_startup_steps=0))
    good = {"model": "logreg", "C": 1.0, "smoothing": "none", "persistence": 1}
    study.enqueue_trial({**good, "feature_set": "basic"})
    study.enqueue_trial({**good, "feature_set": "noise"})
    study.optimize(objective, n_trials=2)
    first, second = study.trials
    assert first.state == TrialState.COMPLETE and len(first.intermediate_values) == N_SUBJECTS
    assert second.state == TrialState.PRUNED
    assert 3 <= len(second.intermediate_values) < N_SUBJECTS  # stopped early, after the folds it reported
    # sensitivities of 1-2 seizures per subject are coarse (0, 0.5, 1): ties happen, never a better fold
    steps = sorted(second.intermediate_values)
    worse = [second.intermediate_values[k] for k in steps]
    better = [first.intermediate_values[k] for k in steps]
    assert all(w <= b for w, b in zip(worse, better)) and np.mean(worse) < np.mean(better)
    assert "mean_sensitivity_so_far" in second.user_attrs


def test_multi_objective_returns_sensitivity_and_auprc_without_pruning(data, tmp_path):
    objective = objective_for(data, directions=["maximize", "maximize"])
    study = run_study("mo", objective, storage=f"sqlite:///{tmp_path / 'mo.db'}", n_trials=2,
                      out_dir=tmp_path, show_progress_bar=False)
    assert len(study.directions) == 2 and isinstance(study.pruner, optuna.pruners.NopPruner)
    for trial in study.trials:
        assert trial.state == TrialState.COMPLETE and len(trial.values) == 2
        assert trial.intermediate_values == {}  # Optuna cannot report/prune multi-objective trials
        assert trial.values[1] == pytest.approx(trial.user_attrs["mean_auprc"])
    summary = yaml.safe_load((tmp_path / "sweep_summary.yaml").read_text())
    front = summary["pareto_front"]
    assert {t["trial"] for t in front} == {t.number for t in study.best_trials}
    assert summary["metric_names"] == study.metric_names == ["mean_test_sensitivity", "mean_test_auprc"]
    for t in front:  # each Pareto-optimal trial as run-config sections, to pick one by hand
        assert load_config(**t["run_config"]).model.name == "logreg"
    assert not (tmp_path / "best_config.yaml").exists()  # no single best trial, so no run config to run as is


WORKER = """
import os, sys, time
from pathlib import Path
import numpy as np, pandas as pd
from functools import partial
from sklearn_eeg.experiments.studies import classical_space, make_objective, run_study

barrier, storage, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
d = np.load(barrier / "data.npz", allow_pickle=False)
meta = pd.read_pickle(barrier / "meta.pkl")
objective = make_objective({{"basic": d["basic"]}}, d["y"], d["groups"], meta, fah_target=1.0,
                           space=partial(classical_space, models=("logreg",), feature_sets=("basic",)))
(barrier / f"ready-{{seed}}").touch()
while len(list(barrier.glob("ready-*"))) < 2:  # both workers start optimizing together
    time.sleep(0.05)

def tagged(trial):
    trial.set_user_attr("worker", os.getpid())
    return objective(trial)

run_study("shared", tagged, storage=storage, n_trials={n_trials}, max_trials={max_trials}, seed=seed,
          show_progress_bar=False)
"""


@pytest.mark.parametrize("kind", ["journal", pytest.param("sqlite", marks=pytest.mark.slow)])
def test_two_worker_processes_share_one_study(data, tmp_path, kind):
    features, y, groups, meta = data
    keep = np.isin(groups, np.unique(groups)[:3])  # 3 subjects: fast trials
    np.savez(tmp_path / "data.npz", basic=features["basic"][keep], y=y[keep], groups=groups[keep].astype(str))
    meta[keep].reset_index(drop=True).to_pickle(tmp_path / "meta.pkl")
    total = 6
    script = tmp_path / "worker.py"
    script.write_text(WORKER.format(n_trials=total, max_trials=total))
    storage = str(tmp_path / "journal.log") if kind == "journal" else f"sqlite:///{tmp_path / 'shared.db'}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    workers = [
        subprocess.Popen([sys.executable, str(script), str(tmp_path), storage, str(seed)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for seed in (1, 2)
    ]
    for w in workers:
        out, _ = w.communicate(timeout=120)
        assert w.returncode == 0, out
    study = optuna.load_study(study_name="shared", storage=resolve_storage(storage, "shared"))
    numbers = [t.number for t in study.trials]
    assert len(numbers) == len(set(numbers)) and sorted(numbers) == list(range(len(numbers)))
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    # MaxTrialsCallback stops both workers; each may finish the trial it was running
    assert total <= len(complete) <= total + 1
    assert {t.user_attrs["worker"] for t in complete} == {w.pid for w in workers}


def test_run_study_respects_max_trials_of_an_existing_study(data, tmp_path):
    objective = objective_for(data)
    storage = f"sqlite:///{tmp_path / 'm.db'}"
    run_study("m", objective, storage=storage, n_trials=2, show_progress_bar=False)
    study = run_study("m", objective, storage=storage, n_trials=5, max_trials=2, show_progress_bar=False)
    assert len(study.trials) == 2


# ------------------------------------------------------------------------------ killed workers (heartbeat)

RETRY = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None) or optuna.storages.RetryFailedTrialCallback


def cheap_objective(trial):
    """A two-parameter objective that needs no data."""
    return trial.suggest_float("x", 0.0, 1.0) + (trial.suggest_categorical("c", ["a", "b"]) == "b")


def storage_url(tmp_path, kind):
    return f"sqlite:///{tmp_path / 'k.db'}" if kind == "sqlite" else str(tmp_path / "k.log")


def last_heartbeat_an_hour_ago(study, trial, kind, path):
    """What a worker killed an hour ago leaves: a RUNNING trial whose last heartbeat is an hour old."""
    if kind == "sqlite":
        study._storage.record_heartbeat(trial._trial_id)  # stamped by the database clock
        with sqlite3.connect(path) as db:
            db.execute("UPDATE trial_heartbeats SET heartbeat = datetime('now', '-1 hour') WHERE trial_id = ?",
                       (trial._trial_id,))
    else:
        study._storage.set_trial_system_attr(trial._trial_id, studies._HEARTBEAT_ATTR,
                                             [trial.number, time.time() - 3600])


def test_storages_have_a_heartbeat_by_default(tmp_path):
    sqlite = resolve_storage(None, "h", studies_dir=tmp_path)
    assert (sqlite.heartbeat_interval, sqlite.grace_period) == (60, 180)
    assert sqlite.failed_trial_callback.max_retry == 2  # the retry of killed trials (any Optuna >= 4.0)
    journal = resolve_storage(str(tmp_path / "h.log"), "h", heartbeat_s=5, grace_s=20, max_retry=1)
    assert isinstance(journal, HeartbeatJournalStorage) and journal.get_heartbeat_interval() == 5
    off = resolve_storage(str(tmp_path / "off.log"), "h", heartbeat_s=0)
    assert type(off) is optuna.storages.JournalStorage  # Optuna's own: no heartbeat
    assert resolve_storage(None, "off", studies_dir=tmp_path, heartbeat_s=None).heartbeat_interval is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"heartbeat_s": -1}, "heartbeat_s must be"),
        ({"heartbeat_s": 1.5}, "heartbeat_s must be"),
        ({"grace_s": 0}, "grace_s must be"),
        ({"heartbeat_s": 60, "grace_s": 60}, r"grace_s \(60\) must exceed heartbeat_s \(60\)"),
        ({"max_retry": -1}, "max_retry must be"),
    ],
)
def test_bad_heartbeat_settings_are_refused(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        resolve_storage(None, "bad", studies_dir=tmp_path, **kwargs)
    with pytest.raises(ValueError, match=message):
        run_study("bad", cheap_objective, storage=str(tmp_path / "bad.log"), n_trials=1, **kwargs)


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
@pytest.mark.parametrize("max_retry", [2, 0])
@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")  # retried_trial_number
def test_a_killed_workers_trial_is_failed_and_rerun_with_its_parameters(tmp_path, kind, max_retry, caplog):
    storage = storage_url(tmp_path, kind)
    # two workers with a trial each: one was killed an hour ago, the other is alive (fresh heartbeat)
    workers = optuna.create_study(study_name="k", storage=resolve_storage(storage, "k", heartbeat_s=1, grace_s=30),
                                  direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    dead, alive = workers.ask(), workers.ask()
    cheap_objective(dead)
    cheap_objective(alive)
    workers._storage.record_heartbeat(alive._trial_id)
    assert workers._storage._get_stale_trial_ids(workers._study_id) == []  # a fresh heartbeat is not stale
    last_heartbeat_an_hour_ago(workers, dead, kind, tmp_path / "k.db")

    with caplog.at_level("WARNING", logger="sklearn_eeg.experiments.studies"):
        study = run_study("k", cheap_objective, storage=storage, n_trials=1, heartbeat_s=1, grace_s=30,
                          max_retry=max_retry, seed=1, show_progress_bar=False)
    killed, running, new = study.trials
    assert killed.state == TrialState.FAIL and running.state == TrialState.RUNNING
    assert new.state == TrialState.COMPLETE and new.value == cheap_objective(optuna.trial.FixedTrial(new.params))
    (record,) = [r for r in caplog.records if r.name == "sklearn_eeg.experiments.studies"]
    assert "trial 0 (first run) had no heartbeat for over 30 s" in record.getMessage()
    if max_retry:
        assert new.params == killed.params and RETRY.retried_trial_number(new) == killed.number
        assert "rerun with the same parameters (retry 1 of 2)" in record.getMessage()
    else:
        assert RETRY.retried_trial_number(new) is None  # a fresh draw
        assert "not rerun" in record.getMessage()


KILLED_WORKER = """
import sys, time
from pathlib import Path
from sklearn_eeg.experiments.studies import run_study

storage, started = sys.argv[1], Path(sys.argv[2])

def objective(trial):
    trial.suggest_float("x", 0.0, 1.0)
    trial.suggest_categorical("c", ["a", "b"])
    started.touch()
    time.sleep(600)  # killed before it returns

run_study("killed", objective, storage=storage, n_trials=1, heartbeat_s=1, grace_s=2, show_progress_bar=False)
"""


def heartbeat_recorded(storage, kind, path) -> bool:
    """Whether the worker's running trial has recorded a heartbeat (read without a heartbeat of our own)."""
    if kind == "sqlite":
        with sqlite3.connect(path) as db:
            return db.execute("SELECT COUNT(*) FROM trial_heartbeats").fetchone()[0] > 0
    (trial,) = optuna.load_study(study_name="killed", storage=resolve_storage(storage, "killed", heartbeat_s=0)).trials
    return studies._HEARTBEAT_ATTR in trial.system_attrs


@pytest.mark.parametrize("kind", ["journal", pytest.param("sqlite", marks=pytest.mark.slow)])
@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")  # retried_trial_number
def test_kill_9_of_a_sweep_worker_leaves_a_trial_the_next_worker_reruns(tmp_path, kind):
    """The issue's scenario with a real process: ``kill -9`` in the middle of a trial."""
    storage, started = storage_url(tmp_path, kind), tmp_path / "started"
    script = tmp_path / "worker.py"
    script.write_text(KILLED_WORKER)
    worker = subprocess.Popen([sys.executable, str(script), storage, str(started)],
                              env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert worker.poll() is None, worker.communicate()[0]
            assert time.monotonic() < deadline, "the worker did not start its trial within 60 s"
            time.sleep(0.05)
        while not heartbeat_recorded(storage, kind, tmp_path / "k.db"):
            assert time.monotonic() < deadline, "the worker recorded no heartbeat within 60 s"
            time.sleep(0.05)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.communicate(timeout=30)
    assert worker.returncode == -signal.SIGKILL
    watcher = resolve_storage(storage, "killed", heartbeat_s=1, grace_s=2)
    study_id = watcher.get_study_id_from_name("killed")
    (trial,) = watcher.get_all_trials(study_id)
    assert trial.state == TrialState.RUNNING  # what the issue reports: RUNNING forever without a heartbeat
    deadline = time.monotonic() + 20
    while not watcher._get_stale_trial_ids(study_id):  # the grace period (2 s) passes
        assert time.monotonic() < deadline, "the killed trial did not become stale within 20 s"
        time.sleep(0.2)

    study = run_study("killed", cheap_objective, storage=storage, n_trials=1, heartbeat_s=1, grace_s=2,
                      show_progress_bar=False)
    killed, rerun = study.trials
    assert killed.state == TrialState.FAIL and killed.datetime_complete is not None
    assert rerun.state == TrialState.COMPLETE and rerun.params == killed.params
    assert RETRY.retried_trial_number(rerun) == killed.number == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dashboard_serves_the_study(data, tmp_path):
    objective = objective_for(data)
    db = tmp_path / "x.db"
    study = run_study("dash_study", objective, storage=f"sqlite:///{db}", n_trials=1, show_progress_bar=False)
    write_results(study, tmp_path)
    dashboard = Path(sys.executable).parent / "optuna-dashboard"
    if not dashboard.is_file():
        pytest.skip("optuna-dashboard is not installed (pip install sklearn-eeg[dashboard])")
    port = _free_port()
    proc = subprocess.Popen([str(dashboard), f"sqlite:///{db}", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, body = time.monotonic() + 30, None
        while body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=2) as response:
                    body = json.load(response)
            except OSError:
                assert proc.poll() is None, "optuna-dashboard exited"
                assert time.monotonic() < deadline, "optuna-dashboard did not answer within 30 s"
                time.sleep(0.3)
        names = [s["study_name"] for s in body["study_summaries"]]
        assert names == ["dash_study"]
        study_id = body["study_summaries"][0]["study_id"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies/{study_id}", timeout=10) as response:
            detail = json.load(response)
        assert len(detail["trials"]) == 1
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_cnn_objective_runs_on_raw_windows(data, tmp_path):
    pytest.importorskip("torch")
    _, y, groups, meta = data
    keep = np.flatnonzero(np.isin(groups, np.unique(groups)[:3]))[::6]  # 3 subjects, every 6th window
    rng = np.random.default_rng(0)
    X = rng.normal(size=(keep.size, 2, 768)).astype(np.float32) * (1 + y[keep])[:, None, None]
    objective = make_objective(X, y[keep], groups[keep], meta.iloc[keep], space="cnn", fah_target=2.0,
                               fixed_params={"cnn": {"max_epochs": 1, "module__n_filters": (4, 8), "device": "cpu",
                                                     "train_split": None, "batch_size": 128}})
    study = run_study("cnn", objective, storage=f"sqlite:///{tmp_path / 'cnn.db'}", n_trials=1,
                      show_progress_bar=False)
    (trial,) = study.trials
    assert trial.state == TrialState.COMPLETE and 0.0 <= trial.value <= 1.0
    assert {"dropout", "weight_decay", "focal_gamma", "augmentation", "smoothing", "persistence"} <= set(trial.params)
    assert len(trial.user_attrs["folds"]) == 3


def load_sweep_script():
    spec = importlib.util.spec_from_file_location("sweep_script", REPO / "pipelines" / "sweep.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sweep_script_precomputes_each_feature_set_once_and_runs_the_study(data, tmp_path, monkeypatch):
    """The command line -> config -> data -> study wiring, with the dataset loader replaced."""
    features, y, groups, meta = data
    calls = []

    def load_dataset(cfg, *, features: bool = True, progress: bool = True):
        calls.append((cfg.data.preset, cfg.features.feature_set, features, cfg.seed))
        return data[0][cfg.features.feature_set], y, groups, meta

    monkeypatch.setattr(studies, "load_dataset", load_dataset)
    argv = ["--study", "cli", "--preset", "tiny", "--n_trials", "2", "--models", "logreg", "--fah_target", "1.0",
            "--seed", "3", "--studies_dir", str(tmp_path / "studies"), "--out_dir", str(tmp_path / "tables"), "--quiet"]
    assert load_sweep_script().main(argv) == 0
    assert calls == [("tiny", "basic", True, 3), ("tiny", "basic_plus", True, 3)]
    study = optuna.load_study(study_name="cli", storage=f"sqlite:///{tmp_path / 'studies' / 'cli.db'}")
    assert len(study.trials) == 2 and {t.params["model"] for t in study.trials} == {"logreg"}
    assert (tmp_path / "tables" / "sweep_results.csv").is_file() and (tmp_path / "tables" / "best_config.yaml").is_file()
    with pytest.raises(SystemExit):
        load_sweep_script().main([*argv, "--space", "svm"])
    assert load_sweep_script().main([*argv, "--config", str(tmp_path / "missing.yaml")]) == 2


def test_sweep_script_passes_and_checks_the_heartbeat_options(tmp_path, monkeypatch, capsys):
    loaded, runs = [], []
    monkeypatch.setattr(studies, "load_dataset", lambda *args, **kwargs: loaded.append(args) or (None,) * 4)
    monkeypatch.setattr(studies, "make_objective", lambda *args, **kwargs: cheap_objective)

    def run_study(name, objective, **kwargs):
        runs.append(kwargs)
        return optuna.create_study(study_name=name)

    monkeypatch.setattr(studies, "run_study", run_study)
    argv = ["--study", "hb", "--preset", "tiny", "--models", "logreg", "--feature_sets", "basic", "--quiet",
            "--out_dir", str(tmp_path)]
    assert load_sweep_script().main(argv) == 0
    assert {k: runs[0][k] for k in ("heartbeat_s", "grace_s", "max_retry")} == {"heartbeat_s": 60, "grace_s": 180,
                                                                                  "max_retry": 2}
    assert load_sweep_script().main([*argv, "--heartbeat_s", "10", "--grace_s", "40", "--max_retry", "0"]) == 0
    assert {k: runs[1][k] for k in ("heartbeat_s", "grace_s", "max_retry")} == {"heartbeat_s": 10, "grace_s": 40,
                                                                                  "max_retry": 0}
    capsys.readouterr()
    for bad in (["--heartbeat_s", "-5"], ["--grace_s", "30"], ["--max_retry", "-1"]):  # 30 <= the 60 s heartbeat
        assert load_sweep_script().main([*argv, *bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {bad[0][2:]}") and err.count("\n") == 1, err
    assert len(loaded) == 2 and len(runs) == 2  # refused before loading any data


def test_sweep_script_help():
    out = subprocess.run([sys.executable, str(REPO / "pipelines" / "sweep.py"), "--help"], capture_output=True,
                         text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr
    for option in ("--study", "--n_trials", "--storage", "--space", "--preset", "--data_root", "--out_dir",
                   "--heartbeat_s", "--grace_s", "--max_retry"):
        assert option in out.stdout


@pytest.mark.slow
def test_sweep_script_end_to_end_on_the_tiny_synthetic_dataset(tmp_path):
    """Synthetic EDFs -> windows -> two feature sets -> a 2-trial study -> results (about 1 min)."""
    pytest.importorskip("sklearn_eeg.signal.windows")
    cmd = [sys.executable, str(REPO / "pipelines" / "sweep.py"), "--study", "e2e", "--preset", "tiny",
           "--n_val_subjects", "1", "--n_trials", "2", "--models", "logreg", "--fah_target", "1.0", "--quiet",
           "--cache_dir", str(tmp_path / "cache"), "--studies_dir", str(tmp_path / "studies"),
           "--out_dir", str(tmp_path / "tables")]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr[-3000:]
    study = optuna.load_study(study_name="e2e", storage=f"sqlite:///{tmp_path / 'studies' / 'e2e.db'}")
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(study.trials) == 2 and complete
    assert {len(t.user_attrs["folds"]) for t in complete} == {3}  # tiny preset: 3 subjects, 3 LOSO folds
    assert all(0.0 <= t.value <= 1.0 for t in complete)
    assert load_config(tmp_path / "tables" / "best_config.yaml").model.name == "logreg"


# ------------------------------------------------------------------------------ named objectives, best config


@pytest.mark.parametrize("directions", [["maximize"], ["maximize", "maximize"]])
def test_objectives_are_named_for_the_dashboard(data, tmp_path, directions):
    """``set_metric_names`` at creation: the dashboard and the trials table say what was maximized."""
    objective = objective_for(data, directions=directions)
    storage = f"sqlite:///{tmp_path / 'named.db'}"
    study = run_study("named", objective, storage=storage, n_trials=1, show_progress_bar=False)
    expected = ["mean_test_sensitivity", "mean_test_auprc"][: len(directions)]
    assert objective.metric_names == expected
    assert optuna.load_study(study_name="named", storage=storage).metric_names == expected  # stored, not in memory
    prefix = "value" if len(directions) == 1 else "values"
    assert {f"{prefix}_{name}" for name in expected} <= set(study.trials_dataframe().columns)


def test_run_study_names_any_objective_and_checks_the_names(tmp_path):
    study = run_study("plain", cheap_objective, storage=f"sqlite:///{tmp_path / 'p.db'}", n_trials=1,
                      show_progress_bar=False)
    assert study.metric_names is None  # a plain function carries no names; none are invented
    named = run_study("plain", cheap_objective, storage=f"sqlite:///{tmp_path / 'p.db'}", n_trials=1,
                      metric_names=["score"], show_progress_bar=False)  # resumed study, named now
    assert named.metric_names == ["score"]
    with pytest.raises(ValueError, match="metric_names"):
        run_study("bad", cheap_objective, storage=f"sqlite:///{tmp_path / 'b.db'}", n_trials=1,
                  metric_names=["a", "b"], show_progress_bar=False)


def test_best_config_is_the_sweep_config_with_the_best_trial(data, tmp_path):
    """The sweep's data, labeling, split and seed stay; model, features and searched alarm settings come
    from the best trial, the model's fixed parameters included; the default cache folder is not pinned."""
    objective = objective_for(data, fixed_params={"logreg": {"max_iter": 500}})
    sweep_cfg = load_config("small_run", labeling__sop=900.0, alarms__refractory=1200.0, seed=4,
                            data__cache_dir=str(tmp_path / "cache"))
    study = run_study("bc", objective, storage=f"sqlite:///{tmp_path / 'bc.db'}", n_trials=2, out_dir=tmp_path,
                      run_config=sweep_cfg, show_progress_bar=False)
    best = load_config(tmp_path / "best_config.yaml")
    params = study.best_trial.params
    assert best.model.name == "logreg" and best.model.params == {"max_iter": 500, "C": params["C"]}
    assert best.features.feature_set == params["feature_set"] and best.alarms.persistence == params["persistence"]
    assert best.alarms.refractory == 1200.0 and best.labeling.sop == 900.0 and best.seed == 4
    assert best.split == sweep_cfg.split and best.data.subjects == sweep_cfg.data.subjects
    assert best.data.cache_dir == str(tmp_path / "cache")  # a folder the sweep was given is kept
    on_default = studies.best_run_config(load_config("small_run"), {"model": {"name": "hgb", "params": {}}})
    assert on_default["data"]["cache_dir"] is None  # the default location: whoever runs it uses theirs
    assert on_default["model"] == {"name": "hgb", "sampler": None, "params": {}}  # no logreg C left over


def test_sweep_writes_a_best_config_that_loso_runs_as_is(tmp_path, capsys):
    """A 2-trial sweep on the tiny preset, then ``loso.py --config best_config.yaml`` (issue #14)."""
    from sklearn_eeg.commands import loso

    cache = REPO / "cache"  # the shared, git-ignored preset cache of test_chance / test_benchmark
    tables = tmp_path / "tables"
    argv = ["--study", "to_loso", "--preset", "tiny", "--cache_dir", str(cache), "--models", "logreg",
            "--feature_sets", "basic_plus", "--n_trials", "2", "--n_val_subjects", "1", "--fah_target", "1.0",
            "--studies_dir", str(tmp_path / "studies"), "--out_dir", str(tables), "--quiet"]
    assert load_sweep_script().main(argv) == 0
    best = tables / "best_config.yaml"
    assert best.is_file() and not (tables / "best_config.txt").exists()
    assert loso.main(["--config", str(best), "--out_dir", str(tmp_path / "reports"), "--no_figures", "--quiet"]) == 0
    assert "LOSO, model logreg, 3 test subjects" in capsys.readouterr().out
    results = pd.read_csv(tmp_path / "reports" / "tables" / "loso_results.csv")
    assert results["test_subject"].nunique() == 3
