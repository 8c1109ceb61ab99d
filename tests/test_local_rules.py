"""A bureau's own rules (issue 21, item 2): ``workbench audit --rules-dir DIR`` runs them beside
the library, the run keeps their files (reproduce and evidence packs work once DIR is gone),
the manifest says where each rule came from, and a broken folder is refused by file with
nothing written."""
from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml
from rule_data import Claims

from workbench import cli
from workbench.errors import RuleError
from workbench.reproduce import reproduce
from workbench.rules import local

BIG_VISIT = {
    "id": "bureau_costly_outpatient", "version": 1, "official_code": None,
    "name_zh": "门诊单次费用超地方上限", "name_en": "Outpatient visit above the regional cost limit",
    "tier": "management", "result_type": "suspicious", "stage": ["post"], "tables": ["mdtrt", "setl"],
    "params": {"factor": {"default": 1.0, "type": "float", "min": 0, "zh": "倍数", "en": "multiple of the limit"}},
    "basis": "《某市医疗保障局门诊费用监控办法》（测试）第三条。",
    "detail_zh": "就诊{mdtrt_id}医疗费用{medfee_sumamt}元，超过{med_type}类上限{limit_amt}元",
    "detail_en": "Visit {mdtrt_id} cost {medfee_sumamt}, above the limit {limit_amt} of type {med_type}",
    "sql": """
SELECT v.fixmedins_code, CAST(NULL AS VARCHAR) AS dr_code, v.psn_no, v.mdtrt_id,
       CAST(v.hifp_pay AS DECIMAL(18,2)) AS amount_at_risk, ['mdtrt:' || v.mdtrt_id] AS evidence,
       v.medfee_sumamt, v.med_type, k.limit_amt
FROM v_visit_fund AS v
JOIN k_bureau_visit_limit AS k ON k.med_type = v.med_type
WHERE NOT v.reversed AND v.medfee_sumamt > k.limit_amt * ${factor}
""",
}


def _write_dir(folder: Path, rule=None, knowledge=True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rule = rule or BIG_VISIT
    (folder / f"{rule['id']}.yaml").write_text(yaml.safe_dump(rule, allow_unicode=True, sort_keys=False), encoding="utf-8")
    if knowledge:
        (folder / "knowledge").mkdir(exist_ok=True)
        (folder / "knowledge" / "k_bureau_visit_limit.csv").write_text("med_type,limit_amt\n11,500\n", encoding="utf-8")
    return folder


@pytest.fixture()
def data(tmp_path):
    d = Claims()
    d.visit("M1", "P1", "H1", med_type="11", medfee="800.00", hifp="560.00")  # above 500: fires
    d.visit("M2", "P2", "H1", med_type="11", medfee="500.00", hifp="350.00")  # at the limit: silent
    d.visit("M3", "P3", "H1", med_type="21", medfee="9000.00", hifp="6000.00", end="2024-03-04")  # no limit for 21
    return d.write(tmp_path / "data")


def test_a_local_rule_runs_is_listed_as_local_and_reproduces_without_its_folder(tmp_path, data):
    rules_dir = _write_dir(tmp_path / "bureau")
    run = tmp_path / "run"
    assert cli.main(["audit", str(data), "--out", str(run), "--rules", "claims_after_death",
                     "--rules-dir", str(rules_dir), "--no-progress"]) == 0
    m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    entry = m["rules"]["bureau_costly_outpatient"]
    assert entry["source"] == "local" and entry["file"] == "rules/library/bureau_costly_outpatient.yaml"
    assert entry["findings"] == 1 and entry["amount_at_risk"] == "560.00"
    assert m["rules"]["claims_after_death"]["source"] == "built-in" and m["rules"]["claims_after_death"]["file"] is None
    assert str(tmp_path) not in json.dumps(m["rules"]) + json.dumps(m["support_files"])
    assert "knowledge/k_bureau_visit_limit.csv" in m["support_files"]
    assert (run / "rules" / "library" / "bureau_costly_outpatient.yaml").read_bytes() == \
        (rules_dir / "bureau_costly_outpatient.yaml").read_bytes()
    assert (run / "rules" / "knowledge" / "k_bureau_visit_limit.csv").is_file()
    import pandas as pd

    f = pd.read_parquet(run / "findings.parquet")
    assert list(f.mdtrt_id) == ["M1"] and "超过11类上限500元" in f.detail[0]

    shutil.rmtree(rules_dir)
    r = reproduce(run, data)
    assert r.identical and not r.rule_problems and not r.support and r.rules == 2, r.report()
    pack = tmp_path / "pack.zip"
    assert cli.main(["export", str(run), "--rule", "bureau_costly_outpatient", "--out", str(pack),
                     "--data", str(data), "--home", str(tmp_path / "home")]) == 0
    with zipfile.ZipFile(pack) as z:
        names = set(z.namelist())
    assert {"rules/library/bureau_costly_outpatient.yaml", "rules/knowledge/k_bureau_visit_limit.csv"} <= names
    r2 = reproduce(pack, data)
    assert r2.identical and not r2.rule_problems and not r2.support, r2.report()


@pytest.mark.parametrize("breakage, words", [
    ("missing_key", "missing key(s) basis"),
    ("clash", "already a built-in rule"),
    ("bad_column", "does not run on the contract's tables"),
    ("no_evidence", "returns no column evidence"),
    ("knowledge_clash", "already has knowledge/k_dx_sex.csv"),
])
def test_a_broken_local_rule_is_refused_by_file_and_nothing_is_written(tmp_path, data, breakage, words):
    rule = dict(BIG_VISIT)
    folder = tmp_path / "bureau"
    if breakage == "missing_key":
        del rule["basis"]
    elif breakage == "clash":
        rule["id"] = "ghost_bed"
    elif breakage == "bad_column":
        rule["sql"] = rule["sql"].replace("v.medfee_sumamt >", "v.medfee_total >")
    elif breakage == "no_evidence":
        rule["sql"] = rule["sql"].replace(", ['mdtrt:' || v.mdtrt_id] AS evidence", "")
    _write_dir(folder, rule)
    if breakage == "knowledge_clash":
        (folder / "knowledge" / "k_dx_sex.csv").write_text("code_from,code_to,gend\nA00,A00,1\n", encoding="utf-8")
    bad_file = folder / f"{rule['id']}.yaml"
    with pytest.raises(RuleError) as e:
        local.load_rules_dir(folder)
    assert words in str(e.value)
    assert str(bad_file) in str(e.value) or str(folder / "knowledge") in str(e.value)
    run = tmp_path / "run"
    assert cli.main(["audit", str(data), "--out", str(run), "--rules-dir", str(folder), "--no-progress"]) == 1
    assert not run.exists() and not list(tmp_path.glob("run*"))


def test_the_python_api_runs_a_local_folder(tmp_path, data):
    import workbench
    from workbench.rules import load_library, run_rules

    lib = {**load_library(), **local.load_rules_dir(_write_dir(tmp_path / "bureau"))}
    with workbench.open(data) as s:
        res = run_rules(s, ["bureau_costly_outpatient"], params={"bureau_costly_outpatient": {"factor": 1.5}},
                        library=lib, progress=False)
    assert list(res.findings.mdtrt_id) == ["M1"]  # 800 > 750
    with workbench.open(data) as s:
        res = run_rules(s, ["bureau_costly_outpatient"], params={"bureau_costly_outpatient": {"factor": 1.7}},
                        library=lib, progress=False)
    assert res.findings.empty  # 800 < 850
