"""The driver loop: feeds batches to workers under a bound on in-flight rows, routes results to evaluators,
and keeps every batch until a part holding it is on disk, so that a lost worker or evaluator loses nothing.

A batch goes: read → running (on a worker) → ingesting (sent to an evaluator) → buffered (acknowledged, in
the evaluator's memory) → committed (in a Parquet part). Rows count as in flight while running or ingesting;
buffered rows are bounded by the evaluators' flush thresholds. Batches go to an evaluator in groups, a
batch waiting for the next run to end while one is pending (see `ready`). When a worker dies its batches
run again (the one it was running in two halves, so that a row that kills workers ends up failing alone);
when an evaluator dies, a fresh one receives every batch the dead one had not committed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

from hypermetric.runtime.data.sharding import RowBatch, split_batch
from hypermetric.runtime.drive.execute import CallPlan, failed_payload
from hypermetric.runtime.drive.pool import ActorLost, PayloadLost, Pool
from hypermetric.runtime.drive.ready import MAX_BATCHES_PER_INGEST, ReadyBatches, group_size
from hypermetric.runtime.drive.state import BatchState, Counters, DriveStats, Progress, Wait
from hypermetric.runtime.parts.free_memory import FreeMemoryCadence

__all__ = ["BATCHES_PER_WORKER", "MAX_BATCHES_PER_INGEST", "DriveStats", "Driver", "Progress"]


BATCHES_PER_WORKER = 2  # a worker has its next batch queued while it runs one


class Driver:
    """Schedules one run on a `Pool`; `run()` returns when every batch read is committed."""

    def __init__(self, pool: Pool, batches: Iterator[RowBatch], *, workers: int, evaluators: int,
                 max_in_flight: int, crash_limit: int, plan: CallPlan,
                 progress: Callable[[Progress], None] | None = None) -> None:
        self._pool, self._source, self._plan, self._progress = pool, batches, plan, progress
        self._max_in_flight, self._crash_limit = max_in_flight, crash_limit
        self._next: RowBatch | None = None
        self._exhausted = False
        self._closing = False
        self._batches: dict[int, BatchState] = {}
        self._waiting: dict[Any, Wait] = {}
        self._worker_load = [0] * workers
        self._worker_generation = [0] * workers
        self._evaluator_load = [0] * evaluators
        self._evaluator_generation = [0] * evaluators
        self._count = Counters()
        self._free_memory = FreeMemoryCadence()  # native memory freed meanwhile goes back as rows commit
        self._split_ids = itertools.count(-1, -1)  # the source numbers its batches from 0 up
        # Run batches waiting to go to an evaluator in groups of the runs queued on the workers feeding it.
        self._ready = ReadyBatches(group_size(workers, evaluators, BATCHES_PER_WORKER))

    def run(self) -> DriveStats:
        """Drives the run to its end; stopping the pool is the caller's part."""
        while True:
            self._fill()
            if not self._waiting:  # `_fill` leaves nothing waiting only once the source is exhausted
                if self._closing:
                    break
                self._close_all()
                continue
            for handle in self._pool.wait(self._waiting.keys()):
                self._handle(handle, self._waiting.pop(handle))
                self._report()
            self._send_ready()
        if self._batches or self._next is not None or not self._exhausted:
            raise RuntimeError(f"internal error: {len(self._batches)} batches were never committed")
        c = self._count
        return DriveStats(c.read, c.committed, c.failed, c.peak, c.lost_workers, c.lost_evaluators)

    def _fill(self) -> None:
        """Starts batches while a worker is free and the in-flight bound allows (and always one when nothing
        is in flight, so that work goes on)."""
        while not self._exhausted:
            if self._next is None:
                self._next = next(self._source, None)
                if self._next is None:
                    self._exhausted = True
                    return
                self._count.read += len(self._next)
            if self._count.in_flight and (self._count.in_flight + len(self._next) > self._max_in_flight
                                          or min(self._worker_load) >= BATCHES_PER_WORKER):
                return
            state = BatchState(self._next)
            self._batches[self._next.batch_id] = state
            self._next = None
            self._add_in_flight(len(state.batch))
            self._start(state)

    def _add_in_flight(self, rows: int) -> None:
        self._count.in_flight += rows
        self._count.peak = max(self._count.peak, self._count.in_flight)

    def _start(self, state: BatchState) -> None:
        worker = min(range(len(self._worker_load)), key=self._worker_load.__getitem__)
        self._worker_load[worker] += 1
        state.evaluator = -1  # at no evaluator until it is scored
        status, state.payload = self._pool.run(worker, state.batch)
        self._waiting[status] = Wait("run", state.batch.batch_id, worker, self._worker_generation[worker])

    def _send(self, state: BatchState) -> None:
        """Queues a run batch for an evaluator; batches go in groups (see `ReadyBatches`). A batch that an
        evaluator died scoring goes alone, so that a batch which kills evaluators counts its crashes alone
        and fails alone."""
        if state.crashes:
            self._send_to([state], self._least_loaded_evaluator())
        else:
            self._ready.add(state)

    def _send_ready(self) -> None:
        """Sends the queued batches that are due, shared out among the evaluators."""
        for states in self._ready.take(sum(self._worker_load), len(self._evaluator_load)):
            self._send_to(states, self._least_loaded_evaluator())

    def _least_loaded_evaluator(self) -> int:
        return min(range(len(self._evaluator_load)), key=self._evaluator_load.__getitem__)

    def _send_to(self, states: list[BatchState], evaluator: int) -> None:
        for state in states:
            state.evaluator = evaluator
        self._evaluator_load[evaluator] += len(states)
        handle = self._pool.ingest(evaluator, [state.payload for state in states])
        generation = self._evaluator_generation[evaluator]
        batch_ids = tuple(state.batch.batch_id for state in states)
        self._waiting[handle] = Wait("ingest", batch_ids[0], evaluator, generation, batch_ids)

    def _handle(self, handle: Any, wait: Wait) -> None:
        if wait.kind == "run":
            self._on_run(handle, self._batches.get(wait.batch_id), wait)
        elif wait.kind == "ingest":
            self._on_ingest(handle, wait)
        else:
            self._on_close(handle, wait)

    def _on_run(self, handle: Any, state: BatchState | None, wait: Wait) -> None:
        """A run's end; `state` is None where the batch is committed already: a worker that scores its batches
        can die after a flush made one durable and before it replied, as its parts show (`_worker_lost`)."""
        self._worker_load[wait.actor] -= 1
        try:
            _, _, failed, committed = self._pool.result(handle)
        except ActorLost as error:
            # The first failed batch of a dead worker is the one it was running; those queued behind it
            # (failing with it) are innocent and simply run again.
            running = wait.generation == self._worker_generation[wait.actor]
            self._worker_lost(wait.actor, wait.generation)
            if state is None or state.batch.batch_id not in self._batches:
                return
            if running and len(state.batch) > 1:
                self._split(state)
                return
            if not running or not self._crashed(state, f"WorkerDied: {error}"):
                self._start(state)
                return
            failed, committed = len(state.batch), None  # its failed rows go to an evaluator
        if state is None:
            self._commit(committed or [])
            return
        self._count.failed += failed - state.failed
        state.failed = failed
        if committed is None:
            self._send(state)
            return
        # Scored by the worker's own evaluator, which buffers it; if that worker has since been replaced, its
        # buffer is gone, and the batch runs again unless a flush made it durable first.
        if wait.generation != self._worker_generation[wait.actor]:
            self._commit(committed)
            if state.batch.batch_id in self._batches:
                self._start(state)
            return
        state.evaluator = wait.actor
        self._acknowledge(state)
        self._commit(committed)
        if self._closing:  # a batch run again after the worker was closed: flush it too
            self._close(wait.actor)

    def _split(self, state: BatchState) -> None:
        """A worker died running this batch: its rows run again in two halves, and so on, until the row that
        kills workers runs alone; only that row then fails, and the rest of its batch is recorded."""
        del self._batches[state.batch.batch_id]
        self._count.failed -= state.failed
        if not state.in_flight:
            self._count.acknowledged -= len(state.batch)
            self._add_in_flight(len(state.batch))
        for half in split_batch(state.batch, next(self._split_ids), next(self._split_ids)):
            child = BatchState(half)
            self._batches[half.batch_id] = child
            self._start(child)

    def _crashed(self, state: BatchState, error: str) -> bool:
        """Counts a crash against a batch; past the limit its rows become failures with `error`."""
        state.crashes += 1
        if state.crashes < self._crash_limit:
            return False
        state.payload = failed_payload(state.batch, self._plan, error.splitlines()[0], state.crashes)
        self._count.failed += len(state.batch) - state.failed
        state.failed = len(state.batch)
        return True

    def _on_ingest(self, handle: Any, wait: Wait) -> None:
        current = wait.generation == self._evaluator_generation[wait.actor]
        if current:
            self._evaluator_load[wait.actor] -= len(wait.batch_ids)
        states = [state for state in map(self._batches.get, wait.batch_ids) if state is not None]
        try:
            committed = self._pool.result(handle)
        except ActorLost as error:
            for state in states if current else ():  # the first failed request of a dead evaluator was its last
                self._crashed(state, f"EvaluatorDied: {error}")
            self._evaluator_lost(wait.actor, wait.generation)
            return
        except PayloadLost:
            for state in states if current else ():
                self._start(state)
            return
        for state in states if current else ():
            self._acknowledge(state)
        self._commit(committed)

    def _acknowledge(self, state: BatchState) -> None:
        """The batch is buffered by an evaluator: no longer in flight."""
        if state.in_flight:
            state.in_flight = False
            self._count.in_flight -= len(state.batch)
            self._count.acknowledged += len(state.batch)

    def _on_close(self, handle: Any, wait: Wait) -> None:
        try:
            self._commit(self._pool.result(handle))
        except ActorLost:
            self._evaluator_lost(wait.actor, wait.generation)

    def _commit(self, batch_ids: list[int]) -> None:
        for batch_id in batch_ids:
            state = self._batches.pop(batch_id, None)
            if state is not None:
                if state.in_flight:  # committed by an evaluator whose acknowledgement never came
                    self._count.in_flight -= len(state.batch)
                    self._count.acknowledged += len(state.batch)
                self._count.committed += len(state.batch)
        self._free_memory.committed(self._count.committed)

    def _close_all(self) -> None:
        self._closing = True
        for evaluator in range(len(self._evaluator_load)):
            self._close(evaluator)

    def _close(self, evaluator: int) -> None:
        handle = self._pool.close(evaluator)
        self._waiting[handle] = Wait("close", -1, evaluator, self._evaluator_generation[evaluator])

    def _worker_lost(self, worker: int, generation: int) -> None:
        if generation != self._worker_generation[worker]:
            return
        self._count.lost_workers += 1
        self._worker_generation[worker] += 1
        if self._pool.scores_in_workers:  # its evaluator died with it
            self._replace_evaluator(worker)
        else:
            self._pool.replace_worker(worker)

    def _evaluator_lost(self, evaluator: int, generation: int) -> None:
        if generation != self._evaluator_generation[evaluator]:
            return
        if self._pool.scores_in_workers:  # the worker holding it died with it
            self._count.lost_workers += 1
            self._worker_generation[evaluator] += 1
        self._replace_evaluator(evaluator)

    def _replace_evaluator(self, evaluator: int) -> None:
        """Replaces a dead evaluator and gives the new one every batch the old one had not committed: sent
        again where the driver holds its payload, run again where the old one's worker had scored it.

        What it committed is read from its parts on disk: a process can die after writing a part and before
        its reply leaves, and a batch sent again after that would be recorded twice."""
        generation = self._evaluator_generation[evaluator]
        self._commit(sorted(self._pool.committed_by(evaluator, generation)))
        self._count.lost_evaluators += 1
        self._evaluator_generation[evaluator] += 1
        self._pool.replace_evaluator(evaluator, self._evaluator_generation[evaluator])
        self._evaluator_load[evaluator] = 0
        for state in list(self._batches.values()):
            if state.evaluator == evaluator and not self._is_running(state):
                if not state.in_flight:
                    state.in_flight = True
                    self._count.acknowledged -= len(state.batch)
                    self._add_in_flight(len(state.batch))
                if state.payload is None:
                    self._start(state)
                else:
                    self._send_to([state], evaluator)
        if self._closing:
            self._close(evaluator)

    def _is_running(self, state: BatchState) -> bool:
        return any(w.kind == "run" and w.batch_id == state.batch.batch_id for w in self._waiting.values())

    def _report(self) -> None:
        if self._progress is not None:
            self._progress(self._count.progress())
