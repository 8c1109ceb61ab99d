"""Planted scenarios that add visits or change a diagnosis (before billing).

Each function plants one case in a :class:`~workbench.synth.planter.ChunkPlanter` and records
its truth row(s). Every planted case is clearly beyond the rule's default threshold
(``docs/rules-spec.md``); near misses sit just inside it and are not recorded.
"""
from __future__ import annotations

import numpy as np

from .region import PHARM_DEPT
from .sampling import DAYS, MONTH_START, SEASON, join_members

STAY_DX = ("J18.9", "I63.9", "J44.1", "I25.1", "E11.9", "I50.9", "K29.7", "N39.0", "M54.5", "I10")
MINOR_DX = ("J06.9", "K29.7", "M54.5", "R51", "J02.9")
LSA_DX = ("J06.9", "I10", "M54.5", "K29.7", "J20.9", "R51")
RING_DRUGS = ("shensong", "jinshuibao", "ejiao_syrup")


def _county(pl):
    return pl.chunk.county


def split_stay(pl, i, case, gap=None, near=False):
    p = pl.persons(1, pl.free(30, 85))
    if not len(p):
        return
    p = int(p[0])
    inst = case.params.get("inst")
    if inst is None:
        inst = int(pl.choose(pl.inpatient_insts(_county(pl))))
    g0, g1 = gap or case.params.get("gap", (0, 14))
    d0a = int(pl.rng.integers(5, 280))
    d1a = d0a + int(pl.rng.integers(4, 10))
    g = int(pl.rng.integers(g0, g1 + 1))
    d0b = d1a + g
    d1b = d0b + int(pl.rng.integers(3, 9))
    dx = pl.pick_dx(p, d0a, STAY_DX)
    pl.clear(p, d0a, d1b)
    pl.add_stay(i, p, inst, dx, d0a, d1a)
    uid = pl.add_stay(i, p, inst, dx, d0b, d1b)
    if not near:
        pl.record(case, uid=uid, p=p, inst=inst, detail=f"出院后{g}天在同一机构以同一诊断({pl.know.dx.code[dx]})再次入院")


def _distinct_days(pl, start, width, n):
    return np.sort(start + pl.rng.choice(width, size=n, replace=False))


def frequent_outpatient(pl, i, case, n=None, near=False):
    p = pl.persons(1, pl.free(5))
    if not len(p):
        return
    p = int(p[0])
    ws = int(pl.rng.integers(35, DAYS - 65))
    n = n or int(pl.rng.integers(15, 26))
    if near:
        pl.clear(p, ws - 31, ws + 59, meds=(11, 14))
    days = _distinct_days(pl, ws, 28, n)
    ppl = pl.people
    inst = np.where(pl.rng.random(n) < 0.5, ppl.home_village[p], ppl.home_township[p])
    dx = [pl.pick_dx(p, d, MINOR_DX) for d in days]
    pl.add(i, p=p, inst=inst, med=11, d0=days, dx=dx, supply=3)
    if not near:
        pl.record(case, p=p, detail=f"28天内门诊就诊{n}次")


def frequent_purchase(pl, i, case, n=None, near=False):
    p = pl.persons(1, pl.free(18))
    if not len(p):
        return
    p = int(p[0])
    ws = int(pl.rng.integers(35, DAYS - 65))
    n = n or int(pl.rng.integers(12, 21))
    if near:
        pl.clear(p, ws - 31, ws + 59, meds=(41,))
    days = _distinct_days(pl, ws, 28, n)
    ppl = pl.people
    other = pl.region.samplers["pharmacy"].sample(np.full(n, _county(pl)), pl.rng)
    inst = np.where(pl.rng.random(n) < 0.8, ppl.home_pharmacy[p], other)
    dx = ppl.primary_dx[p] if ppl.primary_dx[p] >= 0 else pl.pick_dx(p, ws, ("J06.9", "K29.7", "M54.5"))
    pl.add(i, p=p, inst=inst, med=41, d0=days, dx=dx, supply=pl.rng.integers(5, 15, n))
    if not near:
        pl.record(case, p=p, detail=f"28天内在定点药店购药{n}次（疑似医保卡套现）")


def frequent_admission(pl, i, case, n=None, near=False):
    p = pl.persons(1, pl.free(40, 80))
    if not len(p):
        return
    p = int(p[0])
    n = n or int(pl.rng.integers(7, 10))
    insts = pl.inpatient_insts(_county(pl))
    d = int(pl.rng.integers(0, 10))
    first = d
    for _ in range(n):
        d1 = d + int(pl.rng.integers(2, 6))
        pl.add_stay(i, p, int(pl.choose(insts)), pl.pick_dx(p, d, STAY_DX), d, d1)
        last = d1
        d = d1 + int(pl.rng.integers(20, 31))
    pl.clear(p, first, last)
    if not near:
        pl.record(case, p=p, detail=f"一年内住院{n}次")


def overlapping_stays(pl, i, case):
    p = pl.persons(1, pl.free(40, 85))
    if not len(p):
        return
    p = int(p[0])
    insts = pl.inpatient_insts(_county(pl))
    a = int(pl.choose(insts))
    b = int(pl.choose(insts[insts != a]))
    d0a = int(pl.rng.integers(5, 300))
    d1a = d0a + int(pl.rng.integers(6, 11))
    d0b = int(pl.rng.integers(d0a + 1, d1a - 1))
    d1b = d0b + int(pl.rng.integers(3, 7))
    pl.clear(p, d0a, max(d1a, d1b))
    pl.add_stay(i, p, a, pl.pick_dx(p, d0a, STAY_DX), d0a, d1a)
    uid = pl.add_stay(i, p, b, pl.pick_dx(p, d0b, STAY_DX), d0b, d1b)
    pl.record(case, uid=uid, p=p, inst=b, detail=f"在另一机构住院期间（重叠{d1a - d0b + 1}天）又在本机构住院")


def claims_after_death(pl, i, case):
    ppl = pl.people
    p = pl.persons(1, (ppl.death < DAYS - 20) & (ppl.age0 >= 18))
    if not len(p):
        return
    p = int(p[0])
    death = int(ppl.death[p])
    day = death + int(pl.rng.integers(3, min(60, DAYS - 1 - death) + 1))
    if pl.rng.random() < 0.5:
        dx = ppl.primary_dx[p] if ppl.primary_dx[p] >= 0 else pl.know.dx.idx["J06.9"]
        uid = pl.add(i, p=p, inst=ppl.home_pharmacy[p], med=41, d0=day, dx=dx, supply=14)[0]
    else:
        uid = pl.add(i, p=p, inst=ppl.home_village[p], med=11, d0=day, dx=pl.pick_dx(p, day, MINOR_DX), supply=5)[0]
    pl.record(case, uid=int(uid), p=p, inst=None, detail=f"参保人死亡{day - death}天后仍有就诊结算")


def outpatient_during_stay(pl, i, case):
    v = pl.all_visits
    u = pl.background_visit((v.med == 21) & (v.d1 - v.d0 >= 3) & (v.d1 < DAYS))
    if u is None:
        return
    p, d0, d1 = int(v.p[u]), int(v.d0[u]), int(v.d1[u])
    day = int(pl.rng.integers(d0 + 1, d1))
    ppl = pl.people
    if pl.rng.random() < 0.5 and ppl.home_village[p] != v.inst[u]:
        uid = pl.add(i, p=p, inst=ppl.home_village[p], med=11, d0=day, dx=pl.pick_dx(p, day, MINOR_DX), supply=5)[0]
    else:
        dx = ppl.primary_dx[p] if ppl.primary_dx[p] >= 0 else pl.pick_dx(p, day, MINOR_DX)
        uid = pl.add(i, p=p, inst=ppl.home_pharmacy[p], med=41, d0=day, dx=dx, supply=7)[0]
    pl.record(case, uid=int(uid), p=p, detail=f"住院期间（第{day - d0 + 1}天）另有门诊或购药结算")


def _age_at_visit(pl, u):
    v = pl.all_visits
    return int(pl.age(v.p[u], v.d0[u]))


def diagnosis_sex_mismatch(pl, i, case):
    v = pl.all_visits
    ages = pl.age(v.p, v.d0)
    u = pl.background_visit((v.med == 11) & (ages >= 16))
    if u is None:
        return
    male = pl.people.sex[v.p[u]] == 1
    code = str(pl.choose(np.array(["N92.0", "N76.0", "N83.2"] if male else ["N40", "N41.1"])))
    v.dx[u] = pl.know.dx.idx[code]
    v.tag[u] = i
    pl.record(case, uid=u, p=int(v.p[u]), inst=int(v.inst[u]), detail=f"{'男' if male else '女'}性患者诊断为{code} {pl.know.dx.name[v.dx[u]]}")


def diagnosis_age_mismatch(pl, i, case):
    v = pl.all_visits
    ages = pl.age(v.p, v.d0)
    u = pl.background_visit((v.med == 11) & (ages >= 18))
    if u is None:
        return
    age = int(ages[u])
    if pl.people.sex[v.p[u]] == 2 and age >= 60:
        code = "O26.9"
    elif age <= 50 and pl.rng.random() < 0.5:
        code = "R54"
    else:
        code = str(pl.choose(np.array(["P59.9", "P07.3"])))
    v.dx[u] = pl.know.dx.idx[code]
    v.tag[u] = i
    pl.record(case, uid=u, p=int(v.p[u]), inst=int(v.inst[u]), detail=f"{age}岁患者诊断为{code} {pl.know.dx.name[v.dx[u]]}")


def low_standard_admission(pl, i, case):
    inst = case.params["inst"]
    for p in pl.persons(case.params["n"], pl.free(18, 75)):
        d0 = int(pl.rng.integers(0, DAYS - 6))
        d1 = d0 + int(pl.rng.integers(2, 4))
        pl.clear(int(p), d0, d1)
        pl.add_stay(i, int(p), inst, pl.pick_dx(int(p), d0, LSA_DX), d0, d1)


def collusion_ring(pl, i, case):
    prm = case.params
    pats = pl.persons(prm["n_patients"], pl.free(40, 80))
    if len(pats) < 6 or not prm["docs"]:
        return
    r, cat, ppl = pl.region, pl.know.cat, pl.people
    drugs = cat.items(*pl.rng.choice(RING_DRUGS, size=int(pl.rng.integers(2, 4)), replace=False))
    for p in pats:
        months = np.sort(pl.rng.choice(12, size=int(pl.rng.integers(6, 13)), replace=False))
        days = MONTH_START[months] + pl.rng.integers(0, 26, len(months))
        doc = np.array(prm["docs"])[pl.rng.integers(0, len(prm["docs"]), len(days))]
        dx = ppl.primary_dx[p] if ppl.primary_dx[p] >= 0 else pl.know.dx.idx["I25.1"]
        t0 = 9 * 3600 + pl.rng.integers(0, 2 * 3600, len(days))
        u1 = pl.add(i, p=p, inst=r.dr_inst[doc], med=11, d0=days, t0=t0, dx=dx, doc=doc, bdoc=doc, supply=28)
        u2 = pl.add(i, p=p, inst=prm["pharmacy"], med=41, d0=days, t0=t0 + pl.rng.integers(3600, 3 * 3600, len(days)),
                    dx=dx, doc=doc, dept=PHARM_DEPT, supply=28)
        for u in u1:
            pl.special[int(u)] = ("no_drugs",)
        for u in u2:
            pl.special[int(u)] = ("ring", drugs)
    codes = [r.dr_code[d] for d in prm["docs"]]
    names = "、".join(cat.name[d] for d in drugs)
    pl.record(case, inst=prm["pharmacy"], members=lambda ids: join_members(ids, pats, codes),
              detail=f"{len(codes)}名医师为{len(pats)}名参保人开具处方，当天在同一药店购买{names}")


def impossible_volume(pl, i, case):
    prm = case.params
    need = max(prm["per_day"])
    pool = pl.persons(need + 30, pl.free(1))
    if len(pool) < need:
        return
    doc = prm["doc"]
    inst = pl.region.dr_inst[doc]
    ppl = pl.people
    for day, k in zip(prm["days"], prm["per_day"]):
        p = pl.rng.choice(pool, size=k, replace=False)
        age = pl.age(p, np.full(k, day))
        dx = pl.know.samplers["out"].sample(pl.know.dx.key(age, ppl.sex[p], SEASON[day]), pl.rng)
        t0 = 8 * 3600 + pl.rng.integers(0, 9 * 3600, k)
        pl.add(i, p=p, inst=inst, med=11, d0=day, t0=t0, dx=dx, doc=doc, bdoc=doc, supply=pl.rng.integers(3, 8, k))
    pl.record(case, inst=int(inst), doc=doc, detail=f"医师在{len(prm['days'])}天里每天接诊{min(prm['per_day'])}-{max(prm['per_day'])}人次")


def borrowed_doctor_code(pl, i, case):
    prm = case.params
    v = pl.all_visits
    chosen = []
    for _ in range(prm["n"]):
        u = pl.background_visit((v.med == 11) & (v.inst == prm["host"]))
        if u is None:
            break
        chosen.append(u)
    if len(chosen) < 3:
        return
    doc = prm["doc"]
    v.doc[chosen] = doc
    v.bdoc[chosen] = doc
    v.tag[chosen] = i
    r = pl.region
    pl.record(case, inst=int(r.dr_inst[doc]), doc=doc,
              detail=f"{r.inst_name[r.dr_inst[doc]]}医师的医保医师代码在{r.inst_name[prm['host']]}被用于{len(chosen)}次就诊收费")


def duplicate_enrollment(pl, i, case):
    p = pl.persons(1, pl.free(18, 80, stays=True))
    if not len(p):
        return
    p = int(p[0])
    r = pl.region
    c = _county(pl)
    same_city = np.flatnonzero(r.county_city == r.county_city[c])
    other = same_city[same_city != c]
    county = int(pl.choose(other)) if len(other) else c
    insutype = "390" if pl.people.insutype[p] == 310 else "310"
    serial = 900_000_000_000 + pl.chunk.index * 10_000 + len(pl.extra)
    pl.extra.append({"p": p, "serial": serial, "city": r.county_code[county][:4], "admdvs": r.county_code[county],
                     "insutype": insutype, "begn": int(pl.rng.integers(-500, 100))})
    orig = pl.ident["psn_no"][p].as_py()
    entry = pl.extra[-1]
    pl.raw_truth.append({"case": case, "uid": None, "p": None, "inst": None, "doc": None, "members": None,
                         "detail": f"同一身份证号在{r.county_name[c]}与{r.county_name[county]}重复参保（{pl.people.insutype[p]}与{insutype}）",
                         "psn_no": orig, "dup": entry})


# --- near misses (not in truth) -----------------------------------------------------------------
def near_miss(pl, i, case):
    kind = case.scenario.split(":", 1)[1]
    if kind == "readmission_20_days":
        split_stay(pl, i, case, gap=(20, 30), near=True)
    elif kind == "visits_12_in_30_days":
        frequent_outpatient(pl, i, case, n=12, near=True)
    elif kind == "purchases_10_in_30_days":
        frequent_purchase(pl, i, case, n=10, near=True)
    elif kind == "admissions_6_in_year":
        frequent_admission(pl, i, case, n=6, near=True)
    elif kind == "transfer_same_day":
        p = pl.persons(1, pl.free(40, 85))
        if len(p):
            p = int(p[0])
            a = int(pl.choose(pl.inpatient_insts(_county(pl), tertiary=False)))
            b = int(pl.choose(pl.region.by_kind[(_county(pl), "tertiary")]))
            d0 = int(pl.rng.integers(5, 300))
            d1 = d0 + int(pl.rng.integers(3, 7))
            d2 = d1 + int(pl.rng.integers(5, 12))
            dx = pl.pick_dx(p, d0, STAY_DX)
            pl.clear(p, d0, d2)
            pl.add_stay(i, p, a, dx, d0, d1)
            pl.add_stay(i, p, b, dx, d1, d2)
    elif kind == "visit_on_stay_edge":
        v = pl.all_visits
        u = pl.background_visit((v.med == 21) & (v.d1 < DAYS))
        if u is not None:
            p = int(v.p[u])
            day = int(v.d0[u] if pl.rng.random() < 0.5 else v.d1[u])
            pl.add(i, p=p, inst=pl.people.home_pharmacy[p], med=41, d0=day, dx=pl.pick_dx(p, day, MINOR_DX), supply=5)


VISIT_PLANTS = {
    "split_stay": split_stay, "frequent_outpatient": frequent_outpatient, "frequent_purchase": frequent_purchase,
    "frequent_admission": frequent_admission, "overlapping_stays": overlapping_stays,
    "claims_after_death": claims_after_death, "outpatient_during_stay": outpatient_during_stay,
    "diagnosis_sex_mismatch": diagnosis_sex_mismatch, "diagnosis_age_mismatch": diagnosis_age_mismatch,
    "low_standard_admission": low_standard_admission, "collusion_ring": collusion_ring,
    "impossible_volume": impossible_volume, "borrowed_doctor_code": borrowed_doctor_code,
    "duplicate_enrollment": duplicate_enrollment,
    **{f"near_miss:{k}": near_miss for k in ("readmission_20_days", "visits_12_in_30_days", "purchases_10_in_30_days",
                                             "admissions_6_in_year", "transfer_same_day", "visit_on_stay_edge")},
}
