"""Make a CJK font available to matplotlib, once and silently.

Order of preference:

1. a Simplified-Chinese font already installed on the machine (Noto Sans CJK SC,
   Source Han Sans SC, WenQuanYi, Microsoft YaHei, PingFang SC, ...);
2. otherwise the subset of Noto Sans CJK SC that ships with the course in
   ``helpers/fonts/`` (SIL Open Font License, see ``helpers/fonts/OFL.txt``).

``font.family`` becomes the list ``["DejaVu Sans", <CJK family>]``: matplotlib
(>= 3.6) falls back glyph by glyph only between the families *listed in
font.family* (the generic ``"sans-serif"`` resolves to one single font), so
Latin letters and maths symbols (·, α, √, ᵀ) come from DejaVu Sans and Chinese
characters from the CJK font -- the same choice as ``helpers.plots``.  The CJK
family is also put first in ``font.sans-serif``.  No call here goes through
``findfont`` for a missing family, and a bold entry is registered for a CJK
font shipped in one weight, so no "findfont" or "Glyph missing" warning is
ever printed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib
from matplotlib import font_manager, ft2font

from . import validation as _v

__all__ = ["BUNDLED_FONT", "BUNDLED_FAMILY", "setup_cjk_font", "cjk_font_name", "cjk_font_path"]

BUNDLED_FONT = Path(__file__).with_name("fonts") / "NotoSansSC-Regular-subset.otf"

# Family name under which the bundled file is registered for ``prefer_system=False``.
# The file itself says "Noto Sans CJK SC", the same name as the system font, and
# matplotlib would then resolve the name to the system .ttc; a name of its own
# guarantees that the bundled file is the one used.
BUNDLED_FAMILY = "Noto Sans CJK SC (course subset)"

# Families known to cover Simplified Chinese, best first.
_SYSTEM_CANDIDATES = (
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
)

_state: dict = {}


def _weight(entry) -> int:
    w = entry.weight
    return int(w) if isinstance(w, (int, float)) else font_manager.weight_dict.get(str(w).lower(), 400)


def _is_regular(entry) -> bool:
    return entry.style == "normal" and _weight(entry) == 400


def _find_system_font():
    bundled = str(BUNDLED_FONT)
    by_name = {}
    for entry in font_manager.fontManager.ttflist:
        if entry.fname == bundled:
            continue
        # prefer the regular face's file (the one ordinary text is drawn with)
        if entry.name not in by_name or (_is_regular(entry) and not _is_regular(by_name[entry.name])):
            by_name[entry.name] = entry
    for name in _SYSTEM_CANDIDATES:
        if name in by_name:
            return name, by_name[name].fname
    return None


def _ensure_bold(name: str) -> None:
    """Give family ``name`` a bold entry if it has none (the regular file, drawn unbolded).

    Without it, bold text (``fontweight="bold"``) makes matplotlib log
    "findfont: Failed to find font weight bold ..." for a font shipped in one weight.
    """
    entries = [e for e in font_manager.fontManager.ttflist if e.name == name]
    if not entries or any(_weight(e) >= 600 for e in entries):
        return
    regular = next((e for e in entries if _is_regular(e)), entries[0])
    font_manager.fontManager.ttflist.append(dataclasses.replace(regular, weight=700))
    cached = getattr(font_manager.fontManager, "_findfont_cached", None)
    if hasattr(cached, "cache_clear"):
        cached.cache_clear()


def _register_bundled() -> str:
    """Add the bundled font to matplotlib (once); return the family name in the file."""
    if "bundled" not in _state:
        path = str(BUNDLED_FONT)
        entry = font_manager.ttfFontProperty(ft2font.FT2Font(path))
        font_manager.fontManager.ttflist.append(dataclasses.replace(entry, name=BUNDLED_FAMILY))
        font_manager.fontManager.addfont(path)  # also clears matplotlib's findfont cache
        _state["bundled"] = entry.name
    return _state["bundled"]


def setup_cjk_font(prefer_system: bool = True) -> str:
    """Configure matplotlib so that Chinese labels render; return the family used.

    Safe to call many times (the work is done once).

    Parameters
    ----------
    prefer_system : bool, default True
        Use an installed CJK font when there is one; ``False`` always uses the
        bundled font (identical rendering on every machine), registered under
        the family name :data:`BUNDLED_FAMILY`.

    Returns
    -------
    str
        The CJK family now second in ``font.family`` (after DejaVu Sans).
    """
    key = _v.check_bool(prefer_system, "prefer_system")
    if key not in _state:
        found = _find_system_font() if key else None
        if found is None:
            name = _register_bundled()
            found = (name if key else BUNDLED_FAMILY, str(BUNDLED_FONT))
        _ensure_bold(found[0])
        _state[key] = found
    _state["current"] = _state[key]
    name, _path = _state[key]
    rest = [f for f in matplotlib.rcParams["font.sans-serif"] if f not in (name, "DejaVu Sans")]
    matplotlib.rcParams["font.sans-serif"] = [name, "DejaVu Sans", *rest]
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", name]
    return name


def cjk_font_name() -> str:
    """Family name of the CJK font in use (sets it up if needed).

    Returns
    -------
    str
    """
    if "current" not in _state:
        return setup_cjk_font()
    return _state["current"][0]


def cjk_font_path() -> str:
    """File of the CJK font in use (sets it up if needed).

    Returns
    -------
    str
        Path of the font file (a system font or :data:`BUNDLED_FONT`).
    """
    if "current" not in _state:
        setup_cjk_font()
    return _state["current"][1]
