"""Chapter 10's static figures (helpers.induction_plots): what they draw and what they refuse.

The contract test (tests/test_contract.py) throws the generic bad inputs at every figure; the
tests here are the mistakes a learner makes with *these* figures: a sentence passed as one
string, masks of the wrong length, a score outside 0–1, a head that does not exist …
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import induction_plots as ip  # noqa: E402
from helpers import validation as v  # noqa: E402

CHARS = list("今天天气好今天天气好")              # 10 characters → 9 losses
LOSS = np.linspace(3.0, 0.1, 9)
REP = np.arange(9) > 5
RAND = np.arange(9) <= 5


def _heads_weights(n_layers=2, n_heads=2, n=4, seed=0):
    """Causal softmax weights (n_layers, n_heads, n, n), rows = queries."""
    rng = np.random.default_rng(seed)
    s = np.where(np.tril(np.ones((n, n), dtype=bool)), rng.normal(size=(n_layers, n_heads, n, n)), -np.inf)
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


# ---------------------------------------------------------------------------
# head_label
# ---------------------------------------------------------------------------

def test_head_label_counts_from_one():
    assert ip.head_label(0, 0) == "第1层·头1"
    assert ip.head_label(1, 0) == "第2层·头1"
    assert ip.head_label(np.int64(0), np.int64(1)) == "第1层·头2"


@pytest.mark.parametrize("layer, head, name, exc", [
    (-1, 0, "layer", ValueError),      # would print "第0层"
    (0, -1, "head", ValueError),
    ("1", 0, "layer", TypeError),
    (0, 1.0, "head", TypeError),
    (True, 0, "layer", TypeError),
])
def test_head_label_refuses_what_is_not_an_index(layer, head, name, exc):
    with pytest.raises(exc, match=rf"^{name} "):
        ip.head_label(layer, head)


# ---------------------------------------------------------------------------
# position_loss_figure
# ---------------------------------------------------------------------------

def test_position_loss_figure_colours_and_labels():
    fig = ip.position_loss_figure(CHARS, LOSS, REP, RAND, 40)
    ax = fig.axes[0]
    bars = ax.patches[:9]
    assert [round(b.get_height(), 6) for b in bars] == [round(x, 6) for x in LOSS]
    colours = [matplotlib.colors.to_hex(b.get_facecolor()) for b in bars]
    assert colours == [ip.FIRST_COLOR] * 6 + [matplotlib.colors.to_hex(ip.COPY_COLOR)] * 3
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"{c}\n{t + 1}" for t, c in enumerate(CHARS[1:])]


def test_position_loss_figure_keeps_float32_and_readonly_inputs_unchanged():
    loss = LOSS.astype(np.float32)
    loss.flags.writeable = False
    ip.position_loss_figure(CHARS, loss, REP, RAND, 40)
    assert loss.dtype == np.float32 and not loss.flags.writeable


@pytest.mark.parametrize("kwargs, exc, pattern", [
    (dict(chars="今天天气好今天天气好"), TypeError, r"^chars must be a list of strings, not one string"),
    (dict(chars=CHARS[:-1]), ValueError, r"^chars must have len\(loss\) \+ 1 = 10 entries; got 9"),
    (dict(loss=-LOSS), ValueError, r"^every value of loss must be in \[0, 1e\+06\] \(a cross-entropy"),
    (dict(loss=LOSS[None]), ValueError, r"^loss must have shape \(n,\)"),
    (dict(loss=np.ones(40), chars=list("今" * 41), rep_mask=np.ones(40, bool), rand_mask=np.ones(40, bool)),
     ValueError, r"^loss has 40 positions; .* at most 32"),
    (dict(rep_mask=REP[:-1]), ValueError, r"^rep_mask of shape \(8,\) cannot be broadcast to the loss' shape \(9,\)"),
    (dict(rand_mask=RAND.astype(int)), TypeError, r"^rand_mask must be a boolean array"),
    (dict(vocab_size=0), ValueError, r"^vocab_size must be a positive integer, got 0"),
])
def test_position_loss_figure_names_the_bad_argument(kwargs, exc, pattern):
    call = dict(chars=CHARS, loss=LOSS, rep_mask=REP, rand_mask=RAND, vocab_size=40) | kwargs
    with pytest.raises(exc, match=pattern):
        ip.position_loss_figure(**call)


# ---------------------------------------------------------------------------
# head_scores_figure and ablation_figure
# ---------------------------------------------------------------------------

PREV = np.array([[0.7, 0.1], [0.1, 0.2]])
IND = np.array([[0.1, 0.1], [0.2, 0.85]])


def test_head_scores_figure_draws_one_pair_of_bars_per_head():
    ax = ip.head_scores_figure(PREV, IND).axes[0]
    heights = [b.get_height() for b in ax.patches]
    assert np.allclose(heights, np.r_[PREV.ravel(), IND.ravel()])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["第1层·头1", "第1层·头2", "第2层·头1", "第2层·头2"]


@pytest.mark.parametrize("prev, induction, exc, pattern", [
    (PREV * 2, IND, ValueError, r"^every value of prev must be in \[0, 1\] \(a mean attention weight\); got 1\.4"),
    (PREV, -IND, ValueError, r"^every value of induction must be in \[0, 1\]"),
    (PREV, IND[:1], ValueError, r"^prev and induction must have the same shape; got prev \(2, 2\) and induction \(1, 2\)"),
    (PREV.ravel(), IND, ValueError, r"^prev must have shape \(n_layers, n_heads\)"),
    (np.full((3, 3), 0.5), np.full((3, 3), 0.5), ValueError, r"^prev has 9 heads .* at most 8"),
])
def test_head_scores_figure_refuses_what_is_not_a_score(prev, induction, exc, pattern):
    with pytest.raises(exc, match=pattern):
        ip.head_scores_figure(prev, induction)


def test_ablation_figure_shows_a_bar_above_the_random_loss():
    """A head whose removal makes the copy worse than random must not be cut off at the top."""
    rep = np.array([[2.0, 0.3], [0.2, 4.5]])
    ax = ip.ablation_figure(rep, 0.2, 3.4).axes[0]
    assert ax.get_ylim()[1] >= 4.5 + 1.0


@pytest.mark.parametrize("args, exc, pattern", [
    ((-np.ones((2, 2)), 0.2, 3.4), ValueError, r"^every value of rep must be in \[0, 1e\+06\]"),
    ((np.ones((2, 2)), -0.2, 3.4), ValueError, r"^baseline_rep must be a number in \[0, 1e\+06\], got -0\.2"),
    ((np.ones((2, 2)), 0.2, None), TypeError, r"^rand must be a real number"),
    ((np.ones((2, 2)), 0.2, 1e308), ValueError, r"^rand must be a number in \[0, 1e\+06\]"),
])
def test_ablation_figure_names_the_bad_argument(args, exc, pattern):
    with pytest.raises(exc, match=pattern):
        ip.ablation_figure(*args)


# ---------------------------------------------------------------------------
# heads_figure
# ---------------------------------------------------------------------------

def test_heads_figure_draws_the_chosen_heads_with_their_titles():
    w = _heads_weights()
    fig = ip.heads_figure(list("今天天气"), w, [(0, 1), (1, -1)], titles=["前一词头", "归纳头"])
    heat = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in heat] == ["前一词头", "归纳头"]
    assert np.allclose(heat[0].images[0].get_array(), w[0, 1])
    assert np.allclose(heat[1].images[0].get_array(), w[1, 1])      # head -1 = the last head
    assert ip.heads_figure(list("今天天气"), w, [(1, 0)]).axes[0].get_title() == "第2层·头1"


@pytest.mark.parametrize("kwargs, exc, pattern", [
    (dict(chars="今天天气"), TypeError, r"^chars must be a list of strings, not one string"),
    (dict(chars=list("今天天")), ValueError, r"^chars has 3 entries but weights has n=4 tokens"),
    (dict(heads=[(2, 0)]), ValueError, r"^heads\[0\] layer=2 is out of range for 2 layers"),
    (dict(heads=[(0, 1), (1, 5)]), ValueError, r"^heads\[1\] head=5 is out of range for 2 heads"),
    (dict(heads=[0, 1]), TypeError, r"^heads\[0\] must be a \(layer, head\) pair"),
    (dict(heads=[]), TypeError, r"^heads must be a non-empty list of \(layer, head\) pairs"),
    (dict(heads=[(0, 0)] * 7), ValueError, r"^heads lists 7 heads; .* at most 6"),
    (dict(titles=["only one"]), ValueError, r"^titles has 1 entries"),
    (dict(weights=_heads_weights()[0]), ValueError, r"^weights must have shape \(n_layers, n_heads, n, n\)"),
    (dict(weights=_heads_weights()[..., :3]), ValueError, r"every row of weights must sum to 1"),
    (dict(weights=_heads_weights()[..., :3, :]), ValueError, r"^weights must have shape .* as many rows as columns"),
])
def test_heads_figure_names_the_bad_argument(kwargs, exc, pattern):
    call = dict(chars=list("今天天气"), weights=_heads_weights(), heads=[(0, 1), (1, 0)]) | kwargs
    with pytest.raises(exc, match=pattern):
        ip.heads_figure(**call)


# ---------------------------------------------------------------------------
# composition_figure
# ---------------------------------------------------------------------------

def test_composition_figure_shares_a_symmetric_colour_range():
    direct = np.array([[1.0, -2.0], [0.5, 0.0]])
    composed = np.array([[3.0, 0.0], [0.0, -1.0]])
    before = direct.copy()
    fig = ip.composition_figure(direct, composed, ["a", "b"])
    for ax in fig.axes[:2]:
        assert ax.images[0].norm.vmin == -3.0 and ax.images[0].norm.vmax == 3.0
    fig = ip.composition_figure(direct, composed, ["a", "b"], limit=5)
    assert fig.axes[0].images[0].norm.vmax == 5.0
    assert np.array_equal(direct, before)


@pytest.mark.parametrize("kwargs, exc, pattern", [
    (dict(direct=np.ones((2, 3))), ValueError, r"^direct must have shape \(k, k\) .* as many rows as columns"),
    (dict(composed=np.ones((3, 3))), ValueError, r"^direct and composed must have the same shape"),
    (dict(labels=["a"]), ValueError, r"^labels has 1 entries but direct and composed are 2 × 2"),
    (dict(labels="ab"), TypeError, r"^labels must be a list of strings, not one string"),
    (dict(limit=0.0), ValueError, r"^limit must be a positive finite number"),
    (dict(composed=np.array([[np.nan, 0], [0, 0]])), ValueError, r"^composed contains NaN or inf"),
])
def test_composition_figure_names_the_bad_argument(kwargs, exc, pattern):
    call = dict(direct=np.eye(2), composed=np.eye(2), labels=["a", "b"]) | kwargs
    with pytest.raises(exc, match=pattern):
        ip.composition_figure(**call)


# ---------------------------------------------------------------------------
# the validation rules these figures added
# ---------------------------------------------------------------------------

def test_check_within_reports_the_first_value_outside():
    v.check_within(np.array([0.0, 0.5, 1.0]), "x", 0.0, 1.0)
    v.check_within(np.array([-5.0, 1e9]), "x")                       # no bound, nothing to check
    with pytest.raises(ValueError, match=r"^every value of x must be >= 0 \(why\); got -1 at index \(1,\)"):
        v.check_within(np.array([0.0, -1.0, -2.0]), "x", low=0.0, why=" (why)")
    with pytest.raises(ValueError, match=r"^every value of x must be <= 1; got 2 at index \(0, 1\)"):
        v.check_within(np.array([[0.0, 2.0]]), "x", high=1.0)


def test_check_non_negative_number():
    assert v.check_non_negative_number(0, "x") == 0.0
    assert v.check_non_negative_number(np.float32(2.5), "x", max_value=3) == 2.5
    with pytest.raises(ValueError, match=r"^x must be a number in \[0, 3\], got 3\.5"):
        v.check_non_negative_number(3.5, "x", max_value=3)
    with pytest.raises(TypeError, match=r"^x must be a real number"):
        v.check_non_negative_number(True, "x")


def test_dollar_signs_in_chars_labels_and_titles_are_drawn_literally():
    """Finding 32: "$x$" was drawn as an italic x, "$\\frac$" failed only when the figure was drawn."""
    from figtools import DOLLAR_LABELS, assert_drawn_literally

    chars = CHARS[:1] + ["$x$", r"$\frac$"] + CHARS[3:]            # chars[1:] label the bars
    assert_drawn_literally(ip.position_loss_figure(chars, LOSS, REP, RAND, 40))
    assert_drawn_literally(ip.heads_figure(["$x$", r"$\frac$", "c", "d"], _heads_weights(), [(0, 1), (1, 0)],
                                           titles=list(DOLLAR_LABELS)))
    assert_drawn_literally(ip.composition_figure(np.eye(2), np.eye(2), list(DOLLAR_LABELS)))
