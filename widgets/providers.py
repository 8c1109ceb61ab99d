"""Provider explorer: institutions of a peer group on a scatter, one institution against its peers.

The widget takes a :class:`workbench.providers.ProviderProfiles` and shows its results; every
number comes from the workbench (``result.peer_groups()``, ``result.points()``,
``result.deviations()``, ``result.findings_of()``, ``result.reasons()``). Selections are traits:
``peer_group``, ``x``, ``y`` (a measure name, or ``pc1`` / ``pc2`` for the PCA map the workbench
computed), ``selected`` (a ``fixmedins_code``) and ``view``: ``priority`` (inspect first, the
default) or ``risk_score`` (the size-neutral view); the order of each view is the workbench's
(``result.ranked(view)``, ``result.members(group, view)``). Charts are matplotlib figures rendered to
SVG (no pyplot state), so they look the same in a notebook, in Voilà and in a test. An institution
is picked from a dropdown, from the ranking grid (:class:`RankingGrid`) or by a click on its point
of the scatter: the scatter is SVG in the page, each point a link to the dashboard on that
institution (``providers.ipynb?FIXMEDINS_CODE=…``, which opens it in a new tab or a bookmark);
a plain click is handed to a hidden text widget instead (:attr:`ProviderExplorer.pick_box`), so
the kernel selects it in place. :func:`providers_dashboard` is the dashboard: it asks the
workbench for the profiles and puts these widgets together.
"""
from __future__ import annotations

import html
from contextlib import contextmanager

from urllib.parse import quote

import ipywidgets as W
import pandas as pd
import traitlets as T
from matplotlib.figure import Figure
from traitlets import TraitError, Unicode, observe, validate

from ._charts import missing as _missing
from ._charts import SVG_FORMAT
from ._charts import svg as _svg
from ._charts import set_image as _set_image
from ._fonts import use_cjk_font
from ._grid import KeyedGrid
from .page import institution_links

CLUSTER_COLOURS = ("#4878a8", "#59a14f", "#edc948", "#b07aa1", "#76b7b2", "#ff9da7", "#9c755f")
OUTLIER_COLOUR, SELECTED_COLOUR = "#c0392b", "#000000"
HIGH_COLOUR, LOW_COLOUR = "#c0392b", "#4878a8"
FINDINGS_SHOWN = 20
BARS_SHOWN = 12
PAGE = "providers.ipynb"  # a point's link: this dashboard on that institution
# A plain click on a point's link goes to the hidden text box of the explorer (its class names it)
# and from there to the kernel; a click with a modifier key opens the link as a browser would.
_PICK_JS = ("if(event.button!==0||event.ctrlKey||event.metaKey||event.shiftKey)return;"
            "const a=event.target.closest('a');if(!a)return;"
            "const m=(a.getAttribute('xlink:href')||a.getAttribute('href')||'').match(/[?&]FIXMEDINS_CODE=([^&]*)/);"
            "const box=document.querySelector('.{cls} input');if(!m||!box)return;event.preventDefault();"
            "box.value=decodeURIComponent(m[1]);box.dispatchEvent(new Event('change',{{bubbles:true}}));")


def point_link(code: str) -> str:
    """The address a scatter point links to: this dashboard opened on institution ``code``."""
    return f"{PAGE}?FIXMEDINS_CODE={quote(str(code), safe='')}"


def scatter_marks(points: pd.DataFrame, selected: str = "") -> dict:
    """Map scatter points (``result.points``) to marks; a pure function.

    Returns ``{"clusters": {cluster: (xs, ys)}, "outliers": (xs, ys, codes), "selected": (x, y)
    or None, "missing": n, "codes": {cluster: codes}}``: every point with both coordinates in its
    cluster's colour, outliers ringed, the selected institution marked; ``missing`` counts points
    without x or y; ``codes`` names each cluster's points in the order of its coordinates.
    """
    ok = points.x.notna() & points.y.notna()
    shown = points[ok]
    clusters = {int(c): (shown.x[shown.cluster == c].tolist(), shown.y[shown.cluster == c].tolist())
                for c in sorted(set(shown.cluster))}
    codes = {int(c): shown.fixmedins_code[shown.cluster == c].astype(str).tolist() for c in sorted(set(shown.cluster))}
    out = shown[shown.outlier.astype(bool)]
    sel = shown[shown.fixmedins_code == selected]
    return {"clusters": clusters, "outliers": (out.x.tolist(), out.y.tolist(), out.fixmedins_code.tolist()),
            "selected": (float(sel.x.iloc[0]), float(sel.y.iloc[0])) if len(sel) else None,
            "missing": int((~ok).sum()), "codes": codes}


def scatter_html(svg: bytes, pick_class: str) -> str:
    """The scatter's SVG as HTML in the page (not an image, so its points' links can be clicked);
    a plain click on a point hands its code to the text box of class ``pick_class``."""
    text = svg.decode("utf-8")
    text = text[text.index("<svg"):].replace('target="_blank"', 'target="_self"')
    text = text.replace("<svg ", "<svg style='width:100%;max-width:760px;height:auto' ", 1)
    return (f"<div class='wb-chart' role='img' aria-label='scatter' onclick=\"{html.escape(_PICK_JS.format(cls=pick_class))}\">"
            f"{text}</div>")


def deviation_bars(deviations: pd.DataFrame, n: int = BARS_SHOWN) -> list:
    """Map ``result.deviations`` to bars, largest |z| first; a pure function: a list of
    ``(label, z, colour)`` with red for above the peer median, blue for below."""
    rows = deviations.head(n)
    return [(f"{r.zh} {r.en}", float(r.z), HIGH_COLOUR if r.z > 0 else LOW_COLOUR) for r in rows.itertuples(index=False)]


def _findings_html(findings: pd.DataFrame) -> str:
    if findings is None or findings.empty:
        return "<i>无规则线索 (no findings for this institution, or no audit run given)</i>"
    cols = [c for c in ("rule_id", "result_type", "dr_code", "psn_no", "mdtrt_id", "amount_at_risk", "detail") if c in findings]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('—' if _missing(getattr(r, c)) else str(getattr(r, c)))}</td>" for c in cols) + "</tr>"
                   for r in findings.head(FINDINGS_SHOWN).itertuples(index=False))
    more = f"<br><i>… 共 {len(findings)} 条</i>" if len(findings) > FINDINGS_SHOWN else ""
    return f"<b>规则线索 {len(findings)} 条</b><table class='wb-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


class ProviderExplorer(W.VBox):
    """Pick a peer group and two axes; see its institutions by cluster with outliers ringed; pick
    an institution to see its robust z against its peers, its reasons and its findings.

    Parameters
    ----------
    result : workbench.providers.ProviderProfiles
    peer_group, x, y, selected : str, optional
        Initial selections (default: the group of the first institution of the view, the PCA
        map, the first institution of the group).
    view : {"priority", "risk_score"}
        Order of institutions: inspect first (default) or the size-neutral risk score.
    store : workbench.cases.CaseStore, optional
        With a store, an "open a case" control (:class:`widgets.cases.OpenCase`, source
        ``providers``) opens a case about the selected institution, its reasons as the note.
    run : path, optional
        The run folder the profiles' findings came from: the case then bundles the selected
        institution's findings (by ``finding_id``).
    by : str
        The auditor's name that control starts with.
    """

    peer_group = Unicode("", help="peer group shown (fixmedins_type-hosp_lv, e.g. '1-3')")
    x = Unicode("pc1", help="measure on the x axis, or pc1 / pc2")
    y = Unicode("pc2", help="measure on the y axis, or pc1 / pc2")
    selected = Unicode("", help="institution selected (fixmedins_code); its profile is shown")
    view = Unicode("priority", help="order: 'priority' (inspect first) or 'risk_score' (size-neutral)")

    def __init__(self, result, peer_group: str = "", x: str = "pc1", y: str = "pc2", selected: str = "",
                 view: str = "priority", store=None, run=None, by: str = "", **kw):
        self.result = result
        self.case_opener = None
        if store is not None:
            from .cases import OpenCase

            self.case_opener = OpenCase(store, "providers", by=by, run=run)
        self.font = use_cjk_font()
        self.points = result.points(result.institutions.peer_group.iloc[0]).iloc[0:0]
        self.marks, self.bars, self.deviations = None, [], None
        groups = result.peer_groups()
        self.group_picker = W.Dropdown(description="同级组", layout=W.Layout(width="30em"), options=[
            (f"{g.peer_label} ({g.peer_group}) · {g.institutions} 家 · 异常 {int(g.outliers)}", g.peer_group)
            for g in groups.itertuples(index=False)])
        axes = result.axis_options()
        self.x_picker = W.Dropdown(description="横轴 x", options=axes, layout=W.Layout(width="30em"))
        self.y_picker = W.Dropdown(description="纵轴 y", options=axes, layout=W.Layout(width="30em"))
        self.scatter = W.HTML(layout=W.Layout(display="none"))  # inline SVG: its points are links
        self.scatter.add_class("wb-scatter")
        # where a click on a point lands (hidden; _PICK_JS finds it by its own class)
        self.pick_box = W.Text(value="", layout=W.Layout(display="none"))
        self.pick_class = "wb-pick-" + self.pick_box.model_id[:12]
        self.pick_box.add_class(self.pick_class)
        self.view_toggle = W.ToggleButtons(options=[("检查优先级 priority", "priority"), ("风险分（不计规模） risk score", "risk_score")],
                                           value="priority", description="排序")
        self.picker = W.Dropdown(description="机构", options=[], layout=W.Layout(width="40em"))
        self.header = W.HTML()
        self.profile = W.Image(format=SVG_FORMAT, layout=W.Layout(display="none"))  # shown by set_image
        self.findings = W.HTML()
        super().__init__([self.group_picker, W.HBox([self.x_picker, self.y_picker]), self.scatter, self.pick_box,
                          self.view_toggle, self.picker, self.header, self.profile, self.findings]
                         + ([self.case_opener] if self.case_opener is not None else []), **kw)
        self._syncing = False
        self.group_picker.observe(lambda ch: self._from_control("peer_group", ch["new"]), names="value")
        self.x_picker.observe(lambda ch: self._from_control("x", ch["new"]), names="value")
        self.y_picker.observe(lambda ch: self._from_control("y", ch["new"]), names="value")
        self.picker.observe(lambda ch: self._from_control("selected", ch["new"]), names="value")
        self.view_toggle.observe(lambda ch: self._from_control("view", ch["new"]), names="value")
        self.pick_box.observe(self._point_clicked, names="value")
        with self.hold_trait_notifications():
            self.x, self.y = x, y
        with self._quiet():  # a trait left at its default sends no change: show it in its picker anyway
            self.x_picker.value, self.y_picker.value = self.x, self.y
        self.view = view
        first = result.row(selected).peer_group if selected else result.ranked(self.view).peer_group.iloc[0]
        self.peer_group = peer_group or first
        if selected:
            self.selected = selected

    def _from_control(self, trait: str, value):
        """A control changed by the user sets its trait; changes made while syncing do not."""
        if not self._syncing:
            setattr(self, trait, value or "")

    @contextmanager
    def _quiet(self):
        self._syncing = True
        try:
            yield
        finally:
            self._syncing = False

    # --- validation -----------------------------------------------------------------------
    @validate("peer_group")
    def _known_group(self, proposal):
        if proposal["value"] not in {v for _, v in self.group_picker.options}:
            raise TraitError(f"unknown peer group {proposal['value']!r}")
        return proposal["value"]

    @validate("x", "y")
    def _known_axis(self, proposal):
        if proposal["value"] not in {v for _, v in self.result.axis_options()}:
            raise TraitError(f"unknown axis {proposal['value']!r}; choose pc1, pc2 or a measure with values")
        return proposal["value"]

    @validate("view")
    def _known_view(self, proposal):
        if proposal["value"] not in ("priority", "risk_score"):
            raise TraitError(f"unknown view {proposal['value']!r}; use priority or risk_score")
        return proposal["value"]

    @validate("selected")
    def _known_institution(self, proposal):
        code = proposal["value"]
        if code and code not in set(self.result.institutions.fixmedins_code):
            raise TraitError(f"unknown institution {code!r}")
        return code

    # --- reactions ------------------------------------------------------------------------
    def _option(self, r) -> str:
        name = "" if _missing(r.fixmedins_name) else r.fixmedins_name
        flag = "  ⚠" if r.outlier else ""
        if self.view == "priority":
            return f"#{r.priority_rank} {r.fixmedins_code} {name}  优先级 {r.priority:,.0f}  风险 {r.risk_score:.3f}{flag}"
        return f"#{r.rank} {r.fixmedins_code} {name}  风险 {r.risk_score:.3f}  优先级 {r.priority:,.0f}{flag}"

    @observe("view")
    def _view_changed(self, change):
        with self._quiet():
            self.view_toggle.value = self.view
        if self.peer_group:
            self._group_changed(None)

    @observe("peer_group")
    def _group_changed(self, change):
        members = self.result.members(self.peer_group, self.view)
        codes = list(members.fixmedins_code)
        with self._quiet():
            self.group_picker.value = self.peer_group
            self.picker.options = [(self._option(r), r.fixmedins_code) for r in members.itertuples(index=False)]
        self.points = self.result.points(self.peer_group, self.x, self.y)
        if self.selected in codes:
            self._render_selection()
        else:
            self.selected = codes[0]  # its observer renders

    @observe("x", "y")
    def _axes_changed(self, change):
        with self._quiet():
            self.x_picker.value, self.y_picker.value = self.x, self.y
        if self.peer_group:
            self.points = self.result.points(self.peer_group, self.x, self.y)
            self._draw_scatter()

    @observe("selected")
    def _selected_changed(self, change):
        code = self.selected
        if code and self.result.row(code).peer_group != self.peer_group:
            self.peer_group = self.result.row(code).peer_group  # its observer keeps the code and renders
            return
        self._render_selection()

    def _point_clicked(self, change):
        """A click on a scatter point (its code in the hidden box) selects that institution."""
        code = (change["new"] or "").strip()
        if not code:
            return
        self.pick_box.value = ""  # the same point clicked again must change the box again
        try:
            self.selected = code
        except TraitError:
            pass  # a code the page did not draw: nothing to select

    def _render_selection(self):
        with self._quiet():
            self.picker.value = self.selected or None
        self._draw_scatter()
        self._show_institution()

    def _label(self, axis: str) -> str:
        return dict((v, k) for k, v in self.result.axis_options()).get(axis, axis)

    def _draw_scatter(self):
        self.marks = scatter_marks(self.points, self.selected)
        fig = Figure(figsize=(7, 4.6))
        ax = fig.add_subplot()
        for c, (xs, ys) in self.marks["clusters"].items():
            dots = ax.scatter(xs, ys, s=28, color=CLUSTER_COLOURS[c % len(CLUSTER_COLOURS)], label=f"簇 cluster {c}", alpha=0.8)
            dots.set_urls([point_link(code) for code in self.marks["codes"][c]])
        ox, oy, ocodes = self.marks["outliers"]
        if ox:
            rings = ax.scatter(ox, oy, s=110, facecolors="none", edgecolors=OUTLIER_COLOUR, linewidths=1.6, label="异常 outlier")
            rings.set_urls([point_link(code) for code in ocodes])
        if self.marks["selected"]:
            star = ax.scatter(*self.marks["selected"], s=220, marker="*", color=SELECTED_COLOUR, label=self.selected)
            star.set_urls([point_link(self.selected)])
        ax.set_xlabel(self._label(self.x))
        ax.set_ylabel(self._label(self.y))
        note = f"（{self.marks['missing']} 家无数值未显示）" if self.marks["missing"] else ""
        ax.set_title(f"同级组 {self.peer_group}：按簇着色，红圈为异常{note}", fontsize=10)
        ax.legend(fontsize=7, loc="best")
        self.scatter.value = scatter_html(_svg(fig), self.pick_class)
        self.scatter.layout.display = ""

    def _show_institution(self):
        code = self.selected
        if not code:
            if self.case_opener is not None:
                self.case_opener.set_lead([])
            self.deviations, self.bars = None, []
            self.header.value, self.findings.value = "", ""
            _set_image(self.profile, b"")
            return
        r = self.result.row(code)
        self.deviations = self.result.deviations(code)
        self.bars = deviation_bars(self.deviations)
        name = "" if _missing(r.fixmedins_name) else html.escape(str(r.fixmedins_name))
        self.header.value = (
            f"<b>{html.escape(code)} {name}</b>（{html.escape(r.peer_label)}，簇 {r.cluster}，比较范围 {r.peer_basis}）"
            f"：检查优先级 <b>{r.priority:,.2f}</b>（第 {r.priority_rank} 位）；风险分 <b>{r.risk_score:.3f}</b>，"
            f"排名第 {r['rank']}{'，<b>异常</b>' if r.outlier else ''}；"
            f"就诊 {r.visits} 人次<br>{html.escape(self.result.reasons(code))}<br>{institution_links(code)}")
        fig = Figure(figsize=(7, 0.6 + 0.32 * max(1, len(self.bars))))
        ax = fig.add_subplot()
        if self.bars:
            labels, zs, colours = zip(*self.bars)
            ax.barh(range(len(zs)), zs, color=colours)
            ax.set_yticks(range(len(zs)), labels, fontsize=8)
            ax.invert_yaxis()
        ax.axvline(0, color="#555", linewidth=0.8)
        ax.set_xlabel("稳健 z（同级中位数 = 0，单位 MAD）")
        ax.set_title(f"{code} 与同级机构的偏离", fontsize=10)
        _set_image(self.profile, _svg(fig))
        found = self.result.findings_of(code)
        self.findings.value = _findings_html(found)
        self._lead(r, found)

    def _lead(self, r, found):
        """The case a click opens: the selected institution, its findings when their run is known."""
        opener = self.case_opener
        if opener is None:
            return
        ids = list(found.finding_id) if opener.run is not None and "finding_id" in found else []
        note = f"机构画像：检查优先级第 {r.priority_rank} 位，风险分 {r.risk_score:.3f}；{self.result.reasons(r.fixmedins_code)}"
        opener.set_lead([r.fixmedins_code], ids, note=note,
                        label=f"机构 {r.fixmedins_code}（规则线索 {len(ids)} 条随案）；{note}")


def summary_banner(result) -> W.HTML:
    """The headline figures of ``result.summary()`` as one line of HTML."""
    s = result.summary()
    found = "未提供规则线索" if s["findings"] is None else f"规则线索 {s['findings']} 条"
    return W.HTML(f"<b>{s['institutions']} 家机构</b>，{s['peer_groups']} 个同级组；按 {s['scored']} 项比率指标评分，"
                  f"<b>{s['outliers']}</b> 家标为异常；{found}；随机种子 {s['seed']}")


def ranking_html(result, n: int = 20, view: str = "priority") -> W.HTML:
    """The first ``n`` institutions of a view (``result.ranked(view)``: ``priority``, inspect
    first, or ``risk_score``, size-neutral) with their reasons, as an HTML table."""
    top = result.ranked(view).head(n)
    key = "priority_rank" if view == "priority" else "rank"
    rows = "".join(
        f"<tr><td>{getattr(r, key)}</td><td>{html.escape(r.fixmedins_code)}</td><td>{html.escape('' if _missing(r.fixmedins_name) else str(r.fixmedins_name))}</td>"
        f"<td>{html.escape(r.peer_label)}</td><td>{r.priority:,.2f}</td><td>{r.risk_score:.3f}</td><td>{html.escape(r.reasons)}</td></tr>"
        for r in top.itertuples(index=False))
    return W.HTML("<table class='wb-table'><thead><tr><th>排名</th><th>机构编号</th><th>名称</th><th>同级组</th>"
                  f"<th>检查优先级</th><th>风险分</th><th>原因</th></tr></thead><tbody>{rows}</tbody></table>")


RANKING_COLUMNS = ("排名", "名称", "同级组", "检查优先级", "风险分", "异常", "原因")
RANKING_WIDTHS = {"排名": 70, "名称": 220, "同级组": 200, "异常": 60, "原因": 520}  # pixels; others the grid's own


def ranking_frame(result, view: str = "priority") -> pd.DataFrame:
    """Every institution in the order of a view (``result.ranked(view)``) as the ranking grid's
    rows: index ``fixmedins_code``, the view's rank, name, peer group, priority, risk score, the
    outlier flag and the reasons; a pure mapping (institutions only, no person)."""
    top = result.ranked(view)
    key = "priority_rank" if view == "priority" else "rank"
    frame = pd.DataFrame({
        "排名": top[key].astype(int).to_numpy(),
        "名称": ["" if _missing(v) else str(v) for v in top.fixmedins_name],
        "同级组": top.peer_label.astype(str).to_numpy(),
        "检查优先级": top.priority.astype(float).round(2).to_numpy(),
        "风险分": top.risk_score.astype(float).round(3).to_numpy(),
        "异常": ["是" if bool(v) else "" for v in top.outlier],
        "原因": top.reasons.astype(str).to_numpy(),
    }, index=pd.Index(top.fixmedins_code.astype(str).tolist(), name="机构编号"))
    return frame


class RankingGrid(KeyedGrid):
    """Every institution ranked by a view, as a data grid: sort and filter by any column, click a
    row to select the institution (``selected``; the dashboard links it to the explorer's).

    Parameters
    ----------
    result : workbench.providers.ProviderProfiles
    view : {"priority", "risk_score"}
    """

    view = Unicode("priority", help="order: 'priority' (inspect first) or 'risk_score' (size-neutral)")

    def __init__(self, result, view: str = "priority", **kw):
        self.result = result
        super().__init__(ranking_frame(result, view), rows=12, widths=RANKING_WIDTHS,
                         formats={"检查优先级": ",.2f", "风险分": ".3f"}, **kw)
        self.add_class("wb-ranking")
        self.view = view

    @observe("view")
    def _view_changed(self, change):
        self.set_frame(ranking_frame(self.result, self.view))


def providers_dashboard(data, run=None, seed: int = 2024, selected: str = "", view: str = "priority", by: str = "",
                        home=None):
    """The providers dashboard: the workbench profiles the institutions of ``data`` (with the
    findings of ``run`` when it is a run folder), shown as the headline, the explorer and the
    ranking grid, linked (a row, a point or the dropdown selects; the view orders both).

    Parameters
    ----------
    data : path
        The data folder.
    run : path, optional
        A run folder; without ``findings.parquet`` in it the profiles carry no findings.
    seed : int
    selected : str
        Institution shown first (``fixmedins_code``; a link's ``FIXMEDINS_CODE``).
    view : {"priority", "risk_score"}
    by : str
        The auditor's name "open a case" starts with.
    home : path, optional
        The case store's folder (default ``$WORKBENCH_HOME``).
    """
    from pathlib import Path

    import workbench
    from workbench import providers
    from workbench.cases import CaseStore
    from workbench.errors import WorkbenchError

    findings = run if run and Path(run, "findings.parquet").is_file() else None
    try:
        session = workbench.open(data)
        session.con.execute("SET enable_progress_bar = false")  # DuckDB's own bar is a black stripe on the page
        result = providers.profile_providers(session, findings=findings, seed=seed)
        explorer = ProviderExplorer(result, selected=selected or "", view=view, store=CaseStore(home), run=findings, by=by)
    except (WorkbenchError, TraitError) as e:
        return W.HTML(f"<p class='wb-error' style='color:#b00020;font-size:18px'>{html.escape(str(e))}</p>")
    ranking = RankingGrid(result, view=explorer.view)
    T.dlink((explorer, "view"), (ranking, "view"))
    ranking.selected = explorer.selected
    T.link((explorer, "selected"), (ranking, "selected"))
    return W.VBox([summary_banner(result), explorer,
                   W.HTML("<h3>检查优先级 / 风险排名 Ranking（点击一行查看该机构 click a row to see it）</h3>"), ranking])
