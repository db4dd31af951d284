"""Chapter 09's checked exercises: reference solutions pass, starters are pending, and every
wrong answer in the catalogue (written the way a learner would write it) gets its intended verdict."""

from __future__ import annotations

import numpy as np
import pytest

from checktools import assert_wrong
from helpers import checks, solutions

CHECKERS = {
    "multi_head_attention": checks.check_multi_head_attention,
    "mha_param_count": checks.check_mha_param_count,
    "torch_mask": checks.check_torch_mask,
}


def _out(capsys):
    cap = capsys.readouterr()
    assert cap.err == ""
    assert "Traceback" not in cap.out
    return cap.out


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_reference_solution_passes(name, capsys):
    CHECKERS[name](getattr(solutions, name))
    out = _out(capsys)
    assert out.startswith("✅ 正确！在 "), out
    assert "数值警告" not in out


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_starter_is_pending(name, capsys):
    def my_answer(*args):
        return None

    assert CHECKERS[name](my_answer) is None
    assert _out(capsys).startswith("⏳ 还没完成：函数 my_answer")


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_show_solution_runs(name, capsys):
    checks.show_solution(name)
    src = capsys.readouterr().out
    namespace: dict = {}
    exec(src, namespace)
    CHECKERS[name](namespace[name])
    assert _out(capsys).startswith("✅")


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_odd_return_values_never_crash(name, capsys):
    for odd in ["abc", None and 1, {"a": 1}, [[1, 2], [3]], 1j * np.ones((2, 2)), np.array([np.nan]), (1, 2),
                np.ones((3, 5), dtype=object)]:
        if odd is None:
            continue
        CHECKERS[name](lambda *args, odd=odd: odd)
        out = _out(capsys)
        assert out.startswith("❌"), (odd, out)


# ---------------------------------------------------------------------------
# exercise 1: causal multi-head attention of a batch — wrong answers as a learner writes them
# ---------------------------------------------------------------------------

def _softmax(s):
    s = s - s.max(axis=-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)


def _causal(s):
    n = s.shape[-1]
    return np.where(np.tril(np.ones((n, n), dtype=bool)), s, -np.inf)


def mha_reshape_only(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, h, n, d // h) for W in (W_Q, W_K, W_V))   # no transpose
    a = _softmax(_causal(Q @ K.swapaxes(-1, -2) / np.sqrt(d // h)))
    return (a @ V).reshape(b, n, d) @ W_O


def mha_merge_reshape_only(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 1, 3) for W in (W_Q, W_K, W_V))
    a = _softmax(_causal(Q @ K.swapaxes(-1, -2) / np.sqrt(d // h)))
    return (a @ V).reshape(b, n, d) @ W_O                                     # forgot to swap back


def mha_interleaved(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, d // h, h).transpose(0, 3, 1, 2) for W in (W_Q, W_K, W_V))
    a = _softmax(_causal(Q @ K.swapaxes(-1, -2) / np.sqrt(d // h)))
    return (a @ V).transpose(0, 2, 3, 1).reshape(b, n, d) @ W_O


def mha_interleaved_split_only(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, d // h, h).transpose(0, 3, 1, 2) for W in (W_Q, W_K, W_V))
    a = _softmax(_causal(Q @ K.swapaxes(-1, -2) / np.sqrt(d // h)))
    return (a @ V).transpose(0, 2, 1, 3).reshape(b, n, d) @ W_O


def mha_triu(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 1, 3) for W in (W_Q, W_K, W_V))
    s = Q @ K.swapaxes(-1, -2) / np.sqrt(d // h)
    s = np.where(np.triu(np.ones((n, n), dtype=bool)), s, -np.inf)          # triu instead of tril
    return (_softmax(s) @ V).transpose(0, 2, 1, 3).reshape(b, n, d) @ W_O


def mha_sqrt_d_model(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 1, 3) for W in (W_Q, W_K, W_V))
    a = _softmax(_causal(Q @ K.swapaxes(-1, -2) / np.sqrt(d)))               # √d_model
    return (a @ V).transpose(0, 2, 1, 3).reshape(b, n, d) @ W_O


def mha_no_w_o(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 1, 3) for W in (W_Q, W_K, W_V))
    a = _softmax(_causal(Q @ K.swapaxes(-1, -2) / np.sqrt(d // h)))
    return (a @ V).transpose(0, 2, 1, 3).reshape(b, n, d)                    # W_O forgotten


def mha_no_mask(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 1, 3) for W in (W_Q, W_K, W_V))
    a = _softmax(Q @ K.swapaxes(-1, -2) / np.sqrt(d // h))
    return (a @ V).transpose(0, 2, 1, 3).reshape(b, n, d) @ W_O


def mha_no_scale(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 1, 3) for W in (W_Q, W_K, W_V))
    a = _softmax(_causal(Q @ K.swapaxes(-1, -2)))
    return (a @ V).transpose(0, 2, 1, 3).reshape(b, n, d) @ W_O


def mha_mask_after_softmax(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 1, 3) for W in (W_Q, W_K, W_V))
    a = _softmax(Q @ K.swapaxes(-1, -2) / np.sqrt(d // h)) * np.tril(np.ones((n, n)))
    return (a @ V).transpose(0, 2, 1, 3).reshape(b, n, d) @ W_O


def mha_K_dot_T(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 1, 3) for W in (W_Q, W_K, W_V))
    a = _softmax(_causal(Q @ K.T / np.sqrt(d // h)))                          # .T on a 4-D array
    return (a @ V).transpose(0, 2, 1, 3).reshape(b, n, d) @ W_O


def mha_wrong_transpose_axes(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 3, 1) for W in (W_Q, W_K, W_V))
    a = _softmax(_causal(Q @ K.swapaxes(-1, -2) / np.sqrt(d // h)))
    return (a @ V).transpose(0, 2, 1, 3).reshape(b, n, d) @ W_O


def mha_wrong_transpose_both(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 3, 1) for W in (W_Q, W_K, W_V))
    a = _softmax(_causal(Q @ K.swapaxes(-1, -2) / np.sqrt(d // h)))
    return (a @ V).transpose(0, 3, 1, 2).reshape(b, n, d) @ W_O


def mha_returns_tuple(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 1, 3) for W in (W_Q, W_K, W_V))
    a = _softmax(_causal(Q @ K.swapaxes(-1, -2) / np.sqrt(d // h)))
    return (a @ V).transpose(0, 2, 1, 3).reshape(b, n, d) @ W_O, a           # (Z, α)


def mha_softmax_axis0(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 1, 3) for W in (W_Q, W_K, W_V))
    s = _causal(Q @ K.swapaxes(-1, -2) / np.sqrt(d // h))
    s = s - s.max(axis=-2, keepdims=True)
    a = np.exp(s) / np.exp(s).sum(axis=-2, keepdims=True)
    return (a @ V).transpose(0, 2, 1, 3).reshape(b, n, d) @ W_O


def mha_tril_strict(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 1, 3) for W in (W_Q, W_K, W_V))
    s = Q @ K.swapaxes(-1, -2) / np.sqrt(d // h)
    s = np.where(np.tril(np.ones((n, n), dtype=bool), k=-1), s, -np.inf)    # diagonal excluded: row 0 all -inf
    return (_softmax(s) @ V).transpose(0, 2, 1, 3).reshape(b, n, d) @ W_O


def mha_tril_strict_big_negative(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 1, 3) for W in (W_Q, W_K, W_V))
    s = Q @ K.swapaxes(-1, -2) / np.sqrt(d // h)
    s = np.where(np.tril(np.ones((n, n), dtype=bool), k=-1), s, -1e9)        # row 0: uniform instead of nan
    return (_softmax(s) @ V).transpose(0, 2, 1, 3).reshape(b, n, d) @ W_O


def mha_mask_multiply(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 1, 3) for W in (W_Q, W_K, W_V))
    s = Q @ K.swapaxes(-1, -2) / np.sqrt(d // h) * np.tril(np.ones((n, n)))  # scores × 0 is not a mask
    return (_softmax(s) @ V).transpose(0, 2, 1, 3).reshape(b, n, d) @ W_O


def mha_mask_fill_zero(X, W_Q, W_K, W_V, W_O, h):
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 1, 3) for W in (W_Q, W_K, W_V))
    s = np.where(np.tril(np.ones((n, n), dtype=bool)), Q @ K.swapaxes(-1, -2) / np.sqrt(d // h), 0.0)
    return (_softmax(s) @ V).transpose(0, 2, 1, 3).reshape(b, n, d) @ W_O


def mha_tril_strict_and_wrong_scale(X, W_Q, W_K, W_V, W_O, h):
    """Two mistakes at once: nothing in the catalogue reproduces it; the nan must not be called an overflow."""
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 1, 3) for W in (W_Q, W_K, W_V))
    s = Q @ K.swapaxes(-1, -2) / np.sqrt(d)
    s = np.where(np.tril(np.ones((n, n), dtype=bool), k=-1), s, -np.inf)
    return (_softmax(s) @ V).transpose(0, 2, 1, 3).reshape(b, n, d) @ W_O


# ---------------------------------------------------------------------------
# exercise 2: parameter count with a freely chosen d_head (h·d_head need not be d_model)
# ---------------------------------------------------------------------------

def params_reused_4d2(d_model, n_heads, d_head, bias):
    return 4 * d_model ** 2 + (4 * d_model if bias else 0)              # the chapter's formula, reused


def params_forgot_w_o(d_model, n_heads, d_head, bias):
    inner = n_heads * d_head
    return 3 * d_model * inner + (3 * inner if bias else 0)


def params_w_o_square(d_model, n_heads, d_head, bias):
    inner = n_heads * d_head
    return 3 * d_model * inner + d_model * d_model + (3 * inner + d_model if bias else 0)


def params_one_head(d_model, n_heads, d_head, bias):
    return 4 * d_model * d_head + (3 * d_head + d_model if bias else 0)


def params_per_head_square(d_model, n_heads, d_head, bias):
    return n_heads * 4 * d_head * d_head + (3 * n_heads * d_head + d_model if bias else 0)


def params_no_bias(d_model, n_heads, d_head, bias):
    return 4 * d_model * n_heads * d_head


def params_bias_all_d_model(d_model, n_heads, d_head, bias):
    return 4 * d_model * n_heads * d_head + (4 * d_model if bias else 0)


def params_bias_all_inner(d_model, n_heads, d_head, bias):
    return 4 * d_model * n_heads * d_head + (4 * n_heads * d_head if bias else 0)


def params_always_bias(d_model, n_heads, d_head, bias):
    inner = n_heads * d_head
    return 4 * d_model * inner + 3 * inner + d_model


def params_float(d_model, n_heads, d_head, bias):
    inner = n_heads * d_head
    return 4.0 * d_model * inner + (3.0 * inner + d_model if bias else 0.0)   # right, as a float: accepted


def params_shapes_written_out(d_model, n_heads, d_head, bias):
    shapes = [(d_model, n_heads * d_head)] * 3 + [(n_heads * d_head, d_model)]   # right
    total = sum(r * c for r, c in shapes)
    if bias:
        total += sum(c for _, c in shapes)
    return total


def params_string(d_model, n_heads, d_head, bias):
    return str(4 * d_model ** 2)


# ---------------------------------------------------------------------------
# exercise 3: (b, n, n) keep-mask -> nn.MultiheadAttention's 3-D attn_mask (b·h, n, n)
# ---------------------------------------------------------------------------

def torch_not_inverted(keep, n_heads):
    return np.repeat(keep, n_heads, axis=0)


def torch_tile(keep, n_heads):
    return np.tile(~keep, (n_heads, 1, 1))                              # heads-major: wrong order


def torch_concat_heads(keep, n_heads):
    return np.concatenate([~keep] * n_heads, axis=0)                    # the same wrong order as tile


def torch_no_repeat(keep, n_heads):
    return ~keep                                                        # (b, n, n)


def torch_4d(keep, n_heads):
    return np.broadcast_to(~keep[:, None], (keep.shape[0], n_heads, *keep.shape[1:])).copy()


def torch_additive(keep, n_heads):
    return np.repeat(np.where(keep, 0.0, -np.inf), n_heads, axis=0)


def torch_int(keep, n_heads):
    return np.repeat(1 - keep.astype(int), n_heads, axis=0)


def torch_transposed(keep, n_heads):
    return np.repeat(~keep.swapaxes(-1, -2), n_heads, axis=0)


def torch_minus(keep, n_heads):
    return np.repeat(-keep, n_heads, axis=0)


def torch_not(keep, n_heads):
    return np.repeat(not keep, n_heads, axis=0)


def torch_logical_not(keep, n_heads):
    return np.logical_not(keep).repeat(n_heads, axis=0)                 # right


def torch_broadcast_reshape(keep, n_heads):
    b, n, _ = keep.shape
    return np.broadcast_to((keep == False)[:, None], (b, n_heads, n, n)).reshape(b * n_heads, n, n)  # noqa: E712 right


def _mha(softmax=_softmax, fill=-np.inf, renormalise=False):  # renormalise: softmax, zero, renormalise (right)
    """A right multi-head attention except for its softmax / mask step (round 3, N1 and N2)."""
    def mha(X, W_Q, W_K, W_V, W_O, h):
        b, n, d = X.shape
        Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 1, 3) for W in (W_Q, W_K, W_V))
        s = Q @ K.swapaxes(-1, -2) / np.sqrt(d // h)
        keep = np.tril(np.ones((n, n), dtype=bool))
        if renormalise:
            a = _softmax(s) * keep
            a = a / a.sum(axis=-1, keepdims=True)
        else:
            a = softmax(np.where(keep, s, fill))
        return (a @ V).transpose(0, 2, 1, 3).reshape(b, n, d) @ W_O
    return mha


def _naive(s):
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)


def _mean_shift(s):
    m = np.where(np.isfinite(s), s, 0).sum(-1, keepdims=True) / np.isfinite(s).sum(-1, keepdims=True)
    e = np.exp(s - m)
    return e / e.sum(axis=-1, keepdims=True)


def _typed_mean_shift(s):
    s = s - s.mean(axis=-1, keepdims=True)   # final review U1: a row with a -inf has the mean -inf
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)


def mha_mean_shift_before_mask(X, W_Q, W_K, W_V, W_O, h):
    # U1: the mean is subtracted first, then the mask; no max shift, so the 2000-wide row overflows
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 1, 3) for W in (W_Q, W_K, W_V))
    s = Q @ K.swapaxes(-1, -2) / np.sqrt(d // h)
    s = s - s.mean(axis=-1, keepdims=True)
    a = _naive(np.where(np.tril(np.ones((n, n), dtype=bool)), s, -np.inf))
    return (a @ V).transpose(0, 2, 1, 3).reshape(b, n, d) @ W_O


mha_naive, mha_mean_shift, mha_mean_of_inf = _mha(_naive), _mha(_mean_shift), _mha(_typed_mean_shift)
mha_renormalised = _mha(renormalise=True)   # right (ch07): exact while the visible weights do not underflow
mha_fill_minus_100 = _mha(fill=-100.0)
mha_fill_minus_1e9 = _mha(fill=-1e9)   # right: far below every score


MISTAKES = [
    ("multi_head_attention", mha_naive, "softmax_overflow"),
    ("multi_head_attention", mha_mean_shift, "softmax_subtract_mean"),
    ("multi_head_attention", mha_mean_of_inf, "softmax_mean_of_inf"),
    ("multi_head_attention", mha_mean_shift_before_mask, "softmax_subtract_mean"),
    ("multi_head_attention", mha_fill_minus_100, "mask_fill_not_small"),
    ("multi_head_attention", mha_reshape_only, "mh_reshape_no_transpose"),
    ("multi_head_attention", mha_merge_reshape_only, "mh_merge_no_transpose"),
    ("multi_head_attention", mha_interleaved, "mh_wrong_axis_order"),
    ("multi_head_attention", mha_interleaved_split_only, "mh_wrong_axis_order"),
    ("multi_head_attention", mha_triu, "mask_upper"),
    ("multi_head_attention", mha_tril_strict, "mh_mask_no_diagonal"),
    ("multi_head_attention", mha_tril_strict_big_negative, "mh_mask_no_diagonal"),
    ("multi_head_attention", mha_mask_multiply, "mh_mask_zero_scores"),
    ("multi_head_attention", mha_mask_fill_zero, "mh_mask_zero_scores"),
    ("multi_head_attention", mha_sqrt_d_model, "mh_scaled_by_d_model"),
    ("multi_head_attention", mha_no_w_o, "mh_forgot_w_o"),
    ("multi_head_attention", mha_no_mask, "forgot_mask"),
    ("multi_head_attention", mha_no_scale, "forgot_sqrt_dk"),
    ("multi_head_attention", mha_mask_after_softmax, "mask_after_softmax"),
    ("multi_head_attention", mha_K_dot_T, "mh_shapes"),
    ("multi_head_attention", mha_wrong_transpose_axes, "mh_wrong_transpose"),
    ("multi_head_attention", mha_wrong_transpose_both, "mh_wrong_transpose"),
    ("multi_head_attention", mha_returns_tuple, "returned_tuple"),
    ("multi_head_attention", mha_softmax_axis0, "softmax_wrong_axis"),
    ("mha_param_count", params_reused_4d2, "params_assumes_d_model"),
    ("mha_param_count", params_forgot_w_o, "params_forgot_w_o"),
    ("mha_param_count", params_w_o_square, "params_w_o_square"),
    ("mha_param_count", params_one_head, "params_one_head"),
    ("mha_param_count", params_per_head_square, "params_per_head_square"),
    ("mha_param_count", params_no_bias, "params_bias_missing"),
    ("mha_param_count", params_bias_all_d_model, "params_bias_wrong"),
    ("mha_param_count", params_bias_all_inner, "params_bias_wrong"),
    ("mha_param_count", params_always_bias, "params_bias_when_false"),
    ("torch_mask", torch_not_inverted, "torch_mask_not_inverted"),
    ("torch_mask", torch_tile, "torch_mask_tile"),
    ("torch_mask", torch_concat_heads, "torch_mask_tile"),
    ("torch_mask", torch_no_repeat, "torch_mask_no_repeat"),
    ("torch_mask", torch_4d, "torch_mask_4d"),
    ("torch_mask", torch_additive, "torch_mask_additive"),
    ("torch_mask", torch_int, "torch_mask_not_bool"),
    ("torch_mask", torch_transposed, "torch_mask_transposed"),
    ("torch_mask", torch_minus, "torch_mask_negative"),
    ("torch_mask", torch_not, "torch_mask_negative"),
]


@pytest.mark.parametrize("checker,fn,hint", MISTAKES, ids=[f"{c}-{f.__name__}" for c, f, _ in MISTAKES])
def test_known_mistake_gets_its_hint(checker, fn, hint, capsys):
    CHECKERS[checker](fn)
    out = _out(capsys)
    assert_wrong(out, hint)
    others = [k for k, v in checks.HINTS.items() if v in out and k != hint]
    assert others == [], (others, out)


@pytest.mark.parametrize("fn", [mha_fill_minus_1e9, mha_renormalised], ids=lambda f: f.__name__)
def test_a_fill_far_below_every_score_and_renormalising_pass(fn, capsys):
    checks.check_multi_head_attention(fn)
    assert _out(capsys).startswith("✅")


@pytest.mark.parametrize("fn", [params_float, params_shapes_written_out, torch_logical_not, torch_broadcast_reshape],
                         ids=lambda f: f.__name__)
def test_other_right_answers_pass(fn, capsys):
    checker = CHECKERS["mha_param_count" if fn.__name__.startswith("params") else "torch_mask"]
    checker(fn)
    assert _out(capsys).startswith("✅")


def test_calling_the_course_implementation_is_not_accepted(capsys):
    import helpers as h
    from helpers import multihead as mh

    def my_mha(X, W_Q, W_K, W_V, W_O, n_heads):
        return h.multi_head_self_attention(X, W_Q, W_K, W_V, n_heads, w_o=W_O, mask=h.causal_mask(X.shape[1]))[0]

    checks.check_multi_head_attention(my_mha)
    out = _out(capsys)
    assert out.startswith("❌") and checks.HINTS["uses_course_impl"][:10] in out, out
    checks.check_torch_mask(lambda keep, n_heads: np.repeat(mh.to_torch_mask(keep), n_heads, axis=0))
    assert _out(capsys).startswith("✅")   # negating with the course's helper is fine; the exercise is the layout


def test_strict_mode_raises(capsys):
    with pytest.raises(AssertionError):
        checks.check_mha_param_count(params_forgot_w_o, strict=True)
    capsys.readouterr()


def test_wrong_type_is_not_accepted(capsys):
    checks.check_mha_param_count(params_string)
    out = _out(capsys)
    # finding 36: the exercise wants a number, not "a NumPy array"
    assert out.startswith("❌") and "应该是一个数（int 或 float）" in out and "NumPy 数组" not in out, out


def test_count_as_a_0d_array_is_accepted(capsys):
    """Finding 4: np.array(count) is the right number; it used to get ❌ with no difference shown."""
    checks.check_mha_param_count(lambda d, h, dh, b: np.array(4 * d * h * dh + ((3 * h * dh + d) if b else 0)))
    assert _out(capsys).startswith("✅")


def test_a_verdict_of_not_equal_always_shows_the_difference(capsys):
    """A count off by a fraction (equal within float tolerance) still shows both numbers."""
    checks.check_mha_param_count(lambda d, h, dh, b: 4 * d * h * dh + ((3 * h * dh + d) if b else 0) + 1e-9)
    out = _out(capsys)
    assert out.startswith("❌") and "你的结果 8192.000000001，参考答案 8192" in out, out


def test_every_ch09_hint_is_exercised():
    ch09 = {k for k in checks.HINTS if k.startswith(("mh_", "params_", "torch_mask_"))}
    assert {"mh_mask_no_diagonal", "mh_mask_zero_scores", "params_assumes_d_model", "torch_mask_tile"} <= ch09
    used = {hint for _, _, hint in MISTAKES}
    assert ch09 <= used, ch09 - used


def test_cases_are_not_saturated():
    """Scale bugs must show: no case's weights are (almost) one-hot."""
    import helpers as h

    for case in checks._mh_cases():
        X, WQ, WK, WV, WO, heads = case.args
        _, w = h.multi_head_self_attention(np.asarray(X, float), np.asarray(WQ, float), np.asarray(WK, float),
                                           np.asarray(WV, float), heads, mask=h.causal_mask(X.shape[1]))
        n = X.shape[1]
        if case.label.startswith(checks._SPREAD):   # saturated on purpose: ±1000 scores in head 0
            continue
        if n > 2:
            assert w[..., 2:, :].max() < 0.99, case.label


def test_nan_from_a_fully_masked_row_is_not_called_an_overflow(capsys):
    """−inf − (−inf) gives only an "invalid value" warning: the verdict must not blame a naive softmax."""
    checks.check_multi_head_attention(mha_tril_strict_and_wrong_scale)
    out = _out(capsys)
    assert out.startswith("❌"), out
    assert checks.HINTS["softmax_overflow"] not in out, out
    assert checks.HINTS["nonfinite"] in out, out


def test_torch_mask_answer_matches_nn_multiheadattention_layout():
    """The reference answer puts sentence i's heads at rows i·h … (i+1)·h−1 (what PyTorch expects;
    tests/test_torch_crosscheck.py checks it against torch itself when torch is installed)."""
    keep = checks._torch_mask_cases()[0].args[0]
    out = solutions.torch_mask(keep, 3)
    assert out.shape == (6, 4, 4) and out.dtype == bool
    for i in range(2):
        for j in range(3):
            assert np.array_equal(out[i * 3 + j], ~keep[i])


def mha_float32_inside(X, W_Q, W_K, W_V, W_O, h):
    # final review P7: right, but computed in float32 on float64 inputs
    X, W_Q, W_K, W_V, W_O = (np.asarray(a, dtype=np.float32) for a in (X, W_Q, W_K, W_V, W_O))
    b, n, d = X.shape
    Q, K, V = ((X @ W).reshape(b, n, h, d // h).transpose(0, 2, 1, 3) for W in (W_Q, W_K, W_V))
    s = Q @ K.swapaxes(-1, -2) / np.float32(np.sqrt(d // h))
    a = _softmax(_causal(s))
    return (a @ V).transpose(0, 2, 1, 3).reshape(b, n, d) @ W_O


def test_float32_internals_are_explained(capsys):
    """P7: a right formula computed in float32 gets ❌ on the float64 inputs, and the verdict says why."""
    checks.check_multi_head_attention(mha_float32_inside)
    out = capsys.readouterr().out
    assert out.startswith("❌") and "看起来你在 float32 下计算" in out and "保持 float64" in out, out


def test_float32_note_is_not_given_to_a_real_mistake(capsys):
    checks.check_multi_head_attention(mha_no_w_o)
    assert "float32 下计算" not in capsys.readouterr().out
