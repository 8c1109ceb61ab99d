"""Split-hospitalization widgets, without a browser: set traits, pick options, assert on state."""
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

import workbench  # noqa: E402
from traitlets import TraitError  # noqa: E402
from widgets import _fonts  # noqa: E402
from widgets.stays import (InstitutionView, StaysExplorer, StayTimeline, stays_dashboard, summary_banner,  # noqa: E402
                           timeline_bars)
from workbench import datafolder, stays  # noqa: E402

from test_stays import tiny_tables  # noqa: E402

from widgets._charts import is_svg


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("wstays") / "data"
    datafolder.write_data_folder(out, tiny_tables(), source={})
    return out


@pytest.fixture(scope="module")
def analysis(folder):
    with workbench.open(folder) as s:
        yield stays.StayAnalysis(s, 15)


def test_timeline_bars_is_a_pure_mapping():
    frame = pd.DataFrame({
        "mdtrt_id": ["A", "B", "C"], "fixmedins_code": ["H1", "H2", "H1"],
        "begntime": pd.to_datetime(["2023-01-01 08:00", "2023-01-03 09:00", "2023-01-04 09:00"]),
        "endtime": pd.to_datetime(["2023-01-02 08:00", "2023-01-05 09:00", "2023-01-04 10:00"]),
        "prev_same_mdtrt_id": [None, None, "A"], "prev_any_mdtrt_id": [None, "A", "B"],
        "gap_prev_same_days": pd.array([None, None, 2], dtype="Int64"),
        "gap_prev_any_days": pd.array([None, 1, -1], dtype="Int64"),
    })
    bars = timeline_bars(frame, window_days=15)
    assert [(b["mdtrt_id"], b["row"], b["readmission"], b["gap_label"]) for b in bars] == [
        ("A", 0, False, None), ("B", 1, False, "间隔 1天"), ("C", 0, True, "重叠 1天（同院间隔 2天）")]
    # a one-hour stay is drawn 12 hours long
    assert bars[2]["end"] - bars[2]["start"] == dt.timedelta(hours=12)
    assert timeline_bars(frame, window_days=1)[2]["readmission"] is False


def test_timeline_shows_a_person_and_the_bill_of_the_picked_stay(analysis):
    t = StayTimeline(analysis, psn_no="P1")
    assert [v for _, v in t.stay_picker.options] == ["S1", "S2", "S3", "S4"]
    assert t.selected_mdtrt_id == "S1" and t.stay_picker.value == "S1"
    assert [b["readmission"] for b in t.bars] == [False, True, True, False]
    assert [b["gap_label"] for b in t.bars] == [None, "间隔 0天", "间隔 15天", "间隔 16天"]
    assert t.bill.values.tolist() == [["01", "床位费 bed", 1, Decimal("150.00")], ["09", "西药费 western drugs", 3, Decimal("250.00")]]
    assert "150.00" in t.bill_table.value and "250.00" in t.bill_table.value
    assert "900.00" in t.details.value and "630.00" in t.details.value
    assert is_svg(t.chart.value)
    assert "P1" in t.header.value and "张三" not in t.header.value + t.details.value  # psn_no only
    t.stay_picker.value = "S2"  # the user picks another stay
    assert t.selected_mdtrt_id == "S2"
    assert t.bill.values.tolist() == [["04", "化验费 laboratory test", 1, Decimal("35.50")]]
    assert t.stay_picker.get_state()["index"] == 1
    with pytest.raises(TraitError, match="S9"):
        t.selected_mdtrt_id = "S9"


def test_timeline_person_box_and_unknown_person(analysis):
    t = StayTimeline(analysis)
    assert t.bars == [] and t.bill is None and bytes(t.chart.value) == b""
    t.person_box.value = "P2"
    assert t.psn_no == "P2" and [v for _, v in t.stay_picker.options] == ["S5", "S6", "S7"]
    t.selected_mdtrt_id = "S7"
    assert t.bill.empty and "无费用明细" in t.bill_table.value
    t.psn_no = "NOBODY"
    assert t.stay_picker.options == () and t.selected_mdtrt_id == "" and "无住院记录" in t.header.value


def test_institution_view_histogram_and_pairs(analysis):
    v = InstitutionView(analysis)
    assert v.fixmedins_code == "H3"  # rank 1 by split signature first
    v.picker.value = "H1"
    assert v.fixmedins_code == "H1"
    pd.testing.assert_frame_equal(v.histogram, analysis.institution_gaps("H1"))
    assert v.histogram.set_index("gap_days").n[v.histogram.n > 0].to_dict() == {0: 1, 3: 1, 15: 1}
    assert [val for _, val in v.pair_picker.options] == ["S2", "S7", "S3"]
    assert "S5 → S7  间隔 3 天" in v.pair_picker.options[1][0]
    assert is_svg(v.chart.value)
    assert "#3 H1" in dict((val, lab) for lab, val in v.picker.options)["H1"]
    assert "980.00" in v.pair_table.value
    assert "href='findings.ipynb?INSTITUTION=H1'" in v.measures.value and "rings.ipynb" not in v.measures.value


def test_institution_view_says_when_there_is_nothing_to_show(analysis):
    v = InstitutionView(analysis)
    no_pairs = [r.fixmedins_code for r in analysis.institutions.itertuples()
                if analysis.institution_pairs(r.fixmedins_code).empty]
    if no_pairs:
        v.fixmedins_code = no_pairs[0]
        assert v.pair_picker.options == () and "没有 15 天内的再入院" in v.pair_table.value
    v.fixmedins_code = "NOWHERE"
    assert "机构 NOWHERE 没有住院记录" in v.measures.value and v.chart.layout.display == "none"


def test_selecting_a_pair_opens_the_person_in_the_timeline(analysis):
    ex = StaysExplorer(analysis, fixmedins_code="H1")
    ex.institution.pair_picker.value = "S7"
    assert ex.institution.selected_pair == "S7"
    assert ex.timeline.psn_no == "P2" and ex.timeline.selected_mdtrt_id == "S7"
    ex.institution.selected_pair = "S2"
    assert ex.timeline.psn_no == "P1" and ex.timeline.selected_mdtrt_id == "S2"
    assert ex.timeline.bill.amount.tolist() == [Decimal("35.50")]


def test_summary_banner(analysis):
    html = summary_banner(analysis).value
    assert "住院 11 次" in html and "<b>5</b> 次" in html and "2436.00" in html


def test_widgets_do_not_compute():
    src = (Path(__file__).resolve().parents[1] / "widgets" / "stays.py").read_text(encoding="utf-8")
    assert not re.search(r"\bSELECT\b|\.sql\(|\.df\(|groupby|\.sum\(\)|\.mean\(", src)


def test_cjk_font_has_chinese_glyphs():
    family = _fonts.use_cjk_font()
    if family is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    assert family in _fonts.CJK_FAMILIES
    assert _fonts.has_glyphs(family, "分解住院再入院间隔")
    import matplotlib

    assert matplotlib.rcParams["font.sans-serif"][0] == family


def test_open_a_case_about_the_institution_shown(analysis, tmp_path):
    from workbench.cases import CaseStore
    from workbench.cases.casework import cases

    store = CaseStore(tmp_path / "home")
    e = StaysExplorer(analysis, "H1", store=store, by="孙审核")
    opener = e.institution.case_opener
    assert opener in e.institution.children and "机构 H1；住院分析：" in opener.lead_label.value
    opener.note_box.value = "现场核查病历"
    opener.open_button.click()
    st = cases(store)[opener.case_id]
    assert (st.source, st.institutions, st.findings) == ("stays", ["H1"], [])
    event = [x for x in store.case_events(kinds=("open",)) if x["subject"] == st.case_id][0]
    assert event["by"] == "孙审核" and event["note"].endswith("；现场核查病历")
    assert "再入院 3 次" in event["note"]  # H1's three readmission pairs (S2, S7, S3)
    e.institution.fixmedins_code = "NOWHERE"  # no stays: nothing to open a case about
    assert opener.open_button.disabled
    assert InstitutionView(analysis).case_opener is None


def test_stays_dashboard_is_the_page_in_one_call(folder, analysis, tmp_path, monkeypatch):
    from workbench.cases.casework import cases

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    banner, explorer = stays_dashboard(folder, 15, cost_limit="10000", los_limit_days=15, by="孙审核").children
    assert banner.value == summary_banner(analysis).value
    top = analysis.institutions.fixmedins_code.iloc[0]  # opens on the top-ranked institution
    assert explorer.institution.fixmedins_code == top and explorer.institution.picker.value == top
    opener = explorer.institution.case_opener
    opener.open_button.click()  # into $WORKBENCH_HOME's store
    assert cases(opener.store)[opener.case_id].institutions == [top] and opener.store.home == tmp_path / "home"
    short = stays_dashboard(folder, 1, fixmedins_code="H1", home=tmp_path / "h2").children[1].institution
    assert short.fixmedins_code == "H1" and short.analysis.window_days == 1
    assert len(short.pairs) < len(explorer.institution.analysis.institution_pairs("H1"))  # the window reached the workbench
    assert "wb-error" in stays_dashboard(tmp_path / "missing", home=tmp_path / "h2").value


def test_the_ranking_grid_lists_every_institution_and_selects_the_one_shown(analysis):
    from widgets._grid import missing_as_dash
    from widgets.stays import RANKING_COLUMNS, ranking_frame

    inst = analysis.institutions
    frame = ranking_frame(analysis)
    assert list(frame.columns) == list(RANKING_COLUMNS) and list(frame.index) == list(inst.fixmedins_code)
    assert list(frame["排名"]) == list(range(1, len(inst) + 1))
    h1 = frame.loc["H1"]
    row = inst.set_index("fixmedins_code").loc["H1"]
    assert (h1["住院"], h1["再入院"], h1["短间隔再入院"]) == (row.stays, row.readmissions, row.short_gap_readmissions)
    assert h1["短间隔率"] == pytest.approx(float(row.short_gap_rate))
    ex = StaysExplorer(analysis)
    top, grid = inst.fixmedins_code.iloc[0], ex.ranking
    assert ex.institution.fixmedins_code == top and grid.selected == top  # opens on the top-ranked, highlighted
    assert grid.grid.selections[-1]["r1"] == 0
    last = len(frame) - 1
    grid.grid.selections = [{"r1": last, "c1": 0, "r2": last, "c2": len(RANKING_COLUMNS) - 1}]  # a click on the last row
    assert ex.institution.fixmedins_code == frame.index[last] == grid.selected
    assert frame.index[last] in ex.institution.measures.value  # the view shows the institution clicked
    assert grid.grid.renderers["O/E"].text_value.value == missing_as_dash(".2f")  # a missing O/E: a dash, not NaN
    assert missing_as_dash(".1%") == "isValid(cell.value) ? format(cell.value, '.1%') : '—'"
    ex.institution.picker.value = "H1"  # the dropdown moves the grid's highlight
    assert grid.selected == "H1" and grid.grid.selections[-1]["r1"] == list(frame.index).index("H1")
