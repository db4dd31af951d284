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
    with pytest.raises(ValueError, match="Q"):
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
