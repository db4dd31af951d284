"""Tests for helpers.checks: reference solutions pass, starters are pending,
and every known mistake (written the way a learner would write it) gets its
own named hint."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from helpers import checks, solutions

CHECKERS = {
    "qkv_projection": checks.check_qkv_projection,
    "scores": checks.check_scores,
    "scaled_scores": checks.check_scaled_scores,
    "softmax": checks.check_softmax,
    "attention": checks.check_attention,
    "self_attention": checks.check_self_attention,
    "causal_attention": checks.check_causal_attention,
    "causal_mask": checks.check_causal_mask,
    "softmax_backward": checks.check_softmax_backward,
}


# ---------------------------------------------------------------------------
# reference solutions pass, starters are pending
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_reference_solution_passes(name, capsys):
    CHECKERS[name](getattr(solutions, name))
    cap = capsys.readouterr()
    assert cap.out.startswith("✅ 正确！在 "), cap.out
    assert "组输入上与参考实现一致" in cap.out
    assert "数值警告" not in cap.out
    assert cap.err == ""


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_starter_returning_none_is_pending(name, capsys):
    def my_answer(*args):
        # 在这里写你的代码
        return None

    result = CHECKERS[name](my_answer)
    cap = capsys.readouterr()
    assert result is None  # nothing is displayed as Out[] in a notebook
    assert cap.out == "⏳ 还没完成：函数 my_answer 还没有返回结果。写好代码后重新运行本单元格即可检查。\n"
    assert cap.err == ""


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_starter_raising_not_implemented_is_pending(name, capsys):
    def my_answer(*args):
        raise NotImplementedError

    CHECKERS[name](my_answer)
    cap = capsys.readouterr()
    assert cap.out.startswith("⏳ 还没完成")
    assert cap.err == ""


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_passing_a_result_instead_of_a_function(name, capsys):
    CHECKERS[name](np.zeros((2, 2)))
    assert capsys.readouterr().out == f"❌ {checks.HINTS['not_callable']}\n"


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_passing_none_is_pending(name, capsys):
    CHECKERS[name](None)
    assert capsys.readouterr().out.startswith("⏳ 还没完成")


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_output_is_deterministic(name, capsys):
    CHECKERS[name](getattr(solutions, name))
    first = capsys.readouterr().out
    CHECKERS[name](getattr(solutions, name))
    assert capsys.readouterr().out == first


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_learner_exception_is_reported_not_raised(name, capsys):
    def my_answer(*args):
        raise KeyError("oops")

    CHECKERS[name](my_answer)
    cap = capsys.readouterr()
    assert cap.out.startswith("❌ 你的函数在「")
    assert "出错：KeyError: 'oops'" in cap.out
    assert "Traceback" not in cap.out and cap.err == ""


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_checkers_do_not_mutate_or_depend_on_learner_mutation(name, capsys):
    """A learner function that modifies its inputs in place must not break later cases."""
    ref = getattr(solutions, name)

    def my_answer(*args):
        out = ref(*args)
        for a in args:
            if isinstance(a, np.ndarray) and a.dtype != bool:
                a[...] = 0
        return out

    CHECKERS[name](my_answer)
    assert capsys.readouterr().out.startswith("✅")


# ---------------------------------------------------------------------------
# known mistakes, written like learners write them
# ---------------------------------------------------------------------------

def _softmax_rows(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _tril(n, k=0):
    return np.tril(np.ones((n, n), dtype=bool), k=k)


# --- ch01 -------------------------------------------------------------------

def qkv_single(X, W_Q, W_K, W_V):
    return X @ W_Q


def qkv_transposed(X, W_Q, W_K, W_V):
    return W_Q.T @ X.T, W_K.T @ X.T, W_V.T @ X.T


def qkv_swapped(X, W_Q, W_K, W_V):
    return X @ W_K, X @ W_Q, X @ W_V


def qkv_identity(X, W_Q, W_K, W_V):
    return X, X, X


# --- ch02 -------------------------------------------------------------------

def scores_kq(Q, K):
    return K @ Q.T


def scores_no_transpose(Q, K):
    return Q @ K


def scores_elementwise(Q, K):
    return Q * K


def scores_scalar(Q, K):
    return float(np.sum(Q @ K.T))


def scores_scaled_too_early(Q, K):
    return Q @ K.T / np.sqrt(K.shape[1])


# --- ch03 -------------------------------------------------------------------

def scaled_forgot(Q, K):
    return Q @ K.T


def scaled_by_dk(Q, K):
    d_k = Q.shape[1]
    return Q @ K.T / d_k


def scaled_multiplied(Q, K):
    return (Q @ K.T) * math.sqrt(Q.shape[-1])


def scaled_dk_rows(Q, K):
    d_k = Q.shape[0]
    return Q @ K.T / np.sqrt(d_k)


def scaled_kq(Q, K):
    return K @ Q.T / np.sqrt(Q.shape[-1])


def scaled_no_transpose(Q, K):
    return np.matmul(Q, K) / np.sqrt(Q.shape[-1])


# --- ch04 -------------------------------------------------------------------

def softmax_axis0(scores):
    e = np.exp(scores - scores.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def softmax_naive(scores):
    return np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)


def softmax_whole(scores):
    e = np.exp(scores - np.max(scores))
    return e / np.sum(e)


def softmax_unnormalised(scores):
    return np.exp(scores - scores.max(axis=-1, keepdims=True))


def softmax_global_max(scores):
    e = np.exp(scores - np.max(scores))
    return e / e.sum(axis=1, keepdims=True)


def softmax_no_keepdims(scores):
    e = np.exp(scores - np.max(scores, axis=-1))
    return e / np.sum(e, axis=-1)


def softmax_min(scores):
    e = np.exp(scores - scores.min(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- ch05 -------------------------------------------------------------------

def att_weights(Q, K, V):
    return _softmax_rows(Q @ K.T / np.sqrt(K.shape[-1]))


def att_tuple(Q, K, V):
    w = _softmax_rows(Q @ K.T / np.sqrt(K.shape[-1]))
    return w @ V, w


def att_forgot_scale(Q, K, V):
    return _softmax_rows(Q @ K.T) @ V


def att_scaled_dk(Q, K, V):
    return _softmax_rows(Q @ K.T / Q.shape[-1]) @ V


def att_axis0(Q, K, V):
    s = Q @ K.T / np.sqrt(Q.shape[-1])
    e = np.exp(s - s.max(axis=0, keepdims=True))
    return (e / e.sum(axis=0, keepdims=True)) @ V


def att_kq(Q, K, V):
    w = _softmax_rows(K @ Q.T / np.sqrt(Q.shape[-1]))
    return w @ V


def att_no_transpose(Q, K, V):
    return _softmax_rows(Q @ K / np.sqrt(Q.shape[-1])) @ V


def att_times_k(Q, K, V):
    return _softmax_rows(Q @ K.T / np.sqrt(Q.shape[-1])) @ K


def att_no_softmax(Q, K, V):
    return (Q @ K.T / np.sqrt(Q.shape[-1])) @ V


def att_v_first(Q, K, V):
    return V @ _softmax_rows(Q @ K.T / np.sqrt(Q.shape[-1]))


def att_naive(Q, K, V):
    s = Q @ K.T / np.sqrt(Q.shape[-1])
    w = np.exp(s) / np.sum(np.exp(s), axis=-1, keepdims=True)
    return w @ V


# --- ch06 -------------------------------------------------------------------

def _sa(X, W_Q, W_K, W_V, **kw):
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    d = kw.get("d", K.shape[-1])
    s = Q @ K.T / (np.sqrt(d) if kw.get("sqrt", True) else d)
    if kw.get("naive"):
        w = np.exp(s) / np.exp(s).sum(axis=-1, keepdims=True)
    else:
        w = _softmax_rows(s)
    return w


def sa_weights(X, W_Q, W_K, W_V):
    return _sa(X, W_Q, W_K, W_V)


def sa_forgot_scale(X, W_Q, W_K, W_V):
    return _sa(X, W_Q, W_K, W_V, d=1) @ (X @ W_V)


def sa_scaled_dk(X, W_Q, W_K, W_V):
    return _sa(X, W_Q, W_K, W_V, sqrt=False) @ (X @ W_V)


def sa_d_model(X, W_Q, W_K, W_V):
    return _sa(X, W_Q, W_K, W_V, d=X.shape[1]) @ (X @ W_V)


def sa_times_k(X, W_Q, W_K, W_V):
    return _sa(X, W_Q, W_K, W_V) @ (X @ W_K)


def sa_naive(X, W_Q, W_K, W_V):
    return _sa(X, W_Q, W_K, W_V, naive=True) @ (X @ W_V)


def sa_no_projection(X, W_Q, W_K, W_V):
    return _softmax_rows(X @ X.T / np.sqrt(X.shape[1])) @ X


def sa_q_for_k(X, W_Q, W_K, W_V):
    Q = X @ W_Q
    return _softmax_rows(Q @ Q.T / np.sqrt(Q.shape[1])) @ (X @ W_V)


def sa_tuple(X, W_Q, W_K, W_V):
    w = _sa(X, W_Q, W_K, W_V)
    return w @ (X @ W_V), w


# --- ch07 -------------------------------------------------------------------

def mask_upper(n):
    return np.triu(np.ones((n, n), dtype=bool))


def mask_inverted(n):
    return ~np.tril(np.ones((n, n), dtype=bool))


def mask_no_diag(n):
    return np.tril(np.ones((n, n)), k=-1).astype(bool)


def mask_future(n):
    return np.tril(np.ones((n, n)), k=1) == 1


def mask_ints(n):
    return np.tril(np.ones((n, n), dtype=int))


def mask_additive(n):
    return np.where(np.tril(np.ones((n, n))) == 1, 0.0, -np.inf)


def mask_vector(n):
    return np.ones(n, dtype=bool)


def _causal(Q, K, V, allowed, fill=-np.inf, after=False, scale=True):
    s = Q @ K.T
    if scale:
        s = s / np.sqrt(Q.shape[-1])
    if after:
        return (_softmax_rows(s) * allowed) @ V
    s = np.where(allowed, s, fill)
    return _softmax_rows(s) @ V


def causal_no_mask(Q, K, V):
    return _softmax_rows(Q @ K.T / np.sqrt(Q.shape[-1])) @ V


def causal_after_softmax(Q, K, V):
    return _causal(Q, K, V, _tril(len(Q)), after=True)


def causal_fill_zero(Q, K, V):
    s = Q @ K.T / np.sqrt(Q.shape[-1])
    s = s * _tril(len(Q))  # "mask" by multiplying with 0/1
    return _softmax_rows(s) @ V


def causal_upper(Q, K, V):
    return _causal(Q, K, V, np.triu(np.ones((len(Q), len(Q)), dtype=bool)))


def causal_inverted(Q, K, V):
    # uses ~tril with a large finite fill, so the last row sees nothing → uniform
    return _causal(Q, K, V, ~_tril(len(Q)), fill=-1e9)


def causal_no_diag(Q, K, V):
    # -inf fill: the first row becomes nan (and numpy warns) — must be diagnosed, not leak
    return _causal(Q, K, V, _tril(len(Q), k=-1))


def causal_future(Q, K, V):
    return _causal(Q, K, V, _tril(len(Q), k=1), fill=-1e9)


def causal_forgot_scale(Q, K, V):
    return _causal(Q, K, V, _tril(len(Q)), scale=False)


def causal_weights(Q, K, V):
    s = np.where(_tril(len(Q)), Q @ K.T / np.sqrt(Q.shape[-1]), -np.inf)
    return _softmax_rows(s)


def causal_naive(Q, K, V):
    s = np.where(_tril(len(Q)), Q @ K.T / np.sqrt(Q.shape[-1]), -np.inf)
    w = np.exp(s) / np.exp(s).sum(axis=-1, keepdims=True)
    return w @ V


def causal_times_k(Q, K, V):
    s = np.where(_tril(len(Q)), Q @ K.T / np.sqrt(Q.shape[-1]), -np.inf)
    return _softmax_rows(s) @ K


# --- ch08 -------------------------------------------------------------------

def back_diag(a, g):
    return a * (1 - a) * g


def back_forgot_dot(a, g):
    return a * g


def back_sign(a, g):
    return a * (np.sum(a * g) - g)


def back_identity(a, g):
    return g.copy()


def back_forgot_alpha(a, g):
    return g - a @ g


MISTAKES = [
    # (checker, learner function, expected hint id)
    ("qkv_projection", qkv_single, "qkv_not_tuple"),
    ("qkv_projection", qkv_transposed, "qkv_transposed"),
    ("qkv_projection", qkv_swapped, "qkv_swapped_weights"),
    ("qkv_projection", qkv_identity, "qkv_not_projected"),
    ("scores", scores_kq, "scores_swapped"),
    ("scores", scores_no_transpose, "k_not_transposed"),
    ("scores", scores_scaled_too_early, "scores_already_scaled"),
    ("scores", scores_elementwise, "scores_elementwise"),
    ("scaled_scores", scaled_forgot, "forgot_sqrt_dk"),
    ("scaled_scores", scaled_by_dk, "scaled_by_dk"),
    ("scaled_scores", scaled_multiplied, "multiplied_sqrt_dk"),
    ("scaled_scores", scaled_dk_rows, "dk_wrong_axis"),
    ("scaled_scores", scaled_kq, "scores_swapped"),
    ("scaled_scores", scaled_no_transpose, "k_not_transposed"),
    ("softmax", softmax_axis0, "softmax_wrong_axis"),
    ("softmax", softmax_naive, "softmax_overflow"),
    ("softmax", softmax_whole, "softmax_whole_matrix"),
    ("softmax", softmax_unnormalised, "softmax_not_normalized"),
    ("softmax", softmax_global_max, "softmax_global_max"),
    ("softmax", softmax_no_keepdims, "softmax_keepdims"),
    ("softmax", softmax_min, "softmax_subtract_min"),
    ("attention", att_weights, "returned_weights"),
    ("attention", att_tuple, "returned_tuple"),
    ("attention", att_forgot_scale, "forgot_sqrt_dk"),
    ("attention", att_scaled_dk, "scaled_by_dk"),
    ("attention", att_axis0, "softmax_wrong_axis"),
    ("attention", att_kq, "scores_swapped"),
    ("attention", att_no_transpose, "k_not_transposed"),
    ("attention", att_times_k, "weights_times_k"),
    ("attention", att_no_softmax, "forgot_softmax"),
    ("attention", att_naive, "softmax_overflow"),
    ("attention", att_v_first, "attention_shapes"),
    ("self_attention", sa_weights, "returned_weights"),
    ("self_attention", sa_tuple, "returned_tuple"),
    ("self_attention", sa_forgot_scale, "forgot_sqrt_dk"),
    ("self_attention", sa_scaled_dk, "scaled_by_dk"),
    ("self_attention", sa_d_model, "scaled_by_d_model"),
    ("self_attention", sa_times_k, "weights_times_k"),
    ("self_attention", sa_naive, "softmax_overflow"),
    ("self_attention", sa_no_projection, "qkv_not_projected"),
    ("self_attention", sa_q_for_k, "qkv_swapped_weights"),
    ("causal_mask", mask_upper, "mask_upper"),
    ("causal_mask", mask_inverted, "mask_inverted"),
    ("causal_mask", mask_no_diag, "mask_no_diagonal"),
    ("causal_mask", mask_future, "mask_includes_future"),
    ("causal_mask", mask_ints, "mask_not_bool"),
    ("causal_mask", mask_additive, "mask_additive"),
    ("causal_mask", mask_vector, "mask_not_square"),
    ("causal_attention", causal_no_mask, "forgot_mask"),
    ("causal_attention", causal_after_softmax, "mask_after_softmax"),
    ("causal_attention", causal_fill_zero, "mask_filled_zero"),
    ("causal_attention", causal_upper, "mask_upper"),
    ("causal_attention", causal_inverted, "mask_inverted"),
    ("causal_attention", causal_no_diag, "mask_no_diagonal"),
    ("causal_attention", causal_future, "mask_includes_future"),
    ("causal_attention", causal_forgot_scale, "forgot_sqrt_dk"),
    ("causal_attention", causal_weights, "returned_weights"),
    ("causal_attention", causal_naive, "softmax_overflow"),
    ("causal_attention", causal_times_k, "weights_times_k"),
    ("softmax_backward", back_diag, "backward_diag_only"),
    ("softmax_backward", back_forgot_dot, "backward_forgot_dot"),
    ("softmax_backward", back_sign, "backward_sign"),
    ("softmax_backward", back_identity, "backward_identity"),
    ("softmax_backward", back_forgot_alpha, "backward_forgot_alpha"),
]


@pytest.mark.parametrize(
    "checker,fn,hint", MISTAKES, ids=[f"{c}-{f.__name__}" for c, f, _ in MISTAKES]
)
def test_known_mistake_gets_its_hint(checker, fn, hint, capsys):
    CHECKERS[checker](fn)
    cap = capsys.readouterr()
    assert cap.out.startswith("❌"), cap.out
    assert checks.HINTS[hint] in cap.out, cap.out
    # the hint is the only one named
    others = [k for k, v in checks.HINTS.items() if v in cap.out and k != hint]
    assert others == [], (others, cap.out)
    assert cap.err == ""
    assert "Traceback" not in cap.out


def _chapter_catalogues() -> set:
    """Hints exercised by the per-chapter catalogues (tests/test_checks_chNN.py, each with a MISTAKES list)."""
    import importlib

    used = set()
    for path in sorted(Path(__file__).resolve().parent.glob("test_checks_ch*.py")):
        used |= {entry[-1] for entry in getattr(importlib.import_module(path.stem), "MISTAKES", [])}
    return used


def test_every_hint_is_exercised_or_generic():
    used = {hint for _, _, hint in MISTAKES} | _chapter_catalogues()
    generic = {"not_callable", "nonfinite"}
    assert set(checks.HINTS) - used <= generic


def test_issue_mistakes_are_all_covered():
    """The eight classic mistakes from the issue are each diagnosed by at least one test."""
    used = {hint for _, _, hint in MISTAKES}
    for key in ["forgot_sqrt_dk", "scaled_by_dk", "softmax_wrong_axis", "scores_swapped",
                "k_not_transposed", "mask_after_softmax", "softmax_overflow", "weights_times_k",
                "returned_weights"]:
        assert key in used


def test_naive_softmax_warnings_do_not_leak(recwarn, capsys):
    checks.check_softmax(softmax_naive)
    assert len(recwarn) == 0
    assert capsys.readouterr().err == ""


def test_exception_from_numpy_is_diagnosed(capsys):
    # a (3, 4) @ (5, 4) product fails: the message names the exception AND the mistake
    checks.check_scores(scores_no_transpose)
    out = capsys.readouterr().out
    assert out.startswith("❌")
    assert checks.HINTS["k_not_transposed"] in out


def test_scalar_result_gets_a_shape_message(capsys):
    checks.check_scores(scores_scalar)
    out = capsys.readouterr().out
    assert out.startswith("❌ 在「3 个查询 × 5 个键，d_k=4（n_q≠n_k）」这组输入上不对：你的结果形状是 ()")


def test_generic_wrong_values_name_the_first_difference(capsys):
    def my_scores(Q, K):
        s = Q @ K.T
        s[0, 0] += 1.0
        return s

    checks.check_scores(my_scores)
    out = capsys.readouterr().out
    assert "第一处不同在位置 (0, 0)" in out


def test_lists_are_accepted(capsys):
    checks.check_scores(lambda Q, K: (Q @ K.T).tolist())
    assert capsys.readouterr().out.startswith("✅")


def test_float64_result_for_float32_inputs_is_accepted(capsys):
    def my_attention(Q, K, V):
        Q, K, V = (np.asarray(a, dtype=np.float64) for a in (Q, K, V))
        return solutions.attention(Q, K, V)

    checks.check_attention(my_attention)
    assert capsys.readouterr().out.startswith("✅")


def _attention_f32(Q, K, V, causal=False):
    # math.sqrt gives a Python float, so float32 inputs stay float32 all the way
    s = Q @ K.T / math.sqrt(Q.shape[-1])
    if causal:
        s = np.where(_tril(len(Q)), s, -np.inf)
    return _softmax_rows(s) @ V


@pytest.mark.parametrize("name", ["attention", "causal_attention", "self_attention"])
def test_float32_computation_is_accepted(name, capsys):
    """A learner whose code stays in float32 on float32 inputs still passes."""
    fns = {
        "attention": lambda Q, K, V: _attention_f32(Q, K, V),
        "causal_attention": lambda Q, K, V: _attention_f32(Q, K, V, causal=True),
        "self_attention": lambda X, WQ, WK, WV: _attention_f32(X @ WQ, X @ WK, X @ WV),
    }
    CHECKERS[name](fns[name])
    assert capsys.readouterr().out.startswith("✅")


def test_correct_result_with_numpy_warning_passes_with_a_note(capsys, recwarn):
    def my_scores(Q, K):
        np.exp(np.array([1000.0]))  # overflows, result unused
        return Q @ K.T

    checks.check_scores(my_scores)
    out = capsys.readouterr().out
    assert out.startswith("✅") and "数值警告" in out
    assert len(recwarn) == 0


def test_matmul_error_message_is_short(capsys):
    checks.check_scores(scores_no_transpose)
    out = capsys.readouterr().out
    assert "ValueError: 矩阵乘法 @ 的形状对不上 (size 5 is different from 4)" in out
    assert "gufunc" not in out


def test_nonfinite_result_is_named(capsys):
    def my_softmax(scores):
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))
        return e / (e.sum(axis=-1, keepdims=True) - e.sum(axis=-1, keepdims=True))

    checks.check_softmax(my_softmax)
    out = capsys.readouterr().out
    assert out.startswith("❌") and checks.HINTS["nonfinite"] in out


def test_correct_causal_attention_with_large_negative_fill_passes(capsys):
    checks.check_causal_attention(lambda Q, K, V: _causal(Q, K, V, _tril(len(Q)), fill=-1e9))
    assert capsys.readouterr().out.startswith("✅")


def test_mask_after_softmax_with_renormalisation_is_correct(capsys):
    def my_causal(Q, K, V):
        w = _softmax_rows(Q @ K.T / np.sqrt(Q.shape[-1])) * _tril(len(Q))
        return (w / w.sum(axis=-1, keepdims=True)) @ V

    checks.check_causal_attention(my_causal)
    assert capsys.readouterr().out.startswith("✅")


def test_success_message_lists_what_was_verified(capsys):
    checks.check_attention(solutions.attention)
    out = capsys.readouterr().out
    assert out == ("✅ 正确！在 5 组输入上与参考实现一致（含 1 个词、n_q≠n_k、d_v≠d_k、原教程例子、"
                   "float32 大分数）。\n")


# ---------------------------------------------------------------------------
# show_solution
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_show_solution_prints_runnable_code(name, capsys):
    checks.show_solution(name)
    out = capsys.readouterr().out
    assert out.startswith(f"# 参考答案：{name}")
    assert f"def {name}(" in out
    namespace: dict = {}
    exec(out, namespace)  # the printed text is valid Python
    CHECKERS[name](namespace[name])
    assert capsys.readouterr().out.startswith("✅")


def test_show_solution_accepts_check_prefix(capsys):
    checks.show_solution("check_softmax")
    assert "def softmax(" in capsys.readouterr().out


def test_show_solution_unknown_name():
    with pytest.raises(ValueError, match="unknown exercise 'nope'; choose one of: qkv_projection"):
        checks.show_solution("nope")
    with pytest.raises(TypeError):
        checks.show_solution(3)


def test_all_agreed_names_exist():
    for name in CHECKERS:
        assert callable(getattr(checks, f"check_{name}"))
    assert set(CHECKERS) <= set(checks.SOLUTION_NAMES)
    for name in checks.SOLUTION_NAMES:  # chapter sections add exercises: each has its checker
        assert callable(getattr(checks, f"check_{name}")), name


ODD_RETURNS = [
    "abc", {"a": 1}, [[1, 2], [3]], 1j * np.ones((3, 5)), np.array([np.nan]), True, (1, 2, 3),
    np.ones((3, 5), dtype=object), 3.0, (np.ones((4, 3)), np.ones((4, 3)), np.ones((4, 5))),
]


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_odd_return_values_never_crash_the_checker(name, capsys):
    for odd in ODD_RETURNS:
        CHECKERS[name](lambda *args, odd=odd: odd)
        cap = capsys.readouterr()
        assert cap.out.startswith("❌") and cap.out.count("\n") <= 2, (odd, cap.out)
        assert cap.err == ""


def test_tuple_of_nones_is_pending(capsys):
    def my_qkv_projection(X, W_Q, W_K, W_V):
        Q = None
        K = None
        V = None
        return Q, K, V

    checks.check_qkv_projection(my_qkv_projection)
    assert capsys.readouterr().out.startswith("⏳ 还没完成：函数 my_qkv_projection")


def test_qkv_names_the_wrong_matrix(capsys):
    def my_qkv_projection(X, W_Q, W_K, W_V):
        return X @ W_Q, X @ W_K, (X @ W_V)[:, :2]

    checks.check_qkv_projection(my_qkv_projection)
    out = capsys.readouterr().out
    assert out.startswith("❌") and "你的 V 形状是 (4, 2)，应该是 (4, 5)" in out


def test_wrong_dtype_is_named(capsys):
    checks.check_scores(lambda Q, K: (Q @ K.T).astype(complex))
    assert "你的结果的数据类型是 complex128" in capsys.readouterr().out


def test_hints_are_distinct_and_chinese():
    texts = list(checks.HINTS.values())
    assert len(set(texts)) == len(texts)
    for key, text in checks.HINTS.items():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text), key
        # no hint is contained in another one, so "exactly that hint" is well defined
        assert not any(text in other for other in texts if other is not text), key


# ---------------------------------------------------------------------------
# the notebooks' exercise cells use the agreed checkers
# ---------------------------------------------------------------------------

_NB_DIR = Path(__file__).resolve().parent.parent / "notebooks"
_NOTEBOOKS = sorted(_NB_DIR.glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", _NOTEBOOKS, ids=[p.name for p in _NOTEBOOKS])
def test_notebook_exercise_cells_use_existing_checkers(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for name in re.findall(r"checks\.(check_\w+|show_solution)\(", src):
            assert hasattr(checks, name), f"{path.name}: unknown checker checks.{name}"
        if "checks.check_" in src:
            for out in cell.get("outputs", []):
                assert out.get("output_type") != "error", f"{path.name}: exercise cell raised"
                assert out.get("name") != "stderr", f"{path.name}: exercise cell wrote to stderr"
                text = "".join(out.get("text", ""))
                assert text[:1] in {"⏳", "✅", "❌"}, f"{path.name}: unexpected checker output {text[:60]!r}"
