"""The options of ``workbench export`` (its handler is :func:`workbench.evidence.pack.cli_export`)."""
from __future__ import annotations


def register(parser) -> None:
    """Declare the options of ``workbench export`` on its parser (``workbench.cli`` assembles them)."""
    parser.add_argument("run", metavar="RUN")
    parser.add_argument("--out", required=True, metavar="PACK.zip")
    parser.add_argument("--rule", default=None)
    parser.add_argument("--institution", default=None)
    parser.add_argument("--include-pii", action="store_true")
    parser.add_argument("--by", default=None, metavar="NAME", help="who asks for the pack (recorded; default: the OS user)")
    parser.add_argument("--data", default=None, metavar="DATA", help="the data folder (default: the one the run recorded)")
    parser.add_argument("--home", default=None, metavar="DIR", help="workbench home holding the case store")
