"""Two loopback SSH "machines": two OpenSSH servers on two ports, each with its own client key."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "fs"))


@pytest.fixture(scope="module")
def two_machines():
    from servers import sshd

    reason = sshd.missing()
    if reason is not None:
        pytest.skip(reason)
    directory = Path(tempfile.mkdtemp(prefix="hm-2sshd-"))
    servers = []
    try:
        for name in ("a", "b"):
            servers.append(sshd.start(directory / name))
        yield servers
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(directory, ignore_errors=True)
