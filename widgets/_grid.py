"""A list as a data grid (``ipydatagrid.DataGrid``): sort and filter by any column, every row reachable.

The ring list, the provider ranking and the case worklist are grids like the findings queue's:
the frame's index is the row's key (``ring_id``, ``fixmedins_code``, ``case_id``), shown as the
row header; a column header's menu sorts and filters in the browser, which reports the rows'
new order back (``_visible_rows``). :class:`KeyedGrid` turns a clicked row into its key, whatever
the order, and highlights the row of a key chosen elsewhere (a dropdown, a scatter point, a URL).

Not ipydatagrid's StreamingDataGrid: in 1.4.0 its browser side fails on cell clicks (see
``widgets.findings._grid``).
"""
from __future__ import annotations

import ipywidgets as W
import pandas as pd
import traitlets as T

ROW, HEADER, COLUMN, ROW_HEADER = 30, 34, 110, 150  # pixels (browser tests click by them)
SCROLLBAR = 26  # room under the rows for the grid's horizontal scroll bar
FONT = "15px 'Noto Sans CJK SC', 'WenQuanYi Zen Hei', sans-serif"  # legible on a projector
HEADER_BACKGROUND = "#e4ebf2"


MISSING = "—"  # a number the data does not have (a float column's NaN reaches the browser as NaN)


def missing_as_dash(fmt: str) -> str:
    """The Vega expression a number column's cells are written with: the d3 format ``fmt``, or a
    dash for a missing value (the grid's own formatter writes NaN as "NaN")."""
    if "'" in fmt or "\\" in fmt:
        raise ValueError(f"not a d3 number format: {fmt!r}")
    return f"isValid(cell.value) ? format(cell.value, '{fmt}') : '{MISSING}'"


def data_grid(frame: pd.DataFrame, rows: int = 12, widths: dict | None = None, formats: dict | None = None,
              row_background=None):
    """A grid holding ``frame``, one row selected at a time.

    Parameters
    ----------
    frame : pandas.DataFrame
        Index: the rows' keys (named); columns as shown.
    rows : int
        Rows visible at once (the grid scrolls through the rest).
    widths : dict, optional
        Column name -> pixels.
    formats : dict, optional
        Column name -> d3 format of a number column (``",.2f"`` for money), right-aligned.
    row_background : str, optional
        A Vega expression giving each cell's background (e.g. overdue rows in red).
    """
    from ipydatagrid import DataGrid, TextRenderer, VegaExpr

    background = {} if row_background is None else {"background_color": VegaExpr(row_background)}
    renderers = {c: TextRenderer(format=f, text_value=VegaExpr(missing_as_dash(f)), horizontal_alignment="right",
                                 font=FONT, **background)
                 for c, f in (formats or {}).items()}
    return DataGrid(frame, selection_mode="row", base_row_size=ROW, base_column_size=COLUMN,
                    base_row_header_size=ROW_HEADER, base_column_header_size=HEADER,
                    default_renderer=TextRenderer(font=FONT, **background),
                    header_renderer=TextRenderer(font="bold " + FONT, background_color=HEADER_BACKGROUND),
                    renderers=renderers, column_widths=dict(widths or {}),
                    layout=W.Layout(width="100%", height=f"{HEADER + ROW * max(1, min(rows, len(frame))) + SCROLLBAR}px"))


class KeyedGrid(W.VBox):
    """A data grid whose selected row is a key (``selected``), in whatever order the grid shows.

    Parameters
    ----------
    frame : pandas.DataFrame
        Index: the keys; see :func:`data_grid` for the other parameters.
    """

    selected = T.Unicode("", help="key (index value) of the row selected, '' for none")

    def __init__(self, frame: pd.DataFrame, rows: int = 12, widths=None, formats=None, row_background=None, **kw):
        self.frame = frame
        self._rows, self._widths, self._formats, self._background = rows, widths, formats, row_background
        self.grid = data_grid(frame, rows, widths, formats, row_background)
        super().__init__([self.grid], **kw)
        self.add_class("wb-grid")
        self.grid.observe(self._picked, "selections")
        self.grid.observe(self._reordered, ["_transforms", "_visible_rows"])

    def set_frame(self, frame: pd.DataFrame):
        """Show other rows (the same columns); the selection stays on its key when still listed."""
        self.frame = frame
        with self.grid.hold_sync():  # rows and selection reach the browser in one message
            self.grid.selections = []
            self.grid._visible_rows = []  # the browser sends the new order when it sorts or filters
            self.grid.data = frame
            self.grid.layout.height = f"{HEADER + ROW * max(1, min(self._rows, len(frame))) + SCROLLBAR}px"
        if self.selected in frame.index:
            self._highlight()
        else:
            self.selected = ""

    def visible(self) -> pd.DataFrame:
        """The rows as the grid shows them now (after its own sort and filter, if any)."""
        order = self.grid._visible_rows
        return self.frame.iloc[order] if order and self.grid._transforms else self.frame

    def listed(self) -> list:
        """The keys in the grid's order now."""
        return [str(k) for k in self.visible().index]

    def _picked(self, change):
        picked = change["new"] or []
        if not picked:
            return
        last = picked[-1]
        if last["r1"] != last["r2"]:
            return  # a header click selects a whole column: no one row
        keys = self.visible().index
        if 0 <= last["r1"] < len(keys):
            self.selected = str(keys[last["r1"]])

    def _reordered(self, change):
        # the rows moved: the highlight follows the key selected
        if self.selected and self.selected in self.visible().index:
            self._highlight()
        elif self.grid.selections:
            self.grid.clear_selection()

    @T.observe("selected")
    def _selected_changed(self, change):
        if change["new"]:
            self._highlight()
        elif self.grid.selections:
            self.grid.clear_selection()

    def _highlight(self):
        keys = self.visible().index
        if self.selected not in keys:
            return
        r = int(keys.get_loc(self.selected))
        s = self.grid.selections
        if s and s[-1]["r1"] == r and s[-1]["r2"] == r:
            return  # already shown
        self.grid.select(r, 0, r, max(len(self.frame.columns) - 1, 0), clear_mode="all")
