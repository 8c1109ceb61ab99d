"""Recall and precision of the rules against the planted cases of synthetic data.

Matching (``docs/rules-spec.md``): a truth row is *recalled* when a finding of the same
``rule_id`` has equal values in every key column the truth row fills (``fixmedins_code``,
``dr_code``, ``psn_no``, ``mdtrt_id``). A finding is *confirmed* when it recalls at least one
truth row; precision is confirmed findings over findings. Findings on rows nobody planted are
not necessarily wrong (background data can break a rule by chance), so precision on synthetic
data is a floor.
"""
from __future__ import annotations

import pandas as pd

KEYS = ("fixmedins_code", "dr_code", "psn_no", "mdtrt_id")
COLUMNS = ["rule_id", "planted", "recalled", "recall", "findings", "confirmed", "precision"]


def _clean(df: pd.DataFrame, cols) -> pd.DataFrame:
    out = df[list(cols)].copy()
    for k in KEYS:
        if k in out.columns:
            out[k] = out[k].map(lambda v: None if v is None or (isinstance(v, float) and v != v) or v == "" else str(v))
    return out


def match_truth(findings: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Pairs (truth row, finding) that match: columns ``truth_row`` (index into ``truth``) and
    ``finding_id``."""
    t = _clean(truth.reset_index(drop=True), ["rule_id", *[k for k in KEYS if k in truth.columns]])
    for k in KEYS:
        if k not in t.columns:
            t[k] = None
    t["truth_row"] = range(len(t))
    f = _clean(findings, ["finding_id", "rule_id", *KEYS])
    pairs = []
    pattern = t[list(KEYS)].notna()
    for filled, group in t.groupby([pattern[k] for k in KEYS], sort=True):
        on = ["rule_id"] + [k for k, used in zip(KEYS, filled) if used]
        fk = f.dropna(subset=on)
        m = group[on + ["truth_row"]].merge(fk[on + ["finding_id"]], on=on, how="inner")
        pairs.append(m[["truth_row", "finding_id"]])
    if not pairs:
        return pd.DataFrame({"truth_row": pd.Series(dtype=int), "finding_id": pd.Series(dtype=object)})
    return pd.concat(pairs, ignore_index=True).drop_duplicates().sort_values(["truth_row", "finding_id"]).reset_index(drop=True)


def evaluate(findings: pd.DataFrame, truth: pd.DataFrame, rules=None) -> pd.DataFrame:
    """Recall and precision per rule.

    Parameters
    ----------
    findings : DataFrame
        Findings of a run (``finding_id``, ``rule_id`` and the key columns).
    truth : DataFrame
        ``truth.parquet`` of the data folder.
    rules : iterable of str, optional
        Rules to report (default: every rule with findings or planted cases; truth rows for
        analyses that are not rules, like ``rings``, are then left out only if ``rules`` is given).

    Returns
    -------
    DataFrame
        ``rule_id, planted, recalled, recall, findings, confirmed, precision``; recall is None
        where nothing was planted, precision None where nothing was found.
    """
    pairs = match_truth(findings, truth)
    truth = truth.reset_index(drop=True)
    ids = list(rules) if rules is not None else sorted(set(truth["rule_id"]) | set(findings["rule_id"]))
    recalled_rows = set(pairs["truth_row"])
    confirmed_ids = set(pairs["finding_id"])
    rows = []
    for rid in ids:
        t_rows = truth.index[truth["rule_id"] == rid]
        f_ids = findings.loc[findings["rule_id"] == rid, "finding_id"]
        planted, found = len(t_rows), len(f_ids)
        recalled = sum(1 for i in t_rows if i in recalled_rows)
        confirmed = sum(1 for i in f_ids if i in confirmed_ids)
        rows.append({"rule_id": rid, "planted": planted, "recalled": recalled,
                     "recall": round(recalled / planted, 4) if planted else None,
                     "findings": found, "confirmed": confirmed,
                     "precision": round(confirmed / found, 4) if found else None})
    return pd.DataFrame(rows, columns=COLUMNS)


def format_table(ev: pd.DataFrame) -> str:
    """The evaluation as an aligned text table."""
    lines = [f"{'rule_id':<28} {'planted':>7} {'recalled':>8} {'recall':>7} {'findings':>8} {'confirmed':>9} {'precision':>9}"]
    for r in ev.itertuples(index=False):
        rec = "-" if r.recall is None or r.recall != r.recall else f"{r.recall:.3f}"
        pre = "-" if r.precision is None or r.precision != r.precision else f"{r.precision:.3f}"
        lines.append(f"{r.rule_id:<28} {r.planted:>7} {r.recalled:>8} {rec:>7} {r.findings:>8} {r.confirmed:>9} {pre:>9}")
    return "\n".join(lines)
