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


#: Caller text that matplotlib would read as mathtext: "$x$" lost its dollar signs, "$\frac$" failed at draw time.
DOLLAR_LABELS = ("$x$", r"$\frac$")


def drawn_texts(fig: Figure) -> list[str]:
    """Draw ``fig`` and return every text in it as matplotlib draws it (``\\$`` shown as ``$``);
    fail if any text is parsed as mathtext."""
    from matplotlib.text import Text

    render_png(fig)
    out = []
    for t in fig.findobj(Text):
        shown, is_math = t._preprocess_math(t.get_text())
        assert is_math is False, f"{t.get_text()!r} is drawn as mathtext"
        out.append(shown)
    return out


def assert_drawn_literally(fig: Figure, labels=DOLLAR_LABELS) -> None:
    """``fig`` draws, and each of ``labels`` appears in its drawn text with the dollar signs."""
    texts = drawn_texts(fig)
    missing = [lab for lab in labels if not any(lab in s for s in texts)]
    assert not missing, f"{missing} not drawn literally; drawn texts: {texts}"
