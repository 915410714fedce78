"""`DAG`: raygent's streaming workflow, built on Ray actors (or run in this process with `parallel=False`).

Build it with `add_source()` (a node and the queue its data goes into), `add(task, inputs=...)` and
`add_sink(node)`; `start()` it; `stream(data, ...)` sends the data through in batches and yields
`(sink position, BatchMessage)` as results come out; `stop()` releases the workers. raygent's code runs
with only its imports changed. Two differences in how it runs: queues are not actors here (the driver passes
each batch's object references from node to node, which Ray resolves actor to actor), so sinks and sources
take no CPUs and `sink_wait` is accepted but nothing polls; and a node that fails stops the stream with
`NodeFailed`, naming the node and the batch, where raygent's stream would wait for a message that never comes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from hypermetric.flow.batching import batches
from hypermetric.flow.graph import (
    Graph,
    NodeHandle,
    SinkQueue,
    SourceQueue,
    as_inputs,
    check_call,
    check_workers,
)
from hypermetric.flow.messages import BatchMessage
from hypermetric.flow.stream import Stream


class DAG:
    """A streaming graph of tasks. `parallel=False` runs every node in this process, one batch at a time."""

    def __init__(self, *, parallel: bool = True) -> None:
        self.parallel = parallel
        self._graph = Graph()
        self._executor: Any = None

    def add_source(self, /, *, name: str | None = None) -> tuple[NodeHandle, SourceQueue]:
        """A source node, and the queue `stream()` sends one data stream into (see `source_queues`)."""
        self._check_building()
        node = self._graph.add(NodeHandle(name or self._graph.unique_name("source"), self._graph.id))
        return node, SourceQueue(node)

    def add(self, task: Any, /, *, inputs: NodeHandle | Iterable[NodeHandle],
            task_kwargs: Mapping[str, Any] | None = None, name: str | None = None,
            n_workers: int | None = 1, n_cpu_per_worker: float | None = None) -> NodeHandle:
        """A node running `task.do(*inputs' results, **task_kwargs)` on every batch.

        `n_workers` actors (None: as many as the CPUs Ray sees) share the node's batches; each holds
        `n_cpu_per_worker` CPUs while it lives, or none by default."""
        self._check_building()
        parents = as_inputs(inputs)
        for parent in parents:
            self._graph.check_member(parent)
        kwargs = dict(task_kwargs or {})
        check_call(task, len(parents), kwargs)
        check_workers(n_workers, n_cpu_per_worker)
        node = NodeHandle(name or self._graph.unique_name(type(task).__name__), self._graph.id, task, parents,
                          kwargs, n_workers, n_cpu_per_worker)
        return self._graph.add(node)

    def add_sink(self, input: NodeHandle, /, *, name: str | None = None) -> SinkQueue:
        """A queue that `stream()` reads `input`'s results from (see `sink_queues`)."""
        self._check_building()
        self._graph.check_member(input)
        sink = SinkQueue(input)
        self._graph.sinks.append(sink)
        return sink

    def start(self) -> None:
        """Starts the nodes' workers (on Ray, its actors; Ray itself if it is not running)."""
        if self._executor is not None:
            raise RuntimeError("the DAG is already running; stop() it first")
        if self.parallel:
            from hypermetric.flow.on_ray import RayExecutor

            self._executor = RayExecutor(self._graph)
        else:
            from hypermetric.flow.local import LocalExecutor

            self._executor = LocalExecutor(self._graph)

    def stream(self, *data_streams: Iterable[Any], source_queues: Sequence[SourceQueue],
               sink_queues: Sequence[SinkQueue], batch_size: int = 10, prebatched: bool = False,
               max_inflight: int = 16, sink_wait: float = 0.01) -> Iterator[tuple[int, BatchMessage]]:
        """Sends `data_streams[k]` into `source_queues[k]` in batches of `batch_size` (or as given, with
        `prebatched`) and yields `(k, message)` for each result of `sink_queues[k]`, in the order they finish.
        At most `max_inflight` batches are in the DAG at once. Raises `NodeFailed` if a node fails."""
        if self._executor is None:
            raise RuntimeError("the DAG must be started before streaming: call start() first")
        _check_numbers(batch_size, prebatched, max_inflight, sink_wait)
        sources = self._fed_sources(data_streams, source_queues)
        sinks = [self._sink_node(sink) for sink in sink_queues]
        stream = Stream(self._graph, self._executor, sources, sinks, max_inflight)
        return stream.run(batches(tuple(data_streams), batch_size, prebatched))

    def workers(self, node: NodeHandle) -> int:
        """How many workers a running DAG's task node has."""
        if self._executor is None:
            raise RuntimeError("the DAG is not running: its workers start with start()")
        self._graph.check_member(node)
        return self._executor.workers(node)

    def stop(self) -> None:
        """Stops every worker; the DAG can be started again."""
        if self._executor is not None:
            self._executor.stop()
            self._executor = None

    def __enter__(self) -> DAG:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __len__(self) -> int:
        return len(self._graph.nodes)

    def __repr__(self) -> str:
        names = ", ".join(node.name for node in self._graph.nodes)
        return f"<DAG nodes=[{names}] started={self._executor is not None}>"

    def _check_building(self) -> None:
        if self._executor is not None:
            raise RuntimeError("cannot change a running DAG; stop() it first")

    def _fed_sources(self, data: tuple[Any, ...], queues: Sequence[SourceQueue]) -> list[NodeHandle]:
        if len(data) != len(queues):
            raise ValueError(f"{len(data)} data stream(s) for {len(queues)} source queue(s): "
                             "pass one data stream per queue in source_queues, in the same order")
        nodes = []
        for queue in queues:
            if not isinstance(queue, SourceQueue):
                raise TypeError(f"source_queues must hold queues from add_source(), not {queue!r}")
            self._graph.check_member(queue.node)
            nodes.append(queue.node)
        if len(set(nodes)) != len(nodes):
            raise ValueError("a source queue appears twice in source_queues")
        read = {parent for node in self._graph.nodes for parent in node.inputs}
        read |= {sink.node for sink in self._graph.sinks}
        unfed = [node.name for node in self._graph.nodes if node.is_source and node in read and node not in nodes]
        if unfed:
            raise ValueError(f"source(s) {unfed} feed the DAG but get no data: add their queues to source_queues")
        return nodes

    def _sink_node(self, sink: Any) -> NodeHandle:
        if not isinstance(sink, SinkQueue):
            raise TypeError(f"sink_queues must hold queues from add_sink(), not {sink!r}")
        self._graph.check_member(sink.node)
        return sink.node


def _check_numbers(batch_size: int, prebatched: bool, max_inflight: int, sink_wait: float) -> None:
    if not prebatched and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
    if not isinstance(max_inflight, int) or max_inflight < 1:
        raise ValueError(f"max_inflight must be a positive integer, not {max_inflight!r}")
    if not sink_wait > 0:
        raise ValueError(f"sink_wait must be greater than 0, not {sink_wait!r}")
