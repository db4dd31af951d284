"""Toy inputs for the course: tokens, embeddings, positional encoding, weights.

Everything here is deterministic: the same token always gets the same
embedding vector (derived from the token text and a seed, independent of the
sentence it appears in), and weight matrices come from a seeded generator.

The worked example of the source chapter is available as :data:`SEED_EXAMPLE`.
"""

from __future__ import annotations

import unicodedata
import zlib
from types import MappingProxyType

import numpy as np

from . import validation as _v

__all__ = [
    "SEED_EXAMPLE",
    "SENTENCE_APPLE",
    "SENTENCE_CAT",
    "SENTENCE_CAT_SHORT",
    "VOCAB",
    "tokenize",
    "embed_tokens",
    "positional_encoding",
    "token_inputs",
    "init_weights",
    "init_qkv_weights",
]


class _ReadOnlyList(list):
    """A token list that is a course constant: it reads, compares, prints and adds
    (``+``) like a list, but refuses to be changed in place, so that
    ``tokens = h.SENTENCE_APPLE; tokens[3] = "香蕉"`` cannot silently change the
    default of every panel, figure and checker that reads the constant.
    ``list(...)`` (or ``copy``/``deepcopy``) gives an ordinary list to edit.
    Made by :func:`_constant_tokens`, which sets ``name`` (the constant's name)."""

    __slots__ = ("name",)

    def _refuse(self, *args, **kwargs):
        raise TypeError(f"h.{self.name} is a course constant and cannot be changed in place; "
                        f"edit a copy instead: tokens = list(h.{self.name})")

    append = extend = insert = pop = remove = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse

    def __reduce__(self):  # copy / deepcopy / pickle give a plain (editable) list
        return (list, (list(self),))


def _constant_tokens(name: str, tokens: list) -> _ReadOnlyList:
    constant = _ReadOnlyList(tokens)
    constant.name = name
    return constant


#: The source chapter's numeric example: one query against three keys/values, d_k = 3.
#: Read-only (a mapping of read-only arrays): copy before changing, e.g. ``V = ex["V"].copy()``.
SEED_EXAMPLE = MappingProxyType({
    "q1": _v.read_only_array([[0.2, 0.5, 0.1]]),
    "K": _v.read_only_array([[0.4, 0.1, 0.6],
                              [0.8, 0.2, 0.3],
                              [0.1, 0.7, 0.2]]),
    "V": _v.read_only_array([[1.0, 2.0, 3.0],
                              [4.0, 5.0, 6.0],
                              [7.0, 8.0, 9.0]]),
    "d_k": 3,
    # what the chapter's code prints when run (the text shows only the code), 8 decimals
    "weights": _v.read_only_array([[0.31428404, 0.33296327, 0.35275269]]),
    "output": _v.read_only_array([[4.11540595, 5.11540595, 6.11540595]]),
})

#: 我喜欢这个苹果 — the source chapter's running example (read-only; ``list(...)`` to edit).
SENTENCE_APPLE = _constant_tokens("SENTENCE_APPLE", ["我", "喜欢", "这个", "苹果"])

#: The source chapter's pronoun example, segmented into words (punctuation dropped).
SENTENCE_CAT = _constant_tokens("SENTENCE_CAT", [
    "那个", "小猫", "它", "昨天", "在", "公园", "里", "追逐", "一只", "蝴蝶",
    "玩得", "不亦乐乎", "结果", "把", "晚餐", "都", "忘了", "现在", "它", "饿坏了",
])

#: A short version of the pronoun example that fits a readable heatmap.
SENTENCE_CAT_SHORT = _constant_tokens("SENTENCE_CAT_SHORT", ["小猫", "追逐", "蝴蝶", "现在", "它", "饿坏了"])

#: Words the toy tokenizer knows (longest match first); anything else is split per character.
#: A tuple: :func:`tokenize` reads it on every call, so an in-place edit would change every later split.
VOCAB = tuple(sorted(
    set(SENTENCE_APPLE) | set(SENTENCE_CAT) | {
        "我们", "你", "他", "她", "喜欢", "吃", "香蕉", "今天", "天气", "很", "好", "学习",
        "注意力", "机制", "模型", "小狗", "猫", "狗", "书", "图书馆", "读", "看", "一本",
        "因为", "所以", "但是", "非常", "可爱", "跑", "睡觉", "想", "去", "明天",
    },
    key=len,
    reverse=True,
))

#: ASCII punctuation that separates words; other ASCII symbols stay in the text ("GPT-4", "50%").
_ASCII_PUNCTUATION = frozenset(",.!?;:\"'()[]")
#: Marks written as two characters in Chinese text (省略号 ……, 破折号 ——): a run of one is one mark.
_RUN_MARKS = frozenset("…—")


def _is_punctuation(ch: str) -> bool:
    """True for punctuation: the ASCII marks above, and any other character Unicode calls
    punctuation (category P*: ，。「」『』…—·) or the full-width wave dash ～ (a symbol, Sm, that
    Chinese text uses as punctuation)."""
    if ch.isascii():
        return ch in _ASCII_PUNCTUATION
    return unicodedata.category(ch).startswith("P") or ch == "～"


def _punctuation_end(part: str, i: int) -> int:
    """End of the punctuation mark starting at ``part[i]`` (``i`` itself if there is none)."""
    if not _is_punctuation(part[i]):
        return i
    j = i + 1
    while part[i] in _RUN_MARKS and j < len(part) and part[j] == part[i]:
        j += 1
    return j


def _word_end(part: str, i: int, typed: bool) -> int:
    """End of the token starting at ``part[i]``: up to the next punctuation when the tokens were
    typed; else the longest :data:`VOCAB` word, or one character with its combining marks."""
    if typed:
        j = i + 1
        while j < len(part) and not _is_punctuation(part[j]):
            j += 1
        return j
    for word in VOCAB:
        if part.startswith(word, i):
            return i + len(word)
    j = i + 1
    while j < len(part) and unicodedata.category(part[j]).startswith("M"):   # e.g. the variation selector of ❤️
        j += 1
    return j


def tokenize(text: str, keep_punctuation: bool = False) -> list[str]:
    """Split a short Chinese sentence into course tokens.

    Spaces, if present, separate tokens as typed ("我 喜欢 这个 苹果"); the
    full-width space of a Chinese input method (U+3000) counts as a space.
    Otherwise a greedy longest match against :data:`VOCAB` is used, and
    unknown characters become single-character tokens.  Punctuation (by
    Unicode category, e.g. ，。…… —— 「」) is split off and dropped unless
    ``keep_punctuation``.  Invisible format characters (zero-width space,
    byte-order mark, direction marks) are removed; other control characters
    (NUL, ESC …) are refused.

    Parameters
    ----------
    text : str
    keep_punctuation : bool, default False

    Returns
    -------
    list of str
    """
    _v.check_no_control_chars(_v.check_text(text, "text", allow_empty=True), "text")
    keep_punctuation = _v.check_bool(keep_punctuation, "keep_punctuation")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")   # zero-width space, BOM, …
    typed = any(ch.isspace() for ch in text.strip())
    tokens = []
    for part in text.split():       # typed: one word (maybe with punctuation glued on); else the whole text
        i = 0
        while i < len(part):
            j = _punctuation_end(part, i)
            if j > i:
                if keep_punctuation:
                    tokens.append(part[i:j])
            else:
                j = _word_end(part, i, typed)
                tokens.append(part[i:j])
            i = j
    return tokens


def embed_tokens(tokens, d_model: int, seed: int = 0) -> np.ndarray:
    """Deterministic toy embedding lookup: one row per token.

    A token's vector depends only on its text, ``d_model`` and ``seed`` —
    the same word gets the same row wherever it appears (both 它 in the cat
    sentence share a row until the positional encoding is added).

    Parameters
    ----------
    tokens : sequence of str
    d_model : int
    seed : int, default 0
        ``0 <= seed <= 2**32 - 1``.

    Returns
    -------
    numpy.ndarray, shape (len(tokens), d_model)
        Entries drawn from N(0, 1).
    """
    tokens = _v.check_tokens(tokens)
    d_model = _v.check_positive_int(d_model, "d_model")
    seed = _v.check_seed32(seed)                                 # one 32-bit word of the entropy below
    _v.check_elements((len(tokens), d_model), "the embedding matrix")
    rows = []
    for t in tokens:
        rng = np.random.default_rng([seed, zlib.crc32(t.encode("utf-8"))])
        rows.append(rng.standard_normal(d_model))                # (d_model,): depends only on t
    return np.stack(rows)                                        # (n_tokens, d_model)


def positional_encoding(n_positions: int, d_model: int, base: float = 10000.0) -> np.ndarray:
    """Sinusoidal positional encoding of "Attention Is All You Need".

    ``PE[pos, 2i] = sin(pos / base**(2i / d_model))`` and
    ``PE[pos, 2i+1] = cos(pos / base**(2i / d_model))``.

    Parameters
    ----------
    n_positions : int
    d_model : int
    base : float, default 10000.0
        Greater than 1.

    Returns
    -------
    numpy.ndarray, shape (n_positions, d_model)
    """
    n_positions = _v.check_positive_int(n_positions, "n_positions")
    d_model = _v.check_positive_int(d_model, "d_model")
    base = _v.check_number_above(base, "base", 1, " (base**(2i / d_model) must grow with i, so that each pair "
                                                  "of columns turns more slowly than the one before)")
    _v.check_elements((n_positions, d_model), "the positional encoding")
    pos = np.arange(n_positions)[:, None]                       # (n_positions, 1)
    two_i = np.arange(0, d_model, 2)[None, :]                    # (1, ⌈d_model / 2⌉): 0, 2, 4, …
    angle = pos / np.power(float(base), two_i / d_model)         # (n_positions, ⌈d_model / 2⌉)
    pe = np.zeros((n_positions, d_model))                        # (n_positions, d_model)
    pe[:, 0::2] = np.sin(angle)                                  # even columns: sin
    pe[:, 1::2] = np.cos(angle[:, : d_model // 2])               # odd columns: cos
    return pe


def token_inputs(tokens, d_model: int, seed: int = 0, with_position: bool = True) -> np.ndarray:
    """The matrix X fed into attention: embedding (+ positional encoding), rows = tokens.

    Parameters
    ----------
    tokens : sequence of str
    d_model : int
    seed : int, default 0
        Embedding seed (see :func:`embed_tokens`).
    with_position : bool, default True
        Add :func:`positional_encoding`; ``False`` gives the bare embeddings.

    Returns
    -------
    numpy.ndarray, shape (len(tokens), d_model)
    """
    with_position = _v.check_bool(with_position, "with_position")
    x = embed_tokens(tokens, d_model, seed)
    if with_position:
        x = x + positional_encoding(len(x), d_model)
    return x


def init_weights(d_in: int, d_out: int, seed: int = 0) -> np.ndarray:
    """A deterministic weight matrix of shape ``(d_in, d_out)``.

    Entries are N(0, 1/d_in) (the usual "LeCun" scaling), so that
    ``x @ W`` keeps roughly unit variance for unit-variance ``x``.

    Parameters
    ----------
    d_in, d_out : int
        Positive sizes.
    seed : int, default 0
        Non-negative.

    Returns
    -------
    numpy.ndarray, shape (d_in, d_out)
    """
    d_in = _v.check_positive_int(d_in, "d_in")
    d_out = _v.check_positive_int(d_out, "d_out")
    _v.check_elements((d_in, d_out), "the weight matrix")
    rng = np.random.default_rng(_v.check_seed(seed))
    return rng.standard_normal((d_in, d_out)) / np.sqrt(d_in)   # (d_in, d_out), variance 1 / d_in


def init_qkv_weights(d_model: int, d_k: int, d_v: int | None = None, seed: int = 0):
    """Three deterministic matrices ``(W_Q, W_K, W_V)`` for one attention layer.

    Parameters
    ----------
    d_model : int
        Input size (rows of every matrix).
    d_k : int
        Query/key size.
    d_v : int, optional
        Value size; defaults to ``d_k``.
    seed : int, default 0
        Non-negative.

    Returns
    -------
    tuple of numpy.ndarray
        ``W_Q`` and ``W_K`` of shape ``(d_model, d_k)``, ``W_V`` of shape ``(d_model, d_v)``
        (``d_v`` defaults to ``d_k``).  Each uses its own seed (seed, seed+1, seed+2),
        so changing ``d_v`` does not change ``W_Q`` or ``W_K``.
    """
    d_model = _v.check_positive_int(d_model, "d_model")
    d_k = _v.check_positive_int(d_k, "d_k")
    d_v = d_k if d_v is None else _v.check_positive_int(d_v, "d_v")
    seed = _v.check_seed(seed, n_used=3)                         # seed, seed + 1, seed + 2
    return (
        init_weights(d_model, d_k, seed),
        init_weights(d_model, d_k, seed + 1),
        init_weights(d_model, d_v, seed + 2),
    )
