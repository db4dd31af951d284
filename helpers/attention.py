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
import numbers

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
# validation: the rules live in helpers.validation (one rule per function); the
# short private names below are what this module and its neighbours call.
# ---------------------------------------------------------------------------

from .validation import (  # noqa: E402
    as_float_array as _as_float_array,
    as_mask as _as_mask,
    as_real_array as _as_real_array,
    broadcast_batch as _broadcast_batch,
    check_index as _check_index,
    check_matrix_stack as _check_matrix_stack,
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

def _scores_unchecked(q: np.ndarray, k: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        scores = q @ np.swapaxes(k, -1, -2)
    if not np.all(np.isfinite(scores)):
        raise ValueError(
            f"Q Kᵀ overflowed (max |query| = {np.abs(q).max():.3g}, max |key| = {np.abs(k).max():.3g}); "
            f"these inputs are too large to multiply in {scores.dtype}"
        )
    return scores


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
    return _scores_unchecked(q, k)                               # (..., n_q, d_k) @ (..., d_k, n_k)


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
    raw = _scores_unchecked(q, k)                                # Q Kᵀ: (..., n_q, n_k)
    with np.errstate(over="ignore", invalid="ignore"):
        # ``scale`` stays a Python float (weak scalar), so float32 scores stay float32
        scores = raw * scale                                     # ÷ √d_k by default
    if not np.all(np.isfinite(scores)):
        raise ValueError(
            f"scores × scale overflowed {scores.dtype}: scale={scale!r}, max |Q Kᵀ| = "
            f"{np.abs(raw).max():.3g}; use a smaller scale (the default is 1/√d_k = "
            f"{1.0 / np.sqrt(d_k):.4g})"
        )
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
    q = project(x, w_q, "W_Q")
    k = project(x, w_k, "W_K")
    v = project(x, w_v, "W_V")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"W_Q and W_K must produce the same d_k: W_Q shape {_shape(w_q)}, W_K shape {_shape(w_k)}"
        )
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
    n_heads = _check_positive_int(n_heads, "n_heads")
    a = _as_real_array(x, "x")
    _check_matrix_stack(a, "x", "(..., n_tokens, d_model)")
    d = a.shape[-1]
    if d % n_heads:
        raise ValueError(
            f"d_model={d} (the last dimension of x, shape {_shape(a)}) is not divisible by "
            f"n_heads={n_heads}; every head needs d_model / n_heads columns"
        )
    new = a.reshape(*a.shape[:-1], n_heads, d // n_heads)
    return np.swapaxes(new, -2, -3).copy()


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
    a = _as_real_array(x, "x")
    if a.ndim < 3 or a.size == 0:
        raise ValueError(
            f"x must be a non-empty (..., h, n, d_head) array with a head axis for merge_heads; got shape {_shape(a)}"
        )
    a = np.swapaxes(a, -2, -3)
    return a.reshape(*a.shape[:-2], a.shape[-2] * a.shape[-1]).copy()


def _check_head_weight(w, name: str, d_model: int, n_heads: int) -> np.ndarray:
    """A projection for all heads at once: (d_model, n_heads * d_head)."""
    w = _as_real_array(w, name)
    if w.ndim != 2 or w.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D matrix (d_model, n_heads * d_head); got shape {_shape(w)}")
    if w.shape[0] != d_model:
        raise ValueError(
            f"x has d_model={d_model} columns but {name} has {w.shape[0]} rows (shape {_shape(w)}); "
            f"{name} must be (d_model, n_heads * d_head)"
        )
    if w.shape[1] % n_heads:
        raise ValueError(
            f"{name} has {w.shape[1]} columns (shape {_shape(w)}), not divisible by n_heads={n_heads}"
        )
    return w


def _check_bias(b, name: str, size: int) -> np.ndarray | None:
    if b is None:
        return None
    b = _as_real_array(b, name)
    if b.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},) (one entry per output column); got shape {_shape(b)}")
    return b


def _head_mask(mask, x_ndim: int, weights_shape: tuple) -> np.ndarray | None:
    """Put a mask into the (..., h, n_q, n_k) layout of the per-head weights.

    A mask with at most ``x.ndim`` dimensions follows x's batch layout
    (``(n, n)``, ``(b, n, n)``, ``(b, 1, n)`` …): a head axis is inserted so it
    applies to every head.  A mask with ``x.ndim + 1`` dimensions already has
    a head axis (``(..., h, n, n)``).
    """
    if mask is None:
        return None
    arr = np.asarray(mask)
    if arr.dtype.kind != "b":
        raise TypeError(
            f"mask must be a boolean array (True = may attend, False = blocked); got dtype "
            f"{arr.dtype} with shape {_shape(arr)}"
        )
    if arr.ndim < 1:
        raise ValueError("mask must have at least 1 dimension (n_k,); got a scalar")
    if arr.ndim > x_ndim + 1:
        raise ValueError(
            f"mask has {arr.ndim} dimensions (shape {_shape(arr)}) but the weights are {weights_shape} "
            f"(batch..., h, n_q, n_k): at most {x_ndim + 1} dimensions"
        )
    if arr.ndim <= x_ndim:
        arr = arr[..., None, :, :] if arr.ndim >= 2 else arr
    return _as_mask(arr, weights_shape, what="per-head weights")


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
    n_heads = _check_positive_int(n_heads, "n_heads")
    xa = _as_real_array(x, "x")
    _check_matrix_stack(xa, "x", "(..., n_tokens, d_model)")
    d_model = xa.shape[-1]
    wq = _check_head_weight(w_q, "W_Q", d_model, n_heads)
    wk = _check_head_weight(w_k, "W_K", d_model, n_heads)
    wv = _check_head_weight(w_v, "W_V", d_model, n_heads)
    if wq.shape[1] != wk.shape[1]:
        raise ValueError(
            f"W_Q and W_K must produce the same number of columns (h * d_head): W_Q shape "
            f"{_shape(wq)}, W_K shape {_shape(wk)}"
        )
    biases = [_check_bias(b, name, w.shape[1]) for b, name, w in
              ((b_q, "b_Q", wq), (b_k, "b_K", wk), (b_v, "b_V", wv))]
    q, k, v = (xa @ w if b is None else xa @ w + b for w, b in zip((wq, wk, wv), biases))
    qh, kh, vh = split_heads(q, n_heads), split_heads(k, n_heads), split_heads(v, n_heads)
    n = xa.shape[-2]
    head_mask = _head_mask(mask, xa.ndim, qh.shape[:-2] + (n, n))
    out, weights = scaled_dot_product_attention(qh, kh, vh, mask=head_mask)
    merged = merge_heads(out)
    if w_o is not None:
        wo = _as_real_array(w_o, "W_O")
        if wo.ndim != 2 or wo.shape[0] != merged.shape[-1]:
            raise ValueError(
                f"W_O must be a 2-D matrix with h * d_v_head = {merged.shape[-1]} rows (one per column "
                f"of the concatenated heads); got shape {_shape(wo)}"
            )
        merged = merged @ wo
        bo = _check_bias(b_o, "b_O", wo.shape[1])
        if bo is not None:
            merged = merged + bo
    elif b_o is not None:
        raise ValueError("b_O was given without W_O; the output bias belongs to the output projection")
    return merged, weights
