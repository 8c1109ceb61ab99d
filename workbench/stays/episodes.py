"""The stay sequence: every inpatient stay on a timeline and the pairs of consecutive stays.

:func:`episodes` (one row per stay, ``sql/episodes.sql``), :func:`readmission_pairs` (the
findings of rule ``split_hospitalization`` with ``same_diagnosis=false``; on Spark
:func:`readmission_pairs_spark` from the same SQL), :func:`gap_counts`, a person's stays and a
stay's bill. Definitions: see :mod:`workbench.stays`.

The stays, their order and their money are read from the rule's own derived view
``v_stay_sequence`` (:data:`SEQUENCE_VIEWS`, SQL in ``rules/views/``: the inpatient visits and
their settlements only), so ``workbench stays`` and the rule cannot disagree on which stays stand
or which one is "previous".
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import schema
from ..errors import WorkbenchError
from ..stats import peer_key_sql
from ..sql import templates
from ..sql.templates import Raw


SQL_DIR = Path(__file__).with_name("sql")


EPISODES_TABLE = "stays_episodes"


PAIR_COLUMNS = [
    "psn_no", "fixmedins_code", "first_mdtrt_id", "second_mdtrt_id", "gap_days",
    "first_dise_codg", "second_dise_codg", "same_category",
    "first_medfee_sumamt", "first_hifp_pay", "second_medfee_sumamt", "second_hifp_pay",
]


BILL_COLUMNS = ["med_chrgitm_type", "chrgitm_name", "lines", "amount"]


def _sql(name: str, **values) -> str:
    """The template ``stays/sql/NAME.sql`` with its ``${...}`` filled (:mod:`workbench.sql.templates`);
    its ``$name`` parameters are DuckDB's, bound when the query runs."""
    return Raw(templates.load(SQL_DIR, name, **values))


def _frame(rel) -> pd.DataFrame:
    """A DuckDB relation as pandas, keeping money as exact ``Decimal`` (``.df()`` gives floats)."""
    return rel.to_arrow_table().to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)


def _session(data):
    """A :class:`~workbench.session.Session` from a session or a data folder path."""
    from ..session import Session

    return data if isinstance(data, Session) else Session(data)


def _check_window(window_days) -> int:
    if isinstance(window_days, bool) or not isinstance(window_days, (int, np.integer)) or window_days < 0:
        raise WorkbenchError(f"stays: window_days must be a whole number of days >= 0, got {window_days!r}")
    return int(window_days)


def _episodes_sql(has_dise_name: bool) -> str:
    dise_name = Raw("m.dise_name" if has_dise_name else "CAST(NULL AS VARCHAR)")
    return _sql("episodes", dise_name=dise_name, peer_group=Raw(peer_key_sql("i.fixmedins_type", "i.hosp_lv")))


#: The rule split_hospitalization's stay sequence: the derived view the episodes are built on
#: (``rules/views/v_stay_sequence.sql``, over the contract tables mdtrt and setl).
SEQUENCE_VIEWS = ("v_stay_sequence",)


def _sequence_views() -> list:
    """``(name, ViewDef)`` of :data:`SEQUENCE_VIEWS`, read from the rules' own view files."""
    from ..rules.views import VIEWS_DIR, load_views

    defs = load_views([VIEWS_DIR])
    return [(n, defs[n]) for n in SEQUENCE_VIEWS]


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
        have = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not set(SEQUENCE_VIEWS) <= have:  # else the rules' environment made them
            from ..sql import dialect
            from ..sql.duck import empty_tables

            empty_tables(session)  # without setl, the view reads an empty one: no stay reversed, no money
            for name, view in _sequence_views():
                con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS {dialect.to_duckdb(view.sql, str(view.path))}')
        cols = {r[0] for r in con.execute("DESCRIBE mdtrt").fetchall()}
        query = _episodes_sql("dise_name" in cols)
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
    neither first nor second stays (``stays/sql/episodes.sql``), as in the rule
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


def readmission_pairs_spark(session, window_days: int = 15, spark=None) -> pd.DataFrame:
    """:func:`readmission_pairs` computed by Spark (local mode) from the same SQL files.

    The SQL is translated by :mod:`workbench.sql.dialect` (as the rules are); the rows are the
    same as DuckDB's, value for value.
    """
    from ..sql import dialect
    from ..sql.spark import get_spark, register_tables

    window_days = _check_window(window_days)
    spark = spark or get_spark()
    register_tables(spark, session.folder, session.tables)  # absent tables (setl) read as empty
    for name, view in _sequence_views():  # as on DuckDB
        spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS {dialect.to_spark(view.sql, str(view.path))}")
    query = _episodes_sql("dise_name" in spark.table("mdtrt").columns)
    episodes_sql = dialect.to_spark(query, "stays/sql/episodes.sql")
    spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {EPISODES_TABLE} AS {episodes_sql}")
    pairs_sql = templates.bind(_sql("pairs", episodes=Raw(EPISODES_TABLE)), {"window_days": window_days})
    pairs = spark.sql(dialect.to_spark(pairs_sql, "stays/sql/pairs.sql")).toPandas()
    for c in pairs.columns:  # integer columns as DuckDB gives them (nullable Int64)
        if pd.api.types.is_integer_dtype(pairs[c]):
            pairs[c] = pairs[c].astype("Int64")
    return pairs
