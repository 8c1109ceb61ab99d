"""The Spark engine: one local Spark session for the whole workbench, and a data folder's tables on it.

Rules, providers, stays and rings all run on the session :func:`get_spark` returns (reused while it
runs), over the data folder's Parquet registered by :func:`register_tables`; their SQL is written
for DuckDB and translated by :mod:`workbench.sql.dialect`.

Type differences pinned down here: timestamps are read as ``TIMESTAMP_NTZ`` (no time zone) with
the session time zone set to UTC, and zoned timestamps a query makes are collected as UTC wall
clock (:func:`wall_clock`), whatever the machine's time zone.
"""
from __future__ import annotations

import os
import sys

from .. import datafolder, schema
from ..errors import RuleError

SPARK_CONF = {
    "spark.master": "local[2]",
    "spark.app.name": "workbench",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.memory": "2g",
}

_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.console.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


def _log4j_file() -> str:
    """A log4j2 configuration that keeps Spark quiet (errors only), written once per machine."""
    import tempfile
    from pathlib import Path

    path = Path(tempfile.gettempdir()) / "workbench-spark-log4j2.properties"
    if not path.is_file() or path.read_text() != _LOG4J:
        path.write_text(_LOG4J)
    return str(path)


def get_spark(conf=None):
    """A local Spark session configured for the workbench (reused if one is running).

    Parameters
    ----------
    conf : dict, optional
        Extra Spark settings over :data:`SPARK_CONF`.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise RuleError("the Spark engine needs pyspark (pip install 'fund-audit-workbench[spark]')") from None
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    base = spark_conf()
    builder = SparkSession.builder
    java_opts = f"-Duser.timezone=UTC -Dlog4j2.configurationFile=file:{_log4j_file()}"
    for k, v in {**base, "spark.driver.extraJavaOptions": java_opts, **(conf or {})}.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    for k in ("spark.sql.session.timeZone", "spark.sql.shuffle.partitions", "spark.sql.parquet.inferTimestampNTZ.enabled"):
        value = (conf or {}).get(k, base.get(k))
        if value is not None:
            spark.conf.set(k, value)
    return spark


# Settings that size a local session; a cluster (``WORKBENCH_SPARK_MASTER``) sizes itself.
_LOCAL_ONLY = ("spark.master", "spark.sql.shuffle.partitions", "spark.default.parallelism", "spark.driver.memory")


def spark_conf() -> dict:
    """The settings :func:`get_spark` applies.

    Without ``WORKBENCH_SPARK_MASTER`` they are :data:`SPARK_CONF` (local mode, two cores). With
    it set to a master URL (``yarn``, ``spark://host:7077``, ``k8s://…``) that master is used, and
    set to ``submit`` the master and resources come from ``spark-submit``; either way the local
    sizing (shuffle partitions, parallelism, driver memory) is left to the cluster, while what
    makes results identical (UTC session time zone, timestamps without zone) is always set.
    """
    master = os.environ.get("WORKBENCH_SPARK_MASTER", "").strip()
    if not master:
        return dict(SPARK_CONF)
    out = {k: v for k, v in SPARK_CONF.items() if k not in _LOCAL_ONLY}
    if master != "submit":
        out["spark.master"] = master
    return out


def register_tables(spark, folder, names) -> None:
    """Register each table of a data folder as a Spark temporary view (dropping stale ones)."""
    for t in spark.catalog.listTables():
        if t.isTemporary:
            spark.catalog.dropTempView(t.name)
    for name in names:
        path = datafolder.table_path(folder, name)
        if path is None:
            continue
        df = spark.read.parquet(str(path.resolve()))
        if name in schema.TABLES:  # contract columns a file lacks read as NULL, as on DuckDB
            from pyspark.sql import functions as F

            for c in schema.TABLES[name].columns:
                if c.name not in df.columns:
                    df = df.withColumn(c.name, F.lit(None).cast(SPARK_TYPES[c.type]))
        df.createOrReplaceTempView(name)
    for name in schema.TABLE_ORDER:  # absent tables read as empty (rules' optional_tables), as on DuckDB
        if name not in names or datafolder.table_path(folder, name) is None:
            ddl = ", ".join(f"`{c.name}` {SPARK_TYPES[c.type]}" for c in schema.TABLES[name].columns)
            spark.createDataFrame([], schema=ddl).createOrReplaceTempView(name)


SPARK_TYPES = {"str": "STRING", "date": "DATE", "ts": "TIMESTAMP", "dec": "DECIMAL(18,2)", "num": "DOUBLE",
                "int": "BIGINT", "bool": "BOOLEAN"}


def spark_schema(table) -> str:
    import pyarrow as pa

    kinds = {pa.int64(): "BIGINT", pa.float64(): "DOUBLE", pa.string(): "STRING"}
    return ", ".join(f"`{f.name}` {kinds.get(f.type, 'STRING')}" for f in table.schema)


def first_line(e) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def wall_clock(df):
    """Zoned timestamps (a query's ``CAST(... AS TIMESTAMP)``) as wall-clock times in UTC.

    PySpark turns a zoned timestamp into a Python datetime in the *local* time zone of the
    Python process, so on a machine set to Asia/Shanghai it would read 8 hours later than
    DuckDB's. Cast to ``TIMESTAMP_NTZ`` (in the session time zone, UTC) before collecting.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType

    if not any(isinstance(f.dataType, TimestampType) for f in df.schema.fields):
        return df
    return df.select([F.col(f"`{f.name}`").cast("timestamp_ntz").alias(f.name) if isinstance(f.dataType, TimestampType)
                      else F.col(f"`{f.name}`") for f in df.schema.fields])


def translate(sql: str, where: str = "SQL") -> str:
    """DuckDB SQL as Spark SQL: ``AS MATERIALIZED`` (a DuckDB planning hint Spark does not parse)
    dropped, then canonical and translated like the rules (:func:`workbench.sql.dialect.to_spark`)."""
    import re

    from .dialect import to_spark

    return to_spark(re.sub(r"\bAS\s+MATERIALIZED\s*\(", "AS (", sql), where)


def to_pandas(spark, query: str):
    """Collect a Spark result as :meth:`Session.df` gives DuckDB's: exact ``Decimal`` money,
    ``int64`` counts, ``float64`` rates (NaN for null)."""
    from pyspark.sql.types import DecimalType, DoubleType, IntegralType

    df = spark.sql(query)
    out = df.toPandas()
    for f in df.schema.fields:
        col = out[f.name]
        if isinstance(f.dataType, DecimalType):  # Decimal objects (None for null), as DuckDB's Arrow
            out[f.name] = col.astype(object).where(col.notna(), None)
        elif isinstance(f.dataType, DoubleType):
            out[f.name] = col.astype("float64")
        elif isinstance(f.dataType, IntegralType):
            out[f.name] = col.astype("int64") if col.notna().all() else col.astype("float64")
    return out
