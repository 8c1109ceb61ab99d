"""One analysis protocol: ``XAnalysis(session, params, seed=, engine=)`` and ``.evaluate(truth)``
returning a DataFrame, for providers, rings, stays and rules (issue 20, item 5)."""
from __future__ import annotations

import inspect

import pandas as pd
import pytest

import workbench
from workbench import providers, rings, stays
from workbench.errors import RuleError, WorkbenchError
from workbench.rules import RuleAnalysis, run_rules
from workbench.rules.analysis import EVAL_COLUMNS as RULE_EVAL_COLUMNS

ANALYSES = {
    # class, its main result (a frame), the documented evaluation columns
    "providers": (providers.ProviderAnalysis, lambda a: a.institutions, providers.EVALUATION_COLUMNS),
    "rings": (rings.RingAnalysis, lambda a: a.rings, rings.EVAL_COLUMNS),
    "stays": (stays.StayAnalysis, lambda a: a.institutions, stays.EVAL_COLUMNS),
    "rules": (RuleAnalysis, lambda a: a.findings, RULE_EVAL_COLUMNS),
}
# params of the same-seed test where None (everything) would take long: rules whose tables differ
SAME_SEED_PARAMS = {"rules": {"rules": ["split_hospitalization", "claims_after_death", "overlapping_stays"]}}


@pytest.fixture(scope="module")
def session(demo_data):
    with workbench.open(demo_data) as s:
        yield s


@pytest.mark.parametrize("name", ANALYSES)
def test_same_constructor_keywords(name):
    sig = inspect.signature(ANALYSES[name][0].__init__).parameters
    assert list(sig)[:6] == ["self", "session", "params", "seed", "engine", "spark"]
    assert (sig["params"].default, sig["seed"].default, sig["engine"].default) == (None, 2024, "duckdb")


@pytest.mark.parametrize("name", ANALYSES)
def test_bad_seed_and_engine_are_refused(session, name):
    cls = ANALYSES[name][0]
    with pytest.raises(WorkbenchError, match=f"{name}: seed must be an integer"):
        cls(session, seed="1")
    with pytest.raises(WorkbenchError, match=f"{name}: unknown engine 'sqlite'"):
        cls(session, engine="sqlite")


@pytest.mark.parametrize("name", ANALYSES)
def test_same_seed_same_result(session, name):
    cls, result, _ = ANALYSES[name]
    params = SAME_SEED_PARAMS.get(name)
    first, second = result(cls(session, params, seed=7)), result(cls(session, params, seed=7))
    assert len(first) > 0
    pd.testing.assert_frame_equal(first, second)


def test_the_seed_reaches_the_providers_detectors(session):
    a, b = providers.ProviderAnalysis(session, seed=7), providers.ProviderAnalysis(session, seed=8)
    assert not a.institutions.risk_score.equals(b.institutions.risk_score)


def test_providers_evaluate(session, demo_data):
    a = providers.ProviderAnalysis(session, {"contamination": 0.1}, seed=2024)
    assert a.result.params["contamination"] == 0.1 and int(a.institutions.outlier.sum()) == round(0.1 * len(a))
    ev = a.evaluate()
    assert isinstance(ev, pd.DataFrame) and list(ev.columns) == providers.EVALUATION_COLUMNS
    # the table holds exactly the dict of the older function, nothing lost
    d = providers.evaluate(a.result)
    head = ev[ev.key == ""].set_index("metric").value
    assert head["institutions"] == len(a) == d["institutions"] and head["auc"] == pytest.approx(d["auc"])
    assert head["auc"] > 0.8 > head["auc_size"]
    ranks = ev[ev.metric == "positive_ranks"].set_index("key").value
    assert ranks.to_dict() == {k: float(v) for k, v in d["positive_ranks"].items()}
    assert len(ranks) == head["positives"]
    assert set(ev[ev.metric == "auc_by_detector"].key) == set(a.member_scores.columns)
    pd.testing.assert_frame_equal(a.evaluate(demo_data / "truth.parquet"), ev)
    with pytest.raises(WorkbenchError, match="engine, seed are arguments"):
        providers.ProviderAnalysis(session, {"seed": 1, "engine": "spark"})


def test_rings_evaluate(session, demo_data):
    a = rings.RingAnalysis(session, None, seed=2024)
    ev = a.evaluate()
    assert isinstance(ev, pd.DataFrame) and list(ev.columns) == rings.EVAL_COLUMNS
    truth = pd.read_parquet(demo_data / "truth.parquet")
    assert len(ev) == truth[truth.rule_id == "rings"].case_id.nunique() >= 2
    assert (ev.jaccard > 0.8).all() and ev["rank"].max() <= 2 * len(ev)
    assert ev.equals(rings.evaluate(a.rings, truth))
    assert a.evaluate(truth[truth.rule_id != "rings"]).empty


def test_stays_evaluate(session):
    a = stays.StayAnalysis(session, {"window_days": 15, "cost_limit": "20000"}, seed=2024)
    assert a.params == {"window_days": 15, "cost_limit": "20000"}
    ev = a.evaluate()
    assert isinstance(ev, pd.DataFrame) and list(ev.columns) == stays.EVAL_COLUMNS
    planted = stays.planted_split_hospitals(session)
    assert ev.fixmedins_code.tolist() == planted and len(planted) >= 1
    assert ev.split_rank.max() <= len(planted) and (ev.split_z > 3.5).all()
    assert (ev.institutions == len(a.institutions)).all()
    # the older form (window as the second argument) is the same analysis
    old = stays.StayAnalysis(session, 15, cost_limit="20000")
    assert old.params == a.params
    pd.testing.assert_frame_equal(old.institutions, a.institutions)
    with pytest.raises(WorkbenchError, match="unknown parameter"):
        stays.StayAnalysis(session, {"window": 15})


RULES = ["split_hospitalization", "claims_after_death", "overlapping_stays"]


def test_rules_findings_and_evaluate(session, demo_data):
    a = RuleAnalysis(session, {"rules": RULES})
    assert list(a.rules) == RULES and a.params == {"rules": RULES, "overrides": {}}
    assert a.values["split_hospitalization"] == {"window_days": 15, "same_diagnosis": True}
    # the findings are run_rules' (what workbench audit writes), row for row
    pd.testing.assert_frame_equal(a.findings, run_rules(session, RULES, progress=False).findings)
    assert set(a.findings.rule_id) == set(RULES)
    ev = a.evaluate()
    assert isinstance(ev, pd.DataFrame) and list(ev.columns) == RULE_EVAL_COLUMNS
    assert ev.rule_id.tolist() == RULES  # the order run
    truth = pd.read_parquet(demo_data / "truth.parquet")
    planted = truth.rule_id.value_counts()
    assert ev.planted.tolist() == [int(planted[r]) for r in RULES] and (ev.planted > 0).all()
    assert (ev.recalled == ev.planted).all() and (ev.recall == 1.0).all() and (ev.precision == 1.0).all()
    assert ev.findings.tolist() == [int((a.findings.rule_id == r).sum()) for r in RULES]
    pd.testing.assert_frame_equal(a.evaluate(demo_data / "truth.parquet"), ev)
    # truth without these rules' cases: nothing planted, every finding unconfirmed
    none = a.evaluate(truth[~truth.rule_id.isin(RULES)])
    assert (none.planted == 0).all() and none.recall.isna().all() and (none.precision == 0.0).all()


def test_rules_overrides(session):
    # without the diagnosis condition the rule's pairs are workbench stays' readmission pairs
    a = RuleAnalysis(session, {"rules": ["split_hospitalization"],
                               "overrides": {"split_hospitalization": {"same_diagnosis": False}}})
    pairs = stays.readmission_pairs(session, 15)
    assert len(pairs) > 0
    assert sorted(a.findings.mdtrt_id) == sorted(pairs.second_mdtrt_id)
    # no readmission on the day of discharge in the demo: a window of 0 days finds none
    w0 = RuleAnalysis(session, {"rules": ["split_hospitalization"],
                                "overrides": {"split_hospitalization": {"window_days": 0}}})
    assert w0.findings.empty and w0.values["split_hospitalization"]["window_days"] == 0
    ev = w0.evaluate()
    assert ev.recalled.tolist() == [0] and ev.recall.tolist() == [0.0] and ev.planted.iloc[0] > 0


def test_rules_params_are_checked_before_anything_runs(session):
    with pytest.raises(WorkbenchError, match="rules: unknown parameter.*window_days; known: rules, overrides"):
        RuleAnalysis(session, {"window_days": 3})
    with pytest.raises(RuleError, match="unknown rule 'no_such_rule'"):
        RuleAnalysis(session, {"rules": ["no_such_rule"]})
    with pytest.raises(RuleError, match="parameters given for rule 'claims_after_death', which is not among"):
        RuleAnalysis(session, {"rules": ["split_hospitalization"], "overrides": {"claims_after_death": {}}})
    with pytest.raises(RuleError, match="split_hospitalization"):
        RuleAnalysis(session, {"rules": ["split_hospitalization"],
                               "overrides": {"split_hospitalization": {"window_days": -1}}})


def test_evaluate_without_truth_says_so(session, tmp_path):
    import shutil

    folder = tmp_path / "no-truth"
    shutil.copytree(session.folder, folder, ignore=shutil.ignore_patterns("truth.parquet"))
    manifest = (folder / "data_manifest.json")
    import json

    m = json.loads(manifest.read_text(encoding="utf-8"))
    m["tables"].pop("truth", None)
    manifest.write_text(json.dumps(m), encoding="utf-8")
    with workbench.open(folder) as s:
        assert not s.has("truth")
        with pytest.raises(WorkbenchError, match="rings: .* has no truth table"):
            rings.RingAnalysis(s).evaluate()
        with pytest.raises(WorkbenchError, match="stays: .* has no truth table"):
            stays.StayAnalysis(s).evaluate()
        with pytest.raises(WorkbenchError, match="rules: .* has no truth table"):
            RuleAnalysis(s, {"rules": ["claims_after_death"]}).evaluate()


@pytest.mark.spark
def test_stays_pairs_on_spark_are_duckdbs(session, spark):
    duck = stays.StayAnalysis(session, 15).pairs
    on_spark = stays.StayAnalysis(session, 15, engine="spark", spark=spark).pairs
    assert len(duck) > 0
    pd.testing.assert_frame_equal(on_spark[list(duck.columns)], duck, check_dtype=False)


@pytest.mark.spark
def test_rule_findings_on_spark_are_duckdbs(session, spark):
    duck = RuleAnalysis(session, {"rules": ["split_hospitalization"]}).findings
    on_spark = RuleAnalysis(session, {"rules": ["split_hospitalization"]}, engine="spark", spark=spark).findings
    assert len(duck) > 0
    pd.testing.assert_frame_equal(on_spark, duck)
