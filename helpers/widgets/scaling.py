"""Panel family 3 — how sharp the softmax is: d_k scaling and temperature (chapters 03 and 04).

``dk_panel`` (control ``slider_dk``, a SelectionSlider over :data:`DK_STEPS`):
raw vs. scaled dot-product spread and softmax saturation.  All d_k values come
from one set of random vectors (cumulative sums), so a slider step is a column
lookup.

``temperature_panel`` (control ``slider_t``, FloatLogSlider 0.01 … 100):
softmax(scores / T) over fixed scores.  Each has a static ``*_figure`` twin.
"""

from __future__ import annotations

import math
from functools import lru_cache

import ipywidgets as W
import numpy as np

from .. import attention as _att
from .. import plots
from .. import tokens as _tok
from .. import validation as _v
from ..analysis import entropy
from .primitives import (FONT_STACK, bars_svg, hist_svg, row_html, signed_colors, slider, vec_text, weight_colors,
                         Panel)

__all__ = ["dk_panel", "dk_figure", "DK_STEPS", "DkPanel",
           "temperature_panel", "temperature_figure", "DEFAULT_TEMPERATURE_SCORES", "TemperaturePanel"]

#: d_k values of the d_k slider (log-ish steps).
DK_STEPS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


# Both histograms share ONE x range (±64) and one density axis, so the widths can be compared at a
# glance: at d_k = 64 the raw dot products spread over ±25 while the scaled ones stay within ±3.
# (Two ranges, ±64 and ±4, once made the scaled histogram look the wider of the two.)
_DK_XLIM = 64.0
_DK_BINS = 128
_DK_N_KEYS = 8
_DK_YMAX = 0.5


@lru_cache(maxsize=4)
def _dk_all(seed: int = 0, n_samples: int = 3000):
    """Running dot products for every d_k at once.

    One set of random vectors with ``max(DK_STEPS)`` N(0, 1) components;
    the dot product for dimension d_k uses the first d_k components (a
    cumulative sum), so every slider position is a cheap column lookup and the
    picture grows out of the same vectors.
    """
    d_max = max(DK_STEPS)
    rng = np.random.default_rng([int(seed), 2024])
    q = rng.standard_normal((n_samples, d_max))
    k = rng.standard_normal((n_samples, d_max))
    raw = np.cumsum(q * k, axis=1)  # raw[:, d-1] = q[:, :d] · k[:, :d]
    q1 = rng.standard_normal(d_max)
    K1 = rng.standard_normal((_DK_N_KEYS, d_max))
    scores = np.cumsum(K1 * q1, axis=1)  # scores[j, d-1] = q1[:d] · K1[j, :d]
    # shared by every later panel and figure (lru_cache): read-only, so no caller can change them
    raw.setflags(write=False)
    scores.setflags(write=False)
    return raw, scores


def _dk_data(d_k: int, seed: int = 0):
    raw_all, scores_all = _dk_all(seed)
    raw = raw_all[:, d_k - 1]
    scores = scores_all[:, d_k - 1]
    w_raw = _att.softmax(scores)
    w_scaled = _att.softmax(scores / math.sqrt(d_k))
    return raw, scores, w_raw, w_scaled


def _check_dk_inputs(d_k, seed) -> tuple[int, int]:
    """``(d_k, seed)``: d_k one of :data:`DK_STEPS` (an int: ``True`` or ``64.0`` is refused), a valid seed."""
    d_k = _v.check_int(d_k, "d_k")
    if d_k not in DK_STEPS:
        raise ValueError(f"d_k must be one of {DK_STEPS}, got {d_k!r}")
    return d_k, _v.check_seed(seed)


_DK_KEY_LABELS = tuple(f"k{j + 1}" for j in range(_DK_N_KEYS))


class DkPanel(Panel):
    """Live panel of :func:`dk_panel`."""

    def __init__(self, d_k=64, seed=0):
        d_k, self.seed = _check_dk_inputs(d_k, seed)
        self.slider_dk = slider(W.SelectionSlider, options=list(DK_STEPS), value=d_k, description="d_k（向量维度）")
        super().__init__("d_k 越大，原始点积越分散，softmax 越“饱和”；除以 √d_k 后恢复正常",
                         [self.slider_dk], view_height="470px")
        self._watch(self.slider_dk)
        self.refresh()

    def refresh(self):
        d_k = int(self.slider_dk.value)
        raw, scores, w_raw, w_scaled = _dk_data(d_k, seed=self.seed)
        scaled = raw / math.sqrt(d_k)
        sd_raw, sd_scaled = float(raw.std()), float(scaled.std())
        self.values = {"d_k": d_k, "std_raw": sd_raw, "std_scaled": sd_scaled, "scores": scores.copy(),
                       "weights_raw": w_raw, "weights_scaled": w_scaled}
        h1 = hist_svg(raw, xlim=_DK_XLIM, bins=_DK_BINS, title="原始点积 q·k（未缩放）", color=plots.ACCENT_COLOR_2,
                      xlabel="q·k（两幅图横轴相同）", note=f"标准差 ≈ {sd_raw:.2f}", ymax=_DK_YMAX)
        h2 = hist_svg(scaled, xlim=_DK_XLIM, bins=_DK_BINS, title="缩放后 q·k / √d_k", color=plots.ACCENT_COLOR,
                      xlabel="q·k / √d_k（两幅图横轴相同）", note=f"标准差 ≈ {sd_scaled:.2f}", ymax=_DK_YMAX)
        labels = _DK_KEY_LABELS
        b1 = bars_svg(w_raw, labels, vmin=0, vmax=1, colors=weight_colors(w_raw), digits=2, width=320,
                      title="softmax(q·k)：不缩放", ylabel="权重 α")
        b2 = bars_svg(w_scaled, labels, vmin=0, vmax=1, colors=weight_colors(w_scaled), digits=2, width=320,
                      title="softmax(q·k / √d_k)：缩放", ylabel="权重 α")
        self.view.value = row_html(h1, h2) + row_html(b1, b2)
        self.readout.value = (
            f'<div style="font-family:{FONT_STACK}">d_k = <b>{d_k}</b>，√d_k = {math.sqrt(d_k):.2f}：'
            f'原始点积的标准差 ≈ <b>{sd_raw:.2f}</b>（约等于 √d_k），缩放后 ≈ <b>{sd_scaled:.2f}</b>。'
            f'一个查询对 {_DK_N_KEYS} 个键：不缩放时最大权重 <b>{w_raw.max():.3f}</b>，'
            f'缩放后 <b>{w_scaled.max():.3f}</b>。</div>')


def dk_panel(*, d_k=64, seed=0) -> DkPanel:
    """d_k slider (1 … 512): raw vs scaled dot-product spread and softmax saturation side by side.

    Parameters
    ----------
    d_k : int, default 64
        Start value; one of :data:`DK_STEPS`.
    seed : int, default 0
        Seed of the random vectors (0 … 2**63 - 1).

    Returns
    -------
    DkPanel
        A displayable widget (make it the last line of a cell); ``slider_dk``.
    """
    return DkPanel(d_k, seed)


def dk_figure(*, d_k=64, seed=0):
    """Static default state of :func:`dk_panel` (same ranges and colours as the live panel).

    Parameters
    ----------
    d_k, seed
        As in :func:`dk_panel`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    d_k, seed = _check_dk_inputs(d_k, seed)
    raw, scores, w_raw, w_scaled = _dk_data(d_k, seed=seed)
    scaled = raw / math.sqrt(d_k)
    fig, axes = plots._subplots(2, 2, figsize=(9.5, 6.4), layout="constrained")
    lim = _DK_XLIM
    for ax, s, col, ttl, xl in (
        (axes[0, 0], raw, plots.ACCENT_COLOR_2, "原始点积 q·k（未缩放）", "q·k（两幅图横轴相同）"),
        (axes[0, 1], scaled, plots.ACCENT_COLOR, "缩放后 q·k / √d_k", "q·k / √d_k（两幅图横轴相同）"),
    ):
        ax.hist(np.clip(s, -lim, lim), bins=_DK_BINS, range=(-lim, lim), density=True, color=col, alpha=0.85)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(0, _DK_YMAX)
        ax.axvline(0, color="#999", lw=0.8, ls="--")
        ax.set_title(ttl)
        ax.set_xlabel(xl)
        ax.text(0.98, 0.92, f"标准差 ≈ {s.std():.2f}", transform=ax.transAxes, ha="right")
        ax.set_yticks([])
        ax.set_ylabel("频率（相对）")
        ax.spines[["top", "right", "left"]].set_visible(False)
    labels = _DK_KEY_LABELS
    cm = plots._get_cmap(None, plots.WEIGHTS_CMAP)
    for ax, w, ttl in ((axes[1, 0], w_raw, "softmax(q·k)：不缩放"), (axes[1, 1], w_scaled, "softmax(q·k / √d_k)：缩放")):
        xs = np.arange(len(w))
        ax.bar(xs, w, color=cm(w), edgecolor="#333", linewidth=0.6)
        for x, v in zip(xs, w):
            ax.text(x, v + 0.02, f"{v:.2f}", ha="center", va="bottom", fontsize=plots.MIN_FONT_PT)
        ax.set_ylim(0, 1.1)
        ax.set_xticks(xs, labels)
        ax.set_ylabel("权重 α")
        ax.set_title(ttl)
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(f"d_k = {d_k}：点积的分散程度与 softmax 饱和")
    return fig


# ---------------------------------------------------------------------------
# (4) softmax temperature
# ---------------------------------------------------------------------------

DEFAULT_TEMPERATURE_SCORES = _v.read_only_array([1.0, 2.5, 0.5, 2.0])   # a course constant: read, never changed


def _check_scores(scores, labels):
    # one row of scores (a 2-D array is refused, not flattened); |s| ≤ 1e150 so that s / T stays finite
    s = _v.as_real_array(DEFAULT_TEMPERATURE_SCORES if scores is None else scores, "scores")
    _v.check_ndim(s, "scores", 1, "(n_keys,) — one query's scores")
    s = s.astype(float, copy=False)
    if labels is None:
        labels = list(_tok.SENTENCE_APPLE) if (scores is None or len(s) == 4) else [f"k{j + 1}" for j in range(len(s))]
    labels = _v.check_labels(labels, len(s), "labels", "scores")
    return s, labels


#: The temperature slider's range (log scale): 0.01 … 100.
_T_EXPONENTS = (-2, 2)


def _check_temperature(temperature) -> float:
    """A temperature within the slider's range 0.01 … 100 (outside it the slider would clip it)."""
    return _v.check_number_in(temperature, "temperature", 10.0 ** _T_EXPONENTS[0], 10.0 ** _T_EXPONENTS[1])


class TemperaturePanel(Panel):
    """Live panel of :func:`temperature_panel`."""

    def __init__(self, scores=None, labels=None, temperature=1.0):
        self.scores, self.labels = _check_scores(scores, labels)
        temperature = _check_temperature(temperature)
        self.slider_t = slider(W.FloatLogSlider, value=temperature, base=10, min=_T_EXPONENTS[0], max=_T_EXPONENTS[1],
                               step=0.02, description="温度 T（无单位）", readout_format=".3g")
        super().__init__("softmax 的温度：T 小 → 尖锐（接近 one-hot），T 大 → 平坦（接近均匀）",
                         [self.slider_t], view_height="240px")
        # the scores never change: draw their bars once, not on every slider step
        lim = float(np.abs(self.scores).max()) or 1.0
        self._scores_svg = bars_svg(self.scores, self.labels, colors=signed_colors(self.scores, lim), digits=2,
                                    width=280, title="分数（固定）", ylabel="分数")
        self._watch(self.slider_t)
        self.refresh()

    def refresh(self):
        T = float(self.slider_t.value)
        w = _att.softmax(self.scores, temperature=T)
        ent = float(entropy(w))
        self.values = {"temperature": T, "weights": w, "entropy": ent}
        b2 = bars_svg(w, self.labels, vmin=0, vmax=1, colors=weight_colors(w), digits=3, width=300,
                      title=f"softmax(分数 / T)，T = {T:.3g}", ylabel="权重 α")
        self.view.value = row_html(self._scores_svg, b2)
        n = len(w)
        self.readout.value = (
            f'<div style="font-family:{FONT_STACK}">T = <b>{T:.3g}</b>：权重 = {vec_text(w, 3)}，'
            f'最大权重 <b>{w.max():.3f}</b>，熵 {ent:.3f}（均匀分布时最大 ln {n} = {math.log(n):.3f}）。</div>')


def temperature_panel(scores=None, *, labels=None, temperature=1.0) -> TemperaturePanel:
    """Softmax temperature slider (0.01 … 100, log scale) over fixed scores.

    Parameters
    ----------
    scores : array_like, shape (n,), optional
        Default :data:`DEFAULT_TEMPERATURE_SCORES`.
    labels : sequence of str, optional
        One per score (default the tokens of 我喜欢这个苹果 for 4 scores, else k1, k2, ...).
    temperature : float, default 1.0
        Start value of the slider (0.01 … 100).

    Returns
    -------
    TemperaturePanel
        A displayable widget (make it the last line of a cell); ``slider_t``.
    """
    return TemperaturePanel(scores, labels, temperature)


def temperature_figure(scores=None, *, labels=None, temperature=1.0):
    """Static default state of :func:`temperature_panel`: scores and softmax(scores / T).

    Parameters
    ----------
    scores, labels, temperature
        As in :func:`temperature_panel`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    s, labels = _check_scores(scores, labels)
    temperature = _check_temperature(temperature)
    w = _att.softmax(s, temperature=temperature)
    fig, (a1, a2) = plots._subplots(1, 2, figsize=(8.4, 3.2), layout="constrained")
    xs = np.arange(len(s))
    lim = float(np.abs(s).max()) or 1.0
    dcm = plots._get_cmap(None, plots.DIVERGING_CMAP)
    a1.bar(xs, s, color=dcm(plots._symmetric_norm(s, lim)(s)), edgecolor="#333", linewidth=0.6)
    a1.axhline(0, color="#888", lw=0.8)
    a1.set_title("分数（固定）")
    a1.set_ylabel("分数")
    for x, v in zip(xs, s):
        a1.text(x, v + (0.03 * lim if v >= 0 else -0.03 * lim), f"{v:.2f}", ha="center",
                va="bottom" if v >= 0 else "top", fontsize=plots.MIN_FONT_PT)
    a1.set_ylim(min(0, s.min() * 1.2), max(0, s.max() * 1.2) or 0.1)
    for ax in (a1, a2):
        ax.set_xticks(xs, [plots._plain_text(t) for t in labels])
        ax.spines[["top", "right"]].set_visible(False)
    plots.weights_bar(w, labels, ax=a2, title=f"softmax(分数 / T)，T = {temperature:.3g}", fmt="{:.3f}")
    a2.set_xlabel("")
    fig.suptitle("温度 T 控制 softmax 的尖锐程度")
    return fig
