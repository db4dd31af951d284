"""Fixtures for the browser tests: one JupyterLab server and one Chromium per session.

The server runs from this Python environment on 127.0.0.1 with a random token,
a free port and a fresh temp root dir (the notebooks are copied into it, so a
run never writes into the repository's notebooks).  Chromium is the
``chromium`` on PATH (``run.py test`` installs Debian's package when missing).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import lab_driver as ld

ARTIFACTS = ld.ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

RESULTS = ld.RESULTS


def _require_browser() -> None:
    if ld.CHROMIUM is None:
        pytest.skip(
            "chromium not found on PATH: browser tests need Debian's chromium package "
            "(`python3 run.py test` installs it with apt-get when run as root on Debian/Ubuntu)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:  # pragma: no cover - pinned in requirements.txt
        pytest.skip(f"playwright is not installed ({exc})")


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    _require_browser()
    t0 = time.monotonic()
    server = ld.LabServer(tmp_path_factory.mktemp("jupyterlab"))
    server.start()
    RESULTS["session"]["server_start_s"] = round(time.monotonic() - t0, 2)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(lab_server):
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = ld.launch_chromium(pw)
    except Exception:
        pw.stop()
        raise
    yield b
    b.close()
    pw.stop()


@pytest.fixture(scope="session")
def lab(browser, lab_server):
    """One JupyterLab page, reused: notebooks are opened and closed in it one at a time."""
    t0 = time.monotonic()
    page = ld.LabPage(browser, lab_server)
    RESULTS["session"]["lab_page_load_s"] = round(time.monotonic() - t0, 2)
    yield page
    page.close()


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def pytest_terminal_summary(terminalreporter):
    nbs, panels = RESULTS["notebooks"], RESULTS["panels"]
    if not nbs and not panels:
        return
    tr = terminalreporter
    tr.section("browser tests (JupyterLab in Chromium)")
    for key in ("server_start_s", "lab_page_load_s"):
        if key in RESULTS["session"]:
            tr.write_line(f"{key}: {RESULTS['session'][key]}")
    if nbs:
        tr.write_line(f"{'notebook':42} {'run all + checks (s)':>20} {'widgets':>8} {'sliders':>8}")
        for name, r in nbs.items():
            tr.write_line(f"{name:42} {r['seconds']:>20.1f} {r['widget_views']:>8} {r['sliders']:>8}")
        tr.write_line(f"{'total':42} {sum(r['seconds'] for r in nbs.values()):>20.1f}")
        shows = {n: r["slideshow"] for n, r in nbs.items() if "slideshow" in r}
        if shows:
            tr.write_line("slideshow at 1280×720: Space presses to the first panel, screens taller than the window")
            for name, sh in shows.items():
                tall = sh.get("panel_taller_than_screen_px")
                note = f"   first panel is {tall} px tall (does not fit 720 px)" if tall else ""
                tr.write_line(f"  {name:40} {sh['steps_to_panel']:>4} presses {len(sh['overflowing_screens']):>3} tall screens{note}")
    if panels:
        tr.write_line("slider keypress -> new view displayed latency (ms, median over presses)")
        for name, r in panels.items():
            tr.write_line(f"  {name:20} median {r['median_ms']!s:>8}   all {r['latencies_ms']}")
        tr.write_line(f"written to {ARTIFACTS / 'browser_latency.json'}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "browser_notebooks.json").write_text(json.dumps(nbs, indent=2, ensure_ascii=False))
    if panels:
        (ARTIFACTS / "browser_latency.json").write_text(json.dumps(panels, indent=2, ensure_ascii=False))
