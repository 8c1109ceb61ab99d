"""The live 双随机 draw (摇号仪式): enter or import the seed, reveal stratum by stratum, publish.

The widget computes nothing: :func:`workbench.lottery.draw` makes the draw,
:func:`workbench.publication.reveal_groups` gives what each stratum reveals and
:func:`workbench.publication.publish` writes the notice. Observe ``revealed`` / ``stratum`` to
follow the ceremony and ``published`` for the files.
"""
from __future__ import annotations

import html

import ipywidgets as W
import traitlets as T

from workbench import lottery
from workbench.lottery import publication
from workbench.errors import WorkbenchError

_BIG = "font-size:30px;font-weight:bold;margin:6px 0"
_CELL = "border-bottom:1px solid #ddd;padding:8px 14px;font-size:24px;text-align:left"


class LotteryWidget(W.VBox):
    """A live draw on one data folder.

    Parameters
    ----------
    data : path
        Data folder with ``medins`` and ``inspector``.
    institutions, inspectors : int
        How many to draw.
    date : str, optional
        Date of the draw (default today).
    out : path
        Folder the notice is published to.
    seed : str
        Initial seed (the text box can change it; a file upload replaces it).
    names : bool
        Name the inspectors in the reveal and the notice.
    **options
        Passed to :func:`workbench.lottery.draw` (``strata``, ``ratios``, ``credit``,
        ``team_size``, ``exclude_own_county``).
    """

    seed = T.Unicode("", help="the public seed of the draw")
    revealed = T.Int(0, help="how many strata have been revealed")
    stratum = T.Unicode("", help="the stratum revealed last ('' before the first)")
    published = T.List(T.Unicode(), help="paths of the files the last publish wrote")

    def __init__(self, data, institutions, inspectors, *, date=None, out="lottery", seed="", names=False, **options):
        self.data, self.out, self.names = data, out, names
        self.draw_args = dict(institutions=institutions, inspectors=inspectors, date=date, **options)
        self.draw, self.groups = None, []
        self.seed_box = W.Text(description="随机种子", placeholder="输入或导入种子 seed",
                               layout=W.Layout(width="480px"), style={"description_width": "initial"})
        self.upload = W.FileUpload(accept=".txt", multiple=False, description="导入种子文件")
        self.draw_button = W.Button(description="抽签 draw", button_style="danger", icon="random")
        self.next_button = W.Button(description="下一组 next stratum", button_style="primary", disabled=True)
        self.publish_button = W.Button(description="公布 publish", button_style="success", disabled=True)
        self.stage = W.HTML()
        self.shown = W.HTML()
        self.status = W.HTML()
        super().__init__([W.HBox([self.seed_box, self.upload]),
                          W.HBox([self.draw_button, self.next_button, self.publish_button]),
                          self.stage, self.shown, self.status])
        T.link((self.seed_box, "value"), (self, "seed"))
        self.seed = seed
        self.upload.observe(self._on_upload, "value")
        self.observe(self._on_seed, "seed")
        self.draw_button.on_click(lambda _: self.make_draw())
        self.next_button.on_click(lambda _: self.next_stratum())
        self.publish_button.on_click(lambda _: self.publish())

    def _on_upload(self, change):
        if change["new"]:
            try:
                self.seed = lottery.seed_from_bytes(bytes(change["new"][0]["content"]))
            except (WorkbenchError, UnicodeDecodeError) as e:
                self._say(f"种子文件无法读取 cannot read the seed file: {e}", error=True)

    def _on_seed(self, _):
        # a new seed is a new draw: forget what was drawn and revealed
        self.draw, self.groups, self.revealed, self.stratum = None, [], 0, ""
        self.stage.value = self.shown.value = ""
        self.next_button.disabled = self.publish_button.disabled = True

    def _say(self, text, error=False):
        color = "#b8202a" if error else "#1d2129"
        self.status.value = f'<div style="color:{color};font-size:16px">{html.escape(text)}</div>'

    def make_draw(self):
        """Draw with the current seed; the stage then invites the first reveal."""
        try:
            self.draw = lottery.draw(self.data, self.seed, **self.draw_args)
            self.groups = publication.reveal_groups(self.draw, self.data, names=self.names)
        except WorkbenchError as e:
            self.draw, self.groups = None, []
            self._say(str(e), error=True)
            return
        self.revealed, self.stratum, self.shown.value = 0, "", ""
        n = len(self.draw.drawn_institutions)
        self.stage.value = (f'<div style="{_BIG}">随机种子 <code>{html.escape(self.seed)}</code></div>'
                            f'<div style="font-size:24px">共 {len(self.groups)} 组 · {n} 家机构 · '
                            f'{len(self.draw.drawn_inspectors)} 名执法人员 — 请点击“下一组”逐组揭晓</div>')
        self.next_button.disabled = not self.groups
        self.publish_button.disabled = False
        self._say(f"抽签完成 draw made: {self.draw.date}, sha256 {self.draw.sha256[:12]}…")

    def next_stratum(self):
        """Reveal the next stratum's institutions and their teams (draws first if needed)."""
        if self.draw is None:
            self.make_draw()
            if self.draw is None:
                return
        if self.revealed >= len(self.groups):
            return
        g = self.groups[self.revealed]
        people = [publication.NAMES, "执法单位"] if self.names else ["执法人员编号", "执法单位"]
        rows = "".join(
            f'<tr><td style="{_CELL}">{html.escape(r["机构编码"])}</td><td style="{_CELL}">{html.escape(r["机构名称"])}</td>'
            f'<td style="{_CELL}">{html.escape(r["检查组"])}：{html.escape(r[people[0]].replace(";", "、"))}'
            f'<br><small>{html.escape(r[people[1]].replace(";", "、"))}</small></td></tr>'
            for r in g["rows"].to_dict("records"))
        self.stage.value = (f'<div style="{_BIG}">第 {self.revealed + 1} / {len(self.groups)} 组：{html.escape(g["title"])}</div>'
                            f'<table style="border-collapse:collapse">{rows}</table>')
        self.shown.value += f'<div style="font-size:15px;color:#4e5969">✓ {html.escape(g["title"])}：' \
                            f'{html.escape("、".join(g["rows"]["机构编码"]))}</div>'
        self.revealed += 1
        self.stratum = g["stratum"]
        self.next_button.disabled = self.revealed >= len(self.groups)

    def publish(self):
        """Write the notice (HTML, CSV, DRAW.json, verify_draw.py) to ``out`` and show the paths."""
        if self.draw is None:
            self.make_draw()
            if self.draw is None:
                return
        try:
            paths = publication.publish(self.draw, self.data, self.out, names=self.names)
        except (WorkbenchError, OSError) as e:
            self._say(f"公布失败 publish failed: {e}", error=True)
            return
        self.published = [str(p) for p in paths.values()]
        self.status.value = "<div style='font-size:16px'>已公布 published:<br>" + "<br>".join(
            f"<code>{html.escape(p)}</code>" for p in self.published) + "</div>"


def lottery_dashboard(data, institutions: int = 20, inspectors: int = 10, date=None, out="lottery", seed: str = "",
                      names: bool = False, **options) -> LotteryWidget:
    """The lottery dashboard: the live draw on ``data`` (nothing is drawn until the button is
    pressed: :meth:`LotteryWidget.make_draw` calls :func:`workbench.lottery.draw`)."""
    return LotteryWidget(data, institutions, inspectors, date=date or None, out=out, seed=seed, names=names, **options)
