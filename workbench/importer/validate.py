"""Validate text tables against the contract and convert them to its types, in DuckDB.

The input of every check is a *raw* table ``raw_<name>``: the contract columns as trimmed text
(NULL where empty), plus ``_src`` (index of the source file) and ``_row`` (the row number a
person sees in that file). Each check is one SQL query over the whole table that returns the
first few offending rows and the total count, so a few million rows are checked in seconds.
"""
from __future__ import annotations

from .. import schema
from .problems import Problem, ProblemLog

# Accepted date / timestamp layouts, tried in this order (DuckDB strptime formats).
DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
    "%Y%m%d",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
)
# The shapes those formats may take: strptime alone would read 2024031 as 2024-03-01 and 24-03-01
# as the year 24. Separated months and days may have one digit (2024/3/1, as Excel writes them).
_YEAR = r"[1-9]\d{3}"
DATE_RE = (rf"{_YEAR}-\d{{1,2}}-\d{{1,2}}([ T]\d{{1,2}}:\d{{2}}(:\d{{2}}(\.\d{{1,6}})?)?)?"
           rf"|{_YEAR}/\d{{1,2}}/\d{{1,2}}( \d{{1,2}}:\d{{2}}(:\d{{2}})?)?"
           rf"|{_YEAR}\d{{4}}(\d{{6}})?")
# Money: a plain decimal number whose digits after the second decimal place, if any, are zeros.
# Money is never rounded: 12.345 is rejected, 12.340 is 12.34.
MONEY_RE = r"[+-]?(\d{1,16}\.?|\d{0,16}\.\d{1,2})0*"
NUMBER_RE = r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"
INT_RE = r"[+-]?\d{1,18}(\.0*)?"
TRUE = ("1", "true", "t", "yes", "y", "是")
FALSE = ("0", "false", "f", "no", "n", "否")
# Pairs of columns where the second may not be before the first.
ORDERED = (("begntime", "endtime"), ("begndate", "enddate"))
REFUND_FLAG = "refd_setl_flag"

TYPE_KIND = {"date": "bad date", "ts": "bad date", "dec": "bad money", "num": "bad number", "int": "bad integer", "bool": "bad boolean"}


def q(name: str) -> str:
    """Quote a DuckDB identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def lit(value) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def _lit_list(values) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]"


def normalise_text(arr, null_values=("",)):
    """A text column trimmed of surrounding whitespace, with the layout's null tokens as null.

    Whitespace is Unicode whitespace: spaces, tabs (an Excel trick to keep ids as text), line
    breaks and the ideographic space. Done in Arrow, which is several times faster than SQL here.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    x = pc.utf8_trim_whitespace(arr)
    empty = pc.equal(pc.binary_length(x), 0)
    tokens = [v for v in null_values if v != ""]
    if tokens:
        empty = pc.or_(empty, pc.is_in(x, value_set=pa.array(tokens, type=pa.string())))
    return pc.if_else(empty, pa.scalar(None, pa.string()), x)


def stage_text_table(con, target: str, parts, columns=None, null_values=("",)):
    """Register view ``target`` over several text tables, every value normalised.

    Rows with no value at all (blank lines, empty spreadsheet rows) are dropped; every other
    row keeps its file (``_src``) and row number (``_row``).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    target : str
        Name of the view to register.
    parts : list of (int, pyarrow.Table)
        Source-file index and its text columns (with ``_row``).
    columns : list of str, optional
        Columns to keep (default: every column any part has); a part lacking one gives NULL.
    null_values : sequence of str
        Values (after trimming) that mean "no value".

    Returns
    -------
    pyarrow.Table
        The registered table.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if columns is None:
        columns = []
        for _, t in parts:
            columns += [c for c in t.column_names if c != "_row" and c not in columns]
    tables = []
    for src, t in parts:
        arrays = [normalise_text(t.column(c), null_values) if c in t.column_names else pa.nulls(t.num_rows, pa.string()) for c in columns]
        table = pa.table([pa.array(np.full(t.num_rows, src, dtype=np.int32)), t.column("_row").cast(pa.int64())] + arrays,
                         names=["_src", "_row"] + list(columns))
        if columns and table.num_rows:
            blank = pc.is_null(arrays[0])
            for a in arrays[1:]:
                blank = pc.and_(blank, pc.is_null(a))
            if pc.any(blank).as_py():
                table = table.filter(pc.invert(blank))
        tables.append(table)
    if tables:
        staged = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    else:
        staged = pa.table([pa.array([], pa.int32()), pa.array([], pa.int64())] + [pa.array([], pa.string()) for _ in columns],
                          names=["_src", "_row"] + list(columns))
    con.register(target, staged)
    return staged


def parse_expr(column: schema.Column, sql: str) -> str:
    """SQL parsing the text ``sql`` as ``column``'s contract type; NULL where it does not parse."""
    t = column.type
    if t == "str":
        return sql
    if t in ("date", "ts"):
        ts = f"CASE WHEN regexp_full_match({sql}, {lit(DATE_RE)}) THEN try_strptime({sql}, {_lit_list(DATE_FORMATS)}) END"
        return f"CAST({ts} AS DATE)" if t == "date" else ts
    if t == "dec":
        return f"CASE WHEN regexp_full_match({sql}, {lit(MONEY_RE)}) THEN TRY_CAST({sql} AS DECIMAL(18,2)) END"
    if t == "num":
        return f"CASE WHEN regexp_full_match({sql}, {lit(NUMBER_RE)}) THEN TRY_CAST({sql} AS DOUBLE) END"
    if t == "int":
        return f"CASE WHEN regexp_full_match({sql}, {lit(INT_RE)}) THEN TRY_CAST(regexp_replace({sql}, '\\.0*$', '') AS BIGINT) END"
    if t == "bool":
        return (f"CASE WHEN lower({sql}) IN ({', '.join(lit(v) for v in TRUE)}) THEN true "
                f"WHEN lower({sql}) IN ({', '.join(lit(v) for v in FALSE)}) THEN false END")
    raise ValueError(f"unknown contract type {t}")


def bad_type_message(column: schema.Column, value: str) -> str:
    import re

    if column.type in ("date", "ts"):
        return "not a valid date (expected yyyy-MM-dd HH:mm:ss, yyyy-MM-dd or yyyyMMdd)"
    if column.type == "dec":
        if value is not None and re.fullmatch(NUMBER_RE, value) and "e" not in value.lower():
            return "money with more than 2 decimal places (amounts are never rounded) or more than 16 digits"
        return "not an amount of money (a plain number such as 1234.50)"
    if column.type == "num":
        return "not a number"
    if column.type == "int":
        return "not a whole number"
    return f"not true/false (expected one of {', '.join(TRUE + FALSE)})"


class Validator:
    """Runs every contract check over raw tables and builds the typed tables.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Holds ``raw_<name>`` for each table to check.
    files : list of str
        Source file names by ``_src`` index.
    log : ProblemLog
    source_column : callable, optional
        ``source_column(src, column)`` gives the source file's column a contract column came from
        (for mapped layouts), shown beside the contract column in reports.
    """

    def __init__(self, con, files, log: ProblemLog, source_column=None):
        self.con = con
        self.files = list(files)
        self.log = log
        self.source_column = source_column or (lambda src, column: None)

    # ------------------------------------------------------------------------------ helpers
    def _problem(self, kind, src, row, column, value, message):
        file = self.files[src] if src is not None else None
        return Problem(kind, file, row, column, value, message, self.source_column(src, column) if src is not None else None)

    def flag(self, kind, table, where, column, value_sql, message, extra_sql="NULL"):
        """Report the rows of ``table`` matching ``where``; ``message`` may be a function of extra."""
        rows = self.con.execute(
            f"SELECT _src, _row, CAST({value_sql} AS VARCHAR), CAST({extra_sql} AS VARCHAR), count(*) OVER () "
            f"FROM {table} WHERE {where} ORDER BY _src, _row LIMIT {self.log.keep}"
        ).fetchall()
        if not rows:
            return 0
        sample = [self._problem(kind, s, r, column, v, message(v, x) if callable(message) else message) for s, r, v, x, _ in rows]
        self.log.extend(sample, rows[0][4])
        return rows[0][4]

    def columns(self, name: str) -> list:
        """Contract columns present in ``raw_<name>``, in contract order."""
        have = {r[0] for r in self.con.execute(f"DESCRIBE {q('raw_' + name)}").fetchall()}
        return [c for c in schema.table(name).columns if c.name in have]

    # ------------------------------------------------------------------------------- checks
    def validate(self, names) -> None:
        """Check tables ``names`` (each must exist as ``raw_<name>``) and build ``typed_<name>``."""
        names = [n for n in schema.TABLE_ORDER if n in set(names)]
        for name in names:
            self._check_table(name)
        for name in names:
            self._check_references(name, names)

    def _check_table(self, name: str):
        t = schema.table(name)
        raw, typed = q("raw_" + name), q("typed_" + name)
        cols = self.columns(name)
        present = {c.name for c in cols}
        for c in t.required_columns:
            if c not in present:
                self.log.add(Problem("missing column", None, None, c, None, f"table {name} has no column {c} (required by the contract)"))
        parsed = "".join(f", {parse_expr(c, q(c.name))} AS {q(c.name + '#t')}" for c in cols if c.type != "str")
        self.con.execute(f"CREATE OR REPLACE VIEW {typed} AS SELECT *{parsed} FROM {raw}")
        for c in cols:
            col = q(c.name)
            # A NUL byte is no text a person typed (a binary export, a truncated C string): stored,
            # it would cut the value short in most tools that read the data folder later.
            self.flag("bad character", raw, f"strpos({col}, chr(0)) > 0", c.name, f"replace({col}, chr(0), '\\0')",
                      "a NUL byte (\\0) in the value")
            if not c.nullable:
                self.flag("null value", typed, f"{col} IS NULL", c.name, "NULL", f"empty, but {name}.{c.name} may not be empty")
            if c.type != "str":
                self.flag(TYPE_KIND[c.type], typed, f"{col} IS NOT NULL AND {q(c.name + '#t')} IS NULL", c.name, col,
                           lambda v, x, c=c: bad_type_message(c, v))
            if c.codes:
                codes = sorted(c.codes)
                self.flag("bad code", typed, f"{col} IS NOT NULL AND {col} NOT IN ({', '.join(lit(k) for k in codes)})", c.name, col,
                           f"not a code of {c.name} (expected one of {', '.join(codes)})")
        if t.key and set(t.key) <= present:
            self.check_key(name, raw, t.key)
        for first, second in ORDERED:
            if first in present and second in present:
                a, b = q(first + "#t"), q(second + "#t")
                self.flag("end before start", typed, f"{a} IS NOT NULL AND {b} IS NOT NULL AND {b} < {a}", second, q(second),
                           lambda v, x, first=first, second=second: f"{second} is before {first} ({x})", extra_sql=q(first))
        refund = f" AND coalesce({q(REFUND_FLAG)}, '') <> '1'" if REFUND_FLAG in present else ""
        why = "negative amount on a row that is not a refund (refd_setl_flag is not '1')" if refund else "negative amount (only refund settlement rows may be negative)"
        for c in cols:
            if c.type == "dec":
                self.flag("negative money", typed, f"{q(c.name + '#t')} < 0{refund}", c.name, q(c.name), why)

    def check_key(self, name: str, raw: str, key) -> int:
        """Report rows of table ``raw`` repeating an earlier row's ``key`` (rows with a NULL key part excepted)."""
        cols = ", ".join(q(k) for k in key)
        shown = " || '/' || ".join(q(k) for k in key)
        notnull = " AND ".join(f"{q(k)} IS NOT NULL" for k in key)
        # A cheap aggregate first: the window that names each repeat is only needed when one exists.
        if not self.con.execute(f"SELECT count(*) FROM {raw} WHERE {notnull} GROUP BY {cols} HAVING count(*) > 1 LIMIT 1").fetchall():
            return 0
        sub = (f"(SELECT _src, _row, {cols}, row_number() OVER w AS _n, first_value(_src) OVER w AS _fs, first_value(_row) OVER w AS _fr "
               f"FROM {raw} WHERE {notnull} WINDOW w AS (PARTITION BY {cols} ORDER BY _src, _row))")
        label = "/".join(key)

        def message(v, x):
            fs, fr = x.split(":", 1)
            return f"duplicate key {label} of table {name}: the same as {self.files[int(fs)]} row {fr}"

        return self.flag("duplicate key", sub, "_n > 1", label, shown, message, extra_sql="_fs || ':' || _fr")

    def _check_references(self, name, names):
        t = schema.table(name)
        present = {c.name for c in self.columns(name)}
        for column, parent, pcolumn in t.references:
            if column not in present or parent not in names or pcolumn not in {c.name for c in self.columns(parent)}:
                continue
            child, par = q("raw_" + name), q("raw_" + parent)
            where = f"{q(column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {par} p WHERE p.{q(pcolumn)} = {child}.{q(column)})"
            self.flag("dangling reference", child, where, column, q(column), f"no {parent} row has this {pcolumn}")

    # ------------------------------------------------------------------------------- output
    def typed_table(self, name: str):
        """The validated table ``name`` in contract types, in source order (a pyarrow Table)."""
        cols = self.columns(name)
        sel = ", ".join((q(c.name) if c.type == "str" else f"{q(c.name + '#t')} AS {q(c.name)}") for c in cols)
        # Rows derived from one source row (two doctors of one claim) are ordered by their key.
        ties = "".join(f", {q(k)}" for k in schema.table(name).key if k in {c.name for c in cols})
        return self.con.sql(f"SELECT {sel} FROM {q('typed_' + name)} ORDER BY _src, _row{ties}").to_arrow_table()
