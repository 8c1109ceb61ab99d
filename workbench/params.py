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
(int, float, bool; anything else stays text).
"""
from __future__ import annotations

import os
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


def coerce(name: str, text: str, default):
    """Convert ``text`` to the type of ``default``; raise :class:`WorkbenchError` naming ``name``."""
    if isinstance(default, bool):
        low = text.strip().lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        raise WorkbenchError(f"parameter {name}: {text!r} is not a yes/no value (true/false, 1/0)")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise WorkbenchError(f"parameter {name}: {text!r} is not a whole number") from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise WorkbenchError(f"parameter {name}: {text!r} is not a number") from None
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
