"""Running the user's function over a batch of rows, with per-row retries; this is what a worker does."""

from __future__ import annotations

import inspect
import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hypermetric.runtime.data.dataset import FieldRef
from hypermetric.runtime.options import RetryPolicy
from hypermetric.runtime.result import columns as cols
from hypermetric.runtime.scoring.context import (
    ROW_ERRORS,
    BatchCapture,
    MetricColumns,
    capturing,
    describe_error,
    select_fields,
)
from hypermetric.runtime.scoring.metric import Calls
from hypermetric.runtime.scoring.payload import BatchPayload

if TYPE_CHECKING:
    from hypermetric.runtime.data.sharding import RowBatch
    from hypermetric.runtime.drive.notices import FailureNotices


@dataclass(frozen=True, slots=True)
class CallPlan:
    """How to call the function for a row: each argument is a dataset field or a constant."""

    positional: tuple[tuple[bool, Any], ...]  # (is a field, field name or constant)
    keyword: tuple[tuple[str, bool, Any], ...]
    inputs: tuple[tuple[str, str], ...]  # (result column, field name), for the fields the function receives

    @classmethod
    def bind(cls, fn: Callable[..., Any], args: tuple[Any, ...],
             kwargs: Mapping[str, Any]) -> CallPlan | None:
        """The plan for `fn(*args, **kwargs)`, or None when no argument refers to a dataset field."""
        bound = inspect.signature(fn).bind(*args, **kwargs)
        inputs = tuple((cols.INPUT_PREFIX + column, value.name)
                       for column, value in _named_values(fn, bound.arguments) if isinstance(value, FieldRef))
        if not inputs:
            return None
        return cls(tuple(_source(value) for value in bound.args),
                   tuple((key, *_source(value)) for key, value in bound.kwargs.items()), inputs)

    def fields(self) -> set[str]:
        return {field for _, field in self.inputs}

    def arguments(self, columns: Mapping[str, list[Any]],
                  rows: int) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        """Each row's positional and keyword arguments, built a batch at a time (with C-level zips, since
        this runs once per row)."""
        sources = [columns[value] if is_field else itertools.repeat(value, rows)
                   for is_field, value in self.positional]
        positional = list(zip(*sources)) if sources else [()] * rows
        fields = [(key, value) for key, is_field, value in self.keyword if is_field]
        constants = {key: value for key, is_field, value in self.keyword if not is_field}
        if not fields:
            return [(args, constants) for args in positional]  # one dict for all: calls never change it
        keys = [key for key, _ in fields]
        keywords = [dict(zip(keys, values)) for values in zip(*(columns[name] for _, name in fields))]
        for entry in keywords if constants else ():
            entry.update(constants)
        return list(zip(positional, keywords))


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


def _payload(batch: RowBatch, columns: dict[str, list[Any]], calls: dict[str, Calls],
             specs: dict[str, MetricColumns], fields: dict[str, list[Any]]) -> BatchPayload:
    failed = len(columns[cols.ERROR]) - columns[cols.ERROR].count(None)
    return BatchPayload(batch.batch_id, failed, batch.row_ids, columns, calls, specs, fields)


def run_batch(fn: Callable[..., Any], plan: CallPlan, retry: RetryPolicy, batch: RowBatch,
              notices: FailureNotices | None = None) -> BatchPayload:
    """Runs `fn` on every row of `batch`; a row's exception (`sys.exit()` included) is recorded in its
    `error`, never raised, and `notices` hears of its first attempt's failure.

    A row whose call failed keeps nothing its components recorded: metrics come from successful calls only.
    """
    rows = len(batch.row_ids)
    outputs: list[Any] = [None] * rows
    errors: list[str | None] = [None] * rows
    attempts = [1] * rows
    with capturing(BatchCapture()) as capture:
        for index, (args, kwargs) in enumerate(plan.arguments(batch.columns, rows)):
            capture.index = index
            try:
                outputs[index] = fn(*args, **kwargs)
            except ROW_ERRORS as error:
                capture.discard(index)
                if notices is not None:
                    notices.failed(batch.row_ids[index], error, retry)
                outcome = _retry(fn, args, kwargs, capture, retry, error)
                outputs[index], errors[index], attempts[index] = outcome
    columns = _result_columns(batch, plan, outputs, errors, attempts, capture.last_outputs(rows))
    fields = select_fields(batch.columns, capture.field_names())
    return _payload(batch, columns, capture.finished_calls(), capture.specs, fields)


def _retry(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], capture: BatchCapture,
           retry: RetryPolicy, error: BaseException) -> tuple[Any, str | None, int]:
    """Calls again after a failure while the policy allows: (output, error, attempts)."""
    attempts = 1
    while isinstance(error, retry.retry_on) and attempts <= retry.max_retries:
        if retry.delay_seconds > 0:
            time.sleep(retry.delay_seconds)
        attempts += 1
        try:
            return fn(*args, **kwargs), None, attempts
        except ROW_ERRORS as again:
            capture.discard(capture.index)
            error = again
    return None, describe_error(error), attempts


def _result_columns(batch: RowBatch, plan: CallPlan, outputs: list[Any], errors: list[str | None],
                    attempts: list[int], components: dict[str, list[Any]]) -> dict[str, list[Any]]:
    data = {column: batch.columns[field] for column, field in plan.inputs}
    data[cols.OUTPUT] = outputs
    for name, values in components.items():
        data[name + cols.OUTPUT_SUFFIX] = values
    data[cols.ERROR] = errors
    data[cols.ATTEMPTS] = attempts
    return data


def failed_payload(batch: RowBatch, plan: CallPlan, error: str, attempts: int) -> BatchPayload:
    """The payload of a batch that could not run at all (its worker kept dying): every row failed."""
    rows = len(batch.row_ids)
    columns = _result_columns(batch, plan, [None] * rows, [error] * rows, [attempts] * rows, {})
    return _payload(batch, columns, {}, {}, {})
