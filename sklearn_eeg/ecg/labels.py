"""The per-record label table: a CSV with ``record``, ``patient``, ``label`` and optional covariates."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .records import ECGDataError

__all__ = ["LABEL_COLUMNS", "read_label_table"]

LABEL_COLUMNS = ("record", "patient", "label")
"""Required columns: the record name (path under the data folder, no extension), the patient id and
the 0/1 label. Any other column is a covariate, carried to the predictions table unchanged."""


def read_label_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read and check a label table.

    Parameters
    ----------
    path : str or path-like
        CSV file with the columns of :data:`LABEL_COLUMNS` (more columns are covariates).

    Returns
    -------
    table : DataFrame
        One row per record, in file order; ``record`` and ``patient`` as str, ``label`` as int (0/1).

    Raises
    ------
    ECGDataError
        One line naming the file and the column: missing file or column, empty table, empty record or
        patient, a record listed twice, a label that is not 0 or 1.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "labels.csv"
    >>> _ = p.write_text("record,patient,label,age\\nr1,p1,0,61\\nr2,p1,0,61\\nr3,p2,1,70\\n")
    >>> read_label_table(p)["label"].tolist()
    [0, 0, 1]
    """
    path = Path(path)
    if not path.is_file():
        raise ECGDataError(f"{path}: label table not found")
    try:
        table = pd.read_csv(path, dtype={"record": str, "patient": str, "label": str}, keep_default_na=False, na_values=[""])
    except (ValueError, pd.errors.ParserError) as exc:
        raise ECGDataError(f"{path}: not a readable CSV ({exc})") from None
    missing = [c for c in LABEL_COLUMNS if c not in table.columns]
    if missing:
        raise ECGDataError(f"{path}: missing column(s) {missing}; a label table needs {list(LABEL_COLUMNS)}")
    if table.empty:
        raise ECGDataError(f"{path}: no rows")
    for column in ("record", "patient"):
        empty = table[column].isna() | (table[column].astype(str).str.strip() == "")
        if empty.any():
            raise ECGDataError(f"{path}: column {column!r} is empty on line {int(empty.to_numpy().argmax()) + 2}")
    labels = pd.to_numeric(table["label"], errors="coerce")
    bad = ~labels.isin([0, 1])
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise ECGDataError(f"{path}: column 'label' must be 0 or 1; line {i + 2} has {table['label'].iloc[i]!r}")
    duplicated = table["record"].duplicated()
    if duplicated.any():
        raise ECGDataError(f"{path}: record {table['record'][duplicated].iloc[0]!r} is listed twice")
    table["record"] = table["record"].astype(str).str.strip()
    table["patient"] = table["patient"].astype(str).str.strip()
    table["label"] = labels.astype(int)
    return table.reset_index(drop=True)
