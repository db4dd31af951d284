"""Chapter 10's checked exercises: reference passes, starter is pending, and a
catalogue of wrong answers (written the way a learner would write them), each
with the verdict it must get."""

from __future__ import annotations

import numpy as np
import pytest

from checktools import assert_wrong, copied, run_checker
from helpers import checks, induction, solutions

CHECKERS = {
    "previous_token_score": checks.check_previous_token_score,
    "induction_score": checks.check_induction_score,
    "same_token_score": checks.check_same_token_score,
}


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_reference_solution_passes(name, capsys):
    CHECKERS[name](getattr(solutions, name))
    out = capsys.readouterr()
    assert out.out.startswith("✅ 正确！在 "), out.out
    assert out.err == ""


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_starter_is_pending(name, capsys):
    def my_score(*args):
        # 在这里写你的代码
        return None

    assert CHECKERS[name](my_score) is None
    assert capsys.readouterr().out.startswith("⏳ 还没完成：函数 my_score")


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_solution_is_shown(name, capsys):
    checks.show_solution(name)
    out = capsys.readouterr().out
    assert f"def {name}(" in out


def test_solutions_agree_with_the_model_metrics():
    """The exercise answers equal helpers.induction's batch metrics on one sequence."""
    params = induction.load_weights()
    batch = induction.make_batch(1, 3)
    w = induction.forward(params, batch["tokens"])["weights"]
    src, dst, length = (int(batch[k][0]) for k in ("src", "dst", "length"))
    prev = induction.previous_token_scores(w)
    ind = induction.induction_scores(w, batch)
    same = induction.same_token_scores(w, batch)
    for layer in range(2):
        for head in range(2):
            a = w[0, layer, head]
            assert solutions.previous_token_score(a) == pytest.approx(prev[layer, head])
            assert solutions.induction_score(a, src, dst, length) == pytest.approx(ind[layer, head])
            assert solutions.same_token_score(a, src, dst, length) == pytest.approx(same[layer, head])


# --- wrong answers for the previous-token score --------------------------------

def prev_from_row0(weights):
    n = weights.shape[0]
    return np.mean([weights[i, i - 1] for i in range(n)])


def prev_diagonal(weights):
    return np.mean(np.diag(weights))


def prev_diagonal_from_1(weights):
    return np.mean([weights[i, i] for i in range(1, weights.shape[0])])


def prev_next_key(weights):
    n = weights.shape[0]
    return np.mean([weights[i, i + 1] for i in range(n - 1)])


def prev_transposed(weights):
    n = weights.shape[0]
    return np.mean([weights[i - 1, i] for i in range(1, n)])


def prev_whole(weights):
    return weights.mean()


def prev_sum(weights):
    n = weights.shape[0]
    return sum(weights[i, i - 1] for i in range(1, n))


def prev_array(weights):
    n = weights.shape[0]
    return weights[np.arange(1, n), np.arange(n - 1)]


def prev_vectorised_right(weights):
    return np.diagonal(weights, offset=-1).mean()


# --- wrong answers for the induction score -------------------------------------

def ind_same_token(weights, src, dst, length):
    return np.mean([weights[i, i - (dst - src)] for i in range(dst, dst + length)])


def ind_prev(weights, src, dst, length):
    return np.mean([weights[i, i - 1] for i in range(dst, dst + length)])


def ind_skip_first(weights, src, dst, length):
    return np.mean([weights[i, i - (dst - src) + 1] for i in range(dst + 1, dst + length)])


def ind_skip_last(weights, src, dst, length):
    return np.mean([weights[i, i - (dst - src) + 1] for i in range(dst, dst + length - 1)])


def ind_shifted_queries(weights, src, dst, length):
    # queries one step late, keys = the previous occurrence of the *previous* token
    return np.mean([weights[i, i - (dst - src)] for i in range(dst + 1, dst + length + 1)])


def ind_fixed_key(weights, src, dst, length):
    return np.mean([weights[i, src + 1] for i in range(dst, dst + length)])


def ind_sum(weights, src, dst, length):
    return sum(weights[i, i - (dst - src) + 1] for i in range(dst, dst + length))


def ind_array(weights, src, dst, length):
    q = np.arange(dst, dst + length)
    return weights[q, q - (dst - src) + 1]


def ind_past_end(weights, src, dst, length):
    # one query too many: runs past the end of the shortest sequence
    return np.mean([weights[i, i - (dst - src) + 1] for i in range(dst, dst + length + 3)])


def ind_two_off(weights, src, dst, length):
    return np.mean([weights[i, i - (dst - src) - 1] for i in range(dst, dst + length)])


def ind_row_max(weights, src, dst, length):
    return np.mean([weights[i].max() for i in range(dst, dst + length)])


def ind_divide_by_n(weights, src, dst, length):
    return sum(weights[i, i - (dst - src) + 1] for i in range(dst, dst + length)) / weights.shape[0]


def prev_hardcoded_24(weights):
    # cell 22's loop copied with the chapter's sequence length
    return np.mean([weights[i, i - 1] for i in range(1, 24)])


def prev_range_one_too_far(weights):
    # issue 14 finding 37: no 24 anywhere, the range runs one row past the end
    n = weights.shape[0]
    return np.mean([weights[i, i - 1] for i in range(1, n + 1)])


def prev_length_in_a_variable(weights):
    n = 24  # 第10章的序列长度
    return np.mean([weights[i, i - 1] for i in range(1, n)])


def prev_index_arrays_differ(weights):
    n = weights.shape[0]
    return weights[np.arange(1, n), np.arange(0, n)].mean()


def prev_one_element_array(weights):
    # issue 14 finding 36: the right number, wrapped in an array of one element
    n = weights.shape[0]
    return np.array([np.mean([weights[i, i - 1] for i in range(1, n)])])


def prev_divide_by_n(weights):
    return np.sum(np.diag(weights, -1)) / weights.shape[0]


def same_plus_one(weights, src, dst, length):
    # the induction score, copied from exercise 2
    return np.mean([weights[i, i - (dst - src) + 1] for i in range(dst, dst + length)])


def same_skip_first(weights, src, dst, length):
    return np.mean([weights[i, i - (dst - src)] for i in range(dst + 1, dst + length)])


def same_fixed_key(weights, src, dst, length):
    return np.mean([weights[i, src] for i in range(dst, dst + length)])


def same_array(weights, src, dst, length):
    q = np.arange(dst, dst + length)
    return weights[q, q - (dst - src)]


def same_vectorised_right(weights, src, dst, length):
    q = np.arange(dst, dst + length)
    return weights[q, q - dst + src].mean()


def ind_vectorised_right(weights, src, dst, length):
    q = np.arange(dst, dst + length)
    return weights[q, q - dst + src + 1].mean()


MISTAKES = [
    ("previous_token_score", prev_from_row0, "prev_includes_row0"),
    ("previous_token_score", prev_diagonal, "prev_diagonal"),
    ("previous_token_score", prev_diagonal_from_1, "prev_diagonal"),
    ("previous_token_score", prev_next_key, "prev_future"),
    ("previous_token_score", prev_transposed, "prev_future"),
    ("previous_token_score", prev_whole, "prev_whole_matrix"),
    ("previous_token_score", prev_sum, "score_sum"),
    ("previous_token_score", prev_array, "score_not_averaged"),
    ("previous_token_score", prev_hardcoded_24, "prev_hardcoded_length"),
    ("previous_token_score", prev_length_in_a_variable, "prev_hardcoded_length"),
    ("previous_token_score", prev_range_one_too_far, "prev_range_off_by_one"),
    ("previous_token_score", prev_index_arrays_differ, "index_arrays_mismatch"),
    ("previous_token_score", prev_divide_by_n, "prev_includes_row0"),
    ("same_token_score", same_plus_one, "same_plus_one"),
    ("same_token_score", ind_prev, "ind_previous_token"),
    ("same_token_score", same_skip_first, "ind_query_range"),
    ("same_token_score", same_fixed_key, "ind_fixed_key"),
    ("same_token_score", same_array, "score_not_averaged"),
    ("induction_score", ind_two_off, "ind_two_off"),
    ("induction_score", ind_row_max, "ind_row_max"),
    ("induction_score", ind_divide_by_n, "ind_divide_by_n"),
    ("induction_score", ind_same_token, "ind_same_token"),
    ("induction_score", ind_prev, "ind_previous_token"),
    ("induction_score", ind_skip_first, "ind_query_range"),
    ("induction_score", ind_skip_last, "ind_query_range"),
    ("induction_score", ind_shifted_queries, "ind_query_range"),
    ("induction_score", ind_fixed_key, "ind_fixed_key"),
    ("induction_score", ind_sum, "score_sum"),
    ("induction_score", ind_array, "score_not_averaged"),
    ("induction_score", ind_past_end, "ind_query_range"),
]


@pytest.mark.parametrize("checker,fn,hint", MISTAKES, ids=[f"{c}-{f.__name__}" for c, f, _ in MISTAKES])
def test_known_mistake_gets_its_hint(checker, fn, hint, capsys):
    out = run_checker(CHECKERS[checker], fn, capsys=capsys)  # also asserts nothing on stderr
    assert_wrong(out, hint)
    others = [k for k, v in checks.HINTS.items() if v in out and k != hint]
    assert others == [], (others, out)
    assert "Traceback" not in out


@pytest.mark.parametrize("checker,fn", [("previous_token_score", prev_vectorised_right),
                                        ("induction_score", ind_vectorised_right),
                                        ("same_token_score", same_vectorised_right)])
def test_vectorised_right_answers_pass(checker, fn, capsys):
    CHECKERS[checker](fn)
    assert capsys.readouterr().out.startswith("✅")


def test_one_element_array_is_told_to_return_a_number(capsys):
    out = run_checker(checks.check_previous_token_score, prev_one_element_array, capsys=capsys)
    assert "你的结果是一个只含 1 个元素的数组（形状 (1,)），应该是一个数：用 .item() 取出它" in out, out


def _follow_advice(out, x):
    """Apply the extraction the verdict ``out`` recommends to the learner's value ``x``."""
    for advice, take in [("np.asarray(x).item()", lambda v: np.asarray(v).item()), ("x[0]", lambda v: v[0]),
                         (".item()", lambda v: v.item())]:
        if advice in out:
            return take(x)
    raise AssertionError(f"no extraction advice in: {out}")


WRAPPERS = {"array": lambda v: np.array([v]), "array_2d": lambda v: np.array([[v]]), "list": lambda v: [v],
            "tuple": lambda v: (v,), "nested_list": lambda v: [[v]],
            "keepdims_mean": lambda v: np.mean(np.array([[v]]), axis=-1, keepdims=True)}


@pytest.mark.parametrize("wrap", sorted(WRAPPERS))
@pytest.mark.parametrize("name", ["previous_token_score", "mha_param_count"])
def test_scalar_advice_works_on_the_value_it_describes(name, wrap, capsys):
    """Final review W1: "用 float(...) 取出那个数" failed on the value it described (NumPy 2 refuses
    float() of a 1-element array; float((x,)) is a TypeError too).  Following the hint now gives the number."""
    reference = copied(name)   # the learner's own code, not the course's solutions module
    check = checks.check_mha_param_count if name == "mha_param_count" else CHECKERS[name]
    learner = {"previous_token_score": lambda w: WRAPPERS[wrap](reference(w)),
               "mha_param_count": lambda d, h, dh, b: WRAPPERS[wrap](reference(d, h, dh, b))}[name]
    out = run_checker(check, learner, capsys=capsys)
    assert out.startswith("❌") and "float(" not in out, out
    args = (np.full((4, 4), 0.25),) if name == "previous_token_score" else (64, 8, 8, True)
    fixed = _follow_advice(out, learner(*args))
    assert isinstance(fixed, (int, float)) and fixed == reference(*args)
    assert run_checker(check, lambda *a: _follow_advice(out, learner(*a)), capsys=capsys).startswith("✅")


# issue 14 finding 38: unambiguous spellings (full width, brackets, 档) are read; ambiguous ones are not
ABLATION_VERDICTS = [("C", "✅", None), (" c ", "✅", None), ("Ｃ", "✅", None), ("C 档", "✅", None),
                     ("(C)", "✅", None), ("（Ｃ）", "✅", None), ("C.", "✅", None), ("选C", "❌", "ablation_not_choice"),
                     ("C 或 D", "❌", "ablation_not_choice"), ("CD", "❌", "ablation_not_choice"), ("A", "❌", "ablation_band"), ("B", "❌", "ablation_band"),
                     ("D", "❌", "ablation_band"), ("E", "❌", "ablation_not_choice"), (3.7, "❌", "ablation_not_choice"),
                     ("3.7", "❌", "ablation_not_choice")]


@pytest.mark.parametrize("answer,start,hint", ABLATION_VERDICTS)
def test_ablation_prediction(answer, start, hint, capsys):
    checks.check_ablation_prediction(answer)
    out = capsys.readouterr().out
    assert out.startswith(start), out
    if hint:
        assert checks.HINTS[hint] in out


#: the catalogue (checker, wrong answer, intended hint) counted by tests/test_checks.py (rebound, so the
#: parametrized function-answer test above keeps its own list)
MISTAKES = MISTAKES + [("ablation_prediction", a, h) for a, _, h in ABLATION_VERDICTS if h]


def test_ablation_prediction_pending(capsys):
    checks.check_ablation_prediction(None)
    assert capsys.readouterr().out.startswith("⏳ 还没完成")


def test_every_ch10_hint_is_catalogued():
    catalogued = {hint for _, _, hint in MISTAKES}
    assert catalogued == checks.CHAPTER_HINTS["ch10"]


def test_not_a_choice_names_the_variable_once(capsys):
    """Final review P6: "my_prediction = '选C'：my_prediction 要填…" repeated the name."""
    out = run_checker(checks.check_ablation_prediction, "选C", capsys=capsys)
    assert out.count("my_prediction") == 1, out
