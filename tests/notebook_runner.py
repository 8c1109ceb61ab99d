"""Execute a notebook top to bottom the way CI does, with its parameters overridden.

A cell holding the overrides is inserted right after the cell tagged ``parameters`` (as Voilà and
papermill do), so the committed notebook stays as a person reads it.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient


def inject_parameters(nb, overrides: dict):
    """Insert an assignment cell after the ``parameters`` cell; raise if there is none."""
    idx = next((i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if idx is None:
        raise AssertionError("notebook has no cell tagged 'parameters'")
    src = "\n".join(f"{k} = {v!r}" for k, v in overrides.items())
    cell = nbformat.v4.new_code_cell(src, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(idx + 1, cell)
    return nb


def run_notebook(path, overrides: dict | None = None, timeout: int = 600):
    """Run the notebook at ``path`` (cwd = its folder); return the executed notebook.

    Raises ``nbclient.exceptions.CellExecutionError`` naming the failing cell on any error.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    if overrides:
        inject_parameters(nb, overrides)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def outputs_text(nb) -> str:
    """All text and plain-text outputs of an executed notebook, joined."""
    parts = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            if "text" in o:
                parts.append(o["text"])
            data = o.get("data", {})
            if "text/plain" in data:
                parts.append(data["text/plain"])
    return "\n".join(parts)
