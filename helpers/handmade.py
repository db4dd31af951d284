"""Hand-made attention weights: make one query token attend to one key token.

Chapter 06 uses this to show what *trained* W_Q / W_K can do, before chapter 08
actually learns them.  The construction is a single shared feature direction:

* ``q_dir`` — the (unit) embedding direction of the query token, e.g. 它;
* ``k_dir`` — the (unit) embedding direction of the key token, e.g. 小猫;
* ``u``     — one unit vector in the d_k-dimensional query/key space.

::

    W_Q = strength · q_dir ⊗ u        (d_model, d_k)
    W_K = strength · k_dir ⊗ u        (d_model, d_k)

so that for token inputs ``x_i`` (rows of X)::

    Q_i = strength · (x_i · q_dir) · u     -> "how much token i looks like 它"
    K_j = strength · (x_j · k_dir) · u     -> "how much token j looks like 小猫"
    Q_i · K_j = strength² · (x_i · q_dir) · (x_j · k_dir)

The score is large exactly when the query looks like the query token *and* the
key looks like the key token.  Because the directions come from the token
embeddings (not from positions), the same matrices work for every sentence
that contains the two words.  ``W_V`` is an ordinary random matrix (the same
one :func:`helpers.tokens.init_qkv_weights` would give for this seed).

NumPy only.
"""

from __future__ import annotations

import numpy as np

from . import validation as _v
from .tokens import embed_tokens, init_weights

__all__ = ["token_direction", "shared_direction", "handmade_weights", "feature_coordinates"]


def token_direction(token: str, d_model: int, seed: int = 0) -> np.ndarray:
    """Unit vector along the embedding of ``token``.

    Parameters
    ----------
    token : str
        A course token, e.g. ``"小猫"``.
    d_model : int
        Embedding size (must match the X the weights will be used with).
    seed : int, default 0
        Embedding seed (must match ``helpers.token_inputs(..., seed=seed)``), ``0 <= seed <= 2**32 - 1``.

    Returns
    -------
    numpy.ndarray, shape (d_model,)
        ``e / |e|`` where ``e = helpers.embed_tokens([token], d_model, seed)[0]``.
    """
    token = _v.check_token(token, "token")
    d_model = _v.check_positive_int(d_model, "d_model")
    seed = _v.check_seed32(seed)
    e = embed_tokens([token], d_model, seed)[0]
    return e / np.linalg.norm(e)


def shared_direction(d_k: int, seed: int = 0) -> np.ndarray:
    """The unit vector ``u`` in query/key space that the query and key will share.

    Which direction is used does not matter for the scores (only ``u · u = 1``
    does); a seeded random one is used so that no column of Q or K is all zeros.

    Parameters
    ----------
    d_k : int
        Query/key size.
    seed : int, default 0
        ``0 <= seed <= 2**32 - 1`` (:func:`handmade_weights` passes its embedding seed).

    Returns
    -------
    numpy.ndarray, shape (d_k,)
    """
    d_k = _v.check_positive_int(d_k, "d_k")
    seed = _v.check_seed32(seed)
    u = np.random.default_rng([seed, 2024]).standard_normal(d_k)
    return u / np.linalg.norm(u)


def handmade_weights(query_token: str = "它", key_token: str = "小猫", *, d_model: int = 16,
                     d_k: int = 8, d_v: int | None = None, strength: float = 1.0, seed: int = 0):
    """Build ``(W_Q, W_K, W_V)`` so that ``query_token`` attends to ``key_token``.

    Parameters
    ----------
    query_token : str, default "它"
        Token whose query should look for ``key_token``.
    key_token : str, default "小猫"
        Token whose key should answer that query.
    d_model : int, default 16
        Input size; must match the X (``helpers.token_inputs(tokens, d_model, seed)``).
    d_k : int, default 8
        Query/key size.
    d_v : int, optional
        Value size (defaults to ``d_k``).
    strength : float, default 1.0
        Length of the feature in both projections; the matching score grows like
        ``strength²``, so larger values give a sharper weight on ``key_token``.
    seed : int, default 0
        Embedding seed of the X these weights are meant for (``0 <= seed <= 2**32 - 1``);
        also seeds ``u`` and W_V.

    Returns
    -------
    W_Q, W_K : numpy.ndarray, shape (d_model, d_k)
        Rank-one matrices ``strength · q_dir ⊗ u`` and ``strength · k_dir ⊗ u``.
    W_V : numpy.ndarray, shape (d_model, d_v)
        ``helpers.init_weights(d_model, d_v, seed + 2)`` (= the W_V of
        ``init_qkv_weights(d_model, d_k, d_v, seed)``).

    Examples
    --------
    >>> import helpers as h
    >>> W_Q, W_K, W_V = handmade_weights("它", "小猫", d_model=16, d_k=8)
    >>> tokens = h.SENTENCE_CAT_SHORT
    >>> _, alpha = h.self_attention(h.token_inputs(tokens, 16), W_Q, W_K, W_V)
    >>> tokens[int(alpha[tokens.index("它")].argmax())]
    '小猫'
    """
    query_token = _v.check_token(query_token, "query_token")
    key_token = _v.check_token(key_token, "key_token")
    d_model = _v.check_positive_int(d_model, "d_model")
    d_k = _v.check_positive_int(d_k, "d_k")
    d_v = d_k if d_v is None else _v.check_positive_int(d_v, "d_v")
    strength = _v.check_positive_number(strength, "strength")
    seed = _v.check_seed32(seed)
    u = shared_direction(d_k, seed)
    w_q = strength * np.outer(token_direction(query_token, d_model, seed), u)
    w_k = strength * np.outer(token_direction(key_token, d_model, seed), u)
    w_v = init_weights(d_model, d_v, seed + 2)
    return w_q, w_k, w_v


def feature_coordinates(x, query_token: str = "它", key_token: str = "小猫", *, seed: int = 0):
    """How much each row of ``x`` looks like the query token and like the key token.

    Parameters
    ----------
    x : array_like, shape (n, d_model)
        Token inputs, rows = tokens.
    query_token, key_token : str
    seed : int, default 0
        Embedding seed used to build ``x`` (``0 <= seed <= 2**32 - 1``).

    Returns
    -------
    a : numpy.ndarray, shape (n,)
        ``x @ q_dir`` — with :func:`handmade_weights`, ``Q = strength · a ⊗ u``.
    b : numpy.ndarray, shape (n,)
        ``x @ k_dir`` — ``K = strength · b ⊗ u``, so ``Q Kᵀ = strength² · a ⊗ b``.
    """
    _v.check_token(query_token, "query_token")
    _v.check_token(key_token, "key_token")
    seed = _v.check_seed32(seed)
    arr = _v.as_real_array(x, "x")
    _v.check_ndim(arr, "x", 2, "(n_tokens, d_model)")
    d_model = arr.shape[1]
    a = arr @ token_direction(query_token, d_model, seed)
    b = arr @ token_direction(key_token, d_model, seed)
    return a, b
