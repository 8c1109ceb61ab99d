"""workbench.params: a dashboard parameter from the URL, then the environment, then the default."""
from __future__ import annotations

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
