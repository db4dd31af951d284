"""Panel family 1 — the shapes of X, W_Q, Q, K, V (chapter 01).

``qkv_shapes_panel`` (controls ``slider_d_model``, ``slider_d_k``) draws X, W_Q,
Q, K and V as coloured grids labelled with their shapes; ``qkv_shapes_figure``
is its static default state (:func:`helpers.plots.qkv_grids`).
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np

from .. import attention as _att
from .. import plots
from .. import tokens as _tok
from .. import validation as _v
from .primitives import (FONT_STACK, heatmap_html, row_html, slider, Panel)

__all__ = ["qkv_shapes_panel", "qkv_shapes_figure", "QKVShapesPanel"]


# ---------------------------------------------------------------------------
# (1) Q, K, V shapes
# ---------------------------------------------------------------------------

#: The sliders' ranges: d_model 2 … 16, d_k 1 … 8; at most 16 tokens (rows of every grid).
_D_MODEL_RANGE = (2, 16)
_D_K_RANGE = (1, 8)
_MAX_TOKENS = 16


def _check_qkv_inputs(tokens, d_model, d_k, seed):
    """``(tokens, d_model, d_k, seed)`` of the panel and its figure; a size outside its slider's range is
    refused (a slider would silently clip it)."""
    tokens = list(_tok.SENTENCE_APPLE) if tokens is None else _v.check_tokens(tokens, "tokens")
    if len(tokens) > _MAX_TOKENS:
        raise ValueError(f"tokens has {len(tokens)} entries; the grids show at most {_MAX_TOKENS} rows")
    return (tokens, _v.check_int(d_model, "d_model", low=_D_MODEL_RANGE[0], high=_D_MODEL_RANGE[1]),
            _v.check_int(d_k, "d_k", low=_D_K_RANGE[0], high=_D_K_RANGE[1]), _v.check_seed(seed))


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
                        title=f"{name}  ({n} × {m})", xlabel="输出分量编号" if name == "W_Q" else "分量编号",
                        ylabel="输入分量编号" if name == "W_Q" else "", colorbar=False)


class QKVShapesPanel(Panel):
    """Live panel of :func:`qkv_shapes_panel`."""

    def __init__(self, tokens=None, d_model=8, d_k=4, seed=0):
        self.tokens, d_model, d_k, self.seed = _check_qkv_inputs(tokens, d_model, d_k, seed)
        self.slider_d_model = slider(W.IntSlider, value=d_model, min=_D_MODEL_RANGE[0], max=_D_MODEL_RANGE[1], step=1,
                                     description="d_model（输入维度）")
        self.slider_d_k = slider(W.IntSlider, value=d_k, min=_D_K_RANGE[0], max=_D_K_RANGE[1], step=1,
                                 description="d_k（Q/K/V 维度）")
        super().__init__("从 X 到 Q、K、V：拖动滑块，看矩阵的形状怎样变化",
                         [self.slider_d_model, self.slider_d_k], view_height="300px")
        self._watch(self.slider_d_model, self.slider_d_k)
        self.refresh()

    def refresh(self):
        d_model, d_k = int(self.slider_d_model.value), int(self.slider_d_k.value)
        X, (W_Q, _, _), Q, K, V = _qkv_data(self.tokens, d_model, d_k, self.seed)
        # X, Q, K, V share one colour range; W_Q (entries ~10× smaller) gets its own, as in the static figure
        limit = max(float(np.abs(m).max()) for m in (X, Q, K, V))
        w_limit = float(np.abs(W_Q).max()) or 1.0
        cell = 30 if max(d_model, d_k) <= 8 else 20
        n = len(self.tokens)
        blocks = [_grid_block(X, "X", self.tokens, limit, cell),
                  '<div style="font-size:20px;padding-top:40px">·</div>',
                  _grid_block(W_Q, "W_Q", [str(i) for i in range(d_model)], w_limit, cell),
                  '<div style="font-size:20px;padding-top:40px">=</div>',
                  _grid_block(Q, "Q", self.tokens, limit, cell),
                  _grid_block(K, "K", self.tokens, limit, cell),
                  _grid_block(V, "V", self.tokens, limit, cell)]
        self.values = {"X": X, "W_Q": W_Q, "Q": Q, "K": K, "V": V}
        self.view.value = row_html(*blocks, gap=10)
        self.readout.value = (
            f'<div style="font-family:{FONT_STACK}">形状：X ({n}×{d_model}) · W_Q ({d_model}×{d_k}) = Q ({n}×{d_k})；'
            f'K、V 同理 ({n}×{d_k})。X、Q、K、V 每行一个词，W_Q 每行一个输入维度；d_model 只决定 X 的列数和 W 的行数，'
            f'd_k 决定 Q、K、V 的列数。颜色：X、Q、K、V 共用一个色标，W_Q 的数值小得多，用它自己的色标。</div>')


def qkv_shapes_panel(tokens=None, *, d_model=8, d_k=4, seed=0) -> QKVShapesPanel:
    """Sliders for d_model and d_k; X, W_Q, Q, K, V drawn as coloured grids with their shapes.

    Parameters
    ----------
    tokens : sequence of str, optional
        Rows of X, at most 16 (default :data:`helpers.SENTENCE_APPLE`).
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
    tokens, d_model, d_k, seed = _check_qkv_inputs(tokens, d_model, d_k, seed)
    X, Wts, Q, K, V = _qkv_data(tokens, d_model, d_k, seed)
    return plots.qkv_grids(X, Q, K, V, tokens, W=Wts)
