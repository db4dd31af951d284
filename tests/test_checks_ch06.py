"""ch06 exercises (issue 11): choose W_Q, W_K so that token i attends to token j;
self-attention on a batch (b, n, d_model).  Every wrong answer a learner plausibly
writes gets its intended verdict."""

from __future__ import annotations

import numpy as np
import pytest

import helpers as h
from checktools import assert_exercises_pending, assert_wrong, catalogue_tests, copied as _copied, quoted_names
from checktools import assert_hints_exercised
from checktools import run_checker
from helpers import checks, solutions


def _verdict(check, fn, capsys):
    return run_checker(check, fn, capsys=capsys)


# ---------------------------------------------------------------------------
# choose W_Q, W_K
# ---------------------------------------------------------------------------

def _probe_weights(X, i, j, d_k, s=3.0):
    """The chapter's construction: W_Q = s·x̂_i ⊗ u, W_K = s·x̂_j ⊗ u (directions of the rows of X)."""
    u = np.zeros(d_k)
    u[0] = 1.0
    q_hat = X[i] / np.linalg.norm(X[i])
    k_hat = X[j] / np.linalg.norm(X[j])
    return s * np.outer(q_hat, u), s * np.outer(k_hat, u)


def _lstsq_weights(X, i, j, d_k, s=4.0):
    """Solve X W = T with np.linalg.lstsq: T has s in row i (queries) / row j (keys), column 0."""
    T_Q, T_K = np.zeros((X.shape[0], d_k)), np.zeros((X.shape[0], d_k))
    T_Q[i, 0] = T_K[j, 0] = s
    return np.linalg.lstsq(X, T_Q, rcond=None)[0], np.linalg.lstsq(X, T_K, rcond=None)[0]


ATTEND_RIGHT = {
    "reference (pseudo-inverse)": _copied("attend_weights"),
    "list instead of tuple": lambda X, i, j, d_k: list(_copied("attend_weights")(X, i, j, d_k)),
    "float32 weights": lambda X, i, j, d_k: tuple(w.astype(np.float32) for w in _copied("attend_weights")(X, i, j, d_k)),
    "least squares instead of pinv": lambda X, i, j, d_k: _lstsq_weights(X, i, j, d_k),
}

ATTEND_WRONG = {
    "attend_not_pair": [
        lambda X, i, j, d_k: _probe_weights(X, i, j, d_k, s=4.0)[0],
        lambda X, i, j, d_k: (*_probe_weights(X, i, j, d_k, s=4.0), np.eye(X.shape[1])),
    ],
    "attend_shape": [
        lambda X, i, j, d_k: tuple(w.T for w in _probe_weights(X, i, j, d_k, s=4.0)),
        lambda X, i, j, d_k: (np.eye(X.shape[1]), np.eye(X.shape[1])),
    ],
    "attend_swapped": [lambda X, i, j, d_k: _probe_weights(X, j, i, d_k, s=4.0)],
    "attend_weak": [lambda X, i, j, d_k: _probe_weights(X, i, j, d_k, s=0.9)],
    "attend_self": [lambda X, i, j, d_k: _probe_weights(X, i, i, d_k, s=4.0)],
    "attend_other": [
        lambda X, i, j, d_k: _probe_weights(X, i, (j + 1) % X.shape[0] if (j + 1) % X.shape[0] != i
                                            else (j + 2) % X.shape[0], d_k, s=4.0),
    ],
    "attend_nonfinite": [lambda X, i, j, d_k: (np.full((X.shape[1], d_k), np.nan),) * 2],
    # the chapter's probes along x̂_i and x̂_j pass the first four sentences but not the near copy of x_j
    "attend_near_copy": [lambda X, i, j, d_k: _probe_weights(X, i, j, d_k, s=4.0),
                         lambda X, i, j, d_k: tuple(w.astype(np.float32) for w in _probe_weights(X, i, j, d_k, s=6.0))],
}


def my_attend_weights(X, i, j, d_k):
    return None


test_attend_weights_right, test_attend_weights_wrong, test_attend_weights_pending = catalogue_tests(
    checks.check_attend_weights, ATTEND_RIGHT, ATTEND_WRONG, my_attend_weights)


def test_attend_weights_handmade_example():
    # the unchanged chapter example (它 → 小猫) aims at the wrong word in the first case
    X = h.token_inputs(h.SENTENCE_CAT_SHORT, 16)
    W_Q, W_K = _probe_weights(X, 4, 0, 8, s=4.0)
    A = h.softmax((X @ W_Q) @ (X @ W_K).T / np.sqrt(8))
    assert A[4, 0] > 0.9


# ---------------------------------------------------------------------------
# batched self-attention
# ---------------------------------------------------------------------------

def _softmax(s, axis=-1):
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def loop_over_sentences(X, W_Q, W_K, W_V):
    out = []
    for x in X:
        Q, K, V = x @ W_Q, x @ W_K, x @ W_V
        out.append(_softmax(Q @ K.T / np.sqrt(K.shape[-1])) @ V)
    return np.stack(out)


def einsum_version(X, W_Q, W_K, W_V):
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    s = np.einsum("bqd,bkd->bqk", Q, K) / np.sqrt(Q.shape[-1])
    return _softmax(s) @ V


def transpose_version(X, W_Q, W_K, W_V):
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    return _softmax(Q @ K.transpose(0, 2, 1) / np.sqrt(Q.shape[-1])) @ V


BATCH_RIGHT = {
    "reference": _copied("batched_self_attention"),
    "loop over sentences": loop_over_sentences,
    "einsum": einsum_version,
    "transpose(0, 2, 1)": transpose_version,
}


def _wrong(**kw):
    def f(X, W_Q, W_K, W_V):
        Q, K, V = X @ W_Q, X @ W_K, X @ W_V
        d_k = kw.get("d_k", lambda Q, X: Q.shape[-1])(Q, X)
        s = Q @ np.swapaxes(K, -1, -2)
        if kw.get("scale", True):
            s = s / np.sqrt(d_k)
        w = _softmax(s, axis=kw.get("axis", -1))
        return w if kw.get("ret") == "w" else w @ V
    return f


def k_dot_t(X, W_Q, W_K, W_V):
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    return _softmax(Q @ K.T / np.sqrt(Q.shape[-1])) @ V


def no_keepdims(X, W_Q, W_K, W_V):
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1)) @ V


def flattened(X, W_Q, W_K, W_V):
    b, n, d = X.shape
    x = X.reshape(b * n, d)
    Q, K, V = x @ W_Q, x @ W_K, x @ W_V
    return (_softmax(Q @ K.T / np.sqrt(Q.shape[-1])) @ V).reshape(b, n, -1)


def batched_naive(X, W_Q, W_K, W_V):
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    e = np.exp(Q @ np.swapaxes(K, 1, 2) / np.sqrt(Q.shape[-1]))
    return e / e.sum(axis=-1, keepdims=True) @ V


def batched_mean_shift(X, W_Q, W_K, W_V):
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    s = Q @ np.swapaxes(K, 1, 2) / np.sqrt(Q.shape[-1])
    e = np.exp(s - s.mean(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) @ V


BATCH_WRONG = {
    "softmax_overflow": [batched_naive],          # round 3, N1
    "softmax_subtract_mean": [batched_mean_shift],
    "batched_k_transpose": [k_dot_t],
    "batched_softmax_axis": [_wrong(axis=1), _wrong(axis=0)],
    "batched_dk_axis": [_wrong(d_k=lambda Q, X: Q.shape[1]), _wrong(d_k=lambda Q, X: Q.shape[0])],
    "scaled_by_d_model": [_wrong(d_k=lambda Q, X: X.shape[-1])],
    "forgot_sqrt_dk": [_wrong(scale=False)],
    "returned_weights": [_wrong(ret="w")],
    "batched_mixed_sentences": [flattened],
    "returned_tuple": [lambda *a: (transpose_version(*a), None)],
}


def my_batched_self_attention(X, W_Q, W_K, W_V):    # the starter
    return None


test_batched_right, test_batched_wrong, test_batched_pending = catalogue_tests(
    checks.check_batched_self_attention, BATCH_RIGHT, BATCH_WRONG, my_batched_self_attention)


def test_no_keepdims_is_told_where(capsys):
    out = _verdict(checks.check_batched_self_attention, no_keepdims, capsys)
    assert out.startswith("❌") and "keepdims" in out, out


def test_batched_cases_are_not_saturated():
    for case in checks._ch06_batched_cases():
        X, W_Q, W_K, _ = (np.asarray(a, dtype=float) for a in case.args)
        A = h.self_attention(X, W_Q, W_K, np.eye(W_Q.shape[0])[:, :1])[1]
        if A.shape[-1] > 1 and not case.label.startswith(checks._SPREAD):   # that one is ±1000 on purpose
            assert A.max() < 0.99, case.label


def test_every_ch06_hint_is_exercised():
    assert_hints_exercised("ch06", quoted_names(__file__))


#: the catalogue (checker, wrong answer, intended hint) counted by tests/test_checks.py
MISTAKES = ([("attend_weights", f, key) for key, fs in ATTEND_WRONG.items() for f in fs]
            + [("batched_self_attention", f, key) for key, fs in BATCH_WRONG.items() for f in fs])


def test_committed_exercise_outputs_are_pending():
    """Committed outputs of the check cells show the pending state, never a verdict or an answer."""
    assert_exercises_pending("06_full_self_attention.ipynb")


def test_checks_module_defines_every_name_once():
    """Chapter sections are appended to one module: a second `def _x` would silently replace the first."""
    import ast
    import collections
    from pathlib import Path
    tree = ast.parse(Path(checks.__file__).read_text(encoding="utf-8"))
    names = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert [k for k, v in collections.Counter(names).items() if v > 1] == []


def test_batched_calling_the_course_implementation_is_told(capsys):
    def my_batched_self_attention(X, W_Q, W_K, W_V):
        return h.self_attention(X, W_Q, W_K, W_V)[0]
    out = _verdict(checks.check_batched_self_attention, my_batched_self_attention, capsys)
    assert out.startswith("❌") and "self_attention" in out, out
