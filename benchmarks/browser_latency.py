"""Keypress → new view displayed latency of every slider panel, in a real JupyterLab.

Starts a JupyterLab server from this environment (temp root dir, random token,
free port on 127.0.0.1), opens a scratch notebook that shows each panel of
``helpers.widgets`` in Debian's Chromium (Playwright), focuses the panel's first
slider handle and presses ArrowRight / ArrowLeft like a user.  Latency is
measured in the page: performance.now() at keydown → last DOM mutation or image
load of the view outside the slider (after the view is quiet for 400 ms).

    .venv/bin/python benchmarks/browser_latency.py            # 10 presses per panel
    .venv/bin/python benchmarks/browser_latency.py --presses 20 --notebooks

``--notebooks`` also times Run All of every course notebook.  Prints a table
and writes ``artifacts/browser_latency_benchmark.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "browser"))

import lab_driver as ld  # noqa: E402


def _pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presses", type=int, default=10, help="key presses per panel (half right, half left)")
    ap.add_argument("--notebooks", action="store_true", help="also time Run All of every course notebook")
    args = ap.parse_args(argv)

    if ld.CHROMIUM is None:
        print("chromium not found on PATH (python3 run.py test installs Debian's chromium)")
        return 1
    from playwright.sync_api import sync_playwright

    panels = ld.available_panels()
    half = max(1, args.presses // 2)
    keys = ["ArrowRight"] * half + ["ArrowLeft"] * half
    out: dict = {"panels": {}, "notebooks": {}}
    with tempfile.TemporaryDirectory(prefix="course-lab-") as tmp:
        t0 = time.monotonic()
        with ld.LabServer(Path(tmp)) as server:
            out["server_start_s"] = round(time.monotonic() - t0, 2)
            with sync_playwright() as pw:
                browser = ld.launch_chromium(pw)
                lab = ld.LabPage(browser, server)
                if args.notebooks:
                    for nb in ld.chapter_notebooks():
                        t = time.monotonic()
                        lab.open(f"notebooks/{nb.name}")
                        lab.run_all(timeout=300)
                        lab.wait_widgets()
                        out["notebooks"][nb.name] = round(time.monotonic() - t, 2)
                        lab.close_notebook()
                names = ld.panel_notebook(server.root / ld.PANEL_NOTEBOOK, panels)
                lab.open(ld.PANEL_NOTEBOOK)
                lab.run_all(timeout=300)
                lab.wait_widgets()
                for i, name in enumerate(names, start=1):
                    area = lab.cell_locator(i).locator(".jp-Cell-outputArea")
                    m = ld.measure_panel(lab.page, area, presses=keys)
                    out["panels"][name] = m["latencies_ms"]
                lab.close_notebook()
                lab.close()
                browser.close()

    print(f"JupyterLab server start: {out['server_start_s']} s")
    if out["notebooks"]:
        print(f"\n{'notebook':40} {'Run All (s)':>12}")
        for name, s in out["notebooks"].items():
            print(f"{name:40} {s:>12.1f}")
        print(f"{'total':40} {sum(out['notebooks'].values()):>12.1f}")
    print("\nslider keypress -> new view displayed (ms)")
    print(f"{'panel':20} {'n':>3} {'median':>8} {'p90':>8} {'min':>8} {'max':>8}")
    for name, lats in out["panels"].items():
        if not lats:
            print(f"{name:20} {0:>3} {'-':>8}")
            continue
        print(f"{name:20} {len(lats):>3} {statistics.median(lats):>8.1f} {_pct(lats, 0.9):>8.1f} "
              f"{min(lats):>8.1f} {max(lats):>8.1f}")
    dest = ld.ROOT / "artifacts" / "browser_latency_benchmark.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    print(f"\nwritten to {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
