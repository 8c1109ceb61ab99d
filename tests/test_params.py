"""workbench.params: a dashboard parameter from the URL, then the environment, then the default."""
from __future__ import annotations

import re

import pytest

from workbench.errors import WorkbenchError
from workbench.params import coerce, param, query_values


def test_query_string_wins_over_environment_and_default():
    env = {"QUERY_STRING": "DATA=/srv/q&token=secret", "WORKBENCH_DATA": "/srv/env"}
    assert param("DATA", "../demo/data", environ=env) == "/srv/q"
    assert param("DATA", "../demo/data", environ={"WORKBENCH_DATA": "/srv/env"}) == "/srv/env"
    assert param("DATA", "../demo/data", environ={}) == "../demo/data"


def test_names_in_any_case_and_the_last_value_wins():
    assert param("RUN", "", environ={"QUERY_STRING": "run=%2Ftmp%2Fr%20un&RUN=/x&run=/last"}) == "/last"
    assert param("LANG", "zh", query_string="lang=en", environ={}) == "en"


def test_the_token_is_never_a_parameter():
    assert query_values("token=abc&DATA=%E6%B5%8E%E5%AE%81") == {"DATA": "济宁"}
    assert param("TOKEN", "none", environ={"QUERY_STRING": "token=abc"}) == "none"


def test_values_take_the_type_of_the_default():
    env = {"QUERY_STRING": "TOP=5&RATIO=0.25&SHOW=no&NAME=7"}
    assert param("TOP", 10, environ=env) == 5
    assert param("RATIO", 1.0, environ=env) == 0.25
    assert param("SHOW", True, environ=env) is False
    assert param("NAME", "x", environ=env) == "7"
    assert coerce("SHOW", "是", False) is True


@pytest.mark.parametrize("text,default,msg", [("ten", 10, "whole number"), ("x", 1.5, "not a number"),
                                              ("maybe", True, "yes/no")])
def test_bad_values_name_the_parameter(text, default, msg):
    with pytest.raises(WorkbenchError, match=f"parameter TOP: .*{msg}"):
        param("TOP", default, query_string=f"TOP={text}", environ={})


def test_reads_the_process_environment_by_default(monkeypatch):
    monkeypatch.setenv("QUERY_STRING", "")
    monkeypatch.setenv("WORKBENCH_SEED", "7")
    assert param("SEED", 2024) == 7


# ------------------------------------------------- issue 23, item 7: digits, ranges, encodings
@pytest.mark.parametrize("text, says", [
    ("１５", "digits other than 0-9 (full-width?)"),
    ("١٥", "digits other than 0-9"),
    ("1" + "0" * 41, "a number of 42 digits is out of range (at most 36,600"),
    ("36601", "36601 is out of range (at most 36,600"),
    ("1e3", "is not a whole number"),
])
def test_day_counts_are_ascii_and_bounded(text, says):
    with pytest.raises(WorkbenchError, match=re.escape(says)):
        coerce("window_days", text, 15)
    assert coerce("window_days", "36600", 15) == 36600 and coerce("window_days", " 15 ", 0) == 15
    with pytest.raises(WorkbenchError, match=r"2147483648 is out of range \(at most 2,147,483,647"):
        coerce("max_visits", "2147483648", 3)
    with pytest.raises(WorkbenchError, match="digits other than 0-9"):
        coerce("ratio", "０.５", 0.1)


def test_rule_parameters_from_the_command_line_and_a_config_file_are_checked_the_same_way(tmp_path, capsys):
    from workbench.cli import main
    from workbench.errors import RuleError
    from workbench.rules.loader import load_library, read_config, resolve_params

    lib = load_library()
    one = ["split_hospitalization"]
    assert resolve_params(lib, overrides=["split_hospitalization.window_days=10"], rules=one)["split_hospitalization"]["window_days"] == 10
    for text, says in [("１５", "full-width"), ("1" + "0" * 41, "out of range")]:
        with pytest.raises(RuleError, match=says):
            resolve_params(lib, overrides=[f"split_hospitalization.window_days={text}"], rules=one)
    with pytest.raises(RuleError, match="window_days: a number of 42 digits is out of range"):
        resolve_params(lib, config={"split_hospitalization": {"window_days": 10**41}}, rules=one)
    gbk = tmp_path / "region.yaml"
    gbk.write_bytes("# 济宁市参数\nsplit_hospitalization:\n  window_days: 10\n".encode("gbk"))
    with pytest.raises(RuleError, match=r"region\.yaml: not UTF-8 text \(undecodable byte on line 1; a GBK file\?"):
        read_config(gbk)
    assert main(["audit", str(tmp_path), "--out", str(tmp_path / "run"), "--config", str(gbk)]) == 1
    assert "not UTF-8 text" in capsys.readouterr().err
    gbk.write_text("# 济宁市参数\nsplit_hospitalization:\n  window_days: 10\n", encoding="utf-8-sig")
    assert read_config(gbk) == {"split_hospitalization": {"window_days": 10}}
    with pytest.raises(SystemExit):
        main(["stays", str(tmp_path), "--out", str(tmp_path / "s.csv"), "--window-days", "１５"])
    assert "digits other than 0-9" in capsys.readouterr().err
