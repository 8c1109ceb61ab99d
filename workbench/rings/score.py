"""A score per community from evidence an auditor accepts.

Evidence of a ring (its patients ``P``, doctors ``D``, pharmacies ``F``; *ring purchases* are
the purchases of ``P`` at ``F``), computed in SQL (``sql/evidence.sql``):

* concentration: ``doctor_share`` — of the purchases linked to the ring's doctors (prescribed
  by them, or bought the day of a visit to them), the share made at the ring's pharmacies;
  ``patient_share`` — of all purchases of the ring's patients, the share at the ring's pharmacies;
* ``density`` — suspicious edges among the members over the possible pairs of different kinds;
* ``same_day_sequences`` — ring purchases made the day the patient saw a ring doctor;
* ``identical_baskets`` — ring purchases whose exact basket (items and quantities) another of
  the ring's patients also bought there;
* money: ``hifp_pay`` (fund share) and ``medfee_sumamt`` of the ring purchases, and
  ``price_ratio`` — their median bill over the median bill of every purchase of the region;
* ``outside_county_patients`` — patients enrolled outside the ring pharmacy's county;
* regularity: ``weeks`` — distinct calendar weeks with ring purchases; ``regular_share`` — of the
  gaps between a patient's consecutive days of ring purchases, the share within
  :data:`RHYTHM_DAYS` of the gap before it (a kept rhythm: weekly, fortnightly, ...);
* ``lift`` — the highest lift over chance of the ring's doctor → pharmacy edges, relative to the
  data set: shown, not scored (about 1 in a targeted extract where the ring is most of the volume).

Every scored component is absolute (a share of the ring's own purchases, its doctors' or its
patients'), except ``price``, which compares the ring's bills with the data's median purchase.

The score (0–100) is ``100 × support × Σ weight × component`` with the components of
:data:`WEIGHTS`, each in [0, 1], and ``support = 1 − exp(−linked_purchases / 20)`` so that a
handful of coincidences cannot outrank a ring that repeats for months.
"""
from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd

from .edgelist import SEEN_DOCTORS, ensure_edges, sql_text
from .engines import engine_of
from .graph import members_by_kind

WEIGHTS = {
    "same_day": 0.20,       # same_day_share = same_day_sequences / purchases
    "baskets": 0.20,        # basket_share = identical_baskets / purchases
    "concentration": 0.20,  # (doctor_share + patient_share) / 2
    "regular": 0.10,        # regular_share
    "price": 0.10,          # log(price_ratio) / log(PRICE_FULL), clipped to [0, 1]
    "density": 0.10,
    "outside": 0.10,        # outside_county_patients / patients
}
RHYTHM_DAYS = 2  # a gap within 2 days of the gap before it keeps the rhythm
PRICE_FULL = 5.0  # a median bill 5× the region's median counts fully
SUPPORT_SCALE = 20.0
MEMBERS_TABLE = "rings_members"

RING_COLUMNS = [
    "ring_id", "score", "psn_no", "dr_code", "fixmedins_code",
    "patients", "doctors", "pharmacies", "purchases", "linked_purchases", "prescriptions",
    "same_day_sequences", "identical_baskets", "doctor_share", "patient_share", "density",
    "outside_county_patients", "hifp_pay", "medfee_sumamt", "price_ratio",
    "active_days", "first_day", "last_day",
    # added after the contract's first columns (docs/rings.md): the shares scored, regularity, lift
    "same_day_share", "basket_share", "weeks", "regular_share", "lift", "doctors_seen",
]


def ring_id(nodes) -> str:
    """Stable id of a ring: ``R`` and 12 hex digits of the SHA-1 of its sorted node names."""
    return "R" + hashlib.sha1("\n".join(sorted(nodes)).encode("utf-8")).hexdigest()[:12]


def candidates(communities, params) -> list:
    """The communities with enough members of each kind, as dicts ``ring_id, nodes, members``."""
    out = []
    for nodes in communities:
        m = members_by_kind(nodes)
        if (len(m["psn"]) >= params.min_patients and len(m["dr"]) >= params.min_doctors
                and len(m["pharmacy"]) >= params.min_pharmacies):
            out.append({"ring_id": ring_id(nodes), "nodes": sorted(nodes), "members": m})
    return out


def density(graph, nodes) -> float:
    """Edges among ``nodes`` over the possible pairs of different kinds (the graph is tripartite)."""
    sub = graph.subgraph(nodes)
    counts = {}
    for n in nodes:
        k = graph.nodes[n]["kind"]
        counts[k] = counts.get(k, 0) + 1
    kinds = list(counts.values())
    possible = sum(kinds[i] * kinds[j] for i in range(len(kinds)) for j in range(i + 1, len(kinds)))
    return sub.number_of_edges() / possible if possible else 0.0


def evidence(session, rings, graph) -> pd.DataFrame:
    """The evidence columns of each candidate ring (one row each, sorted by ``ring_id``)."""
    rows = [(r["ring_id"], kind, key) for r in rings for kind, keys in r["members"].items() for key in keys]
    members = pd.DataFrame(rows, columns=["ring_id", "kind", "key"])
    eng = engine_of(session)
    ensure_edges(eng)
    eng.register(MEMBERS_TABLE, members)
    try:
        baskets = (sql_text("baskets", basket_keys=sql_text("basket_keys", purchases="SELECT mdtrt_id FROM rp"))
                   if eng.has("fee") else sql_text("no_baskets"))
        ev = eng.frame(sql_text("evidence", baskets=baskets, seen_doctors=SEEN_DOCTORS, rhythm_days=int(RHYTHM_DAYS)))
    finally:
        eng.unregister(MEMBERS_TABLE)
    by_id = {r["ring_id"]: r for r in rings}
    ev["psn_no"] = [";".join(by_id[i]["members"]["psn"]) for i in ev.ring_id]
    ev["dr_code"] = [";".join(by_id[i]["members"]["dr"]) for i in ev.ring_id]
    ev["fixmedins_code"] = [";".join(by_id[i]["members"]["pharmacy"]) for i in ev.ring_id]
    ev["patients"] = [len(by_id[i]["members"]["psn"]) for i in ev.ring_id]
    ev["doctors"] = [len(by_id[i]["members"]["dr"]) for i in ev.ring_id]
    ev["pharmacies"] = [len(by_id[i]["members"]["pharmacy"]) for i in ev.ring_id]
    ev["density"] = [round(density(graph, by_id[i]["nodes"]), 4) for i in ev.ring_id]
    ev["lift"] = [round(anchor_lift(graph, by_id[i]["nodes"]), 3) for i in ev.ring_id]
    return ev


def anchor_lift(graph, nodes) -> float:
    """The highest lift of the doctor → pharmacy edges among ``nodes`` (0 when there is none)."""
    sub = graph.subgraph(nodes)
    return max((d["lift"] for _, _, d in sub.edges(data=True) if d.get("kind") == "dr_pharmacy"), default=0.0)


def _share(num, den) -> np.ndarray:
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def score(ev: pd.DataFrame) -> pd.DataFrame:
    """Add the shares, components and ``score``; return :data:`RING_COLUMNS` (then the
    components ``c_*``), most suspicious first (ties by ``ring_id``)."""
    ev = ev.copy()
    ev["doctor_share"] = _share(ev.doctor_purchases_at_ring, ev.doctor_purchases).round(4)
    ev["patient_share"] = _share(ev.purchases, ev.patient_purchases).round(4)
    ratio = _share(ev.median_bill.astype(float).fillna(0), ev.region_median_bill.astype(float).fillna(0))
    ev["price_ratio"] = ratio.round(3)
    seen = ev.doctors_seen.to_numpy(int) > 0  # without the doctors' visits same-day is not observable
    ev["same_day_share"] = np.where(seen, _share(ev.same_day_sequences, ev.purchases).round(4), np.nan)
    ev["basket_share"] = _share(ev.identical_baskets, ev.purchases).round(4)
    ev["regular_share"] = _share(ev.regular_intervals, ev.rhythm_intervals).round(4)
    comp = {
        "same_day": _share(ev.same_day_sequences, ev.purchases),
        "baskets": _share(ev.identical_baskets, ev.purchases),
        "concentration": (ev.doctor_share.to_numpy(float) + ev.patient_share.to_numpy(float)) / 2,
        "regular": _share(ev.regular_intervals, ev.rhythm_intervals),
        "price": np.clip(np.log(np.maximum(ratio, 1e-9)) / math.log(PRICE_FULL), 0, 1),
        "density": ev.density.to_numpy(float),
        "outside": _share(ev.outside_county_patients, ev.patients),
    }
    support = 1 - np.exp(-ev.linked_purchases.to_numpy(float) / SUPPORT_SCALE)
    # a component the data cannot show is left out and the others carry its weight
    total = sum(WEIGHTS[k] * comp[k] for k in WEIGHTS)
    total = np.where(seen, total, (total - WEIGHTS["same_day"] * comp["same_day"]) / (1 - WEIGHTS["same_day"]))
    ev["score"] = np.round(100 * support * total, 2)
    for k in WEIGHTS:
        ev[f"c_{k}"] = np.round(comp[k], 4)
    ev = ev.sort_values(["score", "ring_id"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    return ev[RING_COLUMNS + [f"c_{k}" for k in WEIGHTS]]
