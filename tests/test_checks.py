"""Tests for helpers.checks: reference solutions pass, starters are pending,
and every known mistake (written the way a learner would write it) gets its
own named hint."""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import helpers as h
from checktools import copied
from helpers import checks, solutions
from helpers.analysis import softmax_jacobian
from helpers.attention import softmax as _course_softmax

_ROOT = Path(__file__).resolve().parent.parent


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
def test_learner_mutating_its_input_is_told_so(name, capsys):
    """A right answer that modifies its inputs in place is not accepted, and the verdict
    names the parameter; the checker's own data is untouched (later checks still pass)."""
    ref = copied(name)

    def my_answer(*args):
        out = ref(*args)
        for a in args:
            if isinstance(a, np.ndarray) and a.dtype != bool:
                a[...] = 0
        return out

    CHECKERS[name](my_answer)
    out = capsys.readouterr().out
    if name == "causal_mask":  # its only input is an int: nothing to modify
        assert out.startswith("✅"), out
        return
    assert out.startswith("❌") and checks.HINTS["mutated_input"] in out, out
    assert "被修改的参数：第 1 个参数" in out  # *args has no names
    CHECKERS[name](copied(name))
    assert capsys.readouterr().out.startswith("✅")


def _restore_by_sorting(Z_new, perm):
    inv = np.argsort(perm)
    perm.sort()                      # sorts the caller's list
    return Z_new[inv]


def _padding_clearing_lengths(lengths, n):
    L = np.array(lengths)
    lengths.clear()                  # empties the caller's list
    return (np.arange(n)[None] < L[:, None])[:, None]


@pytest.mark.parametrize("check,fn,param", [
    (checks.check_permuted_output, _restore_by_sorting, "perm"),
    (checks.check_padding_mask, _padding_clearing_lengths, "lengths"),
])
def test_mutating_a_list_argument_is_told_so(check, fn, param, capsys):
    """Issue 14 finding 3: lists were passed uncopied and not compared, so these were ✅."""
    check(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and checks.HINTS["mutated_list"] in out, out
    assert f"被修改的参数：{param}" in out, out


def test_a_function_that_only_reads_lists_is_accepted(capsys):
    checks.check_permuted_output(lambda Z_new, perm: Z_new[np.argsort(perm)])
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


def softmax_mean(scores):
    # shifts by the row MEAN: exact in exact arithmetic, but exp overflows once a score is > 709 above it
    e = np.exp(scores - scores.mean(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_masked(scores):
    # a masked array hides its numbers behind "--"; np.asarray would silently drop the mask
    return np.ma.masked_array(_softmax_rows(scores), mask=np.ones(np.shape(scores), dtype=bool))


def causal_mask_without_return(n):
    # final review M1: the whole body is written, the result is never returned
    m = np.tril(np.ones((n, n), dtype=bool))


def softmax_printed_not_returned(scores):
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    print("weights computed", (e / e.sum(axis=-1, keepdims=True)).shape)


def attention_helper_returns_but_outer_does_not(Q, K, V):
    def weights(s):
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)   # a nested return is not the function's own
    Z = weights(Q @ K.T / np.sqrt(K.shape[-1])) @ V


def softmax_forgot_return_in_a_branch(scores):
    if scores.shape[0] == scores.shape[1]:
        w = _softmax_rows(scores)      # the square case computes, but never returns
    else:
        return _softmax_rows(scores)


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


def att_mean(Q, K, V):
    return softmax_mean(Q @ K.T / np.sqrt(Q.shape[-1])) @ V


def sa_mean(X, W_Q, W_K, W_V):
    Q, K = X @ W_Q, X @ W_K
    return softmax_mean(Q @ K.T / np.sqrt(Q.shape[-1])) @ (X @ W_V)


def causal_mean_of_visible(Q, K, V):
    # the mean of the keys each query may see (a mean over -inf would be -inf)
    n = len(Q)
    s = Q @ K.T / np.sqrt(Q.shape[-1])
    keep = _tril(n)
    m = np.where(keep, s, 0.0).sum(axis=-1, keepdims=True) / keep.sum(axis=-1, keepdims=True)
    e = np.where(keep, np.exp(s - m), 0.0)
    return e / e.sum(axis=-1, keepdims=True) @ V


def causal_mean_of_inf(Q, K, V):
    # final review U1: the mean taken literally over a row that holds -inf is -inf
    s = np.where(_tril(len(Q)), Q @ K.T / np.sqrt(Q.shape[-1]), -np.inf)
    e = np.exp(s - s.mean(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) @ V


def causal_mean_before_mask(Q, K, V):
    # U1: the mean subtracted before masking, then exp without a max shift
    s = Q @ K.T / np.sqrt(Q.shape[-1])
    s = np.where(_tril(len(Q)), s - s.mean(axis=-1, keepdims=True), -np.inf)
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True) @ V


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


def causal_fill_minus_100(Q, K, V):
    return _softmax_rows(np.where(_tril(len(Q)), Q @ K.T / np.sqrt(Q.shape[-1]), -100.0)) @ V


def causal_fill_minus_1000(Q, K, V):
    return _softmax_rows(np.where(_tril(len(Q)), Q @ K.T / np.sqrt(Q.shape[-1]), -1000.0)) @ V


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


# --- more wrong answers, written the way learners write them (issue 11) -----------

def qkv_w_left(X, W_Q, W_K, W_V):
    return W_Q @ X, W_K @ X, W_V @ X


def qkv_elementwise(X, W_Q, W_K, W_V):
    return X * W_Q, X * W_K, X * W_V


def qkv_w_transposed(X, W_Q, W_K, W_V):
    return X @ W_Q.T, X @ W_K.T, X @ W_V.T


def qkv_all_w_q(X, W_Q, W_K, W_V):
    return X @ W_Q, X @ W_Q, X @ W_Q


def qkv_dict(X, W_Q, W_K, W_V):
    return {"Q": X @ W_Q, "K": X @ W_K, "V": X @ W_V}


def qkv_course(X, W_Q, W_K, W_V):
    return h.project_qkv(X, W_Q, W_K, W_V)


def scores_qt_k(Q, K):
    return Q.T @ K


def scores_kt_q(Q, K):
    return K.T @ Q


def scores_transposed_result(Q, K):
    return (Q @ K.T).T


def scores_qt_k_lowercase(q, k):
    return q.T @ k


def att_times_v_lowercase(q, k, v):
    w = _softmax_rows(q @ k.T / np.sqrt(q.shape[-1]))
    return w * v


def scores_sum_product(Q, K):
    return np.sum(Q * K, axis=-1)


def scores_course(Q, K):
    return h.attention_scores(Q, K)


def scaled_dk_len(Q, K):
    return Q @ K.T / np.sqrt(len(Q))


def scaled_sqrt4(Q, K):
    return Q @ K.T / np.sqrt(4)  # d_k of the first example, hard-coded


def scaled_sqrt3(Q, K):
    return Q @ K.T / np.sqrt(3)  # d_k of the source chapter's example, hard-coded


def scaled_sqrt_shape(Q, K):
    return Q @ K.T / np.sqrt(Q.shape)


def scaled_both_sides(Q, K):
    d_k = Q.shape[-1]
    return (Q / np.sqrt(d_k)) @ (K / np.sqrt(d_k)).T


def scaled_qt_k(Q, K):
    return Q.T @ K / np.sqrt(Q.shape[-1])


def scaled_course(Q, K):
    return h.scale_scores(Q @ K.T, Q.shape[-1])


def softmax_sum_axis0(scores):
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def softmax_in_place(scores):
    scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    return scores / scores.sum(axis=-1, keepdims=True)


def softmax_whole_naive(scores):
    return np.exp(scores) / np.sum(np.exp(scores))


def softmax_course(scores):
    return h.softmax(scores)


def softmax_solution(scores):
    return solutions.softmax(scores)


def _att(Q, K, V, d_k=None, after=False, whole=False, T=False):
    s = Q @ K.T
    if not after:
        s = s / np.sqrt(Q.shape[-1] if d_k is None else d_k)
    if whole:
        e = np.exp(s - s.max())
        w = e / e.sum()
    else:
        w = _softmax_rows(s)
    if after:
        w = w / np.sqrt(Q.shape[-1])
    return (w.T if T else w) @ V


def att_times_v_elementwise(Q, K, V):
    w = _softmax_rows(Q @ K.T / np.sqrt(Q.shape[-1]))
    return w * V


def att_dk_from_v(Q, K, V):
    return _att(Q, K, V, d_k=V.shape[1])


def att_dk_n_keys(Q, K, V):
    return _att(Q, K, V, d_k=K.shape[0])


def att_sqrt3(Q, K, V):
    return _att(Q, K, V, d_k=3)


def att_sqrt4(Q, K, V):
    return _att(Q, K, V, d_k=4)


def att_scaled_after(Q, K, V):
    return _att(Q, K, V, after=True)


def att_alpha_t(Q, K, V):
    return _att(Q, K, V, T=True)


def att_whole_softmax(Q, K, V):
    return _att(Q, K, V, whole=True)


def att_course(Q, K, V):
    Z, _ = h.scaled_dot_product_attention(Q, K, V)
    return Z


def att_mutates(Q, K, V):
    Q /= np.sqrt(Q.shape[-1])
    return _softmax_rows(Q @ K.T) @ V


def sa_dk_from_v(X, W_Q, W_K, W_V):
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    return _softmax_rows(Q @ K.T / np.sqrt(V.shape[-1])) @ V


def sa_sqrt4(X, W_Q, W_K, W_V):
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    return _softmax_rows(Q @ K.T / 2.0) @ V


def sa_alpha_t(X, W_Q, W_K, W_V):
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    return _softmax_rows(Q @ K.T / np.sqrt(K.shape[1])).T @ V


def sa_times_v_elementwise(X, W_Q, W_K, W_V):
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    return _softmax_rows(Q @ K.T / np.sqrt(K.shape[1])) * V


def sa_axis0(X, W_Q, W_K, W_V):
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    s = Q @ K.T / np.sqrt(K.shape[1])
    e = np.exp(s - s.max(axis=0, keepdims=True))
    return (e / e.sum(axis=0, keepdims=True)) @ V


def sa_v_not_projected(X, W_Q, W_K, W_V):
    Q, K = X @ W_Q, X @ W_K
    return _softmax_rows(Q @ K.T / np.sqrt(K.shape[1])) @ X


def sa_scaled_after(X, W_Q, W_K, W_V):
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    return (_softmax_rows(Q @ K.T) / np.sqrt(K.shape[1])) @ V


def sa_course(X, W_Q, W_K, W_V):
    return h.self_attention(X, W_Q, W_K, W_V)[0]


def sa_solution(X, W_Q, W_K, W_V):
    return solutions.attention(X @ W_Q, X @ W_K, X @ W_V)


def mask_tri_float(n):
    return np.tri(n)


def mask_all_true(n):
    return np.ones((n, n), dtype=bool)


def mask_strict_compare(n):
    i = np.arange(n)
    return i[:, None] > i[None, :]


def mask_course(n):
    return h.causal_mask(n)


def causal_added_bool(Q, K, V):
    s = Q @ K.T / np.sqrt(Q.shape[-1])
    return _softmax_rows(s + _tril(len(Q))) @ V


def causal_inf_times_mask(Q, K, V):
    s = Q @ K.T / np.sqrt(Q.shape[-1])
    future = ~_tril(len(Q))
    with np.errstate(invalid="ignore"):
        s = s + future * -np.inf  # 0 * -inf = nan on the allowed positions
    return _softmax_rows(s) @ V


def causal_dk_from_v(Q, K, V):
    s = np.where(_tril(len(Q)), Q @ K.T / np.sqrt(V.shape[-1]), -np.inf)
    return _softmax_rows(s) @ V


def causal_alpha_t(Q, K, V):
    s = np.where(_tril(len(Q)), Q @ K.T / np.sqrt(Q.shape[-1]), -np.inf)
    return _softmax_rows(s).T @ V


def causal_course(Q, K, V):
    return h.scaled_dot_product_attention(Q, K, V, mask=h.causal_mask(len(Q)))[0]


def causal_axis0(Q, K, V):
    s = np.where(_tril(len(Q)), Q @ K.T / np.sqrt(Q.shape[-1]), -np.inf)
    e = np.exp(s - s.max(axis=0, keepdims=True))
    return (e / e.sum(axis=0, keepdims=True)) @ V


def back_elementwise_dot(a, g):
    return a * (g - a * g)


def back_sum_not_dot(a, g):
    return a * (g - g.sum())


def back_plus(a, g):
    return (np.diag(a) + np.outer(a, a)) @ g


def back_course(a, g):
    return softmax_jacobian(a) @ g


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
    ("qkv_projection", qkv_w_left, "qkv_matmul_order"),
    ("qkv_projection", qkv_elementwise, "qkv_elementwise"),
    ("qkv_projection", qkv_w_transposed, "qkv_matmul_order"),
    ("qkv_projection", qkv_all_w_q, "qkv_swapped_weights"),
    ("qkv_projection", qkv_dict, "qkv_not_tuple"),
    ("qkv_projection", qkv_course, "uses_course_impl"),
    ("scores", scores_qt_k, "scores_transpose_wrong"),
    ("scores", scores_kt_q, "scores_transpose_wrong"),
    ("scores", scores_qt_k_lowercase, "scores_transpose_wrong"),
    ("attention", att_times_v_lowercase, "weights_elementwise_v"),
    ("scores", scores_transposed_result, "scores_swapped"),
    ("scores", scores_sum_product, "scores_elementwise"),
    ("scores", scores_course, "uses_course_impl"),
    ("scaled_scores", scaled_dk_len, "dk_wrong_axis"),
    ("scaled_scores", scaled_sqrt4, "dk_hard_coded"),
    ("scaled_scores", scaled_sqrt3, "dk_hard_coded"),
    ("scaled_scores", scaled_sqrt_shape, "dk_is_shape"),
    ("scaled_scores", scaled_both_sides, "scaled_by_dk"),
    ("scaled_scores", scaled_qt_k, "scores_transpose_wrong"),
    ("scaled_scores", scaled_course, "uses_course_impl"),
    ("softmax", softmax_sum_axis0, "softmax_sum_wrong_axis"),
    ("softmax", softmax_in_place, "mutated_input"),
    ("softmax", softmax_whole_naive, "softmax_whole_matrix"),
    ("softmax", softmax_course, "uses_course_impl"),
    ("softmax", softmax_solution, "uses_course_impl"),
    ("attention", att_times_v_elementwise, "weights_elementwise_v"),
    ("attention", att_dk_from_v, "dk_from_v"),
    ("attention", att_dk_n_keys, "dk_wrong_axis"),
    ("attention", att_sqrt3, "dk_hard_coded"),
    ("attention", att_sqrt4, "dk_hard_coded"),
    ("attention", att_scaled_after, "scaled_after_softmax"),
    ("attention", att_alpha_t, "weights_transposed"),
    ("attention", att_whole_softmax, "softmax_whole_matrix_att"),
    ("attention", att_course, "uses_course_impl"),
    ("attention", att_mutates, "mutated_input"),
    ("self_attention", sa_dk_from_v, "dk_from_v"),
    ("self_attention", sa_sqrt4, "dk_hard_coded"),
    ("self_attention", sa_alpha_t, "weights_transposed"),
    ("self_attention", sa_times_v_elementwise, "weights_elementwise_v"),
    ("self_attention", sa_axis0, "softmax_wrong_axis"),
    ("self_attention", sa_v_not_projected, "qkv_not_projected"),
    ("self_attention", sa_scaled_after, "scaled_after_softmax"),
    ("self_attention", sa_course, "uses_course_impl"),
    ("self_attention", sa_solution, "uses_course_impl"),
    ("causal_mask", mask_tri_float, "mask_not_bool"),
    ("causal_mask", mask_all_true, "mask_all_true"),
    ("causal_mask", mask_strict_compare, "mask_no_diagonal"),
    ("causal_mask", mask_course, "uses_course_impl"),
    ("causal_attention", causal_added_bool, "mask_added_bool"),
    ("causal_attention", causal_inf_times_mask, "mask_inf_times_zero"),
    ("causal_attention", causal_dk_from_v, "dk_from_v"),
    ("causal_attention", causal_alpha_t, "weights_transposed"),
    ("causal_attention", causal_course, "uses_course_impl"),
    ("causal_attention", causal_axis0, "softmax_wrong_axis"),
    ("softmax_backward", back_elementwise_dot, "backward_diag_only"),
    ("softmax_backward", back_sum_not_dot, "backward_sum_not_dot"),
    ("softmax_backward", back_plus, "backward_plus"),
    ("softmax_backward", back_course, "uses_course_impl"),
    # issue 14 findings 2, 18, 34: a mean shift overflows on a row spanning 2000; a masked result;
    # None from one branch after earlier inputs returned a result
    ("softmax", softmax_mean, "softmax_subtract_mean"),
    ("attention", att_mean, "softmax_subtract_mean"),
    ("self_attention", sa_mean, "softmax_subtract_mean"),
    ("causal_attention", causal_mean_of_visible, "softmax_subtract_mean"),
    ("causal_attention", causal_mean_of_inf, "softmax_mean_of_inf"),
    ("causal_attention", causal_mean_before_mask, "softmax_subtract_mean"),
    ("softmax", softmax_masked, "masked_result"),
    # round 3, N2: a query whose visible score lies far below a blocked one
    ("causal_attention", causal_fill_minus_100, "mask_fill_not_small"),
    ("causal_attention", causal_fill_minus_1000, "mask_fill_not_small"),
    ("softmax", softmax_forgot_return_in_a_branch, "returned_none"),
    # final review M1: no return at all (or only print) is a forgotten return, not an unfinished exercise
    ("causal_mask", causal_mask_without_return, "forgot_return"),
    ("attention", attention_helper_returns_but_outer_does_not, "forgot_return"),
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
    generic = {"not_callable", "nonfinite", "timeout", "interrupted", "system_exit", "mutated_input",
               "mutated_list", "uses_course_impl"}
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


def test_generic_wrong_values_name_the_largest_difference(capsys):
    def my_scores(Q, K):
        s = Q @ K.T
        s[0, 0] += 1.0
        s[1, 2] += 0.5
        return s

    checks.check_scores(my_scores)
    out = capsys.readouterr().out
    assert "差别最大的是位置 (0, 0)：你的结果 -3.114，参考答案 -4.114（共 2 处不同）。" in out


def test_a_tiny_difference_is_shown_with_enough_digits(capsys):
    def my_scores(Q, K):
        s = Q @ K.T
        s[2, 1] *= 1 + 3e-6  # beyond the tolerance, invisible at 4 digits
        return s

    checks.check_scores(my_scores)
    out = capsys.readouterr().out
    m = re.search(r"你的结果 (\S+)，参考答案 (\S+?)。", out)
    assert m and m.group(1) != m.group(2), out
    assert "位置 (2, 1)" in out


def test_lists_are_accepted(capsys):
    checks.check_scores(lambda Q, K: (Q @ K.T).tolist())
    assert capsys.readouterr().out.startswith("✅")


def test_float64_result_for_float32_inputs_is_accepted(capsys):
    def my_attention(Q, K, V):
        Q, K, V = (np.asarray(a, dtype=np.float64) for a in (Q, K, V))
        return copied("attention")(Q, K, V)

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
    assert "数值警告（overflow encountered in exp），检查一下是否有溢出。" in out
    assert len(recwarn) == 0


@pytest.mark.parametrize("make,note", [
    (lambda: np.array([1.0]) / np.array([0.0]), "数值警告（divide by zero encountered in divide），检查一下是否有除以 0。"),
    (lambda: np.array([0.0]) / np.array([0.0]), "数值警告（invalid value encountered in divide），检查一下是否有 0/0"),
    (lambda: warnings.warn("just saying", UserWarning), "不过运行时出现了警告（UserWarning: just saying）。"),
    (lambda: np.matrix([[1.0]]), "不过运行时出现了警告（PendingDeprecationWarning: the matrix subclass"),
])
def test_a_warning_note_says_what_the_warning_was(make, note, capsys):
    """Issue 14 finding 35: every warning used to be called a numeric one with overflow advice."""
    def my_scores(Q, K):
        make()
        return Q @ K.T

    checks.check_scores(my_scores)
    out = capsys.readouterr().out
    assert out.startswith("✅") and note in out, out
    assert ("溢出" in out) == ("overflow" in note)


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
    assert out == ("✅ 正确！在 6 组输入上与参考实现一致（含 1 个词、n_q≠n_k、d_v≠d_k、原教程例子、"
                   "float32 大分数、一行之内相差约 2000）。\n")


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
    with pytest.raises(ValueError, match="name='nope' is not an exercise; choose one of: qkv_projection"):
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


def test_none_after_earlier_results_is_not_called_unfinished(capsys):
    """Issue 14 finding 34: ⏳ only when the FIRST input gives None; later, a branch lost its return."""
    checks.check_softmax(softmax_forgot_return_in_a_branch)
    out = capsys.readouterr().out
    assert out.startswith("❌ 你的函数在「4×4 的分数矩阵」这组输入上返回了 None（前 1 组输入都有结果）："), out
    assert "⏳" not in out


STILL_STARTERS = {
    "comment_and_return_none": "def my_answer(*args):\n    # 在这里写你的代码\n    return None\n",
    "docstring_and_pass": 'def my_answer(*args):\n    """My answer."""\n    pass\n',
    "ellipsis": "def my_answer(*args):\n    ...\n",
    "bare_return": "def my_answer(*args):\n    return\n",
    # a return <value> that gives None (e.g. a tuple of unfilled names) keeps today's ⏳
    "tuple_of_nones": "def my_answer(*args):\n    Q = K = V = None\n    return Q, K, V\n",
}


@pytest.mark.parametrize("kind", sorted(STILL_STARTERS))
def test_starter_bodies_stay_pending(kind, capsys, tmp_path):
    """M1's ❌ is only for a body with code and no return: starter-like bodies stay ⏳."""
    path = tmp_path / f"{kind}.py"   # a real file, so inspect finds the source the way it does in a notebook
    path.write_text(STILL_STARTERS[kind], encoding="utf-8")
    namespace: dict = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    checks.check_softmax(namespace["my_answer"])
    assert capsys.readouterr().out.startswith("⏳ 还没完成：函数 my_answer"), kind


def test_forgotten_return_without_source_keeps_todays_verdict(capsys):
    """No source (exec'd text, a lambda): the checker cannot tell a starter from a forgotten return."""
    namespace: dict = {"np": np}
    exec("def my_answer(x):\n    e = np.exp(x)\n", namespace)
    checks.check_softmax(namespace["my_answer"])
    assert capsys.readouterr().out.startswith("⏳")
    checks.check_softmax(lambda x: print(end=""))
    assert capsys.readouterr().out.startswith("⏳")


def test_printed_instead_of_returned_is_a_forgotten_return(capsys):
    checks.check_softmax(softmax_printed_not_returned)
    out = capsys.readouterr().out
    printed, verdict = out.split("\n", 1)
    assert printed == "weights computed (3, 5)"
    assert verdict.startswith("❌") and checks.HINTS["forgot_return"] in verdict, out


def test_forgotten_return_names_the_input_and_return(capsys):
    checks.check_causal_mask(causal_mask_without_return)
    out = capsys.readouterr().out
    assert out.startswith("❌ 你的函数在「") and "运行完了，但返回的是 None" in out and "return" in out, out
    assert "⏳" not in out


def test_masked_array_without_masked_entries_is_an_array(capsys):
    """Finding 18 refuses hidden entries only: a masked array with nothing masked is its numbers."""
    checks.check_softmax(lambda x: np.ma.masked_array(_softmax_rows(x)))
    assert capsys.readouterr().out.startswith("✅")


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
            outs = cell.get("outputs", [])
            for out in outs:
                assert out.get("output_type") != "error", f"{path.name}: exercise cell raised"
                assert out.get("name") != "stderr", f"{path.name}: exercise cell wrote to stderr"
            text = "".join("".join(out.get("text", "")) for out in outs if out.get("name") == "stdout")
            assert text[:1] in {"⏳", "✅", "❌"}, f"{path.name}: unexpected checker output {text[:60]!r}"


# ---------------------------------------------------------------------------
# the machinery: time limit, hostile exceptions, course implementation, strict, records
# ---------------------------------------------------------------------------

def test_a_function_that_never_returns_gets_a_time_limit_verdict(capsys):
    def my_softmax(scores):
        while True:
            pass

    before = signal.getsignal(signal.SIGALRM)
    t0 = time.monotonic()
    checks.check_softmax(my_softmax, time_limit=0.3)
    assert time.monotonic() - t0 < 5
    out = capsys.readouterr().out
    assert out.startswith("❌ 你的函数在「3×5 的分数矩阵」这组输入上运行了 0.3 秒还没有返回，检查已停止：")
    assert checks.HINTS["timeout"] in out
    assert signal.getsignal(signal.SIGALRM) == before  # the previous handler is back
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_time_limit_cannot_be_swallowed_by_a_bare_except(capsys):
    def my_softmax(scores):
        while True:
            try:
                while True:
                    pass
            except BaseException:  # noqa: BLE001 - a learner "handling" everything
                pass

    with checks.strict(False):
        checks.check_softmax(my_softmax, time_limit=0.2)
    out = capsys.readouterr().out
    assert out.startswith("❌") and checks.HINTS["timeout"] in out
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_time_limit_outside_the_main_thread_uses_a_daemon_thread(capsys):
    release = threading.Event()

    def my_softmax(scores):
        release.wait(10)
        return None

    result = {}

    def run():
        with contextlib.redirect_stdout(io.StringIO()) as buf:
            checks.check_softmax(my_softmax, time_limit=0.2)
        result["out"] = buf.getvalue()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(10)
    release.set()
    assert checks.HINTS["timeout"] in result["out"]
    assert "重启内核" in result["out"]


def test_default_time_limit_is_a_few_seconds():
    assert 1 <= checks.TIME_LIMIT <= 10


def test_time_limit_must_be_positive():
    with pytest.raises(ValueError, match="time_limit"):
        checks.check_softmax(copied("softmax"), time_limit=0)


class _Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no")


class _Custom(BaseException):
    pass


@pytest.mark.parametrize("exc,expected", [
    (_Unprintable(), "出错：_Unprintable: （错误信息无法显示）"),
    (_Custom("x"), "出错：_Custom: x"),
    (GeneratorExit(), "出错：GeneratorExit"),
    (RecursionError("maximum recursion depth exceeded"), "出错：RecursionError: maximum recursion depth"),
])
def test_hostile_exceptions_do_not_escape(exc, expected, capsys):
    def my_scores(Q, K):
        raise exc

    checks.check_scores(my_scores)
    cap = capsys.readouterr()
    assert cap.out.startswith("❌") and expected in cap.out, cap.out
    assert cap.err == ""


@pytest.mark.parametrize("call", [lambda: sys.exit(3), lambda: exit(), lambda: quit()])
def test_system_exit_is_a_verdict(call, capsys):
    def my_scores(Q, K):
        call()

    checks.check_scores(my_scores)
    out = capsys.readouterr().out
    assert out.startswith("❌ 你的函数在「3 个查询 × 5 个键，d_k=4（n_q≠n_k）」这组输入上调用了 exit")
    assert checks.HINTS["system_exit"] in out


def test_keyboard_interrupt_stops_the_check_without_a_traceback(capsys):
    def my_scores(Q, K):
        raise KeyboardInterrupt

    checks.check_scores(my_scores)
    assert capsys.readouterr().out == f"⏹ {checks.HINTS['interrupted']}\n"


def test_error_verdict_shows_the_learners_line(capsys):
    def my_attention(Q, K, V):
        w = _softmax_rows(Q @ K.T / np.sqrt(Q.shape[-1]))
        return w * V

    checks.check_attention(my_attention)
    out = capsys.readouterr().out
    assert "出错的代码：return w * V" in out


def test_returned_object_whose_methods_fail_is_reported(capsys):
    class Weird:
        def __array__(self, *a, **k):
            raise SystemExit("boom")

    checks.check_scores(lambda Q, K: Weird())
    cap = capsys.readouterr()
    assert cap.out.startswith("❌") and cap.err == ""


# --- calling the course's own implementation ------------------------------------

def _uses(impl):
    return f"你的函数调用了 {impl}"


@pytest.mark.parametrize("name,fn,shown", [
    ("softmax", lambda s: h.softmax(s), "helpers.attention.softmax（也就是 h.softmax）"),
    ("softmax", lambda s: attention_softmax_alias(s), "helpers.attention.softmax（也就是 h.softmax）"),
    ("softmax", h.softmax, "helpers.attention.softmax（也就是 h.softmax）"),
    ("softmax", lambda s: solutions.softmax(s), "参考答案 solutions.softmax"),
    ("attention", lambda Q, K, V: h.scaled_dot_product_attention(Q, K, V)[0],
     "helpers.attention.scaled_dot_product_attention（也就是 h.scaled_dot_product_attention）"),
    ("attention", lambda Q, K, V: h.weighted_sum(h.attention_weights(h.scale_scores(
        h.attention_scores(Q, K), Q.shape[-1])), V), "helpers.attention.attention_weights"),
    ("self_attention", lambda X, a, b, c: h.self_attention(X, a, b, c)[0], "helpers.attention.self_attention"),
    ("causal_attention", lambda Q, K, V: h.scaled_dot_product_attention(Q, K, V, mask=h.causal_mask(len(Q)))[0],
     "helpers.attention.scaled_dot_product_attention"),
    ("causal_mask", lambda n: h.causal_mask(n), "helpers.attention.causal_mask"),
    ("scores", lambda Q, K: h.attention_scores(Q, K), "helpers.attention.attention_scores"),
    ("scaled_scores", lambda Q, K: h.scale_scores(Q @ K.T, Q.shape[-1]), "helpers.attention.scale_scores"),
    ("qkv_projection", lambda X, a, b, c: h.project_qkv(X, a, b, c), "helpers.attention.project_qkv"),
    ("softmax_backward", lambda a, g: softmax_jacobian(a) @ g, "helpers.analysis.softmax_jacobian"),
    ("self_attention", lambda X, a, b, c: solutions.attention(X @ a, X @ b, X @ c), "参考答案 solutions.attention"),
])
def test_calling_the_course_implementation_is_not_accepted(name, fn, shown, capsys):
    CHECKERS[name](fn)
    out = capsys.readouterr().out
    assert out.startswith("❌") and checks.HINTS["uses_course_impl"] in out, out
    assert _uses(shown) in out, out


def attention_softmax_alias(s):
    return _course_softmax(s)


def test_using_earlier_steps_of_the_course_is_allowed(capsys):
    """Building attention from the course's softmax / scores (earlier exercises) is fine."""
    checks.check_attention(lambda Q, K, V: h.softmax(h.attention_scores(Q, K) / np.sqrt(Q.shape[-1])) @ V)
    assert capsys.readouterr().out.startswith("✅")
    checks.check_scaled_scores(lambda Q, K: h.attention_scores(Q, K) / np.sqrt(Q.shape[-1]))
    assert capsys.readouterr().out.startswith("✅")


def test_call_watch_is_removed_after_the_check(capsys):
    checks.check_softmax(lambda s: h.softmax(s))
    capsys.readouterr()
    assert sys.getprofile() is None


# --- strict mode -----------------------------------------------------------------

def test_strict_context_raises_the_same_verdict(capsys):
    checks.check_softmax(softmax_axis0)
    printed = capsys.readouterr().out.rstrip("\n")
    with checks.strict():
        with pytest.raises(AssertionError) as info:
            checks.check_softmax(softmax_axis0)
    assert str(info.value) == printed
    assert checks.HINTS["softmax_wrong_axis"] in str(info.value)
    assert info.value.__context__ is None or info.value.__suppress_context__
    assert capsys.readouterr().out == ""
    with checks.strict():
        checks.check_softmax(copied("softmax"))  # right answer: no exception, ✅ printed
    assert capsys.readouterr().out.startswith("✅")


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_strict_keyword_on_every_checker(name, capsys):
    with pytest.raises(AssertionError, match="^⏳ 还没完成"):
        CHECKERS[name](lambda *a: None, strict=True)
    CHECKERS[name](copied(name), strict=True)
    assert capsys.readouterr().out.startswith("✅")
    CHECKERS[name](lambda *a: None, strict=False)  # explicit False wins over nothing
    assert capsys.readouterr().out.startswith("⏳")


def test_module_switch_and_keyword_override(capsys, monkeypatch):
    monkeypatch.setattr(checks, "STRICT", False)
    checks.set_strict(True)
    try:
        with pytest.raises(AssertionError):
            checks.check_scores(scores_kq)
        checks.check_scores(scores_kq, strict=False)
        assert capsys.readouterr().out.startswith("❌")
        with checks.strict(False):
            checks.check_scores(scores_kq)
        assert capsys.readouterr().out.startswith("❌")
    finally:
        checks.set_strict(False)


def test_strict_from_environment_variable(tmp_path):
    code = ("from helpers import checks\n"
            "try:\n    checks.check_scores(lambda Q, K: K @ Q.T)\n"
            "except AssertionError as e:\n    print('RAISED', str(e)[:1])\n")
    env = dict(os.environ, COURSE_CHECKS_STRICT="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=str(_ROOT), check=True).stdout
    assert out == "RAISED ❌\n"


# --- recording and summary -----------------------------------------------------------

def test_recording_is_off_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    checks.check_softmax(softmax_axis0)
    assert list(tmp_path.iterdir()) == []


def test_recording_writes_json_lines_and_summary_counts_them(tmp_path, capsys):
    a, b = tmp_path / "a.jsonl", tmp_path / "sub"
    b.mkdir()
    try:
        assert checks.record_to(a) == str(a)
        checks.check_softmax(softmax_axis0)
        checks.check_softmax(softmax_axis0)
        checks.check_softmax(copied("softmax"))
        checks.record_to(b, student="S02")
        checks.check_softmax(softmax_axis0)
        checks.check_scores(scores_kq)
        with checks.strict():
            with pytest.raises(AssertionError):
                checks.check_scores(lambda Q, K: None)
    finally:
        checks.record_to(None)
    checks.check_softmax(softmax_axis0)  # off again: not recorded
    lines = [json.loads(x) for x in a.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 3
    assert set(lines[0]) == {"time", "exercise", "status", "mistake", "case"}
    assert lines[0]["exercise"] == "softmax" and lines[0]["mistake"] == "softmax_wrong_axis"
    assert lines[2]["status"] == "passed" and lines[2]["mistake"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", lines[0]["time"])
    other = [json.loads(x) for x in (b / "checks.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["student"] for r in other] == ["S02"] * 3
    assert other[2]["status"] == "pending"
    capsys.readouterr()
    rows = checks.summarize_records(tmp_path)
    table = capsys.readouterr().out
    assert {"exercise": "softmax", "status": "failed", "mistake": "softmax_wrong_axis",
            "count": 3, "learners": 2} in rows
    assert {"exercise": "scores", "status": "failed", "mistake": "scores_swapped",
            "count": 1, "learners": 1} in rows
    assert table.splitlines()[0].split() == ["练习", "结论", "错误", "id", "次数", "人数"]
    assert "softmax_wrong_axis" in table
    assert checks.summarize_records(tmp_path, show=False) == rows


def _record_line(tmp_path, entry) -> Path:
    path = tmp_path / "odd.jsonl"
    good = {"exercise": "softmax", "status": "failed", "mistake": "softmax_wrong_axis", "student": "S01"}
    path.write_text(json.dumps(good) + "\n" + json.dumps(entry) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("field,value", [("student", ["a"]), ("mistake", 5), ("status", {"x": 1}),
                                         ("case", 3.5), ("time", [2026])])
def test_records_of_the_wrong_types_are_skipped(field, value, tmp_path, capsys):
    """Issue 14 finding 30: valid JSON with a list / number where text belongs crashed the summary."""
    entry = {"exercise": "softmax", "status": "failed", "mistake": "x", field: value}
    path = _record_line(tmp_path, entry)
    assert [r["student"] for r in checks.read_records(path)] == ["S01"]
    rows = checks.summarize_records(path)
    assert rows == [{"exercise": "softmax", "status": "failed", "mistake": "softmax_wrong_axis",
                     "count": 1, "learners": 1}]
    assert "softmax_wrong_axis" in capsys.readouterr().out


def test_record_to_refuses_a_student_label_that_is_not_text(tmp_path, capsys):
    """Issue 14 finding 24: a lone surrogate in the label made every later check raise."""
    with pytest.raises(ValueError, match="student contains a character that is not valid text"):
        checks.record_to(tmp_path, student="S\ud800")
    try:
        checks.record_to(tmp_path / "x.jsonl")
        checks._record["student"] = "\ud800"          # however it got there: the check still runs
        checks.check_softmax(softmax_axis0)
    finally:
        checks.record_to(None)
    assert capsys.readouterr().out.startswith("❌")


def test_student_from_environment_with_bytes_that_are_not_utf8(tmp_path):
    """A teacher's COURSE_CHECKS_STUDENT in another encoding reaches Python as lone surrogates."""
    target = tmp_path / "class.jsonl"
    code = "from helpers import checks\nchecks.check_scores(lambda Q, K: K @ Q.T)\n"
    env = dict(os.environb, COURSE_CHECKS_RECORD=os.fsencode(target), COURSE_CHECKS_STUDENT=b"S\xe9\xe9")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, cwd=str(_ROOT))
    assert done.returncode == 0 and done.stderr == b"", done.stderr.decode(errors="replace")
    (entry,) = [json.loads(x) for x in target.read_text(encoding="utf-8").splitlines()]
    assert entry["student"] == "S\ufffd\ufffd" and entry["mistake"] == "scores_swapped"


def test_record_to_rejects_bad_paths(tmp_path):
    with pytest.raises(ValueError, match="path: folder"):
        checks.record_to(tmp_path / "missing" / "x.jsonl")
    with pytest.raises(TypeError, match="path"):
        checks.record_to(3)
    assert checks.record_to(None) is None


def test_recording_from_environment_variable(tmp_path):
    target = tmp_path / "class.jsonl"
    code = "from helpers import checks\nchecks.check_scores(lambda Q, K: K @ Q.T)\n"
    env = dict(os.environ, COURSE_CHECKS_RECORD=str(target))
    subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, cwd=str(_ROOT), check=True)
    (entry,) = [json.loads(x) for x in target.read_text(encoding="utf-8").splitlines()]
    assert entry["exercise"] == "scores" and entry["mistake"] == "scores_swapped"


# ---------------------------------------------------------------------------
# the inputs are not saturated: a scale bug shows
# ---------------------------------------------------------------------------

def _case_weights(name, case):
    """α of one case of the attention-like checkers, and which rows have ≥ 2 keys to choose from."""
    args = [np.asarray(a, dtype=np.float64) for a in case.args]
    if name == "self_attention":
        X, W_Q, W_K, _ = args
        Q, K = X @ W_Q, X @ W_K
    else:
        Q, K = args[0], args[1]
    s = Q @ K.T / np.sqrt(Q.shape[-1])
    visible = np.ones(s.shape, dtype=bool)
    if name == "causal_attention":
        visible = _tril(len(Q))
    w = _softmax_rows(np.where(visible, s, -np.inf))
    return w, visible.sum(axis=-1) >= 2


_CASES = {"attention": checks._attention_cases, "self_attention": checks._self_attention_cases,
          "causal_attention": checks._causal_cases}


@pytest.mark.parametrize("name", sorted(_CASES))
def test_attention_inputs_are_not_saturated(name, capsys):
    """Largest weight of every row that has a choice stays ≤ 0.85 (the printed row maxima), so
    scale bugs are not hidden by saturated weights (see the next test)."""
    for case in _CASES[name]():
        if case.label.startswith((checks._SPREAD, checks._BLOCKED)):   # saturated on purpose (see their comments)
            continue
        w, choice = _case_weights(name, case)
        row_max = w.max(axis=-1)[choice]
        print(name, case.label, np.round(row_max, 3))
        assert row_max.size == 0 or row_max.max() <= 0.85, (case.label, row_max)


@pytest.mark.parametrize("name", sorted(_CASES))
def test_forgotten_scale_changes_every_output_that_can_change(name):
    """Forgetting √d_k moves the output by > 0.05 on every input where a row has a choice."""
    mistake = {"attention": att_forgot_scale, "self_attention": sa_forgot_scale,
               "causal_attention": causal_forgot_scale}[name]
    for case in _CASES[name]():
        _, choice = _case_weights(name, case)
        if choice.any() and not case.label.startswith((checks._SPREAD, checks._BLOCKED)):
            z = mistake(*(np.asarray(a, dtype=np.float64) for a in case.args))
            assert np.abs(z - case.expected).max() > 0.05, case.label


def test_large_score_cases_overflow_a_naive_exp():
    for make in _CASES.values():
        big = [c for c in make() if c.label.startswith(checks._BIG)]
        assert len(big) == 1 and big[0].float32
    (big,) = [c for c in checks._attention_cases() if c.label.startswith(checks._BIG)]
    Q, K, _ = [np.asarray(a, dtype=np.float64) for a in big.args]
    s = Q @ K.T / np.sqrt(Q.shape[-1])
    assert s.min() > 709  # exp overflows even in float64


@pytest.mark.parametrize("name", ["softmax", "batched_softmax", *sorted(_CASES)])
def test_a_case_spans_2000_within_one_row(name):
    """Finding 2 (issue 14): one case of every softmax-using checker has a row whose (visible)
    scores span ~2000, so a softmax shifted by the row mean (not the max) overflows there."""
    make = {"softmax": checks._softmax_cases, "batched_softmax": checks._batched_softmax_cases, **_CASES}[name]
    (case,) = [c for c in make() if c.label.startswith(checks._SPREAD)]
    if name in _CASES:
        args = [np.asarray(a, dtype=np.float64) for a in case.args]
        Q, K = (args[0] @ args[1], args[0] @ args[2]) if name == "self_attention" else args[:2]
        s = np.where(_tril(len(Q)) if name == "causal_attention" else True, Q @ K.T / np.sqrt(Q.shape[-1]), np.nan)
    else:
        s = case.args[0]
    spread = np.nanmax(s, axis=-1) - np.nanmin(s, axis=-1)
    assert spread.max() > 2 * 709 + 1


def test_every_checker_has_the_strict_and_time_limit_keywords():
    """Every public check_* is wrapped by checks._checker (so graders can pass strict=True)."""
    names = [n for n in dir(checks) if n.startswith("check_") and callable(getattr(checks, n))]
    assert len(names) >= len(CHECKERS)
    for name in names:
        params = inspect.signature(getattr(checks, name)).parameters
        assert "strict" in params and "time_limit" in params, f"decorate {name} with @_checker"


# ---------------------------------------------------------------------------
# right answers written in other ways are accepted (no false ❌)
# ---------------------------------------------------------------------------

def _ok_causal_index_fill(Q, K, V):
    s = Q @ K.T / np.sqrt(Q.shape[-1])
    s[~_tril(len(Q))] = -np.inf  # in place on a local array, not on the input
    return _softmax_rows(s) @ V


def _ok_causal_additive(Q, K, V):
    n = len(Q)
    s = Q @ K.T / np.sqrt(Q.shape[-1]) + np.triu(np.full((n, n), -np.inf), k=1)
    return _softmax_rows(s) @ V


def _ok_softmax_copy_then_in_place(scores):
    x = scores.copy()
    x -= x.max(axis=1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=1, keepdims=True)
    return x


def _ok_backward_jacobian(a, g):
    return (np.diag(a) - np.outer(a, a)) @ g


ACCEPTED = [
    ("qkv_projection", lambda X, W_Q, W_K, W_V: [np.dot(X, W_Q), np.matmul(X, W_K), X @ W_V]),
    ("scores", lambda Q, K: np.einsum("qd,kd->qk", Q, K)),
    ("scores", lambda Q, K: np.dot(Q, K.T)),
    ("scaled_scores", lambda Q, K: Q @ K.T / Q.shape[1] ** 0.5),
    ("scaled_scores", lambda Q, K: (Q / math.sqrt(K.shape[-1])) @ K.T),
    ("softmax", _ok_softmax_copy_then_in_place),
    ("softmax", lambda s: np.exp(s - s.max(-1, keepdims=True)) / np.exp(s - s.max(-1, keepdims=True)).sum(-1, keepdims=True)),
    ("attention", lambda Q, K, V: np.einsum("qk,kv->qv", _softmax_rows(np.einsum("qd,kd->qk", Q, K) / np.sqrt(K.shape[1])), V)),
    ("attention", lambda Q, K, V: _softmax_rows((Q / np.sqrt(Q.shape[-1])) @ K.T) @ V),
    ("self_attention", lambda X, W_Q, W_K, W_V: _attention_f32(X @ W_Q, X @ W_K, X @ W_V)),
    ("causal_mask", lambda n: np.arange(n)[:, None] >= np.arange(n)[None, :]),
    ("causal_mask", lambda n: [[j <= i for j in range(n)] for i in range(n)]),
    ("causal_mask", lambda n: ~np.triu(np.ones((n, n), dtype=bool), k=1)),
    ("causal_attention", _ok_causal_index_fill),
    ("causal_attention", _ok_causal_additive),
    ("softmax_backward", _ok_backward_jacobian),
    ("softmax_backward", lambda a, g: a * g - a * np.sum(a * g)),
]


@pytest.mark.parametrize("checker,fn", ACCEPTED, ids=[f"{c}-{i}" for i, (c, _) in enumerate(ACCEPTED)])
def test_other_right_answers_are_accepted(checker, fn, capsys):
    CHECKERS[checker](fn)
    out = capsys.readouterr().out
    assert out.startswith("✅"), out


def test_grading_api_rejects_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="on must be True or False"):
        with checks.strict("yes"):
            pass
    with pytest.raises(TypeError, match="on must be True or False"):
        checks.set_strict(1)
    with pytest.raises(TypeError, match="strict must be True or False"):
        checks.check_scores(scores_kq, strict="no")
    with pytest.raises(ValueError, match="time_limit"):
        checks.check_scores(scores_kq, time_limit=-1)
    with pytest.raises(TypeError, match="folder must be"):
        checks.read_records(3)
    with pytest.raises(ValueError, match="folder: .* is neither"):
        checks.summarize_records(tmp_path / "missing")
    with pytest.raises(TypeError, match="show must be True or False"):
        checks.summarize_records(tmp_path, show="yes")
    with pytest.raises(TypeError, match="student must be"):
        checks.record_to(tmp_path, student=7)
    assert checks.summarize_records(tmp_path, show=False) == []


# --- round 3 (findings N1, N2, N9 of the second adversarial pass) ---------------------------

#: the max shift of a stable softmax as the reference solutions write it (x.max(...), np.max(x, ...))
_MAX_SHIFT = re.compile(r"np\.max\([^()]*\)|\b\w+\.max\([^()]*\)")
#: solutions that contain "softmax"/"exp" but take weights, not scores (nothing to overflow)
_TAKES_WEIGHTS = {"softmax_backward"}


def _softmax_solutions() -> list:
    """Every reference solution that computes a softmax of scores: found by scanning its source,
    so that a new softmax-using exercise is covered without editing this list."""
    names = []
    for name in solutions.__all__:
        src = inspect.getsource(getattr(solutions, name))
        if ("np.exp(" in src or "softmax(" in src) and name not in _TAKES_WEIGHTS:
            names.append(name)
    return names


def _variant(name: str, shift: str):
    """The reference solution ``name`` with its max shift replaced by ``shift`` ("0": a naive softmax,
    "mean": the row mean of the visible scores)."""
    src = inspect.getsource(getattr(solutions, name))
    assert _MAX_SHIFT.search(src), f"{name}: no max shift found; teach _variant how this solution writes softmax"

    def repl(m):
        if shift == "0":
            return "0.0"
        arg = m.group(0)
        inner = arg[arg.index("(") + 1:-1]
        obj = inner.split(",")[0] if arg.startswith("np.max(") else arg[:arg.index(".max(")]
        opts = inner[len(obj):].lstrip(", ") if arg.startswith("np.max(") else inner
        return (f"_visible_mean({obj}{', ' + opts if opts else ''})")

    namespace = {"np": np, "_visible_mean": _visible_mean}
    exec(_MAX_SHIFT.sub(repl, src), namespace)
    return namespace[name]


def _visible_mean(x, axis=None, keepdims=False):
    """Mean over the finite (visible) scores: a mean shift a learner would write for a masked row."""
    x = np.asarray(x, dtype=np.float64)
    seen = np.isfinite(x)
    return np.where(seen, x, 0.0).sum(axis=axis, keepdims=keepdims) / np.maximum(seen.sum(axis=axis, keepdims=keepdims), 1)


def test_every_softmax_exercise_is_listed():
    names = _softmax_solutions()
    assert {"softmax", "batched_softmax", "attention", "self_attention", "causal_attention",
            "multi_head_attention", "batched_self_attention", "attend_loss_grad"} <= set(names), names
    for name in names:
        assert hasattr(checks, f"check_{name}"), name


@pytest.mark.parametrize("shift", ["0", "mean"])
@pytest.mark.parametrize("name", _softmax_solutions())
def test_every_softmax_checker_rejects_a_naive_and_a_mean_shifted_softmax(name, shift, capsys):
    """N1: the reference solution itself with exp of the unshifted scores (naive) or of the scores
    minus their mean overflows on one input of every checker whose exercise computes a softmax."""
    fn = _variant(name, shift)
    getattr(checks, f"check_{name}")(fn)
    out = capsys.readouterr().out
    assert out.startswith("❌"), (name, shift, out)


def test_a_blocked_key_dominates_a_query_in_the_causal_cases():
    """N2: one causal case has a query whose only visible score (≈ −1000) lies ~700 below a blocked one:
    far enough that a finite fill like −100 or −1000 hands the weight to the future, close enough
    (< 745, exp's underflow) that "softmax, zero the future, renormalise" (exact, ch07) stays exact."""
    (case,) = [c for c in checks._causal_cases() if c.label.startswith(checks._BLOCKED)]
    Q, K, _ = case.args
    s = Q @ K.T / np.sqrt(Q.shape[-1])
    keep = _tril(len(Q))
    visible_max = np.where(keep, s, -np.inf).max(axis=-1)
    gap = np.where(keep, -np.inf, s).max(axis=-1) - visible_max
    assert 600 < gap.max() < 740
    assert visible_max[np.argmax(gap)] < -900


@pytest.mark.parametrize("limit", [None, float("inf")])
def test_time_limit_none_or_inf_is_no_limit(limit, capsys):
    """N9: float("inf") used to crash setitimer, reported as the learner's OverflowError."""
    checks.check_softmax(copied("softmax"), time_limit=limit)
    assert capsys.readouterr().out.startswith("✅")


@pytest.mark.parametrize("limit", [1e12, 1e-9, 1e9])
def test_time_limit_out_of_range_is_refused(limit):
    with pytest.raises(ValueError, match="time_limit must be between"):
        checks.check_softmax(copied("softmax"), time_limit=limit)


def test_module_time_limit_inf_is_no_limit_and_a_string_is_refused(monkeypatch, capsys):
    monkeypatch.setattr(checks, "TIME_LIMIT", float("inf"))
    checks.check_softmax(copied("softmax"))
    assert capsys.readouterr().out.startswith("✅")
    monkeypatch.setattr(checks, "TIME_LIMIT", "5")
    with pytest.raises(ValueError, match="checks.TIME_LIMIT"):
        checks.check_softmax(copied("softmax"))



def softmax_kept_return_none(scores):
    # 在这里写你的代码
    e = np.exp(scores - scores.max(-1, keepdims=True))
    weights = e / e.sum(-1, keepdims=True)  # noqa: F841 - computed, never returned: the mistake under test
    return None


def softmax_returns_print(scores):
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return print(e / e.sum(-1, keepdims=True), end="")


def softmax_starter(scores):
    # 在这里写你的代码
    return None


def test_code_above_the_starters_return_none_is_told_to_return_the_result(capsys):
    """The likeliest forgotten return: the learner writes the body above the starter's ``return None`` and
    leaves that line (or writes ``return print(...)``).  That is ❌ with the line to change, not ⏳ forever;
    the untouched starter stays ⏳."""
    from checktools import run_checker
    for fn in (softmax_kept_return_none, softmax_returns_print):
        out = run_checker(checks.check_softmax, fn, capsys=capsys)
        verdict = out[out.find("❌"):]            # after whatever the function printed
        assert verdict.startswith("❌ 你的函数在「") and "return None" in verdict and "return Z" in verdict, out
        assert "⏳" not in out
    assert run_checker(checks.check_softmax, softmax_starter, capsys=capsys).startswith("⏳")
