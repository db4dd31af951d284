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

Then, in the same open notebook, the live slideshow (jupyterlab-slideshow) at
projector size 1280×720, with the keys the teacher guide gives: the toolbar's
slideshow button starts it on the chapter's title slide, ``Space`` steps forward
until the first slide that holds a panel, a slider there answers ``ArrowRight``
(the picture changes, the slideshow stays on that slide), and ``Escape`` leaves
it.  Screenshots of the title and the panel slide (before/after the key) go to
``artifacts/screenshots/slides/``; a title or panel cut off by the screen edge fails.
"""

from __future__ import annotations

import json
import time

import pytest

import lab_driver as ld

RESULTS = ld.RESULTS

NOTEBOOKS = ld.chapter_notebooks()
MAX_SLIDE_STEPS = 150  # Space presses allowed to reach the first panel


def slideshow_tour(lab, nb_path, shots) -> dict:
    """Start the slideshow, step to the first panel, move its slider, leave (see the module doc)."""
    page = lab.page
    shots = shots / "slides"
    shots.mkdir(parents=True, exist_ok=True)
    out: dict = {"overflow": [], "steps": 0}
    page.set_viewport_size(ld.SLIDE_VIEWPORT)
    try:
        st = out["title"] = ld.start_slideshow(lab)
        page.screenshot(path=str(shots / f"{nb_path.stem}_1_title.png"))
        t0 = time.monotonic()
        # step until the panel's cell is the one presented (the slideshow scrolls to it)
        while not any(p["index"] == st["active"] for p in st["panels"]) and out["steps"] < MAX_SLIDE_STEPS:
            st = ld.next_slide(page, "Space")
            out["steps"] += 1
            if st["top"] is not None and (st["top"] < -1 or st["bottom"] > st["height"] + 1):
                if st["cells"] not in out["overflow"]:
                    out["overflow"].append(st["cells"])
        out["step_s"] = round(time.monotonic() - t0, 1)
        out["panel"] = st
        if st["panels"]:
            page.screenshot(path=str(shots / f"{nb_path.stem}_2_panel.png"))
            st["panels"] = [p for p in st["panels"] if p["index"] == st["active"]] or st["panels"]
            area = lab.cell_locator(st["panels"][0]["index"]).locator(".jp-Cell-outputArea")
            out["press"] = ld.measure_panel(page, area, presses=("ArrowRight",))["presses"][0]
            page.wait_for_timeout(200)
            out["after_key"] = ld.deck_state(page)
            page.screenshot(path=str(shots / f"{nb_path.stem}_3_panel_moved.png"))
        out["left"] = ld.leave_slideshow(page)
    finally:
        page.set_viewport_size(ld.VIEWPORT)
    return out


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


def test_lab_speaks_chinese(lab, screenshots_dir):
    """binder/overrides.json selects the zh_CN language pack; English stays one menu away."""
    page = lab.page
    locale = page.evaluate(
        """async () => (await window.jupyterapp.serviceManager.settings.fetch(
               '@jupyterlab/translation-extension:plugin')).schema.properties.locale.default"""
    )
    assert locale == "zh_CN", locale
    labels = page.evaluate(
        "() => Array.from(document.querySelectorAll('#jp-menu-panel .lm-MenuBar-itemLabel')).map(e => e.textContent)"
    )
    assert labels[:5] == ["文件", "编辑", "查看", "运行", "内核"], f"menu bar is not in Chinese: {labels}"
    assert "设置" in labels and "帮助" in labels, labels
    # 设置 → 语言 lists English: switching back is one menu away
    page.locator("#jp-menu-panel .lm-MenuBar-item", has_text="设置").first.click()
    page.locator(".lm-Menu .lm-Menu-item", has_text="语言").first.hover()
    page.wait_for_function(
        "() => document.querySelectorAll('.lm-Menu').length >= 2", timeout=5_000
    )
    page.wait_for_timeout(300)
    menus = page.evaluate(
        "() => Array.from(document.querySelectorAll('.lm-Menu')).map(m => Array.from("
        "m.querySelectorAll('.lm-Menu-itemLabel')).map(e => e.textContent))"
    )
    page.screenshot(path=str(screenshots_dir / "lab_chinese_menu.png"))
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    languages = menus[-1]
    assert any(x.startswith("English") for x in languages), f"设置 → 语言 offers no English: {menus}"
    assert any("Chinese" in x or "中文" in x for x in languages), menus


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
        n_before_deck = len(lab.console_errors)
        deck = slideshow_tour(lab, nb_path, screenshots_dir)
        deck["js_errors"] = lab.console_errors[n_before_deck:]
    finally:
        lab.close_notebook()

    RESULTS["notebooks"][nb_path.name] = {
        "seconds": round(seconds, 2),
        "code_cells": len(state["cells"]),
        "widget_views": rep["widgetCells"],
        "sliders": rep["sliders"],
        "screenshot_height": shot["height"],
        "slider_ms": {i: p["latency_ms"] and round(p["latency_ms"], 1) for i, p in moved.items()},
        "slideshow": {"steps_to_panel": deck["steps"], "step_s": deck.get("step_s"),
                      "overflowing_screens": deck["overflow"]},
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

    # 6. the live slideshow: title first, the first panel reachable with Space and live, Escape leaves
    title = deck["title"]
    chapter = int(nb_path.name[:2])
    assert title["cells"][:1] == [0], f"slideshow does not start on the title cell: {title}"
    assert title["first"].startswith(f"第{chapter}章"), f"first slide is not the chapter title: {title['first']!r}"
    assert title["top"] >= 0 and title["bottom"] <= title["height"], f"title slide cut off: {title}"
    if moved:
        st = deck["panel"]
        assert st["panels"], f"no slide with a panel within {MAX_SLIDE_STEPS} presses of Space: {st}"
        p = st["panels"][0]
        assert p["index"] == min(moved), f"first panel slide shows cell {p['index']}, first panel is {min(moved)}"
        if p["bottom"] - p["top"] <= st["height"]:
            assert p["top"] >= 0 and p["bottom"] <= st["height"] + 1 and p["right"] <= st["width"], (
                f"panel cut off on its slide (1280×720): {p}")
        else:  # taller than the screen: no slide metadata can fit it; its top (title, first slider) must show
            assert 0 <= p["top"] and p["right"] <= st["width"], f"panel's top cut off on its slide: {p}"
            RESULTS["notebooks"][nb_path.name]["slideshow"]["panel_taller_than_screen_px"] = round(
                p["bottom"] - p["top"])
        press = deck["press"]
        assert press["before"]["readouts"] != press["after"]["readouts"], "slideshow: the key did not move the slider"
        assert press["before"]["view"] != press["after"]["view"], "slideshow: slider moved, the panel did not change"
        assert deck["after_key"]["mode"] == "presenting" and deck["after_key"]["cells"] == st["cells"], (
            f"moving the slider changed the slide: {deck['after_key']}")
    assert deck["left"]["mode"] is None, f"Escape did not leave the slideshow: {deck['left']}"
    assert not deck["js_errors"], f"JavaScript errors during the slideshow: {deck['js_errors']}"

