"""`remove`, `touch`, `invalidate`, `unlock` and atomic writes."""

from __future__ import annotations

import os

from jobs import make_job

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
