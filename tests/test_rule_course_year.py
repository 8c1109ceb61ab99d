"""treatment_course_limit's per-year scope, on a region's own course table.

The shipped knowledge table lists per-stay limits only (单次住院最多支付14天), so the per-person,
per-calendar-year branch is checked the way a bureau would use it: a copy of the rule in a
``--rules-dir`` folder reading its own table with a ``year`` row.
"""
from __future__ import annotations

import json
from decimal import Decimal

import yaml
from rule_data import Claims

import workbench
from workbench.rules import load_library, local, run_rules

LIB = load_library()


def _bureau_dir(folder):
    rule = yaml.safe_load(LIB["treatment_course_limit"].path.read_text(encoding="utf-8"))
    rule["id"] = "bureau_course_year"
    rule["sql"] = rule["sql"].replace("k_drug_course_limit", "k_bureau_course_year")
    folder.mkdir(parents=True)
    (folder / "bureau_course_year.yaml").write_text(yaml.safe_dump(rule, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (folder / "knowledge").mkdir()
    (folder / "knowledge" / "k_bureau_course_year.csv").write_text(
        "med_list_codg,scope,max_days,name,source\nDR,year,20,测试药品,test\n", encoding="utf-8")
    return folder


def test_a_year_course_fires_on_the_visit_that_passes_it_with_the_later_visits_as_evidence(tmp_path):
    d = Claims()
    d.item("DR", chrgitm="09", max_daily_cnt=1)
    # P1: 10 + 8 + 6 + 5 days at two institutions: the third visit passes 20 (4 days over), the
    # fourth is all over; fund share 70 % of 1.00 a unit
    for k, (inst, month, cnt) in enumerate([("H1", 3, 10), ("H2", 4, 8), ("H1", 5, 6), ("H2", 6, 5)], 1):
        d.visit(f"A{k}", "P1", inst, med_type="11", begn=f"2024-{month:02d}-01 09:00:00", dise="I10")
        d.fee(f"A{k}", item="DR", cnt=cnt, pric="1.00")
    # P2: exactly 20 days; P3: 15 days in 2024 and 15 in 2025 (a new year, a new course)
    for k, (when, cnt) in enumerate([("2024-03-01", 12), ("2024-05-01", 8)], 1):
        d.visit(f"B{k}", "P2", "H1", med_type="11", begn=f"{when} 09:00:00", dise="I10")
        d.fee(f"B{k}", item="DR", cnt=cnt, pric="1.00")
    for k, when in enumerate(["2024-11-01", "2025-01-10"], 1):
        d.visit(f"C{k}", "P3", "H1", med_type="11", begn=f"{when} 09:00:00", dise="I10")
        d.fee(f"C{k}", item="DR", cnt=15, pric="1.00")
    lib = {**LIB, **local.load_rules_dir(_bureau_dir(tmp_path / "bureau"))}
    with d.open(tmp_path) as s:
        res = run_rules(s, ["bureau_course_year", "treatment_course_limit"], library=lib, progress=False)
    f = res.findings
    assert list(f.rule_id) == ["bureau_course_year"]  # the shipped table has no row for DR
    row = f.iloc[0]
    assert (row.psn_no, row.fixmedins_code, row.mdtrt_id) == ("P1", "H1", "A3")
    # A3: 4.20 x 4 / 6 = 2.80; A4: 3.50 x 5 / 5
    assert Decimal(str(row.amount_at_risk)) == Decimal("6.30")
    assert json.loads(row.evidence) == ["fee:A3/1", "fee:A4/1"]
    assert "29.0" in row.detail and "20" in row.detail
