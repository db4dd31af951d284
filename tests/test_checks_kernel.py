"""The checker's time limit where learners meet it: in a Jupyter kernel (cells run in the
kernel's main thread, so the SIGALRM timer is used and the kernel stays usable)."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGALRM timer is Unix-only")


def test_never_returning_function_in_a_kernel_gets_a_verdict_and_the_kernel_lives_on():
    cells = [
        "import threading\nfrom helpers import checks\nprint(threading.current_thread() is threading.main_thread())",
        "def my_softmax(scores):\n    while True:\n        pass\n\nchecks.check_softmax(my_softmax, time_limit=0.5)",
        "def my_attention(Q, K, V):\n    w = Q @ K.T\n    return w * V\n\nchecks.check_attention(my_attention)",
        "print('still here')",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=60, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    outs = ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells]
    assert outs[0] == "True\n"
    assert outs[1].startswith("❌ 你的函数在「3×5 的分数矩阵」这组输入上运行了 0.5 秒还没有返回")
    assert "出错的代码：return w * V" in outs[2]  # the learner's line, from the cell's source
    assert outs[3] == "still here\n"
    assert all(o.get("name") != "stderr" for c in nb.cells for o in c.outputs)


def test_forgotten_return_is_read_from_the_cell_source_in_a_kernel():
    """Final review M1: in a kernel the checker reads the cell's source, so a body without return is ❌
    (forgot_return) while the starter body ``return None`` stays ⏳."""
    cells = [
        "from helpers import checks",
        "def my_causal_mask(n):\n    # 在这里写你的代码\n    return None\n\nchecks.check_causal_mask(my_causal_mask)",
        "import numpy as np\n\ndef my_causal_mask(n):\n    m = np.tril(np.ones((n, n), dtype=bool))\n\n"
        "checks.check_causal_mask(my_causal_mask)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=60, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    outs = ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells]
    assert outs[1].startswith("⏳ 还没完成：函数 my_causal_mask"), outs[1]
    assert outs[2].startswith("❌") and "忘了写 return" in outs[2], outs[2]
