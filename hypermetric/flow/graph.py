"""The shape of a streaming DAG: its nodes (sources and tasks), their inputs, and the sinks that read them.

Nothing here runs anything: a `Graph` is the plain data `DAG` builds and an executor starts. Nodes are kept in
the order they were added; since a node's inputs must exist before it, that order is a topological one, and
everything that walks the graph (submitting a batch, finding the node where a failure began) walks it so.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_graph_ids = itertools.count()


@dataclass(eq=False, slots=True)
class NodeHandle:
    """One node of a DAG: a source (`task` is None) or a task fed by `inputs`, in `do()`'s argument order."""

    name: str
    graph: int
    task: Any = None
    inputs: tuple[NodeHandle, ...] = ()
    task_kwargs: Mapping[str, Any] = field(default_factory=dict)
    n_workers: int | None = 1
    n_cpu_per_worker: float | None = None

    @property
    def is_source(self) -> bool:
        return self.task is None

    def __repr__(self) -> str:
        return f"<NodeHandle {self.name}>"


@dataclass(eq=False, frozen=True, slots=True)
class SourceQueue:
    """Where `DAG.stream()` sends one data stream's batches: the entry of a source node."""

    node: NodeHandle


@dataclass(eq=False, frozen=True, slots=True)
class SinkQueue:
    """Where `DAG.stream()` reads a node's results from."""

    node: NodeHandle


class Graph:
    """Nodes in the order they were added, with each one's consumers."""

    def __init__(self) -> None:
        self.id = next(_graph_ids)
        self.nodes: list[NodeHandle] = []
        self.sinks: list[SinkQueue] = []
        self._names: set[str] = set()

    def add(self, node: NodeHandle) -> NodeHandle:
        if node.name in self._names:
            raise ValueError(f"duplicate node name: {node.name!r}")
        for parent in node.inputs:
            self.check_member(parent)
        self._names.add(node.name)
        self.nodes.append(node)
        return node

    def unique_name(self, stem: str) -> str:
        return next(f"{stem}-{n}" for n in itertools.count(1) if f"{stem}-{n}" not in self._names)

    def check_member(self, node: Any) -> None:
        if not isinstance(node, NodeHandle):
            raise TypeError(f"expected a node made by this DAG's add() or add_source(), not {node!r}")
        if node.graph != self.id:
            raise ValueError(f"node {node.name!r} belongs to another DAG")

    def consumers(self, node: NodeHandle) -> list[NodeHandle]:
        return [other for other in self.nodes if node in other.inputs]

    def ancestors(self, node: NodeHandle) -> list[NodeHandle]:
        """The node and every node it depends on, in topological order."""
        seen: set[int] = set()
        stack = [node]
        while stack:
            current = stack.pop()
            if id(current) not in seen:
                seen.add(id(current))
                stack.extend(current.inputs)
        return [other for other in self.nodes if id(other) in seen]


def as_inputs(inputs: NodeHandle | Iterable[NodeHandle]) -> tuple[NodeHandle, ...]:
    """`inputs=` as a tuple: one node, or several in the order `do()` takes them."""
    if isinstance(inputs, NodeHandle):
        return (inputs,)
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
        raise TypeError(f"inputs must be a node or a tuple of nodes, not {inputs!r}")
    found = tuple(inputs)
    if not found:
        raise ValueError("a task node needs at least one input")
    return found


def check_call(task: Any, n_inputs: int, task_kwargs: Mapping[str, Any]) -> None:
    """Fails now, with the node's wiring in the message, where `do()` could not take its inputs and kwargs."""
    do = getattr(task, "do", None)
    if not callable(do):
        raise TypeError(f"{task!r} is not a Task: it has no do() method")
    try:
        signature = inspect.signature(do)
    except (TypeError, ValueError):  # a builtin or C function: nothing to check here
        return
    try:
        signature.bind(*range(n_inputs), **task_kwargs)
    except TypeError as error:
        raise ValueError(f"{type(task).__name__}.do{signature} cannot take {n_inputs} input(s) and keyword "
                         f"arguments {sorted(task_kwargs)}: {error}") from None


def check_workers(n_workers: int | None, n_cpu_per_worker: float | None) -> None:
    if n_workers is not None and (not isinstance(n_workers, int) or n_workers < 1):
        raise ValueError(f"n_workers must be a positive integer or None, not {n_workers!r}")
    if n_cpu_per_worker is not None and not n_cpu_per_worker > 0:
        raise ValueError(f"n_cpu_per_worker must be positive, not {n_cpu_per_worker!r}")
