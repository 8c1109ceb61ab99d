"""Read one source file (CSV, XLSX or Parquet) as text columns, keeping each row's number.

Every column is read as a string, whatever it looks like: identifiers keep their leading zeros
and nothing is guessed. Types are parsed later, in one vectorised pass, by the validator.

Row numbers are as a person sees them in the file: in CSV and XLSX the header is row 1 and the
first data row is row 2 (a CSV row is a record, so a quoted value spanning two lines is still
one row); in Parquet, which has no header row, the first row is row 1.
"""
from __future__ import annotations

import codecs
import csv
import datetime as _dt
import gzip
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..datafolder import sha256_file  # noqa: F401  (the one definition; mapping imports it from here)
from .problems import Problem

EXTENSIONS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".parquet": "parquet"}
GZIP = ".gz"  # a CSV may come gzip-compressed (``claims.csv.gz``): read as it is, never unpacked to disk
ROW = "_row"  # the row-number column every reader adds
_CHUNK = 1 << 20


@dataclass
class SourceFile:
    """One file of an extract, read as text.

    Attributes
    ----------
    name : str
        Path inside the extract folder, with ``/`` (``fee/part-1.csv``): how problems name it.
    path : Path
    kind : str
        ``csv``, ``xlsx`` or ``parquet``.
    sha256 : str
    header : list of str
        Column names as written in the file (surrounding whitespace removed).
    data : pyarrow.Table or None
        One string column per header column, named by the header lower-cased, plus ``_row``;
        None when the file could not be read.
    encoding : str or None
        Text encoding of a CSV file (``utf-8``, ``utf-8-sig``, ``gb18030``, ``utf-16``).
    problems : list of Problem
        What made the file, or some rows of it, unreadable.
    """

    name: str
    path: Path
    kind: str
    sha256: str = ""
    header: list = field(default_factory=list)
    data: pa.Table | None = None
    encoding: str | None = None
    problems: list = field(default_factory=list)
    n_rows: int | None = None

    def release(self):
        """Drop the text data (once staged) so a large extract is not held twice; keep its size."""
        self.n_rows = self.rows
        self.data = None

    @property
    def columns(self) -> list:
        """Lower-cased column names (how columns are matched, case-insensitively)."""
        return [normalise_name(h) for h in self.header]

    @property
    def rows(self) -> int:
        if self.n_rows is not None:
            return self.n_rows
        return 0 if self.data is None else self.data.num_rows

    def record(self) -> dict:
        """What the data manifest records about this file."""
        rec = {"file": self.name, "sha256": self.sha256, "rows": self.rows}
        if self.encoding:
            rec["encoding"] = self.encoding
        return rec


def file_kind(path) -> str | None:
    """``csv``, ``xlsx`` or ``parquet`` by the file's extension (``.csv.gz`` and ``.txt.gz`` are
    CSV), None for anything else."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == GZIP:
        return "csv" if Path(path.stem).suffix.lower() in (".csv", ".txt") else None
    return EXTENSIONS.get(suffix)


def file_stem(path) -> str:
    """The file's name without its extension (``mdtrt.csv.gz`` → ``mdtrt``)."""
    path = Path(path)
    return Path(path.stem).stem if path.suffix.lower() == GZIP else path.stem


def _open_bytes(path):
    """The file's bytes, decompressed when it is gzip-compressed."""
    return gzip.open(path, "rb") if Path(path).suffix.lower() == GZIP else open(path, "rb")


def normalise_name(name) -> str:
    """Column name as matched: surrounding whitespace and a stray BOM removed, lower case."""
    return str(name if name is not None else "").replace("\ufeff", "").strip().lower()


def read_source(path, name: str) -> SourceFile:
    """Read the file at ``path`` (called ``name`` in reports) according to its extension."""
    path = Path(path)
    kind = file_kind(path)
    sf = SourceFile(name=name, path=path, kind=kind or "unknown")
    if kind is None:
        sf.problems.append(Problem("unreadable file", name, None, None, None, f"not a CSV (or .csv.gz), XLSX or Parquet file ({path.suffix or 'no extension'})"))
        return sf
    try:
        if kind == "csv":
            _read_csv(sf)
        elif kind == "xlsx":
            sf.sha256 = sha256_file(path)
            _read_xlsx(sf)
        else:
            sf.sha256 = sha256_file(path)
            _read_parquet(sf)
    except _Unreadable as e:
        sf.data = None
        sf.problems.append(Problem("unreadable file", name, e.row, None, None, str(e)))
    except Exception as e:  # a broken zip, a truncated Parquet footer, ...: say what the library said
        sf.data = None
        sf.problems.append(Problem("unreadable file", name, None, None, None, f"cannot read this {kind.upper()} file: {type(e).__name__}: {e}".strip()))
    if sf.data is not None:
        _check_header(sf)
    return sf


def _check_header(sf: SourceFile):
    header_row = 1 if sf.kind != "parquet" else None
    # An unnamed column with nothing in it is a trailing delimiter, not data: drop it.
    for i in reversed(range(len(sf.header))):
        if sf.columns[i] == "":
            col = sf.data.column(i)
            if pc.all(pc.equal(pc.utf8_trim_whitespace(col.fill_null("")), "")).as_py() in (True, None):
                sf.data = sf.data.remove_column(i)
                del sf.header[i]
            else:
                sf.problems.append(Problem("missing column", sf.name, header_row, f"#{i + 1}", None, "this column has values but no name in the header"))
                sf.data = None
                return
    dupes = sorted({c for c in sf.columns if sf.columns.count(c) > 1})
    for c in dupes:
        sf.problems.append(Problem("duplicate column", sf.name, header_row, c, None, "this column appears more than once in the header (names are matched ignoring case)"))
    if dupes:
        sf.data = None


class _Unreadable(Exception):
    def __init__(self, message, row=None):
        super().__init__(message)
        self.row = row


# --------------------------------------------------------------------------------------- CSV
def detect_encoding(path):
    """SHA-256 and text encoding of a CSV file: UTF-8 (with or without BOM), else GB18030.

    Both are checked strictly over the whole file, so a GBK export is never half-decoded as
    UTF-8. A UTF-16 file (Excel's "Unicode text") is recognised by its BOM.

    Returns
    -------
    (sha256, encoding) : tuple of str
    """
    h = hashlib.sha256()
    dec = codecs.getincrementaldecoder("utf-8")("strict")
    utf8_ok = True
    first = b""
    with _open_bytes(path) as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            if not first:
                first = chunk[:4]
            h.update(chunk)
            if utf8_ok:
                try:
                    dec.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
        if utf8_ok:
            try:
                dec.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8_ok = False
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return h.hexdigest(), "utf-16"
    if utf8_ok:
        return h.hexdigest(), "utf-8-sig" if first.startswith(codecs.BOM_UTF8) else "utf-8"
    _check_decodes(path, "gb18030")
    return h.hexdigest(), "gb18030"


def _check_decodes(path, encoding):
    dec = codecs.getincrementaldecoder(encoding)("strict")
    lines = 0
    with _open_bytes(path) as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            try:
                dec.decode(chunk)
            except UnicodeDecodeError as e:
                line = lines + chunk[: e.start].count(b"\n") + 1
                raise _Unreadable(f"not UTF-8 or GB18030 text: undecodable byte on line {line}", row=line) from None
            lines += chunk.count(b"\n")
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            raise _Unreadable("not UTF-8 or GB18030 text: the file ends inside a character") from None


def _sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", "\t", "|", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _read_csv(sf: SourceFile):
    sf.sha256, sf.encoding = detect_encoding(sf.path)
    if sf.path.suffix.lower() == GZIP:  # the fingerprint is of the file as delivered
        sf.sha256 = sha256_file(sf.path)
    enc = "utf-8-sig" if sf.encoding.startswith("utf-8") else sf.encoding
    with io.TextIOWrapper(_open_bytes(sf.path), encoding=enc, newline="") as f:
        first_line = f.readline()
        f.seek(0)
        delimiter = _sniff_delimiter(first_line)
        try:
            header = next(csv.reader(f, delimiter=delimiter))
        except StopIteration:
            raise _Unreadable("empty file: no header row") from None
    sf.header = [str(h).replace("\ufeff", "").strip() for h in header]
    names = [f"c{i}" for i in range(len(header))]
    arrow_enc = "utf8" if enc == "utf-8-sig" else enc

    def read(threads):
        bad = []

        def on_invalid(row):
            bad.append((row.number, row.actual_columns, row.text))
            return "skip"

        table = pacsv.read_csv(
            sf.path,
            read_options=pacsv.ReadOptions(use_threads=threads, skip_rows=1, column_names=names, encoding=arrow_enc),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        return table, bad

    try:
        table, bad = read(True)
        if bad and any(b[0] is None for b in bad):
            table, bad = read(False)  # only a single-threaded read knows the row numbers
    except pa.ArrowInvalid as e:
        raise _Unreadable(f"cannot parse this CSV file: {e}") from None
    expected = len(names)
    for number, actual, text in bad:
        snippet = text if len(text) <= 60 else text[:57] + "..."
        sf.problems.append(Problem("malformed row", sf.name, number, None, snippet, f"{actual} field(s) where the header has {expected}"))
    # A record's number counts the header as 1; skipped malformed rows keep their numbers.
    total = table.num_rows + len(bad)
    numbers = np.arange(2, total + 2, dtype=np.int64)
    if bad:
        numbers = np.setdiff1d(numbers, np.array([b[0] for b in bad], dtype=np.int64), assume_unique=True)
    table = table.rename_columns(sf.columns)
    sf.data = table.append_column(ROW, pa.array(numbers[: table.num_rows]))


# -------------------------------------------------------------------------------------- XLSX
def _cell_text(v):
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, _dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, _dt.date):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, _dt.time):
        return v.strftime("%H:%M:%S")
    if isinstance(v, float):
        # Excel keeps every number as a double: a code typed as 12345 comes back as 12345.0.
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


def _has_formulas(path) -> bool:
    """Whether any worksheet of the XLSX file holds a formula (an ``<f>`` element); cheap, no parse."""
    import re
    import zipfile

    tag = re.compile(rb"<(?:\w+:)?f[ >/]")
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                with z.open(name) as f:
                    tail = b""
                    for chunk in iter(lambda: f.read(_CHUNK), b""):
                        if tag.search(tail + chunk):
                            return True
                        tail = chunk[-16:]
    return False


def _formula_rows(path):
    """Rows of the first sheet as formulas (text beginning with ``=``), or None without formulas."""
    import openpyxl

    if not _has_formulas(path):
        return None, None
    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    return wb, wb.worksheets[0].iter_rows(values_only=True)


def _is_formula(v) -> bool:
    return (isinstance(v, str) and v.startswith("=")) or type(v).__name__ in ("ArrayFormula", "DataTableFormula")


def _read_xlsx(sf: SourceFile):
    import openpyxl

    wb = openpyxl.load_workbook(sf.path, read_only=True, data_only=True)
    # A formula cell keeps the value Excel last computed; a file written by a program (or saved
    # without recalculation) has none, and the cell would read as empty: refused, by cell.
    fwb, formulas = _formula_rows(sf.path)
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        if formulas is not None:
            rows = _check_formula_values(sf, rows, formulas)
        header, header_row = None, 0
        for number, values in enumerate(rows, start=1):
            if any(v is not None and str(v).strip() for v in values):
                header, header_row = values, number
                break
        if header is None:
            raise _Unreadable("empty workbook: no header row on the first sheet")
        # Trailing empty header cells are formatting, not columns.
        width = len(header)
        while width and (header[width - 1] is None or not str(header[width - 1]).strip()):
            width -= 1
        sf.header = [str(h).strip() if h is not None else "" for h in header[:width]]
        cols = [[] for _ in range(width)]
        numbers = []
        for number, values in enumerate(rows, start=header_row + 1):
            texts = [_cell_text(v) for v in values[:width]]
            texts += [None] * (width - len(texts))
            if all(t is None or not str(t).strip() for t in texts):
                continue
            extra = [v for v in values[width:] if v is not None and str(v).strip()]
            if extra:
                sf.problems.append(Problem("malformed row", sf.name, number, None, _cell_text(extra[0]), "a value beyond the last named column"))
            for c, t in zip(cols, texts):
                c.append(t)
            numbers.append(number)
    finally:
        wb.close()
        if fwb is not None:
            fwb.close()
    arrays = [pa.array(c, type=pa.string()) for c in cols]
    sf.data = pa.table(arrays + [pa.array(numbers, type=pa.int64())], names=sf.columns + [ROW])


def _check_formula_values(sf: SourceFile, rows, formulas):
    """Yield ``rows`` (cached values) unchanged, reporting each formula cell that has no value."""
    import itertools

    header = None
    for number, (values, texts) in enumerate(itertools.zip_longest(rows, formulas, fillvalue=()), start=1):
        values = tuple(values or ())
        for i, f in enumerate(texts or ()):
            if _is_formula(f) and (i >= len(values) or values[i] is None):
                name = (sf.columns[i] if header is not None and i < len(sf.columns) else None) or f"column {i + 1}"
                shown = f if isinstance(f, str) else "(array formula)"
                sf.problems.append(Problem("formula without value", sf.name, number, name, shown[:60],
                                           "a formula with no computed value (open and save the file in Excel, or "
                                           "paste it as values)"))
        if header is None and any(v is not None and str(v).strip() for v in values):
            header = values
            sf.header = [str(h).strip() if h is not None else "" for h in values]
        yield values


# ----------------------------------------------------------------------------------- Parquet
def _as_text(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type)
        t = t.value_type
    if pa.types.is_string(t):
        return arr
    if pa.types.is_large_string(t) or pa.types.is_null(t):
        return arr.cast(pa.string())
    if pa.types.is_timestamp(t):
        # to whole seconds first: at finer units strftime's %S prints the fraction too
        return pc.strftime(arr.cast(pa.timestamp("s", t.tz), safe=False), format="%Y-%m-%d %H:%M:%S")
    if pa.types.is_date(t):
        return pc.strftime(arr, format="%Y-%m-%d")
    if pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_floating(t):
        return arr.cast(pa.string())
    raise _Unreadable(f"a column of type {t} cannot be read as text")


def _read_parquet(sf: SourceFile):
    table = pq.read_table(sf.path)
    sf.header = [str(n).strip() for n in table.column_names]
    arrays = [_as_text(table.column(i)) for i in range(table.num_columns)]
    numbers = pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64))
    sf.data = pa.table(arrays + [numbers], names=sf.columns + [ROW])
