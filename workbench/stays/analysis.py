"""One analysis of stays: :class:`StayAnalysis` keeps the results for one session and one set of
parameters (what the widgets show)."""
from __future__ import annotations

from functools import cached_property

import pandas as pd

from .episodes import _check_window, _session, episodes, gap_counts, person_stays, readmission_pairs, stay_bill
from .patterns import institution_gap_profile, institution_patterns, readmission_summary


class StayAnalysis:
    """The stays results of one session and one set of parameters, each computed once.

    Parameters
    ----------
    data : Session or path
        An open session or a data folder.
    window_days : int
    **pattern_params
        Passed to :func:`institution_patterns` (``cost_limit``, ``los_limit_days``, ...).

    Attributes
    ----------
    episodes, pairs, gaps, institutions : DataFrame
        :func:`episodes`, :func:`readmission_pairs`, :func:`gap_counts`,
        :func:`institution_patterns` (computed on first use).
    summary : dict
        :func:`readmission_summary`.
    """

    def __init__(self, data, window_days: int = 15, **pattern_params):
        self.session = _session(data)
        self.window_days = _check_window(window_days)
        self.pattern_params = pattern_params

    @cached_property
    def episodes(self) -> pd.DataFrame:
        return episodes(self.session)

    @cached_property
    def pairs(self) -> pd.DataFrame:
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
