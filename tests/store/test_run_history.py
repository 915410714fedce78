"""Run summaries: the jobs found done are written as one signature per line of the run record, never built,
and read back as entries of their own; a summary that lists every job (an older version's) reads the same."""

from __future__ import annotations

import json
import os

from hypermetric.plan.graph import JobGraph
from hypermetric.plan.job import Job
from hypermetric.plan.signature import Signature
from hypermetric.store.history import RUN_SUMMARY, SIGNATURES, diff_runs, list_runs, write_run_summary
from hypermetric.store.runs import write_run_record


class _NoReads(dict):
    """Jobs by id that fail the test when a job is read: the summary must not build a job found done."""

    def __init__(self, readable: dict[str, Job], ids: list[str]) -> None:
        super().__init__(dict.fromkeys(ids))
        self.readable = readable

    def __getitem__(self, job_id: str) -> Job:
        assert job_id in self.readable, f"read the job {job_id}, found done"
        return self.readable[job_id]


def _job(job_id: str) -> Job:
    return Job(id=job_id, name=job_id.partition("?")[0], case=(), full_case=(), relpath=job_id,
               workdir=f"/w/{job_id}", script="true", variables=(), outputs=(), signature=f"sig-{job_id}")


def _summary(root: str, now: float, signatures: dict[str, str]) -> str:
    """A run of `ran` over done `a?K=1`, `a?K=2` (signatures as given; `a?K=2` has none when missing) and an
    ephemeral `e` nothing needed; returns the record's path."""
    ids = ["a?K=1", "a?K=2", "ran", "e"]
    graph = JobGraph(_NoReads({"ran": _job("ran"), "e": _job("e")}, ids), targets=["ran"], root=root,
                     _order=ids)
    record = write_run_record(root, ids, now=now)

    def known(job_id: str) -> Signature | None:
        return Signature(signatures[job_id], {}) if job_id in signatures else None

    write_run_summary(record, graph, {"ran": "SUCCESS"}, now, now + 1, known, not_done={"ran", "e"})
    return record


def test_done_jobs_are_one_line_each_and_read_back(tmp_path) -> None:
    record = _summary(str(tmp_path), 0, {"a?K=1": "s1"})
    folder = os.path.dirname(record)
    with open(os.path.join(folder, SIGNATURES)) as f:
        assert f.read() == "s1\n-\n\n"
    with open(os.path.join(folder, RUN_SUMMARY)) as f:
        summary = json.load(f)
    assert summary["counts"] == {"COMPLETE": 2, "SUCCESS": 1, "PENDING": 1}
    assert sorted(summary["jobs"]) == ["e", "ran"]
    (run,) = list_runs(str(tmp_path))
    assert run.job_count == 4
    assert run.jobs == {"a?K=1": {"status": "COMPLETE", "signature": "s1"}, "a?K=2": {"status": "COMPLETE"},
                        "ran": {"status": "SUCCESS", "signature": "sig-ran"},
                        "e": {"status": "PENDING", "signature": "sig-e"}}


def test_diff_sees_a_changed_signature_of_a_job_found_done(tmp_path) -> None:
    _summary(str(tmp_path), 0, {"a?K=1": "s1", "a?K=2": "s2"})
    _summary(str(tmp_path), 10, {"a?K=1": "s1", "a?K=2": "s2-new"})
    runs = list_runs(str(tmp_path))
    assert [(c.job_id, c.change) for c in diff_runs(str(tmp_path), runs, *runs)] == [("a?K=2", "changed")]


def test_a_summary_listing_every_job_reads_as_before(tmp_path) -> None:
    record = write_run_record(str(tmp_path), ["a", "b"], now=0)
    jobs = {"a": {"status": "COMPLETE", "signature": "s"}, "b": {"status": "SUCCESS", "signature": "t"}}
    with open(os.path.join(os.path.dirname(record), RUN_SUMMARY), "w") as f:
        json.dump({"targets": ["b"], "start": 0, "end": 1, "counts": {"COMPLETE": 1, "SUCCESS": 1},
                   "jobs": jobs}, f)
    (run,) = list_runs(str(tmp_path))
    assert run.jobs == jobs and run.job_count == 2
