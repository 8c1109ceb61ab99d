"""Where the rings SQL runs: DuckDB (the session's own connection) or Spark (local mode).

Every step of :mod:`workbench.rings` that reads the data goes through one of these two objects,
so the SQL files under ``sql/`` are written once, in DuckDB's dialect:

* :class:`DuckDBEngine` runs the text as it is on the session's DuckDB connection;
* :class:`SparkEngine` registers the data folder's Parquet files as Spark temporary views
  (:func:`workbench.sql.spark.register_tables`), translates the text with
  :func:`workbench.sql.dialect.to_spark` (as the rules and ``workbench stays`` do) and runs it
  on the shared local Spark session (:func:`workbench.sql.spark.get_spark`).

Both give pandas frames through Arrow (money ``Decimal``, counts nullable ``Int64``, days
``datetime.date``), so the code after them — the graph, Louvain, the scores, the CSVs — is the
same for both engines. The intermediate tables (``rings_visits``, ``rings_links``,
``rings_edges``, ``rings_suspicious``) are DuckDB temporary tables or materialised Spark temporary
views of the same names.
"""
from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa

from ..errors import WorkbenchError

ENGINES = ("duckdb", "spark")


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as pandas: money stays ``Decimal``, counts stay (nullable) integers."""
    return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)


class DuckDBEngine:
    """The rings SQL on the session's DuckDB connection (the default engine)."""

    name = "duckdb"

    def __init__(self, session):
        self.session = session
        self.con = session.con

    def has(self, *names) -> bool:
        return self.session.has(*names)

    def exists(self, name: str) -> bool:
        q = "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary"
        return self.con.execute(q, [name]).fetchall()[0][0] > 0

    def create(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")

    def drop(self, name: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def frame(self, sql: str, params=None) -> pd.DataFrame:
        return to_pandas(self.session.sql(sql, params).to_arrow_table())

    def register(self, name: str, df: pd.DataFrame) -> None:
        self.con.register(name, df)

    def unregister(self, name: str) -> None:
        self.con.unregister(name)


def _literal(v) -> str:
    """A DuckDB literal of a query parameter (Spark SQL gets the values inlined)."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, (list, tuple)):
        if not v:
            return "CAST([] AS VARCHAR[])"
        return "[" + ", ".join(_literal(x) for x in v) + "]"
    raise WorkbenchError(f"rings: cannot pass a {type(v).__name__} to Spark SQL")


def inline_params(sql: str, params) -> str:
    """``sql`` with its ``$1``, ``$2``… (or ``?``) placeholders replaced by literal values."""
    if not params:
        return sql
    values = list(params)
    if re.search(r"\$\d+", sql):
        return re.sub(r"\$(\d+)", lambda m: _literal(values[int(m.group(1)) - 1]), sql)
    it = iter(values)
    return re.sub(r"\?", lambda m: _literal(next(it)), sql)


class SparkEngine:
    """The same SQL on Spark: Parquet read by Spark, text translated by sqlglot.

    Parameters
    ----------
    session : workbench.session.Session
        The data folder (its path and the tables it has).
    spark : pyspark.sql.SparkSession, optional
        Default: :func:`workbench.sql.spark.get_spark` (one local session, reused).

    One data folder's tables are registered in a Spark session at a time (as for the rules and
    ``workbench stays``); the engine registers them again when another job replaced them.
    """

    name = "spark"
    _TYPES = {pa.int64(): "BIGINT", pa.float64(): "DOUBLE", pa.bool_(): "BOOLEAN"}

    def __init__(self, session, spark=None):
        from ..sql.spark import get_spark

        self.session = session
        self.spark = spark or get_spark()
        self._cached = {}
        self._register()

    def _register(self) -> None:
        from ..sql.spark import register_tables

        self._cached = {}
        register_tables(self.spark, self.session.folder, self.session.tables)
        self._folder = str(self.session.path("mdtrt").resolve())

    def _current(self) -> None:
        """Register the tables again if another job replaced or dropped the Spark temporary views
        (the rings tables are then built again when next needed)."""
        try:
            files = self.spark.table("mdtrt").inputFiles()
        except Exception:  # dropped
            files = []
        if (not any(self._folder in f for f in files)
                or not all(self.spark.catalog.tableExists(n) for n in self._cached)):
            self._register()

    def _text(self, sql: str, params=None) -> str:
        from ..sql import dialect as sqltext

        return sqltext.to_spark(inline_params(sql, params), "rings SQL")

    def has(self, *names) -> bool:
        return self.session.has(*names)

    def exists(self, name: str) -> bool:
        self._current()
        return name in self._cached and self.spark.catalog.tableExists(name)

    def create(self, name: str, sql: str) -> None:
        # Materialised and cut from its lineage (a local checkpoint), so later queries read the
        # rows rather than re-running the SQL, and dropping a table it was made from (the edge
        # counts) does not invalidate it, as un-caching a DataFrame's source would.
        self._current()
        df = self.spark.sql(self._text(sql)).localCheckpoint(eager=True)
        self._cached.pop(name, None)
        df.createOrReplaceTempView(name)
        self._cached[name] = df

    def drop(self, name: str) -> None:
        self._cached.pop(name, None)  # the checkpointed blocks go with the DataFrame
        self.spark.catalog.dropTempView(name)

    def frame(self, sql: str, params=None) -> pd.DataFrame:
        self._current()
        return to_pandas(self.spark.sql(self._text(sql, params)).toArrow())

    def register(self, name: str, df: pd.DataFrame) -> None:
        self._current()
        table = pa.Table.from_pandas(df, preserve_index=False)
        schema = ", ".join(f"`{f.name}` {self._TYPES.get(f.type, 'STRING')}" for f in table.schema)
        self.spark.createDataFrame(df, schema=schema).createOrReplaceTempView(name)

    def unregister(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)


def make_engine(session, engine: str = "duckdb", spark=None):
    """The engine object for ``"duckdb"`` or ``"spark"`` over an open session."""
    if engine == "duckdb":
        return DuckDBEngine(session)
    if engine == "spark":
        return SparkEngine(session, spark)
    raise WorkbenchError(f"rings: unknown engine {engine!r}; use one of {', '.join(ENGINES)}")


def engine_of(x):
    """``x`` itself when it is an engine, else the DuckDB engine of the session ``x``."""
    if isinstance(x, (DuckDBEngine, SparkEngine)):
        return x
    return DuckDBEngine(x)
