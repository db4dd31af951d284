"""Input checks shared by every module of ``helpers``: one rule per function.

The math modules call these first and then read like the lesson.  Every check
raises ``TypeError`` (wrong kind of thing) or ``ValueError`` (right kind, bad
value) with a message that starts with the caller's parameter name and says
what was given, so a learner sees *which* argument is wrong and why.  Nothing
here converts silently: a bool is not an int, a string is not a list of tokens,
a 2-D array is not flattened.

This module has no ``__all__``: it is the course's plumbing, not part of a lesson.
"""

from __future__ import annotations

import numbers
import os
import unicodedata
from pathlib import Path
from types import MappingProxyType

import numpy as np

#: Largest size (tokens, dimensions, samples, …) a helper accepts for one axis.  The course's
#: examples stay far below it; above it the arrays no longer fit a learner's laptop or Binder.
MAX_SIZE = 100_000
#: Largest number of elements a helper allocates for one array (8e7 float64 = 640 MB).
MAX_ELEMENTS = 80_000_000
#: Largest |value| accepted in arrays that are multiplied together: the square of it times
#: MAX_SIZE still fits in float64 (max 1.8e308), so Q Kᵀ, X W, α V cannot overflow.  Read-only.
MAX_ABS = MappingProxyType({np.dtype(np.float64): 1e150, np.dtype(np.float32): 1e17})
#: Largest seed (NumPy's SeedSequence takes any non-negative int; keep it a 64-bit one).
MAX_SEED = 2 ** 63 - 1


def shape_str(a) -> str:
    """``(3, 4)`` — the shape of ``a`` as written in messages."""
    return str(tuple(np.shape(a)))


def first_index(condition: np.ndarray) -> tuple:
    """Index (tuple of ints) of the first ``True`` entry of ``condition``."""
    return tuple(int(i) for i in np.argwhere(condition)[0])


def _is_int(n) -> bool:
    return isinstance(n, numbers.Integral) and not isinstance(n, (bool, np.bool_))


def as_float_array(x, name: str) -> np.ndarray:
    """``x`` as a new float array (float32 kept, everything else float64); no value checks.

    ``TypeError`` for None, strings, object/ragged arrays, booleans and complex numbers.
    The result never shares memory with ``x``.
    """
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers, got {type(x).__name__} {x!r:.40}")
    try:
        arr = np.array(x, copy=True)
    except Exception as exc:  # ragged nested lists and the like
        raise TypeError(f"{name} must be a numeric array; could not convert it ({exc})") from None
    if arr.dtype == object:
        raise TypeError(
            f"{name} must be a rectangular array of real numbers; got an object array of shape "
            f"{shape_str(arr)} (ragged rows or non-numeric entries?)"
        )
    if arr.dtype.kind == "b":
        raise TypeError(f"{name} must hold real numbers, not booleans (dtype bool, shape {shape_str(arr)})")
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype} with shape {shape_str(arr)}")
    if arr.dtype != np.float32:
        arr = arr.astype(np.float64)
    return arr



def read_only_array(values) -> np.ndarray:
    """``values`` as a float64 array nobody can write to (a course constant, a checker's private copy): a
    read-only view of a read-only copy, because NumPy refuses to turn WRITEABLE back on for such a view."""
    base = np.array(values, dtype=np.float64)
    base.flags.writeable = False
    return base.view()

def check_float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """A NumPy floating-point dtype (``np.float32``, ``"float64"`` …) as ``np.dtype``."""
    try:
        dt = np.dtype(dtype) if dtype is not None else None  # np.dtype(None) would be float64
    except (TypeError, ValueError):
        dt = None
    if dt is None:
        raise TypeError(f"{name} must be a NumPy float dtype such as np.float64, got {dtype!r:.40}")
    if dt.kind != "f":
        raise TypeError(f"{name} must be a NumPy float dtype such as np.float64, got {dt}")
    return dt


def as_real_array(x, name: str, *, allow_neg_inf: bool = False, multiplied: bool = True) -> np.ndarray:
    """:func:`as_float_array` plus: no NaN, no inf (``-inf`` only if ``allow_neg_inf``), and — for
    arrays that get ``multiplied`` by others (the default) — no value so large that a product
    would overflow (see :data:`MAX_ABS`).  Scores headed for softmax pass ``multiplied=False``."""
    arr = as_float_array(x, name)
    if allow_neg_inf and np.isposinf(arr).any() and not np.isnan(arr).any():
        i = first_index(np.isposinf(arr))
        raise ValueError(f"{name} contains +inf (first at index {i}); shape {shape_str(arr)}. "
                         f"Only -inf (= masked out) is allowed.")
    bad = np.isnan(arr) | (np.isposinf(arr) if allow_neg_inf else np.isinf(arr))
    if bad.any():
        i = first_index(bad)
        raise ValueError(f"{name} contains NaN or inf (first at index {i}: {arr[i]!r}); shape {shape_str(arr)}")
    if not multiplied:
        return arr
    finite = np.where(np.isfinite(arr), arr, 0)
    limit = MAX_ABS[arr.dtype]
    if arr.size and np.max(np.abs(finite)) > limit:
        i = first_index(np.abs(finite) > limit)
        raise ValueError(
            f"{name} has a value so large that products with it overflow (first at index {i}: {arr[i]!r}); "
            f"values must stay within ±{limit:g} for {arr.dtype}"
        )
    return arr


def check_ndim(arr: np.ndarray, name: str, ndims, dims: str) -> None:
    """Require ``arr.ndim`` in ``ndims`` (an int, a tuple or a range) and no empty axis; ``dims`` names the axes."""
    ndims = (ndims,) if isinstance(ndims, int) else tuple(ndims)
    if arr.ndim not in ndims:
        raise ValueError(f"{name} must have shape {dims}; got shape {shape_str(arr)}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: shape {shape_str(arr)}; it needs at least one entry on every axis")


def check_matrix_stack(arr: np.ndarray, name: str, dims: str) -> None:
    """Require ``arr`` to be ``(..., rows, cols)`` with no empty dimension."""
    if arr.ndim < 2:
        raise ValueError(
            f"{name} must have at least 2 dimensions {dims} (rows = tokens); got shape {shape_str(arr)}. "
            f"A single vector v can be written as v[None, :] (shape (1, {arr.shape[-1] if arr.ndim else 1}))."
        )
    if arr.size == 0:
        raise ValueError(
            f"{name} is empty: shape {shape_str(arr)}; every sequence needs at least one token and "
            f"every vector at least one component"
        )

def check_square(arr: np.ndarray, name: str, dims: str) -> None:
    """The last two axes of ``arr`` are equally long (every token against every token); ``dims`` names
    the axes in the message."""
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"{name} must have shape {dims} with as many rows as columns; got shape {shape_str(arr)}")



def check_number(x, name: str) -> float:
    """A real, finite number (not a bool) as float."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {x!r:.40} of type {type(x).__name__}")
    x = float(x)
    if not np.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {x!r}")
    return x


def check_positive_number(x, name: str, *, max_value: float | None = None) -> float:
    """A real number with ``0 < x`` (``<= max_value`` if given) as float."""
    x = check_number(x, name)
    if x <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {x!r}")
    if max_value is not None and x > max_value:
        raise ValueError(f"{name} must be at most {max_value:g}, got {x!r}")
    return x


def check_number_above(x, name: str, low: float, why: str = "") -> float:
    """A real, finite number with ``x > low`` as float; ``why`` (e.g. " (…)") says what a value at or
    below ``low`` would break."""
    x = check_number(x, name)
    if not x > low:
        raise ValueError(f"{name} must be greater than {low:g}{why}, got {x!r}")
    return x

def check_non_negative_number(x, name: str, *, max_value: float = MAX_ABS[np.dtype(np.float64)]) -> float:
    """A real number with ``0 <= x <= max_value`` as float (a loss, a distance)."""
    x = check_number(x, name)
    if not 0 <= x <= max_value:
        raise ValueError(f"{name} must be a number in [0, {max_value:g}], got {x!r}")
    return x



def check_number_in(x, name: str, low: float, high: float) -> float:
    """A real, finite number with ``low <= x <= high`` as float (e.g. a slider's start value)."""
    x = check_number(x, name)
    if not low <= x <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}, got {x!r}")
    return x


#: bounds of a checker's time limit per call, in seconds (below: a right answer has no time to run;
#: above: the timer cannot be set on every platform — pass None or float("inf") for no limit)
TIME_LIMIT_RANGE = (0.05, 3600.0)


def check_time_limit(limit, name: str = "time_limit") -> float | None:
    """Seconds one call of learner code may take, as float; ``None`` or ``float("inf")`` = no limit (None)."""
    if limit is None:
        return None
    if isinstance(limit, (bool, np.bool_)) or not isinstance(limit, numbers.Real) or not limit > 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {limit!r}")
    limit = float(limit)
    if limit == np.inf:
        return None
    low, high = TIME_LIMIT_RANGE
    if not low <= limit <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g} seconds (None or float('inf') = no limit), "
                         f"got {limit!r}")
    return limit


def check_fraction(x, name: str, *, include_one: bool = False) -> float:
    """A real number with ``0 <= x < 1`` (``<= 1`` if ``include_one``) as float: a decay rate such
    as Adam's β1, β2, or a share of the steps."""
    x = check_number(x, name)
    if not (0 <= x <= 1 if include_one else 0 <= x < 1):
        raise ValueError(f"{name} must be in [0, 1{']' if include_one else ')'}, got {x!r}")
    return x


#: Smallest finite-difference step: float64 keeps ~16 digits, so w ± 1e-10 still differs from w.
MIN_FD_EPS = 1e-10


def check_fd_step(eps, name: str = "eps") -> float:
    """A finite-difference step ``MIN_FD_EPS <= eps < 1`` as float.  Below it, w ± eps rounds back
    to w (or the loss difference is all rounding error): the "gradient" would be zeros or noise."""
    eps = check_number(eps, name)
    if not MIN_FD_EPS <= eps < 1:
        raise ValueError(f"{name} must be between {MIN_FD_EPS:g} and 1 for a meaningful finite difference, got {eps!r}")
    return eps


def check_fd_resolution(grad: np.ndarray, f_size: np.ndarray, eps: float, name: str = "f",
                        eps_name: str = "eps") -> None:
    """Central differences ``grad`` (float64) whose entries are not lost in ``name``'s rounding:
    ``f_size[i]`` = max |f(x ± eps e_i)|; f is only known to ~2⁻⁵² · |f|, so entry i carries a rounding
    noise of about ``f_size[i]·2⁻⁵²/eps``.  Refused: an entry no larger than its noise while that noise
    is above 1e-6 of the largest entry (a 0 or a random digit where the true slope is not 0)."""
    noise = f_size * np.finfo(np.float64).eps / eps
    scale = float(np.max(np.abs(grad), initial=0.0))
    lost = (np.abs(grad) <= noise) & (noise > 1e-6 * (scale if scale > 0 else 1.0))
    if lost.any():
        i = first_index(lost)
        raise ValueError(f"{name}'s rounding hides the change at index {i}: |{name}(x ± {eps_name})| ≈ {f_size[i]:.3g}, "
                         f"so central differences with {eps_name}={eps:g} are only known to ±{noise[i]:.2g} there, "
                         f"and the entry came out {grad[i]:.3g}; use a larger {eps_name} (or make {name}'s values "
                         f"smaller, e.g. subtract a constant)")


def check_int(n, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """An integer (not a bool, not a float) with ``low <= n <= high`` as int."""
    if not _is_int(n):
        raise TypeError(f"{name} must be an integer, got {n!r:.40} of type {type(n).__name__}")
    n = int(n)
    if (low is not None and n < low) or (high is not None and n > high):
        lo = "" if low is None else f"{low} <= "
        hi = "" if high is None else f" <= {high}"
        raise ValueError(f"{name} must satisfy {lo}{name}{hi}, got {n}")
    return n


def check_positive_int(n, name: str, *, max_value: int = MAX_SIZE) -> int:
    """A size: an integer ``1 <= n <= max_value`` (default :data:`MAX_SIZE`)."""
    if not _is_int(n):
        raise TypeError(f"{name} must be a positive integer, got {n!r:.40} of type {type(n).__name__}")
    if n <= 0:
        raise ValueError(f"{name} must be a positive integer, got {n}")
    if n > max_value:
        raise ValueError(f"{name}={n} is too large: at most {max_value} is supported here")
    return int(n)


def check_n_keys(n_keys, name: str = "n_keys") -> int:
    """A number of keys for softmax to choose among: an integer ``2 <= n_keys <= MAX_SIZE``."""
    n_keys = check_positive_int(n_keys, name)
    if n_keys < 2:
        raise ValueError(f"{name} must be at least 2 for softmax to have a choice; got {n_keys}")
    return n_keys


def check_sample_size(n, name: str, *, max_value: int = MAX_SIZE) -> int:
    """A number of random draws that a statistic (variance, mean, median) is computed from: an
    integer ``2 <= n <= max_value``.  One draw is no statistic: its variance is always 0 and its
    "mean" is just that draw, so the measurement would say nothing about the claim it tests."""
    n = check_positive_int(n, name, max_value=max_value)
    if n < 2:
        raise ValueError(f"{name} must be at least 2: a variance or mean over a single random draw is not a "
                         f"measurement (the variance of one value is always 0); got {n}")
    return n


def check_d_head(d_model, n_heads, name: str = "d_model", where: str = "") -> int:
    """``d_model // n_heads`` for two sizes where ``n_heads`` divides ``d_model`` (each head gets
    an equal block of columns); ``name`` is the caller's name for ``d_model``, ``where`` says where
    that size comes from (e.g. ``" (the last dimension of x, shape (4, 6))"``)."""
    d_model = check_positive_int(d_model, name)
    n_heads = check_positive_int(n_heads, "n_heads")
    if d_model % n_heads:
        raise ValueError(f"{name}={d_model}{where} is not divisible by n_heads={n_heads}")
    return d_model // n_heads


def check_saved_setting(value, saved, name: str, what: str):
    """``value`` when it agrees with the setting ``saved`` with a model (``None`` = nothing saved,
    anything goes); a different value is refused: the model only works with the one it was built with."""
    if saved is not None and value != saved:
        raise ValueError(f"{name}={value!r} does not match {what}: it was built with {name}={saved!r} "
                         f"(saved with it); leave {name} out")
    return value


def check_recorded_setting(value, saved, name: str, what: str, why: str, hint: str = ""):
    """The setting ``name`` a model runs with: ``saved`` (the one recorded with the model; ``None`` =
    not recorded) when ``value`` is ``None``, else ``value`` if it agrees (:func:`check_saved_setting`).
    When neither says it, a default would be a guess — silently wrong for a model built with another
    one — so it is refused: ``what`` names the model argument, ``why`` says why the setting cannot be
    read off it, ``hint`` how to keep it."""
    if value is None:
        if saved is None:
            raise ValueError(f"{name} is unknown: {what} does not record it and {why}; pass {name}=… "
                             f"explicitly{hint}")
        return saved
    return check_saved_setting(value, saved, name, what)


def check_positive_ints(values, name: str, *, max_value: int = MAX_SIZE) -> list[int]:
    """Several sizes: a non-empty list, tuple, range or 1-D array whose every entry passes
    :func:`check_positive_int` (checked as ``name[i]``).  A str, a bare int or a nested list is refused."""
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of positive integers, got an array of shape {shape_str(values)}")
    if not isinstance(values, (list, tuple, range, np.ndarray)):
        raise TypeError(f"{name} must be a list of positive integers (e.g. [8, 16, 32]), "
                        f"got {type(values).__name__} {values!r:.40}")
    if len(values) == 0:
        raise ValueError(f"{name} is empty; give at least one positive integer")
    if len(values) > MAX_SIZE:
        raise ValueError(f"{name} has {len(values)} entries; at most {MAX_SIZE} are supported here")
    return [check_positive_int(v, f"{name}[{i}]", max_value=max_value) for i, v in enumerate(values)]


def as_size_array(values, name: str, *, allow_int: bool = False) -> np.ndarray:
    """:func:`check_positive_ints` as a 1-D int array (the sizes of a sweep); with ``allow_int`` one
    bare int ``n`` stands for ``[n]``."""
    if allow_int and _is_int(values):
        values = [values]
    return np.array(check_positive_ints(values, name))


def check_elements(shape: tuple, name: str) -> None:
    """Refuse to allocate an array of ``shape`` with more than :data:`MAX_ELEMENTS` entries."""
    total = 1
    for s in shape:
        total *= int(s)
    if total > MAX_ELEMENTS:
        raise ValueError(
            f"{name} too large: an array of shape {tuple(int(s) for s in shape)} would have {total:,} entries "
            f"(at most {MAX_ELEMENTS:,} are supported here)"
        )


def check_seed(seed, name: str = "seed", *, n_used: int = 1) -> int:
    """A seed: an integer ``0 <= seed <= 2**63 - 1``.

    ``n_used``: the function also uses ``seed + 1, …, seed + n_used - 1``, which must stay a valid
    seed too.  A seed that is one 32-bit word of a longer entropy list goes through
    :func:`check_seed32` instead.
    """
    return check_int(seed, name, low=0, high=MAX_SEED - (n_used - 1))


#: Largest seed of the token embeddings: one 32-bit word of their SeedSequence entropy.
MAX_SEED32 = 2 ** 32 - 1


def check_seed32(seed, name: str = "seed", *, what: str = "the embeddings") -> int:
    """A seed that is used as one 32-bit word (the token embeddings: ``[seed, crc32(token)]``; the
    random draws of :mod:`helpers.analysis`: ``[seed, d_k]``): an integer ``0 <= seed <= 2**32 - 1``.
    Outside that range two different seeds would have to be folded onto the same word, so they are
    refused rather than silently giving equal embeddings or samples.  ``what`` names what the seed
    feeds, for the message."""
    seed = check_int(seed, name)
    if not 0 <= seed <= MAX_SEED32:
        raise ValueError(f"{name} must satisfy 0 <= {name} <= {MAX_SEED32} (2**32 - 1: {what} take a "
                         f"32-bit seed), got {seed}")
    return seed


def check_bool(flag, name: str) -> bool:
    """A real bool (``True``/``False``/``np.bool_``); 0, 1 and strings are refused."""
    if not isinstance(flag, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {flag!r:.40} of type {type(flag).__name__}")
    return bool(flag)


def check_callable(fn, name: str):
    """Anything callable (a function, lambda or method), returned unchanged."""
    if not callable(fn):
        raise TypeError(f"{name} must be a function, got {fn!r:.40} of type {type(fn).__name__}")
    return fn


def check_index(i, n: int, name: str, what: str) -> int:
    """``i`` as an index into ``n`` items (``what``, e.g. "rows"); negative counts from the end."""
    if not _is_int(i):
        raise TypeError(f"{name} must be an int index, got {i!r:.40}")
    if not -n <= i < n:
        raise ValueError(f"{name}={i} is out of range for {n} {what}")
    return int(i) % n


def check_text(s, name: str, *, allow_empty: bool = False) -> str:
    """A str that can be written as UTF-8 (no lone surrogates), non-empty unless allowed."""
    if not isinstance(s, str):
        raise TypeError(f"{name} must be a str, got {type(s).__name__} {s!r:.40}")
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{name} contains a character that is not valid text ({exc.reason} at {exc.start})") from None
    if not s and not allow_empty:
        raise ValueError(f"{name} must be a non-empty str")
    return s


def check_no_control_chars(s: str, name: str) -> str:
    """A str without control characters (Unicode category Cc: NUL, ESC, DEL …) other than whitespace
    (tab, newline, carriage return …): they cannot be typed on a keyboard and cannot be shown."""
    for i, ch in enumerate(s):
        if unicodedata.category(ch) == "Cc" and not ch.isspace():
            raise ValueError(f"{name} contains the control character U+{ord(ch):04X} at position {i}; it cannot "
                             f"be typed or shown as a token: remove it")
    return s


def check_path(path, name: str = "path") -> Path:
    """A file path given as a ``str`` or ``os.PathLike`` (not bytes, not empty, valid text) as a ``Path``."""
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file path (str or os.PathLike), got {type(path).__name__} {path!r:.40}")
    text = os.fspath(path)
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a file path (str or os.PathLike), got bytes {text!r:.40}")
    if not check_text(text, name).strip():
        raise ValueError(f"{name} must be a non-empty file path, got {text!r}")
    return Path(text)


def check_writable_file(path: Path, name: str = "path") -> Path:
    """A file path that can be written as it is: its folder exists (nothing is created for the caller)
    and it does not name a folder."""
    folder = path.parent
    if not folder.is_dir():
        raise ValueError(f"{name}={str(path)!r}: the folder {str(folder)!r} does not exist; create it first "
                         f"(os.makedirs) or choose another path")
    if path.is_dir():
        raise ValueError(f"{name}={str(path)!r} is a folder; give a file name inside it")
    return path


def check_readable_file(path: Path, name: str = "path") -> Path:
    """A file path that names an existing file (not a folder)."""
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise ValueError(f"{name}={str(path)!r} {what}; give the path of a file (cwd: {os.getcwd()!r})")
    return path


def check_not_protected(path: Path, protected: Path, name: str, flag: str, allowed) -> None:
    """Refuse to write ``path`` when it is the file ``protected`` (a file the course ships: a
    learner's save must never replace it) unless the caller says so with ``flag=True``."""
    if not check_bool(allowed, flag) and _same_file(path, protected):
        raise ValueError(f"{name}={str(path)!r} is the course's shipped file {protected.name}; writing it would "
                         f"replace it for every later cell and checker: choose another path "
                         f"({flag}=True is only for the tool that rebuilds it)")


def _same_file(path: Path, other: Path) -> bool:
    """Whether writing ``path`` would write the file ``other``: the same file once links and ``..`` are
    resolved, the same file on disk (a hard link, or another spelling on a case-insensitive file system
    such as macOS's or Windows'), or the same name as the system compares names."""
    a, b = path.resolve(), other.resolve()
    if a == b or os.path.normcase(a) == os.path.normcase(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:          # one of them does not exist (yet): a new file is never the protected one
        return False


def check_format_pattern(fmt, name: str = "fmt") -> str:
    """A ``str.format`` pattern for one number, e.g. ``"{:.4f}"`` (tried on 0.5 here, not in a figure)."""
    check_text(fmt, name)
    try:
        fmt.format(0.5)
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        raise ValueError(f"{name} must be a str.format pattern for one number like '{{:.4f}}', "
                         f"got {fmt!r:.40} ({type(exc).__name__}: {exc})") from None
    return fmt


def check_tokens(tokens, name: str = "tokens") -> list[str]:
    """A non-empty list/tuple/array of non-empty str (a plain str is refused: it is not split for you)."""
    if isinstance(tokens, str):
        raise TypeError(
            f"{name} must be a list of strings, not one string ({tokens!r:.40}); use tokenize(text) first"
        )
    if not isinstance(tokens, (list, tuple, np.ndarray)):
        raise TypeError(f"{name} must be a list of str (e.g. ['我', '喜欢']), got {type(tokens).__name__}")
    tokens = list(tokens)
    if not tokens:
        raise ValueError(f"{name} is empty; a sequence needs at least one token")
    if len(tokens) > MAX_SIZE:
        raise ValueError(f"{name} has {len(tokens)} tokens; at most {MAX_SIZE} are supported here")
    for i, t in enumerate(tokens):
        if not isinstance(t, str) or not t:
            raise TypeError(f"{name}[{i}]: every token must be a non-empty str, got {t!r:.40}")
        check_text(t, f"{name}[{i}]")
    return [str(t) for t in tokens]


def check_tokens_for(tokens, n: int, what: str, unit: str, name: str = "tokens") -> list[str]:
    """:func:`check_tokens` plus: exactly ``n`` tokens, one per ``unit`` of ``what`` (e.g. one per
    row of the weights)."""
    tokens = check_tokens(tokens, name)
    if len(tokens) != n:
        raise ValueError(f"got {len(tokens)} tokens for {what}; need one token per {unit}")
    return tokens


def check_token(token, name: str = "token") -> str:
    """One course token: a non-empty str without spaces (``'它'``, ``'小猫'``)."""
    if not isinstance(token, str) or not token:
        raise TypeError(f"{name} must be a non-empty str (one course token such as '它'), got {token!r}")
    check_text(token, name)
    if any(ch.isspace() for ch in token):
        raise ValueError(f"{name} must be a single token without spaces, got {token!r}")
    return token


def check_tokens_read_back(tokens: list, text: str, back: list, name: str = "tokens") -> list[str]:
    """``tokens`` shown under a text box that holds ``text``, which the panel reads as ``back``: they must
    be the same list, or the first keystroke in the box would silently show other tokens."""
    if back != tokens:
        i = next((j for j, (a, b) in enumerate(zip(tokens, back)) if a != b), min(len(tokens), len(back)))
        i = min(i, len(tokens) - 1)
        raise ValueError(f"{name}[{i}] = {tokens[i]!r} would not survive the text box: it shows {text!r:.60}, "
                         f"which reads back as {back!r:.80}; give tokens that tokenize(...) would produce, "
                         f"or the sentence as one string")
    return tokens


def check_names(names, allowed: tuple, name: str) -> list[str]:
    """A non-empty list/tuple of distinct str, each one of ``allowed`` (a plain str is refused:
    ``"W_O"`` is not ``["W_O"]``)."""
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise TypeError(f"{name} must be a list of names from {allowed}, got {type(names).__name__} {names!r:.40}")
    if not names:
        raise ValueError(f"{name} is empty; give at least one of {allowed}")
    unknown = [n for n in names if not isinstance(n, str) or n not in allowed]
    if unknown:
        raise ValueError(f"{name} contains {unknown!r:.60}, which are not among {allowed}")
    if len(set(names)) != len(names):
        raise ValueError(f"{name} lists a name twice: {list(names)!r:.80}")
    return list(names)


def broadcast_batch(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    """The leading (batch/head) dimensions of ``a`` and ``b`` must broadcast."""
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(
            f"the leading (batch/head) dimensions of {name_a} {shape_str(a)} and {name_b} {shape_str(b)} "
            f"cannot be broadcast together: {a.shape[:-2]} vs {b.shape[:-2]}"
        ) from None


def check_same_shape(a: np.ndarray, name_a: str, b: np.ndarray, name_b: str) -> None:
    """``a`` and ``b`` have exactly the same shape (two tables compared entry by entry)."""
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape; got {name_a} {shape_str(a)} "
                         f"and {name_b} {shape_str(b)}")


def check_sum_of(total: np.ndarray, name_total: str, a: np.ndarray, name_a: str, b: np.ndarray,
                 name_b: str) -> None:
    """``total`` equals ``a + b`` entry by entry (same shape; float rounding allowed), e.g. X = E + PE
    for a figure that says so."""
    if not (total.shape == a.shape == b.shape):
        raise ValueError(f"{name_total}, {name_a} and {name_b} must have the same shape; got {name_total} "
                         f"{shape_str(total)}, {name_a} {shape_str(a)} and {name_b} {shape_str(b)}")
    expected = a.astype(np.float64) + b
    # rounding of the least precise input (float16 keeps ~3 digits), never stricter than 1e-6
    tol = max([1e-6] + [4 * float(np.finfo(m.dtype).eps) for m in (total, a, b) if m.dtype.kind == "f"])
    scale = max(float(np.abs(expected).max(initial=0.0)), float(np.abs(total).max(initial=0.0)))
    bad = ~np.isclose(total, expected, rtol=tol, atol=tol * scale)
    if bad.any():
        i = first_index(bad)
        raise ValueError(f"{name_total} must equal {name_a} + {name_b}; at index {i} {name_total} is "
                         f"{float(total[i]):.6g} but {name_a} + {name_b} is {float(expected[i]):.6g}")


def as_mask(mask, scores_shape: tuple, what: str = "scores", name: str = "mask",
            dims: str = "(..., n_q, n_k)") -> np.ndarray:
    """A boolean mask (True = may attend) that broadcasts to ``scores_shape`` (axes named ``dims``) and,
    when there are several keys, varies along them: its last axis is n_k, not 1."""
    arr = as_bool_array(mask, name)
    try:
        target = np.broadcast_shapes(arr.shape, scores_shape)
    except ValueError:
        target = None
    if target != tuple(scores_shape):
        raise ValueError(
            f"{name} of shape {shape_str(arr)} cannot be broadcast to the {what}' shape "
            f"{tuple(scores_shape)} {dims}"
        )
    n_k = scores_shape[-1] if len(scores_shape) >= 2 else 1
    if n_k > 1 and (arr.ndim == 0 or arr.shape[-1] == 1):
        # (n_q, 1) broadcasts legally, but it blocks whole query rows (which then come out as zeros),
        # not keys: the rows/keys mix-up of a padding mask built as keep[:, None]
        raise ValueError(
            f"{name} of shape {shape_str(arr)} has length 1 along its last axis (the keys), but the {what} "
            f"{tuple(scores_shape)} {dims} have n_k={n_k} keys: it would block whole query rows, not keys. "
            f"A key mask varies along the keys: build a padding mask as keep[..., None, :] "
            f"(shape (..., 1, n_k)), not keep[:, None]"
        )
    return arr


#: Largest |weight| a masked (blocked) cell may hold: far below anything a figure can show (two
#: decimals, 256 colour steps), so only rounding-free masking (−∞ before softmax, or × 0) passes.
MASKED_WEIGHT_TOL = 1e-9


def check_masked_out_zero(weights: np.ndarray, mask: np.ndarray, name: str = "weights",
                          mask_name: str = "mask") -> None:
    """Every weight at a cell the boolean ``mask`` (broadcastable to ``weights``) blocks is 0 (up to
    :data:`MASKED_WEIGHT_TOL`): a picture that greys out blocked cells must not hide weight there."""
    allowed = np.broadcast_to(mask, weights.shape)
    held = np.abs(weights) > MASKED_WEIGHT_TOL
    bad = ~allowed & held
    if bad.any():
        i = first_index(bad)
        offset = len(i) - mask.ndim  # the mask's index: its own axes, 0 where it was broadcast
        j = tuple(0 if mask.shape[a] == 1 else i[offset + a] for a in range(mask.ndim))
        where = f"{mask_name}[{', '.join(map(str, j))}]" if j else mask_name
        if allowed.any() and not (allowed & held).any():   # all the weight sits where the mask blocks
            raise ValueError(
                f"{mask_name} looks inverted: {name} is 0 at every cell {mask_name} allows and holds weight at "
                f"{bad.sum()} cell(s) it blocks (e.g. {name}[{', '.join(map(str, i))}] = {float(weights[i]):.3g} "
                f"although {where} is False). In this course True = may attend, False = blocked "
                f"(nn.MultiheadAttention's boolean attn_mask / key_padding_mask use the opposite, True = "
                f"blocked): pass ~{mask_name}"
            )
        raise ValueError(
            f"{name}[{', '.join(map(str, i))}] = {float(weights[i]):.3g} although {where} is False: apply the "
            f"mask before softmax (scores of blocked keys = -inf), so that blocked weights are 0; "
            f"{bad.sum()} blocked cell(s) hold weight, which the grey hatch would hide"
        )


#: How far from 1 a row may sum, per key, and still count as a row of attention weights when a panel
#: decides whether a masked matrix holds weights: half a unit of the second decimal, so weights typed
#: from a printout (e.g. [0.33, 0.33, 0.33] or [0.0, 0.0, 0.01, 0.98]) still count.
WEIGHT_ROW_SUM_TOL = 0.005


def check_mask_hides_no_weight(matrix: np.ndarray, mask: np.ndarray, name: str = "M", mask_name: str = "mask",
                               *, weights: bool = False) -> None:
    """A heatmap drawn under the boolean ``mask`` hides no attention weight: when ``matrix`` is weights
    (``weights=True``, the caller draws α) or holds weight rows (finite, non-negative, every row summing
    to 1 within n_k × :data:`WEIGHT_ROW_SUM_TOL`, or to 0: a fully masked row), every blocked cell is 0
    (:func:`check_masked_out_zero`), whatever the colour range.  Any other matrix (scores before
    masking …) may hold any value under the hatch."""
    if not weights:
        finite = np.isfinite(matrix).all()
        sums = matrix.sum(axis=-1, dtype=np.float64) if finite else None
        weights = bool(finite and (matrix >= 0).all()
                       and (np.isclose(sums, 1.0, rtol=0, atol=WEIGHT_ROW_SUM_TOL * matrix.shape[-1] + 1e-12)
                            | (sums == 0)).all())
    if weights:
        check_masked_out_zero(matrix, mask, name, mask_name)


def as_bool_array(mask, name: str = "mask") -> np.ndarray:
    """A copy of ``mask`` as a boolean array (True = may attend); any other dtype is refused, not cast."""
    arr = np.array(mask, copy=True) if mask is not None else np.asarray(None)
    if arr.dtype.kind != "b":
        raise TypeError(
            f"{name} must be a boolean array (True = may attend, False = blocked); got dtype "
            f"{arr.dtype} with shape {shape_str(arr)}. Use e.g. {name}.astype(bool) or causal_mask(n)."
        )
    return arr


def as_head_mask(mask, x_ndim: int, weights_shape: tuple, name: str = "mask") -> np.ndarray | None:
    """A mask put into the ``(..., h, n_q, n_k)`` layout of per-head weights (``None`` stays ``None``).

    A mask with at most ``x_ndim`` dimensions follows x's batch layout (``(n, n)``, ``(b, n, n)``,
    ``(b, 1, n)`` …): a head axis is inserted so that it applies to every head.  A mask with
    ``x_ndim + 1`` dimensions already has a head axis (``(..., h, n, n)``).
    """
    if mask is None:
        return None
    arr = as_bool_array(mask, name)
    if arr.ndim < 1:
        raise ValueError(f"{name} must have at least 1 dimension (n_k,); got a scalar")
    if arr.ndim > x_ndim + 1:
        raise ValueError(
            f"{name} has {arr.ndim} dimensions (shape {shape_str(arr)}) but the weights are {weights_shape} "
            f"(batch..., h, n_q, n_k): at most {x_ndim + 1} dimensions"
        )
    if 2 <= arr.ndim <= x_ndim:
        arr = arr[..., None, :, :]                          # (..., 1, n_q, n_k): the same for every head
    return as_mask(arr, weights_shape, what="per-head weights", name=name)


# ---------------------------------------------------------------------------
# the checks of attention's public functions (one call per function there)
# ---------------------------------------------------------------------------

def check_axis(axis, ndim: int, what: str) -> int:
    """``axis`` as a non-negative axis of an ``ndim``-dimensional array called ``what``."""
    if not _is_int(axis):
        raise TypeError(f"axis must be an int, got {axis!r:.40} of type {type(axis).__name__}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for {what} with {ndim} dimension(s)")
    return int(axis) % ndim


def check_softmax_input(x, axis, temperature):
    """``(scores array, axis, T)`` for softmax: real scores where ``-inf`` means masked out."""
    temperature = check_positive_number(temperature, "temperature")
    arr = as_real_array(x, "softmax input x", allow_neg_inf=True, multiplied=False)
    if arr.ndim == 0:
        raise ValueError("softmax input x must have at least 1 dimension; got a scalar")
    axis = check_axis(axis, arr.ndim, f"softmax input x of shape {shape_str(arr)}")
    if arr.shape[axis] == 0:
        raise ValueError(f"softmax over an empty axis {axis}: input x has shape {shape_str(arr)}")
    return arr, axis, temperature


def _matched_stacks(a, name_a: str, dims_a: str, axis_a: int, b, name_b: str, dims_b: str, axis_b: int,
                    mismatch) -> None:
    """``a`` and ``b`` are stacks of matrices (``dims_a``, ``dims_b``) with ``a.shape[axis_a] ==
    b.shape[axis_b]`` (else ``ValueError(mismatch(a, b))``) and leading dimensions that broadcast."""
    check_matrix_stack(a, name_a, dims_a)
    check_matrix_stack(b, name_b, dims_b)
    if a.shape[axis_a] != b.shape[axis_b]:
        raise ValueError(mismatch(a, b))
    broadcast_batch(name_a, a, name_b, b)


def check_query_key(query, key):
    """``(Q, K)`` of shapes ``(..., n_q, d_k)`` and ``(..., n_k, d_k)`` with broadcastable batches."""
    q = as_real_array(query, "query")
    k = as_real_array(key, "key")
    _matched_stacks(q, "query", "(..., n_q, d_k)", -1, k, "key", "(..., n_k, d_k)", -1, lambda q, k: (
        f"query and key must have the same number of dimensions d_k: query has d_k={q.shape[-1]} "
        f"(shape {shape_str(q)}), key has d_k={k.shape[-1]} (shape {shape_str(k)})"))
    return q, k


def check_query_key_value(query, key, value):
    """``(Q, K, V)`` in one float dtype; K and V describe the same tokens."""
    q, k = check_query_key(query, key)
    v = as_real_array(value, "value")
    _matched_stacks(k, "key", "(..., n_k, d_k)", -2, v, "value", "(..., n_k, d_v)", -2, lambda k, v: (
        f"key and value must describe the same tokens: key has n_k={k.shape[-2]} rows "
        f"(shape {shape_str(k)}), value has n_k={v.shape[-2]} rows (shape {shape_str(v)})"))
    broadcast_batch("query", q, "value", v)
    dtype = np.result_type(q, k, v)
    return q.astype(dtype, copy=False), k.astype(dtype, copy=False), v.astype(dtype, copy=False)


def check_scores(scores, name: str = "scores") -> np.ndarray:
    """Finite scores with at least one axis and no empty axis (headed for softmax: any size)."""
    s = as_real_array(scores, name, multiplied=False)
    if s.ndim < 1 or s.size == 0:
        raise ValueError(f"{name} must be a non-empty array (..., n_q, n_k); got shape {shape_str(s)}")
    return s


def check_scores_finite(scores: np.ndarray, raw: np.ndarray, query: np.ndarray, key: np.ndarray,
                        scale: float | None = None) -> np.ndarray:
    """Scores ``raw = Q Kᵀ`` (then ``× scale``) that the caller computed with overflow warnings off:
    finite inputs can still give a product too large for their dtype; say which product overflowed."""
    if np.all(np.isfinite(scores)):
        return scores
    if not np.all(np.isfinite(raw)):
        raise ValueError(
            f"Q Kᵀ overflowed (max |query| = {np.abs(query).max():.3g}, max |key| = {np.abs(key).max():.3g}); "
            f"these inputs are too large to multiply in {raw.dtype}"
        )
    raise ValueError(
        f"scores × scale overflowed {scores.dtype}: scale={scale!r}, max |Q Kᵀ| = "
        f"{np.abs(raw).max():.3g}; use a smaller scale (the default is 1/√d_k = "
        f"{1.0 / np.sqrt(query.shape[-1]):.4g})"
    )


def check_score_spread(scores: np.ndarray, divisor: float) -> None:
    """Scores divided by ``divisor`` (multi-head scaling statistics) must be small enough for their
    standard deviation to be computed in their dtype; an overflowed division (inf) is refused too."""
    limit = np.sqrt(np.finfo(scores.dtype).max / scores.size) / 2
    largest = np.abs(scores).max()
    if not largest <= limit:   # also catches inf (an overflowed division)
        raise ValueError(f"the scores divided by divisor={divisor!r} reach {largest:.3g}, too large to "
                         f"compute their spread in {scores.dtype} (at most {limit:.3g}); use a larger divisor "
                         f"(the standard one is √d_head) or smaller x, W_Q, W_K")


def check_weight_rows(weights, name: str = "weights", *, masked_ok: bool = True) -> np.ndarray:
    """Attention weights: non-negative rows that each sum to 1 (or to 0: a fully masked row, unless
    ``masked_ok`` is False)."""
    w = as_real_array(weights, name)
    if w.ndim >= 1 and w.size and (w < 0).any():
        i = first_index(w < 0)
        raise ValueError(f"{name} must be non-negative; got {w[i]!r} at index {i} (shape {shape_str(w)})")
    if w.ndim >= 1 and w.size:
        sums = w.sum(axis=-1, dtype=np.float64)
        tol = 1e-4 if w.dtype == np.float32 else 1e-6
        bad = ~(np.isclose(sums, 1.0, rtol=0, atol=tol) | ((sums == 0) & masked_ok))
        if bad.any():
            i = first_index(bad)
            masked = " (or be all zeros: a fully masked row)" if masked_ok else ""
            raise ValueError(
                f"every row of {name} must sum to 1{masked}; row {i} sums to "
                f"{sums[i]:.6g} (shape {shape_str(w)}). Did softmax run along the wrong axis?"
            )
    return w


def check_distributions(weights, name: str = "weights") -> np.ndarray:
    """Probability rows along the last axis (entropy, the softmax Jacobian, one weighted average drawn):
    :func:`check_weight_rows` without all-zero rows — a fully masked row is not a distribution."""
    w = as_real_array(weights, name)
    if w.ndim < 1 or w.shape[-1] == 0:
        raise ValueError(f"{name} must have a non-empty last axis (one row of weights); got shape {shape_str(w)}")
    return check_weight_rows(w, name, masked_ok=False)


def check_within(arr: np.ndarray, name: str, low: float | None = None, high: float | None = None,
                 why: str = "") -> None:
    """Every entry of the real array ``arr`` satisfies ``low <= entry <= high`` (a bound that is None is
    not checked); ``why`` (e.g. " (a loss is never negative)") is added to the message."""
    bad = np.zeros(arr.shape, dtype=bool)
    if low is not None:
        bad |= arr < low
    if high is not None:
        bad |= arr > high
    if bad.any():
        i = first_index(bad)
        bounds = (f"in [{low:g}, {high:g}]" if low is not None and high is not None
                  else f">= {low:g}" if low is not None else f"<= {high:g}")
        raise ValueError(f"every value of {name} must be {bounds}{why}; got {float(arr[i]):.6g} at index {i} "
                         f"(shape {shape_str(arr)})")



def check_weights_value(weights, value):
    """``(α, V)`` for ``Z = α V``: α is ``(..., n_q, n_k)`` weight rows, V is ``(..., n_k, d_v)``."""
    w = check_weight_rows(weights)
    v = as_real_array(value, "value")
    _matched_stacks(w, "weights", "(..., n_q, n_k)", -1, v, "value", "(..., n_k, d_v)", -2, lambda w, v: (
        f"weights have n_k={w.shape[-1]} columns (shape {shape_str(w)}) but value has "
        f"n_k={v.shape[-2]} rows (shape {shape_str(v)}); there must be one value row per key"))
    return w, v


def check_projection(x, weight, weight_name: str = "W", x_name: str = "x"):
    """``(x, W)`` for ``x @ W``: x is ``(..., n, d_in)``, W is ``(d_in, d_out)``."""
    xa = as_real_array(x, x_name)
    w = as_real_array(weight, weight_name)
    check_matrix_stack(xa, x_name, "(..., n_tokens, d_model)")
    if w.ndim != 2 or w.size == 0:
        raise ValueError(f"{weight_name} must be a non-empty 2-D matrix (d_in, d_out); got shape {shape_str(w)}")
    if xa.shape[-1] != w.shape[0]:
        raise ValueError(
            f"{x_name} has d_model={xa.shape[-1]} columns (shape {shape_str(xa)}) but {weight_name} expects "
            f"{w.shape[0]} input rows (shape {shape_str(w)})"
        )
    return xa, w


def check_projected(out: np.ndarray, weight_name: str, x_name: str = "x") -> None:
    """``out = x @ W`` stays within :data:`MAX_ABS`, so that attention on it (Q Kᵀ, α V) cannot overflow:
    a weight matrix that passes on its own can still be too large for the inputs it multiplies, and then
    the caller's ``weight_name`` is what to change (not the ``query`` that attention would name)."""
    limit = MAX_ABS[out.dtype]
    bad = ~(np.abs(out) <= limit)                                # inf and NaN count as too large
    if bad.any():
        i = first_index(bad)
        raise ValueError(f"{weight_name} is too large for these inputs: {x_name} @ {weight_name} reaches "
                         f"{float(out[i]):.3g} at index {i}; the projected vectors must stay within ±{limit:g} "
                         f"({out.dtype}) so that Q Kᵀ cannot overflow: scale {weight_name} down")


def check_same_columns(w_q, w_k, what: str = "d_k") -> None:
    """W_Q and W_K give queries and keys of the same size (``what``: ``d_k``, or ``h * d_head``)."""
    if np.shape(w_q)[-1] != np.shape(w_k)[-1]:
        raise ValueError(
            f"W_Q and W_K must produce the same number of columns ({what}): W_Q shape {shape_str(w_q)}, "
            f"W_K shape {shape_str(w_k)}"
        )


def check_head_weight(w, name: str, d_model: int, n_heads: int) -> np.ndarray:
    """A projection for all heads at once: ``(d_model, n_heads * d_head)``."""
    w = as_real_array(w, name)
    if w.ndim != 2 or w.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D matrix (d_model, n_heads * d_head); got shape {shape_str(w)}")
    if w.shape[0] != d_model:
        raise ValueError(
            f"x has d_model={d_model} columns but {name} has {w.shape[0]} rows (shape {shape_str(w)}); "
            f"{name} must be (d_model, n_heads * d_head)"
        )
    check_d_head(w.shape[1], n_heads, "h * d_head", f" (the columns of {name}, shape {shape_str(w)})")
    return w


def check_output_weight(w_o, n_rows: int, name: str = "W_O") -> np.ndarray:
    """The output projection after the heads are concatenated: ``(h * d_v_head, d_out)``."""
    wo = as_real_array(w_o, name)
    check_ndim(wo, name, 2, "(h * d_v_head, d_out)")
    if wo.shape[0] != n_rows:
        raise ValueError(f"{name} must have h * d_v_head = {n_rows} rows (one per column of the "
                         f"concatenated heads, = columns of W_V); got shape {shape_str(wo)}")
    return wo


def check_bias(b, name: str, size: int) -> np.ndarray | None:
    """An optional bias added after a projection: ``None``, or shape ``(size,)`` (one per output column)."""
    if b is None:
        return None
    b = as_real_array(b, name)
    if b.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},) (one entry per output column); got shape {shape_str(b)}")
    return b


def check_heads_qk(x, w_q, w_k, n_heads):
    """``(x, W_Q, W_K, n_heads)`` of a multi-head call: x is ``(..., n, d_model)``, W_Q and W_K are
    ``(d_model, h * d_head)`` with the same number of columns."""
    n_heads = check_positive_int(n_heads, "n_heads")
    xa = as_real_array(x, "x")
    check_matrix_stack(xa, "x", "(..., n_tokens, d_model)")
    wq = check_head_weight(w_q, "W_Q", xa.shape[-1], n_heads)
    wk = check_head_weight(w_k, "W_K", xa.shape[-1], n_heads)
    check_same_columns(wq, wk, "h * d_head")
    return xa, wq, wk, n_heads


def check_multi_head_inputs(x, w_q, w_k, w_v, n_heads, w_o=None, mask=None, biases=(None,) * 4):
    """Everything a multi-head self-attention layer uses, checked before any product.

    Returns ``(x, W_Q, W_K, W_V, W_O, (b_Q, b_K, b_V, b_O), n_heads, mask)``: W_V is
    ``(d_model, h * d_v_head)``, W_O ``(h * d_v_head, d_out)`` or ``None``, each bias ``None`` or one
    entry per column of its projection (b_O only with W_O), the mask in the per-head layout
    ``(..., h, n, n)`` (see :func:`as_head_mask`) or ``None``.
    """
    xa, wq, wk, n_heads = check_heads_qk(x, w_q, w_k, n_heads)
    wv = check_head_weight(w_v, "W_V", xa.shape[-1], n_heads)
    wo = None if w_o is None else check_output_weight(w_o, wv.shape[1])
    b_q, b_k, b_v, b_o = biases
    if b_o is not None and wo is None:
        raise ValueError("b_O was given without W_O; the output bias belongs to the output projection")
    bs = tuple(check_bias(b, name, w.shape[1]) for b, name, w in
               ((b_q, "b_Q", wq), (b_k, "b_K", wk), (b_v, "b_V", wv))) + (
        None if wo is None else check_bias(b_o, "b_O", wo.shape[1]),)
    n = xa.shape[-2]
    head_mask = as_head_mask(mask, xa.ndim, xa.shape[:-2] + (n_heads, n, n))
    return xa, wq, wk, wv, wo, bs, n_heads, head_mask


def check_split_heads(x, n_heads):
    """``(x, n_heads, d_head)`` for :func:`~helpers.attention.split_heads`: x is ``(..., n, d_model)``
    and ``n_heads`` divides d_model."""
    n_heads = check_positive_int(n_heads, "n_heads")
    a = as_real_array(x, "x")
    check_matrix_stack(a, "x", "(..., n_tokens, d_model)")
    d_head = check_d_head(a.shape[-1], n_heads, "d_model", f" (the last dimension of x, shape {shape_str(a)})")
    return a, n_heads, d_head


def check_merge_heads(x) -> np.ndarray:
    """x for :func:`~helpers.attention.merge_heads`: a non-empty ``(..., h, n, d_head)`` array."""
    a = as_real_array(x, "x")
    check_ndim(a, "x", range(3, 65), "(..., h, n, d_head), with a head axis for merge_heads")  # 3 or more
    return a


def check_lengths(lengths, n: int) -> np.ndarray:
    """Sequence lengths: an int or a 1-D sequence of ints, each ``0 <= length <= n``."""
    if lengths is None or isinstance(lengths, (str, bytes)):
        raise TypeError(f"lengths must be an int or a sequence of ints, got {type(lengths).__name__}")
    try:
        arr = np.array(lengths)
    except ValueError as exc:
        raise ValueError(f"lengths must be an int or a flat sequence of ints ({exc})") from None
    if arr.dtype.kind not in "iu":
        raise TypeError(f"lengths must be integers, got dtype {arr.dtype} ({lengths!r:.60})")
    if arr.ndim > 1:
        raise ValueError(f"lengths must be an int or a 1-D sequence of ints, got shape {shape_str(arr)}")
    if (arr < 0).any() or (arr > n).any():
        raise ValueError(f"every length must be between 0 and n={n}; got lengths={arr.tolist()}")
    return arr


# ---------------------------------------------------------------------------
# what panels write into HTML/SVG
# ---------------------------------------------------------------------------

import re as _re  # noqa: E402

_CSS_COLOR = _re.compile(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|#[0-9a-fA-F]{8}|[a-zA-Z]{3,20}")


def check_css_color(color, name: str) -> str:
    """A CSS colour written as #rgb, #rrggbb, #rrggbbaa or a plain name (``steelblue``); nothing else
    goes into a ``fill="…"`` attribute."""
    if not isinstance(color, str) or not _CSS_COLOR.fullmatch(color):
        raise ValueError(f"{name} must be a CSS colour like '#2171b5' or 'steelblue', got {color!r:.40}")
    return color


def check_range(vmin, vmax, name_min: str = "vmin", name_max: str = "vmax", *,
                max_abs: float | None = None) -> tuple[float, float]:
    """Two finite numbers with ``vmin < vmax`` (a colour or axis range), each within ``±max_abs``
    if given (matplotlib's colour scales overflow computing with ranges near ±1e308)."""
    lo, hi = check_number(vmin, name_min), check_number(vmax, name_max)
    if not lo < hi:
        raise ValueError(f"{name_min} must be smaller than {name_max}; got {name_min}={lo!r}, {name_max}={hi!r}")
    if max_abs is not None and max(abs(lo), abs(hi)) > max_abs:
        raise ValueError(f"{name_min} and {name_max} must lie within ±{max_abs:g}; got {name_min}={lo!r}, "
                         f"{name_max}={hi!r}")
    return lo, hi


def check_range_has_zero(lo: float, hi: float, name_min: str = "vmin", name_max: str = "vmax") -> None:
    """A bar chart's y range ``lo … hi`` contains 0: bars are drawn from 0, so a bar's length is its
    value; a range that left 0 out would draw them from its edge (a bar of 1 next to a bar of 3 on the
    range 1 … 3 would not be there at all)."""
    if lo > 0:
        raise ValueError(f"{name_min} must be <= 0: bars are drawn from 0, so the y range must include 0; "
                         f"got {name_min}={lo!r}")
    if hi < 0:
        raise ValueError(f"{name_max} must be >= 0: bars are drawn from 0, so the y range must include 0; "
                         f"got {name_max}={hi!r}")


#: What a sequence of labels may be, as messages say it.
LABELS_ACCEPTED = "a list, tuple, range or 1-D array of str or numbers"


def check_labels(labels, n: int | None, name: str, values: str = "values") -> list[str]:
    """``n`` labels (``None``: any number) as text: a list, tuple, range or 1-D array whose entries are
    str or real numbers (shown as ``str(entry)``: ``range(3)`` → "0", "1", "2"), valid Unicode; a plain
    str (one label per character?) and bools are refused.  ``values`` names what is labelled in the
    message (e.g. the caller's parameter ``"scores"``)."""
    count = "" if n is None else f"{n} "
    if isinstance(labels, (str, bytes)) or not isinstance(labels, (list, tuple, range, np.ndarray)):
        raise TypeError(f"{name} must be a list of {count}labels, got {type(labels).__name__} {labels!r:.40}; "
                        f"labels may be {LABELS_ACCEPTED}")
    if isinstance(labels, np.ndarray) and labels.ndim != 1:
        raise ValueError(f"{name} must be a list of {count}labels, got an array of shape {shape_str(labels)}; "
                         f"labels may be {LABELS_ACCEPTED}")
    if n is not None and len(labels) != n:   # before list(): a range(10**9) is not expanded
        raise ValueError(f"{name} has {len(labels)} entries, but there are {n} {values} to label")
    labels = list(labels)
    out = []
    for i, t in enumerate(labels):
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, (str, numbers.Real)):
            raise TypeError(f"{name}[{i}] must be a str (or a number), got {t!r:.40}")
        out.append(check_text(str(t), f"{name}[{i}]", allow_empty=True))
    return out


def check_param_dict(params, names: tuple, name: str = "params", *, finite: bool = True) -> dict:
    """A dict holding every weight matrix in ``names``, each as a finite float array (copied);
    ``finite=False`` lets NaN/inf through (a gradient check reports them as a failure itself)."""
    if not isinstance(params, dict):
        raise TypeError(f"{name} must be a dict with keys {names}, got {type(params).__name__}")
    missing = [k for k in names if k not in params]
    if missing:
        raise ValueError(f"{name} is missing {missing}; expected keys {names}")
    if not finite:
        return {k: as_float_array(params[k], f"{name}[{k!r}]") for k in names}
    return {k: as_real_array(params[k], k) for k in names}
