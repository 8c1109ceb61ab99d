"""A 双随机 draw on a data folder: candidates and inspectors read from it, the record kept.

:func:`draw` reads ``medins`` and ``inspector`` from a data folder and makes the record with
:func:`workbench.lottery.algorithm.compose`; a :class:`Draw` is that record, written
byte-deterministically; :func:`archive` keeps a copy in ``$WORKBENCH_HOME/lottery/``.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import datafolder
from ..errors import LotteryError
from ..session import Session
from ..cases import CaseStore
from ..cases.casework import agreement_exclusions
from ..credit_store import store_classes
from .algorithm import CREDIT, USED_TABLES, compose, credit_classes, parse_date, parse_strata


# --------------------------------------------------------------------------- the data
def _text(v):
    return None if v is None else str(v)


def _medins(session, strata):
    cols = session.sql("SELECT * FROM medins LIMIT 0").columns
    unknown = [c for c in strata if c != CREDIT and c not in cols]
    if unknown:
        raise LotteryError(f"strata column(s) {', '.join(unknown)} not in table medins (it has {', '.join(cols)})")
    status = "agrmt_stas" if "agrmt_stas" in cols else "NULL"
    wanted = sorted({c for c in strata if c != CREDIT} | {"admdvs"})
    sel = ", ".join(f'"{c}"' for c in wanted)
    rows = session.sql(f"SELECT fixmedins_code, {sel} FROM medins WHERE {status} IS NULL OR {status} = 'active'").fetchall()
    out = [dict(zip(["fixmedins_code"] + wanted, map(_text, r))) for r in rows]
    seen = set()
    for r in out:
        if r["fixmedins_code"] in seen:
            raise LotteryError(f"table medins: fixmedins_code {r['fixmedins_code']} appears twice")
        seen.add(r["fixmedins_code"])
    return out


def _inspectors(session):
    if not session.has("inspector"):
        raise LotteryError(
            f"{session.folder}: no inspector table (inspector.parquet): the 双随机 draw needs the "
            "law-enforcement pool (inspector_id, inspector_name, unit, admdvs, former_fixmedins_code)")
    cols = session.sql("SELECT * FROM inspector LIMIT 0").columns
    former = "former_fixmedins_code" if "former_fixmedins_code" in cols else "NULL"
    rows = session.sql(f"SELECT inspector_id, unit, admdvs, {former} FROM inspector").fetchall()
    out = {}
    for r in rows:
        rec = dict(zip(["inspector_id", "unit", "admdvs", "former_fixmedins_code"], map(_text, r)))
        if rec["inspector_id"] in out:
            raise LotteryError(f"table inspector: inspector_id {rec['inspector_id']} appears twice")
        out[rec["inspector_id"]] = rec
    return out


def _table_fingerprints(session) -> dict:
    recorded = session.manifest.get("tables", {})
    for name in USED_TABLES:
        p = session.path(name)
        if p is not None and name in recorded and datafolder.fingerprint(p)["sha256"] != recorded[name]["sha256"]:
            raise LotteryError(f"{p}: does not match data_manifest.json (the table changed after the manifest was written)")
    return {n: {"rows": r["rows"], "sha256": r["sha256"]} for n, r in sorted(recorded.items())}


# --------------------------------------------------------------------------- the draw
@dataclass(frozen=True)
class Draw:
    """One draw: its JSON record and read-only views of it.

    Attributes
    ----------
    record : dict
        Everything needed to verify the draw (see ``docs/lottery.md``).
    """

    record: dict = field(repr=False)

    seed = property(lambda self: self.record["seed"])
    date = property(lambda self: self.record["date"])
    cells = property(lambda self: self.record["cells"], doc="Strata in order: candidates, weight, k, drawn.")
    teams = property(lambda self: self.record["teams"], doc="One team per drawn institution, in draw order.")
    drawn_inspectors = property(lambda self: self.record["drawn_inspectors"])

    @property
    def drawn_institutions(self) -> list:
        """Drawn institution codes in draw order."""
        return [x for c in self.cells for x in c["drawn"]]

    def groups(self) -> list:
        """The strata that drew someone, each with its teams: what a live draw reveals in turn."""
        by_code = {t["fixmedins_code"]: t for t in self.teams}
        return [{**c, "teams": [by_code[x] for x in c["drawn"]]} for c in self.cells if c["drawn"]]

    def summary(self):
        """One row per stratum: its key, candidates, weight, draws, drawn codes (a DataFrame)."""
        return pd.DataFrame([{"stratum": c["stratum"], **c["key"], "candidates": len(c["candidates"]), "weight": c["weight"],
                              "k": c["k"], "drawn": ";".join(c["drawn"])} for c in self.cells])

    def to_json(self) -> str:
        """The record as canonical JSON: sorted keys, indent 1, ``", "``/``": "``, UTF-8, final newline."""
        return json.dumps(self.record, ensure_ascii=False, sort_keys=True, indent=1, separators=(",", ": ")) + "\n"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    def save(self, path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.to_json().encode("utf-8"))
        return path

    @classmethod
    def load(cls, path) -> "Draw":
        path = Path(path)
        if not path.is_file():
            raise LotteryError(f"{path}: no such draw file")
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise LotteryError(f"{path}: not a draw record (invalid JSON: {e})") from None
        missing = [k for k in ("algorithm", "seed", "date", "cells", "teams", "strata") if k not in record]
        if missing:
            raise LotteryError(f"{path}: not a draw record (missing {', '.join(missing)})")
        return cls(record)


def draw(data, seed: str, institutions: int, inspectors: int, *, strata=None, ratios=None, credit=None,
         team_size: int = 2, exclude_own_county: bool = False, date=None, home=None) -> Draw:
    """Draw institutions per stratum and inspectors, and form conflict-free teams.

    Parameters
    ----------
    data : path or Session
        Data folder with ``medins`` and ``inspector``.
    seed : str
        The public seed (any non-empty text).
    institutions, inspectors : int
        How many of each to draw.
    strata : str or list, optional
        Medins columns (default ``"admdvs,fixmedins_type"``); the credit class is always a stratum too.
    ratios : str or dict, optional
        Sampling ratio per credit class (default ``A=5%,B=10%,C=20%,D=40%``); relative weights.
    credit : dict, DataFrame, path or credit report, optional
        Credit class per institution; institutions without one count as ``B``. Default: the
        classes the cases of ``home`` give on the draw's date (:func:`workbench.credit_store.store_classes`:
        confirmed cases and decisions, repairs and objections), so a draw samples institutions with
        a record at their class's ratio; the record keeps the classes used.
    team_size : int
        Inspectors per institution.
    exclude_own_county : bool
        Also forbid an inspector from inspecting in their own county (``admdvs``).
    date : str or date, optional
        Date of the draw (default today); part of the record, so set it to repeat a draw.
    home : path, optional
        The workbench home whose cases say which agreements are suspended or terminated on the
        draw's date (default ``$WORKBENCH_HOME``): those institutions are not candidates, and the
        record lists them (``agreement_excluded``) so the verifier re-makes the same draw.

    Returns
    -------
    Draw
    """
    if credit is None:
        credit = store_classes(home, parse_date(date))
    session = data if isinstance(data, Session) else Session(data)
    try:
        return make(session, seed, institutions, inspectors, strata=strata, ratios=ratios, credit=credit,
                    team_size=team_size, exclude_own_county=exclude_own_county, date=date,
                    tables=_table_fingerprints(session),
                    excluded=agreement_exclusions(CaseStore(home), parse_date(date)))
    finally:
        if session is not data:
            session.close()


def make(session, seed, institutions, inspectors, *, strata, ratios, credit, team_size, exclude_own_county, date,
         tables, excluded=None) -> Draw:
    """The draw on an open session, recording ``tables`` as the data fingerprints: what
    :func:`draw` and the verifier share (the verifier passes the fingerprints it recorded)."""
    strata = parse_strata(strata)
    excluded = dict(excluded or {})
    rows = [r for r in _medins(session, strata) if r["fixmedins_code"] not in excluded]
    pool = _inspectors(session)
    record = compose(rows, list(pool.values()), seed, institutions, inspectors, strata=strata, ratios=ratios,
                     credit=credit_classes(credit), team_size=team_size, exclude_own_county=exclude_own_county,
                     date=date, tables=tables)
    if excluded:  # only then: a record made before agreements were read still verifies unchanged
        record["agreement_excluded"] = dict(sorted(excluded.items()))
    return Draw(record)




def archive(d: Draw) -> Path:
    """Keep a copy of a draw in ``$WORKBENCH_HOME/lottery/`` (state that outlives a run)."""
    home = Path(os.environ.get("WORKBENCH_HOME") or Path.home() / ".workbench")
    return d.save(home / "lottery" / f"{d.date}_{d.sha256[:12]}.json")
