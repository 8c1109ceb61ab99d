"""The Spark engine: the same rule files, translated by sqlglot, run on Spark in local mode.

Each table of the data folder is read from its Parquet file(s) and registered as a temporary
view of the same name; knowledge tables and derived views likewise (views translated). A rule's
SQL has its parameters substituted, is put in the canonical form and translated
(:mod:`workbench.rules.sqltext`), runs on Spark, and its rows go through the same
:mod:`workbench.rules.findings` code as DuckDB's, so the findings — ids, amounts, evidence,
detail — are identical.

Type differences pinned down here: timestamps are read as ``TIMESTAMP_NTZ`` (no time zone) with
the session time zone set to UTC, and zoned timestamps a rule makes are collected as UTC wall
clock, whatever the machine's time zone; decimals come back as Python Decimals and are quantised to
cents; arrays come back as lists, whose nulls the findings code drops (Spark's ``COLLECT_LIST``
skips nulls where DuckDB's ``ARRAY_AGG`` keeps them).
"""
from __future__ import annotations

import os
import sys

from .. import datafolder, schema
from ..errors import RuleError
from . import findings as _findings
from . import sqltext, views

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
        spark.read.parquet(str(path.resolve())).createOrReplaceTempView(name)
    for name in schema.TABLE_ORDER:  # absent tables read as empty (rules' optional_tables), as on DuckDB
        if name not in names or datafolder.table_path(folder, name) is None:
            ddl = ", ".join(f"`{c.name}` {_SPARK_TYPES[c.type]}" for c in schema.TABLES[name].columns)
            spark.createDataFrame([], schema=ddl).createOrReplaceTempView(name)


_SPARK_TYPES = {"str": "STRING", "date": "DATE", "ts": "TIMESTAMP", "dec": "DECIMAL(18,2)", "num": "DOUBLE",
                "int": "BIGINT", "bool": "BOOLEAN"}


def register_environment(spark, present_tables, roots) -> dict:
    """Knowledge tables and translated derived views on Spark; same plan as on DuckDB."""
    knowledge = views.load_knowledge([r / "knowledge" for r in roots])
    for name, table in knowledge.items():
        spark.createDataFrame(table.to_pandas(), schema=_spark_schema(table)).createOrReplaceTempView(name)
    vdefs = views.load_views([r / "views" for r in roots])
    order, missing = views.plan(vdefs, present_tables, knowledge)
    for name in order:
        text = sqltext.to_spark(vdefs[name].sql, str(vdefs[name].path))
        try:
            spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW `{name}` AS {text}")
        except Exception as e:  # Spark analysis errors: name the file
            raise RuleError(f"{vdefs[name].path}: view {name} fails on Spark: {_first_line(e)}") from None
    return {"views": vdefs, "created": order, "missing": missing, "knowledge": sorted(knowledge)}


def _spark_schema(table) -> str:
    import pyarrow as pa

    kinds = {pa.int64(): "BIGINT", pa.float64(): "DOUBLE", pa.string(): "STRING"}
    return ", ".join(f"`{f.name}` {kinds.get(f.type, 'STRING')}" for f in table.schema)


def _first_line(e) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _wall_clock(df):
    """Zoned timestamps (a rule's ``CAST(... AS TIMESTAMP)``) as wall-clock times in UTC.

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


class SparkRunner:
    """Runs rules of one data folder on Spark (used by ``run_rules(engine='spark')``)."""

    def __init__(self, session, rules, spark=None):
        self.session = session
        self.spark = spark or get_spark()
        present = [t for t in session.tables]
        register_tables(self.spark, session.folder, present)
        self.env = register_environment(self.spark, present, views.roots_of(rules))

    def why_skipped(self, rule):
        from .engine import why_skipped

        return why_skipped(self.session, rule, self.env)

    def sql(self, rule, values) -> str:
        """The Spark SQL a rule runs with these parameter values."""
        return sqltext.to_spark(rule.render_sql(values), f"rule {rule.id} ({rule.path})")

    def run(self, rule, values):
        text = self.sql(rule, values)
        try:
            df = self.spark.sql(text)
            columns = list(df.columns)
            _findings.check_columns(rule, columns)
            amount_type = df.schema["amount_at_risk"].dataType
            if amount_type.typeName() not in ("decimal", "void"):
                raise RuleError(f"rule {rule.id} ({rule.path}): amount_at_risk is {amount_type.simpleString()} on Spark; "
                                f"write CAST(... AS DECIMAL(18,2))")
            rows = [r.asDict(recursive=True) for r in _wall_clock(df).collect()]
        except RuleError:
            raise
        except Exception as e:  # Spark analysis / execution errors: name the rule
            raise RuleError(f"rule {rule.id} ({rule.path}) fails on Spark: {_first_line(e)}\n  translated SQL: {text}") from None
        return _findings.build(rule, rows, columns)
