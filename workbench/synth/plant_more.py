"""Plant functions of the supplementary scenarios (:mod:`workbench.synth.supplement`).

They run in a :class:`~workbench.synth.planter.ChunkPlanter` of the supplement's own persons
(no background visits): a visit function adds the visits a case needs, a fee function (same
scenario name) edits their lines after billing. Each planted case is clearly beyond its rule's
default threshold; near misses sit just inside it and are not recorded.
"""
from __future__ import annotations

import numpy as np

from .plant_visits import STAY_DX
from .sampling import DAYS, MONTH_START

# persons made per case (a case may need several; the rest are insured without claims)
PERSONS_PER_CASE = {"bed_days_over_stay": 3, "bed_day_moved": 3, "chronic_outpatient_without_diagnosis": 3,
                    "chronic_diagnosed_elsewhere": 3, "test_without_indication": 2, "test_with_indication": 2,
                    "upcoded_consultation": 2, "senior_fee_at_secondary": 2}


def _tagged(v, i):
    """The visits (rows) a case added."""
    return np.flatnonzero(v.tag == i)


def _stay(pl, i, los=(6, 12)):
    """A stay of a new person at a county's own hospital (not a tertiary one: its deductible
    would leave a short stay without fund share, hence without money at risk)."""
    p = pl.persons(1, pl.free(30, 85))
    if not len(p):
        return None
    p = int(p[0])
    inst = int(pl.choose(pl.inpatient_insts(pl.chunk.county, tertiary=False)))
    d0 = int(pl.rng.integers(5, DAYS - 20))
    d1 = d0 + int(pl.rng.integers(*los))
    return pl.add_stay(i, p, inst, pl.pick_dx(p, d0, STAY_DX), d0, d1)


def _bed_lines(ed, u):
    js = ed.of(u)
    return js[np.asarray(ed.cat.chrgitm)[ed.lines.item[js]] == "01"]


# --- bed_days_over_stay: bed days billed beyond the stay --------------------------------------
def stay_visit(pl, i, case):
    _stay(pl, i)


def bed_days_over_stay(pl, ed, i, case):
    """Either the day of discharge billed as a bed day too, or a second bed fee (the other room
    class) beside the first on some days: one bed line per item a day either way, so no
    frequency or duplicate rule is touched."""
    v, cat, ln = ed.v, ed.cat, ed.lines
    for u in _tagged(v, i):
        beds = _bed_lines(ed, u)
        if not len(beds):
            return
        u = int(u)
        stay_days = int(max(v.d1[u] - v.d0[u], 1))
        if pl.rng.random() < 0.5:
            ed.add(u, int(ln.item[beds[-1]]), v.d1[u], v.t1[u] - 3600, 1.0)
            extra, how = 1, "出院当日另计床位费"
        else:
            # the other room class on some days (the day's own bed item may be either)
            js = np.sort(pl.rng.choice(beds, size=int(pl.rng.integers(2, len(beds) + 1)), replace=False))
            b2, b3 = cat.idx["bed2"], cat.idx["bed3"]
            ed.add(u, np.where(ln.item[js] == b2, b3, b2), ln.day[js], 8 * 3600 + 120, 1.0)
            extra, how = len(js), "同日另计另一档床位费"
        pl.record(case, uid=u, detail=f"住院{stay_days}个床日，计收床位费{stay_days + extra}日（{how}，多记{extra}日）")


def near_bed_day_moved(pl, ed, i, case):
    """The admission day's bed fee billed on the day of discharge instead: as many bed days as
    the stay has, one of them on a day the convention does not count."""
    v = ed.v
    for u in _tagged(v, i):
        beds = _bed_lines(ed, u)
        if not len(beds):
            return
        j = int(beds[0])
        ed.drop[j] = True
        ed.add(int(u), ed.lines.item[j], v.d1[u], v.t1[u] - 3600, 1.0)


# --- chronic_outpatient_without_diagnosis: 门特 visits without a chronic condition ---------------
MINOR_DX = ("J06.9", "M54.5", "K29.7", "R51", "J02.9")


def chronic_without_diagnosis(pl, i, case, near=False):
    """A person with no chronic condition settled 3-6 times a year as a 门特 patient (med_type
    14) at their township centre, each visit coded with a minor complaint. The near miss: such
    a visit of a chronic patient whose other visit carries the condition (hypertension)."""
    ppl = pl.people
    p = pl.persons(1, pl.free(30, 80) & (ppl.chronic == 0))
    if not len(p):
        return
    p = int(p[0])
    inst = int(ppl.home_township[p])
    n = 1 if near else int(pl.rng.integers(3, 7))
    months = np.sort(pl.rng.choice(11, size=n, replace=False))
    days = MONTH_START[months] + pl.rng.integers(0, 25, n)
    dx = [pl.pick_dx(p, d, MINOR_DX) for d in days]
    uids = pl.add(i, p=p, inst=inst, med=14, d0=days, dx=dx, supply=14)
    if near:
        d = int(min(days[0] + 40, DAYS - 2))
        pl.add(i, p=p, inst=int(ppl.home_village[p]), med=11, d0=d, dx=pl.know.dx.idx["I10"], supply=14)
        return
    for u in uids:
        pl.record(case, uid=int(u), p=p, detail=f"无门诊慢特病诊断的参保人按门诊慢特病结算（全年{n}次，诊断均为一般病症）")


def near_chronic_diagnosed(pl, i, case):
    chronic_without_diagnosis(pl, i, case, near=True)


# --- test_without_indication: tests that need an indication, billed without it ----------------
# item key -> a diagnosis that indicates it (near miss); the knowledge table
# rules/knowledge/k_test_indication.csv lists each item's indications
INDICATED_TESTS = {"troponin": "I50.9", "blood_gas": "J44.1", "slit_lamp": "H25.9", "head_ct": "G43.9"}
NO_INDICATION_DX = ("J06.9", "K29.7", "J02.9", "M54.5", "L30.9")


def indication_visit(pl, i, case, near=False):
    """An outpatient visit of a new person at a county hospital; the fee plant adds the test."""
    p = pl.persons(1, pl.free(20, 80))
    if not len(p):
        return
    p = int(p[0])
    inst = int(pl.choose(pl.inpatient_insts(pl.chunk.county, tertiary=False)))
    d = int(pl.rng.integers(5, DAYS - 5))
    key = str(pl.choose(np.array(sorted(INDICATED_TESTS))))
    dx = pl.know.dx.idx[INDICATED_TESTS[key]] if near else pl.pick_dx(p, d, NO_INDICATION_DX)
    u = int(pl.add(i, p=p, inst=inst, med=11, d0=d, dx=dx)[0])
    pl.pending_tests = {**getattr(pl, "pending_tests", {}), u: key}


def test_without_indication(pl, ed, i, case, near=False):
    """The test billed once on the visit's day (a minor complaint: no indication; the near
    miss: a diagnosis the knowledge table lists for it, but none the background bills it for)."""
    v = ed.v
    for u in _tagged(v, i):
        key = pl.pending_tests.get(int(v.uid[u]))
        if key is None:
            continue
        item = ed.cat.idx[key]
        if np.any(ed.lines.item[ed.of(u)] == item):  # the diagnosis' own profile billed it already
            continue
        ed.add(int(u), item, v.d0[u], v.t0[u] + 600, 1.0)
        if not near:
            pl.record(case, uid=int(u), detail=f"{ed.cat.name[ed.cat.idx[key]]}无相应适应症诊断（主诊断为一般病症）")


def near_test_with_indication(pl, ed, i, case):
    test_without_indication(pl, ed, i, case, near=True)


# --- upcoded_consultation: a senior consultation fee where the institution's level allows none ---
# the knowledge table rules/knowledge/k_consultation_level.csv allows 副主任医师门诊诊查费 from
# 二级 up; the background bills consultation fees at 三级 and 二级 hospitals only
SENIOR_FEE = "exam_fee_senior"
CONSULT_FEES = ("exam_fee", "exam_fee_senior")


def consultation_visit(pl, i, case, near=False):
    """An outpatient visit of a new person: at a township centre (一级) of the county, or for the
    near miss at one of its 三级/二级 hospitals; the fee plant adds the senior fee."""
    r = pl.region
    if near:
        insts = pl.inpatient_insts(pl.chunk.county, tertiary=False)
        insts = insts[np.isin(np.asarray(r.inst_lv)[insts], [0, 1])]
    else:
        insts = r.by_kind[(pl.chunk.county, "township")]
        insts = insts[r.inst_flags[insts] == 0]
    p = pl.persons(1, pl.free(20, 80))
    if not len(p) or not len(insts):
        return
    d = int(pl.rng.integers(5, DAYS - 5))
    pl.add(i, p=int(p[0]), inst=int(pl.choose(insts)), med=11, d0=d,
           dx=pl.pick_dx(int(p[0]), d, ("J06.9", "K29.7", "J02.9", "M54.5")))


def upcoded_consultation(pl, ed, i, case, near=False):
    """The senior consultation fee billed once on the visit's day, unless the visit's own
    billing has a consultation fee already (a second one would be a frequency finding)."""
    v, cat = ed.v, ed.cat
    fees = cat.items(*CONSULT_FEES)
    for u in _tagged(v, i):
        if np.any(np.isin(ed.lines.item[ed.of(u)], fees)):
            continue
        ed.add(int(u), cat.idx[SENIOR_FEE], v.d0[u], v.t0[u] + 120, 1.0)
        if not near:
            pl.record(case, uid=int(u), detail=f"一级机构{pl.region.inst_name[v.inst[u]]}收取{cat.name[cat.idx[SENIOR_FEE]]}（限二级及以上医院）")


def near_senior_fee_at_secondary(pl, ed, i, case):
    upcoded_consultation(pl, ed, i, case, near=True)


VISIT_PLANTS = {"bed_days_over_stay": stay_visit, "near_miss:bed_day_moved": stay_visit,
                "chronic_outpatient_without_diagnosis": chronic_without_diagnosis,
                "near_miss:chronic_diagnosed_elsewhere": near_chronic_diagnosed,
                "test_without_indication": indication_visit,
                "near_miss:test_with_indication": lambda pl, i, case: indication_visit(pl, i, case, near=True),
                "upcoded_consultation": consultation_visit,
                "near_miss:senior_fee_at_secondary": lambda pl, i, case: consultation_visit(pl, i, case, near=True)}
FEE_PLANTS = {"bed_days_over_stay": bed_days_over_stay, "near_miss:bed_day_moved": near_bed_day_moved,
              "test_without_indication": test_without_indication, "near_miss:test_with_indication": near_test_with_indication,
              "upcoded_consultation": upcoded_consultation, "near_miss:senior_fee_at_secondary": near_senior_fee_at_secondary}
