"""Several processes and signals: one run per job across processes, Ctrl-C, and killed runners."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys

from jobs import make_graph, make_job, read
from support.waiting import BOUND, alive, group_alive, wait_until

from hypermetric.execution.protocol import JobHooks, execute_job
from hypermetric.store.status import JobStatus, is_complete

DRIVER = os.path.join(os.path.dirname(__file__), "driver.py")


def _spawn(mode: str, obj, tmp_path, name: str, **kwargs) -> subprocess.Popen:
    path = os.path.join(tmp_path, f"{name}.pickle")
    with open(path, "wb") as f:
        pickle.dump(obj, f)
    return subprocess.Popen([sys.executable, DRIVER, mode, path], **kwargs)


def _wait_for_lines(path: str, n: int) -> list[str]:
    wait_until(lambda: os.path.exists(path) and len(read(path).split()) >= n, what=f"{n} lines in {path}")
    return read(path).split()


def test_two_processes_run_the_same_job_once(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'echo x >> ../count; sleep 1; touch "$o"')
    procs = [_spawn("job", job, tmp_path, f"p{i}", stdout=subprocess.PIPE, text=True) for i in range(2)]
    statuses = sorted(p.communicate(timeout=BOUND)[0].strip() for p in procs)
    assert statuses == ["COMPLETE", "SUCCESS"]
    assert read(os.path.join(tmp_path, "t", "count")) == "x\n"
    assert is_complete(job)


def test_sigint_stops_every_job_process_and_leaves_the_job_not_done(tmp_path) -> None:
    os.mkfifo(tmp_path / "never")  # no one writes it: the child below blocks until it is killed
    job = make_job(tmp_path, "t", f'echo $$ > ../pids; read _ < {tmp_path}/never & echo $! >> ../pids; wait; touch "$o"')
    proc = _spawn("run", make_graph(tmp_path, job), tmp_path, "g")
    pids = [int(p) for p in _wait_for_lines(os.path.join(tmp_path, "t", "pids"), 2)]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=BOUND) == 130
    wait_until(lambda: not any(alive(pid) for pid in pids), what="the job's processes to end")
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
    # the script's processes share the lock's open file: it is free once the last of them has ended
    wait_until(lambda: not group_alive(int(pid)), what="the killed script to end")
    assert os.path.exists(os.path.join(job.workdir, ".lock"))
    open(os.path.join(tmp_path, "t", "second"), "w").close()
    waits: list[str] = []  # a wait for the lock would be reported at once
    assert execute_job(job, hooks=JobHooks(on_wait=waits.append)).status is JobStatus.SUCCESS
    assert waits == []
