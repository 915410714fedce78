"""Fixtures for the runtime tests: one local Ray for the whole session, and test helpers that Ray can ship."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.ray_workers import local_ray

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


@pytest.fixture(scope="session")
def ray_session() -> Iterator[Any]:
    """A local Ray with two CPUs, started once and shared by every Ray test."""
    with local_ray(HERE) as ray:
        yield ray


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary current directory, so that default output directories land in it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
