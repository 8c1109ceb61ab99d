"""Derived views (``rules/views/*.sql``) and knowledge tables (``rules/knowledge/*.csv``).

A view file ``NAME.sql`` holds one SELECT; it becomes view ``NAME``. Views may read contract
tables, knowledge tables and other views; they are created in dependency order, and a view whose
contract tables are absent from the data folder (directly or through another view) is left out
silently — the rules that need it are skipped for their own ``tables``. A knowledge file
``NAME.csv`` (UTF-8, header row) becomes a table ``NAME``: a column whose every value is an
integer without leading zeros is BIGINT, one whose values are all decimal numbers is DOUBLE,
anything else VARCHAR; empty cells are NULL.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from .. import schema
from ..errors import RuleError
from ..session import size_bytes
from ..sql import dialect
from .loader import KNOWLEDGE_DIR, VIEWS_DIR

# Derived views that most rules read: computed once per session into the session's scratch
# database (``Session.scratch``) instead of being recomputed by every rule (18 rules read the fee
# lines through v_fee_fund). Measurements of this block: bench/RESULTS.md, "Engine settings
# measured (were code comments)".
MATERIALIZE = ("v_visit_fund", "v_fee_refund", "v_fee_fund_base")

# Of those, the ones kept in memory (a temporary table) instead of the scratch file when they are
# small beside DuckDB's memory limit: one row per visit, read by nearly every rule, quicker to
# keep than to compress, but holding its memory for the whole run, where the rules' joins would
# spill more if it took too large a share.
# So: NAME -> (the table it has one row per row of, bytes per row in memory, rounded up); kept in
# memory while rows x bytes is at most MEMORY_SHARE of the memory limit, else written to the file.
# The fee lines (v_fee_fund_base, five times as many rows) always go to the compressed file.
IN_MEMORY = {"v_visit_fund": ("mdtrt", 200)}
MEMORY_SHARE = 1 / 3

# A materialised view too big to join in memory at once is built in slices of a key column: the
# rows of each slice of ``key`` values, as cut by ``CHUNK_ROWS`` rows of ``source`` (already built),
# are joined and appended one slice after another. Each slice's join fits in memory (no spilling
# of a 200 M-line join to disk), and data stored in key order skips the other slices' row groups.
CHUNK_BY = {"v_fee_fund_base": ("mdtrt_id", "v_visit_fund")}
CHUNK_ROWS = 5_000_000

# Views whose rows a materialised view also holds, and reads quicker: once the source (value) is
# computed, the engine points the view (key) at the source's table, selecting the same columns.
# v_fee reads the contract's fee lines; v_fee_fund_base holds every one of them.
READ_FROM = {"v_fee": "v_fee_fund_base"}

# Views read another way once a materialised view holds their rows: when the source (value[0]) is
# computed, the view (key) is redefined by the file value[1] of ``views/when_computed/``, which
# reads the source and gives the same rows and columns, provided the guard query value[2] (on the
# contract tables) returns true. The stay sequence sums the inpatient stays' own settlements (quick
# for `workbench stays` and split_hospitalization alone); in an audit, where v_visit_fund already
# holds every visit's sums, reading them is quicker (bench/RESULTS.md, "stay sequence"). The guard:
# no settlement row lacks an amount, so a stay with settlement rows has non-NULL sums.
WHEN_COMPUTED = {
    "v_stay_sequence": ("v_visit_fund", "v_stay_sequence.sql",
                        "SELECT count(*) = 0 FROM setl WHERE medfee_sumamt IS NULL OR hifp_pay IS NULL"),
}
WHEN_COMPUTED_DIR = VIEWS_DIR / "when_computed"

_INT = re.compile(r"^-?(0|[1-9][0-9]*)$")
_NUM = re.compile(r"^-?(0|[1-9][0-9]*)\.[0-9]+$")


@dataclass(frozen=True)
class ViewDef:
    """One derived view: its name, SQL and the names it reads."""

    name: str
    sql: str
    path: Path
    reads: frozenset


def _folders(folders, default):
    if folders is None:
        return [default]
    if isinstance(folders, (str, Path)):
        return [Path(folders)]
    return [Path(f) for f in folders]


def load_views(folders=None) -> dict:
    """Every view definition of ``folders`` (default ``workbench/rules/views``), by name.

    The same name in two folders must hold the same SQL.
    """
    out = {}
    for folder in _folders(folders, VIEWS_DIR):
        if not folder.is_dir():
            continue
        for f in sorted(folder.glob("*.sql")):
            sql = f.read_text(encoding="utf-8").strip().rstrip(";").strip()
            tree = dialect.parse(sql, str(f))
            if not isinstance(tree, dialect.exp.Query):
                raise RuleError(f"{f}: a view file must hold one SELECT")
            if f.stem in out and out[f.stem].sql != sql:
                raise RuleError(f"{f}: view {f.stem} is also defined, differently, in {out[f.stem].path}")
            out[f.stem] = ViewDef(f.stem, sql, f.resolve(), dialect.referenced_tables(sql))
    return out


def read_knowledge(path) -> pa.Table:
    """A knowledge CSV as an Arrow table with simple, inferred column types."""
    path = Path(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise RuleError(f"{path}: empty knowledge file (needs a header row)")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    for i, r in enumerate(body, start=2):
        if len(r) != len(header):
            raise RuleError(f"{path}: row {i} has {len(r)} fields, the header has {len(header)}")
    cols = {}
    for j, name in enumerate(header):
        vals = [r[j].strip() for r in body]
        present = [v for v in vals if v != ""]
        if present and all(_INT.match(v) for v in present):
            cols[name] = pa.array([int(v) if v != "" else None for v in vals], type=pa.int64())
        elif present and all(_INT.match(v) or _NUM.match(v) for v in present):
            cols[name] = pa.array([float(v) if v != "" else None for v in vals], type=pa.float64())
        else:
            cols[name] = pa.array([v if v != "" else None for v in vals], type=pa.string())
    return pa.table(cols) if cols else pa.table({})


def load_knowledge(folders=None) -> dict:
    """Every knowledge table of ``folders`` (default ``workbench/rules/knowledge``), by name."""
    out = {}
    for folder in _folders(folders, KNOWLEDGE_DIR):
        if folder.is_dir():
            for f in sorted(folder.glob("*.csv")):
                out.setdefault(f.stem, read_knowledge(f))
    return out


def roots_of(rules) -> tuple:
    """Folders holding ``views/`` and ``knowledge/`` for a set of rules: the shipped one, plus
    the parent of each rule file's folder (a library laid out as ``ROOT/library/*.yaml``)."""
    roots = [VIEWS_DIR.parent]
    for r in rules:
        if r.path is not None:
            # ROOT/library/*.yaml, or a bureau's --rules-dir DIR/*.yaml with DIR/knowledge (helper-9)
            for root in (Path(r.path).parent.parent, Path(r.path).parent):
                if root not in roots and ((root / "views").is_dir() or (root / "knowledge").is_dir()):
                    roots.append(root)
    return tuple(roots)


def plan(views: dict, present_tables, knowledge_names) -> tuple:
    """Which views can be built on this data, in creation order.

    Returns
    -------
    order : list of str
        Views to create, each after every view it reads.
    missing : dict of str to set
        Views left out, with the contract tables they lack (directly or through other views).
    """
    present = set(present_tables) | set(knowledge_names)
    order, missing, state = [], {}, {}

    def visit(name, stack):
        if name in state:
            return state[name]
        if name in stack:
            raise RuleError(f"{views[name].path}: views read each other in a cycle: {' -> '.join(stack + [name])}")
        lacks = set()
        for dep in sorted(views[name].reads):
            if dep in views:
                lacks |= visit(dep, stack + [name])
            elif dep in schema.TABLES and dep not in present:
                lacks.add(dep)
            elif dep not in present and dep not in schema.TABLES:
                raise RuleError(f"{views[name].path}: reads {dep!r}, which is neither a contract table, "
                                f"a knowledge table nor a view")
        state[name] = lacks
        if lacks:
            missing[name] = lacks
        else:
            order.append(name)
        return lacks

    for n in sorted(views):
        visit(n, [])
    return order, missing


def lacking(sql_reads, views_missing: dict, present_tables, knowledge_names, views) -> set:
    """Contract tables a statement lacks on this data, through the views it reads."""
    lacks = set()
    for dep in sql_reads:
        if dep in views_missing:
            lacks |= views_missing[dep]
        elif dep in schema.TABLES and dep not in present_tables:
            lacks.add(dep)
    return lacks


def register_duckdb(con, present_tables, roots=None, scratch=None) -> dict:
    """Create the knowledge tables and derived views of ``roots`` on a DuckDB connection.

    With ``scratch`` (the name of an attached database), the views named in :data:`MATERIALIZE`
    can be computed once into tables there (:func:`materialize`, when a rule first needs them);
    until then they are plain views.

    Returns a dict with ``views`` (ViewDef by name), ``created`` (names, in order),
    ``missing`` (view → lacking tables), ``knowledge`` (names), ``materialized`` (names) and
    ``pending`` (names still to be materialised, in creation order).
    """
    roots = roots or (VIEWS_DIR.parent,)
    knowledge = load_knowledge([Path(r) / "knowledge" for r in roots])
    for name, table in knowledge.items():
        con.register(f"__k_{name}", table)
        con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS SELECT * FROM "__k_{name}"')
    views = load_views([Path(r) / "views" for r in roots])
    order, missing = plan(views, present_tables, knowledge)
    sqls = {}
    for name in order:
        sqls[name] = sql = dialect.to_duckdb(views[name].sql, str(views[name].path))
        try:
            con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS {sql}')
        except Exception as e:  # duckdb raises several error types; name the file either way
            raise _failed(views[name], e) from None
    pending = [n for n in order if scratch and n in MATERIALIZE]
    return {"views": views, "created": order, "missing": missing, "knowledge": sorted(knowledge),
            "materialized": [], "pending": pending, "scratch": scratch, "sql": sqls}


def _failed(view, error) -> RuleError:
    """A view's DuckDB error, naming its file."""
    return RuleError(f"{view.path}: view {view.name} fails on DuckDB: {str(error).splitlines()[0]}")


def needed(env: dict, reads) -> set:
    """The views of ``env`` that SQL reading ``reads`` (table and view names) needs, directly or
    through other views."""
    out, stack = set(), [n for n in reads if n in env["views"]]
    while stack:
        name = stack.pop()
        if name not in out:
            out.add(name)
            stack.extend(n for n in env["views"][name].reads if n in env["views"])
    return out


def materialize(con, env: dict, names=None) -> list:
    """Compute the pending shared views among ``names`` (default: all pending) into the scratch
    database (those of :data:`IN_MEMORY` that fit into temporary tables, listed in
    ``env["in_memory"]``), in creation order, and point the view of each name at its table.

    Views that read them by name (``v_fee_fund``, ``v_stay``) read the table from then on, and
    so does each view of :data:`READ_FROM` whose source this is (``v_fee``).
    Returns the names computed now.
    """
    todo = [n for n in env["pending"] if names is None or n in names]
    for name in todo:
        view = env["views"][name]
        memory = name in IN_MEMORY and in_memory_fits(con, *IN_MEMORY[name])
        target = f'temp.main."__shared_{name}"' if memory else f'{env["scratch"]}.main."{name}"'
        try:
            _materialize(con, target, env["sql"][name], CHUNK_BY.get(name), temporary=memory)
            con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS SELECT * FROM {target}')
            for reader in (r for r, source in READ_FROM.items() if source == name and r in env["created"]):
                cols = [d[0] for d in con.execute(f'SELECT * FROM "{reader}" LIMIT 0').description]
                listed = ", ".join(f'"{c}"' for c in cols)
                con.execute(f'CREATE OR REPLACE TEMP VIEW "{reader}" AS SELECT {listed} FROM {target}')
            _read_when_computed(con, env, name)
        except Exception as e:
            raise _failed(view, e) from None
        env["pending"].remove(name)
        env["materialized"].append(name)
        if memory:
            env.setdefault("in_memory", []).append(name)
    return todo


def _read_when_computed(con, env: dict, source: str) -> None:
    """Redefine the views of :data:`WHEN_COMPUTED` whose source is ``source`` (just computed) by
    their other SQL, where their guard holds and the view is the shipped one (a bureau's folder
    may define a view of the same name differently: then it stays as written)."""
    for name, (src, file, guard) in WHEN_COMPUTED.items():
        view = env["views"].get(name)
        if src != source or name not in env["created"] or view is None or view.path != (VIEWS_DIR / f"{name}.sql").resolve():
            continue
        if not con.execute(guard).fetchone()[0]:
            continue
        path = WHEN_COMPUTED_DIR / file
        sql = dialect.to_duckdb(path.read_text(encoding="utf-8").strip().rstrip(";").strip(), str(path))
        con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS {sql}')
        env.setdefault("read_when_computed", []).append(name)


def memory_limit_bytes(con):
    """DuckDB's memory limit on ``con`` in bytes (None when it cannot be read)."""
    return size_bytes(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])


def in_memory_fits(con, table: str, row_bytes: int) -> bool:
    """Whether a table of one row per row of ``table``, ``row_bytes`` each, takes at most
    :data:`MEMORY_SHARE` of the memory limit."""
    limit = memory_limit_bytes(con)
    if limit is None:
        return False
    rows = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    return rows * row_bytes <= limit * MEMORY_SHARE


def slices(con, key: str, source: str, rows: int) -> list:
    """Boundaries cutting ``source``'s ``key`` values into slices of about ``rows`` rows each:
    ``[b1, b2, ...]`` for the slices ``key < b1``, ``b1 <= key < b2``, ..., ``key >= b_last``
    (empty when one slice holds them all)."""
    n = con.execute(f'SELECT count(*) FROM "{source}"').fetchone()[0]
    k = -(-n // rows) if rows > 0 else 1
    if k <= 1:
        return []
    fractions = ", ".join(str(i / k) for i in range(1, k))
    bounds = con.execute(f'SELECT quantile_disc("{key}", [{fractions}]) FROM "{source}"').fetchone()[0]
    return sorted(set(b for b in bounds if b is not None))


def _materialize(con, target: str, sql: str, chunk, temporary=False) -> None:
    """``CREATE TABLE target AS sql`` (a ``TEMP`` table with ``temporary``), in key slices when
    ``chunk`` = (key, source) says so."""
    create = "CREATE OR REPLACE TEMP TABLE" if temporary else "CREATE OR REPLACE TABLE"
    bounds = slices(con, chunk[0], chunk[1], CHUNK_ROWS) if chunk else []
    if not bounds:
        con.execute(f"{create} {target} AS {sql}")
        return
    key = f'"{chunk[0]}"'
    edges = [None] + bounds + [None]
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        where = " AND ".join(c for c in ((f"{key} >= ?" if lo is not None else ""),
                                         (f"{key} < ?" if hi is not None else "")) if c)
        args = [v for v in (lo, hi) if v is not None]
        part = f"SELECT * FROM ({sql}) AS s WHERE {where}"
        if i == 0:
            con.execute(f"{create} {target} AS {part}", args)
        else:
            con.execute(f"INSERT INTO {target} {part}", args)
