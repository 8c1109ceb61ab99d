"""Mapped layouts: a YAML file in ``data/mappings/`` says how a foreign layout becomes the contract.

A mapping names *roles* of source files (recognised by their header, not their name), how each
contract table's columns are computed from the files of one or more roles, which tables are
derived from others (:mod:`.derive`), and which source data is kept beside the contract tables
as provenance. Adding a layout is adding a mapping file; ``docs/import.md`` describes the keys.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from .. import schema
from ..errors import UnknownFormatError, WorkbenchError
from . import derive
from .problems import Problem
from .readers import file_kind, read_source, sha256_file
from .validate import TYPE_KIND, bad_type_message, lit, parse_expr, q, stage_text_table


def mappings_folder() -> Path:
    """``data/mappings`` of the repository the workbench is installed (editable) from."""
    import workbench

    return Path(workbench.__file__).resolve().parents[1] / "data" / "mappings"


def available_layouts() -> list:
    """Names of the mapped layouts (one per ``data/mappings/*.yaml``)."""
    folder = mappings_folder()
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


@dataclass
class Mapping:
    """A parsed mapping file."""

    name: str
    path: Path
    sha256: str
    title: str
    null_values: tuple
    files: dict  # role -> {"header": [...], "not_header": [...]}
    tables: dict  # contract table -> list of {"from": [roles], "columns": {col: spec}}
    derive: dict = field(default_factory=dict)  # contract table -> {"function": name, "params": {...}}
    provenance: dict = field(default_factory=dict)  # name -> {"from": role, "columns", "types", "key"}

    def describe_role(self, role) -> str:
        spec = self.files[role]
        text = f"{role} (header with {', '.join(spec['header'])}"
        if spec["not_header"]:
            text += f"; without {', '.join(spec['not_header'])}"
        return text + ")"


def load_mapping(fmt) -> Mapping:
    """The mapping called ``fmt`` (a file of ``data/mappings``), or the YAML file at path ``fmt``.

    Raises
    ------
    UnknownFormatError
        No such layout.
    WorkbenchError
        The mapping file is malformed (names the file and the key).
    """
    p = Path(str(fmt))
    if p.suffix.lower() in (".yaml", ".yml") and p.is_file():
        path = p
    else:
        path = mappings_folder() / f"{fmt}.yaml"
        if not path.is_file() or "/" in str(fmt) or "\\" in str(fmt):
            known = ", ".join(["platform"] + available_layouts())
            raise UnknownFormatError(f"unknown import format {fmt!r}; known formats: {known}")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise WorkbenchError(f"mapping {path.name}: not valid YAML: {e}") from None

    def bad(key, why):
        return WorkbenchError(f"mapping {path.name}: {key}: {why}")

    files = {}
    for role, spec in (doc.get("files") or {}).items():
        if not isinstance(spec, dict) or not spec.get("header"):
            raise bad(f"files.{role}", "needs a non-empty list `header`")
        files[role] = {"header": [str(h) for h in spec["header"]], "not_header": [str(h) for h in spec.get("not_header") or []]}
    if not files:
        raise bad("files", "no file roles defined")
    tables = {}
    for name, specs in (doc.get("tables") or {}).items():
        if name not in schema.TABLES:
            raise bad(f"tables.{name}", "not a contract table")
        out = []
        for i, spec in enumerate(specs if isinstance(specs, list) else [specs]):
            roles = spec.get("from")
            roles = [roles] if isinstance(roles, str) else list(roles or [])
            for r in roles:
                if r not in files:
                    raise bad(f"tables.{name}[{i}].from", f"unknown role {r!r}")
            if not isinstance(spec.get("columns"), dict):
                raise bad(f"tables.{name}[{i}].columns", "needs a mapping of column: source")
            for col, cspec in spec["columns"].items():
                column_sql(cspec, f"{path.name}: tables.{name}[{i}].columns.{col}")
            out.append({"from": roles, "columns": dict(spec["columns"])})
        tables[name] = out
    derived = {}
    for name, spec in (doc.get("derive") or {}).items():
        if name not in schema.TABLES:
            raise bad(f"derive.{name}", "not a contract table")
        if spec.get("function") not in derive.FUNCTIONS:
            raise bad(f"derive.{name}.function", f"unknown function {spec.get('function')!r}; known: {', '.join(derive.FUNCTIONS)}")
        params = dict(spec.get("params") or {})
        try:
            inspect.signature(derive.FUNCTIONS[spec["function"]]).bind(None, target=name, **params)
        except TypeError as e:
            raise bad(f"derive.{name}.params", str(e)) from None
        derived[name] = {"function": spec["function"], "params": params}
    prov = {}
    for name, spec in (doc.get("provenance") or {}).items():
        if name in schema.TABLES or name in ("truth", "data_manifest"):
            raise bad(f"provenance.{name}", "provenance may not take the name of a contract table")
        if spec.get("from") not in files:
            raise bad(f"provenance.{name}.from", f"unknown role {spec.get('from')!r}")
        prov[name] = {"from": spec["from"], "columns": dict(spec.get("columns") or {}),
                      "types": dict(spec.get("types") or {}), "key": list(spec.get("key") or [])}
    return Mapping(name=str(doc.get("name") or path.stem), path=path, sha256=sha256_file(path), title=str(doc.get("title") or ""),
                   null_values=tuple(str(v) for v in doc.get("null_values", [""])), files=files, tables=tables,
                   derive=derived, provenance=prov)


def column_sql(spec, where="mapping"):
    """SQL for one mapped column and the source columns it reads.

    Returns
    -------
    (str, list of str, str)
        The SQL expression, the source columns it uses, and a label for reports.
    """
    if isinstance(spec, str):
        return q(spec.lower()), [spec], spec
    if isinstance(spec, dict) and "const" in spec:
        return lit(spec["const"]), [], "constant"
    if isinstance(spec, dict) and "column" in spec:
        col = str(spec["column"])
        mapping = spec.get("map") or {}
        if not mapping:
            return q(col.lower()), [col], col
        whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in mapping.items())
        other = "NULL" if spec.get("other") == "null" else q(col.lower())
        return f"CASE {q(col.lower())} {whens} ELSE {other} END", [col], col
    if isinstance(spec, dict) and "sql" in spec:
        import sqlglot
        from sqlglot import exp

        try:
            tree = sqlglot.parse_one(str(spec["sql"]), read="duckdb")
        except sqlglot.errors.ParseError as e:
            raise WorkbenchError(f"{where}: bad SQL expression: {e}") from None
        cols = list(dict.fromkeys(c.name for c in tree.find_all(exp.Column)))
        return f"({spec['sql']})", cols, "+".join(cols) or "expression"
    raise WorkbenchError(f"{where}: a column is a source column name, or has one of the keys column, const, sql")


def _roles_of(sf, mapping: Mapping) -> list:
    have = set(sf.columns)
    return [r for r, spec in mapping.files.items()
            if all(h.lower() in have for h in spec["header"]) and not any(h.lower() in have for h in spec["not_header"])]


def read_mapped(src: Path, mapping: Mapping, con, log, warnings: list):
    """Read an extract in a mapped layout into ``raw_<table>`` tables of ``con``.

    Returns
    -------
    dict
        ``tables`` (contract tables staged), ``sources`` (SourceFile by ``_src``), ``roles``
        (role of each source), ``source_column`` (callable for reports), ``provenance``
        (names of ``prov_<name>`` tables staged).
    """
    candidates = []
    for entry in sorted(src.iterdir(), key=lambda p: p.name):
        if entry.name.startswith((".", "~$")) or entry.name == "data_manifest.json":
            continue
        if entry.is_file() and file_kind(entry):
            candidates.append(entry)
        else:
            warnings.append(f"{entry.name}: not a CSV (or .csv.gz), XLSX or Parquet file; ignored")
    sources, roles, unrecognised = [], [], []
    for path in candidates:
        sf = read_source(path, path.name)
        if sf.problems and sf.data is None:
            for p in sf.problems:
                log.add(p)
            continue
        found = _roles_of(sf, mapping)
        if len(found) > 1:
            log.add(Problem("ambiguous file", sf.name, 1, None, None, f"the header fits several roles of {mapping.name}: {', '.join(found)}"))
            continue
        if not found:
            unrecognised.append(sf)
            continue
        for p in sf.problems:
            log.add(p)
        sources.append(sf)
        roles.append(found[0])
    expected = "; ".join(mapping.describe_role(r) for r in mapping.files)
    if not sources:
        for sf in unrecognised:
            log.add(Problem("unrecognised file", sf.name, 1, None, None,
                            f"the header ({', '.join(sf.header[:8])}{', ...' if len(sf.header) > 8 else ''}) is none of the {mapping.name} files: {expected}"))
        if not unrecognised and not log:
            log.add(Problem("unrecognised file", None, None, None, None, f"no CSV, XLSX or Parquet file in {src}; expected {expected}"))
        return {"tables": [], "sources": [], "roles": [], "source_column": None, "provenance": []}
    for sf in unrecognised:
        warnings.append(f"{sf.name}: header is none of the {mapping.name} files; ignored")

    present = sorted(set(roles), key=list(mapping.files).index)
    for role in present:
        parts = [(i, sf.data) for i, sf in enumerate(sources) if roles[i] == role]
        stage_text_table(con, f"src_{role}", parts, null_values=mapping.null_values)
        for i, _ in parts:
            sources[i].release()

    labels = {}
    staged = []
    for name, specs in mapping.tables.items():
        selects = _table_selects(name, specs, present, sources, roles, mapping, labels, log)
        if selects:
            _run(con, f"CREATE OR REPLACE TABLE {q('raw_' + name)} AS {' UNION ALL BY NAME '.join(selects)}", mapping, f"tables.{name}")
            staged.append(name)
    for name in schema.REQUIRED_TABLES:
        if name in staged and con.execute(f"SELECT count(*) FROM {q('raw_' + name)}").fetchone()[0] == 0:
            roles_used = sorted({r for s in mapping.tables.get(name, []) for r in s["from"] if r in present})
            files = ", ".join(sf.name for sf, r in zip(sources, roles) if r in roles_used)
            log.add(Problem("empty table", files or None, None, None, None,
                            f"a header but no rows: table {name} is required and may not be empty"))
        if name not in staged and name not in mapping.derive:
            roles_needed = sorted({r for s in mapping.tables.get(name, []) for r in s["from"]})
            log.add(Problem("missing table", None, None, None, None,
                            f"no file for table {name}: expected " + " or ".join(mapping.describe_role(r) for r in roles_needed)))
    provenance = []
    for pname, spec in mapping.provenance.items():
        if spec["from"] in present:
            sel = _table_selects(pname, [{"from": [spec["from"]], "columns": spec["columns"]}], present, sources, roles, mapping, labels, log)
            if not sel:
                continue
            _run(con, f"CREATE OR REPLACE TABLE {q('prov_' + pname)} AS {sel[0]}", mapping, f"provenance.{pname}")
            provenance.append(pname)
    if not log:
        for name, spec in mapping.derive.items():
            try:
                derive.FUNCTIONS[spec["function"]](con, target=name, **spec["params"])
            except duckdb.Error as e:
                raise WorkbenchError(f"mapping {mapping.path.name}: derive.{name}: {e}") from None
            staged.append(name)

    def source_column(src, column):
        return labels.get((roles[src], column)) if src is not None and src < len(roles) else None

    return {"tables": staged, "sources": sources, "roles": roles, "source_column": source_column, "provenance": provenance}


def _run(con, sql, mapping, key):
    """Run mapping SQL; a failure is the mapping file's fault (a typo in an expression), named so."""
    try:
        con.execute(sql)
    except duckdb.Error as e:
        raise WorkbenchError(f"mapping {mapping.path.name}: {key}: {e}") from None


def _table_selects(name, specs, present, sources, roles, mapping, labels, log) -> list:
    """One SELECT per role feeding table ``name``; empty when a source column is missing."""
    selects, complete = [], True
    for spec in specs:
        for role in spec["from"]:
            if role not in present:
                continue
            exprs = []
            for col, cspec in spec["columns"].items():
                sql, used, label = column_sql(cspec)
                labels[(role, col)] = label
                for i, sf in enumerate(sources):
                    if roles[i] != role:
                        continue
                    for u in used:
                        if u.lower() not in sf.columns:
                            log.add(Problem("missing column", sf.name, 1, u, None, f"no column {u} (needed for {name}.{col})"))
                            complete = False
                if sql != q(label.lower()):  # a constant, code map or expression: normalise its text
                    sql = f"NULLIF(trim(CAST({sql} AS VARCHAR)), '')"
                exprs.append(f"{sql} AS {q(col)}")
            selects.append(f"SELECT _src, _row, {', '.join(exprs)} FROM {q('src_' + role)}")
    return selects if complete else []


def check_provenance(con, name: str, spec: dict, validator):
    """Validate ``prov_<name>`` (types, key) and return it as a typed pyarrow Table."""
    table = q("prov_" + name)
    cols = list(spec["columns"])
    typed = []
    for c in cols:
        t = spec["types"].get(c, "str")
        column = schema.Column(c, t, c, c)
        if t != "str":
            parsed = parse_expr(column, q(c))
            validator.flag(TYPE_KIND[t], table, f"{q(c)} IS NOT NULL AND ({parsed}) IS NULL", c, q(c),
                           lambda v, x, column=column: bad_type_message(column, v))
            typed.append(f"{parsed} AS {q(c)}")
        else:
            typed.append(q(c))
    if spec["key"]:
        validator.check_key(name, table, spec["key"])
    return con.sql(f"SELECT {', '.join(typed)} FROM {table} ORDER BY _src, _row").to_arrow_table()
