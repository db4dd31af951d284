"""HTML/SVG building blocks shared by every live panel of :mod:`helpers.widgets`.

Everything here returns a plain string (or is the panel base class), so a panel
updates by assigning one string to an :class:`ipywidgets.HTML` value — no
matplotlib redraw.  New panel modules (e.g. a multi-head panel) should build
on these instead of copying them:

Colours and numbers
    :func:`color_lut`       256-step hex colours (and matching text colours) of a matplotlib colour map
    :func:`color_index`     values → LUT indices on a fixed range (NaN → 0, ±inf clipped)
    :func:`weight_colors`   CSS colours of weights on the fixed 0–1 range (``plots.WEIGHTS_CMAP``)
    :func:`signed_colors`   CSS colours of signed values on ±limit (``plots.DIVERGING_CMAP``)
    :data:`HEAD_COLORS`, :func:`head_color`   one colour per attention head (no orange: that marks a
                            selected query, ``plots.HIGHLIGHT_COLOR``)
    :func:`fmt_num`         fixed-decimal number like the figures' annotations ("-0.00" → "0.00")
    :func:`vec_text`        "[a, b, c]" of a vector
    :func:`esc`             HTML/SVG escaping of any text put into a page (quotes too; control characters
                            written as ``\\x1b`` so the page stays well-formed XML) — use it for
                            every token or label string
    :func:`visible_text`    the same control characters as ``\\x1b`` text, for matplotlib labels
    :data:`FONT_STACK`      CSS font stack: Latin/maths glyphs first, then CJK fonts
Pictures
    :func:`heatmap_html`    HTML-table heatmap matching :func:`helpers.plots.attention_heatmap`
    :func:`colorbar_html`   vertical colour bar for a heatmap
    :func:`bars_svg`        small bar chart (SVG)
    :func:`hist_svg`        density histogram on a fixed x range (SVG)
    :func:`nice_ticks`, :func:`tick_label`   axis ticks for the SVG charts
Layout and panels
    :func:`row_html`        wrap pictures side by side (flex row that wraps)
    :class:`Panel`          ``ipywidgets.VBox`` base class: title, controls, ``view``, ``readout``,
                            ``values``, ``refresh()``; ``_watch(*controls)`` wires controls to
                            ``refresh``; ``with self._quiet():`` sets several controls with one refresh
    :func:`slider_layout`, :data:`SLIDER_STYLE`   common slider width / description width
"""

from __future__ import annotations

import html
import re
from contextlib import contextmanager
from functools import lru_cache

import ipywidgets as W
import matplotlib
from types import MappingProxyType

import numpy as np
from matplotlib import colors as mcolors

from .. import plots
from .. import validation as _v

# The three picture builders are the public part; the rest (colour tables, formatting, layout) are the
# panels' internal building blocks, importable by name but not checked against every bad input.
__all__ = ["FONT_STACK", "heatmap_html", "bars_svg", "hist_svg", "Panel", "SLIDER_STYLE", "HEAD_COLORS"]

# Latin letters, digits and maths symbols first (a CJK font draws "·" full width), then CJK fonts;
# browsers fall back glyph by glyph, like the static figures (DejaVu Sans + the CJK font).
FONT_STACK = ("'DejaVu Sans','Helvetica Neue',Arial,'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC',"
              "'PingFang SC','Microsoft YaHei','WenQuanYi Micro Hei',sans-serif")

#: One colour per attention head (cycled when there are more heads); no orange, which marks a selected query.
HEAD_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#e377c2", "#7f7f7f",
               "#bcbd22")


def head_color(h: int) -> str:
    """CSS colour of head ``h`` (0-based), the same in live panels and static figures."""
    return HEAD_COLORS[int(h) % len(HEAD_COLORS)]


# ---------------------------------------------------------------------------
# colour look-up tables (same colour maps as the static figures)
# ---------------------------------------------------------------------------

def _check_cmap(name) -> str:
    if not isinstance(name, str) or name not in matplotlib.colormaps:
        raise ValueError(f"cmap must be the name of a matplotlib colour map (e.g. 'Blues'), got {name!r:.40}")
    return name


@lru_cache(maxsize=16)
def color_lut(cmap_name: str):
    cmap = matplotlib.colormaps[cmap_name]
    rgba = cmap(np.linspace(0, 1, 256))
    hexes = tuple(mcolors.to_hex(c) for c in rgba)
    text = tuple(plots.text_color_for(c) for c in rgba)
    return hexes, text


def color_index(values, vmin, vmax) -> np.ndarray:
    t = (np.asarray(values, dtype=float) - vmin) / (vmax - vmin)
    t = np.nan_to_num(t, nan=0.0, posinf=1.0, neginf=0.0)
    return np.clip(np.rint(t * 255), 0, 255).astype(int)


# Characters XML forbids even when escaped (C0 controls other than tab/newline/CR, and U+FFFE/U+FFFF),
# plus DEL: one of them in a token made an exported .svg "not well-formed"; they are written as the
# visible text \x1b (how Python shows them), which every font can draw.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _control_text(m) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def visible_text(s: str) -> str:
    """``s`` with every control character (see above) written as ``\\xNN`` text (for pages and figures)."""
    return _CONTROL_CHARS.sub(_control_text, s)


def esc(s) -> str:
    return visible_text(html.escape(str(s), quote=True))


def fmt_num(v: float, digits: int) -> str:
    return plots._fmt_value(v, f".{digits}f")  # "-0.00" -> "0.00", like the figures' annotations


def colorbar_html(cmap_name, vmin, vmax, label, height_px, ticks=None):
    hexes, _ = color_lut(cmap_name)
    stops = ",".join(hexes[i] for i in range(255, -1, -32)) + "," + hexes[0]
    if ticks is None:
        ticks = np.linspace(vmin, vmax, 5)
    tick_html = []
    for t in ticks:
        frac = (t - vmin) / (vmax - vmin)
        top = (1 - frac) * height_px
        tick_html.append(
            f'<div style="position:absolute;left:18px;top:{top - 7:.1f}px;font-size:11px;line-height:14px;'
            f'white-space:nowrap">– {fmt_num(t, 2 if abs(vmax - vmin) < 10 else 0)}</div>')
    return (
        f'<div style="display:flex;align-items:center;margin-left:12px">'
        f'<div style="position:relative;width:64px;height:{height_px}px">'
        f'<div style="position:absolute;left:0;top:0;width:16px;height:{height_px}px;'
        f'background:linear-gradient({stops});border:1px solid #ccc;box-sizing:border-box"></div>'
        + "".join(tick_html) +
        f'</div><div style="writing-mode:vertical-rl;text-orientation:sideways;font-size:12px;margin-left:2px;'
        f'white-space:nowrap">{esc(label)}</div></div>'
    )


def _check_label_counts(A, row_labels, col_labels) -> None:
    """One row label per row of M and one column label per column (a 1-D M is drawn as one row)."""
    for labels, axis, name, what in ((row_labels, 0, "row_labels", "rows"), (col_labels, 1, "col_labels", "columns")):
        one_d = isinstance(labels, (list, tuple, range)) or isinstance(labels, np.ndarray) and labels.ndim == 1
        if one_d and len(labels) != A.shape[axis]:
            raise ValueError(f"M has {A.shape[axis]} {what} (drawn as shape {A.shape}; a 1-D M is one row) "
                             f"but {name} has {len(labels)} entries")


def heatmap_html(M, row_labels, col_labels, *, cmap=None, vmin=0.0, vmax=1.0, annotate="auto",
                 mask=None, highlight_row=None, title=None, digits=2, cell_px=None,
                 xlabel=plots.KEY_AXIS_LABEL, ylabel=plots.QUERY_AXIS_LABEL,
                 colorbar_label=plots.WEIGHT_LABEL, colorbar=True) -> str:
    """HTML table heatmap that looks like :func:`helpers.plots.attention_heatmap`.

    Rows = queries, columns = keys, same colour map and range, masked cells
    grey + hatched, highlighted row outlined in :data:`helpers.plots.HIGHLIGHT_COLOR`.
    Input is checked with the same rules (and messages) as the static heatmap.

    Parameters
    ----------
    M : array_like, shape (n_q, n_k) or (n_k,)
    row_labels, col_labels : sequence of str (or numbers; a list, tuple, range or 1-D array)
    cmap : str, optional
        Colour-map name (default :data:`helpers.plots.WEIGHTS_CMAP`).
    vmin, vmax : float
        Colour range.
    annotate : bool or "auto"
    mask : bool array broadcastable to M's shape, optional
        ``False`` = blocked (drawn grey and hatched, not annotated).  When M holds
        attention-weight rows (non-negative, each row summing to 1, or to 0 when
        fully masked) it must be 0 at every blocked cell, whatever the colour range
        (``ValueError`` otherwise, naming the cell), as in
        :func:`helpers.plots.attention_heatmap`: the hatch must not hide the weight
        of a mask that was drawn but never applied.  Any other M (e.g. scores
        before masking) may hold any value at blocked cells.
    highlight_row : int, optional
    title : str, optional
    digits : int, default 2
        Decimals of the annotations.
    cell_px : int, optional
        Cell size in pixels (default depends on the matrix size).
    xlabel, ylabel, colorbar_label : str
    colorbar : bool, default True

    Returns
    -------
    str
        HTML for an :class:`ipywidgets.HTML` value.
    """
    # same input rules and error messages as the static heatmap
    A = plots._as_matrix(M, "M")
    n_rows, n_cols = A.shape
    _check_label_counts(A, row_labels, col_labels)
    row_labels = plots._labels(row_labels, n_rows, "row_labels", "q")
    col_labels = plots._labels(col_labels, n_cols, "col_labels", "k")
    vmin, vmax = _v.check_range(vmin, vmax, max_abs=plots.COLOUR_MAX_ABS)
    digits = _v.check_int(digits, "digits", low=0, high=12)
    if cell_px is not None:
        cell_px = _v.check_positive_int(cell_px, "cell_px", max_value=200)
    for nm, txt in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel), ("colorbar_label", colorbar_label)):
        if txt is not None:
            _v.check_text(txt, nm, allow_empty=True)
    colorbar = _v.check_bool(colorbar, "colorbar")
    cmap_name = _check_cmap(cmap or plots.WEIGHTS_CMAP)
    hexes, texts = color_lut(cmap_name)
    idx = color_index(A, vmin, vmax)
    blocked = None
    if mask is not None:
        allowed = _v.as_mask(mask, A.shape, what="weights")
        # weight rows (whatever the colour range): the hatch must not hide weight at a blocked cell
        _v.check_mask_hides_no_weight(A, allowed, "M" if np.ndim(M) == 2 else "M (drawn as one row)")
        blocked = ~np.broadcast_to(allowed, A.shape)
    highlight_row = plots._check_row(highlight_row, n_rows)
    do_ann = plots._check_annotate(annotate, n_rows, n_cols)
    if cell_px is None:
        cell_px = 46 if max(n_rows, n_cols) <= plots.ANNOTATE_MAX else max(12, min(30, 560 // max(n_rows, n_cols)))
    fs_lab = 13 if max(n_rows, n_cols) <= 12 else 11
    hl = plots.HIGHLIGHT_COLOR
    parts = [f'<div style="font-family:{FONT_STACK};color:#222;display:inline-flex;align-items:center">']
    if ylabel:
        parts.append(f'<div style="writing-mode:vertical-rl;text-orientation:sideways;transform:rotate(180deg);'
                     f'font-size:12px;margin-right:4px;white-space:nowrap">{esc(ylabel)}</div>')
    parts.append('<table style="border-collapse:collapse;border-spacing:0;table-layout:fixed">')
    if title:
        parts.append(f'<caption style="font-weight:600;padding:2px 0 6px {cell_px // 2 + 20}px;white-space:nowrap">'
                     f'{esc(title)}</caption>')
    cell_base = (f"width:{cell_px}px;min-width:{cell_px}px;height:{cell_px}px;padding:0;text-align:center;"
                 f"font-size:{12 if cell_px >= 32 else 10}px;")   # "0.00" at 12 px is 27 px wide
    rows_esc, cols_esc = [esc(t) for t in row_labels], [esc(t) for t in col_labels]  # once, not per cell
    for i in range(n_rows):
        parts.append("<tr>")
        parts.append(f'<th style="text-align:right;font-weight:normal;font-size:{fs_lab}px;padding:0 6px 0 0;'
                     f'white-space:nowrap">{rows_esc[i]}</th>')
        row_hl = highlight_row is not None and i == highlight_row
        for j in range(n_cols):
            style = cell_base
            if blocked is not None and blocked[i, j]:
                style += (f"background:repeating-linear-gradient(135deg,{plots.MASK_COLOR} 0 4px,"
                          f"{plots.MASK_HATCH_COLOR} 4px 5px);")
                txt = ""
            else:
                k = idx[i, j]
                style += f"background:{hexes[k]};color:{texts[k]};"
                txt = fmt_num(A[i, j], digits) if do_ann else ""
            if row_hl:
                style += f"border-top:3px solid {hl};border-bottom:3px solid {hl};"
                if j == 0:
                    style += f"border-left:3px solid {hl};"
                if j == n_cols - 1:
                    style += f"border-right:3px solid {hl};"
            parts.append(f'<td style="{style}" title="{rows_esc[i]} → {cols_esc[j]}: '
                         f'{A[i, j]:.4f}">{txt}</td>')
        parts.append("</tr>")
    # column labels at the bottom (like matplotlib's x ticks)
    vertical = plots._vertical_col_labels(col_labels)
    parts.append("<tr><th></th>")
    for t in cols_esc:
        if vertical:
            parts.append(f'<th style="font-weight:normal;font-size:{fs_lab}px;vertical-align:top;padding-top:4px">'
                         f'<div style="writing-mode:vertical-rl;margin:auto">{t}</div></th>')
        else:
            parts.append(f'<th style="font-weight:normal;font-size:{fs_lab}px;padding-top:4px;'
                         f'white-space:nowrap">{t}</th>')
    parts.append("</tr>")
    parts.append(f'<tr><th></th><th colspan="{n_cols}" style="font-weight:normal;font-size:12px;'
                 f'padding-top:2px">{esc(xlabel)}</th></tr>')
    parts.append("</table>")
    if colorbar:
        parts.append(colorbar_html(cmap_name, vmin, vmax, colorbar_label,
                                    max(60, min(n_rows * cell_px, 300))))
    parts.append("</div>")
    return "".join(parts)


# ---------------------------------------------------------------------------
# SVG charts
# ---------------------------------------------------------------------------

def nice_ticks(lo, hi, n=5):
    from matplotlib.ticker import MaxNLocator
    ticks = MaxNLocator(nbins=n).tick_values(lo, hi)
    return [t for t in ticks if lo - 1e-9 <= t <= hi + 1e-9]


def tick_label(t):
    if abs(t) < 1e-12:
        return "0"
    if abs(t) >= 10 or float(t).is_integer():
        return f"{t:.0f}"
    return f"{t:.3g}"


def bars_svg(values, labels, *, vmin=None, vmax=None, colors=None, title=None, digits=4,
             width=300, height=210, ylabel=None, show_values=True, xlabel=None) -> str:
    """A small vertical bar chart as an inline SVG string (zero baseline, value labels).

    Parameters
    ----------
    values : array_like, shape (n,)
    labels : sequence of str
        One per bar.
    vmin, vmax : float, optional
        Fixed y range (default: the data and 0, with some padding); it must include 0
        (``vmin <= 0 <= vmax``), the baseline the bars are drawn from.
    colors : sequence of str, optional
        One CSS colour per bar (default :data:`helpers.plots.ACCENT_COLOR`).
    title, ylabel, xlabel : str, optional
    digits : int, default 4
        Decimals of the value labels.
    width, height : int
        Size in pixels.
    show_values : bool, default True
        Value labels (only drawn for at most 16 bars).

    Returns
    -------
    str
        ``<svg>…</svg>``.
    """
    vals = _v.as_real_array(values, "values")
    _v.check_ndim(vals, "values", 1, "(n,) — one value per bar")
    n = len(vals)
    labels = _v.check_labels(labels, n, "labels")
    if colors is not None:
        colors = [_v.check_css_color(c, f"colors[{i}]") for i, c in enumerate(_v.check_labels(colors, n, "colors"))]
    digits = _v.check_int(digits, "digits", low=0, high=12)
    width = _v.check_positive_int(width, "width", max_value=4000)
    height = _v.check_positive_int(height, "height", max_value=4000)
    show_values = _v.check_bool(show_values, "show_values")
    for nm, txt in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel)):
        if txt is not None:
            _v.check_text(txt, nm, allow_empty=True)
    limit = plots.COLOUR_MAX_ABS  # a y range beyond it would overflow (hi - lo)
    if vmin is not None and vmax is not None:
        vmin, vmax = _v.check_range(vmin, vmax, max_abs=limit)
    lo = min(0.0, float(vals.min())) if vmin is None else _v.check_number_in(vmin, "vmin", -limit, limit)
    hi = max(0.0, float(vals.max())) if vmax is None else _v.check_number_in(vmax, "vmax", -limit, limit)
    _v.check_range_has_zero(lo, hi)  # a default end is 0 or beyond it, so only a given vmin / vmax can fail
    if hi - lo < 1e-12:
        hi = lo + 1.0
    pad = 0.12 * (hi - lo)
    lo_p, hi_p = (lo - pad if lo < 0 and vmin is None else lo), (hi + pad if vmax is None else hi * 1.08 + 0.0)
    left, right, top, bottom = 44, 8, 26 if title else 10, 40 if xlabel else 26
    pw, ph = width - left - right, height - top - bottom

    def y(v):
        return top + (hi_p - v) / (hi_p - lo_p) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'style="font-family:{FONT_STACK};font-size:11px">']
    if title:
        out.append(f'<text x="{left + pw / 2:.1f}" y="16" text-anchor="middle" font-size="13" '
                   f'font-weight="600">{esc(title)}</text>')
    for t in nice_ticks(lo_p, hi_p):
        yy = y(t)
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 4}" y="{yy + 4:.1f}" text-anchor="end" fill="#555">{tick_label(t)}</text>')
    slot = pw / n
    bw = slot * 0.7
    y0 = y(0.0)  # the zero baseline (lo_p <= 0 <= hi_p)
    for i, v in enumerate(vals):
        x = left + i * slot + (slot - bw) / 2
        yv = y(min(max(v, lo_p), hi_p))
        color = colors[i] if colors is not None else plots.ACCENT_COLOR
        out.append(f'<rect x="{x:.1f}" y="{min(yv, y0):.1f}" width="{bw:.1f}" height="{max(abs(y0 - yv), 0.5):.1f}" '
                   f'fill="{color}" stroke="#333" stroke-width="0.6"><title>{esc(labels[i])}: {v:.4f}</title></rect>')
        if show_values and n <= 16:
            ty = (yv - 4) if v >= 0 else (yv + 12)
            out.append(f'<text x="{x + bw / 2:.1f}" y="{ty:.1f}" text-anchor="middle" '
                       f'font-size="{11 if n <= 8 else 9}">{fmt_num(v, digits)}</text>')
        out.append(f'<text x="{x + bw / 2:.1f}" y="{top + ph + 15:.1f}" text-anchor="middle" '
                   f'font-size="12">{esc(labels[i])}</text>')
    out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y0:.1f}" y2="{y0:.1f}" stroke="#888"/>')
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}" stroke="#888"/>')
    if ylabel:
        out.append(f'<text transform="translate(11,{top + ph / 2:.1f}) rotate(-90)" text-anchor="middle" '
                   f'font-size="11">{esc(ylabel)}</text>')
    if xlabel:
        out.append(f'<text x="{left + pw / 2:.1f}" y="{height - 4}" text-anchor="middle" font-size="11">'
                   f'{esc(xlabel)}</text>')
    out.append("</svg>")
    return "".join(out)


def hist_svg(samples, *, xlim, bins=60, title=None, color=plots.ACCENT_COLOR, width=320, height=200,
             xlabel=None, ymax=None, note=None) -> str:
    """Histogram (density) of ``samples`` on a fixed x range, as an inline SVG string.

    Parameters
    ----------
    samples : array_like
        Values outside ``±xlim`` are counted in the outermost bins.
    xlim : float
        The x range is ``-xlim … xlim``.
    bins : int, default 60
    title, xlabel, note : str, optional
        ``note`` is written in the top right corner.
    color : str
        CSS colour of the bars.
    width, height : int
        Size in pixels.
    ymax : float, optional
        Fixed height of the density axis (default: the tallest bin).

    Returns
    -------
    str
        ``<svg>…</svg>``.
    """
    samples = _v.as_real_array(samples, "samples")
    if samples.size == 0:
        raise ValueError("samples is empty: a histogram needs at least one value")
    xlim = _v.check_positive_number(xlim, "xlim", max_value=1e100)
    bins = _v.check_positive_int(bins, "bins", max_value=1000)
    color = _v.check_css_color(color, "color")
    width = _v.check_positive_int(width, "width", max_value=4000)
    height = _v.check_positive_int(height, "height", max_value=4000)
    if ymax is not None:
        ymax = _v.check_positive_number(ymax, "ymax", max_value=1e100)
    for nm, txt in (("title", title), ("xlabel", xlabel), ("note", note)):
        if txt is not None:
            _v.check_text(txt, nm, allow_empty=True)
    s = np.clip(samples, -xlim, xlim)
    counts, edges = np.histogram(s, bins=bins, range=(-xlim, xlim), density=True)
    top_v = float(counts.max()) if ymax is None else float(ymax)
    top_v = top_v if top_v > 0 else 1.0
    left, right, top, bottom = 12, 10, 30 if title else 10, 36
    pw, ph = width - left - right, height - top - bottom
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'style="font-family:{FONT_STACK};font-size:11px">']
    if title:
        out.append(f'<text x="{width / 2:.1f}" y="16" text-anchor="middle" font-size="13" '
                   f'font-weight="600">{esc(title)}</text>')
    bw = pw / bins
    for c, i in zip(counts, range(bins)):
        if c <= 0:
            continue
        hh = min(c / top_v, 1.0) * ph
        out.append(f'<rect x="{left + i * bw:.1f}" y="{top + ph - hh:.1f}" width="{bw + 0.3:.1f}" '
                   f'height="{hh:.1f}" fill="{color}" fill-opacity="0.85"/>')
    for t in nice_ticks(-xlim, xlim, 6):
        xx = left + (t + xlim) / (2 * xlim) * pw
        out.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top + ph}" y2="{top + ph + 4}" stroke="#888"/>')
        out.append(f'<text x="{xx:.1f}" y="{top + ph + 15}" text-anchor="middle" fill="#555">'
                   f'{tick_label(t)}</text>')
    x0 = left + pw / 2
    out.append(f'<line x1="{x0:.1f}" x2="{x0:.1f}" y1="{top}" y2="{top + ph}" stroke="#999" stroke-dasharray="3,3"/>')
    out.append(f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="#888"/>')
    if note:
        out.append(f'<text x="{left + pw - 2}" y="{top + 12}" text-anchor="end" font-size="12">{esc(note)}</text>')
    if xlabel:
        out.append(f'<text x="{left + pw / 2:.1f}" y="{height - 4}" text-anchor="middle">{esc(xlabel)}</text>')
    out.append("</svg>")
    return "".join(out)


def row_html(*items, gap=18) -> str:
    return (f'<div style="display:flex;flex-wrap:wrap;gap:{gap}px;align-items:flex-start">'
            + "".join(f"<div>{it}</div>" for it in items) + "</div>")


def weight_colors(w):
    hexes, _ = color_lut(plots.WEIGHTS_CMAP)
    return [hexes[k] for k in color_index(w, 0.0, 1.0)]


def signed_colors(v, limit):
    hexes, _ = color_lut(plots.DIVERGING_CMAP)
    limit = limit if limit > 0 else 1.0
    return [hexes[k] for k in color_index(v, -limit, limit)]


def vec_text(v, digits=4) -> str:
    return "[" + ", ".join(fmt_num(x, digits) for x in np.ravel(v)) + "]"


# ---------------------------------------------------------------------------
# panel base class
# ---------------------------------------------------------------------------

class Panel(W.VBox):
    """VBox with ``view`` (HTML picture), ``readout`` (HTML numbers), ``values`` and ``refresh()``."""

    def __init__(self, title: str, controls, view_height: str | None = None):
        self.view = W.HTML(layout=W.Layout(min_height=view_height) if view_height else W.Layout())
        self.readout = W.HTML()
        self.values: dict = {}
        header = W.HTML(f'<div style="font-family:{FONT_STACK};font-weight:600;font-size:14px">{esc(title)}</div>')
        super().__init__([header, *controls, self.view, self.readout],
                         layout=W.Layout(border="1px solid #ddd", padding="6px 10px", width="auto"))
        self._busy = False

    def _watch(self, *widgets_):
        for w in widgets_:
            w.observe(self._on_change, names="value")

    def _on_change(self, change=None):
        if not self._busy:
            self.refresh()

    @contextmanager
    def _quiet(self):
        """Set several controls at once without a refresh per control (call refresh() after)."""
        self._busy = True
        try:
            yield
        finally:
            self._busy = False

    def refresh(self):  # pragma: no cover - overridden
        raise NotImplementedError


def slider_layout(width="440px"):
    return W.Layout(width=width)


SLIDER_STYLE = MappingProxyType({"description_width": "150px"})  # read-only; sliders get dict(SLIDER_STYLE)


def slider(kind, *, description: str, width: str = "440px", **options):
    """A slider of ipywidgets class ``kind`` (IntSlider, SelectionSlider …) as every panel shows one: it updates
    while dragged, its description column is :data:`SLIDER_STYLE` wide and it is ``width`` wide."""
    return kind(description=description, continuous_update=True, style=dict(SLIDER_STYLE),
                layout=slider_layout(width), **options)
