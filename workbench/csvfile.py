"""The one CSV writer of the workbench: UTF-8 with a BOM, and no cell a spreadsheet runs as a formula.

Excel, LibreOffice and WPS read a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, in
some versions, a tab or carriage return) as a formula: an institution named ``=1+2医院`` or
``+cmd|' /C calc'!A0`` in a CSV written for Excel would run. Following OWASP's CSV-injection
guidance, a text cell that begins with one of those characters is written with a single quote
in front (``'=1+2医院``), which the spreadsheet shows as text and a reader can strip. A cell that
is a plain number (``-12.50``, ``+3``, ``1e-5``) is left as it is: it is no formula, and a
negative amount must stay a number. A cell holding the separator ``;`` (the list separator of
many locales, so a later part of the cell could begin a new one there), a tab or a quote is
quoted, so it stays one cell.

Every CSV the workbench writes goes through :func:`write_csv` (to a file, atomically) or
:func:`csv_bytes` (into an evidence pack); ``tests/test_csvfile.py`` fails if ``to_csv(`` or
``csv.writer(`` appears anywhere else in ``workbench/``.
"""
from __future__ import annotations

import datetime as _dt
import io
import os
import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_QUOTE_IF = ',"\r\n;\t'


def neutralise(text: str) -> str:
    """``=1+2`` → ``'=1+2``; ``-12.50`` and text not beginning with ``= + - @``, tab or CR unchanged."""
    if text and text.startswith(FORMULA_START) and not NUMBER.fullmatch(text):
        return "'" + text
    return text


def cell_text(v) -> str:
    """A value as CSV text, as pandas would write it: nulls empty, money exact, dates ISO."""
    if v is None or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, (float, np.floating)):
        return "" if np.isnan(v) else repr(float(v))
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, pd.Timestamp):
        return str(v)
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat(sep=" ") if isinstance(v, _dt.datetime) else v.isoformat()
    return str(v)


def _column_texts(s: pd.Series) -> list:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        dates_only = bool(((s.dropna() - s.dropna().dt.normalize()) == pd.Timedelta(0)).all())
        if dates_only:  # pandas writes a column of midnights as dates
            return ["" if pd.isna(v) else v.strftime("%Y-%m-%d") for v in s]
    return [cell_text(v) for v in s]


def rows(df: pd.DataFrame, columns=None, cell=None):
    """The header and the rows of ``df[columns]`` as neutralised text.

    Parameters
    ----------
    df : pandas.DataFrame
    columns : list of str, optional
        The columns and their order (default: all).
    cell : callable, optional
        ``cell(column, value) -> str``: how a writer formats its values (rounding, booleans);
        default :func:`cell_text`. Its result is neutralised too.
    """
    columns = list(df.columns if columns is None else columns)
    yield [neutralise(str(c)) for c in columns]
    if cell is None:
        cols = [_column_texts(df[c]) for c in columns]
    else:
        cols = [[cell(c, v) for v in df[c]] for c in columns]
    for r in zip(*cols):
        yield [neutralise(t) for t in r]


def _field(t: str) -> str:
    # quoted as the csv module would (separator, quote, line break), and on ';' or a tab too
    return '"' + t.replace('"', '""') + '"' if any(ch in t for ch in _QUOTE_IF) else t


def _write(f, df, columns, cell, lineterminator) -> None:
    for r in rows(df, columns, cell):
        f.write((",".join(_field(t) for t in r) if r != [""] else '""') + lineterminator)


def csv_bytes(df: pd.DataFrame, columns=None, cell=None, bom: bool = True, lineterminator: str = "\n") -> bytes:
    """``df`` as CSV bytes (UTF-8, with a BOM unless ``bom=False``); see :func:`rows`."""
    buf = io.StringIO()
    _write(buf, df, columns, cell, lineterminator)
    return buf.getvalue().encode("utf-8-sig" if bom else "utf-8")


def write_csv(df: pd.DataFrame, path, columns=None, cell=None, bom: bool = True, lineterminator: str = "\n") -> Path:
    """Write ``df`` as CSV to ``path`` atomically (written beside it, then renamed); see :func:`rows`.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
            _write(f, df, columns, cell, lineterminator)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
