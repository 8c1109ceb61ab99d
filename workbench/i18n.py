"""The dashboards' message catalogue, Chinese (default) and English, and number formats for display.

One catalogue for every label a briefing or the findings queue shows, so switching language is
a lookup (``t("findings", "en")``) and a translation is added in one place. Money is formatted
from exact :class:`~decimal.Decimal` values (万元 in Chinese, yuan with thousands separators in
English); formatting never changes the figure a test compares.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .money import wan

LANGS = ("zh", "en")

MESSAGES = {
    # titles
    "app_title": {"zh": "医保基金智能监管工作台", "en": "Fund supervision workbench"},
    "briefing_title": {"zh": "医保基金监管工作简报", "en": "Fund supervision briefing"},
    "findings_title": {"zh": "疑点线索核查", "en": "Findings queue"},
    "index_title": {"zh": "看板目录", "en": "Dashboards"},
    "language": {"zh": "语言", "en": "Language"},
    "cannot_open": {"zh": "无法打开数据或筛查结果：", "en": "Cannot open the data or run: "},
    "period": {"zh": "数据期间", "en": "Period"},
    "run_at": {"zh": "筛查时间", "en": "Audit run"},
    "data_folder": {"zh": "数据", "en": "Data"},
    "run_folder": {"zh": "筛查结果", "en": "Run"},
    # headline figures
    "institutions_audited": {"zh": "检查定点医药机构", "en": "Institutions audited"},
    "institutions_flagged": {"zh": "涉及疑点机构", "en": "Institutions with findings"},
    "findings": {"zh": "发现疑点", "en": "Findings"},
    "violations": {"zh": "明确违规", "en": "Definite violations"},
    "amount_at_risk": {"zh": "涉及金额", "en": "Money at risk"},
    "confirmed": {"zh": "确认违规", "en": "Confirmed"},
    "dismissed": {"zh": "排除", "en": "Dismissed"},
    "pending": {"zh": "待核查", "en": "Awaiting review"},
    "amount_confirmed": {"zh": "确认违规金额", "en": "Money confirmed"},
    "recovered": {"zh": "追回基金", "en": "Recovered"},
    "suspended": {"zh": "暂停医保协议", "en": "Agreements suspended"},
    "terminated": {"zh": "解除医保协议", "en": "Agreements terminated"},
    "fined": {"zh": "行政罚款", "en": "Fined"},
    "fines": {"zh": "罚款金额", "en": "Fines"},
    "referred": {"zh": "移送公安/纪检", "en": "Referred"},
    "unit_institutions": {"zh": "家", "en": ""},
    "unit_findings": {"zh": "条", "en": ""},
    "unit_cases": {"zh": "例", "en": ""},
    "cases_none": {"zh": "尚无核查处理记录（案件库为空）", "en": "No decisions recorded yet (the case store is empty)"},
    "cases_unavailable": {"zh": "案件库不可用：", "en": "Case store unavailable: "},
    # sections and charts
    "section_audit": {"zh": "智能筛查", "en": "Screening"},
    "section_cases": {"zh": "核查处理", "en": "Case outcomes"},
    "trend": {"zh": "疑点按月趋势", "en": "Findings by month"},
    "trend_note": {"zh": "按就诊（结算）发生月份", "en": "by month of care"},
    "by_county": {"zh": "按区县", "en": "By county"},
    "by_rule": {"zh": "按规则", "en": "By rule"},
    "by_type": {"zh": "按机构类型", "en": "By institution type"},
    "top_institutions": {"zh": "涉及金额最多的机构", "en": "Institutions with the most money at risk"},
    "month": {"zh": "月份", "en": "Month"},
    "month_unknown": {"zh": "未定", "en": "n/a"},
    "trend_undated": {"zh": "另有 {n} 条疑点跨月或不分月（如机构全年指标），涉及 {amount}，未计入趋势",
                      "en": "{n} findings span several months or none (e.g. an institution's year), {amount}, not in the trend"},
    "county": {"zh": "区县", "en": "County"},
    "rule": {"zh": "规则", "en": "Rule"},
    "institution": {"zh": "机构", "en": "Institution"},
    "institution_type": {"zh": "机构类型", "en": "Type"},
    "rank": {"zh": "排名", "en": "Rank"},
    "rules_hit": {"zh": "触发规则数", "en": "Rules"},
    "amount_wan": {"zh": "涉及金额（万元）", "en": "Money at risk (10k yuan)"},
    "findings_count": {"zh": "疑点数", "en": "Findings"},
    "no_data": {"zh": "无数据", "en": "No data"},
    # institution categories
    "cat_tertiary": {"zh": "三级医院", "en": "Tertiary hospitals"},
    "cat_secondary": {"zh": "二级医院", "en": "Secondary hospitals"},
    "cat_primary": {"zh": "一级医院", "en": "Primary hospitals"},
    "cat_grassroots": {"zh": "基层医疗机构", "en": "Community & village clinics"},
    "cat_pharmacy": {"zh": "定点零售药店", "en": "Retail pharmacies"},
    "cat_unknown": {"zh": "未登记机构", "en": "Unregistered"},
    # result types
    "suspicious": {"zh": "可疑", "en": "Suspicious"},
    "violation": {"zh": "明确违规", "en": "Violation"},
    # findings queue
    "filter_rule": {"zh": "规则", "en": "Rule"},
    "filter_county": {"zh": "区县", "en": "County"},
    "filter_institution": {"zh": "机构", "en": "Institution"},
    "filter_result_type": {"zh": "结果类型", "en": "Result type"},
    "filter_min_amount": {"zh": "最低金额(元)", "en": "Min. yuan"},
    "filter_status": {"zh": "处理状态", "en": "Status"},
    "filter_month": {"zh": "就诊月份", "en": "Month of care"},
    "bad_filter": {"zh": "筛选条件无效：", "en": "Not a valid filter: "},
    "all": {"zh": "全部", "en": "All"},
    "shown_of": {"zh": "符合条件 {n} 条（共 {total} 条），涉及金额 {amount}；显示前 {shown} 条",
                 "en": "{n} of {total} findings match, {amount} at risk; showing the first {shown}"},
    "matched_of": {"zh": "符合条件 {n} 条（共 {total} 条），涉及金额 {amount}；点列名排序、筛选，选中一行查看证据",
                   "en": "{n} of {total} findings match, {amount} at risk; a column's header sorts and filters, a row opens"},
    "no_match": {"zh": "没有符合条件的疑点：请放宽筛选条件", "en": "No finding matches: widen the filters"},
    "no_findings": {"zh": "本次筛查没有发现疑点", "en": "This run found nothing"},
    "sorted_asc": {"zh": "按{column}升序", "en": "{column} ascending"},
    "sorted_desc": {"zh": "按{column}降序", "en": "{column} descending"},
    "grid_filter": {"zh": "{column}已筛选", "en": "{column} filtered"},
    "grid_rows": {"zh": "表中 {n} 条", "en": "{n} rows in the table"},
    "status": {"zh": "状态", "en": "Status"},
    "result_type": {"zh": "结果", "en": "Result"},
    "bad_amount": {"zh": "金额无效：", "en": "Not an amount: "},
    "finding": {"zh": "疑点", "en": "Finding"},
    "evidence": {"zh": "证据明细（个人信息已脱敏）", "en": "Evidence rows (personal data masked)"},
    "evidence_none": {"zh": "该疑点没有可显示的明细行", "en": "No rows to show for this finding"},
    "decision": {"zh": "核查处理", "en": "Decision"},
    "select_finding": {"zh": "在上表中选择一条疑点", "en": "Pick a finding in the table above"},
    "detail": {"zh": "疑点说明", "en": "Detail"},
    "status_open": {"zh": "待核查", "en": "Open"},
    "status_undecided": {"zh": "未处理", "en": "Undecided"},
    "status_confirmed": {"zh": "确认违规", "en": "Confirmed"},
    "status_dismissed": {"zh": "排除", "en": "Dismissed"},
}

# institution category codes in display order (see workbench.briefing.CATEGORY_SQL)
CATEGORIES = ("tertiary", "secondary", "primary", "grassroots", "pharmacy", "unknown")


def t(key: str, lang: str = "zh", **fmt) -> str:
    """The message ``key`` in ``lang`` (``zh`` or ``en``), formatted with ``fmt``.

    An unknown key is returned as it is, so a missing translation shows, never crashes a page.
    """
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry[lang] if lang in entry else entry["zh"]
    return text.format(**fmt) if fmt else text


def category_label(code: str, lang: str = "zh") -> str:
    """``"tertiary"`` → ``"三级医院"`` / ``"Tertiary hospitals"``."""
    return t(f"cat_{code}", lang) if f"cat_{code}" in MESSAGES else str(code)


def _dec(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def money(value, lang: str = "zh") -> str:
    """Money for a headline: ``"6,126.00 万元"`` in Chinese, ``"¥61,260,000"`` in English (whole yuan)."""
    if value is None:
        return "—"
    if lang == "zh":
        return f"{wan(value):,} 万元"
    return f"¥{_dec(value).quantize(Decimal('1'), rounding=ROUND_HALF_UP):,}"


def count(value, unit_key: str | None = None, lang: str = "zh") -> str:
    """A count with thousands separators and, in Chinese, its measure word (``"7,216 家"``)."""
    if value is None:
        return "—"
    unit = t(unit_key, lang) if unit_key else ""
    return f"{int(value):,}" + (f" {unit}" if unit else "")
