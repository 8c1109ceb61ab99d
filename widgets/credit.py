"""Look up a doctor's integrity points or an institution's credit class, with its history.

The widget takes a :class:`workbench.credit.CreditReport` and asks it
(``report.doctor(code)`` / ``report.institution(code)``); it computes nothing.
"""
from __future__ import annotations

import html

import ipywidgets as W
import traitlets as T

from workbench.credit import STATUS_ZH

_LABELS = {
    "dr_code": "医师代码", "fixmedins_code": "机构编码", "year": "记分年度", "points": "已记分", "remaining": "剩余分值",
    "status": "医保支付资格", "findings": "确认违规数", "last_change": "最近变动", "credit_class": "信用等级",
    "since": "评定日期", "amount_at_risk": "涉及金额(元)", "share": "占统筹基金支出", "peer_ratio": "同类机构倍数",
    "finding_ids": "依据(违规编号)", "reason": "理由", "date": "日期", "points_before": "变动前记分",
    "points_after": "变动后记分", "status_before": "变动前资格", "status_after": "变动后资格", "class_before": "原等级",
    "class_after": "新等级", "new": "新增依据", "expired": "到期依据",
}


class CreditLookup(W.VBox):
    """Enter a doctor's or an institution's code; see the current standing and the history.

    Parameters
    ----------
    report : workbench.credit.CreditReport
    kind : {"institution", "doctor"}
    code : str
    """

    kind = T.Enum(["institution", "doctor"], "institution", help="look up an institution or a doctor")
    code = T.Unicode("", help="fixmedins_code or dr_code to look up")
    found = T.Bool(False, help="whether the code has a credit record")

    def __init__(self, report, kind="institution", code=""):
        self.report = report
        self.kind_buttons = W.ToggleButtons(options=[("机构 institution", "institution"), ("医师 doctor", "doctor")])
        self.code_box = W.Text(description="编码", placeholder="机构编码 / 医师代码", continuous_update=False)
        self.current = W.HTML()
        self.history = W.HTML()
        super().__init__([W.HBox([self.kind_buttons, self.code_box]), self.current, self.history])
        T.link((self.kind_buttons, "value"), (self, "kind"))
        T.link((self.code_box, "value"), (self, "code"))
        self.observe(lambda _: self.show(), ["kind", "code"])
        self.kind, self.code = kind, code
        self.show()

    def show(self):
        """Ask the report about ``code`` and show its standing and history."""
        code = self.code.strip()
        if not code:
            self.found, self.current.value, self.history.value = False, "", ""
            return
        res = self.report.doctor(code) if self.kind == "doctor" else self.report.institution(code)
        cur = res["current"]
        self.found = cur is not None
        if cur is None:
            self.current.value = f"<p>{html.escape(code)}：截至 {self.report.as_of} 无确认的违规记录 (no confirmed finding)</p>"
        else:
            if "status" in cur:
                cur = {**cur, "status": f"{STATUS_ZH.get(cur['status'], cur['status'])} ({cur['status']})"}
            items = "".join(f"<tr><th style='text-align:left;padding:2px 12px'>{_LABELS.get(k, k)}</th>"
                            f"<td>{html.escape('' if v is None else str(v))}</td></tr>" for k, v in cur.items())
            head = "信用等级" if self.kind == "institution" else "诚信记分"
            self.current.value = f"<h3>{head} · 截至 {self.report.as_of}</h3><table>{items}</table>"
        hist = res["history"]
        self.history.value = ("<h4>变动记录 history</h4>" + hist.rename(columns=_LABELS).to_html(index=False, escape=True, na_rep="")
                              if len(hist) else "<p>无变动记录 no change recorded</p>")
