"""ch04 exercises (issue 11): fix a softmax for batched (b, n_q, n_k) scores; choose the largest
temperature that gives k3 a weight above 0.9.  Every plausible wrong answer gets its intended verdict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import helpers as h
from checktools import assert_exercises_pending, assert_wrong, catalogue_tests, copied as _copied
from checktools import assert_hints_exercised
from checktools import run_checker
from helpers import checks, solutions

NB04 = Path(__file__).resolve().parents[1] / "notebooks" / "04_softmax.ipynb"


def _verdict(check, arg, capsys):
    return run_checker(check, arg, capsys=capsys)


# ---------------------------------------------------------------------------
# fix the batched softmax
# ---------------------------------------------------------------------------

def buggy_softmax(scores):                    # the function the chapter gives
    e = np.exp(scores)
    return e / e.sum(axis=1, keepdims=True)


def shift_only(scores):                       # fixed the overflow, kept axis=1
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def shift_axis1(scores):
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def axis_only(scores):                        # fixed the axis, kept the overflow
    e = np.exp(scores)
    return e / e.sum(axis=-1, keepdims=True)


def max_axis1(scores):
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def max_axis0(scores):
    e = np.exp(scores - scores.max(axis=0, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def global_max(scores):
    e = np.exp(scores - scores.max())
    return e / e.sum(axis=-1, keepdims=True)


def no_keepdims(scores):
    e = np.exp(scores - scores.max(axis=-1))
    return e / e.sum(axis=-1, keepdims=True)


def no_keepdims_sum(scores):
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1)


def whole_tensor(scores):
    e = np.exp(scores - scores.max())
    return e / e.sum()


def subtract_min(scores):
    e = np.exp(scores - scores.min(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def axis2(scores):
    e = np.exp(scores - scores.max(axis=2, keepdims=True))
    return e / e.sum(axis=2, keepdims=True)


def axis0(scores):
    e = np.exp(scores - scores.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


BATCH_WRONG = {
    "batched_softmax_axis": [buggy_softmax, shift_only, shift_axis1, axis0],
    "softmax_overflow": [axis_only],
    "fixed_max_wrong_axis": [max_axis1, max_axis0],
    "softmax_global_max": [global_max],
    "softmax_keepdims": [no_keepdims, no_keepdims_sum],
    "softmax_whole_matrix": [whole_tensor],
    "softmax_subtract_min": [subtract_min],
    "fixed_axis_hardcoded": [axis2],
}


def swapaxes_loop(scores):                    # a loop over everything but the last axis
    s = np.asarray(scores, dtype=float)
    out = np.empty_like(s)
    for idx in np.ndindex(s.shape[:-1]):
        row = s[idx] - s[idx].max()
        out[idx] = np.exp(row) / np.exp(row).sum()
    return out


def logsumexp_version(scores):
    m = np.max(scores, axis=-1, keepdims=True)
    return np.exp(scores - m - np.log(np.sum(np.exp(scores - m), axis=-1, keepdims=True)))


BATCH_RIGHT = {"reference": _copied("batched_softmax"), "loop over rows": swapaxes_loop,
               "log-sum-exp": logsumexp_version}


def fixed_softmax(scores):                    # the starter
    return None


test_batched_softmax_right, test_batched_softmax_wrong, test_batched_softmax_pending = catalogue_tests(
    checks.check_batched_softmax, BATCH_RIGHT, BATCH_WRONG, fixed_softmax)


def test_buggy_softmax_is_right_on_a_2d_matrix():
    """The point of the exercise: the given function looks fine on one (n, n) matrix."""
    S = np.array([[0.5, 1.0, -0.3], [2.0, 0.1, 0.0], [-1.0, 0.3, 0.7]])
    assert np.allclose(buggy_softmax(S), h.softmax(S))


# ---------------------------------------------------------------------------
# choose the temperature
# ---------------------------------------------------------------------------

def _k3(T):
    return h.softmax(h.attention_scores(h.SEED_EXAMPLE["q1"], h.SEED_EXAMPLE["K"]), temperature=T)[0, 2]


def test_t_star_solves_the_equation():
    t_star = checks._ch04_t_star()
    assert _k3(t_star) == pytest.approx(0.9, abs=1e-12)
    assert _k3(t_star * 0.999) > 0.9 > _k3(t_star * 1.001)


TEMP_WRONG = [(0.05, "temp_too_high"), (0.044, "temp_rounded_up"), (0.0437, "temp_just_above"), (0.046, "temp_too_high"),
              # final review U2: 0.045 is not T* rounded (that is 0.044), so no rounding story for it
              (0.045, "temp_just_above"), (0.0455, "temp_just_above"), (1.0, "temp_too_high"), (0.1, "temp_too_high"),
              (2.0, "temp_inverted"), (22.9, "temp_inverted"), (0.01, "temp_too_low"), (0.001, "temp_too_low"),
              (0.0, "temp_not_positive"), (-0.04, "temp_not_positive"), ("0.04", "prediction_not_number"),
              (float("nan"), "prediction_not_number"), (np.array([0.043]), "prediction_not_number"),
              (np.array(True), "prediction_not_number")]


@pytest.mark.parametrize("T,key", TEMP_WRONG)
def test_temperature_wrong(T, key, capsys):
    out = _verdict(checks.check_temperature_choice, T, capsys)
    assert_wrong(out, key)


@pytest.mark.parametrize("T", [0.043, 0.0436, 0.04, np.float32(0.042), np.array(0.043)])  # 0-d array: finding 38
def test_temperature_right(T, capsys):
    assert _verdict(checks.check_temperature_choice, T, capsys).startswith("✅")


@pytest.mark.parametrize("T,names_best", [(0.04, True), (0.042, True), (0.043, False), (0.0436, False)])
def test_temperature_right_below_the_largest_says_so(T, names_best, capsys):
    """U2: a ✅ below 0.043 also says that 0.043 was the largest two-digit answer."""
    out = _verdict(checks.check_temperature_choice, T, capsys)
    assert out.startswith("✅") and ("两位有效数字里满足条件的最大值是 0.043" in out) == names_best, out


def test_temperature_pending(capsys):
    assert _verdict(checks.check_temperature_choice, None, capsys).startswith("⏳")


#: the catalogue (checker, wrong answer, intended hint) counted by tests/test_checks.py
MISTAKES = ([("batched_softmax", f, key) for key, fs in BATCH_WRONG.items() for f in fs]
            + [("temperature_choice", T, key) for T, key in TEMP_WRONG])


def test_every_ch04_hint_is_exercised():
    assert_hints_exercised("ch04", {k for *_, k in MISTAKES})


def test_exercise_outputs_are_pending_and_starters_do_not_dictate():
    assert_exercises_pending(NB04, ("axis=-1", "keepdims", "减去每一行的最大值", "0.04"), at_least=2)


def test_calling_the_course_softmax_is_not_accepted(capsys):
    def fixed_softmax(scores):
        return h.softmax(scores)
    out = _verdict(checks.check_batched_softmax, fixed_softmax, capsys)
    assert_wrong(out, "uses_course_impl")


# ---------------------------------------------------------------------------
# exercise 1: clipping the scores instead of subtracting the max
# ---------------------------------------------------------------------------

def _clipped(lo, hi, naive=False):
    def clipped_softmax(scores):
        s = np.clip(scores, lo, hi)
        if not naive:
            s = s - s.max(axis=-1, keepdims=True)
        e = np.exp(s)
        return e / e.sum(axis=-1, keepdims=True)
    clipped_softmax.__name__ = f"clip_{lo}_{hi}{'_naive' if naive else ''}"
    return clipped_softmax


CLIP_WRONG = [_clipped(-50, 50), _clipped(-50, 50, naive=True), _clipped(None, 80, naive=True), _clipped(-700, 700),
              _clipped(-709, 709)]


@pytest.mark.parametrize("fn", CLIP_WRONG, ids=lambda f: f.__name__)
def test_softmax_clipped_gets_its_hint(fn, capsys):
    out = _verdict(checks.check_softmax, fn, capsys)
    assert_wrong(out, "softmax_clipped")


MISTAKES += [("softmax", fn, "softmax_clipped") for fn in CLIP_WRONG]
