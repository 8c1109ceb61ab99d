"""Rules on DuckDB: the derived views and knowledge of a session, and one rule's rows.

:func:`environment` registers the knowledge tables and derived views once per session and set of
folders; :class:`DuckRunner` runs rules on the session's connection (``run_rules(engine='duckdb')``),
as :class:`workbench.rules.spark.SparkRunner` does on Spark.
"""
from __future__ import annotations

import time

from ..errors import RuleError
from ..sql import dialect
from ..sql.duck import arrow, empty_tables, large_work
from . import findings as _findings
from . import views
from .loader import Rule


def environment(session, rules=(), roots=None, say=None) -> dict:
    """Knowledge tables and derived views for ``rules`` on the session's connection.

    Registered once per session and set of folders (``views.roots_of``), so sweeping a
    parameter or running rule after rule never re-creates them. The views most rules share
    (``views.MATERIALIZE``) are computed once into the session's scratch database (the visits
    into memory, ``views.IN_MEMORY``), the first time rules that read them are given (with no
    ``rules``: all of them), so that one rule that needs only the visits does not pay for every
    fee line. ``roots`` gives the folders
    directly (a recorded run's own views and knowledge) instead of ``rules``; ``say`` (a
    function of one line of text) reports the shared views being computed.
    """
    roots = tuple(roots) if roots is not None else views.roots_of(rules)
    cache = session.__dict__.setdefault("_rules_env", {})
    if roots not in cache:
        scratch = session.scratch()
        with large_work(session.con):
            empty_tables(session)
            cache[roots] = views.register_duckdb(session.con, session.tables, roots, scratch=scratch)
    env = cache[roots]
    if env["pending"]:
        rules = list(rules.values()) if isinstance(rules, dict) else list(rules)
        need = None if not rules else set().union(*(views.needed(env, r.reads) for r in rules))
        todo = [n for n in env["pending"] if need is None or n in need]
        if todo:
            t0 = time.perf_counter()
            if say:
                say(f"computing the shared views {', '.join(todo)} once"
                    + (" (every fee line with its visit)" if "v_fee_fund_base" in todo else "") + " ...")
            with large_work(session.con):
                views.materialize(session.con, env, todo)
            if say:
                say(f"shared views ready in {time.perf_counter() - t0:.1f}s")
    return env


def why_skipped(session, rule: Rule, env: dict):
    """Reason a rule cannot run on this data (None when it can)."""
    absent = [t for t in rule.tables if t not in session.tables]
    if absent:
        return f"needs table(s) {', '.join(absent)}, which this data folder does not have"
    lack = [c for c in rule.columns if c.partition(".")[2] not in session.stored_columns.get(c.partition(".")[0], ())]
    if lack:
        return f"needs column(s) {', '.join(lack)}, which this data folder's files do not have"
    reads = rule.reads - set(rule.optional_tables)
    lacks = views.lacking(reads, env["missing"], session.tables, env["knowledge"], env["views"])
    if lacks:
        via = sorted(r for r in reads if r in env["missing"])
        return (f"needs table(s) {', '.join(sorted(lacks))}"
                + (f" (through view {', '.join(via)})" if via else "") + ", which this data folder does not have")
    return None


def query_rule(session, rule: Rule, values: dict) -> tuple:
    """Run one rule's SQL on DuckDB; return (rows as dicts, column names)."""
    sql = dialect.to_duckdb(rule.render_sql(values), f"rule {rule.id} ({rule.path})")
    try:
        rel = session.con.sql(sql)
        columns = list(rel.columns)
        types = dict(zip(columns, [str(t) for t in rel.types]))
        _findings.check_columns(rule, columns)
        if not types["amount_at_risk"].startswith("DECIMAL") and types["amount_at_risk"] != '"NULL"':
            raise RuleError(f"rule {rule.id} ({rule.path}): amount_at_risk is {types['amount_at_risk']}; "
                            f"write CAST(... AS DECIMAL(18,2))")
        rows = arrow(rel).to_pylist()
    except RuleError:
        raise
    except Exception as e:  # a DuckDB error in a rule's SQL: name the rule and its file
        raise RuleError(f"rule {rule.id} ({rule.path}) fails on DuckDB: {str(e).splitlines()[0]}") from None
    return rows, columns


class DuckRunner:
    """Runs rules on a session's DuckDB connection (``run_rules(engine='duckdb')``).

    Parameters
    ----------
    session : workbench.Session
    rules : iterable of Rule
        The rules to be run (their folders give the views and knowledge; the shared views they
        read are computed first).
    say : callable, optional
        Reports the shared views being computed (one line of text).
    roots : tuple of Path, optional
        The folders of views and knowledge instead of the rules' own (a recorded run's).
    """

    def __init__(self, session, rules=(), say=None, roots=None):
        self.session = session
        self.env = environment(session, rules, roots=roots, say=say)

    def why_skipped(self, rule):
        return why_skipped(self.session, rule, self.env)

    def run(self, rule, values):
        with large_work(self.session.con):
            rows, columns = query_rule(self.session, rule, values)
        return _findings.build(rule, rows, columns)
