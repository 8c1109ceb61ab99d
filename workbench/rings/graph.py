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
    """Louvain communities of ``graph`` with a fixed ``seed``, as sorted lists of node names, each
    holding a pharmacy where the graph allows it.

    Modularity compares a community with the rest of the graph, so on a small graph — an extract
    holding one ring — Louvain splits a lone ring (one community has modularity 0): a group of
    the ring's doctors and patients comes out without the pharmacy they send to. Every edge of
    the suspicious graph hangs on a pharmacy, so such a group is merged into the neighbouring
    community it shares the most edge weight with (:func:`attach_to_pharmacies`); rings around
    different pharmacies stay apart.

    Returns the communities ordered by their first member, so the result depends only on the
    graph, the seed and the resolution.
    """
    if graph.number_of_nodes() == 0:
        return []
    found = nx.community.louvain_communities(graph, weight="weight", resolution=resolution, seed=seed)
    return attach_to_pharmacies(graph, found)


def attach_to_pharmacies(graph: nx.Graph, groups) -> list:
    """Merge each group without a pharmacy into the neighbouring group it shares the most edge
    weight with (ties: the group whose first member sorts first), until every group has a
    pharmacy or no neighbour; groups as sorted lists, ordered by their first member."""
    groups = sorted((sorted(g) for g in groups), key=lambda g: g[0])
    while True:
        where = {n: i for i, g in enumerate(groups) for n in g}
        lone = next((i for i, g in enumerate(groups)
                     if not any(graph.nodes[n]["kind"] == "pharmacy" for n in g)
                     and any(where[m] != i for n in g for m in graph[n])), None)
        if lone is None:
            return groups
        weight = {}
        for n in groups[lone]:
            for m, d in graph[n].items():
                j = where[m]
                if j != lone:
                    weight[j] = weight.get(j, 0) + d.get("weight", 1)
        into = min(weight, key=lambda j: (-weight[j], groups[j][0]))
        merged = sorted(groups[lone] + groups[into])
        groups = sorted([g for k, g in enumerate(groups) if k not in (lone, into)] + [merged], key=lambda g: g[0])


def members_by_kind(nodes) -> dict:
    """``{"psn": [...], "dr": [...], "pharmacy": [...]}`` (keys sorted) of node names."""
    out = {k: [] for k in NODE_KINDS}
    for n in nodes:
        kind, key = split_node(n)
        out[kind].append(key)
    return {k: sorted(v) for k, v in out.items()}
