"""Learning attention weights by hand: one attention layer trained with NumPy only.

Chapter 08 trains ``W_Q``, ``W_K`` and ``W_V`` of a single (scaled dot-product)
self-attention layer by plain gradient descent.  Everything the chapter needs
is here and nothing else:

* :func:`pronoun_dataset` — a tiny synthetic task in the spirit of the source
  chapter's 小猫 … 它 饿坏了 sentence: the pronoun 它 has to copy *which* animal
  the sentence is about (a one-hot label) from the animal word, while ignoring
  the other noun (蝴蝶, 苹果, …) and the filler words.
* :func:`forward` — the forward pass, returning every intermediate (Q, K, V,
  scaled scores, α, Z) so the notebook can show them.
* :func:`softmax_backward` and :func:`loss_and_gradients` — the hand-derived
  backward pass (chain rule through α V, softmax, Q Kᵀ/√d_k and the three
  projections).
* :func:`numerical_gradients` — central finite differences, one entry at a
  time (slow loops on purpose: it is the independent reference).
* :func:`train` — deterministic full-batch gradient descent.

Shapes (rows = tokens): ``X`` is ``(B, n, d_model)`` (a single ``(n, d_model)``
sequence is accepted too), ``W_Q`` and ``W_K`` are ``(d_model, d_k)``, ``W_V``
is ``(d_model, d_v)``, α is ``(B, n, n)`` and ``Z`` is ``(B, n, d_v)``.
The loss only looks at the pronoun's row of ``Z``:

    L = mean over sequences b and components c of (Z[b, p_b, c] - y[b, c])²
"""

from __future__ import annotations

import numpy as np

from .attention import _as_mask, _as_real_array, _check_positive_int, _shape, softmax
from . import validation as _v
from .tokens import init_qkv_weights, token_inputs

__all__ = [
    "PARAM_NAMES",
    "SUBJECTS",
    "OBJECTS",
    "FILLERS",
    "SEQ_LEN",
    "PRONOUN",
    "pronoun_dataset",
    "init_params",
    "forward",
    "softmax_backward",
    "loss_and_gradients",
    "loss_only",
    "numerical_gradients",
    "max_relative_error",
    "train",
]

#: Order of the trainable matrices everywhere in this module.
PARAM_NAMES = ("W_Q", "W_K", "W_V")

#: Words the pronoun may refer to (things that can be hungry); the label is the index here.
SUBJECTS = ("小猫", "小狗", "猫", "狗")
#: Distracting nouns: they appear in every sentence but never are the referent.
OBJECTS = ("蝴蝶", "苹果", "香蕉", "书", "公园", "晚餐")
#: The pronoun.
PRONOUN = "它"
#: Filler words: drawn at random for the other slots, so that only attention can pick the noun.
FILLERS = (
    "追逐", "现在", "昨天", "在", "里", "一只", "玩得", "结果", "把", "都", "忘了", "饿坏了",
    "今天", "很", "非常", "可爱", "跑", "睡觉", "想", "去", "明天", "看", "吃", "因为", "所以", "但是",
)
#: Length of every training sentence.
SEQ_LEN = 6


# ---------------------------------------------------------------------------
# data and parameters
# ---------------------------------------------------------------------------

def pronoun_dataset(n_sentences: int = 96, d_model: int = 16, seed: int = 0,
                    with_position: bool = True, no_animal_share: float = 0.2,
                    embed_seed: int = 0) -> dict:
    """A batch of random six-word sentences "… animal … other-noun … 它 …".

    Every sentence holds one word of :data:`SUBJECTS` (the referent), one of
    :data:`OBJECTS` (a distractor), the pronoun 它 after both of them, and random
    :data:`FILLERS` elsewhere.  The target for the pronoun's output row is the
    one-hot index of the referent.  A share of the sentences has no animal at
    all (the subject slot holds a filler); their target is the zero vector.
    Without them the layer can cheat: it could give every filler the value of
    one fixed animal and look at "anything but an animal" for that class.  The first sentence is always the course's
    ``SENTENCE_CAT_SHORT`` (小猫 追逐 蝴蝶 现在 它 饿坏了).

    Because fillers and positions vary, no fixed "average of the whole sentence"
    can produce the right answer: the pronoun has to *attend* to the animal.

    Parameters
    ----------
    n_sentences : int, default 96
    d_model : int, default 16
        Width of the token vectors.
    seed : int, default 0
        Seed of the sentence sampler (use another seed for a held-out test set).
    with_position : bool, default True
        Add the sinusoidal positional encoding (as the course's ``X`` always does).
    no_animal_share : float in [0, 1), default 0.2
        Probability that a sampled sentence has no animal.
    embed_seed : int, default 0
        Seed of the toy embeddings (:func:`helpers.token_inputs`); keep it fixed
        so that a word has the same vector in training and test sentences.

    Returns
    -------
    dict with keys
        ``"tokens"`` (list of B token lists), ``"X"`` (B, n, d_model),
        ``"Y"`` (B, len(SUBJECTS)) one-hot targets (all zero without an animal),
        ``"pronoun_pos"`` (B,) int, ``"noun_pos"`` (B,) int — where the referent
        sits (−1 when there is none), ``"labels"`` — SUBJECTS.
    """
    n_sentences = _check_positive_int(n_sentences, "n_sentences")
    d_model = _check_positive_int(d_model, "d_model")
    no_animal_share = _v.check_number(no_animal_share, "no_animal_share")
    if not 0 <= no_animal_share < 1:
        raise ValueError(f"no_animal_share must be in [0, 1), got {no_animal_share!r}")
    seed = _v.check_seed(seed)
    embed_seed = _v.check_seed32(embed_seed, "embed_seed")
    rng = np.random.default_rng(seed)
    tokens = [["小猫", "追逐", "蝴蝶", "现在", PRONOUN, "饿坏了"]]
    noun_pos, labels = [0], [SUBJECTS.index("小猫")]
    while len(tokens) < n_sentences:
        p = int(rng.integers(2, SEQ_LEN))              # pronoun position: 2 … 5
        s_pos, o_pos = (int(i) for i in rng.choice(p, size=2, replace=False))
        sent = [str(w) for w in rng.choice(FILLERS, size=SEQ_LEN)]
        sent[o_pos] = OBJECTS[int(rng.integers(len(OBJECTS)))]
        sent[p] = PRONOUN
        if rng.random() < no_animal_share:          # nothing to refer to: target stays zero
            noun_pos.append(-1)
            labels.append(-1)
        else:
            s_idx = int(rng.integers(len(SUBJECTS)))
            sent[s_pos] = SUBJECTS[s_idx]
            noun_pos.append(s_pos)
            labels.append(s_idx)
        tokens.append(sent)
    x = np.stack([token_inputs(t, d_model, seed=embed_seed, with_position=with_position) for t in tokens])
    y = np.zeros((len(tokens), len(SUBJECTS)))
    has_animal = np.array(labels) >= 0
    y[has_animal, np.array(labels)[has_animal]] = 1.0
    pronoun_pos = np.array([t.index(PRONOUN) for t in tokens])
    return {
        "tokens": tokens,
        "X": x,
        "Y": y,
        "pronoun_pos": pronoun_pos,
        "noun_pos": np.array(noun_pos),
        "labels": SUBJECTS,
    }


def init_params(d_model: int = 16, d_k: int = 8, d_v: int = len(SUBJECTS), seed: int = 0,
                scale: float = 0.5) -> dict:
    """Small random starting weights ``{"W_Q", "W_K", "W_V"}`` (deterministic).

    ``scale`` shrinks :func:`helpers.init_qkv_weights`' matrices so that the
    untrained attention is close to uniform.
    """
    scale = _v.check_positive_number(scale, "scale", max_value=1e6)
    w_q, w_k, w_v = init_qkv_weights(d_model, d_k, d_v, seed=seed)
    return {"W_Q": scale * w_q, "W_K": scale * w_k, "W_V": scale * w_v}


def _check_params(params) -> dict:
    out = _v.check_param_dict(params, PARAM_NAMES)
    for k, w in out.items():
        if w.ndim != 2 or w.size == 0:
            raise ValueError(f"{k} must be a non-empty 2-D matrix; got shape {_shape(w)}")
    if out["W_Q"].shape != out["W_K"].shape:
        raise ValueError(
            f"W_Q and W_K must have the same shape (d_model, d_k): W_Q {_shape(out['W_Q'])}, "
            f"W_K {_shape(out['W_K'])}"
        )
    if out["W_V"].shape[0] != out["W_Q"].shape[0]:
        raise ValueError(
            f"W_V must have d_model={out['W_Q'].shape[0]} rows like W_Q; got shape {_shape(out['W_V'])}"
        )
    return out


def _check_x(x, d_model: int) -> np.ndarray:
    xa = _as_real_array(x, "X")
    if xa.ndim == 2:
        xa = xa[None]
    if xa.ndim != 3 or xa.size == 0:
        raise ValueError(f"X must have shape (B, n, d_model) or (n, d_model); got {_shape(x)}")
    if xa.shape[-1] != d_model:
        raise ValueError(
            f"X has d_model={xa.shape[-1]} columns (shape {_shape(xa)}) but W_Q expects {d_model} rows"
        )
    return xa


def _check_targets(y, pronoun_pos, x_shape: tuple, d_v: int):
    batch, n = x_shape[:2]
    ya = _as_real_array(y, "Y")
    if ya.ndim == 1:
        ya = ya[None]
    if ya.shape != (batch, d_v):
        raise ValueError(f"Y must have shape (B, d_v) = ({batch}, {d_v}): one target row per sequence of X "
                         f"(X taken as shape {x_shape}) and d_v = W_V's columns; got {_shape(y)}")
    pos = np.asarray(pronoun_pos)
    if pos.ndim == 0:
        pos = np.full(batch, pos)
    if pos.dtype.kind not in "iu" or pos.shape != (batch,):
        raise ValueError(
            f"pronoun_pos must be an int or {batch} ints (one per sequence); got {pronoun_pos!r}"
        )
    if (pos < 0).any() or (pos >= n).any():
        raise ValueError(f"pronoun_pos must lie in [0, {n}); got {pos.tolist()}")
    return ya, pos


# ---------------------------------------------------------------------------
# forward and backward
# ---------------------------------------------------------------------------

def forward(params, x, mask=None) -> dict:
    """Forward pass of one self-attention layer, keeping every intermediate.

    Parameters
    ----------
    params : dict with ``W_Q``, ``W_K`` (d_model, d_k) and ``W_V`` (d_model, d_v)
    x : array_like, shape (B, n, d_model) or (n, d_model)
    mask : array_like of bool, optional
        Broadcastable to ``(B, n, n)``; ``True`` = may attend.  Blocked
        positions get the score −∞ before the softmax (weight exactly 0).

    Returns
    -------
    dict with ``X``, ``Q``, ``K``, ``V`` (B, n, ·), ``S`` (scaled scores, B×n×n),
    ``A`` (α, B×n×n) and ``Z`` (B, n, d_v).  A 2-D ``x`` is treated as B = 1.
    """
    p = _check_params(params)
    xa = _check_x(x, p["W_Q"].shape[0])
    d_k = p["W_Q"].shape[1]
    q, k, v = xa @ p["W_Q"], xa @ p["W_K"], xa @ p["W_V"]
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)
    if mask is not None:
        m = _as_mask(mask, s.shape)
        if not m.any(axis=-1).all():
            raise ValueError("mask blocks every key for some query row; training needs at least one key per row")
        s = np.where(m, s, -np.inf)
    a = softmax(s, axis=-1)
    return {"X": xa, "Q": q, "K": k, "V": v, "S": s, "A": a, "Z": a @ v}


def softmax_backward(weights, grad_weights) -> np.ndarray:
    """Backward pass of a row-wise softmax: from ∂L/∂α to ∂L/∂scores.

    With ``α = softmax(s)`` along the last axis the Jacobian of one row is
    ``diag(α) - α αᵀ``, so

        ∂L/∂s_j = α_j (g_j - Σ_m α_m g_m),   g = ∂L/∂α.

    Parameters
    ----------
    weights : array_like, shape (..., n_k)
        The softmax output α (each row sums to 1).
    grad_weights : array_like, same shape
        ∂L/∂α.

    Returns
    -------
    numpy.ndarray, same shape: ∂L/∂scores.
    """
    a = _as_real_array(weights, "weights")
    g = _as_real_array(grad_weights, "grad_weights")
    if a.shape != g.shape:
        raise ValueError(
            f"weights and grad_weights must have the same shape; got {_shape(a)} and {_shape(g)}"
        )
    if a.ndim == 0 or a.size == 0:
        raise ValueError(f"weights must be a non-empty array (..., n_k); got shape {_shape(a)}")
    return a * (g - np.sum(a * g, axis=-1, keepdims=True))


def _forward_and_loss(params, x, y, pronoun_pos, mask):
    """Forward pass and loss; returns (cache, pronoun rows, loss, Z_p - y)."""
    cache = forward(params, x, mask)
    ya, pos = _check_targets(y, pronoun_pos, cache["X"].shape, cache["Z"].shape[-1])
    diff = cache["Z"][np.arange(len(pos)), pos] - ya
    return cache, pos, float(np.mean(diff ** 2)), diff


def loss_only(params, x, y, pronoun_pos, mask=None) -> float:
    """The mean squared error of the pronoun rows of Z (no gradients)."""
    return _forward_and_loss(params, x, y, pronoun_pos, mask)[2]


def loss_and_gradients(params, x, y, pronoun_pos, mask=None):
    """Loss and its hand-derived gradients with respect to ``W_Q``, ``W_K``, ``W_V``.

    Backward pass, one line per forward step (B sequences at once)::

        dZ  (only the pronoun rows are non-zero) = 2 (Z_p - y) / (B d_v)
        dα  = dZ Vᵀ                 dV = αᵀ dZ
        dS  = softmax_backward(α, dα)
        dQ  = dS K / √d_k           dK = dSᵀ Q / √d_k
        dW_Q = Σ_b Xᵀ dQ,  dW_K = Σ_b Xᵀ dK,  dW_V = Σ_b Xᵀ dV

    Parameters
    ----------
    params : dict of the three matrices
    x : array_like, shape (B, n, d_model)
    y : array_like, shape (B, d_v)
        Target for the pronoun's output row.
    pronoun_pos : int or array of B ints
        Row of the pronoun in each sequence.
    mask : array_like of bool, optional
        Passed to :func:`forward`; masked weights are 0, so they get no gradient.

    Returns
    -------
    loss : float
    grads : dict with the same keys and shapes as ``params``
    """
    cache, pos, loss, diff = _forward_and_loss(params, x, y, pronoun_pos, mask)

    d_z = np.zeros_like(cache["Z"])
    d_z[np.arange(len(pos)), pos] = 2.0 * diff / diff.size
    a, q, k, v, xa = cache["A"], cache["Q"], cache["K"], cache["V"], cache["X"]
    d_a = d_z @ np.swapaxes(v, -1, -2)
    d_v_mat = np.swapaxes(a, -1, -2) @ d_z
    d_s = softmax_backward(a, d_a)
    root = np.sqrt(q.shape[-1])
    d_q = d_s @ k / root
    d_k = np.swapaxes(d_s, -1, -2) @ q / root
    xt = np.swapaxes(xa, -1, -2)
    grads = {
        "W_Q": np.sum(xt @ d_q, axis=0),
        "W_K": np.sum(xt @ d_k, axis=0),
        "W_V": np.sum(xt @ d_v_mat, axis=0),
    }
    return loss, grads


#: Smallest step of :func:`numerical_gradients` (float64 keeps ~16 digits: w ± 1e-10 still differs from w).
MIN_FD_EPS = _v.MIN_FD_EPS


def numerical_gradients(params, x, y, pronoun_pos, mask=None, eps: float = 1e-5) -> dict:
    """Central finite differences ``(L(w + ε) - L(w - ε)) / 2ε``, one entry at a time.

    Deliberately simple (a Python loop over every weight): it shares no code
    with :func:`loss_and_gradients` except the forward pass, so agreement is
    real evidence that the hand-derived gradients are right.

    Always computed in float64, whatever the dtype of ``params`` and ``x``: in
    float32 (7 digits) ``w ± ε`` and the two losses are rounded so coarsely that
    their difference is mostly noise, and a correct backward pass would look
    wrong.  The result is float64.
    """
    eps = _v.check_fd_step(eps)
    base = {k: v.astype(np.float64) for k, v in _check_params(params).items()}  # copies, float64
    x = _as_real_array(x, "X").astype(np.float64, copy=False)
    grads = {}
    for name in PARAM_NAMES:
        w = base[name]
        g = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            old = w[idx]
            w[idx] = old + eps
            plus = loss_only(base, x, y, pronoun_pos, mask)
            w[idx] = old - eps
            minus = loss_only(base, x, y, pronoun_pos, mask)
            w[idx] = old
            g[idx] = (plus - minus) / (2 * eps)
        grads[name] = g
    return grads


def max_relative_error(grads_a: dict, grads_b: dict, floor: float = 1e-8) -> float:
    """Largest ``|a - b| / max(|a|, |b|, floor)`` over every entry of every matrix.

    A NaN or ±inf entry in either gradient gives ``inf`` (so ``err < tol`` is False):
    a broken gradient must never pass the check silently.
    """
    floor = _v.check_positive_number(floor, "floor", max_value=1.0)  # a larger floor hides real errors
    ga = _v.check_param_dict(grads_a, PARAM_NAMES, "grads_a", finite=False)  # NaN/inf give inf below
    gb = _v.check_param_dict(grads_b, PARAM_NAMES, "grads_b", finite=False)
    worst = 0.0
    for name in PARAM_NAMES:
        a, b = ga[name], gb[name]
        if a.shape != b.shape:
            raise ValueError(f"{name}: gradient shapes differ, grads_a {_shape(a)} vs grads_b {_shape(b)}")
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            return float("inf")
        denom = np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)
        worst = max(worst, float(np.max(np.abs(a - b) / denom, initial=0.0)))
    return worst


# ---------------------------------------------------------------------------
# training loop
# ---------------------------------------------------------------------------

def train(params, x, y, pronoun_pos, mask=None, *, lr: float = 0.5, steps: int = 500, momentum: float = 0.9):
    """Full-batch gradient descent (with classical momentum); deterministic.

    Parameters
    ----------
    params : dict
        Starting weights (not modified).
    x, y, pronoun_pos, mask : see :func:`loss_and_gradients`
    lr : float
        Learning rate (> 0).
    steps : int
        Number of updates.
    momentum : float in [0, 1)
        0 gives plain gradient descent ``W ← W - lr · ∂L/∂W``.

    Returns
    -------
    params : dict
        The trained weights (new arrays).
    losses : numpy.ndarray, shape (steps + 1,)
        The loss before every update and after the last one.
    """
    lr = _v.check_positive_number(lr, "lr")
    steps = _check_positive_int(steps, "steps")
    momentum = _v.check_fraction(momentum, "momentum")
    p = {k: v.copy() for k, v in _check_params(params).items()}
    vel = {k: np.zeros_like(v) for k, v in p.items()}
    losses = []
    for step in range(steps):
        try:
            loss, grads = loss_and_gradients(p, x, y, pronoun_pos, mask)
        except ValueError as exc:
            if step == 0:
                raise  # a problem with the inputs, not with the learning rate
            raise ValueError(
                f"training diverged at step {step} (the weights blew up: {exc}); "
                f"use a smaller lr than {lr}"
            ) from None
        if not np.isfinite(loss) or (losses and loss > 1e3 * max(losses[0], 1e-12)):
            raise ValueError(
                f"training diverged at step {step} (loss = {loss:.3g}, it started at "
                f"{losses[0] if losses else loss:.3g}); use a smaller lr than {lr}"
            )
        losses.append(loss)
        for k in PARAM_NAMES:
            vel[k] = momentum * vel[k] - lr * grads[k]
            p[k] = p[k] + vel[k]
    losses.append(loss_only(p, x, y, pronoun_pos, mask))
    return p, np.array(losses)
