"""Tests for helpers.attention.

Every numeric check compares against an independent reference written here
with explicit Python loops over i, j and vector components (math.exp, plain
sums) -- never the vectorised formula of the module under test.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import helpers as h

PROPERTY = settings(max_examples=60, deadline=None)


# ---------------------------------------------------------------------------
# independent loop references
# ---------------------------------------------------------------------------

def ref_softmax_row(row, temperature=1.0):
    """Softmax of one list of floats; -inf -> 0; all -inf -> zeros."""
    row = [float(x) for x in row]
    finite = [x for x in row if x != -math.inf]
    if not finite:
        return [0.0] * len(row)
    m = max(finite)
    exps = [0.0 if x == -math.inf else math.exp((x - m) / temperature) for x in row]
    total = sum(exps)
    return [e / total for e in exps]


def ref_softmax_lastaxis(x, temperature=1.0):
    x = np.asarray(x, dtype=float)
    out = np.zeros(x.shape)
    for idx in np.ndindex(x.shape[:-1]):
        out[idx] = ref_softmax_row(list(x[idx]), temperature)
    return out


def ref_matmul(a, b):
    """(n, m) @ (m, p) with three explicit loops."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    n, m = a.shape
    m2, p = b.shape
    assert m == m2
    out = np.zeros((n, p))
    for i in range(n):
        for j in range(p):
            s = 0.0
            for c in range(m):
                s += float(a[i, c]) * float(b[c, j])
            out[i, j] = s
    return out


def ref_scores(q, k):
    """scores[i][j] = sum_c q[i][c] * k[j][c] (2-D only)."""
    q = np.asarray(q, dtype=float)
    k = np.asarray(k, dtype=float)
    out = np.zeros((q.shape[0], k.shape[0]))
    for i in range(q.shape[0]):
        for j in range(k.shape[0]):
            out[i, j] = sum(float(q[i, c]) * float(k[j, c]) for c in range(q.shape[1]))
    return out


def ref_attention_2d(q, k, v, mask=None, scale=None):
    """Scaled dot-product attention for one (n_q, d_k) query matrix, by loops."""
    q = np.asarray(q, dtype=float)
    k = np.asarray(k, dtype=float)
    v = np.asarray(v, dtype=float)
    n_q, d_k = q.shape
    n_k, d_v = v.shape
    if scale is None:
        scale = 1.0 / math.sqrt(d_k)
    weights = np.zeros((n_q, n_k))
    out = np.zeros((n_q, d_v))
    for i in range(n_q):
        row = []
        for j in range(n_k):
            if mask is not None and not mask[i][j]:
                row.append(-math.inf)
                continue
            dot = 0.0
            for c in range(d_k):
                dot += float(q[i, c]) * float(k[j, c])
            row.append(dot * scale)
        alpha = ref_softmax_row(row)
        for j in range(n_k):
            weights[i, j] = alpha[j]
        for c in range(d_v):
            out[i, c] = sum(alpha[j] * float(v[j, c]) for j in range(n_k))
    return out, weights


def ref_attention(q, k, v, mask=None, scale=None):
    """Batched reference: a Python loop over the broadcast batch dimensions."""
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    n_q, n_k = q.shape[-2], k.shape[-2]
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    if mask is not None:
        mask = np.asarray(mask)
        batch = np.broadcast_shapes(batch, mask.shape[:-2] if mask.ndim > 2 else ())
        mask = np.broadcast_to(mask, batch + (n_q, n_k))
    qb = np.broadcast_to(q, batch + q.shape[-2:])
    kb = np.broadcast_to(k, batch + k.shape[-2:])
    vb = np.broadcast_to(v, batch + v.shape[-2:])
    out = np.zeros(batch + (n_q, v.shape[-1]))
    weights = np.zeros(batch + (n_q, n_k))
    for idx in np.ndindex(batch):
        o, w = ref_attention_2d(qb[idx], kb[idx], vb[idx], None if mask is None else mask[idx], scale)
        out[idx] = o
        weights[idx] = w
    return out, weights


def rand(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    """Belt and braces: even if pytest.ini changes, any RuntimeWarning fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ---------------------------------------------------------------------------
# the seed's worked example
# ---------------------------------------------------------------------------

SEED_WEIGHTS = [0.31428404, 0.33296327, 0.35275269]
SEED_OUTPUT = [4.11540595, 5.11540595, 6.11540595]


def test_seed_example_to_8_decimals():
    ex = h.SEED_EXAMPLE
    z, w = h.scaled_dot_product_attention(ex["q1"], ex["K"], ex["V"])
    assert w.shape == (1, 3) and z.shape == (1, 3)
    np.testing.assert_array_equal(np.round(w, 8), [SEED_WEIGHTS])
    np.testing.assert_array_equal(np.round(z, 8), [SEED_OUTPUT])
    assert np.max(np.abs(w - np.array([SEED_WEIGHTS]))) < 5e-9
    assert np.max(np.abs(z - np.array([SEED_OUTPUT]))) < 5e-9


def test_seed_example_by_hand_loops():
    """The chapter's numbers recomputed with nothing but math.exp and loops."""
    q1 = [0.2, 0.5, 0.1]
    keys = [[0.4, 0.1, 0.6], [0.8, 0.2, 0.3], [0.1, 0.7, 0.2]]
    values = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]
    scaled = [sum(a * b for a, b in zip(q1, key)) / math.sqrt(3) for key in keys]
    exps = [math.exp(s) for s in scaled]
    alpha = [e / sum(exps) for e in exps]
    z = [sum(alpha[j] * values[j][c] for j in range(3)) for c in range(3)]
    assert [round(a, 8) for a in alpha] == SEED_WEIGHTS
    assert [round(x, 8) for x in z] == SEED_OUTPUT
    ex = h.SEED_EXAMPLE
    np.testing.assert_allclose(ex["weights"], [SEED_WEIGHTS], atol=0)
    np.testing.assert_allclose(ex["output"], [SEED_OUTPUT], atol=0)
    assert ex["d_k"] == 3


def test_seed_example_step_by_step():
    ex = h.SEED_EXAMPLE
    scores = h.attention_scores(ex["q1"], ex["K"])
    np.testing.assert_allclose(scores, [[0.19, 0.29, 0.39]], atol=1e-15)
    scaled = h.scale_scores(scores, ex["d_k"])
    weights = h.attention_weights(scaled)
    z = h.weighted_sum(weights, ex["V"])
    np.testing.assert_allclose(weights, [SEED_WEIGHTS], atol=5e-9)
    np.testing.assert_allclose(z, [SEED_OUTPUT], atol=5e-9)


# ---------------------------------------------------------------------------
# softmax
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1,), (5,), (3, 4), (2, 3, 5)])
@pytest.mark.parametrize("temperature", [1.0, 0.5, 3.0])
def test_softmax_matches_loop_reference(shape, temperature):
    x = rand(shape, seed=sum(shape)) * 3
    got = h.softmax(x, temperature=temperature)
    assert got.shape == x.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, ref_softmax_lastaxis(x, temperature), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("axis", [0, 1, -2])
def test_softmax_other_axis(axis):
    x = rand((3, 4), seed=7)
    got = h.softmax(x, axis=axis)
    expected = np.moveaxis(ref_softmax_lastaxis(np.moveaxis(x, axis, -1)), -1, axis)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(got.sum(axis=axis), 1.0, rtol=1e-12)


def test_softmax_accepts_lists_and_ints():
    np.testing.assert_allclose(h.softmax([1, 2, 3]), ref_softmax_row([1, 2, 3]), rtol=1e-12)
    np.testing.assert_allclose(h.softmax(np.array([1, 2, 3], dtype=np.int32)), ref_softmax_row([1, 2, 3]))


def test_softmax_float32_stays_float32():
    x = rand((2, 3), dtype=np.float32)
    out = h.softmax(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref_softmax_lastaxis(x), rtol=1e-6)


def test_softmax_large_inputs_no_warning():
    out = h.softmax([1000.0, 1001.0, 1002.0])
    np.testing.assert_allclose(out, ref_softmax_row([0.0, 1.0, 2.0]), rtol=1e-12)
    np.testing.assert_array_equal(h.softmax([1e300, 0.0]), [1.0, 0.0])
    np.testing.assert_array_equal(h.softmax([-1e300, 1e300]), [0.0, 1.0])
    np.testing.assert_array_equal(h.softmax([1e308, -1e308, 1e308]), [0.5, 0.0, 0.5])
    np.testing.assert_allclose(h.softmax([-1000.0, -1001.0]), ref_softmax_row([1.0, 0.0]), rtol=1e-12)
    out32 = h.softmax(np.array([1e38, 3e38, -3e38], dtype=np.float32))
    assert out32.dtype == np.float32 and not np.isnan(out32).any()
    np.testing.assert_array_equal(out32, [0.0, 1.0, 0.0])


def test_softmax_minus_inf_gives_zero():
    out = h.softmax([0.0, -np.inf, 1.0])
    assert out[1] == 0.0
    np.testing.assert_allclose(out, ref_softmax_row([0.0, -math.inf, 1.0]), rtol=1e-12)


def test_softmax_all_minus_inf_row_is_zeros():
    x = np.array([[-np.inf, -np.inf, -np.inf], [1.0, 2.0, -np.inf]])
    out = h.softmax(x)
    np.testing.assert_array_equal(out[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(out[1], ref_softmax_row([1.0, 2.0, -math.inf]), rtol=1e-12)
    assert not np.isnan(out).any()
    out32 = h.softmax(x.astype(np.float32))
    np.testing.assert_array_equal(out32[0], [0.0, 0.0, 0.0])


def test_softmax_temperature_extremes_exact():
    np.testing.assert_array_equal(h.softmax([1.0, 3.0, 2.0], temperature=1e-12), [0.0, 1.0, 0.0])
    np.testing.assert_allclose(h.softmax([1.0, 3.0, 2.0], temperature=1e12), [1 / 3] * 3, rtol=1e-9)
    np.testing.assert_array_equal(h.softmax(np.float32([1, 3, 2]), temperature=1e-30), [0.0, 1.0, 0.0])


# softmax properties -------------------------------------------------------

finite_rows = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5),
    elements=st.floats(-50, 50, allow_nan=False, allow_infinity=False),
)


@PROPERTY
@given(finite_rows)
def test_prop_softmax_rows_sum_to_one(x):
    out = h.softmax(x)
    assert out.shape == x.shape
    assert (out >= 0).all() and (out <= 1).all()
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(out, ref_softmax_lastaxis(x), rtol=1e-9, atol=1e-300)


@PROPERTY
@given(finite_rows, st.floats(-1000, 1000, allow_nan=False))
def test_prop_softmax_shift_invariant(x, c):
    np.testing.assert_allclose(h.softmax(x + c), h.softmax(x), rtol=1e-8, atol=1e-12)


@PROPERTY
@given(hnp.arrays(np.float64, st.integers(1, 8),
                  elements=st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False)))
def test_prop_softmax_huge_inputs_finite_no_warning(x):
    out = h.softmax(x)
    assert np.isfinite(out).all()
    assert (out >= 0).all()
    assert out[np.argmax(x)] > 0
    assert abs(out.sum() - 1.0) < 1e-12


@PROPERTY
@given(hnp.arrays(np.float64, st.integers(2, 6), elements=st.floats(-10, 10, allow_nan=False)))
def test_prop_temperature_to_zero_is_one_hot(x):
    x = x.copy()
    x[np.argmax(x)] += 0.5  # make the maximum unique (gap >= 0.5)
    one_hot = np.zeros_like(x)
    one_hot[np.argmax(x)] = 1.0
    previous = 0.0
    for t in (10.0, 1.0, 0.1, 1e-2, 1e-3, 1e-4):
        p = h.softmax(x, temperature=t)
        assert p[np.argmax(x)] >= previous - 1e-12  # sharpens monotonically
        previous = p[np.argmax(x)]
    np.testing.assert_allclose(h.softmax(x, temperature=1e-4), one_hot, atol=1e-12)


@PROPERTY
@given(hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-10, 10, allow_nan=False)))
def test_prop_temperature_to_infinity_is_uniform(x):
    n = len(x)
    spreads = [np.ptp(h.softmax(x, temperature=t)) for t in (1.0, 10.0, 100.0, 1e4, 1e8)]
    assert all(b <= a + 1e-15 for a, b in zip(spreads, spreads[1:]))  # flattens monotonically
    np.testing.assert_allclose(h.softmax(x, temperature=1e8), np.full(n, 1.0 / n), atol=1e-6)


# ---------------------------------------------------------------------------
# the four steps
# ---------------------------------------------------------------------------

def test_attention_scores_matches_loops():
    q, k = rand((3, 4), 1), rand((5, 4), 2)
    s = h.attention_scores(q, k)
    assert s.shape == (3, 5)
    np.testing.assert_allclose(s, ref_scores(q, k), rtol=1e-12, atol=1e-14)


def test_attention_scores_batched():
    q, k = rand((2, 3, 4), 1), rand((2, 5, 4), 2)
    s = h.attention_scores(q, k)
    assert s.shape == (2, 3, 5)
    for b in range(2):
        np.testing.assert_allclose(s[b], ref_scores(q[b], k[b]), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("d_k", [1, 3, 4, 64])
def test_scale_scores_divides_by_sqrt_dk(d_k):
    s = rand((2, 3), 3)
    out = h.scale_scores(s, d_k)
    for i in range(2):
        for j in range(3):
            assert math.isclose(out[i, j], s[i, j] / math.sqrt(d_k), rel_tol=1e-14, abs_tol=1e-300)


def test_scale_scores_keeps_float32_and_accepts_numpy_int():
    s = rand((2, 3), 3, np.float32)
    out = h.scale_scores(s, np.int64(4))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, s / 2.0, rtol=1e-7)


def test_attention_weights_without_mask_is_row_softmax():
    s = rand((4, 5), 4) * 2
    np.testing.assert_allclose(h.attention_weights(s), ref_softmax_lastaxis(s), rtol=1e-12)


def test_attention_weights_with_mask():
    s = rand((3, 3), 5)
    mask = h.causal_mask(3)
    w = h.attention_weights(s, mask)
    for i in range(3):
        row = [s[i, j] if j <= i else -math.inf for j in range(3)]
        np.testing.assert_allclose(w[i], ref_softmax_row(row), rtol=1e-12)
        for j in range(i + 1, 3):
            assert w[i, j] == 0.0


def test_weighted_sum_matches_loops():
    w = ref_softmax_lastaxis(rand((3, 4), 6))
    v = rand((4, 2), 7)
    z = h.weighted_sum(w, v)
    assert z.shape == (3, 2)
    for i in range(3):
        for c in range(2):
            assert math.isclose(z[i, c], sum(w[i, j] * v[j, c] for j in range(4)), rel_tol=1e-12, abs_tol=1e-14)


def test_four_steps_compose_to_sdpa():
    q, k, v = rand((2, 3, 4), 8), rand((2, 5, 4), 9), rand((2, 5, 6), 10)
    mask = rand((3, 5), 11) > -0.5
    steps = h.weighted_sum(h.attention_weights(h.scale_scores(h.attention_scores(q, k), 4), mask), v)
    z, w = h.scaled_dot_product_attention(q, k, v, mask=mask)
    np.testing.assert_allclose(z, steps, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------
# scaled dot-product attention
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "n_q,n_k,d_k,d_v", [(1, 1, 1, 1), (1, 3, 3, 3), (4, 4, 8, 8), (2, 5, 3, 7), (6, 2, 4, 1)]
)
def test_sdpa_matches_loop_reference(n_q, n_k, d_k, d_v):
    q, k, v = rand((n_q, d_k), 1), rand((n_k, d_k), 2), rand((n_k, d_v), 3)
    z, w = h.scaled_dot_product_attention(q, k, v)
    assert z.shape == (n_q, d_v) and w.shape == (n_q, n_k)
    rz, rw = ref_attention_2d(q, k, v)
    np.testing.assert_allclose(w, rw, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(z, rz, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("scale", [0.1, 1.0, 2.5])
def test_sdpa_custom_scale(scale):
    q, k, v = rand((3, 4), 4), rand((5, 4), 5), rand((5, 2), 6)
    z, w = h.scaled_dot_product_attention(q, k, v, scale=scale)
    rz, rw = ref_attention_2d(q, k, v, scale=scale)
    np.testing.assert_allclose(w, rw, rtol=1e-12)
    np.testing.assert_allclose(z, rz, rtol=1e-12, atol=1e-14)
    if scale != 0.5:  # d_k = 4: default scale is 1/2
        _, w_default = h.scaled_dot_product_attention(q, k, v)
        assert not np.allclose(w, w_default)


def test_sdpa_default_scale_is_inverse_sqrt_dk():
    q, k, v = rand((3, 9), 4), rand((5, 9), 5), rand((5, 2), 6)
    z1, w1 = h.scaled_dot_product_attention(q, k, v)
    z2, w2 = h.scaled_dot_product_attention(q, k, v, scale=1 / 3)
    np.testing.assert_allclose(w1, w2, rtol=1e-14)
    np.testing.assert_allclose(z1, z2, rtol=1e-14)


def test_sdpa_with_causal_mask():
    q, k, v = rand((4, 3), 1), rand((4, 3), 2), rand((4, 2), 3)
    mask = h.causal_mask(4)
    z, w = h.scaled_dot_product_attention(q, k, v, mask=mask)
    rz, rw = ref_attention_2d(q, k, v, mask=mask)
    np.testing.assert_allclose(w, rw, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(z, rz, rtol=1e-12, atol=1e-14)
    assert w[0, 0] == 1.0
    np.testing.assert_array_equal(z[0], v[0])
    assert (w[~mask] == 0).all()


def test_sdpa_batch_and_head_dims():
    b, n_heads, n_q, n_k, d_k, d_v = 2, 3, 4, 5, 6, 2
    q = rand((b, n_heads, n_q, d_k), 1)
    k = rand((b, n_heads, n_k, d_k), 2)
    v = rand((b, n_heads, n_k, d_v), 3)
    mask = rand((b, 1, n_q, n_k), 4) > 0
    z, w = h.scaled_dot_product_attention(q, k, v, mask=mask)
    assert z.shape == (b, n_heads, n_q, d_v) and w.shape == (b, n_heads, n_q, n_k)
    rz, rw = ref_attention(q, k, v, mask=mask)
    np.testing.assert_allclose(w, rw, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(z, rz, rtol=1e-12, atol=1e-14)


def test_sdpa_broadcast_batch_dims():
    q = rand((3, 2, 4), 1)       # 3 batches of queries
    k = rand((1, 5, 4), 2)       # one shared set of keys
    v = rand((5, 3), 3)          # unbatched values
    z, w = h.scaled_dot_product_attention(q, k, v)
    assert z.shape == (3, 2, 3) and w.shape == (3, 2, 5)
    rz, rw = ref_attention(q, k, v)
    np.testing.assert_allclose(z, rz, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(w, rw, rtol=1e-12, atol=1e-15)


def test_sdpa_float32_in_float32_out():
    q, k, v = (rand((2, 3, 4), s, np.float32) for s in (1, 2, 3))
    for kwargs in ({}, {"scale": 0.3}, {"mask": h.causal_mask(3)}):
        z, w = h.scaled_dot_product_attention(q, k, v, **kwargs)
        assert z.dtype == np.float32 and w.dtype == np.float32, kwargs
        rz, rw = ref_attention(q, k, v, mask=kwargs.get("mask"), scale=kwargs.get("scale"))
        np.testing.assert_allclose(w, rw, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(z, rz, rtol=1e-5, atol=1e-5)
    # every step keeps float32 too
    s = h.attention_scores(q, k)
    assert s.dtype == np.float32
    assert h.scale_scores(s, 4).dtype == np.float32
    assert h.attention_weights(s).dtype == np.float32
    assert h.weighted_sum(h.attention_weights(s), v).dtype == np.float32


def test_sdpa_float64_and_int_inputs_give_float64():
    q = np.array([[1, 0], [0, 1]])
    z, w = h.scaled_dot_product_attention(q, q, q)
    assert z.dtype == np.float64 and w.dtype == np.float64
    rz, rw = ref_attention_2d(q, q, q)
    np.testing.assert_allclose(z, rz, rtol=1e-12)


def test_sdpa_all_masked_row_gives_zero_weights_and_output():
    q, k, v = rand((3, 2), 1), rand((4, 2), 2), rand((4, 5), 3) + 10
    mask = np.ones((3, 4), dtype=bool)
    mask[1] = False
    z, w = h.scaled_dot_product_attention(q, k, v, mask=mask)
    np.testing.assert_array_equal(w[1], np.zeros(4))
    np.testing.assert_array_equal(z[1], np.zeros(5))
    assert np.isfinite(z).all() and np.isfinite(w).all()
    np.testing.assert_allclose(w[[0, 2]].sum(axis=-1), 1.0, rtol=1e-12)
    # also in float32 and when everything is masked
    z32, w32 = h.scaled_dot_product_attention(
        q.astype(np.float32), k.astype(np.float32), v.astype(np.float32), mask=np.zeros((3, 4), bool)
    )
    assert z32.dtype == np.float32
    np.testing.assert_array_equal(w32, 0.0)
    np.testing.assert_array_equal(z32, 0.0)


def test_sdpa_large_but_finite_inputs_no_warning():
    q = np.array([[30.0, 30.0], [-1e100, 0.0]])
    k = np.array([[30.0, 30.0], [1e100, 1.0], [-1e100, 0.0]])
    v = rand((3, 2), 1)
    z, w = h.scaled_dot_product_attention(q, k, v)
    assert np.isfinite(z).all() and np.isfinite(w).all()
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(w[1], [0.0, 0.0, 1.0])


# ---------------------------------------------------------------------------
# masks
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 5])
def test_causal_mask_by_loops(n):
    m = h.causal_mask(n)
    assert m.shape == (n, n) and m.dtype == bool
    for i in range(n):
        for j in range(n):
            assert m[i, j] == (j <= i)


def test_padding_mask_by_loops():
    m = h.padding_mask([2, 4, 0], 4)
    assert m.shape == (3, 1, 4) and m.dtype == bool
    for b, length in enumerate([2, 4, 0]):
        for j in range(4):
            assert m[b, 0, j] == (j < length)
    single = h.padding_mask(3, 5)
    assert single.shape == (5,) and single.tolist() == [True, True, True, False, False]


def test_padding_mask_in_attention():
    lengths = [2, 3]
    q, k, v = rand((2, 3, 4), 1), rand((2, 3, 4), 2), rand((2, 3, 2), 3)
    mask = h.padding_mask(lengths, 3)
    z, w = h.scaled_dot_product_attention(q, k, v, mask=mask)
    assert (w[0, :, 2] == 0).all()
    rz, rw = ref_attention(q, k, v, mask=np.broadcast_to(mask, (2, 3, 3)))
    np.testing.assert_allclose(w, rw, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(z, rz, rtol=1e-12, atol=1e-14)
    # causal and padding together
    both = h.causal_mask(3) & mask
    z2, w2 = h.scaled_dot_product_attention(q, k, v, mask=both)
    assert (w2[~both] == 0).all()


def test_a_key_mask_built_along_the_query_axis_is_refused():
    """N6: keep[:, None] (n, 1) broadcast legally and blocked whole query *rows* (zeros), while every query
    still attended to the <pad> key; a mask must vary along the keys (its last axis)."""
    q, k, v = rand((4, 2), 1), rand((4, 2), 2), rand((4, 3), 3)
    keep = np.array([True, True, True, False])
    for wrong in (keep[:, None], np.ones((4, 1), bool), np.array(True), np.array([True])):
        with pytest.raises(ValueError, match=r"^mask of shape .* has length 1 along its last axis \(the keys\), "
                                             r"but the scores \(4, 4\) .* n_k=4 keys: it would block whole query "
                                             r"rows, not keys\. .* keep\[\.\.\., None, :\]"):
            h.scaled_dot_product_attention(q, k, v, mask=wrong)
    with pytest.raises(ValueError, match=r"^mask of shape \(2, 4, 1\) has length 1 along its last axis"):
        h.self_attention(rand((2, 4, 3), 4), *h.init_qkv_weights(3, 2), mask=keep[None, :, None].repeat(2, 0))
    # every mask the course builds still works: causal, key vector, padding (b, 1, n) and (b, 1, 1, n),
    # (b, n, n), (b·h, n, n), one query against n keys (a cache), and n_k == 1
    qb, kb, vb = rand((2, 4, 2), 5), rand((2, 4, 2), 6), rand((2, 4, 3), 7)
    pad = h.padding_mask([3, 4], 4)
    for qq, kk, vv, m in ((q, k, v, h.causal_mask(4)), (q, k, v, keep), (qb, kb, vb, pad),
                          (qb[:, None], kb[:, None], vb[:, None], pad[:, None]), (qb, kb, vb, pad & h.causal_mask(4)),
                          (rand((6, 4, 2), 8), rand((6, 4, 2), 9), rand((6, 4, 3), 10), np.tile(h.causal_mask(4), (6, 1, 1))),
                          (q[:1], k, v, keep[None, :]), (q, k[:1], v[:1], np.ones((4, 1), bool))):
        z, w = h.scaled_dot_product_attention(qq, kk, vv, mask=m)
        assert (w[~np.broadcast_to(m, w.shape)] == 0).all() and np.isfinite(z).all()
    w = h.scaled_dot_product_attention(q, k, v, mask=keep)[1]
    assert (w[:, 3] == 0).all() and np.allclose(w.sum(-1), 1.0)   # the pad key blocked for every query


# mask properties ----------------------------------------------------------

@st.composite
def qkv_and_mask(draw, batch=False):
    n_q = draw(st.integers(1, 5))
    n_k = draw(st.integers(1, 5))
    d_k = draw(st.integers(1, 4))
    d_v = draw(st.integers(1, 3))
    lead = draw(st.sampled_from([(), (2,), (2, 3)])) if batch else ()
    el = st.floats(-5, 5, allow_nan=False)
    q = draw(hnp.arrays(np.float64, lead + (n_q, d_k), elements=el))
    k = draw(hnp.arrays(np.float64, lead + (n_k, d_k), elements=el))
    v = draw(hnp.arrays(np.float64, lead + (n_k, d_v), elements=el))
    mask = draw(hnp.arrays(np.bool_, lead + (n_q, n_k)))
    return q, k, v, mask


@PROPERTY
@given(qkv_and_mask())
def test_prop_masked_positions_get_exactly_zero(data):
    q, k, v, mask = data
    z, w = h.scaled_dot_product_attention(q, k, v, mask=mask)
    assert (w[~mask] == 0.0).all()
    sums = w.sum(axis=-1)
    has_key = mask.any(axis=-1)
    np.testing.assert_allclose(sums[has_key], 1.0, rtol=1e-12)
    np.testing.assert_array_equal(sums[~has_key], 0.0)
    np.testing.assert_array_equal(z[~has_key], 0.0)
    assert np.isfinite(z).all()
    rz, rw = ref_attention_2d(q, k, v, mask=mask)
    np.testing.assert_allclose(w, rw, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(z, rz, rtol=1e-9, atol=1e-9)


@PROPERTY
@given(qkv_and_mask(batch=True), st.booleans())
def test_prop_batch_dims_behave_like_a_loop(data, use_mask):
    q, k, v, mask = data
    mask = mask if use_mask else None
    z, w = h.scaled_dot_product_attention(q, k, v, mask=mask)
    for idx in np.ndindex(q.shape[:-2]):
        zi, wi = h.scaled_dot_product_attention(q[idx], k[idx], v[idx], mask=None if mask is None else mask[idx])
        np.testing.assert_allclose(z[idx], zi, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(w[idx], wi, rtol=1e-12, atol=1e-15)


@PROPERTY
@given(qkv_and_mask())
def test_prop_weight_rows_sum_to_one_without_mask(data):
    q, k, v, _ = data
    z, w = h.scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-12)
    assert (w >= 0).all()
    # every output is a convex combination of value rows: inside their range
    assert (z <= v.max(axis=0) + 1e-9).all() and (z >= v.min(axis=0) - 1e-9).all()


@PROPERTY
@given(st.data())
def test_prop_huge_inputs_finite_or_clear_overflow_error(data):
    """Any finite input: either a finite result or a ValueError about overflow -- never NaN, never a warning."""
    n_q, n_k, d_k = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4)), data.draw(st.integers(1, 3))
    el = st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False)
    q = data.draw(hnp.arrays(np.float64, (n_q, d_k), elements=el))
    k = data.draw(hnp.arrays(np.float64, (n_k, d_k), elements=el))
    v = data.draw(hnp.arrays(np.float64, (n_k, 2), elements=st.floats(-1e6, 1e6)))
    mask = data.draw(st.none() | hnp.arrays(np.bool_, (n_q, n_k)))
    try:
        z, w = h.scaled_dot_product_attention(q, k, v, mask=mask)
    except ValueError as exc:
        assert "overflow" in str(exc)
        return
    assert np.isfinite(z).all() and np.isfinite(w).all()
    assert ((np.abs(w.sum(axis=-1) - 1) < 1e-9) | (w.sum(axis=-1) == 0)).all()


@PROPERTY
@given(qkv_and_mask(batch=True))
def test_prop_float32_in_float32_out(data):
    q, k, v, mask = (a.astype(np.float32) if a.dtype != bool else a for a in data)
    z, w = h.scaled_dot_product_attention(q, k, v, mask=mask)
    assert z.dtype == np.float32 and w.dtype == np.float32
    z64, w64 = h.scaled_dot_product_attention(q.astype(float), k.astype(float), v.astype(float), mask=mask)
    np.testing.assert_allclose(w, w64, atol=1e-5)
    np.testing.assert_allclose(z, z64, atol=1e-4)


# ---------------------------------------------------------------------------
# projections, self- and cross-attention
# ---------------------------------------------------------------------------

def test_project_matches_loops():
    x, w = rand((4, 5), 1), rand((5, 3), 2)
    np.testing.assert_allclose(h.project(x, w, "W_Q"), ref_matmul(x, w), rtol=1e-12, atol=1e-14)
    xb = rand((2, 4, 5), 3)
    pb = h.project(xb, w)
    for b in range(2):
        np.testing.assert_allclose(pb[b], ref_matmul(xb[b], w), rtol=1e-12, atol=1e-14)


def test_project_qkv_matches_loops():
    x = rand((4, 6), 1)
    wq, wk, wv = rand((6, 3), 2), rand((6, 3), 3), rand((6, 2), 4)
    q, k, v = h.project_qkv(x, wq, wk, wv)
    np.testing.assert_allclose(q, ref_matmul(x, wq), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(k, ref_matmul(x, wk), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(v, ref_matmul(x, wv), rtol=1e-12, atol=1e-14)
    assert v.shape == (4, 2)


def test_self_attention_matches_loops():
    x = rand((5, 6), 1)
    wq, wk, wv = rand((6, 4), 2), rand((6, 4), 3), rand((6, 3), 4)
    for mask in (None, h.causal_mask(5)):
        z, w = h.self_attention(x, wq, wk, wv, mask=mask)
        rz, rw = ref_attention_2d(ref_matmul(x, wq), ref_matmul(x, wk), ref_matmul(x, wv), mask=mask)
        assert z.shape == (5, 3) and w.shape == (5, 5)
        np.testing.assert_allclose(w, rw, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(z, rz, rtol=1e-10, atol=1e-12)


def test_self_attention_on_a_real_sentence():
    x = h.token_inputs(h.SENTENCE_APPLE, 8, seed=0)
    wq, wk, wv = h.init_qkv_weights(8, 4, seed=0)
    z, w = h.self_attention(x, wq, wk, wv)
    assert z.shape == (4, 4) and w.shape == (4, 4)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-12)
    rz, rw = ref_attention_2d(ref_matmul(x, wq), ref_matmul(x, wk), ref_matmul(x, wv))
    np.testing.assert_allclose(z, rz, rtol=1e-10, atol=1e-12)


def test_cross_attention_non_square():
    x_q = rand((2, 6), 1)     # e.g. decoder: 2 tokens
    x_ctx = rand((5, 6), 2)   # e.g. encoder: 5 tokens
    wq, wk, wv = rand((6, 4), 3), rand((6, 4), 4), rand((6, 3), 5)
    mask = np.array([[True, True, True, False, False], [True] * 5])
    for m in (None, mask):
        z, w = h.cross_attention(x_q, x_ctx, wq, wk, wv, mask=m)
        assert z.shape == (2, 3) and w.shape == (2, 5)
        rz, rw = ref_attention_2d(ref_matmul(x_q, wq), ref_matmul(x_ctx, wk), ref_matmul(x_ctx, wv), mask=m)
        np.testing.assert_allclose(w, rw, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(z, rz, rtol=1e-10, atol=1e-12)


def test_cross_attention_equals_self_attention_when_same_sequence():
    x = rand((4, 6), 1)
    wq, wk, wv = rand((6, 4), 3), rand((6, 4), 4), rand((6, 3), 5)
    z1, w1 = h.cross_attention(x, x, wq, wk, wv)
    z2, w2 = h.self_attention(x, wq, wk, wv)
    np.testing.assert_allclose(z1, z2, rtol=1e-14)
    np.testing.assert_allclose(w1, w2, rtol=1e-14)


@PROPERTY
@given(st.data())
def test_prop_self_attention_permutation_equivariant(data):
    n = data.draw(st.integers(1, 6))
    d_model = data.draw(st.integers(1, 5))
    d_k = data.draw(st.integers(1, 4))
    el = st.floats(-3, 3, allow_nan=False)
    x = data.draw(hnp.arrays(np.float64, (n, d_model), elements=el))
    wq = data.draw(hnp.arrays(np.float64, (d_model, d_k), elements=el))
    wk = data.draw(hnp.arrays(np.float64, (d_model, d_k), elements=el))
    wv = data.draw(hnp.arrays(np.float64, (d_model, 2), elements=el))
    perm = np.array(data.draw(st.permutations(range(n))))
    z, w = h.self_attention(x, wq, wk, wv)
    zp, wp = h.self_attention(x[perm], wq, wk, wv)
    np.testing.assert_allclose(zp, z[perm], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(wp, w[perm][:, perm], rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------
# multi-head
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape,n_heads", [((4, 6), 2), ((4, 6), 3), ((2, 3, 8), 4), ((5, 4), 1)])
def test_split_merge_round_trip(shape, n_heads):
    x = rand(shape, 1)
    parts = h.split_heads(x, n_heads)
    d_head = shape[-1] // n_heads
    assert parts.shape == shape[:-2] + (n_heads, shape[-2], d_head)
    for idx in np.ndindex(shape[:-2]):
        for head in range(n_heads):
            for i in range(shape[-2]):
                for c in range(d_head):
                    assert parts[idx + (head, i, c)] == x[idx + (i, head * d_head + c)]
    np.testing.assert_array_equal(h.merge_heads(parts), x)


def ref_multi_head(x, wq, wk, wv, n_heads, wo=None, mask=None):
    d = wq.shape[1]
    d_head = d // n_heads
    outs, weights = [], []
    for head in range(n_heads):
        cols = slice(head * d_head, (head + 1) * d_head)
        q = ref_matmul(x, wq[:, cols])
        k = ref_matmul(x, wk[:, cols])
        v = ref_matmul(x, wv[:, cols])
        z, w = ref_attention_2d(q, k, v, mask=mask)
        outs.append(z)
        weights.append(w)
    merged = np.concatenate(outs, axis=-1)
    if wo is not None:
        merged = ref_matmul(merged, wo)
    return merged, np.stack(weights)


@pytest.mark.parametrize("n_heads", [1, 2, 4])
@pytest.mark.parametrize("with_wo", [False, True])
@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_against_per_head_loop(n_heads, with_wo, causal):
    n, d = 5, 8
    x = rand((n, d), 1)
    wq, wk, wv, wo = (rand((d, d), s) / math.sqrt(d) for s in (2, 3, 4, 5))
    mask = h.causal_mask(n) if causal else None
    z, w = h.multi_head_self_attention(x, wq, wk, wv, n_heads, w_o=wo if with_wo else None, mask=mask)
    rz, rw = ref_multi_head(x, wq, wk, wv, n_heads, wo if with_wo else None, mask)
    assert z.shape == (n, d) and w.shape == (n_heads, n, n)
    np.testing.assert_allclose(w, rw, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(z, rz, rtol=1e-10, atol=1e-12)


def test_multi_head_batched():
    x = rand((2, 5, 8), 1)
    wq, wk, wv = (rand((8, 8), s) for s in (2, 3, 4))
    z, w = h.multi_head_self_attention(x, wq, wk, wv, 2)
    assert z.shape == (2, 5, 8) and w.shape == (2, 2, 5, 5)
    for b in range(2):
        rz, rw = ref_multi_head(x[b], wq, wk, wv, 2)
        np.testing.assert_allclose(z[b], rz, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(w[b], rw, rtol=1e-10, atol=1e-14)


def test_one_head_equals_self_attention():
    x = rand((4, 6), 1)
    wq, wk, wv = (rand((6, 6), s) for s in (2, 3, 4))
    z1, w1 = h.multi_head_self_attention(x, wq, wk, wv, 1)
    z2, w2 = h.self_attention(x, wq, wk, wv)
    np.testing.assert_allclose(z1, z2, rtol=1e-13)
    np.testing.assert_allclose(w1[0], w2, rtol=1e-13)


# ---------------------------------------------------------------------------
# bad input: type AND message
# ---------------------------------------------------------------------------

Q23 = np.ones((2, 3))
K43 = np.ones((4, 3))
V42 = np.ones((4, 2))


def _nan_at(shape, idx, value=np.nan):
    a = np.ones(shape)
    a[idx] = value
    return a


BAD_SDPA = {
    # wrong number of dims
    "query 1-D": (dict(query=np.ones(3)), ValueError, r"query.*at least 2 dimensions.*\(3,\)"),
    "key 1-D": (dict(key=np.ones(3)), ValueError, r"key.*at least 2 dimensions.*\(3,\)"),
    "value 1-D": (dict(value=np.ones(4)), ValueError, r"value.*at least 2 dimensions.*\(4,\)"),
    "query scalar": (dict(query=1.0), ValueError, r"query.*at least 2 dimensions.*\(\)"),
    # d_k mismatch
    "d_k mismatch": (dict(query=np.ones((1, 2)), key=np.ones((1, 3)), value=np.ones((1, 2))),
                     ValueError, r"d_k=2.*\(1, 2\).*d_k=3.*\(1, 3\)"),
    # n_k mismatch
    "n_k mismatch": (dict(value=np.ones((5, 2))), ValueError, r"n_k=4.*\(4, 3\).*n_k=5.*\(5, 2\)"),
    # empty sequences
    "empty query": (dict(query=np.ones((0, 3))), ValueError, r"query is empty.*\(0, 3\)"),
    "empty key": (dict(key=np.ones((0, 3)), value=np.ones((0, 2))), ValueError, r"key is empty.*\(0, 3\)"),
    "empty value": (dict(value=np.ones((0, 2))), ValueError, r"value is empty.*\(0, 2\)"),
    "zero d_k": (dict(query=np.ones((2, 0)), key=np.ones((4, 0))), ValueError, r"query is empty.*\(2, 0\)"),
    "empty batch": (dict(query=np.ones((0, 2, 3))), ValueError, r"empty.*\(0, 2, 3\)"),
    # NaN / inf
    "NaN in query": (dict(query=_nan_at((2, 3), (1, 2))), ValueError, r"query contains NaN.*\(1, 2\).*nan"),
    "inf in key": (dict(key=_nan_at((4, 3), (3, 0), np.inf)), ValueError, r"key contains NaN or inf.*\(3, 0\).*inf"),
    "-inf in value": (dict(value=_nan_at((4, 2), (0, 1), -np.inf)), ValueError, r"value.*\(0, 1\).*-inf"),
    # non-positive / bad scale
    "scale 0": (dict(scale=0), ValueError, r"scale must be a positive.*0"),
    "scale negative": (dict(scale=-0.5), ValueError, r"scale must be a positive.*-0\.5"),
    "scale nan": (dict(scale=float("nan")), ValueError, r"scale.*nan"),
    "scale inf": (dict(scale=float("inf")), ValueError, r"scale.*inf"),
    "scale str": (dict(scale="0.5"), TypeError, r"scale must be a real number.*'0\.5'.*str"),
    "scale bool": (dict(scale=True), TypeError, r"scale.*True.*bool"),
    # masks
    "int mask": (dict(mask=np.ones((2, 4), dtype=int)), TypeError, r"mask must be a boolean.*int64.*\(2, 4\)"),
    "float mask": (dict(mask=[[1.0, 0.0, 1.0, 1.0]]), TypeError, r"mask must be a boolean.*float64.*\(1, 4\)"),
    "mask wrong n_k": (dict(mask=np.ones((2, 3), dtype=bool)), ValueError, r"mask of shape \(2, 3\).*\(2, 4\)"),
    "mask wrong n_q": (dict(mask=np.ones((3, 1), dtype=bool)), ValueError, r"mask of shape \(3, 1\).*\(2, 4\)"),
    "mask too many dims": (dict(mask=np.ones((5, 2, 4), dtype=bool)), ValueError, r"\(5, 2, 4\).*\(2, 4\)"),
    # non-numeric dtypes
    "str query": (dict(query=[["a", "b", "c"]]), TypeError, r"query must hold real numbers.*<U1.*\(1, 3\)"),
    "object key": (dict(key=np.array([[1, None, 3]] * 4, dtype=object)), TypeError, r"key.*object.*\(4, 3\)"),
    "ragged value": (dict(value=[[1.0, 2.0], [3.0]]), TypeError, r"value.*numeric|value.*rectangular"),
    "complex query": (dict(query=np.ones((2, 3), dtype=complex)), TypeError, r"query.*complex128.*\(2, 3\)"),
    "bool value": (dict(value=np.ones((4, 2), dtype=bool)), TypeError, r"value.*booleans.*\(4, 2\)"),
    # batch dims that cannot broadcast
    "batch mismatch q/k": (dict(query=np.ones((2, 2, 3)), key=np.ones((3, 4, 3)), value=np.ones((3, 4, 2))),
                           ValueError, r"query \(2, 2, 3\).*key \(3, 4, 3\).*cannot be broadcast"),
    "batch mismatch k/v": (dict(key=np.ones((2, 4, 3)), value=np.ones((3, 4, 2))),
                           ValueError, r"\(2, 4, 3\).*\(3, 4, 2\).*cannot be broadcast"),
    # overflow of Q Kᵀ
    "scores overflow": (dict(query=np.full((2, 3), 1e200), key=np.full((4, 3), 1e200)),
                        ValueError, r"overflow.*1e\+200"),
    "scale overflow": (dict(query=np.full((2, 3), 1e150), key=np.full((4, 3), 1e150), scale=1e100),
                       ValueError, r"overflow.*scale=1e\+100"),
    "float32 scale overflow": (dict(query=np.ones((2, 3), np.float32), key=np.ones((4, 3), np.float32),
                                    value=np.ones((4, 2), np.float32), scale=1e300),
                               ValueError, r"overflowed float32.*scale=1e\+300"),
}


@pytest.mark.parametrize("case", list(BAD_SDPA), ids=list(BAD_SDPA))
def test_sdpa_bad_input(case):
    overrides, exc, pattern = BAD_SDPA[case]
    args = dict(query=Q23, key=K43, value=V42)
    args.update(overrides)
    with pytest.raises(exc, match=pattern):
        h.scaled_dot_product_attention(**args)


BAD_OTHER = {
    # softmax
    "softmax temperature 0": (lambda: h.softmax([1.0, 2.0], temperature=0), ValueError, r"temperature.*positive.*0"),
    "softmax temperature -1": (lambda: h.softmax([1.0, 2.0], temperature=-1), ValueError, r"temperature.*-1"),
    "softmax temperature nan": (lambda: h.softmax([1.0], temperature=float("nan")), ValueError, r"temperature.*nan"),
    "softmax temperature str": (lambda: h.softmax([1.0], temperature="hot"), TypeError, r"temperature.*'hot'"),
    "softmax NaN": (lambda: h.softmax([[1.0, np.nan]]), ValueError, r"NaN.*\(0, 1\).*\(1, 2\)"),
    "softmax +inf": (lambda: h.softmax([1.0, np.inf, 0.0]), ValueError, r"\+inf.*\(1,\).*\(3,\)"),
    "softmax empty": (lambda: h.softmax(np.ones((2, 0))), ValueError, r"empty.*\(2, 0\)"),
    "softmax scalar": (lambda: h.softmax(3.0), ValueError, r"at least 1 dimension"),
    "softmax str": (lambda: h.softmax(["a", "b"]), TypeError, r"real numbers.*<U1.*\(2,\)"),
    "softmax bool": (lambda: h.softmax([True, False]), TypeError, r"real numbers.*bool.*\(2,\)"),
    "softmax complex": (lambda: h.softmax([1j, 2]), TypeError, r"complex128"),
    "softmax axis out of range": (lambda: h.softmax(np.ones((2, 3)), axis=2), ValueError, r"axis 2.*\(2, 3\)"),
    "softmax axis None": (lambda: h.softmax(np.ones((2, 3)), axis=None), TypeError, r"axis.*None"),
    # step functions
    "scores d_k mismatch": (lambda: h.attention_scores(np.ones((1, 2)), np.ones((1, 3))),
                            ValueError, r"\(1, 2\).*\(1, 3\)"),
    "scores 1-D key": (lambda: h.attention_scores(np.ones((1, 2)), np.ones(2)), ValueError, r"key.*\(2,\)"),
    "scores batch mismatch": (lambda: h.attention_scores(np.ones((2, 1, 2)), np.ones((3, 1, 2))),
                              ValueError, r"\(2, 1, 2\).*\(3, 1, 2\)"),
    "scores overflow": (lambda: h.attention_scores(np.full((1, 2), 1e200), np.full((1, 2), 1e200)),
                        ValueError, r"overflow"),
    "scale_scores d_k 0": (lambda: h.scale_scores(np.ones((1, 2)), 0), ValueError, r"d_k.*positive.*0"),
    "scale_scores d_k -4": (lambda: h.scale_scores(np.ones((1, 2)), -4), ValueError, r"d_k.*-4"),
    "scale_scores d_k float": (lambda: h.scale_scores(np.ones((1, 2)), 2.5), TypeError, r"d_k.*2\.5.*float"),
    "scale_scores NaN": (lambda: h.scale_scores([[np.nan]], 2), ValueError, r"scores contains NaN.*\(0, 0\)"),
    "weights empty": (lambda: h.attention_weights(np.ones((2, 0))), ValueError, r"\(2, 0\)"),
    "weights int mask": (lambda: h.attention_weights(np.ones((2, 2)), np.eye(2)), TypeError, r"mask.*float64.*\(2, 2\)"),
    "weights bad mask": (lambda: h.attention_weights(np.ones((2, 2)), np.ones((3,), bool)),
                         ValueError, r"\(3,\).*\(2, 2\)"),
    "weighted_sum rows not summing to 1": (lambda: h.weighted_sum(np.ones((2, 3)), np.ones((3, 5))),
                                           ValueError, r"every row of weights must sum to 1.*row \(0,\) sums to 3"),
    "weighted_sum negative weight": (lambda: h.weighted_sum([[1.5, -0.5]], np.ones((2, 5))),
                                     ValueError, r"weights must be non-negative"),
    "weighted_sum n_k mismatch": (lambda: h.weighted_sum(np.full((2, 3), 1 / 3), np.ones((4, 5))),
                                  ValueError, r"n_k=3.*\(2, 3\).*n_k=4.*\(4, 5\)"),
    "weighted_sum 1-D": (lambda: h.weighted_sum(np.ones(3), np.ones((3, 5))), ValueError, r"weights.*\(3,\)"),
    "weighted_sum batch": (lambda: h.weighted_sum(np.full((2, 1, 3), 1 / 3), np.ones((4, 3, 5))),
                           ValueError, r"\(2, 1, 3\).*\(4, 3, 5\)"),
    # masks
    "causal 0": (lambda: h.causal_mask(0), ValueError, r"n must be a positive integer, got 0"),
    "causal float": (lambda: h.causal_mask(2.5), TypeError, r"n.*2\.5.*float"),
    "padding negative": (lambda: h.padding_mask([2, -1], 4), ValueError, r"n=4.*\[2, -1\]"),
    "padding too long": (lambda: h.padding_mask([5], 4), ValueError, r"between 0 and n=4.*\[5\]"),
    "padding float": (lambda: h.padding_mask([1.5], 4), TypeError, r"lengths must be integers.*float64.*1\.5"),
    "padding 2-D": (lambda: h.padding_mask([[1, 2]], 4), ValueError, r"\(1, 2\)"),
    "padding n 0": (lambda: h.padding_mask([1], 0), ValueError, r"n.*0"),
    # projections
    "project mismatch": (lambda: h.project(np.ones((4, 5)), np.ones((6, 3)), "W_Q"),
                         ValueError, r"d_model=5.*\(4, 5\).*W_Q.*6.*\(6, 3\)"),
    "project 3-D weight": (lambda: h.project(np.ones((4, 5)), np.ones((2, 5, 3)), "W_K"),
                           ValueError, r"W_K.*2-D.*\(2, 5, 3\)"),
    "project 1-D x": (lambda: h.project(np.ones(5), np.ones((5, 3))), ValueError, r"x.*\(5,\)"),
    "project NaN weight": (lambda: h.project(np.ones((4, 5)), _nan_at((5, 3), (2, 1)), "W_V"),
                           ValueError, r"W_V contains NaN.*\(2, 1\)"),
    "project_qkv d_k": (lambda: h.project_qkv(np.ones((4, 5)), np.ones((5, 3)), np.ones((5, 2)), np.ones((5, 3))),
                        ValueError, r"W_Q.*\(5, 3\).*W_K.*\(5, 2\)"),
    "self_attention W_K rows": (lambda: h.self_attention(np.ones((4, 5)), np.ones((5, 3)), np.ones((6, 3)),
                                                         np.ones((5, 3))), ValueError, r"W_K.*\(6, 3\)"),
    "self_attention bad mask": (lambda: h.self_attention(np.ones((4, 5)), *(np.ones((5, 3)),) * 3,
                                                         mask=h.causal_mask(3)), ValueError, r"\(3, 3\).*\(4, 4\)"),
    "cross d_model": (lambda: h.cross_attention(np.ones((2, 5)), np.ones((3, 4)), *(np.ones((5, 3)),) * 3),
                      ValueError, r"d_model=4.*\(3, 4\).*W_K.*\(5, 3\)"),
    "cross empty context": (lambda: h.cross_attention(np.ones((2, 5)), np.ones((0, 5)), *(np.ones((5, 3)),) * 3),
                            ValueError, r"empty.*\(0, 5\)"),
    # heads
    "split indivisible": (lambda: h.split_heads(np.ones((4, 6)), 4), ValueError, r"d_model=6.*\(4, 6\).*n_heads=4"),
    "split 0 heads": (lambda: h.split_heads(np.ones((4, 6)), 0), ValueError, r"n_heads.*0"),
    "merge 2-D": (lambda: h.merge_heads(np.ones((4, 6))), ValueError, r"\(4, 6\)"),
    "mhsa indivisible": (lambda: h.multi_head_self_attention(np.ones((3, 6)), *(np.ones((6, 6)),) * 3, n_heads=4),
                         ValueError, r"6.*n_heads=4"),
    "mhsa W_O": (lambda: h.multi_head_self_attention(np.ones((3, 6)), *(np.ones((6, 6)),) * 3, n_heads=2,
                                                     w_o=np.ones((5, 6))), ValueError, r"W_O.*\(5, 6\)"),
}


@pytest.mark.parametrize("case", list(BAD_OTHER), ids=list(BAD_OTHER))
def test_other_bad_input(case):
    fn, exc, pattern = BAD_OTHER[case]
    with pytest.raises(exc, match=pattern):
        fn()


def test_bad_input_never_leaks_a_bare_numpy_error():
    """Every bad case above raises the helper's own message, not numpy's."""
    numpy_phrases = ("operands could not be broadcast", "matmul: Input operand", "shapes not aligned")
    for fn, *_ in BAD_OTHER.values():
        try:
            fn()
        except (ValueError, TypeError) as exc:
            assert not any(p in str(exc) for p in numpy_phrases), str(exc)


def test_inputs_are_not_modified():
    q, k, v = rand((2, 3), 1), rand((4, 3), 2), rand((4, 2), 3)
    copies = [a.copy() for a in (q, k, v)]
    mask = np.ones((2, 4), bool)
    mask[0, 0] = False
    h.scaled_dot_product_attention(q, k, v, mask=mask)
    h.softmax(q)
    for a, c in zip((q, k, v), copies):
        np.testing.assert_array_equal(a, c)
    assert mask.sum() == 7


def test_public_api_names():
    names = [
        "softmax", "attention_scores", "scale_scores", "attention_weights", "weighted_sum",
        "scaled_dot_product_attention", "causal_mask", "padding_mask", "project", "project_qkv",
        "self_attention", "cross_attention", "split_heads", "merge_heads", "multi_head_self_attention",
        "tokenize", "embed_tokens", "positional_encoding", "token_inputs", "init_weights",
        "init_qkv_weights", "SEED_EXAMPLE", "SENTENCE_APPLE", "SENTENCE_CAT", "SENTENCE_CAT_SHORT",
    ]
    for name in names:
        assert hasattr(h, name), name
        assert name in h.__all__, name
    for name in itertools.chain(names[:15]):
        assert getattr(h, name).__doc__, name
