"""Tests for helpers.widgets: every control changes the view and the numbers; extremes stay finite."""

from __future__ import annotations

import html
import re

import matplotlib

matplotlib.use("Agg")

import ipywidgets as W  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from figtools import render_png  # noqa: E402

import helpers as h  # noqa: E402
from helpers import plots, widgets  # noqa: E402

EX = h.SEED_EXAMPLE


def _finite(values: dict) -> bool:
    for v in values.values():
        if isinstance(v, (np.ndarray, float, int)) and not isinstance(v, bool):
            if not np.all(np.isfinite(v)):
                return False
    return True


def _state(panel):
    return panel.view.value, panel.readout.value


def _moves(panel, control, value):
    """Set ``control.value`` and check that the view, the readout and the values all change."""
    before_view, before_read = _state(panel)
    before_vals = {k: np.copy(v) if isinstance(v, np.ndarray) else v for k, v in panel.values.items()}
    control.value = value
    assert panel.view.value != before_view, f"{control.description}: view unchanged"
    assert panel.readout.value != before_read, f"{control.description}: readout unchanged"
    changed = [k for k in panel.values
               if not (isinstance(panel.values[k], np.ndarray) and isinstance(before_vals.get(k), np.ndarray)
                       and panel.values[k].shape == before_vals[k].shape
                       and np.array_equal(panel.values[k], before_vals[k]))
               and not (not isinstance(panel.values[k], np.ndarray) and panel.values[k] == before_vals.get(k))]
    assert changed, f"{control.description}: numbers unchanged"
    assert _finite(panel.values)


# ---------------------------------------------------------------------------
# creation is silent, every panel is a displayable widget with the documented attributes
# ---------------------------------------------------------------------------

PANELS = {
    "qkv_shapes_panel": ("slider_d_model", "slider_d_k"),
    "angle_panel": ("slider_angle", "slider_len_q", "slider_len_k"),
    "dk_panel": ("slider_dk",),
    "temperature_panel": ("slider_t",),
    "vector_panel": ("sliders_q", "key_select", "sliders_k", "reset_button"),
    "sentence_explorer": ("text_input", "causal_toggle", "slider_query"),
}


@pytest.mark.parametrize("name", sorted(PANELS))
def test_panel_creation_is_silent_and_documented(name, capsys):
    panel = getattr(widgets, name)()
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    assert isinstance(panel, W.VBox)
    assert isinstance(panel.view, W.HTML) and panel.view.value
    assert isinstance(panel.readout, W.HTML) and panel.readout.value
    for attr in PANELS[name]:
        assert hasattr(panel, attr), attr
        assert attr in widgets.__doc__
    assert _finite(panel.values)


# ---------------------------------------------------------------------------
# each control moves the view and the numbers
# ---------------------------------------------------------------------------

def test_qkv_shapes_panel():
    p = widgets.qkv_shapes_panel()
    assert p.values["Q"].shape == (4, 4) and "(4 × 8)" in p.view.value
    _moves(p, p.slider_d_model, 12)
    assert p.values["X"].shape == (4, 12) and "W_Q  (12 × 4)" in p.view.value
    _moves(p, p.slider_d_k, 2)
    assert p.values["Q"].shape == p.values["K"].shape == p.values["V"].shape == (4, 2)
    assert "Q (4×2)" in p.readout.value
    for dm, dk in ((p.slider_d_model.min, p.slider_d_k.min), (p.slider_d_model.max, p.slider_d_k.max)):
        p.slider_d_model.value, p.slider_d_k.value = dm, dk
        assert p.values["Q"].shape == (4, dk) and _finite(p.values)


def test_angle_panel():
    p = widgets.angle_panel()
    assert p.values["cos"] == pytest.approx(0.5) and p.values["dot"] == pytest.approx(2.0)
    _moves(p, p.slider_angle, 90)
    assert p.values["dot"] == pytest.approx(0.0, abs=1e-12) and p.values["cos"] == pytest.approx(0.0, abs=1e-12)
    _moves(p, p.slider_len_q, 3.0)
    _moves(p, p.slider_len_k, 0.5)
    p.slider_angle.value = 180
    assert p.values["cos"] == pytest.approx(-1.0) and p.values["dot"] == pytest.approx(-1.5)
    assert np.dot(p.values["q"], p.values["k"]) == pytest.approx(p.values["dot"])


def test_dk_panel_and_extremes():
    p = widgets.dk_panel()
    assert p.values["d_k"] == 64
    _moves(p, p.slider_dk, 512)
    big = dict(p.values)
    _moves(p, p.slider_dk, 1)
    small = p.values
    assert big["std_raw"] > 15 > 2 > small["std_raw"]
    assert 0.8 < big["std_scaled"] < 1.2 and 0.8 < small["std_scaled"] < 1.2
    assert big["weights_raw"].max() > 0.99  # softmax saturates without scaling
    assert big["weights_scaled"].max() < big["weights_raw"].max()
    for v in (big, small):
        assert np.allclose(v["weights_raw"].sum(), 1) and np.allclose(v["weights_scaled"].sum(), 1)
    assert list(p.slider_dk.options) == list(widgets.DK_STEPS) and widgets.DK_STEPS[::9] == (1, 512)


def test_temperature_panel_and_extremes():
    p = widgets.temperature_panel()
    w1 = p.values["weights"]
    assert np.allclose(w1, h.softmax(widgets.DEFAULT_TEMPERATURE_SCORES))
    _moves(p, p.slider_t, 0.1)
    _moves(p, p.slider_t, 10.0)
    p.slider_t.value = 10 ** p.slider_t.min  # near 0: one-hot
    sharp = p.values["weights"]
    assert sharp.max() > 0.999 and _finite(p.values)
    p.slider_t.value = 10 ** p.slider_t.max  # large: nearly uniform
    flat = p.values["weights"]
    assert np.allclose(flat, 1 / len(flat), atol=0.01) and _finite(p.values)
    q = widgets.temperature_panel([0.0, 1.0, 2.0], labels=["a", "b", "c"])
    assert ">a<" in q.view.value
    with pytest.raises(ValueError):
        widgets.temperature_panel([1.0, np.nan])
    with pytest.raises(ValueError):
        widgets.temperature_panel([1.0, 2.0], labels=["a"])


def test_vector_panel_defaults_reproduce_the_seed():
    p = widgets.vector_panel()
    assert np.allclose(p.values["weights"], EX["weights"][0], atol=1e-8)
    assert np.allclose(p.values["Z1"], EX["output"][0], atol=1e-8)
    assert "[0.3143, 0.3330, 0.3528]" in p.readout.value
    assert "[4.1154, 5.1154, 6.1154]" in p.readout.value


def test_vector_panel_every_slider_moves_and_bounds_are_finite():
    p = widgets.vector_panel()
    for s in p.sliders_q:
        _moves(p, s, s.value + 0.3)
    for j in range(3):
        p.key_select.value = j
        assert p.sliders_k[0].description.startswith(f"k{j + 1}")
        assert p.sliders_k[0].value == pytest.approx(EX["K"][j, 0])
        for s in p.sliders_k:
            _moves(p, s, -s.value if s.value else 0.5)
    for bound in ("min", "max"):
        for s in p.sliders_q + p.sliders_k:
            s.value = getattr(s, bound)
        assert _finite(p.values)
        assert np.isclose(p.values["weights"].sum(), 1.0)
    p.reset_button.click()
    assert np.allclose(p.values["weights"], EX["weights"][0], atol=1e-8)
    assert np.allclose(p.values["K"], EX["K"])


def test_sentence_explorer_controls():
    p = widgets.sentence_explorer()
    assert p.values["tokens"] == h.SENTENCE_APPLE
    assert "苹果" in p.view.value and p.values["mask"] is None
    _moves(p, p.slider_query, 3)
    assert p.values["query"] == 3 and plots.HIGHLIGHT_COLOR in p.view.value and "苹果" in p.readout.value
    _moves(p, p.causal_toggle, True)
    assert p.values["mask"] is not None
    assert np.allclose(np.triu(p.values["weights"], 1), 0)
    assert "repeating-linear-gradient" in p.view.value  # hatched blocked cells
    p.text_input.value = widgets.EXAMPLE_SENTENCES[2]  # the full 小猫 … 它 sentence
    assert p.values["tokens"] == h.SENTENCE_CAT
    assert p.slider_query.value == -1 and len(p.slider_query.options) == len(h.SENTENCE_CAT) + 1
    assert ">0." not in p.view.value  # 20 × 20: no numbers in the cells
    p.slider_query.value = 18
    assert "它" in p.readout.value
    assert np.allclose(p.values["weights"].sum(axis=1), 1)


def test_sentence_explorer_bad_text_shows_message_instead_of_raising():
    p = widgets.sentence_explorer()
    view = p.view.value
    p.text_input.value = "，。"
    assert "⚠" in p.readout.value
    # picture and readout describe the text box (issue 14, class 7): no heatmap of the old sentence …
    assert p.view.value != view and "没有可显示的句子" in p.view.value and p.values["tokens"] == []
    # … not even after another control changes
    p.causal_toggle.value = True
    assert "⚠" in p.readout.value and "没有可显示的句子" in p.view.value and p.values["tokens"] == []
    p.text_input.value = "我喜欢吃香蕉"
    assert p.values["tokens"] == ["我", "喜欢", "吃", "香蕉"] and "⚠" not in p.readout.value
    assert p.values["mask"] is not None  # the causal toggle set meanwhile applies to the new sentence


def _retyped(p):
    """The tokens the panel shows after the learner re-enters its text box (a space added at either end,
    then the text exactly as it was)."""
    box, seen = p.text_input.value, []
    for text in (box + " ", " " + box, box):
        p.text_input.value = text
        seen.append(p.values["tokens"])
    return seen


SENTENCE_TOKEN_LISTS = ([h.tokenize(s, keep_punctuation=keep) for s in widgets.EXAMPLE_SENTENCES for keep in (False, True)]
                        + [["我", "，", "你"], ["我", "……", "你", "。"], ["GPT-4", "很", "强"], ["苹果"], ["，"]])


@pytest.mark.parametrize("tokens", SENTENCE_TOKEN_LISTS, ids=lambda t: "".join(t)[:12])
def test_sentence_explorer_text_box_reads_back_the_tokens_shown(tokens):
    # explore2 N8: the box showed " ".join(tokens), and the first keystroke showed other tokens
    p = widgets.sentence_explorer(list(tokens))
    assert p.values["tokens"] == tokens
    assert _retyped(p) == [tokens] * 3
    assert "⚠" not in p.readout.value


@pytest.mark.parametrize("text", widgets.EXAMPLE_SENTENCES + ("我 喜欢 这个 苹果",))
def test_sentence_explorer_typed_sentence_reads_back(text):
    p = widgets.sentence_explorer(text)
    assert p.text_input.value == text and _retyped(p) == [h.tokenize(text)] * 3


def test_sentence_explorer_punctuation_tokens_stay_tokens_in_later_sentences():
    p = widgets.sentence_explorer(["我", "，", "你"])
    p.text_input.value = widgets.EXAMPLE_SENTENCES[1]
    assert p.values["tokens"] == h.tokenize(widgets.EXAMPLE_SENTENCES[1], keep_punctuation=True)
    assert "，" in p.values["tokens"]
    # a panel given a sentence (or tokens without punctuation) drops it, as tokenize does by default
    p = widgets.sentence_explorer(h.SENTENCE_APPLE)
    p.text_input.value = widgets.EXAMPLE_SENTENCES[1]
    assert p.values["tokens"] == h.tokenize(widgets.EXAMPLE_SENTENCES[1])


@pytest.mark.parametrize("tokens, message", [
    (["我", "喜 欢", "苹果"], r"text\[1\] must be a single token without spaces, got '喜 欢'"),
    (["我", "喜欢\u3000", "苹果"], r"text\[1\] must be a single token without spaces"),
    (["喜欢，", "你"], r"text\[0\] = '喜欢，' would not survive the text box: it shows '喜欢， 你', which reads "
                       r"back as \['喜欢', '你'\]"),
    (["小红"], r"text\[0\] = '小红' would not survive the text box: .* reads back as \['小', '红'\]"),
    (["我", "\u200b"], r"text\[1\] = '\\u200b' would not survive the text box"),
])
def test_sentence_explorer_refuses_tokens_its_text_box_cannot_hold(tokens, message):
    for call in (widgets.sentence_explorer, widgets.sentence_figure):   # the static twin takes the same input
        with pytest.raises(ValueError, match=message):
            call(list(tokens))
    # the general token rule is unchanged: other panels show model tokens as they are
    assert h.embed_tokens(tokens, 4).shape == (len(tokens), 4)


@pytest.mark.parametrize("text, zh", [
    ("", "还没有句子"), ("   ", "还没有句子"), ("，。", "这里没有词"),
    ("我" * 40, f"句子太长：有 40 个词，最多能显示 {widgets.MAX_TOKENS} 个"), ("我\x00你", "文字里有控制字符"),
])
def test_sentence_explorer_readout_says_what_is_wrong_in_chinese_first(text, zh):
    # explore2 N14: the readout was the helper's English message ("text has 40 tokens; …")
    p = widgets.sentence_explorer()
    p.text_input.value = text
    lines = [line.strip() for line in re.sub("<[^>]+>", "\n", p.readout.value).split("\n") if line.strip()]
    assert lines[0].startswith(f"⚠ {zh}") and not re.search("[A-Za-z]", lines[0])
    assert re.match(r"text (has|contains)", html.unescape(lines[1]))   # the English detail after it
    assert p.values["tokens"] == [] and p.values["error"] == html.unescape(lines[1])


def test_sentence_explorer_weights_override():
    X = h.token_inputs(h.SENTENCE_APPLE, 6)
    Wts = h.init_qkv_weights(6, 3, seed=5)
    p = widgets.sentence_explorer(weights=Wts)
    _, A = h.self_attention(X, *Wts)
    assert np.allclose(p.values["weights"], A)
    fig = widgets.sentence_figure(weights=Wts, query=1)
    assert np.allclose(fig.axes[0].images[0].get_array(), A)
    with pytest.raises(ValueError):
        widgets.sentence_explorer(weights=(Wts[0], Wts[1][:, :2], Wts[2]))
    with pytest.raises(TypeError):
        widgets.sentence_explorer(weights=Wts[0])
    with pytest.raises(ValueError):
        widgets.sentence_explorer("")


# ---------------------------------------------------------------------------
# static counterparts
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["qkv_shapes_figure", "angle_figure", "dk_figure", "temperature_figure",
                                  "vector_figure", "sentence_figure"])
def test_static_figures(name):
    fig = getattr(widgets, name)()
    assert isinstance(fig, Figure)
    assert render_png(fig)[:4] == b"\x89PNG"


def test_static_and_live_match():
    p = widgets.sentence_explorer(causal=True, query=2)
    fig = widgets.sentence_figure(causal=True, query=2)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == p.values["tokens"]
    arr = np.ma.getdata(ax.images[0].get_array())
    assert np.allclose(arr, p.values["weights"])
    # same colour map: the darkest and lightest cells get matplotlib's colours
    cmap = matplotlib.colormaps[plots.WEIGHTS_CMAP]
    assert mcolors.to_hex(cmap(1.0)) in p.view.value
    vf = widgets.vector_figure()
    assert "0.3143" in [t.get_text() for ax in vf.axes for t in ax.texts]


def test_heatmap_html_structure():
    html = widgets.heatmap_html([[1.0, 0.0]], ["查询"], ["甲", "乙"], highlight_row=0, mask=[[True, False]])
    cmap = matplotlib.colormaps[plots.WEIGHTS_CMAP]
    assert mcolors.to_hex(cmap(0.0)) in html and mcolors.to_hex(cmap(1.0)) in html
    assert html.count("<td") == 2 and "repeating-linear-gradient" in html
    assert ">1.00<" in html and ">0.00<" not in html  # blocked cell is not annotated
    assert re.search(r">查询<", html) and ">甲<" in html and ">乙<" in html
    assert "<script" not in html
    safe = widgets.heatmap_html([[0.5]], ["<b>"], ["&"])
    assert "&lt;b&gt;" in safe and "&amp;" in safe
    with pytest.raises(ValueError):
        widgets.heatmap_html([[0.5, 0.5]], ["a"], ["b"])


# ---------------------------------------------------------------------------
# bad start values: refused by the panel, naming the parameter (issue 14), never clipped by a slider
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("call, kwargs, exc, message", [
    # a value outside a slider's range would be clipped silently by ipywidgets: the panel refuses it
    ("qkv_shapes_panel", dict(d_model=64), ValueError, r"d_model must satisfy 2 <= d_model <= 16, got 64"),
    ("qkv_shapes_panel", dict(d_k=float("nan")), TypeError, r"d_k must be an integer"),
    ("qkv_shapes_panel", dict(tokens="我喜欢"), TypeError, r"tokens must be a list of strings"),
    ("angle_panel", dict(angle=270), ValueError, r"angle must satisfy 0 <= angle <= 180, got 270"),
    ("angle_panel", dict(angle=float("nan")), TypeError, r"angle must be an integer"),
    ("angle_panel", dict(len_q=5.0), ValueError, r"len_q must be between 0.5 and 3, got 5.0"),
    ("angle_figure", dict(len_k=1 + 1j), TypeError, r"len_k must be a real number"),
    ("dk_panel", dict(d_k=True), TypeError, r"d_k must be an integer"),          # not the d_k = 1 step
    ("dk_panel", dict(d_k=100), ValueError, r"d_k must be one of"),
    ("dk_figure", dict(seed=-1), ValueError, r"seed must satisfy 0 <= seed"),
    ("temperature_panel", dict(temperature=1000.0), ValueError, r"temperature must be between 0.01 and 100"),
    ("temperature_panel", dict(temperature=1 + 1j), TypeError, r"temperature must be a real number"),
    ("vector_panel", dict(vmin=None), TypeError, r"vmin must be a real number"),
    ("vector_panel", dict(vmax=-1e308), ValueError, r"vmax must be between -100 and 100"),
    ("vector_panel", dict(vmin=0.5), ValueError, r"must hold the example's components \(0.1 … 0.8\)"),
    ("vector_panel", dict(step=10.0), ValueError, r"step must be at most 6"),
    ("sentence_explorer", dict(text=""), ValueError, r"text has no tokens"),
    ("sentence_figure", dict(query=True), TypeError, r"query must be an int index"),  # not row 1
    ("sentence_explorer", dict(causal="yes"), TypeError, r"causal must be True or False"),
    ("sentence_explorer", dict(weights=(np.eye(4), np.eye(4), np.ones(4))), ValueError, r"weights\[2\] \(W_V\)"),
    ("multihead_panel", dict(head=None), TypeError, r"head must be an int index"),
    ("multihead_figure", dict(head=1.5), TypeError, r"head must be an int index"),
    ("multihead_panel", dict(tokens=["小猫", 3]), TypeError, r"tokens\[1\]"),        # not str(3)
    ("example_attention", dict(seed=None), TypeError, r"seed must be an integer"),
    ("example_attention", dict(n=8.0), TypeError, r"n must be an integer"),
    # the static figures name their own parameters, not the plotting function's (query/key)
    ("vector_figure", dict(q1=[0.2, np.nan, 0.1]), ValueError, r"q1 contains NaN"),
    ("vector_figure", dict(K=np.ones((2, 3))), ValueError, r"K must have shape \(3, d_k\) with d_k = 3"),
    ("temperature_figure", dict(scores=[1.0, 2.0], labels=["a", "b", "c"]), ValueError, r"2 scores to label"),
])
def test_bad_start_values_name_the_parameter(call, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        getattr(widgets, call)(**kwargs)


def test_good_numpy_start_values_work():
    assert widgets.dk_panel(d_k=np.int64(8)).values["d_k"] == 8
    assert widgets.angle_panel(angle=np.int64(90), len_q=np.float64(1.5)).values["dot"] == pytest.approx(0, abs=1e-12)
    assert widgets.multihead_panel(head=np.int64(-1)).head_select.value == 3    # negative counts from the end
    assert widgets.sentence_explorer(query=-1).slider_query.value == len(h.SENTENCE_APPLE) - 1


def test_heatmap_html_names_the_matrix_when_labels_do_not_fit():
    with pytest.raises(ValueError, match=r"M has 1 rows .* but row_labels has 3 entries"):
        widgets.heatmap_html(np.full(5, 0.2), ["a", "b", "c"], list("vwxyz"))


def test_colour_and_axis_ranges_cannot_overflow():
    # vmax - vmin must stay finite (±1e308 overflowed to inf inside the colour scale / the y axis)
    with pytest.raises(ValueError, match=r"vmin and vmax must lie within ±1e\+300; got vmin=-1e\+308"):
        widgets.heatmap_html([[0.5]], ["a"], ["b"], vmin=-1e308, vmax=1e308)
    with pytest.raises(ValueError, match=r"vmin must be between -1e\+300 and 1e\+300, got 1e\+308"):
        widgets.bars_svg([1.0], ["a"], vmin=1e308)
    for kw in (dict(vmin=-1e300), dict(vmax=1e300), dict(vmin=-1e300, vmax=1e300)):
        svg = widgets.bars_svg([1e150, -1e150], ["a", "b"], **kw)
        assert "nan" not in svg and "inf" not in svg
    html = widgets.heatmap_html([[1e300, -1e300]], ["a"], ["b", "c"], vmin=-1e300, vmax=1e300)
    assert "nan" not in html and "inf" not in html


def test_bars_are_drawn_from_zero_so_a_fixed_range_must_include_it():
    # bars are lengths from 0: on the range 1 … 3 the bar of 1 was invisible, on −3 … −1 the bar of −1 the tallest
    with pytest.raises(ValueError, match=r"vmin must be <= 0: bars are drawn from 0.*got vmin=1\.0"):
        widgets.bars_svg([1.0, 3.0], ["a", "b"], vmin=1, vmax=3)
    with pytest.raises(ValueError, match=r"vmax must be >= 0: bars are drawn from 0.*got vmax=-1\.0"):
        widgets.bars_svg([-1.0, -3.0], ["a", "b"], vmin=-3, vmax=-1)
    with pytest.raises(ValueError, match=r"vmin must be <= 0"):
        widgets.bars_svg([1.0, 3.0], ["a", "b"], vmin=0.5)             # the data's end would not help
    with pytest.raises(ValueError, match=r"vmax must be >= 0"):
        widgets.bars_svg([-1.0, -3.0], ["a", "b"], vmax=-0.5)
    # a range with 0 inside or at an end: bar heights are proportional to the values
    for kw in (dict(vmin=0, vmax=3), dict(vmin=-3, vmax=0), dict(vmin=-1, vmax=4), dict()):
        vals = [1.0, 3.0] if kw.get("vmax", 1) > 0 else [-1.0, -3.0]
        hs = [float(x) for x in re.findall(r'<rect [^>]*height="([\d.]+)" fill', widgets.bars_svg(vals, ["a", "b"], **kw))]
        assert hs[1] == pytest.approx(3 * hs[0], rel=0.02), kw


def test_dk_panel_values_do_not_share_the_cached_sample():
    p = widgets.dk_panel()
    before = _state(p)
    p.values["scores"][:] = 100                                        # a learner's experiment on the values
    assert _state(widgets.dk_panel()) == before                        # later panels are not affected
    raw, scores = widgets.scaling._dk_all(0)
    assert not raw.flags.writeable and not scores.flags.writeable      # the cache itself cannot be changed
    for v in p.values.values():
        if isinstance(v, np.ndarray):
            assert not np.shares_memory(v, scores) and not np.shares_memory(v, raw)


def test_sentence_explorer_weights_too_large_name_weights():
    Wts = [w.copy() for w in h.init_qkv_weights(16, 8)]
    Wts[0][0, 0] = 1e150                                               # fine alone, but X @ W_Q overflows Q Kᵀ
    for call in (widgets.sentence_explorer, widgets.sentence_figure):
        with pytest.raises(ValueError, match=r"weights\[0\] \(W_Q\) is too large for these inputs: "
                                             r"X @ weights\[0\] \(W_Q\) reaches"):
            call(weights=tuple(Wts))
    # weights that fit the first sentence but not a later one: the panel says so and shows no old heatmap
    first, later = "我喜欢这个苹果", "小猫追逐蝴蝶"
    x_first = h.token_inputs(h.tokenize(first), 16)
    x_later = h.token_inputs(h.tokenize(later), 16)
    r = int(np.argmax(np.abs(x_later).max(axis=0) / np.abs(x_first).max(axis=0)))  # a dimension larger in `later`
    assert np.abs(x_later[:, r]).max() > np.abs(x_first[:, r]).max()
    W_V = np.zeros((16, 8))
    W_V[r, 0] = 1e150 / np.abs(x_first[:, r]).max() * 0.999
    Wts[0][0, 0] = 0.0
    p = widgets.sentence_explorer(first, weights=(Wts[0], Wts[1], W_V))
    assert "⚠" not in p.readout.value
    p.text_input.value = later
    assert "⚠" in p.readout.value and "weights[2] (W_V) is too large" in p.readout.value
    assert p.values["tokens"] == [] and p.values["weights"] is None
    p.text_input.value = first
    assert "⚠" not in p.readout.value and p.values["tokens"] == h.tokenize(first)


def test_control_characters_in_labels_stay_visible_text():
    # XML forbids them even escaped; every page text goes through esc(), which writes them as \x1b
    html = widgets.heatmap_html([[0.5, 0.5]], ["\x1b[31m"], ["\x00", "b"])
    assert "\\x1b[31m" in html and "\\x00" in html
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", html)
    svg = widgets.bars_svg([0.5], ["\x07"], title="t\x00")
    import xml.etree.ElementTree as ET
    ET.fromstring(svg)
    assert "\\x07" in svg and "t\\x00" in svg


def test_heatmap_html_takes_the_same_labels_as_the_static_heatmap():
    """N13: one label rule (plots._labels → validation.check_labels): range, tuple, arrays, numbers."""
    for labels in (range(2), (0, 1), np.arange(2), [0, "1"]):
        html = widgets.heatmap_html([[0.5, 0.5], [1.0, 0.0]], labels, labels)
        assert ">0</th>" in html and ">1</th>" in html
    with pytest.raises(ValueError, match=r"^M has 2 rows .* but row_labels has 3 entries"):
        widgets.heatmap_html([[0.5, 0.5], [1.0, 0.0]], range(3), range(2))
    with pytest.raises(TypeError, match=r"^col_labels must be a list of 2 labels, got str 'ab'; labels may be a "
                                        r"list, tuple, range or 1-D array of str or numbers$"):
        widgets.heatmap_html([[0.5, 0.5], [1.0, 0.0]], None, "ab")


def test_heatmap_html_refuses_weight_hidden_under_the_mask():
    # finding 6: a forgotten mask (softmax over every key) drawn with mask= looked like a perfect causal triangle
    X = h.token_inputs(h.SENTENCE_APPLE, 8)
    Wts = h.init_qkv_weights(8, 4)
    toks = list(h.SENTENCE_APPLE)
    _, forgot = h.self_attention(X, *Wts)
    with pytest.raises(ValueError, match=r"M\[0, 1\] = 0\.\d+ although mask\[0, 1\] is False: apply the mask "
                                         r"before softmax .* 6 blocked cell\(s\) hold weight"):
        widgets.heatmap_html(forgot, toks, toks, mask=h.causal_mask(4))
    with pytest.raises(ValueError, match=r"M \(drawn as one row\)\[0, 2\] = 0\.5 although mask\[2\] is False"):
        widgets.heatmap_html([0.5, 0.0, 0.5], ["q"], ["a", "b", "c"], mask=[True, True, False])
    # the same rule as the static heatmap
    with pytest.raises(ValueError, match=r"apply the mask before softmax"):
        plots.attention_heatmap(forgot, toks, toks, mask=h.causal_mask(4))
    # applied mask: blocked weights are exactly 0 and the picture is drawn
    _, applied = h.self_attention(X, *Wts, mask=h.causal_mask(4))
    assert widgets.heatmap_html(applied, toks, toks, mask=h.causal_mask(4)).count("repeating-linear-gradient") == 6
    # another colour range (scores before masking): blocked cells may hold any value
    scores = np.arange(16.0).reshape(4, 4) - 8
    assert "repeating-linear-gradient" in widgets.heatmap_html(scores, toks, toks, mask=h.causal_mask(4),
                                                               cmap=plots.DIVERGING_CMAP, vmin=-8, vmax=8)
    # N7: weight rows are checked whatever the colour range (the rule was tied to exactly (0, 1))
    for vmin, vmax in ((0.0, 1.0001), (-1.0, 1.0), (0.0, 0.5)):
        with pytest.raises(ValueError, match=r"^M\[0, 1\] = 0\.\d+ although mask\[0, 1\] is False: apply the mask"):
            widgets.heatmap_html(forgot, toks, toks, mask=h.causal_mask(4), vmin=vmin, vmax=vmax)
        with pytest.raises(ValueError, match=r"^weights\[0, 1\] = 0\.\d+ although mask\[0, 1\] is False"):
            plots.attention_heatmap(forgot, toks, toks, mask=h.causal_mask(4), vmin=vmin, vmax=vmax)
    rounded = np.round(forgot, 2)  # weights typed from a printout still count as weights
    with pytest.raises(ValueError, match=r"^M\[0, 2\] = 0\.01 although mask\[0, 2\] is False"):
        widgets.heatmap_html(rounded, toks, toks, mask=h.causal_mask(4), vmax=0.9)
    with pytest.raises(ValueError, match=r"^mask looks inverted: M is 0 at every cell mask allows"):  # N12
        widgets.heatmap_html(applied, toks, toks, mask=~h.causal_mask(4))
    # values that are not weight rows (scores on the weights' range, rows not summing to 1) may sit there
    assert "repeating-linear-gradient" in widgets.heatmap_html(np.full((4, 4), 0.5), toks, toks, mask=h.causal_mask(4))
    # the panels built on it draw weights computed with the mask
    p = widgets.sentence_explorer(causal=True, query=2)
    p.text_input.value = widgets.EXAMPLE_SENTENCES[2]
    assert "⚠" not in p.readout.value and "repeating-linear-gradient" in p.view.value
    m = widgets.multihead_panel(causal=True)
    m.slider_query.value, m.head_select.value = 3, 2
    assert "repeating-linear-gradient" in m.view.value
