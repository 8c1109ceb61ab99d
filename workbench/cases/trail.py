"""Verify the case store's audit trail: is the hash chain intact, and where does it break?

The check works on the raw rows, so it catches what the API would never write: a note changed
with the ``sqlite3`` shell (the row's content no longer matches its hash), an event deleted (a
missing ``seq``; at the end, the chain head still counts it), a hash rewritten (the next event's
``prev_hash`` no longer links), a JSON column mangled. Each event also records the finding's
previous state, so an edit that recomputed the edited row's hash is still caught by the next
decision on that finding, naming the field. Removed protection triggers are reported as
warnings. Only a rewrite of the whole chain from the edit onwards, head included, escapes: give
the head hash (printed by ``workbench case verify``, kept in each evidence pack) to a third party
to anchor it.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from .chain import BUSY_SECONDS, CASE_EVENT_COLUMNS, EVENT_COLUMNS, GENESIS, TRIGGERS, case_row_event, event_hash, row_event
from ..errors import CaseError

STATE_FIELDS = ("status", "note", "recovered_fen", "actions")


@dataclass
class Problem:
    """One break of the chain: the event's ``seq`` (None when not about one event), a kind
    (``missing seq``, ``edited row``, ``hash mismatch``, ``state mismatch``, ``head mismatch``)
    and what is wrong."""

    seq: object
    kind: str
    message: str

    def __str__(self):
        return (f"event {self.seq}: " if self.seq is not None else "") + f"{self.kind}: {self.message}"


@dataclass
class TrailCheck:
    """What :func:`verify_store` found.

    Attributes
    ----------
    ok : bool
        True when the chain is intact.
    path : str
    events : int
        Events present.
    head_seq, head_hash :
        The chain head (last event number and hash) as recorded.
    problems : list of Problem
    warnings : list of str
    """

    ok: bool
    path: str
    events: int
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    def report(self) -> str:
        """A readable report, one line per problem."""
        if self.ok:
            lines = [f"case trail intact: {self.events} events, head {self.head_hash[:16]} ({self.path})"]
        else:
            lines = [f"case trail BROKEN: {len(self.problems)} problem(s) in {self.path}"]
            lines += [f"  {p}" for p in self.problems]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def read_raw(path):
    """Rows of ``events`` and ``case_events`` (merged, ordered by seq), the head row and the
    trigger names, in one snapshot."""
    con = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
    try:
        con.execute("BEGIN")
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
        if "events" not in names:
            return None, None, names
        rows = con.execute(f"SELECT {EVENT_COLUMNS} FROM events ORDER BY seq").fetchall()
        if "case_events" in names:
            rows += con.execute(f"SELECT {CASE_EVENT_COLUMNS} FROM case_events ORDER BY seq").fetchall()
            rows.sort(key=lambda r: r[0])
        head = con.execute("SELECT seq, hash FROM chain_head WHERE id = 1").fetchone() if "chain_head" in names else None
        con.execute("COMMIT")
        return rows, head, names
    except sqlite3.DatabaseError as e:
        raise CaseError(f"{path}: cannot read the case store: {e}") from None
    finally:
        con.close()


def check_chain(rows, head) -> list:
    """Problems of a chain of raw rows (``events`` and ``case_events``, ordered by seq) and its head
    row; a pure function."""
    problems = []
    expected, prev_hash, gap = 1, GENESIS, False
    recorded = {}  # seq -> state fields as stored in that row
    last_of = {}  # finding_id -> seq of its latest event so far
    for row in rows:
        seq, fid, stored_prev, stored_hash = _parts(row)
        if seq != expected:
            span = f"event {expected} is" if seq == expected + 1 else f"events {expected}–{seq - 1} are"
            problems.append(Problem(expected, "missing seq", f"{span} missing (deleted)"))
            gap = True
        if not gap and stored_prev != prev_hash:
            problems.append(Problem(seq, "hash mismatch", f"its prev_hash {str(stored_prev)[:16]} does not match the "
                                    f"hash of event {seq - 1} ({str(prev_hash)[:16]}): the chain is broken here"))
        if len(row) != len(EVENT_COLUMNS.split(",")):
            problems += _check_case_row(row, last_of)
            expected, prev_hash, gap = seq + 1, stored_hash, False
            continue
        try:
            ev = row_event(row)
        except (ValueError, TypeError) as e:
            problems.append(Problem(seq, "edited row", f"finding {fid}: a JSON column does not parse ({e})"))
            ev = None
        if ev is not None:
            content = {k: v for k, v in ev.items() if k not in ("prev_hash", "hash")}
            if event_hash(stored_prev, content) != stored_hash:
                problems.append(Problem(seq, "edited row", f"finding {fid}: the row was changed after it was "
                                        f"written (its content no longer matches its hash)"))
            problems += _check_previous(ev, recorded, last_of)
            recorded[seq] = {k: ev[k] for k in STATE_FIELDS}
            last_of[fid] = seq
        expected, prev_hash, gap = seq + 1, stored_hash, False
    last_seq = rows[-1][0] if rows else 0
    last_hash = _parts(rows[-1])[3] if rows else GENESIS
    if head is None:
        problems.append(Problem(None, "head mismatch", "the chain head row is missing"))
    elif head[0] > last_seq:
        span = f"event {last_seq + 1} is" if head[0] == last_seq + 1 else f"events {last_seq + 1}–{head[0]} are"
        problems.append(Problem(last_seq + 1, "missing seq", f"{span} missing at the end (deleted): the chain head "
                                f"records {head[0]} events"))
    elif head[0] < last_seq:
        problems.append(Problem(head[0] + 1, "head mismatch", f"events after {head[0]} were added behind the "
                                f"chain head's back (head records {head[0]}, last event is {last_seq})"))
    elif head[1] != last_hash:
        problems.append(Problem(last_seq, "hash mismatch", "the chain head's hash differs from the last event's hash"))
    return problems


def _parts(row):
    """(seq, subject, prev_hash, hash) of a raw row of either table."""
    if len(row) == len(EVENT_COLUMNS.split(",")):
        return row[0], row[1], row[10], row[11]
    return row[0], row[2], row[7], row[8]


def _check_case_row(row, last_of) -> list:
    """A ``case_events`` row: its body against its hash, its columns against its body, its link to
    the subject's previous event."""
    seq, kind, subject, on, at, by = row[:6]
    try:
        ev = case_row_event(row)
    except (ValueError, TypeError) as e:
        return [Problem(seq, "edited row", f"{kind} {subject}: the body does not parse ({e})")]
    out = []
    content = {k: v for k, v in ev.items() if k not in ("prev_hash", "hash")}
    if event_hash(row[7], content) != row[8]:
        out.append(Problem(seq, "edited row", f"{kind} {subject}: the row was changed after it was written "
                           "(its content no longer matches its hash)"))
    cols = {"seq": seq, "kind": kind, "subject": subject, "on": on, "at": at, "by": by}
    for k, v in cols.items():
        if ev.get(k) != v:
            out.append(Problem(seq, "edited row", f"{kind} {subject}: column {k} is {v!r} but the hashed event "
                               f"says {ev.get(k)!r}"))
    key = ("case", subject)
    if ev.get("previous") != last_of.get(key):
        out.append(Problem(seq, "state mismatch", f"{kind} {subject}: records event {ev.get('previous')} as the "
                           f"previous one of {subject}, but the previous one present is {last_of.get(key)}"))
    last_of[key] = seq
    return out


def _check_previous(ev, recorded, last_of) -> list:
    """The previous state an event records against the row it names."""
    out, fid, prev = [], ev["finding_id"], ev["previous"]
    before = last_of.get(fid)
    if prev is None:
        if before is not None:
            out.append(Problem(ev["seq"], "state mismatch", f"finding {fid} has event {before} before it, "
                               f"but this event records no previous state"))
        return out
    pseq = prev.get("seq")
    if before is not None and pseq != before:
        out.append(Problem(ev["seq"], "state mismatch", f"finding {fid}: records event {pseq} as the previous "
                           f"decision, but the previous one present is event {before}"))
    if pseq in recorded:
        for k in STATE_FIELDS:
            if recorded[pseq][k] != prev.get(k):
                out.append(Problem(pseq, "state mismatch", f"finding {fid}: its {k} is {recorded[pseq][k]!r} but "
                                   f"event {ev['seq']} recorded it as {prev.get(k)!r} (edited)"))
    return out


def verify_store(store) -> TrailCheck:
    """Check the audit trail of a :class:`workbench.cases.store.CaseStore`."""
    path = str(store.path)
    if not store.path.is_file():
        return TrailCheck(ok=True, path=path, events=0, warnings=["no decisions recorded yet"])
    rows, head, names = read_raw(store.path)
    if rows is None:
        return TrailCheck(ok=True, path=path, events=0, warnings=["no decisions recorded yet"])
    problems = check_chain(rows, head)
    warnings = [f"protection trigger {t} was removed: the {'case_events' if t.startswith('case_') else 'events'} "
                "table can be changed" for t in TRIGGERS
                if t not in names and ("case_events" in names or not t.startswith("case_"))]
    return TrailCheck(ok=not problems, path=path, events=len(rows), head_seq=head[0] if head else 0,
                      head_hash=head[1] if head else GENESIS, problems=problems, warnings=warnings)
