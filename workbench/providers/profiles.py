"""Provider profiles in SQL: one row per institution (or per doctor at an institution).

The heavy work is two DuckDB queries over the session's views (``sql/visits.sql``: one row per
visit with its flags and money; ``sql/profile.sql``: the aggregation). Tables that are absent
degrade the profile instead of failing it: without ``fee`` (a CMS import) the fee shares are
null, without ``setl`` the money measures are, without ``list.tcm_therapy`` the TCM share is.
Rule findings, when given, add two measures per provider (:func:`add_findings_measures`).

``engine="spark"`` runs the same two SQL files on Spark (local mode) over the same Parquet: the
text is translated by :mod:`workbench.sql.dialect`, as the rules and ``stays`` are, and the
profile comes back with the same columns, types and values as DuckDB's
(:func:`workbench.sql.spark.to_pandas`). The SQL files are templates of :mod:`workbench.sql.templates`. Sums
whose order would otherwise show in the last bits of a double (expected cost and admissions, the
entropy terms) are summed as DECIMAL (``sql/*.sql``), so both engines give the same bits. Only the
``medins`` lookup (names, type, level) is read through the DuckDB session on both engines.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import WorkbenchError
from ..runs import RunFolder
from ..sql import templates
from ..sql.templates import Raw
from .measures import MEASURES, chronic_categories

SQL_DIR = Path(__file__).with_name("sql")
DEFAULTS = {"window_days": 15, "short_stay_days": 3, "night_from": 22, "night_to": 6, "minor_admission_pct": 5}
INSTITUTION_COLUMNS = ["fixmedins_name", "fixmedins_type", "hosp_lv", "admdvs"]
ENGINES = ("duckdb", "spark")
# The case-mix group of a visit without a DRG: its diagnosis category (visits.sql's dise_cat).
DISE_CAT_SQL = "NULLIF(UPPER(SUBSTR(REPLACE(TRIM(m.dise_codg), '.', ''), 1, 3)), '')"
# Does any visit have a time of day (else the night share is null)? Same text on both engines.
HAS_TIME_SQL = "SELECT COALESCE(BOOL_OR(HOUR(begntime) <> 0 OR MINUTE(begntime) <> 0 OR SECOND(begntime) <> 0), FALSE) FROM mdtrt"


def _sql(name: str, **values) -> str:
    """The template ``sql/NAME.sql`` with its ``${...}`` filled (:func:`workbench.sql.templates.load`)."""
    return Raw(templates.load(SQL_DIR, name, **values))


def _columns(session, table: str) -> set:
    return {r[0] for r in session.con.execute(f'DESCRIBE "{table}"').fetchall()} if session.has(table) else set()


def check_params(params: dict) -> dict:
    """Profile parameters (:data:`DEFAULTS` overridden by ``params``), validated as whole numbers."""
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise WorkbenchError(f"providers: unknown profile parameter(s) {', '.join(sorted(unknown))}; known: {', '.join(DEFAULTS)}")
    out = {**DEFAULTS, **params}
    for k, v in out.items():
        limit = 24 if k.startswith("night") else 100 if k.endswith("_pct") else None
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0 or (limit is not None and v > limit):
            raise WorkbenchError(f"providers: {k} must be a whole number from 0{f' to {limit}' if limit else ''}, got {v!r}")
        out[k] = int(v)
    return out


def available(session, findings=None) -> dict:
    """Which inputs the profile has: ``{"setl": bool, "fee": bool, "list.tcm_therapy": bool,
    "psn": bool, "findings": bool}`` (what :attr:`Measure.needs` refers to)."""
    return {
        "setl": session.has("setl"), "fee": session.has("fee"), "psn": session.has("psn"),
        "list.tcm_therapy": session.has("fee", "list") and "tcm_therapy" in _columns(session, "list"),
        "findings": findings is not None,
    }


def check_engine(engine: str) -> str:
    """``engine`` if it is one of :data:`ENGINES`, else a :class:`WorkbenchError` naming them."""
    if engine not in ENGINES:
        raise WorkbenchError(f"providers: unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    return engine


def case_mix_sql(session) -> str:
    """The SQL of a visit's case-mix group (``mdtrt AS m``): its DRG where the data folder's
    ``mdtrt`` stores ``drg_codg`` (an optional column; a CMS import carries it), else its
    diagnosis category. Only a stored column is named, so the text runs on Spark too."""
    if "drg_codg" in session.stored_columns.get("mdtrt", ()):
        return f"COALESCE('DRG ' || NULLIF(TRIM(m.drg_codg), ''), {DISE_CAT_SQL})"
    return DISE_CAT_SQL


def _visits_sql(session, p: dict, chronic_table: str, has_time: bool) -> str:
    has = available(session)
    if has["fee"]:
        tcm, join = ("BOOL_OR(COALESCE(l.tcm_therapy, FALSE))", 'LEFT JOIN "list" AS l ON l.med_list_codg = f.med_list_codg') \
            if has["list.tcm_therapy"] else ("CAST(NULL AS BOOLEAN)", "")
        fees = _sql("fees", tcm=Raw(tcm), tcm_join=Raw(join))
    else:
        fees = _sql("no_fees")
    return _sql("visits", money=_sql("money") if has["setl"] else _sql("no_money"), fees=fees,
                chronic=Raw(chronic_table), case_mix=Raw(case_mix_sql(session)), has_time=bool(has_time), window_days=p["window_days"],
                night_from=p["night_from"], night_to=p["night_to"],
                tcm_default=Raw("FALSE" if has["list.tcm_therapy"] else "CAST(NULL AS BOOLEAN)"))


def _tag(p: dict) -> tuple:
    chronic = chronic_categories()
    return hashlib.sha256(repr((sorted(p.items()), chronic)).encode()).hexdigest()[:10], chronic


def build_visits(session, engine: str = "duckdb", spark=None, **params) -> str:
    """Create the visit table of the profile once; return its name.

    On DuckDB it is a temporary table in the session's database named after its parameters, so
    profiles with the same parameters on one session share it. With ``engine="spark"`` it is a
    temporary view of the Spark session ``spark`` (default: :func:`workbench.sql.spark.get_spark`)
    over the data folder's Parquet, made from the same SQL translated to Spark.
    """
    if check_engine(engine) == "spark":
        return _spark_visits(session, check_params(params), spark)
    p = check_params(params)
    tag, chronic = _tag(p)
    name = f"prov_visits_{tag}"
    con = session.con
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary", [name]).fetchall()[0][0]:
        return name
    chronic_table = f"prov_chronic_{tag}"
    con.register(f"{chronic_table}_src", pa.table({"cat": pa.array(chronic, pa.string())}))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {chronic_table} AS SELECT * FROM {chronic_table}_src")
    con.unregister(f"{chronic_table}_src")
    has_time = con.execute(HAS_TIME_SQL).fetchall()[0][0]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {_visits_sql(session, p, chronic_table, has_time)}")
    return name


def _spark_visits(session, p: dict, spark=None) -> str:
    from ..sql.spark import get_spark, register_tables, translate

    spark = spark or get_spark()
    tag, chronic = _tag(p)
    # One Spark session serves every data folder: the view's name also stands for this folder's
    # files as they are now, so a later profile of the same data reuses it (as on DuckDB).
    files = sorted(str(f.resolve()) + f"@{f.stat().st_mtime_ns}" for f in Path(session.folder).rglob("*.parquet"))
    tag = hashlib.sha256(repr((tag, files)).encode()).hexdigest()[:10]
    chronic_table, name = f"prov_chronic_{tag}", f"prov_visits_{tag}"
    if spark.catalog.tableExists(name) and spark.catalog.isCached(name):
        return name
    register_tables(spark, session.folder, session.tables)
    spark.createDataFrame(pd.DataFrame({"cat": chronic}, dtype=object), schema="cat STRING").createOrReplaceTempView(chronic_table)
    has_time = bool(spark.sql(translate(HAS_TIME_SQL, "providers has_time")).collect()[0][0])
    query = translate(_visits_sql(session, p, chronic_table, has_time), str(SQL_DIR / "visits.sql"))
    spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS {query}")
    spark.sql(f"CACHE TABLE {name}")  # read by each profile query (twice); DuckDB's is a temp table
    return name


def _profile(session, keys: list, where: str, engine: str = "duckdb", spark=None, **params) -> pd.DataFrame:
    p = check_params(params)
    if check_engine(engine) == "spark":
        from ..sql.spark import get_spark

        spark = spark or get_spark()
    visits = build_visits(session, engine, spark, **p)
    query = _sql("profile", visits=Raw(visits), keys=Raw(", ".join(keys)), a_keys=Raw(", ".join(f"a.{k}" for k in keys)),
                 where=Raw(where), short_stay_days=p["short_stay_days"], minor_p=p["minor_admission_pct"] / 100)
    if engine == "spark":
        from ..sql.spark import to_pandas, translate

        return to_pandas(spark, translate(query, str(SQL_DIR / "profile.sql")))
    return session.df(query)


def institution_profiles(session, engine: str = "duckdb", spark=None, **params) -> pd.DataFrame:
    """One row per institution with at least one (not withdrawn) visit.

    Parameters
    ----------
    session : Session
    engine : {"duckdb", "spark"}
        Where the profile SQL runs; both give the same frame.
    spark : SparkSession, optional
        For ``engine="spark"`` (default: :func:`workbench.sql.spark.get_spark`).
    **params
        ``window_days`` (readmission window, 15), ``short_stay_days`` (a stay of at most this
        many days, discharge date minus admission date, is short: 3), ``night_from`` /
        ``night_to`` (a visit beginning at or after ``night_from`` o'clock or before ``night_to``
        is at night: 22 and 6), ``minor_admission_pct`` (a short stay is a minor one, 轻症, when
        the region admits fewer than this percentage of the outpatient and inpatient visits with
        its diagnosis category: 5).

    Returns
    -------
    DataFrame
        ``fixmedins_code``, the measures of :data:`~workbench.providers.measures.MEASURES` (but the
        findings measures), then ``fixmedins_name, fixmedins_type, hosp_lv, admdvs`` from
        ``medins``. Totals (``medfee_total``, ``hifp_total``) are exact ``Decimal``; rates are
        floats; a measure the data cannot give is null.
    """
    prof = _profile(session, ["fixmedins_code"], "fixmedins_code IS NOT NULL", engine, spark, **params)
    inst = session.df(f"SELECT fixmedins_code, {', '.join(INSTITUTION_COLUMNS)} FROM medins")
    return prof.merge(inst, on="fixmedins_code", how="left")


def doctor_profiles(session, engine: str = "duckdb", spark=None, **params) -> pd.DataFrame:
    """One row per doctor at an institution (``fixmedins_code``, ``dr_code`` = ``atddr_no``).

    A doctor whose code is on visits at two institutions has a row at each (a borrowed code
    shows as a doctor at an institution not their own). Same measures as
    :func:`institution_profiles` (``doctors`` is 1, ``patients_per_doctor`` = ``persons``), on
    either engine.
    """
    return _profile(session, ["fixmedins_code", "dr_code"], "dr_code IS NOT NULL AND fixmedins_code IS NOT NULL",
                    engine, spark, **params)


def read_findings(findings) -> pd.DataFrame | None:
    """Findings as a DataFrame from a frame, an audit result (``.findings``), a run folder
    (``findings.parquet``) or a path to a Parquet file; None stays None.

    Raises
    ------
    WorkbenchError
        When the path has no findings or the frame lacks ``fixmedins_code``.
    """
    if findings is None:
        return None
    if hasattr(findings, "findings") and not isinstance(findings, pd.DataFrame):
        findings = findings.findings
    if isinstance(findings, (str, Path)):
        path = Path(findings)
        if path.is_dir() and (path / "manifest.json").is_file():  # a run folder: refused if changed
            path = RunFolder(path).findings_path
        path = path / "findings.parquet" if path.is_dir() else path
        if not path.is_file():
            raise WorkbenchError(f"providers: no findings at {path}")
        findings = pd.read_parquet(path)
    if not isinstance(findings, pd.DataFrame) or "fixmedins_code" not in findings.columns:
        raise WorkbenchError("providers: findings must be a DataFrame with a fixmedins_code column (RUN/findings.parquet)")
    return findings


def add_findings_measures(profile: pd.DataFrame, findings: pd.DataFrame | None, keys=("fixmedins_code",)) -> pd.DataFrame:
    """Add ``findings_per_1000`` (findings per 1,000 visits) and ``fund_at_risk_share``
    (``amount_at_risk`` summed over the findings / the fund paid) to a profile.

    Both are null without findings; a provider without any finding gets 0.
    """
    out = profile.copy()
    if findings is None:
        out["findings_per_1000"] = np.nan
        out["fund_at_risk_share"] = np.nan
        return out
    keys = list(keys)
    f = findings.dropna(subset=keys)
    amount = pd.to_numeric(f["amount_at_risk"], errors="coerce").fillna(0.0) if "amount_at_risk" in f else 0.0
    per = f.assign(_n=1, _amt=amount).groupby(keys, as_index=False)[["_n", "_amt"]].sum()
    merged = out[keys].merge(per, on=keys, how="left").fillna({"_n": 0, "_amt": 0.0})
    visits = out["visits"].to_numpy(dtype=float)
    fund = pd.to_numeric(out["hifp_total"], errors="coerce").to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["findings_per_1000"] = np.where(visits > 0, 1000.0 * merged["_n"].to_numpy(dtype=float) / visits, np.nan)
        out["fund_at_risk_share"] = np.where(fund > 0, merged["_amt"].to_numpy(dtype=float) / fund, np.nan)
    return out


def measure_columns(profile: pd.DataFrame) -> list:
    """The measure columns of a profile, in catalogue order."""
    return [m.name for m in MEASURES if m.name in profile.columns]
