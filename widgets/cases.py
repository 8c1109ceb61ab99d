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
