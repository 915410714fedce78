"""What a stream yields (`BatchMessage`) and what it raises when a node fails (`NodeFailed`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class BatchMessage:
    """One batch's result: `index` numbers the batch from 0 in the order the data was sent."""

    index: int
    payload: Any


class NodeFailed(RuntimeError):
    """A node's `do()` raised, or its worker died, on one batch. `cause` is the error itself (also chained
    as `__cause__`), with its original type where Ray could rebuild it."""

    def __init__(self, node: str, index: int, cause: BaseException) -> None:
        self.node, self.index, self.cause = node, index, cause
        super().__init__(f"node {node!r} failed on batch {index}: {type(cause).__name__}: {cause}")
