"""Evidence packs: contents, masking, decisions, the report, and re-running a pack elsewhere."""
from __future__ import annotations

import hashlib
import io
from decimal import Decimal
import json
from pathlib import Path
import shutil
import zipfile

import openpyxl
import pandas as pd
import pytest

from test_reproduce import AFTER_DEATH, FEE_M1, FEE_M2, READMISSION, changed_copy, make_run
from workbench import cli
from workbench.cases import CaseStore, run_id
from workbench.errors import DataFolderError, ReproduceError, RuleError, WorkbenchError
from workbench.export import export_pack
from workbench.reproduce import reproduce


@pytest.fixture(scope="module")
def run(tiny_data, tmp_path_factory):
    return make_run(tiny_data, tmp_path_factory.mktemp("runs") / "run")


@pytest.fixture
def home(tmp_path, run):
    store = CaseStore(tmp_path / "home")
    from workbench.cases import finding_snapshot

    store.decide(FEE_M1, "confirmed", "张三", note="=HYPERLINK(\"x\")", recovered="105.04", actions=["suspend"],
                 fine="2000", finding=finding_snapshot(run, FEE_M1))
    store.decide(AFTER_DEATH, "dismissed", "李四", note="家属代办")
    return store.home


def _read(pack, name):
    with zipfile.ZipFile(pack) as z:
        return z.read(name)


def _csv(pack, name):
    return pd.read_csv(io.BytesIO(_read(pack, name)), dtype=str, encoding="utf-8-sig", keep_default_na=False)


BUILT_IN = Path(cli.__file__).parent / "rules"


def test_pack_of_one_institution(run, home, tmp_path, capsys):
    pack = tmp_path / "h1.zip"
    assert cli.main(["export", str(run), "--out", str(pack), "--institution", "H1", "--home", str(home)]) == 0
    assert capsys.readouterr().out.startswith(
        f"wrote {pack}: 3 findings, ¥894.56 at risk, evidence rows: fee 3, mdtrt 2, 1 decision event(s), 4 rules; "
        "personal data masked")
    with zipfile.ZipFile(pack) as z:
        names = sorted(z.namelist())
    assert names == sorted([
        "pack.json", "run/manifest.json", "findings.parquet", "findings.csv", "evidence/fee.parquet", "evidence/fee.csv",
        "evidence/mdtrt.parquet", "evidence/mdtrt.csv", "evidence/keys.csv", "rules/basis.csv",
        *[f"rules/library/{r}.yaml" for r in ("fx_after_death", "fx_fee_share", "fx_readmission", "fx_stock")],
        "rules/views/v_fx_visit_fund.sql", "rules/knowledge/k_fx_sex.csv",
        # the run read every view and knowledge table of the built-in library beside the fixture's
        *[f"rules/views/{f.name}" for f in BUILT_IN.glob("views/*.sql")],
        *[f"rules/knowledge/{f.name}" for f in BUILT_IN.glob("knowledge/*.csv")],
        "decisions.csv", "decisions.jsonl", "report.html", "report.xlsx"])
    meta = json.loads(_read(pack, "pack.json"))
    assert meta["selection"] == {"rule": None, "institution": "H1", "finding_ids": None}
    assert meta["counts"] == {"findings": 3, "amount_at_risk": "894.56", "evidence_rows": {"fee": 3, "mdtrt": 2},
                              "decisions": 1}
    assert meta["run"]["run_id"] == run_id(run) and meta["pii"]["included"] is False
    for name, digest in meta["files"].items():  # every file is fingerprinted
        assert hashlib.sha256(_read(pack, name)).hexdigest() == digest
    assert _read(pack, "run/manifest.json") == (run / "manifest.json").read_bytes()
    recorded = json.loads((run / "manifest.json").read_text(encoding="utf-8"))["rules"]["fx_fee_share"]
    assert hashlib.sha256(_read(pack, "rules/library/fx_fee_share.yaml")).hexdigest() == recorded["definition_hash"]
    f = _csv(pack, "findings.csv")
    assert list(f["finding_id"]) == [READMISSION, FEE_M1, FEE_M2] and list(f["amount_at_risk"]) == ["440.00", "245.04", "209.52"]
    fee = _csv(pack, "evidence/fee.csv")
    assert fee[["evidence_key", "finding_ids", "pric"]].values.tolist() == [
        ["fee:M1/1", FEE_M1, "150.05"], ["fee:M1/2", FEE_M1, "100.00"], ["fee:M2/1", FEE_M2, "333.33"]]
    assert pd.read_parquet(io.BytesIO(_read(pack, "evidence/fee.parquet")))["pric"].tolist() == [
        Decimal(x) for x in ("150.05", "100.00", "333.33")]
    dec = _csv(pack, "decisions.csv")  # the decision on the H1 finding, not the one on H2's
    assert dec[["seq", "finding_id", "status", "recovered", "actions", "fine"]].values.tolist() == [
        ["1", FEE_M1, "confirmed", "105.04", "suspend;fine", "2000.00"]]


def test_pack_masks_personal_data_unless_asked(run, home, tmp_path):
    masked = tmp_path / "death.zip"
    export_pack(run, masked, rule="fx_after_death", home=home)
    psn = _csv(masked, "evidence/psn.csv")
    assert psn[["evidence_key", "finding_ids", "certno", "brdy"]].values.tolist() == [
        ["psn:P1", AFTER_DEATH, "*" * 18, "1950-**-**"]]
    meta = json.loads(_read(masked, "pack.json"))
    assert meta["pii"]["mode"] == "masked" and meta["pii"]["masked_columns"] == ["brdy", "certno", "dr_name", "inspector_name", "psn_name"]
    assert meta["pii"]["policy"]["brdy"] == "year" and "出生日期仅留年份" in _read(masked, "report.html").decode("utf-8")
    open_pack = tmp_path / "death-pii.zip"
    meta = export_pack(run, open_pack, rule="fx_after_death", include_pii=True, requested_by="稽核科 王五", home=home)
    assert meta["pii"] == {"included": True, "mode": "included", "requested_by": "稽核科 王五", "masked_columns": [],
                           "policy": {}}
    assert _csv(open_pack, "evidence/psn.csv")["certno"].tolist() == ["370102195001011234"]
    assert "稽核科 王五" in _read(open_pack, "report.html").decode("utf-8")
    assert meta["rules"] == ["fx_after_death"]
    assert json.loads(_read(open_pack, "pack.json"))["pii"]["requested_by"] == "稽核科 王五"


def test_pack_of_one_case_carries_its_decisions_and_report(run, home, tmp_path):
    pack = tmp_path / "case.zip"
    meta = export_pack(run, pack, finding_ids=[FEE_M1], home=home)
    assert meta["rules"] == ["fx_fee_share"] and meta["selection"]["finding_ids"] == [FEE_M1]
    store = CaseStore(home)
    events = [json.loads(line) for line in _read(pack, "decisions.jsonl").decode("utf-8").splitlines()]
    assert events == store.events([FEE_M1])
    assert meta["case_store"]["head_hash"] == store.verify().head_hash and meta["case_store"]["intact"]
    page = _read(pack, "report.html").decode("utf-8")
    for zh, en in [("一、概要", "1. Summary"), ("二、发现", "2. Findings (1)"), ("三、证据", "3. Evidence"),
                   ("四、规则与政策依据", "4. Rules and policy basis"), ("五、处理决定", "5. Decisions"),
                   ("六、复现", "6. How to reproduce")]:
        assert f"<h2>{zh}</h2>" in page and f"<p class='en'>{en}" in page
    assert "确认违规 confirmed" in page and "罚款" in page and "&lt;" not in page.split("<body>")[0]
    wb = openpyxl.load_workbook(io.BytesIO(_read(pack, "report.xlsx")))
    assert wb.sheetnames == ["概要 Summary", "发现 Findings", "证据 费用明细 fee", "规则 Rules", "处理决定 Decisions"]
    ws = wb["发现 Findings"]
    assert ws["A2"].value == FEE_M1 and float(ws["I2"].value) == 245.04 and ws["I2"].number_format == "0.00"
    d = wb["处理决定 Decisions"]
    assert d["F2"].value == '=HYPERLINK("x")' and d["F2"].data_type == "s"  # text, never a formula
    assert wb["规则 Rules"]["I2"].value == "测试用规则。"


def test_a_pack_reruns_on_a_copy_of_the_data_elsewhere(run, home, tiny_data, tmp_path, capsys):
    pack = tmp_path / "all.zip"
    export_pack(run, pack, home=home)
    elsewhere = tmp_path / "firm" / "their-copy"
    shutil.copytree(tiny_data, elsewhere)
    r = reproduce(pack, elsewhere)
    assert r.identical and r.kind == "pack" and r.findings == 4
    assert cli.main(["reproduce", str(pack), "--data", str(elsewhere)]) == 0
    assert capsys.readouterr().out.startswith("reproduced: 4 findings identical, 3 rules (duckdb, run ")
    # one institution's pack on changed data: only that institution's findings are compared
    h1 = tmp_path / "h1.zip"
    export_pack(run, h1, institution="H1", home=home)
    changed = changed_copy(tiny_data, tmp_path / "changed", "fee", lambda f: (f["mdtrt_id"] == "M2") & (f["feedetl_sn"] == "1"),
                           {"pric": Decimal("33.33"),
                            "det_item_fee_sumamt": Decimal("33.33")})
    r = reproduce(h1, changed)
    assert r.differences[["finding_id", "change"]].values.tolist() == [[FEE_M2, "missing"]]
    assert [t["table"] for t in r.tables] == ["fee"]


def test_the_pack_runs_its_own_rule_files(home, tiny_data, tmp_path):
    """The pack carries the rules, views and knowledge: re-run where the rule library is gone."""
    from ruledata import FIXTURE_ROOT

    root = tmp_path / "regional-rules"
    shutil.copytree(FIXTURE_ROOT, root)
    run = make_run(tiny_data, tmp_path / "run", library=root / "library")
    pack = tmp_path / "p.zip"
    export_pack(run, pack, rule="fx_readmission", home=home)
    assert "SUM(hifp_pay)" in _read(pack, "rules/views/v_fx_visit_fund.sql").decode()
    shutil.rmtree(root)  # another machine: no regional library, no v_fx_visit_fund view
    r = reproduce(pack, tiny_data)
    assert r.identical and r.findings == 1 and r.rules == 1
    r = reproduce(run, tiny_data)  # the run folder keeps its local rules' files too
    assert r.identical and not r.rule_problems and not r.support, r.report()
    (run / "rules" / "library" / "fx_readmission.yaml").unlink()  # without its copy it cannot
    r = reproduce(run, tiny_data)
    assert not r.identical and "rule fx_readmission: no rule file found" in r.report()


def test_an_altered_pack_is_refused(run, home, tiny_data, tmp_path):
    pack = tmp_path / "p.zip"
    export_pack(run, pack, rule="fx_fee_share", home=home)
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "rules/library/fx_fee_share.yaml":
                data = data.replace(b"default: 100.0", b"default: 300.0")
            dst.writestr(item, data)
    with pytest.raises(ReproduceError, match="rules/library/fx_fee_share.yaml was altered"):
        reproduce(bad, tiny_data)


def test_export_refuses_changed_data_unknown_ids_and_changed_rules(run, home, tiny_data, tmp_path):
    changed = changed_copy(tiny_data, tmp_path / "changed", "fee", lambda f: (f["mdtrt_id"] == "M1") & (f["feedetl_sn"] == "1"),
                           {"cnt": 3.0})
    with pytest.raises(DataFolderError, match="fee changed"):
        export_pack(run, tmp_path / "x.zip", data=changed, home=home)
    with pytest.raises(WorkbenchError, match="no finding nope"):
        export_pack(run, tmp_path / "x.zip", finding_ids=["nope"], home=home)
    with pytest.raises(RuleError, match="not among the rules"):
        export_pack(run, tmp_path / "x.zip", rule="no_such_rule", home=home)
    assert not (tmp_path / "x.zip").exists()
    from ruledata import FIXTURE_ROOT

    root = tmp_path / "lib"
    shutil.copytree(FIXTURE_ROOT, root)
    run2 = make_run(tiny_data, tmp_path / "run2", library=root / "library")
    kept = run2 / "rules" / "library" / "fx_stock.yaml"  # the run's copy of the local rule
    kept.write_text(kept.read_text() + "\n# edited\n")
    with pytest.raises(RuleError, match="rule fx_stock: no file with the definition the run recorded"):
        export_pack(run2, tmp_path / "y.zip", home=home)


def _tampered_copy(run, dest, times=100):
    """A copy of a run folder with one finding's amount x ``times`` in findings.parquet."""
    from workbench.audit import findings_table
    from workbench.reproduce import read_findings

    import pyarrow.parquet as pq

    shutil.copytree(run, dest)
    f = read_findings(dest / "findings.parquet")
    f.loc[f["finding_id"] == FEE_M1, "amount_at_risk"] = f.loc[f["finding_id"] == FEE_M1, "amount_at_risk"] * times
    pq.write_table(findings_table(f), dest / "findings.parquet")
    return dest


def test_a_tampered_run_is_refused_by_export_decisions_and_dashboards(run, tmp_path, capsys):
    from workbench.briefing import Briefing
    from workbench.errors import RunTampered
    from workbench.providers import read_findings as provider_findings
    from workbench.queue import FindingsQueue

    bad = _tampered_copy(run, tmp_path / "bad")
    assert read_findings_amount(bad, FEE_M1) == Decimal("24504.00")
    out = tmp_path / "out" / "pack.zip"
    with pytest.raises(RunTampered, match=r"bad/findings.parquet was changed after the run wrote it"):
        export_pack(bad, out, home=tmp_path / "home")
    assert cli.main(["export", str(bad), "--out", str(out), "--home", str(tmp_path / "home")]) == 1
    assert "findings.parquet was changed" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "out").exists()  # nothing written
    home = tmp_path / "home"
    assert cli.main(["case", "decide", FEE_M1, "--status", "confirmed", "--by", "张三", "--run", str(bad),
                     "--home", str(home)]) == 1
    assert "findings.parquet was changed" in capsys.readouterr().err
    assert len(CaseStore(home).current()) == 0  # no decision recorded
    # the dashboards' loading paths: findings queue, briefing, providers
    for load in (lambda: FindingsQueue(bad, home=home), lambda: Briefing(bad, home=home),
                 lambda: provider_findings(bad)):
        with pytest.raises(RunTampered, match="findings.parquet"):
            load()
    # the same run untouched still opens and decides
    assert len(FindingsQueue(run, home=home)) == 4
    assert cli.main(["case", "decide", FEE_M1, "--status", "confirmed", "--by", "张三", "--run", str(run),
                     "--home", str(home)]) == 0
    # a changed findings.csv and a missing one are named too
    csv_changed = tmp_path / "csv"
    shutil.copytree(run, csv_changed)
    (csv_changed / "findings.csv").write_text("finding_id\n", encoding="utf-8")
    with pytest.raises(RunTampered, match="csv/findings.csv was changed"):
        export_pack(csv_changed, out, home=home)
    (csv_changed / "findings.csv").unlink()
    with pytest.raises(RunTampered, match="findings.csv: missing"):
        FindingsQueue(csv_changed, home=home)
    # a manifest without the fingerprint (hand-made, or edited to dodge the check) is refused too
    stripped = _tampered_copy(run, tmp_path / "stripped")
    m = json.loads((stripped / "manifest.json").read_text(encoding="utf-8"))
    del m["outputs"]
    (stripped / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(RunTampered, match="records no SHA-256 of findings.parquet.*re-run workbench audit"):
        export_pack(stripped, out, home=home)
    assert cli.main(["case", "decide", FEE_M2, "--status", "open", "--by", "张三", "--run", str(stripped),
                     "--home", str(home)]) == 1
    with pytest.raises(RunTampered, match="records no SHA-256"):
        FindingsQueue(stripped, home=home)
    assert not out.exists()


def read_findings_amount(run, finding_id):
    from workbench.reproduce import read_findings

    f = read_findings(run / "findings.parquet")
    return f.loc[f["finding_id"] == finding_id, "amount_at_risk"].iloc[0]
