"""Live slider panels (ipywidgets 8) and their static counterparts.

Every panel ``X_panel(...)`` returns a displayable :class:`ipywidgets.VBox`
subclass; its static default-state twin ``X_figure(...)`` returns a matplotlib
Figure (see :mod:`helpers.plots`).  In a notebook::

    fig = widgets.dk_figure()      # static picture, readable on GitHub
    widgets.dk_panel()             # next cell, tagged nbval-ignore-output

How the live view is drawn
--------------------------
Redrawing a matplotlib figure per slider step costs 150–250 ms (64 text
annotations alone take ~60 ms in Agg).  The panels therefore build their
picture as an HTML table / inline SVG string in Python and put it into an
:class:`ipywidgets.HTML` widget: one string assignment per change, no figure,
no flicker, Chinese labels from the browser's fonts.  Colours come from the
same matplotlib colour maps as the static figures (``plots.WEIGHTS_CMAP`` for
weights on a fixed 0–1 range, ``plots.DIVERGING_CMAP`` for signed values),
rows = queries and columns = keys in both.

Attributes every panel has
--------------------------
``view``      ipywidgets.HTML — the live picture (its ``.value`` is replaced on each change)
``readout``   ipywidgets.HTML — the current numbers in words
``values``    dict — the numbers currently shown (NumPy arrays / floats), for tests
``refresh()`` recompute and redraw from the current control values

Panel-specific controls
-----------------------
qkv_shapes_panel    ``slider_d_model``, ``slider_d_k``
angle_panel         ``slider_angle`` (degrees), ``slider_len_q``, ``slider_len_k``
dk_panel            ``slider_dk`` (SelectionSlider 1 … 512)
temperature_panel   ``slider_t`` (FloatLogSlider)
vector_panel        ``sliders_q`` (3 FloatSliders for q1), ``key_select`` (Dropdown k1/k2/k3),
                    ``sliders_k`` (3 FloatSliders for the selected key), ``reset_button``
sentence_explorer   ``text_input`` (Combobox: type or pick an example), ``causal_toggle`` (Checkbox),
                    ``slider_query`` (SelectionSlider: query row to highlight, value = row index, -1 = none)
multihead_panel     ``slider_query`` (SelectionSlider: query row, value = row index),
                    ``head_select`` (ToggleButtons: the head shown in full, value = head index)
head_view           ``layer_select``, ``head_select`` (ToggleButtons; head -1 = all heads overlaid),
                    ``slider_query`` (SelectionSlider: query whose lines are shown, -1 = all),
                    ``export_button``; ``export(path)`` writes a standalone .svg / .html
model_view          ``slider_query``; ``export(path)``

HTML builders (public, also handy elsewhere): :func:`heatmap_html`, :func:`bars_svg`,
:func:`hist_svg`.

Package layout
--------------
primitives  HTML/SVG building blocks: colour LUTs, escaping, ``FONT_STACK``, heatmap /
            bar / histogram pictures, layout helpers and the ``Panel`` base class
            (documented there; build new panels on them)
shapes      qkv_shapes_panel / qkv_shapes_figure                      (chapter 01)
geometry    angle_panel, vector_panel and their figures               (chapters 02, 05)
scaling     dk_panel, temperature_panel and their figures             (chapters 03, 04)
sentence    sentence_explorer / sentence_figure                       (chapters 00, 06–08)
multihead   multihead_panel / multihead_figure                        (chapter 09)
headview    head_view, model_view, their figures, export_head_view    (chapter 10)

Every public name is re-exported here, so ``from helpers import widgets;
widgets.dk_panel()`` works whatever module a panel lives in.
"""

from __future__ import annotations

# also re-exported (public, not in __all__, as before the split): FONT_STACK, MAX_TOKENS,
# DEFAULT_TEMPERATURE_SCORES and the panel classes (HeadViewPanel, ModelViewPanel too)
from .geometry import AnglePanel, VectorPanel, angle_figure, angle_panel, vector_figure, vector_panel  # noqa: F401
from .headview import (HeadViewPanel, ModelViewPanel, example_attention, export_head_view,  # noqa: F401
                        head_view, head_view_figure, model_view, model_view_figure)
from .multihead import MULTIHEAD_TOKENS, MultiHeadPanel, multihead_figure, multihead_panel  # noqa: F401
from .primitives import FONT_STACK, bars_svg, heatmap_html, hist_svg  # noqa: F401
from .scaling import (DEFAULT_TEMPERATURE_SCORES, DK_STEPS, DkPanel, TemperaturePanel, dk_figure, dk_panel,
                      temperature_figure, temperature_panel)  # noqa: F401
from .sentence import EXAMPLE_SENTENCES, MAX_TOKENS, SentenceExplorer, sentence_explorer, sentence_figure  # noqa: F401
from .shapes import QKVShapesPanel, qkv_shapes_figure, qkv_shapes_panel  # noqa: F401

__all__ = [
    "qkv_shapes_panel", "qkv_shapes_figure",
    "angle_panel", "angle_figure",
    "dk_panel", "dk_figure", "DK_STEPS",
    "temperature_panel", "temperature_figure",
    "vector_panel", "vector_figure",
    "sentence_explorer", "sentence_figure", "EXAMPLE_SENTENCES",
    "multihead_panel", "multihead_figure",
    "head_view", "head_view_figure", "model_view", "model_view_figure", "export_head_view", "example_attention",
    "heatmap_html", "bars_svg", "hist_svg",
]
