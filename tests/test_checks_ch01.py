"""ch01 exercises: Q, K, V with nn.Linear-style weights, predicted shapes and permutation equivariance.

Every plausible wrong answer (written the way a learner would write it) gets its intended verdict."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import checks, solutions

RIGHT = solutions.qkv_shapes()


def _shapes(**changes):
    d = dict(RIGHT)
    d.update(changes)
    return d


def test_reference_shapes_pass(capsys):
    out = checks._ch01_check_qkv_shapes(RIGHT)
    assert out.status == "passed"
    assert capsys.readouterr().out.startswith("✅")


def test_starter_shapes_are_pending(capsys):
    starter = {k: None for k in ("X", "W_Q", "W_V", "Q", "K", "V")}
    assert checks.check_qkv_shapes(starter) is None
    assert capsys.readouterr().out.startswith("⏳ 还没完成")


SHAPE_CASES = [
    (_shapes(X=(512, 10)), "shapes_x_transposed"),
    (_shapes(W_Q=(64, 512)), "shapes_w_transposed"),
    (_shapes(W_Q=(10, 64)), "shapes_w_uses_n"),
    (_shapes(W_V=(512, 64)), "shapes_v_uses_dk"),
    (_shapes(W_V=(32, 512)), "shapes_w_transposed"),
    (_shapes(Q=(64, 10)), "shapes_output_transposed"),
    (_shapes(Q=(10, 512)), "shapes_not_projected"),
    (_shapes(Q=(512, 64)), "shapes_confused_with_w"),
    (_shapes(K=(10, 32)), "shapes_qk_uses_dv"),
    (_shapes(V=(10, 64)), "shapes_v_uses_dk"),
    (_shapes(V=(32, 10)), "shapes_output_transposed"),
    (_shapes(V=None), "shapes_missing"),
    (_shapes(X="10x512"), "shapes_format"),
    (_shapes(X=(10.0, 512)), "shapes_format"),
    (_shapes(X=(10, 512, 1)), "shapes_format"),
    ([(10, 512)], "shapes_not_dict"),
    ({**RIGHT, "W_K": (512, 64), "Z": (10, 32)}, "shapes_not_dict"),
    (_shapes(K=(10, 63)), None),  # wrong, no named mistake: generic hint
]


@pytest.mark.parametrize("answer, verdict", SHAPE_CASES)
def test_shape_mistakes(answer, verdict, capsys):
    out = checks._ch01_check_qkv_shapes(answer)
    text = capsys.readouterr().out
    assert out.status == "failed"
    assert out.mistake == verdict
    assert text.startswith("❌")
    if verdict:
        assert checks.HINTS[verdict] in text


def test_shapes_accept_lists_and_numpy_ints(capsys):
    answer = {k: [np.int64(a), b] for k, (a, b) in RIGHT.items()}
    assert checks._ch01_check_qkv_shapes(answer).status == "passed"


# ---------------------------------------------------------------------------
# projection with weights stored (d_out, d_model), like nn.Linear.weight
# ---------------------------------------------------------------------------

def test_reference_linear_projection_passes(capsys):
    assert checks._ch01_check_qkv_projection_linear(solutions.qkv_projection_linear).status == "passed"
    assert capsys.readouterr().out.startswith("✅")


def test_linear_starter_pending(capsys):
    def my_qkv_projection(X, Wt_Q, Wt_K, Wt_V):
        return None
    checks.check_qkv_projection_linear(my_qkv_projection)
    assert capsys.readouterr().out.startswith("⏳ 还没完成")


def test_linear_cases_store_the_transpose():
    for case in checks._ch01_linear_cases():
        X, Wq, Wk, Wv = case.args
        assert Wq.shape == (case.expected[0].shape[1], X.shape[1])
        assert np.allclose(case.expected[2], X @ Wv.T, atol=1e-4)


LINEAR_CASES = [
    (lambda X, Wq, Wk, Wv: (X @ Wq.T, X @ Wk.T, X @ Wv.T), "passed", None),
    (lambda X, Wq, Wk, Wv: tuple(np.matmul(X, np.transpose(W)) for W in (Wq, Wk, Wv)), "passed", None),
    (lambda X, Wq, Wk, Wv: tuple((W @ X.T).T for W in (Wq, Wk, Wv)), "passed", None),
    (lambda X, Wq, Wk, Wv: (X @ Wq, X @ Wk, X @ Wv), "error", "linear_forgot_T"),
    (lambda X, Wq, Wk, Wv: (Wq.T @ X, Wk.T @ X, Wv.T @ X), "error", "linear_forgot_T"),
    (lambda X, Wq, Wk, Wv: (Wq @ X.T, Wk @ X.T, Wv @ X.T), "failed", "linear_output_transposed"),
    (lambda X, Wq, Wk, Wv: (X * Wq, X * Wk, X * Wv), "error", "linear_elementwise"),
    (lambda X, Wq, Wk, Wv: (X @ Wq.T, X @ Wq.T, X @ Wv.T), "failed", "qkv_swapped_weights"),
    (lambda X, Wq, Wk, Wv: (X, X, X), "failed", "qkv_not_projected"),
    (lambda X, Wq, Wk, Wv: X @ Wq.T, "failed", "qkv_not_tuple"),
    (lambda X, Wq, Wk, Wv: [X @ Wq.T, X @ Wk.T, X @ Wv.T], "passed", None),
    (lambda X, Wq, Wk, Wv: (X @ Wq.T, X @ Wk.T, 2 * X @ Wv.T), "failed", None),
]


@pytest.mark.parametrize("fn, status, verdict", LINEAR_CASES)
def test_linear_mistakes(fn, status, verdict, capsys):
    out = checks._ch01_check_qkv_projection_linear(fn)
    text = capsys.readouterr().out
    assert (out.status, out.mistake) == (status, verdict), text
    if verdict:
        assert checks.HINTS[verdict] in text


def test_linear_forgot_T_is_caught_on_square_weights(capsys):
    """With d_model = d_k = d_v the missing transpose raises nothing; the value is diagnosed."""
    case = [c for c in checks._ch01_linear_cases() if "方阵" in c.label]
    assert case
    out = checks._ch01_check_qkv_projection_linear(
        lambda X, Wq, Wk, Wv: (X @ Wq, X @ Wk, X @ Wv) if X.shape[1] == Wq.shape[0] == Wq.shape[1]
        else (X @ Wq.T, X @ Wk.T, X @ Wv.T))
    assert (out.status, out.mistake) == ("failed", "linear_forgot_T"), capsys.readouterr().out


# ---------------------------------------------------------------------------
# permutation equivariance (restore the original output)
# ---------------------------------------------------------------------------

def test_permuted_cases_really_are_computed_outputs():
    # the fact the exercise teaches, checked on the checker's own cases
    for case in checks._ch01_permuted_cases():
        Z_new, perm = case.args
        assert np.allclose(case.expected, Z_new[np.argsort(perm)])
        assert not np.allclose(case.expected, Z_new[perm])  # the forward direction is a different answer


def test_reference_permutation_passes(capsys):
    assert checks._ch01_check_permuted_output(solutions.permuted_output).status == "passed"
    assert capsys.readouterr().out.startswith("✅")


def test_permutation_starter_pending(capsys):
    def my_original_output(Z_new, perm):
        return None
    checks.check_permuted_output(my_original_output)
    assert capsys.readouterr().out.startswith("⏳ 还没完成")


def _loop_answer(Z_new, perm):
    out = np.empty_like(Z_new)
    for i, p in enumerate(perm):
        out[p] = Z_new[i]
    return out


def _loop_forward(Z_new, perm):
    out = np.empty_like(Z_new)
    for i, p in enumerate(perm):
        out[i] = Z_new[p]
    return out


PERM_CASES = [
    (_loop_answer, "passed", None),
    (lambda Z_new, perm: Z_new[np.argsort(perm)], "passed", None),
    (lambda Z_new, perm: np.take(Z_new, np.argsort(perm), axis=0), "passed", None),
    (lambda Z_new, perm: Z_new, "failed", "perm_unchanged"),
    (lambda Z_new, perm: Z_new.copy(), "failed", "perm_unchanged"),
    (lambda Z_new, perm: Z_new[perm], "failed", "perm_wrong_direction"),
    (_loop_forward, "failed", "perm_wrong_direction"),
    (lambda Z_new, perm: Z_new[:, perm], "failed", "perm_columns"),
    (lambda Z_new, perm: Z_new[:, np.argsort(perm)], "failed", "perm_columns"),
    (lambda Z_new, perm: Z_new[::-1], "failed", None),
    (lambda Z_new, perm: Z_new[np.argsort(perm)].T, "failed", None),
]


@pytest.mark.parametrize("fn, status, verdict", PERM_CASES)
def test_permutation_mistakes(fn, status, verdict, capsys):
    out = checks._ch01_check_permuted_output(fn)
    text = capsys.readouterr().out
    assert (out.status, out.mistake) == (status, verdict), text
    if verdict:
        assert checks.HINTS[verdict] in text


#: this chapter's catalogue, read by tests/test_checks.py (every hint must be exercised somewhere)
MISTAKES = [("qkv_shapes", a, v) for a, v in SHAPE_CASES if v] + \
    [("qkv_projection_linear", f, v) for f, _, v in LINEAR_CASES if v] + \
    [("permuted_output", f, v) for f, _, v in PERM_CASES if v]


def test_no_checker_helper_is_defined_twice():
    """Chapter sections are appended to one module: a repeated private name silently replaces the earlier one."""
    import ast
    from pathlib import Path
    tree = ast.parse(Path(checks.__file__).read_text(encoding="utf-8"))
    names = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert sorted({n for n in names if names.count(n) > 1}) == []


def _exercise_cells(name):
    import json
    from pathlib import Path
    nb = Path(__file__).resolve().parents[1] / "notebooks" / name
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if c["cell_type"] == "code" and "checks.check_" in "".join(c["source"])]


@pytest.mark.parametrize("name, n_checked", [("01_tokens_to_qkv.ipynb", 3), ("02_dot_product_scores.ipynb", 2)])
def test_committed_exercises_are_pending_and_starters_do_not_dictate(name, n_checked):
    """A predict-first exercise must not show its answer before the learner predicts."""
    cells = _exercise_cells(name)
    assert len(cells) == n_checked
    for cell in cells:
        src = "".join(cell["source"])
        text = "".join("".join(o.get("text", "")) for o in cell["outputs"])
        assert text.startswith("⏳"), (src, text)
        for formula in ("@", ".T", "K.T", "swapaxes", "perm]", "argsort", "(10, 512)", '["k2", "k1", "k3"]', '["k1", "k3", "k2"]', "np.dot"):
            assert formula not in src, (formula, src)
