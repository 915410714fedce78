"""The row being run: what components called during it produced, and the evaluation requests they made."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from hypermetric.runtime.metric import MetricSpec


class RowView(Mapping[str, Any]):
    """One row of a column batch, read-only, without copying it out."""

    __slots__ = ("_columns", "_index")

    def __init__(self, columns: Mapping[str, list[Any]], index: int) -> None:
        self._columns = columns
        self._index = index

    def __getitem__(self, name: str) -> Any:
        try:
            return self._columns[name][self._index]
        except KeyError:
            raise KeyError(f"the dataset has no field {name!r} (fields: {', '.join(self._columns)})") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


class EvalRequest(NamedTuple):
    """One metric to score for one component call: its `score` arguments, or why they could not be resolved."""

    row: int
    column: str
    arguments: dict[str, Any] | None
    error: str | None


@dataclass(slots=True)
class RowCapture:
    """What the components called during one attempt at a row produced."""

    row: RowView
    index: int
    outputs: dict[str, Any] = field(default_factory=dict)
    requests: list[EvalRequest] = field(default_factory=list)
    specs: dict[str, MetricSpec] = field(default_factory=dict)

    def record(self, component: str, arguments: Mapping[str, Any], output: Any,
               specs: tuple[tuple[str, MetricSpec], ...]) -> None:
        """Keeps a component's output (the last call wins) and queues one request per metric of it."""
        self.outputs[component] = output
        for column, spec in specs:
            self.specs.setdefault(column, spec)
            try:
                request = EvalRequest(self.index, column, spec.resolve(arguments, output, self.row), None)
            except Exception as error:  # a binding that does not resolve is that metric's error, not the row's
                request = EvalRequest(self.index, column, None, describe_error(error))
            self.requests.append(request)


def describe_error(error: BaseException) -> str:
    """`Type: message`, the form errors take in result tables."""
    message = str(error)
    if isinstance(error, KeyError) and error.args:
        message = str(error.args[0])
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


CURRENT_ROW: ContextVar[RowCapture | None] = ContextVar("hypermetric_current_row", default=None)
