"""`Metric`, the base class of evaluation metrics, and `MetricSpec`, a metric bound to a component's data."""

from __future__ import annotations

import inspect
import itertools
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from hypermetric.runtime.data.dataset import FieldRef

RESERVED_METRIC_NAMES = frozenset({"output"})


@dataclass(frozen=True, slots=True)
class InputRef:
    """`component.input("x")`: the argument a component received for its parameter `x`."""

    name: str


@dataclass(frozen=True, slots=True)
class OutputRef:
    """`component.output()`: the component's return value, or `value[key]` when a key is given."""

    key: Any = None


Binding = Any  # InputRef | OutputRef | FieldRef | a constant


class Metric:
    """Base class of metrics: subclasses implement `score(...)`, returning a number or a dict of numbers.

    `metric.use(name=binding, ...)` says where each argument of `score` comes from: `component.input("x")`,
    `component.output()`, a dataset field such as `Dataset.answer`, or a constant. Metrics are pickled to the
    evaluator actors; `setup()` runs once there before the first score (load models or tables in it).
    """

    def setup(self) -> None:
        """Prepares the metric in the process that scores it; runs once, before the first `score`."""

    # Each metric names its own inputs (`score(self, output, ground_truth)`); `*args` here lets a subclass
    # declare any parameters it likes while callers always pass keywords. None means "no score for this
    # row" (a ranking metric over a query with no judged documents), not a failure.
    def score(self, *args: Any, **values: Any) -> float | Mapping[str, float] | None:
        raise TypeError(f"{type(self).__name__} must define score(...)")

    @property
    def name(self) -> str:
        """The name used in column names; the class name unless a subclass says otherwise."""
        return type(self).__name__

    def use(self, *, name: str | None = None, **bindings: Binding) -> MetricSpec:
        """This metric with each `score` argument bound: component input or output, field, or constant."""
        metric_name = name or self.name
        if metric_name in RESERVED_METRIC_NAMES or "." in metric_name:
            raise ValueError(f"metric name {metric_name!r} is reserved or contains '.'; pass use(name=...)")
        signature = inspect.signature(self.score)
        try:
            signature.bind(**bindings)
        except TypeError as error:
            name = type(self).__name__
            raise TypeError(f"{name}.use(...) does not fit {name}.score: {error}") from None
        leading = [p.name for p in signature.parameters.values()
                   if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][:len(bindings)]
        if set(leading) == set(bindings):  # `score` can take them in order, which is quicker to call
            ordered = tuple((key, bindings[key]) for key in leading)
            return MetricSpec(self, metric_name, ordered, positional=True)
        return MetricSpec(self, metric_name, tuple(bindings.items()))


_OUTPUT, _OUTPUT_ITEM, _INPUT, _FIELD, _CONSTANT = range(5)


def _compile(binding: Binding) -> tuple[int, Any]:
    if isinstance(binding, OutputRef):
        return (_OUTPUT, None) if binding.key is None else (_OUTPUT_ITEM, binding.key)
    if isinstance(binding, InputRef):
        return _INPUT, binding.name
    if isinstance(binding, FieldRef):
        return _FIELD, binding.name
    return _CONSTANT, binding


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """A metric with its bindings: for each call of its component, `score` gets the values they name."""

    metric: Metric
    name: str
    bindings: tuple[tuple[str, Binding], ...]
    positional: bool = False  # the bindings are `score`'s leading parameters, in order
    keys: tuple[str, ...] = field(init=False)
    _compiled: tuple[tuple[int, Any], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", tuple(key for key, _ in self.bindings))
        object.__setattr__(self, "_compiled", tuple(_compile(value) for _, value in self.bindings))

    def input_names(self) -> list[str]:
        return [value.name for _, value in self.bindings if isinstance(value, InputRef)]

    def field_names(self) -> list[str]:
        return [value.name for _, value in self.bindings if isinstance(value, FieldRef)]

    def argument_columns(self, calls: Calls, fields: Mapping[str, list[Any]]) -> list[Iterable[Any]]:
        """The `score` arguments of every call, one column per binding (in `keys` order); raises if any call's
        value cannot be read (then `arguments_of` tells which)."""
        columns: list[Iterable[Any]] = []
        for kind, value in self._compiled:
            if kind == _OUTPUT:
                columns.append(calls.outputs)
            elif kind == _OUTPUT_ITEM:
                columns.append([output[value] for output in calls.outputs])
            elif kind == _INPUT:
                columns.append([arguments[value] for arguments in calls.arguments or ()])
            elif kind == _FIELD:
                column = _field(fields, value)
                rows = calls.rows
                if isinstance(rows, range) and rows == range(len(column)):  # every row once: the column itself
                    columns.append(column)
                else:
                    columns.append([column[row] for row in rows])
            else:
                columns.append(itertools.repeat(value, len(calls.rows)))
        return columns

    def arguments_of(self, calls: Calls, call: int, fields: Mapping[str, list[Any]]) -> tuple[Any, ...]:
        """The `score` arguments of one call."""
        output = calls.outputs[call]
        values: list[Any] = []
        for kind, value in self._compiled:
            if kind == _OUTPUT:
                values.append(output)
            elif kind == _OUTPUT_ITEM:
                values.append(output[value])
            elif kind == _INPUT:
                values.append((calls.arguments or [])[call][value])
            elif kind == _FIELD:
                values.append(_field(fields, value)[calls.rows[call]])
            else:
                values.append(value)
        return tuple(values)


class Calls(NamedTuple):
    """A component's calls during one batch, in order: the row of each, what it returned, and (when a metric
    reads component inputs) the arguments it received by parameter name."""

    rows: Sequence[int]  # a list while the batch runs; a `range` after when every row called once, in order
    outputs: list[Any]
    arguments: list[dict[str, Any]] | None


def _field(fields: Mapping[str, list[Any]], name: str) -> list[Any]:
    try:
        return fields[name]
    except KeyError:
        raise KeyError(f"the dataset has no field {name!r}") from None


def _number(value: Any) -> float:
    if isinstance(value, bool) or isinstance(value, numbers.Real):
        return float(value)
    item = getattr(value, "item", None)  # numpy scalars and 0-d arrays
    if callable(item):
        return _number(item())
    raise TypeError(f"score returned {type(value).__name__}, expected a number or a dict of numbers")


def normalize_score(value: Any) -> dict[str, float | None] | float | None:
    """A score as a float, or as a dict of floats; None (no score) stays None and is left out of means."""
    kind = type(value)
    if kind is float or kind is int:
        return float(value)
    if isinstance(value, Mapping):
        return {str(key): (None if item is None else _number(item)) for key, item in value.items()}
    return None if value is None else _number(value)
