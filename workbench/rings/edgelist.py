"""Visits, prescriptions and pharmacy purchases reduced to weighted edges, in SQL.

Three temporary tables are built once per session (they depend on no parameter), on DuckDB or
Spark (:mod:`workbench.rings.engines`; every function here takes a session or an engine):

``rings_visits``
    Outpatient (``11``, ``14``) and pharmacy (``41``) visits: ``mdtrt_id, psn_no,
    fixmedins_code, med_type, day, begntime, dr_code, purchase, hifp_pay, medfee_sumamt``.
``rings_links``
    Each pharmacy purchase linked to the doctors behind it: the prescribing doctor written on
    the purchase (``rx``) and every doctor the patient saw that day (``same_day``, the doctor →
    pharmacy sequence of one day).
``rings_edges``
    One row per (kind, a, b): ``psn_dr``, ``psn_pharmacy``, ``dr_pharmacy`` with counts,
    distinct days and weeks, patients, linked purchases, money, the share of ``a``'s volume the
    edge holds ``n / deg_a`` (absolute) and the lift over chance ``n / (deg_a × deg_b / total)``
    (relative to the data set: it ranks, the filter does not need it).

Nothing here projects a hub: the edges are the bipartite pairs that occur in the data, never
the pairs of patients who share a doctor or a pharmacy.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..sql import templates
from ..sql.templates import Raw
from .engines import engine_of, to_pandas

SQL_DIR = Path(__file__).with_name("sql")
VISITS, LINKS, COUNTS, EDGES = "rings_visits", "rings_links", "rings_edge_counts", "rings_edges"
EDGE_KINDS = ("psn_dr", "psn_pharmacy", "dr_pharmacy")
# the doctors whose own (outpatient) visits the data holds: a same-day sequence with any other
# doctor cannot be seen (an extract of pharmacies, or one without the doctor's clinic)
SEEN_DOCTORS = f"SELECT dr_code FROM {VISITS} WHERE NOT purchase AND dr_code IS NOT NULL"
EDGE_COLUMNS = ["kind", "a", "b", "n", "days", "weeks", "patients", "rx", "same_day", "hifp_pay", "medfee_sumamt",
                "deg_a", "deg_b", "total", "share", "lift"]


def sql_text(name: str, **parts) -> Raw:
    """The SQL file ``sql/<name>.sql`` with its ``${part}`` placeholders filled
    (:mod:`workbench.sql.templates`): text parts are SQL fragments put in as written (a
    :func:`sql_text` result, a column, a join), numbers become literals."""
    values = {k: Raw(v) if isinstance(v, str) else v for k, v in parts.items()}
    return Raw(templates.load(SQL_DIR, name, **values))


def frame(rel) -> pd.DataFrame:
    """A DuckDB relation as pandas through Arrow: money stays ``Decimal``, counts stay integers."""
    return to_pandas(rel.to_arrow_table())


def money_source(session) -> str:
    """Which money the edges carry: ``setl`` (fund share and bill), ``fee`` (bill only) or ``none``."""
    return "setl" if session.has("setl") else "fee" if session.has("fee") else "none"


def ensure_edges(session) -> str:
    """Build ``rings_visits``, ``rings_links`` and ``rings_edges`` once; return the edge table's name.

    ``session`` is a session (DuckDB) or an engine of :mod:`workbench.rings.engines`.
    """
    eng = engine_of(session)
    if not eng.exists(EDGES):
        money = sql_text(f"money_{money_source(eng)}")
        eng.create(VISITS, sql_text("visits", money=money))
        eng.create(LINKS, sql_text("links"))
        eng.create(COUNTS, sql_text("edge_counts"))
        eng.create(EDGES, sql_text("edges"))
        eng.drop(COUNTS)
    return EDGES


def edges(session, kind: str | None = None) -> pd.DataFrame:
    """Every edge (of one ``kind`` when given), columns :data:`EDGE_COLUMNS`, sorted by kind, a, b.

    Parameters
    ----------
    session : workbench.session.Session
    kind : {"psn_dr", "psn_pharmacy", "dr_pharmacy"}, optional
    """
    eng = engine_of(session)
    t = ensure_edges(eng)
    where = "WHERE kind = $1" if kind else ""
    q = f"SELECT {', '.join(EDGE_COLUMNS)} FROM {t} {where} ORDER BY kind, a, b"
    return eng.frame(q, [kind] if kind else None)


def links(session) -> pd.DataFrame:
    """Every (purchase, doctor) link, sorted by ``mdtrt_id, dr_code``."""
    eng = engine_of(session)
    ensure_edges(eng)
    return eng.frame(f"SELECT * FROM {LINKS} ORDER BY mdtrt_id, dr_code")


def edge_counts(session) -> dict:
    """Number of edges of each kind (all edges, before the suspicious-edge filter)."""
    eng = engine_of(session)
    t = ensure_edges(eng)
    f = eng.frame(f"SELECT kind, count(*) AS edges FROM {t} GROUP BY kind")
    got = dict(zip(f["kind"], f["edges"]))
    return {k: int(got.get(k, 0)) for k in EDGE_KINDS}
