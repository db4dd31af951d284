"""A fresh environment built only from ``binder/`` runs every notebook (nbval).

What Binder does, minus Docker:

1. a new virtual environment (``python -m venv``, no system site-packages) of the
   Python minor in ``binder/runtime.txt``;
2. ``pip install -r binder/requirements.txt`` (the learner's packages only; the
   installed size and the time are printed);
3. ``binder/postBuild`` itself, run with ``NB_PYTHON_PREFIX`` = that environment;
4. figures draw Chinese with the bundled font when the machine has no CJK font
   (Binder installs none: no ``apt.txt``), checked by hiding every other font;
5. the test tools (nbval, pytest) installed on top with the root file's pins, then
   ``python -m pytest notebooks/`` (the project's pytest.ini: nbval, strict) in
   a copy of the repository, so nothing is written into the checkout.

Plus ``repo2docker --no-build`` (in its own throwaway venv, not a project
requirement) to show how Binder reads ``binder/``: the generated Dockerfile must
install ``binder/requirements.txt`` on Python 3.11, the CJK font from
``apt.txt`` and run ``postBuild``.

These tests take a few minutes (downloads, then nbval of the whole course), so
they run where ``CI`` is set (``.ci/run`` runs with CI=true) or with
``COURSE_BINDER_ENV=1``; elsewhere they are skipped with that reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_binder import runtime_minor

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
REPO2DOCKER = "jupyter-repo2docker==2026.4.0"

pytestmark = pytest.mark.skipif(
    not (os.environ.get("CI") or os.environ.get("COURSE_BINDER_ENV")),
    reason="slow (fresh venv from binder/ + nbval of every notebook): runs in CI "
    "(CI=true) or with COURSE_BINDER_ENV=1",
)


def _python_for(minor: str) -> str | None:
    """A base interpreter of that minor version (not this venv's site-packages)."""
    candidates = [
        shutil.which(f"python{minor}"),
        getattr(sys, "_base_executable", None),
        shutil.which("python3"),
    ]
    for c in candidates:
        if not c:
            continue
        out = subprocess.run(
            [c, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True,
        ).stdout.strip()
        if out == minor:
            return c
    return None


def _run(cmd, *, log: list, timeout: float, **kw) -> subprocess.CompletedProcess:
    t0 = time.monotonic()
    res = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL, **kw,
    )
    log.append(f"$ {' '.join(str(c) for c in cmd)}  ({time.monotonic() - t0:.1f} s, rc={res.returncode})")
    return res


def _copy_repo(dest: Path) -> None:
    """The files a Binder build sees that matter here (no .venv, no artifacts)."""
    ignore = shutil.ignore_patterns(
        "__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints", ".pytest_cache", ".hypothesis",
    )
    for name in ("binder", "helpers", "notebooks", "tests"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    for name in ("pyproject.toml", "pytest.ini", "requirements.txt", "README.md"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)


def _clean_env(tmp: Path, venv: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "JUPYTER", "VIRTUAL_ENV", "CONDA", "MPL"))}
    for d in ("config", "data", "runtime", "ipython", "mplconfig", "home-cache"):
        (tmp / d).mkdir(exist_ok=True)
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        NB_PYTHON_PREFIX=str(venv),
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        IPYTHONDIR=str(tmp / "ipython"),
        MPLCONFIGDIR=str(tmp / "mplconfig"),  # a fresh font cache: postBuild must build it
        PYTHONDONTWRITEBYTECODE="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return env


# Hide every font file but matplotlib's own DejaVu before helpers picks a CJK font, draw a
# figure with Chinese labels, and fail on any "Glyph missing" / findfont warning.
FONT_FALLBACK_CHECK = """
import warnings, logging
warnings.simplefilter("error")
from matplotlib import font_manager
fm = font_manager.fontManager
fm.ttflist = [e for e in fm.ttflist if "DejaVu" in e.name]
records = []
logging.getLogger("matplotlib.font_manager").setLevel(logging.WARNING)
class Catch(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
logging.getLogger("matplotlib").addHandler(Catch())
import helpers.plots  # noqa: F401  (sets the CJK font up on import)
from helpers import fonts
import matplotlib.pyplot as plt
assert fonts.cjk_font_path() == str(fonts.BUNDLED_FONT), fonts.cjk_font_path()
fig, ax = plt.subplots()
ax.set_title("小猫 它 饿坏了：注意力权重")
ax.set_xlabel("键 (key)")
fig.savefig("font_check.png")
assert not records, records
print("bundled font used:", fonts.cjk_font_name())
"""


def test_fresh_binder_env_runs_every_notebook(tmp_path):
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        pytest.skip("no notebooks yet")
    minor = runtime_minor()
    base = _python_for(minor)
    if base is None:
        pytest.skip(f"no Python {minor} interpreter on this machine (binder/runtime.txt wants it)")

    log: list[str] = []
    t_start = time.monotonic()
    repo = tmp_path / "repo"
    repo.mkdir()
    _copy_repo(repo)
    venv = tmp_path / "venv"
    env = _clean_env(tmp_path, venv)

    res = _run([base, "-m", "venv", venv], log=log, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    py = venv / "bin" / "python"
    res = _run([py, "-c", "import sys; print(sys.version_info[:2] == tuple(map(int, sys.argv[1].split('.'))), "
                "sys.prefix != sys.base_prefix)", minor], log=log, timeout=60, env=env)
    assert res.stdout.split() == ["True", "True"], res.stdout + res.stderr

    # what repo2docker's Python build pack runs: pip install -r binder/requirements.txt
    res = _run([py, "-m", "pip", "install", "-q", "-r", repo / "binder" / "requirements.txt"],
               log=log, timeout=1200, env=env, cwd=repo)
    assert res.returncode == 0, f"pip install failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    t_install = time.monotonic() - t_start
    size_mb = sum(f.stat().st_size for f in venv.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6
    print(f"binder venv: {size_mb:.0f} MB installed from binder/requirements.txt in {t_install:.0f} s")

    # then binder/postBuild, as it is
    res = _run(["bash", repo / "binder" / "postBuild"], log=log, timeout=600, env=env, cwd=repo)
    assert res.returncode == 0, f"postBuild failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    overrides = venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert overrides.read_text() == (BINDER / "overrides.json").read_text()
    res = _run([py, "-c", "import helpers, helpers.widgets, helpers.plots; print(helpers.__file__)"],
               log=log, timeout=120, env=env, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert str(repo) in res.stdout, f"helpers not imported from the editable install: {res.stdout}"

    # the widgets' and the slideshow's JupyterLab extensions are there and enabled
    res = _run([py, "-m", "jupyter", "labextension", "list"], log=log, timeout=120, env=env, cwd=repo)
    listing = re.sub(r"\x1b\[[0-9;]*m", "", res.stdout + res.stderr)
    assert re.search(r"@jupyter-widgets/jupyterlab-manager v\S+ enabled", listing), listing
    assert re.search(r"jupyterlab-slideshow v\S+ enabled", listing), listing

    # no CJK font on the machine (Binder has none): figures fall back to helpers/fonts/
    res = _run([py, "-c", FONT_FALLBACK_CHECK], log=log, timeout=300, env=env, cwd=tmp_path)
    assert res.returncode == 0, f"Chinese figure without a system CJK font:\n{res.stdout}\n{res.stderr[-3000:]}"
    assert "bundled font used" in res.stdout, res.stdout

    # the test tools are not on Binder: install them on top, with the root file's pins
    res = _run([py, "-m", "pip", "install", "-q", "-c", repo / "requirements.txt", "nbval", "pytest"],
               log=log, timeout=600, env=env, cwd=repo)
    assert res.returncode == 0, f"installing nbval/pytest failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"

    # every notebook under nbval with the project's pytest.ini
    t_nb = time.monotonic()
    res = _run([py, "-m", "pytest", "notebooks/", "-q"],
               log=log, timeout=900, env=env, cwd=repo)
    t_end = time.monotonic()
    summary = "\n".join(log)
    print(summary)
    print(f"binder env: venv + pip {t_install:.0f} s, nbval {t_end - t_nb:.0f} s, total {t_end - t_start:.0f} s")
    assert res.returncode == 0, f"nbval in the Binder environment failed:\n{res.stdout[-6000:]}\n{res.stderr[-2000:]}"
    assert re.search(r"\d+ passed", res.stdout), res.stdout[-2000:]


def test_repo2docker_reads_binder_folder(tmp_path):
    """repo2docker --no-build: the Dockerfile it would build installs our binder/ config."""
    minor = runtime_minor()
    base = _python_for(minor) or sys.executable
    venv = tmp_path / "r2d"
    log: list[str] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    res = _run([base, "-m", "venv", venv], log=log, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    res = _run([venv / "bin" / "python", "-m", "pip", "install", "-q", REPO2DOCKER],
               log=log, timeout=600, env=env)
    if res.returncode != 0:
        pytest.skip(f"could not install {REPO2DOCKER} (no package index?): {res.stderr[-500:]}")
    repo = tmp_path / "repo"
    repo.mkdir()
    _copy_repo(repo)
    res = _run([venv / "bin" / "repo2docker", "--no-build", "--no-run", "--debug",
                "--user-id", "1000", "--user-name", "jovyan", repo],
               log=log, timeout=300, env=env)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert f"python={minor}" in out, "repo2docker did not pick binder/runtime.txt's Python"
    assert re.search(r'pip install --no-cache-dir -r "?binder/requirements.txt', out), (
        "repo2docker would not install binder/requirements.txt")
    assert "fonts-noto-cjk" not in out, "the Binder image would install fonts-noto-cjk"
    assert "./binder/postBuild" in out, "repo2docker would not run binder/postBuild"
