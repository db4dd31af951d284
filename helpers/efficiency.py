"""Why self-attention (chapter 08): path lengths, parallel work, the O(n²) price.

NumPy part (no plotting):

* :func:`rnn_edges` / :func:`attention_edges` and :func:`shortest_path_lengths`
  — how many steps information needs to travel from token i to token j in an
  RNN chain versus one self-attention layer (breadth-first search, no formula).
* :func:`attention_per_token_loop` — one query at a time, the way an RNN has
  to work, next to the one-shot matrix form :func:`helpers.scaled_dot_product_attention`.
* :func:`time_attention` — best-of-``repeat`` wall-clock timings of both;
  :func:`time_attention_fresh_process` runs it in a new Python process, optionally
  with glibc's allocator told to keep freed memory (:data:`KEEP_FREED_MEMORY_ENV`).
* :func:`page_faults_per_call` — minor page faults per call of each form: the
  matrix form's n × n temporaries are handed back to the OS after every call.
* :func:`weights_nbytes` — exact bytes of the n × n weight matrix α.

Figures (matplotlib, imported lazily): :func:`path_length_figure`,
:func:`timing_figure`, :func:`memory_figure`, :func:`loss_curve_figure`,
:func:`before_after_figure`.  Each returns a ``matplotlib.figure.Figure``.
"""

from __future__ import annotations

import time
from collections import deque
from contextlib import contextmanager
from types import MappingProxyType

import numpy as np

from . import validation as _v
from .validation import check_positive_int as _check_positive_int

__all__ = [
    "rnn_edges",
    "attention_edges",
    "window_edges",
    "shortest_path_lengths",
    "attention_per_token_loop",
    "attention_matrix_form",
    "time_attention",
    "time_attention_fresh_process",
    "page_faults_per_call",
    "KEEP_FREED_MEMORY_ENV",
    "operation_counts",
    "weights_nbytes",
    "path_length_figure",
    "timing_ratios",
    "timing_figure",
    "memory_figure",
    "loss_curve_figure",
    "before_after_figure",
]


# ---------------------------------------------------------------------------
# path lengths
# ---------------------------------------------------------------------------

#: The path-length graphs are Python lists with up to n² entries and are searched pair by pair.
MAX_GRAPH_TOKENS = 2000
#: Most work (n searches × (n tokens + all neighbour entries)) one :func:`shortest_path_lengths` call does.
MAX_SEARCH_STEPS = 20_000_000
#: Largest n on the right-hand plot of :func:`path_length_figure` (it builds a graph for every n up to it).
MAX_PLOT_N = 200
#: Most repetitions of a timing or page-fault measurement (best-of / average-of).
MAX_REPEAT = 1000
#: Longest time (seconds) :func:`time_attention_fresh_process` waits for its process.
MAX_TIMEOUT_S = 3600.0

def rnn_edges(n: int) -> list[list[int]]:
    """Neighbour lists of an RNN over ``n`` tokens: information moves from i to i+1 only."""
    n = _check_positive_int(n, "n", max_value=MAX_GRAPH_TOKENS)
    return [[i + 1] if i + 1 < n else [] for i in range(n)]


def attention_edges(n: int) -> list[list[int]]:
    """Neighbour lists of one self-attention layer: every token reads every token directly."""
    n = _check_positive_int(n, "n", max_value=MAX_GRAPH_TOKENS)
    return [[j for j in range(n) if j != i] for i in range(n)]


def window_edges(n: int, window: int) -> list[list[int]]:
    """Neighbour lists of one *local* attention layer: token i reads tokens within ``window`` of it.

    ``window=1`` is (a two-way version of) the RNN chain; ``window >= n - 1`` is full attention.
    """
    n = _check_positive_int(n, "n", max_value=MAX_GRAPH_TOKENS)
    window = _check_positive_int(window, "window")
    return [[j for j in range(max(0, i - window), min(n, i + window + 1)) if j != i] for i in range(n)]


def _check_edges(edges) -> list[list[int]]:
    """Neighbour lists: a non-empty list of lists of token indices ``0 <= j < n`` (no bools)."""
    if not isinstance(edges, (list, tuple)) or not edges:
        raise ValueError("edges must be a non-empty list of neighbour lists")
    n = len(edges)
    if n > MAX_GRAPH_TOKENS:
        raise ValueError(f"edges has {n} neighbour lists; at most {MAX_GRAPH_TOKENS} tokens are supported here")
    for i, nb in enumerate(edges):
        if not isinstance(nb, (list, tuple)):
            raise TypeError(f"edges[{i}] must be a list of neighbours, got {type(nb).__name__} {nb!r:.40}")
    steps = n * (n + sum(len(nb) for nb in edges))
    if steps > MAX_SEARCH_STEPS:
        raise ValueError(f"edges too large: {n} searches over {n} tokens and their neighbour lists take "
                         f"{steps:,} steps (at most {MAX_SEARCH_STEPS:,} are supported here)")
    for i, nb in enumerate(edges):
        for j in nb:
            if not _v._is_int(j) or not 0 <= j < n:
                raise ValueError(f"edges[{i}] contains {j!r}; neighbours must be ints in [0, {n})")
    return [[int(j) for j in nb] for nb in edges]


def _steps_from(edges, start: int) -> np.ndarray:
    """Breadth-first search from ``start``: fewest steps to every token (``inf`` = never reached)."""
    steps = np.full(len(edges), np.inf)
    steps[start] = 0
    queue = deque([start])
    while queue:
        i = queue.popleft()
        for j in edges[i]:
            if steps[j] == np.inf:
                steps[j] = steps[i] + 1
                queue.append(j)
    return steps


def shortest_path_lengths(edges) -> np.ndarray:
    """All-pairs number of steps by breadth-first search.

    Parameters
    ----------
    edges : list of lists of int
        ``edges[i]`` = tokens that receive information from token ``i`` in one step.

    Returns
    -------
    numpy.ndarray, shape (n, n), float
        ``L[i, j]`` = fewest steps from token ``i`` to token ``j`` (0 on the
        diagonal, ``inf`` when ``j`` cannot be reached from ``i`` — in an RNN
        information never travels backwards, so the number of steps is unbounded).
    """
    edges = _check_edges(edges)
    return np.array([_steps_from(edges, start) for start in range(len(edges))])  # (n, n)


# ---------------------------------------------------------------------------
# timing and memory
# ---------------------------------------------------------------------------

def _check_qkv(query, key, value):
    """``(Q, K, V)`` of one sentence: Q ``(n_q, d_k)``, K ``(n_k, d_k)``, V ``(n_k, d_v)``, finite (copies)."""
    q, k, v = _v.check_query_key_value(query, key, value)
    for a, name, dims in ((q, "query", "(n_q, d_k)"), (k, "key", "(n_k, d_k)"), (v, "value", "(n_k, d_v)")):
        _v.check_ndim(a, name, 2, dims)
    _v.check_elements((q.shape[0], k.shape[0]), "query and key (their n_q × n_k scores)")
    return q, k, v


def attention_per_token_loop(query, key, value) -> np.ndarray:
    """Scaled dot-product attention computed one query row at a time (a Python loop).

    Gives the same ``Z`` as :func:`helpers.scaled_dot_product_attention`; only
    the order of the work differs.  The loop itself is :func:`_per_token_loop`
    (the timings run it directly, so they measure the computation, not these checks).
    """
    return _per_token_loop(*_check_qkv(query, key, value))


def _per_token_loop(q, k, v) -> np.ndarray:
    root = np.sqrt(q.shape[1])
    out = np.empty((q.shape[0], v.shape[1]))   # (n_q, d_v)
    for i in range(q.shape[0]):
        s = k @ q[i] / root                 # (n_k,)  this query's scores against every key
        e = np.exp(s - s.max())             # (n_k,)
        out[i] = (e / e.sum()) @ v          # (d_v,)  its weights times V
    return out


def attention_matrix_form(query, key, value) -> np.ndarray:
    """The same attention for all queries at once (matrix products, no Python loop).

    A lean version of :func:`helpers.scaled_dot_product_attention` (no mask, no
    returned weights); the computation itself is :func:`_matrix_form`, which the
    timings run directly.
    """
    return _matrix_form(*_check_qkv(query, key, value))


def _matrix_form(q, k, v) -> np.ndarray:
    s = q @ k.T / np.sqrt(q.shape[1])                # (n_q, n_k)
    e = np.exp(s - s.max(axis=1, keepdims=True))     # (n_q, n_k)
    return (e / e.sum(axis=1, keepdims=True)) @ v    # (n_q, d_v)


@contextmanager
def _one_blas_thread():
    """Best effort: run NumPy's bundled OpenBLAS on one thread inside the block.

    On a busy machine a multi-threaded matrix product can wait for free cores
    and take 100× longer than usual, which would make the timing plot
    meaningless.  Timing both versions on one core compares what we want to
    compare: a Python loop versus one vectorised call.  If the library cannot
    be found (other BLAS, other platform) nothing changes.
    """
    lib = get = set_ = None
    try:
        import ctypes
        from pathlib import Path

        libdir = Path(np.__file__).resolve().parent.parent / "numpy.libs"
        for cand in sorted(libdir.glob("*openblas*")):
            lib = ctypes.CDLL(str(cand))
            for suffix in ("64_", "_64_", ""):
                get = getattr(lib, f"scipy_openblas_get_num_threads{suffix}", None)
                set_ = getattr(lib, f"scipy_openblas_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    break
            if get is not None and set_ is not None:
                break
    except Exception:  # pragma: no cover - platform dependent
        get = set_ = None
    if get is None or set_ is None:
        yield
        return
    before = int(get())
    set_(1)
    try:
        yield
    finally:
        set_(before)


def _check_timing_inputs(ns, d_k, repeat):
    """``(ns, d_k, repeat)`` of a timing run; refuses sizes whose n × n scores or n × d_k inputs cannot fit."""
    ns = _v.check_positive_ints(ns, "ns")
    d_k = _check_positive_int(d_k, "d_k")
    repeat = _check_positive_int(repeat, "repeat", max_value=MAX_REPEAT)
    _v.check_elements((max(ns), max(ns)), "ns")
    _v.check_elements((max(ns), d_k), "d_k")
    return ns, d_k, repeat


def _best_time(fn, args, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


def time_attention(ns=(8, 16, 32, 64, 128, 256, 512), d_k: int = 32, repeat: int = 5,
                   seed: int = 0) -> dict:
    """Wall-clock time of the per-token loop and of the matrix form for each length n.

    Timings depend on the machine and its load; only the trend is meaningful.
    Both versions run on one core (see :func:`_one_blas_thread`), so the
    comparison is "Python loop vs one vectorised call", not "1 core vs many".

    Returns
    -------
    dict with ``"n"`` (array), ``"loop_s"`` and ``"matrix_s"`` (best of ``repeat``, seconds).
    """
    ns, d_k, repeat = _check_timing_inputs(ns, d_k, repeat)
    rng = np.random.default_rng(_v.check_seed(seed))
    loop_s, matrix_s = [], []
    with _one_blas_thread():
        for n in ns:
            q, k, v = (rng.standard_normal((n, d_k)) for _ in range(3))
            loop_s.append(_best_time(_per_token_loop, (q, k, v), repeat))
            matrix_s.append(_best_time(_matrix_form, (q, k, v), repeat))
    return {"n": np.array(ns), "loop_s": np.array(loop_s), "matrix_s": np.array(matrix_s)}


#: Environment for a fresh process in which glibc malloc keeps freed blocks (up to
#: 64 MiB are served from the heap instead of fresh ``mmap`` pages, and the heap is
#: not trimmed below 128 MiB), so the n × n temporaries are not re-faulted every call.
#: Read-only (copy it with ``dict(...)`` to change it for one call).
KEEP_FREED_MEMORY_ENV = MappingProxyType({"MALLOC_MMAP_THRESHOLD_": str(64 * 2 ** 20),
                                          "MALLOC_TRIM_THRESHOLD_": str(128 * 2 ** 20)})


def time_attention_fresh_process(ns=(8, 16, 32, 64, 128, 256, 512), d_k: int = 32,
                                 repeat: int = 5, keep_freed_memory: bool = False,
                                 timeout: float = 300.0) -> dict:
    """:func:`time_attention` in a new Python process (same interpreter, same ``helpers``).

    With ``keep_freed_memory=True`` the process starts with :data:`KEEP_FREED_MEMORY_ENV`
    (read by glibc malloc at start-up, so it cannot be switched on in a running kernel);
    on other C libraries the variables are simply ignored.
    """
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    ns, d_k, repeat = _check_timing_inputs(ns, d_k, repeat)
    keep_freed_memory = _v.check_bool(keep_freed_memory, "keep_freed_memory")
    timeout = _v.check_positive_number(timeout, "timeout", max_value=MAX_TIMEOUT_S)
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if keep_freed_memory:
        env.update(KEEP_FREED_MEMORY_ENV)
    code = ("import json; from helpers.efficiency import time_attention; "
            f"r = time_attention(ns={ns!r}, d_k={d_k}, repeat={repeat}); "
            "print(json.dumps({k: v.tolist() for k, v in r.items()}))")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True,
                         text=True, timeout=timeout, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return {k: np.array(v) for k, v in r.items()}


def page_faults_per_call(n: int = 512, d_k: int = 32, calls: int = 5, seed: int = 0) -> dict:
    """Average minor page faults (``resource.getrusage``) per call of each form.

    A minor page fault happens when the process touches a page of memory that the
    operating system has not mapped yet — for example a freshly requested block.
    Returns ``{"loop": float, "matrix": float, "pages_per_table": int}`` where the
    last entry is the number of 4 KiB pages of one n × n float64 table.
    Unix only (the :mod:`resource` module).
    """
    import resource

    n = _check_positive_int(n, "n")
    d_k = _check_positive_int(d_k, "d_k")
    calls = _check_positive_int(calls, "calls", max_value=MAX_REPEAT)
    _v.check_elements((n, n), "n")
    _v.check_elements((n, d_k), "d_k")
    rng = np.random.default_rng(_v.check_seed(seed))
    q, k, v = (rng.standard_normal((n, d_k)) for _ in range(3))
    faults = {}
    with _one_blas_thread():
        for name, fn in (("loop", _per_token_loop), ("matrix", _matrix_form)):
            fn(q, k, v)                                   # warm up: first-call allocations
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            for _ in range(calls):
                fn(q, k, v)
            faults[name] = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls
    faults["pages_per_table"] = weights_nbytes(n) // 4096
    return faults


def operation_counts(n, d_k: int, d_v: int | None = None) -> dict:
    """Exact work of one attention layer over ``n`` tokens, for the loop and the matrix form.

    Both forms do the same arithmetic; they differ in how many times Python has
    to hand a piece of work to NumPy.

    Returns
    -------
    dict with ``"multiplications"`` (n·n·d_k for Q Kᵀ plus n·n·d_v for α V, the
    same for both forms), ``"exponentials"`` (n·n, both forms), and
    ``"python_iterations"``: ``{"loop": n, "matrix": 1}`` — rounds of the Python
    loop (:func:`attention_per_token_loop` runs its body once per query).
    """
    n = _check_positive_int(n, "n")
    d_k = _check_positive_int(d_k, "d_k")
    d_v = d_k if d_v is None else _check_positive_int(d_v, "d_v")
    return {
        "multiplications": n * n * d_k + n * n * d_v,
        "exponentials": n * n,
        "python_iterations": {"loop": n, "matrix": 1},
    }


def weights_nbytes(n, dtype=np.float64) -> int:
    """Exact bytes of one n × n attention-weight matrix (per head, per sequence)."""
    n = _check_positive_int(n, "n")
    return n * n * _v.check_float_dtype(dtype).itemsize


# ---------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------

def _plotting():
    """pyplot with the CJK font set up, and :mod:`helpers.plots` (its colours and heatmap)."""
    import matplotlib.pyplot as plt

    from . import plots
    from .fonts import setup_cjk_font

    setup_cjk_font()
    return plt, plots


def _arrow(ax, x0, x1, y, *, rad=0.0, color="#555555", lw=1.5):
    ax.annotate("", xy=(x1, y), xytext=(x0, y),
                arrowprops=dict(arrowstyle="-|>", color=color, lw=lw,
                                connectionstyle=f"arc3,rad={rad}", shrinkA=14, shrinkB=14))


def _check_path_inputs(tokens, source, target, max_n):
    """``(tokens, source, target, max_n)`` of :func:`path_length_figure`."""
    tokens = _v.check_tokens(tokens)
    n = len(tokens)
    if n > MAX_GRAPH_TOKENS:
        raise ValueError(f"tokens has {n} tokens; at most {MAX_GRAPH_TOKENS} are supported here")
    source = _v.check_int(source, "source")
    target = _v.check_int(target, "target")
    if not 0 <= source < target < n:
        raise ValueError(f"source and target must be positions in tokens with 0 <= source < target < "
                         f"len(tokens) = {n}; got source={source}, target={target}")
    max_n = _v.check_int(max_n, "max_n", low=2, high=MAX_PLOT_N)
    return tokens, source, target, max_n


def path_length_figure(tokens, source: int, target: int, max_n: int = 40):
    """Left: the RNN chain vs one attention layer between two tokens; right: path length vs n.

    Parameters
    ----------
    tokens : list of str
        The sentence drawn on the left.
    source, target : int
        Information travels from ``tokens[source]`` to ``tokens[target]`` (source < target).
    max_n : int
        Largest sequence length on the right-hand plot (2 … :data:`MAX_PLOT_N`).
    """
    tokens, source, target, max_n = _check_path_inputs(tokens, source, target, max_n)
    n = len(tokens)
    plt, plots = _plotting()

    fig = plt.figure(figsize=(10, 4.6))
    grid = fig.add_gridspec(2, 2, width_ratios=[2.3, 1], hspace=0.35, wspace=0.25)
    rnn_len = int(_steps_from(rnn_edges(n), source)[target])
    att_len = int(_steps_from(attention_edges(n), source)[target])
    for row, (title, hops) in enumerate([(f"RNN：一步一步传，{rnn_len} 步", "rnn"),
                                         (f"自注意力：直接相连，{att_len} 步", "attention")]):
        ax = fig.add_subplot(grid[row, 0])
        ax.set_xlim(-0.7, n - 0.3)
        ax.set_ylim(-0.9, 1.3)
        ax.axis("off")
        ax.set_title(title, loc="left", fontsize=12)
        for i, t in enumerate(tokens):
            on_path = (source <= i <= target) if hops == "rnn" else i in (source, target)
            color = plots.HIGHLIGHT_COLOR if i in (source, target) else ("#c6dbef" if on_path else "#f0f0f0")
            ax.text(i, 0, plots._plain_text(t), ha="center", va="center", fontsize=max(12, plots.MIN_FONT_PT),
                    bbox=dict(boxstyle="round,pad=0.3", fc=color, ec="#999999"))
        if hops == "rnn":
            for i in range(n - 1):
                on = source <= i < target
                _arrow(ax, i, i + 1, 0, color=plots.ACCENT_COLOR_2 if on else "#bbbbbb", lw=2 if on else 1)
        else:
            _arrow(ax, source, target, 0.25, rad=-0.25, color=plots.ACCENT_COLOR_2, lw=2)
    ax = fig.add_subplot(grid[:, 1])
    ns = np.arange(2, max_n + 1)
    rnn_max = [_steps_from(rnn_edges(m), 0)[m - 1] for m in ns]
    att_max = [_steps_from(attention_edges(m), 0)[m - 1] for m in ns]
    ax.plot(ns, rnn_max, color=plots.ACCENT_COLOR_2, lw=2, label="RNN：O(n)")
    ax.plot(ns, att_max, color=plots.ACCENT_COLOR, lw=2, label="自注意力：O(1)")
    ax.set_xlabel("词数 n")
    ax.set_ylabel("首词 → 末词 的步数")
    ax.set_title("最长路径随 n 增长", fontsize=12)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return fig


#: Range of a measured time (seconds) in a timing result: a clock tick up to about eleven days.
TIME_RANGE_S = (1e-12, 1e6)


def _check_timing_result(result, name: str = "result") -> dict:
    """A :func:`time_attention` result: ``"n"`` positive ints, ``"loop_s"`` and ``"matrix_s"``
    one time per n, each within :data:`TIME_RANGE_S` (copies)."""
    out = _v.check_param_dict(result, ("n", "loop_s", "matrix_s"), name)
    out["n"] = np.array(_v.check_positive_ints(result["n"], f"{name}['n']"))
    lo, hi = TIME_RANGE_S
    for key in ("loop_s", "matrix_s"):
        t = out[key]
        if t.shape != out["n"].shape:
            raise ValueError(f"{name}['{key}'] has shape {_v.shape_str(t)}; it needs one time per n: "
                             f"shape {_v.shape_str(out['n'])}")
        bad = (t < lo) | (t > hi)
        if bad.any():
            i = _v.first_index(bad)
            raise ValueError(f"{name}['{key}'] must hold times in seconds between {lo:g} and {hi:g}; "
                             f"got {t[i]!r} at index {i}")
    return out


def timing_ratios(result: dict) -> np.ndarray:
    """Loop time ÷ matrix time for every n of a :func:`time_attention` result."""
    result = _check_timing_result(result)
    return result["loop_s"] / result["matrix_s"]


def timing_figure(result: dict, kept: dict | None = None):
    """Log-log plot of :func:`time_attention` results: loop vs matrix form.

    The title states this run's measured ratio (loop ÷ matrix) at the shortest
    and the longest n, so the figure says what it shows on the machine that ran it.
    ``kept`` (optional) is a :func:`time_attention_fresh_process` result with
    ``keep_freed_memory=True``; its matrix-form line is drawn dashed and its
    ratio at the longest n is added to the title.
    """
    result = _check_timing_result(result)
    if kept is not None:
        kept = _check_timing_result(kept, "kept")
        if not np.array_equal(kept["n"], result["n"]):
            raise ValueError(f"kept['n'] = {kept['n'].tolist()} must equal result['n'] = {result['n'].tolist()}")
    plt, plots = _plotting()

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    n = result["n"]
    ax.loglog(n, np.asarray(result["loop_s"]) * 1e3, "o-", color=plots.ACCENT_COLOR_2,
              label="逐词 Python 循环（一次一个查询）")
    ax.loglog(n, np.asarray(result["matrix_s"]) * 1e3, "s-", color=plots.ACCENT_COLOR,
              label="矩阵形式（所有查询一起算）")
    title = (f"本次运行（单核）：循环耗时 ÷ 矩阵耗时 = {timing_ratios(result)[0]:.1f}（n = {n[0]}），"
             f"{timing_ratios(result)[-1]:.1f}（n = {n[-1]}）")
    if kept is not None:
        ax.loglog(n, np.asarray(kept["matrix_s"]) * 1e3, "s--", color=plots.ACCENT_COLOR,
                  mfc="white", label="矩阵形式，分配器保留释放的内存")
        title += f"\n分配器保留内存时：{timing_ratios(kept)[-1]:.1f}（n = {n[-1]}）"
    anchor = result if kept is None else kept       # the line least disturbed by the allocator
    ref = np.asarray(anchor["matrix_s"])[-1] * 1e3 * (n / n[-1]) ** 2
    ax.loglog(n, ref, ":", color="#777777", label="参考线：∝ n²")
    ax.set_xlabel("词数 n")
    ax.set_ylabel("耗时（毫秒，对数刻度）")
    ax.set_title(title, fontsize=plots.MIN_FONT_PT)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3, which="both")
    return fig


def memory_figure(ns, d_model: int = 512, dtype=np.float64):
    """Bytes of the n × n weight matrix α vs the n × d_model input X, for growing n (log-log)."""
    ns = np.array(_v.check_positive_ints(ns, "ns"))
    d_model = _check_positive_int(d_model, "d_model")
    dtype = _v.check_float_dtype(dtype)
    plt, plots = _plotting()

    item = dtype.itemsize
    alpha = np.array([weights_nbytes(int(n), dtype) for n in ns], dtype=float)
    x_bytes = ns.astype(float) * d_model * item
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.loglog(ns, alpha, "o-", color=plots.ACCENT_COLOR_2, label="权重矩阵 α：n × n（O(n²)）")
    ax.loglog(ns, x_bytes, "s-", color=plots.ACCENT_COLOR, label=f"输入 X：n × {d_model}（O(n)）")
    for value, name in [(2 ** 20, "1 MiB"), (2 ** 30, "1 GiB")]:
        ax.axhline(value, color="#999999", lw=0.8, ls="--")
        ax.text(ns[0], value * 1.3, name, fontsize=plots.MIN_FONT_PT, color="#666666")
    ax.set_xlabel("词数 n")
    ax.set_ylabel(f"字节数（{dtype.name}，对数刻度）")
    ax.set_title("代价：α 的大小随 n² 增长（每个头、每个句子一份）", fontsize=plots.MIN_FONT_PT)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3, which="both")
    return fig


def loss_curve_figure(losses):
    """Training loss per step on a log scale."""
    losses = _v.as_real_array(losses, "losses", multiplied=False)
    if losses.ndim != 1 or losses.size < 2 or not np.all(losses > 0):
        raise ValueError(f"losses must be a 1-D array of at least 2 positive values; got shape {losses.shape}")
    plt, plots = _plotting()

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.semilogy(np.arange(losses.size), losses, color=plots.ACCENT_COLOR, lw=2)
    ax.set_xlabel("训练步数")
    ax.set_ylabel("损失（均方误差，对数刻度）")
    ax.set_title("损失随训练步数的变化", fontsize=11)
    ax.grid(alpha=0.3, which="both")
    return fig


def _check_before_after(weights_before, weights_after, tokens):
    """Two ``(n, n)`` weight matrices (rows sum to 1) over the same ``n`` tokens."""
    tokens = _v.check_tokens(tokens)
    n = len(tokens)
    out = []
    for w, name in ((weights_before, "weights_before"), (weights_after, "weights_after")):
        w = _v.check_weight_rows(w, name)
        _v.check_ndim(w, name, 2, "(n_tokens, n_tokens)")
        if w.shape != (n, n):
            raise ValueError(f"{name} has shape {_v.shape_str(w)} but tokens has {n} entries; "
                             f"it needs one row and one column per token: shape ({n}, {n})")
        out.append(w)
    return out[0], out[1], tokens


def before_after_figure(weights_before, weights_after, tokens, highlight_row=None):
    """Two attention heatmaps of the same sentence side by side: before and after training."""
    weights_before, weights_after, tokens = _check_before_after(weights_before, weights_after, tokens)
    plt, plots = _plotting()

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    for ax, w, title in [(axes[0], weights_before, "训练前：随机初始化的权重"),
                         (axes[1], weights_after, "训练后：梯度下降学到的权重")]:
        plots.attention_heatmap(w, tokens, tokens, ax=ax, highlight_row=highlight_row, title=title)
    fig.tight_layout()
    return fig
