"""Panel family 5 — every head at once (chapter 09, 多头注意力).

``multihead_panel`` (controls ``slider_query``, a SelectionSlider whose value is the
query row; ``head_select``, ToggleButtons whose value is the head index): all heads'
attention weights side by side as small heatmaps sharing one colour scale (0–1) with
the query row outlined, the query's row in every head as one annotated table, and the
selected head's full annotated heatmap.  The weights are computed once (the sentence
and the layer do not change), so a control change only rebuilds HTML strings.

``multihead_figure`` is its static twin (:func:`helpers.multihead_plots.heads_grid_figure` with
``row_table=True``: the panel's first tab, the same layout; for more than 12 tokens the heads' grid alone).
"""

from __future__ import annotations

import base64
import struct
import zlib

import ipywidgets as W
import numpy as np

from .. import attention as _att
from .. import multihead as _mh
from .. import multihead_plots as _mhp
from .. import tokens as _tok
from .. import plots
from .. import validation as _v
from .primitives import (FONT_STACK, Panel, color_index, color_lut, esc, heatmap_html, row_html,
                         slider_layout)

__all__ = ["multihead_panel", "multihead_figure", "MultiHeadPanel", "MULTIHEAD_TOKENS"]

#: The panel's default sentence: 12 tokens, with 它 referring back to 小猫.
MULTIHEAD_TOKENS = ("那个", "小猫", "昨天", "在", "公园", "里", "追逐", "一只", "蝴蝶", "现在", "它", "饿坏了")


def _tokens(tokens) -> list[str]:
    """The panel's tokens: the default sentence, a str (tokenized) or a list of str; at most 16."""
    if tokens is None:
        return list(MULTIHEAD_TOKENS)
    if isinstance(tokens, str):
        toks = _tok.tokenize(_v.check_text(tokens, "tokens"))
        if not toks:
            raise ValueError(f"tokens={tokens!r:.40} gives no tokens (only spaces or punctuation?); "
                             f"give a short Chinese sentence or a list of tokens")
    else:
        toks = _v.check_tokens(tokens, "tokens")
    if len(toks) > 16:
        raise ValueError(f"the panel shows at most 16 tokens (4 small heatmaps side by side); got {len(toks)}")
    return toks


def _setup(tokens, weights, n_heads, causal, query, head):
    """Checked inputs of the panel and its figure → ``(tokens, alpha (h, n, n), mask, query, head)``;
    ``query`` None → the first 它 (else 0)."""
    toks = _tokens(tokens)
    n_heads = _v.check_positive_int(n_heads, "n_heads")
    causal = _v.check_bool(causal, "causal")
    if query is not None:
        query = _v.check_index(query, len(toks), "query", "tokens")
    head = _v.check_index(head, n_heads, "head", "heads")
    if weights is None:
        weights = _mh.demo_heads(d_model=16, n_heads=n_heads)
    if isinstance(weights, (str, bytes, np.ndarray)) or not isinstance(weights, (tuple, list)) or len(weights) != 4:
        raise TypeError("weights must be a tuple (W_Q, W_K, W_V, W_O) of (d_model, d_model) arrays")
    w_q, w_k, w_v, w_o = (_v.as_real_array(w, f"weights[{i}] ({nm})")
                          for i, (nm, w) in enumerate(zip(("W_Q", "W_K", "W_V", "W_O"), weights)))
    _v.check_ndim(w_q, "weights[0] (W_Q)", 2, "(d_model, d_model)")
    x = _tok.token_inputs(toks, w_q.shape[0])
    mask = _att.causal_mask(len(toks)) if causal else None
    _, alpha = _att.multi_head_self_attention(x, w_q, w_k, w_v, n_heads, w_o=w_o, mask=mask)
    if query is None:
        query = toks.index("它") if "它" in toks else 0
    return toks, alpha, mask, query, head


_CELL_PX = 14


def _png_data_uri(rgb: np.ndarray) -> str:
    """A tiny RGB image (h, w, 3) uint8 as a ``data:image/png;base64,…`` URI (no imaging library needed)."""
    h_px, w_px, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[i].tobytes() for i in range(h_px))   # filter type 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w_px, h_px, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _heatmap_image(M, mask) -> str:
    """One head's weights as a PNG (a _CELL_PX-pixel square per cell, 0–1 colour scale; blocked cells grey)."""
    hexes, _ = color_lut(plots.WEIGHTS_CMAP)
    lut = np.array([[int(hx[k:k + 2], 16) for k in (1, 3, 5)] for hx in hexes], dtype=np.uint8)
    rgb = lut[color_index(M, 0.0, 1.0)]
    if mask is not None:
        grey = [int(plots.MASK_COLOR[k:k + 2], 16) for k in (1, 3, 5)]
        rgb[~np.broadcast_to(mask, M.shape)] = grey
    # drawn at its displayed size (cell = _CELL_PX pixels): never scaled up by the browser
    rgb = np.repeat(np.repeat(rgb, _CELL_PX, axis=0), _CELL_PX, axis=1)
    return _png_data_uri(np.ascontiguousarray(rgb))


def _small_heatmap(image_uri, n, query, title, *, selected, row_labels=None) -> str:
    """One head as a small heatmap: a PNG (cached by the panel), the query row outlined.

    An image instead of n² HTML cells keeps the page's DOM small, so the browser redraws fast.
    """
    c = _CELL_PX
    pic = (f'<div style="position:relative;width:{n * c}px;height:{n * c}px">'
           f'<img src="{image_uri}" width="{n * c}" height="{n * c}" alt="{esc(title)}" '
           f'style="display:block">'
           f'<div style="position:absolute;left:-2px;top:{query * c - 2}px;width:{n * c}px;height:{c}px;'
           f'border:2px solid {plots.HIGHLIGHT_COLOR}"></div></div>')
    labels = ""
    if row_labels is not None:
        labels = ('<div style="display:grid;grid-auto-rows:{0}px;font-size:12px;line-height:{0}px;'
                  'text-align:right;margin-right:4px">'.format(c)
                  + "".join(f"<div>{esc(t)}</div>" for t in row_labels) + "</div>")
    frame = plots.HIGHLIGHT_COLOR if selected else "transparent"
    head = f'<div style="font-weight:600;text-align:center;margin-bottom:3px">{esc(title)}{"（选中）" if selected else ""}</div>'
    return (f'<div style="font-family:{FONT_STACK};border:3px solid {frame};padding:3px">{head}'
            f'<div style="display:flex;align-items:flex-start">{labels}{pic}</div></div>')


class MultiHeadPanel(Panel):
    """Live panel of :func:`multihead_panel`.

    Laid out to fit one 1280×720 slide (≤ 680 px tall): the two controls in one row; tab 1
    ("所有头") the heads' small heatmaps in a 2-column grid beside the query's row in every head
    (annotated, with the shared 0–1 colour bar); tab 2 ("选中头的完整热力图", ``detail``) the
    selected head's full annotated heatmap, drawn only while that tab is shown.
    """

    def __init__(self, tokens=None, weights=None, n_heads=4, causal=False, query=None, head=0):
        self.tokens, self.alpha, self.mask, query, head = _setup(tokens, weights, n_heads, causal, query, head)
        for arr in (self.alpha, self.mask):   # the small heatmaps below are drawn once from them: read-only
            if arr is not None:
                arr.setflags(write=False)
        self._images = [_heatmap_image(a, self.mask) for a in self.alpha]   # the weights never change
        self.slider_query = W.SelectionSlider(options=[(f"{i + 1}·{t}", i) for i, t in enumerate(self.tokens)],
                                              value=query, description="查询词（高亮行）", continuous_update=True,
                                              style={"description_width": "120px"}, layout=slider_layout("460px"))
        self.head_select = W.ToggleButtons(options=[(f"头 {i + 1}", i) for i in range(len(self.alpha))], value=head,
                                           style={"button_width": "56px"})
        super().__init__("多头注意力：同一个查询词在每个头里看谁（所有头共用一个色标 0–1）",
                         [W.HBox([self.slider_query, W.Label("看哪个头", layout=W.Layout(margin="0 6px 0 24px")),
                                 self.head_select], layout=W.Layout(flex_flow="row wrap", align_items="center"))])
        # the selected head's full heatmap is secondary detail: a second tab keeps the slide short
        self.detail = W.HTML()
        self.tabs = W.Tab([self.view, self.detail], titles=("所有头", "选中头的完整热力图"))
        header, controls = self.children[:2]
        self.children = [header, controls, self.tabs, self.readout]
        self._watch(self.slider_query, self.head_select)
        self.tabs.observe(self._on_change, names="selected_index")
        self.refresh()

    def refresh(self):
        toks, A, mask = self.tokens, self.alpha, self.mask
        q, sel = int(self.slider_query.value), int(self.head_select.value)
        n_heads = A.shape[0]
        self.values = {"tokens": list(toks), "weights": A.copy(), "query": q, "head": sel, "rows": A[:, q].copy()}
        small = [_small_heatmap(self._images[i], len(toks), q, f"头 {i + 1}", selected=(i == sel),
                                row_labels=toks if i % 2 == 0 else None) for i in range(n_heads)]
        grid = ('<div style="display:grid;grid-template-columns:auto auto;gap:4px 6px;align-items:end">'
                + "".join(small) + "</div>")
        rows = heatmap_html(A[:, q], [f"头 {i + 1}" for i in range(n_heads)], toks, annotate=True,
                            mask=None if mask is None else np.broadcast_to(mask[q], (n_heads, len(toks))),
                            highlight_row=sel, cell_px=36, colorbar=True, ylabel="",
                            title=f"查询「{toks[q]}」在每个头的权重（橙框：选中的头）")
        self.view.value = row_html(grid, rows, gap=16)
        if self.tabs.selected_index == 1:   # built only while shown: a slider move sends half the HTML
            self.detail.value = heatmap_html(A[sel], toks, toks, annotate=True, mask=mask, highlight_row=q, cell_px=32,
                                             title=f"头 {sel + 1} 的全部注意力权重")
        top = "；".join(f"头 {i + 1} → {toks[int(np.argmax(A[i, q]))]} {A[i, q].max():.3f}" for i in range(n_heads))
        txt = f"查询词「{toks[q]}」最关注：{top}。"
        self.readout.value = f'<div style="font-family:{FONT_STACK}">{esc(txt)}</div>'


def multihead_panel(tokens=None, *, weights=None, n_heads=4, causal=False, query=None, head=0) -> MultiHeadPanel:
    """All heads of one multi-head layer at once: query slider + head selector.

    Parameters
    ----------
    tokens : str or sequence of str, optional
        Default :data:`MULTIHEAD_TOKENS` (12 tokens).
    weights : (W_Q, W_K, W_V, W_O), optional
        Default :func:`helpers.multihead.demo_heads` (heads 1 and 2 hand-built:
        它 → 小猫 and 它 → 饿坏了; heads 3 and 4 random, untrained).
    n_heads : int, default 4
    causal : bool, default False
    query : int, optional
        Initial query row (default: the first 它, else 0).
    head : int, default 0
        Initially selected head.
    """
    return MultiHeadPanel(tokens, weights, n_heads, causal, query, head)


def multihead_figure(tokens=None, *, weights=None, n_heads=4, causal=False, query=None, head=0):
    """Static twin of :func:`multihead_panel` in its default state (matplotlib Figure)."""
    toks, alpha, mask, query, head = _setup(tokens, weights, n_heads, causal, query, head)
    # > 12 tokens: the classic grid (numbers written into each head's query row); their labels need more room
    table = len(toks) <= 12
    where = f"右边写出「{toks[query]}」这一行在每个头的数值" if table else "那一行写出了数值"
    return _mhp.heads_grid_figure(alpha, toks, query=query, selected=head, mask=mask, row_table=table,
                                  title=f"{alpha.shape[0]} 个头（同一色标 0–1），橙框是查询「{toks[query]}」那一行；{where}")
