"""Background visits of one chunk (``mdtrt`` before billing), all vectorised.

Ordinary outpatient visits with seasonal diagnoses (winter respiratory peak), monthly visits of
chronic patients certified for 门诊慢特病, pharmacy purchases (chronic refills and OTC), and
inpatient stays placed so that one person's stays never overlap and are at least 20 days apart
(no accidental 分解住院); deliveries for women of 20-42. Outpatient and pharmacy visits strictly
inside a stay of the same person are removed (no accidental 住院期间门诊结算).
"""
from __future__ import annotations

import numpy as np

from .cols import Cols
from .people import NO_DEATH
from .region import D, PHARM_DEPT, Region
from .sampling import DAYS, MONTH, MONTH_START, SEASON, WEEKDAY, RowSampler, age_at, categorical

MONTH_FACTOR = np.array([1.35, 1.2, 1.05, 0.95, 0.9, 0.85, 0.9, 0.9, 0.9, 0.95, 1.05, 1.3])
OUT_RATE = ((0, 4.0), (5, 2.2), (15, 1.2), (45, 2.2), (60, 3.0), (75, 3.4))  # ordinary visits a year
STAY_P = ((0, 0.14), (1, 0.06), (15, 0.05), (45, 0.12), (60, 0.21), (75, 0.33))  # share with any stay
# visit category (village, township, county, private, tertiary) by diagnosis tier
OUT_TIER_P = np.array([[0.42, 0.25, 0.20, 0.05, 0.08], [0.08, 0.30, 0.42, 0.05, 0.15],
                       [0.0, 0.10, 0.55, 0.05, 0.30], [0.0, 0.0, 0.40, 0.0, 0.60]])
IN_TIER_P = np.array([[0.0, 0.45, 0.35, 0.15, 0.05], [0.0, 0.35, 0.45, 0.10, 0.10],
                      [0.0, 0.12, 0.55, 0.08, 0.25], [0.0, 0.0, 0.35, 0.0, 0.65]])
LOS_FACTOR = {"tertiary": 1.15, "county": 1.0, "county2": 1.0, "tcm": 1.1, "mch": 0.9, "private": 0.9, "township": 0.8}
_DAY_OUT = RowSampler.from_matrix([MONTH_FACTOR[MONTH] * np.where(WEEKDAY == 6, 0.6, np.where(WEEKDAY == 5, 0.8, 1.0))])
_DAY_PH = RowSampler.from_matrix([MONTH_FACTOR[MONTH]])
_TIER_OUT = RowSampler.from_matrix(OUT_TIER_P)
_TIER_IN = RowSampler.from_matrix(IN_TIER_P)


def _lookup(table, age):
    return np.array([v for _, v in table])[np.searchsorted(np.array([a for a, _ in table]), age, side="right") - 1]


def empty_visits() -> Cols:
    i64 = np.zeros(0, dtype=np.int64)
    return Cols(uid=i64, p=i64, inst=i64, med=i64, d0=i64, d1=i64, t0=i64, t1=i64, dx=i64, doc=i64, bdoc=i64,
                dept=i64, supply=i64, tag=i64)


def make_visits(n, **cols) -> Cols:
    """``n`` visits; missing columns default (doc/bdoc -1, tag -1, d1 = d0, t1 = t0)."""
    base = empty_visits().like(n)
    for k, v in cols.items():
        setattr(base, k, np.broadcast_to(np.asarray(v, dtype=np.int64), (n,)).copy())
    if "d1" not in cols:
        base.d1 = base.d0.copy()
    if "t1" not in cols:
        base.t1 = base.t0.copy()
    if "bdoc" not in cols:
        base.bdoc = base.doc.copy()
    return base


def dept_of(know, dx, age):
    """Department of each visit: the diagnosis's, children to paediatrics (A07)."""
    d = np.array([D[x] for x in know.dx.dept])[dx]
    return np.where((age < 15) & np.isin(d, [D["A03"], D["A02"]]), D["A07"], d)


def choose_institution(cat, pidx, people, region: Region, women_children, rng):
    """Institution of each visit of category ``cat`` (0 village .. 4 tertiary) for persons ``pidx``."""
    c = people.county[pidx]
    s = region.samplers
    out = np.where(cat == 0, people.home_village[pidx], people.home_township[pidx])
    m = cat == 2
    out[m] = s["county"].sample(c[m] * 2 + women_children[m], rng)
    m = cat == 3
    out[m] = s["private"].sample(c[m], rng)
    m = cat == 4
    out[m] = s["tertiary"].sample(c[m], rng)
    return out


def outpatient(people, region, know, rng) -> Cols:
    rate = _lookup(OUT_RATE, people.age0)
    k = rng.poisson(rate)
    p = np.repeat(np.arange(len(people)), k)
    day = _DAY_OUT.sample(np.zeros(len(p), dtype=np.int64), rng)
    keep = (day <= people.death[p]) & (day >= people.birth_day[p])
    p, day = p[keep], day[keep]
    age = age_at(people.by[p], people.bmd[p], day)
    dx = know.samplers["out"].sample(know.dx.key(age, people.sex[p], SEASON[day]), rng)
    cat = _TIER_OUT.sample(know.dx.tier[dx] - 1, rng)
    dept = dept_of(know, dx, age)
    wc = np.isin(dept, [D["A05"], D["A07"]]).astype(np.int64)
    inst = choose_institution(cat, p, people, region, wc, rng)
    doc = region.doctors(inst, dept, rng)
    t0 = 8 * 3600 + (rng.random(len(p)) * 9.5 * 3600).astype(np.int64)
    supply = np.where(age < 15, rng.integers(3, 6, len(p)), rng.integers(3, 8, len(p)))
    return make_visits(len(p), p=p, inst=inst, med=11, d0=day, t0=t0, dx=dx, doc=doc, dept=dept, supply=supply)


def _monthly(people, who, prob, rng):
    """One draw a month with probability ``prob`` for persons ``who``: (person, day)."""
    p = np.repeat(who, 12)
    m = np.tile(np.arange(12), len(who))
    keep = rng.random(len(p)) < prob
    p, m = p[keep], m[keep]
    day = MONTH_START[m] + (rng.random(len(p)) * (MONTH_START[m + 1] - MONTH_START[m])).astype(np.int64)
    keep = day <= people.death[p]
    return p[keep], day[keep]


def chronic(people, region, know, rng) -> Cols:
    p, day = _monthly(people, np.flatnonzero(people.mxt), 0.85, rng)
    t0 = 8 * 3600 + (rng.random(len(p)) * 8 * 3600).astype(np.int64)
    return make_visits(len(p), p=p, inst=people.chronic_inst[p], med=14, d0=day, t0=t0, dx=people.primary_dx[p],
                       doc=people.chronic_doc[p], dept=D["A03"], supply=np.where(rng.random(len(p)) < 0.5, 28, 30))


def pharmacy(people, region, know, rng) -> Cols:
    p1, d1 = _monthly(people, np.flatnonzero(people.chronic > 0), 0.3, rng)
    rx = rng.random(len(p1)) < 0.5
    k = rng.poisson(np.where(people.age0 >= 60, 1.0, 0.75))
    p2 = np.repeat(np.arange(len(people)), k)
    d2 = _DAY_PH.sample(np.zeros(len(p2), dtype=np.int64), rng)
    keep = (d2 <= people.death[p2]) & (d2 >= people.birth_day[p2])
    p2, d2 = p2[keep], d2[keep]
    age2 = age_at(people.by[p2], people.bmd[p2], d2)
    dx2 = know.samplers["ph"].sample(know.dx.key(age2, people.sex[p2], SEASON[d2]), rng)
    p = np.concatenate([p1, p2])
    day = np.concatenate([d1, d2])
    dx = np.concatenate([people.primary_dx[p1], dx2])
    doc = np.concatenate([np.where(rx, people.chronic_doc[p1], -1), np.full(len(p2), -1)])
    supply = np.concatenate([np.where(rng.random(len(p1)) < 0.5, 28, 30), rng.integers(3, 8, len(p2))])
    inst = np.where(rng.random(len(p)) < 0.85, people.home_pharmacy[p], region.samplers["pharmacy"].sample(people.county[p], rng))
    bdoc = region.doctors(inst, np.full(len(p), PHARM_DEPT), rng)
    t0 = 8 * 3600 + (rng.random(len(p)) * 13 * 3600).astype(np.int64)
    return make_visits(len(p), p=p, inst=inst, med=41, d0=day, t0=t0, dx=dx, doc=doc, bdoc=bdoc, dept=PHARM_DEPT, supply=supply)


def stays(people, region, know, rng, persons=None, n_stays=None) -> Cols:
    """Inpatient stays: 1-3 a person, one per equal part of the year, ≥ 20 days apart."""
    if persons is None:
        has = rng.random(len(people)) < _lookup(STAY_P, people.age0)
        persons = np.flatnonzero(has)
        n_stays = 1 + categorical([0.82, 0.14, 0.04], len(persons), rng)
    p = np.repeat(persons, n_stays)
    j = np.concatenate([np.arange(k) for k in n_stays]) if len(persons) else np.zeros(0, dtype=np.int64)
    seg = DAYS // np.repeat(n_stays, n_stays)
    # a stay ends at least 21 days before the next part of the year starts; the last one may
    # start any day (stays not discharged by 31 December are left out: settled next year)
    last = j == np.repeat(n_stays, n_stays) - 1
    d0 = j * seg + (rng.random(len(p)) * np.where(last, DAYS - j * seg - 1, seg - 51)).astype(np.int64)
    age = age_at(people.by[p], people.bmd[p], d0)
    dx = know.samplers["in"].sample(know.dx.key(age, people.sex[p], SEASON[d0]), rng)
    return _admit(p, d0, dx, age, people, region, know, rng)


def _admit(p, d0, dx, age, people, region, know, rng, cat=None) -> Cols:
    if cat is None:
        cat = _TIER_IN.sample(know.dx.tier[dx] - 1, rng)
    dept = dept_of(know, dx, age)
    wc = np.isin(dept, [D["A05"], D["A07"]]).astype(np.int64)
    inst = choose_institution(cat, p, people, region, wc, rng)
    factor = np.array([LOS_FACTOR.get(k, 1.0) for k in region.inst_kind[inst]]) if len(inst) else np.zeros(0)
    mean = know.dx.los[dx] * factor
    los = np.clip(np.rint(rng.gamma(4.0, mean / 4.0)), 1, 30).astype(np.int64)
    d1 = d0 + los
    died = people.death[p]
    ok = (died > d0) & (d0 >= people.birth_day[p]) & (d1 < DAYS)
    d1 = np.minimum(d1, died)
    t0 = 8 * 3600 + (rng.random(len(p)) * 12 * 3600).astype(np.int64)
    t1 = 9 * 3600 + (rng.random(len(p)) * 2.5 * 3600).astype(np.int64)
    doc = region.doctors(inst, dept, rng)
    v = make_visits(len(p), p=p, inst=inst, med=21, d0=d0, d1=d1, t0=t0, t1=t1, dx=dx, doc=doc, dept=dept, supply=7)
    return v.take(ok)


def deliveries(people, region, know, rng, exclude) -> Cols:
    """Women of 20-42 giving birth (O80 / O82), not those with another stay this year."""
    age = people.age0
    cand = np.flatnonzero((people.sex == 2) & (age >= 20) & (age <= 41) & ~exclude & (people.death == NO_DEATH))
    p = cand[rng.random(len(cand)) < 0.05]
    d0 = rng.integers(0, DAYS - 1, len(p))
    cs = rng.random(len(p)) < 0.4
    dx = np.where(cs, know.dx.idx["O82"], know.dx.idx["O80"])
    cat = np.where(rng.random(len(p)) < 0.55, 2, np.where(rng.random(len(p)) < 0.75, 4, 3))
    return _admit(p, d0, dx, age_at(people.by[p], people.bmd[p], d0), people, region, know, rng, cat=cat)


def inside_stay(people_n, stays_: Cols):
    """Boolean (person x day): the day lies strictly inside one of the person's stays."""
    occ = np.zeros((people_n, DAYS + 1), dtype=bool)
    n_in = np.maximum(stays_.d1 - stays_.d0 - 1, 0)
    p = np.repeat(stays_.p, n_in)
    from .sampling import within

    d = np.repeat(stays_.d0 + 1, n_in) + within(n_in)
    occ[p, d] = True
    return occ


def background(people, region, know, rng) -> Cols:
    """Every background visit of the chunk, stays first (``tag`` -1, ``uid`` unset)."""
    st = stays(people, region, know, rng)
    has = np.zeros(len(people), dtype=bool)
    has[st.p] = True
    st = Cols.concat([st, deliveries(people, region, know, rng, has)])
    out = Cols.concat([outpatient(people, region, know, rng), chronic(people, region, know, rng), pharmacy(people, region, know, rng)])
    occ = inside_stay(len(people), st)
    out = out.take(~occ[out.p, out.d0])
    out.supply = refill_chain(out)
    return Cols.concat([st, out])


def refill_chain(v: Cols, min_supply: int = 28):
    """Supplies of a person's long refills (门特 visits and monthly pharmacy refills, 28-30 days)
    cut so that none runs past the person's next long refill, at whichever institution: a doctor
    prescribes up to the next refill, so the background has no 重复开药. Deterministic (no draw),
    so every random stream of the chunk stays as it was; only quantities change."""
    supply = v.supply.copy()
    long_ = np.flatnonzero(np.isin(v.med, (14, 41)) & (supply >= min_supply))
    if len(long_) < 2:
        return supply
    order = long_[np.lexsort((v.t0[long_], v.d0[long_], v.p[long_]))]
    same = v.p[order[1:]] == v.p[order[:-1]]
    gap = v.d0[order[1:]] - v.d0[order[:-1]]
    cut = order[:-1][same]
    supply[cut] = np.minimum(supply[cut], np.maximum(gap[same], 1))
    return supply

