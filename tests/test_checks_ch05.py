"""ch05 exercises (issue 11): predict Z1 for a chosen α; predict Z1 after shifting every value vector;
choose α so that α V hits a target.  Every plausible wrong answer gets its intended verdict."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import helpers as h
from checktools import assert_exercises_pending, assert_hints_exercised, assert_wrong, run_checker
from helpers import checks

NB05 = Path(__file__).resolve().parents[1] / "notebooks" / "05_weighted_sum.ipynb"
V = h.SEED_EXAMPLE["V"]
Z1 = h.SEED_EXAMPLE["output"][0]
C = np.array([10.0, 0.0, 0.0])


def _verdict(check, arg, capsys):
    return run_checker(check, arg, capsys=capsys)


Z_WRONG = [([2.0, 5.0, 8.0], "z_columns"), ([8.0, 10.0, 12.0], "z_no_weights"), ([12.0, 15.0, 18.0], "z_sum_all"),
           ([1.0, 2.0, 3.0], "z_one_row"), ([7.0, 8.0, 9.0], "z_one_row"), ([4.0, 5.0], "z_shape"),
           (np.ones((2, 3)), "z_shape"), ("4, 5, 6", "vector_not_numbers"), ([4.01, 5.0, 6.0], "vector_close_arithmetic"),
           # final review M4: the answer is whole numbers, so being close is never a rounding issue
           ([4.05, 5.05, 6.05], "vector_close_arithmetic"), ([4.0, 5.0, 6.04], "vector_close_arithmetic"),
           # review P9: the source chapter's Z1 (its own α), typed or rounded
           ([4.1154, 5.1154, 6.1154], "z_original_alpha"), ([4.12, 5.12, 6.12], "z_original_alpha")]
SHIFT_WRONG = [(Z1, "shift_unchanged"), (Z1 + 3 * C, "shift_times_n"), (Z1 + C / 3, "shift_divided"),
               (Z1[:2], "z_shape"), ([14.1, 5.1, 6.1], "vector_close"),
               # M4: one decimal, cut off or rounded, is a rounding issue; two decimals off by 0.035 is not
               ([14.1, 5.12, 6.1], "vector_close"), ([14.15, 5.15, 6.15], "vector_close_arithmetic"),
               ([14.12, 5.12, 6.16], "vector_close_arithmetic")]
ALPHA_WRONG = [([0.5, 0.5, 0.5], "alpha_not_distribution"), ([1.5, -0.5, 0.0], "alpha_not_distribution"),
               ([0.5, 0.5], "alpha_not_distribution"), ([0.0, 0.5, 0.5, 0.0], "alpha_not_distribution"),
               ([0.5, 0.5, 0.0], "alpha_wrong_target"), ([0.0, 0.0, 1.0], "alpha_wrong_target"),
               ([1 / 3] * 3, "alpha_wrong_target"), (["a", "b", "c"], "vector_not_numbers")]

#: the catalogue (checker, wrong answer, intended hint) counted by tests/test_checks.py
MISTAKES = ([("z1_prediction", z, key) for z, key in Z_WRONG]
            + [("shift_prediction", z, key) for z, key in SHIFT_WRONG]
            + [("weights_for_target", a, key) for a, key in ALPHA_WRONG])

CHECKERS = {"z1_prediction": checks.check_z1_prediction, "shift_prediction": checks.check_shift_prediction,
            "weights_for_target": checks.check_weights_for_target}


@pytest.mark.parametrize("name,answer,key", MISTAKES)
def test_wrong(name, answer, key, capsys):
    out = _verdict(CHECKERS[name], answer, capsys)
    assert_wrong(out, key)


@pytest.mark.parametrize("name,answer", [
    ("z1_prediction", [4, 5, 6]), ("z1_prediction", np.array([[4.0, 5.0, 6.0]])),
    ("z1_prediction", np.array(checks.CH05_ALPHA) @ V),
    ("shift_prediction", Z1 + C), ("shift_prediction", [14.1154, 5.1154, 6.1154]),
    # round 3, N4: the value the ✅ message prints (2 decimals) and other 2-decimal roundings
    ("shift_prediction", [14.12, 5.12, 6.12]), ("shift_prediction", [14.12, 5.115, 6.115]),
    ("shift_prediction", [14.11, 5.11, 6.11]),
    # N15: exact fractions are numbers too
    ("weights_for_target", [Fraction(1, 4), 0, Fraction(3, 4)]),
    ("weights_for_target", [0.0, 0.5, 0.5]), ("weights_for_target", (0.25, 0.0, 0.75)),
    ("weights_for_target", np.array([[0.1, 0.3, 0.6]])),
])
def test_right(name, answer, capsys):
    assert _verdict(CHECKERS[name], answer, capsys).startswith("✅")


def test_close_but_wrong_arithmetic_names_the_gap(capsys):
    """M4: the arithmetic hint says how far off the prediction is, and never asks for more decimals."""
    out = _verdict(checks.check_shift_prediction, [14.15, 5.15, 6.15], capsys)
    assert "差了约 0.035" in out and "小数" not in out, out


def test_right_answers_are_what_attention_computes():
    assert np.allclose(np.array(checks.CH05_ALPHA) @ V, V[1])
    Z_shift, _ = h.scaled_dot_product_attention(h.SEED_EXAMPLE["q1"], h.SEED_EXAMPLE["K"], V + C)
    assert np.allclose(Z_shift[0], Z1 + C, atol=1e-8)
    assert np.allclose(np.array([0.0, 0.5, 0.5]) @ V, checks.CH05_TARGET)


def test_checkers_keep_their_own_copy_of_the_seed_example(capsys):
    """Issue 14 finding 1: the ch05 experiment ``V = ex["V"]; V += c`` in a notebook used to change
    the example the checkers compute their answers from, and the right prediction got ❌."""
    right = [14.11540595, 5.11540595, 6.11540595]
    ex = h.SEED_EXAMPLE
    V_public = ex["V"]
    with pytest.raises(ValueError, match="read-only"):
        V_public += C                                  # what the chapter's shift experiment invites
    for name, arr in checks._SEED.items():
        if isinstance(arr, np.ndarray):
            assert not np.shares_memory(arr, ex[name]) and not arr.flags.writeable
    assert _verdict(checks.check_shift_prediction, right, capsys).startswith("✅")
    assert _verdict(checks.check_z1_prediction, [4, 5, 6], capsys).startswith("✅")
    assert _verdict(checks.check_weights_for_target, [0.0, 0.5, 0.5], capsys).startswith("✅")


def test_unlisted_wrong_answer(capsys):
    out = _verdict(checks.check_z1_prediction, [3.0, 3.0, 3.0], capsys)
    assert out.startswith("❌") and "Σ_j α_j V_j" in out


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_pending(name, capsys):
    assert _verdict(CHECKERS[name], None, capsys).startswith("⏳")


def test_every_ch05_hint_is_exercised():
    assert_hints_exercised("ch05", {k for *_, k in MISTAKES})


def test_exercise_outputs_are_pending_and_starters_do_not_dictate():
    assert_exercises_pending(NB05, ("softmax(Q", "@ V", "np.sqrt", "K.T"), at_least=3)


def test_shift_verdict_prints_the_digits_it_requires(capsys):
    """N4: the ✅ message prints Z1 + c with 2 decimals, and exactly those numbers are accepted."""
    out = _verdict(checks.check_shift_prediction, Z1 + C, capsys)
    printed = [float(x) for x in out.split("[", 1)[1].split("]", 1)[0].split(",")]
    assert printed == [round(v, 2) for v in Z1 + C]
    assert _verdict(checks.check_shift_prediction, printed, capsys).startswith("✅")


def test_learner_arrays_are_copies_and_ex3_keeps_v():
    """U3/U4: every array the chapter takes from h.SEED_EXAMPLE is the learner's own copy (the original is
    read-only: editing it raises NumPy's English error), and Ex3 asks for V + c as a new variable, not V += c."""
    import json
    import re

    cells = json.loads(NB05.read_text(encoding="utf-8"))["cells"]
    taken = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        for line in "".join(cell["source"]).splitlines():
            for name, key, rest in re.findall(r"(\w+) *= *(?:ex|h\.SEED_EXAMPLE)\[\"(\w+)\"\](\S*)", line):
                if isinstance(h.SEED_EXAMPLE[key], np.ndarray):
                    taken.append(name)
                    assert rest.startswith(".copy()"), line
    assert "q1" in taken
    ex3 = next("".join(c["source"]) for c in cells if "练习 3" in "".join(c["source"]) and c["cell_type"] == "markdown")
    assert "V_shifted" in ex3 and "不要写 `V += c`" in ex3
