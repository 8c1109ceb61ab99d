"""How well the rings recover the planted ones: per planted ring, its rank and member overlap.

A planted ring (a ``truth.parquet`` row with ``rule_id == "rings"``) names its members in
``members`` (``;``-separated keys) and in its key columns ``psn_no``, ``dr_code``,
``fixmedins_code``. Each is matched to the found ring whose member set overlaps it most
(Jaccard: shared keys over all keys of either); ties go to the better-ranked ring.
"""
from __future__ import annotations

import pandas as pd

EVAL_COLUMNS = ["case_id", "rank", "ring_id", "jaccard", "planted_members", "found_members", "shared_members"]
_KEY_COLUMNS = ("psn_no", "dr_code", "fixmedins_code")


def _keys(*values) -> set:
    out = set()
    for v in values:
        if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
            continue
        out.update(k.strip() for k in str(v).split(";") if k.strip())
    return out


def planted_members(truth: pd.DataFrame) -> dict:
    """``{case_id: set of member keys}`` of the planted rings in ``truth``."""
    t = truth[truth.rule_id == "rings"]
    out = {}
    for r in t.itertuples(index=False):
        keys = _keys(getattr(r, "members", None), *(getattr(r, c, None) for c in _KEY_COLUMNS))
        out.setdefault(str(r.case_id), set()).update(keys)
    return out


def evaluate(rings: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Per planted ring: ``rank`` of the best-matching found ring (1 = most suspicious; null
    when no found ring shares a member), its ``ring_id`` and the ``jaccard`` overlap of members.

    Parameters
    ----------
    rings : DataFrame
        Found rings, most suspicious first (``ring_id``, ``psn_no``, ``dr_code``,
        ``fixmedins_code``), as :attr:`RingAnalysis.rings` or the CSV of ``workbench rings``.
    truth : DataFrame
        ``truth.parquet``.

    Returns
    -------
    DataFrame
        :data:`EVAL_COLUMNS`, one row per planted ring, sorted by ``case_id``.
    """
    found = [(i + 1, r.ring_id, _keys(r.psn_no, r.dr_code, r.fixmedins_code))
             for i, r in enumerate(rings.itertuples(index=False))]
    rows = []
    for case_id, planted in sorted(planted_members(truth).items()):
        best = (0.0, None, None, set())
        for rank, rid, keys in found:
            shared = planted & keys
            if not shared:
                continue
            j = len(shared) / len(planted | keys)
            if j > best[0]:
                best = (j, rank, rid, keys)
        j, rank, rid, keys = best
        rows.append((case_id, rank, rid, round(j, 4), len(planted), len(keys), len(planted & keys)))
    out = pd.DataFrame(rows, columns=EVAL_COLUMNS)
    out["rank"] = out["rank"].astype("Int64")
    return out


def planted_ring_extracts(truth: pd.DataFrame, medins: pd.DataFrame, dr: pd.DataFrame, ordinary: int = 5) -> list:
    """The extracts a planted ring must be found in (issue 18): its own institutions plus a few
    ordinary ones, its county, and its county's pharmacies alone.

    Parameters
    ----------
    truth, medins, dr : DataFrame
        ``truth.parquet`` and the ``medins`` and ``dr`` tables of the synthetic region.
    ordinary : int
        How many institutions of no ring to add: first by code, up to two pharmacies of the
        ring's county, then its medical institutions, then other counties' (a small county).

    Returns
    -------
    list of dict
        Per planted ring (by ``case_id``): ``case_id``, ``members`` (the planted keys, pharmacy
        included), ``institutions`` (the ring's pharmacy and its doctors' institutions, then the
        ordinary ones), ``county`` (``admdvs`` of the ring's pharmacy) and ``pharmacies`` (every
        pharmacy of that county, by code: an extract in which no doctor's visit is seen).
    """
    inst_of = dict(zip(dr.dr_code, dr.fixmedins_code))
    county_of = dict(zip(medins.fixmedins_code, medins.admdvs))
    planted = truth[truth.rule_id == "rings"].sort_values("case_id")
    members = planted_members(truth)
    own = {r.case_id: sorted({r.fixmedins_code} | {inst_of[k] for k in members[str(r.case_id)] if k in inst_of})
           for r in planted.itertuples()}
    in_rings = set().union(*own.values()) if own else set()
    others = medins[~medins.fixmedins_code.isin(in_rings)].sort_values("fixmedins_code")
    out = []
    for r in planted.itertuples():
        county = county_of[r.fixmedins_code]
        here = others[others.admdvs == county]
        pool = (list(here[here.fixmedins_type == "2"].fixmedins_code[:2]) + list(here[here.fixmedins_type == "1"].fixmedins_code)
                + list(others[others.admdvs != county].fixmedins_code))
        pharmacies = sorted(medins[(medins.admdvs == county) & (medins.fixmedins_type == "2")].fixmedins_code)
        out.append({"case_id": str(r.case_id), "members": members[str(r.case_id)],
                    "institutions": own[r.case_id] + list(dict.fromkeys(pool))[:ordinary], "county": county,
                    "pharmacies": pharmacies})
    return out
