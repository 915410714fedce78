"""Helpers shared by the test servers: free ports, executables (the virtualenv's first), waiting."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable

VENV_BIN = os.path.dirname(sys.executable)


def search_path() -> str:
    """PATH with the virtualenv's bin directory first (where `tests/servers/install.sh` puts moto and aws)."""
    return os.pathsep.join([VENV_BIN, os.environ.get("PATH", "")])


def which(name: str, *extra: str) -> str | None:
    """The executable `name` on the search path, else the first of `extra` that exists."""
    import shutil

    found = shutil.which(name, path=search_path())
    if found is not None:
        return found
    return next((p for p in extra if os.access(p, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `check` every 50 ms until it is true; RuntimeError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")
