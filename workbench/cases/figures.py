"""Briefing figures from the auditors' decisions (确认违规, 追回基金, 暂停 / 解除协议, 罚款, 移送).

A pure function of the case store's current state (:meth:`workbench.cases.CaseStore.current`),
so a dashboard can filter that frame (a county's institutions, a period) and count again.
"""
from __future__ import annotations

from decimal import Decimal

import pandas as pd

from ..errors import CaseError

FIGURES = ["findings", "confirmed", "dismissed", "open", "amount_at_risk_confirmed", "recovered",
           "institutions_confirmed", "suspended", "terminated", "fined", "fines", "referred_police",
           "referred_discipline"]


def briefing_figures(current, by=None):
    """The figures a bureau reports, from the decisions.

    Parameters
    ----------
    current : DataFrame
        :meth:`CaseStore.current` (possibly filtered).
    by : {None, 'month', 'rule_id', 'fixmedins_code'}
        None: one dict. Otherwise a DataFrame with one row per group (``month`` is the
        ``YYYY-MM`` of ``decided_at``, UTC).

    Returns
    -------
    dict or DataFrame
        ``findings`` decided, ``confirmed``, ``dismissed``, ``open`` (reopened) counts;
        ``amount_at_risk_confirmed`` and ``recovered`` (Decimal yuan, confirmed findings);
        ``institutions_confirmed`` (institutions with a confirmed finding); ``suspended``,
        ``terminated``, ``fined`` (institutions with that action on a confirmed finding, 家);
        ``fines`` (Decimal yuan); ``referred_police``, ``referred_discipline`` (confirmed
        findings referred, 例). Actions on reopened or dismissed findings do not count.
    """
    cur = current
    if by is None:
        return _figures(cur)
    if by not in ("month", "rule_id", "fixmedins_code"):
        raise CaseError(f"briefing_figures: by must be month, rule_id or fixmedins_code, not {by!r}")
    keys = [str(v)[:7] for v in cur["decided_at"]] if by == "month" else list(cur[by])
    cur = cur.assign(_key=keys)
    rows = [{by: k, **_figures(g)} for k, g in cur.groupby("_key", sort=True, dropna=False)]
    return pd.DataFrame(rows, columns=[by, *FIGURES])


def _figures(cur) -> dict:
    zero = Decimal("0.00")
    conf = cur[cur["status"] == "confirmed"]
    acts = [set(a.split(";")) if a else set() for a in conf["actions"]]
    # an institution counts once (家); a finding without one counts as its own unit
    inst = [c if isinstance(c, str) and c else f"finding:{f}" for c, f in zip(conf["fixmedins_code"], conf["finding_id"])]

    def institutions(name):
        return len({i for i, a in zip(inst, acts) if name in a})

    return {
        "findings": len(cur), "confirmed": len(conf),
        "dismissed": int((cur["status"] == "dismissed").sum()), "open": int((cur["status"] == "open").sum()),
        "amount_at_risk_confirmed": sum((v for v in conf["amount_at_risk"] if v is not None), zero),
        "recovered": sum((v for v in conf["recovered"] if v is not None), zero),
        "institutions_confirmed": len(set(inst)),
        "suspended": institutions("suspend"), "terminated": institutions("terminate"), "fined": institutions("fine"),
        "fines": sum((v for v in conf["fine"] if v is not None), zero),
        "referred_police": sum("refer_police" in a for a in acts),
        "referred_discipline": sum("refer_discipline" in a for a in acts),
    }
