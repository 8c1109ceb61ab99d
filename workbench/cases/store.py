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
the ``sqlite3`` shell behind the API's back is caught and named (:mod:`workbench.cases.trail`).
"""
from __future__ import annotations

import random
import sqlite3
import time
from decimal import Decimal

import pandas as pd

from ..errors import CaseError
from .chain import (BUSY_SECONDS, CASE_EVENT_COLUMNS, CASE_SCHEMA, CURRENT_COLUMNS, EVENT_COLUMNS, FILE,
                    HISTORY_COLUMNS, RETRIES, SNAPSHOT_KEYS, STATUSES, _SCHEMA, _check_text, action_names, canonical,
                    case_row_event, event_hash, fine_of, home_dir, normalise_actions, now, row_event, snapshot, to_fen,
                    yuan)
from .figures import briefing_figures as _figures_of
from .trail import verify_store


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
                if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'case_events'").fetchone() is None:
                    for stmt in CASE_SCHEMA:  # a store written before cases had their own events
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

    def _read(self, query: str, params=(), table="events") -> list:
        if not self.path.is_file():
            return []
        con = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
        try:
            con.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
            if con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone() is None:
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

    def append(self, kind, subject, on, by, note, make):
        """Append one case event; return it (with ``prev_hash`` and ``hash``).

        ``make(con, earlier)`` returns ``(subject, data)`` inside the write transaction, given the
        earlier events of ``subject`` (oldest first), so a check on a case's state and the event
        it allows are one atomic step even with many writers; ``subject`` None lets ``make``
        choose it (a new case id).
        """
        by = _check_text(by, "by (the auditor's name)", 100)
        note = _check_text(note, "note", 10000, required=False) or None

        def work(con):
            earlier = [case_row_event(r) for r in con.execute(
                f"SELECT {CASE_EVENT_COLUMNS} FROM case_events WHERE subject = ? ORDER BY seq", (subject,))] \
                if subject is not None else []
            subj, data = make(con, earlier)
            head_seq, head_hash = con.execute("SELECT seq, hash FROM chain_head WHERE id = 1").fetchone()
            if subject is None and subj is not None:
                earlier = [case_row_event(r) for r in con.execute(
                    f"SELECT {CASE_EVENT_COLUMNS} FROM case_events WHERE subject = ? ORDER BY seq", (subj,))]
            event = {"seq": head_seq + 1, "kind": kind, "subject": subj, "on": on, "at": now(), "by": by,
                     "note": note, "data": data, "previous": earlier[-1]["seq"] if earlier else None}
            h = event_hash(head_hash, event)
            con.execute(f"INSERT INTO case_events ({CASE_EVENT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
                        (event["seq"], kind, subj, on, event["at"], by, canonical(event), head_hash, h))
            con.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", (event["seq"], h))
            return {**event, "prev_hash": head_hash, "hash": h}

        return self._write(work)

    def case_events(self, subject=None, kinds=None) -> list:
        """Case, inspection and credit events (dicts as hashed, plus ``prev_hash`` and ``hash``), oldest first."""
        where, params = [], []
        if subject is not None:
            where.append("subject = ?")
            params.append(subject)
        if kinds is not None:
            kinds = [kinds] if isinstance(kinds, str) else list(kinds)
            where.append(f"kind IN ({','.join('?' * len(kinds))})")
            params += kinds
        rows = self._read(f"SELECT {CASE_EVENT_COLUMNS} FROM case_events"
                          + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY seq", params,
                          table="case_events")
        return [case_row_event(r) for r in rows]

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
        """Check the audit trail; see :func:`workbench.cases.trail.verify_store`."""
        return verify_store(self)

    def briefing_figures(self, by=None):
        """Briefing figures from the decisions; see :func:`briefing_figures`."""
        return _figures_of(self.current(), by=by)


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


def briefing_figures(current=None, by=None, home=None):
    """Briefing figures of ``current`` (default: the store of ``home``); see
    :func:`workbench.cases.figures.briefing_figures`."""
    return _figures_of(CaseStore(home).current() if current is None else current, by=by)
