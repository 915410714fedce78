"""Real `hypermetric` processes: concurrent runs, Ctrl-C, and `kill -9` followed by a re-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from support.waiting import BOUND, rendezvous, wait_until


def _spawn(project, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hypermetric", *args], cwd=project.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for(path) -> None:
    wait_until(path.exists, what=f"{path} to appear")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False


def test_two_concurrent_runs_execute_every_job_once(project):
    project.write("main.hm", f"""
    n = {{N: 1 2 3 4}}
    task t(n=$) -> o:
      echo "$n" >> {project.root}/executions.log
      sleep 0.3
      echo "$n" > $o
    """)
    first = _spawn(project, "run", "t[N: *]", "-j2")
    second = _spawn(project, "run", "t[N: *]", "-j2")
    assert first.wait(BOUND) == 0, first.stderr.read()
    assert second.wait(BOUND) == 0, second.stderr.read()
    runs = sorted(project.read("executions.log").split())
    assert runs == ["1", "2", "3", "4"]


def test_sigint_still_stops_the_services_the_run_started(project):
    project.write("main.hm", f"""
    object svc:
      ephemeral task start -> sock:
        echo up > {project.root}/service.state
        touch $sock
      ephemeral task stop(sock=$start.sock):
        echo down > {project.root}/service.state
    task use(s=$svc) -> o:
      echo $$ > {project.root}/pid
      {project.until_killed()}
      touch $o
    """)
    proc = _spawn(project, "run", "use")
    _wait_for(project.path("pid"))
    assert project.read("service.state").strip() == "up"
    proc.send_signal(signal.SIGINT)  # a job spawned while the run is being cancelled is stopped too
    assert proc.wait(BOUND) == 130, proc.stderr.read()
    out = proc.stdout.read()
    assert project.read("service.state").strip() == "down", out  # `stop` ran after the interrupt
    assert "stopping the services" in out
    assert not project.path("out/use/default/o").exists()
    assert not _alive(int(project.read("pid")))


def test_sigint_stops_every_job_and_exits_130(project):
    project.write_jobs_until_killed()
    proc = _spawn(project, "run", "t[N: *]", "-j2")
    for n in (1, 2):
        _wait_for(project.path(f"pid.{n}"))
    pids = [int(project.read(f"pid.{n}")) for n in (1, 2)]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(BOUND) == 130
    wait_until(lambda: not any(_alive(pid) for pid in pids), what="the jobs' scripts to end")
    for case in ("default", "N=2"):
        assert not project.path(f"out/t/{case}/exitcode").exists()
        assert not project.path(f"out/t/{case}/.lock").exists()
    status = project.run("dry-run", "t[N: *]").ok().out
    assert "COMPLETE" not in status


def test_kill_9_of_the_runner_then_rerun_succeeds(project):
    marker = project.path("go")
    project.write("main.hm", f"""
    task t -> o:
      touch {project.root}/started
      while [ ! -e {marker} ]; do sleep 0.05; done
      echo done > $o
    """)
    proc = _spawn(project, "run", "t")
    _wait_for(project.path("started"))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert not project.path("out/t/default/exitcode").exists()
    marker.write_text("")
    rerun = project.sh("run", "t", timeout=60)
    assert rerun.code == 0, rerun.err
    assert project.read("out/t/default/o") == "done\n"


@pytest.mark.parametrize("flag,overlap", [("-j1", False), ("-j2", True)])
def test_parallelism(project, flag, overlap):
    """With -j2 two independent jobs run at the same time (each waits until the other has started); with -j1
    one after the other."""
    import json
    from datetime import datetime

    together = rendezvous(project.path("started"), "$n", 2).replace("\n", "\n      ") if overlap else ""
    project.write("main.hm", f"""
    n = {{N: 1 2}}
    task t(n=$) -> o:
      {together}touch $o
    """)
    project.sh("run", "t[N: *]", flag).ok()
    spans = []
    for case in ("default", "N=2"):
        info = json.loads(project.read(f"out/t/{case}/job.json"))
        spans.append((datetime.fromisoformat(info["start"]), datetime.fromisoformat(info["end"])))
    (s1, e1), (s2, e2) = sorted(spans)
    assert (s2 < e1) is overlap
