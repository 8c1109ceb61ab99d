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


# --- the outcome briefing of a period (item 5) ------------------------------------------------------------
Q1 = ("--from", "2025-01-01", "--to", "2025-03-31")


def briefing_json(capsys, home, *extra):
    import json

    code, out, err = run_cli(capsys, "briefing", *Q1, "--json", "--home", home, *extra)
    assert code == 0, err
    return json.loads(out, parse_float=Decimal)


@pytest.fixture
def scripted(home, tmp_path, capsys):
    """Five cases and five inspections around the first quarter of 2025 (see the figures below)."""
    import json

    def opened(inst, source, on):
        code, out, err = run_cli(capsys, "case", "open", "--institution", inst, "--source", source, "--by", "张三",
                                 "--on", on, "--note", "举报人李某某 13800000000", "--home", home)
        assert code == 0, err
        return out.splitlines()[-1]

    def inspect(inst, kind, on):
        code, _, err = run_cli(capsys, "inspection", "record", "--institution", inst, "--kind", kind, "--on", on,
                               "--by", "执法一队", "--home", home)
        assert code == 0, err

    e = opened("H2", "tipoff", "2024-11-01")  # dismissed before the quarter: neither open nor counted
    step(capsys, home, e, "dismiss", "2024-11-15")
    a = opened("H1", "tipoff", "2024-12-20")
    step(capsys, home, a, "review", "2024-12-28")
    step(capsys, home, a, "recover", "2024-12-31", "--amount", "5000")  # the day before: not counted
    step(capsys, home, a, "fine", "2025-01-01", "--amount", "5000")  # the first day: counted, January
    step(capsys, home, a, "rectify", "2025-01-10", "--due", "2025-02-15")
    step(capsys, home, a, "rectified", "2025-02-10")  # in time
    step(capsys, home, a, "suspend", "2025-02-01", "--until", "2025-04-30")
    step(capsys, home, a, "fine", "2025-03-20", "--amount", "7500")  # a fine added later: March
    step(capsys, home, a, "expose", "2025-04-01")  # the day after: not counted
    b = opened("H2", "referral", "2025-01-05")
    step(capsys, home, b, "confirm", "2025-01-06")
    step(capsys, home, b, "interview", "2025-01-20")
    step(capsys, home, b, "rectify", "2025-01-20", "--due", "2025-03-10")
    step(capsys, home, b, "recover", "2025-02-20", "--amount", "1200.50")
    step(capsys, home, b, "refer", "2025-03-05", "--to", "health")
    step(capsys, home, b, "terminate", "2025-03-31")
    step(capsys, home, b, "rectified", "2025-04-02")  # late: still overdue at the quarter's end
    c = opened("H1,Y1", "rings", "2025-02-01")
    step(capsys, home, c, "review", "2025-02-03")
    step(capsys, home, c, "interview", "2025-02-05")
    step(capsys, home, c, "rectify", "2025-02-05", "--due", "2025-02-28")  # never rectified
    step(capsys, home, c, "expose", "2025-03-01")
    d = opened("H9", "tipoff", "2025-04-02")  # after the quarter
    step(capsys, home, d, "review", "2025-04-03")
    inspect("H1", "flying", "2024-12-31")
    inspect("H1", "routine", "2025-01-15")
    draw = tmp_path / "DRAW.json"
    draw.write_text(json.dumps({"teams": [{"team": "T01", "fixmedins_code": "H2", "admdvs": "370103"}]}), encoding="utf-8")
    code, _, err = run_cli(capsys, "inspection", "record", "--kind", "lottery", "--on", "2025-02-10", "--by", "执法二队",
                           "--draw", str(draw), "--home", home)
    assert code == 0, err
    inspect("H1", "campaign", "2025-03-31")
    inspect("Y1", "routine", "2025-04-01")
    return {"A": a, "B": b, "C": c, "D": d, "E": e}


def test_the_quarters_briefing_equals_the_figures_by_hand(scripted, home, capsys):
    got = briefing_json(capsys, home)
    assert got == {
        "from": "2025-01-01", "to": "2025-03-31", "county": None,
        "inspected_institutions": 2,  # H1 (15 Jan, 31 Mar) and H2 (10 Feb); not H1 on 31 Dec nor Y1 on 1 Apr
        "inspections": 3, "cases_opened": 2,  # B and C
        "suspended_institutions": 1, "terminated_institutions": 1, "fined_institutions": 1,
        "fine_amount": Decimal("12500.00"),  # A: 5000 on 1 Jan + 7500 on 20 Mar
        "recovered_amount": Decimal("1200.50"),  # B; A's 5000 came on 31 Dec
        "exposed_cases": 1, "referred_cases": 1,  # C (A's exposure is on 1 Apr)
        "interviews": 2, "interviewed_institutions": 3,  # B (H2), C (H1, Y1)
        "open_cases": 2,  # B and C: a rectification pending on 31 Mar; A closed, D not yet opened, E dismissed
        "overdue_rectifications": 2,  # B's (due 10 Mar, done 2 Apr) and C's (due 28 Feb); A's done in time
        "unplaced_institutions": ["H1", "Y1"],  # no data folder: only H2's county, from the draw
    }
    # one day wider on each side takes in what lay just outside
    wide = briefing_json(capsys, home, "--from", "2024-12-31", "--to", "2025-04-01")
    assert (wide["inspected_institutions"], wide["recovered_amount"], wide["exposed_cases"]) == (3, Decimal("6200.50"), 2)
    assert wide["open_cases"] == 2 and wide["overdue_rectifications"] == 2


def test_a_county_counts_its_own_institutions(scripted, home, tmp_path, capsys):
    from ruledata import tiny_tables

    from workbench import datafolder

    tables = tiny_tables()
    tables["medins"].loc[tables["medins"]["fixmedins_code"] == "H2", "admdvs"] = "370103"
    data = tmp_path / "data"
    datafolder.write_data_folder(data, tables, source={"kind": "test", "name": "two counties"})
    lixia = briefing_json(capsys, home, "--data", str(data), "--county", "370102")
    assert {k: lixia[k] for k in ("inspected_institutions", "inspections", "cases_opened", "suspended_institutions",
                                  "terminated_institutions", "fined_institutions", "fine_amount", "recovered_amount",
                                  "exposed_cases", "referred_cases", "interviews", "open_cases",
                                  "overdue_rectifications")} == {
        "inspected_institutions": 1, "inspections": 2, "cases_opened": 1, "suspended_institutions": 1,
        "terminated_institutions": 0, "fined_institutions": 1, "fine_amount": Decimal("12500.00"),
        "recovered_amount": Decimal("0.00"), "exposed_cases": 1, "referred_cases": 0, "interviews": 1,
        "open_cases": 1, "overdue_rectifications": 1}
    other = briefing_json(capsys, home, "--data", str(data), "--county", "370103")
    assert (other["inspected_institutions"], other["terminated_institutions"], other["recovered_amount"],
            other["referred_cases"], other["open_cases"], other["overdue_rectifications"]) == (
        1, 1, Decimal("1200.50"), 1, 1, 1)
    assert other["unplaced_institutions"] == []


def test_the_read_out_by_month_in_html_and_xlsx_without_personal_data(scripted, home, tmp_path, capsys):
    import re

    from openpyxl import load_workbook

    from workbench.cases.outcomes import Outcomes

    months = Outcomes.of_store(CaseStore(home)).by_month("2025-01-01", "2025-03-31")
    assert [(m["month"], m["fine_amount"], m["recovered_amount"], m["suspended_institutions"],
             m["terminated_institutions"], m["open_cases"], m["overdue_rectifications"]) for m in months] == [
        ("2025-01", Decimal("5000.00"), Decimal("0.00"), 0, 0, 2, 0),
        ("2025-02", Decimal("0.00"), Decimal("1200.50"), 1, 0, 2, 1),
        ("2025-03", Decimal("7500.00"), Decimal("0.00"), 0, 1, 2, 2)]
    page = tmp_path / "q1.html"
    code, out, err = run_cli(capsys, "briefing", *Q1, "--out", str(page), "--home", home)
    assert code == 0, err
    text = page.read_text(encoding="utf-8")
    assert "2025年1月1日至3月31日，全市共检查定点医药机构2家，暂停医保协议1家、解除医保协议1家，行政罚款1家、罚款1.25万元" in text
    tiles = dict(re.findall(r"data-figure='(\w+)' data-value='([^']*)'", text))
    assert tiles["fine_amount"] == "12500.00" and tiles["overdue_rectifications"] == "2"
    for personal in ("张三", "李某某", "13800000000", "执法一队"):
        assert personal not in text
    book = tmp_path / "q1.xlsx"
    assert run_cli(capsys, "briefing", *Q1, "--out", str(book), "--home", home)[0] == 0
    wb = load_workbook(book)
    assert wb.sheetnames == ["概要", "按月", "分区县"]
    cells = [str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    assert not any(p in c for c in cells for p in ("张三", "李某某", "13800000000"))
    month_rows = list(wb["按月"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in month_rows] == ["2025-01", "2025-02", "2025-03"]
    assert run_cli(capsys, "briefing", *Q1, "--out", str(tmp_path / "q1.pdf"), "--home", home)[0] == 1


def test_decisions_count_by_the_day_each_change_was_recorded():
    from workbench.cases.outcomes import Outcomes

    def dec(seq, at, status, rec=None, actions=(), fine=None):
        acts = [{"action": a} for a in actions] + ([{"action": "fine", "amount_fen": fine}] if fine else [])
        return {"seq": seq, "finding_id": "f1", "at": at + "T09:00:00.000+00:00", "status": status,
                "recovered_fen": rec, "actions": acts, "finding": {"fixmedins_code": "H1", "rule_id": "r1"}}

    events = [dec(1, "2025-01-10", "confirmed", rec=10000, actions=["suspend"]),
              dec(2, "2025-03-02", "confirmed", rec=10000, actions=["suspend"], fine=50000),  # fine added later
              dec(3, "2025-03-05", "open", rec=10000, actions=["suspend"], fine=50000),  # reopened
              dec(4, "2025-04-01", "confirmed", rec=15000, actions=["suspend", "refer_police"], fine=50000)]
    o = Outcomes([], events)
    jan, feb, mar = o.by_month("2025-01-01", "2025-03-31")
    assert (jan["suspended_institutions"], jan["recovered_amount"], jan["fine_amount"]) == (1, Decimal("100.00"), Decimal("0.00"))
    assert (feb["suspended_institutions"], feb["fine_amount"]) == (0, Decimal("0.00"))
    assert (mar["fined_institutions"], mar["fine_amount"]) == (1, Decimal("500.00"))
    april = o.figures("2025-04-01", "2025-04-30")  # re-confirmed: only what changed counts again
    assert (april["suspended_institutions"], april["fine_amount"], april["recovered_amount"], april["referred_cases"]) == (
        0, Decimal("0.00"), Decimal("50.00"), 1)


def test_case_decide_actions_count_through_the_cli(home, hand_run, capsys):
    code, _, err = run_cli(capsys, "case", "decide", "F2", "--status", "confirmed", "--by", "张三", "--run", str(hand_run),
                           "--recovered", "88.88", "--action", "suspend", "--fine", "200", "--home", home)
    assert code == 0, err
    day = CaseStore(home).events()[-1]["at"][:10]
    got = briefing_json(capsys, home, "--from", day, "--to", day)
    assert (got["suspended_institutions"], got["fined_institutions"], got["fine_amount"], got["recovered_amount"]) == (
        1, 1, Decimal("200.00"), Decimal("88.88"))


# --- credit from the cases (item 4) ------------------------------------------------------------------------
def credit_json(capsys, home, as_of):
    import json

    code, out, err = run_cli(capsys, "credit", "--as-of", as_of, "--json", "--home", home)
    assert code == 0, err
    return json.loads(out)


def test_doctor_points_and_confirmed_cases_make_the_credit(home, capsys):
    def opened(inst, on):
        return run_cli(capsys, "case", "open", "--institution", inst, "--source", "tipoff", "--by", "张三", "--on", on,
                       "--home", home)[1].splitlines()[-1]

    a, b, c = opened("H1", "2025-01-02"), opened("H1", "2025-02-01"), opened("H2", "2025-02-01")
    step(capsys, home, a, "confirm", "2025-01-05")
    step(capsys, home, a, "doctor_points", "2025-01-06", "--doctor", "D1", "--points", "6")
    step(capsys, home, b, "review", "2025-02-02")
    step(capsys, home, b, "doctor_points", "2025-02-03", "--doctor", "D1", "--points", "4")
    step(capsys, home, c, "dismiss", "2025-02-03")  # counts nothing
    got = credit_json(capsys, home, "2025-01-31")
    assert [(d["dr_code"], d["points"], d["status"]) for d in got["doctors"]] == [("D1", 6, "normal")]
    assert [(i["fixmedins_code"], i["credit_class"], i["findings"]) for i in got["institutions"]] == [("H1", "B", 1)]
    got = credit_json(capsys, home, "2025-03-01")
    assert [(d["dr_code"], d["points"], d["remaining"], d["status"]) for d in got["doctors"]] == [("D1", 10, 2, "suspended")]
    # b was verified by review and handled (doctor points) on 3 Feb: a second confirmed case of H1
    assert [(i["fixmedins_code"], i["credit_class"], i["findings"]) for i in got["institutions"]] == [("H1", "B", 2)]
    # 异议: lodged, pending; upheld, the points of case b leave D1's record
    code, _, err = run_cli(capsys, "credit", "object", "--doctor", "D1", "--ref", b, "--by", "D1的代理人", "--on", "2025-03-02",
                           "--home", home)
    assert code == 0, err
    assert [(o["code"], o["ref"], o["outcome"]) for o in credit_json(capsys, home, "2025-03-03")["objections"]] == [("D1", b, None)]
    code, _, err = run_cli(capsys, "credit", "object", "--doctor", "D1", "--outcome", "upheld", "--by", "李四",
                           "--on", "2025-03-10", "--home", home)
    assert code == 0, err
    got = credit_json(capsys, home, "2025-03-11")
    assert got["objections"][0]["outcome"] == "upheld" and got["doctors"][0]["points"] == 6
    assert run_cli(capsys, "credit", "object", "--doctor", "D1", "--outcome", "rejected", "--by", "李四", "--on",
                   "2025-03-11", "--home", home)[2].count("no pending objection") == 1
    # 信用修复: from its day, what came before no longer counts for H1
    code, _, err = run_cli(capsys, "credit", "repair", "--institution", "H1", "--by", "李四", "--on", "2025-04-01",
                           "--home", home)
    assert code == 0, err
    assert [i["credit_class"] for i in credit_json(capsys, home, "2025-03-31")["institutions"]] == ["B"]
    after = credit_json(capsys, home, "2025-04-01")
    assert after["institutions"] == [] and after["repairs"] == [{"party": "institution", "code": "H1", "on": "2025-04-01"}]
    assert [(d["dr_code"], d["points"]) for d in after["doctors"]] == [("D1", 6)]  # the doctor's own record stays
    assert CaseStore(home).verify().ok  # credit events sit on the same chain


# --- the public notice of an exposure (item 6) -------------------------------------------------------------
def test_expose_writes_a_public_notice_without_personal_data(home, hand_run, tiny_data, tmp_path, capsys):
    import re

    code, out, err = run_cli(capsys, "case", "open", "--institution", "H2", "--source", "rule", "--by", "张三",
                             "--finding", "F2", "--run", str(hand_run), "--on", "2025-02-01",
                             "--note", "参保人P1（身份证370102195001011234）死亡后仍有结算", "--home", home)
    assert code == 0, err
    case = out.splitlines()[-1]
    step(capsys, home, case, "recover", "2025-02-10", "--amount", "88.88", "--note", "P1 的家属已退款")
    step(capsys, home, case, "fine", "2025-02-12", "--amount", "177.76")  # claims after death is fraud: 第四十条, 2x
    step(capsys, home, case, "suspend", "2025-02-15", "--until", "2025-08-14")
    step(capsys, home, case, "doctor_points", "2025-02-15", "--doctor", "D9", "--points", "3")
    step(capsys, home, case, "refer", "2025-02-16", "--to", "police")
    assert "--notice writes the public notice of an exposure" in step(
        capsys, home, case, "interview", "2025-02-17", "--notice", str(tmp_path / "x.html"), ok=False)
    page = tmp_path / "notice.html"
    out = step(capsys, home, case, "expose", "2025-02-20", "--notice", str(page), "--data", str(tiny_data), by="王五")
    assert f"wrote the public notice (曝光) {page}" in out
    text = page.read_text(encoding="utf-8")
    assert "<h1>乙卫生院违规使用医保基金案</h1>" in text
    body = re.sub(r"<[^>]+>", "", text)
    assert "经查，乙卫生院（机构编码 H2）存在死亡人员就医结算等问题（1项），涉及医保基金88.88元。" in body
    for sentence in ("追回医保基金88.88元。", "依据《医疗保障基金使用监督管理条例》第四十条，处违规金额2倍罚款177.76元。",
                     "暂停医保服务协议（2025年2月15日至2025年8月14日）。", "对相关责任医师记3分。", "将案件线索移送公安机关。"):
        assert sentence in body
    assert "第四十条　定点医药机构通过下列方式骗取医疗保障基金支出的" in body and "第三十八条" not in body.split("法律依据")[1]
    for personal in ("P1", "370102195001011234", "1950", "M4", "D9", "张三", "王五", "家属", "身份证"):
        assert personal not in text, personal
    # without a data folder the institution is named by its code; a dismissed case is not exposed
    from workbench.cases.casework import act, open_case
    from workbench.exposure import notice

    assert notice(CaseStore(home), case)["title"] == "H2违规使用医保基金案"
    other = open_case(CaseStore(home), "H1", "tipoff", "x", on="2025-03-01")["subject"]
    act(CaseStore(home), other, "dismiss", "x", on="2025-03-02")
    with pytest.raises(CaseError, match="not exposed"):
        notice(CaseStore(home), other)


# --- periods and the worklist (items 5 and 7, the workbench side of the dashboards) -----------------------
def test_the_periods_a_bureau_reports_on():
    from workbench.cases.outcomes import period_range

    assert period_range(2025, "year") == ("2025-01-01", "2025-12-31", "2025年全年")
    assert period_range(2024, "quarter", 1) == ("2024-01-01", "2024-03-31", "2024年第一季度")
    assert period_range(2024, "month", 2) == ("2024-02-01", "2024-02-29", "2024年2月")  # a leap year
    assert period_range(2025, "ytd", 5) == ("2025-01-01", "2025-05-31", "2025年1—5月")
    assert period_range("2025", "quarter", "4")[:2] == ("2025-10-01", "2025-12-31")
    for bad in [(2025, "quarter", 5), (2025, "month", None), (2025, "week", 1), ("x", "year", None)]:
        with pytest.raises(CaseError):
            period_range(*bad)


def test_the_worklist_puts_overdue_first(home):
    from workbench.cases.outcomes import worklist

    store = CaseStore(home)
    x, y, z, w = (open_case(store, i, "tipoff", "张三", on="2025-01-02")["subject"] for i in ("H1", "H2", "H3", "H4"))
    act(store, x, "review", "张三", on="2025-01-03")
    act(store, x, "rectify", "张三", on="2025-01-03", due="2025-02-01")
    act(store, y, "appeal", "张三", on="2025-01-05", due="2025-03-01")
    act(store, w, "review", "张三", on="2025-01-03")
    act(store, w, "interview", "张三", on="2025-01-04")  # verified, handled, nothing pending: closed
    got = worklist(store, today="2025-02-11")
    assert [(r["case_id"], r["next_deadline"], r["waiting"], r["overdue_days"]) for r in got] == [
        (x, "2025-02-01", "rectify", 10), (y, "2025-03-01", "appeal", 0), (z, None, "verify", 0)]
    act(store, x, "rectified", "张三", on="2025-02-12")
    later = worklist(store, today="2025-03-05")  # y's appeal now late; x waits to be handled, z to be verified
    assert [(r["case_id"], r["waiting"], r["overdue_days"]) for r in later] == [(y, "appeal", 4), (x, "handle", 0),
                                                                                (z, "verify", 0)]
