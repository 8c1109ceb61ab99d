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
from .lifecycle import ARTICLES, CASE_ACTIONS, REFER_TO, SOURCES
from .store import CaseStore


def register(parser, command: str) -> None:
    """Declare ``workbench case …`` (``command`` "case") or ``workbench inspection record``
    ("inspection") on its parser; every choice comes from the cases' own tables."""
    if command == "inspection":
        ins = parser.add_subparsers(dest="sub", metavar="ACTION")
        s = ins.add_parser("record", help="record an inspection (or every institution of a lottery draw)")
        s.add_argument("--institution", default=None, metavar="CODE")
        s.add_argument("--kind", required=True, choices=list(casework.INSPECTION_KINDS))
        s.add_argument("--on", required=True, metavar="DATE")
        s.add_argument("--by", required=True, metavar="NAME")
        s.add_argument("--draw", default=None, metavar="DRAW.json", help="record every institution this draw drew")
        s.add_argument("--note", default=None)
        s.add_argument("--home", default=None, metavar="DIR")
        return
    if command != "case":
        raise ValueError(f"cases declares case and inspection, not {command!r}")
    case = parser.add_subparsers(dest="sub", metavar="ACTION")
    s = case.add_parser("decide", help="record a decision on a finding")
    s.add_argument("finding_id", metavar="FINDING_ID")
    s.add_argument("--status", required=True, choices=["confirmed", "dismissed", "open"])
    s.add_argument("--by", required=True, metavar="NAME")
    s.add_argument("--note", default=None)
    s.add_argument("--recovered", default=None, metavar="YUAN")
    s.add_argument("--action", action="append", default=[], metavar="ACTION", choices=list(ACTIONS),
                   help="add an action: " + ", ".join(f"{k} {v}" for k, v in ACTIONS.items()) + " (repeatable)")
    s.add_argument("--fine", default=None, metavar="YUAN", help="the fine (罚款), yuan")
    s.add_argument("--run", default=None, metavar="RUN", help="keep the finding's facts from this run folder")
    s.add_argument("--home", default=None, metavar="DIR", help="workbench home (default $WORKBENCH_HOME or ~/.workbench)")
    s = case.add_parser("list", help="list decisions")
    s.add_argument("--json", action="store_true")
    s.add_argument("--home", default=None, metavar="DIR")
    s = case.add_parser("verify", help="check the audit trail is intact")
    s.add_argument("--home", default=None, metavar="DIR")
    s = case.add_parser("open", help="open a case from any lead; prints the case id as its last line")
    s.add_argument("--institution", required=True, metavar="CODE", help="fixmedins_code (a ring: its members, comma-separated)")
    s.add_argument("--source", required=True, choices=list(SOURCES))
    s.add_argument("--by", required=True, metavar="NAME")
    s.add_argument("--finding", nargs="+", action="extend", default=[], metavar="ID", help="finding ids the case bundles")
    s.add_argument("--run", default=None, metavar="RUN", help="the run folder the findings are in")
    s.add_argument("--on", default=None, metavar="DATE", help="the day the lead came in (default today)")
    s.add_argument("--note", default=None)
    s.add_argument("--home", default=None, metavar="DIR")
    s = case.add_parser("act", help="record a step or an action on a case")
    s.add_argument("case", metavar="CASE")
    s.add_argument("--action", required=True, choices=list(CASE_ACTIONS))
    s.add_argument("--by", required=True, metavar="NAME")
    s.add_argument("--on", default=None, metavar="DATE", help="the date it happened (default today)")
    s.add_argument("--amount", default=None, metavar="YUAN", help="recover, fine")
    s.add_argument("--due", default=None, metavar="DATE", help="rectify: the deadline; appeal: the review's deadline")
    s.add_argument("--until", default=None, metavar="DATE", help="suspend: the last day of the suspension")
    s.add_argument("--to", default=None, choices=list(REFER_TO), help="refer")
    s.add_argument("--doctor", default=None, metavar="DR_CODE", help="doctor_points")
    s.add_argument("--points", type=int, default=None, metavar="N", help="doctor_points: 1-12")
    s.add_argument("--article", type=int, default=None, choices=sorted(ARTICLES),
                   help="fine: 第三十八条 (1-2x the loss) or 第四十条 (2-5x, fraud); default 40 when a finding is fraud")
    s.add_argument("--notice", default=None, metavar="FILE.html",
                   help="expose: also write the public notice (曝光典型案例), personal data removed")
    s.add_argument("--data", default=None, metavar="DATA", help="expose --notice: name institutions from medins")
    s.add_argument("--note", default=None)
    s.add_argument("--home", default=None, metavar="DIR")


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
