"""`LocalExecutor`: runs every node's `do()` in this process, one batch at a time (`parallel=False`).

It is the sequential mode for debugging and tests: the same DAG and the same stream, with no Ray (nothing here
imports it). A call runs as soon as it is submitted, so a handle is already its outcome; a call whose input
failed does not run and carries that input's error on, as Ray does with a failed argument.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from hypermetric.flow.graph import Graph, NodeHandle


@dataclass(eq=False, frozen=True, slots=True)
class Outcome:
    """A finished call: its value, or the error it raised."""

    value: Any = None
    error: BaseException | None = None


class LocalExecutor:
    """The executor interface (`workers`, `source`, `submit`, `release`, `wait`, `outcome`, `stop`), in this process."""

    def __init__(self, graph: Graph) -> None:
        self._graph = graph

    def workers(self, node: NodeHandle) -> int:
        return 1

    def source(self, part: Any, shared: bool) -> Outcome:
        return Outcome(part)

    def submit(self, node: NodeHandle, args: list[Outcome]) -> Outcome:
        failed = next((arg for arg in args if arg.error is not None), None)
        if failed is not None:
            return failed
        try:
            return Outcome(node.task.do(*(arg.value for arg in args), **node.task_kwargs))
        except Exception as error:  # reported by the stream, with the node and batch it happened in
            return Outcome(error=error)

    def release(self, node: NodeHandle, handle: Outcome) -> None:
        """Nothing to free: calls in this process hold no worker."""

    def wait(self, handles: Collection[Outcome]) -> list[Outcome]:
        return list(handles)

    def outcome(self, handle: Outcome) -> Outcome:
        return handle

    def stop(self) -> None:
        """Nothing to stop."""
