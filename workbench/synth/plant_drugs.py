"""Plant functions of the drug scenarios of the supplement (issue 21, helper R1).

Registered in :data:`workbench.synth.supplement.SUPPLEMENT_CASES` after the earlier scenarios;
like :mod:`workbench.synth.plant_more` they run in a planter of the supplement's own persons (no
background visits): a visit function adds the visits a case needs, a fee function (same scenario
name) edits their lines after billing. Each planted case is clearly beyond its rule's default
threshold; near misses sit just inside it and are not recorded.
"""
from __future__ import annotations

import numpy as np

from .billing import supply_cnt
from .plant_more import _tagged
from .region import D
from .sampling import DAYS

# persons made per case (a case may need several; the rest are insured without claims)
PERSONS_PER_CASE = {"overlapping_prescriptions": 4, "early_refill": 4, "duplicate_ingredient": 3, "sequential_forms": 3,
                    "contraindicated_combination": 3, "aspirin_with_ppi": 3,
                    "treatment_course_limit": 3, "course_within_limit": 3,
                    "rx_drug_without_prescription": 2, "rx_with_prescription": 2}

# chronic conditions and a drug of each that the condition's profile may bill (whole daily
# doses, so days of supply = cnt / max_daily_cnt is exactly the supply prescribed)
CHRONIC_RX = {"I10": ("amlodipine", "valsartan", "irbesartan"), "E11.9": ("metformin", "acarbose", "glimepiride")}
SUPPLY = 30
TOLERANCE = 7  # overlapping_prescriptions' default tolerance_days


# --- overlapping_prescriptions: the same drug from two institutions, supplies overlapping ------
def refill_elsewhere(pl, i, case, near=False):
    """A new chronic patient given 30 days of a drug at a county hospital, and again 30 days of
    it at their township centre or, on the hospital doctor's external prescription, at their
    pharmacy: 3-12 days later (18-27 days of overlap), or for the near miss 24-27 days later (an
    early refill: 3-6 days of overlap, within the default tolerance of 7)."""
    ppl, r = pl.people, pl.region
    p = pl.persons(1, pl.free(40, 80))
    insts = pl.inpatient_insts(pl.chunk.county, tertiary=False)
    if not len(p) or not len(insts):
        return
    p = int(p[0])
    code = str(pl.choose(np.array(sorted(CHRONIC_RX))))
    drug = str(pl.choose(np.array(CHRONIC_RX[code])))
    d0 = int(pl.rng.integers(5, DAYS - 70))
    dx = pl.pick_dx(p, d0, (code,))
    a = int(pl.choose(insts))
    ua = int(pl.add(i, p=p, inst=a, med=11, d0=d0, dx=dx, supply=SUPPLY)[0])
    doc = int(pl.parts[-1].doc[0])
    gap = SUPPLY - int(pl.rng.integers(3, TOLERANCE)) if near else int(pl.rng.integers(3, 13))
    township = int(ppl.home_township[p])
    if pl.rng.random() < 0.5 and township != a and r.inst_flags[township] == 0:
        ub = int(pl.add(i, p=p, inst=township, med=11, d0=d0 + gap, dx=dx, supply=SUPPLY)[0])
    else:
        ub = int(pl.add(i, p=p, inst=int(ppl.home_pharmacy[p]), med=41, d0=d0 + gap, dx=dx, doc=doc, supply=SUPPLY)[0])
    pl.pending_rx = {**getattr(pl, "pending_rx", {}), ua: (drug, None), ub: (drug, (ua, gap))}


def overlapping_prescriptions(pl, ed, i, case, near=False):
    """Both visits dispense the drug for 30 days (the profile's line of it, else a new one)."""
    v, cat = ed.v, ed.cat
    for u in _tagged(v, i):
        drug, earlier = pl.pending_rx.get(int(v.uid[u]), (None, None))
        if drug is None:
            continue
        item = cat.idx[drug]
        cnt = float(supply_cnt(cat, np.array([item]), SUPPLY)[0])
        js = ed.of(u)
        own = js[ed.lines.item[js] == item]
        if len(own):
            ed.lines.cnt[own[0]] = cnt
        else:
            ed.add(int(u), item, v.d0[u], v.t0[u] + 600, cnt)
        if earlier is not None and not near:
            where = "凭外配处方在定点药店" if v.med[u] == 41 else "在另一定点医疗机构"
            pl.record(case, uid=int(u), detail=f"{earlier[1]}天前在{pl.region.inst_name[v.inst[np.flatnonzero(v.uid == earlier[0])[0]]]}"
                                               f"开具{cat.name[item]}{SUPPLY}天用量，{where}再次取同一药品{SUPPLY}天用量，用药时间重叠{SUPPLY - earlier[1]}天")


# --- duplicate_ingredient: two forms of one ingredient on one visit -----------------------------
# (diagnosis, tablets, injection): forms the knowledge table rules/knowledge/k_drug_ingredient.csv
# maps to one ingredient, for a diagnosis whose profile may bill the tablets
FORMS = (("J20.9", "levofloxacin", "levofloxacin_inj"), ("K29.7", "omeprazole", "omeprazole_inj"))
OTHER_FORM = {**{t: j for _, t, j in FORMS}, **{j: t for _, t, j in FORMS}}


def forms_visit(pl, i, case, near=False):
    """An outpatient visit of a new adult at a county hospital; for the near miss a second visit
    there the next day (the infusion one day, the tablets the next: a switch, two visits)."""
    p = pl.persons(1, pl.free(20, 80))
    insts = pl.inpatient_insts(pl.chunk.county, tertiary=False)
    if not len(p) or not len(insts):
        return
    p = int(p[0])
    dx_code, tab, inj = FORMS[int(pl.rng.integers(len(FORMS)))]
    inst = int(pl.choose(insts))
    d = int(pl.rng.integers(5, DAYS - 5))
    dx = pl.know.dx.idx[dx_code]
    u = int(pl.add(i, p=p, inst=inst, med=11, d0=d, dx=dx, supply=5)[0])
    forms = {u: (inj, tab)}
    if near:
        u2 = int(pl.add(i, p=p, inst=inst, med=11, d0=d + 1, dx=dx, supply=5)[0])
        forms = {u: (inj,), u2: (tab,)}
    pl.pending_forms = {**getattr(pl, "pending_forms", {}), **forms}


def duplicate_ingredient(pl, ed, i, case, near=False):
    """The forms billed on the visit's day (the injection one day's dose, the tablets five
    days'), unless the profile billed them already; a near-miss visit loses the other form if
    its profile billed it (a profile may bill the tablets on the infusion's visit)."""
    v, cat = ed.v, ed.cat
    for u in _tagged(v, i):
        keys = pl.pending_forms.get(int(v.uid[u]))
        if keys is None:
            continue
        js = ed.of(u)
        for key in keys:
            item = cat.idx[key]
            if not np.any(ed.lines.item[js] == item):
                days = 1 if key.endswith("_inj") else 5
                ed.add(int(u), item, v.d0[u], v.t0[u] + 600, float(supply_cnt(cat, np.array([item]), days)[0]))
        if near:
            other = cat.idx[OTHER_FORM[keys[0]]]
            ed.drop[js[ed.lines.item[js] == other]] = True
        else:
            pl.record(case, uid=int(u), detail=f"同一次门诊同日开具{cat.name[cat.idx[keys[1]]]}与{cat.name[cat.idx[keys[0]]]}（同一成分，重复用药）")


# --- contraindicated_combination: a pair the labels forbid, on one visit -----------------------
# the pair of rules/knowledge/k_drug_contraindication.csv planted: clopidogrel with omeprazole
# (Plavix label 7.1); the near miss gives aspirin instead (not a pair)
PAIR, NEAR_PAIR = ("clopidogrel", "omeprazole"), ("aspirin", "omeprazole")
PAIR_DX = ("I25.1", "I20.0")  # clopidogrel is paid for coronary disease (list.lmt_dise)


def pair_visit(pl, i, case):
    """An outpatient visit of a new patient with coronary heart disease at a county hospital."""
    p = pl.persons(1, pl.free(40, 80))
    insts = pl.inpatient_insts(pl.chunk.county, tertiary=False)
    if not len(p) or not len(insts):
        return
    d = int(pl.rng.integers(5, DAYS - 5))
    pl.add(i, p=int(p[0]), inst=int(pl.choose(insts)), med=11, d0=d, dx=pl.pick_dx(int(p[0]), d, PAIR_DX), supply=14)


def contraindicated_combination(pl, ed, i, case, near=False):
    """Both drugs of the pair for 14 days (the profile's lines, else new ones); for the near
    miss, aspirin and omeprazole, and the profile's clopidogrel taken off the visit."""
    v, cat = ed.v, ed.cat
    keys = NEAR_PAIR if near else PAIR
    for u in _tagged(v, i):
        js = ed.of(u)
        for key in keys:
            item = cat.idx[key]
            cnt = float(supply_cnt(cat, np.array([item]), 14)[0])
            own = js[ed.lines.item[js] == item]
            if len(own):
                ed.lines.cnt[own[0]] = cnt
            else:
                ed.add(int(u), item, v.d0[u], v.t0[u] + 600, cnt)
        if near:
            ed.drop[js[ed.lines.item[js] == cat.idx[PAIR[0]]]] = True
        else:
            pl.record(case, uid=int(u), detail=f"同一次门诊同日开具{cat.name[cat.idx[PAIR[0]]]}与{cat.name[cat.idx[PAIR[1]]]}"
                                               "（说明书：避免合用，奥美拉唑减弱氯吡格雷抗血小板作用）")


# --- treatment_course_limit: a course-limited drug paid beyond its days -------------------------
# rules/knowledge/k_drug_course_limit.csv: 注射用血栓通 paid at most 14 days a stay (billing stops
# the background's at 14: billing.COURSE_DAYS)
COURSE_DRUG, COURSE_LIMIT = "xueshuantong_inj", 14


def course_stay(pl, i, case):
    """A stroke stay of 18-24 days of a new patient at a county hospital."""
    p = pl.persons(1, pl.free(45, 85))
    insts = pl.inpatient_insts(pl.chunk.county, tertiary=False)
    if not len(p) or not len(insts):
        return
    p = int(p[0])
    d0 = int(pl.rng.integers(5, DAYS - 40))
    pl.add_stay(i, p, int(pl.choose(insts)), pl.pick_dx(p, d0, ("I63.9",)), d0, d0 + int(pl.rng.integers(18, 25)))


def treatment_course_limit(pl, ed, i, case, near=False):
    """The injection every day from admission for 16-18 days (the near miss 12-14), in place of
    the profile's own lines of it."""
    v, cat, ln = ed.v, ed.cat, ed.lines
    item = cat.idx[COURSE_DRUG]
    for u in _tagged(v, i):
        u = int(u)
        n = int(pl.rng.integers(COURSE_LIMIT - 2, COURSE_LIMIT + 1) if near else pl.rng.integers(COURSE_LIMIT + 2, COURSE_LIMIT + 5))
        js = ed.of(u)
        ed.drop[js[ln.item[js] == item]] = True
        days = v.d0[u] + np.arange(n)
        ed.add(u, np.full(n, item), days, np.full(n, 8 * 3600 + 1500), float(np.ceil(cat.dose[item])))
        if not near:
            pl.record(case, uid=u, detail=f"一次住院使用{cat.name[item]}{n}天，医保目录限单次住院最多支付{COURSE_LIMIT}天")


# --- rx_drug_without_prescription: an antibiotic sold at a pharmacy without a prescription ------
# rules/knowledge/k_rx_only.csv; the background's pharmacies sell none without one
# (billing.RX_ONLY, planter.RX_SCENARIOS)
RX_DRUGS = ("amoxicillin", "cefixime", "azithromycin")
COLD_DX = ("J06.9", "J02.9", "J20.9")


def rx_purchase(pl, i, case, near=False):
    """A new adult's purchase at their pharmacy for a cold, without a prescribing doctor; the
    near miss on the prescription of a doctor of their township centre (外配处方)."""
    ppl = pl.people
    p = pl.persons(1, pl.free(18, 75))
    if not len(p):
        return
    p = int(p[0])
    d = int(pl.rng.integers(5, DAYS - 5))
    doc = -1
    if near:
        doc = int(pl.region.doctors(np.array([ppl.home_township[p]]), np.array([D["A03"]]), pl.rng)[0])
    u = int(pl.add(i, p=p, inst=int(ppl.home_pharmacy[p]), med=41, d0=d, dx=pl.pick_dx(p, d, COLD_DX), doc=doc, supply=5)[0])
    pl.pending_rx_drug = {**getattr(pl, "pending_rx_drug", {}), u: str(pl.choose(np.array(RX_DRUGS)))}


def rx_drug_without_prescription(pl, ed, i, case, near=False):
    """The antibiotic for 5 days, unless the purchase's profile billed it already."""
    v, cat = ed.v, ed.cat
    for u in _tagged(v, i):
        key = pl.pending_rx_drug.get(int(v.uid[u]))
        if key is None:
            continue
        item = cat.idx[key]
        js = ed.of(u)
        if not np.any(ed.lines.item[js] == item):
            ed.add(int(u), item, v.d0[u], v.t0[u], float(supply_cnt(cat, np.array([item]), 5)[0]))
        if not near:
            pl.record(case, uid=int(u), detail=f"定点药店无处方销售处方药{cat.name[item]}（抗菌药物须凭处方销售）并由医保结算")


VISIT_PLANTS = {"overlapping_prescriptions": refill_elsewhere,
                "near_miss:early_refill": lambda pl, i, case: refill_elsewhere(pl, i, case, near=True),
                "duplicate_ingredient": forms_visit,
                "near_miss:sequential_forms": lambda pl, i, case: forms_visit(pl, i, case, near=True),
                "contraindicated_combination": pair_visit, "near_miss:aspirin_with_ppi": pair_visit,
                "treatment_course_limit": course_stay, "near_miss:course_within_limit": course_stay,
                "rx_drug_without_prescription": rx_purchase,
                "near_miss:rx_with_prescription": lambda pl, i, case: rx_purchase(pl, i, case, near=True)}
FEE_PLANTS = {"overlapping_prescriptions": overlapping_prescriptions,
              "near_miss:early_refill": lambda pl, ed, i, case: overlapping_prescriptions(pl, ed, i, case, near=True),
              "duplicate_ingredient": duplicate_ingredient,
              "near_miss:sequential_forms": lambda pl, ed, i, case: duplicate_ingredient(pl, ed, i, case, near=True),
              "contraindicated_combination": contraindicated_combination,
              "near_miss:aspirin_with_ppi": lambda pl, ed, i, case: contraindicated_combination(pl, ed, i, case, near=True),
              "treatment_course_limit": treatment_course_limit,
              "near_miss:course_within_limit": lambda pl, ed, i, case: treatment_course_limit(pl, ed, i, case, near=True),
              "rx_drug_without_prescription": rx_drug_without_prescription,
              "near_miss:rx_with_prescription": lambda pl, ed, i, case: rx_drug_without_prescription(pl, ed, i, case, near=True)}
