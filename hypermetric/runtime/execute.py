"""Running the user's function over a batch of rows, with per-row retries; this is what a worker does."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hypermetric.runtime import columns as cols
from hypermetric.runtime.context import CURRENT_ROW, EvalRequest, RowCapture, RowView, describe_error
from hypermetric.runtime.dataset import FieldRef
from hypermetric.runtime.metric import MetricSpec

if TYPE_CHECKING:
    import pyarrow as pa

    from hypermetric.runtime.sharding import RowBatch


@dataclass(frozen=True, slots=True)
class CallPlan:
    """How to call the function for a row: each argument is a dataset field or a constant."""

    positional: tuple[tuple[bool, Any], ...]  # (is a field, field name or constant)
    keyword: tuple[tuple[str, bool, Any], ...]
    inputs: tuple[tuple[str, str], ...]  # (result column, field name), for the fields the function receives

    @classmethod
    def bind(cls, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> CallPlan | None:
        """The plan for `fn(*args, **kwargs)`, or None when no argument refers to a dataset field."""
        bound = inspect.signature(fn).bind(*args, **kwargs)
        inputs = tuple((cols.INPUT_PREFIX + column, value.name) for column, value in _named_values(fn, bound.arguments)
                       if isinstance(value, FieldRef))
        if not inputs:
            return None
        return cls(tuple(_source(value) for value in bound.args),
                   tuple((key, *_source(value)) for key, value in bound.kwargs.items()), inputs)

    def fields(self) -> set[str]:
        return {field for _, field in self.inputs}

    def call(self, fn: Callable[..., Any], columns: Mapping[str, list[Any]], index: int) -> Any:
        args = [columns[value][index] if is_field else value for is_field, value in self.positional]
        kwargs = {key: columns[value][index] if is_field else value for key, is_field, value in self.keyword}
        return fn(*args, **kwargs)


def _source(value: Any) -> tuple[bool, Any]:
    return (True, value.name) if isinstance(value, FieldRef) else (False, value)


def _named_values(fn: Callable[..., Any], arguments: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Argument values with the column names they get; *args items are `name.i`, **kwargs items their key."""
    kinds = {name: p.kind for name, p in inspect.signature(fn).parameters.items()}
    named: list[tuple[str, Any]] = []
    for name, value in arguments.items():
        if kinds[name] is inspect.Parameter.VAR_POSITIONAL:
            named.extend((f"{name}.{i}", item) for i, item in enumerate(value))
        elif kinds[name] is inspect.Parameter.VAR_KEYWORD:
            named.extend(value.items())
        else:
            named.append((name, value))
    return named


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Which exceptions make a row run again, how often, and after what pause."""

    max_retries: int
    delay_seconds: float
    retry_on: tuple[type[BaseException], ...]


@dataclass(frozen=True, slots=True)
class BatchPayload:
    """A worker's results for one batch: the row table and the evaluation requests its components made."""

    batch_id: int
    rows: pa.Table
    specs: dict[str, MetricSpec]
    requests: list[EvalRequest]


@dataclass(frozen=True, slots=True)
class _RowOutcome:
    capture: RowCapture
    output: Any
    error: str | None
    attempts: int


def _run_row(fn: Callable[..., Any], plan: CallPlan, columns: Mapping[str, list[Any]], index: int,
             retry: RetryPolicy) -> _RowOutcome:
    attempts = 0
    while True:
        attempts += 1
        capture = RowCapture(RowView(columns, index), index)
        token = CURRENT_ROW.set(capture)
        try:
            return _RowOutcome(capture, plan.call(fn, columns, index), None, attempts)
        except Exception as error:
            if not isinstance(error, retry.retry_on) or attempts > retry.max_retries:
                return _RowOutcome(capture, None, describe_error(error), attempts)
        finally:
            CURRENT_ROW.reset(token)
        if retry.delay_seconds > 0:
            time.sleep(retry.delay_seconds)


def run_batch(fn: Callable[..., Any], plan: CallPlan, retry: RetryPolicy, batch: RowBatch) -> BatchPayload:
    """Runs `fn` on every row of `batch`; a row's exception is recorded in its `error`, never raised."""
    outcomes = [_run_row(fn, plan, batch.columns, i, retry) for i in range(len(batch.row_ids))]
    return BatchPayload(batch.batch_id, _row_table(batch, plan, outcomes), *_requests(outcomes))


def _row_table(batch: RowBatch, plan: CallPlan, outcomes: list[_RowOutcome]) -> pa.Table:
    import pyarrow as pa

    data: dict[str, pa.Array] = {cols.ROW_ID: pa.array(batch.row_ids, type=pa.int64())}
    for column, field in plan.inputs:
        data[column] = cols.to_array(batch.columns[field])
    data[cols.OUTPUT] = cols.to_array([outcome.output for outcome in outcomes])
    components = dict.fromkeys(name for outcome in outcomes for name in outcome.capture.outputs)
    missing = object()
    for name in components:
        values = [outcome.capture.outputs.get(name, missing) for outcome in outcomes]
        data[name + cols.OUTPUT_SUFFIX] = cols.to_array([None if v is missing else v for v in values])
    data[cols.ERROR] = pa.array([outcome.error for outcome in outcomes], type=pa.string())
    data[cols.ATTEMPTS] = pa.array([outcome.attempts for outcome in outcomes], type=pa.int64())
    return pa.table(data)


def _requests(outcomes: list[_RowOutcome]) -> tuple[dict[str, MetricSpec], list[EvalRequest]]:
    specs: dict[str, MetricSpec] = {}
    requests: list[EvalRequest] = []
    for outcome in outcomes:
        specs.update(outcome.capture.specs)
        requests.extend(outcome.capture.requests)
    return specs, requests


def failed_payload(batch: RowBatch, plan: CallPlan, error: str, attempts: int) -> BatchPayload:
    """The payload of a batch that could not run at all (its worker kept dying): every row failed."""
    capture = RowCapture(RowView(batch.columns, 0), 0)
    outcomes = [_RowOutcome(capture, None, error, attempts)] * len(batch.row_ids)
    return BatchPayload(batch.batch_id, _row_table(batch, plan, outcomes), {}, [])
