"""widgets.findings: the findings queue widget, driven by setting traits and clicking (no browser)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from widgets.findings import FindingsView, display_width, findings_dashboard, frame_html, pad, row_label
from workbench.cases import CaseStore
from workbench.queue import FindingsQueue


@pytest.fixture()
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture()
def view(hand_run, home):
    return FindingsView(FindingsQueue(hand_run, home=home), store=CaseStore(home), by="王审核")


def listed(view):
    return [fid for _, fid in view.list.options]


def test_columns_line_up_in_a_cjk_monospace_font():
    assert display_width("机构H1") == 6 and display_width("（a）") == 5
    assert pad("甲医院", 8) == "甲医院  " and display_width(pad("医师接诊量异常及冒用医师编码", 12)) == 12
    assert pad("医师接诊量异常及冒用医师编码", 12).endswith("..")
    row = {"amount_at_risk": Decimal("1000.01"), "result_type": "suspicious", "rule_name_zh": "费用占比异常",
           "rule_name_en": "Cost share",
           "fixmedins_name": "甲医院", "fixmedins_code": "H1", "county": "历下区", "status": "undecided"}
    label = row_label(row)
    assert label.startswith("     ¥1,000.01  可疑") and label.endswith("历下区      未处理")
    assert "Cost share" in row_label(row, "en") and row_label(row, "en").endswith("Undecided")


def test_the_queue_lists_every_finding_most_money_first(view):
    assert listed(view) == ["F3", "F1", "F2", "F7", "F8", "F5", "F6", "F4"]
    assert view.matched == 8
    assert "符合条件 8 条（共 8 条），涉及金额 0.16 万元" in view.summary.value
    assert view.filter_ms > 0


def test_filters_change_the_rows(view):
    view.rule_box.value = "split_hospitalization"  # as a person picks it
    assert view.rule == "split_hospitalization" and listed(view) == ["F1"]
    view.rule = ""
    view.institution_box.value = "H1 甲医院"
    assert view.institution == "H1" and listed(view) == ["F3", "F1", "F7", "F4"]
    view.min_amount = "100"
    assert listed(view) == ["F3", "F1"] and view.matched == 2
    view.institution_box.value = ""
    view.result_type = "violation"
    assert listed(view) == []
    assert "符合条件 0 条" in view.summary.value


def test_a_bad_amount_is_shown_and_keeps_the_rows(view):
    view.min_amount = "100"
    view.min_amount = "一百"
    assert "金额无效" in view.summary.value and listed(view) == ["F3", "F1"]


def test_opening_a_finding_shows_facts_and_masked_evidence(view):
    view.list.value = "F2"
    assert view.selected == "F2"
    assert "data-finding='F2'" in view.detail.value and "¥88.88" in view.detail.value
    assert "*" * 18 in view.evidence_html.value and "1950-**-**" in view.evidence_html.value
    assert "370102195001011234" not in view.evidence_html.value
    view.rule = "split_hospitalization"  # F2 is filtered out: nothing stays open
    assert view.selected == "" and view.evidence_html.value == ""


def test_deciding_updates_the_store_and_the_queue(view, home):
    view.selected = "F1"
    controls = view.decision.children[1]
    assert controls.finding_id == "F1" and controls.by == "王审核"
    controls.recovered_box.value = "100"
    controls.confirm_button.click()
    state = CaseStore(home).state("F1")
    assert state["status"] == "confirmed" and state["recovered_fen"] == 10000
    assert state["finding"]["amount_at_risk"] == "440.00" and state["finding"]["run_id"]
    assert view.queue.finding("F1")["status"] == "confirmed"
    assert dict(view.list.options)[row_label(view.queue.finding("F1"))] == "F1"
    view.status = "confirmed"
    assert listed(view) == ["F1"]


def test_without_a_store_there_are_no_decision_controls(hand_run, home):
    v = FindingsView(FindingsQueue(hand_run, home=home), store=None, lang="en")
    v.selected = "F3"
    assert v.decision.children == () and "Evidence rows" in v.evidence_html.value
    assert "Cost share" in v.detail.value or "cost_share_outlier" in v.detail.value


def test_frame_html_limits_rows():
    import pandas as pd

    html = frame_html(pd.DataFrame({"a": range(30), "b": [None] * 30}), limit=5)
    assert html.count("<tr>") == 6 and "25 more" in html


def test_dashboard_opens_a_finding_or_says_what_is_missing(hand_run, home, tmp_path):
    view = findings_dashboard(hand_run, finding_id="F8", home=home)
    assert isinstance(view, FindingsView) and "data-finding='F8'" in view.detail.value
    view.selected = "NOPE"
    assert "no finding &#x27;NOPE&#x27;" in view.detail.value
    note = findings_dashboard(tmp_path / "nowhere", home=home)
    assert "无法打开数据或筛查结果" in note.value and "not a run folder" in note.value
