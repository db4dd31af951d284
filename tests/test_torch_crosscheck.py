"""Cross-check the course's attention against PyTorch (chapter 09's bridge table), when torch is importable.

Torch is NOT a dependency of the course: this module skips (with the reason) when
``import torch`` fails.  On a machine with torch, run e.g.::

    PYTHONPATH=. /path/to/venv-with-torch/bin/python -m pytest tests/test_torch_crosscheck.py \\
        -p no:nbval -p no:cacheprovider -c /dev/null --noconftest -s

Every test prints the largest absolute difference it found (float64; bound 1e-6).

What is checked (the rows of chapter 09's table):

* ``nn.MultiheadAttention(batch_first=True)`` with the course's W_Q, W_K, W_V packed
  (transposed, because ``nn.Linear`` stores ``weight`` as (out, in)) into ``in_proj_weight``,
  W_O transposed into ``out_proj.weight``, biases copied;
* masks converted: torch's ``attn_mask`` / ``key_padding_mask`` mean True = masked OUT,
  the course's masks mean True = may attend;
* ``need_weights=True, average_attn_weights=False`` gives the (b, h, n, n) weights;
  the default (average) gives their mean over heads;
* ``F.scaled_dot_product_attention``: boolean ``attn_mask`` True = takes part (same as the
  course), ``is_causal=True`` = the course's ``causal_mask``;
* a (b, n, n) mask per sentence goes into ``nn.MultiheadAttention`` as (b·h, n, n), sentence-major;
* a floating-point ``attn_mask`` is added to the scores;
* a fully masked row: 0 in the course and in SDPA, NaN in ``nn.MultiheadAttention`` (need_weights=True).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed here (it is not a course dependency); the cross-check needs it")
F = torch.nn.functional

import helpers as h  # noqa: E402
from helpers import multihead as mh  # noqa: E402

TOL = 1e-6


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a)).to(torch.float64)


def _report(name, diff):
    print(f"[torch cross-check] {name}: max |course - torch| = {diff:.3e}")
    assert diff <= TOL, f"{name}: {diff}"


def _torch_mha(layer: mh.MultiHeadAttention) -> "torch.nn.MultiheadAttention":
    d = layer.d_model
    m = torch.nn.MultiheadAttention(d, layer.n_heads, bias=layer.b_q is not None, batch_first=True,
                                    dtype=torch.float64)
    with torch.no_grad():
        # nn.Linear convention: y = x @ weight.T (+ bias); the course writes y = x @ W, so weight = W.T
        m.in_proj_weight.copy_(_t(np.concatenate([layer.w_q.T, layer.w_k.T, layer.w_v.T], axis=0)))
        m.out_proj.weight.copy_(_t(layer.w_o.T))
        if layer.b_q is not None:
            m.in_proj_bias.copy_(_t(np.concatenate([layer.b_q, layer.b_k, layer.b_v])))
            m.out_proj.bias.copy_(_t(layer.b_o))
    return m.eval()


def _layer(d, heads, bias, seed):
    layer = mh.MultiHeadAttention(d, heads, bias=bias, seed=seed)
    if bias:
        rng = np.random.default_rng(seed + 100)
        layer.b_q, layer.b_k, layer.b_v, layer.b_o = (rng.standard_normal(d) for _ in range(4))
    return layer


@pytest.mark.parametrize("heads", [1, 2, 4])
@pytest.mark.parametrize("bias", [False, True])
def test_multihead_matches_nn_multiheadattention(heads, bias):
    b, n, d = 3, 6, 8
    layer = _layer(d, heads, bias, seed=heads)
    x = np.random.default_rng(1).standard_normal((b, n, d))
    z, w = layer.forward(x)
    with torch.no_grad():
        zt, wt = _torch_mha(layer)(_t(x), _t(x), _t(x), need_weights=True, average_attn_weights=False)
        _, wavg = _torch_mha(layer)(_t(x), _t(x), _t(x), need_weights=True)
    assert tuple(wt.shape) == w.shape == (b, heads, n, n)
    diff = max(np.abs(z - zt.numpy()).max(), np.abs(w - wt.numpy()).max(),
               np.abs(w.mean(axis=1) - wavg.numpy()).max())
    _report(f"nn.MultiheadAttention h={heads} bias={bias}", diff)


def test_masks_converted_causal_and_key_padding():
    b, n, d, heads = 3, 5, 12, 3
    layer = _layer(d, heads, True, seed=7)
    x = np.random.default_rng(2).standard_normal((b, n, d))
    lengths = [5, 3, 2]
    keep_pad = h.padding_mask(lengths, n)                  # (b, 1, n), True = real token
    keep = keep_pad & h.causal_mask(n)                     # (b, n, n)
    z, w = layer.forward(x, mask=keep)
    with torch.no_grad():
        zt, wt = _torch_mha(layer)(
            _t(x), _t(x), _t(x),
            attn_mask=torch.from_numpy(mh.to_torch_mask(h.causal_mask(n))),            # True = masked out
            key_padding_mask=torch.from_numpy(mh.to_torch_mask(keep_pad[:, 0, :])),     # (b, n), True = pad
            need_weights=True, average_attn_weights=False)
    diff = max(np.abs(z - zt.numpy()).max(), np.abs(w - wt.numpy()).max())
    _report("nn.MultiheadAttention causal + key_padding_mask", diff)


def test_sdpa_bool_mask_is_a_keep_mask():
    rng = np.random.default_rng(3)
    b, heads, n, dh = 2, 4, 6, 5
    q, k, v = (rng.standard_normal((b, heads, n, dh)) for _ in range(3))
    keep = h.padding_mask([6, 4], n)[:, None] & h.causal_mask(n)     # (b, 1, n, n)
    z, w = h.scaled_dot_product_attention(q, k, v, mask=keep)
    zt = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), attn_mask=torch.from_numpy(keep))
    _report("F.scaled_dot_product_attention(attn_mask=keep)", np.abs(z - zt.numpy()).max())
    zc = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), is_causal=True)
    zc_course, _ = h.scaled_dot_product_attention(q, k, v, mask=h.causal_mask(n))
    _report("F.scaled_dot_product_attention(is_causal=True)", np.abs(zc_course - zc.numpy()).max())


def test_sdpa_after_course_split_heads_equals_course_layer():
    """The whole layer written with torch ops on the course's weights (the chapter's code-as-text)."""
    b, n, d, heads = 2, 7, 16, 4
    layer = _layer(d, heads, False, seed=11)
    x = np.random.default_rng(4).standard_normal((b, n, d))
    z, _ = layer.forward(x, mask=h.causal_mask(n))
    xt = _t(x)
    q, k, v = (xt @ _t(w) for w in (layer.w_q, layer.w_k, layer.w_v))
    split = [t.view(b, n, heads, d // heads).transpose(1, 2) for t in (q, k, v)]   # (b, h, n, d_head)
    out = F.scaled_dot_product_attention(*split, is_causal=True)
    zt = out.transpose(1, 2).reshape(b, n, d) @ _t(layer.w_o)
    _report("split → SDPA → merge → W_O with torch ops", np.abs(z - zt.numpy()).max())


def test_fully_masked_row_conventions_differ():
    """The bridge table's last row: a query with no allowed key gives zeros in the course and in
    F.scaled_dot_product_attention, NaN in nn.MultiheadAttention with the default need_weights=True
    (need_weights=False may take another implementation path, so the table says not to rely on it)."""
    n, d = 3, 4
    layer = _layer(d, 2, False, seed=13)
    x = np.random.default_rng(5).standard_normal((1, n, d))
    keep = np.ones((n, n), bool)
    keep[0] = False
    z, w = layer.forward(x, mask=keep)
    assert np.all(w[0, :, 0] == 0) and np.isfinite(z).all()
    with torch.no_grad():
        zt, _ = _torch_mha(layer)(_t(x), _t(x), _t(x), attn_mask=torch.from_numpy(mh.to_torch_mask(keep)))
    assert torch.isnan(zt[0, 0]).all()
    _report("rows with at least one allowed key", np.abs(z[0, 1:] - zt.numpy()[0, 1:]).max())
    q, k, v = (np.random.default_rng(6 + i).standard_normal((1, 2, n, 3)) for i in range(3))
    zc, _ = h.scaled_dot_product_attention(q, k, v, mask=keep)
    zs = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), attn_mask=torch.from_numpy(keep)).numpy()
    assert np.all(zs[..., 0, :] == 0) and np.all(zc[..., 0, :] == 0), zs[..., 0, :]
    _report("F.scaled_dot_product_attention, a fully masked row included (0 in both)", np.abs(zc - zs).max())


def test_3d_attn_mask_is_sentence_major():
    """The bridge table's (b, n, n) row and exercise 3: nn.MultiheadAttention rejects a (b, n, n) attn_mask;
    it wants (b·h, n, n) with sentence i's heads at rows i·h … (i+1)·h−1 (np.repeat, not np.tile)."""
    from helpers import solutions

    b, n, d, heads = 3, 5, 8, 2
    layer = _layer(d, heads, True, seed=17)
    x = np.random.default_rng(7).standard_normal((b, n, d))
    keep = h.padding_mask([5, 3, 2], n) & h.causal_mask(n)            # (b, n, n): every sentence its own mask
    z, w = layer.forward(x, mask=keep)
    m = _torch_mha(layer)
    with torch.no_grad():
        with pytest.raises(RuntimeError, match=r"3D attn_mask"):
            m(_t(x), _t(x), _t(x), attn_mask=torch.from_numpy(~keep))
        zt, wt = m(_t(x), _t(x), _t(x), attn_mask=torch.from_numpy(solutions.torch_mask(keep, heads)),
                   need_weights=True, average_attn_weights=False)
        z_tile, _ = m(_t(x), _t(x), _t(x), attn_mask=torch.from_numpy(np.tile(~keep, (heads, 1, 1))))
    assert np.array_equal(solutions.torch_mask(keep, heads), np.repeat(~keep, heads, axis=0))
    assert np.abs(z - z_tile.numpy()).max() > 1e-3, "np.tile's order should NOT match"
    _report("nn.MultiheadAttention 3-D attn_mask np.repeat(~keep, h, axis=0)",
            max(np.abs(z - zt.numpy()).max(), np.abs(w - wt.numpy()).max()))


def test_float_attn_mask_is_added_to_the_scores():
    """The bridge table's float-mask row: a floating-point attn_mask is ADDED to the scores (0 / −inf),
    in both APIs; for SDPA it means the opposite of a boolean mask's True."""
    rng = np.random.default_rng(8)
    b, heads, n, dh = 2, 2, 4, 3
    q, k, v = (rng.standard_normal((b, heads, n, dh)) for _ in range(3))
    keep = h.causal_mask(n)
    additive = np.where(keep, 0.0, -np.inf)
    z, _ = h.scaled_dot_product_attention(q, k, v, mask=keep)
    zs = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), attn_mask=_t(additive)).numpy()
    bias = rng.standard_normal((n, n))                                  # any float mask is a score bias
    zb = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), attn_mask=_t(bias)).numpy()
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(dh) + bias
    zb_ref = h.softmax(s) @ v
    layer = _layer(8, 2, False, seed=19)
    x = rng.standard_normal((b, n, 8))
    zl, _ = layer.forward(x, mask=keep)
    with torch.no_grad():
        zm, _ = _torch_mha(layer)(_t(x), _t(x), _t(x), attn_mask=_t(additive))
    _report("float attn_mask (0 / -inf, and an arbitrary bias) is added to the scores",
            max(np.abs(z - zs).max(), np.abs(zb - zb_ref).max(), np.abs(zl - zm.numpy()).max()))


def test_chapter_code_shown_as_text_runs_and_agrees():
    """Chapter 09 shows PyTorch code as text (torch is not a course dependency): run that exact text."""
    import json
    import re
    from pathlib import Path

    nb_path = Path(__file__).resolve().parent.parent / "notebooks" / "09_multi_head_attention.ipynb"
    cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
    texts = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    blocks = [b for t in texts for b in re.findall(r"```python\n(.*?)```", t, flags=re.S) if "import torch" in b]
    assert len(blocks) == 1, f"expected one PyTorch code block in the chapter, found {len(blocks)}"
    layer = mh.MultiHeadAttention(d_model=16, n_heads=4, seed=0)
    rng = np.random.default_rng(1)
    X_batch = np.stack([h.token_inputs(h.SENTENCE_CAT_SHORT, 16),
                        np.concatenate([h.token_inputs(h.SENTENCE_APPLE, 16), rng.normal(scale=5.0, size=(2, 16))])])
    ns = {"np": np, "h": h, "W_Q": layer.w_q, "W_K": layer.w_k, "W_V": layer.w_v, "W_O": layer.w_o,
          "n_heads": 4, "d_head": 4, "X_batch": X_batch, "lengths": [6, 4]}
    exec(blocks[0], ns)
    z_course, a_course = layer.forward(X_batch, mask=h.padding_mask([6, 4], 6) & h.causal_mask(6))
    diff = max(np.abs(ns["Z"].detach().numpy() - z_course).max(), np.abs(ns["alpha"].detach().numpy() - a_course).max(),
               np.abs(ns["Z2"].numpy() - z_course).max())
    print(f"[torch cross-check] chapter 09 code-as-text (float32): max |course - torch| = {diff:.3e}")
    assert diff <= 1e-5, diff
