"""The rule library as one analysis: :class:`RuleAnalysis` runs a selection of rules once on a
session and evaluates their findings, in the analyses' common protocol (:mod:`workbench.truth`)."""
from __future__ import annotations

from functools import cached_property

import pandas as pd

from ..errors import WorkbenchError
from ..truth import DEFAULT_SEED, check_seed, read_truth
from .engine import AuditResult, resolve_selection, run_rules
from .evaluate import COLUMNS as EVAL_COLUMNS
from .evaluate import evaluate

ENGINES = ("duckdb", "spark")
#: The keys of ``params``.
PARAM_KEYS = ("rules", "overrides")


def _session(data):
    from ..session import Session

    return data if isinstance(data, Session) else Session(data)


class RuleAnalysis:
    """Findings of a selection of rules on one session, run once, and their recall and precision.

    Parameters
    ----------
    session : Session or path
        An open session or a data folder.
    params : dict, optional
        ``rules``: the rules to run (ids of ``library``, :class:`~workbench.rules.loader.Rule`
        objects, or a dict of them; default: every rule of ``library``); ``overrides``:
        ``{rule_id: {param: value}}`` over the rules' defaults (``--param``, a regional file).
        Checked here: an unknown rule, parameters for a rule not chosen or a bad value raise
        :class:`~workbench.errors.RuleError` before anything runs.
    seed : int
        Kept for the common protocol: no rule is random.
    engine : {"duckdb", "spark"}
        Where the rules' SQL runs (the same findings, row for row).
    spark : SparkSession, optional
        The Spark session of ``engine="spark"`` (default: one local session, reused).
    library : dict, optional
        The rules ids are looked up in (default: the shipped library).
    environment : tuple of Path, optional
        Folders of derived views and knowledge to run with (a recorded run's); see
        :func:`~workbench.rules.engine.run_rules`.
    progress : bool
        One line per rule on standard error (``out``), as ``workbench audit`` prints.
    out : file, optional

    Attributes
    ----------
    rules : dict of str to Rule
        The rules chosen, in the order they run.
    values : dict
        ``{rule_id: {param: value}}`` every value used, defaults included.
    result : AuditResult
        The run (computed on first use): ``findings``, ``counts``, ``skipped``, ``seconds`` ...
    findings : DataFrame
        ``result.findings``: one row per finding, sorted by ``finding_id``.
    """

    def __init__(self, session, params=None, seed: int = DEFAULT_SEED, engine: str = "duckdb", spark=None,
                 library=None, environment=None, progress: bool = False, out=None):
        p = dict(params or {})
        unknown = sorted(set(p) - set(PARAM_KEYS))
        if unknown:
            raise WorkbenchError(f"rules: unknown parameter(s) {', '.join(unknown)}; known: {', '.join(PARAM_KEYS)}")
        self.seed = check_seed(seed, "rules")
        if engine not in ENGINES:
            raise WorkbenchError(f"rules: unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
        self.session = _session(session)
        self.engine, self.spark, self.library, self.environment = engine, spark, library, environment
        self.progress, self.out = progress, out
        self.overrides = {rid: dict(v) for rid, v in (p.get("overrides") or {}).items()}
        self.rules, self.values = resolve_selection(p.get("rules"), self.overrides, library)

    @property
    def params(self) -> dict:
        """The rule ids chosen and the overrides given."""
        return {"rules": list(self.rules), "overrides": self.overrides}

    def __repr__(self):
        return f"RuleAnalysis({len(self.rules)} rules, engine={self.engine!r}, overrides={self.overrides!r})"

    @cached_property
    def result(self) -> AuditResult:
        """:func:`~workbench.rules.engine.run_rules` of the chosen rules (computed on first use)."""
        return run_rules(self.session, self.rules, params=self.overrides, progress=self.progress,
                         library=self.library, engine=self.engine, out=self.out,
                         environment=self.environment, spark=self.spark)

    @property
    def findings(self) -> pd.DataFrame:
        return self.result.findings

    def evaluate(self, truth=None) -> pd.DataFrame:
        """Recall and precision of every rule that ran, against the planted cases.

        Parameters
        ----------
        truth : DataFrame or path, optional
            ``truth`` rows (default: the data folder's ``truth`` table).

        Returns
        -------
        DataFrame
            :data:`EVAL_COLUMNS` (``rule_id, planted, recalled, recall, findings, confirmed,
            precision``), one row per rule that ran, in the order run
            (:func:`~workbench.rules.evaluate.evaluate`; what ``workbench audit`` writes to
            ``evaluation.csv``).
        """
        t = read_truth(self.session, truth, "rules")
        return evaluate(self.findings, t, rules=list(self.result.counts))
