"""Per-job kernel locks: exclusion, wait messages, cancellation, killed holders, `unlock`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from jobs import make_job
from support.waiting import BOUND, wait_until

from hypermetric.store import lock


def _job(tmp_path):
    job = make_job(tmp_path, "t")
    os.makedirs(job.workdir)
    return job


def test_lock_file_exists_while_held_and_is_removed_after(tmp_path) -> None:
    job = _job(tmp_path)
    with lock.job_lock(job):
        assert os.path.exists(os.path.join(job.workdir, ".lock"))
        assert str(os.getpid()) in lock.holder(lock.lock_path(job))
    assert not os.path.exists(os.path.join(job.workdir, ".lock"))


def test_second_holder_waits_with_messages(tmp_path) -> None:
    job = _job(tmp_path)
    messages: list[str] = []
    order: list[str] = []

    def second() -> None:
        with lock.job_lock(job, on_wait=messages.append, interval=0.1):
            order.append("second")

    with lock.job_lock(job):
        thread = threading.Thread(target=second)
        thread.start()
        wait_until(lambda: len(messages) >= 2, what="two wait messages")  # at once, then after `interval`
        order.append("first done")
    thread.join(BOUND)
    assert order == ["first done", "second"]
    assert messages[0].startswith(f"lock {lock.lock_path(job)} is held by process {os.getpid()}@")


def test_cancelled_wait_raises(tmp_path) -> None:
    job = _job(tmp_path)
    flag, waiting = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def waiter() -> None:
        try:
            with lock.job_lock(job, cancelled=flag.is_set, on_wait=lambda message: waiting.set()):
                pass
        except lock.LockWaitCancelled as e:
            errors.append(e)

    with lock.job_lock(job):
        thread = threading.Thread(target=waiter)
        thread.start()
        assert waiting.wait(BOUND)  # the waiter found the lock held and waits
        flag.set()
        thread.join(BOUND)
    assert errors and not thread.is_alive()


def test_is_locked_and_unlock(tmp_path) -> None:
    job = _job(tmp_path)
    assert not lock.is_locked(job) and not lock.unlock(job)
    with open(lock.lock_path(job), "w"):
        pass
    assert not lock.is_locked(job)
    assert lock.unlock(job) and not os.path.exists(lock.lock_path(job))


def test_killed_holder_does_not_block(tmp_path) -> None:
    job = _job(tmp_path)
    code = ("import sys, time; from filelock import FileLock; l = FileLock(sys.argv[1]); l.acquire(); "
            "print('held', flush=True); time.sleep(60)")
    argv = [sys.executable, "-c", code, lock.lock_path(job)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        assert lock.is_locked(job)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert os.path.exists(lock.lock_path(job))
    waits: list[str] = []
    with lock.job_lock(job, on_wait=waits.append):  # a wait would be reported at once
        pass
    assert waits == []


@pytest.mark.parametrize("n", [4])
def test_threads_exclude_each_other(tmp_path, n: int) -> None:
    job = _job(tmp_path)
    inside: list[int] = []
    overlaps: list[int] = []

    def worker() -> None:
        for _ in range(5):
            with lock.job_lock(job):
                inside.append(1)
                if len(inside) > 1:
                    overlaps.append(1)
                time.sleep(0.002)
                inside.pop()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(BOUND)
    assert not overlaps
