"""A synthetic CHB-MIT-like dataset: real EDF files, real-format summaries, a tunable preictal effect.

The generator writes what PhysioNet's CHB-MIT database holds, so every reader, labeler and pipeline
runs on it unchanged::

    root/RECORDS                    chbNN/chbNN_MM.edf, one line per file
    root/RECORDS-WITH-SEIZURES      the files holding seizures (then a blank line, as in CHB-MIT)
    root/chbNN/chbNN-summary.txt    channels, clock times, seizure start/end in seconds
    root/chbNN/chbNN_MM.edf         EDF, 256 Hz, 1-s records, µV, ±800 µV over 12 bits
    root/SYNTHETIC.json             generator parameters and the planted ground truth

``layout="bids"`` writes the same EDF files and seizures as a BIDS-EEG dataset in the SzCORE layout
(``sub-NN/ses-01/eeg/sub-NN_ses-01_task-szMonitoring_run-MM_eeg.edf`` with ``_events.tsv``,
``_eeg.json`` and ``_channels.tsv``; ``sub-NN_ses-01_scans.tsv`` with ``acq_time``), read by
:func:`sklearn_eeg.data.bids.load_bids_index`.

The signal model (electrode space, then the CHB-MIT bipolar montage):

* **Background.** 21 scalp electrodes carry 1/f^beta noise (subject-specific exponent) mixed by a
  Gaussian spatial kernel, so neighbouring electrodes correlate and the bipolar derivations are
  differences of correlated signals, as on a real double banana. A posterior alpha rhythm (two
  hemispheric narrow-band sources, subject-specific peak 8.5-11.5 Hz), amplifier noise and a small
  60 Hz line component are added. Slow random modulations of overall gain and of alpha amplitude
  (time scale about a minute) make band powers drift, so classification is not trivial. Artifacts
  (``artifacts=True``): eye blinks, temporal muscle bursts and electrode pops.
* **Seizures.** Spike-and-wave discharges whose frequency evolves from 6-8 Hz down to about 3 Hz over
  30-120 s, with growing amplitude, starting at a subject-specific focus and spreading over the head;
  a 2-min postictal amplitude suppression follows.
* **Preictal change.** Before each onset, activity in a subject-specific band (delta 1-4, theta 4-7,
  beta 14-30 or gamma 30-45 Hz; the kinds cycle over subjects) is added on the three electrodes
  around the subject's focus, plus a weaker 20-40 Hz rise on every electrode shared by all subjects
  (its size relative to the focal change set by ``common_effect``). Its envelope rises linearly
  from 0 at ``onset - sop_s - 60 s`` to 1 at ``onset - sop_s / 2`` and stays at 1 until the onset;
  its size scales with ``preictal_effect``. The change is drawn from its own random stream, so
  datasets that differ only in ``preictal_effect`` or ``common_effect`` are byte-identical outside
  these periods, and ``preictal_effect=0`` leaves the preictal EEG exactly as generated for any other
  time (a null dataset).
* **Look-alike episodes** (``lookalike_rate`` per recorded hour, Poisson; none by default). The
  subject's preictal change, the same bands, electrodes, envelope and size, ending at a time where no
  seizure follows: every episode lies at least ``interictal_margin_s`` from every seizure, so its
  windows are interictal, and a forecaster that alarms on the change alone raises false alarms. Their
  onsets (where a seizure would have been) are in the ground truth. Their times are drawn from a
  separate stream and their signal is the preictal change's own, so ``lookalike_rate=0`` gives the
  files of a generator without look-alikes and a positive rate changes nothing outside the episodes.

Seizure placement: onsets are uniform over the recorded time (a file drawn in proportion to its
duration, then a time within it), subject to rejection rules: the first onset leaves its preictal
period inside the recording, consecutive seizures are ``min_separation_s`` apart and each subject
keeps ``min_interictal_s`` of interictal time. CHB-MIT's seizures a few minutes into a file, whose
preictal period lies in the previous file, are an opt-in quirk (``boundary_seizure=True``): an
evaluator that re-arms at file starts cannot profit from them by default.

Subjects differ in focus, kind of preictal change, alpha frequency, spectra and seizure pattern, so
cross-subject forecasting is harder than patient-specific forecasting. Measured with log Welch band
powers (5 bands x 18 channels, 10-s windows at a 5-s stride, preictal and interictal windows) and a
logistic regression (C=0.1), 4 subjects x 3 h, 2 seizures each, seeds 0 and 1, no look-alikes
(generator version 3): within-subject AUROC (2-fold over alternate 2-min blocks) 0.94-0.99 and
leave-one-subject-out AUROC 0.43-0.98 (median about 0.67) at ``preictal_effect=1``; within 0.89-0.96
at 0.5; LOSO 0.47-0.55 at 0.
A larger ``common_effect`` makes the shared change dominate, so that models transfer across
subjects (the ``"tiny_shared"`` preset).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from sklearn_eeg.cache_location import default_cache_dir

from .bids import BACKGROUND_EVENT, EVENTS_COLUMNS
from .edf_writer import write_edf

__all__ = ["CHBMIT_CHANNELS", "PRESETS", "describe_dataset", "embedded_dataset", "make_chbmit_like"]

GENERATOR_VERSION = 3  # bump on any change to the generated files: embedded datasets then regenerate

_ELECTRODES = {  # approximate 10-20 positions on a unit disc (x: left-right, y: back-front)
    "FP1": (-0.3, 0.95), "FP2": (0.3, 0.95), "F7": (-0.8, 0.6), "F3": (-0.4, 0.5), "FZ": (0.0, 0.45),
    "F4": (0.4, 0.5), "F8": (0.8, 0.6), "FT9": (-1.0, 0.3), "FT10": (1.0, 0.3), "T7": (-1.0, 0.0),
    "C3": (-0.5, 0.0), "CZ": (0.0, 0.0), "C4": (0.5, 0.0), "T8": (1.0, 0.0), "P7": (-0.8, -0.6),
    "P3": (-0.4, -0.5), "PZ": (0.0, -0.45), "P4": (0.4, -0.5), "P8": (0.8, -0.6), "O1": (-0.3, -0.95),
    "O2": (0.3, -0.95),
}
_ELECTRODE_NAMES = tuple(_ELECTRODES)
_POS = np.array([_ELECTRODES[name] for name in _ELECTRODE_NAMES])

_CANONICAL = (
    "FP1-F7", "F7-T7", "T7-P7", "P7-O1", "FP1-F3", "F3-C3", "C3-P3", "P3-O1", "FP2-F4", "F4-C4",
    "C4-P4", "P4-O2", "FP2-F8", "F8-T8", "T8-P8", "P8-O2", "FZ-CZ", "CZ-PZ",
)
_EXTRAS = ("P7-T7", "T7-FT9", "FT9-FT10", "FT10-T8", "T8-P8")
#: The 23 signals of a standard CHB-MIT file (the last, ``T8-P8``, duplicates the 15th).
CHBMIT_CHANNELS = _CANONICAL + _EXTRAS

_LAYOUTS = {
    "standard": CHBMIT_CHANNELS,
    # chb12-chb15-like: 28 signals with five dummy "-" channels and the midline pair moved up
    "dummy": (
        "FP1-F7", "F7-T7", "T7-P7", "P7-O1", "-", "FP1-F3", "F3-C3", "C3-P3", "P3-O1", "-", "FZ-CZ",
        "CZ-PZ", "-", "FP2-F4", "F4-C4", "C4-P4", "P4-O2", "-", "FP2-F8", "F8-T8", "T8-P8", "P8-O2",
        "-", "P7-T7", "T7-FT9", "FT9-FT10", "FT10-T8", "T8-P8",
    ),
    # right chain before the left one, midline first
    "order": ("FZ-CZ", "CZ-PZ") + _CANONICAL[8:16] + _CANONICAL[:8] + _EXTRAS,
    # what a "Channels changed:" block switches to (chb09-like: an extra VNS channel)
    "changed": CHBMIT_CHANNELS + ("VNS",),
}
_QUIRK_CYCLE = ("dummy", "changed", "order", "none")
_PREICTAL_KINDS = ("beta", "theta", "gamma", "delta")
_PREICTAL_BANDS = {"delta": (1.0, 4.0), "theta": (4.0, 7.0), "beta": (14.0, 30.0), "gamma": (30.0, 45.0)}
# size of the added band activity (RMS, relative to the electrode background) at preictal_effect=1
_PREICTAL_GAIN = {"delta": 0.9, "theta": 0.7, "beta": 0.55, "gamma": 0.45}
# a weaker change shared by all subjects (every electrode): what cross-subject models can learn
_COMMON_BAND = (20.0, 40.0)
_COMMON_GAIN = 0.13
_BASE_DATE = dt.datetime(2001, 1, 1)
_RAMP_LEAD_S = 60.0


@dataclass
class _Recording:
    stem: str
    t_file_start: float  # s on the subject timeline
    duration: int  # s
    channels: tuple[str, ...]
    seizures: list[tuple[int, int]] = field(default_factory=list)  # (onset, offset) s from file start


@dataclass
class _Subject:
    name: str
    clock_start: int  # s after midnight of day 0 when the first file starts
    quirk: str
    numbered_seizures: bool
    alpha_hz: float
    beta_exponent: float
    background_uv: float
    alpha_uv: float
    line_uv: float
    preictal_kind: str
    focus: list[str]
    seizure_hz: tuple[float, float]
    seizure_uv: float
    recordings: list[_Recording]
    lookalike_onsets: list[float] = field(default_factory=list)  # s on the subject timeline


# --------------------------------------------------------------------------------------------- planning


def _bipolar_matrix(channels: tuple[str, ...]) -> np.ndarray:
    """Rows map the 21 electrodes onto ``channels``; non-bipolar names (``-``, ``VNS``) get zeros."""
    matrix = np.zeros((len(channels), len(_ELECTRODE_NAMES)), dtype=np.float32)
    for row, name in enumerate(channels):
        parts = name.split("-")
        if len(parts) == 2 and all(p in _ELECTRODES for p in parts):
            matrix[row, _ELECTRODE_NAMES.index(parts[0])] = 1.0
            matrix[row, _ELECTRODE_NAMES.index(parts[1])] = -1.0
    return matrix


def _file_durations(hours: float, file_hours: float) -> list[int]:
    total, per_file = round(hours * 3600), round(file_hours * 3600)
    durations = [per_file] * (total // per_file)
    if total % per_file >= 60:
        durations.append(total % per_file)
    return durations


def _place_seizures(
    rng: np.random.Generator,
    recordings: list[_Recording],
    n_seizures: int,
    *,
    boundary: bool,
    sop_s: float,
    min_separation_s: float,
    interictal_margin_s: float,
    min_interictal_s: float,
    name: str,
) -> list[tuple[int, int, int]]:
    """Draw ``(file index, onset, offset)`` triples satisfying the spacing rules (rejection sampling)."""
    durations = np.array([r.duration for r in recordings], dtype=float)
    starts = np.array([r.t_file_start for r in recordings])
    for _ in range(5000):
        lengths = rng.integers(30, 121, size=n_seizures)
        files = rng.choice(len(recordings), size=n_seizures, p=durations / durations.sum())
        onsets = np.array([rng.integers(10, max(11, durations[f] - length - 10)) for f, length in zip(files, lengths)])
        if boundary:  # one seizure 2-5 min into a later file: its preictal period lies in the previous file
            k = rng.integers(n_seizures)
            files[k] = rng.integers(1, len(recordings))
            onsets[k] = rng.integers(120, 301)
        t_on = starts[files] + onsets
        order = np.argsort(t_on)
        files, onsets, lengths, t_on = files[order], onsets[order], lengths[order], t_on[order]
        t_off = t_on + lengths
        if np.any(onsets + lengths > durations[files] - 10):
            continue
        if t_on[0] < starts[0] + sop_s + 2 * _RAMP_LEAD_S:
            continue
        if np.any(t_on[1:] - t_off[:-1] < min_separation_s):
            continue
        interictal = 0.0
        for start, duration in zip(starts, durations):
            mask = np.ones(int(duration), dtype=bool)
            for on, off in zip(t_on - start, t_off - start):
                mask[max(0, int(on - interictal_margin_s)) : max(0, int(off + interictal_margin_s))] = False
            interictal += mask.sum()
        if interictal < min_interictal_s:
            continue
        return [(int(f), int(o), int(o + n)) for f, o, n in zip(files, onsets, lengths)]
    raise ValueError(
        f"cannot place {n_seizures} seizures in the {durations.sum() / 3600:.2f} h of {name} with "
        f"min_separation_s={min_separation_s}, sop_s={sop_s} and min_interictal_s={min_interictal_s}: "
        "increase hours or lower seizures"
    )


def _place_lookalikes(
    rng: np.random.Generator,
    recordings: list[_Recording],
    rate_per_hour: float,
    *,
    sop_s: float,
    interictal_margin_s: float,
) -> list[float]:
    """Onsets (subject timeline, s) of look-alike episodes: Poisson(``rate_per_hour`` x recorded hours).

    Each onset is uniform over the eligible recorded seconds: those whose whole episode
    (``onset - sop_s - 60 s`` to the onset) starts after the recording does and lies at least
    ``interictal_margin_s`` from every seizure. Episodes are drawn independently of each other (they
    may overlap); a subject without eligible time gets none.
    """
    hours = sum(r.duration for r in recordings) / 3600
    n_episodes = int(rng.poisson(rate_per_hour * hours))
    candidates = np.concatenate([r.t_file_start + np.arange(r.duration, dtype=float) for r in recordings])
    first = candidates - sop_s - _RAMP_LEAD_S
    eligible = first >= 0
    for rec in recordings:
        for onset, offset in rec.seizures:
            far_before = candidates <= rec.t_file_start + onset - interictal_margin_s
            far_after = first >= rec.t_file_start + offset + interictal_margin_s
            eligible &= far_before | far_after
    if n_episodes == 0 or not eligible.any():
        return []
    return sorted(float(t) for t in rng.choice(candidates[eligible], size=n_episodes))


def _plan_subject(
    index: int,
    *,
    seed: int,
    hours: float,
    file_hours: float,
    seizures: int | tuple[int, int],
    gap_s: tuple[int, int],
    quirks: bool,
    boundary_seizure: bool,
    lookalike_rate: float,
    sop_s: float,
    min_separation_s: float,
    interictal_margin_s: float,
    min_interictal_s: float,
) -> _Subject:
    rng = np.random.default_rng([seed, index, 0])
    name = f"chb{index + 1:02d}"
    durations = _file_durations(hours, file_hours)
    gaps = rng.integers(gap_s[0], gap_s[1] + 1, size=len(durations))
    t_starts = np.concatenate([[0], np.cumsum(np.array(durations[:-1]) + gaps[:-1])])
    quirk = _QUIRK_CYCLE[index % len(_QUIRK_CYCLE)] if quirks else "none"
    if quirk == "changed" and len(durations) < 2:
        quirk = "none"
    change_at = len(durations) // 2
    recordings = []
    for k, (t0, duration) in enumerate(zip(t_starts, durations)):
        layout = {"dummy": "dummy", "order": "order"}.get(quirk, "standard")
        if quirk == "changed" and k >= change_at:
            layout = "changed"
        recordings.append(_Recording(f"{name}_{k + 1:02d}", float(t0), int(duration), _LAYOUTS[layout]))
    n_seizures = int(rng.integers(seizures[0], seizures[1] + 1)) if isinstance(seizures, tuple) else seizures
    # the first subject always starts shortly before midnight: its second file starts on the next day
    day_start = (23 * 3600, 23 * 3600 + 2400) if index == 0 else (8 * 3600, 20 * 3600)
    clock_start = int(rng.integers(*day_start))
    # the coin is drawn even when boundary_seizure is off, so that the traits below do not depend on it
    boundary_candidate = len(durations) > 1 and (index == 0 or rng.random() < 0.5)
    center = rng.choice([e for e in _ELECTRODE_NAMES if not e.startswith("FT")])
    distance = np.linalg.norm(_POS - _POS[_ELECTRODE_NAMES.index(center)], axis=1)
    kinds = np.random.default_rng([seed]).permutation(_PREICTAL_KINDS)  # one order per dataset
    subject = _Subject(
        name=name,
        clock_start=clock_start,
        quirk=quirk,
        numbered_seizures=quirks and index % 2 == 1,
        alpha_hz=float(rng.uniform(8.5, 11.5)),
        beta_exponent=float(rng.uniform(1.2, 1.8)),
        background_uv=float(rng.uniform(18.0, 26.0)),
        alpha_uv=float(rng.uniform(15.0, 30.0)),
        line_uv=float(rng.uniform(0.5, 3.0)),
        preictal_kind=str(kinds[index % len(kinds)]),
        focus=[_ELECTRODE_NAMES[i] for i in np.argsort(distance)[:3]],
        seizure_hz=(float(rng.uniform(6.0, 8.0)), float(rng.uniform(2.5, 3.5))),
        seizure_uv=float(rng.uniform(80.0, 150.0)),
        recordings=recordings,
    )
    if n_seizures:
        placed = _place_seizures(
            rng, recordings, n_seizures, boundary=boundary_seizure and boundary_candidate, sop_s=sop_s,
            min_separation_s=min_separation_s, interictal_margin_s=interictal_margin_s,
            min_interictal_s=min_interictal_s, name=name,
        )
        for file_index, onset, offset in placed:
            recordings[file_index].seizures.append((onset, offset))
    if lookalike_rate:  # own stream: the plan above and every signal are the same without look-alikes
        subject.lookalike_onsets = _place_lookalikes(
            np.random.default_rng([seed, index, 5]), recordings, lookalike_rate, sop_s=sop_s,
            interictal_margin_s=interictal_margin_s,
        )
    return subject


# -------------------------------------------------------------------------------------------- signals


_Spectrum = Callable[[np.ndarray], np.ndarray]


def _colored_noise(
    rng: np.random.Generator, n_sources: int, n_times: int, sfreq: float, shape_fn: _Spectrum
) -> np.ndarray:
    """Unit-variance noise with power spectrum ``shape_fn(freqs)``, shaped in the frequency domain."""
    freqs = np.fft.rfftfreq(n_times, 1.0 / sfreq)
    shape = shape_fn(freqs)
    shape[0] = 0.0
    scale = (n_times / np.sqrt(2.0 * shape.sum())).astype(np.float32)
    spectrum = rng.standard_normal((n_sources, freqs.size), dtype=np.float32) + 1j * rng.standard_normal(
        (n_sources, freqs.size), dtype=np.float32
    )
    spectrum *= (np.sqrt(shape) * scale / np.sqrt(2.0)).astype(np.float32)
    return np.fft.irfft(spectrum, n=n_times, axis=-1).astype(np.float32, copy=False)


def _slow(rng: np.random.Generator, n_sources: int, duration: int, times: np.ndarray) -> np.ndarray:
    """Unit-variance slow fluctuations (about a minute), drawn at 1 Hz and interpolated to ``times``."""
    grid = np.arange(duration + 1, dtype=float)
    low = _colored_noise(rng, n_sources, grid.size, 1.0, lambda f: 1.0 / (1.0 + (f * 60.0) ** 2))
    return np.stack([np.interp(times, grid, row) for row in low]).astype(np.float32)


def _band(low: float, high: float) -> _Spectrum:
    """A flat spectrum on ``[low, high]`` Hz."""
    return lambda f: ((f >= low) & (f <= high)).astype(float)


def _preictal_envelope(t_abs: np.ndarray, onsets: list[float], sop_s: float) -> np.ndarray:
    """0 to 1 ramp from ``onset - sop_s - 60 s`` to ``onset - sop_s / 2``, 1 until the onset, else 0."""
    envelope = np.zeros(t_abs.size, dtype=np.float32)
    for onset in onsets:
        start, full = onset - sop_s - _RAMP_LEAD_S, onset - sop_s / 2.0
        inside = (t_abs >= start) & (t_abs < onset)
        if inside.any():
            envelope[inside] = np.maximum(envelope[inside], np.clip((t_abs[inside] - start) / (full - start), 0, 1))
    return envelope


def _seizure_discharge(subject: _Subject, rng: np.random.Generator, length: int, sfreq: float) -> np.ndarray:
    """Evolving spike-and-wave discharge, ``(n_electrodes, length * sfreq)`` µV, spreading from the focus."""
    n = int(length * sfreq)
    tau = np.arange(n) / sfreq
    progress = tau / length
    f_start, f_end = subject.seizure_hz
    phase = 2 * np.pi * np.cumsum(f_start + (f_end - f_start) * progress) / sfreq + rng.uniform(0, 2 * np.pi)
    ramp = np.clip(tau / 5.0, 0, 1) * np.clip((length - tau) / 5.0, 0, 1) * (0.6 + 0.4 * progress)
    focus = _POS[[_ELECTRODE_NAMES.index(e) for e in subject.focus]].mean(axis=0)
    distance = np.linalg.norm(_POS - focus, axis=1)[:, None]
    spread = 0.3 + 0.6 * progress[None, :]  # the discharge generalizes as the seizure evolves
    # irregular topography (so bipolar differences do not cancel) and propagation away from the focus
    weight = np.exp(-(distance**2) / (2 * spread**2)) * rng.uniform(0.3, 1.5, size=(len(_POS), 1))
    lagged = phase[None, :] - 3.0 * distance
    wave = np.exp(4.0 * (np.cos(lagged) - 1.0)) - 0.6 * np.exp(1.5 * (np.cos(lagged - np.pi) - 1.0))
    wave -= wave.mean(axis=1, keepdims=True)
    wave /= wave.std(axis=1, keepdims=True)  # seizure_uv is the RMS at the focus
    return (subject.seizure_uv * ramp[None, :] * weight * wave).astype(np.float32)


def _add_artifacts(electrodes: np.ndarray, rng: np.random.Generator, sfreq: float) -> None:
    """Add eye blinks (about 1 per 10 s), muscle bursts (6 per h) and electrode pops (2 per h) in place."""
    n_times = electrodes.shape[1]
    duration = n_times / sfreq
    blinks = np.zeros(n_times, dtype=np.float32)
    for onset in rng.uniform(0, duration - 1, size=rng.poisson(duration / 10)):
        bump = np.hanning(int(rng.uniform(0.2, 0.4) * sfreq)) * rng.uniform(60, 180)
        start = int(onset * sfreq)
        blinks[start : start + bump.size] += bump
    frontal = {"FP1": 1.0, "FP2": 1.0, "F7": 0.3, "F3": 0.3, "FZ": 0.3, "F4": 0.3, "F8": 0.3}
    for name, weight in frontal.items():
        electrodes[_ELECTRODE_NAMES.index(name)] += weight * blinks
    temporal = ("F7", "F8", "T7", "T8", "FT9", "FT10")
    for onset in rng.uniform(0, duration - 5, size=rng.poisson(duration / 600)):
        n = int(rng.uniform(1, 5) * sfreq)
        burst = np.diff(rng.standard_normal(n + 1)) * rng.uniform(20, 60) / np.sqrt(2)  # broadband, mostly > 20 Hz
        start = int(onset * sfreq)
        electrodes[_ELECTRODE_NAMES.index(rng.choice(temporal)), start : start + n] += burst
    for onset in rng.uniform(0, duration - 5, size=rng.poisson(duration / 1800)):
        n = int(5 * sfreq)
        pop = rng.choice([-1, 1]) * rng.uniform(300, 1000) * np.exp(-np.arange(n) / (rng.uniform(0.5, 2) * sfreq))
        start = int(onset * sfreq)
        electrodes[rng.integers(len(_ELECTRODE_NAMES)), start : start + n] += pop


def _synthesize(
    subject: _Subject,
    rec_index: int,
    change_onsets: list[float],
    *,
    seed: int,
    subject_index: int,
    sfreq: float,
    preictal_effect: float,
    common_effect: float,
    sop_s: float,
    artifacts: bool,
) -> np.ndarray:
    """Signals of one recording, ``(len(channels), n_times)`` float32 µV in the recording's layout.

    ``change_onsets`` (subject timeline, s) are where a preictal change ends: seizure onsets and
    look-alike episodes.
    """
    rec = subject.recordings[rec_index]
    n_times = int(rec.duration * sfreq)
    times = np.arange(n_times) / sfreq
    rng = np.random.default_rng([seed, subject_index, 1, rec_index])
    n_el = len(_ELECTRODE_NAMES)

    distance = np.linalg.norm(_POS[:, None] - _POS[None], axis=-1)
    mixing = np.exp(-(distance**2) / (2 * 0.3**2))
    mixing /= np.sqrt((mixing**2).sum(axis=1, keepdims=True))
    beta = subject.beta_exponent
    background = mixing.astype(np.float32) @ _colored_noise(
        rng, n_el, n_times, sfreq, lambda f: (f**2 + 1.0) ** (-beta / 2) / (1.0 + (f / 70.0) ** 8)
    )
    alpha = _colored_noise(rng, 2, n_times, sfreq, lambda f: np.exp(-((f - subject.alpha_hz) ** 2) / (2 * 0.6**2)))
    x, y = _POS[:, 0], _POS[:, 1]
    posterior = np.clip(-y, 0, 1) ** 1.5  # strongest over the occipital electrodes
    left = 1.0 / (1.0 + np.exp(4.0 * x))
    alpha_mix = np.stack([posterior * left, posterior * (1.0 - left)], axis=1)
    gain_drift, alpha_drift = _slow(rng, 2, rec.duration, times)
    amplifier = rng.standard_normal((n_el, n_times), dtype=np.float32)
    line_phase = rng.uniform(0, 2 * np.pi, size=n_el)
    line_amp = subject.line_uv * rng.uniform(0.3, 1.0, size=n_el)

    gain = np.exp(0.2 * gain_drift)
    for onset, offset in rec.seizures:  # postictal suppression, recovering over 2 min
        after = (times >= offset) & (times < offset + 120)
        gain[after] *= 0.4 + 0.6 * (times[after] - offset) / 120.0
    background *= subject.background_uv * gain
    focus_rows = [_ELECTRODE_NAMES.index(e) for e in subject.focus]
    envelope = _preictal_envelope(rec.t_file_start + times, change_onsets, sop_s) * np.float32(preictal_effect)
    if preictal_effect and envelope.any():
        effect_rng = np.random.default_rng([seed, subject_index, 2, rec_index])
        common = _colored_noise(effect_rng, n_el, n_times, sfreq, _band(*_COMMON_BAND))
        background += _COMMON_GAIN * common_effect * subject.background_uv * envelope * common
        # one independent source per focus electrode, so bipolar pairs inside the focus see it too
        kind = subject.preictal_kind
        focal = _colored_noise(effect_rng, len(focus_rows), n_times, sfreq, _band(*_PREICTAL_BANDS[kind]))
        background[focus_rows] += _PREICTAL_GAIN[kind] * subject.background_uv * envelope * focal
    electrodes = background
    electrodes += (alpha_mix.astype(np.float32) * subject.alpha_uv) @ (alpha * np.exp(0.4 * alpha_drift))
    electrodes += amplifier
    line_mix = np.stack([line_amp * np.cos(line_phase), line_amp * np.sin(line_phase)], axis=1)
    carrier = np.stack([np.sin(2 * np.pi * 60.0 * times), np.cos(2 * np.pi * 60.0 * times)])
    electrodes += line_mix.astype(np.float32) @ carrier.astype(np.float32)
    if artifacts:
        _add_artifacts(electrodes, np.random.default_rng([seed, subject_index, 4, rec_index]), sfreq)
    seizure_rng = np.random.default_rng([seed, subject_index, 3, rec_index])
    for onset, offset in rec.seizures:
        start = int(onset * sfreq)
        electrodes[:, start : start + int((offset - onset) * sfreq)] += _seizure_discharge(
            subject, seizure_rng, offset - onset, sfreq
        )
    return _bipolar_matrix(rec.channels) @ electrodes


# -------------------------------------------------------------------------------------------- writing


def _clock(seconds: int, *, pad: bool) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}" if pad else f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _channel_block(title: str, channels: tuple[str, ...]) -> list[str]:
    return [title, "*" * len(title)] + [f"Channel {i}: {name}" for i, name in enumerate(channels, 1)] + [""]


def _summary_text(subject: _Subject, sfreq: float) -> str:
    rate = f"Data Sampling Rate: {sfreq:g} Hz"
    lines = [rate, "*" * (len(rate) - 1), ""] + _channel_block("Channels in EDF Files:", subject.recordings[0].channels)
    previous = subject.recordings[0].channels
    for rec in subject.recordings:
        if rec.channels != previous:
            lines += _channel_block("Channels changed:", rec.channels)
            previous = rec.channels
        start = (subject.clock_start + int(rec.t_file_start)) % 86400
        lines += [
            f"File Name: {rec.stem}.edf",
            f"File Start Time: {_clock(start, pad=True)}",
            f"File End Time: {_clock(start + rec.duration, pad=False)}",
            f"Number of Seizures in File: {len(rec.seizures)}",
        ]
        numbered = subject.numbered_seizures or len(rec.seizures) > 1
        for i, (onset, offset) in enumerate(rec.seizures, 1):
            tag = f"Seizure {i}" if numbered else "Seizure"
            lines += [f"{tag} Start Time: {onset} seconds", f"{tag} End Time: {offset} seconds"]
        lines.append("")
    return "\n".join(lines[:-1]) + "\n"


def _write_records(root: Path, subjects: list[_Subject]) -> None:
    """The PhysioNet ``RECORDS`` and ``RECORDS-WITH-SEIZURES`` lists."""
    records = [f"{s.name}/{r.stem}.edf" for s in subjects for r in s.recordings]
    with_seizures = [f"{s.name}/{r.stem}.edf" for s in subjects for r in s.recordings if r.seizures]
    (root / "RECORDS").write_text("".join(line + "\n" for line in records))
    (root / "RECORDS-WITH-SEIZURES").write_text("".join(line + "\n" for line in with_seizures) + "\n")


# ---------------------------------------------------------------------------------------- BIDS layout

_BIDS_SESSION = "01"
_BIDS_TASK = "szMonitoring"
_BIDS_VERSION = "1.9.0"
_SZCORE_TIME = "%Y-%m-%d %H:%M:%S"


def _bids_subject(index: int) -> str:
    """``sub-01`` for the first subject (``chb01`` in the CHB-MIT layout)."""
    return f"sub-{index + 1:02d}"


def _bids_stem(index: int, rec_index: int) -> str:
    """``sub-01_ses-01_task-szMonitoring_run-01``: the BIDS name of a recording without suffix."""
    return f"{_bids_subject(index)}_ses-{_BIDS_SESSION}_task-{_BIDS_TASK}_run-{rec_index + 1:02d}"


def _edf_path(root: Path, subject: _Subject, index: int, rec_index: int, layout: str) -> Path:
    """Where the EDF file of a recording goes in ``layout``."""
    if layout == "bids":
        folder = root / _bids_subject(index) / f"ses-{_BIDS_SESSION}" / "eeg"
        return folder / f"{_bids_stem(index, rec_index)}_eeg.edf"
    return root / subject.name / f"{subject.recordings[rec_index].stem}.edf"


def _tsv(header: tuple[str, ...] | list[str], rows: list[list]) -> str:
    """Tab-separated text with a header line."""
    return "".join("\t".join(str(v) for v in line) + "\n" for line in [list(header)] + rows)


def _events_rows(rec: _Recording, start: dt.datetime) -> list[list]:
    """SzCORE events rows: one ``sz`` row per seizure, or one ``bckg`` row over a seizure-free file."""
    spans = [(on, off - on, "sz") for on, off in rec.seizures] or [(0, rec.duration, BACKGROUND_EVENT)]
    return [
        [f"{onset:.1f}", f"{length:.1f}", kind, "n/a", "n/a",
         (start + dt.timedelta(seconds=onset)).strftime(_SZCORE_TIME), f"{rec.duration:.1f}"]
        for onset, length, kind in spans
    ]


def _write_bids_sidecars(edf: Path, rec: _Recording, start: dt.datetime, sfreq: float) -> None:
    """``_events.tsv``, ``_eeg.json`` and ``_channels.tsv`` beside a BIDS EDF file."""
    stem = edf.name[: -len("_eeg.edf")]
    (edf.parent / f"{stem}_events.tsv").write_text(_tsv(EVENTS_COLUMNS, _events_rows(rec, start)))
    bipolar = np.abs(_bipolar_matrix(rec.channels)).sum(axis=1) > 0
    sidecar = {
        "TaskName": _BIDS_TASK, "SamplingFrequency": sfreq, "PowerLineFrequency": 60,
        "SoftwareFilters": "n/a", "EEGReference": "bipolar", "EEGPlacementScheme": "10-20",
        "EEGChannelCount": int(bipolar.sum()), "MiscChannelCount": int((~bipolar).sum()),
        "RecordingDuration": rec.duration, "RecordingType": "continuous",
    }
    (edf.parent / f"{stem}_eeg.json").write_text(json.dumps(sidecar, indent=1) + "\n")
    rows = [[name, "EEG" if eeg else "MISC", "uV"] for name, eeg in zip(rec.channels, bipolar)]
    (edf.parent / f"{stem}_channels.tsv").write_text(_tsv(("name", "type", "units"), rows))


def _write_bids_scans(root: Path, subject: _Subject, index: int) -> None:
    """``sub-NN_ses-01_scans.tsv``: each EDF file with its acquisition time (the file's start)."""
    rows = []
    for k, rec in enumerate(subject.recordings):
        start = _BASE_DATE + dt.timedelta(seconds=subject.clock_start + rec.t_file_start)
        rows.append([f"eeg/{_bids_stem(index, k)}_eeg.edf", start.isoformat()])
    folder = root / _bids_subject(index) / f"ses-{_BIDS_SESSION}"
    (folder / f"{_bids_subject(index)}_ses-{_BIDS_SESSION}_scans.tsv").write_text(_tsv(("filename", "acq_time"), rows))


def _write_bids_root(root: Path, n_subjects: int) -> None:
    """``dataset_description.json``, ``participants.tsv`` and a ``.bidsignore`` for ``SYNTHETIC.json``."""
    description = {
        "Name": "Synthetic CHB-MIT-like scalp EEG (sklearn-eeg)", "BIDSVersion": _BIDS_VERSION,
        "DatasetType": "raw",
        "GeneratedBy": [{"Name": "sklearn_eeg.data.synthetic", "Version": str(GENERATOR_VERSION)}],
    }
    (root / "dataset_description.json").write_text(json.dumps(description, indent=1) + "\n")
    (root / "participants.tsv").write_text(_tsv(("participant_id",), [[_bids_subject(i)] for i in range(n_subjects)]))
    (root / ".bidsignore").write_text("SYNTHETIC.json\n")


def _bids_truth(truth: list[dict]) -> list[dict]:
    """The ground truth with BIDS subject and recording names (``sub-01``, ``sub-01_ses-01_..._run-01``)."""
    for index, subject in enumerate(truth):
        subject["name"] = _bids_subject(index)
        for k, rec in enumerate(subject["recordings"]):
            rec["stem"] = _bids_stem(index, k)
    return truth


def _ground_truth(subjects: list[_Subject]) -> list[dict]:
    truth = []
    for subject in subjects:
        info = asdict(subject)
        for rec in info["recordings"]:
            rec["channels"] = list(rec["channels"])
        truth.append(info)
    return truth


def make_chbmit_like(
    root: str | Path,
    *,
    n_subjects: int = 3,
    hours: float = 3.0,
    seizures: int | tuple[int, int] = 2,
    preictal_effect: float = 1.0,
    common_effect: float = 1.0,
    seed: int = 0,
    sfreq: int = 256,
    file_hours: float = 1.0,
    gap_s: tuple[int, int] = (3, 30),
    quirks: bool = True,
    artifacts: bool = True,
    boundary_seizure: bool = False,
    lookalike_rate: float = 0.0,
    sop_s: float = 600.0,
    min_separation_s: float = 2400.0,
    interictal_margin_s: float = 1800.0,
    min_interictal_s: float = 900.0,
    layout: str = "chbmit",
    progress: bool = True,
) -> Path:
    """Write a synthetic CHB-MIT-like dataset (EDF files, summaries, RECORDS; or a BIDS-EEG dataset).

    Parameters
    ----------
    root : str or Path
        Output folder (created; existing files with the same names are overwritten).
    n_subjects : int, default=3
        Number of subjects, named ``chb01``, ``chb02``...
    hours : float, default=3.0
        Recorded hours per subject, split into files of ``file_hours`` (a remainder under a minute is
        dropped).
    seizures : int or (int, int), default=2
        Seizures per subject, or an inclusive range drawn per subject.
    preictal_effect : float, default=1.0
        Size of the preictal change (0 = none: a null dataset; 1 = moderate, a within-subject
        band-power logistic regression reaches AUROC of about 0.9 or more; 2 = strong).
    common_effect : float, default=1.0
        Size of the preictal change shared by all subjects (20-40 Hz on every electrode), relative
        to its default of 0.13 x the electrode background RMS x ``preictal_effect``; the
        subject-specific focal change is unaffected. 0 leaves only subject-specific changes
        (nothing shared for a cross-subject model to learn); 3 makes the shared change dominate.
        ``preictal_effect=0`` still gives a null dataset.
    seed : int, default=0
        Random seed; the same arguments give byte-identical files.
    sfreq : int, default=256
        Sampling frequency in Hz.
    file_hours : float, default=1.0
        Duration of each EDF file in hours (CHB-MIT files are mostly 1 h).
    gap_s : (int, int), default=(3, 30)
        Range of the unrecorded gaps between consecutive files, in seconds.
    quirks : bool, default=True
        Reproduce CHB-MIT irregularities, cycling over subjects: dummy ``-`` channels (chb12-like, 28
        signals), a ``Channels changed:`` block halfway (an extra ``VNS`` signal), a different channel
        order, none. Odd subjects also number single seizures (``Seizure 1 Start Time:``).
    artifacts : bool, default=True
        Add eye blinks on the frontal electrodes (60-180 µV, about one per 10 s), temporal muscle
        bursts (1-5 s, about 6 per hour) and electrode pops (300-1000 µV decaying steps, about 2 per
        hour, often clipped at ±800 µV), independent of seizures.
    boundary_seizure : bool, default=False
        Reproduce a CHB-MIT irregularity: one seizure of the first subject (and of each other subject
        with probability 1/2), when it has at least two files, starts 2-5 min into a later file, so
        that its preictal period lies in the previous file. Off, every onset is uniform over the
        recorded time.
    lookalike_rate : float, default=0.0
        Interictal look-alike episodes per recorded hour (a Poisson number per subject): the
        subject's preictal change (same bands, electrodes, envelope and size) ending at a random
        time without a seizure, at least ``interictal_margin_s`` from every seizure, so that its
        windows are interictal. Episodes are placed uniformly over the time that allows this (a
        subject without such time gets none) and may overlap. Their onsets (where a seizure would
        have been, s on the subject's timeline) are in the ground truth, ``lookalike_onsets``. Like
        the preictal change they scale with ``preictal_effect``: invisible at 0.
    sop_s : float, default=600.0
        Seizure occurrence period: the preictal change builds up over the ``sop_s`` before onset.
    min_separation_s : float, default=2400.0
        Minimum time from a seizure's offset to the next onset.
    interictal_margin_s, min_interictal_s : float, default=1800.0, 900.0
        Each subject keeps at least ``min_interictal_s`` of recording farther than
        ``interictal_margin_s`` from every seizure.
    layout : {"chbmit", "bids"}, default="chbmit"
        ``"chbmit"``: the PhysioNet layout (``chbNN/chbNN_MM.edf``, summaries, ``RECORDS``).
        ``"bids"``: the same EDF files and seizures as a BIDS-EEG dataset in the SzCORE layout
        (``sub-NN/ses-01/eeg/sub-NN_ses-01_task-szMonitoring_run-MM_eeg.edf`` with ``_events.tsv``,
        ``_eeg.json`` and ``_channels.tsv`` sidecars, ``sub-NN_ses-01_scans.tsv`` with each file's
        ``acq_time``, ``dataset_description.json``, ``participants.tsv``); subject ``chbNN`` becomes
        ``sub-NN`` and the ground truth in ``SYNTHETIC.json`` uses the BIDS names.
    progress : bool, default=True
        Show a progress bar over files.

    Returns
    -------
    root : Path
        The dataset folder.

    Notes
    -----
    The first subject's recording starts shortly before midnight (its summary crosses midnight).
    Seizure onsets are drawn uniformly over the recorded time (a file chosen in proportion to its
    duration, then a time at least 10 s from either end of it), subject to the spacing rules: the
    first onset comes late enough for its preictal period to be recorded, consecutive seizures are
    ``min_separation_s`` apart and ``min_interictal_s`` of interictal time remains.
    Every signal and every placement is drawn from streams seeded by
    ``(seed, subject, purpose, file)``; the preictal change and the look-alike episodes have their
    own streams, so ``lookalike_rate=0`` gives the same files as a generator without look-alikes,
    and a positive rate changes nothing outside the episodes.

    Examples
    --------
    >>> import tempfile
    >>> root = make_chbmit_like(tempfile.mkdtemp(), n_subjects=1, hours=0.5, file_hours=0.25,
    ...                         seizures=0, progress=False)
    >>> sorted(p.name for p in (root / "chb01").iterdir())
    ['chb01-summary.txt', 'chb01_01.edf', 'chb01_02.edf']
    """
    root = Path(root)
    if n_subjects < 1 or n_subjects > 99:
        raise ValueError(f"n_subjects must be in [1, 99], got {n_subjects}")
    if hours <= 0 or file_hours <= 0 or round(file_hours * 3600) < 60:
        raise ValueError(f"hours and file_hours must be positive (file_hours >= 1 min), got {hours}, {file_hours}")
    if round(hours * 3600) < 60:
        raise ValueError(f"hours must cover at least one minute, got {hours}")
    if isinstance(seizures, (list, tuple)):
        seizures = tuple(int(k) for k in seizures)
    bounds = seizures if isinstance(seizures, tuple) else (int(seizures), int(seizures))
    if len(bounds) != 2 or min(bounds) < 0 or bounds[0] > bounds[1]:
        raise ValueError(f"seizures must be a non-negative int or an increasing (min, max) pair, got {seizures}")
    if not np.isfinite(preictal_effect) or preictal_effect < 0:
        raise ValueError(f"preictal_effect must be finite and >= 0, got {preictal_effect}")
    if not np.isfinite(common_effect) or common_effect < 0:
        raise ValueError(f"common_effect must be finite and >= 0, got {common_effect}")
    if not np.isfinite(lookalike_rate) or lookalike_rate < 0:
        raise ValueError(f"lookalike_rate must be finite and >= 0 (episodes per hour), got {lookalike_rate}")
    if len(gap_s) != 2 or gap_s[0] < 0 or gap_s[0] > gap_s[1]:
        raise ValueError(f"gap_s must be an increasing pair of non-negative seconds, got {gap_s}")
    if sfreq < 128 or int(sfreq) != sfreq:
        raise ValueError(f"sfreq must be an integer >= 128 Hz (60 Hz line noise is simulated), got {sfreq}")
    if layout not in ("chbmit", "bids"):
        raise ValueError(f"layout must be 'chbmit' or 'bids', got {layout!r}")

    subjects = [
        _plan_subject(
            i, seed=seed, hours=hours, file_hours=file_hours, seizures=seizures, gap_s=tuple(gap_s),
            quirks=quirks, boundary_seizure=boundary_seizure, lookalike_rate=lookalike_rate, sop_s=sop_s,
            min_separation_s=min_separation_s,
            interictal_margin_s=interictal_margin_s, min_interictal_s=min_interictal_s,
        )
        for i in range(n_subjects)
    ]
    root.mkdir(parents=True, exist_ok=True)
    n_files = sum(len(s.recordings) for s in subjects)
    with tqdm(total=n_files, desc="synthetic EEG files", unit="file", disable=not progress) as bar:
        for index, subject in enumerate(subjects):
            onsets = [r.t_file_start + on for r in subject.recordings for on, _ in r.seizures]
            changes = onsets + subject.lookalike_onsets
            for k, rec in enumerate(subject.recordings):
                data = _synthesize(
                    subject, k, changes, seed=seed, subject_index=index, sfreq=sfreq, preictal_effect=preictal_effect,
                    common_effect=common_effect, sop_s=sop_s, artifacts=artifacts,
                )
                start = _BASE_DATE + dt.timedelta(seconds=subject.clock_start + rec.t_file_start)
                path = _edf_path(root, subject, index, k, layout)
                path.parent.mkdir(parents=True, exist_ok=True)
                write_edf(path, data, sfreq, rec.channels, start=start)
                if layout == "bids":
                    _write_bids_sidecars(path, rec, start, sfreq)
                bar.update()
            if layout == "bids":
                _write_bids_scans(root, subject, index)
            else:
                (root / subject.name / f"{subject.name}-summary.txt").write_text(_summary_text(subject, sfreq))

    if layout == "bids":
        _write_bids_root(root, len(subjects))
    else:
        _write_records(root, subjects)
    params = dict(
        n_subjects=n_subjects, hours=hours, seizures=list(bounds) if isinstance(seizures, tuple) else seizures,
        preictal_effect=preictal_effect, common_effect=common_effect, seed=seed, sfreq=sfreq,
        file_hours=file_hours, gap_s=list(gap_s), quirks=quirks, artifacts=artifacts,
        boundary_seizure=boundary_seizure, lookalike_rate=lookalike_rate, sop_s=sop_s,
        min_separation_s=min_separation_s, interictal_margin_s=interictal_margin_s, min_interictal_s=min_interictal_s,
    )
    truth = _ground_truth(subjects)
    if layout == "bids":  # the CHB-MIT layout's manifest stays as it was (no layout key)
        params["layout"] = layout
        truth = _bids_truth(truth)
    manifest = {"generator_version": GENERATOR_VERSION, "params": params, "subjects": truth}
    (root / "SYNTHETIC.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return root


# ------------------------------------------------------------------------------------ embedded dataset

#: Parameters of the embedded datasets (see :func:`embedded_dataset`).
PRESETS: dict[str, dict] = {
    "default": dict(n_subjects=6, hours=3.0, seizures=(2, 3), preictal_effect=1.0, lookalike_rate=0.25, seed=0),
    "tiny": dict(n_subjects=3, hours=2.0, seizures=2, preictal_effect=2.0, seed=1),
    "null": dict(n_subjects=3, hours=2.0, seizures=2, preictal_effect=0.0, lookalike_rate=0.25, seed=1),
    "tiny_shared": dict(
        n_subjects=3, hours=2.5, seizures=2, preictal_effect=2.0, common_effect=3.0, seed=388, min_separation_s=4200.0
    ),
}


def _is_complete(folder: Path, params: dict) -> bool:
    try:
        manifest = json.loads((folder / "SYNTHETIC.json").read_text())
    except (OSError, ValueError):
        return False
    expected = json.loads(json.dumps(params))
    return manifest.get("generator_version") == GENERATOR_VERSION and all(
        manifest["params"].get(k) == v for k, v in expected.items()
    )


def embedded_dataset(cache_dir: str | Path | None = None, *, preset: str = "default", progress: bool = True) -> Path:
    """The project's embedded synthetic dataset, generated on first use and then reused.

    The dataset lives in ``<cache_dir>/synthetic/<preset>``. It is generated into a temporary sibling
    folder and renamed into place when complete, so an interrupted run never leaves a half-written
    dataset; a folder whose ``SYNTHETIC.json`` matches the preset and generator version is reused.

    Presets (all 256 Hz, 1-h files, CHB-MIT quirks on, seizure onsets uniform over the recorded time):

    ``"default"``
        6 subjects x 3 h (18 h of EEG), 2-3 seizures per subject, moderate preictal effect (1.0),
        interictal look-alike episodes (the preictal change without a seizure) at 0.25 per hour,
        seed 0. What ``python pipelines/loso.py`` runs on with no arguments.
    ``"tiny"``
        3 subjects x 2 h, 2 seizures each, strong preictal effect (2.0), no look-alike episodes,
        seed 1. For tests and demos.
    ``"null"``
        ``"tiny"`` with ``preictal_effect=0`` and look-alike episodes at 0.25 per hour: the same EEG
        with no preictal change at all (look-alikes scale with the effect too, so they are listed in
        the ground truth but absent from the EEG), for checking that a pipeline finds nothing where
        there is nothing.
    ``"tiny_shared"``
        3 subjects x 2.5 h, 2 seizures each, strong preictal effect (2.0) whose shared 20-40 Hz part
        is 3 times the usual (``common_effect=3``), no look-alike episodes, so that a model fit on one
        subject transfers to the others: leave-one-subject-out works with 3 subjects. Seizures are at
        least 70 min apart (``min_separation_s=4200``), and seed 388 is the first seed whose seizure
        plan (drawn before any signal) leaves every subject at least 20 min of interictal time before
        its first seizure, so each subject has interictal windows both before and between its
        seizures, as the patient-specific benchmark needs. Its null counterpart:
        ``make_chbmit_like(root, **{**PRESETS["tiny_shared"], "preictal_effect": 0})``.

    Parameters
    ----------
    cache_dir : str or Path, optional
        Cache root (relative paths resolve against the working directory); None: the default cache
        location, :func:`sklearn_eeg.cache_location.default_cache_dir` (``$SKLEARN_EEG_CACHE``, else
        the per-user cache folder).
    preset : {"default", "tiny", "null", "tiny_shared"}, default="default"
        Which dataset.
    progress : bool, default=True
        Show a progress bar while generating.

    Returns
    -------
    root : Path
        The dataset folder, ready for :func:`sklearn_eeg.data.load_index`.
    """
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    params = PRESETS[preset]
    if cache_dir is None:
        cache_dir = default_cache_dir()
    target = Path(cache_dir) / "synthetic" / preset
    if _is_complete(target, params):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{preset}-", dir=target.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the dataset is not
        make_chbmit_like(tmp, progress=progress, **params)
        if target.exists():
            if _is_complete(target, params):  # another process finished first
                return target
            stale = Path(tempfile.mkdtemp(prefix=f".{preset}-stale-", dir=target.parent))
            os.replace(target, stale / "old")
            shutil.rmtree(stale, ignore_errors=True)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def describe_dataset(root: str | Path) -> str:
    """A short text summary of a dataset written by :func:`make_chbmit_like`.

    Parameters
    ----------
    root : str or Path
        Folder holding ``SYNTHETIC.json``.

    Returns
    -------
    text : str
        One line for the dataset, then one line per subject (hours, files, seizures, preictal kind,
        focus, quirk, and where its look-alike episodes end on the subject's timeline).
    """
    path = Path(root) / "SYNTHETIC.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is missing or unreadable: not a dataset written by make_chbmit_like") from exc
    params, subjects = manifest["params"], manifest["subjects"]
    hours = sum(r["duration"] for s in subjects for r in s["recordings"]) / 3600
    n_seizures = sum(len(r["seizures"]) for s in subjects for r in s["recordings"])
    n_lookalikes = sum(len(s.get("lookalike_onsets", [])) for s in subjects)
    lines = [
        f"{root}: {len(subjects)} subjects, {hours:.1f} h, {n_seizures} seizures, {n_lookalikes} look-alike "
        f"episodes, preictal_effect={params['preictal_effect']}, common_effect={params.get('common_effect', 1.0)}, "
        f"seed={params['seed']}"
    ]
    for s in subjects:
        lines.append(
            f"  {s['name']}: {sum(r['duration'] for r in s['recordings']) / 3600:.1f} h in "
            f"{len(s['recordings'])} files, {sum(len(r['seizures']) for r in s['recordings'])} seizures, "
            f"preictal {s['preictal_kind']} at {'/'.join(s['focus'])}, quirk {s['quirk']}{_lookalike_text(s)}"
        )
    return "\n".join(lines)


def _lookalike_text(subject: dict) -> str:
    """``", look-alikes ending at 4210 s, 9035 s"`` (subject timeline), or nothing without any."""
    onsets = subject.get("lookalike_onsets", [])
    return f", look-alikes ending at {', '.join(f'{t:.0f} s' for t in onsets)}" if onsets else ""
