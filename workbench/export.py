"""``workbench.export`` is :mod:`workbench.evidence.pack` (issue 20 moved it into the evidence
package); the old name stays for scripts and the documented ``workbench.export.export_pack``, as
the same module object."""
import sys

from .evidence import pack as _moved

sys.modules[__name__] = _moved
