"""Tests for helpers.chapter_plots: each figure renders silently and bad input is rejected clearly."""

from __future__ import annotations


import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from figtools import render_png  # noqa: E402

import helpers as h  # noqa: E402
from helpers import analysis, chapter_plots  # noqa: E402

APPLE = h.SENTENCE_APPLE


def _figures():
    X = h.token_inputs(APPLE, 8)
    E = h.embed_tokens(APPLE, 8)
    w = h.softmax(np.arange(16.0).reshape(4, 4))
    raw = analysis.saturation_stats([1, 16], n_trials=20)
    scaled = analysis.saturation_stats([1, 16], n_trials=20, scaled=True)
    ex = h.SEED_EXAMPLE
    return [
        chapter_plots.embedding_grids(E, X - E, X, APPLE),
        chapter_plots.side_by_side_heatmaps([w, w.T], ["行", "列"], APPLE, APPLE),
        chapter_plots.side_by_side_heatmaps([X @ X.T], ["分数 Q·Kᵀ"], APPLE, APPLE, kind="scores"),
        chapter_plots.self_weight_plot([4, 8], [0.5, 0.9], [0.25, 0.2], 4),
        chapter_plots.dot_contributions(ex["q1"], ex["K"], ["k1", "k2", "k3"]),
        chapter_plots.dot_contributions([1.0, -1.0], [[1.0, 2.0], [-1.0, 0.5]], ["a", "b"]),
        chapter_plots.variance_plot([1, 2, 4], [1.1, 1.9, 4.2], measured_scaled=[1.1, 0.95, 1.05]),
        chapter_plots.saturation_plot(raw, scaled, 8),
        chapter_plots.exp_overflow_plot({"float16": 11.09, "float64": 709.78}),
    ]


def test_every_figure_renders():
    for fig in _figures():
        assert isinstance(fig, Figure)
        assert len(render_png(fig)) > 1000


def test_side_by_side_titles_and_labels():
    w = np.full((4, 4), 0.25)
    fig = chapter_plots.side_by_side_heatmaps([w, w], ["左", "右"], APPLE, APPLE)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["左", "右"]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == APPLE


def test_side_by_side_shares_one_colorbar_and_query_label():
    w = np.full((4, 4), 0.25)
    for kind in ("weights", "scores"):
        fig = chapter_plots.side_by_side_heatmaps([w, w, w], ["a", "b", "c"], APPLE, APPLE, kind=kind)
        assert len(fig.axes) == 4  # three heatmaps + one shared colorbar
        assert [ax.get_ylabel() for ax in fig.axes[:3]] == ["查询 (query)", "", ""]
        assert all([t.get_text() for t in ax.get_yticklabels()] == APPLE for ax in fig.axes[:3])


def test_embedding_grids_has_a_colorbar():
    X = h.token_inputs(APPLE, 8)
    E = h.embed_tokens(APPLE, 8)
    fig = chapter_plots.embedding_grids(E, X - E, X, APPLE)
    assert len(fig.axes) == 4
    assert fig.axes[-1].get_ylabel().startswith("数值")


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: chapter_plots.side_by_side_heatmaps([np.eye(2), np.eye(3)], ["a", "b"], None, None),
         ValueError, "same shape"),
        (lambda: chapter_plots.side_by_side_heatmaps([np.eye(2)], ["a", "b"], None, None), ValueError, "titles"),
        (lambda: chapter_plots.side_by_side_heatmaps([np.eye(2)], ["a"], None, None, kind="x"),
         ValueError, "kind"),
        (lambda: chapter_plots.embedding_grids(np.eye(2), np.eye(3), np.eye(2), ["a", "b"]), ValueError, "PE"),
        (lambda: chapter_plots.dot_contributions([1, 2], np.eye(3), ["a", "b", "c"]), ValueError, "d_k"),
        (lambda: chapter_plots.dot_contributions([1, 2], np.eye(2), ["a"]), ValueError, "labels"),
        (lambda: chapter_plots.variance_plot([1, 2], [1.0]), ValueError, "measured"),
        (lambda: chapter_plots.self_weight_plot([4, 8], [0.5], [0.2, 0.3], 4), ValueError, "same length"),
        (lambda: chapter_plots.saturation_plot({"d_k": [1]}, {}, 8), ValueError, "missing"),
        (lambda: chapter_plots.exp_overflow_plot([11.0]), TypeError, "dict"),
    ],
)
def test_bad_input_is_rejected(call, exc, words):
    with pytest.raises(exc, match=words):
        call()


# --- no silent coercion (issue 14) ---

@pytest.mark.parametrize("call, exc, words", [
    # a (2, d_k) query used to be flattened into one 2·d_k vector
    (lambda: chapter_plots.dot_contributions(np.ones((2, 2)), np.ones((3, 4)), ["a", "b", "c"]), ValueError,
     r"query must have shape \(d_k,\) or \(1, d_k\)"),
    (lambda: chapter_plots.dot_contributions([1, 2], np.eye(2), None), TypeError, "key_labels"),
    (lambda: chapter_plots.variance_plot([-1, 4], [1.0, 4.0]), ValueError, "d_ks"),
    (lambda: chapter_plots.variance_plot([1, 4], [0.0, 4.0]), ValueError, "positive variances"),
    (lambda: chapter_plots.self_weight_plot([4, 8], [0.5, 0.6], [0.2, 0.3], 0), ValueError, "n_tokens"),
    (lambda: chapter_plots.self_weight_plot([4.5, 8], [0.5, 0.6], [0.2, 0.3], 4), TypeError, "d_models"),
    (lambda: chapter_plots.embedding_grids(np.eye(2), np.eye(2), np.eye(2), "ab"), TypeError, "tokens"),
    (lambda: chapter_plots.side_by_side_heatmaps([np.eye(2)], None, None, None), TypeError, "titles"),
])
def test_bad_input_is_named_not_coerced(call, exc, words):
    with pytest.raises(exc, match=words):
        call()


def test_saturation_plot_checks_n_keys_and_the_stats():
    raw = h.analysis.saturation_stats([1, 4], n_trials=10)
    scaled = h.analysis.saturation_stats([1, 4], n_trials=10, scaled=True)
    with pytest.raises(ValueError, match="n_keys must satisfy 2 <= n_keys"):
        chapter_plots.saturation_plot(raw, scaled, 1)
    with pytest.raises(ValueError, match="same d_ks"):
        chapter_plots.saturation_plot(raw, h.analysis.saturation_stats([1, 8], n_trials=10, scaled=True), 8)
    with pytest.raises(TypeError, match="raw must be the dict"):
        chapter_plots.saturation_plot(None, scaled, 8)


# --- adversarial pass, round 2 (findings 9, 19, 31, 32) ---

def test_saturation_plot_refuses_nan_and_short_statistics():
    raw = h.analysis.saturation_stats([1, 4], n_trials=10)
    scaled = h.analysis.saturation_stats([1, 4], n_trials=10, scaled=True)
    with pytest.raises(ValueError, match=r"scaled\['entropy'\] contains NaN"):
        chapter_plots.saturation_plot(raw, dict(scaled, entropy=np.array([np.nan, 1.0])), 8)
    with pytest.raises(ValueError, match=r"raw\['max_weight'\] has 1 values for 2 d_k values"):
        chapter_plots.saturation_plot(dict(raw, max_weight=np.array([0.5])), scaled, 8)


def test_embedding_grids_refuses_an_x_that_is_not_e_plus_pe():
    X = h.token_inputs(APPLE, 8)
    E = h.embed_tokens(APPLE, 8)
    with pytest.raises(ValueError, match=r"X must equal E \+ PE; at index \(0, 0\) X is"):
        chapter_plots.embedding_grids(X, X, X, APPLE)  # X ≠ X + X, yet the title says X = E + PE
    with pytest.raises(ValueError, match=r"X must equal E \+ PE; at index \(2, 5\)"):
        chapter_plots.embedding_grids(E, X - E, np.where(np.arange(32).reshape(4, 8) == 21, X + 0.01, X), APPLE)
    # float32 inputs that add up (up to float32 rounding) are drawn
    chapter_plots.embedding_grids(E.astype(np.float32), (X - E).astype(np.float32), X.astype(np.float32), APPLE)


@pytest.mark.parametrize("limits, exc, words", [
    ({"float16": np.nan}, ValueError, r"limits\['float16'\] must be a finite number"),
    ({"float16": "x"}, TypeError, r"limits\['float16'\] must be a real number"),
    ({"float16": -1.0, "float32": -2.0}, ValueError, r"limits\['float16'\] must be a positive finite number"),
    ({"float16": 0.0}, ValueError, r"limits\['float16'\] must be a positive"),
    ({"float16": 1e308}, ValueError, r"limits\['float16'\] must be at most 1e\+300"),
    ({16: 11.09}, TypeError, r"limits key 16 must be a str"),
    ({"": 11.09}, ValueError, r"limits key '' must be a non-empty str"),
])
def test_exp_overflow_plot_checks_every_limit(limits, exc, words):
    with pytest.raises(exc, match=words):
        chapter_plots.exp_overflow_plot(limits)


def test_dollar_signs_in_chapter_figures_are_drawn_literally():
    figs = [
        chapter_plots.side_by_side_heatmaps([np.eye(2) * 0.5 + 0.25], ["$t$"], ["$a$", "b"], ["c", "$d$"],
                                            suptitle="$s$"),
        chapter_plots.dot_contributions([1.0, 2.0], np.eye(2), ["$k$", r"$\frac$"], query_label="$q$"),
        chapter_plots.exp_overflow_plot({"$f$": 11.09, "float64": 709.78}),
        chapter_plots.embedding_grids(np.eye(2), np.eye(2), 2 * np.eye(2), ["$a$", "b"]),
    ]
    for f in figs:
        render_png(f)  # "$\frac$" used to fail here
        texts = [t for a in f.axes for t in a.get_xticklabels() + a.get_yticklabels() + [a.title, a.yaxis.label]]
        texts += [f._suptitle] if f._suptitle is not None else []
        texts += [t for a in f.axes if a.get_legend() for t in a.get_legend().get_texts()]
        assert not [t.get_text() for t in texts if t._preprocess_math(t.get_text())[1] is True]
        assert any(r"\$" in t.get_text() for t in texts)
