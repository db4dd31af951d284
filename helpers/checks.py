"""Exercise checkers with mistake-aware Chinese feedback (练习检查器).

Every ``check_*(fn)`` runs the learner's function on several inputs (edge
cases included) against the reference implementation in
:mod:`helpers.attention` and PRINTS one short verdict:

* ``⏳ 还没完成 …`` — the function still returns ``None`` or raises
  ``NotImplementedError`` (the starter state; nothing is raised);
* ``✅ 正确！…`` — every input matched, and the line says which inputs;
* ``❌ …`` — the first input that went wrong, and, when the result matches a
  classic mistake (forgot √d_k, softmax over the wrong axis, …), a hint that
  names that mistake.

Exceptions (any ``BaseException``: ``SystemExit`` and ``KeyboardInterrupt``
included) and NumPy warnings raised by the learner's code are caught and
reported in the verdict, with the learner's line of code that raised; nothing
leaks to stderr.  Output is deterministic.  Each call of the learner's function
has a time limit (:data:`TIME_LIMIT` seconds, ``time_limit=`` per check), runs
on copies of the inputs (a function that modifies its input is told so and not
accepted) and may not simply call the course's own implementation of the
exercise (``h.softmax`` in the softmax exercise, any ``solutions.*``).

Grading (nbgrader / otter-grader): in strict mode (``with checks.strict():``,
``check_*(fn, strict=True)``, ``checks.set_strict(True)`` or the environment
variable ``COURSE_CHECKS_STRICT=1``) anything but ✅ raises ``AssertionError``
with the same Chinese verdict and hint.  ``checks.record_to(path)`` (or
``COURSE_CHECKS_RECORD=path``) appends every verdict (exercise, mistake id,
time) to a local JSON-lines file; ``checks.summarize_records(folder)`` counts
a class's named mistakes.  Recording is off by default.

``show_solution(name)`` prints a reference solution from
:mod:`helpers.solutions`.

The hint texts live in :data:`HINTS` (keyed by mistake id) so tests and the
teacher's guide can quote them.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import datetime
import functools
import importlib
import ast
import inspect
import json
import numbers
import os
import re
import signal
import sys
import textwrap
import threading
import time
import traceback
import unicodedata
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, NamedTuple

import numpy as np

from . import attention as _att
from . import solutions as _solutions
from . import validation as _v
from .analysis import softmax_jacobian
from .tokens import SEED_EXAMPLE

__all__ = [
    "check_qkv_projection",
    "check_scores",
    "check_scaled_scores",
    "check_softmax",
    "check_attention",
    "check_self_attention",
    "check_causal_attention",
    "check_causal_mask",
    "check_softmax_backward",
    "show_solution",
    "strict",
    "set_strict",
    "record_to",
    "read_records",
    "summarize_records",
    "HINTS",
    "SOLUTION_NAMES",
    "TIME_LIMIT",
]

PENDING = "⏳ 还没完成：函数 {name} 还没有返回结果。写好代码后重新运行本单元格即可检查。"

#: mistake id -> the Chinese hint printed when the learner's result matches that mistake
HINTS: dict[str, str] = {
    # --- projections -------------------------------------------------------
    "qkv_not_tuple": "需要返回三个矩阵：return Q, K, V。",
    "qkv_transposed": "结果被转置了：行应该是词，Q = X @ W_Q 的形状是 (n, d_k)，不要写成 W_Q.T @ X.T。",
    "qkv_swapped_weights": "Q、K、V 用错了权重矩阵：Q 要乘 W_Q，K 要乘 W_K，V 要乘 W_V。",
    "qkv_matmul_order": "矩阵乘法的顺序或转置不对：X 的每一行是一个词，形状 (n, d_model)，W_Q 是 (d_model, d_k)，要写 X @ W_Q（不用转置，也不是 W_Q @ X）。",
    "qkv_elementwise": "* 是逐元素相乘：投影要用矩阵乘法 X @ W_Q（@ 或 np.matmul）。",
    "qkv_not_projected": "忘了投影：Q、K、V 要分别由 X 乘以 W_Q、W_K、W_V 得到，不能直接用 X。",
    # --- scores ------------------------------------------------------------
    "scores_swapped": "形状反了：你算的是 K Qᵀ（行是键）。打分要写成 Q @ K.T，行 = 查询，列 = 键。",
    "k_not_transposed": "K 没有转置：要用 Q @ K.T，让每个查询和每个键做点积。",
    "scores_elementwise": "这是逐元素相乘 Q * K，不是点积：要用矩阵乘法 Q @ K.T。",
    "scores_transpose_wrong": "转置放错了矩阵：行是查询、列是键，要转置的是 K、Q 在左边：Q @ K.T（不是 Q.T @ K，也不是 K.T @ Q）。",
    "scores_already_scaled": "这一步只要原始分数 Q Kᵀ，还不需要除以 √d_k（那是下一步）。",
    # --- scaling -----------------------------------------------------------
    "forgot_sqrt_dk": "忘了缩放：分数要除以 √d_k（np.sqrt(d_k)）。",
    "scaled_by_dk": "缩放过头了：应该除以 √d_k，而不是 d_k。",
    "multiplied_sqrt_dk": "方向反了：应该除以 √d_k，你乘上了 √d_k。",
    "dk_wrong_axis": "d_k 取错了：d_k 是每个查询/键向量的维度 Q.shape[-1]（列数），不是词的个数 Q.shape[0]（行数）。",
    "dk_from_v": "d_k 取错了：你用的是 V 的列数 d_v。缩放用的是查询/键向量的维度 d_k = Q.shape[-1]（或 K.shape[-1]）。",
    "dk_hard_coded": "√d_k 被写成了一个固定的数：不同输入的 d_k 不同，要从输入的形状里读出来（d_k = Q.shape[-1]），不能写死。",
    "dk_is_shape": "Q.shape 是一个元组 (行数, 列数)，np.sqrt(Q.shape) 得到两个数：d_k 只是其中的列数 Q.shape[-1]。",
    "scaled_after_softmax": "缩放的位置错了：要先把分数除以 √d_k 再做 softmax；你在 softmax 之后才除，权重每行加起来不再等于 1。",
    "scaled_by_d_model": "缩放用错了维度：要除以 √d_k（K 的列数），不是 √d_model（X 的列数）。",
    # --- softmax -----------------------------------------------------------
    "softmax_wrong_axis": "softmax 的方向错了：应沿最后一个轴（每一行、对所有键）归一化，用 axis=-1，不是 axis=0。",
    "softmax_whole_matrix": "整个矩阵一起归一化了：softmax 要对每一行单独做，求和时用 axis=-1, keepdims=True。",
    "softmax_not_normalized": "忘了归一化：exp 之后还要除以每一行的和，让每行加起来等于 1。",
    "softmax_overflow": "数值溢出：朴素 softmax 直接算 np.exp(x)，分数很大时 exp 溢出成 inf，得到 nan。先减去每一行的最大值。",
    "softmax_global_max": "减去的是整个矩阵的最大值，不是每一行的最大值：数值较小的行会全部下溢成 0，得到 nan。用 np.max(x, axis=-1, keepdims=True)。",
    "softmax_sum_wrong_axis": "减最大值用的是每一行（对），但求和用错了轴：归一化时 np.sum 也要 axis=-1, keepdims=True，让每一行（不是每一列）加起来等于 1。",
    "softmax_keepdims": "广播出错：np.max / np.sum 沿 axis=-1 时要加 keepdims=True，否则形状 (n,) 会和错误的轴对齐。",
    "softmax_subtract_min": "减去的是最小值：要减去每一行的最大值，exp 的参数才都 <= 0、不会溢出。",
    "softmax_subtract_mean": "减去的是每一行的平均值，不是最大值：一行之内分数相差很大时（这里从 −1000 到 1000），"
                             "比平均值大 709 以上的分数 exp 仍然溢出成 inf，得到 nan。"
                             "要减去每一行的最大值 np.max(x, axis=-1, keepdims=True)，exp 的参数才都 <= 0。",
    "softmax_mean_of_inf": "减去的是每一行的平均值，不是最大值：一行里只要有一个 −inf（被挡住的键），它的平均值就是 −inf，"
                           "于是 −inf − (−inf) = nan。要减去每一行的最大值 np.max(x, axis=-1, keepdims=True)，"
                           "最大值总是一个能看的键的分数，不会出这个问题。",
    "softmax_clipped": "你把分数截断 (clip) 到了某个范围里：溢出是躲开了，可被截断的分数之间的差也被抹平，权重变了。"
                       "要防溢出，减去每一行的最大值——这样结果精确不变。",
    # --- attention ---------------------------------------------------------
    "returned_weights": "你返回的是注意力权重 α，不是输出：还差最后一步 Z = α @ V。",
    "returned_tuple": "这个练习只要返回 Z 一个矩阵，不要返回 (Z, α) 元组。",
    "weights_elementwise_v": "α * V 是逐元素相乘：加权求和要用矩阵乘法 Z = α @ V（每个输出行 = 各个值向量按权重相加）。",
    "weights_transposed": "α 被转置了：α 的行是查询、列是键，加权求和是 Z = α @ V，不是 α.T @ V。",
    "softmax_whole_matrix_att": "softmax 对整个分数矩阵一起归一化了：权重 α 要每一行（每个查询）单独加起来等于 1，用 axis=-1, keepdims=True。",
    "weights_times_k": "权重乘错了矩阵：加权求和要用值 V（Z = α @ V），不是键 K。",
    "forgot_softmax": "忘了 softmax：缩放后的分数要先变成每行和为 1 的权重 α，再乘 V。",
    "attention_shapes": "形状对不上：检查打分是不是 Q @ K.T（不是 K @ Q.T，也没有漏掉转置），最后是不是 α @ V。",
    # --- masks -------------------------------------------------------------
    "forgot_mask": "忘了因果掩码：第 i 个词只能看第 0…i 个词，未来的位置要在 softmax 之前填 -inf。",
    "mask_after_softmax": "掩码加在了 softmax 之后：把权重清零后每行就不再加起来等于 1。要在 softmax 之前把未来位置的分数设为 -inf。",
    "mask_filled_zero": "被挡住的位置填了 0：分数为 0 时 exp(0)=1，仍然会分到权重。要填 -inf（或 -1e9）。",
    "mask_fill_not_small": "被挡住的位置填的数不够小：这一行能看的分数比它还小（这里约 −1000），exp 之后未来的位置反而分到了权重。"
                           "用 -np.inf（或足够小的数，比任何分数都小得多，例如 -1e9）。",
    "mask_added_bool": "把布尔掩码直接加到了分数上：True/False 变成 1/0，只是给能看的位置加了 1，什么也挡不住。要用 np.where(mask, scores, -np.inf)。",
    "mask_inf_times_zero": "结果全是 nan：0 × (−inf) = nan。用乘法构造加性掩码（mask * -np.inf）时，可以看的位置得到 nan 而不是 0。改用 np.where(mask, scores, -np.inf)。",
    "mask_all_true": "掩码全是 True，什么也没挡住：对角线以上（j > i，未来的词）应该是 False。",
    "mask_upper": "掩码方向反了（上三角）：应该用下三角 np.tril，让第 i 个词看到第 0…i 个词，而不是未来的词。",
    "mask_inverted": "True/False 反了：约定 True = 可以看。因果掩码是下三角（含对角线）为 True。",
    "mask_no_diagonal": "差了一位：对角线也要保留，每个词应该能看到自己（np.tril 的 k=0，不是 k=-1）。",
    "mask_includes_future": "差了一位：多看了一个未来的词。用 np.tril(..., k=0)，不是 k=1。",
    "mask_not_bool": "数值对了，但请返回布尔数组（dtype=bool，True = 可以看），例如 np.tril(np.ones((n, n), dtype=bool))。",
    "mask_additive": "这里要的是布尔掩码（True = 可以看），不是加性的 0 / -inf 掩码。",
    "mask_not_square": "因果掩码的形状应该是 (n, n)：每个查询（行）对每个键（列）各有一个 True/False。",
    # --- softmax backward --------------------------------------------------
    "backward_diag_only": "只用了雅可比矩阵的对角线 α_i(1-α_i)：每个权重都依赖所有分数，还差非对角项 -α_i Σ_{j≠i} α_j g_j；合起来是 α ⊙ (g - α·g)，其中 α·g 是点积（一个数，np.dot(α, g)），不是逐元素的 α * g。",
    "backward_forgot_dot": "漏了 -(α·g) 这一项：正确的梯度是 α ⊙ (g - α·g)。",
    "backward_sign": "符号反了：应该是 α ⊙ (g - α·g)，不是 α ⊙ (α·g - g)。",
    "backward_identity": "把 softmax 当成了恒等函数：梯度还要乘上雅可比矩阵 diag(α) - α αᵀ。",
    "backward_sum_not_dot": "α·g 是按权重的和 Σ_j α_j g_j，不是 g 的简单求和 Σ_j g_j。",
    "backward_plus": "雅可比矩阵是 diag(α) − α αᵀ（减号）：你加上了 α αᵀ，所以结果是 α ⊙ (g + α·g)。",
    "backward_forgot_alpha": "忘了乘 α：应该是 α ⊙ (g - α·g)。",
    # --- generic -----------------------------------------------------------
    "timeout": "检查一下循环能不能结束（while 的条件是否永远成立、循环变量有没有更新），或者是不是做了远超需要的计算。",
    "interrupted": "检查被中断了（KeyboardInterrupt，例如点了停止按钮），还没有结论。修改好后重新运行本单元格即可。",
    "system_exit": "不要在函数里调用 exit()、quit() 或 sys.exit()：它们会结束程序。练习的函数要用 return 返回结果。",
    "forgot_return": "函数里没有一句 return：是不是最后忘了写 return（或者只用 print 打印了结果）？"
                     "没有 return 的函数走到末尾时，Python 返回 None。",
    "returned_none": "是不是某个分支（if / else）里忘了写 return？函数走到末尾还没有 return 时，Python 返回 None。",
    "masked_result": "你返回的是带掩码的数组（np.ma.MaskedArray），有的位置被掩盖了（显示为 --）：请返回普通的 NumPy 数组，每个位置都是一个数。",
    "mutated_list": "你的函数原地修改了传进来的列表（例如 lst.sort()、lst.clear()、lst.append(…)、lst[i] = …），"
                    "调用者的列表被改掉了：要改就先复制一份，例如 lst = list(lst)，或者用 sorted(lst) 这样返回新列表的写法。",
    "mutated_input": "你的函数原地修改了传进来的数组（例如 x -= …、x /= …、x[...] = …、np.exp(x, out=x)），调用者的数据被改掉了：请写成 x = x - …，或者先 x = x.copy()。",
    "uses_course_impl": "这个练习要你自己写出这一步，但你的函数直接调用了课程已经写好的实现：请只用 NumPy（@、np.exp、np.sum …）自己写。",
    "not_callable": "请把函数本身传进来（不要带括号），例如 checks.check_scores(my_scores)。",
    "nonfinite": "结果里有 nan 或 inf：检查是否有除以 0、是否有一行的键全被挡住（全是 −inf 时 −inf − (−inf) = nan）、"
                 "是否减去了含 −inf 的一行的平均值（平均值也是 −inf），或 exp 溢出（softmax 要先减去每一行的最大值）。",
}


# ---------------------------------------------------------------------------
# machinery
# ---------------------------------------------------------------------------
#
# How a learner's function is run (``_call``), in order:
#   * on copies of the inputs (the checker's data can never be damaged);
#   * under a time limit (``TIME_LIMIT`` seconds per call, see ``_limited``);
#   * with a profile hook that notices calls into the course's own
#     implementation of the exercise (``forbidden=``, see ``_watch_calls``);
#   * every exception, including ``SystemExit``, ``KeyboardInterrupt`` and any
#     other ``BaseException``, becomes a verdict; nothing escapes the checker;
#   * afterwards the copies are compared with the originals: a function that
#     modified its input is told so (and not accepted).
# ``_report`` prints the verdict, records it (``record_to``) and, in strict
# mode (``strict()``), raises ``AssertionError`` for anything but ✅.

#: seconds one call of the learner's function may take before it is stopped
TIME_LIMIT = 5.0

#: module-level strict switch (``checks.STRICT = True`` or env ``COURSE_CHECKS_STRICT=1``)
STRICT = os.environ.get("COURSE_CHECKS_STRICT", "").strip().lower() in {"1", "true", "yes", "on"}

_strict_var: contextvars.ContextVar = contextvars.ContextVar("checks_strict", default=None)
_limit_var: contextvars.ContextVar = contextvars.ContextVar("checks_time_limit", default=None)


class _Diagnosed(Exception):
    """Raised by a custom ``compare`` to name the mistake it recognised."""

    def __init__(self, key, detail: str = ""):
        super().__init__(key)
        self.key = key
        self.detail = detail


@dataclass
class Case:
    """One input for a checker."""

    label: str                       # Chinese description, e.g. "2 个查询 × 5 个键"
    args: tuple
    expected: object
    float32: bool = False


class _Rows(NamedTuple):
    """A mistake's result of which only the ``rows`` (boolean, one per row) must match.

    Used for masks that leave a row with nothing to see: that row depends on the fill value.
    """

    value: np.ndarray
    rows: np.ndarray


@dataclass
class Mistake:
    """A known wrong implementation; ``fn(*args)`` returns what it would produce
    (an array, or :class:`_Rows` when only some rows are determined).

    ``params``: the mistake has a free parameter (e.g. a hard-coded number);
    ``fn(*args, p)`` is tried for every ``p`` and ``detail(p)`` (a Chinese
    sentence) is printed under the hint for the ``p`` that matched.
    """

    key: str
    fn: Callable
    params: tuple | None = None
    detail: Callable | None = None


@dataclass
class Outcome:
    status: str                      # "pending" | "passed" | "failed" | "error" | "not_callable"
    #                                  | "timeout" | "interrupted"
    mistake: str | None = None       # matched mistake id, if any
    message: str = ""
    case: str | None = None
    warnings: list = field(default_factory=list)


class _Timeout(BaseException):
    """Raised inside the learner's function when its time is up (a BaseException so
    that the learner's own ``except Exception`` does not swallow it)."""


def _fn_name(fn) -> str:
    try:
        name = getattr(fn, "__name__", None)
    except Exception:
        name = None
    return name if isinstance(name, str) else type(fn).__name__


def _copy_args(args):
    """Deep copies of the arguments: the learner's function may change lists and dicts too."""
    return tuple(copy.deepcopy(a) for a in args)


# --- time limit -------------------------------------------------------------

def _time_limit() -> float | None:
    """The limit in force (None = no limit): a check's ``time_limit=``, else :data:`TIME_LIMIT`
    (None, 0 or ``float("inf")`` there = no limit)."""
    limit = _limit_var.get()
    if limit is not None:
        return limit or None
    return _v.check_time_limit(TIME_LIMIT or None, "checks.TIME_LIMIT")


def _limited(fn, args, limit):
    """``fn(*args)``, stopped with :class:`_Timeout` after ``limit`` seconds.

    In the main thread on Unix (where Jupyter runs a cell) a SIGALRM timer
    raises ``_Timeout`` inside the learner's code, so even ``while True: pass``
    stops and the kernel stays usable; the timer re-fires every 0.5 s in case
    the learner's code catches the first one with a bare ``except``.  Elsewhere
    (Windows, or a checker called from a worker thread) the call runs in a
    daemon thread that we stop waiting for after ``limit`` seconds; Python
    cannot kill a thread, so a never-ending function keeps running in the
    background until the kernel restarts (the verdict says so).  Either way a
    single NumPy call that itself runs for longer is only stopped when it returns.
    """
    if limit is None:
        return fn(*args)
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        return _limited_alarm(fn, args, limit)
    return _limited_thread(fn, args, limit)


def _limited_alarm(fn, args, limit):
    state = {"armed": True, "fired": 0}
    own_code = sys._getframe().f_code

    def stop_everywhere(frame, event, arg):
        # raise on the next line run (an "exception" event would be raised where the
        # caught exception was, so it would be swallowed again)
        if state["armed"] and event == "line":
            raise _Timeout
        return stop_everywhere

    def on_alarm(signum, frame):
        if not state["armed"]:
            return
        state["fired"] += 1
        signal.setitimer(signal.ITIMER_REAL, 0.5)   # again, in case this one is swallowed
        if state["fired"] > 1:
            # the learner's code caught the first _Timeout (bare except in a loop):
            # raise it again at every line of the learner's frames, handlers included
            sys.settrace(stop_everywhere)
            f = frame
            while f is not None and f.f_code is not own_code:
                f.f_trace = stop_everywhere
                f.f_trace_lines = True
                f = f.f_back
        raise _Timeout

    previous_timer = signal.getitimer(signal.ITIMER_REAL)
    previous_trace = sys.gettrace()
    previous = signal.signal(signal.SIGALRM, on_alarm)
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        try:
            return fn(*args)
        finally:
            state["armed"] = False
    finally:
        state["armed"] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if state["fired"] > 1:
            sys.settrace(previous_trace)
        if previous_timer[0] > 0:  # somebody else's timer: give back what is left of it
            left = max(previous_timer[0] - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, previous_timer[1])


def _limited_thread(fn, args, limit):
    box: dict = {}

    def target():
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            box["exc"] = exc

    worker = threading.Thread(target=target, name="checks-learner-call", daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        raise _Timeout("thread")
    if "exc" in box:
        raise box["exc"]
    return box.get("value")


# --- calls into the course's own implementation ------------------------------

def _forbidden_codes(forbidden) -> dict:
    """id(code object) -> dotted name, for ``forbidden`` (names like "attention.softmax")
    plus every reference solution in :mod:`helpers.solutions`."""
    names = [f"solutions.{n}" for n in _solutions.__all__] + list(forbidden or ())
    codes = {}
    for dotted in names:
        mod_name, _, attr = dotted.rpartition(".")
        try:
            module = importlib.import_module(f"{__package__}.{mod_name}")
            obj = getattr(module, attr)
        except Exception:  # a helper that does not exist (any more): nothing to watch
            continue
        while obj is not None:
            code = getattr(obj, "__code__", None)
            if code is not None:
                codes[id(code)] = dotted
            obj = getattr(obj, "__wrapped__", None)
    return codes


@contextmanager
def _watch_calls(codes: dict, hits: list):
    """Record (in ``hits``) the first call into one of ``codes`` while active.

    A profile hook sees every Python-level call however the function was
    reached (``h.softmax``, ``from helpers.attention import softmax as sm``,
    ``solutions.softmax`` …), and costs nothing after the check.
    """
    if not codes:
        yield
        return
    previous = sys.getprofile()

    def profiler(frame, event, arg):
        if event == "call" and not hits and id(frame.f_code) in codes:
            hits.append(codes[id(frame.f_code)])
        if previous is not None:
            previous(frame, event, arg)

    sys.setprofile(profiler)
    try:
        yield
    finally:
        sys.setprofile(previous)


def _watched(fn, codes: dict, hits: list):
    """``fn`` with the call watch switched on in whichever thread runs it."""
    def run(*args):
        with _watch_calls(codes, hits):
            return fn(*args)
    return run


def _is_reference(fn) -> bool:
    """The reference solutions themselves (what the tests pass) may use anything."""
    return getattr(fn, "__module__", None) == _solutions.__name__


# --- one call -----------------------------------------------------------------

def _unchanged(original, passed) -> bool:
    """``passed`` (the copy the learner's function got) still equals ``original``: arrays by
    shape, dtype and value, lists / tuples / dicts item by item, numbers and strings by value;
    other objects are not compared."""
    if isinstance(original, np.ndarray):
        if not (isinstance(passed, np.ndarray) and passed.shape == original.shape and passed.dtype == original.dtype):
            return False
        with np.errstate(all="ignore"):
            return bool(np.array_equal(original, passed, equal_nan=original.dtype.kind in "fc"))
    if isinstance(original, (list, tuple)):
        return (type(passed) is type(original) and len(passed) == len(original)
                and all(_unchanged(a, b) for a, b in zip(original, passed)))
    if isinstance(original, dict):
        return (type(passed) is type(original) and passed.keys() == original.keys()
                and all(_unchanged(original[k], passed[k]) for k in original))
    if isinstance(original, (int, float, complex, str, bytes, np.generic)) or original is None:
        with np.errstate(all="ignore"):
            return type(passed) is type(original) and (passed == original or (passed != passed and original != original))
    return True


def _param_names(fn) -> list:
    """The names of ``fn``'s positional parameters ([] when Python cannot tell)."""
    try:
        return [p.name for p in inspect.signature(fn).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return []


def _mutated(originals, copies, fn) -> str | None:
    """Name of the first argument the learner's function changed in place, else None."""
    params = _param_names(fn)
    for i, (a, c) in enumerate(zip(originals, copies)):
        if not _unchanged(a, c):
            return params[i] if i < len(params) else f"第 {i + 1} 个参数"
    return None


def _call(fn, args, *, time_limit=None, forbidden=None):
    """Run learner code; return (status, value, exc, warning messages).

    status: "ok" | "none" (returned None) | "pending" (raised NotImplementedError) |
    "error" (exc = the exception) |
    "timeout" | "interrupted" | "exit" (exc = the exception) |
    "mutated" (exc = the parameter's name) |
    "forbidden" (value as for "ok", exc = "attention.softmax" …: the course's function it called).
    ``time_limit`` defaults to :data:`TIME_LIMIT`; ``forbidden``: see :func:`_forbidden_codes`.
    """
    limit = _time_limit() if time_limit is None else (float(time_limit) if time_limit > 0 else None)
    codes = {} if _is_reference(fn) else _forbidden_codes(forbidden)
    copies = _copy_args(args)
    hits: list = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
                value = _limited(_watched(fn, codes, hits), copies, limit)
        except NotImplementedError:
            return "pending", None, None, []
        except _Timeout as exc:
            return "timeout", None, exc, []
        except KeyboardInterrupt as exc:
            return "interrupted", None, exc, []
        except SystemExit as exc:
            return "exit", None, exc, []
        except BaseException as exc:  # noqa: BLE001 - learner code: report, never raise
            return "error", None, exc, [_warning_text(w) for w in caught]
    msgs = [_warning_text(w) for w in caught]
    changed = _mutated(args, copies, fn)
    if changed is not None:
        return "mutated", None, changed, msgs
    if value is None or (isinstance(value, (tuple, list)) and value and all(v is None for v in value)):
        return "none", None, None, msgs
    if hits:  # judged like any value: a wrong result gets its own diagnosis first
        return "forbidden", value, hits[0], msgs
    return "ok", value, None, msgs


_FP_WARNING = re.compile(r"^(overflow|divide by zero|invalid value|underflow) encountered")


def _warning_text(w) -> str:
    """A caught warning as shown in a verdict: NumPy's floating-point warnings by their message
    ("overflow encountered in exp"), any other warning with its category in front."""
    text = _safe_str(w.message)
    if issubclass(w.category, RuntimeWarning) and _FP_WARNING.match(text):
        return text
    return f"{_fn_name(w.category)}: {text}"


def _warning_note(msg: str) -> str:
    """The line a ✅ verdict adds for the first warning the learner's code raised."""
    kind = _FP_WARNING.match(msg)
    if kind is None:
        shown = msg if len(msg) <= 100 else msg[:99] + "…"
        return f"\n   不过运行时出现了警告（{shown}）。"
    advice = {"overflow": "检查一下是否有溢出。", "divide by zero": "检查一下是否有除以 0。",
              "invalid value": "检查一下是否有 0/0、inf − inf 或 0 × inf 这样的运算。",
              "underflow": "检查一下是否有数值下溢（非常接近 0 的数）。"}[kind.group(1)]
    return f"\n   不过运行时出现了数值警告（{msg[:60]}），{advice}"


def _quiet(fn, *args):
    """Run a reference/mistake function silently; None if it fails."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                return fn(*args)
    except Exception:
        return None


def _has_masked(value) -> bool:
    """``value`` (or one of the arrays of a returned tuple / list) is a masked array with a masked entry."""
    items = value if isinstance(value, (tuple, list)) else (value,)
    return any(isinstance(v, np.ma.MaskedArray) and bool(np.ma.getmaskarray(v).any()) for v in items)


def _as_real_scalar(value) -> float | None:
    """``value`` as a float when it is one real number: int, float, NumPy scalar or 0-d array
    (not a bool, not complex, not an array of several numbers); else None."""
    if isinstance(value, (bool, np.bool_)) or isinstance(value, np.ma.MaskedArray):
        return None
    if isinstance(value, np.ndarray):
        if value.ndim != 0 or value.dtype.kind not in "iuf":
            return None
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    return None


def _as_array(value):
    if _has_masked(value) and not isinstance(value, (tuple, list)):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = np.asarray(value)
    except Exception:
        return None
    if arr.dtype == object:
        return None
    if arr.dtype.kind == "b":
        return arr
    if arr.dtype.kind not in "iuf":
        return None
    return arr.astype(np.float64)


def _tol(float32: bool):
    # float32 cases: the learner may compute in float32 or float64; the reference is float64
    return (1e-3, 1e-4) if float32 else (1e-6, 1e-9)


def _f64(args):
    return tuple(np.asarray(a, dtype=np.float64) if isinstance(a, np.ndarray) else a for a in args)


def _close(value, expected, float32=False, equal_nan=False, rows=None) -> bool:
    a = _as_array(value)
    b = _as_array(expected)
    if a is None or b is None or a.shape != b.shape:
        return False
    if a.dtype.kind == "b" or b.dtype.kind == "b":
        return a.dtype == b.dtype and bool(np.array_equal(a, b))
    if rows is not None:
        a, b = a[rows], b[rows]
    rtol, atol = _tol(float32)
    with np.errstate(all="ignore"):
        return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def _safe_str(obj) -> str:
    """``str(obj)``, or a placeholder when the object's ``__str__`` itself fails."""
    try:
        text = str(obj)
        return text if isinstance(text, str) else ""
    except BaseException:  # noqa: BLE001 - a learner's exception class may do anything
        return "（错误信息无法显示）"


def _short_exc(exc: BaseException) -> str:
    raw = _safe_str(exc).strip()
    text = raw.splitlines()[0] if raw else ""
    if _matmul_error(exc):
        # numpy's gufunc message is long; keep the part a learner can act on
        sizes = re.search(r"\(size \d+ is different from \d+\)", text)
        text = "矩阵乘法 @ 的形状对不上" + (f" {sizes.group(0)}" if sizes else f"（{text[:80]}）")
    if len(text) > 140:
        text = text[:137] + "..."
    name = _fn_name(type(exc))
    return f"{name}: {text}" if text else name


_NOT_LEARNER = tuple(
    os.path.dirname(os.path.abspath(p)) + os.sep
    for p in (np.__file__, __file__, os.__file__, contextlib.__file__)
)


def _source(fn) -> str:
    """The source text of the learner's function ("" when Python cannot find it)."""
    try:
        return inspect.getsource(fn)
    except Exception:  # built-ins, functions typed at a plain REPL, odd callables
        return ""


def _error_line(exc: BaseException) -> str:
    """The learner's line of code where ``exc`` was raised (last frame outside numpy,
    the standard library and this package), or "" when it is not known."""
    try:
        frames = traceback.extract_tb(exc.__traceback__)
    except Exception:
        return ""
    for fr in reversed(frames):
        filename = os.path.abspath(fr.filename) if fr.filename else ""
        if filename.startswith(_NOT_LEARNER) or "site-packages" in filename or fr.filename.startswith("<frozen"):
            continue
        line = (fr.line or "").strip()
        return line[:100] if line else ""
    return ""


def _fmt(x, digits: int = 4) -> str:
    x = float(x)
    if not np.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    if 1e-4 <= abs(x) < 1e6:
        return np.format_float_positional(x, precision=digits, unique=False, fractional=False, trim="-")
    return f"{x:.{max(digits - 1, 0)}e}"


def _fmt_pair(a, b) -> tuple[str, str]:
    """``a`` and ``b`` with just enough significant digits that they read differently."""
    for digits in range(4, 18):
        sa, sb = _fmt(a, digits), _fmt(b, digits)
        if sa != sb:
            return sa, sb
    return repr(float(a)), repr(float(b))


def _largest_difference(value, expected, float32) -> str:
    """Where the two arrays differ most, both numbers shown so that they visibly differ."""
    a = _as_array(value)
    b = _as_array(expected)
    rtol, atol = _tol(float32)
    with np.errstate(all="ignore"):
        bad = ~np.isclose(a, b, rtol=rtol, atol=atol)
        if not bad.any():
            return ""
        gap = np.where(bad, np.abs(a - b), -1.0)
        gap = np.where(bad & ~np.isfinite(gap), np.inf, gap)
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(gap)), gap.shape))
    sa, sb = _fmt_pair(a[idx], b[idx])
    where = f"位置 {idx}" if idx else "这个数"
    count = int(bad.sum())
    extra = f"（共 {count} 处不同）" if count > 1 else ""
    return f"差别最大的是{where}：你的结果 {sa}，参考答案 {sb}{extra}。"


_first_difference = _largest_difference  # old name, kept for checkers written against it


# --- recording verdicts (opt-in, local file only) --------------------------------

def _env_text(name: str) -> str | None:
    """An environment variable as text that can be written as UTF-8 (None when unset or empty):
    bytes that are not UTF-8 (which Python passes on as lone surrogates) become U+FFFD."""
    value = os.environ.get(name) or None
    if value is not None:
        value = os.fsencode(value).decode("utf-8", "replace")
    return value


_record = {"path": os.environ.get("COURSE_CHECKS_RECORD") or None,
           "student": _env_text("COURSE_CHECKS_STUDENT")}


def _record_file(path) -> str:
    path = os.path.expanduser(os.fspath(path))
    if os.path.isdir(path) or path.endswith(os.sep):
        path = os.path.join(path, "checks.jsonl")
    return path


def record_to(path=None, *, student: str | None = None) -> str | None:
    """Turn recording of verdicts on (``path``: a ``.jsonl`` file or a folder) or off (``None``).

    Every verdict then appends one JSON line to that local file::

        {"time": "2026-03-01T08:15:02Z", "exercise": "softmax", "status": "failed",
         "mistake": "softmax_wrong_axis", "case": "3×5 的分数矩阵"}

    plus ``"student"`` only if the teacher passes one (or sets ``COURSE_CHECKS_STUDENT``).
    Nothing else is recorded (no code, no values, no user or machine names) and
    nothing leaves the machine.  Off by default; the environment variable
    ``COURSE_CHECKS_RECORD=<path>`` turns it on for a whole Jupyter session.
    Returns the file written to (or None).
    """
    if path is None:
        _record["path"] = None
        _record["student"] = student
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file or folder path (str), got {type(path).__name__}")
    if student is not None and not isinstance(student, str):
        raise TypeError(f"student must be a string or None, got {type(student).__name__}")
    if student is not None:
        _v.check_text(student, "student", allow_empty=True)   # it is written to a UTF-8 file
    target = _record_file(path)
    folder = os.path.dirname(target) or "."
    if not os.path.isdir(folder):
        raise ValueError(f"path: folder {folder!r} does not exist")
    try:
        with open(target, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise ValueError(f"path: cannot write to {target!r} ({exc.strerror})") from None
    except ValueError as exc:   # a name the file system cannot take (e.g. a lone surrogate)
        raise ValueError(f"path: cannot write to {target!r} ({exc})") from None
    _record["path"] = target
    _record["student"] = student
    return target


def _write_record(outcome: Outcome, exercise: str) -> None:
    path = _record["path"]
    if not path:
        return
    entry = {
        "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "exercise": exercise,
        "status": outcome.status,
        "mistake": outcome.mistake,
        "case": outcome.case,
    }
    if _record["student"]:
        entry["student"] = _record["student"]
    try:
        with open(_record_file(path), "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    except (OSError, ValueError):  # ValueError: text that cannot be encoded
        pass  # recording is a teacher's convenience; it never breaks a learner's check


def _well_formed(entry) -> bool:
    """A record as :func:`_write_record` writes it: a dict with a str ``exercise`` and text or null fields."""
    return (isinstance(entry, dict) and isinstance(entry.get("exercise"), str)
            and all(entry.get(k) is None or isinstance(entry.get(k), str)
                    for k in ("time", "status", "mistake", "case", "student")))


def read_records(folder) -> list[dict]:
    """All verdicts recorded in ``folder`` (every ``*.jsonl`` below it) or in one file.

    Each record gets ``"file"`` (its path relative to ``folder``); malformed lines are skipped:
    not JSON, not an object, no str ``exercise``, or a ``time`` / ``status`` / ``mistake`` /
    ``case`` / ``student`` that is neither a str nor null.
    """
    if not isinstance(folder, (str, os.PathLike)):
        raise TypeError(f"folder must be a folder or file path (str), got {type(folder).__name__}")
    root = os.path.expanduser(os.fspath(folder))
    if os.path.isfile(root):
        files, base = [root], os.path.dirname(root)
    elif os.path.isdir(root):
        files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".jsonl"))
        base = root
    else:
        raise ValueError(f"folder: {folder!r} is neither a folder nor a file")
    records = []
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if _well_formed(entry):
                    entry["file"] = os.path.relpath(path, base)
                    records.append(entry)
    return records


def summarize_records(folder, *, show: bool = True) -> list[dict]:
    """Which named mistakes a class made: one row per (exercise, verdict, mistake).

    ``folder``: a folder of ``.jsonl`` files written by :func:`record_to` (one per
    learner, e.g. collected from the class) or one such file.  Each row has
    ``exercise``, ``status``, ``mistake`` (None for ✅ / unnamed), ``count`` (verdicts)
    and ``learners`` (distinct ``student`` labels, or files when there are none).
    Prints the table (Chinese header) unless ``show=False``; returns the rows,
    most frequent first within each exercise.
    """
    _check_bool(show, "show")
    groups: dict = {}
    for r in read_records(folder):
        key = (r.get("exercise"), r.get("status"), r.get("mistake"))
        g = groups.setdefault(key, {"count": 0, "who": set()})
        g["count"] += 1
        g["who"].add(r.get("student") or r["file"])
    rows = [
        {"exercise": ex, "status": st, "mistake": mk, "count": g["count"], "learners": len(g["who"])}
        for (ex, st, mk), g in groups.items()
    ]
    rows.sort(key=lambda r: (str(r["exercise"]), -r["count"], str(r["status"]), str(r["mistake"])))
    if show:
        print(_records_table(rows))
    return rows


def _records_table(rows) -> str:
    header = ("练习", "结论", "错误 id", "次数", "人数")
    body = [(str(r["exercise"]), str(r["status"]), r["mistake"] or "—", str(r["count"]), str(r["learners"]))
            for r in rows]
    if not body:
        return "（还没有记录）"

    def width(s):  # CJK characters take two columns in a monospace font
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)

    cols = [max(width(line[i]) for line in [header, *body]) for i in range(5)]

    def fmt(line):
        cells = [c + " " * (w - width(c)) if i < 3 else " " * (w - width(c)) + c
                 for i, (c, w) in enumerate(zip(line, cols))]
        return "  ".join(cells).rstrip()

    return "\n".join([fmt(header), fmt(tuple("-" * w for w in cols)), *map(fmt, body)])


# --- strict mode (grading) ------------------------------------------------------

@contextmanager
def strict(on: bool = True):
    """Within this block a wrong or unfinished answer raises ``AssertionError``
    whose message is the checker's Chinese verdict and hint (for nbgrader /
    otter-grader test cells)::

        with checks.strict():
            checks.check_softmax(my_softmax)
    """
    token = _strict_var.set(_check_bool(on, "on"))
    try:
        yield
    finally:
        _strict_var.reset(token)


def set_strict(on: bool = True) -> None:
    """Module-level switch: every later check is strict (``on=True``) or not."""
    global STRICT
    STRICT = _check_bool(on, "on")


def _check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _is_strict() -> bool:
    value = _strict_var.get()
    return STRICT if value is None else value


def _exercise_name() -> str:
    """The exercise being checked: the nearest ``check_*`` function on the call stack."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_name
        if name.startswith("check_"):
            return name[len("check_"):]
        frame = frame.f_back
    return "?"


def _report(outcome: Outcome) -> Outcome:
    """Print the verdict (raise it in strict mode) and record it when recording is on."""
    __tracebackhide__ = True  # noqa: F841
    _write_record(outcome, _exercise_name())
    if _is_strict() and outcome.status != "passed":
        raise AssertionError(outcome.message) from None
    # one write (print's separate "\n" can reach Jupyter as a second output chunk)
    print(outcome.message + "\n", end="")
    return outcome


def _checker(check):
    """Give a ``check_*(fn)`` the keywords ``strict=`` and ``time_limit=`` (seconds per call)."""
    @functools.wraps(check)
    def wrapper(fn, *args, strict: bool | None = None, time_limit: float | None = None, **kwargs):
        if strict is not None:
            _check_bool(strict, "strict")
        # None = the module's TIME_LIMIT; float("inf") = no limit (stored as 0: "no limit")
        limit = None if time_limit is None else (_v.check_time_limit(time_limit) or 0.0)
        tokens = [(_strict_var, _strict_var.set(bool(strict)))] if strict is not None else []
        if limit is not None:
            tokens.append((_limit_var, _limit_var.set(limit)))
        __tracebackhide__ = True  # noqa: F841 - IPython / pytest hide this frame
        try:
            return check(fn, *args, **kwargs)
        except AssertionError as exc:
            # strict mode: raise afresh from here, so a grader's traceback is the test
            # cell's line and the verdict, not the checker's insides
            raise AssertionError(*exc.args) from None
        finally:
            for var, token in reversed(tokens):
                var.reset(token)

    sig = inspect.signature(check)
    extra = [inspect.Parameter("strict", inspect.Parameter.KEYWORD_ONLY, default=None),
             inspect.Parameter("time_limit", inspect.Parameter.KEYWORD_ONLY, default=None)]
    wrapper.__signature__ = sig.replace(parameters=[*sig.parameters.values(), *extra])
    return wrapper


# --- verdicts -------------------------------------------------------------------

def _fail(case: Case, mistake: str, detail: str = "") -> Outcome:
    msg = f"❌ 在「{case.label}」这组输入上不对：{HINTS[mistake]}"
    if detail:
        msg += "\n   " + detail
    return Outcome("failed", mistake=mistake, message=msg, case=case.label)


def _pending(fn) -> Outcome:
    return Outcome("pending", message=PENDING.format(name=_fn_name(fn)))


def _own_nodes(node):
    """The nodes of a function's body, without descending into nested functions, lambdas or classes."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        yield child
        yield from _own_nodes(child)


def _returns_nothing(node: ast.Return) -> bool:
    """``return``, ``return None`` or ``return print(...)``: a return statement that hands back no result."""
    v = node.value
    return (v is None or (isinstance(v, ast.Constant) and v.value is None)
            or (isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "print"))


def _body_kind(fn) -> str:
    """How far the learner's function got, read from its source:
    "no_return" (it has code but no ``return <value>`` anywhere: the learner forgot ``return``),
    "kept_return_none" (it has code, and its only returns give nothing back — typically the starter's
    ``return None`` left below the new code, or ``return print(Z)``),
    or "unknown" (a starter body such as ``return None`` / ``pass``, a ``return <value>``,
    a lambda, or no source available: today's ⏳ verdict)."""
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    if code is None or code.co_name == "<lambda>":
        return "unknown"
    try:
        tree = ast.parse(textwrap.dedent(_source(fn)))
    except Exception:
        return "unknown"
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == code.co_name]
    if len(defs) != 1:
        return "unknown"
    body = list(defs[0].body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]   # the docstring
    starter = all(isinstance(s, ast.Pass) or (isinstance(s, ast.Return) and _returns_nothing(s)
                                               and not isinstance(s.value, ast.Call))
                  or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)) for s in body)
    returns = [n for n in _own_nodes(defs[0]) if isinstance(n, ast.Return)]
    if starter or any(not _returns_nothing(n) for n in returns):
        return "unknown"
    return "kept_return_none" if returns else "no_return"


def _mistake_candidates(m: Mistake, case: Case):
    """(value, rows, param) for each way mistake ``m`` can be evaluated on ``case``."""
    for p in (m.params if m.params is not None else (None,)):
        args = _copy_args(case.args) + (() if m.params is None else (p,))
        cand = _quiet(m.fn, *args)
        if cand is None:
            continue
        rows = None
        if isinstance(cand, _Rows):
            cand, rows = cand
        yield cand, rows, p


def _explains(m: Mistake, p, case: Case, value) -> bool:
    args = _copy_args(case.args) + (() if m.params is None else (p,))
    cand = _quiet(m.fn, *args)
    if cand is None:
        return True  # the mistake cannot be evaluated there: no evidence against it
    rows = None
    if isinstance(cand, _Rows):
        cand, rows = cand
    return _close(value, cand, case.float32, equal_nan=True, rows=rows)


def _diagnose(value, case: Case, mistakes, others=(), *, with_detail=False):
    """The id of the mistake that reproduces ``value`` on ``case``.

    When several do, the first one that also reproduces the learner's results
    on the ``others`` ((case, value) pairs of the other inputs) wins, so that,
    e.g., a hard-coded √3 is not mistaken for "d_k taken from V" on an input where
    d_v happens to be 3.  ``with_detail=True`` returns (id, detail sentence).
    """
    matches = []
    for m in mistakes:
        for cand, rows, p in _mistake_candidates(m, case):
            if _close(value, cand, case.float32, equal_nan=True, rows=rows):
                matches.append((m, p))
                break
    chosen = None
    for m, p in matches:
        if all(_explains(m, p, c, v) for c, v in others):
            chosen = (m, p)
            break
    if chosen is None and matches:
        chosen = matches[0]
    if chosen is None:
        return (None, "") if with_detail else None
    m, p = chosen
    detail = m.detail(p) if (m.detail is not None and m.params is not None) else ""
    return (m.key, detail) if with_detail else m.key


_CALL_VERDICTS = MappingProxyType({
    "timeout": "timeout",
    "interrupted": "interrupted",
    "exit": "system_exit",
    "mutated": "mutated_input",
    "forbidden": "uses_course_impl",
})


def _call_verdict(status, exc, case: Case, fn, limit) -> Outcome:
    """The verdict for a call that did not return a value to compare."""
    key = _CALL_VERDICTS[status]
    if status == "timeout":
        seconds = f"{limit:g}" if limit else "?"
        msg = (f"❌ 你的函数在「{case.label}」这组输入上运行了 {seconds} 秒还没有返回，检查已停止："
               f"{HINTS[key]}")
        if _safe_str(exc) == "thread":
            msg += "\n   （它可能还在后台运行；重启内核（Kernel → Restart）可以把它停下。）"
        return Outcome("timeout", mistake=key, message=msg, case=case.label)
    if status == "interrupted":
        return Outcome("interrupted", mistake=key, message=f"⏹ {HINTS[key]}", case=case.label)
    if status == "exit":
        msg = f"❌ 你的函数在「{case.label}」这组输入上调用了 exit（{_short_exc(exc)}）：{HINTS[key]}"
        return Outcome("error", mistake=key, message=msg, case=case.label)
    if status == "mutated":
        if isinstance(dict(zip(_param_names(fn), case.args)).get(exc), list):
            key = "mutated_list"
        return _fail(case, key, f"被修改的参数：{exc}")
    impl = str(exc)
    module, _, short = impl.rpartition(".")
    if module == "solutions":
        shown = f"参考答案 solutions.{short}"
    elif module in ("attention", "tokens"):
        shown = f"helpers.{impl}（也就是 h.{short}）"
    else:
        shown = f"helpers.{impl}"
    return _fail(case, key, f"你的函数调用了 {shown}。")


def _evaluate(fn, cases, mistakes, verified, *, prepare=None, on_error=None, compare=None,
              forbidden=None, time_limit=None) -> Outcome:
    if fn is None:
        return _pending(fn)
    if not callable(fn):
        return Outcome("not_callable", mistake="not_callable", message=f"❌ {HINTS['not_callable']}")
    limit = _time_limit() if time_limit is None else time_limit
    all_warnings: list[str] = []
    seen: list = []   # (case, prepared value) of the inputs that went right
    for i, case in enumerate(cases):
        status, value, exc, msgs = _call(fn, case.args, time_limit=limit or 0, forbidden=forbidden)
        all_warnings += msgs
        kind = _body_kind(fn) if status == "none" and i == 0 else "unknown"
        if kind != "unknown":
            why = (HINTS["forgot_return"] if kind == "no_return" else
                   "你写了代码，但函数交回的仍然是 None（起始代码的 return None 还在，或者写成了 return print(...)）："
                   "把它换成你算出的结果，例如 return Z。")
            msg = f"❌ 你的函数在「{case.label}」这组输入上运行完了，但返回的是 None。{why}"
            return Outcome("failed", mistake="forgot_return", message=msg, case=case.label)
        if status == "pending" or (status == "none" and i == 0):
            return _pending(fn)
        if status == "none":   # right so far, then None: a branch without return, not an unfinished exercise
            msg = (f"❌ 你的函数在「{case.label}」这组输入上返回了 None（前 {i} 组输入都有结果）："
                   f"{HINTS['returned_none']}")
            return Outcome("failed", mistake="returned_none", message=msg, case=case.label)
        if status in _CALL_VERDICTS and status != "forbidden":
            return _call_verdict(status, exc, case, fn, limit)
        if status == "error":
            try:
                exc._checks_line = _error_line(exc)   # on_error may look at the line …
                exc._checks_source = _source(fn)      # … and at the learner's whole function
            except Exception:
                pass
            try:
                key = on_error(exc, case) if on_error else None
            except Exception:  # e.g. an exception whose __str__ fails
                key = None
            msg = f"❌ 你的函数在「{case.label}」这组输入上出错：{_short_exc(exc)}"
            line = getattr(exc, "_checks_line", "")
            if line:
                msg += f"\n   出错的代码：{line}"
            if key:
                msg += f"\n   提示：{HINTS[key]}"
            return Outcome("error", mistake=key, message=msg, case=case.label)
        try:
            verdict = _judge(fn, value, case, cases[i + 1:], seen, mistakes, msgs,
                             prepare=prepare, compare=compare, forbidden=forbidden, limit=limit)
        except (KeyboardInterrupt, _Timeout):
            return _call_verdict("interrupted", None, case, fn, limit)
        except BaseException as exc:  # noqa: BLE001 - a returned object whose methods fail
            msg = f"❌ 在「{case.label}」这组输入上无法检查你的返回值：{_short_exc(exc)}"
            return Outcome("failed", message=msg, case=case.label)
        if verdict is not None:
            return verdict
        if status == "forbidden":  # right, but only by calling the course's own implementation
            return _call_verdict(status, exc, case, fn, limit)
    msg = f"✅ 正确！在 {len(cases)} 组输入上与参考实现一致（{verified}）。"
    if all_warnings:
        msg += _warning_note(all_warnings[0])
    return Outcome("passed", message=msg, warnings=all_warnings)


def _judge(fn, value, case, later, seen, mistakes, msgs, *, prepare, compare, forbidden, limit):
    """None if ``value`` is right on ``case`` (then remembered in ``seen``), else the verdict."""
    if _has_masked(value):   # np.asarray would drop the mask and compare the hidden numbers
        return _fail(case, "masked_result")
    if prepare is not None:
        value, key = prepare(value, case)
        if key:
            return _fail(case, key)
    try:
        ok = compare(value, case) if compare else _close(value, case.expected, case.float32)
    except _Diagnosed as d:
        return _fail(case, d.key, d.detail)
    if ok:
        seen.append((case, value))
        return None
    others = list(seen)
    if len(mistakes) > 1:   # the learner's results on the remaining inputs break ties
        for c in later:
            status, v, _, _ = _call(fn, c.args, time_limit=limit or 0, forbidden=forbidden)
            if status in ("ok", "forbidden"):
                if prepare is not None:
                    v, bad = prepare(v, c)
                    if bad:
                        continue
                others.append((c, v))
    key, detail = _diagnose(value, case, mistakes, others, with_detail=True)
    if key:
        return _fail(case, key, detail)
    # only a real overflow (exp of a huge score) is named as one; "invalid value" alone comes from
    # −inf − (−inf) or 0/0, e.g. a row whose keys are all masked, and gets the generic hint
    overflowed = any(m.startswith("overflow encountered") for m in msgs)
    arr = _as_array(value)
    if arr is not None and arr.dtype.kind == "f" and (overflowed or not np.all(np.isfinite(arr))):
        return _fail(case, "softmax_overflow" if overflowed else "nonfinite")
    return Outcome("failed", message=f"❌ 在「{case.label}」这组输入上不对：{_describe(value, case)}",
                   case=case.label)


def _run(
    fn,
    cases: list[Case],
    mistakes: list[Mistake],
    verified: str,
    *,
    prepare: Callable | None = None,
    on_error: Callable | None = None,
    compare: Callable | None = None,
    forbidden=None,
    time_limit: float | None = None,
) -> Outcome:
    """Run ``fn`` on every case; print (or, in strict mode, raise) and return the verdict.

    prepare(value, case) -> (value, mistake_id_or_None): normalise / reject the
        learner's raw return value before comparing (e.g. unpack a tuple).
    on_error(exc, case) -> mistake id or None: name the mistake behind an exception
        (``exc._checks_line`` holds the learner's line of code that raised, or "").
    compare(value, case) -> bool: custom equality (default: allclose, same shape);
        may raise ``_Diagnosed(key, detail)`` to name a mistake.
    forbidden: names like ``("attention.softmax",)`` of the course's own functions
        that ARE the exercise; a learner function that calls one (or any reference
        solution in :mod:`helpers.solutions`) is told so instead of ✅.
    time_limit: seconds per call (default :data:`TIME_LIMIT`, or the checker's ``time_limit=``).
    """
    return _report(_evaluate(fn, cases, mistakes, verified, prepare=prepare, on_error=on_error,
                             compare=compare, forbidden=forbidden, time_limit=time_limit))


def _describe_one(value, expected, float32, name="") -> str:
    """Why ``value`` differs from ``expected``: type, dtype, shape or largest difference
    (in the words of a number when ``expected`` is one number, of an array otherwise)."""
    label = f"你的 {name} " if name else "你的结果"
    exp = _as_array(expected)
    arr = _as_array(value)
    scalar = exp.ndim == 0 and not isinstance(expected, np.ndarray)
    if arr is None:
        if _has_masked(value):
            return HINTS["masked_result"]
        if scalar:
            return f"{label}是 {type(value).__name__}，应该是一个数（int 或 float）。"
        if isinstance(value, np.ndarray):
            return f"{label}的数据类型是 {value.dtype}，应该是实数数组（float）。"
        return f"{label}是 {type(value).__name__}，应该是一个 NumPy 数组。"
    if arr.shape != exp.shape:
        if scalar and arr.size == 1:   # advice that works on this very value (float(array([x])) fails in NumPy 2)
            if isinstance(value, (list, tuple)) and arr.ndim == 1:
                kind = "列表 (list)" if isinstance(value, list) else "元组 (tuple)"
                return f"{label}是只含 1 个元素的{kind}，应该是一个数：用 x[0] 取出它（x 是你要返回的{kind[:2]}）。"
            if isinstance(value, (list, tuple)):
                return f"{label}是只含 1 个元素的嵌套列表，应该是一个数：用 np.asarray(x).item() 取出它。"
            return (f"{label}是一个只含 1 个元素的数组（形状 {arr.shape}），应该是一个数："
                    f"用 .item() 取出它（例如 return x.item()）。")
        if scalar:
            return f"{label}是形状为 {arr.shape} 的数组，应该是一个数（int 或 float）。"
        rows = "（行 = 词/查询）" if exp.ndim == 2 else ""
        return f"{label}形状是 {arr.shape}，应该是 {exp.shape}{rows}。"
    diff = _largest_difference(arr, exp, float32)
    if diff and not float32 and arr.dtype.kind == "f" and _float32_level(arr, exp):
        diff += "\n   差别只在第 6、7 位有效数字：看起来你在 float32 下计算（例如用了 np.float32 或 .astype），请保持 float64。"
    if not diff:
        unequal = arr != exp
        if not unequal.any():   # same numbers: the kind of value is what was refused
            kind = "一个数（int 或 float）" if scalar else "一个 NumPy 数组"
            return f"{label}的数值与参考答案相同，但它是 {type(value).__name__}：请返回{kind}。"
        # equal within the tolerance, but this exercise compares exactly (e.g. a count)
        idx = _v.first_index(unequal) if arr.ndim else ()
        sa, sb = _fmt_pair(arr[idx], exp[idx])
        diff = f"差别在{'位置 ' + str(idx) if idx else '这个数'}上：你的结果 {sa}，参考答案 {sb}（这个练习要求完全相等）。"
    return f"{label}与参考实现不一致。" + diff


def _float32_level(arr, exp) -> bool:
    """Every entry of ``arr`` equals ``exp`` up to float32 rounding (float32 eps ≈ 1.2e-7, a few operations)."""
    with np.errstate(all="ignore"):
        return bool(np.all(np.isfinite(arr)) and np.allclose(arr, exp, rtol=1e-5, atol=1e-7))


def _describe(value, case: Case) -> str:
    if isinstance(case.expected, tuple):  # several matrices, e.g. (Q, K, V)
        for name, v, e in zip(("Q", "K", "V"), value, case.expected):
            if not _close(v, e, case.float32):
                return _describe_one(v, e, case.float32, name)
    return _describe_one(value, case.expected, case.float32)


#: the checkers' own copy of :data:`helpers.SEED_EXAMPLE`: whatever a notebook does to the
#: public one, the expected answers stay the source chapter's numbers
_SEED = MappingProxyType({k: _v.read_only_array(v) if isinstance(v, np.ndarray) else v for k, v in SEED_EXAMPLE.items()})


def _rng(seed):
    return np.random.default_rng(seed)


def _randn(rng, *shape, scale=1.0):
    return np.round(rng.standard_normal(shape) * scale, 2)


def _float32_if(f32: bool, arrays) -> tuple:
    """A float32 case gets float32 inputs (its reference is still computed in float64)."""
    return tuple(a.astype(np.float32) for a in arrays) if f32 else tuple(arrays)


def _random_xw(seed, n, d_model, d_k, d_v, *, scale=1.0, f32=False, w_scale=1.0, offset=0.0) -> tuple:
    """``(X, W_Q, W_K, W_V)``: X (n, d_model) times ``scale``, W_Q/W_K (d_model, d_k), W_V (d_model, d_v)
    times ``w_scale``.

    ``offset`` > 0: every score Q Kᵀ/√d_k gets the same ``offset`` added (X's last column is 1
    and maps to column 0 of Q and K), so the scores are large (a naive exp overflows) while the
    weights, which ignore a shift shared by a whole row, stay as moderate as without it.
    """
    rng = _rng(seed)
    X = _randn(rng, n, d_model, scale=scale)
    W = [_randn(rng, d_model, d_k, scale=w_scale), _randn(rng, d_model, d_k, scale=w_scale),
         _randn(rng, d_model, d_v, scale=w_scale)]
    if offset:
        a = np.sqrt(offset * np.sqrt(d_k))
        X[:, -1] = 1.0
        for Wm in W[:2]:
            Wm[:, 0] = 0.0
            Wm[-1, :] = 0.0
            Wm[-1, 0] = a
    return _float32_if(f32, (X, *W))


def _random_qkv(seed, n_q, n_k, d_k, d_v, *, scale=1.0, f32=False, offset=0.0) -> tuple:
    """``(Q, K, V)``: Q (n_q, d_k) and K (n_k, d_k) times ``scale``, V (n_k, d_v).

    ``offset`` > 0: column 0 of Q and K is constant, so every score Q Kᵀ/√d_k gets the same
    ``offset`` added (large scores with moderate weights, see :func:`_random_xw`).
    """
    rng = _rng(seed)
    Q, K = _randn(rng, n_q, d_k, scale=scale), _randn(rng, n_k, d_k, scale=scale)
    if offset:
        Q[:, 0] = K[:, 0] = np.sqrt(offset * np.sqrt(d_k))
    return _float32_if(f32, (Q, K, _randn(rng, n_k, d_v)))


def _broadcast_shapes(exc) -> list:
    """The operand shapes named by numpy's "could not be broadcast together" error, else []."""
    text = _safe_str(exc)
    if not isinstance(exc, ValueError) or "broadcast" not in text:
        return []
    return [tuple(int(x) for x in grp.split(",") if x.strip()) for grp in re.findall(r"\(([\d,\s]*)\)", text)]


def _line(exc) -> str:
    """The learner's line of code that raised ``exc`` (set by ``_evaluate``; "" if unknown)."""
    return getattr(exc, "_checks_line", "") or ""


#: divisors a learner may hard-code instead of √d_k: (shown as, value)
_HARD_CODED = tuple((f"√{k}", float(np.sqrt(k))) for k in range(2, 65)) + tuple(
    (f"{k}", float(k)) for k in range(3, 17) if int(np.sqrt(k)) ** 2 != k)


def _hard_coded_detail(p) -> str:
    shown, value = p
    return f"你的结果相当于除以写死的 {shown}（≈ {value:.4g}）。"


def _matmul_error(exc) -> bool:
    text = _safe_str(exc)
    return isinstance(exc, ValueError) and (
        "matmul" in text or "not aligned" in text or "core dimension" in text
    )


# ---------------------------------------------------------------------------
# reference pieces used by the mistake catalogue
# ---------------------------------------------------------------------------

def _ref_softmax(x, axis=-1):
    return _att.softmax(x, axis=axis)


def _naive_softmax(x, axis=-1):
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def _mean_softmax(x, axis=-1):
    """Softmax shifted by each row's mean (over the keys it may see) instead of its maximum:
    exact in exact arithmetic, but exp overflows once a score lies > 709 above the mean."""
    x = np.asarray(x, dtype=np.float64)
    seen = np.isfinite(x)
    mean = np.where(seen, x, 0.0).sum(axis=axis, keepdims=True) / np.maximum(seen.sum(axis=axis, keepdims=True), 1)
    e = np.exp(x - mean)
    return e / e.sum(axis=axis, keepdims=True)


def _typed_mean_softmax(s, unmasked=None):
    """``e = np.exp(s - s.mean(-1, keepdims=True))`` typed literally: a row holding −inf has the
    mean −inf, and −inf − (−inf) = nan.  ``unmasked``: the mean was taken before masking."""
    base = s if unmasked is None else unmasked
    with np.errstate(all="ignore"):
        e = np.exp(s - np.mean(base, axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)


#: label start of the cases whose scores span about 2000 within one row (only a max shift keeps exp finite)
_SPREAD = "一行之内分数相差约 2000"


def _spread_qk(rows) -> tuple:
    """``(Q, K)`` with d_k = 2 whose scaled scores Q Kᵀ/√2 are ±1000 or 0: key 0 points along +x, key 1
    along −x, key 2 along y; ``rows`` names each query's direction ("x" or "y")."""
    c = np.sqrt(1000.0 * np.sqrt(2.0))
    K = c * np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])
    Q = c * np.array([[1.0, 0.0] if r == "x" else [0.0, 1.0] for r in rows])
    return Q, K


#: label start of the causal cases where a query's only visible score (−1000) lies 700 below a blocked one
_BLOCKED = "被挡住的键分数远高于能看的键"

#: scaled scores of the _BLOCKED cases (rows = queries): query 0 sees only key 0 (−1000) while the
#: blocked key 1 scores −300, so a fill that is not far below −1000 hands the weight to the future;
#: the gap stays < 745, so "softmax, zero the future, renormalise" (exact, ch07) does not underflow;
#: query 3 sees scores from −1000 to +1000 (a naive or mean-shifted softmax overflows there)
_BLOCKED_SCORES = _v.read_only_array([[-1000.0, -300.0, -1000.0, -1000.0],
                                      [0.3, -0.2, -0.5, 0.1],
                                      [0.5, 0.1, -0.3, 0.2],
                                      [1000.0, -1000.0, 0.0, 0.5]])


def _blocked_qk(n: int = 4) -> tuple:
    """``(Q, K)`` with d_k = 4 and Q Kᵀ/√4 = the first ``n`` rows and columns of :data:`_BLOCKED_SCORES` (K = 2·I)."""
    return _BLOCKED_SCORES[:n, :4].copy(), 2.0 * np.eye(4)[:n]

#: finite fills a learner may use for blocked scores that are not small enough for the _BLOCKED cases
_SMALL_FILLS = (-10.0, -20.0, -50.0, -100.0, -200.0, -500.0, -700.0, -1000.0)


def _sdpa(Q, K, V, *, scale=None, mask=None):
    return _att.scaled_dot_product_attention(Q, K, V, mask=mask, scale=scale)[0]


def _masked_z(Q, K, V, mask, fill=-1e9):
    """Attention with a boolean mask, filling with a finite value (rows with nothing allowed stay defined)."""
    s = Q @ K.T / np.sqrt(Q.shape[-1])
    s = np.where(mask, s, fill)
    return _Rows(_ref_softmax(s) @ V, mask.any(axis=-1))


# ---------------------------------------------------------------------------
# ch01: X -> Q, K, V
# ---------------------------------------------------------------------------

def _qkv_cases():
    cases = []
    for label, n, d_model, d_k, d_v, seed, f32 in [
        ("4 个词，d_model=6，d_k=3，d_v=5", 4, 6, 3, 5, 11, False),
        ("1 个词", 1, 6, 3, 5, 12, False),
        ("float32，5 个词，d_model=8，d_k=4，d_v=2", 5, 8, 4, 2, 13, True),
    ]:
        args = _random_xw(seed, n, d_model, d_k, d_v, f32=f32)
        cases.append(Case(label, args, _att.project_qkv(*_f64(args)), f32))
    return cases


def _qkv_prepare(value, case):
    if isinstance(value, np.ndarray) or not isinstance(value, (tuple, list)) or len(value) != 3:
        return value, "qkv_not_tuple"
    return tuple(value), None


def _projection_error(matmul_key: str, elementwise_key: str):
    """An error mapper for projection exercises: a matmul shape error or a broadcasting error."""
    def mapper(exc, case):
        if _matmul_error(exc):
            return matmul_key
        if _broadcast_shapes(exc):
            return elementwise_key
        return None
    return mapper


_qkv_error = _projection_error("qkv_matmul_order", "qkv_elementwise")


def _qkv_compare(value, case):
    return all(_close(v, e, case.float32) for v, e in zip(value, case.expected))


@_checker
def check_qkv_projection(fn) -> None:
    """ch01: ``fn(X, W_Q, W_K, W_V) -> (Q, K, V)`` with rows = tokens."""
    cases = _qkv_cases()

    def compare(value, case):
        if _qkv_compare(value, case):
            return True
        X, WQ, WK, WV = case.args
        projections = [X @ WQ, X @ WK, X @ WV]
        # each returned matrix is one of the three projections, but not the right one
        if all(any(_close(v, p, case.float32) for p in projections) for v in value):
            raise _Diagnosed("qkv_swapped_weights")
        if all(_close(v, (X @ W).T, case.float32) for v, W in zip(value, (WQ, WK, WV))):
            raise _Diagnosed("qkv_transposed")
        if all(_close(v, X, case.float32) for v in value):
            raise _Diagnosed("qkv_not_projected")
        return False

    _run(fn, cases, [], "含 1 个词、d_v≠d_k、float32", prepare=_qkv_prepare, compare=compare,
         on_error=_qkv_error,
         forbidden=("attention.project_qkv", "attention.project", "attention.self_attention"))


# ---------------------------------------------------------------------------
# ch02 / ch03: scores
# ---------------------------------------------------------------------------

def _qk_cases(dk16: bool):
    specs = [
        ("3 个查询 × 5 个键，d_k=4（n_q≠n_k）", 3, 5, 4, 21, False),
        ("4 个词（方阵），d_k=4", 4, 4, 4, 22, False),
        ("1 个词", 1, 1, 4, 23, False),
    ]
    if dk16:
        specs.append(("2 个查询 × 3 个键，d_k=16", 2, 3, 16, 24, False))
    specs.append(("float32，3 个查询 × 2 个键，d_k=8", 3, 2, 8, 25, True))
    cases = []
    for label, n_q, n_k, d_k, seed, f32 in specs:
        rng = _rng(seed)
        cases.append(Case(label, _float32_if(f32, (_randn(rng, n_q, d_k), _randn(rng, n_k, d_k))), None, f32))
    seed_case = Case("原教程的例子 q1 与 K", (_SEED["q1"].copy(), _SEED["K"].copy()), None)
    cases.insert(3, seed_case)
    return cases


def _scores_error(exc, case):
    line = _line(exc).replace(" ", "")
    if _matmul_error(exc):
        if re.search(r"\.T@|(dot|matmul)\(\w+\.T", line):   # the LEFT operand transposed
            return "scores_transpose_wrong"
        return "k_not_transposed"
    shapes = _broadcast_shapes(exc)
    if shapes:
        if (2,) in shapes and "shape" in line:
            return "dk_is_shape"
        return "scores_elementwise"
    return None


def _scores_mistakes(scaled: bool):
    base = [
        Mistake("scores_swapped", lambda Q, K: K @ Q.T),
        Mistake("k_not_transposed", lambda Q, K: Q @ K),
        Mistake("scores_elementwise", lambda Q, K: Q * K),
        Mistake("scores_transpose_wrong", lambda Q, K: Q.T @ K),
    ]
    if not scaled:
        return base + [
            Mistake("scores_already_scaled", lambda Q, K: Q @ K.T / np.sqrt(Q.shape[-1])),
        ]
    return [
        Mistake("forgot_sqrt_dk", lambda Q, K: Q @ K.T),
        Mistake("scaled_by_dk", lambda Q, K: Q @ K.T / Q.shape[-1]),
        Mistake("multiplied_sqrt_dk", lambda Q, K: Q @ K.T * np.sqrt(Q.shape[-1])),
        Mistake("dk_wrong_axis", lambda Q, K: Q @ K.T / np.sqrt(Q.shape[0])),
        Mistake("dk_wrong_axis", lambda Q, K: Q @ K.T / np.sqrt(K.shape[0])),
        Mistake("scores_swapped", lambda Q, K: K @ Q.T / np.sqrt(Q.shape[-1])),
        Mistake("scores_transpose_wrong", lambda Q, K: Q.T @ K / np.sqrt(Q.shape[-1])),
        Mistake("dk_hard_coded", lambda Q, K, p: Q @ K.T / p[1], params=_HARD_CODED, detail=_hard_coded_detail),
        Mistake("k_not_transposed", lambda Q, K: Q @ K / np.sqrt(Q.shape[-1])),
        Mistake("scores_elementwise", lambda Q, K: Q * K / np.sqrt(Q.shape[-1])),
    ]


@_checker
def check_scores(fn) -> None:
    """ch02: ``fn(Q, K) -> Q Kᵀ`` (raw dot-product scores, shape (n_q, n_k))."""
    cases = _qk_cases(dk16=False)
    for c in cases:
        c.expected = _att.attention_scores(*_f64(c.args))
    _run(fn, cases, _scores_mistakes(False), "含 1 个词、n_q≠n_k、原教程例子、float32",
         on_error=_scores_error,
         forbidden=("attention.attention_scores", "attention.scaled_dot_product_attention"))


@_checker
def check_scaled_scores(fn) -> None:
    """ch03: ``fn(Q, K) -> Q Kᵀ / √d_k``."""
    cases = _qk_cases(dk16=True)
    for c in cases:
        Q, K = _f64(c.args)
        c.expected = _att.scale_scores(_att.attention_scores(Q, K), Q.shape[-1])
    _run(fn, cases, _scores_mistakes(True), "含 1 个词、n_q≠n_k、d_k=16、原教程例子、float32",
         on_error=_scores_error,
         forbidden=("attention.scale_scores", "attention.scaled_dot_product_attention"))


# ---------------------------------------------------------------------------
# ch04: softmax
# ---------------------------------------------------------------------------

def _softmax_cases():
    rng = _rng(41)
    cases = [
        Case("3×5 的分数矩阵", (_randn(rng, 3, 5, scale=2.0),), None),
        Case("4×4 的分数矩阵", (_randn(rng, 4, 4, scale=2.0),), None),
        Case("1 个词（1×1）", (np.array([[0.7]]),), None),
        Case("float32，分数在 60~100 之间", ((60 + 40 * rng.random((2, 4))).round(1).astype(np.float32),), None, True),
        Case("大分数（≈1000）", (np.array([[1000.0, 999.0, 998.0], [997.0, 1001.0, 1000.0], [-800.0, 0.0, 10.0]]),), None),
        Case("各行量级相差很大", (np.array([[0.0, 1.0, 2.0, 3.0], [-1000.0, -999.0, -998.0, -1001.0]]),), None),
        Case(f"{_SPREAD}（−1000 … 1000）", (np.array([[-1000.0, 1000.0, 0.0], [1000.0, 999.0, 998.0]]),), None),
    ]
    for c in cases:
        c.expected = _ref_softmax(np.asarray(c.args[0], dtype=np.float64))
    return cases


#: bounds a learner may clip the scores to before exp (float16/32/64 limits and round numbers)
_SOFTMAX_CLIP_BOUNDS = (10, 11, 20, 30, 50, 80, 88, 100, 500, 700, 709)


def _softmax_mistakes():
    def global_max(x):
        e = np.exp(x - np.max(x))
        return e / e.sum(axis=-1, keepdims=True)

    def no_keepdims_max(x):
        e = np.exp(x - np.max(x, axis=-1))
        return e / e.sum(axis=-1, keepdims=True)

    def no_keepdims_sum(x):
        e = np.exp(x - np.max(x, axis=-1, keepdims=True))
        return e / e.sum(axis=-1)

    def sum_axis0(x):
        e = np.exp(x - np.max(x, axis=-1, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)

    def subtract_min(x):
        e = np.exp(x - np.min(x, axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    return [
        Mistake("softmax_wrong_axis", lambda x: _ref_softmax(x, axis=0)),
        Mistake("softmax_wrong_axis", lambda x: _naive_softmax(x, axis=0)),
        Mistake("softmax_whole_matrix", lambda x: np.exp(x - x.max()) / np.exp(x - x.max()).sum()),
        Mistake("softmax_not_normalized", lambda x: np.exp(x)),
        Mistake("softmax_not_normalized", lambda x: np.exp(x - x.max(axis=-1, keepdims=True))),
        # on rows of very different size, global max and naive give the same nan row;
        # a naive softmax has already failed on the "大分数" cases before that one
        Mistake("softmax_global_max", global_max),
        Mistake("softmax_overflow", _naive_softmax),
        Mistake("softmax_keepdims", no_keepdims_max),
        Mistake("softmax_keepdims", no_keepdims_sum),
        Mistake("softmax_subtract_min", subtract_min),
        Mistake("softmax_subtract_mean", _mean_softmax),
        Mistake("softmax_sum_wrong_axis", sum_axis0),
        # clipping the scores to dodge the overflow: the usual bounds, on both sides or only from above
        *[Mistake("softmax_clipped", (lambda x, c=c, lo=lo: _ref_softmax(np.clip(x, lo, c))))
          for c in _SOFTMAX_CLIP_BOUNDS for lo in (-c, None)],
    ]


def _softmax_error(exc, case):
    shapes = _broadcast_shapes(exc)
    if shapes and any(len(sh) == 1 for sh in shapes):  # (n, m) against the (n,) of a reduction
        return "softmax_keepdims"
    return None


@_checker
def check_softmax(fn) -> None:
    """ch04: ``fn(scores) -> weights``, a numerically stable softmax over each row (axis=-1)."""
    _run(fn, _softmax_cases(), _softmax_mistakes(),
         "含 1 个词、非方阵、float32、大分数（≈1000）、各行量级相差很大、一行之内相差约 2000", on_error=_softmax_error,
         forbidden=("attention.softmax", "attention.attention_weights", "attention.scaled_dot_product_attention"))


# ---------------------------------------------------------------------------
# ch05 / ch06: attention
# ---------------------------------------------------------------------------

def _d_v_qkv(Q, K, V):
    return V.shape[-1]


#: label of the large-score case (scores ≈ 800: exp overflows even in float64, weights stay moderate)
_BIG = "float32，分数都在 800 左右"


def _attention_cases():
    # weights are kept moderate (largest weight of a row ≤ 0.85 wherever a row has ≥ 2 keys),
    # so that a scale bug (√d_k forgotten, d_k from V, …) changes the output visibly
    specs = [
        ("4 个词（方阵），d_k=4，d_v=3", 4, 4, 4, 3, 51, 1.0, False, 0.0),
        ("2 个查询 × 5 个键，d_k=3，d_v=6（n_q≠n_k）", 2, 5, 3, 6, 52, 1.0, False, 0.0),
        ("1 个词", 1, 1, 4, 2, 53, 1.0, False, 0.0),
        (f"{_BIG}，3 个查询 × 4 个键，d_k=4，d_v=5", 3, 4, 4, 5, 54, 1.0, True, 800.0),
    ]
    cases = []
    for label, n_q, n_k, d_k, d_v, seed, scale, f32, offset in specs:
        args = _random_qkv(seed, n_q, n_k, d_k, d_v, scale=scale, f32=f32, offset=offset)
        cases.append(Case(label, args, _sdpa(*_f64(args)), f32))
    s = _SEED
    cases.insert(3, Case("原教程的例子 q1、K、V", (s["q1"].copy(), s["K"].copy(), s["V"].copy()),
                         _sdpa(s["q1"], s["K"], s["V"])))
    Q, K = _spread_qk("xy")
    V = _randn(_rng(55), 3, 4)
    cases.append(Case(f"{_SPREAD}，2 个查询 × 3 个键，d_k=2，d_v=4", (Q, K, V), _sdpa(Q, K, V)))
    return cases


#: the course's implementations of a whole attention step (calling one IS the exercise)
_ATTENTION_IMPLS = ("attention.scaled_dot_product_attention", "attention.attention_weights",
                    "attention.weighted_sum", "attention.self_attention", "attention.cross_attention",
                    "attention.multi_head_self_attention")


def _attention_pipeline(Q, K, V, *, scores="qk", scale="sqrt", softmax="stable", apply="v",
                        ret="z", d_k=None, mask=None):
    """Attention with one step done the named (wrong) way; ``mask`` (True = may attend) is applied correctly."""
    d_k = Q.shape[-1] if d_k is None else d_k
    s = {"qk": lambda: Q @ K.T, "kq": lambda: K @ Q.T, "q_k": lambda: Q @ K}[scores]()
    s = raw = {"sqrt": s / np.sqrt(d_k), "none": s, "dk": s / d_k, "after": s}[scale]
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    w = {
        "stable": lambda: _ref_softmax(s),
        "naive": lambda: _naive_softmax(s),
        "axis0": lambda: _ref_softmax(s, axis=0),
        "whole": lambda: np.exp(s - np.max(s)) / np.exp(s - np.max(s)).sum(),
        "none": lambda: s if mask is None else np.where(mask, s, 0.0),
        "mean": lambda: _mean_softmax(s),
        "mean_of_inf": lambda: _typed_mean_softmax(s),
        "mean_before_mask": lambda: _typed_mean_softmax(s, raw),
    }[softmax]()
    if scale == "after":
        w = w / np.sqrt(d_k)
    if ret == "w":
        return w
    return {"v": lambda: w @ V, "k": lambda: w @ K, "vT": lambda: w.T @ V}[apply]()


def _attention_mistakes(pipeline=_attention_pipeline):
    P = pipeline
    return [
        Mistake("returned_weights", lambda *a: P(*a, ret="w")),
        Mistake("forgot_sqrt_dk", lambda *a: P(*a, scale="none")),
        Mistake("scaled_by_dk", lambda *a: P(*a, scale="dk")),
        Mistake("softmax_wrong_axis", lambda *a: P(*a, softmax="axis0")),
        Mistake("scores_swapped", lambda *a: P(*a, scores="kq")),
        Mistake("k_not_transposed", lambda *a: P(*a, scores="q_k")),
        Mistake("weights_times_k", lambda *a: P(*a, apply="k")),
        Mistake("forgot_softmax", lambda *a: P(*a, softmax="none")),
        Mistake("softmax_overflow", lambda *a: P(*a, softmax="naive")),
        Mistake("softmax_subtract_mean", lambda *a: P(*a, softmax="mean")),
    ]


def _scale_mistakes(P, d_v):
    """Scale bugs of an attention-like pipeline ``P``: d_k from V (``d_v(*args)``), a hard-coded
    number, scaling after softmax; plus α.T @ V and a whole-matrix softmax."""
    return [
        Mistake("dk_from_v", lambda *a: P(*a, d_k=d_v(*a))),
        Mistake("dk_wrong_axis", lambda *a: P(*a, d_k=a[0].shape[0])),
        Mistake("dk_wrong_axis", lambda *a: P(*a, d_k=a[1].shape[0] if a[1].ndim == 2 else a[0].shape[0])),
        Mistake("dk_hard_coded", lambda *a: P(*a[:-1], d_k=a[-1][1] ** 2),
                params=_HARD_CODED, detail=_hard_coded_detail),
        Mistake("scaled_after_softmax", lambda *a: P(*a, scale="after")),
        Mistake("weights_transposed", lambda *a: P(*a, apply="vT")),
        Mistake("softmax_whole_matrix_att", lambda *a: P(*a, softmax="whole")),
    ]


def _tuple_prepare(value, case):
    if isinstance(value, tuple):
        return value, "returned_tuple"
    return value, None


def _attention_error(exc, case):
    if _matmul_error(exc):
        return "attention_shapes"
    shapes = _broadcast_shapes(exc)
    line = _line(exc).replace(" ", "")
    if shapes and len(shapes) == 2 and all(len(sh) == 2 for sh in shapes) and (
            re.search(r"\*v\b|\bv\*|\*\(?x@w_?v", line, flags=re.I) or shapes[0][-1] == shapes[1][0]):
        return "weights_elementwise_v"   # (n_q, n_k) * (n_k, d_v)
    if shapes and (2,) in shapes and "shape" in line:
        return "dk_is_shape"
    return _softmax_error(exc, case)


#: how the attention-output checkers (ch05, ch06, ch07) run the learner's function
_ATTENTION_RUN = MappingProxyType(dict(prepare=_tuple_prepare, on_error=_attention_error, forbidden=_ATTENTION_IMPLS))


@_checker
def check_attention(fn) -> None:
    """ch05: ``fn(Q, K, V) -> Z``, the full scaled dot-product attention output (n_q, d_v)."""
    _run(fn, _attention_cases(), _attention_mistakes() + _scale_mistakes(_attention_pipeline, _d_v_qkv),
         "含 1 个词、n_q≠n_k、d_v≠d_k、原教程例子、float32 大分数、一行之内相差约 2000",
         **_ATTENTION_RUN)


def _self_attention_cases():
    # W scaled by 0.5 ≈ 1/√d_model: scores of order 1, largest weight of a row 0.44–0.73
    specs = [
        ("4 个词，d_model=6，d_k=4，d_v=3", 4, 6, 4, 3, 62, 0.0, False),
        ("1 个词", 1, 6, 4, 3, 61, 0.0, False),
        ("5 个词，d_model=8，d_k=2，d_v=5", 5, 8, 2, 5, 64, 0.0, False),
        (f"{_BIG}，3 个词，d_model=4，d_k=4，d_v=2", 3, 4, 4, 2, 63, 800.0, True),
    ]
    cases = []
    for label, n, d_model, d_k, d_v, seed, offset, f32 in specs:
        args = _random_xw(seed, n, d_model, d_k, d_v, w_scale=0.5, offset=offset, f32=f32)
        cases.append(Case(label, args, _att.self_attention(*_f64(args))[0], f32))
    W_Q, W_K = _spread_qk("xyy")            # X = I: Q = W_Q, K = W_K
    args = (np.eye(3), W_Q, W_K, _randn(_rng(65), 3, 2))
    cases.append(Case(f"{_SPREAD}，3 个词，X = 单位矩阵，d_k=2，d_v=2", args, _att.self_attention(*args)[0]))
    return cases


def _self_attention_mistakes():
    def via_qkv(**kw):
        def f(X, WQ, WK, WV):
            return _attention_pipeline(X @ WQ, X @ WK, X @ WV, **kw)
        return f

    def from_x(X, WQ, WK, WV):
        return _attention_pipeline(X, X, X)

    def wrong_weights(X, WQ, WK, WV):
        return _attention_pipeline(X @ WQ, X @ WQ, X @ WV)

    return [
        Mistake("returned_weights", via_qkv(ret="w")),
        Mistake("forgot_sqrt_dk", via_qkv(scale="none")),
        Mistake("scaled_by_dk", via_qkv(scale="dk")),
        Mistake("scaled_by_d_model", lambda X, WQ, WK, WV: _attention_pipeline(
            X @ WQ, X @ WK, X @ WV, d_k=X.shape[-1])),
        Mistake("softmax_wrong_axis", via_qkv(softmax="axis0")),
        Mistake("scores_swapped", via_qkv(scores="kq")),
        Mistake("weights_times_k", via_qkv(apply="k")),
        Mistake("forgot_softmax", via_qkv(softmax="none")),
        Mistake("qkv_not_projected", from_x),
        Mistake("qkv_swapped_weights", wrong_weights),
        Mistake("softmax_overflow", via_qkv(softmax="naive")),
        Mistake("softmax_subtract_mean", via_qkv(softmax="mean")),
        Mistake("qkv_not_projected", lambda X, WQ, WK, WV: _attention_pipeline(X @ WQ, X @ WK, X)),
    ] + _scale_mistakes(_self_attention_pipeline, lambda X, WQ, WK, WV: WV.shape[-1])


def _self_attention_pipeline(X, WQ, WK, WV, **kw):
    return _attention_pipeline(X @ WQ, X @ WK, X @ WV, **kw)


@_checker
def check_self_attention(fn) -> None:
    """ch06: ``fn(X, W_Q, W_K, W_V) -> Z`` — self-attention of one sequence (rows = tokens)."""
    _run(fn, _self_attention_cases(), _self_attention_mistakes(),
         "含 1 个词、d_model≠d_k、d_v≠d_k、float32 大分数、一行之内相差约 2000",
         **_ATTENTION_RUN)


# ---------------------------------------------------------------------------
# ch07: causal mask and causal attention
# ---------------------------------------------------------------------------

def _wrong_causal_masks(n: int) -> dict:
    """The classic wrong causal masks of size n, by mistake id (used by both ch07 checkers)."""
    def tri(k):
        return np.tril(np.ones((n, n), dtype=bool), k=k)

    return {
        "mask_upper": np.triu(np.ones((n, n), dtype=bool)),
        "mask_inverted": ~tri(0),
        "mask_no_diagonal": tri(-1),
        "mask_includes_future": tri(1),
        "mask_all_true": np.ones((n, n), dtype=bool),
    }


@_checker
def check_causal_mask(fn) -> None:
    """ch07: ``fn(n) -> bool (n, n)``, True where query i may attend key j (j <= i)."""
    cases = [Case(f"n={n}", (n,), _att.causal_mask(n)) for n in (4, 1, 2, 7)]

    def compare(value, case):
        try:
            arr = np.asarray(value)
        except Exception:
            return False
        n = case.args[0]
        ref = case.expected
        if arr.dtype == bool and arr.shape == ref.shape and np.array_equal(arr, ref):
            return True
        if arr.shape != ref.shape:
            if arr.size == n * n or arr.ndim != 2:
                raise _Diagnosed("mask_not_square")
            return False
        if arr.dtype.kind not in "biuf":
            return False
        if arr.dtype != bool:
            a = arr.astype(np.float64)
            if np.array_equal(a, ref.astype(np.float64)):
                raise _Diagnosed("mask_not_bool")
            with np.errstate(all="ignore"):
                if np.array_equal(np.where(ref, 0.0, -np.inf), a) or (
                        np.all(a[ref] == 0) and np.all(a[~ref] < -1e8)):
                    if n > 1:
                        raise _Diagnosed("mask_additive")
            arr = a != 0
        for key, cand in _wrong_causal_masks(n).items():
            if np.array_equal(arr, cand):
                raise _Diagnosed(key)
        return False

    _run(fn, cases, [], "n = 1、2、4、7，形状 (n, n)、布尔类型", compare=compare,
         forbidden=("attention.causal_mask",))


def _causal_cases():
    specs = [
        ("4 个词，d_k=4，d_v=3", 4, 4, 3, 71, 0.0, False),
        ("1 个词", 1, 4, 2, 72, 0.0, False),
        ("6 个词，d_k=2，d_v=5", 6, 2, 5, 73, 0.0, False),
        (f"{_BIG}，5 个词，d_k=4，d_v=3", 5, 4, 3, 74, 800.0, True),
    ]
    cases = []
    for label, n, d_k, d_v, seed, offset, f32 in specs:
        args = _random_qkv(seed, n, n, d_k, d_v, offset=offset, f32=f32)
        cases.append(Case(label, args, _sdpa(*_f64(args), mask=_att.causal_mask(n)), f32))
    # query 1 sees the keys +x and −x (scores 1000 and −1000); every query's largest score over ALL
    # keys is one it may see, so masking after softmax and renormalising stays exact here
    Q, K = _spread_qk("xxy")
    V = _randn(_rng(75), 3, 3)
    cases.append(Case(f"{_SPREAD}，3 个词，d_k=2，d_v=3", (Q, K, V), _sdpa(Q, K, V, mask=_att.causal_mask(3))))
    Q, K = _blocked_qk(3)          # see _BLOCKED_SCORES
    V = _randn(_rng(76), 3, 3)
    cases.append(Case(f"{_BLOCKED}（能看的 −1000，被挡住的 −300），3 个词，d_k=4，d_v=3", (Q, K, V),
                      _sdpa(Q, K, V, mask=_att.causal_mask(3))))
    return cases


def _causal_mistakes():
    def masked(key):
        return lambda Q, K, V: _masked_z(Q, K, V, _wrong_causal_masks(Q.shape[0])[key])

    def after_softmax(Q, K, V):
        n = Q.shape[0]
        w = _ref_softmax(Q @ K.T / np.sqrt(Q.shape[-1]))
        return (w * _att.causal_mask(n)) @ V

    def small_fill(Q, K, V, fill):
        return _masked_z(Q, K, V, _att.causal_mask(Q.shape[0]), fill=fill)

    def fill_zero(Q, K, V):
        n = Q.shape[0]
        s = np.where(_att.causal_mask(n), Q @ K.T / np.sqrt(Q.shape[-1]), 0.0)
        return _ref_softmax(s) @ V

    def pipeline(Q, K, V, **kw):
        # the attention mistakes, but with the causal mask applied correctly
        return _attention_pipeline(Q, K, V, mask=_att.causal_mask(Q.shape[0]), **kw)

    def added_bool(Q, K, V):
        s = Q @ K.T / np.sqrt(Q.shape[-1])
        return _ref_softmax(s + _att.causal_mask(Q.shape[0])) @ V

    def inf_times_zero(Q, K, V):
        return np.full((Q.shape[0], V.shape[-1]), np.nan)

    return [
        Mistake("forgot_mask", lambda Q, K, V: _sdpa(Q, K, V)),
        Mistake("mask_added_bool", added_bool),
        Mistake("mask_inf_times_zero", inf_times_zero),
        Mistake("mask_after_softmax", after_softmax),
        Mistake("mask_filled_zero", fill_zero),
        Mistake("mask_fill_not_small", small_fill, params=_SMALL_FILLS),
        Mistake("mask_upper", masked("mask_upper")),
        Mistake("mask_inverted", masked("mask_inverted")),
        Mistake("mask_no_diagonal", masked("mask_no_diagonal")),
        Mistake("mask_includes_future", masked("mask_includes_future")),
        # final review U1: the mean of a masked row is −inf; or the mean was subtracted before masking
        Mistake("softmax_mean_of_inf", lambda *a: pipeline(*a, softmax="mean_of_inf")),
        Mistake("softmax_subtract_mean", lambda *a: pipeline(*a, softmax="mean_before_mask")),
    ] + _attention_mistakes(pipeline) + _scale_mistakes(pipeline, _d_v_qkv)


@_checker
def check_causal_attention(fn) -> None:
    """ch07: ``fn(Q, K, V) -> Z`` where query i only attends to keys 0..i (causal mask before softmax)."""
    _run(fn, _causal_cases(), _causal_mistakes(),
         "含 1 个词、d_v≠d_k、float32 大分数、一行之内相差约 2000、被挡住的键分数远高于能看的键；未来位置的权重为 0",
         **_ATTENTION_RUN)


# ---------------------------------------------------------------------------
# ch08: softmax backward
# ---------------------------------------------------------------------------

def _backward_ref(a, g):
    """J g with the softmax Jacobian J = diag(α) - α αᵀ (the learner writes α ⊙ (g - α·g))."""
    return softmax_jacobian(np.asarray(a, dtype=np.float64)) @ np.asarray(g, dtype=np.float64)


def _backward_cases():
    rng = _rng(81)
    specs = []
    a1 = _ref_softmax(_randn(rng, 4))
    specs.append(("4 个键的一行权重", a1, _randn(rng, 4), False))
    specs.append(("1 个键（α = [1]）", np.array([1.0]), np.array([0.8]), False))
    a3 = _ref_softmax(np.array([5.0, 0.0, -1.0, 0.5, 2.0]))
    specs.append(("几乎是 one-hot 的权重", a3, _randn(rng, 5), False))
    a4 = _ref_softmax(_randn(rng, 6)).astype(np.float32)
    specs.append(("float32，6 个键", a4, _randn(rng, 6).astype(np.float32), True))
    return [Case(label, (a, g), _backward_ref(a, g), f32) for label, a, g, f32 in specs]


def _backward_mistakes():
    return [
        Mistake("backward_diag_only", lambda a, g: a * (1 - a) * g),
        Mistake("backward_forgot_dot", lambda a, g: a * g),
        Mistake("backward_sign", lambda a, g: a * (np.dot(a, g) - g)),
        Mistake("backward_identity", lambda a, g: g),
        Mistake("backward_forgot_alpha", lambda a, g: g - np.dot(a, g)),
        Mistake("backward_sum_not_dot", lambda a, g: a * (g - np.sum(g))),
        Mistake("backward_plus", lambda a, g: a * (g + np.dot(a, g))),
        Mistake("backward_mean_not_dot", lambda a, g: a * (g - np.mean(g))),
    ]


@_checker
def check_softmax_backward(fn) -> None:
    """ch08: ``fn(weights_row, grad_weights_row) -> grad_scores_row`` = α ⊙ (g − α·g)."""
    _run(fn, _backward_cases(), _backward_mistakes(),
         "含 1 个键、几乎 one-hot 的权重、float32",
         forbidden=("analysis.softmax_jacobian", "training.softmax_backward"))


# ---------------------------------------------------------------------------
# reference solutions
# ---------------------------------------------------------------------------

SOLUTION_NAMES = tuple(_solutions.__all__)


def show_solution(name: str) -> None:
    """Print the reference solution of exercise ``name`` (e.g. ``"scaled_scores"``).

    ``name`` may also be given with the ``check_`` prefix (``"check_scaled_scores"``).
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string such as 'scaled_scores', got {name!r}")
    key = name.strip().removeprefix("checks.").removeprefix("check_").removeprefix("my_")
    if key not in SOLUTION_NAMES:
        raise ValueError(f"name={name!r:.40} is not an exercise; choose one of: {', '.join(SOLUTION_NAMES)}")
    src = inspect.getsource(getattr(_solutions, key))
    print(f"# 参考答案：{key}（先自己试一试再看哦）")
    print("import numpy as np\n")
    print(src.rstrip())


# ===========================================================================
# ch01 / ch02 exercises added for issue 11 (predict a shape, predict a
# permutation, rank keys by dot product and by cosine, batched scores)
# ===========================================================================

__all__ += [
    "check_qkv_shapes",
    "check_qkv_projection_linear",
    "check_permuted_output",
    "check_dot_cos_ranking",
    "check_batched_scores",
]

_CH0102_HINTS = MappingProxyType({
    # --- ch01: predicted shapes ------------------------------------------
    "shapes_not_dict": "答案要写成字典，例如 shapes = {\"X\": (行数, 列数), ...}，键名保持模板里的 X、W_Q、W_V、Q、K、V。",
    "shapes_missing": "还有矩阵的形状没填（值还是 None）。",
    "shapes_format": "形状要写成两个正整数组成的元组，例如 (3, 7)。",
    "shapes_x_transposed": "X 的形状反了：X 每行一个词，所以是 (词数, d_model)，不是 (d_model, 词数)。",
    "shapes_w_transposed": "权重矩阵的形状反了：X (n, d_model) 右乘 W，W 的行数必须等于 X 的列数，所以 W 是 (输入维度 d_model, 输出维度)。",
    "shapes_w_uses_n": "权重矩阵和句子有几个词无关：W 的形状只由 d_model 和输出维度决定。",
    "shapes_v_uses_dk": "V（和 W_V）的列数是 d_v，不是 d_k：只有 Q、K 需要同样的 d_k 来做点积。",
    "shapes_qk_uses_dv": "Q、K 的列数是 d_k，不是 d_v。",
    "shapes_output_transposed": "Q、K、V 的形状反了：它们和 X 一样每行一个词，是 (词数, 输出维度)。",
    "shapes_not_projected": "投影会改变列数：Q = X·W_Q 的列数是 W_Q 的列数（d_k 或 d_v），不再是 d_model。",
    "shapes_confused_with_w": "Q、K、V 的行数是词数（每行一个词），不是 d_model：d_model 在 X·W 里被“消掉”了。",
    # --- ch01: projection with weights stored like nn.Linear.weight ---------
    "linear_forgot_T": "权重是按 nn.Linear 的习惯存的：形状 (输出维度, d_model)，每行对应一个输出分量。X (n, d_model) 直接右乘它，"
                       "内侧的维度对不上（或者在方阵时悄悄算错）：先把它转回 (d_model, 输出维度)。",
    "linear_output_transposed": "结果被转置了：Q、K、V 要和 X 一样每行一个词，形状 (n, d_k)；你得到的是 (d_k, n)，权重放到了乘法的左边。",
    "linear_elementwise": "* 是逐元素相乘：投影要用矩阵乘法（@ 或 np.matmul）。",
    # --- ch01: permutation equivariance -----------------------------------
    "perm_unchanged": "输出还没有还原：Z_new 的第 i 行属于新句子的第 i 个词，也就是原句的第 perm[i] 个词，它应该回到原句的第 perm[i] 行。",
    "perm_wrong_direction": "方向反了：Z_new[perm] 是把新句子再按 perm 打乱一次，不是还原。Z_new 的第 i 行属于原句的第 perm[i] 个词，要把它放回第 perm[i] 行。",
    "perm_columns": "你重排的是列（向量的分量），要重排的是行（词）。",
    # --- ch02: rankings -----------------------------------------------------
    "ranking_format": "每个排序要写成三个键名组成的列表，例如 [\"k3\", \"k1\", \"k2\"]，每个键名恰好出现一次。",
    "ranking_missing": "还有一个排序没填（值还是 None）。",
    "ranking_ascending": "顺序反了：要从高到低排，第一个是得分最高的键。",
    "ranking_swapped": "两行填反了：dot_order 要按点积排，cos_order 要按余弦相似度排。",
    "ranking_dot_like_cos": "点积的排序不对：点积 = |q|·|k|·cos θ，还要乘上 k 的长度。k2 方向不是最一致的，但它特别长。",
    "ranking_cos_like_dot": "余弦相似度的排序不对：余弦只看方向、不看长度。算一算每个键与 q 的夹角。",
    "ranking_dot_wrong": "点积的排序不对：逐项相乘再相加，把 q·k1、q·k2、q·k3 三个数算出来再排。",
    "ranking_cos_wrong": "余弦相似度的排序不对：cos θ = q·k / (|q|·|k|)，三个键的长度不同，要分别除。",
    # --- ch02: batched scores ---------------------------------------------
    "batched_k_T": "在多维输入上出错：K.T 会把所有轴倒过来（(b, n, d_k) 变成 (d_k, n, b)），只应该交换最后两个轴（行 = 词、列 = 维度），批次轴不动。",
    "batched_fixed_axes": "你的写法只适用于某一种维数（例如 transpose(0, 2, 1) 或 swapaxes(1, 2) 假定正好 3 维）：用负数轴号指定最后两个轴，就对 2 维、3 维、4 维都成立。",
    "batched_np_dot": "np.dot 对 3 维数组不是逐句相乘（它会把每一句和每一句都乘一遍，形状多出两个轴）：用 @ 或 np.matmul，它们把前面的轴当作批次。",
})
HINTS.update(_CH0102_HINTS)


# ---------------------------------------------------------------------------
# ch01: predict the shapes of X, W_Q, W_V, Q, K, V
# ---------------------------------------------------------------------------

SHAPES_TASK = MappingProxyType({"n": 10, "d_model": 512, "d_k": 64, "d_v": 32})  # read-only
_ch01_SHAPE_NAMES = ("X", "W_Q", "W_V", "Q", "K", "V")


def _ch01_expected_shapes(n, d_model, d_k, d_v):
    return {"X": (n, d_model), "W_Q": (d_model, d_k), "W_V": (d_model, d_v),
            "Q": (n, d_k), "K": (n, d_k), "V": (n, d_v)}


def _ch01_as_shape(v):
    """A (rows, cols) tuple of positive ints, or None when ``v`` is not one."""
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if not isinstance(v, (tuple, list)) or len(v) != 2:
        return None
    out = []
    for x in v:
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)) or int(x) <= 0:
            return None
        out.append(int(x))
    return tuple(out)


def _ch01_shape_mistake(name, got, task):
    n, d_model, d_k, d_v = task["n"], task["d_model"], task["d_k"], task["d_v"]
    right = _ch01_expected_shapes(n, d_model, d_k, d_v)[name]
    if got == right[::-1]:
        return {"X": "shapes_x_transposed", "W_Q": "shapes_w_transposed", "W_V": "shapes_w_transposed"}.get(
            name, "shapes_output_transposed")
    if name == "X":
        return None
    if name.startswith("W"):
        out = right[1]
        if n in got:
            return "shapes_w_uses_n"
        if name == "W_V" and got in ((d_model, d_k), (d_k, d_model)):
            return "shapes_v_uses_dk"
        if got == (out, d_model):
            return "shapes_w_transposed"
        return None
    out = right[1]
    if got == (n, d_model):
        return "shapes_not_projected"
    if got in ((d_model, out), (d_model, d_k), (d_model, d_v)):
        return "shapes_confused_with_w"
    if name == "V" and got == (n, d_k):
        return "shapes_v_uses_dk"
    if name in ("Q", "K") and got == (n, d_v):
        return "shapes_qk_uses_dv"
    if got in ((d_k, n), (d_v, n)):
        return "shapes_output_transposed"
    return None


def _ch01_check_qkv_shapes(shapes) -> Outcome:
    task = SHAPES_TASK
    if not isinstance(shapes, dict):
        return _report(Outcome("failed", mistake="shapes_not_dict", message=f"❌ {HINTS['shapes_not_dict']}"))
    if all(shapes.get(k) is None for k in _ch01_SHAPE_NAMES):
        return _report(Outcome("pending", message="⏳ 还没完成：把每个矩阵的形状填进 shapes 字典，再运行本单元格即可检查。"))
    unknown = sorted(set(map(str, shapes)) - set(_ch01_SHAPE_NAMES))
    if unknown:
        return _report(Outcome("failed", mistake="shapes_not_dict",
                               message=f"❌ 字典里有模板以外的键 {unknown}。{HINTS['shapes_not_dict']}"))
    expected = _ch01_expected_shapes(**task)
    for name in _ch01_SHAPE_NAMES:
        v = shapes.get(name)
        if v is None:
            return _report(Outcome("failed", mistake="shapes_missing", case=name,
                                   message=f"❌ {name}：{HINTS['shapes_missing']}"))
        got = _ch01_as_shape(v)
        if got is None:
            return _report(Outcome("failed", mistake="shapes_format", case=name,
                                   message=f"❌ {name} 写成了 {v!r}：{HINTS['shapes_format']}"))
        if got != expected[name]:
            key = _ch01_shape_mistake(name, got, task)
            msg = f"❌ {name} 的形状 {got} 不对"
            msg += f"：{HINTS[key]}" if key else "：想一想它的行是什么（词？输入维度？），列又是什么。"
            return _report(Outcome("failed", mistake=key, case=name, message=msg))
    return _report(Outcome("passed", message="✅ 正确！六个形状都对：行 = 词（或输入维度），列 = 这一步的输出维度。"))


@_checker
def check_qkv_shapes(shapes) -> None:
    """ch01: ``shapes`` maps X, W_Q, W_V, Q, K, V to their (rows, cols) for :data:`SHAPES_TASK`."""
    _ch01_check_qkv_shapes(shapes)


# ---------------------------------------------------------------------------
# ch01: Q, K, V with the weights stored the way nn.Linear stores them, (d_out, d_model)
# ---------------------------------------------------------------------------

def _ch01_linear_cases():
    cases = []
    for label, n, d_model, d_k, d_v, seed, f32 in [
        ("4 个词，d_model=6，d_k=3，d_v=5", 4, 6, 3, 5, 81, False),
        ("3 个词，方阵权重 d_model = d_k = d_v = 4", 3, 4, 4, 4, 82, False),
        ("1 个词", 1, 6, 3, 2, 83, False),
        ("float32，5 个词，d_model=8，d_k=4，d_v=2", 5, 8, 4, 2, 84, True),
    ]:
        X, W_Q, W_K, W_V = _random_xw(seed, n, d_model, d_k, d_v)
        args = _float32_if(f32, (X, W_Q.T.copy(), W_K.T.copy(), W_V.T.copy()))  # stored (d_out, d_model)
        cases.append(Case(label, args, (X @ W_Q, X @ W_K, X @ W_V), f32))
    return cases


_ch01_linear_error = _projection_error("linear_forgot_T", "linear_elementwise")


def _ch01_check_qkv_projection_linear(fn) -> Outcome:
    def compare(value, case):
        if _qkv_compare(value, case):
            return True
        X, Wq, Wk, Wv = _f64(case.args)
        right = [X @ W.T for W in (Wq, Wk, Wv)]
        if all(W.shape[0] == X.shape[1] and _close(v, X @ W, case.float32) for v, W in zip(value, (Wq, Wk, Wv))):
            raise _Diagnosed("linear_forgot_T")   # square weights: no shape error, wrong numbers
        if all(_close(v, r.T, case.float32) for v, r in zip(value, right)):
            raise _Diagnosed("linear_output_transposed")
        if all(any(_close(v, r, case.float32) for r in right) for v in value):
            raise _Diagnosed("qkv_swapped_weights")
        if all(_close(v, X, case.float32) for v in value):
            raise _Diagnosed("qkv_not_projected")
        return False

    return _run(fn, _ch01_linear_cases(), [], "方阵权重、含 1 个词、d_v≠d_k、float32", prepare=_qkv_prepare,
                compare=compare, on_error=_ch01_linear_error,
                forbidden=("attention.project_qkv", "attention.project", "attention.self_attention"))


@_checker
def check_qkv_projection_linear(fn) -> None:
    """ch01: ``fn(X, Wt_Q, Wt_K, Wt_V) -> (Q, K, V)`` where each weight is stored (d_out, d_model) like ``nn.Linear.weight``."""
    _ch01_check_qkv_projection_linear(fn)


# ---------------------------------------------------------------------------
# ch01: permutation equivariance — restore the original output from a reordered sentence's
# ---------------------------------------------------------------------------

def _ch01_permuted_cases():
    cases = []
    for label, n, d_model, d_v, perm, seed in [
        ("4 个词，perm = [2, 0, 3, 1]", 4, 6, 4, [2, 0, 3, 1], 61),
        ("5 个词，perm = [4, 2, 0, 1, 3]，d_v = 3", 5, 6, 3, [4, 2, 0, 1, 3], 62),
        ("6 个词，整体右移一位 perm = [5, 0, 1, 2, 3, 4]", 6, 8, 7, [5, 0, 1, 2, 3, 4], 63),
    ]:
        X, W_Q, W_K, W_V = _random_xw(seed, n, d_model, 4, d_v, scale=0.7)
        # both are real computations: the reordered sentence's output is given, the original's is expected
        Z = _att.self_attention(X, W_Q, W_K, W_V)[0]
        Z_new = _att.self_attention(X[perm], W_Q, W_K, W_V)[0]
        cases.append(Case(label, (Z_new, list(perm)), Z))
    return cases


def _ch01_permuted_mistakes():
    return [
        Mistake("perm_unchanged", lambda Z_new, perm: Z_new),
        Mistake("perm_wrong_direction", lambda Z_new, perm: Z_new[perm]),
        Mistake("perm_columns", lambda Z_new, perm: Z_new[:, perm]),
        Mistake("perm_columns", lambda Z_new, perm: Z_new[:, np.argsort(perm)]),
    ]


def _ch01_check_permuted_output(fn) -> Outcome:
    def on_error(exc, case):
        return "perm_columns" if isinstance(exc, IndexError) else None
    return _run(fn, _ch01_permuted_cases(), _ch01_permuted_mistakes(),
                "和在原句上真正计算自注意力的结果一致", on_error=on_error)


@_checker
def check_permuted_output(fn) -> None:
    """ch01: ``fn(Z_new, perm)`` -> the original sentence's output, given the output ``Z_new`` of the
    sentence reordered by ``perm`` (new word i = original word perm[i]; no positional encoding)."""
    _ch01_check_permuted_output(fn)


# ---------------------------------------------------------------------------
# ch02: rank three keys by dot product and by cosine similarity
# ---------------------------------------------------------------------------

RANKING_TASK = MappingProxyType({   # read-only, so that the task printed is the task checked
    "q": _v.read_only_array([1.0, 0.0, 1.0]),
    "keys": MappingProxyType({"k1": _v.read_only_array([2.0, 0.0, 2.0]), "k2": _v.read_only_array([0.0, 0.0, 5.0]),
                              "k3": _v.read_only_array([1.0, 1.0, 1.0])}),
})


def _ch02_ranking(measure):
    q, keys = RANKING_TASK["q"], RANKING_TASK["keys"]
    vals = {name: measure(q, k) for name, k in keys.items()}
    return [name for name, _ in sorted(vals.items(), key=lambda kv: -kv[1])]


def _ch02_as_ranking(v):
    if isinstance(v, np.ndarray) and v.ndim == 1 and v.dtype.kind == "U":   # names[np.argsort(...)]
        v = v.tolist()
    if isinstance(v, str) or not isinstance(v, (list, tuple)):
        return None
    # full-width letters and digits (ｋ１, a Chinese IME in full-width mode) read as k1
    names = [unicodedata.normalize("NFKC", str(x)).strip().lower() for x in v]
    if sorted(names) != sorted(RANKING_TASK["keys"]):
        return None
    return names


def _ch02_check_dot_cos_ranking(dot_order, cos_order) -> Outcome:
    if dot_order is None and cos_order is None:
        return _report(Outcome("pending", message="⏳ 还没完成：先在纸上排好两个顺序，填进 dot_order 和 cos_order，再运行本单元格。"))
    if dot_order is None or cos_order is None:
        return _report(Outcome("failed", mistake="ranking_missing", message=f"❌ {HINTS['ranking_missing']}"))
    dot, cos = _ch02_as_ranking(dot_order), _ch02_as_ranking(cos_order)
    if dot is None or cos is None:
        bad = dot_order if dot is None else cos_order
        return _report(Outcome("failed", mistake="ranking_format",
                               message=f"❌ {bad!r}：{HINTS['ranking_format']}"))
    right_dot = _ch02_ranking(lambda q, k: q @ k)
    right_cos = _ch02_ranking(lambda q, k: q @ k / (np.linalg.norm(q) * np.linalg.norm(k)))
    if dot == right_dot and cos == right_cos:
        return _report(Outcome("passed", message="✅ 正确！点积和余弦给出了不同的冠军：长度改变了点积的排名。"))
    if dot == right_cos and cos == right_dot:
        key = "ranking_swapped"
    elif dot == right_dot[::-1] or cos == right_cos[::-1]:
        key = "ranking_ascending"
    elif dot == right_dot:
        key = "ranking_cos_like_dot" if cos == right_dot else "ranking_cos_wrong"
    elif dot == right_cos:
        key = "ranking_dot_like_cos"
    else:
        key = "ranking_dot_wrong"
    return _report(Outcome("failed", mistake=key, message=f"❌ {HINTS[key]}"))


@_checker
def check_dot_cos_ranking(dot_order, cos_order) -> None:
    """ch02: the keys of :data:`RANKING_TASK` from highest to lowest, by dot product and by cosine."""
    _ch02_check_dot_cos_ranking(dot_order, cos_order)


# ---------------------------------------------------------------------------
# ch02: scores for one sentence (n, d_k) and for batches (..., n, d_k)
# ---------------------------------------------------------------------------

def _ch02_batched_cases():
    cases = []
    for label, q_shape, k_shape, seed in [
        ("一句话：3 个查询 × 5 个键，d_k = 4", (3, 4), (5, 4), 71),
        ("一批 2 句：Q (2, 3, 4)，K (2, 5, 4)", (2, 3, 4), (2, 5, 4), 72),
        ("2 句 × 2 个头：Q (2, 2, 3, 4)，K (2, 2, 5, 4)", (2, 2, 3, 4), (2, 2, 5, 4), 73),
    ]:
        rng = _rng(seed)
        Q, K = _randn(rng, *q_shape), _randn(rng, *k_shape)
        # reference written as loops over the batch axes, independent of the matrix formula
        exp = np.zeros(q_shape[:-1] + (k_shape[-2],))
        for idx in np.ndindex(*q_shape[:-2]):
            for i in range(q_shape[-2]):
                for j in range(k_shape[-2]):
                    exp[idx + (i, j)] = float(np.dot(Q[idx + (i,)], K[idx + (j,)]))
        cases.append(Case(label, (Q, K), exp))
    return cases


def _ch02_batched_mistakes():
    return [
        Mistake("scores_swapped", lambda Q, K: K @ np.swapaxes(Q, -1, -2)),
        Mistake("scores_already_scaled", lambda Q, K: Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])),
        Mistake("batched_np_dot", lambda Q, K: np.dot(Q, np.swapaxes(K, -1, -2))),
    ]


def _ch02_batched_error(exc, case):
    Q = case.args[0]
    text = str(exc)
    if isinstance(exc, np.exceptions.AxisError) or "axes don't match" in text or "subscripts" in text \
            or "operand" in text and "dimensions" in text:
        return "batched_fixed_axes"
    if _matmul_error(exc) and Q.ndim > 2:
        return "batched_k_T"
    if isinstance(exc, ValueError) and "broadcast" in text:
        return "scores_elementwise"
    if _matmul_error(exc):
        return "k_not_transposed"
    return None


def _ch02_check_batched_scores(fn) -> Outcome:
    return _run(fn, _ch02_batched_cases(), _ch02_batched_mistakes(), "一句话、一批句子、批次 × 头",
                on_error=_ch02_batched_error,
                forbidden=("attention.attention_scores", "attention.scaled_dot_product_attention"))


@_checker
def check_batched_scores(fn) -> None:
    """ch02: ``fn(Q, K)`` -> scores (..., n_q, n_k) for Q (..., n_q, d_k), K (..., n_k, d_k)."""
    _ch02_check_batched_scores(fn)


# ---------------------------------------------------------------------------
# ch09: multi-head attention
# ---------------------------------------------------------------------------

HINTS.update({
    "mh_reshape_no_transpose": "拆头时只 reshape 没有转置：(b, n, d_model) 要先 reshape 成 (b, n, h, d_head)，"
                               "再交换第 1、2 轴得到 (b, h, n, d_head)；直接 reshape 成 (b, h, n, d_head) 会把不同的词混进同一个头。",
    "mh_merge_no_transpose": "拼回时没有把轴换回来：每个头的输出 (b, h, n, d_head) 要先交换回 (b, n, h, d_head)，"
                             "再 reshape 成 (b, n, d_model)；直接 reshape 会把不同词的输出拼在同一行。",
    "mh_wrong_axis_order": "拆头的轴顺序错了：reshape 成 (b, n, d_head, h) 会让每个头拿到隔列取出的列（0, h, 2h, …）。"
                           "第 i 个头应该是相邻的 d_head 列 i·d_head … (i+1)·d_head−1，要 reshape 成 (b, n, h, d_head)。",
    "mh_wrong_transpose": "拆头时转置的轴顺序错了：(b, n, h, d_head) 要变成 (b, h, n, d_head)，即 transpose(0, 2, 1, 3)；"
                          "transpose(0, 2, 3, 1) 得到的是 (b, h, d_head, n)，注意力就算到了特征维之间，而不是词与词之间。",
    "mh_scaled_by_d_model": "多头里每个头要除以 √d_head（d_head = d_model / h，也就是每个头 Q、K 的列数），不是 √d_model。",
    "mh_forgot_w_o": "忘了输出投影：把各头的输出拼回 (b, n, d_model) 之后，还要再乘 W_O。",
    "mh_shapes": "形状对不上：拆头后 Q、K、V 都是四维 (b, h, n, d_head)，转置最后两个轴要用 K.swapaxes(-1, -2)"
                 "（K.T 会把四个轴全部倒过来）。",
    "mh_mask_no_diagonal": "因果掩码要包含对角线：查询 i 可以看 j ≤ i（包括自己）。np.tril(…, k=-1) 会让第一行所有键都被挡住，"
                           "softmax 得到 nan。",
    "mh_mask_zero_scores": "把分数乘 0（或填 0）不是挡住：exp(0) = 1，被挡的词仍分到权重；要把分数换成 −∞（np.where(keep, s, -np.inf)）。",
    "params_assumes_d_model": "你用的是 4·d_model²：它只在 h·d_head = d_model 时成立。这里 d_head 可以自由选："
                              "W_Q、W_K、W_V 是 d_model × (h·d_head)，W_O 是 (h·d_head) × d_model。",
    "params_forgot_w_o": "少算了输出投影：除了 W_Q、W_K、W_V，还有 W_O（(h·d_head) × d_model），bias=True 时还有它的偏置 b_O。",
    "params_w_o_square": "W_O 的形状不对：它的输入是 h 个头拼接后的 h·d_head 维，输出 d_model 维，所以是 (h·d_head) × d_model，"
                         "不是 d_model × d_model。",
    "params_one_head": "只数了一个头：h 个头各有一块 d_model × d_head 的 W_Q^i（W_K、W_V 同理），合起来是 d_model × (h·d_head)。",
    "params_per_head_square": "每个头的 W_Q^i 是 d_model × d_head：输入仍是整个 d_model 维的 x，不是 d_head × d_head。",
    "params_bias_missing": "bias=True 时还有偏置：b_Q、b_K、b_V 各 h·d_head 个数，b_O 有 d_model 个数。",
    "params_bias_wrong": "偏置的个数不对：每个偏置的长度等于它那个投影的输出维度——b_Q、b_K、b_V 各 h·d_head 个，"
                         "b_O 是 d_model 个。",
    "params_bias_when_false": "bias=False 时没有偏置，只数四个权重矩阵。",
    "torch_mask_not_inverted": "没有取反：课程的掩码 True = 可以看；nn.MultiheadAttention 的 attn_mask 是 True = 挡住。",
    "torch_mask_tile": "顺序错了：这样排出来是先头后句子（整批句子重复 h 次）。PyTorch 拆头时同一句的 h 个头挨在一起："
                       "第 i 句的 h 张掩码要占第 i·h … (i+1)·h−1 张，也就是每句各自连续重复 h 次（np.repeat 沿第 0 个轴）。",
    "torch_mask_no_repeat": "形状是 (b, n, n)：nn.MultiheadAttention 的三维 attn_mask 要给每句的每个头各一张，形状 (b·h, n, n)，"
                            "传 (b, n, n) 会报形状错误。",
    "torch_mask_4d": "形状是 (b, h, n, n)：nn.MultiheadAttention 只接受 (n, n) 或 (b·h, n, n)，要把句子轴和头轴合并成一个长度 b·h 的轴。",
    "torch_mask_additive": "这里要布尔掩码（True = 挡住）。PyTorch 也接受浮点掩码，但浮点掩码会被**加到**分数上（0 / −inf），"
                           "这个练习要的是布尔数组。",
    "torch_mask_not_bool": "True/False 的位置对了，但要返回布尔数组（dtype=bool），不是 0/1 的整数或浮点数。",
    "torch_mask_transposed": "掩码被转置了：行仍然是查询、列仍然是键，不要交换最后两个轴。",
    "torch_mask_negative": "布尔数组不能用负号或 not 取反：用 ~keep 或 np.logical_not(keep)。",
})

__all__ += ["check_multi_head_attention", "check_mha_param_count", "check_torch_mask"]


def _mh_split(x, h, order="right"):
    b, n, d = x.shape
    if order == "no_transpose":
        return x.reshape(b, h, n, d // h)
    if order == "interleaved":
        return x.reshape(b, n, d // h, h).transpose(0, 3, 1, 2)
    if order == "features_last":
        return x.reshape(b, n, h, d // h).transpose(0, 2, 3, 1)
    return x.reshape(b, n, h, d // h).transpose(0, 2, 1, 3)


def _mh_merge(z, order="right"):
    b, h, n, dh = z.shape
    if order == "no_transpose":
        return z.reshape(b, n, h * dh)
    if order == "interleaved":
        return z.transpose(0, 2, 3, 1).reshape(b, n, h * dh)
    if order == "features_last":  # z is (b, h, d_head, n) here
        return z.transpose(0, 3, 1, 2).reshape(b, dh, h * n)
    return z.transpose(0, 2, 1, 3).reshape(b, n, h * dh)


def _mh_pipeline(X, WQ, WK, WV, WO, h, *, split="right", merge="right", scale="d_head", mask="tril",
                 use_wo=True, softmax="stable", fill=-np.inf):
    """Causal multi-head attention with one step done the named (wrong) way."""
    Q, K, V = (_mh_split(X @ W, h, split) for W in (WQ, WK, WV))
    n = Q.shape[-2]
    d = {"d_head": X.shape[-1] // h, "d_model": X.shape[-1], "none": 1}[scale]
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d)
    ones = np.ones((n, n), dtype=bool)
    keep = {"tril": np.tril(ones), "triu": np.triu(ones), "none": ones, "zero": np.tril(ones),
            "no_diagonal": np.tril(ones, k=-1)}[mask]
    raw = s
    s = s * keep if mask == "zero" else np.where(keep, s, fill)
    with np.errstate(invalid="ignore", over="ignore"):
        a = {"stable": lambda: _ref_softmax(s), "axis": lambda: _ref_softmax(s, axis=-2),
             "naive": lambda: _naive_softmax(s), "mean": lambda: _mean_softmax(s),
             "mean_of_inf": lambda: _typed_mean_softmax(s),
             "mean_before_mask": lambda: _typed_mean_softmax(s, raw)}[softmax]()
    Z = _mh_merge(a @ V, merge)
    Z = Z @ WO if use_wo else Z
    if mask == "no_diagonal":   # the first query sees nothing: its row depends on the fill (-inf → nan, -1e9 → mean)
        rows = np.ones(Z.shape[:-1], dtype=bool)
        rows[..., 0] = False
        return _Rows(Z, rows)
    return Z


def _mh_after_softmax(X, WQ, WK, WV, WO, h):
    Q, K, V = (_mh_split(X @ W, h) for W in (WQ, WK, WV))
    n, dh = Q.shape[-2], Q.shape[-1]
    a = _ref_softmax(Q @ np.swapaxes(K, -1, -2) / np.sqrt(dh)) * np.tril(np.ones((n, n)))
    return _mh_merge(a @ V) @ WO


def _mh_cases():
    specs = [
        ("2 句 × 4 个词，d_model=8，h=2", 2, 4, 8, 2, 91, False),
        ("1 句 × 1 个词，d_model=6，h=3", 1, 1, 6, 3, 92, False),
        ("3 句 × 5 个词，d_model=12，h=3", 3, 5, 12, 3, 93, False),
        ("1 句 × 3 个词，d_model=4，h=1（单头）", 1, 3, 4, 1, 94, False),
        ("float32，2 句 × 6 个词，d_model=16，h=4", 2, 6, 16, 4, 95, True),
    ]
    cases = []
    for label, b, n, d, h, seed, f32 in specs:
        rng = _rng(seed)
        X = _randn(rng, b, n, d)
        Ws = [np.round(rng.standard_normal((d, d)) / np.sqrt(d), 3) for _ in range(4)]
        args = _float32_if(f32, (X, *Ws))
        f64 = _f64(args)
        expected, _ = _att.multi_head_self_attention(f64[0], *f64[1:4], h, w_o=f64[4],
                                                     mask=_att.causal_mask(n))
        cases.append(Case(label, (*args, h), expected, f32))
    # head 0 gets _BLOCKED_SCORES: query 0 sees −1000 while a blocked key scores −300, query 3 sees
    # scores from −1000 to +1000; X = the first 4 unit vectors of R^8, so Q = rows 0..3 of W_Q
    # (head 0 = columns 0–3, d_head = 4), likewise K
    rng = _rng(96)
    Ws = [np.round(rng.standard_normal((8, 8)) / np.sqrt(8), 3) for _ in range(4)]
    Ws[0][:4, :4], Ws[1][:4, :4] = _blocked_qk(4)
    X = np.eye(8)[None, :4]
    expected, _ = _att.multi_head_self_attention(X, *Ws[:3], 2, w_o=Ws[3], mask=_att.causal_mask(4))
    cases.append(Case(f"{_SPREAD}（头 0），{_BLOCKED}，1 句 × 4 个词，d_model=8，h=2", (X, *Ws, 2), expected))
    return cases


def _mh_mistakes():
    P = _mh_pipeline
    return [
        Mistake("mh_reshape_no_transpose", lambda *a: P(*a, split="no_transpose", merge="no_transpose")),
        Mistake("mh_reshape_no_transpose", lambda *a: P(*a, split="no_transpose")),
        Mistake("mh_merge_no_transpose", lambda *a: P(*a, merge="no_transpose")),
        Mistake("mh_wrong_axis_order", lambda *a: P(*a, split="interleaved", merge="interleaved")),
        Mistake("mh_wrong_axis_order", lambda *a: P(*a, split="interleaved")),
        Mistake("mh_wrong_transpose", lambda *a: P(*a, split="features_last")),
        Mistake("mh_wrong_transpose", lambda *a: P(*a, split="features_last", merge="features_last")),
        Mistake("mask_upper", lambda *a: P(*a, mask="triu")),
        Mistake("mh_mask_no_diagonal", lambda *a: P(*a, mask="no_diagonal")),
        Mistake("mh_mask_zero_scores", lambda *a: P(*a, mask="zero")),
        Mistake("mh_scaled_by_d_model", lambda *a: P(*a, scale="d_model")),
        Mistake("mh_forgot_w_o", lambda *a: P(*a, use_wo=False)),
        Mistake("forgot_mask", lambda *a: P(*a, mask="none")),
        Mistake("forgot_sqrt_dk", lambda *a: P(*a, scale="none")),
        Mistake("mask_after_softmax", _mh_after_softmax),
        Mistake("softmax_wrong_axis", lambda *a: P(*a, softmax="axis")),
        Mistake("softmax_overflow", lambda *a: P(*a, softmax="naive")),
        Mistake("softmax_subtract_mean", lambda *a: P(*a, softmax="mean")),
        Mistake("softmax_mean_of_inf", lambda *a: P(*a, softmax="mean_of_inf")),
        Mistake("softmax_subtract_mean", lambda *a: P(*a, softmax="mean_before_mask")),
        Mistake("mask_fill_not_small", lambda *a: P(*a[:-1], fill=a[-1]), params=_SMALL_FILLS),
    ]


def _mh_error(exc, case):
    if _matmul_error(exc) or (isinstance(exc, ValueError) and ("reshape" in str(exc) or "broadcast" in str(exc))):
        return "mh_shapes"
    return None


@_checker
def check_multi_head_attention(fn) -> None:
    """ch09: ``fn(X, W_Q, W_K, W_V, W_O, n_heads) -> Z`` — causal multi-head self-attention of a batch.

    X is (b, n, d_model); every W is (d_model, d_model); Z is (b, n, d_model).
    """
    _run(fn, _mh_cases(), _mh_mistakes(),
         "含 1 个词、单头 h=1、3 个头、批量 b=3、float32、一行之内相差约 2000、被挡住的键分数远高于能看的键",
         prepare=_tuple_prepare, on_error=_mh_error,
         forbidden=("attention.multi_head_self_attention", "attention.split_heads", "attention.merge_heads",
                    "attention.scaled_dot_product_attention", "multihead.heads_loop"))


# --- parameter count (d_head chosen freely) -------------------------------------

def _param_ref(d, h, dh, b):
    inner = h * dh
    return 4 * d * inner + ((3 * inner + d) if b else 0)


def _param_cases():
    # first an input with h·d_head ≠ d_model, so that "4·d_model²" is named on the first input
    specs = [(64, 4, 8, False), (64, 4, 8, True), (512, 8, 64, False), (512, 8, 64, True),
             (1024, 128, 128, True), (12, 3, 2, True), (6, 1, 6, True), (10, 5, 4, False)]
    return [Case(f"d_model={d}，h={h}，d_head={dh}，bias={b}", (d, h, dh, b), _param_ref(d, h, dh, b))
            for d, h, dh, b in specs]


def _param_mistakes():
    def m(weights, bias):
        return lambda d, h, dh, b: weights(d, h, dh) + (bias(d, h, dh) if b else 0)

    right_w = lambda d, h, dh: 4 * d * h * dh  # noqa: E731
    right_b = lambda d, h, dh: 3 * h * dh + d  # noqa: E731
    return [
        Mistake("params_assumes_d_model", m(lambda d, h, dh: 4 * d * d, lambda d, h, dh: 4 * d)),
        Mistake("params_assumes_d_model", m(lambda d, h, dh: 4 * d * d, right_b)),
        Mistake("params_forgot_w_o", m(lambda d, h, dh: 3 * d * h * dh, lambda d, h, dh: 3 * h * dh)),
        Mistake("params_forgot_w_o", m(lambda d, h, dh: 3 * d * h * dh, right_b)),
        Mistake("params_w_o_square", m(lambda d, h, dh: 3 * d * h * dh + d * d, right_b)),
        Mistake("params_w_o_square", m(lambda d, h, dh: 3 * d * h * dh + d * d, lambda d, h, dh: 4 * h * dh)),
        Mistake("params_one_head", m(lambda d, h, dh: 4 * d * dh, lambda d, h, dh: 3 * dh + d)),
        Mistake("params_one_head", m(lambda d, h, dh: 4 * d * dh, right_b)),
        Mistake("params_one_head", m(lambda d, h, dh: 4 * d * dh, lambda d, h, dh: 4 * dh)),
        Mistake("params_per_head_square", m(lambda d, h, dh: 4 * h * dh * dh, right_b)),
        Mistake("params_per_head_square", m(lambda d, h, dh: 4 * h * dh * dh, lambda d, h, dh: 4 * h * dh)),
        Mistake("params_bias_missing", m(right_w, lambda d, h, dh: 0)),
        Mistake("params_bias_wrong", m(right_w, lambda d, h, dh: 4 * h * dh)),
        Mistake("params_bias_wrong", m(right_w, lambda d, h, dh: 4 * d)),
        Mistake("params_bias_wrong", m(right_w, lambda d, h, dh: 3 * h * dh)),
        Mistake("params_bias_wrong", m(right_w, lambda d, h, dh: 3 * d + h * dh)),
        Mistake("params_bias_wrong", m(right_w, lambda d, h, dh: 4 * dh)),
        Mistake("params_bias_wrong", m(right_w, lambda d, h, dh: 3 * dh + d)),
        Mistake("params_bias_when_false", lambda d, h, dh, b: _param_ref(d, h, dh, True)),
    ]


def _param_compare(value, case):
    v = _as_real_scalar(value)   # int, float, NumPy scalar or 0-d array
    return v is not None and v == float(case.expected)


@_checker
def check_mha_param_count(fn) -> None:
    """ch09: ``fn(d_model, n_heads, d_head, bias) -> int`` — learned numbers in one multi-head attention
    layer whose heads have d_head columns each (h·d_head need not equal d_model)."""
    cases = _param_cases()
    mistakes = _param_mistakes()

    def compare(value, case):
        if _param_compare(value, case):
            return True
        v = _as_real_scalar(value)
        if v is None:
            return False
        for mk in mistakes:
            cand = _quiet(mk.fn, *case.args)
            if cand is not None and float(cand) == v:
                raise _Diagnosed(mk.key)
        return False

    _run(fn, cases, [], "d_model = 6…1024，h = 1…128，h·d_head 等于 / 不等于 d_model，有/无偏置", compare=compare)


# --- (b, n, n) keep-mask -> nn.MultiheadAttention's 3-D attn_mask (b·h, n, n) -------------

def _torch_mask_cases():
    rng = _rng(96)
    pad_causal = _att.padding_mask([4, 2], 4) & _att.causal_mask(4)        # (2, 4, 4), the sentences differ
    rnd = rng.random((3, 5, 5)) < 0.6
    rnd[..., 0] = True                                                     # every query sees a key
    rnd2 = rng.random((4, 3, 3)) < 0.5
    rnd2[..., 1] = True
    one = np.ones((1, 3, 3), dtype=bool) & _att.causal_mask(3)
    specs = [("因果 + 填充掩码 (2, 4, 4)，h=3", pad_causal, 3), ("随机掩码 (3, 5, 5)，h=2", rnd, 2),
             ("随机掩码 (4, 3, 3)，h=4", rnd2, 4), ("1 句 (1, 3, 3)，h=2", one, 2),
             ("因果 + 填充掩码 (2, 4, 4)，h=1（单头）", pad_causal, 1)]
    return [Case(label, (keep, heads), np.repeat(~keep, heads, axis=0)) for label, keep, heads in specs]


@_checker
def check_torch_mask(fn) -> None:
    """ch09: ``fn(keep, n_heads) -> attn_mask`` — a course keep-mask per sentence (b, n, n), True = may attend,
    to ``nn.MultiheadAttention``'s 3-D boolean ``attn_mask`` (b·h, n, n), True = masked out, batch-major."""

    def compare(value, case):
        keep, heads = case.args
        exp = case.expected
        b, n, _ = keep.shape
        try:
            arr = np.asarray(value)
        except Exception:
            return False
        if arr.dtype.kind not in "biuf":
            return False
        if arr.dtype != bool:
            a = arr.astype(np.float64)
            if a.shape == exp.shape:
                with np.errstate(all="ignore"):
                    if exp.any() and np.all(np.isneginf(a[exp])) and np.all(a[~exp] == 0):
                        raise _Diagnosed("torch_mask_additive")
                if np.array_equal(a, exp.astype(np.float64)):
                    raise _Diagnosed("torch_mask_not_bool")
            arr = a != 0
            converted = True
        else:
            converted = False
        if arr.shape == exp.shape:
            if np.array_equal(arr, exp):
                if converted:
                    raise _Diagnosed("torch_mask_not_bool")
                return True
            if np.array_equal(arr, ~exp) or np.array_equal(arr, np.tile(keep, (heads, 1, 1))):
                raise _Diagnosed("torch_mask_not_inverted")
            if np.array_equal(arr, np.tile(~keep, (heads, 1, 1))):
                raise _Diagnosed("torch_mask_tile")
            if np.array_equal(arr, np.swapaxes(exp, -1, -2)):
                raise _Diagnosed("torch_mask_transposed")
            return False
        if arr.shape == keep.shape and heads > 1:
            raise _Diagnosed("torch_mask_no_repeat")
        if arr.shape in {(b, heads, n, n), (heads, b, n, n)}:
            raise _Diagnosed("torch_mask_4d")
        return False

    def on_error(exc, case):
        text = str(exc)
        if isinstance(exc, TypeError) and ("negative" in text or "boolean" in text):
            return "torch_mask_negative"
        if isinstance(exc, ValueError) and "truth value" in text:
            return "torch_mask_negative"
        return None

    _run(fn, _torch_mask_cases(), [], "b = 1…4 句、h = 1…4 个头、句子各不相同；布尔类型、形状 (b·h, n, n)、先句子后头",
         compare=compare, on_error=on_error)


# ===========================================================================
# Chapter sections appended by the chapter owners (issue 11).  They use the
# framework above (_run, Case, Mistake, _Diagnosed, …) and add their own hints.
# ===========================================================================

#: chapter -> hint ids its appended section added; each is tested in tests/test_checks_<chapter>.py
CHAPTER_HINTS: dict[str, set] = {}


def _chapter_hints(chapter: str, hints: dict) -> None:
    """Register a chapter section's hints (in :data:`HINTS`, and by chapter in :data:`CHAPTER_HINTS`)."""
    clash = set(hints) & set(HINTS)
    if clash:
        raise ValueError(f"hint ids already used: {sorted(clash)}")
    HINTS.update(hints)
    CHAPTER_HINTS.setdefault(chapter, set()).update(hints)


def _h8_prediction_verdict(value, expected, wrong: dict, *, name: str, what: str, normalise=None) -> Outcome:
    """Verdict for a "predict first" exercise: ``value`` is the learner's prediction.

    ``wrong`` maps a plausible wrong prediction to its hint id; ``normalise``
    turns the raw value into a comparable one (or raises ValueError/TypeError).
    """
    if value is None:
        return _report(Outcome("pending", message=f"⏳ 还没完成：先把你的预测填进 {name}，再运行本单元格检查。"))
    try:
        v = normalise(value) if normalise else value
    except (TypeError, ValueError) as exc:
        return _report(Outcome("failed", message=f"❌ {name} 的格式不对：{exc}"))
    if v == expected:
        return _report(Outcome("passed", message=f"✅ 正确！{what}"))
    for cand, key in wrong.items():
        if v == cand:
            return _report(Outcome("failed", mistake=key, message=f"❌ 你的预测是 {value!r}。{HINTS[key]}"))
    return _report(Outcome("failed", message=f"❌ 你的预测是 {value!r}，不对。{HINTS[wrong.get(None, 'not_callable')]}"))


# ---------------------------------------------------------------------------
# ch06 (owner H8): choose W_Q, W_K so that token i attends to token j;
#                  self-attention on a batch (b, n, d_model)
# ---------------------------------------------------------------------------

_chapter_hints("ch06", {
    "attend_not_pair": "需要返回两个矩阵：return W_Q, W_K。",
    "attend_shape": "W_Q、W_K 的形状应该是 (d_model, d_k)：X @ W_Q 才是 (n, d_k) 的查询矩阵。",
    "attend_nonfinite": "权重里有 nan 或 inf：检查是否除以了 0（比如某个向量的长度是 0）。",
    "attend_swapped": "方向反了：你让第 j 个词看向了第 i 个词。查询来自第 i 个词（W_Q 要“认出” x_i），键来自第 j 个词（W_K 要“认出” x_j）。",
    "attend_self": "第 i 个词主要在看它自己：让 i 的查询和 j 的键指向同一个方向 u，而不是让每个词的查询对准它自己的键。",
    "attend_weak": "方向对了：第 i 行最大的权重已经在第 j 个词上，但还不够集中（要 ≥ 0.9）。把 W_Q、W_K 乘一个更大的强度 s——分数按 s² 增长。",
    "attend_near_copy": "第 i 行被另一个词抢走了：它的向量差不多是 x_j 的 2 倍，只用 x_j 的方向当“键探测器”，它的读数比 x_j 自己还大。要让键只对 x_j 大、对其它每一行都是 0：把这个要求写成关于 W_K 的线性方程组 X W_K = T（T 只有第 j 行不为 0）再解；W_Q 同理。",
    "attend_other": "第 i 行最关注的不是第 j 个词。W_Q 要让只有 x_i 得到大的查询，W_K 要让 x_j 的键比别的词的键都大（参考第6章手工构造的两个“探测器”）。",
    "batched_k_transpose": "K.T 在三维数组 (b, n, d_k) 上会把三个轴全部倒过来，变成 (d_k, n, b)。只交换最后两个轴：np.swapaxes(K, -1, -2)（或 K.transpose(0, 2, 1)）。",
    "batched_softmax_axis": "softmax 的轴错了：三维时 axis=0 是句子、axis=1 是查询，要沿最后一个轴（axis=-1，一个查询对所有键）归一化。",
    "batched_dk_axis": "d_k 取错了：三维数组里 Q.shape[0] 是句子数、Q.shape[1] 是词数，d_k 是最后一维 Q.shape[-1]。",
    "batched_mixed_sentences": "不同句子之间互相“看”了：把一批句子拼成一个长序列再做注意力是不对的，每个句子要单独做自己的 n × n 注意力。",
})


def _ch06_attend_cases():
    from .tokens import SENTENCE_CAT_SHORT, token_inputs

    cases = []
    x_cat = token_inputs(SENTENCE_CAT_SHORT, 16, seed=0)
    cases.append(Case("小猫短句，d_model=16，d_k=8：「它」(i=4) → 「蝴蝶」(j=2)", (x_cat, 4, 2, 8), None))
    for label, n, d_model, d_k, i, j, seed in [
        ("随机 X，5 个词，d_model=8，d_k=4：i=0 → j=3", 5, 8, 4, 0, 3, 65),
        ("随机 X，7 个词，d_model=12，d_k=2：i=6 → j=1", 7, 12, 2, 6, 1, 66),
        ("随机 X，4 个词，d_model=6，d_k=3：i=2 → j=0", 4, 6, 3, 2, 0, 67),
    ]:
        cases.append(Case(label, (_randn(_rng(seed), n, d_model), i, j, d_k), None))
    # one row is almost 2·x_j: a probe along x_j reads it louder than x_j itself
    rng = _rng(68)
    X = _randn(rng, 6, 8)
    X[2] = 2.0 * X[4] + 0.1 * _randn(rng, 8)
    cases.append(Case("随机 X，6 个词，d_model=8，d_k=4，第 2 行 ≈ 2 × 第 4 行：i=1 → j=4", (X, 1, 4, 4), None))
    return cases


def _ch06_attend_weights_of(X, W_Q, W_K):
    Q, K = X @ W_Q, X @ W_K
    return _ref_softmax(Q @ K.T / np.sqrt(W_Q.shape[-1]))


def _ch06_attend_prepare(value, case):
    if isinstance(value, np.ndarray) or not isinstance(value, (tuple, list)) or len(value) != 2:
        return value, "attend_not_pair"
    X, i, j, d_k = case.args
    arrs = [_as_array(w) for w in value]
    if any(a is None or a.shape != (X.shape[1], d_k) for a in arrs):
        return value, "attend_shape"
    return tuple(arrs), None


@_checker
def check_attend_weights(fn) -> None:
    """ch06: ``fn(X, i, j, d_k) -> (W_Q, W_K)`` such that α[i, j] ≥ 0.9 in softmax(X W_Q (X W_K)ᵀ / √d_k)."""

    def compare(value, case):
        X, i, j, d_k = case.args
        W_Q, W_K = value
        if not (np.all(np.isfinite(W_Q)) and np.all(np.isfinite(W_K))):
            raise _Diagnosed("attend_nonfinite")
        with np.errstate(all="ignore"):
            A = _ch06_attend_weights_of(X, W_Q, W_K)
        if not np.all(np.isfinite(A)):
            raise _Diagnosed("attend_nonfinite")
        if A[i, j] >= 0.9:
            return True
        best = int(np.argmax(A[i]))
        if best == j:
            raise _Diagnosed("attend_weak")
        S = (X @ W_Q) @ (X @ W_K).T
        top = np.unravel_index(int(np.argmax(S)), S.shape)
        if tuple(int(t) for t in top) == (j, i) and A[j, i] >= 0.5:
            raise _Diagnosed("attend_swapped")   # the strongest query is j's, the strongest key i's
        if best == i:
            raise _Diagnosed("attend_self")
        xb, xj = X[best], X[j]
        if xb @ xj / (np.linalg.norm(xb) * np.linalg.norm(xj) + 1e-300) > 0.95:
            raise _Diagnosed("attend_near_copy")
        raise _Diagnosed("attend_other")

    cases = _ch06_attend_cases()
    out = _evaluate(fn, cases, [], "", prepare=_ch06_attend_prepare, compare=compare)
    if out.status == "passed":     # there is no single reference answer: say what was verified
        out.message = (f"✅ 正确！α[i, j] ≥ 0.9 在全部 {len(cases)} 组输入上都成立（小猫短句和 4 个随机句子，"
                       "d_k 各不相同，其中一句有个词的向量差不多是 x_j 的 2 倍）。")
    _report(out)


def _ch06_batched_cases():
    specs = [
        ("2 句 × 4 个词，d_model=6，d_k=3，d_v=5", 2, 4, 6, 3, 5, 68, False),
        ("3 句 × 1 个词", 3, 1, 4, 2, 3, 69, False),
        ("1 句 × 5 个词，d_model=8，d_k=4，d_v=2", 1, 5, 8, 4, 2, 70, False),
        ("float32，2 句 × 3 个词，d_model=4，d_k=4，d_v=4", 2, 3, 4, 4, 4, 71, True),
    ]
    cases = []
    for label, b, n, d_model, d_k, d_v, seed, f32 in specs:
        rng = _rng(seed)
        X = _randn(rng, b, n, d_model, scale=0.7)
        W = (_randn(rng, d_model, d_k), _randn(rng, d_model, d_k), _randn(rng, d_model, d_v))
        args = _float32_if(f32, (X, *W))
        cases.append(Case(label, args, _att.self_attention(*_f64(args))[0], f32))
    W_Q, W_K = _spread_qk("xyy")            # X = I: Q = W_Q, K = W_K; query 0 sees +1000, −1000 and 0
    args = (np.stack([np.eye(3), np.eye(3)[::-1]]), W_Q, W_K, _randn(_rng(72), 3, 2))
    cases.append(Case(f"{_SPREAD}，2 句 × 3 个词，d_model=3，d_k=2，d_v=2", args, _att.self_attention(*args)[0]))
    return cases


def _ch06_batched_pipeline(X, WQ, WK, WV, *, axis=-1, d_k=None, ret="z", scale=True, softmax=_ref_softmax):
    Q, K, V = X @ WQ, X @ WK, X @ WV
    d_k = Q.shape[-1] if d_k is None else d_k
    s = Q @ np.swapaxes(K, -1, -2)
    if scale:
        s = s / np.sqrt(d_k)
    w = softmax(s, axis=axis)
    return w if ret == "w" else w @ V


def _ch06_batched_mistakes():
    def mixed(X, WQ, WK, WV):
        b, n, d = X.shape
        flat = X.reshape(b * n, d)
        Q, K, V = flat @ WQ, flat @ WK, flat @ WV
        return (_ref_softmax(Q @ K.T / np.sqrt(Q.shape[-1])) @ V).reshape(b, n, -1)

    return [
        Mistake("returned_weights", lambda *a: _ch06_batched_pipeline(*a, ret="w")),
        Mistake("batched_softmax_axis", lambda *a: _ch06_batched_pipeline(*a, axis=1)),
        Mistake("batched_softmax_axis", lambda *a: _ch06_batched_pipeline(*a, axis=0)),
        Mistake("batched_dk_axis", lambda X, *w: _ch06_batched_pipeline(X, *w, d_k=X.shape[1])),
        Mistake("batched_dk_axis", lambda X, *w: _ch06_batched_pipeline(X, *w, d_k=X.shape[0])),
        Mistake("scaled_by_d_model", lambda X, *w: _ch06_batched_pipeline(X, *w, d_k=X.shape[-1])),
        Mistake("forgot_sqrt_dk", lambda *a: _ch06_batched_pipeline(*a, scale=False)),
        Mistake("batched_mixed_sentences", mixed),
        Mistake("softmax_overflow", lambda *a: _ch06_batched_pipeline(*a, softmax=_naive_softmax)),
        Mistake("softmax_subtract_mean", lambda *a: _ch06_batched_pipeline(*a, softmax=_mean_softmax)),
    ]


def _ch06_batched_error(exc, case):
    if _matmul_error(exc):
        return "batched_k_transpose"
    if isinstance(exc, ValueError) and "broadcast" in str(exc):
        return "softmax_keepdims"
    return None


@_checker
def check_batched_self_attention(fn) -> None:
    """ch06: ``fn(X, W_Q, W_K, W_V) -> Z`` for a batch X of shape (b, n, d_model); Z is (b, n, d_v)."""
    _run(fn, _ch06_batched_cases(), _ch06_batched_mistakes(), "含 1 句、每句 1 个词、d_v≠d_k、float32、一行之内相差约 2000",
         prepare=_tuple_prepare, on_error=_ch06_batched_error, forbidden=_ATTENTION_IMPLS)


# ---------------------------------------------------------------------------
# ch07 (owner H8): padding mask from lengths; predict the shapes of cross-attention
# ---------------------------------------------------------------------------

_chapter_hints("ch07", {
    "pad_missing_axis": "值对了，但形状是 (B, n)：中间还要一个长度为 1 的轴，变成 (B, 1, n)，它才会广播到每一个查询行（例如 mask[:, None, :]）。",
    "pad_masks_queries": "挡错了轴：形状 (B, n, 1) 挡住的是查询（行）。<pad> 是不该被看的键（列），形状要 (B, 1, n)。",
    "pad_inverted": "True/False 反了：约定 True = 可以看。真实的词是 True，<pad> 是 False。",
    "pad_off_by_one": "差了一位：长度为 L 的句子，真实的词在位置 0 … L−1，要用 位置 < L，不是 ≤ L。",
    "pad_not_bool": "数值对了，但请返回布尔数组（True = 可以看），例如用比较运算 < 直接得到 bool。",
    "pad_expanded": "形状 (B, n, n) 的掩码也能用，但这个练习要的是 (B, 1, n)：每句一行，靠广播用到所有查询。",
    "cross_not_swapped": "这是对调之前的形状。α 的行数跟着查询走：现在查询是中文（4 个词），键是英文（5 个位置）。",
    "cross_square": "交叉注意力的 α 一般不是方阵：行数 = 查询的个数（中文 4 个），列数 = 键的个数（英文 5 个）。",
    "cross_z_rows": "Z 的行数跟着查询走：每个查询（现在是中文的 4 个词）得到一行输出。",
    "cross_z_dmodel": "Z 的列数是 d_v，也就是 W_V 的列数（8），不是 d_model。",
    "cross_other": "再想想：α 的形状是 (查询个数, 键个数)，Z 的形状是 (查询个数, d_v)。",
})


def _ch07_padding_cases():
    return [Case(f"lengths={list(lengths)}, n={n}", (list(lengths), n), _att.padding_mask(list(lengths), n))
            for lengths, n in [((4, 2), 4), ((1, 3, 3), 3), ((5,), 5), ((2, 1), 5)]]


@_checker
def check_padding_mask(fn) -> None:
    """ch07: ``fn(lengths, n) -> bool (B, 1, n)``: True where key j is a real word (j < lengths[b])."""

    def compare(value, case):
        lengths, n = case.args
        ref = case.expected
        try:
            arr = np.asarray(value)
        except Exception:
            return False
        if arr.dtype.kind not in "biuf":
            return False
        if arr.shape == ref.shape and arr.dtype == bool and np.array_equal(arr, ref):
            return True
        flat = ref[:, 0, :]
        pos = np.arange(n)
        lens = np.asarray(lengths)[:, None]
        variants = {
            "pad_inverted": ~flat,
            "pad_off_by_one": pos[None, :] <= lens,
        }
        b = arr.astype(bool) if arr.dtype.kind != "f" or np.all((arr == 0) | (arr == 1)) else None
        if b is None:
            return False
        if arr.shape == ref.shape and arr.dtype != bool and np.array_equal(b, ref):
            raise _Diagnosed("pad_not_bool")
        if arr.shape == flat.shape and np.array_equal(b, flat):
            raise _Diagnosed("pad_missing_axis")
        if arr.shape == (len(lengths), n, 1) and np.array_equal(b[:, :, 0], flat):
            raise _Diagnosed("pad_masks_queries")
        if arr.shape == (len(lengths), n, n) and np.array_equal(b, np.broadcast_to(ref, b.shape)):
            raise _Diagnosed("pad_expanded")
        for key, cand in variants.items():
            for shape_ok in (arr.shape == ref.shape and np.array_equal(b[:, 0, :], cand),
                             arr.shape == flat.shape and np.array_equal(b, cand)):
                if shape_ok:
                    raise _Diagnosed(key)
        return False

    _run(fn, _ch07_padding_cases(), [], "含没有 <pad> 的句子、长度 1、3 句一批，形状 (B, 1, n)、布尔类型", compare=compare,
         forbidden=("attention.padding_mask",))


def _ch07_shape_tuple(value):
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
        raise TypeError(f"形状要写成元组，例如 (2, 3)；你给的是 {value!r}")
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        raise TypeError(f"形状里的每一项都要是整数；你给的是 {value!r}")
    return tuple(int(v) for v in value)


@_checker
def check_cross_shapes(alpha_shape, z_shape) -> None:
    """ch07: predict α's and Z's shapes when Chinese (4 words) queries English (5 positions), W_V (16, 8)."""
    if alpha_shape is None or z_shape is None:
        _report(Outcome("pending", message="⏳ 还没完成：先把你预测的两个形状填进 alpha_shape 和 z_shape，再运行本单元格检查。"))
        return
    try:
        a, z = _ch07_shape_tuple(alpha_shape), _ch07_shape_tuple(z_shape)
    except TypeError as exc:
        _report(Outcome("failed", message=f"❌ {exc}"))
        return
    if a == (4, 5) and z == (4, 8):
        _report(Outcome("passed", message="✅ 正确！α 是 (4, 5)：行 = 中文查询，列 = 英文键；Z 是 (4, 8)：每个中文词一行，d_v = 8 列。"))
        return
    if a != (4, 5):
        key = {(5, 4): "cross_not_swapped", (4, 4): "cross_square", (5, 5): "cross_square"}.get(a, "cross_other")
        what = f"α 的形状 {a}"
    else:
        key = {(5, 8): "cross_z_rows", (4, 16): "cross_z_dmodel", (5, 16): "cross_z_rows"}.get(z, "cross_other")
        what = f"Z 的形状 {z}"
    _report(Outcome("failed", mistake=key, message=f"❌ {what} 不对。{HINTS[key]}"))


# ---------------------------------------------------------------------------
# ch07 (fixer): causal mask for the last n_q queries against n_k cached keys
# ---------------------------------------------------------------------------

_chapter_hints("ch07", {
    "cached_top_left": "你把新来的第一个查询当成了句子的第 0 个词。这 n_q 个查询是句子的最后 n_q 个位置：第 r 行的查询在句子里是第 n_k − n_q + r 个词，它能看键 0 … n_k − n_q + r。",
    "cached_off_by_one": "每行多放进了一个未来的键：第 r 行的查询是句子里第 n_k − n_q + r 个词，它最多只能看到这个位置（含自己），不能再往后。",
    "cached_no_self": "每行少了一个键：查询可以看它自己。第 r 行能看键 0 … n_k − n_q + r（含这个位置）。",
    "cached_upper": "方向反了：True（可以看）应该在每行的左边（过去的键），右边（未来的键）才是 False。",
    "cached_shape": "形状应该是 (n_q, n_k)：行 = 新来的 n_q 个查询，列 = 全部 n_k 个键（缓存里的加上新的）。",
})


def _ch07_cached_ref(n_q, n_k):
    return np.tril(np.ones((n_q, n_k), dtype=bool), k=n_k - n_q)


def _ch07_wrong_cached(n_q, n_k) -> dict:
    ones = np.ones((n_q, n_k), dtype=bool)
    return {
        "cached_off_by_one": np.tril(ones, k=n_k - n_q + 1),
        "cached_no_self": np.tril(ones, k=n_k - n_q - 1),
        "cached_top_left": np.tril(ones),
        "cached_upper": np.triu(ones, k=n_k - n_q),
    }


@_checker
def check_cached_causal_mask(fn) -> None:
    """ch07: ``fn(n_q, n_k) -> bool (n_q, n_k)``: the last n_q positions of a sentence of n_k words as queries."""
    cases = [Case(f"n_q={q}，n_k={k}", (q, k), _ch07_cached_ref(q, k)) for q, k in ((3, 5), (1, 4), (4, 4), (2, 7))]

    def compare(value, case):
        n_q, n_k = case.args
        try:
            arr = np.asarray(value)
        except Exception:
            return False
        if arr.shape != (n_q, n_k):
            raise _Diagnosed("cached_shape")
        if arr.dtype.kind not in "biuf":
            return False
        if arr.dtype != bool:
            if np.array_equal(arr.astype(np.float64), case.expected.astype(np.float64)):
                raise _Diagnosed("mask_not_bool")
            arr = arr != 0
        if np.array_equal(arr, case.expected):
            return True
        for key, cand in _ch07_wrong_cached(n_q, n_k).items():
            if np.array_equal(arr, cand):
                raise _Diagnosed(key)
        return False

    _run(fn, cases, [], "n_q = 1、2、3、4，n_k = 4、5、7，形状 (n_q, n_k)、布尔类型", compare=compare)


# ---------------------------------------------------------------------------
# ch08 (owner H8): gradient of -log α_t (checked by finite differences);
#                  predict the depth of local attention
# ---------------------------------------------------------------------------

_chapter_hints("ch08", {
    "nll_sign": "符号反了：L = −log α_t，增大 s_t 会让 L 变小，所以 ∂L/∂s_t 应该是负的。",
    "nll_dalpha": "这是 ∂L/∂α（只有第 t 个分量 −1/α_t），还差一步：再乘 softmax 的雅可比矩阵，才得到 ∂L/∂s。",
    "nll_forgot_onehot": "差了一项：第 t 个分量还要减去 1。L = −s_t + log Σ_m exp(s_m)，第一项对 s 的导数只在第 t 个位置上是 −1。",
    "nll_diag_only": "只算了第 t 个分数的导数：别的分数 s_m 也会通过 softmax 的分母影响 α_t，它们的导数不是 0。",
    "nll_forgot_softmax": "把 L 当成了 −s_t：α_t 是 softmax 的输出，log Σ_m exp(s_m) 这一项对每个 s_m 都有导数。",
    "nll_overflow": "分数很大（约 800）时 np.exp(s) 溢出成 inf，结果变成 nan：先减去这一行的最大值再取 exp（第4章的稳定写法），或者直接用 h.softmax。",
    "backward_mean_not_dot": "减去的是 g 的普通平均值 g.mean()：应该减去按权重 α 加权的平均 α·g = Σ_j α_j g_j（一个数，np.dot(α, g)）。",
    "window_rnn": "19 是 RNN 一次挪一格要走的步数；局部注意力一层能挪 w = 3 格。",
    "window_full": "1 层是完整自注意力（每个词看所有词）的答案；局部注意力一层最多挪 w = 3 个位置。",
    "window_floor": "19 / 3 ≈ 6.33：6 层只能走 18 格，还差一格，所以要向上取整。",
    "window_not_int": "层数是整数：一层要么有、要么没有，19 / 3 要向上取整。",
    "window_count_tokens": "要走的距离是 20 − 1 = 19 个位置（从第 0 个词到第 19 个词），不是 20。",
    "window_other": "再想想：从位置 0 到位置 19 要走 19 格，每一层最多走 3 格。",
})


def _ch08_attend_loss_ref(s, t):
    s = np.asarray(s, dtype=np.float64)
    g = _ref_softmax(s)
    g[t] -= 1.0
    return g


def _ch08_attend_loss_cases():
    rng = _rng(82)
    specs = [
        ("4 个分数，t=2", _randn(rng, 4), 2, False),
        ("1 个分数（α = [1]），t=0", np.array([0.3]), 0, False),
        ("6 个分数，目标是最小的那个，t=5", np.array([2.0, 1.0, 0.5, 1.5, 0.0, -1.5]), 5, False),
        ("float32，5 个分数，t=0", _randn(rng, 5).astype(np.float32), 0, True),
        ("很大的分数（约 800），t=1", np.array([800.0, 799.0, 795.0, 801.5]), 1, False),
        (f"{_SPREAD}（−1000 … 1000），t=1", np.array([-1000.0, 1000.0, 0.0, 999.0]), 1, False),
    ]
    return [Case(label, (s, t), _ch08_attend_loss_ref(s, t), f32) for label, s, t, f32 in specs]


def _ch08_attend_loss_mistakes():
    def onehot(s, t):
        e = np.zeros(len(s))
        e[t] = 1.0
        return e

    def dalpha(s, t):
        return -onehot(s, t) / _ref_softmax(s)[t]

    def diag_only(s, t):
        return -onehot(s, t) * (1 - _ref_softmax(s)[t])

    def naive_overflow(s, t):          # np.exp(s) without subtracting the maximum
        s = np.asarray(s, dtype=np.float64)
        if np.max(np.abs(s)) < 700:
            return _ch08_attend_loss_ref(s, t)
        return np.full(len(s), np.nan)

    return [
        Mistake("nll_sign", lambda s, t: -_ch08_attend_loss_ref(s, t)),
        Mistake("nll_dalpha", dalpha),
        Mistake("nll_forgot_onehot", lambda s, t: _ref_softmax(s)),
        Mistake("nll_diag_only", diag_only),
        Mistake("nll_forgot_softmax", lambda s, t: -onehot(s, t)),
        Mistake("nll_overflow", naive_overflow),
        Mistake("softmax_subtract_mean", lambda s, t: _mean_softmax(s) - onehot(s, t)),
    ]


def _check_fd_inputs(f, x, eps):
    """``(f, x as a new float64 array, ε)``: x finite, ε a sane step that changes every entry of x."""
    f = _v.check_callable(f, "f")
    x = _v.as_real_array(x, "x").astype(np.float64)
    eps = _v.check_fd_step(eps)
    lost = (x + eps == x) | (x - eps == x)
    if lost.any():
        i = _v.first_index(lost)
        raise ValueError(f"eps={eps:g} is below the float64 resolution of x at index {i} (x = {x[i]!r}): "
                         f"x ± eps rounds back to x, the difference would be 0; use a larger eps")
    return f, x, eps


def finite_difference_grad(f, x, eps: float = 1e-6) -> np.ndarray:
    """Central differences ``(f(x + ε e_i) − f(x − ε e_i)) / 2ε`` of a scalar function, one entry at a time."""
    f, x, eps = _check_fd_inputs(f, x, eps)
    g = np.zeros_like(x)
    f_size = np.zeros_like(x)   # max |f(x ± ε e_i)|: sets the rounding noise of entry i
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        fp, fm = _v.check_number(f(xp), "f(x + eps)"), _v.check_number(f(xm), "f(x - eps)")
        g[i] = (fp - fm) / (2 * eps)
        f_size[i] = max(abs(fp), abs(fm))
    _v.check_fd_resolution(g, f_size, eps)
    return g


@_checker
def check_attend_loss_grad(fn) -> None:
    """ch08: ``fn(scores_row, target) -> ∂L/∂scores_row`` for L = −log softmax(scores_row)[target].

    The expected gradient of every case is computed by finite differences of L
    (and agrees with α − e_t, which the tests check separately).
    """
    cases = _ch08_attend_loss_cases()
    for c in cases:
        s, t = c.args
        if np.max(np.abs(s)) < 100:    # near 800 a step of 1e-6 is below float64 resolution: keep α − e_t
            c.expected = finite_difference_grad(lambda v: -np.log(_ref_softmax(v)[t]), s)
    _run(fn, cases, _ch08_attend_loss_mistakes(),
         "与有限差分一致；含 1 个分数、目标是最小的分数、float32、约 800 的大分数、一行之内相差约 2000")


@_checker
def check_window_layers(answer) -> None:
    """ch08: layers of local attention (window w = 3 each side) needed from token 0 to token 19 of 20: 7."""
    def as_number(v):
        x = _as_real_scalar(v)   # int, float, NumPy scalar or 0-d array
        if x is None or not np.isfinite(x):
            raise TypeError(f"请填一个整数，例如 5；你给的是 {v!r}")
        if x.is_integer():
            return int(x)      # only a whole number can be right: 6.999 is not 7 layers
        if abs(x - 20 / 3) < 0.006:
            return "20/3"      # 6.67: distance counted as 20 tokens, divided
        return "not_int"       # 6.33 = 19/3 or any other fraction: a layer count is a whole number

    wrong = {19: "window_rnn", 1: "window_full", 6: "window_floor", "not_int": "window_not_int",
             "20/3": "window_count_tokens", None: "window_other"}
    _h8_prediction_verdict(answer, 7, wrong, name="my_layers", normalise=as_number,
                        what="19 个位置，每层最多走 3 个：⌈19 / 3⌉ = 7 层。用 efficiency.window_edges 和 BFS 核对一下。")


__all__ += [
    "check_attend_weights",
    "check_batched_self_attention",
    "check_padding_mask",
    "check_cross_shapes",
    "check_cached_causal_mask",
    "check_attend_loss_grad",
    "check_window_layers",
    "finite_difference_grad",
    "CHAPTER_HINTS",
]


# ---------------------------------------------------------------------------
# ch03–ch05 (owner H7): predict Var(q·k) and the divisor; fix a softmax for
# batched (b, n_q, n_k) scores; choose a temperature; predict Z1; choose α
# ---------------------------------------------------------------------------

_chapter_hints("ch03", {
    "var_sigma_squared": "每一项 q_d·k_d 的方差是 Var(q_d)·Var(k_d) = σ²·σ² = σ⁴，不是 σ²：q 和 k 各贡献一个 σ²。",
    "var_ignored_sigma": "这是分量方差为 1 时的答案 d_k。这里每个分量的方差是 σ² = 9，每一项 q_d·k_d 的方差也随之变了。",
    "var_sigma_once": "σ 只乘了一次：每一项的方差是 E[q_d²]·E[k_d²] = σ²·σ²。",
    "var_is_std": "你写的是标准差 √Var(q·k)；这一问要的是方差（标准差的平方）。",
    "var_is_target": "1 是缩放之后想要的方差；这一问要的是缩放之前的 Var(q·k)。",
    "var_forgot_dk": "只算了一项 q_d·k_d 的方差：q·k 是 d_k 项之和，方差还要乘 d_k。",
    "div_sqrt_dk_only": "除以 √d_k 只在分量方差为 1 时把方差拉回 1。这里 Var(q·k) = σ⁴·d_k，要除以它的平方根。",
    "div_variance": "除以方差就过头了：Var(c·Y) = c²·Var(Y)，所以要除以标准差 √Var(q·k)，而不是 Var(q·k) 本身。",
    "div_dk": "除以 d_k 是第3章说的“矫枉过正”：要除以的是 Var(q·k) 的平方根。",
    "div_sigma_once": "σ 少乘了一次：Var(q·k) = σ⁴·d_k，它的平方根是 σ²·√d_k。",
    "div_forgot_dk": "漏了 d_k：Var(q·k) = σ⁴·d_k，平方根是 σ²·√d_k。",
    "prediction_not_number": "请填一个数（int 或 float），例如 12.5。",
})

_CH03_SIGMA, _CH03_DK = 3.0, 16


@_checker
def check_dot_variance(my_var, my_divisor) -> None:
    """ch03 (predict): q, k with independent components of mean 0 and standard deviation σ = 3, d_k = 16.

    ``my_var`` — predicted Var(q·k) (= σ⁴·d_k = 1296); ``my_divisor`` — the number to divide
    q·k by so that the variance becomes 1 (= σ²·√d_k = 36).  After a correct answer, both
    are measured on 20000 random pairs.
    """
    s, d = _CH03_SIGMA, _CH03_DK
    var, div = s ** 4 * d, s ** 2 * np.sqrt(d)
    wrong_var = {s ** 2 * d: "var_sigma_squared", float(d): "var_ignored_sigma", s * d: "var_sigma_once",
                 div: "var_is_std", 1.0: "var_is_target", s ** 4: "var_forgot_dk"}
    wrong_div = {np.sqrt(d): "div_sqrt_dk_only", var: "div_variance", float(d): "div_dk",
                 s * np.sqrt(d): "div_sigma_once", s ** 2: "div_forgot_dk"}
    missing = [name for name, v in (("my_var", my_var), ("my_divisor", my_divisor)) if v is None]
    if missing:
        _report(Outcome("pending", message=f"⏳ 还没完成：先把你的预测填进 {'、'.join(missing)}，再运行本单元格检查。"))
        return
    for name, raw, target, wrong in (("my_var", my_var, var, wrong_var), ("my_divisor", my_divisor, div, wrong_div)):
        v = _as_real_scalar(raw)   # int, float, NumPy scalar or 0-d array
        if v is None:
            _report(Outcome("failed", mistake="prediction_not_number",
                            message=f"❌ {name} = {raw!r}：{HINTS['prediction_not_number']}"))
            return
        if np.isclose(v, target, rtol=1e-3):
            continue
        for cand, key in wrong.items():
            if np.isclose(v, cand, rtol=1e-3):
                _report(Outcome("failed", mistake=key, message=f"❌ {name} = {v:g} 不对：{HINTS[key]}"))
                return
        what = "Var(q·k)" if name == "my_var" else "要除以的数"
        _report(Outcome("failed", message=f"❌ {name} = {v:g} 不对。从一项 q_d·k_d 的方差算起，再想 d_k 项相加后{what}是多少。"))
        return
    rng = np.random.default_rng(3)
    q = rng.standard_normal((20000, d)) * s
    k = rng.standard_normal((20000, d)) * s
    dots = np.einsum("pd,pd->p", q, k)
    _report(Outcome("passed", message=(
        f"✅ 正确！Var(q·k) = σ⁴·d_k = {var:g}，要除以 σ²·√d_k = {div:g}。\n"
        f"   实测（20000 对随机向量）：Var(q·k) = {dots.var():.1f}，Var(q·k / {div:g}) = {(dots / div).var():.4f}。")))


_chapter_hints("ch04", {
    "fixed_axis_hardcoded": "轴写死成了 axis=2（或 1）：这样只对某一种维数碰巧对。用 axis=-1——不管前面有几维，它都是最后一维（键那一维）。",
    "fixed_max_wrong_axis": "减去的最大值取错了轴：要取每一行（最后一维）的最大值 np.max(x, axis=-1, keepdims=True)。沿别的轴取，每行减去的就不再是同一个数，结果会变。",
    "temp_not_positive": "温度必须是正数：softmax(s / T) 里 T 是除数。",
    "temp_too_high": "T 还太大：k3 的权重还没超过 0.9。T 越小，分差被放大得越多，分布越尖。",
    "temp_inverted": "方向反了：温度越大分布越平。你给的数大于 1，权重反而更平均了；要让 k3 占到 0.9 以上，T 要远小于 1。",
    "temp_too_low": "k3 的权重确实超过了 0.9，但这一问要的是**最大**的 T（两位有效数字）：T 还可以再大一些。",
    "temp_rounded_up": "很接近了！四舍五入让 T 刚好越过了临界值 T*：两位有效数字里满足条件的最大值是多少？（向下取。）",
    "temp_just_above": "T 还大了一点：k3 的权重差一点没到 0.9。把 T 再调小一点，找两位有效数字里满足条件的最大值。",
})


def _batched_softmax_cases():
    rng = _rng(43)
    cases = [
        Case("一批 2 句，每句 3 个查询 × 4 个键：形状 (2, 3, 4)", (_randn(rng, 2, 3, 4, scale=2.0),), None),
        Case("一批 2 句的方阵分数 (2, 3, 3)", (_randn(rng, 2, 3, 3, scale=2.0),), None),
        Case("大分数的一批 (2, 2, 3)，第二句 ≈ 1000",
             (np.stack([_randn(rng, 2, 3), 1000.0 + _randn(rng, 2, 3)]),), None),
        Case("各行量级相差很大 (1, 2, 4)", (np.array([[[0.0, 1.0, 2.0, 3.0], [-1000.0, -999.0, -998.0, -1001.0]]]),), None),
        Case("没有批次维的 4×4 分数矩阵", (_randn(rng, 4, 4, scale=2.0),), None),
        Case("一行分数（1 维，5 个键）", (_randn(rng, 5, scale=2.0),), None),
        Case("多头的形状 (batch=2, heads=2, 3, 4)", (_randn(rng, 2, 2, 3, 4, scale=2.0),), None),
        Case("float32，(2, 2, 3)，分数在 60~100 之间",
             ((60 + 40 * rng.random((2, 2, 3))).round(1).astype(np.float32),), None, True),
        Case("一行之内分数相差很大 (1, 2, 3)", (np.array([[[-100.0, 800.0, 0.0], [1.0, 2.0, 3.0]]]),), None),
        Case(f"{_SPREAD} (1, 2, 3)", (np.array([[[-1000.0, 1000.0, 0.0], [1000.0, 999.0, 998.0]]]),), None),
    ]
    for c in cases:
        c.expected = _ref_softmax(np.asarray(c.args[0], dtype=np.float64))
    return cases


def _buggy_softmax(x, *, sum_axis=1, max_axis=None, keepdims=True):
    x = np.asarray(x, dtype=np.float64)
    if max_axis is not None:
        x = x - (np.max(x, axis=max_axis, keepdims=True) if keepdims else np.max(x, axis=max_axis))
    e = np.exp(x)
    return e / e.sum(axis=sum_axis, keepdims=True)


def _batched_softmax_mistakes():
    return [
        # the given buggy function (sum over axis=1, no shift) and its half-fixes
        Mistake("batched_softmax_axis", lambda x: _buggy_softmax(x, sum_axis=1)),
        Mistake("batched_softmax_axis", lambda x: _buggy_softmax(x, sum_axis=1, max_axis=1)),
        Mistake("batched_softmax_axis", lambda x: _buggy_softmax(x, sum_axis=1, max_axis=-1)),
        Mistake("batched_softmax_axis", lambda x: _ref_softmax(x, axis=0)),
        # before the overflow: on the last case both give nan where exp(x − min) overflows
        Mistake("softmax_subtract_min",
                lambda x: _buggy_softmax(x - np.min(x, axis=-1, keepdims=True), sum_axis=-1)),
        Mistake("softmax_subtract_mean", _mean_softmax),
        Mistake("softmax_overflow", lambda x: _buggy_softmax(x, sum_axis=-1)),
        Mistake("fixed_max_wrong_axis", lambda x: _buggy_softmax(x, sum_axis=-1, max_axis=1)),
        Mistake("fixed_max_wrong_axis", lambda x: _buggy_softmax(x, sum_axis=-1, max_axis=0)),
        Mistake("softmax_global_max", lambda x: _buggy_softmax(x - np.max(x), sum_axis=-1)),
        Mistake("softmax_keepdims", lambda x: _buggy_softmax(x, sum_axis=-1, max_axis=-1, keepdims=False)),
        Mistake("softmax_whole_matrix", lambda x: np.exp(x - x.max()) / np.exp(x - x.max()).sum()),
        Mistake("fixed_axis_hardcoded", lambda x: _buggy_softmax(x, sum_axis=2, max_axis=2)),
    ]


def _batched_softmax_error(exc, case):
    if isinstance(exc, (np.exceptions.AxisError, IndexError)) or "out of bounds" in str(exc):
        return "fixed_axis_hardcoded"
    shapes = _broadcast_shapes(exc)
    if len(shapes) == 2 and any(a[:-1] == b or b[:-1] == a for a, b in [shapes]):
        return "softmax_keepdims"       # (…, n_k) against the (…) of a reduction without keepdims
    return _softmax_error(exc, case)


@_checker
def check_batched_softmax(fn) -> None:
    """ch04 (fix the bug): ``fn(scores) -> weights``, a stable softmax over the LAST axis of scores of any
    number of dimensions — (n_k,), (n_q, n_k), (b, n_q, n_k), (b, h, n_q, n_k)."""
    _run(fn, _batched_softmax_cases(), _batched_softmax_mistakes(),
         "一批句子 (b, n_q, n_k)、大分数、各行量级相差很大、二维、一维、多头四维、float32、一行之内相差很大（约 2000）",
         on_error=_batched_softmax_error,
         forbidden=("attention.softmax", "attention.attention_weights", "attention.scaled_dot_product_attention"))


#: the temperature exercise: raw scores q1·Kᵀ of the seed example; T* solves softmax(raw / T*)[k3] = 0.9
_CH04_TARGET = 0.9


def _ch04_k3_weight(T):
    raw = _att.attention_scores(_SEED["q1"], _SEED["K"])[0]
    return float(_att.softmax(raw / T)[2])


def _ch04_t_star():
    # k3's weight is 1 / (1 + x + x²) with x = e^(−0.1/T): solve x² + x + 1 − 1/0.9 = 0
    x = (-1 + np.sqrt(1 + 4 * (1 / _CH04_TARGET - 1))) / 2
    return float(-0.1 / np.log(x))


@_checker
def check_temperature_choice(my_T) -> None:
    """ch04 (choose): the largest temperature T (two significant digits) with softmax(q1·Kᵀ / T)[k3] > 0.9.

    Accepted: 0.9·T* ≤ T < T* (T* ≈ 0.0436; below 0.043 the ✅ names 0.043 as the largest).
    T* rounded to nearest (0.044) gets its own hint, round down; other T* < T ≤ 1.05·T* "a little too large"."""
    if my_T is None:
        _report(Outcome("pending", message="⏳ 还没完成：先把你找到的温度填进 my_T，再运行本单元格检查。"))
        return
    T = _as_real_scalar(my_T)   # int, float, NumPy scalar or 0-d array
    if T is None or not np.isfinite(T):
        _report(Outcome("failed", mistake="prediction_not_number",
                        message=f"❌ my_T = {my_T!r}：{HINTS['prediction_not_number']}"))
        return
    if T <= 0:
        _report(Outcome("failed", mistake="temp_not_positive", message=f"❌ my_T = {T:g}：{HINTS['temp_not_positive']}"))
        return
    t_star = _ch04_t_star()
    with np.errstate(all="ignore"):
        w = _ch04_k3_weight(T)
    if w <= _CH04_TARGET:
        rounded = any(T == float(f"{t_star:.{k}g}") for k in range(2, 7))   # T* rounded to nearest, e.g. 0.044
        key = ("temp_inverted" if T > 1 else "temp_rounded_up" if rounded
               else "temp_just_above" if T <= 1.05 * t_star else "temp_too_high")
        _report(Outcome("failed", mistake=key, message=f"❌ T = {T:g} 时 k3 的权重是 {w:.4f}。{HINTS[key]}"))
        return
    if T < 0.9 * t_star:
        _report(Outcome("failed", mistake="temp_too_low",
                        message=f"❌ T = {T:g} 时 k3 的权重是 {w:.4f}。{HINTS['temp_too_low']}"))
        return
    best = _round_down_2_digits(t_star)
    largest = (f"\n   不过还可以更大一点：两位有效数字里满足条件的最大值是 {best:g}。"
               if T < best * (1 - 1e-9) else "")
    _report(Outcome("passed", message=(
        f"✅ 正确！T = {T:g} 时 k3 的权重是 {w:.5f} > 0.9；恰好等于 0.9 的温度是 T* = {t_star:.4f}。\n"
        f"   分差只有 0.1，要把它放大到 0.1 / T* = {0.1 / t_star:.2f} 才能让一个键占到 90%。{largest}")))


def _round_down_2_digits(x: float) -> float:
    """``x`` > 0 cut down to two significant digits (0.04360… → 0.043)."""
    step = 10.0 ** (np.floor(np.log10(x)) - 1)
    return float(f"{np.floor(x / step) * step:.2g}")


_chapter_hints("ch05", {
    "z_columns": "你按列混合了 V（相当于 α @ V.T）：Z1 是 V 各**行**（每个词的值向量）按 α 加权之和。",
    "z_no_weights": "你把用到的值向量直接加起来了，忘了乘权重：每个值向量要先乘它的权重 α_j（这里是 0.5）。",
    "z_sum_all": "你把 V 的三行全加起来了：这是所有权重都为 1 的结果，但权重加起来只能是 1。",
    "z_one_row": "这只是其中一个值向量：α 有两个非零权重，Z1 是它们的加权平均。",
    "z_original_alpha": "这是原教程的 α 给出的 Z1；这里 α 换成了 (0.5, 0, 0.5)，用新的 α 重新算。",
    "z_shape": "Z1 应该是 3 个数（d_v = 3，每个值向量有 3 个分量）。",
    "shift_unchanged": "Z1 会变：每个值向量都加了 c，加权平均自然也要加上点什么——加多少？",
    "shift_times_n": "加了 3 个 c：但每个 c 都要乘它那一行的权重，权重加起来是 1。",
    "shift_divided": "加的是 c / 3：那是“每个权重都是 1/3”时的想法。权重和为 1，所以 Σ α_j c = c。",
    "alpha_not_distribution": "α 要是一组合法的注意力权重：3 个非负数，加起来等于 1（softmax 的输出就是这样）。",
    "vector_not_numbers": "请填一组数，例如 [1.0, 2.0, 3.0]。",
    "vector_close": "接近了，只是小数位不够：每个数至少保留两位小数（四舍五入）。",
    "vector_close_arithmetic": "这不是舍入的问题：把算式再核对一遍（每一项 α_j·V_j，或者你用到的每个中间结果）。",
    "alpha_wrong_target": "α 合法，但 α V 没有落在目标上。写出 Z1 的第 1 个分量 α_1·1 + α_2·4 + α_3·7，让它等于目标的第 1 个分量。",
})


def _as_typed_numbers(value):
    """A vector the learner typed, as a float array (or None): what :func:`_as_array` takes, plus a
    list / tuple of exact numbers such as ``Fraction(1, 4)`` (any ``numbers.Real`` but bool)."""
    arr = _as_array(value)
    if arr is None and isinstance(value, (list, tuple)) and value and all(
            isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_)) for x in value):
        arr = np.array([float(x) for x in value])
    return arr


#: a typed prediction counts when every entry is within _PREDICTION_ATOL of the answer: the answer
#: rounded to 2 decimals is (error ≤ 0.005); "close" (keep more decimals) is within 10× that
_PREDICTION_ATOL = 6e-3


def _decimals(x: float) -> int | None:
    """How many decimals ``x`` was typed with (0–6), or None for a number with more."""
    for d in range(7):
        if abs(x - round(x, d)) < 1e-9:
            return d
    return None


def _rounded_from(arr, expected) -> bool:
    """Every typed number is the answer rounded (or cut off) to the decimals it was typed with:
    only then is "keep more decimals" the right advice."""
    for x, e in zip(np.ravel(arr), np.ravel(np.asarray(expected, dtype=float))):
        d = _decimals(float(x))
        if d is None:
            return False
        scale = 10.0 ** d
        if not any(abs(x - c) < 1e-9 for c in (round(e, d), np.trunc(e * scale) / scale)):
            return False
    return True


def _vector_prediction(value, expected, wrong: dict, *, name: str, what: str, shape_key: str) -> None:
    """Verdict for a predicted vector: ``wrong`` maps a hint id to the wrong vector it stands for."""
    if value is None:
        _report(Outcome("pending", message=f"⏳ 还没完成：先把你的预测填进 {name}，再运行本单元格检查。"))
        return
    arr = _as_typed_numbers(value)
    if arr is None or arr.dtype.kind == "b":
        _report(Outcome("failed", mistake="vector_not_numbers",
                        message=f"❌ {name} = {value!r}：{HINTS['vector_not_numbers']}"))
        return
    arr = arr.reshape(-1) if arr.size == np.size(expected) else arr
    if arr.shape != np.shape(expected):
        _report(Outcome("failed", mistake=shape_key, message=f"❌ {name} 的形状是 {arr.shape}：{HINTS[shape_key]}"))
        return
    if np.allclose(arr, expected, rtol=0, atol=_PREDICTION_ATOL):
        _report(Outcome("passed", message=f"✅ 正确！{what}"))
        return
    for key, cand in wrong.items():
        for c in (cand if isinstance(cand, list) else [cand]):
            if np.allclose(arr, c, rtol=0, atol=_PREDICTION_ATOL):
                _report(Outcome("failed", mistake=key, message=f"❌ 你的预测是 {_fmt_vec(arr)}。{HINTS[key]}"))
                return
    if np.allclose(arr, expected, rtol=0, atol=10 * _PREDICTION_ATOL):
        if _rounded_from(arr, expected):
            _report(Outcome("failed", mistake="vector_close",
                            message=f"❌ 你的预测是 {_fmt_vec(arr)}。{HINTS['vector_close']}"))
        else:
            gap = _fmt(np.max(np.abs(arr - np.asarray(expected, dtype=float))), 2)
            _report(Outcome("failed", mistake="vector_close_arithmetic",
                            message=f"❌ 你的预测是 {_fmt_vec(arr)}，接近了，但差了约 {gap}。"
                                    f"{HINTS['vector_close_arithmetic']}"))
        return
    _report(Outcome("failed", message=f"❌ 你的预测是 {_fmt_vec(arr)}，不对。按 Z1 = Σ_j α_j V_j 一项一项写出来再算。"))


def _fmt_vec(a, decimals: int | None = None) -> str:
    """``[x, y, …]`` with 4 significant digits, or with ``decimals`` decimals (the digits a typed answer needs)."""
    return "[" + ", ".join(_fmt(x) if decimals is None else f"{x:.{decimals}f}" for x in np.ravel(a)) + "]"


#: the weights of the ch05 prediction exercise (the learner predicts Z1 = α V for the seed's V)
CH05_ALPHA = (0.5, 0.0, 0.5)


@_checker
def check_z1_prediction(my_Z1) -> None:
    """ch05 (predict): Z1 for α = (0.5, 0, 0.5) and the seed example's V — it is V_2 = (4, 5, 6)."""
    V = _SEED["V"]
    a = np.array(CH05_ALPHA)
    wrong = {
        "z_columns": a @ V.T,
        "z_no_weights": V[0] + V[2],
        "z_sum_all": V.sum(axis=0),
        "z_one_row": [V[0], V[2]],
        "z_original_alpha": _sdpa(_SEED["q1"], _SEED["K"], V)[0],
    }
    _vector_prediction(my_Z1, a @ V, wrong, name="my_Z1", shape_key="z_shape", what=(
        f"Z1 = 0.5·V_1 + 0.5·V_3 = {_fmt_vec(a @ V)}，恰好等于 V_2——可 α 给 V_2 的权重是 0！\n"
        "   Z1 落在哪里，并不能告诉你注意力“看”了哪些词：不同的 α 可以给出同一个 Z1。"))


@_checker
def check_shift_prediction(my_Z1_shifted) -> None:
    """ch05 (predict): Z1 of the seed example after adding c = (10, 0, 0) to every row of V: Z1 + c."""
    s = _SEED
    c = np.array([10.0, 0.0, 0.0])
    Z1 = _sdpa(s["q1"], s["K"], s["V"])[0]
    wrong = {"shift_unchanged": Z1, "shift_times_n": Z1 + 3 * c, "shift_divided": Z1 + c / 3}
    _vector_prediction(my_Z1_shifted, Z1 + c, wrong, name="my_Z1_shifted", shape_key="z_shape", what=(
        f"新的 Z1 = Z1 + c ≈ {_fmt_vec(Z1 + c, decimals=2)}。Σ_j α_j (V_j + c) = Σ_j α_j V_j + (Σ_j α_j) c，"
        "而 Σ_j α_j = 1——和 q1、K 是什么无关。"))


#: target output of the "choose α" exercise: between V_2 and V_3 of the seed example
CH05_TARGET = (5.5, 6.5, 7.5)


@_checker
def check_weights_for_target(my_alpha) -> None:
    """ch05 (choose): a valid weight row α (3 non-negative numbers summing to 1) with α V = (5.5, 6.5, 7.5)."""
    if my_alpha is None:
        _report(Outcome("pending", message="⏳ 还没完成：先把你选的 3 个权重填进 my_alpha，再运行本单元格检查。"))
        return
    a = _as_typed_numbers(my_alpha)
    if a is None or a.dtype.kind == "b":   # the type is wrong, not the weights
        _report(Outcome("failed", mistake="vector_not_numbers",
                        message=f"❌ my_alpha = {my_alpha!r}：{HINTS['vector_not_numbers']}"))
        return
    if a.size != 3:
        _report(Outcome("failed", mistake="alpha_not_distribution",
                        message=f"❌ my_alpha = {my_alpha!r}：{HINTS['alpha_not_distribution']}"))
        return
    a = a.reshape(3)
    if (a < -1e-9).any() or not np.isclose(a.sum(), 1.0, atol=1e-6):
        _report(Outcome("failed", mistake="alpha_not_distribution", message=(
            f"❌ my_alpha = {_fmt_vec(a)}（和为 {_fmt(a.sum())}）：{HINTS['alpha_not_distribution']}")))
        return
    z = a @ _SEED["V"]
    if not np.allclose(z, CH05_TARGET, atol=1e-6):
        _report(Outcome("failed", mistake="alpha_wrong_target", message=(
            f"❌ α V = {_fmt_vec(z)}，目标是 {_fmt_vec(CH05_TARGET)}。{HINTS['alpha_wrong_target']}")))
        return
    _report(Outcome("passed", message=(
        f"✅ 正确！α = {_fmt_vec(a)} 给出 α V = {_fmt_vec(z)}。\n"
        "   满足 α_2 + 2·α_3 = 1.5 的合法 α 都可以，例如 (0, 0.5, 0.5) 或 (0.25, 0, 0.75)：答案不唯一。")))


__all__ += [
    "check_dot_variance",
    "check_batched_softmax",
    "check_temperature_choice",
    "check_z1_prediction",
    "check_shift_prediction",
    "check_weights_for_target",
]


# ---------------------------------------------------------------------------
# ch10: previous-token score and induction score of one head
# ---------------------------------------------------------------------------

# (owner H2; catalogue of wrong answers in tests/test_checks_ch10.py)
_chapter_hints("ch10", {
    "prev_includes_row0": "第 0 行没有“前一个词”：要从 i = 1 开始取 α[i, i-1]，共 n−1 个数取平均。你的结果等于“总和 ÷ n”：要么把第 0 行也算进去了（i-1 = -1 会取到最后一列，一个被掩码挡住的 0），要么除以了 n 而不是 n−1。",
    "prev_hardcoded_length": "索引越界：检查用的矩阵有 2 到 8 个词，不是 24。不要把序列长度写死，用 n = weights.shape[0]。",
    "prev_range_off_by_one": "索引越界：range 的上界多了一位。α 是 n × n 的，行号最大是 n−1：i 取 range(1, n)，不是 range(1, n + 1)。",
    "index_arrays_mismatch": "两个索引数组的长度不一样：w[rows, cols] 里的行号和列号要一一配对，个数必须相同"
                             "（比如前一词得分的行 np.arange(1, n) 和列 np.arange(0, n - 1) 各有 n−1 个）。",
    "ind_two_off": "差了两位：你看的是“上一次出现的同一个字”的**前一个**字。归纳头看的是它的后一个字：列号是 i - (dst - src) + 1。",
    "ind_row_max": "你取的是每个查询行里最大的权重，不管它落在哪个键上；归纳得分要的是固定的那一格 α[i, i - (dst - src) + 1]。",
    "ind_divide_by_n": "求和之后除以了序列长度 n：要除以副本里查询的个数 length（对这些查询取平均）。",
    "same_plus_one": "你加了 1：那是归纳得分（看同一个字后面的那个字）。同字得分看的是片段里对应的那个字本身：α[i, i - (dst - src)]。",
    "ablation_band": "先想清楚第 2 层的两个头都去掉之后，模型还剩什么：第 1 层的头和残差连接都不会“往回找、再往后挪一格”。",
    "ablation_not_choice": "要填一个字母 \"A\"、\"B\"、\"C\" 或 \"D\"（题目里的四档）。",
    "prev_diagonal": "取的是对角线 α[i, i]（每个词看自己），前一词得分要取 α[i, i-1]：列号比行号小 1。",
    "prev_future": "取的是对角线上方（α[i, i+1] 或 α[i-1, i]），那是未来的位置，因果掩码下全是 0。行 = 查询 i，列 = 键 i-1。",
    "prev_whole_matrix": "对整个矩阵取了平均：每行和为 1，所以结果总是 1/n。只取每行里“前一个词”那一格 α[i, i-1]。",
    "score_sum": "把各行的权重加起来了，还要除以行数（取平均），得分才在 0 到 1 之间。",
    "score_not_averaged": "你返回的是每个查询各自的权重（一个数组），还差最后一步：取平均，返回一个数。",
    "ind_same_token": "差了一位：α[i, i - (dst - src)] 是“上一次出现的同一个字”本身；归纳头看的是它后面那个字，列号还要 + 1。",
    "ind_previous_token": "你取的是 α[i, i-1]（前一个词），那是第 1 层前一词头的得分；归纳得分的列是 i - (dst - src) + 1。",
    "ind_query_range": "查询的范围差了一位：复制段里的每个查询都算，i 从 dst 到 dst + length - 1（range(dst, dst + length)）。",
    "ind_fixed_key": "键的位置没有跟着查询移动：查询 i 每往后一格，要看的键 i - (dst - src) + 1 也往后一格。",
})


def _ch10_random_causal_weights(rng, n, sharp=2.0):
    """α of one causal head: softmax of random scores with the future blocked (rows sum to 1)."""
    s = _randn(rng, n, n, scale=sharp)
    s = np.where(np.tril(np.ones((n, n), dtype=bool)), s, -np.inf)
    return _ref_softmax(s)


def _ch10_ref_prev_score(w):
    n = w.shape[0]
    return float(np.mean([w[i, i - 1] for i in range(1, n)]))


def _ch10_ref_induction_score(w, src, dst, length):
    return float(np.mean([w[i, i - (dst - src) + 1] for i in range(dst, dst + length)]))


def _ch10_prev_cases():
    rng = _rng(101)
    specs = [("6 个词的随机因果注意力", _ch10_random_causal_weights(rng, 6), False)]
    w = _ch10_random_causal_weights(rng, 8, sharp=0.5)
    w[np.arange(1, 8), np.arange(7)] += 3.0                      # a strong previous-token head
    w /= w.sum(axis=-1, keepdims=True)
    specs.append(("8 个词，一个明显的前一词头", w, False))
    specs.append(("2 个词", _ch10_random_causal_weights(rng, 2), False))
    specs.append(("float32，5 个词", _ch10_random_causal_weights(rng, 5).astype(np.float32), True))
    return [Case(label, (w,), _ch10_ref_prev_score(w.astype(np.float64)), f32) for label, w, f32 in specs]


def _ch10_prev_mistakes():
    def rows(w, cols):
        n = w.shape[0]
        return [w[i, cols(i) % n] for i in range(n)]
    return [
        Mistake("prev_includes_row0", lambda w: float(np.mean(rows(w, lambda i: i - 1)))),
        Mistake("prev_diagonal", lambda w: float(np.mean(np.diag(w)))),
        Mistake("prev_diagonal", lambda w: float(np.mean(np.diag(w)[1:]))),
        Mistake("prev_future", lambda w: float(np.mean([w[i, i + 1] for i in range(w.shape[0] - 1)]))),
        Mistake("prev_whole_matrix", lambda w: float(np.mean(w))),
        Mistake("score_sum", lambda w: float(np.sum([w[i, i - 1] for i in range(1, w.shape[0])]))),
        Mistake("score_not_averaged", lambda w: np.array([w[i, i - 1] for i in range(1, w.shape[0])])),
    ]


def _ch10_index_error_means(mistake, *, hard_coded=None):
    """An ``on_error`` for ``_run``: an IndexError raised by the learner's code is ``mistake`` (an
    index one too far); ``hard_coded`` when the learner's function (comments aside) writes the
    chapter's sequence length 24 (or 23) as a number; two index arrays of different lengths
    (``w[rows, cols]``) are named as such."""
    def on_error(exc, case):
        if not isinstance(exc, IndexError):
            return None
        if "shape mismatch" in _safe_str(exc):
            return "index_arrays_mismatch"
        code = re.sub(r"#.*", "", getattr(exc, "_checks_source", "") or _line(exc))
        if hard_coded and re.search(r"(?<![\w.])2[34](?![\w.])", code):
            return hard_coded
        return mistake
    return on_error


_ch10_prev_error = _ch10_index_error_means("prev_range_off_by_one", hard_coded="prev_hardcoded_length")


@_checker
def check_previous_token_score(fn) -> None:
    """ch10: ``fn(weights) -> float`` = mean of α[i, i-1] over i = 1 … n-1 (one head, one sequence)."""
    _run(fn, _ch10_prev_cases(), _ch10_prev_mistakes(), "含只有 2 个词、float32、一个明显的前一词头",
         on_error=_ch10_prev_error)


def _ch10_induction_cases():
    rng = _rng(102)
    specs = []
    for label, n, src, dst, length, f32 in [
        ("10 个词，片段 [1, 4) 在 6 处重复（length=3）", 10, 1, 6, 3, False),
        ("12 个词，片段 [0, 4) 紧接着在 4 处重复", 12, 0, 4, 4, False),
        ("16 个词，片段 [3, 8) 在 10 处重复", 16, 3, 10, 5, False),
        ("float32，9 个词，片段 [2, 4) 在 6 处重复", 9, 2, 6, 2, True),
    ]:
        w = _ch10_random_causal_weights(rng, n)
        if label.startswith("16"):                                 # a real induction head
            q = np.arange(dst, dst + length)
            w[q, q - (dst - src) + 1] += 2.0
            w /= w.sum(axis=-1, keepdims=True)
        if f32:
            w = w.astype(np.float32)
        args = (w, src, dst, length)
        specs.append(Case(label, args, _ch10_ref_induction_score(w.astype(np.float64), src, dst, length), f32))
    return specs


def _ch10_mean_at(w, queries, key):
    """Mean of α[i, key(i)] over the query rows i."""
    return float(np.mean([w[i, key(i)] for i in queries]))


def _ch10_induction_mistakes():
    mean_at = _ch10_mean_at
    return [
        Mistake("ind_same_token", lambda w, s, d, L: mean_at(w, range(d, d + L), lambda i: i - (d - s))),
        Mistake("ind_previous_token", lambda w, s, d, L: mean_at(w, range(d, d + L), lambda i: i - 1)),
        Mistake("ind_query_range", lambda w, s, d, L: mean_at(w, range(d + 1, d + L), lambda i: i - (d - s) + 1)),
        Mistake("ind_query_range", lambda w, s, d, L: mean_at(w, range(d, d + L - 1), lambda i: i - (d - s) + 1)),
        Mistake("ind_query_range", lambda w, s, d, L: mean_at(w, range(d + 1, d + L + 1), lambda i: i - (d - s))),
        Mistake("ind_fixed_key", lambda w, s, d, L: mean_at(w, range(d, d + L), lambda i: s + 1)),
        Mistake("ind_two_off", lambda w, s, d, L: mean_at(w, range(d, d + L), lambda i: i - (d - s) - 1)),
        Mistake("ind_row_max", lambda w, s, d, L: float(np.mean([w[i].max() for i in range(d, d + L)]))),
        Mistake("ind_divide_by_n", lambda w, s, d, L: float(np.sum([w[i, i - (d - s) + 1]
                                                                    for i in range(d, d + L)])) / w.shape[0]),
        Mistake("score_sum", lambda w, s, d, L: float(np.sum([w[i, i - (d - s) + 1] for i in range(d, d + L)]))),
        Mistake("score_not_averaged", lambda w, s, d, L: np.array([w[i, i - (d - s) + 1] for i in range(d, d + L)])),
    ]


_ch10_induction_error = _ch10_index_error_means("ind_query_range")


@_checker
def check_induction_score(fn) -> None:
    """ch10: ``fn(weights, src, dst, length) -> float``: mean of α[i, i - (dst - src) + 1], dst ≤ i < dst + length."""
    _run(fn, _ch10_induction_cases(), _ch10_induction_mistakes(),
         "含紧挨着的重复、一个真正的归纳头、float32", on_error=_ch10_induction_error)


def _ch10_same_cases():
    cases = []
    for c in _ch10_induction_cases():
        w, src, dst, length = c.args
        ref = float(np.mean([w.astype(np.float64)[i, i - (dst - src)] for i in range(dst, dst + length)]))
        cases.append(Case(c.label, c.args, ref, c.float32))
    return cases


def _ch10_same_mistakes():
    mean_at = _ch10_mean_at
    return [
        Mistake("same_plus_one", lambda w, s, d, L: mean_at(w, range(d, d + L), lambda i: i - (d - s) + 1)),
        Mistake("ind_previous_token", lambda w, s, d, L: mean_at(w, range(d, d + L), lambda i: i - 1)),
        Mistake("ind_query_range", lambda w, s, d, L: mean_at(w, range(d + 1, d + L), lambda i: i - (d - s))),
        Mistake("ind_query_range", lambda w, s, d, L: mean_at(w, range(d, d + L - 1), lambda i: i - (d - s))),
        Mistake("ind_fixed_key", lambda w, s, d, L: mean_at(w, range(d, d + L), lambda i: s)),
        Mistake("ind_row_max", lambda w, s, d, L: float(np.mean([w[i].max() for i in range(d, d + L)]))),
        Mistake("ind_divide_by_n", lambda w, s, d, L: float(np.sum([w[i, i - (d - s)]
                                                                    for i in range(d, d + L)])) / w.shape[0]),
        Mistake("score_sum", lambda w, s, d, L: float(np.sum([w[i, i - (d - s)] for i in range(d, d + L)]))),
        Mistake("score_not_averaged", lambda w, s, d, L: np.array([w[i, i - (d - s)] for i in range(d, d + L)])),
    ]


@_checker
def check_same_token_score(fn) -> None:
    """ch10: ``fn(weights, src, dst, length) -> float``: mean of α[i, i - (dst - src)], dst ≤ i < dst + length."""
    _run(fn, _ch10_same_cases(), _ch10_same_mistakes(),
         "含紧挨着的重复、float32", on_error=_ch10_induction_error)


def _as_choice(value, choices) -> str | None:
    """A multiple-choice answer as one of ``choices`` (upper-case letters), or None.

    Unambiguous spellings are accepted: full-width letters (Ｃ, what a Chinese IME in
    full-width mode types; NFKC), lower case, surrounding spaces, brackets and punctuation
    ("(C)", "C.") and a trailing 档 ("C 档").  Anything else ("选C", "C 或 D") is refused."""
    if not isinstance(value, str):
        return None
    text = re.sub(r"\s*档$", "", unicodedata.normalize("NFKC", value).strip())
    text = text.strip(" \t\r\n()[]{}<>.,;:!?'\"“”‘’「」【】。、，；：！？").upper()
    return text if text in choices else None


#: Exercise 3's bands for the repeated-half loss with both layer-2 heads removed.
_CH10_BANDS = MappingProxyType({"A": (0.0, 1.0), "B": (1.0, 3.0), "C": (3.0, 4.5), "D": (4.5, np.inf)})


@_checker
def check_ablation_prediction(my_prediction) -> None:
    """ch10 (predict): which band the repeated-half loss falls in with both layer-2 heads ablated.

    A: < 1, B: 1–3, C: 3–4.5 (about the random half), D: > 4.5.  The checker measures it
    on the chapter's 512 evaluation sequences with the shipped weights."""
    if my_prediction is None:
        _report(Outcome("pending", message="⏳ 还没完成：先把你的预测（一个字母）填进 my_prediction，再运行本单元格检查。"))
        return
    choice = _as_choice(my_prediction, _CH10_BANDS)
    if choice is None:
        _report(Outcome("failed", mistake="ablation_not_choice",
                        message=f"❌ my_prediction = {my_prediction!r}：{HINTS['ablation_not_choice']}"))
        return
    from . import induction
    params = induction.load_weights()
    batch = induction.make_batch(512, seed=induction.EVAL_SEED)
    base_rep, base_rand = induction.half_losses(params, batch)
    rep, rand = induction.half_losses(params, batch, head_mask=np.array([[1.0, 1.0], [0.0, 0.0]]))
    right = next(k for k, (lo, hi) in _CH10_BANDS.items() if lo <= rep < hi)
    numbers = (f"完整模型的副本损失 {base_rep:.3f}；去掉第 2 层两个头后 {rep:.3f}，"
               f"第一次出现的损失 {rand:.3f}（ln 40 = {np.log(40):.3f}）。")
    if choice != right:
        _report(Outcome("failed", mistake="ablation_band",
                        message=f"❌ 你选了 {choice}，实际在 {right} 档。{HINTS['ablation_band']}\n   {numbers}"))
        return
    _report(Outcome("passed", message=f"✅ 正确！{numbers}\n   副本和第一次出现一样只能瞎猜：抄写全靠第 2 层的头。"))


__all__ += ["check_previous_token_score", "check_induction_score", "check_same_token_score",
            "check_ablation_prediction"]

# Every chapter has registered its hints: from here on the tables are read-only, so an accidental edit in a
# notebook (checks.HINTS["..."] = ...) cannot change a later verdict.
HINTS = MappingProxyType(HINTS)
CHAPTER_HINTS = MappingProxyType({chapter: frozenset(keys) for chapter, keys in CHAPTER_HINTS.items()})
