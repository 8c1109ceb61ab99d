"""Auditors' decisions on findings (线索 → 核查 → 处理): an append-only, hash-chained case store.

Decisions live in ``$WORKBENCH_HOME/cases.sqlite`` (default ``~/.workbench``), keyed by the
stable ``finding_id``, so they survive re-running the audit. Many dashboard viewers and notebook
kernels may write at once: the file is SQLite in WAL mode, every write is one ``BEGIN
IMMEDIATE`` transaction with a busy timeout and retries, and nothing is ever rewritten.

Every change is an **event** (one row of ``events``, never updated or deleted — triggers refuse
it). Its content is the JSON object

``{"seq", "finding_id", "at", "by", "status", "note", "recovered_fen", "actions", "finding",
"previous"}``

— ``at`` UTC ISO 8601, money in integer fen, ``actions`` a list of ``{"action": name}`` (a fine
with ``"amount_fen"``), ``finding`` the snapshot of the finding at decision time (rule_id,
result_type, fixmedins_code, dr_code, psn_no, mdtrt_id, amount_at_risk, run_id), ``previous``
the finding's state before (``seq``, status, note, recovered_fen, actions) — and its hash is
``sha256(prev_hash + canonical_json(event))`` where ``prev_hash`` is the hash of event
``seq - 1`` (64 zeros for the first) and canonical JSON has sorted keys, no spaces, UTF-8.
An event holds the finding's whole state after it, so the current state of a finding is its
latest event. :func:`verify_store` recomputes the chain from the columns, so an edit made with
the ``sqlite3`` shell behind the API's back is caught and named (:mod:`workbench.case_trail`).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import random
import sqlite3
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from .case_figures import FIGURES, briefing_figures  # noqa: F401 (part of this module's API)
from .errors import CaseError

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
TRIGGERS = ("events_no_update", "events_no_delete", "head_forward_only", "head_no_delete")


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


MONEY_LIMIT = Decimal("1e16")  # yuan: DECIMAL(18,2) holds 16 digits before the point


def to_fen(value, what: str = "amount"):
    """Yuan (text, int or Decimal; at most 2 decimals, not negative) as integer fen; None stays None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float):
        raise CaseError(f"{what}: give money as text or Decimal, not the float {value!r}")
    try:
        d = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise CaseError(f"{what}: {value!r} is not an amount of yuan") from None
    if not d.is_finite() or d < 0:
        raise CaseError(f"{what}: {value!r} must be a finite amount of yuan, not negative")
    if d >= MONEY_LIMIT:  # the contract's money is DECIMAL(18,2); the trail keeps 64-bit fen
        raise CaseError(f"{what}: {value!r} is out of range: at most {MONEY_LIMIT - Decimal('0.01'):,} yuan "
                        "(16 digits before the point, 2 after)")
    fen = d * 100
    if fen != fen.to_integral_value():
        raise CaseError(f"{what}: {value!r} has more than 2 decimals (fen)")
    return int(fen)


def yuan(fen):
    """Integer fen as exact yuan (``Decimal('12.34')``); None stays None."""
    return None if fen is None else (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


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
    p = Path(run) / "manifest.json"
    if not p.is_file():
        raise CaseError(f"{run}: not a run folder (no manifest.json)")
    return hashlib.sha256(p.read_bytes()).hexdigest()[:16]


def finding_snapshot(run, finding_id: str) -> dict:
    """The snapshot of one finding of a run folder (``RUN/findings.parquet``)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    p = Path(run) / "findings.parquet"
    if not p.is_file():
        raise CaseError(f"{run}: no findings.parquet")
    from .manifest import verify_run

    verify_run(run)  # a decision must not record the snapshot of a changed run
    t = pq.read_table(p)
    rows = t.filter(pc.equal(t["finding_id"], finding_id)).to_pylist()
    if not rows:
        raise CaseError(f"{p}: no finding {finding_id!r}")
    return snapshot(rows[0], run_id(run))


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


# --------------------------------------------------------------------------- the store
class CaseStore:
    """The auditors' decisions of one workbench home.

    Parameters
    ----------
    home : path, optional
        The workbench home (default ``$WORKBENCH_HOME`` or ``~/.workbench``); the store is
        ``HOME/cases.sqlite``, created at the first decision.
    """

    def __init__(self, home=None):
        self.home = home_dir(home)
        self.path = self.home / FILE

    def __repr__(self):
        return f"CaseStore({str(self.home)!r})"

    # -- connections ---------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
        con.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = FULL")  # an audit trail: a committed decision survives a power cut
        return con

    def _write(self, work):
        """Run ``work(con)`` in one ``BEGIN IMMEDIATE`` transaction, retrying while the file is busy."""
        self.home.mkdir(parents=True, exist_ok=True)
        for attempt in range(RETRIES):
            con = None
            try:
                con = self._connect()
                con.execute("BEGIN IMMEDIATE")
                if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone() is None:
                    for stmt in _SCHEMA:  # not executescript: it would commit the open transaction
                        con.execute(stmt)
                result = work(con)
                con.execute("COMMIT")
                return result
            except sqlite3.OperationalError as e:
                _rollback(con)
                busy = "locked" in str(e) or "busy" in str(e)
                if busy and attempt < RETRIES - 1:
                    time.sleep(min(2.0, 0.02 * 2 ** attempt) * random.uniform(0.5, 1.5))
                    continue
                raise CaseError(f"{self.path}: cannot write the case store: {e}") from None
            except sqlite3.DatabaseError as e:
                _rollback(con)
                raise CaseError(f"{self.path}: cannot write the case store: {e}") from None
            except BaseException:
                _rollback(con)
                raise
            finally:
                if con is not None:
                    con.close()

    def _read(self, query: str, params=()) -> list:
        if not self.path.is_file():
            return []
        con = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
        try:
            con.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
            if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone() is None:
                return []
            return con.execute(query, params).fetchall()
        except sqlite3.DatabaseError as e:
            raise CaseError(f"{self.path}: cannot read the case store: {e}") from None
        finally:
            con.close()

    # -- writing -------------------------------------------------------------------------
    def decide(self, finding_id, status, by, note=None, recovered=None, actions=None, finding=None, fine=None,
               add_actions=None) -> dict:
        """Record a decision on a finding; return the event written (with its ``hash``).

        Parameters
        ----------
        finding_id : str
        status : {'confirmed', 'dismissed', 'open'}
            ``open`` reopens a decided finding.
        by : str
            The auditor's name.
        note : str, optional
            None keeps the previous note ('' clears it).
        recovered : str or Decimal, optional
            Money recovered (追回基金), yuan; None keeps the previous amount.
        actions : iterable of str, optional
            The finding's actions after this decision (``suspend``, ``terminate``, ``fine``,
            ``refer_police``, ``refer_discipline``), replacing the previous set; None keeps it.
        finding : mapping, optional
            The finding (a row of ``findings.parquet`` or :func:`snapshot`) whose facts are kept
            with the decision; None keeps the previous snapshot.
        fine : str or Decimal, optional
            The fine (罚款) in yuan; implies the ``fine`` action and replaces an earlier amount.
        add_actions : iterable of str, optional
            Actions added to the finding's current set (read in the same transaction, so two
            auditors adding actions at once both count).

        A dismissal carries no recovered money and no actions: the previous ones are cleared
        (the event keeps them as its ``previous`` state) and giving new ones is an error.
        """
        fid = _check_text(finding_id, "finding_id", 128)
        if any(c.isspace() for c in fid):
            raise CaseError(f"finding_id {fid!r} must not contain spaces")
        if status not in STATUSES:
            raise CaseError(f"status {status!r}: must be one of {', '.join(STATUSES)}")
        by = _check_text(by, "by (the auditor's name)", 100)
        note = _check_text(note, "note", 10000, required=False)
        rec = to_fen(recovered, "recovered")
        if actions is not None:
            actions = [actions] if isinstance(actions, str) else list(actions)
        add_actions = list(add_actions or ())
        normalise_actions([a for a in (actions or []) + add_actions if a != "fine"])  # names checked before writing
        snap = snapshot(finding)
        if finding is not None:
            given = finding.get("finding_id", None) if hasattr(finding, "get") else None
            if given is not None and str(given) != fid:
                raise CaseError(f"finding_id {fid!r} does not match the finding given ({given!r})")
        if status == "dismissed" and ((rec or 0) > 0 or actions or add_actions or fine is not None):
            raise CaseError(f"{fid}: a dismissed finding carries no recovered money and no actions")

        def work(con):
            prev = _latest(con, fid)
            head_seq, head_hash = con.execute("SELECT seq, hash FROM chain_head WHERE id = 1").fetchone()
            prev_state = None if prev is None else {k: prev[k] for k in ("seq", "status", "note", "recovered_fen", "actions")}
            keep = prev or {"note": None, "recovered_fen": None, "actions": [], "finding": None}
            event = {
                "seq": head_seq + 1, "finding_id": fid, "at": now(), "by": by, "status": status,
                "note": keep["note"] if note is None else (note or None),
                "recovered_fen": keep["recovered_fen"] if rec is None else rec,
                "actions": _merge_actions(keep["actions"], actions, add_actions, fine),
                "finding": keep["finding"] if snap is None else snap,
                "previous": prev_state,
            }
            if status == "dismissed":
                event["recovered_fen"], event["actions"] = None, []
            h = event_hash(head_hash, event)
            con.execute(f"INSERT INTO events ({EVENT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        (event["seq"], fid, event["at"], by, status, event["note"], event["recovered_fen"],
                         canonical(event["actions"]), _json_or_null(event["finding"]),
                         _json_or_null(event["previous"]), head_hash, h))
            con.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", (event["seq"], h))
            return {**event, "prev_hash": head_hash, "hash": h}

        return self._write(work)

    # -- reading -------------------------------------------------------------------------
    def events(self, finding_ids=None) -> list:
        """Every event (dicts as hashed, plus ``prev_hash`` and ``hash``) in order, or those of some findings."""
        if finding_ids is None:
            rows = self._read(f"SELECT {EVENT_COLUMNS} FROM events ORDER BY seq")
        else:
            wanted = sorted({finding_ids} if isinstance(finding_ids, str) else set(finding_ids))
            rows = []
            for i in range(0, len(wanted), 500):  # SQLite limits the number of bound parameters
                chunk = wanted[i:i + 500]
                rows += self._read(f"SELECT {EVENT_COLUMNS} FROM events WHERE finding_id IN "
                                   f"({','.join('?' * len(chunk))})", chunk)
            rows.sort(key=lambda r: r[0])
        return [row_event(r) for r in rows]

    def state(self, finding_id):
        """The latest event of a finding (its current state), or None when never decided."""
        ev = self.events([finding_id])
        return ev[-1] if ev else None

    def history(self, finding_id) -> pd.DataFrame:
        """Every decision on one finding, oldest first (``HISTORY_COLUMNS``; money as Decimal)."""
        rows = [{"seq": e["seq"], "finding_id": e["finding_id"], "at": e["at"], "by": e["by"], "status": e["status"],
                 "note": e["note"], "recovered": yuan(e["recovered_fen"]), "actions": action_names(e["actions"]),
                 "fine": fine_of(e["actions"]), "previous_status": (e["previous"] or {}).get("status"),
                 "finding": e["finding"], "prev_hash": e["prev_hash"], "hash": e["hash"]}
                for e in self.events([finding_id])]
        return pd.DataFrame(rows, columns=HISTORY_COLUMNS)

    def current(self) -> pd.DataFrame:
        """The current state of every decided finding (``CURRENT_COLUMNS``), derived from the events.

        ``decided_at`` / ``decided_by`` are when and by whom the current status was set (a later
        note does not move them); ``updated_*`` the latest event. Money is Decimal; ``actions``
        the action names joined by ``;``.
        """
        return current_frame(self.events())

    def verify(self):
        """Check the audit trail; see :func:`workbench.case_trail.verify_store`."""
        from .case_trail import verify_store

        return verify_store(self)

    def briefing_figures(self, by=None):
        """Briefing figures from the decisions; see :func:`briefing_figures`."""
        return briefing_figures(self.current(), by=by)


def _merge_actions(current, actions, add_actions, fine) -> list:
    """The actions after a decision: ``actions`` (or the current ones when None) plus
    ``add_actions``, with the fine set to ``fine`` when given."""
    if actions is None and not add_actions and fine is None:
        return current
    base = list(current) if actions is None else list(actions)
    if fine is not None:  # the new amount replaces an earlier fine
        base = [a for a in base if a != "fine" and not (isinstance(a, dict) and a.get("action") == "fine")]
    return normalise_actions(base + add_actions, fine)


def _rollback(con):
    if con is not None:
        try:
            con.execute("ROLLBACK")
        except sqlite3.Error:
            pass


def _json_or_null(v):
    return None if v is None else canonical(v)


def _latest(con, fid):
    r = con.execute(f"SELECT {EVENT_COLUMNS} FROM events WHERE finding_id = ? ORDER BY seq DESC LIMIT 1", (fid,)).fetchone()
    return None if r is None else row_event(r)


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


def current_frame(events) -> pd.DataFrame:
    """The current state of each finding from a list of events (see :meth:`CaseStore.current`)."""
    latest, decided, counts = {}, {}, {}
    for e in events:
        fid = e["finding_id"]
        before = latest.get(fid)
        if before is None or before["status"] != e["status"]:
            decided[fid] = (e["at"], e["by"])
        latest[fid] = e
        counts[fid] = counts.get(fid, 0) + 1
    rows = []
    for fid in sorted(latest):
        e = latest[fid]
        snap = e["finding"] or {}
        rows.append({
            "finding_id": fid, "status": e["status"], "decided_at": decided[fid][0], "decided_by": decided[fid][1],
            "updated_at": e["at"], "updated_by": e["by"], "note": e["note"], "recovered": yuan(e["recovered_fen"]),
            "actions": action_names(e["actions"]), "fine": fine_of(e["actions"]),
            **{k: snap.get(k) for k in SNAPSHOT_KEYS}, "events": counts[fid], "last_seq": e["seq"],
        })
    df = pd.DataFrame(rows, columns=CURRENT_COLUMNS)
    df["amount_at_risk"] = [None if v is None else Decimal(v) for v in df["amount_at_risk"]]
    return df.astype(object)


# --------------------------------------------------------------------------- command line
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
