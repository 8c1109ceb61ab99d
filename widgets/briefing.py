"""The briefing dashboard (工作简报): headline tiles, four charts and the top institutions, zh / en.

:class:`BriefingView` takes a :class:`workbench.briefing.Briefing` and only displays it: every
number comes from the briefing's figures, every label from :mod:`workbench.i18n`. ``lang`` is a
trait (``"zh"`` by default, the toggle sets it). Each headline tile carries its exact figure in
``data-figure`` / ``data-value`` attributes, so a browser test can compare the page with the run.
Charts are matplotlib figures rendered to SVG (vector: sharp on a projector; no pyplot state) with a CJK font, sized for a wall
projector. Nothing personal is shown: the briefing has no person or doctor in it.
"""
from __future__ import annotations

import html
from decimal import Decimal

import ipywidgets as W
import traitlets as T
from matplotlib.figure import Figure

from workbench import i18n
from workbench.errors import WorkbenchError
from workbench.i18n import t

from ._charts import svg
from ._fonts import use_cjk_font

BLUE, RED, GREY = "#1f4e79", "#c0392b", "#8c99a6"
DPI = 110
CSS = """<style>
.wb-brief { font-size: 18px; color: #1b2733; }
.wb-brief h1 { font-size: 34px; margin: 4px 0; color: #12365a; }
.wb-brief h2 { font-size: 24px; margin: 18px 0 8px; color: #12365a; border-left: 6px solid #c0392b; padding-left: 10px; }
.wb-brief .wb-sub { font-size: 17px; color: #52606d; }
.wb-tiles { display: flex; flex-wrap: wrap; gap: 14px; margin-bottom: 14px; }
.wb-tile { flex: 1 1 200px; background: #f3f6fa; border-radius: 10px; padding: 14px 18px; border-top: 5px solid #1f4e79; }
.wb-tile.wb-money { border-top-color: #c0392b; }
.wb-tile-value { font-size: 40px; font-weight: 700; color: #12365a; line-height: 1.15; white-space: nowrap; }
.wb-tile-value .wb-unit { font-size: 20px; font-weight: 400; margin-left: 4px; color: #52606d; }
.wb-tile-label { font-size: 18px; color: #3e4c59; margin-top: 4px; }
.wb-note { font-size: 16px; color: #7b8794; margin: 6px 0; }
a.wb-drill { color: #12365a; text-decoration: underline; }
.wb-chart svg a:hover path { fill: #c0392b; }
.wb-chart svg * { pointer-events: none; }  /* axes and spines never take a click meant for a bar */
.wb-chart svg a, .wb-chart svg a * { pointer-events: auto; cursor: pointer; }
.wb-chart-title { font-size: 21px; font-weight: 600; color: #12365a; margin: 6px 0 0; }
table.wb-top { border-collapse: collapse; width: 100%; font-size: 18px; }
table.wb-top th { background: #1f4e79; color: white; padding: 8px 10px; text-align: left; }
table.wb-top td { padding: 7px 10px; border-bottom: 1px solid #d9e2ec; }
table.wb-top td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.wb-top tr:nth-child(even) td { background: #f5f7fa; }
</style>"""


# --------------------------------------------------------------------------- pure mappings
def tile(figure: str, value, label: str, kind: str = "count", unit_key: str | None = None, lang: str = "zh") -> str:
    """One headline tile as HTML; ``data-value`` holds the exact figure (money as yuan with 2 decimals)."""
    if kind == "money":
        shown = i18n.money(value, lang)
        number, _, unit = shown.partition(" ") if lang == "zh" else (shown, "", "")
        raw = str(value)
    else:
        number, unit, raw = i18n.count(value, None, lang), (t(unit_key, lang) if unit_key else ""), str(int(value))
    unit_html = f"<span class='wb-unit'>{html.escape(unit)}</span>" if unit else ""
    cls = "wb-tile wb-money" if kind == "money" else "wb-tile"
    return (f"<div class='{cls}' data-figure='{figure}' data-value='{html.escape(raw)}'>"
            f"<div class='wb-tile-value'>{html.escape(number)}{unit_html}</div>"
            f"<div class='wb-tile-label'>{html.escape(label)}</div></div>")


def headline_tiles(headline: dict, lang: str = "zh") -> str:
    """The screening tiles: institutions audited and with findings, findings, violations, money at risk."""
    counts = [("institutions_audited", "unit_institutions"), ("institutions_flagged", "unit_institutions"),
              ("findings", "unit_findings"), ("violations", "unit_findings")]
    tiles = [tile(k, headline[k], t(k, lang), unit_key=unit, lang=lang) for k, unit in counts]
    tiles.append(tile("amount_at_risk", headline["amount_at_risk"], t("amount_at_risk", lang), kind="money", lang=lang))
    return "<div class='wb-tiles'>" + "".join(tiles) + "</div>"


def case_tiles(cases, lang: str = "zh", error: str | None = None) -> str:
    """The case-outcome tiles, or a note when the case store cannot be read."""
    if cases is None:
        return f"<p class='wb-note'>{html.escape(t('cases_unavailable', lang) + (error or ''))}</p>"
    note = "" if cases["findings"] else f"<p class='wb-note'>{html.escape(t('cases_none', lang))}</p>"
    referred = cases["referred_police"] + cases["referred_discipline"]
    outcomes = [
        tile("confirmed", cases["confirmed"], t("confirmed", lang), unit_key="unit_findings", lang=lang),
        tile("pending", cases["pending"], t("pending", lang), unit_key="unit_findings", lang=lang),
        tile("amount_at_risk_confirmed", cases["amount_at_risk_confirmed"], t("amount_confirmed", lang), kind="money", lang=lang),
        tile("recovered", cases["recovered"], t("recovered", lang), kind="money", lang=lang),
    ]
    actions = [
        tile("suspended", cases["suspended"], t("suspended", lang), unit_key="unit_institutions", lang=lang),
        tile("terminated", cases["terminated"], t("terminated", lang), unit_key="unit_institutions", lang=lang),
        tile("fined", cases["fined"], t("fined", lang), unit_key="unit_institutions", lang=lang),
        tile("fines", cases["fines"], t("fines", lang), kind="money", lang=lang),
        tile("referred", referred, t("referred", lang), unit_key="unit_cases", lang=lang),
    ]
    return note + "".join(f"<div class='wb-tiles'>{''.join(row)}</div>" for row in (outcomes, actions))


def short(label: str, lang: str = "zh") -> str:
    """A chart label cut to fit beside a bar (14 characters in Chinese, 30 in English)."""
    limit = 14 if lang == "zh" else 30
    return label if len(label) <= limit else label[:limit - 1] + "…"


def _wan_float(v) -> float:
    return float(i18n.wan(v if v is not None else Decimal(0)))


def bar_rows(frame, label_col, lang: str = "zh", top: int | None = None, label_fn=None, key_col=None) -> list:
    """``(label, 万元 as float for the bar, exact 万元 text, findings)`` per row, most money first, at most ``top``;
    with ``key_col`` a fifth item, the row's value of that column (what a drill-down link filters by)."""
    rows = []
    for r in frame.to_dict("records"):
        label = label_fn(r) if label_fn else r[label_col]
        row = (str(label) if label is not None else t("month_unknown", lang), _wan_float(r["amount_at_risk"]),
               f"{i18n.wan(r['amount_at_risk']):,}", int(r["findings"]))
        rows.append(row + ((r[key_col],) if key_col else ()))
    rows.sort(key=lambda x: -x[1])
    return rows[:top] if top else rows


def findings_link(carry=None, lang: str = "zh", **filters) -> str:
    """The address of the findings queue filtered by ``filters`` (``COUNTY``, ``RULE``,
    ``INSTITUTION``…), relative to the briefing's page, so it can be bookmarked and sent.

    ``carry`` holds the page's own ``RUN`` / ``DATA`` when its URL chose them: the queue opens the
    same run.
    """
    from urllib.parse import urlencode

    q = {**(carry or {}), **{k: v for k, v in filters.items() if v not in (None, "")}}
    if lang != "zh":
        q["LANG"] = lang
    return "findings.ipynb?" + urlencode(q)


def inline_svg(fig, label: str = "") -> str:
    """A figure as SVG to put in the page itself (not an image): its bars' links can be clicked."""
    text = svg(fig).decode("utf-8")
    text = text[text.index("<svg"):].replace('target="_blank"', 'target="_self"')
    return (f"<div class='wb-chart' role='img' aria-label='{html.escape(label)}'>"
            + text.replace("<svg ", "<svg style='width:100%;height:auto' ", 1) + "</div>")


def _figure(width=8.6, height=4.4):
    use_cjk_font()
    fig = Figure(figsize=(width, height), dpi=DPI)
    ax = fig.add_subplot(111)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=15)  # read from the back of a room: 15 pt ticks, 14 pt values
    return fig, ax


def _hbar(rows, lang, link=None):
    """Horizontal bars, most money on top; with ``link`` (key → URL) each bar and its label is a link."""
    fig, ax = _figure(8.6, max(2.6, 0.48 * len(rows) + 1.0))
    if not rows:
        ax.text(0.5, 0.5, t("no_data", lang), ha="center", va="center", fontsize=18, transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    labels = [r[0] for r in rows][::-1]
    values = [r[1] for r in rows][::-1]
    bars = ax.barh(labels, values, color=BLUE)
    top = max(values) or 1.0
    for b, r in zip(bars, rows[::-1]):
        ax.text(b.get_width() + top * 0.01, b.get_y() + b.get_height() / 2, r[2], va="center", fontsize=14, color="#1b2733")
        if link is not None and len(r) > 4 and r[4] is not None:
            b.set_url(link(r[4]))
    if link is not None:
        for lab, r in zip(ax.get_yticklabels(), rows[::-1]):
            if len(r) > 4 and r[4] is not None:
                lab.set_url(link(r[4]))
    ax.set_xlim(0, top * 1.2)
    ax.set_xlabel(t("amount_wan", lang), fontsize=15)
    return fig


def chart_trend(by_month, lang: str = "zh", link=None) -> Figure:
    """Findings (bars) and money at risk (line, 万元) per month of care; with ``link`` (month → URL)
    each month's bar and its label open that month's findings."""
    known = by_month[by_month["month"].notna()]
    fig, ax = _figure(8.6, 4.4)
    if not len(known):
        ax.text(0.5, 0.5, t("no_data", lang), ha="center", va="center", fontsize=18, transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    x = list(range(len(known)))
    bars = ax.bar(x, list(known["findings"]), color=BLUE, label=t("findings_count", lang))
    ax.set_ylabel(t("findings_count", lang), fontsize=15, color=BLUE)
    step = max(1, len(x) // 12)
    ax.set_xticks(x[::step], list(known["month"])[::step], rotation=45, ha="right")
    if link is not None:
        for b, month, n in zip(bars, known["month"], known["findings"]):
            if n:  # a month without findings opens nothing
                b.set_url(link(month))
        for lab, month, n in zip(ax.get_xticklabels(), list(known["month"])[::step], list(known["findings"])[::step]):
            if n:
                lab.set_url(link(month))
    ax2 = ax.twinx()
    ax2.plot(x, [_wan_float(v) for v in known["amount_at_risk"]], color=RED, marker="o", linewidth=2.5)
    ax2.set_ylabel(t("amount_wan", lang), fontsize=15, color=RED)
    ax2.tick_params(labelsize=15)
    ax2.set_ylim(bottom=0)
    ax2.spines["top"].set_visible(False)
    return fig


def chart_counties(by_county, lang: str = "zh", top: int = 12, link=None) -> Figure:
    """Money at risk by county; ``link(admdvs)`` makes each bar open that county's findings."""
    return _hbar(bar_rows(by_county, "county", lang, top, key_col="admdvs"), lang, link)


def chart_rules(by_rule, lang: str = "zh", top: int = 10, link=None) -> Figure:
    """Money at risk by rule; ``link(rule_id)`` makes each bar open that rule's findings."""
    return _hbar(bar_rows(by_rule, "rule_id", lang, top, key_col="rule_id",
                          label_fn=lambda r: short(r["name_zh" if lang == "zh" else "name_en"], lang)), lang, link)


def chart_types(by_type, lang: str = "zh") -> Figure:
    rows = bar_rows(by_type[by_type["findings"] > 0], "category", lang,
                    label_fn=lambda r: i18n.category_label(r["category"], lang))
    return _hbar(rows, lang)


def trend_note(by_month, lang: str = "zh") -> str:
    """A note naming the findings the trend leaves out (several or no month), or '' when none."""
    rest = by_month[by_month["month"].isna()]
    if not len(rest):
        return ""
    n, amount = int(rest["findings"].sum()), sum(rest["amount_at_risk"], Decimal("0.00"))
    return f"<div class='wb-note'>{html.escape(t('trend_undated', lang, n=f'{n:,}', amount=i18n.money(amount, lang)))}</div>"


def top_table(top, lang: str = "zh", link=None) -> str:
    """The top institutions as an HTML table (institution names, never persons); with ``link``
    (code → URL) each name opens that institution's findings."""
    heads = [t("rank", lang), t("institution", lang), t("county", lang), t("institution_type", lang),
             t("findings_count", lang), t("rules_hit", lang), t("amount_wan", lang), t("confirmed", lang)]
    body = []
    for i, r in enumerate(top.to_dict("records"), 1):
        name = r["fixmedins_name"] or r["fixmedins_code"]
        cells = [(str(i), "num"), (name, ""), (r["county"] or "—", ""), (i18n.category_label(r["category"], lang), ""),
                 (f"{r['findings']:,}", "num"), (str(r["rules"]), "num"), (f"{i18n.wan(r['amount_at_risk']):,}", "num"),
                 (str(r["confirmed"]), "num")]
        tds = [f"<td class='{c}'>{html.escape(str(v))}</td>" for v, c in cells]
        if link is not None:
            tds[1] = (f"<td><a class='wb-drill' data-institution='{html.escape(r['fixmedins_code'])}' "
                      f"href='{html.escape(link(r['fixmedins_code']))}'>{html.escape(str(name))}</a></td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
    return f"<table class='wb-top' data-rows='{len(body)}'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# --------------------------------------------------------------------------- the widget
class BriefingView(W.VBox):
    """The briefing of one run, in Chinese or English.

    Parameters
    ----------
    briefing : workbench.briefing.Briefing
    lang : {'zh', 'en'}
    top : int
        How many institutions the top table lists.
    """

    lang = T.Enum(i18n.LANGS, default_value="zh", help="language of every label: zh (default) or en")

    def __init__(self, briefing, lang: str = "zh", top: int = 10, carry=None):
        self.briefing = briefing
        self.carry = dict(carry or {})  # RUN / DATA of the page's URL, for the drill-down links
        self.figures = briefing.figures(top)
        self._charts = {}
        self.toggle = W.ToggleButtons(options=[("中文", "zh"), ("English", "en")], value=lang,
                                      layout=W.Layout(width="auto"))
        self.refresh_button = W.Button(description="刷新 refresh", icon="refresh", layout=W.Layout(width="auto"))
        self.header = W.HTML()
        self.audit = W.HTML()
        self.cases_html = W.HTML()
        self.chart_titles = {k: W.HTML() for k in ("trend", "by_county", "by_rule", "by_type")}
        self.chart_images = {k: W.HTML(layout=W.Layout(width="100%")) for k in self.chart_titles}  # inline SVG
        self.top_html = W.HTML()
        cells = [W.VBox([self.chart_titles[k], self.chart_images[k]], layout=W.Layout(width="49%"))
                 for k in self.chart_titles]
        charts = W.VBox([W.HBox(cells[:2], layout=W.Layout(justify_content="space-between")),
                         W.HBox(cells[2:], layout=W.Layout(justify_content="space-between"))])
        bar = W.HBox([self.header, W.HBox([self.toggle, self.refresh_button])],
                     layout=W.Layout(justify_content="space-between", align_items="flex-start"))
        super().__init__([W.HTML(CSS), bar, self.audit, self.cases_html, charts, self.top_html])
        self.add_class("wb-brief")
        T.link((self.toggle, "value"), (self, "lang"))
        self.refresh_button.on_click(lambda _: self.refresh_cases())
        self.lang = lang
        self._ready = True
        self.render()

    _ready = False

    @T.observe("lang")
    def _lang_changed(self, _):
        if self._ready:
            self.render()

    def render(self):
        """Fill every label, tile, chart and table in the current language."""
        lang, f = self.lang, self.figures
        info = f["info"]
        period = f"{info['period_from'] or '—'} — {info['period_to'] or '—'}"
        run_at = (info["run_ended"] or "—")[:10]
        self.header.value = (f"<div class='wb-sub'>{html.escape(t('period', lang))}: {html.escape(period)} · "
                             f"{html.escape(t('run_at', lang))}: {html.escape(run_at)}</div>")
        self.audit.value = f"<h2>{html.escape(t('section_audit', lang))}</h2>" + headline_tiles(f["headline"], lang)
        self._render_cases()
        note = f"（{t('trend_note', lang)}）" if lang == "zh" else f" ({t('trend_note', lang)})"
        titles = {"trend": t("trend", lang) + note,
                  "by_county": t("by_county", lang), "by_rule": t("by_rule", lang), "by_type": t("by_type", lang)}
        for k, title in titles.items():
            self.chart_titles[k].value = f"<div class='wb-chart-title'>{html.escape(title)}</div>"
            self.chart_images[k].value = self.chart_svg(k, lang)
        self.chart_titles["trend"].value += trend_note(f["by_month"], lang)
        self.top_html.value = (f"<h2>{html.escape(t('top_institutions', lang))}</h2>"
                               + top_table(f["top_institutions"], lang, self._link("INSTITUTION")))

    def _render_cases(self):
        lang = self.lang
        self.cases_html.value = (f"<h2>{html.escape(t('section_cases', lang))}</h2>"
                                 + case_tiles(self.figures["cases"], lang, self.briefing.cases_error))

    def _link(self, name: str, lang: str | None = None):
        lang = lang or self.lang
        return lambda value: findings_link(self.carry, lang, **{name: value})

    def chart_svg(self, key: str, lang: str) -> str:
        """One chart in one language as inline SVG, bars linked to their findings (drawn once, then kept)."""
        if (key, lang) not in self._charts:
            f = self.figures
            fig = {"trend": lambda: chart_trend(f["by_month"], lang, link=self._link("MONTH", lang)),
                   "by_county": lambda: chart_counties(f["by_county"], lang, link=self._link("COUNTY", lang)),
                   "by_rule": lambda: chart_rules(f["by_rule"], lang, link=self._link("RULE", lang)),
                   "by_type": lambda: chart_types(f["by_institution_type"], lang)}[key]()
            self._charts[(key, lang)] = inline_svg(fig, key)
        return self._charts[(key, lang)]

    def current(self) -> bool:
        """True while the run folder is the one drawn (verified, its manifest unchanged)."""
        from workbench.runs import RunFolder

        try:
            return RunFolder(self.briefing.run).manifest == self.briefing.manifest  # verifies the SHA-256
        except (WorkbenchError, OSError):
            return False

    def refresh_cases(self):
        """Re-read the case store (new decisions) and redraw the case tiles and the top table."""
        self.briefing.refresh_cases()
        self.figures["cases"] = self.briefing.cases
        self.figures["top_institutions"] = self.briefing.top_institutions(len(self.figures["top_institutions"]) or 10)
        self._render_cases()
        self.top_html.value = (f"<h2>{html.escape(t('top_institutions', self.lang))}</h2>"
                               + top_table(self.figures["top_institutions"], self.lang, self._link("INSTITUTION")))


def error_note(err, lang: str = "zh") -> W.HTML:
    """What a dashboard shows instead of a traceback when its folders cannot be opened."""
    return W.HTML(f"<p class='wb-error' style='font-size:18px;color:#b00020'>{html.escape(t('cannot_open', lang))}"
                  f"{html.escape(str(err))}</p>")


def _carry() -> dict:
    """``RUN`` / ``DATA`` when the page's URL chose them: the drill-down links keep them."""
    from workbench.params import query_values

    return {k.upper(): v for k, v in query_values().items() if k.upper() in ("RUN", "DATA")}


def _page_key(run, data, home, top, carry) -> tuple:
    from pathlib import Path

    return ("briefing", str(Path(run).resolve()), str(Path(data).resolve()) if data else "", str(home or ""),
            int(top), tuple(sorted(carry.items())))


def briefing_dashboard(run, data=None, lang: str = "zh", top: int = 10, home=None):
    """The briefing of ``run`` (:class:`BriefingView`), or a note naming the folder that is missing."""
    from workbench.briefing import Briefing

    try:
        return BriefingView(Briefing(run, data=data, home=home), lang=lang, top=top, carry=_carry())
    except WorkbenchError as e:
        return error_note(e, lang)


def prepare_briefing(top: int = 10, home=None) -> None:
    """Before the request (a preheated kernel, :func:`widgets.page.wait_for_page`): read the run
    ``workbench serve`` names and draw its briefing, every chart in both languages, for
    :func:`briefing_page` to show when the request asks for that run; nothing without one."""
    from workbench.briefing import Briefing

    from .page import keep, served_folders

    data, run = served_folders()
    if run is None:
        return
    view = BriefingView(Briefing(run, data=data, home=home), lang="zh", top=top)
    for lang in i18n.LANGS:
        for key in view.chart_titles:
            view.chart_svg(key, lang)
    keep(_page_key(run, data, home, top, {}), view)


def briefing_page(run, data=None, lang: str = "zh", top: int = 10, year: int = 0, period: str = "ytd",
                  number: int = 0, home=None):
    """The briefing dashboard: the run's briefing (:func:`briefing_dashboard`) above the period
    section (:func:`widgets.outcomes.period_dashboard`: ``year``, ``period`` and ``number`` pick it).

    When :func:`prepare_briefing` drew this run's briefing before the request, that one is shown,
    after checking the run folder is unchanged and reading the case store again.
    """
    from .outcomes import period_dashboard
    from .page import take

    data = data or None
    view = take(_page_key(run, data, home, top, _carry()))
    if view is not None and view.current():
        view.refresh_cases()  # decisions taken since it was drawn
        view.lang = lang
    else:
        view = briefing_dashboard(run, data=data, lang=lang, top=top, home=home)
    return W.VBox([view, period_dashboard(home=home, year=year, kind=period, number=number)])
