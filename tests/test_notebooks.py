"""Every notebook and dashboard runs top to bottom on the demo data (``test_layers`` checks no outputs).

A notebook another test module already executes (it names the file and calls ``run_notebook``)
is not run twice: it is skipped here with the name of the module that runs it.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(ROOT.glob("notebooks/*.ipynb")) + sorted(ROOT.glob("dashboards/*.ipynb"))


def _run_elsewhere() -> dict:
    """``{notebook file name: test module}`` for notebooks other test modules execute."""
    out = {}
    for test in sorted(Path(__file__).parent.glob("test_*.py")):
        if test.name == Path(__file__).name:
            continue
        text = test.read_text(encoding="utf-8")
        if "run_notebook" in text:
            # a path to the notebook ("dashboards/x.ipynb", ROOT / "dashboards" / "x.ipynb"), not a
            # link a widget test checks ("findings.ipynb?INSTITUTION=..."): that runs nothing
            for name in re.findall(r"""(?:notebooks|dashboards)["']?\s*/\s*["']?([\w.-]+\.ipynb)["']""", text):
                out.setdefault(name, test.name)
    return out


ELSEWHERE = _run_elsewhere()


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_runs_top_to_bottom_on_demo_data(path, demo_data, demo_run, demo_home, monkeypatch):
    pytest.importorskip("nbclient")
    if path.name in ELSEWHERE:
        pytest.skip(f"executed by {ELSEWHERE[path.name]}")
    from notebook_runner import outputs_text, run_notebook

    monkeypatch.setenv("WORKBENCH_HOME", str(demo_home))  # the kernel inherits it: no decision lands in ~/.workbench
    nb = nbformat.read(path, as_version=4)
    params = next(c.source for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    names = set(re.findall(r"^(\w+) = ", params, flags=re.M))
    overrides = {k: str(v) for k, v in (("DATA", demo_data), ("RUN", demo_run)) if k in names}
    out = run_notebook(path, overrides, timeout=600)
    text = outputs_text(out)
    assert "Traceback" not in text and "wb-error" not in text
