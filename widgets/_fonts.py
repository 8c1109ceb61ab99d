"""Chinese chart labels: point matplotlib at a CJK font, shared by every widget.

``fonts-noto-cjk`` (installed by ``scripts/system-deps.sh``) provides "Noto Sans CJK SC";
"WenQuanYi Zen Hei" is the other common Linux CJK font. Without either, labels fall back to
DejaVu Sans and Chinese characters show as boxes (matplotlib warns about missing glyphs).
"""
from __future__ import annotations

import glob

CJK_FAMILIES = ["Noto Sans CJK SC", "WenQuanYi Zen Hei", "DejaVu Sans"]
# Where Debian's packages put those fonts, for a matplotlib font cache built before they came.
_CJK_FILES = ["/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"]
SAMPLE = "分解住院医院机构天数"


def _known_families() -> set:
    from matplotlib import font_manager

    return {f.name for f in font_manager.fontManager.ttflist}


def use_cjk_font() -> str | None:
    """Configure matplotlib's sans-serif family with :data:`CJK_FAMILIES` first.

    Fonts installed after matplotlib built its font cache are added by file. Returns the CJK
    family that will be used, or None when no CJK font is installed.
    """
    import matplotlib
    from matplotlib import font_manager

    known = _known_families()
    if not any(f in known for f in CJK_FAMILIES[:-1]):
        for pattern in _CJK_FILES:
            for path in glob.glob(pattern):
                font_manager.fontManager.addfont(path)
        known = _known_families()
    present = [f for f in CJK_FAMILIES if f in known]
    rest = [f for f in matplotlib.rcParams["font.sans-serif"] if f not in present]
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = present + rest
    matplotlib.rcParams["axes.unicode_minus"] = False  # CJK fonts often lack U+2212
    cjk = [f for f in present if f != "DejaVu Sans"]
    return cjk[0] if cjk else None


def has_glyphs(family: str, text: str = SAMPLE) -> bool:
    """True when the font matplotlib finds for ``family`` draws every character of ``text``."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    try:
        path = font_manager.findfont(family, fallback_to_default=False)
    except ValueError:
        return False
    font = FT2Font(path)
    return all(font.get_char_index(ord(ch)) != 0 for ch in text)
