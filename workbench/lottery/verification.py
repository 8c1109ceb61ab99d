"""Verify a 双随机 draw: re-make it from its recorded inputs and the data folder, name each difference.

Three checks, all reported (none stops the others):

1. the data: every table fingerprint recorded in the draw against the table's file now
   (a change in ``medins`` or ``inspector`` fails the draw; other tables are noted);
2. the record itself: each stratum's candidate list against its recorded SHA-256, and the
   inspector pool likewise (an edited list no longer matches its fingerprint);
3. the draw: re-made with :func:`workbench.lottery.drawing.make` from the recorded seed, strata, ratios,
   credit classes, counts and exclusions on the data, then compared stratum by stratum
   (candidates, allocation, drawn institutions), then inspectors and teams.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .. import datafolder
from ..errors import LotteryError
from ..session import Session
from .algorithm import ALGORITHM, USED_TABLES, list_fingerprint
from .drawing import Draw, make

_CHECKED = {"cells", "drawn_inspectors", "inspector_pool", "inspector_pool_sha256", "teams", "data_tables"}


@dataclass
class Verification:
    """The outcome of :func:`verify`.

    Attributes
    ----------
    ok : bool
        True when the draw follows from its inputs and the data.
    differences : list of str
        What differs, one sentence each (empty when ``ok``).
    notes : list of str
        Changes that do not affect the draw (tables it does not read).
    """

    ok: bool
    differences: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    seed: str = ""
    counts: str = ""

    def message(self) -> str:
        """``verified: …`` or ``NOT verified: …`` followed by one line per difference."""
        if self.ok:
            lines = [f"verified: {self.counts} follow from seed {self.seed!r} and the data"]
        else:
            lines = [f"NOT verified: {len(self.differences)} difference(s)"] + [f"  - {d}" for d in self.differences]
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


def _ids(ids, most=6) -> str:
    ids = list(ids)
    shown = ", ".join(ids[:most])
    return f"[{shown}{f', … (+{len(ids) - most} more)' if len(ids) > most else ''}]"


def _data_changes(rec, session):
    diffs, notes = [], []
    recorded = rec.get("data_tables", {})
    for name in sorted(set(recorded) | set(USED_TABLES)):
        p = session.path(name)
        now = datafolder.fingerprint(p) if p is not None else None
        was = recorded.get(name)
        if was is None and now is None:
            continue
        if was is None:
            msg = f"data changed: table {name} is in the data but was not when the draw was made"
        elif now is None:
            msg = f"data changed: table {name} is missing (it had {was['rows']} rows at the draw)"
        elif now["sha256"] != was["sha256"]:
            msg = (f"data changed: table {name} has sha256 {now['sha256'][:12]}… ({now['rows']} rows), "
                   f"the draw recorded {was['sha256'][:12]}… ({was['rows']} rows)")
        else:
            continue
        (diffs if name in USED_TABLES else notes).append(msg if name in USED_TABLES else msg + " (not read by the draw)")
    return diffs, notes


def _record_fingerprints(rec):
    out = []
    for c in rec["cells"]:
        if list_fingerprint(c["candidates"]) != c["candidates_sha256"]:
            out.append(f"stratum {c['stratum']}: candidate list edited: its {len(c['candidates'])} ids do not match "
                       f"its recorded fingerprint {c['candidates_sha256'][:12]}…")
    if list_fingerprint(rec.get("inspector_pool", [])) != rec.get("inspector_pool_sha256"):
        out.append("inspector pool edited: its ids do not match its recorded fingerprint")
    return out


def _compare_cells(rec, fresh):
    out, moved = [], []
    rc = {c["stratum"]: c for c in rec["cells"]}
    fc = {c["stratum"]: c for c in fresh["cells"]}
    for s in sorted(set(rc) | set(fc)):
        a, b = rc.get(s), fc.get(s)
        if b is None:
            out.append(f"stratum {s}: in the record ({len(a['candidates'])} candidates) but the data has no candidate in it")
            continue
        if a is None:
            out.append(f"stratum {s}: the data has {len(b['candidates'])} candidate(s) in it but the record has no such stratum")
            continue
        if a["candidates"] != b["candidates"]:
            only_rec = sorted(set(a["candidates"]) - set(b["candidates"]))
            only_data = sorted(set(b["candidates"]) - set(a["candidates"]))
            out.append(f"stratum {s}: candidate list differs from the data: only in the record {_ids(only_rec)}, "
                       f"only in the data {_ids(only_data)}")
        if (a["weight"], a["k"]) != (b["weight"], b["k"]):
            out.append(f"stratum {s}: recorded weight {a['weight']} and {a['k']} draw(s); the allocation gives "
                       f"weight {b['weight']} and {b['k']}")
        if a["drawn"] != b["drawn"]:
            extra = [x for x in a["drawn"] if x not in b["drawn"]]
            lost = [x for x in b["drawn"] if x not in a["drawn"]]
            if extra and lost:
                how = f" ({_ids(extra)} in place of {_ids(lost)})"
            elif extra or lost:
                how = f" (not drawn by the seed: {_ids(extra)})" if extra else f" (missing: {_ids(lost)})"
            else:
                how = " (same institutions, other order)"
            out.append(f"stratum {s}: the record draws {_ids(a['drawn'])} but seed {rec['seed']!r} draws {_ids(b['drawn'])}{how}")
            moved.append(s)
    if [c["stratum"] for c in rec["cells"]] != [c["stratum"] for c in fresh["cells"]] and set(rc) == set(fc):
        out.append("strata are not in ascending order of their keys")
    if moved:
        out.insert(0, f"the drawn institutions do not follow from seed {rec['seed']!r} in {len(moved)} of {len(fc)} strata")
    return out


def _compare_people(rec, fresh):
    out = []
    if rec.get("inspector_pool") != fresh["inspector_pool"]:
        a, b = set(rec.get("inspector_pool", [])), set(fresh["inspector_pool"])
        out.append(f"inspector pool differs from the data: only in the record {_ids(sorted(a - b))}, "
                   f"only in the data {_ids(sorted(b - a))}")
    ra = [i.get("inspector_id") for i in rec.get("drawn_inspectors", [])]
    fa = [i["inspector_id"] for i in fresh["drawn_inspectors"]]
    if ra != fa:
        out.append(f"drawn inspectors: the record has {_ids(ra)} but seed {rec['seed']!r} draws {_ids(fa)}")
    elif rec.get("drawn_inspectors") != fresh["drawn_inspectors"]:
        out.append("drawn inspectors: recorded unit, county or former unit differs from the data")
    rt, ft = rec.get("teams", []), fresh["teams"]
    if [t.get("fixmedins_code") for t in rt] != [t["fixmedins_code"] for t in ft]:
        if not out and [x for c in rec["cells"] for x in c["drawn"]] == [x for c in fresh["cells"] for x in c["drawn"]]:
            out.append("teams: the institutions of the teams are not the drawn institutions in draw order")
        elif rt != ft:
            out.append("teams differ (they follow from the drawn institutions and inspectors above)")
    else:
        for a, b in zip(rt, ft):
            if a != b:
                out.append(f"team {a.get('team')} for {a['fixmedins_code']}: recorded {_ids(a.get('inspectors', []))}, "
                           f"the rule gives {b['team']} {_ids(b['inspectors'])}" +
                           ("" if a.get("admdvs") == b["admdvs"] else f" (county {a.get('admdvs')} recorded, {b['admdvs']} in the data)"))
    return out


def verify(d, data) -> Verification:
    """Re-make a draw from its recorded inputs and the data folder and compare.

    Parameters
    ----------
    d : Draw or path
        The draw, or its DRAW.json.
    data : path or Session
        The data folder the draw was made on.

    Returns
    -------
    Verification
    """
    d = d if isinstance(d, Draw) else Draw.load(d)
    rec = d.record
    if rec.get("algorithm") != ALGORITHM:
        return Verification(False, [f"algorithm {rec.get('algorithm')!r}: this workbench re-makes {ALGORITHM!r} draws only"])
    session = data if isinstance(data, Session) else Session(data)
    try:
        return _verify(d, rec, session)
    finally:
        if session is not data:
            session.close()


def _verify(d, rec, session) -> Verification:
    diffs, notes = _data_changes(rec, session)
    diffs += _record_fingerprints(rec)
    try:
        fresh = make(session, rec["seed"], rec["n_institutions"], rec["n_inspectors"], strata=rec["strata"],
                     ratios={k: str(Decimal(v) / 10000) for k, v in rec["ratios_bp"].items()},
                     credit=rec.get("credit", {}), team_size=rec["team_size"],
                     exclude_own_county=rec["exclude_own_county"], date=rec["date"],
                     tables=rec.get("data_tables", {}), excluded=rec.get("agreement_excluded")).record
    except (LotteryError, KeyError, TypeError) as e:
        diffs.append(f"the draw cannot be re-made from the record and the data: {e}")
        return Verification(False, diffs, notes, rec.get("seed", ""))
    diffs += _compare_cells(rec, fresh) + _compare_people(rec, fresh)
    for key in sorted((set(rec) | set(fresh)) - _CHECKED):
        if rec.get(key) != fresh.get(key):
            diffs.append(f"field {key}: recorded {rec.get(key)!r}, re-made {fresh.get(key)!r}")
    counts = (f"{len(d.drawn_institutions)} institutions in {sum(1 for c in rec['cells'] if c['drawn'])} strata, "
              f"{len(rec['drawn_inspectors'])} inspectors and {len(rec['teams'])} teams of draw {d.sha256[:12]}…")
    return Verification(not diffs, diffs, notes, rec["seed"], counts)
