"""Plant functions of the service-billing scenarios of the supplement (issue 21, helper R2).

Registered in :data:`workbench.synth.supplement.SUPPLEMENT_CASES` after the earlier scenarios;
like :mod:`workbench.synth.plant_more` they run in a planter of the supplement's own persons (no
background visits): a visit function adds the visits a case needs, a fee function (same scenario
name) edits their lines after billing. Each planted case is clearly beyond its rule's default
threshold; near misses sit just inside it and are not recorded.
"""
from __future__ import annotations

import numpy as np

from .plant_more import _stay, _tagged

# persons made per case (a case may need several; the rest are insured without claims)
PERSONS_PER_CASE = {"nursing_days_over_stay": 3, "nursing_day_moved": 3}

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


VISIT_PLANTS = {"nursing_days_over_stay": stay_visit, "near_miss:nursing_day_moved": stay_visit}
FEE_PLANTS = {"nursing_days_over_stay": nursing_days_over_stay, "near_miss:nursing_day_moved": near_nursing_day_moved}
