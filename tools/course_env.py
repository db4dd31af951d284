"""What ``run.py`` does: keep ``.venv/`` right, then open JupyterLab or run pytest.

``run.py`` checks the Python version with syntax any Python can parse, then loads
this module.  What a user sees in each awkward case:

- the checkout is read-only (or ``.venv`` cannot be written): one message naming the
  folder and what to do (copy the course somewhere writable), not a traceback and not
  the ``python3-venv`` advice, which is only given when ``ensurepip`` is really missing;
- ``.venv`` is damaged (its python is missing or not executable, a pinned package is
  missing or has another version although the stamp says installed): a note naming the
  problem, then ``.venv`` is made again from scratch (pip alone does not reinstall a
  package whose files were deleted under an intact version record);
- the lab settings cannot be written (read-only ``.venv``): a note, and the course
  opens with JupyterLab's defaults;
- extra pytest arguments that are paths are resolved against the folder the command
  was run from, not the repository root (pytest itself runs from the root).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
FIRST_CHAPTER = "notebooks/00_course_overview.ipynb"
#: modules the course imports; one of them missing means a damaged environment
KEY_MODULES = ("numpy", "matplotlib", "ipywidgets", "jupyterlab", "nbval", "pytest", "helpers")

# Run by the venv's python: every pin of requirements.txt installed at its version, key modules findable.
_CHECK_ENV = r"""
import importlib.metadata as md, importlib.util, re, sys
problems = []
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line.strip())
    if not m:
        continue
    try:
        have = md.version(m[1])
    except md.PackageNotFoundError:
        problems.append(f"{m[1]} is not installed")
        continue
    if have != m[2]:
        problems.append(f"{m[1]} is {have}, requirements.txt pins {m[2]}")
for mod in sys.argv[2:]:
    if importlib.util.find_spec(mod) is None:
        problems.append(f"module {mod} cannot be found")
print("\n".join(problems))
"""


def _venv_python(venv: Path = VENV) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _run(cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def writable(folder: Path) -> bool:
    """True when a file can really be created in ``folder`` (root ignores permission bits, a
    read-only mount does not, so try it rather than trusting ``os.access``)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _not_writable_exit(folder: Path) -> None:
    sys.exit(
        f"run.py: cannot write to {folder}, so the course's environment (.venv/) cannot be set up there.\n"
        f"Copy the course to a folder you can write to and run the command there, e.g.\n"
        f"    cp -r {ROOT} ~/self-attention-course && cd ~/self-attention-course && python3 run.py lab"
    )


def venv_problems(py: Path, requirements: Path = ROOT / "requirements.txt") -> list[str]:
    """What is wrong with the environment of ``py`` (empty list: nothing)."""
    if not py.exists():
        return [f"{py} does not exist"]
    try:
        res = subprocess.run([str(py), "-c", _CHECK_ENV, str(requirements), *KEY_MODULES],
                             capture_output=True, text=True, timeout=120)
    except OSError as exc:  # not executable, wrong architecture, broken symlink …
        return [f"{py} cannot be run ({exc.strerror or exc})"]
    except subprocess.TimeoutExpired:
        return [f"{py} did not answer within 120 s"]
    if res.returncode != 0:
        last = (res.stderr.strip().splitlines() or ["no message"])[-1]
        return [f"{py} fails to start ({last})"]
    return [line for line in res.stdout.splitlines() if line.strip()]


def _python_runs(py: Path) -> bool:
    try:
        return subprocess.run([str(py), "-c", "import sys"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _make_venv() -> None:
    if not writable(ROOT) or (VENV.exists() and not writable(VENV)):
        _not_writable_exit(VENV if VENV.exists() else ROOT)
    res = subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], capture_output=True, text=True)
    if res.returncode == 0:
        return
    out = (res.stdout + res.stderr).strip()
    if "ensurepip" in out:
        sys.exit("run.py: this Python's venv module cannot install pip (ensurepip is missing). "
                 "On Debian/Ubuntu: apt-get install python3-venv (or python3.11-venv); then run this command again.")
    sys.exit(f"run.py: `{sys.executable} -m venv {VENV}` failed:\n{out}")


def _digest() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def _install(py: Path) -> list[str]:
    """pip-install the pinned requirements and the course into the venv of ``py``; what is still wrong."""
    pip = [py, "-m", "pip", "--disable-pip-version-check", "install", "-q"]
    _run(pip + ["-r", ROOT / "requirements.txt"])
    _run(pip + ["--no-deps", "--no-build-isolation", "-e", ROOT])
    # build matplotlib's font cache now, so no notebook ever prints
    # "Matplotlib is building the font cache" on stderr
    _run([py, "-c", "import matplotlib.pyplot"])
    return venv_problems(py)


def _damaged(problems: list[str]) -> str:
    more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
    return "; ".join(problems[:5]) + more


def ensure_env() -> Path:
    """Create, repair or refresh .venv from the pinned requirements; return its python."""
    py = _venv_python()
    stamp = VENV / ".course-installed"
    want = _digest()
    rebuilt = False
    if stamp.exists() and stamp.read_text(encoding="utf-8", errors="replace") == want:
        problems = venv_problems(py)
        if not problems:
            install_lab_settings(VENV)
            return py
        print(f"note: .venv is damaged, rebuilding it: {_damaged(problems)}", flush=True)
        _make_venv()  # pip alone does not reinstall a package deleted under an intact version record
        rebuilt = True
    elif not _python_runs(py):
        _make_venv()
        rebuilt = True
    if not writable(VENV):
        _not_writable_exit(VENV)
    stamp.unlink(missing_ok=True)
    problems = _install(py)
    if problems and not rebuilt:
        print(f"note: .venv is damaged, rebuilding it: {_damaged(problems)}", flush=True)
        _make_venv()
        problems = _install(py)
    if problems:
        sys.exit(f"run.py: .venv is still incomplete after installing: {_damaged(problems)}")
    stamp.write_text(want, encoding="utf-8")
    install_lab_settings(VENV)
    return py


def install_lab_settings(prefix: Path) -> None:
    """Copy the project's JupyterLab settings (no news pop-up, no update check, …) into ``prefix``.

    Nothing is written when the file there is already the same; when it cannot be
    written (read-only environment), say so and go on with JupyterLab's defaults.
    """
    src = ROOT / "binder" / "overrides.json"
    if not src.exists():
        return
    dest = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    try:
        if dest.exists() and dest.read_bytes() == src.read_bytes():
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    except OSError as exc:
        print(f"note: could not write the course's JupyterLab settings to {dest} ({exc.strerror or exc}); "
              "JupyterLab starts with its default settings.", flush=True)


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


def resolve_pytest_args(args: list[str], cwd: Path) -> list[str]:
    """Make path arguments absolute against ``cwd`` (the user's folder), since pytest runs from ROOT.

    ``tests/test_x.py::test_y`` keeps its ``::test_y``; options and their values are left alone.
    """
    out = []
    for arg in args:
        if not arg.startswith("-"):
            path, sep, rest = arg.partition("::")
            candidate = (cwd / path)
            if path and candidate.exists():
                arg = str(candidate.resolve()) + sep + rest
        out.append(arg)
    return out


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"lab", "test"}:
        print(sys.modules["__main__"].__doc__ or __doc__)
        return 2
    user_cwd = Path.cwd()
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
    return subprocess.call([py, "-m", "pytest", *resolve_pytest_args(argv[1:], user_cwd)])
