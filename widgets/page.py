"""The page a dashboard's kernel serves: wait for it when the kernel was started ahead (preheated).

``workbench serve`` keeps a pool of kernels per dashboard that have already run the dashboard's
imports (Voilà's ``preheat_kernel``), so a page opens without waiting for a Python process and
its imports. Such a kernel runs the notebook before anyone asks for the page; the URL's
parameters (``?RUN=…&RULE=…``) only exist once someone does. :func:`wait_for_page`, called after
the imports and before the ``parameters`` cell, holds the notebook there until the request comes
and puts its ``QUERY_STRING`` in the environment, where :func:`workbench.params.param` reads it.
Anywhere else (a normal Voilà kernel, nbclient, Jupyter) it returns at once.
"""
from __future__ import annotations

import os


def preheated() -> bool:
    """True in a kernel Voilà started ahead of any request."""
    return os.environ.get("VOILA_PREHEAT", "False") == "True"


def wait_for_page() -> None:
    """In a preheated kernel, wait for the page's request and take its query string; else nothing."""
    if not preheated():
        return
    from voila.utils import wait_for_request

    wait_for_request()


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
