"""The findings queue dashboard: filter a run's findings, open one, read its evidence, decide it.

:class:`FindingsView` takes a :class:`workbench.queue.FindingsQueue` and displays it. The filters
are traits (``rule``, ``county``, ``institution``, ``result_type``, ``status``, ``min_amount``,
``month``: the month of care as the briefing's trend counts it);
any change calls :meth:`workbench.queue.FindingsQueue.filter` and puts every match, most money
first, in a data grid (:class:`ipydatagrid.DataGrid`) the browser scrolls through (every finding
of the run by default); a column's header sorts and filters (the grid's own, in the browser,
which reports the rows' new order back). ``selected`` is the finding opened below the grid (a
click on a row): its facts, its evidence rows (personal data masked,
:func:`workbench.evidence.evidence_rows`) and, when the case store widgets are installed, the
decision controls of :class:`widgets.cases.CaseControls`. With a store, an "open a case" control
(:class:`widgets.cases.OpenCase`) opens a case about the finding opened or, with none opened, about
every finding of the filtered institution.
``filter_ms`` is how long the last filter took in Python (the benchmark reads it).
"""
from __future__ import annotations

import html
import time

import ipywidgets as W
import pandas as pd
import traitlets as T

from workbench import i18n
from workbench.errors import WorkbenchError
from workbench.i18n import t

EVIDENCE_ROWS = 20  # rows shown per evidence table
GRID_ROWS = 15  # rows visible at once; the grid scrolls through the rest
# The grid paints each cell into a buffer canvas and copies it to the screen one cell at a time;
# without a GPU each copy costs in proportion to the buffer, which the grid sizes in steps of 512
# pixels above its own size (and never shrinks it by less than 512). Kept within 1024 × 512 (15
# rows, at most 1,020 px wide: every column still fits, narrower) a redraw copies 2 MB per cell
# instead of 8 MB (2048 × 1024: 16 rows on a 1,560 px wide grid), a quarter of the time.
GRID_MAX_WIDTH = 1020
GRID_ROW, GRID_HEADER, GRID_COLUMN, GRID_ROW_HEADER = 30, 34, 120, 150  # pixels (browser tests click by them)
GRID_WIDTHS = {"result_type": 90, "rule": 270, "institution": 220, "county": 90, "status": 80}  # the rest GRID_COLUMN
GRID_FONT = "15px 'Noto Sans CJK SC', 'WenQuanYi Zen Hei', sans-serif"  # legible on a projector
CSS = """<style>
.wb-queue { font-size: 16px; }
.wb-queue .wb-summary { font-size: 17px; margin: 6px 0; color: #1b2733; }
.wb-queue .wb-order { font-size: 15px; color: #52606d; height: 24px; }  /* fixed: the grid must not move under a click */
.wb-queue .wb-empty { font-size: 18px; margin: 10px 0; color: #7b8794; }
.wb-queue table.wb-ev { border-collapse: collapse; font-size: 14px; margin-bottom: 8px; }
.wb-queue table.wb-ev th { background: #e4ebf2; padding: 4px 8px; text-align: left; }
.wb-queue table.wb-ev td { padding: 3px 8px; border-bottom: 1px solid #e4e7eb; }
.wb-queue .wb-error { color: #b00020; }
.wb-queue .wb-finding { background: #f3f6fa; border-left: 5px solid #1f4e79; padding: 8px 12px; }
.wb-queue .lm-DataGrid { max-width: 1020px; }  /* GRID_MAX_WIDTH from its first paint on (the grid keeps a buffer sized to a wider start) */
</style>"""
ROW_NUMBER = "ipydguuid"  # the grid's own row-number column (ipydatagrid 1.4): the queue filters on it
GRID_COLUMNS = ("amount_at_risk", "result_type", "rule", "institution", "county", "status")


def grid_frame(rows, lang: str = "zh") -> pd.DataFrame:
    """The grid's table of findings: one row per finding (index ``finding_id``), labels in ``lang``.

    Money is a float of yuan so the grid sorts it as a number (the exact Decimal is in the
    finding's facts below the grid); institution falls back to its code, then to the person or
    doctor number a finding without an institution names.
    """
    name = "rule_name_zh" if lang == "zh" else "rule_name_en"
    inst = pd.Series("—", index=rows.index, dtype=object)
    for col in ("dr_code", "psn_no", "fixmedins_code", "fixmedins_name"):  # last wins: the name when there is one
        if col in rows:
            have = rows[col].notna() & (rows[col].astype(str) != "")
            inst[have] = rows.loc[have, col]
    labels = {x: t(x, lang) for x in rows["result_type"].unique()}
    states = {x: t(f"status_{x}", lang) for x in rows["status"].unique()}
    cols = {
        t("amount_at_risk", lang): rows["amount_at_risk"].astype(float).to_numpy(),
        t("result_type", lang): rows["result_type"].map(labels).to_numpy(),
        t("rule", lang): rows[name].to_numpy(),
        t("institution", lang): inst.to_numpy(),
        t("county", lang): rows["county"].fillna("").to_numpy(),
        t("status", lang): rows["status"].map(states).to_numpy(),
    }
    return pd.DataFrame(cols, index=pd.Index(list(rows["finding_id"]), name="finding_id"))


def _cell(v) -> str:
    if v is None:
        return ""
    try:
        if v != v:  # NaN / NaT
            return ""
    except (TypeError, ValueError):
        pass
    return str(v)


def frame_html(df, limit: int = EVIDENCE_ROWS) -> str:
    """A DataFrame's first ``limit`` rows as a small HTML table (values as text, nulls blank)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in r) + "</tr>"
                   for r in df.head(limit).itertuples(index=False))
    more = f"<p>… {len(df) - limit:,} more</p>" if len(df) > limit else ""
    return f"<table class='wb-ev'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _grid(frame, lang: str):
    """A findings grid holding ``frame`` (:func:`grid_frame`): one row selected at a time, money
    right-aligned with thousands separators; sorting and filtering by a column's header is the
    grid's own, done in the browser (it tells the kernel the rows' new order in ``_visible_rows``).

    Not ipydatagrid's StreamingDataGrid: in 1.4.0 its browser side fails on every cell click
    (``getDatasetRowFromView`` reads rows it never received) and on new rows once shown."""
    from ipydatagrid import DataGrid, TextRenderer

    money = TextRenderer(format=",.2f", horizontal_alignment="right", font=GRID_FONT)
    return DataGrid(frame, selection_mode="row", base_row_size=GRID_ROW, base_column_size=GRID_COLUMN,
                    base_row_header_size=GRID_ROW_HEADER, base_column_header_size=GRID_HEADER,
                    default_renderer=TextRenderer(font=GRID_FONT),
                    header_renderer=TextRenderer(font="bold " + GRID_FONT, background_color="#e4ebf2"),
                    renderers={t("amount_at_risk", lang): money},
                    column_widths={t(k, lang): w for k, w in GRID_WIDTHS.items()},
                    layout=W.Layout(width="100%", max_width=f"{GRID_MAX_WIDTH}px",
                                    height=f"{GRID_HEADER + GRID_ROW * GRID_ROWS + 18}px"))


def _ours(transform) -> bool:
    """True for the grid filter that holds the queue's filters (not one a person set in a header)."""
    return transform.get("type") == "filter" and transform.get("column") == ROW_NUMBER


def _row_selected(grid, rows, fid) -> bool:
    return any(0 <= s["r1"] < len(rows) and rows[s["r1"]] == fid for s in grid.selections)


def _case_controls_class():
    try:
        from widgets.cases import CaseControls
    except ImportError:
        return None
    return CaseControls


class FindingsView(W.VBox):
    """A filterable queue of a run's findings with the evidence and decision of the one opened.

    Parameters
    ----------
    queue : workbench.queue.FindingsQueue
    store : workbench.cases.CaseStore, optional
        Where decisions go; None shows no decision controls.
    lang : {'zh', 'en'}
    limit : int or None
        At most this many matching findings in the grid (None: every one; the grid streams them).
    by : str
        The auditor's name the decision controls start with.
    """

    rule = T.Unicode("", help="rule_id to keep ('' = every rule)")
    county = T.Unicode("", help="admdvs of the institution's county ('' = all)")
    institution = T.Unicode("", help="fixmedins_code ('' = all)")
    result_type = T.Unicode("", help="suspicious or violation ('' = both)")
    status = T.Unicode("", help="undecided, open, confirmed or dismissed ('' = any)")
    min_amount = T.Unicode("", help="minimum money at risk, yuan, as text ('' = none)")
    month = T.Unicode("", help="month of care, YYYY-MM, as the briefing's trend counts it ('' = any)")
    selected = T.Unicode("", help="finding_id of the finding opened below the list")
    matched = T.Int(0, help="how many findings match the filters")
    filter_ms = T.Float(0.0, help="milliseconds the last filter took in Python")

    def __init__(self, queue, store=None, lang: str = "zh", limit: int | None = None, by: str = "", **given):
        self.queue, self.store, self.lang, self.limit, self.by = queue, store, lang, limit, by
        self.run_id = None
        opts = queue.options()
        every = t("all", lang)
        lay = W.Layout(width="auto")
        style = {"description_width": "initial"}
        self.rule_box = W.Dropdown(description=t("filter_rule", lang), style=style, layout=lay, options=[(every, "")] + [
            (f"{zh if lang == 'zh' else en} ({n:,})", rid) for rid, zh, en, n in opts["rule_id"]])
        self.county_box = W.Dropdown(description=t("filter_county", lang), style=style, layout=lay, options=[(every, "")] + [
            (f"{name or code} ({n:,})", code) for code, name, n in opts["admdvs"]])
        self._institutions = {f"{code} {name or ''}".strip(): code for code, name, _ in opts["fixmedins_code"]}
        self.institution_box = W.Combobox(description=t("filter_institution", lang), style=style, ensure_option=True,
                                          options=list(self._institutions), placeholder=every, layout=W.Layout(width="340px"))
        self.result_box = W.Dropdown(description=t("filter_result_type", lang), style=style, layout=lay, options=[(every, "")] + [
            (f"{t(rt, lang)} ({n:,})", rt) for rt, n in opts["result_type"]])
        self.status_box = W.Dropdown(description=t("filter_status", lang), style=style, layout=lay, options=[(every, "")] + [
            (f"{t('status_' + s, lang)} ({n:,})", s) for s, n in opts["status"]])
        self.amount_box = W.Text(description=t("filter_min_amount", lang), style=style, placeholder="0",
                                 continuous_update=False, layout=W.Layout(width="220px"))
        self.month_box = W.Text(description=t("filter_month", lang), style=style, placeholder="YYYY-MM",
                                continuous_update=False, layout=W.Layout(width="220px"))
        self.summary = W.HTML()
        self.order = W.HTML("<div class='wb-order' data-sort=''></div>")
        self._all = None  # every finding as the grid holds them (grid_frame), made by the first refresh
        self._frame = grid_frame(queue.frame.iloc[:0], lang)  # the matches, in the queue's order
        self.grid = _grid(self._frame, lang)
        self.grid_box = W.Box([self.grid], layout=W.Layout(width="100%"))
        self.empty = W.HTML(layout=W.Layout(display="none"))
        self.detail = W.HTML()
        self.evidence_html = W.HTML()
        self.decision = W.VBox()
        self.case_opener = self._case_opener()  # None without a store
        filters = W.HBox([self.rule_box, self.county_box, self.institution_box, self.result_box, self.status_box,
                          self.amount_box, self.month_box], layout=W.Layout(flex_flow="row wrap"))
        super().__init__([W.HTML(CSS), filters, self.summary, self.order, self.empty,
                          self.grid_box] + ([self.case_opener] if self.case_opener is not None else [])
                         + [self.detail, self.evidence_html, self.decision])
        self.add_class("wb-queue")
        for box, name in ((self.rule_box, "rule"), (self.county_box, "county"), (self.result_box, "result_type"),
                          (self.status_box, "status"), (self.amount_box, "min_amount"), (self.month_box, "month")):
            T.link((box, "value"), (self, name))
        self.institution_box.observe(self._institution_typed, "value")
        self._watch(self.grid)
        self._set_filters(given)  # a drill-down's filters, before the first refresh
        self._ready = True
        self.refresh()

    _ready = False
    FILTERS = ("rule", "county", "institution", "result_type", "status", "min_amount", "month")

    def current(self) -> bool:
        """True while the run folder is the one listed (verified, its manifest unchanged)."""
        from workbench.runs import RunFolder

        try:
            return RunFolder(self.queue.run).manifest == self.queue.manifest  # verifies the SHA-256
        except (WorkbenchError, OSError):
            return False

    def open_with(self, **given):
        """Set the filters a link gives (``rule=…``, ``institution=…``; the others to any), read
        the case store's statuses again and refresh once: a queue built ahead of its page."""
        ready, self._ready = self._ready, False
        try:
            for name in self.FILTERS:
                setattr(self, name, "")
            self.institution_box.value = ""
            self._set_filters(given)
        finally:
            self._ready = ready
        self.queue.refresh_status()
        self.refresh(rebuild=True)

    def _set_filters(self, given):
        boxes = {"rule": self.rule_box, "county": self.county_box, "result_type": self.result_box, "status": self.status_box}
        for name, value in given.items():
            if name not in self.FILTERS:
                raise TypeError(f"FindingsView: no filter {name!r}")
            value = str(value or "")
            box = boxes.get(name)
            if box is not None and value not in {v for _, v in box.options}:
                box.options = list(box.options) + [(f"{value} (0)", value)]  # a link's value the run lacks: shown, matching nothing
            setattr(self, name, value)  # linked: the box shows it too
        if self.institution:
            label = next((k for k, v in self._institutions.items() if v == self.institution), None)
            if label is not None:  # an institution without findings keeps its filter: nothing matches
                self.institution_box.value = label

    # -------------------------------------------------------------- filtering
    def _institution_typed(self, change):
        text = (change["new"] or "").strip()
        if not text or text in self._institutions:
            self.institution = self._institutions.get(text, "")

    @T.observe("rule", "county", "institution", "result_type", "status", "min_amount", "month")
    def _filters_changed(self, _):
        if self._ready:
            self.refresh()

    def refresh(self, rebuild: bool = False):
        """Apply the filters: show every match in the grid and say how many match and how much money.

        The grid holds every finding of the run once; a filter is a filter of the grid's own on
        its row numbers (``ipydguuid``), which the browser applies to the rows it already has, so
        a filter change sends a list of row numbers instead of the rows (the browser redrew the
        whole grid on new rows). ``rebuild`` sends the rows anew (a status changed).
        """
        t0 = time.perf_counter()
        try:
            sel = self.queue.filter(limit=self.limit or len(self.queue), rule=self.rule or None,
                                    county=self.county or None, institution=self.institution or None,
                                    result_type=self.result_type or None, status=self.status or None,
                                    min_amount=self.min_amount or None, month=self.month or None)
        except WorkbenchError as e:
            key = "bad_filter" if "month" in str(e) else "bad_amount"
            self.summary.value = f"<span class='wb-error'>{html.escape(t(key, self.lang) + str(e))}</span>"
            return
        keep = sel.positions[:self.limit] if self.limit else sel.positions
        if rebuild or self._all is None:
            self._all = grid_frame(self.queue.frame, self.lang)
            with self.grid.hold_sync():
                self.grid.selections = []
                self.grid._visible_rows = []
                self.grid.data = self._all
        self._frame = self._all.iloc[keep]
        # the summary first, then the grid's filter: the browser shows the summary at once and the
        # grid on its next frame; the other way round the summary waited for the grid's redraw
        self.matched = sel.count
        self.summary.value = "<div class='wb-summary'>" + html.escape(t(
            "matched_of", self.lang, n=f"{sel.count:,}", total=f"{len(self.queue):,}",
            amount=i18n.money(sel.amount_at_risk, self.lang))) + "</div>"
        nothing = not len(self.queue) or not sel.count
        self.empty.value = (f"<div class='wb-empty'>{html.escape(t('no_findings' if not len(self.queue) else 'no_match', self.lang))}</div>"
                            if nothing else "")
        self.empty.layout.display = "" if nothing else "none"
        transforms = [tr for tr in self.grid._transforms if not _ours(tr)]  # a person's sort and filters stay
        if len(keep) < len(self._all):
            transforms.append({"type": "filter", "column": ROW_NUMBER, "operator": "in", "value": keep.tolist()})
        with self.grid.hold_sync():  # the rows' new order comes from the browser when it has applied them
            self.grid.selections = []
            self.grid._visible_rows = []
            self.grid._transforms = transforms
        self.grid_box.layout.display = "none" if nothing else ""
        self.filter_ms = (time.perf_counter() - t0) * 1000
        if self.selected and self.selected in self._frame.index:
            self._highlight(self.selected)
        else:
            self.selected = ""
        self._lead()

    def _watch(self, grid):
        grid.observe(self._picked, "selections")
        grid.observe(self._reordered, ["_transforms", "_visible_rows"])

    def _reordered(self, change):
        """Say how the grid sorts and filters now (the grid has already applied it to the rows)."""
        lang, parts, key = self.lang, [], []
        for tr in self.grid._transforms:
            if _ours(tr):
                continue  # the queue's filters, said by the summary
            if tr.get("type") == "sort":
                way = "desc" if tr.get("desc") else "asc"
                parts.append(t("sorted_" + way, lang, column=tr["column"]))
                key.append(f"{tr['column']}:{way}")
            elif tr.get("type") == "filter":
                parts.append(t("grid_filter", lang, column=tr["column"]))
                key.append(f"{tr['column']}:filter")
        shown = f"{len(self._visible()):,}"
        text = ("；" if lang == "zh" else "; ").join(parts + ([t("grid_rows", lang, n=shown)] if parts else []))
        self.order.value = (f"<div class='wb-order' data-sort='{html.escape(','.join(key))}' data-rows='{shown}'>"
                            f"{html.escape(text)}</div>")
        # the rows moved: the highlight follows the finding open (a click on the row now at its old
        # place must then be a new selection, not the same one)
        if self.selected and self.selected in self._visible().index:
            self._highlight(self.selected)
        elif self.grid.selections:
            self.grid.clear_selection()

    def listed(self) -> list:
        """The finding ids in the grid's order now (after its own sort and filter, if any)."""
        return list(self._visible().index)

    def rows(self) -> pd.DataFrame:
        """The grid's rows as they are shown now (:func:`grid_frame` columns, the grid's order)."""
        return self._visible().drop(columns=["ipydguuid"], errors="ignore")

    def _visible(self) -> pd.DataFrame:
        order = self.grid._visible_rows  # a person's sort and filter, as the browser applied them to every row
        if order and any(not _ours(tr) for tr in self.grid._transforms):
            return self._all.iloc[order]
        return self._frame

    def _highlight(self, fid):
        rows = self._visible().index
        if fid in rows:
            r = int(rows.get_loc(fid))
            self.grid.select(r, 0, r, len(GRID_COLUMNS) - 1, clear_mode="all")

    # -------------------------------------------------------------- one finding
    def _picked(self, change):
        picked = change["new"] or []
        if not picked:
            return
        last = picked[-1]
        if last["r1"] != last["r2"]:
            return  # a header click selects a whole column: no one finding
        r = last["r1"]
        rows = self._visible().index
        if 0 <= r < len(rows):
            self.selected = rows[r]

    # -------------------------------------------------------------- open a case
    def _case_opener(self):
        if self.store is None:
            return None
        try:
            from widgets.cases import OpenCase
        except ImportError:
            return None
        opener = OpenCase(self.store, "rule", by=self.by, run=self.queue.run)
        opener.observe(lambda ch: setattr(self, "by", ch["new"]), "by")
        return opener

    def _lead(self):
        """The opener's lead: the finding opened, else every finding of the filtered institution."""
        opener = getattr(self, "case_opener", None)
        if opener is None:
            return
        if self.selected:
            try:
                code = self.queue.finding(self.selected)["fixmedins_code"]
            except WorkbenchError:
                code = None
            code = _cell(code)
            opener.set_lead([code] if code else [], [self.selected],
                            label=(f"疑点 {self.selected}，机构 {code}" if code else
                                   f"疑点 {self.selected} 不属于任何机构，不能立案 (no institution)"))
        elif self.institution and len(self._frame):
            ids = list(self._frame.index)
            opener.set_lead([self.institution], ids,
                            label=f"机构 {self.institution} 的 {len(ids):,} 条疑点（按当前筛选） its findings as filtered")
        else:
            opener.set_lead([], label="选择一条疑点，或按机构筛选后立案 (pick a finding or filter by institution)")

    @T.observe("selected")
    def _open(self, change):
        fid = change["new"]
        self._lead()
        if not fid:
            self.detail.value = f"<p class='wb-note'>{html.escape(t('select_finding', self.lang))}</p>"
            self.evidence_html.value = ""
            self.decision.children = []
            return
        if fid in self._frame.index and not _row_selected(self.grid, self._visible().index, fid):
            self._highlight(fid)
        try:
            row = self.queue.finding(fid)
        except WorkbenchError as e:
            self.detail.value = f"<p class='wb-error'>{html.escape(str(e))}</p>"
            self.evidence_html.value, self.decision.children = "", []
            return
        self.detail.value = self._detail_html(row)
        self.evidence_html.value = self._evidence_html(fid)
        self.decision.children = self._decision_controls(row)

    def _detail_html(self, row) -> str:
        lang = self.lang
        facts = [(t("rule", lang), f"{row['rule_name_zh'] if lang == 'zh' else row['rule_name_en']} "
                                   f"({row['rule_id']}{', ' + row['official_code'] if row['official_code'] else ''})"),
                 (t("filter_result_type", lang), t(row["result_type"], lang)),
                 (t("institution", lang), f"{row['fixmedins_name'] or ''} {row['fixmedins_code'] or ''}".strip() or "—"),
                 (t("county", lang), row["county"] or "—"),
                 (t("amount_at_risk", lang), f"¥{row['amount_at_risk']:,}"),
                 ("psn_no / mdtrt_id / dr_code", " / ".join(_cell(row[k]) or "—" for k in ("psn_no", "mdtrt_id", "dr_code"))),
                 (t("detail", lang), row["detail"] if lang == "zh" else (row["detail_en"] or row["detail"]))]
        items = "".join(f"<div><b>{html.escape(k)}</b>: {html.escape(_cell(v))}</div>" for k, v in facts)
        return (f"<div class='wb-finding' data-finding='{html.escape(row['finding_id'])}'>"
                f"<h3>{html.escape(t('finding', lang))} {html.escape(row['finding_id'])}</h3>{items}</div>")

    def _evidence_html(self, fid) -> str:
        lang = self.lang
        try:
            frames = self.queue.evidence(fid)
        except WorkbenchError as e:
            return f"<p class='wb-error'>{html.escape(str(e))}</p>"
        parts = [f"<h3>{html.escape(t('evidence', lang))}</h3>"]
        if not frames:
            parts.append(f"<p>{html.escape(t('evidence_none', lang))}</p>")
        for table, df in frames.items():
            parts.append(f"<h4>{html.escape(table)} ({len(df):,})</h4>" + frame_html(df))
        return "".join(parts)

    def _decision_controls(self, row) -> list:
        if self.store is None:
            return []
        controls_class = _case_controls_class()
        if controls_class is None:
            return [W.HTML("<p class='wb-note'>案件处理功能未安装 (widgets.cases): decisions cannot be recorded here</p>")]
        if self.run_id is None:
            from workbench.cases import run_id

            self.run_id = run_id(self.queue.run)
        import pandas as pd

        one = pd.DataFrame([row])
        controls = controls_class(self.store, findings=one, run_id=self.run_id, finding_id=row["finding_id"], by=self.by)
        controls.observe(lambda ch: self._auditor(ch["new"]), "by")
        controls.observe(lambda _: self._decided(row["finding_id"], controls.status), "last_seq")
        return [W.HTML(f"<h3>{html.escape(t('decision', self.lang))}</h3>"), controls]

    def _auditor(self, name):
        self.by = name
        if self.case_opener is not None:
            self.case_opener.by = name  # one name for deciding and opening cases

    def _decided(self, fid, status):
        self.queue.set_status(fid, status or "undecided")
        self.refresh(rebuild=True)  # the status column changed: the rows go anew


def findings_dashboard(run, data=None, lang: str = "zh", limit: int | None = None, by: str = "", finding_id: str = "",
                       home=None, **filters):
    """The findings queue of ``run`` with decisions into the case store, or a note naming what is missing.

    ``filters`` (``rule``, ``county``, ``institution``, ``result_type``, ``status``, ``min_amount``,
    ``month``) open it already filtered: the briefing's and the providers' links carry them in the URL.
    """
    from widgets.briefing import error_note
    from workbench.cases import CaseStore
    from workbench.queue import FindingsQueue

    try:
        view = FindingsView(FindingsQueue(run, data=data, home=home), store=CaseStore(home), lang=lang,
                            limit=limit or None, by=by, **filters)
    except WorkbenchError as e:
        return error_note(e, lang)
    view.selected = finding_id
    return view


def _page_key(run, data, home, lang, limit, by) -> tuple:
    from pathlib import Path

    return ("findings", str(Path(run).resolve()), str(Path(data).resolve()) if data else "", str(home or ""),
            lang, limit or None, by)


def prepare_findings(home=None) -> None:
    """Before the request (a preheated kernel, :func:`widgets.page.wait_for_page`): load the
    findings of the run ``workbench serve`` names into a queue with its grid, for
    :func:`findings_page` to show when the request asks for that run; nothing without one."""
    from workbench.cases import CaseStore
    from workbench.queue import FindingsQueue

    from .page import keep, served_folders

    data, run = served_folders()
    if run is None:
        return
    view = FindingsView(FindingsQueue(run, data=data, home=home), store=CaseStore(home))
    keep(_page_key(run, data, home, "zh", None, ""), view)


def findings_page(run, data=None, lang: str = "zh", limit: int | None = None, by: str = "", finding_id: str = "",
                  home=None, **filters):
    """The findings dashboard: the queue (:func:`findings_dashboard`, opened with ``filters``)
    above the case worklist (:func:`widgets.cases.worklist_dashboard`).

    When :func:`prepare_findings` loaded this run before the request, that queue is shown, after
    checking the run folder is unchanged and reading the case store's statuses again.
    """
    from .cases import worklist_dashboard
    from .page import take

    data = data or None
    view = take(_page_key(run, data, home, lang, limit, by))
    if view is not None and view.current():
        view.open_with(**filters)
        view.selected = finding_id
    else:
        view = findings_dashboard(run, data=data, lang=lang, limit=limit, by=by, finding_id=finding_id, home=home,
                                  **filters)
    return W.VBox([view, worklist_dashboard(home=home)])  # the open cases, next deadline, overdue first
