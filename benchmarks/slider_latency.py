"""Slider latency of the 8×8 annotated attention heatmap: course panel vs. a new figure per change;
head-view callbacks.

Run::

    .venv/bin/python benchmarks/slider_latency.py [--changes 60]

Both paths show the self-attention weights of the same 8-token sentence as an
annotated 8×8 heatmap with the selected query row outlined, driven by the same
kind of slider (a SelectionSlider over the query tokens).  For every change the
time is measured from setting ``slider.value`` in Python until the displayed
view is updated:

1. course path — ``widgets.sentence_explorer``: the observer recomputes the
   attention, rebuilds the HTML table and assigns ``view.value``; the
   JSON-encoding of the state message the kernel would send is included.
2. baseline — ``ipywidgets.interactive`` (what ``interact`` builds) whose
   function draws a NEW matplotlib figure with ``plots.attention_heatmap`` and
   renders it to PNG bytes the way the inline backend does
   (``bbox_inches="tight"``), then closes it.

3. head view — ``widgets.head_view`` on :func:`helpers.widgets.example_attention`
   (2 layers × 4 heads × 32 tokens): query slider over every token and
   "all", with all heads overlaid and with one head, and the layer / head
   toggles; plus the model view's query slider.  Same timing (set the control,
   JSON-encode the new view).

Prints the median (and 90th percentile) of each path and the ratio of medians.
Timings are not asserted anywhere; they depend on the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import time
import warnings

import matplotlib

matplotlib.use("Agg")

import ipywidgets as W  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import helpers as h  # noqa: E402
from helpers import plots, widgets  # noqa: E402

SENTENCE = "那个 小猫 追逐 一只 蝴蝶 现在 它 饿坏了"  # 8 tokens (spaces = token boundaries)


def _sequence(n_changes: int, n_tokens: int):
    """Slider values cycling through every row and 'none', never repeating the previous value."""
    cycle = list(range(n_tokens)) + [-1]
    return [cycle[i % len(cycle)] for i in range(1, n_changes + 1)]


def _stats(ts):
    ts = sorted(ts)
    return statistics.median(ts), ts[int(0.9 * (len(ts) - 1))]


def bench_course(n_changes: int, warmup: int = 5):
    panel = widgets.sentence_explorer(SENTENCE, d_model=16, d_k=8)
    assert len(panel.values["tokens"]) == 8, panel.values["tokens"]
    slider, view = panel.slider_query, panel.view
    seq = _sequence(n_changes + warmup, 8)
    times = []
    for i, v in enumerate(seq):
        before = view.value
        t0 = time.perf_counter()
        slider.value = v
        json.dumps({"method": "update", "state": {"value": view.value}})  # what the comm would send
        t1 = time.perf_counter()
        assert view.value != before, "course view did not change"
        if i >= warmup:
            times.append(t1 - t0)
    return times, view.value


def bench_baseline(n_changes: int, warmup: int = 3):
    tokens = h.tokenize(SENTENCE)
    X = h.token_inputs(tokens, 16, seed=0)
    Wts = h.init_qkv_weights(16, 8, seed=0)
    _, A = h.self_attention(X, *Wts)
    shown = {}

    def draw(query):
        fig = plots.attention_heatmap(A, tokens, tokens, annotate=True,
                                      highlight_row=None if query == -1 else query, title="注意力权重 α")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight")  # what the inline backend does
        plt.close(fig)
        shown["png"] = buf.getvalue()

    slider = W.SelectionSlider(options=[("（无）", -1)] + [(t, i) for i, t in enumerate(tokens)], value=-1)
    ui = W.interactive(draw, query=slider)
    seq = _sequence(n_changes + warmup, 8)
    times = []
    for i, v in enumerate(seq):
        before = shown.get("png")
        t0 = time.perf_counter()
        slider.value = v
        t1 = time.perf_counter()
        assert shown["png"] is not before, "baseline did not redraw"
        if i >= warmup:
            times.append(t1 - t0)
    ui.close()
    return times, shown["png"]


def bench_multihead(n_changes: int, warmup: int = 5, tab: int = 0):
    """Chapter 09's panel, 4 heads x 12 tokens: query slider and head selector, every change timed.

    ``tab`` 0: the overview tab is shown (the default); 1: the selected head's full heatmap is shown
    (that tab's HTML is built only while it is shown)."""
    panel = widgets.multihead_panel()
    panel.tabs.selected_index = tab
    assert panel.alpha.shape == (4, 12, 12), panel.alpha.shape
    view = panel.view
    times = []
    for i in range(n_changes + warmup):
        before = view.value
        t0 = time.perf_counter()
        if i % 4 == 3:
            panel.head_select.value = (panel.head_select.value + 1) % 4
        else:
            panel.slider_query.value = (panel.slider_query.value + 1) % 12
        json.dumps({"method": "update", "state": {"value": view.value}})
        json.dumps({"method": "update", "state": {"value": panel.detail.value}})   # tab 2: the selected head
        t1 = time.perf_counter()
        assert view.value != before, "multi-head view did not change"
        if i >= warmup:
            times.append(t1 - t0)
    return times, view.value + panel.detail.value


def _time_changes(panel, control, values, warmup=3):
    times = []
    for i, v in enumerate(values):
        before = panel.view.value
        t0 = time.perf_counter()
        control.value = v
        json.dumps({"method": "update", "state": {"value": panel.view.value}})
        t1 = time.perf_counter()
        assert panel.view.value != before, f"{control.description}: view did not change"
        if i >= warmup:
            times.append(t1 - t0)
    return times


def bench_head_view(n_changes: int):
    """Callback times of the head view and model view at 2 layers x 4 heads x 32 tokens."""
    tokens, A = widgets.example_attention(2, 4, 32)
    panel = widgets.head_view(tokens, A)
    seq = _sequence(n_changes + 3, 32)
    res = {"query slider, all heads": _time_changes(panel, panel.slider_query, seq)}
    panel.head_select.value = 0
    res["query slider, one head"] = _time_changes(panel, panel.slider_query, seq)
    panel.slider_query.value = -1
    heads = [(i % 5) - 1 for i in range(2, n_changes + 5)]
    res["head toggle (all queries)"] = _time_changes(panel, panel.head_select, heads)
    res["layer toggle (all queries)"] = _time_changes(panel, panel.layer_select, [i % 2 for i in range(1, n_changes + 4)])
    mv = widgets.model_view(tokens, A)
    res["model view query slider"] = _time_changes(mv, mv.slider_query, seq)
    panel.head_select.value, panel.slider_query.value = -1, -1
    sizes = {"head view, all heads and queries": len(panel.view.value), "model view, all queries": len(
        widgets.model_view(tokens, A).view.value)}
    return res, sizes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=60, help="slider changes per path (>= 50)")
    args = ap.parse_args(argv)
    n = max(50, args.changes)
    warnings.simplefilter("error")
    np.set_printoptions(precision=4, suppress=True)

    course, html = bench_course(n)
    # interactive() calls clear_output(), which writes terminal escape codes when no kernel runs
    with contextlib.redirect_stdout(io.StringIO()):
        base, png = bench_baseline(n)
    c_med, c_p90 = _stats(course)
    b_med, b_p90 = _stats(base)
    print(f"8x8 annotated attention heatmap, {n} slider changes per path")
    print(f"(1) course path  (HTML heatmap, widgets.sentence_explorer): median {c_med * 1e3:7.2f} ms   "
          f"p90 {c_p90 * 1e3:7.2f} ms   ({len(html)} chars of HTML)")
    print(f"(2) baseline     (interact + new matplotlib figure -> PNG):  median {b_med * 1e3:7.2f} ms   "
          f"p90 {b_p90 * 1e3:7.2f} ms   ({len(png)} bytes of PNG)")
    print(f"ratio baseline / course (medians): {b_med / c_med:.1f}x")
    for tab, shown in ((0, "tab 所有头"), (1, "tab 选中头的完整热力图")):
        mh_times, mh_html = bench_multihead(n, tab=tab)
        m_med, m_p90 = _stats(mh_times)
        print(f"(3) ch09 multihead_panel, 4 heads x 12 tokens (query slider + head selector), {shown}: median "
              f"{m_med * 1e3:7.2f} ms   p90 {m_p90 * 1e3:7.2f} ms   ({len(mh_html)} chars of HTML)")
    hv, sizes = bench_head_view(n)
    every = [t for ts in hv.values() if ts is not hv["model view query slider"] for t in ts]
    print(f"(4) ch10 head view, 2 layers x 4 heads x 32 tokens, {n} changes per control")
    for name, ts in hv.items():
        med, p90 = _stats(ts)
        print(f"    {name:28s} median {med * 1e3:7.2f} ms   p90 {p90 * 1e3:7.2f} ms")
    med, p90 = _stats(every)
    print(f"    {'every head-view control':28s} median {med * 1e3:7.2f} ms   p90 {p90 * 1e3:7.2f} ms")
    print("    largest views: " + ", ".join(f"{k} {v} chars" for k, v in sizes.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
