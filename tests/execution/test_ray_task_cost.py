"""What a Ray task costs per job beyond the job itself: the shared options are decoded once per worker, a job
is rebuilt through its constructors (no dataclass state restored field by field), and an outcome travels back
as plain values (counted through `pickle.find_class`, the audit event of every class a pickle names, and the
pickles' opcodes). No Ray needed: `run_task` is called as a worker calls it."""

from __future__ import annotations

import pickle
import pickletools
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from jobs import make_job

from hypermetric.execution import ray_codec, ray_task
from hypermetric.execution.protocol import JobOptions, JobOutcome
from hypermetric.plan.job import InputLink, Resources
from hypermetric.record import replace
from hypermetric.store.status import JobStatus

_found: list[str] = []
_recording = threading.Event()


def _hook(event: str, args: tuple) -> None:
    if event == "pickle.find_class" and _recording.is_set():
        _found.append(f"{args[0]}.{args[1]}")


sys.addaudithook(_hook)  # an audit hook cannot be removed: it records only inside `_classes_named`


@contextmanager
def _classes_named() -> Iterator[list[str]]:
    """The classes that pickles name while the block runs (in this thread or any other)."""
    del _found[:]
    _recording.set()
    try:
        yield _found
    finally:
        _recording.clear()


@pytest.fixture
def worker(monkeypatch) -> list[JobOptions]:
    """A worker whose jobs run nothing: each call of `execute_job` records the options it got."""
    monkeypatch.setattr(ray_task, "_node", "node-1")
    monkeypatch.setattr(ray_codec, "_last", None)
    monkeypatch.setattr(ray_task, "_local", None)
    seen: list[JobOptions] = []

    def execute(job, options, on_output, attempt, *, hooks):
        seen.append(options)
        return JobOutcome(job.id, JobStatus.SUCCESS, attempt, 0, None, (), 1.0, 2.0)

    monkeypatch.setattr(ray_task, "execute_job", execute)
    return seen


def test_a_worker_decodes_the_options_a_run_shares_once(tmp_path, worker) -> None:
    shared = ray_codec.shared_options(JobOptions(env=(("RAY_ADDRESS", "10.0.0.1:6379"),)))
    jobs = [make_job(tmp_path, "t", case=(("I", str(i)),)) for i in range(3)]
    payloads = [ray_codec.payload(shared, job, 1, 5.0) for job in jobs]
    ray_task.run_task(payloads[0])
    with _classes_named() as classes:
        for data in payloads[1:]:
            ray_task.run_task(data)
    assert "hypermetric.execution.hooks.JobOptions" not in classes
    assert worker[0] is worker[1] is worker[2]
    assert worker[0].node == "node-1" and worker[0].env == (("RAY_ADDRESS", "10.0.0.1:6379"),)
    # another run's options (another address) are decoded anew
    other = ray_codec.shared_options(JobOptions(env=(("RAY_ADDRESS", "10.0.0.2:6379"),)))
    ray_task.run_task(ray_codec.payload(other, jobs[0], 2, 5.0))
    assert worker[3] is not worker[0] and worker[3].env == (("RAY_ADDRESS", "10.0.0.2:6379"),)


def test_an_outcome_travels_back_as_plain_values(tmp_path, worker) -> None:
    job = make_job(tmp_path, "t")
    data = ray_task.run_task(ray_codec.payload(ray_codec.shared_options(JobOptions()), job, 3, 5.0))
    assert not [op for op, _, _ in pickletools.genops(data) if "GLOBAL" in op.name or op.name == "REDUCE"]
    with _classes_named() as classes:
        outcome = ray_codec.read_outcome(data)
    assert classes == []
    assert outcome == JobOutcome(job.id, JobStatus.SUCCESS, 3, 0, None, (), 1.0, 2.0)


def test_a_job_is_rebuilt_through_its_constructors(tmp_path) -> None:
    upstream = make_job(tmp_path, "up")
    job = make_job(tmp_path, "t", 'cat "$i" > "$o"', case=(("I", "1"),), deps=[upstream.id],
                   inputs=[InputLink("i", upstream.workdir + "/o")],
                   resources=Resources(cpus=2, custom=(("ssd", 1.0),)))
    job = replace(job, signature="0" * 32, built_from={"task": "t", "inputs": ["x"]})
    data = ray_codec.payload(ray_codec.shared_options(JobOptions()), job, 2, 5.0)
    task = ray_codec.unpack(data)
    assert (task.job_id, task.attempt, task.grace) == (job.id, 2, 5.0)
    # BUILD restores an object's state after making it empty: what a pickled dataclass costs on loading
    assert not [op for op, _, _ in pickletools.genops(bytes(task.rest)) if op.name == "BUILD"]
    assert task.job() == job


@pytest.mark.parametrize("outcome", [
    JobOutcome("t?I=1", JobStatus.FAILED, 2, 1, "exit code 1", ("line one", "line two"), 1.5, 2.5),
    JobOutcome("t", JobStatus.COMPLETE, 1, 0, None, (), 3.0, 3.0),
    JobOutcome("t", JobStatus.PENDING, 1, None, "interrupted", (), 3.0, 4.0),
])
def test_every_outcome_reads_back_as_it_was(outcome) -> None:
    assert ray_codec.read_outcome(ray_codec.outcome_bytes(outcome)) == outcome
    # the whole object, as a worker with another package sends it, reads back too
    assert ray_codec.read_outcome(pickle.dumps(outcome)) == outcome
