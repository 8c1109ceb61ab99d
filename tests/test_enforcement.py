"""Issue 19: cases from any lead, the path of a case, inspections (through the CLI, on a real store)."""
from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from workbench import cli
from workbench.cases import CaseStore
from workbench.cases.casework import act, cases, open_case, record_inspection
from workbench.errors import CaseError

INST = "H37081100005"


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def home(tmp_path):
    return str(tmp_path / "home")


def step(capsys, home, case, action, on, *extra, by="张三", ok=True):
    code, out, err = run_cli(capsys, "case", "act", case, "--action", action, "--by", by, "--on", on, *extra,
                             "--home", home)
    assert (code == 0) == ok, err or out
    return out if ok else err


def test_a_tipoff_walked_to_exposure(home, capsys):
    code, out, _ = run_cli(capsys, "case", "open", "--institution", INST, "--source", "tipoff", "--by", "张三",
                           "--on", "2025-01-06", "--note", "群众举报: 挂床住院", "--home", home)
    case = out.splitlines()[-1]
    assert code == 0 and case == "C2025-0001"
    # a tip-off has no finding: nothing is handled before it is verified
    assert "before the case is verified" in step(capsys, home, case, "interview", "2025-01-07", ok=False)
    step(capsys, home, case, "appeal", "2025-01-10", "--due", "2025-02-10")
    step(capsys, home, case, "review", "2025-01-20", by="李四")
    step(capsys, home, case, "interview", "2025-01-22")
    step(capsys, home, case, "rectify", "2025-01-22", "--due", "2025-02-28")
    store = CaseStore(home)
    st = cases(store, as_of="2025-03-01")[case]
    assert st.is_open() and st.next_deadline() == "2025-02-28"  # overdue on 1 March
    step(capsys, home, case, "recover", "2025-03-03", "--amount", "12000.50")
    # 第三十八条: 1-2 times the loss (the money ordered back), both ends included
    assert "1–2 times (from 12000.50 to 24001.00 yuan)" in step(capsys, home, case, "fine", "2025-03-05",
                                                                 "--amount", "12000.49", ok=False)
    out = step(capsys, home, case, "fine", "2025-03-05", "--amount", "24001")
    assert "2.0000 times the loss, 《医疗保障基金使用监督管理条例》第三十八条" in out
    assert "第四十条 allows 2–5 times" in step(capsys, home, case, "fine", "2025-03-05", "--amount", "12000.50",
                                              "--article", "40", ok=False)
    step(capsys, home, case, "suspend", "2025-03-10", "--until", "2025-06-30")
    assert cases(store)[case].is_open()  # the rectification is still pending
    step(capsys, home, case, "rectified", "2025-03-15")
    assert "no rectification is pending" in step(capsys, home, case, "rectified", "2025-03-16", ok=False)
    step(capsys, home, case, "expose", "2025-03-20", by="王五")
    st = cases(store)[case]
    assert not st.is_open() and st.recovered_fen == 1_200_050 and st.fined_fen == 2_400_100
    assert st.suspended == [("2025-03-10", "2025-06-30")] and st.rectifications[0]["done_on"] == "2025-03-15"
    assert [a["data"]["action"] for a in st.actions] == ["appeal", "review", "interview", "rectify", "recover", "fine",
                                                         "suspend", "rectified", "expose"]
    code, out, _ = run_cli(capsys, "case", "verify", "--home", home)
    assert code == 0 and out.startswith("case trail intact: 10 events")
    # money is bounded as in case decide
    assert "'1e26' is out of range" in step(capsys, home, case, "recover", "2025-03-21", "--amount", "1e26", ok=False)
    assert "in the future" in step(capsys, home, case, "revisit", "2999-01-01", ok=False)
    assert "before the case was opened" in step(capsys, home, case, "revisit", "2024-12-31", ok=False)


F_RING = [{"finding_id": f"g{i}", "rule_id": "claims_after_death", "result_type": "violation", "fixmedins_code": c,
           "psn_no": f"P{i}", "amount_at_risk": Decimal(a)} for i, (c, a) in enumerate([("H1", "100.00"), ("P9", "50.50")])]


def test_a_ring_case_of_violations_goes_straight_to_handling(home):
    store = CaseStore(home)
    for f in F_RING:
        store.decide(f["finding_id"], "open", "李四", finding=f)
    with pytest.raises(CaseError, match="several .* only for a ring"):
        open_case(store, "H1,P9", "rule", "张三", findings=["g0", "g1"], on="2025-02-01")
    with pytest.raises(CaseError, match="finding g1 is of institution P9, not of H1"):
        open_case(store, "H1", "rule", "张三", findings=["g0", "g1"], on="2025-02-01")
    e = open_case(store, "H1,P9", "rings", "张三", findings=["g0", "g1"], on="2025-02-01")
    cid = e["subject"]
    assert e["data"]["institutions"] == ["H1", "P9"] and [f["fraud"] for f in e["data"]["findings"]] == [True, True]
    # violations: no review needed; claims after death is fraud, so 第四十条 2-5 times the findings' 150.50
    with pytest.raises(CaseError, match="第四十条 allows 2–5 times"):
        act(store, cid, "fine", "张三", on="2025-02-03", amount="300.99")
    f = act(store, cid, "fine", "张三", on="2025-02-03", amount="300.99", article=38)
    assert (f["data"]["article"], f["data"]["multiple"], f["data"]["loss_fen"]) == (38, "1.9999", 15050)
    act(store, cid, "refer", "张三", on="2025-02-04", to="police")
    act(store, cid, "doctor_points", "张三", on="2025-02-04", doctor="D1", points=6)
    with pytest.raises(CaseError, match="from 1 to 12"):
        act(store, cid, "doctor_points", "张三", on="2025-02-04", doctor="D1", points=13)
    with pytest.raises(CaseError, match="--until is for suspend"):
        act(store, cid, "terminate", "张三", on="2025-02-05", until="2025-03-01")
    act(store, cid, "terminate", "张三", on="2025-02-05")
    with pytest.raises(CaseError, match="already terminated"):
        act(store, cid, "terminate", "张三", on="2025-02-06")
    with pytest.raises(CaseError, match="cannot dismiss a case already handled"):
        act(store, cid, "dismiss", "张三", on="2025-02-06")
    st = cases(store)[cid]
    assert not st.is_open() and st.terminated_on == "2025-02-05" and st.fraud
    assert open_case(store, "H2", "tipoff", "x", on="2025-05-01")["subject"] == "C2025-0002"
    assert open_case(store, "H2", "tipoff", "x", on="2024-12-01")["subject"] == "C2024-0001"


def test_a_suspicious_finding_needs_verifying_and_a_dismissal_ends_the_case(home):
    store = CaseStore(home)
    store.decide("s1", "open", "李四", finding={"finding_id": "s1", "rule_id": "split_hospitalization",
                                                 "result_type": "suspicious", "fixmedins_code": "H3",
                                                 "amount_at_risk": "10.00"})
    cid = open_case(store, "H3", "rule", "张三", findings=["s1"], on="2025-01-01")["subject"]
    with pytest.raises(CaseError, match="before the case is verified"):
        act(store, cid, "recover", "张三", on="2025-01-02", amount="10")
    act(store, cid, "dismiss", "张三", on="2025-01-03")
    with pytest.raises(CaseError, match="dismissed on 2025-01-03"):
        act(store, cid, "confirm", "张三", on="2025-01-04")
    assert not cases(store)[cid].is_open()
    with pytest.raises(CaseError, match="no case 'C2030-0001'"):
        act(store, "C2030-0001", "review", "张三", on="2025-01-04")


def test_a_case_event_edited_with_sqlite3_is_caught(home):
    store = CaseStore(home)
    cid = open_case(store, "H1", "tipoff", "张三", on="2025-01-01")["subject"]
    act(store, cid, "review", "张三", on="2025-01-02")
    record_inspection(store, "H1", "flying", "2025-01-03", "张三")
    assert store.verify().ok
    con = sqlite3.connect(store.path)
    con.execute("DROP TRIGGER case_events_no_update")
    con.execute("UPDATE case_events SET on_date = '2025-01-09' WHERE seq = 3")
    con.commit()
    con.close()
    check = store.verify()
    assert not check.ok and [(p.seq, p.kind) for p in check.problems] == [(3, "edited row")]
    assert "column on is '2025-01-09'" in str(check.problems[0])
    assert any("case_events_no_update" in w for w in check.warnings)


def test_a_published_draw_records_its_inspections_in_one_step(home, tmp_path, capsys):
    import hashlib
    import json

    draw = tmp_path / "DRAW.json"
    draw.write_text(json.dumps({"teams": [{"team": "T01", "fixmedins_code": "H37081100005", "admdvs": "370811"},
                                          {"team": "T02", "fixmedins_code": "H37088300002", "admdvs": "370883"}]}),
                    encoding="utf-8")
    code, out, err = run_cli(capsys, "inspection", "record", "--kind", "lottery", "--on", "2025-05-06", "--by", "执法二队",
                             "--draw", str(draw), "--home", home)
    assert code == 0, err
    evs = CaseStore(home).case_events(kinds="inspection")
    assert [(e["subject"], e["on"], e["data"]["admdvs"]) for e in evs] == [
        ("H37081100005", "2025-05-06", "370811"), ("H37088300002", "2025-05-06", "370883")]
    assert {e["data"]["draw"] for e in evs} == {hashlib.sha256(draw.read_bytes()).hexdigest()}
    code, _, err = run_cli(capsys, "inspection", "record", "--kind", "flying", "--on", "2025-05-06", "--by", "x",
                           "--draw", str(draw), "--home", home)
    assert code == 1 and "--draw records lottery inspections" in err
