"""The rule library explorer: pick a rule and its thresholds, run it, sweep one threshold, and
read the evidence rows of a finding.

The widget computes nothing: :func:`workbench.rules.run_rule` finds, :func:`workbench.rules.sweep`
sweeps and :func:`workbench.evidence.evidence_rows` fetches the (masked) rows. Observe
``rule_id``, ``params`` and ``finding_id`` to follow what the auditor looks at.
"""
from __future__ import annotations

import html

import ipywidgets as W
import traitlets as T

from workbench import evidence, rules
from workbench.errors import WorkbenchError

_CONTROL = {"int": W.IntText, "float": W.FloatText, "bool": W.Checkbox, "str": W.Text}


def _table(df, max_rows=50) -> str:
    return df.head(max_rows).to_html(index=False, escape=True, border=0, classes="wb-table")


class RuleExplorer(W.VBox):
    """Run one rule of the library on a session, with its parameters as controls.

    Parameters
    ----------
    session : workbench.Session
    rule : str, optional
        Rule id selected at start (default: the first rule of the library).
    library : dict, optional
        Rules to choose from (default: the shipped library).
    """

    rule_id = T.Unicode(help="the selected rule")
    params = T.Dict(help="parameter values of the selected rule, as the controls show them")
    finding_id = T.Unicode("", help="the finding whose evidence is shown")
    n_findings = T.Int(0, help="findings of the last run")

    def __init__(self, session, rule=None, library=None):
        self.session = session
        self.library = library or rules.load_library()
        self.findings = None
        self.sweep_result = None
        ids = sorted(self.library)
        self.rule_picker = W.Dropdown(options=[(f"{i} · {self.library[i].name_zh}", i) for i in ids],
                                      value=rule or ids[0], description="规则 rule")
        self.info = W.HTML()
        self.controls = W.VBox()
        self.run_button = W.Button(description="运行 run", button_style="primary", icon="play")
        self.status = W.HTML()
        self.finding_picker = W.Select(options=[], rows=8, layout=W.Layout(width="100%"), description="线索 findings")
        self.evidence_out = W.HTML()
        self.sweep_param = W.Dropdown(description="参数 param")
        self.sweep_values = W.Text(description="取值 values", placeholder="7, 15, 30")
        self.sweep_button = W.Button(description="试算 sweep", icon="sliders")
        self.sweep_out = W.HTML()
        super().__init__([
            self.rule_picker, self.info, self.controls, self.run_button, self.status,
            self.finding_picker, self.evidence_out,
            W.HTML("<b>阈值试算 · threshold sweep</b>"),
            W.HBox([self.sweep_param, self.sweep_values, self.sweep_button]), self.sweep_out,
        ])
        self.rule_picker.observe(lambda ch: setattr(self, "rule_id", ch["new"]), "value")
        self.finding_picker.observe(lambda ch: setattr(self, "finding_id", ch["new"] or ""), "value")
        self.run_button.on_click(lambda _: self.run())
        self.sweep_button.on_click(lambda _: self.sweep())
        self.rule_id = self.rule_picker.value

    @property
    def rule(self):
        return self.library[self.rule_id]

    @T.observe("rule_id")
    def _rule_changed(self, change):
        r = self.library[change["new"]]
        self.rule_picker.value = r.id
        self.info.value = (f"<b>{html.escape(r.name_zh)}</b> · {html.escape(r.name_en)} · "
                           f"{html.escape(r.official_code or '地方规则 local')} · {r.tier} · {r.result_type}<br>"
                           f"<small>{html.escape(r.basis)}</small>")
        boxes = []
        for p in r.params.values():
            w = _CONTROL[p.type](value=p.default, description=p.name, tooltip=p.zh or p.en)
            w.observe(self._param_changed, "value")
            boxes.append(W.HBox([w, W.HTML(f"<small>{html.escape(p.zh)} · {html.escape(p.en)}</small>")]))
        self.controls.children = boxes
        self.sweep_param.options = [p.name for p in r.params.values() if p.type in ("int", "float")]
        self.params = {p.name: p.default for p in r.params.values()}
        self.findings, self.n_findings, self.finding_id = None, 0, ""
        self.finding_picker.options = []
        self.status.value = self.evidence_out.value = self.sweep_out.value = ""

    def _param_changed(self, change):
        self.params = {**self.params, change["owner"].description: change["new"]}

    def run(self):
        """Run the selected rule with the parameters shown; list its findings."""
        try:
            df = rules.run_rule(self.session, self.rule_id, params=self.params, library=self.library)
        except WorkbenchError as e:
            self.status.value = f"<span style='color:#b00'>{html.escape(str(e))}</span>"
            return
        self.findings = df
        self.n_findings = len(df)
        total = sum(df["amount_at_risk"]) if len(df) else 0
        self.status.value = f"命中 <b>{len(df):,}</b> 条线索，涉及统筹基金 <b>{total:,.2f}</b> 元 · {len(df):,} findings, fund at risk {total:,.2f} yuan"
        self.finding_picker.options = [(f"{r.detail}", r.finding_id) for r in df.itertuples()][:500]
        if len(df):
            self.finding_picker.value = df["finding_id"].iloc[0]

    @T.observe("finding_id")
    def _show_evidence(self, change):
        if not change["new"] or self.findings is None:
            self.evidence_out.value = ""
            return
        row = self.findings.loc[self.findings["finding_id"] == change["new"]].iloc[0]
        frames = evidence.evidence_rows(self.session, row["evidence"])
        parts = [f"<p>{html.escape(row['detail'])}<br><small>{html.escape(row['detail_en'])}</small></p>"]
        for table, df in frames.items():
            parts.append(f"<b>{table}</b> ({len(df)})" + _table(df))
        self.evidence_out.value = "".join(parts)

    def sweep(self, values=None):
        """Sweep the chosen parameter over ``values`` (default: the text box); show hits and money."""
        try:
            vals = values if values is not None else [v.strip() for v in self.sweep_values.value.split(",") if v.strip()]
            self.sweep_result = rules.sweep(self.session, self.rule_id, self.sweep_param.value, vals,
                                            params=self.params, library=self.library)
        except WorkbenchError as e:
            self.sweep_out.value = f"<span style='color:#b00'>{html.escape(str(e))}</span>"
            return
        self.sweep_out.value = _table(self.sweep_result)
