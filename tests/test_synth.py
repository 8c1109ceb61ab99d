"""The synthetic region generator (``workbench/synth``).

One demo region is made per module (through the CLI) and checked: every scenario of
``docs/rules-spec.md`` is planted, each truth row's keys exist and its planted property holds
(an independent SQL version of every rule finds exactly the planted cases), and the background
is consistent (money, references, limits, ages and sexes). A smaller internal scale checks
determinism.
"""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

import workbench
from workbench import datafolder
from workbench.cli import main
from workbench.errors import WorkbenchError
from workbench.synth import SCALES, synthesize
from workbench.synth.names import check_char
from workbench.synth.plan import SCENARIO_RULE
from workbench.synth.sampling import RowSampler, age_at, decimal_from_fen

from workbench.rules import load_library

from synth_oracle import RULES, cost_share_outliers, flagged, truth_keys, verify

SPEC_RULES = set(RULES) | {"cost_share_outlier"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "demo"
    assert main(["synth", "--scale", "demo", "--seed", "2024", "--out", str(out), "--no-progress"]) == 0
    return out


@pytest.fixture(scope="module")
def s(demo):
    with workbench.open(demo) as session:
        yield session


def _row(s, sql):
    return s.con.execute(sql).fetchall()[0]


def _one(s, sql):
    return _row(s, sql)[0]


# --- unit: the vectorised helpers -------------------------------------------------------------

def test_row_sampler_draws_each_row_from_its_own_weights():
    sampler = RowSampler([np.array([10, 11]), np.array([20, 21, 22]), np.array([30])], [[1, 0], [0, 0, 1], [0]])
    rows = np.array([0, 1, 0, 1, 2])
    assert sampler.sample(rows, np.random.default_rng(0)).tolist() == [10, 22, 10, 22, -1]
    freq = RowSampler.from_matrix([[1, 3]]).sample(np.zeros(40_000, dtype=int), np.random.default_rng(1)).mean()
    assert abs(freq - 0.75) < 0.01


def test_money_is_built_exactly_from_fen():
    arr = decimal_from_fen(np.array([1, -250, 123456789012]))
    assert arr.type == pa.decimal128(18, 2)
    assert arr.to_pylist() == [Decimal("0.01"), Decimal("-2.50"), Decimal("1234567890.12")]


def test_age_in_whole_years_at_a_day_of_2024():
    # born 1990-03-15: 33 on 2024-03-14 (day 73), 34 on 2024-03-15 (day 74)
    assert age_at(np.array([1990, 1990]), np.array([315, 315]), np.array([73, 74])).tolist() == [33, 34]


def test_check_character_of_a_known_id_layout():
    assert check_char(np.array([11010519491231002]))[0] == "X"


def test_unknown_scale_is_a_user_error(tmp_path):
    with pytest.raises(WorkbenchError, match="unknown scale 'village'"):
        synthesize(tmp_path / "x", scale="village")


# --- determinism --------------------------------------------------------------------------------

def _digests(folder):
    m = datafolder.read_manifest(folder)
    return {k: v["sha256"] for k, v in m["tables"].items()}


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path):
    a = synthesize(tmp_path / "a", scale=SCALES["tiny"], seed=5, progress=False)
    b = synthesize(tmp_path / "b", scale=SCALES["tiny"], seed=5, progress=False)
    c = synthesize(tmp_path / "c", scale=SCALES["tiny"], seed=6, progress=False)
    da, db, dc = _digests(tmp_path / "a"), _digests(tmp_path / "b"), _digests(tmp_path / "c")
    assert da == db
    for name in ("psn", "mdtrt", "setl", "fee", "stock", "truth"):
        assert da[name] != dc[name]
    fee = hashlib.sha256((tmp_path / "a" / "fee.parquet").read_bytes()).hexdigest()
    assert fee == da["fee"] == datafolder.fingerprint(tmp_path / "b" / "fee.parquet")["sha256"]
    assert a["source"]["seed"] == 5 and c["source"]["seed"] == 6 and a["source"]["generator"] == "workbench.synth"
    # a non-empty --out: refused before any work without --force, nothing changed
    (tmp_path / "a" / "notes.txt").write_text("keep me")
    before = {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()}
    assert main(["synth", "--scale", "demo", "--seed", "6", "--out", str(tmp_path / "a"), "--no-progress"]) == 1
    assert {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()} == before
    # with --force only synth's own files are replaced: the notes stay, the tables are seed 6's
    synthesize(tmp_path / "a", scale=SCALES["tiny"], seed=6, progress=False, force=True)
    assert (tmp_path / "a" / "notes.txt").read_text() == "keep me"
    assert _digests(tmp_path / "a") == dc and datafolder.verify_manifest(tmp_path / "a") == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "c"]


# --- what was planted ---------------------------------------------------------------------------

def test_every_scenario_and_rule_of_the_spec_is_planted(s):
    got = dict(s.sql("SELECT scenario, COUNT(DISTINCT case_id) FROM truth GROUP BY 1").fetchall())
    assert set(SCENARIO_RULE) <= set(got)
    rules = {r for (r,) in s.sql("SELECT DISTINCT rule_id FROM truth").fetchall()}
    assert rules == SPEC_RULES | {"rings", "providers", "stays"}
    assert SPEC_RULES == set(load_library()), "every built-in rule has an oracle and a planted scenario"
    for scenario in ("split_stay", "price_over_cap", "claims_after_death", "ghost_bed", "duplicate_enrollment", "card_shopping"):
        assert 5 <= got[scenario] <= 30, scenario
    assert 3 <= got["collusion_ring"] <= 5
    assert got["split_stay_hospital"] == 2
    assert 2 <= got["drug_heavy"] <= 3 and 2 <= got["test_heavy"] <= 3


def test_truth_keys_exist_in_the_data(s):
    assert _one(s, "SELECT COUNT(*) FROM truth t LEFT JOIN mdtrt m USING (mdtrt_id) WHERE t.mdtrt_id IS NOT NULL "
                   "AND (m.mdtrt_id IS NULL OR m.psn_no <> t.psn_no OR m.fixmedins_code <> t.fixmedins_code)") == 0
    assert _one(s, "SELECT COUNT(*) FROM truth WHERE psn_no IS NOT NULL AND psn_no NOT IN (SELECT psn_no FROM psn)") == 0
    assert _one(s, "SELECT COUNT(*) FROM truth WHERE fixmedins_code IS NOT NULL AND fixmedins_code NOT IN (SELECT fixmedins_code FROM medins)") == 0
    assert _one(s, "SELECT COUNT(*) FROM truth t LEFT JOIN dr d USING (dr_code) WHERE t.dr_code IS NOT NULL "
                   "AND (d.dr_code IS NULL OR (t.rule_id <> 'rings' AND d.fixmedins_code <> t.fixmedins_code))") == 0
    members = [m for (m,) in s.sql("SELECT members FROM truth WHERE scenario = 'collusion_ring'").fetchall()]
    keys = {k for (k,) in s.sql("SELECT psn_no FROM psn UNION SELECT dr_code FROM dr").fetchall()}
    assert members and all(set(m.split(";")) <= keys and len(m.split(";")) >= 8 for m in members)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_finds_exactly_the_planted_cases(s, rule):
    found, planted = flagged(s, rule), truth_keys(s, rule)
    assert planted, f"nothing planted for {rule}"
    assert found - planted == set(), f"{rule}: background cases no one planted"
    assert planted - found == set(), f"{rule}: planted cases the rule does not find"


def test_cost_share_outliers_are_exactly_the_planted_institutions(s):
    planted = {k for (k,) in truth_keys(s, "cost_share_outlier")}
    assert planted and cost_share_outliers(s) == planted


def test_verify_reports_every_rule_clean(s):
    report = verify(s)
    assert len(report) == len(SPEC_RULES) and set(report.rule_id) == SPEC_RULES
    assert (report.missed == 0).all() and (report.unplanted == 0).all() and (report.found == report.planted).all()


def test_split_stays_are_readmissions_within_14_days_with_the_same_category(s):
    gaps = s.con.execute("""
        SELECT DATE_DIFF('day', CAST(a.endtime AS DATE), CAST(b.begntime AS DATE)) gap, t.case_id LIKE 'split_stay-h%' hospital
        FROM truth t JOIN mdtrt b USING (mdtrt_id)
        JOIN mdtrt a ON a.psn_no = b.psn_no AND a.fixmedins_code = b.fixmedins_code AND a.med_type = '21' AND a.begntime < b.begntime
          AND SUBSTR(REPLACE(a.dise_codg, '.', ''), 1, 3) = SUBSTR(REPLACE(b.dise_codg, '.', ''), 1, 3)
        WHERE t.scenario = 'split_stay'""").fetchall()
    n = _one(s, "SELECT COUNT(*) FROM truth WHERE scenario = 'split_stay'")
    assert len(gaps) == n
    assert all(0 <= g <= 14 for g, _ in gaps)
    assert all(1 <= g <= 3 for g, hospital in gaps if hospital)


def test_planted_properties_hold_row_by_row(s):
    # price over cap: a line of the visit above its cap
    assert _one(s, """SELECT COUNT(*) FROM truth t WHERE t.scenario = 'price_over_cap' AND NOT EXISTS (
                      SELECT 1 FROM fee f JOIN list l USING (med_list_codg) WHERE f.mdtrt_id = t.mdtrt_id AND f.pric > l.pric_uplmt_amt)""") == 0
    # claims after death: the visit starts after the death date
    assert _one(s, """SELECT COUNT(*) FROM truth t JOIN mdtrt m USING (mdtrt_id) JOIN psn p ON p.psn_no = m.psn_no
                      WHERE t.scenario = 'claims_after_death' AND NOT CAST(m.begntime AS DATE) > p.death_date""") == 0
    # sex mismatch: men with female-only diagnoses, women with male-only ones
    rows = s.sql("""SELECT p.gend, LEFT(m.dise_codg, 1), m.dise_codg FROM truth t JOIN mdtrt m USING (mdtrt_id) JOIN psn p ON p.psn_no = m.psn_no
                    WHERE t.scenario = 'diagnosis_sex_mismatch'""").fetchall()
    assert rows and all((g == "1" and c[:3] >= "N70") or (g == "2" and "N40" <= c[:3] <= "N53") for g, _, c in rows)
    # duplicate enrolment: the certno has two psn_no, the truth names the smaller
    assert _one(s, """SELECT COUNT(*) FROM truth t JOIN psn p USING (psn_no) WHERE t.scenario = 'duplicate_enrollment'
                      AND (SELECT MIN(psn_no) FROM psn q WHERE q.certno = p.certno) = t.psn_no
                      AND (SELECT COUNT(*) FROM psn q WHERE q.certno = p.certno) = 2""") == _one(s, "SELECT COUNT(*) FROM truth WHERE scenario = 'duplicate_enrollment'")


def test_collusion_rings_fill_one_pharmacy_the_day_of_the_doctors_visit(s):
    for pharm, members in s.sql("SELECT fixmedins_code, members FROM truth WHERE scenario = 'collusion_ring'").fetchall():
        doctors = [m for m in members.split(";") if m.startswith("D")]
        persons = [m for m in members.split(";") if not m.startswith("D")]
        assert 2 <= len(doctors) <= 3 and 8 <= len(persons) <= 20
        same_day = s.con.execute("""SELECT COUNT(*) FROM mdtrt ph JOIN mdtrt o ON o.psn_no = ph.psn_no AND o.atddr_no = ph.atddr_no
               AND CAST(o.begntime AS DATE) = CAST(ph.begntime AS DATE) AND o.med_type = '11'
               WHERE ph.med_type = '41' AND ph.fixmedins_code = ? AND list_contains(?, ph.atddr_no)""", [pharm, doctors]).fetchall()[0][0]
        assert same_day >= 6 * len(persons)


# --- background consistency ----------------------------------------------------------------------

def test_money_adds_up_exactly(s):
    assert _one(s, "SELECT COUNT(*) FROM fee WHERE det_item_fee_sumamt <> CAST(cnt * pric AS DECIMAL(18,2))") == 0
    assert _one(s, "SELECT COUNT(*) FROM setl WHERE hifp_pay + acct_pay + psn_cash_pay <> medfee_sumamt OR fund_pay_sumamt < hifp_pay") == 0
    # settlements equal their lines, but for the planted settlement_fee_mismatch cases and its
    # four near misses (settled 0.60 above their lines, a rounding difference)
    odd = s.con.execute("""WITH f AS (SELECT mdtrt_id, SUM(det_item_fee_sumamt) a FROM fee GROUP BY 1),
                           t AS (SELECT mdtrt_id, SUM(medfee_sumamt) a FROM setl GROUP BY 1)
                      SELECT t.a - f.a FROM mdtrt m LEFT JOIN f USING (mdtrt_id) LEFT JOIN t USING (mdtrt_id) WHERE f.a IS DISTINCT FROM t.a
                        AND m.mdtrt_id NOT IN (SELECT mdtrt_id FROM truth WHERE rule_id = 'settlement_fee_mismatch')""").fetchall()
    assert sorted(d for (d,) in odd) == [Decimal("0.60")] * 4
    refunds = _row(s, """SELECT COUNT(*), SUM(CASE WHEN o.medfee_sumamt = -r.medfee_sumamt AND o.hifp_pay = -r.hifp_pay THEN 1 ELSE 0 END)
                       FROM setl r JOIN setl o ON o.mdtrt_id = r.mdtrt_id AND o.refd_setl_flag = '0' AND o.setl_id < r.setl_id
                       WHERE r.refd_setl_flag = '1'""")
    assert refunds[0] > 20 and refunds[0] == refunds[1]
    ratio = dict(s.con.execute("""SELECT p.insutype, SUM(t.hifp_pay) / SUM(t.medfee_sumamt) FROM setl t JOIN mdtrt m USING (mdtrt_id)
                          JOIN psn p ON p.psn_no = m.psn_no WHERE m.med_type = '21' GROUP BY 1""").fetchall())
    assert float(ratio["310"]) > float(ratio["390"]) + 0.1


def test_references_resolve_and_times_are_ordered(s):
    assert _one(s, "SELECT COUNT(*) FROM mdtrt WHERE psn_no NOT IN (SELECT psn_no FROM psn) OR fixmedins_code NOT IN (SELECT fixmedins_code FROM medins)") == 0
    assert _one(s, "SELECT COUNT(*) FROM setl WHERE mdtrt_id NOT IN (SELECT mdtrt_id FROM mdtrt)") == 0
    assert _one(s, "SELECT COUNT(*) FROM fee WHERE mdtrt_id NOT IN (SELECT mdtrt_id FROM mdtrt)") == 0
    assert _one(s, "SELECT COUNT(*) FROM mdtrt WHERE atddr_no IS NOT NULL AND atddr_no NOT IN (SELECT dr_code FROM dr)") == 0
    assert _one(s, "SELECT COUNT(*) FROM fee WHERE bilg_dr_codg NOT IN (SELECT dr_code FROM dr)") == 0
    assert _one(s, "SELECT COUNT(*) FROM mdtrt WHERE endtime < begntime OR YEAR(begntime) <> 2024 OR YEAR(endtime) <> 2024") == 0
    assert _one(s, "SELECT COUNT(*) FROM (SELECT mdtrt_id, feedetl_sn FROM fee GROUP BY ALL HAVING COUNT(*) > 1)") == 0
    assert _one(s, "SELECT COUNT(*) FROM mdtrt WHERE med_type IN ('11', '14', '41') AND endtime <> begntime") == 0
    # unlisted items appear only on planted card-shopping visits
    assert _one(s, """SELECT COUNT(DISTINCT mdtrt_id) FROM fee WHERE med_list_codg NOT IN (SELECT med_list_codg FROM list)
                      AND mdtrt_id NOT IN (SELECT mdtrt_id FROM truth WHERE scenario = 'card_shopping')""") == 0


def test_bills_are_made_by_the_institutions_own_staff(s):
    # outside planted borrowed codes, a line's doctor works where the visit is; pharmacies bill by pharmacists
    assert _one(s, """SELECT COUNT(*) FROM fee f JOIN mdtrt m USING (mdtrt_id) JOIN dr d ON d.dr_code = f.bilg_dr_codg
                      WHERE d.fixmedins_code <> m.fixmedins_code
                        AND d.dr_code NOT IN (SELECT dr_code FROM truth WHERE scenario = 'borrowed_doctor_code')""") == 0
    assert _one(s, """SELECT COUNT(*) FROM fee f JOIN mdtrt m USING (mdtrt_id) JOIN dr d ON d.dr_code = f.bilg_dr_codg
                      WHERE m.med_type = '41' AND d.dr_type <> 'pharmacist'""") == 0


def test_stock_ledgers_balance_and_zero_markup_holds_outside_planted_cells(s):
    assert _one(s, "SELECT COUNT(*) FROM stock WHERE ABS(inv_begn + purc_cnt - sale_cnt - inv_end) > 1e-9") == 0
    assert _one(s, """SELECT COUNT(*) FROM stock s JOIN list l USING (med_list_codg) WHERE s.purc_pric <> l.pric_uplmt_amt
                      AND s.purc_pric > l.pric_uplmt_amt""") == 0
    planted = {k for (k,) in truth_keys(s, "drug_markup")}
    lower = {k for (k,) in s.sql("""SELECT DISTINCT s.fixmedins_code FROM stock s JOIN (SELECT DISTINCT med_list_codg, pric FROM fee
                                    WHERE med_chrgitm_type IN ('09', '10', '11')) f USING (med_list_codg) WHERE s.purc_pric < f.pric""").fetchall()}
    assert lower == planted


def test_near_misses_sit_just_inside_the_thresholds(s):
    # a readmission 20-30 days later, same hospital and category (not a split stay)
    assert _one(s, """WITH st AS (SELECT psn_no, fixmedins_code, begntime, CAST(begntime AS DATE) b, CAST(endtime AS DATE) e,
                                  SUBSTR(dise_codg, 1, 3) c FROM mdtrt WHERE med_type = '21'),
                           o AS (SELECT *, LAG(e) OVER (PARTITION BY psn_no, fixmedins_code ORDER BY begntime) pe,
                                         LAG(c) OVER (PARTITION BY psn_no, fixmedins_code ORDER BY begntime) pc FROM st)
                      SELECT COUNT(*) FROM o WHERE c = pc AND DATE_DIFF('day', pe, b) BETWEEN 20 AND 30""") >= 3
    assert _one(s, "SELECT COUNT(*) FROM fee JOIN list USING (med_list_codg) WHERE pric = pric_uplmt_amt") > 1000
    assert _one(s, """SELECT COUNT(*) FROM fee f JOIN list l USING (med_list_codg) JOIN mdtrt m USING (mdtrt_id)
                      WHERE m.med_type = '14' AND f.cnt / l.max_daily_cnt = 30""") > 100
    # exactly 12 outpatient visits in 30 days, exactly 10 purchases
    for med, n in (("('11', '14')", 12), ("('41')", 10)):
        top = _one(s, f"""SELECT COUNT(*) FROM (SELECT psn_no, COUNT(*) OVER (PARTITION BY psn_no ORDER BY CAST(begntime AS DATE)
                          RANGE BETWEEN CURRENT ROW AND INTERVAL 29 DAYS FOLLOWING) k FROM mdtrt WHERE med_type IN {med}) WHERE k = {n}""")
        assert top >= 1
    # stays of one person on the day one ends and the next begins, at two institutions (a transfer)
    assert _one(s, """SELECT COUNT(*) FROM mdtrt a JOIN mdtrt b ON a.psn_no = b.psn_no AND a.fixmedins_code <> b.fixmedins_code
                      WHERE a.med_type = '21' AND b.med_type = '21' AND CAST(b.begntime AS DATE) = CAST(a.endtime AS DATE)""") >= 1


# --- the region looks real -------------------------------------------------------------------------

def test_row_counts_of_the_demo_region(s):
    n = s.summary()
    # 20,000 of the chunks plus the supplement's own persons (a few per planted case)
    assert 20_000 <= n["psn"] <= 20_300 and n["insu"] >= n["psn"]
    assert 60 <= n["medins"] <= 100 and 200 <= n["dr"] <= 400 and 40 <= n["inspector"] <= 60
    assert 60_000 <= n["mdtrt"] <= 130_000 and 350_000 <= n["fee"] <= 700_000
    assert n["setl"] > n["mdtrt"] and n["stock"] > 10_000 and 150 <= n["list"] <= 250 and n["list_incl"] == 17


def test_people_institutions_and_names_are_plausible(s):
    old, male = _row(s, """SELECT AVG(CASE WHEN DATE_DIFF('year', brdy, DATE '2024-01-01') >= 60 THEN 1 ELSE 0 END),
                                AVG(CASE WHEN gend = '1' THEN 1 ELSE 0 END) FROM psn""")
    assert 0.15 < old < 0.30 and 0.48 < male < 0.54
    assert _one(s, "SELECT COUNT(*) FROM psn WHERE insutype = '310' AND DATE_DIFF('year', brdy, DATE '2024-01-01') < 16") == 0
    certs = s.sql("SELECT certno, gend, brdy FROM psn").fetchall()
    assert all(len(c) == 18 and c[:4] == "3708" and c[6:14] == b.strftime("%Y%m%d") and int(c[16]) % 2 == (g == "1") for c, g, b in certs)
    first17 = np.array([int(c[:17]) for c, _, _ in certs])
    assert not (check_char(first17) == np.array([c[17] for c, _, _ in certs])).any()
    assert _one(s, "SELECT COUNT(DISTINCT admdvs) FROM medins") == 6
    names = {n for (n,) in s.sql("SELECT fixmedins_name FROM medins").fetchall()}
    assert {"济宁市第一人民医院", "兖州区人民医院", "曲阜中医院"} <= names and any(n.endswith("村卫生室") for n in names)
    assert any(n.startswith(("老百姓大药房(", "漱玉平民大药房(", "益丰大药房(")) for n in names)
    levels = dict(s.sql("SELECT hosp_lv, COUNT(*) FROM medins WHERE fixmedins_type = '1' GROUP BY 1").fetchall())
    assert set(levels) == {"1", "2", "3", "9"}
    assert _one(s, "SELECT COUNT(*) FROM medins WHERE fixmedins_type = '2' AND hosp_lv <> '9'") == 0
    assert _one(s, "SELECT COUNT(*) FROM psn WHERE death_date IS NOT NULL") > 50


def test_seasons_chronic_patients_and_pharmacies(s):
    jan, jul = _row(s, """SELECT COUNT(*) FILTER (WHERE MONTH(begntime) = 1), COUNT(*) FILTER (WHERE MONTH(begntime) = 7)
                        FROM mdtrt WHERE med_type = '11' AND dise_codg LIKE 'J%'""")
    assert jan > 1.8 * jul
    monthly = _one(s, """SELECT COUNT(*) FROM (SELECT psn_no FROM mdtrt WHERE med_type = '14' AND dise_codg IN ('I10', 'E11.9', 'J44.9')
                         GROUP BY 1 HAVING COUNT(DISTINCT MONTH(begntime)) >= 8)""")
    assert monthly > 300
    assert _one(s, "SELECT COUNT(*) FROM mdtrt m JOIN medins i USING (fixmedins_code) WHERE m.med_type = '41' AND i.fixmedins_type <> '2'") == 0
    stays = dict(s.sql("""SELECT i.hosp_lv, AVG(DATE_DIFF('day', CAST(begntime AS DATE), CAST(endtime AS DATE)))
                          FROM mdtrt m JOIN medins i USING (fixmedins_code) WHERE med_type = '21' GROUP BY 1""").fetchall())
    assert stays["1"] > stays["2"] > stays["3"] and "9" not in stays


def test_the_manifest_records_the_generator_and_the_data_folder_opens(demo, s):
    m = json.loads((demo / "data_manifest.json").read_text(encoding="utf-8"))
    assert m["source"]["scale"] == "demo" and m["source"]["seed"] == 2024 and m["source"]["generator_version"]
    assert m["source"]["incidental_cost_share_outliers"] == [] and m["source"]["unrealised_cases"] == []
    assert datafolder.verify_manifest(demo) == []
    assert set(s.tables) == set(datafolder.schema.TABLE_ORDER) | {"truth"}
