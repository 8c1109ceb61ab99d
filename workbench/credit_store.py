"""Credit from the case store: what the cases established feeds :mod:`workbench.credit` (issue 19, item 4).

:func:`store_findings` turns the store into the decisions frame :func:`workbench.credit.credit_report`
reads:

* every decided finding (``case decide``), as before: confirmed ones count from their decision;
* every **confirmed case**: its findings (a lead without findings: one row ``case:CID``, the
  money recovered as its amount) count for the case's institutions from the day the violation
  was established — its ``confirm``, else the first handling action of a verified case (约谈,
  追回, 罚款, 暂停 …); a dismissed case counts nothing. A finding both decided and in a case
  counts once, from the earlier day. A case's findings deduct no doctor points by the policy:
  the case records the doctor's points itself;
* every ``doctor_points`` action: the points, for that doctor, on its ``--on`` day (they are the
  doctor's record, not one more finding of the institution).

信用修复 (credit repair) and 异议 (objection) are events of the same hash chain (kind
``credit``, subject the institution or doctor code): ``workbench credit repair`` — from its day,
what came before no longer counts for that institution or doctor; ``workbench credit object``
— an objection lodged (pending), and later its outcome: ``upheld`` drops the finding or case it
names (``--ref``) from that party's record, ``rejected`` changes nothing.
"""
from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd

from .cases import CaseStore
from .cases.casework import _code, _not_future
from .cases.chain import yuan
from .cases.lifecycle import FINAL, case_state, parse_day
from .credit import FINDING_COLUMNS, STATUS_ZH, credit_report
from .errors import CaseError

PARTIES = ("institution", "doctor")
OUTCOMES = ("upheld", "rejected")


def record_credit(store: CaseStore, party, code, action, on, by, ref=None, outcome=None, note=None) -> dict:
    """Record a 信用修复 (``action="repair"``) or an 异议 (``action="objection"``) of an institution or
    doctor; return the event. An objection's ``outcome`` (``upheld`` / ``rejected``) closes the
    earliest pending objection of the party (naming the same ``ref`` when given)."""
    if party not in PARTIES:
        raise CaseError(f"credit: give --institution CODE or --doctor DR_CODE (party {party!r})")
    if action not in ("repair", "objection"):
        raise CaseError(f"credit action {action!r}: repair or objection")
    if outcome is not None and (action != "objection" or outcome not in OUTCOMES):
        raise CaseError(f"--outcome {outcome!r}: an objection's outcome, {' or '.join(OUTCOMES)}")
    code = _code(code, f"--{party}")
    day = _not_future(parse_day(on, "--on"), "--on")
    data = {"party": party, "action": action, "ref": ref, "outcome": outcome}

    def make(_con, earlier):
        if outcome is not None:
            pending = objections(earlier)
            match = [o for o in pending if o["outcome"] is None and o["party"] == party and (ref is None or o["ref"] == ref)]
            if not match:
                raise CaseError(f"{party} {code}: no pending objection{f' about {ref}' if ref else ''} to decide "
                                "(record the objection first, without --outcome)")
            data["objection"] = match[0]["seq"]
            data["ref"] = match[0]["ref"]
        return code, data

    return store.append("credit", code, day, by, note, make)


def objections(events) -> list:
    """The objections among credit events, oldest first: ``{seq, party, code, on, ref, outcome, decided_on}``."""
    out, by_seq = [], {}
    for e in events:
        if e["kind"] != "credit" or e["data"]["action"] != "objection":
            continue
        d = e["data"]
        if d.get("outcome") is None:
            o = {"seq": e["seq"], "party": d["party"], "code": e["subject"], "on": e["on"], "ref": d.get("ref"),
                 "outcome": None, "decided_on": None}
            out.append(o)
            by_seq[e["seq"]] = o
        elif d.get("objection") in by_seq:
            by_seq[d["objection"]].update(outcome=d["outcome"], decided_on=e["on"])
    return out


def store_findings(store: CaseStore, as_of=None) -> pd.DataFrame:
    """The decisions frame of :func:`workbench.credit.credit_report` (``FINDING_COLUMNS`` plus
    ``points``) from everything the store holds up to ``as_of`` (see the module docstring)."""
    as_of = parse_day(as_of, "--as-of")
    cur = store.current()
    rows = [{**{k: r[k] for k in FINDING_COLUMNS}, "decided_at": str(r["decided_at"])[:10], "points": None}
            for r in cur.to_dict("records")]
    decided = {r["finding_id"]: r for r in rows}
    by_case = {}
    for e in store.case_events(kinds=("open", "act")):
        by_case.setdefault(e["subject"], []).append(e)
    for cid, evs in sorted(by_case.items()):
        st = case_state(evs, as_of=as_of)
        if not st.opened_on:
            continue
        for a in st.done("doctor_points"):
            d = a["data"]
            rows.append({"finding_id": f"{cid}#{a['seq']}", "rule_id": None, "result_type": "violation",
                         "fixmedins_code": st.institutions[0], "dr_code": d["doctor"], "amount_at_risk": None,
                         "decided_at": a["on"], "status": "confirmed", "points": d["points"]})
        day = established(st)
        if day is None or st.dismissed_on:
            continue
        found = st.findings or [{"finding_id": f"case:{cid}", "rule_id": None, "result_type": "violation",
                                 "fixmedins_code": None, "amount_at_risk": str(yuan(st.recovered_fen))}]
        for f in found:
            for inst in ([f["fixmedins_code"]] if f.get("fixmedins_code") else st.institutions):
                fid = f["finding_id"]
                if fid in decided and decided[fid]["status"] == "confirmed":
                    decided[fid]["decided_at"] = min(decided[fid]["decided_at"], day)
                    continue
                rows.append({"finding_id": fid, "rule_id": f.get("rule_id"), "result_type": f.get("result_type"),
                             "fixmedins_code": inst, "dr_code": None, "amount_at_risk": f.get("amount_at_risk"),
                             "decided_at": day, "status": "confirmed", "points": None})
    frame = pd.DataFrame(rows, columns=FINDING_COLUMNS + ["points"])
    return _after_repairs(frame, store.case_events(kinds="credit"), as_of)


def established(st):
    """The day a case's violation was established: its ``confirm``, else the first handling action of a
    verified case; None when not (yet)."""
    if st.confirmed_on:
        return st.confirmed_on
    handled = [a["on"] for a in st.actions if a["data"]["action"] in FINAL]
    return min(handled) if st.verified and handled else None


def _after_repairs(frame, credit_events, as_of) -> pd.DataFrame:
    """Take out of one party's record what a repair wiped (before its day) and what an upheld
    objection named: the row leaves the institution's record (its doctor's stays) or the doctor's."""
    frame = frame.copy()
    for e in credit_events:
        if e["on"] > as_of:
            continue
        d = e["data"]
        col = "fixmedins_code" if d["party"] == "institution" else "dr_code"
        ref = d.get("ref")
        for i, (who, day, fid) in enumerate(zip(frame[col], frame["decided_at"], frame["finding_id"])):
            if who != e["subject"]:
                continue
            if (d["action"] == "repair" and str(day)[:10] < e["on"]) or (
                    d.get("outcome") == "upheld" and ref and (fid == ref or str(fid).startswith(f"{ref}#")
                                                             or fid == f"case:{ref}")):
                frame.iat[i, frame.columns.get_loc(col)] = None
    return frame.reset_index(drop=True)


def store_credit(home=None, as_of=None, data=None, policy=None):
    """The :class:`workbench.credit.CreditReport` of a workbench home's cases on ``as_of`` (default today)."""
    day = parse_day(as_of, "--as-of")
    store = CaseStore(home)
    return credit_report(store_findings(store, day), data=data, policy=policy, as_of=day)


def store_classes(home=None, as_of=None) -> dict:
    """``{fixmedins_code: class}`` of the institutions the store has a record of on ``as_of`` (what the
    lottery draws with when no other credit is given; an institution without a record is ``B``)."""
    store = CaseStore(home)
    if not store.path.is_file():
        return {}
    return store_credit(home, as_of).classes()


def _money(v):
    return None if v is None or (not isinstance(v, (str, Decimal)) and pd.isna(v)) else str(v)


def register(cr) -> None:
    """Declare the options of ``workbench credit`` on its parser (``workbench.cli`` assembles them)."""
    cr.add_argument("--as-of", default=None, metavar="DATE", help="the day (default today)")
    cr.add_argument("--data", default=None, metavar="DATA", help="data folder: every institution, peer rates, fund share")
    cr.add_argument("--json", action="store_true")
    cr.add_argument("--home", default=None, metavar="DIR")
    crs = cr.add_subparsers(dest="sub", metavar="ACTION")
    for name, helptext in [("repair", "record a 信用修复: what came before no longer counts"),
                           ("object", "record an 异议 (objection), or its outcome with --outcome")]:
        s = crs.add_parser(name, help=helptext)
        s.add_argument("--institution", default=None, metavar="CODE")
        s.add_argument("--doctor", default=None, metavar="DR_CODE")
        s.add_argument("--by", required=True, metavar="NAME")
        s.add_argument("--on", default=None, metavar="DATE", help="the date it happened (default today)")
        if name == "object":
            s.add_argument("--ref", default=None, metavar="FINDING_ID|CASE", help="the finding or case objected to")
            s.add_argument("--outcome", default=None, choices=["upheld", "rejected"],
                           help="decide the pending objection: upheld drops what it names from the record")
        s.add_argument("--note", default=None)
        s.add_argument("--home", default=None, metavar="DIR")


def cli_credit(args) -> int:
    """``workbench credit [--as-of DATE] [--data DATA] [--json]``: doctors and institutions, points and class."""
    home = getattr(args, "home", None)
    rep = store_credit(home, args.as_of, data=args.data)
    store = CaseStore(home)
    objs = objections(store.case_events(kinds="credit"))
    repairs = [{"party": e["data"]["party"], "code": e["subject"], "on": e["on"]}
               for e in store.case_events(kinds="credit") if e["data"]["action"] == "repair" and e["on"] <= str(rep.as_of)]
    docs = [{"dr_code": r["dr_code"], "fixmedins_code": r["fixmedins_code"], "year": int(r["year"]),
             "points": int(r["points"]), "remaining": int(r["remaining"]), "status": r["status"],
             "status_zh": STATUS_ZH[r["status"]]} for r in rep.doctor_current.to_dict("records")]
    insts = [{"fixmedins_code": r["fixmedins_code"], "credit_class": r["credit_class"], "since": _day(r["since"]),
              "findings": int(r["findings"]), "amount_at_risk": _money(r["amount_at_risk"]), "reason": r["reason"]}
             for r in rep.institution_current.to_dict("records")]
    if args.json:
        print(json.dumps({"as_of": str(rep.as_of), "doctors": docs, "institutions": insts, "repairs": repairs,
                          "objections": [o for o in objs if o["on"] <= str(rep.as_of)]}, ensure_ascii=False, indent=2))
        return 0
    print(f"credit as of {rep.as_of}: {len(docs)} doctor(s), {len(insts)} institution(s)")
    for d in docs:
        print(f"  doctor {d['dr_code']} ({d['fixmedins_code']}): {d['points']} points in {d['year']}, "
              f"{d['remaining']} left — {d['status']} {d['status_zh']}")
    for i in insts:
        print(f"  institution {i['fixmedins_code']}: class {i['credit_class']} — {i['reason']}")
    pending = [o for o in objs if o["outcome"] is None]
    if pending:
        print(f"  {len(pending)} objection(s) pending: " + ", ".join(f"{o['party']} {o['code']}" for o in pending))
    return 0


def _day(v):
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)[:10]


def cli_record(args) -> int:
    """``workbench credit repair|object --institution CODE | --doctor DR_CODE --by NAME --on DATE``."""
    if bool(args.institution) == bool(args.doctor):
        raise CaseError("give exactly one of --institution CODE and --doctor DR_CODE")
    party, code = ("institution", args.institution) if args.institution else ("doctor", args.doctor)
    action = "repair" if args.sub == "repair" else "objection"
    e = record_credit(CaseStore(getattr(args, "home", None)), party, code, action, args.on, args.by,
                      ref=getattr(args, "ref", None), outcome=getattr(args, "outcome", None), note=args.note)
    d = e["data"]
    what = {"repair": "信用修复 credit repair", "objection": "异议 objection"}[action]
    print(f"{party} {code}: {what}" + (f" {d['outcome']}" if d.get("outcome") else "")
          + (f" about {d['ref']}" if d.get("ref") else "") + f" on {e['on']} — event {e['seq']}, hash {e['hash'][:16]}")
    return 0
