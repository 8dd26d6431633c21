"""YAML run configs: defaults, overrides, clear errors, stable hashes, shipped files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sklearn_eeg.experiments.config import (
    CACHE_ENV,
    ConfigError,
    RunConfig,
    cache_location,
    config_hash,
    default_cache_dir,
    find_config,
    load_config,
    packaged_configs,
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(text)
    return path


def test_defaults_without_file():
    cfg = load_config()
    assert cfg == RunConfig()
    assert cfg.data.data_root is None and cfg.data.preset == "default"
    assert cfg.model.name == "logreg"
    assert cfg.alarms.fah_targets == [0.1, 0.2, 0.5, 1.0]
    assert cfg.labeling.sop == 600.0 and cfg.labeling.sph == 30.0


def test_missing_keys_take_defaults_and_ints_become_floats(tmp_path):
    cfg = load_config(_write(tmp_path, "labeling:\n  sop: 900\nseed: 7\n"))
    assert cfg.labeling.sop == 900.0 and isinstance(cfg.labeling.sop, float)
    assert cfg.labeling.sph == 30.0
    assert cfg.seed == 7
    assert cfg.model == RunConfig().model


@pytest.mark.parametrize("name", ["small_run", "default.yaml"])
def test_shipped_configs_load(name):
    cfg = load_config(name)
    assert cfg.model.name == "logreg"
    assert cfg.alarm_policy().sop == cfg.labeling.sop


def test_packaged_configs_are_found_by_name_and_a_file_comes_first(tmp_path, monkeypatch):
    assert packaged_configs() == ["cnn", "default", "multiphase", "small_run"]
    assert find_config("cnn").read_text() == find_config("cnn.yaml").read_text()
    assert load_config("cnn").model.name == "cnn"
    monkeypatch.chdir(tmp_path)
    Path("cnn.yaml").write_text("seed: 5\n")  # a file of that name in the working folder wins
    assert find_config("cnn.yaml") == Path("cnn.yaml") and load_config("cnn.yaml").seed == 5
    assert load_config("cnn").model.name == "cnn"
    for missing in ("cnnn", "configs/cnn.yaml", tmp_path / "missing.yaml"):
        with pytest.raises(FileNotFoundError, match="packaged configs: cnn, default, multiphase, small_run") as err:
            load_config(missing)
        assert str(missing) in str(err.value)


def test_small_run_has_disjoint_three_one_one_split():
    split = load_config("small_run").split
    assert (len(split.train_subjects), len(split.val_subjects), len(split.test_subjects)) == (3, 1, 1)
    every = [*split.train_subjects, *split.val_subjects, *split.test_subjects]
    assert len(set(every)) == 5


def test_unknown_key_names_key_file_and_valid_keys(tmp_path):
    path = _write(tmp_path, "model:\n  nmae: hgb\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert "model.nmae" in message and str(path) in message and "'name'" in message
    with pytest.raises(ConfigError, match="unknown key 'colour'.*valid keys"):
        load_config(_write(tmp_path, "colour: red\n"))


@pytest.mark.parametrize(
    "text, where",
    [
        ("seed: one\n", "seed"),
        ("seed: true\n", "seed"),
        ("labeling:\n  sop: ten\n", "labeling.sop"),
        ("data:\n  subjects: chb01\n", "data.subjects"),
        ("alarms:\n  fah_targets: [0.1, x]\n", "alarms.fah_targets[1]"),
        ("model: logreg\n", "model"),
        ("model:\n  params: [1, 2]\n", "model.params"),
    ],
)
def test_wrong_type_is_a_clear_error(tmp_path, text, where):
    with pytest.raises(ConfigError, match=re.escape(where)):
        load_config(_write(tmp_path, text))


def test_overrides_section_and_double_underscore_and_none_ignored(tmp_path):
    path = _write(tmp_path, "model:\n  name: hgb\n  params: {max_iter: 10}\nseed: 1\n")
    cfg = load_config(path, model__sampler="undersample", seed=None, alarms={"persistence": 3}, n_jobs=2)
    assert cfg.model.sampler == "undersample" and cfg.model.params == {"max_iter": 10}
    assert cfg.seed == 1 and cfg.alarms.persistence == 3 and cfg.alarms.smoothing is None
    assert cfg.n_jobs == 2
    with pytest.raises(ConfigError, match="model.colour"):
        load_config(path, model__colour="red")
    # another model's parameters are not carried over; the same model keeps them
    assert load_config(path, model__name="logreg").model.params == {}
    assert load_config(path, model__name="hgb").model.params == {"max_iter": 10}
    assert load_config(path, model={"name": "mlp", "params": {"alpha": 1.0}}).model.params == {"alpha": 1.0}
    unnamed = _write(tmp_path, "model:\n  params: {C: 0.5}\n")  # name defaults to logreg
    assert load_config(unnamed, model__sampler="undersample").model.params == {"C": 0.5}
    assert load_config(unnamed, model__name="logreg").model.params == {"C": 0.5}


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(_write(tmp_path, "- a\n- b\n"))
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(_write(tmp_path, "model: [\n"))
    assert load_config(_write(tmp_path, "")) == RunConfig()


def test_config_hash_is_stable_and_sensitive():
    a, b = load_config(seed=1), load_config(seed=1)
    assert config_hash(a) == config_hash(b) and len(config_hash(a)) == 12
    assert config_hash(load_config(seed=2)) != config_hash(a)
    assert config_hash(load_config(seed=1, alarms__alpha=0.5)) != config_hash(a)


def test_alarm_policy_carries_the_config_alarm_rule_to_alarm_metrics():
    import dataclasses
    import inspect

    from sklearn_eeg.evaluation.alarms import AlarmPolicy
    from sklearn_eeg.evaluation.metrics import alarm_metrics

    assert "policy" in inspect.signature(alarm_metrics).parameters
    # every alarm-rule field of the config section is a field of the policy (fah_targets is the tuning's)
    rule = {f.name for f in dataclasses.fields(RunConfig().alarms)} - {"fah_targets"}
    assert rule <= {f.name for f in dataclasses.fields(AlarmPolicy)}
    schema_defaults = RunConfig()  # the config's alarm defaults are the policy's, SOP/SPH the labeling's
    assert schema_defaults.alarm_policy() == AlarmPolicy(sop=schema_defaults.labeling.sop, sph=schema_defaults.labeling.sph)
    for cfg in (load_config(), load_config(alarms={"smoothing": "ema", "alpha": 0.5, "persistence": 3},
                                           labeling__sop=900.0)):
        policy = cfg.alarm_policy()
        assert isinstance(policy, AlarmPolicy)
        assert {k: getattr(policy, k) for k in rule} == {k: getattr(cfg.alarms, k) for k in rule}
        assert (policy.sop, policy.sph) == (cfg.labeling.sop, cfg.labeling.sph)


# ------------------------------------------------------------------------------ cache location


@pytest.fixture
def no_cache_env(monkeypatch, tmp_path):
    """No $SKLEARN_EEG_CACHE, and a home folder of the test's own."""
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_default_cache_is_per_user_and_independent_of_the_working_folder(no_cache_env, tmp_path, monkeypatch):
    expected = no_cache_env / ".cache" / "sklearn-eeg"
    assert cache_location() == (expected, "default") and default_cache_dir() == expected
    for folder in (tmp_path / "a", tmp_path / "b" / "c"):
        folder.mkdir(parents=True)
        monkeypatch.chdir(folder)
        assert default_cache_dir() == expected and default_cache_dir().is_absolute()
        for name in ("default", "small_run", "cnn"):  # the packaged configs use the default location
            assert load_config(name).data.cache_dir == str(expected)
        assert load_config().data.cache_dir == RunConfig().data.cache_dir == str(expected)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "sklearn-eeg"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/xdg")  # invalid per the XDG spec: ignored
    assert default_cache_dir() == expected


def test_cache_env_var_is_honored_and_an_explicit_folder_beats_it(no_cache_env, tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "env"))
    assert cache_location() == (tmp_path / "env", "env")
    assert load_config().data.cache_dir == str(tmp_path / "env")
    # --cache_dir (an override) and a config file's data.cache_dir beat the environment
    assert cache_location(tmp_path / "opt") == (tmp_path / "opt", "option")
    assert load_config("default", data__cache_dir=str(tmp_path / "opt")).data.cache_dir == str(tmp_path / "opt")
    assert load_config(_write(tmp_path, "data:\n  cache_dir: /srv/eeg\n")).data.cache_dir == "/srv/eeg"
    assert load_config(_write(tmp_path, "data:\n  cache_dir: null\n")).data.cache_dir == str(tmp_path / "env")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(CACHE_ENV, "rel")  # a relative value is made absolute when it is read
    assert default_cache_dir() == tmp_path / "rel"
    monkeypatch.setenv(CACHE_ENV, "")  # empty: unset
    assert cache_location().source == "default"
    assert "SKLEARN_EEG_CACHE" in cache_location().describe() and "--cache_dir" in cache_location("x").describe()


def test_the_embedded_dataset_defaults_to_the_cache_location(monkeypatch, tmp_path):
    from sklearn_eeg.data import synthetic

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "env"))
    monkeypatch.setattr(synthetic, "_is_complete", lambda target, params: True)  # nothing generated
    assert synthetic.embedded_dataset(preset="tiny") == tmp_path / "env" / "synthetic" / "tiny"


def test_config_hash_ignores_the_cache_folder():
    assert config_hash(load_config(data__cache_dir="/a")) == config_hash(load_config(data__cache_dir="/b"))
