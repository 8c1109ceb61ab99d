"""The rule engine on big data and real refunds: shared views computed once into a scratch
database, ``--memory-limit`` / ``--temp-dir``, rules skipped when an optional column they need is
absent, and refund lines netted against the charge they reverse wherever they are dated."""
import json
from decimal import Decimal

import pandas as pd
import pytest

import workbench
from rule_data import Claims
from workbench import cli, datafolder
from workbench.errors import DataFolderError
from workbench.rules import engine, load_library, run_rule, run_rules

D = Decimal
LIB = load_library()


def findings(d, tmp_path, rule, name="data"):
    with d.open(tmp_path, name) as s:
        return run_rule(s, rule, library=LIB)


# --- the scratch database ------------------------------------------------------------------------

def test_shared_views_are_computed_once_into_a_scratch_file_removed_on_close(tmp_path):
    d = Claims()
    d.visit("A", "P1", "H1", medfee="100.00", hifp="50.00")
    d.fee("A", "X", cnt=2, pric="10.00").fee("A", "Y", cnt=1, pric="5.00")
    spill = tmp_path / "spill"
    s = workbench.open(d.write(tmp_path / "data"), memory_limit="512MB", temp_directory=spill)
    env = engine.environment(s)
    assert env["materialized"] == ["v_fee_refund", "v_visit_fund", "v_fee_fund_base"]
    assert len(list(spill.glob("workbench-scratch-*/scratch.duckdb"))) == 1
    kinds = dict(s.rows("SELECT table_name, table_type FROM information_schema.tables "
                        "WHERE table_catalog = 'wb_scratch'"))
    assert kinds == {"v_fee_refund": "BASE TABLE", "v_fee_fund_base": "BASE TABLE"}
    # the visits (views.IN_MEMORY: small beside the memory limit) are a temporary table in memory
    assert env["in_memory"] == ["v_visit_fund"]
    assert s.rows("SELECT table_name FROM duckdb_tables() WHERE temporary") == [("__shared_v_visit_fund",)]
    assert "__shared_v_visit_fund" in s.one("SELECT sql FROM duckdb_views() WHERE view_name = 'v_visit_fund'")[0]
    assert s.rows("SELECT mdtrt_id, medfee_sumamt, hifp_pay, fund_ratio FROM v_visit_fund") == [
        ("A", D("100.00"), D("50.00"), 0.5)]
    # the rules read them through the views of the same names; fee_key is built on read
    assert s.rows("SELECT fee_key, fund_amt, refunded FROM v_fee_fund ORDER BY 1") == [
        ("fee:A/1", D("10.00"), False), ("fee:A/2", D("2.50"), False)]
    assert s.one("SELECT current_setting('memory_limit')")[0].replace(" ", "") in ("488.2MiB", "512.0MB", "488.2MB")
    # the setting the rules run with is restored for everyone else
    assert s.one("SELECT current_setting('preserve_insertion_order')") == (True,)
    s.close()
    assert spill.is_dir() and not any(spill.iterdir())


def test_visits_too_big_for_their_share_of_memory_go_to_the_scratch_file_with_the_same_rows(tmp_path, monkeypatch):
    from workbench.rules import views

    d = Claims()
    d.visit("A", "P1", "H1", medfee="100.00", hifp="50.00").visit("B", "P2", "H1", medfee="30.00", hifp="10.00")
    d.fee("A", "X", cnt=2, pric="10.00").fee("B", "Y", cnt=3, pric="10.00")
    folder = d.write(tmp_path / "data")

    def visits(share):
        monkeypatch.setattr(views, "MEMORY_SHARE", share)
        with workbench.open(folder, memory_limit="512MB") as s:
            env = engine.environment(s)
            where = s.rows("SELECT database_name, table_name FROM duckdb_tables() WHERE table_name LIKE '%v_visit_fund'")
            return env.get("in_memory", []), where, s.rows("SELECT * FROM v_visit_fund ORDER BY mdtrt_id")

    with workbench.open(folder, memory_limit="512MB") as s:
        assert views.in_memory_fits(s.con, "mdtrt", 200)  # 2 visits: 400 bytes
        assert not views.in_memory_fits(s.con, "mdtrt", 10**9)  # 2 GB
    small = visits(1 / 3)
    big = visits(0.0)  # no share of memory for it: 400 bytes > 0
    assert small[:2] == (["v_visit_fund"], [("temp", "__shared_v_visit_fund")])
    assert big[:2] == ([], [("wb_scratch", "v_visit_fund")])
    assert small[2] == big[2] and [r[0] for r in big[2]] == ["A", "B"]


def test_shared_views_are_computed_when_a_rule_first_needs_them(tmp_path):
    from workbench.rules import load_library, run_rule

    lib = load_library()
    d = Claims()
    d.item("CAP", "09", cap="10.00")
    d.visit("A", "P1", "H1", med_type="21", begn="2024-03-01 08:00:00", end="2024-03-03", medfee="100.00", hifp="50.00")
    d.visit("B", "P1", "H1", med_type="21", begn="2024-03-05 08:00:00", end="2024-03-06", medfee="100.00", hifp="50.00")
    d.fee("A", "CAP", cnt=2, pric="12.00")
    d.fee("A", "X2", pric="50.00", time="2024-03-04 08:00:00", chrgitm="05")  # after discharge
    with d.open(tmp_path) as s:
        # the stay sequence (v_stay_sequence) sums the stays' own settlements: nothing computed
        env = engine.environment(s, [lib["split_hospitalization"]])
        assert env["materialized"] == [] and env["pending"] == ["v_fee_refund", "v_visit_fund", "v_fee_fund_base"]
        assert [f.mdtrt_id for f in run_rule(s, "split_hospitalization", library=lib).itertuples()] == ["B"]
        assert env["materialized"] == []
        admissions = run_rule(s, "frequent_admission", {"max_admissions": 1}, library=lib)  # visits only
        assert env["materialized"] == ["v_visit_fund"] and env["pending"] == ["v_fee_refund", "v_fee_fund_base"]
        assert list(admissions.psn_no) == ["P1"] and list(admissions.amount_at_risk) == [D("100.00")]
        price = run_rule(s, "price_over_cap", library=lib)  # narrows the fee lines itself: no v_fee_fund
        assert env["materialized"] == ["v_visit_fund"]
        assert list(price.amount_at_risk) == [D("2.00")]  # (12 - 10) x 2 x 50 %
        outside = run_rule(s, "charge_outside_stay", library=lib)  # every fee line: computed now, once
        assert env["materialized"] == ["v_visit_fund", "v_fee_refund", "v_fee_fund_base"] and env["pending"] == []
        assert list(outside.amount_at_risk) == [D("25.00")]
        # v_fee now reads the fee-line table just built: the same rows and columns as the Parquet
        assert "wb_scratch" in s.rows("SELECT sql FROM duckdb_views() WHERE view_name = 'v_fee'")[0][0]
        cols = "feedetl_sn, mdtrt_id, fee_ocur_time, med_list_codg, med_chrgitm_type, cnt, pric, det_item_fee_sumamt, bilg_dr_codg"
        assert s.rows(f"SELECT {cols} FROM v_fee ORDER BY 1, 2") == s.rows(f"SELECT {cols} FROM fee ORDER BY 1, 2")
        assert len(s.sql("SELECT * FROM v_fee").description) == 9  # no column of the table beyond them
        assert list(run_rule(s, "price_over_cap", library=lib).amount_at_risk) == [D("2.00")]
        kinds = dict(s.rows("SELECT table_name, table_type FROM information_schema.tables WHERE table_catalog = 'wb_scratch'"))
        assert set(kinds) == {"v_fee_refund", "v_fee_fund_base"}


def _stays(d, tmp_path, name):
    """v_stay_sequence's rows before and after an audit's rules computed v_visit_fund, and
    which views the engine then read another way."""
    with d.open(tmp_path, name) as s:
        env = engine.environment(s, [LIB["split_hospitalization"]])
        before = s.rows("SELECT * FROM v_stay_sequence ORDER BY mdtrt_id")
        engine.environment(s, [LIB["frequent_admission"]])  # computes v_visit_fund
        after = s.rows("SELECT * FROM v_stay_sequence ORDER BY mdtrt_id")
        cols = [c[0] for c in s.sql("SELECT * FROM v_stay_sequence").description]
        return before, after, cols, env.get("read_when_computed", []), \
            s.one("SELECT sql FROM duckdb_views() WHERE view_name = 'v_stay_sequence'")[0]


def test_the_stay_sequence_reads_the_computed_visits_with_the_same_rows(tmp_path):
    d = Claims()
    d.visit("A", "P1", "H1", med_type="21", begn="2024-03-01 08:00:00", end="2024-03-03", medfee="100.00", hifp="50.00")
    d.visit("B", "P1", "H1", med_type="21", begn="2024-03-05 08:00:00", end="2024-03-06", medfee="80.00", hifp="40.00",
            refund=True)  # withdrawn
    d.visit("C", "P2", "H1", med_type="21", begn="2024-04-01 08:00:00", end="2024-04-09", settle=False)  # no bill
    d.visit("E", "P2", "H1", med_type="21", begn="2024-05-01 08:00:00", end="2024-05-02", medfee="60.00", hifp="30.00")
    d.settle("E", "SE2", "-20.00", "-10.00")  # a partial refund
    d.settle("E", "SE3", "15.00", "9.00", refund=True)  # a reversal flagged, sent positive
    d.visit("O", "P2", "H1", med_type="11", medfee="9.00", hifp="3.00")  # not a stay
    before, after, cols, redefined, sql = _stays(d, tmp_path, "data")
    assert redefined == ["v_stay_sequence"] and "FROM v_stay" in sql and "FROM setl" not in sql  # read from the visits computed
    assert after == before
    assert [r[0] for r in after] == ["A", "B", "C", "E"]
    row = dict(zip(cols, after[2]))  # C: no settlement, money 0 but its bill unknown
    assert (row["setl_rows"], row["medfee_sumamt"], row["setl_medfee_sumamt"], row["setl_hifp_pay"]) == (0, D("0.00"), None, None)
    row = dict(zip(cols, after[3]))
    assert (row["medfee_sumamt"], row["hifp_pay"], row["setl_medfee_sumamt"], row["reversed"], row["stay_days"]) == (
        D("25.00"), D("11.00"), D("25.00"), False, 2)
    assert dict(zip(cols, after[1]))["reversed"] is True


def test_the_stay_sequence_keeps_its_own_sums_where_a_settlement_lacks_an_amount(tmp_path):
    d = Claims()
    d.visit("A", "P1", "H1", med_type="21", begn="2024-03-01 08:00:00", end="2024-03-03", medfee="100.00", hifp="50.00")
    d.visit("B", "P1", "H1", med_type="21", begn="2024-03-05 08:00:00", end="2024-03-06")
    d.rows["setl"][-1]["medfee_sumamt"] = None  # B's only settlement has no bill: its sum is unknown, not 0
    d.rows["setl"][-1]["hifp_pay"] = None
    before, after, cols, redefined, sql = _stays(d, tmp_path, "data")
    assert redefined == [] and "FROM v_visit_fund" not in sql and "FROM setl" in sql
    assert after == before
    row = dict(zip(cols, after[1]))
    assert (row["setl_rows"], row["medfee_sumamt"], row["setl_medfee_sumamt"]) == (1, D("0.00"), None)


def test_fee_lines_materialised_in_slices_are_the_same_rows(tmp_path, monkeypatch):
    from workbench.rules import views

    d = Claims()
    for i in range(7):
        d.visit(f"M{i}", f"P{i}", "H1", medfee="100.00", hifp="50.00")
        d.fee(f"M{i}", "X", cnt=i + 1, pric="3.33")
    d.fee("M3", "X", cnt=-4, pric="3.33", time="2024-03-02 09:00:00")  # a refund, paired across slices' view
    folder = d.write(tmp_path / "data")

    def lines(rows):
        monkeypatch.setattr(views, "CHUNK_ROWS", rows)
        with workbench.open(folder) as s:
            engine.environment(s)
            return s.rows("SELECT * FROM v_fee_fund ORDER BY mdtrt_id, feedetl_sn")

    with workbench.open(folder) as s:
        bounds = views.slices(s.con, "mdtrt_id", "mdtrt", 2)
        assert len(bounds) == 3 and bounds == sorted(bounds) and set(bounds) <= {f"M{i}" for i in range(7)}
        assert views.slices(s.con, "mdtrt_id", "mdtrt", 7) == []
    whole, sliced = lines(1_000_000), lines(2)
    assert len(whole) == 8 and sliced == whole
    assert [r[-1] for r in whole if r[1] == "M3"] == ["fee:M3/1", "fee:M3/2"]


def test_a_memory_limit_that_is_not_a_size_is_refused(tmp_path):
    d = Claims()
    d.visit("A")
    folder = d.write(tmp_path / "data")
    with pytest.raises(DataFolderError, match="memory limit 'lots' is not a size"):
        workbench.open(folder, memory_limit="lots")


def test_audit_cli_takes_memory_limit_and_temp_dir(tmp_path, capsys):
    d = Claims()
    d.item("X1", "05", cap="10.00")
    d.visit("M1", "P1", "H1", medfee="1000.00", hifp="700.00")
    d.fee("M1", "X1", cnt=10, pric="12.00")
    data, run, spill = d.write(tmp_path / "data"), tmp_path / "run", tmp_path / "spill"
    assert cli.main(["audit", str(data), "--out", str(run), "--rules", "price_over_cap,duplicate_billing",
                     "--memory-limit", "1GB", "--temp-dir", str(spill), "--no-progress"]) == 0
    f = pd.read_parquet(run / "findings.parquet")
    assert list(f.mdtrt_id) == ["M1"] and f.amount_at_risk.tolist() == [D("14.00")]  # 2.00 x 10 x 0.7
    assert spill.is_dir() and not any(spill.glob("workbench-scratch-*"))  # used, then cleaned up
    capsys.readouterr()
    assert cli.main(["audit", str(data), "--out", str(tmp_path / "run2"), "--memory-limit", "lots"]) == 1
    assert "memory limit 'lots' is not a size" in capsys.readouterr().err
    assert not (tmp_path / "run2").exists()


# --- optional columns ----------------------------------------------------------------------------

def test_a_rule_needing_an_absent_optional_column_is_skipped_with_a_message(tmp_path):
    d = Claims()
    d.person("P1", death_date="2024-02-01")
    d.visit("M1", "P1", "H1", begn="2024-03-01 09:00:00")
    frames = d.frames()
    with_col, without = tmp_path / "with", tmp_path / "without"
    datafolder.write_data_folder(with_col, frames, source={"kind": "test"})
    frames["psn"] = frames["psn"].drop(columns=["death_date"])
    datafolder.write_data_folder(without, frames, source={"kind": "test"})
    with workbench.open(without) as s:
        res = run_rules(s, ["claims_after_death"], progress=False, library=LIB)
    assert res.counts == {} and res.skipped == {
        "claims_after_death": "needs column(s) psn.death_date, which this data folder's files do not have"}
    with workbench.open(with_col) as s:
        res = run_rules(s, ["claims_after_death"], progress=False, library=LIB)
    assert res.skipped == {} and list(res.findings.mdtrt_id) == ["M1"]


def test_duplicate_billing_reads_list_incl_as_empty_when_absent_split_billing_is_skipped(tmp_path):
    d = Claims()
    t = "2024-03-01 10:00:00"
    d.visit("M1", "P1", "H1", medfee="100.00", hifp="50.00")
    d.fee("M1", "Y", pric="20.00", time=t).fee("M1", "Y", pric="20.00", time=t)
    with d.open(tmp_path) as s:
        res = run_rules(s, ["duplicate_billing", "split_billing"], progress=False, library=LIB)
        assert "list_incl" not in s.tables
    assert list(res.findings.mdtrt_id) == ["M1"] and res.counts["duplicate_billing"]["findings"] == 1
    assert res.skipped == {"split_billing": "needs table(s) list_incl, which this data folder does not have"}
    assert LIB["duplicate_billing"].optional_tables == ("list_incl",)


def test_rules_declare_the_optional_columns_they_read():
    assert LIB["claims_after_death"].columns == ("psn.death_date",)
    assert LIB["frequency_limit"].columns == ("list.max_daily_cnt",)
    assert LIB["dispensing_over_limit"].columns == ("list.max_daily_cnt",)


# --- refunds dated at another time ---------------------------------------------------------------

def test_a_refund_pairs_with_the_charge_it_reverses_in_time_order(tmp_path):
    d = Claims()
    d.visit("A", "P1", "H1", medfee="100.00", hifp="50.00")
    d.fee("A", "X", cnt=1, pric="10.00", time="2024-03-01 09:00:00")   # 1: paired with 4
    d.fee("A", "X", cnt=1, pric="10.00", time="2024-03-01 10:00:00")   # 2: stays
    d.fee("A", "X", cnt=2, pric="10.00", time="2024-03-01 09:00:00")   # 3: another quantity, stays
    d.fee("A", "X", cnt=-1, pric="10.00", time="2024-03-04 09:00:00")  # 4: refund days later
    d.fee("A", "X", cnt=-1, pric="9.00", time="2024-03-04 09:00:00")   # 5: another price, pairs with nothing
    with d.open(tmp_path) as s:
        engine.environment(s)
        assert s.rows("SELECT feedetl_sn, partner_sn FROM v_fee_refund ORDER BY 1") == [("1", "4"), ("4", "1")]
        assert s.rows("SELECT feedetl_sn FROM v_fee_fund WHERE refunded ORDER BY 1") == [("1",), ("4",)]


def test_duplicate_billing_a_duplicate_refunded_the_next_day_is_none(tmp_path):
    t = "2024-03-01 10:00:00"
    d = Claims()  # no list_incl: the same-time check still runs
    d.item("Y", "04")
    d.visit("M1", "P1", "H1", medfee="100.00", hifp="50.00")
    d.fee("M1", "Y", pric="20.00", time=t).fee("M1", "Y", pric="20.00", time=t)
    d.fee("M1", "Y", cnt=-1, pric="20.00", time="2024-03-02 08:00:00")  # the duplicate, refunded next day
    d.visit("M2", "P2", "H1", medfee="100.00", hifp="50.00")
    d.fee("M2", "Y", pric="20.00", time=t).fee("M2", "Y", pric="20.00", time=t).fee("M2", "Y", pric="20.00", time=t)
    d.fee("M2", "Y", cnt=-1, pric="20.00", time="2024-03-02 08:00:00")  # one of three refunded: still twice
    df = findings(d, tmp_path, "duplicate_billing")
    assert list(df.mdtrt_id) == ["M2"]
    r = df.iloc[0]
    # the first charge pairs with the refund; the other two remain, one of them is the excess
    assert json.loads(r.evidence) == ["fee:M2/2", "fee:M2/3"] and r.amount_at_risk == D("10.00")


def test_frequency_limit_a_use_refunded_on_another_day_does_not_count(tmp_path):
    d = Claims()
    d.item("T", "05", max_daily_cnt=2)
    d.visit("M1", "P1", "H1", med_type="21", begn="2024-03-01 08:00:00", end="2024-03-05", medfee="1000.00", hifp="700.00")
    d.fee("M1", "T", cnt=1, pric="30.00", time="2024-03-02 09:00:00").fee("M1", "T", cnt=2, pric="30.00", time="2024-03-02 10:00:00")
    d.fee("M1", "T", cnt=-1, pric="30.00", time="2024-03-04 09:00:00")  # refunded two days later: 2 in the day
    d.visit("M2", "P2", "H1", med_type="21", begn="2024-03-01 08:00:00", end="2024-03-05", medfee="1000.00", hifp="700.00")
    d.fee("M2", "T", cnt=2, pric="30.00", time="2024-03-02 09:00:00").fee("M2", "T", cnt=2, pric="30.00", time="2024-03-02 10:00:00")
    d.fee("M2", "T", cnt=-1, pric="30.00", time="2024-03-04 09:00:00")  # a partial refund pairs with nothing
    df = findings(d, tmp_path, "frequency_limit")
    assert list(df.mdtrt_id) == ["M2"]
    r = df.iloc[0]
    assert json.loads(r.evidence) == ["fee:M2/1", "fee:M2/2"] and r.amount_at_risk == D("42.00")  # 84.00 x 2/4


def test_charge_outside_stay_refunded_inside_the_stay_is_none(tmp_path):
    d = Claims()
    for m, p in (("S1", "P1"), ("S2", "P2")):
        d.visit(m, p, "H1", med_type="21", begn="2024-03-01 08:00:00", end="2024-03-05", medfee="1000.00", hifp="700.00")
        d.fee(m, "X2", pric="50.00", time="2024-03-07 08:00:00", chrgitm="05")  # after discharge
    d.fee("S1", "X2", cnt=-1, pric="50.00", time="2024-03-04 08:00:00", chrgitm="05")  # refunded, dated inside
    df = findings(d, tmp_path, "charge_outside_stay")
    assert list(df.mdtrt_id) == ["S2"]
    assert json.loads(df.iloc[0].evidence) == ["fee:S2/1"] and df.iloc[0].amount_at_risk == D("35.00")


def test_price_over_cap_a_cap_of_zero_is_no_cap(tmp_path):
    d = Claims()
    d.item("Z", "05", cap="0.00").item("C", "05", cap="5.00")
    d.visit("M1", "P1", "H1", medfee="100.00", hifp="50.00")
    d.fee("M1", "Z", cnt=2, pric="8.00").fee("M1", "C", cnt=2, pric="8.00")
    df = findings(d, tmp_path, "price_over_cap")
    assert list(df.mdtrt_id) == ["M1"]
    assert json.loads(df.iloc[0].evidence) == ["fee:M1/2"] and df.iloc[0].amount_at_risk == D("3.00")  # 3.00 x 2 x 0.5


# --- rules that narrow the fee lines down before joining their visits ----------------------------


def test_rules_narrowing_the_fee_lines_give_the_fund_shares_of_v_fee_fund(tmp_path):
    """duplicate_billing, price_over_cap and stock_mismatch (v3) find their candidates on the fee
    table and join only those lines with their visits: a run of them never computes every fee line
    with its visit, yet their amounts are the shares of v_fee_fund.fund_amt, and withdrawn visits
    and refund pairs drop out as they do there."""
    t = "2024-03-05 10:00:00"
    d = Claims()
    d.item("PAR", "05").item("CHI", "05").item("Y", "04").item("S", "09").item("K", "05", cap="3.00")
    d.incl("PAR", "CHI")
    d.visit("M1", "P1", "H1", begn=t, medfee="333.33", hifp="222.21")  # a ratio that rounds per line
    d.fee("M1", "PAR", pric="80.00").fee("M1", "CHI", cnt=3, pric="10.33")  # included item
    d.fee("M1", "Y", pric="7.77", time=t).fee("M1", "Y", pric="7.77", time=t).fee("M1", "Y", pric="7.77", time=t)
    d.fee("M1", "S", cnt=7, pric="3.33", time="2024-03-05 11:00:00").fee("M1", "S", cnt=1, pric="3.33", time="2024-03-05 12:00:00")
    d.fee("M1", "K", cnt=3, pric="3.37")
    d.visit("M2", "P2", "H1", begn="2024-03-06 09:00:00", medfee="99.99", hifp="33.34")
    d.fee("M2", "S", cnt=5, pric="1.11").fee("M2", "S", cnt=-2, pric="1.11", time="2024-03-20 09:00:00")  # net 3
    d.fee("M2", "Y", pric="7.77", time=t).fee("M2", "Y", pric="7.77", time=t)
    d.fee("M2", "Y", cnt=-1, pric="7.77", time="2024-03-07 09:00:00")  # the duplicate refunded two days on
    d.visit("M3", "P3", "H1", begn=t, refund=True)  # withdrawn: its lines count nowhere
    d.fee("M3", "S", cnt=50, pric="1.00").fee("M3", "Y", time=t).fee("M3", "Y", time=t).fee("M3", "K", pric="9.00")
    d.stock("H1", "S", "2024-03", inv_begn=2, purc_cnt=3)  # 5 available, 7 + 1 + 3 billed
    with d.open(tmp_path) as s:
        dup = run_rule(s, "duplicate_billing", library=LIB)
        price = run_rule(s, "price_over_cap", library=LIB)
        stock = run_rule(s, "stock_mismatch", library=LIB)
        env = engine.environment(s, [LIB["stock_mismatch"]])  # the session's views, as the rules left them
        assert env["materialized"] == ["v_fee_refund", "v_visit_fund"] and env["pending"] == ["v_fee_fund_base"]
        fund = dict(s.rows("SELECT fee_key, fund_amt FROM v_fee_fund"))
    assert list(dup.mdtrt_id) == ["M1"]
    ev = json.loads(dup.iloc[0].evidence)
    assert ev == ["fee:M1/2", "fee:M1/3", "fee:M1/4", "fee:M1/5"]
    # the included item's line, and two of the three same-time lines (the first is the one allowed)
    assert dup.iloc[0].amount_at_risk == fund["fee:M1/2"] + fund["fee:M1/4"] + fund["fee:M1/5"] == D("31.02")
    assert list(price.mdtrt_id) == ["M1"] and json.loads(price.iloc[0].evidence) == ["fee:M1/8"]
    assert price.iloc[0].amount_at_risk == D("0.74")  # 0.37 x 3 x 222.21 / 333.33, rounded
    assert list(stock.fixmedins_code) == ["H1"]
    s_lines = ["fee:M1/6", "fee:M1/7", "fee:M2/1", "fee:M2/2"]
    assert json.loads(stock.iloc[0].evidence) == s_lines + ["stock:H1/S/2024-03"]
    billed_fund = sum(fund[k] for k in s_lines)
    # 7 + 1 + 5 - 2 = 11 billed, 5 available: the fund share of 6 / 11 of the lines
    assert stock.iloc[0].amount_at_risk == (billed_fund * 6 / 11).quantize(D("0.01")) == D("10.29")
