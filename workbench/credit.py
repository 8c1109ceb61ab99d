"""医保信用: doctors' integrity points (驾照式记分) and institutions' credit classes (A/B/C/D).

Both are pure functions of the auditors' confirmed findings (a DataFrame with ``finding_id``,
``rule_id``, ``result_type``, ``fixmedins_code``, ``dr_code``, ``amount_at_risk``,
``decided_at`` and ``status``; only ``status == "confirmed"`` counts), so the case store can
feed them. Each gives a history (one row per change: when, old → new, and which findings) and a
current view; the institutions' classes feed the lottery's sampling ratios
(``lottery.draw(..., credit=report)``).

Doctors: a scoring year is a calendar year. Each confirmed finding naming a doctor deducts
points by the first matching entry of ``policy["doctor"]["points"]``; points add up within the
year; ``suspend_at`` points (9) suspend the doctor's insurance billing (暂停医保支付资格),
``terminate_at`` (12) ends it (终止); on 1 January points and status start again from 0.

Institutions: on each day the class follows from the confirmed findings decided in the last
``window_days`` days (a finding counts from its decision day for ``window_days`` days): their
number, their money (sum of ``amount_at_risk``) and its share of the institution's fund
payments (统筹基金支出 in ``setl``), and the institution's rate of findings per visit against its
peer group's pooled rate (peer group = type × level). The first class of
``policy["institution"]["classes"]`` any of whose conditions holds is taken, else ``clean_class``.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd

from .errors import CreditError
from .rules.loader import fraud_rule_ids
from .stats import peer_key_sql

FRAUD_RULES = fraud_rule_ids()  # the rule files that say severity: fraud
# the stats peer key, written as institution_base has always shown it ('1×2')
CREDIT_PEER_KEY = peer_key_sql("m.fixmedins_type", "m.hosp_lv", missing="", separator="×")
DEFAULT_POLICY = {
    "doctor": {
        "scale": 12, "suspend_at": 9, "terminate_at": 12,
        "points": [  # first match wins; min_amount inclusive, max_amount exclusive (yuan)
            {"rule_id": FRAUD_RULES, "min_amount": "50000", "points": 12},
            {"result_type": "violation", "min_amount": "10000", "points": 6},
            {"result_type": "violation", "min_amount": "1000", "points": 5},
            {"result_type": "violation", "points": 4},
            {"result_type": "suspicious", "min_amount": "10000", "points": 3},
            {"result_type": "suspicious", "min_amount": "1000", "points": 2},
            {"result_type": "suspicious", "points": 1},
        ],
    },
    "institution": {
        "window_days": 365, "clean_class": "A",
        "classes": [  # worst first; a class is met when any of its conditions holds
            {"class": "D", "min_findings": 10, "min_amount": "500000", "min_share": "0.05"},
            {"class": "C", "min_findings": 5, "min_amount": "100000", "min_share": "0.01",
             "min_peer_ratio": "3", "peer_min_findings": 2},
            {"class": "B", "min_findings": 1},
        ],
    },
}
STATUS_ZH = {"normal": "正常", "suspended": "暂停医保支付资格", "terminated": "终止医保支付资格"}
FINDING_COLUMNS = ["finding_id", "rule_id", "result_type", "fixmedins_code", "dr_code", "amount_at_risk", "decided_at", "status"]
_POINT_KEYS = {"rule_id", "result_type", "min_amount", "max_amount", "points"}
_CLASS_KEYS = {"class", "min_findings", "min_amount", "min_share", "min_peer_ratio", "peer_min_findings"}
CENT = Decimal("0.01")


# --------------------------------------------------------------------------- policy and input
def load_policy(policy=None) -> dict:
    """The credit policy: the defaults, with the sections of ``policy`` (a dict or YAML file) replacing theirs key by key."""
    if isinstance(policy, (str, Path)):
        import yaml

        path = Path(policy)
        if not path.is_file():
            raise CreditError(f"{path}: no such credit policy file")
        policy = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = {s: dict(v) for s, v in DEFAULT_POLICY.items()}
    for section, values in (policy or {}).items():
        if section not in out or not isinstance(values, dict):
            raise CreditError(f"credit policy: unknown section {section!r} (sections: doctor, institution)")
        unknown = set(values) - set(out[section])
        if unknown:
            raise CreditError(f"credit policy: {section} has no setting {', '.join(sorted(unknown))}")
        out[section].update(values)
    for n, e in enumerate(out["doctor"]["points"]):
        if set(e) - _POINT_KEYS or "points" not in e:
            raise CreditError(f"credit policy: doctor.points[{n}] needs 'points' and only {', '.join(sorted(_POINT_KEYS))}")
    for n, e in enumerate(out["institution"]["classes"]):
        if set(e) - _CLASS_KEYS or "class" not in e:
            raise CreditError(f"credit policy: institution.classes[{n}] needs 'class' and only {', '.join(sorted(_CLASS_KEYS))}")
    return out


def _money(v) -> Decimal:
    if v is None or (not isinstance(v, (str, Decimal)) and pd.isna(v)):
        return Decimal("0.00")
    return Decimal(str(v)).quantize(CENT)


def _id(v):
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) or v == "" else str(v)


def confirmed(findings: pd.DataFrame, as_of) -> pd.DataFrame:
    """Confirmed findings decided on or before ``as_of``: ids as str, money as Decimal, dates as date."""
    missing = [c for c in FINDING_COLUMNS if c not in findings.columns]
    if missing:
        raise CreditError(f"findings: missing column(s) {', '.join(missing)}")
    f = findings[findings["status"] == "confirmed"].copy()
    for c in ("finding_id", "rule_id", "result_type", "fixmedins_code", "dr_code"):
        f[c] = [_id(v) for v in f[c]]
    bad = f[f["decided_at"].isna()]
    if len(bad):
        raise CreditError(f"findings: finding {bad['finding_id'].iloc[0]} is confirmed but has no decided_at")
    f["decided_at"] = [pd.Timestamp(v).date() for v in f["decided_at"]]
    f["amount_at_risk"] = [_money(v) for v in f["amount_at_risk"]]
    f = f[f["decided_at"] <= as_of]
    # ``points``: a doctor's points a case awarded (case act --action doctor_points), not the policy's
    cols = FINDING_COLUMNS + (["points"] if "points" in f.columns else [])
    return f.sort_values(["decided_at", "finding_id"]).reset_index(drop=True)[cols]


def _as_of(as_of):
    if as_of is None:
        return _dt.date.today()
    return as_of if isinstance(as_of, _dt.date) and not isinstance(as_of, _dt.datetime) else pd.Timestamp(as_of).date()


# --------------------------------------------------------------------------- doctors
def finding_points(f, doctor_policy: dict):
    """Points one finding deducts and the policy entry that set them (first match wins)."""
    for n, e in enumerate(doctor_policy["points"]):
        rules = e.get("rule_id")
        if rules is not None and f["rule_id"] not in ([rules] if isinstance(rules, str) else rules):
            continue
        if e.get("result_type") is not None and f["result_type"] != e["result_type"]:
            continue
        amount = f["amount_at_risk"]
        if "min_amount" in e and amount < Decimal(str(e["min_amount"])):
            continue
        if "max_amount" in e and amount >= Decimal(str(e["max_amount"])):
            continue
        return int(e["points"]), n
    raise CreditError(f"credit policy: no doctor.points entry matches finding {f['finding_id']} "
                      f"(rule {f['rule_id']}, {f['result_type']}, {f['amount_at_risk']} yuan); add a catch-all entry")


def doctor_status(points: int, doctor_policy: dict) -> str:
    """``normal``, ``suspended`` (≥ suspend_at) or ``terminated`` (≥ terminate_at)."""
    if points >= doctor_policy["terminate_at"]:
        return "terminated"
    return "suspended" if points >= doctor_policy["suspend_at"] else "normal"


def doctor_points(findings: pd.DataFrame, policy=None, as_of=None):
    """Doctors' points per scoring year: history (one row per change) and current view.

    Returns
    -------
    history : DataFrame
        ``dr_code, date, year, points_before, points_after, remaining, status_before,
        status_after, finding_ids, reason``; findings decided the same day make one row, and a
        year's points returning to 0 on 1 January is a row of its own.
    current : DataFrame
        One row per doctor with a confirmed finding: ``dr_code, fixmedins_code, year, points,
        remaining, status, findings`` (this year), ``last_change``.
    """
    pol, as_of = load_policy(policy)["doctor"], _as_of(as_of)
    f = confirmed(findings, as_of)
    f = f[f["dr_code"].notna()]
    hist, cur = [], []

    def row(dr, day, before, after, ids, reason):
        hist.append({"dr_code": dr, "date": day, "year": day.year, "points_before": before[0], "points_after": after[0],
                     "remaining": max(pol["scale"] - after[0], 0), "status_before": before[1], "status_after": after[1],
                     "finding_ids": ";".join(ids), "reason": reason})

    for dr, g in f.groupby("dr_code", sort=True):
        year, pts, status, last = None, 0, "normal", None
        for day, same_day in g.groupby("decided_at", sort=True):
            if year is not None and day.year != year and (pts, status) != (0, "normal"):
                new_year = _dt.date(year + 1, 1, 1)
                row(dr, new_year, (pts, status), (0, "normal"), [], f"scoring year {year + 1} begins: points reset")
                last = new_year
                pts, status = 0, "normal"
            year = day.year
            parts, delta = [], 0
            for _, x in same_day.iterrows():
                if "points" in x and not pd.isna(x["points"]):
                    p = int(x["points"])
                    delta += p
                    parts.append(f"{x['finding_id']}: {p} point(s) recorded by the case (医师记分)")
                    continue
                p, entry = finding_points(x, pol)
                delta += p
                parts.append(f"{x['finding_id']} ({x['rule_id']}, {x['result_type']}, {x['amount_at_risk']} yuan): "
                             f"{p} point(s) by doctor.points[{entry}]")
            new = (pts + delta, doctor_status(pts + delta, pol))
            row(dr, day, (pts, status), new, list(same_day["finding_id"]), "; ".join(parts))
            pts, status, last = new[0], new[1], day
        if as_of.year > year and (pts, status) != (0, "normal"):
            row(dr, _dt.date(year + 1, 1, 1), (pts, status), (0, "normal"), [], f"scoring year {year + 1} begins: points reset")
            last, pts, status = _dt.date(year + 1, 1, 1), 0, "normal"
        this_year = g[[d.year == as_of.year for d in g["decided_at"]]]
        cur.append({"dr_code": dr, "fixmedins_code": g["fixmedins_code"].iloc[-1], "year": as_of.year, "points": pts,
                    "remaining": max(pol["scale"] - pts, 0), "status": status, "findings": len(this_year),
                    "last_change": last})
    hcols = ["dr_code", "date", "year", "points_before", "points_after", "remaining", "status_before", "status_after",
             "finding_ids", "reason"]
    ccols = ["dr_code", "fixmedins_code", "year", "points", "remaining", "status", "findings", "last_change"]
    return pd.DataFrame(hist, columns=hcols), pd.DataFrame(cur, columns=ccols)


# --------------------------------------------------------------------------- institutions
def institution_base(data) -> pd.DataFrame:
    """One row per institution: ``fixmedins_code, peer_group`` (type × level, :data:`CREDIT_PEER_KEY`), ``visits`` and
    ``fund_paid`` (net 统筹基金支出 over ``setl``; null when the data folder has no ``setl``)."""
    from .session import Session

    s = data if isinstance(data, Session) else Session(data)
    try:
        return _base(s)
    finally:
        if s is not data:
            s.close()


def _base(s) -> pd.DataFrame:
    fund = ("(SELECT fixmedins_code, sum(hifp_pay) AS fund_paid FROM setl GROUP BY 1)" if s.has("setl")
            else "(SELECT NULL::VARCHAR AS fixmedins_code, NULL::DECIMAL(18,2) AS fund_paid WHERE false)")
    df = s.df(f"""
        SELECT m.fixmedins_code, {CREDIT_PEER_KEY} AS peer_group,
               coalesce(v.visits, 0) AS visits, f.fund_paid
        FROM medins m
        LEFT JOIN (SELECT fixmedins_code, count(*) AS visits FROM mdtrt GROUP BY 1) v USING (fixmedins_code)
        LEFT JOIN {fund} f USING (fixmedins_code)
        ORDER BY m.fixmedins_code""")
    df["fund_paid"] = [None if v is None or pd.isna(v) else _money(v) for v in df["fund_paid"]]
    return df


def _met(rule: dict, m: dict):
    """The first condition of a class rule that metrics ``m`` meet, in words, or None."""
    if "min_findings" in rule and m["findings"] >= int(rule["min_findings"]):
        return f"{m['findings']} confirmed finding(s) ≥ {rule['min_findings']}"
    if "min_amount" in rule and m["amount_at_risk"] >= Decimal(str(rule["min_amount"])):
        return f"amount at risk {m['amount_at_risk']} ≥ {rule['min_amount']} yuan"
    if "min_share" in rule and m["share"] is not None and m["share"] >= Decimal(str(rule["min_share"])):
        return f"{m['share']:.2%} of fund payments ≥ {Decimal(str(rule['min_share'])):.0%}"
    if ("min_peer_ratio" in rule and m["peer_ratio"] is not None and m["findings"] >= int(rule.get("peer_min_findings", 1))
            and m["peer_ratio"] >= Decimal(str(rule["min_peer_ratio"]))):
        return f"rate of findings per visit {m['peer_ratio']:.2f}× the peer group's ≥ {rule['min_peer_ratio']}×"
    return None


def _classify(metrics: dict, pol: dict):
    for rule in pol["classes"]:
        why = _met(rule, metrics)
        if why:
            return rule["class"], f"{rule['class']}: {why}"
    return pol["clean_class"], f"{pol['clean_class']}: no confirmed finding meets a class rule in the last {pol['window_days']} days"


def _metrics_on(day, f, base, pol):
    """Metrics and class of every institution with findings in the window ending on ``day``."""
    start = day - _dt.timedelta(days=int(pol["window_days"]) - 1)
    live = f[pd.Series([start <= d <= day for d in f["decided_at"]], index=f.index, dtype=bool)]
    n = live.groupby("fixmedins_code").size().to_dict()
    peer_n = {}
    for code, k in n.items():
        g = base["peer_group"].get(code)
        peer_n[g] = peer_n.get(g, 0) + k
    out = {}
    for code in sorted(set(f["fixmedins_code"]) | set(n)):
        rows = live[live["fixmedins_code"] == code]
        amount = sum(rows["amount_at_risk"], Decimal("0.00"))
        fund, visits, g = base["fund_paid"].get(code), base["visits"].get(code), base["peer_group"].get(code)
        share = (amount / fund).quantize(Decimal("0.0001")) if fund and fund > 0 else None
        ratio = None
        if visits and g is not None and peer_n.get(g) and base["peer_visits"].get(g):
            ratio = (Decimal(len(rows) * base["peer_visits"][g]) / Decimal(visits * peer_n[g])).quantize(CENT)
        m = {"findings": len(rows), "amount_at_risk": amount, "share": share, "peer_ratio": ratio,
             "finding_ids": ";".join(rows["finding_id"])}
        m["credit_class"], m["reason"] = _classify(m, pol)
        out[code] = m
    return out


def institution_classes(findings: pd.DataFrame, base: pd.DataFrame = None, policy=None, as_of=None):
    """Institutions' credit classes: history (one row per change) and current view.

    Parameters
    ----------
    findings : DataFrame
        Auditors' decisions (see the module docstring); only confirmed ones count.
    base : DataFrame, optional
        :func:`institution_base` (peer group, visits, fund payments); without it only the
        number and money of findings decide, and the current view lists only institutions with findings.
    policy : dict or path, optional
    as_of : date, optional
        Default today.

    Returns
    -------
    history : DataFrame
        ``fixmedins_code, date, class_before, class_after, findings, amount_at_risk, share,
        peer_ratio, finding_ids`` (those counted that day), ``new``, ``expired``, ``reason``.
    current : DataFrame
        ``fixmedins_code, credit_class, since, findings, amount_at_risk, share, peer_ratio, finding_ids, reason``.
    """
    pol, as_of = load_policy(policy)["institution"], _as_of(as_of)
    f = confirmed(findings, as_of)
    f = f[f["fixmedins_code"].notna()]
    if "points" in f.columns:  # a doctor's points are the doctor's, not one more finding of the institution
        f = f[f["points"].isna()][FINDING_COLUMNS]
    b = base if base is not None else pd.DataFrame(columns=["fixmedins_code", "peer_group", "visits", "fund_paid"])
    lookup = {c: dict(zip(b["fixmedins_code"], b[c])) for c in ("peer_group", "visits", "fund_paid")}
    lookup["peer_visits"] = {g: int(v) for g, v in b.groupby("peer_group")["visits"].sum().items()}
    window = _dt.timedelta(days=int(pol["window_days"]))
    events = sorted({d for d in f["decided_at"]} | {d + window for d in f["decided_at"] if d + window <= as_of})
    state, since, hist, prev_ids = {}, {}, [], {}
    for day in events:
        for code, m in _metrics_on(day, f, lookup, pol).items():
            before = state.get(code, pol["clean_class"])
            if m["credit_class"] == before:
                continue
            # new and expired are counted since the institution's last change
            ids = set(filter(None, m["finding_ids"].split(";")))
            gone = {i for i, c, d in zip(f["finding_id"], f["fixmedins_code"], f["decided_at"]) if c == code and d <= day} - ids
            old, old_gone = prev_ids.get(code, (set(), set()))
            prev_ids[code] = (ids, gone)
            hist.append({"fixmedins_code": code, "date": day, "class_before": before, "class_after": m["credit_class"],
                         **{k: m[k] for k in ("findings", "amount_at_risk", "share", "peer_ratio", "finding_ids")},
                         "new": ";".join(sorted(ids - old)), "expired": ";".join(sorted(gone - old_gone)), "reason": m["reason"]})
            state[code], since[code] = m["credit_class"], day
    now = _metrics_on(as_of, f, lookup, pol)
    clean = {"findings": 0, "amount_at_risk": Decimal("0.00"), "share": None, "peer_ratio": None, "finding_ids": "",
             "credit_class": pol["clean_class"], "reason": _classify({"findings": 0, "amount_at_risk": Decimal("0.00"),
                                                                      "share": None, "peer_ratio": None}, pol)[1]}
    cur = [{"fixmedins_code": c, **{**clean, **now.get(c, {})}, "since": since.get(c)}
           for c in sorted(set(b["fixmedins_code"]) | set(now))]
    hcols = ["fixmedins_code", "date", "class_before", "class_after", "findings", "amount_at_risk", "share", "peer_ratio",
             "finding_ids", "new", "expired", "reason"]
    ccols = ["fixmedins_code", "credit_class", "since", "findings", "amount_at_risk", "share", "peer_ratio", "finding_ids", "reason"]
    return pd.DataFrame(hist, columns=hcols), pd.DataFrame(cur, columns=ccols)


# --------------------------------------------------------------------------- the report
@dataclass
class CreditReport:
    """Doctors' points and institutions' classes as of one day, with their histories."""

    as_of: _dt.date
    doctor_history: pd.DataFrame
    doctor_current: pd.DataFrame
    institution_history: pd.DataFrame
    institution_current: pd.DataFrame

    def doctor(self, code: str) -> dict:
        """``{"current": dict or None, "history": DataFrame}`` of one doctor (None: no confirmed finding)."""
        return self._look(self.doctor_current, self.doctor_history, "dr_code", code)

    def institution(self, code: str) -> dict:
        """``{"current": dict or None, "history": DataFrame}`` of one institution."""
        return self._look(self.institution_current, self.institution_history, "fixmedins_code", code)

    @staticmethod
    def _look(cur, hist, col, code):
        row = cur[cur[col] == str(code).strip()]
        return {"current": row.iloc[0].to_dict() if len(row) else None,
                "history": hist[hist[col] == str(code).strip()].reset_index(drop=True)}

    def classes(self) -> dict:
        """``{fixmedins_code: credit_class}`` for the lottery's sampling ratios."""
        return dict(zip(self.institution_current["fixmedins_code"], self.institution_current["credit_class"]))

    def write_classes(self, path) -> Path:
        """CSV of ``fixmedins_code, credit_class`` (what ``workbench lottery draw --credit`` reads)."""
        path = Path(path)
        from .csvfile import write_csv  # the one CSV writer: no cell a spreadsheet runs as a formula

        return write_csv(self.institution_current, path, columns=["fixmedins_code", "credit_class"], bom=False)


def credit_report(findings: pd.DataFrame, data=None, policy=None, as_of=None, base=None) -> CreditReport:
    """Doctors' points and institutions' classes from confirmed findings.

    Parameters
    ----------
    findings : DataFrame
        Auditors' decisions (``finding_id, rule_id, result_type, fixmedins_code, dr_code,
        amount_at_risk, decided_at, status``).
    data : path or Session, optional
        Data folder for the institutions' peer groups, visits and fund payments.
    policy : dict or path to YAML, optional
        Overrides of :data:`DEFAULT_POLICY`.
    as_of : date, optional
        Default today.
    base : DataFrame, optional
        :func:`institution_base` already computed (instead of ``data``).
    """
    as_of = _as_of(as_of)
    if base is None and data is not None:
        base = institution_base(data)
    dh, dc = doctor_points(findings, policy, as_of)
    ih, ic = institution_classes(findings, base, policy, as_of)
    return CreditReport(as_of, dh, dc, ih, ic)
