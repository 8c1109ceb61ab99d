"""Run rules on DuckDB: parameters in, findings out.

The engine has no branch per rule: for each rule it checks the rule's tables are present,
substitutes the parameters, runs the canonical SQL on the session's DuckDB connection and hands
the rows to :mod:`workbench.rules.findings`.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

from .. import schema
from ..errors import RuleError
from . import findings as _findings
from . import sqltext, views
from .loader import Rule, load_library, select_rules


@dataclass
class AuditResult:
    """What one run of the rule library produced.

    Attributes
    ----------
    findings : pandas.DataFrame
        Every finding (columns of ``findings.COLUMNS``), sorted by ``finding_id``.
    rules : dict of str to Rule
        The rules that were asked for.
    params : dict
        ``{rule_id: {param: value}}`` every value used (defaults included).
    counts : dict
        ``{rule_id: {"findings": int, "amount_at_risk": Decimal, "seconds": float}}`` for each
        rule that ran.
    skipped : dict of str to str
        Rules that did not run, with the reason.
    engine : str
    seconds : float
        Wall time of the whole run.
    """

    findings: pd.DataFrame
    rules: dict
    params: dict
    counts: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)
    engine: str = "duckdb"
    seconds: float = 0.0

    @property
    def amount_at_risk(self) -> Decimal:
        """Exact total of every finding's amount."""
        return _findings.total(self.findings["amount_at_risk"]) if len(self.findings) else Decimal("0.00")

    def summary(self) -> pd.DataFrame:
        """One row per rule: id, name, status, findings, amount, seconds."""
        rows = []
        for rid, rule in self.rules.items():
            c = self.counts.get(rid)
            rows.append({"rule_id": rid, "name_zh": rule.name_zh, "result_type": rule.result_type,
                         "status": "ran" if c else "skipped",
                         "findings": c["findings"] if c else 0,
                         "amount_at_risk": c["amount_at_risk"] if c else Decimal("0.00"),
                         "seconds": round(c["seconds"], 3) if c else 0.0,
                         "reason": self.skipped.get(rid, "")})
        return pd.DataFrame(rows)


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
        with _large_work(session.con):
            _empty_tables(session)
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
            with _large_work(session.con):
                views.materialize(session.con, env, todo)
            if say:
                say(f"shared views ready in {time.perf_counter() - t0:.1f}s")
    return env


def _empty_tables(session) -> None:
    """An empty view, with the contract's columns, for each contract table the data lacks.

    Rules that declare a table in ``optional_tables`` read it as empty when it is absent (e.g.
    duplicate_billing still checks same-time duplicates without list_incl); a rule needing a
    table (``tables``) is still skipped without it.
    """
    have = {r[0] for r in session.con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    for name in schema.TABLE_ORDER:
        if name not in session.tables and name not in have:
            cols = ", ".join(f'CAST(NULL AS {schema.SQL_TYPES[c.type]}) AS "{c.name}"' for c in schema.TABLES[name].columns)
            session.con.execute(f'CREATE TEMP VIEW "{name}" AS SELECT {cols} WHERE FALSE')


class _large_work:
    """``preserve_insertion_order`` and ``enable_progress_bar`` off for the duration (restored after).

    DuckDB keeps far less in memory when it need not return rows in scan order; the rules and
    derived tables sort whatever order they depend on, other callers of the session may not.
    The rules report their own progress, one line per rule, so DuckDB's bar is off meanwhile.
    """

    SETTINGS = ("preserve_insertion_order", "enable_progress_bar")

    def __init__(self, con):
        self.con = con

    def __enter__(self):
        self.before = {k: self.con.execute(f"SELECT current_setting('{k}')").fetchone()[0] for k in self.SETTINGS}
        for k in self.SETTINGS:
            self.con.execute(f"SET {k} = false")
        return self

    def __exit__(self, *exc):
        for k, v in self.before.items():
            self.con.execute(f"SET {k} = {'true' if v else 'false'}")


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


def _resolve_rule(rule, library=None) -> Rule:
    if isinstance(rule, Rule):
        return rule
    lib = library if library is not None else load_library()
    if rule not in lib:
        raise RuleError(f"unknown rule {rule!r} (known: {', '.join(sorted(lib)) or 'none'})")
    return lib[rule]


def query_rule(session, rule: Rule, values: dict) -> tuple:
    """Run one rule's SQL on DuckDB; return (rows as dicts, column names)."""
    sql = sqltext.to_duckdb(rule.render_sql(values), f"rule {rule.id} ({rule.path})")
    try:
        rel = session.con.sql(sql)
        columns = list(rel.columns)
        types = dict(zip(columns, [str(t) for t in rel.types]))
        _findings.check_columns(rule, columns)
        if not types["amount_at_risk"].startswith("DECIMAL") and types["amount_at_risk"] != '"NULL"':
            raise RuleError(f"rule {rule.id} ({rule.path}): amount_at_risk is {types['amount_at_risk']}; "
                            f"write CAST(... AS DECIMAL(18,2))")
        rows = _arrow(rel).to_pylist()
    except RuleError:
        raise
    except Exception as e:  # a DuckDB error in a rule's SQL: name the rule and its file
        raise RuleError(f"rule {rule.id} ({rule.path}) fails on DuckDB: {str(e).splitlines()[0]}") from None
    return rows, columns


def run_rule(session, rule, params=None, library=None) -> pd.DataFrame:
    """Findings of one rule.

    Parameters
    ----------
    session : workbench.Session
    rule : str or Rule
        A rule id of the library (``library`` or the shipped one) or a loaded :class:`Rule`.
    params : dict, optional
        Parameter values ``{param: value}`` over the rule's defaults.
    library : dict, optional
        Where to look ``rule`` up when it is an id.

    Returns
    -------
    pandas.DataFrame
        Columns ``finding_id, rule_id, official_code, result_type, fixmedins_code, dr_code,
        psn_no, mdtrt_id, amount_at_risk`` (Decimal), ``evidence`` (JSON text), ``detail``,
        ``detail_en``; sorted by ``finding_id``. Empty when the rule's tables are absent.
    """
    rule = _resolve_rule(rule, library)
    values = rule.resolve(params, where=f"rule {rule.id}")
    env = environment(session, [rule])
    if why_skipped(session, rule, env):
        return _findings.frame([])
    with _large_work(session.con):
        rows, columns = query_rule(session, rule, values)
    return _findings.build(rule, rows, columns)


def run_rules(session, rules=None, params=None, progress=True, library=None, engine="duckdb", out=None) -> AuditResult:
    """Run several rules (all of the library by default) and gather their findings.

    Parameters
    ----------
    session : workbench.Session
    rules : list of str or Rule, or dict of str to Rule, optional
        Which rules (default: every rule of ``library``).
    params : dict, optional
        ``{rule_id: {param: value}}`` over the defaults; an unknown rule or parameter raises.
    progress : bool
        One line per rule (hits, money, time) on standard error, with a tqdm bar.
    library : dict, optional
        The rule library ids are looked up in (default: the shipped library).
    engine : {'duckdb', 'spark'}
        ``'spark'`` runs the translated SQL on a local Spark session (:mod:`workbench.rules.spark`).

    Returns
    -------
    AuditResult
    """
    if engine not in ("duckdb", "spark"):
        raise RuleError(f"unknown engine {engine!r} (duckdb or spark)")
    if library is None and (rules is None or any(not isinstance(r, Rule) for r in _as_list(rules))):
        library = load_library()
    chosen = select_rules(library or {}, rules)
    params = params or {}
    for rid in params:
        if rid not in chosen:
            raise RuleError(f"parameters given for rule {rid!r}, which is not among the rules run")
    values = {rid: r.resolve(params.get(rid), where=f"rule {rid}") for rid, r in chosen.items()}
    started = time.perf_counter()
    if engine == "spark":
        from . import spark as _spark

        runner = _spark.SparkRunner(session, list(chosen.values()))
    else:
        runner = _DuckRunner(session, list(chosen.values()),
                             say=(lambda line: _say(None, progress, out, line)) if progress else None)
    result = AuditResult(findings=_findings.frame([]), rules=chosen, params=values, engine=engine)
    frames = []
    bar = _bar(len(chosen), progress, out)
    for rid, rule in chosen.items():
        reason = runner.why_skipped(rule)
        if reason:
            result.skipped[rid] = reason
            _say(bar, progress, out, f"{rid:<28} skipped: {reason}")
        else:
            t0 = time.perf_counter()
            df = runner.run(rule, values[rid])
            dt = time.perf_counter() - t0
            amount = _findings.total(df["amount_at_risk"]) if len(df) else Decimal("0.00")
            collapsed = df.attrs.get("collapsed_rows", 0)
            result.counts[rid] = {"findings": len(df), "amount_at_risk": amount, "seconds": dt,
                                  "collapsed_rows": collapsed}
            frames.append(df)
            _say(bar, progress, out, f"{rid:<28} {len(df):>7} findings  ¥{amount:>14}  {dt:6.2f}s"
                 + (f"  ({collapsed} rows shared a finding_id with another and were merged)" if collapsed else ""))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    result.findings = _findings.concat(frames)
    result.seconds = time.perf_counter() - started
    return result


def _as_list(rules):
    if isinstance(rules, (str, Rule)):
        return [rules]
    if isinstance(rules, dict):
        return list(rules.values())
    return list(rules)


class _DuckRunner:
    def __init__(self, session, rules, say=None):
        self.session = session
        self.env = environment(session, rules, say=say)

    def why_skipped(self, rule):
        return why_skipped(self.session, rule, self.env)

    def run(self, rule, values):
        with _large_work(self.session.con):
            rows, columns = query_rule(self.session, rule, values)
        return _findings.build(rule, rows, columns)


def _bar(n, progress, out):
    if not progress:
        return None
    from tqdm import tqdm

    stream = out or sys.stderr
    # The bar only on a terminal; logs (CI, files) get the plain one-line-per-rule report.
    return tqdm(total=n, desc="rules", unit="rule", file=stream, leave=False,
                disable=not (hasattr(stream, "isatty") and stream.isatty()))


def _say(bar, progress, out, line):
    if not progress:
        return
    if bar is not None and not bar.disable:
        bar.write(line, file=out or sys.stderr)
    else:
        print(line, file=out or sys.stderr)


def _arrow(rel):
    """A DuckDB relation's result as a pyarrow Table (the API moved between DuckDB versions)."""
    if hasattr(rel, "to_arrow_table"):
        return rel.to_arrow_table()
    return rel.fetch_arrow_table()
