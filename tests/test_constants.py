"""Module constants of ``helpers`` are read-only.

Functions read these constants as defaults or data on every call (the tokenizer's word list, a figure's
colours, the step names of a trace …).  A learner who writes ``v = helpers.VOCAB`` and then edits ``v`` in
place must not change what every later call does, so a constant is a tuple, a read-only array or a
``MappingProxyType`` — all the way down.  A new constant (an UPPER_CASE module-level name) is covered
automatically.
"""

from __future__ import annotations

import importlib
import pkgutil
import types

import numpy as np
import pytest

import helpers
from helpers import induction as _induction
from helpers import tokens as _tokens


def _modules():
    names = ["helpers"] + [f"helpers.{m.name}" for m in pkgutil.iter_modules(helpers.__path__)]
    widgets = importlib.import_module("helpers.widgets")
    names += [f"helpers.widgets.{m.name}" for m in pkgutil.iter_modules(widgets.__path__)]
    return names


def _writable_parts(value, path: str) -> list[str]:
    """Paths inside ``value`` that can be changed in place (a list, dict, set or writeable array; the
    token lists of :mod:`helpers.tokens` are lists that refuse every in-place change)."""
    if isinstance(value, _tokens._ReadOnlyList):
        return []
    if isinstance(value, _induction._ReadOnlyDict):   # refuses every change; its values must be read-only too
        return [p for k, x in value.items() for p in _writable_parts(x, f"{path}[{k!r}]")]
    if isinstance(value, (list, dict, set, bytearray)) or (isinstance(value, np.ndarray) and value.flags.writeable):
        return [path]
    if isinstance(value, (tuple, frozenset)):
        return [p for i, x in enumerate(value) for p in _writable_parts(x, f"{path}[{i}]")]
    if isinstance(value, types.MappingProxyType):
        return [p for k, x in value.items() for p in _writable_parts(x, f"{path}[{k!r}]")]
    return []


@pytest.mark.parametrize("module", _modules())
def test_module_constants_are_read_only(module):
    mod = importlib.import_module(module)
    writable = []
    for name, value in vars(mod).items():
        if name.startswith("__") or not name.lstrip("_").isupper():
            continue
        if isinstance(value, types.ModuleType) or callable(value):
            continue
        writable += _writable_parts(value, f"{module}.{name}")
    assert not writable, f"module constants that can be changed in place: {writable}"


def test_read_only_constants_still_work():
    """The constants that became read-only keep their values and uses."""
    from helpers import efficiency, fonts, validation, walkthrough

    assert helpers.VOCAB[0] == "不亦乐乎" and helpers.tokenize("我喜欢这个苹果") == ["我", "喜欢", "这个", "苹果"]
    assert dict(efficiency.KEEP_FREED_MEMORY_ENV) == {"MALLOC_MMAP_THRESHOLD_": str(64 * 2 ** 20),
                                                      "MALLOC_TRIM_THRESHOLD_": str(128 * 2 ** 20)}
    with pytest.raises(TypeError):
        efficiency.KEEP_FREED_MEMORY_ENV["MALLOC_MMAP_THRESHOLD_"] = "0"
    with pytest.raises(TypeError):
        validation.MAX_ABS[np.dtype(np.float64)] = 1.0
    assert validation.MAX_ABS[np.dtype(np.float64)] == 1e150
    assert fonts._SYSTEM_CANDIDATES[0] == "Noto Sans CJK SC"
    assert walkthrough.PARTICIPANTS[-1] == "输出 Z_i" and len(walkthrough._COLORS) == 8
