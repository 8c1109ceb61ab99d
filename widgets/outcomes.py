"""The briefing dashboard's period section: what enforcement achieved in a chosen period.

:class:`PeriodView` takes a :class:`workbench.cases.outcomes.Outcomes` and shows its figures for
the period the picker names — a year (全年), a quarter, a month or 1—N月 — as tiles and a table
by month; it computes nothing (:func:`workbench.cases.outcomes.period_range` turns the picker into
dates). Each tile carries its exact figure in ``data-figure`` / ``data-value``, as the briefing's
do. Only counts and money: no person.
"""
from __future__ import annotations

import datetime as _dt
import html

import ipywidgets as W
import traitlets as T

from workbench import i18n
from workbench.cases.outcomes import MONEY, ZH, period_range
from workbench.errors import WorkbenchError

TILES = ["inspected_institutions", "suspended_institutions", "terminated_institutions", "fined_institutions",
         "fine_amount", "recovered_amount", "exposed_cases", "referred_cases", "interviews", "open_cases",
         "overdue_rectifications"]
KIND_OPTIONS = [("全年", "year"), ("季度", "quarter"), ("月份", "month"), ("1—N月", "ytd")]
CSS = """<style>
.wb-period .wb-tiles { display: flex; flex-wrap: wrap; gap: 12px; margin: 10px 0; }
.wb-period .wb-tile { flex: 1 1 170px; background: #f3f6fa; border-radius: 10px; padding: 12px 16px; border-top: 5px solid #1f4e79; }
.wb-period .wb-tile b { display: block; font-size: 34px; color: #12365a; }
.wb-period .wb-tile span { font-size: 16px; color: #3e4c59; }
.wb-period table { border-collapse: collapse; font-size: 15px; }
.wb-period th { background: #1f4e79; color: #fff; padding: 5px 8px; }
.wb-period td { padding: 4px 8px; border-bottom: 1px solid #d9e2ec; text-align: right; }
.wb-period .wb-title { font-size: 22px; color: #12365a; font-weight: 600; }
</style>"""


def tiles_html(figs: dict) -> str:
    """The period's figures as tiles (``data-value`` exact: money in yuan with 2 decimals)."""
    out = []
    for k in TILES:
        shown = i18n.money(figs[k]) if k in MONEY else f"{figs[k]:,}"
        out.append(f"<div class='wb-tile' data-figure='{k}' data-value='{html.escape(str(figs[k]))}'>"
                   f"<b>{html.escape(shown)}</b><span>{html.escape(ZH[k].replace('（元）', ''))}</span></div>")
    return "<div class='wb-tiles'>" + "".join(out) + "</div>"


def months_html(rows) -> str:
    """The months of the period, one row each (flows in the month, states at its end)."""
    keys = ["inspected_institutions", "suspended_institutions", "fined_institutions", "fine_amount", "recovered_amount",
            "exposed_cases", "open_cases", "overdue_rectifications"]
    head = "<th>月份</th>" + "".join(f"<th>{html.escape(ZH[k])}</th>" for k in keys)
    body = "".join("<tr><td>" + html.escape(r["month"]) + "</td>"
                   + "".join(f"<td>{html.escape(f'{r[k]:,}')}</td>" for k in keys) + "</tr>" for r in rows)
    return f"<table data-rows='{len(rows)}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class PeriodView(W.VBox):
    """Pick a period; see what was inspected, suspended, fined, recovered, exposed in it.

    Parameters
    ----------
    outcomes : workbench.cases.outcomes.Outcomes
    year : int, optional
        Default: this year.
    kind : {'year', 'quarter', 'month', 'ytd'}
        Default ``ytd`` (1—N月, N this month).
    number : int, optional
        The quarter, month or N; default this month (its quarter for ``quarter``).
    today : str, optional
        The day "this year / month" refers to (default today).
    """

    year = T.Int(help="the period's year")
    kind = T.Enum(["year", "quarter", "month", "ytd"], "ytd", help="全年, 季度, 月份 or 1—N月")
    number = T.Int(1, help="the quarter (1-4), the month or N (1-12)")
    period = T.Unicode("", help="the period shown, in Chinese (2025年第一季度)")

    def __init__(self, outcomes, year=None, kind="ytd", number=None, today=None):
        self.outcomes = outcomes
        day = _dt.date.fromisoformat(today) if today else _dt.date.today()
        years = sorted(set(outcomes.years()) | {day.year}, reverse=True)
        self.year_box = W.Dropdown(options=[(f"{y}年", y) for y in years], value=int(year or day.year),
                                   layout=W.Layout(width="110px"))
        self.kind_box = W.Dropdown(options=KIND_OPTIONS, value=kind, layout=W.Layout(width="110px"))
        self.number_box = W.Dropdown(layout=W.Layout(width="120px"))
        for box, name in ((self.year_box, "year"), (self.kind_box, "kind"), (self.number_box, "number")):
            box.add_class(f"wb-period-{name}")
        self.title = W.HTML()
        self.tiles = W.HTML()
        self.months = W.HTML()
        super().__init__([W.HTML(CSS), W.HTML("<h2>执法成效 · 按期间统计</h2>"),
                          W.HBox([self.year_box, self.kind_box, self.number_box]), self.title, self.tiles, self.months])
        self.add_class("wb-period")
        self._today = day
        self._numbers(kind, number if number is not None else (day.month if kind != "quarter" else (day.month + 2) // 3))
        self.year, self.kind = self.year_box.value, kind
        self.number = self.number_box.value or 1
        T.link((self.year_box, "value"), (self, "year"))
        T.link((self.kind_box, "value"), (self, "kind"))
        self.number_box.observe(self._number_picked, "value")
        self._ready = True
        self.render()

    _ready = False

    def _numbers(self, kind, wanted):
        opts = {"year": [("—", 0)], "quarter": [(f"第{q}季度", q) for q in range(1, 5)],
                "month": [(f"{m}月", m) for m in range(1, 13)], "ytd": [(f"1—{m}月", m) for m in range(1, 13)]}[kind]
        values = [v for _, v in opts]
        self.number_box.options = opts
        self.number_box.value = wanted if wanted in values else values[0]
        self.number_box.disabled = kind == "year"

    def _number_picked(self, change):
        if change["new"]:
            self.number = change["new"]

    @T.observe("kind")
    def _kind_changed(self, change):
        if self._ready:
            self._ready = False
            self._numbers(change["new"], self.number)
            self.number = self.number_box.value or 1
            self._ready = True
            self.render()

    @T.observe("year", "number")
    def _changed(self, _):
        if self._ready:
            self.render()

    def render(self):
        """Figures of the period the picker names (an error is shown, never raised)."""
        try:
            lo, hi, name = period_range(self.year, self.kind, None if self.kind == "year" else self.number)
            figs = self.outcomes.figures(lo, hi)
            months = self.outcomes.by_month(lo, hi)
        except WorkbenchError as e:
            self.tiles.value = f"<p style='color:#b00020'>{html.escape(str(e))}</p>"
            return
        self.period = name
        self.title.value = (f"<div class='wb-title' data-from='{lo}' data-to='{hi}'>{html.escape(name)}"
                            f"（{html.escape(lo)} 至 {html.escape(hi)}）</div>")
        self.tiles.value = tiles_html(figs)
        self.months.value = months_html(months)


def period_dashboard(home=None, data=None, year=None, kind="ytd", number=None):
    """The period section of the briefing: every case of ``home`` (default ``$WORKBENCH_HOME``),
    placed in counties by ``data`` when given."""
    from workbench.period_briefing import outcomes_of

    try:
        return PeriodView(outcomes_of(home, data or None), year=year or None, kind=kind or "ytd", number=number or None)
    except WorkbenchError as e:
        return W.HTML(f"<p style='color:#b00020;font-size:18px'>{html.escape(str(e))}</p>")
