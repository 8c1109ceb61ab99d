"""Plant functions of the service-billing scenarios of the supplement (issue 21, helper R2).

Registered in :data:`workbench.synth.supplement.SUPPLEMENT_CASES` after the earlier scenarios;
like :mod:`workbench.synth.plant_more` they run in a planter of the supplement's own persons (no
background visits): a visit function adds the visits a case needs, a fee function (same scenario
name) edits their lines after billing. Each planted case is clearly beyond its rule's default
threshold; near misses sit just inside it and are not recorded.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from .plant_more import _stay, _tagged
from .plant_visits import STAY_DX
from .sampling import DAYS

# persons made per case (a case may need several; the rest are insured without claims)
PERSONS_PER_CASE = {"nursing_days_over_stay": 3, "nursing_day_moved": 3,
                    "repeated_consultation_fee": 2, "second_visit_same_day": 2,
                    "setting_limit": 3, "outpatient_infusion": 2,
                    "low_threshold_admission": 3, "checkup_with_treatment": 3,
                    "inpatient_without_treatment": 3, "one_test_kept": 3,
                    "health_check_billed": 2, "health_check_self_paid": 2}

# the grades of nursing the synthetic catalogue bills by the day (rules/knowledge/k_nursing_grade.csv)
GRADES = ("nursing1", "nursing2")


def _nursing_lines(ed, u):
    js = ed.of(u)
    return js[np.isin(ed.lines.item[js], ed.cat.items(*GRADES))]


# --- nursing_days_over_stay: nursing days billed beyond the stay ------------------------------
def stay_visit(pl, i, case):
    _stay(pl, i)


def nursing_days_over_stay(pl, ed, i, case):
    """Either the day of discharge billed as a nursing day too, or the other grade of nursing
    billed beside the day's own on some days: one line per item a day either way, so no
    frequency or duplicate rule is touched, and the bed lines stay as they are."""
    v, cat, ln = ed.v, ed.cat, ed.lines
    for u in _tagged(v, i):
        lines = _nursing_lines(ed, u)
        if not len(lines):
            return
        u = int(u)
        stay_days = int(max(v.d1[u] - v.d0[u], 1))
        if pl.rng.random() < 0.5:
            ed.add(u, int(ln.item[lines[-1]]), v.d1[u], v.t1[u] - 1800, 1.0)
            extra, how = 1, "出院当日另计护理费"
        else:
            js = np.sort(pl.rng.choice(lines, size=int(pl.rng.integers(2, len(lines) + 1)), replace=False))
            n1, n2 = cat.idx["nursing1"], cat.idx["nursing2"]
            ed.add(u, np.where(ln.item[js] == n2, n1, n2), ln.day[js], 8 * 3600 + 240, 1.0)
            extra, how = len(js), "同日另计另一护理级别"
        pl.record(case, uid=u, detail=f"住院{stay_days}个床日，计收护理费{stay_days + extra}日（{how}，多记{extra}日）")


def near_nursing_day_moved(pl, ed, i, case):
    """The admission day's nursing fee billed on the day of discharge instead: as many nursing
    days as the stay has, one of them on a day the convention does not count."""
    v = ed.v
    for u in _tagged(v, i):
        lines = _nursing_lines(ed, u)
        if not len(lines):
            return
        j = int(lines[0])
        ed.drop[j] = True
        ed.add(int(u), ed.lines.item[j], v.d1[u], v.t1[u] - 1800, 1.0)


# --- repeated_consultation_fee: two consultation fees on one outpatient visit -----------------
# the background bills 普通门诊诊查费 at 三级/二级 hospitals and 一般诊疗费 elsewhere, one per visit
CONSULT_ITEMS = ("exam_fee", "general_fee")


def consultation_visit(pl, i, case, near=False):
    """An outpatient visit of a new person of 20-80 at a hospital of the county (not tertiary)
    or at a township centre, coded with a minor complaint; the fee plant adds the second fee.
    The near miss: two such visits of the person at the institution on one day, each billed
    its own fee by the background (a second visit the rule leaves alone)."""
    r = pl.region
    insts = np.concatenate([pl.inpatient_insts(pl.chunk.county, tertiary=False), r.by_kind[(pl.chunk.county, "township")]])
    insts = insts[r.inst_flags[insts] == 0]
    p = pl.persons(1, pl.free(20, 80))
    if not len(p) or not len(insts):
        return
    p, inst, d = int(p[0]), int(pl.choose(insts)), int(pl.rng.integers(5, DAYS - 5))
    for _ in range(2 if near else 1):
        pl.add(i, p=p, inst=inst, med=11, d0=d, dx=pl.pick_dx(p, d, ("J06.9", "K29.7", "J02.9", "M54.5")))


def repeated_consultation_fee(pl, ed, i, case):
    """The consultation fee of the other kind (诊查费 beside 一般诊疗费 or the reverse) billed
    on the visit a few minutes after its own."""
    v, cat = ed.v, ed.cat
    fees = cat.items(*CONSULT_ITEMS)
    for u in _tagged(v, i):
        has = np.isin(fees, ed.lines.item[ed.of(u)])
        if has.sum() != 1:  # no fee of its own, or both already: not this scenario's visit
            continue
        other, u = int(fees[~has][0]), int(u)
        ed.add(u, other, v.d0[u], v.t0[u] + 300, 1.0)
        pl.record(case, uid=u, detail=f"同次门诊收取{cat.name[fees[has][0]]}后另收{cat.name[other]}（诊察费收取2次）")


# --- setting_limit: an item paid for one setting billed in the other --------------------------
# rules/knowledge/k_setting_limit.csv: parenteral nutrition for inpatients only, the
# outpatient consultation fee for outpatients only; the background bills each in its own setting
INPATIENT_ONLY = ("amino_acid_inj", "fat_emulsion_inj")


def setting_visit(pl, i, case, near=False):
    """Half of the cases an outpatient visit at a hospital of the county (not tertiary), the
    other half a 6-11-day stay there; the near miss is an outpatient visit (an infusion)."""
    if not near and pl.rng.random() < 0.5:
        _stay(pl, i)
        return
    p = pl.persons(1, pl.free(20, 80))
    if not len(p):
        return
    p, d = int(p[0]), int(pl.rng.integers(5, DAYS - 5))
    inst = int(pl.choose(pl.inpatient_insts(pl.chunk.county, tertiary=False)))
    pl.add(i, p=p, inst=inst, med=11, d0=d, dx=pl.pick_dx(p, d, ("J06.9", "K29.7", "A09.9", "J20.9")))


def setting_limit(pl, ed, i, case, near=False):
    """An outpatient visit billed one bottle of parenteral nutrition (限住院患者), or a stay
    billed 普通门诊诊查费 on its admission day beside the day's 住院诊查费; the near miss: an
    outpatient infusion of saline, which no setting limit restricts."""
    v, cat = ed.v, ed.cat
    for u in _tagged(v, i):
        u = int(u)
        if near:
            ed.add(u, cat.items("nacl", "iv_drip"), v.d0[u], v.t0[u] + 900, 1.0)
        elif v.med[u] == 21:
            ed.add(u, cat.idx["exam_fee"], v.d0[u], v.t0[u] + 600, 1.0)
            pl.record(case, uid=u, detail=f"住院收取{cat.name[cat.idx['exam_fee']]}（门诊项目，住院按日收取住院诊查费）")
        else:
            item = int(cat.idx[str(pl.choose(np.array(INPATIENT_ONLY)))])
            ed.add(u, item, v.d0[u], v.t0[u] + 900, 1.0)
            pl.record(case, uid=u, detail=f"门诊使用{cat.name[item]}（医保目录限住院患者）")


# --- low_threshold_admission: a short stay spent on tests (体检式住院) --------------------------
# a health-check panel: tests and imaging without an indication list, sex or age limit
CHECKUP = ("liver_panel", "kidney_panel", "lipid_panel", "thyroid3", "tumor_markers", "hbv", "glucose_test",
           "abd_us", "heart_echo", "carotid_us", "chest_ct", "ecg")
CARE_TYPES = ("05", "06", "09", "10", "11")


def short_stay(pl, i, case):
    """A stay of 1-3 bed days at a county's own hospital."""
    _stay(pl, i, los=(1, 4))


def low_threshold_admission(pl, ed, i, case, near=False):
    """Every treatment, surgery and drug line of the stay dropped and the health-check panel's
    items the stay has not billed yet added, spread over its days (one line per item, so no
    frequency rule is touched; the daily 住院诊查费 stays, so no day is a ghost day). The near
    miss keeps the stay's treatment and drugs beside the panel."""
    v, cat, ln = ed.v, ed.cat, ed.lines
    panel = cat.items(*CHECKUP)
    for u in _tagged(v, i):
        u = int(u)
        js = ed.of(u)
        new = panel[~np.isin(panel, ln.item[js])]
        days = v.d0[u] + np.arange(len(new)) % max(int(v.d1[u] - v.d0[u]), 1)
        ed.add(u, new, days, 9 * 3600 + 60 * np.arange(len(new)), 1.0)
        if near:
            continue
        ed.drop[js[np.isin(cat.chrgitm[ln.item[js]], CARE_TYPES)]] = True
        stay_days = int(max(v.d1[u] - v.d0[u], 1))
        pl.record(case, uid=u, detail=f"住院{stay_days}个床日，只做检查化验（{len(new)}项体检式检查），无治疗、手术及用药")


# --- inpatient_without_treatment: a stay billed for bed and nursing only (虚假住院) ------------
NO_CARE_TYPES = ("03", "04", "05", "06", "08", "09", "10", "11")


def lower_level_stay(pl, i, case):
    """A 10-16-day stay of a new person at a 二级 or lower hospital of the county: a stay of bed
    and nursing only costs little (about 60 yuan a day at a 二级 hospital), and a 三级 hospital's
    deductible, or a 二级 one's (500 yuan) on a stay of under 9 days, would leave it unpaid: the
    fund paid nothing, and the rule (rightly) does not judge it. 6-11 days left 5 of 48 planted
    stays of the synthetic city unpaid."""
    p = pl.persons(1, pl.free(30, 85))
    insts = pl.inpatient_insts(pl.chunk.county, tertiary=False)
    insts = insts[np.asarray(pl.region.inst_lv)[insts] > 0]
    if not len(p) or not len(insts):
        return
    p, d0 = int(p[0]), int(pl.rng.integers(5, DAYS - 20))
    pl.add_stay(i, p, int(pl.choose(insts)), pl.pick_dx(p, d0, STAY_DX), d0, d0 + int(pl.rng.integers(10, 17)))


def stay_without_treatment(pl, ed, i, case, near=False):
    """Every examination, test, treatment, surgery, material and drug line of a 10-16-day stay
    dropped: bed, nursing and the daily 住院诊查费 remain (so no day is a ghost day of
    ghost_bed). The near miss keeps the stay's first test or examination."""
    v, cat, ln = ed.v, ed.cat, ed.lines
    for u in _tagged(v, i):
        u = int(u)
        js = ed.of(u)
        care = js[np.isin(cat.chrgitm[ln.item[js]], NO_CARE_TYPES)]
        tests = care[np.isin(cat.chrgitm[ln.item[care]], ("03", "04"))]
        if near and not len(tests):
            continue
        ed.drop[care] = True
        if near:
            ed.drop[tests[0]] = False
            continue
        stay_days = int(max(v.d1[u] - v.d0[u], 1))
        pl.record(case, uid=u, detail=f"住院{stay_days}个床日只收床位费、护理费和诊查费，无任何检查、治疗、手术、材料或药品")


# --- test_without_indication, 体检 part: a health check billed to the fund --------------------
# rules/knowledge/k_health_check.csv lists the check-up encounters (Z00, Z02, Z10); the
# synthetic diagnoses have none, so the visit's diagnosis is written by a table plant
CHECKUP_DX = ("Z00.000", "健康查体")


def checkup_visit(pl, i, case):
    """An outpatient visit of a new person of 20-70 at a hospital of the county (not tertiary)
    or at a township centre; the fee plant bills the check-up, the table plant its diagnosis."""
    r = pl.region
    insts = np.concatenate([pl.inpatient_insts(pl.chunk.county, tertiary=False), r.by_kind[(pl.chunk.county, "township")]])
    insts = insts[r.inst_flags[insts] == 0]
    p = pl.persons(1, pl.free(20, 70))
    if not len(p) or not len(insts):
        return
    p, d = int(p[0]), int(pl.rng.integers(5, DAYS - 5))
    pl.add(i, p=p, inst=int(pl.choose(insts)), med=11, d0=d, dx=pl.pick_dx(p, d, ("J06.9", "K29.7", "M54.5")))


def health_check(pl, ed, i, case, near=False):
    """The visit's treatment and drugs dropped and the health-check panel's items it has not
    billed yet added (one line each); recorded unless it is the self-paid near miss."""
    v, cat, ln = ed.v, ed.cat, ed.lines
    panel = cat.items(*CHECKUP)
    for u in _tagged(v, i):
        u = int(u)
        js = ed.of(u)
        ed.drop[js[np.isin(cat.chrgitm[ln.item[js]], CARE_TYPES)]] = True
        new = panel[~np.isin(panel, ln.item[js])]
        ed.add(u, new, v.d0[u], v.t0[u] + 600 + 60 * np.arange(len(new)), 1.0)
        if not near:
            pl.record(case, uid=u, detail=f"健康体检（主诊断{CHECKUP_DX[0]}）的{len(new)}项检查检验由统筹基金支付")


def checkup_diagnosis(pl, i, case, tables, visits, ids, near=False):
    """The case's visit coded as a health check (Z00.000 健康查体); the near miss is paid by
    the person (no fund payment), which is how a check-up is settled."""
    mdtrt, setl = tables["mdtrt"].to_pandas(), tables["setl"].to_pandas()
    for pos in np.flatnonzero(visits.tag == i):
        mid = ids[int(pos)].as_py()
        m = mdtrt.index[mdtrt.mdtrt_id == mid]
        mdtrt.loc[m, "dise_codg"], mdtrt.loc[m, "dise_name"] = CHECKUP_DX
        if near:
            for j in setl.index[setl.mdtrt_id == mid]:
                setl.at[j, "psn_cash_pay"] = setl.at[j, "psn_cash_pay"] + setl.at[j, "hifp_pay"]
                setl.at[j, "fund_pay_sumamt"] = setl.at[j, "fund_pay_sumamt"] - setl.at[j, "hifp_pay"]
                setl.at[j, "hifp_pay"] = setl.at[j, "hifp_pay"] - setl.at[j, "hifp_pay"]
    tables["mdtrt"] = pa.Table.from_pandas(mdtrt, schema=tables["mdtrt"].schema, preserve_index=False)
    tables["setl"] = pa.Table.from_pandas(setl, schema=tables["setl"].schema, preserve_index=False)
    return tables


VISIT_PLANTS = {"nursing_days_over_stay": stay_visit, "near_miss:nursing_day_moved": stay_visit,
                "repeated_consultation_fee": consultation_visit, "near_miss:second_visit_same_day": lambda pl, i, case: consultation_visit(pl, i, case, near=True),
                "setting_limit": setting_visit, "near_miss:outpatient_infusion": lambda pl, i, case: setting_visit(pl, i, case, near=True),
                "low_threshold_admission": short_stay, "near_miss:checkup_with_treatment": short_stay,
                "inpatient_without_treatment": lower_level_stay, "near_miss:one_test_kept": lower_level_stay,
                "health_check_billed": checkup_visit, "near_miss:health_check_self_paid": checkup_visit}
FEE_PLANTS = {"nursing_days_over_stay": nursing_days_over_stay, "near_miss:nursing_day_moved": near_nursing_day_moved,
              "repeated_consultation_fee": repeated_consultation_fee,
              "setting_limit": setting_limit, "near_miss:outpatient_infusion": lambda pl, ed, i, case: setting_limit(pl, ed, i, case, near=True),
              "low_threshold_admission": low_threshold_admission,
              "near_miss:checkup_with_treatment": lambda pl, ed, i, case: low_threshold_admission(pl, ed, i, case, near=True),
              "inpatient_without_treatment": stay_without_treatment,
              "near_miss:one_test_kept": lambda pl, ed, i, case: stay_without_treatment(pl, ed, i, case, near=True),
              "health_check_billed": health_check,
              "near_miss:health_check_self_paid": lambda pl, ed, i, case: health_check(pl, ed, i, case, near=True)}
# edits of a scenario's finished tables (what no fee edit reaches: the visit's diagnosis, its settlement)
TABLE_PLANTS = {"health_check_billed": checkup_diagnosis,
                "near_miss:health_check_self_paid": lambda *a: checkup_diagnosis(*a, near=True)}
