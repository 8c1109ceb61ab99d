"""The engine never imports UI libraries (style.md, layer 1)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("ipywidgets", "IPython", "matplotlib.pyplot", "voila", "widgets")


def test_workbench_has_no_ui_imports():
    offenders = []
    for path in (ROOT / "workbench").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            for n in names:
                if any(n == f or n.startswith(f + ".") for f in FORBIDDEN):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {n}")
    assert offenders == []


def test_notebooks_are_committed_without_outputs():
    import json

    for nb in list((ROOT / "notebooks").glob("*.ipynb")) + list((ROOT / "dashboards").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        assert not any(c.get("outputs") for c in cells if c["cell_type"] == "code"), nb.name


# --- Import cycles (issue 20) ---------------------------------------------------------------------
# Every module of workbench/ and widgets/, imports inside functions included. ``from pkg import
# name`` is an import of the module ``pkg.name`` when there is one, else of ``pkg`` (its
# ``__init__``); importing a submodule does not count as importing its package's ``__init__``.

# Cycles known and being removed by the helper named: each entry must still be a cycle (remove
# it when fixed) and no other cycle may appear. Empty when issue 20 is done.
KNOWN_CYCLES = {
}


def _modules() -> dict:
    """``{dotted name: (path, is package)}`` of every module of workbench/ and widgets/."""
    out = {}
    for top in ("workbench", "widgets"):
        for path in (ROOT / top).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_pkg = parts[-1] == "__init__"
            out[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return out


def import_graph() -> dict:
    """``{module: set of project modules it imports anywhere in its file}``."""
    mods = _modules()

    def known(name):
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, (path, is_pkg) in mods.items():
        package = name if is_pkg else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {known(a.name) for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for a in node.names:
                    sub = f"{source}.{a.name}"
                    targets.add(sub if sub in mods else known(source))
        graph[name] = targets - {None, name}
    return graph


def import_cycles(graph) -> list:
    """The strongly connected components of more than one module (Tarjan), each a frozenset."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(frozenset(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_sees_imports_inside_functions(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [frozenset({"a", "b", "c"})]
    # a real pair of modules of this tree: rules.engine imports rules.findings at the top
    assert "workbench.rules.findings" in import_graph()["workbench.rules.engine"]


def test_no_import_cycles():
    cycles = import_cycles(import_graph())
    new = [sorted(c) for c in cycles if c not in KNOWN_CYCLES]
    assert new == [], f"import cycle(s): {new}"
    fixed = [f"{sorted(c)} ({who})" for c, who in KNOWN_CYCLES.items() if c not in cycles]
    assert fixed == [], f"no longer a cycle, remove from KNOWN_CYCLES: {fixed}"
