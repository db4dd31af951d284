"""Make a CJK font available to matplotlib, once and silently.

Order of preference:

1. a Simplified-Chinese font already installed on the machine (Noto Sans CJK SC,
   Source Han Sans SC, WenQuanYi, Microsoft YaHei, PingFang SC, ...);
2. otherwise the subset of Noto Sans CJK SC that ships with the course in
   ``helpers/fonts/`` (SIL Open Font License, see ``helpers/fonts/OFL.txt``).

The chosen family is put first in ``font.sans-serif`` with DejaVu Sans after
it, so Latin letters and maths symbols missing from the CJK font fall back to
DejaVu (matplotlib >= 3.6 does per-glyph fallback).  No call here goes through
``findfont`` for a missing family, so no "findfont" or "Glyph missing" warning
is ever printed.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
from matplotlib import font_manager

__all__ = ["BUNDLED_FONT", "setup_cjk_font", "cjk_font_name", "cjk_font_path"]

BUNDLED_FONT = Path(__file__).with_name("fonts") / "NotoSansSC-Regular-subset.otf"

# Families known to cover Simplified Chinese, best first.
_SYSTEM_CANDIDATES = [
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "SimHei",
    "Droid Sans Fallback",
]

_state: dict = {}


def _find_system_font():
    by_name = {}
    for entry in font_manager.fontManager.ttflist:
        by_name.setdefault(entry.name, entry.fname)
    for name in _SYSTEM_CANDIDATES:
        if name in by_name:
            return name, by_name[name]
    return None


def setup_cjk_font(prefer_system: bool = True) -> str:
    """Configure matplotlib so that Chinese labels render; return the family used.

    Safe to call many times (the work is done once).

    Parameters
    ----------
    prefer_system : bool, default True
        Use an installed CJK font when there is one; ``False`` always uses the
        bundled font (identical rendering on every machine).
    """
    key = bool(prefer_system)
    if key not in _state:
        found = _find_system_font() if prefer_system else None
        if found is None:
            font_manager.fontManager.addfont(str(BUNDLED_FONT))
            name = font_manager.FontProperties(fname=str(BUNDLED_FONT)).get_name()
            found = (name, str(BUNDLED_FONT))
        _state[key] = found
    name, _path = _state[key]
    families = [name] + [f for f in matplotlib.rcParams["font.sans-serif"] if f != name]
    if "DejaVu Sans" in families:
        families.remove("DejaVu Sans")
    matplotlib.rcParams["font.sans-serif"] = [name, "DejaVu Sans"] + families[1:]
    matplotlib.rcParams["font.family"] = "sans-serif"
    return name


def cjk_font_name() -> str:
    """Family name of the CJK font in use (sets it up if needed)."""
    return setup_cjk_font()


def cjk_font_path() -> str:
    """File of the CJK font in use (sets it up if needed)."""
    setup_cjk_font()
    return _state[True][1] if True in _state else _state[False][1]
