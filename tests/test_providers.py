"""Provider profiles, peer groups, detectors, reasons, the CLI and the evaluation (workbench/providers)."""
from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench
from workbench import datafolder
from workbench.cli import main
from workbench.errors import WorkbenchError
from workbench.providers import (EnsembleDetector, IsolationForestDetector, LOFDetector, RobustZDetector,
                                 add_findings_measures, assign_peer_groups, chronic_categories, default_ensemble,
                                 doctor_profiles, evaluate, institution_profiles, profile_providers, rank_normalise,
                                 read_labels, reasons_text, robust_z, standardise)
from workbench.providers.analysis import LEAD_COLUMNS, MEASURE_COLUMNS
from workbench.providers.peers import peer_label, robust_scale

from ruledata import tiny_tables

ROOT = Path(__file__).resolve().parents[1]
APPROX = dict(rel=1e-9, abs=1e-12)


# --- tiny exact data ---------------------------------------------------------------------------

def prov_tables() -> dict:
    """The shared tiny tables plus, at H2: M8 (Saturday 23:30, outpatient E11, doctor D2, fee lines
    treatment 80 (a TCM therapy), consumable 20, Chinese patent drug 100) and M9 (refunded to 0)."""
    t = tiny_tables()
    t["mdtrt"] = pd.concat([t["mdtrt"], pd.DataFrame([
        {"mdtrt_id": "M8", "psn_no": "P3", "fixmedins_code": "H2", "med_type": "11", "begntime": "2024-03-09 23:30",
         "endtime": "2024-03-09 23:50", "dise_codg": "E11.9", "atddr_no": "D2"},
        {"mdtrt_id": "M9", "psn_no": "P2", "fixmedins_code": "H2", "med_type": "11", "begntime": "2024-03-10 09:00",
         "endtime": "2024-03-10 09:30", "dise_codg": "J06.9", "atddr_no": "D2"},
    ])], ignore_index=True)
    extra = pd.DataFrame([
        ("S8", "M8", "200.00", "150.00", "0", "P3", "H2", "2024-03-09 23:50"),
        ("S9a", "M9", "100.00", "70.00", "0", "P2", "H2", "2024-03-10 09:30"),
        ("S9b", "M9", "-100.00", "-70.00", "1", "P2", "H2", "2024-03-11 09:30"),
    ], columns=["setl_id", "mdtrt_id", "medfee_sumamt", "hifp_pay", "refd_setl_flag", "psn_no", "fixmedins_code", "setl_time"])
    t["setl"] = pd.concat([t["setl"], extra], ignore_index=True)
    fee = pd.DataFrame([
        ("M8", "1", "2024-03-09 23:40", "T001", "05", 1, "80.00", "80.00"),
        ("M8", "2", "2024-03-09 23:40", "C001", "08", 1, "20.00", "20.00"),
        ("M8", "3", "2024-03-09 23:40", "Z001", "11", 1, "100.00", "100.00"),
    ], columns=["mdtrt_id", "feedetl_sn", "fee_ocur_time", "med_list_codg", "med_chrgitm_type", "cnt", "pric", "det_item_fee_sumamt"])
    fee["psn_no"], fee["bilg_dr_codg"] = "P3", "D2"
    t["fee"] = pd.concat([t["fee"], fee], ignore_index=True)
    t["list"] = pd.DataFrame({"med_list_codg": ["T001", "C001", "Z001", "X001"], "list_name": ["针刺", "敷料", "中成药", "西药"],
                              "med_chrgitm_type": ["05", "08", "11", "09"], "tcm_therapy": [True, False, False, False]})
    for c in ("pric_uplmt_amt", "lmt_gend", "lmt_age_min", "lmt_age_max", "lmt_dise", "lmt_hosp_lv"):
        t["list"][c] = None
    return t


@pytest.fixture(scope="module")
def prov_data(tmp_path_factory):
    out = tmp_path_factory.mktemp("prov") / "data"
    datafolder.write_data_folder(out, prov_tables(), source={"kind": "test"})
    return out


@pytest.fixture(scope="module")
def prov_session(prov_data):
    with workbench.open(prov_data) as s:
        yield s


def _row(frame, **keys):
    m = np.ones(len(frame), dtype=bool)
    for k, v in keys.items():
        m &= (frame[k] == v).to_numpy()
    assert m.sum() == 1, keys
    return frame[m].iloc[0]


def test_institution_profile_exact_values(prov_session):
    p = institution_profiles(prov_session)
    assert list(p.fixmedins_code) == ["H1", "H2"]  # Y1 has no visit; M9 is withdrawn
    h1, h2 = _row(p, fixmedins_code="H1"), _row(p, fixmedins_code="H2")
    # H1: four stays, net bills 1000 + 700 (800 less a 100 refund) + 300 + 5000
    assert (h1.visits, h1.persons, h1.inpatient_stays, h1.doctors) == (4, 2, 4, 1)
    assert (h1.medfee_total, h1.hifp_total) == (Decimal("7000.00"), Decimal("5340.00"))
    assert h1.cost_per_visit == pytest.approx(1750.0, **APPROX)
    assert h1.cost_per_person == pytest.approx(3500.0, **APPROX)
    assert h1.fund_share == pytest.approx(5340 / 7000, **APPROX)
    # fee lines 150.05 (09) + 200 (03) + 50 (01) + 333.33 (09) + 60 (01)
    assert h1.drug_share == pytest.approx(483.38 / 793.38, **APPROX)
    assert h1.test_share == pytest.approx(200 / 793.38, **APPROX)
    assert (h1.consumable_share, h1.treatment_share) == (0.0, 0.0)
    assert np.isnan(h1.tcm_therapy_share)  # no outpatient visit
    # stays of 4, 2, 2 and 19 days; M2 is a readmission 5 days after M1
    assert h1.los_mean == pytest.approx(6.75, **APPROX)
    assert h1.short_stay_share == pytest.approx(0.5, **APPROX)
    assert h1.readmission_rate == pytest.approx(0.25, **APPROX)
    assert h1.inpatient_share == 1.0
    # expected cost: region means 1900 (21/K35) x 3 + 300 (21/J18)
    assert h1.cost_index == pytest.approx(7000 / 6000, **APPROX)
    assert h1.admission_index == pytest.approx(1.0, **APPROX)
    assert h1.dise_entropy == pytest.approx(-(0.75 * np.log2(0.75) + 0.25 * np.log2(0.25)), **APPROX)
    assert (h1.dise_categories, h1.dise_per_100) == (2, 50.0)
    assert h1.repeat_interval_median == 30.0  # P2: 9 and 51 days
    # bed fees 50 + 60 over the bed-days of the stays with fee lines (M1 4, M2 2, M3 2)
    assert h1.bed_nursing_per_day == pytest.approx(110 / 8, **APPROX)
    assert np.isnan(h1.exam_fee_per_visit) and h1.minor_admission_share == 0.0
    assert (h1.weekend_share, h1.night_share, h1.elderly_share, h1.chronic_share) == (0.0, 0.0, 0.0, 0.0)
    # H2: M4, M5 (P1, 74, I10), M7 (P3, Sunday, K35 stay), M8 (P3, Saturday 23:30, E11)
    assert (h2.visits, h2.persons, h2.inpatient_stays, h2.doctors) == (4, 2, 1, 2)
    assert (h2.medfee_total, h2.hifp_total) == (Decimal("1270.00"), Decimal("868.88"))
    assert h2.cost_per_visit == pytest.approx(317.5, **APPROX)
    assert h2.cost_per_person == pytest.approx(635.0, **APPROX)
    assert (h2.drug_share, h2.test_share, h2.consumable_share, h2.treatment_share) == pytest.approx((0.5, 0.0, 0.1, 0.4), **APPROX)
    assert h2.tcm_therapy_share == pytest.approx(1 / 3, **APPROX)  # M8 of M4, M5, M8
    assert h2.weekend_share == 0.5 and h2.night_share == 0.25
    assert h2.elderly_share == 0.5 and h2.chronic_share == 0.75
    assert h2.readmission_rate == 0.0 and h2.los_mean == 2.0 and h2.short_stay_share == 1.0
    assert h2.visits_per_doctor_day == 1.0 and h2.patients_per_doctor == 1.0
    assert h2.repeat_interval_median == 13.5  # P1 14 days, P3 13 days
    assert h2.dise_entropy == pytest.approx(1.5, **APPROX)
    assert h2.cost_index == pytest.approx(1270 / 2270, **APPROX)  # 85 + 85 + 1900 + 200
    assert h2.inpatient_share == 0.25
    assert h2.exam_fee_per_visit == 0.0 and np.isnan(h2.bed_nursing_per_day)  # M8 has no 02 line; M7 no fee lines
    assert (h2.fixmedins_name, h2.fixmedins_type, h2.hosp_lv) == ("乙卫生院", "1", "3")


def test_measures_that_need_no_fee_lines_exact_values(prov_session):
    p = institution_profiles(prov_session)
    h1, h2 = _row(p, fixmedins_code="H1"), _row(p, fixmedins_code="H2")
    # stay length against the diagnosis category: the region's K35 stays last 4, 2, 19 and 2 days
    # (mean 6.75), its J18 stay 2; H1 stayed 4 + 2 + 2 + 19 = 27 where 3 x 6.75 + 2 were expected
    assert h1.los_index == pytest.approx(27 / 22.25, **APPROX)
    assert h2.los_index == pytest.approx(2 / 6.75, **APPROX)  # M7, K35, 2 days; outpatient visits have no stay
    assert (h1.claims_per_person, h2.claims_per_person) == (2.0, 2.0)  # 4 visits of 2 persons each
    assert h1.repeat_person_share == 0.5 and h2.repeat_person_share == 0.0  # P2 stayed 3 times at H1, P3 once
    assert h1.claims_per_doctor == 4.0 and h1.top_doctor_share == 1.0  # D1 alone
    assert h2.claims_per_doctor == 2.0 and h2.top_doctor_share == 0.75  # D1 3 visits, D2 1


def test_credibility_and_priority_exact():
    from workbench.providers.analysis import credibility, detector_matrix, exposure, inspection_priority

    assert credibility([0, 20, 60, np.nan]).tolist() == [0.0, 0.5, 0.75, 0.0]
    z = pd.DataFrame({"drug_share": [4.0, -2.0], "repeat_interval_median": [-3.0, 1.0]})
    m = detector_matrix(z, ["drug_share", "repeat_interval_median"], weight=[0.5, 1.0])
    # high drug share suspicious; low repeat interval suspicious (negated); harmless side x 0.3
    assert m.to_numpy().tolist() == [[2.0, 1.5], [-0.6, -0.3]]
    # same abnormality, twice the exposure: twice the priority; same exposure: the abnormal first
    assert inspection_priority([1000.0, 2000.0, 2000.0], [0.5, 0.5, 0.9]).tolist() == [500.0, 1000.0, 1800.0]
    with pytest.raises(ValueError):
        inspection_priority([1.0], [1.5])
    frame = pd.DataFrame({"hifp_total": [Decimal("10.50"), None], "visits": [3, 4]})
    assert exposure(frame).tolist() == [10.5, 0.0]
    assert exposure(pd.DataFrame({"hifp_total": [None, None], "visits": [3, 4]})).tolist() == [3.0, 4.0]


def test_case_mix_intensity_is_the_geometric_mean_of_the_indices_over_the_peer_median():
    from workbench.providers.analysis import case_mix_intensity, inspection_priority

    frame = pd.DataFrame({"cost_index": [2.0, 1.0, np.nan, 0.5], "los_index": [2.0, 4.0, np.nan, np.nan]})
    medians = pd.DataFrame({"cost_index": [1.0, 1.0, 1.0, 1.0], "los_index": [1.0, 1.0, 1.0, 2.0]})
    k = case_mix_intensity(frame, medians)
    # both indices twice the peers' -> 2; cost as peers', stays 4x -> sqrt(4) = 2; none -> 1;
    # a pharmacy-like row with only a bill index half its peers' -> 0.5 (its stay index is null)
    assert np.allclose(k, [2.0, 2.0, 1.0, 0.5])
    assert np.allclose(case_mix_intensity(frame.drop(columns=["cost_index", "los_index"]), medians), 1.0)
    # same fund paid and abnormality: the more intense provider first, in proportion
    assert inspection_priority([1000.0, 1000.0], [0.5, 0.5], [2.0, 1.0]).tolist() == [1000.0, 500.0]
    with pytest.raises(ValueError):
        inspection_priority([1.0], [0.5], [0.0])


def test_exposure_reasons_name_the_place_among_peers():
    from workbench.providers.reasons import exposure_texts, join_reasons

    t = exposure_texts([500.0, 1234567.0, 20.0], ["1-3", "1-3", "1-2"])
    assert t["zh"] == ["基金支付 500.00，同级 2 家中第 2", "基金支付 1,234,567.00，同级 2 家中第 1", "基金支付 20.00，同级 1 家中第 1"]
    assert t["en"][1] == "fund paid 1,234,567.00, #1 of 2 peers"
    assert exposure_texts([7.0], ["1-9"], money=False)["en"] == ["7 visits, #1 of 1 peers"]
    assert join_reasons("a", "b") == "a；b" and join_reasons("a", "b", "en") == "a; b"


def test_profile_parameters_change_the_measures(prov_session):
    p = institution_profiles(prov_session, window_days=4, short_stay_days=4, night_from=23, night_to=9)
    h1, h2 = _row(p, fixmedins_code="H1"), _row(p, fixmedins_code="H2")
    assert h1.readmission_rate == 0.0 and h1.short_stay_share == 0.75
    assert h2.night_share == 0.5  # M7 at 08:00, M8 at 23:30
    p = institution_profiles(prov_session, night_from=24, night_to=9)  # before 09:00 only
    assert _row(p, fixmedins_code="H1").night_share == 0.5  # M1, M6 at 08:00; M2, M3 at 09:00 are not
    with pytest.raises(WorkbenchError, match="window_days"):
        institution_profiles(prov_session, window_days=-1)
    with pytest.raises(WorkbenchError, match="unknown profile parameter"):
        institution_profiles(prov_session, windows=3)


def test_admission_index_and_short_minor_stays(tmp_path):
    """One clinic: J06 three times as an outpatient and once admitted for 2 days, I63 admitted for
    5 days. The region admits 1 in 4 J06 visits and every I63 visit."""
    t = tiny_tables()
    rows = [("A1", "11", "2024-01-02", "2024-01-02", "J06.9"), ("A2", "11", "2024-01-03", "2024-01-03", "J06.9"),
            ("A3", "11", "2024-01-04", "2024-01-04", "J06.9"), ("A4", "21", "2024-01-05", "2024-01-07", "J06.9"),
            ("A5", "21", "2024-02-01", "2024-02-06", "I63.9")]
    t["mdtrt"] = pd.DataFrame([{"mdtrt_id": i, "psn_no": "P1", "fixmedins_code": "H1", "med_type": m, "begntime": b + " 10:00",
                                "endtime": e + " 10:00", "dise_codg": d, "atddr_no": "D1"} for i, m, b, e, d in rows])
    for name in ("setl", "fee"):
        t.pop(name)
    datafolder.write_data_folder(tmp_path / "d", t, source={})
    with workbench.open(tmp_path / "d") as s:
        h1 = _row(institution_profiles(s, minor_admission_pct=30), fixmedins_code="H1")
        assert h1.admission_index == pytest.approx(2 / (4 * 0.25 + 1.0), **APPROX)
        assert h1.minor_admission_share == 0.5  # A4: 2 days, a category admitted 25 % < 30 % of the time
        assert h1.short_stay_share == 0.5 and h1.inpatient_share == 0.4
        assert _row(institution_profiles(s, minor_admission_pct=25), fixmedins_code="H1").minor_admission_share == 0.0
        assert _row(institution_profiles(s, short_stay_days=1, minor_admission_pct=30), fixmedins_code="H1").minor_admission_share == 0.0
        with pytest.raises(WorkbenchError, match="minor_admission_pct must be a whole number from 0 to 100"):
            institution_profiles(s, minor_admission_pct=101)


def test_readmission_after_a_longer_stay_that_holds_a_shorter_one(tmp_path):
    """B lies inside A; C begins 6 days after A's discharge (26 after B's): C is a readmission,
    as split_hospitalization counts it (the previous stay is the one discharged last)."""
    t = tiny_tables()
    rows = [("A", "2024-01-01", "2024-01-30"), ("B", "2024-01-05", "2024-01-10"), ("C", "2024-02-05", "2024-02-08")]
    t["mdtrt"] = pd.DataFrame([{"mdtrt_id": i, "psn_no": "P1", "fixmedins_code": "H1", "med_type": "21", "begntime": b + " 10:00",
                                "endtime": e + " 10:00", "dise_codg": "K35.9", "atddr_no": "D1"} for i, b, e in rows])
    for name in ("setl", "fee"):
        t.pop(name)
    datafolder.write_data_folder(tmp_path / "d", t, source={})
    with workbench.open(tmp_path / "d") as s:
        assert _row(institution_profiles(s), fixmedins_code="H1").readmission_rate == pytest.approx(1 / 3, **APPROX)
        assert _row(institution_profiles(s, window_days=5), fixmedins_code="H1").readmission_rate == 0.0


def test_doctor_profiles(prov_session):
    d = doctor_profiles(prov_session)
    assert [tuple(x) for x in d[["fixmedins_code", "dr_code", "visits"]].to_numpy()] == [("H1", "D1", 4), ("H2", "D1", 3), ("H2", "D2", 1)]
    d2 = _row(d, dr_code="D2")
    assert d2.night_share == 1.0 and d2.drug_share == 0.5 and d2.patients_per_doctor == 1.0


def test_without_fee_or_setl_the_measures_needing_them_are_null(tmp_path):
    t = prov_tables()
    for name in ("fee", "setl", "list"):
        t.pop(name)
    datafolder.write_data_folder(tmp_path / "d", t, source={})
    with workbench.open(tmp_path / "d") as s:
        p = institution_profiles(s)
        assert len(p) == 2 and _row(p, fixmedins_code="H2").visits == 5  # M9 is not known to be refunded
        for c in ("medfee_total", "cost_per_visit", "cost_index", "fund_share", "drug_share", "test_share", "tcm_therapy_share"):
            assert p[c].isna().all(), c
        assert _row(p, fixmedins_code="H1").readmission_rate == 0.25
        r = profile_providers(s)
        assert "drug_share" not in r.scored and "cost_per_visit" not in r.scored and "readmission_rate" in r.scored


def test_chronic_list_is_data():
    cats = chronic_categories()
    assert {"I10", "I11", "I15", "E10", "E14", "J44", "401", "250"} <= set(cats)
    assert "I16" not in cats and "E15" not in cats and cats == sorted(cats)


# --- robust standardisation and peer groups ------------------------------------------------------

def test_robust_z_median_mad_and_guards():
    z = robust_z([1, 2, 3, 4, 100], [1, 2, 3, 4, 100])
    assert z == pytest.approx([-2 / 1.4826, -1 / 1.4826, 0, 1 / 1.4826, 97 / 1.4826], **APPROX)
    # MAD 0: the mean absolute deviation (0.4) x 1.2533 is the scale
    assert robust_z([0, 0, 0, 1, 1], [0, 0, 0, 1, 1]) == pytest.approx([0, 0, 0, 1 / 0.50132, 1 / 0.50132], **APPROX)
    # all equal: every z 0; nulls stay null
    z = robust_z([2, 2, np.nan], [2, 2, np.nan])
    assert z[:2].tolist() == [0.0, 0.0] and np.isnan(z[2])
    assert robust_scale([np.nan])[0] != robust_scale([np.nan])[0]  # NaN median


def test_peer_groups_merge_small_groups():
    inst = pd.DataFrame({"fixmedins_code": [f"I{i:02d}" for i in range(16)],
                         "fixmedins_type": ["1"] * 8 + ["2"] * 6 + ["3"] * 2,
                         "hosp_lv": ["3"] * 5 + ["1", "1", "2"] + ["9"] * 6 + ["9", "9"]})
    g = assign_peer_groups(inst)
    assert list(g.peer_group) == ["1-3"] * 5 + ["1-*"] * 3 + ["2-9"] * 6 + ["3-*"] * 2
    assert list(g.peer_basis) == ["group"] * 5 + ["type"] * 3 + ["group"] * 6 + ["all"] * 2
    assert list(g.reference) == ["1-3"] * 5 + ["type:1"] * 3 + ["2-9"] * 6 + ["*"] * 2
    assert peer_label("1-3") == "医疗机构·一级" and peer_label("1-*") == "医疗机构·合并组" and peer_label("2-9") == "零售药店·未定级/基层"
    county = assign_peer_groups(inst.assign(admdvs=["A"] * 5 + ["B"] * 11), by=("fixmedins_type", "hosp_lv", "admdvs"))
    assert county.peer_group.iloc[0] == "1-3-A" and county.peer_group.iloc[8] == "2-9-B"


def test_standardise_against_the_reference_set():
    inst = pd.DataFrame({"fixmedins_code": list("abcdefgh"), "fixmedins_type": ["1"] * 8,
                         "hosp_lv": ["3"] * 5 + ["1", "1", "2"],
                         "drug_share": [0.1, 0.2, 0.3, 0.4, 0.9, 0.5, np.nan, 0.3]})
    g = assign_peer_groups(inst)
    z, stats = standardise(g, ["drug_share"])
    # group 1-3: median 0.3, MAD 0.1 -> scale 0.14826
    assert z.drug_share.iloc[4] == pytest.approx(0.6 / 0.14826, **APPROX)
    # f, g, h are compared with every type-1 institution: values 0.1 .. 0.9 without the null
    med, scale = robust_scale([0.1, 0.2, 0.3, 0.4, 0.9, 0.5, 0.3])
    assert med == 0.3 and z.drug_share.iloc[5] == pytest.approx((0.5 - med) / scale, **APPROX)
    assert np.isnan(z.drug_share.iloc[6])
    row = _row(stats, reference="type:1", measure="drug_share")
    assert row.n == 7 and row["median"] == 0.3


# --- detectors ------------------------------------------------------------------------------------

def _toy(seed=0):
    X = np.random.default_rng(seed).normal(0, 1, size=(40, 3))
    X[17] = [9.0, 8.0, 9.0]
    return X


@pytest.mark.parametrize("det", [RobustZDetector(one_sided=False), IsolationForestDetector(random_state=1),
                                 LOFDetector(n_neighbors=10), default_ensemble(random_state=1)])
def test_every_detector_finds_the_obvious_outlier(det):
    fitted = det.fit(_toy())
    assert fitted is det
    assert det.decision_scores_.shape == (40,) and int(np.argmax(det.decision_scores_)) == 17
    assert det.labels_.dtype.kind == "i" and det.labels_[17] == 1 and det.labels_.sum() == 2  # 5 % of 40
    assert det.threshold_ == pytest.approx(np.quantile(det.decision_scores_, 0.95), **APPROX)


def test_same_seed_same_scores_and_rank_ensemble():
    a = default_ensemble(random_state=7).fit(_toy()).decision_scores_
    b = default_ensemble(random_state=7).fit(_toy()).decision_scores_
    assert np.array_equal(a, b)
    assert a[17] == 1.0  # ranked first by every member
    e = EnsembleDetector({"z": RobustZDetector(), "lof": LOFDetector()}, weights={"z": 3, "lof": 1}).fit(_toy())
    assert set(e.member_scores_) == {"z", "lof"}
    assert e.decision_scores_ == pytest.approx((3 * e.member_scores_["z"] + e.member_scores_["lof"]) / 4, **APPROX)
    assert rank_normalise([3, 1, 2, 2]).tolist() == [1.0, 0.25, 0.625, 0.625]


def test_robust_z_detector_options():
    X = np.array([[0.0, 0.0], [-5.0, 0.0], [3.0, 4.0], [0.0, 1.0]])
    d = RobustZDetector(center=False, one_sided=True).fit(X)
    assert d.decision_scores_.tolist() == pytest.approx([0.0, 0.0, np.sqrt(12.5), np.sqrt(0.5)], **APPROX)
    d = RobustZDetector(center=False, one_sided=False, top=1).fit(X)
    assert d.decision_scores_.tolist() == pytest.approx([0.0, 5.0, 4.0, 1.0], **APPROX)
    with pytest.raises(ValueError, match="NaN"):
        RobustZDetector().fit([[np.nan, 1.0]])
    with pytest.raises(ValueError, match="contamination"):
        LOFDetector(contamination=0.9)


# --- reasons ---------------------------------------------------------------------------------------

def test_reasons_text_in_chinese_and_english():
    values = {"drug_share": 0.78, "cost_per_visit": 1234.5, "los_mean": 3.0, "weekend_share": 0.3}
    medians = {"drug_share": 0.41, "cost_per_visit": 300.0, "los_mean": 9.0, "weekend_share": 0.28}
    z = {"drug_share": 5.1, "cost_per_visit": 7.25, "los_mean": -3.0, "weekend_share": 0.2}
    assert reasons_text(values, medians, z) == (
        "次均费用 1,234.50，同级中位数 300.00，高 7.2 MAD；药占比 0.78，同级中位数 0.41，高 5.1 MAD；"
        "平均住院日 3.0，同级中位数 9.0，低 3.0 MAD")
    assert reasons_text(values, medians, z, lang="en", top=2) == (
        "cost per visit 1,234.50 vs peer median 300.00, 7.2 MAD above; drug share 0.78 vs peer median 0.41, 5.1 MAD above")
    assert reasons_text(values, medians, {"drug_share": 1.0}) == "与同级机构无明显差异"
    # only deviations that drive the score: a low drug share or a long repeat interval does not
    assert reasons_text({"drug_share": 0.1, "repeat_interval_median": 90.0}, {"drug_share": 0.5, "repeat_interval_median": 30.0},
                        {"drug_share": -8.0, "repeat_interval_median": 6.0}) == "与同级机构无明显差异"
    assert reasons_text({"repeat_interval_median": 2.0}, {"repeat_interval_median": 30.0}, {"repeat_interval_median": -6.0},
                        lang="en") == "median days between a person's visits 2.0 vs peer median 30.0, 6.0 MAD below"
    assert reasons_text(values, medians, {"drug_share": np.nan}, lang="en") == "no measure far from its peers"


# --- the whole chain on a small region -------------------------------------------------------------

def region_tables(seed: int = 11) -> dict:
    """14 clinics (type 1, level 3) of very different sizes and 6 hospitals (level 2); clinic C07
    bills four times the usual drugs on every visit."""
    rng = np.random.default_rng(seed)
    codes = [f"C{i:02d}" for i in range(1, 15)] + [f"H{i:02d}" for i in range(1, 7)]
    medins = pd.DataFrame({"fixmedins_code": codes, "fixmedins_name": [f"机构{c}" for c in codes], "fixmedins_type": "1",
                           "hosp_lv": ["3"] * 14 + ["2"] * 6, "admdvs": "370102"})
    psn = pd.DataFrame({"psn_no": [f"P{i:03d}" for i in range(200)], "certno": [f"3701021960{i:08d}" for i in range(200)],
                        "gend": "1", "brdy": [f"{1940 + i % 60}-05-05" for i in range(200)], "insutype": "390",
                        "insuplc_admdvs": "370102"})
    visits, setl, fee = [], [], []
    sizes = [12, 80, 25, 40, 15, 60, 30, 20, 45, 18, 70, 22, 35, 28] + [30] * 6
    cats = ["J06.9", "I10", "E11.9", "K29.7", "M54.5"]
    for code, n in zip(codes, sizes):
        for k in range(n):
            vid = f"{code}-V{k:03d}"
            day = 1 + int(rng.integers(0, 300))
            t = pd.Timestamp("2024-01-01 09:00") + pd.Timedelta(days=day)
            inpatient = code.startswith("H") and k % 5 == 0
            end = t + pd.Timedelta(days=int(rng.integers(3, 9))) if inpatient else t
            visits.append((vid, f"P{int(rng.integers(0, 200)):03d}", code, "21" if inpatient else "11", t, end,
                           cats[int(rng.integers(0, 5))], f"{code}-D{k % 3}"))
            drug = round(float(rng.uniform(40, 60)) * (4 if code == "C07" else 1), 2)
            test = round(float(rng.uniform(20, 30)), 2)
            treat = round(float(rng.uniform(10, 20)), 2)
            lines = [("09", drug), ("04", test), ("05", treat)]
            for sn, (typ, amt) in enumerate(lines, 1):
                fee.append((vid, str(sn), t, f"X{typ}", typ, 1, f"{amt:.2f}", f"{amt:.2f}"))
            total = sum(a for _, a in lines)
            setl.append((f"S-{vid}", vid, f"{total:.2f}", f"{total * 0.7:.2f}", "0", end))
    mdtrt = pd.DataFrame(visits, columns=["mdtrt_id", "psn_no", "fixmedins_code", "med_type", "begntime", "endtime", "dise_codg", "atddr_no"])
    setl = pd.DataFrame(setl, columns=["setl_id", "mdtrt_id", "medfee_sumamt", "hifp_pay", "refd_setl_flag", "setl_time"])
    setl = setl.merge(mdtrt[["mdtrt_id", "psn_no", "fixmedins_code"]], on="mdtrt_id")
    fee = pd.DataFrame(fee, columns=["mdtrt_id", "feedetl_sn", "fee_ocur_time", "med_list_codg", "med_chrgitm_type", "cnt", "pric", "det_item_fee_sumamt"])
    fee = fee.merge(mdtrt[["mdtrt_id", "psn_no"]], on="mdtrt_id").assign(bilg_dr_codg="D")
    return {"psn": psn, "medins": medins, "mdtrt": mdtrt, "setl": setl, "fee": fee}


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    out = tmp_path_factory.mktemp("provregion") / "data"
    datafolder.write_data_folder(out, region_tables(), source={"kind": "test"})
    return out


@pytest.fixture(scope="module")
def region_result(region):
    with workbench.open(region) as s:
        yield profile_providers(s, seed=3)


def test_an_institution_is_flagged_an_outlier_only_with_a_stated_reason(region, tmp_path):
    """Three ordinary clinics alone (an extract): the detectors' top share still holds one of them,
    but none differs from the others by a measure an auditor could be told, so none is flagged;
    with the drug-heavy clinic among them, it is, with its reason."""
    from workbench.extract import extract

    for codes, flagged in ((["C02", "C04", "C06"], []), (["C02", "C04", "C07"], ["C07"])):
        out = tmp_path / "-".join(codes)
        extract(region, out, institutions=codes)
        with workbench.open(out) as s:
            r = profile_providers(s, seed=3)
        inst = r.institutions.set_index("fixmedins_code")
        assert r.detector.labels_.sum() >= 1  # what the flag was before: the top share, reason or none
        assert sorted(inst.index[inst.outlier]) == flagged, inst[["risk_score", "outlier", "reasons"]].to_string()
        assert all("无明显差异" not in inst.reasons[c] for c in flagged)


def test_planted_drug_heavy_clinic_ranks_first_with_its_reason(region_result):
    inst = region_result.institutions
    assert list(inst.columns[:7]) == LEAD_COLUMNS
    top = inst.iloc[0]
    assert top.fixmedins_code == "C07" and top["rank"] == 1 and top.priority_rank == 1 and bool(top.outlier)
    assert top.peer_group == "1-3" and top.peer_label == "医疗机构·一级" and top.peer_basis == "group"
    # four times the drugs: the bill per visit moves most, then the case-mix index, then per person
    # the exposure first (C07 was paid the most of the 14 clinics), then what sets it apart
    assert [r.split(" ")[0] for r in top.reasons.split("；")] == ["基金支付", "次均费用", "病种调整费用指数", "人均费用"]
    assert top.reasons_en.startswith("fund paid 5,075.30, #1 of 14 peers; cost per visit 241.68 vs peer median 89.68, ")
    # case-mix aware: a clinic has no stays, so its intensity is its bill index over the peers'
    peers_ci = inst.cost_index[inst.peer_group == "1-3"].median()
    assert np.isnan(top.los_index) and top.intensity == pytest.approx(top.cost_index / peers_ci, **APPROX)
    assert top.intensity > 2  # four times the drugs
    assert top.priority == pytest.approx(float(top.hifp_total) * top.intensity * top.risk_score, abs=0.006)
    assert sorted(inst.peer_group.unique()) == ["1-2", "1-3"]
    assert (inst.priority.diff().dropna() <= 0).all() and list(inst.priority_rank) == list(range(1, 21))
    assert sorted(inst["rank"]) == list(range(1, 21))  # rank: by risk_score, the size-neutral view
    d = region_result.deviations("C07")
    assert d.measure.iloc[0] == "cost_per_visit" and d.scored.all()
    assert _row(d, measure="drug_share").z > 5 and _row(d, measure="drug_share").peer_median == pytest.approx(inst.drug_share[inst.peer_group == "1-3"].median(), **APPROX)
    assert "visits" not in region_result.scored and "visits" not in set(d.measure)  # volume is never scored
    pts = region_result.points("1-3", "drug_share", "cost_per_visit")
    assert len(pts) == 14 and pts.x.max() == pytest.approx(inst.drug_share.max(), **APPROX)
    assert set(region_result.peer_groups().peer_group) == {"1-2", "1-3"}
    with pytest.raises(WorkbenchError, match="NOPE"):
        region_result.row("NOPE")


def test_priority_puts_the_bigger_of_two_equally_abnormal_first(tmp_path, region_result):
    """C02 (80 visits) bills four times the drugs as C07 (30 visits) does: same abnormality, more
    money at stake, so C02 is inspected first; C07, abnormal, comes before the normal clinics
    with about its exposure (C11, C06: 70 and 60 visits, less paid)."""
    t = region_tables()
    drug = t["fee"].mdtrt_id.str.startswith("C02-") & (t["fee"].med_chrgitm_type == "09")
    amt = t["fee"].loc[drug, "det_item_fee_sumamt"].astype(float) * 4
    t["fee"].loc[drug, ["pric", "det_item_fee_sumamt"]] = np.column_stack([amt.map("{:.2f}".format)] * 2)
    total = t["fee"].assign(a=t["fee"].det_item_fee_sumamt.astype(float)).groupby("mdtrt_id").a.sum()
    c02 = t["setl"].mdtrt_id.str.startswith("C02-")
    t["setl"].loc[c02, "medfee_sumamt"] = t["setl"].loc[c02, "mdtrt_id"].map(total).map("{:.2f}".format)
    t["setl"].loc[c02, "hifp_pay"] = (t["setl"].loc[c02, "mdtrt_id"].map(total) * 0.7).map("{:.2f}".format)
    datafolder.write_data_folder(tmp_path / "d", t, source={})
    with workbench.open(tmp_path / "d") as s:
        inst = profile_providers(s, seed=3).institutions
    assert list(inst.fixmedins_code[:2]) == ["C02", "C07"]
    assert _row(inst, fixmedins_code="C02").risk_score >= _row(inst, fixmedins_code="C07").risk_score
    # in the original region C07 (paid 5,075) ranks above C02 (paid 4,962, nothing abnormal)
    base = region_result.institutions
    assert _row(base, fixmedins_code="C07").priority_rank < _row(base, fixmedins_code="C02").priority_rank


def test_same_seed_same_scores_different_seed_same_top(region, region_result):
    with workbench.open(region) as s:
        again = profile_providers(s, seed=3)
        other = profile_providers(s, seed=4)
    pd.testing.assert_frame_equal(again.institutions, region_result.institutions)
    assert other.institutions.fixmedins_code.iloc[0] == "C07"


def test_findings_add_rule_hit_measures(region_result):
    inst = region_result.institutions
    findings = pd.DataFrame({"fixmedins_code": ["C07", "C07", "C02", None], "rule_id": ["a", "b", "a", "c"],
                             "amount_at_risk": [Decimal("10.00"), Decimal("5.50"), Decimal("1.00"), Decimal("9.00")]})
    out = add_findings_measures(inst.drop(columns=["findings_per_1000", "fund_at_risk_share"]), findings)
    c07 = _row(out, fixmedins_code="C07")
    assert c07.findings_per_1000 == pytest.approx(2000 / 30, **APPROX)  # 2 findings, 30 visits
    assert c07.fund_at_risk_share == pytest.approx(15.5 / float(c07.hifp_total), **APPROX)
    assert _row(out, fixmedins_code="C03").findings_per_1000 == 0.0
    r = profile_providers(region_result.session, findings=findings, seed=3)
    assert "findings_per_1000" in r.scored and len(r.findings_of("C07")) == 2 and r.findings_of("C01").empty


def test_evaluate_auc_against_truth(region_result):
    truth = pd.DataFrame({"case_id": ["x", "y"], "scenario": ["drug_heavy", "split_stay"], "rule_id": ["cost_share_outlier", "split_hospitalization"],
                          "fixmedins_code": ["C07", "C02"]})
    assert read_labels(truth).values.tolist() == [["C07", "drug_heavy"]]
    ev = evaluate(region_result, truth)
    assert ev["positives"] == 1 and ev["institutions"] == 20
    assert ev["auc"] == 1.0 and ev["precision_at_k"] == 1.0 and ev["positive_ranks"] == {"C07": 1}
    assert ev["auc_priority"] == 1.0 and ev["positive_priority_ranks"] == {"C07": 1}
    assert ev["auc_money"] == 1.0  # C07 was paid the most of all 20
    # plain size: C07 has 30 visits; 6 clinics are bigger, 7 smaller, the 6 hospitals equal
    assert ev["auc_size"] == pytest.approx((7 + 0.5 * 6) / 19, **APPROX)
    assert set(ev["auc_by_detector"]) == {"isolation_forest", "lof", "robust_z"}
    assert ev["by_scenario"] == {"drug_heavy": 1.0}
    labels = pd.DataFrame({"fixmedins_code": ["C07", "C01"], "potential_fraud": [True, False]})
    assert evaluate(region_result, labels)["auc"] == 1.0
    with pytest.raises(WorkbenchError, match="positive and negative"):
        evaluate(region_result, truth.iloc[1:])


def test_doctor_scores(region_result):
    assert sorted(region_result.doctors.fixmedins_code.unique()) == ["C02", "C06", "C11"]  # 20+ visits per doctor
    d = region_result.doctor_scores(min_visits=1)
    assert len(d) == 60 and d.fixmedins_code.iloc[0] == "C07"
    assert set(d.peer_group) == {"1-2", "1-3"} and d.reasons.iloc[0].startswith("次均费用")


# --- command line -------------------------------------------------------------------------------

def test_cli_writes_the_ranked_table(region, tmp_path, capsys):
    out = tmp_path / "providers.csv"
    assert main(["providers", str(region), "--out", str(out)]) == 0
    assert "20 institution(s) in 2 peer group(s)" in capsys.readouterr().out
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    header = raw.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[:7] == ["fixmedins_code", "peer_group", "cluster", "risk_score", "priority", "priority_rank", "reasons"]
    assert header[7:7 + len(MEASURE_COLUMNS)] == MEASURE_COLUMNS
    assert len(rows) == 20 and rows[0]["fixmedins_code"] == "C07"
    assert rows[0]["reasons"].startswith("基金支付 5,075.30，同级 14 家中第 1；次均费用 241.68，同级中位数 89.68，高 ")
    priorities = [float(r["priority"]) for r in rows]
    assert priorities == sorted(priorities, reverse=True) and [r["priority_rank"] for r in rows] == [str(i) for i in range(1, 21)]
    # fund paid x case-mix intensity (written to 4 decimals) x risk score 1
    assert rows[0]["risk_score"] == "1.000000" and len(rows[0]["intensity"].split(".")[1]) == 4
    assert float(rows[0]["priority"]) == pytest.approx(5075.30 * float(rows[0]["intensity"]), abs=0.3)
    assert rows[0]["medfee_total"].count(".") == 1 and len(rows[0]["medfee_total"].split(".")[1]) == 2
    assert rows[0]["findings_per_1000"] == "" and rows[0]["outlier"] == "true"
    assert main(["providers", str(tmp_path / "nowhere"), "--out", str(out)]) == 1
    with workbench.open(region) as s, pytest.raises(WorkbenchError, match="unknown engine 'nope'"):
        profile_providers(s, engine="nope")


@pytest.mark.spark
def test_spark_engine_writes_the_same_csv(region, prov_data, tmp_path, spark):
    a, b = tmp_path / "duckdb.csv", tmp_path / "spark.csv"
    assert main(["providers", str(region), "--out", str(a)]) == 0
    assert main(["providers", str(region), "--out", str(b), "--engine", "spark"]) == 0
    assert b.read_bytes() == a.read_bytes()
    # the profile frames themselves: same columns, types and values, bit for bit (Decimal money,
    # int64 counts, float64 rates); the tiny folder adds refunds, TCM therapies and night visits
    for data, profile in ((region, doctor_profiles), (prov_data, institution_profiles)):
        with workbench.open(data) as s:
            pd.testing.assert_frame_equal(profile(s, engine="spark", spark=spark), profile(s), check_exact=True)


def test_cms_import_profiles_without_fee(tmp_path):
    from workbench.importer import import_extract

    import_extract(ROOT / "tests" / "fixtures" / "cms", "cms", tmp_path / "cms")
    with workbench.open(tmp_path / "cms") as s:
        r = profile_providers(s)
        inst = r.institutions
        assert inst.drug_share.isna().all() and inst.cost_per_visit.notna().all()
        assert set(inst.peer_group) == {"1-9"} and len(inst) == 5  # CMS providers: type 1, level 9 (unknown)
        assert not {"drug_share", "test_share", "tcm_therapy_share"} & set(r.scored)
        assert (inst.los_index.notna() == (inst.inpatient_stays > 0)).all()  # stays only; the fixture has outpatients too
        assert inst.claims_per_person.notna().all() and inst.top_doctor_share.notna().all()
        assert "los_index" in r.scored and list(inst.priority_rank) == [1, 2, 3, 4, 5]
        assert inst.reasons.str.startswith("基金支付 ").all()
        labels = pd.read_parquet(tmp_path / "cms" / "cms_labels.parquet")
        if labels.potential_fraud.any() and not labels.potential_fraud.all() and labels.fixmedins_code.isin(inst.fixmedins_code).all():
            ev = evaluate(r)  # finds cms_labels.parquet in the data folder
            assert 0.0 <= ev["auc"] <= 1.0 and ev["positives"] == int(labels.potential_fraud.sum())


def test_cms_stays_are_judged_against_their_drg(tmp_path):
    """A CMS import carries the stay's DRG (``mdtrt.drg_codg``); expected cost and stay come from
    the stays of the same DRG, not of the same diagnosis category (visits.sql ``case_mix``)."""
    import shutil

    from workbench.importer import import_extract
    from workbench.providers import profiles

    src = tmp_path / "src"
    shutil.copytree(ROOT / "tests" / "fixtures" / "cms", src)
    path = src / "Train_Inpatientdata-1542865627584.csv"
    with open(path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    added = [  # claim, person, provider, admission, discharge, DRG, diagnosis, reimbursed
        ("CLM900001", "BENE11002", "PRV55912", "2009-05-01", "2009-05-11", "999", "4280", "20000"),
        ("CLM900002", "BENE11004", "PRV55907", "2009-06-01", "2009-06-03", "999", "4860", "4000"),
        ("CLM900003", "BENE11005", "PRV56811", "2009-07-01", "2009-07-05", "888", "4281", "8000"),
    ]
    with open(path, "a", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        for clm, bene, prv, adm, dis, drg, dise, amt in added:
            row = dict.fromkeys(header, "NA") | {
                "BeneID": bene, "ClaimID": clm, "ClaimStartDt": adm, "ClaimEndDt": dis, "Provider": prv,
                "InscClaimAmtReimbursed": amt, "AttendingPhysician": "PHY390922", "AdmissionDt": adm,
                "DeductibleAmtPaid": "1068", "DischargeDt": dis, "DiagnosisGroupCode": drg, "ClmDiagnosisCode_1": dise}
            w.writerow([row[h] for h in header])
    import_extract(src, "cms", tmp_path / "data")
    assert pd.read_parquet(tmp_path / "data" / "mdtrt.parquet").set_index("mdtrt_id").at["CLM900001", "drg_codg"] == "999"
    with workbench.open(tmp_path / "data") as s:
        v = s.df(f"SELECT mdtrt_id, CAST(expected_los AS DOUBLE) AS los, CAST(expected_cost AS DOUBLE) AS cost "
                 f"FROM {profiles.build_visits(s)} WHERE mdtrt_id LIKE 'CLM9%'").set_index("mdtrt_id")
    # DRG 999: stays of 10 and 2 days; by diagnosis category 428 it would be (10 + 4) / 2 = 7
    assert v.los.to_dict() == {"CLM900001": 6.0, "CLM900002": 6.0, "CLM900003": 4.0}
    assert v.at["CLM900001", "cost"] == pytest.approx((21068 + 5068) / 2)


CMS_DEV = ROOT.parent / "shared" / "data" / "cms-dev"


@pytest.mark.skipif(not CMS_DEV.is_dir(), reason="the real labelled claims (../shared/data/cms-dev) are not here")
def test_priority_beats_money_on_the_dev_half_of_real_claims(tmp_path):
    """1,037 real providers (import ~1.5 s, profile ~2 s): priority ranks the fraud-labelled ones
    above money paid, and the size-neutral risk score is far from blind (bench/providers_cms.py)."""
    import gzip
    import shutil

    from workbench.importer import import_extract

    raw = tmp_path / "raw"
    raw.mkdir()
    for f in CMS_DEV.glob("*.csv.gz"):
        with gzip.open(f) as src, open(raw / f.name[:-3], "wb") as dst:
            shutil.copyfileobj(src, dst)
    import_extract(raw, "cms", tmp_path / "data")
    with workbench.open(tmp_path / "data") as s:
        ev = evaluate(profile_providers(s))
    assert ev["institutions"] == 1037 and ev["positives"] == 215
    assert ev["auc_money"] == pytest.approx(0.881, abs=0.001) and ev["auc_size"] == pytest.approx(0.861, abs=0.001)
    # 0.890 against 0.881 with the DRG as case-mix group (0.8875 with the diagnosis category)
    assert ev["auc_priority"] >= ev["auc_money"] + 0.008, ev
    assert ev["auc"] >= 0.78, ev


# --- demo synthetic data: planted outlier institutions -------------------------------------------

@pytest.fixture(scope="module")
def demo(demo_data):
    """The session-wide demo region (conftest_demo.py: synth demo, seed 2024)."""
    return demo_data


def test_planted_outliers_rank_high_on_demo(demo):
    with workbench.open(demo) as s:
        r = profile_providers(s, seed=2024)
        ev = evaluate(r)
    assert ev["positives"] >= 5
    assert ev["auc"] >= 0.9, ev
    assert ev["auc"] > ev["auc_size"] + 0.2, ev  # the score does not just follow size


@pytest.mark.parametrize("county", ["370811", "370883"])
def test_planted_outliers_still_lead_in_a_county_extract(demo_data, tmp_path, county):
    """An extract (what a bureau hands an audit firm) is profiled against the peers it holds:
    the planted outliers of the county still lead its size-neutral ranking."""
    from workbench.extract import extract

    extract(demo_data, tmp_path / "x", county=county)
    with workbench.open(tmp_path / "x") as s:
        result = profile_providers(s, seed=2024)
        ev = evaluate(result)
    inst = result.institutions
    assert set(inst.admdvs[inst.fixmedins_code.isin(ev["positive_ranks"])]) == {county}
    assert ev["positives"] == 3, ev["positive_ranks"]
    # They lead every institution but the planted splitting hospitals (truth rule "stays"), which
    # the readmission rate rightly flags too: counted as negatives they are a labelling artefact
    # (county 370883 of the demo holds one, ranked among the positives since the synth plants
    # more cases there).
    truth = pd.read_parquet(tmp_path / "x" / "truth.parquet")
    splitting = set(truth.fixmedins_code[truth.rule_id == "stays"]) - set(ev["positive_ranks"])
    order = inst.sort_values("rank").fixmedins_code
    ranks = {c: i + 1 for i, c in enumerate(order[~order.isin(splitting)])}
    assert max(ranks[c] for c in ev["positive_ranks"]) <= 3, (ev["positive_ranks"], sorted(splitting))
    assert ev["auc"] >= 0.9, ev["positive_ranks"]  # splitting hospitals counted as negatives
    # the peers are the extract's: far fewer than the region's, and the medians are theirs
    assert inst.groupby("peer_group").size().max() < 16
