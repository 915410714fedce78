"""`run_graph`: write the run record, drive the scheduler over a backend, emit events, clean up ephemerals."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hypermetric.execution.backend import Backend, OutputSink
from hypermetric.execution.backends import make_backend
from hypermetric.execution.events import (
    Event,
    JobFailed,
    JobOutput,
    JobQueued,
    JobSkipped,
    JobStarted,
    JobSucceeded,
    JobWaiting,
    RunFinished,
    RunStarted,
)
from hypermetric.execution.interrupts import signal_of
from hypermetric.execution.report import JobResult, RunReport
from hypermetric.execution.scheduler import Scheduler
from hypermetric.plan.graph import JobGraph
from hypermetric.plan.job import Job
from hypermetric.plan.planned import PlannedJobs
from hypermetric.store.staleness import prepare_run
from hypermetric.store.status import JobStatus

if TYPE_CHECKING:
    from hypermetric.execution.protocol import JobOutcome

# What only running a job needs (the local runner, the run record, removing ephemeral outputs) is imported
# when a job runs: a run whose jobs are all done plans, checks and reports, and imports none of it.

EventSink = Callable[[Event], None]
_POLL = 1.0


@dataclass(kw_only=True)
class RunOptions:
    """How to run a graph. `backend`: `local`, `ray`, `remote`, `auto` (`execution.choice`) or a `Backend`."""

    jobs: int = 1
    keep_going: bool = False
    retries: int = 0
    shell: tuple[str, ...] = ("bash", "-e")
    silent: bool = False                      # job output goes to its files only (no JobOutput events)
    verbose: bool = False                     # for the progress view; the engine runs the same either way
    backend: str | Backend = "local"
    record: bool = True                       # write the run record under `<root>/.runs`
    lock_interval: float = 5.0                # seconds between "waiting for lock" events
    grace: float = 5.0                        # seconds between SIGTERM and SIGKILL on Ctrl-C
    ignore_changes: bool = False              # HyperMake's rule for this run: done jobs never count as OUTDATED
    machines: tuple = ()                      # the `remote` backend's machines (execution/remote_config.py)
    ray_address: str | None = None            # the Ray cluster to join (None: `RAY_ADDRESS`, else embedded)


class _Emitter:
    """Delivers events one at a time, whichever thread produces them."""

    def __init__(self, sink: EventSink | None) -> None:
        self._sink = sink
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        if self._sink is not None:
            with self._lock:
                self._sink(event)


def run_graph(graph: JobGraph, options: RunOptions | None = None,
              on_event: EventSink | None = None) -> RunReport:
    """Run every job of `graph` that is not complete; Ctrl-C (or SIGTERM/SIGHUP inside
    `interrupts.interrupts()`) cancels the running jobs (exit code 130, 143, 129) and then runs the `stop`
    job of each service the run had started, so no service outlives the run."""
    options = options or RunOptions()
    emit = _Emitter(on_event)
    prepared = prepare_run(graph, ignore_changes=options.ignore_changes)  # OUTDATED jobs become not done
    report = RunReport(started=time.time())
    on_output = None if options.silent or on_event is None else _output_sink(emit)
    on_start = None if on_event is None else lambda job, attempt: emit(JobStarted(job, attempt))

    def backend_for_run() -> Backend:
        return make_backend(options, on_output, lambda job, message: emit(JobWaiting(job, message)), on_start)

    backend = backend_for_run()
    run = _Run(graph, options, backend, emit, report, prepared.not_done)
    try:
        # A run with nothing to do writes nothing, so that a finished root can be read-only.
        if options.record and graph.root and run.scheduler.to_run:
            from hypermetric.store.runs import write_run_record

            report.record = write_run_record(graph.root, graph.order())
        run.execute()
    finally:
        backend.close()
    if report.interrupted and run.scheduler.ready_finalizers():
        run.stop_services(backend_for_run())
    if report.executed:
        _remove_ephemeral(graph)
    report.finished = time.time()
    if report.record:
        from hypermetric.store.history import write_run_summary

        write_run_summary(report.record, graph, {i: r.status.label for i, r in report.results.items()},
                          report.started, report.finished, prepared.signer.known, prepared.not_done,
                          prepared.done_signatures)
    prepared.close()
    emit(RunFinished(report))
    return report


def _remove_ephemeral(graph: JobGraph) -> None:
    """Delete the outputs of every ephemeral job of the graph (those of an earlier, interrupted run too),
    asking the planner which jobs are ephemeral rather than building every job to see."""
    jobs = graph.jobs
    if isinstance(jobs, PlannedJobs):
        ephemeral = [i for i in jobs if jobs.ref(i).plan.ephemeral]
    else:
        ephemeral = [i for i, job in jobs.items() if job.ephemeral]
    if not ephemeral:
        return
    from hypermetric.store import mutations

    for job_id in ephemeral:
        mutations.remove(jobs[job_id])


def _output_sink(emit: _Emitter) -> OutputSink:
    def sink(job: Job, stream: str, line: str) -> None:
        emit(JobOutput(job, "stderr" if stream == "stderr" else "stdout", line))
    return sink


class _Run:
    """The loop of one run: start what the scheduler allows, settle what the backend reports."""

    def __init__(self, graph: JobGraph, options: RunOptions, backend: Backend, emit: _Emitter,
                 report: RunReport, not_done: AbstractSet[str]) -> None:
        self.graph, self.backend, self.emit, self.report = graph, backend, emit, report
        self.scheduler = Scheduler(graph, slots=options.jobs, keep_going=options.keep_going,
                                   retries=options.retries, gpus=backend.gpu_count, not_done=not_done,
                                   ahead=getattr(backend, "queue_ahead", 0))
        self.withdrawn = False  # the backend was told to give back what it holds queued (`drive`)
        report.complete, report.not_needed = self.scheduler.done_count, self.scheduler.idle_count
        jobs = graph.jobs
        report.results = {i: JobResult(i, jobs[i].label, jobs[i].workdir) for i in self.scheduler.state}
        self.in_flight: set[str] = set()

    def execute(self) -> None:
        """Start, drive to the end; on Ctrl-C cancel the running jobs and mark the report interrupted."""
        try:
            self.start()
            self.drive()
        except KeyboardInterrupt as exc:
            self.report.interrupted = True
            self.report.signum = signal_of(exc)  # SIGTERM and SIGHUP arrive as `Terminated`
            self.cancel()

    def start(self) -> None:
        """Say how many jobs run and how many were found done (those are only counted: no event, no result
        each, so a large graph that is mostly done costs what its jobs to run cost)."""
        sched, jobs = self.scheduler, self.graph.jobs
        self.emit(RunStarted(len(sched.state), sched.done_count, self.report.record))
        for job_id in sched.state:
            self.emit(JobQueued(jobs[job_id]))

    def drive(self) -> None:
        sched = self.scheduler
        stage_ahead = getattr(self.backend, "stage_ahead", None)
        while not sched.done:
            for job, attempt in sched.take():
                if stage_ahead is not None:
                    ahead = sched.held_back_by(job.id) or sched.waiting()
                    if ahead:
                        stage_ahead(job.id, ahead)
                self.backend.start(job, attempt)
                self.in_flight.add(job.id)
                self.report.results[job.id].attempts = attempt
                if not getattr(self.backend, "reports_start", False):  # else it says when the job starts
                    self.emit(JobStarted(job, attempt))
            if not sched.running:
                break
            for outcome in self.backend.wait_any(_POLL):
                self.settle(outcome)
            if sched.ahead:  # once stopped, the jobs queued ahead and not begun come back withdrawn
                withdraw = sched.stopped and not self.withdrawn
                self.withdrawn = self.withdrawn or withdraw
                getattr(self.backend, "withdraw" if withdraw else "go_on", _nothing)()

    def stop_services(self, backend: Backend) -> None:
        """After an interrupt, runs the `stop` job of every service whose `start` ran (on a fresh backend:
        the interrupted one refuses new work); a second Ctrl-C gives up on them."""
        self.backend = backend
        self.emit(JobWaiting(self.graph.jobs[self.scheduler.ready_finalizers()[0]],
                             "interrupted: stopping the services this run started (Ctrl-C again to leave them)"))
        try:
            self.drive()
        except KeyboardInterrupt:
            self.cancel()
        finally:
            backend.close()

    def cancel(self) -> None:
        """Stop starting jobs, cancel the running ones and wait until each has reported back."""
        self.scheduler.stop()
        from hypermetric.execution.protocol import JobOutcome

        self.backend.cancel_all()
        now = time.time()
        for job_id in [i for i in self.scheduler.running if i not in self.in_flight]:
            self.settle(JobOutcome(job_id, JobStatus.PENDING, reason="interrupted", start=now, end=now))
        idle = getattr(self.backend, "idle", None)
        while self.in_flight:
            try:
                outcomes = self.backend.wait_any(0.2)
                for outcome in outcomes:
                    self.settle(outcome)
                if not outcomes and idle is not None and idle():
                    self._settle_lost()
            except KeyboardInterrupt:
                self.backend.cancel_all()

    def _settle_lost(self) -> None:
        """The interrupt can arrive after the backend handed over an outcome and before it was settled; once
        the backend says every job it started has ended and been reported, the jobs still in flight are such
        lost outcomes. They are settled as interrupted (never as done: the next run checks their files)."""
        from hypermetric.execution.protocol import JobOutcome

        now = time.time()
        for job_id in sorted(self.in_flight):
            self.settle(JobOutcome(job_id, JobStatus.PENDING, reason="interrupted", start=now, end=now))

    def settle(self, outcome: JobOutcome) -> None:
        job = self.graph.jobs[outcome.job_id]
        self.in_flight.discard(job.id)
        step = self.scheduler.finish(outcome)
        result = self.report.results[job.id]
        if outcome.withdrawn:  # it never began: no attempt, nothing to show
            result.attempts -= 1
            result.status = JobStatus.PENDING
            return
        result.duration += outcome.duration
        result.exit_code, result.reason = outcome.exit_code, outcome.reason
        result.stderr_tail = outcome.stderr_tail
        if outcome.status is JobStatus.COMPLETE:
            result.status = JobStatus.COMPLETE
            self.emit(JobSkipped(job, "complete"))
        elif outcome.status is JobStatus.SUCCESS:
            result.status = JobStatus.SUCCESS
            self.emit(JobSucceeded(job, outcome.duration, outcome.attempt))
        elif outcome.interrupted:
            result.status = JobStatus.PENDING
        else:
            result.status = JobStatus.PENDING if step.retry else JobStatus.FAILED
            self.emit(JobFailed(job, outcome.reason or "failed", outcome.stderr_tail, outcome.attempt,
                                step.retry, outcome.duration))
        for job_id in step.skipped:
            self.report.results[job_id].status = JobStatus.SKIPPED
            self.emit(JobSkipped(self.graph.jobs[job_id], "upstream failed"))


def _nothing() -> None:
    pass
