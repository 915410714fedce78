"""Staleness: which finished jobs are OUTDATED, and why; getting a graph ready to run with signatures.

A finished job (HyperMake's rule: `exitcode` 0 and every output present) is OUTDATED when the signature
recorded in its `job.json` differs from the one planned now (plan/signature.py), or when an upstream job it
reads from is not finished or is itself OUTDATED: its outputs were made from something that is no longer
there. A finished job without a recorded signature (made by HyperMake, by `touch`, or by an older version)
is judged by its upstream jobs only, as HyperMake would judge it; its signature is recorded when it next runs.
Only finished jobs have their `job.json` read, so planning a fresh tensor costs nothing more.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hypermetric.plan.graph import JobGraph
from hypermetric.plan.job import Job
from hypermetric.plan.planned import PlannedJobs
from hypermetric.plan.signature import Signer
from hypermetric.plan.signature_fingerprint import NONE
from hypermetric.record import replace
from hypermetric.store.done_signatures import DoneSignatures
from hypermetric.store.records import read_record
from hypermetric.store.scan import StatusScan
from hypermetric.store.staleness_reasons import differences, explain
from hypermetric.store.status import JobStatus

__all__ = ["Prepared", "Staleness", "differences", "explain", "input_label", "prepare_run", "read_record"]

State = tuple[JobStatus, "str | None"]
SPLIT_FROM = 50_000  # jobs: a smaller pass checks its files alone (forking costs more than it saves)


class Staleness:
    """The status of each job of a graph, with OUTDATED and its reason (see the module docstring).

    A large tensor is mostly done jobs, so a done job costs as little as can be: its files are checked and
    its recorded signature found without building its `Job` (store/scan.py: a few `stat`s where the status
    cache knows it), and its planned digest is computed and compared, unless the cache holds its recorded
    signature to be the planned one under the fingerprint its task still has (plan/signature_fingerprint.py);
    nothing of it is kept but its digest (upstream signatures go into their dependents'). Only the jobs that
    are not COMPLETE are remembered by status."""

    def __init__(self, graph: JobGraph) -> None:
        self.graph = graph
        self.signer = Signer(graph, self._hint)
        self._unfinished: dict[str, JobStatus] = {}  # every job seen that is not COMPLETE
        self._scan: StatusScan | None = None  # the pass under way
        self._learn: Callable[[int, str, str], None] = self._learn_by_id  # (a pass's own, while it runs)
        # A pass of this many jobs shares its file checks with helper processes (store/scan_ahead.py), in blocks
        # of this many jobs, one helper per other CPU (tests make both small, say how many, wait for all answers).
        self.split_from, self.split_block, self.split_helpers, self.split_wait = SPLIT_FROM, 2048, None, False

    def _hint(self, job: Job) -> Mapping[str, Any] | None:
        record = read_record(job.workdir)
        return record.get("built_from") if record else None

    def states(self) -> dict[str, State]:
        """Job id -> (status, reason), in the graph's order; the reason is set for OUTDATED jobs."""
        plain = {status: (status, None) for status in JobStatus}  # one tuple shared by a million PENDING jobs
        return {job_id: plain[status] if reason is None else (status, reason)
                for job_id, status, reason in self.each()}

    def each(self) -> Iterator[tuple[str, JobStatus, str | None]]:
        """(job id, status, reason) of every job in the graph's order, without keeping them; what it read is
        written to the status cache once every job has been seen."""
        graph = self.graph
        jobs = graph.jobs
        unfinished = self._unfinished
        scan = self._scan = StatusScan(graph.root, self.signer.task_fingerprint)  # (its time: before any check)
        locate = _locator(graph)
        order = graph.order()
        learn = self._learn = self.signer.learner(order)  # (a done job's digest: a few bytes at its place)
        ahead = None
        try:
            if len(order) >= self.split_from and os.path.isdir(graph.root):  # (not where nothing ever ran)
                from hypermetric.store.scan_ahead import start

                ahead = start(order, locate, scan.cache_of, self.split_from, self.split_block, self.split_helpers,
                              self.split_wait)
            for index, job_id in enumerate(order):
                workdir, outputs = locate(job_id)
                if outputs is None:
                    status, recorded, known = scan.check_job(jobs[job_id])
                else:
                    status, recorded, known = scan.check(job_id, workdir, outputs, ahead, index)
                reason = None
                if status is JobStatus.COMPLETE:
                    if known and recorded and not unfinished:  # most done jobs of a tensor: `_reason`, inline
                        learn(index, job_id, recorded)
                    else:
                        reason = self._reason(job_id, recorded, known, index)
                    if reason is not None:
                        status = unfinished[job_id] = JobStatus.OUTDATED
                else:
                    unfinished[job_id] = status
                yield job_id, status, reason
            scan.save()
        finally:
            if ahead is not None:
                ahead.close()  # (its helpers: stopped and reaped, however the pass ends)
            scan.close()  # (a pass left before its end: its folders are let go)
            self._scan = None  # the signer, kept for the run, holds this object: not what the pass read
            self._learn = self._learn_by_id  # (nor, once it lets go of them, the digests the pass learnt)

    def _learn_by_id(self, _: int, job_id: str, digest: str) -> None:
        self.signer.learn(job_id, digest)

    def _reason(self, job_id: str, recorded: str | None, known: bool = False, index: int = -1) -> str | None:
        """Why a finished job is OUTDATED (None when it is not): its recorded signature differs from the
        planned one, or an upstream job it reads from is not finished or is OUTDATED. Its `Job` is built only
        when there is a reason to give. `known`: the status cache holds the recorded signature to be the
        planned one (under the fingerprint its task has now): the digest is not computed. `index`: the job's
        place in the order of the pass under way (-1: none)."""
        if recorded:
            signer = self.signer
            if known and index >= 0:
                self._learn(index, job_id, recorded)
            elif known:
                signer.learn(job_id, recorded)
            else:
                planned = signer.digest(job_id, index)
                if planned != recorded:
                    record = read_record(self.graph.workdir(job_id)) or {}
                    return explain(record.get("built_from"), signer.signature(job_id).built_from) or \
                        "signature changed"
                fingerprint = signer.reusable(job_id)
                if fingerprint != NONE and self._scan is not None:
                    self._scan.confirm(fingerprint)
        unfinished = self._unfinished
        if not unfinished or unfinished.keys().isdisjoint(self.graph.deps(job_id)):
            return None  # every dep is COMPLETE (every dep comes earlier in the order)
        job = self.graph.jobs[job_id]
        for dep in job.deps:
            status = unfinished.get(dep)
            if status is None or dep in job.after:
                continue  # COMPLETE, or not in the graph
            upstream = self.graph.jobs[dep]
            if not upstream.ephemeral:
                word = "outdated" if status is JobStatus.OUTDATED else "missing"
                return f"input {input_label(job, upstream)} {word}"
        return None


def _locator(graph: JobGraph) -> Callable[[str], tuple[str, tuple[str, ...] | None]]:
    """Job id -> (directory, outputs' relative paths, or None when some output is on a custom file
    system), without building the job where the graph is the planner's."""
    jobs = graph.jobs
    if isinstance(jobs, PlannedJobs):
        return jobs.locate

    def locate(job_id: str) -> tuple[str, tuple[str, ...] | None]:
        job = jobs[job_id]
        return job.workdir, None if job.output_fs else tuple(rel for _, rel in job.outputs)
    return locate


@dataclass
class Prepared:
    """What `prepare_run` found: the jobs not done (all others are), and the signer, which knows the
    signature of every job whose status needed one. Only the jobs to run are kept by id: a done job costs
    nothing here."""

    graph: JobGraph
    not_done: set[str]
    signer: Signer
    done_signatures: DoneSignatures | None = None  # of the done jobs, for the run record (not in the signer)

    def is_done(self, job: Job) -> bool:
        return job.id not in self.not_done and job.id in self.graph.jobs

    def close(self) -> None:
        if self.done_signatures is not None:
            self.done_signatures.close()


def prepare_run(graph: JobGraph, *, ignore_changes: bool = False) -> Prepared:
    """Give every job of `graph` that may run its planned signature (recorded when it succeeds) and, unless
    `ignore_changes`, mark the OUTDATED ones as not done (their `exitcode` goes; outputs stay until they
    re-run), so the run re-runs them and, through them, everything downstream."""
    staleness = Staleness(graph)
    jobs = graph.jobs
    not_done = set()
    for job_id, status, _ in staleness.each():
        if status is JobStatus.COMPLETE or (status is JobStatus.OUTDATED and ignore_changes):
            continue
        not_done.add(job_id)
        if status is JobStatus.OUTDATED:
            from hypermetric.store.mutations import invalidate  # its file-system calls: only when needed

            invalidate([jobs[job_id]])
        signature = staleness.signer.signature(job_id)
        jobs[job_id] = replace(jobs[job_id], signature=signature.digest, built_from=signature.built_from)
    # The done jobs' digests, for the run record (written only when a job is to run), wait in a file through
    # the run rather than in the signer: once the pass is over, a done job keeps nothing in memory.
    signer = staleness.signer
    spooled = DoneSignatures.spool(graph.order(), not_done, signer.known_digest, signer.learnt) if not_done else None
    if spooled is not None:
        signer.forget(not_done)
    return Prepared(graph, not_done, signer, spooled)


def input_label(job: Job, upstream: Job) -> str:
    """How `job` names what it reads from `upstream`: `task.output`, or the upstream job's display id."""
    prefix = upstream.workdir + "/"
    for link in job.inputs:
        targets = [e.target for e in link.entries] if link.is_reduction else [link.target or ""]
        for target in targets:
            if target.startswith(prefix):
                rel = target[len(prefix):]
                name = next((n for n, r in upstream.outputs if r == rel), rel)
                return f"{upstream.name}.{name}" if not link.is_reduction else f"{upstream.display_id}.{name}"
    return upstream.display_id
