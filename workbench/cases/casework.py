"""Cases from any lead, their steps, and inspections: the writing side of issue 19.

Each function appends one event to the case store's hash chain (:meth:`CaseStore.append`); the
check of what may follow (:mod:`workbench.cases.lifecycle`) runs inside the same write
transaction, so two auditors acting on one case at once cannot both close the same
rectification or both terminate an agreement.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from ..errors import CaseError
from ..rules.loader import fraud_rule_ids
from .chain import finding_snapshot, to_fen
from .lifecycle import SOURCES, case_state, check_action, parse_day
from .store import CaseStore

INSPECTION_KINDS = {"lottery": "双随机抽查", "flying": "飞行检查", "campaign": "专项检查", "cross": "交叉检查",
                    "revisit": "回头看", "routine": "日常检查"}
_CODE = re.compile(r"^[^\s,;]{1,64}$")


def _code(value, what="institution") -> str:
    s = str(value or "").strip()
    if not _CODE.match(s):
        raise CaseError(f"{what} {value!r}: give a code (no spaces, commas or semicolons, at most 64 characters)")
    return s


def _not_future(day, what):
    today = parse_day(None)
    if day > today:
        raise CaseError(f"{what} {day} is in the future: --on is the date it happened")
    return day


def open_case(store: CaseStore, institutions, source, by, findings=(), run=None, on=None, note=None) -> dict:
    """Open a case from a lead; return its ``open`` event (``subject`` is the new case id).

    Parameters
    ----------
    institutions : str or list of str
        The institution (``fixmedins_code``), or a ring's member institutions.
    source : str
        One of :data:`workbench.cases.lifecycle.SOURCES` (``rule``, ``tipoff``, ``rings`` …).
    findings : list of str, optional
        Finding ids the case bundles, read from ``run`` (a run folder) or, when no run is given,
        from a decision already in the store; each must be of one of the institutions.
    on : str, optional
        The day the lead came in (default today). The case id is ``C{year}-{n:04d}``.
    """
    insts = [institutions] if isinstance(institutions, str) else list(institutions or [])
    insts = sorted({_code(c) for i in insts for c in str(i).split(",") if c.strip()} or {_code("")})
    if source not in SOURCES:
        raise CaseError(f"source {source!r}: one of {', '.join(SOURCES)}")
    if len(insts) > 1 and source != "rings":
        raise CaseError(f"a case is about one institution; several ({', '.join(insts)}) only for a ring (--source rings)")
    day = _not_future(parse_day(on, "--on"), "--on")
    fraud = set(fraud_rule_ids())
    snaps = []
    for fid in dict.fromkeys(findings or ()):
        if run is not None:
            snap = finding_snapshot(run, fid)
        else:
            state = store.state(fid)
            if state is None or not state.get("finding"):
                raise CaseError(f"finding {fid!r} is in no decision of the store and no --run was given: "
                                "give --run RUN, the run folder the finding is in")
            snap = state["finding"]
        if snap.get("fixmedins_code") and snap["fixmedins_code"] not in insts:
            raise CaseError(f"finding {fid} is of institution {snap['fixmedins_code']}, not of {', '.join(insts)}")
        snaps.append({"finding_id": fid, **snap, "fraud": snap.get("rule_id") in fraud})

    def make(con, _earlier):
        year = day[:4]
        n = con.execute("SELECT COUNT(*) FROM case_events WHERE kind = 'open' AND subject LIKE ?",
                        (f"C{year}-%",)).fetchone()[0]
        return f"C{year}-{n + 1:04d}", {"institutions": insts, "source": source, "findings": snaps}

    return store.append("open", None, day, by, note, make)


def act(store: CaseStore, case_id, action, by, on=None, amount=None, due=None, until=None, to=None, doctor=None,
        points=None, article=None, note=None, today=None) -> dict:
    """Record a step or an action on a case (see :mod:`workbench.cases.lifecycle`); return the event."""
    cid = _code(case_id, "case")
    day = parse_day(on, "--on")
    fields = {"amount_fen": to_fen(amount, "--amount"), "due": None if due is None else parse_day(due, "--due"),
              "until": None if until is None else parse_day(until, "--until"), "to": to,
              "doctor": None if doctor is None else _code(doctor, "--doctor"), "points": points,
              "article": None if article is None else int(article)}

    def make(_con, earlier):
        data = check_action(case_state(earlier, case_id=cid), action, day, fields, today=today)
        return cid, data

    return store.append("act", cid, day, by, note, make)


def record_inspection(store: CaseStore, institution, kind, on, by, note=None, admdvs=None, draw=None) -> dict:
    """Record that an institution was inspected on a day (``kind``: :data:`INSPECTION_KINDS`)."""
    code = _code(institution)
    if kind not in INSPECTION_KINDS:
        raise CaseError(f"inspection kind {kind!r}: one of {', '.join(INSPECTION_KINDS)}")
    day = _not_future(parse_day(on, "--on"), "--on")
    data = {"kind": kind, "admdvs": admdvs, "draw": draw}
    return store.append("inspection", code, day, by, note, lambda _con, _earlier: (code, data))


def record_draw_inspections(store: CaseStore, draw_path, on, by, note=None) -> list:
    """Record the inspection of every institution a published lottery draw drew (kind ``lottery``).

    The draw is read as the JSON record it is (the lottery package builds on cases, for agreement
    status and credit, so cases does not import it); each event keeps the draw's SHA-256.
    """
    path = Path(draw_path)
    try:
        raw = path.read_bytes()
        teams = json.loads(raw.decode("utf-8"))["teams"]
        drawn = [(t["fixmedins_code"], t.get("admdvs")) for t in teams]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise CaseError(f"{path}: not a lottery draw record ({e})") from None
    sha = hashlib.sha256(raw).hexdigest()
    _not_future(parse_day(on, "--on"), "--on")
    return [record_inspection(store, code, "lottery", on, by, note=note, admdvs=adm, draw=sha) for code, adm in drawn]


def cases(store: CaseStore, as_of=None) -> dict:
    """Every case's state on ``as_of`` (default: all events): ``{case_id: CaseState}``."""
    by_case = {}
    for e in store.case_events(kinds=("open", "act")):
        by_case.setdefault(e["subject"], []).append(e)
    return {cid: case_state(evs, as_of) for cid, evs in sorted(by_case.items())}


def agreement_exclusions(store: CaseStore, day) -> dict:
    """Institutions whose agreement is suspended or terminated on ``day``: ``{code: why}``.

    A suspension counts from its ``--on`` to its ``--until`` (both included), a termination
    from its ``--on``; the lottery leaves these out of its candidates on that day.
    """
    day = parse_day(day, "date")
    out = {}
    for cid, st in cases(store, as_of=day).items():
        why = None
        if st.terminated_on:
            why = f"terminated {st.terminated_on} ({cid})"
        else:
            terms = [(a, b) for a, b in st.suspended if a <= day <= b]
            if terms:
                why = f"suspended {terms[-1][0]}…{terms[-1][1]} ({cid})"
        for code in st.institutions if why else ():
            out.setdefault(code, why)
    return dict(sorted(out.items()))
