"""Figures used only by chapters 01–04 (built on :mod:`helpers.plots`).

Every function returns a :class:`matplotlib.figure.Figure` made with pyplot,
uses the course's CJK font and colour conventions (rows = queries, columns =
keys; weights 0–1 in blues; unbounded values diverging around 0).  Assign the
result in a notebook: ``fig = chapter_plots.variance_plot(...)``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from . import plots
from . import validation as _v
from .attention import _as_real_array, _shape

__all__ = [
    "embedding_grids",
    "side_by_side_heatmaps",
    "self_weight_plot",
    "dot_contributions",
    "variance_plot",
    "saturation_plot",
    "exp_overflow_plot",
]


def _vector(x, name):
    a = _as_real_array(x, name)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence; got shape {_shape(a)}")
    return a


def embedding_grids(E, PE, X, tokens) -> Figure:
    """``E + PE = X`` as three labelled grids stacked vertically (rows = tokens), one shared colour range.

    Parameters
    ----------
    E, PE, X : array_like, each (len(tokens), d_model)
        Embeddings, positional encoding and their sum (``X`` must equal ``E + PE``).
    tokens : sequence of str

    Returns
    -------
    matplotlib.figure.Figure
    """
    mats = [("词嵌入 E", _as_real_array(E, "E")), ("位置编码 PE", _as_real_array(PE, "PE")),
            ("输入 X = E + PE", _as_real_array(X, "X"))]
    tokens = _v.check_tokens(tokens)
    for name, m in mats:
        if m.ndim != 2 or m.shape != mats[0][1].shape or m.shape[0] != len(tokens):
            raise ValueError(
                f"E, PE and X must all have shape (len(tokens)={len(tokens)}, d_model); {name} has shape {_shape(m)}"
            )
    _v.check_sum_of(mats[2][1], "X", mats[0][1], "E", mats[1][1], "PE")  # the figure's title says X = E + PE
    limit = max(float(np.abs(m).max()) for _, m in mats) or 1.0
    n, d = mats[0][1].shape
    # one panel per row: E, then + PE, then = X (wide side-by-side grids shrink the numbers below 10 px)
    fig, axes = plots._subplots(3, 1, figsize=(min(10.0, 0.5 * d + 2.6), 3 * (0.5 * n + 0.9) + 0.6),
                                layout="constrained")
    for ax, (name, m) in zip(axes, mats):
        # PE's row i belongs to position i, whatever word stands there; 2 decimals so sin 1 = 0.84 can be checked
        labels = [f"位置 {i}" for i in range(n)] if name.startswith("位置") else tokens
        plots.matrix_grid(m, name, row_labels=labels, ax=ax, limit=limit, fmt=".2f")
    axes[-1].set_xlabel("分量编号 (0 … d_model−1)", fontsize=plots.MIN_FONT_PT)
    plots._colorbar(fig, axes[-1].images[0], list(axes), plots.VALUE_LABEL + " (三个矩阵同一色标)",
                    shrink=0.6, aspect=25)
    fig.suptitle("每个词的输入向量 = 词义 (嵌入) + 位置")
    return fig


def side_by_side_heatmaps(mats, titles, row_labels, col_labels, *, kind="weights", suptitle=None,
                          annotate="auto", shared_scale=True) -> Figure:
    """Several heatmaps of the same size next to each other.

    Parameters
    ----------
    mats : sequence of array_like, each (n_q, n_k)
    titles : sequence of str, one per matrix
    row_labels, col_labels : sequence of str
    kind : {"weights", "scores"}
        ``"weights"`` uses :func:`plots.attention_heatmap` (range 0–1);
        ``"scores"`` uses :func:`plots.matrix_heatmap` (range ±max|M|).
    suptitle : str, optional
    annotate : bool or "auto"
    shared_scale : bool, default True
        Only for ``kind="scores"``: True draws every panel on one range ±max over
        all matrices with one colorbar (compare values across panels); False
        gives each panel its own range and colorbar, so a pattern inside a panel
        (e.g. its asymmetry) stays visible next to a panel with much larger values.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(mats, (list, tuple)):
        raise TypeError(f"mats must be a list of matrices, got {type(mats).__name__}")
    mats = [_as_real_array(m, f"mats[{i}]") for i, m in enumerate(mats)]
    if not mats:
        raise ValueError("mats is empty; give at least one matrix")
    titles = _v.check_labels(titles, len(mats), "titles")
    if kind not in ("weights", "scores"):
        raise ValueError(f"kind must be 'weights' or 'scores', got {kind!r}")
    for i, m in enumerate(mats):
        if m.ndim != 2 or m.shape != mats[0].shape:
            raise ValueError(f"all matrices must be 2-D with the same shape; mats[{i}] has shape {_shape(m)}, "
                             f"mats[0] has {_shape(mats[0])}")
    n_q, n_k = mats[0].shape
    cell = 0.62 if max(n_q, n_k) <= 12 else 0.3
    if kind == "scores" and not shared_scale:
        cell = min(cell, 0.45)  # two colorbars: narrower cells keep the figure under ~850 px
    # own colorbars take the room of the shared one: keep the figure ≤ 10 in (shown unscaled in JupyterLab)
    own_bars = kind == "scores" and not shared_scale
    width = len(mats) * (n_k * cell + 1.6 + (0.9 if own_bars else 0.0)) + (0.0 if own_bars else 1.2)
    fig, axes = plots._subplots(1, len(mats), figsize=(width, n_q * cell + 1.7),
                                layout="constrained", squeeze=False)
    own = kind == "scores" and not shared_scale
    limit = max(float(np.abs(m).max()) for m in mats) or 1.0
    for i, (ax, m, t) in enumerate(zip(axes[0], mats, titles)):
        # query label only on the first panel; one colorbar for all unless each panel has its own range
        ylabel = plots.QUERY_AXIS_LABEL if i == 0 else ""
        if kind == "weights":
            plots.attention_heatmap(m, row_labels, col_labels, ax=ax, title=t, annotate=annotate,
                                    ylabel=ylabel, colorbar=False)
        else:
            plots.matrix_heatmap(m, row_labels, col_labels, ax=ax, title=t, annotate=annotate,
                                 limit=None if own else limit, ylabel=ylabel, colorbar=False)
        if own:
            plots._colorbar(fig, ax.images[0], ax, plots.SCORE_LABEL + "（本图色标）", shrink=0.9,
                            aspect=max(8, min(20, 4 * n_q)))
    if not own:
        plots._colorbar(fig, axes[0][-1].images[0], list(axes[0]),
                        plots.WEIGHT_LABEL if kind == "weights" else plots.SCORE_LABEL,
                        shrink=0.9, aspect=max(8, min(20, 4 * n_q)))
    if suptitle:
        fig.suptitle(plots._plain_text(suptitle))
    return fig


def self_weight_plot(d_models, shared, separate, n_tokens) -> Figure:
    """Mean weight a token puts on itself vs d_model: Q = K = X against separate W_Q, W_K.

    Parameters
    ----------
    d_models : sequence of int
        x values (log scale, base 2).
    shared, separate : sequence of float
        Mean self-weight for each d_model without / with separate projections.
    n_tokens : int
        Sentence length; ``1 / n_tokens`` is drawn as the "no preference" line.

    Returns
    -------
    matplotlib.figure.Figure
    """
    d_models = _v.as_size_array(d_models, "d_models")
    shared = _vector(shared, "shared")
    separate = _vector(separate, "separate")
    n_tokens = _v.check_positive_int(n_tokens, "n_tokens")
    if not len(d_models) == len(shared) == len(separate):
        raise ValueError(f"d_models, shared and separate must have the same length; got "
                         f"{len(d_models)}, {len(shared)}, {len(separate)}")
    fig, ax = plots._subplots(figsize=(6.2, 3.4), layout="constrained")
    ax.plot(d_models, shared, "o-", color=plots.ACCENT_COLOR_2, label="Q = K = X (不做投影)")
    ax.plot(d_models, separate, "s-", color=plots.ACCENT_COLOR, label="Q = X·W_Q, K = X·W_K (两个不同矩阵)")
    ax.axhline(1 / n_tokens, color="#888888", linestyle="--", linewidth=1,
               label=f"1/n = {1 / n_tokens:.2f} (一视同仁)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(d_models, [str(int(d)) for d in d_models])
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("d_model")
    ax.set_ylabel("每个词给自己的平均权重")
    ax.set_title("不做投影时，维度越高，词越只关注自己")
    ax.legend(loc="center right", fontsize=plots.MIN_FONT_PT, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def dot_contributions(query, keys, key_labels, *, query_label="q1") -> Figure:
    """Where a dot product comes from: one bar per key, split into ``q[d]·k[d]`` per dimension.

    Parameters
    ----------
    query : array_like, shape (d_k,) or (1, d_k)
    keys : array_like, shape (n_k, d_k)
    key_labels : sequence of str
        One name per key.
    query_label : str, default "q1"

    Returns
    -------
    matplotlib.figure.Figure
    """
    q = _as_real_array(query, "query")
    if q.ndim == 2 and q.shape[0] == 1:
        q = q[0]
    _v.check_ndim(q, "query", 1, "(d_k,) or (1, d_k)")
    K = _as_real_array(keys, "keys")
    _v.check_ndim(K, "keys", 2, "(n_k, d_k)")
    if K.shape[1] != q.size:
        raise ValueError(f"keys must have shape (n_k, d_k={q.size}) like query {_shape(query)}; got {_shape(K)}")
    key_labels = _v.check_labels(key_labels, K.shape[0], "key_labels")
    query_label = _v.check_text(query_label, "query_label")
    parts = K * q  # (n_k, d_k): q[d] * k_j[d]
    fig, ax = plots._subplots(figsize=(max(4.5, 1.3 * K.shape[0] + 2.5), 3.4), layout="constrained")
    colors = plt.get_cmap("Set2")(np.arange(q.size) % 8)
    xs = np.arange(K.shape[0])
    pos_base = np.zeros(K.shape[0])
    neg_base = np.zeros(K.shape[0])
    for d in range(q.size):
        vals = parts[:, d]
        base = np.where(vals >= 0, pos_base, neg_base)
        ax.bar(xs, vals, bottom=base, color=colors[d], edgecolor="white",
               label=plots._plain_text(f"分量 {d}: {query_label}[{d}]·k[{d}]"))
        pos_base = pos_base + np.where(vals >= 0, vals, 0)
        neg_base = neg_base + np.where(vals < 0, vals, 0)
    totals = parts.sum(axis=1)
    for x, t in zip(xs, totals):
        ax.text(x, max(t, pos_base[x]) + 0.01, f"= {t:.2f}", ha="center", va="bottom", fontsize=plots.MIN_FONT_PT)
    ax.axhline(0, color="#888888", linewidth=0.8)
    ax.set_xticks(xs, [plots._plain_text(t) for t in key_labels])
    ax.set_xlabel(plots.KEY_AXIS_LABEL)
    ax.set_ylabel(plots._plain_text(f"{query_label}·k 的组成"))
    ax.set_ylim(min(0, neg_base.min() * 1.2), pos_base.max() * 1.25 + 0.02)
    ax.set_title(plots._plain_text(f"点积 = 各维乘积之和 (查询 {query_label})"))
    ax.legend(fontsize=plots.MIN_FONT_PT, frameon=False, loc="upper left")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def variance_plot(d_ks, measured, *, measured_scaled=None) -> Figure:
    """Measured variance of ``q·k`` against the prediction ``Var = d_k`` (log–log).

    Parameters
    ----------
    d_ks : sequence of int
    measured : sequence of float
        Variance of the unscaled dot products, one per d_k
        (:func:`helpers.analysis.dot_product_variance`).
    measured_scaled : sequence of float, optional
        The same for ``q·k / √d_k``, drawn against the prediction 1.

    Returns
    -------
    matplotlib.figure.Figure
    """
    d_ks = _v.as_size_array(d_ks, "d_ks")
    measured = _vector(measured, "measured")
    if (measured <= 0).any():
        raise ValueError(f"measured must hold positive variances (drawn on a log axis); got {measured.tolist()}")
    if len(measured) != len(d_ks):
        raise ValueError(f"measured has {len(measured)} values for {len(d_ks)} d_k values in d_ks")
    fig, ax = plots._subplots(figsize=(6.2, 3.8), layout="constrained")
    ax.plot(d_ks, d_ks, "--", color="#555555", label="理论: Var(q·k) = d_k")
    ax.plot(d_ks, measured, "o", color=plots.ACCENT_COLOR_2, label="实测: 未缩放 q·k")
    if measured_scaled is not None:
        ms = _vector(measured_scaled, "measured_scaled")
        if len(ms) != len(d_ks):
            raise ValueError(f"measured_scaled has {len(ms)} values for {len(d_ks)} d_k values in d_ks")
        ax.plot(d_ks, np.ones_like(d_ks), ":", color="#555555", label="理论: Var(q·k/√d_k) = 1")
        ax.plot(d_ks, ms, "s", color=plots.ACCENT_COLOR, label="实测: 缩放后 q·k/√d_k")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xticks(d_ks, [str(int(d)) for d in d_ks])
    ax.set_xlabel("d_k")
    ax.set_ylabel("方差 (对数坐标)")
    ax.set_title("点积的方差随 d_k 线性增长；除以 √d_k 后恒为 1")
    ax.legend(fontsize=plots.MIN_FONT_PT, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


_SATURATION_KEYS = ("d_k", "max_weight", "entropy", "jacobian_norm_median")


def _check_saturation_stats(st, name: str) -> dict:
    """What :func:`helpers.analysis.saturation_stats` returns: ``d_k`` (positive ints) and one finite
    value per d_k for every statistic (copied)."""
    if not isinstance(st, dict):
        raise TypeError(f"{name} must be the dict analysis.saturation_stats(...) returns, got {type(st).__name__}")
    missing = set(_SATURATION_KEYS) - set(st)
    if missing:
        raise ValueError(f"{name} is missing {sorted(missing)}; pass analysis.saturation_stats(...) output")
    out = {"d_k": _v.as_size_array(st["d_k"], f"{name}['d_k']")}
    for key in _SATURATION_KEYS[1:]:
        out[key] = _vector(st[key], f"{name}[{key!r}]")
        if len(out[key]) != len(out["d_k"]):
            raise ValueError(f"{name}[{key!r}] has {len(out[key])} values for {len(out['d_k'])} d_k values")
    return out


def saturation_plot(raw, scaled, n_keys) -> Figure:
    """Three panels vs d_k — max weight, entropy, Jacobian norm — unscaled vs scaled.

    Parameters
    ----------
    raw, scaled : dict
        What :func:`helpers.analysis.saturation_stats` returns without and
        with scaling (same ``d_ks``).
    n_keys : int
        The ``n_keys`` used there (for the "uniform" reference lines).

    Returns
    -------
    matplotlib.figure.Figure
    """
    raw, scaled = _check_saturation_stats(raw, "raw"), _check_saturation_stats(scaled, "scaled")
    if not np.array_equal(raw["d_k"], scaled["d_k"]):
        raise ValueError(f"raw and scaled must use the same d_ks; got {raw['d_k'].tolist()} and {scaled['d_k'].tolist()}")
    n_keys = _v.check_int(n_keys, "n_keys", low=2, high=_v.MAX_SIZE)
    d_ks = raw["d_k"]
    fig, axes = plots._subplots(1, 3, figsize=(10.8, 3.9), layout="constrained")
    spec = [
        ("max_weight", "最大权重 (平均)", (1 / n_keys, 1.0), f"均匀 = 1/{n_keys}", 1 / n_keys, "linear"),
        ("entropy", "熵 (nats, 平均)", (0.0, np.log(n_keys)), f"均匀 = ln {n_keys}", np.log(n_keys), "linear"),
        ("jacobian_norm_median", "softmax 雅可比范数 (中位数)", None, None, None, "log"),
    ]
    for ax, (key, label, _rng, ref_text, ref, yscale) in zip(axes, spec):
        ax.plot(d_ks, raw[key], "o-", color=plots.ACCENT_COLOR_2, label="不缩放  q·k")
        ax.plot(d_ks, scaled[key], "s-", color=plots.ACCENT_COLOR, label="缩放  q·k/√d_k")
        if ref is not None:
            ax.axhline(ref, color="#888888", linestyle="--", linewidth=1)
            ax.text(d_ks[0], ref, ref_text, fontsize=plots.MIN_FONT_PT, color="#555555", va="bottom")
        ax.set_xscale("log", base=2)
        ax.set_yscale(yscale)
        # every third d_k labelled (1, 8, 64, 512): ten labels at a readable size do not fit a third of the width
        ax.set_xticks(d_ks, [str(int(d)) if (len(d_ks) - 1 - i) % 3 == 0 else ""
                             for i, d in enumerate(d_ks)], fontsize=plots.MIN_FONT_PT)
        ax.set_xlabel("d_k")
        ax.set_title(label)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_ylim(0, 1.05)
    axes[1].set_ylim(0, np.log(n_keys) * 1.1)
    axes[0].legend(fontsize=plots.MIN_FONT_PT, frameon=False, loc="center right")
    fig.suptitle(f"随机 q 对 {n_keys} 个随机键做 softmax：不缩放时随 d_k 增大而饱和")
    return fig


def exp_overflow_plot(limits) -> Figure:
    """Bar chart: the largest score whose ``exp`` still fits, per float type.

    The axis is linear, so bar lengths are proportional to the limits (float16's
    11 is 1.6 % of float64's 710; a log axis once made it look like a third).

    Parameters
    ----------
    limits : dict
        Maps a dtype name (e.g. ``"float16"``, a non-empty str) to ``ln(max float)``
        (a positive finite number).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(limits, dict) or not limits:
        raise TypeError(f"limits must be a non-empty dict {{dtype name: ln(max)}}, got {type(limits).__name__}")
    names = [_v.check_text(n, f"limits key {n!r:.40}") for n in limits]
    # bar lengths on a linear axis from 0: positive, and small enough that the axis limit stays finite
    vals = np.array([_v.check_positive_number(limits[n], f"limits[{n!r}]", max_value=plots.COLOUR_MAX_ABS)
                     for n in names])
    fig, ax = plots._subplots(figsize=(7.6, 2.9), layout="constrained")
    ys = np.arange(len(names))
    ax.barh(ys, vals, color=plots.ACCENT_COLOR_2, alpha=0.85)
    for y, v in zip(ys, vals):
        ax.text(v, y, f"  {v:.2f}", va="center")
    ax.set_yticks(ys, [plots._plain_text(n) for n in names])
    ax.set_xlim(0, vals.max() * 1.18)
    ax.set_xlabel("exp(分数) 不溢出的最大分数 = ln(最大浮点数)  (线性坐标，柱长与数值成正比)")
    ax.set_title("分数超过柱子的长度，朴素的 exp 就会变成 inf")
    ax.spines[["top", "right"]].set_visible(False)
    return fig
