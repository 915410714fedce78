"""Reserved job-directory names (an input or output may not be called `script`, `stdout`, ...) and path
helpers."""

from __future__ import annotations

import os

from hypermetric.store import layout


def test_reserved_names_cover_the_protocol_files() -> None:
    names = ("script", "script.0", "script.12", "args", "stdout", "stderr", "exitcode", "job.json", ".lock")
    for name in names:
        assert layout.is_reserved(name), name


def test_ordinary_names_are_not_reserved() -> None:
    for name in ("out", "scripts", "script.x", "script.", "script.1a", "o", "model"):
        assert not layout.is_reserved(name), name


def test_hidden_sibling_is_hidden_and_unique(tmp_path) -> None:
    path = os.path.join(tmp_path, "t", "default")
    a, b = layout.hidden_sibling(path, "removing"), layout.hidden_sibling(path + "/", "removing")
    assert os.path.dirname(a) == os.path.join(tmp_path, "t")
    assert os.path.basename(a).startswith(".default.removing-")
    assert a != b
