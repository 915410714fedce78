"""Runners (`@@`): the stdlib's `runners.background()` and `tmux.session()`, and Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest
from support.waiting import BOUND, wait_until

BACKGROUND = """
import runners
@@runners.background(refresh_interval="0.2")
task t(x="hi") -> o:
  echo "out $x"
  echo "err $x" >&2
  printf 'load 10%%\\rload 20%%\\rloaded\\n'
  echo "$HYPERMAKE_JOB_ID" > "$o"
@@runners.background(refresh_interval="0.2")
task f:
  exit 3
"""


def test_background_runner_runs_jobs_and_reports_their_status(project):
    project.write("main.hm", BACKGROUND)
    result = project.run("run", "t")
    result.ok()
    assert "t[default]> out hi" in result.out and "t[default]> err hi" in result.out
    # a progress bar's redrawn lines come one by one, as a local job's do
    assert "t[default]> load 10%\nt[default]> load 20%\nt[default]> loaded\n" in result.out
    assert project.read("out/t/default/o") == "t\n" and project.read("out/t/default/exitcode") == "0"
    assert project.path("out/t/default/stdout").read_bytes() == b"out hi\nload 10%\rload 20%\rloaded\n"
    assert project.read("out/t/default/stderr") == "err hi\n"
    failed = project.run("run", "f")
    assert failed.code == 1 and "FAILED: exit code 3 ≠ 0" in failed.out
    assert project.read("out/f/default/exitcode") == "3"


def test_a_runner_without_poll_is_an_error(project):
    project.write("main.hm", "object r:\n  def submit(f, wd):\n    true\n@@r\ntask t:\n  true\n")
    result = project.run("run", "t").user_error()
    assert "runner `r` has no function `poll`" in result.err


def test_a_submit_that_fails_fails_the_job(project):
    project.write("main.hm", """
object r:
  refresh_interval = "0.1"
  def submit(script_file, wd):
    echo "queue full" >&2
    exit 7
  def poll(handle):
    echo 0
@@r
task t:
  true
""")
    result = project.run("run", "t")
    assert result.code == 1 and "FAILED: exit code 7 ≠ 0" in result.out
    stderr = project.read("out/t/default/stderr")
    assert "r.submit" in stderr and "queue full" in stderr


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (tests/servers/install.sh)")
def test_tmux_session_runner(project):
    project.write("main.hm", """
import tmux
@@tmux.session(refresh_interval="0.2")
task t -> o:
  echo "in tmux"
  echo done > "$o"
@@tmux.session(refresh_interval="0.2")
task f:
  exit 5
""")
    project.run("run", "t").ok()
    assert project.read("out/t/default/o") == "done\n" and project.read("out/t/default/stdout") == "in tmux\n"
    result = project.run("run", "f")
    assert result.code == 1 and project.read("out/f/default/exitcode") == "5"


def test_ctrl_c_cancels_a_runner_job(project):
    project.write("main.hm", f"""
import runners
@@runners.background(refresh_interval="0.2")
task slow -> o:
  echo $$ > {project.root}/pid
  {project.until_killed()}
  touch "$o"
""")
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "hypermetric", "run", "slow"], cwd=project.root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid_file = project.path("pid")
    try:
        wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), what="the job to start")
    except AssertionError:
        proc.kill()
        raise AssertionError(proc.communicate()) from None
    job_pid = int(pid_file.read_text())
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=BOUND)
    assert proc.returncode == 130, (out, err)
    wait_until(lambda: not _alive(job_pid), what="the runner's `cancel` to stop the job")
    assert not project.path("out/slow/default/exitcode").exists()


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie nobody has reaped yet has ended)."""
    if os.path.isdir("/proc"):
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
