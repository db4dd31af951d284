#!/usr/bin/env python3
"""Build a graded assignment from one chapter's checked exercises (nbgrader or otter-grader).

    python3 tools/grading_example.py otter    OUT_DIR   # OUT_DIR/ch07_masks.ipynb: Otter Assign master
    python3 tools/grading_example.py nbgrader OUT_DIR   # OUT_DIR/source/ch07/ch07_masks.ipynb + nbgrader_config.py

Both copy the course's ``helpers`` package next to the notebook (the tests import it).
The example is chapter 07's two function exercises (``check_causal_mask`` and
``check_causal_attention``); change ``EXERCISES`` for another chapter.

What the grader runs is the course's own checker in strict mode::

    checks.check_causal_mask(my_causal_mask, strict=True)

A right answer passes silently (✅ is printed); a wrong or unfinished one raises
``AssertionError`` whose message is the same Chinese verdict and hint the learner
sees in the chapter notebook.  ``test_cell_source`` gives that cell's text, so the
repo's tests can execute exactly what the graders execute (tests/test_grading.py).
Needs only ``nbformat`` (installed with JupyterLab); the graders themselves are
NOT course dependencies: install them in the teacher's own environment.
"""

from __future__ import annotations

import inspect
import shutil
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers import solutions  # noqa: E402

#: (exercise name = checker suffix = solution name, learner's function name, points, prompt)
EXERCISES = [
    ("causal_mask", "my_causal_mask", 1,
     "写一个函数 `my_causal_mask(n)`，返回 (n, n) 的布尔因果掩码：True = 第 i 个查询可以看第 j 个键（j ≤ i）。"),
    ("causal_attention", "my_causal_attention", 2,
     "写一个函数 `my_causal_attention(Q, K, V)`：缩放点积注意力，但第 i 个查询只能看第 0…i 个键。"),
]
TITLE = "第7章作业：因果掩码"
STEM = "ch07_masks"


def solution_source(exercise: str, fn_name: str) -> tuple[str, list[str]]:
    """(signature line, body lines) of the reference solution, renamed to the learner's name."""
    lines = inspect.getsource(getattr(solutions, exercise)).rstrip().splitlines()
    header = lines[0].replace(f"def {exercise}(", f"def {fn_name}(", 1)
    body = [ln for ln in lines[1:]]
    # drop the docstring (first body statement) to keep the student's cell short
    if body and body[0].strip().startswith('"""'):
        end = 0 if body[0].strip().count('"""') >= 2 else next(
            i for i, ln in enumerate(body[1:], 1) if '"""' in ln)
        body = body[end + 1:]
    return header, body


def test_cell_source(exercise: str, fn_name: str) -> str:
    """The grader's test: the course's checker in strict mode (raises AssertionError unless ✅)."""
    return (f"from helpers import checks\n"
            f"checks.check_{exercise}({fn_name}, strict=True)")


def self_check_source(exercise: str, fn_name: str) -> str:
    """The learner's own check cell, as in the chapter (prints the verdict, never raises)."""
    return f"checks.check_{exercise}({fn_name})"


def otter_master() -> nbformat.NotebookNode:
    """An Otter Assign master notebook (v1 format, exception-based tests)."""
    cells = [
        new_raw_cell(
            "# ASSIGNMENT CONFIG\n"
            f"name: {STEM}\n"
            "files:\n"
            "    - helpers\n"
            "tests:\n"
            "    ok_format: false\n"
            "export_cell: false\n"
            "generate: true\n"
            "check_all_cell: false\n"
            "run_tests: true\n"),
        new_markdown_cell(f"# {TITLE}\n\n每道题写完后运行下面的检查单元格，看 ✅ / ❌ 和提示；"
                          "`grader.check(...)` 单元格运行的就是评分用的同一个检查。"),
        new_code_cell("import numpy as np\nfrom helpers import checks"),
    ]
    for exercise, fn_name, points, prompt in EXERCISES:
        header, body = solution_source(exercise, fn_name)
        # the student's version gets "..." as the body: returns None → "⏳ 还没完成"
        solution = "\n".join([header, "    # BEGIN SOLUTION", *body, "    # END SOLUTION"])
        test = (f"def test_{exercise}({fn_name}):\n"
                + "".join(f"    {ln}\n" for ln in test_cell_source(exercise, fn_name).splitlines())
                + f"\ntest_{exercise}({fn_name})")
        cells += [
            new_raw_cell(f"# BEGIN QUESTION\nname: {exercise}\npoints: {points}"),
            new_markdown_cell(prompt),
            new_raw_cell("# BEGIN SOLUTION"),
            new_code_cell(solution),
            new_raw_cell("# END SOLUTION"),
            new_code_cell(self_check_source(exercise, fn_name)),
            new_raw_cell("# BEGIN TESTS"),
            new_code_cell(test),
            new_raw_cell("# END TESTS"),
            new_raw_cell("# END QUESTION"),
        ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _nbgrader(cell, grade_id, *, solution=False, grade=False, locked=False, points=None):
    meta = {"schema_version": 3, "grade_id": grade_id, "solution": solution, "grade": grade,
            "locked": locked, "task": False}
    if points is not None:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    return cell


def nbgrader_source() -> nbformat.NotebookNode:
    """An nbgrader source notebook: solution cells + locked, graded test cells."""
    cells = [
        _nbgrader(new_markdown_cell(f"# {TITLE}\n\n写完每道题后运行它下面的检查单元格；"
                                    "提交前可以用 Validate 按钮（或 `nbgrader validate`）自查。"),
                  "intro", locked=True),
        _nbgrader(new_code_cell("import numpy as np\nfrom helpers import checks"), "imports", locked=True),
    ]
    for exercise, fn_name, points, prompt in EXERCISES:
        header, body = solution_source(exercise, fn_name)
        solution = "\n".join([header, "    ### BEGIN SOLUTION", *body, "    ### END SOLUTION"])
        cells += [
            _nbgrader(new_markdown_cell(prompt), f"prompt_{exercise}", locked=True),
            _nbgrader(new_code_cell(solution), f"answer_{exercise}", solution=True),
            new_code_cell(self_check_source(exercise, fn_name)),
            _nbgrader(new_code_cell(test_cell_source(exercise, fn_name)), f"test_{exercise}",
                      grade=True, locked=True, points=points),
        ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _copy_helpers(dest: Path) -> None:
    target = dest / "helpers"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(ROOT / "helpers", target, ignore=shutil.ignore_patterns("__pycache__"))


def build(kind: str, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    if kind == "otter":
        _copy_helpers(out)
        path = out / f"{STEM}.ipynb"
        nbformat.write(otter_master(), path)
        return path
    if kind == "nbgrader":
        folder = out / "source" / "ch07"
        folder.mkdir(parents=True, exist_ok=True)
        _copy_helpers(folder)
        (out / "nbgrader_config.py").write_text(
            'c = get_config()  # noqa: F821\n'
            'c.CourseDirectory.course_id = "self-attention"\n'
            'c.CourseDirectory.root = "."\n'
            '# helpers/ travels with the assignment (source → release → submitted → autograded);\n'
            '# the cleared answer raises NotImplementedError, which the checkers show as "⏳ 还没完成"\n',
            encoding="utf-8")
        path = folder / f"{STEM}.ipynb"
        nbformat.write(nbgrader_source(), path)
        return path
    raise ValueError(f"kind must be 'otter' or 'nbgrader', got {kind!r}")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in {"otter", "nbgrader"}:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        print("usage: grading_example.py {otter|nbgrader} OUT_DIR", file=sys.stderr)
        return 2
    print(build(argv[0], Path(argv[1]).resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
