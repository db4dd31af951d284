"""Multi-head attention for chapter 09 (多头注意力), NumPy only.

Two ways to compute the same thing, so a chapter (and a test) can prove they agree:

* :func:`heads_loop` — h separate single-head attentions, each with its own
  W_Q^i, W_K^i, W_V^i (column blocks of the big matrices), outputs
  concatenated, then W_O;
* :func:`helpers.attention.multi_head_self_attention` — one big projection,
  ``(b, n, d_model) -> (b, n, h, d_head) -> (b, h, n, d_head)``, one batched
  matmul for all heads, merge back, W_O.

:class:`MultiHeadAttention` holds the four weight matrices (+ optional biases)
of one layer and calls the batched function; ``forward(x, mask)`` returns the
output and the ``(b, h, n, n)`` weights.  Chapter 10 reuses it for a small
trained model.

Also here: the parameter count / cost of one layer (:func:`attention_cost`),
the hand-built two-head example where each head takes one relation of 它
(:func:`two_relation_weights`), and the conversion of the course's keep-mask
(True = may attend) to PyTorch's masked-out convention (:func:`to_torch_mask`).
"""

from __future__ import annotations

import numpy as np

from . import validation as _v
from .attention import (
    attention_scores,
    multi_head_self_attention,
    self_attention,
    softmax,
    split_heads,
)
from .handmade import handmade_weights, shared_direction, token_direction
from .tokens import init_weights

__all__ = [
    "MultiHeadAttention",
    "heads_loop",
    "head_slices",
    "attention_cost",
    "two_relation_weights",
    "to_torch_mask",
    "demo_heads",
    "scaling_stats",
]


def head_slices(d: int, n_heads: int) -> list[slice]:
    """The column block of every head: ``[slice(0, d_head), slice(d_head, 2*d_head), …]``."""
    d_head = _v.check_d_head(d, n_heads, "d")
    n_heads = int(n_heads)
    return [slice(i * d_head, (i + 1) * d_head) for i in range(n_heads)]


def _check_heads_loop_inputs(x, w_q, w_k, w_v, n_heads, w_o):
    """Everything :func:`heads_loop` multiplies, in one float dtype (float32 only if all are float32)."""
    xa, wq, wk, wv, wo, _, n_heads, _ = _v.check_multi_head_inputs(x, w_q, w_k, w_v, n_heads, w_o)
    if xa.ndim not in (2, 3):
        raise ValueError(f"heads_loop takes x of shape (n, d_model) or (b, n, d_model); got {_v.shape_str(xa)}")
    dtype = np.result_type(*(a for a in (xa, wq, wk, wv, wo) if a is not None))
    xa, wq, wk, wv = (a.astype(dtype, copy=False) for a in (xa, wq, wk, wv))
    return xa, wq, wk, wv, None if wo is None else wo.astype(dtype, copy=False), n_heads


def heads_loop(x, w_q, w_k, w_v, n_heads, w_o=None, mask=None):
    """Reference multi-head attention written as a Python loop over heads (and batch rows).

    Head ``i`` is an ordinary single-head self-attention with
    ``W_Q^i = w_q[:, cols_i]`` (and the same for K, V); the h outputs are
    concatenated along the columns and multiplied by ``w_o``.

    Parameters
    ----------
    x : array_like, shape (n, d_model) or (b, n, d_model)
    w_q, w_k, w_v : array_like, shape (d_model, h * d_head)
        (called W_Q, W_K, W_V in messages)
    n_heads : int
    w_o : array_like, shape (h * d_head, d_out), optional
    mask : array_like of bool, optional
        ``(n, n)`` for every sequence, or ``(b, n, n)`` / ``(b, 1, n)`` per sequence
        (True = may attend).

    Returns
    -------
    output : numpy.ndarray, shape (..., n, d_out)
        float32 only when every input is float32, else float64 (like
        :func:`helpers.attention.multi_head_self_attention`).
    weights : numpy.ndarray, shape (..., h, n, n)
    """
    xa, w_q, w_k, w_v, w_o, n_heads = _check_heads_loop_inputs(x, w_q, w_k, w_v, n_heads, w_o)
    if xa.ndim == 2:
        return _heads_loop_one(xa, w_q, w_k, w_v, n_heads, w_o, mask)
    outs = [_heads_loop_one(xa[b], w_q, w_k, w_v, n_heads, w_o, _mask_for_row(mask, b, len(xa)))
            for b in range(len(xa))]                                   # one sequence at a time
    return np.stack([o for o, _ in outs]), np.stack([w for _, w in outs])


def _heads_loop_one(x, w_q, w_k, w_v, n_heads, w_o, mask):
    """:func:`heads_loop` for one sequence ``x`` of shape (n, d_model), inputs already checked."""
    outputs, weights = [], []
    for cq, cv in zip(head_slices(w_q.shape[1], n_heads), head_slices(w_v.shape[1], n_heads)):
        z_i, a_i = self_attention(x, w_q[:, cq], w_k[:, cq], w_v[:, cv], mask=mask)  # (n, d_v_head), (n, n)
        outputs.append(z_i)
        weights.append(a_i)
    z = np.concatenate(outputs, axis=-1)                               # (n, h * d_v_head)
    if w_o is not None:
        z = z @ w_o                                                    # (n, d_out)
    return z, np.stack(weights)                                        # (h, n, n)


def _mask_for_row(mask, b: int, batch: int):
    """The mask of sequence ``b`` of a batch: ``mask[b]`` for a per-sequence mask, else ``mask`` itself."""
    if mask is None:
        return None
    m = np.asarray(mask)
    if m.ndim == 3:
        if m.shape[0] not in (1, batch):
            raise ValueError(f"mask of shape {_v.shape_str(m)} does not match a batch of {batch}")
        return m[b if m.shape[0] == batch else 0]
    return m


class MultiHeadAttention:
    """One multi-head self-attention layer: W_Q, W_K, W_V, W_O (d_model × d_model) + optional biases.

    Parameters
    ----------
    d_model : int
        Size of every token vector (in and out).
    n_heads : int
        Number of heads; ``d_head = d_model // n_heads``.
    bias : bool, default False
        Add biases b_Q, b_K, b_V, b_O (zeros unless set), like ``nn.MultiheadAttention(bias=True)``.
    seed : int, default 0
        W_Q, W_K, W_V, W_O = ``init_weights(d_model, d_model, seed + 0 … 3)``.

    Attributes
    ----------
    w_q, w_k, w_v, w_o : numpy.ndarray, shape (d_model, d_model)
        Course convention ``x @ W`` (PyTorch's ``nn.Linear.weight`` is the transpose).
    b_q, b_k, b_v, b_o : numpy.ndarray of shape (d_model,) or None

    Examples
    --------
    >>> mha = MultiHeadAttention(d_model=16, n_heads=4)
    >>> z, alpha = mha.forward(np.ones((2, 5, 16)))
    >>> z.shape, alpha.shape, mha.n_params
    ((2, 5, 16), (2, 4, 5, 5), 1024)
    """

    def __init__(self, d_model: int, n_heads: int, *, bias: bool = False, seed: int = 0):
        self.d_model = _v.check_positive_int(d_model, "d_model")
        self.n_heads = _v.check_positive_int(n_heads, "n_heads")
        self.d_head = _v.check_d_head(self.d_model, self.n_heads)
        bias = _v.check_bool(bias, "bias")
        seed = _v.check_seed(seed, n_used=4)                             # seed, …, seed + 3
        self.w_q, self.w_k, self.w_v, self.w_o = (
            init_weights(self.d_model, self.d_model, seed + i) for i in range(4))
        zeros = np.zeros(self.d_model)
        self.b_q, self.b_k, self.b_v, self.b_o = (
            (zeros.copy(), zeros.copy(), zeros.copy(), zeros.copy()) if bias else (None,) * 4)

    @classmethod
    def from_weights(cls, w_q, w_k, w_v, w_o, n_heads, *, b_q=None, b_k=None, b_v=None, b_o=None):
        """A layer holding copies of given (d_model, d_model) matrices (and optional biases)."""
        w_q = _v.as_real_array(w_q, "W_Q")
        if w_q.ndim != 2 or w_q.shape[0] != w_q.shape[1]:
            raise ValueError(f"W_Q must be square (d_model, d_model); got shape {_v.shape_str(w_q)}")
        d = w_q.shape[0]
        layer = cls(d, n_heads, bias=any(b is not None for b in (b_q, b_k, b_v, b_o)))
        for name, w in (("w_q", w_q), ("w_k", w_k), ("w_v", w_v), ("w_o", w_o)):
            arr = _v.as_real_array(w, name.upper())
            if arr.shape != (d, d):
                raise ValueError(f"{name.upper()} must have shape ({d}, {d}) like W_Q; got {_v.shape_str(arr)}")
            setattr(layer, name, arr.astype(np.float64, copy=True))
        for name, b in (("b_q", b_q), ("b_k", b_k), ("b_v", b_v), ("b_o", b_o)):
            if b is not None:
                setattr(layer, name, _v.check_bias(b, name, d).astype(np.float64, copy=True))
        return layer

    @property
    def n_params(self) -> int:
        """Number of learned numbers: 4·d_model² (+ 4·d_model with biases), whatever n_heads is."""
        n = 4 * self.d_model * self.d_model
        return n + (4 * self.d_model if self.b_q is not None else 0)

    def forward(self, x, mask=None):
        """``(output, weights)`` for x of shape (n, d_model) or (b, n, d_model).

        ``mask`` (True = may attend) follows x's batch layout — ``(n, n)``,
        ``(b, n, n)``, ``(b, 1, n)`` — and applies to every head, or has an extra
        head axis ``(..., h, n, n)``.  Returns output ``(..., n, d_model)`` and
        weights ``(..., h, n, n)``.
        """
        return multi_head_self_attention(x, self.w_q, self.w_k, self.w_v, self.n_heads, w_o=self.w_o,
                                         mask=mask, b_q=self.b_q, b_k=self.b_k, b_v=self.b_v, b_o=self.b_o)

    __call__ = forward

    def heads_loop(self, x, mask=None):
        """The same layer computed head by head with a Python loop (no biases allowed)."""
        if self.b_q is not None:
            raise ValueError("heads_loop is the bias-free reference; build the layer with bias=False")
        return heads_loop(x, self.w_q, self.w_k, self.w_v, self.n_heads, w_o=self.w_o, mask=mask)

    def head_weights(self, i: int):
        """``(W_Q^i, W_K^i, W_V^i)`` of head ``i``: the column block ``i*d_head:(i+1)*d_head``."""
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"i must be an int head index, got {i!r}")
        if not 0 <= i < self.n_heads:
            raise ValueError(f"head index i={i} is out of range for n_heads={self.n_heads}")
        cols = slice(i * self.d_head, (i + 1) * self.d_head)
        return self.w_q[:, cols].copy(), self.w_k[:, cols].copy(), self.w_v[:, cols].copy()

    def __repr__(self) -> str:
        return (f"MultiHeadAttention(d_model={self.d_model}, n_heads={self.n_heads}, "
                f"d_head={self.d_head}, bias={self.b_q is not None}, n_params={self.n_params})")


def attention_cost(batch: int, n: int, d_model: int, n_heads: int, *, bias: bool = False) -> dict:
    """Size and cost of one multi-head self-attention layer.

    Counts multiply-adds (one ``a*b + c`` = 1) of the four matrix products;
    softmax, scaling and biases are O(b·h·n²) / O(b·n·d) extras not counted.

    Returns
    -------
    dict with
        ``params``           4·d_model² (+ 4·d_model with biases) — independent of h;
        ``macs_projections`` 4·b·n·d_model² (Q, K, V and W_O);
        ``macs_scores``      b·h·n²·d_head = b·n²·d_model (Q Kᵀ of every head);
        ``macs_mix``         b·n²·d_model (α V of every head);
        ``macs_total``       the sum — also independent of h;
        ``weights_entries``  b·h·n² numbers in the (b, h, n, n) attention weights — grows with h;
        ``d_head``           d_model // h.
    """
    batch = _v.check_positive_int(batch, "batch")
    n = _v.check_positive_int(n, "n")
    d_model = _v.check_positive_int(d_model, "d_model")
    n_heads = _v.check_positive_int(n_heads, "n_heads")
    d_head = _v.check_d_head(d_model, n_heads)
    proj = 4 * batch * n * d_model * d_model
    scores = batch * n_heads * n * n * d_head
    mix = batch * n_heads * n * n * d_head
    return {
        "params": 4 * d_model * d_model + (4 * d_model if bias else 0),
        "macs_projections": proj,
        "macs_scores": scores,
        "macs_mix": mix,
        "macs_total": proj + scores + mix,
        "weights_entries": batch * n_heads * n * n,
        "d_head": d_head,
    }


def two_relation_weights(tokens=None, *, d_model: int = 16, strength: float = 3.0, seed: int = 0):
    """Hand-built 2-head weights: head 1 makes 它 look at 小猫, head 2 makes 它 look at 饿坏了.

    Each head is :func:`helpers.handmade.handmade_weights` for one (query, key)
    pair, with ``d_head = d_model // 2``; the two blocks are placed side by side.
    The single-head comparison uses the SAME total size d_k = d_model and
    simply adds both relations into one W_Q / W_K — one softmax row then has to
    split its weight between the two keys.

    Returns
    -------
    dict with ``"two_heads": (W_Q, W_K, W_V, W_O)`` (all (d_model, d_model), W_O = identity so
    the heads' outputs stay readable) and ``"one_head": (W_Q, W_K, W_V)`` (d_model × d_model).
    """
    d_head = _v.check_d_head(d_model, 2, "d_model", " (two heads of d_model / 2)")
    d_model = int(d_model)
    seed = _v.check_seed32(seed)                  # the embedding seed of handmade_weights; also seed + 3
    wq1, wk1, wv1 = handmade_weights("它", "小猫", d_model=d_model, d_k=d_head, strength=strength, seed=seed)
    wq2, wk2, wv2 = handmade_weights("它", "饿坏了", d_model=d_model, d_k=d_head, strength=strength, seed=seed)
    w_v2 = init_weights(d_model, d_head, seed + 3)
    two = (np.concatenate([wq1, wq2], axis=1), np.concatenate([wk1, wk2], axis=1),
           np.concatenate([wv1, w_v2], axis=1), np.eye(d_model))
    # one head of the same total size: one query feature (它), the two key features added
    u = shared_direction(d_model, seed)
    q_dir = token_direction("它", d_model, seed)
    k_sum = token_direction("小猫", d_model, seed) + token_direction("饿坏了", d_model, seed)
    one = (strength * np.outer(q_dir, u), strength * np.outer(k_sum, u), two[2].copy())
    return {"two_heads": two, "one_head": one}


def to_torch_mask(keep) -> np.ndarray:
    """Course keep-mask (True = may attend) → PyTorch ``nn.MultiheadAttention`` mask (True = masked out).

    ``F.scaled_dot_product_attention`` takes the course's convention unchanged
    (a boolean ``attn_mask`` there means True = takes part); ``nn.MultiheadAttention``'s
    ``attn_mask`` and ``key_padding_mask`` mean the opposite, so the mask is negated.
    """
    return ~_v.as_bool_array(keep, "keep")


def demo_heads(*, d_model: int = 16, n_heads: int = 4, strength: float = 1.0, seed: int = 0):
    """Weights of a small multi-head layer for the chapter's panel: two hand-built heads, the rest random.

    Head 1 makes 它 look at 小猫 and head 2 makes 它 look at 饿坏了 (as in
    :func:`two_relation_weights`, each ``d_head = d_model // n_heads`` wide); heads 3…h are
    random, untrained projections (``init_weights``).  W_O is the identity.

    Returns
    -------
    (W_Q, W_K, W_V, W_O), each (d_model, d_model)
    """
    d_model = _v.check_positive_int(d_model, "d_model")
    n_heads = _v.check_int(n_heads, "n_heads", low=2, high=_v.MAX_SIZE)   # two hand-built heads
    d_head = _v.check_d_head(d_model, n_heads)
    seed = _v.check_seed32(seed)                  # the embedding seed of handmade_weights; also seed + 10 … + 12
    wq, wk = init_weights(d_model, d_model, seed + 10), init_weights(d_model, d_model, seed + 11)
    wv = init_weights(d_model, d_model, seed + 12)
    for i, key in enumerate(("小猫", "饿坏了")):
        q_i, k_i, _ = handmade_weights("它", key, d_model=d_model, d_k=d_head, strength=strength, seed=seed)
        wq[:, i * d_head:(i + 1) * d_head] = q_i
        wk[:, i * d_head:(i + 1) * d_head] = k_i
    return wq, wk, wv, np.eye(d_model)


def scaling_stats(x, w_q, w_k, n_heads, divisor) -> dict:
    """How sharp the per-head weights are when every head's scores are divided by ``divisor``.

    Parameters
    ----------
    x : array_like, shape (..., n, d_model)
    w_q, w_k : array_like, shape (d_model, h * d_head)
        (called W_Q, W_K in messages)
    n_heads : int
    divisor : float
        Any positive finite number (√d_head is the standard choice, 1 = no scaling).

    Returns a dict with ``score_std`` (std of the divided scores over all heads, rows, keys),
    ``mean_max`` (mean over heads and rows of the largest weight of the row) and
    ``entropy_ratio`` (mean row entropy / log n: 1 = uniform, 0 = one-hot).
    """
    xa, w_q, w_k, n_heads = _v.check_heads_qk(x, w_q, w_k, n_heads)
    divisor = _v.check_positive_number(divisor, "divisor")
    q = split_heads(xa @ w_q, n_heads)                                 # (..., h, n, d_head)
    k = split_heads(xa @ w_k, n_heads)                                 # (..., h, n, d_head)
    with np.errstate(over="ignore"):
        scores = attention_scores(q, k) / divisor                      # (..., h, n, n)
    _v.check_score_spread(scores, divisor)
    w = softmax(scores)                                                # (..., h, n, n), rows sum to 1
    n = w.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.sum(np.where(w > 0, w * np.log(w), 0.0), axis=-1)    # (..., h, n): entropy of each row
    return {"score_std": float(scores.std()), "mean_max": float(w.max(axis=-1).mean()),
            "entropy_ratio": float(ent.mean() / np.log(n)) if n > 1 else 0.0}
