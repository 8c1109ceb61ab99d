"""Ring explorer: suspected collusion rings as graphs, a member's transactions and timeline,
export of a ring for the case file.

The widget takes a :class:`workbench.rings.RingAnalysis` and shows its results; every number
comes from the workbench (``analysis.rings``, ``ring_graph``, ``node_transactions``,
``timeline``, ``export``). Selections are traits: ``selected_ring`` (ring_id) and
``selected_node`` (``"psn:…"``, ``"dr:…"``, ``"pharmacy:…"``). The rings are a data grid (every
ring, sortable and filterable by any column; a clicked row shows that ring). The graph is a static
matplotlib drawing (SVG in an ``ipywidgets.Image``: the same in a notebook, in Voilà and in a
test, with no JavaScript extension to install); members are picked from a list beside it. Persons
are shown by psn_no only. :func:`rings_dashboard` is the dashboard: it asks the workbench for the
analysis and puts these widgets together.
"""
from __future__ import annotations

import html
import math
from pathlib import Path

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure
from traitlets import TraitError, Unicode, observe, validate

from ._charts import SVG_FORMAT
from ._charts import svg as _svg
from ._charts import set_image as _set_image
from ._fonts import use_cjk_font
from ._grid import KeyedGrid

KIND_COLOUR = {"psn": "#4878a8", "dr": "#2e8b57", "pharmacy": "#c0392b"}
KIND_LABEL = {"psn": "患者", "dr": "医师", "pharmacy": "药店"}
MIN_SIZE, MAX_SIZE = 60.0, 900.0
TX_LIMIT = 200   # transactions listed for one member
MED_TYPE_LABEL = {"11": "普通门诊", "14": "门诊慢特病", "21": "住院", "41": "药店购药"}


def _same_day_text(r) -> str:
    """Same-day sequences in words, or that the data cannot show them (no visit of a ring doctor in it)."""
    if r.get("doctors_seen", 1) == 0:
        return "医师就诊记录不在数据中（无法核对同日就诊）"
    return f"同日就诊后购药 {r['same_day_sequences']} 次"


def _text(v) -> str:
    if v is None:
        return "—"
    try:
        if v != v:
            return "—"
    except (TypeError, ValueError):
        pass
    return str(v)


def _kind(node: str) -> str:
    return node.partition(":")[0]


def _key(node: str) -> str:
    return node.partition(":")[2]


def node_label(node: str) -> str:
    """``"药店 F1"`` from ``"pharmacy:F1"``."""
    return f"{KIND_LABEL.get(_kind(node), _kind(node))} {_key(node)}"


def node_styles(nodes: dict) -> dict:
    """Map members to their look; a pure function of ``{node: {"kind": …, "money": "123.45"}}``.

    Returns ``{node: {"colour", "size"}}``: colour by kind (:data:`KIND_COLOUR`), marker area
    from :data:`MIN_SIZE` to :data:`MAX_SIZE` by the square root of the money (the largest
    member is largest; no money, smallest).
    """
    money = {n: float(d.get("money") or 0) for n, d in nodes.items()}
    top = max((math.sqrt(max(v, 0)) for v in money.values()), default=0.0)
    out = {}
    for n, d in nodes.items():
        share = math.sqrt(max(money[n], 0)) / top if top > 0 else 0.0
        out[n] = {"colour": KIND_COLOUR.get(d.get("kind"), "#888888"), "size": MIN_SIZE + (MAX_SIZE - MIN_SIZE) * share}
    return out


def tripartite_layout(nodes) -> dict:
    """Positions of members on three circles, pharmacies inside, doctors, then patients outside;
    a pure, deterministic function of the node names (sorted within each kind)."""
    pos = {}
    for radius, kind in ((0.0, "pharmacy"), (1.0, "dr"), (2.0, "psn")):
        ring = sorted(n for n in nodes if _kind(n) == kind)
        r = radius if not (kind == "pharmacy" and len(ring) > 1) else 0.35
        for i, n in enumerate(ring):
            angle = 2 * math.pi * i / max(len(ring), 1) + (math.pi / 2 if kind != "psn" else 0.0)
            pos[n] = (r * math.cos(angle), r * math.sin(angle))
    return pos


def _table_html(frame, columns, headers) -> str:
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(_text(getattr(r, c)))}</td>" for c in columns) + "</tr>"
                   for r in frame.itertuples(index=False))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    return f"<table class='wb-table'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


RING_TABLE = (["rank", "ring_id", "score", "patients", "doctors", "fixmedins_code", "purchases", "same_day_sequences",
               "identical_baskets", "doctor_share", "outside_county_patients", "hifp_pay"],
              ["排名", "团伙编号", "可疑分", "患者数", "医师数", "药店", "购药次数", "同日开方购药", "相同处方", "医师处方集中度",
               "外县患者", "统筹基金(元)"])
TX_TABLE = (["day", "mdtrt_id", "psn_no", "med_type", "fixmedins_code", "dr_code", "linked_dr_code", "same_day",
             "in_ring", "medfee_sumamt", "hifp_pay"],
            ["日期", "就诊ID", "人员编号", "类别", "机构", "医师", "关联团伙医师", "同日", "团伙内", "医疗费(元)", "统筹(元)"])


def ring_frame(rings) -> "pd.DataFrame":
    """Every ring as the grid's rows: index ``ring_id`` (团伙编号), the columns of
    :data:`RING_TABLE` in Chinese, counts as integers and scores and money as numbers so the grid
    sorts them as such; a pure mapping (codes and counts only, no person)."""
    import pandas as pd

    cols, heads = RING_TABLE
    out = {}
    for c, h in zip(cols, heads):
        if c == "ring_id":
            continue
        v = rings[c] if c in rings else pd.Series([None] * len(rings))
        out[h] = (pd.to_numeric(v, errors="coerce").to_numpy() if c not in ("fixmedins_code",)
                  else v.astype(str).to_numpy())
    if "doctors_seen" in rings:  # same-day sequences the data cannot show are missing ('—'), not 0
        out["同日开方购药"] = np.where(rings["doctors_seen"].to_numpy() == 0, np.nan, out["同日开方购药"])
    return pd.DataFrame(out, index=pd.Index(rings["ring_id"].astype(str).tolist(), name="团伙编号"))


class RingExplorer(W.VBox):
    """Pick a ring from the ranked grid, see it as a graph, pick a member for its
    transactions and timeline, export the ring (GraphML and CSV) for the case file.

    Parameters
    ----------
    analysis : workbench.rings.RingAnalysis
    export_dir : path, optional
        Default folder of the export button.
    ring_id : str, optional
        Ring shown first (default: the most suspicious).
    institution : str, optional
        Without ``ring_id``: show first the most suspicious ring this institution is the pharmacy
        of (a link from the providers dashboard); when it is in none, the page says so.
    store : workbench.cases.CaseStore, optional
        With a store, an "open a case" control (:class:`widgets.cases.OpenCase`, source ``rings``)
        opens a case about the shown ring's pharmacies, its doctors and size in the case's note.
    by : str
        The auditor's name that control starts with.
    """

    selected_ring = Unicode("", help="ring shown (ring_id)")
    selected_node = Unicode("", help="member picked in the ring: 'psn:…', 'dr:…' or 'pharmacy:…'")

    def __init__(self, analysis, export_dir="ring_exports", ring_id: str = "", institution: str = "", store=None,
                 by: str = "", **kw):
        self.analysis = analysis
        self.case_opener = None
        if store is not None:
            from .cases import OpenCase

            self.case_opener = OpenCase(store, "rings", by=by)
        self.font = use_cjk_font()
        self.graph, self.styles, self.positions, self.figure = None, {}, {}, None
        self.transactions, self.timeline, self.exported = None, None, {}
        self._shown = None  # (ring, member) drawn last
        rings = analysis.rings
        # said plainly when there is none: an empty grid would look like a fault
        self.ring_note = W.HTML("" if len(rings) else
                                "<p class='wb-note' style='font-size:17px'>未发现可疑团伙 (no ring found)</p>")
        self.ring_grid = KeyedGrid(ring_frame(rings), rows=8, widths={"药店": 150, "统筹基金(元)": 140},
                                   formats={"统筹基金(元)": ",.2f", "同日开方购药": ",d"},  # '—' when unseen
                                   layout=W.Layout(display="" if len(rings) else "none"))
        self.ring_grid.add_class("wb-rings")
        self.evidence = W.HTML()
        self.chart = W.Image(format=SVG_FORMAT, layout=W.Layout(display="none"))  # shown by set_image
        self.node_picker = W.Select(description="成员", rows=10, options=[], layout=W.Layout(width="24em"))
        self.node_header = W.HTML()
        self.timeline_chart = W.Image(format=SVG_FORMAT, layout=W.Layout(display="none"))  # shown by set_image
        self.tx_table = W.HTML()
        self.export_dir = W.Text(value=str(export_dir), description="导出到", layout=W.Layout(width="36em"))
        self.export_button = W.Button(description="导出 GraphML / CSV", icon="download")
        self.export_status = W.HTML()
        super().__init__([
            self.ring_note, self.ring_grid, self.evidence,
            W.HBox([self.chart, self.node_picker]),
            self.node_header, self.timeline_chart, self.tx_table,
            W.HBox([self.export_dir, self.export_button]), self.export_status,
        ] + ([self.case_opener] if self.case_opener is not None else []), **kw)
        self.ring_grid.observe(lambda ch: ch["new"] and setattr(self, "selected_ring", ch["new"]), names="selected")
        self.node_picker.observe(lambda ch: setattr(self, "selected_node", ch["new"] or ""), names="value")
        self.export_button.on_click(lambda _: self.export())
        if not ring_id and institution:
            mine = rings[rings.fixmedins_code == institution]
            ring_id = mine.ring_id.iloc[0] if len(mine) else ""
            if not len(mine):
                self.evidence.value = (f"<p class='wb-note' style='font-size:17px'>机构 {html.escape(institution)} 不在任何可疑团伙中。"
                                       f" Institution {html.escape(institution)} is in no ring.</p>")
                return
        self.selected_ring = ring_id or (rings.ring_id.iloc[0] if len(rings) else "")

    @validate("selected_ring")
    def _known_ring(self, proposal):
        v = proposal["value"]
        if v and v not in set(self.analysis.rings.ring_id):
            raise TraitError(f"ring {v!r} is not one of this analysis's rings")
        return v

    @validate("selected_node")
    def _known_node(self, proposal):
        v = proposal["value"]
        if v and (self.graph is None or v not in self.graph):
            raise TraitError(f"{v!r} is not a member of ring {self.selected_ring!r}")
        return v

    @observe("selected_ring")
    def _ring_changed(self, change):
        rid = self.selected_ring
        self.ring_grid.selected = rid
        self.export_status.value, self.exported = "", {}
        if not rid:
            self.graph, self.styles, self.positions = None, {}, {}
            self.evidence.value, self.node_picker.options = "", []
            _set_image(self.chart, b"")
            self.selected_node = ""
            self._lead("")
            return
        self.graph = self.analysis.ring_graph(rid)
        self._lead(rid)
        self.styles = node_styles(dict(self.graph.nodes(data=True)))
        self.positions = tripartite_layout(list(self.graph.nodes))
        self.evidence.value = self._evidence_html(self.analysis.ring(rid))
        order = {"pharmacy": 0, "dr": 1, "psn": 2}
        nodes = sorted(self.graph.nodes, key=lambda n: (order.get(_kind(n), 3), _key(n)))
        self.node_picker.options = [(f"{node_label(n)}  {self.graph.nodes[n].get('money', '')}", n) for n in nodes]
        keep = self.selected_node if self.selected_node in self.graph else ""
        self.selected_node = keep or (nodes[0] if nodes else "")
        self._node_changed(None)  # draws the new ring even when the picked member stays the same

    @observe("selected_node")
    def _node_changed(self, change):
        node = self.selected_node
        if self.node_picker.value != (node or None):
            self.node_picker.value = node or None
        if self._shown == (self.selected_ring, node):
            return
        self._shown = (self.selected_ring, node)
        self._draw()
        if not node:
            self.transactions = self.timeline = None
            self.node_header.value, self.tx_table.value = "", ""
            _set_image(self.timeline_chart, b"")
            return
        self.transactions = self.analysis.node_transactions(self.selected_ring, node)
        self.timeline = self.analysis.timeline(self.selected_ring, node)
        n_in = int(self.transactions.in_ring.sum())
        self.node_header.value = (f"<b>{html.escape(node_label(node))}</b>：就诊/购药 {len(self.transactions)} 次，"
                                  f"其中团伙内 {n_in} 次；团伙内金额 {html.escape(self.graph.nodes[node].get('money', '—'))} 元")
        self.tx_table.value = _table_html(self.transactions.head(TX_LIMIT), *TX_TABLE)
        self._draw_timeline()

    def _lead(self, rid):
        """The case a click opens: the ring's pharmacies, with its doctors and size as the note."""
        if self.case_opener is None:
            return
        if not rid:
            self.case_opener.set_lead([])
            return
        r = self.analysis.ring(rid)
        codes = [_key(n) for n in self.graph.nodes if _kind(n) == "pharmacy"]
        note = (f"团伙 {rid}（排名 {r['rank']}，可疑分 {r['score']}）：医师 {r['dr_code']}，患者 {r['patients']} 人，"
                f"购药 {r['purchases']} 次")
        self.case_opener.set_lead(sorted(codes), note=note, label=f"团伙 {rid} 的药店 {'、'.join(sorted(codes))}；{note}")

    def _evidence_html(self, r) -> str:
        return (f"<b>团伙 {html.escape(r['ring_id'])}</b>（排名 {r['rank']}，可疑分 {r['score']}）：患者 {r['patients']} 人，"
                f"医师 {html.escape(r['dr_code'])}，药店 {html.escape(r['fixmedins_code'])}；"
                f"{r['first_day']} 至 {r['last_day']} 购药 {r['purchases']} 次（{r['active_days']} 天），"
                f"其中关联团伙医师 {r['linked_purchases']} 次、{_same_day_text(r)}、相同处方 "
                f"{r['identical_baskets']} 次；医师处方在此药店的占比 {r['doctor_share']:.0%}，患者购药在此的占比 "
                f"{r['patient_share']:.0%}；外县患者 {r['outside_county_patients']} 人；统筹基金 {_text(r['hifp_pay'])} 元，"
                f"单次费用中位数为全区的 {r['price_ratio']} 倍")

    def _draw(self):
        g = self.graph
        if g is None or g.number_of_nodes() == 0:
            self.figure = None
            _set_image(self.chart, b"")
            return
        fig = Figure(figsize=(6.5, 6.5))
        ax = fig.add_subplot()
        for u, v in g.edges:
            (x0, y0), (x1, y1) = self.positions[u], self.positions[v]
            ax.plot([x0, x1], [y0, y1], color="#b0b0b0", linewidth=0.8, zorder=1)
        for n in g.nodes:
            x, y = self.positions[n]
            s = self.styles[n]
            edge = "black" if n == self.selected_node else "white"
            ax.scatter([x], [y], s=s["size"], c=s["colour"], edgecolors=edge, linewidths=2 if edge == "black" else 0.5, zorder=2)
            if _kind(n) != "psn" or n == self.selected_node:
                ax.annotate(_key(n), (x, y), fontsize=8, ha="center", va="bottom", xytext=(0, 12), textcoords="offset points")
        for kind, colour in KIND_COLOUR.items():
            ax.scatter([], [], c=colour, s=MIN_SIZE, label=KIND_LABEL[kind])
        ax.legend(loc="upper right", fontsize=8)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(f"团伙 {self.selected_ring}（点大小：团伙内金额）", fontsize=10)
        self.figure = fig
        _set_image(self.chart, _svg(fig))

    def _draw_timeline(self):
        t = self.transactions
        if t is None or t.empty:
            _set_image(self.timeline_chart, b"")
            return
        fig = Figure(figsize=(9, 2.2))
        ax = fig.add_subplot()
        types = sorted(set(t.med_type))
        for i, mt in enumerate(types):
            rows = t[t.med_type == mt]
            colours = ["#c0392b" if x else "#9aa5b1" for x in rows.in_ring]
            ax.scatter(list(rows.begntime), [i] * len(rows), c=colours, s=30)
        ax.set_yticks(range(len(types)), [MED_TYPE_LABEL.get(m, m) for m in types])
        ax.set_ylim(-0.7, len(types) - 0.3)
        ax.set_title(f"{node_label(self.selected_node)} 时间线（红色：团伙内）", fontsize=10)
        fig.autofmt_xdate()
        _set_image(self.timeline_chart, _svg(fig))

    def export(self) -> dict:
        """Export the selected ring to the folder in ``export_dir`` (the button calls this)."""
        if not self.selected_ring:
            self.export_status.value = "<i>未选择团伙</i>"
            return {}
        self.exported = self.analysis.export(self.selected_ring, Path(self.export_dir.value))
        self.export_status.value = "已导出：" + "，".join(html.escape(str(p)) for p in self.exported.values())
        return self.exported


def signals_table(analysis, limit: int = 50) -> W.HTML:
    """The other findings (cards at many pharmacies in a day, doctors at impossible volume)."""
    s = analysis.signals.head(limit)
    if s.empty:
        return W.HTML("<i>无其他发现</i>")
    return W.HTML(_table_html(s, ["signal", "day", "psn_no", "dr_code", "fixmedins_code", "events", "distinct_count",
                                  "hifp_pay", "detail"],
                              ["类型", "日期", "人员编号", "医师", "机构", "次数", "机构数/人数", "统筹(元)", "说明"]))


def summary_banner(analysis) -> W.HTML:
    """Headline figures: edges, suspicious edges, rings, other findings."""
    total = sum(analysis.edge_counts.values())
    return W.HTML(f"<b>{len(analysis.rings)}</b> 个可疑团伙（{analysis.graph.number_of_edges()} 条可疑关系，全部关系 {total} 条）；"
                  f"其他发现 <b>{len(analysis.signals)}</b> 条")


def rings_dashboard(data, seed: int = 2024, ring_id: str = "", institution: str = "", export_dir="ring_exports",
                    by: str = "", home=None, **params):
    """The rings dashboard: the workbench finds the rings of ``data`` (:class:`workbench.rings.RingAnalysis`
    with :class:`workbench.rings.RingParams` ``params``: ``min_rx``, ``min_same_day``, …), shown as
    the headline, the explorer (opened on ``ring_id``, else on the first ring of pharmacy
    ``institution``, else on the most suspicious) with "open a case" into the store of ``home``
    (default ``$WORKBENCH_HOME``), and the other findings."""
    import workbench
    from workbench import rings
    from workbench.cases import CaseStore
    from workbench.errors import WorkbenchError

    try:
        session = workbench.open(data)
        session.con.execute("SET enable_progress_bar = false")  # DuckDB's own bar is a black stripe on the page
        analysis = rings.RingAnalysis(session, rings.RingParams(**params), seed=seed)
        explorer = RingExplorer(analysis, export_dir=export_dir, ring_id=ring_id, institution=institution,
                                store=CaseStore(home), by=by)
    except (WorkbenchError, TraitError) as e:
        return W.HTML(f"<p class='wb-error' style='color:#b00020;font-size:18px'>{html.escape(str(e))}</p>")
    return W.VBox([summary_banner(analysis), explorer, W.HTML("<h3>其他发现 Cards and doctors</h3>"), signals_table(analysis)])
