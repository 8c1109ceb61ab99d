"""The decision controls without a browser: set the finding, fill the controls, click, read the store."""
from decimal import Decimal

import pandas as pd
import pytest

pytest.importorskip("ipywidgets")

from widgets.cases import CaseControls  # noqa: E402
from workbench.cases import CaseStore  # noqa: E402

FINDINGS = pd.DataFrame([
    {"finding_id": "f1", "rule_id": "split_hospitalization", "result_type": "suspicious", "fixmedins_code": "H1",
     "dr_code": None, "psn_no": "P1", "mdtrt_id": "M1", "amount_at_risk": Decimal("440.00"), "detail": "再次入院"},
    {"finding_id": "f2", "rule_id": "claims_after_death", "result_type": "violation", "fixmedins_code": "H2",
     "dr_code": None, "psn_no": "P2", "mdtrt_id": "M2", "amount_at_risk": Decimal("88.88"), "detail": "死亡后就诊"},
])


@pytest.fixture
def store(tmp_path):
    return CaseStore(tmp_path / "home")


def test_confirm_with_money_and_actions_then_see_the_history(store):
    w = CaseControls(store, FINDINGS, run_id="run1", finding_id="f1")
    assert w.status == "" and "未处理" in w.status_label.value and "440.00" in w.header.value
    w.by_box.value = "张三"
    w.note_box.value = "病历不支持"
    w.recovered_box.value = "440"
    w.action_boxes["suspend"].value = True
    w.action_boxes["fine"].value = True
    w.fine_box.value = "1000.50"
    w.confirm_button.click()
    assert w.status == "confirmed" and w.last_seq == 1 and "已记录" in w.message.value
    cur = store.current().set_index("finding_id").loc["f1"]
    assert (cur["status"], cur["decided_by"], cur["note"], cur["recovered"], cur["actions"], cur["fine"]) == (
        "confirmed", "张三", "病历不支持", Decimal("440.00"), "suspend;fine", Decimal("1000.50"))
    assert (cur["rule_id"], cur["amount_at_risk"], cur["run_id"]) == ("split_hospitalization", Decimal("440.00"), "run1")
    assert "张三" in w.history.value and w.history.value.count("<tr>") == 2  # header + one event
    # another finding, then back: the controls show each one's state
    w.finding_id = "f2"
    assert (w.status, w.note_box.value, w.recovered_box.value, w.action_boxes["suspend"].value) == ("", "", "", False)
    w.finding_id = "f1"
    assert (w.note_box.value, w.recovered_box.value, w.fine_box.value, w.action_boxes["fine"].value) == (
        "病历不支持", "440.00", "1000.50", True)


def test_dismiss_and_reopen(store):
    w = CaseControls(store, FINDINGS, finding_id="f1", by="李四")
    w.action_boxes["refer_police"].value = True
    w.confirm_button.click()
    w.dismiss_button.click()  # a dismissal clears the actions
    assert w.status == "dismissed" and w.action_boxes["refer_police"].value is False
    w.reopen_button.click()
    assert w.status == "open" and list(store.history("f1")["status"]) == ["confirmed", "dismissed", "open"]
    assert w.last_seq == 3 and w.history.value.count("<tr>") == 4


def test_errors_are_shown_not_raised(store):
    w = CaseControls(store, FINDINGS, finding_id="f1")
    w.confirm_button.click()  # no auditor name
    assert "未记录" in w.message.value and "must not be empty" in w.message.value and w.status == ""
    w.by = "王五"
    w.action_boxes["fine"].value = True  # a fine without its amount
    w.confirm_button.click()
    assert "needs its amount" in w.message.value
    w.action_boxes["fine"].value = False
    w.recovered_box.value = "12.345"
    w.confirm_button.click()
    assert "more than 2 decimals" in w.message.value
    assert store.events() == [] and w.last_seq == 0


def test_no_finding_disables_the_buttons(store):
    w = CaseControls(store)
    assert w.confirm_button.disabled and w.header.value == "" and w.history.value == ""
    w.finding_id = "x9"  # a finding not in any run frame: decided without a snapshot
    w.by = "A"
    w.confirm_button.click()
    assert w.status == "confirmed" and store.current()["rule_id"].tolist() == [None]


def test_the_worklist_lists_open_cases_overdue_first(store):
    from widgets.cases import Worklist
    from workbench.cases.casework import act, open_case

    a = open_case(store, "H1", "tipoff", "张三", on="2025-01-02")["subject"]
    b = open_case(store, "H2", "referral", "张三", on="2025-01-03")["subject"]
    act(store, a, "review", "张三", on="2025-01-04")
    act(store, a, "rectify", "张三", on="2025-01-04", due="2025-03-01")
    act(store, b, "appeal", "张三", on="2025-01-05", due="2025-02-01")
    w = Worklist(store, today="2025-02-10")
    assert w.overdue == 1 and "逾期 1 件" in w.table.value and "data-rows='2'" in w.table.value
    assert w.listed() == [b, a]  # the grid's rows, overdue first
    frame = w.grid.grid.data
    assert frame.loc[b, "逾期天数"] == 9 and frame.loc[a, "逾期天数"] == 0  # 2025-02-01 to 2025-02-10
    assert frame.loc[b, "事项"] == "申诉复核期限" and frame.loc[a, "下一期限"] == "2025-03-01"
    act(store, b, "review", "李四", on="2025-02-11")
    act(store, b, "dismiss", "李四", on="2025-02-11")
    w.today = "2025-02-12"
    w.refresh()
    assert w.overdue == 0 and "已清零" in w.table.value and w.listed() == [a]


def test_a_clicked_worklist_row_shows_its_case_in_any_order(store):
    from widgets.cases import Worklist
    from workbench.cases.casework import act, open_case

    a = open_case(store, ["H1", "H3"], "rings", "张三", on="2025-01-02", note="团伙")["subject"]
    b = open_case(store, "H2", "referral", "张三", on="2025-01-03")["subject"]
    act(store, a, "review", "张三", on="2025-01-04")
    act(store, a, "rectify", "张三", on="2025-01-04", due="2025-01-20")
    w = Worklist(store, today="2025-02-10")
    assert w.listed() == [a, b] and w.selected == "" and "click a case" in w.detail.value
    w.grid.grid.selections = [{"r1": 1, "c1": 0, "r2": 1, "c2": 6}]  # a click on the second row
    assert w.selected == b and f"data-case='{b}'" in w.detail.value and "H2" in w.detail.value
    # the browser sorted by the case id, descending: row 1 is now a
    w.grid.grid._transforms = [{"type": "sort", "column": "案件编号", "desc": True}]
    w.grid.grid._visible_rows = [1, 0] if b > a else [0, 1]
    w.grid.grid.selections = [{"r1": 1, "c1": 0, "r2": 1, "c2": 6}]
    assert w.selected == min(a, b)
    w.selected = a
    assert "H1、H3" in w.detail.value and "逾期天数</b>：21" in w.detail.value and "责令整改" in w.detail.value
    assert w.grid.grid.selections[-1]["r1"] == w.listed().index(a)  # chosen elsewhere: its row is highlighted
