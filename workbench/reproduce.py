"""``workbench.reproduce`` is :mod:`workbench.runs.reproduce` (issue 20 moved it into the runs package); the old
name stays for scripts, notebooks and the documented Python calls, as the same module object."""
import sys

from .runs import reproduce as _moved

sys.modules[__name__] = _moved
