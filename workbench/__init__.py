"""The fund-audit workbench (医保基金智能监管审计工作台): the engine.

No UI imports here: widgets, notebooks and dashboards build on this package.
"""
from .version import __version__  # noqa: F401

from .session import Session, open  # noqa: E402,F401  (workbench.open is the public entry point)
