"""Static matplotlib figures for the self-attention course (自注意力机制).

Every public function

* calls :func:`helpers.fonts.setup_cjk_font` so Chinese labels render,
* creates its figure with ``plt.subplots`` (so the inline backend shows it),
  unless an ``ax`` is passed in, and
* returns the :class:`matplotlib.figure.Figure`.

In a notebook always assign the result (``fig = plots.attention_heatmap(...)``)
so that no ``<Figure size ...>`` text is printed.

Conventions shared with the live panels in :mod:`helpers.widgets`:

* rows = queries (查询), columns = keys (键), token labels on both axes;
* attention weights use :data:`WEIGHTS_CMAP` with the fixed range 0–1;
* unbounded values (scores, Q/K/V entries) use :data:`DIVERGING_CMAP`,
  symmetric around 0;
* masked (blocked) cells are light grey with a hatch;
* a highlighted query row gets an orange outline (:data:`HIGHLIGHT_COLOR`);
* value annotations are switched off automatically when a side has more than
  :data:`ANNOTATE_MAX` cells; their colour is black on light cells and white
  on dark cells.

Public functions
----------------
attention_heatmap, matrix_heatmap, weights_bar, step_strip,
dot_product_histogram, matrix_grid, qkv_grids, text_color_for, luminance
(random dot products are sampled by :func:`helpers.analysis.sample_dot_products`)
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from . import attention as _att
from . import validation as _v
from .analysis import sample_dot_products
from .fonts import setup_cjk_font

__all__ = [
    "WEIGHTS_CMAP",
    "DIVERGING_CMAP",
    "MASK_COLOR",
    "MASK_HATCH_COLOR",
    "HIGHLIGHT_COLOR",
    "ANNOTATE_MAX",
    "attention_heatmap",
    "matrix_heatmap",
    "weights_bar",
    "step_strip",
    "dot_product_histogram",
    "matrix_grid",
    "qkv_grids",
    "text_color_for",
    "luminance",
]

#: Colour map for attention weights α (fixed range 0–1): darker blue = more attention.
WEIGHTS_CMAP = "Blues"
#: Colour map for unbounded values (scores, Q/K/V entries), centred on 0.
DIVERGING_CMAP = "RdBu_r"
#: Fill and hatch colour of masked (blocked) cells.
MASK_COLOR = "#e0e0e0"
MASK_HATCH_COLOR = "#9e9e9e"
#: Outline colour of a highlighted query row.
HIGHLIGHT_COLOR = "#ff7f0e"
#: Outline colour of a highlighted key column (dashed).
HIGHLIGHT_COL_COLOR = "#2ca02c"
#: Annotations are drawn automatically only when both sides have at most this many cells.
ANNOTATE_MAX = 12
#: Colour for bars/lines that do not encode a value.
ACCENT_COLOR = "#2171b5"
ACCENT_COLOR_2 = "#cb181d"
#: Smallest font size (pt) of any text in a course figure.  Inline PNGs are 100 dpi, so a digit at
#: 10.5 pt is 0.729 * 10.5 * 100 / 72 = 10.6 px tall when JupyterLab shows the image unscaled (at most
#: 1100 px wide at a 1280-px window); wider figures need more (``tools/figure_text_check.py`` measures).
MIN_FONT_PT = 10.5

QUERY_AXIS_LABEL = "查询 (query)"
KEY_AXIS_LABEL = "键 (key)"
WEIGHT_LABEL = "注意力权重 α"
SCORE_LABEL = "分数 (score)"
VALUE_LABEL = "数值"


# ---------------------------------------------------------------------------
# small utilities (also used by helpers.widgets)
# ---------------------------------------------------------------------------

def luminance(rgba) -> float:
    """Relative luminance (WCAG) of an RGB(A) colour with channels in 0–1.

    Parameters
    ----------
    rgba : colour
        Anything :func:`matplotlib.colors.to_rgb` accepts (tuple, name, hex string).

    Returns
    -------
    float
        0 for black, 1 for white.
    """
    try:
        r, g, b = (float(c) for c in mcolors.to_rgb(rgba))
        if not all(0.0 <= c <= 1.0 for c in (r, g, b)):  # NaN passes matplotlib's own range check
            raise ValueError("a channel is NaN")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"rgba must be a colour: an (r, g, b[, a]) tuple with channels in 0–1, a name or "
                         f"a hex string; got {rgba!r:.60} ({exc})") from None

    def lin(c):
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def text_color_for(rgba) -> str:
    """``"white"`` on dark colours, ``"black"`` on light ones (best WCAG contrast).

    Parameters
    ----------
    rgba : colour
        Background colour of the cell (see :func:`luminance`).

    Returns
    -------
    str
        ``"black"`` or ``"white"``.
    """
    lum = luminance(rgba)
    # contrast with black: (L + .05) / .05 ; with white: 1.05 / (L + .05)
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"


def _get_cmap(cmap, default):
    if cmap is None:
        cmap = default
    if isinstance(cmap, str):
        try:
            return matplotlib.colormaps[cmap]
        except KeyError:
            raise ValueError(f"unknown colour map {cmap!r}") from None
    if isinstance(cmap, mcolors.Colormap):
        return cmap
    raise TypeError(f"cmap must be a colour-map name or a matplotlib Colormap, got {type(cmap).__name__}")


#: Largest |value| a colour scale can span (matplotlib's norms and colorbars overflow near ±1e308).
COLOUR_MAX_ABS = 1e300


def _as_matrix(x, name: str, allow_vector: bool = True, allow_neg_inf: bool = False) -> np.ndarray:
    """A matrix to draw: real numbers (booleans drawn as 0/1), no NaN or inf (``-inf`` only where
    it means a masked score: ``allow_neg_inf``), no value beyond ±1e300 (colour limits are computed
    from differences)."""
    if isinstance(x, np.ndarray) and x.dtype.kind == "b":
        x = x.astype(float)
    arr = _v.as_real_array(x, name, allow_neg_inf=allow_neg_inf, multiplied=False).astype(np.float64)
    if arr.ndim == 1 and allow_vector:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix (rows, cols); got shape {tuple(arr.shape)}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: shape {tuple(arr.shape)}")
    finite = arr[np.isfinite(arr)]
    if finite.size and float(np.abs(finite).max()) > COLOUR_MAX_ABS:
        raise ValueError(f"{name} has values beyond ±1e300 (max |value| {np.abs(finite).max():.3g}); "
                         f"they cannot be given a colour scale")
    return arr.astype(float, copy=False)


def _labels(labels, n: int, name: str, default_prefix: str, matrix: str = "the matrix"):
    """``n`` labels for one axis of ``matrix`` (how messages name the drawn array), default prefix0 …"""
    if labels is None:
        return [f"{default_prefix}{i}" for i in range(n)]
    if (isinstance(labels, (list, tuple, range)) or isinstance(labels, np.ndarray) and labels.ndim == 1) \
            and len(labels) != n:
        raise ValueError(f"{name} has {len(labels)} entries but {matrix} has {n} along that axis")
    return _v.check_labels(labels, n, name)  # the one label rule: str or numbers, in any 1-D sequence


def _plain_text(text) -> str:
    """``text`` as matplotlib should draw it: literally.  Matplotlib reads ``$…$`` as mathtext, so a
    label "$x$" lost its dollar signs and "$\\frac$" failed only when the figure was drawn; every
    figure function passes the caller's labels and titles through here (``$`` → ``\\$``)."""
    return str(text).replace("$", r"\$")


def _vertical_col_labels(col_labels) -> bool:
    """Turn the column labels vertical when there are many of them or they are long (figures and HTML)."""
    return len(col_labels) > 8 or max(len(t) for t in col_labels) * len(col_labels) > 28


def _check_annotate(annotate, n_rows: int, n_cols: int) -> bool:
    if isinstance(annotate, str):
        if annotate != "auto":
            raise ValueError(f"annotate must be True, False or 'auto', got {annotate!r}")
        return max(n_rows, n_cols) <= ANNOTATE_MAX
    return _v.check_bool(annotate, "annotate")


def _setup_font() -> str:
    """Chinese labels with per-glyph fallback (:func:`helpers.fonts.setup_cjk_font`); no text under MIN_FONT_PT."""
    if matplotlib.rcParams["font.size"] < MIN_FONT_PT:
        matplotlib.rcParams["font.size"] = MIN_FONT_PT
    return setup_cjk_font()


def _subplots(*args, **kwargs):
    """``plt.subplots`` with the CJK font set up first.

    Every figure of plots, chapter_plots, walkthrough and widgets is created here,
    so none of them can forget the font.
    """
    _setup_font()
    return plt.subplots(*args, **kwargs)


def _new_axes(ax, figsize):
    if ax is None:
        fig, ax = _subplots(figsize=figsize, layout="constrained")
    else:
        _setup_font()
        fig = ax.figure
    return fig, ax


def _colorbar(fig, mappable, ax, label, **kwargs):
    """The course's colorbar: labelled, no outline; ``kwargs`` go to ``fig.colorbar``."""
    cb = fig.colorbar(mappable, ax=ax, **kwargs)
    cb.set_label(_plain_text(label))
    cb.outline.set_visible(False)
    return cb


def _heatmap_size(n_rows: int, n_cols: int, colorbar: bool = True):
    cell = 0.62 if max(n_rows, n_cols) <= ANNOTATE_MAX else max(0.12, 7.0 / max(n_rows, n_cols))
    w = n_cols * cell + 1.6 + (1.1 if colorbar else 0)
    h = n_rows * cell + 1.5
    return (float(np.clip(w, 3.6, 11.0)), float(np.clip(h, 1.9, 9.5)))


def _fmt_value(v: float, fmt: str | None) -> str:
    s = format(v, fmt) if fmt is not None else f"{v:.2f}"
    if s.startswith("-") and not s.strip("-0.").strip():
        s = s[1:]  # "-0.0" -> "0.0"
    return s


def _set_token_ticks(ax, row_labels, col_labels, *, fontsize=None):
    n_rows, n_cols = len(row_labels), len(col_labels)
    step_r = max(1, int(np.ceil(n_rows / 40)))
    step_c = max(1, int(np.ceil(n_cols / 40)))
    if fontsize is None:
        fontsize = 11 if max(n_rows, n_cols) <= 12 else MIN_FONT_PT
    ax.set_yticks(range(0, n_rows, step_r), [_plain_text(row_labels[i]) for i in range(0, n_rows, step_r)],
                  fontsize=fontsize)
    ax.set_xticks(
        range(0, n_cols, step_c),
        [_plain_text(col_labels[i]) for i in range(0, n_cols, step_c)],
        fontsize=fontsize,
        rotation=90 if _vertical_col_labels(col_labels) else 0,
    )
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _annotate_cells(ax, values, rgba, skip=None, fmt=None, fontsize=None):
    n_rows, n_cols = values.shape
    if fontsize is None:
        fontsize = 11 if max(n_rows, n_cols) <= 8 else MIN_FONT_PT
    for i in range(n_rows):
        for j in range(n_cols):
            if skip is not None and skip[i, j]:
                continue
            ax.text(j, i, _fmt_value(values[i, j], fmt), ha="center", va="center",
                    color=text_color_for(rgba[i, j]), fontsize=fontsize)


def _draw_mask(ax, blocked: np.ndarray):
    ii, jj = np.nonzero(blocked)
    if len(ii) == 0:
        return
    patches = [Rectangle((j - 0.5, i - 0.5), 1, 1) for i, j in zip(ii, jj)]
    coll = PatchCollection(patches, facecolor=MASK_COLOR, edgecolor=MASK_HATCH_COLOR,
                           hatch="///", linewidth=0.0, zorder=2)
    ax.add_collection(coll)


def _draw_highlight(ax, row: int, n_cols: int):
    ax.add_patch(Rectangle((-0.5, row - 0.5), n_cols, 1, fill=False, edgecolor=HIGHLIGHT_COLOR,
                           linewidth=3.0, zorder=4, clip_on=False))


def _draw_highlight_col(ax, col: int, n_rows: int):
    """Dashed outline of one key column (:data:`HIGHLIGHT_COL_COLOR`), under the row outline."""
    ax.add_patch(Rectangle((col - 0.5, -0.5), 1, n_rows, fill=False, edgecolor=HIGHLIGHT_COL_COLOR,
                           linewidth=2.5, linestyle="--", zorder=3.5, clip_on=False))


def _mask_array(mask, shape) -> np.ndarray:
    return np.broadcast_to(_att._as_mask(mask, tuple(shape), what="weights"), shape)


def _check_row(highlight_row, n_rows: int):
    if highlight_row is None:
        return None
    return _att._check_index(highlight_row, n_rows, "highlight_row", "rows")


# ---------------------------------------------------------------------------
# heatmaps
# ---------------------------------------------------------------------------

def _heatmap(M, row_labels, col_labels, *, ax, annotate, mask, highlight_row, title, norm, cmap,
             colorbar_label, fmt, xlabel, ylabel, colorbar, highlight_col=None, matrix_name="the matrix"):
    n_rows, n_cols = M.shape
    row_labels = _labels(row_labels, n_rows, "row_labels", "q", matrix_name)
    col_labels = _labels(col_labels, n_cols, "col_labels", "k", matrix_name)
    blocked = None
    if mask is not None:
        blocked = ~_mask_array(mask, M.shape)
    row = _check_row(highlight_row, n_rows)
    col = None if highlight_col is None else _att._check_index(highlight_col, n_cols, "highlight_col", "columns")
    do_annotate = _check_annotate(annotate, n_rows, n_cols)

    fig, ax = _new_axes(ax, _heatmap_size(n_rows, n_cols, colorbar))
    im = ax.imshow(M, cmap=cmap, norm=norm, aspect="equal", interpolation="nearest")
    if blocked is not None:
        _draw_mask(ax, blocked)
    _set_token_ticks(ax, row_labels, col_labels)
    ax.set_xlabel(_plain_text(xlabel))
    ax.set_ylabel(_plain_text(ylabel))
    if title:
        ax.set_title(_plain_text(title))
    if do_annotate:
        rgba = cmap(norm(M))
        _annotate_cells(ax, M, rgba, skip=blocked, fmt=fmt)
    if col is not None:
        _draw_highlight_col(ax, col, n_rows)
    if row is not None:
        _draw_highlight(ax, row, n_cols)
    if colorbar:
        _colorbar(fig, im, ax, colorbar_label, shrink=0.9 if n_rows > 3 else 1.0, aspect=max(4, min(20, 4 * n_rows)))
    return fig


def attention_heatmap(weights, row_labels, col_labels, *, ax=None, annotate="auto", mask=None,
                      highlight_row=None, title=None, vmin=0.0, vmax=1.0, cmap=None, fmt=None,
                      xlabel=KEY_AXIS_LABEL, ylabel=QUERY_AXIS_LABEL, colorbar=True,
                      colorbar_label=WEIGHT_LABEL, highlight_col=None) -> Figure:
    """Heatmap of attention weights α: rows = queries, columns = keys.

    Parameters
    ----------
    weights : array_like, shape (n_q, n_k) or (n_k,)
        Attention weights (a 1-D row is drawn as a 1 × n_k heatmap).
    row_labels, col_labels : sequence of str or None
        Query tokens (rows) and key tokens (columns).
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.
    annotate : bool or "auto"
        Write each value into its cell; "auto" = only when both sides ≤ 12.
    mask : bool array broadcastable to weights.shape, optional
        ``True`` = may attend; ``False`` cells are drawn grey and hatched.  Their
        weights must be 0 (``ValueError`` otherwise, naming the cell): the hatch
        must not hide the weight of a mask that was drawn but never applied.
    highlight_row : int, optional
        Outline this query row.
    highlight_col : int, optional
        Outline this key column (dashed, :data:`HIGHLIGHT_COL_COLOR`).
    vmin, vmax : float
        Colour range (fixed 0–1 by default so figures are comparable).
    cmap : str or Colormap, optional
        Defaults to :data:`WEIGHTS_CMAP`.
    fmt : str, optional
        Format spec of the annotations (default ``".2f"``).
    xlabel, ylabel, colorbar_label : str
        Axis and colorbar labels.
    colorbar : bool, default True
        ``False`` when several heatmaps share one colorbar.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (the given axes' figure when ``ax``/``axes`` is passed).
    """
    W = _as_matrix(weights, "weights")
    if mask is not None:  # blocked cells are hatched over: they must hold no weight (whatever the colours)
        _v.check_mask_hides_no_weight(W, _att._as_mask(mask, W.shape, what="weights"),
                                      "weights" if np.ndim(weights) == 2 else "weights (drawn as one row)",
                                      weights=True)
    cm = _get_cmap(cmap, WEIGHTS_CMAP)
    vmin, vmax = _v.check_range(vmin, vmax, max_abs=COLOUR_MAX_ABS)
    norm = mcolors.Normalize(vmin=vmin, vmax=vmax, clip=True)
    return _heatmap(W, row_labels, col_labels, ax=ax, annotate=annotate, mask=mask,
                    highlight_row=highlight_row, title=title, norm=norm, cmap=cm,
                    colorbar_label=colorbar_label, fmt=fmt, xlabel=xlabel, ylabel=ylabel,
                    colorbar=colorbar, highlight_col=highlight_col, matrix_name=f"weights {_v.shape_str(W)}")


def _symmetric_norm(M, limit=None):
    if limit is None:
        finite = np.abs(M[np.isfinite(M)])
        limit = float(finite.max()) if finite.size else 1.0
    if limit <= 0:
        limit = 1.0
    return mcolors.Normalize(vmin=-limit, vmax=limit, clip=True)


def matrix_heatmap(M, row_labels=None, col_labels=None, *, ax=None, annotate="auto", title=None,
                   cmap=None, mask=None, highlight_row=None, fmt=None, limit=None,
                   xlabel=KEY_AXIS_LABEL, ylabel=QUERY_AXIS_LABEL, colorbar=True,
                   colorbar_label=SCORE_LABEL) -> Figure:
    """Heatmap of unbounded values (e.g. raw scores Q Kᵀ): diverging colours centred on 0.

    Same layout as :func:`attention_heatmap` (rows = queries, columns = keys);
    the colour range is ``±max|M|`` unless ``limit`` is given.

    Parameters
    ----------
    M : array_like, shape (n_q, n_k) or (n_k,)
        Values to draw; ``±inf`` (e.g. masked scores) are allowed, NaN is not.
    row_labels, col_labels : sequence of str, optional
        Default q0, q1, ... and k0, k1, ...
    limit : float, optional
        Colour range ``±limit`` (share it between figures to compare them).
    ax, annotate, title, cmap, mask, highlight_row, fmt, xlabel, ylabel, colorbar, colorbar_label
        As in :func:`attention_heatmap` (``cmap`` defaults to :data:`DIVERGING_CMAP`).

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (the given axes' figure when ``ax``/``axes`` is passed).
    """
    A = _as_matrix(M, "M", allow_neg_inf=True)   # masked scores (−∞) are drawn as masked
    cm = _get_cmap(cmap, DIVERGING_CMAP)
    return _heatmap(A, row_labels, col_labels, ax=ax, annotate=annotate, mask=mask,
                    highlight_row=highlight_row, title=title, norm=_symmetric_norm(A, limit), cmap=cm,
                    colorbar_label=colorbar_label, fmt=fmt, xlabel=xlabel, ylabel=ylabel,
                    colorbar=colorbar)


# ---------------------------------------------------------------------------
# bars
# ---------------------------------------------------------------------------

def _bar_values(ax, xs, vals, fmt="{:.4f}", fontsize=MIN_FONT_PT):
    off = 0.02 * (np.ptp(np.r_[vals, 0.0]) or 1.0)
    for x, v in zip(xs, vals):
        ax.text(x, v + (off if v >= 0 else -off), fmt.format(v), ha="center",
                va="bottom" if v >= 0 else "top", fontsize=fontsize)


def weights_bar(weights_row, labels, *, ax=None, title=None, cmap=None, annotate=True,
                xlabel=KEY_AXIS_LABEL, ylabel=WEIGHT_LABEL, fmt="{:.4f}") -> Figure:
    """Bar chart of one query's attention weights (y axis fixed to 0–1).

    Bars are coloured with :data:`WEIGHTS_CMAP` like the heatmap cells.

    Parameters
    ----------
    weights_row : array_like, shape (n_k,) or (1, n_k)
        Attention weights, each in [0, 1] (the y axis is fixed to 0–1).
    labels : sequence of str or None
        Key tokens (default k0, k1, ...).
    ax : matplotlib Axes, optional
    title : str, optional
    cmap : str or Colormap, optional
        Defaults to :data:`WEIGHTS_CMAP`.
    annotate : bool, default True
        Write each value above its bar (only when there are at most 16 bars).
    xlabel, ylabel : str
    fmt : str, default "{:.4f}"
        ``str.format`` pattern of the values.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (the given axes' figure when ``ax``/``axes`` is passed).
    """
    w = _as_matrix(weights_row, "weights_row")
    if w.shape[0] != 1:
        raise ValueError(f"weights_row must be one row (n_k,) or (1, n_k); got shape {w.shape}")
    w = w[0]
    _v.check_within(w, "weights_row", 0.0, 1.0, " (attention weights: the y axis is fixed to 0–1)")
    labels = _labels(labels, len(w), "labels", "k", "weights_row")
    fmt = _v.check_format_pattern(fmt, "fmt")
    cm = _get_cmap(cmap, WEIGHTS_CMAP)
    fig, ax = _new_axes(ax, (max(3.6, 0.7 * len(w) + 1.8), 3.0))
    xs = np.arange(len(w))
    ax.bar(xs, w, color=cm(np.clip(w, 0, 1)), edgecolor=cm(1.0), linewidth=1.0)
    ax.set_ylim(0, 1.12)
    ax.set_xticks(xs, [_plain_text(t) for t in labels], rotation=90 if len(w) > 10 else 0)
    ax.set_xlabel(_plain_text(xlabel))
    ax.set_ylabel(_plain_text(ylabel))
    ax.spines[["top", "right"]].set_visible(False)
    if annotate and len(w) <= 16:
        _bar_values(ax, xs, w, fmt=fmt)
    if title:
        ax.set_title(_plain_text(title))
    return fig


def _output_title(query_label: str) -> str:
    """Title of step ④ for one query, shared by :func:`step_strip` and the live vector panel."""
    zname = f"Z{query_label[1:]}" if query_label.startswith("q") else f"Z({query_label})"
    return f"④ 输出  {zname} = Σ α_j·V_j"


def step_strip(query, key, value, *, key_labels=None, query_label=None, d_k=None,
               value_labels=None) -> Figure:
    """One query through the four steps, side by side: scores → scaled → weights → output.

    Parameters
    ----------
    query : array_like, shape (d_k,) or (1, d_k)
    key : array_like, shape (n_k, d_k)
    value : array_like, shape (n_k, d_v)
    key_labels : sequence of str, optional
        Names of the keys (default k1, k2, ...).
    query_label : str, optional
        Name of the query (default "q1").
    d_k : int, optional
        Scaling dimension, defaults to ``query.shape[-1]``.
    value_labels : sequence of str, optional
        Names of the output components (default 分量 1, 分量 2, ...).

    Returns
    -------
    matplotlib.figure.Figure
    """
    q = _as_matrix(query, "query")
    if q.shape[0] != 1:
        raise ValueError(f"step_strip shows one query: query must have shape (d_k,) or (1, d_k); got {q.shape}")
    k = _as_matrix(key, "key", allow_vector=False)
    v = _as_matrix(value, "value", allow_vector=False)
    if d_k is None:
        d_k = q.shape[-1]
    scores, scaled, weights, z = _att._one_query_steps(q, k, v, d_k)
    n_k = len(scores)
    if key_labels is None:
        key_labels = [f"k{j + 1}" for j in range(n_k)]
    key_labels = _labels(key_labels, n_k, "key_labels", "k")
    qname = "q1" if query_label is None else _v.check_text(query_label, "query_label")
    value_labels = _labels(value_labels, len(z), "value_labels", "z") if value_labels is not None else \
        [f"分量 {i + 1}" for i in range(len(z))]

    # 2 × 2 (not 1 × 4): a 12-inch strip is shown shrunk and its numbers fall below 10 px
    fig, axes = _subplots(2, 2, figsize=(8.2, 6.0), layout="constrained")
    axes = axes.ravel()
    xs = np.arange(n_k)
    lim = max(np.abs(scores).max(), 1e-9)
    s_norm = _symmetric_norm(scores, lim)
    dcm = _get_cmap(None, DIVERGING_CMAP)
    wcm = _get_cmap(None, WEIGHTS_CMAP)

    ax = axes[0]
    ax.bar(xs, scores, color=dcm(s_norm(scores)), edgecolor="#444444", linewidth=0.8)
    ax.set_title(_plain_text(f"① 分数  {qname}·k_j"))
    _bar_values(ax, xs, scores)
    ax = axes[1]
    ax.bar(xs, scaled, color=dcm(s_norm(scaled)), edgecolor="#444444", linewidth=0.8)
    ax.set_title(f"② 缩放  ÷√d_k = ÷{np.sqrt(d_k):.3f}")
    _bar_values(ax, xs, scaled)
    top = lim * 1.25
    for a in axes[:2]:
        a.set_ylim(min(0, scores.min() * 1.25), top if scores.max() >= 0 else 0.05 * top)
        a.axhline(0, color="#888888", linewidth=0.8)
    ax = axes[2]
    ax.bar(xs, weights, color=wcm(weights), edgecolor=wcm(1.0), linewidth=1.0)
    ax.set_ylim(0, 1.12)
    ax.set_title("③ softmax → 权重 α")
    _bar_values(ax, xs, weights)
    for a in axes[:3]:
        a.set_xticks(xs, [_plain_text(t) for t in key_labels])
        a.set_xlabel(KEY_AXIS_LABEL)
        a.spines[["top", "right"]].set_visible(False)
    ax = axes[3]
    zs = np.arange(len(z))
    ax.bar(zs, z, color=ACCENT_COLOR_2, alpha=0.85)
    ax.set_title(_plain_text(_output_title(qname)))
    ax.set_xticks(zs, [_plain_text(t) for t in value_labels])
    ax.set_xlabel("输出向量的分量")
    ax.spines[["top", "right"]].set_visible(False)
    zmax = max(np.abs(z).max(), 1e-9)
    ax.set_ylim(min(0, z.min() * 1.2), max(0.05, z.max() * 1.2) if z.max() > 0 else 0.05 * zmax)
    _bar_values(ax, zs, z)
    fig.suptitle(_plain_text(f"查询 {qname} 的四个步骤 (d_k = {d_k})"))
    return fig


# ---------------------------------------------------------------------------
# dot-product histograms
# ---------------------------------------------------------------------------

def dot_product_histogram(d_ks=(1, 16, 64, 512), *, scaled=False, n_samples=4000, seed=0,
                          bins=60, axes=None) -> Figure:
    """Histograms of ``q·k`` for random q, k with N(0, 1) entries, one panel per d_k.

    The panels share their x axis, so the growing spread (standard deviation
    ≈ √d_k) is visible at a glance; with ``scaled=True`` every spread is ≈ 1.

    Parameters
    ----------
    d_ks : int or sequence of int, default (1, 16, 64, 512)
    scaled : bool, default False
        Divide each dot product by √d_k.
    n_samples, seed
        See :func:`helpers.analysis.sample_dot_products`; ``n_samples`` at least 2
        (each panel prints the standard deviation of the samples).
    bins : int, default 60
    axes : sequence of matplotlib Axes, optional
        One per d_k, to draw into an existing figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (the given axes' figure when ``ax``/``axes`` is passed).
    """
    d_ks = _v.as_size_array(d_ks, "d_ks", allow_int=True).tolist()  # one int or a non-empty sequence
    bins = _v.check_positive_int(bins, "bins", max_value=1000)
    n_samples = _v.check_sample_size(n_samples, "n_samples")  # each panel prints a standard deviation
    if axes is None:
        # more than three panels go in two rows, so the figure stays narrow enough to be shown unscaled
        ncols = len(d_ks) if len(d_ks) <= 3 else -(-len(d_ks) // 2)
        nrows = -(-len(d_ks) // ncols)
        fig, grid = _subplots(nrows, ncols, figsize=(3.6 * ncols + 0.6, 2.9 * nrows), sharex=True,
                              sharey=True, layout="constrained", squeeze=False)
        for ax in grid.ravel()[len(d_ks):]:
            ax.set_visible(False)
        axes = grid.ravel()[:len(d_ks)]
        for row in grid:
            row[0].set_ylabel("密度")
    else:
        axes = np.atleast_1d(axes)
        if len(axes) != len(d_ks):
            raise ValueError(f"axes has {len(axes)} entries but d_ks has {len(d_ks)}")
        _setup_font()
        fig = axes[0].figure
    samples = [sample_dot_products(d, n_samples, seed, scaled) for d in d_ks]
    lim = max(float(np.percentile(np.abs(s), 99.5)) for s in samples) * 1.05
    edges = np.linspace(-lim, lim, bins + 1)
    for ax, d, s in zip(axes, d_ks, samples):
        ax.hist(np.clip(s, -lim, lim), bins=edges, color=ACCENT_COLOR_2 if not scaled else ACCENT_COLOR,
                alpha=0.85, density=True)
        ax.set_title(f"d_k = {d}\n标准差 ≈ {s.std():.2f}", fontsize=MIN_FONT_PT)
        ax.axvline(0, color="#888888", linewidth=0.8)
        ax.spines[["top", "right"]].set_visible(False)
        if ax.get_subplotspec() is None or ax.get_subplotspec().is_last_row():
            ax.set_xlabel("q·k / √d_k" if scaled else "q·k")
    if axes[0].get_ylabel() == "":
        axes[0].set_ylabel("密度")
    fig.suptitle("缩放后的点积 q·k/√d_k 的分布" if scaled else "原始点积 q·k 的分布 (未缩放)")
    return fig


# ---------------------------------------------------------------------------
# matrices as grids
# ---------------------------------------------------------------------------

def matrix_grid(M, name, *, row_labels=None, col_labels=None, ax=None, annotate="auto", cmap=None,
                limit=None, fmt=None, colorbar=False) -> Figure:
    """A matrix drawn as a labelled coloured grid, with its shape in the title.

    Rows are labelled with ``row_labels`` (tokens, for X/Q/K/V) and columns
    with their index.  Colours are diverging (:data:`DIVERGING_CMAP`),
    symmetric around 0 (``±limit``, default ``±max|M|``).

    Parameters
    ----------
    M : array_like, shape (n_rows, n_cols) or (n_cols,)
    name : str
        Shown in the title with the shape, e.g. ``"Q  (4 × 3)"``.
    row_labels, col_labels : sequence of str, optional
        Default: the row / column index.
    ax : matplotlib Axes, optional
    annotate : bool or "auto"
    cmap : str or Colormap, optional
    limit : float, optional
    fmt : str, optional
        Format spec of the annotations (default ``".1f"``).
    colorbar : bool, default False

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn into (the given axes' figure when ``ax``/``axes`` is passed).
    """
    A = _as_matrix(M, "M", allow_vector=True)
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    n_rows, n_cols = A.shape
    row_labels = _labels(row_labels, n_rows, "row_labels", "")
    col_labels = _labels(col_labels, n_cols, "col_labels", "")
    cm = _get_cmap(cmap, DIVERGING_CMAP)
    norm = _symmetric_norm(A, limit)
    fig, ax = _new_axes(ax, (max(2.2, 0.5 * n_cols + 1.4), max(1.8, 0.5 * n_rows + 1.2)))
    im = ax.imshow(A, cmap=cm, norm=norm, aspect="equal", interpolation="nearest")
    fs = 11 if max(n_rows, n_cols) <= 8 else MIN_FONT_PT
    _set_token_ticks(ax, row_labels, col_labels, fontsize=fs)
    ax.set_xticks(np.arange(-0.5, n_cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, n_rows, 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.0)
    ax.tick_params(which="minor", length=0)
    if _check_annotate(annotate, n_rows, n_cols):
        _annotate_cells(ax, A, cm(norm(A)), fmt=fmt or ".1f", fontsize=MIN_FONT_PT)
    ax.set_title(_plain_text(f"{name}  ({n_rows} × {n_cols})"))
    if colorbar:
        fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def qkv_grids(X, Q, K, V, tokens, *, W=None, annotate="auto") -> Figure:
    """X (and W_Q) on the first row, Q, K, V on the second: labelled grids, shapes in the titles.

    ``W`` may be an optional ``(W_Q, W_K, W_V)`` tuple; then ``W_Q`` is drawn
    next to X to show ``Q = X W_Q``.  Two rows keep every cell number
    readable (≥ 10 pt at the size JupyterLab shows the figure).

    Parameters
    ----------
    X, Q, K, V : array_like, each (n_tokens, ·)
    tokens : sequence of str
        One label per row of X, Q, K and V.
    W : tuple (W_Q, W_K, W_V), optional
    annotate : bool or "auto"

    Returns
    -------
    matplotlib.figure.Figure
        X, Q, K and V share one colour range (one colorbar); W_Q, whose entries
        are about ten times smaller, has its own range and colorbar so its
        pattern stays visible.
    """
    mats = [("X", _as_matrix(X, "X"))]
    if W is not None:
        if len(W) != 3:
            raise ValueError(f"W must be a tuple (W_Q, W_K, W_V), got {len(W)} items")
        mats.append(("W_Q", _as_matrix(W[0], "W_Q")))
    mats += [("Q", _as_matrix(Q, "Q")), ("K", _as_matrix(K, "K")), ("V", _as_matrix(V, "V"))]
    tokens = _v.check_tokens(tokens)
    n = len(tokens)
    for nm, m in mats:
        if nm != "W_Q" and m.shape[0] != n:
            raise ValueError(f"{nm} has {m.shape[0]} rows (shape {m.shape}) but there are {n} tokens")
    if W is not None and mats[1][1].shape[0] != mats[0][1].shape[1]:
        raise ValueError(f"W_Q shape {mats[1][1].shape} does not match X shape {mats[0][1].shape}")
    acts = [(nm, m) for nm, m in mats if nm != "W_Q"]
    limit = max(float(np.abs(m).max()) for _, m in acts) or 1.0
    top = mats[:2] if W is not None else mats[:1]
    bottom = mats[len(top):]
    cell = 0.4
    h_top = max(m.shape[0] for _, m in top)
    h_bot = max(m.shape[0] for _, m in bottom)
    w_top = sum(m.shape[1] for _, m in top) + 1.4 * len(top) + (1.2 if W is not None else 0)
    w_bot = sum(m.shape[1] for _, m in bottom) + 1.4 * len(bottom)
    width = min(10.0, cell * max(w_top, w_bot) + 1.2)
    _setup_font()
    fig = plt.figure(figsize=(width, cell * (h_top + h_bot) + 3.0), layout="constrained")
    gs = fig.add_gridspec(2, 1, height_ratios=[h_top + 1.6, h_bot + 1.6])
    rows = []
    for g, row in ((gs[0], top), (gs[1], bottom)):
        sub = g.subgridspec(1, len(row), width_ratios=[m.shape[1] for _, m in row])
        rows.append([fig.add_subplot(sub[0, i]) for i in range(len(row))])
    dcm = _get_cmap(None, DIVERGING_CMAP)
    for ax, (nm, m) in zip(rows[0] + rows[1], top + bottom):
        is_w = nm == "W_Q"
        labels = tokens if not is_w else [str(i) for i in range(m.shape[0])]
        matrix_grid(m, nm, row_labels=labels, ax=ax, annotate=annotate, limit=None if is_w else limit)
        ax.set_xlabel("输出分量编号" if is_w else "分量编号", fontsize=MIN_FONT_PT)
        if is_w:
            ax.set_ylabel("输入分量编号", fontsize=MIN_FONT_PT)
            _colorbar(fig, ax.images[0], ax, "W_Q 的数值 (单独色标)", shrink=0.8, aspect=15)
    sm = matplotlib.cm.ScalarMappable(norm=mcolors.Normalize(-limit, limit), cmap=dcm)
    _colorbar(fig, sm, rows[1], "数值 (X、Q、K、V 同一色标)", shrink=0.9, aspect=12)
    rows_note = "X、Q、K、V 每行一个词"
    if W is not None:
        rows_note += "；W_Q 每行一个输入维度"
    fig.suptitle(f"Q = X·W_Q,  K = X·W_K,  V = X·W_V\n({rows_note})")
    return fig