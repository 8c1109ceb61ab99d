"""The figures a bureau's briefing shows (工作简报), from a run folder, its data folder and the case store.

Everything here is about institutions and rules, never persons: no query selects ``psn_no``,
``dr_code``, ``certno`` or a name, so a briefing can be projected in a press conference.

* **Screening** (from ``RUN/findings.parquet`` and the data folder): institutions audited (every
  designated institution of the data folder's ``medins``), institutions with findings, findings,
  definite violations, money at risk; by month (the month of the care behind each finding, when
  it has one), by county, by rule, by institution type, and the institutions with the most money
  at risk.
* **Case outcomes** (from :class:`workbench.cases.CaseStore`, the decisions on this run's
  findings): confirmed, dismissed, money confirmed and recovered, agreements suspended and
  terminated, fines, referrals.
* **A period's outcomes** (:meth:`Briefing.outcomes`, issue 19): inspections, suspensions, fines,
  money recovered, exposures … of every case in the store, by the date each happened
  (``workbench briefing --from --to``, :mod:`workbench.period_briefing`).

Money is exact: DuckDB sums ``DECIMAL(18,2)`` and the figures arrive as :class:`~decimal.Decimal`.
"""
from __future__ import annotations

import csv
from decimal import Decimal
from functools import cached_property
from pathlib import Path

import pandas as pd

from .runs import RunFolder
from .cases import CaseStore, briefing_figures
from .cases.outcomes import Outcomes
from .errors import DataFolderError, WorkbenchError
from .session import Session

ZERO = Decimal("0.00")
# The institution category of a medins row, in the order of workbench.i18n.CATEGORIES.
CATEGORY_SQL = """CASE WHEN {m}.fixmedins_code IS NULL THEN 'unknown'
     WHEN {m}.fixmedins_type = '2' THEN 'pharmacy'
     WHEN {m}.hosp_lv = '1' THEN 'tertiary' WHEN {m}.hosp_lv = '2' THEN 'secondary'
     WHEN {m}.hosp_lv = '3' THEN 'primary' ELSE 'grassroots' END"""
CATEGORY_ORDER = ("tertiary", "secondary", "primary", "grassroots", "pharmacy", "unknown")
_COUNTIES_CSV = Path(__file__).parent / "synth" / "data" / "counties.csv"


def county_names() -> dict:
    """Names of the region codes (区划代码 → 区县名) the workbench knows; unknown codes show as codes."""
    if not _COUNTIES_CSV.is_file():
        return {}
    with _COUNTIES_CSV.open(encoding="utf-8") as f:
        return {r["admdvs"]: r["county_name"] for r in csv.DictReader(f)}


def rule_names(library=None) -> dict:
    """``{rule_id: (name_zh, name_en)}`` of a rule library (default: the shipped one).

    Reads only the names from the rule files (YAML), not their SQL: a dashboard needs the names
    on every page load, and validating the whole library takes a second.
    """
    import yaml

    from .rules.loader import LIBRARY_DIR

    if library is not None:
        return {rid: (r.name_zh, r.name_en) for rid, r in library.items()}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out = {}
    for f in sorted(LIBRARY_DIR.glob("*.yaml")):
        doc = yaml.load(f.read_text(encoding="utf-8"), Loader=loader)
        if isinstance(doc, dict) and "id" in doc:
            out[str(doc["id"])] = (str(doc.get("name_zh") or doc["id"]), str(doc.get("name_en") or doc["id"]))
    return out


def medins_counties(session) -> dict:
    """``{fixmedins_code: admdvs}`` of a data folder's ``medins`` (the county of each institution)."""
    return {c: a for c, a in session.rows("SELECT fixmedins_code, admdvs FROM medins WHERE admdvs IS NOT NULL")}


def _sql_text(path: Path) -> str:
    return str(path.resolve()).replace("'", "''")


class Briefing:
    """Briefing figures of one audit run.

    Parameters
    ----------
    run : path
        A run folder (``findings.parquet``, ``manifest.json``).
    data : path, optional
        Its data folder; default the folder the run's manifest records.
    home : path, optional
        The workbench home holding the case store (default ``$WORKBENCH_HOME`` or ``~/.workbench``).
    session : workbench.Session, optional
        An open session over ``data`` to reuse.
    library : dict, optional
        A loaded rule library, for rule names (default: the names of the shipped library,
        :func:`rule_names`).

    Notes
    -----
    Every figure is computed once, on first use, and kept: a briefing shows one moment.
    Call :meth:`refresh_cases` after new decisions.
    """

    def __init__(self, run, data=None, home=None, session=None, library=None):
        self.run = Path(run)
        folder = RunFolder(self.run, verify=False)
        recorded = folder.data_folder
        if data is None and recorded is None:
            raise DataFolderError(f"{self.run}/manifest.json records no data folder: give the data folder")
        self.manifest = folder.verify().manifest  # a changed run is refused, naming the file
        self.data = Path(data if data is not None else recorded)
        self.session = session if session is not None else Session(self.data)
        self.home = home
        self._library = library
        self.session.con.execute(
            "CREATE OR REPLACE TEMP VIEW run_findings AS "
            f"SELECT * FROM read_parquet('{_sql_text(self.run / 'findings.parquet')}')")
        # findings with the facts of their institution (NULL when it is not in medins)
        self.session.con.execute(f"""CREATE OR REPLACE TEMP VIEW run_findings_inst AS
            SELECT f.finding_id, f.rule_id, f.official_code, f.result_type, f.fixmedins_code, f.amount_at_risk,
                   m.fixmedins_name, m.admdvs, {CATEGORY_SQL.format(m='m')} AS category
            FROM run_findings f LEFT JOIN medins m ON m.fixmedins_code = f.fixmedins_code""")

    # ------------------------------------------------------------------ screening
    @cached_property
    def headline(self) -> dict:
        """Institutions audited and with findings, findings, violations, money at risk (Decimal yuan)."""
        audited = self.session.one("SELECT count(DISTINCT fixmedins_code) FROM medins")[0]
        n, viol, flagged, amount = self.session.one(
            "SELECT count(*), count(*) FILTER (WHERE result_type = 'violation'), count(DISTINCT fixmedins_code), "
            "sum(amount_at_risk) FROM run_findings")
        return {"institutions_audited": int(audited), "institutions_flagged": int(flagged), "findings": int(n),
                "violations": int(viol), "amount_at_risk": amount if amount is not None else ZERO}

    @cached_property
    def period(self) -> tuple:
        """First and last month of care in the data folder (``("2024-01", "2024-12")``), or (None, None)."""
        lo, hi = self.session.one("SELECT strftime(min(begntime), '%Y-%m'), strftime(max(begntime), '%Y-%m') FROM mdtrt")
        return lo, hi

    @cached_property
    def finding_months(self) -> pd.DataFrame:
        """The month of care of each finding (``finding_id``, ``month`` ``YYYY-MM`` or None).

        The month of the finding's own visit (``mdtrt_id``); else the month of the visits,
        settlements or stock periods its evidence keys name when they all fall in one month.
        None when they span several months (an institution's pattern over the year, a person's
        visits in a window) or name none (a person or doctor as a whole): putting such a finding
        in its first month would pile a year's money into January.
        """
        con = self.session.con
        con.execute("""CREATE OR REPLACE TEMP TABLE _finding_keys AS
            SELECT finding_id, split_part(key, ':', 1) AS tbl, substr(key, strpos(key, ':') + 1) AS rest
            FROM (SELECT finding_id, unnest(json_extract_string(evidence, '$[*]')) AS key
                  FROM run_findings WHERE mdtrt_id IS NULL)""")
        kinds = {r[0] for r in con.execute("SELECT DISTINCT tbl FROM _finding_keys").fetchall()}
        # settlements are joined only when some evidence names one: scanning setl costs as much as mdtrt
        setl_part = ""
        if "setl" in kinds and self.session.has("setl"):
            setl_part = """UNION ALL SELECT k.finding_id, strftime(s.setl_time, '%Y-%m') FROM _finding_keys k
                           JOIN setl s ON k.tbl = 'setl' AND s.setl_id = k.rest"""
        # one scan of mdtrt for the findings' own visits and the visits their evidence names
        q = f"""
        WITH visit_refs AS (
            SELECT finding_id, mdtrt_id, true AS own FROM run_findings WHERE mdtrt_id IS NOT NULL
            UNION ALL
            SELECT finding_id, CASE tbl WHEN 'mdtrt' THEN rest ELSE split_part(rest, '/', 1) END, false
            FROM _finding_keys WHERE tbl IN ('mdtrt', 'fee')),
        visit_months AS MATERIALIZED (
            SELECT v.finding_id, v.own, strftime(m.begntime, '%Y-%m') AS month
            FROM visit_refs v JOIN mdtrt m ON m.mdtrt_id = v.mdtrt_id),
        key_months AS (
            SELECT finding_id, month FROM visit_months WHERE NOT own
            {setl_part}
            UNION ALL SELECT finding_id, right(rest, 7) FROM _finding_keys WHERE tbl = 'stock'),
        own AS (SELECT finding_id, min(month) AS month FROM visit_months WHERE own GROUP BY finding_id),
        evidence AS (
            SELECT finding_id, CASE WHEN min(month) = max(month) THEN min(month) END AS month
            FROM key_months GROUP BY finding_id)
        SELECT f.finding_id, coalesce(own.month, evidence.month) AS month
        FROM run_findings f LEFT JOIN own USING (finding_id) LEFT JOIN evidence USING (finding_id)"""
        try:
            return self.session.df(q)
        finally:
            con.execute("DROP TABLE IF EXISTS _finding_keys")

    @cached_property
    def by_month(self) -> pd.DataFrame:
        """Findings and money at risk per month of care, every month between the first and last.

        Columns ``month`` (``YYYY-MM``; None last for findings of several or no month, see
        :attr:`finding_months`), ``findings``, ``amount_at_risk`` (Decimal).
        """
        self.session.con.register("_finding_months", self.finding_months)
        try:
            df = self.session.df("""SELECT fm.month, count(*) AS findings, sum(f.amount_at_risk) AS amount_at_risk
                                    FROM run_findings f JOIN _finding_months fm USING (finding_id)
                                    GROUP BY fm.month""")
        finally:
            self.session.con.unregister("_finding_months")
        known = df[df["month"].notna()]
        if len(known):
            months = pd.period_range(min(known["month"]), max(known["month"]), freq="M").strftime("%Y-%m")
            full = pd.DataFrame({"month": list(months)})
            full = full.merge(known, on="month", how="left")
            full["findings"] = full["findings"].fillna(0).astype(int)
            full["amount_at_risk"] = [ZERO if v is None or v != v else v for v in full["amount_at_risk"]]
        else:
            full = known.copy()
        rest = df[df["month"].isna()]
        out = pd.concat([full, rest], ignore_index=True) if len(rest) else full
        out["findings"] = out["findings"].astype(int)
        return out.reset_index(drop=True)

    @cached_property
    def by_county(self) -> pd.DataFrame:
        """Per county (``admdvs``): institutions, institutions with findings, findings, money at risk.

        ``county`` is the county's name when known. Findings whose institution is not in
        ``medins`` (or that name none) form a last row with ``admdvs`` None, so the rows add up
        to the headline. Ordered by money at risk, most first.
        """
        df = self.session.df("""
            WITH inst AS (SELECT admdvs, count(DISTINCT fixmedins_code) AS institutions FROM medins GROUP BY admdvs),
            f AS (SELECT admdvs, count(DISTINCT fixmedins_code) AS institutions_flagged, count(*) AS findings,
                         sum(amount_at_risk) AS amount_at_risk FROM run_findings_inst GROUP BY admdvs)
            SELECT * FROM (
                SELECT coalesce(inst.admdvs, f.admdvs) AS county_code, coalesce(inst.institutions, 0) AS institutions,
                       coalesce(f.institutions_flagged, 0) AS institutions_flagged, coalesce(f.findings, 0) AS findings,
                       coalesce(f.amount_at_risk, 0) AS amount_at_risk
                FROM inst FULL JOIN f ON inst.admdvs IS NOT DISTINCT FROM f.admdvs)
            ORDER BY county_code IS NULL, amount_at_risk DESC, county_code""")
        df = df.rename(columns={"county_code": "admdvs"})
        names = county_names()
        df.insert(1, "county", [names.get(a, a) if a is not None else None for a in df["admdvs"]])
        return _ints(df, ["institutions", "institutions_flagged", "findings"])

    @cached_property
    def by_rule(self) -> pd.DataFrame:
        """Per rule: ``rule_id``, ``official_code``, ``name_zh``, ``name_en``, ``result_type``,
        ``findings``, ``institutions`` (with a finding of it), ``amount_at_risk``; most money first."""
        df = self.session.df("""
            SELECT rule_id, any_value(official_code) AS official_code, any_value(result_type) AS result_type,
                   count(*) AS findings, count(DISTINCT fixmedins_code) AS institutions,
                   sum(amount_at_risk) AS amount_at_risk
            FROM run_findings GROUP BY rule_id ORDER BY amount_at_risk DESC, rule_id""")
        names = self.rule_names
        df.insert(2, "name_zh", [names.get(r, (r, r))[0] for r in df["rule_id"]])
        df.insert(3, "name_en", [names.get(r, (r, r))[1] for r in df["rule_id"]])
        return _ints(df, ["findings", "institutions"])

    @cached_property
    def by_institution_type(self) -> pd.DataFrame:
        """Per institution category (:data:`CATEGORY_ORDER`): institutions, with findings, findings, money."""
        df = self.session.df(f"""
            WITH inst AS (SELECT {CATEGORY_SQL.format(m='medins')} AS category, count(DISTINCT fixmedins_code) AS institutions
                          FROM medins GROUP BY 1),
            f AS (SELECT category, count(DISTINCT fixmedins_code) AS institutions_flagged, count(*) AS findings,
                         sum(amount_at_risk) AS amount_at_risk FROM run_findings_inst GROUP BY category)
            SELECT coalesce(inst.category, f.category) AS category, coalesce(inst.institutions, 0) AS institutions,
                   coalesce(f.institutions_flagged, 0) AS institutions_flagged, coalesce(f.findings, 0) AS findings,
                   coalesce(f.amount_at_risk, 0) AS amount_at_risk
            FROM inst FULL JOIN f ON inst.category = f.category""")
        df["_o"] = [CATEGORY_ORDER.index(c) for c in df["category"]]
        df = df.sort_values("_o").drop(columns="_o").reset_index(drop=True)
        return _ints(df, ["institutions", "institutions_flagged", "findings"])

    def top_institutions(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` institutions with the most money at risk.

        Columns ``fixmedins_code``, ``fixmedins_name``, ``admdvs``, ``county``, ``category``,
        ``findings``, ``rules`` (distinct rules), ``amount_at_risk``, ``confirmed`` (confirmed
        findings in the case store).
        """
        df = self.session.df("""
            SELECT fixmedins_code, any_value(fixmedins_name) AS fixmedins_name, any_value(admdvs) AS admdvs,
                   any_value(category) AS category, count(*) AS findings, count(DISTINCT rule_id) AS rules,
                   sum(amount_at_risk) AS amount_at_risk
            FROM run_findings_inst WHERE fixmedins_code IS NOT NULL
            GROUP BY fixmedins_code ORDER BY amount_at_risk DESC, fixmedins_code LIMIT ?""", [int(n)])
        names = county_names()
        df.insert(3, "county", [names.get(a, a) if a is not None else None for a in df["admdvs"]])
        cur = self.case_current
        conf = cur[cur["status"] == "confirmed"] if cur is not None and len(cur) else None
        counts = conf["fixmedins_code"].value_counts().to_dict() if conf is not None else {}
        df["confirmed"] = [int(counts.get(c, 0)) for c in df["fixmedins_code"]]
        return _ints(df, ["findings", "rules"])

    # ------------------------------------------------------------------ cases
    @cached_property
    def finding_ids(self) -> set:
        return {r[0] for r in self.session.rows("SELECT finding_id FROM run_findings")}

    @cached_property
    def case_current(self):
        """The case store's current decisions on this run's findings (None when the store cannot be read)."""
        try:
            cur = CaseStore(self.home).current()
        except WorkbenchError as e:
            self.cases_error = str(e)
            return None
        self.cases_error = None
        return cur[cur["finding_id"].isin(self.finding_ids)].reset_index(drop=True)

    cases_error = None

    @property
    def cases(self):
        """Case outcome figures (:func:`workbench.cases.briefing_figures` of this run's findings) plus
        ``pending`` (findings not yet confirmed or dismissed); None when the store cannot be read."""
        cur = self.case_current
        if cur is None:
            return None
        figs = briefing_figures(cur)
        figs["pending"] = self.headline["findings"] - figs["confirmed"] - figs["dismissed"]
        return figs

    def outcomes(self) -> Outcomes:
        """What enforcement achieved in any period (:class:`workbench.cases.outcomes.Outcomes`): every
        case and inspection of the store, not only this run's, placed in counties by this data
        folder's ``medins``. Call ``.figures(date_from, date_to, county=None)``, ``.by_month(…)``,
        ``.by_county(…)``, ``.by_rule(…)``; read anew on each call."""
        return Outcomes.of_store(CaseStore(self.home), medins_counties(self.session))

    def refresh_cases(self):
        """Forget the case figures so the next read sees new decisions."""
        self.__dict__.pop("case_current", None)

    # ------------------------------------------------------------------ all of it
    @cached_property
    def rule_names(self) -> dict:
        return rule_names(self._library)

    def info(self) -> dict:
        """What the briefing is about: data period, run time, rules run, data source kind."""
        m = self.manifest
        lo, hi = self.period
        return {"period_from": lo, "period_to": hi, "run_ended": m.get("ended"), "engine": m.get("engine"),
                "rules_run": (m.get("counts") or {}).get("rules_run"),
                "source": ((m.get("data") or {}).get("source") or {}).get("kind")}

    def figures(self, top: int = 10) -> dict:
        """Every figure at once: ``headline``, ``cases``, ``by_month``, ``by_county``, ``by_rule``,
        ``by_institution_type``, ``top_institutions``, ``info``."""
        return {"headline": self.headline, "cases": self.cases, "by_month": self.by_month,
                "by_county": self.by_county, "by_rule": self.by_rule, "by_institution_type": self.by_institution_type,
                "top_institutions": self.top_institutions(top), "info": self.info()}


def _ints(df: pd.DataFrame, cols) -> pd.DataFrame:
    for c in cols:
        df[c] = df[c].astype(int)
    return df


def open_briefing(run, data=None, home=None) -> Briefing:
    """A :class:`Briefing` of a run folder; ``data`` defaults to the folder the run recorded."""
    return Briefing(run, data=data, home=home)
