"""ch02 exercises: rank keys by dot product and by cosine; scores on batched input.

Every plausible wrong answer (written the way a learner would write it) gets its intended verdict."""

from __future__ import annotations

import numpy as np
import pytest

import helpers as h
from helpers import checks, solutions

DOT, COS = solutions.dot_cos_ranking()


def test_reference_ranking_matches_the_numbers():
    q, keys = checks.RANKING_TASK["q"], checks.RANKING_TASK["keys"]
    dots = {k: q @ v for k, v in keys.items()}
    coss = {k: q @ v / np.linalg.norm(q) / np.linalg.norm(v) for k, v in keys.items()}
    assert DOT == sorted(dots, key=lambda k: -dots[k])
    assert COS == sorted(coss, key=lambda k: -coss[k])
    assert DOT[0] != COS[0]  # the point of the exercise: the winners differ


def test_reference_ranking_passes(capsys):
    assert checks._ch02_check_dot_cos_ranking(DOT, COS).status == "passed"
    assert checks._ch02_check_dot_cos_ranking(("K2", " k1", "k3"), COS).status == "passed"  # case/space tolerant
    # full-width letters and digits, what a Chinese IME in full-width mode types (issue 14 finding 38)
    full_width = [k.replace("k", "ｋ").replace("1", "１") for k in DOT]
    assert checks._ch02_check_dot_cos_ranking(full_width, COS).status == "passed"


def test_task_constants_are_read_only():
    """Issue 14 finding 1: the printed task is the checked task; nobody can change it in place."""
    with pytest.raises(ValueError, match="read-only"):
        checks.RANKING_TASK["q"][0] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        checks.RANKING_TASK["keys"]["k2"] *= 0.1
    with pytest.raises(TypeError):
        checks.RANKING_TASK["keys"]["k4"] = np.ones(3)
    with pytest.raises(TypeError):
        checks.SHAPES_TASK["n"] = 5
    assert checks.SHAPES_TASK["n"] == 10 and sorted(checks.RANKING_TASK["keys"]) == ["k1", "k2", "k3"]


def test_ranking_starter_pending(capsys):
    assert checks.check_dot_cos_ranking(None, None) is None
    assert capsys.readouterr().out.startswith("⏳ 还没完成")


RANKING_CASES = [
    (COS, DOT, "ranking_swapped"),
    (DOT[::-1], COS, "ranking_ascending"),
    (DOT, COS[::-1], "ranking_ascending"),
    (COS, COS, "ranking_dot_like_cos"),
    (DOT, DOT, "ranking_cos_like_dot"),
    (DOT, ["k1", "k2", "k3"], "ranking_cos_wrong"),
    (["k1", "k2", "k3"], COS, "ranking_dot_wrong"),
    (DOT, None, "ranking_missing"),
    ("k2 k1 k3", COS, "ranking_format"),
    (["k2", "k1"], COS, "ranking_format"),
    (["k2", "k2", "k3"], COS, "ranking_format"),
    ([2, 1, 3], COS, "ranking_format"),
]


@pytest.mark.parametrize("dot, cos, verdict", RANKING_CASES)
def test_ranking_mistakes(dot, cos, verdict, capsys):
    out = checks._ch02_check_dot_cos_ranking(dot, cos)
    text = capsys.readouterr().out
    assert (out.status, out.mistake) == ("failed", verdict), text
    assert checks.HINTS[verdict] in text


# ---------------------------------------------------------------------------
# batched scores
# ---------------------------------------------------------------------------

def test_reference_batched_passes(capsys):
    assert checks._ch02_check_batched_scores(solutions.batched_scores).status == "passed"
    assert capsys.readouterr().out.startswith("✅")


def test_batched_starter_pending(capsys):
    def my_batched_scores(Q, K):
        return None
    checks.check_batched_scores(my_batched_scores)
    assert capsys.readouterr().out.startswith("⏳ 还没完成")


def _loop_over_batch(Q, K):
    if Q.ndim == 2:
        return Q @ K.T
    return np.stack([_loop_over_batch(q, k) for q, k in zip(Q, K)])


BATCHED_CASES = [
    (lambda Q, K: Q @ np.swapaxes(K, -1, -2), "passed", None),
    (lambda Q, K: np.matmul(Q, K.swapaxes(-2, -1)), "passed", None),
    (lambda Q, K: Q @ K.mT, "passed", None),
    (lambda Q, K: np.einsum("...nd,...md->...nm", Q, K), "passed", None),
    (_loop_over_batch, "passed", None),
    (lambda Q, K: Q @ K.T, "error", "batched_k_T"),
    (lambda Q, K: np.matmul(Q, np.transpose(K)), "error", "batched_k_T"),
    (lambda Q, K: Q @ K.transpose(0, 2, 1), "error", "batched_fixed_axes"),
    (lambda Q, K: Q @ np.swapaxes(K, 1, 2), "error", "batched_fixed_axes"),
    (lambda Q, K: np.einsum("bnd,bmd->bnm", Q, K), "error", "batched_fixed_axes"),
    (lambda Q, K: Q @ K, "error", "k_not_transposed"),
    (lambda Q, K: Q * K, "error", "scores_elementwise"),
    (lambda Q, K: K @ np.swapaxes(Q, -1, -2), "failed", "scores_swapped"),
    (lambda Q, K: Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1]), "failed", "scores_already_scaled"),
    (lambda Q, K: np.dot(Q, np.swapaxes(K, -1, -2)), "failed", "batched_np_dot"),
    (lambda Q, K: h.attention_scores(Q, K), "failed", "uses_course_impl"),
]


@pytest.mark.parametrize("fn, status, verdict", BATCHED_CASES)
def test_batched_mistakes(fn, status, verdict, capsys):
    out = checks._ch02_check_batched_scores(fn)
    text = capsys.readouterr().out
    assert (out.status, out.mistake) == (status, verdict), text
    if verdict:
        assert checks.HINTS[verdict] in text



#: this chapter's catalogue, read by tests/test_checks.py (every hint must be exercised somewhere)
MISTAKES = [("dot_cos_ranking", (d, c), v) for d, c, v in RANKING_CASES] + \
    [("batched_scores", f, v) for f, _, v in BATCHED_CASES if v]


def test_ranking_as_an_array_of_names_passes(capsys):
    """N10: names[np.argsort(...)] (a 1-D array of str) is a ranking too."""
    q, keys = checks.RANKING_TASK["q"], checks.RANKING_TASK["keys"]
    names = np.array(list(keys))
    K = np.array([keys[k] for k in names])
    dot = names[np.argsort(-(K @ q))]
    cos = names[np.argsort(-(K @ q / np.linalg.norm(K, axis=1)))]
    checks.check_dot_cos_ranking(dot, cos)
    assert capsys.readouterr().out.startswith("✅")
