"""The plan of planted cases: how many of each scenario, which institutions and doctors behave
badly, and which chunk plants each visit- or person-level case.

Institution behaviours (drug-heavy, test-heavy, upcoding, TCM abuse, test panels) are flags
that billing reads in every chunk; everything else is planted inside one chunk. The rule each
scenario should trigger is :data:`SCENARIO_RULE` (``docs/rules-spec.md``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .billing import DRUG_HEAVY, PANEL, TCM_ABUSE, TEST_HEAVY, UPCODE
from .region import D, Region
from .scales import Scale

SCENARIO_RULE = {
    "split_stay": "split_hospitalization", "frequent_outpatient": "frequent_outpatient",
    "frequent_purchase": "frequent_purchase", "frequent_admission": "frequent_admission",
    "diagnosis_sex_mismatch": "diagnosis_sex_mismatch", "diagnosis_age_mismatch": "diagnosis_age_mismatch",
    "charge_outside_stay": "charge_outside_stay", "price_over_cap": "price_over_cap",
    "duplicate_billing": "duplicate_billing", "split_billing": "split_billing", "frequency_limit": "frequency_limit",
    "drug_indication_limit": "drug_indication_limit", "dispensing_over_limit": "dispensing_over_limit",
    "hospital_level_limit": "hospital_level_limit", "phantom_billing": "stock_mismatch", "item_swap": "stock_mismatch",
    "drug_heavy": "cost_share_outlier", "test_heavy": "cost_share_outlier", "item_sex_limit": "item_sex_limit",
    "item_age_limit": "item_age_limit", "claims_after_death": "claims_after_death",
    "outpatient_during_stay": "outpatient_during_stay", "overlapping_stays": "overlapping_stays", "ghost_bed": "ghost_bed",
    "duplicate_enrollment": "duplicate_enrollment", "drug_markup": "drug_markup",
    "impossible_volume": "doctor_impossible_volume", "borrowed_doctor_code": "doctor_impossible_volume",
    "test_panel": "test_panel_uniformity", "tcm_abuse": "tcm_therapy_abuse", "card_shopping": "unlisted_item",
    "collusion_ring": "rings", "upcoding": "providers", "low_standard_admission": "providers",
    "split_stay_hospital": "stays",
    # planted by the supplement (synth/supplement.py), in persons of their own
    "bed_days_over_stay": "bed_days_over_stay",
    "chronic_outpatient_without_diagnosis": "chronic_outpatient_without_diagnosis",
    "test_without_indication": "test_without_indication",
    "upcoded_consultation": "upcoded_consultation",
    "nursing_days_over_stay": "nursing_days_over_stay",
    "repeated_consultation_fee": "repeated_consultation_fee",
    "setting_limit": "setting_limit",
    "low_threshold_admission": "low_threshold_admission",
    "inpatient_without_treatment": "inpatient_without_treatment",
    "health_check_billed": "test_without_indication",
    "overlapping_prescriptions": "overlapping_prescriptions",
    "duplicate_ingredient": "duplicate_ingredient",
    "card_multi_institution_same_day": "card_multi_institution_same_day",
    "settlement_fee_mismatch": "settlement_fee_mismatch",
    "settlement_outside_enrolment": "settlement_outside_enrolment",
    "out_of_area_concentration": "out_of_area_concentration",
    "contraindicated_combination": "contraindicated_combination",
    "treatment_course_limit": "treatment_course_limit",
    "rx_drug_without_prescription": "rx_drug_without_prescription",
}
# cases per scenario at demo scale (multiplied by Scale.case_factor / actor_factor)
VISIT_CASES = {
    "split_stay": 10, "frequent_outpatient": 8, "frequent_purchase": 8, "frequent_admission": 6,
    "diagnosis_sex_mismatch": 12, "diagnosis_age_mismatch": 12, "charge_outside_stay": 12, "price_over_cap": 15,
    "duplicate_billing": 12, "split_billing": 10, "frequency_limit": 12, "drug_indication_limit": 12,
    "dispensing_over_limit": 12, "hospital_level_limit": 12, "item_sex_limit": 10, "item_age_limit": 10,
    "claims_after_death": 10, "outpatient_during_stay": 10, "overlapping_stays": 8, "ghost_bed": 8,
    "duplicate_enrollment": 8, "card_shopping": 10,
}
# near misses: background that sits just inside a rule's threshold (never in truth)
NEAR_MISSES = {"readmission_20_days": 6, "transfer_same_day": 4, "visits_12_in_30_days": 3,
               "purchases_10_in_30_days": 3, "admissions_6_in_year": 2, "bed_only_2_days": 4, "visit_on_stay_edge": 4}
ACTOR_CASES = {
    "drug_heavy": 3, "test_heavy": 3, "upcoding": 2, "tcm_abuse": 2, "low_standard_admission": 2,
    "split_stay_hospital": 2, "test_panel": 4, "impossible_volume": 4, "borrowed_doctor_code": 5, "collusion_ring": 4,
    "phantom_billing": 6, "item_swap": 5, "drug_markup": 6,
}
SPLITS_PER_HOSPITAL = (6, 9)
LSA_STAYS = (20, 36)


@dataclass
class Case:
    """One planted case (or near miss) executed inside a chunk."""

    case_id: str
    scenario: str
    chunk: int
    params: dict = field(default_factory=dict)


@dataclass
class Plan:
    cases: list
    truth: list  # rows resolved already (institution behaviours)
    stock: dict  # scenario -> number of cases, planted in the ledger after all chunks
    behaviour_insts: dict  # scenario -> institution numbers

    def cases_for(self, chunk_index: int) -> list:
        return [c for c in self.cases if c.chunk == chunk_index]


def truth_row(case_id, scenario, fixmedins_code=None, dr_code=None, psn_no=None, mdtrt_id=None, members=None, detail="", rule_id=None):
    return {"case_id": case_id, "scenario": scenario, "rule_id": rule_id or SCENARIO_RULE[scenario],
            "fixmedins_code": fixmedins_code, "dr_code": dr_code, "psn_no": psn_no, "mdtrt_id": mdtrt_id,
            "members": members, "detail": detail}


def _count(base, factor):
    return max(1, int(round(base * factor)))


def make_plan(scale: Scale, region: Region, rng) -> Plan:
    """Choose every planted case; sets the behaviour flags of ``region``."""
    chunks = region.chunks
    w = np.array([c.persons for c in chunks], dtype=np.float64)
    cases, truth = [], []

    def chunk_of_county(c):
        own = [ch.index for ch in chunks if ch.county == c]
        return int(own[int(rng.integers(len(own)))])

    for scenario, base in VISIT_CASES.items():
        for k in range(_count(base, scale.case_factor)):
            cases.append(Case(f"{scenario}-{k + 1:03d}", scenario, int(rng.choice(len(chunks), p=w / w.sum()))))
    for scenario, base in NEAR_MISSES.items():
        for k in range(_count(base, scale.case_factor)):
            cases.append(Case(f"near-{scenario}-{k + 1:03d}", "near_miss:" + scenario, int(rng.choice(len(chunks), p=w / w.sum()))))

    kind, lv, name = region.inst_kind, region.inst_lv, region.inst_name
    taken = set()

    def pick(candidates, n):
        cand = [int(i) for i in candidates if int(i) not in taken]
        chosen = [cand[i] for i in rng.choice(len(cand), size=min(n, len(cand)), replace=False)] if cand else []
        taken.update(chosen)
        return chosen

    # public institutions only: private hospitals bill a different mix from their peers
    groups = [np.flatnonzero(np.isin(kind, ["county", "county2", "tcm"]) & (lv == 1)),
              np.flatnonzero((kind == "township") & (lv == 2)),
              np.flatnonzero(kind == "village")]
    behaviour = {}
    for scenario, bit, order in (("drug_heavy", DRUG_HEAVY, (0, 1, 2)), ("test_heavy", TEST_HEAVY, (1, 0, 2))):
        chosen = []
        for k in range(_count(ACTOR_CASES[scenario], scale.actor_factor)):
            chosen += pick(groups[order[k % 3]], 1)
        behaviour[scenario] = chosen
        what = "药品" if scenario == "drug_heavy" else "检查检验"
        for k, i in enumerate(chosen):
            region.inst_flags[i] |= bit
            truth.append(truth_row(f"{scenario}-{k + 1:03d}", scenario, region.inst_code[i],
                                   detail=f"{name[i]}每次就诊加开{what}，{what}费占比远高于同类机构"))
    specs = (
        ("upcoding", UPCODE, np.isin(kind, ["county", "county2", "tcm", "private"]) & (lv <= 1), "成对项目中几乎总是收取价高者（一级护理、CT、双人间、副主任医师诊查费）"),
        ("tcm_abuse", TCM_ABUSE, np.isin(kind, ["township", "village"]), "大部分门诊患者不论诊断均收取针刺、艾灸、拔罐、推拿等中医治疗"),
        ("low_standard_admission", 0, np.isin(kind, ["township", "private"]), "大量轻症患者（感冒、腰痛、胃炎、高血压）短期住院"),
        ("split_stay_hospital", 0, np.isin(kind, ["private", "county2", "tcm", "township"]), "多名患者出院后1-3天内以同一诊断再次入院"),
    )
    for scenario, bit, mask, text in specs:
        chosen = pick(np.flatnonzero(mask), _count(ACTOR_CASES[scenario], scale.actor_factor))
        behaviour[scenario] = chosen
        for k, i in enumerate(chosen):
            region.inst_flags[i] |= bit
            cid = f"{scenario}-{k + 1:03d}"
            truth.append(truth_row(cid, scenario, region.inst_code[i], detail=f"{name[i]}{text}"))
            c = int(region.inst_county[i])
            if scenario == "low_standard_admission":
                own = [ch.index for ch in chunks if ch.county == c]
                n = int(rng.integers(*LSA_STAYS))
                for j, ch in enumerate(own):
                    share = n // len(own) + (1 if j < n % len(own) else 0)
                    if share:
                        cases.append(Case(cid, scenario, ch, {"inst": i, "n": share}))
            elif scenario == "split_stay_hospital":
                for j in range(int(rng.integers(*SPLITS_PER_HOSPITAL))):
                    cases.append(Case(f"split_stay-h{k + 1:02d}-{j + 1:02d}", "split_stay", chunk_of_county(c), {"inst": i, "gap": (1, 3)}))
    _doctor_cases(scale, region, rng, cases, truth, taken, chunk_of_county)
    stock = {s: _count(ACTOR_CASES[s], scale.actor_factor) for s in ("phantom_billing", "item_swap", "drug_markup")}
    return Plan(cases=cases, truth=truth, stock=stock, behaviour_insts=behaviour)


def _doctor_cases(scale, region, rng, cases, truth, taken, chunk_of_county):
    kind = region.inst_kind
    flagged = region.inst_flags[region.dr_inst] > 0
    used = set()

    def doctors(mask, n):
        cand = [int(d) for d in np.flatnonzero(mask & ~flagged) if int(d) not in used and int(region.dr_inst[d]) not in taken]
        chosen = [cand[i] for i in rng.choice(len(cand), size=min(n, len(cand)), replace=False)] if cand else []
        used.update(chosen)
        return chosen

    a03 = region.dr_dept == D["A03"]
    for k, d in enumerate(doctors(a03 & np.isin(kind[region.dr_inst], ["township", "county", "tcm"]), _count(ACTOR_CASES["test_panel"], scale.actor_factor))):
        region.dr_flags[d] |= PANEL
        i = int(region.dr_inst[d])
        truth.append(truth_row(f"test_panel-{k + 1:03d}", "test_panel", region.inst_code[i], region.dr_code[d],
                               detail=f"{region.inst_name[i]}医师对几乎所有门诊患者不论诊断均开具同一套检查（血常规、尿常规、肝功能、肾功能、心电图、胸片）"))
    mask = np.isin(region.dr_dept, [D["A02"], D["A03"]]) & np.isin(kind[region.dr_inst], ["township", "county", "county2"])
    for k, d in enumerate(doctors(mask, _count(ACTOR_CASES["impossible_volume"], scale.actor_factor))):
        c = int(region.inst_county[region.dr_inst[d]])
        days = np.sort(rng.choice(np.arange(10, 355), size=int(rng.integers(3, 6)), replace=False))
        cases.append(Case(f"impossible_volume-{k + 1:03d}", "impossible_volume", chunk_of_county(c),
                          {"doc": d, "days": [int(x) for x in days], "per_day": [int(x) for x in rng.integers(90, 131, len(days))]}))
    mask = np.isin(region.dr_dept, [D["A03"], D["A04"], D["A50"]]) & np.isin(kind[region.dr_inst], ["county", "tcm", "tertiary", "county2"])
    for k, d in enumerate(doctors(mask, _count(ACTOR_CASES["borrowed_doctor_code"], scale.actor_factor))):
        c = int(region.inst_county[region.dr_inst[d]])
        hosts = [int(i) for i in np.flatnonzero((region.inst_county == c) & np.isin(kind, ["village", "township", "private"]) & (region.inst_flags == 0)) if int(i) not in taken]
        host = hosts[int(rng.integers(len(hosts)))]
        cases.append(Case(f"borrowed_doctor_code-{k + 1:03d}", "borrowed_doctor_code", chunk_of_county(c), {"doc": d, "host": host, "n": int(rng.integers(6, 13))}))
    counties = np.arange(len(region.county_code))
    for k in range(_count(ACTOR_CASES["collusion_ring"], scale.actor_factor)):
        c = int(rng.choice(counties, p=region.county_persons / region.county_persons.sum()))
        pharm = [int(i) for i in region.by_kind[(c, "pharmacy")] if int(i) not in taken]
        if not pharm:
            continue
        ph = pharm[int(rng.integers(len(pharm)))]
        taken.add(ph)
        in_county = region.inst_county[region.dr_inst] == c
        want = int(rng.integers(2, 4))
        docs = doctors(in_county & np.isin(region.dr_dept, [D["A03"], D["A50"]]) & np.isin(kind[region.dr_inst], ["county", "tcm", "tertiary", "county2", "private"]), want)
        if len(docs) < want:  # a small county: any clinician of its hospitals and health centres
            docs += doctors(in_county & (region.dr_dept != D["PH"]) & (kind[region.dr_inst] != "village"), want - len(docs))
        cases.append(Case(f"collusion_ring-{k + 1:03d}", "collusion_ring", chunk_of_county(c),
                          {"pharmacy": ph, "docs": docs, "n_patients": int(rng.integers(8, 21))}))
