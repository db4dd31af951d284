"""The README's first command, `python3 run.py lab`, really starts JupyterLab on chapter 00."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_readme_has_exactly_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", readme, flags=re.S)
    commands = [line.strip() for b in blocks for line in b.splitlines() if line.strip()]
    assert commands == ["python3 run.py lab", "python3 run.py test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 run.py test" in ci


@pytest.mark.skipif(not (ROOT / ".venv").exists(), reason="run.py has not created .venv here yet")
@pytest.mark.skipif(os.name != "posix", reason="stops the server's process group with os.killpg (POSIX only)")
def test_run_py_lab_serves_chapter_00(tmp_path):
    port, token = _free_port(), secrets.token_hex(8)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "lab", "--no-browser", f"--port={port}",
         "--ip=127.0.0.1", f"--ServerApp.token={token}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    status = json.load(r)
                break
            except OSError:
                time.sleep(0.5)
        assert status is not None, f"JupyterLab did not answer (exit code {proc.poll()})"
        url = f"{base}/api/contents/notebooks/00_course_overview.ipynb?content=0&token={token}"
        with urllib.request.urlopen(url, timeout=5) as r:
            assert json.load(r)["name"] == "00_course_overview.ipynb"
        with urllib.request.urlopen(f"{base}/lab/tree/notebooks/00_course_overview.ipynb?token={token}",
                                    timeout=10) as r:
            assert r.status == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


# --- run.py in awkward situations (issue 14, class 9) -------------------------------------------

import ast  # noqa: E402
import importlib.util  # noqa: E402


def _course_env():
    spec = importlib.util.spec_from_file_location("course_env_under_test", ROOT / "tools" / "course_env.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_run_py_parses_in_any_python_3_so_old_pythons_get_the_version_message():
    """No f-strings, annotations, walrus or __future__ imports: Python 3.0–3.10 must reach the check."""
    tree = ast.parse((ROOT / "run.py").read_text(encoding="utf-8"))
    banned = (ast.JoinedStr, ast.AnnAssign, ast.NamedExpr, ast.AsyncFunctionDef)
    found = [type(n).__name__ for n in ast.walk(tree) if isinstance(n, banned)]
    found += [f"from {n.module} import" for n in ast.walk(tree)
              if isinstance(n, ast.ImportFrom) and n.module == "__future__"]
    found += [f"annotation in {n.name}" for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
              and (n.returns or any(a.annotation for a in n.args.args))]
    assert found == []
    # the version check comes before anything that needs a new Python
    first_if = next(n for n in tree.body if isinstance(n, ast.If))
    assert "version_info" in ast.unparse(first_if.test)


def test_run_py_says_which_python_is_too_old():
    src = (ROOT / "run.py").read_text(encoding="utf-8").replace("(3, 11)", "(99, 0)")
    res = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True)
    assert res.returncode == 1
    assert "Python 3.11 or newer is needed" in res.stderr and sys.version.split()[0] in res.stderr
    assert "Traceback" not in res.stderr


def test_read_only_folder_gets_its_own_message_not_the_python3_venv_advice(tmp_path, monkeypatch):
    env = _course_env()
    monkeypatch.setattr(env, "ROOT", tmp_path)
    monkeypatch.setattr(env, "VENV", tmp_path / ".venv")
    monkeypatch.setattr(env, "writable", lambda folder: False)
    with pytest.raises(SystemExit) as exc:
        env._make_venv()
    msg = str(exc.value)
    assert "cannot write to" in msg and str(tmp_path) in msg and "cp -r" in msg
    assert "python3-venv" not in msg


def test_writable_tries_a_real_file(tmp_path):
    env = _course_env()
    assert env.writable(tmp_path)
    assert not env.writable(tmp_path / "does-not-exist")


def test_unwritable_lab_settings_are_a_note_not_a_crash(tmp_path, monkeypatch, capsys):
    env = _course_env()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(env.shutil, "copyfile", refuse)
    env.install_lab_settings(tmp_path)  # must not raise
    assert "could not write the course's JupyterLab settings" in capsys.readouterr().out
    # an identical file already there: nothing is written at all
    monkeypatch.undo()
    env.install_lab_settings(tmp_path)
    monkeypatch.setattr(env.shutil, "copyfile", refuse)
    env.install_lab_settings(tmp_path)
    assert capsys.readouterr().out == ""


def test_damaged_venv_is_diagnosed(tmp_path):
    env = _course_env()
    missing = tmp_path / "bin" / "python"
    assert "does not exist" in env.venv_problems(missing)[0]
    not_exec = tmp_path / "python"
    not_exec.write_text("#!/bin/sh\n")
    not_exec.chmod(0o644)
    assert "cannot be run" in env.venv_problems(not_exec)[0]
    req = tmp_path / "requirements.txt"
    req.write_text("# comment\nnumpy==0.0.1\nno-such-package-for-the-course==1.0\n")
    problems = env.venv_problems(Path(sys.executable), req)
    assert any(p.startswith("numpy is ") and "pins 0.0.1" in p for p in problems)
    assert "no-such-package-for-the-course is not installed" in problems


def test_this_venv_is_healthy():
    env = _course_env()
    assert env.venv_problems(Path(sys.executable)) == []


def test_pytest_paths_are_taken_relative_to_the_users_folder(tmp_path):
    env = _course_env()
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("")
    args = ["-k", "softmax", "tests/test_a.py::test_x", "tests", "not-a-path", "-q"]
    out = env.resolve_pytest_args(args, tmp_path)
    assert out == ["-k", "softmax", f"{tmp_path / 'tests' / 'test_a.py'}::test_x", str(tmp_path / "tests"),
                   "not-a-path", "-q"]


def test_option_values_are_passed_as_given_even_when_a_file_of_that_name_exists(tmp_path):
    """`run.py test -k helpers` from the repository root ran nothing: "helpers" became /…/helpers."""
    env = _course_env()
    for name in ("helpers", "tests", "no:cacheprovider", "cache_dir=tests"):
        (tmp_path / name).mkdir()
    args = ["-k", "helpers", "-m", "tests", "-p", "no:cacheprovider", "-o", "cache_dir=tests", "-r", "tests",
            "--tb", "tests", "-W", "tests", "-qk", "tests", "-ptests", "-k=tests", "--tb=tests", "-x"]
    assert env.resolve_pytest_args(args, tmp_path) == args
    # after an option's value, the next argument is a test path again
    assert env.resolve_pytest_args(["-k", "helpers", "tests"], tmp_path) == ["-k", "helpers", str(tmp_path / "tests")]
    # an optional value is taken only when it is not an option; after "--" everything is a path
    assert env.resolve_pytest_args(["--debug", "-q", "tests"], tmp_path) == ["--debug", "-q", str(tmp_path / "tests")]
    assert env.resolve_pytest_args(["--", "tests"], tmp_path) == ["--", str(tmp_path / "tests")]


def test_path_valued_options_are_taken_relative_to_the_users_folder(tmp_path):
    """Output files (which do not exist yet) land where the user ran the command, not in the course."""
    env = _course_env()
    t = str(tmp_path)
    args = ["--junitxml", "report.xml", "--basetemp=out", "--ignore", "tests/slow", "-c", "my.ini", "-cmy.ini",
            "--ignore-glob=*_slow.py", "--rootdir", "/abs/olute", "--log-file", "../run.log"]
    assert env.resolve_pytest_args(args, tmp_path) == [
        "--junitxml", f"{t}/report.xml", f"--basetemp={t}/out", "--ignore", f"{t}/tests/slow",
        "-c", f"{t}/my.ini", f"-c{t}/my.ini", f"--ignore-glob={t}/*_slow.py", "--rootdir", "/abs/olute",
        "--log-file", f"{tmp_path.parent}/run.log"]


def test_deselect_ids_are_made_relative_to_the_course(tmp_path, monkeypatch):
    """pytest matches --deselect against test ids relative to its root, so an absolute path would match nothing."""
    env = _course_env()
    monkeypatch.setattr(env, "ROOT", tmp_path)
    (tmp_path / "tests").mkdir()
    got = env.resolve_pytest_args(["--deselect", "test_a.py::test_x", "--deselect=../tests/test_b.py"], tmp_path / "tests")
    assert got == ["--deselect", "tests/test_a.py::test_x", "--deselect=tests/test_b.py"]
    assert env.resolve_pytest_args(["--deselect", "tests/test_a.py"], tmp_path) == ["--deselect", "tests/test_a.py"]
    assert env.resolve_pytest_args(["--deselect", "x.py"], tmp_path.parent) == ["--deselect", "x.py"]  # outside


def test_an_args_file_is_read_from_the_users_folder(tmp_path):
    env = _course_env()
    (tmp_path / "tests").mkdir()
    (tmp_path / "args.txt").write_text("-k\ntests\ntests\n", encoding="utf-8")
    assert env.resolve_pytest_args(["@args.txt"], tmp_path) == ["-k", "tests", str(tmp_path / "tests")]


def test_an_args_file_that_includes_itself_stops_with_one_line(tmp_path):
    """N11: @self.txt naming itself recursed until a RecursionError traceback; now run.py says so."""
    env = _course_env()
    (tmp_path / "self.txt").write_text("-q\n@self.txt\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"^run\.py: @self\.txt includes itself \(@self\.txt → @self\.txt\)$"):
        env.resolve_pytest_args(["@self.txt"], tmp_path)
    (tmp_path / "a.txt").write_text("@b.txt\n", encoding="utf-8")   # through another file
    (tmp_path / "b.txt").write_text("-x\n@a.txt\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"includes itself \(@a\.txt → @b\.txt → @a\.txt\)$"):
        env.resolve_pytest_args(["@a.txt"], tmp_path)
    (tmp_path / "twice.txt").write_text("@c.txt\n@c.txt\n", encoding="utf-8")  # named twice is no loop
    (tmp_path / "c.txt").write_text("-q\n", encoding="utf-8")
    assert env.resolve_pytest_args(["@twice.txt"], tmp_path) == ["-q", "-q"]
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe-q\n")
    with pytest.raises(SystemExit, match=r"^run\.py: cannot read the arguments file @bad\.txt: "):
        env.resolve_pytest_args(["@bad.txt"], tmp_path)
    # the user sees that line and no traceback
    r = subprocess.run([sys.executable, str(ROOT / "run.py"), "test", "@self.txt"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 1 and r.stderr.strip().splitlines()[-1].startswith("run.py: @self.txt includes itself")
    assert "Traceback" not in r.stderr


def test_every_pytest_option_with_a_value_is_known(pytestconfig):
    """PYTEST_VALUE_OPTIONS must cover the live parser (the pinned pytest and every plugin installed)."""
    env = _course_env()
    parser = pytestconfig._parser.optparser  # pytest's argparse parser (private, but only read here)
    takes_value = {o for action in parser._actions if action.option_strings and action.nargs != 0
                   for o in action.option_strings}
    assert takes_value, "pytest's parser has changed: read its options another way"
    assert takes_value - env.PYTEST_VALUE_OPTIONS == set()
    assert env.PYTEST_PATH_OPTIONS <= env.PYTEST_VALUE_OPTIONS


def _bare_venv(tmp_path: Path) -> Path:
    """A venv without pip (made in well under a second) and its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "v")], check=True)
    return tmp_path / "v" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def test_a_package_whose_files_were_deleted_is_detected(tmp_path, monkeypatch):
    """Its version record says installed, find_spec finds it, but a file pip recorded is gone."""
    env = _course_env()
    py = _bare_venv(tmp_path)
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    pkg, info = site / "fakedep", site / "fakedep-1.0.dist-info"
    pkg.mkdir()
    info.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "core.py").write_text("")
    (pkg / "__pycache__").mkdir()  # a .pyc that is gone is only a cache: not damage
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakedep\nVersion: 1.0\n")
    (info / "RECORD").write_text("fakedep/__init__.py,,\nfakedep/core.py,,\nfakedep/__pycache__/core.cpython-311.pyc,,\n"
                                 "fakedep-1.0.dist-info/METADATA,,\nfakedep-1.0.dist-info/RECORD,,\n")
    req = tmp_path / "requirements.txt"
    req.write_text("fakedep==1.0\n")
    monkeypatch.setattr(env, "KEY_MODULES", ("fakedep",))
    assert env.venv_problems(py, req) == []
    (pkg / "core.py").unlink()
    assert env.venv_problems(py, req) == ["fakedep 1.0 is incomplete: 1 of its 4 files is missing (e.g. fakedep/core.py)"]


@pytest.fixture
def foreign_numpy(tmp_path):
    """A folder with an old numpy's version record, as a user's PYTHONPATH might hold."""
    info = tmp_path / "pp" / "numpy-1.0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: numpy\nVersion: 1.0.0\n")
    return tmp_path / "pp"


def test_pythonpath_and_pythonhome_do_not_reach_the_venv(foreign_numpy, monkeypatch):
    env = _course_env()
    monkeypatch.setenv("PYTHONPATH", str(foreign_numpy))
    monkeypatch.setenv("PYTHONHOME", str(foreign_numpy))  # a python started with it cannot even start
    assert env.venv_problems(Path(sys.executable)) == []
    assert env._python_runs(Path(sys.executable))
    assert "PYTHONPATH" not in env.venv_environ() and "PYTHONHOME" not in env.venv_environ()


def test_a_healthy_venv_is_not_rebuilt_because_of_pythonpath(foreign_numpy, tmp_path, monkeypatch, capsys):
    env = _course_env()
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / ".course-installed").write_text(env._digest(), encoding="utf-8")
    monkeypatch.setattr(env, "VENV", venv)
    monkeypatch.setattr(env, "_venv_python", lambda: Path(sys.executable))
    monkeypatch.setattr(env, "install_lab_settings", lambda prefix: None)

    def rebuild():
        raise AssertionError("a healthy .venv was rebuilt")

    monkeypatch.setattr(env, "_make_venv", rebuild)
    monkeypatch.setenv("PYTHONPATH", str(foreign_numpy))
    assert env.ensure_env() == Path(sys.executable)
    out = capsys.readouterr().out
    assert out.count("PYTHONPATH") == 1 and "ignoring PYTHONPATH" in out and "damaged" not in out


def test_commands_are_echoed_so_they_can_be_copied(tmp_path, capsys, monkeypatch):
    """A path with a space or Chinese characters is quoted, in the echo and in the failure message."""
    env = _course_env()
    folder = tmp_path / "课 程 dir"
    folder.mkdir()
    cmd = [sys.executable, "-c", "import sys; sys.exit(3)", folder / "requirements.txt"]
    with pytest.raises(subprocess.CalledProcessError) as exc:
        env._run(cmd)
    line = capsys.readouterr().out.strip()
    assert line.startswith("+ ") and shlex.split(line[2:]) == [str(c) for c in cmd]

    def fail():
        raise exc.value

    monkeypatch.setattr(env, "ensure_env", fail)
    assert env.main(["test"]) == 3
    err = capsys.readouterr().err
    assert shlex.split(err.split("failed: ", 1)[1].rsplit(" exited with", 1)[0]) == [str(c) for c in cmd]
