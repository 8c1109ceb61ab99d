"""The findings queue: a run's findings in memory with their institution's facts, filtered fast.

A dashboard changes a filter many times a minute, so the run's findings are read once (DuckDB
joins each finding to its institution's name, county and category) and held as a pandas frame
with integer codes for every filter column; :meth:`FindingsQueue.filter` is then a few numpy
comparisons, well under the 300 ms a dashboard may take even on a city's findings.
Money stays exact: the amounts are :class:`~decimal.Decimal`, and the minimum-amount filter and
the selection's total use integer fen.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from .evidence import rows as _evidence
from .briefing import CATEGORY_SQL, Briefing, county_names, rule_names
from .errors import DataFolderError, WorkbenchError
from .money import to_fen_at_least
from .runs import RunFolder
from .session import Session

STATUSES = ("undecided", "open", "confirmed", "dismissed")
COLUMNS = ["finding_id", "rule_id", "rule_name_zh", "rule_name_en", "official_code", "result_type",
           "fixmedins_code", "fixmedins_name", "admdvs", "county", "category", "dr_code", "psn_no", "mdtrt_id",
           "amount_at_risk", "status", "detail", "detail_en", "evidence"]


to_fen = to_fen_at_least  # a minimum in yuan -> fen, rounded up (workbench.money)


@dataclass
class Selection:
    """The findings a filter keeps.

    Attributes
    ----------
    count : int
        How many findings match.
    amount_at_risk : Decimal
        Their money at risk, yuan.
    rows : pandas.DataFrame
        The first ``limit`` of them (most money first), columns :data:`COLUMNS`.
    positions : numpy.ndarray
        Row positions of every match in :attr:`FindingsQueue.frame`.
    """

    count: int
    amount_at_risk: Decimal
    rows: pd.DataFrame
    positions: np.ndarray


class FindingsQueue:
    """A run's findings, ready to filter and to open one by one.

    Parameters
    ----------
    run : path
        A run folder.
    data : path, optional
        Its data folder (default: the one the run's manifest records); needed for institution
        facts and evidence rows.
    home : path, optional
        The workbench home of the case store (for each finding's status).
    session : workbench.Session, optional
        An open session over ``data`` to reuse.
    library : dict, optional
        A loaded rule library for rule names (default: the shipped library's names).

    Attributes
    ----------
    frame : pandas.DataFrame
        Every finding, most money at risk first (:data:`COLUMNS`).
    """

    def __init__(self, run, data=None, home=None, session=None, library=None):
        self.run = Path(run)
        folder = RunFolder(self.run)  # not a run folder, or a changed one, is refused
        path = folder.findings_path
        self.manifest = folder.manifest
        recorded = folder.data_folder
        self.data = Path(data if data is not None else recorded) if (data or recorded) else None
        self.session = session if session is not None else (Session(self.data) if self.data else None)
        self.home = home
        names = rule_names(library)
        src = f"read_parquet('{str(path.resolve()).replace(chr(39), chr(39) * 2)}')"
        if self.session is not None:
            df = self.session.df(f"""
                SELECT f.*, CAST(f.amount_at_risk * 100 AS BIGINT) AS amount_fen,
                       m.fixmedins_name, m.admdvs, {CATEGORY_SQL.format(m='m')} AS category
                FROM {src} f LEFT JOIN medins m ON m.fixmedins_code = f.fixmedins_code
                ORDER BY f.amount_at_risk DESC, f.finding_id""")
        else:
            import duckdb

            df = duckdb.sql(f"SELECT *, CAST(amount_at_risk * 100 AS BIGINT) AS amount_fen, "
                            "CAST(NULL AS VARCHAR) AS fixmedins_name, CAST(NULL AS VARCHAR) AS admdvs, "
                            f"'unknown' AS category FROM {src} "
                            "ORDER BY amount_at_risk DESC, finding_id").to_arrow_table().to_pandas()
        counties = county_names()
        df["county"] = [counties.get(a, a) if isinstance(a, str) else None for a in df["admdvs"]]
        df["rule_name_zh"] = [names.get(r, (r, r))[0] for r in df["rule_id"]]
        df["rule_name_en"] = [names.get(r, (r, r))[1] for r in df["rule_id"]]
        df["status"] = "undecided"
        self._fen = df["amount_fen"].to_numpy(dtype=np.int64)
        self.frame = df[COLUMNS].reset_index(drop=True)
        self._codes = {c: pd.Categorical(self.frame[c].fillna("")) for c in
                       ("rule_id", "admdvs", "fixmedins_code", "result_type")}
        self.refresh_status()

    def __len__(self):
        return len(self.frame)

    # ------------------------------------------------------------------ cases
    def refresh_status(self):
        """Read each finding's status from the case store (``undecided`` when never decided)."""
        status = np.full(len(self.frame), "undecided", dtype=object)
        try:
            from .cases import CaseStore

            cur = CaseStore(self.home).current()
        except WorkbenchError:
            cur = None
        if cur is not None and len(cur):
            known = dict(zip(cur["finding_id"], cur["status"]))
            status = np.array([known.get(f, "undecided") for f in self.frame["finding_id"]], dtype=object)
        self.frame["status"] = status
        self._status = pd.Categorical(status, categories=list(STATUSES))

    def set_status(self, finding_id: str, status: str):
        """Record in memory that a finding's status is now ``status`` (after a decision)."""
        if status not in STATUSES:
            raise WorkbenchError(f"status {status!r}: must be one of {', '.join(STATUSES)}")
        hit = np.flatnonzero(self.frame["finding_id"].to_numpy() == finding_id)
        if not len(hit):
            raise WorkbenchError(f"{self.run}: no finding {finding_id!r}")
        self.frame.loc[hit, "status"] = status
        codes = self._status.codes.copy()
        codes[hit] = STATUSES.index(status)
        self._status = pd.Categorical.from_codes(codes, categories=list(STATUSES))

    # ------------------------------------------------------------------ choices
    def options(self) -> dict:
        """The values each filter can take, with how many findings have them.

        Returns ``{"rule_id": [(id, name_zh, name_en, n)], "admdvs": [(code, county, n)],
        "fixmedins_code": [(code, name, n)], "result_type": [(type, n)], "status": [(status, n)]}``,
        each most findings first (ties by value).
        """
        f = self.frame

        def counted(cols):
            g = f[f[cols[0]].notna()].groupby(cols, dropna=False, sort=False).size().reset_index(name="n")
            g = g.sort_values(["n", cols[0]], ascending=[False, True])
            return [tuple(None if (v is None or v != v) else v for v in r) for r in g.itertuples(index=False)]

        return {
            "rule_id": counted(["rule_id", "rule_name_zh", "rule_name_en"]),
            "admdvs": counted(["admdvs", "county"]),
            "fixmedins_code": counted(["fixmedins_code", "fixmedins_name"]),
            "result_type": counted(["result_type"]),
            "status": [(s, int((f["status"] == s).sum())) for s in STATUSES],
        }

    # ------------------------------------------------------------------ filtering
    def months(self) -> np.ndarray:
        """The month of care (``YYYY-MM``, '' when several or none) of each finding of :attr:`frame`.

        The briefing's own :attr:`workbench.briefing.Briefing.finding_months`, so a month of its
        trend chart opens exactly the findings counted in that month; read once, when first asked.
        """
        if self._months is None:
            if self.session is None:
                raise DataFolderError(f"{self.run}: no data folder to find the findings' month of care in")
            fm = Briefing(self.run, data=self.data, session=self.session).finding_months
            known = dict(zip(fm["finding_id"], fm["month"].fillna("")))
            self._months = np.array([known.get(f, "") for f in self.frame["finding_id"]], dtype=object)
        return self._months

    _months = None

    def mask(self, rule=None, county=None, institution=None, result_type=None, min_amount=None, status=None,
             month=None) -> np.ndarray:
        """Boolean mask of the findings matching every filter given (None or '' = any).

        ``month`` (``YYYY-MM``) keeps the findings of that month of care (:meth:`months`).
        """
        keep = np.ones(len(self.frame), dtype=bool)
        if month:
            if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(month)):
                raise WorkbenchError(f"month {month!r}: give it as YYYY-MM, e.g. 2024-03")
            keep &= self.months() == month
        for col, value in (("rule_id", rule), ("admdvs", county), ("fixmedins_code", institution),
                           ("result_type", result_type)):
            if value:
                cat = self._codes[col]
                code = cat.categories.get_indexer([value])[0]
                keep &= (cat.codes == code) if code >= 0 else False
        if status:
            if status not in STATUSES:
                raise WorkbenchError(f"status {status!r}: must be one of {', '.join(STATUSES)}")
            keep &= self._status.codes == STATUSES.index(status)
        fen = to_fen(min_amount)
        if fen is not None:
            keep &= self._fen >= fen
        return keep

    def filter(self, limit: int = 50, **filters) -> Selection:
        """The findings matching ``filters`` (see :meth:`mask`): count, money, the first ``limit`` rows."""
        keep = self.mask(**filters)
        pos = np.flatnonzero(keep)
        total = Decimal(int(self._fen[pos].sum())) / 100
        return Selection(count=len(pos), amount_at_risk=total.quantize(Decimal("0.01")),
                         rows=self.frame.iloc[pos[:limit]], positions=pos)

    # ------------------------------------------------------------------ one finding
    def finding(self, finding_id: str) -> dict:
        """One finding as a dict (:data:`COLUMNS`); raise WorkbenchError when the run has none of that id."""
        hit = self.frame.index[self.frame["finding_id"] == finding_id]
        if not len(hit):
            raise WorkbenchError(f"{self.run}: no finding {finding_id!r}")
        return self.frame.loc[hit[0]].to_dict()

    def evidence(self, finding_id: str) -> dict:
        """The rows behind a finding, one DataFrame per table, personal data masked."""
        if self.session is None:
            raise DataFolderError(f"{self.run}: no data folder to read the evidence rows from")
        return _evidence.evidence_rows(self.session, self.finding(finding_id)["evidence"])
