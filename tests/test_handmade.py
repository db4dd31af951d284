"""Tests for helpers.handmade (hand-constructed W_Q / W_K of chapter 06)."""

import numpy as np
import pytest

import helpers as h
from helpers import handmade


def _row_of_last(tokens, word):
    return len(tokens) - 1 - tokens[::-1].index(word)


@pytest.mark.parametrize("tokens", [h.SENTENCE_CAT, h.SENTENCE_CAT_SHORT, ["小猫", "它"], ["它", "蝴蝶", "小猫"]])
def test_it_attends_most_to_kitten(tokens):
    w_q, w_k, w_v = handmade.handmade_weights("它", "小猫", d_model=16, d_k=8, seed=0)
    x = h.token_inputs(tokens, 16, seed=0)
    _, alpha = h.self_attention(x, w_q, w_k, w_v)
    i = _row_of_last(tokens, "它")
    j = tokens.index("小猫")
    assert int(np.argmax(alpha[i])) == j
    # both 它 in the long sentence (same embedding) look at 小猫
    for i in [k for k, t in enumerate(tokens) if t == "它"]:
        assert int(np.argmax(alpha[i])) == j


def test_default_strength_weight_in_long_sentence():
    w = handmade.handmade_weights()
    x = h.token_inputs(h.SENTENCE_CAT, 16, seed=0)
    _, alpha = h.self_attention(x, *w)
    assert alpha[18, 1] > 0.5
    assert np.allclose(alpha.sum(axis=1), 1.0)


def test_shapes_rank_and_value_matrix():
    w_q, w_k, w_v = handmade.handmade_weights(d_model=12, d_k=4, d_v=6, seed=3)
    assert w_q.shape == (12, 4) and w_k.shape == (12, 4) and w_v.shape == (12, 6)
    assert np.linalg.matrix_rank(w_q) == 1 and np.linalg.matrix_rank(w_k) == 1
    assert np.allclose(w_v, h.init_qkv_weights(12, 4, 6, seed=3)[2])


def test_scores_factorise():
    strength = 1.7
    w_q, w_k, _ = handmade.handmade_weights(strength=strength)
    x = h.token_inputs(h.SENTENCE_CAT_SHORT, 16, seed=0)
    a, b = handmade.feature_coordinates(x, "它", "小猫", seed=0)
    scores = h.attention_scores(x @ w_q, x @ w_k)
    assert np.allclose(scores, strength**2 * np.outer(a, b))


def test_strength_sharpens():
    x = h.token_inputs(h.SENTENCE_CAT, 16, seed=0)
    weights = []
    for s in (0.5, 1.0, 2.0):
        _, alpha = h.self_attention(x, *handmade.handmade_weights(strength=s))
        weights.append(alpha[18, 1])
    assert weights[0] < weights[1] < weights[2]


def test_directions_are_unit_and_deterministic():
    d = handmade.token_direction("小猫", 16, seed=0)
    assert np.isclose(np.linalg.norm(d), 1.0)
    assert np.allclose(d, handmade.token_direction("小猫", 16, seed=0))
    u = handmade.shared_direction(8, seed=0)
    assert u.shape == (8,) and np.isclose(np.linalg.norm(u), 1.0)


@pytest.mark.parametrize("seed", [-1, 2 ** 32, 2 ** 32 + 3, 2 ** 63 - 1])
@pytest.mark.parametrize("call", [
    lambda seed: handmade.token_direction("它", 4, seed=seed),
    lambda seed: handmade.shared_direction(4, seed=seed),
    lambda seed: handmade.handmade_weights(d_model=4, d_k=2, seed=seed),
    lambda seed: handmade.feature_coordinates(np.ones((2, 4)), seed=seed),
], ids=["token_direction", "shared_direction", "handmade_weights", "feature_coordinates"])
def test_seeds_outside_32_bits_are_refused_at_entry(call, seed):
    """The embedding seed is one 32-bit word: shared_direction used to fold seed=2**32 onto 0 (and
    -1 onto 2**32 - 1) without a word, and the others left the refusal to embed_tokens."""
    pattern = rf"^seed must satisfy 0 <= seed <= 4294967295 \(2\*\*32 - 1: the embeddings take a 32-bit seed\)"
    with pytest.raises(ValueError, match=pattern):
        call(seed)


@pytest.mark.parametrize("seed", [0, 7, 2 ** 32 - 1])
def test_shared_direction_in_range_seeds_are_unchanged(seed):
    u = np.random.default_rng([seed, 2024]).standard_normal(5)
    np.testing.assert_array_equal(handmade.shared_direction(5, seed=seed), u / np.linalg.norm(u))


@pytest.mark.parametrize(
    "kwargs, exc, text",
    [
        ({"strength": 0}, ValueError, "strength"),
        ({"strength": -1.0}, ValueError, "strength"),
        ({"strength": "big"}, TypeError, "strength"),
        ({"d_model": 0}, ValueError, "d_model"),
        ({"d_k": 2.5}, TypeError, "d_k"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"query_token": ""}, TypeError, "query_token"),
        ({"key_token": 3}, TypeError, "key_token"),
        ({"key_token": "小 猫"}, ValueError, "key_token"),
    ],
)
def test_bad_input(kwargs, exc, text):
    with pytest.raises(exc, match=text):
        handmade.handmade_weights(**kwargs)


def test_feature_coordinates_bad_input():
    with pytest.raises(ValueError, match="shape"):
        handmade.feature_coordinates(np.zeros(16))
    with pytest.raises(TypeError, match="dtype"):
        handmade.feature_coordinates(np.array([["a", "b"]]))
