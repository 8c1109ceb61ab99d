"""widgets.findings: the findings queue widget, driven by setting traits and clicking (no browser)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from widgets.findings import FindingsView, findings_dashboard, frame_html, grid_frame
from workbench.cases import CaseStore
from workbench.queue import FindingsQueue


@pytest.fixture()
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture()
def view(hand_run, home):
    return FindingsView(FindingsQueue(hand_run, home=home), store=CaseStore(home), by="王审核")


def listed(view):
    return view.listed()


def click_row(view, fid):
    """What the grid sends when a person clicks the row of ``fid`` (as it is sorted now)."""
    r = view.listed().index(fid)
    view.grid.selections = [{"r1": r, "c1": 0, "r2": r, "c2": 5}]


def test_the_grid_table_has_one_row_per_finding_with_labels():
    import pandas as pd

    rows = pd.DataFrame([{"finding_id": "F9", "amount_at_risk": Decimal("1000.01"), "result_type": "suspicious",
                          "rule_name_zh": "费用占比异常", "rule_name_en": "Cost share", "fixmedins_name": None,
                          "fixmedins_code": "H1", "county": None, "status": "undecided", "psn_no": "P1", "dr_code": None}])
    zh, en = grid_frame(rows), grid_frame(rows, "en")
    assert list(zh.index) == ["F9"] and zh.iloc[0].tolist() == [1000.01, "可疑", "费用占比异常", "H1", "", "未处理"]
    assert list(en.columns) == ["Money at risk", "Result", "Rule", "Institution", "County", "Status"]
    assert en.iloc[0]["Rule"] == "Cost share" and en.iloc[0]["Status"] == "Undecided"


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
    click_row(view, "F2")
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
    assert view.rows().loc["F1", "状态"] == "确认违规"
    view.status = "confirmed"
    assert listed(view) == ["F1"]


def browser_sorts(view, column, desc=False):
    """What the browser does on "Sort Ascending/Descending" in a header: it sorts the rows itself
    and reports the transform and the rows' new order (positions in the grid's data)."""
    rows = view.grid.data.reset_index(drop=True)
    order = sorted(range(len(rows)), key=lambda i: rows.iloc[i][column], reverse=desc)
    with view.grid.hold_trait_notifications():
        view.grid._transforms = [{"type": "sort", "column": column, "desc": desc}]
        view.grid._visible_rows = order


def test_the_grid_holds_every_match_and_opens_the_row_clicked_in_its_order(view):
    assert len(view.grid.data) == len(view.rows()) == 8 and list(view.grid.data.index) == listed(view)
    browser_sorts(view, "涉及金额")
    ascending = listed(view)
    amounts = [view.queue.finding(f)["amount_at_risk"] for f in ascending]
    assert amounts == sorted(amounts) and ascending != ["F3", "F1", "F2", "F7", "F8", "F5", "F6", "F4"]
    assert "按涉及金额升序" in view.order.value and "data-sort='涉及金额:asc'" in view.order.value
    view.grid.selections = [{"r1": 0, "c1": 0, "r2": 0, "c2": 5}]  # the top row as now sorted: least money
    assert view.selected == ascending[0] and f"data-finding='{ascending[0]}'" in view.detail.value
    browser_sorts(view, "涉及金额", desc=True)  # the open finding's row moves to the bottom, its highlight too
    assert [(s["r1"], s["r2"]) for s in view.grid.selections] == [(7, 7)] and listed(view)[7] == ascending[0]
    view.grid.selections = [{"r1": 0, "c1": 0, "r2": 0, "c2": 5}]
    assert view.selected == ascending[-1]
    browser_sorts(view, "涉及金额")
    view.grid.selections = [{"r1": 0, "c1": 0, "r2": 7, "c2": 0}]  # a header click: a whole column
    assert view.selected == ascending[-1]  # opens nothing new
    view.grid.selections = [{"r1": 0, "c1": 0, "r2": 0, "c2": 5}]
    assert view.selected == ascending[0]
    view.institution = "H1"  # new rows: in the queue's order until the browser sorts them again
    assert listed(view) == ["F3", "F1", "F7", "F4"] and view.selected == ascending[0] == "F4"
    assert [(s["r1"], s["r2"]) for s in view.grid.selections] == [(3, 3)]  # still open, its row highlighted
    view.rule = "split_hospitalization"  # F4 is filtered out: nothing stays open or highlighted
    assert listed(view) == ["F1"] and view.selected == "" and view.grid.selections == []


def test_opened_with_filters_as_a_drill_down_link_sets_them(hand_run, home):
    v = FindingsView(FindingsQueue(hand_run, home=home), store=None, rule="split_hospitalization")
    assert listed(v) == ["F1"] and v.rule_box.value == "split_hospitalization" and v.matched == 1
    v = FindingsView(FindingsQueue(hand_run, home=home), store=None, institution="H1", min_amount="100")
    assert listed(v) == ["F3", "F1"] and v.institution_box.value.startswith("H1") and v.amount_box.value == "100"
    nothing = FindingsView(FindingsQueue(hand_run, home=home), store=None, county="999999")
    assert nothing.matched == 0 and "没有符合条件的疑点" in nothing.empty.value
    assert nothing.grid_box.layout.display == "none" and nothing.empty.layout.display == ""
    assert FindingsView(FindingsQueue(hand_run, home=home), store=None, institution="NOPE").matched == 0
    with pytest.raises(TypeError):
        FindingsView(FindingsQueue(hand_run, home=home), store=None, colour="red")


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


def opened(home, case_id):
    from workbench.cases.casework import cases

    return cases(CaseStore(home))[case_id]


def test_a_case_is_opened_from_the_finding_opened_with_the_name_typed(view, home):
    opener = view.case_opener
    assert opener.open_button.disabled  # nothing picked: nothing to open a case about
    view.selected = "F3"
    assert not opener.open_button.disabled and "疑点 F3，机构 H1" in opener.lead_label.value
    opener.by_box.value = ""
    opener.open_button.click()
    assert opener.case_id == "" and "未立案" in opener.message.value and "by" in opener.message.value
    opener.by_box.value = "李审核"
    opener.note_box.value = "群众举报同一机构"
    opener.open_button.click()
    cid = opener.case_id
    assert cid.startswith("C") and f"data-case='{cid}'" in opener.message.value
    st = opened(home, cid)
    assert st.source == "rule" and st.institutions == ["H1"]
    assert [f["finding_id"] for f in st.findings] == ["F3"] and st.findings[0]["rule_id"] == view.queue.finding("F3")["rule_id"]
    assert view.by == "李审核"  # the decision controls start with the same name


def test_a_case_bundles_the_filtered_institutions_findings(view, home):
    view.institution_box.value = "H1 甲医院"
    view.min_amount = "100"
    opener = view.case_opener
    assert "机构 H1 的 2 条疑点" in opener.lead_label.value
    opener.by_box.value = "李审核"
    opener.open_button.click()
    st = opened(home, opener.case_id)
    assert st.source == "rule" and st.institutions == ["H1"]
    assert sorted(f["finding_id"] for f in st.findings) == ["F1", "F3"]
    assert sum(int(Decimal(f["amount_at_risk"]) * 100) for f in st.findings) == st.loss_fen > 0
    view.institution_box.value = ""
    assert view.case_opener.open_button.disabled


def test_without_a_store_there_is_no_open_case_control(hand_run, home):
    v = FindingsView(FindingsQueue(hand_run, home=home), store=None)
    assert v.case_opener is None


def test_a_filter_is_a_grid_filter_on_row_numbers_not_new_rows(view):
    """The grid keeps every finding; the queue's filters reach the browser as its own filter."""
    data_before = view.grid._data
    view.institution_box.value = "H1 甲医院"
    ours = [tr for tr in view.grid._transforms if tr.get("column") == "ipydguuid"]
    assert view.grid._data is data_before and len(view.grid.data) == 8
    positions = ours[0]["value"]
    assert [view.grid.data.index[p] for p in positions] == listed(view) == ["F3", "F1", "F7", "F4"]
    browser_sorts(view, "涉及金额")  # a person's sort replaces the browser's transforms; the queue's filter is not said
    view.grid._transforms = view.grid._transforms + ours
    assert "ipydguuid" not in view.order.value and "按涉及金额升序" in view.order.value
    view.institution_box.value = ""  # every finding again: no filter of ours, the person's sort stays
    assert [tr["type"] for tr in view.grid._transforms] == ["sort"] and view.matched == 8


def test_a_queue_loaded_before_the_request_opens_with_the_links_filters(hand_run, home, monkeypatch):
    from widgets.findings import findings_page, prepare_findings

    monkeypatch.setenv("WORKBENCH_RUN", str(hand_run))
    monkeypatch.delenv("WORKBENCH_DATA", raising=False)
    prepare_findings(home=home)
    CaseStore(home).decide("F1", "confirmed", "王审核", finding={"fixmedins_code": "H1", "amount_at_risk": "440.00"})
    page = findings_page(str(hand_run), home=home, finding_id="F7", institution="H1", status="confirmed")
    view = page.children[0]
    assert listed(view) == ["F1"] and view.institution_box.value.startswith("H1")  # the store read again
    assert view.rows().loc["F1", "状态"] == "确认违规"
    assert view.selected == "F7" and "data-finding='F7'" in view.detail.value  # opened by its id, as findings_dashboard does
    again = findings_page(str(hand_run), home=home, finding_id="F7").children[0]  # built anew: nothing kept
    assert again is not view and again.selected == "F7" and again.matched == 8
