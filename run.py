#!/usr/bin/env python3
"""One entry point for the course: set up the environment, then open it or test it.

    python3 run.py lab     # install what is needed, open the course in JupyterLab
    python3 run.py test    # install what is needed, run every test (helpers, notebooks, browser)

Needs only Python 3.11+.  Everything is installed into ``.venv/`` next to this
file from the pinned ``requirements.txt``; a second run re-uses it and only
re-installs when ``requirements.txt`` or ``pyproject.toml`` changed.
Extra arguments after ``test`` go to pytest (e.g. ``python3 run.py test -k softmax``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
FIRST_CHAPTER = "notebooks/00_course_overview.ipynb"


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _run(cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def _has_pip(py: Path) -> bool:
    return subprocess.run([str(py), "-m", "pip", "--version"], capture_output=True).returncode == 0


def ensure_env() -> Path:
    """Create/refresh .venv from the pinned requirements; return its python."""
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11+ is needed, this is {sys.version.split()[0]}")
    py = _venv_python()
    stamp = VENV / ".course-installed"
    # never installed into and without pip (e.g. `venv` stopped for want of ensurepip): make it again
    if not py.exists() or (not stamp.exists() and not _has_pip(py)):
        try:
            _run([sys.executable, "-m", "venv", "--clear", VENV])
        except subprocess.CalledProcessError:
            sys.exit("Could not create .venv with this Python's venv module "
                     "(on Debian/Ubuntu: apt-get install python3-venv); then run this command again.")
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    if not stamp.exists() or stamp.read_text() != digest.hexdigest():
        pip = [py, "-m", "pip", "--disable-pip-version-check", "install", "-q"]
        _run(pip + ["-r", ROOT / "requirements.txt"])
        _run(pip + ["--no-deps", "--no-build-isolation", "-e", ROOT])
        # build matplotlib's font cache now, so no notebook ever prints
        # "Matplotlib is building the font cache" on stderr
        _run([py, "-c", "import matplotlib.pyplot"])
        stamp.write_text(digest.hexdigest())
    install_lab_settings(VENV)
    return py


def install_lab_settings(prefix: Path) -> None:
    """Copy the project's JupyterLab settings (no news pop-up, no update check)."""
    src = ROOT / "binder" / "overrides.json"
    if src.exists():
        dest = prefix / "share" / "jupyter" / "lab" / "settings"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest / "overrides.json")


def ensure_browser() -> None:
    """Install Debian's Chromium (and a CJK font for it) when missing and possible."""
    if shutil.which("chromium") or os.environ.get("COURSE_SKIP_BROWSER"):
        return
    if sys.platform.startswith("linux") and shutil.which("apt-get") and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            _run(["apt-get", "update", "-qq"], env=env)
            _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                  "chromium", "fonts-noto-cjk", "fonts-noto-color-emoji"], env=env,
                 stdout=subprocess.DEVNULL)
        except subprocess.CalledProcessError as exc:
            print(f"note: could not install chromium ({exc}); browser tests will be skipped")
    else:
        print("note: chromium not found and cannot be installed here; browser tests will be skipped")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"lab", "test"}:
        print(__doc__)
        return 2
    try:
        py = ensure_env()
    except subprocess.CalledProcessError as exc:  # its output is above; no traceback on top of it
        print(f"run.py: setting up .venv failed: {' '.join(map(str, exc.cmd))} exited with {exc.returncode}",
              file=sys.stderr)
        return exc.returncode or 1
    os.chdir(ROOT)
    if argv[0] == "lab":
        extra = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        root = [f"--ServerApp.root_dir={ROOT}"]  # file browser shows the whole course, not only notebooks/
        return subprocess.call([py, "-m", "jupyterlab", FIRST_CHAPTER, *root, *extra, *argv[1:]])
    ensure_browser()
    return subprocess.call([py, "-m", "pytest", *argv[1:]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
