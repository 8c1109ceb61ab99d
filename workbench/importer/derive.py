"""Tables a layout does not carry but implies, derived from mapped tables by SQL.

A mapping file names these functions under ``derive:``; each reads ``raw_<table>`` text tables
and creates another, with ``_src`` / ``_row`` pointing at the first source row that implied each
derived row (so a problem with it names a real place in the extract).
"""
from __future__ import annotations

from .validate import lit, q


def institutions_from_visits(con, target="medins", visits="mdtrt", persons="psn", constants=None,
                             name_from_code=True, admdvs_default="000000"):
    """One institution per distinct ``fixmedins_code`` of the visits.

    Its ``admdvs`` is the region most of its distinct patients are enrolled in (``psn``'s
    ``insuplc_admdvs``; ties go to the smallest code), or ``admdvs_default`` when none is known.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    target, visits, persons : str
        Contract tables: the one to create and the two it is derived from.
    constants : dict, optional
        Column values every derived row gets (``fixmedins_type: "1"``, ``hosp_lv: "9"``).
    name_from_code : bool
        Use the code as the name (a layout without institution names).
    admdvs_default : str
    """
    consts = "".join(f", {lit(v)} AS {q(k)}" for k, v in (constants or {}).items())
    name = ", f.fixmedins_code AS fixmedins_name" if name_from_code else ""
    con.execute(f"""
        CREATE OR REPLACE TABLE {q('raw_' + target)} AS
        WITH v AS (SELECT _src, _row, fixmedins_code, psn_no FROM {q('raw_' + visits)} WHERE fixmedins_code IS NOT NULL),
        f AS (SELECT fixmedins_code, first(_src ORDER BY _src, _row) AS _src, first(_row ORDER BY _src, _row) AS _row
              FROM v GROUP BY fixmedins_code),
        region AS (SELECT v.fixmedins_code, p.insuplc_admdvs AS admdvs, count(DISTINCT v.psn_no) AS n
                   FROM v JOIN {q('raw_' + persons)} p ON p.psn_no = v.psn_no
                   WHERE p.insuplc_admdvs IS NOT NULL GROUP BY ALL),
        best AS (SELECT fixmedins_code, admdvs FROM region
                 QUALIFY row_number() OVER (PARTITION BY fixmedins_code ORDER BY n DESC, admdvs) = 1)
        SELECT f._src, f._row, f.fixmedins_code{name}{consts}, coalesce(best.admdvs, {lit(admdvs_default)}) AS admdvs
        FROM f LEFT JOIN best USING (fixmedins_code)
    """)


def doctors_from_visits(con, target="dr", visits="mdtrt", columns=("atddr_no",), constants=None):
    """One doctor per distinct code found in any of ``columns`` of the visits.

    The doctor's ``fixmedins_code`` is the institution they appear on most visits at (any
    role; ties go to the smallest code).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    target, visits : str
    columns : sequence of str
        Columns of ``raw_<visits>`` holding doctor codes (contract or carried source columns).
    constants : dict, optional
        Column values every derived row gets (``dr_type: doctor``).
    """
    consts = "".join(f", {lit(v)} AS {q(k)}" for k, v in (constants or {}).items())
    codes = ", ".join(q(c) for c in columns)
    con.execute(f"""
        CREATE OR REPLACE TABLE {q('raw_' + target)} AS
        WITH u AS (SELECT _src, _row, mdtrt_id, fixmedins_code, unnest([{codes}]) AS dr_code FROM {q('raw_' + visits)}),
        d AS (SELECT * FROM u WHERE dr_code IS NOT NULL),
        f AS (SELECT dr_code, first(_src ORDER BY _src, _row) AS _src, first(_row ORDER BY _src, _row) AS _row
              FROM d GROUP BY dr_code),
        n AS (SELECT dr_code, fixmedins_code, count(DISTINCT mdtrt_id) AS n FROM d
              WHERE fixmedins_code IS NOT NULL GROUP BY ALL),
        best AS (SELECT dr_code, fixmedins_code FROM n
                 QUALIFY row_number() OVER (PARTITION BY dr_code ORDER BY n DESC, fixmedins_code) = 1)
        SELECT f._src, f._row, f.dr_code, best.fixmedins_code{consts}
        FROM f LEFT JOIN best USING (dr_code)
    """)


FUNCTIONS = {
    "institutions_from_visits": institutions_from_visits,
    "doctors_from_visits": doctors_from_visits,
}
