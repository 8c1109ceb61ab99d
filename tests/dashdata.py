"""A hand-made run folder over the tiny data folder (``conftest.tiny_tables``), for dashboard tests.

Eight findings chosen so every briefing figure is known by hand (see ``tests/test_briefing.py``):
each evidence kind that dates a finding (visit, fee line, settlement, stock period) and the cases
without a month, spanning months, without an institution, and with an institution missing from
``medins``.
"""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd

# finding_id, rule_id, official_code, result_type, fixmedins_code, dr_code, psn_no, mdtrt_id, amount, evidence
FINDINGS = [
    ("F1", "split_hospitalization", "GZ10000204001000", "suspicious", "H1", None, "P2", "M2", "440.00", ["mdtrt:M1", "mdtrt:M2"]),
    ("F2", "claims_after_death", None, "violation", "H2", None, "P1", "M4", "88.88", ["mdtrt:M4", "psn:P1"]),
    ("F3", "cost_share_outlier", "ZB10000205001000", "suspicious", "H1", None, None, None, "1000.01", ["medins:H1"]),
    ("F4", "price_over_cap", "GZ10000102001000", "violation", "H1", None, "P2", "M1", "0.05", ["fee:M1/1"]),
    ("F5", "stock_mismatch", "GZ10000202001000", "violation", "Y1", None, None, None, "12.34", ["stock:Y1/X001/2024-02"]),
    ("F6", "frequent_outpatient", "GZ10000204002000", "suspicious", None, None, "P3", None, "5.00", ["mdtrt:M6", "mdtrt:M7"]),
    ("F7", "doctor_impossible_volume", None, "suspicious", "H1", "D1", None, None, "60.00", ["dr:D1", "fee:M1/1", "fee:M3/1"]),
    ("F8", "unlisted_item", None, "violation", "H9", None, None, None, "30.00", ["setl:S5"]),
]
TOTAL = Decimal("1636.28")


def findings_frame() -> pd.DataFrame:
    rows = []
    for fid, rule, code, rt, inst, dr, psn, mdtrt, amount, ev in FINDINGS:
        rows.append({"finding_id": fid, "rule_id": rule, "official_code": code, "result_type": rt, "fixmedins_code": inst,
                     "dr_code": dr, "psn_no": psn, "mdtrt_id": mdtrt, "amount_at_risk": Decimal(amount),
                     "evidence": json.dumps(sorted(ev), separators=(",", ":")), "detail": f"疑点{fid}",
                     "detail_en": f"finding {fid}"})
    return pd.DataFrame(rows)


def write_hand_run(data, out) -> Path:
    """Write ``findings.parquet`` and a minimal ``manifest.json`` (recording ``data`` and, as
    ``workbench audit`` does, the SHA-256 of ``findings.parquet``) to ``out``."""
    from workbench.audit import findings_table
    from workbench.datafolder import sha256_file

    import pyarrow.parquet as pq

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(findings_table(findings_frame()), out / "findings.parquet")
    manifest = {"format": 1, "kind": "audit", "ended": "2024-12-31T08:00:00+00:00", "engine": "duckdb",
                "data": {"folder": str(Path(data).resolve()), "source": {"kind": "test"}},
                "counts": {"findings": len(FINDINGS), "amount_at_risk": str(TOTAL), "rules_run": 8},
                "outputs": {"findings.parquet": {"sha256": sha256_file(out / "findings.parquet"), "rows": len(FINDINGS)}}}
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out
