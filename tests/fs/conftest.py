"""Fixtures of the file-system tests: loopback servers (one per session), short project directories."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture(scope="session")
def sshd_server():
    """An OpenSSH server on 127.0.0.1 reachable as `hmtest` through `ssh -F <config>`."""
    from servers import sshd

    reason = sshd.missing()
    if reason is not None:
        pytest.skip(reason)
    directory = Path(tempfile.mkdtemp(prefix="hm-sshd-"))
    server = sshd.start(directory)
    yield server
    server.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on 127.0.0.1; `env` points the aws CLI at it."""
    from servers import s3

    reason = s3.missing()
    if reason is not None:
        pytest.skip(reason)
    directory = Path(tempfile.mkdtemp(prefix="hm-s3-"))
    server = s3.start(directory)
    yield server
    server.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def short_project(monkeypatch):
    """A project in a short directory under /tmp: an ssh control socket path must stay under ~100 bytes."""
    from support.project import Project

    root = Path(tempfile.mkdtemp(prefix="hm", dir="/tmp"))
    monkeypatch.chdir(root)
    yield Project(root)
    shutil.rmtree(root, ignore_errors=True)
