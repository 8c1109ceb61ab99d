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

from ..errors import RuleError
from ..sql.duck import large_work
from . import findings as _findings
from .duck import DuckRunner, environment, query_rule, why_skipped  # noqa: F401  (re-exported)
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


def resolve_rule(rule, library=None) -> Rule:
    """A loaded :class:`Rule` from a rule or a rule id of ``library`` (default: the shipped one).

    Raises
    ------
    RuleError
        The id is not in the library.
    """
    if isinstance(rule, Rule):
        return rule
    lib = library if library is not None else load_library()
    if rule not in lib:
        raise RuleError(f"unknown rule {rule!r} (known: {', '.join(sorted(lib)) or 'none'})")
    return lib[rule]


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
    rule = resolve_rule(rule, library)
    values = rule.resolve(params, where=f"rule {rule.id}")
    env = environment(session, [rule])
    if why_skipped(session, rule, env):
        return _findings.frame([])
    with large_work(session.con):
        rows, columns = query_rule(session, rule, values)
    return _findings.build(rule, rows, columns)


def resolve_selection(rules=None, params=None, library=None) -> tuple:
    """The rules to run and every parameter value they run with.

    Parameters
    ----------
    rules, params, library
        As :func:`run_rules`.

    Returns
    -------
    chosen : dict of str to Rule
    values : dict
        ``{rule_id: {param: value}}``, defaults included.

    Raises
    ------
    RuleError
        An unknown rule, parameters for a rule not chosen, or a bad parameter value.
    """
    if library is None and (rules is None or any(not isinstance(r, Rule) for r in _as_list(rules))):
        library = load_library()
    chosen = select_rules(library or {}, rules)
    params = params or {}
    for rid in params:
        if rid not in chosen:
            raise RuleError(f"parameters given for rule {rid!r}, which is not among the rules run")
    return chosen, {rid: r.resolve(params.get(rid), where=f"rule {rid}") for rid, r in chosen.items()}


def run_rules(session, rules=None, params=None, progress=True, library=None, engine="duckdb", out=None,
              environment=None, spark=None) -> AuditResult:
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
    out : file, optional
        Where the progress lines go (default: standard error).
    environment : tuple of Path, optional
        The folders of derived views and knowledge tables to run with (each holding ``views/``
        and ``knowledge/``), e.g. those a run recorded or an evidence pack carries
        (``workbench reproduce``); default: those of the rules' own files
        (:func:`workbench.rules.views.roots_of`).
    spark : SparkSession, optional
        The Spark session of ``engine='spark'`` (default: :func:`workbench.sql.spark.get_spark`).

    Returns
    -------
    AuditResult
    """
    if engine not in ("duckdb", "spark"):
        raise RuleError(f"unknown engine {engine!r} (duckdb or spark)")
    chosen, values = resolve_selection(rules, params, library)
    started = time.perf_counter()
    if engine == "spark":
        from .spark import SparkRunner  # pyspark only when Spark runs

        runner = SparkRunner(session, list(chosen.values()), spark=spark, roots=environment)
    else:
        runner = DuckRunner(session, list(chosen.values()), roots=environment,
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
