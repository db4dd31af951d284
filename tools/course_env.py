"""What ``run.py`` does: keep ``.venv/`` right, then open JupyterLab or run pytest.

``run.py`` checks the Python version with syntax any Python can parse, then loads
this module.  What a user sees in each awkward case:

- the checkout is read-only (or ``.venv`` cannot be written): one message naming the
  folder and what to do (copy the course somewhere writable), not a traceback and not
  the ``python3-venv`` advice, which is only given when ``ensurepip`` is really missing;
- ``.venv`` is damaged (its python is missing or not executable, a pinned package is
  missing or has another version, or a file an installed package recorded in its ``RECORD``
  was deleted, although the stamp says installed): a note naming the
  problem, then ``.venv`` is made again from scratch (pip alone does not reinstall a
  package whose files were deleted under an intact version record);
- the lab settings cannot be written (read-only ``.venv``): a note, and the course
  opens with JupyterLab's defaults;
- extra pytest arguments that are paths are resolved against the folder the command
  was run from, not the repository root (pytest itself runs from the root): test paths
  (``tests/test_x.py::test_y``), ``@argsfile``s and the values of the options that name a
  file or folder (``--junitxml``, ``--basetemp``, ``--ignore``, ``-c``, ``--deselect`` …);
  the values of all other options (``-k helpers``, ``-m``, ``-p``, ``-o``) are passed as given,
  even when a file of that name exists;
- ``PYTHONPATH`` / ``PYTHONHOME`` are set: a note, and every process of ``.venv`` (the
  check, pip, JupyterLab and its kernels, pytest) runs without them, so the pinned packages
  are the ones imported and a healthy ``.venv`` is never rebuilt because of them;
- every command is echoed quoted, so it can be copied from the log and run again.
"""

from __future__ import annotations

import hashlib
import os
import shlex
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

# Run by the venv's python: every pin of requirements.txt installed at its version, every file
# that pip recorded for an installed package still there (stat calls only, no imports: ~0.1 s
# for the ~16 000 files; importing the key modules instead would take seconds), key modules findable.
_CHECK_ENV = r"""
import csv, glob, importlib.metadata as md, importlib.util, os, re, sys, sysconfig
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
for site in sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}):
    for record in sorted(glob.glob(os.path.join(glob.escape(site), "*.dist-info", "RECORD"))):
        with open(record, encoding="utf-8", newline="") as f:
            files = [row[0] for row in csv.reader(f) if row and row[0]]
        # compiled .pyc files come and go (a cache); everything else pip installed must be there
        files = [p for p in files if not p.endswith(".pyc")]
        gone = [p for p in files if not os.path.exists(os.path.join(site, p))]
        if gone:
            dist = os.path.basename(os.path.dirname(record))[: -len(".dist-info")].replace("-", " ", 1)
            verb = "is" if len(gone) == 1 else "are"
            problems.append(f"{dist} is incomplete: {len(gone)} of its {len(files)} files {verb} missing (e.g. {gone[0]})")
for mod in sys.argv[2:]:
    if importlib.util.find_spec(mod) is None:
        problems.append(f"module {mod} cannot be found")
print("\n".join(problems))
"""


def _venv_python(venv: Path = VENV) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


#: Variables that make a python import packages from outside its own environment.  The
#: course's .venv must import exactly its pinned packages, so its processes run without them.
FOREIGN_PATH_VARS = ("PYTHONPATH", "PYTHONHOME")


def venv_environ() -> dict[str, str]:
    """The environment for every process of ``.venv``: the user's, minus :data:`FOREIGN_PATH_VARS`."""
    return {k: v for k, v in os.environ.items() if k not in FOREIGN_PATH_VARS}


def _note_foreign_path_vars() -> None:
    names = [name for name in FOREIGN_PATH_VARS if os.environ.get(name)]
    if names:
        it = "it" if len(names) == 1 else "them"
        print(f"note: ignoring {' and '.join(names)} for the course's .venv: its python, pip, JupyterLab and "
              f"pytest run without {it}, so that exactly the pinned packages in .venv are imported.", flush=True)


def command_line(cmd) -> str:
    """``cmd`` as one line that a shell runs as the same command (paths with spaces quoted)."""
    args = [str(c) for c in cmd]
    return subprocess.list2cmdline(args) if os.name == "nt" else shlex.join(args)


def _run(cmd, **kw):
    print("+", command_line(cmd), flush=True)
    kw.setdefault("env", venv_environ())
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
                             capture_output=True, text=True, timeout=120, env=venv_environ())
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
        return subprocess.run([str(py), "-c", "import sys"], capture_output=True, timeout=60,
                              env=venv_environ()).returncode == 0
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
    _note_foreign_path_vars()
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


#: Options of the pinned pytest and its plugins that take a value (``-k EXPR``, ``--tb=short``): the
#: argument after them is that value, never a test path, whatever file of that name exists.
#: tests/test_run_py.py compares this with the live pytest parser, so a new pin cannot make it stale.
PYTEST_VALUE_OPTIONS = frozenset({
    "-k", "-m", "-p", "-o", "--override-ini", "-r", "--report-chars", "-W", "--pythonwarnings",
    "--maxfail", "--pdbcls", "--capture", "--lfnf", "--last-failed-no-failures", "--cache-show",
    "--durations", "--durations-min", "--verbosity", "--tb", "--show-capture", "--color",
    "--code-highlight", "--pastebin", "--junitprefix", "--junit-prefix", "--max-warnings",
    "--import-mode", "--doctest-report", "--doctest-glob", "--assert", "--log-level", "--log-format",
    "--log-date-format", "--log-cli-level", "--log-cli-format", "--log-cli-date-format",
    "--log-file-mode", "--log-file-level", "--log-file-format", "--log-file-date-format",
    "--log-auto-indent", "--log-disable", "--nbval-kernel-name", "--nbval-cell-timeout",
    "--nbval-kernel-startup-timeout", "--anyio-mode", "--hypothesis-profile", "--hypothesis-verbosity",
    "--hypothesis-seed",
    # the ones whose value is a file or folder (PYTEST_PATH_OPTIONS), and --deselect (a test id)
    "-c", "--config-file", "--rootdir", "--basetemp", "--junitxml", "--junit-xml", "--ignore",
    "--ignore-glob", "--confcutdir", "--log-file", "--debug", "--nbval-sanitize-with", "--sanitize-with",
    "--deselect",
})
#: ... whose value is a file or folder: taken relative to the user's folder, like test paths
#: (whether it exists or not: ``--junitxml report.xml`` writes the report where the user is).
PYTEST_PATH_OPTIONS = frozenset({
    "-c", "--config-file", "--rootdir", "--basetemp", "--junitxml", "--junit-xml", "--ignore",
    "--ignore-glob", "--confcutdir", "--log-file", "--debug", "--nbval-sanitize-with", "--sanitize-with",
})
#: ... whose value may be left out (taken only when the next argument is not an option).
_PYTEST_OPTIONAL_VALUE = frozenset({"--debug", "--cache-show"})


def _user_path(path: str, cwd: Path) -> str:
    """``path`` as the user meant it from ``cwd`` (absolute; no symlinks resolved, as pytest does)."""
    return os.path.normpath(os.path.join(cwd, path)) if path else path


def _test_path(arg: str, cwd: Path) -> str:
    """``path[::name]`` with the path made absolute when it exists in ``cwd`` (else as given)."""
    path, sep, rest = arg.partition("::")
    full = _user_path(path, cwd)
    return full + sep + rest if path and os.path.exists(full) else arg


def _deselect_id(arg: str, cwd: Path) -> str:
    """``--deselect path[::name]`` from ``cwd`` as the id pytest matches it with: relative to ROOT."""
    path, sep, rest = arg.partition("::")
    try:
        return Path(_user_path(path, cwd)).relative_to(ROOT).as_posix() + sep + rest if path else arg
    except ValueError:  # outside the course: no test has that id, leave it as given
        return arg


def _option_value(option: str, value: str, cwd: Path) -> str:
    if option == "--deselect":
        return _deselect_id(value, cwd)
    return _user_path(value, cwd) if option in PYTEST_PATH_OPTIONS else value


def _expand_args_files(args: list[str], cwd: Path, _reading: tuple[Path, ...] = ()) -> list[str]:
    """Replace ``@file`` by the arguments in it, one per line, as pytest would read it from ``cwd``.

    ``_reading`` holds the files being expanded around these ``args``: a file that (directly or
    through others) names itself would never end, so it stops run.py with a one-line message.
    """
    out = []
    for arg in args:
        path = Path(_user_path(arg[1:], cwd)) if arg.startswith("@") and len(arg) > 1 else None
        if path is not None and path.is_file():
            real = path.resolve()
            if real in _reading:
                chain = " → ".join(f"@{p.name}" for p in (*_reading[_reading.index(real):], real))
                raise SystemExit(f"run.py: {arg} includes itself ({chain})")
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise SystemExit(f"run.py: cannot read the arguments file {arg}: {exc}") from None
            out += _expand_args_files(lines, cwd, (*_reading, real))
        else:
            out.append(arg)
    return out


def resolve_pytest_args(args: list[str], cwd: Path) -> list[str]:
    """Extra pytest arguments as the user meant them in ``cwd`` (their folder), since pytest runs from ROOT.

    Test paths that exist in ``cwd`` become absolute (``tests/test_x.py::test_y`` keeps its
    ``::test_y``; a path not found there is passed as given); so do the values of the options in
    :data:`PYTEST_PATH_OPTIONS`, and ``--deselect`` ids become relative to ROOT.  The values of
    all other options (:data:`PYTEST_VALUE_OPTIONS`) are passed exactly as given.
    """
    args = _expand_args_files(list(args), cwd)
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":  # everything after it is a test path
            out += [arg] + [_test_path(a, cwd) for a in args[i:]]
            break
        if arg == "-" or not arg.startswith("-"):
            out.append(_test_path(arg, cwd))
            continue
        if arg.startswith("--"):
            option, eq, value = arg.partition("=")
            if eq:
                out.append(option + eq + _option_value(option, value, cwd))
                continue
        else:  # short options: -k EXPR, -kEXPR, -k=EXPR, or flags ending in one: -qk EXPR, -qkEXPR
            j = next((j for j in range(1, len(arg)) if "-" + arg[j] in PYTEST_VALUE_OPTIONS), None)
            option = arg if j is None else "-" + arg[j]
            value = "" if j is None else arg[j + 1:]
            if value:
                head = arg[: j + 1]
                if j == 1 and value.startswith("="):  # argparse reads -k=EXPR as -k EXPR
                    head, value = head + "=", value[1:]
                out.append(head + _option_value(option, value, cwd))
                continue
        out.append(arg)
        takes_value = option in PYTEST_VALUE_OPTIONS and i < len(args)
        if takes_value and not (option in _PYTEST_OPTIONAL_VALUE and args[i].startswith("-")):
            out.append(_option_value(option, args[i], cwd))
            i += 1
    return out


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"lab", "test"}:
        print(sys.modules["__main__"].__doc__ or __doc__)
        return 2
    user_cwd = Path.cwd()
    try:
        py = ensure_env()
    except subprocess.CalledProcessError as exc:  # its output is above; no traceback on top of it
        print(f"run.py: setting up .venv failed: {command_line(exc.cmd)} exited with {exc.returncode}",
              file=sys.stderr)
        return exc.returncode or 1
    os.chdir(ROOT)
    if argv[0] == "lab":
        extra = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        root = [f"--ServerApp.root_dir={ROOT}"]  # file browser shows the whole course, not only notebooks/
        return subprocess.call([py, "-m", "jupyterlab", FIRST_CHAPTER, *root, *extra, *argv[1:]],
                               env=venv_environ())
    ensure_browser()
    return subprocess.call([py, "-m", "pytest", *resolve_pytest_args(argv[1:], user_cwd)], env=venv_environ())
