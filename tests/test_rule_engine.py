"""The rule engine: loading and validating rule files, parameters, running, findings, sweep, visits."""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pandas as pd
import pytest
import yaml
from ruledata import FIXTURE_LIBRARY, tiny_tables

import workbench
from workbench import datafolder
from workbench.errors import RuleError
from workbench.rules import (LIBRARY_DIR, check_visit, evaluate, load_library, load_rule, match_truth, parse_param_overrides,
                             resolve_params, run_rule, run_rules, sweep)
from workbench.rules import findings as F
from workbench.rules import views
from workbench.sql import dialect as sqltext

BASE = yaml.safe_load((FIXTURE_LIBRARY / "fx_after_death.yaml").read_text(encoding="utf-8"))


def write_rule(folder, name="fx_after_death", **changes):
    doc = {**BASE, "id": name, **changes}
    for k, v in list(doc.items()):
        if v is _DROP:
            del doc[k]
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


_DROP = object()


@pytest.fixture()
def session(tiny_data):
    with workbench.open(tiny_data) as s:
        yield s


# --- loading and validation -------------------------------------------------------------------

def test_fixture_library_loads_with_types_defaults_and_hash(fixture_library):
    assert sorted(fixture_library) == ["fx_after_death", "fx_fee_share", "fx_readmission", "fx_stock"]
    r = fixture_library["fx_readmission"]
    assert (r.version, r.official_code, r.tier, r.result_type) == (2, "GZ00000000000001", "medical", "suspicious")
    assert r.stage == ("during", "post") and r.tables == ("mdtrt", "setl")
    assert r.defaults() == {"window_days": 15, "same_diagnosis": True}
    assert r.params["window_days"].min == 0 and r.params["window_days"].type == "int"
    assert r.definition_hash == hashlib.sha256((FIXTURE_LIBRARY / "fx_readmission.yaml").read_bytes()).hexdigest()
    assert r.reads == frozenset({"mdtrt", "v_fx_visit_fund"})


@pytest.mark.parametrize("changes, message", [
    ({"basis": _DROP}, "missing key(s) basis"),
    ({"sql": "SELECT ${nope} AS x"}, "the sql uses ${nope}, which params does not declare"),
    ({"tier": "clinical"}, "tier must be one of policy, management, medical, got 'clinical'"),
    ({"result_type": "maybe"}, "result_type must be one of suspicious, violation"),
    ({"stage": ["later"]}, "stage must be one of pre, during, post, got 'later'"),
    ({"tables": ["mdtrt", "claims"]}, "tables: 'claims' is not a contract table"),
    ({"version": "one"}, "version must be a positive integer"),
    ({"official_code": 10000204}, "official_code must be a string"),
    ({"colour": "red"}, "unknown key(s) colour"),
    ({"params": {"grace_days": {"default": "soon", "type": "int"}}}, "parameter grace_days default: parameter grace_days expects int"),
    ({"params": {"grace_days": {"default": 1, "type": "integer"}}}, "parameter grace_days: type must be one of int, float, bool, str"),
    ({"params": {"grace_days": {"default": 1}}}, "parameter grace_days: needs both default and type"),
    ({"params": {"grace_days": {"default": 50, "type": "int", "max": 30}}}, "expects int in [-inf, 30], got 50"),
    ({"sql": "SELECT FROM WHERE ${grace_days} ((("}, "cannot parse the SQL"),
])
def test_bad_rule_files_are_named(tmp_path, changes, message):
    path = write_rule(tmp_path, **changes)
    with pytest.raises(RuleError) as e:
        load_rule(path)
    assert str(path) in str(e.value)
    assert message in str(e.value)


def test_id_must_match_file_name(tmp_path):
    path = write_rule(tmp_path, name="other")
    path.rename(tmp_path / "renamed.yaml")
    with pytest.raises(RuleError, match=r"renamed.yaml: id 'other' must equal the file name 'renamed'"):
        load_library(tmp_path)


def test_unknown_rule_and_parameter(session, fixture_library):
    with pytest.raises(RuleError, match="unknown rule 'no_such_rule'"):
        run_rules(session, ["no_such_rule"], library=fixture_library, progress=False)
    with pytest.raises(RuleError, match="rule fx_readmission has no parameter 'window'"):
        run_rule(session, fixture_library["fx_readmission"], {"window": 3})
    with pytest.raises(RuleError, match=r"parameter window_days expects int in \[0, inf\], got -1"):
        run_rule(session, fixture_library["fx_readmission"], {"window_days": -1})
    with pytest.raises(RuleError, match="expects bool, got 'perhaps'"):
        resolve_params(fixture_library, overrides=["fx_readmission.same_diagnosis=perhaps"])
    with pytest.raises(RuleError, match="expected RULE.KEY=VALUE"):
        parse_param_overrides(["window_days=3"])


# --- parameters -------------------------------------------------------------------------------

def test_param_precedence_defaults_config_overrides(tmp_path, fixture_library):
    cfg = tmp_path / "region.yaml"
    cfg.write_text("fx_readmission: {window_days: 10, same_diagnosis: false}\nfx_fee_share: {min_amount: 250}\n")
    p = resolve_params(fixture_library, config=cfg, overrides=["fx_readmission.window_days=7", "fx_after_death.grace_days=2"])
    assert p["fx_readmission"] == {"window_days": 7, "same_diagnosis": False}
    assert p["fx_fee_share"] == {"min_amount": 250.0} and isinstance(p["fx_fee_share"]["min_amount"], float)
    assert p["fx_after_death"] == {"grace_days": 2}
    assert p["fx_stock"] == {}
    bad = tmp_path / "bad.yaml"
    bad.write_text("fx_nothing: {x: 1}\n")
    with pytest.raises(RuleError, match=r"bad.yaml: unknown rule 'fx_nothing'"):
        resolve_params(fixture_library, config=bad)
    bad.write_text("fx_after_death: {grace_days: 99}\n")
    with pytest.raises(RuleError, match=r"bad.yaml: fx_after_death.grace_days: parameter grace_days expects int in \[0, 30\], got 99"):
        resolve_params(fixture_library, config=bad)


def test_parameters_become_sql_literals(fixture_library):
    sql = fixture_library["fx_readmission"].render_sql({"window_days": 4, "same_diagnosis": False})
    assert "BETWEEN 0 AND 4" in sql and "NOT FALSE OR" in sql
    assert "${" not in sql
    from workbench.rules.loader import sql_literal

    assert [sql_literal(v) for v in (True, 3, 0.15, 1e-7, "O'Brien")] == ["TRUE", "3", "0.15", "0.0000001", "'O''Brien'"]


# --- running and findings ---------------------------------------------------------------------

def test_run_rules_findings_exact(session, fixture_library):
    res = run_rules(session, fixture_library, progress=False)
    df = res.findings
    assert list(df.columns) == F.COLUMNS
    assert list(df["finding_id"]) == sorted(df["finding_id"])
    got = {(r.rule_id, r.mdtrt_id): (r.amount_at_risk, r.evidence) for r in df.itertuples()}
    assert got == {
        ("fx_after_death", "M4"): (Decimal("88.88"), '["mdtrt:M4","psn:P1"]'),
        # 150.05 x 700 / 1000 = 105.035 -> 105.04 (half up), + 200.00 x 0.7 = 140.00
        ("fx_fee_share", "M1"): (Decimal("245.04"), '["fee:M1/1","fee:M1/2"]'),
        # net of a refund: 333.33 x 440 / 700 = 209.5217... -> 209.52
        ("fx_fee_share", "M2"): (Decimal("209.52"), '["fee:M2/1"]'),
        ("fx_readmission", "M2"): (Decimal("440.00"), '["mdtrt:M1","mdtrt:M2"]'),
    }
    assert all(isinstance(a, Decimal) for a in df["amount_at_risk"])
    row = df[df.rule_id == "fx_after_death"].iloc[0]
    assert row.detail == "参保人P1于2024-03-01死亡，2024-03-05仍在H2就诊"
    assert row.detail_en == "P1 died on 2024-03-01 but visited H2 on 2024-03-05"
    assert (row.result_type, row.official_code, row.dr_code) == ("violation", None, None)
    assert row.finding_id == hashlib.sha256("fx_after_death|H2||P1|M4|[\"mdtrt:M4\",\"psn:P1\"]".encode()).hexdigest()[:16]
    assert res.skipped == {"fx_stock": "needs table(s) stock, which this data folder does not have"}
    assert res.counts["fx_fee_share"]["findings"] == 2
    assert res.counts["fx_fee_share"]["amount_at_risk"] == Decimal("454.56")
    assert res.amount_at_risk == Decimal("983.44")  # 88.88 + 245.04 + 209.52 + 440.00


def test_finding_ids_stable_across_runs_and_row_order(tmp_path, session, fixture_library):
    first = run_rules(session, fixture_library, progress=False).findings
    again = run_rules(session, fixture_library, progress=False).findings
    shuffled = {k: v.iloc[::-1].reset_index(drop=True) for k, v in tiny_tables().items()}
    datafolder.write_data_folder(tmp_path / "rev", shuffled, source={"kind": "test"})
    with workbench.open(tmp_path / "rev") as s2:
        reversed_ = run_rules(s2, fixture_library, progress=False).findings
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(first, reversed_)


def test_rounding_is_canonical_not_duckdbs_double_rounding(session):
    # DuckDB's own ROUND of the DOUBLE 150.05*700/1000 gives 105.03; the canonical form 105.04.
    q = "SELECT ROUND(150.05::DECIMAL(18,2) * 700.00::DECIMAL(18,2) / 1000.00::DECIMAL(18,2), 2)"
    raw = session.con.execute(q).fetchall()[0][0]
    canon = session.con.execute(sqltext.to_duckdb(q)).fetchall()[0][0]
    assert canon == Decimal("105.04")
    assert raw in (105.03, 105.04)  # whatever DuckDB does, the engine does not depend on it
    cast = session.con.execute(sqltext.to_duckdb("SELECT CAST(1.005::DOUBLE AS DECIMAL(18,2))")).fetchall()[0][0]
    assert cast == Decimal("1.01")


def test_a_cast_of_an_exact_value_skips_the_rounding_detour():
    # The detour through DECIMAL(38, 6) only matters for a DOUBLE (or text); a value the statement
    # shows to be an integer or a DECIMAL of scale <= 6 is cast as written.
    def cast(sql):
        out = sqltext.to_duckdb(sql)
        assert out.count("AS DECIMAL(18, 2))") == 1, out
        return "AS DECIMAL(38, 6)) AS DECIMAL(18, 2))" not in out  # no detour before the cast

    assert cast("SELECT CAST(SUM(hifp_pay) AS DECIMAL(18,2)) FROM setl")  # a contract DECIMAL(18,2)
    assert cast("SELECT CAST(s.hifp_pay * 2 - 1.5 AS DECIMAL(18,2)) FROM setl AS s JOIN mdtrt AS m USING (mdtrt_id)")
    assert cast("WITH a AS (SELECT mdtrt_id, SUM(hifp_pay) AS h FROM setl GROUP BY mdtrt_id) "
                "SELECT CAST(COALESCE(a.h, 0) AS DECIMAL(18,2)) FROM mdtrt AS m LEFT JOIN a USING (mdtrt_id)")
    assert cast("SELECT CAST(CASE WHEN x > 0 THEN ROUND(x / y, 2) ELSE 0 END AS DECIMAL(18,2)) FROM t")
    assert "ROUND(CAST(x / y AS DECIMAL(38, 6)), 2)" in sqltext.to_duckdb(  # the ROUND of a DOUBLE keeps its own
        "SELECT CAST(CASE WHEN x > 0 THEN ROUND(x / y, 2) ELSE 0 END AS DECIMAL(18,2)) FROM t")
    assert cast("SELECT CAST(COUNT(*) AS DECIMAL(18,2)) FROM fee")
    assert not cast("SELECT CAST(SUM(cnt) AS DECIMAL(18,2)) FROM fee")  # cnt is a DOUBLE
    assert not cast("SELECT CAST(x AS DECIMAL(18,2)) FROM t")  # a column of unknown type
    assert not cast("WITH a AS (SELECT hifp_pay / 2 AS h FROM setl) SELECT CAST(h AS DECIMAL(18,2)) FROM a")
    assert not cast("SELECT CAST(hifp_pay AS DECIMAL(18,2)) FROM setl AS s JOIN mdtrt AS m USING (mdtrt_id)")
    assert not cast("SELECT CAST(AVG(hifp_pay) AS DECIMAL(18,2)) FROM setl")  # DuckDB's AVG is a DOUBLE
    assert not cast("SELECT CAST(hifp_pay * pric * pric * pric AS DECIMAL(18,2)) FROM setl, fee")  # scale 8 > 6


def test_a_cast_without_the_detour_gives_the_same_money(session):
    # exact values (scale <= 6) round the same once as through DECIMAL(38, 6): half away from zero
    q = ("WITH v(a, b) AS (VALUES (0.125::DECIMAL(18,3), 2), (-0.125::DECIMAL(18,3), 3), (2.675::DECIMAL(18,3), 4), "
         "(1.0049995::DECIMAL(18,7), 5)) SELECT b, CAST(a * 1 AS DECIMAL(18,2)), "
         "CAST(CAST(a * 1 AS DECIMAL(38, 6)) AS DECIMAL(18,2)) FROM v ORDER BY b")
    rows = session.con.execute(q).fetchall()
    assert [r[1] for r in rows[:3]] == [Decimal("0.13"), Decimal("-0.13"), Decimal("2.68")]
    assert all(r[1] == r[2] for r in rows[:3])
    assert rows[3][1] != rows[3][2]  # scale 7: the detour rounds twice (1.005000 -> 1.01), so it is kept
    assert "DECIMAL(38, 6)" in sqltext.to_duckdb("SELECT CAST(1.0049995 * 1 AS DECIMAL(18,2))")


def test_bad_rule_sql_is_named_at_run_time(tmp_path, session):
    lib = load_library(write_rule(tmp_path, sql="SELECT 1 AS x FROM mdtrt WHERE ${grace_days} = 0"))
    with pytest.raises(RuleError, match=r"rule fx_after_death .*must return column\(s\) fixmedins_code, dr_code"):
        run_rules(session, lib, progress=False)
    lib = load_library(write_rule(tmp_path, sql=BASE["sql"].replace("CAST(COALESCE(SUM(s.hifp_pay), 0) AS DECIMAL(18,2))",
                                                                      "CAST(1.5 AS DOUBLE)")))
    with pytest.raises(RuleError, match="amount_at_risk is DOUBLE; write CAST"):
        run_rules(session, lib, progress=False)
    lib = load_library(write_rule(tmp_path, detail_en="{psn_no} on {no_such_column}"))
    with pytest.raises(RuleError, match=r"detail_en uses \{no_such_column\}, which the SQL does not return"):
        run_rules(session, lib, progress=False)
    lib = load_library(write_rule(tmp_path, sql=BASE["sql"].replace("FROM mdtrt m", "FROM mdtrt_nope m")))
    with pytest.raises(RuleError, match="rule fx_after_death .* fails on DuckDB"):
        run_rules(session, lib, progress=False)


def test_evidence_json_and_duplicates():
    assert F.evidence_json(["b", None, "a", "b"]) == '["a","b"]'
    assert F.evidence_json(None) == "[]"
    assert F.to_money(None) == Decimal("0.00")
    with pytest.raises(RuleError, match="not a float"):
        F.to_money(1.5, "r")


# --- views and knowledge ----------------------------------------------------------------------

def test_views_created_in_dependency_order_and_skipped_without_tables(tmp_path):
    vdir = tmp_path / "views"
    vdir.mkdir()
    (vdir / "a_top.sql").write_text("SELECT mdtrt_id FROM b_mid WHERE n > 0")
    (vdir / "b_mid.sql").write_text("-- visits with a count\nSELECT mdtrt_id, COUNT(*) AS n FROM fee GROUP BY mdtrt_id;")
    (vdir / "c_stock.sql").write_text("SELECT * FROM stock")
    (vdir / "d_on_stock.sql").write_text("SELECT * FROM c_stock JOIN k_codes USING (med_list_codg)")
    defs = views.load_views(vdir)
    order, missing = views.plan(defs, ["fee", "mdtrt"], ["k_codes"])
    assert order == ["b_mid", "a_top"]
    assert missing == {"c_stock": {"stock"}, "d_on_stock": {"stock"}}
    (vdir / "e_bad.sql").write_text("SELECT * FROM nowhere")
    with pytest.raises(RuleError, match=r"e_bad.sql: reads 'nowhere', which is neither"):
        views.plan(views.load_views(vdir), ["fee"], ["k_codes"])


def test_knowledge_csv_types(tmp_path):
    f = tmp_path / "k_test.csv"
    f.write_text("\ufeffcode,age_min,ratio,lv\nO00,12,0.5,09\nP96,,1,1\n", encoding="utf-8")
    t = views.read_knowledge(f)
    assert [str(x.type) for x in t.schema] == ["string", "int64", "double", "string"]
    assert t.to_pylist() == [{"code": "O00", "age_min": 12, "ratio": 0.5, "lv": "09"},
                             {"code": "P96", "age_min": None, "ratio": 1.0, "lv": "1"}]


def test_fixture_knowledge_registered(session, fixture_library):
    from workbench.rules.engine import environment

    env = environment(session, list(fixture_library.values()))
    assert "k_fx_sex" in env["knowledge"] and "v_fx_visit_fund" in env["created"]
    assert session.con.sql("SELECT dise_prefix, gend FROM k_fx_sex ORDER BY 1").fetchall() == [("N40", 1), ("O", 2)]


# --- translation ------------------------------------------------------------------------------

def test_spark_translation_pins_down_differences():
    sql = ("SELECT DATE_DIFF('day', a, b) AS d, DATE_DIFF('year', a, b) AS y, ROUND(x / z, 2) AS r, "
           "ARRAY_AGG(k ORDER BY t) AS l, MEDIAN(x) AS m FROM t")
    out = sqltext.to_spark(sql)
    assert "DATEDIFF(CAST(b AS DATE), CAST(a AS DATE)) AS d" in out
    assert "(YEAR(b) - YEAR(a)) AS y" in out
    assert "ROUND(CAST(CAST(x AS DOUBLE) / CAST(z AS DOUBLE) AS DECIMAL(38, 6)), 2) AS r" in out
    assert "TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT(t AS k0, k AS v))), s_ -> s_.v) AS l" in out
    assert "PERCENTILE(CAST(x AS DOUBLE), 0.5) AS m" in out
    assert sqltext.to_spark("SELECT HASH(a, b) AS h FROM t") == "SELECT XXHASH64(a, b) AS h FROM t"
    assert sqltext.referenced_tables("WITH c AS (SELECT * FROM fee) SELECT * FROM c JOIN v_x USING (k)") == {"fee", "v_x"}
    with pytest.raises(RuleError, match=r"rule r: .*ARRAY_AGG\(... ORDER BY ... DESC\) has no Spark translation"):
        sqltext.to_spark("SELECT ARRAY_AGG(k ORDER BY t DESC) FROM t", "rule r")


# --- evaluation -------------------------------------------------------------------------------

def test_evaluation_matches_on_the_keys_truth_fills():
    findings = pd.DataFrame({
        "finding_id": ["f1", "f2", "f3", "f4"],
        "rule_id": ["r_visit", "r_visit", "r_person", "r_inst"],
        "fixmedins_code": ["H1", "H1", None, "H9"], "dr_code": [None, None, None, None],
        "psn_no": ["P1", "P2", "P7", None], "mdtrt_id": ["M1", "M2", None, None],
    })
    truth = pd.DataFrame({
        "case_id": ["c1", "c2", "c3", "c4", "c5"],
        "rule_id": ["r_visit", "r_visit", "r_person", "r_inst", "rings"],
        "fixmedins_code": ["H1", "H1", None, "H8", None], "dr_code": [None] * 5,
        "psn_no": ["P1", "P3", "P7", None, "P1"], "mdtrt_id": ["M1", None, None, None, None],
    })
    pairs = match_truth(findings, truth)
    assert pairs.values.tolist() == [[0, "f1"], [2, "f3"]]
    ev = evaluate(findings, truth, rules=["r_visit", "r_person", "r_inst"]).set_index("rule_id")
    assert ev.loc["r_visit"].tolist() == [2, 1, 0.5, 2, 1, 0.5]
    assert ev.loc["r_person"].tolist() == [1, 1, 1.0, 1, 1, 1.0]
    assert ev.loc["r_inst", "recall"] == 0.0 and ev.loc["r_inst", "precision"] == 0.0


# --- sweep ------------------------------------------------------------------------------------

def test_sweep_is_monotone_and_exact(tmp_path, session, fixture_library):
    s = sweep(session, fixture_library["fx_fee_share"], "min_amount", [0, 100, 150.05, 200, 1000])
    assert s["findings"].tolist() == [3, 2, 2, 1, 0]
    assert s["amount_at_risk"].tolist() == [Decimal("529.56"), Decimal("454.56"), Decimal("349.52"),
                                            Decimal("209.52"), Decimal("0.00")]
    w = sweep(session, fixture_library["fx_readmission"], "window_days", [0, 4, 5, 30], params={"same_diagnosis": True})
    assert w["findings"].tolist() == [0, 0, 1, 1]
    assert "recall" not in w.columns
    with pytest.raises(RuleError, match="has no parameter 'nope'"):
        sweep(session, fixture_library["fx_readmission"], "nope", [1])
    needs_stock = load_rule(write_rule(tmp_path, tables=["mdtrt", "stock"]))
    with pytest.raises(RuleError, match="cannot run on this data: needs table.s. stock"):
        sweep(session, needs_stock, "grace_days", [1])


# --- one visit at a time ----------------------------------------------------------------------

def test_check_visit_existing_visit_sees_history(session, fixture_library):
    got = check_visit(session, "M2", library=fixture_library)
    assert got[["rule_id", "mdtrt_id", "amount_at_risk"]].values.tolist() == [["fx_readmission", "M2", Decimal("440.00")]]
    # M1 is named in the readmission evidence, so reviewing M1 shows it too
    assert check_visit(session, "M1", library=fixture_library)["finding_id"].tolist() == got["finding_id"].tolist()
    # the post-only rule runs when asked for by name
    fee = check_visit(session, "M1", rules=["fx_fee_share"], library=fixture_library)
    assert fee["amount_at_risk"].tolist() == [Decimal("245.04")]
    assert check_visit(session, "M5", library=fixture_library).empty
    with pytest.raises(RuleError, match="no visit with mdtrt_id 'M99'"):
        check_visit(session, "M99", library=fixture_library)


def test_check_visit_new_claim_before_payment(session, fixture_library):
    new = {
        "mdtrt": {"mdtrt_id": "N1", "psn_no": "P2", "fixmedins_code": "H1", "med_type": "21",
                  "begntime": "2024-03-06 08:00", "endtime": "2024-03-08 08:00", "dise_codg": "J18.0", "atddr_no": "D1"},
        "setl": [{"setl_id": "SN1", "mdtrt_id": "N1", "psn_no": "P2", "fixmedins_code": "H1",
                  "setl_time": "2024-03-08 08:00", "medfee_sumamt": "500.00", "hifp_pay": "321.09"}],
    }
    got = check_visit(session, new_visit=new, library=fixture_library)
    assert got[["rule_id", "mdtrt_id", "amount_at_risk", "evidence"]].values.tolist() == [
        ["fx_readmission", "N1", Decimal("321.09"), '["mdtrt:M3","mdtrt:N1"]']]
    assert got["detail"].tolist() == ["参保人P2在H1出院后3天再次入院"]
    # a different diagnosis category is not a split stay
    new["mdtrt"]["dise_codg"] = "I10"
    assert check_visit(session, new_visit=new, library=fixture_library).empty
    # the data folder itself is untouched
    assert session.con.execute("SELECT count(*) FROM mdtrt").fetchall() == [(7,)]
    with pytest.raises(RuleError, match="new visit: needs its mdtrt row"):
        check_visit(session, new_visit={"setl": new["setl"]}, library=fixture_library)


def test_findings_json_is_canonical(session, fixture_library):
    df = run_rule(session, fixture_library["fx_fee_share"])
    assert [json.loads(e) for e in df["evidence"]] == [["fee:M1/1", "fee:M1/2"], ["fee:M2/1"]]


def test_rows_sharing_a_finding_id_merge_deterministically(fixture_library):
    rule = fixture_library["fx_after_death"]
    base = {"fixmedins_code": "H2", "dr_code": None, "psn_no": "P1", "mdtrt_id": "M4", "evidence": ["mdtrt:M4"],
            "death_date": "2024-03-01"}
    rows = [{**base, "amount_at_risk": Decimal("5.00"), "visit_date": "2024-03-06"},
            {**base, "amount_at_risk": Decimal("5.00"), "visit_date": "2024-03-05"},
            {**base, "amount_at_risk": Decimal("1.00"), "visit_date": "2024-03-04"}]
    one = F.build(rule, rows)
    other = F.build(rule, rows[::-1])
    pd.testing.assert_frame_equal(one, other)
    assert len(one) == 1 and one.attrs["collapsed_rows"] == 2
    assert one.loc[0, "detail"] == "参保人P1于2024-03-01死亡，2024-03-05仍在H2就诊"


@pytest.mark.skipif(not any(LIBRARY_DIR.glob("*.yaml")), reason="no shipped rule library yet")
def test_check_visit_agrees_with_the_full_run(random_region):
    library = load_library()
    during = {rid for rid, r in library.items() if set(r.stage) & {"during", "pre"}}
    with workbench.open(random_region) as s:
        full = run_rules(s, library, progress=False).findings
        visits = full[full.rule_id.isin(during) & full.mdtrt_id.notna()].drop_duplicates("mdtrt_id")["mdtrt_id"].head(3)
        assert len(visits) == 3
        for mid in visits:
            got = check_visit(s, mid)
            expected = set(full.loc[(full.mdtrt_id == mid) & full.rule_id.isin(during), "finding_id"])
            assert expected <= set(got["finding_id"])
            assert set(got["rule_id"]) <= during


def test_library_table(fixture_library):
    from workbench.rules import library_table

    t = library_table(fixture_library)
    assert t["rule_id"].tolist() == ["fx_after_death", "fx_fee_share", "fx_readmission", "fx_stock"]
    row = t.set_index("rule_id").loc["fx_readmission"]
    assert (row.stage, row.tables, row.params, row.version) == ("during, post", "mdtrt, setl",
                                                                "window_days=15; same_diagnosis=True", 2)
