"""Tests for helpers.plots: every figure function returns a Figure, draws its labels, and stays silent."""

from __future__ import annotations

import re


import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from figtools import render_png  # noqa: E402

import helpers as h  # noqa: E402
from helpers import plots  # noqa: E402

APPLE = h.SENTENCE_APPLE
EX = h.SEED_EXAMPLE


def _texts(fig: Figure) -> list[str]:
    out = []
    for ax in fig.axes:
        out += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        out += [t.get_text() for t in ax.texts]
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    if fig._suptitle is not None:
        out.append(fig._suptitle.get_text())
    return out


def _apple_weights(causal=False):
    X = h.token_inputs(APPLE, 16)
    mask = h.causal_mask(4) if causal else None
    _, A = h.self_attention(X, *h.init_qkv_weights(16, 8), mask=mask)
    return A, mask


# ---------------------------------------------------------------------------
# attention_heatmap
# ---------------------------------------------------------------------------

def test_attention_heatmap_basic_labels_colorbar_and_range():
    A, _ = _apple_weights()
    fig = plots.attention_heatmap(A, APPLE, APPLE, title="注意力权重")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == APPLE  # rows = queries
    assert [t.get_text() for t in ax.get_xticklabels()] == APPLE  # columns = keys
    assert "查询" in ax.get_ylabel() and "键" in ax.get_xlabel()
    assert ax.images[0].get_clim() == (0.0, 1.0)
    assert ax.images[0].get_cmap().name == plots.WEIGHTS_CMAP
    assert len(fig.axes) == 2 and "α" in fig.axes[1].get_ylabel()  # colour bar
    assert len(ax.texts) == 16  # annotated: 4 × 4 <= ANNOTATE_MAX
    assert render_png(fig)[:4] == b"\x89PNG"


def test_seed_example_1x3_and_vector_input():
    fig = plots.attention_heatmap(EX["weights"], ["q1"], ["k1", "k2", "k3"])
    assert [t.get_text() for t in fig.axes[0].texts] == ["0.31", "0.33", "0.35"]
    fig2 = plots.attention_heatmap(EX["weights"][0], ["q1"], ["k1", "k2", "k3"])
    assert fig2.axes[0].images[0].get_array().shape == (1, 3)
    render_png(fig)


def test_annotation_text_colour_is_readable():
    fig = plots.attention_heatmap([[0.02, 0.98]], ["q"], ["light", "dark"])
    colours = [mcolors.to_hex(t.get_color()) for t in fig.axes[0].texts]
    assert colours == ["#000000", "#ffffff"]
    assert plots.text_color_for("#ffffff") == "black" and plots.text_color_for("#08306b") == "white"


@pytest.mark.parametrize("n, expect_annotations", [(12, True), (13, False), (64, False)])
def test_annotations_switch_off_when_dense(n, expect_annotations):
    rng = np.random.default_rng(0)
    A = h.softmax(rng.normal(size=(n, n)))
    labels = [f"词{i}" for i in range(n)]
    fig = plots.attention_heatmap(A, labels, labels)
    assert (len(fig.axes[0].texts) == n * n) is expect_annotations
    assert (len(fig.axes[0].texts) == 0) is (not expect_annotations)
    forced = plots.attention_heatmap(A, labels, labels, annotate=not expect_annotations)
    assert len(forced.axes[0].texts) == (0 if expect_annotations else n * n)
    render_png(fig)


def test_mask_is_hatched_and_unannotated_and_highlight_outlines_row():
    A, mask = _apple_weights(causal=True)
    fig = plots.attention_heatmap(A, APPLE, APPLE, mask=mask, highlight_row=3)
    ax = fig.axes[0]
    colls = [c for c in ax.collections if isinstance(c, PatchCollection)]
    assert len(colls) == 1 and colls[0].get_hatch() == "///"
    assert len(colls[0].get_paths()) == int((~mask).sum()) == 6
    assert len(ax.texts) == int(mask.sum()) == 10  # blocked cells carry no number
    outlines = [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]
    assert len(outlines) == 1
    assert outlines[0].get_y() == pytest.approx(2.5) and outlines[0].get_width() == 4
    assert mcolors.to_hex(outlines[0].get_edgecolor()) == plots.HIGHLIGHT_COLOR
    render_png(fig)


def test_draws_into_given_axes():
    fig, (a1, a2) = plt.subplots(1, 2)
    out = plots.attention_heatmap(EX["weights"], ["q1"], ["k1", "k2", "k3"], ax=a2, colorbar=False)
    assert out is fig and a2.images


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        (dict(weights=np.ones((2, 3)), row_labels=["a"], col_labels=["x", "y", "z"]), ValueError),
        (dict(weights=np.ones((2, 3)), row_labels=["a", "b"], col_labels="xyz"), TypeError),
        (dict(weights=np.ones((2, 2, 2)), row_labels=["a", "b"], col_labels=["x", "y"]), ValueError),
        (dict(weights=np.ones((2, 2)), row_labels=["a", "b"], col_labels=["x", "y"], highlight_row=2), ValueError),
        (dict(weights=np.ones((2, 2)), row_labels=["a", "b"], col_labels=["x", "y"], mask=np.ones((2, 2))), TypeError),
        (dict(weights=np.ones((2, 2)), row_labels=["a", "b"], col_labels=["x", "y"],
              mask=np.ones((3, 3), bool)), ValueError),
        (dict(weights=np.ones((2, 2)), row_labels=["a", "b"], col_labels=["x", "y"], annotate="yes"), ValueError),
        (dict(weights=[["a", "b"]], row_labels=["a"], col_labels=["x", "y"]), TypeError),
    ],
)
def test_attention_heatmap_bad_input(kwargs, exc):
    with pytest.raises(exc):
        plots.attention_heatmap(**kwargs)


# ---------------------------------------------------------------------------
# the other figures
# ---------------------------------------------------------------------------

def test_matrix_heatmap_is_diverging_and_symmetric():
    X = h.token_inputs(APPLE, 16)
    Q, K, _ = h.project_qkv(X, *h.init_qkv_weights(16, 8))
    S = h.attention_scores(Q, K)
    fig = plots.matrix_heatmap(S, APPLE, APPLE, title="原始分数 Q·Kᵀ")
    im = fig.axes[0].images[0]
    lo, hi = im.get_clim()
    assert lo == pytest.approx(-hi) and hi == pytest.approx(np.abs(S).max())
    assert im.get_cmap().name == plots.DIVERGING_CMAP
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == APPLE
    render_png(fig)  # ᵀ comes from DejaVu Sans: no missing-glyph warning


def test_weights_bar():
    fig = plots.weights_bar(EX["weights"][0], ["k1", "k2", "k3"], title="q1 的权重")
    ax = fig.axes[0]
    assert len(ax.patches) == 3
    assert ax.get_ylim()[0] == 0 and ax.get_ylim()[1] >= 1
    assert {"0.3143", "0.3330", "0.3528"} <= set(_texts(fig))
    with pytest.raises(ValueError):
        plots.weights_bar(np.ones((2, 3)) / 3, ["a", "b", "c"])
    render_png(fig)


def test_step_strip_reproduces_the_seed_numbers():
    fig = plots.step_strip(EX["q1"], EX["K"], EX["V"], key_labels=["k1", "k2", "k3"], query_label="q1")
    assert len(fig.axes) == 4
    texts = set(_texts(fig))
    assert {"0.1900", "0.2900", "0.3900"} <= texts  # scores
    assert {"0.3143", "0.3330", "0.3528"} <= texts  # weights
    assert {"4.1154", "5.1154", "6.1154"} <= texts  # Z1
    assert any("√d_k" in t for t in texts)
    render_png(fig)
    with pytest.raises(ValueError):
        plots.step_strip(np.ones((2, 3)), EX["K"], EX["V"])


@pytest.mark.parametrize("scaled", [False, True])
def test_dot_product_histogram(scaled):
    fig = plots.dot_product_histogram((1, 16, 64, 512), scaled=scaled, n_samples=2000)
    assert len(fig.axes) == 4
    titles = [ax.get_title() for ax in fig.axes]
    assert all(f"d_k = {d}" in t for d, t in zip((1, 16, 64, 512), titles))
    stds = [float(t.split("≈")[1]) for t in titles]
    if scaled:
        assert all(0.8 < s < 1.2 for s in stds)
    else:
        assert stds == sorted(stds) and stds[-1] > 15
    render_png(fig)


def test_matrix_grid_and_qkv_grids_titles_carry_shapes():
    X = h.token_inputs(APPLE, 8)
    Wts = h.init_qkv_weights(8, 4)
    Q, K, V = h.project_qkv(X, *Wts)
    fig = plots.matrix_grid(Q, "Q", row_labels=APPLE)
    assert fig.axes[0].get_title() == "Q  (4 × 4)"
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == APPLE
    render_png(fig)
    fig = plots.qkv_grids(X, Q, K, V, APPLE)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["X  (4 × 8)", "Q  (4 × 4)", "K  (4 × 4)", "V  (4 × 4)"]
    render_png(fig)
    fig = plots.qkv_grids(X, Q, K, V, APPLE, W=Wts)
    assert "W_Q  (8 × 4)" in [ax.get_title() for ax in fig.axes]
    with pytest.raises(ValueError):
        plots.qkv_grids(X, Q, K, V[:3], APPLE)


def test_every_function_returns_a_figure_and_sets_cjk_font():
    X = h.token_inputs(APPLE, 8)
    Q, K, V = h.project_qkv(X, *h.init_qkv_weights(8, 4))
    figs = [
        plots.attention_heatmap(EX["weights"], ["q1"], ["k1", "k2", "k3"]),
        plots.matrix_heatmap(h.attention_scores(Q, K), APPLE, APPLE),
        plots.weights_bar(EX["weights"], ["k1", "k2", "k3"]),
        plots.step_strip(EX["q1"], EX["K"], EX["V"]),
        plots.dot_product_histogram((1, 4), n_samples=200),
        plots.matrix_grid(X, "X", row_labels=APPLE),
        plots.qkv_grids(X, Q, K, V, APPLE),
    ]
    assert all(isinstance(f, Figure) for f in figs)
    assert "DejaVu Sans" in matplotlib.rcParams["font.family"]
    assert len(matplotlib.rcParams["font.family"]) == 2  # concrete families: per-glyph fallback works
    for f in figs:
        render_png(f)


def test_highlight_col_outlines_one_key_column_dashed():
    A, _ = _apple_weights(causal=False)
    fig = plots.attention_heatmap(A, APPLE, APPLE, highlight_row=3, highlight_col=1)
    ax = fig.axes[0]
    outlines = [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]
    cols = [p for p in outlines if mcolors.to_hex(p.get_edgecolor()) == plots.HIGHLIGHT_COL_COLOR]
    assert len(outlines) == 2 and len(cols) == 1
    assert cols[0].get_x() == pytest.approx(0.5) and cols[0].get_height() == 4
    assert cols[0].get_linestyle() == "--"
    with pytest.raises(ValueError, match="highlight_col"):
        plots.attention_heatmap(A, APPLE, APPLE, highlight_col=4)
    render_png(fig)


# --- bad input named at the public entry (issue 14) ---

def test_heatmap_label_mismatch_names_weights_and_huge_ranges_are_refused():
    with pytest.raises(ValueError, match=r"row_labels has 3 entries but weights \(1, 5\) has 1 along that axis"):
        plots.attention_heatmap(np.full(5, 0.2), APPLE[:3], None)
    with pytest.raises(ValueError, match=r"vmin and vmax must lie within ±1e\+300"):
        plots.attention_heatmap(np.eye(2), None, None, vmin=-1e308)


def test_luminance_refuses_nan_channels():
    with pytest.raises(ValueError, match="rgba must be a colour"):
        plots.luminance((float("nan"), 0.3, 0.4))


@pytest.mark.parametrize("fmt", [None, 4, "{:.2q}", "{0} {1}", b"{}"])
def test_weights_bar_refuses_bad_format_patterns(fmt):
    with pytest.raises((ValueError, TypeError), match="fmt must be"):
        plots.weights_bar([0.2, 0.8], ["a", "b"], fmt=fmt)


@pytest.mark.parametrize("bins", [0, 1.5, None, 10 ** 9])
def test_dot_product_histogram_checks_bins(bins):
    with pytest.raises((ValueError, TypeError), match="bins"):
        plots.dot_product_histogram((1, 4), n_samples=20, bins=bins)


# --- adversarial pass, round 2 (findings 6, 12, 13, 32) ---

def test_mask_must_not_hide_weight_under_the_hatch():
    """A mask drawn but never applied: the hatch would cover the weight that should have been removed."""
    A, _ = _apple_weights(causal=False)  # the mask was forgotten in the attention itself
    with pytest.raises(ValueError, match=r"weights\[0, 1\] = 0\.\d+ although mask\[0, 1\] is False: "
                                         r"apply the mask before softmax"):
        plots.attention_heatmap(A, APPLE, APPLE, mask=h.causal_mask(4))
    # a mask broadcast over the query rows is named by its own index
    with pytest.raises(ValueError, match=r"weights\[0, 3\] = 0\.25 although mask\[3\] is False"):
        plots.attention_heatmap(np.full((2, 4), 0.25), None, None, mask=np.array([True, True, True, False]))
    # 1-D weights are drawn as one row: the message says so
    with pytest.raises(ValueError, match=r"weights \(drawn as one row\)\[0, 1\] = 0\.5"):
        plots.attention_heatmap([0.5, 0.5], None, None, mask=np.array([True, False]))
    # zeros under the mask are fine: -inf before softmax, or "zero afterwards" (chapter 07's wrong variant)
    A_causal, mask = _apple_weights(causal=True)
    plots.attention_heatmap(A_causal, APPLE, APPLE, mask=mask)
    plots.attention_heatmap(A * mask, APPLE, APPLE, mask=mask)
    plots.attention_heatmap(np.where(mask, A, 1e-12), APPLE, APPLE, mask=mask)  # below anything drawable


def test_an_inverted_mask_is_named_as_such_not_blamed_on_the_softmax():
    """N12: right causal weights drawn with ~mask (PyTorch nn.MultiheadAttention's True = blocked) were
    refused with "apply the mask before softmax", blaming weights that are right."""
    A_causal, mask = _apple_weights(causal=True)
    pattern = (r"^mask looks inverted: weights is 0 at every cell mask allows and holds weight at 10 cell\(s\) it "
               r"blocks \(e\.g\. weights\[0, 0\] = 1 although mask\[0, 0\] is False\)\. In this course True = may "
               r"attend, False = blocked \(nn\.MultiheadAttention's boolean attn_mask / key_padding_mask use the "
               r"opposite, True = blocked\): pass ~mask$")
    with pytest.raises(ValueError, match=pattern):
        plots.attention_heatmap(A_causal, APPLE, APPLE, mask=~mask)
    # an inverted padding mask (True on the padded key) too, broadcast over the rows
    pad_w = np.array([[0.5, 0.5, 0.0], [0.25, 0.75, 0.0]])
    with pytest.raises(ValueError, match=r"^mask looks inverted: .* weights\[0, 0\] = 0\.5 although mask\[0\] is False"):
        plots.attention_heatmap(pad_w, None, None, mask=np.array([False, False, True]))
    # weight on allowed AND blocked cells: the mask was not applied (the old message, unchanged)
    A, _ = _apple_weights(causal=False)
    with pytest.raises(ValueError, match=r"^weights\[0, 1\] = .* although mask\[0, 1\] is False: apply the mask before"):
        plots.attention_heatmap(A, APPLE, APPLE, mask=mask)
    # a mask that allows nothing is not called inverted
    with pytest.raises(ValueError, match=r"^weights\[0, 0\] = 1 although mask\[0, 0\] is False: apply"):
        plots.attention_heatmap(A_causal, APPLE, APPLE, mask=np.zeros((4, 4), bool))


def test_labels_follow_one_rule_any_1d_sequence_of_str_or_numbers():
    """N13: range(3) was refused as "must be a list of strings" while [0, 1, 2] was drawn."""
    A3 = np.full((3, 3), 1 / 3)
    ticks = lambda fig: ([t.get_text() for t in fig.axes[0].get_yticklabels()],
                         [t.get_text() for t in fig.axes[0].get_xticklabels()])
    want = (["0", "1", "2"], ["0", "1", "2"])
    for labels in ([0, 1, 2], range(3), (0, 1, 2), np.arange(3), np.array(["0", "1", "2"]), ["0", 1, np.int64(2)]):
        fig = plots.attention_heatmap(A3, labels, labels)
        assert ticks(fig) == want, labels
        plt.close(fig)
    fig = plots.weights_bar(np.array([0.25, 0.75]), range(2))
    plt.close(fig)
    accepted = r"; labels may be a list, tuple, range or 1-D array of str or numbers$"
    bad = [("abc", TypeError, r"^row_labels must be a list of 3 labels, got str 'abc'" + accepted),
           ({0: "a", 1: "b", 2: "c"}, TypeError, r"^row_labels must be a list of 3 labels, got dict \{0: 'a'.*" + accepted),
           (iter("abc"), TypeError, r"^row_labels must be a list of 3 labels, got \w*iterator <.*" + accepted),
           (np.array([["a", "b", "c"]]), ValueError, r"^row_labels must be a list of 3 labels, got an array of shape "
                                                     r"\(1, 3\)" + accepted),
           ([True, False, True], TypeError, r"^row_labels\[0\] must be a str \(or a number\), got True"),
           ([None, "b", "c"], TypeError, r"^row_labels\[0\] must be a str \(or a number\), got None"),
           (range(4), ValueError, r"^row_labels has 4 entries but weights \(3, 3\) has 3 along that axis"),
           (range(10 ** 12), ValueError, r"^row_labels has 1000000000000 entries but")]  # not expanded
    for labels, exc, pattern in bad:
        with pytest.raises(exc, match=pattern):
            plots.attention_heatmap(A3, labels, None)


@pytest.mark.parametrize("row, bad", [([-0.5, 1.5, 0.0], "-0.5"), ([0.2, 1.5, 0.1], "1.5")])
def test_weights_bar_refuses_values_its_fixed_axis_cannot_show(row, bad):
    with pytest.raises(ValueError, match=r"every value of weights_row must be in \[0, 1\] \(attention weights: "
                                         r"the y axis is fixed to 0–1\); got " + re.escape(bad)):
        plots.weights_bar(np.array(row), ["a", "b", "c"])
    plots.weights_bar(np.array([0.0, 1.0, 0.0]), ["a", "b", "c"])  # the ends of the range are weights


def test_dot_product_histogram_needs_two_samples_for_its_standard_deviation():
    with pytest.raises(ValueError, match="n_samples must be at least 2"):
        plots.dot_product_histogram((1, 4), n_samples=1)


def _is_mathtext(text) -> bool:
    return text._preprocess_math(text.get_text())[1] is True


def test_dollar_signs_in_labels_and_titles_are_drawn_literally():
    fig = plots.attention_heatmap(np.full((2, 2), .5), [r"$\frac$", "b"], ["$x$", "d"], title="$5 每个",
                                  xlabel="$k$", ylabel="$q$", colorbar_label="$a$")
    render_png(fig)  # a broken "$\frac$" used to fail only here, when the figure was drawn
    ax = fig.axes[0]
    assert ax.get_yticklabels()[0].get_text() == r"\$\frac\$"
    assert ax.get_xticklabels()[0].get_text() == r"\$x\$"
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == (r"\$5 每个", r"\$k\$", r"\$q\$")
    assert fig.axes[1].get_ylabel() == r"\$a\$"
    figs = [
        fig,
        plots.matrix_heatmap(np.eye(2), ["$a$", "b"], ["c", "$d$"], title="$S$"),
        plots.weights_bar([0.5, 0.5], ["$a$", "b"], title="$t$", xlabel="$x$", ylabel="$y$"),
        plots.step_strip([1.0, 0.0], np.eye(2), np.eye(2), key_labels=["$k$", "k2"], query_label="q$1$",
                         value_labels=["$v$", "w"]),
        plots.matrix_grid(np.eye(2), "$M$", row_labels=["$r$", "s"]),
        plots.qkv_grids(np.eye(2), np.eye(2), np.eye(2), np.eye(2), ["$a$", "b"]),
    ]
    for f in figs:
        render_png(f)
        texts = [t for a in f.axes for t in a.get_xticklabels() + a.get_yticklabels() + [a.title, a.xaxis.label,
                                                                                          a.yaxis.label]]
        texts += [f._suptitle] if f._suptitle is not None else []
        assert not [t.get_text() for t in texts if _is_mathtext(t)]
        assert any("$" in t.get_text() for t in texts)
    # the HTML panels share plots._labels: no TeX escapes there
    assert plots._labels(["$x$"], 1, "labels", "k") == ["$x$"]


@pytest.mark.parametrize("label, exc", [(5, TypeError), ("", ValueError), ("\ud800", ValueError)])
def test_step_strip_query_label_is_text(label, exc):
    """A non-str query label used to fail deep inside (AttributeError: 'int' object has no attribute 'startswith')."""
    with pytest.raises(exc, match="query_label"):
        plots.step_strip([1.0, 0.0], np.eye(2), np.eye(2), query_label=label)
