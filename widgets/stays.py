"""Split-hospitalization widgets: a person's stays on a timeline, an institution against its peers.

The widgets take a :class:`workbench.stays.StayAnalysis` and show its results; every number
comes from the workbench (``analysis.person``, ``analysis.bill``, ``analysis.institution_gaps``,
``analysis.institution_pairs``). Selections are traits: ``StayTimeline.psn_no`` and
``selected_mdtrt_id``, ``InstitutionView.fixmedins_code`` and ``selected_pair``.
Charts are matplotlib figures rendered to SVG in an ``ipywidgets.Image`` (no pyplot state, so
they look the same in a notebook, in Voilà and in a test). Persons are shown by psn_no only.
:func:`stays_dashboard` is the dashboard: it asks the workbench for the analysis and puts these
widgets together.
"""
from __future__ import annotations

import datetime as _dt
import html

import ipywidgets as W
import pandas as pd
from matplotlib.figure import Figure
from traitlets import TraitError, Unicode, observe, validate

from ._charts import missing as _missing
from ._charts import SVG_FORMAT
from ._charts import svg as _svg
from ._charts import set_image as _set_image
from ._fonts import use_cjk_font
from ._grid import KeyedGrid
from .page import institution_links

MIN_BAR = _dt.timedelta(hours=12)
PAIR_LIMIT = 500  # pairs listed in the institution view (shortest gaps first)
SAME_COLOUR, OTHER_COLOUR, READMIT_COLOUR = "#4878a8", "#9aa5b1", "#c0392b"


def _text(v, unit="") -> str:
    """A value for display: a dash for null, as stored otherwise (money keeps its 2 decimals)."""
    return "—" if _missing(v) else f"{v}{unit}"


def _table_html(frame, columns, headers) -> str:
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_text(getattr(r, c)))}</td>" for c in columns) + "</tr>"
        for r in frame.itertuples(index=False)
    )
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    return f"<table class='wb-table'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _gap_label(gap_any, gap_same=None):
    """``"间隔 3天"`` / ``"重叠 1天"``, and the gap to the previous stay at the same institution
    when that is another stay: ``"重叠 1天（同院间隔 3天）"``."""
    if _missing(gap_any):
        return None
    g = int(gap_any)
    label = f"间隔 {g}天" if g >= 0 else f"重叠 {-g}天"
    return label if _missing(gap_same) else f"{label}（同院间隔 {int(gap_same)}天）"


def timeline_bars(stays, window_days: int) -> list:
    """Map a person's stays (episode rows) to timeline bars; a pure function.

    Returns one dict per stay: ``mdtrt_id``, ``row`` (institution row, in order of first stay),
    ``institution``, ``start`` / ``end`` (admission and discharge times; a stay shorter than
    :data:`MIN_BAR` is drawn that long so it stays visible), ``gap_label`` (gap to the previous
    stay at any institution, :func:`_gap_label`, None for the first)
    and ``readmission`` (a same-institution readmission within the window).
    """
    rows, bars = {}, []
    for s in stays.itertuples(index=False):
        row = rows.setdefault(s.fixmedins_code, len(rows))
        gap_any, gap_same = s.gap_prev_any_days, s.gap_prev_same_days
        readmit = not _missing(gap_same) and 0 <= int(gap_same) <= window_days
        bars.append({
            "mdtrt_id": s.mdtrt_id, "row": row, "institution": s.fixmedins_code,
            "start": pd.Timestamp(s.begntime).to_pydatetime(),
            "end": max(pd.Timestamp(s.endtime).to_pydatetime(), pd.Timestamp(s.begntime).to_pydatetime() + MIN_BAR),
            "gap_label": _gap_label(gap_any, None if s.prev_same_mdtrt_id == s.prev_any_mdtrt_id else gap_same),
            "readmission": bool(readmit),
        })
    return bars


class StayTimeline(W.VBox):
    """One person's inpatient stays as bars on a time axis, gaps labelled; pick a stay to see
    its bill by charge category.

    Parameters
    ----------
    analysis : workbench.stays.StayAnalysis
    psn_no : str, optional
        Person to show first.
    """

    psn_no = Unicode("", help="person shown (人员编号)")
    selected_mdtrt_id = Unicode("", help="stay selected (就诊ID); its bill is shown")

    def __init__(self, analysis, psn_no: str = "", **kw):
        self.analysis = analysis
        self.font = use_cjk_font()
        self.stays = analysis.person("").iloc[0:0]
        self.bars, self.bill, self.figure = [], None, None
        self.person_box = W.Text(description="人员编号", placeholder="psn_no", continuous_update=False)
        self.stay_picker = W.Dropdown(description="住院 stay", options=[], layout=W.Layout(width="32em"))
        self.header = W.HTML()
        self.chart = W.Image(format=SVG_FORMAT, layout=W.Layout(display="none"))  # shown by set_image
        self.details = W.HTML()
        self.bill_table = W.HTML()
        super().__init__([self.person_box, self.header, self.chart, self.stay_picker, self.details, self.bill_table], **kw)
        self.person_box.observe(lambda ch: setattr(self, "psn_no", ch["new"].strip()), names="value")
        self.stay_picker.observe(lambda ch: setattr(self, "selected_mdtrt_id", ch["new"] or ""), names="value")
        self.psn_no = psn_no

    @observe("psn_no")
    def _person_changed(self, change):
        self.person_box.value = self.psn_no
        self.stays = self.analysis.person(self.psn_no) if self.psn_no else self.stays.iloc[0:0]
        self.bars = timeline_bars(self.stays, self.analysis.window_days)
        n = len(self.stays)
        self.header.value = (f"<b>人员 {html.escape(self.psn_no)}</b>：住院 {n} 次" if n else
                             f"人员 {html.escape(self.psn_no)}：无住院记录" if self.psn_no else "")
        options = [(f"{s.begn_date} → {s.end_date}  {s.fixmedins_code}  {_text(s.dise_codg)}  ({s.mdtrt_id})", s.mdtrt_id)
                   for s in self.stays.itertuples(index=False)]
        keep = self.selected_mdtrt_id if self.selected_mdtrt_id in set(self.stays.mdtrt_id) else ""
        self.stay_picker.options = options
        self.stay_picker.value = keep or (options[0][1] if options else None)
        self.selected_mdtrt_id = self.stay_picker.value or ""
        self._draw()
        self._show_stay()

    @validate("selected_mdtrt_id")
    def _known_stay(self, proposal):
        if proposal["value"] and proposal["value"] not in set(self.stays.mdtrt_id):
            raise TraitError(f"stay {proposal['value']!r} is not one of person {self.psn_no!r}'s stays")
        return proposal["value"]

    @observe("selected_mdtrt_id")
    def _stay_changed(self, change):
        if self.stay_picker.value != (self.selected_mdtrt_id or None):
            self.stay_picker.value = self.selected_mdtrt_id or None
        self._draw()
        self._show_stay()

    def _show_stay(self):
        sel = self.stays[self.stays.mdtrt_id == self.selected_mdtrt_id]
        if sel.empty:
            self.bill, self.details.value, self.bill_table.value = None, "", ""
            return
        s = sel.iloc[0]
        self.details.value = (
            f"<b>{html.escape(s.mdtrt_id)}</b> {html.escape(_text(s.fixmedins_name))} ({s.fixmedins_code})："
            f"{s.begn_date} → {s.end_date}，住院 {_text(s.los_days)} 天；诊断 {html.escape(_text(s.dise_codg))} "
            f"{html.escape(_text(s.dise_name))}；医疗费总额 {_text(s.medfee_sumamt)} 元，统筹基金支出 {_text(s.hifp_pay)} 元；"
            f"距上次同院出院 {_text(s.gap_prev_same_days, ' 天')}，距上次任意机构出院 {_text(s.gap_prev_any_days, ' 天')}")
        self.bill = self.analysis.bill(s.mdtrt_id)
        self.bill_table.value = (_table_html(self.bill, ["med_chrgitm_type", "chrgitm_name", "lines", "amount"],
                                             ["类别", "收费项目类别", "明细条数", "金额(元)"])
                                 if len(self.bill) else "<i>无费用明细 (no itemised charges)</i>")

    def _draw(self):
        if not self.bars:
            self.figure = None
            _set_image(self.chart, b"")
            return
        institutions = sorted({(b["row"], b["institution"]) for b in self.bars})
        fig = Figure(figsize=(9, 1.2 + 0.8 * len(institutions)))
        ax = fig.add_subplot()
        for b in self.bars:
            colour = READMIT_COLOUR if b["readmission"] else SAME_COLOUR
            edge = "black" if b["mdtrt_id"] == self.selected_mdtrt_id else "none"
            ax.barh(b["row"], b["end"] - b["start"], left=b["start"], height=0.4, color=colour, edgecolor=edge, linewidth=2)
            if b["gap_label"]:
                ax.annotate(b["gap_label"], (b["start"], b["row"] - 0.25), fontsize=8, ha="center", va="bottom")
        ax.set_yticks([r for r, _ in institutions], [code for _, code in institutions])
        ax.set_ylim(len(institutions) - 0.5, -0.8)
        ax.set_title(f"人员 {self.psn_no} 住院时间线（红色：{self.analysis.window_days} 天内同院再入院）", fontsize=10)
        fig.autofmt_xdate()
        self.figure = fig
        _set_image(self.chart, _svg(fig))


class InstitutionView(W.VBox):
    """One institution's readmission gaps against its peer group and its readmission pairs.

    Parameters
    ----------
    analysis : workbench.stays.StayAnalysis
    timeline : StayTimeline, optional
        Selecting a pair shows its person there, with the second stay selected.
    fixmedins_code : str, optional
        Institution to show first (default: rank 1 by split signature).
    store : workbench.cases.CaseStore, optional
        With a store, an "open a case" control (:class:`widgets.cases.OpenCase`, source ``stays``)
        opens a case about the institution shown, its readmission figures as the note.
    by : str
        The auditor's name that control starts with.
    """

    fixmedins_code = Unicode("", help="institution shown (定点医药机构编号)")
    selected_pair = Unicode("", help="second_mdtrt_id of the selected readmission pair")

    def __init__(self, analysis, timeline: StayTimeline | None = None, fixmedins_code: str = "", store=None,
                 by: str = "", **kw):
        self.analysis, self.timeline = analysis, timeline
        self.case_opener = None
        if store is not None:
            from .cases import OpenCase

            self.case_opener = OpenCase(store, "stays", by=by)
        self.font = use_cjk_font()
        inst = analysis.institutions
        self.histogram, self.pairs, self.figure = None, analysis.pairs.iloc[0:0], None
        self.picker = W.Dropdown(description="机构", layout=W.Layout(width="36em"), options=[
            (f"#{r.split_rank} {r.fixmedins_code} {_text(r.fixmedins_name)}  z={r.split_z:.1f}", r.fixmedins_code)
            for r in inst.itertuples(index=False)])
        self.measures = W.HTML()
        self.chart = W.Image(format=SVG_FORMAT, layout=W.Layout(display="none"))  # shown by set_image
        self.pair_picker = W.Select(description="再入院", options=[], rows=8, layout=W.Layout(width="48em"))
        self.pair_table = W.HTML()
        super().__init__([self.picker, self.measures, self.chart, self.pair_picker, self.pair_table]
                         + ([self.case_opener] if self.case_opener is not None else []), **kw)
        self.picker.observe(lambda ch: setattr(self, "fixmedins_code", ch["new"] or ""), names="value")
        self.pair_picker.observe(lambda ch: setattr(self, "selected_pair", ch["new"] or ""), names="value")
        self.fixmedins_code = fixmedins_code or (inst.fixmedins_code.iloc[0] if len(inst) else "")

    @observe("fixmedins_code")
    def _institution_changed(self, change):
        code = self.fixmedins_code
        if self.picker.value != code:  # a code not in the list (a link's, say) leaves the list unpicked
            self.picker.value = code if code in {v for _, v in self.picker.options} else None
        row = self.analysis.institutions[self.analysis.institutions.fixmedins_code == code]
        self._lead(row)
        if row.empty:
            self.histogram, self.pairs = None, self.pairs.iloc[0:0]
            self.pair_picker.options, self.pair_table.value = [], ""
            # said plainly: an empty page would look like a fault
            self.measures.value = ("<p class='wb-note' style='font-size:17px'>没有住院机构可显示（数据中没有住院记录）。"
                                   " No inpatient institution to show.</p>" if self.analysis.institutions.empty else
                                   f"<p class='wb-note' style='font-size:17px'>机构 {html.escape(code)} 没有住院记录。"
                                   f" Institution {html.escape(code)} has no inpatient stays.</p>")
            _set_image(self.chart, b"")
            return
        self.histogram = self.analysis.institution_gaps(code)
        self.pairs = self.analysis.institution_pairs(code)
        self.measures.value = self._measures_html(row.iloc[0])
        self._draw(row.iloc[0])
        shown = self.pairs.head(PAIR_LIMIT)
        self.pair_picker.options = [
            (f"{p.psn_no}  {p.first_mdtrt_id} → {p.second_mdtrt_id}  间隔 {p.gap_days} 天  {_text(p.first_dise_codg)} → {_text(p.second_dise_codg)}",
             p.second_mdtrt_id) for p in shown.itertuples(index=False)]
        if shown.empty:
            self.pair_table.value = (f"<p class='wb-note' style='font-size:17px'>该机构没有 {self.analysis.window_days} 天内的再入院。"
                                     f" No readmission within {self.analysis.window_days} days here.</p>")
            return
        self.pair_table.value = _table_html(
            shown.head(50),
            ["psn_no", "first_mdtrt_id", "second_mdtrt_id", "gap_days", "first_dise_codg", "second_dise_codg",
             "first_medfee_sumamt", "second_medfee_sumamt", "second_hifp_pay"],
            ["人员编号", "首次就诊", "再次就诊", "间隔天数", "首次诊断", "再次诊断", "首次费用", "再次费用", "再次统筹支付"])

    @observe("selected_pair")
    def _pair_changed(self, change):
        if self.pair_picker.value != (self.selected_pair or None):
            self.pair_picker.value = self.selected_pair or None
        pick = self.pairs[self.pairs.second_mdtrt_id == self.selected_pair]
        if self.timeline is not None and not pick.empty:
            self.timeline.psn_no = pick.psn_no.iloc[0]
            self.timeline.selected_mdtrt_id = self.selected_pair

    def _lead(self, row):
        """The case a click opens: the institution shown, with its readmission figures as the note."""
        if self.case_opener is None:
            return
        if row.empty:
            self.case_opener.set_lead([])
            return
        r = row.iloc[0]
        note = (f"住院分析：住院 {r.stays} 次，{self.analysis.window_days} 天内同院再入院 {r.readmissions} 次，"
                f"分解住院特征 z = {r.split_z:.2f}（第 {r.split_rank} 位）")
        self.case_opener.set_lead([r.fixmedins_code], note=note, label=f"机构 {r.fixmedins_code}；{note}")

    def _measures_html(self, r) -> str:
        def pct(v):
            return "—" if _missing(v) else f"{v:.1%}"

        return (
            f"<b>{html.escape(r.fixmedins_code)} {html.escape(_text(r.fixmedins_name))}</b>（同类机构 {r.peer_group}，"
            f"比较范围 {r.peer_basis}，{r.peer_institutions} 家）<br>"
            f"住院 {r.stays} 次，{self.analysis.window_days} 天内同院再入院 {r.readmissions} 次，"
            f"其中短间隔 {r.short_gap_readmissions} 次（占住院 {pct(r.short_gap_rate)}，同类 {pct(r.peer_short_gap_rate)}）；"
            f"分解住院特征稳健 z = {r.split_z:.2f}，排名第 {r.split_rank}；"
            f"年龄与诊断调整后再入院 O/E = {'—' if _missing(r.oe_ratio) else format(r.oe_ratio, '.2f')}<br>"
            + institution_links(r.fixmedins_code, rings=False))  # a hospital is no ring's pharmacy

    def _draw(self, r):
        h = self.histogram
        fig = Figure(figsize=(9, 3))
        ax = fig.add_subplot()
        ax.bar(h.gap_days - 0.2, h.share, width=0.4, color=READMIT_COLOUR, label=f"{r.fixmedins_code}（{r.readmissions} 次）")
        ax.bar(h.gap_days + 0.2, h.peer_share, width=0.4, color=OTHER_COLOUR, label="同类机构")
        ax.set_xticks(list(h.gap_days))
        ax.set_xlabel("出院至再入院间隔（天）")
        ax.set_ylabel("占再入院比例")
        ax.legend(fontsize=8)
        ax.set_title("同院再入院间隔分布：本机构与同类机构", fontsize=10)
        self.figure = fig
        _set_image(self.chart, _svg(fig))


RANKING_COLUMNS = ("排名", "名称", "同类机构", "住院", "再入院", "短间隔再入院", "短间隔率", "同类短间隔率", "稳健 z", "O/E")
RANKING_WIDTHS = {"排名": 60, "名称": 220, "同类机构": 100, "住院": 80, "再入院": 80, "短间隔再入院": 125,
                  "短间隔率": 100, "同类短间隔率": 125, "稳健 z": 80, "O/E": 70}  # pixels


def ranking_frame(analysis) -> pd.DataFrame:
    """Every inpatient institution in the order of the split signature (``split_rank``) as the
    ranking grid's rows: index ``fixmedins_code``, the figures the institution view shows above its
    chart (institutions only, no person)."""
    inst = analysis.institutions

    def number(column):
        return pd.to_numeric(inst[column], errors="coerce").astype(float).to_numpy()

    return pd.DataFrame({
        "排名": inst.split_rank.astype(int).to_numpy(),
        "名称": [_text(v) for v in inst.fixmedins_name],
        "同类机构": inst.peer_group.astype(str).to_numpy(),
        "住院": inst.stays.astype(int).to_numpy(),
        "再入院": inst.readmissions.astype(int).to_numpy(),
        "短间隔再入院": inst.short_gap_readmissions.astype(int).to_numpy(),
        "短间隔率": number("short_gap_rate"),
        "同类短间隔率": number("peer_short_gap_rate"),
        "稳健 z": number("split_z").round(2),
        "O/E": number("oe_ratio").round(2),
    }, index=pd.Index(inst.fixmedins_code.astype(str).tolist(), name="机构编号"))


class StaysRankingGrid(KeyedGrid):
    """Every inpatient institution ranked by the split signature, as a data grid: sort and filter
    by any column, click a row to select the institution (``selected``; :class:`StaysExplorer`
    links it to the institution view's)."""

    def __init__(self, analysis, **kw):
        super().__init__(ranking_frame(analysis), rows=8, widths=RANKING_WIDTHS,
                         formats={"排名": "d", "住院": ",d", "再入院": ",d", "短间隔再入院": ",d", "短间隔率": ".1%",
                                  "同类短间隔率": ".1%", "稳健 z": ".2f", "O/E": ".2f"}, **kw)
        self.add_class("wb-stays-ranking")


def summary_banner(analysis) -> W.HTML:
    """The headline figures of ``analysis.summary`` as one line of HTML."""
    s = analysis.summary
    return W.HTML(
        f"<b>住院 {s['stays']} 次</b>，{s['persons']} 人，{s['institutions']} 家机构；"
        f"{analysis.window_days} 天内同院再入院 <b>{s['readmissions']}</b> 次，"
        f"再次住院统筹基金支出 <b>{_text(s['readmission_hifp_pay'])}</b> 元")


class StaysExplorer(W.VBox):
    """The ranking grid of inpatient institutions above the institution view above a stay timeline,
    linked: a row or the dropdown selects the institution, selecting a pair opens its person."""

    def __init__(self, analysis, fixmedins_code: str = "", store=None, by: str = "", **kw):
        self.timeline = StayTimeline(analysis)
        self.institution = InstitutionView(analysis, timeline=self.timeline, fixmedins_code=fixmedins_code,
                                           store=store, by=by)
        self.ranking = StaysRankingGrid(analysis)
        self._follow_institution()
        # kept in step by hand, not traitlets.link: a code the list lacks (a link's) is shown as
        # "no stays" and leaves no row highlighted, without the grid setting it back
        self.institution.observe(self._follow_institution, "fixmedins_code")
        self.ranking.observe(self._row_picked, "selected")
        parts = [self.institution, self.timeline]
        if len(self.ranking.frame):  # the list first, the top-ranked institution's details below it
            parts.insert(0, W.VBox([W.HTML("<h3>住院机构排名 Institutions by the split signature</h3>"), self.ranking]))
        super().__init__(parts, **kw)

    def _follow_institution(self, change=None):
        code = self.institution.fixmedins_code
        self.ranking.selected = code if code in self.ranking.frame.index else ""

    def _row_picked(self, change):
        if change["new"] and change["new"] != self.institution.fixmedins_code:
            self.institution.fixmedins_code = change["new"]


def stays_dashboard(data, window_days: int = 15, cost_limit="10000", los_limit_days: int = 15, fixmedins_code: str = "",
                    by: str = "", home=None):
    """The stays dashboard: the workbench analyses the inpatient stays of ``data``
    (:class:`workbench.stays.StayAnalysis` with this window and these limits), shown as the
    headline and the explorer, opened on ``fixmedins_code`` (default: the top-ranked institution),
    with "open a case" into the store of ``home`` (default ``$WORKBENCH_HOME``)."""
    import workbench
    from workbench import stays
    from workbench.cases import CaseStore
    from workbench.errors import WorkbenchError

    try:
        session = workbench.open(data)
        session.con.execute("SET enable_progress_bar = false")  # DuckDB's own bar is a black stripe on the page
        analysis = stays.StayAnalysis(session, window_days, cost_limit=cost_limit,
                                      los_limit_days=los_limit_days)
        explorer = StaysExplorer(analysis, fixmedins_code, store=CaseStore(home), by=by)
        banner = summary_banner(analysis)
    except (WorkbenchError, TraitError) as e:
        return W.HTML(f"<p class='wb-error' style='color:#b00020;font-size:18px'>{html.escape(str(e))}</p>")
    return W.VBox([banner, explorer])
