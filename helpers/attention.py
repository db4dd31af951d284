"""Scaled dot-product attention in plain NumPy, one small step at a time.

Conventions (used across the whole course):

* rows = tokens.  ``query`` has shape ``(..., n_q, d_k)``, ``key`` has shape
  ``(..., n_k, d_k)``, ``value`` has shape ``(..., n_k, d_v)``; any leading
  dimensions are batch / head dimensions and broadcast like NumPy's ``matmul``.
* ``weights`` (alpha) has shape ``(..., n_q, n_k)``: row ``i`` says how much
  query ``i`` looks at every key ``j``.  ``output`` (Z) has shape ``(..., n_q, d_v)``.
* masks are boolean, ``True`` = "may attend".

The four steps of the lesson are separate functions so that a chapter can show
each one on its own::

    scores  = attention_scores(Q, K)          # Q Kᵀ
    scaled  = scale_scores(scores, d_k)       # ÷ √d_k
    weights = attention_weights(scaled, mask) # softmax (masked)
    output  = weighted_sum(weights, V)        # α V

``scaled_dot_product_attention`` composes them (and validates everything once).
Every bad input raises a ``ValueError`` / ``TypeError`` whose message names the
argument, its shape and the offending value.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "softmax",
    "attention_scores",
    "scale_scores",
    "attention_weights",
    "weighted_sum",
    "scaled_dot_product_attention",
    "causal_mask",
    "padding_mask",
    "project",
    "project_qkv",
    "self_attention",
    "cross_attention",
    "split_heads",
    "merge_heads",
    "multi_head_self_attention",
]


from . import validation as _v  # noqa: E402

# ---------------------------------------------------------------------------
# validation: every rule lives in helpers.validation (one rule per function) and
# each public function below makes one call into it.  The short private names are
# the ones this module and its neighbours (plots, widgets, training …) import.
# ---------------------------------------------------------------------------

from .validation import (  # noqa: E402,F401
    as_float_array as _as_float_array,
    as_mask as _as_mask,
    as_real_array as _as_real_array,
    check_index as _check_index,
    check_positive_int as _check_positive_int,
    check_positive_number as _check_positive_number,
    first_index as _first_index,
    shape_str as _shape,
)


# ---------------------------------------------------------------------------
# softmax
# ---------------------------------------------------------------------------

def softmax(x, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    """Numerically stable softmax ``exp(x / T) / sum(exp(x / T))`` along ``axis``.

    Parameters
    ----------
    x : array_like of real numbers
        Scores.  ``-inf`` entries are allowed and get probability exactly 0;
        NaN and ``+inf`` are rejected.
    axis : int, default -1
        Axis that sums to 1 (the key axis for attention scores).
    temperature : float, default 1.0
        ``T > 0``.  Small ``T`` sharpens towards a one-hot argmax, large ``T``
        flattens towards uniform.

    Returns
    -------
    numpy.ndarray
        Same shape as ``x``; float32 stays float32, everything else is float64.
        A slice whose entries are all ``-inf`` (nothing to attend to) becomes all
        zeros instead of NaN.

    Notes
    -----
    The maximum of each slice is subtracted before ``exp``; this changes
    nothing mathematically (softmax is shift invariant) but keeps every
    exponent ``<= 0``, so ``exp`` can never overflow.
    """
    x, axis, temperature = _v.check_softmax_input(x, axis, temperature)
    s_max = np.max(x, axis=axis, keepdims=True)                  # largest score of each slice
    s_max = np.where(np.isfinite(s_max), s_max, 0)              # an all -inf slice: shift by 0
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        # x − s_max ≤ 0, so exp never overflows (|x| ~ 1e308 may give −inf, which exp maps to 0);
        # divided in float64 so that a tiny temperature cannot round to 0 in float32
        e = np.exp((x - s_max).astype(np.float64) / temperature)  # same shape as x
    total = np.sum(e, axis=axis, keepdims=True)                  # one sum per slice
    out = np.divide(e, total, out=np.zeros_like(e), where=total > 0)  # an all -inf slice stays 0
    return out.astype(x.dtype, copy=False)



# ---------------------------------------------------------------------------
# the four steps
# ---------------------------------------------------------------------------

def _scores(q: np.ndarray, k: np.ndarray, scale: float | None = None) -> np.ndarray:
    """``Q Kᵀ`` (``× scale`` if given) of checked inputs; a product that overflowed is refused."""
    with np.errstate(over="ignore", invalid="ignore"):
        raw = q @ np.swapaxes(k, -1, -2)                         # (..., n_q, d_k) @ (..., d_k, n_k)
        # ``scale`` stays a Python float (weak scalar), so float32 scores stay float32
        scores = raw if scale is None else raw * scale           # (..., n_q, n_k)
    return _v.check_scores_finite(scores, raw, q, k, scale)


def attention_scores(query, key) -> np.ndarray:
    """Step 1: raw dot-product scores ``Q Kᵀ``.

    Parameters
    ----------
    query : array_like, shape (..., n_q, d_k)
    key : array_like, shape (..., n_k, d_k)

    Returns
    -------
    numpy.ndarray, shape (..., n_q, n_k)
        ``scores[..., i, j] = query[..., i, :] · key[..., j, :]``.
    """
    q, k = _v.check_query_key(query, key)
    return _scores(q, k)                                         # (..., n_q, d_k) @ (..., d_k, n_k)


def scale_scores(scores, d_k) -> np.ndarray:
    """Step 2: divide scores by ``√d_k``.

    Parameters
    ----------
    scores : array_like
        Output of :func:`attention_scores`.
    d_k : int
        Length of the query/key vectors (a positive integer).

    Returns
    -------
    numpy.ndarray
        ``scores / sqrt(d_k)``, same shape and float dtype.
    """
    d_k = _check_positive_int(d_k, "d_k")
    s = _v.check_scores(scores)
    return s / s.dtype.type(np.sqrt(d_k))                        # same shape, same float dtype


def attention_weights(scores, mask=None) -> np.ndarray:
    """Step 3: softmax over the key axis (the last one), with an optional mask.

    Parameters
    ----------
    scores : array_like, shape (..., n_q, n_k)
        Usually the *scaled* scores.
    mask : array_like of bool, optional
        Broadcastable to ``scores.shape``; ``True`` = may attend.  Blocked
        positions get weight exactly 0.  A row with every key blocked gets all
        zero weights (and so a zero output) instead of NaN.

    Returns
    -------
    numpy.ndarray, shape (..., n_q, n_k)
        The attention weights alpha; every row with at least one allowed key
        sums to 1.
    """
    s = _v.check_scores(scores)                                  # (..., n_q, n_k)
    if mask is not None:
        m = _as_mask(mask, s.shape)
        s = np.where(m, s, -np.inf).astype(s.dtype)              # blocked keys: score −∞ → weight 0
    return softmax(s, axis=-1)                                   # each row sums to 1 over the keys


def weighted_sum(weights, value) -> np.ndarray:
    """Step 4: ``Z = α V`` — every output row is a weighted average of value rows.

    Parameters
    ----------
    weights : array_like, shape (..., n_q, n_k)
    value : array_like, shape (..., n_k, d_v)

    Returns
    -------
    numpy.ndarray, shape (..., n_q, d_v)
        ``Z[..., i, :] = sum_j weights[..., i, j] * value[..., j, :]``.
    """
    w, v = _v.check_weights_value(weights, value)
    return w @ v                                                 # (..., n_q, n_k) @ (..., n_k, d_v)


def _one_query_steps(query, key, value, d_k=None):
    """The four steps for one query, ``(scores, scaled, weights, z)``, each 1-D.

    ``query`` has shape ``(1, d_k)``; ``d_k`` (the scaling dimension) defaults
    to its length.  Shared by the pictures that follow a single query
    (``plots.step_strip``, ``widgets.vector_panel``,
    ``walkthrough.trace_self_attention``).
    """
    if d_k is None:
        d_k = np.shape(query)[-1]
    scores = attention_scores(query, key)[0]
    scaled = scale_scores(scores, d_k)
    weights = attention_weights(scaled)
    return scores, scaled, weights, weighted_sum(weights[None, :], value)[0]


def scaled_dot_product_attention(query, key, value, mask=None, scale=None):
    """Scaled dot-product attention ``softmax(Q Kᵀ · scale) V``.

    Parameters
    ----------
    query : array_like, shape (..., n_q, d_k)
    key : array_like, shape (..., n_k, d_k)
    value : array_like, shape (..., n_k, d_v)
    mask : array_like of bool, optional
        Broadcastable to ``(..., n_q, n_k)``; ``True`` = may attend.
    scale : float, optional
        Multiplier for the scores; defaults to ``1 / sqrt(d_k)``.  Must be a
        positive finite number.

    Returns
    -------
    output : numpy.ndarray, shape (..., n_q, d_v)
        Z, one row per query.
    weights : numpy.ndarray, shape (..., n_q, n_k)
        alpha.  A query whose keys are all masked gets zero weights and a zero
        output row.

    Notes
    -----
    float32 inputs give float32 results; any other real dtype is computed in
    float64.
    """
    q, k, v = _v.check_query_key_value(query, key, value)       # (..., n_q, d_k), (..., n_k, d_k), (..., n_k, d_v)
    d_k = q.shape[-1]
    scale = 1.0 / math.sqrt(d_k) if scale is None else _check_positive_number(scale, "scale")
    scores = _scores(q, k, scale)                                # Q Kᵀ · scale (÷ √d_k): (..., n_q, n_k)
    weights = attention_weights(scores, mask)                    # α: (..., n_q, n_k), rows sum to 1
    output = weights @ v                                         # Z = α V: (..., n_q, d_v)
    return output, weights



# ---------------------------------------------------------------------------
# masks
# ---------------------------------------------------------------------------

def causal_mask(n) -> np.ndarray:
    """Lower-triangular boolean mask of shape ``(n, n)``: token ``i`` may see keys ``j <= i``.

    Parameters
    ----------
    n : int
        Sequence length (positive).

    Returns
    -------
    numpy.ndarray of bool, shape (n, n)
    """
    n = _check_positive_int(n, "n")
    _v.check_elements((n, n), "causal_mask(n)")
    return np.tril(np.ones((n, n), dtype=bool))                  # (n, n): key j ≤ query i


def padding_mask(lengths, n) -> np.ndarray:
    """Key-padding mask: for each sequence, only its first ``length`` keys are real.

    Parameters
    ----------
    lengths : int or sequence of int
        True length of each sequence (0 <= length <= n).
    n : int
        Padded sequence length.

    Returns
    -------
    numpy.ndarray of bool, shape (n,) for an int, or (batch, 1, n) for a sequence
        Broadcastable to ``(batch, n_q, n)``.
    """
    n = _check_positive_int(n, "n")
    lengths = _v.check_lengths(lengths, n)
    positions = np.arange(n)                                     # (n,)
    if lengths.ndim == 0:
        return positions < int(lengths)                          # (n,)
    _v.check_elements((len(lengths), n), "padding_mask")
    return (positions[None, :] < lengths[:, None])[:, None, :]   # (batch, 1, n): broadcasts over queries



# ---------------------------------------------------------------------------
# projections, self- and cross-attention
# ---------------------------------------------------------------------------

def project(x, weight, name: str = "W", *, x_name: str = "x") -> np.ndarray:
    """Linear projection ``x @ weight`` with shape checks (rows = tokens).

    Parameters
    ----------
    x : array_like, shape (..., n, d_in)
    weight : array_like, shape (d_in, d_out)
    name : str
        Name of ``weight`` in error messages, e.g. ``"W_Q"``.
    x_name : str
        Name of ``x`` in error messages, e.g. ``"x_query"``.

    Returns
    -------
    numpy.ndarray, shape (..., n, d_out)
    """
    xa, w = _v.check_projection(x, weight, name, x_name)
    return xa @ w                                                # (..., n, d_in) @ (d_in, d_out)


def project_qkv(x, w_q, w_k, w_v):
    """Return ``(Q, K, V) = (x W_Q, x W_K, x W_V)``.

    Parameters
    ----------
    x : array_like, shape (..., n, d_model)
    w_q, w_k : array_like, shape (d_model, d_k)
    w_v : array_like, shape (d_model, d_v)

    Returns
    -------
    Q, K : numpy.ndarray, shape (..., n, d_k)
    V : numpy.ndarray, shape (..., n, d_v)
    """
    q = project(x, w_q, "W_Q")                                   # (..., n, d_k)
    k = project(x, w_k, "W_K")                                   # (..., n, d_k)
    v = project(x, w_v, "W_V")                                   # (..., n, d_v)
    _v.check_same_columns(w_q, w_k, "d_k")
    return q, k, v


def self_attention(x, w_q, w_k, w_v, mask=None, scale=None):
    """Self-attention: queries, keys and values all come from the same sequence ``x``.

    Parameters
    ----------
    x : array_like, shape (..., n, d_model)
        Token inputs (embedding + positional encoding), rows = tokens.
    w_q, w_k : array_like, shape (d_model, d_k)
    w_v : array_like, shape (d_model, d_v)
    mask : array_like of bool, optional
        Broadcastable to ``(..., n, n)``, e.g. :func:`causal_mask`.
    scale : float, optional
        Defaults to ``1 / sqrt(d_k)``.

    Returns
    -------
    output : numpy.ndarray, shape (..., n, d_v)
    weights : numpy.ndarray, shape (..., n, n)
    """
    q, k, v = project_qkv(x, w_q, w_k, w_v)
    return scaled_dot_product_attention(q, k, v, mask=mask, scale=scale)


def cross_attention(x_query, x_context, w_q, w_k, w_v, mask=None, scale=None):
    """Cross-attention: queries from ``x_query``, keys and values from ``x_context``.

    Parameters
    ----------
    x_query : array_like, shape (..., n_q, d_model)
        E.g. the decoder's sequence.
    x_context : array_like, shape (..., n_k, d_model)
        E.g. the encoder's output.
    w_q, w_k : array_like, shape (d_model, d_k)
    w_v : array_like, shape (d_model, d_v)
    mask : array_like of bool, optional
        Broadcastable to ``(..., n_q, n_k)``.
    scale : float, optional

    Returns
    -------
    output : numpy.ndarray, shape (..., n_q, d_v)
    weights : numpy.ndarray, shape (..., n_q, n_k)
    """
    q = project(x_query, w_q, "W_Q", x_name="x_query")         # (..., n_q, d_k)
    k = project(x_context, w_k, "W_K", x_name="x_context")     # (..., n_k, d_k)
    v = project(x_context, w_v, "W_V", x_name="x_context")     # (..., n_k, d_v)
    return scaled_dot_product_attention(q, k, v, mask=mask, scale=scale)


# ---------------------------------------------------------------------------
# multi-head attention (chapter 09)
# ---------------------------------------------------------------------------

def split_heads(x, n_heads) -> np.ndarray:
    """Split the last dimension into heads: ``(..., n, d) -> (..., h, n, d // h)``.

    This is ``reshape`` to ``(..., n, h, d_head)`` followed by swapping the
    token and head axes (a reshape alone would mix tokens into heads).

    Parameters
    ----------
    x : array_like, shape (..., n, d)
        Rows = tokens, e.g. Q of shape ``(n, d_model)`` or ``(b, n, d_model)``;
        head ``i`` takes columns ``i*d_head:(i+1)*d_head``.
    n_heads : int
        Number of heads; must divide ``d``.

    Returns
    -------
    numpy.ndarray, shape (..., n_heads, n, d // n_heads)
        A new array (never a view of ``x``); float32 stays float32.
    """
    a, n_heads, d_head = _v.check_split_heads(x, n_heads)       # (..., n, d), d = n_heads * d_head
    new = a.reshape(*a.shape[:-1], n_heads, d_head)              # (..., n, h, d_head)
    return np.swapaxes(new, -2, -3).copy()                       # (..., h, n, d_head), never a view


def merge_heads(x) -> np.ndarray:
    """Inverse of :func:`split_heads`: ``(..., h, n, d_head) -> (..., n, h * d_head)``.

    Parameters
    ----------
    x : array_like, shape (..., h, n, d_head)

    Returns
    -------
    numpy.ndarray, shape (..., n, h * d_head)
        The heads side by side again, head 0 first (a new array, never a view).
    """
    a = _v.check_merge_heads(x)                                  # (..., h, n, d_head)
    a = np.swapaxes(a, -2, -3)                                   # (..., n, h, d_head)
    return a.reshape(*a.shape[:-2], a.shape[-2] * a.shape[-1]).copy()  # (..., n, h * d_head)


def multi_head_self_attention(x, w_q, w_k, w_v, n_heads, w_o=None, mask=None, *,
                              b_q=None, b_k=None, b_v=None, b_o=None):
    """Multi-head self-attention: h heads of size ``d_head = d_model // h`` side by side.

    ``Q = x W_Q (+ b_Q)`` etc. for all heads at once, then
    :func:`split_heads` → scaled dot-product attention per head (÷√d_head) →
    :func:`merge_heads` → ``Z W_O (+ b_O)``.

    Parameters
    ----------
    x : array_like, shape (n, d_model) or (b, n, d_model)
        Token inputs, rows = tokens; any leading dimensions are batch dimensions.
    w_q, w_k : array_like, shape (d_model, h * d_head)
        Projections for all heads at once; head ``i`` uses columns
        ``i*d_head:(i+1)*d_head`` (course convention ``x @ W``; PyTorch's
        ``nn.Linear`` stores the transpose).
    w_v : array_like, shape (d_model, h * d_v_head)
    n_heads : int
        Must divide the number of columns of every projection.
    w_o : array_like, shape (h * d_v_head, d_out), optional
        Output projection applied after concatenating the heads (standard in
        every Transformer; ``None`` returns the concatenation itself).
    mask : array_like of bool, optional
        True = may attend.  Either in x's batch layout, broadcastable to
        ``(..., n, n)`` (e.g. ``causal_mask(n)`` or ``padding_mask(lengths, n)``
        of shape ``(b, 1, n)``) — the same mask is used by every head — or
        with one more (head) dimension, broadcastable to ``(..., h, n, n)``.
    b_q, b_k, b_v, b_o : array_like, optional
        Biases added after each projection (shape = that projection's columns).

    Returns
    -------
    output : numpy.ndarray, shape (..., n, d_out)
        ``d_out = d_model`` for the usual square W_O (``h * d_v_head`` without W_O).
    weights : numpy.ndarray, shape (..., h, n, n)
        alpha of every head; each row of each head sums to 1 (0 where fully masked).
    """
    xa, wq, wk, wv, wo, (bq, bk, bv, bo), n_heads, head_mask = _v.check_multi_head_inputs(
        x, w_q, w_k, w_v, n_heads, w_o, mask, (b_q, b_k, b_v, b_o))
    q, k, v = (xa @ w if b is None else xa @ w + b                # (..., n, h * d_head) each
               for w, b in ((wq, bq), (wk, bk), (wv, bv)))
    qh, kh, vh = (split_heads(a, n_heads) for a in (q, k, v))   # (..., h, n, d_head) each
    out, weights = scaled_dot_product_attention(qh, kh, vh, mask=head_mask)  # (..., h, n, d_v_head), (..., h, n, n)
    merged = merge_heads(out)                                    # (..., n, h * d_v_head)
    if wo is not None:
        merged = merged @ wo                                     # (..., n, d_out)
        if bo is not None:
            merged = merged + bo
    return merged, weights
