"""Small helpers the chart widgets share: a figure as PNG bytes, and "is this value missing"."""
from __future__ import annotations

import io

import pandas as pd


def png(fig, dpi: int = 90) -> bytes:
    """The figure as PNG bytes, cropped to what is drawn."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def missing(v) -> bool:
    """True for None, NaN, NaT and pandas' NA; False for anything else (lists included)."""
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def set_image(image, value: bytes) -> None:
    """Show a PNG in an ``ipywidgets.Image``, or hide the widget when there is none (an empty
    Image draws as a broken-image icon in the browser)."""
    image.value = value
    image.layout.display = "" if value else "none"
