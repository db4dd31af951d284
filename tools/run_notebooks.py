#!/usr/bin/env python3
"""Execute the chapter notebooks in place, top to bottom, the way they are committed.

    .venv/bin/python tools/run_notebooks.py                 # every notebooks/NN_*.ipynb
    .venv/bin/python tools/run_notebooks.py notebooks/03_scaling.ipynb

Runs each notebook in a fresh kernel from the notebooks/ folder (like JupyterLab
and nbval do), keeps the widget state (so nbviewer can show the panels), and
drops the per-cell execution timestamps so re-running an unchanged notebook
gives an unchanged file.  A cell's ``slideshow.slide_type`` of ``"-"`` ("continue
the current slide") is written as no slideshow metadata, which means the same in
nbconvert and RISE: the course's slideshow extension, jupyterlab-slideshow 0.3.4,
hides cells marked ``"-"`` (tests/test_slides.py checks).  Prints the run time of
each notebook.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def drop_continue_slide_type(cell) -> None:
    """``slide_type: "-"`` → no slideshow metadata (same meaning; jupyterlab-slideshow hides "-" cells)."""
    show = cell.metadata.get("slideshow")
    if isinstance(show, dict) and show.get("slide_type") == "-":
        del show["slide_type"]
        if not show:
            del cell.metadata["slideshow"]


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
                   record_timing=False).execute()
    elapsed = time.perf_counter() - start
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        drop_continue_slide_type(cell)
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    total = 0.0
    for p in paths:
        t = run(p)
        total += t
        print(f"{p.name:45s} {t:6.1f} s")
    print(f"{'total':45s} {total:6.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
