"""``workbench case …``: the command-line handlers of the case store."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd

from ..errors import CaseError
from ..exposure import institution_names, notice_html
from . import casework
from .chain import ACTIONS, STATUS_ZH, finding_snapshot, yuan
from .lifecycle import CASE_ACTIONS, REFER_TO, SOURCES
from .store import CaseStore


def cli_decide(args) -> int:
    """``workbench case decide``: record a decision (``--action`` adds to the finding's actions)."""
    store = CaseStore(getattr(args, "home", None))
    finding = finding_snapshot(args.run, args.finding_id) if getattr(args, "run", None) else None
    if finding is None and not store.events([args.finding_id]):
        # A first decision must name the run the finding is in (a mistyped id would otherwise open
        # a case about nothing); later ones may leave it out: the trail holds the finding.
        raise CaseError(f"finding {args.finding_id!r} has no decision yet and no --run was given: "
                        "give --run RUN, the run folder the finding is in")
    e = store.decide(args.finding_id, args.status, args.by, note=args.note, recovered=args.recovered,
                     add_actions=getattr(args, "action", None), fine=getattr(args, "fine", None), finding=finding)
    extra = [f"recovered ¥{yuan(e['recovered_fen'])}"] if e["recovered_fen"] is not None else []
    if e["actions"]:
        extra.append("actions " + ", ".join(f"{a['action']} {ACTIONS[a['action']]}" for a in e["actions"]))
    print(f"{e['finding_id']}: {e['status']} ({STATUS_ZH[e['status']]}) by {e['by']}"
          + (f"; {'; '.join(extra)}" if extra else "") + f" — event {e['seq']}, hash {e['hash'][:16]}")
    return 0


def cli_list(args) -> int:
    """``workbench case list [--json]``: the current state of every decided finding."""
    cur = CaseStore(getattr(args, "home", None)).current()
    if getattr(args, "json", False):
        recs = [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in r.items()} for r in cur.to_dict("records")]
        print(json.dumps(recs, ensure_ascii=False, indent=2))
        return 0
    if not len(cur):
        print("no decisions recorded")
        return 0
    cols = ["finding_id", "status", "decided_at", "decided_by", "rule_id", "fixmedins_code", "amount_at_risk",
            "recovered", "actions", "note"]
    print(format_table(cur, cols))
    return 0


def format_table(df, cols) -> str:
    """A plain text table (columns padded by display width, CJK counted double)."""
    def text(v):
        s = "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v).replace("\n", " ")
        return s if len(s) <= 40 else s[:39] + "…"

    def width(s):
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)

    cells = [[c for c in cols]] + [[text(v) for v in row] for row in df[cols].itertuples(index=False)]
    widths = [max(width(r[i]) for r in cells) for i in range(len(cols))]
    return "\n".join("  ".join(s + " " * (w - width(s)) for s, w in zip(r, widths)).rstrip() for r in cells)


def cli_verify(args) -> int:
    """``workbench case verify``: exit 0 when the audit trail is intact, 1 naming each break."""
    result = CaseStore(getattr(args, "home", None)).verify()
    print(result.report())
    return 0 if result.ok else 1


def cli_open(args) -> int:
    """``workbench case open``: open a case from a lead; the case id is the last line printed."""
    store = CaseStore(getattr(args, "home", None))
    e = casework.open_case(store, args.institution, args.source, args.by, findings=args.finding or (), run=args.run,
                           on=args.on, note=args.note)
    d = e["data"]
    print(f"opened case {e['subject']} ({SOURCES[d['source']]}) about {', '.join(d['institutions'])} on {e['on']} "
          f"with {len(d['findings'])} finding(s) — event {e['seq']}, hash {e['hash'][:16]}")
    print(e["subject"])
    return 0


def cli_act(args) -> int:
    """``workbench case act CASE --action ACTION --by NAME …``: record a step or an action."""
    store = CaseStore(getattr(args, "home", None))
    notice_to = getattr(args, "notice", None)
    if notice_to and args.action != "expose":
        raise CaseError(f"--notice writes the public notice of an exposure (--action expose), not of {args.action}")
    names = institution_names(args.data) if notice_to and getattr(args, "data", None) else None
    e = casework.act(store, args.case, args.action, args.by, on=args.on, amount=args.amount, due=args.due,
                     until=args.until, to=args.to, doctor=args.doctor, points=args.points,
                     article=getattr(args, "article", None), note=args.note)
    d = e["data"]
    extra = [f"¥{yuan(d['amount_fen'])}"] if "amount_fen" in d else []
    extra += [f"{d['multiple']} times the loss, {d['article_zh']}"] if "multiple" in d else []
    extra += [f"due {d['due']}"] if d.get("due") else []
    extra += [f"until {d['until']}"] if d.get("until") else []
    extra += [f"to {d['to']} {REFER_TO[d['to']]}"] if d.get("to") else []
    extra += [f"doctor {d['doctor']} {d['points']} points"] if d.get("doctor") else []
    print(f"{e['subject']}: {d['action']} ({CASE_ACTIONS[d['action']]}) on {e['on']} by {e['by']}"
          + (f"; {'; '.join(extra)}" if extra else "") + f" — event {e['seq']}, hash {e['hash'][:16]}")
    if notice_to:
        path = Path(notice_to)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(notice_html(store, e["subject"], names=names), encoding="utf-8")
        print(f"wrote the public notice (曝光) {path}")
    return 0


def cli_inspection(args) -> int:
    """``workbench inspection record``: one institution, or every institution of a draw (``--draw``)."""
    store = CaseStore(getattr(args, "home", None))
    if args.draw:
        if args.kind != "lottery":
            raise CaseError(f"--draw records lottery inspections; --kind is {args.kind!r}")
        events = casework.record_draw_inspections(store, args.draw, args.on, args.by, note=args.note)
        if args.institution and args.institution not in {e["subject"] for e in events}:
            print(f"note: {args.institution} is not among the draw's institutions; not recorded")
    elif not args.institution:
        raise CaseError("give --institution CODE, or --draw DRAW.json for every institution of a draw")
    else:
        events = [casework.record_inspection(store, args.institution, args.kind, args.on, args.by, note=args.note)]
    for e in events:
        print(f"inspection of {e['subject']} ({casework.INSPECTION_KINDS[e['data']['kind']]}) on {e['on']} "
              f"by {e['by']} — event {e['seq']}")
    return 0
