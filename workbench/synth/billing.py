"""Fee lines (``fee``) of visits, vectorised: profiles, per-day items, behaviours, limits.

Normal billing respects every catalogue limit, so background data triggers no rule by accident:
items a visit may not be paid for (sex, age, indication, hospital level) are dropped with the
rest of their bundle; a panel's component is never billed beside the panel; an item is billed
at most once a day on a visit; per-day items once per day of stay; every day of a stay carries
a drug or treatment besides bed and nursing; outpatient drug quantities are at most 30 days'
supply; prices are the level's price, never above the cap.
"""
from __future__ import annotations

import numpy as np

from .cols import Cols
from .knowledge import LEVEL_RANK
from .sampling import age_at, within

SECTION = {"base": 0, "out": 1, "ph": 2, "once": 3, "daily": 4, "disch": 5, "perday": 6, "behaviour": 7, "plant": 8}
# behaviour bits of institutions (region.inst_flags) and doctors (region.dr_flags)
DRUG_HEAVY, TEST_HEAVY, UPCODE, TCM_ABUSE = 1, 2, 4, 8
PANEL = 1
UPCODE_P, NORMAL_UPCODE_P = 0.9, 0.2
PANEL_ITEMS = ("cbc", "urine", "liver_panel", "kidney_panel", "ecg", "chest_dr")
HEAVY_ORAL = ("ginkgo_tab", "naoxintong", "shensong", "jinshuibao")
HEAVY_INJ = ("xueshuantong_inj", "ginkgo_inj", "shenmai_inj")
# drugs whose catalogue note pays at most so many days of one stay (单次住院最多支付14天; the
# rules' knowledge table rules/knowledge/k_drug_course_limit.csv lists them)
COURSE_DAYS = {"xueshuantong_inj": 14, "ginkgo_inj": 14, "shenmai_inj": 14}
# prescription-only drugs a pharmacy sells on a prescription only (the rules' knowledge table
# rules/knowledge/k_rx_only.csv lists them), and the OTC drug a buyer without one gets instead
RX_ONLY = {"amoxicillin": "lianhua", "cefixime": "lianhua", "azithromycin": "lianhua", "levofloxacin": "lianhua",
           "estazolam": "zaoren"}
REFILL_TOLERANCE = 3  # days of a supply left at which a drug is dispensed again (early refill)
TCM_ITEMS = ("acupuncture", "moxibustion", "cupping", "tuina", "acupoint_patch")


def new_lines(v, item, section, grp, day, sec, cnt, bdoc) -> Cols:
    v = np.asarray(v, dtype=np.int64)
    n = len(v)
    b = lambda x, t=np.int64: np.broadcast_to(np.asarray(x, dtype=t), (n,)).copy()  # noqa: E731
    return Cols(v=v, item=b(item), gid=SECTION[section] * 10**12 + v * 10**5 + b(grp), day=b(day), sec=b(sec),
                cnt=b(cnt, np.float64), pric=np.zeros(n, dtype=np.int64), bdoc=b(bdoc))


def visit_context(visits, people, region) -> Cols:
    """Per visit: sex, age at the visit, hospital level index and rank, diagnosis."""
    lv = region.inst_lv[visits.inst]
    return Cols(sex=people.sex[visits.p], age=age_at(people.by[visits.p], people.bmd[visits.p], visits.d0),
                lv=lv, rank=LEVEL_RANK[lv], dx=visits.dx)


def allowed(know, ctx, v, item):
    """The item may be paid on visit ``v`` (sex, age, hospital level and indication limits)."""
    cat = know.cat
    sex, age = ctx.sex[v], ctx.age[v]
    return (((cat.gend[item] == 0) | (cat.gend[item] == sex)) & (age >= cat.age_min[item]) & (age <= cat.age_max[item])
            & (ctx.rank[v] >= cat.min_rank[item]) & know.indication_ok[item, ctx.dx[v]])


def supply_cnt(cat, item, days):
    """Quantity of a drug for ``days`` days: whole units, never more than ``days`` days' worth."""
    return np.maximum(np.floor(cat.max_daily[item] * days + 1e-9), 1.0)


def _expand_days(v, item, grp, visits, section, know):
    """Daily lines over each stay's days (all but the discharge day; at least one)."""
    cat = know.cat
    n_days = np.maximum(visits.d1[v] - visits.d0[v], 1)
    k = within(n_days)
    v2, item2, grp2 = np.repeat(v, n_days), np.repeat(item, n_days), np.repeat(grp, n_days)
    day = visits.d0[v2] + k
    sec = np.where(k == 0, visits.t0[v2] + (1200 if section == "daily" else 600), (8 * 3600 + 1800 + 60 * (grp2 % 20)) if section == "daily" else 60)
    cnt = np.where(cat.is_drug[item2], np.ceil(cat.dose[item2]), cat.dose[item2])
    return new_lines(v2, item2, section, grp2, day, sec, cnt, visits.bdoc[v2])


def _profile_lines(visits, ctx, know, rng) -> list:
    cat, prof = know.cat, know.profiles
    profile = know.dx.profile[visits.dx]
    parts = []
    out_v = np.flatnonzero(np.isin(visits.med, (11, 14)))
    base = np.where(ctx.rank[out_v] >= 2, cat.idx["exam_fee"], cat.idx["general_fee"])
    parts.append(new_lines(out_v, base, "base", 0, visits.d0[out_v], visits.t0[out_v], 1.0, visits.bdoc[out_v]))
    for section, med in (("out", (11, 14)), ("ph", (41,))):
        vv = np.flatnonzero(np.isin(visits.med, med))
        row, grp, item = prof.expand(section, profile[vv], rng)
        v = vv[row]
        cnt = np.where(cat.is_drug[item], supply_cnt(cat, item, visits.supply[v]), cat.dose[item])
        sec = visits.t0[v] + np.where(section == "ph", 0, np.where(cat.is_drug[item], 600, 300))
        parts.append(new_lines(v, item, section, grp, visits.d0[v], sec, cnt, visits.bdoc[v]))
    in_v = np.flatnonzero(visits.med == 21)
    gen = np.full(len(in_v), prof.general)
    for source in (gen, profile[in_v]):
        row, grp, item = prof.expand("once", source, rng)
        v = in_v[row]
        parts.append(new_lines(v, item, "once", grp, visits.d0[v], visits.t0[v] + 900, cat.dose[item], visits.bdoc[v]))
        row, grp, item = prof.expand("daily", source, rng)
        parts.append(_expand_days(in_v[row], item, grp, visits, "daily", know))
    for key, g in (("bed3", 90001), ("nursing2", 90002), ("inpt_exam", 90003)):
        parts.append(_expand_days(in_v, np.full(len(in_v), cat.idx[key]), np.full(len(in_v), g), visits, "perday", know))
    row, grp, item = prof.expand("disch", profile[in_v], rng)
    v = in_v[row]
    parts.append(new_lines(v, item, "disch", grp, visits.d1[v], visits.t1[v] - 1800, supply_cnt(cat, item, 7), visits.bdoc[v]))
    return parts


def _pick_distinct(n_rows, pool, k, rng):
    """For each row, ``k[row]`` distinct items of ``pool``: (row, item)."""
    pool = np.asarray(pool)
    order = np.argsort(rng.random((n_rows, len(pool))), axis=1)
    take = np.arange(len(pool))[None, :] < np.asarray(k)[:, None]
    rows = np.nonzero(take)
    return rows[0], pool[order[rows]]


def _behaviour_lines(visits, region, know, rng):
    """Extra lines of institutions planted with a behaviour."""
    cat = know.cat
    flags = region.inst_flags[visits.inst]
    out = np.isin(visits.med, (11, 14))
    parts = []
    vv = np.flatnonzero(out & (flags & DRUG_HEAVY > 0))
    r, item = _pick_distinct(len(vv), cat.items(*HEAVY_ORAL), np.full(len(vv), 3), rng)
    v = vv[r]
    parts.append(new_lines(v, item, "behaviour", item, visits.d0[v], visits.t0[v] + 660, supply_cnt(cat, item, visits.supply[v]), visits.bdoc[v]))
    vv = np.flatnonzero((visits.med == 21) & (flags & DRUG_HEAVY > 0))
    r, item = _pick_distinct(len(vv), cat.items(*HEAVY_INJ), np.full(len(vv), 3), rng)
    parts.append(_expand_days(vv[r], item, item, visits, "daily", know))
    pool = cat.tagged("testpool")
    vv = np.flatnonzero(out & (flags & TEST_HEAVY > 0))
    r, item = _pick_distinct(len(vv), pool, rng.integers(3, 7, len(vv)), rng)
    v = vv[r]
    parts.append(new_lines(v, item, "behaviour", item, visits.d0[v], visits.t0[v] + 360, cat.dose[item], visits.bdoc[v]))
    vv = np.flatnonzero((visits.med == 21) & (flags & TEST_HEAVY > 0))
    r, item = _pick_distinct(len(vv), pool, rng.integers(4, 9, len(vv)), rng)
    v = vv[r]
    parts.append(new_lines(v, item, "behaviour", item, visits.d0[v], visits.t0[v] + 960, cat.dose[item], visits.bdoc[v]))
    vv = np.flatnonzero(out & (flags & TCM_ABUSE > 0))
    vv = vv[rng.random(len(vv)) < 0.85]
    r, item = _pick_distinct(len(vv), cat.items(*TCM_ITEMS), 1 + (rng.random(len(vv)) < 0.3), rng)
    v = vv[r]
    parts.append(new_lines(v, item, "behaviour", item, visits.d0[v], visits.t0[v] + 900, 1.0, visits.bdoc[v]))
    return parts


def _panel(visits, lines, region, know):
    """Doctors planted with a test panel: every outpatient visit gets the same tests."""
    cat = know.cat
    out = np.isin(visits.med, (11, 14))
    panel_visit = out & (visits.doc >= 0) & (region.dr_flags[np.maximum(visits.doc, 0)] & PANEL > 0)
    if not panel_visit.any():
        return lines
    drop = panel_visit[lines.v] & cat.is_test[lines.item]
    vv = np.flatnonzero(panel_visit)
    items = cat.items(*PANEL_ITEMS)
    v = np.repeat(vv, len(items))
    item = np.tile(items, len(vv))
    return Cols.concat([lines.take(~drop), new_lines(v, item, "behaviour", item, visits.d0[v], visits.t0[v] + 300, 1.0, visits.bdoc[v])])


def clean(lines, visits, ctx, know):
    """Drop what normal billing never does: unpaid items (with their bundle), an item twice a
    day on a visit, a panel's component beside the panel. Order of rows is kept."""
    cat = know.cat
    bad = ~allowed(know, ctx, lines.v, lines.item)
    if len(lines):
        _, inv = np.unique(lines.gid, return_inverse=True)
        bad = np.bincount(inv, weights=bad.astype(np.float64))[inv] > 0
    lines = lines.take(~bad)
    key = (lines.v * 1000 + lines.day + 200) * len(cat) + lines.item
    _, first = np.unique(key, return_index=True)
    keep = np.zeros(len(lines), dtype=bool)
    keep[first] = True
    lines = lines.take(keep)
    parent_of = np.full(len(cat), -1, dtype=np.int64)
    parent_of[cat.incl_child] = cat.incl_parent
    has_parent = np.isin(lines.v * len(cat) + parent_of[lines.item], lines.v * len(cat) + lines.item) & (parent_of[lines.item] >= 0)
    return lines.take(~has_parent)


def bill(visits, people, region, know, rng) -> Cols:
    """Fee lines of every visit, priced, sorted by visit (``v`` = visit row)."""
    cat = know.cat
    ctx = visit_context(visits, people, region)
    lines = Cols.concat(_profile_lines(visits, ctx, know, rng))
    lines = Cols.concat([lines] + _behaviour_lines(visits, region, know, rng))
    # upcoding: the dearer of a pair of items, at the usual rate or an upcoder's
    has_pair = cat.pair[lines.item] >= 0
    q = np.where(region.inst_flags[visits.inst[lines.v]] & UPCODE > 0, UPCODE_P, NORMAL_UPCODE_P)
    swap = has_pair & (rng.random(len(lines)) < q)
    swap[swap] &= allowed(know, ctx, lines.v[swap], cat.pair[lines.item[swap]])
    lines.item = np.where(swap, cat.pair[lines.item], lines.item)
    lines = clean(_panel(visits, lines, region, know), visits, ctx, know)
    lines.pric = cat.price_fen[lines.item, ctx.lv[lines.v]]
    lines = lines.take(~beyond_course(lines, visits, know) & ~unprescribed(lines, visits, know, ctx.lv))
    lines = lines.take(~on_hand(lines, visits, know))
    order = np.argsort(lines.v, kind="stable")
    return lines.take(order)


def beyond_course(lines, visits, know):
    """Daily lines of a course-limited drug (:data:`COURSE_DAYS`) after the paid days of a stay
    (boolean per line): normal billing stops the drug, or bills it to the patient, when the
    course is used. Deterministic, so every random stream stays as it was."""
    out = np.zeros(len(lines), dtype=bool)
    for key, limit in COURSE_DAYS.items():
        m = (lines.item == know.cat.idx[key]) & (visits.med[lines.v] == 21)
        out |= m & (lines.day - visits.d0[lines.v] >= limit)
    return out


def unprescribed(lines, visits, know, lv, droppable=None):
    """Lines of prescription-only drugs (:data:`RX_ONLY`) on background pharmacy purchases
    without a prescribing doctor (boolean per line): the pharmacy does not sell them. A purchase
    of such drugs only keeps one line, changed to the OTC drug of :data:`RX_ONLY` (same days of
    supply, the level's price; ``lines`` is changed in place). ``droppable``, a mask of visits,
    widens the background to planted visits. Deterministic, so every random stream stays as it
    was."""
    cat = know.cat
    rx = np.zeros(len(cat), dtype=bool)
    rx[cat.items(*RX_ONLY)] = True
    bad = rx[lines.item] & (visits.med[lines.v] == 41) & (visits.doc[lines.v] < 0)
    bad &= (visits.tag == -1 if droppable is None else droppable)[lines.v]
    left = np.bincount(lines.v, minlength=len(visits)) - np.bincount(lines.v[bad], minlength=len(visits))
    js = np.flatnonzero(bad & (left[lines.v] == 0))
    js = js[np.unique(lines.v[js], return_index=True)[1]]  # one line of each such visit
    sub = np.full(len(cat), -1, dtype=np.int64)
    for key, otc in RX_ONLY.items():
        sub[cat.idx[key]] = cat.idx[otc]
    days = lines.cnt[js] / cat.max_daily[lines.item[js]]
    lines.item[js] = sub[lines.item[js]]
    lines.cnt[js] = supply_cnt(cat, lines.item[js], days)
    lines.pric[js] = cat.price_fen[lines.item[js], lv[lines.v[js]]]
    bad[js] = False
    return bad


def on_hand(lines, visits, know, tolerance=REFILL_TOLERANCE, droppable=None):
    """Background drug lines of a drug the person still has on hand (boolean per line).

    A doctor or pharmacist does not dispense a drug again while the last supply of it (days =
    cnt / max_daily, from the day dispensed) has more than ``tolerance`` days left, wherever it
    was dispensed: such a line is 重复开药, which only planted cases show. The background's own
    lines are dropped (planted ones are compared against, never dropped; ``droppable``, a mask of
    visits, widens what may go), except the last line of a visit (a visit never loses all its
    lines: the number of visits feeds later random draws): that one is cut to ``tolerance`` days
    (at least one unit; ``lines.cnt`` is changed in place) and the earlier background supply it
    meets goes instead. Deterministic, so every random stream stays as it was.
    """
    cat = know.cat
    drug = (cat.is_drug[lines.item] & np.isin(visits.med[lines.v], (11, 14, 41))
            & (cat.max_daily[lines.item] > 0))
    js = np.flatnonzero(drug)
    bad = np.zeros(len(lines), dtype=bool)
    if len(js) < 2:
        return bad
    p, item, day = visits.p[lines.v[js]], lines.item[js], lines.day[js]
    order = np.lexsort((lines.v[js], day, item, p))
    js, p, item, day = js[order], p[order], item[order], day[order]
    end = day + lines.cnt[js] / cat.max_daily[item]
    first = np.r_[True, (p[1:] != p[:-1]) | (item[1:] != item[:-1])]
    grp = np.cumsum(first) - 1
    # the latest end of the earlier lines of the same person and drug
    prev_end = np.full(len(js), -np.inf)
    run = _group_cummax(end, grp)
    prev_end[1:] = np.where(first[1:], -np.inf, run[:-1])
    # the first start of the later planted lines of the same person and drug
    bg = (visits.tag == -1 if droppable is None else droppable)[lines.v[js]]
    last = np.r_[first[1:], True]
    start = -_group_cummax(-np.where(bg, np.inf, day)[::-1], grp[::-1])[::-1]
    next_planted = np.full(len(js), np.inf)
    next_planted[:-1] = np.where(last[:-1], np.inf, start[1:])
    over = bg & ((prev_end - day > tolerance) | (end - next_planted > tolerance))
    bad[js[over]] = True
    # a visit keeps its last line; the earlier background supply it meets goes instead
    n_lines = np.bincount(lines.v, minlength=len(visits))
    left = n_lines - np.bincount(lines.v[bad], minlength=len(visits))
    kept = bad & (left[lines.v] == 0)
    bad &= ~kept
    lines.cnt[kept] = np.minimum(lines.cnt[kept], supply_cnt(cat, lines.item[kept], tolerance))
    pos = np.empty(len(lines), dtype=np.int64)
    pos[js] = np.arange(len(js))
    for k in pos[np.flatnonzero(kept)]:
        a = np.flatnonzero(first[: k + 1])[-1]
        for j in range(a, k):
            u = lines.v[js[j]]
            if bg[j] and end[j] - day[k] > tolerance and not bad[js[j]] and n_lines[u] - np.count_nonzero(bad[lines.v == u]) > 1:
                bad[js[j]] = True
    return bad


def _group_cummax(x, grp):
    """Running maximum of ``x`` (infinities allowed) within runs of equal ``grp``."""
    fin = np.isfinite(x)
    b = (np.abs(x[fin]).max() + 1) if fin.any() else 1.0
    rank = np.cumsum(np.r_[0, grp[1:] != grp[:-1]]) * (2 * b + 1)
    y = np.where(fin, x, np.sign(x) * b)
    out = np.maximum.accumulate(y + rank) - rank
    return np.where(out >= b, np.inf, np.where(out <= -b, -np.inf, out))
