"""Shared test fixtures: a tiny hand-built data folder, the fixture rule library, one Spark session."""
from __future__ import annotations

import os
import shutil

import pytest

pytest_plugins = ["conftest_demo"]  # demo_data / demo_run / demo_home, made once per session

# Test data live in ruledata.py: test modules import them from there, never from conftest (a
# second conftest.py, e.g. tests/browser/, would shadow this one as the module "conftest").
from ruledata import FIXTURE_LIBRARY, FIXTURE_ROOT, tiny_tables  # noqa: E402,F401


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    """The tiny data folder (read-only: copy it before changing it)."""
    from workbench import datafolder

    out = tmp_path_factory.mktemp("tiny") / "data"
    datafolder.write_data_folder(out, tiny_tables(), source={"kind": "test", "name": "tiny"})
    return out


@pytest.fixture(scope="session")
def hand_run(tiny_data, tmp_path_factory):
    """A hand-made run folder over the tiny data (``tests/dashdata.py``), read-only for tests."""
    from dashdata import write_hand_run

    return write_hand_run(tiny_data, tmp_path_factory.mktemp("handrun") / "run")


@pytest.fixture(scope="session")
def fixture_library():
    from workbench.rules import load_library

    return load_library(FIXTURE_LIBRARY)


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for the whole test run (starting one takes ~10 s)."""
    pytest.importorskip("pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs a Java runtime")
    from workbench.sql.spark import get_spark

    # Test data are tiny: adaptive planning and whole-stage code generation cost more than they
    # save here (about a third of the Spark test time), so the test session turns them off.
    session = get_spark({"spark.sql.adaptive.enabled": "false", "spark.sql.codegen.wholeStage": "false"})
    yield session
    session.stop()


@pytest.fixture(scope="session")
def random_region(tmp_path_factory):
    """A small random region touching every contract table (``tests/ruledata.py``)."""
    from ruledata import random_tables

    from workbench import datafolder

    out = tmp_path_factory.mktemp("region") / "data"
    datafolder.write_data_folder(out, random_tables(seed=7), source={"kind": "test", "seed": 7})
    return out
