"""The streaming loop: send batches into a running DAG, at most `max_inflight` at a time, and yield results.

A batch is in flight from the moment its calls are submitted until every call the stream watches for it has
finished: the calls of the nodes that sinks read, and of the task nodes nothing reads (so that their failures
are seen too). Only then is the next batch read from the data, so a slow node holds back the reading of the
data itself: at most `max_inflight` batches are ever held in memory or queued on workers (backpressure).

Results are yielded as calls finish, from whichever sink is ready first, as queues would deliver them. When a
watched call failed, the node where the failure began is found among the nodes it depends on (a call whose
input failed fails with that input's error) and reported with the batch's index, instead of waiting on;
where several batches in flight failed, the earliest is reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from hypermetric.flow.batching import Batch
from hypermetric.flow.graph import Graph, NodeHandle
from hypermetric.flow.messages import BatchMessage, NodeFailed


@dataclass(eq=False, slots=True)
class _InFlight:
    index: int
    calls: dict[NodeHandle, Any] = field(default_factory=dict)
    waiting: int = 0


class Stream:
    """One `DAG.stream()` call: which sources the data feeds and which sinks it reads, in their order."""

    def __init__(self, graph: Graph, executor: Any, sources: list[NodeHandle],
                 sinks: list[NodeHandle], max_inflight: int) -> None:
        self._graph, self._executor, self._sources = graph, executor, sources
        self._max_inflight = max_inflight
        self._tasks = [node for node in graph.nodes if not node.is_source]
        self._watch: dict[NodeHandle, list[int]] = {node: [] for node in self._tasks
                                                     if not graph.consumers(node)}
        for position, node in enumerate(sinks):
            self._watch.setdefault(node, []).append(position)
        self._shared = {node for node in sources
                        if len(graph.consumers(node)) > 1 or node in self._watch}
        self._pending: dict[Any, tuple[_InFlight, NodeHandle]] = {}

    def run(self, data: Iterator[Batch]) -> Iterator[tuple[int, BatchMessage]]:
        in_flight = 0
        try:
            while True:
                while in_flight < self._max_inflight:
                    batch = next(data, None)
                    if batch is None:
                        break
                    in_flight += 1 if self._submit(*batch).waiting else 0
                if not self._pending:
                    return
                for handle in self._executor.wait(list(self._pending)):
                    flight, node = self._pending.pop(handle)
                    yield from self._deliver(flight, node, handle)
                    flight.waiting -= 1
                    if not flight.waiting:
                        self._release(flight)
                        in_flight -= 1
        finally:
            for flight in {id(f): f for f, _ in self._pending.values()}.values():
                self._release(flight)
            self._pending.clear()

    def _submit(self, index: int, parts: tuple[Any, ...]) -> _InFlight:
        flight = _InFlight(index)
        for node, part in zip(self._sources, parts):
            flight.calls[node] = self._executor.source(part, node in self._shared)
        for node in self._tasks:
            flight.calls[node] = self._executor.submit(node, [flight.calls[n] for n in node.inputs])
        for node in self._watch:
            self._pending[flight.calls[node]] = (flight, node)
        flight.waiting = len(self._watch)
        return flight

    def _deliver(self, flight: _InFlight, node: NodeHandle, handle: Any) -> Iterator[tuple[int, BatchMessage]]:
        outcome = self._executor.outcome(handle)
        if outcome.error is not None:
            raise self._first_failure(flight)
        for position in self._watch[node]:
            yield position, BatchMessage(flight.index, outcome.value)

    def _first_failure(self, flight: _InFlight) -> NodeFailed:
        """The failure of the earliest batch in flight that failed, up to `flight`: a worker that died on one
        batch also fails the later batches queued on it, and the batch it died on is the one to report."""
        earlier = {id(f): f for f, _ in self._pending.values() if f.index < flight.index}
        for candidate in [*sorted(earlier.values(), key=lambda f: f.index), flight]:
            for node in self._watch:
                if self._executor.outcome(candidate.calls[node]).error is not None:
                    return self._failure(candidate, node)
        raise AssertionError(f"batch {flight.index} failed, yet none of its watched calls did")

    def _failure(self, flight: _InFlight, node: NodeHandle) -> NodeFailed:
        for suspect in self._graph.ancestors(node):
            if suspect.is_source:
                continue
            error = self._executor.outcome(flight.calls[suspect]).error
            if error is not None:
                failed = NodeFailed(suspect.name, flight.index, error)
                failed.__cause__ = error
                return failed
        raise AssertionError(f"no failed call found for batch {flight.index} at node {node.name!r}")

    def _release(self, flight: _InFlight) -> None:
        for node, handle in flight.calls.items():
            if not node.is_source:
                self._executor.release(node, handle)
