"""``workbench reproduce``: identical on an untouched run, differences and the changed table otherwise."""
from __future__ import annotations

import io
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from ruledata import FIXTURE_ROOT
from workbench import cli, datafolder
from workbench.audit import audit
from workbench.cases import run_id
from workbench.reproduce import compare, reproduce, table_changes

# the four findings of the fixture library on the tiny data (tests/conftest.py)
READMISSION, AFTER_DEATH, FEE_M1, FEE_M2 = "081cb79e0764781d", "217b8c374347a15d", "3ab8e243312047b6", "cc86eeb705985f65"


def make_run(data, out, library=None) -> Path:
    """Audit ``data`` with the fixture rule library (or ``library``) into run folder ``out``."""
    audit(data, out, rules=str(library or FIXTURE_ROOT / "library"), progress=False, echo=io.StringIO())
    return Path(out)


def changed_copy(data, dest, table, where, values) -> Path:
    """A copy of a data folder with one table rewritten: ``values`` set on the rows ``where`` selects."""
    shutil.copytree(data, dest)
    df = pd.read_parquet(Path(dest) / f"{table}.parquet")
    rows = where(df)
    assert rows.sum() == 1
    for col, v in values.items():
        df[col] = df[col].astype(object)
        df.loc[rows, col] = v
    datafolder.write_table(dest, table, df)  # data_manifest.json is left stale on purpose
    return Path(dest)


@pytest.fixture(scope="module")
def run(tiny_data, tmp_path_factory):
    return make_run(tiny_data, tmp_path_factory.mktemp("runs") / "run")


def test_an_untouched_run_reproduces(run, tiny_data, capsys):
    r = reproduce(run, tiny_data)
    assert r.identical and r.findings == 4 and r.rules == 3 and r.tables == [] and len(r.differences) == 0
    assert r.report() == f"reproduced: 4 findings identical, 3 rules (duckdb, run {run_id(run)})"
    assert cli.main(["reproduce", str(run), "--data", str(tiny_data)]) == 0
    assert capsys.readouterr().out == r.report() + "\n"


def test_one_changed_fee_price_names_the_table_and_the_findings(run, tiny_data, tmp_path, capsys):
    data = changed_copy(tiny_data, tmp_path / "data", "fee",
                        lambda f: (f["mdtrt_id"] == "M2") & (f["feedetl_sn"] == "1"),
                        {"pric": Decimal("33.33"), "det_item_fee_sumamt": Decimal("33.33")})
    r = reproduce(run, data)
    assert not r.identical
    assert [(t["table"], t["change"], t["recorded_rows"], t["now_rows"]) for t in r.tables] == [("fee", "changed", 5, 5)]
    assert r.tables[0]["recorded"] == datafolder.read_manifest(tiny_data)["tables"]["fee"]["sha256"]
    assert r.tables[0]["now"] == datafolder.fingerprint(data / "fee.parquet")["sha256"]
    assert r.differences[["rule_id", "finding_id", "change"]].values.tolist() == [["fx_fee_share", FEE_M2, "missing"]]
    assert cli.main(["reproduce", str(run), "--data", str(data)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("NOT reproduced: 1 finding difference(s) (4 findings recorded, 3 rules")
    assert out[1:3] == ["  input tables changed since the run (SHA-256 recomputed):",
                        f"    fee: changed (sha256 {r.tables[0]['recorded'][:12]}… → {r.tables[0]['now'][:12]}…, rows 5 → 5)"]
    assert out[3] == "  rule fx_fee_share: 1 missing"
    assert out[4].split()[:3] == ["missing", FEE_M2, "H1"]


def test_a_changed_amount_and_a_moved_visit_date(run, tiny_data, tmp_path):
    fee = changed_copy(tiny_data, tmp_path / "fee", "fee", lambda f: (f["mdtrt_id"] == "M1") & (f["feedetl_sn"] == "1"),
                       {"pric": Decimal("160.05"), "det_item_fee_sumamt": Decimal("160.05")})
    d = reproduce(run, fee).differences
    # 160.05 × 700 / 1000 = 112.035 → 112.04, plus 200.00 × 0.7 = 140.00
    assert d.values.tolist() == [["fx_fee_share", FEE_M1, "changed", "amount_at_risk 245.04 → 252.04",
                                  "H1 P2 M1 ¥245.04 就诊M1有2条单项费用超过100.0元"]]
    # readmission 20 days after discharge instead of 5: beyond the 15-day window
    moved = changed_copy(tiny_data, tmp_path / "mdtrt", "mdtrt", lambda m: m["mdtrt_id"] == "M2",
                         {"begntime": pd.Timestamp("2024-01-25 09:00"), "endtime": pd.Timestamp("2024-01-27 09:00")})
    r = reproduce(run, moved)
    assert [t["table"] for t in r.tables] == ["mdtrt"]
    assert r.differences[["rule_id", "finding_id", "change"]].values.tolist() == [["fx_readmission", READMISSION, "missing"]]


def test_a_rule_whose_definition_changed_is_named(tiny_data, tmp_path):
    root = tmp_path / "rules"
    shutil.copytree(FIXTURE_ROOT, root)
    run = make_run(tiny_data, tmp_path / "run", library=root / "library")
    f = run / "rules" / "library" / "fx_fee_share.yaml"  # the run's own copy of the local rule
    f.write_text(f.read_text(encoding="utf-8").replace("name_zh: 单项费用过高（测试）", "name_zh: 单项费用过高"), encoding="utf-8")
    r = reproduce(run, tiny_data)
    assert len(r.differences) == 0 and not r.identical  # same findings, but not the rule that was run
    assert len(r.rule_problems) == 1 and r.rule_problems[0].startswith(
        "rule fx_fee_share: definition hash differs from the one recorded")
    assert "rule fx_fee_share: definition hash differs" in r.report()


def test_compare_lists_added_missing_and_changed():
    def f(fid, amount, rule="r"):
        return {"finding_id": fid, "rule_id": rule, "fixmedins_code": "H1", "dr_code": None, "psn_no": None,
                "mdtrt_id": None, "amount_at_risk": Decimal(amount), "evidence": '["medins:H1"]', "detail": "d"}

    old = pd.DataFrame([f("a", "1.00"), f("b", "2.00"), f("c", "3.00")])
    new = pd.DataFrame([f("a", "1.00"), f("c", "3.10"), f("d", "4.00", rule="q")])
    assert compare(old, new)[["rule_id", "finding_id", "change", "fields"]].values.tolist() == [
        ["q", "d", "added", ""], ["r", "c", "changed", "amount_at_risk 3.00 → 3.10"], ["r", "b", "missing", ""]]


def test_table_changes_recompute_fingerprints(run, tiny_data, tmp_path):
    data = tmp_path / "d"
    shutil.copytree(tiny_data, data)
    (data / "setl.parquet").unlink()
    from workbench import manifest

    assert [(t["table"], t["change"]) for t in table_changes(data, manifest.read(run))] == [("setl", "missing")]


def test_the_shipped_rule_library_on_a_small_random_region(tmp_path):
    """All rules of the library: reproduce, one price lowered, and an exported pack re-run elsewhere."""
    from ruledata import random_tables
    from workbench.export import export_pack

    data = tmp_path / "region"
    datafolder.write_data_folder(data, random_tables(seed=3, n_psn=90, n_visits=200), source={"kind": "test", "seed": 3})
    run = tmp_path / "run"
    m = audit(data, run, progress=False, echo=io.StringIO())
    assert m["counts"]["rules_run"] >= 28 and m["counts"]["findings"] > 100
    assert reproduce(run, data).identical
    found = pd.read_parquet(run / "findings.parquet")
    over = found[found["rule_id"] == "price_over_cap"].iloc[0]
    mdtrt_id, sn = [k for k in json.loads(over["evidence"]) if k.startswith("fee:")][0][4:].split("/")
    changed = changed_copy(data, tmp_path / "changed", "fee",
                           lambda f: (f["mdtrt_id"] == mdtrt_id) & (f["feedetl_sn"] == sn),
                           {"pric": Decimal("0.01"), "det_item_fee_sumamt": Decimal("0.01")})
    r = reproduce(run, changed)
    assert [t["table"] for t in r.tables] == ["fee"]
    assert over["finding_id"] in set(r.differences["finding_id"])
    pack = tmp_path / "pack.zip"
    export_pack(run, pack, institution=over["fixmedins_code"], home=tmp_path / "home")
    elsewhere = tmp_path / "elsewhere" / "copy"
    shutil.copytree(data, elsewhere)
    r = reproduce(pack, elsewhere)
    assert r.identical and r.findings == int((found["fixmedins_code"] == over["fixmedins_code"]).sum())


def test_reproduce_on_another_engine(run, tiny_data, spark):
    r = reproduce(run, tiny_data, engine="spark")
    assert r.identical and r.engine == "spark" and r.findings == 4
