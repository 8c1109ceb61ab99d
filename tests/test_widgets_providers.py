"""Provider explorer widget without a browser: set traits, pick options, assert on state; and the
provider notebook and dashboard run top to bottom on demo data."""
import warnings
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

import workbench  # noqa: E402
from traitlets import TraitError  # noqa: E402
from widgets import _fonts  # noqa: E402
from widgets.providers import (ProviderExplorer, RankingGrid, deviation_bars, point_link, providers_dashboard,  # noqa: E402
                               ranking_frame, ranking_html, scatter_marks, summary_banner)
from workbench import datafolder  # noqa: E402
from workbench.providers import profile_providers  # noqa: E402

from test_providers import region_tables  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
from widgets._charts import is_svg


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("wprov") / "data"
    datafolder.write_data_folder(out, region_tables(), source={})
    return out


@pytest.fixture(scope="module")
def result(folder):
    out = folder
    findings = pd.DataFrame({"fixmedins_code": ["C07", "C07"], "rule_id": ["cost_share_outlier", "price_over_cap"],
                             "amount_at_risk": ["0.00", "12.30"], "detail": ["药占比高", "超限价"]})
    with workbench.open(out) as s:
        yield profile_providers(s, findings=findings, seed=3)


def test_scatter_marks_is_a_pure_mapping():
    points = pd.DataFrame({"fixmedins_code": ["A", "B", "C", "D"], "x": [1.0, 2.0, 3.0, None], "y": [0.5, 0.1, 0.9, 1.0],
                           "cluster": [0, 1, 0, 0], "outlier": [False, True, False, True], "risk_score": [0.2, 0.9, 0.4, 0.8]})
    m = scatter_marks(points, "C")
    assert m == {"clusters": {0: ([1.0, 3.0], [0.5, 0.9]), 1: ([2.0], [0.1])}, "outliers": ([2.0], [0.1], ["B"]),
                 "selected": (3.0, 0.9), "missing": 1, "codes": {0: ["A", "C"], 1: ["B"]}}
    assert scatter_marks(points, "D")["selected"] is None  # no x: not drawn


def test_deviation_bars_is_a_pure_mapping():
    dev = pd.DataFrame({"zh": ["药占比", "平均住院日"], "en": ["drug share", "mean length of stay"], "z": [5.1, -3.0]})
    assert deviation_bars(dev) == [("药占比 drug share", 5.1, "#c0392b"), ("平均住院日 mean length of stay", -3.0, "#4878a8")]
    assert len(deviation_bars(dev, n=1)) == 1


def test_explorer_starts_on_the_most_suspicious_institution(result):
    e = ProviderExplorer(result)
    assert (e.peer_group, e.selected, e.x, e.y) == ("1-3", "C07", "pc1", "pc2")
    assert e.group_picker.value == "1-3" and e.picker.value == "C07"
    assert (e.x_picker.value, e.y_picker.value) == ("pc1", "pc2")  # the pickers show the axes drawn
    assert len(e.picker.options) == 14 and e.picker.options[0][1] == "C07" and "⚠" in e.picker.options[0][0]
    assert "<svg" in e.scatter.value and is_svg(e.profile.value)
    assert e.bars[0][0] == "次均费用 cost per visit" and e.bars[0][1] > 5
    assert "C07" in e.header.value and "次均费用 241.68" in e.header.value
    assert "href='findings.ipynb?INSTITUTION=C07'" in e.header.value and "href='rings.ipynb?INSTITUTION=C07'" in e.header.value
    assert "规则线索 2 条" in e.findings.value and "price_over_cap" in e.findings.value
    assert e.marks["selected"] is not None and sum(len(xs) for xs, _ in e.marks["clusters"].values()) == 14


def test_explorer_follows_its_controls_and_traits(result):
    e = ProviderExplorer(result)
    e.group_picker.value = "1-2"  # the user picks the hospitals
    assert e.peer_group == "1-2" and e.selected == result.members("1-2").fixmedins_code.iloc[0]
    assert len(e.picker.options) == 6 and e.picker.get_state()["index"] == 0
    assert "无规则线索" in e.findings.value
    e.selected = "C07"  # a code from another group brings its group back
    assert e.peer_group == "1-3" and e.picker.value == "C07" and len(e.picker.options) == 14
    e.x_picker.value = "drug_share"
    e.y = "cost_per_visit"
    assert e.x == "drug_share" and e.y_picker.value == "cost_per_visit"
    assert e.marks["selected"] == pytest.approx((result.row("C07").drug_share, result.row("C07").cost_per_visit))
    e.picker.value = "C02"
    assert e.selected == "C02" and "C02" in e.header.value
    for trait, bad in (("peer_group", "9-9"), ("x", "nonsense"), ("selected", "NOPE")):
        with pytest.raises(TraitError):
            setattr(e, trait, bad)
    assert (e.peer_group, e.x, e.selected) == ("1-3", "drug_share", "C02")


def test_explorer_initial_selection_and_ranking(result):
    e = ProviderExplorer(result, selected="H03", x="drug_share", y="test_share")
    assert e.peer_group == "1-2" and e.selected == "H03" and e.x_picker.value == "drug_share"
    html = ranking_html(result, 3).value
    assert html.count("<tr>") == 4 and "C07" in html and "次均费用" in html
    banner = summary_banner(result).value
    assert "20 家机构" in banner and "2 个同级组" in banner and "规则线索 2 条" in banner and "随机种子 3" in banner


def test_explorer_sorts_by_priority_and_switches_to_the_size_neutral_view(result):
    e = ProviderExplorer(result)
    by_priority = list(result.members("1-3", "priority").fixmedins_code)
    by_risk = list(result.members("1-3", "risk_score").fixmedins_code)
    # C11 (70 visits, little abnormal) is inspected before C13 (35 visits, more abnormal)
    assert by_priority[:4] == ["C07", "C02", "C11", "C06"] and by_risk[:4] == ["C07", "C02", "C13", "C11"]
    assert e.view == "priority" and e.view_toggle.value == "priority"
    assert [v for _, v in e.picker.options] == by_priority and e.picker.options[1][0].startswith("#2 C02 ")
    e.view_toggle.value = "risk_score"  # the user switches the order
    assert e.view == "risk_score" and [v for _, v in e.picker.options] == by_risk
    assert e.selected == "C07" and "风险" in e.picker.options[0][0]
    e.view = "priority"
    assert e.view_toggle.value == "priority" and [v for _, v in e.picker.options] == by_priority
    with pytest.raises(TraitError):
        e.view = "size"
    rows = ranking_html(result, 3, view="risk_score").value
    codes = list(result.ranked("risk_score").fixmedins_code[:3])
    assert [rows.index(c) for c in codes] == sorted(rows.index(c) for c in codes)
    assert codes == ["C07", "H06", "H03"] and "C02" in ranking_html(result, 3).value and "C02" not in rows
    assert ProviderExplorer(result, view="risk_score").picker.options[0][1] == "C07"


def test_chinese_labels_render():
    family = _fonts.use_cjk_font()
    if family is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    assert _fonts.has_glyphs(family, "药占比同级中位数异常簇")


def test_drawing_raises_no_missing_glyph_warning(result):
    if _fonts.use_cjk_font() is None:
        pytest.skip("no CJK font installed")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from.*")
        ProviderExplorer(result, selected="C07")


# --- notebooks on demo data ---------------------------------------------------------------------

@pytest.mark.parametrize("notebook", ["notebooks/02-provider-clusters.ipynb", "dashboards/providers.ipynb"])
def test_notebook_runs_on_demo_data(demo_data, notebook, tmp_path):
    pytest.importorskip("nbclient")
    from notebook_runner import outputs_text, run_notebook

    nb = run_notebook(ROOT / notebook, {"DATA": str(demo_data), "RUN": str(tmp_path / "no-run"), "SEED": 2024}, timeout=300)
    text = outputs_text(nb)
    assert "ProviderExplorer" in text or "VBox" in text


# --- open a case (issue 19, item 1) ------------------------------------------------------------

def test_open_a_case_about_the_selected_institution_with_its_findings(tiny_data, hand_run, tmp_path):
    from workbench.cases import CaseStore
    from workbench.cases.casework import cases

    store = CaseStore(tmp_path / "home")
    with workbench.open(tiny_data) as s:
        r = profile_providers(s, findings=hand_run, seed=3)
        e = ProviderExplorer(r, selected="H1", store=store, run=hand_run)
        assert "机构 H1（规则线索 4 条随案）" in e.case_opener.lead_label.value
        e.case_opener.open_button.click()
        assert e.case_opener.case_id == "" and "未立案" in e.case_opener.message.value  # no auditor's name
        e.case_opener.by_box.value = "钱审核"
        e.case_opener.open_button.click()
        st = cases(store)[e.case_opener.case_id]
        assert st.source == "providers" and st.institutions == ["H1"]
        assert sorted(f["finding_id"] for f in st.findings) == ["F1", "F3", "F4", "F7"]
        assert {f["fixmedins_code"] for f in st.findings} == {"H1"}
        note = [x for x in store.case_events(kinds=("open",)) if x["subject"] == st.case_id][0]["note"]
        assert note.startswith("机构画像：检查优先级第 ") and r.reasons("H1") in note


def test_open_a_case_without_a_run_bundles_no_findings(result, tmp_path):
    from workbench.cases import CaseStore
    from workbench.cases.casework import cases

    store = CaseStore(tmp_path / "home")
    e = ProviderExplorer(result, store=store, by="钱审核")
    e.selected = "C07"
    assert "规则线索 0 条随案" in e.case_opener.lead_label.value
    e.case_opener.open_button.click()
    st = cases(store)[e.case_opener.case_id]
    assert (st.source, st.institutions, st.findings) == ("providers", ["C07"], [])
    assert ProviderExplorer(result).case_opener is None


# --- a click on the scatter, the ranking grid, the dashboard in one call (issue 20 item 5, issue 22 items 3-4) --

def test_every_scatter_point_links_its_institution_and_a_click_selects_it(result):
    import re

    e = ProviderExplorer(result)
    shown = e.points[e.points.x.notna() & e.points.y.notna()].fixmedins_code.tolist()
    links = re.findall(r'xlink:href="providers\.ipynb\?FIXMEDINS_CODE=([^"&]+)"', e.scatter.value)
    # each point once, the outliers' rings and the selected star again: every code reachable by a click
    assert set(links) == set(shown) and len(links) == len(shown) + len(e.marks["outliers"][0]) + 1
    assert e.pick_class in e.scatter.value and e.pick_class in e.pick_box._dom_classes
    other = next(c for c in shown if c != e.selected)
    e.pick_box.value = other  # what the page's click handler does: the code into the hidden box
    assert e.selected == other and e.picker.value == other and e.pick_box.value == ""
    assert f"FIXMEDINS_CODE={other}" in e.scatter.value and e.marks["selected"] is not None
    e.pick_box.value = "NOPE"  # a code not drawn: nothing changes, nothing raised
    assert e.selected == other
    assert point_link("A B/1") == "providers.ipynb?FIXMEDINS_CODE=A%20B%2F1"


def test_ranking_frame_lists_every_institution_in_the_views_order(result):
    for view, key in (("priority", "priority_rank"), ("risk_score", "rank")):
        ranked = result.ranked(view)
        f = ranking_frame(result, view)
        assert list(f.index) == list(ranked.fixmedins_code) and len(f) == len(result.institutions)
        assert list(f["排名"]) == list(ranked[key]) and f.index.name == "机构编号"
        assert f.loc["C07", "风险分"] == pytest.approx(float(result.row("C07").risk_score), abs=5e-4)
        assert f.loc["C07", "异常"] == ("是" if result.row("C07").outlier else "")


def test_a_clicked_ranking_row_selects_its_institution_in_the_explorer(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    page = providers_dashboard(folder, seed=3)
    banner, explorer, _, ranking = page.children
    assert isinstance(ranking, RankingGrid) and "家机构" in banner.value
    assert ranking.selected == explorer.selected == ranking.listed()[0]
    ranking.grid.selections = [{"r1": 4, "c1": 0, "r2": 4, "c2": 6}]  # a click on the fifth row
    fifth = ranking.listed()[4]
    assert explorer.selected == fifth and explorer.picker.value == fifth
    explorer.view = "risk_score"  # the explorer's view orders the grid
    assert ranking.view == "risk_score" and ranking.listed() == list(explorer.result.ranked("risk_score").fixmedins_code)
    assert ranking.selected == fifth and ranking.grid.selections[-1]["r1"] == ranking.listed().index(fifth)
    explorer.pick_box.value = ranking.listed()[0]  # a scatter click: the grid follows
    assert ranking.selected == ranking.listed()[0]
    assert explorer.case_opener is not None and explorer.case_opener.store.home == tmp_path / "home"


def test_providers_dashboard_opens_on_a_links_institution_or_says_what_is_wrong(folder, tmp_path):
    page = providers_dashboard(folder, seed=3, selected="H06", view="risk_score", by="钱审核", home=tmp_path / "h")
    explorer = page.children[1]
    assert explorer.selected == "H06" and explorer.view == "risk_score" and explorer.case_opener.by == "钱审核"
    assert explorer.findings.value.startswith("<i>无规则线索")  # no run given
    bad = providers_dashboard(folder, seed=3, selected="NOPE", home=tmp_path / "h")
    assert "wb-error" in bad.value and "NOPE" in bad.value
    assert "wb-error" in providers_dashboard(tmp_path / "missing", home=tmp_path / "h").value
