"""A bureau's own rules (规则库本地化): a folder of rule files beside the built-in library.

``workbench audit DATA --out RUN --rules-dir DIR`` loads every ``DIR/*.yaml`` with the same
validation as the built-in library, plus what can only be checked against the contract: the SQL
is compiled on empty contract tables with the derived views and knowledge tables (so an unknown
table or column is refused before any data is read), and it must return the finding columns and
every column its detail templates name. Regional knowledge tables go in ``DIR/knowledge/*.csv``
(and derived views in ``DIR/views/*.sql``); a name the built-in library already uses is refused,
as is a rule id it already uses. Every refusal is a :class:`RuleError` naming the file.

A run keeps a copy of each local rule's file (``RUN/rules/library/<id>.yaml``) and of the
folder's knowledge and views (``RUN/rules/knowledge``, ``RUN/rules/views``), so ``reproduce``
and evidence packs work after ``DIR`` is gone; the manifest names each rule's ``source``
(``built-in`` or ``local``) and, for a local rule, its copy relative to the run folder.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb

from .. import schema
from ..errors import RuleError
from ..sql import dialect
from . import views as _views
from .loader import FINDING_COLUMNS, KNOWLEDGE_DIR, LIBRARY_DIR, VIEWS_DIR, load_library, load_rule

RUN_RULES = Path("rules")  # where a run folder keeps the local rules' files, relative to it
_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def origin(rule) -> str:
    """``'built-in'`` for a rule file of the installed library, else ``'local'``."""
    return "built-in" if rule.path is not None and Path(rule.path).parent == LIBRARY_DIR else "local"


def run_file(rule) -> str | None:
    """Where a run folder keeps a local rule's file (relative, POSIX); None for a built-in rule."""
    return None if origin(rule) == "built-in" else (RUN_RULES / "library" / f"{rule.id}.yaml").as_posix()


def load_rules_dir(path, builtin=None) -> dict:
    """Every rule file of a bureau's folder, validated; refused whole if any file is wrong.

    Parameters
    ----------
    path : path
        A folder of ``*.yaml`` rule files, optionally with ``knowledge/*.csv`` and ``views/*.sql``.
    builtin : dict of str to Rule, optional
        The library the folder adds to (default: the built-in library); an id it already has
        is refused.

    Returns
    -------
    dict of str to Rule

    Raises
    ------
    RuleError
        Naming the file: not a folder, no rule file, bad YAML or a missing key, an id clash, a
        knowledge table or view name the built-in library uses, SQL that does not compile on the
        contract's tables, or a result without the finding columns or a column a detail names.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise RuleError(f"--rules-dir {folder}: no such folder")
    builtin = load_library() if builtin is None else builtin
    files = sorted(list(folder.glob("*.yaml")) + list(folder.glob("*.yml")))
    if not files:
        raise RuleError(f"--rules-dir {folder}: no rule file (*.yaml) in it")
    rules = {}
    for f in files:
        r = load_rule(f)
        if r.id in builtin:
            raise RuleError(f"{f}: rule id {r.id!r} is already a built-in rule (choose another id)")
        rules[r.id] = r
    for sub, pattern, shipped in (("knowledge", "*.csv", KNOWLEDGE_DIR), ("views", "*.sql", VIEWS_DIR)):
        for f in sorted((folder / sub).glob(pattern)):
            if (shipped / f.name).exists():
                raise RuleError(f"{f}: the built-in library already has {sub}/{f.name} (choose another name)")
    check_compiles(rules, (VIEWS_DIR.parent, folder))
    return rules


def check_compiles(rules: dict, roots) -> None:
    """Compile each rule's SQL (default parameters) on empty contract tables with the views and
    knowledge tables of ``roots``; raise :class:`RuleError` naming the rule's file on any error,
    or when its result lacks a finding column or a column its detail templates name."""
    con = duckdb.connect()
    try:
        for name in schema.TABLE_ORDER:
            con.register(f"__c_{name}", schema.TABLES[name].arrow_schema().empty_table())
            con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM "__c_{name}"')
        _views.register_duckdb(con, list(schema.TABLE_ORDER), tuple(Path(r) for r in roots))
        for r in rules.values():
            where = str(r.path)
            try:
                sql = dialect.to_duckdb(r.render_sql(), f"{where}: sql")
                cols = [row[0] for row in con.execute(f"DESCRIBE {sql}").fetchall()]
            except RuleError:
                raise
            except Exception as e:  # duckdb's Binder/Catalog/Parser errors alike
                raise RuleError(f"{where}: the sql does not run on the contract's tables: "
                                f"{str(e).splitlines()[0]}") from None
            lacking = [c for c in FINDING_COLUMNS if c not in cols]
            lacking += [c for c in dict.fromkeys(_FIELD.findall(r.detail_zh) + _FIELD.findall(r.detail_en))
                        if c not in cols and c not in lacking and c not in _ADDED]
            if lacking:
                raise RuleError(f"{where}: the sql returns no column {', '.join(lacking)} "
                                f"(a finding needs {', '.join(FINDING_COLUMNS)} and every column the details name)")
    finally:
        con.close()


# columns the engine adds to every finding, which detail templates may name
_ADDED = ("rule_id", "official_code", "result_type", "finding_id")


def copy_into_run(rules, folder) -> dict:
    """Copy each local rule's file, and the knowledge tables and views beside it, into the run
    folder being written; returns ``{relative path: source path}`` of what was copied."""
    copied = {}
    dest = Path(folder) / RUN_RULES
    for r in rules:
        if origin(r) != "local":
            continue
        target = Path(folder) / run_file(r)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(r.path, target)
        copied[run_file(r)] = r.path
        root = Path(r.path).parent
        for sub, pattern in (("knowledge", "*.csv"), ("views", "*.sql")):
            for src in [*sorted((root / sub).glob(pattern)), *sorted((root.parent / sub).glob(pattern))]:
                if src.parent.parent == VIEWS_DIR.parent:
                    continue
                out = dest / sub / src.name
                if not out.exists():
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, out)
                    copied[(RUN_RULES / sub / src.name).as_posix()] = src
    return copied


def library_with(rules_dir=None) -> dict:
    """The built-in library plus a bureau's folder of rules (checked as by ``--rules-dir``)."""
    builtin = load_library()
    return {**builtin, **(load_rules_dir(rules_dir, builtin) if rules_dir else {})}
