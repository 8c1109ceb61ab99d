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


def test_a_session_spills_into_a_folder_of_its_own_removed_on_close(folder, tmp_path, monkeypatch):
    """Without temp_directory, data beyond the memory limit goes to a folder of the session's own
    under the system's temporary folder (not ./.tmp of wherever the process runs), and the folder
    goes when the session closes. An in-memory table larger than the limit is still whole."""
    import tempfile

    system_tmp, cwd = tmp_path / "system-tmp", tmp_path / "cwd"
    system_tmp.mkdir(), cwd.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    monkeypatch.chdir(cwd)
    s = workbench.open(folder, memory_limit="64MB")
    s.con.execute("SET preserve_insertion_order = false")
    s.con.execute("CREATE TEMP TABLE big AS SELECT range AS i, md5(CAST(range AS VARCHAR)) AS h FROM range(3000000)")
    spilled = list(system_tmp.glob("workbench-spill-*"))
    assert len(spilled) == 1 and any(spilled[0].iterdir())  # ~100 MB of text in 64 MB: some of it is on disk
    assert s.one("SELECT count(*), sum(i), min(h) FROM big") == (
        3000000, 3000000 * 2999999 // 2, s.one("SELECT min(md5(CAST(range AS VARCHAR))) FROM range(3000000)")[0])
    assert not (cwd / ".tmp").exists()
    s.close()
    assert list(system_tmp.iterdir()) == []



def test_duckdb_runs_at_least_three_threads_unless_told(folder):
    """DuckDB's default (one per core) makes large GROUP BYs thrash on a 2-core machine; the
    session asks for at least workbench.session.MIN_THREADS, and for exactly what it is given."""
    import duckdb

    from workbench.session import MIN_THREADS

    cores = duckdb.connect().execute("SELECT current_setting('threads')").fetchone()[0]  # DuckDB's default
    with workbench.open(folder) as s:
        assert s.one("SELECT current_setting('threads')")[0] == max(MIN_THREADS, cores) >= 3
    with workbench.open(folder, threads=1) as s:
        assert s.one("SELECT current_setting('threads')")[0] == 1


def test_a_session_left_open_removes_its_folders_when_its_process_exits(folder, tmp_path):
    """A notebook's or a Voila page's kernel may end with its session still open: its scratch
    and spill folders must not stay behind in the temporary folder."""
    import subprocess
    import sys

    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    code = (
        "import tempfile, sys, workbench\n"
        f"tempfile.tempdir = {str(system_tmp)!r}\n"
        f"s = workbench.open({str(folder)!r}, memory_limit='64MB')\n"
        "s.scratch()\n"
        "s.con.execute('SET preserve_insertion_order = false')\n"
        "s.con.execute('CREATE TEMP TABLE big AS SELECT md5(CAST(range AS VARCHAR)) AS h FROM range(3000000)')\n"
        "import os; print(sorted(os.listdir(tempfile.tempdir)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    made = eval(out.stdout.strip().splitlines()[-1])
    assert [n.split("-")[1] for n in made] == ["scratch", "spill"]  # both were there while it ran
    assert list(system_tmp.iterdir()) == []


def test_a_session_dropped_without_close_removes_its_folders(folder, tmp_path, monkeypatch):
    import gc
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    s = workbench.open(folder)
    scratch_dir = s._scratch_dir if s.scratch() else None
    assert scratch_dir.is_dir()
    del s
    gc.collect()
    assert not scratch_dir.exists()

