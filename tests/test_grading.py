"""The grading bridge without a grader: the test cells that tools/grading_example.py writes
for nbgrader and otter-grader are executed here against a right, a wrong and an unfinished
answer (the real graders were run by hand; commands and output in the teacher guide)."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from helpers import checks

ROOT = Path(__file__).resolve().parents[1]


def _load_tool():
    spec = importlib.util.spec_from_file_location("grading_example", ROOT / "tools" / "grading_example.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["grading_example"] = module
    spec.loader.exec_module(module)
    return module


G = _load_tool()

WRONG = {  # a classic mistake per exercise, and the hint the grader must show
    "causal_mask": ("def my_causal_mask(n):\n    return np.triu(np.ones((n, n), dtype=bool))\n", "mask_upper"),
    "causal_attention": (
        "def my_causal_attention(Q, K, V):\n"
        "    s = Q @ K.T / np.sqrt(Q.shape[-1])\n"
        "    s = s + np.tril(np.ones((len(Q), len(K)), dtype=bool))\n"
        "    e = np.exp(s - s.max(axis=-1, keepdims=True))\n"
        "    return (e / e.sum(axis=-1, keepdims=True)) @ V\n", "mask_added_bool"),
}


def _student_version(solution: str, kind: str) -> str:
    """What the grader hands out: the region between the markers replaced by its stub."""
    if kind == "otter":
        return re.sub(r"( *)# BEGIN SOLUTION\n.*?# END SOLUTION", r"\1...", solution, flags=re.S)
    return re.sub(r"( *)### BEGIN SOLUTION\n.*?### END SOLUTION",
                  r"\1# YOUR CODE HERE\n\1raise NotImplementedError()", solution, flags=re.S)


def _without_markers(solution: str) -> str:
    return "\n".join(ln for ln in solution.splitlines() if "BEGIN SOLUTION" not in ln and "END SOLUTION" not in ln)


def _cells(kind):
    nb = G.otter_master() if kind == "otter" else G.nbgrader_source()
    return nb, [c for c in nb.cells if c.cell_type == "code"]


def _solution_and_test(kind, exercise):
    nb, code = _cells(kind)
    fn_name = dict((e, f) for e, f, *_ in G.EXERCISES)[exercise]
    sol = next(c.source for c in code if c.source.startswith(f"def {fn_name}("))
    if kind == "otter":
        test = next(c.source for c in code if c.source.startswith(f"def test_{exercise}("))
    else:
        test = next(c.source for c in code if c.metadata.get("nbgrader", {}).get("grade_id") == f"test_{exercise}")
    return fn_name, sol, test


def _run_cells(*sources):
    ns: dict = {}
    exec("import numpy as np\nfrom helpers import checks", ns)
    for src in sources:
        exec(compile(src, "<cell>", "exec"), ns)
    return ns


@pytest.mark.parametrize("kind", ["otter", "nbgrader"])
@pytest.mark.parametrize("exercise", [e for e, *_ in G.EXERCISES])
def test_right_answer_passes_the_grader_test(kind, exercise, capsys):
    _, sol, test = _solution_and_test(kind, exercise)
    _run_cells(_without_markers(sol), test)
    assert capsys.readouterr().out.startswith("✅ 正确！")


@pytest.mark.parametrize("kind", ["otter", "nbgrader"])
@pytest.mark.parametrize("exercise", [e for e, *_ in G.EXERCISES])
def test_wrong_answer_fails_with_the_hint(kind, exercise, capsys):
    _, _, test = _solution_and_test(kind, exercise)
    wrong, hint = WRONG[exercise]
    with pytest.raises(AssertionError) as info:
        _run_cells(wrong, test)
    assert str(info.value).startswith("❌") and checks.HINTS[hint] in str(info.value)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("kind", ["otter", "nbgrader"])
@pytest.mark.parametrize("exercise", [e for e, *_ in G.EXERCISES])
def test_unfinished_student_version_fails_as_pending(kind, exercise):
    fn_name, sol, test = _solution_and_test(kind, exercise)
    student = _student_version(sol, kind)
    assert "BEGIN SOLUTION" not in student and student.startswith(f"def {fn_name}(")
    with pytest.raises(AssertionError, match=f"^⏳ 还没完成：函数 {fn_name} 还没有返回结果"):
        _run_cells(student, test)


@pytest.mark.parametrize("exercise", [e for e, *_ in G.EXERCISES])
def test_learners_self_check_cell_prints_and_never_raises(exercise, capsys):
    fn_name, sol, _ = _solution_and_test("otter", exercise)
    _run_cells(WRONG[exercise][0], G.self_check_source(exercise, fn_name))
    assert capsys.readouterr().out.startswith("❌")


def test_otter_master_has_the_assign_structure():
    nb, _ = _cells("otter")
    raw = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "raw"]
    assert raw[0] == "# ASSIGNMENT CONFIG"
    assert "ok_format: false" in nb.cells[0].source and "- helpers" in nb.cells[0].source
    per_question = ["# BEGIN QUESTION", "# BEGIN SOLUTION", "# END SOLUTION", "# BEGIN TESTS",
                    "# END TESTS", "# END QUESTION"]
    assert raw[1:] == per_question * len(G.EXERCISES)
    for exercise, *_ in G.EXERCISES:
        _, _, test = _solution_and_test("otter", exercise)
        assert test.count("\ndef ") == 0 and test.splitlines()[-1] == f"test_{exercise}(my_{exercise})"


def test_nbgrader_source_has_locked_graded_tests():
    _, code = _cells("nbgrader")
    graded = [c.metadata["nbgrader"] for c in code if c.metadata.get("nbgrader", {}).get("grade")]
    assert [m["grade_id"] for m in graded] == [f"test_{e}" for e, *_ in G.EXERCISES]
    assert all(m["locked"] and m["points"] > 0 and m["schema_version"] == 3 for m in graded)
    answers = [c for c in code if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(answers) == len(G.EXERCISES)
    assert all("### BEGIN SOLUTION" in c.source for c in answers)


def test_build_writes_the_notebooks_and_helpers(tmp_path):
    otter = G.build("otter", tmp_path / "o")
    nbg = G.build("nbgrader", tmp_path / "n")
    assert nbformat.read(otter, as_version=4).cells[0].cell_type == "raw"
    assert (otter.parent / "helpers" / "checks.py").is_file()
    assert (nbg.parent / "helpers" / "checks.py").is_file()
    assert (tmp_path / "n" / "nbgrader_config.py").is_file()
    assert not list((tmp_path).rglob("__pycache__"))
    with pytest.raises(ValueError, match="kind"):
        G.build("moodle", tmp_path / "x")


def test_reference_solution_renamed_is_what_the_master_holds():
    header, body = G.solution_source("causal_mask", "my_causal_mask")
    assert header == "def my_causal_mask(n):" and not body[0].strip().startswith('"""')
    ns = _run_cells("\n".join([header, *body]))
    assert np.array_equal(ns["my_causal_mask"](3), np.tril(np.ones((3, 3), dtype=bool)))


# ---------------------------------------------------------------------------
# the real graders (opt-in: COURSE_GRADER_BIN=<bin folder of a venv with otter-grader and nbgrader>)
# ---------------------------------------------------------------------------

_GRADER_BIN = os.environ.get("COURSE_GRADER_BIN")
needs_graders = pytest.mark.skipif(not _GRADER_BIN, reason="set COURSE_GRADER_BIN to a venv's bin/ with "
                                   "otter-grader and nbgrader (they are not course dependencies)")

RIGHT = {
    "causal_mask": "def my_causal_mask(n):\n    return np.tril(np.ones((n, n), dtype=bool))\n",
    "causal_attention": (
        "def my_causal_attention(Q, K, V):\n"
        "    s = Q @ K.T / np.sqrt(Q.shape[-1])\n"
        "    s = np.where(np.tril(np.ones((len(Q), len(K)), dtype=bool)), s, -np.inf)\n"
        "    e = np.exp(s - s.max(axis=-1, keepdims=True))\n"
        "    return (e / e.sum(axis=-1, keepdims=True)) @ V\n"),
}


def _fill(path_in, path_out, answers):
    nb = nbformat.read(path_in, as_version=4)
    for cell in nb.cells:
        for exercise, code in answers.items():
            if cell.cell_type == "code" and cell.source.startswith(f"def my_{exercise}("):
                cell.source = code
    nbformat.write(nb, path_out)


def _grader(*args, cwd):
    env = dict(os.environ, PATH=f"{_GRADER_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([str(Path(_GRADER_BIN) / args[0]), *args[1:]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@needs_graders
def test_real_otter_grader(tmp_path):
    master = G.build("otter", tmp_path)
    done = _grader("otter", "assign", master.name, "dist", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    (zipfile,) = (tmp_path / "dist" / "autograder").glob("*.zip")
    student = tmp_path / "dist" / "student" / master.name
    scores = {}
    for who, answers in [("right", RIGHT), ("wrong", {e: c for e, (c, _) in WRONG.items()})]:
        sub = tmp_path / f"{who}.ipynb"
        _fill(student, sub, answers)
        out = tmp_path / f"out_{who}"
        out.mkdir()
        done = _grader("otter", "run", "-a", str(zipfile), str(sub), "-o", str(out), cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        scores[who] = json.loads((out / "results.json").read_text(encoding="utf-8"))
    right = {t["name"]: t.get("score") for t in scores["right"]["tests"] if "score" in t}
    assert right == {"causal_mask": 1.0, "causal_attention": 2.0}
    wrong_output = "\n".join(t.get("output", "") for t in scores["wrong"]["tests"])
    for _, hint in WRONG.values():
        assert checks.HINTS[hint] in wrong_output
    assert all(t.get("score", 0) == 0 for t in scores["wrong"]["tests"])


@needs_graders
def test_real_nbgrader(tmp_path):
    G.build("nbgrader", tmp_path)
    done = _grader("nbgrader", "generate_assignment", "ch07", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    release = tmp_path / "release" / "ch07"
    for who, answers in [("right", RIGHT), ("wrong", {e: c for e, (c, _) in WRONG.items()}), ("todo", {})]:
        dest = tmp_path / "submitted" / who / "ch07"
        shutil.copytree(release, dest)
        _fill(dest / f"{G.STEM}.ipynb", dest / f"{G.STEM}.ipynb", answers)
    done = _grader("nbgrader", "autograde", "ch07", "--create", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _grader("nbgrader", "export", cwd=tmp_path).returncode == 0
    grades = {row["student_id"]: float(row["score"]) for row in
              csv.DictReader((tmp_path / "grades.csv").read_text(encoding="utf-8").splitlines())}
    assert grades == {"right": 3.0, "wrong": 0.0, "todo": 0.0}
    graded = nbformat.read(tmp_path / "autograded" / "wrong" / "ch07" / f"{G.STEM}.ipynb", as_version=4)
    errors = "\n".join(o.get("evalue", "") for c in graded.cells if c.cell_type == "code" for o in c.outputs)
    for _, hint in WRONG.values():
        assert checks.HINTS[hint] in errors
