"""Static figures of chapter 10 (the trained induction-head model).

Every figure is at most 10 inches wide (shown at 100 % in JupyterLab) and uses
text of at least 11 pt, so every label is ≥ 10 px tall on screen.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from . import plots
from . import validation as _v
from .plots import ACCENT_COLOR, ACCENT_COLOR_2, _colorbar, _subplots

__all__ = [
    "head_label",
    "position_loss_figure",
    "head_scores_figure",
    "ablation_figure",
    "heads_figure",
    "composition_figure",
]

FONT = 12          # tick labels, annotations
COPY_COLOR = ACCENT_COLOR          # the repeated copy (predictable)
FIRST_COLOR = "#fd8d3c"            # its first occurrence (not predictable)
OTHER_COLOR = "#bdbdbd"
#: Most bars a figure labels one by one (more would overlap on a 10-inch figure).
MAX_POSITIONS = 32          # position_loss_figure: one character per bar
MAX_HEADS = 8               # head_scores_figure, ablation_figure: one head name per bar
MAX_HEAD_ROWS = 6           # heads_figure: one 7.6-inch-tall heatmap per head
#: Largest loss drawn (the figures write losses with two decimals; the chapter's are below ln 40 ≈ 3.7).
MAX_LOSS = 1e6
_LOSS_WHY = " (a cross-entropy: never negative, and above 1e6 only if training diverged)"


def head_label(layer: int, head: int) -> str:
    """Human-readable head name, both counted from 1 like the head view: "第1层·头1".

    ``layer`` and ``head`` are the code's indices, counted from 0.
    """
    layer = _v.check_int(layer, "layer", low=0, high=_v.MAX_SIZE)
    head = _v.check_int(head, "head", low=0, high=_v.MAX_SIZE)
    return f"第{layer + 1}层·头{head + 1}"


def position_loss_figure(chars, loss, rep_mask, rand_mask, vocab_size: int) -> Figure:
    """Bar per position t: the loss of predicting character t+1 (x labels = that character).

    Bars of the repeated half are blue, of the random half (first occurrence)
    orange, the rest grey; a dashed line marks ln(vocab_size), the loss of a
    uniform guess.

    ``chars`` (n + 1 characters), ``loss`` (n non-negative values) and the boolean
    masks ``rep_mask``/``rand_mask`` (n entries) describe one sequence.
    """
    chars, loss, rep_mask, rand_mask, vocab_size = _check_position_loss_inputs(
        chars, loss, rep_mask, rand_mask, vocab_size)
    n = len(loss)
    colors = np.where(rep_mask, COPY_COLOR, np.where(rand_mask, FIRST_COLOR, OTHER_COLOR))
    fig, ax = _subplots(figsize=(10, 3.9), layout="constrained")
    xs = np.arange(n)
    ax.bar(xs, loss, color=colors)
    guess = ax.axhline(math.log(vocab_size), color="black", linestyle="--", linewidth=1.2,
                       label=f"ln {vocab_size} = {math.log(vocab_size):.2f}（均匀瞎猜）")
    ax.set_xticks(xs, [plots._plain_text(f"{c}\n{t + 1}") for t, c in enumerate(chars[1:])], fontsize=FONT)
    ax.tick_params(axis="y", labelsize=FONT)
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylim(0, max(math.log(vocab_size), float(loss.max())) + 1.6)
    ax.set_xlabel("要预测的字 / 它的位置", fontsize=FONT)
    ax.set_ylabel("交叉熵损失", fontsize=FONT)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(handles=[Patch(color=FIRST_COLOR, label="第一次出现（随机）"),
                       Patch(color=COPY_COLOR, label="重复的副本"),
                       Patch(color=OTHER_COLOR, label="其它随机字"), guess],
              fontsize=FONT - 1, loc="upper left", ncol=4, frameon=False)
    return fig


def _check_position_loss_inputs(chars, loss, rep_mask, rand_mask, vocab_size):
    """Validated inputs of :func:`position_loss_figure`, each error naming the argument."""
    loss = _v.as_real_array(loss, "loss")
    _v.check_ndim(loss, "loss", 1, "(n,) (one loss per position)")
    _v.check_within(loss, "loss", 0.0, MAX_LOSS, _LOSS_WHY)
    n = len(loss)
    if n > MAX_POSITIONS:
        raise ValueError(f"loss has {n} positions; the figure labels every bar, so at most {MAX_POSITIONS} fit")
    chars = _v.check_tokens(chars, "chars")
    if len(chars) != n + 1:
        raise ValueError(f"chars must have len(loss) + 1 = {n + 1} entries; got {len(chars)}")
    rep_mask = _v.as_mask(rep_mask, loss.shape, what="loss", name="rep_mask", dims="(n,)")
    rand_mask = _v.as_mask(rand_mask, loss.shape, what="loss", name="rand_mask", dims="(n,)")
    return chars, loss, rep_mask, rand_mask, _v.check_positive_int(vocab_size, "vocab_size")


def _head_table(x, name: str, low: float, high: float, why: str) -> np.ndarray:
    """One value per head: an (n_layers, n_heads) real array with every value in [low, high]."""
    a = _v.as_real_array(x, name)
    _v.check_ndim(a, name, 2, "(n_layers, n_heads)")
    if a.size > MAX_HEADS:
        raise ValueError(f"{name} has {a.size} heads (shape {_v.shape_str(a)}); the figure names every bar, "
                         f"so at most {MAX_HEADS} fit")
    _v.check_within(a, name, low, high, why)
    return a


def _grouped_bars(ax, values, labels, names, colors, fmt="{:.2f}"):
    k = len(names)
    width = 0.8 / k
    xs = np.arange(len(labels))
    for i, (vals, name, color) in enumerate(zip(values, names, colors)):
        pos = xs - 0.4 + width * (i + 0.5)
        ax.bar(pos, vals, width=width, color=color, label=name)
        for x, v in zip(pos, vals):
            ax.text(x, v + 0.02, fmt.format(v), ha="center", va="bottom", fontsize=FONT)
    ax.set_xticks(xs, labels, fontsize=FONT)
    ax.tick_params(axis="y", labelsize=FONT)
    ax.spines[["top", "right"]].set_visible(False)


def head_scores_figure(prev, induction) -> Figure:
    """Previous-token score and induction score of every head, side by side (0–1).

    ``prev`` and ``induction`` have shape (n_layers, n_heads); both are mean attention weights.
    """
    prev = _head_table(prev, "prev", 0.0, 1.0, " (a mean attention weight)")
    induction = _head_table(induction, "induction", 0.0, 1.0, " (a mean attention weight)")
    _v.check_same_shape(prev, "prev", induction, "induction")
    labels = [head_label(l, h) for l in range(prev.shape[0]) for h in range(prev.shape[1])]
    fig, ax = _subplots(figsize=(8, 3.8), layout="constrained")
    _grouped_bars(ax, [prev.ravel(), induction.ravel()], labels,
                  ["前一词得分 (previous-token score)", "归纳得分 (induction score)"],
                  [FIRST_COLOR, COPY_COLOR])
    ax.set_ylim(0, 1.15)
    ax.set_ylabel("平均注意力权重", fontsize=FONT)
    ax.legend(fontsize=FONT - 1, loc="upper left", frameon=False)
    return fig


def ablation_figure(rep, baseline_rep: float, rand: float) -> Figure:
    """Repeated-half loss with each head zeroed, against no ablation and the random half.

    ``rep`` has shape (n_layers, n_heads); ``baseline_rep`` and ``rand`` are the two losses
    without ablation.  All are cross-entropies (≥ 0).
    """
    rep = _head_table(rep, "rep", 0.0, MAX_LOSS, _LOSS_WHY)
    baseline_rep = _v.check_non_negative_number(baseline_rep, "baseline_rep", max_value=MAX_LOSS)
    rand = _v.check_non_negative_number(rand, "rand", max_value=MAX_LOSS)
    labels = [head_label(l, h) for l in range(rep.shape[0]) for h in range(rep.shape[1])]
    fig, ax = _subplots(figsize=(8, 3.8), layout="constrained")
    xs = np.arange(len(labels))
    ax.bar(xs, rep.ravel(), color=COPY_COLOR, width=0.6)
    for x, v in zip(xs, rep.ravel()):
        ax.text(x, v - 0.08, f"{v:.2f}", ha="center", va="top", fontsize=FONT, color="white")
    ax.axhline(baseline_rep, color=ACCENT_COLOR_2, linewidth=1.8, label=f"不消融，副本：{baseline_rep:.2f}")
    ax.axhline(rand, color="black", linestyle="--", linewidth=1.2, label=f"不消融，第一次出现（随机）：{rand:.2f}")
    ax.set_xticks(xs, [f"去掉\n{s}" for s in labels], fontsize=FONT)
    ax.tick_params(axis="y", labelsize=FONT)
    ax.set_ylim(0, max(rand, baseline_rep, float(rep.max())) + 1.3)
    ax.legend(fontsize=FONT - 1, loc="upper left", ncol=2, frameon=False)
    ax.set_ylabel("副本上的平均损失", fontsize=FONT)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def heads_figure(chars, weights, heads, titles=None) -> Figure:
    """Attention heatmaps of the given ``heads`` [(layer, head), …] for one sequence, one per row.

    ``weights`` has shape (n_layers, n_heads, n, n), rows = queries.  One head
    per row keeps 24 CJK labels per axis readable (≈ 28 px per cell).  ``chars`` has one
    character per token; ``titles`` (optional) one title per entry of ``heads``.
    """
    chars, w, heads, titles = _check_heads_inputs(chars, weights, heads, titles)
    n = w.shape[-1]
    n_cols = 1
    n_rows = len(heads)
    fig, axes = _subplots(n_rows, n_cols, figsize=(8.6, 7.6 * n_rows), layout="constrained", squeeze=False)
    mask = np.tril(np.ones((n, n), dtype=bool))
    for k, (layer, head) in enumerate(heads):
        ax = axes.flat[k]
        title = titles[k] if titles else head_label(layer, head)
        plots.attention_heatmap(w[layer, head], chars, chars, ax=ax, annotate=False,
                                mask=mask, title=title, colorbar=False)
        ax.tick_params(labelsize=FONT)
        ax.title.set_fontsize(FONT + 1)
        ax.xaxis.label.set_fontsize(FONT)
        ax.yaxis.label.set_fontsize(FONT)
        for lab in ax.get_xticklabels():
            lab.set_rotation(0)
    for ax in axes.flat[len(heads):]:
        ax.set_visible(False)
    im = axes.flat[0].images[0]
    cb = _colorbar(fig, im, list(axes.flat[:len(heads)]), plots.WEIGHT_LABEL, shrink=0.8)
    cb.ax.tick_params(labelsize=FONT)
    cb.ax.yaxis.label.set_fontsize(FONT)
    return fig


def _check_heads_inputs(chars, weights, heads, titles):
    """Validated inputs of :func:`heads_figure`: heads as a list of (layer, head) index pairs."""
    w = _v.check_weight_rows(weights, "weights")
    _v.check_ndim(w, "weights", 4, "(n_layers, n_heads, n, n)")
    _v.check_square(w, "weights", "(n_layers, n_heads, n, n)")
    chars = _v.check_tokens(chars, "chars")
    if len(chars) != w.shape[-1]:
        raise ValueError(f"chars has {len(chars)} entries but weights has n={w.shape[-1]} tokens "
                         f"(shape {_v.shape_str(w)}); one character per token")
    if not isinstance(heads, (list, tuple)) or not heads:
        raise TypeError(f"heads must be a non-empty list of (layer, head) pairs, got {heads!r:.40}")
    if len(heads) > MAX_HEAD_ROWS:
        raise ValueError(f"heads lists {len(heads)} heads; the figure draws one per row, at most {MAX_HEAD_ROWS}")
    pairs = []
    for k, pair in enumerate(heads):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"heads[{k}] must be a (layer, head) pair, got {pair!r:.40}")
        pairs.append((_v.check_index(pair[0], w.shape[0], f"heads[{k}] layer", "layers"),
                      _v.check_index(pair[1], w.shape[1], f"heads[{k}] head", "heads")))
    if titles is not None:
        titles = _v.check_labels(titles, len(pairs), "titles")
    return chars, w, pairs, titles


def composition_figure(direct, composed, labels, *, limit=None) -> Figure:
    """Two (query character × key character) score tables of the layer-2 induction head.

    Left: the key's own character (``direct``); right: the character the
    layer-1 previous-token head wrote into the key's position (``composed``).
    Shared, symmetric colour range ``±limit`` (default: the largest |value| of both).
    Both tables are (k, k) with one of the k ``labels`` per row and per column.
    """
    direct, composed, labels, limit = _check_composition_inputs(direct, composed, labels, limit)
    fig, axes = _subplots(1, 2, figsize=(10, 5.0), layout="constrained")
    for ax, M, title, xlabel in [
        (axes[0], direct, "键位置上的字本身", "键 (key) 位置上的字"),
        (axes[1], composed, "第1层前一词头写进键位置的“前一个字”", "键位置的前一个字"),
    ]:
        plots.matrix_heatmap(M, labels, labels, ax=ax, annotate=False, title=title, limit=limit,
                             colorbar=False, xlabel=xlabel, ylabel="查询 (query) 位置上的字")
        ax.tick_params(labelsize=FONT)
        for lab in ax.get_xticklabels():
            lab.set_rotation(0)
        ax.title.set_fontsize(FONT)
        ax.xaxis.label.set_fontsize(FONT)
        ax.yaxis.label.set_fontsize(FONT)
    cb = _colorbar(fig, axes[1].images[0], list(axes), "对分数的贡献", shrink=0.8)
    cb.ax.tick_params(labelsize=FONT)
    cb.ax.yaxis.label.set_fontsize(FONT)
    return fig


def _check_composition_inputs(direct, composed, labels, limit):
    """Validated inputs of :func:`composition_figure`; ``limit`` filled in when None."""
    tables = []
    for name, x in (("direct", direct), ("composed", composed)):
        t = _v.as_real_array(x, name)
        _v.check_ndim(t, name, 2, "(k, k) (query character × key character)")
        _v.check_square(t, name, "(k, k) (query character × key character)")
        tables.append(t)
    _v.check_same_shape(tables[0], "direct", tables[1], "composed")
    labels = _v.check_tokens(labels, "labels")
    if len(labels) != tables[0].shape[0]:
        raise ValueError(f"labels has {len(labels)} entries but direct and composed are "
                         f"{tables[0].shape[0]} × {tables[0].shape[0]}; one label per row and column")
    if limit is None:
        limit = float(max(np.abs(tables[0]).max(), np.abs(tables[1]).max()))
    else:
        limit = _v.check_positive_number(limit, "limit")
    return tables[0], tables[1], labels, limit
