"""Every course notebook, run in a real JupyterLab in Chromium, as a learner would.

For each ``notebooks/NN_*.ipynb``: open it, Run All, wait until the kernel is
idle and every code cell has an execution count, then check what the page
shows: no error and no stderr output, every widget output rendered as a live
widget (never the "Loading widget…" / "Error displaying widget" fallback),
sliders present where panels are, figures shown at their natural size (not
stretched), no JavaScript error in the page, and no pop-up (news prompt,
dialog) over the notebook.  A screenshot of the whole notebook goes to
``artifacts/screenshots/``; then the first slider of every panel is moved
one step with the keyboard and the panel must change.
"""

from __future__ import annotations

import json
import time

import pytest

import lab_driver as ld

RESULTS = ld.RESULTS

NOTEBOOKS = ld.chapter_notebooks()


def test_project_lab_settings_installed():
    """run.py copies binder/overrides.json to where JupyterLab reads it (as postBuild does on Binder)."""
    src = ld.ROOT / "binder" / "overrides.json"
    assert ld.LAB_OVERRIDES.exists(), (
        f"{ld.LAB_OVERRIDES} is missing: run `python3 run.py test` (it installs the project's "
        "JupyterLab settings into the environment)"
    )
    assert json.loads(ld.LAB_OVERRIDES.read_text()) == json.loads(src.read_text())


def test_no_news_prompt_and_no_update_check(lab):
    """The project's settings reach the browser: news and update check are off, no toast shown."""
    settings = lab.page.evaluate(
        """async () => {
            const s = await window.jupyterapp.serviceManager.settings.fetch(
                '@jupyterlab/apputils-extension:notification');
            // the server folds overrides.json into the schema defaults
            const props = s.schema.properties;
            return {fetchNews: props.fetchNews.default, checkForUpdates: props.checkForUpdates.default,
                    user: s.settings};
        }"""
    )
    assert settings["fetchNews"] == "false", settings
    assert settings["checkForUpdates"] is False, settings
    assert "fetchNews" not in (settings["user"] or {}), settings
    lab.page.wait_for_timeout(1000)  # the news prompt, when on, shows within a moment of start-up
    toasts = lab.page.evaluate(
        "() => Array.from(document.querySelectorAll('.Toastify__toast')).map(e => e.innerText)"
    )
    assert not toasts, f"pop-up shown over the notebook: {toasts}"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_jupyterlab(nb_path, lab, screenshots_dir):
    rel = f"notebooks/{nb_path.name}"
    t0 = time.monotonic()
    n_console = len(lab.console_errors)
    lab.open(rel)
    try:
        state = lab.run_all(timeout=180)
        rep = lab.wait_widgets(timeout=30)
        seconds = time.monotonic() - t0
        js_errors = lab.console_errors[n_console:]
        shot = lab.screenshot_full(screenshots_dir / f"{nb_path.stem}.png")
        # each panel of this chapter (with its own arguments) answers one keypress
        moved = {}
        for c in rep["cells"]:
            if c["expected"] and c["sliders"]:
                area = lab.cell_locator(c["index"]).locator(".jp-Cell-outputArea")
                moved[c["index"]] = ld.measure_panel(lab.page, area, presses=("ArrowRight",))["presses"][0]
    finally:
        lab.close_notebook()

    RESULTS["notebooks"][nb_path.name] = {
        "seconds": round(seconds, 2),
        "code_cells": len(state["cells"]),
        "widget_views": rep["widgetCells"],
        "sliders": rep["sliders"],
        "screenshot_height": shot["height"],
        "slider_ms": {i: p["latency_ms"] and round(p["latency_ms"], 1) for i, p in moved.items()},
    }

    # 1. every code cell ran, none produced an error or stderr
    unexecuted = [c["index"] for c in state["cells"] if c["count"] is None]
    assert not unexecuted, f"cells without execution count: {unexecuted}"
    counts = [c["count"] for c in state["cells"]]
    assert counts == sorted(counts) and counts[:1] in ([], [1]), (
        f"not a fresh top-to-bottom run (execution counts {counts})")
    bad = [(c["index"], c["src"], c["bad"]) for c in state["cells"] if c["bad"]]
    assert not bad, f"error/stderr outputs after Run All: {bad}"
    assert not rep["stderr"], f"stderr/error shown on the page: {rep['stderr']}"

    # 2. every widget output is a live widget, not a fallback text
    assert rep["loading"] == 0, "a widget still shows 'Loading widget...'"
    assert rep["widgetErrors"] == 0, "a widget shows 'Error displaying widget'"
    missing = [c["index"] for c in rep["cells"] if c["expected"] and not c["views"]]
    assert not missing, f"widget outputs not rendered as widgets in cells {missing}"
    if rep["widgetCells"]:
        assert rep["sliders"] > 0 and rep["sliderHandles"] > 0, "panels shown but no slider visible"

    for index, p in moved.items():
        assert p["before"]["readouts"] != p["after"]["readouts"], f"cell {index}: {p['key']} did not move the slider"
        assert p["before"]["view"] != p["after"]["view"], f"cell {index}: slider moved, the panel did not change"

    # 3. figures at natural size: never enlarged (blurred) nor distorted
    for img in rep["imgs"]:
        if not img["natW"] or not img["w"]:
            continue
        assert img["w"] <= img["natW"] * 1.01 + 1, f"image stretched beyond its natural size: {img}"
        ratio_nat = img["natW"] / img["natH"]
        ratio_shown = img["w"] / img["h"]
        assert abs(ratio_shown - ratio_nat) / ratio_nat < 0.02, f"image aspect ratio distorted: {img}"

    # 4. the page itself logged no JavaScript error (widget manager, renderers)
    assert not js_errors, f"JavaScript errors in the page: {js_errors}"

    # 5. nothing covers the notebook
    assert not rep["toasts"], f"pop-up notification shown: {rep['toasts']}"
    assert not rep["dialogs"], f"dialog shown: {rep['dialogs']}"
