"""Plant functions of the card, settlement and enrolment scenarios of the supplement (issue 21,
helper R3).

Registered in :data:`workbench.synth.supplement.SUPPLEMENT_CASES` after the earlier scenarios;
like :mod:`workbench.synth.plant_more` they run in a planter of the supplement's own persons (no
background visits). A visit function adds the visits a case needs; a table function (same
scenario name, :data:`TABLE_PLANTS`) edits the scenario's finished tables (settlements,
enrolment spells, persons' insurance place), which no fee edit reaches. Each planted case is
clearly beyond its rule's default threshold; near misses sit just inside it and are not recorded.
"""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .plant_more import _tagged
from .plant_visits import STAY_DX
from .sampling import DAYS, EPOCH_DAY

# persons made per case (a case may need several; the rest are insured without claims)
PERSONS_PER_CASE = {"card_multi_institution_same_day": 2, "three_institutions_one_day": 2,
                    "settlement_fee_mismatch": 2, "settlement_rounding": 2,
                    "settlement_outside_enrolment": 2, "settled_on_last_day": 2,
                    "out_of_area_concentration": 600, "few_out_of_area": 12}

# one diagnosis per place, from unrelated systems, so no two visits of a day dispense one drug
# (no accidental 重复开药) and no visit is a repeat of another
SPREAD_DX = ("J06.9", "M54.5", "K29.7", "L30.9", "H10.9", "J02.9")
# insurance places (参保地) of other cities: 临沂兰山区, 济南历下区, 南京玄武区
OTHER_CITIES = ("371302", "370102", "320102")


def _free_insts(pl, kind):
    r = pl.region
    its = r.by_kind[(pl.chunk.county, kind)]
    return its[r.inst_flags[its] == 0]


def _one_person(pl, lo=20, hi=75):
    p = pl.persons(1, pl.free(lo, hi))
    return int(p[0]) if len(p) else None


def _outpatient(pl, i, p, inst, d, dx, t0=None):
    kw = {} if t0 is None else {"t0": t0}
    return int(pl.add(i, p=p, inst=inst, med=11, d0=d, dx=pl.pick_dx(p, d, (dx,)), **kw)[0])


# --- card_multi_institution_same_day: one card at many places on one day --------------------------
def many_places(pl, i, case, near=False):
    """Outpatient visits at a village clinic, the township centre and a county hospital, and a
    purchase at one or two pharmacies, all on one day (4-5 places); the near miss: three places
    on one day (clinic, hospital, pharmacy: ordinary) and a fourth on the next day."""
    p = _one_person(pl)
    if p is None:
        return
    ppl = pl.people
    hosps = pl.inpatient_insts(pl.chunk.county, tertiary=False, exclude=(int(ppl.home_township[p]),))
    pharm = pl.rng.permutation(_free_insts(pl, "pharmacy"))
    if not len(hosps) or not len(pharm):  # a region too small for four places (tiny scale)
        return
    hosp = int(pl.choose(hosps))
    places = [(int(ppl.home_village[p]), 11), (int(ppl.home_township[p]), 11), (hosp, 11), (int(pharm[0]), 41)]
    if not near and pl.rng.random() < 0.5 and len(pharm) > 1:
        places.append((int(pharm[1]), 41))
    d = int(pl.rng.integers(5, DAYS - 6))
    dxs = pl.rng.permutation(SPREAD_DX)
    uids = []
    for k, (inst, med) in enumerate(places):
        day = d + 1 if near and k == 1 else d
        t0 = 8 * 3600 + k * 2 * 3600 + int(pl.rng.integers(0, 3600))
        dx = pl.pick_dx(p, day, (str(dxs[k]),))
        uids.append(int(pl.add(i, p=p, inst=inst, med=med, d0=day, t0=t0, dx=dx)[0]))
    if not near:
        pl.record(case, p=p, detail=f"同一医保凭证同日在{len(places)}家定点医药机构结算（含药店{len(places) - 3}家）")


def near_three_places(pl, i, case):
    many_places(pl, i, case, near=True)


# --- settlement_fee_mismatch / settlement_outside_enrolment: one ordinary visit ------------------
def plain_visit(pl, i, case):
    """An outpatient visit of a new person at a county hospital (the table plant changes its
    settlement or the person's enrolment)."""
    p = _one_person(pl)
    if p is None:
        return
    inst = int(pl.choose(pl.inpatient_insts(pl.chunk.county, tertiary=False)))
    d = int(pl.rng.integers(40, DAYS - 40))
    _outpatient(pl, i, p, inst, d, str(pl.choose(np.array(SPREAD_DX))))


def _case_rows(visits, i):
    return np.flatnonzero(visits.tag == i)


def _fen(x):
    return Decimal(int(x)) / 100


def _settle_more(pl, i, case, tables, visits, ids, near=False):
    """The visit settled for more than its lines: 20-60 % more (at least 30 yuan), the fund
    paying its usual ratio on the excess; the near miss: 0.60 yuan more (a rounding difference
    within the tolerance)."""
    setl = tables["setl"].to_pandas()
    for pos in _case_rows(visits, i):
        mid = ids[int(pos)].as_py()
        j = setl.index[setl.mdtrt_id == mid][0]
        medfee = setl.at[j, "medfee_sumamt"]
        total_fen = int(medfee * 100)
        extra = 60 if near else max(3000, int(total_fen * pl.rng.uniform(0.2, 0.6)))
        hifp_extra = extra * int(setl.at[j, "hifp_pay"] * 100) // max(total_fen, 1)
        setl.at[j, "medfee_sumamt"] = medfee + _fen(extra)
        setl.at[j, "hifp_pay"] = setl.at[j, "hifp_pay"] + _fen(hifp_extra)
        setl.at[j, "fund_pay_sumamt"] = setl.at[j, "hifp_pay"]
        setl.at[j, "psn_cash_pay"] = setl.at[j, "psn_cash_pay"] + _fen(extra - hifp_extra)
        if not near:
            pl.record(case, uid=int(visits.uid[pos]),
                      detail=f"结算医疗费总额{setl.at[j, 'medfee_sumamt']}元，费用明细合计{medfee}元，多结算{_fen(extra)}元")
    tables["setl"] = pa.Table.from_pandas(setl, schema=tables["setl"].schema, preserve_index=False)
    return tables


def settle_more(pl, i, case, tables, visits, ids):
    return _settle_more(pl, i, case, tables, visits, ids)


def near_settle_rounding(pl, i, case, tables, visits, ids):
    return _settle_more(pl, i, case, tables, visits, ids, near=True)


def _outside_spell(pl, i, case, tables, visits, ids, near=False):
    """The person's only spell ended 15-120 days before the visit (断保), or began 15-120 days
    after it (参保前就医); the near miss: the spell ended on the day of the visit."""
    insu = tables["insu"].to_pandas()
    for pos in _case_rows(visits, i):
        psn_no = tables["mdtrt"].column("psn_no")[int(pos)].as_py()
        day = np.datetime64("1970-01-01") + np.timedelta64(int(EPOCH_DAY + visits.d0[pos]), "D")
        j = insu.index[insu.psn_no == psn_no][0]
        k = int(pl.rng.integers(15, 121))
        if near:
            insu.at[j, "enddate"] = day.astype(object)
            continue
        if pl.rng.random() < 0.5:
            insu.at[j, "enddate"] = (day - np.timedelta64(k, "D")).astype(object)
            how = f"参保记录于就诊前{k}天终止"
        else:
            insu.at[j, "begndate"] = (day + np.timedelta64(k, "D")).astype(object)
            how = f"参保记录于就诊后{k}天才开始"
        pl.record(case, uid=int(visits.uid[pos]), detail=f"结算日期不在任何参保期间内（{how}）")
    tables["insu"] = pa.Table.from_pandas(insu, schema=tables["insu"].schema, preserve_index=False)
    return tables


def outside_spell(pl, i, case, tables, visits, ids):
    return _outside_spell(pl, i, case, tables, visits, ids)


def near_last_day(pl, i, case, tables, visits, ids):
    return _outside_spell(pl, i, case, tables, visits, ids, near=True)


# --- out_of_area_concentration: an institution's stays of persons insured in other cities ---------
def _small_private(pl, near=False):
    """Private hospitals without planted behaviour, 一级 (level index 2) first: the small ones an
    organised stream of outside patients would dominate (the near miss: 二级 ones first, so it
    does not join a planted case). Any county: the persons are moved to another city anyway."""
    r = pl.region
    ok = (r.inst_kind == "private") & (r.inst_flags == 0)
    ok[list(getattr(pl, "ooa_insts", ()))] = False
    first = np.flatnonzero(ok & ((r.inst_lv != 2) if near else (r.inst_lv == 2)))
    return first if len(first) else np.flatnonzero(ok)


STREAM_STAY_DAYS = 15  # the planted stays' mean length (12-18 days)


def _stream_persons(pl, inst, drawn):
    """Persons of a planted stream at ``inst``: the ``drawn`` 22-26, or as many stays of
    STREAM_STAY_DAYS as bill what the institution billed on its own (the chunks' background,
    ``pl.background``) if that is more, so that the stream is about half the institution's money
    at every scale (a 一级 private hospital of a synthetic city bills several times one of the
    demo's: 22-26 stays made 6-11 % of its fund money there)."""
    acc = getattr(pl, "background", None)
    if acc is None:
        return drawn
    own = float(acc.money.reshape(acc.n_inst, -1)[inst].sum())
    days, money = acc.stay_days, acc.stay_money
    per_day = money[inst] / days[inst] if days[inst] > 0 else money.sum() / max(days.sum(), 1)
    if per_day <= 0:
        return drawn
    return max(drawn, int(np.ceil(own / (per_day * STREAM_STAY_DAYS))))


def out_of_area_stays(pl, i, case, near=False):
    """Stays of new persons, 12-18 days each, at a small private hospital, spread over the year:
    22-26 persons, or as many as bill what the hospital bills on its own (_stream_persons);
    6 for the near miss (too few persons). The table plant moves the persons' insurance to
    another city."""
    its = _small_private(pl, near)
    if not len(its):
        return
    inst = int(pl.choose(its))
    pl.ooa_insts = getattr(pl, "ooa_insts", set()) | {inst}
    n = 6 if near else _stream_persons(pl, inst, int(pl.rng.integers(22, 27)))
    k = 0
    for _ in range(n):
        p = _one_person(pl, 30, 85)
        if p is None:
            break
        d0 = int(pl.rng.integers(5, DAYS - 20))
        pl.add_stay(i, p, inst, pl.pick_dx(p, d0, STAY_DX), d0, d0 + int(pl.rng.integers(12, 19)))
        k += 1
    if not near:
        pl.record(case, inst=inst, detail=f"{k}名外地（其他城市）参保人在本机构住院，异地就医基金支出占比异常高")


def near_few_out_of_area(pl, i, case):
    out_of_area_stays(pl, i, case, near=True)


def move_insurance(pl, i, case, tables, visits, ids):
    """The persons of the case's visits insured in another city (psn and insu alike)."""
    rows = _case_rows(visits, i)
    if not len(rows):
        return tables
    persons = pc.unique(tables["mdtrt"].column("psn_no").take(pa.array(rows)))
    city = str(OTHER_CITIES[int(pl.rng.integers(len(OTHER_CITIES)))])
    for name in ("psn", "insu"):
        t = tables[name]
        hit = pc.is_in(t.column("psn_no"), value_set=persons)
        col = pc.if_else(hit, pa.scalar(city, pa.string()), t.column("insuplc_admdvs"))
        tables[name] = t.set_column(t.schema.get_field_index("insuplc_admdvs"), "insuplc_admdvs", col)
    return tables


VISIT_PLANTS = {"card_multi_institution_same_day": many_places, "near_miss:three_institutions_one_day": near_three_places,
                "settlement_fee_mismatch": plain_visit, "near_miss:settlement_rounding": plain_visit,
                "settlement_outside_enrolment": plain_visit, "near_miss:settled_on_last_day": plain_visit,
                "out_of_area_concentration": out_of_area_stays, "near_miss:few_out_of_area": near_few_out_of_area}
FEE_PLANTS = {}
TABLE_PLANTS = {"settlement_fee_mismatch": settle_more, "near_miss:settlement_rounding": near_settle_rounding,
                "settlement_outside_enrolment": outside_spell, "near_miss:settled_on_last_day": near_last_day,
                "out_of_area_concentration": move_insurance, "near_miss:few_out_of_area": move_insurance}
