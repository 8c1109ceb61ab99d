"""Threshold sweep: what a parameter value would cost before a bureau adopts it.

One rule is run once per candidate value on the same session (views and knowledge tables are
registered once); each run gives the number of findings, the money at risk and, on synthetic
data, the recall of the planted cases.
"""
from __future__ import annotations

import pandas as pd

from ..errors import RuleError
from . import findings as _findings
from .engine import environment, query_rule, resolve_rule, why_skipped
from .evaluate import evaluate


def sweep(session, rule_id, param, values, params=None, library=None) -> pd.DataFrame:
    """Run one rule for each value of one parameter.

    Parameters
    ----------
    session : workbench.Session
    rule_id : str or Rule
    param : str
        The parameter to vary (must be declared by the rule).
    values : iterable
        Candidate values, checked against the parameter's type and bounds.
    params : dict, optional
        Other parameters of the rule ``{param: value}``, held fixed.
    library : dict, optional
        Where ``rule_id`` is looked up.

    Returns
    -------
    DataFrame
        ``value, findings, amount_at_risk`` (Decimal) and, when the data folder has
        ``truth.parquet``, ``recall`` (None if the rule has no planted case), in the order given.
    """
    rule = resolve_rule(rule_id, library)
    if param not in rule.params:
        raise RuleError(f"rule {rule.id} has no parameter {param!r} (its parameters: {', '.join(rule.params) or 'none'})")
    base = dict(params or {})
    base.pop(param, None)
    rule.resolve(base, where=f"sweep {rule.id}")
    env = environment(session, [rule])
    reason = why_skipped(session, rule, env)
    if reason:
        raise RuleError(f"rule {rule.id} cannot run on this data: {reason}")
    truth = session.df("SELECT * FROM truth") if "truth" in session.tables else None
    rows = []
    for v in values:
        vals = rule.resolve({**base, param: v}, where=f"sweep {rule.id}")
        raw, columns = query_rule(session, rule, vals)
        df = _findings.build(rule, raw, columns)
        row = {"value": vals[param], "findings": len(df),
               "amount_at_risk": _findings.total(df["amount_at_risk"]) if len(df) else _findings.total([])}
        if truth is not None:
            ev = evaluate(df, truth, rules=[rule.id])
            row["recall"] = ev["recall"].iloc[0]
        rows.append(row)
    return pd.DataFrame(rows)
