"""Findings of the collusion analysis that are not rings: cards and doctors.

* ``card_many_pharmacies`` — a person whose card is used at ``card_pharmacies_per_day`` or more
  pharmacies on one day (代刷, 套现: somebody else swiping the card around town);
* ``doctor_impossible_volume`` — a doctor named on more than ``doctor_visits_per_day`` visits in
  one day, at any institution (a code lent out or used by a workstation, 冒用医师工作站).

Both come out as one table, :data:`SIGNAL_COLUMNS`, the second output of ``workbench rings``.
"""
from __future__ import annotations

import pandas as pd

from .edgelist import VISITS, ensure_edges, money_source, sql_text
from .engines import engine_of

SIGNAL_COLUMNS = ["signal", "day", "psn_no", "dr_code", "fixmedins_code", "events", "distinct_count",
                  "hifp_pay", "medfee_sumamt", "detail"]


def card_days(session, params) -> pd.DataFrame:
    """Persons and days with purchases at ``params.card_pharmacies_per_day`` pharmacies or more."""
    eng = engine_of(session)
    ensure_edges(eng)
    q = sql_text("card_days", min_pharmacies=int(params.card_pharmacies_per_day))
    f = eng.frame(q.replace("rings_visits", VISITS))
    f["detail"] = [f"人员 {r.psn_no} 于 {r.day} 在 {r.distinct_count} 家药店购药 {r.events} 次（{r.fixmedins_code}）"
                   for r in f.itertuples(index=False)]
    return f


def doctor_days(session, params) -> pd.DataFrame:
    """Doctors and days with more than ``params.doctor_visits_per_day`` visits."""
    eng = engine_of(session)
    money = sql_text(f"money_rows_{money_source(eng)}")
    if eng.has("dr"):
        own, join = "dr.fixmedins_code", "LEFT JOIN dr ON dr.dr_code = d.dr_code"
    else:
        own, join = "CAST(NULL AS VARCHAR)", ""
    q = sql_text("doctor_days", max_visits=int(params.doctor_visits_per_day), money_rows=money, own=own, join_dr=join)
    f = eng.frame(q)
    f["detail"] = [f"医师 {r.dr_code} 于 {r.day} 接诊 {r.events} 人次（{r.distinct_count} 人），"
                   f"超过每日 {int(params.doctor_visits_per_day)} 人次" for r in f.itertuples(index=False)]
    return f


def signals(session, params) -> pd.DataFrame:
    """Both findings, :data:`SIGNAL_COLUMNS`, sorted by signal, most events first, then keys."""
    parts = [card_days(session, params), doctor_days(session, params)]
    f = pd.concat([p[SIGNAL_COLUMNS] for p in parts], ignore_index=True)
    if f.empty:
        return f
    f["_key"] = f.psn_no.fillna("") + f.dr_code.fillna("")
    f = f.sort_values(["signal", "events", "_key", "day"], ascending=[True, False, True, True], kind="mergesort")
    return f.drop(columns="_key").reset_index(drop=True)
