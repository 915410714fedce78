"""Locates the bundled grammar and stdlib: inside the wheel (`_data/`) or in an editable checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    """`grammar` or `stdlib`: the wheel's copy first, then the checkout's top-level folder."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"hypermetric data folder `{name}` is missing from the installation")


def grammar_path() -> Path:
    return data_dir("grammar") / "hypermake.lark"


def stdlib_dir() -> Path:
    return data_dir("stdlib")
