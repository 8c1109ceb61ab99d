"""widgets.briefing and widgets.landing: what the briefing shows, in both languages (no browser)."""
from __future__ import annotations

import re
from decimal import Decimal

import pandas as pd
import pytest
from dashdata import TOTAL

from widgets._charts import is_svg
from widgets.briefing import (BriefingView, bar_rows, briefing_dashboard, case_tiles, chart_rules, findings_link,
                              headline_tiles, short,
                              tile, top_table)
from widgets.landing import dashboard_link, landing_html
from workbench.briefing import Briefing
from workbench.cases import CaseStore

D = Decimal


def values(html: str) -> dict:
    return dict(re.findall(r"data-figure='(\w+)' data-value='([^']*)'", html))


def test_tiles_carry_the_exact_figures():
    html = headline_tiles({"institutions_audited": 7216, "institutions_flagged": 52, "findings": 424, "violations": 63,
                           "amount_at_risk": D("61260000.00")})
    assert values(html) == {"institutions_audited": "7216", "institutions_flagged": "52", "findings": "424",
                            "violations": "63", "amount_at_risk": "61260000.00"}
    assert "7,216<span class='wb-unit'>家</span>" in html and "6,126.00<span class='wb-unit'>万元</span>" in html
    en = tile("amount_at_risk", D("61260000.00"), "Money at risk", kind="money", lang="en")
    assert "¥61,260,000</div>" in en and "wb-unit" not in en


def test_case_tiles_and_their_notes():
    figs = {"findings": 0, "confirmed": 0, "amount_at_risk_confirmed": D("0.00"), "recovered": D("0.00"), "suspended": 0,
            "terminated": 0, "fined": 0, "fines": D("0.00"), "referred_police": 1, "referred_discipline": 2, "pending": 8}
    html = case_tiles(figs)
    assert "尚无核查处理记录" in html and values(html)["referred"] == "3" and values(html)["pending"] == "8"
    assert "案件库不可用：locked" in case_tiles(None, error="locked")


def test_bar_rows_most_money_first_with_exact_labels():
    frame = pd.DataFrame({"county": ["甲县", None, "乙县"], "findings": [1, 2, 3],
                          "amount_at_risk": [D("15000.00"), D("50.00"), D("123456.78")]})
    assert bar_rows(frame, "county") == [("乙县", 12.35, "12.35", 3), ("甲县", 1.5, "1.50", 1), ("未定", 0.01, "0.01", 2)]
    assert bar_rows(frame, "county", "en", top=1)[0][0] == "乙县"


def test_rule_chart_labels_in_the_chosen_language(hand_run, tmp_path):
    b = Briefing(hand_run, home=tmp_path)
    zh = [t.get_text() for t in chart_rules(b.by_rule, "zh").axes[0].get_yticklabels()]
    en = [t.get_text() for t in chart_rules(b.by_rule, "en").axes[0].get_yticklabels()]
    assert zh[-1] == short(b.by_rule.name_zh.iloc[0]) and en[-1] == short(b.by_rule.name_en.iloc[0], "en")  # most money on top
    assert short("费用占比异常（药费、检验检查、耗材、治疗占比）") == "费用占比异常（药费、检验检…" and short("分解住院") == "分解住院"


def test_charts_are_vector_with_chinese_drawn_in_the_cjk_font(hand_run, tmp_path):
    from widgets import _fonts
    from widgets._charts import svg

    family = _fonts.use_cjk_font()
    if family is None:
        pytest.skip("no CJK font installed (scripts/system-deps.sh: fonts-noto-cjk)")
    b = Briefing(hand_run, home=tmp_path)
    drawn = svg(chart_rules(b.by_rule, "zh"))
    assert is_svg(drawn) and b"<image" not in drawn  # no bitmap inside: sharp at any size
    # text is written as outlines, each glyph once, named after the font it was drawn with
    label = short(b.by_rule.name_zh.iloc[0])
    fonts = set(re.findall(rb'<path id="([A-Za-z0-9]+)-[A-Za-z]+-[0-9a-f]+"', drawn))
    assert fonts and all(f.startswith((b"NotoSansCJK", b"WenQuanYi")) for f in fonts), fonts
    glyphs = set(re.findall(rb'<path id="(?:NotoSansCJK|WenQuanYi)[A-Za-z0-9-]+"', drawn))
    assert len(glyphs) >= len(set(label)), (label, len(glyphs))
    assert svg(chart_rules(b.by_rule, "zh")) == drawn  # no date or random id: same figure, same bytes


def test_counties_rules_and_institutions_link_to_their_findings(hand_run, tmp_path):
    import html as H

    b = Briefing(hand_run, home=tmp_path)
    view = BriefingView(b, carry={"RUN": "/srv/r 1"})
    county = view.chart_images["by_county"].value
    for code in b.by_county.admdvs.dropna():
        assert f'xlink:href="findings.ipynb?RUN=%2Fsrv%2Fr+1&amp;COUNTY={code}"' in county
    rules = view.chart_images["by_rule"].value
    assert all(f"RULE={r}" in rules for r in b.by_rule.rule_id) and 'target="_blank"' not in rules
    links = re.findall(r"data-institution='([^']+)' href='([^']+)'", view.top_html.value)
    assert [c for c, _ in links] == list(b.top_institutions(10).fixmedins_code)
    assert all(H.unescape(u) == f"findings.ipynb?RUN=%2Fsrv%2Fr+1&INSTITUTION={c}" for c, u in links)
    view.lang = "en"
    assert "LANG=en" in view.chart_images["by_rule"].value and "&amp;LANG=en" in view.top_html.value
    assert findings_link(None, "zh", RULE="split_hospitalization", COUNTY="") == "findings.ipynb?RULE=split_hospitalization"


def test_top_table_names_institutions_only(hand_run, tmp_path):
    html = top_table(Briefing(hand_run, home=tmp_path).top_institutions(10))
    assert "data-rows='4'" in html and "甲医院" in html and "0.15" in html  # H1: 1500.06 yuan = 0.15 万元
    assert not re.search(r"\bP\d\b|\bD1\b|\bM\d\b", html)


def test_view_shows_the_run_and_switches_language(hand_run, tmp_path):
    home = tmp_path / "home"
    view = BriefingView(Briefing(hand_run, home=home))
    assert values(view.audit.value)["amount_at_risk"] == str(TOTAL)
    assert values(view.audit.value)["findings"] == "8"
    assert "智能筛查" in view.audit.value and "2024-01 — 2024-03" in view.header.value
    assert "另有 2 条疑点跨月或不分月（如机构全年指标），涉及 0.11 万元" in view.chart_titles["trend"].value
    assert all(img.value.startswith("<div class='wb-chart'") and "<svg " in img.value and "<image" not in img.value
               for img in view.chart_images.values())
    view.toggle.value = "en"
    assert view.lang == "en" and "Screening" in view.audit.value and "Findings by month" in view.chart_titles["trend"].value
    assert "Institutions with the most money at risk" in view.top_html.value


def test_refresh_reads_new_decisions(hand_run, tmp_path):
    home = tmp_path / "home"
    view = BriefingView(Briefing(hand_run, home=home))
    assert values(view.cases_html.value)["confirmed"] == "0"
    CaseStore(home).decide("F2", "confirmed", "王审核", recovered="10.5", actions=["suspend"],
                           finding={"fixmedins_code": "H2", "amount_at_risk": "88.88"})
    view.refresh_button.click()
    v = values(view.cases_html.value)
    assert (v["confirmed"], v["recovered"], v["suspended"], v["pending"]) == ("1", "10.50", "1", "7")


def test_landing_links_carry_the_chosen_folders():
    assert dashboard_link("briefing.ipynb", {"DATA": "/d 1", "RUN": ""}) == "briefing.ipynb?DATA=%2Fd+1"
    html = landing_html([{"file": "a.ipynb", "title": "甲 A", "summary": "s"}], {"RUN": "/r"}, data="/d")
    assert "href='a.ipynb?RUN=%2Fr'" in html and "数据: <code>/d</code>" in html and "data-dashboard='a.ipynb'" in html


def test_dashboard_says_which_folder_is_missing(hand_run, tmp_path):
    assert isinstance(briefing_dashboard(hand_run, home=tmp_path), BriefingView)
    note = briefing_dashboard(tmp_path / "nowhere", lang="en", home=tmp_path)
    assert "Cannot open the data or run: " in note.value and "no findings.parquet" in note.value


def test_each_month_of_the_trend_links_to_its_findings(hand_run, tmp_path):
    b = Briefing(hand_run, home=tmp_path)
    trend = BriefingView(b, carry={"RUN": "/srv/r"}).chart_images["trend"].value
    linked = sorted(set(re.findall(r'xlink:href="findings\.ipynb\?RUN=%2Fsrv%2Fr&amp;MONTH=(\d{4}-\d\d)"', trend)))
    with_findings = [m for m, n in zip(b.by_month.month, b.by_month.findings) if m is not None and n]
    assert linked == with_findings == ["2024-01", "2024-02", "2024-03"]
    # a bar and its month's label each carry the link: two links per month on this short trend
    assert all(trend.count(f"MONTH={m}\"") == 2 for m in linked)


def test_the_queue_opened_on_a_month_shows_that_months_findings(hand_run, tmp_path):
    from widgets.findings import FindingsView, findings_dashboard
    from workbench.queue import FindingsQueue

    view = findings_dashboard(hand_run, home=tmp_path, month="2024-02")
    assert isinstance(view, FindingsView) and view.month_box.value == "2024-02"
    assert sorted(view.listed()) == ["F5", "F6", "F8"] and view.matched == 3
    view.month_box.value = "2024-1"  # typed wrong: said, rows kept
    assert "筛选条件无效" in view.summary.value and "YYYY-MM" in view.summary.value
    view.month = ""
    assert view.matched == 8
    assert FindingsView(FindingsQueue(hand_run, home=tmp_path), month="2024-03").listed() == ["F2"]


def test_a_briefing_drawn_before_the_request_is_shown_with_the_decisions_taken_since(hand_run, tmp_path, monkeypatch):
    from widgets.briefing import briefing_page, prepare_briefing
    from widgets.page import take

    home = tmp_path / "home"
    monkeypatch.setenv("WORKBENCH_RUN", str(hand_run))
    monkeypatch.delenv("WORKBENCH_DATA", raising=False)
    monkeypatch.delenv("QUERY_STRING", raising=False)
    prepare_briefing(home=home)  # what a preheated kernel does before anyone asks for the page
    CaseStore(home).decide("F2", "confirmed", "王审核", recovered="10.5",
                           finding={"fixmedins_code": "H2", "amount_at_risk": "88.88"})
    page = briefing_page(str(hand_run), lang="en", home=home)
    view = page.children[0]
    assert isinstance(view, BriefingView) and ("trend", "en") in view._charts  # drawn ahead, both languages
    assert view.lang == "en" and "Screening" in view.audit.value
    assert values(view.cases_html.value)["confirmed"] == "1"  # the store read again after the request
    assert type(page.children[1]).__name__ == "PeriodView"
    again = briefing_page(str(hand_run), home=home).children[0]  # a page's widgets serve one page only
    assert again is not view and values(again.audit.value)["findings"] == "8"
    prepare_briefing(home=home)
    monkeypatch.setenv("QUERY_STRING", f"RUN={hand_run}")  # a URL naming the run: its links carry it, drawn anew
    other = briefing_page(str(hand_run), home=home).children[0]
    assert other.carry == {"RUN": str(hand_run)} and "RUN=" in other.chart_images["by_rule"].value


def test_a_briefing_drawn_before_its_run_changed_is_not_shown(hand_run, tmp_path, monkeypatch):
    import shutil

    from widgets.briefing import briefing_page, prepare_briefing

    run = tmp_path / "run"
    shutil.copytree(hand_run, run)
    monkeypatch.setenv("WORKBENCH_RUN", str(run))
    monkeypatch.delenv("QUERY_STRING", raising=False)
    prepare_briefing(home=tmp_path / "home")
    (run / "findings.parquet").write_bytes((run / "findings.parquet").read_bytes() + b"x")
    page = briefing_page(str(run), home=tmp_path / "home").children[0]
    assert not isinstance(page, BriefingView) and "findings.parquet" in page.value  # refused, naming the file
