"""Evidence: a finding's rows, the evidence pack (审计底稿) and the pack's report.

Modules, each importing only those before it: ``rows`` (the data rows a finding's evidence keys
name, personal data masked unless asked for) < ``report`` (the pack's HTML and Excel read-out) <
``pack`` (``workbench export``: findings, evidence rows, decisions, rule files, from a verified
run folder). ``workbench.export`` is ``pack`` under its old name.
"""
from .pack import export_pack  # noqa: F401
from .rows import KEY_COLUMNS, evidence_rows, parse_keys  # noqa: F401
