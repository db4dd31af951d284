"""Binder readiness, checked without Docker: the ``binder/`` config as repo2docker reads it.

repo2docker rules that matter here: when a ``binder/`` folder exists, only the
config files inside it are used (root-level ``requirements.txt`` etc. are
ignored); ``environment.yml``, ``Pipfile``, ``Dockerfile``, ``default.nix``, … in
it would select another build pack and silently drop ``requirements.txt``;
``runtime.txt`` is ``python-X.Y``; ``apt.txt`` lists Ubuntu packages one per
line; ``postBuild`` is an executable script run once after the install.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
FIRST_CHAPTER = "notebooks/00_course_overview.ipynb"

PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9][A-Za-z0-9.+!_-]*)$")

# files that make repo2docker pick another build pack (or ignore requirements.txt)
CONFLICTING = [
    "environment.yml", "environment.yaml", "Pipfile", "Pipfile.lock", "Dockerfile",
    "default.nix", "Project.toml", "JuliaProject.toml", "REQUIRE", "install.R",
    "DESCRIPTION", "setup.py",
]
# what a Python + apt + postBuild Binder config may contain
ALLOWED = {"requirements.txt", "runtime.txt", "apt.txt", "postBuild", "overrides.json", "README.md"}


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pins(path: Path) -> dict[str, str]:
    """``{normalized name: version}``; every non-comment line must be ``name==version``."""
    pins: dict[str, str] = {}
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = PIN.match(line)
        assert m, f"{path.relative_to(ROOT)}:{n}: not an exact pin name==version: {raw!r}"
        name = _normalize(m["name"])
        assert name not in pins, f"{path.relative_to(ROOT)}:{n}: {m['name']} pinned twice"
        pins[name] = m["version"]
    return pins


def runtime_minor() -> str:
    text = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    m = re.fullmatch(r"python-(3\.\d+)", text)
    assert m, f"binder/runtime.txt must be 'python-3.X', is {text!r}"
    return m[1]


# ----------------------------------------------------------------------------- pins


def test_binder_requirements_pin_the_same_versions():
    local = parse_pins(ROOT / "requirements.txt")
    binder = parse_pins(BINDER / "requirements.txt")
    only_local = sorted(set(local) - set(binder))
    only_binder = sorted(set(binder) - set(local))
    differ = {k: (local[k], binder[k]) for k in set(local) & set(binder) if local[k] != binder[k]}
    assert not only_local, f"pinned in requirements.txt but not in binder/requirements.txt: {only_local}"
    assert not only_binder, f"pinned in binder/requirements.txt but not in requirements.txt: {only_binder}"
    assert not differ, f"different versions (requirements.txt, binder/): {differ}"


def test_requirements_contain_what_learners_run():
    pins = parse_pins(BINDER / "requirements.txt")
    for pkg in ("numpy", "matplotlib", "ipywidgets", "jupyterlab", "jupyterlab-widgets", "ipykernel",
                "setuptools"):
        assert pkg in pins, f"binder/requirements.txt lacks {pkg}"


# ----------------------------------------------------------------------------- layout


def test_binder_folder_is_what_repo2docker_expects():
    assert BINDER.is_dir()
    assert not (ROOT / ".binder").exists(), "both .binder/ and binder/: repo2docker refuses that"
    present = {p.name for p in BINDER.iterdir()}
    conflicts = sorted(present & set(CONFLICTING))
    assert not conflicts, f"binder/ has {conflicts}: repo2docker would not use binder/requirements.txt"
    unexpected = sorted(present - ALLOWED)
    assert not unexpected, f"unexpected files in binder/: {unexpected}"
    for name in ("requirements.txt", "runtime.txt", "apt.txt", "postBuild", "overrides.json"):
        assert (BINDER / name).is_file(), f"binder/{name} missing"


def test_runtime_is_python_311_like_the_project():
    assert (BINDER / "runtime.txt").read_text(encoding="utf-8").strip() == "python-3.11"
    minor = runtime_minor()
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    m = re.search(r'requires-python\s*=\s*">=\s*(3\.\d+)"', text)
    assert m, "pyproject.toml has no requires-python"
    assert tuple(map(int, minor.split("."))) >= tuple(map(int, m[1].split(".")))


def test_apt_txt_lists_a_cjk_font():
    lines = [
        ln.strip() for ln in (BINDER / "apt.txt").read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.strip().startswith("#")
    ]
    for ln in lines:
        assert re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", ln), f"binder/apt.txt: not a package name: {ln!r}"
    cjk = [ln for ln in lines if re.match(r"fonts-(noto-cjk|wqy-|arphic-|droid-fallback)", ln)]
    assert cjk, f"binder/apt.txt lists no CJK font package: {lines}"


def test_lab_overrides_switch_off_news_and_update_check():
    data = json.loads((BINDER / "overrides.json").read_text(encoding="utf-8"))
    notif = data["@jupyterlab/apputils-extension:notification"]
    assert notif["fetchNews"] == "false"
    assert notif["checkForUpdates"] is False


# ----------------------------------------------------------------------------- postBuild


def test_postbuild_is_executable():
    post = BINDER / "postBuild"
    assert post.stat().st_mode & stat.S_IXUSR, "binder/postBuild is not executable"
    if shutil.which("git") and (ROOT / ".git").exists():
        out = subprocess.run(
            ["git", "ls-files", "-s", "binder/postBuild"], cwd=ROOT, capture_output=True, text=True
        ).stdout
        if out:  # tracked: the executable bit must be in git, so a fresh clone has it
            assert out.split()[0] == "100755", f"binder/postBuild committed without +x: {out}"


def test_postbuild_is_valid_bash_and_does_the_three_jobs():
    post = BINDER / "postBuild"
    text = post.read_text(encoding="utf-8")
    assert text.startswith("#!"), "postBuild needs a shebang"
    assert re.search(r"^set -e", text, re.M), "postBuild should stop at the first failing command"
    if shutil.which("bash"):
        res = subprocess.run(["bash", "-n", str(post)], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
    # 1. `import helpers` works everywhere: editable install of the project
    assert re.search(r"pip install [^\n]*-e \.", text), "postBuild does not install the helpers (-e .)"
    # 2. the project's JupyterLab settings land where JupyterLab reads app settings
    assert "binder/overrides.json" in text
    assert "share/jupyter/lab/settings/overrides.json" in text
    assert "NB_PYTHON_PREFIX" in text, "Binder's environment is ${NB_PYTHON_PREFIX}"
    # 3. matplotlib's font cache is built at build time, not in a learner's first cell
    assert "import matplotlib.pyplot" in text
    # everything postBuild refers to exists in the repository
    for ref in re.findall(r"\b(binder/[\w.]*\w)", text):
        assert (ROOT / ref).exists(), f"postBuild uses {ref}, which does not exist"
    assert (ROOT / "pyproject.toml").exists()


# ----------------------------------------------------------------------------- README badge


def test_readme_binder_link_opens_chapter_00_in_jupyterlab():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"https://mybinder\.org/v2/[^\s)\]>\"']+", readme)
    assert links, "README.md has no mybinder.org link"
    want = re.compile(r"[?&]urlpath=lab(/|%2F)tree(/|%2F)notebooks(/|%2F)00_course_overview\.ipynb$")
    good = [link for link in links if want.search(link)]
    assert good, f"no mybinder.org link with urlpath=lab/tree/{FIRST_CHAPTER}: {links}"
    assert "mybinder.org/badge" in readme, "README.md shows no Binder badge"
    assert (ROOT / FIRST_CHAPTER).exists() or not (ROOT / "notebooks").exists()


def test_this_interpreter_matches_runtime_txt_minor_or_warns():
    """Local/CI Python and Binder's should be the same minor (3.11), so outputs match."""
    minor = runtime_minor()
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if here != minor:
        pytest.skip(f"this Python is {here}, Binder runs {minor}; test_binder_env uses python{minor}")
    assert os.path.exists(sys.executable)
