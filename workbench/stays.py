"""Split hospitalization (分解住院): a region's inpatient stays on a timeline.

Heavy work is SQL over the session's views (``workbench/stays_sql/*.sql``); Python only works on
reduced results (one row per institution, one row per gap).

* :func:`episodes`: every inpatient stay (``med_type '21'``) with the person's sex and age, the
  institution and its peer group, dates, length of stay, diagnosis and category, net bill and
  fund share, and the gap to the person's previous stay at the same institution and at any
  (previous: of the stays admitted before it, the one discharged last).
* :func:`readmission_pairs`: consecutive stays of one person at one institution with
  ``0 <= gap <= window_days`` — the findings of rule ``split_hospitalization`` with
  ``same_diagnosis=false`` (``workbench stays`` writes them as CSV).
* :func:`institution_patterns`: one row per institution: readmission gaps against its peer
  group, a split signature with a robust z-score, a readmission rate adjusted for age and
  diagnosis mix, stays just under a cost or day limit, and a rank.
* :class:`StayAnalysis`: those results for one session and one set of parameters, computed once,
  plus a person's stays, a stay's bill and an institution's gap profile (what the widgets show).

Definitions (``docs/rules-spec.md``): gap = ``date(second.begntime) - date(first.endtime)`` in
days (0 = readmitted on the day of discharge, negative = overlap); age = whole years from
``brdy`` to the admission date; diagnosis category = the first three characters of
``dise_codg`` (ICD-10 ``I50``, or ICD-9 ``428`` from CMS imports); ``los_days`` = discharge date
minus admission date (住院天数, 0 for a same-day stay), ``stay_days`` = calendar days inclusive.
"""
from __future__ import annotations

import decimal
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.stats import poisson

from . import schema
from .errors import WorkbenchError
from .stats import peer_key_sql, robust_z
from .sql import templates
from .sql.templates import Raw

SQL_DIR = Path(__file__).with_name("stays_sql")
EPISODES_TABLE = "stays_episodes"
PAIR_COLUMNS = [
    "psn_no", "fixmedins_code", "first_mdtrt_id", "second_mdtrt_id", "gap_days",
    "first_dise_codg", "second_dise_codg", "same_category",
    "first_medfee_sumamt", "first_hifp_pay", "second_medfee_sumamt", "second_hifp_pay",
]
DEFAULT_AGE_BANDS = (0, 18, 45, 65, 80)
BILL_COLUMNS = ["med_chrgitm_type", "chrgitm_name", "lines", "amount"]


def _sql(name: str, **values) -> str:
    """The template ``stays_sql/NAME.sql`` with its ``${...}`` filled (:mod:`workbench.sql.templates`);
    its ``$name`` parameters are DuckDB's, bound when the query runs."""
    return Raw(templates.load(SQL_DIR, name, **values))


def _frame(rel) -> pd.DataFrame:
    """A DuckDB relation as pandas, keeping money as exact ``Decimal`` (``.df()`` gives floats)."""
    return rel.to_arrow_table().to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)


def _session(data):
    """A :class:`~workbench.session.Session` from a session or a data folder path."""
    from .session import Session

    return data if isinstance(data, Session) else Session(data)


def _check_window(window_days) -> int:
    if isinstance(window_days, bool) or not isinstance(window_days, (int, np.integer)) or window_days < 0:
        raise WorkbenchError(f"stays: window_days must be a whole number of days >= 0, got {window_days!r}")
    return int(window_days)


def _episodes_sql(has_setl: bool, has_dise_name: bool) -> str:
    money = _sql("visit_money") if has_setl else _sql("no_money")
    dise_name = Raw("m.dise_name" if has_dise_name else "CAST(NULL AS VARCHAR)")
    return _sql("episodes", money=money, dise_name=dise_name,
                peer_group=Raw(peer_key_sql("i.fixmedins_type", "i.hosp_lv")))


def ensure_episodes(session) -> str:
    """Build the episodes table in the session's database once; return its name.

    The table (``stays_episodes``, a temporary table of the session's connection) does not
    depend on any parameter, so every analysis on the session shares it.
    """
    con = session.con
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary", [EPISODES_TABLE]
    ).fetchall()[0][0]
    if not exists:
        cols = {r[0] for r in con.execute("DESCRIBE mdtrt").fetchall()}
        query = _episodes_sql(session.has("setl"), "dise_name" in cols)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {EPISODES_TABLE} AS {query}").fetchall()
    return EPISODES_TABLE


def episodes(session) -> pd.DataFrame:
    """Every inpatient stay, one row each, ordered by person, admission and ``mdtrt_id``.

    Parameters
    ----------
    session : Session
        An open data folder (``workbench.open``).

    Returns
    -------
    DataFrame
        ``mdtrt_id, psn_no, gend, age, fixmedins_code, fixmedins_name, fixmedins_type, hosp_lv,
        peer_group, begntime, endtime, begn_date, end_date, los_days, stay_days, dise_codg,
        dise_name, dise_category, atddr_no, medfee_sumamt, hifp_pay`` (``Decimal``, net of
        refunds; null without ``setl``), ``setl_rows``, ``prev_same_mdtrt_id,
        gap_prev_same_days, prev_any_mdtrt_id, prev_any_fixmedins_code, gap_prev_any_days``.
    """
    t = ensure_episodes(session)
    return _frame(session.sql(f"SELECT * FROM {t} ORDER BY psn_no, begntime, endtime, mdtrt_id"))


def readmission_pairs(session, window_days: int = 15) -> pd.DataFrame:
    """Readmissions at the same institution within ``window_days`` of discharge.

    One row per second stay: the person's previous stay at that institution (of those admitted
    before it, the one discharged last, so a stay nested in a longer one hides nothing) ended
    ``0 <= gap_days <= window_days`` days before it began. Withdrawn (fully reversed) stays are
    neither first nor second stays (``stays_sql/episodes.sql``), as in the rule
    ``split_hospitalization``. Columns :data:`PAIR_COLUMNS`, then
    both diagnosis categories, dates, lengths of stay and the peer group. Sorted by
    institution, person, second admission, ``second_mdtrt_id``.
    """
    window_days = _check_window(window_days)
    t = ensure_episodes(session)
    return _frame(session.sql(_sql("pairs", episodes=Raw(t)), {"window_days": window_days}))


def gap_counts(session, window_days: int = 15) -> pd.DataFrame:
    """Same-institution readmissions per institution and gap: ``fixmedins_code, peer_group,
    gap_days, n`` (gaps with no readmission are left out)."""
    window_days = _check_window(window_days)
    t = ensure_episodes(session)
    return _frame(session.sql(_sql("gap_counts", episodes=Raw(t)), {"window_days": window_days}))


def _age_band_sql(bands) -> str:
    bands = sorted(int(b) for b in bands)
    if not bands or bands[0] != 0:
        raise WorkbenchError(f"stays: age_bands must start at 0, got {list(bands)!r}")
    whens = ["WHEN e.age IS NULL THEN 'unknown'"]
    for lo, hi in zip(bands, bands[1:]):
        whens.append(f"WHEN e.age < {hi} THEN '{lo}-{hi - 1}'")
    return "CASE " + " ".join(whens) + f" ELSE '{bands[-1]}+' END"


def _ratio(num, den):
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def institution_patterns(session, window_days: int = 15, short_gaps=(1, 3), cost_limit=None,
                         near_share="0.05", los_limit_days=None, los_margin_days: int = 2,
                         age_bands=DEFAULT_AGE_BANDS, min_peers: int = 3) -> pd.DataFrame:
    """One row per institution with inpatient stays: readmission patterns and a split rank.

    Parameters
    ----------
    session : Session
    window_days : int
        Readmission window (days between discharge and readmission, inclusive).
    short_gaps : (int, int)
        Gaps counted as the split signature (default 1–3 days: discharged and readmitted a day
        or three later, where splitting hospitals spike).
    cost_limit : Decimal or str, optional
        A per-stay cost limit in yuan (e.g. a per-case payment standard). A stay is "just under"
        it when its net bill is in ``[cost_limit * (1 - near_share), cost_limit)``: hospitals that
        discharge a patient when the bill approaches the limit and readmit them bunch there.
        None leaves the cost measures null.
    near_share : Decimal or str
        Width of the band under ``cost_limit`` (default 5 %).
    los_limit_days : int, optional
        A length-of-stay limit in days; a stay is "just under" it when ``los_days`` is in
        ``[los_limit_days - los_margin_days, los_limit_days)``. None leaves those measures null.
    los_margin_days : int
    age_bands : sequence of int
        Lower bounds of the age bands of the standardisation (first 0).
    min_peers : int
        A peer group (``fixmedins_type-hosp_lv``) with fewer institutions than this is compared
        with every institution instead (``peer_basis`` says which).

    Returns
    -------
    DataFrame
        Sorted by ``split_rank`` (1 = most suspicious). Counts from SQL (``stays, persons,
        readmissions, short_gap_readmissions, overlapping_stays, billed_stays,
        near_cost_limit_stays, near_los_limit_stays``) and the measures:

        - ``readmission_rate`` = readmissions / stays;
        - ``short_gap_rate`` = short-gap readmissions / stays; ``short_gap_share`` = short-gap /
          all readmissions in the window;
        - ``peer_short_gap_rate``, ``peer_short_gap_share``: the same pooled over the peers
          (the institution itself left out);
        - ``expected_short_gap`` = stays x peer rate, ``excess_short_gap`` = observed - expected;
        - ``split_z``: robust z of ``short_gap_rate`` against the peers (itself included);
        - ``split_p``: :func:`split_surprise`, the Poisson chance of at least that many short-gap
          readmissions where ``expected_short_gap`` were expected — the split signature, and
          ``split_rank`` by it (ties: larger excess first, then code);
        - ``expected_readmissions`` (region-wide rates per age band x diagnosis category summed
          over the institution's stays), ``oe_ratio`` = observed / expected and
          ``adjusted_readmission_rate`` = oe_ratio x the region's rate;
        - ``near_cost_limit_share``, ``near_los_limit_share``: shares of stays just under the
          limits, with the region's shares beside them.
    """
    window_days = _check_window(window_days)
    lo, hi = (int(g) for g in short_gaps)
    if not 0 <= lo <= hi:
        raise WorkbenchError(f"stays: short_gaps must be (low, high) with 0 <= low <= high, got {short_gaps!r}")
    near = decimal.Decimal(str(near_share))
    limit = None if cost_limit is None else decimal.Decimal(str(cost_limit))
    t = ensure_episodes(session)
    params = {
        "window_days": window_days, "short_min": lo, "short_max": hi,
        "cost_low": None if limit is None else limit * (1 - near), "cost_limit": limit,
        "los_low": None if los_limit_days is None else int(los_limit_days) - int(los_margin_days),
        "los_limit": None if los_limit_days is None else int(los_limit_days),
    }
    query = _sql("institution_counts", episodes=Raw(t), age_band=Raw(_age_band_sql(age_bands)))
    inst = session.df(query, params)
    return _measures(inst, limit is not None, los_limit_days is not None, min_peers)


def _region_short_gap_rate(inst: pd.DataFrame) -> float:
    stays = inst.stays.sum()
    return float(inst.short_gap_readmissions.sum() / stays) if stays else np.nan


def split_surprise(observed, expected, floor) -> np.ndarray:
    """How unlikely so many short-gap readmissions are by chance: the Poisson probability of at
    least ``observed`` where ``expected`` were expected (the peers' rate x the stays).

    An auditor reads it on its own ("7 readmitted within 1-3 days where 0.8 were expected: one
    chance in 10,000"), and it weighs the count and the rate together, so one readmission in 223
    stays never outranks 7 in 75 however few peers there are to compare with (a robust z from a
    peer group of three can). Where the peers had none (expected 0), ``floor`` (the stays x the
    rate over every institution) stands in. No short-gap readmission: 1.
    """
    k = np.asarray(observed, dtype=float)
    lam = np.asarray(expected, dtype=float)
    lam = np.where(np.isfinite(lam) & (lam > 0), lam, np.asarray(floor, dtype=float))
    lam = np.where(np.isfinite(lam) & (lam > 0), lam, np.nan)
    p = poisson.sf(k - 1, lam)  # P(X >= k)
    return np.where(k <= 0, 1.0, p)


def _measures(inst: pd.DataFrame, has_cost: bool, has_los: bool, min_peers: int) -> pd.DataFrame:
    """Peer comparisons and ranks on the per-institution counts (pure pandas, small)."""
    counts = ["stays", "persons", "readmissions", "short_gap_readmissions", "readmitted_stays",
              "overlapping_stays", "billed_stays", "near_cost_limit_stays", "near_los_limit_stays"]
    inst = inst.copy()
    inst[counts] = inst[counts].astype("int64")
    inst["readmission_rate"] = _ratio(inst.readmissions, inst.stays)
    inst["short_gap_rate"] = _ratio(inst.short_gap_readmissions, inst.stays)
    inst["short_gap_share"] = _ratio(inst.short_gap_readmissions, inst.readmissions)
    group = inst.groupby("peer_group")
    peers = {c: group[c].transform("sum") - inst[c] for c in ["stays", "readmissions", "short_gap_readmissions"]}
    inst["peer_institutions"] = group["fixmedins_code"].transform("count").astype("int64")
    inst["peer_basis"] = np.where(inst.peer_institutions >= min_peers, "peer_group", "all")
    for c in peers:  # too few peers: pool every other institution instead
        everyone = inst[c].sum() - inst[c]
        peers[c] = peers[c].where(inst.peer_basis == "peer_group", everyone)
    inst["peer_short_gap_rate"] = _ratio(peers["short_gap_readmissions"], peers["stays"])
    inst["peer_short_gap_share"] = _ratio(peers["short_gap_readmissions"], peers["readmissions"])
    inst["expected_short_gap"] = inst.stays * inst.peer_short_gap_rate
    inst["excess_short_gap"] = inst.short_gap_readmissions - inst.expected_short_gap
    z = pd.Series(np.nan, index=inst.index)
    for basis_group, rows in inst.groupby(np.where(inst.peer_basis == "peer_group", inst.peer_group, "")):
        ref = inst.loc[rows.index] if basis_group else inst
        z.loc[rows.index] = robust_z(rows.short_gap_rate, ref.short_gap_rate)
    inst["split_z"] = z
    inst["split_p"] = split_surprise(inst.short_gap_readmissions, inst.expected_short_gap,
                                     inst.stays * _region_short_gap_rate(inst))
    region_rate = inst.readmissions.sum() / inst.stays.sum() if inst.stays.sum() else np.nan
    inst["oe_ratio"] = _ratio(inst.readmitted_stays, inst.expected_readmissions)
    inst["adjusted_readmission_rate"] = inst.oe_ratio * region_rate
    billed = inst.billed_stays.sum()
    inst["near_cost_limit_share"] = _ratio(inst.near_cost_limit_stays, inst.billed_stays) if has_cost else np.nan
    inst["region_near_cost_limit_share"] = (inst.near_cost_limit_stays.sum() / billed if billed else np.nan) if has_cost else np.nan
    inst["near_los_limit_share"] = _ratio(inst.near_los_limit_stays, inst.stays) if has_los else np.nan
    inst["region_near_los_limit_share"] = inst.near_los_limit_stays.sum() / inst.stays.sum() if has_los else np.nan
    inst = inst.drop(columns="readmitted_stays")
    order = inst.assign(_p=inst.split_p.fillna(np.inf), _x=inst.excess_short_gap.fillna(-np.inf))
    order = order.sort_values(["_p", "_x", "fixmedins_code"], ascending=[True, False, True], kind="mergesort")
    inst = inst.loc[order.index].reset_index(drop=True)
    inst.insert(0, "split_rank", np.arange(1, len(inst) + 1, dtype="int64"))
    return inst


def institution_gap_profile(gaps: pd.DataFrame, institutions: pd.DataFrame, fixmedins_code: str,
                            window_days: int) -> pd.DataFrame:
    """One institution's readmission gaps against its peers, one row per gap 0..window_days.

    Parameters
    ----------
    gaps : DataFrame
        :func:`gap_counts`.
    institutions : DataFrame
        :func:`institution_patterns` (for the peer group and basis).

    Returns
    -------
    DataFrame
        ``gap_days, n, share, peer_n, peer_share``: counts and shares of the institution's
        readmissions and of its peers' (pooled, the institution left out).
    """
    row = institutions.loc[institutions.fixmedins_code == fixmedins_code]
    if row.empty:
        raise WorkbenchError(f"stays: institution {fixmedins_code!r} has no inpatient stays in this data folder")
    row = row.iloc[0]
    own = gaps[gaps.fixmedins_code == fixmedins_code]
    others = gaps[gaps.fixmedins_code != fixmedins_code]
    if row.peer_basis == "peer_group":
        others = others[others.peer_group == row.peer_group]
    out = pd.DataFrame({"gap_days": np.arange(0, int(window_days) + 1, dtype="int64")})
    out["n"] = out.gap_days.map(own.groupby("gap_days").n.sum()).fillna(0).astype("int64")
    out["peer_n"] = out.gap_days.map(others.groupby("gap_days").n.sum()).fillna(0).astype("int64")
    out["share"] = _ratio(out.n, np.full(len(out), out.n.sum()))
    out["peer_share"] = _ratio(out.peer_n, np.full(len(out), out.peer_n.sum()))
    return out[["gap_days", "n", "share", "peer_n", "peer_share"]]


def person_stays(session, psn_no: str) -> pd.DataFrame:
    """The inpatient stays of one person (episode columns), in time order."""
    t = ensure_episodes(session)
    return _frame(session.sql(f"SELECT * FROM {t} WHERE psn_no = $psn_no ORDER BY begntime, endtime, mdtrt_id",
                              {"psn_no": str(psn_no)}))


def stay_bill(session, mdtrt_id: str) -> pd.DataFrame:
    """A visit's itemised charges by charge category: ``med_chrgitm_type, chrgitm_name, lines,
    amount`` (``Decimal``). Empty when the data folder has no ``fee`` table (CMS extracts)."""
    if not session.has("fee"):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in BILL_COLUMNS})
    bill = _frame(session.sql(_sql("stay_bill"), {"mdtrt_id": str(mdtrt_id)}))
    bill.insert(1, "chrgitm_name", bill.med_chrgitm_type.map(lambda c: schema.CHRGITM.get(c, "")).astype(object))
    return bill[BILL_COLUMNS]


def readmission_summary(session, window_days: int = 15) -> dict:
    """Headline figures: ``stays``, ``persons``, ``institutions`` (with inpatient stays),
    ``readmissions`` (same institution, within the window) and ``readmission_hifp_pay`` (the
    fund's net payment for those second stays, ``Decimal``; None without ``setl``)."""
    window_days = _check_window(window_days)
    t = ensure_episodes(session)
    row = session.sql(
        f"""SELECT COUNT(*), COUNT(DISTINCT psn_no), COUNT(DISTINCT fixmedins_code),
                   SUM(CASE WHEN gap_prev_same_days BETWEEN 0 AND $w THEN 1 ELSE 0 END),
                   CAST(SUM(CASE WHEN gap_prev_same_days BETWEEN 0 AND $w THEN hifp_pay END) AS DECIMAL(18,2))
            FROM {t}""", {"w": window_days}).fetchall()[0]
    keys = ["stays", "persons", "institutions", "readmissions", "readmission_hifp_pay"]
    out = dict(zip(keys, row))
    out["readmissions"] = int(out["readmissions"] or 0)
    return out


def planted_split_hospitals(session) -> list:
    """Institutions planted as ``split_stay_hospital`` in synthetic data (``truth``), sorted;
    empty for real data."""
    if not session.has("truth"):
        return []
    rows = session.sql("SELECT DISTINCT fixmedins_code FROM truth WHERE scenario = 'split_stay_hospital' "
                       "AND fixmedins_code IS NOT NULL ORDER BY 1").fetchall()
    return [r[0] for r in rows]


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


def _csv_value(v):
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    return str(v)


def write_pairs_csv(pairs: pd.DataFrame, path) -> Path:
    """Write readmission pairs as UTF-8 CSV with a BOM (Excel opens it as Chinese text).

    Money is written exactly as stored (``1234.50``), booleans as ``true``/``false``, nulls
    empty. The file is written beside ``path`` and renamed into place.
    """
    from .csvfile import write_csv  # the one CSV writer: no cell a spreadsheet runs as a formula

    return write_csv(pairs, path, cell=lambda _column, v: _csv_value(v))


def readmission_pairs_spark(session, window_days: int = 15, spark=None) -> pd.DataFrame:
    """:func:`readmission_pairs` computed by Spark (local mode) from the same SQL files.

    The SQL is translated by :mod:`workbench.sql.dialect` (as the rules are); the rows are the
    same as DuckDB's, value for value.
    """
    from .sql import dialect
    from .sql.spark import get_spark, register_tables

    window_days = _check_window(window_days)
    spark = spark or get_spark()
    register_tables(spark, session.folder, session.tables)
    query = _episodes_sql(session.has("setl"), "dise_name" in spark.table("mdtrt").columns)
    episodes_sql = dialect.to_spark(query, "stays_sql/episodes.sql")
    spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {EPISODES_TABLE} AS {episodes_sql}")
    pairs_sql = templates.bind(_sql("pairs", episodes=Raw(EPISODES_TABLE)), {"window_days": window_days})
    pairs = spark.sql(dialect.to_spark(pairs_sql, "stays_sql/pairs.sql")).toPandas()
    for c in pairs.columns:  # integer columns as DuckDB gives them (nullable Int64)
        if pd.api.types.is_integer_dtype(pairs[c]):
            pairs[c] = pairs[c].astype("Int64")
    return pairs


def cli_stays(args) -> int:
    """``workbench stays DATA --out FILE.csv [--window-days N] [--engine duckdb|spark]``."""
    from .session import Session, resource_options

    with Session(args.data, **resource_options(args)) as session:
        if getattr(args, "engine", "duckdb") == "spark":
            pairs = readmission_pairs_spark(session, args.window_days)
        else:
            pairs = readmission_pairs(session, args.window_days)
        write_pairs_csv(pairs, args.out)
    print(f"{len(pairs)} readmission pair(s) within {args.window_days} days at the same institution -> {args.out}")
    return 0
