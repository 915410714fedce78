"""A command on a pseudo-terminal, read as a user would see it (escape codes removed)."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time

from support.waiting import BOUND

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


class Terminal:
    """A command on a pseudo-terminal; `read_until` collects its screen output, escape codes removed."""

    def __init__(self, args: list[str], cwd: str) -> None:
        master, slave = pty.openpty()
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "150", "LINES": "40"}
        env.pop("NO_COLOR", None)
        self.proc = subprocess.Popen(args, cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     close_fds=True)
        os.close(slave)
        self.master = master
        self.text = ""

    def read_until(self, pattern: str) -> re.Match:
        deadline = time.monotonic() + BOUND
        while True:
            found = re.search(pattern, self.text, re.S)
            if found:
                return found
            assert time.monotonic() < deadline, f"never saw {pattern!r} in:\n{self.text}"
            if not self._read():
                raise AssertionError(f"the command ended before {pattern!r} appeared:\n{self.text}")

    def read_to_end(self) -> int:
        while self._read():
            pass
        return self.proc.wait(timeout=BOUND)

    def _read(self) -> bool:
        ready, _, _ = select.select([self.master], [], [], 1.0)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the other side closed: the command has ended
            return False
        if not data:
            return False
        self.text += _ANSI.sub("", data.decode("utf-8", errors="replace"))
        return True

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
