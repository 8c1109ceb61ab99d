"""Session fixtures: the demo data folder and its audit run, made once for the whole test run.

``demo_data`` is ``workbench synth --scale demo --seed 2024`` and ``demo_run`` is ``workbench audit``
of it; both live in a temporary folder and are read-only for tests (copy before changing).
``demo_home`` is an empty workbench home, so no test writes decisions into ``~/.workbench``.
"""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory):
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="session")
def demo_data(demo_root):
    """The demo data folder (synthetic, seed 2024)."""
    from workbench.cli import main

    out = demo_root / "data"
    assert main(["synth", "--scale", "demo", "--seed", "2024", "--out", str(out), "--no-progress"]) == 0
    return out


@pytest.fixture(scope="session")
def demo_run(demo_data, demo_root):
    """The audit run of the demo data (every rule of the library)."""
    from workbench.cli import main

    out = demo_root / "run"
    assert main(["audit", str(demo_data), "--out", str(out), "--no-progress"]) == 0
    return out


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory):
    """An empty workbench home (case store) for dashboards under test."""
    return tmp_path_factory.mktemp("home")
