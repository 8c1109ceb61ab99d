"""One visit at a time (事中 / 事前审核): the same rule files, run on one person's history.

:func:`check_visit` opens a separate in-memory DuckDB database whose ``mdtrt``, ``setl`` and
``fee`` views hold only the rows of the visit's person (so history rules such as
split_hospitalization still see the earlier stays), and whose other tables are those of the data
folder. A claim that is not yet in the data (pre-payment review) is passed as rows and appended to
that history. The rules run unchanged; the findings kept are those about the visit: its
``mdtrt_id``, or evidence naming the visit, one of its settlements or one of its charges.

Only rules whose ``stage`` lists ``during`` (or ``pre``) run by default: rules that compare
institutions or doctors with their peers need everyone's data and are ``post`` only.
"""
from __future__ import annotations

import json

import duckdb
import pandas as pd

from .. import datafolder, schema
from ..errors import RuleError
from . import findings as _findings
from .engine import run_rules
from .loader import Rule, load_library, select_rules

PERSON_TABLES = ("mdtrt", "setl", "fee")


class VisitContext:
    """A DuckDB database with one person's visits and everything else of a data folder."""

    def __init__(self, session, psn_no: str, extra: dict, replace_mdtrt=None):
        self.folder = session.folder
        self.manifest = session.manifest
        self.con = duckdb.connect(":memory:")
        self.tables = []
        lit = "'" + str(psn_no).replace("'", "''") + "'"
        drop = "" if replace_mdtrt is None else " AND mdtrt_id <> '" + str(replace_mdtrt).replace("'", "''") + "'"
        for name in session.tables:
            if name == "truth":
                continue
            src = _scan(datafolder.table_path(session.folder, name))
            if name == "mdtrt" or name == "setl":
                body = f"SELECT * FROM {src} WHERE psn_no = {lit}{drop}"
            elif name == "fee":
                body = (f"SELECT * FROM {src} WHERE mdtrt_id IN (SELECT mdtrt_id FROM {_scan(datafolder.table_path(session.folder, 'mdtrt'))} "
                        f"WHERE psn_no = {lit}){drop}")
            else:
                body = f"SELECT * FROM {src}"
            if name in extra:
                self.con.register(f"__new_{name}", extra[name])
                body = f"{body} UNION ALL BY NAME SELECT * FROM __new_{name}"
            self.con.execute(f'CREATE VIEW "{name}" AS {body}')
            self.tables.append(name)
        for name in extra:
            if name not in self.tables:
                self.con.register(f"__new_{name}", extra[name])
                self.con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM __new_{name}')
                self.tables.append(name)

        self.stored_columns = dict(session.stored_columns)

    def scratch(self):
        """No scratch database: one person's rows are few, so the derived views stay views."""
        return None

    def df(self, query: str):
        return self.con.sql(query).df()

    def close(self):
        self.con.close()


def _scan(path) -> str:
    p = str(path.resolve())
    if path.is_dir():
        p = p.rstrip("/") + "/*.parquet"
    return "read_parquet('" + p.replace("'", "''") + "')"


def _rows(name, value):
    if isinstance(value, dict):
        value = [value]
    df = pd.DataFrame(list(value))
    try:
        return datafolder.conform(name, df)
    except Exception as e:
        raise RuleError(f"new visit: table {name}: {e}") from None


def _concerns(row, mdtrt_id: str, setl_ids: set) -> bool:
    if row["mdtrt_id"] == mdtrt_id:
        return True
    for key in json.loads(row["evidence"]):
        if key == f"mdtrt:{mdtrt_id}" or key.startswith(f"fee:{mdtrt_id}/"):
            return True
        if key.startswith("setl:") and key[len("setl:"):] in setl_ids:
            return True
    return False


def check_visit(session, mdtrt_id=None, rules=None, params=None, new_visit=None, library=None,
                stages=("during", "pre")) -> pd.DataFrame:
    """Findings concerning one visit, as a claims reviewer would see them before paying it.

    Parameters
    ----------
    session : workbench.Session
    mdtrt_id : str, optional
        The visit. Optional when ``new_visit`` holds exactly one ``mdtrt`` row.
    rules : list of str or Rule, optional
        Rules to run (default: every library rule whose ``stage`` meets ``stages``).
    params : dict, optional
        ``{rule_id: {param: value}}``.
    new_visit : dict, optional
        A claim not yet in the data: ``{"mdtrt": row or rows, "setl": ..., "fee": ...}`` as
        dicts of contract columns. It is appended to the person's history (replacing rows of an
        existing visit with the same ``mdtrt_id``).
    library : dict, optional
    stages : tuple of str
        With ``rules`` None, run the rules whose ``stage`` lists any of these.

    Returns
    -------
    DataFrame
        Findings (``findings.COLUMNS``) whose ``mdtrt_id`` is the visit or whose evidence names
        it, sorted by ``finding_id``.
    """
    extra = {}
    if new_visit:
        unknown = set(new_visit) - set(schema.TABLES)
        if unknown:
            raise RuleError(f"new visit: unknown table(s) {', '.join(sorted(unknown))}")
        for name, rows in new_visit.items():
            if isinstance(rows, dict):
                rows = [rows]
            if rows is not None and len(rows):
                extra[name] = _rows(name, rows)
        if "mdtrt" not in extra:
            raise RuleError("new visit: needs its mdtrt row")
        ids = extra["mdtrt"].column("mdtrt_id").to_pylist()
        if mdtrt_id is None:
            if len(set(ids)) != 1:
                raise RuleError("new visit: give mdtrt_id, the new rows hold several visits")
            mdtrt_id = ids[0]
        elif mdtrt_id not in ids:
            raise RuleError(f"new visit: no mdtrt row has mdtrt_id {mdtrt_id!r}")
        psn = extra["mdtrt"].column("psn_no").to_pylist()[ids.index(mdtrt_id)]
    else:
        if mdtrt_id is None:
            raise RuleError("check_visit needs an mdtrt_id or a new visit")
        hit = session.con.execute("SELECT psn_no FROM mdtrt WHERE mdtrt_id = ?", [str(mdtrt_id)]).fetchall()
        if not hit:
            raise RuleError(f"{session.folder}: no visit with mdtrt_id {mdtrt_id!r}")
        psn = hit[0][0]
    mdtrt_id = str(mdtrt_id)
    lib = library
    if lib is None and (rules is None or not all(isinstance(r, Rule) for r in _list(rules))):
        lib = load_library()
    if rules is None:
        rules = {rid: r for rid, r in lib.items() if set(r.stage) & set(stages)}
    chosen = select_rules(lib or {}, rules)
    ctx = VisitContext(session, psn, extra, replace_mdtrt=mdtrt_id if new_visit else None)
    try:
        setl_ids = set()
        if "setl" in ctx.tables:
            setl_ids = {r[0] for r in ctx.con.execute("SELECT setl_id FROM setl WHERE mdtrt_id = ?", [mdtrt_id]).fetchall()}
        result = run_rules(ctx, chosen, params={k: v for k, v in (params or {}).items() if k in chosen},
                           progress=False, library=lib)
    finally:
        ctx.close()
    df = result.findings
    if not len(df):
        return df
    keep = [_concerns(r, mdtrt_id, setl_ids) for r in df.to_dict("records")]
    return _findings.frame(df[keep].to_dict("records"))


def _list(rules):
    if isinstance(rules, (str, Rule)):
        return [rules]
    if isinstance(rules, dict):
        return list(rules.values())
    return list(rules)
