"""workbench.briefing: every figure of the briefing on a hand-made run over the tiny data folder."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from dashdata import TOTAL, findings_frame

from workbench.briefing import Briefing, county_names, rule_names
from workbench.cases import CaseStore
from workbench.errors import DataFolderError

D = Decimal


@pytest.fixture()
def briefing(hand_run, tmp_path):
    return Briefing(hand_run, home=tmp_path / "home")


def test_headline(briefing):
    assert briefing.headline == {"institutions_audited": 3, "institutions_flagged": 4, "findings": 8,
                                 "violations": 4, "amount_at_risk": TOTAL}
    assert isinstance(briefing.headline["amount_at_risk"], Decimal)


def test_data_folder_defaults_to_the_one_the_run_recorded(briefing, tiny_data):
    assert briefing.data.resolve() == tiny_data.resolve()
    assert briefing.period == ("2024-01", "2024-03")
    assert briefing.info()["run_ended"] == "2024-12-31T08:00:00+00:00"


def test_month_of_each_finding_from_visit_fee_settlement_or_stock_keys(briefing):
    months = dict(zip(briefing.finding_months.finding_id, briefing.finding_months.month))
    # F1 its own visit M2 (its evidence M1 is January too); F6 two February visits; F7 spans January
    # and March, F3 names an institution only: no month
    assert months == {"F1": "2024-01", "F2": "2024-03", "F3": None, "F4": "2024-01", "F5": "2024-02",
                      "F6": "2024-02", "F7": None, "F8": "2024-02"}


def test_by_month_fills_every_month_and_keeps_undated_last(briefing):
    m = briefing.by_month
    assert list(m.month) == ["2024-01", "2024-02", "2024-03", None]
    assert list(m.findings) == [2, 3, 1, 2]
    assert list(m.amount_at_risk) == [D("440.05"), D("47.34"), D("88.88"), D("1060.01")]
    assert sum(m.amount_at_risk) == TOTAL


def test_by_county_adds_up_with_unplaced_findings_last(briefing):
    c = briefing.by_county
    assert list(c.admdvs) == ["370102", None]
    assert c.county.iloc[0] == county_names()["370102"] == "历下区"
    assert list(c.institutions) == [3, 0]
    assert list(c.institutions_flagged) == [3, 1]  # H9 is not in medins
    assert list(c.findings) == [6, 2]
    assert list(c.amount_at_risk) == [D("1601.28"), D("35.00")]


def test_by_rule_names_and_order(briefing):
    r = briefing.by_rule
    assert list(r.rule_id)[:3] == ["cost_share_outlier", "split_hospitalization", "claims_after_death"]
    first = r.iloc[0]
    assert (first.findings, first.institutions, first.amount_at_risk) == (1, 1, D("1000.01"))
    names = rule_names()
    assert first.name_zh == names["cost_share_outlier"][0] and first.name_en == names["cost_share_outlier"][1]
    assert r.set_index("rule_id").loc["frequent_outpatient", "institutions"] == 0
    assert sum(r.amount_at_risk) == TOTAL


def test_by_institution_type(briefing):
    t = briefing.by_institution_type.set_index("category")
    assert list(t.index) == ["tertiary", "primary", "pharmacy", "unknown"]
    assert t.loc["tertiary"].tolist() == [1, 1, 4, D("1500.06")]
    assert t.loc["primary"].tolist() == [1, 1, 1, D("88.88")]
    assert t.loc["pharmacy"].tolist() == [1, 1, 1, D("12.34")]
    assert t.loc["unknown"].tolist() == [0, 1, 2, D("35.00")]


def test_top_institutions(briefing):
    top = briefing.top_institutions(3)
    assert list(top.fixmedins_code) == ["H1", "H2", "H9"]
    assert list(top.fixmedins_name) == ["甲医院", "乙卫生院", None]
    assert list(top.findings) == [4, 1, 1] and list(top.rules) == [4, 1, 1]
    assert list(top.amount_at_risk) == [D("1500.06"), D("88.88"), D("30.00")]
    assert list(top.category) == ["tertiary", "primary", "unknown"]
    assert list(top.confirmed) == [0, 0, 0]


def test_cases_without_decisions(briefing):
    c = briefing.cases
    assert (c["findings"], c["confirmed"], c["pending"], c["recovered"]) == (0, 0, 8, D("0.00"))


def test_cases_count_only_this_runs_findings(hand_run, tmp_path):
    home = tmp_path / "home"
    store = CaseStore(home)
    rows = {r["finding_id"]: r for r in findings_frame().to_dict("records")}
    store.decide("F1", "confirmed", "王审核", recovered="100", actions=["suspend"], finding=rows["F1"])
    store.decide("F2", "confirmed", "王审核", actions=["terminate", "refer_police"], fine="500", finding=rows["F2"])
    store.decide("F3", "dismissed", "王审核", finding=rows["F3"])
    store.decide("ELSEWHERE", "confirmed", "王审核", recovered="999")
    b = Briefing(hand_run, home=home)
    c = b.cases
    assert (c["findings"], c["confirmed"], c["dismissed"], c["pending"]) == (3, 2, 1, 5)
    assert c["amount_at_risk_confirmed"] == D("528.88")
    assert c["recovered"] == D("100.00") and c["fines"] == D("500.00")
    assert (c["suspended"], c["terminated"], c["fined"], c["referred_police"]) == (1, 1, 1, 1)
    assert list(b.top_institutions(2).confirmed) == [1, 1]
    store.decide("F4", "confirmed", "王审核", finding=rows["F4"])
    assert b.cases["confirmed"] == 2  # a briefing shows one moment ...
    b.refresh_cases()
    assert b.cases["confirmed"] == 3  # ... until it is refreshed


def test_an_unreadable_case_store_is_reported_not_raised(hand_run, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "cases.sqlite").write_bytes(b"not a database" * 100)
    b = Briefing(hand_run, home=home)
    assert b.cases is None
    assert "cases.sqlite" in b.cases_error


def test_no_personal_data_in_any_figure(briefing):
    personal = {"psn_no", "dr_code", "certno", "psn_name", "dr_name", "mdtrt_id"}
    values = {"P1", "P2", "P3", "D1", "M1", "M2", "M4", "370102195001011234"}
    figs = briefing.figures()
    for name in ("by_month", "by_county", "by_rule", "by_institution_type", "top_institutions"):
        frame = figs[name]
        assert not personal & set(frame.columns), name
        assert not values & {str(v) for v in frame.to_numpy().ravel()}, name
    assert not values & {str(v) for v in json.loads(json.dumps(figs["headline"], default=str)).values()}


def test_errors_name_the_folder(tmp_path, hand_run):
    with pytest.raises(DataFolderError, match="no findings.parquet"):
        Briefing(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    (run / "findings.parquet").write_bytes((hand_run / "findings.parquet").read_bytes())
    (run / "manifest.json").write_text("{}")
    with pytest.raises(DataFolderError, match="records no data folder"):
        Briefing(run)
