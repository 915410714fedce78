"""The batch a worker is running: the calls its components make, kept per component and column by column.

A call costs little to record (its row, its output, and its arguments only when a metric reads them); the
evaluator turns a component's calls into `score` arguments a whole column at a time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, NamedTuple

from hypermetric.runtime.scoring.metric import Calls, MetricSpec

MetricColumns = tuple[tuple[str, MetricSpec], ...]  # (result column prefix, metric spec), per component


class Recorded(NamedTuple):
    """A component's calls while a batch runs, appended to call by call (`Calls` once the batch is done)."""

    rows: list[int]
    outputs: list[Any]
    arguments: list[dict[str, Any]] | None


class BatchCapture:
    """Collects the calls components make while a worker runs one batch, and which rows made them."""

    __slots__ = ("calls", "index", "specs")

    def __init__(self) -> None:
        self.index = 0
        self.calls: dict[str, Recorded] = {}
        self.specs: dict[str, MetricColumns] = {}

    def calls_of(self, component: str, specs: MetricColumns, with_arguments: bool) -> Recorded:
        """The calls of `component` recorded so far in this batch, to which a call appends its row, its output
        and (where `with_arguments`, as a metric reads them) its arguments."""
        calls = self.calls.get(component)
        if calls is None:
            calls = self.calls[component] = Recorded([], [], [] if with_arguments else None)
            self.specs[component] = specs
        return calls

    def discard(self, index: int) -> None:
        """Forgets the calls the current row made (its call failed); they are the last ones."""
        for calls in self.calls.values():
            while calls.rows and calls.rows[-1] == index:
                calls.rows.pop()
                calls.outputs.pop()
                if calls.arguments is not None:
                    calls.arguments.pop()

    def last_outputs(self, rows: int, missing: Any = None) -> dict[str, list[Any]]:
        """Each component's output per row: the last call's, or `missing` where the row made none."""
        outputs = {}
        every_row_once = list(range(rows))
        for component, calls in self.calls.items():
            if calls.rows == every_row_once:  # the usual case: its outputs are the column
                outputs[component] = calls.outputs
                continue
            values = [missing] * rows
            for row, output in zip(calls.rows, calls.outputs):
                values[row] = output
            outputs[component] = values
        return outputs

    def finished_calls(self) -> dict[str, Calls]:
        """The calls once the batch has run, to send to an evaluator: a component called once per row, in
        order (the usual case), has its rows as a `range`, which pickles in a few bytes instead of one number
        per row and tells the evaluator at a glance that each row called it once."""
        finished = {}
        for component, calls in self.calls.items():
            every_row = range(len(calls.rows))
            rows: Sequence[int] = every_row if calls.rows == list(every_row) else calls.rows
            finished[component] = Calls(rows, calls.outputs, calls.arguments)
        return finished

    def field_names(self) -> set[str]:
        """The dataset fields the recorded calls' metrics read."""
        return {name for specs in self.specs.values() for _, spec in specs for name in spec.field_names()}


# What a row's call, or a metric, may raise and still fail only that row: `sys.exit()` in user code ends the
# row, not the run (in-process it would end the caller's program, on Ray the worker process).
ROW_ERRORS: tuple[type[BaseException], ...] = (Exception, SystemExit)


def describe_error(error: BaseException) -> str:
    """`Type: message`, the form errors take in result tables."""
    message = str(error)
    if isinstance(error, KeyError) and error.args:
        message = str(error.args[0])
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


CURRENT_BATCH: ContextVar[BatchCapture | None] = ContextVar("hypermetric_current_batch", default=None)
_ACTIVE: list[BatchCapture] = []  # the batches running in this process, for threads without the context


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


def select_fields(columns: Mapping[str, list[Any]], names: set[str]) -> dict[str, list[Any]]:
    """The dataset columns the metrics read, of those the batch has."""
    return {name: columns[name] for name in sorted(names) if name in columns}
