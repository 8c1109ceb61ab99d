"""Helpers of the browser tests: the server's addresses, what the browser asked for and what its
console said, screenshots, and opening a dashboard until a widget shows (never a timer)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
ERROR_MARKERS = ("Traceback", "There was an error when executing cell", "无法打开数据或筛查结果")
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


@dataclass
class Server:
    base: str
    token: str
    log: Path
    data: Path
    run: Path
    home: Path

    def url(self, page: str = "index.ipynb", **query) -> str:
        from urllib.parse import urlencode

        return f"{self.base}/voila/render/{page}" + (f"?{urlencode(query)}" if query else "")


@dataclass
class Console:
    """What the browser reported while a test ran: console errors and every request it made."""

    errors: list = field(default_factory=list)
    requests: list = field(default_factory=list)

    def foreign(self, base: str) -> list:
        """Requests to anywhere but the server at ``base`` (``blob:`` and ``data:`` URLs of its own
        pages are local; nothing is blocked, so a foreign request shows here and fails the test)."""
        host = urlsplit(base).netloc
        out = []
        for u in self.requests:
            inner = u[len("blob:"):] if u.startswith("blob:") else u
            if inner.startswith("data:") or urlsplit(inner).netloc == host and inner.startswith("http://"):
                continue
            out.append(u)
        return out


def open_dashboard(page, server, name: str, ready: str, **query) -> str:
    """Open ``name`` and wait until ``ready`` (a CSS selector of a widget) shows or an error does.

    Returns the page's text; fails on a Python traceback, a cell error or stderr shown to the viewer.
    """
    page.goto(server.url(name, **query))
    page.wait_for_function(
        """([sel, markers]) => document.querySelector(sel) !== null
               || markers.some(m => document.body.innerText.includes(m))""", arg=[ready, list(ERROR_MARKERS)])
    text = page.inner_text("body")
    for marker in ERROR_MARKERS:
        assert marker not in text, f"{name}: {marker}\n{text[-3000:]}"
    stderr = page.locator(STDERR)
    assert stderr.count() == 0, f"{name} shows stderr: {stderr.first.inner_text()[:2000]}"
    return text


def screenshot(page, folder: Path, name: str) -> Path:
    """A picture of the whole dashboard (Voilà scrolls inside ``#rendered_cells``) in ``folder``,
    at the context's device scale factor (2: as a projector or a high-density screen shows it)."""
    folder.mkdir(parents=True, exist_ok=True)
    height = page.evaluate("() => { const el = document.getElementById('rendered_cells');"
                           " return el ? el.scrollHeight : document.body.scrollHeight; }")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height) + 40, 6000))})
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path


# --- the lists drawn as data grids (widgets._grid): clicked by their geometry --------------------------
def grid_cell(page, scope: str, row: int, x: float = 40) -> tuple:
    """Page coordinates of a point ``x`` pixels into row ``row`` of the grid inside ``scope``
    (the widgets' own geometry: :mod:`widgets._grid`)."""
    from widgets import _grid as G

    grid = page.locator(f"{scope} .lm-DataGrid").first
    grid.scroll_into_view_if_needed()  # a click outside the window reaches nothing
    box = grid.bounding_box()
    return box["x"] + G.ROW_HEADER + x, box["y"] + G.HEADER + G.ROW * row + G.ROW / 2


def header_menu(page, scope: str, left: int, width: int) -> tuple:
    """Page coordinates of the menu icon of the column ``left`` pixels right of the row header."""
    from widgets import _grid as G

    grid = page.locator(f"{scope} .lm-DataGrid").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    return box["x"] + G.ROW_HEADER + left + width - 8, box["y"] + G.HEADER - 9


def find_in_worklist(page, case_id: str) -> int:
    """Click the worklist's rows in turn until the case shown below is ``case_id``; its row.

    The case shown says its row (``data-row``): a click on that row would change nothing, so it
    is read, not clicked; every other click must show the case of the row clicked."""
    n = int(page.get_attribute(".wb-work [data-rows]", "data-rows"))
    shown = "() => { const e = document.querySelector('.wb-case'); return e ? [e.dataset.case, +e.dataset.row] : ['', -1]; }"
    for row in range(n):
        old, at = page.evaluate(shown)
        if at != row:
            page.mouse.click(*grid_cell(page, ".wb-worklist", row))
            page.wait_for_function("(o) => { const e = document.querySelector('.wb-case');"
                                   " return e && e.dataset.case !== o; }", arg=old)
        case, at = page.evaluate(shown)
        assert at == row, (case, at, row)  # the row clicked is the case shown
        if case == case_id:
            return row
    raise AssertionError(f"{case_id} not among the worklist's {n} rows")
