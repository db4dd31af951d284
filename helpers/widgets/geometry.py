"""Panel family 2 — vector geometry of one query and its keys (chapters 02 and 05).

``angle_panel`` (controls ``slider_angle``, ``slider_len_q``, ``slider_len_k``):
two 2-D vectors q and k, their dot product vs. cosine similarity.

``vector_panel`` (controls ``sliders_q``, ``key_select``, ``sliders_k``,
``reset_button``): the source chapter's worked example — one query q1, three
keys, d_k = 3 — with the four steps (scores, ÷√d_k, weights α, output Z1) as
bar charts.  Each has a static ``*_figure`` twin.
"""

from __future__ import annotations

import math

import ipywidgets as W
import numpy as np

from .. import attention as _att
from .. import plots
from .. import tokens as _tok
from .. import validation as _v
from .primitives import (FONT_STACK, bars_svg, row_html, signed_colors, slider, vec_text, weight_colors, Panel)

__all__ = ["angle_panel", "angle_figure", "AnglePanel", "vector_panel", "vector_figure", "VectorPanel"]


# ---------------------------------------------------------------------------
# (2) angle between two 2-D vectors
# ---------------------------------------------------------------------------

#: What the angle sliders allow: θ in whole degrees 0 … 180, lengths 0.5 … 3.
_ANGLE_MAX = 180
_LEN_RANGE = (0.5, 3.0)


def _check_angle_inputs(angle, len_q, len_k):
    """``(angle, len_q, len_k)`` within the sliders' ranges (a value outside is refused, not clipped)."""
    return (_v.check_int(angle, "angle", low=0, high=_ANGLE_MAX),
            _v.check_number_in(len_q, "len_q", *_LEN_RANGE),
            _v.check_number_in(len_k, "len_k", *_LEN_RANGE))


def _angle_values(angle_deg, len_q, len_k, base_deg=20.0):
    a0 = math.radians(base_deg)
    a1 = math.radians(base_deg + angle_deg)
    q = np.array([len_q * math.cos(a0), len_q * math.sin(a0)])
    k = np.array([len_k * math.cos(a1), len_k * math.sin(a1)])
    dot = float(q @ k)
    cos = float(math.cos(math.radians(angle_deg)))
    return q, k, dot, cos


def _arrow_svg(x0, y0, x1, y1, color, label):
    ang = math.atan2(y1 - y0, x1 - x0)
    hl = 10
    p1 = (x1 - hl * math.cos(ang - 0.4), y1 - hl * math.sin(ang - 0.4))
    p2 = (x1 - hl * math.cos(ang + 0.4), y1 - hl * math.sin(ang + 0.4))
    lx, ly = x1 + 14 * math.cos(ang), y1 + 14 * math.sin(ang)
    return (f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="{color}" stroke-width="3"/>'
            f'<polygon points="{x1:.1f},{y1:.1f} {p1[0]:.1f},{p1[1]:.1f} {p2[0]:.1f},{p2[1]:.1f}" fill="{color}"/>'
            f'<text x="{lx:.1f}" y="{ly + 4:.1f}" text-anchor="middle" font-size="14" fill="{color}" '
            f'font-weight="600">{label}</text>')


def _angle_svg(q, k, angle_deg, base_deg=20.0, size=260, rmax=3.0):
    c = size / 2
    s = (size / 2 - 24) / rmax
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
           f'style="font-family:{FONT_STACK};font-size:11px">']
    out.append(f'<line x1="8" x2="{size - 8}" y1="{c}" y2="{c}" stroke="#ccc"/>'
               f'<line y1="8" y2="{size - 8}" x1="{c}" x2="{c}" stroke="#ccc"/>')
    for r in (1, 2, 3):
        out.append(f'<circle cx="{c}" cy="{c}" r="{r * s:.1f}" fill="none" stroke="#f0f0f0"/>')
    # angle arc
    r_arc = 26
    a0, a1 = math.radians(base_deg), math.radians(base_deg + angle_deg)
    x0, y0 = c + r_arc * math.cos(a0), c - r_arc * math.sin(a0)
    x1, y1 = c + r_arc * math.cos(a1), c - r_arc * math.sin(a1)
    large = 1 if angle_deg > 180 else 0
    if angle_deg > 0:
        out.append(f'<path d="M {x0:.1f} {y0:.1f} A {r_arc} {r_arc} 0 {large} 0 {x1:.1f} {y1:.1f}" fill="none" '
                   f'stroke="#666"/>')
    am = math.radians(base_deg + angle_deg / 2)
    out.append(f'<text x="{c + (r_arc + 9) * math.cos(am):.1f}" y="{c - (r_arc + 9) * math.sin(am) + 4:.1f}" '
               f'text-anchor="middle" fill="#444" font-size="12">θ</text>')
    out.append(f'<text x="8" y="16" fill="#444" font-size="12">θ = {angle_deg:.0f}°</text>')
    out.append(_arrow_svg(c, c, c + q[0] * s, c - q[1] * s, plots.ACCENT_COLOR, "q"))
    out.append(_arrow_svg(c, c, c + k[0] * s, c - k[1] * s, plots.ACCENT_COLOR_2, "k"))
    out.append("</svg>")
    return "".join(out)


_ANGLE_DOT_LIM = 9.0


class AnglePanel(Panel):
    """Live panel of :func:`angle_panel`."""

    def __init__(self, angle=60, len_q=2.0, len_k=2.0):
        angle, len_q, len_k = _check_angle_inputs(angle, len_q, len_k)
        self.slider_angle = slider(W.IntSlider, value=angle, min=0, max=_ANGLE_MAX, step=5, description="夹角 θ（度）")
        self.slider_len_q = slider(W.FloatSlider, value=len_q, min=_LEN_RANGE[0], max=_LEN_RANGE[1], step=0.1,
                                   description="|q| 长度")
        self.slider_len_k = slider(W.FloatSlider, value=len_k, min=_LEN_RANGE[0], max=_LEN_RANGE[1], step=0.1,
                                   description="|k| 长度")
        super().__init__("点积 vs 余弦相似度：方向和长度都会影响点积",
                         [self.slider_angle, self.slider_len_q, self.slider_len_k], view_height="270px")
        self._watch(self.slider_angle, self.slider_len_q, self.slider_len_k)
        self.refresh()

    def refresh(self):
        ang, lq, lk = float(self.slider_angle.value), float(self.slider_len_q.value), float(self.slider_len_k.value)
        q, k, dot, cos = _angle_values(ang, lq, lk)
        self.values = {"q": q, "k": k, "dot": dot, "cos": cos, "angle": ang}
        b1 = bars_svg([dot], ["点积 q·k"], vmin=-_ANGLE_DOT_LIM, vmax=_ANGLE_DOT_LIM,
                      colors=[plots.ACCENT_COLOR_2], digits=2, width=150, height=250, title="点积")
        b2 = bars_svg([cos], ["余弦 cos θ"], vmin=-1, vmax=1, colors=[plots.ACCENT_COLOR], digits=3,
                      width=150, height=250, title="余弦相似度")
        self.view.value = row_html(_angle_svg(q, k, ang), b1, b2)
        self.readout.value = (
            f'<div style="font-family:{FONT_STACK}">q = {vec_text(q, 2)}，k = {vec_text(k, 2)}<br>'
            f'点积 q·k = |q|·|k|·cos θ = {lq:.1f} × {lk:.1f} × {cos:.3f} = <b>{dot:.3f}</b>；'
            f'余弦相似度 cos θ = <b>{cos:.3f}</b>（只看方向，与长度无关）</div>')


def angle_panel(*, angle=60, len_q=2.0, len_k=2.0) -> AnglePanel:
    """Two 2-D vectors q and k: sliders for their angle and lengths → dot product vs cosine.

    Parameters
    ----------
    angle : int, default 60
        Start angle θ between q and k in whole degrees (0 … 180).
    len_q, len_k : float, default 2.0
        Start lengths (0.5 … 3).  A value outside a slider's range is refused (``ValueError``).

    Returns
    -------
    AnglePanel
        A displayable widget (make it the last line of a cell); ``slider_angle``, ``slider_len_q``, ``slider_len_k``.
    """
    return AnglePanel(angle, len_q, len_k)


def angle_figure(*, angle=60, len_q=2.0, len_k=2.0):
    """Static default state of :func:`angle_panel`: the two arrows and the two numbers.

    Parameters
    ----------
    angle, len_q, len_k
        As in :func:`angle_panel`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    angle, len_q, len_k = _check_angle_inputs(angle, len_q, len_k)
    q, k, dot, cos = _angle_values(angle, len_q, len_k)
    fig, (ax, ax_dot, ax_cos) = plots._subplots(1, 3, figsize=(8.0, 3.6), layout="constrained",
                                                gridspec_kw={"width_ratios": [2.2, 1, 1]})
    for vec, col, name in ((q, plots.ACCENT_COLOR, "q"), (k, plots.ACCENT_COLOR_2, "k")):
        ax.annotate("", xy=vec, xytext=(0, 0), arrowprops=dict(arrowstyle="-|>", color=col, lw=2.5))
        ax.text(*(vec * 1.12), name, color=col, fontsize=14, ha="center", va="center", fontweight="bold")
    t = np.linspace(math.radians(20), math.radians(20 + angle), 40)
    ax.plot(0.45 * np.cos(t), 0.45 * np.sin(t), color="#666", lw=1)
    tm = math.radians(20 + angle / 2)
    ax.text(0.7 * math.cos(tm), 0.7 * math.sin(tm), "θ", ha="center", va="center", fontsize=11)
    ax.set_xlim(-3.2, 3.2)
    ax.set_ylim(-3.2, 3.2)
    ax.set_aspect("equal")
    ax.axhline(0, color="#ccc", lw=0.8)
    ax.axvline(0, color="#ccc", lw=0.8)
    ax.set_title(f"θ = {angle:.0f}°,  |q| = {len_q:.1f},  |k| = {len_k:.1f}")
    ax.tick_params(labelsize=plots.MIN_FONT_PT)
    for axb, v, lim, col, name, ttl in ((ax_dot, dot, _ANGLE_DOT_LIM, plots.ACCENT_COLOR_2, "点积 q·k", "点积"),
                                        (ax_cos, cos, 1.0, plots.ACCENT_COLOR, "余弦 cos θ", "余弦相似度")):
        axb.bar([0], [v], color=col, edgecolor="#333", linewidth=0.6, width=0.6)
        axb.text(0, v + (0.03 * lim if v >= 0 else -0.03 * lim), f"{v:.2f}" if lim > 1 else f"{v:.3f}",
                 ha="center", va="bottom" if v >= 0 else "top")
        axb.set_xticks([0], [name])
        axb.set_xlim(-0.8, 0.8)
        axb.set_ylim(-lim, lim)
        axb.axhline(0, color="#888", lw=0.8)
        axb.spines[["top", "right"]].set_visible(False)
        axb.set_title(ttl)
    fig.suptitle("点积 = |q|·|k|·cos θ，余弦相似度只看方向")
    return fig


# ---------------------------------------------------------------------------
# (5) the seed example: one query, three keys
# ---------------------------------------------------------------------------

#: The component sliders stay within ±_VECTOR_LIMIT (scores up to 3 · 100² keep every number readable).
_VECTOR_LIMIT = 100.0


def _check_vector_inputs(vmin, vmax, step, q0, K0):
    """``(vmin, vmax, step)`` of the component sliders: a range within ±100 that holds the example's q1 and
    keys (a slider would silently clip them), and a step that fits into it."""
    vmin = _v.check_number_in(vmin, "vmin", -_VECTOR_LIMIT, _VECTOR_LIMIT)
    vmax = _v.check_number_in(vmax, "vmax", -_VECTOR_LIMIT, _VECTOR_LIMIT)
    vmin, vmax = _v.check_range(vmin, vmax)
    lo, hi = float(min(q0.min(), K0.min())), float(max(q0.max(), K0.max()))
    if vmin > lo or vmax < hi:
        raise ValueError(f"vmin … vmax must hold the example's components ({lo:g} … {hi:g}); "
                         f"got vmin={vmin!r}, vmax={vmax!r}")
    step = _v.check_positive_number(step, "step", max_value=vmax - vmin)
    return vmin, vmax, step


class VectorPanel(Panel):
    """Live panel of :func:`vector_panel`."""

    def __init__(self, vmin=-3.0, vmax=3.0, step=0.05):
        ex = _tok.SEED_EXAMPLE
        self.q0 = np.array(ex["q1"], dtype=float).reshape(1, -1)
        self.K0 = np.array(ex["K"], dtype=float)
        vmin, vmax, step = _check_vector_inputs(vmin, vmax, step, self.q0, self.K0)
        self.V = np.array(ex["V"], dtype=float)
        self._z_max = float(self.V.max())  # Z1 is a weighted average of the rows of V
        self.K = self.K0.copy()
        d = self.q0.shape[1]
        self.key_labels = [f"k{j + 1}" for j in range(len(self.K))]
        self.sliders_q = [W.FloatSlider(value=float(self.q0[0, i]), min=vmin, max=vmax, step=step,
                                        description=f"q1 分量{i + 1}", continuous_update=True,
                                        readout_format=".2f", style={"description_width": "80px"},
                                        layout=W.Layout(width="300px")) for i in range(d)]
        self.key_select = W.Dropdown(options=[(f"调节 {lab}", j) for j, lab in enumerate(self.key_labels)], value=0,
                                     description="键", style={"description_width": "30px"},
                                     layout=W.Layout(width="160px"))
        self.sliders_k = [W.FloatSlider(value=float(self.K[0, i]), min=vmin, max=vmax, step=step,
                                        description=f"k1 分量{i + 1}", continuous_update=True,
                                        readout_format=".2f", style={"description_width": "80px"},
                                        layout=W.Layout(width="300px")) for i in range(d)]
        self.reset_button = W.Button(description="恢复原例", icon="undo", layout=W.Layout(width="120px"))
        controls = W.HBox([W.VBox([W.HTML("<b>查询 q1</b>"), *self.sliders_q]),
                           W.VBox([W.HBox([self.key_select, self.reset_button]), *self.sliders_k])])
        super().__init__("原教程的例子：拖动 q1（或某个键）的分量，看分数、权重和输出 Z1 怎样变化",
                         [controls], view_height="230px")
        self._watch(*self.sliders_q, *self.sliders_k)
        self.key_select.observe(self._on_key_select, names="value")
        self.reset_button.on_click(self._on_reset)
        self.refresh()

    def _on_key_select(self, change=None):
        j = int(self.key_select.value)
        with self._quiet():
            for i, s in enumerate(self.sliders_k):
                s.description = f"{self.key_labels[j]} 分量{i + 1}"
                s.value = float(self.K[j, i])
        self.refresh()

    def _on_reset(self, _button=None):
        with self._quiet():
            self.K = self.K0.copy()
            for i, s in enumerate(self.sliders_q):
                s.value = float(self.q0[0, i])
            j = int(self.key_select.value)
            for i, s in enumerate(self.sliders_k):
                s.value = float(self.K[j, i])
        self.refresh()

    def refresh(self):
        q = np.array([[float(s.value) for s in self.sliders_q]])
        j = int(self.key_select.value)
        self.K[j] = [float(s.value) for s in self.sliders_k]
        scores, scaled, w, z = _att._one_query_steps(q, self.K, self.V)
        self.values = {"q1": q, "K": self.K.copy(), "scores": scores, "scaled": scaled, "weights": w, "Z1": z}
        d_k = q.shape[1]
        lim = max(float(np.abs(scores).max()), 1e-9)
        labs = self.key_labels
        ylim_hi = max(1.0, float(scores.max()))
        ylim_lo = min(-1.0, float(scores.min()))
        b1 = bars_svg(scores, labs, vmin=ylim_lo, vmax=ylim_hi, colors=signed_colors(scores, lim), width=210,
                      title="① 分数 q1·k_j")
        b2 = bars_svg(scaled, labs, vmin=ylim_lo, vmax=ylim_hi, colors=signed_colors(scaled, lim), width=210,
                      title=f"② ÷√d_k (√{d_k}={math.sqrt(d_k):.3f})")
        b3 = bars_svg(w, labs, vmin=0, vmax=1, colors=weight_colors(w), width=210, title="③ 权重 α")
        b4 = bars_svg(z, [f"分量{i + 1}" for i in range(len(z))], vmin=0, vmax=self._z_max, colors=[plots.ACCENT_COLOR_2] * len(z),
                      width=210, title=plots._output_title("q1"))
        self.view.value = row_html(b1, b2, b3, b4, gap=6)
        self.readout.value = (
            f'<div style="font-family:{FONT_STACK};line-height:1.6">'
            f'q1 = {vec_text(q, 2)}，{labs[j]} = {vec_text(self.K[j], 2)}<br>'
            f'分数 = {vec_text(scores)}　缩放后 = {vec_text(scaled)}<br>'
            f'权重 α = <b>{vec_text(w)}</b>（和 = {w.sum():.4f}）　输出 Z1 = <b>{vec_text(z)}</b></div>')


def vector_panel(*, vmin=-3.0, vmax=3.0, step=0.05) -> VectorPanel:
    """The seed example (q1, K, V, d_k = 3) with sliders for q1 and for one selectable key.

    Defaults reproduce the chapter: weights [0.3143, 0.3330, 0.3528], Z1 [4.1154, 5.1154, 6.1154].

    Parameters
    ----------
    vmin, vmax : float, default -3.0, 3.0
        Range of every component slider: within ±100 and holding the example's components (0.1 … 0.8).
    step : float, default 0.05
        Slider step, at most ``vmax - vmin``.

    Returns
    -------
    VectorPanel
        A displayable widget (make it the last line of a cell); ``sliders_q``, ``key_select``, ``sliders_k``, ``reset_button``.
    """
    return VectorPanel(vmin, vmax, step)


def _check_vector_figure_inputs(q1, K, n_keys: int):
    """``(q1 as (1, d_k), K as (n_keys, d_k))``: one query and one key per row of the example's V."""
    q = _v.as_real_array(q1, "q1")
    if q.ndim == 2 and q.shape[0] == 1:
        q = q[0]
    _v.check_ndim(q, "q1", 1, "(d_k,) or (1, d_k) — one query")
    k = _v.as_real_array(K, "K")
    _v.check_ndim(k, "K", 2, f"({n_keys}, d_k) — one key per row of the example's V")
    if k.shape != (n_keys, q.shape[0]):
        raise ValueError(f"K must have shape ({n_keys}, d_k) with d_k = {q.shape[0]} components like q1: "
                         f"one key per row of the example's V; got shape {k.shape}")
    return q[None, :], k


def vector_figure(q1=None, K=None):
    """Static default state of :func:`vector_panel`: the four steps for q1 (see plots.step_strip).

    Parameters
    ----------
    q1 : array_like, shape (d_k,) or (1, d_k), optional
        Default: the seed example's q1.
    K : array_like, shape (3, d_k), optional
        Default: the seed example's keys (one per row of the example's V; d_k as q1).

    Returns
    -------
    matplotlib.figure.Figure
    """
    ex = _tok.SEED_EXAMPLE
    q, Kk = _check_vector_figure_inputs(ex["q1"] if q1 is None else q1, ex["K"] if K is None else K, len(ex["V"]))
    return plots.step_strip(q, Kk, ex["V"], key_labels=["k1", "k2", "k3"], query_label="q1",
                            value_labels=[f"分量{i + 1}" for i in range(ex["V"].shape[1])])
