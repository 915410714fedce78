"""Fixtures for the flow tests: a local Ray per test module, and task modules Ray can ship to its workers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.ray_workers import local_ray

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


@pytest.fixture(scope="module")
def ray_local() -> Iterator[Any]:
    """A local Ray with two CPUs for one test module (an already running one, e.g. the runtime tests', is
    reused and left running)."""
    with local_ray(HERE) as ray:
        yield ray
