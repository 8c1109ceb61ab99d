"""The SQL layer: the engines (DuckDB, Spark), the dialect translation, and SQL templates.

Everything the workbench computes in SQL — rules, derived views, provider profiles, stays, rings —
is written once in DuckDB's dialect and runs through this package:

* :mod:`.templates` — one loader for ``.sql`` files, one placeholder syntax (``${name}``);
* :mod:`.dialect` — what a statement reads, its canonical form, its Spark translation;
* :mod:`.duck` — DuckDB helpers on a session's connection (its tables are registered by
  :class:`workbench.session.Session`);
* :mod:`.spark` — the one local Spark session (:func:`get_spark`) and a data folder's tables on it.

This package imports nothing of the workbench above :mod:`workbench.schema`,
:mod:`workbench.datafolder` and :mod:`workbench.errors`; pyspark is imported only when Spark runs.
"""
from .dialect import canonical, parse, referenced_tables, to_duckdb, to_spark  # noqa: F401
from .templates import Raw, bind, literal, load, render  # noqa: F401
