"""One analysis of stays: :class:`StayAnalysis` keeps the results for one session and one set of
parameters (what the widgets show), in the analyses' common protocol (:mod:`workbench.truth`)."""
from __future__ import annotations

import inspect
from functools import cached_property

import pandas as pd

from ..errors import WorkbenchError
from ..truth import DEFAULT_SEED, check_seed, read_truth
from .episodes import (_check_window, _session, episodes, gap_counts, person_stays, readmission_pairs,
                       readmission_pairs_spark, stay_bill)
from .patterns import institution_gap_profile, institution_patterns, readmission_summary

ENGINES = ("duckdb", "spark")
#: Columns of :meth:`StayAnalysis.evaluate`.
EVAL_COLUMNS = ["fixmedins_code", "split_rank", "split_z", "split_p", "short_gap_readmissions", "institutions"]
#: The truth scenario of a hospital that splits stays.
SPLIT_SCENARIO = "split_stay_hospital"
_PATTERN_PARAMS = [n for n in inspect.signature(institution_patterns).parameters if n not in ("session", "window_days")]


class StayAnalysis:
    """The stays results of one session and one set of parameters, each computed once.

    Parameters
    ----------
    session : Session or path
        An open session or a data folder.
    params : dict or int, optional
        ``window_days`` (default 15) and the parameters of :func:`institution_patterns`
        (``cost_limit``, ``los_limit_days``, ...); an int is the window (the older form
        ``StayAnalysis(session, 15)``).
    seed : int
        Kept for the common protocol: no step of the stays analysis is random.
    engine : {"duckdb", "spark"}
        Where the readmission pairs are computed (the same pairs, row for row); the other
        results are DuckDB queries over the session.
    spark : SparkSession, optional
    window_days : int, optional
        Overrides ``params``.
    **pattern_params
        Override ``params`` (``cost_limit``, ``los_limit_days``, ...).

    Attributes
    ----------
    episodes, pairs, gaps, institutions : DataFrame
        :func:`episodes`, :func:`readmission_pairs`, :func:`gap_counts`,
        :func:`institution_patterns` (computed on first use).
    summary : dict
        :func:`readmission_summary`.
    """

    def __init__(self, session, params=None, seed: int = DEFAULT_SEED, engine: str = "duckdb", spark=None,
                 window_days=None, **pattern_params):
        p = {"window_days": 15}
        if isinstance(params, int) and not isinstance(params, bool):
            p["window_days"] = params
        elif params is not None:
            p.update(params)
        if window_days is not None:
            p["window_days"] = window_days
        p.update(pattern_params)
        unknown = sorted(set(p) - {"window_days", *_PATTERN_PARAMS})
        if unknown:
            raise WorkbenchError(f"stays: unknown parameter(s) {', '.join(unknown)}; known: window_days, {', '.join(_PATTERN_PARAMS)}")
        if engine not in ENGINES:
            raise WorkbenchError(f"stays: unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
        self.session = _session(session)
        self.window_days = _check_window(p.pop("window_days"))
        self.pattern_params = p
        self.seed = check_seed(seed, "stays")
        self.engine, self.spark = engine, spark

    @property
    def params(self) -> dict:
        """``window_days`` and the pattern parameters given."""
        return {"window_days": self.window_days, **self.pattern_params}

    @cached_property
    def episodes(self) -> pd.DataFrame:
        return episodes(self.session)

    @cached_property
    def pairs(self) -> pd.DataFrame:
        if self.engine == "spark":
            return readmission_pairs_spark(self.session, self.window_days, self.spark)
        return readmission_pairs(self.session, self.window_days)

    @cached_property
    def gaps(self) -> pd.DataFrame:
        return gap_counts(self.session, self.window_days)

    @cached_property
    def institutions(self) -> pd.DataFrame:
        return institution_patterns(self.session, self.window_days, **self.pattern_params)

    @cached_property
    def summary(self) -> dict:
        return readmission_summary(self.session, self.window_days)

    def person(self, psn_no: str) -> pd.DataFrame:
        """:func:`person_stays`."""
        return person_stays(self.session, psn_no)

    def bill(self, mdtrt_id: str) -> pd.DataFrame:
        """:func:`stay_bill`."""
        return stay_bill(self.session, mdtrt_id)

    def institution_gaps(self, fixmedins_code: str) -> pd.DataFrame:
        """:func:`institution_gap_profile` of one institution."""
        return institution_gap_profile(self.gaps, self.institutions, fixmedins_code, self.window_days)

    def institution_pairs(self, fixmedins_code: str) -> pd.DataFrame:
        """The readmission pairs at one institution, shortest gap first."""
        p = self.pairs[self.pairs.fixmedins_code == fixmedins_code]
        return p.sort_values(["gap_days", "psn_no", "second_mdtrt_id"], kind="mergesort").reset_index(drop=True)

    def evaluate(self, truth=None) -> pd.DataFrame:
        """Where the planted splitting hospitals rank.

        Parameters
        ----------
        truth : DataFrame or path, optional
            ``truth`` rows (default: the data folder's ``truth`` table); the hospitals of
            scenario :data:`SPLIT_SCENARIO` are the positives.

        Returns
        -------
        DataFrame
            :data:`EVAL_COLUMNS`, one row per planted hospital by code: its ``split_rank``
            (1 = most suspicious; null when it has no inpatient stay), ``split_z``, ``split_p``,
            ``short_gap_readmissions``, and ``institutions``, the number ranked.
        """
        t = read_truth(self.session, truth, "stays")
        if not {"scenario", "fixmedins_code"} <= set(t.columns):
            raise WorkbenchError("stays: truth needs columns scenario and fixmedins_code")
        planted = sorted(set(t.loc[(t.scenario == SPLIT_SCENARIO) & t.fixmedins_code.notna(), "fixmedins_code"].astype(str)))
        inst = self.institutions.set_index("fixmedins_code")
        out = pd.DataFrame({"fixmedins_code": planted})
        for c in EVAL_COLUMNS[1:-1]:
            out[c] = out.fixmedins_code.map(inst[c]) if planted else pd.Series(dtype=inst[c].dtype)
        out["split_rank"] = out["split_rank"].astype("Int64")
        out["short_gap_readmissions"] = out["short_gap_readmissions"].astype("Int64")
        out["institutions"] = len(inst)
        return out[EVAL_COLUMNS]
