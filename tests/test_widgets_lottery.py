"""The live-draw widget without a browser, and the dashboard run top to bottom."""
import datetime as dt
import importlib
import json
from pathlib import Path

import pytest

pytest.importorskip("ipywidgets")

from widgets.lottery import LotteryWidget, lottery_dashboard  # noqa: E402
from workbench import datafolder, lottery  # noqa: E402

from test_lottery import DATE, SEED, lottery_tables  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STAMP = dt.datetime(2026, 11, 28, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("wlottery") / "data"
    datafolder.write_data_folder(out, lottery_tables(), source={"kind": "test"})
    return out


def test_reveal_stratum_by_stratum_then_publish(data, tmp_path):
    w = LotteryWidget(data, 6, 4, date=DATE, out=tmp_path / "pub")
    assert (w.seed, w.revealed, w.next_button.disabled, w.publish_button.disabled) == ("", 0, True, True)
    w.seed_box.value = SEED  # typed into the box
    assert w.seed == SEED
    w.draw_button.click()
    expected = lottery.draw(data, SEED, 6, 4, date=DATE)
    assert w.draw.to_json() == expected.to_json()  # the widget only called the workbench
    assert "共 4 组 · 6 家机构 · 4 名执法人员" in w.stage.value and w.revealed == 0 and w.stratum == ""
    w.next_button.click()
    assert (w.revealed, w.stratum) == (1, "370102/1/B")
    assert "第 1 / 4 组：区划 370102 · 定点医疗机构 · 信用 B 类" in w.stage.value
    assert "H07" in w.stage.value and "第7人民医院" in w.stage.value and "I07、I01" in w.stage.value
    assert "H08" not in w.stage.value  # the next stratum is still hidden
    seen = []
    while not w.next_button.disabled:
        w.next_button.click()
        seen.append(w.stratum)
    assert seen == ["370102/2/B", "370103/1/B", "370103/2/B"] and w.revealed == 4
    assert "H12" in w.stage.value and "H18" in w.stage.value
    w.next_button.click()  # nothing left: nothing changes
    assert w.revealed == 4
    w.publish_button.click()
    names = sorted(Path(p).name for p in w.published)
    assert names == ["DRAW.json", "notice.csv", "notice.html", "verify_draw.py"]
    assert all(Path(p).is_file() for p in w.published)
    assert (tmp_path / "pub" / "DRAW.json").read_text(encoding="utf-8") == expected.to_json()
    assert "李执法" not in (tmp_path / "pub" / "notice.html").read_text(encoding="utf-8")


def test_next_draws_first_and_a_new_seed_starts_again(data, tmp_path):
    w = LotteryWidget(data, 6, 4, date=DATE, out=tmp_path / "pub", seed=SEED, names=True)
    w.next_button.disabled = False  # a click on 下一组 before 抽签 draws first
    w.next_stratum()
    assert (w.revealed, w.stratum) == (1, "370102/1/B") and "李执法7、李执法1" in w.stage.value
    w.seed = "another seed"
    assert (w.draw, w.revealed, w.stratum, w.stage.value, w.seed_box.value) == (None, 0, "", "", "another seed")
    assert w.next_button.disabled and w.publish_button.disabled


def test_a_seed_file_upload_sets_the_seed(data, tmp_path):
    w = LotteryWidget(data, 6, 4, date=DATE, out=tmp_path / "pub")
    w.upload.value = ({"name": "seed.txt", "type": "text/plain", "size": 10, "last_modified": STAMP,
                       "content": memoryview("\ufeff2026-Q4\n".encode("utf-8"))},)
    assert w.seed == SEED and w.seed_box.value == SEED
    w.upload.value = ({"name": "empty.txt", "type": "text/plain", "size": 1, "last_modified": STAMP, "content": memoryview(b" ")},)
    assert w.seed == SEED and "the seed file is empty" in w.status.value


def test_errors_are_shown_not_raised(data, tmp_path):
    w = LotteryWidget(data, 6, 2, date=DATE, out=tmp_path / "pub", seed=SEED, exclude_own_county=True)
    w.draw_button.click()
    assert w.draw is None and "no conflict-free team for institution H07" in w.status.value
    assert w.next_button.disabled and w.publish_button.disabled
    w.seed = " "
    w.draw_button.click()
    assert "the seed is empty" in w.status.value


def test_lottery_dashboard_is_the_live_draw_with_the_dashboards_parameters(data, tmp_path):
    w = lottery_dashboard(data, 6, 4, date=DATE, out=tmp_path / "pub", seed=SEED)
    assert isinstance(w, LotteryWidget) and w.seed_box.value == SEED and w.draw is None  # nothing drawn yet
    w.draw_button.click()
    assert w.draw.to_json() == lottery.draw(data, SEED, 6, 4, date=DATE).to_json()
    w.publish_button.click()
    assert (tmp_path / "pub" / "DRAW.json").is_file()


# --------------------------------------------------------------------------- the dashboard
@pytest.fixture(scope="module")
def dashboard_data(tmp_path_factory):
    """The demo region from ``workbench synth`` when it exists and has inspectors, else the hand-built folder."""
    out = tmp_path_factory.mktemp("dash") / "data"
    try:
        synth = importlib.import_module("workbench.synth")
    except ImportError:
        synth = None
    if synth is not None and hasattr(synth, "cli_synth"):
        from workbench.cli import main

        assert main(["synth", "--scale", "demo", "--seed", "7", "--out", str(out), "--no-progress"]) == 0
        if datafolder.table_path(out, "inspector") is not None:
            return out
    datafolder.write_data_folder(out, lottery_tables(), source={"kind": "test"})
    return out


def test_dashboard_runs_top_to_bottom(dashboard_data, tmp_path):
    pytest.importorskip("nbclient")
    from notebook_runner import run_notebook

    nb_path = ROOT / "dashboards" / "lottery.ipynb"
    committed = json.loads(nb_path.read_text(encoding="utf-8"))
    params = [c for c in committed["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(params) == 1 and 'DATA = param("DATA", "../demo/data")' in "".join(params[0]["source"])
    nb = run_notebook(nb_path, {"DATA": str(dashboard_data), "SEED": SEED, "INSTITUTIONS": 4, "INSPECTORS": 2,
                                "DRAW_DATE": DATE, "OUT": str(tmp_path / "pub")}, timeout=180)
    widget_views = [o for c in nb.cells for o in c.get("outputs", [])
                    if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widget_views) == 1
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
