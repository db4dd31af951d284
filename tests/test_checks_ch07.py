"""ch07 exercises (issue 11): padding mask from a list of lengths; predicted shapes of
cross-attention with the roles swapped; the fix-the-bug causal attention (existing
checker, new starter).  Every wrong answer gets its intended verdict."""

from __future__ import annotations


import numpy as np
import pytest

from checktools import assert_exercises_pending, assert_wrong, catalogue_tests, copied as _copied, quoted_names
from checktools import assert_hints_exercised
from checktools import run_checker as _verdict
from helpers import checks, solutions


# ---------------------------------------------------------------------------
# padding mask
# ---------------------------------------------------------------------------

def loop_mask(lengths, n):
    mask = np.zeros((len(lengths), 1, n), dtype=bool)
    for b, length in enumerate(lengths):
        for j in range(n):
            mask[b, 0, j] = j < length
    return mask


PAD_RIGHT = {
    "reference": _copied("padding_mask"),
    "loops": loop_mask,
    "np.newaxis": lambda lengths, n: (np.arange(n) < np.array(lengths)[:, np.newaxis])[:, np.newaxis, :],
    "expand_dims": lambda lengths, n: np.expand_dims(np.arange(n)[None, :] < np.asarray(lengths)[:, None], 1),
}

PAD_WRONG = {
    "pad_missing_axis": [lambda lengths, n: np.arange(n)[None, :] < np.asarray(lengths)[:, None]],
    "pad_masks_queries": [lambda lengths, n: (np.arange(n)[None, :] < np.asarray(lengths)[:, None])[:, :, None]],
    "pad_inverted": [
        lambda lengths, n: (np.arange(n)[None, :] >= np.asarray(lengths)[:, None])[:, None, :],
        lambda lengths, n: np.arange(n)[None, :] >= np.asarray(lengths)[:, None],
    ],
    "pad_off_by_one": [lambda lengths, n: (np.arange(n)[None, :] <= np.asarray(lengths)[:, None])[:, None, :]],
    "pad_not_bool": [
        lambda lengths, n: loop_mask(lengths, n).astype(int),
        lambda lengths, n: loop_mask(lengths, n).astype(float),
    ],
    "pad_expanded": [lambda lengths, n: np.broadcast_to(loop_mask(lengths, n), (len(lengths), n, n)).copy()],
}


def my_padding_mask(lengths, n):
    return None


test_padding_mask_right, test_padding_mask_wrong, test_padding_mask_pending = catalogue_tests(
    checks.check_padding_mask, PAD_RIGHT, PAD_WRONG, my_padding_mask)


def test_padding_mask_junk(capsys):
    out = _verdict(checks.check_padding_mask, lambda lengths, n: "mask", capsys=capsys)
    assert out.startswith("❌")


# ---------------------------------------------------------------------------
# cross-attention shapes (prediction)
# ---------------------------------------------------------------------------

CROSS_WRONG = [
    ((5, 4), (5, 8), "cross_not_swapped"),
    ((4, 4), (4, 8), "cross_square"),
    ((5, 5), (5, 8), "cross_square"),
    ((4, 5), (5, 8), "cross_z_rows"),
    ((4, 5), (4, 16), "cross_z_dmodel"),
    ((4, 5), (5, 16), "cross_z_rows"),
    ((4, 8), (4, 8), "cross_other"),
    ((4, 5), (8, 4), "cross_other"),
]


def test_cross_shapes_right_and_pending(capsys):
    assert _verdict(checks.check_cross_shapes, (4, 5), (4, 8), capsys=capsys).startswith("✅")
    assert _verdict(checks.check_cross_shapes, [4, 5], [4, 8], capsys=capsys).startswith("✅")
    assert _verdict(checks.check_cross_shapes, np.int64(4), None, capsys=capsys).startswith("⏳")
    assert _verdict(checks.check_cross_shapes, None, None, capsys=capsys).startswith("⏳")


@pytest.mark.parametrize("alpha,z,key", CROSS_WRONG)
def test_cross_shapes_wrong(alpha, z, key, capsys):
    out = _verdict(checks.check_cross_shapes, alpha, z, capsys=capsys)
    assert_wrong(out, key)


@pytest.mark.parametrize("bad", ["(4, 5)", 4, (4.0, 5.0), (True, 5)])
def test_cross_shapes_bad_format(bad, capsys):
    out = _verdict(checks.check_cross_shapes, bad, (4, 8), capsys=capsys)
    assert out.startswith("❌") and ("整数" in out or "元组" in out), out


def test_cross_shapes_answer_is_what_the_chapter_computes():
    import helpers as h
    X_src = h.embed_tokens(h.SENTENCE_APPLE, 16, seed=2)
    X_tgt = h.embed_tokens(["<s>", "I", "like", "this", "apple"], 16, seed=102)
    Z, alpha = h.cross_attention(X_src, X_tgt, np.eye(16), np.eye(16), h.init_weights(16, 8, seed=5))
    assert alpha.shape == (4, 5) and Z.shape == (4, 8)


# ---------------------------------------------------------------------------
# the buggy causal attention of the chapter, fixed step by step
# ---------------------------------------------------------------------------

def _softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def buggy(Q, K, V):          # the starter shown in the chapter (two bugs)
    n, d_k = Q.shape
    weights = _softmax(Q @ K.T / d_k)
    weights = weights * np.tril(np.ones((n, n), dtype=bool))
    return weights @ V


def only_scale_fixed(Q, K, V):
    n, d_k = Q.shape
    weights = _softmax(Q @ K.T / np.sqrt(d_k))
    weights = weights * np.tril(np.ones((n, n), dtype=bool))
    return weights @ V


def only_mask_fixed(Q, K, V):
    n, d_k = Q.shape
    s = np.where(np.tril(np.ones((n, n), dtype=bool)), Q @ K.T / d_k, -np.inf)
    return _softmax(s) @ V


def both_fixed(Q, K, V):
    n, d_k = Q.shape
    s = np.where(np.tril(np.ones((n, n), dtype=bool)), Q @ K.T / np.sqrt(d_k), -np.inf)
    return _softmax(s) @ V


def test_fix_the_bug_progression(capsys):
    assert _verdict(checks.check_causal_attention, both_fixed, capsys=capsys).startswith("✅")
    out = _verdict(checks.check_causal_attention, only_scale_fixed, capsys=capsys)
    assert_wrong(out, "mask_after_softmax")
    out = _verdict(checks.check_causal_attention, only_mask_fixed, capsys=capsys)
    assert_wrong(out, "scaled_by_dk")
    assert _verdict(checks.check_causal_attention, buggy, capsys=capsys).startswith("❌")


def test_every_ch07_hint_is_exercised():
    assert_hints_exercised("ch07", quoted_names(__file__))


# ---------------------------------------------------------------------------
# causal mask for the last n_q queries against n_k cached keys
# ---------------------------------------------------------------------------

def cached_loop(n_q, n_k):
    mask = np.zeros((n_q, n_k), dtype=bool)
    for r in range(n_q):
        for j in range(n_k):
            mask[r, j] = j <= n_k - n_q + r
    return mask


def _ones(n_q, n_k):
    return np.ones((n_q, n_k), dtype=bool)


CACHED_RIGHT = {
    "reference": _copied("cached_causal_mask"),
    "loop": cached_loop,
    "tril with offset": lambda n_q, n_k: np.tril(_ones(n_q, n_k), k=n_k - n_q),
    "last rows of the square mask": lambda n_q, n_k: np.tril(np.ones((n_k, n_k), dtype=bool))[n_k - n_q:],
}

CACHED_WRONG = {
    "cached_top_left": [lambda n_q, n_k: np.tril(_ones(n_q, n_k))],
    "cached_off_by_one": [lambda n_q, n_k: np.tril(_ones(n_q, n_k), k=n_k - n_q + 1)],
    "cached_no_self": [lambda n_q, n_k: np.tril(_ones(n_q, n_k), k=n_k - n_q - 1)],
    "cached_upper": [lambda n_q, n_k: np.triu(_ones(n_q, n_k), k=n_k - n_q)],
    "cached_shape": [lambda n_q, n_k: np.tril(np.ones((n_k, n_k), dtype=bool)),
                     lambda n_q, n_k: np.tril(np.ones((n_q, n_q), dtype=bool))],
    "mask_not_bool": [lambda n_q, n_k: np.tril(np.ones((n_q, n_k)), k=n_k - n_q)],
}


def my_cached_causal_mask(n_q, n_k):
    return None


test_cached_causal_mask_right, test_cached_causal_mask_wrong, test_cached_causal_mask_pending = catalogue_tests(
    checks.check_cached_causal_mask, CACHED_RIGHT, CACHED_WRONG, my_cached_causal_mask)


#: the catalogue (checker, wrong answer, intended hint) counted by tests/test_checks.py
MISTAKES = ([("padding_mask", f, key) for key, fs in PAD_WRONG.items() for f in fs]
            + [("cross_shapes", (a, z), key) for a, z, key in CROSS_WRONG]
            + [("cached_causal_mask", f, key) for key, fs in CACHED_WRONG.items() for f in fs]
            + [("causal_attention", only_scale_fixed, "mask_after_softmax"),
               ("causal_attention", only_mask_fixed, "scaled_by_dk")])


def test_committed_exercise_outputs_are_pending():
    """Committed outputs of the check cells show the pending state, never a verdict or an answer."""
    assert_exercises_pending("07_masks_and_cross_attention.ipynb")


def test_padding_calling_the_course_implementation_is_told(capsys):
    import helpers as h
    out = _verdict(checks.check_padding_mask, lambda lengths, n: h.padding_mask(lengths, n), capsys=capsys)
    assert out.startswith("❌") and "padding_mask" in out, out


def test_renormalising_after_softmax_is_accepted(capsys):
    """Zero, then renormalise, is exactly right (the chapter's third variant)."""
    def my_causal_attention(Q, K, V):
        n, d_k = Q.shape
        w = _softmax(Q @ K.T / np.sqrt(d_k)) * np.tril(np.ones((n, n), dtype=bool))
        return (w / w.sum(axis=-1, keepdims=True)) @ V
    assert _verdict(checks.check_causal_attention, my_causal_attention, capsys=capsys).startswith("✅")


def test_case_labels_read_like_the_arguments(capsys):
    """Final review P4 and P8: the padding cases print the list that is passed ([4, 2], not (4, 2));
    the blocked-score case names the numbers in the order of its sentence (visible −1000, blocked −300)."""
    out = _verdict(checks.check_padding_mask, lambda lengths, n: np.zeros((len(lengths), 1, n), dtype=bool),
                   capsys=capsys)
    assert "「lengths=[4, 2], n=4」" in out, out
    labels = [c.label for c in checks._causal_cases()]
    assert any("（能看的 −1000，被挡住的 −300）" in label for label in labels), labels
