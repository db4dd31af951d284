"""Tests for helpers.walkthrough (chapter 05/06 pictures and the traced step table)."""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import helpers as h  # noqa: E402
from helpers import walkthrough as wt  # noqa: E402


def _setup(n=5, d_model=6, d_k=4, d_v=3):
    tokens = [f"t{i}" for i in range(n)]
    x = h.token_inputs(tokens, d_model, seed=1)
    return tokens, x, h.init_qkv_weights(d_model, d_k, d_v, seed=2)


def test_trace_matches_self_attention_and_shapes():
    tokens, x, w = _setup()
    z, alpha = h.self_attention(x, *w)
    steps = wt.trace_self_attention(x, *w, 3, tokens)
    assert [s["step"] for s in steps] == list(range(1, 11))
    by_name = {s["name"]: s for s in steps}
    assert np.allclose(by_name["α_i"]["value"], alpha[3])
    assert np.allclose(by_name["Z_i"]["value"], z[3])
    assert by_name["X"]["shape"] == "(5, 6)"
    assert by_name["K"]["shape"] == "(5, 4)"
    assert by_name["V"]["shape"] == "(5, 3)"
    assert by_name["Q_i"]["shape"] == "(4,)"
    assert by_name["Z_i"]["shape"] == "(3,)"
    # negative index = same query
    assert np.allclose(wt.trace_self_attention(x, *w, -2)[-1]["value"], z[3])


def test_trace_markdown_table():
    tokens, x, w = _setup()
    md = wt.trace_markdown(wt.trace_self_attention(x, *w, 0, tokens))
    lines = md.splitlines()
    assert len(lines) == 12 and lines[0].startswith("| 编号")
    assert "`(5, 4)`" in md


@pytest.mark.parametrize("bad, exc", [(7, ValueError), (-6, ValueError), (1.0, TypeError), (True, TypeError)])
def test_trace_bad_index(bad, exc):
    _, x, w = _setup()
    with pytest.raises(exc, match="query_index"):
        wt.trace_self_attention(x, *w, bad)


def test_trace_bad_tokens_and_x():
    _, x, w = _setup()
    with pytest.raises(ValueError, match="tokens"):
        wt.trace_self_attention(x, *w, 0, ["a", "b"])
    with pytest.raises(ValueError, match="shape"):
        wt.trace_self_attention(x[0], *w, 0)
    with pytest.raises(ValueError, match="steps"):
        wt.trace_markdown([])


@pytest.mark.parametrize("tokens, exc, pattern", [
    ("abcde", TypeError, r"^tokens must be a list of strings, not one string"),
    ([None, "b", "c", "d", "e"], TypeError, r"^tokens\[0\]: every token must be a non-empty str, got None"),
    (["a", b"b", "c", "d", "e"], TypeError, r"^tokens\[1\]: every token must be a non-empty str, got b'b'"),
    (["a", "b", 1.5, "d", "e"], TypeError, r"^tokens\[2\]: every token must be a non-empty str, got 1\.5"),
    (["a", "b", "c", "", "e"], TypeError, r"^tokens\[3\]: every token must be a non-empty str, got ''"),
    (["a", "b"], ValueError, r"^got 2 tokens for x of shape \(5, 6\); need one token per row$"),
])
def test_trace_tokens_are_tokens(tokens, exc, pattern):
    """tokens follow the one token-list rule: no per-character split of a str, no str() of None/bytes/numbers."""
    _, x, w = _setup()
    with pytest.raises(exc, match=pattern):
        wt.trace_self_attention(x, *w, 0, tokens)


def _unescape_markdown(cell):
    """The text a Markdown renderer shows for a cell: a backslash before ASCII punctuation is dropped."""
    import string
    out, i = [], 0
    while i < len(cell):
        if cell[i] == "\\" and i + 1 < len(cell) and cell[i + 1] in string.punctuation:
            i += 1
        out.append(cell[i])
        i += 1
    return "".join(out)


@pytest.mark.parametrize("token", ["a|b", "`code`", "*x*", "_y_", "$x^2$", "<b>k</b>", "a\\|b", "k\nl"])
def test_trace_markdown_shows_tokens_literally(token):
    """A token with | adds no column, and ` * _ $ < or a line break change no formatting."""
    _, x, w = _setup()
    steps = wt.trace_self_attention(x, *w, 1, ["t0", token, "t2", "t3", "t4"])
    lines = wt.trace_markdown(steps).splitlines()
    assert len(lines) == 12
    for line, st in zip(lines[2:], steps):
        cells, cell, i = [], "", 0
        while i < len(line):                       # split at unescaped |, as a GFM table does
            if line[i] == "\\" and i + 1 < len(line):
                cell += line[i:i + 2]
                i += 2
                continue
            if line[i] == "|":
                cells.append(cell)
                cell = ""
            else:
                cell += line[i]
            i += 1
        assert len(cells) == 6 and cell == "", line
        shown = _unescape_markdown(cells[3].strip())
        assert shown == st["what"].replace("\n", "\\n")
        bare = re.sub(r"\\[!-/:-@\[-`{-~]", "", cells[3])   # drop the escaped ASCII punctuation
        assert not set(bare) & set("|`*_$<>[]\\"), cells[3]   # nothing left that Markdown would interpret


def test_figures_return_figures():
    ex = h.SEED_EXAMPLE
    fig = wt.weighted_sum_figure(ex["weights"][0], ex["V"])
    assert isinstance(fig, matplotlib.figure.Figure)
    plt.close(fig)
    tokens, x, w = _setup()
    fig = wt.sequence_figure(wt.trace_self_attention(x, *w, 1, tokens), title="trace")
    assert isinstance(fig, matplotlib.figure.Figure)
    plt.close(fig)


@pytest.mark.parametrize(
    "weights, value, kwargs, exc, text",
    [
        ([0.5, 0.5], np.ones((3, 2)), {}, ValueError, "n_k"),
        ([0.7, 0.7], np.ones((2, 2)), {}, ValueError, "sum to 1"),
        ([-0.5, 1.5], np.ones((2, 2)), {}, ValueError, "non-negative"),
        ([0.5, 0.5], np.ones((2, 2)), {"dims": (0, 0)}, ValueError, "dims"),
        ([0.5, 0.5], np.ones((2, 2)), {"dims": (0, 5)}, ValueError, "dims"),
        ([0.5, 0.5], np.ones((2, 2)), {"value_labels": ["a"]}, ValueError, "value_labels"),
        ([0.5, 0.5], np.ones((2, 1)), {}, ValueError, "dims"),
    ],
)
def test_weighted_sum_figure_bad_input(weights, value, kwargs, exc, text):
    with pytest.raises(exc, match=text):
        wt.weighted_sum_figure(weights, value, **kwargs)


def test_value_line_figure_seed_example():
    ex = h.SEED_EXAMPLE
    rows = np.vstack([np.full(3, 1 / 3), ex["weights"][0]])
    fig = wt.value_line_figure(ex["V"], rows, row_labels=["均匀", "原例"], title="t")
    assert isinstance(fig, matplotlib.figure.Figure)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "(4.115, 5.115, 6.115)" in texts  # Z1 of the seed example
    assert "(4.000, 5.000, 6.000)" in texts  # uniform weights give the mean
    fig = wt.value_line_figure(ex["V"], ex["weights"][0])  # one row, default labels
    assert "α 第 1 行" in " ".join(t.get_text() for t in fig.axes[0].texts)


@pytest.mark.parametrize(
    "value, weights, kwargs, text",
    [
        ([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], [1 / 3] * 3, {"dim": 1}, "one straight line"),
        ([[1.0, 0.0], [1.0, 1.0]], [0.5, 0.5], {"dim": 0}, "same for the first and last"),
        ([[0.0, 0.0], [1.0, 1.0]], [0.5, 0.5], {"dim": 2}, "dim"),
        ([[0.0, 0.0], [1.0, 1.0]], [0.7, 0.7], {}, "sum to 1"),
        ([[0.0, 0.0], [1.0, 1.0]], [0.2, 0.3, 0.5], {}, "n_k = 2"),
        ([[0.0, 0.0], [1.0, 1.0]], [0.5, 0.5], {"row_labels": ["a", "b"]}, "row_labels"),
        ([[0.0, 0.0], [1.0, 1.0]], [0.5, 0.5], {"value_labels": ["a"]}, "value_labels"),
    ],
)
def test_value_line_figure_bad_input(value, weights, kwargs, text):
    with pytest.raises(ValueError, match=text):
        wt.value_line_figure(np.array(value), np.array(weights), **kwargs)


@pytest.mark.parametrize("kwargs, exc, text", [
    (dict(value_labels="ab"), TypeError, "^value_labels must be a list"),   # not split per character
    (dict(dims=(0, 1.5)), TypeError, r"^dims\[1\] must be an integer"),     # not rounded to 1
    (dict(dims=(True, 1)), TypeError, r"^dims\[0\] must be an integer"),
    (dict(dims="01"), TypeError, "^dims must be a pair of ints"),
])
def test_weighted_sum_figure_refuses_instead_of_coercing(kwargs, exc, text):
    with pytest.raises(exc, match=text):
        wt.weighted_sum_figure([0.5, 0.5], np.ones((2, 3)), **kwargs)
