"""The options of ``workbench audit`` and ``workbench reproduce`` (their handlers are
:func:`workbench.runs.audit.cli_audit` and :func:`workbench.runs.reproduce.cli_reproduce`)."""
from __future__ import annotations

from ..params import engine_argument, resource_arguments


def register(parser, command: str) -> None:
    """Declare the options of ``workbench audit`` or ``workbench reproduce`` (``command``) on its parser."""
    if command == "audit":
        parser.add_argument("data", metavar="DATA")
        parser.add_argument("--out", required=True, metavar="RUN")
        parser.add_argument("--rules", default=None, help="comma-separated rule ids (default: all whose tables exist)")
        parser.add_argument("--rules-dir", default=None, metavar="DIR",
                            help="a bureau's own rule files (DIR/*.yaml, DIR/knowledge/*.csv), run beside the library")
        parser.add_argument("--param", action="append", default=[], metavar="RULE.KEY=VALUE")
        parser.add_argument("--config", default=None, help="regional parameter file (YAML)")
        engine_argument(parser)
        parser.add_argument("--no-progress", action="store_true")
    elif command == "reproduce":
        parser.add_argument("run", metavar="RUN", help="a run folder or an evidence pack (.zip)")
        parser.add_argument("--data", required=True, metavar="DATA")
        engine_argument(parser, default=None, help="default: the engine the run used")
    else:
        raise ValueError(f"runs declares audit and reproduce, not {command!r}")
    resource_arguments(parser)
