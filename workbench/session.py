"""A session over one data folder: DuckDB views of its tables, SQL, and the manifest."""
from __future__ import annotations

import re
import shutil
import tempfile
import uuid
import weakref
from pathlib import Path

import duckdb

from . import datafolder, schema
from .errors import DataFolderError, MissingTableError


def _sql_path(path: Path) -> str:
    p = str(path.resolve())
    if path.is_dir():
        p = p.rstrip("/") + "/*.parquet"
    return p.replace("'", "''")


def _select_conformed(name: str, path: Path) -> tuple:
    """SELECT of a stored table with every contract column present, and the stored columns.

    A column the contract allows a file to leave out (``optional``) is added as a typed NULL, so
    SQL written against the contract runs on any valid data folder; the second value names the
    columns the file really holds, so that a rule needing one of them can say it is absent.
    """
    src = f"read_parquet('{_sql_path(path)}')"
    files = datafolder.table_files(path)
    import pyarrow.parquet as pq

    stored = pq.read_schema(files[0])
    have = frozenset(stored.names)
    if name not in schema.TABLES:
        return f"SELECT * FROM {src}", have
    # The exact money and count columns: rule SQL relies on their type (sql/dialect.py casts a
    # DECIMAL(18,2) without a rounding detour), so a file holding them as anything else is refused.
    exact = [c for c in schema.TABLES[name].columns if c.type in schema.EXACT_SCALE]
    for i, f in enumerate(files):
        fs = stored if i == 0 else pq.read_schema(f)
        for c in exact:
            if c.name in fs.names and fs.field(c.name).type != c.arrow_type:
                raise DataFolderError(f"{f}: column {c.name} is stored as {fs.field(c.name).type}, "
                                      f"the contract's type is {c.arrow_type}")
    extra = [f'CAST(NULL AS {schema.SQL_TYPES[c.type]}) AS "{c.name}"'
             for c in schema.TABLES[name].columns if c.name not in have]
    return f"SELECT *{''.join(', ' + e for e in extra)} FROM {src}", have


# DuckDB's default is one thread per core, but it sizes a GROUP BY's per-thread hash tables by
# its thread count, and on a 2-core machine two threads thrash the cache on many distinct keys; a
# fourth thread slowed the largest join. So at least 3 threads; machines with more cores keep one
# per core. Measurements: bench/RESULTS.md, "Engine settings measured (were code comments)".
MIN_THREADS = 3

_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(B|BYTES|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)
_UNIT = {"B": 1, "BYTES": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
         "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def size_bytes(text):
    """Bytes in a size written as DuckDB reads and shows them (``4GB``, ``488.2 MiB``: GB are
    10^9 bytes, GiB 2^30), or None when ``text`` is not such a size."""
    m = _SIZE.match(str(text))
    return float(m.group(1)) * _UNIT[m.group(2).upper()] if m else None


def _remove_dirs(dirs: list) -> None:
    """Remove the folders of ``dirs`` (and forget them)."""
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)
    dirs.clear()


def resource_options(args) -> dict:
    """``memory_limit`` / ``temp_directory`` keyword arguments of :class:`Session` from a command's
    ``--memory-limit`` / ``--temp-dir`` options (absent ones are left to DuckDB's defaults)."""
    out = {}
    if getattr(args, "memory_limit", None):
        out["memory_limit"] = args.memory_limit
    if getattr(args, "temp_dir", None):
        out["temp_directory"] = args.temp_dir
    return out


def _quote(text: str) -> str:
    return text.replace("'", "''")


class Session:
    """Views of a data folder's tables in an in-process DuckDB database.

    Parameters
    ----------
    folder : path
        A data folder (``data_manifest.json`` plus one Parquet file or folder per table).
    memory_limit : str, optional
        DuckDB memory limit (e.g. ``"4GB"``); DuckDB spills to ``temp_directory`` beyond it.
    threads : int, optional
        DuckDB worker threads; default one per core, but at least :data:`MIN_THREADS`.
    temp_directory : path, optional
        Where DuckDB spills beyond ``memory_limit`` and where the session keeps its scratch
        database (:meth:`scratch`); default: the system's temporary folder (spills into a folder
        of the session's own there, removed on :meth:`close`).

    Attributes
    ----------
    folder : Path
    manifest : dict
        The data folder's ``data_manifest.json``.
    tables : list of str
        Contract tables present in the folder (``truth`` too for synthetic data).
    stored_columns : dict of str to frozenset
        The columns each table's files hold (optional contract columns a file leaves out read
        as NULL but are not in here).
    con : duckdb.DuckDBPyConnection
    """

    def __init__(self, folder, memory_limit=None, threads=None, temp_directory=None):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise DataFolderError(f"{self.folder}: no such data folder")
        self.manifest = datafolder.read_manifest(self.folder)
        self.con = duckdb.connect(":memory:")
        if memory_limit:
            if size_bytes(memory_limit) is None:
                self.con.close()
                raise DataFolderError(f"memory limit {memory_limit!r} is not a size like 4GB or 512MB")
            self.con.execute(f"SET memory_limit='{memory_limit}'")
        if threads:
            self.con.execute(f"SET threads={int(threads)}")
        else:
            cores = self.con.execute("SELECT current_setting('threads')").fetchone()[0]
            self.con.execute(f"SET threads={max(int(cores), MIN_THREADS)}")
        self.temp_directory = Path(temp_directory) if temp_directory else None
        # The session's own folders (spill, scratch), removed on close, or when the session is
        # garbage-collected or the process exits without closing it (a notebook's or a Voila
        # page's kernel shut down with its session open).
        self._own_dirs = []
        self._remove_own_dirs = weakref.finalize(self, _remove_dirs, self._own_dirs)
        spill = temp_directory
        if not spill:
            # DuckDB would spill an in-memory session into ./.tmp of whatever folder the process
            # runs in: a folder of the session's own instead (DuckDB creates it when it first spills)
            spill = Path(tempfile.gettempdir()) / f"workbench-spill-{uuid.uuid4().hex[:12]}"
            self._own_dirs.append(spill)
        self.con.execute(f"SET temp_directory='{_quote(str(spill))}'")
        self._scratch_dir = None
        self.tables = []
        self.stored_columns = {}
        for name in schema.TABLE_ORDER + ["truth"]:
            p = datafolder.table_path(self.folder, name)
            if p is None:
                continue
            select, have = _select_conformed(name, p)
            self.con.execute(f'CREATE VIEW "{name}" AS {select}')
            self.tables.append(name)
            self.stored_columns[name] = have
        missing = [t for t in schema.REQUIRED_TABLES if t not in self.tables]
        if missing:
            raise DataFolderError(f"{self.folder}: required table(s) missing: {', '.join(missing)}")

    def has(self, *names) -> bool:
        """True when every named table is present."""
        return all(n in self.tables for n in names)

    def require(self, *names):
        """Raise :class:`MissingTableError` naming the tables this data folder lacks."""
        missing = [n for n in names if n not in self.tables]
        if missing:
            raise MissingTableError(f"{self.folder}: needs table(s) {', '.join(missing)}, which this data folder does not have")

    def sql(self, query: str, params=None):
        """Run SQL over the tables; returns a DuckDB relation (``.fetchall()``, ``.to_arrow_table()``)."""
        return self.con.sql(query, params=params) if params is not None else self.con.sql(query)

    def arrow(self, query: str, params=None):
        """Run SQL and return a ``pyarrow.Table`` (exact decimals, contract types)."""
        return self.sql(query, params).to_arrow_table()

    def df(self, query: str, params=None):
        """Run SQL and return a pandas DataFrame.

        Goes through Arrow so that money stays exact: DECIMAL columns arrive as
        :class:`decimal.Decimal` objects, never floats.
        """
        return self.arrow(query, params).to_pandas()

    def rows(self, query: str, params=None) -> list:
        """Run SQL and return all rows as tuples."""
        return self.sql(query, params).fetchall()

    def one(self, query: str, params=None):
        """Run SQL and return its first row (a tuple), or None when it returns no row."""
        rows = self.rows(query, params)
        return rows[0] if rows else None

    def count(self, name: str) -> int:
        return self.one(f'SELECT count(*) FROM "{name}"')[0]

    def path(self, name: str):
        return datafolder.table_path(self.folder, name)

    def summary(self) -> dict:
        """Row count of every table present."""
        return {t: self.count(t) for t in self.tables}

    def scratch(self) -> str:
        """Name of the session's scratch database, attached on first use.

        A DuckDB file in a folder of its own under ``temp_directory`` (or the system's temporary
        folder): tables written there are compressed on disk and read back through DuckDB's
        buffer manager, so a derived table larger than memory still fits. Removed on
        :meth:`close`.
        """
        if self._scratch_dir is None:
            base = self.temp_directory
            if base is not None:
                base.mkdir(parents=True, exist_ok=True)
            d = Path(tempfile.mkdtemp(prefix="workbench-scratch-", dir=base))
            self._own_dirs.append(d)
            self.con.execute(f"ATTACH '{_quote(str(d / 'scratch.duckdb'))}' AS wb_scratch")
            self._scratch_dir = d
        return "wb_scratch"

    def close(self):
        self.con.close()
        self._remove_own_dirs()
        self._scratch_dir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"Session({str(self.folder)!r}, tables={self.tables})"


def open(folder, **kw) -> Session:  # noqa: A001 - workbench.open is the public name
    """Open a data folder. See :class:`Session`."""
    return Session(folder, **kw)
