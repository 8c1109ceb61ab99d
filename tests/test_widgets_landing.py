"""The landing page's factory: the dashboards of a folder, linked with the page's own parameters."""
import json

import pytest

pytest.importorskip("ipywidgets")

from widgets.landing import landing_dashboard  # noqa: E402


def _notebook(path, title):
    path.write_text(json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": [f"# {title}\n", "概要 summary"]}],
                                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")


def test_landing_dashboard_links_every_dashboard_with_the_pages_parameters(tmp_path, monkeypatch):
    for name, title in (("index", "目录"), ("briefing", "简报 Briefing"), ("rings", "团伙 Rings")):
        _notebook(tmp_path / f"{name}.ipynb", title)
    monkeypatch.setenv("QUERY_STRING", "RUN=%2Fr%2Frun&token=secret&LANG=zh")
    page = landing_dashboard(tmp_path, lang="zh", data="/d", run="/r/run").value
    assert "data-dashboard='briefing.ipynb'" in page and "data-dashboard='rings.ipynb'" in page
    assert "data-dashboard='index.ipynb'" not in page  # the landing page lists the others
    assert "href='briefing.ipynb?RUN=%2Fr%2Frun&amp;LANG=zh'" in page and "secret" not in page  # never the token
    assert "<code>/d</code>" in page
    given = landing_dashboard(tmp_path, query={"DATA": "/x"}).value
    assert "href='rings.ipynb?DATA=%2Fx'" in given
