"""ch03 exercises (issue 11): predict Var(q·k) and the divisor for components of standard deviation σ = 3,
d_k = 16.  Every plausible wrong prediction gets its intended hint; the chapter's committed check cells
show the pending state."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from checktools import assert_exercises_pending, assert_hints_exercised, assert_wrong, run_checker
from helpers import checks

NB03 = Path(__file__).resolve().parents[1] / "notebooks" / "03_scaling.ipynb"
SIGMA, D_K = 3.0, 16
VAR, DIV = SIGMA ** 4 * D_K, SIGMA ** 2 * np.sqrt(D_K)   # 1296, 36


def _verdict(capsys, *args):
    return run_checker(checks.check_dot_variance, *args, capsys=capsys)


#: (wrong my_var, right divisor) and (right var, wrong my_divisor) -> intended hint
VAR_WRONG = [(SIGMA ** 2 * D_K, "var_sigma_squared"), (D_K, "var_ignored_sigma"), (SIGMA * D_K, "var_sigma_once"),
             (DIV, "var_is_std"), (1, "var_is_target"), (SIGMA ** 4, "var_forgot_dk")]
DIV_WRONG = [(np.sqrt(D_K), "div_sqrt_dk_only"), (VAR, "div_variance"), (D_K, "div_dk"),
             (SIGMA * np.sqrt(D_K), "div_sigma_once"), (SIGMA ** 2, "div_forgot_dk")]

#: the catalogue (checker, wrong answer, intended hint) counted by tests/test_checks.py
MISTAKES = ([("dot_variance", (v, DIV), key) for v, key in VAR_WRONG]
            + [("dot_variance", (VAR, d), key) for d, key in DIV_WRONG]
            + [("dot_variance", ("1296", DIV), "prediction_not_number"),
               ("dot_variance", (VAR, True), "prediction_not_number")])


def test_numbers_are_distinct():
    values = [v for v, _ in VAR_WRONG] + [VAR]
    assert len(set(np.round(values, 6))) == len(values)
    divs = [d for d, _ in DIV_WRONG] + [DIV]
    assert len(set(np.round(divs, 6))) == len(divs)


@pytest.mark.parametrize("args,key", [(a, k) for _, a, k in MISTAKES])
def test_wrong_predictions(args, key, capsys):
    out = _verdict(capsys, *args)
    assert_wrong(out, key)


@pytest.mark.parametrize("args", [(1296, 36), (1296.0, 36.0), (np.float64(VAR), np.sqrt(1296)),
                                  (SIGMA ** 4 * D_K, SIGMA ** 2 * np.sqrt(D_K)), (1296.5, 36.01),
                                  (np.array(1296.0), np.array(36))])   # 0-d arrays: finding 38
def test_right_predictions(args, capsys):
    out = _verdict(capsys, *args)
    assert out.startswith("✅"), out
    measured = float(out.split("Var(q·k) = ")[-1].split("，")[0])
    assert abs(measured - VAR) / VAR < 0.05        # the simulation agrees with the prediction


@pytest.mark.parametrize("args", [(None, None), (1296, None), (None, 36)])
def test_pending(args, capsys):
    assert _verdict(capsys, *args).startswith("⏳")


def test_unlisted_wrong_answer_gets_a_generic_hint(capsys):
    out = _verdict(capsys, 500, DIV)
    assert out.startswith("❌") and "my_var" in out
    out = _verdict(capsys, VAR, 7)
    assert out.startswith("❌") and "my_divisor" in out


def test_every_ch03_hint_is_exercised():
    assert_hints_exercised("ch03", {k for *_, k in MISTAKES})


def test_exercise_outputs_are_pending_and_starters_do_not_dictate():
    assert_exercises_pending(NB03, ("Q @ K.T", "np.sqrt", "/ √d_k", "1296", "σ⁴"), at_least=2)
