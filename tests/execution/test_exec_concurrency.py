"""Several processes and signals: one run per job across processes, Ctrl-C, and killed runners (D21, D25)."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time

from jobs import make_graph, make_job, read

from hypermetric.execution.protocol import execute_job
from hypermetric.store.status import JobStatus, is_complete

DRIVER = os.path.join(os.path.dirname(__file__), "driver.py")


def _spawn(mode: str, obj, tmp_path, name: str, **kwargs) -> subprocess.Popen:
    path = os.path.join(tmp_path, f"{name}.pickle")
    with open(path, "wb") as f:
        pickle.dump(obj, f)
    return subprocess.Popen([sys.executable, DRIVER, mode, path], **kwargs)


def _wait_for_lines(path: str, n: int, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            lines = read(path).split()
            if len(lines) >= n:
                return lines
        time.sleep(0.02)
    raise AssertionError(f"{path} never got {n} lines")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_two_processes_run_the_same_job_once(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'echo x >> ../count; sleep 1; touch "$o"')
    procs = [_spawn("job", job, tmp_path, f"p{i}", stdout=subprocess.PIPE, text=True) for i in range(2)]
    statuses = sorted(p.communicate(timeout=30)[0].strip() for p in procs)
    assert statuses == ["COMPLETE", "SUCCESS"]
    assert read(os.path.join(tmp_path, "t", "count")) == "x\n"
    assert is_complete(job)


def test_sigint_stops_every_job_process_and_leaves_the_job_not_done(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'echo $$ > ../pids; sleep 30 & echo $! >> ../pids; wait; touch "$o"')
    proc = _spawn("run", make_graph(tmp_path, job), tmp_path, "g")
    pids = [int(p) for p in _wait_for_lines(os.path.join(tmp_path, "t", "pids"), 2)]
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=15) == 130
    assert not any(_alive(pid) for pid in pids)
    assert not is_complete(job)
    assert not os.path.exists(os.path.join(job.workdir, "exitcode"))
    assert not os.path.exists(os.path.join(job.workdir, ".lock"))


def test_killed_runner_leaves_no_blocking_lock(tmp_path) -> None:
    script = 'if [ -f ../second ]; then touch "$o"; else echo $$ > ../pid; sleep 30; fi'
    job = make_job(tmp_path, "t", script)
    proc = _spawn("job", job, tmp_path, "j", stdout=subprocess.DEVNULL)
    (pid,) = _wait_for_lines(os.path.join(tmp_path, "t", "pid"), 1)
    proc.kill()
    proc.wait()
    os.killpg(int(pid), signal.SIGKILL)
    assert os.path.exists(os.path.join(job.workdir, ".lock"))
    open(os.path.join(tmp_path, "t", "second"), "w").close()
    start = time.monotonic()
    assert execute_job(job).status is JobStatus.SUCCESS
    assert time.monotonic() - start < 3
