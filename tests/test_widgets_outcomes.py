"""The briefing's period section without a browser: pick a period, read the tiles (issue 19)."""
import re

import pytest

pytest.importorskip("ipywidgets")


def test_the_period_picker_counts_the_period_it_names(tmp_path):
    from widgets.outcomes import PeriodView
    from workbench.cases import CaseStore
    from workbench.cases.casework import act, open_case, record_inspection
    from workbench.cases.outcomes import Outcomes

    store = CaseStore(tmp_path / "home")
    for code, day in [("H1", "2025-01-15"), ("H2", "2025-02-20"), ("H3", "2025-05-05"), ("H1", "2024-12-31")]:
        record_inspection(store, code, "routine", day, "执法一队")
    cid = open_case(store, "H2", "tipoff", "张三", on="2025-02-01")["subject"]
    act(store, cid, "confirm", "张三", on="2025-02-02")
    act(store, cid, "recover", "张三", on="2025-04-03", amount="1234.56")
    w = PeriodView(Outcomes.of_store(store), year=2025, kind="quarter", number=1, today="2025-06-30")

    def tile(key):
        return dict(re.findall(r"data-figure='(\w+)' data-value='([^']*)'", w.tiles.value))[key]

    assert w.period == "2025年第一季度" and tile("inspected_institutions") == "2" and tile("recovered_amount") == "0.00"
    w.number_box.value = 2
    assert w.period == "2025年第二季度" and tile("inspected_institutions") == "1" and tile("recovered_amount") == "1234.56"
    w.kind_box.value = "ytd"  # 1—2月: the number carries over
    assert w.period == "2025年1—2月" and tile("inspected_institutions") == "2" and tile("open_cases") == "1"
    w.kind_box.value = "year"
    assert w.period == "2025年全年" and tile("inspected_institutions") == "3" and w.number_box.disabled
    w.year_box.value = 2024
    assert w.period == "2024年全年" and tile("inspected_institutions") == "1"
    w.kind_box.value = "month"
    w.number_box.value = 12
    assert w.period == "2024年12月" and "data-rows='1'" in w.months.value
