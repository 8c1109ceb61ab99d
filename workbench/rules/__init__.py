"""The rule library (规则库): rules as data files, run by DuckDB or Spark.

Each rule is a YAML file in ``workbench/rules/library`` (format: ``docs/rule-format.md``); this
package loads and validates them, registers the derived views and knowledge tables they read,
runs them and turns their rows into findings with stable ids.

Public API
----------
load_library(path=None) -> dict of id to Rule
load_rules_dir(path) -> dict of id to Rule, a bureau's own rules (checked; ``--rules-dir``)
library_with(rules_dir=None) -> the built-in library plus a bureau's folder
library_table(library=None) -> DataFrame, one row per rule
run_rule(session, rule, params=None) -> DataFrame of findings
run_rules(session, rules=None, params=None, progress=True) -> AuditResult
resolve_params(library, config=None, overrides=None) -> {rule_id: {param: value}}
sweep(session, rule_id, param, values, params=None) -> DataFrame
check_visit(session, mdtrt_id, rules=None, params=None, new_visit=None) -> DataFrame
evaluate(findings, truth) -> DataFrame (recall / precision per rule)
RuleAnalysis(session, params, seed=, engine=) -> .findings, .evaluate(truth) (the analyses' protocol)
"""
from .analysis import RuleAnalysis  # noqa: F401
from .engine import AuditResult, run_rule, run_rules  # noqa: F401
from .evaluate import evaluate, match_truth  # noqa: F401
from .findings import COLUMNS as FINDING_COLUMNS  # noqa: F401
from .local import library_with, load_rules_dir  # noqa: F401
from .loader import (LIBRARY_DIR, Param, Rule, library_table, load_library, load_rule,  # noqa: F401
                     parse_param_overrides, read_config, resolve_params)
from .sweep import sweep  # noqa: F401
from .visit import check_visit  # noqa: F401
