"""Live slider panels (ipywidgets 8) and their static counterparts.

Every panel ``X_panel(...)`` returns a displayable :class:`ipywidgets.VBox`
subclass; its static default-state twin ``X_figure(...)`` returns a matplotlib
Figure (see :mod:`helpers.plots`).  In a notebook::

    fig = widgets.dk_figure()      # static picture, readable on GitHub
    widgets.dk_panel()             # next cell, tagged nbval-ignore-output

How the live view is drawn
--------------------------
Redrawing a matplotlib figure per slider step costs 150–250 ms (64 text
annotations alone take ~60 ms in Agg).  The panels therefore build their
picture as an HTML table / inline SVG string in Python and put it into an
:class:`ipywidgets.HTML` widget: one string assignment per change, no figure,
no flicker, Chinese labels from the browser's fonts.  Colours come from the
same matplotlib colour maps as the static figures (``plots.WEIGHTS_CMAP`` for
weights on a fixed 0–1 range, ``plots.DIVERGING_CMAP`` for signed values),
rows = queries and columns = keys in both.

Attributes every panel has
--------------------------
``view``      ipywidgets.HTML — the live picture (its ``.value`` is replaced on each change)
``readout``   ipywidgets.HTML — the current numbers in words
``values``    dict — the numbers currently shown (NumPy arrays / floats), for tests
``refresh()`` recompute and redraw from the current control values

Panel-specific controls
-----------------------
qkv_shapes_panel    ``slider_d_model``, ``slider_d_k``
angle_panel         ``slider_angle`` (degrees), ``slider_len_q``, ``slider_len_k``
dk_panel            ``slider_dk`` (SelectionSlider 1 … 512)
temperature_panel   ``slider_t`` (FloatLogSlider)
vector_panel        ``sliders_q`` (3 FloatSliders for q1), ``key_select`` (Dropdown k1/k2/k3),
                    ``sliders_k`` (3 FloatSliders for the selected key), ``reset_button``
sentence_explorer   ``text_input`` (Combobox: type or pick an example), ``causal_toggle`` (Checkbox),
                    ``slider_query`` (SelectionSlider: query row to highlight, value = row index, -1 = none)

HTML builders (public, also handy elsewhere): :func:`heatmap_html`, :func:`bars_svg`,
:func:`hist_svg`.
"""

from __future__ import annotations

import html
import math
from contextlib import contextmanager
from functools import lru_cache

import ipywidgets as W
import matplotlib
import numpy as np
from matplotlib import colors as mcolors

from . import attention as _att
from . import plots
from .analysis import entropy
from . import tokens as _tok

__all__ = [
    "qkv_shapes_panel", "qkv_shapes_figure",
    "angle_panel", "angle_figure",
    "dk_panel", "dk_figure", "DK_STEPS",
    "temperature_panel", "temperature_figure",
    "vector_panel", "vector_figure",
    "sentence_explorer", "sentence_figure", "EXAMPLE_SENTENCES",
    "heatmap_html", "bars_svg", "hist_svg",
]

# Latin letters, digits and maths symbols first (a CJK font draws "·" full width), then CJK fonts;
# browsers fall back glyph by glyph, like the static figures (DejaVu Sans + the CJK font).
FONT_STACK = ("'DejaVu Sans','Helvetica Neue',Arial,'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC',"
              "'PingFang SC','Microsoft YaHei','WenQuanYi Micro Hei',sans-serif")

#: d_k values of the d_k slider (log-ish steps).
DK_STEPS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)

#: Example sentences offered by :func:`sentence_explorer`.
EXAMPLE_SENTENCES = (
    "我喜欢这个苹果",
    "小猫追逐蝴蝶，现在它饿坏了",
    "那个小猫，它昨天在公园里追逐一只蝴蝶，玩得不亦乐乎，结果把晚餐都忘了，现在它饿坏了。",
    "我们今天在图书馆读一本书",
    "今天天气很好",
)

MAX_TOKENS = 32


# ---------------------------------------------------------------------------
# colour look-up tables (same colour maps as the static figures)
# ---------------------------------------------------------------------------

@lru_cache(maxsize=16)
def _lut(cmap_name: str):
    cmap = matplotlib.colormaps[cmap_name]
    rgba = cmap(np.linspace(0, 1, 256))
    hexes = tuple(mcolors.to_hex(c) for c in rgba)
    text = tuple(plots.text_color_for(c) for c in rgba)
    return hexes, text


def _color_index(values, vmin, vmax) -> np.ndarray:
    t = (np.asarray(values, dtype=float) - vmin) / (vmax - vmin)
    t = np.nan_to_num(t, nan=0.0, posinf=1.0, neginf=0.0)
    return np.clip(np.rint(t * 255), 0, 255).astype(int)


def _esc(s) -> str:
    return html.escape(str(s), quote=True)


def _fmt(v: float, digits: int) -> str:
    return plots._fmt_value(v, f".{digits}f")  # "-0.00" -> "0.00", like the figures' annotations


def _colorbar_html(cmap_name, vmin, vmax, label, height_px, ticks=None):
    hexes, _ = _lut(cmap_name)
    stops = ",".join(hexes[i] for i in range(255, -1, -32)) + "," + hexes[0]
    if ticks is None:
        ticks = np.linspace(vmin, vmax, 5)
    tick_html = []
    for t in ticks:
        frac = (t - vmin) / (vmax - vmin)
        top = (1 - frac) * height_px
        tick_html.append(
            f'<div style="position:absolute;left:18px;top:{top - 7:.1f}px;font-size:11px;line-height:14px;'
            f'white-space:nowrap">– {_fmt(t, 2 if abs(vmax - vmin) < 10 else 0)}</div>')
    return (
        f'<div style="display:flex;align-items:center;margin-left:12px">'
        f'<div style="position:relative;width:64px;height:{height_px}px">'
        f'<div style="position:absolute;left:0;top:0;width:16px;height:{height_px}px;'
        f'background:linear-gradient({stops});border:1px solid #ccc;box-sizing:border-box"></div>'
        + "".join(tick_html) +
        f'</div><div style="writing-mode:vertical-rl;text-orientation:sideways;font-size:12px;margin-left:2px;'
        f'white-space:nowrap">{_esc(label)}</div></div>'
    )


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
    row_labels, col_labels : sequence of str
    cmap : str, optional
        Colour-map name (default :data:`helpers.plots.WEIGHTS_CMAP`).
    vmin, vmax : float
        Colour range.
    annotate : bool or "auto"
    mask : bool array broadcastable to M's shape, optional
        ``False`` = blocked (drawn grey and hatched, not annotated).
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
    row_labels = plots._labels(row_labels, n_rows, "row_labels", "q")
    col_labels = plots._labels(col_labels, n_cols, "col_labels", "k")
    cmap_name = cmap or plots.WEIGHTS_CMAP
    hexes, texts = _lut(cmap_name)
    idx = _color_index(A, vmin, vmax)
    blocked = None if mask is None else ~plots._mask_array(mask, A.shape)
    highlight_row = plots._check_row(highlight_row, n_rows)
    do_ann = plots._check_annotate(annotate, n_rows, n_cols)
    if cell_px is None:
        cell_px = 46 if max(n_rows, n_cols) <= plots.ANNOTATE_MAX else max(12, min(30, 560 // max(n_rows, n_cols)))
    fs_lab = 13 if max(n_rows, n_cols) <= 12 else 11
    hl = plots.HIGHLIGHT_COLOR
    parts = [f'<div style="font-family:{FONT_STACK};color:#222;display:inline-flex;align-items:center">']
    if ylabel:
        parts.append(f'<div style="writing-mode:vertical-rl;text-orientation:sideways;transform:rotate(180deg);'
                     f'font-size:12px;margin-right:4px;white-space:nowrap">{_esc(ylabel)}</div>')
    parts.append('<table style="border-collapse:collapse;border-spacing:0;table-layout:fixed">')
    if title:
        parts.append(f'<caption style="font-weight:600;padding:2px 0 6px {cell_px // 2 + 20}px;white-space:nowrap">'
                     f'{_esc(title)}</caption>')
    cell_base = (f"width:{cell_px}px;min-width:{cell_px}px;height:{cell_px}px;padding:0;text-align:center;"
                 f"font-size:{12 if cell_px >= 40 else 10}px;")
    for i in range(n_rows):
        parts.append("<tr>")
        parts.append(f'<th style="text-align:right;font-weight:normal;font-size:{fs_lab}px;padding:0 6px 0 0;'
                     f'white-space:nowrap">{_esc(row_labels[i])}</th>')
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
                txt = _fmt(A[i, j], digits) if do_ann else ""
            if row_hl:
                style += f"border-top:3px solid {hl};border-bottom:3px solid {hl};"
                if j == 0:
                    style += f"border-left:3px solid {hl};"
                if j == n_cols - 1:
                    style += f"border-right:3px solid {hl};"
            parts.append(f'<td style="{style}" title="{_esc(row_labels[i])} → {_esc(col_labels[j])}: '
                         f'{A[i, j]:.4f}">{txt}</td>')
        parts.append("</tr>")
    # column labels at the bottom (like matplotlib's x ticks)
    vertical = plots._vertical_col_labels(col_labels)
    parts.append("<tr><th></th>")
    for t in col_labels:
        if vertical:
            parts.append(f'<th style="font-weight:normal;font-size:{fs_lab}px;vertical-align:top;padding-top:4px">'
                         f'<div style="writing-mode:vertical-rl;margin:auto">{_esc(t)}</div></th>')
        else:
            parts.append(f'<th style="font-weight:normal;font-size:{fs_lab}px;padding-top:4px;'
                         f'white-space:nowrap">{_esc(t)}</th>')
    parts.append("</tr>")
    parts.append(f'<tr><th></th><th colspan="{n_cols}" style="font-weight:normal;font-size:12px;'
                 f'padding-top:2px">{_esc(xlabel)}</th></tr>')
    parts.append("</table>")
    if colorbar:
        parts.append(_colorbar_html(cmap_name, vmin, vmax, colorbar_label,
                                    max(60, min(n_rows * cell_px, 300))))
    parts.append("</div>")
    return "".join(parts)


# ---------------------------------------------------------------------------
# SVG charts
# ---------------------------------------------------------------------------

def _nice_ticks(lo, hi, n=5):
    from matplotlib.ticker import MaxNLocator
    ticks = MaxNLocator(nbins=n).tick_values(lo, hi)
    return [t for t in ticks if lo - 1e-9 <= t <= hi + 1e-9]


def _tick_label(t):
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
        Fixed y range (default: the data and 0, with some padding).
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
    vals = np.asarray(values, dtype=float).ravel()
    n = len(vals)
    labels = [str(t) for t in labels]
    if len(labels) != n:
        raise ValueError(f"{len(labels)} labels for {n} bars")
    lo = min(0.0, float(vals.min())) if vmin is None else float(vmin)
    hi = max(0.0, float(vals.max())) if vmax is None else float(vmax)
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
                   f'font-weight="600">{_esc(title)}</text>')
    for t in _nice_ticks(lo_p, hi_p):
        yy = y(t)
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 4}" y="{yy + 4:.1f}" text-anchor="end" fill="#555">{_tick_label(t)}</text>')
    slot = pw / n
    bw = slot * 0.7
    y0 = y(0.0) if lo_p <= 0 <= hi_p else y(lo_p)
    for i, v in enumerate(vals):
        x = left + i * slot + (slot - bw) / 2
        yv = y(min(max(v, lo_p), hi_p))
        color = colors[i] if colors is not None else plots.ACCENT_COLOR
        out.append(f'<rect x="{x:.1f}" y="{min(yv, y0):.1f}" width="{bw:.1f}" height="{max(abs(y0 - yv), 0.5):.1f}" '
                   f'fill="{color}" stroke="#333" stroke-width="0.6"><title>{_esc(labels[i])}: {v:.4f}</title></rect>')
        if show_values and n <= 16:
            ty = (yv - 4) if v >= 0 else (yv + 12)
            out.append(f'<text x="{x + bw / 2:.1f}" y="{ty:.1f}" text-anchor="middle" '
                       f'font-size="{11 if n <= 8 else 9}">{_fmt(v, digits)}</text>')
        out.append(f'<text x="{x + bw / 2:.1f}" y="{top + ph + 15:.1f}" text-anchor="middle" '
                   f'font-size="12">{_esc(labels[i])}</text>')
    out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y0:.1f}" y2="{y0:.1f}" stroke="#888"/>')
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}" stroke="#888"/>')
    if ylabel:
        out.append(f'<text transform="translate(11,{top + ph / 2:.1f}) rotate(-90)" text-anchor="middle" '
                   f'font-size="11">{_esc(ylabel)}</text>')
    if xlabel:
        out.append(f'<text x="{left + pw / 2:.1f}" y="{height - 4}" text-anchor="middle" font-size="11">'
                   f'{_esc(xlabel)}</text>')
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
    s = np.clip(np.asarray(samples, dtype=float), -xlim, xlim)
    counts, edges = np.histogram(s, bins=bins, range=(-xlim, xlim), density=True)
    top_v = float(counts.max()) if ymax is None else float(ymax)
    top_v = top_v if top_v > 0 else 1.0
    left, right, top, bottom = 12, 10, 30 if title else 10, 36
    pw, ph = width - left - right, height - top - bottom
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'style="font-family:{FONT_STACK};font-size:11px">']
    if title:
        out.append(f'<text x="{width / 2:.1f}" y="16" text-anchor="middle" font-size="13" '
                   f'font-weight="600">{_esc(title)}</text>')
    bw = pw / bins
    for c, i in zip(counts, range(bins)):
        if c <= 0:
            continue
        hh = min(c / top_v, 1.0) * ph
        out.append(f'<rect x="{left + i * bw:.1f}" y="{top + ph - hh:.1f}" width="{bw + 0.3:.1f}" '
                   f'height="{hh:.1f}" fill="{color}" fill-opacity="0.85"/>')
    for t in _nice_ticks(-xlim, xlim, 6):
        xx = left + (t + xlim) / (2 * xlim) * pw
        out.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top + ph}" y2="{top + ph + 4}" stroke="#888"/>')
        out.append(f'<text x="{xx:.1f}" y="{top + ph + 15}" text-anchor="middle" fill="#555">'
                   f'{_tick_label(t)}</text>')
    x0 = left + pw / 2
    out.append(f'<line x1="{x0:.1f}" x2="{x0:.1f}" y1="{top}" y2="{top + ph}" stroke="#999" stroke-dasharray="3,3"/>')
    out.append(f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="#888"/>')
    if note:
        out.append(f'<text x="{left + pw - 2}" y="{top + 12}" text-anchor="end" font-size="12">{_esc(note)}</text>')
    if xlabel:
        out.append(f'<text x="{left + pw / 2:.1f}" y="{height - 4}" text-anchor="middle">{_esc(xlabel)}</text>')
    out.append("</svg>")
    return "".join(out)


def _row(*items, gap=18) -> str:
    return (f'<div style="display:flex;flex-wrap:wrap;gap:{gap}px;align-items:flex-start">'
            + "".join(f"<div>{it}</div>" for it in items) + "</div>")


def _weight_colors(w):
    hexes, _ = _lut(plots.WEIGHTS_CMAP)
    return [hexes[k] for k in _color_index(w, 0.0, 1.0)]


def _signed_colors(v, limit):
    hexes, _ = _lut(plots.DIVERGING_CMAP)
    limit = limit if limit > 0 else 1.0
    return [hexes[k] for k in _color_index(v, -limit, limit)]


def _vec(v, digits=4) -> str:
    return "[" + ", ".join(_fmt(x, digits) for x in np.ravel(v)) + "]"


# ---------------------------------------------------------------------------
# panel base class
# ---------------------------------------------------------------------------

class _Panel(W.VBox):
    """VBox with ``view`` (HTML picture), ``readout`` (HTML numbers), ``values`` and ``refresh()``."""

    def __init__(self, title: str, controls, view_height: str | None = None):
        self.view = W.HTML(layout=W.Layout(min_height=view_height) if view_height else W.Layout())
        self.readout = W.HTML()
        self.values: dict = {}
        header = W.HTML(f'<div style="font-family:{FONT_STACK};font-weight:600;font-size:14px">{_esc(title)}</div>')
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


def _slider_layout(width="440px"):
    return W.Layout(width=width)


_STYLE = {"description_width": "150px"}


# ---------------------------------------------------------------------------
# (1) Q, K, V shapes
# ---------------------------------------------------------------------------

def _qkv_data(tokens, d_model, d_k, seed):
    """X, (W_Q, W_K, W_V), Q, K, V of the Q/K/V shapes panel and its static figure."""
    X = _tok.token_inputs(tokens, d_model, seed=seed)
    Wts = _tok.init_qkv_weights(d_model, d_k, seed=seed)
    return X, Wts, *_att.project_qkv(X, *Wts)


def _grid_block(M, name, row_labels, limit, cell_px):
    n, m = M.shape
    ann = max(n, m) <= 8 and cell_px >= 30
    return heatmap_html(M, row_labels, [str(j) for j in range(m)], cmap=plots.DIVERGING_CMAP,
                        vmin=-limit, vmax=limit, annotate=ann, digits=1, cell_px=cell_px,
                        title=f"{name}  ({n} × {m})", xlabel="输出维度" if name == "W_Q" else "维度",
                        ylabel="输入维度" if name == "W_Q" else "", colorbar=False)


class QKVShapesPanel(_Panel):
    """Live panel of :func:`qkv_shapes_panel`."""

    def __init__(self, tokens=None, d_model=8, d_k=4, seed=0):
        self.tokens = list(tokens) if tokens is not None else list(_tok.SENTENCE_APPLE)
        self.seed = seed
        self.slider_d_model = W.IntSlider(value=d_model, min=2, max=16, step=1, description="d_model（输入维度）",
                                          continuous_update=True, style=_STYLE, layout=_slider_layout())
        self.slider_d_k = W.IntSlider(value=d_k, min=1, max=8, step=1, description="d_k（Q/K/V 维度）",
                                      continuous_update=True, style=_STYLE, layout=_slider_layout())
        super().__init__("从 X 到 Q、K、V：拖动滑块，看矩阵的形状怎样变化",
                         [self.slider_d_model, self.slider_d_k], view_height="300px")
        self._watch(self.slider_d_model, self.slider_d_k)
        self.refresh()

    def refresh(self):
        d_model, d_k = int(self.slider_d_model.value), int(self.slider_d_k.value)
        X, (W_Q, _, _), Q, K, V = _qkv_data(self.tokens, d_model, d_k, self.seed)
        limit = max(float(np.abs(m).max()) for m in (X, W_Q, Q, K, V))
        cell = 30 if max(d_model, d_k) <= 8 else 20
        n = len(self.tokens)
        blocks = [_grid_block(X, "X", self.tokens, limit, cell),
                  '<div style="font-size:20px;padding-top:40px">·</div>',
                  _grid_block(W_Q, "W_Q", [str(i) for i in range(d_model)], limit, cell),
                  '<div style="font-size:20px;padding-top:40px">=</div>',
                  _grid_block(Q, "Q", self.tokens, limit, cell),
                  _grid_block(K, "K", self.tokens, limit, cell),
                  _grid_block(V, "V", self.tokens, limit, cell)]
        self.values = {"X": X, "W_Q": W_Q, "Q": Q, "K": K, "V": V}
        self.view.value = _row(*blocks, gap=10)
        self.readout.value = (
            f'<div style="font-family:{FONT_STACK}">形状：X ({n}×{d_model}) · W_Q ({d_model}×{d_k}) = Q ({n}×{d_k})；'
            f'K、V 同理 ({n}×{d_k})。X、Q、K、V 每行一个词，W_Q 每行一个输入维度；d_model 只决定 X 的列数和 W 的行数，'
            f'd_k 决定 Q、K、V 的列数。</div>')


def qkv_shapes_panel(tokens=None, *, d_model=8, d_k=4, seed=0) -> QKVShapesPanel:
    """Sliders for d_model and d_k; X, W_Q, Q, K, V drawn as coloured grids with their shapes.

    Parameters
    ----------
    tokens : sequence of str, optional
        Rows of X (default :data:`helpers.SENTENCE_APPLE`).
    d_model : int, default 8
        Start value of the d_model slider (2 … 16).
    d_k : int, default 4
        Start value of the d_k slider (1 … 8).
    seed : int, default 0
        Seed of the embeddings and weights.

    Returns
    -------
    QKVShapesPanel
        A displayable widget (make it the last line of a cell); ``slider_d_model``, ``slider_d_k``.
    """
    return QKVShapesPanel(tokens, d_model, d_k, seed)


def qkv_shapes_figure(tokens=None, *, d_model=8, d_k=4, seed=0):
    """Static default state of :func:`qkv_shapes_panel` (X, W_Q, Q, K, V grids).

    Parameters
    ----------
    tokens, d_model, d_k, seed
        As in :func:`qkv_shapes_panel`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    tokens = list(tokens) if tokens is not None else list(_tok.SENTENCE_APPLE)
    X, Wts, Q, K, V = _qkv_data(tokens, d_model, d_k, seed)
    return plots.qkv_grids(X, Q, K, V, tokens, W=Wts)


# ---------------------------------------------------------------------------
# (2) angle between two 2-D vectors
# ---------------------------------------------------------------------------

def _angle_values(angle_deg, len_q, len_k, base_deg=20.0):
    a0 = math.radians(base_deg)
    a1 = math.radians(base_deg + angle_deg)
    q = np.array([len_q * math.cos(a0), len_q * math.sin(a0)])
    k = np.array([len_k * math.cos(a1), len_k * math.sin(a1)])
    dot = float(q @ k)
    cos = float(math.cos(math.radians(angle_deg)))
    return q, k, dot, cos


def _arrow_svg(x0, y0, x1, y1, color, label):
    ang = math.atan2(y1 - y0, x1 - x0)
    hl = 10
    p1 = (x1 - hl * math.cos(ang - 0.4), y1 - hl * math.sin(ang - 0.4))
    p2 = (x1 - hl * math.cos(ang + 0.4), y1 - hl * math.sin(ang + 0.4))
    lx, ly = x1 + 14 * math.cos(ang), y1 + 14 * math.sin(ang)
    return (f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="{color}" stroke-width="3"/>'
            f'<polygon points="{x1:.1f},{y1:.1f} {p1[0]:.1f},{p1[1]:.1f} {p2[0]:.1f},{p2[1]:.1f}" fill="{color}"/>'
            f'<text x="{lx:.1f}" y="{ly + 4:.1f}" text-anchor="middle" font-size="14" fill="{color}" '
            f'font-weight="600">{label}</text>')


def _angle_svg(q, k, angle_deg, base_deg=20.0, size=260, rmax=3.0):
    c = size / 2
    s = (size / 2 - 24) / rmax
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
           f'style="font-family:{FONT_STACK};font-size:11px">']
    out.append(f'<line x1="8" x2="{size - 8}" y1="{c}" y2="{c}" stroke="#ccc"/>'
               f'<line y1="8" y2="{size - 8}" x1="{c}" x2="{c}" stroke="#ccc"/>')
    for r in (1, 2, 3):
        out.append(f'<circle cx="{c}" cy="{c}" r="{r * s:.1f}" fill="none" stroke="#f0f0f0"/>')
    # angle arc
    r_arc = 26
    a0, a1 = math.radians(base_deg), math.radians(base_deg + angle_deg)
    x0, y0 = c + r_arc * math.cos(a0), c - r_arc * math.sin(a0)
    x1, y1 = c + r_arc * math.cos(a1), c - r_arc * math.sin(a1)
    large = 1 if angle_deg > 180 else 0
    if angle_deg > 0:
        out.append(f'<path d="M {x0:.1f} {y0:.1f} A {r_arc} {r_arc} 0 {large} 0 {x1:.1f} {y1:.1f}" fill="none" '
                   f'stroke="#666"/>')
    am = math.radians(base_deg + angle_deg / 2)
    out.append(f'<text x="{c + (r_arc + 9) * math.cos(am):.1f}" y="{c - (r_arc + 9) * math.sin(am) + 4:.1f}" '
               f'text-anchor="middle" fill="#444" font-size="12">θ</text>')
    out.append(f'<text x="8" y="16" fill="#444" font-size="12">θ = {angle_deg:.0f}°</text>')
    out.append(_arrow_svg(c, c, c + q[0] * s, c - q[1] * s, plots.ACCENT_COLOR, "q"))
    out.append(_arrow_svg(c, c, c + k[0] * s, c - k[1] * s, plots.ACCENT_COLOR_2, "k"))
    out.append("</svg>")
    return "".join(out)


_ANGLE_DOT_LIM = 9.0


class AnglePanel(_Panel):
    """Live panel of :func:`angle_panel`."""

    def __init__(self, angle=60, len_q=2.0, len_k=2.0):
        self.slider_angle = W.IntSlider(value=angle, min=0, max=180, step=5, description="夹角 θ（度）",
                                        continuous_update=True, style=_STYLE, layout=_slider_layout())
        self.slider_len_q = W.FloatSlider(value=len_q, min=0.5, max=3.0, step=0.1, description="|q| 长度",
                                          continuous_update=True, style=_STYLE, layout=_slider_layout())
        self.slider_len_k = W.FloatSlider(value=len_k, min=0.5, max=3.0, step=0.1, description="|k| 长度",
                                          continuous_update=True, style=_STYLE, layout=_slider_layout())
        super().__init__("点积 vs 余弦相似度：方向和长度都会影响点积",
                         [self.slider_angle, self.slider_len_q, self.slider_len_k], view_height="270px")
        self._watch(self.slider_angle, self.slider_len_q, self.slider_len_k)
        self.refresh()

    def refresh(self):
        ang, lq, lk = float(self.slider_angle.value), float(self.slider_len_q.value), float(self.slider_len_k.value)
        q, k, dot, cos = _angle_values(ang, lq, lk)
        self.values = {"q": q, "k": k, "dot": dot, "cos": cos, "angle": ang}
        b1 = bars_svg([dot], ["点积 q·k"], vmin=-_ANGLE_DOT_LIM, vmax=_ANGLE_DOT_LIM,
                      colors=[plots.ACCENT_COLOR_2], digits=2, width=150, height=250, title="点积")
        b2 = bars_svg([cos], ["余弦 cos θ"], vmin=-1, vmax=1, colors=[plots.ACCENT_COLOR], digits=3,
                      width=150, height=250, title="余弦相似度")
        self.view.value = _row(_angle_svg(q, k, ang), b1, b2)
        self.readout.value = (
            f'<div style="font-family:{FONT_STACK}">q = {_vec(q, 2)}，k = {_vec(k, 2)}<br>'
            f'点积 q·k = |q|·|k|·cos θ = {lq:.1f} × {lk:.1f} × {cos:.3f} = <b>{dot:.3f}</b>；'
            f'余弦相似度 cos θ = <b>{cos:.3f}</b>（只看方向，与长度无关）</div>')


def angle_panel(*, angle=60, len_q=2.0, len_k=2.0) -> AnglePanel:
    """Two 2-D vectors q and k: sliders for their angle and lengths → dot product vs cosine.

    Parameters
    ----------
    angle : int, default 60
        Start angle θ between q and k in degrees (0 … 180).
    len_q, len_k : float, default 2.0
        Start lengths (0.5 … 3).

    Returns
    -------
    AnglePanel
        A displayable widget (make it the last line of a cell); ``slider_angle``, ``slider_len_q``, ``slider_len_k``.
    """
    return AnglePanel(angle, len_q, len_k)


def angle_figure(*, angle=60, len_q=2.0, len_k=2.0):
    """Static default state of :func:`angle_panel`: the two arrows and the two numbers.

    Parameters
    ----------
    angle, len_q, len_k
        As in :func:`angle_panel`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    q, k, dot, cos = _angle_values(angle, len_q, len_k)
    fig, (ax, ax_dot, ax_cos) = plots._subplots(1, 3, figsize=(8.0, 3.6), layout="constrained",
                                                gridspec_kw={"width_ratios": [2.2, 1, 1]})
    for vec, col, name in ((q, plots.ACCENT_COLOR, "q"), (k, plots.ACCENT_COLOR_2, "k")):
        ax.annotate("", xy=vec, xytext=(0, 0), arrowprops=dict(arrowstyle="-|>", color=col, lw=2.5))
        ax.text(*(vec * 1.12), name, color=col, fontsize=14, ha="center", va="center", fontweight="bold")
    t = np.linspace(math.radians(20), math.radians(20 + angle), 40)
    ax.plot(0.45 * np.cos(t), 0.45 * np.sin(t), color="#666", lw=1)
    tm = math.radians(20 + angle / 2)
    ax.text(0.7 * math.cos(tm), 0.7 * math.sin(tm), "θ", ha="center", va="center", fontsize=11)
    ax.set_xlim(-3.2, 3.2)
    ax.set_ylim(-3.2, 3.2)
    ax.set_aspect("equal")
    ax.axhline(0, color="#ccc", lw=0.8)
    ax.axvline(0, color="#ccc", lw=0.8)
    ax.set_title(f"θ = {angle:.0f}°,  |q| = {len_q:.1f},  |k| = {len_k:.1f}")
    ax.tick_params(labelsize=8)
    for axb, v, lim, col, name, ttl in ((ax_dot, dot, _ANGLE_DOT_LIM, plots.ACCENT_COLOR_2, "点积 q·k", "点积"),
                                        (ax_cos, cos, 1.0, plots.ACCENT_COLOR, "余弦 cos θ", "余弦相似度")):
        axb.bar([0], [v], color=col, edgecolor="#333", linewidth=0.6, width=0.6)
        axb.text(0, v + (0.03 * lim if v >= 0 else -0.03 * lim), f"{v:.2f}" if lim > 1 else f"{v:.3f}",
                 ha="center", va="bottom" if v >= 0 else "top")
        axb.set_xticks([0], [name])
        axb.set_xlim(-0.8, 0.8)
        axb.set_ylim(-lim, lim)
        axb.axhline(0, color="#888", lw=0.8)
        axb.spines[["top", "right"]].set_visible(False)
        axb.set_title(ttl)
    fig.suptitle("点积 = |q|·|k|·cos θ，余弦相似度只看方向")
    return fig


# ---------------------------------------------------------------------------
# (3) d_k: spread of dot products and softmax saturation
# ---------------------------------------------------------------------------

_DK_RAW_XLIM = 64.0
_DK_SCALED_XLIM = 4.0
_DK_N_KEYS = 8
_DK_RAW_YMAX = 0.45
_DK_SCALED_YMAX = 0.6


@lru_cache(maxsize=4)
def _dk_all(seed: int = 0, n_samples: int = 3000):
    """Running dot products for every d_k at once.

    One set of random vectors with ``max(DK_STEPS)`` N(0, 1) components;
    the dot product for dimension d_k uses the first d_k components (a
    cumulative sum), so every slider position is a cheap column lookup and the
    picture grows out of the same vectors.
    """
    d_max = max(DK_STEPS)
    rng = np.random.default_rng([int(seed), 2024])
    q = rng.standard_normal((n_samples, d_max))
    k = rng.standard_normal((n_samples, d_max))
    raw = np.cumsum(q * k, axis=1)  # raw[:, d-1] = q[:, :d] · k[:, :d]
    q1 = rng.standard_normal(d_max)
    K1 = rng.standard_normal((_DK_N_KEYS, d_max))
    scores = np.cumsum(K1 * q1, axis=1)  # scores[j, d-1] = q1[:d] · K1[j, :d]
    return raw, scores


def _dk_data(d_k: int, seed: int = 0):
    raw_all, scores_all = _dk_all(seed)
    raw = raw_all[:, d_k - 1]
    scores = scores_all[:, d_k - 1]
    w_raw = _att.softmax(scores)
    w_scaled = _att.softmax(scores / math.sqrt(d_k))
    return raw, scores, w_raw, w_scaled


def _check_dk(d_k) -> int:
    if d_k not in DK_STEPS:
        raise ValueError(f"d_k must be one of {DK_STEPS}, got {d_k!r}")
    return d_k


_DK_KEY_LABELS = [f"k{j + 1}" for j in range(_DK_N_KEYS)]


class DkPanel(_Panel):
    """Live panel of :func:`dk_panel`."""

    def __init__(self, d_k=64, seed=0):
        _check_dk(d_k)
        self.seed = seed
        self.slider_dk = W.SelectionSlider(options=list(DK_STEPS), value=d_k, description="d_k（向量维度）",
                                           continuous_update=True, style=_STYLE, layout=_slider_layout())
        super().__init__("d_k 越大，原始点积越分散，softmax 越“饱和”；除以 √d_k 后恢复正常",
                         [self.slider_dk], view_height="470px")
        self._watch(self.slider_dk)
        self.refresh()

    def refresh(self):
        d_k = int(self.slider_dk.value)
        raw, scores, w_raw, w_scaled = _dk_data(d_k, seed=self.seed)
        scaled = raw / math.sqrt(d_k)
        sd_raw, sd_scaled = float(raw.std()), float(scaled.std())
        self.values = {"d_k": d_k, "std_raw": sd_raw, "std_scaled": sd_scaled, "scores": scores,
                       "weights_raw": w_raw, "weights_scaled": w_scaled}
        h1 = hist_svg(raw, xlim=_DK_RAW_XLIM, title="原始点积 q·k（未缩放）", color=plots.ACCENT_COLOR_2,
                      xlabel="q·k", note=f"标准差 ≈ {sd_raw:.2f}", ymax=_DK_RAW_YMAX)
        h2 = hist_svg(scaled, xlim=_DK_SCALED_XLIM, title="缩放后 q·k / √d_k", color=plots.ACCENT_COLOR,
                      xlabel="q·k / √d_k", note=f"标准差 ≈ {sd_scaled:.2f}", ymax=_DK_SCALED_YMAX)
        labels = _DK_KEY_LABELS
        b1 = bars_svg(w_raw, labels, vmin=0, vmax=1, colors=_weight_colors(w_raw), digits=2, width=320,
                      title="softmax(q·k)：不缩放", ylabel="权重 α")
        b2 = bars_svg(w_scaled, labels, vmin=0, vmax=1, colors=_weight_colors(w_scaled), digits=2, width=320,
                      title="softmax(q·k / √d_k)：缩放", ylabel="权重 α")
        self.view.value = _row(h1, h2) + _row(b1, b2)
        self.readout.value = (
            f'<div style="font-family:{FONT_STACK}">d_k = <b>{d_k}</b>，√d_k = {math.sqrt(d_k):.2f}：'
            f'原始点积的标准差 ≈ <b>{sd_raw:.2f}</b>（约等于 √d_k），缩放后 ≈ <b>{sd_scaled:.2f}</b>。'
            f'一个查询对 {_DK_N_KEYS} 个键：不缩放时最大权重 <b>{w_raw.max():.3f}</b>，'
            f'缩放后 <b>{w_scaled.max():.3f}</b>。</div>')


def dk_panel(*, d_k=64, seed=0) -> DkPanel:
    """d_k slider (1 … 512): raw vs scaled dot-product spread and softmax saturation side by side.

    Parameters
    ----------
    d_k : int, default 64
        Start value; one of :data:`DK_STEPS`.
    seed : int, default 0
        Seed of the random vectors.

    Returns
    -------
    DkPanel
        A displayable widget (make it the last line of a cell); ``slider_dk``.
    """
    return DkPanel(d_k, seed)


def dk_figure(*, d_k=64, seed=0):
    """Static default state of :func:`dk_panel` (same ranges and colours as the live panel).

    Parameters
    ----------
    d_k, seed
        As in :func:`dk_panel`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_dk(d_k)
    raw, scores, w_raw, w_scaled = _dk_data(d_k, seed=seed)
    scaled = raw / math.sqrt(d_k)
    fig, axes = plots._subplots(2, 2, figsize=(9.5, 6.0), layout="constrained")
    for ax, s, lim, ymax, col, ttl, xl in (
        (axes[0, 0], raw, _DK_RAW_XLIM, _DK_RAW_YMAX, plots.ACCENT_COLOR_2, "原始点积 q·k（未缩放）", "q·k"),
        (axes[0, 1], scaled, _DK_SCALED_XLIM, _DK_SCALED_YMAX, plots.ACCENT_COLOR, "缩放后 q·k / √d_k", "q·k / √d_k"),
    ):
        ax.hist(np.clip(s, -lim, lim), bins=60, range=(-lim, lim), density=True, color=col, alpha=0.85)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(0, ymax)
        ax.axvline(0, color="#999", lw=0.8, ls="--")
        ax.set_title(ttl)
        ax.set_xlabel(xl)
        ax.text(0.98, 0.92, f"标准差 ≈ {s.std():.2f}", transform=ax.transAxes, ha="right")
        ax.set_yticks([])
        ax.set_ylabel("频率（相对）", fontsize=9)
        ax.spines[["top", "right", "left"]].set_visible(False)
    labels = _DK_KEY_LABELS
    cm = plots._get_cmap(None, plots.WEIGHTS_CMAP)
    for ax, w, ttl in ((axes[1, 0], w_raw, "softmax(q·k)：不缩放"), (axes[1, 1], w_scaled, "softmax(q·k / √d_k)：缩放")):
        xs = np.arange(len(w))
        ax.bar(xs, w, color=cm(w), edgecolor="#333", linewidth=0.6)
        for x, v in zip(xs, w):
            ax.text(x, v + 0.02, f"{v:.2f}", ha="center", va="bottom", fontsize=8)
        ax.set_ylim(0, 1.1)
        ax.set_xticks(xs, labels)
        ax.set_ylabel("权重 α")
        ax.set_title(ttl)
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(f"d_k = {d_k}：点积的分散程度与 softmax 饱和")
    return fig


# ---------------------------------------------------------------------------
# (4) softmax temperature
# ---------------------------------------------------------------------------

DEFAULT_TEMPERATURE_SCORES = np.array([1.0, 2.5, 0.5, 2.0])


def _check_scores(scores, labels):
    s = _att._as_real_array(DEFAULT_TEMPERATURE_SCORES if scores is None else scores, "scores")
    s = s.astype(float, copy=False).ravel()
    if s.size == 0:
        raise ValueError(f"scores must be a non-empty 1-D array of finite numbers, got {scores!r}")
    if labels is None:
        labels = list(_tok.SENTENCE_APPLE) if (scores is None or len(s) == 4) else [f"k{j + 1}" for j in range(len(s))]
    labels = [str(t) for t in labels]
    if len(labels) != len(s):
        raise ValueError(f"{len(labels)} labels for {len(s)} scores")
    return s, labels


class TemperaturePanel(_Panel):
    """Live panel of :func:`temperature_panel`."""

    def __init__(self, scores=None, labels=None, temperature=1.0):
        self.scores, self.labels = _check_scores(scores, labels)
        self.slider_t = W.FloatLogSlider(value=temperature, base=10, min=-2, max=2, step=0.02,
                                         description="温度 T（无单位）", readout_format=".3g",
                                         continuous_update=True, style=_STYLE, layout=_slider_layout())
        super().__init__("softmax 的温度：T 小 → 尖锐（接近 one-hot），T 大 → 平坦（接近均匀）",
                         [self.slider_t], view_height="240px")
        # the scores never change: draw their bars once, not on every slider step
        lim = float(np.abs(self.scores).max()) or 1.0
        self._scores_svg = bars_svg(self.scores, self.labels, colors=_signed_colors(self.scores, lim), digits=2,
                                    width=280, title="分数（固定）", ylabel="分数")
        self._watch(self.slider_t)
        self.refresh()

    def refresh(self):
        T = float(self.slider_t.value)
        w = _att.softmax(self.scores, temperature=T)
        ent = float(entropy(w))
        self.values = {"temperature": T, "weights": w, "entropy": ent}
        b2 = bars_svg(w, self.labels, vmin=0, vmax=1, colors=_weight_colors(w), digits=3, width=300,
                      title=f"softmax(分数 / T)，T = {T:.3g}", ylabel="权重 α")
        self.view.value = _row(self._scores_svg, b2)
        n = len(w)
        self.readout.value = (
            f'<div style="font-family:{FONT_STACK}">T = <b>{T:.3g}</b>：权重 = {_vec(w, 3)}，'
            f'最大权重 <b>{w.max():.3f}</b>，熵 {ent:.3f}（均匀分布时最大 ln {n} = {math.log(n):.3f}）。</div>')


def temperature_panel(scores=None, *, labels=None, temperature=1.0) -> TemperaturePanel:
    """Softmax temperature slider (0.01 … 100, log scale) over fixed scores.

    Parameters
    ----------
    scores : array_like, shape (n,), optional
        Default :data:`DEFAULT_TEMPERATURE_SCORES`.
    labels : sequence of str, optional
        One per score (default the tokens of 我喜欢这个苹果 for 4 scores, else k1, k2, ...).
    temperature : float, default 1.0
        Start value of the slider.

    Returns
    -------
    TemperaturePanel
        A displayable widget (make it the last line of a cell); ``slider_t``.
    """
    return TemperaturePanel(scores, labels, temperature)


def temperature_figure(scores=None, *, labels=None, temperature=1.0):
    """Static default state of :func:`temperature_panel`: scores and softmax(scores / T).

    Parameters
    ----------
    scores, labels, temperature
        As in :func:`temperature_panel`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    s, labels = _check_scores(scores, labels)
    w = _att.softmax(s, temperature=temperature)
    fig, (a1, a2) = plots._subplots(1, 2, figsize=(8.4, 3.2), layout="constrained")
    xs = np.arange(len(s))
    lim = float(np.abs(s).max()) or 1.0
    dcm = plots._get_cmap(None, plots.DIVERGING_CMAP)
    a1.bar(xs, s, color=dcm(plots._symmetric_norm(s, lim)(s)), edgecolor="#333", linewidth=0.6)
    a1.axhline(0, color="#888", lw=0.8)
    a1.set_title("分数（固定）")
    a1.set_ylabel("分数")
    for x, v in zip(xs, s):
        a1.text(x, v + (0.03 * lim if v >= 0 else -0.03 * lim), f"{v:.2f}", ha="center",
                va="bottom" if v >= 0 else "top", fontsize=9)
    a1.set_ylim(min(0, s.min() * 1.2), max(0, s.max() * 1.2) or 0.1)
    for ax in (a1, a2):
        ax.set_xticks(xs, labels)
        ax.spines[["top", "right"]].set_visible(False)
    plots.weights_bar(w, labels, ax=a2, title=f"softmax(分数 / T)，T = {temperature:.3g}", fmt="{:.3f}")
    a2.set_xlabel("")
    fig.suptitle("温度 T 控制 softmax 的尖锐程度")
    return fig


# ---------------------------------------------------------------------------
# (5) the seed example: one query, three keys
# ---------------------------------------------------------------------------

class VectorPanel(_Panel):
    """Live panel of :func:`vector_panel`."""

    def __init__(self, vmin=-3.0, vmax=3.0, step=0.05):
        ex = _tok.SEED_EXAMPLE
        self.q0 = np.array(ex["q1"], dtype=float).reshape(1, -1)
        self.K0 = np.array(ex["K"], dtype=float)
        self.V = np.array(ex["V"], dtype=float)
        self._z_max = float(self.V.max())  # Z1 is a weighted average of the rows of V
        self.K = self.K0.copy()
        d = self.q0.shape[1]
        self.key_labels = [f"k{j + 1}" for j in range(len(self.K))]
        self.sliders_q = [W.FloatSlider(value=float(self.q0[0, i]), min=vmin, max=vmax, step=step,
                                        description=f"q1 第{i + 1}维", continuous_update=True,
                                        readout_format=".2f", style={"description_width": "80px"},
                                        layout=W.Layout(width="300px")) for i in range(d)]
        self.key_select = W.Dropdown(options=[(f"调节 {lab}", j) for j, lab in enumerate(self.key_labels)], value=0,
                                     description="键", style={"description_width": "30px"},
                                     layout=W.Layout(width="160px"))
        self.sliders_k = [W.FloatSlider(value=float(self.K[0, i]), min=vmin, max=vmax, step=step,
                                        description=f"k1 第{i + 1}维", continuous_update=True,
                                        readout_format=".2f", style={"description_width": "80px"},
                                        layout=W.Layout(width="300px")) for i in range(d)]
        self.reset_button = W.Button(description="恢复原例", icon="undo", layout=W.Layout(width="120px"))
        controls = W.HBox([W.VBox([W.HTML("<b>查询 q1</b>"), *self.sliders_q]),
                           W.VBox([W.HBox([self.key_select, self.reset_button]), *self.sliders_k])])
        super().__init__("原教程的例子：拖动 q1（或某个键）的分量，看分数、权重和输出 Z1 怎样变化",
                         [controls], view_height="230px")
        self._watch(*self.sliders_q, *self.sliders_k)
        self.key_select.observe(self._on_key_select, names="value")
        self.reset_button.on_click(self._on_reset)
        self.refresh()

    def _on_key_select(self, change=None):
        j = int(self.key_select.value)
        with self._quiet():
            for i, s in enumerate(self.sliders_k):
                s.description = f"{self.key_labels[j]} 第{i + 1}维"
                s.value = float(self.K[j, i])
        self.refresh()

    def _on_reset(self, _button=None):
        with self._quiet():
            self.K = self.K0.copy()
            for i, s in enumerate(self.sliders_q):
                s.value = float(self.q0[0, i])
            j = int(self.key_select.value)
            for i, s in enumerate(self.sliders_k):
                s.value = float(self.K[j, i])
        self.refresh()

    def refresh(self):
        q = np.array([[float(s.value) for s in self.sliders_q]])
        j = int(self.key_select.value)
        self.K[j] = [float(s.value) for s in self.sliders_k]
        scores, scaled, w, z = _att._one_query_steps(q, self.K, self.V)
        self.values = {"q1": q, "K": self.K.copy(), "scores": scores, "scaled": scaled, "weights": w, "Z1": z}
        d_k = q.shape[1]
        lim = max(float(np.abs(scores).max()), 1e-9)
        labs = self.key_labels
        ylim_hi = max(1.0, float(scores.max()))
        ylim_lo = min(-1.0, float(scores.min()))
        b1 = bars_svg(scores, labs, vmin=ylim_lo, vmax=ylim_hi, colors=_signed_colors(scores, lim), width=210,
                      title="① 分数 q1·k_j")
        b2 = bars_svg(scaled, labs, vmin=ylim_lo, vmax=ylim_hi, colors=_signed_colors(scaled, lim), width=210,
                      title=f"② ÷√d_k (√{d_k}={math.sqrt(d_k):.3f})")
        b3 = bars_svg(w, labs, vmin=0, vmax=1, colors=_weight_colors(w), width=210, title="③ 权重 α")
        b4 = bars_svg(z, [f"第{i + 1}维" for i in range(len(z))], vmin=0, vmax=self._z_max, colors=[plots.ACCENT_COLOR_2] * len(z),
                      width=210, title=plots._output_title("q1"))
        self.view.value = _row(b1, b2, b3, b4, gap=6)
        self.readout.value = (
            f'<div style="font-family:{FONT_STACK};line-height:1.6">'
            f'q1 = {_vec(q, 2)}，{labs[j]} = {_vec(self.K[j], 2)}<br>'
            f'分数 = {_vec(scores)}　缩放后 = {_vec(scaled)}<br>'
            f'权重 α = <b>{_vec(w)}</b>（和 = {w.sum():.4f}）　输出 Z1 = <b>{_vec(z)}</b></div>')


def vector_panel(*, vmin=-3.0, vmax=3.0, step=0.05) -> VectorPanel:
    """The seed example (q1, K, V, d_k = 3) with sliders for q1 and for one selectable key.

    Defaults reproduce the chapter: weights [0.3143, 0.3330, 0.3528], Z1 [4.1154, 5.1154, 6.1154].

    Parameters
    ----------
    vmin, vmax : float, default -3.0, 3.0
        Range of every component slider.
    step : float, default 0.05

    Returns
    -------
    VectorPanel
        A displayable widget (make it the last line of a cell); ``sliders_q``, ``key_select``, ``sliders_k``, ``reset_button``.
    """
    return VectorPanel(vmin, vmax, step)


def vector_figure(q1=None, K=None):
    """Static default state of :func:`vector_panel`: the four steps for q1 (see plots.step_strip).

    Parameters
    ----------
    q1 : array_like, shape (3,) or (1, 3), optional
        Default: the seed example's q1.
    K : array_like, shape (3, 3), optional
        Default: the seed example's keys.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ex = _tok.SEED_EXAMPLE
    q = ex["q1"] if q1 is None else q1
    Kk = ex["K"] if K is None else K
    return plots.step_strip(q, Kk, ex["V"], key_labels=["k1", "k2", "k3"], query_label="q1")


# ---------------------------------------------------------------------------
# (6) sentence explorer
# ---------------------------------------------------------------------------

def _sentence_tokens(text):
    if isinstance(text, str):
        toks = _tok.tokenize(text)
    else:
        toks = [str(t) for t in text]
    if not toks:
        raise ValueError("the sentence has no tokens; type a short Chinese sentence, e.g. 我喜欢这个苹果")
    if len(toks) > MAX_TOKENS:
        raise ValueError(f"the sentence has {len(toks)} tokens; at most {MAX_TOKENS} are supported")
    return toks


def _check_weights(weights, d_model, d_k):
    if weights is None:
        return None, d_model, d_k
    try:
        W_Q, W_K, W_V = weights
    except (TypeError, ValueError):
        raise TypeError("weights must be a tuple (W_Q, W_K, W_V) of 2-D arrays") from None
    W_Q, W_K, W_V = (_att._as_real_array(w, name).astype(float, copy=False)
                     for name, w in (("W_Q", W_Q), ("W_K", W_K), ("W_V", W_V)))
    for name, w in (("W_Q", W_Q), ("W_K", W_K), ("W_V", W_V)):
        if w.ndim != 2:
            raise ValueError(f"{name} must be 2-D (d_model, d_out); got shape {w.shape}")
    if not (W_Q.shape[0] == W_K.shape[0] == W_V.shape[0]):
        raise ValueError(f"W_Q {W_Q.shape}, W_K {W_K.shape}, W_V {W_V.shape} must have the same number of rows d_model")
    if W_Q.shape[1] != W_K.shape[1]:
        raise ValueError(f"W_Q {W_Q.shape} and W_K {W_K.shape} must have the same number of columns d_k")
    return (W_Q, W_K, W_V), W_Q.shape[0], W_Q.shape[1]


def _sentence_attention(tokens, causal, d_model, d_k, seed, weights):
    X = _tok.token_inputs(tokens, d_model, seed=seed)
    Wts = weights if weights is not None else _tok.init_qkv_weights(d_model, d_k, seed=seed)
    mask = _att.causal_mask(len(tokens)) if causal else None
    Z, A = _att.self_attention(X, *Wts, mask=mask)
    return A, mask, Z


def _sentence_title(causal) -> str:
    return "注意力权重 α（因果掩码）" if causal else "注意力权重 α"


class SentenceExplorer(_Panel):
    """Live panel of :func:`sentence_explorer`."""

    def __init__(self, text="我喜欢这个苹果", causal=False, d_model=16, d_k=8, seed=0, weights=None,
                 query=None, examples=EXAMPLE_SENTENCES):
        self.weights, self.d_model, self.d_k = _check_weights(weights, d_model, d_k)
        self.seed = seed
        tokens = _sentence_tokens(text)
        initial = text if isinstance(text, str) else " ".join(tokens)
        opts = list(dict.fromkeys([initial, *examples]))
        self.text_input = W.Combobox(value=initial, options=opts, description="句子", ensure_option=False,
                                     continuous_update=False, placeholder="输入一句中文，回车确认",
                                     style={"description_width": "40px"}, layout=W.Layout(width="560px"))
        self.causal_toggle = W.Checkbox(value=bool(causal), description="因果掩码 (causal mask)：只能看前面的词",
                                        indent=False, layout=W.Layout(width="auto"))
        self.slider_query = W.SelectionSlider(options=[("（无）", -1)], value=-1, description="查询词（高亮行）",
                                              continuous_update=True, style=_STYLE, layout=_slider_layout("560px"))
        super().__init__("句子自注意力：每一行是一个查询词，对所有键的注意力权重",
                         [self.text_input, self.causal_toggle, self.slider_query], view_height="260px")
        self.tokens = tokens
        self._set_query_options(query)
        self._watch(self.causal_toggle, self.slider_query)
        self.text_input.observe(self._on_text, names="value")
        self.refresh()

    def _set_query_options(self, query=None):
        opts = [("（无）", -1)] + [(f"{i + 1}·{t}", i) for i, t in enumerate(self.tokens)]
        if query is not None and not (isinstance(query, int) and -len(self.tokens) <= query < len(self.tokens)):
            raise ValueError(f"query must be a token index 0…{len(self.tokens) - 1}, got {query!r}")
        with self._quiet():
            self.slider_query.options = opts
            self.slider_query.value = -1 if query is None else query % len(self.tokens)

    def _on_text(self, change=None):
        try:
            toks = _sentence_tokens(self.text_input.value)
        except (ValueError, TypeError) as exc:
            self.readout.value = f'<div style="color:#b00020">⚠ {_esc(exc)}</div>'
            return
        self.tokens = toks
        self._set_query_options(None)
        self.refresh()

    def refresh(self):
        toks = self.tokens
        A, mask, Z = _sentence_attention(toks, bool(self.causal_toggle.value), self.d_model, self.d_k,
                                         self.seed, self.weights)
        row = None if self.slider_query.value in (-1, None) else int(self.slider_query.value)
        self.values = {"tokens": list(toks), "weights": A, "mask": mask, "query": row, "Z": Z}
        self.view.value = heatmap_html(A, toks, toks, mask=mask, highlight_row=row,
                                       title=_sentence_title(mask is not None))
        n = len(toks)
        if row is None:
            txt = f"{n} 个词；每行的权重之和为 1。用滑块选一个查询词，看它的那一行。"
        else:
            order = np.argsort(-A[row])[:3]
            top = "，".join(f"{toks[j]} {A[row, j]:.3f}" for j in order if mask is None or mask[row, j])
            txt = f"查询词「{toks[row]}」最关注：{top}（这一行之和 = {A[row].sum():.3f}）"
        if mask is not None:
            txt += f" 因果掩码已打开：{int((~mask).sum())} 个格子被遮住（灰色斜线），每个词只看自己和前面的词。"
        else:
            txt += " 因果掩码关闭：每个词可以看到所有词。"
        self.readout.value = f'<div style="font-family:{FONT_STACK}">{_esc(txt)}</div>'


def sentence_explorer(text="我喜欢这个苹果", *, causal=False, d_model=16, d_k=8, seed=0, weights=None,
                      query=None) -> SentenceExplorer:
    """Self-attention heatmap of a sentence: text box with examples, causal-mask toggle, query-row slider.

    ``weights=(W_Q, W_K, W_V)`` replaces the random projections (then ``d_model``
    and ``d_k`` are taken from ``W_Q``).

    Parameters
    ----------
    text : str or sequence of str, default "我喜欢这个苹果"
        A sentence (tokenized with :func:`helpers.tokenize`) or a token list; at most 32 tokens.
    causal : bool, default False
        Start with the causal mask switched on.
    d_model, d_k : int, default 16, 8
        Sizes of the random embeddings / projections.
    seed : int, default 0
    weights : tuple (W_Q, W_K, W_V), optional
    query : int, optional
        Token row highlighted at the start (default none).

    Returns
    -------
    SentenceExplorer
        A displayable widget (make it the last line of a cell); ``text_input``, ``causal_toggle``,
        ``slider_query``.
    """
    return SentenceExplorer(text, causal, d_model, d_k, seed, weights, query)


def sentence_figure(text="我喜欢这个苹果", *, causal=False, d_model=16, d_k=8, seed=0, weights=None,
                    query=None, title=None):
    """Static counterpart of :func:`sentence_explorer` (same tokens, mask, highlight and colours).

    Parameters
    ----------
    text, causal, d_model, d_k, seed, weights, query
        As in :func:`sentence_explorer`.
    title : str, optional
        Default 注意力权重 α (with （因果掩码） when ``causal``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    weights, d_model, d_k = _check_weights(weights, d_model, d_k)
    toks = _sentence_tokens(text)
    A, mask, _ = _sentence_attention(toks, causal, d_model, d_k, seed, weights)
    if title is None:
        title = _sentence_title(causal)
    return plots.attention_heatmap(A, toks, toks, mask=mask, highlight_row=query, title=title)
