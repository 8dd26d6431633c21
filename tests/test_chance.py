"""Chance baselines: sklearn conformance, seeding, blindness to X, the model registry, short runs.

The estimators accept 2-D input, so they run the full ``parametrize_with_checks`` suite; the only
expected failures are the two invariance checks that a timeline-ordered random walk breaks by design.
3-D windows get our own checks (clone round trip, pickling, determinism). End-to-end runs use the
``tiny`` preset (3 subjects) from the shared, git-ignored preset cache, with features cached there.
"""

from __future__ import annotations

import pickle
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import yaml
from scipy.special import logit
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_eeg.experiments.benchmark import loso_from_config
from sklearn_eeg.models.registry import MODEL_NAMES, make_model
from sklearn_eeg.models.chance import CHANCE_MODELS, ConstantRiskClassifier, RandomWalkRiskClassifier, make_chance
from sklearn_eeg.commands.options import MODEL_CHOICES
from sklearn_eeg.experiments.config import load_config
from sklearn_eeg.experiments.studies import build_estimator, classical_space, run_config_sections

REPO = Path(__file__).resolve().parents[1]
PRESET_CACHE = REPO / "cache"  # shared with test_benchmark.py: generated once, reused

ESTIMATORS = [ConstantRiskClassifier(), RandomWalkRiskClassifier()]
IDS = ["constant", "random"]
WALK_ORDER = "the risk is a random walk over the rows in their order: a row's risk depends on its position"
EXPECTED_FAILED_CHECKS = {
    "RandomWalkRiskClassifier": {
        "check_methods_subset_invariance": WALK_ORDER,
        "check_methods_sample_order_invariance": WALK_ORDER,
    },
}


def _expected_failed_checks(estimator) -> dict[str, str]:
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _labels(n: int = 600, rate: float = 0.1) -> np.ndarray:
    return (np.arange(n) % int(round(1 / rate)) == 0).astype(int)


@pytest.fixture(scope="module")
def windows() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((600, 3, 64)).astype(np.float32)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_3d_windows_clone_pickle_determinism(estimator, windows):
    y = _labels(len(windows))
    cloned = clone(estimator)
    assert cloned.get_params() == estimator.get_params() and repr(cloned) == repr(estimator)
    fitted = cloned.fit(windows, y)
    proba = fitted.predict_proba(windows)
    assert proba.shape == (len(windows), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert fitted.n_features_in_ == windows.shape[1] and fitted.prevalence_ == pytest.approx(0.1)
    np.testing.assert_array_equal(clone(estimator).fit(windows, y).predict_proba(windows), proba)
    np.testing.assert_array_equal(fitted.predict_proba(windows), proba)  # predicting twice changes nothing
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).predict_proba(windows), proba)
    np.testing.assert_array_equal(fitted.predict(windows), fitted.classes_[proba.argmax(axis=1)])
    tags = fitted.__sklearn_tags__()
    assert tags.input_tags.three_d_array and tags.input_tags.two_d_array and tags.input_tags.allow_nan


def test_constant_risk_is_the_training_rate(windows):
    y = _labels(len(windows), rate=0.05)
    clf = ConstantRiskClassifier().fit(windows, y)
    assert clf.prevalence_ == pytest.approx(y.mean())
    np.testing.assert_array_equal(clf.predict_proba(windows[:7])[:, 1], np.full(7, y.mean()))
    np.testing.assert_array_equal(clf.predict(windows[:7]), np.zeros(7))
    strings = ConstantRiskClassifier().fit(np.zeros((4, 1)), ["inter", "pre", "inter", "inter"])
    assert strings.classes_.tolist() == ["inter", "pre"] and strings.prevalence_ == 0.25


def test_random_walk_is_seeded():
    X, y = np.zeros((3000, 4)), _labels(3000)
    risk = RandomWalkRiskClassifier(random_state=0).fit(X, y).predict_proba(X)[:, 1]
    np.testing.assert_array_equal(RandomWalkRiskClassifier(random_state=0).fit(X, y).predict_proba(X)[:, 1], risk)
    assert not np.allclose(RandomWalkRiskClassifier(random_state=1).fit(X, y).predict_proba(X)[:, 1], risk)
    # random_state=None: a new walk per fit, but a fitted model always predicts the same walk
    unseeded = RandomWalkRiskClassifier(random_state=None).fit(X, y)
    np.testing.assert_array_equal(unseeded.predict_proba(X), unseeded.predict_proba(X))
    assert not np.allclose(RandomWalkRiskClassifier(random_state=None).fit(X, y).predict_proba(X), unseeded.predict_proba(X))
    # another training-set size (another fold) or another number of rows: an independent walk
    other_fold = RandomWalkRiskClassifier(random_state=0).fit(X[:-1], y[:-1]).predict_proba(X)[:, 1]
    shorter = RandomWalkRiskClassifier(random_state=0).fit(X, y).predict_proba(X[:-1])[:, 1]
    assert abs(np.corrcoef(logit(other_fold), logit(risk))[0, 1]) < 0.9
    assert not np.allclose(shorter, risk[:-1])


def test_random_walk_drifts_slowly_around_the_training_rate():
    X, y = np.zeros((200_000, 1)), _labels(200_000, rate=0.02)
    clf = RandomWalkRiskClassifier(step=0.05, reversion=0.001, random_state=0).fit(X, y)
    deviation = logit(clf.predict_proba(X)[:, 1]) - logit(clf.prevalence_)
    stationary_sd = 0.05 / np.sqrt(1 - 0.999**2)
    assert abs(deviation.mean()) < 0.3 * stationary_sd  # ~200 time constants: mean near the centre
    assert deviation.std() == pytest.approx(stationary_sd, rel=0.15)
    assert np.corrcoef(deviation[1:], deviation[:-1])[0, 1] > 0.99  # slow drift, not noise
    flat = RandomWalkRiskClassifier(step=0.0).fit(X[:100], y[:100])  # no steps: the climatology
    np.testing.assert_allclose(flat.predict_proba(X[:100])[:, 1], flat.prevalence_)


def test_constant_output_ignores_x_values(windows):
    rng = np.random.default_rng(1)
    y = _labels(len(windows))
    shuffled = rng.permutation(windows.ravel()).reshape(windows.shape)
    nan = np.full_like(windows, np.nan)
    reference = ConstantRiskClassifier().fit(windows, y).predict_proba(windows)
    for X in (shuffled, nan, windows[::-1], rng.standard_normal((len(windows), 5))):
        np.testing.assert_array_equal(ConstantRiskClassifier().fit(X, y).predict_proba(X), reference)


def test_random_walk_is_seeded_by_x_but_carries_nothing_of_it(windows):
    """The same X gets the same walk; two X of equal length get independent walks (validation and
    test subjects of a synthetic set have as many windows: equal walks would couple them)."""
    rng = np.random.default_rng(1)
    y = _labels(len(windows))
    model = RandomWalkRiskClassifier(random_state=0).fit(windows, y)
    np.testing.assert_array_equal(model.predict_proba(windows), model.predict_proba(windows.copy()))
    other = model.predict_proba(rng.permutation(windows))[:, 1]
    reference = model.predict_proba(windows)[:, 1]
    assert not np.array_equal(other, reference)
    # the walks' spread does not depend on X: the same stationary law for windows, NaN or features
    spreads = [np.std(np.log(r / (1 - r))) for r in (reference, other,
               model.predict_proba(np.full_like(windows, np.nan))[:, 1])]
    assert max(spreads) < 5 * min(spreads)


def test_invalid_parameters_and_labels(windows):
    y = _labels(len(windows))
    for params in ({"step": -0.1}, {"step": np.inf}, {"reversion": 0.0}, {"reversion": 1.5}, {"reversion": True}):
        with pytest.raises(ValueError, match="step|reversion"):
            RandomWalkRiskClassifier(**params).fit(windows, y)
    with pytest.raises(ValueError, match="binary.*label -1"):
        ConstantRiskClassifier().fit(windows, np.where(np.arange(len(y)) % 7 == 0, -1, y))
    with pytest.raises(ValueError, match="1 class"):
        RandomWalkRiskClassifier().fit(windows, np.zeros(len(y)))
    fitted = ConstantRiskClassifier().fit(np.zeros((10, 4)), _labels(10))
    with pytest.raises(ValueError, match="4 features"):
        fitted.predict_proba(np.zeros((10, 3)))


# ------------------------------------------------------------------------------- registry


def test_registry_lists_the_chance_models():
    assert set(CHANCE_MODELS) == {"constant", "random"}
    assert set(CHANCE_MODELS) <= set(MODEL_NAMES) and MODEL_CHOICES == MODEL_NAMES
    assert isinstance(make_chance("constant", random_state=3), ConstantRiskClassifier)
    assert make_chance("random", random_state=3, step=0.1).get_params()["random_state"] == 3
    with pytest.raises(ValueError, match="constant"):
        make_chance("climatology")
    with pytest.raises(ValueError, match="'constant', 'random'"):
        make_model("climatology", precomputed_features=True)


@pytest.mark.parametrize("name, cls", [("constant", ConstantRiskClassifier), ("random", RandomWalkRiskClassifier)])
@pytest.mark.parametrize("precomputed_features", [True, False])
def test_make_model_takes_features_or_windows(name, cls, precomputed_features, windows):
    params = {"reversion": 0.01} if name == "random" else {}
    model = make_model(name, precomputed_features=precomputed_features, params=params, random_state=4)
    assert isinstance(model, cls)
    if name == "random":
        assert model.get_params()["random_state"] == 4 and model.reversion == 0.01
    X = np.random.default_rng(0).standard_normal((len(windows), 7)) if precomputed_features else windows
    y = _labels(len(X))
    risk = model.fit(X, y).predict_proba(X)[:, 1]
    assert risk.shape == (len(X),) and ((risk > 0) & (risk < 1)).all()
    with pytest.raises(ValueError, match="sampler"):
        make_model(name, precomputed_features=precomputed_features, sampler="undersample")


def test_sweep_space_draws_chance_models_without_parameters():
    trial = optuna.trial.FixedTrial({"model": "random", "feature_set": "basic", "smoothing": "none", "persistence": 1})
    params = classical_space(trial, models=CHANCE_MODELS)
    assert params["model"] == "random" and params["model_params"] == {}
    assert isinstance(build_estimator(params, random_state=2), RandomWalkRiskClassifier)
    assert run_config_sections(params)["model"] == {"name": "random", "params": {}}


# ------------------------------------------------------------------------------- short runs


def _tiny_config(out_dir: Path, model: str):
    return load_config(
        data__preset="tiny",
        data__cache_dir=str(PRESET_CACHE),
        model__name=model,
        split__n_val_subjects=1,
        alarms={"smoothing": "ema", "alpha": 0.3, "persistence": 2},
        output_dir=str(out_dir),
    )


@pytest.mark.parametrize("model", CHANCE_MODELS)
def test_loso_runs_with_each_chance_model(model, tmp_path):
    results, summary = loso_from_config(_tiny_config(tmp_path, model), progress=False)
    assert results["test_subject"].nunique() == 3 and len(results) == 3 * 4
    assert set(summary["fah_target"]) == {0.1, 0.2, 0.5, 1.0}
    assert results["auroc"].between(0, 1).all()
    if model == "constant":
        assert (results["auroc"] == 0.5).all()  # every window ties
    assert (tmp_path / "tables" / "loso_results.csv").is_file()
    run_dir = Path(results.attrs["run_dir"])
    assert f"_loso_{model}" in run_dir.name and (run_dir / "predictions.csv").is_file()
    predictions = pd.read_csv(run_dir / "predictions.csv")
    assert predictions["risk"].between(0, 1, inclusive="neither").all()


def test_pipeline_scripts_accept_the_chance_models(tmp_path, capsys):
    out = subprocess.run([sys.executable, str(REPO / "pipelines" / "loso.py"), "--help"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "constant" in out.stdout and "random" in out.stdout
    main = runpy.run_path(str(REPO / "pipelines" / "train_baseline.py"))["main"]
    args = ["--preset", "tiny", "--model", "random", "--train", "chb01", "--val", "chb02", "--test", "chb03"]
    config = tmp_path / "run.yaml"
    config.write_text(f"data:\n  cache_dir: {PRESET_CACHE}\n")
    assert main([*args, "--config", str(config), "--out_dir", str(tmp_path), "--quiet"]) == 0
    assert pd.read_csv(tmp_path / "tables" / "metrics.csv")["model"].eq("random").all()
    ablate = runpy.run_path(str(REPO / "pipelines" / "ablate.py"))["main"]
    assert ablate(["--model", "cnn", "--config", str(config), "--quiet"]) == 2  # deep: --ablation loss only
    assert "constant, random" in capsys.readouterr().err


def test_sweep_script_with_a_chance_model(tmp_path):
    main = runpy.run_path(str(REPO / "pipelines" / "sweep.py"))["main"]
    argv = ["--study", "chance", "--preset", "tiny", "--cache_dir", str(PRESET_CACHE), "--model", "constant",
            "--feature_sets", "basic_plus", "--n_trials", "2", "--n_val_subjects", "1", "--fah_target", "1.0",
            "--studies_dir", str(tmp_path / "studies"), "--out_dir", str(tmp_path / "tables"), "--quiet"]
    assert main(argv) == 0
    best = yaml.safe_load((tmp_path / "tables" / "sweep_summary.yaml").read_text())
    assert best["run_config"]["model"] == {"name": "constant", "params": {}}
