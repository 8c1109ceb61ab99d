"""What enforcement achieved in a period (检查 N 家、暂停协议 N 家、罚款 N 家、追回基金 N 万元 …).

The figures of ``workbench briefing --from --to`` (issue 19, item 5), a pure function of the case
store's events: every case, inspection and decision in the store counts, whatever run it came
from. Each flow figure is counted by the date of its event — the ``--on`` of ``case act`` and
``inspection record`` (the day it happened, not the day it was typed); ``case decide`` has no
``--on``, so its actions count on the (UTC) day they were recorded. Both ends of the period are
included. Institutions are counted once (家), cases once (例).

``case decide`` actions count the same as ``case act`` ones: an action counts at the decision
that first gives a confirmed finding that action, and money at each decision that changes a
confirmed finding's recovered amount or fine (by the change, so a fine raised later lands in its
own month and nothing is counted twice). A finding decided alone is a case of its own.

Two figures are states at the period's end, not flows: ``open_cases`` (cases opened by then and
not closed, :meth:`CaseState.is_open`) and ``overdue_rectifications`` (rectifications due on or
before the end and not rectified by then, of cases not dismissed by then).

A county (``--county``) is the institution's ``medins.admdvs``, given as ``counties``
(``{fixmedins_code: admdvs}``: the data folder's ``medins``, then the county a lottery draw
recorded with its inspection). A case counts in a county when one of its institutions is there;
institutions no source places are listed as ``unplaced_institutions`` and counted in no county.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
from decimal import Decimal

from ..errors import CaseError
from .chain import yuan
from .lifecycle import case_state, parse_day

FLOW_ACTIONS = ("suspend", "terminate", "fine", "recover", "expose", "refer", "interview")
DECIDE_ACTIONS = {"suspend": "suspend", "terminate": "terminate", "fine": "fine", "refer_police": "refer",
                  "refer_discipline": "refer"}
KEYS = ["inspected_institutions", "inspections", "cases_opened", "suspended_institutions", "terminated_institutions",
        "fined_institutions", "fine_amount", "recovered_amount", "exposed_cases", "referred_cases", "interviews",
        "interviewed_institutions", "open_cases", "overdue_rectifications"]
ZH = {"inspected_institutions": "检查定点医药机构（家）", "inspections": "检查（次）", "cases_opened": "新立案件（例）",
      "suspended_institutions": "暂停医保协议（家）", "terminated_institutions": "解除医保协议（家）",
      "fined_institutions": "行政罚款（家）", "fine_amount": "罚款金额（元）", "recovered_amount": "追回基金（元）",
      "exposed_cases": "曝光典型案例（例）", "referred_cases": "移送案件（例）", "interviews": "约谈（次）",
      "interviewed_institutions": "约谈机构（家）", "open_cases": "期末在办案件（例）",
      "overdue_rectifications": "期末逾期未整改（项）"}
MONEY = ("fine_amount", "recovered_amount")


# --------------------------------------------------------------------------- facts from events
def facts(case_events, decision_events) -> list:
    """The dated facts of the store: one dict per inspection, case action or decision change.

    Each fact: ``what`` (``inspection``, ``open`` or an action of :data:`FLOW_ACTIONS`), ``on``
    (``YYYY-MM-DD``), ``case`` (a case id, ``finding:ID`` for a decision, None for an
    inspection), ``institutions`` (codes), ``fen`` (money, 0 when none), ``rules`` (rule ids of
    the case's findings).
    """
    out, opened = [], {}
    for e in case_events:
        if e["kind"] == "inspection":
            out.append(_fact("inspection", e["on"], None, [e["subject"]]))
        elif e["kind"] == "open":
            d = e["data"]
            opened[e["subject"]] = (d["institutions"], sorted({f["rule_id"] for f in d.get("findings", []) if f.get("rule_id")}))
            out.append(_fact("open", e["on"], e["subject"], *opened[e["subject"]]))
        elif e["kind"] == "act" and e["data"]["action"] in FLOW_ACTIONS and e["subject"] in opened:
            out.append(_fact(e["data"]["action"], e["on"], e["subject"], *opened[e["subject"]],
                             fen=e["data"].get("amount_fen") or 0))
    counted = {}  # finding_id -> (actions counted, recovered fen counted, fine fen counted)
    for e in decision_events:
        if e["status"] != "confirmed":
            continue
        fid, snap = e["finding_id"], e["finding"] or {}
        insts = [snap["fixmedins_code"]] if snap.get("fixmedins_code") else []
        rules = [snap["rule_id"]] if snap.get("rule_id") else []
        day, case = e["at"][:10], f"finding:{fid}"
        done, rec, fine = counted.get(fid, (set(), 0, 0))
        names = {a["action"] for a in e["actions"]}
        for name in sorted(names - done):
            if DECIDE_ACTIONS[name] != "fine":  # the fine's money (and its 家) come with its amount below
                out.append(_fact(DECIDE_ACTIONS[name], day, case, insts, rules))
        new_fine = sum(int(a.get("amount_fen") or 0) for a in e["actions"] if a["action"] == "fine")
        if new_fine != fine:
            out.append(_fact("fine", day, case, insts, rules, fen=new_fine - fine))
        new_rec = int(e["recovered_fen"] or 0)
        if new_rec != rec:
            out.append(_fact("recover", day, case, insts, rules, fen=new_rec - rec))
        counted[fid] = (done | names, new_rec, new_fine)
    return sorted(out, key=lambda f: (f["on"], f["what"], str(f["case"])))


def _fact(what, on, case, institutions, rules=(), fen=0):
    return {"what": what, "on": on, "case": case, "institutions": list(institutions), "fen": int(fen), "rules": list(rules)}


# --------------------------------------------------------------------------- counting
def period_bounds(date_from, date_to):
    """``(from, to)`` as ``YYYY-MM-DD``; a CaseError when ``to`` is before ``from``."""
    lo, hi = parse_day(date_from, "--from"), parse_day(date_to, "--to")
    if hi < lo:
        raise CaseError(f"--to {hi} is before --from {lo}")
    return lo, hi


def count(flow, states, date_from, date_to, keep=None) -> dict:
    """The figures of :data:`KEYS` from ``flow`` (facts) and ``states`` (``{case_id: events}``).

    ``keep(institutions) -> bool`` restricts to facts and cases about some institutions (a
    county); institutions counted are then only those ``keep([code])`` accepts.
    """
    keep = keep or (lambda insts: True)
    live = [f for f in flow if date_from <= f["on"] <= date_to and keep(f["institutions"])]

    def insts(*whats):
        return len({i for f in live if f["what"] in whats for i in f["institutions"] if keep([i])})

    def cases(what):
        return len({f["case"] for f in live if f["what"] == what})

    money = {w: sum(f["fen"] for f in live if f["what"] == w) for w in ("fine", "recover")}
    fines = {}
    for f in live:
        if f["what"] == "fine":
            for i in f["institutions"]:
                fines[i] = fines.get(i, 0) + f["fen"]
    open_n = overdue = 0
    for cid, evs in states.items():
        st = case_state(evs, as_of=date_to)
        if not st.opened_on or not keep(st.institutions):
            continue
        open_n += st.is_open()
        if not st.dismissed_on:
            overdue += sum(1 for r in st.rectifications if r["done_on"] is None and r["due"] <= date_to)
    return {
        "inspected_institutions": insts("inspection"), "inspections": sum(f["what"] == "inspection" for f in live),
        "cases_opened": cases("open"), "suspended_institutions": insts("suspend"),
        "terminated_institutions": insts("terminate"),
        # a fine corrected to nothing in the period does not make the institution fined
        "fined_institutions": len({i for i, fen in fines.items() if fen > 0 and keep([i])}),
        "fine_amount": yuan(money["fine"]), "recovered_amount": yuan(money["recover"]),
        "exposed_cases": cases("expose"), "referred_cases": cases("refer"),
        "interviews": sum(f["what"] == "interview" for f in live), "interviewed_institutions": insts("interview"),
        "open_cases": open_n, "overdue_rectifications": overdue,
    }


def months(date_from, date_to) -> list:
    """``[(YYYY-MM, first day, last day)]`` of the months a period touches, clipped to the period."""
    out, d = [], _dt.date.fromisoformat(date_from[:7] + "-01")
    end = _dt.date.fromisoformat(date_to)
    while d <= end:
        nxt = _dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        last = nxt - _dt.timedelta(days=1)
        out.append((d.isoformat()[:7], max(d.isoformat(), date_from), min(last, end).isoformat()))
        d = nxt
    return out


class Outcomes:
    """The period figures of one store's events.

    Parameters
    ----------
    case_events : list of dict
        :meth:`CaseStore.case_events` (kinds ``open``, ``act``, ``inspection``).
    decision_events : list of dict
        :meth:`CaseStore.events` (decisions on findings).
    counties : dict, optional
        ``{fixmedins_code: admdvs}``; inspection events that recorded an ``admdvs`` (from a
        lottery draw) fill in institutions it does not place.
    """

    def __init__(self, case_events, decision_events=(), counties=None):
        self.flow = facts(case_events, decision_events)
        self.states = {}
        for e in case_events:
            if e["kind"] in ("open", "act"):
                self.states.setdefault(e["subject"], []).append(e)
        self.counties = {}
        for e in case_events:
            if e["kind"] == "inspection" and (e["data"] or {}).get("admdvs"):
                self.counties.setdefault(e["subject"], str(e["data"]["admdvs"]))
        self.counties.update({str(k): str(v) for k, v in (counties or {}).items() if v is not None})

    @classmethod
    def of_store(cls, store, counties=None) -> "Outcomes":
        """The outcomes of a :class:`~workbench.cases.store.CaseStore`."""
        return cls(store.case_events(kinds=("open", "act", "inspection")), store.events(), counties)

    def years(self) -> list:
        """The years with a fact, newest first (for a period picker)."""
        return sorted({int(f["on"][:4]) for f in self.flow}, reverse=True)

    def _keep(self, county):
        if county is None:
            return None
        county = str(county)
        return lambda insts: any(self.counties.get(i) == county for i in insts)

    def institutions(self, date_from, date_to) -> set:
        """Institutions with a fact in the period or a case open at its end."""
        out = {i for f in self.flow if date_from <= f["on"] <= date_to for i in f["institutions"]}
        for evs in self.states.values():
            st = case_state(evs, as_of=date_to)
            if st.opened_on and st.is_open():
                out.update(st.institutions)
        return out

    def figures(self, date_from, date_to, county=None) -> dict:
        """The figures of a period (:data:`KEYS`, money as Decimal yuan), plus ``from``, ``to``,
        ``county`` and ``unplaced_institutions`` (codes of the period's institutions no county
        source places; with ``county`` given they are counted nowhere)."""
        lo, hi = period_bounds(date_from, date_to)
        figs = count(self.flow, self.states, lo, hi, self._keep(county))
        unplaced = sorted(i for i in self.institutions(lo, hi) if i not in self.counties)
        return {"from": lo, "to": hi, "county": None if county is None else str(county), **figs,
                "unplaced_institutions": unplaced}

    def by_month(self, date_from, date_to, county=None) -> list:
        """One dict per month of the period (flows in the month, states at its end)."""
        lo, hi = period_bounds(date_from, date_to)
        return [{"month": m, **count(self.flow, self.states, a, b, self._keep(county))} for m, a, b in months(lo, hi)]

    def by_county(self, date_from, date_to) -> list:
        """One dict per county with a fact or an open case in the period (``admdvs`` None last: unplaced)."""
        lo, hi = period_bounds(date_from, date_to)
        insts = self.institutions(lo, hi)
        codes = sorted({self.counties[i] for i in insts if i in self.counties})
        rows = [{"admdvs": c, **count(self.flow, self.states, lo, hi, self._keep(c))} for c in codes]
        unplaced = {i for i in insts if i not in self.counties}
        if unplaced:
            rows.append({"admdvs": None, **count(self.flow, self.states, lo, hi,
                                                  lambda xs: any(i in unplaced for i in xs))})
        return rows

    def by_rule(self, date_from, date_to, county=None) -> list:
        """Per rule of the cases' findings: cases handled, institutions, recovered and fined money in
        the period (a case of several rules counts under each of them)."""
        lo, hi = period_bounds(date_from, date_to)
        keep = self._keep(county) or (lambda insts: True)
        live = [f for f in self.flow if lo <= f["on"] <= hi and f["case"] and keep(f["institutions"])]
        rows = {}
        for f in live:
            for r in f["rules"]:
                row = rows.setdefault(r, {"rule_id": r, "cases": set(), "institutions": set(), "recover": 0, "fine": 0})
                if f["what"] != "open":
                    row["cases"].add(f["case"])
                    row["institutions"].update(f["institutions"])
                if f["what"] in ("recover", "fine"):
                    row[f["what"]] += f["fen"]
        out = [{"rule_id": r["rule_id"], "cases": len(r["cases"]), "institutions": len(r["institutions"]),
                "recovered_amount": yuan(r["recover"]), "fine_amount": yuan(r["fine"])}
               for r in rows.values() if r["cases"]]
        return sorted(out, key=lambda r: (-(r["recovered_amount"] + r["fine_amount"]), -r["cases"], r["rule_id"]))


def period_figures(store, date_from, date_to, county=None, counties=None) -> dict:
    """The figures of ``workbench briefing --json`` for a store (see :class:`Outcomes`)."""
    return Outcomes.of_store(store, counties).figures(date_from, date_to, county)


def as_json_ready(value):
    """``value`` with Decimal money as exact text marked for :func:`json_text` (a JSON number)."""
    if isinstance(value, Decimal):
        return f"\x00{value}"
    if isinstance(value, dict):
        return {k: as_json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_json_ready(v) for v in value]
    return value


def json_text(value, indent=2) -> str:
    """JSON with Decimal money written as exact numbers (``24001.00``), not floats or strings."""
    text = json.dumps(as_json_ready(value), ensure_ascii=False, indent=indent)
    return re.sub(r'"\\u0000(-?[0-9]+\.[0-9]+)"', r"\1", text)


# --------------------------------------------------------------------------- periods and the worklist
PERIOD_KINDS = ("year", "quarter", "month", "ytd")  # 全年, 季度, 月, 1—N月
_QUARTER_ZH = "一二三四"


def period_range(year, kind="year", n=None) -> tuple:
    """``(from, to, 中文名)`` of a period a bureau reports on.

    ``kind``: ``year`` (全年), ``quarter`` (``n`` 1–4), ``month`` (``n`` 1–12) or ``ytd``
    (1—``n`` 月: from 1 January to the end of month ``n``).
    """
    try:
        year = int(year)
        n = None if n is None else int(n)
    except (TypeError, ValueError):
        raise CaseError(f"period: year {year!r} and number {n!r} must be whole numbers") from None
    if not 1900 <= year <= 9999 or kind not in PERIOD_KINDS:
        raise CaseError(f"period: year {year} (1900-9999) and kind {kind!r} (one of {', '.join(PERIOD_KINDS)})")
    limit = {"year": None, "quarter": 4, "month": 12, "ytd": 12}[kind]
    if limit and not (n is not None and 1 <= n <= limit):
        raise CaseError(f"period: {kind} needs a number from 1 to {limit}, not {n!r}")

    def end_of(month):
        nxt = _dt.date(year + (month == 12), month % 12 + 1, 1)
        return (nxt - _dt.timedelta(days=1)).isoformat()

    if kind == "year":
        return f"{year}-01-01", f"{year}-12-31", f"{year}年全年"
    if kind == "quarter":
        return f"{year}-{3 * n - 2:02d}-01", end_of(3 * n), f"{year}年第{_QUARTER_ZH[n - 1]}季度"
    if kind == "month":
        return f"{year}-{n:02d}-01", end_of(n), f"{year}年{n}月"
    return f"{year}-01-01", end_of(n), f"{year}年1—{n}月"


def worklist(store, today=None) -> list:
    """Open cases with what they wait for, overdue first (清零: none overdue), then by deadline.

    One dict per open case on ``today`` (default today): ``case_id``, ``institutions``, ``source``,
    ``opened_on``, ``next_deadline`` (earliest due date pending, or None), ``waiting`` (``rectify``
    / ``appeal`` of that deadline, or ``verify`` / ``handle`` when nothing is due), ``overdue_days``
    (days past the deadline, 0 when not overdue), ``last_action`` and ``last_on``.
    """
    today = parse_day(today, "today")
    by_case = {}
    for e in store.case_events(kinds=("open", "act")):
        by_case.setdefault(e["subject"], []).append(e)
    rows = []
    for cid, evs in by_case.items():
        st = case_state(evs, as_of=today)
        if not st.opened_on or not st.is_open():
            continue
        pending = sorted((d, what) for d, what in st.pending() if d)
        due, waiting = pending[0] if pending else (None, "verify" if not st.verified else "handle")
        if not pending and st.pending():
            waiting = st.pending()[0][1]
        late = (_dt.date.fromisoformat(today) - _dt.date.fromisoformat(due)).days if due and due < today else 0
        last = st.actions[-1] if st.actions else None
        rows.append({"case_id": cid, "institutions": list(st.institutions), "source": st.source,
                     "opened_on": st.opened_on, "next_deadline": due, "waiting": waiting, "overdue_days": late,
                     "last_action": last["data"]["action"] if last else "open", "last_on": last["on"] if last else st.opened_on})
    return sorted(rows, key=lambda r: (-r["overdue_days"], r["next_deadline"] or "9999-99-99", r["case_id"]))
