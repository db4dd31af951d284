"""Shared NumPy helpers for the self-attention course (自注意力机制).

``import helpers`` gives the maths and the toy inputs (NumPy only, fast to
import).  Figures and live panels live in submodules that pull in matplotlib /
ipywidgets only when used::

    from helpers import plots, widgets

Modules
-------
attention : softmax, the four steps, scaled dot-product attention, masks,
            self-/cross-/multi-head attention, input validation
tokens    : toy tokenizer, deterministic embeddings, positional encoding,
            weight initialisation, the source chapter's worked example
fonts     : makes a CJK font available to matplotlib
plots     : static matplotlib figures
widgets   : live slider panels
"""

from .attention import *  # noqa: F401,F403
from .attention import __all__ as _attention_all
from .tokens import *  # noqa: F401,F403
from .tokens import __all__ as _tokens_all

__all__ = list(_attention_all) + list(_tokens_all)
__version__ = "0.1.0"
