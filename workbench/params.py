"""Dashboard parameters a URL or ``workbench serve`` can set, without breaking nbclient injection.

A dashboard's ``parameters`` cell stays one plain assignment per parameter::

    from workbench.params import param
    DATA = param("DATA", "../demo/data")

so a notebook runner (nbclient, papermill) can still override it by inserting a cell after it,
while in Voilà the value comes, first match wins, from

1. the page's query string: ``…/briefing.ipynb?DATA=/srv/data&RUN=/srv/run`` (Voilà ≥ 0.5 passes
   the request's query string to the kernel in the environment variable ``QUERY_STRING``);
2. the environment variable ``WORKBENCH_<NAME>`` (``workbench serve --data/--run`` sets
   ``WORKBENCH_DATA`` / ``WORKBENCH_RUN`` for every kernel it starts);
3. the default written in the cell.

A value from the URL or the environment is text; it is converted to the type of the default
(int, float, bool; anything else stays text). Numbers are written in ASCII digits and whole
numbers are bounded (:func:`parse_int`, :func:`check_int`); rule parameters (``--param``,
``--config``) are read by the same functions.
"""
from __future__ import annotations

import math
import os
import re
from urllib.parse import parse_qsl

from .errors import WorkbenchError

ENV_PREFIX = "WORKBENCH_"
_TRUE = {"1", "true", "yes", "on", "是"}
_FALSE = {"0", "false", "no", "off", "否", ""}


def query_values(query_string=None) -> dict:
    """The parameters of a query string (default ``$QUERY_STRING``), the last value of each name.

    Names are matched case-insensitively by :func:`param`; the Jupyter ``token`` is never a
    parameter and is dropped here.
    """
    qs = os.environ.get("QUERY_STRING", "") if query_string is None else query_string
    return {k: v for k, v in parse_qsl(qs, keep_blank_values=True) if k.lower() != "token"}


# Whole numbers a parameter may take: a signed 32-bit integer. Python reads any length (10**41) and
# any script's digits (full-width １５, Arabic-Indic); SQL engines overflow or read them otherwise.
INT_MAX = 2**31 - 1
# Day counts (window_days, ...): at most a century; date arithmetic beyond it leaves every calendar.
DAYS_MAX = 36_600
_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_FLOAT_TEXT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?")


def _limit(name: str) -> int:
    """The largest size a whole-number parameter ``name`` may take."""
    return DAYS_MAX if str(name).lower().endswith("days") else INT_MAX


def _not_ascii_number(name: str, text: str, what: str) -> WorkbenchError:
    """The error for a text that is not an ASCII number: full-width digits are named as such."""
    if any(c.isdigit() and not c.isascii() for c in str(text)):
        return WorkbenchError(f"parameter {name}: {text!r} has digits other than 0-9 (full-width?); write them as 0-9")
    return WorkbenchError(f"parameter {name}: {text!r} is not {what}")


def check_int(name: str, value: int) -> int:
    """``value`` when it fits a parameter (:data:`INT_MAX`, :data:`DAYS_MAX` for ``*_days``); else raise.

    Raises
    ------
    WorkbenchError
        Naming ``name``, the value and the bound.
    """
    limit = _limit(name)
    if not -limit <= value <= limit:
        shown = str(value) if len(str(value)) <= 24 else f"a number of {len(str(abs(value)))} digits"
        raise WorkbenchError(f"parameter {name}: {shown} is out of range (at most {limit:,} in size)")
    return value


def parse_int(name: str, text: str) -> int:
    """A whole number written in ASCII digits (``15``, ``-3``, ``15.0`` is not), checked by :func:`check_int`."""
    t = str(text).strip()
    if not _INT_TEXT.fullmatch(t):
        raise _not_ascii_number(name, text, "a whole number")
    if len(t.lstrip("+-").lstrip("0")) > 30:  # no int() of a 10,000-digit text
        raise WorkbenchError(f"parameter {name}: a number of {len(t.lstrip('+-'))} digits is out of range "
                             f"(at most {_limit(name):,} in size)")
    return check_int(name, int(t))


def parse_float(name: str, text: str) -> float:
    """A finite decimal number written in ASCII (``0.5``, ``1e3``)."""
    t = str(text).strip()
    if not _FLOAT_TEXT.fullmatch(t):
        raise _not_ascii_number(name, text, "a number")
    v = float(t)
    if not math.isfinite(v):
        raise WorkbenchError(f"parameter {name}: {text!r} is out of range")
    return v


def days_argument(text: str) -> int:
    """``argparse`` type of a day count option (``--window-days``): :func:`parse_int`, at least 0."""
    import argparse

    try:
        v = parse_int("window_days", text)
    except WorkbenchError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"parameter window_days: {v} is negative")
    return v


def resource_arguments(parser) -> None:
    """``--memory-limit`` / ``--temp-dir`` of a command that runs heavy SQL on DuckDB (read back by
    :func:`workbench.session.resource_options`)."""
    parser.add_argument("--memory-limit", default=None, metavar="SIZE",
                        help="DuckDB memory limit, e.g. 4GB (default: DuckDB's, 80%% of RAM); beyond it DuckDB spills to disk")
    parser.add_argument("--temp-dir", default=None, metavar="DIR",
                        help="where DuckDB spills and keeps its scratch tables (default: the system's temporary folder)")


def engine_argument(parser, default="duckdb", help=None) -> None:
    """``--engine duckdb|spark`` of a command whose SQL runs on either engine."""
    kw = {} if help is None else {"help": help}
    parser.add_argument("--engine", choices=["duckdb", "spark"], default=default, **kw)


def coerce(name: str, text: str, default):
    """Convert ``text`` to the type of ``default``; raise :class:`WorkbenchError` naming ``name``."""
    if isinstance(default, bool):
        low = text.strip().lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        raise WorkbenchError(f"parameter {name}: {text!r} is not a yes/no value (true/false, 1/0)")
    if isinstance(default, int):
        return parse_int(name, text)
    if isinstance(default, float):
        return parse_float(name, text)
    return text


def param(name: str, default, query_string=None, environ=None):
    """The value of dashboard parameter ``name``: query string, then ``WORKBENCH_<NAME>``, then ``default``.

    Parameters
    ----------
    name : str
        The parameter's name as the cell assigns it (``"DATA"``); the query string may spell it in
        any case (``?data=…``).
    default
        The value when neither the URL nor the environment gives one; its type sets the
        conversion of a given text.
    query_string : str, optional
        Default ``$QUERY_STRING`` (set by Voilà).
    environ : mapping, optional
        Default ``os.environ``.
    """
    env = os.environ if environ is None else environ
    qs = env.get("QUERY_STRING", "") if query_string is None else query_string
    given = [v for k, v in parse_qsl(qs, keep_blank_values=True) if k.lower() == name.lower()]
    if given and name.lower() != "token":
        return coerce(name, given[-1], default)
    key = ENV_PREFIX + name.upper()
    if key in env:
        return coerce(name, env[key], default)
    return default
