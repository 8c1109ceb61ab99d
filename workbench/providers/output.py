"""The ``workbench providers`` CSV: UTF-8 with a BOM, one row per institution, inspect first (``priority_rank``) first."""
from __future__ import annotations

import decimal
from pathlib import Path

import numpy as np
import pandas as pd

from .measures import BY_NAME

CSV_DECIMALS = {"money": 2, "share": 4, "ratio": 4, "days": 1}


def _cell(column: str, v) -> str:
    """Nulls empty; booleans ``true``/``false``; exact money as stored; other numbers rounded
    by their kind (shares and ratios 4 decimals, days 1, averages of money 2); ``risk_score`` 6,
    ``priority`` (yuan) 2."""
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, decimal.Decimal) or isinstance(v, (str, int, np.integer)):
        return str(v)
    if column == "risk_score":
        return f"{float(v):.6f}"
    if column == "priority":
        return f"{float(v):.2f}"
    m = BY_NAME.get(column)
    if m is not None and m.kind == "count":
        return str(int(round(float(v))))
    return f"{float(v):.{CSV_DECIMALS.get(m.kind if m else 'ratio', 4)}f}"


def write_csv(institutions: pd.DataFrame, path, columns=None) -> Path:
    """Write the table (``columns``: default every column but the internal ``reference``,
    ``pc1``, ``pc2``) atomically: written beside ``path`` and renamed into place."""
    from ..csvfile import write_csv as write  # the one CSV writer: no cell a spreadsheet runs as a formula

    columns = columns or [c for c in institutions.columns if c not in ("reference", "pc1", "pc2")]
    return write(institutions, path, columns=columns, cell=_cell)
