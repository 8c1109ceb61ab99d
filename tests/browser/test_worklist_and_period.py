"""Issue 19 in a real browser: the case dashboard's worklist and the briefing's period picker.

Cases and inspections are written to the served workbench home (in 2019 and about institutions
the demo does not have, so no other dashboard's figures move), then Chromium opens the pages and
reads what the widgets show, waiting for their text, never for a timer.
"""
from __future__ import annotations

import pytest
from browserkit import find_in_worklist, open_dashboard, screenshot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def enforcement(voila_server):
    from workbench.cases import CaseStore
    from workbench.cases.casework import act, open_case, record_inspection

    store = CaseStore(voila_server.home)
    late = open_case(store, "HX19LATE", "tipoff", "张三", on="2019-01-02")["subject"]
    act(store, late, "review", "张三", on="2019-01-03")
    act(store, late, "rectify", "张三", on="2019-01-03", due="2019-03-01")  # never rectified: overdue
    waiting = open_case(store, "HX19WAIT", "referral", "张三", on="2019-04-02")["subject"]
    for code, day in [("HX19A", "2019-02-11"), ("HX19B", "2019-03-28"), ("HX19A", "2019-05-06"), ("HX19C", "2019-11-30")]:
        record_inspection(store, code, "routine", day, "执法一队")
    return {"late": late, "waiting": waiting}


def period_tiles(page) -> dict:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.wb-period [data-figure]')]
                                    .map(e => [e.dataset.figure, e.dataset.value]))""")


def pick(page, box: str, label: str, title: str) -> dict:
    """Choose ``label`` in the picker's ``box`` and wait until the period's title says ``title``."""
    page.locator(f".wb-period-{box} select").select_option(label=label)
    page.wait_for_function("(t) => { const e = document.querySelector('.wb-period .wb-title');"
                           " return e !== null && e.innerText.includes(t); }", arg=title)
    return period_tiles(page)


def test_the_worklist_shows_overdue_cases_first(page, voila_server, screenshots, enforcement):
    open_dashboard(page, voila_server, "cases.ipynb", ".wb-worklist .lm-DataGrid")
    assert int(page.get_attribute(".wb-work [data-overdue]", "data-overdue")) >= 1
    assert "逾期" in page.inner_text(".wb-work")
    late, waiting = enforcement["late"], enforcement["waiting"]
    assert find_in_worklist(page, late) < find_in_worklist(page, waiting)  # a row of the grid each, overdue first
    find_in_worklist(page, late)
    shown = page.inner_text(f".wb-case[data-case='{late}']")
    assert "HX19LATE" in shown and "2019-03-01" in shown and "整改期限" in shown and "责令整改" in shown
    screenshot(page, screenshots, "cases-worklist")


def test_the_period_picker_recounts_the_period(page, voila_server, screenshots, enforcement):
    open_dashboard(page, voila_server, "briefing.ipynb", ".wb-period [data-figure=inspected_institutions]",
                   YEAR="2019", PERIOD="year")
    page.wait_for_function("() => document.querySelector('.wb-period .wb-title').innerText.includes('2019年全年')")
    assert period_tiles(page)["inspected_institutions"] == "3"  # HX19A (twice), HX19B, HX19C
    q1 = pick(page, "kind", "季度", "2019年第一季度")
    assert (q1["inspected_institutions"], q1["open_cases"], q1["overdue_rectifications"]) == ("2", "1", "1")
    q2 = pick(page, "number", "第2季度", "2019年第二季度")
    assert (q2["inspected_institutions"], q2["open_cases"]) == ("1", "2")  # HX19A again; HX19WAIT opened in April
    feb = pick(page, "kind", "月份", "2019年2月")  # the number carries over
    assert feb["inspected_institutions"] == "1"
    may = pick(page, "number", "5月", "2019年5月")
    assert may["inspected_institutions"] == "1"
    ytd = pick(page, "kind", "1—N月", "2019年1—5月")
    assert ytd["inspected_institutions"] == "2"  # HX19A, HX19B by the end of May
    assert page.get_attribute(".wb-period table", "data-rows") == "5"  # one row per month, January to May
    screenshot(page, screenshots, "briefing-period")
