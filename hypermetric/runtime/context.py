"""The batch a worker is running: what components called during it returned, and the evaluation requests they
made, kept column by column (one list per metric argument) so that they cost little to build and to ship."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any, NamedTuple

from hypermetric.runtime.metric import MetricSpec

MISSING: Any = object()  # a row that did not call a component (stays in the worker: never pickled)


class Requests(NamedTuple):
    """One metric's evaluation requests in a batch: the row of each, its `score` arguments (in the order of
    `MetricSpec.keys`), and the rows whose arguments could not be resolved, with why."""

    rows: list[int]
    arguments: list[tuple[Any, ...]]
    errors: list[tuple[int, str]]


class BatchCapture:
    """Collects, row by row, component outputs and evaluation requests while a worker runs a batch."""

    __slots__ = ("columns", "index", "outputs", "requests", "rows", "specs")

    def __init__(self, columns: Mapping[str, list[Any]], rows: int) -> None:
        self.columns = columns
        self.rows = rows
        self.index = 0
        self.outputs: dict[str, list[Any]] = {}
        self.requests: dict[str, Requests] = {}
        self.specs: dict[str, MetricSpec] = {}

    def record(self, component: str, arguments: Mapping[str, Any], output: Any,
               specs: tuple[tuple[str, MetricSpec], ...]) -> None:
        """Keeps a component's output (the last call in a row wins) and queues a request per metric of it."""
        outputs = self.outputs.get(component)
        if outputs is None:
            outputs = self.outputs[component] = [MISSING] * self.rows
        index = self.index
        outputs[index] = output
        for column, spec in specs:
            requests = self.requests.get(column)
            if requests is None:
                requests = self.requests[column] = Requests([], [], [])
                self.specs[column] = spec
            try:
                requests.arguments.append(spec.resolve(arguments, output, self.columns, index))
            except Exception as error:  # an unresolvable binding is that metric's error, not the row's
                requests.errors.append((index, describe_error(error)))
                continue
            requests.rows.append(index)

    def discard(self, index: int) -> None:
        """Forgets what the current row recorded (its call failed); its entries are the last ones."""
        for outputs in self.outputs.values():
            outputs[index] = MISSING
        for requests in self.requests.values():
            while requests.rows and requests.rows[-1] == index:
                requests.rows.pop()
                requests.arguments.pop()
            while requests.errors and requests.errors[-1][0] == index:
                requests.errors.pop()


def describe_error(error: BaseException) -> str:
    """`Type: message`, the form errors take in result tables."""
    message = str(error)
    if isinstance(error, KeyError) and error.args:
        message = str(error.args[0])
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


CURRENT_BATCH: ContextVar[BatchCapture | None] = ContextVar("hypermetric_current_batch", default=None)
_ACTIVE: list[BatchCapture] = []  # batches running in this process, for threads that do not inherit the context


@contextlib.contextmanager
def capturing(capture: BatchCapture) -> Iterator[BatchCapture]:
    """Makes `capture` the batch that components called from here (or from threads started here) record to."""
    token = CURRENT_BATCH.set(capture)
    _ACTIVE.append(capture)
    try:
        yield capture
    finally:
        _ACTIVE.remove(capture)
        CURRENT_BATCH.reset(token)


def current_batch() -> BatchCapture | None:
    """The batch being run: this context's, or else the only one running in the process (a component called
    from a thread the user's function started, which does not inherit context variables)."""
    capture = CURRENT_BATCH.get()
    if capture is None and len(_ACTIVE) == 1:
        return _ACTIVE[0]
    return capture
