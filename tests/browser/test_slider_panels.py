"""Each slider panel type, moved with the keyboard like a user, in a real JupyterLab.

A scratch notebook written into the server's temp root displays every panel of
``helpers.widgets`` in its own cell.  For each panel the first slider handle is
focused and ArrowRight / ArrowLeft are pressed; after every press the slider's
readout, the view (image / SVG / HTML outside the slider) and, where the panel
shows numbers as text, those numbers must change.  Keypress → new view
displayed latency is measured in the page (performance.now() at keydown, last
DOM mutation or image load of the view) and written to
``artifacts/browser_latency.json`` (by conftest.py); timings are reported, never asserted.
The panels of chapter 10 (head view and model view of the trained model) get the
same six presses in the chapter itself.
"""

from __future__ import annotations

import pytest

import lab_driver as ld

RESULTS = ld.RESULTS


@pytest.fixture(scope="module")
def panels_page(lab, lab_server, screenshots_dir):
    """The scratch notebook with one panel per cell, run once; yields {panel name: cell index}."""
    available = ld.available_panels()
    if not available:
        pytest.skip("helpers.widgets has none of the agreed panels yet")
    names = ld.panel_notebook(lab_server.root / ld.PANEL_NOTEBOOK, available)
    lab.open(ld.PANEL_NOTEBOOK)
    try:
        state = lab.run_all(timeout=180)
        bad = [(c["src"], c["bad"]) for c in state["cells"] if c["bad"]]
        assert not bad, f"panels raised or wrote to stderr: {bad}"
        rep = lab.wait_widgets(timeout=30)
        assert rep["loading"] == 0 and rep["widgetErrors"] == 0, rep
        lab.screenshot_full(screenshots_dir / "slider_panels.png")
        # cell 0 imports, cell i + 1 shows panel i
        yield {name: i + 1 for i, name in enumerate(names)}
    finally:
        lab.close_notebook()


@pytest.mark.parametrize("panel", list(ld.PANELS))
def test_slider_moves_view(panel, lab, panels_page):
    if panel not in panels_page:
        pytest.skip(f"helpers.widgets has no {ld.PANELS[panel].split('(')[0]} yet")
    cell = lab.cell_locator(panels_page[panel])
    area = cell.locator(".jp-Cell-outputArea")
    handles = area.locator(".widget-slider .noUi-handle")
    assert handles.count() > 0, f"{panel}: no slider handle rendered"

    m = ld.measure_panel(lab.page, area)
    RESULTS["panels"][panel] = {
        "median_ms": m["median_ms"],
        "latencies_ms": m["latencies_ms"],
        "keys": [p["key"] for p in m["presses"]],
        "sliders": handles.count(),
        "presses_changing_numbers": sum(p["before"]["numbers"] != p["after"]["numbers"] for p in m["presses"]),
        "presses_changing_images": sum(p["before"]["imgs"] != p["after"]["imgs"] or p["before"]["svgs"] != p["after"]["svgs"]
                                       for p in m["presses"]),
    }
    print(f"{panel}: keypress -> view latency median {m['median_ms']} ms, all {m['latencies_ms']}")

    for p in m["presses"]:
        before, after = p["before"], p["after"]
        assert before["readouts"] != after["readouts"], f"{panel}: {p['key']} did not move the slider"
        assert before["view"] != after["view"], f"{panel}: {p['key']} moved the slider but the view did not change"
        assert p["latency_ms"] is not None, f"{panel}: no view update seen after {p['key']}"
    # numbers shown as text outside the slider (matrix cells, weights, results) follow every press
    assert all(p["before"]["nNumbers"] for p in m["presses"]), f"{panel}: shows no numbers next to its figure"
    stuck = [p["key"] for p in m["presses"] if p["before"]["numbers"] == p["after"]["numbers"]]
    assert not stuck, f"{panel}: the numbers shown did not change after {stuck}"


CH10 = ld.NOTEBOOKS / "10_induction_heads.ipynb"


@pytest.mark.skipif(not CH10.exists(), reason="chapter 10 (head view of the trained model) is not there yet")
def test_ch10_head_view_keypresses(lab):
    """Chapter 10's head-view / model-view panels on the trained model, six presses each (like the panels above)."""
    lab.open(f"notebooks/{CH10.name}")
    try:
        state = lab.run_all(timeout=180)
        assert not [c["bad"] for c in state["cells"] if c["bad"]], "chapter 10 raised or wrote to stderr"
        rep = lab.wait_widgets(timeout=30)
        cells = [c["index"] for c in rep["cells"] if c["expected"] and c["sliders"]]
        assert cells, "chapter 10 shows no panel with a slider"
        for index in cells:
            area = lab.cell_locator(index).locator(".jp-Cell-outputArea")
            m = ld.measure_panel(lab.page, area)
            name = f"ch10 cell {index}"
            RESULTS["panels"][name] = {"median_ms": m["median_ms"], "latencies_ms": m["latencies_ms"],
                                       "keys": [p["key"] for p in m["presses"]]}
            print(f"{name}: keypress -> view latency median {m['median_ms']} ms, all {m['latencies_ms']}")
            for p in m["presses"]:
                assert p["before"]["readouts"] != p["after"]["readouts"], f"{name}: {p['key']} did not move the slider"
                assert p["before"]["view"] != p["after"]["view"], f"{name}: {p['key']} did not change the view"
                assert p["before"]["numbers"] != p["after"]["numbers"], f"{name}: the numbers shown did not change"
    finally:
        lab.close_notebook()
