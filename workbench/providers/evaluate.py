"""How well the risk score finds planted (or labelled) outlier providers, beside plain size.

Positives from a synthetic ``truth.parquet``: institutions of truth rows whose ``rule_id`` is
``providers`` or ``cost_share_outlier``, or whose ``scenario`` is one of
:data:`POSITIVE_SCENARIOS`. From a CMS import's ``cms_labels.parquet``: providers with
``potential_fraud`` true. Every other profiled institution is a negative.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import WorkbenchError

POSITIVE_RULES = ("providers", "cost_share_outlier")
POSITIVE_SCENARIOS = ("drug_heavy", "test_heavy", "upcoding", "tcm_abuse", "low_standard_admission")


def read_labels(truth) -> pd.DataFrame:
    """``fixmedins_code, scenario`` of the positive institutions (one row per code and scenario).

    ``truth`` is a truth frame, a ``cms_labels`` frame, or a path to either Parquet file.
    """
    if isinstance(truth, (str, Path)):
        path = Path(truth)
        if not path.is_file():
            raise WorkbenchError(f"providers: no labels file {path}")
        truth = pd.read_parquet(path)
    if "potential_fraud" in truth.columns:
        pos = truth[truth.potential_fraud.fillna(False).astype(bool)]
        return pd.DataFrame({"fixmedins_code": pos.fixmedins_code.astype(str), "scenario": "potential_fraud"}).drop_duplicates()
    need = {"rule_id", "scenario", "fixmedins_code"}
    if not need <= set(truth.columns):
        raise WorkbenchError(f"providers: labels need columns {', '.join(sorted(need))} (truth) or potential_fraud (cms_labels)")
    hit = truth.rule_id.isin(POSITIVE_RULES) | truth.scenario.isin(POSITIVE_SCENARIOS)
    pos = truth[hit & truth.fixmedins_code.notna()]
    return pos[["fixmedins_code", "scenario"]].astype(str).drop_duplicates().sort_values(["fixmedins_code", "scenario"]).reset_index(drop=True)


def find_labels(folder):
    """The labels beside a data folder: ``truth.parquet`` (synthetic) or ``cms_labels.parquet``
    (CMS import), in the folder or its parent; None when there is neither."""
    folder = Path(folder)
    for d in (folder, folder.parent):
        for name in ("truth.parquet", "cms_labels.parquet"):
            if (d / name).is_file():
                return d / name
    return None


def evaluate(profile_result, truth=None) -> dict:
    """ROC-AUC of ``risk_score`` and ``priority`` against the labels, and of plain size (visits,
    money paid) beside them.

    Parameters
    ----------
    profile_result : ProviderProfiles
    truth : DataFrame or path, optional
        Default: :func:`find_labels` of the profile's data folder.

    Returns
    -------
    dict
        ``institutions``, ``positives``, ``auc`` (risk score), ``auc_priority``, ``auc_size``
        (visits), ``auc_money`` (``hifp_total``, the fund's share; None without money),
        ``auc_by_detector`` (each ensemble member), ``precision_at_k`` (share of positives
        among the top k, k = number of positives), ``top_decile_recall``, ``by_scenario``
        (scenario -> AUC of that scenario's institutions against the negatives) and
        ``positive_ranks`` (code -> rank by risk score, 1 = most suspicious) and
        ``positive_priority_ranks`` (code -> ``priority_rank``).
    """
    from sklearn.metrics import roc_auc_score

    if truth is None:
        truth = find_labels(profile_result.session.folder)
        if truth is None:
            raise WorkbenchError(f"providers: no truth.parquet or cms_labels.parquet beside {profile_result.session.folder}")
    labels = read_labels(truth)
    inst = profile_result.institutions
    y = inst.fixmedins_code.isin(set(labels.fixmedins_code)).to_numpy()
    if y.all() or not y.any():
        raise WorkbenchError(f"providers: evaluation needs positive and negative institutions; {int(y.sum())} of {len(y)} are positive")
    risk = inst.risk_score.to_numpy(dtype=float)
    k = int(y.sum())
    top = max(1, int(np.ceil(0.1 * len(y))))
    members = profile_result.member_scores.reindex(inst.fixmedins_code)
    by_scenario = {}
    for sc, codes in labels.groupby("scenario").fixmedins_code:
        mask = inst.fixmedins_code.isin(set(codes)).to_numpy()
        if mask.any():
            keep = mask | ~y
            by_scenario[sc] = float(roc_auc_score(mask[keep], risk[keep]))
    money = pd.to_numeric(inst.hifp_total, errors="coerce").astype(float)
    return {
        "institutions": int(len(y)),
        "positives": k,
        "auc": float(roc_auc_score(y, risk)),
        "auc_priority": float(roc_auc_score(y, inst.priority.to_numpy(dtype=float))),
        "auc_size": float(roc_auc_score(y, inst.visits.to_numpy(dtype=float))),
        "auc_money": None if money.isna().all() else float(roc_auc_score(y, money.fillna(0.0).to_numpy())),
        "auc_by_detector": {c: float(roc_auc_score(y, members[c].to_numpy(dtype=float))) for c in members.columns},
        "precision_at_k": float(y[np.argsort(-risk, kind="stable")[:k]].mean()),
        "top_decile_recall": float(y[np.argsort(inst["rank"].to_numpy(), kind="stable")[:top]].sum() / k),
        "by_scenario": by_scenario,
        "positive_ranks": dict(zip(inst.fixmedins_code[y], inst["rank"][y].astype(int))),
        "positive_priority_ranks": dict(zip(inst.fixmedins_code[y], inst["priority_rank"][y].astype(int))),
    }


#: Columns of :func:`evaluation_frame` (and of :meth:`ProviderAnalysis.evaluate`).
EVALUATION_COLUMNS = ["metric", "key", "value"]


def evaluation_frame(result: dict) -> pd.DataFrame:
    """:func:`evaluate`'s dict as one table, nothing left out.

    Returns
    -------
    DataFrame
        :data:`EVALUATION_COLUMNS`: a headline figure (``institutions``, ``positives``, ``auc``,
        ``auc_priority``, ``auc_size``, ``auc_money``, ``precision_at_k``,
        ``top_decile_recall``) has ``key`` ``""``; ``auc_by_detector`` has one row per ensemble
        member, ``by_scenario`` one per scenario, ``positive_ranks`` and
        ``positive_priority_ranks`` one per positive institution (``key`` its code). ``value``
        is a float, NaN where the figure is undefined (``auc_money`` without money).
    """
    rows = []
    for metric, value in result.items():
        if isinstance(value, dict):
            rows += [(metric, str(k), v) for k, v in sorted(value.items())]
        else:
            rows.append((metric, "", value))
    out = pd.DataFrame(rows, columns=EVALUATION_COLUMNS)
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype(float)
    return out
