"""Rows a rule's SQL returned → findings: ids, evidence JSON, exact money, readable detail.

Both engines hand this module plain Python rows, so a finding is built the same way whether
DuckDB or Spark found it: ``finding_id = sha256(rule_id | fixmedins_code | dr_code | psn_no |
mdtrt_id | evidence JSON)[:16]`` (``docs/rule-format.md``).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import string
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from ..errors import RuleError
from .loader import FINDING_COLUMNS, Rule

KEY_COLUMNS = ("fixmedins_code", "dr_code", "psn_no", "mdtrt_id")
COLUMNS = ["finding_id", "rule_id", "official_code", "result_type", "fixmedins_code", "dr_code", "psn_no",
           "mdtrt_id", "amount_at_risk", "evidence", "detail", "detail_en"]
CENT = Decimal("0.01")


def template_fields(template: str) -> list:
    """Names a detail template uses (``{psn_no}`` → ``psn_no``)."""
    out = []
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None and name != "" and name not in out:
            out.append(name)
    return out


def check_columns(rule: Rule, columns) -> None:
    """Raise :class:`RuleError` when the SQL's result lacks a finding or template column."""
    cols = set(columns)
    missing = [c for c in FINDING_COLUMNS if c not in cols]
    if missing:
        raise RuleError(f"rule {rule.id} ({rule.path}): the SQL must return column(s) {', '.join(missing)}")
    for lang, tpl in (("detail_zh", rule.detail_zh), ("detail_en", rule.detail_en)):
        unknown = [f for f in template_fields(tpl) if f not in cols]
        if unknown:
            raise RuleError(f"rule {rule.id} ({rule.path}): {lang} uses {{{'}, {'.join(unknown)}}}, "
                            f"which the SQL does not return")


def evidence_json(value, rule_id="?") -> str:
    """Evidence keys as the canonical JSON text: strings, nulls dropped, unique, sorted."""
    if value is None:
        keys = []
    elif isinstance(value, str):
        keys = [value]
    else:
        try:
            keys = list(value)
        except TypeError:
            raise RuleError(f"rule {rule_id}: evidence must be a list of keys, got {value!r}") from None
    keys = sorted({str(k) for k in keys if k is not None})
    return json.dumps(keys, ensure_ascii=False, separators=(",", ":"))


def finding_id(rule_id, fixmedins_code, dr_code, psn_no, mdtrt_id, evidence: str) -> str:
    """The stable id of a finding (16 hex digits)."""
    parts = [rule_id] + ["" if v is None else str(v) for v in (fixmedins_code, dr_code, psn_no, mdtrt_id)] + [evidence]
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:16]


def to_money(value, rule_id="?"):
    """An amount as an exact 2-place Decimal (a missing amount counts as 0.00)."""
    if value is None:
        return Decimal("0.00")
    if isinstance(value, float):
        raise RuleError(f"rule {rule_id}: amount_at_risk must be CAST(... AS DECIMAL(18,2)), not a float")
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def _text(value, lang):
    """A value as it reads in a detail sentence, identical for both engines."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{round(value, 4):g}" if abs(value) < 1e15 else f"{value:.6g}"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, _dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if (value.hour, value.minute, value.second) != (0, 0, 0) else value.strftime("%Y-%m-%d")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ("、" if lang == "zh" else ", ").join(_text(v, lang) for v in value)
    return str(value)


def _format(template, row, lang):
    return template.format_map({k: _text(v, lang) for k, v in row.items()})


def _key(v):
    return None if v is None else str(v)


def build(rule: Rule, rows, columns=None) -> pd.DataFrame:
    """Findings of one rule from the rows its SQL returned (a list of dicts).

    The frame has the columns of ``findings.parquet`` (``COLUMNS``), amounts as Decimal,
    sorted by ``finding_id``. Rows that give the same finding_id (same keys and evidence) are
    one finding: the one with the largest amount is kept (ties: the smallest detail text), and
    ``df.attrs["collapsed_rows"]`` counts the rows merged away — a sign that the rule's
    evidence does not tell its findings apart.
    """
    if columns is not None:
        check_columns(rule, columns)
    out = {}
    collapsed = 0
    for row in rows:
        ev = evidence_json(row["evidence"], rule.id)
        keys = {k: _key(row[k]) for k in KEY_COLUMNS}
        fid = finding_id(rule.id, keys["fixmedins_code"], keys["dr_code"], keys["psn_no"], keys["mdtrt_id"], ev)
        rec = {
            "finding_id": fid, "rule_id": rule.id, "official_code": rule.official_code,
            "result_type": rule.result_type, **keys, "amount_at_risk": to_money(row["amount_at_risk"], rule.id),
            "evidence": ev, "detail": _format(rule.detail_zh, row, "zh"), "detail_en": _format(rule.detail_en, row, "en"),
        }
        if fid in out:
            collapsed += 1
            # Same keys and evidence: one finding. Keep the largest amount, ties broken by the
            # text, so the choice never depends on the order an engine returned the rows in.
            if _rank(rec) >= _rank(out[fid]):
                continue
        out[fid] = rec
    df = frame([out[k] for k in sorted(out)])
    df.attrs["collapsed_rows"] = collapsed
    return df


def _rank(rec):
    return (-rec["amount_at_risk"], rec["detail"], rec["detail_en"])


def frame(records) -> pd.DataFrame:
    """A findings frame (possibly empty) with the standard columns, object dtypes."""
    df = pd.DataFrame.from_records(records, columns=COLUMNS)
    return df.astype(object).where(df.notna(), None) if len(df) else df.astype(object)


def concat(frames) -> pd.DataFrame:
    """Several rules' findings as one frame sorted by finding_id."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return frame([])
    df = pd.concat(frames, ignore_index=True)
    return df.sort_values("finding_id", kind="stable").reset_index(drop=True)


def total(amounts) -> Decimal:
    """Exact sum of Decimal amounts."""
    return sum((a for a in amounts if a is not None), Decimal("0.00"))
