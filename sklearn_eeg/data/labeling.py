"""Seizure-occurrence-period labels for sliding windows on the subject timeline.

Every window of every recording gets one state, decided in this order of priority:

``ictal``
    the window overlaps a seizure ``[t_onset, t_offset]``.
``postictal``
    the window starts less than ``postictal`` seconds after a seizure offset.
``preictal``
    the window end lies in ``[t_onset - sop, t_onset - sph]`` of the next seizure, and that seizure
    is a *lead* seizure: the first of its segment, or one whose onset comes at least
    ``lead_seizure_gap`` seconds after the previous seizure's offset.
``excluded``
    any other window closer than ``interictal_buffer`` seconds to a seizure (this includes the SPH
    gap just before onset and the neighbourhood of non-lead seizures).
``interictal``
    at least ``interictal_buffer`` seconds from every seizure of the same segment.

Distances are measured on the subject timeline (seconds since the subject's first file), so the
preictal period of a seizure two minutes into a file lies mostly in the previous file. Gaps between
files are unobserved: no window is ever placed there, but they count in distances. Seizures only act
on windows of the same ``segment`` (files with an unknown gap between them never share labels).
See ``docs/LABELING_SCHEMA.md``.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

STATES = ("interictal", "preictal", "ictal", "postictal", "excluded")
LABELING_DEFAULTS = {
    "sop": 600.0,
    "sph": 30.0,
    "postictal": 600.0,
    "interictal_buffer": 1800.0,
    "lead_seizure_gap": 1800.0,
    "tau": 300.0,
}
WINDOW_COLUMNS = (
    "subject",
    "recording",
    "t_start",
    "t_abs",
    "state",
    "label",
    "tte",
    "y_soft",
    "seizure_id",
    "lead_seizure",
    "ictal",
)
_RECORDING_COLUMNS = ("subject", "recording", "t_file_start", "duration", "segment")
_SEIZURE_COLUMNS = ("subject", "recording", "seizure_id", "t_onset", "t_offset")


def _check_columns(df: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name} lacks columns {missing} (see docs/DATA_CONTRACTS.md)")


def _check_params(window: float, stride: float, params: dict[str, float]) -> None:
    if not window > 0 or not stride > 0:
        raise ValueError(f"window and stride must be > 0, got window={window}, stride={stride}")
    for key, value in params.items():
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{key} must be a finite number >= 0, got {value}")
    if params["sph"] > params["sop"]:
        raise ValueError(f"sph ({params['sph']}) must not exceed sop ({params['sop']})")
    if params["tau"] == 0:
        raise ValueError("tau must be > 0")


def window_starts(duration: np.ndarray, window: float, stride: float) -> tuple[np.ndarray, np.ndarray]:
    """Window start times of several recordings, concatenated.

    Parameters
    ----------
    duration : ndarray of shape (n_recordings,)
        Recording lengths in seconds; NaN or shorter than ``window`` gives no window.
    window, stride : float
        Window length and step in seconds.

    Returns
    -------
    rec : ndarray of shape (n_windows,)
        Index of the recording each window belongs to.
    t_start : ndarray of shape (n_windows,)
        Window start in seconds from its file start (``k * stride``).
    """
    duration = np.asarray(duration, dtype=float)
    with np.errstate(invalid="ignore"):
        counts = np.floor((duration - window) / stride + 1e-9) + 1
    counts = np.where(np.isfinite(counts) & (counts > 0), counts, 0).astype(np.int64)
    rec = np.repeat(np.arange(duration.size), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    k = np.arange(rec.size) - first
    return rec, k * float(stride)


def lead_seizures(seizures: pd.DataFrame, recordings: pd.DataFrame, *, lead_seizure_gap: float = 1800.0) -> pd.Series:
    """Which seizures are lead seizures (separate forecasting targets).

    A seizure is a lead seizure when it is the first of its (subject, segment), or when its onset
    comes at least ``lead_seizure_gap`` seconds after the previous seizure's offset.

    Parameters
    ----------
    seizures : DataFrame
        Seizure index (``subject``, ``recording``, ``seizure_id``, ``t_onset``, ``t_offset``).
    recordings : DataFrame
        Recording index, used for each seizure's ``segment``.
    lead_seizure_gap : float
        Seconds from the previous offset to this onset for a seizure to count as a lead seizure.

    Returns
    -------
    lead : Series of bool, indexed like ``seizures``
    """
    sz = _seizures_with_segment(seizures, recordings)
    previous_offset = sz.groupby(["subject", "segment"])["t_offset"].transform(lambda s: s.cummax().shift())
    lead = previous_offset.isna() | (sz["t_onset"] - previous_offset >= lead_seizure_gap)
    return lead.reindex(seizures.index)


def _seizures_with_segment(seizures: pd.DataFrame, recordings: pd.DataFrame) -> pd.DataFrame:
    """Seizures with their recording's segment, sorted by subject, segment and onset."""
    _check_columns(seizures, _SEIZURE_COLUMNS, "seizures")
    _check_columns(recordings, _RECORDING_COLUMNS, "recordings")
    segments = recordings.set_index(["subject", "recording"])["segment"]
    keys = pd.MultiIndex.from_frame(seizures[["subject", "recording"]])
    unknown = ~keys.isin(segments.index)
    if unknown.any():
        bad = seizures.loc[unknown, "seizure_id"].tolist()
        raise ValueError(f"seizures {bad} refer to recordings absent from the recordings table")
    if (seizures["t_offset"] < seizures["t_onset"]).any():
        bad = seizures.loc[seizures["t_offset"] < seizures["t_onset"], "seizure_id"].tolist()
        raise ValueError(f"seizures {bad} end before they start (t_offset < t_onset)")
    out = seizures.assign(segment=segments.reindex(keys).to_numpy())
    return out.sort_values(["subject", "segment", "t_onset"], kind="stable")


def _label_group(
    ts: np.ndarray,
    te: np.ndarray,
    onset: np.ndarray,
    offset: np.ndarray,
    lead: np.ndarray,
    p: dict[str, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """States, tte and index of the next seizure for windows ``[ts, te]`` of one segment.

    ``onset`` is sorted; ``offset`` is turned into its running maximum so that overlapping
    seizures are handled. Returns (state codes into ``STATES``, tte, next-seizure index or -1).
    """
    n = ts.size
    if onset.size == 0:
        return np.zeros(n, dtype=np.int8), np.full(n, np.nan), np.full(n, -1)
    offset = np.maximum.accumulate(offset)
    nxt = np.searchsorted(onset, te, side="left")  # first seizure with onset >= window end
    prv = nxt - 1  # last seizure with onset < window end
    has_next = nxt < onset.size
    has_prev = prv >= 0
    next_onset = np.where(has_next, onset[np.minimum(nxt, onset.size - 1)], np.inf)
    prev_offset = np.where(has_prev, offset[np.maximum(prv, 0)], -np.inf)

    before = next_onset - te  # >= 0: time from window end to the next onset
    after = ts - prev_offset  # time from the previous offset to the window start (< 0: overlap)
    ictal = after < 0
    postictal = ~ictal & (after < p["postictal"])
    is_lead = has_next & lead[np.minimum(nxt, onset.size - 1)]
    preictal = is_lead & (before >= p["sph"]) & (before <= p["sop"])
    near = (before < p["interictal_buffer"]) | (after < p["interictal_buffer"])

    state = np.select(
        [ictal, postictal, preictal, near],
        [STATES.index("ictal"), STATES.index("postictal"), STATES.index("preictal"), STATES.index("excluded")],
        default=STATES.index("interictal"),
    ).astype(np.int8)
    tte = np.where(has_next, before, np.nan)
    return state, tte, np.where(has_next, nxt, -1)


def label_windows(
    recordings: pd.DataFrame,
    seizures: pd.DataFrame,
    *,
    window: float = 10.0,
    stride: float = 5.0,
    sop: float = 600.0,
    sph: float = 30.0,
    postictal: float = 600.0,
    interictal_buffer: float = 1800.0,
    lead_seizure_gap: float = 1800.0,
    tau: float = 300.0,
) -> pd.DataFrame:
    """Label every sliding window of every recording on the subject timeline.

    Parameters
    ----------
    recordings : DataFrame
        Recording index from :func:`sklearn_eeg.data.load_index` (uses ``subject``,
        ``recording``, ``t_file_start``, ``duration``, ``segment``). Recordings with NaN duration
        get no windows.
    seizures : DataFrame
        Seizure index (``subject``, ``recording``, ``seizure_id``, ``t_onset``, ``t_offset``).
    window, stride : float
        Window length and step in seconds; windows start at ``k * stride`` from the file start
        and lie entirely inside the file.
    sop : float
        Seizure occurrence period: preictal windows end in ``[t_onset - sop, t_onset - sph]``.
    sph : float
        Seizure prediction horizon (gap before onset, excluded).
    postictal : float
        Seconds after an offset during which windows are ``postictal``.
    interictal_buffer : float
        Minimum distance in seconds from every seizure for ``interictal``.
    lead_seizure_gap : float
        A seizure whose onset follows the previous seizure's offset by less than this is not a
        lead seizure: it gets no preictal windows.
    tau : float
        Time constant of the soft target ``y_soft = exp(-tte / tau)``.

    Returns
    -------
    table : DataFrame of shape (n_windows, 11)
        Columns ``subject``, ``recording``, ``t_start`` (s from file start), ``t_abs`` (window end
        on the subject timeline), ``state`` (one of :data:`STATES`), ``label`` (1 preictal,
        0 interictal, -1 otherwise), ``tte`` (s from window end to the next onset at or after it
        in the same segment, NaN if none), ``y_soft`` (0 where ``tte`` is NaN), ``seizure_id``
        (the lead seizure of preictal windows, else ""), ``lead_seizure`` (the next seizure at or
        after the window end when it is a lead seizure, else "": what alarm scoring counts as
        forecasting targets, with onset ``t_abs + tte``), ``ictal`` (bool). Rows follow the order
        of ``recordings`` then time.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"subject": ["s"], "recording": ["s_01"], "t_file_start": [0.0],
    ...                      "duration": [3600.0], "segment": [0]})
    >>> sz = pd.DataFrame({"subject": ["s"], "recording": ["s_01"], "seizure_id": ["s_s01"],
    ...                    "t_onset": [3000.0], "t_offset": [3030.0]})
    >>> table = label_windows(recs, sz)
    >>> int(table["label"].eq(1).sum())  # window ends 2400 ... 2970 s
    115
    """
    params = dict(sop=sop, sph=sph, postictal=postictal, interictal_buffer=interictal_buffer,
                  lead_seizure_gap=lead_seizure_gap, tau=tau)
    _check_params(window, stride, params)
    sz = _seizures_with_segment(seizures, recordings)
    sz = sz.assign(lead=lead_seizures(sz, recordings, lead_seizure_gap=lead_seizure_gap).to_numpy())

    rec_idx, t_start = window_starts(recordings["duration"].to_numpy(), window, stride)
    rec = recordings.iloc[rec_idx]
    ts = rec["t_file_start"].to_numpy(dtype=float) + t_start
    te = ts + window
    state = np.zeros(ts.size, dtype=np.int8)
    tte = np.full(ts.size, np.nan)
    seizure_id = np.full(ts.size, "", dtype=object)
    lead_seizure = np.full(ts.size, "", dtype=object)

    windows = pd.DataFrame({"subject": rec["subject"].to_numpy(), "segment": rec["segment"].to_numpy()})
    groups = windows.groupby(["subject", "segment"], sort=False).indices
    sz_groups = sz.groupby(["subject", "segment"], sort=False).indices
    for key, rows in groups.items():
        s = sz.iloc[sz_groups.get(key, [])]
        g_state, g_tte, g_next = _label_group(
            ts[rows], te[rows], s["t_onset"].to_numpy(float), s["t_offset"].to_numpy(float),
            s["lead"].to_numpy(bool), params,
        )
        state[rows], tte[rows] = g_state, g_tte
        pre = g_state == STATES.index("preictal")
        seizure_id[rows[pre]] = s["seizure_id"].to_numpy()[g_next[pre]]
        ahead = g_next >= 0
        ahead[ahead] = s["lead"].to_numpy(bool)[g_next[ahead]]
        lead_seizure[rows[ahead]] = s["seizure_id"].to_numpy()[g_next[ahead]]

    states = np.asarray(STATES, dtype=object)[state]
    label = np.select([state == STATES.index("preictal"), state == STATES.index("interictal")], [1, 0], default=-1)
    return pd.DataFrame(
        {
            "subject": rec["subject"].to_numpy(),
            "recording": rec["recording"].to_numpy(),
            "t_start": t_start,
            "t_abs": te,
            "state": states,
            "label": label.astype(np.int8),
            "tte": tte,
            "y_soft": np.exp(-np.where(np.isnan(tte), np.inf, tte) / tau),
            "seizure_id": seizure_id,
            "lead_seizure": lead_seizure,
            "ictal": state == STATES.index("ictal"),
        }
    )
