"""YAML run configurations: a typed schema with documented defaults.

Cache location
--------------
Generated synthetic data, the window store and the feature cache live in one cache folder. It is
``data.cache_dir`` when a config or ``--cache_dir`` names one; otherwise :func:`default_cache_dir`:
``$SKLEARN_EEG_CACHE`` when set, else a per-user cache folder (``$XDG_CACHE_HOME/sklearn-eeg``, or
``~/.cache/sklearn-eeg``), never a folder relative to the working directory.
:func:`cache_location` says which one applies and why.

Configs ship with the package (``sklearn_eeg/configs/*.yaml``: ``default``, ``small_run``, ``cnn``,
``multiphase``, see :func:`packaged_configs`; ``configs/multiphase.yaml`` at the repository root is
a copy of the last); :func:`load_config` takes a YAML file or one of these names.

A config file has the sections below; every key is optional and takes the default shown. An
unknown key or a value of the wrong type raises :class:`ConfigError`, naming the key, the file and
the valid keys.

.. code-block:: yaml

    data:
      data_root: null        # null: the embedded synthetic dataset of `preset`
      preset: default        # synthetic preset: default | tiny | null
      subjects: null         # null: all subjects
      cache_dir: null        # null: default_cache_dir() ($SKLEARN_EEG_CACHE, else the per-user cache folder)
    labeling:                # sklearn_eeg.data.labeling.label_windows parameters, in seconds
      window: 10.0
      stride: 5.0
      sop: 600.0
      sph: 30.0
      postictal: 600.0
      interictal_buffer: 1800.0
      lead_seizure_gap: 1800.0
      tau: 300.0
    features:
      feature_set: basic_plus
    model:
      name: logreg           # logreg | hgb | mlp | constant | random | cnn | fusion | multiphase
      sampler: null          # null | undersample
      params: {}             # passed to the classifier
    alarms:                  # sklearn_eeg.evaluation.metrics.alarm_metrics parameters
      smoothing: null        # null | ema | ma
      alpha: 0.3
      n: 3
      persistence: 1
      reset: null
      refractory: null
      fah_targets: [0.1, 0.2, 0.5, 1.0]
    split:
      train_subjects: null   # train_baseline: explicit subjects
      val_subjects: null
      test_subjects: null
      n_val_subjects: 1      # loso: rotating validation subjects per fold
      min_train_seizures: 1  # within-subject: lead seizures before the first test block
    seed: 0
    n_jobs: 1
    output_dir: reports
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import types
import typing
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sklearn.base import BaseEstimator

from sklearn_eeg.cache_location import CACHE_ENV, CacheLocation, cache_location, default_cache_dir
from sklearn_eeg.evaluation.alarms import AlarmPolicy
from sklearn_eeg.models.registry import FEATURE_MATRIX_MODELS, make_model

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = [
    "AlarmsConfig",
    "CACHE_ENV",
    "CacheLocation",
    "ConfigError",
    "DataConfig",
    "FeaturesConfig",
    "LabelingConfig",
    "ModelConfig",
    "RunConfig",
    "SplitConfig",
    "cache_location",
    "config_hash",
    "default_cache_dir",
    "find_config",
    "load_config",
    "packaged_configs",
]


logger = logging.getLogger(__name__)


class ConfigError(ValueError):
    """A run configuration has an unknown key or a value of the wrong type."""


@dataclass
class DataConfig:
    """Where the EEG comes from: a CHB-MIT-like folder, or the embedded synthetic preset."""

    data_root: str | None = None
    preset: str = "default"
    subjects: list[str] | None = None
    cache_dir: str | None = None
    """Cache folder; None resolves to :func:`default_cache_dir` when the config is built."""

    def __post_init__(self) -> None:
        if self.cache_dir is None:
            self.cache_dir = str(default_cache_dir())


@dataclass
class LabelingConfig:
    """Window and seizure-occurrence-period parameters (seconds), see :mod:`sklearn_eeg.data.labeling`."""

    window: float = 10.0
    stride: float = 5.0
    sop: float = 600.0
    sph: float = 30.0
    postictal: float = 600.0
    interictal_buffer: float = 1800.0
    lead_seizure_gap: float = 1800.0
    tau: float = 300.0


@dataclass
class FeaturesConfig:
    """Feature set of :class:`sklearn_eeg.features.extractor.FeatureExtractor`."""

    feature_set: str = "basic_plus"


@dataclass
class ModelConfig:
    """Estimator name, optional undersampling and classifier parameters."""

    name: str = "logreg"
    sampler: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


_POLICY = AlarmPolicy()  # the alarm fields' defaults are the policy's own


@dataclass
class AlarmsConfig:
    """Alarm post-processing (the :class:`~sklearn_eeg.evaluation.alarms.AlarmPolicy` fields but SOP and
    SPH, which come from the labeling section) and the false-alarm-rate targets for threshold tuning."""

    smoothing: str | None = _POLICY.smoothing
    alpha: float = _POLICY.alpha
    n: int = _POLICY.n
    persistence: int = _POLICY.persistence
    reset: float | None = _POLICY.reset
    refractory: float | None = _POLICY.refractory
    fah_targets: list[float] = field(default_factory=lambda: [0.1, 0.2, 0.5, 1.0])


@dataclass
class SplitConfig:
    """Subjects of a single train/val/test run, and fold parameters of the benchmarks."""

    train_subjects: list[str] | None = None
    val_subjects: list[str] | None = None
    test_subjects: list[str] | None = None
    n_val_subjects: int = 1
    min_train_seizures: int = 1


@dataclass
class RunConfig:
    """A whole run: data, labels, features, model, alarms, splits, seed and outputs."""

    data: DataConfig = field(default_factory=DataConfig)
    labeling: LabelingConfig = field(default_factory=LabelingConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    alarms: AlarmsConfig = field(default_factory=AlarmsConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    seed: int = 0
    n_jobs: int = 1
    output_dir: str = "reports"

    def alarm_policy(self) -> AlarmPolicy:
        """The run's :class:`~sklearn_eeg.evaluation.alarms.AlarmPolicy`: the ``alarms`` section, with ``sop``
        and ``sph`` from the labeling section so that alarms and labels agree."""
        rule = {k: v for k, v in dataclasses.asdict(self.alarms).items() if k != "fah_targets"}
        return AlarmPolicy(sop=self.labeling.sop, sph=self.labeling.sph, **rule)

    def estimator(self) -> BaseEstimator:
        """Unfitted estimator of the ``model`` section (:func:`~sklearn_eeg.models.registry.make_model`
        with its name, parameters, sampler, the feature set and the seed; classical and chance models
        take the precomputed feature matrix, deep models raw windows)."""
        return make_model(
            self.model.name,
            precomputed_features=self.model.name in FEATURE_MATRIX_MODELS,
            feature_set=self.features.feature_set,
            sampler=self.model.sampler,
            params=self.model.params,
            random_state=self.seed,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dictionary (YAML/JSON serialisable)."""
        return dataclasses.asdict(self)


def _type_name(tp) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp, where: str) -> Any:
    """Check ``value`` against the annotation ``tp``; ints are accepted (and converted) for floats."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, where)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{where}: expected {_type_name(tp)}, got {value!r}")
    if origin is list:
        (item,) = typing.get_args(tp)
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list of {_type_name(item)}, got {value!r}")
        return [_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if tp in (str, bool) and isinstance(value, tp):
        return value
    raise ConfigError(f"{where}: expected {_type_name(tp)}, got {type(value).__name__} {value!r}")


def _build(cls, values: Any, where: str, source: str):
    """Instantiate dataclass ``cls`` from a mapping, recursing into sections."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ConfigError(f"{where or 'config'} in {source}: expected a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    valid = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in values.items():
        name = f"{where}.{key}" if where else str(key)
        if key not in valid:
            raise ConfigError(f"unknown key {name!r} in {source}; valid keys{' of ' + where if where else ''}: {valid}")
        tp = hints[key]
        if dataclasses.is_dataclass(tp):
            kwargs[key] = _build(tp, value, name, source)
        else:
            try:
                kwargs[key] = _coerce(value, tp, name)
            except ConfigError as err:
                raise ConfigError(f"{err} (in {source})") from None
    return cls(**kwargs)


def _merge(base: dict, overrides: dict) -> dict:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and key != "params":
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _packaged_dir() -> Traversable:
    return files("sklearn_eeg") / "configs"


def packaged_configs() -> list[str]:
    """Names of the run configs shipped with the package, sorted.

    They are package data (``sklearn_eeg/configs/<name>.yaml``) found with :mod:`importlib.resources`,
    so they are there wherever the package is installed, whatever the working folder.

    Returns
    -------
    names : list of str
        File names without ``.yaml``.

    Examples
    --------
    >>> packaged_configs()
    ['cnn', 'default', 'multiphase', 'small_run']
    """
    return sorted(item.name.removesuffix(".yaml") for item in _packaged_dir().iterdir() if item.name.endswith(".yaml"))


def find_config(config: str | Path) -> Traversable:
    """The YAML file that ``config`` names: an existing file, else the packaged config of that name.

    Parameters
    ----------
    config : str or Path
        Path of a YAML file, or the name of a packaged config with or without ``.yaml``
        (``"cnn"``, ``"cnn.yaml"``); an existing file of that name takes precedence.

    Returns
    -------
    file : Traversable
        The file (a :class:`~pathlib.Path` for a file on disk); read it with ``read_text()``.

    Raises
    ------
    FileNotFoundError
        When ``config`` is neither a file nor a packaged config; the message lists the packaged names.
    """
    path = Path(config)
    if path.is_file():
        return path
    names = packaged_configs()
    name = str(config).removesuffix(".yaml")
    if name in names:
        return _packaged_dir() / f"{name}.yaml"
    raise FileNotFoundError(
        f"config {str(config)!r} not found: no such file and no packaged config of that name "
        f"(packaged configs: {', '.join(names)})"
    )


def load_config(path: str | Path | None = None, **overrides: Any) -> RunConfig:
    """Read a YAML run config, apply overrides, check keys and types, fill defaults.

    Parameters
    ----------
    path : str or Path, optional
        YAML file, or the name of a packaged config (``"default"``, ``"cnn.yaml"``, see
        :func:`find_config`); ``None`` starts from the defaults.
    **overrides
        Top-level keys (``seed=1``), whole or partial sections (``model={"name": "hgb"}``) or
        ``section__key`` pairs (``model__name="hgb"``). ``None`` values are ignored, so
        unset command-line options can be passed straight through. Overriding the model name with
        a different model drops the file's ``model.params`` (they belong to the other model).

    Returns
    -------
    config : RunConfig

    Raises
    ------
    ConfigError
        On an unknown key or a wrongly typed value; the message names the key, the file and the
        valid keys.
    FileNotFoundError
        When ``path`` is neither a file nor a packaged config.

    Examples
    --------
    >>> load_config(model__name="hgb", seed=3).model.name
    'hgb'
    >>> load_config("small_run").split.test_subjects
    ['chb05']
    """
    source = "<defaults>"
    values: dict[str, Any] = {}
    if path is not None:
        file = find_config(path)
        source = str(file)
        try:
            values = yaml.safe_load(file.read_text()) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{source} is not valid YAML: {err}") from None
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: the top level must be a mapping of sections, got {type(values).__name__}")
    nested: dict[str, Any] = {}
    for key, value in overrides.items():
        if value is None:
            continue
        section, _, sub = key.partition("__")
        nested = _merge(nested, {section: {sub: value}} if sub else {key: value})
    if nested:
        source = f"{source} + overrides"
    model_file, model_new = values.get("model"), nested.get("model")
    if isinstance(model_file, dict) and isinstance(model_new, dict) and "params" not in model_new:
        file_name = model_file.get("name", ModelConfig.name)
        if model_new.get("name", file_name) != file_name:
            values = {**values, "model": {k: v for k, v in model_file.items() if k != "params"}}
    _check_data_overrides(values.get("data"), nested.get("data"), source)
    cfg = _build(RunConfig, _merge(values, nested), "", source)
    _check_values(cfg, source)
    return cfg


def _check_data_overrides(file_data: Any, new_data: Any, source: str) -> None:
    """Refuse a preset next to a data folder; say when the command line replaces the file's data folder."""
    if not isinstance(new_data, dict):
        return
    file_data = file_data if isinstance(file_data, dict) else {}
    root = new_data.get("data_root", file_data.get("data_root"))
    if root and "preset" in new_data:
        raise ConfigError(
            f"data.preset {new_data['preset']!r} (--preset) conflicts with data.data_root {root!r} ({source}): "
            "a run reads either a data folder or a synthetic preset; drop one of them"
        )
    old_root = file_data.get("data_root")
    if old_root and new_data.get("data_root") and str(new_data["data_root"]) != str(old_root):
        logger.warning("--data_root %s replaces data.data_root %s of the config file", new_data["data_root"], old_root)


_POSITIVE = {"labeling": ("window", "stride", "sop", "tau")}
_NON_NEGATIVE = {"labeling": ("sph", "postictal", "interictal_buffer", "lead_seizure_gap")}


def _check_values(cfg: RunConfig, source: str) -> None:
    """Ranges the schema's types cannot express; a bad value is one :class:`ConfigError` naming its key."""
    def bad(key: str, value: Any, need: str) -> ConfigError:
        return ConfigError(f"{key} = {value!r} in {source}: {need}")

    for section, keys in _POSITIVE.items():
        for key in keys:
            value = getattr(getattr(cfg, section), key)
            if not (math.isfinite(value) and value > 0):
                raise bad(f"{section}.{key}", value, "must be a positive number of seconds")
    for section, keys in _NON_NEGATIVE.items():
        for key in keys:
            value = getattr(getattr(cfg, section), key)
            if not (math.isfinite(value) and value >= 0):
                raise bad(f"{section}.{key}", value, "must be a number of seconds >= 0")
    targets = cfg.alarms.fah_targets
    if not targets or not all(math.isfinite(t) and t > 0 for t in targets):
        raise bad("alarms.fah_targets", targets,
                  "needs at least one target, each a positive number of false alarms per hour")
    if cfg.split.n_val_subjects < 1:
        raise bad("split.n_val_subjects", cfg.split.n_val_subjects,
                  "must be >= 1: alarm thresholds are tuned on validation subjects only, never on training or test")
    if cfg.split.min_train_seizures < 1:
        raise bad("split.min_train_seizures", cfg.split.min_train_seizures,
                  "must be >= 1: a patient-specific model needs a seizure to learn from")
    if cfg.n_jobs == 0:
        raise bad("n_jobs", cfg.n_jobs, "must be a positive number of processes (or negative: all cores but -n-1)")
    try:
        cfg.alarm_policy()
    except ValueError as err:
        raise ConfigError(f"alarms in {source}: {err}") from None


def config_hash(cfg: RunConfig) -> str:
    """Short stable hash (12 hex digits) of a config's contents, for tables and run folders.

    ``data.cache_dir`` is left out: where the cache lives changes no result, and the default
    location differs between users and machines.
    """
    values = cfg.to_dict()
    values["data"].pop("cache_dir", None)
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
