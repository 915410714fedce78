"""The record's spare files: made beside the job directory while the script runs, renamed into it after."""

from __future__ import annotations

import json
import os
import shlex

import pytest
from jobs import make_job, read

from hypermetric.execution.protocol import execute_job
from hypermetric.execution.spare import SpareFiles
from hypermetric.store.status import JobStatus


@pytest.fixture
def spares_made(tmp_path, monkeypatch):
    """The first line of a script that waits until the runner has made the spares: it reads a line from a
    FIFO that the runner's `create` writes to once the files exist (the test holds the FIFO open, so the
    line waits there whichever side comes first)."""
    fifo = tmp_path / "spares-made"
    os.mkfifo(fifo)
    fd = os.open(fifo, os.O_RDWR)
    create = SpareFiles.create

    def create_then_tell(self: SpareFiles) -> None:
        create(self)
        os.write(fd, b"made\n")

    monkeypatch.setattr(SpareFiles, "create", create_then_tell)
    yield f"read -r _ < {shlex.quote(str(fifo))}\n"
    os.close(fd)


def test_spares_exist_while_the_script_runs_and_become_the_record(tmp_path, spares_made) -> None:
    job = make_job(tmp_path, "t", spares_made + 'ls -A .. > ../seen; ls -A > ../inside; touch "$o"')
    outcome = execute_job(job)
    assert outcome.status is JobStatus.SUCCESS
    seen = read(tmp_path / "t" / "seen").split()
    assert sorted(name for name in seen if name.startswith(".")) == [".default.exitcode.tmp", ".default.job.json.tmp"]
    assert read(tmp_path / "t" / "inside").split() == [".lock", "args", "script", "stderr", "stdout"]
    assert sorted(os.listdir(tmp_path / "t")) == ["default", "inside", "seen"]  # the spares are gone
    assert read(os.path.join(job.workdir, "exitcode")) == "0"
    assert json.loads(read(os.path.join(job.workdir, "job.json")))["exit_code"] == 0


def test_a_failed_job_records_its_exit_code_through_the_spares(tmp_path, spares_made) -> None:
    job = make_job(tmp_path, "t", spares_made + "exit 3")
    outcome = execute_job(job)
    assert outcome.status is JobStatus.FAILED and outcome.exit_code == 3
    assert read(os.path.join(job.workdir, "exitcode")) == "3"
    assert sorted(os.listdir(tmp_path / "t")) == ["default"]


def test_deleted_spares_fall_back_to_an_ordinary_write(tmp_path, spares_made) -> None:
    job = make_job(tmp_path, "t", spares_made + 'rm -f ../.default.*.tmp; touch "$o"')
    assert execute_job(job).status is JobStatus.SUCCESS
    assert read(os.path.join(job.workdir, "exitcode")) == "0"
    assert json.loads(read(os.path.join(job.workdir, "job.json")))["id"] == job.id
    assert sorted(os.listdir(tmp_path / "t")) == ["default"]


def test_a_spare_left_by_a_killed_runner_is_reused(tmp_path) -> None:
    job = make_job(tmp_path, "t", 'touch "$o"')
    os.makedirs(tmp_path / "t")
    (tmp_path / "t" / ".default.exitcode.tmp").write_text("stale and longer than an exit code")
    assert execute_job(job).status is JobStatus.SUCCESS
    assert read(os.path.join(job.workdir, "exitcode")) == "0"
    assert sorted(os.listdir(tmp_path / "t")) == ["default"]


def test_discard_removes_uncommitted_spares(tmp_path) -> None:
    workdir = tmp_path / "t" / "default"
    workdir.mkdir(parents=True)
    spare = SpareFiles(str(workdir), ("job.json", "exitcode"))
    spare.create()
    assert len(os.listdir(tmp_path / "t")) == 3
    assert spare.commit("job.json", b"{}")
    spare.discard()
    assert sorted(os.listdir(tmp_path / "t")) == ["default"]
    assert sorted(os.listdir(workdir)) == ["job.json"]
    assert not spare.commit("exitcode", b"0")  # discarded: the caller writes it itself
