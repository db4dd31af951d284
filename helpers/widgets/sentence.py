"""Panel family 4 — the sentence explorer (chapters 00, 06, 07, 08).

``sentence_explorer`` (controls ``text_input``, a Combobox to type or pick an
example; ``causal_toggle``, a Checkbox; ``slider_query``, a SelectionSlider
whose value is the highlighted query row, -1 = none): the self-attention
heatmap of a sentence with random or given W_Q, W_K, W_V.
``sentence_figure`` is its static twin.
"""

from __future__ import annotations

from contextlib import contextmanager

import ipywidgets as W
import numpy as np

from .. import attention as _att
from .. import plots
from .. import tokens as _tok
from .. import validation as _v
from .primitives import (FONT_STACK, esc, heatmap_html, slider, Panel)

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


class _NotASentence(ValueError):
    """A typed text the panel cannot show: the message is the helper's English detail, ``zh`` the short
    Chinese reason the panel's readout leads with."""

    def __init__(self, zh: str, detail: str):
        super().__init__(detail)
        self.zh = zh


@contextmanager
def _reason(zh: str):
    """A ValueError raised inside becomes a :class:`_NotASentence` with the Chinese reason ``zh``."""
    try:
        yield
    except ValueError as exc:
        raise _NotASentence(zh, str(exc)) from None


def _check_count(toks):
    if len(toks) > MAX_TOKENS:
        raise _NotASentence(f"句子太长：有 {len(toks)} 个词，最多能显示 {MAX_TOKENS} 个，请删短一些。",
                            f"text has {len(toks)} tokens; at most {MAX_TOKENS} are supported")
    return toks


def _typed_tokens(text: str, keep_punctuation: bool = False) -> list[str]:
    """Tokens of a typed sentence, as the text box reads it."""
    with _reason("文字里有无效的字符（不完整的 Unicode 字符），请删掉它。"):
        _v.check_text(text, "text", allow_empty=True)
    with _reason("文字里有控制字符（看不见，也无法显示，多半是粘贴带进来的），请删掉它。"):
        _v.check_no_control_chars(text, "text")
    toks = _tok.tokenize(text, keep_punctuation)
    if not toks:
        raise _NotASentence("还没有句子：请输入一句中文，例如「我喜欢这个苹果」，回车确认。" if not text.strip()
                            else "这里没有词（标点和空格不算词）：请输入一句中文，例如「我喜欢这个苹果」。",
                            f"text has no tokens ({text!r:.40}); type a short Chinese sentence, e.g. 我喜欢这个苹果")
    return _check_count(toks)


def _sentence(text):
    """``(tokens, box, keep_punctuation)`` of the ``text`` argument: the tokens shown, the text the text
    box holds for them, and how the box reads text (punctuation kept or dropped).  A token list is
    shown as given and its box text is the tokens joined by spaces, which must read back as the same
    tokens: no spaces inside a token, and when punctuation is given as tokens the box keeps it."""
    if isinstance(text, str):
        return _typed_tokens(text), text, False
    toks = _check_count(_v.check_tokens(text, "text"))              # a token list: no str() of other things
    toks = [_v.check_token(t, f"text[{i}]") for i, t in enumerate(toks)]
    keep = any(not _tok.tokenize(t) for t in toks)                  # punctuation given as a token
    box = " ".join(toks)
    _v.check_tokens_read_back(toks, box, _tok.tokenize(box, keep), "text")
    return toks, box, keep


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
        tokens, initial, self._keep_punctuation = _sentence(text)
        opts = list(dict.fromkeys([initial, *examples]))
        self.text_input = W.Combobox(value=initial, options=opts, description="句子", ensure_option=False,
                                     continuous_update=False, placeholder="输入一句中文，回车确认",
                                     style={"description_width": "40px"}, layout=W.Layout(width="560px"))
        self.causal_toggle = W.Checkbox(value=causal, description="因果掩码 (causal mask)：只能看前面的词",
                                        indent=False, layout=W.Layout(width="auto"))
        self.slider_query = slider(W.SelectionSlider, options=[("（无）", -1)], value=-1, description="查询词（高亮行）",
                                   width="560px")
        super().__init__("句子自注意力：每一行是一个查询词，对所有键的注意力权重",
                         [self.text_input, self.causal_toggle, self.slider_query], view_height="260px")
        self.tokens, self._error = tokens, None          # _error: (Chinese reason, English detail)
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
            toks = _typed_tokens(self.text_input.value, self._keep_punctuation)
            with _reason("给定的权重 W_Q、W_K、W_V 对这句话太大：算出的数会溢出。"):
                _projections(toks, self.d_model, self.d_k, self.seed, self.weights)  # given weights may not fit it
        except _NotASentence as exc:
            # the picture must describe the text box: no sentence, so no heatmap of the previous one
            self.tokens, self._error = None, (exc.zh, str(exc))
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
                           "error": self._error[1]}
            self.view.value = (f'<div style="font-family:{FONT_STACK};color:#666;padding:20px">'
                               f'（没有可显示的句子：请在上面输入一句中文）</div>')
            zh, detail = self._error
            self.readout.value = (f'<div style="font-family:{FONT_STACK};color:#b00020">⚠ {esc(zh)}</div>'
                                  f'<div style="color:#777;font-size:85%">{esc(detail)}</div>')
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
        A token list is shown as given and the text box holds it joined by spaces, so no token may
        contain a space; if some tokens are punctuation (``["我", "，", "你"]``), the box keeps
        punctuation as tokens in every sentence typed into it.
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
    toks = _sentence(text)[0]
    query = _check_query(query, len(toks))
    A, mask, _ = _sentence_attention(toks, causal, d_model, d_k, seed, weights)
    if title is None:
        title = _sentence_title(causal)
    return plots.attention_heatmap(A, toks, toks, mask=mask, highlight_row=query, title=title)
