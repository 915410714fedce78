"""A real Ctrl-C while jobs wait in the local runner's queue (handed over ahead of a free slot) and in folders
made ahead: the running job is stopped and not done, and no waiting job runs, keeps a folder, or counts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from support.waiting import wait_until

TIMEOUT = 60.0  # bounds a failure only; nothing waits for it to pass


def test_ctrl_c_leaves_the_jobs_queued_ahead_not_run(project):
    root = project.root
    os.mkfifo(project.path("never"))  # nobody opens it for writing: the first job blocks until stopped
    project.write("main.hm", f"""
    n = {{N: 0 1 2 3 4 5}}
    task t(n=$) -> o:
      echo $n >> {root}/began
      if [ $n = 0 ]; then echo $$ > {root}/pid; exec cat {root}/never; fi
      touch $o
    """)
    runner = subprocess.Popen([sys.executable, "-m", "hypermetric", "run", "t[N: *]", "-j1"], cwd=root,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_until(lambda: project.path("pid").exists() and project.path("pid").read_text().strip(), "the job")
        # the next job is queued in the runner and the one after it made ahead, its shell behind its gate
        wait_until(lambda: project.path("out/t/.N=2.staged/script").exists(), "the folder made ahead")
        runner.send_signal(signal.SIGINT)
        out, err = runner.communicate(timeout=TIMEOUT)
    finally:
        if runner.poll() is None:  # a failing test: leave nothing running
            os.killpg(runner.pid, signal.SIGKILL)
            runner.communicate()
    assert runner.returncode == 130, out + err
    assert "Traceback" not in err
    assert project.path("began").read_text().split() == ["0"]  # no other job began
    assert not project.path("out/t/default/exitcode").exists()
    assert sorted(os.listdir(project.path("out/t"))) == ["default"]  # nothing made ahead is left
    assert "5 not run" in out or "6 not run" in out, out
