"""The `@runtime` and `@component` decorators (their options and the checks on them are in `options`);
importable without Ray."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from hypermetric.runtime.data.dataset import FieldRef
from hypermetric.runtime.options import RuntimeOptions
from hypermetric.runtime.scoring.context import CURRENT_BATCH, current_batch
from hypermetric.runtime.scoring.metric import InputRef, MetricSpec, OutputRef


class Runtime:
    """A function run once per dataset row when called with field references: `main(query=Dataset.query)`.

    Called with plain values it is the function itself. Called with field references it returns a `RunResult`.
    """

    def __init__(self, fn: Callable[..., Any], options: RuntimeOptions) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.options = options

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from hypermetric.runtime.drive.execute import CallPlan

        plan = CallPlan.bind(self.fn, args, kwargs)
        if plan is None:
            return self.fn(*args, **kwargs)
        from hypermetric.runtime.session import run

        bound = [value.dataset for value in (*args, *kwargs.values()) if isinstance(value, FieldRef)]
        return run(self.fn, plan, self.options, next((d for d in bound if d is not None), None))

    def with_options(self, **changes: Any) -> Runtime:
        """The same function with some options changed, e.g. `main.with_options(parallel=False)`."""
        return Runtime(self.fn, dataclasses.replace(self.options, **changes))


def runtime(fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Turns a function into a sharded, fault-tolerant run over the rows of a dataset (`@runtime(...)`).

    Options: `workers` (batches run at once), `max_runs` (rows to run at most), `max_retries`, `delay_seconds`
    and `exception_to_retry` (per-row retries of calls raising that type), `batch_size` (rows per task,
    automatic by default), `parallel` (False runs in this process without Ray), `dataset` (else the dataset of
    `ds.field` arguments, else the file named by HYPERMETRIC_DATASET), `output_dir` (re-running into it skips
    recorded rows when `resume`), `evaluators` (evaluator actors; by default one per four workers; 0 has each
    worker score its own batches in its own process, fastest for cheap metrics), `max_in_flight` (rows in
    flight at most), `flush_rows` and `flush_bytes` (part thresholds), `quiet` (no summary), `progress` (a
    callback taking a `Progress`) and `num_cpus` (CPUs each Ray worker holds; by default none, so `workers`
    workers run whatever the number of cores, which suits functions that wait on I/O), and `reductions`
    (what the summary gives per metric besides the mean: `["median", "p90", "ci"]` for every metric, or a dict
    by metric, see `hypermetric.runtime.result.reductions`).
    """
    settings = RuntimeOptions(**options)
    if fn is not None:
        return Runtime(fn, settings)
    return lambda function: Runtime(function, settings)


class Component:
    """A function whose calls, inside a runtime row, are captured and sent to its metrics for evaluation."""

    def __init__(self, fn: Callable[..., Any], evals: Sequence[MetricSpec], name: str | None) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name = name or fn.__name__
        if "." in self.name:
            raise ValueError(f"component name {self.name!r} must not contain '.'; pass component(name=...)")
        self.specs = _columns(self.name, evals)
        parameters = inspect.signature(fn).parameters
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        self._positional = [n for n, p in parameters.items() if p.kind in positional]
        self._defaults = {n: p.default for n, p in parameters.items() if p.default is not p.empty}
        open_keywords = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
        needed = {name for _, spec in self.specs for name in spec.input_names()}
        unknown = sorted(needed - set(parameters)) if not open_keywords else []
        if unknown:
            raise ValueError(f"component {self.name!r} has no parameter {', '.join(map(repr, unknown))}")
        self._captures_arguments = bool(needed)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        output = self.fn(*args, **kwargs)
        capture = CURRENT_BATCH.get() or current_batch()  # (the variable first: this runs once per call)
        if capture is not None:  # recorded here rather than by a method of the capture: this runs once per row
            calls = capture.calls.get(self.name) or capture.calls_of(self.name, self.specs,
                                                                     self._captures_arguments)
            calls.rows.append(capture.index)
            calls.outputs.append(output)
            if calls.arguments is not None:
                calls.arguments.append({**self._defaults, **dict(zip(self._positional, args)), **kwargs})
        return output

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        return self if instance is None else types.MethodType(self, instance)


def _columns(component: str, evals: Iterable[MetricSpec]) -> tuple[tuple[str, MetricSpec], ...]:
    """Each metric's column prefix, `component.Metric`, made unique with `_2`, `_3`... when repeated."""
    columns: list[tuple[str, MetricSpec]] = []
    seen: dict[str, int] = {}
    for spec in evals:
        if not isinstance(spec, MetricSpec):
            raise TypeError(f"evals of component {component!r} must be metric.use(...) specs, not {spec!r}")
        seen[spec.name] = seen.get(spec.name, 0) + 1
        suffix = "" if seen[spec.name] == 1 else f"_{seen[spec.name]}"
        columns.append((f"{component}.{spec.name}{suffix}", spec))
    return tuple(columns)


class ComponentDecorator:
    """`@component(evals=[...])`, with `component.input(name)` and `component.output()` to bind metrics."""

    def __call__(self, fn: Callable[..., Any] | None = None, /, *, evals: Sequence[MetricSpec] = (),
                 name: str | None = None) -> Any:
        if fn is not None:
            return Component(fn, evals, name)
        return lambda function: Component(function, evals, name)

    @staticmethod
    def input(name: str) -> InputRef:
        """The argument the component receives for parameter `name`."""
        return InputRef(name)

    @staticmethod
    def output(key: Any = None) -> OutputRef:
        """The component's return value (or `value[key]`)."""
        return OutputRef(key)


component = ComponentDecorator()
