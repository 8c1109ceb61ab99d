"""Runs: the audit that writes a run folder, the folder itself, its manifest, and reproducing it.

Modules, each importing only those before it: ``manifest`` (what a run read, with which rules
and parameters; :func:`verify_run`) < ``folder`` (:class:`RunFolder`, the findings' file
format) < ``audit`` (``workbench audit``) and ``reproduce`` (``workbench reproduce``).
``workbench.audit``, ``workbench.manifest`` and ``workbench.reproduce`` are these modules under
their old names.
"""
from ..errors import RunFolderError, RunTampered  # noqa: F401
from .folder import (FINDINGS_SCHEMA, RunFolder, findings_table, read_findings,  # noqa: F401
                     write_findings)
from .manifest import verify_run  # noqa: F401
