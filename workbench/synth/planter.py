"""Planting inside one chunk: choosing persons and visits, adding visits, recording truth.

Collisions are avoided by bookkeeping: a person used by one planted case (or near miss) is never
chosen by another, a visit is planted at most once, cases are planted only at institutions and
doctors without a planted behaviour (unless the case is about them), and a person who gets a
planted stay loses the background outpatient visits that would fall inside it.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from .billing import PANEL, on_hand, unprescribed
from .cols import Cols
from .people import NO_DEATH
from .plan import truth_row
from .region import PHARM_DEPT
from .sampling import age_at, concat_str, dates, padded
from .visits import dept_of, make_visits

INPATIENT_KINDS = ("township", "county", "county2", "tcm", "private")
# planted scenarios about visits whose drugs are only the diagnosis' usual billing: a drug the
# person still has on hand is not dispensed again there either (no accidental 重复开药)
INCIDENTAL_DRUGS = ("frequent_outpatient", "near_miss:frequent_outpatient")
# planted scenarios whose pharmacy purchases sell a prescription-only drug without a prescription
# on purpose; every other purchase without a prescribing doctor gets no such drug (as in billing)
RX_SCENARIOS = ("rx_drug_without_prescription",)


class ChunkPlanter:
    """The planted cases of one chunk (see :meth:`plant_visits` and :meth:`plant_fees`)."""

    def __init__(self, plan, chunk, people, ident, visits, region, know, rng):
        self.plan, self.chunk, self.people, self.ident = plan, chunk, people, ident
        self.region, self.know, self.rng = region, know, rng
        self.cases = plan.cases_for(chunk.index)
        self.visits = visits
        self.bg_n = len(visits)
        self.parts = []
        self.next_uid = len(visits)
        self.used_p = np.zeros(len(people), dtype=bool)
        self.deleted = np.zeros(len(visits), dtype=bool)
        self.special = {}
        self.raw_truth = []
        self.extra = []
        self.has_stay = np.bincount(visits.p[visits.med == 21], minlength=len(people)) > 0
        self.order_p = np.argsort(visits.p, kind="stable")
        self.sorted_p = visits.p[self.order_p]
        self.alive = people.death == NO_DEATH

    # --- persons and visits ------------------------------------------------------------------
    def persons(self, k, mask, mark=True):
        """``k`` unused persons of ``mask`` (fewer if there are not enough), marked used."""
        cand = np.flatnonzero(mask & ~self.used_p)
        if len(cand) == 0:
            return cand
        chosen = self.rng.choice(cand, size=min(k, len(cand)), replace=False)
        if mark:
            self.used_p[chosen] = True
        return chosen

    def free(self, age_min=0, age_max=200, stays=False):
        """Persons alive all year, without background stays unless ``stays``, aged in range."""
        a = self.people.age0
        m = self.alive & (a >= age_min) & (a <= age_max)
        return m if stays else m & ~self.has_stay

    def age(self, p, day):
        return age_at(self.people.by[p], self.people.bmd[p], day)

    def pick_dx(self, p, day, codes):
        """A diagnosis among ``codes`` possible for the person's age and sex on ``day``."""
        ix = np.array([self.know.dx.idx[c] for c in codes])
        ok = self.know.dx.allowed(np.atleast_1d(self.age(p, day)), np.atleast_1d(self.people.sex[p]))[0, ix]
        ix = ix[ok] if ok.any() else ix
        return int(ix[int(self.rng.integers(len(ix)))])

    def clear(self, p, lo, hi, meds=(11, 14, 41)):
        """Delete the person's background visits of ``meds`` dated strictly between lo and hi."""
        a, b = np.searchsorted(self.sorted_p, [p, p + 1])
        u = self.order_p[a:b]
        v = self.visits
        hit = u[np.isin(v.med[u], meds) & (v.d0[u] > lo) & (v.d0[u] < hi)]
        self.deleted[hit] = True

    def add(self, tag, **cols):
        """Add visits (arrays or scalars) tagged with case number ``tag``; returns their uids."""
        n = max(len(np.atleast_1d(x)) for x in cols.values())
        v = make_visits(n, tag=tag, **cols)
        if "dept" not in cols:
            v.dept = np.where(v.med == 41, PHARM_DEPT, dept_of(self.know, v.dx, self.age(v.p, v.d0)))
        if "doc" not in cols:
            v.doc = np.where(v.med == 41, -1, self.region.doctors(v.inst, v.dept, self.rng))
        if "bdoc" not in cols:
            ph = self.region.doctors(v.inst, np.full(n, PHARM_DEPT), self.rng)
            v.bdoc = np.where(v.med == 41, ph, v.doc)
        if "t0" not in cols:
            v.t0 = 8 * 3600 + (self.rng.random(n) * 9 * 3600).astype(np.int64)
            v.t1 = v.t0.copy() if "t1" not in cols else v.t1
        if "supply" not in cols:
            v.supply = np.full(n, 7)
        v.uid = self.next_uid + np.arange(n)
        self.next_uid += n
        self.parts.append(v)
        self.deleted = np.concatenate([self.deleted, np.zeros(n, dtype=bool)])
        return v.uid

    def add_stay(self, tag, p, inst, dx, d0, d1):
        t0 = 8 * 3600 + int(self.rng.integers(0, 10 * 3600))
        t1 = 9 * 3600 + int(self.rng.integers(0, 2 * 3600))
        return int(self.add(tag, p=p, inst=inst, med=21, d0=d0, d1=d1, t0=t0, t1=t1, dx=dx)[0])

    def inpatient_insts(self, county, exclude=(), tertiary=True):
        """Institutions of a county (and its city's tertiary hospitals) that admit patients and have
        no planted behaviour."""
        r = self.region
        m = (r.inst_county == county) & np.isin(r.inst_kind, INPATIENT_KINDS) & (r.inst_flags == 0)
        m[r.by_kind[(county, "tertiary")]] = tertiary
        m[list(exclude)] = False
        return np.flatnonzero(m)

    def choose(self, arr):
        return arr[int(self.rng.integers(len(arr)))]

    def background_visit(self, mask):
        """A random unplanted background visit of an unused person, at an institution and with a
        doctor without planted behaviour, among ``mask``; marks both used. None if there is none."""
        v, r = self.all_visits, self.region
        base = (v.tag == -1) & ~self.deleted[: len(v)] & ~self.used_p[v.p] & (r.inst_flags[v.inst] == 0)
        base &= ~((v.doc >= 0) & (r.dr_flags[np.maximum(v.doc, 0)] & PANEL > 0))
        cand = np.flatnonzero(base & mask)
        if len(cand) == 0:
            return None
        u = int(self.choose(cand))
        self.used_p[v.p[u]] = True
        v.tag[u] = -2  # planted on, no longer background
        return u

    def record(self, case, uid=None, p=None, inst=None, doc=None, members=None, detail="", psn_no=None):
        self.raw_truth.append({"case": case, "uid": uid, "p": p, "inst": inst, "doc": doc,
                               "members": members, "detail": detail, "psn_no": psn_no})

    # --- the two phases ------------------------------------------------------------------------
    def plant_visits(self, plants=None) -> Cols:
        """Pre-billing scenarios (new visits and stays, changed diagnoses); returns all visits.
        ``plants`` maps scenarios to their plant functions (default: those of plant_visits)."""
        from .plant_visits import VISIT_PLANTS

        self.all_visits = self.visits
        for i, case in enumerate(self.cases):
            fn = (VISIT_PLANTS if plants is None else plants).get(case.scenario)
            if fn is not None:
                fn(self, i, case)
        self.all_visits = Cols.concat([self.visits] + self.parts)
        self.parts = []
        return self.all_visits

    def plant_fees(self, visits, lines, plants=None) -> Cols:
        """Post-billing scenarios (fee lines changed, added or removed); returns the lines.
        ``plants`` maps scenarios to their plant functions (default: those of plant_fees)."""
        from .plant_fees import FEE_PLANTS, FeeEdit

        self.all_visits = visits
        ed = FeeEdit(self, visits, lines)
        ed.ensure_lines()
        ed.apply_special(self.special)
        for i, case in enumerate(self.cases):
            fn = (FEE_PLANTS if plants is None else plants).get(case.scenario)
            if fn is not None:
                fn(self, ed, i, case)
        lines = ed.result()
        lines = lines.take(~self.deleted[lines.v])
        # a plant may have changed a supply (or added one): background lines of a drug the person
        # then has on hand go, as in billing
        drugs_incidental = np.isin(visits.tag, [i for i, c in enumerate(self.cases) if c.scenario in INCIDENTAL_DRUGS])
        rx_planted = np.isin(visits.tag, [i for i, c in enumerate(self.cases) if c.scenario in RX_SCENARIOS])
        lines = lines.take(~unprescribed(lines, visits, self.know, self.region.inst_lv[visits.inst], droppable=~rx_planted))
        return lines.take(~on_hand(lines, visits, self.know, droppable=(visits.tag == -1) | drugs_incidental))

    # --- outputs -------------------------------------------------------------------------------
    def extra_persons(self, psn: dict, insu: dict):
        """Append the duplicate enrolments (a second psn_no for an existing certno)."""
        if not self.extra:
            return psn, insu, self.ident["psn_no"]
        src = pa.array([e["p"] for e in self.extra])
        n0 = len(self.people)
        new_ids = concat_str(pa.array([e["city"] for e in self.extra], pa.string()), padded([e["serial"] for e in self.extra], 12))
        add_psn = {k: psn[k].take(src) for k in psn}
        add_psn["psn_no"] = new_ids
        add_psn["insutype"] = pa.array([e["insutype"] for e in self.extra], pa.string())
        add_psn["insuplc_admdvs"] = pa.array([e["admdvs"] for e in self.extra], pa.string())
        add_insu = {"psn_no": new_ids, "certno": add_psn["certno"], "insutype": add_psn["insutype"],
                    "insuplc_admdvs": add_psn["insuplc_admdvs"], "begndate": dates([e["begn"] for e in self.extra]),
                    "enddate": pa.nulls(len(self.extra), pa.date32())}
        psn = {k: pa.concat_arrays([psn[k], add_psn[k].cast(psn[k].type)]) for k in psn}
        insu = {k: pa.concat_arrays([insu[k], add_insu[k].cast(insu[k].type)]) for k in insu}
        for k, e in enumerate(self.extra):
            e["psn_no"] = new_ids[k].as_py()
        assert len(psn["psn_no"]) == n0 + len(self.extra)
        return psn, insu, psn["psn_no"]

    def truth_rows(self, visits, new_of_old, ids, psn_ids) -> list:
        """Truth rows with their keys as strings; a visit's person and institution come from the
        visit itself (the keys of a visit-level finding)."""
        r = self.region
        rows = []
        for t in self.raw_truth:
            case = t["case"]
            mdtrt_id = None
            if t["uid"] is not None:
                pos = new_of_old[t["uid"]]
                if pos < 0:
                    continue  # the visit did not survive (no fee lines): the case was not planted
                mdtrt_id = ids[int(pos)].as_py()
                t = dict(t, p=int(visits.p[pos]), inst=int(visits.inst[pos]))
            psn_no = t["psn_no"] or (psn_ids[int(t["p"])].as_py() if t["p"] is not None else None)
            if t.get("dup"):
                psn_no = min(psn_no, t["dup"]["psn_no"])
            inst = r.inst_code[t["inst"]] if t["inst"] is not None else None
            doc = r.dr_code[t["doc"]] if t["doc"] is not None else None
            members = t["members"]
            if callable(members):
                members = members(psn_ids)
            rows.append(truth_row(case.case_id, case.scenario, inst, doc, psn_no, mdtrt_id, members, t["detail"]))
        return rows
