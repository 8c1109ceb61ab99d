"""Helpers of the browser tests: the server's addresses, what the console said, screenshots,
and opening a dashboard until a widget shows (never a timer)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
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
    """What the browser reported while a test ran."""

    errors: list = field(default_factory=list)

    def own_errors(self, base: str) -> list:
        """Console errors except failed loads of the outside resources we block on purpose."""
        return [e for e in self.errors if not (e["text"].startswith("Failed to load resource")
                                               and not e["url"].startswith(base))]


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


def screenshot(page, name: str) -> Path:
    """A picture of the whole dashboard (Voilà scrolls inside ``#rendered_cells``) in ``build/screenshots/``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate("() => { const el = document.getElementById('rendered_cells');"
                           " return el ? el.scrollHeight : document.body.scrollHeight; }")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height) + 40, 8000))})
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path
