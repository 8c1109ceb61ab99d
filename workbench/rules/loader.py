"""Rule files: load, validate, and resolve their parameters (``docs/rule-format.md``).

A rule is one YAML file; this module turns it into a :class:`Rule` and checks everything that
can be checked without data: required keys, the id against the file name, the allowed values of
``tier`` / ``result_type`` / ``stage``, typed parameters with defaults and bounds, and that every
``${param}`` in the SQL is declared. Parameter values come from three layers, last wins:
the rule's defaults, a regional YAML file ``{rule_id: {param: value}}``, and ``--param
RULE.KEY=VALUE`` overrides.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml

from .. import schema
from ..errors import RuleError
from ..sql.templates import literal as sql_literal  # one SQL literal for rules and templates

RULES_DIR = Path(__file__).resolve().parent
LIBRARY_DIR = RULES_DIR / "library"
VIEWS_DIR = RULES_DIR / "views"
KNOWLEDGE_DIR = RULES_DIR / "knowledge"

REQUIRED_KEYS = ("id", "version", "official_code", "name_zh", "name_en", "tier", "result_type", "stage",
                 "tables", "basis", "detail_zh", "detail_en", "sql")
OPTIONAL_KEYS = ("params", "notes", "columns", "optional_tables", "severity", "changes", "answers")
# severity: what a confirmed finding is. ``fraud`` (欺诈骗保: claims for what never happened,
# e.g. after death, beyond stock) weighs heaviest in credit scoring (credit.py); every other rule
# is ``irregular`` (违规使用), the default.
SEVERITIES = ("irregular", "fraud")
TIERS = ("policy", "management", "medical")
RESULT_TYPES = ("suspicious", "violation")
STAGES = ("pre", "during", "post")
PARAM_TYPES = ("int", "float", "bool", "str")
PARAM_KEYS = ("default", "type", "min", "max", "zh", "en")
FINDING_COLUMNS = ("fixmedins_code", "dr_code", "psn_no", "mdtrt_id", "amount_at_risk", "evidence")

_PARAM_REF = re.compile(r"\$\{([^}]*)\}")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Param:
    """One declared rule parameter.

    Attributes
    ----------
    name : str
    type : {'int', 'float', 'bool', 'str'}
    default : int, float, bool or str
    min, max : number, optional
        Inclusive bounds (numeric parameters only).
    zh, en : str
        What the parameter means, for the tuning panel and the manifest.
    """

    name: str
    type: str
    default: object
    min: object = None
    max: object = None
    zh: str = ""
    en: str = ""

    def coerce(self, value, where: str):
        """Check ``value`` (a YAML value, or text from the command line) and return it typed.

        Raises :class:`RuleError` naming ``where`` and the parameter when the value has the
        wrong type or lies outside the bounds.
        """
        bad = RuleError(f"{where}: parameter {self.name} expects {self.type}"
                        + (f" in [{_fmt(self.min, '-inf')}, {_fmt(self.max, 'inf')}]"
                           if self.type in ("int", "float") and (self.min is not None or self.max is not None) else "")
                        + f", got {value!r}")
        if isinstance(value, str) and self.type != "str":
            value = _parse_text(value, self.type, bad, self.name)
        if self.type == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise bad
            from ..errors import WorkbenchError
            from ..params import check_int

            try:
                check_int(self.name, value)
            except WorkbenchError as e:
                raise RuleError(f"{where}: {e}") from None
        elif self.type == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
                raise bad
            value = float(value)
            if not math.isfinite(value):
                raise bad
        elif self.type == "bool":
            if not isinstance(value, bool):
                raise bad
        elif self.type == "str":
            if not isinstance(value, str):
                raise bad
        if self.min is not None and value < self.min:
            raise bad
        if self.max is not None and value > self.max:
            raise bad
        return value


def _fmt(v, none):
    return none if v is None else str(v)


def _parse_text(text: str, type_: str, bad: RuleError, name: str = "value"):
    t = text.strip()
    if type_ == "bool":
        low = t.lower()
        if low in ("true", "yes", "1", "on"):
            return True
        if low in ("false", "no", "0", "off"):
            return False
        raise bad
    from ..params import parse_float, parse_int  # ASCII digits only, bounded (issue 23)
    from ..errors import WorkbenchError

    try:
        return parse_int(name, t) if type_ == "int" else parse_float(name, t)
    except WorkbenchError as e:
        raise RuleError(f"{bad} ({str(e).split(': ', 1)[-1]})") from None


@dataclass(frozen=True)
class Rule:
    """One rule of the library, as read from its YAML file.

    ``definition_hash`` is the SHA-256 of the file's bytes: the manifest records it so a run can
    be reproduced with exactly the same rule.
    """

    id: str
    version: int
    official_code: object
    name_zh: str
    name_en: str
    tier: str
    result_type: str
    stage: tuple
    tables: tuple
    params: dict
    basis: str
    detail_zh: str
    detail_en: str
    sql: str
    path: Path = None
    definition_hash: str = ""
    notes: str = field(default="", compare=False)
    columns: tuple = ()  # optional contract columns it needs, as "table.column"
    optional_tables: tuple = ()  # contract tables it reads as empty when the data lacks them
    severity: str = "irregular"
    changes: dict = field(default_factory=dict, compare=False)  # version -> what changed from the one before
    answers: str = field(default="", compare=False)  # the seed or article the rule answers

    def defaults(self) -> dict:
        """Default value of every parameter."""
        return {k: p.default for k, p in self.params.items()}

    def resolve(self, values=None, where=None) -> dict:
        """Defaults overlaid with ``values`` (checked: unknown names and bad values raise)."""
        out = self.defaults()
        prefix = f"{where}: " if where and where != f"rule {self.id}" else ""
        for k, v in (values or {}).items():
            if k not in self.params:
                known = ", ".join(self.params) or "none"
                raise RuleError(f"{prefix}rule {self.id} has no parameter {k!r} (its parameters: {known})")
            out[k] = self.params[k].coerce(v, f"{prefix}rule {self.id}")
        return out

    @property
    def reads(self) -> frozenset:
        """Tables, views and knowledge tables the SQL reads."""
        from ..sql import dialect as sqltext

        return sqltext.referenced_tables(self.render_sql())

    def render_sql(self, values=None) -> str:
        """The rule's SQL with every ``${param}`` replaced by a SQL literal."""
        vals = self.resolve(values)
        return _PARAM_REF.sub(lambda m: sql_literal(vals[m.group(1)]), self.sql)


_CACHE: dict = {}


def load_rule(path) -> Rule:
    """Read and validate one rule file; raise :class:`RuleError` naming the file and the key.

    A file already read with the same content is not parsed again.
    """
    path = Path(path)
    raw = path.read_bytes()
    key = (str(path.resolve()), hashlib.sha256(raw).hexdigest())
    if key not in _CACHE:
        _CACHE[key] = _parse_rule(path, raw)
    return _CACHE[key]


def _parse_rule(path: Path, raw: bytes) -> Rule:
    where = str(path)
    try:
        doc = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise RuleError(f"{where}: not valid YAML/UTF-8: {e}") from None
    if not isinstance(doc, dict):
        raise RuleError(f"{where}: a rule file must be a mapping of keys (id, version, sql, ...)")
    missing = [k for k in REQUIRED_KEYS if k not in doc]
    if missing:
        raise RuleError(f"{where}: missing key(s) {', '.join(missing)}")
    unknown = [k for k in doc if k not in REQUIRED_KEYS + OPTIONAL_KEYS]
    if unknown:
        raise RuleError(f"{where}: unknown key(s) {', '.join(map(str, unknown))} "
                        f"(allowed: {', '.join(REQUIRED_KEYS + OPTIONAL_KEYS)})")
    rid = doc["id"]
    if rid != path.stem:
        raise RuleError(f"{where}: id {rid!r} must equal the file name {path.stem!r}")
    if not isinstance(rid, str) or not _NAME.match(rid):
        raise RuleError(f"{where}: id {rid!r} must be lower_snake_case")
    if isinstance(doc["version"], bool) or not isinstance(doc["version"], int) or doc["version"] < 1:
        raise RuleError(f"{where}: version must be a positive integer, got {doc['version']!r}")
    oc = doc["official_code"]
    if oc is not None and not isinstance(oc, str):
        raise RuleError(f"{where}: official_code must be a string (quote it) or null, got {oc!r}")
    for k in ("name_zh", "name_en", "basis", "detail_zh", "detail_en", "sql"):
        if not isinstance(doc[k], str) or not doc[k].strip():
            raise RuleError(f"{where}: {k} must be a non-empty string")
    _one_of(where, "tier", doc["tier"], TIERS)
    _one_of(where, "result_type", doc["result_type"], RESULT_TYPES)
    stage = doc["stage"]
    if isinstance(stage, str):
        stage = [stage]
    if not isinstance(stage, list) or not stage:
        raise RuleError(f"{where}: stage must be a list of {', '.join(STAGES)}")
    for s in stage:
        _one_of(where, "stage", s, STAGES)
    tables = doc["tables"]
    if not isinstance(tables, list) or not tables:
        raise RuleError(f"{where}: tables must be a non-empty list of contract tables")
    for t in tables:
        if t not in schema.TABLES:
            raise RuleError(f"{where}: tables: {t!r} is not a contract table ({', '.join(schema.TABLE_ORDER)})")
    columns = _load_columns(where, doc.get("columns"), tables)
    optional_tables = doc.get("optional_tables") or []
    if not isinstance(optional_tables, list):
        raise RuleError(f"{where}: optional_tables must be a list of contract tables")
    for t in optional_tables:
        if t not in schema.TABLES or t in tables:
            raise RuleError(f"{where}: optional_tables: {t!r} must be a contract table not listed in tables")
    params = _load_params(where, doc.get("params"))
    severity = doc.get("severity", "irregular")
    _one_of(where, "severity", severity, SEVERITIES)
    changes = _load_changes(where, doc.get("changes"), doc["version"])
    answers = doc.get("answers") or ""
    if not isinstance(answers, str):
        raise RuleError(f"{where}: answers must be a string (the seed or article the rule answers)")
    for name in _PARAM_REF.findall(doc["sql"]):
        if name not in params:
            raise RuleError(f"{where}: the sql uses ${{{name}}}, which params does not declare")
    rule = Rule(
        id=rid, version=doc["version"], official_code=oc, name_zh=doc["name_zh"].strip(),
        name_en=doc["name_en"].strip(), tier=doc["tier"], result_type=doc["result_type"],
        stage=tuple(stage), tables=tuple(tables), params=params, basis=doc["basis"].strip(),
        detail_zh=doc["detail_zh"].strip(), detail_en=doc["detail_en"].strip(), sql=doc["sql"],
        path=path.resolve(), definition_hash=hashlib.sha256(raw).hexdigest(),
        notes=str(doc.get("notes") or ""), columns=columns, optional_tables=tuple(optional_tables),
        severity=severity, changes=changes, answers=answers.strip(),
    )
    from ..sql import dialect as sqltext

    sqltext.parse(rule.render_sql(), f"{where}: sql")
    return rule


def _load_changes(where, spec, version) -> dict:
    """``changes: {version: what changed from the version before}``: the changelog, kept out of
    the ``notes`` auditors read."""
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise RuleError(f"{where}: changes must be a mapping version -> what changed")
    for k, v in spec.items():
        if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= version:
            raise RuleError(f"{where}: changes: {k!r} is not a version from 2 to {version}")
        if not isinstance(v, str) or not v.strip():
            raise RuleError(f"{where}: changes: {k}: must be a non-empty text")
    return {k: spec[k].strip() for k in sorted(spec)}


def fraud_rule_ids(library=None) -> list:
    """Ids of the rules whose file says ``severity: fraud``, sorted (built-in library by default).

    Without ``library`` the built-in files are read for that key alone (no SQL parsing), so a
    module may call it when imported (credit.py's default policy).
    """
    if library is not None:
        return sorted(rid for rid, r in library.items() if r.severity == "fraud")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out = []
    for f in sorted(LIBRARY_DIR.glob("*.yaml")):
        doc = yaml.load(f.read_text(encoding="utf-8"), Loader=loader)
        if doc.get("severity") == "fraud":
            out.append(f.stem)
    return out


def _load_columns(where, spec, tables) -> tuple:
    """``columns: [table.column, ...]``: optional contract columns without which the rule cannot
    judge (a data folder whose file lacks one reads it as NULL, so the rule would find nothing)."""
    if spec is None:
        return ()
    if not isinstance(spec, list):
        raise RuleError(f"{where}: columns must be a list of table.column")
    out = []
    for item in spec:
        t, _, c = str(item).partition(".")
        if t not in tables:
            raise RuleError(f"{where}: columns: {item!r} names table {t!r}, which tables does not list")
        if c not in schema.TABLES[t].column_names:
            raise RuleError(f"{where}: columns: {item!r}: table {t} has no column {c!r} in the contract")
        out.append(f"{t}.{c}")
    return tuple(out)


def _one_of(where, key, value, allowed):
    if value not in allowed:
        raise RuleError(f"{where}: {key} must be one of {', '.join(allowed)}, got {value!r}")


def _load_params(where, spec) -> dict:
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise RuleError(f"{where}: params must be a mapping name -> {{default, type, ...}}")
    out = {}
    for name, p in spec.items():
        at = f"{where}: parameter {name}"
        if not isinstance(name, str) or not _NAME.match(name):
            raise RuleError(f"{at}: name must be lower_snake_case")
        if not isinstance(p, dict):
            raise RuleError(f"{at}: must be a mapping {{default, type, min, max, zh, en}}")
        unknown = [k for k in p if k not in PARAM_KEYS]
        if unknown:
            raise RuleError(f"{at}: unknown key(s) {', '.join(map(str, unknown))} (allowed: {', '.join(PARAM_KEYS)})")
        if "default" not in p or "type" not in p:
            raise RuleError(f"{at}: needs both default and type")
        if p["type"] not in PARAM_TYPES:
            raise RuleError(f"{at}: type must be one of {', '.join(PARAM_TYPES)}, got {p['type']!r}")
        for b in ("min", "max"):
            v = p.get(b)
            if v is not None and (p["type"] not in ("int", "float") or isinstance(v, bool) or not isinstance(v, (int, float))):
                raise RuleError(f"{at}: {b} must be a number and only numeric parameters take bounds, got {v!r}")
        param = Param(name=name, type=p["type"], default=None, min=p.get("min"), max=p.get("max"),
                      zh=str(p.get("zh") or ""), en=str(p.get("en") or ""))
        default = param.coerce(p["default"], f"{at} default")
        out[name] = Param(**{**param.__dict__, "default": default})
    return out


def load_library(path=None) -> dict:
    """Every rule of a library folder, by id, sorted by id.

    Parameters
    ----------
    path : path, optional
        A folder of ``*.yaml`` rule files (default: the library shipped in
        ``workbench/rules/library``), or a single rule file.

    Returns
    -------
    dict of str to Rule
    """
    path = Path(path) if path is not None else LIBRARY_DIR
    if path.is_file():
        r = load_rule(path)
        return {r.id: r}
    if not path.is_dir():
        raise RuleError(f"{path}: no such rule library folder")
    rules = {}
    for f in sorted(path.glob("*.yaml")):
        r = load_rule(f)
        rules[r.id] = r
    return rules


def select_rules(library: dict, rules=None) -> dict:
    """The rules to run: all of ``library`` by default, else those named (ids or :class:`Rule`).

    An unknown id raises :class:`RuleError` naming it.
    """
    if rules is None:
        return dict(library)
    if isinstance(rules, (str, Rule)):
        rules = [rules]
    if isinstance(rules, dict):
        return dict(rules)
    out = {}
    for r in rules:
        if isinstance(r, Rule):
            out[r.id] = r
            continue
        if r not in library:
            raise RuleError(f"unknown rule {r!r} (known: {', '.join(sorted(library)) or 'none'})")
        out[r] = library[r]
    return out


def parse_param_overrides(items) -> dict:
    """``["RULE.KEY=VALUE", ...]`` (the ``--param`` options) as ``{rule: {key: text}}``."""
    out: dict = {}
    for item in items or []:
        m = re.match(r"^\s*([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\s*=(.*)$", item)
        if not m:
            raise RuleError(f"--param {item!r}: expected RULE.KEY=VALUE, e.g. split_hospitalization.window_days=10")
        out.setdefault(m.group(1), {})[m.group(2)] = m.group(3).strip()
    return out


def read_config(path) -> dict:
    """A regional parameter file ``{rule_id: {param: value}}``."""
    path = Path(path)
    if not path.is_file():
        raise RuleError(f"{path}: no such parameter file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise RuleError(f"{path}: not UTF-8 text (undecodable byte on line {line}; a GBK file? save it as UTF-8)") from None
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise RuleError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise RuleError(f"{path}: expected a mapping rule_id -> {{param: value}}")
    return doc


def resolve_params(library: dict, config=None, overrides=None, rules=None) -> dict:
    """Every parameter value each rule will run with: defaults < regional config < overrides.

    Parameters
    ----------
    library : dict of str to Rule
        Rules the config and overrides may name (an unknown rule is an error naming it).
    config : path or dict, optional
        Regional parameter file or its content ``{rule_id: {param: value}}``.
    overrides : list of str or dict, optional
        ``--param`` strings ``RULE.KEY=VALUE`` or ``{rule_id: {param: value}}``.
    rules : iterable of str, optional
        Limit the result to these rules (default: every rule of ``library``).

    Returns
    -------
    dict of str to dict
        ``{rule_id: {param: value}}`` with typed, bounds-checked values.
    """
    layers = []
    if config is not None:
        where = str(config) if not isinstance(config, dict) else "parameter config"
        layers.append((where, config if isinstance(config, dict) else read_config(config)))
    if overrides:
        ov = overrides if isinstance(overrides, dict) else parse_param_overrides(overrides)
        layers.append(("--param", ov))
    merged: dict = {}
    for where, layer in layers:
        for rid, vals in layer.items():
            if rid not in library:
                raise RuleError(f"{where}: unknown rule {rid!r}")
            if not isinstance(vals, dict):
                raise RuleError(f"{where}: {rid}: expected a mapping param -> value")
            for k, v in vals.items():
                rule = library[rid]
                if k not in rule.params:
                    raise RuleError(f"{where}: rule {rid} has no parameter {k!r} "
                                    f"(its parameters: {', '.join(rule.params) or 'none'})")
                merged.setdefault(rid, {})[k] = rule.params[k].coerce(v, f"{where}: {rid}.{k}")
    ids = list(rules) if rules is not None else list(library)
    return {rid: library[rid].resolve(merged.get(rid)) for rid in ids}


def param_names(sql: str) -> list:
    """Names of the ``${param}`` references in a SQL text, in order of first use."""
    seen = []
    for n in _PARAM_REF.findall(sql):
        if n not in seen:
            seen.append(n)
    return seen


def library_table(library=None):
    """The rules of a library as a table to read: one row per rule.

    Columns ``rule_id, official_code, name_zh, name_en, tier, result_type, stage, tables,
    params`` (``name=default`` pairs), ``version``, ``basis``; sorted by ``rule_id``.
    """
    import pandas as pd

    library = load_library() if library is None else library
    rows = []
    for rid in sorted(library):
        r = library[rid]
        rows.append({"rule_id": rid, "official_code": r.official_code, "name_zh": r.name_zh, "name_en": r.name_en,
                     "tier": r.tier, "result_type": r.result_type, "stage": ", ".join(r.stage),
                     "tables": ", ".join(r.tables),
                     "params": "; ".join(f"{k}={sql_literal(p.default) if p.type == 'str' else p.default}"
                                         for k, p in r.params.items()),
                     "version": r.version, "basis": r.basis})
    return pd.DataFrame(rows, columns=["rule_id", "official_code", "name_zh", "name_en", "tier", "result_type",
                                       "stage", "tables", "params", "version", "basis"])
