"""Settlements (``setl``): one per visit from its fee lines, split between fund, account and cash.

Amounts are integer fen throughout: ``hifp_pay + acct_pay + psn_cash_pay = medfee_sumamt``
exactly, and ``medfee_sumamt`` is the sum of the visit's ``det_item_fee_sumamt``. Employees
(310) get higher fund ratios than residents (390); tertiary hospitals lower ones and higher
deductibles (起付线). A few visits are refunded and settled again: the original row, a refund
row (``refd_setl_flag = '1'``, every amount negated) and the re-settlement, so net sums equal
the fee lines.
"""
from __future__ import annotations

import numpy as np

from .cols import Cols
from .sampling import DAYS

# permille of the amount above the deductible paid by the pooled fund, by level index (三级 .. 基层)
INPATIENT_RATIO = {310: np.array([850, 880, 900, 900]), 390: np.array([600, 700, 800, 850])}
DEDUCTIBLE_FEN = np.array([80_000, 50_000, 30_000, 20_000])
OUTPATIENT_RATIO = {310: np.array([500, 600, 700, 700]), 390: np.array([350, 450, 550, 550])}
CHRONIC_RATIO = {310: 750, 390: 600}
PRESCRIPTION_RATIO = 500  # 门诊统筹 at a pharmacy with an external prescription
REFUND_SHARE = 0.003


def fund_split(medfee, med, insutype, lv, has_rx):
    """(hifp, acct, cash) in fen for visits with totals ``medfee`` (fen)."""
    medfee = np.asarray(medfee, dtype=np.int64)
    emp = insutype == 310
    ratio = np.zeros(len(medfee), dtype=np.int64)
    base = medfee.copy()
    inp = med == 21
    ratio[inp] = np.where(emp[inp], INPATIENT_RATIO[310][lv[inp]], INPATIENT_RATIO[390][lv[inp]])
    base[inp] = np.maximum(medfee[inp] - DEDUCTIBLE_FEN[lv[inp]], 0)
    o = med == 11
    ratio[o] = np.where(emp[o], OUTPATIENT_RATIO[310][lv[o]], OUTPATIENT_RATIO[390][lv[o]])
    c = med == 14
    ratio[c] = np.where(emp[c], CHRONIC_RATIO[310], CHRONIC_RATIO[390])
    ph = (med == 41) & has_rx
    ratio[ph] = PRESCRIPTION_RATIO
    hifp = (base * ratio + 500) // 1000
    rest = medfee - hifp
    acct = np.where(emp, np.where(inp, rest * 2 // 10, rest * 8 // 10), 0)
    return hifp, acct, rest - acct


def settle(visits, lines, insutype_of_visit, lv_of_visit, rng) -> Cols:
    """Settlement rows (one per visit, three for a refunded one), sorted by visit then row.

    Returns columns ``v`` (visit row), ``k`` (1 original, 2 refund, 3 re-settlement), ``day``,
    ``sec``, ``medfee``, ``hifp``, ``acct``, ``cash`` (fen) and ``refund`` (bool).
    """
    n = len(visits)
    det = np.rint(lines.cnt * lines.pric).astype(np.int64)
    medfee = np.bincount(lines.v, weights=det, minlength=n).astype(np.int64)
    hifp, acct, cash = fund_split(medfee, visits.med, insutype_of_visit, lv_of_visit, visits.doc >= 0)
    day = visits.d1.copy()
    sec = np.where(visits.med == 21, visits.t1 + 1800, np.where(visits.med == 41, visits.t0 + 60, visits.t0 + 1200))
    v = np.arange(n)
    k = np.ones(n, dtype=np.int64)
    refunded = (visits.tag < 0) & (rng.random(n) < REFUND_SHARE) & (visits.d1 < DAYS - 8)
    r = np.flatnonzero(refunded)
    rday = visits.d1[r] + rng.integers(1, 6, len(r))
    rsec = 9 * 3600 + rng.integers(0, 7 * 3600, len(r))
    rows = Cols(v=np.concatenate([v, r, r]), k=np.concatenate([k, np.full(len(r), 2), np.full(len(r), 3)]),
                day=np.concatenate([day, rday, rday]), sec=np.concatenate([sec, rsec, rsec + 1800]),
                medfee=np.concatenate([medfee, -medfee[r], medfee[r]]), hifp=np.concatenate([hifp, -hifp[r], hifp[r]]),
                acct=np.concatenate([acct, -acct[r], acct[r]]), cash=np.concatenate([cash, -cash[r], cash[r]]))
    rows.refund = rows.k == 2
    return rows.take(np.lexsort((rows.k, rows.v)))
