"""ch01 exercises: predicted shapes and permutation equivariance.

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
# permutation equivariance
# ---------------------------------------------------------------------------

def test_permuted_cases_really_are_recomputed_outputs():
    # the fact the exercise teaches, checked on the checker's own cases
    for case in checks._ch01_permuted_cases():
        Z, perm = case.args
        assert np.allclose(case.expected, Z[perm])
        assert not np.allclose(case.expected, Z[np.argsort(perm)])  # inverse is a different answer


def test_reference_permutation_passes(capsys):
    assert checks._ch01_check_permuted_output(solutions.permuted_output).status == "passed"
    assert capsys.readouterr().out.startswith("✅")


def test_permutation_starter_pending(capsys):
    def my_permuted_output(Z, perm):
        return None
    checks.check_permuted_output(my_permuted_output)
    assert capsys.readouterr().out.startswith("⏳ 还没完成")


def _loop_answer(Z, perm):
    out = np.empty_like(Z)
    for i, p in enumerate(perm):
        out[i] = Z[p]
    return out


PERM_CASES = [
    (_loop_answer, "passed", None),
    (lambda Z, perm: np.take(Z, perm, axis=0), "passed", None),
    (lambda Z, perm: Z, "failed", "perm_unchanged"),
    (lambda Z, perm: Z.copy(), "failed", "perm_unchanged"),
    (lambda Z, perm: Z[np.argsort(perm)], "failed", "perm_inverse"),
    (lambda Z, perm: Z[:, perm], "failed", "perm_columns"),
    (lambda Z, perm: Z[::-1], "failed", None),
    (lambda Z, perm: Z[perm].T, "failed", None),
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


@pytest.mark.parametrize("name, n_checked", [("01_tokens_to_qkv.ipynb", 3), ("02_dot_product_scores.ipynb", 3)])
def test_committed_exercises_are_pending_and_starters_do_not_dictate(name, n_checked):
    """A predict-first exercise must not show its answer before the learner predicts."""
    cells = _exercise_cells(name)
    assert len(cells) == n_checked
    for cell in cells:
        src = "".join(cell["source"])
        text = "".join("".join(o.get("text", "")) for o in cell["outputs"])
        assert text.startswith("⏳"), (src, text)
        for formula in ("@", "K.T", "swapaxes", "perm]", "(10, 512)", '["k2", "k1", "k3"]', '["k1", "k3", "k2"]', "np.dot"):
            assert formula not in src, (formula, src)
