"""`.hm` pipelines on the remote backend (`run --machines`), against two real OpenSSH servers on 127.0.0.1."""

from __future__ import annotations

import getpass
import json
import os
import signal
import subprocess
import sys

import pytest
from support.waiting import wait_until

SSH_ARGS = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"

PIPELINE = """
n = {N: 1 2 3}
task gen(n=$) -> out:
  echo "$n" > $out
  echo "$MACHINE" > machine
task double(x=$gen.out) -> out:
  echo $(( $(cat $x) * 2 )) > $out
  echo "$MACHINE" > machine
task total(xs=$double[N: *].out) -> out:
  cat $xs/* | awk '{s += $1} END {print s}' > $out
  echo "$MACHINE" > machine
"""


def _machine(server, scratch, slots: int) -> dict:
    return {"connection": {"hostname": "127.0.0.1", "port": server.port, "username": getpass.getuser(),
                           "key": str(server.home / "client_key"), "ssh_args": SSH_ARGS},
            "slots": slots, "workdir": str(scratch)}


def _yaml_machines(project, two_machines, tmp_path) -> tuple:
    """`machines.yml` in the batch backend's form: two machines, `environments` shared, one overridden."""
    a, b = two_machines
    scratch = (tmp_path / "scratch-a", tmp_path / "scratch-b")
    first, second = _machine(a, scratch[0], 1), _machine(b, scratch[1], 2)
    second["environments"] = {"MACHINE": "b"}
    project.write("machines.yml", "type: remote\nenvironments: {MACHINE: a}\nmachines: "
                  + json.dumps([first, second]) + "\n")
    return scratch


def test_a_pipeline_runs_over_two_machines_and_a_rerun_does_nothing(project, two_machines, tmp_path):
    scratch = _yaml_machines(project, two_machines, tmp_path)
    ports = {"a": two_machines[0].port, "b": two_machines[1].port}
    project.write("main.hm", PIPELINE)
    result = project.sh("run", "main.hm", "total", "--machines", "machines.yml").ok()
    assert "7 succeeded" in result.out, result.out
    assert project.read("out/total/default/out") == "12\n"  # 2 + 4 + 6: the reduction saw every case
    assert sorted(os.listdir(project.path("out/total/default/xs"))) == ["N=2", "N=3", "default"]
    machines = set()
    for task in ("gen", "double", "total"):
        for case, n in (("default", 1), ("N=2", 2), ("N=3", 3)) if task != "total" else (("default", 12),):
            job = project.path("out", task, case)
            assert (job / "out").read_text() == f"{n * (2 if task == 'double' else 1)}\n"
            assert (job / "exitcode").read_text() == "0" and not (job / ".lock").exists()
            machine = (job / "machine").read_text().strip()
            machines.add(machine)
            node = json.loads((job / "job.json").read_text())["node"]
            assert node == f"{getpass.getuser()}@127.0.0.1:{ports[machine]}"
    assert machines == {"a", "b"}
    assert os.path.islink(project.path("out/double/N=2/x"))  # the job directory keeps the protocol's layout
    assert all(list(s.iterdir()) == [] for s in scratch)  # scratch folders removed
    again = project.sh("run", "main.hm", "total", "--machines", "machines.yml").ok()
    assert "7 complete" in again.out and "succeeded" not in again.out, again.out


def test_machines_file_and_backend_mistakes_are_user_errors(project, two_machines, tmp_path):
    project.write("main.hm", PIPELINE)
    assert "needs machines" in project.sh("run", "main.hm", "gen", "--backend", "remote").user_error().err
    project.write("m.json", json.dumps({"machine": []}))
    error = project.sh("run", "main.hm", "gen", "--machines", "m.json").user_error().err
    assert "unknown field `machine`" in error and "machines" in error
    project.write("m.json", json.dumps([_machine(two_machines[0], tmp_path / "s", 1)]))
    error = project.sh("run", "main.hm", "gen", "--machines", "m.json", "--backend", "local").user_error().err
    assert "--machines" in error and "--backend remote" in error
    assert "no such file" in project.sh("run", "main.hm", "gen", "--machines", "none.json").user_error().err
    assert not project.path("out").exists()


STUCK = """
pids = "{pids}"
task stuck(pids=$) -> out:
  echo $$ > "$pids/script"
  sleep 600 &
  echo $! > "$pids/child"
  touch "$pids/started"
  wait
  echo never > $out
"""


def _wait_for(path, proc: subprocess.Popen) -> None:
    """Wait for the file the job writes once it runs; fail at once if the runner ended first."""
    def appeared() -> bool:
        assert proc.poll() is None, proc.communicate()
        return path.exists()
    wait_until(appeared, f"{path} to appear")


def _lock_held(path) -> bool:
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=["term", "int", "kill"])
def test_a_stopped_runner_stops_the_remote_job_and_leaves_it_not_done(project, two_machines, tmp_path, sig):
    pids = tmp_path / "pids"
    pids.mkdir()
    project.write("main.hm", STUCK.format(pids=pids))
    project.write("m.json", json.dumps([_machine(two_machines[0], tmp_path / "scratch", 1)]))
    proc = subprocess.Popen([sys.executable, "-m", "hypermetric", "run", "main.hm", "stuck", "--machines",
                             "m.json"], cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    job = project.path("out/stuck/default")
    _wait_for(pids / "started", proc)
    script, child = int((pids / "script").read_text()), int((pids / "child").read_text())
    assert _running(script) and _running(child)
    assert _lock_held(job / ".lock")  # the remote job holds the local job's lock while it runs
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == {signal.SIGTERM: 143, signal.SIGINT: 130, signal.SIGKILL: -9}[sig], (out, err)
    # The stop keeps the lock until the remote processes are gone (after SIGKILL, the watchdog runs it).
    wait_until(lambda: not _lock_held(job / ".lock"), "the job's lock to be released")
    assert not _running(script) and not _running(child)
    assert not (job / "exitcode").exists() and not (job / "out").exists()
    assert list((tmp_path / "scratch").iterdir()) == []
    assert "1 job: 1 PENDING" in project.sh("dry-run", "main.hm", "stuck").ok().out


def test_what_a_remote_script_leaves_running_is_killed(project, two_machines, tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    project.write("main.hm", f"""
    pids = "{pids}"
    task t(pids=$) -> out:
      sleep 600 > /dev/null 2>&1 &
      echo $! > "$pids/left"
      echo done > $out
    """)
    project.write("m.json", json.dumps([_machine(two_machines[1], tmp_path / "scratch", 1)]))
    project.sh("run", "main.hm", "t", "--machines", "m.json").ok()
    assert project.read("out/t/default/out") == "done\n"
    left = int((pids / "left").read_text())
    # a SIGKILL takes effect a moment after it is sent: wait for the process state, not for a time
    wait_until(lambda: not _running(left), "the script's background process to end with its job")
