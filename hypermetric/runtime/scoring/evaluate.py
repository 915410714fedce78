"""The evaluator: scores a batch's evaluation requests and buffers the completed rows (an actor's state)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from hypermetric.runtime.parts.sink import PartSink
from hypermetric.runtime.parts.tally import Tally
from hypermetric.runtime.result import columns as cols
from hypermetric.runtime.scoring.context import ROW_ERRORS, describe_error
from hypermetric.runtime.scoring.metric import Calls, Metric, MetricSpec, normalize_score

if TYPE_CHECKING:
    import pyarrow as pa

    from hypermetric.runtime.scoring.payload import BatchPayload


class _Scores:
    """Metric values of one batch by column; a metric scored twice for one row keeps the mean."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.values: dict[str, list[float | None]] = {}
        self.repeats: dict[tuple[str, int], int] = {}
        self.errors: list[dict[str, str] | None] = [None] * rows

    def column(self, name: str) -> list[float | None]:
        values = self.values.get(name)
        if values is None:
            values = self.values[name] = [None] * self.rows
        return values

    def put(self, name: str, row: int, value: float | None) -> None:
        values = self.column(name)
        previous = values[row]
        if value is None or previous is None:
            values[row] = previous if value is None else value
            return
        count = self.repeats.get((name, row), 1)
        values[row] = (previous * count + value) / (count + 1)
        self.repeats[(name, row)] = count + 1

    def fail(self, name: str, row: int, error: str) -> None:
        errors = self.errors[row]
        if errors is None:
            errors = self.errors[row] = {}
        errors.setdefault(name, error)

    def tally(self, failed: int) -> Tally:
        """The batch's tally, from the values at hand (what `tally_table` would read from its table)."""
        tally = Tally(self.rows, failed)
        for name, values in self.values.items():
            if cols.is_metric_column(name):
                tally.add_metric(name, values)
        tally.add_errors(self.errors)
        return tally

    def arrays(self) -> dict[str, pa.Array]:
        import pyarrow as pa

        data = {name: pa.array(self.values[name], type=pa.float64()) for name in sorted(self.values)}
        if any(self.errors):
            errors = [None if e is None else json.dumps(e, sort_keys=True) for e in self.errors]
            data[cols.EVAL_ERRORS] = pa.array(errors, type=pa.string())
        else:
            data[cols.EVAL_ERRORS] = pa.nulls(self.rows, type=pa.string())
        return data


class Evaluator:
    """Scores evaluation requests with each metric (set up once) and hands complete rows to its `PartSink`."""

    def __init__(self, sink: PartSink) -> None:
        self._sink = sink
        self._metrics: dict[str, Metric | str] = {}

    def _metric(self, column: str, spec: MetricSpec) -> Metric | str:
        """The metric for a column, set up on first use; a failed setup is kept as that metric's error."""
        if column not in self._metrics:
            try:
                spec.metric.setup()
                self._metrics[column] = spec.metric
            except ROW_ERRORS as error:
                self._metrics[column] = f"setup failed: {describe_error(error)}"
        return self._metrics[column]

    def score(self, payload: BatchPayload) -> tuple[pa.Table, Tally]:
        """The batch's row table with one float column per metric value and an `eval_errors` column, and its
        tally."""
        scores = _Scores(len(payload))
        for component, specs in payload.specs.items():
            calls = payload.calls[component]
            for column, spec in specs:
                metric = self._metric(column, spec)
                if isinstance(metric, str):
                    for row in calls.rows:
                        scores.fail(column, row, metric)
                else:
                    _score_all(metric, spec, calls, payload.fields, column, scores)
        table = payload.table()
        for name, array in scores.arrays().items():
            table = table.append_column(name, array)
        return table, scores.tally(payload.failed)

    def ingest(self, payload: BatchPayload) -> list[int]:
        """Scores and buffers one batch; returns the batch ids a flush made durable (often none)."""
        table, tally = self.score(payload)
        return self._sink.add(payload.batch_id, table, tally, payload.row_ids)

    def ingest_all(self, payloads: Iterable[BatchPayload]) -> list[int]:
        """Scores and buffers batches in turn; returns the batch ids flushes made durable meanwhile."""
        return [batch_id for payload in payloads for batch_id in self.ingest(payload)]

    def close(self) -> list[int]:
        """Flushes what is buffered; returns the batch ids that became durable."""
        return self._sink.flush()


def _arguments(spec: MetricSpec, calls: Calls, fields: dict[str, list[Any]], column: str,
               scores: _Scores) -> Iterator[tuple[Any, ...] | None]:
    """Each call's `score` arguments, read a column at a time; where that fails, call by call, recording
    the calls whose arguments cannot be read (None for those)."""
    try:
        argument_columns = spec.argument_columns(calls, fields)
    except ROW_ERRORS:
        for call, row in enumerate(calls.rows):
            try:
                yield spec.arguments_of(calls, call, fields)
            except ROW_ERRORS as error:
                scores.fail(column, row, describe_error(error))
                yield None
        return
    yield from zip(*argument_columns) if argument_columns else itertools.repeat((), len(calls.rows))


def _score_all(metric: Metric, spec: MetricSpec, calls: Calls, fields: dict[str, list[Any]], column: str,
               scores: _Scores) -> None:
    """Scores every call of one metric. The common case (every call returns a plain number, each row calls
    once) is scored in one pass and stored as a whole column; anything else goes call by call."""
    if _score_fast(metric, spec, calls, fields, column, scores):
        return
    score, keys, positional = metric.score, spec.keys, spec.positional
    for row, args in zip(calls.rows, _arguments(spec, calls, fields, column, scores)):
        if args is None:
            continue
        try:
            value: Any = normalize_score(score(*args) if positional else score(**dict(zip(keys, args))))
        except ROW_ERRORS as error:
            scores.fail(column, row, describe_error(error))
            continue
        if isinstance(value, dict):
            for key, item in value.items():
                scores.put(f"{column}.{key}", row, item)
        else:
            scores.put(column, row, value)


def _score_fast(metric: Metric, spec: MetricSpec, calls: Calls, fields: dict[str, list[Any]], column: str,
                scores: _Scores) -> bool:
    """Scores all calls at once when each row made one call and every score is an int or a float; False
    (having recorded nothing) otherwise, for the call-by-call path."""
    rows = calls.rows
    if column in scores.values or len(rows) != scores.rows or not _every_row_once(rows):
        return False
    try:
        argument_columns = spec.argument_columns(calls, fields)
        score, keys = metric.score, spec.keys
        values: list[Any]
        if spec.positional:  # `map` over the columns: no tuple built and unpacked per call
            values = list(map(score, *argument_columns)) if argument_columns else [score() for _ in rows]
        else:
            values = [score(**dict(zip(keys, args))) for args in zip(*argument_columns)]
    except ROW_ERRORS:  # the call-by-call path records which calls failed, and why
        return False
    types = set(map(type, values))
    if not types <= _NUMBERS:
        return False
    scores.values[column] = values if types == {float} else [float(value) for value in values]
    return True


_NUMBERS = frozenset({float, int})


def _every_row_once(rows: Sequence[int]) -> bool:
    """Whether the calls were made by rows 0, 1, 2... in order (a worker sends those rows as a `range`)."""
    every_row = range(len(rows))
    return rows == every_row if isinstance(rows, range) else rows == list(every_row)
