"""``workbench case …``: the command-line handlers of the case store."""
from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd

from ..errors import CaseError
from .chain import ACTIONS, STATUS_ZH, finding_snapshot, yuan
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
