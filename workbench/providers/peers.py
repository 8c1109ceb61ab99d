"""Standardising institutions against their peers (the peer group and robust z are
:mod:`workbench.stats`, re-exported here): each measure's robust z against each institution's
reference set (its peer group, its type, or everyone; see :func:`workbench.stats.assign_peer_groups`),
with a floor on the scale.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats import (LEVEL_NAMES, MAD_SCALE, MEAN_AD_SCALE, MIN_PEER_SIZE, PEER_KEYS,  # noqa: F401
                     TYPE_NAMES, assign_peer_groups, peer_label, peer_type, robust_scale, robust_z)


def _members(frame: pd.DataFrame, ref: str) -> pd.Series:
    if ref == "*":
        return pd.Series(True, index=frame.index)
    if ref.startswith("type:"):
        return peer_type(frame["peer_group"]).set_axis(frame.index) == ref[5:]
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
