"""SQL templates: one loader, one placeholder syntax, for every SQL file of the workbench.

A template is a ``.sql`` file (or text) whose ``${name}`` placeholders are filled by
:func:`render`: a value is written as a SQL literal both DuckDB and Spark read the same way
(:func:`literal`: numbers as plain decimals, text quoted), and a :class:`Raw` value — a fragment
of SQL, a table name, a list of columns — is put in as it is. Rules (``${param}`` in a rule
file's ``sql``), providers, stays and rings all use this syntax.

``$name`` (no braces) is not a template placeholder: it is DuckDB's own bound parameter, passed
with the query; :func:`bind` writes such parameters into the text for an engine without them
(Spark).
"""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from ..errors import WorkbenchError

PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_BOUND = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\b")


class Raw(str):
    """SQL text put into a template as it is (a fragment, a table or column name)."""


def literal(value) -> str:
    """A Python value as a SQL literal both DuckDB and Spark read the same way."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # A plain decimal literal (exact DECIMAL in both engines), never exponent notation.
        text = format(Decimal(repr(value)), "f")
        return text if "." in text else text + ".0"
    if isinstance(value, Decimal):
        return format(value, "f")
    if value is None:
        return "NULL"
    return "'" + str(value).replace("'", "''") + "'"


def placeholders(text: str) -> list:
    """The names of a template's ``${name}`` placeholders, in order of first appearance."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def render(text: str, values=None, where: str = "SQL template") -> str:
    """``text`` with every ``${name}`` replaced by ``values[name]`` (:func:`literal`).

    Raises
    ------
    WorkbenchError
        A placeholder has no value (naming ``where`` and the placeholder).
    """
    values = values or {}
    missing = [n for n in placeholders(text) if n not in values]
    if missing:
        raise WorkbenchError(f"{where}: no value for {', '.join('${' + n + '}' for n in missing)}")
    return PLACEHOLDER.sub(lambda m: literal(values[m.group(1)]), text)


def load(folder, name: str, **values) -> str:
    """The template ``folder/name.sql`` rendered with ``values`` (:func:`render`)."""
    path = Path(folder) / f"{name}.sql"
    return render(path.read_text(encoding="utf-8"), values, str(path))


def bind(text: str, params=None) -> str:
    """``text`` with DuckDB's bound parameters written in as literals, for an engine without them.

    ``params`` is a dict for named parameters (``$window_days``) or a sequence for numbered
    (``$1``) or positional (``?``) ones.
    """
    if not params:
        return text
    if isinstance(params, dict):
        return _BOUND.sub(lambda m: literal(params[m.group(1)]) if m.group(1) in params else m.group(0), text)
    values = list(params)
    if re.search(r"\$\d+", text):
        return re.sub(r"\$(\d+)", lambda m: literal(values[int(m.group(1)) - 1]), text)
    it = iter(values)
    return re.sub(r"\?", lambda m: literal(next(it)), text)
