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
