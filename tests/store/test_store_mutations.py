"""`remove`, `touch`, `invalidate`, `unlock` and atomic writes."""

from __future__ import annotations

import os
import shutil
import signal

import pytest
from jobs import make_job
from support.waiting import wait_until

from hypermetric.execution.interrupts import interrupts
from hypermetric.store import mutations
from hypermetric.store.status import JobStatus, is_complete, job_status


def test_touch_makes_a_job_complete(tmp_path) -> None:
    job = make_job(tmp_path, "a.t", case=[("A", "y")], outputs=["o", ("p", "d/p.txt")])
    mutations.touch(job)
    assert is_complete(job)
    assert sorted(os.listdir(job.workdir)) == ["d", "exitcode", "o"]
    with open(os.path.join(job.workdir, "exitcode")) as f:
        assert f.read() == "0"


def test_remove_deletes_the_whole_directory_and_leaves_nothing_hidden(tmp_path) -> None:
    job = make_job(tmp_path, "t")
    mutations.touch(job)
    assert mutations.remove(job)
    assert os.listdir(os.path.dirname(job.workdir)) == []
    assert not mutations.remove(job)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_remove_interrupted_half_way_leaves_no_hidden_folder_behind(tmp_path, monkeypatch, signum) -> None:
    job = make_job(tmp_path, "t", outputs=["o", ("p", "a/b/p.txt")])
    mutations.touch(job)
    deleting: list[str] = []
    rmtree = shutil.rmtree

    def interrupted(path: str, ignore_errors: bool = False) -> None:
        """Part of the folder goes, then the signal comes (a real one, handled as the command line does)."""
        deleting.append(path)
        rmtree(os.path.join(path, "a"))
        os.kill(os.getpid(), signum)
        rmtree(path, ignore_errors=ignore_errors)

    monkeypatch.setattr(shutil, "rmtree", interrupted)
    with interrupts(), pytest.raises(KeyboardInterrupt):
        mutations.remove(job)
    monkeypatch.undo()
    assert not os.path.exists(job.workdir) and len(deleting) == 1
    # the rest of the renamed folder is deleted by a process that outlives the interrupted command
    wait_until(lambda: not os.path.lexists(deleting[0]), what="the interrupted deletion to be finished")
    assert os.listdir(os.path.dirname(job.workdir)) == []


def test_invalidate_deletes_only_exitcode(tmp_path) -> None:
    a, b, c = (make_job(tmp_path, n) for n in "abc")
    mutations.touch(a)
    mutations.touch(b)
    assert mutations.invalidate([a, b, c]) == ["a", "b"]
    assert job_status(a) is JobStatus.PENDING
    assert os.path.exists(os.path.join(a.workdir, "o"))


def test_unlock_removes_a_leftover_lock(tmp_path) -> None:
    job = make_job(tmp_path, "t")
    os.makedirs(job.workdir)
    open(os.path.join(job.workdir, ".lock"), "w").close()
    assert mutations.unlock(job)
    assert not mutations.unlock(job)


def test_write_atomic_replaces_and_leaves_no_temp(tmp_path) -> None:
    path = os.path.join(tmp_path, "exitcode")
    mutations.write_atomic(path, b"1")
    mutations.write_atomic(path, b"0")
    assert os.listdir(tmp_path) == ["exitcode"]
    with open(path, "rb") as f:
        assert f.read() == b"0"
