"""Doctors' integrity points and institutions' credit classes on hand-built decisions."""
import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from workbench import credit, datafolder, lottery
from workbench.errors import CreditError

D = dt.date


def findings(rows):
    cols = credit.FINDING_COLUMNS
    return pd.DataFrame([dict(zip(cols, r)) for r in rows], columns=cols)


# finding_id, rule_id, result_type, fixmedins_code, dr_code, amount_at_risk, decided_at, status
DOCTORS = findings([
    ("F01", "price_over_cap", "violation", "H1", "D1", "500.00", "2025-01-10", "confirmed"),       # 4
    ("F02", "price_over_cap", "violation", "H1", "D1", "1000.00", "2025-02-10", "confirmed"),      # 5 → 9 suspended
    ("F03", "split_hospitalization", "suspicious", "H1", "D1", "999.99", "2025-03-01", "confirmed"),  # 1 → 10
    ("F04", "frequency_limit", "suspicious", "H1", "D1", "10000.00", "2025-04-01", "confirmed"),   # 3 → 13 terminated
    ("F05", "price_over_cap", "violation", "H1", "D1", "9999.99", "2025-04-02", "dismissed"),      # not counted
    ("F06", "price_over_cap", "violation", "H1", "D1", "20000.00", "2026-05-01 10:30", "confirmed"),  # new year: 6
    ("F07", "price_over_cap", "violation", "H1", "D1", "1.00", "2026-12-01", "confirmed"),         # after as_of
    ("F21", "price_over_cap", "violation", "H2", "D2", "1000", "2025-06-01", "confirmed"),         # 5
    ("F22", "frequency_limit", "suspicious", "H2", "D2", "1000", "2025-06-01", "confirmed"),       # 2, same day
    ("F23", "frequency_limit", "suspicious", "H2", "D2", None, "2025-07-01", "confirmed"),          # 1 → 8 normal
    ("F31", "claims_after_death", "violation", "H3", "D3", "50000.00", "2026-03-01", "confirmed"),  # fraud: 12
    ("F32", "claims_after_death", "violation", "H3", "D4", "49999.99", "2026-03-01", "confirmed"),  # 6
    ("F41", "cost_share_outlier", "suspicious", "H4", None, "100.00", "2026-03-01", "confirmed"),    # no doctor
])
AS_OF = D(2026, 11, 28)


def test_points_follow_the_default_bands():
    pol = credit.load_policy()["doctor"]
    f = credit.confirmed(DOCTORS, AS_OF).set_index("finding_id")
    got = {i: credit.finding_points(f.loc[i].to_dict() | {"finding_id": i}, pol)[0] for i in f.index}
    assert got == {"F01": 4, "F02": 5, "F03": 1, "F04": 3, "F06": 6, "F21": 5, "F22": 2, "F23": 1, "F31": 12, "F32": 6, "F41": 1}
    assert f.loc["F23", "amount_at_risk"] == Decimal("0.00") and f.loc["F06", "decided_at"] == D(2026, 5, 1)


def test_doctor_history_suspends_at_9_terminates_at_12_and_resets_each_year():
    hist, cur = credit.doctor_points(DOCTORS, as_of=AS_OF)
    d1 = hist[hist["dr_code"] == "D1"]
    assert d1[["date", "points_before", "points_after", "remaining", "status_before", "status_after", "finding_ids"]].values.tolist() == [
        [D(2025, 1, 10), 0, 4, 8, "normal", "normal", "F01"],
        [D(2025, 2, 10), 4, 9, 3, "normal", "suspended", "F02"],
        [D(2025, 3, 1), 9, 10, 2, "suspended", "suspended", "F03"],
        [D(2025, 4, 1), 10, 13, 0, "suspended", "terminated", "F04"],
        [D(2026, 1, 1), 13, 0, 12, "terminated", "normal", ""],
        [D(2026, 5, 1), 0, 6, 6, "normal", "normal", "F06"],
    ]
    assert d1.iloc[1]["reason"] == "F02 (price_over_cap, violation, 1000.00 yuan): 5 point(s) by doctor.points[2]"
    assert d1.iloc[4]["reason"] == "scoring year 2026 begins: points reset"
    d2 = hist[hist["dr_code"] == "D2"]
    assert d2[["date", "points_after", "status_after", "finding_ids"]].values.tolist() == [
        [D(2025, 6, 1), 7, "normal", "F21;F22"], [D(2025, 7, 1), 8, "normal", "F23"], [D(2026, 1, 1), 0, "normal", ""]]
    assert cur.set_index("dr_code")[["points", "remaining", "status", "findings"]].to_dict("index") == {
        "D1": {"points": 6, "remaining": 6, "status": "normal", "findings": 1},
        "D2": {"points": 0, "remaining": 12, "status": "normal", "findings": 0},
        "D3": {"points": 12, "remaining": 0, "status": "terminated", "findings": 1},
        "D4": {"points": 6, "remaining": 6, "status": "normal", "findings": 1},
    }
    # as of the end of 2025 D1 is terminated, and no reset has happened yet
    hist25, cur25 = credit.doctor_points(DOCTORS, as_of="2025-12-31")
    assert cur25.set_index("dr_code").loc["D1", ["points", "status", "last_change"]].tolist() == [13, "terminated", D(2025, 4, 1)]
    assert len(hist25[hist25["dr_code"] == "D1"]) == 4


def test_a_policy_file_changes_the_bands(tmp_path):
    path = tmp_path / "credit.yaml"
    path.write_text("doctor:\n  suspend_at: 8\n  points:\n    - {rule_id: [claims_after_death], points: 12}\n"
                    "    - {result_type: violation, max_amount: '1000', points: 3}\n    - {points: 2}\n", encoding="utf-8")
    hist, cur = credit.doctor_points(DOCTORS, policy=path, as_of="2025-12-31")
    assert hist[hist["dr_code"] == "D1"]["points_after"].tolist() == [3, 5, 7, 9]
    assert hist[hist["dr_code"] == "D1"]["status_after"].tolist() == ["normal", "normal", "normal", "suspended"]
    with pytest.raises(CreditError, match="no doctor.points entry matches finding F03"):
        credit.doctor_points(DOCTORS, policy={"doctor": {"points": [{"result_type": "violation", "points": 4}]}}, as_of=AS_OF)
    with pytest.raises(CreditError, match="unknown section 'doctors'"):
        credit.load_policy({"doctors": {}})
    with pytest.raises(CreditError, match="institution has no setting window"):
        credit.load_policy({"institution": {"window": 30}})
    with pytest.raises(CreditError, match=r"doctor.points\[0\] needs 'points'"):
        credit.load_policy({"doctor": {"points": [{"rule_id": "x"}]}})
    with pytest.raises(CreditError, match="missing column"):
        credit.doctor_points(DOCTORS.drop(columns="status"), as_of=AS_OF)


# ---------------------------------------------------------------------------- institutions
BASE = pd.DataFrame({
    "fixmedins_code": ["H1", "H2", "H3", "H4"], "peer_group": ["1×2", "1×2", "2×9", "1×2"],
    "visits": [1000, 1000, 100, 8000],
    "fund_paid": [Decimal("1000000.00"), Decimal("1000000.00"), Decimal("10000.00"), Decimal("5000000.00")],
})
INSTITUTIONS = findings(
    [("F1", "price_over_cap", "violation", "H1", None, "100.00", "2025-01-10", "confirmed")]
    + [(f"F{i}", "price_over_cap", "violation", "H1", None, "100.00", "2025-02-01", "confirmed") for i in (2, 3, 4, 5)]
    + [("F6", "price_over_cap", "violation", "H2", None, "20000.00", "2025-06-01", "confirmed"),
       ("F7", "ghost_bed", "violation", "H3", None, "600.00", "2025-03-01", "confirmed"),
       ("F8", "ghost_bed", "violation", "H3", None, "99999.00", "2025-04-01", "dismissed"),
       ("F9", "claims_after_death", "violation", "H5", None, "600000.00", "2025-05-01", "confirmed")])


def test_institution_classes_change_with_their_reasons():
    hist, cur = credit.institution_classes(INSTITUTIONS, BASE, as_of=AS_OF)
    got = hist[["fixmedins_code", "date", "class_before", "class_after", "findings", "finding_ids", "new", "expired"]].values.tolist()
    assert got == [
        ["H1", D(2025, 1, 10), "A", "B", 1, "F1", "F1", ""],
        ["H1", D(2025, 2, 1), "B", "C", 5, "F1;F2;F3;F4;F5", "F2;F3;F4;F5", ""],
        ["H3", D(2025, 3, 1), "A", "D", 1, "F7", "F7", ""],
        ["H5", D(2025, 5, 1), "A", "D", 1, "F9", "F9", ""],
        ["H2", D(2025, 6, 1), "A", "C", 1, "F6", "F6", ""],
        # 2026-01-10: F1 leaves the window; H1 keeps C on its rate: (4/1000) / ((4+1)/10000) = 8× its peers
        ["H1", D(2026, 2, 1), "C", "A", 0, "", "", "F1;F2;F3;F4;F5"],
        ["H3", D(2026, 3, 1), "D", "A", 0, "", "", "F7"],
        ["H5", D(2026, 5, 1), "D", "A", 0, "", "", "F9"],
        ["H2", D(2026, 6, 1), "C", "A", 0, "", "", "F6"],
    ]
    r = hist.set_index(["fixmedins_code", "date"])["reason"]
    assert r[("H1", D(2025, 2, 1))] == "C: 5 confirmed finding(s) ≥ 5"
    assert r[("H3", D(2025, 3, 1))] == "D: 6.00% of fund payments ≥ 5%"
    assert r[("H5", D(2025, 5, 1))] == "D: amount at risk 600000.00 ≥ 500000 yuan"
    assert r[("H2", D(2025, 6, 1))] == "C: 2.00% of fund payments ≥ 1%"
    # H2's 1 finding per 1000 visits against its group's (5 + 1) per 10000: 1.67×, below the 3× of C
    h2 = hist[(hist["fixmedins_code"] == "H2")].iloc[0]
    assert (h2["amount_at_risk"], h2["share"], h2["peer_ratio"]) == (Decimal("20000.00"), Decimal("0.0200"), Decimal("1.67"))
    assert cur["credit_class"].tolist() == ["A"] * 5 and cur["since"].tolist() == [D(2026, 2, 1), D(2026, 6, 1), D(2026, 3, 1), None, D(2026, 5, 1)]


def test_the_peer_rate_keeps_a_class():
    _, cur = credit.institution_classes(INSTITUTIONS, BASE, as_of="2026-01-15")
    row = cur.set_index("fixmedins_code").loc["H1"]
    assert (row["credit_class"], row["findings"], row["peer_ratio"]) == ("C", 4, Decimal("8.00"))
    assert row["reason"] == "C: rate of findings per visit 8.00× the peer group's ≥ 3×"
    assert row["since"] == D(2025, 2, 1)


def test_current_classes_and_the_report(tmp_path):
    report = credit.credit_report(pd.concat([INSTITUTIONS, DOCTORS]), base=BASE, as_of="2025-12-31")
    # the doctors' findings count for their institutions too: H1 has 4 + 5, H2 3 + 1; H4's is decided in 2026
    assert report.classes() == {"H1": "C", "H2": "C", "H3": "D", "H4": "A", "H5": "D"}
    assert report.institution("H1")["current"]["findings"] == 9
    assert report.institution("H4")["current"]["reason"] == "A: no confirmed finding meets a class rule in the last 365 days"
    assert report.institution("H9")["current"] is None and report.institution("H9")["history"].empty
    assert report.doctor("D1")["current"]["status"] == "terminated" and len(report.doctor(" D1 ")["history"]) == 4
    path = report.write_classes(tmp_path / "classes.csv")
    assert path.read_text(encoding="utf-8") == "fixmedins_code,credit_class\nH1,C\nH2,C\nH3,D\nH4,A\nH5,D\n"
    assert lottery.credit_classes(path) == report.classes()


def test_institution_base_from_a_data_folder(tmp_path):
    from test_lottery import lottery_tables

    t = lottery_tables()
    t["mdtrt"] = pd.DataFrame([dict(mdtrt_id=f"M{i}", psn_no="P1", fixmedins_code=c, med_type="11", begntime="2026-01-05 08:00",
                                    endtime="2026-01-05 09:00", dise_codg="J06", atddr_no="D1")
                               for i, c in enumerate(["H01", "H01", "H02"])])
    t["setl"] = pd.DataFrame([dict(setl_id=f"S{i}", mdtrt_id=m, psn_no="P1", fixmedins_code=c, setl_time="2026-01-05 09:00",
                                   medfee_sumamt=a, hifp_pay=h)
                              for i, (m, c, a, h) in enumerate([("M0", "H01", "100.10", "70.07"), ("M1", "H01", "50.00", "35.01"),
                                                                 ("M1", "H01", "-50.00", "-35.01"), ("M2", "H02", "10.00", "0.10")])])
    datafolder.write_data_folder(tmp_path / "d", t, source={})
    base = credit.institution_base(tmp_path / "d").set_index("fixmedins_code")
    assert base.loc["H01"].tolist() == ["1×2", 2, Decimal("70.07")]
    assert base.loc["H02"].tolist() == ["2×9", 1, Decimal("0.10")]
    assert base.loc["H03"].tolist() == ["1×2", 0, None]
    # the classes feed the draw: H02 D weighs 4000 bp, the rest A 500 bp
    f = findings([("X1", "ghost_bed", "violation", "H02", None, "1.00", "2026-01-06", "confirmed")])
    report = credit.credit_report(f, data=tmp_path / "d", as_of="2026-01-31")
    assert report.classes()["H02"] == "D" and report.classes()["H01"] == "A"  # 1.00 / 0.10 is 1000 % of its fund payments
    d = lottery.draw(tmp_path / "d", "S", 2, 2, credit=report, date="2026-02-01")
    assert d.record["credit"]["H02"] == "D"
    assert {c["stratum"]: c["weight"] for c in d.cells}["370102/2/D"] == 4000
