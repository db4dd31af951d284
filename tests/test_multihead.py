"""Multi-head attention (chapter 09): helpers.attention's split/merge/multi_head_self_attention
and helpers.multihead, against an independent reference written with plain Python loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import helpers as h
from helpers import multihead as mh


def rand(shape, seed, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


# ---------------------------------------------------------------------------
# independent reference: scalar loops only
# ---------------------------------------------------------------------------

def ref_one_sequence(x, wq, wk, wv, n_heads, wo=None, keep=None, biases=(None,) * 4):
    """x (n, d_model); keep (n, n) or (h, n, n) bool or None. Pure Python loops."""
    n, d_model = x.shape
    d_all = wq.shape[1]
    dh = d_all // n_heads
    dvh = wv.shape[1] // n_heads

    def lin(w, b):
        out = np.zeros((n, w.shape[1]))
        for i in range(n):
            for c in range(w.shape[1]):
                out[i, c] = sum(x[i, r] * w[r, c] for r in range(d_model)) + (0.0 if b is None else b[c])
        return out

    q, k, v = lin(wq, biases[0]), lin(wk, biases[1]), lin(wv, biases[2])
    weights = np.zeros((n_heads, n, n))
    concat = np.zeros((n, n_heads * dvh))
    for hd in range(n_heads):
        for i in range(n):
            scores = []
            for j in range(n):
                allowed = True
                if keep is not None:
                    allowed = bool(keep[hd, i, j] if keep.ndim == 3 else keep[i, j])
                s = sum(q[i, hd * dh + c] * k[j, hd * dh + c] for c in range(dh)) / math.sqrt(dh)
                scores.append(s if allowed else None)
            finite = [s for s in scores if s is not None]
            if finite:
                m = max(finite)
                e = [0.0 if s is None else math.exp(s - m) for s in scores]
                tot = sum(e)
                for j in range(n):
                    weights[hd, i, j] = e[j] / tot
            for c in range(dvh):
                concat[i, hd * dvh + c] = sum(weights[hd, i, j] * v[j, hd * dvh + c] for j in range(n))
    out = concat
    if wo is not None:
        out = np.zeros((n, wo.shape[1]))
        for i in range(n):
            for c in range(wo.shape[1]):
                out[i, c] = sum(concat[i, r] * wo[r, c] for r in range(wo.shape[0])) + \
                    (0.0 if biases[3] is None else biases[3][c])
    return out, weights


def weights4(d, seed, d_out=None):
    return tuple(rand((d, d if d_out is None else d_out), seed + i) / math.sqrt(d) for i in range(4))


# ---------------------------------------------------------------------------
# split / merge
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape,n_heads", [((4, 6), 2), ((3, 5, 8), 4), ((2, 1, 4, 6), 3), ((5, 4), 1)])
def test_split_heads_loops(shape, n_heads):
    x = rand(shape, 1)
    parts = h.split_heads(x, n_heads)
    dh = shape[-1] // n_heads
    assert parts.shape == shape[:-2] + (n_heads, shape[-2], dh)
    for idx in np.ndindex(shape[:-2]):
        for hd in range(n_heads):
            for i in range(shape[-2]):
                for c in range(dh):
                    assert parts[idx + (hd, i, c)] == x[idx + (i, hd * dh + c)]
    np.testing.assert_array_equal(h.merge_heads(parts), x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_heads", [1, 2])
def test_split_and_merge_never_share_memory(dtype, n_heads):
    x = rand((3, 4), 2).astype(dtype)
    parts = h.split_heads(x, n_heads)
    assert parts.dtype == dtype
    assert not np.shares_memory(parts, x)
    merged = h.merge_heads(parts)
    assert merged.dtype == dtype
    assert not np.shares_memory(merged, parts)
    parts[...] = 0  # writing to the result leaves the caller's array alone
    assert np.abs(x).sum() > 0


def test_reshape_without_transpose_is_not_split_heads():
    """The classic bug: reshape (n, d) straight to (h, n, d_head) mixes tokens into heads."""
    x = np.arange(24.0).reshape(4, 6)
    wrong = x.reshape(2, 4, 3)
    assert not np.array_equal(h.split_heads(x, 2), wrong)


# ---------------------------------------------------------------------------
# multi-head self-attention vs the loop reference
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("n_heads", [1, 2, 4])
@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_batched_against_scalar_loops(n_heads, with_bias, causal):
    b, n, d = 2, 4, 8
    x = rand((b, n, d), 3)
    wq, wk, wv, wo = weights4(d, 10)
    biases = tuple(rand((d,), 20 + i) for i in range(4)) if with_bias else (None,) * 4
    keep = h.causal_mask(n) if causal else None
    z, w = h.multi_head_self_attention(x, wq, wk, wv, n_heads, w_o=wo, mask=keep,
                                       b_q=biases[0], b_k=biases[1], b_v=biases[2], b_o=biases[3])
    assert z.shape == (b, n, d) and w.shape == (b, n_heads, n, n)
    for i in range(b):
        rz, rw = ref_one_sequence(x[i], wq, wk, wv, n_heads, wo, keep, biases)
        np.testing.assert_allclose(w[i], rw, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(z[i], rz, rtol=1e-10, atol=1e-12)


def test_padding_mask_per_sequence_and_per_head_mask():
    b, n, d, heads = 3, 5, 6, 3
    x = rand((b, n, d), 4)
    wq, wk, wv, wo = weights4(d, 30)
    lengths = [5, 3, 1]
    keep = h.padding_mask(lengths, n) & h.causal_mask(n)          # (b, n, n)
    z, w = h.multi_head_self_attention(x, wq, wk, wv, heads, w_o=wo, mask=keep)
    for i in range(b):
        rz, rw = ref_one_sequence(x[i], wq, wk, wv, heads, wo, keep[i])
        np.testing.assert_allclose(z[i], rz, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(w[i], rw, rtol=1e-10, atol=1e-13)
    # a mask with its own head axis: (b, h, n, n)
    per_head = np.stack([np.stack([h.causal_mask(n) if hd % 2 else np.ones((n, n), bool)
                                   for hd in range(heads)])] * b)
    z2, w2 = h.multi_head_self_attention(x, wq, wk, wv, heads, w_o=wo, mask=per_head)
    rz, rw = ref_one_sequence(x[1], wq, wk, wv, heads, wo, per_head[1])
    np.testing.assert_allclose(z2[1], rz, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w2[1], rw, rtol=1e-10, atol=1e-13)


def test_padding_does_not_change_real_tokens():
    """Pad a short sentence with junk: its real tokens' outputs are unchanged (same for every head)."""
    d, heads = 8, 2
    wq, wk, wv, wo = weights4(d, 40)
    short = rand((3, d), 5)
    alone, _ = h.multi_head_self_attention(short, wq, wk, wv, heads, w_o=wo, mask=h.causal_mask(3))
    padded = np.concatenate([short, rand((2, d), 6, scale=50.0)])[None]          # (1, 5, d)
    keep = h.padding_mask([3], 5) & h.causal_mask(5)
    z, w = h.multi_head_self_attention(padded, wq, wk, wv, heads, w_o=wo, mask=keep)
    np.testing.assert_allclose(z[0, :3], alone, rtol=1e-12, atol=1e-12)
    assert np.all(w[0, :, :, 3:] == 0)


def test_heads_loop_equals_batched():
    x = rand((2, 5, 12), 7)
    wq, wk, wv, wo = weights4(12, 50)
    keep = h.padding_mask([5, 2], 5)
    for heads in (1, 2, 3, 4, 6):
        z, w = h.multi_head_self_attention(x, wq, wk, wv, heads, w_o=wo, mask=keep)
        zl, wl = mh.heads_loop(x, wq, wk, wv, heads, w_o=wo, mask=keep)
        np.testing.assert_allclose(z, zl, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(w, wl, rtol=1e-12, atol=1e-14)
    z2, w2 = mh.heads_loop(x[0], wq, wk, wv, 3)
    np.testing.assert_allclose(z2, h.multi_head_self_attention(x[0], wq, wk, wv, 3)[0], rtol=1e-12)


def test_heads_loop_bad_inputs_name_the_argument():
    """Wrong weights are refused up front, naming the caller's matrix (not an IndexError deep in the loop)."""
    x = rand((5, 8), 1)
    w = rand((8, 8), 2)
    with pytest.raises(ValueError, match=r"W_V must be a non-empty 2-D matrix.*\(8,\)"):
        mh.heads_loop(x, w, w, w[0], 2)
    with pytest.raises(ValueError, match=r"W_Q and W_K must produce the same number of columns"):
        mh.heads_loop(x, w, w[:, :6], w, 2)
    with pytest.raises(ValueError, match=r"W_O must have h \* d_v_head = 8 rows"):
        mh.heads_loop(x, w, w, w, 2, w_o=np.eye(4))
    with pytest.raises(TypeError, match="W_Q must hold real numbers"):
        mh.heads_loop(x, w + 1j, w, w, 2)
    with pytest.raises(ValueError, match=r"h \* d_head=8 \(the columns of W_Q, shape \(8, 8\)\) is not divisible by n_heads=3"):
        mh.heads_loop(x, w, w, w, 3)


def test_heads_loop_dtype_follows_all_inputs_like_the_batched_version():
    x = rand((2, 3, 4), 8).astype(np.float32)
    ws = [w.astype(np.float32) for w in weights4(4, 60)]
    z, w = mh.heads_loop(x, *ws[:3], 2, w_o=ws[3])
    assert z.dtype == np.float32 and w.dtype == np.float32
    z_mixed, _ = mh.heads_loop(x, *[a.astype(np.float64) for a in ws[:3]], 2)
    z_batched, _ = h.multi_head_self_attention(x, *[a.astype(np.float64) for a in ws[:3]], 2)
    assert z_mixed.dtype == z_batched.dtype == np.float64


def test_scaling_stats_divisor_and_overflow():
    x, lay = rand((6, 16), 3), mh.MultiHeadAttention(16, 4, seed=0)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="divisor must be a"):
            mh.scaling_stats(x, lay.w_q, lay.w_k, 4, bad)
    with pytest.raises(TypeError, match="divisor must be a real number"):
        mh.scaling_stats(x, lay.w_q, lay.w_k, 4, None)
    # a tiny divisor would overflow the divided scores: refused, not a RuntimeWarning / inf
    with pytest.raises(ValueError, match="divided by divisor=1e-320 reach inf"):
        mh.scaling_stats(x, lay.w_q, lay.w_k, 4, 1e-320)
    # a huge divisor means uniform weights: entropy ratio 1, largest weight 1/n
    s = mh.scaling_stats(x, lay.w_q, lay.w_k, 4, 1e300)
    assert s["entropy_ratio"] == pytest.approx(1.0) and s["mean_max"] == pytest.approx(1 / 6)
    with pytest.raises(ValueError, match=r"W_Q must be a non-empty 2-D matrix"):
        mh.scaling_stats(x, lay.w_q[0], lay.w_k, 4, 2.0)


def test_float32_stays_float32():
    x = rand((2, 3, 4), 8).astype(np.float32)
    ws = [w.astype(np.float32) for w in weights4(4, 60)]
    z, w = h.multi_head_self_attention(x, *ws[:3], 2, w_o=ws[3])
    assert z.dtype == np.float32 and w.dtype == np.float32
    z64, _ = h.multi_head_self_attention(x.astype(np.float64), *[a.astype(np.float64) for a in ws[:3]], 2,
                                         w_o=ws[3].astype(np.float64))
    np.testing.assert_allclose(z, z64, rtol=1e-4, atol=1e-5)


def test_one_head_equals_single_head_attention():
    x = rand((4, 6), 9)
    wq, wk, wv, _ = weights4(6, 70)
    z1, w1 = h.multi_head_self_attention(x, wq, wk, wv, 1)
    z2, w2 = h.self_attention(x, wq, wk, wv)
    np.testing.assert_allclose(z1, z2, rtol=1e-13)
    np.testing.assert_allclose(w1[0], w2, rtol=1e-13)


@settings(max_examples=40, deadline=None)
@given(b=st.integers(1, 3), n=st.integers(1, 5), heads=st.sampled_from([1, 2, 3]), dh=st.integers(1, 3),
       seed=st.integers(0, 10_000), causal=st.booleans())
def test_property_rows_sum_to_one_and_match_loop(b, n, heads, dh, seed, causal):
    d = heads * dh
    x = rand((b, n, d), seed)
    wq, wk, wv, wo = weights4(d, seed + 1)
    keep = h.causal_mask(n) if causal else None
    z, w = h.multi_head_self_attention(x, wq, wk, wv, heads, w_o=wo, mask=keep)
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-12)
    rz, rw = ref_one_sequence(x[-1], wq, wk, wv, heads, wo, keep)
    np.testing.assert_allclose(z[-1], rz, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(w[-1], rw, rtol=1e-9, atol=1e-12)


def test_inputs_are_not_modified():
    x = rand((2, 3, 4), 11)
    ws = weights4(4, 80)
    keep = h.causal_mask(3)
    copies = [a.copy() for a in (x, *ws, keep)]
    z, w = h.multi_head_self_attention(x, *ws[:3], 2, w_o=ws[3], mask=keep)
    for a, c in zip((x, *ws, keep), copies):
        np.testing.assert_array_equal(a, c)
        assert not np.shares_memory(z, a) and not np.shares_memory(w, a)


# ---------------------------------------------------------------------------
# bad input: clear messages naming shapes
# ---------------------------------------------------------------------------

X = np.ones((2, 3, 6))
W6 = np.ones((6, 6))
BAD = {
    "indivisible": (lambda: h.multi_head_self_attention(X, W6, W6, W6, 4), ValueError, r"columns of W_Q.*n_heads=4"),
    "W_Q rows": (lambda: h.multi_head_self_attention(X, np.ones((5, 6)), W6, W6, 2), ValueError,
                 r"d_model=6.*W_Q has 5 rows.*\(5, 6\)"),
    "W_Q vs W_K": (lambda: h.multi_head_self_attention(X, W6, np.ones((6, 4)), W6, 2), ValueError,
                   r"W_Q shape \(6, 6\), W_K shape \(6, 4\)"),
    "W_O rows": (lambda: h.multi_head_self_attention(X, W6, W6, W6, 2, w_o=np.ones((5, 6))), ValueError,
                 r"W_O.*6 rows.*\(5, 6\)"),
    "bias shape": (lambda: h.multi_head_self_attention(X, W6, W6, W6, 2, b_q=np.ones(5)), ValueError,
                   r"b_Q.*\(6,\).*\(5,\)"),
    "b_O without W_O": (lambda: h.multi_head_self_attention(X, W6, W6, W6, 2, b_o=np.ones(6)), ValueError, r"b_O"),
    "mask dims": (lambda: h.multi_head_self_attention(X, W6, W6, W6, 2, mask=np.ones((1, 2, 2, 3, 3), bool)),
                  ValueError, r"5 dimensions.*\(1, 2, 2, 3, 3\)"),
    "mask shape": (lambda: h.multi_head_self_attention(X, W6, W6, W6, 2, mask=h.causal_mask(4)), ValueError,
                   r"\(1, 4, 4\).*\(2, 2, 3, 3\)"),
    "mask dtype": (lambda: h.multi_head_self_attention(X, W6, W6, W6, 2, mask=np.ones((3, 3))), TypeError,
                   r"boolean.*float64"),
    "merge no head axis": (lambda: h.merge_heads(np.ones((4, 6))), ValueError, r"head axis.*\(4, 6\)"),
    "split indivisible": (lambda: h.split_heads(np.ones((2, 4, 6)), 4), ValueError, r"d_model=6.*\(2, 4, 6\).*n_heads=4"),
    "split NaN": (lambda: h.split_heads(np.full((2, 4), np.nan), 2), ValueError, r"NaN"),
    "layer indivisible": (lambda: mh.MultiHeadAttention(10, 3), ValueError, r"d_model=10.*n_heads=3"),
    "layer bias type": (lambda: mh.MultiHeadAttention(4, 2, bias="yes"), TypeError, r"bias"),
    "from_weights shape": (lambda: mh.MultiHeadAttention.from_weights(W6, W6, W6, np.ones((6, 5)), 2),
                           ValueError, r"W_O.*\(6, 6\).*\(6, 5\)"),
    "head index": (lambda: mh.MultiHeadAttention(4, 2).head_weights(2), ValueError, r"i=2.*n_heads=2"),
    "cost": (lambda: mh.attention_cost(1, 4, 6, 4), ValueError, r"d_model=6.*n_heads=4"),
    "torch mask": (lambda: mh.to_torch_mask(np.ones(3)), TypeError, r"boolean"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_input(case):
    fn, exc, pattern = BAD[case]
    with pytest.raises(exc, match=pattern):
        fn()


# ---------------------------------------------------------------------------
# MultiHeadAttention, cost, hand-built heads, mask conversion
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("heads", [1, 2, 4, 8])
def test_parameter_count_independent_of_heads(heads):
    layer = mh.MultiHeadAttention(32, heads)
    counted = sum(a.size for a in (layer.w_q, layer.w_k, layer.w_v, layer.w_o))
    assert layer.n_params == counted == 4 * 32 * 32
    with_bias = mh.MultiHeadAttention(32, heads, bias=True)
    counted_b = counted + sum(b.size for b in (with_bias.b_q, with_bias.b_k, with_bias.b_v, with_bias.b_o))
    assert with_bias.n_params == counted_b == 4 * 32 * 32 + 4 * 32


def test_layer_forward_and_loop():
    layer = mh.MultiHeadAttention(12, 3, seed=5)
    x = rand((2, 4, 12), 12)
    keep = h.causal_mask(4)
    z, w = layer.forward(x, keep)
    zl, wl = layer.heads_loop(x, keep)
    np.testing.assert_allclose(z, zl, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(w, wl, rtol=1e-12, atol=1e-14)
    assert z.shape == (2, 4, 12) and w.shape == (2, 3, 4, 4)
    wq1, wk1, wv1 = layer.head_weights(1)
    z1, a1 = h.self_attention(x[0], wq1, wk1, wv1, mask=keep)
    np.testing.assert_allclose(a1, w[0, 1], rtol=1e-12)
    assert "n_params=576" in repr(layer)
    with pytest.raises(ValueError, match="bias-free"):
        mh.MultiHeadAttention(4, 2, bias=True).heads_loop(np.ones((2, 4)))


def test_from_weights_copies_and_uses_biases():
    wq, wk, wv, wo = weights4(6, 90)
    bs = [rand((6,), 91 + i) for i in range(4)]
    layer = mh.MultiHeadAttention.from_weights(wq, wk, wv, wo, 3, b_q=bs[0], b_k=bs[1], b_v=bs[2], b_o=bs[3])
    assert not np.shares_memory(layer.w_q, wq) and not np.shares_memory(layer.b_o, bs[3])
    x = rand((3, 6), 92)
    z, _ = layer(x)
    rz, _ = ref_one_sequence(x, wq, wk, wv, 3, wo, None, bs)
    np.testing.assert_allclose(z, rz, rtol=1e-10, atol=1e-12)


def test_cost_counts_match_a_loop_count():
    for heads in (1, 2, 4):
        c = mh.attention_cost(2, 5, 8, heads)
        dh = 8 // heads
        # count multiply-adds the slow way, matrix product by matrix product
        macs = 0
        for _ in range(2):                       # batch
            macs += 4 * 5 * 8 * 8                # Q, K, V, W_O: n rows × d_in × d_out
            for _ in range(heads):
                macs += 5 * 5 * dh               # Q_i K_iᵀ
                macs += 5 * 5 * dh               # α_i V_i
        assert c["macs_total"] == macs
        assert c["params"] == 4 * 64
        assert c["weights_entries"] == 2 * heads * 25
    assert mh.attention_cost(1, 3, 8, 2, bias=True)["params"] == 4 * 64 + 32


def test_two_relation_heads_each_take_one_relation():
    toks = h.SENTENCE_CAT_SHORT
    x = h.token_inputs(toks, 16)
    W = mh.two_relation_weights(strength=1.0)
    _, a = h.multi_head_self_attention(x, *W["two_heads"][:3], 2, w_o=W["two_heads"][3])
    it = toks.index("它")
    assert toks[int(a[0, it].argmax())] == "小猫" and a[0, it].max() > 0.9
    assert toks[int(a[1, it].argmax())] == "饿坏了" and a[1, it].max() > 0.9
    _, a1 = h.self_attention(x, *W["one_head"])
    assert a1[it, toks.index("小猫")] < 0.5 and a1[it, toks.index("饿坏了")] < 0.7


def test_to_torch_mask_negates():
    keep = h.causal_mask(3)
    out = mh.to_torch_mask(keep)
    np.testing.assert_array_equal(out, ~keep)
    assert not np.shares_memory(out, keep)


def test_head_slices():
    assert mh.head_slices(6, 3) == [slice(0, 2), slice(2, 4), slice(4, 6)]
    with pytest.raises(ValueError, match="d=6.*n_heads=4"):
        mh.head_slices(6, 4)


# ---------------------------------------------------------------------------
# the live panel and its static twin
# ---------------------------------------------------------------------------

def test_panel_follows_its_controls():
    from helpers import widgets

    p = widgets.multihead_panel()
    assert p.alpha.shape == (4, 12, 12)
    assert p.values["query"] == list(widgets.MULTIHEAD_TOKENS).index("它")
    html0, readout0 = p.view.value, p.readout.value
    p.slider_query.value = 1
    assert p.view.value != html0 and p.readout.value != readout0
    np.testing.assert_array_equal(p.values["rows"], p.alpha[:, 1])
    html1 = p.view.value
    p.head_select.value = 2
    assert p.view.value != html1 and p.detail.value == ""     # tab 2 is built only while shown
    p.tabs.selected_index = 1
    assert "头 3 的全部注意力权重" in p.detail.value
    p.slider_query.value = 4                                 # tab 2 follows the controls while shown
    assert "头 3 的全部注意力权重" in p.detail.value and f"{p.alpha[2, 4, 0]:.2f}" in p.detail.value
    p.head_select.value = 0
    assert "头 1 的全部注意力权重" in p.detail.value
    # the weights are the layer's: heads 1 and 2 are the hand-built ones
    toks = list(widgets.MULTIHEAD_TOKENS)
    it = toks.index("它")
    assert toks[int(p.alpha[0, it].argmax())] == "小猫" and toks[int(p.alpha[1, it].argmax())] == "饿坏了"


def test_panel_values_are_copies_and_its_weights_read_only():
    from helpers import widgets

    p = widgets.multihead_panel(causal=True)
    view = p.view.value
    assert not np.shares_memory(p.values["weights"], p.alpha)
    p.values["weights"][:] = 0                  # a learner's experiment on the values …
    p.values["rows"][:] = 0
    p.refresh()
    assert p.view.value == view                 # … does not reach the panel's pictures
    for arr in (p.alpha, p.mask):               # drawn once into the small heatmaps: cannot be changed behind them
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 0


def test_panel_causal_and_bad_input():
    from helpers import widgets

    p = widgets.multihead_panel(causal=True, query=0)
    assert np.all(p.alpha[:, 0, 1:] == 0)
    with pytest.raises(ValueError, match="query=12 is out of range for 12 tokens"):
        widgets.multihead_panel(query=12)
    with pytest.raises(ValueError, match="head=4 is out of range for 4 heads"):
        widgets.multihead_panel(head=4)
    with pytest.raises(TypeError, match=r"\(W_Q, W_K, W_V, W_O\)"):
        widgets.multihead_panel(weights=(np.eye(16),))
    with pytest.raises(ValueError, match="at most 16 tokens"):
        widgets.multihead_panel(tokens=["a"] * 17)


def test_static_twin_and_grid_figure():
    from helpers import multihead_plots as mhp
    from helpers import widgets

    fig = widgets.multihead_figure()
    titles = [ax.get_title() for ax in fig.axes]
    assert "头 1（选中）" in titles and "头 4" in titles
    # the panel's layout (tab 所有头): the heads' grid, then the query's row of every head written out
    assert "查询「它」在每个头的权重（橙框：选中的头）" in titles      # the panel's table title, frame explained
    table = fig.axes[titles.index("查询「它」在每个头的权重（橙框：选中的头）")]
    p = widgets.multihead_panel()
    it = p.values["query"]
    written = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in table.texts}
    assert len(written) == 4 * 12
    for (i, j), txt in written.items():                      # head i's weight of the key j, 2 decimals
        v = p.alpha[i, it, j]
        assert txt == ("1" if v >= 0.995 else f"{v:.2f}".lstrip("0")), (i, j, txt, v)
    assert fig.get_size_inches()[0] <= 11 and fig.get_size_inches()[1] <= 6.5   # fits a 720-px slide
    long = list("一二三四五六七八九十甲乙丙")                  # > 12 tokens: the classic grid, numbers in the rows
    assert not any("在每个头的权重" in ax.get_title() for ax in widgets.multihead_figure(tokens=long).axes)
    with pytest.raises(ValueError, match="at most 12 tokens"):
        mhp.heads_grid_figure(np.full((2, 13, 13), 1 / 13), long, query=0, row_table=True)
    with pytest.raises(ValueError, match="give query"):
        mhp.heads_grid_figure(np.full((2, 3, 3), 1 / 3), ["a", "b", "c"], row_table=True)
    w = np.full((2, 3, 3), 1 / 3)
    causal = np.tril(w) / np.tril(w).sum(-1, keepdims=True)  # masked weights are 0 (the hatch hides nothing)
    fig2 = mhp.heads_grid_figure(causal, ["a", "b", "c"], query=1, mask=h.causal_mask(3))
    assert len([ax for ax in fig2.axes if ax.get_title()]) == 2
    with pytest.raises(ValueError, match=r"\(h, n, n\).*\(3, 3\)"):
        mhp.heads_grid_figure(np.ones((3, 3)), ["a", "b", "c"])
    with pytest.raises(ValueError, match="2 tokens"):
        mhp.heads_grid_figure(w, ["a", "b"])
    fig3 = mhp.scaling_figure([("a", [0.5, 0.5]), ("b", [1.0, 0.0])], ["x", "y"])
    assert len(fig3.axes) == 2


def test_static_twin_frames_the_whole_selected_subplot():
    """M2: the selected head's frame surrounds its whole subplot (title and token labels) with a margin, as
    the panel's does. A frame on the heatmap's own edges shared its bottom edge with the query row's frame,
    so head 1 showed 饿坏了 boxed like a third query row."""
    from matplotlib.colors import to_rgba

    from helpers import multihead_plots as mhp
    from helpers import plots, widgets

    orange = to_rgba(plots.HIGHLIGHT_COLOR)
    for fig in (widgets.multihead_figure(), widgets.multihead_figure(head=2),
                mhp.heads_grid_figure(np.full((4, 13, 13), 1 / 13), list("一二三四五六七八九十甲乙丙"), query=11,
                                      selected=1)):
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        heads = [ax for ax in fig.axes if ax.get_title().startswith("头 ")]
        assert len(heads) == 4
        for ax in heads:
            inner = ax.get_window_extent(r)
            title = ax.title.get_window_extent(r)
            around = [p.get_window_extent(r) for p in ax.patches if p.get_edgecolor() == orange
                      and p.get_window_extent(r).x0 < inner.x0 - 3 and p.get_window_extent(r).y0 < inner.y0 - 3
                      and p.get_window_extent(r).x1 > inner.x1 + 3 and p.get_window_extent(r).y1 > title.y1]
            assert len(around) == (1 if "（选中）" in ax.get_title() else 0), ax.get_title()
            # no orange edge on the heatmap's own bottom edge (where it framed the last row)
            for p in ax.patches:
                bb = p.get_window_extent(r)
                if p.get_edgecolor() == orange:
                    assert abs(bb.y0 - inner.y0) > 3 or bb.height < inner.height / 4, ax.get_title()
    suptitle = widgets.multihead_figure()._suptitle.get_text()
    assert "右边写出「它」这一行在每个头的数值" in suptitle


def test_ch09_predictions_come_before_the_static_figure():
    """M3: the predict-first questions of section 7 come before the static figure (which would answer them);
    their answers stay folded; the static figure is the last code cell before the panel."""
    import json
    from pathlib import Path

    nb = Path(__file__).resolve().parents[1] / "notebooks" / "09_multi_head_attention.ipynb"
    cells = [(c["cell_type"], "".join(c["source"])) for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]]
    fig = next(i for i, (t, s) in enumerate(cells) if t == "code" and "widgets.multihead_figure()" in s)
    panel = next(i for i, (t, s) in enumerate(cells) if t == "code" and "widgets.multihead_panel()" in s)
    ask = next(i for i, (t, s) in enumerate(cells) if t == "markdown" and "先预测" in s and "「里」" in s)
    assert ask < fig < panel
    assert all(t == "markdown" for t, _ in cells[fig + 1:panel])
    assert cells[ask][1].count("<details>") == cells[ask][1].count("</details>") == 3
    assert "下面的静态图" in cells[ask][1]


def test_figures_refuse_what_they_would_draw_wrong():
    """No silent coercion: an int mask, a string of tokens, rows that are not weights are refused."""
    from helpers import multihead_plots as mhp

    w = np.full((2, 3, 3), 1 / 3)
    with pytest.raises(TypeError, match="mask must be a boolean array"):
        mhp.heads_grid_figure(w, ["a", "b", "c"], mask=np.tril(np.ones((3, 3))))
    with pytest.raises(TypeError, match="tokens must be a list of strings, not one string"):
        mhp.heads_grid_figure(w, "abc")
    with pytest.raises(ValueError, match="every row of weights must sum to 1"):
        mhp.heads_grid_figure(2 * w, ["a", "b", "c"])
    with pytest.raises(TypeError, match="ncols must be a positive integer"):
        mhp.heads_grid_figure(w, ["a", "b", "c"], ncols=1.5)
    with pytest.raises(TypeError, match="head_names must be a list"):
        mhp.heads_grid_figure(w, ["a", "b", "c"], head_names="AB")
    with pytest.raises(ValueError, match=r"rows\[1\] weights_row has 3 weights but rows\[0\] has 2"):
        mhp.scaling_figure([("a", [0.5, 0.5]), ("b", [1.0, 0.0, 0.0])], ["x", "y"])
    with pytest.raises(ValueError, match=r"row \(1,\) sums to 1.2"):
        mhp.scaling_figure([("a", [0.5, 0.5]), ("b", [1.0, 0.2])], ["x", "y"])
    with pytest.raises(ValueError, match="got 3 tokens for rows of 2 weights"):
        mhp.scaling_figure([("a", [0.5, 0.5])], ["x", "y", "z"])


def test_panel_small_heatmaps_are_exact_pngs():
    """The small heatmaps are PNGs at displayed size, one flat square per cell in the weights' colours."""
    import base64
    import io

    import matplotlib.image as mpimg
    from helpers import plots
    from helpers.widgets import multihead as wm
    from helpers.widgets.primitives import color_index, color_lut

    w = np.array([[1.0, 0.0, 0.25], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    keep = h.causal_mask(3)
    uri = wm._heatmap_image(w, keep)
    img = mpimg.imread(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])), format="png")
    c = wm._CELL_PX
    assert img.shape[:2] == (3 * c, 3 * c)
    img = img[c // 2::c, c // 2::c]
    hexes, _ = color_lut(plots.WEIGHTS_CMAP)
    for i in range(3):
        for j in range(3):
            want = plots.MASK_COLOR if not keep[i, j] else hexes[color_index(w[i, j], 0.0, 1.0)]
            got = "#" + "".join(f"{round(float(v) * 255):02x}" for v in img[i, j, :3])
            assert got == want, (i, j, got, want)


def test_multi_head_rules_are_the_single_head_ones():
    """The mask dtype rule, the W_Q/W_K width rule and the seed rule read the same in single- and
    multi-head code (one rule each in helpers.validation)."""
    x, w = np.ones((3, 4)), np.ones((4, 4))
    float_mask = np.ones((3, 3))
    with pytest.raises(TypeError) as single:
        h.attention_weights(np.zeros((3, 3)), mask=float_mask)
    with pytest.raises(TypeError) as multi:
        h.multi_head_self_attention(x, w, w, w, 2, mask=float_mask)
    assert str(single.value) == str(multi.value)
    with pytest.raises(TypeError, match=r"^keep must be a boolean array.*keep\.astype\(bool\)"):
        mh.to_torch_mask(float_mask)
    with pytest.raises(ValueError, match=r"^W_Q and W_K must produce the same number of columns \(d_k\)"):
        h.project_qkv(x, w, w[:, :2], w)
    with pytest.raises(ValueError, match=r"^W_Q and W_K must produce the same number of columns \(h \* d_head\)"):
        h.multi_head_self_attention(x, w, w[:, :2], w, 2)
    with pytest.raises(ValueError, match=r"^seed must satisfy 0 <= seed <= 9223372036854775804"):
        mh.MultiHeadAttention(4, 2, seed=2 ** 63 - 1)        # uses seed … seed + 3


def test_output_projection_checked_before_any_product():
    """W_O and b_O are refused up front with the same message in the batched and the loop version."""
    x, w = np.ones((3, 4)), np.ones((4, 4))
    for fn in (h.multi_head_self_attention, mh.heads_loop):
        with pytest.raises(ValueError, match=r"^W_O must have h \* d_v_head = 4 rows"):
            fn(x, w, w, w, 2, w_o=np.ones((3, 4)))
        with pytest.raises(ValueError, match=r"^W_O is empty"):
            fn(x, w, w, w, 2, w_o=np.ones((4, 0)))


def test_grid_and_scaling_figures_draw_dollar_signs_literally():
    """Finding 32: a title "$x$" lost its dollar signs, "$\\frac$" failed only when the figure was drawn."""
    from figtools import DOLLAR_LABELS, assert_drawn_literally

    from helpers import multihead_plots as mhp

    w = np.full((2, 3, 3), 1 / 3)
    for kwargs in (dict(title="$x$ 与 $\\frac$"), dict(head_names=list(DOLLAR_LABELS))):
        assert_drawn_literally(mhp.heads_grid_figure(w, ["a", "b", "c"], **kwargs))
    assert_drawn_literally(mhp.heads_grid_figure(w, ["$x$", r"$\frac$", "c"]))
    rows = [("$x$", [0.5, 0.5]), (r"$\frac$", [1.0, 0.0])]
    assert_drawn_literally(mhp.scaling_figure(rows, ["a", "b"]))
    assert_drawn_literally(mhp.scaling_figure(rows[:1], list(DOLLAR_LABELS), title="$x$ 与 $\\frac$"))


@pytest.mark.parametrize("seed", [-1, 2 ** 32])
@pytest.mark.parametrize("fn", [mh.demo_heads, mh.two_relation_weights])
def test_hand_built_heads_take_a_32_bit_embedding_seed(fn, seed):
    """The seed is the embedding seed of handmade_weights (0 … 2**32 - 1); demo_heads used to state the
    64-bit range (…9223372036854775794) for seed=-1 and accept 2**32 until handmade_weights refused it."""
    with pytest.raises(ValueError, match=r"^seed must satisfy 0 <= seed <= 4294967295 \(2\*\*32 - 1: the embeddings"):
        fn(seed=seed)
