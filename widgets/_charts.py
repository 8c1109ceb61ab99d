"""Small helpers the chart widgets share: a figure as SVG, and "is this value missing".

Charts are vector (SVG) so that they stay sharp on a projector or a high-density screen at any
size. Text is written as outlines (matplotlib's ``svg.fonttype = "path"``): the Chinese labels
keep the CJK font :func:`widgets._fonts.use_cjk_font` chose on the server, whatever fonts the
viewer's browser has. No date in the file: the same figure gives the same bytes.
"""
from __future__ import annotations

import io

import pandas as pd

SVG_FORMAT = "svg+xml"  # ipywidgets.Image(format=...) for image/svg+xml
PALETTE = {"blue": "#1f4e79", "red": "#c0392b", "grey": "#8c99a6", "ink": "#1b2733"}


def svg(fig) -> bytes:
    """The figure as SVG bytes (text as outlines), cropped to what is drawn."""
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "workbench"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buf.getvalue()


def is_svg(value: bytes) -> bool:
    """True when ``value`` is an SVG document (as :func:`svg` writes)."""
    head = bytes(value[:400])
    return head.startswith(b"<?xml") and b"<svg" in head


def missing(v) -> bool:
    """True for None, NaN, NaT and pandas' NA; False for anything else (lists included)."""
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def set_image(image, value: bytes) -> None:
    """Show a chart in an ``ipywidgets.Image``, or hide the widget when there is none (an empty
    Image draws as a broken-image icon in the browser)."""
    image.value = value
    image.layout.display = "" if value else "none"
