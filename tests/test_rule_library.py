"""The rules of the library (workbench/rules/library): each fires on its case and stays silent on
its near miss (tests/rule_cases/<rule_id>.yaml, one parametrised test), with exact keys, evidence
and amounts (docs/rules-spec.md); the older rules also have hand-written tests below."""
import csv
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
import sqlglot

from rule_data import RULE_CASES_DIR, Claims, claims_from_steps, day, load_rule_cases, share
from workbench.rules import engine, load_library, run_rule

D = Decimal
RULES_DIR = Path(__file__).resolve().parents[1] / "workbench" / "rules"
LIB = load_library()

OFFICIAL = {
    "split_hospitalization": "GZ10000204001000", "frequent_outpatient": "GZ10000204002000",
    "frequent_purchase": "GZ10000204003000", "frequent_admission": "GZ10000204004000",
    "diagnosis_sex_mismatch": "GZ10000204006000", "diagnosis_age_mismatch": "GZ10000204007000",
    "charge_outside_stay": "GZ10000201008000", "price_over_cap": "GZ10000102001000",
    "duplicate_billing": "GZ10000102012000", "split_billing": "GZ10000102013000",
    "frequency_limit": "GZ10000102014000", "drug_indication_limit": "GZ10000101008000",
    "dispensing_over_limit": "GZ10000101009000", "hospital_level_limit": "GZ10000101012000",
    "stock_mismatch": "GZ10000202001000", "cost_share_outlier": "ZB10000205001000",
}


def run(d: Claims, tmp_path, rule, **params):
    """Findings of ``rule`` on the data ``d`` holds."""
    with d.open(tmp_path) as s:
        return run_rule(s, rule, params or None, library=LIB)


def rows(d: Claims, tmp_path, rule, **params):
    """The rule's raw SQL rows (extra columns included), sorted by their keys."""
    with d.open(tmp_path) as s:
        engine.environment(s)
        out, _ = engine.query_rule(s, LIB[rule], LIB[rule].resolve(params))
    return sorted(out, key=lambda r: tuple(str(r[k]) for k in ("fixmedins_code", "dr_code", "psn_no", "mdtrt_id")))


def keys(df):
    """(fixmedins_code, dr_code, psn_no, mdtrt_id) of each finding, sorted."""
    found = [tuple(r) for r in df[["fixmedins_code", "dr_code", "psn_no", "mdtrt_id"]].itertuples(index=False)]
    return sorted(found, key=lambda k: tuple("" if v is None else v for v in k))


def one(df, **match):
    """The single finding whose columns equal ``match``."""
    hit = df
    for k, v in match.items():
        hit = hit[hit[k] == v]
    assert len(hit) == 1, f"expected one finding with {match}, got {len(hit)}"
    r = hit.iloc[0]
    return r, json.loads(r.evidence)


def stay(d, mdtrt_id, psn, inst, begn, end, dise="K35.800", medfee="1000.00", hifp="700.00", **kw):
    d.visit(mdtrt_id, psn, inst, med_type="21", begn=f"{begn} 08:00:00", end=end, dise=dise, medfee=medfee, hifp=hifp, **kw)


# --- the library as a whole --------------------------------------------------------------------

def test_every_rule_has_its_cases_and_complete_fields():
    assert len(LIB) >= 28
    assert {f.stem for f in RULE_CASES_DIR.glob("*.yaml")} == set(LIB), "a rule without cases, or cases without a rule"
    for rid, r in LIB.items():
        if rid in OFFICIAL:
            assert r.official_code == OFFICIAL[rid], rid
        assert r.official_code is None or re.fullmatch(r"(GZ|ZB)\d{14}", r.official_code), rid
        assert r.name_zh and r.name_en and r.basis and r.detail_zh and r.detail_en
        assert "《" in r.basis, f"{rid}: basis cites no document"
        assert r.tier in ("policy", "management", "medical") and r.result_type in ("suspicious", "violation")
        assert set(r.tables) <= {"psn", "insu", "medins", "dr", "mdtrt", "setl", "fee", "list", "list_incl", "stock"}
        for p in r.params.values():
            assert p.zh and p.en, f"{rid}.{p.name} lacks its meaning"
        assert "Version " not in r.notes, f"{rid}: the changelog belongs in changes:, not in notes"


def _finding_rows(df):
    out = []
    for r in df.itertuples(index=False):
        out.append({"fixmedins_code": r.fixmedins_code, "dr_code": r.dr_code, "psn_no": r.psn_no,
                    "mdtrt_id": r.mdtrt_id, "amount_at_risk": r.amount_at_risk, "evidence": json.loads(r.evidence),
                    "detail": r.detail})
    return sorted(out, key=lambda x: tuple("" if x[k] is None else x[k] for k in ("fixmedins_code", "dr_code", "psn_no", "mdtrt_id")))


@pytest.mark.parametrize("rid", sorted(LIB))
def test_rule_fires_on_its_case_and_not_on_its_near_miss(rid, tmp_path):
    """tests/rule_cases/<rid>.yaml: ``fires`` gives exactly the findings it expects (keys,
    amount, evidence where stated, words of the detail), ``near_miss`` none."""
    doc = load_rule_cases(rid)
    for kind in ("fires", "near_miss"):
        case = doc[kind]
        assert case.get("what"), f"{rid}.{kind}: say what the case is"
        d = claims_from_steps(case["data"], f"{rid}.{kind}")
        if case.get("empty_tables"):
            d.with_empty(*case["empty_tables"])
        with d.open(tmp_path, kind) as s:
            got = _finding_rows(run_rule(s, rid, case.get("params") or None, library=LIB))
        if kind == "near_miss":
            assert got == [], f"{rid}: the near miss ({case['what']}) fired: {got}"
            continue
        expect = case["expect"]
        assert expect, f"{rid}: a firing case must expect findings"
        assert len(got) == len(expect), f"{rid}: expected {len(expect)} finding(s), got {got}"
        for g, e in zip(got, sorted(expect, key=lambda x: tuple(str(x.get(k) or "") for k in
                                                               ("fixmedins_code", "dr_code", "psn_no", "mdtrt_id")))):
            for k in ("fixmedins_code", "dr_code", "psn_no", "mdtrt_id"):
                assert g[k] == (None if e.get(k) is None else str(e[k])), (rid, k, g)
            assert g["amount_at_risk"] == D(str(e["amount_at_risk"])), (rid, g)
            if "evidence" in e:
                assert g["evidence"] == sorted(e["evidence"]), (rid, g)
            for words in e.get("detail_has") or []:
                assert words in g["detail"], (rid, words, g["detail"])


@pytest.mark.parametrize("rid", sorted(LIB))
def test_rule_sql_translates_to_spark_and_reads_only_its_tables(rid):
    from workbench.rules import views
    from workbench.sql import dialect as sqltext

    r = LIB[rid]
    sql = r.render_sql()
    assert sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
    assert sqltext.to_spark(sql)
    # the contract tables it reads, directly or through views, are exactly those it declares
    vdefs = views.load_views()

    def contract(names, seen=()):
        out = set()
        for n in names:
            if n in vdefs and n not in seen:
                out |= contract(vdefs[n].reads, seen + (n,))
            elif not n.startswith(("v_", "k_")):
                out.add(n)
        return out

    assert contract(sqltext.referenced_tables(sql)) == set(r.tables) | set(r.optional_tables)


def test_default_parameters_follow_the_spec():
    d = {rid: r.defaults() for rid, r in LIB.items()}
    assert d["split_hospitalization"] == {"window_days": 15, "same_diagnosis": True}
    assert d["frequent_outpatient"] == {"window_days": 30, "max_visits": 12}
    assert d["frequent_purchase"] == {"window_days": 30, "max_purchases": 10}
    assert d["frequent_admission"] == {"window_days": 365, "max_admissions": 6}
    assert d["charge_outside_stay"] == {"tolerance_days": 0}
    assert d["dispensing_over_limit"] == {"max_days": 30, "max_days_chronic": 84}
    assert d["stock_mismatch"] == {"tolerance": 0.0}
    assert d["cost_share_outlier"] == {"z_threshold": 3.5, "min_excess": 0.15}
    assert d["ghost_bed"] == {"min_days": 3}
    assert d["drug_markup"] == {"max_markup": 0.0}
    assert d["doctor_impossible_volume"] == {"max_visits_per_day": 80}
    assert d["test_panel_uniformity"] == {"min_visits": 30, "min_share": 0.9, "min_tests": 3, "min_categories": 5}
    assert d["tcm_therapy_abuse"] == {"min_visits": 50, "min_share": 0.6, "basic_only": True, "min_categories": 5}


def test_knowledge_tables_are_well_formed():
    with open(RULES_DIR / "knowledge" / "k_dx_sex.csv", encoding="utf-8") as fh:
        sex = list(csv.DictReader(fh))
    with open(RULES_DIR / "knowledge" / "k_dx_age.csv", encoding="utf-8") as fh:
        age = list(csv.DictReader(fh))
    assert {("O00", "O9A", "2"), ("N70", "N98", "2"), ("C51", "C58", "2"), ("D25", "D28", "2"),
            ("N40", "N53", "1"), ("C60", "C63", "1"), ("D29", "D29", "1")} <= {(r["code_from"], r["code_to"], r["gend"]) for r in sex}
    assert {("P00", "P96", "0", "0"), ("O00", "O9A", "12", "55"), ("R54", "R54", "60", "")} <= {
        (r["code_from"], r["code_to"], r["age_min"], r["age_max"]) for r in age}
    for r in sex + age:
        assert len(r["code_from"]) == 3 and len(r["code_to"]) == 3 and r["code_from"] <= r["code_to"], r


def test_a_rule_is_skipped_when_its_table_is_absent(tmp_path):
    d = Claims()
    d.visit("M1", "P1", "H1")
    with d.open(tmp_path) as s:  # no fee, no list
        assert len(run_rule(s, "price_over_cap", library=LIB)) == 0
        assert engine.why_skipped(s, LIB["price_over_cap"], engine.environment(s)).startswith("needs table(s) fee, list")


def test_views_net_refunds_round_half_up_and_age(tmp_path):
    d = Claims()
    d.person("P1", brdy="1980-03-02")
    d.visit("A", "P1", "H1", begn="2024-03-01 09:00:00", medfee="100.00", hifp="50.00")
    d.fee("A", "X", cnt=1, pric="0.25").fee("A", "X", cnt=-1, pric="0.25")
    d.visit("B", "P1", "H1", refund=True)  # settled and reversed
    d.visit("C", "P1", "H1", medfee="80.00", hifp="60.00", refund=True)
    d.settle("C", "SC2", "80.00", "60.00")  # reversed, then settled again
    d.visit("E", "P1", "H1", settle=False)  # no settlement
    with d.open(tmp_path) as s:
        engine.environment(s)
        got = s.sql("SELECT mdtrt_id, medfee_sumamt, hifp_pay, reversed, fund_ratio FROM v_visit_fund ORDER BY 1").fetchall()
        assert got == [("A", D("100.00"), D("50.00"), False, 0.5), ("B", D("0.00"), D("0.00"), True, 0.0),
                       ("C", D("80.00"), D("60.00"), False, 0.75), ("E", D("0.00"), D("0.00"), False, 0.0)]
        # 0.25 x 50 / 100 = 0.125 rounds half away from zero, per line, refund lines keep their sign
        assert s.sql("SELECT fee_key, fund_amt FROM v_fee_fund ORDER BY 1").fetchall() == [
            ("fee:A/1", D("0.13")), ("fee:A/2", D("-0.13"))]
        assert s.sql("SELECT age, gend FROM v_visit_age WHERE mdtrt_id = 'A'").fetchall() == [(43, "1")]


# --- behaviour: split hospitalization, frequency of visits, stays ------------------------------

def test_split_hospitalization_window_same_day_and_diagnosis(tmp_path):
    d = Claims()
    stay(d, "A1", "P1", "H1", "2024-03-01", "2024-03-05", dise="K35.800")
    stay(d, "A2", "P1", "H1", "2024-03-20", "2024-03-25", dise="K35.100", hifp="1500.00")  # gap 15: fires
    stay(d, "A3", "P1", "H1", "2024-04-10", "2024-04-12", dise="K35.200")  # gap 16: silent
    stay(d, "B1", "P2", "H1", "2024-03-01", "2024-03-05", dise="J18.900")
    stay(d, "B2", "P2", "H1", "2024-03-05", "2024-03-08", dise="j18.0", hifp="321.09")  # same day: fires
    stay(d, "C1", "P3", "H1", "2024-03-01", "2024-03-05", dise="I21.000")
    stay(d, "C2", "P3", "H1", "2024-03-08", "2024-03-10", dise="J18.900", hifp="400.00")  # other category
    stay(d, "E1", "P4", "H1", "2024-03-01", "2024-03-05", dise="K35.8")
    stay(d, "E2", "P4", "H2", "2024-03-06", "2024-03-09", dise="K35.8")  # other institution: silent
    d.visit("O1", "P4", "H1", med_type="11", begn="2024-03-07 09:00:00", dise="K35.8")  # outpatient: not a stay
    stay(d, "F1", "P5", "H1", "2024-03-01", "2024-03-05", dise="K35.8")
    stay(d, "F2", "P5", "H1", "2024-03-10", "2024-03-12", dise="K35.8", refund=True)  # withdrawn: not a stay
    stay(d, "F3", "P5", "H1", "2024-03-14", "2024-03-16", dise="K35.8", hifp="90.00")  # 9 days after F1: fires
    df = run(d, tmp_path, "split_hospitalization")
    assert keys(df) == [("H1", None, "P1", "A2"), ("H1", None, "P2", "B2"), ("H1", None, "P5", "F3")]
    assert one(df, mdtrt_id="F3")[1] == ["mdtrt:F1", "mdtrt:F3"]
    from workbench import stays

    with d.open(tmp_path, "again") as s:  # `workbench stays` skips the withdrawn stay alike
        pairs = stays.readmission_pairs(s, 15)
        assert ("F1", "F3", 9) in {(r.first_mdtrt_id, r.second_mdtrt_id, r.gap_days) for r in pairs.itertuples()}
        assert "F2" not in set(pairs.first_mdtrt_id) | set(pairs.second_mdtrt_id)
    r, ev = one(df, mdtrt_id="A2")
    assert r.amount_at_risk == D("1500.00") and ev == ["mdtrt:A1", "mdtrt:A2"]
    assert r.official_code == "GZ10000204001000" and r.result_type == "suspicious"
    assert one(df, mdtrt_id="B2")[0].amount_at_risk == D("321.09")
    extra = rows(d, tmp_path / "x", "split_hospitalization", same_diagnosis=False)
    got = [(x["mdtrt_id"], x["gap_days"], x["first_mdtrt_id"], x["first_dise"], x["second_dise"]) for x in extra]
    assert got == [("A2", 15, "A1", "K35.800", "K35.100"), ("B2", 0, "B1", "J18.900", "j18.0"),
                   ("C2", 3, "C1", "I21.000", "J18.900"), ("F3", 9, "F1", "K35.8", "K35.8")]
    assert "出院后15天再次入院" in r.detail
    assert keys(run(d, tmp_path / "y", "split_hospitalization", window_days=14)) == [("H1", None, "P2", "B2"), ("H1", None, "P5", "F3")]


def test_split_hospitalization_a_stay_nested_in_a_longer_one_hides_no_readmission(tmp_path):
    d = Claims()
    stay(d, "N1", "P1", "H1", "2024-06-01", "2024-06-30", dise="I50.001")
    stay(d, "N2", "P1", "H1", "2024-06-05", "2024-06-10", dise="I50.001")  # inside N1 (overlapping_stays)
    stay(d, "N3", "P1", "H1", "2024-07-03", "2024-07-05", dise="I50.900", hifp="88.00")  # 3 days after N1: fires
    stay(d, "Q1", "P2", "H1", "2024-06-01", "2024-06-08", dise="I50.001")
    stay(d, "Q2", "P2", "H1", "2024-06-05", "2024-06-12", dise="I50.001")  # overlaps Q1, ends after it
    stay(d, "Q3", "P2", "H1", "2024-06-28", "2024-06-30", dise="I50.001")  # 16 days after Q2: silent
    stay(d, "T1", "P3", "H1", "2024-06-01", "2024-06-20", dise="I50.001")
    stay(d, "T2", "P3", "H1", "2024-06-03", "2024-06-20", dise="I50.001")  # ends the same day, later in order
    stay(d, "T3", "P3", "H1", "2024-06-25", "2024-06-26", dise="I50.001")  # previous: T2 (the tie's later one)
    df = run(d, tmp_path, "split_hospitalization")
    assert keys(df) == [("H1", None, "P1", "N3"), ("H1", None, "P3", "T3")]
    r, ev = one(df, mdtrt_id="N3")
    assert ev == ["mdtrt:N1", "mdtrt:N3"] and r.amount_at_risk == D("88.00") and "出院后3天再次入院" in r.detail
    assert one(df, mdtrt_id="T3")[1] == ["mdtrt:T2", "mdtrt:T3"]
    from workbench import stays

    with d.open(tmp_path, "again") as s:  # `workbench stays` takes the same previous stay
        pairs = stays.readmission_pairs(s, 15)
        assert {(r.first_mdtrt_id, r.second_mdtrt_id, r.gap_days) for r in pairs.itertuples()} == {
            ("N1", "N3", 3), ("T2", "T3", 5)}
        ep = stays.episodes(s).set_index("mdtrt_id")
        assert ep.prev_same_mdtrt_id.to_dict() == {"N1": None, "N2": "N1", "N3": "N1", "Q1": None, "Q2": "Q1",
                                                   "Q3": "Q2", "T1": None, "T2": "T1", "T3": "T2"}
        assert ep.gap_prev_same_days["N2"] == -25 and ep.prev_any_mdtrt_id["N3"] == "N1"


def _outpatient_series(d, psn, n, start="2024-03-01", step=2, med_type="11", inst="H1", prefix=None, **kw):
    prefix = prefix or f"{psn}V"
    for i in range(n):
        d.visit(f"{prefix}{i:02d}", psn, inst, med_type=med_type, begn=day(start, i * step), **kw)


def test_frequent_outpatient_exact_limit_window_edge_and_refund(tmp_path):
    d = Claims()
    _outpatient_series(d, "P1", 12, step=2)  # 12 visits in 23 days: exactly the limit
    _outpatient_series(d, "P2", 13, step=2, hifp="10.01")  # 13 in 25 days: fires
    _outpatient_series(d, "P3", 12, step=2)
    d.visit("P3R", "P3", "H2", begn=day("2024-03-01", 5), refund=True)  # a reversed 13th visit
    _outpatient_series(d, "P4", 12, step=2, med_type="14")
    d.visit("P4X", "P4", "H1", begn=day("2024-03-01", 30))  # 13 visits over 31 days: no 30-day window holds 13
    _outpatient_series(d, "P5", 12, step=2)
    d.visit("P5U", "P5", "H1", begn=day("2024-03-01", 3), settle=False)  # a 13th never settled: no claim
    df = run(d, tmp_path, "frequent_outpatient")
    assert keys(df) == [(None, None, "P2", None)]
    r, ev = one(df, psn_no="P2")
    assert ev == [f"mdtrt:P2V{i:02d}" for i in range(13)]
    assert r.amount_at_risk == D("130.13")
    # the densest window only: a 14th visit far away is not evidence
    d.visit("P2Z", "P2", "H1", begn="2024-09-01 09:00:00")
    r2, ev2 = one(run(d, tmp_path / "b", "frequent_outpatient"), psn_no="P2")
    assert "mdtrt:P2Z" not in ev2 and r2.amount_at_risk == D("130.13")


def test_frequent_purchase_counts_pharmacy_purchases(tmp_path):
    d = Claims()
    d.institution("Y1", type="2", level="9")
    _outpatient_series(d, "P1", 10, step=1, med_type="41", inst="Y1")  # exactly 10: silent
    _outpatient_series(d, "P2", 11, step=1, med_type="41", inst="Y1", hifp="5.00")  # 11: fires
    _outpatient_series(d, "P3", 11, step=1, med_type="11")  # outpatient visits are not purchases
    _outpatient_series(d, "P4", 10, step=1, med_type="41", inst="Y1")
    d.visit("P4U", "P4", "Y1", med_type="41", begn=day("2024-03-01", 2), settle=False)  # unsettled 11th: silent
    df = run(d, tmp_path, "frequent_purchase")
    assert keys(df) == [(None, None, "P2", None)]
    assert one(df, psn_no="P2")[0].amount_at_risk == D("55.00")


def test_frequent_admission_within_a_year(tmp_path):
    d = Claims()
    for i in range(6):  # 6 stays in a year: silent
        stay(d, f"A{i}", "P1", "H1", day("2024-01-01", 60 * i)[:10], day("2024-01-01", 60 * i + 1)[:10])
    for i in range(7):  # 7 stays within 364 days: fires
        stay(d, f"B{i}", "P2", "H1", day("2024-01-01", 60 * i)[:10], day("2024-01-01", 60 * i + 1)[:10], hifp="100.00")
    for i in range(6):  # 6 stays and a 7th never settled: silent
        stay(d, f"C{i}", "P3", "H1", day("2024-01-01", 60 * i)[:10], day("2024-01-01", 60 * i + 1)[:10])
    stay(d, "C6", "P3", "H1", "2024-12-01", "2024-12-02", settle=False)
    df = run(d, tmp_path, "frequent_admission")
    assert keys(df) == [(None, None, "P2", None)]
    r, ev = one(df, psn_no="P2")
    assert r.amount_at_risk == D("700.00") and len(ev) == 7


def test_outpatient_during_stay_strictly_inside(tmp_path):
    d = Claims()
    d.institution("Y1", type="2", level="9")
    stay(d, "S1", "P1", "H1", "2024-03-01", "2024-03-10")
    d.visit("O1", "P1", "H1", begn="2024-03-01 15:00:00")  # admission day: silent
    d.visit("O2", "P1", "H1", begn="2024-03-10 15:00:00")  # discharge day: silent
    d.visit("O3", "P1", "H2", med_type="14", begn="2024-03-05 09:00:00", hifp="12.34")  # inside: fires
    d.visit("O4", "P1", "Y1", med_type="41", begn="2024-03-06 09:00:00", hifp="56.78")  # pharmacy inside: fires
    d.visit("O5", "P2", "H2", begn="2024-03-05 09:00:00")  # someone else
    df = run(d, tmp_path, "outpatient_during_stay")
    assert keys(df) == [("H2", None, "P1", "O3"), ("Y1", None, "P1", "O4")]
    r, ev = one(df, mdtrt_id="O4")
    assert r.amount_at_risk == D("56.78") and ev == ["mdtrt:O4", "mdtrt:S1"]


def test_overlapping_stays_finds_the_later_stay_against_any_earlier_one(tmp_path):
    d = Claims()
    stay(d, "A1", "P1", "H1", "2024-03-01", "2024-03-10")
    stay(d, "A2", "P1", "H2", "2024-03-09", "2024-03-15", hifp="222.22")  # overlaps by one day: fires
    stay(d, "B1", "P2", "H1", "2024-03-01", "2024-03-10")
    stay(d, "B2", "P2", "H2", "2024-03-10", "2024-03-12")  # admitted on the discharge day: silent
    stay(d, "C1", "P3", "H1", "2024-03-01", "2024-03-30")  # a long stay ...
    stay(d, "C2", "P3", "H2", "2024-03-05", "2024-03-07")  # ... with two stays inside it
    stay(d, "C3", "P3", "H3", "2024-03-10", "2024-03-12")
    stay(d, "D1", "P4", "H1", "2024-03-01", "2024-03-10")
    stay(d, "D2", "P4", "H2", "2024-03-05", "2024-03-08", refund=True)  # reversed: silent
    df = run(d, tmp_path, "overlapping_stays")
    assert keys(df) == [("H2", None, "P1", "A2"), ("H2", None, "P3", "C2"), ("H3", None, "P3", "C3")]
    r, ev = one(df, mdtrt_id="A2")
    assert r.amount_at_risk == D("222.22") and ev == ["mdtrt:A1", "mdtrt:A2"]
    assert one(df, mdtrt_id="C3")[1] == ["mdtrt:C1", "mdtrt:C3"]


def test_claims_after_death(tmp_path):
    d = Claims()
    d.person("P1", death_date="2024-03-01")
    d.visit("M1", "P1", "H1", begn="2024-03-01 18:00:00")  # the day of death: silent
    d.visit("M2", "P1", "H2", begn="2024-03-02 09:00:00", hifp="88.88")  # after: fires
    d.visit("M3", "P2", "H2", begn="2024-03-02 09:00:00")
    df = run(d, tmp_path, "claims_after_death")
    assert keys(df) == [("H2", None, "P1", "M2")]
    r, ev = one(df, mdtrt_id="M2")
    assert r.amount_at_risk == D("88.88") and ev == ["mdtrt:M2", "psn:P1"] and r.result_type == "violation"


# --- diagnosis against sex and age ----------------------------------------------------------------

def test_diagnosis_sex_mismatch(tmp_path):
    d = Claims()
    d.person("M", gend="1").person("F", gend="2").person("U", gend="9")
    d.visit("V1", "M", "H1", dise="O80.001", hifp="50.50")  # male, childbirth: fires
    d.visit("V2", "F", "H1", dise="O80.001")  # female: silent
    d.visit("V3", "F", "H1", dise="n40.x00", hifp="20.00")  # female, prostate (lower case): fires
    d.visit("V4", "M", "H1", dise="N40.x00")  # male: silent
    d.visit("V5", "U", "H1", dise="O80.001")  # unknown sex: silent
    d.visit("V6", "F", "H1", dise="N39.000")  # just below N40: silent
    d.visit("V7", "M", "H1", dise="O99.800", hifp="1.00")  # end of the chapter: fires
    d.visit("V8", "M", "H1", dise="N99.000")  # after N98, both sexes: silent
    df = run(d, tmp_path, "diagnosis_sex_mismatch")
    assert keys(df) == [("H1", None, "F", "V3"), ("H1", None, "M", "V1"), ("H1", None, "M", "V7")]
    r, ev = one(df, mdtrt_id="V1")
    assert r.amount_at_risk == D("50.50") and ev == ["mdtrt:V1", "psn:M"] and "限女性" in r.detail


def test_diagnosis_age_mismatch(tmp_path):
    d = Claims()
    d.person("B0", brdy="2023-03-02").person("B1", brdy="2023-03-01")
    d.person("W55", gend="2", brdy="1968-03-02").person("W56", gend="2", brdy="1968-02-29")
    d.person("O59", brdy="1964-03-02").person("O60", brdy="1964-03-01")
    at = "2024-03-01 09:00:00"
    d.visit("V1", "B0", "H1", begn=at, dise="P07.300")  # 364 days old: silent
    d.visit("V2", "B1", "H1", begn=at, dise="P07.300", hifp="11.11")  # first birthday: fires
    d.visit("V3", "W55", "H1", begn=at, dise="O80.001")  # 56th birthday is tomorrow: 55, silent
    d.visit("V4", "W56", "H1", begn=at, dise="O80.001", hifp="22.22")  # 56: fires
    d.visit("V5", "O59", "H1", begn=at, dise="R54", hifp="33.33")  # 59: fires
    d.visit("V6", "O60", "H1", begn=at, dise="R54")  # 60: silent
    df = run(d, tmp_path, "diagnosis_age_mismatch")
    assert keys(df) == [("H1", None, "B1", "V2"), ("H1", None, "O59", "V5"), ("H1", None, "W56", "V4")]
    assert [one(df, mdtrt_id=m)[0].amount_at_risk for m in ("V2", "V4", "V5")] == [D("11.11"), D("22.22"), D("33.33")]
    assert "时1岁" in one(df, mdtrt_id="V2")[0].detail


# --- charge lines against the catalogue -----------------------------------------------------------

def test_charge_outside_stay(tmp_path):
    d = Claims()
    stay(d, "S1", "P1", "H1", "2024-03-01", "2024-03-05")
    d.fee("S1", "X1", pric="50.00", time="2024-03-05 20:00:00", chrgitm="05")  # discharge day: inside
    d.fee("S1", "X2", pric="50.00", time="2024-03-06 08:00:00", chrgitm="05")  # the day after: outside
    d.fee("S1", "X3", pric="20.00", time="2024-02-29 08:00:00", chrgitm="09")  # the day before: outside
    stay(d, "S2", "P2", "H1", "2024-03-01", "2024-03-05")
    d.fee("S2", "X2", pric="50.00", time="2024-03-07 08:00:00", chrgitm="05")
    d.fee("S2", "X2", cnt=-1, pric="50.00", time="2024-03-07 09:00:00", chrgitm="05")  # refunded in full
    df = run(d, tmp_path, "charge_outside_stay")
    assert keys(df) == [("H1", None, "P1", "S1")]
    r, ev = one(df, mdtrt_id="S1")
    assert ev == ["fee:S1/2", "fee:S1/3"] and r.amount_at_risk == D("35.00") + D("14.00")
    assert len(run(d, tmp_path / "b", "charge_outside_stay", tolerance_days=1)) == 0


def test_price_over_cap_only_the_excess(tmp_path):
    d = Claims()
    d.item("X1", "05", cap="10.00")
    d.visit("M1", "P1", "H1", medfee="1000.00", hifp="700.00")
    d.fee("M1", "X1", cnt=10, pric="10.00")  # equal to the cap: silent
    d.visit("M2", "P2", "H1", medfee="1000.00", hifp="700.00")
    d.fee("M2", "X1", cnt=10, pric="10.01")  # a cent above: fires
    d.visit("M3", "P3", "H1", medfee="300.00", hifp="100.00")
    d.fee("M3", "X1", cnt=3, pric="12.50")
    d.visit("M4", "P4", "H1", refund=True)  # a reversed visit: silent
    d.fee("M4", "X1", cnt=10, pric="20.00")
    df = run(d, tmp_path, "price_over_cap")
    assert keys(df) == [("H1", None, "P2", "M2"), ("H1", None, "P3", "M3")]
    r, ev = one(df, mdtrt_id="M2")
    assert ev == ["fee:M2/1"] and r.amount_at_risk == D("0.07")  # 0.01 x 10 x 0.7
    assert one(df, mdtrt_id="M3")[0].amount_at_risk == D("2.50")  # 2.50 x 3 / 3


def test_duplicate_billing_included_item_and_same_time(tmp_path):
    d = Claims()
    d.item("PAR", "05").item("CHI", "05").item("Y", "04").incl("PAR", "CHI")
    d.visit("M1", "P1", "H1", medfee="200.00", hifp="100.00")
    d.fee("M1", "PAR", pric="80.00").fee("M1", "CHI", pric="30.00")  # child beside parent: fires
    d.visit("M2", "P2", "H1")
    d.fee("M2", "CHI", pric="30.00")  # child alone: silent
    t = "2024-03-01 10:00:00"
    d.visit("M3", "P3", "H1", medfee="100.00", hifp="50.00")
    d.fee("M3", "Y", pric="20.00", time=t).fee("M3", "Y", pric="20.00", time=t)  # twice at once: fires
    d.visit("M4", "P4", "H1")
    d.fee("M4", "Y", pric="20.00", time=t).fee("M4", "Y", pric="20.00", time=t)
    d.fee("M4", "Y", cnt=-1, pric="20.00", time=t)  # the duplicate refunded: silent
    d.visit("M5", "P5", "H1")
    d.fee("M5", "Y", pric="20.00", time=t).fee("M5", "Y", pric="20.00", time="2024-03-01 16:00:00")  # two times
    d.visit("M6", "P6", "H1")
    d.fee("M6", "Y", pric="20.00").fee("M6", "Y", pric="20.00")
    for row in d.rows["fee"][-2:]:
        row["fee_ocur_time"] = None  # two lines at no known time are not two at the same time: silent
    df = run(d, tmp_path, "duplicate_billing")
    assert keys(df) == [("H1", None, "P1", "M1"), ("H1", None, "P3", "M3")]
    r, ev = one(df, mdtrt_id="M1")
    assert ev == ["fee:M1/2"] and r.amount_at_risk == D("15.00")
    r, ev = one(df, mdtrt_id="M3")
    assert ev == ["fee:M3/1", "fee:M3/2"] and r.amount_at_risk == D("10.00")  # one of the two lines


def test_split_billing_every_child_without_the_parent(tmp_path):
    d = Claims()
    d.item("PAR", "06").item("C1", "06").item("C2", "06").item("Q", "05").item("Q1", "05")
    d.incl("PAR", "C1", "C2").incl("Q", "Q1")
    d.visit("M1", "P1", "H1", medfee="100.00", hifp="80.00")
    d.fee("M1", "C1", pric="40.00").fee("M1", "C2", pric="25.00")  # all children, no parent: fires
    d.visit("M2", "P2", "H1")
    d.fee("M2", "C1", pric="40.00")  # one child: silent
    d.visit("M3", "P3", "H1")
    d.fee("M3", "C1", pric="40.00").fee("M3", "C2", pric="25.00").fee("M3", "PAR", pric="60.00")  # with parent
    d.visit("M4", "P4", "H1")
    d.fee("M4", "Q1", pric="40.00")  # the only child of Q: cannot be a split
    df = run(d, tmp_path, "split_billing")
    assert keys(df) == [("H1", None, "P1", "M1")]
    r, ev = one(df, mdtrt_id="M1")
    assert ev == ["fee:M1/1", "fee:M1/2"] and r.amount_at_risk == D("52.00")


def test_frequency_limit_per_item_and_day(tmp_path):
    d = Claims()
    d.item("T", "05", max_daily_cnt=2).item("DRUG", "09", max_daily_cnt=1)
    d.visit("M1", "P1", "H1", med_type="21", begn="2024-03-01 08:00:00", end="2024-03-05")
    d.fee("M1", "T", cnt=2, pric="30.00", time="2024-03-02 09:00:00")  # exactly 2: silent
    d.fee("M1", "T", cnt=2, pric="30.00", time="2024-03-03 09:00:00")
    d.fee("M1", "DRUG", cnt=5, pric="1.00", time="2024-03-02 09:00:00")  # drugs are not judged here
    d.visit("M2", "P2", "H1", medfee="1000.00", hifp="700.00")
    d.fee("M2", "T", cnt=2, pric="30.00").fee("M2", "T", cnt=1, pric="30.00")  # 3 in a day: fires
    df = run(d, tmp_path, "frequency_limit")
    assert keys(df) == [("H1", None, "P2", "M2")]
    r, ev = one(df, mdtrt_id="M2")
    assert ev == ["fee:M2/1", "fee:M2/2"] and r.amount_at_risk == D("21.00")  # (42.00 + 21.00) x 1/3


def test_drug_indication_limit_prefixes(tmp_path):
    d = Claims()
    d.item("INS", "09", lmt_dise="E10;E11; O24.4")
    for mid, dise in [("M1", "E11.900"), ("M2", "I10.x00"), ("M3", "O24.401"), ("M4", "O24.100"), ("M5", None)]:
        d.visit(mid, f"P{mid}", "H1", dise=dise, medfee="100.00", hifp="60.00")
        d.fee(mid, "INS", cnt=2, pric="12.34")
    d.item("LONG", "09", lmt_dise="E11.900x001")  # a clinical-version code as the indication
    for mid, dise in [("L1", "E11.900x001"), ("L2", "E11.900x002")]:
        d.visit(mid, f"P{mid}", "H1", dise=dise, medfee="100.00", hifp="60.00")
        d.fee(mid, "LONG", pric="10.00")
    df = run(d, tmp_path, "drug_indication_limit")
    # M5 has no diagnosis: not judged; L1 is the listed code itself; L2 only shares its first 9
    assert keys(df) == [("H1", None, "PL2", "L2"), ("H1", None, "PM2", "M2"), ("H1", None, "PM4", "M4")]
    r, ev = one(df, mdtrt_id="M2")
    assert ev == ["fee:M2/1"] and r.amount_at_risk == share("24.68", "60", "100") == D("14.81")


def test_dispensing_over_limit_days_of_supply(tmp_path):
    d = Claims()
    d.item("DRUG", "09", max_daily_cnt=3)
    d.visit("M1", "P1", "H1", medfee="1000.00", hifp="700.00")
    d.fee("M1", "DRUG", cnt=90, pric="1.00")  # 30 days: silent
    d.visit("M2", "P2", "H1", medfee="1000.00", hifp="700.00")
    d.fee("M2", "DRUG", cnt=100, pric="1.00").fee("M2", "DRUG", cnt=20, pric="1.00")  # 40 days: fires
    d.visit("M3", "P3", "H1", med_type="21", begn="2024-03-01 08:00:00", end="2024-03-20")
    d.fee("M3", "DRUG", cnt=120, pric="1.00")  # inpatient: not judged
    df = run(d, tmp_path, "dispensing_over_limit")
    assert keys(df) == [("H1", None, "P2", "M2")]
    r, ev = one(df, mdtrt_id="M2")
    assert ev == ["fee:M2/1", "fee:M2/2"] and r.amount_at_risk == D("21.00")  # 84.00 x 10/40


def test_hospital_level_limit(tmp_path):
    d = Claims()
    d.institution("H1", level="1").institution("H2", level="2").institution("H3", level="3")
    d.item("L", "09", lmt_hosp_lv="2").item("S", "06", lmt_hosp_lv="2")
    for mid, inst in [("M1", "H1"), ("M2", "H2"), ("M3", "H3")]:
        d.visit(mid, f"P{mid}", inst, medfee="100.00", hifp="50.00")
        d.fee(mid, "L", pric="40.00").fee(mid, "S", pric="10.00")
    df = run(d, tmp_path, "hospital_level_limit")
    assert keys(df) == [("H3", None, "PM3", "M3")]
    r, ev = one(df, mdtrt_id="M3")
    assert ev == ["fee:M3/1", "fee:M3/2"] and r.amount_at_risk == D("25.00")
    assert rows(d, tmp_path / "b", "hospital_level_limit")[0]["codes"] == "GZ10000101012000;GZ10000102011000"


def test_item_sex_limit(tmp_path):
    d = Claims()
    d.item("PSA", "04", lmt_gend="1")
    d.person("M", gend="1").person("F", gend="2").person("U", gend="9")
    for mid, p in [("M1", "M"), ("M2", "F"), ("M3", "U")]:
        d.visit(mid, p, "H1", medfee="100.00", hifp="70.00")
        d.fee(mid, "PSA", pric="45.00")
    df = run(d, tmp_path, "item_sex_limit")
    assert keys(df) == [("H1", None, "F", "M2")]
    r, ev = one(df, mdtrt_id="M2")
    assert ev == ["fee:M2/1", "psn:F"] and r.amount_at_risk == D("31.50")


def test_item_age_limit(tmp_path):
    d = Claims()
    d.item("KID", "09", age_max=14)
    d.person("A14", brdy="2010-03-01").person("A15", brdy="2009-03-01").person("B14", brdy="2009-03-02")
    for mid, p in [("M1", "A14"), ("M2", "A15"), ("M3", "B14")]:
        d.visit(mid, p, "H1", begn="2024-03-01 09:00:00", medfee="10.00", hifp="7.00")
        d.fee(mid, "KID", pric="3.33")
    df = run(d, tmp_path, "item_age_limit")
    assert keys(df) == [("H1", None, "A15", "M2")]
    r, ev = one(df, mdtrt_id="M2")
    assert ev == ["fee:M2/1", "psn:A15"] and r.amount_at_risk == D("2.33")  # 3.33 x 0.7 = 2.331


def test_unlisted_item(tmp_path):
    d = Claims()
    d.item("OK", "09")
    d.visit("M1", "P1", "H1", medfee="100.00", hifp="50.00")
    d.fee("M1", "OK", pric="10.00").fee("M1", "SOAP", pric="25.00", chrgitm="14")  # not in the catalogue
    d.visit("M2", "P2", "H1")
    d.fee("M2", "SOAP", pric="25.00", chrgitm="14").fee("M2", "SOAP", cnt=-1, pric="25.00", chrgitm="14")
    df = run(d, tmp_path, "unlisted_item")
    assert keys(df) == [("H1", None, "P1", "M1")]
    r, ev = one(df, mdtrt_id="M1")
    assert ev == ["fee:M1/2"] and r.amount_at_risk == D("12.50")


def test_ghost_bed_days_with_only_bed_and_nursing(tmp_path):
    d = Claims()
    d.item("BED", "01").item("NUR", "07").item("DRUG", "09")
    stay(d, "S1", "P1", "H1", "2024-03-01", "2024-03-06", medfee="1000.00", hifp="800.00")
    for i in range(1, 7):
        t = f"2024-03-0{i} 12:00:00"
        d.fee("S1", "BED", pric="40.00", time=t).fee("S1", "NUR", pric="10.00", time=t)
        if i in (1, 5, 6):  # care on three days; 2, 3 and 4 are bed and nursing only
            d.fee("S1", "DRUG", pric="5.00", time=t)
    stay(d, "S2", "P2", "H1", "2024-03-01", "2024-03-04")
    for i in range(1, 5):
        t = f"2024-03-0{i} 12:00:00"
        d.fee("S2", "BED", pric="40.00", time=t)
        if i in (1, 4):  # two empty days only: silent
            d.fee("S2", "DRUG", pric="5.00", time=t)
    df = run(d, tmp_path, "ghost_bed")
    assert keys(df) == [("H1", None, "P1", "S1")]
    r, ev = one(df, mdtrt_id="S1")
    assert ev == ["fee:S1/4", "fee:S1/5", "fee:S1/6", "fee:S1/7", "fee:S1/8", "fee:S1/9"]
    assert r.amount_at_risk == D("120.00")  # 3 days x (40 + 10) x 0.8
    assert len(run(d, tmp_path / "b", "ghost_bed", min_days=4)) == 0


# --- institutions, items and months: ledgers, mark-up, peers ------------------------------------

def test_stock_mismatch_billed_beyond_stock(tmp_path):
    d = Claims()
    d.item("S", "09").item("OTHER", "09")
    for inst in ("H1", "H2", "H3", "H4"):
        d.visit(f"M{inst}", f"P{inst}", inst, begn="2024-03-10 09:00:00", medfee="1000.00", hifp="700.00")
    d.stock("H1", "S", "2024-03", inv_begn=5, purc_cnt=5)
    d.fee("MH1", "S", cnt=10, pric="10.00")  # exactly covered: silent
    d.stock("H2", "S", "2024-03", inv_begn=5, purc_cnt=5)
    d.fee("MH2", "S", cnt=6, pric="10.00").fee("MH2", "S", cnt=5, pric="10.00")  # 11 > 10: fires
    d.stock("H3", "S", "2024-02", inv_begn=0, purc_cnt=50).stock("H3", "OTHER", "2024-03", purc_cnt=9)
    d.fee("MH3", "S", cnt=4, pric="10.00")  # no March row for S in a kept ledger: 0 available
    d.fee("MH4", "S", cnt=4, pric="10.00")  # no ledger at all: not judged
    for inst, left in (("H5", 4), ("H6", 1)):  # no March row for S: February's closing stock carries over
        d.visit(f"M{inst}", f"P{inst}", inst, begn="2024-03-10 09:00:00", medfee="1000.00", hifp="700.00")
        d.stock(inst, "S", "2024-01", purc_cnt=9, inv_end=9).stock(inst, "S", "2024-02", inv_begn=9, inv_end=left)
        d.stock(inst, "OTHER", "2024-03", purc_cnt=9)
        d.fee(f"M{inst}", "S", cnt=4, pric="10.00")  # H5: 4 left, 4 billed: silent; H6: 1 left: fires
    d.visit("MH7", "PH7", "H7", begn="2024-03-10 09:00:00", medfee="1000.00", hifp="700.00")
    d.stock("H7", "S", "2024-03", inv_begn=2, purc_cnt=3).stock("H7", "S", "2024-03", purc_cnt=4)  # two batches: 9
    d.fee("MH7", "S", cnt=9, pric="10.00")  # silent
    df = run(d, tmp_path, "stock_mismatch")
    assert keys(df) == [("H2", None, None, None), ("H3", None, None, None), ("H6", None, None, None)]
    r, ev = one(df, fixmedins_code="H6")
    assert ev == ["fee:MH6/1", "stock:H6/S/2024-02"] and r.amount_at_risk == D("21.00")  # 28 x 3/4
    assert "2024-02期末结存" in r.detail
    r, ev = one(df, fixmedins_code="H2")
    assert ev == ["fee:MH2/1", "fee:MH2/2", "stock:H2/S/2024-03"] and r.amount_at_risk == D("7.00")  # 77 x 1/11
    r, ev = one(df, fixmedins_code="H3")
    assert ev == ["fee:MH3/1", "stock:H3/S/2024-02"] and r.amount_at_risk == D("28.00")  # February left 0
    assert keys(run(d, tmp_path / "b", "stock_mismatch", tolerance=1.0)) == [("H3", None, None, None), ("H6", None, None, None)]


def test_drug_markup_over_purchase_price(tmp_path):
    d = Claims()
    d.visit("M1", "P1", "H1", begn="2024-03-10 09:00:00", medfee="1000.00", hifp="700.00")
    d.stock("H1", "A", "2024-03", purc_pric="10.00").stock("H1", "B", "2024-03", purc_pric="10.00")
    d.stock("H1", "C", "2024-03", purc_pric="10.00")
    d.fee("M1", "A", cnt=3, pric="10.00", chrgitm="09")  # at cost: silent
    d.fee("M1", "B", cnt=4, pric="10.50", chrgitm="11")  # marked up: fires
    d.fee("M1", "C", cnt=4, pric="12.00", chrgitm="10")  # herbal pieces keep a mark-up: silent
    d.stock("H1", "B", "2024-03", purc_pric="9.00")  # a second batch of B, cheaper: B's price stays 10.00
    d.stock("H1", "E", "2024-03", purc_pric="10.00").stock("H1", "E", "2024-03", purc_pric="10.80")
    d.fee("M1", "E", cnt=2, pric="10.80", chrgitm="09")  # the price of the dearer batch: silent
    d.institution("Y1", type="2", level="9")  # a retail pharmacy prices freely
    d.visit("M2", "P2", "Y1", med_type="41", begn="2024-03-11 09:00:00", medfee="100.00", hifp="50.00")
    d.stock("Y1", "B", "2024-03", purc_pric="10.00")
    d.fee("M2", "B", cnt=4, pric="12.50", chrgitm="09")  # silent
    df = run(d, tmp_path, "drug_markup")
    assert keys(df) == [("H1", None, None, None)]
    r, ev = one(df, fixmedins_code="H1")
    # once, not once per batch row: 0.50 x 4 x 0.7
    assert ev == ["fee:M1/2", "stock:H1/B/2024-03"] and r.amount_at_risk == D("1.40")
    assert len(run(d, tmp_path / "b", "drug_markup", max_markup=0.05)) == 0


def test_cost_share_outlier_against_the_peer_group(tmp_path):
    d = Claims()
    drug = {1: 30, 2: 31, 3: 29, 4: 32, 5: 28, 6: 30, 7: 31, 8: 29, 9: 30, 10: 33, 11: 80, 12: 40}
    for i, amount in drug.items():
        inst = f"H{i:02d}"
        d.institution(inst, type="1", level="2")
        d.visit(f"M{i}", f"P{i}", inst, medfee="100.00", hifp="70.00")
        d.fee(f"M{i}", "DRUG", pric=f"{amount}.00", chrgitm="09").fee(f"M{i}", "CONS", pric=f"{100 - amount}.00", chrgitm="02")
    d.institution("K1", type="1", level="1")  # alone in its group
    d.visit("MK", "PK", "K1")
    d.fee("MK", "DRUG", pric="90.00", chrgitm="09").fee("MK", "CONS", pric="10.00", chrgitm="02")
    df = run(d, tmp_path, "cost_share_outlier")
    assert keys(df) == [("H11", None, None, None)]  # H12 (0.40) is above the median but by < 0.15
    r, ev = one(df, fixmedins_code="H11")
    # median 0.305, MAD 0.015, z = 0.6745 x 0.495 / 0.015 = 22.3; excess 0.495 x 100 x 0.7
    assert ev == ["medins:H11"] and r.amount_at_risk == D("34.65")
    assert "ZB10000205001000" in r.detail and "0.800" in r.detail and "0.305" in r.detail
    assert rows(d, tmp_path / "b", "cost_share_outlier")[0]["codes"] == "ZB10000205001000"


# --- doctors -------------------------------------------------------------------------------------

def test_doctor_impossible_volume_and_borrowed_code(tmp_path):
    d = Claims()
    d.institution("Y1", type="2", level="9")
    d.doctor("D80", "H1").doctor("D81", "H1").doctor("DB", "H1")
    for i in range(80):
        d.visit(f"A{i:03d}", f"PA{i}", "H1", begn="2024-03-01 08:00:00", dr="D80")  # exactly 80: silent
    for i in range(81):
        d.visit(f"B{i:03d}", f"PB{i}", "H1", begn="2024-03-01 08:00:00", dr="D81", hifp="1.00")  # 81: fires
    d.visit("C1", "PC", "H2", begn="2024-03-02 09:00:00", dr="X", hifp="45.60")
    d.fee("C1", "T", pric="10.00", dr="DB")  # DB of H1 bills at H2: fires
    d.visit("C2", "PC", "Y1", med_type="41", begn="2024-03-03 09:00:00", dr="DB")
    d.fee("C2", "T", pric="10.00", dr="DB")  # an external prescription filled at a pharmacy: silent
    d.visit("C3", "PC", "H1", begn="2024-03-04 09:00:00", dr="DB")
    d.fee("C3", "T", pric="10.00", dr="DB")  # own institution: silent
    d.visit("C4", "PD", "H2", med_type="21", begn="2024-04-01 08:00:00", end="2024-04-03", dr="X", medfee="200.00", hifp="100.00")
    d.fee("C4", "T", pric="30.00", time="2024-04-01 10:00:00", dr="DB").fee("C4", "T", pric="50.00", time="2024-04-02 10:00:00", dr="DB")
    d.doctor("D82", "H1")
    for i in range(80):
        d.visit(f"E{i:03d}", f"PE{i}", "H1", begn="2024-03-01 08:00:00", dr="D82")
    d.visit("E080", "PE80", "Y1", med_type="41", begn="2024-03-01 08:00:00", dr="D82")  # 81st is a pharmacy fill: silent
    d.doctor("DM", "H2").doctor("DM", "H1")  # registered at two institutions (多点执业)
    d.visit("F1", "PF", "H2", begn="2024-03-05 09:00:00", dr="X")
    d.fee("F1", "T", pric="10.00", dr="DM")  # bills at the other institution of theirs: silent
    d.visit("F2", "PF", "H3", begn="2024-03-06 09:00:00", dr="X", hifp="50.00")
    d.fee("F2", "T", pric="10.00", dr="DM")  # bills where not registered: fires, keyed on the first registration
    df = run(d, tmp_path, "doctor_impossible_volume")
    assert keys(df) == [("H1", "D81", None, None)] + [("H1", "DB", None, None)] * 3 + [("H1", "DM", None, None)]
    assert json.loads(one(df, dr_code="DM")[0].evidence) == ["dr:DM", "fee:F2/1"]
    assert one(df, dr_code="DM")[0].amount_at_risk == D("5.00")
    r, ev = one(df, dr_code="D81")
    assert r.amount_at_risk == D("81.00") and len(ev) == 82 and "dr:D81" in ev
    borrowed = {tuple(json.loads(e)): a for e, a in df[df.dr_code == "DB"][["evidence", "amount_at_risk"]].itertuples(index=False)}
    # one finding per day, each with the lines billed under the borrowed code that day
    assert borrowed == {("dr:DB", "fee:C1/1"): D("4.56"), ("dr:DB", "fee:C4/1"): D("15.00"), ("dr:DB", "fee:C4/2"): D("25.00")}


def _panel_visits(d, dr, inst, n_panel, n_other, prefix):
    d.item("T1", "04").item("T2", "04").item("T3", "03").item("T4", "04")
    cats = ["I10.x00", "E11.900", "J06.900", "K29.700", "M54.500", "N39.000"]
    for i in range(n_panel + n_other):
        mid = f"{prefix}{i:02d}"
        d.visit(mid, f"P{prefix}{i}", inst, dise=cats[i % len(cats)], dr=dr, medfee="100.00", hifp="50.00")
        tests = ["T1", "T2", "T3"] if i < n_panel else ["T1", "T4"]
        for t in tests:
            d.fee(mid, t, pric="10.00")


def test_test_panel_uniformity(tmp_path):
    d = Claims()
    _panel_visits(d, "D1", "H1", 27, 3, "A")  # 27 of 30 = 90 %: fires
    _panel_visits(d, "D2", "H1", 26, 4, "B")  # 26 of 30: silent
    df = run(d, tmp_path, "test_panel_uniformity")
    assert keys(df) == [("H1", "D1", None, None)]
    r, ev = one(df, dr_code="D1")
    assert ev == sorted(f"mdtrt:A{i:02d}" for i in range(27))
    assert r.amount_at_risk == D("405.00")  # 27 visits x 3 tests x 10.00 x 0.5


def test_tcm_therapy_abuse(tmp_path):
    d = Claims()
    d.item("ACU", "05", tcm_therapy=True).item("GEN", "02")
    cats = ["I10", "E11.9", "J06.9", "K29.7", "M54.5", "N39.0"]
    for inst, n_tcm in (("C1", 30), ("C2", 29)):
        d.institution(inst, level="9")
        for i in range(50):
            mid = f"{inst}V{i:02d}"
            d.visit(mid, f"P{inst}{i}", inst, dise=cats[i % 6], medfee="100.00", hifp="60.00")
            d.fee(mid, "ACU" if i < n_tcm else "GEN", pric="20.00")
    d.institution("T2", level="2")  # a second-level (TCM) hospital: TCM therapy is its practice
    for i in range(50):
        d.visit(f"T2V{i:02d}", f"PT2{i}", "T2", dise=cats[i % 6], medfee="100.00", hifp="60.00")
        d.fee(f"T2V{i:02d}", "ACU", pric="20.00")
    df = run(d, tmp_path, "tcm_therapy_abuse")
    assert keys(df) == [("C1", None, None, None)]
    r, ev = one(df, fixmedins_code="C1")
    assert len(ev) == 31 and "medins:C1" in ev and "mdtrt:C1V29" in ev and "mdtrt:C1V30" not in ev
    assert r.amount_at_risk == D("360.00")  # 30 x 20.00 x 0.6
    everyone = run(d, tmp_path / "all", "tcm_therapy_abuse", basic_only=False)
    assert keys(everyone) == [("C1", None, None, None), ("T2", None, None, None)]


def test_duplicate_enrollment(tmp_path):
    d = Claims()
    d.person("P2", certno="C1").person("P1", certno="C1").person("P3", certno="C2").person("P4", certno="C2")
    d.spell("P2", "C1", "2020-01-01", "2023-12-31").spell("P1", "C1", "2023-12-31")  # one day in common: fires
    d.spell("P3", "C2", "2020-01-01", "2022-12-31").spell("P4", "C2", "2023-01-01")  # back to back: silent
    d.spell("P5", "C3", "2021-01-01", insutype="310").spell("P5", "C3", "2022-06-01", insutype="390")  # one number, two schemes
    d.person("P5", certno="C3")
    d.spell("P6", "C6", "2021-01-01").spell("P6", "C6", "2021-01-01")  # one spell sent twice: silent
    df = run(d, tmp_path, "duplicate_enrollment")
    assert keys(df) == [(None, None, "P1", None), (None, None, "P5", None)]
    r, ev = one(df, psn_no="P1")
    assert ev == ["insu:P1/2023-12-31", "insu:P2/2020-01-01"] and r.amount_at_risk == D("0.00")
    assert one(df, psn_no="P5")[1] == ["insu:P5/2021-01-01", "insu:P5/2022-06-01"]


# --- workbench rules: the library listed, and docs/rule-library.md generated from it -------------
def test_the_committed_rule_library_page_is_the_generated_one():
    from workbench.rules import listing

    page = (RULES_DIR.parents[1] / "docs" / "rule-library.md").read_text(encoding="utf-8")
    assert page == listing.markdown(LIB), "run: workbench rules --markdown > docs/rule-library.md"
    assert f"# The rule library (规则库): {len(LIB)} rules" in page
    for rid, r in LIB.items():  # every rule in the table and with a section, its defaults shown
        assert f"[`{rid}`](#{rid})" in page and f'<a id="{rid}"></a>' in page
        for name, p in r.params.items():
            assert f"`{name}`={json.dumps(p.default)}" in page


def test_workbench_rules_json_lists_every_rule_and_a_local_one(tmp_path, capsys):
    from workbench import cli

    assert cli.main(["rules", "--json"]) == 0
    got = {e["id"]: e for e in json.loads(capsys.readouterr().out)}
    assert set(got) == set(LIB)
    fo = got["frequent_outpatient"]
    assert (fo["official_code"], fo["tier"], fo["result_type"], fo["source"]) == (
        "GZ10000204002000", "management", "suspicious", "built-in")
    assert {n: p["default"] for n, p in fo["params"].items()} == {"window_days": 30, "max_visits": 12}
    assert got["claims_after_death"]["severity"] == "fraud" and got["claims_after_death"]["tables"] == ["mdtrt", "setl", "psn"]
    src = LIB["frequent_outpatient"].path.read_text(encoding="utf-8")
    (tmp_path / "bureau_frequent_outpatient.yaml").write_text(
        src.replace("id: frequent_outpatient", "id: bureau_frequent_outpatient"), encoding="utf-8")
    assert cli.main(["rules", "--json", "--rules-dir", str(tmp_path)]) == 0
    got = {e["id"]: e for e in json.loads(capsys.readouterr().out)}
    assert len(got) == len(LIB) + 1 and got["bureau_frequent_outpatient"]["source"] == "local"
    assert cli.main(["rules", "--rules-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.endswith(f"{len(LIB) + 1} rules\n") and "bureau_frequent_outpatient" in out
