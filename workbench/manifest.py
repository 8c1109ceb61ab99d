"""``workbench.manifest`` is :mod:`workbench.runs.manifest` (issue 20 moved it into the runs package); the old
name stays for scripts, notebooks and the documented Python calls, as the same module object."""
import sys

from .runs import manifest as _moved

sys.modules[__name__] = _moved
