"""Split hospitalization: episodes, readmission pairs, institution patterns, CSV and CLI."""
import csv
import json
import re
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

import workbench
from workbench import datafolder, stays
from workbench.cli import main
from workbench.errors import WorkbenchError

D = Decimal


def tiny_tables():
    """Four persons, three hospitals, eleven stays with exact gaps (dates in the comments)."""
    psn = pd.DataFrame({
        "psn_no": ["P1", "P2", "P3", "P4"],
        "certno": ["370100195006150011", "370100198001010022", "370100199004030033", "370100200001010044"],
        "psn_name": ["张三", "李四", "王五", "赵六"],
        "gend": ["1", "2", "1", "2"],
        "brdy": ["1950-06-15", "1980-01-01", "1990-04-03", "2000-01-01"],
        "insutype": ["310"] * 4,
        "insuplc_admdvs": ["370100"] * 4,
    })
    medins = pd.DataFrame({
        "fixmedins_code": ["H1", "H2", "H3"], "fixmedins_name": ["甲医院", "乙医院", "丙医院"],
        "fixmedins_type": ["1", "1", "1"], "hosp_lv": ["2", "2", "1"], "admdvs": ["370102"] * 3,
    })
    rows = [
        ("S1", "P1", "H1", "21", "2023-01-01 08:00", "2023-01-10 10:00", "I50.001"),
        ("S2", "P1", "H1", "21", "2023-01-10 15:00", "2023-01-20 09:00", "I50.902"),  # gap 0
        ("S3", "P1", "H1", "21", "2023-02-04 09:00", "2023-02-06 09:00", "J18.900"),  # gap 15
        ("S4", "P1", "H1", "21", "2023-02-22 09:00", "2023-02-25 09:00", "J18.000"),  # gap 16
        ("S5", "P2", "H1", "21", "2023-03-01 09:00", "2023-03-05 09:00", "K35"),
        ("S6", "P2", "H2", "21", "2023-03-07 09:00", "2023-03-09 09:00", "K35.1"),    # other hospital, gap 2
        ("S7", "P2", "H1", "21", "2023-03-08 09:00", "2023-03-12 09:00", "K80"),      # overlaps S6; 3 days after S5
        ("O1", "P2", "H1", "11", "2023-03-06 09:00", "2023-03-06 09:00", "K35"),      # outpatient: not a stay
        ("S8", "P3", "H2", "21", "2023-04-01 09:00", "2023-04-03 09:00", "N18"),
        ("S9", "P3", "H2", "21", "2023-04-05 09:00", "2023-04-08 09:00", "E11"),      # gap 2
        ("S10", "P4", "H3", "21", "2023-05-01 09:00", "2023-05-03 09:00", "A09"),
        ("S11", "P4", "H3", "21", "2023-05-04 09:00", "2023-05-06 09:00", "A09"),     # gap 1
    ]
    mdtrt = pd.DataFrame(rows, columns=["mdtrt_id", "psn_no", "fixmedins_code", "med_type", "begntime", "endtime", "dise_codg"])
    mdtrt["atddr_no"] = "D1"
    money = {"S2": ("980.00", "686.00"), "S3": ("1000.00", "700.00"), "S4": ("950.00", "665.00")}
    setl = []
    for m in mdtrt.itertuples():
        if m.mdtrt_id == "S1":  # a settlement and its partial refund: net 900.00 / 630.00
            setl.append(("T1a", "S1", "P1", "H1", "1000.00", "700.00", "0"))
            setl.append(("T1b", "S1", "P1", "H1", "-100.00", "-70.00", "1"))
        else:
            v = money.get(m.mdtrt_id, ("500.00", "350.00"))
            setl.append((f"T{m.mdtrt_id}", m.mdtrt_id, m.psn_no, m.fixmedins_code, v[0], v[1], "0"))
    setl = pd.DataFrame(setl, columns=["setl_id", "mdtrt_id", "psn_no", "fixmedins_code", "medfee_sumamt", "hifp_pay", "refd_setl_flag"])
    setl["setl_time"] = "2023-06-01 00:00"
    fee = pd.DataFrame([
        ("1", "S1", "P1", "2023-01-01 10:00", "BED", "01", 3, "50.00", "150.00"),
        ("2", "S1", "P1", "2023-01-02 10:00", "DRUG1", "09", 1, "100.00", "100.00"),
        ("3", "S1", "P1", "2023-01-03 10:00", "DRUG2", "09", 2, "100.00", "200.00"),
        ("4", "S1", "P1", "2023-01-04 10:00", "DRUG2", "09", -1, "50.00", "-50.00"),
        ("1", "S2", "P1", "2023-01-11 10:00", "LAB", "04", 1, "35.50", "35.50"),
    ], columns=["feedetl_sn", "mdtrt_id", "psn_no", "fee_ocur_time", "med_list_codg", "med_chrgitm_type", "cnt", "pric", "det_item_fee_sumamt"])
    fee["bilg_dr_codg"] = "D1"
    return {"psn": psn, "medins": medins, "mdtrt": mdtrt, "setl": setl, "fee": fee}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("stays") / "data"
    datafolder.write_data_folder(out, tiny_tables(), source={"kind": "test"})
    return out


@pytest.fixture(scope="module")
def session(tiny):
    with workbench.open(tiny) as s:
        yield s


def test_episodes_one_row_per_inpatient_stay(session):
    e = stays.episodes(session).set_index("mdtrt_id")
    assert list(e.index) == ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10", "S11"]  # no O1
    assert e.loc["S1", ["age", "gend", "los_days", "stay_days", "dise_category", "peer_group"]].tolist() == [72, "1", 9, 10, "I50", "1-2"]
    # P3 turns 33 on 2023-04-03: 32 at the first admission, 33 at the second.
    assert e.loc[["S8", "S9"], "age"].tolist() == [32, 33]
    assert e.loc["S3", "dise_category"] == "J18" and e.loc["S6", "dise_category"] == "K35"


def test_refunds_are_netted(session):
    e = stays.episodes(session).set_index("mdtrt_id")
    assert e.loc["S1", ["medfee_sumamt", "hifp_pay", "setl_rows"]].tolist() == [D("900.00"), D("630.00"), 2]
    assert isinstance(e.loc["S1", "medfee_sumamt"], Decimal)


def test_gaps_to_previous_stay_same_and_any_institution(session):
    e = stays.episodes(session).set_index("mdtrt_id")
    got = e[["prev_same_mdtrt_id", "gap_prev_same_days", "prev_any_mdtrt_id", "prev_any_fixmedins_code", "gap_prev_any_days"]]
    got = got.astype(object).where(got.notna(), None)
    assert got.loc["S2"].tolist() == ["S1", 0, "S1", "H1", 0]  # readmitted on the day of discharge
    assert got.loc["S4"].tolist() == ["S3", 16, "S3", "H1", 16]
    # S6 at another hospital: no previous stay there, 2 days after S5 at H1
    assert got.loc["S6"].tolist() == [None, None, "S5", "H1", 2]
    # S7 starts while S6 is running: negative gap at any institution, 3 days after S5 at H1
    assert got.loc["S7"].tolist() == ["S5", 3, "S6", "H2", -1]
    assert got.loc["S1"].tolist() == [None, None, None, None, None]


def _pair_keys(p):
    return [(r.fixmedins_code, r.psn_no, r.first_mdtrt_id, r.second_mdtrt_id, r.gap_days) for r in p.itertuples()]


def test_pairs_within_window(session):
    p = stays.readmission_pairs(session, 15)
    assert list(p.columns[:len(stays.PAIR_COLUMNS)]) == stays.PAIR_COLUMNS
    assert _pair_keys(p) == [
        ("H1", "P1", "S1", "S2", 0), ("H1", "P1", "S2", "S3", 15), ("H1", "P2", "S5", "S7", 3),
        ("H2", "P3", "S8", "S9", 2), ("H3", "P4", "S10", "S11", 1)]
    # 15 days is in a 15-day window, 16 is not; a 14-day window drops the 15.
    assert ("H1", "P1", "S3", "S4", 16) not in _pair_keys(p)
    assert ("H1", "P1", "S2", "S3", 15) not in _pair_keys(stays.readmission_pairs(session, 14))
    assert _pair_keys(stays.readmission_pairs(session, 0)) == [("H1", "P1", "S1", "S2", 0)]
    # P2's stay at H2 between S5 and S7 is no pair at H2, and does not break H1's pair.
    assert "S6" not in set(p.second_mdtrt_id) | set(p.first_mdtrt_id)


def test_pair_values(session):
    p = stays.readmission_pairs(session, 15).set_index("second_mdtrt_id")
    assert p.loc["S2", ["first_dise_codg", "second_dise_codg", "same_category"]].tolist() == ["I50.001", "I50.902", True]
    assert p.loc["S3", "same_category"] == False  # noqa: E712 (numpy bool)
    assert p.loc["S2", ["first_medfee_sumamt", "first_hifp_pay", "second_medfee_sumamt", "second_hifp_pay"]].tolist() == [
        D("900.00"), D("630.00"), D("980.00"), D("686.00")]


def test_bad_window_is_a_workbench_error(session):
    with pytest.raises(WorkbenchError, match="window_days"):
        stays.readmission_pairs(session, -1)


def test_institution_patterns_exact(session):
    inst = stays.institution_patterns(session, 15, cost_limit="1000", los_limit_days=10).set_index("fixmedins_code")
    assert list(inst.index) == ["H3", "H2", "H1"]  # ranked by split signature
    assert inst.split_rank.tolist() == [1, 2, 3]
    assert inst.loc["H1", ["stays", "persons", "readmissions", "short_gap_readmissions", "overlapping_stays"]].tolist() == [6, 2, 3, 1, 1]
    assert inst.loc["H2", ["stays", "readmissions", "short_gap_readmissions"]].tolist() == [3, 1, 1]
    # three institutions in two peer groups (< 3 each): everyone is compared with everyone
    assert set(inst.peer_basis) == {"all"}
    # short-gap rates 1/6, 1/3, 1/2: median 1/3, MAD 1/6
    assert inst.split_z.to_dict() == pytest.approx({"H3": 0.6744907, "H2": 0.0, "H1": -0.6744907}, rel=1e-6)
    # H1's peers (H2 + H3): 2 short-gap readmissions in 5 stays, 2 readmissions
    assert inst.loc["H1", ["peer_short_gap_rate", "peer_short_gap_share", "expected_short_gap", "excess_short_gap"]].tolist() == pytest.approx([0.4, 1.0, 2.4, -1.4])
    assert inst.loc["H3", ["peer_short_gap_rate", "excess_short_gap"]].tolist() == pytest.approx([2 / 9, 1 - 4 / 9])
    # indirect standardisation: stratum rates (65-79, I50) 1, (65-79, J18) 0, (18-44, K35) 1/2,
    # (18-44, K80) 0, (18-44, N18) 1, (18-44, E11) 0, (18-44, A09) 1/2; region 5 of 11 stays
    assert inst.expected_readmissions.to_dict() == pytest.approx({"H1": 2.5, "H2": 1.5, "H3": 1.0})
    assert inst.oe_ratio.to_dict() == pytest.approx({"H1": 1.2, "H2": 2 / 3, "H3": 1.0})
    assert inst.loc["H1", "adjusted_readmission_rate"] == pytest.approx(1.2 * 5 / 11)
    # bills in [950, 1000): S2 980.00 and S4 950.00 (S3 at 1000.00 is not under); LOS in [8, 10): S1 (9)
    assert inst.loc["H1", ["near_cost_limit_stays", "near_cost_limit_share", "near_los_limit_stays", "near_los_limit_share"]].tolist() == pytest.approx([2, 1 / 3, 1, 1 / 6])
    assert inst.loc["H1", "region_near_cost_limit_share"] == pytest.approx(2 / 11)


def test_institution_patterns_peer_groups_and_no_limits(session):
    inst = stays.institution_patterns(session, 15, min_peers=2).set_index("fixmedins_code")
    assert inst.peer_basis.to_dict() == {"H3": "all", "H2": "peer_group", "H1": "peer_group"}
    # H1's peer group is H2 alone: 1 short-gap readmission in 3 stays
    assert inst.loc["H1", "peer_short_gap_rate"] == pytest.approx(1 / 3)
    # robust z within group 1-2 (rates 1/6, 1/3): median 1/4, MAD 1/12
    assert inst.loc["H2", "split_z"] == pytest.approx(1 / 1.4826)
    assert inst.near_cost_limit_share.isna().all() and inst.near_los_limit_share.isna().all()


def test_robust_z_falls_back_to_mean_deviation_when_mad_is_zero():
    # MAD of [0, 0, 0, 4] is 0; mean absolute deviation 1 -> scale 1.2533
    assert stays.robust_z([4, 0], [0, 0, 0, 4]).tolist() == pytest.approx([4 / 1.2533, 0.0])
    assert stays.robust_z([1], [1, 1]).tolist() == [0.0]


def test_gap_profile_against_peers(session):
    a = stays.StayAnalysis(session, 15)
    h = a.institution_gaps("H1")
    assert h.gap_days.tolist() == list(range(16))
    assert h.set_index("gap_days").n[h.n > 0].to_dict() == {0: 1, 3: 1, 15: 1}
    assert h.set_index("gap_days").peer_n[h.peer_n > 0].to_dict() == {1: 1, 2: 1}  # H3 and H2
    assert h.share.sum() == pytest.approx(1.0) and h.loc[3, "share"] == pytest.approx(1 / 3)
    assert a.institution_pairs("H1").second_mdtrt_id.tolist() == ["S2", "S7", "S3"]  # shortest gap first
    with pytest.raises(WorkbenchError, match="H9"):
        a.institution_gaps("H9")


def test_stay_bill_by_charge_category(session):
    b = stays.stay_bill(session, "S1")
    assert b.values.tolist() == [["01", "床位费 bed", 1, D("150.00")], ["09", "西药费 western drugs", 3, D("250.00")]]
    assert stays.stay_bill(session, "S9").empty


def test_csv_and_cli(tiny, tmp_path, capsys):
    out = tmp_path / "pairs.csv"
    assert main(["stays", str(tiny), "--out", str(out), "--window-days", "15"]) == 0
    assert "5 readmission pair(s)" in capsys.readouterr().out
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:12] == stays.PAIR_COLUMNS
    assert "psn_name" not in rows[0] and "certno" not in rows[0]
    assert rows[1][:12] == ["P1", "H1", "S1", "S2", "0", "I50.001", "I50.902", "true", "900.00", "630.00", "980.00", "686.00"]
    assert [r[3] for r in rows[1:]] == ["S2", "S3", "S7", "S9", "S11"]
    assert main(["stays", str(tiny), "--out", str(out), "--window-days", "0"]) == 0
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 2
    assert "no inpatient stay" not in capsys.readouterr().out


def test_cli_says_when_the_data_holds_no_inpatient_stay(tmp_path, capsys):
    """An extract of clinics or pharmacies: an empty file and the reason, not a bare 0."""
    t = tiny_tables()
    t["mdtrt"] = t["mdtrt"].assign(med_type="11")
    datafolder.write_data_folder(tmp_path / "d", t, source={})
    assert main(["stays", str(tmp_path / "d"), "--out", str(tmp_path / "p.csv")]) == 0
    said = capsys.readouterr().out
    assert "0 readmission pair(s)" in said and "the data holds no inpatient stay (med_type 21)" in said
    assert len((tmp_path / "p.csv").read_text(encoding="utf-8-sig").splitlines()) == 1


def test_cli_errors_exit_1(tiny, tmp_path, capsys):
    out = tmp_path / "p.csv"
    assert main(["stays", str(tmp_path / "nope"), "--out", str(out)]) == 1
    with pytest.raises(SystemExit) as bad:  # refused while reading the options: argparse's usage error
        main(["stays", str(tiny), "--out", str(out), "--window-days", "-1"])
    assert bad.value.code == 2
    assert "window_days" in capsys.readouterr().err
    assert not out.exists()


def test_no_setl_leaves_money_null(tmp_path):
    t = tiny_tables()
    del t["setl"], t["fee"]
    datafolder.write_data_folder(tmp_path / "d", t, source={})
    with workbench.open(tmp_path / "d") as s:
        p = stays.readmission_pairs(s, 15)
        assert len(p) == 5 and p.first_medfee_sumamt.isna().all() and p.second_hifp_pay.isna().all()
        inst = stays.institution_patterns(s, 15, cost_limit="1000").set_index("fixmedins_code")
        assert inst.billed_stays.tolist() == [0, 0, 0] and inst.near_cost_limit_share.isna().all()
        assert stays.stay_bill(s, "S1").empty


@pytest.mark.spark
def test_spark_engine_writes_the_same_csv(tiny, tmp_path, spark):
    a, b = tmp_path / "duckdb.csv", tmp_path / "spark.csv"
    assert main(["stays", str(tiny), "--out", str(a)]) == 0
    assert main(["stays", str(tiny), "--out", str(b), "--engine", "spark"]) == 0
    assert b.read_bytes() == a.read_bytes()


# --- a CMS-layout data folder (ICD-9 codes, no fee table) --------------------------------------

CMS_BENE = "BeneID,DOB,DOD,Gender,Race,State,County\nBENE1,1940-03-01,NA,2,1,39,230\nBENE2,1952-07-15,NA,1,1,39,230\n"
CMS_INPATIENT_COLUMNS = ["BeneID", "ClaimID", "ClaimStartDt", "ClaimEndDt", "Provider", "InscClaimAmtReimbursed",
                         "AttendingPhysician", "OperatingPhysician", "OtherPhysician", "AdmissionDt",
                         "ClmAdmitDiagnosisCode", "DeductibleAmtPaid", "DischargeDt", "DiagnosisGroupCode", "ClmDiagnosisCode_1"]
CMS_CLAIMS = [  # ClaimID, bene, provider, admission, discharge, reimbursed, ICD-9
    ("CLM1", "BENE1", "PRV1", "2009-02-01", "2009-02-05", "4000", "4280"),
    ("CLM2", "BENE1", "PRV1", "2009-02-07", "2009-02-10", "3000", "42821"),   # 2 days later, category 428
    ("CLM3", "BENE1", "PRV2", "2009-02-12", "2009-02-14", "2000", "486"),     # another provider
    ("CLM4", "BENE2", "PRV2", "2009-03-01", "2009-03-04", "5000", "V5789"),
    ("CLM5", "BENE2", "PRV2", "2009-03-04", "2009-03-06", "1000", "4019"),    # same day of discharge
]


def _cms_folder(tmp_path):
    """Import a CMS-layout extract (beneficiary and inpatient files) with ``workbench import``."""
    from workbench.importer import import_extract

    src = tmp_path / "cms"
    src.mkdir()
    (src / "Train_Beneficiarydata.csv").write_text(CMS_BENE, encoding="utf-8")
    lines = [",".join(CMS_INPATIENT_COLUMNS)]
    for cid, bene, prv, adm, dis, amt, dx in CMS_CLAIMS:
        lines.append(",".join([bene, cid, adm, dis, prv, amt, "PHY1", "NA", "NA", adm, dx, "1068", dis, "201", dx]))
    (src / "Train_Inpatientdata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_extract(src, "cms", tmp_path / "data")
    return tmp_path / "data"


def test_cms_layout_icd9(tmp_path):
    data = _cms_folder(tmp_path)
    with workbench.open(data) as s:
        assert not s.has("fee")
        e = stays.episodes(s).set_index("mdtrt_id")
        assert e.dise_category.to_dict() == {"CLM1": "428", "CLM2": "428", "CLM3": "486", "CLM4": "V57", "CLM5": "401"}
        assert e.loc["CLM3", ["prev_same_mdtrt_id", "gap_prev_any_days"]].tolist() == [None, 2]
        p = stays.readmission_pairs(s, 15)
        assert _pair_keys(p) == [("PRV1", "BENE1", "CLM1", "CLM2", 2), ("PRV2", "BENE2", "CLM4", "CLM5", 0)]
        assert p.same_category.tolist() == [True, False]
        assert p.loc[0, ["first_medfee_sumamt", "first_hifp_pay"]].tolist() == [D("5068.00"), D("4000.00")]
        assert stays.stay_bill(s, "CLM1").empty
        inst = stays.institution_patterns(s, 15).set_index("fixmedins_code")
        assert inst.loc["PRV2", ["peer_group", "stays", "readmissions", "short_gap_readmissions"]].tolist() == ["1-9", 3, 1, 0]
    out = tmp_path / "cms_pairs.csv"
    assert main(["stays", str(data), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8-sig").splitlines()[1].startswith("BENE1,PRV1,CLM1,CLM2,2,4280,42821,true,5068.00,4000.00,")


# --- agreement with the rule library -----------------------------------------------------------

def _run_split_rule(session, window_days):
    from workbench import rules

    return rules.run_rule(session, "split_hospitalization", params={"window_days": window_days, "same_diagnosis": False})


def _rule_pair(finding):
    """(psn_no, fixmedins_code, first stay, second stay, gap) of a split_hospitalization finding:
    the first stay is the other ``mdtrt:`` key of its evidence, the gap is in ``detail_en``."""
    keys = [k.split(":", 1)[1] for k in json.loads(finding.evidence) if k.startswith("mdtrt:")]
    first = [k for k in keys if k != finding.mdtrt_id]
    gap = re.search(r" (-?\d+) days after discharge", finding.detail_en)
    assert len(first) == 1 and gap, f"unexpected finding: {finding.evidence} {finding.detail_en}"
    return finding.psn_no, finding.fixmedins_code, first[0], finding.mdtrt_id, int(gap.group(1))


def _agree(session, window_days):
    found = _run_split_rule(session, window_days)
    ours = stays.readmission_pairs(session, window_days)
    theirs = {_rule_pair(r) for r in found.itertuples()}
    mine = {(r.psn_no, r.fixmedins_code, r.first_mdtrt_id, r.second_mdtrt_id, int(r.gap_days)) for r in ours.itertuples()}
    assert len(found) == len(ours)
    assert mine == theirs
    return mine


@pytest.mark.parametrize("window_days", [0, 14, 15])
def test_agrees_with_split_hospitalization_rule(session, window_days):
    assert len(_agree(session, window_days)) == {0: 1, 14: 4, 15: 5}[window_days]


# --- demo synthetic data: planted splitting hospitals, the rule, the notebooks ------------------

@pytest.fixture(scope="module")
def demo_session(demo_data):  # the session-wide demo region (conftest_demo.py)
    with workbench.open(demo_data) as s:
        yield s


def test_planted_splitting_hospitals_rank_top(demo_session):
    truth = demo_session.df("SELECT DISTINCT fixmedins_code FROM truth WHERE scenario = 'split_stay_hospital'")
    planted = set(truth.fixmedins_code)
    assert planted, "the demo data plants no split_stay_hospital"
    inst = stays.institution_patterns(demo_session, 15)
    ranks = inst.set_index("fixmedins_code").split_rank[sorted(planted)]
    assert ranks.max() <= len(planted), f"planted splitting hospitals ranked {ranks.to_dict()}"
    assert (inst.set_index("fixmedins_code").split_z[sorted(planted)] > 3.5).all()


def test_demo_agrees_with_split_hospitalization_rule(demo_session):
    assert len(_agree(demo_session, 15)) > 0


@pytest.mark.parametrize("notebook", ["notebooks/04-split-hospitalization.ipynb", "dashboards/stays.ipynb"])
def test_notebook_runs_on_demo_data(demo_data, notebook):
    pytest.importorskip("nbclient")
    from pathlib import Path

    from notebook_runner import outputs_text, run_notebook

    nb = run_notebook(Path(__file__).resolve().parents[1] / notebook, {"DATA": str(demo_data)}, timeout=300)
    assert "Traceback" not in outputs_text(nb)
