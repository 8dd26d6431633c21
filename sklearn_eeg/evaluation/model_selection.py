"""Subject-wise and chronological splits for honest seizure-forecasting benchmarks.

Two splitters, both keyed on the window table (see ``docs/DATA_CONTRACTS.md``):

* :class:`LeaveOneSubjectOutWithValidation` (and the generator :func:`loso_splits`) holds out one
  test subject per fold and a rotating set of validation subjects, used only to tune alarm
  thresholds; the model is fit on the remaining training subjects. :func:`clip_n_val_subjects`
  fits a configured number of validation subjects to a small dataset.
* :class:`ChronologicalSeizureSplit` is the patient-specific split: within one subject, fold ``k``
  tests on the ``k``-th lead seizure's block (the interictal time since the previous lead seizure
  and the seizure's preictal windows) and trains on everything strictly earlier in time.

:func:`assert_disjoint_subjects` and :func:`assert_chronological` are the leakage guards used by
the benchmarks; they raise :class:`LeakageError`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state

__all__ = [
    "ChronologicalSeizureSplit",
    "LeakageError",
    "LeaveOneSubjectOutWithValidation",
    "assert_chronological",
    "assert_disjoint_subjects",
    "clip_n_val_subjects",
    "loso_splits",
]


class LeakageError(AssertionError):
    """A split would let information about held-out data reach the model or its threshold."""


def assert_disjoint_subjects(groups: np.ndarray, *splits: np.ndarray) -> None:
    """Raise :class:`LeakageError` if two index splits share a subject (and so, a fortiori, a window).

    Parameters
    ----------
    groups : array-like of shape (n_windows,)
        Subject of every window.
    *splits : array-like of int
        Index arrays into ``groups`` (for example train, validation and test indices).

    Raises
    ------
    LeakageError
        Naming the first subject found in more than one split.

    Examples
    --------
    >>> groups = np.array(["chb01", "chb01", "chb02"])
    >>> assert_disjoint_subjects(groups, [0, 1], [2])
    """
    groups = np.asarray(groups)
    seen_subjects: dict[str, int] = {}
    for position, split in enumerate(splits):
        split = np.asarray(split, dtype=int)
        for subject in np.unique(groups[split]):
            if subject in seen_subjects:
                raise LeakageError(
                    f"subject {subject!r} appears in split {seen_subjects[subject]} and in split {position}"
                )
        seen_subjects.update({str(subject): position for subject in np.unique(groups[split])})


def assert_chronological(t_abs: np.ndarray, earlier: np.ndarray, later: np.ndarray) -> None:
    """Raise :class:`LeakageError` unless every ``earlier`` window ends before every ``later`` one.

    Parameters
    ----------
    t_abs : array-like of shape (n_windows,)
        Window end on the subject timeline (s), the window table's ``t_abs``.
    earlier, later : array-like of int
        Index arrays into ``t_abs``; empty arrays always pass.
    """
    t_abs = np.asarray(t_abs, dtype=float)
    earlier = np.asarray(earlier, dtype=int)
    later = np.asarray(later, dtype=int)
    if earlier.size and later.size and t_abs[earlier].max() >= t_abs[later].min():
        raise LeakageError(
            f"training data reaches t={t_abs[earlier].max():.0f} s, after the first test window "
            f"(t={t_abs[later].min():.0f} s)"
        )


class LeaveOneSubjectOutWithValidation(BaseCrossValidator):
    """Leave-one-subject-out with rotating validation subjects.

    Subjects are shuffled once (``random_state``) into a ring. Fold ``i`` tests on subject ``i``
    (in sorted order) and validates on the ``n_val_subjects`` subjects that follow it on the ring,
    so across folds every subject serves as validation subject ``n_val_subjects`` times. The
    remaining subjects are the training subjects.

    :meth:`split` yields ``(train, test)`` with the validation subjects left out of ``train``
    (exactly what the benchmark's model sees), so the splitter works as ``cv=`` in
    :func:`sklearn.model_selection.cross_validate`; always pass ``groups``.
    :meth:`split_with_validation` yields ``(train, val, test)``.

    Parameters
    ----------
    n_val_subjects : int, default=1
        Validation subjects per fold; ``0`` gives plain leave-one-group-out.
    random_state : int, RandomState instance or None, default=0
        Seeds the ring order of the validation rotation.

    Examples
    --------
    >>> groups = np.repeat(["chb01", "chb02", "chb03"], 2)
    >>> cv = LeaveOneSubjectOutWithValidation(n_val_subjects=1)
    >>> [len(test) for _, _, test in cv.split_with_validation(groups=groups)]
    [2, 2, 2]
    """

    def __init__(self, *, n_val_subjects: int = 1, random_state: int | np.random.RandomState | None = 0):
        self.n_val_subjects = n_val_subjects
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Number of folds: the number of distinct subjects in ``groups``."""
        if groups is None:
            raise ValueError("The 'groups' parameter should not be None (pass the subject of every window).")
        return len(np.unique(np.asarray(groups)))

    def split_with_validation(
        self, X=None, y=None, groups=None
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Yield ``(train, val, test)`` index arrays, one fold per test subject.

        Parameters
        ----------
        X, y : ignored
            Accepted for scikit-learn compatibility.
        groups : array-like of shape (n_windows,)
            Subject of every window.
        """
        if groups is None:
            raise ValueError("The 'groups' parameter should not be None (pass the subject of every window).")
        groups = np.asarray(groups)
        subjects = np.unique(groups)
        n_val = int(self.n_val_subjects)
        if n_val < 0:
            raise ValueError(f"n_val_subjects must be >= 0; got {self.n_val_subjects}")
        if len(subjects) < n_val + 2:
            raise ValueError(
                f"n_val_subjects={n_val} needs at least {n_val + 2} subjects (one test, one training); "
                f"got {len(subjects)}"
            )
        ring = subjects[check_random_state(self.random_state).permutation(len(subjects))]
        position = {subject: i for i, subject in enumerate(ring)}
        for test_subject in subjects:
            start = position[test_subject]
            val_subjects = [ring[(start + k) % len(ring)] for k in range(1, n_val + 1)]
            test = np.flatnonzero(groups == test_subject)
            val = np.flatnonzero(np.isin(groups, val_subjects))
            train = np.flatnonzero(~np.isin(groups, [test_subject, *val_subjects]))
            assert_disjoint_subjects(groups, train, val, test)
            yield train, val, test

    def split(self, X=None, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train, test)`` index arrays; validation subjects are in neither."""
        for train, _, test in self.split_with_validation(X, y, groups):
            yield train, test

    def _iter_test_indices(self, X=None, y=None, groups=None):  # required by BaseCrossValidator
        for _, test in self.split(X, y, groups):
            yield test


def loso_splits(
    groups: np.ndarray, *, n_val_subjects: int = 1, random_state: int | None = 0
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(train, val, test)`` leave-one-subject-out folds with rotating validation subjects.

    Shorthand for ``LeaveOneSubjectOutWithValidation(...).split_with_validation(groups=groups)``.

    Parameters
    ----------
    groups : array-like of shape (n_windows,)
        Subject of every window.
    n_val_subjects : int, default=1
        Validation subjects per fold.
    random_state : int or None, default=0
        Seeds the rotation order.
    """
    cv = LeaveOneSubjectOutWithValidation(n_val_subjects=n_val_subjects, random_state=random_state)
    yield from cv.split_with_validation(groups=groups)


def clip_n_val_subjects(n_subjects: int, n_val_subjects: int) -> int:
    """Validation subjects per leave-one-subject-out fold, lowered so that one subject is left to fit on.

    A fold holds out one test subject; of the ``n_subjects - 1`` training subjects, at least one
    must remain to fit the model. A larger ``n_val_subjects`` (a config written for a bigger
    dataset) is lowered to ``n_subjects - 2`` with a warning.

    Parameters
    ----------
    n_subjects : int
        Subjects in the dataset (folds).
    n_val_subjects : int
        Requested validation subjects per fold; ``0`` (no validation subjects) is kept.

    Returns
    -------
    n_val_subjects : int
        ``min(n_val_subjects, n_subjects - 2)``.

    Raises
    ------
    ValueError
        If ``n_val_subjects`` is negative, or if a fold cannot have one validation and one fit
        subject (fewer than 3 subjects with ``n_val_subjects >= 1``).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     clip_n_val_subjects(3, 2)
    1
    """
    n_subjects, requested = int(n_subjects), int(n_val_subjects)
    if requested < 0:
        raise ValueError(f"n_val_subjects must be >= 0; got {n_val_subjects}")
    if requested == 0:
        return 0
    if n_subjects < 3:
        raise ValueError(
            f"leave-one-subject-out with validation subjects needs at least 3 subjects (1 test, 1 validation, "
            f"1 to fit on); got {n_subjects}"
        )
    if requested > n_subjects - 2:
        warnings.warn(
            f"n_val_subjects={requested} leaves no subject to fit on with {n_subjects} subjects (each fold has "
            f"{n_subjects - 1} training subjects); using n_val_subjects={n_subjects - 2}",
            UserWarning,
            stacklevel=2,
        )
        return n_subjects - 2
    return requested


class ChronologicalSeizureSplit:
    """Patient-specific chronological leave-one-seizure-out split.

    Within one subject, the windows are cut into consecutive *blocks*: block ``j`` holds every
    window after the end of lead seizure ``j - 1``'s preictal windows up to the end of lead seizure
    ``j``'s preictal windows (interictal windows after the last lead seizure join the last block).
    Fold ``k`` tests on block ``k`` and trains on blocks ``1 .. k - 1`` — everything strictly
    earlier in time — for ``k > min_train_seizures``. Thresholds for fold ``k`` should be tuned
    on earlier blocks only (the benchmark uses fold ``k - 1``'s out-of-sample risk).

    Parameters
    ----------
    min_train_seizures : int, default=1
        Lead seizures the first training set must contain.

    Examples
    --------
    >>> meta = pd.DataFrame({"subject": "chb01", "t_abs": [10., 20., 30., 40., 50., 60.],
    ...                      "label": [0, 1, 0, 1, 0, 1],
    ...                      "seizure_id": ["", "s1", "", "s2", "", "s3"]})
    >>> [(tr.tolist(), te.tolist()) for tr, te in ChronologicalSeizureSplit().split(meta)]
    [([0, 1], [2, 3]), ([0, 1, 2, 3], [4, 5])]
    """

    def __init__(self, *, min_train_seizures: int = 1):
        self.min_train_seizures = min_train_seizures

    @staticmethod
    def blocks(meta: pd.DataFrame) -> np.ndarray:
        """Block number (0-based, chronological) of every window of one subject's window table.

        Parameters
        ----------
        meta : DataFrame
            Window table of a single subject with ``t_abs``, ``label`` and ``seizure_id``.

        Returns
        -------
        blocks : ndarray of shape (n_windows,)
            Block of each window, in the row order of ``meta``.
        """
        missing = {"subject", "t_abs", "label", "seizure_id"} - set(meta.columns)
        if missing:
            raise ValueError(f"window table lacks columns {sorted(missing)}")
        subjects = pd.unique(meta["subject"])
        if len(subjects) != 1:
            raise ValueError(
                f"ChronologicalSeizureSplit works within one subject; got {len(subjects)}: {list(subjects)}"
            )
        t_abs = meta["t_abs"].to_numpy(dtype=float)
        preictal = meta["label"].to_numpy() == 1
        ends = (
            pd.Series(t_abs[preictal]).groupby(meta["seizure_id"].to_numpy()[preictal]).max().sort_values()
        ).to_numpy()
        if ends.size == 0:
            return np.zeros(len(meta), dtype=int)
        block = np.searchsorted(ends, t_abs, side="left")
        return np.minimum(block, ends.size - 1)

    def get_n_splits(self, X=None, y=None, groups=None, *, meta: pd.DataFrame | None = None) -> int:
        """Number of folds for this subject's window table."""
        n_blocks = int(self.blocks(self._meta(X, meta)).max()) + 1
        return max(0, n_blocks - int(self.min_train_seizures))

    def split(
        self, X=None, y=None, groups=None, *, meta: pd.DataFrame | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield chronological ``(train, test)`` index arrays.

        Parameters
        ----------
        X : DataFrame or array-like
            The window table itself, or data with the window table passed as ``meta``.
        y, groups : ignored
            Accepted for scikit-learn compatibility.
        meta : DataFrame, optional
            Window table of one subject (rows aligned with ``X``).
        """
        if int(self.min_train_seizures) < 1:
            raise ValueError(f"min_train_seizures must be >= 1; got {self.min_train_seizures}")
        meta = self._meta(X, meta)
        block = self.blocks(meta)
        t_abs = meta["t_abs"].to_numpy(dtype=float)
        for k in range(int(self.min_train_seizures), int(block.max()) + 1):
            train = np.flatnonzero(block < k)
            test = np.flatnonzero(block == k)
            assert_chronological(t_abs, train, test)
            yield train, test

    @staticmethod
    def _meta(X, meta: pd.DataFrame | None) -> pd.DataFrame:
        if meta is not None:
            return meta
        if isinstance(X, pd.DataFrame):
            return X
        raise ValueError("pass the window table as X or as meta= (needs subject, t_abs, label, seizure_id)")
