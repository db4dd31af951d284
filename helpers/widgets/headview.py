"""Panel family 5 — the head view and the model view of a multi-layer, multi-head model (chapter 10).

bertviz-style pictures of given attention weights, laid out horizontally for
CJK text: the tokens are drawn twice, queries in the top row and keys in the
bottom row, and a line joins query i to key j with **opacity = α_ij** (the
attention weight) in the colour of its head.  Lines with α < :data:`MIN_ALPHA`
(opacity under 1 %) are left out so the page stays light.

``head_view(tokens, weights, layer=0, head=None, query=None)``
    controls ``layer_select`` (ToggleButtons, value = layer index), ``head_select``
    (ToggleButtons, value = head index, -1 = all heads overlaid), ``slider_query``
    (SelectionSlider, value = query index, -1 = every query), ``export_button``
    (writes the current view as an .svg file into the working directory);
    ``panel.export(path)`` writes it anywhere (``.svg`` or ``.html``).
``model_view(tokens, weights, query=None)``
    a grid of thumbnails, one per layer (rows) × head (columns); control ``slider_query``.
``head_view_figure`` / ``model_view_figure``
    the same pictures as matplotlib figures (static twins).
``export_head_view(path, tokens, weights, ...)``
    a standalone ``.svg`` or ``.html`` file (no JavaScript, nothing fetched) for slides.
``example_attention()``
    hand-made weights (2 layers × 4 heads × 32 tokens: a previous-token head, an
    induction-like head, …) for trying the panels without a model; not from a trained model.

``weights`` has shape ``(n_layers, n_heads, n, n)``, rows = queries, columns =
keys; every row must hold finite numbers in [0, 1] that sum to 1 (masked keys,
e.g. under a causal mask, are 0).  Layer, head and query indices are 0-based in
the API; the pictures label them from 1 (第 1 层, 头 1, 1·今).
"""

from __future__ import annotations

import os
from pathlib import Path

import ipywidgets as W
import numpy as np

from .. import attention as _att
from .. import plots
from .. import validation as _v
from .primitives import (FONT_STACK, esc, head_color, slider, visible_text, Panel)

__all__ = ["head_view", "head_view_figure", "model_view", "model_view_figure", "export_head_view",
           "example_attention", "MIN_ALPHA", "HeadViewPanel", "ModelViewPanel"]

#: Lines with a smaller weight (opacity under 1 %) are not drawn.
MIN_ALPHA = 0.01
#: Tolerances of the input check: values in [-TOL, 1 + TOL], row sums within SUM_TOL of 1 (float32 safe).
_TOL = 1e-6
_SUM_TOL = 1e-4

_QUERY_LABEL = "查询 (query)"
_KEY_LABEL = "键 (key)"


# ---------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------

def _check_inputs(tokens, weights):
    """Validated (tokens as list of str, weights as a float64 copy of shape (L, H, n, n))."""
    A = _att._as_float_array(weights, "weights").astype(np.float64, copy=True)
    if A.ndim != 4:
        hint = " For one head's (n, n) matrix pass weights[None, None]." if A.ndim == 2 else ""
        raise ValueError(f"weights must be 4-D (n_layers, n_heads, n, n) with rows = queries; got shape "
                         f"{tuple(A.shape)}.{hint}")
    n_layers, n_heads, n_q, n_k = A.shape
    if min(A.shape) == 0:
        raise ValueError(f"weights is empty: shape {tuple(A.shape)}")
    if n_q != n_k:
        raise ValueError(f"weights must be self-attention weights (n, n) per head; got {n_q} queries × {n_k} keys "
                         f"(shape {tuple(A.shape)})")
    if not np.all(np.isfinite(A)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(A))[0])
        raise ValueError(f"weights contains NaN or inf (first at index {bad}: {A[bad]!r}); shape {tuple(A.shape)}")
    if A.min() < -_TOL or A.max() > 1 + _TOL:
        bad = tuple(int(i) for i in np.argwhere((A < -_TOL) | (A > 1 + _TOL))[0])
        raise ValueError(f"weights must lie in [0, 1] (they are softmax outputs); weights{list(bad)} = {A[bad]:.6g}, "
                         f"shape {tuple(A.shape)}")
    sums = A.sum(axis=-1)
    off = np.abs(sums - 1.0) > _SUM_TOL
    if off.any():
        l, h, i = (int(v) for v in np.argwhere(off)[0])
        raise ValueError(f"every row of weights must sum to 1 over the keys (masked keys 0); row "
                         f"weights[{l}, {h}, {i}] (layer {l}, head {h}, query {i}) sums to {sums[l, h, i]:.6g}; "
                         f"shape {tuple(A.shape)}")
    np.clip(A, 0.0, 1.0, out=A)
    if isinstance(tokens, (str, bytes)):
        raise TypeError(f"tokens must be a list of str, one per row of weights, not one string ({tokens!r}); "
                        f"for characters use list(text)")
    if not isinstance(tokens, (list, tuple, np.ndarray)):  # a dict or a generator is not taken apart for you
        raise TypeError(f"tokens must be a list of str, got {type(tokens).__name__}")
    toks = list(tokens)
    for i, t in enumerate(toks):
        if not isinstance(t, str):
            raise TypeError(f"tokens[{i}] must be a str, got {type(t).__name__} ({t!r})")
        _v.check_text(t, f"tokens[{i}]", allow_empty=True)  # a lone surrogate cannot be written to a page or file
    if len(toks) != n_q:
        raise ValueError(f"tokens has {len(toks)} entries but weights has n = {n_q} tokens (shape {tuple(A.shape)})")
    return toks, A


def _check_index(value, size, name, what, allow_none):
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        none = " or None" if allow_none else ""
        raise TypeError(f"{name} must be an int{none}, got {type(value).__name__} ({value!r})")
    if not -size <= int(value) < size:
        raise ValueError(f"{name} must be a {what} index 0…{size - 1} (or negative from the end), got {value}")
    return int(value) % size


def _check_view(A, layer, head, query):
    n_layers, n_heads, n, _ = A.shape
    return (_check_index(layer, n_layers, "layer", "layer", False),
            _check_index(head, n_heads, "head", "head", True),
            _check_index(query, n, "query", "token", True))


def _shown_token(t: str) -> str:
    """What is drawn for a token: blanks and control characters become visible (``\\x1b``)."""
    if t == "\n":
        return "⏎"
    return "␣" if t.strip() == "" else visible_text(t)


def _text_px(s: str, font_px: float) -> float:
    """Rough drawn width of ``s``: CJK / full-width glyphs 1 em, others 0.62 em."""
    return sum(1.0 if ord(c) >= 0x2E80 else 0.62 for c in s) * font_px


def _heads(head, n_heads):
    return list(range(n_heads)) if head is None else [head]


def _head_name(head) -> str:
    return "全部头" if head is None else f"头 {head + 1}"


# ---------------------------------------------------------------------------
# SVG pictures
# ---------------------------------------------------------------------------

_HV_FONT = 16        # token labels
_HV_SMALL = 14       # row labels, legend, numbers (digits ≈ 10 px tall)
_HV_LINES = 150      # height of the band of lines
_HV_LEFT = 46


def _hv_geometry(tokens):
    labels = [_shown_token(t) for t in tokens]
    slot = max(30.0, max(_text_px(t, _HV_FONT) for t in labels) + 10)
    return labels, slot


_HV_BUCKETS = 100    # opacity steps of the all-queries view


def _bucketed_paths(Ah, xs, y0, y1, buckets):
    """``<path>`` elements drawing the line i → j for every α_ij >= MIN_ALPHA, one path per opacity step."""
    ii, jj = np.nonzero(Ah >= MIN_ALPHA)
    b = np.maximum(1, np.rint(Ah[ii, jj] * buckets).astype(int))
    order = np.argsort(b, kind="stable")
    ii, jj, b = ii[order], jj[order], b[order]
    out = []
    steps, starts = np.unique(b, return_index=True)
    for step, start, stop in zip(steps, starts, np.r_[starts[1:], len(b)]):
        d = "".join(f"M{xs[i]:.1f} {y0}L{xs[j]:.1f} {y1}" for i, j in zip(ii[start:stop], jj[start:stop]))
        out.append(f'<path d="{d}" stroke-opacity="{step / buckets:.2f}"/>')
    return out


def head_view_svg(tokens, weights, layer=0, head=None, query=None) -> str:
    """The head view as an inline ``<svg>`` string (what the panel shows; checked like :func:`head_view`)."""
    tokens, A = _check_inputs(tokens, weights)
    layer, head, query = _check_view(A, layer, head, query)
    return _head_view_svg(tokens, A, layer, head, query)


def _head_view_svg(tokens, A, layer, head, query) -> str:
    n_heads, n = A.shape[1], A.shape[2]
    labels, slot = _hv_geometry(tokens)
    heads = _heads(head, n_heads)
    legend = f"上排：{_QUERY_LABEL}　下排：{_KEY_LABEL}　线的不透明度 = 注意力权重 α"
    width = int(max(_HV_LEFT + n * slot + 12, _HV_LEFT + 58 * len(heads) + 12 + _text_px(legend, _HV_SMALL)))
    y_q, y0 = 74, 82                  # query baseline, top of the lines
    y1 = y0 + _HV_LINES               # bottom of the lines
    y_k = y1 + 22                     # key baseline
    height = y_k + (44 if query is not None else 14)
    xs = _HV_LEFT + (np.arange(n) + 0.5) * slot
    spread = min(3.0, slot / (2 * max(len(heads), 1)))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" style="max-width:100%;height:auto;font-family:{FONT_STACK};font-size:{_HV_SMALL}px">']
    title = f"第 {layer + 1} 层 · {_head_name(head)}" + ("" if query is None else f" · 查询「{tokens[query]}」")
    out.append(f'<text x="{_HV_LEFT}" y="18" font-size="14" font-weight="600">{esc(title)}</text>')
    # legend: head colours, then what the rows and the opacity mean
    x = float(_HV_LEFT)
    for h in heads:
        out.append(f'<rect x="{x:.0f}" y="30" width="14" height="10" fill="{head_color(h)}"/>'
                   f'<text x="{x + 18:.0f}" y="40">头 {h + 1}</text>')
        x += 58
    out.append(f'<text x="{x + 6:.0f}" y="40" fill="#555">{esc(legend)}</text>')
    out.append(f'<text x="4" y="{y_q}" fill="#555">查询</text><text x="4" y="{y_k}" fill="#555">键</text>')
    # lines with α >= MIN_ALPHA, opacity = α: one <line> each for a selected query; for every query at once
    # (up to n² lines per head) one <path> per head and opacity step of 0.01, so the page stays light
    # Chromium paints the all-queries view of several heads 5x faster with 1-px strokes (~20 vs ~110 ms)
    width_px = 2.0 if len(heads) == 1 else (1.6 if query is not None else 1.0)
    for k, h in enumerate(heads):
        off = (k - (len(heads) - 1) / 2) * spread
        out.append(f'<g stroke="{head_color(h)}" stroke-width="{width_px}" stroke-linecap="round" fill="none">')
        Ah = A[layer, h]
        if query is not None:
            xq = xs[query] + off
            for j in np.flatnonzero(Ah[query] >= MIN_ALPHA):
                out.append(f'<line x1="{xq:.1f}" y1="{y0}" x2="{xs[j] + off:.1f}" y2="{y1}" '
                           f'stroke-opacity="{Ah[query, j]:.3f}"/>')
        else:
            out.extend(_bucketed_paths(Ah, xs + off, y0, y1, _HV_BUCKETS))
        out.append("</g>")
    # token rows
    for i, t in enumerate(labels):
        if query is not None and i == query:
            w = _text_px(t, _HV_FONT) + 8
            out.append(f'<rect x="{xs[i] - w / 2:.1f}" y="{y_q - 18}" width="{w:.1f}" height="24" rx="4" '
                       f'fill="#fff3e0" stroke="{plots.HIGHLIGHT_COLOR}" stroke-width="2"/>')
        fill = "#999" if query is not None and i != query else "#222"
        out.append(f'<text x="{xs[i]:.1f}" y="{y_q}" text-anchor="middle" font-size="{_HV_FONT}" fill="{fill}">'
                   f'{esc(t)}<title>{i + 1}·{esc(tokens[i])}</title></text>')
        out.append(f'<text x="{xs[i]:.1f}" y="{y_k}" text-anchor="middle" font-size="{_HV_FONT}">{esc(t)}'
                   f'<title>{i + 1}·{esc(tokens[i])}</title></text>')
    # under the keys, for one selected query: the weight (one head) or a small bar per head
    if query is not None:
        if len(heads) == 1:
            row = A[layer, heads[0], query]
            vertical = slot < 40
            for j in np.flatnonzero(row >= 0.005):
                yy = y_k + 10
                if vertical:
                    out.append(f'<text transform="translate({xs[j] + 4:.1f},{yy}) rotate(90)" '
                               f'font-size="{_HV_SMALL}">{row[j]:.2f}</text>')
                else:
                    out.append(f'<text x="{xs[j]:.1f}" y="{yy + 12}" text-anchor="middle" '
                               f'font-size="{_HV_SMALL}">{row[j]:.2f}</text>')
        else:
            bw = (slot - 6) / len(heads)
            for j in range(n):
                for k, h in enumerate(heads):
                    v = A[layer, h, query, j]
                    if v < 0.005:
                        continue
                    hh = max(1.0, 30 * v)
                    out.append(f'<rect x="{xs[j] - (slot - 6) / 2 + k * bw:.1f}" y="{y_k + 38 - hh:.1f}" '
                               f'width="{bw:.1f}" height="{hh:.1f}" fill="{head_color(h)}">'
                               f'<title>头 {h + 1} → {esc(tokens[j])}: {v:.3f}</title></rect>')
    out.append("</svg>")
    return "".join(out)


_MV_W, _MV_H = 228, 118   # thumbnail size
_MV_BUCKETS = 50          # opacity steps of the thumbnails' lines (one <path> per step)


def _model_view_svg(tokens, A, query) -> str:
    n_layers, n_heads, n, _ = A.shape
    pad_x, top, gap = 10, 26, 12
    width = n_heads * (_MV_W + gap) + 60
    height = n_layers * (_MV_H + gap) + 8
    xs = pad_x + (np.arange(n) + 0.5) * (_MV_W - 2 * pad_x) / n
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" style="max-width:100%;height:auto;font-family:{FONT_STACK};font-size:14px">']
    y0, y1 = top + 6, _MV_H - 10
    for l in range(n_layers):
        oy = l * (_MV_H + gap) + 4
        out.append(f'<text x="4" y="{oy + _MV_H / 2 + 5:.0f}" font-size="14" font-weight="600">第 {l + 1} 层</text>')
        for h in range(n_heads):
            ox = 60 + h * (_MV_W + gap)
            col = head_color(h)
            out.append(f'<g transform="translate({ox},{oy})">'
                       f'<rect width="{_MV_W}" height="{_MV_H}" fill="#fff" stroke="#ddd"/>'
                       f'<text x="{_MV_W / 2}" y="17" text-anchor="middle" font-size="14" fill="{col}">'
                       f'第{l + 1}层·头{h + 1}</text>')
            Ah = A[l, h]
            if query is not None:
                Ah = np.where(np.arange(n)[:, None] == query, Ah, 0.0)
            out.append(f'<g stroke="{col}" stroke-width="1" fill="none">')
            out.extend(_bucketed_paths(Ah, xs, y0, y1, _MV_BUCKETS))
            out.append("</g>")
            if query is not None:
                out.append(f'<circle cx="{xs[query]:.1f}" cy="{y0 - 3}" r="4" fill="{plots.HIGHLIGHT_COLOR}"/>')
            out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def _readout_html(tokens, A, layer, head, query) -> str:
    n_heads, n = A.shape[1], A.shape[2]
    if query is None:
        txt = (f"第 {layer + 1} 层 · {_head_name(head)} · {n} 个词（共 {A.shape[0]} 层 × {n_heads} 个头）。"
               f"线越不透明，注意力权重 α 越大（α < {MIN_ALPHA} 的线不画）。用“查询词”滑块只看一个词的连线。")
        return f'<div style="font-family:{FONT_STACK}">{esc(txt)}</div>'
    parts = [f"查询词「{esc(tokens[query])}」（第 {query + 1} 个词），第 {layer + 1} 层："]
    for h in _heads(head, n_heads):
        row = A[layer, h, query]
        top = np.argsort(-row, kind="stable")[:3]
        best = "，".join(f"「{esc(tokens[j])}」{row[j]:.2f}" for j in top if row[j] >= 0.005)
        parts.append(f'<span style="color:{head_color(h)};font-weight:600">头 {h + 1}</span> 最关注 {best}')
    return f'<div style="font-family:{FONT_STACK};line-height:1.6">' + parts[0] + "<br>" + "；　".join(parts[1:]) + "</div>"


# ---------------------------------------------------------------------------
# standalone files
# ---------------------------------------------------------------------------

def _write_standalone(path, svg: str, title: str, caption_html: str = "") -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    p = Path(_v.check_text(os.fsdecode(path), "path"))
    suffix = p.suffix.lower()
    if suffix == ".svg":
        text = '<?xml version="1.0" encoding="UTF-8"?>\n' + svg + "\n"
    elif suffix in (".html", ".htm"):
        text = ("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
                f"<title>{esc(title)}</title>\n</head>\n<body style=\"font-family:{esc(FONT_STACK)};margin:16px\">\n"
                f"{svg}\n{caption_html}\n</body>\n</html>\n")
    else:
        raise ValueError(f"path must end in .svg or .html (the file type is taken from the suffix), got {str(p)!r}")
    _v.check_writable_file(p, "path").write_text(text, encoding="utf-8")
    return p


def export_head_view(path, tokens, weights, *, layer=0, head=None, query=None) -> Path:
    """Write the head view as a standalone ``.svg`` or ``.html`` file (by suffix) for slides.

    The file needs nothing else: no JavaScript, no fonts or scripts fetched from
    the network (text uses the viewer's fonts, CJK included).

    Parameters
    ----------
    path : str or os.PathLike
        Ends in ``.svg`` or ``.html``.
    tokens, weights, layer, head, query
        As in :func:`head_view`.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    tokens, A = _check_inputs(tokens, weights)
    layer, head, query = _check_view(A, layer, head, query)
    return _write_standalone(path, _head_view_svg(tokens, A, layer, head, query), "注意力头视图 (head view)",
                             _readout_html(tokens, A, layer, head, query))


# ---------------------------------------------------------------------------
# live panels
# ---------------------------------------------------------------------------

def _query_options(tokens, all_label="（全部）"):
    return [(all_label, -1)] + [(f"{i + 1}·{_shown_token(t)}", i) for i, t in enumerate(tokens)]


class HeadViewPanel(Panel):
    """Live panel of :func:`head_view`."""

    def __init__(self, tokens, weights, layer=0, head=None, query=None):
        self.tokens, self.weights = _check_inputs(tokens, weights)
        layer, head, query = _check_view(self.weights, layer, head, query)
        n_layers, n_heads, n, _ = self.weights.shape
        # the buttons say what they choose (第 1 层, 头 1), so no descriptions: layer and head fit on one row
        self.layer_select = W.ToggleButtons(options=[(f"第 {l + 1} 层", l) for l in range(n_layers)], value=layer,
                                            tooltips=[f"第 {l + 1} 层的注意力" for l in range(n_layers)],
                                            style={"button_width": "72px"}, layout=W.Layout(width="auto"))
        self.head_select = W.ToggleButtons(options=[("全部头", -1)] + [(f"头 {h + 1}", h) for h in range(n_heads)],
                                           value=-1 if head is None else head,
                                           style={"button_width": "64px"}, layout=W.Layout(width="auto", margin="0 0 0 20px"))
        self.slider_query = slider(W.SelectionSlider, options=_query_options(self.tokens),
                                   value=-1 if query is None else query, description="查询词（只看它的线）", width="560px")
        self.export_button = W.Button(description="导出 SVG", icon="download", layout=W.Layout(width="120px"),
                                      tooltip="把当前视图存成 .svg 文件（在笔记本所在的文件夹）")
        super().__init__("注意力头视图 (head view)：上排查询词、下排键，线越深注意力权重 α 越大",
                         [W.HBox([self.layer_select, self.head_select], layout=W.Layout(flex_flow="row wrap")),
                          W.HBox([self.slider_query, self.export_button])],
                         view_height="300px")
        self.view.layout.overflow_x = "auto"
        self._watch(self.layer_select, self.head_select, self.slider_query)
        self.export_button.on_click(self._on_export)
        self.refresh()

    @property
    def state(self):
        """(layer, head, query) currently shown; head / query None = all."""
        h, q = int(self.head_select.value), int(self.slider_query.value)
        return int(self.layer_select.value), (None if h < 0 else h), (None if q < 0 else q)

    def refresh(self):
        layer, head, query = self.state
        A = self.weights
        heads = _heads(head, A.shape[1])
        shown = A[layer, heads].copy()
        self.values = {"layer": layer, "head": head, "query": query, "heads": heads, "weights": shown,
                       "query_weights": None if query is None else shown[:, query, :].copy()}
        self.view.value = _head_view_svg(self.tokens, A, layer, head, query)
        self.readout.value = _readout_html(self.tokens, A, layer, head, query)

    def export(self, path) -> Path:
        """Write the current view to ``path`` (``.svg`` or ``.html``); returns the path."""
        layer, head, query = self.state
        return _write_standalone(path, self.view.value, "注意力头视图 (head view)",
                                 _readout_html(self.tokens, self.weights, layer, head, query))

    def _on_export(self, _button=None):
        layer, head, query = self.state
        name = (f"head_view_L{layer + 1}_{'all' if head is None else f'H{head + 1}'}"
                f"{'' if query is None else f'_q{query + 1}'}.svg")
        try:
            p = self.export(name)
        except (OSError, ValueError) as exc:   # e.g. a read-only folder, or the working folder was deleted
            self.readout.value = f'<div style="color:#b00020">⚠ 导出失败：{esc(exc)}</div>'
            return
        self.readout.value += f'<div style="font-family:{FONT_STACK};color:#2ca02c">已保存：{esc(p.resolve())}</div>'


def head_view(tokens, weights, *, layer=0, head=None, query=None) -> HeadViewPanel:
    """bertviz-style head view: queries on top, keys below, line opacity = attention weight α.

    Parameters
    ----------
    tokens : list of str
        One per row of the weights (for characters: ``list(text)``); escaped before drawing.
    weights : array_like, shape (n_layers, n_heads, n, n)
        Attention weights, rows = queries, columns = keys; finite, in [0, 1], each row summing to 1
        (masked keys 0).  Copied: later changes to the array do not reach the panel.
    layer : int, default 0
        Layer shown at the start (0-based; drawn as 第 layer+1 层).
    head : int, optional
        Head shown at the start (0-based); None = all heads overlaid, one colour each.
    query : int, optional
        Only this query token's lines (0-based); None = every query.

    Returns
    -------
    HeadViewPanel
        A displayable widget; ``layer_select``, ``head_select``, ``slider_query``, ``export_button``,
        ``export(path)``, ``values`` (the weights shown).

    Raises
    ------
    TypeError, ValueError
        Bad tokens / weights (names the parameter and the shapes) or an index out of range.
    """
    return HeadViewPanel(tokens, weights, layer, head, query)


class ModelViewPanel(Panel):
    """Live panel of :func:`model_view`."""

    def __init__(self, tokens, weights, query=None):
        self.tokens, self.weights = _check_inputs(tokens, weights)
        query = _check_index(query, self.weights.shape[2], "query", "token", True)
        self.slider_query = slider(W.SelectionSlider, options=_query_options(self.tokens),
                                   value=-1 if query is None else query, description="查询词（只看它的线）", width="560px")
        super().__init__("模型视图 (model view)：每一格是一层里的一个头（上排查询词、下排键）",
                         [self.slider_query], view_height="280px")
        self.view.layout.overflow_x = "auto"
        self._watch(self.slider_query)
        self.refresh()

    def refresh(self):
        q = int(self.slider_query.value)
        query = None if q < 0 else q
        A = self.weights
        self.values = {"query": query, "query_weights": None if query is None else A[:, :, query, :].copy()}
        self.view.value = _model_view_svg(self.tokens, A, query)
        n_layers, n_heads, n, _ = A.shape
        if query is None:
            txt = (f"{n_layers} 层 × {n_heads} 个头，{n} 个词；线越不透明，注意力权重 α 越大。"
                   f"用滑块选一个查询词，看每个头从它出发看向哪里。")
            self.readout.value = f'<div style="font-family:{FONT_STACK}">{esc(txt)}</div>'
            return
        items = []
        for l in range(n_layers):
            for h in range(n_heads):
                j = int(np.argmax(A[l, h, query]))
                items.append(f'<span style="color:{head_color(h)}">第{l + 1}层·头{h + 1}</span> '
                             f'「{esc(self.tokens[j])}」{A[l, h, query, j]:.2f}')
        self.readout.value = (f'<div style="font-family:{FONT_STACK};line-height:1.6">查询词「{esc(self.tokens[query])}」'
                              f'（第 {query + 1} 个词），每个头最关注：' + "，".join(items) + "</div>")

    def export(self, path) -> Path:
        """Write the current grid to ``path`` (``.svg`` or ``.html``); returns the path."""
        return _write_standalone(path, self.view.value, "注意力模型视图 (model view)", self.readout.value)


def model_view(tokens, weights, *, query=None) -> ModelViewPanel:
    """Compact grid of every layer × head (thumbnails of the head view), one query slider for all.

    Parameters
    ----------
    tokens, weights
        As in :func:`head_view`.
    query : int, optional
        Only this query token's lines at the start (0-based); None = every query.

    Returns
    -------
    ModelViewPanel
        A displayable widget; ``slider_query``, ``export(path)``.
    """
    return ModelViewPanel(tokens, weights, query)


# ---------------------------------------------------------------------------
# static twins
# ---------------------------------------------------------------------------

def _draw_lines(ax, A, layer, heads, query, n, spread, lw):
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgb

    rows = range(n) if query is None else [query]
    for k, h in enumerate(heads):
        off = (k - (len(heads) - 1) / 2) * spread
        Ah = A[layer, h]
        segs, cols = [], []
        rgb = to_rgb(head_color(h))
        for i in rows:
            for j in np.flatnonzero(Ah[i] >= MIN_ALPHA):
                segs.append([(i + off, 1.0), (j + off, 0.0)])
                cols.append((*rgb, float(Ah[i, j])))
        if segs:
            ax.add_collection(LineCollection(segs, colors=cols, linewidths=lw, capstyle="round"))


def head_view_figure(tokens, weights, *, layer=0, head=None, query=None):
    """Static twin of :func:`head_view` (same rows, colours and opacities), as a matplotlib Figure.

    Parameters
    ----------
    tokens, weights, layer, head, query
        As in :func:`head_view`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.lines import Line2D

    tokens, A = _check_inputs(tokens, weights)
    layer, head, query = _check_view(A, layer, head, query)
    n_heads, n = A.shape[1], A.shape[2]
    heads = _heads(head, n_heads)
    labels = [plots._plain_text(_shown_token(t)) for t in tokens]   # drawn literally ($ is not mathtext)
    fs = 13 if n <= 24 else (12 if n <= 36 else plots.MIN_FONT_PT)  # 10 in wide: ~14 px per token at n = 64
    width = min(10.0, max(5.0, 0.3 * n + 2.2))
    fig, ax = plots._subplots(figsize=(width, 3.6), layout="constrained")
    _draw_lines(ax, A, layer, heads, query, n, spread=min(0.08, 0.4 / len(heads)), lw=2.0 if len(heads) == 1 else 1.5)
    for i, t in enumerate(labels):
        hl = query is not None and i == query
        ax.text(i, 1.06, t, ha="center", va="bottom", fontsize=fs, color="#999" if query is not None and not hl else "#222",
                bbox=dict(boxstyle="round,pad=0.2", fc="#fff3e0", ec=plots.HIGHLIGHT_COLOR, lw=1.5) if hl else None)
        ax.text(i, -0.06, t, ha="center", va="top", fontsize=fs)
    y_min = -0.25
    if query is not None and len(heads) == 1 and n <= 16:
        row = A[layer, heads[0], query]
        for j in np.flatnonzero(row >= 0.005):
            ax.text(j, -0.32, f"{row[j]:.2f}", ha="center", va="top", fontsize=plots.MIN_FONT_PT)
        y_min = -0.45
    elif query is not None and len(heads) > 1:   # a small bar per head under each key, as in the live view
        bw = 0.8 / len(heads)
        for k, h in enumerate(heads):
            ax.bar(np.arange(n) - 0.4 + (k + 0.5) * bw, 0.25 * A[layer, h, query], width=bw, bottom=-0.58,
                   color=head_color(h))
        y_min = -0.6
    ax.set_xlim(-0.7, n - 0.3)
    ax.set_ylim(y_min, 1.25)
    ax.set_yticks([0, 1], ["键\n(key)", "查询\n(query)"])
    ax.set_xticks([])
    ax.tick_params(length=0)
    ax.spines[:].set_visible(False)
    handles = [Line2D([], [], color=head_color(h), lw=3, label=f"头 {h + 1}") for h in heads]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=len(heads), frameon=False,
              borderaxespad=0.1, handlelength=1.2, columnspacing=1.0)
    title = f"第 {layer + 1} 层 · {_head_name(head)}" + ("" if query is None else f" · 查询「{labels[query]}」")
    fig.suptitle(f"{title}：线的不透明度 = 注意力权重 α")
    return fig


def model_view_figure(tokens, weights, *, query=None):
    """Static twin of :func:`model_view`: one small head view per layer (rows) × head (columns).

    Parameters
    ----------
    tokens, weights, query
        As in :func:`model_view`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    tokens, A = _check_inputs(tokens, weights)
    n_layers, n_heads, n, _ = A.shape
    query = _check_index(query, n, "query", "token", True)
    fig, axes = plots._subplots(n_layers, n_heads, figsize=(min(10.0, 2.45 * n_heads + 0.6), 1.7 * n_layers + 0.7),
                                layout="constrained", squeeze=False)
    for l in range(n_layers):
        for h in range(n_heads):
            ax = axes[l, h]
            _draw_lines(ax, A, l, [h], query, n, spread=0.0, lw=1.0)
            if query is not None:
                ax.plot([query], [1.04], "o", color=plots.HIGHLIGHT_COLOR, ms=6, clip_on=False)
            ax.set_xlim(-0.5, n - 0.5)
            ax.set_ylim(-0.05, 1.1)
            ax.set_xticks([])
            ax.set_yticks([])
            for s in ax.spines.values():
                s.set_color("#ddd")
            ax.set_title(f"第{l + 1}层·头{h + 1}", color=head_color(h), fontsize=12)
            if query is not None:   # name the key this head looks at most, so the panel reads without the live view
                j = int(np.argmax(A[l, h, query]))
                ax.set_xlabel(f"最看重「{plots._plain_text(_shown_token(tokens[j]))}」（α = {A[l, h, query, j]:.2f}）",
                              fontsize=11, color="#222")
    sub = "每格上排查询、下排键" + ("" if query is None else f"，只画查询「{plots._plain_text(_shown_token(tokens[query]))}」的线")
    fig.suptitle(f"模型视图：{n_layers} 层 × {n_heads} 个头\n（{sub}）", fontsize=12)
    return fig


# ---------------------------------------------------------------------------
# hand-made example weights
# ---------------------------------------------------------------------------

_EXAMPLE_CHARS = "天地人你我他山水火木日月风云花草鸟鱼春夏秋冬东西南北左右上下大小"


def example_attention(n_layers=2, n_heads=4, n=32, seed=0):
    """Hand-made causal attention weights to try the panels on (NOT from a trained model).

    ``tokens`` are ``n // 2`` characters followed by the same characters again,
    so in the repeat a token's previous occurrence exists.  Layer 1 (index 0),
    head 1 attends to the previous token; layer 2, head 1 attends to the token
    after the previous occurrence of the current one (an induction-like pattern);
    the other heads attend to themselves, to the first token, or broadly.  Every
    row is a causal softmax of these patterns plus seeded noise.

    Parameters
    ----------
    n_layers, n_heads : int, default 2, 4
    n : int, default 32
        Number of tokens (2 … 64).
    seed : int, default 0
        0 … 2**63 - 1.

    Returns
    -------
    tokens : list of str
    weights : ndarray, shape (n_layers, n_heads, n, n)
    """
    for name, v, lo, hi in (("n_layers", n_layers, 1, 12), ("n_heads", n_heads, 1, 16), ("n", n, 2, 64)):
        if not lo <= _v.check_int(v, name) <= hi:  # TypeError for 1.5, True or '3'
            raise ValueError(f"{name} must be an int in {lo}…{hi}, got {v!r}")
    seed = _v.check_seed(seed)
    half = n // 2
    tokens = [_EXAMPLE_CHARS[i] for i in range(half)] + [_EXAMPLE_CHARS[i] for i in range(n - half)]
    rng = np.random.default_rng([int(seed), 13])
    idx = np.arange(n)
    patterns = []
    prev = (idx[None, :] == idx[:, None] - 1).astype(float)
    prev[0, 0] = 1.0
    induct = np.zeros((n, n))
    for i in range(n):
        earlier = [j for j in range(i) if tokens[j] == tokens[i]]
        if earlier and earlier[-1] + 1 <= i:
            induct[i, earlier[-1] + 1] = 1.0
        else:
            induct[i, 0] = 1.0
    self_ = np.eye(n)
    first = np.zeros((n, n))
    first[:, 0] = 1.0
    patterns = [prev, self_, first, np.zeros((n, n))]
    weights = np.empty((n_layers, n_heads, n, n))
    causal = _att.causal_mask(n)
    for l in range(n_layers):
        for h in range(n_heads):
            if l == 1 and h == 0:
                P, strength = induct, 5.0
            else:
                P, strength = patterns[(h + l) % len(patterns)], 4.0 if h == 0 else 3.0
            scores = strength * P + 0.6 * rng.standard_normal((n, n))
            weights[l, h] = _att.softmax(np.where(causal, scores, -np.inf), axis=-1)
    return tokens, weights
