"""The dashboards in a real browser: Voilà serves them, Chromium opens, clicks and reads them.

Every dashboard loads with no Python traceback, no console error and no request to any host but
the server's (every request is recorded, none blocked: a bureau's network has no internet); the briefing's headline
equals the run's figures computed here from the files; a filter on the findings queue changes the
rows; the provider, ring and stay dashboards respond to a click. A screenshot of each goes to
the ``screenshots`` folder (device scale factor 2).
"""
from __future__ import annotations

import http.client
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from browserkit import open_dashboard, screenshot

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted(p.name for p in (ROOT / "dashboards").glob("*.ipynb"))
READY = {"index.ipynb": ".wb-card", "briefing.ipynb": "[data-figure=findings]", "findings.ipynb": ".wb-summary"}
ANY_CONTROL = ".jupyter-widgets select, .jupyter-widgets button, .jupyter-widgets input"
RESPOND_TO_A_CLICK = ["providers.ipynb", "rings.ipynb", "stays.ipynb"]


def assert_clean(page, server) -> None:
    """Nothing asked of another host (recorded, never blocked) and no console error, so far."""
    assert page.console.foreign(server.base) == [], page.console.foreign(server.base)
    assert page.console.errors == [], page.console.errors


def ready(name: str) -> str:
    return READY.get(name, ANY_CONTROL)


def _get(url: str):
    u = urlsplit(url)
    con = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    con.request("GET", u.path + (f"?{u.query}" if u.query else ""))
    resp = con.getresponse()
    return resp.status, resp.getheader("Location") or "", resp.read().decode("utf-8", "replace")


def texts(page, selector: str) -> list:
    """Text of every element matching ``selector`` (widgets write spaces as no-break spaces)."""
    return [t.replace("\xa0", " ") for t in page.eval_on_selector_all(selector, "es => es.map(e => e.textContent)")]


def tile_values(page) -> dict:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('[data-figure]')]
                                    .map(e => [e.dataset.figure, e.dataset.value]))""")


def run_figures(run: Path, data: Path) -> dict:
    """The headline figures straight from the files, independently of workbench.briefing."""
    f = pq.read_table(run / "findings.parquet")
    inst = pc.drop_null(f["fixmedins_code"])
    total = pc.sum(f["amount_at_risk"]).as_py() or Decimal("0.00")
    medins = pq.read_table(data / "medins.parquet", columns=["fixmedins_code"])
    return {"institutions_audited": str(len(pc.unique(medins["fixmedins_code"]))),
            "institutions_flagged": str(len(pc.unique(inst))), "findings": str(f.num_rows),
            "violations": str(pc.sum(pc.equal(f["result_type"], "violation")).as_py() or 0),
            "amount_at_risk": f"{total:.2f}"}


def test_the_token_guards_every_page_and_no_code_is_served(voila_server):
    status, location, _ = _get(voila_server.url("briefing.ipynb"))
    assert status in (302, 403) and (status == 403 or "login" in location)
    status, _, html = _get(voila_server.url("briefing.ipynb", token=voila_server.token))
    assert status == 200
    assert "BriefingView(Briefing(" not in html and "from workbench" not in html


@pytest.mark.parametrize("name", [n for n in DASHBOARDS if n not in RESPOND_TO_A_CLICK])
def test_dashboard_loads_cleanly(page, voila_server, screenshots, name):
    open_dashboard(page, voila_server, name, ready(name))
    assert_clean(page, voila_server)
    assert "from workbench" not in page.content()  # code hidden
    screenshot(page, screenshots, name.removesuffix(".ipynb"))


def test_landing_links_every_dashboard(page, voila_server):
    open_dashboard(page, voila_server, "index.ipynb", ".wb-card")
    cards = page.eval_on_selector_all(".wb-card", "els => els.map(e => e.dataset.dashboard)")
    assert sorted(cards) == [n for n in DASHBOARDS if n != "index.ipynb"]
    page.click(".wb-card[data-dashboard='briefing.ipynb'] a")
    page.wait_for_selector("[data-figure=findings]")
    assert_clean(page, voila_server)


def test_briefing_headline_equals_the_run(page, voila_server):
    open_dashboard(page, voila_server, "briefing.ipynb", "[data-figure=findings]")
    expected = run_figures(voila_server.run, voila_server.data)
    shown = tile_values(page)
    assert {k: shown[k] for k in expected} == expected
    assert shown["confirmed"] == "0" and shown["pending"] == expected["findings"]
    findings_tile = page.inner_text("[data-figure=findings] .wb-tile-value")
    assert findings_tile.replace(",", "").replace("条", "").strip() == expected["findings"]
    assert "智能筛查" in page.inner_text("body") and "万元" in page.inner_text("[data-figure=amount_at_risk]")
    page.get_by_text("English", exact=True).click()
    page.wait_for_function("() => document.body.innerText.includes('Screening')")
    assert tile_values(page) == shown


def test_the_url_chooses_language_and_run(page, voila_server, tmp_path):
    from workbench.cli import main

    other = tmp_path / "one-rule-run"
    assert main(["audit", str(voila_server.data), "--out", str(other), "--rules", "split_hospitalization",
                 "--no-progress"]) == 0
    open_dashboard(page, voila_server, "briefing.ipynb", "[data-figure=findings]", LANG="en", RUN=str(other))
    assert "Screening" in page.inner_text("body")
    assert tile_values(page)["findings"] == run_figures(other, voila_server.data)["findings"]


def grid_point(page, column: int, row: int | None) -> tuple:
    """Page coordinates of a cell of the findings grid (``row`` None: the header's menu icon).

    The grid is a canvas: its geometry is the widget's (row header, column width, row heights)."""
    from widgets import findings as F

    box = page.locator(".wb-queue .lm-DataGrid").first.bounding_box()
    x = box["x"] + F.GRID_ROW_HEADER + F.GRID_COLUMN * column
    if row is None:
        return x + F.GRID_COLUMN - 8, box["y"] + F.GRID_HEADER - 9
    return x + 40, box["y"] + F.GRID_HEADER + F.GRID_ROW * row + F.GRID_ROW / 2


def open_row(page, row: int) -> tuple:
    """Click a row of the grid; the finding opened below it: (finding_id, amount text)."""
    old = page.evaluate("() => { const e = document.querySelector('.wb-finding'); return e ? e.dataset.finding : ''; }")
    page.mouse.click(*grid_point(page, 1, row))
    page.wait_for_function("(old) => { const e = document.querySelector('.wb-finding');"
                           " return e && e.dataset.finding !== old; }", arg=old)
    fid = page.get_attribute(".wb-finding", "data-finding")
    amount = re.search(r"¥([\d,]+\.\d\d)", page.inner_text(".wb-finding")).group(1).replace(",", "")
    return fid, Decimal(amount)


def sort_amount(page, how: str) -> None:
    """The grid's own sort: the money column's header menu, "Sort Ascending" or "Sort Descending";
    returns once the kernel has sorted (the view says so under the summary)."""
    page.mouse.click(*grid_point(page, 0, None))
    page.locator(".ipydatagrid-context-menu").get_by_text(how, exact=True).click()
    way = "asc" if how == "Sort Ascending" else "desc"
    page.wait_for_selector(f".wb-order[data-sort='涉及金额:{way}']")


def test_findings_grid_filters_sorts_and_opens_a_row(page, voila_server, screenshots):
    open_dashboard(page, voila_server, "findings.ipynb", ".wb-summary")
    f = pq.read_table(voila_server.run / "findings.parquet").to_pandas()
    assert f"共 {len(f):,} 条" in page.inner_text(".wb-summary")
    rule_select = page.locator(".wb-queue .widget-dropdown select").first
    options = [o.replace("\xa0", " ") for o in rule_select.locator("option").all_text_contents()]
    assert options[0] == "全部" and len(options) > 2
    label = options[2]  # the second most frequent rule
    summary = page.inner_text(".wb-summary")
    rule_select.select_option(index=2)
    page.wait_for_function("(old) => document.querySelector('.wb-summary').innerText !== old", arg=summary)
    n = int(re.search(r"符合条件 ([\d,]+) 条", page.inner_text(".wb-summary")).group(1).replace(",", ""))
    assert n == int(re.search(r"\(([\d,]+)\)$", label).group(1).replace(",", ""))
    rule_id = rule_select.evaluate("s => s.value")  # Voilà's select holds the option's index
    fid, amount = open_row(page, 0)  # most money first
    mine = f[f["finding_id"] == fid]
    assert len(mine) == 1 and amount == mine["amount_at_risk"].iloc[0]
    rule_of_row = mine["rule_id"].iloc[0]
    amounts = f[f["rule_id"] == rule_of_row]["amount_at_risk"]
    assert len(amounts) == n and amount == amounts.max(), rule_id
    assert "证据明细" in page.inner_text("body")
    sort_amount(page, "Sort Ascending")
    assert "按涉及金额升序" in page.inner_text(".wb-order")
    _, least = open_row(page, 1) if n > 1 else (None, amount)
    _, first = open_row(page, 0)
    assert first == amounts.min() and least >= first
    screenshot(page, screenshots, "findings-sorted")


def queue_count(page) -> int:
    return int(re.search(r"符合条件 ([\d,]+) 条", page.inner_text(".wb-summary")).group(1).replace(",", ""))


def test_briefing_drills_down_to_the_findings_of_a_county_a_rule_and_an_institution(page, voila_server, screenshots):
    from urllib.parse import parse_qs, urlsplit as split

    from workbench.briefing import Briefing

    f = pq.read_table(voila_server.run / "findings.parquet").to_pandas()
    medins = pq.read_table(voila_server.data / "medins.parquet", columns=["fixmedins_code", "admdvs"]).to_pandas()
    county_of = dict(zip(medins.fixmedins_code, medins.admdvs))
    by_month = Briefing(voila_server.run, data=voila_server.data).by_month  # months of care, as the trend counts them
    in_month = dict(zip(by_month.month, by_month.findings))
    for chart, param in (("by_county", "COUNTY"), ("by_rule", "RULE"), ("trend", "MONTH"), (None, "INSTITUTION")):
        open_dashboard(page, voila_server, "briefing.ipynb", "[data-figure=findings]")
        link = (page.locator(f".wb-chart[aria-label={chart}] a:has(> path)").last if chart  # the top bar
                else page.locator("a.wb-drill").first)
        href = link.get_attribute("xlink:href" if chart else "href")
        value = parse_qs(split(href).query)[param][0]
        link.click()  # the bar with most money, or the first institution's name in the table
        page.wait_for_selector(".wb-summary")
        assert parse_qs(split(page.url).query)[param] == [value]  # the address says what is shown: bookmarkable
        expected = {"COUNTY": sum(county_of.get(c) == value for c in f.fixmedins_code),
                    "RULE": int((f.rule_id == value).sum()), "INSTITUTION": int((f.fixmedins_code == value).sum()),
                    "MONTH": int(in_month.get(value, 0))}[param]
        assert expected > 0 and queue_count(page) == expected, (param, value)
        assert_clean(page, voila_server)
    screenshot(page, screenshots, "findings-of-an-institution")


@pytest.mark.parametrize("name", RESPOND_TO_A_CLICK)
def test_analysis_dashboard_responds_to_a_click(page, voila_server, screenshots, name):
    if not (ROOT / "dashboards" / name).is_file():
        pytest.skip(f"dashboards/{name} is not in this version yet")
    open_dashboard(page, voila_server, name, ".jupyter-widgets select")  # loads cleanly, as above
    assert_clean(page, voila_server)
    screenshot(page, screenshots, name.removesuffix(".ipynb"))
    state = """() => document.body.innerText + [...document.querySelectorAll('img')].map(i => i.src).join()"""
    before = page.evaluate(state)
    # the first choice list with an option not yet picked: a person clicks it
    picked = page.evaluate("""() => {
        for (const s of document.querySelectorAll('.jupyter-widgets select')) {
            if (s.options.length > 1 || (s.options.length == 1 && s.selectedIndex < 0)) {
                s.setAttribute('data-picked', '1'); return s.options.length; } }
        return 0; }""")
    assert picked, f"{name}: nothing to pick"
    sel = page.locator("select[data-picked='1']")
    current = sel.evaluate("s => s.selectedIndex")
    sel.select_option(index=0 if current < 0 else (1 if current != 1 else 0))
    page.wait_for_function(f"(old) => ({state})() !== old", arg=before)
    assert_clean(page, voila_server)
    screenshot(page, screenshots, name.removesuffix(".ipynb") + "-clicked")


# the grid's screen canvas once it has stopped changing (lumino paints on animation frames)
GRID_PIXELS = """async () => {
  const frame = () => new Promise(r => requestAnimationFrame(r));
  const canvas = document.querySelector('.wb-queue .lm-DataGrid canvas');
  let last = '';
  for (let i = 0; i < 600; i++) {
    await frame(); await frame();
    const now = canvas.toDataURL();
    if (now === last) return now;
    last = now;
  }
  return 'still changing';
}"""
READS_FREQUENTLY = "() => document.createElement('canvas').getContext('2d').getContextAttributes().willReadFrequently"


def _queue_pixels(page, server) -> tuple:
    """The findings grid's pixels as it opens and after a rule is picked, and whether canvases are
    made for reading on the page."""
    open_dashboard(page, server, "findings.ipynb", ".wb-summary")
    page.wait_for_selector(".wb-queue .lm-DataGrid canvas")
    first = page.evaluate(GRID_PIXELS)
    summary = page.inner_text(".wb-summary")
    page.locator(".wb-queue .widget-dropdown select").first.select_option(index=2)
    page.wait_for_function("(old) => document.querySelector('.wb-summary').innerText !== old", arg=summary)
    return first, page.evaluate(GRID_PIXELS), page.evaluate(READS_FREQUENTLY)


def test_the_grid_paints_the_same_pixels_with_the_canvas_flush_as_without(page, browser_context, voila_server):
    """The page template flushes a canvas after each copy from another one (the grid's cells, quick
    without a GPU: index.html.j2): what the grid shows is the same, pixel for pixel, as with the
    browser's own canvas (``window.wbPlainCanvas``, the bench's baseline), before and after a filter."""
    flushed = _queue_pixels(page, voila_server)
    plain_page = browser_context.new_page()
    try:
        plain_page.set_default_timeout(90_000)
        plain_page.add_init_script("window.wbPlainCanvas = true;")
        plain = _queue_pixels(plain_page, voila_server)
    finally:
        plain_page.goto("about:blank")
        plain_page.close()
    assert flushed[2] is True and plain[2] is False  # the flush is on here, off there
    assert flushed[0].startswith("data:image/png") and "still changing" not in (flushed[0], flushed[1])
    assert flushed[0] != flushed[1]  # the filter changed the rows shown
    assert flushed[0] == plain[0] and flushed[1] == plain[1]
