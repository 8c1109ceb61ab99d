"""``workbench audit`` end to end: run folder files, manifest, evaluation, errors and exit codes."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ruledata import FIXTURE_LIBRARY, tiny_tables

from workbench import datafolder
from workbench.cli import main
from workbench.rules import LIBRARY_DIR, load_library

TRUTH = pd.DataFrame({
    "case_id": ["c1", "c2", "c3", "c4"],
    "scenario": ["split_stay", "claims_after_death", "split_stay", "collusion_ring"],
    "rule_id": ["fx_readmission", "fx_after_death", "fx_readmission", "rings"],
    "fixmedins_code": ["H1", "H2", "H1", None], "dr_code": [None] * 4,
    "psn_no": ["P2", "P1", "P3", "P1"], "mdtrt_id": ["M2", "M4", "M6", None],
    "members": [None, None, None, "P1;P2"], "detail": ["planted"] * 4,
})


@pytest.fixture(scope="module")
def synth_data(tmp_path_factory):
    """The tiny data with a truth table and a seed, as synthetic data has."""
    out = tmp_path_factory.mktemp("synthlike") / "data"
    datafolder.write_data_folder(out, tiny_tables(), source={"kind": "synthetic", "seed": 42, "scale": "tiny"}, truth=TRUTH)
    return out


def audit(*args):
    return main(["audit", *map(str, args), "--no-progress"])


def test_audit_writes_run_folder(tmp_path, synth_data, capsys):
    run = tmp_path / "run"
    cfg = tmp_path / "region.yaml"
    cfg.write_text("fx_readmission: {window_days: 20}\nfx_fee_share: {min_amount: 150}\n", encoding="utf-8")
    code = audit(synth_data, "--out", run, "--rules", FIXTURE_LIBRARY, "--config", cfg,
                 "--param", "fx_fee_share.min_amount=200")
    out = capsys.readouterr().out
    assert code == 0
    # a local library's rule files and support files are kept in the run (reproduce works without them)
    assert sorted(p.name for p in run.iterdir()) == ["evaluation.csv", "findings.csv", "findings.parquet", "manifest.json",
                                                     "rules"]
    assert (run / "rules" / "library" / "fx_readmission.yaml").read_bytes() == \
        (Path(FIXTURE_LIBRARY) / "fx_readmission.yaml").read_bytes()
    assert "skipped fx_stock: needs table(s) stock, which this data folder does not have" in out

    t = pq.read_table(run / "findings.parquet")
    assert t.schema.field("amount_at_risk").type == pa.decimal128(18, 2)
    assert t.schema.field("evidence").type == pa.string()
    rows = {(r["rule_id"], r["mdtrt_id"]): r for r in t.to_pylist()}
    assert set(rows) == {("fx_after_death", "M4"), ("fx_fee_share", "M2"), ("fx_readmission", "M2")}
    assert rows[("fx_fee_share", "M2")]["amount_at_risk"] == Decimal("209.52")
    assert json.loads(rows[("fx_readmission", "M2")]["evidence"]) == ["mdtrt:M1", "mdtrt:M2"]

    raw = (run / "findings.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    csv = pd.read_csv(run / "findings.csv", encoding="utf-8-sig", dtype=str)
    assert sorted(csv["amount_at_risk"]) == ["209.52", "440.00", "88.88"]
    assert "参保人P1于2024-03-01死亡" in " ".join(csv["detail"])

    m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert m["engine"] == "duckdb" and m["seed"] == 42 and m["kind"] == "audit"
    assert m["data"]["verified"] is True
    assert m["data"]["tables"]["fee"]["sha256"] == datafolder.fingerprint(synth_data / "fee.parquet")["sha256"]
    assert m["data"]["data_manifest_sha256"] == hashlib.sha256((synth_data / "data_manifest.json").read_bytes()).hexdigest()
    r = m["rules"]["fx_readmission"]
    assert r["version"] == 2
    assert r["definition_hash"] == hashlib.sha256((FIXTURE_LIBRARY / "fx_readmission.yaml").read_bytes()).hexdigest()
    assert (r["status"], r["findings"], r["amount_at_risk"]) == ("ran", 1, "440.00")
    assert m["rules"]["fx_stock"]["status"] == "skipped"
    assert m["skipped"] == {"fx_stock": "needs table(s) stock, which this data folder does not have"}
    # parameters: override over config over default
    assert m["params"] == {"fx_after_death": {"grace_days": 0}, "fx_fee_share": {"min_amount": 200.0},
                           "fx_readmission": {"window_days": 20, "same_diagnosis": True}, "fx_stock": {}}
    assert m["params_source"]["overrides"] == ["fx_fee_share.min_amount=200"]
    assert m["params_source"]["config"]["sha256"] == hashlib.sha256(cfg.read_bytes()).hexdigest()
    assert m["counts"] == {"findings": 3, "amount_at_risk": "738.40", "rules_run": 3, "rules_skipped": 1}
    assert m["outputs"]["findings.parquet"]["rows"] == 3
    assert m["outputs"]["findings.parquet"]["sha256"] == datafolder.sha256_file(run / "findings.parquet")
    assert "support_files" in m and "views/v_fx_visit_fund.sql" in m["support_files"]
    assert set(m["packages"]) >= {"workbench", "duckdb", "pyarrow", "pandas", "pyspark", "sqlglot", "python"}
    assert m["started"] <= m["ended"]

    # evaluation: c1 and c2 recalled, c3 (M6 at H1, no readmission) missed; rings is no rule here
    ev = pd.read_csv(run / "evaluation.csv").set_index("rule_id")
    assert ev.loc["fx_readmission", ["planted", "recalled", "findings", "confirmed"]].tolist() == [2, 1, 1, 1]
    assert ev.loc["fx_readmission", "recall"] == 0.5
    assert ev.loc["fx_after_death", ["recall", "precision"]].tolist() == [1.0, 1.0]
    assert ev.loc["fx_fee_share", "findings"] == 1 and pd.isna(ev.loc["fx_fee_share", "recall"])
    assert "rings" not in ev.index
    assert m["evaluation"][0]["rule_id"] == "fx_after_death"
    assert "evaluation against truth.parquet" in out and "fx_readmission" in out


def test_audit_is_reproducible_and_replaces_run_atomically(tmp_path, synth_data):
    run = tmp_path / "run"
    assert audit(synth_data, "--out", run, "--rules", FIXTURE_LIBRARY) == 0
    first = pq.read_table(run / "findings.parquet")
    assert audit(synth_data, "--out", run, "--rules", f"{FIXTURE_LIBRARY / 'fx_after_death.yaml'}") == 0
    second = pq.read_table(run / "findings.parquet")
    assert second.column("rule_id").to_pylist() == ["fx_after_death"]
    assert second.column("finding_id").to_pylist() == [
        f for f, r in zip(first.column("finding_id").to_pylist(), first.column("rule_id").to_pylist()) if r == "fx_after_death"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run")]


def test_audit_errors_exit_1_and_write_nothing(tmp_path, synth_data, capsys):
    run = tmp_path / "run"
    assert audit(synth_data, "--out", run, "--rules", FIXTURE_LIBRARY, "--param", "fx_readmission.window=3") == 1
    assert "rule fx_readmission has no parameter 'window'" in capsys.readouterr().err
    assert audit(synth_data, "--out", run, "--rules", FIXTURE_LIBRARY, "--param", "fx_readmission.window_days=soon") == 1
    assert "parameter window_days expects int" in capsys.readouterr().err
    assert audit(synth_data, "--out", run, "--rules", "no_such_rule_at_all") == 1
    assert "unknown rule 'no_such_rule_at_all'" in capsys.readouterr().err
    assert audit(tmp_path / "nowhere", "--out", run, "--rules", FIXTURE_LIBRARY) == 1
    assert not run.exists()


def test_audit_refuses_data_that_changed_since_its_manifest(tmp_path, synth_data, capsys):
    data = tmp_path / "data"
    shutil.copytree(synth_data, data)
    t = tiny_tables()
    t["psn"].loc[0, "death_date"] = None
    datafolder.write_table(data, "psn", t["psn"])
    assert audit(data, "--out", tmp_path / "run", "--rules", FIXTURE_LIBRARY) == 1
    assert "psn: sha256 differs from the manifest" in capsys.readouterr().err


@pytest.mark.skipif(not LIBRARY_DIR.is_dir() or not any(LIBRARY_DIR.glob("*.yaml")), reason="no shipped rule library yet")
def test_audit_with_the_shipped_library(tmp_path, tiny_data, capsys):
    library = load_library()
    run = tmp_path / "run"
    assert audit(tiny_data, "--out", run) == 0
    m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert set(m["rules"]) == set(library)
    # every rule whose declared tables are present runs (a rule that reads a view needing an
    # undeclared table would be skipped "through view ...": its `tables` would be incomplete)
    assert {rid for rid, r in m["rules"].items() if r["status"] == "ran"} == {
        rid for rid, r in library.items() if set(r.tables) <= {"psn", "medins", "mdtrt", "setl", "fee"}}
    for rid, r in m["rules"].items():
        assert r["definition_hash"] == library[rid].definition_hash
        if "list" in library[rid].tables:
            assert r["skipped_reason"].startswith("needs table(s) list")
    t = pq.read_table(run / "findings.parquet")
    assert t.num_rows == m["counts"]["findings"]
    assert "evaluation.csv" not in [p.name for p in run.iterdir()]


def test_sweep_reports_recall_on_synthetic_data(synth_data):
    import workbench
    from workbench.rules import sweep

    lib = load_library(FIXTURE_LIBRARY)
    with workbench.open(synth_data) as s:
        got = sweep(s, lib["fx_readmission"], "window_days", [0, 5, 30])
    # c1 (M2, gap 5 days) is recalled from window 5 on; c3 (M6) never is
    assert got["recall"].tolist() == [0.0, 0.5, 0.5]
    assert got["findings"].tolist() == [0, 1, 1]
    assert [str(a) for a in got["amount_at_risk"]] == ["0.00", "440.00", "440.00"]


def test_every_rule_of_the_library_recalls_every_planted_case_of_the_demo(demo_run):
    ev = pd.read_csv(demo_run / "evaluation.csv").set_index("rule_id")
    from workbench.rules import load_library

    assert set(load_library()) <= set(ev.index)
    for rid in load_library():
        row = ev.loc[rid]
        assert row["planted"] > 0, f"{rid}: nothing planted"
        assert row["recall"] == 1.0, f"{rid}: recall {row['recall']} ({row['recalled']} of {row['planted']})"
        assert row["precision"] == 1.0, f"{rid}: precision {row['precision']} ({row['confirmed']} of {row['findings']})"


def test_a_sigkilled_audit_leaves_only_a_private_partial_folder_that_the_next_run_removes(tmp_path, synth_data):
    """Issue 23: a SIGKILLed audit left a hidden ``.RUN.partial-*`` folder of findings (personal data)."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    run = tmp_path / "run"
    # a real audit, held inside its staged folder once the findings are written (the window is
    # otherwise a few milliseconds), then SIGKILLed
    code = ("import sys, time; import workbench.audit as a; w = a._manifest.write\n"
            "def slow(path, m):\n    w(path, m); print('written', flush=True); time.sleep(600)\n"
            "a._manifest.write = slow\n"
            f"a.audit({str(synth_data)!r}, {str(run)!r}, progress=False)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    try:
        line = ""
        deadline = time.monotonic() + 300
        while "written" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "the audit ended before writing its run"
        partial = [p for p in tmp_path.iterdir() if p.name.startswith(".run.partial-")]
        assert len(partial) == 1 and (partial[0] / "findings.parquet").is_file()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    stale = partial[0]
    assert stale.is_dir() and stale.stat().st_mode & 0o777 == 0o700  # only its owner could read it
    assert not run.exists()
    assert audit(str(synth_data), "--out", str(run)) == 0
    assert not stale.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert (run / "findings.parquet").is_file()
