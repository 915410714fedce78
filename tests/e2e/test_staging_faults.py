"""A job started ahead (its folder made and its script process waiting behind its gate while the job before
it runs) when its runner is killed with -9: it runs nothing, its process does not outlive the runner, and a
re-run runs it once, from a fresh folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from support.waiting import BOUND, alive, read_until, wait_exited


def _in_folder(folder: str) -> list[int]:
    """The live processes whose working directory is `folder`."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.readlink(f"/proc/{name}/cwd") == folder and alive(int(name)):
                    found.append(int(name))
            except OSError:
                pass
    return found


def _kill_the_runner_while_b_waits_ahead(project) -> str:
    """Run `b` (after `a`) and kill the runner with -9 while `a` runs and `b` waits, made ahead; the root."""
    root = os.path.realpath(project.root)
    project.write("main.hm", f"""
    task a -> o:
      if [ -e {root}/second ]; then echo a > $o; exit 0; fi
      echo $$ > {root}/a.pid
      echo ready
      exec cat {root}/never  # blocks until the test kills the runner, and through its watchdog this job

    task b(x=$a.o) -> o:
      echo ran >> {root}/b.ran
      echo b > $o
    """)
    os.mkfifo(os.path.join(root, "never"))  # a FIFO no one opens for writing: reading it blocks for good
    runner = subprocess.Popen([sys.executable, "-m", "hypermetric", "run", "b", "--grace", "0.5"], cwd=root,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        read_until(runner.stdout, "a[default]> ready")  # `b` was made ahead before `a`'s output is read
        waiting = _in_folder(os.path.join(root, "out", "b"))
        assert len(waiting) == 1  # `b`'s script process, behind its gate
        job = int(project.read("a.pid"))
    finally:
        os.killpg(runner.pid, signal.SIGKILL)
        runner.communicate(timeout=BOUND)
    wait_exited([job, *waiting])
    assert not os.path.exists(os.path.join(root, "b.ran"))
    assert not os.path.exists(os.path.join(root, "out", "b", "default"))
    project.write("second", "x")
    return root


def test_a_job_started_ahead_dies_with_its_runner_and_runs_once_on_the_rerun(project):
    root = _kill_the_runner_while_b_waits_ahead(project)
    rerun = project.sh("run", "b", timeout=BOUND)
    assert rerun.code == 0, rerun.err
    assert project.read("b.ran") == "ran\n" and project.read("out/b/default/o") == "b\n"
    assert sorted(os.listdir(os.path.join(root, "out", "b"))) == ["default"]  # the dead runner's folder is gone


def test_the_folder_a_killed_runner_made_ahead_goes_when_its_job_next_starts_the_ordinary_way(project):
    root = _kill_the_runner_while_b_waits_ahead(project)
    first = project.sh("run", "a", timeout=BOUND)  # `b` is not run, so nothing makes it ahead
    assert first.code == 0, first.err
    assert sorted(os.listdir(os.path.join(root, "out", "b"))) == [".default.staged"]
    rerun = project.sh("run", "b", timeout=BOUND)  # `a` is done: `b` starts at once, the ordinary way
    assert rerun.code == 0, rerun.err
    assert project.read("b.ran") == "ran\n" and project.read("out/b/default/o") == "b\n"
    assert sorted(os.listdir(os.path.join(root, "out", "b"))) == ["default"]
