"""The CLI is assembled from the packages' own declarations (issue 20, item 5): each package's
``cli.register`` declares its commands, ``workbench.cli`` only lists them, and a command imports
only its own package."""
import subprocess
import sys

import pytest

from workbench.cli import COMMANDS, HANDLERS, build_parser, main


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
    (["synth", "--help"], ["workbench.rules", "workbench.providers", "workbench.rings", "workbench.stays", "workbench.serve"]),
    (["rules", "--help"], ["workbench.synth", "workbench.providers", "workbench.rings", "workbench.stays", "workbench.serve"]),
    (["serve", "--help"], ["workbench.synth", "workbench.rules", "workbench.providers", "workbench.rings", "workbench.stays"]),
])
def test_a_command_imports_only_its_own_package(argv, absent):
    code = ("import sys\nfrom workbench.cli import main\ntry:\n    main(%r)\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in %r if m in sys.modules))" % (argv, absent))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "[]"


def test_workbench_cli_declares_no_command_itself():
    # synth, serve and rules were the last declared in workbench/cli.py; now every command's options
    # and handler live in its package (synth.cli, rules.cli) or module (serve)
    import workbench.cli as cli

    assert [n for n, (_, where) in COMMANDS.items() if where.startswith("workbench.cli:")] == []
    assert [k for k, h in HANDLERS.items() if h.startswith("workbench.cli:")] == []
    assert (COMMANDS["synth"][1], COMMANDS["rules"][1], COMMANDS["serve"][1]) == (
        "workbench.synth.cli:register", "workbench.rules.cli:register", "workbench.serve:register")
    assert open(cli.__file__, encoding="utf-8").read().count("add_argument(") == 1  # --version only


def test_synth_serve_rules_options(capsys):
    synth = build_parser("synth").parse_args(["synth", "--out", "d", "--scale", "city", "--force"])
    assert (synth.scale, synth.seed, synth.out, synth.force, synth.no_progress) == ("city", 2024, "d", True, False)
    serve = build_parser("serve").parse_args(["serve", "--watchdog", "2.5", "--token-file", "t"])
    assert (serve.port, serve.watchdog, serve.token_file, serve.memory_ceiling, serve.no_browser) == (8866, 2.5, "t", None, False)
    rules = build_parser("rules").parse_args(["rules", "--markdown", "--rules-dir", "R"])
    assert (rules.json, rules.markdown, rules.rules_dir) == (False, True, "R")
    with pytest.raises(SystemExit) as e:
        build_parser("rules").parse_args(["rules", "--json", "--markdown"])
    assert e.value.code == 2 and "argument --markdown: not allowed with argument --json" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser("synth").parse_args(["synth", "--scale", "town", "--out", "d"])
    assert "invalid choice: 'town' (choose from 'demo', 'city', 'province')" in capsys.readouterr().err


def test_rules_command_lists_the_library(capsys):
    from workbench.rules import load_library

    assert main(["rules"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"{len(load_library())} rules"
    assert [line.split()[0] for line in out[:-1]] == sorted(load_library())
