"""`Metric`, the base class of evaluation metrics, and `MetricSpec`, a metric bound to a component's data."""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypermetric.runtime.dataset import FieldRef

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

    def score(self, **values: Any) -> float | Mapping[str, float]:
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
        try:
            inspect.signature(self.score).bind(**bindings)
        except TypeError as error:
            name = type(self).__name__
            raise TypeError(f"{name}.use(...) does not fit {name}.score: {error}") from None
        return MetricSpec(self, metric_name, tuple(bindings.items()))


# A getter reads one bound value for a call from (arguments, output, dataset columns, row index).
Getter = Callable[[Mapping[str, Any], Any, Mapping[str, list[Any]], int], Any]


def _getter(binding: Binding) -> Getter:
    """A small function that reads one bound value for a call: it runs once per call, so it is kept lean."""
    if isinstance(binding, OutputRef):
        key = binding.key
        if key is None:
            return lambda arguments, output, columns, row: output
        return lambda arguments, output, columns, row: output[key]
    if isinstance(binding, InputRef):
        name = binding.name
        return lambda arguments, output, columns, row: arguments[name]
    if isinstance(binding, FieldRef):
        field_name = binding.name
        return lambda arguments, output, columns, row: columns[field_name][row]
    return lambda arguments, output, columns, row: binding


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """A metric with its bindings; a component turns it into one evaluation request per call."""

    metric: Metric
    name: str
    bindings: tuple[tuple[str, Binding], ...]
    keys: tuple[str, ...] = field(init=False)
    _getters: tuple[Getter, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", tuple(key for key, _ in self.bindings))
        object.__setattr__(self, "_getters", tuple(_getter(value) for _, value in self.bindings))

    def __reduce__(self) -> tuple[Any, tuple[Metric, str, tuple[tuple[str, Binding], ...]]]:
        return (MetricSpec, (self.metric, self.name, self.bindings))  # the getters are rebuilt on arrival

    def input_names(self) -> list[str]:
        return [value.name for _, value in self.bindings if isinstance(value, InputRef)]

    def resolve(self, arguments: Mapping[str, Any], output: Any, columns: Mapping[str, list[Any]],
                index: int) -> tuple[Any, ...]:
        """The `score` arguments (in `keys` order) for a call, from its arguments, output and row `index`."""
        getters = self._getters
        try:
            if len(getters) == 2:  # the usual shapes are unrolled: this runs once per call
                first, second = getters
                return first(arguments, output, columns, index), second(arguments, output, columns, index)
            if len(getters) == 1:
                return (getters[0](arguments, output, columns, index),)
            return tuple([get(arguments, output, columns, index) for get in getters])
        except KeyError as error:
            missing = [value.name for _, value in self.bindings
                       if isinstance(value, FieldRef) and value.name not in columns]
            if missing:
                fields = ", ".join(columns)
                raise KeyError(f"the dataset has no field {missing[0]!r} (fields: {fields})") from None
            raise error


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
