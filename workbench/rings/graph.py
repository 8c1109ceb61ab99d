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

import math

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


def communities(graph: nx.Graph, seed: int, resolution: float = 1.0, join_share: float = 0.5) -> list:
    """Louvain communities of ``graph`` with a fixed ``seed``, as sorted lists of node names, each
    holding a pharmacy where the graph allows it.

    Modularity compares a community with the rest of the graph, so on a small graph — an extract
    holding one ring — Louvain splits a lone ring (one community has modularity 0): a group of
    the ring's doctors and patients comes out without the pharmacy they send to. Every edge of
    the suspicious graph hangs on a pharmacy, so such a group is merged into the neighbouring
    community it shares the most edge weight with (:func:`attach_to_pharmacies`); rings around
    different pharmacies stay apart. For the same reason Louvain cuts a ring that sends to
    several pharmacies into one part per pharmacy, although each of its doctors sends to all of
    them: a part tied to the others about as strongly as it holds together is joined again
    (:func:`join_tied`, ``join_share``).

    Returns the communities ordered by their first member, so the result depends only on the
    graph, the seed, the resolution and ``join_share``.
    """
    if graph.number_of_nodes() == 0:
        return []
    found = nx.community.louvain_communities(graph, weight="weight", resolution=resolution, seed=seed)
    return join_tied(graph, attach_to_pharmacies(graph, found), join_share)


def attach_to_pharmacies(graph: nx.Graph, groups) -> list:
    """Merge each group without a pharmacy into the neighbouring group it shares the most edge
    weight with (ties: the group whose first member sorts first), until every group has a
    pharmacy or no neighbour; groups as sorted lists, ordered by their first member."""
    groups = _ordered(groups)
    while True:
        _, between = _ties(graph, groups)
        lone = next((i for i, g in enumerate(groups)
                     if not any(graph.nodes[n]["kind"] == "pharmacy" for n in g)
                     and any(i in pair for pair in between)), None)
        if lone is None:
            return groups
        groups = _joined(groups, lone, _most_tied(groups, between, lone))


def join_tied(graph: nx.Graph, groups, join_share: float) -> list:
    """Join a group whose suspicious edge weight to other groups is at least ``join_share`` of
    the weight inside it to the group it is most tied to (the most outward group first; ties: the
    group whose first member sorts first), until no group is; groups as sorted lists, ordered by
    their first member.

    A ring holds together more than it reaches out: two rings that share a few patients stay
    apart (their ties are a small part of either). The parts Louvain cuts a multi-pharmacy ring
    into, whose doctors and patients go to every part's pharmacy, reach each other about as much
    as they hold together. ``join_share`` 0 leaves the groups as they are.
    """
    groups = _ordered(groups)
    while join_share > 0:
        inside, between = _ties(graph, groups)
        out = [0] * len(groups)
        for (i, j), w in between.items():
            out[i] += w
            out[j] += w
        outward = [(out[i] / inside[i] if inside[i] else math.inf, i) for i in range(len(groups))
                   if out[i] and out[i] >= join_share * inside[i]]
        if not outward:
            break
        _, i = min(outward, key=lambda t: (-t[0], groups[t[1]][0]))
        groups = _joined(groups, i, _most_tied(groups, between, i))
    return groups


def _ordered(groups) -> list:
    """Groups as sorted lists, ordered by their first member."""
    return sorted((sorted(g) for g in groups), key=lambda g: g[0])


def _ties(graph: nx.Graph, groups) -> tuple:
    """The edge weight inside each group, and between each pair of groups (``{(i, j): w}``, i < j);
    edges to nodes in no group are left out."""
    where = {n: i for i, g in enumerate(groups) for n in g}
    inside, between = [0] * len(groups), {}
    for u, v, d in graph.subgraph(where).edges(data=True):
        i, j = sorted((where[u], where[v]))
        w = d.get("weight", 1)
        if i == j:
            inside[i] += w
        else:
            between[(i, j)] = between.get((i, j), 0) + w
    return inside, between


def _most_tied(groups, between, i) -> int:
    """The group sharing the most edge weight with group ``i`` (ties: its first member sorts first)."""
    ties = {j if k == i else k: w for (k, j), w in between.items() if i in (k, j)}
    return min(ties, key=lambda j: (-ties[j], groups[j][0]))


def _joined(groups, i, j) -> list:
    """``groups`` with groups ``i`` and ``j`` made one, ordered as :func:`_ordered`."""
    return _ordered([g for k, g in enumerate(groups) if k not in (i, j)] + [groups[i] + groups[j]])


def members_by_kind(nodes) -> dict:
    """``{"psn": [...], "dr": [...], "pharmacy": [...]}`` (keys sorted) of node names."""
    out = {k: [] for k in NODE_KINDS}
    for n in nodes:
        kind, key = split_node(n)
        out[kind].append(key)
    return {k: sorted(v) for k, v in out.items()}
