"""Static figures of chapter 09 (多头注意力): every head side by side, and the √d_head vs √d_model comparison.

:func:`heads_grid_figure` is also the static twin of the live multi-head panel
(``helpers.widgets.multihead_panel``): the same heads, the same shared colour
scale (0–1), the query row outlined and written out in numbers.
"""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.patches import Rectangle
from matplotlib.transforms import Bbox

from . import plots
from . import validation as _v

__all__ = ["heads_grid_figure", "scaling_figure"]


def _check_grid_inputs(weights, tokens, query, selected, mask, ncols, title, head_names):
    """The arguments of :func:`heads_grid_figure`, checked (each error names its parameter)."""
    w = _v.as_real_array(weights, "weights")
    if w.ndim != 3 or w.size == 0 or w.shape[1] != w.shape[2]:
        raise ValueError(f"weights must be a non-empty (h, n, n) array of per-head attention weights; "
                         f"got shape {_v.shape_str(w)}")
    w = _v.check_weight_rows(w, "weights")
    n_heads, n, _ = w.shape
    tokens = _v.check_tokens_for(tokens, n, f"weights of shape {w.shape}", "row")
    if query is not None:
        query = _v.check_index(query, n, "query", "tokens")
    if selected is not None:
        selected = _v.check_index(selected, n_heads, "selected", "heads")
    if mask is not None:
        mask = np.broadcast_to(_v.as_mask(mask, (n, n), what="weights"), (n, n))
    ncols = min(_v.check_positive_int(ncols, "ncols"), n_heads)
    if title is not None:
        _v.check_text(title, "title", allow_empty=True)
    names = ([f"头 {i + 1}" for i in range(n_heads)] if head_names is None
             else _v.check_labels(head_names, n_heads, "head_names"))
    return w, tokens, query, selected, mask, ncols, names


def heads_grid_figure(weights, tokens, *, query=None, selected=None, mask=None, ncols: int = 2,
                      title=None, head_names=None, row_table: bool = False):
    """All heads' attention weights as small heatmaps sharing one colour scale (0–1).

    Parameters
    ----------
    weights : array_like, shape (h, n, n)
        Per-head weights α of one sequence (rows = queries, columns = keys).
    tokens : sequence of str
        The n tokens (both axes).
    query : int, optional
        Query row outlined in every head, with its weights written in the cells.
    selected : int, optional
        Head drawn with a thick frame and "（选中）" in its title.
    mask : bool array broadcastable to (n, n), optional
        True = may attend; blocked cells are grey and hatched.
    ncols : int, default 2
        Heads per figure row (two rows of two keep 12-token labels readable).
    title : str, optional
    head_names : sequence of str, optional
        Titles of the heads (default 头 1 … 头 h).
    row_table : bool, default False
        The live panel's layout (``helpers.widgets.multihead_panel``, tab "所有头"): the heads'
        heatmaps smaller and without numbers, and to their right the query's row in every head
        as one (h, n) table with its weights written out (the selected head's row outlined)
        and the colour bar.  Needs ``query`` and at most 12 tokens.

    Returns
    -------
    matplotlib.figure.Figure
    """
    w, tokens, query, selected, mask, ncols, names = _check_grid_inputs(
        weights, tokens, query, selected, mask, ncols, title, head_names)
    row_table = _v.check_bool(row_table, "row_table")
    if row_table and query is None:
        raise ValueError("row_table=True writes out the query's row of every head: give query (a token index)")
    n_heads, n, _ = w.shape
    if row_table and n > 12:
        raise ValueError(f"row_table=True lays out at most 12 tokens (their labels and numbers at MIN_FONT_PT); "
                         f"got {n}: use row_table=False (the numbers are written into each head's query row)")
    nrows = -(-n_heads // ncols)
    # fixed layout in inches (constrained layout would re-measure every label several times, which
    # is slow with CJK text); the figure stays ≤ 11 in wide (1100 px = JupyterLab's output width)
    if row_table:   # the panel's layout, ≤ 6.5 in (650 px) tall: it fits a 1280×720 slide
        side, left, right, gap_w = 2.1, 1.05, 0.0, 0.15   # 12 token labels at MIN_FONT_PT fit 2.1 in
        top, bottom, gap_h = 0.4 + (0.45 if title else 0), 0.95, 0.4
        table_left, table_right = 0.7, 0.3                 # head names; the colour bar goes under the table
        grid_w = left + ncols * side + (ncols - 1) * gap_w
        cell = min((11.0 - grid_w - table_left - table_right) / n, 0.45)
        width = grid_w + table_left + n * cell + table_right
    else:
        side = min(0.6 * n, 3.9)
        left, right, gap_w = 1.25, 1.35, 0.2
        top, bottom, gap_h = 0.45 + (0.35 if title else 0), 1.15, 0.5
        width = left + ncols * side + (ncols - 1) * gap_w + right
    height = top + nrows * side + (nrows - 1) * gap_h + bottom
    fig, axes = plots._subplots(nrows, ncols, figsize=(width, height), squeeze=False)
    for i, ax in enumerate(axes.flat):
        r, c = divmod(i, ncols)
        x0 = left + c * (side + gap_w)
        y0 = bottom + (nrows - 1 - r) * (side + gap_h)
        ax.set_position([x0 / width, y0 / height, side / width, side / height])
    cmap = plots._get_cmap(None, plots.WEIGHTS_CMAP)
    norm = mcolors.Normalize(0.0, 1.0)
    for i, ax in enumerate(axes.flat):
        if i >= n_heads:
            ax.set_axis_off()
            continue
        label = names[i] + ("（选中）" if i == selected else "")
        plots.attention_heatmap(w[i], tokens, tokens, ax=ax, annotate=False, mask=mask, highlight_row=query,
                                title=label, colorbar=False,
                                xlabel=plots.KEY_AXIS_LABEL if i // ncols == nrows - 1 else "",
                                ylabel=plots.QUERY_AXIS_LABEL if i % ncols == 0 else "")
        # shared axes: token names on the left column's rows and the bottom row's columns only
        if i % ncols:
            ax.set_yticklabels([])
        if i // ncols != nrows - 1 and i + ncols < n_heads:
            ax.set_xticklabels([])
        if query is not None and not row_table:
            _write_row(ax, w[i, query], query, None if mask is None else ~mask[query], cmap, norm)
        if selected is not None:        # room for the selected head's frame between token labels and axis label
            if i % ncols == 0:
                ax.yaxis.labelpad += 10
            if i // ncols == nrows - 1:
                ax.xaxis.labelpad += 8
        if i == selected:
            _frame_subplot(ax)
            ax.title.set_fontweight("bold")
    grid_h = nrows * side + (nrows - 1) * gap_h
    if row_table:
        # the query's row in every head, one table; its top aligned with the first row of heads
        x0, t_h = grid_w + table_left, n_heads * cell
        y0 = bottom + grid_h - t_h
        tax = fig.add_axes([x0 / width, y0 / height, n * cell / width, t_h / height])
        rows = w[:, query]
        row_mask = None if mask is None else np.broadcast_to(mask[query], rows.shape)
        plots.attention_heatmap(rows, names, tokens, ax=tax, annotate=False, mask=row_mask, highlight_row=selected,
                                title=f"查询「{plots._plain_text(tokens[query])}」在每个头的权重（橙框：选中的头）"
                                if selected is not None else f"查询「{plots._plain_text(tokens[query])}」在每个头的权重",
                                colorbar=False,
                                xlabel=plots.KEY_AXIS_LABEL, ylabel="")
        for i in range(n_heads):
            _write_row(tax, rows[i], i, None if mask is None else ~mask[query], cmap, norm)
        # horizontal colour bar in the free space under the table (its key tokens and axis label above it)
        cb_w = min(max(0.6 * n * cell, 2.4), n * cell - 0.1)
        cax = fig.add_axes([x0 / width, (y0 - 1.45) / height, cb_w / width, 0.18 / height])
        cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal",
                          ticks=[0.0, 0.25, 0.5, 0.75, 1.0])
    else:
        cax = fig.add_axes([(width - right + 0.3) / width, (bottom + 0.2 * grid_h) / height,
                            0.22 / width, 0.6 * grid_h / height])
        cb = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax)
    cb.set_label(plots.WEIGHT_LABEL)
    cb.outline.set_visible(False)
    if title:
        fig.suptitle(plots._plain_text(title), y=1 - 0.3 / height, va="top")
    return fig


_FRAME_PAD_PX = 6   # margin of the selected head's frame around its heatmap, title and token labels (100 dpi)


def _frame_subplot(ax):
    """Frame a whole subplot (heatmap, title and token labels, with a margin), as the panel frames the selected head.

    A frame on the heatmap's own edges would share its bottom edge with the query row's frame when the
    query is the second-to-last row, so the last row would look framed as a query row too.
    """
    r = ax.figure.canvas.get_renderer()
    boxes = [ax.get_window_extent(r), ax.title.get_window_extent(r)]
    for axis in (ax.xaxis, ax.yaxis):       # the token labels, not the axis label ("查询 (query)")
        shown = axis.label.get_visible()
        axis.label.set_visible(False)
        bb = axis.get_tightbbox(r)
        axis.label.set_visible(shown)
        if bb is not None and bb.width > 0 and bb.height > 0:
            boxes.append(bb)
    pad = _FRAME_PAD_PX * ax.figure.dpi / 100
    box = Bbox.union(boxes).padded(pad).transformed(ax.transAxes.inverted())
    ax.add_patch(Rectangle((box.x0, box.y0), box.width, box.height, transform=ax.transAxes, fill=False,
                           edgecolor=plots.HIGHLIGHT_COLOR, linewidth=3.0, zorder=6, clip_on=False))


def _write_row(ax, values, y, blocked, cmap, norm):
    """Write one row of weights into its cells (two decimals without the leading 0; blocked cells stay empty)."""
    rgba = cmap(norm(values))
    for j, v in enumerate(values):
        if blocked is not None and blocked[j]:
            continue
        # ".995" and above would print as "1.00", four glyphs wider than a cell: write "1"
        ax.text(j, y, "1" if v >= 0.995 else f"{v:.2f}".lstrip("0"),
                ha="center", va="center", fontsize=plots.MIN_FONT_PT,
                color=plots.text_color_for(rgba[j]), zorder=5)


def _check_scaling_inputs(rows, tokens, title):
    """``rows`` as ``[(label, weights_row), …]`` (1-D weight rows of one length n) and n ``tokens``."""
    if not isinstance(rows, (list, tuple)) or not rows:
        raise TypeError(f"rows must be a non-empty list of (label, weights_row) pairs, got {rows!r:.40}")
    labels, ws = [], []
    for i, pair in enumerate(rows):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"rows[{i}] must be a (label, weights_row) pair, got {pair!r:.40}")
        labels.append(_v.check_text(pair[0], f"rows[{i}] label", allow_empty=True))
        ws.append(_v.as_float_array(pair[1], f"rows[{i}] weights_row"))
        _v.check_ndim(ws[i], f"rows[{i}] weights_row", 1, "(n_keys,)")
        if len(ws[i]) != len(ws[0]):
            raise ValueError(f"rows[{i}] weights_row has {len(ws[i])} weights but rows[0] has {len(ws[0])}; "
                             f"every panel shows the same keys")
    ws = _v.check_weight_rows(np.stack(ws), "rows' weights")          # (len(rows), n): row i = rows[i]
    if title is not None:
        _v.check_text(title, "title", allow_empty=True)
    n = ws.shape[1]
    return list(zip(labels, ws)), _v.check_tokens_for(tokens, n, f"rows of {n} weights", "key")


def scaling_figure(rows, tokens, *, title=None):
    """One query row of one head under several scalings, one bar chart per scaling (stacked).

    Parameters
    ----------
    rows : sequence of (label, weights_row)
        E.g. ``[("不缩放", w1), ("÷√d_head", w2), ("÷√d_model", w3)]``.
    tokens : sequence of str
        Key labels.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        A dashed line marks the uniform weight 1/n on every panel.
    """
    rows, tokens = _check_scaling_inputs(rows, tokens, title)
    n = len(tokens)
    fig, axes = plots._subplots(len(rows), 1, figsize=(max(6.0, 0.7 * n + 2.2), 2.6 * len(rows) + 0.4),
                                layout="constrained", squeeze=False, sharex=True)
    for ax, (label, w) in zip(axes[:, 0], rows):
        plots.weights_bar(w, tokens, ax=ax, title=label, fmt="{:.2f}",
                          xlabel=plots.KEY_AXIS_LABEL if ax is axes[-1, 0] else "")
        ax.axhline(1.0 / n, color="0.55", linestyle="--", linewidth=1.0, zorder=0.5)   # behind bars and labels
        for t in ax.texts:   # the value labels of weights_bar: keep them readable where they sit on the line
            t.set_bbox(dict(facecolor="white", edgecolor="none", pad=0.6, alpha=0.9))
        ax.text(n - 0.5, 1.05, f"虚线：均匀分布 1/n = {1.0 / n:.2f}", ha="right", va="top",
                fontsize=plots.MIN_FONT_PT, color="0.25")
    if title:
        fig.suptitle(plots._plain_text(title))
    return fig
