"""Drug ledgers (``stock``) and the per-institution totals used to check planted outliers.

The ledger of every institution x drug x month is built from what was billed (by the month of
``fee_ocur_time``): recorded sales equal billed quantities, purchases cover sales with a margin,
and the purchase price equals the billed price (zero mark-up). Then the stock scenarios are
planted in it: 虚记 (billed more than was ever in stock), 串换 (billed a dear drug while the
ledger shows a cheap substitute bought and sold) and 违规加价 (purchase price below the price
billed).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from .cols import Cols
from .plan import truth_row
from .sampling import DAYS, MONTH, YEAR, decimal_from_fen

SHARES = {"drug": ("09", "10", "11"), "test": ("03", "04"), "consumable": ("08",), "treatment": ("05",)}


class Accumulator:
    """Running totals over chunks: billed drug quantities, money by charge type, TCM visits."""

    def __init__(self, region, know):
        cat = know.cat
        self.region, self.know = region, know
        self.n_inst = len(region.inst_code)
        self.drugs = np.flatnonzero(cat.is_drug & cat.listed)
        self.drug_pos = np.full(len(cat), -1, dtype=np.int64)
        self.drug_pos[self.drugs] = np.arange(len(self.drugs))
        self.qty = np.zeros(self.n_inst * len(self.drugs) * 12)
        self.chrg = np.array([int(c) for c in cat.chrgitm], dtype=np.int64)
        self.money = np.zeros(self.n_inst * 15)
        self.out_visits = np.zeros(self.n_inst)
        # inpatient billed money and stay days per institution: what a day of its stays costs
        # (the supplement sizes a planted stream of stays against an institution's own business)
        self.stay_money = np.zeros(self.n_inst)
        self.stay_days = np.zeros(self.n_inst)
        self.tcm_visits = np.zeros(self.n_inst)
        n_cat = len(set(know.dx.category))
        self.cat_of_dx = np.unique(know.dx.category, return_inverse=True)[1]
        self.tcm_cats = np.zeros((self.n_inst, n_cat), dtype=bool)

    def add(self, visits: Cols, lines: Cols):
        inst = visits.inst[lines.v]
        dp = self.drug_pos[lines.item]
        m = dp >= 0
        month = MONTH[np.clip(lines.day, 0, DAYS - 1)]
        key = (inst * len(self.drugs) + dp) * 12 + month
        self.qty += np.bincount(key[m], weights=lines.cnt[m], minlength=len(self.qty))
        det = np.rint(lines.cnt * lines.pric)
        self.money += np.bincount(inst * 15 + self.chrg[lines.item], weights=det, minlength=len(self.money))
        out = np.isin(visits.med, (11, 14))
        self.out_visits += np.bincount(visits.inst[out], minlength=self.n_inst)
        inp = visits.med == 21
        self.stay_days += np.bincount(visits.inst[inp], weights=np.maximum(visits.d1[inp] - visits.d0[inp], 1),
                                      minlength=self.n_inst)
        inp_line = inp[lines.v]
        self.stay_money += np.bincount(inst[inp_line], weights=det[inp_line], minlength=self.n_inst)
        tcm_line = self.know.cat.tcm[lines.item] & out[lines.v]
        tv = np.unique(lines.v[tcm_line])
        self.tcm_visits += np.bincount(visits.inst[tv], minlength=self.n_inst)
        self.tcm_cats[visits.inst[tv], self.cat_of_dx[visits.dx[tv]]] = True

    def shares(self) -> dict:
        """Share of each cost type in each institution's billed money."""
        money = self.money.reshape(self.n_inst, 15)
        total = money.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return {k: np.where(total > 0, money[:, [int(c) for c in cs]].sum(axis=1) / total, np.nan) for k, cs in SHARES.items()}

    def share_outliers(self, z_min=3.5, margin=0.15) -> dict:
        """Institutions whose share is an outlier in their peer group (type x level):
        robust z = (x - median) / (1.4826 MAD) above ``z_min`` and x >= median + ``margin``."""
        r = self.region
        peer = np.array([f"{t}-{lv}" for t, lv in zip(r.inst_type, r.inst_lv)])
        out = {}
        for kind, x in self.shares().items():
            for g in np.unique(peer):
                members = np.flatnonzero((peer == g) & ~np.isnan(x))
                if len(members) < 3:
                    continue
                med = np.median(x[members])
                mad = 1.4826 * np.median(np.abs(x[members] - med))
                for i in members:
                    z = (x[i] - med) / mad if mad > 0 else (np.inf if x[i] > med else 0.0)
                    if z > z_min and x[i] >= med + margin:
                        out.setdefault(int(i), []).append(kind)
        return out

    def tcm_abusers(self, min_visits=50, min_share=0.6, min_categories=5) -> list:
        with np.errstate(invalid="ignore", divide="ignore"):
            share = self.tcm_visits / self.out_visits
        ok = (self.out_visits >= min_visits) & (share >= min_share) & (self.tcm_cats.sum(axis=1) >= min_categories)
        return [int(i) for i in np.flatnonzero(ok)]


def build_stock(acc: Accumulator, plan, region, know, rng):
    """The ``stock`` table and its truth rows (phantom billing, item swap, drug mark-up)."""
    cat = know.cat
    nd = len(acc.drugs)
    q = acc.qty.reshape(acc.n_inst, nd, 12)
    pairs = np.argwhere(q.sum(axis=2) > 0)
    inst, dpos = pairs[:, 0], pairs[:, 1]
    billed = q[inst, dpos]  # pairs x 12
    item = acc.drugs[dpos]
    price = cat.price_fen[item, 0]
    n = len(pairs)
    margin = rng.uniform(1.05, 1.35, (n, 12))
    purc = np.ceil(billed * margin)
    begn0 = np.ceil(billed.mean(axis=1) * rng.uniform(0.3, 1.0, n))
    sale = billed.copy()
    purc_pric = np.repeat(price[:, None], 12, axis=1)
    truth = []
    taken = set(int(i) for s in plan.behaviour_insts.values() for i in s)
    pair_of = {(int(a), int(b)): k for k, (a, b) in enumerate(pairs)}
    extra = []  # (inst, dpos) pairs created for swap substitutes

    def choose(mask, k, min_qty=20):
        """``k`` (pair, month) cells at distinct institutions with at least ``min_qty`` billed."""
        cells = np.argwhere(mask[:, None] & (billed >= min_qty))
        cells = cells[rng.permutation(len(cells))]
        out = []
        for pk, m in cells:
            if int(inst[pk]) in taken:
                continue
            taken.add(int(inst[pk]))
            out.append((int(pk), int(m)))
            if len(out) == k:
                break
        return out

    def starve(pk, m, frac):
        """Pair ``pk`` had nothing in stock before month m and bought only ``frac`` of its sales."""
        purc[pk, :m] = billed[pk, :m]
        begn0[pk] = 0
        purc[pk, m] = np.floor(billed[pk, m] * frac)
        sale[pk, m] = purc[pk, m]

    for k, (pk, m) in enumerate(choose(np.ones(n, dtype=bool), plan.stock["phantom_billing"])):
        starve(pk, m, rng.uniform(0.3, 0.6))
        truth.append(truth_row(f"phantom_billing-{k + 1:03d}", "phantom_billing", region.inst_code[inst[pk]],
                               detail=f"{YEAR}-{m + 1:02d} {cat.name[item[pk]]}结算{int(billed[pk, m])}，期初加购进仅{int(purc[pk, m])}（虚记）"))
    swap_to = np.full(len(cat), -1)
    for i, tags in enumerate(cat.tags):
        for t in tags:
            if t.startswith("swap:"):
                swap_to[i] = cat.idx[t[5:]]
    for k, (pk, m) in enumerate(choose(swap_to[item] >= 0, plan.stock["item_swap"])):
        starve(pk, m, rng.uniform(0.2, 0.5))
        gap = billed[pk, m] - purc[pk, m]
        sub = int(swap_to[item[pk]])
        key = (int(inst[pk]), int(acc.drug_pos[sub]))
        if key in pair_of:
            s = pair_of[key]
            purc[s, m] += gap
            sale[s, m] += gap
        else:
            extra.append((key, m, gap))
        truth.append(truth_row(f"item_swap-{k + 1:03d}", "item_swap", region.inst_code[inst[pk]],
                               detail=f"{YEAR}-{m + 1:02d} 结算{cat.name[item[pk]]}{int(billed[pk, m])}，实际购进销售的是{cat.name[sub]}（串换）"))
    medical = (region.inst_type[inst] == "1") & np.isin(cat.chrgitm[item], ("09", "11"))
    for k, (pk, m) in enumerate(choose(medical, plan.stock["drug_markup"], min_qty=1)):
        months = slice(m, min(12, m + int(rng.integers(1, 4))))
        purc_pric[pk, months] = np.floor(price[pk] / rng.uniform(1.15, 1.35))
        truth.append(truth_row(f"drug_markup-{k + 1:03d}", "drug_markup", region.inst_code[inst[pk]],
                               detail=f"{cat.name[item[pk]]}购进价{purc_pric[pk, m] / 100:.2f}元，按{price[pk] / 100:.2f}元结算（零差率下加价）"))
    inv_begn = np.zeros_like(purc)
    inv = begn0.copy()
    for m in range(12):
        inv_begn[:, m] = inv
        inv = inv + purc[:, m] - sale[:, m]
    inv_end = inv_begn + purc - sale
    parts = [_ledger_columns(region, cat, inst, item, inv_begn, purc, purc_pric, sale, inv_end)]
    for (i, d), m, g in extra:
        z = np.zeros((1, 12))
        p, s = z.copy(), z.copy()
        p[0, m] = s[0, m] = g
        parts.append(_ledger_columns(region, cat, np.array([i]), acc.drugs[[d]], z, p,
                                     np.full((1, 12), cat.price_fen[acc.drugs[d], 0]), s, z))
    return {k: pa.concat_arrays([p[k] for p in parts]) for k in parts[0]}, truth


def _ledger_columns(region, cat, inst, item, inv_begn, purc, purc_pric, sale, inv_end) -> dict:
    """Ledger rows, one per pair and month, in pair order."""
    n = len(inst)
    codes = pa.array(list(region.inst_code), pa.string())
    items = pa.array(list(cat.code), pa.string())
    periods = pa.array([f"{YEAR}-{m + 1:02d}" for m in range(12)], pa.string())
    return {
        "fixmedins_code": codes.take(pa.array(np.repeat(inst, 12))),
        "med_list_codg": items.take(pa.array(np.repeat(item, 12))),
        "period": periods.take(pa.array(np.tile(np.arange(12), n))),
        "inv_begn": pa.array(inv_begn.ravel(), pa.float64()),
        "purc_cnt": pa.array(purc.ravel(), pa.float64()),
        "purc_pric": decimal_from_fen(purc_pric.ravel().astype(np.int64)),
        "sale_cnt": pa.array(sale.ravel(), pa.float64()),
        "inv_end": pa.array(inv_end.ravel(), pa.float64()),
    }

