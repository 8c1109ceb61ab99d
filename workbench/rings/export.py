"""Files of the collusion analysis: the rings CSV of ``workbench rings``, the signals CSV, and
one ring exported for a case file (GraphML and CSV).

Every CSV is UTF-8 with a byte-order mark (Excel opens it with the Chinese intact); money is
written exactly as stored (2 decimals), persons by psn_no only — never names or ID numbers.
"""
from __future__ import annotations

from pathlib import Path

import networkx as nx

from .score import RING_COLUMNS
from .cards_doctors import SIGNAL_COLUMNS

# The columns of a ring's transactions (RingAnalysis.transactions, <ring_id>_transactions.csv).
TRANSACTION_COLUMNS = ["mdtrt_id", "day", "begntime", "psn_no", "med_type", "fixmedins_code", "dr_code",
                       "linked_dr_code", "same_day", "in_ring", "hifp_pay", "medfee_sumamt"]

ENCODING = "utf-8-sig"
MEMBER_COLUMNS = ["ring_id", "kind", "key", "money"]


def _cell(v) -> str:
    if v is None:
        return ""
    try:
        if v != v:  # NaN / NA
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def write_csv(frame, columns, path) -> Path:
    """Write ``frame[columns]`` as UTF-8-with-BOM CSV, values as text (exact money)."""
    from ..csvfile import write_csv as write  # the one CSV writer: no cell a spreadsheet runs as a formula

    return write(frame, path, columns=columns, cell=lambda _column, v: _cell(v), lineterminator="\r\n")


def write_rings_csv(rings, path) -> Path:
    """The rings table of ``workbench rings`` (:data:`~workbench.rings.score.RING_COLUMNS`)."""
    return write_csv(rings, RING_COLUMNS, path)


def signals_path(rings_path) -> Path:
    """Where ``workbench rings --out FILE.csv`` writes the other findings: ``FILE.signals.csv``."""
    p = Path(rings_path)
    return p.with_name(p.stem + ".signals" + (p.suffix or ".csv"))


def write_signals_csv(signals, path) -> Path:
    """Cards at many pharmacies and doctors at impossible volume (:data:`SIGNAL_COLUMNS`)."""
    return write_csv(signals, SIGNAL_COLUMNS, path)


def export_ring(analysis, ring_id: str, folder) -> dict:
    """Write one ring for a case file into ``folder``.

    Files: ``<ring_id>.graphml`` (members and the suspicious edges among them, node attributes
    ``kind``, ``key``, ``money``; edge attributes counts, lift and money as text),
    ``<ring_id>_members.csv`` (:data:`MEMBER_COLUMNS`), ``<ring_id>_transactions.csv`` (every
    visit of the ring's patients, :data:`TRANSACTION_COLUMNS`) and
    ``<ring_id>_evidence.csv`` (the ring's row of the rings table).

    Returns
    -------
    dict
        ``{"graphml": Path, "members": Path, "transactions": Path, "evidence": Path}``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    g = analysis.ring_graph(ring_id)
    graphml = folder / f"{ring_id}.graphml"
    nx.write_graphml(g, graphml, encoding="utf-8")
    import pandas as pd

    members = pd.DataFrame(
        [(ring_id, d["kind"], d["key"], d.get("money", "")) for _, d in sorted(g.nodes(data=True), key=lambda x: x[0])],
        columns=MEMBER_COLUMNS)
    row = analysis.rings[analysis.rings.ring_id == ring_id]
    return {
        "graphml": graphml,
        "members": write_csv(members, MEMBER_COLUMNS, folder / f"{ring_id}_members.csv"),
        "transactions": write_csv(analysis.transactions(ring_id), TRANSACTION_COLUMNS, folder / f"{ring_id}_transactions.csv"),
        "evidence": write_csv(row, RING_COLUMNS, folder / f"{ring_id}_evidence.csv"),
    }
