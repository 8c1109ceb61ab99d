"""The readable report of an evidence pack: HTML (Chinese, an English line per section) and XLSX.

Both are pure functions of the pack's content (``ctx``: ``meta`` — the pack.json, ``manifest``,
``findings``, ``evidence`` (table → rows), ``rules`` (the basis table), ``decisions`` (events) and
``current`` (each finding's current state)), so the report shows exactly what the pack holds.
"""
from __future__ import annotations

import datetime as _dt
import html
import io
from decimal import Decimal

import pandas as pd

from .. import schema
from ..cases import ACTIONS, STATUS_ZH

RESULT_ZH = {"suspicious": "可疑", "violation": "明确违规"}
FINDING_HEADERS = {
    "finding_id": "编号 ID", "rule_id": "规则 rule", "official_code": "规则编码 code", "result_type": "结果类型 type",
    "fixmedins_code": "定点机构 institution", "dr_code": "医师 doctor", "psn_no": "参保人 person",
    "mdtrt_id": "就诊ID visit", "amount_at_risk": "涉及金额(元) at risk", "detail": "说明 detail",
    "status": "处理状态 decision",
}
DECISION_HEADERS = {
    "seq": "序号 seq", "finding_id": "编号 finding", "at": "时间(UTC) at", "by": "审核人 by", "status": "决定 status",
    "note": "备注 note", "recovered": "追回金额(元) recovered", "actions": "处理措施 actions", "fine": "罚款(元) fine",
    "hash": "事件哈希 hash",
}
RULE_HEADERS = {
    "rule_id": "规则 rule", "official_code": "规则编码 code", "name_zh": "名称", "name_en": "name",
    "result_type": "结果类型 type", "version": "版本 version", "definition_hash": "定义哈希 definition SHA-256",
    "params": "参数 parameters", "basis": "政策依据 policy basis",
}
CSS = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #999}
p.en{color:#666;margin-top:-.6em;font-size:.9em}table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
td,th{border:1px solid #bbb;padding:2px 6px;vertical-align:top;overflow-wrap:anywhere;min-width:4.5em}th{background:#eef}td.num{text-align:right}
.pii{color:#a00;font-weight:bold}"""


def _missing(v) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def cell_text(v) -> str:
    """A value as the report shows it: '' for null, money with 2 decimals, dates ISO."""
    if _missing(v):
        return ""
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if isinstance(v, _dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, _dt.date):
        return v.isoformat()
    return str(v)


def column_label(table: str, col: str) -> str:
    """``费用发生时间 fee_ocur_time`` for a contract column, the name otherwise."""
    t = schema.TABLES.get(table)
    if t is not None and col in t.column_names:
        return f"{t.column(col).zh} {col}"
    return {"evidence_key": "证据键 evidence key", "finding_ids": "对应发现 findings"}.get(col, col)


def findings_view(ctx) -> pd.DataFrame:
    """The findings with their decision status, result type in Chinese."""
    f = ctx["findings"].copy()
    status = dict(zip(ctx["current"]["finding_id"], ctx["current"]["status"]))
    f["status"] = [f"{STATUS_ZH[status[i]]} {status[i]}" if i in status else "未处理 undecided" for i in f["finding_id"]]
    f["result_type"] = [f"{RESULT_ZH.get(r, r)} {r}" for r in f["result_type"]]
    return f[list(FINDING_HEADERS)]


def decisions_view(ctx) -> pd.DataFrame:
    d = ctx["decisions"].copy()
    d["status"] = [f"{STATUS_ZH.get(s, s)} {s}" for s in d["status"]]
    d["actions"] = ["、".join(ACTIONS[a] for a in s.split(";")) + f" ({s})" if s else "" for s in d["actions"]]
    return d


def _selection_text(sel: dict) -> str:
    return "; ".join(f"{k}={v if not isinstance(v, list) else ','.join(v)}" for k, v in sel.items() if v) or "全部 all"


def summary_rows(ctx) -> list:
    """(label, value) pairs of the summary section."""
    meta, m = ctx["meta"], ctx["manifest"]
    sel = meta["selection"]
    chosen = _selection_text(sel)
    pii = meta["pii"]
    tables = ", ".join(f"{t} {h[:12]}…" for t, h in sorted(meta["data"]["tables"].items()))
    return [
        ("运行编号 run id", meta["run"]["run_id"]),
        ("运行时间 run time (UTC)", f"{m.get('started')} – {m.get('ended')}"),
        ("引擎 engine", m.get("engine")),
        ("数据目录 data folder", meta["data"]["folder"]),
        ("数据指纹 input SHA-256", tables),
        ("范围 selection", chosen),
        ("发现数 findings", str(meta["counts"]["findings"])),
        ("涉及金额(元) money at risk", meta["counts"]["amount_at_risk"]),
        ("处理事件 decision events", str(meta["counts"]["decisions"])),
        ("个人信息 personal data", f"已包含，申请人 {pii['requested_by']} — INCLUDED at the request of {pii['requested_by']}"
         if pii["included"] else "已脱敏 masked: 身份证号隐藏、姓名仅留姓、出生日期仅留年份 (certno hidden, names 张*, birth dates to the year)"),
        ("审计轨迹 case trail", f"{'完整 intact' if meta['case_store']['intact'] else '已损坏 BROKEN'}, "
                             f"head {meta['case_store']['head_seq']} {meta['case_store']['head_hash'][:16]}"),
        ("导出时间 exported (UTC)", meta["created"]),
        ("导出人 exported by", meta["exported_by"]),
    ]


def _html_table(df: pd.DataFrame, headers) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for v in row:
            cls = " class='num'" if isinstance(v, Decimal) else ""
            cells.append(f"<td{cls}>{html.escape(cell_text(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _section(zh: str, en: str, content: str) -> str:
    return f"<h2>{html.escape(zh)}</h2>\n<p class='en'>{html.escape(en)}</p>\n{content}\n"


def render_html(ctx) -> str:
    """The report as one self-contained HTML page."""
    meta = ctx["meta"]
    summary = "<table>" + "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                                  for k, v in summary_rows(ctx)) + "</table>"
    if meta["pii"]["included"]:
        summary = (f"<p class='pii'>本底稿含未脱敏个人信息，申请人：{html.escape(str(meta['pii']['requested_by']))}。"
                   f" This pack contains unmasked personal data.</p>") + summary
    fv = findings_view(ctx)
    evidence_html = "".join(
        f"<h3>{html.escape(schema.TABLES[t].zh if t in schema.TABLES else t)} {html.escape(t)} ({len(df)})</h3>"
        + _html_table(df, [column_label(t, c) for c in df.columns])
        for t, df in sorted(ctx["evidence"].items())) or "<p>无 none</p>"
    dv = decisions_view(ctx)
    sel = meta["selection"]
    how = ("<pre>workbench reproduce PACK.zip --data DATA</pre><p>用本底稿中的规则文件、参数与运行清单，在同一数据上重新计算"
           "并逐条比对发现；输入表指纹（SHA-256）不同时指明变化的表。</p>"
           "<p class='en'>Re-runs the pack's own rule files with the recorded parameters on DATA and compares every "
           f"finding of the selection ({html.escape(_selection_text(sel))}).</p>")
    parts = [
        f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>审计底稿 Evidence pack "
        f"{html.escape(meta['run']['run_id'])}</title><style>{CSS}</style></head><body>",
        "<h1>医保基金监管审计底稿</h1><p class='en'>Medical-insurance fund audit: evidence pack</p>",
        _section("一、概要", "1. Summary: the run, the data it read, what this pack holds", summary),
        _section("二、发现", f"2. Findings ({len(fv)}): one row per finding, money at risk is the fund's share",
                 _html_table(fv, list(FINDING_HEADERS.values()))),
        _section("三、证据", "3. Evidence: the rows behind the findings, per table", evidence_html),
        _section("四、规则与政策依据", "4. Rules and policy basis: each rule's definition is in rules/library",
                 _html_table(ctx["rules"], list(RULE_HEADERS.values()))),
        _section("五、处理决定", "5. Decisions: the case-store events on these findings, oldest first",
                 _html_table(dv, list(DECISION_HEADERS.values())) if len(dv) else "<p>尚无处理决定 none yet</p>"),
        _section("六、复现", "6. How to reproduce", how),
        "</body></html>",
    ]
    return "\n".join(parts)


def _sheet_name(name: str, used: set) -> str:
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31]
    out, n = clean, 2
    while out in used:
        out = f"{clean[:28]}~{n}"
        n += 1
    used.add(out)
    return out


def _put(ws, r, c, v):
    """Write a value: Decimal as a number with 2 decimals, text never read as a formula."""
    if _missing(v):
        return
    if isinstance(v, Decimal):
        cell = ws.cell(r, c, v)
        cell.number_format = "0.00"
        return
    if isinstance(v, (bool, int, float)) and not isinstance(v, bool):
        ws.cell(r, c, v)
        return
    cell = ws.cell(r, c, cell_text(v))
    cell.data_type = "s"  # a value starting with "=" stays text, never a formula


def _frame_sheet(wb, title, df, headers, used):
    from openpyxl.styles import Font

    ws = wb.create_sheet(_sheet_name(title, used))
    for j, h in enumerate(headers, 1):
        ws.cell(1, j, h).font = Font(bold=True)
    for i, row in enumerate(df.itertuples(index=False), 2):
        for j, v in enumerate(row, 1):
            _put(ws, i, j, v)
    ws.freeze_panes = "A2"
    for j, h in enumerate(headers, 1):
        width = max([len(str(h))] + [len(cell_text(v)) for v in df.iloc[:200, j - 1]]) if len(df) else len(str(h))
        ws.column_dimensions[ws.cell(1, j).column_letter].width = min(60, max(8, width + 2))
    return ws


def write_xlsx(ctx) -> bytes:
    """The report as an Excel workbook: summary, findings, one sheet per evidence table, rules, decisions."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    used = {"概要 Summary"}
    ws.title = "概要 Summary"
    ws.cell(1, 1, "医保基金监管审计底稿 Medical-insurance fund audit: evidence pack").font = Font(bold=True)
    for i, (k, v) in enumerate(summary_rows(ctx), 3):
        ws.cell(i, 1, k).font = Font(bold=True)
        _put(ws, i, 2, v)
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 28, 90
    _frame_sheet(wb, "发现 Findings", findings_view(ctx), list(FINDING_HEADERS.values()), used)
    for t, df in sorted(ctx["evidence"].items()):
        zh = schema.TABLES[t].zh if t in schema.TABLES else ""
        _frame_sheet(wb, f"证据 {zh} {t}", df, [column_label(t, c) for c in df.columns], used)
    _frame_sheet(wb, "规则 Rules", ctx["rules"], list(RULE_HEADERS.values()), used)
    _frame_sheet(wb, "处理决定 Decisions", decisions_view(ctx), list(DECISION_HEADERS.values()), used)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
