"""Patient-level train / validation / test split: every record of a patient lands on one side."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

__all__ = ["SIDES", "patient_split"]

SIDES = ("train", "validation", "test")


def patient_split(
    table: pd.DataFrame, *, val_fraction: float = 0.2, test_fraction: float = 0.2, random_state: int | None = 0
) -> np.ndarray:
    """The side of every record, drawn by patient and stratified by the patient's label.

    Patients (not records) are shuffled into test, then validation, with
    :func:`sklearn.model_selection.train_test_split` stratified by each patient's label (1 when any of
    its records is positive) -- a stratified ``GroupShuffleSplit`` by patient.

    Parameters
    ----------
    table : DataFrame
        Label table with ``patient`` and ``label``.
    val_fraction, test_fraction : float, default=0.2
        Shares of the patients for validation and test; their sum must be below 1.
    random_state : int or None, default=0

    Returns
    -------
    side : ndarray of shape (n_records,), dtype object
        ``"train"``, ``"validation"`` or ``"test"`` per record.

    Raises
    ------
    ValueError
        Bad fractions, or too few patients for every side to hold both classes.

    Examples
    --------
    >>> t = pd.DataFrame({"patient": [f"p{i // 2}" for i in range(40)], "label": [(i // 2) % 2 for i in range(40)]})
    >>> side = patient_split(t)
    >>> all(len(set(side[t.patient == p])) == 1 for p in t.patient)
    True
    """
    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(f"need 0 < val_fraction, test_fraction and a sum below 1; got {val_fraction}, {test_fraction}")
    patient_label = table.groupby("patient", sort=True)["label"].max()
    counts = patient_label.value_counts()
    needed = int(np.ceil(2 / min(val_fraction, test_fraction, 1 - val_fraction - test_fraction)))
    if len(counts) < 2 or counts.min() < needed:
        raise ValueError(
            f"too few patients to split: {counts.get(0, 0)} negative and {counts.get(1, 0)} positive; every side needs "
            f"both classes (about {needed} patients of each class with these fractions)"
        )
    patients = patient_label.index.to_numpy()
    rest, test = train_test_split(patients, test_size=test_fraction, stratify=patient_label.to_numpy(),
                                  random_state=random_state)
    train, val = train_test_split(rest, test_size=val_fraction / (1 - test_fraction),
                                  stratify=patient_label[rest].to_numpy(), random_state=random_state)
    for name, ids in (("train", train), ("validation", val), ("test", test)):
        if patient_label[ids].nunique() < 2:
            raise ValueError(f"the {name} patients hold one class only; use more patients or larger fractions")
    side_of = {**{p: "train" for p in train}, **{p: "validation" for p in val}, **{p: "test" for p in test}}
    return table["patient"].map(side_of).to_numpy(dtype=object)
