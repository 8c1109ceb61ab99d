"""The ``workbench`` command line (``shared/cli.md``).

This module only assembles: :data:`COMMANDS` lists each command with its one-line help and the
function that declares its options (a package's ``cli.register``: ``providers``, ``rings``,
``stays``, ``runs`` (audit, reproduce), ``evidence`` (export), ``lottery``, ``cases`` (case,
inspection), ``synth``, ``rules``, ``importer``; a single module's ``register``: summary,
dictionary, extract, briefing, credit, serve, demo), and :data:`HANDLERS` the
function that runs it. A command's package is imported only when that command runs (or its help
is asked for), so ``workbench --help`` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from .errors import WorkbenchError

# command -> "module:function"; the function takes the parsed arguments and returns an exit code.
HANDLERS = {
    "synth": "workbench.synth.cli:cli_synth",
    "import": "workbench.importer:cli_import",
    "summary": "workbench.summary:cli_summary",
    "dictionary": "workbench.dictionary:cli_dictionary",
    "audit": "workbench.runs.audit:cli_audit",
    "providers": "workbench.providers.cli:cli_providers",
    "rings": "workbench.rings.cli:cli_rings",
    "stays": "workbench.stays.cli:cli_stays",
    "reproduce": "workbench.runs.reproduce:cli_reproduce",
    "lottery draw": "workbench.lottery.cli:cli_draw",
    "lottery verify": "workbench.lottery.cli:cli_verify",
    "case decide": "workbench.cases.cli:cli_decide",
    "case list": "workbench.cases.cli:cli_list",
    "case verify": "workbench.cases.cli:cli_verify",
    "case open": "workbench.cases.cli:cli_open",
    "case act": "workbench.cases.cli:cli_act",
    "inspection record": "workbench.cases.cli:cli_inspection",
    "briefing": "workbench.period_briefing:cli_briefing",
    "credit": "workbench.credit_store:cli_credit",
    "credit repair": "workbench.credit_store:cli_record",
    "credit object": "workbench.credit_store:cli_record",
    "export": "workbench.evidence.pack:cli_export",
    "serve": "workbench.serve:cli_serve",
    "demo": "workbench.demo:cli_demo",
    "extract": "workbench.extract:cli_extract",
    "rules": "workbench.rules.cli:cli_rules",
}


# command -> (help, where its options are declared: "module:function"). The function takes the
# command's parser (and the command's name when one module declares several commands); packages
# declare their own commands in their cli module. Only the command being run is imported, so
# `workbench --help` and a light command do not import every package.
COMMANDS = {
    "synth": ("make a synthetic region with planted violations", "workbench.synth.cli:register"),
    "import": ("validate and convert an extract into a data folder", "workbench.importer:register"),
    "summary": ("print the tables and headline figures of a data folder", "workbench.summary:register"),
    "dictionary": ("write the data dictionary (Markdown, Chinese and English)", "workbench.dictionary:register"),
    "audit": ("run the rule library", "workbench.runs.cli:register"),
    "providers": ("one row per institution with peer group, cluster, risk score and reasons", "workbench.providers.cli:register"),
    "rings": ("suspected collusion rings, most suspicious first", "workbench.rings.cli:register"),
    "stays": ("readmission pairs at the same institution within the window", "workbench.stays.cli:register"),
    "reproduce": ("re-run a recorded run and compare every finding", "workbench.runs.cli:register"),
    "lottery": ("双随机 inspection lottery", "workbench.lottery.cli:register"),
    "case": ("auditors' decisions", "workbench.cases.cli:register"),
    "inspection": ("inspections of institutions", "workbench.cases.cli:register"),
    "briefing": ("outcome figures of a period across all cases (检查、暂停、罚款、追回、曝光 …)", "workbench.period_briefing:register"),
    "credit": ("doctors' points and institutions' credit classes from the cases (医保信用)", "workbench.credit_store:register"),
    "export": ("evidence pack (审计底稿) of a set of findings", "workbench.evidence.cli:register"),
    "serve": ("serve the Voilà dashboards on 127.0.0.1", "workbench.serve:register"),
    "extract": ("a consistent data folder of some institutions, a county or a period", "workbench.extract:register"),
    "rules": ("list the rule library (id, code, names, tier, type, stage, parameters, source)", "workbench.rules.cli:register"),
    "demo": ("synth demo data, audit it, serve the dashboards", "workbench.demo:register"),
}
_SEVERAL = {"audit", "reproduce", "case", "inspection"}  # their module declares more than one command


def _declare(name: str, parser) -> None:
    mod_name, func_name = COMMANDS[name][1].split(":")
    declare = getattr(importlib.import_module(mod_name), func_name)
    declare(parser, name) if name in _SEVERAL else declare(parser)


def build_parser(command=None) -> argparse.ArgumentParser:
    """The ``workbench`` parser: every command's options, or (``command`` given) only that
    command's, the others listed by name and help (what ``workbench --help`` shows)."""
    p = argparse.ArgumentParser(prog="workbench", description="医保基金智能监管审计工作台 — fund-audit workbench")
    from .version import __version__

    p.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, (helptext, _where) in COMMANDS.items():
        s = sub.add_parser(name, help=helptext)
        if command is None or command == name:
            _declare(name, s)
    return p


def _command(argv) -> str:
    """The command ``argv`` names ("" when none: the parser then only lists the commands)."""
    for a in argv:
        if not a.startswith("-"):
            return a if a in COMMANDS else ""
    return ""


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command(argv))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    key = args.command + (f" {args.sub}" if getattr(args, "sub", None) else "")
    if key not in HANDLERS:
        parser.parse_args([args.command, "--help"])
        return 2
    mod_name, func_name = HANDLERS[key].split(":")
    try:
        mod = importlib.import_module(mod_name)
    except ModuleNotFoundError as e:
        if e.name == mod_name:
            print(f"workbench {key}: not available in this version yet", file=sys.stderr)
            return 2
        raise
    try:
        return int(getattr(mod, func_name)(args) or 0)
    except WorkbenchError as e:
        print(f"workbench {key}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
