"""Helpers for tests whose functions run in Ray workers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def ship_by_value(ray: Any, folder: Path) -> None:
    """Ray workers cannot import the test modules of `folder`, so Ray pickles them by value instead."""
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path and Path(path).resolve().parent == folder:
            ray.cloudpickle.register_pickle_by_value(module)


@contextmanager
def local_ray(folder: Path) -> Iterator[Any]:
    """A local Ray with two CPUs that can run the test modules of `folder`; one already running (another
    folder's) is reused and left running."""
    import os

    import ray

    started = not ray.is_initialized()
    if started:
        os.environ.pop("RAY_ADDRESS", None)
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    ship_by_value(ray, folder)
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()
