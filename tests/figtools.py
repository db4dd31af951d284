"""Helpers for the figure tests (imported by test modules; pytest puts tests/ on sys.path)."""

import io

from matplotlib.figure import Figure


def render_png(fig: Figure, dpi: int = 40) -> bytes:
    """Draw ``fig`` to PNG bytes.

    Drawing is where missing-glyph warnings fire; pytest.ini turns warnings into errors.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
