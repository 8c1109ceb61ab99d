"""Provider profiles in SQL: one row per institution (or per doctor at an institution).

The heavy work is two DuckDB queries over the session's views (``sql/visits.sql``: one row per
visit with its flags and money; ``sql/profile.sql``: the aggregation). Tables that are absent
degrade the profile instead of failing it: without ``fee`` (a CMS import) the fee shares are
null, without ``setl`` the money measures are, without ``list.tcm_therapy`` the TCM share is.
Rule findings, when given, add two measures per provider (:func:`add_findings_measures`).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import WorkbenchError
from .measures import MEASURES, chronic_categories

SQL_DIR = Path(__file__).with_name("sql")
DEFAULTS = {"window_days": 15, "short_stay_days": 3, "night_from": 22, "night_to": 6, "minor_admission_pct": 5}
INSTITUTION_COLUMNS = ["fixmedins_name", "fixmedins_type", "hosp_lv", "admdvs"]


def _sql(name: str, **parts) -> str:
    text = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    return text.format(**parts) if parts else text


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


def build_visits(session, **params) -> str:
    """Create the visit table of the profile in the session's database once; return its name.

    It is a temporary table named after its parameters, so profiles with the same parameters
    on one session share it.
    """
    p = check_params(params)
    chronic = chronic_categories()
    tag = hashlib.sha256(repr((sorted(p.items()), chronic)).encode()).hexdigest()[:10]
    name = f"prov_visits_{tag}"
    con = session.con
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary", [name]).fetchall()[0][0]:
        return name
    has = available(session)
    chronic_table = f"prov_chronic_{tag}"
    con.register(f"{chronic_table}_src", pa.table({"cat": pa.array(chronic, pa.string())}))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {chronic_table} AS SELECT * FROM {chronic_table}_src")
    con.unregister(f"{chronic_table}_src")
    if has["fee"]:
        tcm, join = ("BOOL_OR(COALESCE(l.tcm_therapy, FALSE))", 'LEFT JOIN "list" AS l ON l.med_list_codg = f.med_list_codg') \
            if has["list.tcm_therapy"] else ("CAST(NULL AS BOOLEAN)", "")
        fees = _sql("fees", tcm=tcm, tcm_join=join)
    else:
        fees = _sql("no_fees")
    has_time = con.execute("SELECT COALESCE(BOOL_OR(CAST(begntime AS TIME) <> TIME '00:00:00'), FALSE) FROM mdtrt").fetchall()[0][0]
    query = _sql("visits", money=_sql("money") if has["setl"] else _sql("no_money"), fees=fees,
                 chronic=chronic_table, has_time="TRUE" if has_time else "FALSE", window_days=p["window_days"],
                 night_from=p["night_from"], night_to=p["night_to"],
                 tcm_default="FALSE" if has["list.tcm_therapy"] else "CAST(NULL AS BOOLEAN)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {query}")
    return name


def _profile(session, keys: list, where: str, **params) -> pd.DataFrame:
    p = check_params(params)
    visits = build_visits(session, **p)
    query = _sql("profile", visits=visits, keys=", ".join(keys), a_keys=", ".join(f"a.{k}" for k in keys),
                 where=where, short_stay_days=p["short_stay_days"], minor_p=p["minor_admission_pct"] / 100)
    return session.df(query)


def institution_profiles(session, **params) -> pd.DataFrame:
    """One row per institution with at least one (not withdrawn) visit.

    Parameters
    ----------
    session : Session
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
    prof = _profile(session, ["fixmedins_code"], "fixmedins_code IS NOT NULL", **params)
    inst = session.df(f"SELECT fixmedins_code, {', '.join(INSTITUTION_COLUMNS)} FROM medins")
    return prof.merge(inst, on="fixmedins_code", how="left")


def doctor_profiles(session, **params) -> pd.DataFrame:
    """One row per doctor at an institution (``fixmedins_code``, ``dr_code`` = ``atddr_no``).

    A doctor whose code is on visits at two institutions has a row at each (a borrowed code
    shows as a doctor at an institution not their own). Same measures as
    :func:`institution_profiles` (``doctors`` is 1, ``patients_per_doctor`` = ``persons``).
    """
    return _profile(session, ["fixmedins_code", "dr_code"], "dr_code IS NOT NULL AND fixmedins_code IS NOT NULL", **params)


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
