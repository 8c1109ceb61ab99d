"""The landing page of ``workbench serve``: a card per dashboard, linking it with the chosen folders.

:func:`landing_html` is a pure mapping from the dashboard list (:func:`workbench.serve.dashboard_entries`)
to HTML; the links are relative (``briefing.ipynb?DATA=…``), so they work under any Voilà base URL,
and carry the data and run folders the landing page itself was opened with.
"""
from __future__ import annotations

import html
from urllib.parse import urlencode

import ipywidgets as W

from workbench.i18n import t
from workbench.params import query_values
from workbench.serve import dashboard_entries

CSS = """<style>
.wb-landing { font-size: 18px; color: #1b2733; }
.wb-landing .wb-sub { color: #52606d; margin-bottom: 12px; }
.wb-cards { display: flex; flex-wrap: wrap; gap: 16px; }
.wb-card { flex: 1 1 300px; max-width: 460px; background: #f3f6fa; border-radius: 10px; padding: 16px 20px;
           border-top: 5px solid #1f4e79; }
.wb-card a { font-size: 22px; font-weight: 600; color: #12365a; text-decoration: none; }
.wb-card a:hover { text-decoration: underline; }
.wb-card p { font-size: 16px; color: #3e4c59; margin: 8px 0 0; }
</style>"""


def dashboard_link(file: str, query: dict) -> str:
    """``briefing.ipynb`` with the non-empty ``query`` values as its query string."""
    q = {k: str(v) for k, v in query.items() if v not in (None, "")}
    return file + (f"?{urlencode(q)}" if q else "")


def landing_html(entries, query=None, lang: str = "zh", data=None, run=None) -> str:
    """The landing page: the folders in use and one card (link + summary) per dashboard."""
    query = query or {}
    cards = "".join(
        f"<div class='wb-card' data-dashboard='{html.escape(e['file'])}'>"
        f"<a href='{html.escape(dashboard_link(e['file'], query))}' target='_self'>{html.escape(e['title'])}</a>"
        f"<p>{html.escape(e.get('summary') or '')}</p></div>" for e in entries)
    folders = " · ".join(f"{html.escape(t(k, lang))}: <code>{html.escape(str(v))}</code>"
                         for k, v in (("data_folder", data), ("run_folder", run)) if v)
    return f"{CSS}<div class='wb-landing'><div class='wb-sub'>{folders}</div><div class='wb-cards'>{cards}</div></div>"


def Landing(entries, query=None, lang: str = "zh", data=None, run=None) -> W.HTML:  # noqa: N802 - a widget factory
    """The landing page as an ``ipywidgets.HTML`` (Voilà shows widgets and hides code)."""
    return W.HTML(landing_html(entries, query, lang, data, run))


def landing_dashboard(folder=".", query=None, lang: str = "zh", data=None, run=None) -> W.HTML:
    """The landing page of the dashboards in ``folder`` (:func:`workbench.serve.dashboard_entries`),
    its links carrying ``query`` (default: the page's own URL parameters,
    :func:`workbench.params.query_values`)."""
    return Landing(dashboard_entries(folder), query=query_values() if query is None else query, lang=lang,
                   data=data, run=run)
