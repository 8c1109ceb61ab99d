"""The CLI is assembled from the packages' own declarations (issue 20, item 5): each package's
``cli.register`` declares its commands, ``workbench.cli`` only lists them, and a command imports
only its own package."""
import subprocess
import sys

import pytest

from workbench.cli import COMMANDS, HANDLERS, build_parser


def _sub(parser, name):
    return next(a for a in parser._actions if a.dest == name)


def _nested(parser, *names):
    for n in names:
        parser = _sub(parser, "command" if parser.prog == "workbench" else "sub").choices[n]
    return parser


def test_every_command_is_listed_once_with_a_handler():
    assert list(_sub(build_parser(), "command").choices) == list(COMMANDS)
    assert {k.split()[0] for k in HANDLERS} == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_one_command_parser_equals_the_full_one(command):
    full, alone = _nested(build_parser(), command), _nested(build_parser(command), command)
    assert alone.format_help() == full.format_help()
    nested = [a for a in full._actions if a.dest == "sub"]
    for name in (nested[0].choices if nested else []):
        assert _nested(alone, name).format_help() == _nested(full, name).format_help()


def test_case_choices_come_from_the_cases_tables():
    from workbench.cases import ACTIONS
    from workbench.cases.casework import INSPECTION_KINDS
    from workbench.cases.lifecycle import CASE_ACTIONS, REFER_TO, SOURCES

    def choices(parser, dest):
        return list(next(a for a in parser._actions if a.dest == dest).choices)

    p = build_parser("case")
    assert choices(_nested(p, "case", "act"), "action") == list(CASE_ACTIONS)
    assert choices(_nested(p, "case", "act"), "to") == list(REFER_TO)
    assert choices(_nested(p, "case", "decide"), "action") == list(ACTIONS)
    assert choices(_nested(p, "case", "open"), "source") == list(SOURCES)
    assert choices(_nested(build_parser("inspection"), "inspection", "record"), "kind") == list(INSPECTION_KINDS)


@pytest.mark.parametrize("argv, absent", [
    (["--help"], ["workbench.providers", "workbench.rings", "workbench.stays", "workbench.cases", "workbench.lottery", "sklearn"]),
    (["case", "list", "--help"], ["workbench.providers", "workbench.rings", "workbench.stays", "sklearn", "networkx"]),
    (["lottery", "verify", "--help"], ["workbench.providers", "workbench.rings", "workbench.stays", "sklearn", "networkx"]),
])
def test_a_command_imports_only_its_own_package(argv, absent):
    code = ("import sys\nfrom workbench.cli import main\ntry:\n    main(%r)\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in %r if m in sys.modules))" % (argv, absent))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "[]"
