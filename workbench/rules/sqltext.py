"""Moved to :mod:`workbench.sql.dialect`; this name stays only until rings/engines.py imports from there."""
from ..sql.dialect import *  # noqa: F401,F403
from ..sql.dialect import exp, parse, referenced_tables, to_duckdb, to_spark  # noqa: F401
