"""The contract of every public helper (issue 14): bad input never gives a silent wrong answer.

This module walks the public API of ``helpers`` — every name in the ``__all__`` of every
module of the package, panels included — and calls each function once with good inputs
and then with one argument at a time replaced by a bad one: wrong number of dimensions,
empty, NaN/inf, ±1e308, booleans, complex, object arrays, strings, None, negative / zero /
huge sizes and seeds, and the harmless variants a learner may pass (float16/float32,
read-only and non-contiguous arrays, NumPy integers).

Every call must either
  * return normally: every array in the result finite, every HTML/SVG string free of
    NaN/inf, no warning (pytest turns warnings into errors), no array of the result
    sharing memory with an input; or
  * raise ``ValueError`` or ``TypeError`` from inside ``helpers`` whose message names the
    parameter (or the name the function documents for it, see ``ALIASES``).
In both cases the inputs are unchanged afterwards.

A new public function is covered automatically: the test fails until ``VALID`` says how to
call it with good inputs (and the bad inputs are derived from those).  ``solutions`` is left
out on purpose: it holds the exercises' reference answers, written the way a learner writes
them (the checkers validate what they pass in).
"""

from __future__ import annotations

import copy
import importlib
import math
import pkgutil
import re
import resource
import signal
import sys
import traceback
from pathlib import Path

import matplotlib
import numpy as np
import pytest

import helpers

HELPERS_DIR = Path(helpers.__file__).resolve().parent
SKIP_MODULES = {"helpers.solutions"}
TIME_LIMIT_S = 30
MEMORY_HEADROOM = 2 * 1024 ** 3  # bytes one call may add to the address space

rng = np.random.default_rng(7)
Q = rng.normal(size=(3, 4))
K = rng.normal(size=(5, 4))
V = rng.normal(size=(5, 2))
X = rng.normal(size=(5, 8))
W8x4 = rng.normal(size=(8, 4)) * 0.5
S = rng.normal(size=(3, 5))
A = np.exp(S) / np.exp(S).sum(-1, keepdims=True)
TOK5 = ["我", "喜欢", "这个", "苹果", "。"]
TOK4 = ["我", "喜欢", "这个", "苹果"]
# (layers, heads, n, n) causal attention weights for the head view
_causal = np.tril(np.ones((4, 4), dtype=bool))
_s = np.where(_causal, rng.normal(size=(2, 2, 4, 4)), -np.inf)
HEADS = np.exp(_s - _s.max(-1, keepdims=True))
HEADS = HEADS / HEADS.sum(-1, keepdims=True)
from helpers import induction as _ind  # noqa: E402

IND_PARAMS = _ind.load_weights()
IND_BATCH = _ind.make_batch(2, seed=0)
IND_WEIGHTS = _ind.attention_weights(IND_PARAMS, IND_BATCH["tokens"][0])


def _ind_small_params():
    """A tiny chapter-10 model (d_model 8) so a full finite-difference check stays fast."""
    return _ind.init_params(seed=0, d_model=8, n_ctx=6, vocab_size=40)


def _ind_one(batch):
    """The first sequence of a batch, as a batch of one."""
    return {k: v[:1] for k, v in batch.items()}


RECORDS = Path(__import__("tempfile").mkdtemp(prefix="contract-records-"))


def _learner_softmax(scores):
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _training_case():
    from helpers import training
    data = training.pronoun_dataset(n_sentences=4, d_model=8, seed=0)
    params = training.init_params(d_model=8, d_k=4, d_v=len(training.SUBJECTS), seed=0)
    return data, params


def _valid_table():
    """Good keyword arguments for the required (and interesting optional) parameters of each function."""
    from helpers import training, efficiency, walkthrough
    data, params = _training_case()
    tr = dict(params=params, x=data["X"], y=data["Y"], pronoun_pos=data["pronoun_pos"])
    steps = walkthrough.trace_self_attention(X, W8x4, W8x4, W8x4[:, :2], 1, tokens=TOK5)
    timing = efficiency.time_attention(ns=(4, 8), d_k=4, repeat=1)
    return {
        # attention
        "softmax": dict(x=S),
        "attention_scores": dict(query=Q, key=K),
        "scale_scores": dict(scores=S, d_k=4),
        "attention_weights": dict(scores=S),
        "weighted_sum": dict(weights=A, value=V),
        "scaled_dot_product_attention": dict(query=Q, key=K, value=V),
        "causal_mask": dict(n=4),
        "padding_mask": dict(lengths=[2, 3], n=4),
        "project": dict(x=X, weight=W8x4),
        "project_qkv": dict(x=X, w_q=W8x4, w_k=W8x4, w_v=W8x4[:, :2]),
        "self_attention": dict(x=X, w_q=W8x4, w_k=W8x4, w_v=W8x4[:, :2]),
        "cross_attention": dict(x_query=X[:3], x_context=X, w_q=W8x4, w_k=W8x4, w_v=W8x4[:, :2]),
        "split_heads": dict(x=X, n_heads=2),
        "merge_heads": dict(x=X.reshape(5, 2, 4).transpose(1, 0, 2)),
        "multi_head_self_attention": dict(x=X, w_q=rng.normal(size=(8, 8)), w_k=rng.normal(size=(8, 8)),
                                          w_v=rng.normal(size=(8, 8)), n_heads=2),
        # tokens
        "tokenize": dict(text="我喜欢这个苹果"),
        "embed_tokens": dict(tokens=TOK4, d_model=8),
        "positional_encoding": dict(n_positions=4, d_model=8),
        "token_inputs": dict(tokens=TOK4, d_model=8),
        "init_weights": dict(d_in=8, d_out=4),
        "init_qkv_weights": dict(d_model=8, d_k=4),
        # analysis
        "entropy": dict(weights=A),
        "softmax_jacobian": dict(weights=A),
        "jacobian_norm": dict(weights=A),
        "sample_dot_products": dict(d_k=8, n_samples=50),
        "dot_product_variance": dict(d_ks=[1, 4], n_samples=50),
        "saturation_stats": dict(d_ks=[1, 4], n_trials=20),
        "self_weight": dict(weights=A[:, :3] / A[:, :3].sum(-1, keepdims=True)),
        # handmade
        "token_direction": dict(token="它", d_model=8),
        "shared_direction": dict(d_k=4),
        "handmade_weights": dict(),
        "feature_coordinates": dict(x=helpers.token_inputs(helpers.SENTENCE_CAT_SHORT, 16)),
        # training
        "pronoun_dataset": dict(n_sentences=4, d_model=8),
        "init_params": dict(d_model=8, d_k=4),
        "forward": dict(params=params, x=data["X"]),
        "softmax_backward": dict(weights=A, grad_weights=S),
        "loss_and_gradients": tr,
        "loss_only": tr,
        "numerical_gradients": dict(tr, x=data["X"][:2], y=data["Y"][:2], pronoun_pos=data["pronoun_pos"][:2]),
        "max_relative_error": dict(grads_a=params, grads_b=params),
        "train": dict(tr, steps=2),
        # efficiency
        "rnn_edges": dict(n=4),
        "attention_edges": dict(n=4),
        "window_edges": dict(n=4, window=1),
        "shortest_path_lengths": dict(edges=[[1], [2], []]),
        "attention_per_token_loop": dict(query=Q, key=K, value=V),
        "attention_matrix_form": dict(query=Q, key=K, value=V),
        "time_attention": dict(ns=(4, 8), d_k=4, repeat=1),
        "operation_counts": dict(n=8, d_k=4),
        "weights_nbytes": dict(n=8),
        "path_length_figure": dict(tokens=TOK5, source=0, target=4, max_n=8),
        "timing_ratios": dict(result=timing),
        "timing_figure": dict(result=timing),
        "memory_figure": dict(ns=[128, 256]),
        "loss_curve_figure": dict(losses=[1.0, 0.5, 0.25]),
        "before_after_figure": dict(weights_before=A[:, :3][:3] / A[:, :3][:3].sum(-1, keepdims=True),
                                    weights_after=A[:, :3][:3] / A[:, :3][:3].sum(-1, keepdims=True),
                                    tokens=TOK5[:3]),
        # checks
        "check_*": dict(fn=_learner_softmax),
        # the prediction checkers take the learner's answer (a value), not a function
        "check_qkv_shapes": dict(shapes={"Q": (5, 4)}),
        "check_dot_cos_ranking": dict(dot_order=["k1", "k2", "k3"], cos_order=["k2", "k1", "k3"]),
        "check_cross_shapes": dict(alpha_shape=(4, 5), z_shape=(4, 8)),
        "check_window_layers": dict(answer=7),
        "check_dot_variance": dict(my_var=1.0, my_divisor=1.0),
        "check_temperature_choice": dict(my_T=0.04),
        "check_ablation_prediction": dict(my_prediction="C"),
        "check_z1_prediction": dict(my_Z1=[1.0, 2.0, 3.0]),
        "check_shift_prediction": dict(my_Z1_shifted=[1.0, 2.0, 3.0]),
        "check_weights_for_target": dict(my_alpha=[0.2, 0.3, 0.5]),
        "show_solution": dict(name="softmax"),
        "finite_difference_grad": dict(f=lambda v: float(np.sum(v ** 2)), x=np.array([1.0, 2.0])),
        # fonts
        "setup_cjk_font": dict(),
        "cjk_font_name": dict(),
        "cjk_font_path": dict(),
        # plots
        "attention_heatmap": dict(weights=A, row_labels=TOK5[:3], col_labels=TOK5),
        "matrix_heatmap": dict(M=S),
        "weights_bar": dict(weights_row=A[0], labels=TOK5),
        "step_strip": dict(query=Q[0], key=K, value=V),
        "dot_product_histogram": dict(d_ks=(1, 4), n_samples=50),
        "matrix_grid": dict(M=X, name="X"),
        "qkv_grids": dict(X=X, Q=X @ W8x4, K=X @ W8x4, V=X @ W8x4, tokens=TOK5),
        "text_color_for": dict(rgba=(0.2, 0.3, 0.4, 1.0)),
        "luminance": dict(rgba=(0.2, 0.3, 0.4, 1.0)),
        # chapter_plots
        "embedding_grids": dict(E=X, PE=X * 0.5, X=X * 1.5, tokens=TOK5),
        "side_by_side_heatmaps": dict(mats=[A, A], titles=["a", "b"], row_labels=TOK5[:3], col_labels=TOK5),
        "self_weight_plot": dict(d_models=[4, 8], shared=[0.5, 0.7], separate=[0.3, 0.3], n_tokens=5),
        "dot_contributions": dict(query=Q[0], keys=K[:3], key_labels=["k1", "k2", "k3"]),
        "variance_plot": dict(d_ks=[1, 4, 16], measured=[1.1, 3.9, 16.2]),
        "saturation_plot": dict(raw=helpers.analysis.saturation_stats([1, 4], n_trials=10),
                                scaled=helpers.analysis.saturation_stats([1, 4], n_trials=10, scaled=True),
                                n_keys=8),
        "exp_overflow_plot": dict(limits={"float16": 11.09, "float32": 88.72, "float64": 709.78}),
        # walkthrough
        "weighted_sum_figure": dict(weights_row=A[0], value=V),
        "value_line_figure": dict(value=np.outer(np.arange(1.0, 6.0), [1.0, 0.5]), weight_rows=A),
        "trace_self_attention": dict(x=X, w_q=W8x4, w_k=W8x4, w_v=W8x4[:, :2], query_index=1),
        "trace_markdown": dict(steps=steps),
        "sequence_figure": dict(steps=steps),
        # widgets
        "qkv_shapes_panel": dict(tokens=TOK4),
        "qkv_shapes_figure": dict(tokens=TOK4),
        "temperature_panel": dict(scores=[1.0, 2.5, 0.5], labels=["甲", "乙", "丙"]),
        "temperature_figure": dict(scores=[1.0, 2.5, 0.5], labels=["甲", "乙", "丙"]),
        "vector_figure": dict(q1=helpers.SEED_EXAMPLE["q1"], K=helpers.SEED_EXAMPLE["K"]),
        "multihead_panel": dict(tokens=["小猫", "追逐", "蝴蝶", "它", "饿坏了"], query=3, head=1),
        "multihead_figure": dict(tokens=["小猫", "追逐", "蝴蝶", "它", "饿坏了"], query=3, head=1),
        "sentence_explorer": dict(text=TOK4, query=1),
        "sentence_figure": dict(text=TOK4, query=1),
        "example_attention": dict(n_layers=1, n_heads=2, n=6),
        "heatmap_html": dict(M=A, row_labels=TOK5[:3], col_labels=TOK5),
        "bars_svg": dict(values=[0.2, 0.5, 0.3], labels=["a", "b", "c"]),
        "hist_svg": dict(samples=rng.normal(size=50), xlim=4.0),
        # widgets.primitives (the HTML/SVG building blocks of the panels)
        "color_lut": dict(cmap_name="Blues"),
        "color_index": dict(values=A, vmin=0.0, vmax=1.0),
        "esc": dict(s="<b>&"),
        "fmt_num": dict(v=0.25, digits=2),
        "colorbar_html": dict(cmap_name="Blues", vmin=0.0, vmax=1.0, label="α", height_px=120),
        "nice_ticks": dict(lo=0.0, hi=1.0),
        "tick_label": dict(t=0.5),
        "row_html": dict(),
        "weight_colors": dict(w=A[0]),
        "signed_colors": dict(v=S[0], limit=3.0),
        "vec_text": dict(v=Q[0]),
        # multihead (chapter 09)
        "heads_loop": dict(x=X, w_q=rng.normal(size=(8, 8)), w_k=rng.normal(size=(8, 8)),
                           w_v=rng.normal(size=(8, 8)), n_heads=2),
        "head_slices": dict(d=8, n_heads=2),
        "attention_cost": dict(batch=2, n=5, d_model=8, n_heads=2),
        "to_torch_mask": dict(keep=np.tril(np.ones((4, 4), dtype=bool))),
        "scaling_stats": dict(x=X, w_q=rng.normal(size=(8, 8)), w_k=rng.normal(size=(8, 8)), n_heads=2,
                              divisor=2.0),
        "heads_grid_figure": dict(weights=np.stack([A[:, :3] / A[:, :3].sum(-1, keepdims=True)] * 2)[:, :3],
                                  tokens=TOK5[:3]),
        "scaling_figure": dict(rows=[("a", A[0]), ("b", A[1])], tokens=TOK5),
        "format_table": dict(header=["d_k", "方差"], rows=[[1, 1.02], [64, 63.8]]),
        "print_table": dict(header=["d_k", "方差"], rows=[[1, 1.02], [64, 63.8]]),
        # analysis (chapter 03)
        "query_gradient_stats": dict(d_k=8, n_trials=20, d_model=8),
        "softmax_stats_at_std": dict(stds=[0.5, 1.0], n_trials=20),
        # efficiency (chapter 08): small sizes, the fresh process is slow
        "time_attention_fresh_process": dict(ns=(4, 8), d_k=4, repeat=1),
        "page_faults_per_call": dict(n=16, d_k=4, calls=1),
        # checks: teachers' records
        "read_records": dict(folder=str(RECORDS)),
        "summarize_records": dict(folder=str(RECORDS), show=False),
        # induction (chapter 10): qualified names where training has a function of the same name
        "induction.init_params": dict(seed=0),
        "induction.forward": dict(params=IND_PARAMS, tokens=IND_BATCH["tokens"]),
        "induction.loss_and_gradients": dict(params=IND_PARAMS, tokens=IND_BATCH["tokens"]),
        "induction.loss_only": dict(params=IND_PARAMS, tokens=IND_BATCH["tokens"]),
        "induction.numerical_gradients": dict(params=_ind_small_params(), tokens=IND_BATCH["tokens"][:1, :6],
                                              names=["W_O"]),
        "induction.max_relative_error": dict(analytic={"W_U": np.ones((2, 2))}, numeric={"W_U": np.ones((2, 2))}),
        "encode": dict(text="今天天气"),
        "decode": dict(ids=np.array([1, 2, 3])),
        "make_batch": dict(batch_size=2),
        "induction.attention_weights": dict(params=IND_PARAMS, tokens=IND_BATCH["tokens"][0]),
        "adam_init": dict(params=IND_PARAMS),
        "adam_step": dict(params=IND_PARAMS, grads=IND_PARAMS, state=_ind.adam_init(IND_PARAMS)),
        "per_position_loss": dict(params=IND_PARAMS, tokens=IND_BATCH["tokens"]),
        "half_masks": dict(batch=IND_BATCH),
        "previous_token_scores": dict(weights=IND_WEIGHTS),
        "induction_scores": dict(weights=IND_WEIGHTS[None], batch=_ind_one(IND_BATCH)),
        "half_losses": dict(params=IND_PARAMS, batch=IND_BATCH),
        "path_ablation": dict(params=IND_PARAMS, batch=IND_BATCH, head=1, path="K"),
        "same_token_scores": dict(weights=IND_WEIGHTS[None], batch=_ind_one(IND_BATCH)),
        "chance_scores": dict(batch=IND_BATCH),
        "ablation_table": dict(params=IND_PARAMS, batch=IND_BATCH),
        "evaluate": dict(params=IND_PARAMS, n_seq=4),
        "predict_next": dict(params=IND_PARAMS, text="今天天气"),
        "where_heads_look": dict(params=IND_PARAMS, text="今天天气"),
        "head_columns": dict(head=1, d_model=32, n_heads=2),
        "composition_scores": dict(params=IND_PARAMS, prev_head=0, induction_head=1),
        "load_weights": dict(),
        "save_weights": dict(params=IND_PARAMS, path=str(RECORDS / "w.npz")),
        # induction_plots
        "head_label": dict(layer=0, head=1),
        "position_loss_figure": dict(chars=list("今天天气好今天天气好"), loss=np.linspace(3.0, 0.1, 9),
                                     rep_mask=np.arange(9) > 5, rand_mask=np.arange(9) <= 5, vocab_size=40),
        "head_scores_figure": dict(prev=np.array([[0.7, 0.1], [0.1, 0.2]]), induction=np.array([[0.1, 0.1], [0.2, 0.85]])),
        "ablation_figure": dict(rep=np.array([[2.0, 0.3], [0.2, 2.5]]), baseline_rep=0.2, rand=3.4),
        "heads_figure": dict(chars=list("今天天气"), weights=HEADS, heads=[(0, 1), (1, 0)]),
        "composition_figure": dict(direct=S[:, :3], composed=S[:, :3], labels=["a", "b", "c"]),
        # widgets: head view (chapter 10)
        "head_view": dict(tokens=TOK4, weights=HEADS),
        "head_view_figure": dict(tokens=TOK4, weights=HEADS),
        "model_view": dict(tokens=TOK4, weights=HEADS),
        "model_view_figure": dict(tokens=TOK4, weights=HEADS),
        "export_head_view": dict(path=str(RECORDS / "view.svg"), tokens=TOK4, weights=HEADS),
    }


#: parameter → names a message may use for it instead (the function documents the alias)
ALIASES = {
    ("softmax", "x"): ("softmax input",),
    ("check_*", "fn"): ("函数", "function"),
}


#: the course writes some parameters with their maths letter in messages (query → Q …)
MATH_NAMES = {"query": ("Q",), "key": ("K",), "value": ("V",), "weights": ("α",), "weight": ("W",),
              "x_query": ("X_query",), "x_context": ("X_context",)}


def _names(name: str, msg: str) -> bool:
    """``name`` appears in ``msg`` as a word (any case; ``w_q`` matches "W_Q", ``x`` matches "X must")."""
    return re.search(r"(?<![A-Za-z0-9_])" + re.escape(name) + r"(?![A-Za-z0-9_])", msg, re.I) is not None


# ---------------------------------------------------------------------------
# bad inputs, derived from the kind of the good value
# ---------------------------------------------------------------------------

def _noncontiguous(a):
    big = np.repeat(a, 2, axis=-1)
    return big[..., ::2]


def _readonly(a):
    b = a.copy()
    b.flags.writeable = False
    return b


def _with(a, value):
    b = np.array(a, dtype=float, copy=True)
    b.flat[0] = value
    return b


def _array_variants(a):
    a = np.asarray(a)
    out = [
        ("scalar", 3.0),
        ("empty", np.empty((0,) + a.shape[1:]) if a.ndim else np.empty(0)),
        ("nan", _with(a, np.nan)),
        ("+inf", _with(a, np.inf)),
        ("-inf", _with(a, -np.inf)),
        ("1e308", np.full(a.shape, 1e308)),
        ("-1e308", np.full(a.shape, -1e308)),
        ("bool", a > 0.5),
        ("complex", a + 1j),
        ("object", a.astype(object)),
        ("str", "abc"),
        ("list of str", [["a", "b"], ["c", "d"]]),
        ("None", None),
        ("float16", a.astype(np.float16)),
        ("float32" if a.dtype.kind == "f" else "float32 of ints", a.astype(np.float32)),
        ("read-only", _readonly(a)),
        ("non-contiguous", _noncontiguous(a)),
        ("extra dim", a[None]),
    ]
    if a.ndim >= 2:
        out.append(("1-D", a[0].copy()))
    return out


INT_BAD = [("-1", -1), ("0", 0), ("1.5", 1.5), ("True", True), ("'3'", "3"), ("None", None),
           ("2**64", 2 ** 64), ("1e9", 10 ** 9), ("nan", float("nan"))]
FLOAT_BAD = [("nan", float("nan")), ("inf", float("inf")), ("-1.0", -1.0), ("0.0", 0.0), ("True", True),
             ("'1'", "1"), ("None", None), ("1e308", 1e308), ("-1e308", -1e308), ("complex", 1 + 1j)]
STR_BAD = [("''", ""), ("int", 5), ("None", None), ("lone surrogate", "\ud800"), ("bytes", b"ab")]
TOKENS_BAD = [("[]", []), ("str", "我喜欢这个"), ("ints", [1, 2]), ("None entry", ["我", None]),
              ("surrogate", ["我", "\ud800"]), ("html", ["<b>", "&amp;"]), ("None", None), ("empty token", ["我", ""])]
CALLABLE_BAD = [("None", None), ("int", 3), ("str", "f")]
BOOL_BAD = [("'yes'", "yes"), ("2", 2), ("None", None)]
SEQ_BAD = [("[]", []), ("nan entry", [1.0, float("nan")]), ("str", "ab"), ("None", None),
           ("nested", [[1, 2], [3]]), ("negative", [-1, 4])]


def _bad_values(value):
    """The bad inputs for a parameter whose good value is ``value``."""
    if callable(value) and not isinstance(value, np.ndarray):
        return CALLABLE_BAD
    if isinstance(value, (bool, np.bool_)):
        return BOOL_BAD
    if isinstance(value, (int, np.integer)):
        return INT_BAD + [("np.int64", np.int64(value))]
    if isinstance(value, (float, np.floating)):
        return FLOAT_BAD + [("np.float64", np.float64(value))]
    if isinstance(value, str):
        return STR_BAD
    if isinstance(value, np.ndarray):
        return _array_variants(value) if value.dtype.kind in "fiu" else []
    if isinstance(value, (list, tuple)) and value and all(isinstance(t, str) for t in value):
        return TOKENS_BAD
    if isinstance(value, (list, tuple)) and value and all(isinstance(t, (int, float)) for t in value):
        return SEQ_BAD + [(f"array {k}", v) for k, v in _array_variants(np.asarray(value, dtype=float))
                          if k in ("nan", "+inf", "empty", "None", "complex", "bool")]
    return []  # dicts, figures, nested structures: only the good call


# ---------------------------------------------------------------------------
# running one call and judging it
# ---------------------------------------------------------------------------

class _TimeLimit(Exception):
    pass


def _alarm(signum, frame):
    raise _TimeLimit()


def _snapshot(obj):
    try:
        return copy.deepcopy(obj)
    except Exception:
        return obj


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            return (type(a) is type(b) and a.shape == b.shape and a.dtype == b.dtype
                    and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
        except Exception:
            return False
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return bool(a == b)
    except Exception:
        return a is b


def _arrays(obj, depth=0):
    if depth > 4:
        return
    if isinstance(obj, np.ndarray):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _arrays(v, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _arrays(v, depth + 1)


_NAN_IN_MARKUP = re.compile(r'(?:="[^"]*|:\s*)(?<![A-Za-z])(nan|inf|NaN|Infinity)(?![A-Za-z])')


def _judge_result(result, inputs, allow_inf: bool = False) -> str | None:
    for arr in _arrays(result):
        if arr.dtype.kind in "fc":
            nonfinite = ~np.isfinite(arr)
            if allow_inf and arr.dtype.kind == "f":
                nonfinite &= ~np.isposinf(arr)   # +inf only; NaN and -inf still fail
            if nonfinite.any():
                return f"returned non-finite values ({arr.dtype}, shape {arr.shape})"
        if arr.dtype == object:
            continue
        for name, inp in inputs.items():
            for a in _arrays(inp):
                if np.shares_memory(arr, a):
                    return f"result shares memory with input {name!r}"
    for x in ([result] if not isinstance(result, (tuple, list)) else result):
        if isinstance(x, float) and not math.isfinite(x):
            return f"returned {x!r}"
    markup = [result] if isinstance(result, str) else []
    view = getattr(result, "view", None)
    if view is not None and isinstance(getattr(view, "value", None), str):
        markup.append(view.value)
    for m in markup:
        hit = _NAN_IN_MARKUP.search(m)
        if hit:
            return f"markup contains {hit.group(1)!r} near {m[max(0, hit.start() - 40):hit.end() + 10]!r}"
    return None


def _raised_in_helpers(exc: BaseException) -> bool:
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and Path(frames[-1].filename).resolve().is_relative_to(HELPERS_DIR)


def _call(fn, kwargs):
    """Call with a time limit and an address-space limit (a helper that tries to allocate many GiB
    for a huge size must fail here with MemoryError, a contract failure, not take the machine down)."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT_S)
    limits = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * resource.getpagesize()
    cap = used + MEMORY_HEADROOM
    if limits[1] != resource.RLIM_INFINITY:
        cap = min(cap, limits[1])
    resource.setrlimit(resource.RLIMIT_AS, (cap, limits[1]))
    # required positional parameters are passed by position, as learners and notebooks do
    import inspect
    params = list(inspect.signature(fn).parameters.values())
    args, rest = [], dict(kwargs)
    for prm in params:
        if prm.kind is not prm.POSITIONAL_OR_KEYWORD or prm.default is not prm.empty or prm.name not in rest:
            break
        args.append(rest.pop(prm.name))
    try:
        return fn(*args, **rest)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, limits)
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _close_figures(result):
    import matplotlib.pyplot as plt
    plt.close("all")
    # the checkers' switches are global on purpose (a teacher turns them on once): put them back
    from helpers import checks
    checks.set_strict(False)
    checks.record_to(None)


def _judge(fn, key, kwargs, param=None, label="good input", must_work=False) -> str | None:
    before = {k: _snapshot(v) for k, v in kwargs.items()}
    where = f"{key}({param}={label})" if param else f"{key}(good input)"
    try:
        result = _call(fn, kwargs)
    except _TimeLimit:
        return f"{where}: did not return within {TIME_LIMIT_S} s"
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        if param is None or must_work:
            return f"{where}: raised {type(exc).__name__}: {msg[:200]}"
        if not _raised_in_helpers(exc):
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            return (f"{where}: {type(exc).__name__} comes from {Path(frame.filename).name}:{frame.lineno}, "
                    f"not from helpers: {msg[:160]}")
        names = (param,) + ALIASES.get((key, param), ()) + MATH_NAMES.get(param, ())
        if not any(_names(n, msg) for n in names):
            return f"{where}: {type(exc).__name__} does not name {param!r}: {msg[:200]}"
        result = None
    except Exception as exc:  # noqa: BLE001 - everything else is a contract failure
        return f"{where}: raised {type(exc).__name__}: {str(exc)[:200]}"
    else:
        problem = _judge_result(result, kwargs, allow_inf=key in INF_IS_THE_ANSWER)
        if problem:
            return f"{where}: {problem}"
    finally:
        _close_figures(None)
    for k, v in kwargs.items():
        if not _same(before[k], v):
            return f"{where}: modified its input {k!r}"
    return None


MUST_WORK = {"float32", "read-only", "non-contiguous", "np.int64", "np.float64"}


#: Public functions left out, each with the reason (kept to what cannot run in a unit test).
EXCLUDED = {
    "induction.train": "trains the chapter-10 model for minutes; tests/test_induction.py runs a short training",
}


#: Functions whose result may hold +inf because +inf is its documented meaning (NaN and -inf still
#: fail), each with the reason.  Kept to the bare minimum; the lead reviews every entry.
INF_IS_THE_ANSWER = {
    "shortest_path_lengths": "L[i, j] = inf: token j can never be reached from token i (an RNN passes "
                             "information forwards only), the convention of graph libraries; a finite "
                             "stand-in (-1, n) would silently corrupt the means, maxima and comparisons "
                             "a learner computes from the matrix",
}


def _public_functions():
    """{"function" or "module.function": (module, function)} — the module prefix where two modules
    use the same name (training.forward and induction.forward …)."""
    found, owners = {}, {}
    for info in pkgutil.walk_packages(helpers.__path__, "helpers."):
        if info.name in SKIP_MODULES:
            continue
        mod = importlib.import_module(info.name)
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if callable(obj) and not isinstance(obj, type):
                owners.setdefault(name, {}).setdefault(id(obj), (info.name, obj))
    for name, defs in owners.items():
        for mod, obj in defs.values():
            key = name if len(defs) == 1 else f"{mod.rsplit('.', 1)[-1]}.{name}"
            if key not in EXCLUDED:
                found[key] = (mod, obj)
    return found


PUBLIC = _public_functions()
_TABLE_KEYS = set(_valid_table())


def _key(name: str) -> str:
    """The table entry of ``name`` ("module.function" or "function"): its own, the bare name's, or the
    shared one of the checkers that take a function."""
    if name in _TABLE_KEYS:
        return name
    bare = name.rsplit(".", 1)[-1]
    if bare.startswith("check_") and bare not in _TABLE_KEYS:
        return "check_*"
    return bare


@pytest.fixture(scope="module")
def valid():
    matplotlib.use("Agg")
    return _valid_table()


def _required(fn) -> list[str]:
    import inspect
    return [p.name for p in inspect.signature(fn).parameters.values()
            if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _good_call(name, fn, table):
    """The table's good call, or {} for a function whose parameters all have defaults."""
    if _key(name) in table:
        return table[_key(name)]
    return {} if not _required(fn) else None


def test_every_public_function_has_a_good_call(valid):
    missing = sorted(f"{mod}.{name}" for name, (mod, fn) in PUBLIC.items() if _good_call(name, fn, valid) is None)
    assert missing == [], f"add a good call to VALID in tests/test_contract.py for: {missing}"


def _cases(fn, key, good):
    import inspect
    sig = inspect.signature(fn)
    params = dict(good)
    for p in sig.parameters.values():
        if p.name not in params and p.default is not inspect.Parameter.empty and p.default is not None:
            if isinstance(p.default, (bool, int, float, str)) and p.kind != p.VAR_KEYWORD:
                params[p.name] = p.default
    for pname, value in params.items():
        for label, bad in _bad_values(value):
            kw = dict(good)
            kw[pname] = bad() if callable(bad) and not isinstance(bad, (np.ndarray,)) and label == "" else bad
            yield pname, label, kw, label in MUST_WORK


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_contract(name, valid):
    key = _key(name)
    mod, fn = PUBLIC[name]
    good = _good_call(name, fn, valid)
    if good is None:
        pytest.skip("no good call yet (see test_every_public_function_has_a_good_call)")
    problem = _judge(fn, key, dict(good))
    failures = [problem] if problem else []
    for pname, label, kw, must_work in _cases(fn, key, good):
        problem = _judge(fn, key, kw, pname, label, must_work)
        if problem:
            failures.append(problem)
    assert not failures, f"{len(failures)} contract failure(s) in {mod}.{name}:\n" + "\n".join(failures)


def test_contract_size():
    """How much the contract covers (printed with -s; the closing note quotes it)."""
    table = _valid_table()
    n_calls = 0
    for name, (mod, fn) in PUBLIC.items():
        good = _good_call(name, fn, table)
        if good is not None:
            n_calls += 1 + sum(1 for _ in _cases(fn, _key(name), good))
    print(f"\ncontract: {len(PUBLIC)} public functions, {n_calls} calls")
    assert len(PUBLIC) >= 100 and n_calls >= 1000
