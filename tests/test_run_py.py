"""The README's first command, `python3 run.py lab`, really starts JupyterLab on chapter 00."""

from __future__ import annotations

import json
import os
import re
import secrets
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
