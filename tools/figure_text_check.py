#!/usr/bin/env python3
"""How tall is the smallest text of every figure, as a learner sees it in JupyterLab?

    .venv/bin/python tools/figure_text_check.py notebooks/01_tokens_to_qkv.ipynb [...]
    .venv/bin/python tools/figure_text_check.py            # every notebooks/NN_*.ipynb

The rule (issue 11): every number or label drawn in a figure is at least 10 px tall
on screen at a 1280-px-wide JupyterLab window.

How it is measured
------------------
The notebook is executed in memory (the file is not touched) with a hook around
matplotlib's ``FigureCanvasBase.print_figure``, the call through which the inline
backend turns each figure into the PNG a notebook shows.  For every PNG the hook
records its pixel width ``w`` (read from the PNG header, after ``bbox_inches="tight"``)
and every visible, non-empty text of the figure (titles, axis labels, tick labels,
annotations, legend and colorbar texts, figure texts) with its font size.

JupyterLab scales an image down to the width of the output area, never up.  At a
1280-px window with the left sidebar collapsed (as a teacher projects it, and as the
browser tests open it) that width is 1100 px (measured in Chromium with JupyterLab
4.6: ``img.getBoundingClientRect().width``; 848 px with the file browser open).  So

    digit height on screen = size_pt * dpi / 72 * 0.729 * min(1, 1100 / w)

where 0.729 em is the height of a digit in DejaVu Sans, the font of the figures'
Latin text and numbers.  A figure fails when its smallest text is under 10 px.
``--width 848`` checks the stricter sidebar-open layout.

Exit status 1 when any figure fails, else 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
OUTPUT_WIDTH_PX = 1100   # JupyterLab output area at a 1280-px window, left sidebar collapsed
DIGIT_HEIGHT_EM = 0.729  # DejaVu Sans digit height / font size
MIN_PX = 10.0

_HOOK = r'''
import json as _fc_json, struct as _fc_struct
import matplotlib.text as _fc_text
from matplotlib.backend_bases import FigureCanvasBase as _FcCanvas
_FC_STATS = []

def _fc_texts(fig):
    out = []
    def add(t):
        if t is not None and t.get_visible() and t.get_text().strip():
            # an invisible parent (axes turned off) hides its texts
            out.append(t)
    for t in fig.texts:
        add(t)
    if getattr(fig, "_suptitle", None) is not None:
        add(fig._suptitle)
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for t in (ax.title, ax._left_title, ax._right_title):
            add(t)
        for t in ax.texts:
            add(t)
        if ax.axison:
            for axis in (ax.xaxis, ax.yaxis):
                if axis.get_visible():
                    add(axis.label)
                    for t in axis.get_ticklabels(which="both"):
                        add(t)
                    add(axis.get_offset_text())
        leg = ax.get_legend()
        if leg is not None and leg.get_visible():
            for t in leg.get_texts():
                add(t)
            add(leg.get_title())
    for leg in getattr(fig, "legends", []):
        for t in leg.get_texts():
            add(t)
    return out

_fc_orig = _FcCanvas.print_figure
def _fc_print_figure(self, filename, *args, **kwargs):
    result = _fc_orig(self, filename, *args, **kwargs)
    try:
        data = filename.getvalue()
        width = _fc_struct.unpack(">I", data[16:20])[0] if data[:8] == b"\x89PNG\r\n\x1a\n" else None
    except AttributeError:
        width = None
    if width is not None:
        fig = self.figure
        dpi = kwargs.get("dpi") or fig.dpi
        texts = [(float(t.get_fontsize()), t.get_text()[:40]) for t in _fc_texts(fig)]
        _FC_STATS.append({"width": width, "dpi": float(dpi), "texts": texts})
    return result
_FcCanvas.print_figure = _fc_print_figure
'''

_REPORT = "print('FIGCHECK' + _fc_json.dumps(_FC_STATS))"


def measure(path: Path, out_width: float = OUTPUT_WIDTH_PX) -> list[dict]:
    """Execute ``path`` in memory; one record per PNG figure, in output order."""
    nb = nbformat.read(path, as_version=4)
    n_cells = len(nb.cells)
    nb.cells.insert(0, nbformat.v4.new_code_cell(_HOOK))
    nb.cells.append(nbformat.v4.new_code_cell(_REPORT))
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    stats = None
    for out in nb.cells[-1].outputs:
        if out.get("name") == "stdout" and "FIGCHECK" in out.get("text", ""):
            stats = json.loads(out["text"].split("FIGCHECK", 1)[1])
    if stats is None:
        raise RuntimeError(f"{path.name}: the figure hook reported nothing")
    # which cell (numbered like nbval: 0 = first cell of the notebook) showed each PNG
    owners = []
    for i, cell in enumerate(nb.cells[1:1 + n_cells]):
        for out in cell.get("outputs", []):
            if "image/png" in out.get("data", {}):
                owners.append(i)
    records = []
    for k, rec in enumerate(stats):
        scale = min(1.0, out_width / rec["width"])
        px_per_pt = rec["dpi"] / 72 * DIGIT_HEIGHT_EM * scale
        texts = sorted(rec["texts"])
        smallest = texts[0] if texts else (float("inf"), "")
        records.append({
            "cell": owners[k] if k < len(owners) else None,
            "width": rec["width"],
            "scale": round(scale, 3),
            "min_px": round(smallest[0] * px_per_pt, 1),
            "min_text": smallest[1],
            "too_small": sorted({t for s, t in texts if s * px_per_pt < MIN_PX}),
        })
    return records


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--width", type=float, default=OUTPUT_WIDTH_PX,
                    help="output-area width in px (default %(default)s)")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    failed = 0
    for path in paths:
        for rec in measure(path.resolve(), args.width):
            ok = rec["min_px"] >= MIN_PX
            failed += not ok
            flag = "ok  " if ok else "FAIL"
            line = (f"{flag} {path.name} cell {rec['cell']}: png {rec['width']} px wide, shown x{rec['scale']}, "
                    f"smallest text {rec['min_px']} px ({rec['min_text']!r})")
            if not ok:
                line += f"; under {MIN_PX:g} px: {rec['too_small'][:8]}"
            print(line, flush=True)
    print(f"{failed} figure(s) with text under {MIN_PX:g} px")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
