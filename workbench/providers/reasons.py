"""Reasons in words: the measures that set an institution apart from its peers.

For each institution the scored measures that drive its score — those off the peer median in
their suspicious direction (above for most, below for ``LOW`` measures such as the repeat-visit
interval, either way for ``EITHER``) — with the largest |robust z| (top 3, at least
``min_abs_z``) become sentences such as ``药占比 0.78，同级中位数 0.41，高 5.1 MAD`` or
``drug share 0.78 vs peer median 0.41, 5.1 MAD above``. "MAD" here is the robust scale of
:mod:`~workbench.providers.peers` (1.4826 x the median absolute deviation), so "5.1 MAD" reads as
"5.1 robust standard deviations".

The reasons of the ``providers.csv`` begin with the exposure (:func:`exposure_texts`: what the
fund paid and where that stands among the peers), then name the abnormality, so both halves of
the ``priority`` are in words.
"""
from __future__ import annotations

import numpy as np

import pandas as pd

from .measures import BY_NAME, EITHER, format_value

TOP = 3
MIN_ABS_Z = 2.0
NONE_TEXT = {"zh": "与同级机构无明显差异", "en": "no measure far from its peers"}


def _suspicious(name: str, z: float) -> bool:
    d = BY_NAME[name].direction if name in BY_NAME else EITHER
    return d == EITHER or z * d > 0


def top_deviations(z: dict, top: int = TOP, min_abs_z: float = MIN_ABS_Z, suspicious_only: bool = True) -> list:
    """Measure names of the ``top`` largest |z| (finite, at least ``min_abs_z``, and with
    ``suspicious_only`` in the measure's suspicious direction), largest first; ties by catalogue
    order."""
    order = list(BY_NAME)
    items = [(m, float(v)) for m, v in z.items() if v is not None and np.isfinite(v) and abs(v) >= min_abs_z
             and (not suspicious_only or _suspicious(m, float(v)))]
    items.sort(key=lambda mv: (-abs(mv[1]), order.index(mv[0]) if mv[0] in order else len(order)))
    return [m for m, _ in items[:top]]


def reason_sentence(name: str, value, median, z: float, lang: str = "zh") -> str:
    """One measure against its peers, in Chinese (``lang="zh"``) or English (``"en"``)."""
    m = BY_NAME[name]
    v, med = format_value(name, value), format_value(name, median)
    if lang == "en":
        side = "above" if z > 0 else "below"
        return f"{m.en} {v} vs peer median {med}, {abs(z):.1f} MAD {side}"
    side = "高" if z > 0 else "低"
    return f"{m.zh} {v}，同级中位数 {med}，{side} {abs(z):.1f} MAD"


def reasons_text(values: dict, medians: dict, z: dict, lang: str = "zh", top: int = TOP,
                 min_abs_z: float = MIN_ABS_Z) -> str:
    """The reasons of one institution joined (``；`` in Chinese, ``; `` in English).

    Parameters
    ----------
    values, medians, z : dict of measure name to number
        The institution's values, its reference medians and its robust z, over the scored measures.
    """
    names = top_deviations(z, top, min_abs_z)
    if not names:
        return NONE_TEXT[lang]
    sep = "; " if lang == "en" else "；"
    return sep.join(reason_sentence(n, values.get(n), medians.get(n), z[n], lang) for n in names)


def exposure_texts(exposure, peer_group, money: bool = True) -> dict:
    """The exposure sentence of each provider, ``{"zh": [...], "en": [...]}``: what the fund paid
    and its place among its peer group (1 = paid most), e.g. ``基金支付 1,234,567.00，同级 20 家中第 3``
    / ``fund paid 1,234,567.00, #3 of 20 peers``; visits instead when ``money`` is False."""
    e = pd.Series(np.asarray(exposure, dtype=float))
    g = pd.Series(np.asarray(peer_group))
    place = e.groupby(g).rank(method="min", ascending=False).astype(int).to_numpy()
    size = g.map(g.value_counts()).to_numpy()
    if money:
        zh = [f"基金支付 {v:,.2f}，同级 {n} 家中第 {k}" for v, n, k in zip(e, size, place)]
        en = [f"fund paid {v:,.2f}, #{k} of {n} peers" for v, n, k in zip(e, size, place)]
    else:
        zh = [f"就诊 {int(v):,} 人次，同级 {n} 家中第 {k}" for v, n, k in zip(e, size, place)]
        en = [f"{int(v):,} visits, #{k} of {n} peers" for v, n, k in zip(e, size, place)]
    return {"zh": zh, "en": en}


def join_reasons(exposure_text: str, abnormality_text: str, lang: str = "zh") -> str:
    """Exposure first, then the abnormality (``；`` in Chinese, ``; `` in English)."""
    return ("; " if lang == "en" else "；").join((exposure_text, abnormality_text))
