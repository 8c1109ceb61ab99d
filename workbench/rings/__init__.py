"""Patient–doctor–pharmacy collusion graphs: find the rings (串通 / 团伙 purchasing).

Steps (each its own module):

1. :mod:`~workbench.rings.edgelist` — visits, prescriptions and pharmacy purchases reduced to
   weighted edges in SQL (patient–doctor, patient–pharmacy, doctor–pharmacy; counts, distinct
   days, same-day doctor → pharmacy sequences, money, lift over chance);
2. :mod:`~workbench.rings.suspicious` — keep the edges chance would not give (:class:`RingParams`);
3. :mod:`~workbench.rings.graph` — the suspicious subgraph in networkx, Louvain communities
   with a fixed seed;
4. :mod:`~workbench.rings.score` — evidence and a score per community;
5. :mod:`~workbench.rings.cards_doctors` — cards used at many pharmacies in a day, doctors at
   impossible volume;
6. :mod:`~workbench.rings.export` — the CSVs of ``workbench rings`` and a ring's case-file export;
7. :mod:`~workbench.rings.recovery` — rank and member overlap of planted rings, and the extracts
   they must be found in.

:class:`RingAnalysis` ties them together (``.evaluate(truth)``: :mod:`~workbench.rings.recovery`);
:func:`find_rings` is the one-call form; :mod:`~workbench.rings.cli` is ``workbench rings``. The SQL
steps run on DuckDB or, with ``engine="spark"``, on Spark (:mod:`~workbench.rings.engines`).
"""
from __future__ import annotations

from .analysis import DEFAULT_SEED, TRANSACTION_COLUMNS, RingAnalysis
from .edgelist import EDGE_COLUMNS, EDGE_KINDS, edge_counts, edges, links
from .recovery import EVAL_COLUMNS, evaluate, planted_ring_extracts
from .export import export_ring, signals_path, write_rings_csv, write_signals_csv
from .suspicious import RingParams, suspicious_edges
from .graph import build_graph, communities, node_id, split_node
from .score import RING_COLUMNS, WEIGHTS, ring_id
from .cards_doctors import SIGNAL_COLUMNS, signals
from .cli import cli_rings

__all__ = [
    "DEFAULT_SEED", "EDGE_COLUMNS", "EDGE_KINDS", "EVAL_COLUMNS", "RING_COLUMNS", "SIGNAL_COLUMNS",
    "TRANSACTION_COLUMNS", "WEIGHTS", "RingAnalysis", "RingParams", "build_graph", "cli_rings", "communities",
    "edge_counts", "edges", "evaluate", "export_ring", "find_rings", "links", "node_id", "planted_ring_extracts", "ring_id", "signals",
    "signals_path", "split_node", "suspicious_edges", "write_rings_csv", "write_signals_csv",
]


def find_rings(data, params=None, seed: int = DEFAULT_SEED, engine: str = "duckdb"):
    """Scored rings of a data folder or session, most suspicious first (:attr:`RingAnalysis.rings`)."""
    return RingAnalysis(data, params, seed, engine=engine).rings

