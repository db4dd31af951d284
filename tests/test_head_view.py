"""Tests for the head view / model view (helpers.widgets.headview): shapes, escaping, opacity = α,
selection, standalone export, bad input."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import matplotlib

matplotlib.use("Agg")

import ipywidgets as W  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from figtools import render_png  # noqa: E402

from helpers import plots, widgets  # noqa: E402
from helpers.widgets import headview as hv  # noqa: E402

SVG_NS = "{http://www.w3.org/2000/svg}"
LINE = re.compile(r'<line x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)" y2="[\d.]+" stroke-opacity="([\d.]+)"/>')


@pytest.fixture(scope="module")
def example():
    return widgets.example_attention()


def _causal_weights(n_layers, n_heads, n, seed=0):
    """Independent reference: causal softmax written with loops."""
    rng = np.random.default_rng(seed)
    A = np.zeros((n_layers, n_heads, n, n))
    for l in range(n_layers):
        for h in range(n_heads):
            for i in range(n):
                s = rng.normal(size=i + 1) * 2
                e = np.exp(s - s.max())
                A[l, h, i, :i + 1] = e / e.sum()
    return A


SEG = re.compile(r"M([\d.]+) [\d.]+L([\d.]+) [\d.]+")
PATH = re.compile(r'<path d="([^"]*)" stroke-opacity="([\d.]+)"/>')


def _lines(svg):
    """(x1, x2, opacity) of every line the head view drew (<line> or a segment of a <path>), by head colour."""
    out = {}
    for g in re.finditer(r'<g stroke="(#[0-9a-f]{6})"[^>]*>(.*?)</g>', svg):
        segs = [(float(a), float(b), float(o)) for a, b, o in LINE.findall(g.group(2))]
        for d, o in PATH.findall(g.group(2)):
            segs += [(float(a), float(b), float(o)) for a, b in SEG.findall(d)]
        out[g.group(1)] = segs
    return out


# ---------------------------------------------------------------------------
# the example weights
# ---------------------------------------------------------------------------

def test_example_attention_is_causal_softmax(example):
    tokens, A = example
    assert len(tokens) == 32 and A.shape == (2, 4, 32, 32)
    assert np.allclose(A.sum(-1), 1) and np.all(A >= 0)
    assert np.all(np.triu(A, 1) == 0), "keys after the query must get weight 0"
    assert tokens[:16] == tokens[16:]
    # layer 1 head 1 looks at the previous token, layer 2 head 1 at the token after the earlier copy
    assert np.mean(np.argmax(A[0, 0, 1:], axis=-1) == np.arange(31)) > 0.8
    assert np.mean(np.argmax(A[1, 0, 16:], axis=-1) == np.arange(16) + 1) > 0.8
    t2, A2 = widgets.example_attention()
    assert t2 == tokens and np.array_equal(A2, A)
    with pytest.raises(ValueError, match="n must be"):
        widgets.example_attention(n=1)


# ---------------------------------------------------------------------------
# the panels
# ---------------------------------------------------------------------------

def test_head_view_panel_creation(example, capsys):
    tokens, A = example
    p = widgets.head_view(tokens, A)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    assert isinstance(p, W.VBox) and isinstance(p.view, W.HTML) and p.view.value.startswith("<svg")
    for attr in ("layer_select", "head_select", "slider_query", "export_button"):
        assert hasattr(p, attr) and attr in widgets.__doc__
    assert p.values["layer"] == 0 and p.values["head"] is None and p.values["query"] is None
    assert p.values["weights"].shape == (4, 32, 32)
    assert [o[1] for o in p.layer_select.options] == [0, 1]
    assert [o[1] for o in p.head_select.options] == [-1, 0, 1, 2, 3]
    assert [o[1] for o in p.slider_query.options] == [-1, *range(32)]
    # every token twice (query row and key row) as drawn text
    texts = re.findall(r'font-size="16"[^>]*>([^<]*)<title>', p.view.value)
    assert texts == tokens + tokens or sorted(texts) == sorted(tokens + tokens)
    # one colour group per head
    assert len(_lines(p.view.value)) == 4


def test_opacity_is_the_weight(example):
    tokens, A = example
    p = widgets.head_view(tokens, A, layer=1, head=2, query=20)
    groups = _lines(p.view.value)
    assert list(groups) == [hv.head_color(2)]
    lines = groups[hv.head_color(2)]
    row = A[1, 2, 20]
    drawn = np.flatnonzero(row >= hv.MIN_ALPHA)
    assert len(lines) == len(drawn) > 0
    # every line starts at the query's x and its opacity is α to 3 decimals
    xs = sorted(set(x1 for x1, _, _ in lines))
    assert len(xs) == 1
    key_x = sorted(x2 for _, x2, _ in lines)
    for (x2, op), j in zip(sorted((x2, op) for _, x2, op in lines), drawn):
        assert op == pytest.approx(row[j], abs=5e-4)
    assert key_x == sorted(key_x)
    # lines under MIN_ALPHA are left out, none above is
    assert all(op >= hv.MIN_ALPHA - 5e-4 for _, _, op in lines)
    # the readout names the top key with its weight
    j = int(np.argmax(row))
    assert f"「{tokens[j]}」{row[j]:.2f}" in p.readout.value


def test_all_queries_draw_every_line_above_threshold():
    A = _causal_weights(1, 2, 5)
    p = widgets.head_view(list("今天天气好"), A)
    groups = _lines(p.view.value)
    xs = sorted(set(x1 for segs in groups.values() for x1, _, _ in segs))
    for h in range(2):
        segs = groups[hv.head_color(h)]
        # every query's lines at once: opacity = α to 0.01 (one <path> per opacity step), endpoints i → j
        x_of = {x: i for i, x in enumerate(sorted(set(x for x1, x2, _ in segs for x in (x1, x2))))}
        got = sorted((x_of[x1], x_of[x2], op) for x1, x2, op in segs)
        ref = [(i, j, A[0, h, i, j]) for i in range(5) for j in range(5) if A[0, h, i, j] >= hv.MIN_ALPHA]
        assert [g[:2] for g in got] == [r[:2] for r in ref]
        assert [g[2] for g in got] == pytest.approx([r[2] for r in ref], abs=0.005 + 1e-12)
    assert len(xs) == 10  # two heads, offset a little: 5 tokens × 2


def test_selection_changes_view_and_values(example):
    tokens, A = example
    p = widgets.head_view(tokens, A)
    seen = {p.view.value}
    for control, value in ((p.layer_select, 1), (p.head_select, 0), (p.slider_query, 20), (p.slider_query, 21),
                           (p.head_select, -1), (p.layer_select, 0), (p.slider_query, -1)):
        before_view, before_read = p.view.value, p.readout.value
        control.value = value
        assert p.view.value != before_view, (control.description, value)
        assert p.readout.value != before_read or control is p.slider_query, (control.description, value)
        seen.add(p.view.value)
    assert len(seen) == 7
    p.layer_select.value, p.head_select.value, p.slider_query.value = 1, 0, 20
    assert p.values["layer"] == 1 and p.values["head"] == 0 and p.values["query"] == 20
    assert np.array_equal(p.values["query_weights"], A[1, [0], 20])
    assert "第 2 层 · 头 1 · 查询「我」" in p.view.value
    # the selected query is highlighted, the others greyed
    assert plots.HIGHLIGHT_COLOR in p.view.value


def test_model_view(example):
    tokens, A = example
    m = widgets.model_view(tokens, A)
    assert m.view.value.count("<g transform=") == 8
    for l in (1, 2):
        for h in (1, 2, 3, 4):
            assert f"第{l}层·头{h}" in m.view.value
    before = m.view.value, m.readout.value
    m.slider_query.value = 20
    assert (m.view.value, m.readout.value) != before
    assert m.values["query_weights"].shape == (2, 4, 32)
    assert "「他」0.8" in m.readout.value  # layer 2 head 1 (induction-like) looks at 他
    # thumbnails: opacities are α rounded to 1/50
    ops = [float(o) for o in re.findall(r'stroke-opacity="([\d.]+)"', m.view.value)]
    assert ops and all(abs(o * 50 - round(o * 50)) < 1e-9 for o in ops)
    with pytest.raises(ValueError, match="query"):
        widgets.model_view(tokens, A, query=32)


def test_tokens_are_escaped(tmp_path):
    toks = ["<b>", "&amp;", '"q"', "'", "</svg><script>x</script>", " "]
    A = _causal_weights(1, 2, len(toks))
    p = widgets.head_view(toks, A, query=4)
    for html_text in (p.view.value, p.readout.value, widgets.model_view(toks, A, query=4).readout.value):
        assert "<b>" not in html_text and "<script>" not in html_text and "</svg><" not in html_text
        assert "&amp;amp;" in html_text or "&lt;" in html_text
    assert "&lt;b&gt;" in p.view.value and "&quot;q&quot;" in p.view.value and "␣" in p.view.value
    # the SVG is well-formed XML whatever the tokens are
    root = ET.fromstring(p.view.value)
    assert root.tag == SVG_NS + "svg"
    p.head_select.value = 1
    ET.fromstring(p.view.value)


def test_figures(example):
    tokens, A = example
    for fig in (widgets.head_view_figure(tokens, A), widgets.head_view_figure(tokens, A, layer=1, head=0, query=20),
                widgets.head_view_figure(tokens, A, layer=1, query=20),
                widgets.head_view_figure(list("今天天气好"), _causal_weights(1, 1, 5), head=0, query=3),
                widgets.model_view_figure(tokens, A), widgets.model_view_figure(tokens, A, query=5)):
        assert isinstance(fig, Figure)
        assert render_png(fig)
        sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
        assert min(sizes) >= plots.MIN_FONT_PT
        assert fig.get_size_inches()[0] <= 10.0
        matplotlib.pyplot.close(fig)
    # the static twin draws the same lines: one LineCollection per head, alpha = α
    fig = widgets.head_view_figure(tokens, A, layer=1, head=0, query=20)
    (lc,) = fig.axes[0].collections
    alphas = sorted(lc.get_colors()[:, 3])
    assert alphas == pytest.approx(sorted(v for v in A[1, 0, 20] if v >= hv.MIN_ALPHA))


# ---------------------------------------------------------------------------
# standalone export
# ---------------------------------------------------------------------------

def _standalone_ok(text):
    low = text.lower()
    assert "<script" not in low and "src=" not in low and "href=" not in low and "@import" not in low
    assert re.findall(r"https?://[^\"' ]+", text) == ["http://www.w3.org/2000/svg"] * text.count("http")


def test_export_svg_and_html(example, tmp_path):
    tokens, A = example
    f = widgets.export_head_view(tmp_path / "hv.svg", tokens, A, layer=1, head=0, query=20)
    text = f.read_text(encoding="utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text.split("\n", 1)[1])
    assert root.tag == SVG_NS + "svg"
    assert len(root.findall(f".//{SVG_NS}line")) == int((A[1, 0, 20] >= hv.MIN_ALPHA).sum())
    _standalone_ok(text)
    g = widgets.export_head_view(str(tmp_path / "hv.html"), tokens, A, layer=1)
    html_text = g.read_text(encoding="utf-8")
    assert html_text.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html_text
    assert "<svg" in html_text and html_text.rstrip().endswith("</html>")
    _standalone_ok(html_text)
    with pytest.raises(ValueError, match=r"\.svg or \.html"):
        widgets.export_head_view(tmp_path / "hv.png", tokens, A)
    with pytest.raises(TypeError, match="path"):
        widgets.export_head_view(3, tokens, A)


def test_panel_export_writes_the_current_view(example, tmp_path, monkeypatch):
    tokens, A = example
    p = widgets.head_view(tokens, A)
    p.layer_select.value, p.head_select.value, p.slider_query.value = 1, 2, 7
    f = p.export(tmp_path / "now.svg")
    assert f.read_text(encoding="utf-8").split("\n", 1)[1].strip() == p.view.value
    assert widgets.export_head_view(tmp_path / "same.svg", tokens, A, layer=1, head=2, query=7).read_text(
        encoding="utf-8") == f.read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    p.export_button.click()
    assert (tmp_path / "head_view_L2_H3_q8.svg").exists()
    assert "已保存" in p.readout.value
    m = widgets.model_view(tokens, A, query=3)
    h = m.export(tmp_path / "mv.html")
    _standalone_ok(h.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [widgets.head_view, widgets.head_view_figure, widgets.model_view,
                                widgets.model_view_figure])
def test_bad_weights(fn):
    toks = list("今天天气")
    good = _causal_weights(1, 2, 4)
    with pytest.raises(ValueError, match=r"4-D .*\(4, 4\).*weights\[None, None\]"):
        fn(toks, good[0, 0])
    with pytest.raises(ValueError, match=r"weights must be 4-D.*\(2, 4, 4\)"):
        fn(toks, good[0])
    with pytest.raises(ValueError, match=r"4 queries × 3 keys"):
        fn(toks, good[..., :3])
    bad = good.copy()
    bad[0, 1, 2, 0] = np.nan
    with pytest.raises(ValueError, match=r"NaN or inf \(first at index \(0, 1, 2, 0\)"):
        fn(toks, bad)
    bad = good.copy()
    bad[0, 0, 1, :2] = [1.5, -0.5]
    with pytest.raises(ValueError, match=r"\[0, 1\].*weights\[0, 0, 1, 0\] = 1.5"):
        fn(toks, bad)
    bad = good.copy()
    bad[0, 1, 3] *= 0.9
    with pytest.raises(ValueError, match=r"sum to 1.*weights\[0, 1, 3\].*sums to 0.9"):
        fn(toks, bad)
    with pytest.raises(TypeError, match="weights must hold real numbers"):
        fn(toks, good.astype(str))
    with pytest.raises(TypeError, match="weights"):
        fn(toks, [[[[0.5, "a"]]]])
    with pytest.raises(ValueError, match="empty"):
        fn([], np.zeros((1, 1, 0, 0)))


@pytest.mark.parametrize("fn", [widgets.head_view, widgets.head_view_figure, widgets.model_view,
                                widgets.model_view_figure])
def test_bad_tokens(fn):
    A = _causal_weights(1, 1, 4)
    with pytest.raises(TypeError, match=r"not one string.*list\(text\)"):
        fn("今天天气", A)
    with pytest.raises(TypeError, match=r"tokens\[2\] must be a str"):
        fn(["今", "天", 3, "气"], A)
    with pytest.raises(ValueError, match=r"tokens has 3 entries but weights has n = 4"):
        fn(list("今天天"), A)
    with pytest.raises(TypeError, match="tokens must be a list of str"):
        fn(None, A)


def test_bad_indices(example):
    tokens, A = example
    for kw, exc, msg in ((dict(layer=2), ValueError, r"layer must be a layer index 0…1"),
                         (dict(layer=True), TypeError, "layer must be an int"),
                         (dict(layer=None), TypeError, "layer must be an int"),
                         (dict(head=4), ValueError, r"head must be a head index 0…3"),
                         (dict(head=1.0), TypeError, "head must be an int or None"),
                         (dict(query=32), ValueError, r"query must be a token index 0…31"),
                         (dict(query="我"), TypeError, "query must be an int")):
        for fn in (widgets.head_view, widgets.head_view_figure):
            with pytest.raises(exc, match=msg):
                fn(tokens, A, **kw)
    p = widgets.head_view(tokens, A, layer=-1, head=np.int64(3), query=-1)
    assert p.values["layer"] == 1 and p.values["head"] == 3 and p.values["query"] == 31


def test_no_shared_memory_and_float32(example):
    tokens, A = example
    A32 = A.astype(np.float32)
    A32 /= A32.sum(-1, keepdims=True)
    p = widgets.head_view(list(tokens), A32, head=0, query=5)
    view = p.view.value
    A32[:] = 0
    tokens_copy = list(tokens)
    p.refresh()
    assert p.view.value == view and not np.shares_memory(p.weights, A32)
    assert tokens == tokens_copy
    p.values["weights"][:] = 0
    p.refresh()
    assert p.view.value == view


def test_text_that_cannot_be_written_is_refused(tmp_path):
    tokens, A = widgets.example_attention(n=4)
    # a lone surrogate cannot be encoded as UTF-8: refused up front, not a UnicodeEncodeError while writing
    with pytest.raises(ValueError, match=r"tokens\[0\] contains a character that is not valid text"):
        widgets.export_head_view(tmp_path / "v.svg", ["\ud800"] + tokens[1:], A)
    with pytest.raises(ValueError, match=r"path contains a character that is not valid text"):
        widgets.export_head_view(str(tmp_path / "\ud800.svg"), tokens, A)
    with pytest.raises(TypeError, match="tokens must be a list of str, got dict"):  # not its keys
        widgets.head_view(dict.fromkeys("今天天气"), A)


def test_control_characters_in_tokens_are_drawn_visibly_and_the_files_stay_well_formed(tmp_path):
    # XML forbids most control characters even escaped: a token "\x00" or "\x1b[31m" (ANSI colour) made an
    # exported .svg "not well-formed"; they are written as the text \x00, \x1b everywhere (page, file, figure)
    import warnings

    toks = ["a", "\x00", "\x1b[31m", "b\x7f"]
    A = _causal_weights(1, 2, len(toks))
    for query in (None, 2):
        f = widgets.export_head_view(tmp_path / "v.svg", toks, A, head=0, query=query)
        root = ET.parse(f).getroot()                              # well-formed
        texts = "".join(root.itertext())
        assert "\\x00" in texts and "\\x1b[31m" in texts and "b\\x7f" in texts
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", f.read_text(encoding="utf-8"))
    p = widgets.head_view(toks, A, query=2)
    ET.fromstring(p.view.value)
    html_file = p.export(tmp_path / "v.html")
    assert "\\x1b[31m" in html_file.read_text(encoding="utf-8")
    m = widgets.model_view(toks, A, query=1)
    ET.fromstring(m.view.value)
    assert "\\x00" in m.readout.value or "\\x1b" in m.readout.value
    with warnings.catch_warnings():
        warnings.simplefilter("error")                            # no "Glyph 0 missing from font"
        for fig in (widgets.head_view_figure(toks, A, head=0, query=2), widgets.model_view_figure(toks, A, query=1)):
            render_png(fig)
    assert toks == ["a", "\x00", "\x1b[31m", "b\x7f"]             # the caller's tokens are not changed


def test_export_to_a_missing_folder_names_path(tmp_path):
    tokens, A = widgets.example_attention(n=4)
    missing = tmp_path / "no_such_folder" / "v.svg"
    with pytest.raises(ValueError, match=r"path=.*no_such_folder.*the folder .* does not exist"):
        widgets.export_head_view(missing, tokens, A)
    with pytest.raises(ValueError, match=r"path=.*no_such_folder.*does not exist"):
        widgets.head_view(tokens, A).export(str(missing.with_suffix(".html")))
    with pytest.raises(ValueError, match=r"path=.*no_such_folder.*does not exist"):
        widgets.model_view(tokens, A).export(missing)
    (tmp_path / "a_folder.svg").mkdir()
    with pytest.raises(ValueError, match=r"path=.*a_folder\.svg' is a folder"):
        widgets.export_head_view(tmp_path / "a_folder.svg", tokens, A)
    assert not missing.parent.exists()                            # nothing was created


def test_figures_draw_dollar_signs_in_tokens_literally():
    """Finding 32 (issue 14): matplotlib reads "$…$" as mathtext; a token "$\\frac$" failed only when the
    figure was drawn and "$x$" lost its dollars.  The head-view and temperature figures draw tokens literally."""
    import io
    import re

    import matplotlib.text

    from helpers import widgets as w
    toks = ["$x$", r"$\frac$", "a$5", "b"]
    A = np.tril(np.ones((4, 4)))
    A = np.broadcast_to(A / A.sum(-1, keepdims=True), (1, 2, 4, 4)).copy()
    for fig in (w.head_view_figure(toks, A, query=1), w.model_view_figure(toks, A, query=1),
                w.temperature_figure(scores=[1.0, 2.0, 0.5, 0.1], labels=toks)):
        fig.savefig(io.BytesIO())
        texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
        assert not [s for s in texts if re.search(r"(?<!\\)\$", s)], texts
        assert any(r"\$\frac\$" in s for s in texts)
