"""A synthetic multi-lead ECG cohort written as real WFDB records plus a label table.

Each record is a sum of Gaussian P, Q, R, S and T waves per beat (the dynamical-model idea of
McSharry et al. 2003, in closed form) on the eight independent leads, with beat-to-beat heart-rate
variability, baseline wander and white noise. Patients differ in heart rate, lead gains, T-wave
amplitude and QRS width, and have one to ``max_records`` records each, so records of one patient
resemble each other more than records of different patients: a record-level split would leak.

The class effect (label 1, scaled by ``effect``) flattens the T wave in the lateral leads (I, V4-V6)
by ``0.5 * effect`` of its amplitude and widens the QRS complex by ``0.25 * effect`` -- the
repolarisation and conduction changes seen with left-ventricular dysfunction. ``effect=0`` is the null
cohort: the same patients, labels and noise, with no difference between the classes.

A numpy model rather than ``neurokit2.ecg_simulate(method="multileads")``: it needs no extra
dependency, writes a 300-record cohort in about a second, and its class effect is a parameter.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import wfdb
import pandas as pd
from tqdm.auto import tqdm

from sklearn_eeg.cache_location import default_cache_dir

from .records import ECG_LEADS

__all__ = ["ECG_PRESETS", "embedded_cohort", "make_ecg_cohort", "simulate_ecg"]

GENERATOR_VERSION = 1

# Per-lead wave amplitudes in mV, columns P, Q, R, S, T (typical adult values, leads of ECG_LEADS).
_AMPLITUDES = np.array([
    [0.10, -0.05, 0.80, -0.15, 0.25],   # I
    [0.15, -0.05, 1.10, -0.20, 0.30],   # II
    [0.08, 0.00, 0.30, -0.90, 0.05],    # V1
    [0.08, 0.00, 0.60, -1.20, 0.35],    # V2
    [0.08, -0.05, 0.90, -0.80, 0.40],   # V3
    [0.08, -0.08, 1.30, -0.50, 0.40],   # V4
    [0.08, -0.10, 1.20, -0.30, 0.35],   # V5
    [0.08, -0.10, 1.00, -0.20, 0.30],   # V6
])
_OFFSETS = np.array([-0.17, -0.025, 0.0, 0.028, 0.28])  # s from the R peak (T scaled by sqrt(RR))
_WIDTHS = np.array([0.025, 0.010, 0.012, 0.012, 0.05])  # Gaussian sigma in s
_EFFECT_LEADS = [0, 5, 6, 7]  # I, V4, V5, V6
_ADC_GAIN = 1000.0  # digital units per mV: 1 µV resolution, +-32 mV range (16-bit)

ECG_PRESETS = {
    "default": {"n_patients": 120, "effect": 0.25, "seed": 0},
    "null": {"n_patients": 120, "effect": 0.0, "seed": 0},
    "tiny": {"n_patients": 40, "effect": 1.0, "seed": 1},
}
"""Embedded cohorts (8 leads, 100 Hz, 10 s, 1-4 records per patient, 40 % positive patients):
``default`` is what ``python pipelines/ecg_classify.py`` runs on; ``null`` is the same cohort without
the class effect; ``tiny`` is a small strong-effect cohort for tests and demos."""


def simulate_ecg(
    rng: np.random.Generator,
    *,
    n_times: int,
    sfreq: float,
    heart_rate: float,
    amplitudes: np.ndarray,
    widths: np.ndarray,
    noise_mv: float = 0.02,
    wander_mv: float = 0.1,
) -> np.ndarray:
    """One multi-lead ECG: Gaussian P-QRS-T waves per beat, heart-rate variability, wander and noise.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_times : int
        Samples.
    sfreq : float
        Sampling rate in Hz.
    heart_rate : float
        Mean heart rate in beats per minute (RR intervals vary by 4 % from beat to beat).
    amplitudes : ndarray of shape (n_leads, 5)
        Peak amplitudes in mV of the P, Q, R, S and T waves in each lead.
    widths : ndarray of shape (5,)
        Gaussian widths (sigma, s) of the five waves.
    noise_mv, wander_mv : float
        White-noise standard deviation and baseline-wander amplitude in mV.

    Returns
    -------
    ndarray of shape (n_leads, n_times), float32
        Millivolts.
    """
    t = np.arange(n_times) / sfreq
    rr_mean = 60.0 / heart_rate
    n_beats = int(np.ceil((t[-1] + 2.0) / rr_mean * 1.3)) + 2
    rr = rr_mean * (1.0 + 0.04 * rng.standard_normal(n_beats))
    peaks = np.cumsum(rr) - 1.0 - rng.uniform(0.0, rr_mean)
    offsets = _OFFSETS * np.array([1, 1, 1, 1, np.sqrt(rr_mean)])
    centers = peaks[:, None] + offsets[None, :]  # (n_beats, 5)
    shapes = np.exp(-0.5 * ((t[None, None, :] - centers[:, :, None]) / widths[None, :, None]) ** 2).sum(axis=0)
    ecg = amplitudes @ shapes
    phase = rng.uniform(0, 2 * np.pi, size=(len(amplitudes), 1))
    ecg += wander_mv * np.sin(2 * np.pi * rng.uniform(0.15, 0.4) * t[None, :] + phase)
    ecg += noise_mv * rng.standard_normal(ecg.shape)
    return ecg.astype(np.float32)


def make_ecg_cohort(
    root: str | os.PathLike,
    *,
    n_patients: int = 120,
    effect: float = 1.0,
    max_records: int = 4,
    prevalence: float = 0.4,
    sfreq: float = 100.0,
    duration: float = 10.0,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Write a synthetic cohort: WFDB records under ``root/records/`` and ``root/labels.csv``.

    Patient ``i`` is drawn from its own generator seeded with ``(seed, i)``, so a cohort is the same
    on every machine, and changing ``effect`` changes only the class effect.

    Parameters
    ----------
    root : str or path-like
        Output folder (created).
    n_patients : int, default=120
    effect : float, default=1.0
        Class effect (0 = null cohort).
    max_records : int, default=4
        Records per patient are drawn uniformly from 1..max_records.
    prevalence : float, default=0.4
        Probability that a patient is positive (label 1).
    sfreq : float, default=100.0
    duration : float, default=10.0
        Seconds per record.
    seed : int, default=0
    progress : bool, default=True

    Returns
    -------
    table : DataFrame
        The label table written to ``labels.csv``: ``record``, ``patient``, ``label``, ``age``, ``sex``.

    Examples
    --------
    >>> import tempfile
    >>> make_ecg_cohort(tempfile.mkdtemp(), n_patients=3, progress=False).columns.tolist()
    ['record', 'patient', 'label', 'age', 'sex']
    """
    if n_patients < 1 or max_records < 1 or effect < 0 or not 0 < prevalence < 1:
        raise ValueError("need n_patients >= 1, max_records >= 1, effect >= 0 and 0 < prevalence < 1")
    root = Path(root)
    (root / "records").mkdir(parents=True, exist_ok=True)
    n_times = int(round(duration * sfreq))
    rows = []
    for pid in tqdm(range(n_patients), desc="writing ECG cohort", unit="patient", disable=not progress):
        rng = np.random.default_rng([seed, pid])
        label = int(rng.random() < prevalence)
        heart_rate = rng.uniform(55.0, 95.0)
        amplitudes = _AMPLITUDES * np.exp(0.15 * rng.standard_normal((len(ECG_LEADS), 1)))
        amplitudes[:, 4] *= np.exp(0.15 * rng.standard_normal())
        widths = _WIDTHS.copy()
        widths[1:4] *= 1.0 + 0.08 * rng.standard_normal()
        age, sex = int(rng.integers(40, 85)), str(rng.choice(["F", "M"]))
        if label:
            amplitudes[_EFFECT_LEADS, 4] *= 1.0 - 0.5 * effect
            widths[1:4] *= 1.0 + 0.25 * effect
        for k in range(int(rng.integers(1, max_records + 1))):
            signal = simulate_ecg(
                rng, n_times=n_times, sfreq=sfreq, heart_rate=heart_rate + rng.normal(0.0, 4.0),
                amplitudes=amplitudes, widths=widths, noise_mv=rng.uniform(0.01, 0.04), wander_mv=rng.uniform(0.02, 0.15),
            )
            name = f"p{pid:04d}_r{k}"
            digital = np.clip(np.round(signal.T * _ADC_GAIN), -32767, 32767).astype(np.int64)
            wfdb.wrsamp(name, fs=sfreq, units=["mV"] * len(ECG_LEADS), sig_name=list(ECG_LEADS), d_signal=digital,
                        adc_gain=[_ADC_GAIN] * len(ECG_LEADS), baseline=[0] * len(ECG_LEADS), fmt=["16"] * len(ECG_LEADS),
                        write_dir=str(root / "records"))
            rows.append({"record": f"records/{name}", "patient": f"p{pid:04d}", "label": label, "age": age, "sex": sex})
    table = pd.DataFrame(rows)
    table.to_csv(root / "labels.csv", index=False)
    params = {"n_patients": n_patients, "effect": effect, "max_records": max_records, "prevalence": prevalence,
              "sfreq": sfreq, "duration": duration, "seed": seed, "version": GENERATOR_VERSION}
    (root / "COHORT.json").write_text(json.dumps(params, indent=2))
    return table


def _is_complete(folder: Path, params: dict) -> bool:
    try:
        written = json.loads((folder / "COHORT.json").read_text())
    except (OSError, ValueError):
        return False
    return all(written.get(k) == v for k, v in params.items()) and written.get("version") == GENERATOR_VERSION


def embedded_cohort(cache_dir: str | os.PathLike | None = None, *, preset: str = "default", progress: bool = True) -> Path:
    """An embedded synthetic cohort (:data:`ECG_PRESETS`), generated on first use and then reused.

    It lives in ``<cache_dir>/synthetic/ecg-<preset>``, generated in a temporary sibling folder and
    renamed into place when complete.

    Parameters
    ----------
    cache_dir : str or path-like, optional
        Cache root; None: :func:`sklearn_eeg.cache_location.default_cache_dir`.
    preset : {"default", "null", "tiny"}, default="default"
    progress : bool, default=True

    Returns
    -------
    Path
        The cohort folder (``labels.csv``, ``records/``).
    """
    if preset not in ECG_PRESETS:
        raise ValueError(f"preset must be one of {sorted(ECG_PRESETS)}, got {preset!r}")
    params = ECG_PRESETS[preset]
    target = Path(default_cache_dir() if cache_dir is None else cache_dir) / "synthetic" / f"ecg-{preset}"
    if _is_complete(target, params):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".ecg-{preset}-", dir=target.parent))
    try:
        make_ecg_cohort(tmp, progress=progress, **params)
        if target.exists():
            if _is_complete(target, params):
                return target
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
