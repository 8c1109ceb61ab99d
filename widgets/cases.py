"""Decision controls for one finding: confirm, dismiss or reopen it, with note, money and actions.

The widget takes a :class:`workbench.cases.CaseStore` (and optionally the run's findings, to keep
the finding's facts with each decision) and calls ``store.decide``; it computes nothing. The
finding shown is the ``finding_id`` trait; ``status`` (its current status, '' when undecided) and
``last_seq`` (the last event this widget wrote) are traits dashboards observe, e.g. to refresh
the briefing figures. Errors (a missing auditor name, a bad amount) are shown, never raised.
"""
from __future__ import annotations

import html

import ipywidgets as W
import traitlets as T

from workbench.cases import ACTIONS, STATUS_ZH
from workbench.errors import WorkbenchError

from ._grid import KeyedGrid

HISTORY_LABELS = {"seq": "序号", "at": "时间(UTC)", "by": "审核人", "status": "决定", "note": "备注",
                  "recovered": "追回(元)", "actions": "处理措施", "fine": "罚款(元)"}


def _text(v) -> str:
    return "" if v is None or v != v else str(v)


class CaseControls(W.VBox):
    """Record auditors' decisions on one finding and show its history.

    Parameters
    ----------
    store : workbench.cases.CaseStore
    findings : pandas.DataFrame, optional
        The run's findings (``findings.parquet``); the row of ``finding_id`` is kept with each
        decision (rule, institution, money at risk) so briefings count without the run.
    run_id : str, optional
        The run's id (:func:`workbench.cases.run_id`), kept with the finding's facts.
    finding_id : str
    by : str
        The auditor's name (editable in the widget).
    """

    finding_id = T.Unicode("", help="the finding shown and decided")
    status = T.Unicode("", help="its current status: '' (undecided), open, confirmed or dismissed")
    by = T.Unicode("", help="the auditor's name recorded with each decision")
    last_seq = T.Int(0, help="number of the last event this widget wrote (0: none yet)")

    def __init__(self, store, findings=None, run_id=None, finding_id="", by=""):
        self.store = store
        self.run_id = run_id
        self._rows = {} if findings is None else {r["finding_id"]: r for r in findings.to_dict("records")}
        self.header = W.HTML()
        self.status_label = W.HTML()
        self.by_box = W.Text(description="审核人", placeholder="auditor's name")
        self.note_box = W.Textarea(description="备注", placeholder="note", layout=W.Layout(width="100%"))
        self.recovered_box = W.Text(description="追回(元)", placeholder="recovered, yuan")
        self.action_boxes = {name: W.Checkbox(description=f"{zh} {name}", indent=False) for name, zh in ACTIONS.items()}
        self.fine_box = W.Text(description="罚款(元)", placeholder="fine, yuan")
        self.confirm_button = W.Button(description="确认违规 confirm", button_style="danger")
        self.dismiss_button = W.Button(description="排除 dismiss", button_style="success")
        self.reopen_button = W.Button(description="重新打开 reopen")
        self.message = W.HTML()
        self.history = W.HTML()
        self.confirm_button.on_click(lambda _: self.decide("confirmed"))
        self.dismiss_button.on_click(lambda _: self.decide("dismissed"))
        self.reopen_button.on_click(lambda _: self.decide("open"))
        super().__init__([
            self.header, self.status_label, self.by_box, self.note_box,
            W.HBox([self.recovered_box, self.fine_box]), W.HBox(list(self.action_boxes.values())),
            W.HBox([self.confirm_button, self.dismiss_button, self.reopen_button]), self.message, self.history,
        ])
        T.link((self.by_box, "value"), (self, "by"))
        self.observe(lambda _: self.load(), ["finding_id"])
        self.by = by
        self.finding_id = finding_id
        self.load()

    def _state(self):
        try:
            return self.store.state(self.finding_id)
        except WorkbenchError as e:
            self._error(e)
            return None

    def load(self):
        """Show the finding, fill the controls with its current state, and its history."""
        fid = self.finding_id.strip()
        self.message.value = ""
        row = self._rows.get(fid)
        self.header.value = "" if not fid else (
            f"<b>{html.escape(fid)}</b>" + ("" if row is None else
                                             f" · {html.escape(_text(row.get('rule_id')))} · {html.escape(_text(row.get('fixmedins_code')))}"
                                             f" · 涉及金额 ¥{html.escape(_text(row.get('amount_at_risk')))}"
                                             f"<br>{html.escape(_text(row.get('detail')))}"))
        state = self._state() if fid else None
        self.status = state["status"] if state else ""
        self.status_label.value = ("" if not fid else
                                   f"当前状态 status: <b>{STATUS_ZH[self.status]} ({self.status})</b>" if state else
                                   "当前状态 status: 未处理 (undecided)")
        actions = {a["action"]: a for a in (state["actions"] if state else [])}
        self.note_box.value = _text(state["note"]) if state else ""
        self.recovered_box.value = _money(state["recovered_fen"]) if state else ""
        for name, box in self.action_boxes.items():
            box.value = name in actions
        self.fine_box.value = _money(actions["fine"].get("amount_fen")) if "fine" in actions else ""
        for b in (self.confirm_button, self.dismiss_button, self.reopen_button):
            b.disabled = not fid
        self._show_history(fid)

    def _show_history(self, fid):
        if not fid:
            self.history.value = ""
            return
        try:
            hist = self.store.history(fid)
        except WorkbenchError as e:
            self._error(e)
            return
        if not len(hist):
            self.history.value = "<p>无处理记录 no decision yet</p>"
            return
        hist = hist.assign(status=[f"{STATUS_ZH[s]} {s}" for s in hist["status"]])
        head = "".join(f"<th>{h}</th>" for h in HISTORY_LABELS.values())
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_text(r[c]))}</td>" for c in HISTORY_LABELS) + "</tr>"
                       for r in hist.to_dict("records"))
        self.history.value = f"<h4>处理记录 history</h4><table class='wb-table'><tr>{head}</tr>{body}</table>"

    def decide(self, status: str):
        """Record ``status`` with the controls' values; show the outcome (errors included)."""
        fid = self.finding_id.strip()
        state = self._state()
        checked = [n for n, b in self.action_boxes.items() if b.value]
        recovered = self.recovered_box.value.strip() or ("0" if state and state["recovered_fen"] else None)
        fine = self.fine_box.value.strip() if "fine" in checked else None
        row = self._rows.get(fid)
        finding = None if row is None else {**row, **({"run_id": self.run_id} if self.run_id else {})}
        try:
            if status == "dismissed":  # a dismissal clears money and actions (kept in the event's previous state)
                e = self.store.decide(fid, status, self.by, note=self.note_box.value, finding=finding)
            else:
                e = self.store.decide(fid, status, self.by, note=self.note_box.value, recovered=recovered,
                                      actions=checked, fine=fine or None, finding=finding)
        except WorkbenchError as err:
            self._error(err)
            return
        self.load()
        self.last_seq = e["seq"]
        self.message.value = (f"<span style='color:#1a7f37'>已记录 recorded: {STATUS_ZH[status]} ({status}), "
                              f"event {e['seq']}</span>")

    def _error(self, err):
        self.message.value = f"<span style='color:#b00020'>未记录 not recorded: {html.escape(str(err))}</span>"


def _money(fen) -> str:
    from workbench.cases import yuan

    return "" if fen is None else str(yuan(fen))


# --------------------------------------------------------------------------- the worklist (issue 19, item 7)
WAITING_ZH = {"rectify": "整改期限", "appeal": "申诉复核期限", "verify": "待核查", "handle": "待处理"}
WORKLIST_CSS = """<style>
.wb-work { font-size: 16px; }
.wb-work .wb-case { background: #f3f6fa; border-left: 5px solid #1f4e79; padding: 8px 12px; margin-top: 8px; }
.wb-work .wb-clear { font-size: 18px; color: #1e6b3a; margin: 6px 0; }
.wb-work .wb-late { font-size: 18px; color: #b00020; margin: 6px 0; }
</style>"""


WORKLIST_COLUMNS = ("涉及机构", "线索来源", "立案日期", "下一期限", "事项", "逾期天数", "最近一步")
# an overdue row is red across: the grid's renderers read the row's own 逾期天数
OVERDUE_BACKGROUND = "cell.metadata.data['逾期天数'] > 0 ? '#fdecea' : '#ffffff'"


def worklist_head(rows, today: str) -> str:
    """The line above the worklist: how many cases are overdue on ``today`` (清零: none)."""
    late = sum(1 for r in rows if r["overdue_days"])
    return (f"<div class='wb-late' data-overdue='{late}' data-rows='{len(rows)}'>在办 {len(rows)} 件，逾期 {late} 件，"
            f"请尽快处理（清零）</div>" if late else
            f"<div class='wb-clear' data-overdue='0' data-rows='{len(rows)}'>在办 {len(rows)} 件，无逾期事项（已清零） · "
            f"{html.escape(today)}</div>")


def worklist_frame(rows):
    """The worklist rows (:func:`workbench.cases.outcomes.worklist`) as the grid's table, in their
    order (overdue first): index ``case_id`` (案件编号), institutions, source, dates, what the
    case waits for, days overdue (0 when not), the last step; a pure mapping."""
    import pandas as pd
    from workbench.cases.lifecycle import CASE_ACTIONS, SOURCES

    data = {c: [] for c in WORKLIST_COLUMNS}
    for r in rows:
        for c, v in zip(WORKLIST_COLUMNS, (
                "、".join(r["institutions"]), SOURCES.get(r["source"], r["source"]), r["opened_on"],
                r["next_deadline"] or "—", WAITING_ZH.get(r["waiting"], r["waiting"]), int(r["overdue_days"]),
                f"{CASE_ACTIONS.get(r['last_action'], '立案')} {r['last_on']}")):
            data[c].append(v)
    frame = pd.DataFrame(data, index=pd.Index([r["case_id"] for r in rows], name="案件编号"))
    return frame.astype({"逾期天数": "int64"})


def case_html(state, row=None, position: int = -1) -> str:
    """One case as the worklist shows it when its row is clicked: what it is about (institutions,
    source, its findings by id and rule), where it stands and every step taken; codes only.
    ``position`` is its row in the grid's order now (-1: not listed), kept as ``data-row``."""
    from workbench.cases.lifecycle import CASE_ACTIONS, SOURCES

    facts = [("线索来源", SOURCES.get(state.source, state.source)), ("涉及机构", "、".join(state.institutions)),
             ("立案日期", state.opened_on), ("核查", "已核查" if state.verified else "待核查")]
    if row is not None:
        facts += [("下一期限", row["next_deadline"] or "—"), ("事项", WAITING_ZH.get(row["waiting"], row["waiting"])),
                  ("逾期天数", str(row["overdue_days"]) if row["overdue_days"] else "—")]
    items = "".join(f"<div><b>{html.escape(k)}</b>：{html.escape(_text(v))}</div>" for k, v in facts)
    found = "".join(f"<li>{html.escape(_text(f.get('finding_id')))} {html.escape(_text(f.get('rule_id')))} "
                    f"{html.escape(_text(f.get('fixmedins_code')))}</li>" for f in state.findings)
    steps = "".join(f"<li>{html.escape(_text(a['on']))} {html.escape(CASE_ACTIONS.get(a['data']['action'], a['data']['action']))}</li>"
                    for a in state.actions)
    return (f"<div class='wb-case' data-case='{html.escape(state.case_id)}' data-row='{position}' "
            f"data-findings='{len(state.findings)}'>"
            f"<h3>案件 {html.escape(state.case_id)}</h3>{items}"
            f"<h4>疑点 {len(state.findings)} 条</h4><ul>{found}</ul>"
            f"<h4>处理步骤</h4><ul>{steps or '<li>立案</li>'}</ul></div>")


class Worklist(W.VBox):
    """Open cases with their next deadline, overdue first (:func:`workbench.cases.outcomes.worklist`),
    as a data grid (sort and filter by any column, every case reachable); a clicked row shows
    that case below (``selected``).

    Parameters
    ----------
    store : workbench.cases.CaseStore
    today : str, optional
        The day the list is for (default today); the refresh button re-reads the store.
    case_id : str, optional
        The case shown first.
    """

    overdue = T.Int(0, help="open cases past their deadline on ``today``")
    selected = T.Unicode("", help="case_id of the case shown below the list ('' for none)")

    def __init__(self, store, today=None, case_id: str = ""):
        from workbench.cases.lifecycle import parse_day

        self.store, self.today = store, parse_day(today, "today")
        self.rows = []
        self.table = W.HTML()
        self.grid = KeyedGrid(worklist_frame([]), rows=10, widths={"涉及机构": 220, "最近一步": 200},
                              row_background=OVERDUE_BACKGROUND)
        self.grid.add_class("wb-worklist")
        self.detail = W.HTML()
        self.refresh_button = W.Button(description="刷新 refresh", icon="refresh", layout=W.Layout(width="auto"))
        self.refresh_button.on_click(lambda _: self.refresh())
        super().__init__([W.HTML(WORKLIST_CSS), W.HTML("<h2>待办清单 · 在办案件</h2>"), self.refresh_button, self.table,
                          self.grid, self.detail])
        self.add_class("wb-work")
        T.link((self.grid, "selected"), (self, "selected"))
        self.refresh()
        self.selected = case_id

    def refresh(self):
        """Re-read the store and redraw the list (errors are shown, never raised)."""
        from workbench.cases.outcomes import worklist

        try:
            rows = worklist(self.store, self.today)
        except WorkbenchError as e:
            self.table.value = f"<p class='wb-error'>{html.escape(str(e))}</p>"
            return
        self.rows = rows
        self.overdue = sum(1 for r in rows if r["overdue_days"])
        self.table.value = worklist_head(rows, self.today) + ("" if rows else "<p>没有在办案件。</p>")
        self.grid.set_frame(worklist_frame(rows))
        self.grid.layout.display = "" if rows else "none"
        self._show(self.selected)

    def listed(self) -> list:
        """The case ids in the grid's order now (its own sort and filter applied)."""
        return self.grid.listed()

    @T.observe("selected")
    def _selected(self, change):
        self._show(change["new"])

    def _show(self, cid):
        from workbench.cases.casework import cases

        if not cid:
            self.detail.value = ("<p class='wb-note'>点击一行查看案件 (click a case to see it)</p>" if self.rows else "")
            return
        try:
            state = cases(self.store).get(cid)
        except WorkbenchError as e:
            self.detail.value = f"<p class='wb-error'>{html.escape(str(e))}</p>"
            return
        if state is None:
            self.detail.value = f"<p class='wb-error'>没有案件 {html.escape(cid)} (no such case)</p>"
            return
        row = next((r for r in self.rows if r["case_id"] == cid), None)
        listed = self.listed()
        self.detail.value = case_html(state, row, listed.index(cid) if cid in listed else -1)


def worklist_dashboard(home=None, today=None, case_id: str = ""):
    """The case dashboard's worklist of the store of ``home`` (default ``$WORKBENCH_HOME``),
    showing case ``case_id`` first when given."""
    from workbench.cases import CaseStore

    try:
        return Worklist(CaseStore(home), today=today or None, case_id=case_id or "")
    except WorkbenchError as e:
        return W.HTML(f"<p style='color:#b00020;font-size:18px'>{html.escape(str(e))}</p>")


# --------------------------------------------------------------------------- open a case (issue 19, item 1)
class OpenCase(W.VBox):
    """"Open a case" from the lead a dashboard shows: a finding, an institution, a ring.

    The host widget says what the lead is (:meth:`set_lead`); the button calls
    :func:`workbench.cases.casework.open_case` (what ``workbench case open`` calls) with the
    auditor's name from the text box and shows the new case id. Errors (no name, a finding of
    another institution) are shown, never raised.

    Parameters
    ----------
    store : workbench.cases.CaseStore
    source : str
        The lead's kind (``rule``, ``providers``, ``rings``, ``stays``: :data:`workbench.cases.lifecycle.SOURCES`).
    by : str
        The auditor's name the text box starts with.
    run : path, optional
        The run folder the lead's findings are in (their facts are kept with the case).
    """

    case_id = T.Unicode("", help="the case opened last ('' before the first)")
    by = T.Unicode("", help="the auditor's name the case is opened by")

    def __init__(self, store, source, by="", run=None):
        from workbench.cases.lifecycle import SOURCES

        self.store, self.source, self.run = store, source, run
        self.institutions, self.findings, self.lead_note = [], [], ""
        self.lead_label = W.HTML()
        self.by_box = W.Text(description="审核人", placeholder="auditor's name")
        self.note_box = W.Text(description="备注", placeholder="note", layout=W.Layout(width="32em"))
        self.open_button = W.Button(description="立案 open a case", icon="folder-open", button_style="warning",
                                    layout=W.Layout(width="auto"))
        self.message = W.HTML()
        self.open_button.on_click(lambda _: self.open_case())
        super().__init__([W.HTML(f"<h4>立案 · 线索来源：{html.escape(SOURCES.get(source, source))}</h4>"), self.lead_label,
                          W.HBox([self.by_box, self.note_box, self.open_button]), self.message])
        self.add_class("wb-open-case")
        T.link((self.by_box, "value"), (self, "by"))
        self.by = by
        self.set_lead([])

    def set_lead(self, institutions, findings=(), note: str = "", label: str = ""):
        """What a click opens a case about: institution codes, finding ids, a note kept with it."""
        self.institutions, self.findings, self.lead_note = list(institutions), list(findings), note
        self.open_button.disabled = not self.institutions
        self.lead_label.value = (f"<div class='wb-lead'>{html.escape(label)}</div>" if label else
                                 "<div class='wb-lead'>无可立案的线索 (nothing to open a case about)</div>")

    def open_case(self) -> str:
        """Open the case (the button calls this); return its id, or '' when it was refused."""
        from workbench.cases.casework import open_case

        typed = self.note_box.value.strip()
        note = "；".join(x for x in (self.lead_note, typed) if x) or None
        try:
            e = open_case(self.store, self.institutions, self.source, self.by, findings=self.findings, run=self.run,
                          note=note)
        except WorkbenchError as err:
            self.message.value = f"<span style='color:#b00020'>未立案 not opened: {html.escape(str(err))}</span>"
            return ""
        self.case_id = e["subject"]
        self.note_box.value = ""
        n = len(e["data"]["findings"])
        self.message.value = (f"<span style='color:#1a7f37' data-case='{html.escape(self.case_id)}'>已立案 opened: "
                              f"<b>{html.escape(self.case_id)}</b>（{html.escape('、'.join(e['data']['institutions']))}，"
                              f"疑点 {n} 条，event {e['seq']}）</span>")
        return self.case_id
