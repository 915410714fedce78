"""Locates the bundled grammar and stdlib: inside the wheel (`_data/`) or in an editable checkout.

The folders are found with `os.path`: a command on a cached pipeline needs the stdlib's folder (it is on the
import search path) and nothing else of `pathlib`, which takes a few milliseconds to import."""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

_PACKAGE = os.path.dirname(os.path.realpath(__file__))


@cache
def data_folder(name: str) -> str:
    """`grammar` or `stdlib`: the wheel's copy first, then the checkout's top-level folder."""
    for candidate in (os.path.join(_PACKAGE, "_data", name), os.path.join(os.path.dirname(_PACKAGE), name)):
        if os.path.isdir(candidate):
            return candidate
    raise FileNotFoundError(f"hypermetric data folder `{name}` is missing from the installation")


def data_dir(name: str) -> Path:
    from pathlib import Path

    return Path(data_folder(name))


def grammar_file() -> str:
    return os.path.join(data_folder("grammar"), "hypermake.lark")


def grammar_path() -> Path:
    return data_dir("grammar") / "hypermake.lark"


def stdlib_folder() -> str:
    return data_folder("stdlib")


def stdlib_dir() -> Path:
    return data_dir("stdlib")
