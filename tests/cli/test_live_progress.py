"""The live progress bar as a user sees it: `hypermetric run` on a real pseudo-terminal.

Each job prints a `\r` progress line, then waits for its own gate file; the test reads the terminal until the
expected text appears, opens one gate, and reads on. Nothing depends on how long anything takes.
"""

from __future__ import annotations

import re
import subprocess
import sys

from support.terminal import Terminal
from support.waiting import BOUND

PIPELINE = """\
a = {A: 1 2 3}
gates = "GATES"
task t(a=$, gates=$) -> o:
  printf 'step 1/2 of %s\\r' "$a"
  while [ ! -e "$gates/$a" ]; do sleep 0.05; done
  echo "done $a" > $o
"""


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
