"""Shared fixtures: a temporary project directory and the CLI runner."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

# Property tests draw the same examples on every run: a suite that passes passes again, and an edge case a
# random draw might find one day is written down as an explicit example instead.
settings.register_profile("repeatable", derandomize=True)
settings.load_profile("repeatable")


@pytest.fixture(autouse=True)
def _plain_output(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.delenv("HYPERMETRIC_PATH", raising=False)
    monkeypatch.delenv("HYPERMAKE_PATH", raising=False)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A temporary working directory with a `Project` helper (write files, run the CLI)."""
    from support.project import Project

    monkeypatch.chdir(tmp_path)
    return Project(tmp_path)


def pytest_configure(config):
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(Path(config.rootpath) / ".hypothesis"))
