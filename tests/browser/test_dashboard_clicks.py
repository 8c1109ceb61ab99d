"""Clicks on the analysis dashboards in a real browser (issue 22, items 3-4; issue 19's "open a case").

Chromium opens the providers, rings, stays and cases dashboards Voilà serves and clicks what a
person clicks: a point of the providers scatter, a row of the provider ranking, of the ring list
and of the case worklist (grids drawn on a canvas: clicked by their geometry, read back through
what the kernel shows for the row), and the "open a case" button, whose case is then found in the
worklist and in the served workbench home ($WORKBENCH_HOME, a temporary folder). Every page must
ask no other host and log no console error (the ``page`` fixture checks both at the end).
"""
from __future__ import annotations

import re

import pytest
from browserkit import find_in_worklist, grid_cell, header_menu, open_dashboard, screenshot

pytestmark = pytest.mark.slow

SCATTER = ".wb-scatter svg"


def shown_institution(page) -> str:
    """The institution the providers explorer shows: its findings link names it."""
    href = page.get_attribute(".wb-links a[data-link='findings']", "href")
    return re.search(r"INSTITUTION=([^&]+)", href).group(1)


def wait_institution(page, old: str) -> str:
    page.wait_for_function("(old) => { const a = document.querySelector(\".wb-links a[data-link='findings']\");"
                           " return a && !a.href.endsWith('INSTITUTION=' + old); }", arg=old)
    return shown_institution(page)


def test_a_click_on_a_scatter_point_selects_that_institution_in_place(page, voila_server, screenshots):
    open_dashboard(page, voila_server, "providers.ipynb", SCATTER)
    assert page.locator(".widget-hprogress").count() == 0  # no DuckDB progress bar left on the page
    first, address = shown_institution(page), page.url
    # a point drawn once (no outlier ring, not the star) whose centre no other mark covers
    target = page.evaluate("""(first) => {
        const links = [...document.querySelectorAll('.wb-scatter svg a')];
        const code = a => decodeURIComponent((a.getAttribute('xlink:href') || '').split('FIXMEDINS_CODE=')[1] || '');
        const count = {}; links.forEach(a => { count[code(a)] = (count[code(a)] || 0) + 1; });
        const boxes = links.map(a => a.getBoundingClientRect());
        for (let i = 0; i < links.length; i++) {
            const c = code(links[i]), b = boxes[i];
            if (c === first || count[c] !== 1 || b.width === 0) continue;
            const x = b.x + b.width / 2, y = b.y + b.height / 2;
            const covered = boxes.some((o, j) => j !== i && x >= o.left && x <= o.right && y >= o.top && y <= o.bottom);
            if (!covered) return {code: c, x, y};
        }
        return null; }""", first)
    assert target is not None, "no clickable point apart from the selected one"
    page.mouse.click(target["x"], target["y"])
    assert wait_institution(page, first) == target["code"]
    assert page.url == address  # selected in place: no new page, no new kernel
    picked = page.locator(".jupyter-widgets select").evaluate_all(
        "ss => ss.map(s => s.options[s.selectedIndex] ? s.options[s.selectedIndex].text : '')")
    assert any(target["code"] in p for p in picked)  # the institution dropdown followed
    page.wait_for_function("(c) => document.querySelector('.wb-open-case .wb-lead').innerText.includes('机构 ' + c)",
                           arg=target["code"])  # "open a case" follows the click too
    star = page.evaluate("() => [...document.querySelectorAll('.wb-scatter svg a')].map(a => a.getAttribute('xlink:href'))")
    assert star.count(f"providers.ipynb?FIXMEDINS_CODE={target['code']}") == 2  # its point and now the star
    screenshot(page, screenshots, "providers-scatter-clicked")


def test_the_ranking_grid_selects_the_row_clicked_in_any_order(page, voila_server, screenshots):
    open_dashboard(page, voila_server, "providers.ipynb", ".wb-ranking .lm-DataGrid")
    first = shown_institution(page)
    header = page.locator(".wb-links").locator("xpath=..")
    assert "（第 1 位）" in header.inner_text()  # opens on the first to inspect
    page.mouse.click(*grid_cell(page, ".wb-ranking", 3))
    fourth = wait_institution(page, first)
    assert "（第 4 位）" in header.inner_text()  # the fourth row is the fourth by priority
    # the grid's own sort: risk score, highest first (the columns before it: 排名, 名称, 同级组, 检查优先级)
    from widgets import _grid as G
    from widgets.providers import RANKING_COLUMNS, RANKING_WIDTHS

    width = [RANKING_WIDTHS.get(c, G.COLUMN) for c in RANKING_COLUMNS]
    risk = RANKING_COLUMNS.index("风险分")
    page.mouse.click(*header_menu(page, ".wb-ranking", sum(width[:risk]), width[risk]))
    page.locator(".ipydatagrid-context-menu").get_by_text("Sort Descending", exact=True).click()
    # the highest risk score (the second highest when the institution shown already is it)
    row = 1 if re.search(r"排名第 1(?!\d)", header.inner_text()) else 0
    page.mouse.click(*grid_cell(page, ".wb-ranking", row))
    wait_institution(page, fourth)
    assert re.search(rf"排名第 {row + 1}(?!\d)", header.inner_text()), header.inner_text()
    screenshot(page, screenshots, "providers-ranking-sorted")


def test_a_row_of_the_ring_grid_opens_that_ring(page, voila_server, screenshots):
    import workbench
    from workbench import rings

    with workbench.open(voila_server.data) as s:  # the dashboard's thresholds and seed
        listed = list(rings.RingAnalysis(s, rings.RingParams(min_rx=5, min_same_day=5, min_same_day_share=0.25),
                                         seed=2024).rings.ring_id)
    assert len(listed) >= 2, listed
    open_dashboard(page, voila_server, "rings.ipynb", ".wb-rings .lm-DataGrid")
    page.wait_for_function("(r) => document.body.innerText.includes('团伙 ' + r + '（排名 1')", arg=listed[0])
    drawn = page.evaluate("() => document.images[0].src")  # the ring's graph
    page.mouse.click(*grid_cell(page, ".wb-rings", 1))
    page.wait_for_function("(r) => document.body.innerText.includes('团伙 ' + r + '（排名 2')", arg=listed[1])
    page.wait_for_function("(old) => document.images[0].src !== old", arg=drawn)  # and drawn
    assert f"团伙 {listed[0]}（排名 1" not in page.inner_text("body")
    screenshot(page, screenshots, "rings-second-ring")


@pytest.mark.parametrize("name,source", [("providers.ipynb", "providers"), ("rings.ipynb", "rings"),
                                         ("stays.ipynb", "stays")])
def test_a_case_opened_on_a_page_is_in_the_worklist(page, voila_server, screenshots, name, source):
    from workbench.cases import CaseStore
    from workbench.cases.casework import cases

    open_dashboard(page, voila_server, name, ".wb-open-case button")
    lead = page.inner_text(".wb-open-case .wb-lead")
    page.locator(".wb-open-case input").first.fill("周稽核")
    page.locator(".wb-open-case button").click()
    page.wait_for_selector(".wb-open-case [data-case]")
    case_id = page.get_attribute(".wb-open-case [data-case]", "data-case")
    state = cases(CaseStore(voila_server.home))[case_id]  # written to the served $WORKBENCH_HOME
    assert state.source == source and state.institutions and all(code in lead for code in state.institutions)
    screenshot(page, screenshots, f"{source}-case-opened")
    open_dashboard(page, voila_server, "cases.ipynb", ".wb-worklist .lm-DataGrid")
    find_in_worklist(page, case_id)
    shown = page.inner_text(".wb-case")
    assert "、".join(state.institutions) in shown and state.opened_on in shown
    open_dashboard(page, voila_server, "cases.ipynb", f".wb-case[data-case='{case_id}']", CASE_ID=case_id)
    screenshot(page, screenshots, f"{source}-case-in-worklist")


def test_the_url_opens_a_ring_a_view_and_a_hospital_and_the_stays_grid_selects(page, voila_server, screenshots):
    """``rings.ipynb?RING_ID=``, ``providers.ipynb?VIEW=`` and ``stays.ipynb?FIXMEDINS_CODE=`` open
    the page on what they name (a bookmark or a link sent); an unknown ring is said on the page; a
    row of the stays dashboard's institution grid shows that institution."""
    import workbench
    from workbench import rings, stays

    with workbench.open(voila_server.data) as s:  # the dashboards' thresholds and seed
        listed = list(rings.RingAnalysis(s, rings.RingParams(min_rx=5, min_same_day=5, min_same_day_share=0.25),
                                         seed=2024).rings.ring_id)
        hospitals = list(stays.StayAnalysis(s, 15, cost_limit="10000", los_limit_days=15).institutions.fixmedins_code)
    assert len(listed) >= 2 and len(hospitals) >= 3
    open_dashboard(page, voila_server, "rings.ipynb", ".wb-rings .lm-DataGrid", RING_ID=listed[1])
    page.wait_for_function("(r) => document.body.innerText.includes('团伙 ' + r + '（排名 2')", arg=listed[1])
    text = open_dashboard(page, voila_server, "rings.ipynb", ".wb-error", RING_ID="NO-SUCH-RING")
    assert "NO-SUCH-RING" in text and "is not one of this analysis's rings" in text

    open_dashboard(page, voila_server, "providers.ipynb", ".wb-ranking .lm-DataGrid", VIEW="risk_score")
    header = page.locator(".wb-links").locator("xpath=..")
    assert re.search(r"排名第 1(?!\d)", header.inner_text()), header.inner_text()  # the first by risk score
    assert "风险分" in page.inner_text(".widget-toggle-button.mod-active")

    measures = "() => [...document.querySelectorAll('.wb-links')].map(e => e.parentElement.innerText).join()"
    open_dashboard(page, voila_server, "stays.ipynb", ".wb-stays-ranking .lm-DataGrid", FIXMEDINS_CODE=hospitals[2])
    shown = page.evaluate(measures)
    assert hospitals[2] in shown and re.search(r"排名第 3(?!\d)", shown), shown
    page.mouse.click(*grid_cell(page, ".wb-stays-ranking", 0))
    page.wait_for_function(f"(c) => ({measures})().includes(c)", arg=hospitals[0])
    assert re.search(r"排名第 1(?!\d)", page.evaluate(measures))
    screenshot(page, screenshots, "stays-ranking-clicked")
