"""The case store's values: event format, hashing, money and the finding snapshot.

The lowest module of :mod:`workbench.cases`: constants, the canonical JSON an event is hashed
as, money in integer fen, and the facts of a finding kept with a decision. Nothing here opens
the store (:mod:`workbench.cases.store`) or checks it (:mod:`workbench.cases.trail`).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc

from .. import money as _money
from ..errors import CaseError
from ..runs import RunFolder

STATUSES = ("open", "confirmed", "dismissed")
ACTIONS = {  # name -> 中文 (the outcomes a case records, in display order)
    "suspend": "暂停协议", "terminate": "解除协议", "fine": "罚款",
    "refer_police": "移送公安", "refer_discipline": "移送纪检监察",
}
STATUS_ZH = {"open": "待核查", "confirmed": "确认违规", "dismissed": "排除"}
SNAPSHOT_KEYS = ("rule_id", "result_type", "fixmedins_code", "dr_code", "psn_no", "mdtrt_id", "amount_at_risk", "run_id")
GENESIS = "0" * 64
FILE = "cases.sqlite"
FORMAT = 1
BUSY_SECONDS = 30.0
RETRIES = 20
CURRENT_COLUMNS = ["finding_id", "status", "decided_at", "decided_by", "updated_at", "updated_by", "note",
                   "recovered", "actions", "fine", *SNAPSHOT_KEYS, "events", "last_seq"]
HISTORY_COLUMNS = ["seq", "finding_id", "at", "by", "status", "note", "recovered", "actions", "fine",
                   "previous_status", "finding", "prev_hash", "hash"]
EVENT_COLUMNS = "seq, finding_id, at, auditor, status, note, recovered_fen, actions, finding, previous, prev_hash, hash"

_SCHEMA = [  # statements run one by one inside the first write transaction
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"INSERT INTO meta VALUES ('format', '{FORMAT}')",
    """CREATE TABLE events (
        seq INTEGER PRIMARY KEY, finding_id TEXT NOT NULL, at TEXT NOT NULL, auditor TEXT NOT NULL,
        status TEXT NOT NULL, note TEXT, recovered_fen INTEGER, actions TEXT NOT NULL,
        finding TEXT, previous TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL UNIQUE)""",
    "CREATE INDEX events_finding ON events (finding_id, seq)",
    "CREATE TABLE chain_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL)",
    f"INSERT INTO chain_head VALUES (1, 0, '{GENESIS}')",
    """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
       BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END""",
    """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
       BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END""",
    """CREATE TRIGGER head_forward_only BEFORE UPDATE ON chain_head WHEN NEW.seq != OLD.seq + 1
       BEGIN SELECT RAISE(ABORT, 'the chain head only moves forward by one event'); END""",
    """CREATE TRIGGER head_no_delete BEFORE DELETE ON chain_head
       BEGIN SELECT RAISE(ABORT, 'the chain head cannot be deleted'); END""",
]
# Cases, inspections and credit events (issue 19) share the chain: each seq is in exactly one of
# the two tables, and the chain head orders both. ``body`` is the canonical JSON that was hashed;
# the other columns repeat some of its fields for queries (the verifier checks they agree).
CASE_EVENT_COLUMNS = "seq, kind, subject, on_date, at, auditor, body, prev_hash, hash"
CASE_SCHEMA = [
    """CREATE TABLE case_events (
        seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, subject TEXT, on_date TEXT NOT NULL, at TEXT NOT NULL,
        auditor TEXT NOT NULL, body TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL UNIQUE)""",
    "CREATE INDEX case_events_subject ON case_events (subject, seq)",
    """CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
       BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END""",
    """CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
       BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END""",
]
TRIGGERS = ("events_no_update", "events_no_delete", "head_forward_only", "head_no_delete",
            "case_events_no_update", "case_events_no_delete")


# --------------------------------------------------------------------------- values
def home_dir(home=None) -> Path:
    """The workbench home: ``home``, else ``$WORKBENCH_HOME``, else ``~/.workbench``."""
    if home is not None:
        return Path(home)
    env = os.environ.get("WORKBENCH_HOME")
    return Path(env) if env else Path.home() / ".workbench"


def now() -> str:
    """The current time, UTC, ISO 8601 to the millisecond."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


MONEY_LIMIT = _money.MONEY_LIMIT


def to_fen(value, what: str = "amount"):
    """Yuan (text, int or Decimal; at most 2 decimals, not negative) as integer fen; None stays None
    (:func:`workbench.money.to_fen`, raising :class:`CaseError`)."""
    return _money.to_fen(value, what, error=CaseError)


yuan = _money.yuan


def canonical(obj) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 characters as they are."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def event_hash(prev_hash: str, event: dict) -> str:
    """``sha256(prev_hash + canonical_json(event))`` as hex."""
    return hashlib.sha256((prev_hash + canonical(event)).encode("utf-8")).hexdigest()


def normalise_actions(actions, fine=None) -> list:
    """Actions as stored: ``[{"action": name}, {"action": "fine", "amount_fen": n}]`` in display order.

    ``actions`` is an iterable of names (``suspend``, ``terminate``, ``fine``, ``refer_police``,
    ``refer_discipline``) or of stored dicts; a fine needs its amount, ``fine`` (yuan), unless a
    stored dict carries it. ``fine`` alone implies the ``fine`` action.
    """
    names, amount = [], to_fen(fine, "fine")
    for a in actions or ():
        if isinstance(a, dict):
            name = a.get("action")
            if name == "fine" and amount is None and a.get("amount_fen") is not None:
                amount = int(a["amount_fen"])
        else:
            name = str(a).strip()
        if name not in ACTIONS:
            raise CaseError(f"unknown action {name!r} (actions: {', '.join(ACTIONS)})")
        names.append(name)
    if amount is not None:
        if amount <= 0:
            raise CaseError("fine: the amount must be more than 0 yuan")
        names.append("fine")
    if "fine" in names and amount is None:
        raise CaseError("action fine (罚款) needs its amount in yuan (--fine)")
    return [{"action": n, "amount_fen": amount} if n == "fine" else {"action": n} for n in ACTIONS if n in names]


def snapshot(finding, run_id=None):
    """The finding facts kept with a decision (``SNAPSHOT_KEYS``) from a mapping or Series."""
    if finding is None:
        return None
    get = finding.get if hasattr(finding, "get") else (lambda k, d=None: getattr(finding, k, d))
    out = {}
    for k in SNAPSHOT_KEYS:
        v = get(k, None)
        out[k] = None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
    if out["amount_at_risk"] is not None:
        out["amount_at_risk"] = str(yuan(to_fen(Decimal(out["amount_at_risk"]), "amount_at_risk")))
    if run_id is not None:
        out["run_id"] = str(run_id)
    return out


def run_id(run) -> str:
    """A run's id: the first 16 hex digits of the SHA-256 of its ``manifest.json``."""
    return RunFolder(run, verify=False).run_id


def finding_snapshot(run, finding_id: str) -> dict:
    """The snapshot of one finding of a run folder (``RUN/findings.parquet``)."""
    folder = RunFolder(run)  # a decision must not record the snapshot of a changed run
    t = folder.findings_arrow()
    rows = t.filter(pc.equal(t["finding_id"], finding_id)).to_pylist()
    if not rows:
        raise CaseError(f"{folder.findings_path}: no finding {finding_id!r}")
    return snapshot(rows[0], folder.run_id)


def _check_text(value, what, limit, required=True):
    if value is None:
        if required:
            raise CaseError(f"{what} is required")
        return None
    s = str(value).strip()
    if required and not s:
        raise CaseError(f"{what} must not be empty")
    if len(s) > limit:
        raise CaseError(f"{what} is longer than {limit} characters")
    return s



def row_event(row) -> dict:
    """An ``events`` row as the event dict that was hashed, plus ``prev_hash`` and ``hash``.

    Raises ValueError when a JSON column does not parse (a row edited by hand).
    """
    seq, fid, at, by, status, note, rec, actions, finding, previous, prev_hash, h = row
    return {"seq": seq, "finding_id": fid, "at": at, "by": by, "status": status, "note": note,
            "recovered_fen": rec, "actions": json.loads(actions),
            "finding": None if finding is None else json.loads(finding),
            "previous": None if previous is None else json.loads(previous), "prev_hash": prev_hash, "hash": h}


def action_names(actions) -> str:
    """Stored actions as ``suspend;fine``."""
    return ";".join(a["action"] for a in actions or [])


def fine_of(actions):
    """The fine of stored actions in yuan (None when there is no fine)."""
    for a in actions or []:
        if a["action"] == "fine":
            return yuan(a.get("amount_fen"))
    return None


def case_row_event(row) -> dict:
    """A ``case_events`` row as the event dict that was hashed, plus ``prev_hash`` and ``hash``.

    Raises ValueError when the body does not parse (a row edited by hand).
    """
    body = json.loads(row[6])
    if not isinstance(body, dict):
        raise ValueError("the body is not a JSON object")
    return {**body, "prev_hash": row[7], "hash": row[8]}
