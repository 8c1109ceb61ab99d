"""一公开: a draw as a public notice (HTML and CSV), with what anyone needs to check it.

The notice names the drawn institutions (code, name, county, type) and the inspection teams
(inspector ids and units; names only when the bureau asks for them), the date and the seed, and
how to verify. It holds no other personal data: nothing of ``psn``, no inspector's former unit.
The publication folder also gets the draw record (``DRAW.json``) and ``verify_draw.py``, a
standard-library script that re-checks the draw from the record alone.
"""
from __future__ import annotations

import html
from itertools import repeat
from pathlib import Path

import pandas as pd

from .. import datafolder, schema
from ..csvfile import csv_bytes
from ..errors import LotteryError
from ..session import Session
from .drawing import Draw

TYPE_ZH = {k: v.split()[0] for k, v in schema.FIXMEDINS_TYPE.items()}
LEVEL_ZH = {k: v.split()[0] for k, v in schema.HOSP_LV.items()}
CHECK_SCRIPT = Path(__file__).with_name("verify_draw.py")
COLUMNS = ["分组", "序号", "机构编码", "机构名称", "所在区划", "机构类型", "检查组", "执法人员编号", "执法单位"]
NAMES = "执法人员姓名"


def stratum_title(key: dict, strata=None) -> str:
    """A stratum's key in words, in the order of ``strata`` (default: the key's order):
    ``{"admdvs": "370102", "fixmedins_type": "1", "credit": "B"}`` → ``区划 370102 · 定点医疗机构 · 信用 B 类``."""
    parts = []
    for col in strata or list(key):
        val = key[col]
        if col == "admdvs":
            parts.append(f"区划 {val or '未填'}")
        elif col == "fixmedins_type":
            parts.append(TYPE_ZH.get(val, f"类型 {val or '未填'}"))
        elif col == "hosp_lv":
            parts.append(LEVEL_ZH.get(val, f"等级 {val or '未填'}"))
        elif col == "credit":
            parts.append(f"信用 {val} 类")
        else:
            parts.append(f"{col} {val or '未填'}")
    return " · ".join(parts)


def _session(data):
    return data if isinstance(data, Session) else Session(data)


def _check_same_data(d: Draw, session):
    was = d.record.get("data_tables", {}).get("medins", {}).get("sha256")
    now = datafolder.fingerprint(session.path("medins"))["sha256"]
    if was != now:
        raise LotteryError(f"{session.folder}: table medins changed since the draw (sha256 {now[:12]}…, the draw recorded "
                           f"{(was or '')[:12]}…); verify the draw on the data it was made on")


def notice_table(d: Draw, data, names: bool = False) -> pd.DataFrame:
    """One row per drawn institution with its team, in draw order (the notice's columns).

    Parameters
    ----------
    d : Draw
    data : path or Session
        The data folder of the draw (institution names, and inspector names when asked).
    names : bool
        Add the inspectors' names (column ``执法人员姓名``).
    """
    session = _session(data)
    try:
        return _notice_table(d, session, names)
    finally:
        if session is not data:
            session.close()


def _notice_table(d, session, names):
    _check_same_data(d, session)
    codes = d.drawn_institutions
    med = {r[0]: r[1:] for r in session.sql(
        "SELECT fixmedins_code, fixmedins_name, admdvs, fixmedins_type FROM medins WHERE list_contains(?, fixmedins_code)",
        params=[codes]).fetchall()}
    unit = {i["inspector_id"]: i["unit"] or "" for i in d.drawn_inspectors}
    who = {}
    if names:
        ids = list(unit)
        who = dict(session.sql("SELECT inspector_id, inspector_name FROM inspector WHERE list_contains(?, inspector_id)",
                               params=[ids]).fetchall())
    team = {t["fixmedins_code"]: t for t in d.teams}
    rows, n = [], 0
    for cell in d.cells:
        for code in cell["drawn"]:
            n += 1
            name, county, kind = med[code]
            t = team[code]
            row = [stratum_title(cell["key"], d.record["strata"]), n, code, name or "", county or "", TYPE_ZH.get(kind, kind or ""), t["team"],
                   ";".join(t["inspectors"]), ";".join(unit[i] for i in t["inspectors"])]
            if names:
                row.append(";".join(who.get(i) or "" for i in t["inspectors"]))
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS + ([NAMES] if names else []))


def reveal_groups(d: Draw, data, names: bool = False) -> list:
    """The notice split by stratum, in draw order: ``[{"stratum", "title", "rows"}]`` for a live reveal."""
    table = notice_table(d, data, names)
    out = []
    for g in d.groups():
        title = stratum_title(g["key"], d.record["strata"])
        out.append({"stratum": g["stratum"], "title": title,
                    "rows": table[table["机构编码"].isin(g["drawn"])].drop(columns="分组").reset_index(drop=True)})
    return out


def notice_csv(d: Draw, table: pd.DataFrame) -> bytes:
    """The notice as CSV (UTF-8 with BOM so spreadsheet programs read the Chinese): date and seed
    first, then the table's columns."""
    out = table.copy()
    out.insert(0, "随机种子", d.seed)
    out.insert(0, "抽查日期", d.date)

    return csv_bytes(out)


_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;
margin:0;background:#f4f5f7;color:#1d2129;line-height:1.6}
main{max-width:1080px;margin:24px auto;background:#fff;padding:32px 40px;border-top:6px solid #b8202a}
h1{font-size:26px;text-align:center;margin:0 0 4px}h2{font-size:20px;border-left:5px solid #b8202a;padding-left:10px;margin-top:32px}
.sub{text-align:center;color:#4e5969;margin-bottom:20px}
dl{display:grid;grid-template-columns:8em 1fr;gap:6px 12px;background:#f7f8fa;padding:14px 18px;border-radius:6px}
dt{color:#4e5969}dd{margin:0}code,.mono{font-family:"DejaVu Sans Mono",Consolas,monospace;word-break:break-all}
table{border-collapse:collapse;width:100%;font-size:15px}th,td{border:1px solid #dcdfe6;padding:6px 8px;text-align:left}
th{background:#f2f3f5}tr.group td{background:#fbeaea;font-weight:bold}
ol li{margin-bottom:6px}footer{margin-top:32px;color:#86909c;font-size:13px}
@media print{body{background:#fff}main{margin:0;border:0}}
"""


def notice_html(d: Draw, table: pd.DataFrame) -> str:
    """The notice as one self-contained HTML page in Chinese (inline style, no external resource)."""
    e = html.escape
    names = NAMES in table.columns
    n_strata = sum(1 for c in d.cells if c["drawn"])
    n_cand = sum(len(c["candidates"]) for c in d.cells)
    rows = []
    for title, part in table.groupby("分组", sort=False):
        rows.append(f'<tr class="group"><td colspan="5">{e(title)}（{len(part)} 家）</td></tr>')
        rows += [f"<tr><td>{r.序号}</td><td class=mono>{e(r.机构编码)}</td><td>{e(r.机构名称)}</td>"
                 f"<td class=mono>{e(r.所在区划)}</td><td>{e(r.机构类型)}</td></tr>" for r in part.itertuples()]
    teams = []
    for r in table.itertuples():
        people = zip(r.执法人员编号.split(";"), r.执法单位.split(";"), (getattr(r, NAMES).split(";") if names else repeat("")))
        who = "<br>".join(f'<span class=mono>{e(i)}</span> {e(u)}{" " + e(n) if names else ""}' for i, u, n in people)
        teams.append(f"<tr><td class=mono>{e(r.检查组)}</td><td>{e(r.机构名称)}（<span class=mono>{e(r.机构编码)}</span>）</td><td>{who}</td></tr>")
    ratios = "，".join(f"{k} 类 {v / 100:g}%" for k, v in d.record["ratios_bp"].items())
    rule = "不得检查本人曾任职的机构" + ("，不得检查本人所在区划的机构" if d.record["exclude_own_county"] else "")
    strata = "、".join({"admdvs": "所在区划", "fixmedins_type": "机构类型", "hosp_lv": "医院等级", "credit": "信用等级"}.get(c, c)
                      for c in d.record["strata"])
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>医疗保障基金监管“双随机、一公开”抽查结果公告（{e(d.date)}）</title><style>{_CSS}</style></head>
<body><main>
<h1>医疗保障基金监管“双随机、一公开”抽查结果公告</h1>
<p class="sub">抽查日期 {e(d.date)}</p>
<dl><dt>随机种子</dt><dd class="mono">{e(d.seed)}</dd>
<dt>抽查对象</dt><dd>从 {n_cand} 家协议状态正常的定点医药机构中抽取 {len(table)} 家，共 {n_strata} 组</dd>
<dt>分层方式</dt><dd>按{e(strata)}分层；各信用等级抽查比例：{e(ratios)}（未评级的按 {e(d.record["default_class"])} 类）</dd>
<dt>执法人员</dt><dd>从 {len(d.record["inspector_pool"])} 名执法人员中抽取 {len(d.drawn_inspectors)} 名，每组 {d.record["team_size"]} 人；回避规则：{e(rule)}</dd>
<dt>算法</dt><dd class="mono">{e(d.record["algorithm"])}</dd></dl>
<h2>一、抽查对象</h2>
<table><thead><tr><th>序号</th><th>机构编码</th><th>机构名称</th><th>所在区划</th><th>机构类型</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<h2>二、执法检查组</h2>
<table><thead><tr><th>检查组</th><th>被检查机构</th><th>执法人员（编号 单位{" 姓名" if names else ""}）</th></tr></thead>
<tbody>{"".join(teams)}</tbody></table>
<h2>三、如何核验</h2>
<ol><li>每家候选机构的排序值为 SHA-256(随机种子 + "|" + 机构编码) 的十六进制值（UTF-8 编码），按从小到大排序；各组抽取排在最前的机构，
执法人员按同样方法排序抽取。各组抽取家数按各组候选机构数 × 信用等级抽查比例，以最大余数法分配。</li>
<li>本公告附有抽签记录 <code>DRAW.json</code>（含各组候选机构编码清单及其 SHA-256 指纹）和核验脚本 <code>verify_draw.py</code>，
任何人可运行 <code>python3 verify_draw.py DRAW.json</code> 独立核验，仅需 Python 标准库。</li>
<li>持有同一数据的单位可运行 <code>workbench lottery verify DRAW.json --data 数据目录</code>，从原始数据重新抽取并逐项比对。</li></ol>
<p>抽签记录 DRAW.json 的 SHA-256：<code>{e(d.sha256)}</code></p>
<footer>本公告由医保基金智能监管审计工作台生成。公告不含参保人员信息{"" if names else "，执法人员仅公布编号及所在单位"}。</footer>
</main></body></html>
"""


def publish(d: Draw, data, out, names: bool = False) -> dict:
    """Write the public notice of a draw into folder ``out``.

    Writes ``notice.html``, ``notice.csv``, ``DRAW.json`` and ``verify_draw.py``; every file is a
    function of the draw and the data (the same draw publishes the same bytes).

    Parameters
    ----------
    d : Draw or path to DRAW.json
    data : path or Session
        The data folder the draw was made on.
    out : path
        Publication folder (created if needed).
    names : bool
        Name the inspectors (default: ids and units only).

    Returns
    -------
    dict of str to Path
        ``html``, ``csv``, ``draw``, ``script``.
    """
    d = d if isinstance(d, Draw) else Draw.load(d)
    table = notice_table(d, data, names)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"html": out / "notice.html", "csv": out / "notice.csv", "draw": out / "DRAW.json", "script": out / "verify_draw.py"}
    paths["html"].write_bytes(notice_html(d, table).encode("utf-8"))
    paths["csv"].write_bytes(notice_csv(d, table))
    d.save(paths["draw"])
    paths["script"].write_bytes(CHECK_SCRIPT.read_bytes())
    return paths
