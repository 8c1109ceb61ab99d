"""Five rules written the way a notebook user would, in plain pandas: the benchmark's baseline.

Each function takes the data folder and returns the set of finding keys it would report, so the
benchmark can check the baseline and the rule library agree before it compares their speed.
Semantics follow ``docs/rules-spec.md`` with the default parameters.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd


def _read(data, table, columns):
    p = Path(data) / f"{table}.parquet"
    return pd.read_parquet(p if p.exists() else Path(data) / table, columns=columns)


def previous_stay(m, keys):
    """``m`` with the columns of each stay's previous stay in its ``keys`` group, suffixed
    ``_prev``: of the stays admitted before it (``m`` sorted by keys, begntime, endtime,
    mdtrt_id), the one discharged last, the later on a tie (NaN for a group's first stay)."""
    m = m.reset_index(drop=True)
    g = m.groupby(keys, sort=False)
    pos = pd.Series(range(len(m)), dtype="float64")
    lead = pos.where(m.endtime >= g.endtime.cummax())  # ends no earlier than every stay before it
    last = lead.groupby([m[k] for k in keys], sort=False).ffill()
    m["pos_prev"] = last.groupby([m[k] for k in keys], sort=False).shift(1)
    prev = m.drop(columns="pos_prev").add_suffix("_prev")
    prev["pos_prev"] = pos
    return m.merge(prev, on="pos_prev", how="left")


def split_hospitalization(data, window_days=15):
    """Same person, same institution, readmitted 0..window days after the previous discharge
    (the stay admitted earlier that was discharged last), same ICD-10 category."""
    m = _read(data, "mdtrt", ["mdtrt_id", "psn_no", "fixmedins_code", "med_type", "begntime", "endtime", "dise_codg"])
    m = m[m.med_type == "21"].sort_values(["psn_no", "fixmedins_code", "begntime", "endtime", "mdtrt_id"])
    m = previous_stay(m, ["psn_no", "fixmedins_code"])
    gap = (m.begntime.dt.normalize() - m.endtime_prev.dt.normalize()).dt.days
    same = m.dise_codg.str[:3] == m.dise_codg_prev.str[:3]
    hits = m[(gap >= 0) & (gap <= window_days) & same]
    return set(hits.mdtrt_id)


def duplicate_billing(data):
    """A child item billed beside its parent on one visit, or one item twice at the same time."""
    fee = _read(data, "fee", ["mdtrt_id", "feedetl_sn", "med_list_codg", "fee_ocur_time"])
    incl = _read(data, "list_incl", ["parent_codg", "child_codg"])
    items = fee[["mdtrt_id", "med_list_codg"]].drop_duplicates()
    pairs = items.merge(incl, left_on="med_list_codg", right_on="parent_codg").merge(
        items, left_on=["mdtrt_id", "child_codg"], right_on=["mdtrt_id", "med_list_codg"])
    twice = fee[fee.duplicated(["mdtrt_id", "med_list_codg", "fee_ocur_time"], keep=False)]
    return set(pairs.mdtrt_id) | set(twice.mdtrt_id)


def price_over_cap(data):
    """A unit price above the catalogue cap."""
    fee = _read(data, "fee", ["mdtrt_id", "med_list_codg", "pric"])
    lst = _read(data, "list", ["med_list_codg", "pric_uplmt_amt"])
    f = fee.merge(lst, on="med_list_codg")
    f = f[f.pric_uplmt_amt.notna()]
    return set(f[f.pric.astype(float) > f.pric_uplmt_amt.astype(float)].mdtrt_id)


def frequent_purchase(data, window_days=30, max_purchases=10):
    """More pharmacy purchases (41) than allowed in a rolling window of days."""
    m = _read(data, "mdtrt", ["psn_no", "med_type", "begntime"])
    m = m[m.med_type == "41"].copy()
    m["day"] = m.begntime.dt.normalize()
    hits = set()
    for psn, g in m.groupby("psn_no"):
        days = g.day.sort_values().to_numpy()
        j = 0
        for i in range(len(days)):
            while days[i] - days[j] >= pd.Timedelta(days=window_days):
                j += 1
            if i - j + 1 > max_purchases:
                hits.add(psn)
                break
    return hits


def stock_mismatch(data):
    """Billed quantity of an item in a month beyond opening stock plus purchases."""
    fee = _read(data, "fee", ["mdtrt_id", "med_list_codg", "cnt", "fee_ocur_time"])
    m = _read(data, "mdtrt", ["mdtrt_id", "fixmedins_code"])
    st = _read(data, "stock", ["fixmedins_code", "med_list_codg", "period", "inv_begn", "purc_cnt"])
    f = fee.merge(m, on="mdtrt_id")
    f["period"] = f.fee_ocur_time.dt.strftime("%Y-%m")
    billed = f.groupby(["fixmedins_code", "med_list_codg", "period"], as_index=False).cnt.sum()
    b = billed.merge(st, on=["fixmedins_code", "med_list_codg", "period"])
    return set(b[b.cnt > b.inv_begn + b.purc_cnt].fixmedins_code)


BASELINES = {
    "split_hospitalization": (split_hospitalization, "mdtrt_id"),
    "duplicate_billing": (duplicate_billing, "mdtrt_id"),
    "price_over_cap": (price_over_cap, "mdtrt_id"),
    "frequent_purchase": (frequent_purchase, "psn_no"),
    "stock_mismatch": (stock_mismatch, "fixmedins_code"),
}
