"""Peer groups and robust standardisation: the one definition used across the workbench.

**Peer group.** An institution's peer group is ``fixmedins_type`` x ``hosp_lv`` written
``"<type>-<level>"`` (``"1-2"``: a level-2 medical institution), a missing part as ``"?"``
(:func:`peer_key`, and :func:`peer_key_sql` for SQL). Providers, stays, credit and the
``cost_share_outlier`` rule all group by this key (``tests/test_stats.py`` holds the rule's SQL
to it). Providers go one step further (:func:`assign_peer_groups`): a group with fewer than
``min_size`` institutions is merged into the broader group of its type (``"1-*"``: every small
group of medical institutions together), and each institution is standardised against a
*reference* set: its peer group when that has at least ``min_size`` members (``peer_basis =
"group"``); else every institution of its type (``"type"``); else every institution (``"all"``).

**Robust z** of a value x against a reference: ``(x - median) / (1.4826 MAD)``. When the MAD is
0 (more than half the peers share one value, e.g. a share that is 0 for most) the scale is the
mean absolute deviation x 1.2533 (Iglewicz & Hoaglin); when that is 0 too every peer has the
median, and every z is 0 (a value off the median is +/-inf). Nulls in the reference are left
out; a null value stays NaN. (The ``cost_share_outlier`` rule computes its z in SQL with the
rule's own published formula, ``0.6745 (x - m) / MAD``; its parameters are documented there.)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

PEER_KEYS = ("fixmedins_type", "hosp_lv")
MIN_PEER_SIZE = 5
MISSING = "?"     # a missing type or level in a peer key
SEPARATOR = "-"   # between the parts of a peer key
MERGED = "*"      # the level of a merged group of small groups ("1-*")
MAD_SCALE = 1.4826
MEAN_AD_SCALE = 1.2533
TYPE_NAMES = {"1": "医疗机构", "2": "零售药店"}
LEVEL_NAMES = {"1": "三级", "2": "二级", "3": "一级", "9": "未定级/基层"}


# ------------------------------------------------------------------------------ robust z
def robust_scale(reference) -> tuple:
    """``(median, scale)`` of the non-null values of ``reference`` (scale 0 when all are equal;
    both NaN when there is no value)."""
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
    """Robust z-scores of ``values`` against ``reference`` (see the module).

    Parameters
    ----------
    values, reference : array-like of float
        Nulls in ``reference`` are left out; a null in ``values`` scores NaN.

    Returns
    -------
    ndarray
        ``(x - median) / scale``; with a zero scale 0 for a value at the median and +/-inf for
        any other.
    """
    x = np.asarray(values, dtype=float)
    med, scale = robust_scale(reference)
    if scale == 0:
        return np.where(np.isnan(x), np.nan, np.where(x == med, 0.0, np.where(x > med, np.inf, -np.inf)))
    return (x - med) / scale


# ------------------------------------------------------------------------------ peer groups
def peer_key(frame: pd.DataFrame, by=PEER_KEYS) -> pd.Series:
    """The peer key of each row: the ``by`` columns joined by ``"-"``, a missing part ``"?"``."""
    keys = frame[list(by)].astype("string").fillna(MISSING)
    if not len(frame):
        return pd.Series([], dtype="string", index=frame.index)
    return keys.agg(SEPARATOR.join, axis=1)


def peer_key_sql(type_expr: str = "fixmedins_type", level_expr: str = "hosp_lv", *,
                 missing: str = MISSING, separator: str = SEPARATOR) -> str:
    """The peer key as a SQL expression (DuckDB and Spark alike) over two column expressions,
    e.g. ``peer_key_sql("i.fixmedins_type", "i.hosp_lv")`` -> ``'1-2'``.

    ``missing`` and ``separator`` only change how the key is written, never which institutions
    group together; credit's ``institution_base`` keeps the label it has always shown
    (``'1×2'``, a missing part empty) through them.
    """
    return (f"COALESCE({type_expr}, '{missing}') || '{separator}' || "
            f"COALESCE({level_expr}, '{missing}')")


def peer_type(group) -> pd.Series:
    """The type part of peer keys (``"1-2"`` -> ``"1"``, ``"1-*"`` -> ``"1"``)."""
    return pd.Series(group).astype(str).str.split(SEPARATOR).str[0]


def peer_label(code: str) -> str:
    """``"1-2"`` -> ``"医疗机构·二级"``; ``"1-*"`` -> ``"医疗机构·合并组"``."""
    parts = str(code).split(SEPARATOR)
    words = [TYPE_NAMES.get(parts[0], parts[0])]
    for i, p in enumerate(parts[1:]):
        words.append("合并组" if p == MERGED else LEVEL_NAMES.get(p, p) if i == 0 else p)
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
    fine = peer_key(out, by)
    typ = out[by[0]].astype("string").fillna(MISSING)
    size = fine.map(fine.value_counts())
    group = fine.where(size >= min_size, typ + SEPARATOR + MERGED)
    out["peer_group"] = group.astype(str).to_numpy()
    out["peer_label"] = [peer_label(g) for g in out["peer_group"]]
    group_size = out["peer_group"].map(out["peer_group"].value_counts())
    type_size = typ.map(typ.value_counts())
    basis = np.where(group_size >= min_size, "group", np.where(type_size >= min_size, "type", "all"))
    out["peer_basis"] = basis
    out["reference"] = np.where(basis == "group", out["peer_group"], np.where(basis == "type", "type:" + typ.astype(str), "*"))
    return out
