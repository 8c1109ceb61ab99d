"""曝光典型案例: the public notice of a case (issue 19, item 6).

Bureaus publish typical cases in a fixed shape: a title naming the institution and what it did,
then 经查 (what was found: the kind of violation, how much of the fund), 处理 (what was done:
money ordered back, the fine as a multiple of the loss under an article of 《医疗保障基金使用
监督管理条例》, the agreement suspended or ended, the referral, doctors' points), and the law.
:func:`notice_html` writes that notice from the case's recorded events alone.

Nothing personal is in it: the notice reads only the case's institutions, its findings' rules and
amounts, and the structured fields of its actions — never a finding's person, doctor or visit,
an auditor's name, or a note (free text may name anyone). Doctors are "相关责任医师", their
points given without their code.
"""
from __future__ import annotations

import html
from decimal import Decimal

from .briefing import rule_names
from .cases import CaseStore, yuan
from .cases.lifecycle import REFER_TO, SOURCES, case_state
from .errors import CaseError
from .session import Session

CSS = """body{font-family:"Noto Sans CJK SC","Source Han Sans SC","SimSun",serif;max-width:820px;margin:40px auto;
color:#1b1b1b;line-height:1.9;font-size:18px}h1{font-size:26px;text-align:center;color:#a61b1b}
.meta{text-align:center;color:#666;font-size:15px}h2{font-size:20px;margin-top:24px}p{text-indent:2em}
.law{font-size:16px;color:#333;border-top:1px solid #ccc;margin-top:28px;padding-top:10px}"""
LAW = {  # the articles' opening, up to their lists of cases
    38: "第三十八条　定点医药机构有下列情形之一的，由医疗保障行政部门责令改正，并可以约谈有关负责人；造成医疗保障基金"
        "损失的，责令退回，处造成损失金额1倍以上2倍以下的罚款；拒不改正或者造成严重后果的，责令定点医药机构暂停相关"
        "责任部门6个月以上1年以下涉及医疗保障基金使用的医药服务；违反其他法律、行政法规的，由有关主管部门依法处理……",
    40: "第四十条　定点医药机构通过下列方式骗取医疗保障基金支出的，由医疗保障行政部门责令退回，处骗取金额2倍以上5倍"
        "以下的罚款；责令定点医药机构暂停相关责任部门6个月以上1年以下涉及医疗保障基金使用的医药服务，直至由医疗保障"
        "经办机构解除服务协议；有执业资格的，由有关主管部门依法吊销执业资格……",
}


def _zh_day(day: str) -> str:
    y, m, d = day.split("-")
    return f"{int(y)}年{int(m)}月{int(d)}日"


def _money(fen) -> str:
    return f"{yuan(fen):,}"


def institution_names(data) -> dict:
    """``{fixmedins_code: fixmedins_name}`` of a data folder's ``medins`` (institutions are not persons)."""
    with Session(data) as s:
        return {c: n for c, n in s.rows("SELECT fixmedins_code, fixmedins_name FROM medins") if n}


def notice(store: CaseStore, case_id: str, names=None, as_of=None) -> dict:
    """The parts of a case's notice: ``title``, ``found``, ``handling`` (list of sentences), ``laws``
    (article numbers), ``figures`` (recovered, fined, loss in Decimal yuan; multiples)."""
    evs = store.case_events(subject=case_id)
    st = case_state([e for e in evs if e["kind"] in ("open", "act")], as_of=as_of, case_id=case_id)
    if not st.opened_on:
        raise CaseError(f"no case {case_id!r}")
    if st.dismissed_on:
        raise CaseError(f"{case_id}: the case was dismissed on {st.dismissed_on}; a dismissed case is not exposed")
    names = names or {}
    who = "、".join(f"{names.get(c, c)}" + (f"（机构编码 {c}）" if c in names else "") for c in st.institutions)
    rules = rule_names()
    kinds = list(dict.fromkeys(rules.get(f["rule_id"], (f["rule_id"],))[0] for f in st.findings if f.get("rule_id")))
    at_risk = sum((Decimal(f["amount_at_risk"]) for f in st.findings if f.get("amount_at_risk")), Decimal("0.00"))
    lead = f"根据{SOURCES[st.source]}，" if st.source in ("tipoff", "referral", "campaign", "inspection") else ""
    if kinds:
        found = (f"{lead}经查，{who}存在{'、'.join(kinds)}等问题（{len(st.findings)}项），"
                 f"涉及医保基金{at_risk:,}元。")
    else:
        found = f"{lead}经查，{who}存在违规使用医保基金问题" + (
            f"，造成医保基金损失{_money(st.recovered_fen)}元。" if st.recovered_fen else "。")
    handling, laws, multiples = [], [], []
    for a in st.actions:
        d, on = a["data"], _zh_day(a["on"])
        name = d["action"]
        if name == "interview":
            handling.append(f"{on}，医保部门约谈该机构负责人。")
        elif name == "rectify":
            handling.append(f"责令该机构限期整改（期限至{_zh_day(d['due'])}）。")
        elif name == "rectified":
            handling.append(f"{on}，该机构完成整改。")
        elif name == "recover":
            handling.append(f"追回医保基金{_money(d['amount_fen'])}元。")
        elif name == "fine":
            laws.append(d["article"])
            multiples.append(d["multiple"])
            handling.append(f"依据{d['article_zh']}，处违规金额{Decimal(d['multiple']).normalize():f}倍罚款"
                            f"{_money(d['amount_fen'])}元。")
        elif name == "suspend":
            handling.append(f"暂停医保服务协议（{on}至{_zh_day(d['until'])}）。")
        elif name == "terminate":
            handling.append(f"{on}，解除医保服务协议。")
        elif name == "doctor_points":
            handling.append(f"对相关责任医师记{d['points']}分。")
        elif name == "refer":
            handling.append(f"将案件线索移送{REFER_TO[d['to']]}。")
    title = f"{names.get(st.institutions[0], st.institutions[0])}" + (
        f"等{len(st.institutions)}家机构" if len(st.institutions) > 1 else "") + "违规使用医保基金案"
    return {"case_id": case_id, "title": title, "found": found, "handling": handling, "laws": sorted(set(laws)),
            "figures": {"recovered": yuan(st.recovered_fen), "fined": yuan(st.fined_fen), "at_risk": at_risk,
                        "multiples": multiples}}


def notice_html(store: CaseStore, case_id: str, names=None, bureau="医疗保障局", as_of=None) -> str:
    """The notice as one HTML page (no script, nothing fetched)."""
    n = notice(store, case_id, names, as_of)
    esc = html.escape
    handling = "".join(esc(h) for h in n["handling"]) or "案件正在依法处理中。"
    law = "".join(f"<p>《医疗保障基金使用监督管理条例》{esc(LAW[a])}</p>" for a in n["laws"])
    return (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>{esc(n['title'])}</title>"
            f"<style>{CSS}</style></head><body><h1>{esc(n['title'])}</h1>"
            f"<div class='meta'>{esc(bureau)} · 曝光典型案例 · 案件编号 {esc(n['case_id'])}</div>"
            f"<h2>一、基本案情</h2><p>{esc(n['found'])}</p><h2>二、处理情况</h2><p>{handling}</p>"
            + (f"<div class='law'><b>法律依据</b>{law}</div>" if law else "")
            + "<p class='law'>医保基金是人民群众的“看病钱”“救命钱”。欢迎社会各界监督，发现欺诈骗保行为请向医保部门举报。</p>"
            "</body></html>")
