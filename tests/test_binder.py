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


# Test tools and what only they pull in: the root requirements.txt pins them (local runs and CI
# need them), a learner on Binder does not; tests/test_binder_env.py installs them on top itself.
TEST_ONLY = {"pytest", "nbval", "hypothesis", "playwright", "coverage", "greenlet", "iniconfig", "pluggy",
             "sortedcontainers"}
# What a learner runs: the notebooks' imports, the lab itself, its widgets, the Chinese UI, the slideshow.
LEARNER = {"numpy", "matplotlib", "ipywidgets", "jupyterlab", "jupyterlab-widgets", "ipykernel", "setuptools",
           "jupyterlab-language-pack-zh-cn", "jupyterlab-slideshow"}


def test_binder_requirements_are_a_subset_with_the_same_pins():
    local = parse_pins(ROOT / "requirements.txt")
    binder = parse_pins(BINDER / "requirements.txt")
    only_binder = sorted(set(binder) - set(local))
    differ = {k: (local[k], binder[k]) for k in set(local) & set(binder) if local[k] != binder[k]}
    assert not only_binder, f"pinned in binder/requirements.txt but not in requirements.txt: {only_binder}"
    assert not differ, f"different versions (requirements.txt, binder/): {differ}"
    # everything the root file pins is either on Binder or a test tool
    missing = sorted(set(local) - set(binder) - TEST_ONLY)
    assert not missing, f"pinned in requirements.txt, missing from binder/requirements.txt: {missing}"


def test_binder_requirements_leave_out_the_test_tools():
    binder = parse_pins(BINDER / "requirements.txt")
    present = sorted(set(binder) & TEST_ONLY)
    assert not present, f"binder/requirements.txt carries test-only packages: {present}"


def test_requirements_contain_what_learners_run():
    pins = parse_pins(BINDER / "requirements.txt")
    for pkg in sorted(LEARNER):
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
    for name in ("requirements.txt", "runtime.txt", "postBuild", "overrides.json"):
        assert (BINDER / name).is_file(), f"binder/{name} missing"


def test_runtime_is_python_311_like_the_project():
    assert (BINDER / "runtime.txt").read_text(encoding="utf-8").strip() == "python-3.11"
    minor = runtime_minor()
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    m = re.search(r'requires-python\s*=\s*">=\s*(3\.\d+)"', text)
    assert m, "pyproject.toml has no requires-python"
    assert tuple(map(int, minor.split("."))) >= tuple(map(int, m[1].split(".")))


def test_no_cjk_font_from_apt():
    """Figures use the bundled font subset (helpers/fonts/) and the browser uses the learner's own
    fonts, so Binder needs no fonts-noto-cjk (~56 MB); test_binder_env checks the fallback."""
    apt = BINDER / "apt.txt"
    if not apt.exists():
        return
    lines = [ln.split("#")[0].strip() for ln in apt.read_text(encoding="utf-8").splitlines()]
    lines = [ln for ln in lines if ln]
    for ln in lines:
        assert re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", ln), f"binder/apt.txt: not a package name: {ln!r}"
    fonts = [ln for ln in lines if ln.startswith("fonts-")]
    assert not fonts, f"binder/apt.txt installs fonts the course does not need: {fonts}"


def test_lab_overrides_switch_off_news_and_update_check():
    data = json.loads((BINDER / "overrides.json").read_text(encoding="utf-8"))
    notif = data["@jupyterlab/apputils-extension:notification"]
    assert notif["fetchNews"] == "false"
    assert notif["checkForUpdates"] is False


def test_lab_overrides_select_the_chinese_ui():
    """The lab opens in Simplified Chinese; Settings → Language (设置 → 语言) switches back to English."""
    data = json.loads((BINDER / "overrides.json").read_text(encoding="utf-8"))
    assert data["@jupyterlab/translation-extension:plugin"]["locale"] == "zh_CN"
    assert "jupyterlab-language-pack-zh-cn" in parse_pins(ROOT / "requirements.txt")


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


def test_binder_badge_points_at_a_release_ref_set_in_one_place():
    """The badge builds a ref that moves only at a release, so Binder does not rebuild on every commit."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"https://mybinder\.org/v2/gh/[^\s)\]>\"']+", readme)
    assert len(links) == 1, f"the Binder address must be written in one place (a link definition): {links}"
    assert re.search(r"^\[binder\]: https://mybinder\.org/v2/gh/", readme, re.M), "no [binder]: link definition"
    m = re.match(r"https://mybinder\.org/v2/gh/[^/]+/[^/]+/([^?]+)\?", links[0])
    assert m, links[0]
    ref = m[1]
    assert ref not in {"HEAD", "main", "master"}, f"badge ref {ref!r} rebuilds Binder after every commit"
    assert f"/{ref}" in readme.split("[binder]:")[0] or ref in readme.replace(links[0], ""), (
        f"README does not tell maintainers how the {ref!r} ref is moved and the cache warmed")


def test_this_interpreter_matches_runtime_txt_minor_or_warns():
    """Local/CI Python and Binder's should be the same minor (3.11), so outputs match."""
    minor = runtime_minor()
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if here != minor:
        pytest.skip(f"this Python is {here}, Binder runs {minor}; test_binder_env uses python{minor}")
    assert os.path.exists(sys.executable)
