"""The rule explorer, without a browser: set traits, click, check state and what was asked."""
from decimal import Decimal

import pytest

import workbench
from workbench import datafolder
from widgets.rules import RuleExplorer

PSN = {"psn_no": ["P1"], "certno": ["370102199001011234"], "psn_name": ["王小明"], "gend": ["1"], "brdy": ["1960-05-01"],
       "insutype": ["310"], "insuplc_admdvs": ["370802"]}
MEDINS = {"fixmedins_code": ["H1"], "fixmedins_name": ["某医院"], "fixmedins_type": ["1"], "hosp_lv": ["2"], "admdvs": ["370811"]}


def _stay(i, begin, end, dise="J18.9"):
    return {"mdtrt_id": f"M{i}", "psn_no": "P1", "fixmedins_code": "H1", "med_type": "21", "begntime": begin,
            "endtime": end, "dise_codg": dise, "atddr_no": "D1"}


@pytest.fixture
def session(tmp_path):
    stays = [_stay(1, "2024-01-01 08:00:00", "2024-01-05 10:00:00"),
             _stay(2, "2024-01-15 08:00:00", "2024-01-20 10:00:00"),   # 10 days after M1
             _stay(3, "2024-02-09 08:00:00", "2024-02-12 10:00:00")]   # 20 days after M2
    mdtrt = {k: [s[k] for s in stays] for k in stays[0]}
    setl = {"setl_id": ["S1", "S2", "S3"], "mdtrt_id": ["M1", "M2", "M3"], "psn_no": ["P1"] * 3, "fixmedins_code": ["H1"] * 3,
            "setl_time": ["2024-01-05 11:00:00", "2024-01-20 11:00:00", "2024-02-12 11:00:00"],
            "medfee_sumamt": ["1000.00", "2000.00", "3000.00"], "hifp_pay": ["700.00", "1400.00", "2100.00"]}
    d = tmp_path / "d"
    datafolder.write_data_folder(d, {"psn": PSN, "medins": MEDINS, "mdtrt": mdtrt, "setl": setl}, source={})
    with workbench.open(d) as s:
        yield s


def test_run_lists_findings_and_shows_masked_evidence(session):
    w = RuleExplorer(session, rule="split_hospitalization")
    assert w.params == {"window_days": 15, "same_diagnosis": True}
    w.run_button.click()
    assert w.n_findings == 1
    assert w.findings["mdtrt_id"].tolist() == ["M2"]
    assert w.findings["amount_at_risk"].tolist() == [Decimal("1400.00")]
    assert "1,400.00" in w.status.value
    assert w.finding_id == w.findings["finding_id"].iloc[0]
    assert "M1" in w.evidence_out.value and "M2" in w.evidence_out.value
    assert "王小明" not in w.evidence_out.value and "370102199001011234" not in w.evidence_out.value


def test_changing_a_threshold_control_changes_the_run(session):
    w = RuleExplorer(session, rule="split_hospitalization")
    window = next(b.children[0] for b in w.controls.children if b.children[0].description == "window_days")
    window.value = 30
    assert w.params["window_days"] == 30
    w.run()
    assert sorted(w.findings["mdtrt_id"]) == ["M2", "M3"]


def test_sweep_shows_hits_per_value(session):
    w = RuleExplorer(session, rule="split_hospitalization")
    w.sweep_param.value = "window_days"
    w.sweep_values.value = "5, 10, 20"
    w.sweep_button.click()
    assert w.sweep_result["findings"].tolist() == [0, 1, 2]
    assert w.sweep_result["amount_at_risk"].tolist() == [Decimal("0.00"), Decimal("1400.00"), Decimal("3500.00")]


def test_switching_rule_rebuilds_controls_and_clears_findings(session):
    w = RuleExplorer(session, rule="split_hospitalization")
    w.run()
    w.rule_id = "price_over_cap"
    assert w.rule_picker.value == "price_over_cap"
    assert w.findings is None and w.finding_picker.options == ()
    assert w.params == {}


def test_errors_are_shown_not_raised(session):
    w = RuleExplorer(session, rule="split_hospitalization")
    w.sweep_param.value = "window_days"
    w.sweep(values=[-5])
    assert "window_days" in w.sweep_out.value and "color:#b00" in w.sweep_out.value
