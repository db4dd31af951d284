"""Walking one query through attention: pictures and a traced step table (chapters 05–06).

* :func:`weighted_sum_figure` — the value vectors, the scaled pieces ``α_j V_j`` and
  their sum ``Z_i`` drawn as 2-D arrows (chapter 05).
* :func:`value_line_figure` — when the value vectors lie on one line, every
  weighted average lies on it too: several weight rows drawn as points on that
  line next to the mean of V (chapter 05, "why Z1 is close to the mean").
* :func:`trace_self_attention` — the numbered steps of the source chapter's
  sequence diagram for one query token, with the real arrays and their shapes
  (NumPy only).
* :func:`trace_markdown` — those steps as a Markdown table.
* :func:`sequence_figure` — those steps as a numbered sequence diagram
  (participants = columns, messages = arrows labelled with shapes).

Figures are created with ``plt.subplots`` and returned; assign the result in a
notebook (``fig = ...``).
"""

from __future__ import annotations

import string
import unicodedata

import numpy as np

from . import attention as _att
from . import validation as _v

__all__ = ["weighted_sum_figure", "value_line_figure", "trace_self_attention", "trace_markdown", "sequence_figure",
           "PARTICIPANTS"]

#: The six participants of the source chapter's sequence diagram, in order.
PARTICIPANTS = ["输入 X_i", "生成 Q,K,V", "打分", "Softmax", "加权求和", "输出 Z_i"]

_COLORS = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]


# ---------------------------------------------------------------------------
# chapter 05: the weighted sum as a picture
# ---------------------------------------------------------------------------

def weighted_sum_figure(weights_row, value, *, value_labels=None, dims=(0, 1), title=None):
    """Draw ``Z = Σ_j α_j V_j`` for one query in the plane of two value components.

    Left: every value vector ``V_j`` as an arrow from the origin (dot size ∝ α_j),
    the region they span (a weighted average must stay inside it) and ``Z`` in black.
    Right: the scaled pieces ``α_j V_j`` laid head to tail; they end exactly at ``Z``.

    Parameters
    ----------
    weights_row : array_like, shape (n_k,)
        One row of attention weights (non-negative, sums to 1).
    value : array_like, shape (n_k, d_v), d_v >= 2
    value_labels : sequence of str, optional
        Names of the value rows (default V_1, V_2, ...).
    dims : pair of int, default (0, 1)
        Which two components of the value vectors to draw.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .plots import MIN_FONT_PT, _subplots  # here, so that the trace functions stay NumPy-only
    from matplotlib.patches import Polygon

    w = _att._as_real_array(weights_row, "weights_row")
    v = _att._as_real_array(value, "value")
    if w.ndim == 2 and w.shape[0] == 1:
        w = w[0]
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"weights_row must be one row of weights, shape (n_k,); got shape {_att._shape(w)}")
    if v.ndim != 2 or v.shape[0] != w.size:
        raise ValueError(
            f"value must have shape (n_k, d_v) with n_k = len(weights_row) = {w.size}; got shape {_att._shape(v)}"
        )
    _v.check_distributions(w, "weights_row")
    if isinstance(dims, (str, bytes)) or not isinstance(dims, (tuple, list, np.ndarray)) or len(dims) != 2:
        raise TypeError(f"dims must be a pair of ints, got {dims!r:.40}")
    d0, d1 = (_v.check_int(d, f"dims[{i}]", low=0, high=v.shape[1] - 1) for i, d in enumerate(dims))
    if d0 == d1:
        raise ValueError(f"dims {dims!r} must be two different component indices of value (d_v = {v.shape[1]})")
    n = w.size
    labels = ([f"V_{j + 1}" for j in range(n)] if value_labels is None
              else _v.check_labels(value_labels, n, "value_labels"))

    p = v[:, [d0, d1]]
    z = w @ p
    fig, (ax1, ax2) = _subplots(1, 2, figsize=(10.5, 4.6), layout="constrained")
    colors = [_COLORS[j % len(_COLORS)] for j in range(n)]

    # left: value vectors, their hull, and Z
    if n >= 3:
        centre = p.mean(axis=0)
        order = np.argsort(np.arctan2(p[:, 1] - centre[1], p[:, 0] - centre[0]))
        ax1.add_patch(Polygon(p[order], closed=True, facecolor="#fdd49e", edgecolor="#fdae6b",
                              alpha=0.45, zorder=0, label="加权平均能到达的区域"))
    elif n == 2:
        ax1.plot(p[:, 0], p[:, 1], color="#fdae6b", linewidth=6, alpha=0.5, zorder=0,
                 label="加权平均能到达的区域")
    for j in range(n):
        ax1.annotate("", xy=p[j], xytext=(0, 0),
                     arrowprops=dict(arrowstyle="-|>", color=colors[j], lw=1.8, alpha=0.8))
        ax1.scatter(*p[j], s=60 + 900 * w[j], color=colors[j], zorder=3, alpha=0.85)
        out = _unit(p[j], fallback=(1.0, 1.0))          # label beyond the arrow head, off the arrow
        ax1.annotate(f"{labels[j]}\nα={w[j]:.3f}", p[j], textcoords="offset points", xytext=tuple(14 * out),
                     ha="left" if out[0] >= 0 else "right", va="center" if abs(out[1]) < 0.7 else
                     ("bottom" if out[1] > 0 else "top"), fontsize=MIN_FONT_PT, color=colors[j])
    ax1.annotate("", xy=z, xytext=(0, 0), arrowprops=dict(arrowstyle="-|>", color="black", lw=2.6))
    ax1.scatter(*z, s=90, color="black", marker="*", zorder=4)
    ax1.annotate(f"Z = ({z[0]:.3f}, {z[1]:.3f})", z, textcoords="offset points", xytext=(-10, 8),
                 ha="right", fontsize=MIN_FONT_PT, fontweight="bold")
    ax1.set_title("值向量 V_j 与它们的加权平均 Z")

    # right: head-to-tail chain of α_j V_j
    chain = np.vstack([np.zeros((1, 2)), np.cumsum(w[:, None] * p, axis=0)])   # the n + 1 points of the chain
    # the labels go on the side of each piece away from the dashed origin → Z line
    side_ref = z if np.linalg.norm(z) > 0 else np.array([1.0, 0.0])
    for j in range(n):
        start, end = chain[j], chain[j + 1]
        ax2.annotate("", xy=end, xytext=start,
                     arrowprops=dict(arrowstyle="-|>", color=colors[j], lw=2.2))
        seg = _unit(end - start, fallback=(1.0, 0.0))
        normal = np.array([-seg[1], seg[0]])
        mid = (start + end) / 2
        side = _cross2(side_ref, mid)
        if abs(side) < 1e-12 * max(1.0, float(np.abs(chain).max()) ** 2):   # on the dashed line: alternate
            normal = normal if j % 2 == 0 else -normal
        elif _cross2(side_ref, normal) * side < 0:
            normal = -normal
        ax2.annotate(f"α_{j + 1}·{labels[j]}", mid, textcoords="offset points", xytext=tuple(12 * normal),
                     ha="left" if normal[0] >= -0.3 else "right", va="bottom" if normal[1] >= -0.3 else "top",
                     fontsize=MIN_FONT_PT, color=colors[j])
    ax2.annotate("", xy=z, xytext=(0, 0),
                 arrowprops=dict(arrowstyle="-|>", color="black", lw=1.5, linestyle="--"))
    ax2.scatter(*z, s=90, color="black", marker="*", zorder=4)
    z_dir = _unit(z, fallback=(1.0, 0.0))
    z_off = np.array([z_dir[1], -z_dir[0]])                     # perpendicular to the dashed line ...
    last_mid = (chain[-2] + chain[-1]) / 2                       # ... on the side away from the last piece
    if np.dot(z_off, last_mid - z) > 0:
        z_off = -z_off
    ax2.annotate("Z", z, textcoords="offset points", xytext=tuple(14 * z_off),
                 ha="left" if z_off[0] >= -0.3 else "right", va="bottom" if z_off[1] >= -0.3 else "top",
                 fontsize=max(11, MIN_FONT_PT), fontweight="bold")
    ax2.set_title("把 α_j·V_j 首尾相接，终点就是 Z")

    # each panel: bounding box of what it draws + padding (left 30 % for the two-line labels, right 20 %)
    for ax, pts, frac in ((ax1, np.vstack([p, z[None, :], np.zeros((1, 2))]), 0.3), (ax2, chain, 0.2)):
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        span = max(float((hi - lo).max()), 1e-9)
        pad = frac * np.maximum(hi - lo, 0.25 * span)
        ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
        ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
        ax.set_xlabel(f"第 {d0 + 1} 个分量")
        ax.set_ylabel(f"第 {d1 + 1} 个分量")
        ax.axhline(0, color="#bbbbbb", linewidth=0.8, zorder=0)
        ax.axvline(0, color="#bbbbbb", linewidth=0.8, zorder=0)
        ax.set_aspect("equal", adjustable="box")
        ax.spines[["top", "right"]].set_visible(False)
    ax1.legend(loc="lower right", fontsize=MIN_FONT_PT, frameon=False)
    if title:
        fig.suptitle(title)
    return fig


def _cross2(a, b) -> float:
    """z-component of the cross product of two 2-D vectors (> 0: b lies to the left of a)."""
    return float(a[0] * b[1] - a[1] * b[0])


def _unit(v, fallback):
    """``v`` scaled to length 1 (``fallback`` normalised when ``v`` is zero)."""
    v = np.asarray(v, dtype=float)
    n = np.linalg.norm(v)
    if n == 0:
        v = np.asarray(fallback, dtype=float)
        n = np.linalg.norm(v)
    return v / n


def _vec_str(v, digits=3) -> str:
    return "(" + ", ".join(f"{float(x):.{digits}f}" for x in v) + ")"


def value_line_figure(value, weight_rows, *, row_labels=None, value_labels=None, dim=0, title=None):
    """Weighted averages of value vectors that lie on one straight line.

    When all rows of ``value`` lie on one line (as in the source chapter's example,
    where each row is the previous one plus (3, 3, 3)), every weighted average
    ``Z = α V`` lies on that line too, so one component locates it.  The figure
    draws the line with the value vectors on top, a dashed marker for the mean of
    V, and one row of the figure per weight row with its output Z as a star.

    Parameters
    ----------
    value : array_like, shape (n_k, d_v)
        Value vectors; must be collinear and not all equal in component ``dim``.
    weight_rows : array_like, shape (n_rows, n_k) or (n_k,)
        Weight rows (each non-negative, summing to 1).
    row_labels : sequence of str, optional
        One name per weight row (default "α 第 1 行", ...).
    value_labels : sequence of str, optional
        Names of the value rows (default V_1, V_2, ...).
    dim : int, default 0
        Which component of the vectors is used as the horizontal axis.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .plots import MIN_FONT_PT, _subplots  # here, so that the trace functions stay NumPy-only

    v = _att._as_real_array(value, "value")
    w = _att._as_real_array(weight_rows, "weight_rows")
    if w.ndim == 1:
        w = w[None, :]
    if v.ndim != 2 or v.shape[0] < 2:
        raise ValueError(f"value must have shape (n_k, d_v) with n_k >= 2; got shape {_att._shape(v)}")
    if w.ndim != 2 or w.shape[1] != v.shape[0] or w.shape[0] == 0:
        raise ValueError(
            f"weight_rows must have shape (n_rows, n_k) with n_k = {v.shape[0]} rows of value; got shape {_att._shape(w)}"
        )
    _v.check_distributions(w, "weight_rows")
    dim = _v.check_int(dim, "dim", low=0, high=v.shape[1] - 1)   # a component index of value
    direction = v[-1] - v[0]
    if abs(direction[dim]) < 1e-12:
        raise ValueError(f"component {dim} is the same for the first and last value rows; choose another dim")
    t = (v[:, dim] - v[0, dim]) / direction[dim]
    if not np.allclose(v, v[0] + t[:, None] * direction[None, :], atol=1e-9):
        raise ValueError("the rows of value do not lie on one straight line; use weighted_sum_figure instead")
    n_rows, n_k = w.shape
    labels = ([f"V_{j + 1}" for j in range(n_k)] if value_labels is None
              else _v.check_labels(value_labels, n_k, "value_labels"))
    rlabels = ([f"α 第 {r + 1} 行" for r in range(n_rows)] if row_labels is None
               else _v.check_labels(row_labels, n_rows, "row_labels"))

    z = w @ v
    mean = v.mean(axis=0)
    xs, zx, mx = v[:, dim], z[:, dim], mean[dim]
    fig, ax = _subplots(figsize=(9.5, 1.5 + 0.75 * n_rows), layout="constrained")
    lo, hi = float(xs.min()), float(xs.max())
    span = hi - lo
    colors = [_COLORS[j % len(_COLORS)] for j in range(n_k)]
    ax.plot([lo, hi], [0, 0], color="#999999", linewidth=2, zorder=1)
    for j in range(n_k):
        ax.scatter(xs[j], 0, s=160, color=colors[j], zorder=3)
        ax.annotate(f"{labels[j]}\n{_vec_str(v[j], 1)}", (xs[j], 0), textcoords="offset points", xytext=(0, 10),
                    ha="center", va="bottom", fontsize=MIN_FONT_PT, color=colors[j])
    y_bottom = -n_rows - 0.6
    ax.plot([mx, mx], [y_bottom, 0.0], color="#555555", linestyle="--", linewidth=1.2, zorder=0)
    ax.annotate(f"V 的平均 {_vec_str(mean, 1)}", (mx, y_bottom), textcoords="offset points", xytext=(0, -4),
                ha="center", va="top", fontsize=MIN_FONT_PT, color="#555555")
    for r in range(n_rows):
        y = -(r + 1)
        ax.plot([lo, hi], [y, y], color="#e5e5e5", linewidth=1, zorder=0)
        ax.plot([zx[r], zx[r]], [y, 0], color="black", linestyle=":", linewidth=1, zorder=1)
        ax.scatter(zx[r], y, s=150, marker="*", color="black", zorder=4)
        ax.annotate(f"{rlabels[r]}：α = {_vec_str(w[r])} → Z = {_vec_str(z[r])}", (lo, y),
                    textcoords="offset points", xytext=(0, 7), ha="left", va="bottom", fontsize=MIN_FONT_PT,
                    bbox=dict(facecolor="white", edgecolor="none", pad=1.0), zorder=5)
    ax.set_xlim(lo - 0.06 * span, hi + 0.06 * span)
    ax.set_ylim(y_bottom - 0.45, 0.9)
    ax.set_yticks([])
    ax.set_xlabel(f"第 {dim + 1} 个分量（值向量排在一条直线上，一个分量就能定位）")
    ax.spines[["top", "right", "left"]].set_visible(False)
    if title:
        ax.set_title(title)
    return fig


# ---------------------------------------------------------------------------
# chapter 06: the source chapter's sequence diagram, traced with real arrays
# ---------------------------------------------------------------------------

def trace_self_attention(x, w_q, w_k, w_v, query_index, tokens=None):
    """Run self-attention for one query token and record every step.

    The steps follow the source chapter's sequence diagram (输入 → 生成 Q,K,V →
    打分 → Softmax → 加权求和 → 输出), numbered 1–10.

    Parameters
    ----------
    x : array_like, shape (n, d_model)
    w_q, w_k : array_like, shape (d_model, d_k)
    w_v : array_like, shape (d_model, d_v)
    query_index : int
        Row of the query token (negative indices count from the end).
    tokens : sequence of str, optional
        Token names (used in the step descriptions).

    Returns
    -------
    list of dict
        One dict per step with keys ``"step"`` (1-based), ``"sender"``,
        ``"receiver"`` (indices into :data:`PARTICIPANTS`), ``"what"`` (short
        Chinese description), ``"formula"``, ``"name"``, ``"value"`` (the array)
        and ``"shape"`` (string like ``"(20, 8)"``).  The final Z_i equals row
        ``query_index`` of :func:`helpers.self_attention`.
    """
    xa = _att._as_real_array(x, "x")
    _v.check_ndim(xa, "x", 2, "(n_tokens, d_model)")
    n = xa.shape[0]
    i = _att._check_index(query_index, n, "query_index", "tokens")
    tokens = ([f"x{j + 1}" for j in range(n)] if tokens is None
              else _v.check_tokens_for(tokens, n, f"x of shape {_att._shape(xa)}", "row"))
    tok = tokens[i]

    q_all, k_all, v_all = _att.project_qkv(xa, w_q, w_k, w_v)
    d_k = k_all.shape[-1]
    q_i = q_all[i]
    _, scaled, alpha, z_i = _att._one_query_steps(q_i[None, :], k_all, v_all)

    rows = [
        (0, 1, f"整句输入交给投影（「{tok}」是第 {i + 1} 行）", "X", "X", xa),
        (1, 2, f"「{tok}」的查询向量", "Q_i = X_i W_Q", "Q_i", q_i),
        (1, 2, "所有词的键向量", "K = X W_K", "K", k_all),
        (2, 2, "与每个键做点积，再缩放", f"Q_i Kᵀ / √{d_k}", "scores_i", scaled),
        (2, 3, "未归一化的分数", "scores_i", "scores_i", scaled),
        (3, 3, "softmax：变成和为 1 的权重", "α_i = softmax(scores_i)", "α_i", alpha),
        (3, 4, "注意力权重", "α_i", "α_i", alpha),
        (1, 4, "所有词的值向量", "V = X W_V", "V", v_all),
        (4, 4, "按权重把值向量加起来", "Z_i = Σ_j α_ij V_j", "Z_i", z_i),
        (4, 5, f"「{tok}」的新表示", "Z_i", "Z_i", z_i),
    ]
    steps = []
    for s, (a, b, what, formula, name, value) in enumerate(rows, start=1):
        steps.append({"step": s, "sender": a, "receiver": b, "what": what, "formula": formula,
                      "name": name, "value": value, "shape": _att._shape(value)})
    return steps


def trace_markdown(steps) -> str:
    """The steps of :func:`trace_self_attention` as a Markdown table (编号 | 从 → 到 | 内容 | 公式 | 形状).

    Parameters
    ----------
    steps : list of dict
        What :func:`trace_self_attention` returned.

    Returns
    -------
    str
        Markdown (show it with ``IPython.display.Markdown``).
    """
    if not isinstance(steps, (list, tuple)) or not steps:
        raise ValueError("steps must be the non-empty list returned by trace_self_attention")
    lines = ["| 编号 | 从 → 到 | 内容 | 公式 | 形状 |", "|---|---|---|---|---|"]
    for st in steps:
        try:
            a, b = PARTICIPANTS[st["sender"]], PARTICIPANTS[st["receiver"]]
            lines.append(f"| {st['step']} | {a} → {b} | {_markdown_text(st['what'])} | `{st['formula']}` | "
                         f"`{st['shape']}` |")
        except (KeyError, TypeError, IndexError):
            raise ValueError(f"not a step of trace_self_attention: {st!r}") from None
    return "\n".join(lines)


def _markdown_text(text) -> str:
    """``text`` (a step's description, which holds the token) as literal Markdown table-cell text:
    ASCII punctuation is backslash-escaped (``|`` would open a new column, `` ` * _ $ < `` change the
    formatting) and line breaks or other control characters are written as escapes (``\\n``)."""
    out = []
    for ch in str(text):
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):          # \n, \r, \t, U+2028 …: would end the row
            out.append(ch.encode("unicode_escape").decode("ascii").replace("\\", "\\\\"))
        elif ch in string.punctuation:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def sequence_figure(steps, *, title=None):
    """Draw the traced steps as a numbered sequence diagram.

    Participants (:data:`PARTICIPANTS`) are columns with vertical lifelines;
    each step is an arrow from sender to receiver (a loop arrow when they are
    the same) labelled ``编号 · 公式  形状``.

    Parameters
    ----------
    steps : list of dict
        What :func:`trace_self_attention` returned.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .plots import MIN_FONT_PT, _subplots  # here, so that the trace functions stay NumPy-only
    from matplotlib.patches import FancyBboxPatch

    trace_markdown(steps)  # validates
    n_p, n_s = len(PARTICIPANTS), len(steps)
    fig, ax = _subplots(figsize=(11.5, 0.62 * n_s + 1.9), layout="constrained")
    xs = np.arange(n_p) * 2.0
    top, bottom = 0.0, -(n_s + 0.6)
    for x, name in zip(xs, PARTICIPANTS):
        ax.plot([x, x], [bottom, top - 0.2], color="#bbbbbb", linewidth=1.2, linestyle="--", zorder=0)
        ax.add_patch(FancyBboxPatch((x - 0.8, top - 0.1), 1.6, 0.7, boxstyle="round,pad=0.05",
                                    facecolor="#deebf7", edgecolor="#2171b5"))
        ax.text(x, top + 0.25, name, ha="center", va="center", fontsize=MIN_FONT_PT)
    for k, st in enumerate(steps):
        y = -(k + 0.9)
        xa_, xb_ = xs[st["sender"]], xs[st["receiver"]]
        label = f"{st['step']}  {st['formula']}   {st['shape']}"
        if st["sender"] == st["receiver"]:
            ax.annotate("", xy=(xa_ + 0.05, y - 0.25), xytext=(xa_ + 0.05, y + 0.1),
                        arrowprops=dict(arrowstyle="-|>", color="#cb181d", lw=1.5,
                                        connectionstyle="arc3,rad=-1.2"))
            ax.text(xa_ + 0.45, y - 0.05, label, ha="left", va="center", fontsize=MIN_FONT_PT,
                    bbox=dict(facecolor="white", edgecolor="none", pad=0.5))
        else:
            ax.annotate("", xy=(xb_, y), xytext=(xa_, y),
                        arrowprops=dict(arrowstyle="-|>", color="#cb181d", lw=1.5))
            ax.text((xa_ + xb_) / 2, y + 0.12, label, ha="center", va="bottom", fontsize=MIN_FONT_PT,
                    bbox=dict(facecolor="white", edgecolor="none", pad=0.5))
    ax.set_xlim(xs[0] - 1.0, xs[-1] + 1.0)
    ax.set_ylim(bottom, top + 0.8)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig
