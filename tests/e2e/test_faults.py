"""Real processes and real signals: a job never outlives its runner, never runs twice at once, never counts as
done when it was interrupted, leaves nothing running behind it; `remove`/`invalidate` wait for a running job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from support.waiting import read_until

TIMEOUT = 60.0  # bounds a failure only; nothing waits for it to pass


def _spawn(project, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hypermetric", *args], cwd=project.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for(path, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text().strip()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (a zombie has ended; only its exit status is left)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _wait_dead(pid: int, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            raise AssertionError(f"process {pid} is still alive")
        time.sleep(0.02)


@pytest.fixture
def pids(project):
    """Process ids a test's jobs wrote down (as files); whatever is still alive is killed afterwards."""
    files: list = []
    yield files
    for path in files:
        try:
            pid = int(path.read_text())
        except (OSError, ValueError):
            continue
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _pid(path) -> int:
    _wait_for(path)
    return int(path.read_text())


def test_kill_9_of_the_runner_kills_its_jobs_and_a_rerun_never_runs_beside_them(project, pids):
    root = project.root
    pids.extend([project.path("first.pid"), project.path("first.bg")])
    project.write("main.hm", f"""
    task t -> o:
      if [ -e {root}/first.pid ]; then
        for p in $(cat {root}/first.pid {root}/first.bg); do
          if read -r _ _ state _ < /proc/$p/stat 2> /dev/null && [ "$state" != Z ]; then
            echo "overlap with $p" >> {root}/overlap
          fi
        done
        echo second >> $o
      else
        trap '' TERM
        sleep 1000 &
        echo $! > {root}/first.bg
        echo first >> $o
        echo $$ > {root}/first.tmp && mv {root}/first.tmp {root}/first.pid
        echo ready
        wait
      fi
    """)
    first = _spawn(project, "run", "t", "--grace", "1")
    read_until(first.stdout, "t[default]> ready")  # the runner has registered the job with its watchdog
    job, background = _pid(project.path("first.pid")), _pid(project.path("first.bg"))
    os.killpg(first.pid, signal.SIGKILL)  # the runner and anything in its process group
    first.communicate(timeout=TIMEOUT)
    rerun = project.sh("run", "t", timeout=TIMEOUT)  # at once: the first run's job is still alive
    assert rerun.code == 0, rerun.err
    assert not project.path("overlap").exists(), project.read("overlap")
    assert project.read("out/t/default/o") == "second\n"
    assert not _alive(job) and not _alive(background)


def test_the_jobs_of_a_runner_killed_with_9_die_after_the_grace(project, pids):
    root = project.root
    pids.append(project.path("pid"))
    project.write("main.hm", f"""
    task t -> o:
      trap '' TERM
      echo $$ > {root}/pid
      echo ready
      while true; do sleep 0.05; done
    """)
    runner = _spawn(project, "run", "t", "--grace", "0.5")
    read_until(runner.stdout, "t[default]> ready")  # the runner has registered the job with its watchdog
    job = _pid(project.path("pid"))
    os.killpg(runner.pid, signal.SIGKILL)
    runner.communicate(timeout=TIMEOUT)
    _wait_dead(job)  # the watchdog's doing: nothing else is left to kill it
    _wait_for_gone(project.path("out/t/default/.lock"))  # and it lets go of the lock file
    assert not project.path("out/t/default/exitcode").exists()


def _wait_for_gone(path, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} is still there")
        time.sleep(0.02)


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_a_signal_stops_every_job_group_and_leaves_the_jobs_not_done(project, pids, sig, code):
    root = project.root
    pids.extend([project.path("pid.1"), project.path("bg.1"), project.path("pid.2"), project.path("bg.2")])
    project.write("main.hm", f"""
    n = {{N: 1 2}}
    task t(n=$) -> o:
      sleep 1000 &
      echo $! > {root}/bg.$n
      echo $$ > {root}/pid.$n
      wait
      touch $o
    """)
    proc = _spawn(project, "run", "t[N: *]", "-j2")
    group = [_pid(project.path(f"{kind}.{n}")) for kind in ("pid", "bg") for n in (1, 2)]
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == code, out + err
    assert "Traceback" not in err and "succeeded" not in out
    assert not any(_alive(pid) for pid in group)
    for case in ("default", "N=2"):
        assert not project.path(f"out/t/{case}/exitcode").exists()
        assert not project.path(f"out/t/{case}/.lock").exists()
    assert "COMPLETE" not in project.run("dry-run", "t[N: *]").ok().out


def test_a_job_that_ignores_sigterm_is_killed_after_the_grace_and_is_not_done(project, pids):
    root = project.root
    pids.append(project.path("pid"))
    project.write("main.hm", f"""
    task t -> o:
      trap '' INT TERM HUP
      echo $$ > {root}/pid
      while [ ! -e {root}/go ]; do sleep 0.05; done
      touch $o
    """)
    proc = _spawn(project, "run", "t", "--grace", "0.5")
    job = _pid(project.path("pid"))
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        project.path("go").write_text("x")  # lets a job that was not killed end
    assert proc.returncode == 130, out + err
    assert "succeeded" not in out, out
    assert not _alive(job)
    assert not project.path("out/t/default/exitcode").exists()
    assert not project.path("out/t/default/o").exists()


@pytest.mark.parametrize("mode", ["-s", "-v"])
def test_what_a_job_leaves_running_is_stopped_before_the_job_is_judged(project, pids, mode):
    root = project.root
    pids.extend([project.path("late.pid"), project.path("holder.pid")])
    project.write("main.hm", f"""
    task t -> o:
      (while [ ! -e {root}/go ]; do sleep 0.05; done; echo LATE >> $o) > /dev/null 2>&1 &
      echo $! > {root}/late.pid
      sleep 1000 &
      echo $! > {root}/holder.pid
      echo early > $o
    """)
    result = project.sh("run", "t", mode, timeout=TIMEOUT)  # `holder` keeps the output pipe open
    assert result.code == 0, result.err
    late, holder = int(project.read("late.pid")), int(project.read("holder.pid"))
    assert not _alive(late) and not _alive(holder)
    assert project.read("out/t/default/o") == "early\n"


def _blocked_job(project) -> subprocess.Popen:
    """A running job that ends once `go` exists (it writes `started` first)."""
    root = project.root
    project.write("main.hm", f"""
    task t -> o:
      echo started > {root}/started
      while [ ! -e {root}/go ]; do sleep 0.05; done
      echo done > $o
    """)
    run = _spawn(project, "run", "t")
    _wait_for(project.path("started"))
    return run


def test_remove_waits_for_the_lock_of_a_running_job(project):
    run = _blocked_job(project)
    remove = _spawn(project, "remove", "t", "-y")
    try:
        read_until(remove.stderr, "waiting for the running job t")
        assert project.path("out/t/default/script").exists()  # nothing deleted under the job
        assert remove.poll() is None
    finally:
        project.path("go").write_text("x")
    out, err = run.communicate(timeout=TIMEOUT)
    assert run.returncode == 0, out + err
    assert "internal error" not in out + err
    removed = remove.communicate(timeout=TIMEOUT)
    assert remove.returncode == 0, removed
    assert not project.path("out/t/default").exists()


def test_invalidate_waits_for_a_running_job_so_it_does_not_end_done(project):
    run = _blocked_job(project)
    invalidate = _spawn(project, "invalidate", "t", "-y")
    try:
        read_until(invalidate.stderr, "waiting for the running job t")
    finally:
        project.path("go").write_text("x")
    out, err = run.communicate(timeout=TIMEOUT)
    assert run.returncode == 0, out + err
    assert invalidate.wait(TIMEOUT) == 0
    assert project.read("out/t/default/o") == "done\n"  # outputs kept
    assert not project.path("out/t/default/exitcode").exists()


def test_sigterm_still_stops_the_services_the_run_started(project, pids):
    root = project.root
    pids.append(project.path("pid"))
    project.write("main.hm", f"""
    object svc:
      ephemeral task start -> sock:
        echo up > {root}/service.state
        touch $sock
      ephemeral task stop(sock=$start.sock):
        echo down > {root}/service.state
    task use(s=$svc) -> o:
      echo $$ > {root}/pid
      sleep 1000
      touch $o
    """)
    proc = _spawn(project, "run", "use")
    job = _pid(project.path("pid"))
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 143, out + err
    assert project.read("service.state").strip() == "down", out
    assert not _alive(job)
    assert not project.path("out/use/default/exitcode").exists()
