"""``workbench briefing --from --to``: what enforcement achieved in a period, for a 新闻发布会.

The figures come from :class:`workbench.cases.outcomes.Outcomes` (every case, inspection and
decision in ``$WORKBENCH_HOME``, each by the date it happened). ``--json`` prints them as one
object (money as exact yuan numbers); ``--out FILE.xlsx`` / ``--out FILE.html`` write the
bureau's read-out: Chinese, the headline sentence (“检查定点医药机构 N 家、暂停医保协议 N 家 …”),
the figures, and the trend by month, county and rule. Nothing personal is in it: no auditor,
doctor, insured person or note — only counts, money, counties and rules.

Counties: ``--data DATA`` places each institution by its ``medins.admdvs``; without it, only the
county a lottery draw recorded with an inspection is known (``unplaced_institutions`` lists the
rest; ``--county`` then counts them nowhere).
"""
from __future__ import annotations

import html
import io
from decimal import Decimal
from pathlib import Path

from . import i18n
from .briefing import county_names, medins_counties, rule_names
from .cases import CaseStore
from .cases.outcomes import KEYS, MONEY, ZH, Outcomes, json_text
from .errors import CaseError
from .session import Session

SENTENCE = ("{period}，{where}共检查定点医药机构{inspected_institutions}家，暂停医保协议{suspended_institutions}家、"
            "解除医保协议{terminated_institutions}家，行政罚款{fined_institutions}家、罚款{fine_wan}万元，"
            "追回医保基金{recovered_wan}万元，曝光典型案例{exposed_cases}例，移送案件{referred_cases}例，"
            "约谈{interviews}次；期末在办案件{open_cases}例，逾期未整改{overdue_rectifications}项。")
CSS = """body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",sans-serif;color:#1b2733;margin:32px;}
h1{font-size:30px;color:#12365a;margin:0 0 6px}h2{font-size:22px;color:#12365a;border-left:6px solid #c0392b;padding-left:10px;margin-top:28px}
p.lead{font-size:20px;line-height:1.7}.sub{color:#52606d}
.tiles{display:flex;flex-wrap:wrap;gap:12px}.tile{flex:1 1 180px;background:#f3f6fa;border-top:5px solid #1f4e79;border-radius:8px;padding:12px 16px}
.tile b{display:block;font-size:32px;color:#12365a}.tile span{font-size:16px;color:#3e4c59}
table{border-collapse:collapse;font-size:16px;margin-top:8px}th{background:#1f4e79;color:#fff;padding:6px 10px;text-align:left}
td{padding:5px 10px;border-bottom:1px solid #d9e2ec}td.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:inline-block;height:12px;background:#c0392b;vertical-align:middle;margin-left:6px}"""
TABLE_KEYS = ["inspected_institutions", "suspended_institutions", "terminated_institutions", "fined_institutions",
              "fine_amount", "recovered_amount", "exposed_cases", "referred_cases", "interviews", "open_cases",
              "overdue_rectifications"]


def _zh_day(day: str) -> str:
    y, m, d = day.split("-")
    return f"{int(y)}年{int(m)}月{int(d)}日"


def period_zh(lo: str, hi: str) -> str:
    """``2025年1月1日至3月31日`` (the year again only when it changes)."""
    a, b = _zh_day(lo), _zh_day(hi)
    return f"{a}至{b if lo[:4] != hi[:4] else b.split('年', 1)[1]}"


def report(outcomes: Outcomes, date_from, date_to, county=None) -> dict:
    """Everything the read-out shows: ``figures``, ``by_month``, ``by_county``, ``by_rule``,
    ``sentence`` and ``title`` (Chinese); counties and rules carry their names."""
    figs = outcomes.figures(date_from, date_to, county)
    names, rules = county_names(), rule_names()
    where = "全市" if county is None else f"{names.get(str(county), str(county))}"
    sentence = SENTENCE.format(period=period_zh(figs["from"], figs["to"]), where=where,
                               fine_wan=i18n.wan(figs["fine_amount"]), recovered_wan=i18n.wan(figs["recovered_amount"]),
                               **{k: figs[k] for k in KEYS if k not in MONEY})
    by_county = [] if county is not None else [
        {"county": "未能确定区县" if r["admdvs"] is None else names.get(r["admdvs"], r["admdvs"]), **r}
        for r in outcomes.by_county(figs["from"], figs["to"])]
    by_rule = [{"name_zh": rules.get(r["rule_id"], (r["rule_id"],))[0], **r}
               for r in outcomes.by_rule(figs["from"], figs["to"], county)]
    return {"title": f"医保基金监管工作情况（{period_zh(figs['from'], figs['to'])}）", "where": where,
            "sentence": sentence, "figures": figs, "by_month": outcomes.by_month(figs["from"], figs["to"], county),
            "by_county": by_county, "by_rule": by_rule}


def _cell(v) -> str:
    return "" if v is None else (f"{v:,}" if isinstance(v, (int, Decimal)) and not isinstance(v, bool) else str(v))


def _table(rows, first: list, keys: list, heads: dict, bar=None) -> str:
    top = max([r[bar] for r in rows] + [Decimal(0)]) if bar and rows else 0
    out = ["<table><tr>" + "".join(f"<th>{html.escape(heads[k])}</th>" for k in first + keys) + "</tr>"]
    for r in rows:
        cells = "".join(f"<td>{html.escape(_cell(r[k]))}</td>" for k in first)
        for k in keys:
            extra = (f"<span class='bar' style='width:{int(160 * r[k] / top)}px'></span>"
                     if k == bar and top and r[k] > 0 else "")
            cells += f"<td class='n' data-key='{k}'>{html.escape(_cell(r[k]))}{extra}</td>"
        out.append(f"<tr>{cells}</tr>")
    return "\n".join(out) + "</table>"


def render_html(rep: dict) -> str:
    """The read-out as one HTML page (no script, nothing fetched)."""
    f = rep["figures"]
    tiles = "".join(f"<div class='tile' data-figure='{k}' data-value='{f[k]}'><b>"
                    f"{html.escape(i18n.money(f[k]) if k in MONEY else f'{f[k]:,}')}</b>"
                    f"<span>{html.escape(ZH[k])}</span></div>" for k in TABLE_KEYS)
    heads = {**ZH, "month": "月份", "county": "区县", "admdvs": "区划代码", "name_zh": "规则", "rule_id": "规则编号",
             "cases": "处理案件（例）", "institutions": "涉及机构（家）"}
    parts = [f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>{html.escape(rep['title'])}</title>"
             f"<style>{CSS}</style></head><body>", f"<h1>{html.escape(rep['title'])}</h1>",
             f"<p class='sub'>统计口径：按每项处理的实际发生日期计入（含起止日）；机构按家去重；“期末”指{html.escape(_zh_day(f['to']))}。</p>",
             f"<p class='lead'>{html.escape(rep['sentence'])}</p>", f"<div class='tiles'>{tiles}</div>",
             "<h2>按月趋势</h2>", _table(rep["by_month"], ["month"], TABLE_KEYS, heads, bar="recovered_amount")]
    if rep["by_county"]:
        parts += ["<h2>分区县情况</h2>", _table(rep["by_county"], ["county", "admdvs"], TABLE_KEYS, heads,
                                            bar="inspected_institutions")]
    if rep["by_rule"]:
        parts += ["<h2>按违规类型</h2>", _table(rep["by_rule"], ["name_zh", "rule_id"],
                                            ["cases", "institutions", "recovered_amount", "fine_amount"], heads,
                                            bar="recovered_amount")]
    if f["unplaced_institutions"]:
        parts.append(f"<p class='sub'>另有 {len(f['unplaced_institutions'])} 家机构未能确定所属区县。</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_xlsx(rep: dict) -> bytes:
    """The read-out as a workbook: 概要 (the sentence and figures), 按月, 分区县, 按违规类型."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "概要"
    ws.cell(1, 1, rep["title"]).font = Font(bold=True, size=14)
    ws.cell(2, 1, rep["sentence"])
    for i, k in enumerate(TABLE_KEYS, 4):
        ws.cell(i, 1, ZH[k])
        _num(ws, i, 2, rep["figures"][k])
    ws.column_dimensions["A"].width = 28
    heads = {**ZH, "month": "月份", "county": "区县", "admdvs": "区划代码", "name_zh": "规则", "rule_id": "规则编号",
             "cases": "处理案件（例）", "institutions": "涉及机构（家）"}
    for title, rows, cols in [("按月", rep["by_month"], ["month"] + TABLE_KEYS),
                              ("分区县", rep["by_county"], ["county", "admdvs"] + TABLE_KEYS),
                              ("按违规类型", rep["by_rule"], ["name_zh", "rule_id", "cases", "institutions",
                                                            "recovered_amount", "fine_amount"])]:
        if not rows:
            continue
        s = wb.create_sheet(title)
        for j, c in enumerate(cols, 1):
            s.cell(1, j, heads[c]).font = Font(bold=True)
            s.column_dimensions[s.cell(1, j).column_letter].width = max(10, 2 * len(heads[c]))
        for i, r in enumerate(rows, 2):
            for j, c in enumerate(cols, 1):
                _num(s, i, j, r[c])
        s.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _num(ws, r, c, v):
    if isinstance(v, Decimal):
        ws.cell(r, c, float(v)).number_format = "#,##0.00"  # money to the fen; well inside a double's 15 digits
    elif isinstance(v, int) or v is None:
        ws.cell(r, c, v)
    else:
        ws.cell(r, c, str(v)).data_type = "s"  # text stays text, never a formula


def outcomes_of(home=None, data=None) -> Outcomes:
    """The store's outcomes, placed in counties by ``data``'s ``medins`` when given."""
    counties = None
    if data is not None:
        with Session(data) as s:
            counties = medins_counties(s)
    return Outcomes.of_store(CaseStore(home), counties)


def register(s) -> None:
    """Declare the options of ``workbench briefing`` on its parser (``workbench.cli`` assembles them)."""
    s.add_argument("--from", dest="date_from", required=True, metavar="DATE", help="first day (YYYY-MM-DD), included")
    s.add_argument("--to", dest="date_to", required=True, metavar="DATE", help="last day (YYYY-MM-DD), included")
    s.add_argument("--county", default=None, metavar="ADMDVS", help="only institutions of this county (medins.admdvs)")
    s.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    s.add_argument("--out", default=None, metavar="FILE.xlsx|FILE.html", help="write the read-out (Chinese, no personal data)")
    s.add_argument("--data", default=None, metavar="DATA", help="data folder placing institutions in counties (medins.admdvs)")
    s.add_argument("--home", default=None, metavar="DIR", help="workbench home holding the case store")


def cli_briefing(args) -> int:
    """``workbench briefing --from DATE --to DATE [--county ADMDVS] [--json | --out FILE.xlsx|FILE.html]``."""
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".xlsx", ".html", ".htm"):
        raise CaseError(f"--out {out}: write FILE.xlsx or FILE.html")
    rep = report(outcomes_of(args.home, args.data), args.date_from, args.date_to, args.county)
    if args.json:
        print(json_text(rep["figures"]))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".xlsx":
            out.write_bytes(write_xlsx(rep))
        else:
            out.write_text(render_html(rep), encoding="utf-8")
        if not args.json:
            print(f"wrote {out}")
    if not args.json and out is None:
        print(rep["sentence"])
        if rep["figures"]["unplaced_institutions"]:
            print(f"note: {len(rep['figures']['unplaced_institutions'])} institution(s) in no known county "
                  "(give --data DATA to place them by medins.admdvs)")
    return 0
