"""Tests for helpers.analysis against slow, loop-based reference implementations."""

import math

import numpy as np
import pytest

import helpers as h
from helpers import analysis as a


def _loop_softmax(row):
    m = max(row)
    e = [math.exp(x - m) for x in row]
    s = sum(e)
    return [x / s for x in e]


def _loop_entropy(row):
    return -sum(p * math.log(p) for p in row if p > 0)


def _loop_jacobian(p):
    n = len(p)
    return [[p[i] * ((1.0 if i == j else 0.0) - p[j]) for j in range(n)] for i in range(n)]


# ---------------------------------------------------------------- entropy

def test_entropy_matches_loop():
    rng = np.random.default_rng(1)
    w = h.softmax(rng.standard_normal((5, 7)))
    ref = [_loop_entropy(list(row)) for row in w]
    assert np.allclose(a.entropy(w), ref)


def test_entropy_extremes():
    assert np.isclose(a.entropy([1.0, 0.0, 0.0]), 0.0)
    assert np.isclose(a.entropy(np.full(8, 1 / 8)), math.log(8))


def test_entropy_axis():
    rng = np.random.default_rng(2)
    w = h.softmax(rng.standard_normal((3, 4)), axis=0)
    assert np.allclose(a.entropy(w, axis=0), a.entropy(w.T))


@pytest.mark.parametrize(
    "bad, exc, words",
    [
        ([0.5, 0.6], ValueError, "sum to 1"),
        ([1.5, -0.5], ValueError, "non-negative"),
        (5.0, ValueError, "scalar"),
        (["a", "b"], TypeError, "real numbers"),
        ([[0.5, 0.5]], ValueError, "axis"),
    ],
)
def test_entropy_rejects_bad_input(bad, exc, words):
    kwargs = {"axis": 3} if words == "axis" else {}
    with pytest.raises(exc, match=words):
        a.entropy(bad, **kwargs)


# ---------------------------------------------------------------- Jacobian

def test_jacobian_matches_loop_and_finite_differences():
    s = np.array([0.3, -1.2, 2.0, 0.5])
    p = h.softmax(s)
    jac = a.softmax_jacobian(p)
    assert np.allclose(jac, _loop_jacobian(list(p)))
    eps = 1e-6
    numeric = np.empty((4, 4))
    for j in range(4):
        d = np.zeros(4)
        d[j] = eps
        numeric[:, j] = (h.softmax(s + d) - h.softmax(s - d)) / (2 * eps)
    assert np.allclose(jac, numeric, atol=1e-8)
    assert np.allclose(jac.sum(axis=0), 0) and np.allclose(jac.sum(axis=1), 0)


def test_jacobian_batched_and_norm():
    rng = np.random.default_rng(3)
    p = h.softmax(rng.standard_normal((2, 3, 5)))
    jac = a.softmax_jacobian(p)
    assert jac.shape == (2, 3, 5, 5)
    norms = a.jacobian_norm(p)
    for i in range(2):
        for t in range(3):
            ref = math.sqrt(sum(x * x for r in _loop_jacobian(list(p[i, t])) for x in r))
            assert math.isclose(norms[i, t], ref, rel_tol=1e-12)


def test_jacobian_vanishes_for_one_hot():
    assert np.isclose(a.jacobian_norm([0.0, 1.0, 0.0]), 0.0)
    assert a.jacobian_norm(np.full(4, 0.25)) > 0.4


def test_jacobian_rejects_unnormalised_rows():
    with pytest.raises(ValueError, match="wrong axis"):
        a.softmax_jacobian([[0.9, 0.9], [0.1, 0.1]])


# ---------------------------------------------------------------- dot products

def test_sample_dot_products_loop_and_scaling():
    d = a.sample_dot_products(16, n_samples=50, seed=4)
    rng = np.random.default_rng([4, 16])
    q = rng.standard_normal((50, 16))
    k = rng.standard_normal((50, 16))
    ref = [sum(q[n, i] * k[n, i] for i in range(16)) for n in range(50)]
    assert np.allclose(d, ref)
    assert np.allclose(a.sample_dot_products(16, 50, seed=4, scaled=True), np.array(ref) / 4.0)


def test_sample_dot_products_deterministic():
    d = a.sample_dot_products(64, 100, seed=3)
    assert np.array_equal(d, a.sample_dot_products(64, 100, seed=3))


def test_dot_product_variance_grows_like_d_k():
    d_ks = [1, 16, 256]
    var = a.dot_product_variance(d_ks, n_samples=20000)
    assert np.allclose(var / d_ks, 1.0, atol=0.1)
    var_scaled = a.dot_product_variance(d_ks, n_samples=20000, scaled=True)
    assert np.allclose(var_scaled, 1.0, atol=0.1)


@pytest.mark.parametrize("bad, exc", [([0, 4], ValueError), ([1.5], TypeError), ([], ValueError)])
def test_dot_product_variance_rejects_bad_d_ks(bad, exc):
    with pytest.raises(exc, match="d_k"):
        a.dot_product_variance(bad)


def test_sample_dot_products_rejects_bad_arguments():
    with pytest.raises(ValueError, match="d_k"):
        a.sample_dot_products(0)
    with pytest.raises(TypeError, match="n_samples"):
        a.sample_dot_products(4, n_samples=2.5)


# ---------------------------------------------------------------- saturation

def test_saturation_stats_against_loop():
    stats = a.saturation_stats([4], n_keys=3, n_trials=6, seed=5)
    rng = np.random.default_rng([5, 4])
    q = rng.standard_normal((6, 1, 4))
    k = rng.standard_normal((6, 3, 4))
    maxes, ents = [], []
    for t in range(6):
        row = [sum(q[t, 0, i] * k[t, j, i] for i in range(4)) for j in range(3)]
        p = _loop_softmax(row)
        maxes.append(max(p))
        ents.append(_loop_entropy(p))
    assert np.isclose(stats["max_weight"][0], np.mean(maxes))
    assert np.isclose(stats["entropy"][0], np.mean(ents))


def test_saturation_unscaled_saturates_scaled_does_not():
    d_ks = [1, 512]
    raw = a.saturation_stats(d_ks, n_trials=200)
    scaled = a.saturation_stats(d_ks, n_trials=200, scaled=True)
    assert raw["max_weight"][1] > 0.9 > scaled["max_weight"][1]
    assert raw["jacobian_norm_median"][1] < 0.01 < scaled["jacobian_norm_median"][1]
    assert abs(scaled["entropy"][1] - scaled["entropy"][0]) < 0.2


def test_saturation_rejects_one_key():
    with pytest.raises(ValueError, match="n_keys"):
        a.saturation_stats([4], n_keys=1)


# ---------------------------------------------------------------- self weight

def test_self_weight_loop():
    w = np.array([[0.7, 0.2, 0.1], [0.5, 0.25, 0.25], [0.1, 0.1, 0.8]])
    out = a.self_weight(w)
    assert np.allclose(out["diagonal"], [0.7, 0.25, 0.8])
    assert math.isclose(out["mean"], (0.7 + 0.25 + 0.8) / 3)
    assert math.isclose(out["argmax_is_self"], 2 / 3)


def test_self_weight_rejects_non_square():
    with pytest.raises(ValueError, match="square"):
        a.self_weight(np.full((2, 3), 1 / 3))


def test_saturation_exponent_one_flattens_towards_uniform():
    lin = a.saturation_stats([256], n_keys=8, n_trials=200, scaled=True, exponent=1.0)
    assert abs(lin["entropy"][0] - math.log(8)) < 0.01
    with pytest.raises(TypeError, match="exponent"):
        a.saturation_stats([4], scaled=True, exponent="half")


# --- query_gradient_stats / softmax_stats_at_std (ch03, issue 11) ------------------------------

def _softmax_loop(s):
    e = [math.exp(v - max(s)) for v in s]
    return [v / sum(e) for v in e]


@pytest.mark.parametrize("mode", ["raw", "scaled", "shrunk_init"])
def test_query_gradient_matches_finite_differences(mode):
    """|dL/dW_Q| of the helper equals the finite-difference gradient of L = g·softmax(c·(x W_Q)·K_j) (loops)."""
    d_k, d_model, n_keys = 4, 3, 5
    out = a.query_gradient_stats(d_k, mode=mode, n_keys=n_keys, n_trials=2, d_model=d_model, seed=7)
    # rebuild the same draws (the helper's documented order)
    rng = np.random.default_rng([7, d_k, d_model])
    W_Q = rng.standard_normal((d_model, d_k)) / np.sqrt(d_model)
    x = rng.standard_normal((2, d_model))
    K = rng.standard_normal((2, n_keys, d_k))
    g = rng.standard_normal((2, n_keys))
    if mode == "shrunk_init":
        W_Q = W_Q / np.sqrt(d_k)
    c = 1 / math.sqrt(d_k) if mode == "scaled" else 1.0
    assert out["c"] == pytest.approx(c)
    assert out["wq_norm"] == pytest.approx(np.linalg.norm(W_Q))
    for t in range(2):
        def loss(W):
            q = [sum(x[t, m] * W[m, d] for m in range(d_model)) for d in range(d_k)]
            s = [c * sum(q[d] * K[t, j, d] for d in range(d_k)) for j in range(n_keys)]
            return sum(gj * aj for gj, aj in zip(g[t], _softmax_loop(s)))
        eps = 1e-6
        grad = np.zeros_like(W_Q)
        for idx in np.ndindex(W_Q.shape):
            wp, wm = W_Q.copy(), W_Q.copy()
            wp[idx] += eps
            wm[idx] -= eps
            grad[idx] = (loss(wp) - loss(wm)) / (2 * eps)
        assert out["wq_grad"][t] == pytest.approx(np.linalg.norm(grad), rel=1e-6)


def test_query_gradient_shrunk_init_gives_the_scaled_weights():
    sc = a.query_gradient_stats(16, mode="scaled", n_trials=50)
    sh = a.query_gradient_stats(16, mode="shrunk_init", n_trials=50)
    assert np.allclose(sc["weights"], sh["weights"])
    assert np.allclose(sc["weights"].sum(-1), 1)


@pytest.mark.parametrize("kwargs,exc,text", [
    ({"mode": "bogus"}, ValueError, "mode"),
    ({"n_keys": 1}, ValueError, "n_keys"),
    ({"d_model": 0}, ValueError, "d_model"),
])
def test_query_gradient_bad_input(kwargs, exc, text):
    with pytest.raises(exc, match=text):
        a.query_gradient_stats(8, **kwargs)


def test_softmax_stats_at_std():
    st = a.softmax_stats_at_std([0.01, 1.0, 50.0], n_keys=4, n_trials=500)
    assert st["max_weight"][0] == pytest.approx(0.25, abs=0.01)       # almost uniform
    assert st["entropy"][0] == pytest.approx(math.log(4), abs=1e-3)
    assert st["max_weight"][2] > 0.97                                  # saturated
    assert np.all(np.diff(st["max_weight"]) > 0)
    for bad in ([], [0.0], [-1.0], [[1.0]], [np.nan]):
        with pytest.raises(ValueError, match="stds"):
            a.softmax_stats_at_std(bad)


def test_format_table_aligns_cjk_columns():
    text = a.format_table(["d_k", "最大权重"], [[8, "0.6579"], [512, "0.9628"]])
    lines = text.split("\n")
    assert [a._display_width(line) for line in lines] == [len(lines[1])] * 3
    assert lines[0].endswith("最大权重") and lines[2].endswith("0.9628")


def test_format_table_rejects_ragged_rows():
    with pytest.raises(ValueError, match=r"rows\[1\] has 1 cells but header has 2"):
        a.format_table(["a", "b"], [[1, 2], [3]])


def test_softmax_stats_at_std_refuses_negative_seeds():
    with pytest.raises(ValueError, match=r"seed must satisfy 0 <= seed"):
        a.softmax_stats_at_std([1.0], seed=-1)


def test_all_zero_row_is_a_masked_row_for_attention_but_not_a_distribution():
    """check_weight_rows lets a fully masked (all-zero) row through weighted_sum; entropy and the
    softmax Jacobian need probability rows (check_distributions) and refuse it."""
    w = np.array([[0.5, 0.5], [0.0, 0.0]])
    assert np.array_equal(h.weighted_sum(w, np.eye(2)), [[0.5, 0.5], [0.0, 0.0]])
    for fn in (a.entropy, a.softmax_jacobian, a.jacobian_norm):
        with pytest.raises(ValueError, match=r"^every row of weights must sum to 1; row \(1,\) sums to 0 "):
            fn(w)


# --- adversarial pass, round 2 (finding 12): one random draw is not a statistic ---

@pytest.mark.parametrize("call, name", [
    (lambda: a.dot_product_variance([1, 16, 64], n_samples=1), "n_samples"),  # was [0., 0., 0.]
    (lambda: a.saturation_stats([1, 4], n_trials=1), "n_trials"),
    (lambda: a.softmax_stats_at_std([0.5, 1.0], n_trials=1), "n_trials"),
])
def test_statistics_of_a_single_draw_are_refused(call, name):
    with pytest.raises(ValueError, match=name + r" must be at least 2: a variance or mean over a single random "
                                               r"draw is not a measurement"):
        call()


def test_two_draws_are_enough_and_single_samples_stay_available():
    v = a.dot_product_variance([1, 16], n_samples=2)
    assert v.shape == (2,) and (v > 0).all()
    assert a.saturation_stats([1, 4], n_trials=2)["max_weight"].shape == (2,)
    assert a.softmax_stats_at_std([1.0], n_trials=2)["entropy"].shape == (1,)
    # raw draws (not statistics) may be one: a sample of one dot product, one trial's gradient
    assert a.sample_dot_products(4, n_samples=1).shape == (1,)
    assert a.query_gradient_stats(4, n_trials=1, d_model=4)["wq_grad"].shape == (1,)
