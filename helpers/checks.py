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
import datetime
import functools
import importlib
import inspect
import json
import os
import re
import signal
import sys
import threading
import time
import traceback
import unicodedata
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np

from . import attention as _att
from . import solutions as _solutions
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
    "qkv_not_projected": "忘了投影：Q、K、V 要分别由 X 乘以 W_Q、W_K、W_V 得到，不能直接用 X。",
    # --- scores ------------------------------------------------------------
    "scores_swapped": "形状反了：你算的是 K Qᵀ（行是键）。打分要写成 Q @ K.T，行 = 查询，列 = 键。",
    "k_not_transposed": "K 没有转置：要用 Q @ K.T，让每个查询和每个键做点积。",
    "scores_elementwise": "这是逐元素相乘 Q * K，不是点积：要用矩阵乘法 Q @ K.T。",
    "scores_already_scaled": "这一步只要原始分数 Q Kᵀ，还不需要除以 √d_k（那是下一步）。",
    # --- scaling -----------------------------------------------------------
    "forgot_sqrt_dk": "忘了缩放：分数要除以 √d_k（np.sqrt(d_k)）。",
    "scaled_by_dk": "缩放过头了：应该除以 √d_k，而不是 d_k。",
    "multiplied_sqrt_dk": "方向反了：应该除以 √d_k，你乘上了 √d_k。",
    "dk_wrong_axis": "d_k 取错了：d_k 是每个查询/键向量的维度 Q.shape[-1]（列数），不是词的个数 Q.shape[0]（行数）。",
    "scaled_by_d_model": "缩放用错了维度：要除以 √d_k（K 的列数），不是 √d_model（X 的列数）。",
    # --- softmax -----------------------------------------------------------
    "softmax_wrong_axis": "softmax 的方向错了：应沿最后一个轴（每一行、对所有键）归一化，用 axis=-1，不是 axis=0。",
    "softmax_whole_matrix": "整个矩阵一起归一化了：softmax 要对每一行单独做，求和时用 axis=-1, keepdims=True。",
    "softmax_not_normalized": "忘了归一化：exp 之后还要除以每一行的和，让每行加起来等于 1。",
    "softmax_overflow": "数值溢出：朴素 softmax 直接算 np.exp(x)，分数很大时 exp 溢出成 inf，得到 nan。先减去每一行的最大值（忘了减最大值）。",
    "softmax_global_max": "减去的是整个矩阵的最大值，不是每一行的最大值：数值较小的行会全部下溢成 0，得到 nan。用 np.max(x, axis=-1, keepdims=True)。",
    "softmax_keepdims": "广播出错：np.max / np.sum 沿 axis=-1 时要加 keepdims=True，否则形状 (n,) 会和错误的轴对齐。",
    "softmax_subtract_min": "减去的是最小值：要减去每一行的最大值，exp 的参数才都 <= 0、不会溢出。",
    # --- attention ---------------------------------------------------------
    "returned_weights": "你返回的是注意力权重 α，不是输出：还差最后一步 Z = α @ V。",
    "returned_tuple": "这个练习只要返回 Z 一个矩阵，不要返回 (Z, α) 元组。",
    "weights_times_k": "权重乘错了矩阵：加权求和要用值 V（Z = α @ V），不是键 K。",
    "forgot_softmax": "忘了 softmax：缩放后的分数要先变成每行和为 1 的权重 α，再乘 V。",
    "attention_shapes": "形状对不上：检查打分是不是 Q @ K.T（不是 K @ Q.T，也没有漏掉转置），最后是不是 α @ V。",
    # --- masks -------------------------------------------------------------
    "forgot_mask": "忘了因果掩码：第 i 个词只能看第 0…i 个词，未来的位置要在 softmax 之前填 -inf。",
    "mask_after_softmax": "掩码加在了 softmax 之后：把权重清零后每行就不再加起来等于 1。要在 softmax 之前把未来位置的分数设为 -inf。",
    "mask_filled_zero": "被挡住的位置填了 0：分数为 0 时 exp(0)=1，仍然会分到权重。要填 -inf（或 -1e9）。",
    "mask_upper": "掩码方向反了（上三角）：应该用下三角 np.tril，让第 i 个词看到第 0…i 个词，而不是未来的词。",
    "mask_inverted": "True/False 反了：约定 True = 可以看。因果掩码是下三角（含对角线）为 True。",
    "mask_no_diagonal": "差了一位：对角线也要保留，每个词应该能看到自己（np.tril 的 k=0，不是 k=-1）。",
    "mask_includes_future": "差了一位：多看了一个未来的词。用 np.tril(..., k=0)，不是 k=1。",
    "mask_not_bool": "数值对了，但请返回布尔数组（dtype=bool，True = 可以看），例如 np.tril(np.ones((n, n), dtype=bool))。",
    "mask_additive": "这里要的是布尔掩码（True = 可以看），不是加性的 0 / -inf 掩码。",
    "mask_not_square": "因果掩码的形状应该是 (n, n)：每个查询（行）对每个键（列）各有一个 True/False。",
    # --- softmax backward --------------------------------------------------
    "backward_diag_only": "只用了雅可比矩阵的对角线 α_i(1-α_i)：每个权重都依赖所有分数，还差非对角项 -α_i Σ_{j≠i} α_j g_j；合起来是 α ⊙ (g - α·g)。",
    "backward_forgot_dot": "漏了 -(α·g) 这一项：正确的梯度是 α ⊙ (g - α·g)。",
    "backward_sign": "符号反了：应该是 α ⊙ (g - α·g)，不是 α ⊙ (α·g - g)。",
    "backward_identity": "把 softmax 当成了恒等函数：梯度还要乘上雅可比矩阵 diag(α) - α αᵀ。",
    "backward_forgot_alpha": "忘了乘 α：应该是 α ⊙ (g - α·g)。",
    # --- generic -----------------------------------------------------------
    "timeout": "检查一下循环能不能结束（while 的条件是否永远成立、循环变量有没有更新），或者是不是做了远超需要的计算。",
    "interrupted": "检查被中断了（KeyboardInterrupt，例如点了停止按钮），还没有结论。修改好后重新运行本单元格即可。",
    "system_exit": "不要在函数里调用 exit()、quit() 或 sys.exit()：它们会结束程序。练习的函数要用 return 返回结果。",
    "mutated_input": "你的函数原地修改了传进来的数组（例如 x -= …、x /= …、x[...] = …、np.exp(x, out=x)），调用者的数据被改掉了：请写成 x = x - …，或者先 x = x.copy()。",
    "uses_course_impl": "这个练习要你自己写出这一步，但你的函数直接调用了课程已经写好的实现：请只用 NumPy（@、np.exp、np.sum …）自己写。",
    "not_callable": "请把函数本身传进来（不要带括号），例如 checks.check_scores(my_scores)。",
    "nonfinite": "结果里有 nan 或 inf：检查是否有除以 0，或 exp 溢出（softmax 要先减去每一行的最大值）。",
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
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


# --- time limit -------------------------------------------------------------

def _time_limit() -> float | None:
    limit = _limit_var.get()
    limit = TIME_LIMIT if limit is None else limit
    return float(limit) if limit and limit > 0 else None


def _limited(fn, args, limit):
    """``fn(*args)``, stopped with :class:`_Timeout` after ``limit`` seconds.

    In the main thread on Unix (where Jupyter runs a cell) a SIGALRM timer
    raises ``_Timeout`` inside the learner's code, so even ``while True: pass``
    stops and the kernel stays usable; the timer re-fires every 0.5 s in case
    the learner's code catches the first one with a bare ``except``.  Elsewhere
    (Windows, or a checker called from a worker thread) the call runs in a
    daemon thread that we stop waiting for after ``limit`` seconds; Python
    cannot kill a thread, so a never-ending function keeps running in the
    background until the kernel restarts (the verdict says so).
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

def _mutated(originals, copies, fn) -> str | None:
    """Name of the first argument the learner's function changed in place, else None."""
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    for i, (a, c) in enumerate(zip(originals, copies)):
        if not isinstance(a, np.ndarray):
            continue
        same = isinstance(c, np.ndarray) and c.shape == a.shape and c.dtype == a.dtype
        if same:
            with np.errstate(all="ignore"):
                same = bool(np.array_equal(a, c, equal_nan=a.dtype.kind in "fc"))
        if not same:
            return params[i] if i < len(params) else f"第 {i + 1} 个参数"
    return None


def _call(fn, args, *, time_limit=None, forbidden=None):
    """Run learner code; return (status, value, exc, warning messages).

    status: "ok" | "pending" | "error" (exc = the exception) |
    "timeout" | "interrupted" | "exit" (exc = the exception) |
    "mutated" (exc = the parameter's name) | "forbidden" (exc = "attention.softmax" …).
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
            return "error", None, exc, [_safe_str(w.message) for w in caught]
    msgs = [_safe_str(w.message) for w in caught]
    if hits:
        return "forbidden", None, hits[0], msgs
    changed = _mutated(args, copies, fn)
    if changed is not None:
        return "mutated", None, changed, msgs
    if value is None or (isinstance(value, (tuple, list)) and value and all(v is None for v in value)):
        return "pending", None, None, msgs
    return "ok", value, None, msgs


def _quiet(fn, *args):
    """Run a reference/mistake function silently; None if it fails."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                return fn(*args)
    except Exception:
        return None


def _as_array(value):
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

_record = {"path": os.environ.get("COURSE_CHECKS_RECORD") or None,
           "student": os.environ.get("COURSE_CHECKS_STUDENT") or None}


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
    target = _record_file(path)
    folder = os.path.dirname(target) or "."
    if not os.path.isdir(folder):
        raise ValueError(f"path: folder {folder!r} does not exist")
    try:
        with open(target, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise ValueError(f"path: cannot write to {target!r} ({exc.strerror})") from None
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
    except OSError:
        pass  # recording is a teacher's convenience; it never breaks a learner's check


def read_records(folder) -> list[dict]:
    """All verdicts recorded in ``folder`` (every ``*.jsonl`` below it) or in one file.

    Each record gets ``"file"`` (its path relative to ``folder``); malformed lines are skipped.
    """
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
                if isinstance(entry, dict) and isinstance(entry.get("exercise"), str):
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
    token = _strict_var.set(bool(on))
    try:
        yield
    finally:
        _strict_var.reset(token)


def set_strict(on: bool = True) -> None:
    """Module-level switch: every later check is strict (``on=True``) or not."""
    global STRICT
    STRICT = bool(on)


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
    _write_record(outcome, _exercise_name())
    if _is_strict() and outcome.status != "passed":
        raise AssertionError(outcome.message) from None
    print(outcome.message)
    return outcome


def _checker(check):
    """Give a ``check_*(fn)`` the keywords ``strict=`` and ``time_limit=`` (seconds per call)."""
    @functools.wraps(check)
    def wrapper(fn, *args, strict: bool | None = None, time_limit: float | None = None, **kwargs):
        if time_limit is not None and (isinstance(time_limit, bool) or not isinstance(time_limit, (int, float))
                                       or not time_limit > 0):
            raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
        tokens = [(_strict_var, _strict_var.set(bool(strict)))] if strict is not None else []
        if time_limit is not None:
            tokens.append((_limit_var, _limit_var.set(float(time_limit))))
        try:
            return check(fn, *args, **kwargs)
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


_CALL_VERDICTS = {
    "timeout": "timeout",
    "interrupted": "interrupted",
    "exit": "system_exit",
    "mutated": "mutated_input",
    "forbidden": "uses_course_impl",
}


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
        return _fail(case, key, f"被修改的参数：{exc}")
    impl = str(exc)
    module, _, short = impl.rpartition(".")
    if module == "solutions":
        shown = f"参考答案 solutions.{short}"
    elif module in ("attention", "tokens"):
        shown = f"helpers.{impl}（也就是 h.{short}）"
    else:
        shown = f"helpers.{impl}"
    return _fail(case, key, f"你的函数调用了{shown}。")


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
        if status == "pending":
            return _pending(fn)
        if status in _CALL_VERDICTS:
            return _call_verdict(status, exc, case, fn, limit)
        if status == "error":
            try:
                exc._checks_line = _error_line(exc)   # on_error may look at the line
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
    msg = f"✅ 正确！在 {len(cases)} 组输入上与参考实现一致（{verified}）。"
    if all_warnings:
        msg += "\n   不过运行时出现了数值警告（" + all_warnings[0][:60] + "），检查一下是否有溢出。"
    return Outcome("passed", message=msg, warnings=all_warnings)


def _judge(fn, value, case, later, seen, mistakes, msgs, *, prepare, compare, forbidden, limit):
    """None if ``value`` is right on ``case`` (then remembered in ``seen``), else the verdict."""
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
            if status == "ok":
                if prepare is not None:
                    v, bad = prepare(v, c)
                    if bad:
                        continue
                others.append((c, v))
    key, detail = _diagnose(value, case, mistakes, others, with_detail=True)
    if key:
        return _fail(case, key, detail)
    overflowed = any("overflow" in m or "invalid value" in m for m in msgs)
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
    """Why ``value`` differs from ``expected``: type, dtype, shape or largest difference."""
    label = f"你的 {name} " if name else "你的结果"
    exp = _as_array(expected)
    arr = _as_array(value)
    if arr is None:
        if isinstance(value, np.ndarray):
            return f"{label}的数据类型是 {value.dtype}，应该是实数数组（float）。"
        return f"{label}是 {type(value).__name__}，应该是一个 NumPy 数组。"
    if arr.shape != exp.shape:
        rows = "（行 = 词/查询）" if exp.ndim == 2 else ""
        return f"{label}形状是 {arr.shape}，应该是 {exp.shape}{rows}。"
    return f"{label}与参考实现不一致。" + _largest_difference(arr, exp, float32)


def _describe(value, case: Case) -> str:
    if isinstance(case.expected, tuple):  # several matrices, e.g. (Q, K, V)
        for name, v, e in zip(("Q", "K", "V"), value, case.expected):
            if not _close(v, e, case.float32):
                return _describe_one(v, e, case.float32, name)
    return _describe_one(value, case.expected, case.float32)


def _rng(seed):
    return np.random.default_rng(seed)


def _randn(rng, *shape, scale=1.0):
    return np.round(rng.standard_normal(shape) * scale, 2)


def _float32_if(f32: bool, arrays) -> tuple:
    """A float32 case gets float32 inputs (its reference is still computed in float64)."""
    return tuple(a.astype(np.float32) for a in arrays) if f32 else tuple(arrays)


def _random_xw(seed, n, d_model, d_k, d_v, *, scale=1.0, f32=False) -> tuple:
    """``(X, W_Q, W_K, W_V)``: X (n, d_model) times ``scale``, W_Q/W_K (d_model, d_k), W_V (d_model, d_v)."""
    rng = _rng(seed)
    X = _randn(rng, n, d_model, scale=scale)
    W = [_randn(rng, d_model, d_k), _randn(rng, d_model, d_k), _randn(rng, d_model, d_v)]
    return _float32_if(f32, (X, *W))


def _random_qkv(seed, n_q, n_k, d_k, d_v, *, scale=1.0, f32=False) -> tuple:
    """``(Q, K, V)``: Q (n_q, d_k) and K (n_k, d_k) times ``scale``, V (n_k, d_v)."""
    rng = _rng(seed)
    Q, K = _randn(rng, n_q, d_k, scale=scale), _randn(rng, n_k, d_k, scale=scale)
    return _float32_if(f32, (Q, K, _randn(rng, n_k, d_v)))


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
    seed_case = Case("原教程的例子 q1 与 K", (SEED_EXAMPLE["q1"].copy(), SEED_EXAMPLE["K"].copy()), None)
    cases.insert(3, seed_case)
    return cases


def _scores_error(exc, case):
    if _matmul_error(exc):
        return "k_not_transposed"
    if isinstance(exc, ValueError) and "broadcast" in str(exc):
        return "scores_elementwise"
    return None


def _scores_mistakes(scaled: bool):
    base = [
        Mistake("scores_swapped", lambda Q, K: K @ Q.T),
        Mistake("k_not_transposed", lambda Q, K: Q @ K),
        Mistake("scores_elementwise", lambda Q, K: Q * K),
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
    ]
    for c in cases:
        c.expected = _ref_softmax(np.asarray(c.args[0], dtype=np.float64))
    return cases


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
    ]


def _softmax_error(exc, case):
    if isinstance(exc, ValueError) and "broadcast" in str(exc):
        return "softmax_keepdims"
    return None


@_checker
def check_softmax(fn) -> None:
    """ch04: ``fn(scores) -> weights``, a numerically stable softmax over each row (axis=-1)."""
    _run(fn, _softmax_cases(), _softmax_mistakes(),
         "含 1 个词、非方阵、float32、大分数（≈1000）、各行量级相差很大", on_error=_softmax_error,
         forbidden=("attention.softmax", "attention.attention_weights", "attention.scaled_dot_product_attention"))


# ---------------------------------------------------------------------------
# ch05 / ch06: attention
# ---------------------------------------------------------------------------

def _attention_cases():
    specs = [
        ("4 个词（方阵），d_k=4，d_v=3", 4, 4, 4, 3, 51, 1.0, False),
        ("2 个查询 × 5 个键，d_k=3，d_v=6（n_q≠n_k）", 2, 5, 3, 6, 52, 1.0, False),
        ("1 个词", 1, 1, 4, 2, 53, 1.0, False),
        ("float32 大分数，3 个查询 × 4 个键，d_k=4，d_v=5", 3, 4, 4, 5, 54, 30.0, True),
    ]
    cases = []
    for label, n_q, n_k, d_k, d_v, seed, scale, f32 in specs:
        args = _random_qkv(seed, n_q, n_k, d_k, d_v, scale=scale, f32=f32)
        cases.append(Case(label, args, _sdpa(*_f64(args)), f32))
    s = SEED_EXAMPLE
    cases.insert(3, Case("原教程的例子 q1、K、V", (s["q1"].copy(), s["K"].copy(), s["V"].copy()),
                         _sdpa(s["q1"], s["K"], s["V"])))
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
    s = {"sqrt": s / np.sqrt(d_k), "none": s, "dk": s / d_k}[scale]
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    w = {
        "stable": lambda: _ref_softmax(s),
        "naive": lambda: _naive_softmax(s),
        "axis0": lambda: _ref_softmax(s, axis=0),
        "none": lambda: s if mask is None else np.where(mask, s, 0.0),
    }[softmax]()
    if ret == "w":
        return w
    return w @ (V if apply == "v" else K)


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
    ]


def _tuple_prepare(value, case):
    if isinstance(value, tuple):
        return value, "returned_tuple"
    return value, None


def _attention_error(exc, case):
    if _matmul_error(exc):
        return "attention_shapes"
    return _softmax_error(exc, case)


@_checker
def check_attention(fn) -> None:
    """ch05: ``fn(Q, K, V) -> Z``, the full scaled dot-product attention output (n_q, d_v)."""
    _run(fn, _attention_cases(), _attention_mistakes(),
         "含 1 个词、n_q≠n_k、d_v≠d_k、原教程例子、float32 大分数",
         prepare=_tuple_prepare, on_error=_attention_error,
         forbidden=_ATTENTION_IMPLS)


def _self_attention_cases():
    specs = [
        ("4 个词，d_model=6，d_k=4，d_v=3", 4, 6, 4, 3, 61, 1.0, False),
        ("1 个词", 1, 6, 4, 3, 62, 1.0, False),
        ("5 个词，d_model=8，d_k=2，d_v=5", 5, 8, 2, 5, 63, 1.0, False),
        ("float32 大分数，3 个词，d_model=4，d_k=4，d_v=2", 3, 4, 4, 2, 64, 15.0, True),
    ]
    cases = []
    for label, n, d_model, d_k, d_v, seed, scale, f32 in specs:
        args = _random_xw(seed, n, d_model, d_k, d_v, scale=scale, f32=f32)
        cases.append(Case(label, args, _att.self_attention(*_f64(args))[0], f32))
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
    ]


@_checker
def check_self_attention(fn) -> None:
    """ch06: ``fn(X, W_Q, W_K, W_V) -> Z`` — self-attention of one sequence (rows = tokens)."""
    _run(fn, _self_attention_cases(), _self_attention_mistakes(),
         "含 1 个词、d_model≠d_k、d_v≠d_k、float32 大分数",
         prepare=_tuple_prepare, on_error=_attention_error,
         forbidden=_ATTENTION_IMPLS)


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
        ("4 个词，d_k=4，d_v=3", 4, 4, 3, 71, 1.0, False),
        ("1 个词", 1, 4, 2, 72, 1.0, False),
        ("6 个词，d_k=2，d_v=5", 6, 2, 5, 73, 1.0, False),
        ("float32 大分数，5 个词，d_k=4，d_v=3", 5, 4, 3, 74, 30.0, True),
    ]
    cases = []
    for label, n, d_k, d_v, seed, scale, f32 in specs:
        args = _random_qkv(seed, n, n, d_k, d_v, scale=scale, f32=f32)
        cases.append(Case(label, args, _sdpa(*_f64(args), mask=_att.causal_mask(n)), f32))
    return cases


def _causal_mistakes():
    def masked(key):
        return lambda Q, K, V: _masked_z(Q, K, V, _wrong_causal_masks(Q.shape[0])[key])

    def after_softmax(Q, K, V):
        n = Q.shape[0]
        w = _ref_softmax(Q @ K.T / np.sqrt(Q.shape[-1]))
        return (w * _att.causal_mask(n)) @ V

    def fill_zero(Q, K, V):
        n = Q.shape[0]
        s = np.where(_att.causal_mask(n), Q @ K.T / np.sqrt(Q.shape[-1]), 0.0)
        return _ref_softmax(s) @ V

    def pipeline(Q, K, V, **kw):
        # the attention mistakes, but with the causal mask applied correctly
        return _attention_pipeline(Q, K, V, mask=_att.causal_mask(Q.shape[0]), **kw)

    return [
        Mistake("forgot_mask", lambda Q, K, V: _sdpa(Q, K, V)),
        Mistake("mask_after_softmax", after_softmax),
        Mistake("mask_filled_zero", fill_zero),
        Mistake("mask_upper", masked("mask_upper")),
        Mistake("mask_inverted", masked("mask_inverted")),
        Mistake("mask_no_diagonal", masked("mask_no_diagonal")),
        Mistake("mask_includes_future", masked("mask_includes_future")),
    ] + _attention_mistakes(pipeline)


@_checker
def check_causal_attention(fn) -> None:
    """ch07: ``fn(Q, K, V) -> Z`` where query i only attends to keys 0..i (causal mask before softmax)."""
    _run(fn, _causal_cases(), _causal_mistakes(),
         "含 1 个词、d_v≠d_k、float32 大分数；未来位置的权重为 0",
         prepare=_tuple_prepare, on_error=_attention_error,
         forbidden=_ATTENTION_IMPLS)


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
        raise ValueError(f"unknown exercise {name!r}; choose one of: {', '.join(SOLUTION_NAMES)}")
    src = inspect.getsource(getattr(_solutions, key))
    print(f"# 参考答案：{key}（先自己试一试再看哦）")
    print("import numpy as np\n")
    print(src.rstrip())
