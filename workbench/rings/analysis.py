"""One collusion analysis of a data folder: edges → filter → graph → communities → scored rings.

:class:`RingAnalysis` computes each step once, times it, and answers what the ring explorer
shows: a ring's graph, its members' transactions and timelines, and the export for a case file.
"""
from __future__ import annotations

import time
from decimal import Decimal
from functools import cached_property

import networkx as nx
import pandas as pd

from ..errors import WorkbenchError
from . import edgelist as _edges
from . import suspicious as _filter
from . import graph as _graph
from . import score as _score
from . import cards_doctors as _signals
from . import engines as _engines
from . import recovery as _recovery
from .export import TRANSACTION_COLUMNS, export_ring
from ..truth import DEFAULT_SEED, check_seed, read_truth


def _session(data):
    from ..session import Session

    return data if isinstance(data, Session) else Session(data)


class RingAnalysis:
    """Suspected collusion rings of one session, for one set of parameters and one seed.

    Parameters
    ----------
    session : workbench.session.Session or path
        An open data folder (or its path).
    params : RingParams or dict, optional
    seed : int
        Seed of the Louvain community detection.
    engine : {"duckdb", "spark"}
        Where the SQL runs (:mod:`~workbench.rings.engines`): the session's DuckDB, or Spark in
        local mode on the same Parquet files (same results, row for row). The graph steps run
        in-process either way.
    spark : pyspark.sql.SparkSession, optional
        The Spark session to use with ``engine="spark"`` (default: one local session, reused).

    Attributes
    ----------
    suspicious : DataFrame
        The edges kept by the filter.
    graph : networkx.Graph
        The suspicious subgraph.
    communities : list of list of str
        Louvain communities (node names), every one.
    rings : DataFrame
        Scored candidate rings, :data:`~workbench.rings.score.RING_COLUMNS` then components,
        most suspicious first, ``rank`` from 1.
    signals : DataFrame
        Cards at many pharmacies in a day and doctors at impossible volume.
    timings : dict
        Seconds of each step computed so far.
    """

    def __init__(self, session, params=None, seed: int = DEFAULT_SEED, engine: str = "duckdb", spark=None):
        check_seed(seed, "rings")
        if engine not in _engines.ENGINES:
            raise WorkbenchError(f"rings: unknown engine {engine!r}; use one of {', '.join(_engines.ENGINES)}")
        self.session = _session(session)
        self.engine = _engines.make_engine(self.session, engine, spark)
        self.params = params if isinstance(params, _filter.RingParams) else _filter.RingParams.from_dict(params)
        self.seed = seed
        self.timings = {}

    def _timed(self, name, fn):
        t0 = time.perf_counter()
        out = fn()
        self.timings[name] = round(time.perf_counter() - t0, 3)
        return out

    @cached_property
    def edge_counts(self) -> dict:
        self._timed("edges", lambda: _edges.ensure_edges(self.engine))
        return _edges.edge_counts(self.engine)

    @cached_property
    def suspicious(self) -> pd.DataFrame:
        self.edge_counts  # noqa: B018 - builds and times the edge tables first
        return self._timed("filter", lambda: _filter.suspicious_edges(self.engine, self.params))

    @cached_property
    def graph(self) -> nx.Graph:
        edges = self.suspicious
        return self._timed("graph", lambda: _graph.build_graph(edges))

    @cached_property
    def communities(self) -> list:
        g = self.graph
        return self._timed("communities", lambda: _graph.communities(g, self.seed, self.params.resolution, self.params.join_share))

    @cached_property
    def candidates(self) -> list:
        return _score.candidates(self.communities, self.params)

    @cached_property
    def rings(self) -> pd.DataFrame:
        cands, graph = self.candidates, self.graph

        def run():
            if not cands:
                return pd.DataFrame(columns=_score.RING_COLUMNS + [f"c_{k}" for k in _score.WEIGHTS] + ["rank"])
            r = _score.score(_score.evidence(self.engine, cands, graph))
            r["rank"] = range(1, len(r) + 1)
            return r

        return self._timed("score", run)

    @cached_property
    def signals(self) -> pd.DataFrame:
        self.edge_counts  # noqa: B018
        return self._timed("signals", lambda: _signals.signals(self.engine, self.params))

    @cached_property
    def _nodes_by_ring(self) -> dict:
        return {c["ring_id"]: c for c in self.candidates}

    # ---- one ring -------------------------------------------------------------------------
    def ring(self, ring_id: str) -> dict:
        """The ring's row of :attr:`rings` as a dict; raises naming an unknown ring."""
        row = self.rings[self.rings.ring_id == ring_id]
        if row.empty:
            raise WorkbenchError(f"rings: no ring {ring_id!r} in this analysis")
        return row.iloc[0].to_dict()

    def members(self, ring_id: str) -> dict:
        """``{"psn": [...], "dr": [...], "pharmacy": [...]}`` of the ring."""
        self.ring(ring_id)
        return self._nodes_by_ring[ring_id]["members"]

    def transactions(self, ring_id: str) -> pd.DataFrame:
        """Every outpatient and pharmacy visit of the ring's patients, :data:`TRANSACTION_COLUMNS`,
        in time order; ``in_ring`` marks purchases at the ring's pharmacies and visits to its
        doctors, ``linked_dr_code`` the ring doctors a purchase is linked to."""
        m = self.members(ring_id)
        q = _edges.sql_text("ring_visits")
        _edges.ensure_edges(self.engine)
        return self.engine.frame(q, [m["psn"], m["dr"], m["pharmacy"]])[TRANSACTION_COLUMNS]

    def node_transactions(self, ring_id: str, node: str) -> pd.DataFrame:
        """The ring's transactions that involve ``node`` (``"psn:…"``, ``"dr:…"``, ``"pharmacy:…"``):
        all of a patient's visits; a doctor's visits and the purchases linked to them; a
        pharmacy's purchases by the ring's patients."""
        if node not in self._nodes_by_ring.get(ring_id, {}).get("nodes", []):
            self.ring(ring_id)
            raise WorkbenchError(f"rings: {node!r} is not a member of ring {ring_id}")
        kind, key = _graph.split_node(node)
        t = self.transactions(ring_id)
        if kind == "psn":
            keep = t.psn_no == key
        elif kind == "dr":
            linked = t.linked_dr_code.fillna("").str.split(";").map(lambda ds: key in ds)
            keep = (t.dr_code == key) | linked
        else:
            keep = (t.fixmedins_code == key) & (t.med_type == "41")
        return t[keep.to_numpy(bool)].reset_index(drop=True)

    def timeline(self, ring_id: str, node: str) -> pd.DataFrame:
        """A node's transactions per day and visit type: ``day, med_type, visits, in_ring,
        medfee_sumamt`` (exact), in day order."""
        t = self.node_transactions(ring_id, node)
        if t.empty:
            return pd.DataFrame(columns=["day", "med_type", "visits", "in_ring", "medfee_sumamt"])
        g = t.groupby(["day", "med_type"], sort=True)
        out = g.agg(visits=("mdtrt_id", "size"), in_ring=("in_ring", "sum"),
                    medfee_sumamt=("medfee_sumamt", lambda s: sum((v for v in s if v is not None and v == v), Decimal("0.00"))))
        out["in_ring"] = out["in_ring"].astype(int)
        return out.reset_index()

    def node_money(self, ring_id: str) -> dict:
        """Money of each member inside the ring (exact): a patient's and a pharmacy's ring
        purchases, a doctor's ring purchases linked to them. The fund share where known, else
        the bill."""
        m = self.members(ring_id)
        t = self.transactions(ring_id)
        t = t[t.in_ring & (t.med_type == "41")]
        col = "hifp_pay" if t.hifp_pay.notna().any() else "medfee_sumamt"

        def total(rows):
            return sum((v for v in rows[col] if v is not None and v == v), Decimal("0.00"))

        out = {_graph.node_id("psn", k): total(t[t.psn_no == k]) for k in m["psn"]}
        out.update({_graph.node_id("pharmacy", k): total(t[t.fixmedins_code == k]) for k in m["pharmacy"]})
        linked = t.linked_dr_code.fillna("").str.split(";")
        for k in m["dr"]:
            out[_graph.node_id("dr", k)] = total(t[linked.map(lambda ds, k=k: k in ds).to_numpy(bool)])
        return out

    def ring_graph(self, ring_id: str) -> nx.Graph:
        """The suspicious edges among the ring's members; nodes carry ``kind``, ``key`` and
        ``money`` (exact, as text)."""
        self.ring(ring_id)
        nodes = self._nodes_by_ring[ring_id]["nodes"]
        g = self.graph.subgraph(nodes).copy()
        for n, v in self.node_money(ring_id).items():
            g.nodes[n]["money"] = str(v)
        g.graph["ring_id"] = ring_id
        return g

    def export(self, ring_id: str, folder):
        """Write the ring for a case file; see :func:`workbench.rings.export.export_ring`."""
        return export_ring(self, ring_id, folder)

    def evaluate(self, truth=None) -> pd.DataFrame:
        """How well the rings recover the planted ones (:func:`workbench.rings.recovery.evaluate`).

        Parameters
        ----------
        truth : DataFrame or path, optional
            ``truth`` rows (default: the data folder's ``truth`` table).

        Returns
        -------
        DataFrame
            :data:`~workbench.rings.recovery.EVAL_COLUMNS`, one row per planted ring.
        """
        return _recovery.evaluate(self.rings, read_truth(self.session, truth, "rings"))
