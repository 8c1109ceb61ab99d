"""Planted scenarios that change a visit's fee lines (after billing).

Each function picks one unplanted background visit (of an unused person, at an institution
without planted behaviour) that can carry the case, edits its lines through :class:`FeeEdit`
and records the truth row. Drug lines are never repriced (that would also be a 违规加价 in the
stock ledger); duplicates are drug lines of a stay (a duplicate test would also break the
frequency limit).
"""
from __future__ import annotations

import numpy as np

from .billing import COURSE_DAYS, allowed, new_lines, supply_cnt
from .cols import Cols
from .knowledge import LEVEL_RANK
from .sampling import DAYS

LEVEL_ITEMS = ("head_ct_enh", "head_mri", "gastroscopy", "coronary_angio")


class FeeEdit:
    """Edits of a chunk's fee lines (sorted by visit): changes in place, drops and additions."""

    def __init__(self, pl, visits, lines):
        self.pl, self.v, self.lines = pl, visits, lines
        self.cat = pl.know.cat
        self.start = np.searchsorted(lines.v, np.arange(len(visits) + 1))
        self.drop = np.zeros(len(lines), dtype=bool)
        self.added = []
        self.lv = pl.region.inst_lv[visits.inst]
        self.ctx = Cols(sex=pl.people.sex[visits.p], age=pl.age(visits.p, visits.d0), lv=self.lv,
                        rank=LEVEL_RANK[self.lv], dx=visits.dx)
        self._has = {}
        self._mask = {}

    def of(self, u):
        return np.arange(self.start[u], self.start[u + 1])

    def mask(self, key, make):
        """A line mask computed once per chunk (cases change only their own visit's lines)."""
        if key not in self._mask:
            self._mask[key] = make()
        return self._mask[key]

    def has(self, key, line_mask):
        """Visits with a line of ``line_mask`` (cached under ``key``)."""
        if key not in self._has:
            self._has[key] = np.bincount(self.lines.v[line_mask], minlength=len(self.v)) > 0
        return self._has[key]

    def add(self, u, item, day, sec, cnt, pric=None):
        item = np.atleast_1d(np.asarray(item, dtype=np.int64))
        n = len(item)
        ln = new_lines(np.full(n, u), item, "plant", item, day, sec, cnt, self.v.bdoc[u])
        ln.pric = self.cat.price_fen[item, self.lv[u]] if pric is None else np.broadcast_to(np.asarray(pric, dtype=np.int64), (n,)).copy()
        self.added.append(ln)

    def copy_line(self, j, **changes):
        ln = self.lines.take(np.array([j]))
        for k, val in changes.items():
            getattr(ln, k)[:] = val
        self.added.append(ln)

    def ensure_lines(self):
        """A planted pharmacy purchase whose drugs were all unpaid for the person still buys
        something (a planted visit must survive into the data)."""
        v = self.v
        empty = np.flatnonzero((v.tag >= 0) & (v.med == 41) & (self.start[1:] == self.start[:-1]))
        item = self.cat.idx["lianhua"]
        for u in empty:
            self.add(int(u), item, v.d0[u], v.t0[u], supply_cnt(self.cat, np.array([item]), min(int(v.supply[u]), 7)))

    def apply_special(self, special):
        cat = self.cat
        for u, spec in sorted(special.items()):
            js = self.of(u)
            if spec[0] == "no_drugs":
                self.drop[js[cat.is_drug[self.lines.item[js]]]] = True
            elif spec[0] == "ring":
                self.drop[js] = True
                drugs = spec[1]
                self.add(u, drugs, self.v.d0[u], self.v.t0[u], supply_cnt(cat, drugs, 28))

    def result(self) -> Cols:
        lines = Cols.concat([self.lines.take(~self.drop)] + self.added)
        return lines.take(np.argsort(lines.v, kind="stable"))


def _meds(v, *meds):
    return np.isin(v.med, meds)


def _one(pl, js):
    return int(js[int(pl.rng.integers(len(js)))])


def price_over_cap(pl, ed, i, case):
    cat, ln, v = ed.cat, ed.lines, ed.v
    m = ed.mask("cap", lambda: ~cat.is_drug[ln.item] & (cat.cap_fen[ln.item] > 0))
    u = pl.background_visit(_meds(v, 11, 14, 21) & ed.has("cap", m))
    if u is None:
        return
    js = ed.of(u)
    j = _one(pl, js[m[js]])
    cap = int(cat.cap_fen[ln.item[j]])
    ln.pric[j] = int(np.ceil(cap * pl.rng.uniform(1.25, 1.8) / 10.0)) * 10
    v.tag[u] = i
    pl.record(case, uid=u, detail=f"{cat.name[ln.item[j]]}单价{ln.pric[j] / 100:.2f}元，超过最高限价{cap / 100:.2f}元")


def duplicate_billing(pl, ed, i, case):
    cat, ln, v = ed.cat, ed.lines, ed.v
    parent = ed.mask("parent", lambda: np.isin(ln.item, cat.incl_parent))
    # not a course-limited drug (billing.COURSE_DAYS): a second line of it on a stay billed up to
    # its paid course would also put the stay past the course (treatment_course_limit's finding)
    course = [cat.idx[k] for k in COURSE_DAYS]
    daily_drug = ed.mask("daily_drug", lambda: cat.is_drug[ln.item] & (v.med[ln.v] == 21) & (ln.day > v.d0[ln.v])
                         & (ln.day < v.d1[ln.v]) & ~np.isin(ln.item, course))
    if pl.rng.random() < 0.5:
        u = pl.background_visit(_meds(v, 11, 14, 21) & ed.has("parent", parent))
        if u is None:
            return
        js = ed.of(u)
        j = _one(pl, js[parent[js]])
        child = pl.choose(cat.children(ln.item[j]))
        ed.add(u, child, ln.day[j], ln.sec[j], 1.0)
        text = f"已收{cat.name[ln.item[j]]}，又单独收取其包含的{cat.name[child]}"
    else:
        u = pl.background_visit(_meds(v, 21) & ed.has("daily_drug", daily_drug))
        if u is None:
            return
        js = ed.of(u)
        j = _one(pl, js[daily_drug[js]])
        ed.copy_line(j)
        text = f"{cat.name[ln.item[j]]}在同一时间重复计费"
    v.tag[u] = i
    pl.record(case, uid=u, detail=text)


def split_billing(pl, ed, i, case):
    cat, ln, v = ed.cat, ed.lines, ed.v
    parent = ed.mask("parent", lambda: np.isin(ln.item, cat.incl_parent))
    u = pl.background_visit(_meds(v, 11, 14, 21) & ed.has("parent", parent))
    if u is None:
        return
    js = ed.of(u)
    j = _one(pl, js[parent[js]])
    kids = cat.children(ln.item[j])
    ed.drop[j] = True
    ed.add(u, kids, ln.day[j], ln.sec[j], 1.0)
    v.tag[u] = i
    total = int(cat.price_fen[kids, ed.lv[u]].sum())
    pl.record(case, uid=u, detail=f"{cat.name[ln.item[j]]}拆分为{len(kids)}个单项收费，合计{total / 100:.2f}元（组合价{ln.pric[j] / 100:.2f}元）")


def frequency_limit(pl, ed, i, case):
    cat, ln, v = ed.cat, ed.lines, ed.v
    md = cat.max_daily[ln.item]
    m = ed.mask("freq", lambda: (~cat.is_drug[ln.item] & ~cat.per_day[ln.item] & ~cat.tcm[ln.item] & np.isin(cat.chrg[ln.item], (3, 4, 5))
                                 & (md <= 3) & (ln.cnt <= md)))
    u = pl.background_visit(_meds(v, 11, 14, 21) & ed.has("freq", m))
    if u is None:
        return
    js = ed.of(u)
    j = _one(pl, js[m[js]])
    ln.cnt[j] = 2 * md[j] + 1
    v.tag[u] = i
    pl.record(case, uid=u, detail=f"{cat.name[ln.item[j]]}一天收费{int(ln.cnt[j])}次，超过每日限{int(md[j])}次")


def drug_indication_limit(pl, ed, i, case):
    cat, v, know = ed.cat, ed.v, pl.know
    drugs = np.array([d for d in range(len(cat)) if cat.dise[d] and cat.is_drug[d]])
    ok = np.zeros((len(drugs), len(v)), dtype=bool)
    for k, d in enumerate(drugs):
        ok[k] = ~know.indication_ok[d, v.dx] & allowed(_no_dise(know), ed.ctx, np.arange(len(v)), np.full(len(v), d))
    u = pl.background_visit(_meds(v, 11, 14, 21) & ok.any(axis=0))
    if u is None:
        return
    d = int(pl.choose(drugs[ok[:, u]]))
    if v.med[u] == 21:
        day = v.d0[u] + 1 if v.d1[u] - v.d0[u] >= 2 else v.d0[u]
        ed.add(u, d, day, 9 * 3600 + 600 if day > v.d0[u] else v.t0[u] + 1500, np.ceil(cat.dose[d]))
    else:
        ed.add(u, d, v.d0[u], v.t0[u] + 600, supply_cnt(cat, np.array([d]), 7))
    v.tag[u] = i
    pl.record(case, uid=u, detail=f"{cat.name[d]}限{'、'.join(cat.dise[d])}，本次诊断为{know.dx.code[v.dx[u]]} {know.dx.name[v.dx[u]]}")


class _no_dise:
    """The knowledge with every indication allowed (to test the other limits alone)."""

    def __init__(self, know):
        self.cat = know.cat
        self.indication_ok = np.ones_like(know.indication_ok)


def dispensing_over_limit(pl, ed, i, case):
    cat, ln, v = ed.cat, ed.lines, ed.v
    md = cat.max_daily[ln.item]
    m = ed.mask("whole_dose", lambda: cat.is_drug[ln.item] & (md >= 1) & (md % 1 == 0))
    u = pl.background_visit(_meds(v, 14, 41) & ed.has("whole_dose", m))
    if u is None:
        return
    js = ed.of(u)
    j = _one(pl, js[m[js]])
    days = int(pl.rng.integers(60, 121))
    limit = 30
    if v.med[u] == 14:  # a 门特 visit may supply 12 weeks (dispensing_over_limit v2): beyond that
        days, limit = days + 45, 84
    ln.cnt[j] = md[j] * days
    v.tag[u] = i
    pl.record(case, uid=u, detail=f"一次开具{cat.name[ln.item[j]]}{int(ln.cnt[j])}单位，按每日{int(md[j])}计{days}天用量，超过{limit}天")


def hospital_level_limit(pl, ed, i, case):
    cat, v, r = ed.cat, ed.v, pl.region
    low = (r.inst_type[v.inst] == "1") & (ed.ctx.rank <= 1)
    u = pl.background_visit(_meds(v, 11, 21) & low)
    if u is None:
        return
    item = cat.idx[str(pl.choose(np.array(LEVEL_ITEMS)))]
    ed.add(u, item, v.d0[u], v.t0[u] + (900 if v.med[u] == 21 else 300), 1.0)
    v.tag[u] = i
    pl.record(case, uid=u, detail=f"{cat.name[item]}限{cat.hosp_lv[item]}级及以上医院，在{r.inst_name[v.inst[u]]}收费")


def item_sex_limit(pl, ed, i, case):
    cat, v = ed.cat, ed.v
    u = pl.background_visit(_meds(v, 11, 21) & (ed.ctx.age >= 16))
    if u is None:
        return
    male = ed.ctx.sex[u] == 1
    item = cat.idx[str(pl.choose(np.array(["tct", "vaginal", "gyn_us"] if male else ["psa"])))]
    ed.add(u, item, v.d0[u], v.t0[u] + (900 if v.med[u] == 21 else 300), 1.0)
    v.tag[u] = i
    pl.record(case, uid=u, detail=f"{'男' if male else '女'}性患者收取限{'女' if male else '男'}性项目{cat.name[item]}")


def item_age_limit(pl, ed, i, case):
    cat, v = ed.cat, ed.v
    age = ed.ctx.age
    u = pl.background_visit(_meds(v, 11) & ((age >= 20) | ((age >= 6) & (age <= 14))))
    if u is None:
        return
    if age[u] >= 20:
        item = cat.idx[str(pl.choose(np.array(["child_cold", "child_tuina", "neonatal_bili"])))]
    else:
        item = cat.idx["levofloxacin"]
    cnt = supply_cnt(cat, np.array([item]), 5) if cat.is_drug[item] else 1.0
    ed.add(u, item, v.d0[u], v.t0[u] + 600, cnt)
    v.tag[u] = i
    lim = f"{cat.age_min[item]}岁以上" if cat.age_min[item] >= 0 else f"{cat.age_max[item]}岁及以下"
    pl.record(case, uid=u, detail=f"{age[u]}岁患者收取限{lim}的{cat.name[item]}")


def _bed_only(pl, ed, i, case, days_range, near=False):
    cat, ln, v = ed.cat, ed.lines, ed.v
    g = int(pl.rng.integers(*days_range))
    u = pl.background_visit(_meds(v, 21) & (v.d1 - v.d0 >= g + 4))
    if u is None:
        return
    los = int(v.d1[u] - v.d0[u])
    k0 = int(pl.rng.integers(1, los - g))
    js = ed.of(u)
    off = ln.day[js] - v.d0[u]
    gone = js[(off >= k0) & (off < k0 + g) & ~np.isin(cat.chrg[ln.item[js]], (1, 7))]
    ed.drop[gone] = True
    v.tag[u] = i
    if not near:
        pl.record(case, uid=u, detail=f"住院第{k0 + 1}-{k0 + g}天共{g}天只有床位费和护理费，无任何诊疗（挂床）")


def ghost_bed(pl, ed, i, case):
    _bed_only(pl, ed, i, case, (4, 7))


def charge_outside_stay(pl, ed, i, case):
    cat, ln, v = ed.cat, ed.lines, ed.v
    first_day_test = ed.mask("first_test", lambda: cat.is_test[ln.item] & (ln.day == v.d0[ln.v]))
    u = pl.background_visit(_meds(v, 21) & (v.d0 >= 10) & (v.d1 <= DAYS - 10) & ed.has("first_test", first_day_test))
    if u is None:
        return
    js = ed.of(u)
    j = _one(pl, js[first_day_test[js]])
    after = pl.rng.random() < 0.7
    day = int(v.d1[u] + pl.rng.integers(2, 9)) if after else int(v.d0[u] - pl.rng.integers(2, 9))
    ed.copy_line(j, day=day, sec=10 * 3600)
    v.tag[u] = i
    pl.record(case, uid=u, detail=f"{cat.name[ln.item[j]]}计费日期在{'出院后' if after else '入院前'}{abs(day - (v.d1[u] if after else v.d0[u]))}天")


def card_shopping(pl, ed, i, case):
    cat, v = ed.cat, ed.v
    u = pl.background_visit(_meds(v, 41))
    if u is None:
        return
    goods = pl.rng.choice(cat.goods, size=int(pl.rng.integers(1, 4)), replace=False)
    ed.add(u, goods, v.d0[u], v.t0[u], pl.rng.integers(1, 3, len(goods)).astype(float), cat.price_fen[goods, 0])
    v.tag[u] = i
    pl.record(case, uid=u, detail=f"药店用医保卡结算{'、'.join(cat.name[g] for g in goods)}等非医保目录商品")


def near_bed_only(pl, ed, i, case):
    _bed_only(pl, ed, i, case, (2, 3), near=True)


FEE_PLANTS = {
    "price_over_cap": price_over_cap, "duplicate_billing": duplicate_billing, "split_billing": split_billing,
    "frequency_limit": frequency_limit, "drug_indication_limit": drug_indication_limit,
    "dispensing_over_limit": dispensing_over_limit, "hospital_level_limit": hospital_level_limit,
    "item_sex_limit": item_sex_limit, "item_age_limit": item_age_limit, "ghost_bed": ghost_bed,
    "charge_outside_stay": charge_outside_stay, "card_shopping": card_shopping,
    "near_miss:bed_only_2_days": near_bed_only,
}
