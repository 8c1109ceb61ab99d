"""Institutions' readmission patterns: gaps against the peer group (:mod:`workbench.stats`), the
split signature (robust z and the Poisson chance of so many short-gap readmissions), a
readmission rate adjusted for age and diagnosis mix, stays just under a cost or day limit, a rank.
"""
from __future__ import annotations

import decimal

import numpy as np
import pandas as pd
from scipy.stats import poisson

from ..errors import WorkbenchError
from ..stats import robust_z
from ..sql.templates import Raw
from .episodes import _check_window, _sql, ensure_episodes


DEFAULT_AGE_BANDS = (0, 18, 45, 65, 80)


def _age_band_sql(bands) -> str:
    bands = sorted(int(b) for b in bands)
    if not bands or bands[0] != 0:
        raise WorkbenchError(f"stays: age_bands must start at 0, got {list(bands)!r}")
    whens = ["WHEN e.age IS NULL THEN 'unknown'"]
    for lo, hi in zip(bands, bands[1:]):
        whens.append(f"WHEN e.age < {hi} THEN '{lo}-{hi - 1}'")
    return "CASE " + " ".join(whens) + f" ELSE '{bands[-1]}+' END"


def _ratio(num, den):
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def institution_patterns(session, window_days: int = 15, short_gaps=(1, 3), cost_limit=None,
                         near_share="0.05", los_limit_days=None, los_margin_days: int = 2,
                         age_bands=DEFAULT_AGE_BANDS, min_peers: int = 3) -> pd.DataFrame:
    """One row per institution with inpatient stays: readmission patterns and a split rank.

    Parameters
    ----------
    session : Session
    window_days : int
        Readmission window (days between discharge and readmission, inclusive).
    short_gaps : (int, int)
        Gaps counted as the split signature (default 1–3 days: discharged and readmitted a day
        or three later, where splitting hospitals spike).
    cost_limit : Decimal or str, optional
        A per-stay cost limit in yuan (e.g. a per-case payment standard). A stay is "just under"
        it when its net bill is in ``[cost_limit * (1 - near_share), cost_limit)``: hospitals that
        discharge a patient when the bill approaches the limit and readmit them bunch there.
        None leaves the cost measures null.
    near_share : Decimal or str
        Width of the band under ``cost_limit`` (default 5 %).
    los_limit_days : int, optional
        A length-of-stay limit in days; a stay is "just under" it when ``los_days`` is in
        ``[los_limit_days - los_margin_days, los_limit_days)``. None leaves those measures null.
    los_margin_days : int
    age_bands : sequence of int
        Lower bounds of the age bands of the standardisation (first 0).
    min_peers : int
        A peer group (``fixmedins_type-hosp_lv``) with fewer institutions than this is compared
        with every institution instead (``peer_basis`` says which).

    Returns
    -------
    DataFrame
        Sorted by ``split_rank`` (1 = most suspicious). Counts from SQL (``stays, persons,
        readmissions, short_gap_readmissions, overlapping_stays, billed_stays,
        near_cost_limit_stays, near_los_limit_stays``) and the measures:

        - ``readmission_rate`` = readmissions / stays;
        - ``short_gap_rate`` = short-gap readmissions / stays; ``short_gap_share`` = short-gap /
          all readmissions in the window;
        - ``peer_short_gap_rate``, ``peer_short_gap_share``: the same pooled over the peers
          (the institution itself left out);
        - ``expected_short_gap`` = stays x peer rate, ``excess_short_gap`` = observed - expected;
        - ``split_z``: robust z of ``short_gap_rate`` against the peers (itself included);
        - ``split_p``: :func:`split_surprise`, the Poisson chance of at least that many short-gap
          readmissions where ``expected_short_gap`` were expected — the split signature, and
          ``split_rank`` by it (ties: larger excess first, then code);
        - ``expected_readmissions`` (region-wide rates per age band x diagnosis category summed
          over the institution's stays), ``oe_ratio`` = observed / expected and
          ``adjusted_readmission_rate`` = oe_ratio x the region's rate;
        - ``near_cost_limit_share``, ``near_los_limit_share``: shares of stays just under the
          limits, with the region's shares beside them.
    """
    window_days = _check_window(window_days)
    lo, hi = (int(g) for g in short_gaps)
    if not 0 <= lo <= hi:
        raise WorkbenchError(f"stays: short_gaps must be (low, high) with 0 <= low <= high, got {short_gaps!r}")
    near = decimal.Decimal(str(near_share))
    limit = None if cost_limit is None else decimal.Decimal(str(cost_limit))
    t = ensure_episodes(session)
    params = {
        "window_days": window_days, "short_min": lo, "short_max": hi,
        "cost_low": None if limit is None else limit * (1 - near), "cost_limit": limit,
        "los_low": None if los_limit_days is None else int(los_limit_days) - int(los_margin_days),
        "los_limit": None if los_limit_days is None else int(los_limit_days),
    }
    query = _sql("institution_counts", episodes=Raw(t), age_band=Raw(_age_band_sql(age_bands)))
    inst = session.df(query, params)
    return _measures(inst, limit is not None, los_limit_days is not None, min_peers)


def _region_short_gap_rate(inst: pd.DataFrame) -> float:
    stays = inst.stays.sum()
    return float(inst.short_gap_readmissions.sum() / stays) if stays else np.nan


def split_surprise(observed, expected, floor) -> np.ndarray:
    """How unlikely so many short-gap readmissions are by chance: the Poisson probability of at
    least ``observed`` where ``expected`` were expected (the peers' rate x the stays).

    An auditor reads it on its own ("7 readmitted within 1-3 days where 0.8 were expected: one
    chance in 10,000"), and it weighs the count and the rate together, so one readmission in 223
    stays never outranks 7 in 75 however few peers there are to compare with (a robust z from a
    peer group of three can). Where the peers had none (expected 0), ``floor`` (the stays x the
    rate over every institution) stands in. No short-gap readmission: 1.
    """
    k = np.asarray(observed, dtype=float)
    lam = np.asarray(expected, dtype=float)
    lam = np.where(np.isfinite(lam) & (lam > 0), lam, np.asarray(floor, dtype=float))
    lam = np.where(np.isfinite(lam) & (lam > 0), lam, np.nan)
    p = poisson.sf(k - 1, lam)  # P(X >= k)
    return np.where(k <= 0, 1.0, p)


def _measures(inst: pd.DataFrame, has_cost: bool, has_los: bool, min_peers: int) -> pd.DataFrame:
    """Peer comparisons and ranks on the per-institution counts (pure pandas, small)."""
    counts = ["stays", "persons", "readmissions", "short_gap_readmissions", "readmitted_stays",
              "overlapping_stays", "billed_stays", "near_cost_limit_stays", "near_los_limit_stays"]
    inst = inst.copy()
    inst[counts] = inst[counts].astype("int64")
    inst["readmission_rate"] = _ratio(inst.readmissions, inst.stays)
    inst["short_gap_rate"] = _ratio(inst.short_gap_readmissions, inst.stays)
    inst["short_gap_share"] = _ratio(inst.short_gap_readmissions, inst.readmissions)
    group = inst.groupby("peer_group")
    peers = {c: group[c].transform("sum") - inst[c] for c in ["stays", "readmissions", "short_gap_readmissions"]}
    inst["peer_institutions"] = group["fixmedins_code"].transform("count").astype("int64")
    inst["peer_basis"] = np.where(inst.peer_institutions >= min_peers, "peer_group", "all")
    for c in peers:  # too few peers: pool every other institution instead
        everyone = inst[c].sum() - inst[c]
        peers[c] = peers[c].where(inst.peer_basis == "peer_group", everyone)
    inst["peer_short_gap_rate"] = _ratio(peers["short_gap_readmissions"], peers["stays"])
    inst["peer_short_gap_share"] = _ratio(peers["short_gap_readmissions"], peers["readmissions"])
    inst["expected_short_gap"] = inst.stays * inst.peer_short_gap_rate
    inst["excess_short_gap"] = inst.short_gap_readmissions - inst.expected_short_gap
    z = pd.Series(np.nan, index=inst.index)
    for basis_group, rows in inst.groupby(np.where(inst.peer_basis == "peer_group", inst.peer_group, "")):
        ref = inst.loc[rows.index] if basis_group else inst
        z.loc[rows.index] = robust_z(rows.short_gap_rate, ref.short_gap_rate)
    inst["split_z"] = z
    inst["split_p"] = split_surprise(inst.short_gap_readmissions, inst.expected_short_gap,
                                     inst.stays * _region_short_gap_rate(inst))
    region_rate = inst.readmissions.sum() / inst.stays.sum() if inst.stays.sum() else np.nan
    inst["oe_ratio"] = _ratio(inst.readmitted_stays, inst.expected_readmissions)
    inst["adjusted_readmission_rate"] = inst.oe_ratio * region_rate
    billed = inst.billed_stays.sum()
    inst["near_cost_limit_share"] = _ratio(inst.near_cost_limit_stays, inst.billed_stays) if has_cost else np.nan
    inst["region_near_cost_limit_share"] = (inst.near_cost_limit_stays.sum() / billed if billed else np.nan) if has_cost else np.nan
    inst["near_los_limit_share"] = _ratio(inst.near_los_limit_stays, inst.stays) if has_los else np.nan
    inst["region_near_los_limit_share"] = inst.near_los_limit_stays.sum() / inst.stays.sum() if has_los else np.nan
    inst = inst.drop(columns="readmitted_stays")
    order = inst.assign(_p=inst.split_p.fillna(np.inf), _x=inst.excess_short_gap.fillna(-np.inf))
    order = order.sort_values(["_p", "_x", "fixmedins_code"], ascending=[True, False, True], kind="mergesort")
    inst = inst.loc[order.index].reset_index(drop=True)
    inst.insert(0, "split_rank", np.arange(1, len(inst) + 1, dtype="int64"))
    return inst


def institution_gap_profile(gaps: pd.DataFrame, institutions: pd.DataFrame, fixmedins_code: str,
                            window_days: int) -> pd.DataFrame:
    """One institution's readmission gaps against its peers, one row per gap 0..window_days.

    Parameters
    ----------
    gaps : DataFrame
        :func:`gap_counts`.
    institutions : DataFrame
        :func:`institution_patterns` (for the peer group and basis).

    Returns
    -------
    DataFrame
        ``gap_days, n, share, peer_n, peer_share``: counts and shares of the institution's
        readmissions and of its peers' (pooled, the institution left out).
    """
    row = institutions.loc[institutions.fixmedins_code == fixmedins_code]
    if row.empty:
        raise WorkbenchError(f"stays: institution {fixmedins_code!r} has no inpatient stays in this data folder")
    row = row.iloc[0]
    own = gaps[gaps.fixmedins_code == fixmedins_code]
    others = gaps[gaps.fixmedins_code != fixmedins_code]
    if row.peer_basis == "peer_group":
        others = others[others.peer_group == row.peer_group]
    out = pd.DataFrame({"gap_days": np.arange(0, int(window_days) + 1, dtype="int64")})
    out["n"] = out.gap_days.map(own.groupby("gap_days").n.sum()).fillna(0).astype("int64")
    out["peer_n"] = out.gap_days.map(others.groupby("gap_days").n.sum()).fillna(0).astype("int64")
    out["share"] = _ratio(out.n, np.full(len(out), out.n.sum()))
    out["peer_share"] = _ratio(out.peer_n, np.full(len(out), out.peer_n.sum()))
    return out[["gap_days", "n", "share", "peer_n", "peer_share"]]


def readmission_summary(session, window_days: int = 15) -> dict:
    """Headline figures: ``stays``, ``persons``, ``institutions`` (with inpatient stays),
    ``readmissions`` (same institution, within the window) and ``readmission_hifp_pay`` (the
    fund's net payment for those second stays, ``Decimal``; None without ``setl``)."""
    window_days = _check_window(window_days)
    t = ensure_episodes(session)
    row = session.sql(
        f"""SELECT COUNT(*), COUNT(DISTINCT psn_no), COUNT(DISTINCT fixmedins_code),
                   SUM(CASE WHEN gap_prev_same_days BETWEEN 0 AND $w THEN 1 ELSE 0 END),
                   CAST(SUM(CASE WHEN gap_prev_same_days BETWEEN 0 AND $w THEN hifp_pay END) AS DECIMAL(18,2))
            FROM {t}""", {"w": window_days}).fetchall()[0]
    keys = ["stays", "persons", "institutions", "readmissions", "readmission_hifp_pay"]
    out = dict(zip(keys, row))
    out["readmissions"] = int(out["readmissions"] or 0)
    return out


def planted_split_hospitals(session) -> list:
    """Institutions planted as ``split_stay_hospital`` in synthetic data (``truth``), sorted;
    empty for real data."""
    if not session.has("truth"):
        return []
    rows = session.sql("SELECT DISTINCT fixmedins_code FROM truth WHERE scenario = 'split_stay_hospital' "
                       "AND fixmedins_code IS NOT NULL ORDER BY 1").fetchall()
    return [r[0] for r in rows]
