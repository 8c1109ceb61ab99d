"""The public notice of a draw: what it shows, what it never shows, and that it can be checked."""
import io
import shutil
import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest

from workbench import datafolder, lottery
from workbench.lottery import publication
from workbench.cli import main
from workbench.errors import LotteryError

from test_lottery import DATE, SEED, lottery_tables

INSPECTOR_NAMES = [f"李执法{j}" for j in range(1, 9)]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("pub") / "data"
    datafolder.write_data_folder(out, lottery_tables(), source={"kind": "test"})
    return out


@pytest.fixture(scope="module")
def the_draw(data):
    return lottery.draw(data, SEED, 6, 4, date=DATE)


def test_stratum_titles_read_as_words():
    key = {"admdvs": "370102", "credit": "B", "fixmedins_type": "1"}
    assert publication.stratum_title(key, ["admdvs", "fixmedins_type", "credit"]) == "区划 370102 · 定点医疗机构 · 信用 B 类"
    assert publication.stratum_title({"hosp_lv": "9", "credit": "D"}) == "未定级/基层/药店 · 信用 D 类"


def test_notice_table_lists_the_drawn_institutions_and_their_teams(data, the_draw):
    t = publication.notice_table(the_draw, data)
    assert list(t.columns) == publication.COLUMNS
    assert list(t["机构编码"]) == the_draw.drawn_institutions == ["H07", "H08", "H19", "H21", "H12", "H18"]
    first = t.iloc[0].to_dict()
    assert first == {"分组": "区划 370102 · 定点医疗机构 · 信用 B 类", "序号": 1, "机构编码": "H07", "机构名称": "第7人民医院",
                     "所在区划": "370102", "机构类型": "定点医疗机构", "检查组": "T01", "执法人员编号": "I07;I01",
                     "执法单位": "市医保执法支队第2大队;市医保执法支队第2大队"}
    named = publication.notice_table(the_draw, data, names=True)
    assert named.iloc[0]["执法人员姓名"] == "李执法7;李执法1"


def test_publish_writes_a_self_contained_notice_without_personal_data(data, the_draw, tmp_path):
    paths = publication.publish(the_draw, data, tmp_path / "pub")
    assert sorted(p.name for p in paths.values()) == ["DRAW.json", "notice.csv", "notice.html", "verify_draw.py"]
    page = paths["html"].read_text(encoding="utf-8")
    raw_csv = paths["csv"].read_bytes()
    assert raw_csv.startswith(b"\xef\xbb\xbf")
    text = page + raw_csv.decode("utf-8-sig") + paths["draw"].read_text(encoding="utf-8")
    for secret in ["370102199001011234", "张三丰", "P1"] + INSPECTOR_NAMES:
        assert secret not in text
    for shown in ["第7人民医院", "康宁药房8号店", "H21", SEED, DATE, "一、抽查对象", "二、执法检查组", "三、如何核验",
                  "市医保执法支队第2大队", "verify_draw.py", the_draw.sha256]:
        assert shown in page
    assert "http://" not in page and "https://" not in page and "<link" not in page and "<script" not in page
    csv = pd.read_csv(io.BytesIO(raw_csv), dtype=str, encoding="utf-8-sig")
    assert list(csv.columns[:4]) == ["抽查日期", "随机种子", "分组", "序号"]
    assert list(csv["机构编码"]) == the_draw.drawn_institutions and set(csv["随机种子"]) == {SEED}
    r = subprocess.run([sys.executable, "-I", str(paths["script"]), str(paths["draw"])], capture_output=True, text=True)
    assert (r.returncode, r.stdout) == (0, "verified\n")


def test_names_only_when_asked_and_the_same_bytes_twice(data, the_draw, tmp_path):
    a = publication.publish(the_draw, data, tmp_path / "a", names=True)
    b = publication.publish(the_draw, data, tmp_path / "b", names=True)
    for k in a:
        assert a[k].read_bytes() == b[k].read_bytes()
    page = a["html"].read_text(encoding="utf-8")
    assert "李执法7" in page and "执法人员姓名" in a["csv"].read_text(encoding="utf-8-sig")
    assert not any(n in page for n in ["李执法3", "李执法5", "李执法8"])  # only the drawn inspectors


def test_cli_publishes_beside_the_draw(data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    assert main(["lottery", "draw", str(data), "--seed", SEED, "--institutions", "6", "--inspectors", "4", "--date", DATE,
                 "--out", str(tmp_path / "DRAW.json"), "--publish", str(tmp_path / "pub")]) == 0
    assert "published" in capsys.readouterr().out
    assert (tmp_path / "pub" / "DRAW.json").read_bytes() == (tmp_path / "DRAW.json").read_bytes()
    assert "李执法" not in (tmp_path / "pub" / "notice.html").read_text(encoding="utf-8")


def test_a_notice_is_refused_on_changed_data(data, the_draw, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    med = pq.read_table(copy / "medins.parquet").to_pandas()
    med.loc[0, "fixmedins_name"] = "改名医院"
    datafolder.write_table(copy, "medins", med)
    with pytest.raises(LotteryError, match="table medins changed since the draw"):
        publication.publish(the_draw, copy, tmp_path / "pub")
