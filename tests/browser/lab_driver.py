"""Drive a real JupyterLab in Debian's Chromium with Playwright.

Used by the browser tests (``tests/browser/``) and by
``benchmarks/browser_latency.py``.  Nothing here writes into the repository:
the server's root, config, data and runtime dirs are all in a temp dir, into
which the notebooks are copied.

The project's JupyterLab settings (``binder/overrides.json``: no news pop-up,
no update check) apply because they live in
``{sys.prefix}/share/jupyter/lab/settings/overrides.json`` (copied there by
``run.py``), which is not affected by the fresh ``JUPYTER_*`` dirs.
"""

from __future__ import annotations

import importlib
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
# found the way ``run.py`` looks for it before installing Debian's package: ``chromium`` on PATH
CHROMIUM: Path | None = Path(shutil.which("chromium")) if shutil.which("chromium") else None
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
LAB_OVERRIDES = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"

# filled by the browser tests; printed at the end of the session and written to artifacts/
RESULTS: dict = {"notebooks": {}, "panels": {}, "session": {}}

# One cell per slider panel type of ``helpers.widgets`` (agreed API names).
PANELS = {
    "qkv_shapes": "qkv_shapes_panel()",
    "angle": "angle_panel()",
    "dk": "dk_panel()",
    "temperature": "temperature_panel()",
    "vector": "vector_panel()",
    "sentence_explorer": "sentence_explorer()",
    "multihead": "multihead_panel()",
    # hand-made 2 layers x 4 heads x 32 tokens (widgets.example_attention), until chapter 10 shows a trained model
    "head_view": "head_view(*widgets.example_attention())",
    "model_view": "model_view(*widgets.example_attention())",
}


#: Where the scratch notebook of :func:`panel_notebook` goes, relative to the server root.
PANEL_NOTEBOOK = "scratch/panels.ipynb"


def available_panels() -> dict[str, str]:
    """The entries of :data:`PANELS` whose function ``helpers.widgets`` has (all of them, once built)."""
    try:
        widgets = importlib.import_module("helpers.widgets")
    except ImportError:
        return {}
    return {name: call for name, call in PANELS.items() if hasattr(widgets, call.split("(")[0])}


def chapter_notebooks() -> list[Path]:
    """The course notebooks ``notebooks/NN_*.ipynb`` that exist, in order."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """A JupyterLab server from this Python environment, on 127.0.0.1, in ``workdir``."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.root = self.workdir / "root"
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = self.workdir / "jupyterlab.log"
        self._log = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "lab") -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}/{path}{sep}token={self.token}"

    def copy_notebooks(self) -> None:
        """Copy ``notebooks/`` into the server root (runs never write into the repo)."""
        self.root.mkdir(parents=True, exist_ok=True)
        dest = self.root / "notebooks"
        if NOTEBOOKS.is_dir():
            shutil.copytree(
                NOTEBOOKS, dest, dirs_exist_ok=True,
                ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
            )
        else:
            dest.mkdir(parents=True, exist_ok=True)

    def env(self) -> dict:
        env = dict(os.environ)
        for name in ("config", "data", "runtime", "ipython", "mplconfig"):
            (self.workdir / name).mkdir(parents=True, exist_ok=True)
        env.update(
            JUPYTER_CONFIG_DIR=str(self.workdir / "config"),
            JUPYTER_DATA_DIR=str(self.workdir / "data"),
            JUPYTER_RUNTIME_DIR=str(self.workdir / "runtime"),
            IPYTHONDIR=str(self.workdir / "ipython"),
            JUPYTER_PLATFORM_DIRS="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        # a user-level JUPYTER_PATH / settings dir must not leak in
        for var in ("JUPYTER_PATH", "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
            env.pop(var, None)
        return env

    def start(self, timeout: float = 90.0) -> "LabServer":
        self.copy_notebooks()
        cmd = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            f"--IdentityProvider.token={self.token}",
            "--allow-root",
            f"--port={self.port}",
            "--port-retries=0",
            "--ip=127.0.0.1",
            f"--ServerApp.root_dir={self.root}",
            "--LabApp.expose_app_in_browser=True",
            "--ServerApp.open_browser=False",
        ]
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            cmd, cwd=self.root, env=self.env(), stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited early ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=5) as r:
                    if r.status == 200:
                        json.load(r)
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"JupyterLab not ready after {timeout}s:\n{self.log_tail()}")
            time.sleep(0.25)
        return self

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def launch_chromium(playwright):
    """The system's Chromium, :data:`CHROMIUM` (Playwright's own browser download is not reachable)."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


# --------------------------------------------------------------------------- page side

_JS_OPEN = """
async (path) => {
  const app = window.jupyterapp;
  const timeout = (ms, what) => new Promise((_, reject) =>
      setTimeout(() => reject(new Error(what + ' not ready after ' + ms + ' ms')), ms));
  const w = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  window.__nb = w;
  await Promise.race([w.context.ready, timeout(60000, 'document ' + path)]);
  await Promise.race([w.sessionContext.ready, timeout(90000, 'kernel for ' + path)]);
  app.shell.activateById(w.id);
  return w.id;
}
"""

_JS_RUN_ALL = """
async () => {
  // not awaited: Python polls the cells' state with its own timeout
  const app = window.jupyterapp;
  app.shell.activateById(window.__nb.id);
  window.__runAll = {done: false, error: null};
  app.commands.execute('notebook:run-all-cells').then(
      (ok) => { window.__runAll.done = true; window.__runAll.ok = ok; },
      (e) => { window.__runAll.done = true; window.__runAll.error = String(e); });
  return true;
}
"""

_JS_STATE = """
() => {
  const w = window.__nb;
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  const cells = [];
  const n = w.content.model.cells.length;
  for (let i = 0; i < n; i++) {
    const c = w.content.model.cells.get(i);
    if (c.type !== 'code') continue;
    const outs = [];
    for (let j = 0; j < c.outputs.length; j++) {
      const o = c.outputs.get(j).toJSON();
      if (o.output_type === 'error') outs.push({kind: 'error', text: o.ename + ': ' + o.evalue});
      else if (o.output_type === 'stream' && o.name === 'stderr') outs.push({kind: 'stderr', text: String(o.text)});
    }
    cells.push({index: i, count: c.executionCount, src: c.sharedModel.getSource().slice(0, 80), bad: outs});
  }
  const prompts = Array.from(w.node.querySelectorAll('.jp-InputArea-prompt')).map(p => p.textContent);
  return {status: kernel ? kernel.status : 'none', cells, busyPrompts: prompts.filter(t => t.includes('*')).length,
          runAll: window.__runAll || null};
}
"""

_JS_DOM_REPORT = """
() => {
  const w = window.__nb;
  const root = w.node;
  const WIDGET_MIME = 'application/vnd.jupyter.widget-view+json';
  const cells = [];
  for (let i = 0; i < w.content.widgets.length; i++) {
    const cell = w.content.widgets[i];
    if (cell.model.type !== 'code') continue;
    let expected = 0;
    for (let j = 0; j < cell.model.outputs.length; j++) {
      const o = cell.model.outputs.get(j).toJSON();
      if (o.data && o.data[WIDGET_MIME]) expected += 1;
    }
    const area = cell.node.querySelector('.jp-Cell-outputArea');
    const text = area ? (area.innerText || '') : '';
    cells.push({
      index: i, expected,
      views: area ? area.querySelectorAll('.jupyter-widgets').length : 0,
      sliders: area ? area.querySelectorAll('.widget-slider').length : 0,
      loading: (text.match(/Loading widget/g) || []).length,
      errors: (text.match(/Error displaying widget|model not found|Failed to load model|Could not create a view/g) || []).length,
    });
  }
  const stderr = Array.from(root.querySelectorAll(
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], ' +
      '.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]')).map(e => e.innerText.slice(0, 300));
  const imgs = Array.from(root.querySelectorAll('.jp-OutputArea-output img')).map(img => ({
      natW: img.naturalWidth, natH: img.naturalHeight,
      w: img.getBoundingClientRect().width, h: img.getBoundingClientRect().height,
      inWidget: !!img.closest('.jupyter-widgets'), complete: img.complete}));
  const toasts = Array.from(document.querySelectorAll('.Toastify__toast'))
      .map(e => e.innerText.slice(0, 200));
  const dialogs = Array.from(document.querySelectorAll('.jp-Dialog')).map(e => e.innerText.slice(0, 200));
  const text = root.innerText || '';
  return {
    cells, stderr, imgs, toasts, dialogs,
    loading: (text.match(/Loading widget/g) || []).length,
    widgetErrors: (text.match(/Error displaying widget|model not found|Failed to load model|Could not create a view/g) || []).length,
    widgetOutputs: cells.reduce((a, c) => a + c.expected, 0),
    widgetCellsRendered: cells.filter(c => c.expected > 0 && c.views > 0).length,
    widgetCells: cells.filter(c => c.expected > 0).length,
    widgetViews: root.querySelectorAll('.jp-Cell-outputArea .jupyter-widgets').length,
    sliders: root.querySelectorAll('.widget-slider').length,
    sliderHandles: root.querySelectorAll('.widget-slider .noUi-handle').length,
    height: (root.querySelector('.jp-WindowedPanel-inner') || root.querySelector('.jp-Notebook')).scrollHeight,
  };
}
"""

_JS_TO_TOP = """
() => {
  const w = window.__nb;
  w.content.activeCellIndex = 0;
  w.content.deselectAll();
  w.content.mode = 'command';
  const outer = w.content.node.classList.contains('jp-WindowedPanel-outer')
      ? w.content.node : (w.content.node.querySelector('.jp-WindowedPanel-outer') || w.content.node);
  outer.scrollTop = 0;
  w.content.node.scrollTop = 0;
}
"""

_JS_CLOSE = """
async () => {
  const w = window.__nb;
  if (!w) return;
  try { await w.sessionContext.shutdown(); } catch (e) {}
  w.dispose();
  window.__nb = null;
}
"""


class LabPage:
    """One browser page with JupyterLab open; notebooks are opened in it one at a time."""

    def __init__(self, browser, server: LabServer):
        self.server = server
        self.context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        self.page = self.context.new_page()
        self.console_errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.console_errors.append(f"pageerror: {exc}"))
        self.page.on(
            "console",
            lambda msg: self.console_errors.append(f"console.{msg.type}: {msg.text}")
            if msg.type == "error" else None,
        )
        self.page.goto(server.url("lab"), wait_until="domcontentloaded")
        self.page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.started !== undefined", timeout=60_000
        )
        self.page.evaluate("async () => { await window.jupyterapp.started; await window.jupyterapp.restored; }")
        # the notebook gets the whole width, like a projector would show it; no Launcher tab
        self.page.evaluate(
            """() => { const app = window.jupyterapp; app.shell.collapseLeft();
                for (const w of Array.from(app.shell.widgets('main'))) {
                  if (w.node.classList.contains('jp-Launcher') || w.id.startsWith('launcher')) w.close(); } }"""
        )
        self.page.wait_for_timeout(300)

    def close(self) -> None:
        self.context.close()

    # -- notebooks
    def open(self, rel_path: str) -> str:
        return self.page.evaluate(_JS_OPEN, rel_path)

    def run_all(self, timeout: float = 120.0) -> dict:
        """Run all cells; wait until the kernel is idle and every code cell has a count."""
        self.page.evaluate(_JS_RUN_ALL)
        deadline = time.monotonic() + timeout
        while True:
            state = self.page.evaluate(_JS_STATE)
            run = state["runAll"] or {}
            if run.get("error"):
                raise RuntimeError(f"Run All failed: {run['error']}")
            done = (
                run.get("done")
                and state["status"] == "idle"
                and state["busyPrompts"] == 0
                and all(c["count"] is not None for c in state["cells"])
            )
            if done:
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"notebook still running after {timeout}s: {state}")
            self.page.wait_for_timeout(200)

    def wait_widgets(self, timeout: float = 30.0) -> dict:
        """Wait until no widget shows a loading placeholder; return the DOM report."""
        deadline = time.monotonic() + timeout
        while True:
            rep = self.page.evaluate(_JS_DOM_REPORT)
            pending = rep["loading"] or rep["widgetCellsRendered"] < rep["widgetCells"]
            pending = pending or any(not i["complete"] for i in rep["imgs"])
            if not pending or time.monotonic() > deadline:
                return rep
            self.page.wait_for_timeout(200)

    def screenshot_full(self, path: Path, max_height: int = 16000) -> dict:
        """Screenshot of the whole notebook: grow the viewport to the content height.

        Off-screen cells are laid out lazily (content-visibility), so the height
        is measured again after each resize until it stops growing.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        chrome = 140  # menu bar, tab bar, toolbar, status bar
        height = VIEWPORT["height"]
        try:
            for _ in range(6):
                content = int(self.page.evaluate(_JS_DOM_REPORT)["height"])
                want = max(VIEWPORT["height"], min(max_height, content + chrome))
                if want <= height + 4:
                    break
                height = want
                self.page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
                self.page.evaluate(_JS_TO_TOP)
                self.page.wait_for_timeout(400)
            self.page.evaluate(_JS_TO_TOP)
            self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            self.page.screenshot(path=str(path), full_page=True)
        finally:
            self.page.set_viewport_size(VIEWPORT)
        return {"height": height, "truncated": content + chrome > max_height}

    def close_notebook(self) -> None:
        self.page.evaluate(_JS_CLOSE)

    def cell_locator(self, index: int):
        nb_id = self.page.evaluate("() => window.__nb.id")
        return self.page.locator(f"#{nb_id} .jp-Notebook .jp-Cell").nth(index)


# --------------------------------------------------------------------------- sliders

_JS_SIGNATURE = """
(el) => {
  const h = (s) => { let x = 0; for (let i = 0; i < s.length; i++) x = (x * 31 + s.charCodeAt(i)) | 0; return x; };
  const inSlider = (e) => !!e.closest('.widget-slider, .widget-readout, .widget-label');
  const imgs = Array.from(el.querySelectorAll('img')).filter(e => !inSlider(e)).map(i => h(i.src));
  const svgs = Array.from(el.querySelectorAll('svg')).filter(e => !inSlider(e) && !e.closest('svg svg')).map(s => h(s.outerHTML));
  const canv = el.querySelectorAll('canvas').length;
  // text outside the slider controls (numbers in HTML tables, labels, ...)
  const clone = el.cloneNode(true);
  clone.querySelectorAll('.widget-slider, .widget-readout, .widget-label, script, style').forEach(e => e.remove());
  const text = (clone.textContent || '').replace(/\\s+/g, ' ').trim();
  const readouts = Array.from(el.querySelectorAll('.widget-slider .widget-readout')).map(r => r.textContent.trim());
  const numbers = (text.match(/-?\\d+(\\.\\d+)?/g) || []).join(' ');
  return {imgs, svgs, canv, text: h(text), numbers: h(numbers), nNumbers: (text.match(/-?\\d+(\\.\\d+)?/g) || []).length,
          readouts, view: h(JSON.stringify([imgs, svgs, text]))};
}
"""

_JS_INSTRUMENT = """
(el) => {
  if (el.__lat) return;
  const st = {t0: null, last: null, n: 0};
  const inSlider = (node) => {
    const e = node.nodeType === 1 ? node : node.parentElement;
    return !e || !!e.closest('.widget-slider, .widget-readout');
  };
  // "displayed" = the first animation frame after the change (the frame that paints it)
  const painted = () => { const t0 = st.t0; requestAnimationFrame(() => { if (st.t0 === t0) st.last = performance.now(); }); };
  const obs = new MutationObserver((records) => {
    if (st.t0 === null) return;
    for (const r of records) {
      if (inSlider(r.target)) continue;
      st.n += 1; painted(); break;
    }
  });
  obs.observe(el, {subtree: true, childList: true, attributes: true, characterData: true});
  el.addEventListener('load', (e) => { if (st.t0 !== null && !inSlider(e.target)) { st.n += 1; painted(); } }, true);
  el.addEventListener('keydown', () => { st.t0 = performance.now(); st.last = null; st.n = 0; }, true);
  el.__lat = st;
}
"""

_JS_LAT_STATE = """
(el) => { const s = el.__lat; return {t0: s.t0, last: s.last, n: s.n, now: performance.now(),
  pendingImgs: Array.from(el.querySelectorAll('img')).filter(i => !i.complete).length}; }
"""


def _kernel_idle(page) -> bool:
    return page.evaluate(
        "() => { const k = window.__nb.sessionContext.session.kernel; return k.status === 'idle'; }"
    )


def press_and_measure(page, panel, handle, key: str, quiet_ms: float = 400, timeout: float = 20.0):
    """Press ``key`` on a focused slider handle; return (latency_ms, before, after) signatures.

    latency = keydown → the last change of the view outside the slider controls
    (DOM mutation or image ``load``), measured in the page with performance.now().
    """
    el = panel.element_handle()
    page.evaluate(_JS_INSTRUMENT, el)
    before = page.evaluate(_JS_SIGNATURE, el)
    handle.focus()
    handle.press(key)
    deadline = time.monotonic() + timeout
    st = None
    while time.monotonic() < deadline:
        page.wait_for_timeout(50)
        st = page.evaluate(_JS_LAT_STATE, el)
        if st["last"] is None and st["t0"] is not None and st["now"] - st["t0"] > 5000 and _kernel_idle(page):
            break  # nothing outside the slider changed within 5 s
        if (
            st["last"] is not None
            and st["now"] - st["last"] > quiet_ms
            and st["pendingImgs"] == 0
            and _kernel_idle(page)
        ):
            break
    after = page.evaluate(_JS_SIGNATURE, el)
    latency = None if st is None or st["last"] is None or st["t0"] is None else st["last"] - st["t0"]
    return latency, before, after


def _at_edge(handle, key: str) -> bool:
    """True when ``key`` cannot move the noUiSlider handle any further."""
    vals = handle.evaluate(
        "(h) => [h.getAttribute('aria-valuenow'), h.getAttribute('aria-valuemin'), h.getAttribute('aria-valuemax')]"
    )
    try:
        now, lo, hi = (float(v) for v in vals)
    except (TypeError, ValueError):
        return False
    return now >= hi if key == "ArrowRight" else now <= lo


def measure_panel(page, panel, presses=("ArrowRight",) * 3 + ("ArrowLeft",) * 3):
    """Move the first slider of ``panel`` with the keyboard; return measurements.

    A press that would push the handle past its end is turned around
    (ArrowRight at the maximum becomes ArrowLeft), so every press moves it.
    """
    handle = panel.locator(".widget-slider .noUi-handle").first
    flip = {"ArrowRight": "ArrowLeft", "ArrowLeft": "ArrowRight"}
    results = []
    for key in presses:
        if _at_edge(handle, key):
            key = flip[key]
        lat, before, after = press_and_measure(page, panel, handle, key)
        results.append({"key": key, "latency_ms": lat, "before": before, "after": after})
    lats = [r["latency_ms"] for r in results if r["latency_ms"] is not None]
    return {
        "presses": results,
        "latencies_ms": [round(x, 1) for x in lats],
        "median_ms": round(statistics.median(lats), 1) if lats else None,
    }


def panel_notebook(path: Path, panels: dict[str, str]) -> list[str]:
    """Write a scratch notebook that displays each panel in its own cell; return the names in order."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells.append(nbformat.v4.new_code_cell("from helpers import widgets"))
    names = []
    for name, call in panels.items():
        nb.cells.append(nbformat.v4.new_code_cell(f"widgets.{call}"))
        names.append(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return names


# --------------------------------------------------------------------------- slideshow

#: What a projector shows: the slideshow is checked at this size.
SLIDE_VIEWPORT = {"width": 1280, "height": 720}

# The cells jupyterlab-slideshow shows now (class jp-deck-mod-onscreen), their extent on
# screen, the first one's text, and what the visible part holds (slider panels).
_JS_DECK = """
() => {
  const w = window.__nb;
  const mode = document.body.dataset.jpDeckMode || null;
  const cells = [];
  let top = null, bottom = null;
  for (let i = 0; i < w.content.widgets.length; i++) {
    const c = w.content.widgets[i];
    if (!c.node.classList.contains('jp-deck-mod-onscreen')) continue;
    const r = c.node.getBoundingClientRect();
    cells.push(i);
    if (r.height > 0) {
      top = top === null ? r.top : Math.min(top, r.top);
      bottom = bottom === null ? r.bottom : Math.max(bottom, r.bottom);
    }
  }
  const on = cells.map(i => w.content.widgets[i].node);
  const first = on.length ? (on[0].innerText || '').trim().split('\\n')[0] : '';
  const panels = [];
  for (const i of cells) {
    const area = w.content.widgets[i].node.querySelector('.jp-Cell-outputArea');
    if (area && area.querySelector('.widget-slider')) {
      const r = area.getBoundingClientRect();
      panels.push({index: i, top: r.top, bottom: r.bottom, left: r.left, right: r.right});
    }
  }
  return {mode, cells, active: w.content.activeCellIndex, top, bottom, height: window.innerHeight,
          width: window.innerWidth, first, panels};
}
"""


def deck_state(page) -> dict:
    """The slideshow's current screen: presenting or not, cells shown, their extent, panels."""
    return page.evaluate(_JS_DECK)


def start_slideshow(lab: "LabPage") -> dict:
    """Select the first cell and click the notebook toolbar's slideshow button ("Toggle Deck")."""
    page = lab.page
    page.evaluate(
        "() => { const w = window.__nb; w.content.activeCellIndex = 0; w.content.deselectAll();"
        " w.content.mode = 'command'; }"
    )
    nb_id = page.evaluate("() => window.__nb.id")
    page.locator(f"#{nb_id} .jp-Toolbar-item[data-jp-item-name='deck'] jp-button, "
                 f"#{nb_id} .jp-Toolbar-item[data-jp-item-name='deck'] button").first.click()
    page.wait_for_function("() => document.body.dataset.jpDeckMode === 'presenting'", timeout=15_000)
    return wait_deck_settled(page)


def wait_deck_settled(page, before: tuple | None = None, timeout: float = 10.0) -> dict:
    """Wait until the step (shown cells, active cell) differs from ``before`` and the screen stops moving."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        page.wait_for_timeout(100)
        st = deck_state(page)
        key = (st["cells"], st["active"], st["top"], st["bottom"])
        if st["cells"] and key[:2] != before and key == last:
            return st
        last = key
        if time.monotonic() > deadline:
            return st


def next_slide(page, key: str = "Space") -> dict:
    """Press ``key`` (Space: next step of the slideshow); return the new screen."""
    st = deck_state(page)
    before = (st["cells"], st["active"])
    page.keyboard.press(key)
    return wait_deck_settled(page, before)


def leave_slideshow(page) -> dict:
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.body.dataset.jpDeckMode", timeout=10_000)
    return deck_state(page)
