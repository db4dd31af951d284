"""Tests for helpers.fonts: Chinese labels render with a real CJK font, silently."""

from __future__ import annotations

import io
import json
import logging
import re
import tokenize as pytokenize
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.figure import Figure

import helpers as h
from helpers import fonts

ROOT = Path(__file__).resolve().parents[1]
CAT_TEXT = "那个小猫，它昨天在公园里追逐一只蝴蝶，玩得不亦乐乎，结果把晚餐都忘了，现在它饿坏了。"
# words every chapter uses in figure titles, axis labels and legends
COURSE_WORDS = (
    "自注意力机制 缩放点积注意力 查询 键 值 权重 输出 分数 缩放后 掩码 因果 交叉注意力 多头 位置编码 词嵌入 "
    "温度 维度 向量 矩阵 点积 余弦 角度 长度 梯度 训练 损失 步骤 第章 导读 小结 练习 "
    "打分：点积衡量相关性 缩放：为什么要除以 Softmax：把分数变成权重 加权求和：得到输出 "
    "完整的自注意力：一句话里的每个词 掩码、自注意力与交叉注意力 为什么是自注意力 从词到 Q、K、V"
)
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture(autouse=True)
def _restore_rcparams():
    """setup_cjk_font changes global rcParams: leave them as we found them."""
    saved = matplotlib.rcParams.copy()
    try:
        yield
    finally:
        matplotlib.rcParams.update(saved)
        fonts.setup_cjk_font()  # back to the default choice for whoever runs next


def _cmap(path) -> set[int]:
    path = str(path)
    font = TTFont(path, fontNumber=0) if path.lower().endswith(".ttc") else TTFont(path)
    try:
        return set(font.getBestCmap())
    finally:
        font.close()


@pytest.fixture(scope="module")
def bundled_cmap() -> set[int]:
    return _cmap(fonts.BUNDLED_FONT)


def _chinese_figure(tmp_path, name="fig.png", bold=False) -> Path:
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    weights = np.array([[0.5, -0.25, 0.25], [0.1, 0.2, 0.7]])
    im = ax.imshow(weights)
    ax.set_xticks(range(3), ["我", "喜欢", "苹果"])
    ax.set_yticks(range(2), ["小猫", "它"])
    ax.set_xlabel("键 (key)")
    ax.set_ylabel("查询 (query)")
    ax.set_title("注意力权重 α：它 饿坏了", fontweight="bold" if bold else "normal")
    # mathtext has no per-glyph fallback: keep Chinese out of strings that contain $...$
    ax.text(0, 0, "缩放", fontsize=8)
    ax.text(0.5, 0, "$1/\\sqrt{d_k}$", fontsize=8)
    ax.text(0, 1, "Q·Kᵀ ÷ √d_k → α ≈ 0.33 × V", fontsize=8)
    ax.plot([0, 1], [0, 1], label="那个小猫")
    ax.legend()
    cbar = fig.colorbar(im, ax=ax)
    cbar.set_label("权重（负值 −0.25）")
    fig.suptitle("第5章 · 自注意力机制")
    out = tmp_path / name
    fig.savefig(out, format="png", dpi=50)
    return out


def _assert_silent(record, caplog):
    messages = [str(w.message) for w in record]
    assert not messages, messages
    bad = [f"{r.name}: {r.getMessage()}" for r in caplog.records
           if r.name.startswith("matplotlib") and (
               r.levelno >= logging.WARNING
               or re.search(r"findfont.*(not found|failed)|glyph|missing|substitut", r.getMessage(), re.I))]
    assert not bad, bad


# ---------------------------------------------------------------------------
# the bundled font file
# ---------------------------------------------------------------------------

def test_bundled_font_and_licence_ship_with_the_project():
    assert fonts.BUNDLED_FONT == ROOT / "helpers" / "fonts" / "NotoSansSC-Regular-subset.otf"
    assert fonts.BUNDLED_FONT.is_file()
    licence = fonts.BUNDLED_FONT.with_name("OFL.txt")
    assert licence.is_file() and "SIL Open Font License" in licence.read_text(encoding="utf-8")


def test_bundled_font_covers_the_seed_sentences(bundled_cmap):
    text = CAT_TEXT + "".join(h.SENTENCE_CAT + h.SENTENCE_APPLE + h.SENTENCE_CAT_SHORT) + "".join(h.VOCAB)
    missing = sorted({ch for ch in text if ord(ch) not in bundled_cmap})
    assert not missing, f"bundled font lacks {missing}"


def test_bundled_font_covers_course_vocabulary(bundled_cmap):
    missing = sorted({ch for ch in COURSE_WORDS if not ch.isspace() and ord(ch) not in bundled_cmap})
    assert not missing, f"bundled font lacks {missing}"


def _string_literals(source: str) -> str:
    """The text of every string literal in Python ``source`` (comments are skipped)."""
    try:
        toks = list(pytokenize.generate_tokens(io.StringIO(source).readline))
    except (pytokenize.TokenError, SyntaxError, IndentationError):
        return source  # not plain Python (e.g. a cell magic): check everything
    return "".join(
        t.string for t in toks
        if t.type == pytokenize.STRING or t.type in _FSTRING_TOKENS
    )


_FSTRING_TOKENS = {getattr(pytokenize, n) for n in ("FSTRING_MIDDLE", "TSTRING_MIDDLE") if hasattr(pytokenize, n)}


def _project_strings() -> dict[str, str]:
    """String literals of helpers/*.py and of notebook code cells (the text that can reach a figure)."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "helpers").glob("*.py")):
        found[str(path.relative_to(ROOT))] = _string_literals(path.read_text(encoding="utf-8"))
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        found[str(path.relative_to(ROOT))] = "".join(
            _string_literals("".join(cell.get("source", "")))
            for cell in nb.get("cells", []) if cell.get("cell_type") == "code"
        )
    return found


def _cjk_in_project_sources() -> dict[str, set[str]]:
    """CJK characters in string literals of helpers/*.py and of notebook code cells (these can reach figures)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "helpers").glob("*.py")):
        found[str(path.relative_to(ROOT))] = set(CJK.findall(_string_literals(path.read_text(encoding="utf-8"))))
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        chars: set[str] = set()
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code":
                chars |= set(CJK.findall(_string_literals("".join(cell.get("source", "")))))
        found[str(path.relative_to(ROOT))] = chars
    return found


def test_bundled_font_covers_every_chinese_character_in_helpers_and_notebook_code(bundled_cmap):
    """On a machine without a system CJK font every label is drawn with the subset: no glyph may be missing."""
    missing = {
        name: "".join(sorted(ch for ch in chars if ord(ch) not in bundled_cmap))
        for name, chars in _cjk_in_project_sources().items()
    }
    missing = {k: v for k, v in missing.items() if v}
    assert not missing, f"characters missing from {fonts.BUNDLED_FONT.name}: {missing}"


# emoji that the exercise checkers only print (never drawn in a figure)
PRINT_ONLY = set("⏳✅❌⏹")


def test_every_non_ascii_character_has_a_glyph_in_the_fallback_chain(bundled_cmap):
    """Symbols such as ᵀ √ α → ≈ must be in the CJK font or in DejaVu Sans (matplotlib's per-glyph fallback)."""
    dejavu = _cmap(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")
    missing = {}
    for name, text in _project_strings().items():
        bad = {ch for ch in text if ord(ch) > 127 and not ch.isspace() and ch not in PRINT_ONLY
               and ord(ch) not in bundled_cmap and ord(ch) not in dejavu}
        if bad:
            missing[name] = "".join(sorted(bad))
    assert not missing, f"no glyph in {fonts.BUNDLED_FONT.name} nor DejaVu Sans: {missing}"


def _literals(source: str) -> list[str]:
    try:
        return [t.string for t in pytokenize.generate_tokens(io.StringIO(source).readline)
                if t.type == pytokenize.STRING]
    except (pytokenize.TokenError, SyntaxError, IndentationError):
        return []


def test_no_string_mixes_chinese_and_mathtext():
    """Mathtext has no per-glyph fallback: "缩放 $\\sqrt{d_k}$" draws the Chinese as boxes (with a
    logged warning).  Keep Chinese and $...$ in separate strings, or write the maths as plain text."""
    math = re.compile(r"\$[^$\s][^$]*\$")
    offenders = []
    sources = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in sorted((ROOT / "helpers").glob("*.py"))]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        sources += [(str(path.relative_to(ROOT)), "".join(c.get("source", "")))
                    for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    for name, src in sources:
        offenders += [f"{name}: {lit}" for lit in _literals(src) if CJK.search(lit) and math.search(lit)]
    assert not offenders, offenders


# ---------------------------------------------------------------------------
# setup_cjk_font
# ---------------------------------------------------------------------------

def test_setup_returns_family_and_configures_rcparams():
    name = fonts.setup_cjk_font()
    assert isinstance(name, str) and name
    assert fonts.setup_cjk_font() == name  # idempotent
    # per-glyph fallback only works between families listed in font.family
    assert matplotlib.rcParams["font.family"] == ["DejaVu Sans", name]
    assert matplotlib.rcParams["font.sans-serif"][:2] == [name, "DejaVu Sans"]
    assert fonts.cjk_font_name() == name
    assert Path(fonts.cjk_font_path()).is_file()


def test_default_font_resolves_to_a_file_covering_the_sentences():
    name = fonts.setup_cjk_font()
    path = font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False)
    assert Path(path).name != "DejaVuSans.ttf"
    assert Path(path) == Path(fonts.cjk_font_path())
    cmap = _cmap(path)
    missing = sorted({ch for ch in CAT_TEXT + "".join(h.SENTENCE_APPLE) if ord(ch) not in cmap})
    assert not missing


def test_prefer_system_false_uses_the_bundled_file(bundled_cmap):
    name = fonts.setup_cjk_font(prefer_system=False)
    assert name == fonts.BUNDLED_FAMILY
    assert matplotlib.rcParams["font.sans-serif"][0] == name
    assert Path(fonts.cjk_font_path()) == fonts.BUNDLED_FONT
    assert fonts.cjk_font_name() == name
    for weight in ("normal", "bold"):
        path = font_manager.findfont(font_manager.FontProperties(family=name, weight=weight),
                                     fallback_to_default=False)
        assert Path(path) == fonts.BUNDLED_FONT, weight
    # and back: the default choice is restored by a plain call
    default = fonts.setup_cjk_font()
    assert fonts.cjk_font_name() == default
    assert matplotlib.rcParams["font.sans-serif"][0] == default


@pytest.mark.parametrize("flag", ["False", "", 0, 1, None, np.array([False])])
def test_prefer_system_must_be_a_real_bool(flag):
    """``"False"`` used to be coerced with bool() to True: the system font was chosen (and cached as True)."""
    before = (fonts.cjk_font_name(), list(matplotlib.rcParams["font.family"]))
    with pytest.raises(TypeError, match=r"^prefer_system must be True or False"):
        fonts.setup_cjk_font(prefer_system=flag)
    assert (fonts.cjk_font_name(), list(matplotlib.rcParams["font.family"])) == before
    assert fonts.setup_cjk_font(prefer_system=np.bool_(False)) == fonts.BUNDLED_FAMILY


@pytest.mark.parametrize("prefer_system", [True, False])
@pytest.mark.parametrize("bold", [False, True])
def test_chinese_figure_renders_without_any_warning(tmp_path, caplog, prefer_system, bold):
    caplog.set_level(logging.INFO, logger="matplotlib")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fonts.setup_cjk_font(prefer_system=prefer_system)
        out = _chinese_figure(tmp_path, bold=bold)
    _assert_silent(record, caplog)
    assert out.stat().st_size > 1000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pyplot_figure_renders_without_any_warning(tmp_path, caplog):
    import matplotlib.pyplot as plt

    caplog.set_level(logging.INFO, logger="matplotlib")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fonts.setup_cjk_font()
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.bar(h.SENTENCE_CAT_SHORT, np.linspace(-1, 1, len(h.SENTENCE_CAT_SHORT)))
        ax.set_title("它 → 小猫")
        fig.savefig(tmp_path / "bar.png", dpi=40)
        plt.close(fig)
    _assert_silent(record, caplog)


def test_without_the_cjk_font_the_warning_check_would_fire(tmp_path):
    """Negative control: with DejaVu Sans alone matplotlib does warn, so the checks above are meaningful."""
    with matplotlib.rc_context({"font.family": ["sans-serif"], "font.sans-serif": ["DejaVu Sans"]}):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            fig = Figure()
            fig.add_subplot().set_title("我喜欢这个苹果")
            fig.savefig(tmp_path / "control.png", dpi=30)
    assert any("Glyph" in str(w.message) and "missing" in str(w.message) for w in record)


def test_log_check_catches_mathtext_substitution(tmp_path, caplog):
    """Negative control for the log check: mathtext has no per-glyph fallback, so Chinese inside a
    ``$...$`` string drawn with a Latin-only first family is substituted, with a logged warning."""
    caplog.set_level(logging.INFO, logger="matplotlib")
    with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            fig = Figure()
            fig.add_subplot().set_title("缩放 $1/\\sqrt{d_k}$")
            fig.savefig(tmp_path / "mixed.png", dpi=30)
    with pytest.raises(AssertionError, match="glyph"):
        _assert_silent(record, caplog)
