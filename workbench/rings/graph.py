"""The suspicious subgraph as a networkx graph, and its communities (Louvain, fixed seed).

Nodes are named ``"<kind>:<key>"`` with kind ``psn`` (patient, psn_no), ``dr`` (doctor,
dr_code) or ``pharmacy`` (fixmedins_code), so a doctor's code can never collide with a
person's number. Node attributes: ``kind``, ``key``. Edge attributes: ``kind``, ``n``,
``days``, ``patients``, ``rx``, ``same_day``, ``lift``, ``hifp_pay`` and ``medfee_sumamt``
(exact money as text, ``""`` when unknown) and ``weight`` (what Louvain uses: the edge's
``weight`` column when the frame has one — see :func:`~workbench.rings.suspicious.suspicious_edges` —
else ``n``).
"""
from __future__ import annotations

import networkx as nx

NODE_KINDS = ("psn", "dr", "pharmacy")
_ENDS = {"psn_dr": ("psn", "dr"), "psn_pharmacy": ("psn", "pharmacy"), "dr_pharmacy": ("dr", "pharmacy")}


def node_id(kind: str, key: str) -> str:
    """The graph name of a member: ``node_id("dr", "D1") == "dr:D1"``."""
    return f"{kind}:{key}"


def split_node(node: str) -> tuple:
    """``("dr", "D1")`` from ``"dr:D1"``."""
    kind, _, key = node.partition(":")
    return kind, key


def _money(v) -> str:
    """Exact money as text, ``""`` for a null (None, NaN or pandas' NA)."""
    if v is None:
        return ""
    try:
        return "" if bool(v != v) else str(v)
    except TypeError:  # pd.NA
        return ""


def build_graph(edges) -> nx.Graph:
    """A graph of the given edges (a DataFrame of :data:`workbench.rings.edgelist.EDGE_COLUMNS`).

    Edges are added in the frame's order, so the same frame always gives the same graph
    (node order matters to Louvain's tie-breaking).
    """
    g = nx.Graph()
    for e in edges.itertuples(index=False):
        ka, kb = _ENDS[e.kind]
        u, v = node_id(ka, e.a), node_id(kb, e.b)
        for node, kind, key in ((u, ka, e.a), (v, kb, e.b)):
            if node not in g:
                g.add_node(node, kind=kind, key=key)
        g.add_edge(u, v, kind=e.kind, n=int(e.n), days=int(e.days), patients=int(e.patients), rx=int(e.rx),
                   same_day=int(e.same_day), lift=float(e.lift), hifp_pay=_money(e.hifp_pay),
                   medfee_sumamt=_money(e.medfee_sumamt), weight=int(getattr(e, "weight", e.n)))
    return g


def communities(graph: nx.Graph, seed: int, resolution: float = 1.0) -> list:
    """Louvain communities of ``graph`` with a fixed ``seed``, as sorted lists of node names.

    Returns the communities ordered by their first member, so the result depends only on the
    graph, the seed and the resolution.
    """
    if graph.number_of_nodes() == 0:
        return []
    found = nx.community.louvain_communities(graph, weight="weight", resolution=resolution, seed=seed)
    return sorted((sorted(c) for c in found), key=lambda c: c[0])


def members_by_kind(nodes) -> dict:
    """``{"psn": [...], "dr": [...], "pharmacy": [...]}`` (keys sorted) of node names."""
    out = {k: [] for k in NODE_KINDS}
    for n in nodes:
        kind, key = split_node(n)
        out[kind].append(key)
    return {k: sorted(v) for k, v in out.items()}
