"""Peer groups and robust standardisation: a clinic is compared with clinics.

Peer group = ``fixmedins_type`` x ``hosp_lv`` by default (``PEER_KEYS``; add ``admdvs`` for
county). A group with fewer than ``min_size`` institutions is merged into the broader group of
its type (``"1-*"``: every small group of medical institutions together). Each institution is
standardised against a *reference* set: its peer group when that has at least ``min_size``
members (``peer_basis = "group"``); else every institution of its type (``"type"``); else every
institution (``"all"``).

Robust z of a value x against a reference: ``(x - median) / (1.4826 MAD)``. When the MAD is 0
(more than half the peers share one value, e.g. a share that is 0 for most) the scale is the
mean absolute deviation x 1.2533 (Iglewicz & Hoaglin); when that is 0 too every peer has the
median, and every z is 0.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

PEER_KEYS = ("fixmedins_type", "hosp_lv")
MIN_PEER_SIZE = 5
MAD_SCALE = 1.4826
MEAN_AD_SCALE = 1.2533
TYPE_NAMES = {"1": "医疗机构", "2": "零售药店"}
LEVEL_NAMES = {"1": "三级", "2": "二级", "3": "一级", "9": "未定级/基层"}


def robust_scale(reference) -> tuple:
    """``(median, scale)`` of the non-null values of ``reference`` (scale 0 when all are equal;
    median NaN when there is none)."""
    ref = np.asarray(reference, dtype=float)
    ref = ref[~np.isnan(ref)]
    if ref.size == 0:
        return np.nan, np.nan
    med = float(np.median(ref))
    dev = np.abs(ref - med)
    scale = MAD_SCALE * float(np.median(dev))
    if scale == 0:
        scale = MEAN_AD_SCALE * float(np.mean(dev))
    return med, scale


def robust_z(values, reference) -> np.ndarray:
    """Robust z-scores of ``values`` against ``reference`` (see the module). Null stays NaN; a
    zero scale gives 0 to a value at the median and +/-inf to any other."""
    x = np.asarray(values, dtype=float)
    med, scale = robust_scale(reference)
    if scale == 0:
        return np.where(np.isnan(x), np.nan, np.where(x == med, 0.0, np.where(x > med, np.inf, -np.inf)))
    return (x - med) / scale


def peer_label(code: str) -> str:
    """``"1-2"`` -> ``"医疗机构·二级"``; ``"1-*"`` -> ``"医疗机构·合并组"``."""
    parts = str(code).split("-")
    words = [TYPE_NAMES.get(parts[0], parts[0])]
    for i, p in enumerate(parts[1:]):
        words.append("合并组" if p == "*" else LEVEL_NAMES.get(p, p) if i == 0 else p)
    return "·".join(words)


def assign_peer_groups(inst: pd.DataFrame, by=PEER_KEYS, min_size: int = MIN_PEER_SIZE) -> pd.DataFrame:
    """Add ``peer_group``, ``peer_label``, ``peer_basis`` and ``reference`` columns.

    Parameters
    ----------
    inst : DataFrame
        One row per institution with the ``by`` columns (``fixmedins_type`` first).
    by : sequence of str
        Columns that make a peer group; the first is the type that small groups fall back to.
    min_size : int
        Smallest peer group kept as it is.

    Returns
    -------
    DataFrame
        A copy with ``peer_group`` (``"1-2"``, or ``"1-*"`` for the merged small groups),
        ``peer_label``, ``peer_basis`` (``group``, ``type``, ``all``) and ``reference`` (the key
        of the reference set: the peer group, ``"type:1"``, or ``"*"``).
    """
    out = inst.copy()
    keys = out[list(by)].astype("string").fillna("?")
    fine = keys.agg("-".join, axis=1) if len(out) else pd.Series([], dtype="string")
    typ = keys[by[0]]
    size = fine.map(fine.value_counts())
    group = fine.where(size >= min_size, typ + "-*")
    out["peer_group"] = group.astype(str).to_numpy()
    out["peer_label"] = [peer_label(g) for g in out["peer_group"]]
    group_size = out["peer_group"].map(out["peer_group"].value_counts())
    type_size = typ.map(typ.value_counts())
    basis = np.where(group_size >= min_size, "group", np.where(type_size >= min_size, "type", "all"))
    out["peer_basis"] = basis
    out["reference"] = np.where(basis == "group", out["peer_group"], np.where(basis == "type", "type:" + typ.astype(str), "*"))
    return out


def _members(frame: pd.DataFrame, ref: str) -> pd.Series:
    if ref == "*":
        return pd.Series(True, index=frame.index)
    if ref.startswith("type:"):
        return frame["peer_group"].str.split("-").str[0] == ref[5:]
    return frame["peer_group"] == ref


def standardise(frame: pd.DataFrame, columns, floors=None) -> tuple:
    """Robust z of each column against each row's reference set (:func:`assign_peer_groups`).

    ``floors`` maps a column to ``(absolute, relative)``: the scale used is at least
    ``max(absolute, relative x |median|)`` (a difference smaller than that is not unusual).

    Returns
    -------
    z : DataFrame
        Same index as ``frame``, one column per measure (NaN where the value is null).
    stats : DataFrame
        ``reference, measure, n, median, scale``: the reference statistics (``n`` non-null values;
        ``scale`` after the floor).
    """
    floors = floors or {}
    z = pd.DataFrame(np.nan, index=frame.index, columns=list(columns), dtype=float)
    rows = []
    for ref in sorted(frame["reference"].unique()):
        members = _members(frame, ref)
        at = frame.index[frame["reference"] == ref]
        for c in columns:
            values = pd.to_numeric(frame.loc[members, c], errors="coerce").to_numpy(dtype=float)
            med, scale = robust_scale(values)
            if c in floors and not np.isnan(med):
                scale = max(scale, floors[c][0], floors[c][1] * abs(med))
            rows.append({"reference": ref, "measure": c, "n": int((~np.isnan(values)).sum()), "median": med, "scale": scale})
            x = pd.to_numeric(frame.loc[at, c], errors="coerce").to_numpy(dtype=float)
            with np.errstate(invalid="ignore", divide="ignore"):
                zz = np.where(scale > 0, (x - med) / (scale if scale > 0 else 1.0), np.where(np.isnan(x), np.nan, 0.0))
            z.loc[at, c] = zz
    return z, pd.DataFrame(rows, columns=["reference", "measure", "n", "median", "scale"])
