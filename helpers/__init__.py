"""Shared NumPy helpers for the self-attention course (自注意力机制).

``import helpers`` gives the maths and the toy inputs (NumPy only, fast to
import).  Figures and live panels live in submodules that pull in matplotlib /
ipywidgets only when used::

    from helpers import plots, widgets

Modules
-------
attention     : softmax, the four steps, scaled dot-product attention, masks,
                self-/cross-/multi-head attention, input validation      (NumPy)
tokens        : toy tokenizer, deterministic embeddings, positional encoding,
                weight initialisation, the source chapter's worked example (NumPy)
analysis      : entropy, softmax Jacobian, dot-product statistics        (NumPy)
handmade      : hand-constructed W_Q / W_K that make 它 attend to 小猫    (NumPy)
training      : one attention layer trained by gradient descent with
                hand-derived gradients (chapter 08)                      (NumPy)
efficiency    : path lengths, loop vs matrix timing, O(n²) memory (chapter 08)
multihead     : MultiHeadAttention layer (W_Q, W_K, W_V, W_O), per-head loop
                reference, parameter/cost count, mask conversion to PyTorch (09)
induction     : chapter 10's 2-layer attention-only Transformer: data, forward,
                hand-written backward, Adam, head scores, ablation, shipped
                weights (induction_weights.npz)                          (NumPy)
induction_plots : chapter 10's static figures
checks        : exercise checkers with named-mistake diagnosis; solutions
fonts         : makes a CJK font available to matplotlib
plots         : static matplotlib figures (heatmaps, bars, step strip, grids)
chapter_plots : figures specific to chapters 01-04
walkthrough   : weighted-sum picture and the traced sequence diagram (05, 06)
widgets       : live slider panels and their static ``*_figure`` twins (a package:
                primitives = HTML/SVG building blocks, one module per panel family)
"""

from .attention import *  # noqa: F401,F403
from .attention import __all__ as _attention_all
from .tokens import *  # noqa: F401,F403
from .tokens import __all__ as _tokens_all

__all__ = list(_attention_all) + list(_tokens_all)
__version__ = "0.1.0"
