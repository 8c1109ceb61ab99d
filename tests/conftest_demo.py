"""Session fixtures: the demo data folder and its audit run, made once for the whole test run.

``demo_data`` is ``workbench synth --scale demo --seed 2024`` and ``demo_run`` is ``workbench audit``
of it; both live in a temporary folder and are read-only for tests (copy before changing).
``demo_home`` is an empty workbench home, so no test writes decisions into ``~/.workbench``.
``demo_extract`` is ``workbench extract`` of the demo region's planted institutions.
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


def planted_institutions(data) -> list:
    """Institutions of planted cases of a synthetic data folder: the splitting hospitals, the ring
    pharmacies, and the institution of the first case of every visit-level scenario."""
    import pandas as pd

    t = pd.read_parquet(data / "truth.parquet")
    first = t[t.mdtrt_id.notna()].sort_values("case_id").groupby("scenario").head(1)
    whole = t[t.scenario.isin(["split_stay_hospital", "collusion_ring"])]
    return sorted(set(first.fixmedins_code) | set(whole.fixmedins_code.dropna()))


@pytest.fixture(scope="session")
def demo_extract(demo_data, demo_root):
    """``workbench extract`` of the demo region's planted institutions (:func:`planted_institutions`)."""
    from workbench.cli import main

    out = demo_root / "extract"
    codes = ",".join(planted_institutions(demo_data))
    assert main(["extract", str(demo_data), "--out", str(out), "--institutions", codes, "--no-progress"]) == 0
    return out


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory):
    """An empty workbench home (case store) for dashboards under test."""
    return tmp_path_factory.mktemp("home")
