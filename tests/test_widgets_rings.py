"""Ring explorer widgets, without a browser: set traits, pick options, click, assert on state."""
import math
from decimal import Decimal

import networkx as nx
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

import workbench  # noqa: E402
from traitlets import TraitError  # noqa: E402
from widgets.rings import (KIND_COLOUR, MAX_SIZE, MIN_SIZE, RingExplorer, node_label, node_styles,  # noqa: E402
                           ring_frame, rings_dashboard, signals_table, summary_banner, tripartite_layout)
from workbench import datafolder, rings  # noqa: E402

from test_rings import TINY, tiny_tables  # noqa: E402

from widgets._charts import is_svg


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    out = tmp_path_factory.mktemp("wrings") / "data"
    datafolder.write_data_folder(out, tiny_tables(), source={})
    with workbench.open(out) as s:
        yield rings.RingAnalysis(s, TINY, seed=7)


def test_node_styles_is_a_pure_mapping():
    got = node_styles({"pharmacy:F": {"kind": "pharmacy", "money": "400.00"}, "psn:P": {"kind": "psn", "money": "100.00"},
                       "dr:D": {"kind": "dr", "money": "0.00"}, "psn:Q": {"kind": "psn"}})
    assert got["pharmacy:F"] == {"colour": KIND_COLOUR["pharmacy"], "size": MAX_SIZE}
    assert got["psn:P"]["size"] == pytest.approx(MIN_SIZE + (MAX_SIZE - MIN_SIZE) * 0.5)  # sqrt(100 / 400)
    assert got["dr:D"] == {"colour": KIND_COLOUR["dr"], "size": MIN_SIZE} and got["psn:Q"]["size"] == MIN_SIZE
    assert node_styles({}) == {}
    assert node_label("pharmacy:F1") == "药店 F1" and node_label("psn:P9") == "患者 P9"


def test_tripartite_layout_puts_kinds_on_circles():
    pos = tripartite_layout(["psn:B", "psn:A", "dr:D1", "pharmacy:F1", "psn:C", "psn:D"])
    assert pos["pharmacy:F1"] == (0.0, 0.0)
    assert math.hypot(*pos["dr:D1"]) == pytest.approx(1.0)
    assert [math.hypot(*pos[n]) for n in ("psn:A", "psn:B", "psn:C", "psn:D")] == pytest.approx([2.0] * 4)
    assert pos["psn:A"] == pytest.approx((2.0, 0.0)) and pos["psn:B"] == pytest.approx((0.0, 2.0))  # sorted, quarter turns
    two = tripartite_layout(["pharmacy:F1", "pharmacy:F2"])
    assert [math.hypot(*p) for p in two.values()] == pytest.approx([0.35, 0.35])


def test_explorer_shows_the_top_ring_and_a_member(analysis):
    w = RingExplorer(analysis)
    rid = analysis.rings.ring_id.iloc[0]
    assert w.selected_ring == rid and w.ring_grid.selected == rid and w.ring_grid.grid.selections[-1]["r1"] == 0
    assert [v for _, v in w.node_picker.options] == ["pharmacy:F1", "dr:D1", "psn:P1", "psn:P2"]
    assert w.selected_node == "pharmacy:F1"
    assert list(w.transactions.mdtrt_id) == ["B1", "B4", "B2", "B5"]
    assert w.styles["pharmacy:F1"]["size"] == MAX_SIZE and w.styles["dr:D1"]["colour"] == KIND_COLOUR["dr"]
    assert is_svg(w.chart.value) and is_svg(w.timeline_chart.value)
    assert "640.64" in w.evidence.value and w.ring_grid.frame.loc[rid, "统筹基金(元)"] == pytest.approx(float(
        analysis.rings.hifp_pay.iloc[0]))
    assert "团伙内金额 640.64" in w.node_header.value
    w.node_picker.value = "psn:P1"  # the user picks a patient
    assert w.selected_node == "psn:P1"
    assert list(w.transactions.mdtrt_id) == ["V1", "B1", "V2", "B2", "B3"]
    assert w.timeline.visits.tolist() == [1, 1, 1, 2]
    assert w.node_picker.get_state()["index"] == 2
    w.selected_node = "dr:D1"  # a notebook sets the trait
    assert w.node_picker.value == "dr:D1" and len(w.transactions) == 7
    text = w.ring_grid.frame.to_csv() + w.evidence.value + w.node_header.value + w.tx_table.value
    assert "张三" not in text and "370102195001011234" not in text  # psn_no only
    with pytest.raises(TraitError, match="psn:P3"):
        w.selected_node = "psn:P3"
    with pytest.raises(TraitError, match="RNOPE"):
        w.selected_ring = "RNOPE"


def test_explorer_opens_on_the_ring_of_an_institution_or_says_it_has_none(analysis):
    pharmacy = analysis.rings.fixmedins_code.iloc[-1]
    w = RingExplorer(analysis, institution=pharmacy)
    assert w.selected_ring == analysis.rings[analysis.rings.fixmedins_code == pharmacy].ring_id.iloc[0]
    none = RingExplorer(analysis, institution="H-NO-RING")
    assert none.selected_ring == "" and "H-NO-RING 不在任何可疑团伙中" in none.evidence.value


def test_export_button_writes_the_case_file(analysis, tmp_path):
    w = RingExplorer(analysis, export_dir=tmp_path / "case")
    w.export_button.click()
    rid = w.selected_ring
    assert set(w.exported) == {"graphml", "members", "transactions", "evidence"}
    assert w.exported["graphml"] == tmp_path / "case" / f"{rid}.graphml"
    assert sorted(nx.read_graphml(w.exported["graphml"]).nodes) == ["dr:D1", "pharmacy:F1", "psn:P1", "psn:P2"]
    assert "已导出" in w.export_status.value and f"{rid}_transactions.csv" in w.export_status.value


def test_explorer_without_rings(analysis, tmp_path):
    with workbench.open(analysis.session.folder) as s:
        empty = rings.RingAnalysis(s, rings.RingParams(min_rx=99), seed=7)
        w = RingExplorer(empty, export_dir=tmp_path)
        assert w.selected_ring == "" and w.graph is None and w.node_picker.options == ()
        assert "no ring found" in w.ring_note.value and bytes(w.chart.value) == b""
        assert w.ring_grid.layout.display == "none" and len(w.ring_grid.frame) == 0
        assert w.chart.layout.display == "none" and w.timeline_chart.layout.display == "none"  # no broken image
        assert w.export() == {} and "未选择" in w.export_status.value
        assert "<b>0</b> 个可疑团伙" in summary_banner(empty).value


def test_signals_table_and_banner(analysis):
    t = signals_table(analysis).value
    assert "card_many_pharmacies" in t and "F1;F2" in t and "doctor_impossible_volume" in t
    assert "<b>1</b> 个可疑团伙（4 条可疑关系，全部关系 15 条）" in summary_banner(analysis).value
    assert str(Decimal("205.20")) in t


def test_open_a_case_about_the_ring_shown(analysis, tmp_path):
    from workbench.cases import CaseStore
    from workbench.cases.casework import cases

    store = CaseStore(tmp_path / "home")
    w = RingExplorer(analysis, store=store, by="赵稽核")
    last = analysis.rings.iloc[-1]
    w.selected_ring = last.ring_id  # the lead follows the ring shown
    pharmacies = sorted(n.partition(":")[2] for n in analysis.ring_graph(last.ring_id).nodes if n.startswith("pharmacy:"))
    assert pharmacies and f"团伙 {last.ring_id} 的药店 {'、'.join(pharmacies)}" in w.case_opener.lead_label.value
    w.case_opener.open_button.click()
    cid = w.case_opener.case_id
    st = cases(store)[cid]
    assert st.source == "rings" and st.institutions == pharmacies and st.findings == []
    opened = [e for e in store.case_events(kinds=("open",)) if e["subject"] == cid]
    assert opened[0]["by"] == "赵稽核" and f"团伙 {last.ring_id}" in opened[0]["note"] and last.dr_code in opened[0]["note"]
    assert f"data-case='{cid}'" in w.case_opener.message.value
    assert RingExplorer(analysis).case_opener is None  # no store, no control


def test_no_ring_no_case(analysis, tmp_path):
    from workbench.cases import CaseStore

    w = RingExplorer(analysis, institution="H-NO-RING", store=CaseStore(tmp_path / "home"))
    assert w.case_opener in w.children and w.case_opener.open_button.disabled


def test_ring_frame_is_every_ring_as_numbers():
    import pandas as pd

    got = ring_frame(pd.DataFrame({"rank": [1, 2], "ring_id": ["R2", "R1"], "score": ["80.5", "70.25"], "patients": [9, 4],
                                   "doctors": [2, 1], "fixmedins_code": ["F1", "F2"], "purchases": [30, 12],
                                   "same_day_sequences": [28, 3], "identical_baskets": [20, 0], "doctor_share": [0.9, 0.4],
                                   "outside_county_patients": [1, 0], "hifp_pay": ["1234.50", None]}))
    assert list(got.index) == ["R2", "R1"] and got.index.name == "团伙编号"
    assert list(got.columns)[:4] == ["排名", "可疑分", "患者数", "医师数"]
    assert got.loc["R1", "可疑分"] == 70.25 and got.loc["R2", "统筹基金(元)"] == 1234.5  # numbers: sorted as numbers
    assert math.isnan(got.loc["R1", "统筹基金(元)"]) and got.loc["R1", "药店"] == "F2"


def test_a_clicked_ring_row_shows_that_ring(analysis):
    w = RingExplorer(analysis)
    rid = analysis.rings.ring_id.iloc[0]
    w.selected_ring = ""  # nothing shown: the grid's highlight goes too
    assert w.graph is None and w.ring_grid.selected == "" and w.ring_grid.grid.selections == []
    w.ring_grid.grid.selections = [{"r1": 0, "c1": 0, "r2": 0, "c2": 3}]  # a click on the first row
    assert w.selected_ring == rid and sorted(w.graph.nodes) == ["dr:D1", "pharmacy:F1", "psn:P1", "psn:P2"]


def test_rings_dashboard_is_the_page_in_one_call(analysis, tmp_path, monkeypatch):
    from dataclasses import asdict

    from workbench.cases.casework import cases

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    page = rings_dashboard(analysis.session.folder, seed=7, by="赵稽核", export_dir=tmp_path / "x", **asdict(TINY))
    banner, explorer, _, signals = page.children
    assert "<b>1</b> 个可疑团伙" in banner.value and "card_many_pharmacies" in signals.value
    rid = analysis.rings.ring_id.iloc[0]
    assert explorer.selected_ring == rid and explorer.case_opener.by == "赵稽核"
    explorer.case_opener.open_button.click()  # into $WORKBENCH_HOME's store
    assert cases(explorer.case_opener.store)[explorer.case_opener.case_id].source == "rings"
    assert (tmp_path / "home").is_dir()
    bad = rings_dashboard(tmp_path / "no-such-folder")
    assert "wb-error" in bad.value and "no-such-folder" in bad.value


def test_the_evidence_says_when_same_day_visits_cannot_be_seen(tmp_path):
    """In the region the evidence counts the same-day sequences; in an extract of its pharmacies,
    where no doctor's visit is in the data, it says they cannot be checked rather than 0."""
    from workbench.extract import extract

    from test_rings import extract_like_tables

    tables, _ = extract_like_tables()
    datafolder.write_data_folder(tmp_path / "data", tables, source={"kind": "test", "what": "an extract-like region"})
    extract(tmp_path / "data", tmp_path / "pharmacies", institutions=["F1", "F2", "F3"])
    for folder, said, unsaid in ((tmp_path / "data", "同日就诊后购药 1159 次", "无法核对"),
                                 (tmp_path / "pharmacies", "医师就诊记录不在数据中（无法核对同日就诊）", "同日就诊后购药")):
        with workbench.open(folder) as s:
            w = RingExplorer(rings.RingAnalysis(s, seed=2024))
            assert w.selected_ring == w.analysis.rings.ring_id.iloc[0] and "DC0101" in w.evidence.value
            assert said in w.evidence.value and unsaid not in w.evidence.value, w.evidence.value
            same_day = w.ring_grid.frame["同日开方购药"].iloc[0]
            assert same_day == 1159 if folder.name == "data" else math.isnan(same_day)
