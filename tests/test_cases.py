"""The case store: decisions, derived state, the hash chain, tampering, concurrency, briefing figures."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from workbench import cli
from workbench.cases import Problem
from workbench.cases import GENESIS, CaseStore, briefing_figures, canonical, event_hash, to_fen
from workbench.errors import CaseError

F1 = {"finding_id": "f1", "rule_id": "split_hospitalization", "result_type": "suspicious", "fixmedins_code": "H1",
      "dr_code": None, "psn_no": "P1", "mdtrt_id": "M1", "amount_at_risk": Decimal("440.00")}
F2 = {"finding_id": "f2", "rule_id": "claims_after_death", "result_type": "violation", "fixmedins_code": "H1",
      "dr_code": None, "psn_no": "P2", "mdtrt_id": "M2", "amount_at_risk": Decimal("88.88")}
F3 = {"finding_id": "f3", "rule_id": "claims_after_death", "result_type": "violation", "fixmedins_code": "H2",
      "dr_code": "D1", "psn_no": "P3", "mdtrt_id": "M3", "amount_at_risk": Decimal("1000.10")}


@pytest.fixture
def store(tmp_path):
    return CaseStore(tmp_path / "home")


def test_money_is_exact_fen():
    assert to_fen("12.34") == 1234 and to_fen(Decimal("0.1")) == 10 and to_fen(5) == 500 and to_fen("1,000") == 100000
    assert to_fen(None) is None and to_fen("") is None
    for bad in ("1.234", "-1", "abc", 1.5, "NaN"):
        with pytest.raises(CaseError):
            to_fen(bad)


def test_decisions_keep_previous_values_and_derive_the_current_state(store):
    e1 = store.decide("f1", "confirmed", "张三", note="查实", recovered="100.10", actions=["suspend"], fine="5000",
                      finding={**F1, "run_id": "r1"})
    e2 = store.decide("f1", "confirmed", "李四", note="补充材料")  # keeps money, actions, snapshot
    store.decide("f2", "dismissed", "王五", finding=F2)
    assert (e1["seq"], e2["seq"]) == (1, 2)
    assert e2["recovered_fen"] == 10010 and e2["finding"]["run_id"] == "r1"
    assert e2["actions"] == [{"action": "suspend"}, {"action": "fine", "amount_fen": 500000}]
    assert e2["previous"] == {"seq": 1, "status": "confirmed", "note": "查实", "recovered_fen": 10010,
                              "actions": e1["actions"]}
    cur = store.current().set_index("finding_id")
    assert list(cur.index) == ["f1", "f2"]
    f1 = cur.loc["f1"]
    assert (f1["status"], f1["decided_by"], f1["updated_by"], f1["note"]) == ("confirmed", "张三", "李四", "补充材料")
    assert f1["decided_at"] == e1["at"] and f1["updated_at"] == e2["at"]  # a later note does not move decided_at
    assert (f1["recovered"], f1["fine"], f1["actions"]) == (Decimal("100.10"), Decimal("5000.00"), "suspend;fine")
    assert (f1["amount_at_risk"], f1["rule_id"], f1["events"], f1["last_seq"]) == (Decimal("440.00"), "split_hospitalization", 2, 2)
    assert cur.loc["f2", "status"] == "dismissed" and cur.loc["f2", "actions"] == ""
    e3 = store.decide("f1", "confirmed", "李四", fine="300", add_actions=["refer_police"])  # fine replaced, action added
    assert e3["actions"] == [{"action": "suspend"}, {"action": "fine", "amount_fen": 30000}, {"action": "refer_police"}]
    # reopen: a status change moves decided_at; the actions are replaced when given
    e4 = store.decide("f1", "open", "张三", actions=[])
    assert store.current().set_index("finding_id").loc["f1", "decided_at"] == e4["at"]
    assert e4["actions"] == [] and e4["previous"]["actions"] == e3["actions"]
    assert list(store.history("f1")["status"]) == ["confirmed", "confirmed", "confirmed", "open"]
    assert list(store.history("f1")["previous_status"]) == [None, "confirmed", "confirmed", "confirmed"]


def test_dismissal_clears_money_and_actions(store):
    store.decide("f1", "confirmed", "A", recovered="10", actions=["refer_police"])
    e = store.decide("f1", "dismissed", "B")
    assert (e["recovered_fen"], e["actions"], e["previous"]["recovered_fen"]) == (None, [], 1000)
    with pytest.raises(CaseError, match="dismissed finding carries no recovered money"):
        store.decide("f1", "dismissed", "B", actions=["suspend"])


@pytest.mark.parametrize("kw, message", [
    ({"status": "maybe"}, "status 'maybe'"),
    ({"by": "  "}, "must not be empty"),
    ({"recovered": "1.001"}, "more than 2 decimals"),
    ({"actions": ["fine"]}, "needs its amount"),
    ({"actions": ["jail"]}, "unknown action 'jail'"),
    ({"finding_id": "a b"}, "must not contain spaces"),
    ({"finding": {**F1, "finding_id": "other"}}, "does not match"),
])
def test_bad_decisions_are_refused_and_nothing_is_written(store, kw, message):
    args = {"finding_id": "f1", "status": "confirmed", "by": "A", **kw}
    with pytest.raises(CaseError, match=message):
        store.decide(**args)
    assert store.events() == []


def test_event_hash_is_sha256_of_previous_hash_and_canonical_json(store):
    e1 = store.decide("f1", "confirmed", "张三", note="查实")
    e2 = store.decide("f2", "open", "李四")
    body = {k: v for k, v in e1.items() if k not in ("prev_hash", "hash")}
    text = canonical(body)
    assert text.startswith('{"actions":[],"at":"') and '"by":"张三"' in text and " " not in text.replace("张三", "")
    assert e1["prev_hash"] == GENESIS
    assert e1["hash"] == hashlib.sha256((GENESIS + text).encode("utf-8")).hexdigest()
    assert e2["prev_hash"] == e1["hash"]
    assert e2["hash"] == event_hash(e1["hash"], {k: v for k, v in e2.items() if k not in ("prev_hash", "hash")})
    check = store.verify()
    assert (check.ok, check.events, check.head_seq, check.head_hash) == (True, 2, 2, e2["hash"])


def test_triggers_refuse_update_and_delete(store):
    store.decide("f1", "confirmed", "A")
    con = sqlite3.connect(store.path)
    for sql in ("UPDATE events SET note = 'x'", "DELETE FROM events", "UPDATE chain_head SET seq = 5", "DELETE FROM chain_head"):
        with pytest.raises(sqlite3.DatabaseError):
            con.execute(sql)
    con.close()
    assert store.verify().ok


def _sqlite(path, sql):
    """Change the store behind the API's back: the sqlite3 shell if installed, else Python's sqlite3."""
    if shutil.which("sqlite3"):
        subprocess.run(["sqlite3", str(path), sql], check=True, capture_output=True)
    else:
        con = sqlite3.connect(path)
        con.executescript(sql)
        con.close()


def _five(store):
    for i, (fid, status) in enumerate([("f1", "confirmed"), ("f2", "dismissed"), ("f1", "confirmed"),
                                        ("f3", "open"), ("f2", "open")], 1):
        store.decide(fid, status, f"auditor{i}", note=f"note {i}")


def test_verify_catches_a_note_edited_with_sqlite3(store, capsys):
    _five(store)
    _sqlite(store.path, "DROP TRIGGER events_no_update; UPDATE events SET note = '改过' WHERE seq = 1;")
    check = store.verify()
    assert not check.ok
    assert check.problems == [
        Problem(1, "edited row", "finding f1: the row was changed after it was written (its content no longer "
                                 "matches its hash)"),
        Problem(1, "state mismatch", "finding f1: its note is '改过' but event 3 recorded it as 'note 1' (edited)"),
    ]
    assert check.warnings == ["protection trigger events_no_update was removed: the events table can be changed"]
    assert cli.main(["case", "verify", "--home", str(store.home)]) == 1
    out = capsys.readouterr().out
    assert "case trail BROKEN: 2 problem(s)" in out and "event 1: edited row" in out


def test_verify_catches_a_deleted_event(store, capsys):
    _five(store)
    _sqlite(store.path, "DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 3;")
    check = store.verify()
    assert [(p.seq, p.kind, p.message) for p in check.problems] == [(3, "missing seq", "event 3 is missing (deleted)")]
    assert cli.main(["case", "verify", "--home", str(store.home)]) == 1
    assert "event 3: missing seq: event 3 is missing (deleted)" in capsys.readouterr().out


def test_verify_catches_the_last_event_deleted_and_a_rewritten_hash(store):
    _five(store)
    _sqlite(store.path, "DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 5;")
    assert [(p.seq, p.kind, p.message) for p in store.verify().problems] == [
        (5, "missing seq", "event 5 is missing at the end (deleted): the chain head records 5 events")]
    _sqlite(store.path, "DROP TRIGGER events_no_update; UPDATE events SET hash = 'ab' || substr(hash, 3) WHERE seq = 2;")
    kinds = [(p.seq, p.kind) for p in store.verify().problems]
    assert kinds == [(2, "edited row"), (3, "hash mismatch"), (5, "missing seq")]


def test_verify_of_an_empty_home(tmp_path):
    check = CaseStore(tmp_path / "nothing").verify()
    assert check.ok and check.events == 0 and not (tmp_path / "nothing").exists()


WORKER = """
import sys, time
from pathlib import Path
from workbench.cases import CaseStore
w, start = int(sys.argv[1]), Path(sys.argv[2])
(start.parent / f"ready{w}").touch()
while not start.exists():
    time.sleep(0.005)
store = CaseStore()
for i in range(50):
    store.decide(f"w{w}-f{i % 10}", "confirmed" if i % 2 else "dismissed", f"auditor-{w}", note=f"{w}/{i}",
                 recovered=None if i % 2 == 0 else f"{i}.{w:02d}", actions=["suspend"] if i % 4 == 1 else None)
"""


def test_eight_processes_write_400_decisions_at_once(tmp_path):
    home, start = tmp_path / "home", tmp_path / "go"
    env = {**os.environ, "WORKBENCH_HOME": str(home)}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(w), str(start)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for w in range(8)]
    deadline = time.time() + 60
    while len(list(tmp_path.glob("ready*"))) < 8 and time.time() < deadline:  # all started, waiting at the line
        time.sleep(0.01)
    t0 = time.perf_counter()
    start.touch()
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err.decode()
    seconds = time.perf_counter() - t0
    store = CaseStore(home)
    events = store.events()
    assert [e["seq"] for e in events] == list(range(1, 401))
    for w in range(8):  # each writer's 50 decisions, in its own order
        assert [e["note"] for e in events if e["by"] == f"auditor-{w}"] == [f"{w}/{i}" for i in range(50)]
    check = store.verify()
    assert check.ok and check.events == 400 and check.head_seq == 400, check.report()
    cur = store.current()
    # the last decision on w{w}-f{k} is i = 40 + k: confirmed for odd k, dismissed for even k
    assert len(cur) == 80 and (cur["status"] == "confirmed").sum() == 40 and (cur["status"] == "dismissed").sum() == 40
    assert cur.set_index("finding_id").loc["w3-f7", "recovered"] == Decimal("47.03")
    print(f"8 processes x 50 decisions: {seconds:.2f}s")


def test_briefing_figures_count_confirmed_findings_only(store):
    store.decide("f1", "confirmed", "A", recovered="100.10", actions=["suspend", "refer_police"], fine="5000", finding=F1)
    store.decide("f2", "confirmed", "A", recovered="0.20", actions=["terminate", "refer_discipline"], finding=F2)
    store.decide("f3", "confirmed", "A", recovered="0.10", actions=["suspend"], fine="0.01", finding=F3)
    store.decide("f3", "open", "B")  # reopened: its actions no longer count
    store.decide("f4", "dismissed", "A")
    got = store.briefing_figures()
    assert got == {"findings": 4, "confirmed": 2, "dismissed": 1, "open": 1,
                   "amount_at_risk_confirmed": Decimal("528.88"), "recovered": Decimal("100.30"),
                   "institutions_confirmed": 1, "suspended": 1, "terminated": 1, "fined": 1,
                   "fines": Decimal("5000.00"), "referred_police": 1, "referred_discipline": 1}
    by_rule = briefing_figures(store.current(), by="rule_id").set_index("rule_id")
    assert by_rule.loc["claims_after_death", "confirmed"] == 1 and by_rule.loc["claims_after_death", "open"] == 1
    assert by_rule.loc["split_hospitalization", "fines"] == Decimal("5000.00")
    months = briefing_figures(store.current(), by="month")
    assert list(months.columns)[:3] == ["month", "findings", "confirmed"] and months["findings"].sum() == 4


def test_cli_decide_list_and_actions_add_up(tmp_path, capsys):
    home = str(tmp_path / "home")
    CaseStore(home).decide("f1", "open", "李四", finding={"finding_id": "f1", "rule_id": "r"})  # as from a run
    capsys.readouterr()
    assert cli.main(["case", "decide", "f1", "--status", "confirmed", "--by", "张三", "--recovered", "12.5",
                     "--action", "suspend", "--home", home]) == 0
    assert cli.main(["case", "decide", "f1", "--status", "confirmed", "--by", "张三", "--fine", "300",
                     "--home", home]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith("f1: confirmed (确认违规) by 张三; recovered ¥12.50; actions suspend 暂停协议, fine 罚款")
    assert cli.main(["case", "list", "--json", "--home", home]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["finding_id"], r["status"], r["recovered"], r["actions"], r["fine"]) for r in rows] == [
        ("f1", "confirmed", "12.50", "suspend;fine", "300.00")]
    assert cli.main(["case", "list", "--home", home]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["finding_id", "status", "decided_at"] and table[1].split()[:2] == ["f1", "confirmed"]
    assert cli.main(["case", "decide", "f1", "--status", "confirmed", "--by", "", "--home", home]) == 1
    assert "must not be empty" in capsys.readouterr().err
    assert cli.main(["case", "verify", "--home", home]) == 0
    assert capsys.readouterr().out.startswith("case trail intact: 3 events, head ")


# ------------------------------------------- issue 23, item 7: money range, findings in no run
def test_recovered_money_beyond_the_contracts_decimal_is_a_clear_error(tmp_path, capsys):
    home = str(tmp_path / "home")
    CaseStore(home).decide("f1", "open", "李四", finding={"finding_id": "f1", "rule_id": "r"})
    for amount in ("1e26", "10000000000000000"):
        assert cli.main(["case", "decide", "f1", "--status", "confirmed", "--by", "张三", "--recovered", amount,
                         "--home", home]) == 1
        assert f"recovered: '{amount}' is out of range: at most 9,999,999,999,999,999.99 yuan" in capsys.readouterr().err
    assert cli.main(["case", "decide", "f1", "--status", "confirmed", "--by", "张三", "--recovered",
                     "9999999999999999.99", "--home", home]) == 0
    assert CaseStore(home).state("f1")["recovered_fen"] == 999_999_999_999_999_999


def test_case_decide_refuses_a_finding_in_no_run(tmp_path, tiny_data, capsys):
    home, run = str(tmp_path / "home"), tmp_path / "run"
    assert cli.main(["audit", str(tiny_data), "--out", str(run), "--no-progress"]) == 0
    capsys.readouterr()
    fid = pq.read_table(run / "findings.parquet").column("finding_id")[0].as_py()
    assert cli.main(["case", "decide", "no-such-finding", "--status", "confirmed", "--by", "张三", "--home", home]) == 1
    assert "has no decision yet and no --run was given" in capsys.readouterr().err
    assert cli.main(["case", "decide", "no-such-finding", "--status", "confirmed", "--by", "张三",
                     "--run", str(run), "--home", home]) == 1
    assert "no finding 'no-such-finding'" in capsys.readouterr().err
    assert CaseStore(home).events() == []
    assert cli.main(["case", "decide", fid, "--status", "open", "--by", "张三", "--run", str(run), "--home", home]) == 0
    assert cli.main(["case", "decide", fid, "--status", "confirmed", "--by", "张三", "--home", home]) == 0  # known now
    assert [e["status"] for e in CaseStore(home).events()] == ["open", "confirmed"]


# ------------------------------------------- issue 19: case events share the chain with decisions
CASE_WORKER = """
import os, sys, time
from pathlib import Path
from workbench.cases import CaseStore
from workbench.cases.casework import act, open_case, record_inspection
from workbench.errors import CaseError
w, start, shared = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
(start.parent / f"ready{w}").touch()
while not start.exists():
    time.sleep(0.005)
store = CaseStore()
forever = w >= 6  # writers 6 and 7 run until they are SIGKILLed
cid = open_case(store, f"H{w}", "tipoff", f"auditor-{w}", on="2025-01-01")["subject"]
act(store, cid, "review", f"auditor-{w}", on="2025-01-02")
won, i = 0, 0
while forever or i < 30:
    if i % 3 == 0:
        record_inspection(store, f"H{w}", "routine", "2025-01-03", f"auditor-{w}", note=f"{w}/{i}")
    elif i % 3 == 1:
        act(store, cid, "interview", f"auditor-{w}", on="2025-01-03", note=f"{w}/{i}")
    else:
        try:  # every writer races for the shared case's rectifications: each is closed once
            act(store, shared, "rectified", f"auditor-{w}", on="2025-01-04", note=f"{w}/{i}")
            won += 1
        except CaseError as e:
            assert "no rectification is pending" in str(e), e
    store.decide(f"w{w}-f{i % 5}", "confirmed", f"auditor-{w}", note=f"{w}/{i}d")
    i += 1
print(won)
"""


def test_case_events_from_eight_processes_two_of_them_killed(tmp_path):
    import signal

    from workbench.cases.casework import act, cases, open_case

    home, start = tmp_path / "home", tmp_path / "go"
    store = CaseStore(home)
    shared = open_case(store, "H99", "referral", "lead", on="2025-01-01")["subject"]
    act(store, shared, "confirm", "lead", on="2025-01-02")
    for k in range(40):
        act(store, shared, "rectify", "lead", on="2025-01-02", due="2025-02-01")
    env = {**os.environ, "WORKBENCH_HOME": str(home)}
    procs = [subprocess.Popen([sys.executable, "-c", CASE_WORKER, str(w), str(start), shared], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for w in range(8)]
    deadline = time.time() + 60
    while len(list(tmp_path.glob("ready*"))) < 8 and time.time() < deadline:
        time.sleep(0.01)
    start.touch()
    won = 0
    for p in procs[:6]:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err.decode()
        won += int(out.decode().split()[-1])
    for p in procs[6:]:  # killed mid-write, wherever they are
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=60)
    check = store.verify()
    assert check.ok, check.report()
    decisions, case_events = store.events(), store.case_events()
    seqs = sorted([e["seq"] for e in decisions] + [e["seq"] for e in case_events])
    assert seqs == list(range(1, check.head_seq + 1))  # one chain, no hole, no duplicate
    for w in range(6):  # every finished writer's 30 steps, in its order (interviews and inspections: 20)
        notes = [e["note"] for e in case_events if e["by"] == f"auditor-{w}" and e["kind"] in ("act", "inspection")
                 and e["data"].get("action") != "review"]
        assert [n for n in notes if n] == [f"{w}/{i}" for i in range(30) if i % 3 != 2 or f"{w}/{i}" in notes]
        assert sum(1 for e in decisions if e["by"] == f"auditor-{w}") == 30
    st = cases(store)[shared]
    closed = [r for r in st.rectifications if r["done_on"]]
    by_killed = sum(1 for e in case_events if e["subject"] == shared and e["data"].get("action") == "rectified"
                    and e["by"] in ("auditor-6", "auditor-7"))
    assert len(closed) == won + by_killed <= 40  # each rectification closed once, none lost
    assert len(store.case_events(kinds="open")) == 9
