"""Tests for helpers.tokens: tokenizer, embeddings, positional encoding, weights."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import helpers as h

# the source chapter's pronoun sentence, punctuation included, as a learner would type it
CAT_TEXT = "那个小猫，它昨天在公园里追逐一只蝴蝶，玩得不亦乐乎，结果把晚餐都忘了，现在它饿坏了。"
APPLE_TEXT = "我喜欢这个苹果"


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ---------------------------------------------------------------------------
# tokenize and the sentences
# ---------------------------------------------------------------------------

def test_tokenize_apple_sentence():
    assert h.tokenize(APPLE_TEXT) == ["我", "喜欢", "这个", "苹果"]
    assert h.tokenize(APPLE_TEXT) == h.SENTENCE_APPLE
    assert "".join(h.SENTENCE_APPLE) == APPLE_TEXT


def test_tokenize_cat_sentence():
    tokens = h.tokenize(CAT_TEXT)
    assert tokens == h.SENTENCE_CAT
    assert tokens.count("它") == 2
    assert tokens.index("小猫") < tokens.index("它")
    assert tokens[-2:] == ["它", "饿坏了"]
    # nothing lost but punctuation
    assert "".join(tokens) == "".join(ch for ch in CAT_TEXT if ch not in "，。")


def test_cat_short_is_taken_from_the_full_sentence():
    full = h.SENTENCE_CAT
    pos = 0
    for token in h.SENTENCE_CAT_SHORT:  # an in-order subsequence of the full sentence
        pos = full.index(token, pos) + 1
    assert "小猫" in h.SENTENCE_CAT_SHORT and "它" in h.SENTENCE_CAT_SHORT
    assert h.tokenize("".join(h.SENTENCE_CAT_SHORT)) == h.SENTENCE_CAT_SHORT


def test_tokenize_spaces_keep_tokens_as_typed():
    assert h.tokenize("我 喜欢 这个 苹果") == h.SENTENCE_APPLE
    assert h.tokenize("  我  喜欢\t这个 苹果 ") == h.SENTENCE_APPLE
    assert h.tokenize("我 喜欢 ， 苹果") == ["我", "喜欢", "苹果"]
    # punctuation glued to a typed word is split off (otherwise "苹果。" would get its own embedding)
    assert h.tokenize("我 喜欢 这个 苹果。") == h.SENTENCE_APPLE
    assert h.tokenize("我 喜欢 这个 苹果。", keep_punctuation=True) == h.SENTENCE_APPLE + ["。"]
    assert h.tokenize("小猫， 它 饿坏了！") == ["小猫", "它", "饿坏了"]


def test_tokenize_punctuation_and_unknown_characters():
    assert h.tokenize("我喜欢吃香蕉！") == ["我", "喜欢", "吃", "香蕉"]
    assert h.tokenize("我喜欢吃香蕉！", keep_punctuation=True) == ["我", "喜欢", "吃", "香蕉", "！"]
    assert h.tokenize("ABC我") == ["A", "B", "C", "我"]
    assert h.tokenize("") == []
    assert h.tokenize("，。") == []


def test_tokenize_longest_match():
    assert h.tokenize("小猫") == ["小猫"]          # not 小 + 猫
    assert h.tokenize("我们") == ["我们"]          # not 我 + 们
    assert h.tokenize("图书馆") == ["图书馆"]


def test_vocab_is_longest_first_and_covers_sentences():
    lengths = [len(w) for w in h.VOCAB]
    assert lengths == sorted(lengths, reverse=True)
    assert set(h.SENTENCE_APPLE) <= set(h.VOCAB)
    assert set(h.SENTENCE_CAT) <= set(h.VOCAB)


def test_vocab_is_read_only():
    """tokenize reads VOCAB on every call: an in-place edit of the list used to change every later split."""
    assert isinstance(h.VOCAB, tuple)
    with pytest.raises(AttributeError):
        h.VOCAB.insert(0, "我喜")
    assert h.tokenize("我喜欢") == ["我", "喜欢"]


def test_tokenize_full_width_space_is_a_space():
    """A Chinese input method in full-width mode types U+3000 for the space bar: it separates typed
    tokens exactly as ' ' does (at the ends it is ignored)."""
    assert h.tokenize("我\u3000喜欢\u3000这个\u3000苹果") == h.SENTENCE_APPLE
    assert h.tokenize("我\u3000喜欢这个苹果") == h.tokenize("我 喜欢这个苹果") == ["我", "喜欢这个苹果"]
    assert h.tokenize("\u3000我喜欢这个苹果\u3000") == h.SENTENCE_APPLE


@pytest.mark.parametrize("text", [
    "我喜欢……这个苹果", "我喜欢——这个苹果", "「我」喜欢『这个』苹果", "我喜欢这个苹果～", "我·喜欢这个苹果",
    "我喜欢这个苹果\r\n", "我喜欢这个苹果\u3000", "我\u200b喜欢\ufeff这个\u200d苹果\u200e",
    "“我”喜欢‘这个’苹果！？", "我 喜欢…… 这个——苹果」",
])
def test_tokenize_drops_all_punctuation_and_invisible_characters(text):
    """Punctuation by Unicode category (…… —— 「」 ～ · …), line ends and zero-width characters never
    become tokens (they used to become rows of the sentence explorer)."""
    assert h.tokenize(text) == h.SENTENCE_APPLE


def test_tokenize_keeps_chinese_marks_whole_and_ascii_symbols_in_words():
    assert h.tokenize("我喜欢……苹果", keep_punctuation=True) == ["我", "喜欢", "……", "苹果"]
    assert h.tokenize("我喜欢——苹果～", keep_punctuation=True) == ["我", "喜欢", "——", "苹果", "～"]
    assert h.tokenize("「我」", keep_punctuation=True) == ["「", "我", "」"]
    assert h.tokenize("我\u200b喜欢", keep_punctuation=True) == ["我", "喜欢"]
    # ASCII symbols that are not sentence punctuation stay as they were typed
    assert h.tokenize("GPT-4 很 好") == ["GPT-4", "很", "好"]
    assert h.tokenize("50%") == ["5", "0", "%"]
    # a character and its combining mark (accent, emoji variation selector) stay one token
    assert h.tokenize("e\u0301我") == ["e\u0301", "我"]
    assert h.tokenize("\u2764\ufe0f我") == ["\u2764\ufe0f", "我"]


@pytest.mark.parametrize("text, code, pos", [("我\x00喜欢", "0000", 1), ("\x1b[31m我", "001B", 0),
                                             ("我喜欢\x7f", "007F", 3)])
def test_tokenize_refuses_control_characters(text, code, pos):
    with pytest.raises(ValueError, match=rf"^text contains the control character U\+{code} at position {pos};"):
        h.tokenize(text)


@pytest.mark.parametrize("bad", [None, 123, ["我", "喜欢"], b"bytes"])
def test_tokenize_rejects_non_str(bad):
    with pytest.raises(TypeError, match=rf"text must be a str, got {type(bad).__name__}"):
        h.tokenize(bad)


# ---------------------------------------------------------------------------
# embed_tokens
# ---------------------------------------------------------------------------

def test_embed_tokens_shape_and_determinism():
    e1 = h.embed_tokens(h.SENTENCE_APPLE, 8)
    e2 = h.embed_tokens(h.SENTENCE_APPLE, 8)
    assert e1.shape == (4, 8) and e1.dtype == np.float64
    np.testing.assert_array_equal(e1, e2)


def test_embed_tokens_pinned_values():
    """Notebook outputs depend on these numbers: changing the lookup must be deliberate."""
    np.testing.assert_allclose(
        h.embed_tokens(["我"], 4, seed=0)[0],
        [-0.18896612627505477, 0.5543400900022968, -0.8069152867326346, 3.287369152479493],
        rtol=1e-12,
    )


def test_same_token_same_row_independent_of_sentence():
    d = 6
    cat = h.embed_tokens(h.SENTENCE_CAT, d)
    i, j = [k for k, t in enumerate(h.SENTENCE_CAT) if t == "它"]
    np.testing.assert_array_equal(cat[i], cat[j])
    apple = h.embed_tokens(h.SENTENCE_APPLE, d)
    np.testing.assert_array_equal(apple[3], h.embed_tokens(["苹果"], d)[0])
    np.testing.assert_array_equal(apple[0], h.embed_tokens(["苹果", "我"], d)[1])
    short = h.embed_tokens(h.SENTENCE_CAT_SHORT, d)
    for k, t in enumerate(h.SENTENCE_CAT_SHORT):
        np.testing.assert_array_equal(short[k], cat[h.SENTENCE_CAT.index(t)])


def test_different_tokens_and_seeds_differ():
    e = h.embed_tokens(h.SENTENCE_CAT, 8)
    distinct = {t: e[k] for k, t in enumerate(h.SENTENCE_CAT)}
    rows = list(distinct.values())
    for a in range(len(rows)):
        for b in range(a + 1, len(rows)):
            assert not np.allclose(rows[a], rows[b])
    assert not np.allclose(h.embed_tokens(["我"], 8, seed=0), h.embed_tokens(["我"], 8, seed=1))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(sorted(set(h.SENTENCE_CAT) | set(h.SENTENCE_APPLE))), min_size=1, max_size=8),
       st.integers(1, 12), st.integers(0, 1000))
def test_prop_embedding_is_a_lookup(tokens, d_model, seed):
    e = h.embed_tokens(tokens, d_model, seed=seed)
    assert e.shape == (len(tokens), d_model)
    for k, t in enumerate(tokens):
        np.testing.assert_array_equal(e[k], h.embed_tokens([t], d_model, seed=seed)[0])


@pytest.mark.parametrize(
    "args,exc,pattern",
    [
        (("我喜欢",), TypeError, r"not one string.*'我喜欢'.*tokenize"),
        (([],), ValueError, r"tokens is empty"),
        ((["我", 3],), TypeError, r"non-empty str, got 3"),
        ((["我", ""],), TypeError, r"non-empty str, got ''"),
    ],
)
def test_embed_tokens_bad_tokens(args, exc, pattern):
    with pytest.raises(exc, match=pattern):
        h.embed_tokens(*args, d_model=4)


@pytest.mark.parametrize(
    "d_model,exc,pattern",
    [(0, ValueError, r"d_model.*0"), (-3, ValueError, r"d_model.*-3"), (2.5, TypeError, r"d_model.*2\.5"),
     (True, TypeError, r"d_model.*True")],
)
def test_embed_tokens_bad_d_model(d_model, exc, pattern):
    with pytest.raises(exc, match=pattern):
        h.embed_tokens(["我"], d_model)


@pytest.mark.parametrize("seed", [1.5, "0", None, True])
def test_embed_and_qkv_bad_seed(seed):
    with pytest.raises(TypeError, match=r"seed must be an integer, got " + repr(seed).replace(".", r"\.")):
        h.embed_tokens(["我"], 4, seed=seed)
    with pytest.raises(TypeError, match=r"seed must be an integer"):
        h.init_qkv_weights(4, 2, seed=seed)


def ref_embedding_row(token, d_model, seed):
    """The lookup as the notebooks were executed with: a generator seeded by (32-bit seed, crc32 of the token)."""
    import zlib
    gen = np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(token.encode("utf-8"))])
    return gen.standard_normal(d_model)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5, 7, 10, 12, 13, 102, np.int64(3), 2 ** 31, 2 ** 32 - 1])
def test_embedding_seeds_in_range_are_unchanged(seed):
    """Every seed the course uses (and the whole 32-bit range) gives bit-identical embeddings."""
    tokens = h.SENTENCE_CAT_SHORT
    expected = np.stack([ref_embedding_row(t, 5, int(seed)) for t in tokens])
    np.testing.assert_array_equal(h.embed_tokens(tokens, 5, seed=seed), expected)
    np.testing.assert_array_equal(h.token_inputs(tokens, 5, seed=seed), expected + h.positional_encoding(6, 5))


@pytest.mark.parametrize("seed", [-1, -3, 2 ** 32, 2 ** 32 + 5, 2 ** 63 - 1])
def test_embedding_seed_outside_32_bits_is_refused(seed):
    """seed=0 and seed=2**32 (or -1 and 2**32 - 1) used to give the same embeddings without a word."""
    pattern = rf"^seed must satisfy 0 <= seed <= 4294967295 \(2\*\*32 - 1: .*\), got {seed}$"
    with pytest.raises(ValueError, match=pattern):
        h.embed_tokens(["我"], 4, seed=seed)
    with pytest.raises(ValueError, match=pattern):
        h.token_inputs(["我"], 4, seed=seed)


# ---------------------------------------------------------------------------
# positional encoding
# ---------------------------------------------------------------------------

def ref_positional_encoding(n, d_model, base=10000.0):
    pe = [[0.0] * d_model for _ in range(n)]
    for pos in range(n):
        for i in range((d_model + 1) // 2):
            angle = pos / base ** (2 * i / d_model)
            pe[pos][2 * i] = math.sin(angle)
            if 2 * i + 1 < d_model:
                pe[pos][2 * i + 1] = math.cos(angle)
    return np.array(pe)


@pytest.mark.parametrize("n,d_model", [(1, 1), (4, 2), (4, 8), (7, 5), (20, 16), (50, 3)])
def test_positional_encoding_matches_formula(n, d_model):
    pe = h.positional_encoding(n, d_model)
    assert pe.shape == (n, d_model)
    np.testing.assert_allclose(pe, ref_positional_encoding(n, d_model), rtol=1e-12, atol=1e-14)


def test_positional_encoding_known_values():
    pe = h.positional_encoding(3, 4)
    np.testing.assert_allclose(pe[0], [0.0, 1.0, 0.0, 1.0], atol=0)
    assert math.isclose(pe[1, 0], math.sin(1.0))
    assert math.isclose(pe[1, 1], math.cos(1.0))
    assert math.isclose(pe[2, 2], math.sin(2 / 100.0))
    assert math.isclose(pe[2, 3], math.cos(2 / 100.0))
    np.testing.assert_allclose(h.positional_encoding(3, 4, base=100.0), ref_positional_encoding(3, 4, 100.0))
    assert np.abs(h.positional_encoding(30, 16)).max() <= 1.0


@pytest.mark.parametrize(
    "args,exc,pattern",
    [
        ((0, 4), ValueError, r"n_positions.*0"),
        ((3, 0), ValueError, r"d_model.*0"),
        ((3.5, 4), TypeError, r"n_positions.*3\.5"),
        ((3, 4, -1.0), ValueError, r"base.*-1"),
        ((3, 4, 0), ValueError, r"base.*0"),
        ((3, 4, 1.0), ValueError, r"^base must be greater than 1 .*, got 1\.0$"),
        ((3, 4, 0.5), ValueError, r"^base must be greater than 1 .*, got 0\.5$"),
        ((3, 4, 1), ValueError, r"^base must be greater than 1 .*, got 1\.0$"),
    ],
)
def test_positional_encoding_bad_input(args, exc, pattern):
    with pytest.raises(exc, match=pattern):
        h.positional_encoding(*args)


def test_token_inputs_is_embedding_plus_position():
    tokens = h.SENTENCE_CAT
    x = h.token_inputs(tokens, 8, seed=3)
    emb = h.embed_tokens(tokens, 8, seed=3)
    pe = ref_positional_encoding(len(tokens), 8)
    for r in range(len(tokens)):
        for c in range(8):
            assert math.isclose(x[r, c], emb[r, c] + pe[r, c], rel_tol=1e-12, abs_tol=1e-14)
    np.testing.assert_array_equal(h.token_inputs(tokens, 8, seed=3, with_position=False), emb)
    # with position the two 它 are told apart, without it they are identical
    i, j = [k for k, t in enumerate(tokens) if t == "它"]
    assert not np.allclose(x[i], x[j])
    with pytest.raises(TypeError, match="tokenize"):
        h.token_inputs("我喜欢", 8)


# ---------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------

def test_init_weights_deterministic():
    w1 = h.init_weights(5, 3, seed=7)
    w2 = h.init_weights(5, 3, seed=7)
    assert w1.shape == (5, 3)
    np.testing.assert_array_equal(w1, w2)
    assert not np.allclose(w1, h.init_weights(5, 3, seed=8))
    np.testing.assert_allclose(
        h.init_weights(2, 3, seed=0),
        [[0.08890469193522228, -0.09341224466100137, 0.4528471989539066],
         [0.07417558418617765, -0.3787754462361687, 0.2556863153700186]],
        rtol=1e-12,
    )


def test_init_weights_scaling():
    w = h.init_weights(400, 300, seed=0)
    n = w.size
    mean = sum(float(v) for v in w.flat) / n
    var = sum((float(v) - mean) ** 2 for v in w.flat) / n
    assert abs(mean) < 0.01 / math.sqrt(400) * 10
    assert abs(var * 400 - 1.0) < 0.02


@pytest.mark.parametrize(
    "args,exc,pattern",
    [
        ((0, 3), ValueError, r"d_in.*0"),
        ((3, -1), ValueError, r"d_out.*-1"),
        ((3, 2.0), TypeError, r"d_out.*2\.0"),
        ((3, 2, -5), ValueError, r"seed.*-5"),
        ((3, 2, 1.5), TypeError, r"seed must be an integer, got 1\.5"),
        ((3, 2, None), TypeError, r"seed must be an integer, got None"),
    ],
)
def test_init_weights_bad_input(args, exc, pattern):
    with pytest.raises(exc, match=pattern):
        h.init_weights(*args)


def test_init_qkv_weights():
    wq, wk, wv = h.init_qkv_weights(8, 4, seed=2)
    assert wq.shape == (8, 4) and wk.shape == (8, 4) and wv.shape == (8, 4)
    np.testing.assert_array_equal(wq, h.init_weights(8, 4, 2))
    np.testing.assert_array_equal(wk, h.init_weights(8, 4, 3))
    np.testing.assert_array_equal(wv, h.init_weights(8, 4, 4))
    assert not np.allclose(wq, wk)
    wq2, wk2, wv2 = h.init_qkv_weights(8, 4, d_v=6, seed=2)
    assert wv2.shape == (8, 6)
    np.testing.assert_array_equal(wq2, wq)     # changing d_v leaves W_Q, W_K alone
    np.testing.assert_array_equal(wk2, wk)
    again = h.init_qkv_weights(8, 4, seed=2)
    for a, b in zip(again, (wq, wk, wv)):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------
# the worked example constant
# ---------------------------------------------------------------------------

def test_seed_example_constant():
    ex = h.SEED_EXAMPLE
    np.testing.assert_array_equal(ex["q1"], [[0.2, 0.5, 0.1]])
    np.testing.assert_array_equal(ex["K"], [[0.4, 0.1, 0.6], [0.8, 0.2, 0.3], [0.1, 0.7, 0.2]])
    np.testing.assert_array_equal(ex["V"], [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    assert ex["d_k"] == ex["K"].shape[-1] == 3
    assert ex["q1"].shape == (1, 3)


def test_seed_example_cannot_be_changed():
    """Issue 14 findings 1 and 28: ``V = ex["V"]; V += c`` must not change the course's example
    (five checkers and two panels read it): the mapping and its arrays are read-only for good."""
    ex = h.SEED_EXAMPLE
    with pytest.raises(ValueError, match="read-only"):
        ex["V"] += np.array([10.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="WRITEABLE"):
        ex["V"].flags.writeable = True
    with pytest.raises(TypeError):
        ex["V"] = np.zeros((3, 3))
    np.testing.assert_array_equal(ex["V"], [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    V = ex["V"].copy()              # the way to experiment: an ordinary array
    V += 1.0
    assert V.flags.writeable and dict(ex)["d_k"] == 3


@pytest.mark.parametrize("name", ["SENTENCE_APPLE", "SENTENCE_CAT", "SENTENCE_CAT_SHORT"])
def test_sentence_constants_cannot_be_changed_in_place(name):
    """The token lists are live defaults of panels, figures and a checker: reading, comparing
    with a list and ``+`` work as for a list; changing them in place is refused with a message."""
    tokens = getattr(h, name)
    before = list(tokens)
    for change in (lambda t: t.append("吗"), lambda t: t.__setitem__(0, "香蕉"), lambda t: t.extend(["x"]),
                   lambda t: t.pop(), lambda t: t.sort(), lambda t: t.clear(), lambda t: t.__delitem__(0)):
        with pytest.raises(TypeError, match=f"h.{name} is a course constant.*list\\(h.{name}\\)"):
            change(tokens)
    with pytest.raises(TypeError, match="course constant"):
        tokens += ["吗"]
    assert getattr(h, name) == before and list(getattr(h, name)) == before
    assert getattr(h, name) + ["<pad>"] == before + ["<pad>"]     # a new, ordinary list
    for copy_ in (list(tokens), tokens.copy(), copy.copy(tokens), copy.deepcopy(tokens), tokens[:]):
        assert type(copy_) is list and copy_ == before
        copy_.append("吗")                                          # copies are editable
    assert str(tokens) == str(before)                                 # prints like the list it was


def test_seed_rule_is_shared_and_counts_the_seeds_a_function_uses():
    """One seed rule (validation.check_seed): a function that also uses seed + 1 … seed + k - 1 refuses
    a seed whose successors would leave the valid range."""
    top = 2 ** 63 - 1
    with pytest.raises(ValueError, match="seed"):
        h.init_weights(2, 2, seed=-1)
    h.init_qkv_weights(2, 2, seed=top - 2)
    with pytest.raises(ValueError, match=rf"^seed must satisfy 0 <= seed <= {top - 2}, got {top - 1}$"):
        h.init_qkv_weights(2, 2, seed=top - 1)
