"""Panel family 4 — the sentence explorer (chapters 00, 06, 07, 08).

``sentence_explorer`` (controls ``text_input``, a Combobox to type or pick an
example; ``causal_toggle``, a Checkbox; ``slider_query``, a SelectionSlider
whose value is the highlighted query row, -1 = none): the self-attention
heatmap of a sentence with random or given W_Q, W_K, W_V.
``sentence_figure`` is its static twin.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np

from .. import attention as _att
from .. import plots
from .. import tokens as _tok
from .. import validation as _v
from .primitives import FONT_STACK, SLIDER_STYLE, Panel, esc, heatmap_html, slider_layout

__all__ = ["sentence_explorer", "sentence_figure", "EXAMPLE_SENTENCES", "MAX_TOKENS", "SentenceExplorer"]

#: Example sentences offered by :func:`sentence_explorer`.
EXAMPLE_SENTENCES = (
    "我喜欢这个苹果",
    "小猫追逐蝴蝶，现在它饿坏了",
    "那个小猫，它昨天在公园里追逐一只蝴蝶，玩得不亦乐乎，结果把晚餐都忘了，现在它饿坏了。",
    "我们今天在图书馆读一本书",
    "今天天气很好",
)

MAX_TOKENS = 32


def _sentence_tokens(text):
    if isinstance(text, str):
        toks = _tok.tokenize(text)                 # rejects text that is not valid Unicode
    else:
        toks = _v.check_tokens(text, "text")       # a token list as it is: no str() of other things
    if not toks:
        raise ValueError(f"text has no tokens ({text!r:.40}); type a short Chinese sentence, e.g. 我喜欢这个苹果")
    if len(toks) > MAX_TOKENS:
        raise ValueError(f"text has {len(toks)} tokens; at most {MAX_TOKENS} are supported")
    return toks


def _check_weights(weights, d_model, d_k):
    if weights is None:
        return None, d_model, d_k
    if isinstance(weights, (str, bytes, np.ndarray)) or not isinstance(weights, (tuple, list)) or len(weights) != 3:
        raise TypeError(f"weights must be a tuple (W_Q, W_K, W_V) of 2-D arrays, got {type(weights).__name__}")
    W_Q, W_K, W_V = (_v.as_real_array(w, f"weights[{i}] ({name})").astype(float, copy=False)
                     for i, (name, w) in enumerate(zip(("W_Q", "W_K", "W_V"), weights)))
    for i, (name, w) in enumerate((("W_Q", W_Q), ("W_K", W_K), ("W_V", W_V))):
        _v.check_ndim(w, f"weights[{i}] ({name})", 2, "(d_model, d_out)")
    if not (W_Q.shape[0] == W_K.shape[0] == W_V.shape[0]):
        raise ValueError(f"weights: W_Q {W_Q.shape}, W_K {W_K.shape}, W_V {W_V.shape} must have the same number "
                         f"of rows d_model")
    if W_Q.shape[1] != W_K.shape[1]:
        raise ValueError(f"weights: W_Q {W_Q.shape} and W_K {W_K.shape} must have the same number of columns d_k")
    return (W_Q, W_K, W_V), W_Q.shape[0], W_Q.shape[1]


def _check_query(query, n):
    """The highlighted row: None or a token index (negative counts from the end; ``True`` is refused)."""
    return None if query is None else _v.check_index(query, n, "query", "tokens")


def _projections(tokens, d_model, d_k, seed, weights):
    """``(Q, K, V)`` of the sentence; given ``weights`` that make them too large to attend with are
    refused naming ``weights[i]`` (which one depends on the sentence: checked again for each new text)."""
    X = _tok.token_inputs(tokens, d_model, seed=seed)           # (n, d_model)
    Wts = weights if weights is not None else _tok.init_qkv_weights(d_model, d_k, seed=seed)
    qkv = _att.project_qkv(X, *Wts)                              # (n, d_k), (n, d_k), (n, d_v)
    for i, (name, out) in enumerate(zip(("W_Q", "W_K", "W_V"), qkv)):
        _v.check_projected(out, f"weights[{i}] ({name})", "X")
    return qkv


def _sentence_attention(tokens, causal, d_model, d_k, seed, weights):
    Q, K, V = _projections(tokens, d_model, d_k, seed, weights)
    mask = _att.causal_mask(len(tokens)) if causal else None
    Z, A = _att.scaled_dot_product_attention(Q, K, V, mask=mask)  # = self_attention(X, *weights, mask)
    return A, mask, Z


def _sentence_title(causal) -> str:
    return "注意力权重 α（因果掩码）" if causal else "注意力权重 α"


class SentenceExplorer(Panel):
    """Live panel of :func:`sentence_explorer`."""

    def __init__(self, text="我喜欢这个苹果", causal=False, d_model=16, d_k=8, seed=0, weights=None,
                 query=None, examples=EXAMPLE_SENTENCES):
        self.weights, self.d_model, self.d_k = _check_weights(weights, d_model, d_k)
        self.seed = seed
        causal = _v.check_bool(causal, "causal")
        tokens = _sentence_tokens(text)
        initial = text if isinstance(text, str) else " ".join(tokens)
        opts = list(dict.fromkeys([initial, *examples]))
        self.text_input = W.Combobox(value=initial, options=opts, description="句子", ensure_option=False,
                                     continuous_update=False, placeholder="输入一句中文，回车确认",
                                     style={"description_width": "40px"}, layout=W.Layout(width="560px"))
        self.causal_toggle = W.Checkbox(value=causal, description="因果掩码 (causal mask)：只能看前面的词",
                                        indent=False, layout=W.Layout(width="auto"))
        self.slider_query = W.SelectionSlider(options=[("（无）", -1)], value=-1, description="查询词（高亮行）",
                                              continuous_update=True, style=dict(SLIDER_STYLE), layout=slider_layout("560px"))
        super().__init__("句子自注意力：每一行是一个查询词，对所有键的注意力权重",
                         [self.text_input, self.causal_toggle, self.slider_query], view_height="260px")
        self.tokens, self._error = tokens, None
        self._set_query_options(query)
        self._watch(self.causal_toggle, self.slider_query)
        self.text_input.observe(self._on_text, names="value")
        self.refresh()

    def _set_query_options(self, query=None):
        opts = [("（无）", -1)] + [(f"{i + 1}·{t}", i) for i, t in enumerate(self.tokens)]
        query = _check_query(query, len(self.tokens))
        with self._quiet():
            self.slider_query.options = opts
            self.slider_query.value = -1 if query is None else query

    def _on_text(self, change=None):
        try:
            toks = _sentence_tokens(self.text_input.value)
            _projections(toks, self.d_model, self.d_k, self.seed, self.weights)  # given weights may not fit it
        except (ValueError, TypeError) as exc:
            # the picture must describe the text box: no sentence, so no heatmap of the previous one
            self.tokens, self._error = None, str(exc)
            with self._quiet():
                self.slider_query.options = [("（无）", -1)]
                self.slider_query.value = -1
            self.refresh()
            return
        self.tokens, self._error = toks, None
        self._set_query_options(None)
        self.refresh()

    def refresh(self):
        toks = self.tokens
        if toks is None:  # the text box holds something that is not a sentence (see _on_text)
            self.values = {"tokens": [], "weights": None, "mask": None, "query": None, "Z": None,
                           "error": self._error}
            self.view.value = (f'<div style="font-family:{FONT_STACK};color:#666;padding:20px">'
                               f'（没有可显示的句子：请在上面输入一句中文）</div>')
            self.readout.value = f'<div style="color:#b00020">⚠ {esc(self._error)}</div>'
            return
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
        self.readout.value = f'<div style="font-family:{FONT_STACK}">{esc(txt)}</div>'


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
    causal = _v.check_bool(causal, "causal")
    toks = _sentence_tokens(text)
    query = _check_query(query, len(toks))
    A, mask, _ = _sentence_attention(toks, causal, d_model, d_k, seed, weights)
    if title is None:
        title = _sentence_title(causal)
    return plots.attention_heatmap(A, toks, toks, mask=mask, highlight_row=query, title=title)
