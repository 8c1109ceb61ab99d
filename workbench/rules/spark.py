"""Rules on Spark: the same rule files, translated by sqlglot, run on the workbench's Spark session.

The data folder's tables are registered on the session (:func:`workbench.sql.spark.register_tables`);
knowledge tables and derived views likewise (views translated). A rule's SQL has its parameters
substituted, is put in the canonical form and translated (:mod:`workbench.sql.dialect`), runs on
Spark, and its rows go through the same :mod:`workbench.rules.findings` code as DuckDB's, so the
findings — ids, amounts, evidence, detail — are identical.

Decimals come back as Python Decimals and are quantised to cents; arrays come back as lists,
whose nulls the findings code drops (Spark's ``COLLECT_LIST`` skips nulls where DuckDB's
``ARRAY_AGG`` keeps them); zoned timestamps are collected as UTC wall clock
(:func:`workbench.sql.spark.wall_clock`).
"""
from __future__ import annotations

from ..errors import RuleError
from ..sql import dialect
from ..sql.spark import first_line, get_spark, register_tables, spark_schema, wall_clock
from . import findings as _findings
from . import views
from .duck import why_skipped


def register_environment(spark, present_tables, roots) -> dict:
    """Knowledge tables and translated derived views on Spark; same plan as on DuckDB."""
    knowledge = views.load_knowledge([r / "knowledge" for r in roots])
    for name, table in knowledge.items():
        spark.createDataFrame(table.to_pandas(), schema=spark_schema(table)).createOrReplaceTempView(name)
    vdefs = views.load_views([r / "views" for r in roots])
    order, missing = views.plan(vdefs, present_tables, knowledge)
    for name in order:
        text = dialect.to_spark(vdefs[name].sql, str(vdefs[name].path))
        try:
            spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW `{name}` AS {text}")
        except Exception as e:  # Spark analysis errors: name the file
            raise RuleError(f"{vdefs[name].path}: view {name} fails on Spark: {first_line(e)}") from None
    return {"views": vdefs, "created": order, "missing": missing, "knowledge": sorted(knowledge)}


class SparkRunner:
    """Runs rules of one data folder on Spark (``run_rules(engine='spark')``).

    Parameters
    ----------
    session : workbench.Session
    rules : iterable of Rule
        The rules to be run (their folders give the views and knowledge).
    spark : SparkSession, optional
        Default: :func:`workbench.sql.spark.get_spark`.
    roots : tuple of Path, optional
        The folders of views and knowledge instead of the rules' own (a recorded run's).
    """

    def __init__(self, session, rules=(), spark=None, roots=None):
        self.session = session
        self.spark = spark or get_spark()
        present = list(session.tables)
        register_tables(self.spark, session.folder, present)
        self.env = register_environment(self.spark, present, tuple(roots) if roots is not None else views.roots_of(rules))

    def why_skipped(self, rule):
        return why_skipped(self.session, rule, self.env)

    def sql(self, rule, values) -> str:
        """The Spark SQL a rule runs with these parameter values."""
        return dialect.to_spark(rule.render_sql(values), f"rule {rule.id} ({rule.path})")

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
            rows = [r.asDict(recursive=True) for r in wall_clock(df).collect()]
        except RuleError:
            raise
        except Exception as e:  # Spark analysis / execution errors: name the rule
            raise RuleError(f"rule {rule.id} ({rule.path}) fails on Spark: {first_line(e)}\n  translated SQL: {text}") from None
        return _findings.build(rule, rows, columns)
