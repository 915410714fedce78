"""The process side of faults, in-process: what a job leaves running, jobs that ignore SIGTERM, the lock a
job's processes inherit, a directory removed meanwhile, and the Ray address probe."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
from jobs import make_job, read

from hypermetric.errors import UsageError
from hypermetric.execution.local import LocalBackend
from hypermetric.execution.protocol import JobOptions, execute_job
from hypermetric.execution.ray_cluster import check_reachable, endpoint
from hypermetric.store import lock, mutations
from hypermetric.store.status import JobStatus, is_complete

TIMEOUT = 60.0


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_for(path: str) -> str:
    deadline = time.monotonic() + TIMEOUT
    while not (os.path.exists(path) and read(path).strip()):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)
    return read(path)


@pytest.mark.parametrize("pipes", [False, True])
def test_what_the_script_left_in_its_group_is_killed_before_the_job_is_judged(tmp_path, pipes) -> None:
    job = make_job(tmp_path, "t", 'sleep 1000 & echo $! > ../bg; echo early > "$o"')
    on_output = (lambda *_: None) if pipes else None
    outcome = execute_job(job, JobOptions(), on_output)
    assert outcome.status is JobStatus.SUCCESS
    assert not _alive(int(read(os.path.join(tmp_path, "t", "bg"))))


def test_the_script_inherits_the_lock(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'ls -l /proc/$$/fd > ../fds; touch "$o"')
    assert execute_job(job).status is JobStatus.SUCCESS
    assert os.path.join(job.workdir, ".lock") in read(os.path.join(tmp_path, "t", "fds"))


def test_a_job_that_ignores_sigterm_is_killed_after_the_grace_and_is_not_done(tmp_path) -> None:
    job = make_job(tmp_path, "t", "trap '' TERM; echo $$ > ../pid; while true; do sleep 0.05; done")
    backend = LocalBackend(1, grace=0.3)
    try:
        backend.start(job, 1)
        pid = int(_wait_for(os.path.join(tmp_path, "t", "pid")))
        backend.cancel_all()
        outcomes = []
        deadline = time.monotonic() + TIMEOUT
        while not outcomes and time.monotonic() < deadline:
            outcomes = backend.wait_any(0.1)
    finally:
        backend.close()
    assert [o.status for o in outcomes] == [JobStatus.PENDING]
    assert not _alive(pid)
    assert not os.path.exists(os.path.join(job.workdir, "exitcode"))


def test_a_job_cancelled_after_its_script_succeeded_is_not_done(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'touch "$o"')
    calls = iter([False, True])  # not cancelled when it starts, cancelled by the time it has ended
    from hypermetric.execution.protocol import JobHooks

    outcome = execute_job(job, hooks=JobHooks(cancelled=lambda: next(calls, True)))
    assert outcome.status is JobStatus.PENDING
    assert not is_complete(job)


def test_remove_waits_for_the_holder_of_the_lock(tmp_path) -> None:
    job = make_job(tmp_path, "t")
    os.makedirs(job.workdir)
    code = ("import sys, time; from hypermetric.store import lock; h = lock.acquire(sys.argv[1]); "
            "print('held', flush=True); sys.stdin.readline(); lock.release(h)")
    holder = subprocess.Popen([sys.executable, "-c", code, lock.lock_path(job)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    messages: list[str] = []

    def waiting(message: str) -> None:
        messages.append(message)
        assert os.path.isdir(job.workdir)  # nothing removed while the lock is held
        holder.stdin.write("go\n")
        holder.stdin.flush()

    try:
        assert holder.stdout.readline().strip() == "held"
        assert mutations.remove(job, on_wait=waiting)
    finally:
        holder.stdin.close()
        holder.wait(TIMEOUT)
    assert messages and not os.path.exists(job.workdir)


def test_a_run_waiting_for_a_removed_directory_makes_it_again(tmp_path) -> None:
    path = os.path.join(tmp_path, "gone", ".lock")
    with pytest.raises(FileNotFoundError):
        lock.acquire(path)
    held = lock.acquire(path, make_dir=True)
    lock.release(held)
    assert os.path.isdir(os.path.dirname(path))


@pytest.mark.parametrize("address,expected", [
    ("10.0.0.1:6379", ("10.0.0.1", 6379)), ("head", ("head", 6379)), ("ray://head:1234", ("head", 1234)),
    ("ray://head", ("head", 10001)), ("[::1]:7000", ("::1", 7000)), ("auto", None), ("local", None),
])
def test_endpoint_of_a_ray_address(address, expected) -> None:
    assert endpoint(address) == expected


def test_an_unreachable_ray_address_is_a_usage_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(UsageError, match=f"cannot reach the Ray cluster at 127.0.0.1:{port}"):
        check_reachable(f"127.0.0.1:{port}")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        check_reachable(f"127.0.0.1:{server.getsockname()[1]}")


def test_unlock_refuses_a_lock_that_is_held(tmp_path) -> None:
    from hypermetric.errors import StoreError

    job = make_job(tmp_path, "t")
    os.makedirs(job.workdir)
    held = lock.acquire(lock.lock_path(job))
    try:
        with pytest.raises(StoreError, match="is running"):
            lock.unlock(job)
        assert os.path.exists(lock.lock_path(job))
    finally:
        lock.release(held)
