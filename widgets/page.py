"""The page a dashboard's kernel serves: wait for it when the kernel was started ahead (preheated).

``workbench serve`` keeps a pool of kernels per dashboard that have already run the dashboard's
imports (Voilà's ``preheat_kernel``), so a page opens without waiting for a Python process and
its imports. Such a kernel runs the notebook before anyone asks for the page; the URL's
parameters (``?RUN=…&RULE=…``) only exist once someone does. :func:`wait_for_page`, called after
the imports and before the ``parameters`` cell, holds the notebook there until the request comes
and puts its ``QUERY_STRING`` in the environment, where :func:`workbench.params.param` reads it.
Anywhere else (a normal Voilà kernel, nbclient, Jupyter) it returns at once.

While it waits nobody is waiting for it, so it first builds what the page shows when its URL
names no other run (the run ``workbench serve --run`` gave, ``$WORKBENCH_RUN``): the ``prepare``
functions a dashboard passes keep their widgets with :func:`keep`, and the dashboard's factory
takes them with :func:`take` once the request came, if the request asks for that same page.
"""
from __future__ import annotations

import os


def preheated() -> bool:
    """True in a kernel Voilà started ahead of any request."""
    return os.environ.get("VOILA_PREHEAT", "False") == "True"


_KEPT: dict = {}


def wait_for_page(*prepare) -> None:
    """In a preheated kernel, call each of ``prepare`` (no argument), then wait for the page's
    request and take its query string; anywhere else nothing (not even ``prepare``).

    A ``prepare`` that fails is passed over: the page then builds its widgets after the request,
    as without preheating, and shows the error there.
    """
    if not preheated():
        return
    for fn in prepare:
        try:
            fn()
        except Exception:  # noqa: BLE001 - the factory meets the same error after the request and shows it
            _KEPT.clear()
    from voila.utils import wait_for_request

    wait_for_request()


def keep(key, value) -> None:
    """Keep ``value`` (widgets built before the request) for the factory asking for ``key``."""
    _KEPT[key] = value


def take(key):
    """The value kept for ``key`` (once: a page's widgets belong to one page), or None."""
    return _KEPT.pop(key, None)


def served_folders() -> tuple:
    """The data and run folders ``workbench serve`` gives every page (``$WORKBENCH_DATA``,
    ``$WORKBENCH_RUN``; None when not set): what a page shows when its URL names no other."""
    return os.environ.get("WORKBENCH_DATA") or None, os.environ.get("WORKBENCH_RUN") or None


def institution_links(code: str, rings: bool = True) -> str:
    """Links from an institution to its findings (the findings queue filtered to it) and to its
    rings (the rings dashboard on the first ring it is the pharmacy of), as HTML; relative to the
    dashboards' folder, so they keep the server and can be bookmarked."""
    import html
    from urllib.parse import urlencode

    q = urlencode({"INSTITUTION": code})
    parts = [f"<a class='wb-drill' data-link='findings' href='findings.ipynb?{html.escape(q)}'>该机构的疑点 its findings</a>"]
    if rings:
        parts.append(f"<a class='wb-drill' data-link='rings' href='rings.ipynb?{html.escape(q)}'>所在团伙 its rings</a>")
    return "<span class='wb-links'>" + " · ".join(parts) + "</span>"
