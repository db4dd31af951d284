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
