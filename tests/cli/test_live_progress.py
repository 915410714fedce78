"""The live progress bar as a user sees it: `hypermetric run` on a real pseudo-terminal.

Each job prints a `\r` progress line, then waits for its own gate file; the test reads the terminal until the
expected text appears, opens one gate, and reads on. Nothing depends on how long anything takes.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

from support.waiting import BOUND

PIPELINE = """\
a = {A: 1 2 3}
gates = "GATES"
task t(a=$, gates=$) -> o:
  printf 'step 1/2 of %s\\r' "$a"
  while [ ! -e "$gates/$a" ]; do sleep 0.05; done
  echo "done $a" > $o
"""

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


def test_bar_counts_eta_and_latest_line_on_a_terminal(tmp_path):
    gates = tmp_path / "gates"
    gates.mkdir()
    (tmp_path / "main.hm").write_text(PIPELINE.replace("GATES", str(gates)))
    term = Terminal([sys.executable, "-m", "hypermetric", "run", "main.hm", "t[A: *]", "-j2"], str(tmp_path))
    try:
        # Two jobs run, one waits for a slot; nothing has finished, so there is no estimate yet. Each running
        # job's `\r` progress line shows beside it.
        term.read_until(r"0/3\s+0%.*ETA -:--\s+2 running, 1 queued")
        term.read_until(r"t\[default\]\s+[\d.]+ s\s+step 1/2 of 1")
        term.read_until(r"t\[A: 2\]\s+[\d.]+ s\s+step 1/2 of 2")
        (gates / "1").touch()
        line = term.read_until(r"t\[default\]: SUCCESS")
        # The bar drawn with that line already counts the job, and now has an estimate.
        term.read_until(r"1/3\s+33%.*ETA \d+:\d\d\s+2 running")
        assert re.search(r"\d/3", term.text[line.end():]).group() == "1/3"  # never a stale 0/3 after it
        (gates / "2").touch()
        (gates / "3").touch()
        assert term.read_to_end() == 0
    finally:
        term.close()
    assert "3/3" in term.text and "100%" in term.text
    assert "> step 1/2" not in term.text  # a `\r` line is shown in place, never scrolled as a log line
    assert "3 succeeded" in term.text


def test_piped_run_prints_plain_lines(tmp_path):
    gates = tmp_path / "gates"
    gates.mkdir()
    for name in "123":
        (gates / name).touch()
    (tmp_path / "main.hm").write_text(PIPELINE.replace("GATES", str(gates)))
    proc = subprocess.run([sys.executable, "-m", "hypermetric", "run", "main.hm", "t[A: *]", "--color", "always"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=BOUND)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "t[default]: RUNNING" in lines and "t[default]> step 1/2 of 1" in lines
    assert "t[A: 3]: SUCCESS" in lines
    assert "━" not in proc.stdout  # no bar off a terminal
