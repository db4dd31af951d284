"""Tests for helpers.efficiency (chapter 08): path lengths, loop vs matrix, bytes, figures."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

import helpers as h
from helpers import efficiency as e


def test_path_lengths_rnn_vs_attention():
    n = 7
    rnn = e.shortest_path_lengths(e.rnn_edges(n))
    att = e.shortest_path_lengths(e.attention_edges(n))
    i, j = np.triu_indices(n, k=1)
    assert np.array_equal(rnn[i, j], (j - i).astype(float))
    assert np.all(np.isinf(rnn[j, i]))          # an RNN only passes information forwards
    off = ~np.eye(n, dtype=bool)
    assert np.all(att[off] == 1) and np.all(np.diag(att) == 0)


def test_loop_equals_matrix_form():
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((5, 4)), rng.standard_normal((7, 4)), rng.standard_normal((7, 3))
    ref, _ = h.scaled_dot_product_attention(q, k, v)
    assert np.allclose(e.attention_per_token_loop(q, k, v), ref)
    assert np.allclose(e.attention_matrix_form(q, k, v), ref)


def test_weights_nbytes_is_exact():
    for n in (1, 3, 64):
        assert e.weights_nbytes(n) == np.zeros((n, n)).nbytes
        assert e.weights_nbytes(n, np.float32) == np.zeros((n, n), np.float32).nbytes


def test_time_attention_shapes_only():
    r = e.time_attention(ns=(4, 8), d_k=4, repeat=1)
    assert list(r["n"]) == [4, 8]
    assert r["loop_s"].shape == r["matrix_s"].shape == (2,)
    assert np.all(r["loop_s"] > 0) and np.all(r["matrix_s"] > 0)


def test_figures_return_figures():
    figs = [
        e.path_length_figure(h.SENTENCE_CAT_SHORT, 0, 4, max_n=10),
        e.timing_figure({"n": np.array([4, 8]), "loop_s": np.array([1e-3, 2e-3]),
                         "matrix_s": np.array([1e-4, 2e-4])}),
        e.memory_figure([16, 64, 256]),
        e.loss_curve_figure([1.0, 0.5, 0.1]),
        e.before_after_figure(np.eye(3), np.eye(3), ["a", "b", "c"], highlight_row=1),
    ]
    for fig in figs:
        assert isinstance(fig, matplotlib.figure.Figure)
        plt.close(fig)


def test_bad_inputs():
    with pytest.raises(ValueError, match="source"):
        e.path_length_figure(["a", "b"], 1, 0)
    with pytest.raises(ValueError, match="neighbours"):
        e.shortest_path_lengths([[5]])
    with pytest.raises(ValueError, match="query and key .* d_k"):
        e.attention_per_token_loop(np.ones((2, 3)), np.ones((2, 4)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="positive"):
        e.loss_curve_figure([1.0, 0.0])


def test_window_edges_and_depth():
    from helpers import efficiency as e
    n = 9
    for w in (1, 2, 3, 8, 20):
        edges = e.window_edges(n, w)
        for i in range(n):
            assert edges[i] == [j for j in range(n) if j != i and abs(i - j) <= w]
        depth = e.shortest_path_lengths(edges)[0, n - 1]
        assert depth == -(-(n - 1) // w)          # ceil((n - 1) / w) layers
    assert e.window_edges(n, n - 1) == e.attention_edges(n)
    with pytest.raises(ValueError, match="window"):
        e.window_edges(5, 0)


def test_operation_counts_are_exact():
    from helpers import efficiency as e
    ops = e.operation_counts(7, d_k=3, d_v=5)
    assert ops["multiplications"] == 7 * 7 * 3 + 7 * 7 * 5
    assert ops["exponentials"] == 49
    assert ops["python_iterations"] == {"loop": 7, "matrix": 1}
    assert e.operation_counts(4, d_k=2)["multiplications"] == 2 * 4 * 4 * 2
    with pytest.raises(ValueError, match="d_k"):
        e.operation_counts(4, d_k=0)


def test_timing_ratios_and_title():
    import matplotlib
    matplotlib.use("Agg")
    from helpers import efficiency as e
    result = {"n": np.array([8, 512]), "loop_s": np.array([5e-5, 2e-2]), "matrix_s": np.array([1e-5, 2.5e-2])}
    assert np.allclose(e.timing_ratios(result), [5.0, 0.8])
    fig = e.timing_figure(result)
    title = fig.axes[0].get_title()
    assert "5.0（n = 8）" in title and "0.8（n = 512）" in title, title
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_timing_figure_with_kept_memory_line():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from helpers import efficiency as e
    result = {"n": np.array([8, 512]), "loop_s": np.array([5e-5, 2e-2]), "matrix_s": np.array([1e-5, 2.5e-2])}
    kept = {"n": np.array([8, 512]), "loop_s": np.array([5e-5, 2e-2]), "matrix_s": np.array([1e-5, 4e-3])}
    fig = e.timing_figure(result, kept=kept)
    title = fig.axes[0].get_title()
    assert "0.8（n = 512）" in title and "保留内存时：5.0（n = 512）" in title, title
    assert len(fig.axes[0].get_lines()) == 4
    plt.close(fig)
    with pytest.raises(ValueError, match="kept"):
        e.timing_figure(result, kept={**kept, "n": np.array([8, 256])})


def test_time_attention_fresh_process_returns_same_keys():
    from helpers import efficiency as e
    r = e.time_attention_fresh_process(ns=(4, 8), d_k=4, repeat=1, keep_freed_memory=True)
    assert set(r) == {"n", "loop_s", "matrix_s"}
    assert list(r["n"]) == [4, 8] and np.all(r["matrix_s"] > 0)


def test_page_faults_per_call_counts_pages_of_one_table():
    from helpers import efficiency as e
    f = e.page_faults_per_call(n=64, d_k=4, calls=2)
    assert f["pages_per_table"] == 64 * 64 * 8 // 4096
    assert f["loop"] >= 0 and f["matrix"] >= 0
    with pytest.raises(ValueError, match="calls"):
        e.page_faults_per_call(n=8, calls=0)


# --- issue 14: errors name the caller's parameter, nothing silently wrong -------------------------

def test_loop_and_matrix_form_refuse_nan_inf_instead_of_returning_them():
    q = np.ones((3, 4))
    for bad in (np.nan, np.inf, -np.inf):
        for name in ("query", "key", "value"):
            args = {"query": q.copy(), "key": q.copy(), "value": q[:, :2].copy()}
            args[name][0, 0] = bad
            for fn in (e.attention_per_token_loop, e.attention_matrix_form):
                with pytest.raises(ValueError, match=f"^{name} contains NaN or inf"):
                    fn(**args)


def test_loop_and_matrix_form_want_one_sentence_of_2d_arrays():
    with pytest.raises(ValueError, match=r"^query must have at least 2 dimensions"):
        e.attention_matrix_form(np.ones(4), np.ones((3, 4)), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"^key must have shape \(n_k, d_k\)"):
        e.attention_per_token_loop(np.ones((2, 4)), np.ones((1, 3, 4)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="^key and value must describe the same tokens"):
        e.attention_matrix_form(np.ones((2, 4)), np.ones((3, 4)), np.ones((2, 2)))
    with pytest.raises(TypeError, match="^value must hold real numbers"):
        e.attention_matrix_form(np.ones((2, 4)), np.ones((3, 4)), np.ones((3, 2)) + 1j)
    with pytest.raises(ValueError, match=r"^query and key \(their n_q × n_k scores\) too large"):
        e.attention_matrix_form(np.ones((10 ** 5, 1)), np.ones((10 ** 4, 1)), np.ones((10 ** 4, 1)))


def test_loop_and_matrix_form_accept_float32_and_leave_inputs_alone():
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((3, 4), (5, 4), (5, 2)))
    before = [a.copy() for a in (q, k, v)]
    ref, _ = h.scaled_dot_product_attention(q.astype(float), k.astype(float), v.astype(float))
    for fn in (e.attention_per_token_loop, e.attention_matrix_form):
        z = fn(q, k, v)
        assert np.allclose(z, ref, atol=1e-5)
        assert not any(np.shares_memory(z, a) for a in (q, k, v))
    assert all(np.array_equal(a, b) for a, b in zip((q, k, v), before))


def test_unreachable_is_inf_and_bool_neighbours_are_refused():
    L = e.shortest_path_lengths([[1], [2], []])
    assert L.tolist() == [[0, 1, 2], [np.inf, 0, 1], [np.inf, np.inf, 0]]
    assert not np.isnan(L).any()
    with pytest.raises(ValueError, match=r"edges\[0\] contains True"):
        e.shortest_path_lengths([[True], []])
    with pytest.raises(TypeError, match=r"^edges\[1\] must be a list"):
        e.shortest_path_lengths([[1], 0])
    with pytest.raises(ValueError, match="^edges too large: 300 searches"):
        e.shortest_path_lengths(e.attention_edges(300))   # refused at once, not minutes of searching


def test_path_length_figure_names_tokens_source_target_and_max_n():
    with pytest.raises(ValueError, match="source and target must be positions in tokens .* = 2; got source=0, target=4"):
        e.path_length_figure(["a", "b"], 0, 4)
    with pytest.raises(TypeError, match="^tokens must be a list of strings, not one string"):
        e.path_length_figure("我喜欢这个苹果", 0, 4)
    with pytest.raises(TypeError, match="^source must be an integer, got True"):
        e.path_length_figure(["a", "b", "c"], True, 2)
    with pytest.raises(TypeError, match="^target must be an integer, got 1.5"):
        e.path_length_figure(["a", "b", "c"], 0, 1.5)
    with pytest.raises(ValueError, match=f"^max_n must satisfy 2 <= max_n <= {e.MAX_PLOT_N}"):
        e.path_length_figure(["a", "b", "c"], 0, 2, max_n=10 ** 9)


def test_path_length_figure_right_plot_is_rnn_n_minus_1_vs_attention_1():
    fig = e.path_length_figure(["a", "b", "c"], 0, 2, max_n=12)
    rnn, att = fig.axes[-1].get_lines()[:2]
    assert list(rnn.get_xdata()) == list(range(2, 13))
    assert list(rnn.get_ydata()) == [m - 1 for m in range(2, 13)]
    assert list(att.get_ydata()) == [1] * 11
    plt.close(fig)


def test_size_lists_are_checked_entry_by_entry():
    with pytest.raises(TypeError, match=r"^ns\[1\] must be a positive integer, got nan"):
        e.memory_figure([128, float("nan")])
    with pytest.raises(ValueError, match=r"^ns\[0\] must be a positive integer, got -1"):
        e.time_attention(ns=[-1, 4])
    with pytest.raises(ValueError, match="^ns is empty"):
        e.memory_figure([])
    with pytest.raises(TypeError, match="^ns must be a list of positive integers"):
        e.time_attention(ns=None)
    with pytest.raises(TypeError, match="^d_model must be a positive integer"):
        e.memory_figure([128], d_model="3")
    with pytest.raises(TypeError, match="^dtype must be a NumPy float dtype"):
        e.weights_nbytes(8, dtype=None)


def test_sizes_that_cannot_fit_are_refused_before_allocating():
    with pytest.raises(ValueError, match=r"^ns too large: an array of shape \(20000, 20000\)"):
        e.time_attention(ns=[8, 20000])
    with pytest.raises(ValueError, match=r"^n too large"):
        e.page_faults_per_call(n=20000)
    with pytest.raises(ValueError, match="^repeat=100000 is too large"):
        e.time_attention(ns=[4], repeat=100000)


def test_seeds_and_timeout_are_checked_by_us_not_by_numpy_or_subprocess():
    with pytest.raises(ValueError, match="^seed must satisfy 0 <= seed"):
        e.time_attention(ns=[4], seed=-1)
    with pytest.raises(TypeError, match="^seed must be an integer, got 1.5"):
        e.page_faults_per_call(n=8, seed=1.5)
    with pytest.raises(ValueError, match="^timeout must be a positive finite number, got 0.0"):
        e.time_attention_fresh_process(ns=[4], timeout=0.0)
    with pytest.raises(ValueError, match="^timeout must be a finite number, got inf"):
        e.time_attention_fresh_process(ns=[4], timeout=float("inf"))
    with pytest.raises(TypeError, match="^keep_freed_memory must be True or False"):
        e.time_attention_fresh_process(ns=[4], keep_freed_memory="yes")


def test_figures_name_their_own_parameters():
    w = np.full((3, 3), 1 / 3)
    with pytest.raises(ValueError, match="^weights_after contains NaN"):
        e.before_after_figure(w, np.where(np.eye(3) > 0, np.nan, w), ["a", "b", "c"])
    with pytest.raises(ValueError, match=r"^every row of weights_before must sum to 1"):
        e.before_after_figure(w * 2, w, ["a", "b", "c"])
    with pytest.raises(ValueError, match=r"^weights_before has shape \(3, 3\) but tokens has 2 entries"):
        e.before_after_figure(w, w, ["a", "b"])
    with pytest.raises(TypeError, match="^losses must hold real numbers"):
        e.loss_curve_figure(np.array([1.0, 0.5]) + 1j)
    with pytest.raises(ValueError, match="^losses contains NaN or inf"):
        e.loss_curve_figure([1.0, float("nan")])


def test_timing_results_are_checked_before_dividing_or_plotting():
    r = {"n": np.array([8, 512]), "loop_s": np.array([5e-5, 2e-2]), "matrix_s": np.array([1e-5, 2.5e-2])}
    with pytest.raises(ValueError, match=r"^result\['matrix_s'\] must hold times in seconds"):
        e.timing_ratios({**r, "matrix_s": np.array([0.0, 1e-3])})     # no inf ratio, no warning
    with pytest.raises(ValueError, match=r"^result\['loop_s'\] has shape \(1,\); it needs one time per n"):
        e.timing_figure({**r, "loop_s": np.array([1e-3])})
    with pytest.raises(ValueError, match=r"^result is missing \['matrix_s'\]"):
        e.timing_ratios({"n": r["n"], "loop_s": r["loop_s"]})
    with pytest.raises(ValueError, match=r"^kept\['n'\] = \[8, 256\] must equal result\['n'\] = \[8, 512\]"):
        e.timing_figure(r, kept={**r, "n": np.array([8, 256])})


def test_figures_draw_dollar_signs_in_tokens_literally():
    """Finding 32: a token "$x$" was drawn as an italic x, "$\\frac$" failed only when the figure was drawn."""
    from figtools import DOLLAR_LABELS, assert_drawn_literally

    tokens = list(DOLLAR_LABELS) + ["c"]
    for fig in (e.path_length_figure(tokens, 0, 2, max_n=4),
                e.before_after_figure(np.full((3, 3), 1 / 3), np.eye(3), tokens)):
        assert_drawn_literally(fig)
        plt.close(fig)
