"""A 2-layer attention-only Transformer that learns induction heads (chapter 10).

Everything is NumPy: the data generator, the model, its hand-written backward
pass, Adam, and the measurements the chapter shows.  The trained weights ship
with the course (``helpers/induction_weights.npz``, written by
``tools/train_induction.py``); :func:`load_weights` reads them, together with
the settings saved with them (``params.config``: the head count cannot be read
off the shapes, so every function uses the model's own and refuses another).
To change a model, start from ``params.copy()``: it keeps those settings, while a
dict built by hand records no head count (then pass ``n_heads``).

The task
--------
A sequence is ``n_ctx`` = 24 characters drawn uniformly from a fixed
vocabulary of 40 common characters (:data:`VOCAB`).  Somewhere in it a segment
of random length 4–12 (first occurrence at ``src``) appears a second time,
later, at a random offset (the copy at ``dst``, ``dst >= src + length``).
Everything else is random, so

* inside the copy the next character is predictable — it is the character
  that followed the same character in the first occurrence;
* everywhere else it is not (best possible loss ``ln 40 ≈ 3.69``).

The model
---------
Rows = tokens.  ``X⁰ = W_E[tokens] + W_pos[:n]`` (a learned positional
embedding that starts from the course's sinusoidal encoding; ``learned_pos=False``
keeps the sinusoidal encoding fixed, ``pos_init="random"`` starts from noise),
then for each layer ``l``::

    Q = X W_Q[l],  K = X W_K[l],  V = X W_V[l]          (n, d_model) each
    head h uses columns h*d_head:(h+1)*d_head            (split_heads)
    Z_h = softmax(Q_h K_hᵀ / √d_head + causal mask) V_h  (n, d_head)
    X  ← X + concat(Z_0, …, Z_{H-1}) W_O[l]              residual connection

and finally ``logits = X W_U`` (n, vocab) with a softmax cross-entropy loss on
"predict token t+1 from position t".  No MLP, no layer norm: the attention
heads are the only thing that moves information between positions.

Measurements (all averaged over a fixed evaluation set, see :func:`make_batch`)
------------------------------------------------------------------------------
previous-token score of head (l, h)
    mean over sequences and query positions i = 1 … n-1 of α[l, h, i, i-1]:
    how much of its attention a query puts on the token just before it
    (1 = always exactly the previous token).
induction score of head (l, h)
    mean over sequences and the query positions i inside the copy
    (dst ≤ i < dst + length) of α[l, h, i, i - (dst - src) + 1]: the weight on
    the token *after the previous occurrence* of the current token — the
    token an induction head should copy.
repeated half / random half
    the positions t whose target token t+1 lies inside the copy
    (dst ≤ t ≤ dst + length - 2) vs. inside the first occurrence
    (src ≤ t ≤ src + length - 2).  Both sets have ``length - 1`` positions.
ablation of head (l, h)
    the same forward pass with Z_h of that head set to zero before W_O.
"""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path

import numpy as np

from . import validation as _v
from .attention import (
    _as_real_array,
    _check_positive_int,
    _shape,
    causal_mask,
)
from .tokens import positional_encoding

__all__ = [
    "VOCAB",
    "CONFIG",
    "PARAM_NAMES",
    "WEIGHTS_PATH",
    "encode",
    "decode",
    "make_batch",
    "init_params",
    "forward",
    "attention_weights",
    "loss_and_gradients",
    "loss_only",
    "numerical_gradients",
    "max_relative_error",
    "adam_init",
    "adam_step",
    "train",
    "per_position_loss",
    "half_masks",
    "previous_token_scores",
    "induction_scores",
    "same_token_scores",
    "chance_scores",
    "half_losses",
    "path_ablation",
    "ablation_table",
    "evaluate",
    "predict_next",
    "where_heads_look",
    "head_columns",
    "composition_scores",
    "save_weights",
    "load_weights",
]

#: The 40 characters the model knows (index = token id).  Chosen so that short
#: everyday phrases such as 今天天气很好，今天天气 can be typed.
VOCAB = "今天气很好，我你他们的是不了人在有这个大小上下中来去说学生日月山水火车书花猫狗鱼"

class _ReadOnlyDict(dict):
    """A dict that refuses every change (reading, printing, ``{**d}`` and copying work as usual)."""

    def __init__(self, name: str, items):
        super().__init__(items)
        self._name = name

    def _refuse(self, *args, **kwargs):
        raise TypeError(f"{self._name} is read-only: it describes a model that already exists.  Pass a "
                        f"setting as an argument instead, e.g. init_params(0, n_heads=4) or make_batch(8, n_ctx=12)")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self):
        return (type(self), (self._name, dict(self)))


#: Hyper-parameters of the shipped model and of its training data (read-only: a changed
#: global would silently change every later call; pass settings as arguments instead).
CONFIG = _ReadOnlyDict("CONFIG", {
    "vocab_size": len(VOCAB),
    "n_ctx": 24,
    "d_model": 32,
    "n_heads": 2,
    "n_layers": 2,
    "min_len": 4,
    "max_len": 12,
    "learned_pos": True,
    "pos_init": "sinusoidal",
})


class _Weights(dict):
    """The weight matrices of one model, name → array exactly like a plain dict, plus ``config``:
    the settings it was built with (read-only).  ``n_heads`` is among them — the shapes cannot
    tell it — so every function uses the model's own head count, and refuses another one.
    :func:`init_params`, :func:`train` and :func:`load_weights` return this.

    To change a model (e.g. zero one head's rows of W_O), start from ``params.copy()`` — its own
    copies of the arrays, so the original stays as it was — or ``params | {"W_O": new_w_o}``: both
    keep ``config``, and so do ``copy.copy``/``copy.deepcopy``.  A dict built by hand (``dict(params)``,
    ``{k: v.copy() for k, v in params.items()}``) records no head count: functions then need
    ``n_heads=…`` and refuse to guess it."""

    def __init__(self, arrays, config):
        super().__init__(arrays)
        self.config = _ReadOnlyDict("params.config", config)

    def copy(self):
        """The same model with its own copies of the arrays (changing them leaves ``self`` alone)
        and the same ``config``."""
        return _Weights(copy.deepcopy(dict(self)), self.config)

    def __or__(self, other):
        """``params | {"W_O": w}``: the model with those arrays replaced, same ``config``."""
        return _Weights({**self, **other}, self.config) if isinstance(other, dict) else NotImplemented

    def __ror__(self, other):
        return _Weights({**other, **self}, self.config) if isinstance(other, dict) else NotImplemented

    def __reduce__(self):
        return (type(self), (dict(self), dict(self.config)))

PARAM_NAMES = ("W_E", "W_pos", "W_Q", "W_K", "W_V", "W_O", "W_U")

WEIGHTS_PATH = Path(__file__).with_name("induction_weights.npz")

#: Seed of the fixed evaluation set used by :func:`evaluate` (never used for training).
EVAL_SEED = 12345


# ---------------------------------------------------------------------------
# tokens and data
# ---------------------------------------------------------------------------

def encode(text) -> np.ndarray:
    """Characters → token ids (one id per character of :data:`VOCAB`).

    Raises ``ValueError`` naming every character the model does not know
    (out-of-vocabulary, OOV), and if the text is empty or longer than
    ``n_ctx`` = 24 characters (the model has only 24 learned positions).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    unknown = sorted({ch for ch in text if ch not in VOCAB}, key=text.index)
    if unknown:
        raise ValueError(
            f"text contains characters outside the model's {len(VOCAB)}-character vocabulary: "
            f"{''.join(unknown)!r}; known characters: {VOCAB}"
        )
    if not 1 <= len(text) <= CONFIG["n_ctx"]:
        raise ValueError(f"text must have 1 to {CONFIG['n_ctx']} characters, got {len(text)}")
    return np.array([VOCAB.index(ch) for ch in text], dtype=np.int64)


def decode(ids) -> list[str]:
    """Token ids → list of characters."""
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu" or ((ids < 0) | (ids >= len(VOCAB))).any():
        raise ValueError(f"ids must be integers in [0, {len(VOCAB)}); got {ids!r}")
    return [VOCAB[int(i)] for i in ids.ravel()]


def make_batch(batch_size: int, seed=0, *, n_ctx: int | None = None, vocab_size: int | None = None,
               min_len: int | None = None, max_len: int | None = None) -> dict:
    """Random sequences with one repeated segment at a random offset.

    For each sequence: ``length`` ~ uniform{min_len … max_len}, ``dst`` ~
    uniform{length … n_ctx - length}, ``src`` ~ uniform{0 … dst - length};
    all tokens uniform over the vocabulary, then ``tokens[dst:dst+length] =
    tokens[src:src+length]``.  Lengths and offsets vary, so the copy cannot be
    predicted from absolute positions.

    Parameters
    ----------
    batch_size : int
    seed : int or numpy.random.Generator
    n_ctx, vocab_size, min_len, max_len : int, optional
        Default to :data:`CONFIG`.

    Returns
    -------
    dict with ``tokens`` (B, n_ctx) int64, ``src``, ``dst``, ``length`` (B,) int64.
    """
    batch_size, rng, n, v, lo, hi = _check_batch_inputs(batch_size, seed, n_ctx, vocab_size, min_len, max_len)
    tokens = rng.integers(0, v, size=(batch_size, n))
    length = rng.integers(lo, hi + 1, size=batch_size)
    src = np.empty(batch_size, dtype=np.int64)
    dst = np.empty(batch_size, dtype=np.int64)
    for b in range(batch_size):
        L = int(length[b])
        # the copy's start is uniform, so early copies (short texts) are as common as late ones
        dst[b] = rng.integers(L, n - L + 1)
        src[b] = rng.integers(0, dst[b] - L + 1)
        tokens[b, dst[b]:dst[b] + L] = tokens[b, src[b]:src[b] + L]
    return {"tokens": tokens.astype(np.int64), "src": src, "dst": dst, "length": length.astype(np.int64)}


def _check_batch_inputs(batch_size, seed, n_ctx, vocab_size, min_len, max_len):
    """``(batch_size, rng, n_ctx, vocab_size, min_len, max_len)`` of :func:`make_batch`, checked
    (``None`` = the value in :data:`CONFIG`)."""
    batch_size = _check_positive_int(batch_size, "batch_size")
    n = _check_positive_int(CONFIG["n_ctx"] if n_ctx is None else n_ctx, "n_ctx")
    v = _check_positive_int(CONFIG["vocab_size"] if vocab_size is None else vocab_size, "vocab_size")
    lo = _check_positive_int(CONFIG["min_len"] if min_len is None else min_len, "min_len")
    hi = _check_positive_int(CONFIG["max_len"] if max_len is None else max_len, "max_len")
    if not 2 <= lo <= hi or 2 * hi > n:
        raise ValueError(f"need 2 <= min_len <= max_len and 2*max_len <= n_ctx; got {lo}, {hi}, n_ctx={n}")
    _v.check_elements((batch_size, n), "batch_size")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(_v.check_seed(seed))
    return batch_size, rng, n, v, lo, hi


# ---------------------------------------------------------------------------
# parameters
# ---------------------------------------------------------------------------

def init_params(seed: int = 0, **config) -> dict:
    """Random starting weights (deterministic); ``config`` overrides :data:`CONFIG`.

    Shapes: ``W_E`` (vocab, d_model), ``W_pos`` (n_ctx, d_model), ``W_Q``,
    ``W_K``, ``W_V``, ``W_O`` (n_layers, d_model, d_model), ``W_U`` (d_model, vocab).
    """
    cfg = _check_config(config)
    v, n, d, n_layers = cfg["vocab_size"], cfg["n_ctx"], cfg["d_model"], cfg["n_layers"]
    rng = np.random.default_rng(_v.check_seed(seed))
    s = 1.0 / math.sqrt(d)
    w_pos = rng.normal(0.0, 1.0, (n, d))
    if not cfg["learned_pos"] or cfg["pos_init"] == "sinusoidal":
        w_pos = positional_encoding(n, d)     # fixed, or the starting point of the learned one
    return _Weights({
        "W_E": rng.normal(0.0, 1.0, (v, d)),
        "W_pos": w_pos,
        "W_Q": rng.normal(0.0, s, (n_layers, d, d)),
        "W_K": rng.normal(0.0, s, (n_layers, d, d)),
        "W_V": rng.normal(0.0, s, (n_layers, d, d)),
        "W_O": rng.normal(0.0, s, (n_layers, d, d)),
        "W_U": rng.normal(0.0, s, (d, v)),
    }, cfg)


def _check_config_keys(config: dict) -> None:
    unknown = sorted(set(config) - set(CONFIG))
    if unknown:
        raise TypeError(f"unknown config key(s) {unknown}; the model's settings are {list(CONFIG)}")


def _check_config(config: dict, base=CONFIG) -> dict:
    """``base`` (:data:`CONFIG` or a model's own settings) with the overrides in ``config``, every
    size checked (and the weights' size)."""
    _check_config_keys(config)
    cfg = {**CONFIG, **base, **config}
    for key in ("vocab_size", "n_ctx", "n_layers", "min_len", "max_len"):
        cfg[key] = _check_positive_int(cfg[key], key)
    _v.check_d_head(cfg["d_model"], cfg["n_heads"])
    cfg["learned_pos"] = _v.check_bool(cfg["learned_pos"], "learned_pos")
    if cfg["pos_init"] not in ("sinusoidal", "random"):
        raise ValueError(f"pos_init must be 'sinusoidal' or 'random', got {cfg['pos_init']!r:.40}")
    d = cfg["d_model"]
    _v.check_elements((cfg["n_layers"], d, d), "d_model")
    _v.check_elements((max(cfg["vocab_size"], cfg["n_ctx"]), d), "vocab_size / n_ctx")
    return cfg


def _check_params(params) -> dict:
    p = _v.check_param_dict(params, PARAM_NAMES)
    v, d = p["W_E"].shape if p["W_E"].ndim == 2 else (None, None)
    if d is None:
        raise ValueError(f"W_E must be (vocab, d_model); got shape {_shape(p['W_E'])}")
    for k in ("W_Q", "W_K", "W_V", "W_O"):
        if p[k].ndim != 3 or p[k].shape[1:] != (d, d) or p[k].shape[0] != p["W_Q"].shape[0]:
            raise ValueError(f"{k} must be (n_layers, {d}, {d}); got shape {_shape(p[k])}")
    if p["W_pos"].ndim != 2 or p["W_pos"].shape[1] != d:
        raise ValueError(f"W_pos must be (n_ctx, {d}); got shape {_shape(p['W_pos'])}")
    if p["W_U"].shape != (d, v):
        raise ValueError(f"W_U must be ({d}, {v}); got shape {_shape(p['W_U'])}")
    return p


def _check_tokens(tokens, params) -> np.ndarray:
    t = np.asarray(tokens)
    if t.dtype.kind not in "iu":
        raise TypeError(f"tokens must be integer ids, got dtype {t.dtype}")
    if t.ndim == 1:
        t = t[None]
    if t.ndim != 2 or t.size == 0:
        raise ValueError(f"tokens must have shape (B, n) or (n,); got {_shape(tokens)}")
    v, n_ctx = params["W_E"].shape[0], params["W_pos"].shape[0]
    if t.shape[1] > n_ctx:
        raise ValueError(f"sequences have {t.shape[1]} tokens but the model has only {n_ctx} positions")
    if (t < 0).any() or (t >= v).any():
        raise ValueError(f"token ids must lie in [0, {v}); got min {t.min()}, max {t.max()}")
    return t.astype(np.int64)


def _check_head_mask(head_mask, n_layers: int, n_heads: int):
    if head_mask is None:
        return None
    m = _as_real_array(head_mask, "head_mask")
    if m.shape != (n_layers, n_heads):
        raise ValueError(f"head_mask must have shape (n_layers, n_heads) = ({n_layers}, {n_heads}); got {_shape(m)}")
    return m


# ---------------------------------------------------------------------------
# forward and backward
# ---------------------------------------------------------------------------

def _split(x, h):
    """(B, n, d) -> (B, h, n, d/h) without validation (training hot path)."""
    b, n, d = x.shape
    return x.reshape(b, n, h, d // h).transpose(0, 2, 1, 3)


def _merge(x):
    """(B, h, n, d_head) -> (B, n, h*d_head) without validation."""
    b, h, n, dh = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, n, h * dh)


def _causal_softmax(scores, blocked):
    """Row softmax of ``scores`` (…, n, n) with ``blocked`` (n, n) positions set to weight 0."""
    s = np.where(blocked, -np.inf, scores)
    s = s - s.max(axis=-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)


def _forward_core(p, t, h, hm):
    """Forward pass on validated inputs; returns the dict documented in :func:`forward`."""
    n_layers, d = p["W_Q"].shape[:2]
    b, n = t.shape
    x = p["W_E"][t] + p["W_pos"][:n]
    blocked = ~causal_mask(n)
    scale = 1.0 / math.sqrt(d // h)
    resid, layers, weights = [x], [], []
    for layer in range(n_layers):
        qh = _split(x @ p["W_Q"][layer], h)      # (B, h, n, d_head)
        kh = _split(x @ p["W_K"][layer], h)
        vh = _split(x @ p["W_V"][layer], h)
        a = _causal_softmax(qh @ kh.transpose(0, 1, 3, 2) * scale, blocked)
        z = a @ vh                                # (B, h, n, d_head)
        if hm is not None:
            z = z * hm[layer][:, None, None]
        zm = _merge(z)                            # (B, n, d_model)
        x = x + zm @ p["W_O"][layer]
        layers.append({"q": qh, "k": kh, "v": vh, "a": a, "zm": zm})
        weights.append(a)
        resid.append(x)
    return {
        "tokens": t,
        "logits": x @ p["W_U"],
        "weights": np.stack(weights, axis=1),
        "resid": resid,
        "layers": layers,
        "head_mask": hm,
        "n_heads": h,
    }


def _check_model(params, n_heads):
    """``(params, n_heads)`` checked: the weights' shapes agree, n_heads is the one saved with the
    weights (``None`` = that one) and divides d_model.  A plain dict saves none, and the shapes
    cannot tell it (any divisor of d_model fits them): then ``n_heads`` must be given."""
    p = _check_params(params)
    d = p["W_Q"].shape[1]
    if n_heads is not None:
        _v.check_d_head(d, n_heads)
        n_heads = int(n_heads)
    saved = getattr(params, "config", {}).get("n_heads")
    what, why, hint = "the model in params", "", ""
    if saved is None and n_heads is None:
        fits = [str(k) for k in range(1, d + 1) if d % k == 0]
        what = "params (a plain dict)"
        why = "its shapes cannot tell it" + (f" (d_model={d} can be split into {', '.join(fits[:-1])} or {fits[-1]} heads)"
                                             if d > 1 else "")
        hint = (f" (the course's model has {CONFIG['n_heads']}), or build a changed model from params.copy() or "
                f"params | {{...}}: both keep the model's settings (params.config)")
    h = _v.check_recorded_setting(n_heads, saved, "n_heads", what, why, hint)
    _v.check_d_head(d, h)
    return p, h


def _settings(params, p, h) -> dict:
    """The settings of the model ``params`` (its checked arrays ``p``, ``h`` heads): what the shapes
    say taken from the shapes, the rest (data and training settings) from ``params.config``, or
    :data:`CONFIG` for a plain dict."""
    n_layers, d = p["W_Q"].shape[:2]
    return {**getattr(params, "config", CONFIG), "vocab_size": p["W_E"].shape[0], "n_ctx": p["W_pos"].shape[0],
            "d_model": d, "n_heads": h, "n_layers": n_layers}


def _check_two_layers(p, what: str) -> None:
    if p["W_Q"].shape[0] != 2:
        raise ValueError(f"{what} needs a 2-layer model; got {p['W_Q'].shape[0]} layers")


def _prepare(params, tokens, n_heads, head_mask):
    p, h = _check_model(params, n_heads)
    t = _check_tokens(tokens, p)
    return p, t, h, _check_head_mask(head_mask, p["W_Q"].shape[0], h)


def forward(params, tokens, n_heads: int | None = None, head_mask=None) -> dict:
    """Forward pass, keeping every intermediate the backward pass needs.

    Each layer is exactly :func:`helpers.attention.multi_head_self_attention`
    with a causal mask, added to the residual stream (the tests check this);
    the code here skips the input checks inside the loop so that training is fast.

    Parameters
    ----------
    params : dict (see :func:`init_params`)
    tokens : int array, shape (B, n) or (n,)
    n_heads : int, optional
        Heads per layer.  Default: the number saved with the weights (``params.config``, from
        :func:`load_weights`, :func:`init_params` or :func:`train`; any other number is refused).
        A plain dict records none and its shapes cannot tell it, so there it must be given.
    head_mask : array (n_layers, n_heads), optional
        Multiplies each head's output Z_h before W_O (0 = ablate that head).

    Returns
    -------
    dict with ``tokens`` (B, n), ``logits`` (B, n, vocab), ``weights``
    (B, n_layers, n_heads, n, n) — α of every head, rows = queries — ``resid``
    (list of the residual streams X⁰ … X^L, each (B, n, d_model)) and ``layers``
    (per-layer caches).
    """
    return _forward_core(*_prepare(params, tokens, n_heads, head_mask))


def attention_weights(params, tokens, n_heads: int | None = None, head_mask=None) -> np.ndarray:
    """α of every head for ONE sequence: shape (n_layers, n_heads, n, n), rows = queries."""
    t = np.asarray(tokens)
    if t.ndim != 1:
        raise ValueError(f"tokens must be one sequence (n,); got shape {_shape(t)}")
    return forward(params, t, n_heads, head_mask)["weights"][0]


def _log_softmax(logits):
    m = logits.max(axis=-1, keepdims=True)
    shifted = logits - m
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def per_position_loss(params, tokens, n_heads: int | None = None, head_mask=None) -> np.ndarray:
    """Cross-entropy of predicting token t+1 from position t: shape (B, n-1) (nats)."""
    out = forward(params, tokens, n_heads, head_mask)
    t = out["tokens"]
    logp = _log_softmax(out["logits"][:, :-1])
    return -np.take_along_axis(logp, t[:, 1:, None], axis=-1)[..., 0]


def loss_only(params, tokens, n_heads: int | None = None, head_mask=None) -> float:
    """Mean next-token cross-entropy over every position and sequence."""
    return float(np.mean(per_position_loss(params, tokens, n_heads, head_mask)))


def loss_and_gradients(params, tokens, n_heads: int | None = None, head_mask=None):
    """Mean next-token cross-entropy and its hand-derived gradients.

    Backward pass, one line per forward step (N = B·(n-1) predictions)::

        dlogits = (softmax(logits) - onehot(next token)) / N   (last position: 0)
        dW_U = Σ X^Lᵀ dlogits,           dX = dlogits W_Uᵀ
        for each layer, last first (X = the layer's input):
            dW_O = Σ Zᵀ dX,              dZ_h = split(dX W_Oᵀ) · head_mask
            dα = dZ_h V_hᵀ,              dV_h = αᵀ dZ_h
            dS = α ⊙ (dα - Σ_j α dα) / √d_head          (softmax backward, then the scale)
            dQ_h = dS K_h,               dK_h = dSᵀ Q_h
            dW_Q = Σ Xᵀ merge(dQ_h)  (same for K, V)
            dX  ← dX + merge(dQ_h) W_Qᵀ + merge(dK_h) W_Kᵀ + merge(dV_h) W_Vᵀ   (residual: dX passes through)
        dW_pos = Σ_b dX,   dW_E[token] += dX at every position holding that token

    Returns
    -------
    loss : float
    grads : dict with the same keys and shapes as ``params``
    """
    p, t, h, hm = _prepare(params, tokens, n_heads, head_mask)
    return _loss_and_gradients_core(p, t, h, hm)


def _outer_sum(a, b):
    """Σ over batch and positions of aᵀ b: (B, n, d) × (B, n, e) -> (d, e)."""
    return a.reshape(-1, a.shape[-1]).T @ b.reshape(-1, b.shape[-1])


def _loss_and_gradients_core(p, t, h, hm):
    out = _forward_core(p, t, h, hm)
    logits = out["logits"]
    b, n = t.shape
    logp = _log_softmax(logits[:, :-1])
    target = t[:, 1:]
    loss = float(-np.mean(np.take_along_axis(logp, target[..., None], axis=-1)))
    d_logits = np.zeros_like(logits)
    d_logits[:, :-1] = np.exp(logp)
    np.put_along_axis(d_logits[:, :-1], target[..., None],
                      np.take_along_axis(d_logits[:, :-1], target[..., None], axis=-1) - 1.0, axis=-1)
    d_logits /= b * (n - 1)
    x_last = out["resid"][-1]
    grads = {"W_U": _outer_sum(x_last, d_logits)}
    dx = d_logits @ p["W_U"].T
    n_layers = p["W_Q"].shape[0]
    for name in ("W_Q", "W_K", "W_V", "W_O"):
        grads[name] = np.zeros_like(p[name])
    for layer in reversed(range(n_layers)):
        c = out["layers"][layer]
        x_in = out["resid"][layer]
        grads["W_O"][layer] = _outer_sum(c["zm"], dx)
        dz = _split(dx @ p["W_O"][layer].T, h)
        if hm is not None:
            dz = dz * hm[layer][:, None, None]
        a = c["a"]
        d_a = dz @ np.swapaxes(c["v"], -1, -2)
        d_v = np.swapaxes(a, -1, -2) @ dz
        # softmax backward (see helpers.training.softmax_backward), then the 1/√d_head scale
        d_s = a * (d_a - np.sum(a * d_a, axis=-1, keepdims=True)) / math.sqrt(c["q"].shape[-1])
        d_q = _merge(d_s @ c["k"])
        d_k = _merge(np.swapaxes(d_s, -1, -2) @ c["q"])
        d_v = _merge(d_v)
        grads["W_Q"][layer] = _outer_sum(x_in, d_q)
        grads["W_K"][layer] = _outer_sum(x_in, d_k)
        grads["W_V"][layer] = _outer_sum(x_in, d_v)
        dx = dx + d_q @ p["W_Q"][layer].T + d_k @ p["W_K"][layer].T + d_v @ p["W_V"][layer].T
    grads["W_pos"] = np.zeros_like(p["W_pos"])
    grads["W_pos"][:n] = dx.sum(axis=0)
    grads["W_E"] = np.zeros_like(p["W_E"])
    np.add.at(grads["W_E"], t, dx)
    return loss, {k: grads[k] for k in PARAM_NAMES}


def numerical_gradients(params, tokens, names=None, n_heads: int | None = None, eps: float = 1e-5,
                        entries: int | None = None, seed: int = 0) -> dict:
    """Central finite differences ``(L(w+ε) - L(w-ε)) / 2ε``, entry by entry.

    Shares nothing with :func:`loss_and_gradients` except the forward pass.
    ``entries`` limits the check to that many randomly chosen entries per
    matrix (the others are NaN in the result); ``None`` checks all of them.
    ``names`` (a list such as ``["W_O"]``) limits the check to those matrices.
    Computed in float64 whatever the dtype of ``params`` (in float32, w ± ε and
    the loss difference would be mostly rounding error).
    """
    names, eps, entries, rng = _check_fd_inputs(names, eps, entries, seed)
    p, n_heads = _check_model(params, n_heads)
    # float64 copies: nudged below, never the caller's arrays
    base = {k: v.astype(np.float64) for k, v in p.items()}
    tokens = _check_tokens(tokens, base)
    grads = {}
    for name in names:
        w = base[name]
        g = np.full_like(w, np.nan)
        all_idx = list(np.ndindex(w.shape))
        if entries is not None and entries < len(all_idx):
            pick = rng.choice(len(all_idx), size=entries, replace=False)
            all_idx = [all_idx[i] for i in pick]
        for idx in all_idx:
            old = w[idx]
            w[idx] = old + eps
            plus = loss_only(base, tokens, n_heads)
            w[idx] = old - eps
            minus = loss_only(base, tokens, n_heads)
            w[idx] = old
            g[idx] = (plus - minus) / (2 * eps)
            if not math.isfinite(g[idx]):       # NaN would read as "not sampled" in max_relative_error
                raise ValueError(f"params give a non-finite loss next to {name}{list(idx)} (L(w+eps) = {plus}, "
                                 f"L(w-eps) = {minus}): no finite difference exists there; are the weights far too large?")
        grads[name] = g
    return grads


def _check_fd_inputs(names, eps, entries, seed):
    """``(names, eps, entries, rng)`` of :func:`numerical_gradients`, checked."""
    names = PARAM_NAMES if names is None else _v.check_names(names, PARAM_NAMES, "names")
    eps = _v.check_fd_step(eps, "eps")
    entries = None if entries is None else _check_positive_int(entries, "entries")
    return names, eps, entries, np.random.default_rng(_v.check_seed(seed))


def max_relative_error(analytic: dict, numeric: dict, floor: float = 1e-6) -> float:
    """Largest ``|a - b| / max(|a|, |b|, floor)`` over the entries ``numeric`` checked.

    Entries that are NaN in ``numeric`` were not checked (see ``entries`` of
    :func:`numerical_gradients`) and are skipped; every matrix in ``numeric``
    must have at least one checked entry (a check that compared nothing is
    refused, never reported as a pass).  Any NaN/inf in a compared matrix of
    ``analytic``, or any inf in ``numeric``, makes the result ``inf`` (a failing
    check), never 0; so does a difference too large for float64 (gradients near
    ±1e308).  ``floor`` (0 < floor <= 1) is the magnitude below which the error
    counts as absolute rather than relative.
    """
    pairs, floor = _check_gradient_pairs(analytic, numeric, floor)
    worst = 0.0
    for a, b in pairs:
        if not np.isfinite(a).all() or np.isinf(b).any():
            return math.inf
        checked = ~np.isnan(b)
        a, b = a[checked], b[checked]
        denom = np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)
        with np.errstate(over="ignore"):        # |a - b| beyond 1.8e308 is inf: a failing check
            worst = max(worst, float(np.max(np.abs(a - b) / denom)))
    return worst


def _check_gradient_pairs(analytic, numeric, floor):
    """``([(analytic[k], numeric[k]) as float arrays, …], floor)``; NaN/inf are kept (they have a meaning)."""
    floor = _v.check_positive_number(floor, "floor", max_value=1.0)
    for what, d in (("analytic", analytic), ("numeric", numeric)):
        if not isinstance(d, dict):
            raise TypeError(f"{what} must be a dict of gradient arrays, got {type(d).__name__}")
    if not numeric:
        raise ValueError("numeric is empty: it holds no gradient to compare (a check of nothing is not a "
                         "pass); give it the dict from numerical_gradients")
    missing = [k for k in numeric if k not in analytic]
    if missing:
        raise ValueError(f"analytic is missing {missing}, which numeric checked")
    names = tuple(numeric)
    ga = _v.check_param_dict(analytic, names, "analytic", finite=False)
    gb = _v.check_param_dict(numeric, names, "numeric", finite=False)
    pairs = []
    for k in names:
        a, b = ga[k], gb[k]
        if a.shape != b.shape:
            raise ValueError(f"{k}: gradient shapes differ, analytic {_shape(a)} vs numeric {_shape(b)}")
        if np.isnan(b).all():
            raise ValueError(f"numeric[{k!r}] has no checked entry (it is empty or all NaN, the 'not sampled' "
                             f"marker): nothing to compare; numerical_gradients samples at least one per matrix")
        pairs.append((a.astype(float), b.astype(float)))
    return pairs, floor


# ---------------------------------------------------------------------------
# Adam and the training loop
# ---------------------------------------------------------------------------

def adam_init(params) -> dict:
    """Adam state: step counter and zero first/second moments."""
    return {"t": 0, "m": {k: np.zeros_like(v) for k, v in params.items()},
            "v": {k: np.zeros_like(v) for k, v in params.items()}}


def adam_step(params, grads, state, lr: float = 3e-3, beta1: float = 0.9, beta2: float = 0.999,
              eps: float = 1e-8) -> tuple[dict, dict]:
    """One Adam update (Kingma & Ba 2015): returns ``(new_params, new_state)``.

    For every matrix W with gradient g, at step t = state["t"] + 1::

        m ← β1 m + (1 - β1) g              running mean of the gradient
        v ← β2 v + (1 - β2) g²             running mean of its square
        m̂ = m / (1 - β1ᵗ),  v̂ = v / (1 - β2ᵗ)   (both start at 0: undo that bias)
        W ← W - lr · m̂ / (√v̂ + ε)

    Nothing passed in is changed: write ``params, state = adam_step(params, grads, state)``.
    ``lr`` in (0, 1], ``beta1``, ``beta2`` in [0, 1), ``eps`` in (0, 1].  The new
    params keep the model's settings (``params.config``, e.g. its ``n_heads``).
    """
    new, state = _adam_core(*_check_adam_inputs(params, grads, state, lr, beta1, beta2, eps))
    config = getattr(params, "config", None)
    return (new if config is None else _Weights(new, config)), state


def _adam_core(p, g, s, lr, beta1, beta2, eps):
    """:func:`adam_step` on checked inputs (the training loop's hot path)."""
    t = s["t"] + 1
    new, m, v = {}, {}, {}
    for k in p:
        m[k] = beta1 * s["m"][k] + (1 - beta1) * g[k]
        v[k] = beta2 * s["v"][k] + (1 - beta2) * g[k] ** 2
        m_hat = m[k] / (1 - beta1 ** t)
        v_hat = v[k] / (1 - beta2 ** t)
        new[k] = p[k] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return new, {"t": t, "m": m, "v": v}


def _check_adam_inputs(params, grads, state, lr, beta1, beta2, eps):
    """``(params, grads, state, lr, beta1, beta2, eps)``: fresh float arrays with matching keys
    and shapes, the hyper-parameters as floats in their ranges."""
    hyper = (_v.check_positive_number(lr, "lr", max_value=1.0), _v.check_fraction(beta1, "beta1"),
             _v.check_fraction(beta2, "beta2"), _v.check_positive_number(eps, "eps", max_value=1.0))
    names = tuple(params) if isinstance(params, dict) else PARAM_NAMES
    p = _v.check_param_dict(params, names, "params")
    g = _v.check_param_dict(grads, names, "grads")
    if not isinstance(state, dict) or set(state) != {"t", "m", "v"}:
        raise TypeError(f"state must be the dict from adam_init (keys 't', 'm', 'v'); got {state!r:.60}")
    s = {"t": _v.check_int(state["t"], "state['t']", low=0),
         "m": _v.check_param_dict(state["m"], names, "state['m']"),
         "v": _v.check_param_dict(state["v"], names, "state['v']")}
    for k in names:
        for what, arr in (("grads", g[k]), ("state['m']", s["m"][k]), ("state['v']", s["v"][k])):
            if arr.shape != p[k].shape:
                raise ValueError(f"{what}[{k!r}] has shape {_shape(arr)} but params[{k!r}] has {_shape(p[k])}")
        if (s["v"][k] < 0).any():
            raise ValueError(f"state['v'][{k!r}] holds squared gradients and cannot be negative")
    return (p, g, s) + hyper


def train(steps: int = 20000, *, seed: int = 0, lr: float = 3e-3, batch_size: int = 32,
          decay_frac: float = 0.0, log_every: int = 100, params=None, log=None, **config):
    """Train from scratch (or from ``params``) with Adam on fresh random batches.

    The learning rate is ``lr`` throughout, except over the last ``decay_frac``
    of the steps, where it falls linearly towards 0 (this sharpens the heads).

    Deterministic: the same arguments give the same weights bit for bit on
    the same machine.  ``log`` (a callable) receives one line of text every
    ``log_every`` steps.

    ``params`` (optional) is the model to continue from; its settings stay (a plain dict needs
    ``n_heads=…``), ``config`` may only change the data and training settings.

    Returns
    -------
    params : dict (with ``config``: the settings, see :func:`load_weights`)
    history : dict with ``step`` and ``loss`` (mean training loss over the
        last ``log_every`` steps) arrays and ``seconds`` (wall time).
    """
    steps, seed, lr, batch_size, decay_frac, log_every, cfg, p = _check_train_inputs(
        steps, seed, lr, batch_size, decay_frac, log_every, config, params)
    if p is None:
        p = init_params(seed, **cfg)
    state = adam_init(p)
    rng = np.random.default_rng(seed + 1)
    data_cfg = {k: cfg[k] for k in ("n_ctx", "vocab_size", "min_len", "max_len")}
    hist_step, hist_loss, running = [], [], []
    start = time.perf_counter()
    for step in range(1, steps + 1):
        batch = make_batch(batch_size, rng, **data_cfg)
        loss, grads = _loss_and_gradients_core(p, batch["tokens"], cfg["n_heads"], None)
        if not cfg["learned_pos"]:
            grads["W_pos"] = np.zeros_like(grads["W_pos"])   # the sinusoidal encoding stays fixed
        if not math.isfinite(loss):
            raise ValueError(f"training diverged at step {step} (loss = {loss}); use a smaller lr than {lr}")
        decay_start = steps * (1.0 - decay_frac)
        step_lr = lr if step <= decay_start else lr * (steps - step + 1) / (steps - decay_start + 1)
        p, state = _adam_core(p, grads, state, step_lr, 0.9, 0.999, 1e-8)   # adam_step's defaults
        running.append(loss)
        if step % log_every == 0 or step == steps:
            hist_step.append(step)
            hist_loss.append(float(np.mean(running)))
            running = []
            if log is not None:
                log(f"step {step:5d}  loss {hist_loss[-1]:.4f}  ({time.perf_counter() - start:.1f} s)")
    return _Weights(p, cfg), {"step": np.array(hist_step), "loss": np.array(hist_loss),
                              "seconds": time.perf_counter() - start}


def _check_train_inputs(steps, seed, lr, batch_size, decay_frac, log_every, config, params):
    """The scalar settings of :func:`train`, checked (``seed + 1`` seeds the batches), the model's
    settings and the starting weights (float copies; ``None`` = start from :func:`init_params`).
    From scratch the settings are CONFIG with the overrides in ``config``; from ``params`` they are
    the model's own (:func:`_settings`): ``config`` may change the data and training settings, but a
    size the weights already have (or a head count they were built with) must agree with them."""
    scalars = (_check_positive_int(steps, "steps"), _v.check_int(seed, "seed", low=0, high=_v.MAX_SEED - 1),
               _v.check_positive_number(lr, "lr", max_value=1.0), _check_positive_int(batch_size, "batch_size"),
               _v.check_fraction(decay_frac, "decay_frac", include_one=True),
               _check_positive_int(log_every, "log_every"))
    if params is None:
        return scalars + (_check_config(config), None)
    _check_config_keys(config)                  # a misspelt n_heads is named as such
    p, h = _check_model(params, config.get("n_heads"))
    base = _settings(params, p, h)
    for k in ("vocab_size", "n_ctx", "d_model", "n_layers"):
        if k in config:
            _v.check_saved_setting(config[k], base[k], k, "the model in params")
    return scalars + (_check_config(config, base), {k: v.astype(float) for k, v in p.items()})


# ---------------------------------------------------------------------------
# measurements
# ---------------------------------------------------------------------------

def _batch_arrays(batch):
    """``(tokens, src, dst, length)`` of a batch from :func:`make_batch`, checked: (B, n) and (B,)
    integer arrays where every copy lies after its first occurrence and inside the sequence."""
    keys = ("tokens", "src", "dst", "length")
    if not isinstance(batch, dict) or any(k not in batch for k in keys):
        raise TypeError(f"batch must be a dict from make_batch with keys {keys}; got {type(batch).__name__}")
    tokens, src, dst, length = (np.array(batch[k]) for k in keys)
    if tokens.dtype.kind not in "iu" or tokens.ndim != 2 or tokens.shape[1] < 2:
        raise ValueError(f"batch['tokens'] must be (B, n) integer ids with n >= 2; got {tokens.dtype} {_shape(tokens)}")
    for k, a in (("src", src), ("dst", dst), ("length", length)):
        if a.dtype.kind not in "iu" or a.shape != tokens.shape[:1]:
            raise ValueError(f"batch[{k!r}] must be {tokens.shape[0]} integers, one per sequence; got {a.dtype} {_shape(a)}")
    bad = (src < 0) | (length < 2) | (src + length > dst) | (dst + length > tokens.shape[1])
    if bad.any():
        b = int(np.argmax(bad))
        raise ValueError(f"batch sequence {b}: need 0 <= src, length >= 2, src + length <= dst and dst + length <= "
                         f"n={tokens.shape[1]}; got src={src[b]}, dst={dst[b]}, length={length[b]}")
    return tokens, src, dst, length


def half_masks(batch) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (B, n-1) over prediction positions: (repeated half, random half).

    Position t predicts token t+1.  Repeated half: dst ≤ t ≤ dst+length-2 (the
    target lies inside the copy and is predictable).  Random half: src ≤ t ≤
    src+length-2 (the same targets at their first occurrence).
    """
    tokens, src, dst, length = _batch_arrays(batch)
    t = np.arange(tokens.shape[1] - 1)[None, :]
    rep = (t >= dst[:, None]) & (t <= (dst + length - 2)[:, None])
    rand = (t >= src[:, None]) & (t <= (src + length - 2)[:, None])
    return rep, rand


def half_losses(params, batch, head_mask=None, n_heads: int | None = None) -> tuple[float, float]:
    """Mean loss on the (repeated half, random half) of ``batch`` (see :func:`half_masks`)."""
    rep, rand = half_masks(batch)
    loss = per_position_loss(params, batch["tokens"], n_heads, head_mask)
    return float(loss[rep].mean()), float(loss[rand].mean())


def previous_token_scores(weights) -> np.ndarray:
    """Previous-token score of every head: mean of α[..., i, i-1] over i = 1 … n-1.

    ``weights`` has shape (B, n_layers, n_heads, n, n) or (n_layers, n_heads, n, n);
    returns (n_layers, n_heads) averaged over the batch.
    """
    w = _v.check_weight_rows(weights, "weights")
    if w.ndim == 4:
        w = w[None]
    if w.ndim != 5 or w.shape[-1] != w.shape[-2] or w.shape[-1] < 2:
        raise ValueError(f"weights must be (B, n_layers, n_heads, n, n) with n >= 2; got {_shape(weights)}")
    n = w.shape[-1]
    i = np.arange(1, n)
    return w[..., i, i - 1].mean(axis=(0, -1))


def induction_scores(weights, batch) -> np.ndarray:
    """Induction score of every head, shape (n_layers, n_heads).

    Mean over sequences and query positions i in the copy (dst ≤ i < dst+length)
    of α[i, i - (dst - src) + 1] — the weight on the token right after the
    previous occurrence of the current token.
    """
    return _copy_query_scores(weights, batch, 1)


def _copy_query_scores(weights, batch, shift):
    """Mean of α[i, i - (dst - src) + shift] over all copy queries of all sequences, per head."""
    w = _v.check_weight_rows(weights, "weights")
    tokens, src, dst, length = _batch_arrays(batch)
    b, n = tokens.shape
    if w.ndim != 5 or w.shape[0] != b or w.shape[-2:] != (n, n):
        raise ValueError(f"weights must be (B, n_layers, n_heads, n, n) for the batch's B={b}, n={n}; got {_shape(w)}")
    total = np.zeros(w.shape[1:3])
    count = 0
    for b in range(tokens.shape[0]):
        q = np.arange(dst[b], dst[b] + length[b])
        total += w[b][..., q, q - (dst[b] - src[b]) + shift].sum(axis=-1)
        count += len(q)
    return total / count


def same_token_scores(weights, batch) -> np.ndarray:
    """Same-token score of every head, shape (n_layers, n_heads).

    Like :func:`induction_scores` but one key earlier: the mean of
    α[i, i - (dst - src)] over the copy queries — the weight on the earlier
    occurrence of the current token itself (the matching position in the segment).
    """
    return _copy_query_scores(weights, batch, 0)


def chance_scores(batch) -> dict:
    """The two scores of a head that attends uniformly to every allowed key.

    Under the causal mask query i sees i + 1 keys, so uniform attention puts
    1/(i+1) on any one of them.  Returns ``{"previous_token": mean over
    i = 1 … n-1 of 1/(i+1), "induction": mean over the copy queries of
    1/(i+1)}`` (the same-token chance level equals the induction one).
    """
    tokens, src, dst, length = _batch_arrays(batch)
    n = tokens.shape[1]
    prev = float(np.mean(1.0 / (np.arange(1, n) + 1.0)))
    q = np.concatenate([np.arange(d, d + L) for d, L in zip(dst, length)])
    return {"previous_token": prev, "induction": float(np.mean(1.0 / (q + 1.0)))}


def path_ablation(params, batch, head: int, path: str, n_heads: int | None = None) -> dict:
    """Remove one layer-1 head from only some inputs of layer 2 (path patching).

    Layer 2 normally computes its queries, keys and values all from the same
    residual stream X¹ = X⁰ + Σ_h Z_h W_O[h].  Here the letters in ``path``
    (any of ``"Q"``, ``"K"``, ``"V"``) name the inputs that are computed from
    X¹ *without* layer-1 head ``head``; the other inputs, and the residual
    stream that carries on to the output, keep it.  ``path="QKV"`` removes the
    head from all three inputs (its direct route to the logits stays).

    Returns
    -------
    dict with ``loss_rep``, ``loss_rand`` (see :func:`half_losses`) and
    ``induction`` — the induction scores of layer 2's heads, shape (n_heads,).
    """
    p, t, h, head, path, (rep, rand) = _check_path_inputs(params, batch, head, path, n_heads)
    out = _forward_core(p, t, h, None)
    x1 = out["resid"][1]
    d = x1.shape[-1]
    cols = head_columns(head, d, h)
    zm = out["layers"][0]["zm"]
    x1_without = x1 - zm[..., cols] @ p["W_O"][0][cols]
    src = {name: (x1_without if name in path else x1) for name in "QKV"}
    qh = _split(src["Q"] @ p["W_Q"][1], h)
    kh = _split(src["K"] @ p["W_K"][1], h)
    vh = _split(src["V"] @ p["W_V"][1], h)
    n = t.shape[1]
    a = _causal_softmax(qh @ kh.transpose(0, 1, 3, 2) / math.sqrt(d // h), ~causal_mask(n))
    x2 = x1 + _merge(a @ vh) @ p["W_O"][1]
    loss = -np.take_along_axis(_log_softmax(x2 @ p["W_U"])[:, :-1], t[:, 1:, None], axis=-1)[..., 0]
    weights = np.stack([out["weights"][:, 0], a], axis=1)
    return {"loss_rep": float(loss[rep].mean()), "loss_rand": float(loss[rand].mean()),
            "induction": induction_scores(weights, batch)[1]}


def _check_path_inputs(params, batch, head, path, n_heads):
    """``(params, tokens, n_heads, head, set of path letters, half masks)`` of :func:`path_ablation`."""
    masks = half_masks(batch)
    p, t, h, _ = _prepare(params, batch["tokens"], n_heads, None)
    _check_two_layers(p, "path_ablation")
    head = _v.check_int(head, "head", low=0, high=h - 1)
    if not isinstance(path, str) or not path or set(path.upper()) - set("QKV"):
        raise ValueError(f"path must be a non-empty string of the letters Q, K, V; got {path!r:.40}")
    return p, t, h, head, set(path.upper()), masks


def ablation_table(params, batch, n_heads: int | None = None) -> dict:
    """Repeated-half and random-half loss with each single head zeroed.

    Returns dict with ``baseline`` (rep, rand) and ``rep``/``rand`` arrays of
    shape (n_layers, n_heads): the losses with that one head ablated.
    """
    p, h = _check_model(params, n_heads)
    n_layers = p["W_Q"].shape[0]
    rep = np.zeros((n_layers, h))
    rand = np.zeros((n_layers, h))
    for layer in range(n_layers):
        for head in range(h):
            m = np.ones((n_layers, h))
            m[layer, head] = 0.0
            rep[layer, head], rand[layer, head] = half_losses(p, batch, m, h)
    return {"baseline": half_losses(p, batch, None, h), "rep": rep, "rand": rand}


def evaluate(params, n_seq: int = 512, seed: int = EVAL_SEED, n_heads: int | None = None) -> dict:
    """Every number of the targets on a fixed evaluation set.

    Returns dict with ``prev_token`` and ``induction`` (n_layers, n_heads),
    ``best_prev_layer1``, ``best_induction_layer2``, ``loss_rep``,
    ``loss_rand``, ``ratio`` (= loss_rep / loss_rand), ``best_prev_head``
    (layer-1 head index), ``ablate_prev_rep`` (repeated-half loss with that
    head ablated), ``ablation_ratio`` (= ablate_prev_rep / loss_rand) and
    ``ablation`` (the full :func:`ablation_table`).
    """
    p, h = _check_model(params, n_heads)
    n_seq = _check_positive_int(n_seq, "n_seq")
    _v.check_elements((n_seq,) + p["W_Q"].shape[:1] + (h, CONFIG["n_ctx"], CONFIG["n_ctx"]), "n_seq")
    batch = make_batch(n_seq, _v.check_seed(seed))
    out = forward(params, batch["tokens"], n_heads)
    prev = previous_token_scores(out["weights"])
    ind = induction_scores(out["weights"], batch)
    table = ablation_table(params, batch, n_heads)
    rep, rand = table["baseline"]
    best_prev = int(np.argmax(prev[0]))
    return {
        "prev_token": prev,
        "induction": ind,
        "best_prev_layer1": float(prev[0].max()),
        "best_induction_layer2": float(ind[1].max()),
        "loss_rep": rep,
        "loss_rand": rand,
        "ratio": rep / rand,
        "best_prev_head": best_prev,
        "ablate_prev_rep": float(table["rep"][0, best_prev]),
        "ablation_ratio": float(table["rep"][0, best_prev]) / rand,
        "ablation": table,
    }


def predict_next(params, text: str, top: int = 3, n_heads: int | None = None):
    """The model's most likely next characters after ``text``.

    Returns a list of ``(character, probability)`` pairs, most likely first
    (``top`` of them, 1 … 40).
    """
    top = _check_positive_int(top, "top", max_value=len(VOCAB))
    ids = encode(text)
    logits = forward(params, ids, n_heads)["logits"][0, -1]
    prob = np.exp(_log_softmax(logits))
    order = np.argsort(-prob, kind="stable")[:top]
    return [(VOCAB[i], float(prob[i])) for i in order]


def where_heads_look(params, text: str, query: int = -1, n_heads: int | None = None) -> list[dict]:
    """For one query position of ``text``: the key each head weighs most.

    Returns one dict per head, layer by layer: ``layer``, ``head``, ``key``
    (position), ``char`` (the character there) and ``weight`` (α of that key).
    """
    ids = encode(text)
    q = _v.check_index(query, len(ids), "query", "positions of text (negative counts from the end)")
    w = attention_weights(params, ids, n_heads)
    rows = []
    for layer in range(w.shape[0]):
        for head in range(w.shape[1]):
            k = int(np.argmax(w[layer, head, q]))
            rows.append({"layer": layer, "head": head, "key": k, "char": text[k],
                         "weight": float(w[layer, head, q, k])})
    return rows


def head_columns(head: int, d_model: int, n_heads: int) -> slice:
    """Columns of W_Q / W_K / W_V (and rows of W_O) that belong to ``head`` (0 … n_heads-1)."""
    d_head = _v.check_d_head(d_model, n_heads)
    head = _v.check_int(head, "head", low=0, high=n_heads - 1)
    return slice(head * d_head, (head + 1) * d_head)


def composition_scores(params, prev_head: int, induction_head: int, n_heads: int | None = None):
    """K-composition, as (vocab × vocab) tables of the layer-2 head's score contributions.

    Rows = the character at the query position (its embedding ``e_a``), columns
    = a character b.  With ``W_QK = W_Q^{2,h} (W_K^{2,h})ᵀ / √d_head``:

    * ``direct[a, b] = e_a W_QK e_bᵀ`` — b is the key position's own character;
    * ``composed[a, b] = e_a W_QK (e_b W_V^{1,p} W_O^{1,p})ᵀ`` — b is the
      character the layer-1 head p copied into the key position (for a
      previous-token head: the character *before* the key).

    Position terms and the other heads are left out: this is the part of the
    score that depends on which characters are involved.
    """
    p, h = _check_model(params, n_heads)
    _check_two_layers(p, "composition_scores")
    d = p["W_Q"].shape[1]
    c1 = head_columns(_v.check_int(prev_head, "prev_head", low=0, high=h - 1), d, h)
    c2 = head_columns(_v.check_int(induction_head, "induction_head", low=0, high=h - 1), d, h)
    e = p["W_E"]
    q = e @ p["W_Q"][1][:, c2]
    k_direct = e @ p["W_K"][1][:, c2]
    written = e @ p["W_V"][0][:, c1] @ p["W_O"][0][c1, :]      # what head p writes for each character
    k_composed = written @ p["W_K"][1][:, c2]
    scale = 1.0 / math.sqrt(d // h)
    return q @ k_direct.T * scale, q @ k_composed.T * scale


# ---------------------------------------------------------------------------
# weights on disk
# ---------------------------------------------------------------------------

def save_weights(params, path, n_heads: int | None = None, *, overwrite_shipped: bool = False, **meta) -> None:
    """Write the parameters (float32), the model's settings and ``meta`` notes to a compressed .npz.

    The settings (``vocab_size``, ``n_ctx``, ``d_model``, ``n_heads``, ``n_layers``, … as in
    :data:`CONFIG`) are saved with the weights as ``meta_<name>``; :func:`load_weights` gives
    them back, so the head count travels with the model.  ``path`` is required (``.npz`` is
    appended if missing); the course's own :data:`WEIGHTS_PATH` is refused unless
    ``overwrite_shipped=True`` (only ``tools/train_induction.py`` sets it).  ``meta``: extra
    numbers, bools or strings (steps, seed, …); one that names a setting must agree with the model.
    """
    p, h = _check_model(params, n_heads)
    target = _v.check_path(path, "path")
    if target.suffix != ".npz":
        target = target.with_name(target.name + ".npz")       # the file np.savez would write
    _v.check_not_protected(target, WEIGHTS_PATH, "path", "overwrite_shipped", overwrite_shipped)
    config = _settings(params, p, h)
    for k, v in meta.items():
        if isinstance(v, str):
            _v.check_text(v, k, allow_empty=True)
        elif not isinstance(v, (bool, np.bool_)):
            _v.check_number(v, k)
        if k in config:
            _v.check_saved_setting(v, config[k], k, "the model in params")
    arrays = {k: p[k].astype(np.float32) for k in PARAM_NAMES}
    arrays["vocab"] = np.array(VOCAB)
    for k, v in {**config, **meta}.items():
        arrays[f"meta_{k}"] = np.array(v)
    np.savez_compressed(target, **arrays)


def load_weights(path=WEIGHTS_PATH) -> dict:
    """Read weights written by :func:`save_weights` (default: the trained model the course ships).

    Returns a dict name → float64 array (as :func:`init_params`) whose ``config``
    attribute holds the settings saved with them (read-only); every function then
    uses the model's own ``n_heads`` and refuses a different one.
    """
    path = _v.check_readable_file(_v.check_path(path, "path"), "path")
    keys = ("vocab",) + PARAM_NAMES + tuple(f"meta_{k}" for k in CONFIG)
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):          # not an .npz archive (or a damaged one)
        raise ValueError(f"path={str(path)!r} is not a weights file written by save_weights "
                         f"(it is not a NumPy .npz archive)") from None
    if not hasattr(data, "files"):                   # a plain .npy array, not an archive
        raise ValueError(f"path={str(path)!r} holds one array, not the weights written by save_weights")
    with data:
        missing = [k for k in keys if k not in data.files]
        if missing:
            raise ValueError(f"path={str(path)!r} lacks {missing}: it was not written by save_weights")
        if str(data["vocab"]) != VOCAB:
            raise ValueError(f"{path} was trained on another vocabulary")
        arrays = {k: data[k].astype(np.float64) for k in PARAM_NAMES}
        saved = {k: data[f"meta_{k}"].item() for k in CONFIG}
    config = _check_config(saved)
    p, _ = _check_model(arrays, config["n_heads"])
    shapes = {"vocab_size": p["W_E"].shape[0], "n_ctx": p["W_pos"].shape[0], "d_model": p["W_Q"].shape[1],
              "n_layers": p["W_Q"].shape[0]}
    for k, v in shapes.items():
        if config[k] != v:
            raise ValueError(f"path={str(path)!r} is inconsistent: it says {k}={config[k]} but its weights have {v}")
    return _Weights(arrays, config)
