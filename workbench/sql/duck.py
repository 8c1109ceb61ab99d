"""The DuckDB engine's shared helpers: settings for large work, contract tables a folder lacks,
and results as Arrow.

The data folder's tables are registered as views by :class:`workbench.session.Session` (one
in-process DuckDB database per session); these helpers work on its connection.
"""
from __future__ import annotations

from .. import schema


class large_work:
    """``preserve_insertion_order`` and ``enable_progress_bar`` off for the duration (restored after).

    DuckDB keeps far less in memory when it need not return rows in scan order; the rules and
    derived tables sort whatever order they depend on, other callers of the session may not.
    The rules report their own progress, one line per rule, so DuckDB's bar is off meanwhile.
    """

    SETTINGS = ("preserve_insertion_order", "enable_progress_bar")

    def __init__(self, con):
        self.con = con

    def __enter__(self):
        self.before = {k: self.con.execute(f"SELECT current_setting('{k}')").fetchone()[0] for k in self.SETTINGS}
        for k in self.SETTINGS:
            self.con.execute(f"SET {k} = false")
        return self

    def __exit__(self, *exc):
        for k, v in self.before.items():
            self.con.execute(f"SET {k} = {'true' if v else 'false'}")


def empty_tables(session) -> None:
    """An empty view, with the contract's columns, for each contract table the data lacks.

    Rules that declare a table in ``optional_tables`` read it as empty when it is absent (e.g.
    duplicate_billing still checks same-time duplicates without list_incl); a rule needing a
    table (``tables``) is still skipped without it.
    """
    have = {r[0] for r in session.con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    for name in schema.TABLE_ORDER:
        if name not in session.tables and name not in have:
            cols = ", ".join(f'CAST(NULL AS {schema.SQL_TYPES[c.type]}) AS "{c.name}"' for c in schema.TABLES[name].columns)
            session.con.execute(f'CREATE TEMP VIEW "{name}" AS SELECT {cols} WHERE FALSE')


def arrow(rel):
    """A DuckDB relation's result as a pyarrow Table (the API moved between DuckDB versions)."""
    if hasattr(rel, "to_arrow_table"):
        return rel.to_arrow_table()
    return rel.fetch_arrow_table()
