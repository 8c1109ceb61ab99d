from decimal import Decimal

import pytest

import workbench
from workbench import datafolder
from workbench.errors import DataFolderError, MissingTableError
from workbench.summary import format_summary, summarize

from test_datafolder import MDTRT, MEDINS, PSN, SETL


@pytest.fixture
def folder(tmp_path):
    out = tmp_path / "d"
    datafolder.write_data_folder(out, {"psn": PSN, "medins": MEDINS, "mdtrt": MDTRT, "setl": SETL}, source={})
    return out


def test_open_gives_views_and_sql(folder):
    with workbench.open(folder) as s:
        assert s.tables == ["psn", "medins", "mdtrt", "setl"]
        assert s.has("setl") and not s.has("fee")
        assert s.sql("SELECT psn_no FROM psn ORDER BY 1").fetchall() == [("0001",), ("0002",)]
        assert s.df("SELECT hifp_pay FROM setl")["hifp_pay"][0] == Decimal("60.06")
        assert s.manifest["tables"]["mdtrt"]["rows"] == 1
        with pytest.raises(MissingTableError, match="fee, stock"):
            s.require("mdtrt", "fee", "stock")


def test_summary_figures(folder):
    with workbench.open(folder) as s:
        summ = summarize(s)
    assert summ["rows"] == {"psn": 2, "medins": 1, "mdtrt": 1, "setl": 1}
    assert summ["hifp_pay"] == Decimal("60.06")
    assert summ["visits"] == {"11": 1}
    text = format_summary(summ, "x")
    assert "统筹基金支出 fund paid 60.06 yuan" in text


def test_not_a_data_folder(tmp_path):
    with pytest.raises(DataFolderError, match="no such data folder"):
        workbench.open(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFolderError, match="not a data folder"):
        workbench.open(tmp_path / "empty")


def test_required_table_missing(tmp_path):
    out = tmp_path / "d"
    datafolder.write_data_folder(out, {"psn": PSN, "medins": MEDINS}, source={})
    with pytest.raises(DataFolderError, match="required table.*mdtrt"):
        workbench.open(out)


def test_optional_columns_absent_from_a_file_read_as_typed_nulls(folder):
    # psn was written without psn_name and death_date; medins without agrmt_stas
    with workbench.open(folder) as s:
        assert s.rows("SELECT psn_name, death_date FROM psn ORDER BY psn_no") == [(None, None), (None, None)]
        types = dict(s.rows("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM psn)"))
        assert types["death_date"] == "DATE" and types["certno"] == "VARCHAR"
        assert s.rows("SELECT count(*) FROM medins WHERE agrmt_stas IS NULL") == [(1,)]
