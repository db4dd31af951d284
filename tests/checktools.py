"""Shared helpers for the checker tests (tests/test_checks*.py); pytest puts tests/ on sys.path.

- ``copied(name)``: a reference solution as a learner who copied it would have it (own code object);
- ``run_checker(check, *args, capsys=...)``: run a checker, assert it wrote nothing to stderr, return its stdout;
- ``assert_wrong(out, key)``: the verdict is ❌ and carries the hint ``checks.HINTS[key]``;
- ``catalogue_tests(check, right, wrong, starter)``: the right / wrong / pending tests of one exercise;
- ``quoted_names(path)``: every "snake_case" string literal of a test module (the hint keys it uses);
- ``exercise_cells(nb)`` / ``assert_exercises_pending(nb, ...)``: a notebook's committed check cells.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import numpy as np
import pytest

from helpers import checks, solutions

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def copied(name):
    """The reference solution as a learner who copied it would have it (its own code object)."""
    namespace: dict = {"np": np}
    exec(inspect.getsource(getattr(solutions, name)), namespace)
    return namespace[name]


def run_checker(check, *args, capsys):
    """Run ``check(*args)``; the checker must write nothing to stderr. Returns what it printed."""
    check(*args)
    out = capsys.readouterr()
    assert out.err == ""
    return out.out


def assert_wrong(out, key):
    """A ❌ verdict that carries the named hint."""
    assert out.startswith("❌") and checks.HINTS[key] in out, out


def wrong_cases(wrong):
    """``(key, index)`` for every function of a ``{hint key: [wrong functions]}`` catalogue."""
    return [(k, i) for k, fs in wrong.items() for i in range(len(fs))]


def catalogue_tests(check, right, wrong, starter):
    """The three tests of one exercise checked against a catalogue: every function of ``right``
    (``{name: fn}``) passes, every function of ``wrong`` (``{hint key: [fn, ...]}``) gets its
    hint, and the ``starter`` (body ``return None``) is pending.
    Bind the result to ``test_<x>_right, test_<x>_wrong, test_<x>_pending`` in the test module."""

    @pytest.mark.parametrize("name", sorted(right))
    def test_right(name, capsys):
        assert run_checker(check, right[name], capsys=capsys).startswith("✅")

    @pytest.mark.parametrize("key,idx", wrong_cases(wrong))
    def test_wrong(key, idx, capsys):
        assert_wrong(run_checker(check, wrong[key][idx], capsys=capsys), key)

    def test_pending(capsys):
        assert run_checker(check, starter, capsys=capsys).startswith("⏳")

    return test_right, test_wrong, test_pending


def exercise_cells(nb):
    """``(source, printed text)`` of every code cell of ``nb`` (a path, or a name under notebooks/)
    that calls a checker, with its committed outputs."""
    path = Path(nb) if Path(nb).is_absolute() else NOTEBOOKS / nb
    cells = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and "checks.check_" in src:
            cells.append((src, "".join("".join(o.get("text", "")) for o in cell["outputs"])))
    return cells


def assert_exercises_pending(nb, forbidden=(), at_least=0):
    """Every committed check cell of ``nb`` shows the pending state and its source contains none
    of the ``forbidden`` formulas; there are at least ``at_least`` such cells."""
    cells = exercise_cells(nb)
    for src, text in cells:
        assert text.startswith("⏳"), (src, text)
        for formula in forbidden:
            assert formula not in src, (formula, src)
    assert len(cells) >= at_least


def quoted_names(path):
    """Every double-quoted ``snake_case`` literal in the file at ``path`` (the hint keys a test module uses)."""
    return set(re.findall(r'"([a-z_]+)"', Path(path).read_text(encoding="utf-8")))


def assert_hints_exercised(chapter, used):
    """Every hint the chapter registered (``checks.CHAPTER_HINTS[chapter]``) is among ``used`` (the mistake ids
    its catalogue exercises), so no diagnosis goes untested."""
    from helpers import checks
    missing = checks.CHAPTER_HINTS[chapter] - set(used)
    assert not missing, f"{chapter}: hints no catalogued mistake exercises: {sorted(missing)}"
