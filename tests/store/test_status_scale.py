"""The status of a large, mostly done tensor: the fast check of done jobs agrees with the contract (done ⇔
`exitcode` 0 and every output exists, and a recorded signature that differs makes it OUTDATED), costs a fixed,
small number of file operations per done job, and keeps almost nothing of a done job."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from finished import tensor as _tensor
from finished import write as _write
from support.memory import kept_by

from hypermetric.plan.graph import JobGraph
from hypermetric.plan.signature import Signer
from hypermetric.store.staleness import Staleness, prepare_run, read_record
from hypermetric.store.status import JobStatus, failure_reason, job_status


def _reference(graph: JobGraph, job_id: str) -> JobStatus:
    """The contract, checked the slow way: the whole `job.json` parsed."""
    job = graph.jobs[job_id]
    status = job_status(job)
    if status is not JobStatus.COMPLETE:
        return status
    record = read_record(job.workdir) or {}
    recorded = record.get("signature")
    if recorded and recorded != Signer(graph).signature(job_id).digest:
        return JobStatus.OUTDATED
    return status


def test_the_fast_check_agrees_with_the_contract_among_10000_done_jobs(tmp_path) -> None:
    graph = _tensor(str(tmp_path), 100, 100)
    t = [i for i in graph.order() if graph.jobs[i].name == "t"]
    assert len(t) == 10_000
    no_output, failed, no_exitcode, changed, unsigned, newline = (graph.jobs[t[i]] for i in (17, 4242, 9999, 5000,
                                                                                              123, 7777))
    os.unlink(os.path.join(no_output.workdir, "out"))
    _write(os.path.join(failed.workdir, "exitcode"), "1")
    os.unlink(os.path.join(no_exitcode.workdir, "exitcode"))
    record = read_record(changed.workdir) or {}
    _write(os.path.join(changed.workdir, "job.json"),
           '{"signature": "0123456789abcdef0123", ' + f'"built_from": {json.dumps(record["built_from"])}' + "}")
    _write(os.path.join(unsigned.workdir, "job.json"), "{}")  # made by HyperMake or `touch`: done
    _write(os.path.join(newline.workdir, "exitcode"), "0\n")

    states = Staleness(graph).states()

    expected = dict.fromkeys(t, JobStatus.COMPLETE)
    expected.update({no_output.id: JobStatus.FAILED, failed.id: JobStatus.FAILED,
                     no_exitcode.id: JobStatus.PENDING, changed.id: JobStatus.OUTDATED})
    expected.update({i: JobStatus.PENDING for i in graph.order() if graph.jobs[i].name == "u"})
    assert {i: s for i, (s, _) in states.items()} == expected
    assert states[changed.id][1] == "signature changed"
    assert failure_reason(no_output) == 'output {out = "out"@local} missing'
    for job in (no_output, failed, no_exitcode, changed, unsigned, newline):
        assert states[job.id][0] is _reference(graph, job.id)
    u_jobs = [graph.jobs[i] for i in graph.order() if graph.jobs[i].name == "u"]
    assert u_jobs and not os.path.exists(os.path.dirname(u_jobs[0].workdir))  # a task folder that does not exist

    prepared = prepare_run(graph)
    not_done = {i for i in graph.order() if not prepared.is_done(graph.jobs[i])}
    assert not_done == {i for i, s in expected.items() if s is not JobStatus.COMPLETE}
    assert not os.path.exists(os.path.join(changed.workdir, "exitcode"))  # OUTDATED: invalidated for the run


class _Counter:
    """Counts the calls of some `os` functions while it is installed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, names: tuple[str, ...]) -> None:
        self.counts = dict.fromkeys(names, 0)
        self.bytes_read = 0
        for name in names:
            monkeypatch.setattr(os, name, self._wrap(name, getattr(os, name)))

    def _wrap(self, name: str, real):
        def counted(*args, **kwargs):
            self.counts[name] += 1
            result = real(*args, **kwargs)
            if name == "read":
                self.bytes_read += len(result)
            return result
        return counted


def test_a_done_job_costs_two_opens_two_reads_two_stats_and_an_access_until_it_is_cached(tmp_path, monkeypatch) -> None:
    graph = _tensor(str(tmp_path), 30, 30)
    order = graph.order()
    for job_id in order:  # planning and building jobs are not what is counted here
        graph.jobs[job_id]
    counter = _Counter(monkeypatch, ("open", "read", "stat", "lstat", "access", "listdir", "scandir", "close"))
    states = Staleness(graph).states()
    done = sum(1 for s, _ in states.values() if s is JobStatus.COMPLETE)
    assert done == 900
    counts = counter.counts
    assert counts["open"] <= 2 * done + 2  # `exitcode` and the head of `job.json`; each task folder
    assert counts["read"] <= 2 * done  # one read each: `job.json` is not read to its end
    assert counts["close"] == counts["open"] - 1  # all but the folder of `u`, which does not exist
    assert counts["stat"] + counts["lstat"] <= 2 * done + 10  # the identities of both
    assert counts["access"] == done  # and one output each
    assert counts["listdir"] + counts["scandir"] <= 2  # once per task folder (`u`'s does not exist)
    assert counter.bytes_read <= 300 * done  # the signature is at the head: the rest is never read


def test_a_cached_done_job_is_two_stats_one_access_and_no_read(tmp_path, monkeypatch) -> None:
    from hypermetric.store import statuscache

    graph = _tensor(str(tmp_path), 30, 30)
    monkeypatch.setattr(statuscache, "MARGIN_NS", -60 * 10**9)  # as if the pass ran a minute later
    Staleness(graph).states()  # reads every job and writes the cache
    counter = _Counter(monkeypatch, ("open", "read", "stat", "lstat", "access", "listdir", "scandir", "close"))
    states = Staleness(graph).states()
    assert sum(1 for s, _ in states.values() if s is JobStatus.COMPLETE) == 900
    counts = counter.counts
    assert counts["read"] <= 2  # the cache file of `t`, not one job's file
    assert counts["stat"] + counts["lstat"] <= 2 * 900 + 10  # `exitcode`, `job.json`
    assert counts["access"] == 900  # the output: whether it exists, with no `stat` result made
    assert counts["listdir"] + counts["scandir"] <= 2
    assert counter.bytes_read <= 60 * 900 + 100  # the cache: a few dozen bytes per job


def test_a_done_job_leaves_almost_nothing_behind(tmp_path) -> None:
    graph = _tensor(str(tmp_path), 40, 50)
    for job_id in graph.order():
        graph.jobs[job_id]
    prepared, kept = kept_by(lambda: prepare_run(graph))
    assert sum(prepared.is_done(graph.jobs[i]) for i in graph.order()) == 2000
    # a done job keeps its digest (its dependents' signatures need it) and little else
    assert kept / 2000 < 300, f"{kept / 2000:.0f} bytes kept per done job"


def test_a_signature_longer_than_the_head_read_is_still_compared(tmp_path) -> None:
    graph = _tensor(str(tmp_path), 2, 2)
    job = graph.jobs[next(i for i in graph.order() if graph.jobs[i].name == "t")]
    _write(os.path.join(job.workdir, "job.json"), '{"signature": "' + "f" * 400 + '"}')
    assert Staleness(graph).states()[job.id] == (JobStatus.OUTDATED, "signature changed")


def test_a_folder_of_done_jobs_is_not_listed_and_one_of_jobs_that_never_ran_is(tmp_path, monkeypatch) -> None:
    """Listing a folder spares the jobs that never ran a failed `stat` each, but costs every done job a
    lookup (and a million names listed): a folder is listed only once a few of its jobs turn out not done."""
    from hypermetric.store import scan

    graph = _tensor(str(tmp_path), 30, 30)
    counter = _Counter(monkeypatch, ("stat", "listdir", "scandir"))
    Staleness(graph).states()
    assert counter.counts["listdir"] + counter.counts["scandir"] == 1  # only `u`'s, which does not exist
    for job_id in graph.order()[:300]:  # a third of `t` never ran, as the first part of a fresh tensor
        shutil.rmtree(graph.jobs[job_id].workdir)
    counter.counts.update(dict.fromkeys(counter.counts, 0))
    states = Staleness(graph).states()
    assert sum(s is JobStatus.PENDING for s, _ in states.values()) >= 300
    assert counter.counts["listdir"] + counter.counts["scandir"] == 2
    # no failed `stat` once listed, but for the listing's few false hits (a name in 16 at most)
    assert counter.counts["stat"] <= 2 * 600 + scan._MISSES + 300 // 8 + 10


def test_a_folder_of_done_jobs_with_a_few_not_run_is_not_listed(tmp_path, monkeypatch) -> None:
    graph = _tensor(str(tmp_path), 30, 30)
    for job_id in graph.order()[-100:]:  # the last jobs of `t` never ran: failed `stat`s cost less than a listing
        if job_id.startswith("t"):
            shutil.rmtree(graph.jobs[job_id].workdir, ignore_errors=True)
    counter = _Counter(monkeypatch, ("listdir", "scandir"))
    Staleness(graph).states()
    assert counter.counts["listdir"] + counter.counts["scandir"] == 1  # only `u`'s, which does not exist
