"""The findings queue dashboard: filter a run's findings, open one, read its evidence, decide it.

:class:`FindingsView` takes a :class:`workbench.queue.FindingsQueue` and displays it. The filters
are traits (``rule``, ``county``, ``institution``, ``result_type``, ``status``, ``min_amount``);
any change calls :meth:`workbench.queue.FindingsQueue.filter` and lists the first ``limit``
matches, most money first. ``selected`` is the finding opened below the list: its facts, its
evidence rows (personal data masked, :func:`workbench.evidence.evidence_rows`) and, when the case
store widgets are installed, the decision controls of :class:`widgets.cases.CaseControls`.
``filter_ms`` is how long the last filter took in Python (the benchmark reads it).
"""
from __future__ import annotations

import html
import time

import ipywidgets as W
import traitlets as T

from workbench import i18n
from workbench.errors import WorkbenchError
from workbench.i18n import t

EVIDENCE_ROWS = 20  # rows shown per evidence table
CSS = """<style>
.wb-queue { font-size: 16px; }
.wb-queue .wb-summary { font-size: 17px; margin: 6px 0; color: #1b2733; }
.wb-queue select { font-family: "Noto Sans Mono CJK SC", "Noto Sans Mono", monospace; font-size: 15px; }
.wb-queue table.wb-ev { border-collapse: collapse; font-size: 14px; margin-bottom: 8px; }
.wb-queue table.wb-ev th { background: #e4ebf2; padding: 4px 8px; text-align: left; }
.wb-queue table.wb-ev td { padding: 3px 8px; border-bottom: 1px solid #e4e7eb; }
.wb-queue .wb-error { color: #b00020; }
.wb-queue .wb-finding { background: #f3f6fa; border-left: 5px solid #1f4e79; padding: 8px 12px; }
</style>"""


def display_width(text: str) -> int:
    """Columns a string takes in a CJK monospace font (CJK and full-width characters count 2)."""
    return sum(2 if ord(ch) >= 0x1100 and (ord(ch) <= 0x115F or 0x2E80 <= ord(ch) <= 0xFFDC) else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """``text`` cut or padded with spaces to exactly ``width`` display columns (a cut ends with ``..``)."""
    text = "" if text is None else str(text)
    if display_width(text) > width:
        out = ""
        for ch in text:
            if display_width(out + ch) > width - 2:
                break
            out += ch
        text = out + ".."  # not "…": its width differs between CJK and Latin monospace fonts
    return text + " " * (width - display_width(text))


def row_label(row: dict, lang: str = "zh") -> str:
    """One line of the queue: money, result type, rule, institution, status, aligned in columns."""
    amount = f"¥{row['amount_at_risk']:,}"
    rule = row["rule_name_zh"] if lang == "zh" else row["rule_name_en"]
    inst = row.get("fixmedins_name") or row.get("fixmedins_code") or (row.get("psn_no") or row.get("dr_code") or "—")
    status = t(f"status_{row['status']}", lang)
    return "  ".join([amount.rjust(14), pad(t(row["result_type"], lang), 8), pad(rule, 28), pad(inst, 30),
                      pad(row.get("county") or "", 10), status])


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
    limit : int
        How many matching findings the list shows.
    by : str
        The auditor's name the decision controls start with.
    """

    rule = T.Unicode("", help="rule_id to keep ('' = every rule)")
    county = T.Unicode("", help="admdvs of the institution's county ('' = all)")
    institution = T.Unicode("", help="fixmedins_code ('' = all)")
    result_type = T.Unicode("", help="suspicious or violation ('' = both)")
    status = T.Unicode("", help="undecided, open, confirmed or dismissed ('' = any)")
    min_amount = T.Unicode("", help="minimum money at risk, yuan, as text ('' = none)")
    selected = T.Unicode("", help="finding_id of the finding opened below the list")
    matched = T.Int(0, help="how many findings match the filters")
    filter_ms = T.Float(0.0, help="milliseconds the last filter took in Python")

    def __init__(self, queue, store=None, lang: str = "zh", limit: int = 50, by: str = ""):
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
        self.summary = W.HTML()
        self.list = W.Select(options=[], rows=16, layout=W.Layout(width="100%"))
        self.detail = W.HTML()
        self.evidence_html = W.HTML()
        self.decision = W.VBox()
        filters = W.HBox([self.rule_box, self.county_box, self.institution_box, self.result_box, self.status_box,
                          self.amount_box], layout=W.Layout(flex_flow="row wrap"))
        super().__init__([W.HTML(CSS), filters, self.summary,
                          self.list, self.detail, self.evidence_html, self.decision])
        self.add_class("wb-queue")
        for box, name in ((self.rule_box, "rule"), (self.county_box, "county"), (self.result_box, "result_type"),
                          (self.status_box, "status"), (self.amount_box, "min_amount")):
            T.link((box, "value"), (self, name))
        self.institution_box.observe(self._institution_typed, "value")
        self.list.observe(self._picked, "value")
        self._ready = True
        self.refresh()

    _ready = False

    # -------------------------------------------------------------- filtering
    def _institution_typed(self, change):
        text = (change["new"] or "").strip()
        if not text or text in self._institutions:
            self.institution = self._institutions.get(text, "")

    @T.observe("rule", "county", "institution", "result_type", "status", "min_amount")
    def _filters_changed(self, _):
        if self._ready:
            self.refresh()

    def refresh(self):
        """Apply the filters: list the first matches and say how many match and how much money."""
        t0 = time.perf_counter()
        try:
            sel = self.queue.filter(limit=self.limit, rule=self.rule or None, county=self.county or None,
                                    institution=self.institution or None, result_type=self.result_type or None,
                                    status=self.status or None, min_amount=self.min_amount or None)
        except WorkbenchError as e:
            self.summary.value = f"<span class='wb-error'>{html.escape(t('bad_amount', self.lang) + str(e))}</span>"
            return
        rows = sel.rows.to_dict("records")
        keep = self.selected if any(r["finding_id"] == self.selected for r in rows) else None
        self.list.options = [(row_label(r, self.lang), r["finding_id"]) for r in rows]
        self.list.value = keep
        self.matched = sel.count
        self.summary.value = "<div class='wb-summary'>" + html.escape(t(
            "shown_of", self.lang, n=f"{sel.count:,}", total=f"{len(self.queue):,}",
            amount=i18n.money(sel.amount_at_risk, self.lang), shown=len(rows))) + "</div>"
        self.filter_ms = (time.perf_counter() - t0) * 1000
        if keep is None:
            self.selected = ""

    # -------------------------------------------------------------- one finding
    def _picked(self, change):
        self.selected = change["new"] or ""

    @T.observe("selected")
    def _open(self, change):
        fid = change["new"]
        if not fid:
            self.detail.value = f"<p class='wb-note'>{html.escape(t('select_finding', self.lang))}</p>"
            self.evidence_html.value = ""
            self.decision.children = []
            return
        if self.list.value != fid and fid in {v for _, v in self.list.options}:
            self.list.value = fid
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
        controls.observe(lambda ch: setattr(self, "by", ch["new"]), "by")
        controls.observe(lambda _: self._decided(row["finding_id"], controls.status), "last_seq")
        return [W.HTML(f"<h3>{html.escape(t('decision', self.lang))}</h3>"), controls]

    def _decided(self, fid, status):
        self.queue.set_status(fid, status or "undecided")
        self.refresh()


def findings_dashboard(run, data=None, lang: str = "zh", limit: int = 50, by: str = "", finding_id: str = "", home=None):
    """The findings queue of ``run`` with decisions into the case store, or a note naming what is missing."""
    from widgets.briefing import error_note
    from workbench.cases import CaseStore
    from workbench.queue import FindingsQueue

    try:
        view = FindingsView(FindingsQueue(run, data=data, home=home), store=CaseStore(home), lang=lang, limit=limit, by=by)
    except WorkbenchError as e:
        return error_note(e, lang)
    view.selected = finding_id
    return view
