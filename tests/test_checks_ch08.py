"""ch08 exercises (issue 11): ∂(−log α_t)/∂s checked against finite differences;
predicted depth of local attention; the softmax-backward starter holds no formula."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from checktools import assert_exercises_pending, assert_wrong, catalogue_tests, copied as _copied, quoted_names
from checktools import assert_hints_exercised
from checktools import run_checker as _verdict
from helpers import checks, efficiency, solutions

NB08 = Path(__file__).resolve().parent.parent / "notebooks" / "08_why_self_attention.ipynb"


def _alpha(s):
    e = np.exp(s - np.max(s))
    return e / e.sum()


def _onehot(s, t):
    e = np.zeros(len(s))
    e[t] = 1.0
    return e


def via_jacobian(s, t):
    a = _alpha(np.asarray(s, dtype=float))
    g = -_onehot(s, t) / a[t]                  # ∂L/∂α
    J = np.diag(a) - np.outer(a, a)
    return J.T @ g


def via_logsumexp(s, t):
    s = np.asarray(s, dtype=float)
    return _alpha(s) - _onehot(s, t)


def naive_exp(s, t):
    """α − e_t with np.exp(s) straight away (no max subtraction): overflows near 800."""
    e = np.exp(np.asarray(s, dtype=float))
    return e / e.sum() - _onehot(s, t)


def mean_shift(s, t):
    """α − e_t with exp(s − mean(s)): exact in exact arithmetic, overflows on a row spanning 2000 (round 3, N1)."""
    s = np.asarray(s, dtype=float)
    e = np.exp(s - s.mean())
    return e / e.sum() - _onehot(s, t)


GRAD_RIGHT = {"reference": _copied("attend_loss_grad"), "Jacobian": via_jacobian, "log-sum-exp": via_logsumexp}

GRAD_WRONG = {
    "nll_sign": [lambda s, t: _onehot(s, t) - _alpha(s)],
    "nll_dalpha": [lambda s, t: -_onehot(s, t) / _alpha(s)[t]],
    "nll_forgot_onehot": [lambda s, t: _alpha(s)],
    "nll_diag_only": [lambda s, t: -_onehot(s, t) * (1 - _alpha(s)[t])],
    "nll_forgot_softmax": [lambda s, t: -_onehot(s, t)],
    "nll_overflow": [naive_exp],
    "softmax_subtract_mean": [mean_shift],
}


def test_reference_matches_finite_differences():
    rng = np.random.default_rng(5)
    for n in (1, 3, 7):
        s = rng.standard_normal(n)
        for t in range(n):
            fd = checks.finite_difference_grad(lambda v: -np.log(_alpha(v)[t]), s)
            assert np.allclose(solutions.attend_loss_grad(s, t), fd, atol=1e-8)


def my_attend_loss_grad(scores_row, target):
    return None


test_attend_loss_grad_right, test_attend_loss_grad_wrong, test_attend_loss_grad_pending = catalogue_tests(
    checks.check_attend_loss_grad, GRAD_RIGHT, GRAD_WRONG, my_attend_loss_grad)


# ---------------------------------------------------------------------------
# predicted depth of local attention
# ---------------------------------------------------------------------------

def test_window_answer_is_the_bfs_answer():
    assert efficiency.shortest_path_lengths(efficiency.window_edges(20, 3))[0, 19] == 7


@pytest.mark.parametrize("answer,key", [
    (19, "window_rnn"), (1, "window_full"), (6, "window_floor"), (19 / 3, "window_not_int"),
    (6.33, "window_not_int"), (20 / 3, "window_count_tokens"), (5, "window_other"), (10, "window_other"),
    (6.999, "window_not_int"), (7.004, "window_not_int"), (6.67, "window_count_tokens"),
])  # the same list as WINDOW_WRONG below
def test_window_wrong(answer, key, capsys):
    out = _verdict(checks.check_window_layers, answer, capsys=capsys)
    assert_wrong(out, key)


@pytest.mark.parametrize("answer", [7, 7.0, np.int64(7), np.array(7), np.array(7.0)])  # 0-d arrays: finding 38
def test_window_right(answer, capsys):
    assert _verdict(checks.check_window_layers, answer, capsys=capsys).startswith("✅")


@pytest.mark.parametrize("answer", ["7", True, [7], np.array([7]), np.array(True), float("nan")])
def test_window_bad_format(answer, capsys):
    out = _verdict(checks.check_window_layers, answer, capsys=capsys)
    assert out.startswith("❌") and "整数" in out


def test_window_pending(capsys):
    assert _verdict(checks.check_window_layers, None, capsys=capsys).startswith("⏳")


# ---------------------------------------------------------------------------
# the chapter's starters and committed outputs
# ---------------------------------------------------------------------------

def _cells():
    return json.loads(NB08.read_text(encoding="utf-8"))["cells"]


def test_backward_starter_and_prompt_do_not_give_the_formula():
    for cell in _cells():
        src = "".join(cell["source"])
        if "my_softmax_backward" in src or "练习 1" in src:
            for formula in ("g − α·g", "g - α·g", "Σ_m α_m g_m", "np.dot", "a * (g"):
                assert formula not in src, (formula, src)


def test_exercise_outputs_are_pending():
    assert_exercises_pending(NB08)


def test_every_ch08_hint_is_exercised():
    assert_hints_exercised("ch08", quoted_names(__file__))


WINDOW_WRONG = [(19, "window_rnn"), (1, "window_full"), (6, "window_floor"), (19 / 3, "window_not_int"),
                (6.33, "window_not_int"), (20 / 3, "window_count_tokens"), (5, "window_other"), (10, "window_other"),
                (6.999, "window_not_int"), (7.004, "window_not_int"), (6.67, "window_count_tokens")]

def back_mean_not_dot(a, g):
    return a * (g - g.mean())


def test_softmax_backward_mean_instead_of_weighted_mean(capsys):
    out = _verdict(checks.check_softmax_backward, back_mean_not_dot, capsys=capsys)
    assert_wrong(out, "backward_mean_not_dot")


#: the catalogue (checker, wrong answer, intended hint) counted by tests/test_checks.py
MISTAKES = ([("softmax_backward", back_mean_not_dot, "backward_mean_not_dot")] + [("attend_loss_grad", f, key) for key, fs in GRAD_WRONG.items() for f in fs]
            + [("window_layers", a, key) for a, key in WINDOW_WRONG])


@pytest.mark.parametrize("name", ["attend_weights", "batched_self_attention", "padding_mask", "attend_loss_grad"])
def test_show_solution_of_h8_exercises_runs_and_passes(name, capsys):
    checks.show_solution(name)
    out = capsys.readouterr().out
    ns: dict = {}
    exec(out, ns)
    getattr(checks, f"check_{name}")(ns[name])
    assert capsys.readouterr().out.startswith("✅")


# --- finite_difference_grad never returns a silent wrong gradient (issue 14) ---

def test_finite_difference_grad_matches_the_analytic_gradient():
    x = np.array([1.0, -2.0, 0.5])
    g = checks.finite_difference_grad(lambda v: float(np.sum(v ** 3)), x)
    assert np.allclose(g, 3 * x ** 2, atol=1e-6)
    assert checks.finite_difference_grad(lambda v: float(np.sum(v ** 2)), x.astype(np.float32)).dtype == np.float64


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(x=np.array([1e12, 1.0]), eps=1e-6), ValueError, r"eps=1e-06 is below the float64 resolution of x at index \(0,\)"),
    (dict(x=np.array([1.0, 2.0]), eps=0.0), ValueError, "eps must be between"),
    (dict(x=np.array([1.0, 2.0]), eps=1e-300), ValueError, "eps must be between"),
    (dict(x=np.array([1.0, np.nan])), ValueError, "x contains NaN"),
    (dict(x="12"), TypeError, "x must be an array"),
])
def test_finite_difference_grad_refuses_steps_that_cannot_work(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        checks.finite_difference_grad(lambda v: float(np.sum(v ** 2)), **kwargs)


def test_finite_difference_grad_refuses_a_function_that_returns_nan_or_a_vector():
    with pytest.raises(ValueError, match=r"f\(x \+ eps\) must be a finite number"):
        checks.finite_difference_grad(lambda v: float("nan"), np.ones(2))
    with pytest.raises(TypeError, match=r"f\(x \+ eps\) must be a real number"):
        checks.finite_difference_grad(lambda v: v, np.ones(2))
    with pytest.raises(TypeError, match="f must be a function"):
        checks.finite_difference_grad(None, np.ones(2))


def test_finite_difference_grad_refuses_a_change_lost_in_f_rounding():
    """N5: f ≈ 1e12 hides the slope 4 of the second entry at eps=1e-6 (it came out exactly 0)."""
    f = lambda v: float(v @ v)  # noqa: E731
    x = np.array([1e6, 2.0])
    with pytest.raises(ValueError, match=r"f's rounding.*eps"):
        checks.finite_difference_grad(f, x)
    g = checks.finite_difference_grad(f, x, eps=1e-2)
    assert np.allclose(g, [2e6, 4.0], rtol=1e-3)
    # a slope that is truly 0 (f does not depend on x[1], or is symmetric there) is still returned
    assert np.allclose(checks.finite_difference_grad(lambda v: float(v[0] ** 2), np.array([1.0, 2.0])), [2.0, 0.0])
    assert checks.finite_difference_grad(lambda v: 1.0, np.array([1.0, 2.0])).tolist() == [0.0, 0.0]
