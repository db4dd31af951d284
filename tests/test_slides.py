"""Slide metadata of the chapter notebooks (RISE / jupyterlab-rise / nbconvert --to slides).

For every ``notebooks/NN_*.ipynb``:

* every ``slideshow.slide_type`` is one RISE understands;
* the first cell is a markdown title ``# 第N章 · …`` shown as a new slide;
* a ``## 本章速览`` slide with exactly 5 lines comes right after it;
* in chapters 01–08 every ``##`` section heading starts a new slide, so a teacher
  can navigate by section (the 00 overview is free-form).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(p for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
# "-" (continue the slide) is written as no slideshow metadata: jupyterlab-slideshow, the course's
# live slideshow, hides cells marked "-"; nbconvert and RISE read a missing slide_type as "-".
VALID_SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes"}
SUMMARY_WITHIN_FIRST = 3  # the 本章速览 cell must be one of the first cells


def _load(path: Path) -> dict:
    with path.open(encoding="utf-8") as f:
        return json.load(f)


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _slide_type(cell):
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")


def test_there_are_chapter_notebooks():
    assert NOTEBOOKS, f"no notebooks matching NN_*.ipynb in {NOTEBOOK_DIR}"


ids = [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_slide_metadata_is_valid(path):
    nb = _load(path)
    problems = []
    for i, cell in enumerate(nb["cells"]):
        meta = cell.get("metadata", {})
        if "slideshow" not in meta:
            continue
        show = meta["slideshow"]
        if not isinstance(show, dict):
            problems.append(f"cell {i}: slideshow metadata is {show!r}, not a dict")
            continue
        if "slide_type" not in show:
            problems.append(f"cell {i}: slideshow metadata without slide_type: {show!r}")
        elif show["slide_type"] == "-":
            problems.append(f"cell {i}: slide_type '-' (jupyterlab-slideshow hides such cells; leave the "
                            "slideshow metadata out instead: tools/run_notebooks.py does it)")
        elif show["slide_type"] not in VALID_SLIDE_TYPES:
            problems.append(f"cell {i}: invalid slide_type {show['slide_type']!r}")
    assert not problems, f"{path.name}: " + "; ".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_first_cell_is_a_title_slide(path):
    nb = _load(path)
    first = nb["cells"][0]
    assert first["cell_type"] == "markdown", f"{path.name}: first cell is {first['cell_type']}"
    src = _source(first).lstrip()
    assert src.startswith("# "), f"{path.name}: first cell does not start with a '# ' title: {src[:40]!r}"
    chapter = int(path.name[:2])
    title = src.splitlines()[0]
    assert re.match(rf"# 第{chapter}章\s*·", title), f"{path.name}: title {title!r} is not '# 第{chapter}章 · …'"
    assert _slide_type(first) == "slide", f"{path.name}: title cell slide_type is {_slide_type(first)!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_summary_slide_near_the_top(path):
    nb = _load(path)
    head = nb["cells"][:SUMMARY_WITHIN_FIRST]
    found = [c for c in head if c["cell_type"] == "markdown" and "本章速览" in _source(c)]
    assert found, f"{path.name}: no '本章速览' cell among the first {SUMMARY_WITHIN_FIRST} cells"
    cell = found[0]
    assert _slide_type(cell) == "slide", f"{path.name}: 本章速览 slide_type is {_slide_type(cell)!r}"
    lines = [ln for ln in _source(cell).splitlines() if ln.strip()]
    assert lines[0].lstrip().startswith("## 本章速览"), f"{path.name}: 本章速览 must be a '## ' heading"
    body = lines[1:]
    assert len(body) == 5, f"{path.name}: 本章速览 has {len(body)} lines, expected exactly 5: {body}"


CHAPTERS = [p for p in NOTEBOOKS if int(p.name[:2]) >= 1]  # the chapter template covers 01–08


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_section_headings_start_slides(path):
    """Chapter template: every '##' section heading is a new slide (the overview, 00, is free-form)."""
    nb = _load(path)
    wrong = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        if _source(cell).lstrip().startswith("## ") and _slide_type(cell) != "slide":
            wrong.append(f"cell {i} ({_source(cell).lstrip().splitlines()[0][:30]!r}): {_slide_type(cell)!r}")
    assert not wrong, f"{path.name}: '##' headings that are not slides: " + "; ".join(wrong)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_deck_has_more_than_the_title(path):
    """A presentable deck: title + summary + at least one more slide or subslide."""
    nb = _load(path)
    starts = [c for c in nb["cells"] if _slide_type(c) in {"slide", "subslide"}]
    assert len(starts) >= 3, f"{path.name}: only {len(starts)} slide/subslide cells"


def test_teacher_guide_exists_and_names_every_panel():
    guide = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    assert guide.startswith("# 教师指南")
    for panel in ["qkv_shapes_panel", "angle_panel", "dk_panel", "temperature_panel", "vector_panel",
                  "sentence_explorer"]:
        assert panel in guide, panel
    assert "90 分钟" in guide
