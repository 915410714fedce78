"""Helpers for tests whose functions run in Ray workers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def ship_by_value(ray: Any, folder: Path) -> None:
    """Ray workers cannot import the test modules of `folder`, so Ray pickles them by value instead."""
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path and Path(path).resolve().parent == folder:
            ray.cloudpickle.register_pickle_by_value(module)
