"""The Spark engine gives the same findings as DuckDB: ids, amounts, evidence and detail.

Slow (a Spark session starts once per test run, then every rule runs on both engines), so the
tests are few and share the session-scoped ``spark`` fixture.
"""
from __future__ import annotations

import json
import os
import time

import pandas as pd
import pytest
import yaml
from ruledata import FIXTURE_LIBRARY, tiny_tables

import workbench
from workbench import datafolder
from workbench.cli import main
from workbench.rules import LIBRARY_DIR, load_library, run_rules

pytestmark = pytest.mark.spark


def _synth_demo(out) -> bool:
    """Write ``workbench synth --scale demo --seed 7`` into ``out``."""
    return main(["synth", "--scale", "demo", "--seed", "7", "--out", str(out), "--no-progress"]) == 0


@pytest.fixture(scope="module")
def region(tmp_path_factory, random_region):
    """A small random region on which every rule of the library finds something.

    ``WORKBENCH_SPARK_DEMO=1`` compares on the synthetic demo region instead (84k visits:
    several minutes of Spark on two cores, too slow for every test run).
    """
    if os.environ.get("WORKBENCH_SPARK_DEMO") == "1":
        out = tmp_path_factory.mktemp("spark") / "data"
        if _synth_demo(out):
            return out
    return random_region


def _library():
    lib = dict(load_library(FIXTURE_LIBRARY))
    if LIBRARY_DIR.is_dir():
        lib.update(load_library())
    return lib


def _assert_same(duck, spark_res):
    a, b = duck.findings, spark_res.findings
    assert len(a) == len(b)
    pd.testing.assert_frame_equal(a, b)
    assert duck.skipped == spark_res.skipped
    assert {k: (v["findings"], v["amount_at_risk"]) for k, v in duck.counts.items()} == \
           {k: (v["findings"], v["amount_at_risk"]) for k, v in spark_res.counts.items()}


def test_every_rule_same_findings_on_spark_and_duckdb(spark, region):
    lib = _library()
    with workbench.open(region) as s:
        duck = run_rules(s, lib, progress=False, library=lib)
        on_spark = run_rules(s, lib, progress=False, library=lib, engine="spark")
    _assert_same(duck, on_spark)
    # the comparison means something only if (nearly) every rule found something
    without_hits = [rid for rid, c in duck.counts.items() if not c["findings"]]
    assert len(without_hits) <= 2, without_hits


EDGE_RULE = {
    "id": "fx_edges", "version": 1, "official_code": None, "name_zh": "边界（测试）", "name_en": "Edge cases (test)",
    "tier": "management", "result_type": "suspicious", "stage": ["post"], "tables": ["mdtrt", "fee", "setl"],
    "params": {"ratio": {"default": 0.7, "type": "float", "min": 0, "max": 1}},
    "basis": "测试用规则。",
    "detail_zh": "{mdtrt_id}: 天数{days} 周{weeks} 月{months} 年{years} 比例{share} 首笔{first_time} 项目{codes} 中位数{med} 周几{isodow}/{dow}",
    "detail_en": "{mdtrt_id}: {days} {weeks} {months} {years} {share} {first_time} {codes} {med} {isodow} {dow}",
    "sql": """
WITH lines AS (
  SELECT f.mdtrt_id, f.feedetl_sn, f.med_list_codg, f.fee_ocur_time, f.det_item_fee_sumamt,
         CASE WHEN f.feedetl_sn = '2' THEN NULL ELSE f.med_list_codg END AS maybe_code
  FROM fee f
)
SELECT m.fixmedins_code, CAST(NULL AS VARCHAR) AS dr_code, m.psn_no, m.mdtrt_id,
       CAST(SUM(ROUND(l.det_item_fee_sumamt * ${ratio}, 2)) AS DECIMAL(18,2)) AS amount_at_risk,
       ARRAY_AGG('fee:' || l.mdtrt_id || '/' || l.feedetl_sn) AS evidence,
       MAX(DATE_DIFF('day', m.begntime, m.endtime)) AS days,
       MAX(DATE_DIFF('week', m.begntime, m.endtime + INTERVAL 20 DAY)) AS weeks,
       MAX(DATE_DIFF('month', m.begntime, m.endtime)) AS months,
       MAX(DATE_DIFF('year', DATE '2020-12-31', m.endtime)) AS years,
       ROUND(SUM(l.det_item_fee_sumamt) / 3, 3) AS share,
       CAST(MIN(l.fee_ocur_time) AS TIMESTAMP) AS first_time,
       ARRAY_AGG(l.maybe_code ORDER BY l.fee_ocur_time, l.feedetl_sn) AS codes,
       MEDIAN(l.det_item_fee_sumamt) AS med,
       MAX(ISODOW(m.begntime)) AS isodow,
       MAX(DAYOFWEEK(m.endtime)) AS dow
FROM lines l JOIN mdtrt m USING (mdtrt_id)
GROUP BY m.fixmedins_code, m.psn_no, m.mdtrt_id
""",
}


@pytest.fixture()
def china_time(monkeypatch):
    """The Python process in Asia/Shanghai (PySpark converts zoned timestamps to local time)."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_type_edges_and_audit_cli_on_spark(spark, tmp_path, china_time):
    """Half-cent rounding, day boundaries across midnight, nulls in arrays, ordered arrays,
    medians, days of the week and timestamps come out the same — on a machine set to China's time zone too —
    and ``workbench audit --engine spark`` works."""
    assert time.localtime(0).tm_hour == 8
    lib_dir = tmp_path / "lib"
    lib_dir.mkdir()
    (lib_dir / "fx_edges.yaml").write_text(yaml.safe_dump(EDGE_RULE, allow_unicode=True, sort_keys=False), encoding="utf-8")
    data = tmp_path / "data"
    datafolder.write_data_folder(data, tiny_tables(), source={"kind": "test"})
    lib = {**load_library(lib_dir), **load_library(FIXTURE_LIBRARY)}
    with workbench.open(data) as s:
        duck = run_rules(s, lib, progress=False, library=lib)
        on_spark = run_rules(s, lib, progress=False, library=lib, engine="spark")
    _assert_same(duck, on_spark)
    edge = duck.findings[duck.findings.rule_id == "fx_edges"].set_index("mdtrt_id")
    # 150.05 x 0.7 = 105.035 -> 105.04; 200 x 0.7 = 140; 50 x 0.7 = 35
    assert str(edge.loc["M1", "amount_at_risk"]) == "280.04"
    assert edge.loc["M1", "detail_en"] == "M1: 4 3 0 4 133.350 2024-01-02 09:00:00 X001, —, X003 150.05 1 5"  # Monday 1 (ISO), Friday 5 (from Sunday 0)

    for engine in ("duckdb", "spark"):
        run = tmp_path / f"run_{engine}"
        assert main(["audit", str(data), "--out", str(run), "--rules", f"{lib_dir},{FIXTURE_LIBRARY}",
                     "--engine", engine, "--no-progress"]) == 0
    md = json.loads((tmp_path / "run_duckdb" / "manifest.json").read_text(encoding="utf-8"))
    ms = json.loads((tmp_path / "run_spark" / "manifest.json").read_text(encoding="utf-8"))
    assert (md["engine"], ms["engine"]) == ("duckdb", "spark")
    assert md["rules"]["fx_edges"]["findings"] == ms["rules"]["fx_edges"]["findings"] == 3
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "run_duckdb" / "findings.parquet"),
                                  pd.read_parquet(tmp_path / "run_spark" / "findings.parquet"))



def test_spark_conf_leaves_sizing_to_a_cluster(monkeypatch):
    from workbench.sql.spark import SPARK_CONF, spark_conf

    monkeypatch.delenv("WORKBENCH_SPARK_MASTER", raising=False)
    assert spark_conf() == SPARK_CONF and spark_conf()["spark.master"] == "local[2]"
    monkeypatch.setenv("WORKBENCH_SPARK_MASTER", "spark://head:7077")
    conf = spark_conf()
    assert conf["spark.master"] == "spark://head:7077"
    assert "spark.sql.shuffle.partitions" not in conf and "spark.driver.memory" not in conf
    assert conf["spark.sql.session.timeZone"] == "UTC"
    monkeypatch.setenv("WORKBENCH_SPARK_MASTER", "submit")
    assert "spark.master" not in spark_conf()


def test_the_cluster_recipe_runs_under_spark_submit(tiny_data, tmp_path):
    """README's recipe, for real: spark-submit (local master standing in for a cluster) runs the
    audit through scripts/spark_submit_workbench.py and finds what DuckDB finds."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    submit = Path(sys.executable).parent / "spark-submit"
    if not submit.exists():
        submit = shutil.which("spark-submit")
    assert submit, "pyspark ships spark-submit"
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    env.pop("WORKBENCH_SPARK_MASTER", None)
    r = subprocess.run([str(submit), "--master", "local[1]", "--conf", "spark.ui.enabled=false",
                        str(root / "scripts" / "spark_submit_workbench.py"), "audit", str(tiny_data),
                        "--out", str(tmp_path / "spark"), "--engine", "spark", "--no-progress"],
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert main(["audit", str(tiny_data), "--out", str(tmp_path / "duck"), "--no-progress"]) == 0
    spark_manifest = json.loads((tmp_path / "spark" / "manifest.json").read_text())
    assert spark_manifest["engine"] == "spark"
    a = pd.read_parquet(tmp_path / "duck" / "findings.parquet")
    b = pd.read_parquet(tmp_path / "spark" / "findings.parquet")
    assert len(a) > 0
    pd.testing.assert_frame_equal(a, b)


def test_absent_optional_table_and_refund_pairs_same_on_spark(spark, tmp_path):
    """No list_incl (read as empty by duplicate_billing, split_billing skipped) and refunds
    dated days after their charge (v_fee_refund): the same findings on both engines."""
    from rule_data import Claims

    t = "2024-03-01 10:00:00"
    d = Claims()
    d.item("T", "05", max_daily_cnt=2)
    for m, p in (("M1", "P1"), ("M2", "P2")):
        d.visit(m, p, "H1", med_type="21", begn="2024-03-01 08:00:00", end="2024-03-05", medfee="1000.00", hifp="700.00")
        d.fee(m, "Y", pric="20.00", time=t).fee(m, "Y", pric="20.00", time=t).fee(m, "Y", pric="20.00", time=t)
        d.fee(m, "T", cnt=2, pric="30.00", time=t).fee(m, "T", cnt=1, pric="30.00", time=t)
        d.fee(m, "X", pric="50.00", time="2024-03-07 08:00:00", chrgitm="05")
    for item, cnt, pric in (("Y", -1, "20.00"), ("T", -1, "30.00"), ("X", -1, "50.00")):
        d.fee("M1", item, cnt=cnt, pric=pric, time="2024-03-04 09:00:00", chrgitm="05")
    lib = load_library()
    rules = ["duplicate_billing", "split_billing", "frequency_limit", "charge_outside_stay"]
    with d.open(tmp_path) as s:
        duck = run_rules(s, rules, progress=False, library=lib)
        on_spark = run_rules(s, rules, progress=False, library=lib, engine="spark")
    _assert_same(duck, on_spark)
    assert {k: v["findings"] for k, v in duck.counts.items()} == {
        "duplicate_billing": 2, "frequency_limit": 1, "charge_outside_stay": 1}
    assert set(duck.findings.mdtrt_id) == {"M1", "M2"} and list(duck.skipped) == ["split_billing"]
