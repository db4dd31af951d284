"""Small measurements used by several chapters (NumPy only).

These functions answer "how does attention behave?" questions with numbers:

* :func:`entropy` — how spread out a row of attention weights is;
* :func:`softmax_jacobian` / :func:`jacobian_norm` — how much the weights still
  react to a change of the scores (the gradient that flows through softmax);
* :func:`sample_dot_products` / :func:`dot_product_variance` — the spread of
  ``q · k`` for random unit-variance vectors (why we divide by ``√d_k``);
* :func:`saturation_stats` — max weight, entropy and Jacobian norm of softmax
  rows as ``d_k`` grows, with or without scaling;
* :func:`self_weight` — how much each token attends to itself;
* :func:`query_gradient_stats` — the gradient that reaches ``W_Q`` through
  softmax at initialisation (chain rule), with or without the ``1/√d_k``;
* :func:`softmax_stats_at_std` — how peaked softmax is for scores of a given spread.

Every function validates its input and raises ``ValueError`` / ``TypeError``
with the offending shape or value in the message.
"""

from __future__ import annotations

import unicodedata

import numpy as np

from . import validation as _v
from .attention import softmax

__all__ = [
    "entropy",
    "softmax_jacobian",
    "jacobian_norm",
    "sample_dot_products",
    "dot_product_variance",
    "saturation_stats",
    "self_weight",
    "query_gradient_stats",
    "softmax_stats_at_std",
    "format_table",
    "print_table",
]


def _display_width(text: str) -> int:
    """Columns ``text`` takes in a monospace font (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(header, rows) -> str:
    """A plain-text table whose columns line up even with Chinese headers.

    ``header`` is a sequence of column titles; ``rows`` a sequence of rows with as many
    cells, each a string (already formatted, e.g. ``f"{x:.4f}"``) or any object
    (``str()`` is used).  Every column is right-aligned to its widest cell, counting a
    CJK character as two columns; columns are separated by three spaces.
    """
    if header is None or isinstance(header, (str, bytes)) or not isinstance(header, (list, tuple)):
        raise TypeError(f"header must be a list of column titles, got {type(header).__name__}")
    if rows is None or isinstance(rows, (str, bytes)) or not isinstance(rows, (list, tuple, np.ndarray)):
        raise TypeError(f"rows must be a list of rows, got {type(rows).__name__}")
    head = [_v.check_text(str(c), f"header[{j}]", allow_empty=True) for j, c in enumerate(header)]
    body = []
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not hasattr(row, "__len__"):
            raise TypeError(f"rows[{i}] must be a sequence of cells, got {type(row).__name__}")
        body.append([_v.check_text(str(c), f"rows[{i}][{j}]", allow_empty=True) for j, c in enumerate(row)])
    for i, row in enumerate(body):
        if len(row) != len(head):
            raise ValueError(f"rows[{i}] has {len(row)} cells but header has {len(head)} columns")
    widths = [max(_display_width(line[j]) for line in [head, *body]) for j in range(len(head))]

    def fmt(line):
        return "   ".join(" " * (w - _display_width(c)) + c for c, w in zip(line, widths))

    return "\n".join(fmt(line) for line in [head, *body])


def print_table(header, rows) -> None:
    """Print :func:`format_table` (``header``, ``rows``)."""
    print(format_table(header, rows))


def entropy(weights, axis: int = -1) -> np.ndarray:
    """Shannon entropy ``-Σ α log α`` (natural log, in nats) of weight rows.

    ``0`` means all weight on one key (one-hot); ``log(n)`` means the uniform
    distribution over ``n`` keys.  Zero weights contribute 0 (``0 log 0 = 0``).

    Parameters
    ----------
    weights : array_like
        Non-negative, summing to 1 along ``axis``.
    axis : int, default -1

    Returns
    -------
    numpy.ndarray
        ``weights`` with ``axis`` removed (a 0-d array for a single row).
    """
    w = _v.as_real_array(weights, "weights")
    if w.ndim == 0:
        raise ValueError("weights must have at least 1 dimension; got a scalar")
    axis = _v.check_axis(axis, w.ndim, f"weights of shape {_v.shape_str(w)}")
    w = _v.check_distributions(np.moveaxis(w, axis, -1))       # (..., n): the rows along axis
    logs = np.log(np.where(w > 0, w, 1.0))
    return -np.sum(w * logs, axis=-1)


def softmax_jacobian(weights) -> np.ndarray:
    """Jacobian of softmax, ``J[i, j] = ∂α_i / ∂s_j = α_i (δ_ij − α_j)``.

    It only depends on the softmax *output*: ``J = diag(α) − α αᵀ``.

    Parameters
    ----------
    weights : array_like, shape (..., n)
        Softmax output(s), rows summing to 1.

    Returns
    -------
    numpy.ndarray, shape (..., n, n)
        Symmetric; every row and column sums to 0.
    """
    w = _v.check_distributions(weights)                            # (..., n)
    _v.check_elements(w.shape + w.shape[-1:], "the Jacobian")
    eye = np.eye(w.shape[-1])
    return w[..., :, None] * eye - w[..., :, None] * w[..., None, :]


def jacobian_norm(weights) -> np.ndarray:
    """Frobenius norm of the softmax Jacobian of each weight row.

    Near ``0`` when the row is (almost) one-hot: the weights no longer move
    when the scores change, so almost no gradient flows back to Q and K.

    Parameters
    ----------
    weights : array_like, shape (..., n)

    Returns
    -------
    numpy.ndarray, shape (...)
    """
    # ‖diag(α) − α αᵀ‖²_F = Σ_i α_i²(1 − α_i)² + Σ_{i≠j} α_i² α_j², computed in O(n) per row (no n×n
    # matrix).  The largest weight α_m is split off so that nothing cancels when a row is almost
    # one-hot: 1 − α_m is the sum of the others, and the pairs with m are 2 α_m² Σ_{j≠m} α_j².
    w = _v.check_distributions(weights)                            # (..., n)
    top = np.argmax(w, axis=-1)[..., None]                         # (..., 1)
    a_m = np.take_along_axis(w, top, axis=-1)[..., 0]              # (...)
    others = w.copy()
    np.put_along_axis(others, top, 0.0, axis=-1)                   # (..., n), α_m removed
    s1 = others.sum(axis=-1)                                       # = 1 − α_m
    s2 = (others ** 2).sum(axis=-1)
    s4 = (others ** 4).sum(axis=-1)
    diag = a_m ** 2 * s1 ** 2 + np.sum(others ** 2 * (1 - others) ** 2, axis=-1)
    off = 2 * a_m ** 2 * s2 + (s2 ** 2 - s4)
    return np.sqrt(np.maximum(diag + off, 0.0))


def sample_dot_products(d_k, n_samples: int = 4000, seed: int = 0, scaled: bool = False) -> np.ndarray:
    """Dot products ``q · k`` of random vectors with independent N(0, 1) components.

    Parameters
    ----------
    d_k : int
        Vector length.
    n_samples : int, default 4000
        Number of independent (q, k) pairs.
    seed : int, default 0
    scaled : bool, default False
        Divide each dot product by ``√d_k``.

    Returns
    -------
    numpy.ndarray, shape (n_samples,)
        Mean ≈ 0; variance ≈ ``d_k`` (unscaled) or ≈ 1 (scaled).
    """
    d_k = _v.check_positive_int(d_k, "d_k")
    n_samples = _v.check_positive_int(n_samples, "n_samples")
    seed = _v.check_seed(seed, allow_negative=True)
    rng = np.random.default_rng([seed & 0xFFFFFFFF, d_k])
    q = rng.standard_normal((n_samples, d_k))
    k = rng.standard_normal((n_samples, d_k))
    dots = np.einsum("nd,nd->n", q, k)
    return dots / np.sqrt(d_k) if scaled else dots


def dot_product_variance(d_ks, n_samples: int = 4000, seed: int = 0, scaled: bool = False) -> np.ndarray:
    """Measured variance of ``q · k`` (see :func:`sample_dot_products`) for each ``d_k``.

    Parameters
    ----------
    d_ks : int or sequence of int
        Positive vector lengths.
    n_samples, seed, scaled
        As in :func:`sample_dot_products` (``n_samples`` at least 2: the variance of
        one draw is always 0).

    Returns
    -------
    numpy.ndarray of float, shape (len(d_ks),)
        Theory: ``d_k`` unscaled, ``1`` scaled.
    """
    d_ks = _v.as_size_array(d_ks, "d_ks", allow_int=True)
    n_samples = _v.check_sample_size(n_samples, "n_samples")
    return np.array([np.var(sample_dot_products(int(d), n_samples, seed, scaled)) for d in d_ks])


def saturation_stats(d_ks, n_keys: int = 8, n_trials: int = 500, seed: int = 0, scaled: bool = False,
                     exponent: float = 0.5) -> dict:
    """How peaked softmax rows of random dot-product scores get as ``d_k`` grows.

    For each ``d_k``: draw ``n_trials`` queries and, for each, ``n_keys`` keys,
    all with independent N(0, 1) components; scores ``q · k_j`` (divided by
    ``d_k ** exponent`` if ``scaled`` — ``√d_k`` by default); softmax over the keys.

    Parameters
    ----------
    d_ks : sequence of int
    n_keys : int, default 8
    n_trials : int, default 500
        At least 2 (the results are means and medians over the trials).
    seed : int, default 0
    scaled : bool, default False
    exponent : float, default 0.5
        Power of ``d_k`` to divide by when ``scaled`` (``1.0`` = divide by ``d_k``).

    Returns
    -------
    dict of numpy.ndarray, each of shape (len(d_ks),)
        ``"max_weight"`` — mean of the largest weight per row (``1/n_keys`` =
        uniform, ``1`` = one-hot); ``"entropy"`` — mean entropy in nats
        (``log n_keys`` = uniform, ``0`` = one-hot); ``"jacobian_norm"`` — mean
        Frobenius norm of the softmax Jacobian and ``"jacobian_norm_median"`` its
        median (the typical row; the mean is dominated by the few rows whose two
        best keys happen to tie); ``"score_std"`` — standard
        deviation of the scores that went into softmax.  Also ``"d_k"``.
    """
    d_ks = _v.as_size_array(d_ks, "d_ks", allow_int=True)
    n_keys = _v.check_n_keys(n_keys)
    n_trials = _v.check_sample_size(n_trials, "n_trials")
    exponent = _v.check_number(exponent, "exponent")
    seed = _v.check_seed(seed, allow_negative=True)
    scaled = _v.check_bool(scaled, "scaled")
    _v.check_elements((n_trials, n_keys, int(d_ks.max())), "saturation_stats: n_trials × n_keys × d_k keys")
    out = {name: [] for name in ("max_weight", "entropy", "jacobian_norm", "jacobian_norm_median", "score_std")}
    for d in d_ks:
        rng = np.random.default_rng([seed & 0xFFFFFFFF, int(d)])
        q = rng.standard_normal((n_trials, 1, d))
        k = rng.standard_normal((n_trials, n_keys, d))
        scores = np.einsum("tod,tkd->tk", q, k)
        if scaled:
            scores = scores / float(d) ** float(exponent)
        w = softmax(scores, axis=-1)
        out["max_weight"].append(w.max(axis=-1).mean())
        out["entropy"].append(entropy(w).mean())
        norms = jacobian_norm(w)
        out["jacobian_norm"].append(norms.mean())
        out["jacobian_norm_median"].append(np.median(norms))
        out["score_std"].append(scores.std())
    result = {name: np.array(vals) for name, vals in out.items()}
    result["d_k"] = d_ks
    return result


def self_weight(weights) -> dict:
    """How much each query attends to its own position (the diagonal).

    Parameters
    ----------
    weights : array_like, shape (..., n, n)
        Square self-attention weights, rows summing to 1.

    Returns
    -------
    dict
        ``"diagonal"`` — the diagonal weights, shape (..., n);
        ``"mean"`` — their mean (a float; ``1/n`` would be "no preference");
        ``"argmax_is_self"`` — fraction of rows whose largest weight is on the diagonal.
    """
    w = _v.check_distributions(weights)
    if w.ndim < 2 or w.shape[-1] != w.shape[-2]:
        raise ValueError(f"self_weight needs square (..., n, n) weights; got shape {_v.shape_str(w)}")
    n = w.shape[-1]
    diag = np.diagonal(w, axis1=-2, axis2=-1)
    is_self = np.argmax(w, axis=-1) == np.arange(n)
    return {"diagonal": diag, "mean": float(diag.mean()), "argmax_is_self": float(is_self.mean())}


_QUERY_GRADIENT_MODES = ("raw", "scaled", "shrunk_init")


def query_gradient_stats(d_k, *, mode: str = "scaled", n_keys: int = 8, n_trials: int = 300,
                         d_model: int = 64, seed: int = 0) -> dict:
    """Gradient that reaches ``W_Q`` at initialisation, through softmax, by the chain rule.

    One layer at initialisation: ``W_Q`` with N(0, 1/d_model) entries, so that
    ``q = x W_Q`` has components of variance ≈ 1 for an input row ``x`` with N(0, 1)
    entries in ``d_model`` dimensions; the ``n_keys`` keys are drawn directly with N(0, 1)
    components (what ``X W_K`` gives at initialisation; ``W_K`` gets no gradient here);
    an upstream gradient ``g = dL/dα`` with N(0, 1) entries.
    With ``s_raw = q·k_j`` and ``c`` the factor the formula multiplies by::

        α = softmax(c · s_raw)
        dL/ds_raw = c · J(α) g                (J = diag(α) − α αᵀ is symmetric)
        dL/dq     = Kᵀ dL/ds_raw
        dL/dW_Q   = x ⊗ dL/dq                 (an outer product; its norm is |x|·|dL/dq|)

    Parameters
    ----------
    d_k : int
    mode : {"raw", "scaled", "shrunk_init"}
        ``"raw"``: no scaling (c = 1); ``"scaled"``: c = 1/√d_k;
        ``"shrunk_init"``: c = 1 but ``W_Q`` initialised √d_k times smaller
        (the same scores as ``"scaled"`` at initialisation).
    n_keys, n_trials, d_model, seed : int
        The draws depend on ``(seed, d_k, d_model)`` only, so the three modes see the
        same inputs, the same keys, the same upstream gradient, and ``W_Q`` up to the
        factor √d_k.

    Returns
    -------
    dict
        ``"weights"`` (n_trials, n_keys) — α; ``"score_grad"`` (n_trials,) — |dL/ds_raw|;
        ``"wq_grad"`` (n_trials,) — Frobenius norm of each trial's dL/dW_Q;
        ``"wq_norm"`` — Frobenius norm of ``W_Q``; ``"c"`` — the factor.
    """
    d_k = _v.check_positive_int(d_k, "d_k")
    n_keys = _v.check_n_keys(n_keys)
    n_trials = _v.check_positive_int(n_trials, "n_trials")
    d_model = _v.check_positive_int(d_model, "d_model")
    if mode not in _QUERY_GRADIENT_MODES:
        raise ValueError(f"mode must be one of {_QUERY_GRADIENT_MODES}; got {mode!r}")
    seed = _v.check_seed(seed, allow_negative=True)
    rng = np.random.default_rng([seed & 0xFFFFFFFF, d_k, d_model])
    W_Q = rng.standard_normal((d_model, d_k)) / np.sqrt(d_model)
    x = rng.standard_normal((n_trials, d_model))
    K = rng.standard_normal((n_trials, n_keys, d_k))
    g = rng.standard_normal((n_trials, n_keys))
    if mode == "shrunk_init":
        W_Q = W_Q / np.sqrt(d_k)
    c = 1 / np.sqrt(d_k) if mode == "scaled" else 1.0
    q = x @ W_Q                                   # (n_trials, d_k)
    s_raw = np.einsum("td,tkd->tk", q, K)
    alpha = softmax(c * s_raw, axis=-1)
    grad_s = c * np.einsum("tij,tj->ti", softmax_jacobian(alpha), g)
    grad_q = np.einsum("tk,tkd->td", grad_s, K)
    return {
        "weights": alpha,
        "score_grad": np.linalg.norm(grad_s, axis=-1),
        "wq_grad": np.linalg.norm(x, axis=-1) * np.linalg.norm(grad_q, axis=-1),
        "wq_norm": float(np.linalg.norm(W_Q)),
        "c": float(c),
    }


def softmax_stats_at_std(stds, n_keys: int = 8, n_trials: int = 2000, seed: int = 0) -> dict:
    """Softmax of ``n_keys`` random scores with a chosen standard deviation.

    The same standard-normal draws ``z`` (shape (n_trials, n_keys)) are multiplied by
    each ``std`` in ``stds``, so the rows differ only in their spread.  ``n_trials``
    must be at least 2 (the results are means and medians over the trials).

    Returns
    -------
    dict of numpy.ndarray, each of shape (len(stds),)
        ``"std"``, ``"max_weight"`` (mean), ``"entropy"`` (mean, nats),
        ``"jacobian_norm_median"`` (median Frobenius norm of the softmax Jacobian).
    """
    arr = np.atleast_1d(_v.as_real_array(stds, "stds"))
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or (arr <= 0).any():
        raise ValueError(f"stds must be a non-empty 1-D sequence of positive numbers; got {arr.tolist()!r}")
    n_keys = _v.check_n_keys(n_keys)
    n_trials = _v.check_sample_size(n_trials, "n_trials")
    seed = _v.check_seed(seed)
    _v.check_elements((n_trials, n_keys), "n_trials × n_keys")
    z = np.random.default_rng(seed).standard_normal((n_trials, n_keys))
    out = {"std": arr.astype(float).copy(), "max_weight": [], "entropy": [], "jacobian_norm_median": []}
    for s in arr:
        w = softmax(float(s) * z, axis=-1)
        out["max_weight"].append(w.max(axis=-1).mean())
        out["entropy"].append(entropy(w).mean())
        out["jacobian_norm_median"].append(np.median(jacobian_norm(w)))
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}
