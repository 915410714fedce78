"""What a worker sends an evaluator per batch, counted in bytes and objects: a component called once by every
row, in order (the usual case), has its rows sent as a `range` (a few bytes, not one number per row), and the
evaluator then reads a metric's dataset field as the column itself, without a copy per call."""

from __future__ import annotations

import pickle

from hypermetric.runtime import Dataset, Metric, component
from hypermetric.runtime.data.sharding import RowBatch
from hypermetric.runtime.drive.execute import CallPlan, run_batch
from hypermetric.runtime.options import RetryPolicy
from hypermetric.runtime.scoring.evaluate import Evaluator
from hypermetric.runtime.scoring.metric import Calls

ROWS = 1000


class Same(Metric):
    def score(self, output, expected):
        return float(output == expected)


@component(evals=[Same().use(output=component.output(), expected=Dataset.answer)])
def shout(query):
    if query == "fail":
        raise ValueError("no")
    return query.upper()


def _payload(queries):
    plan = CallPlan.bind(shout, (), {"query": Dataset.query})
    batch = RowBatch(0, range(len(queries)), {"query": queries, "answer": [q.upper() for q in queries]})
    return run_batch(shout, plan, RetryPolicy(0, 0.0, (Exception,)), batch)


def test_rows_that_each_called_once_are_sent_as_a_range():
    payload = _payload([f"q{i}" for i in range(ROWS)])
    calls = payload.calls["shout"]
    assert calls.rows == range(ROWS)
    as_list = calls._replace(rows=list(calls.rows))
    # One number per row would cost at least two bytes a row; the range costs a few bytes in all.
    assert len(pickle.dumps(as_list, 5)) - len(pickle.dumps(calls, 5)) > 2 * ROWS
    assert len(pickle.dumps(range(ROWS), 5)) < 64


def test_a_field_read_by_a_metric_is_the_column_itself_when_every_row_called_once():
    payload = _payload([f"q{i}" for i in range(ROWS)])
    [(_, spec)] = payload.specs["shout"]
    [outputs, expected] = spec.argument_columns(payload.calls["shout"], payload.fields)
    assert expected is payload.fields["answer"] and outputs is payload.calls["shout"].outputs


def test_a_row_that_failed_leaves_its_rows_a_list_and_scores_stay_in_place(tmp_path):
    from hypermetric.runtime.parts.sink import PartSink

    payload = _payload(["a", "fail", "c"])
    assert payload.calls["shout"].rows == [0, 2]
    table, _ = Evaluator(PartSink(tmp_path, 1, "e000g000", 100, 10**9)).score(payload)
    assert table.column("shout.Same").to_pylist() == [1.0, None, 1.0]
    assert table.column("output").to_pylist() == ["A", None, "C"]


def test_calls_given_as_lists_score_the_same_as_ranges(tmp_path):
    from hypermetric.runtime.parts.sink import PartSink

    payload = _payload([f"q{i}" for i in range(5)])
    listed = payload.calls["shout"]._replace(rows=list(range(5)))
    as_lists = type(payload)(payload.batch_id, payload.failed, payload.row_ids, payload.columns,
                             {"shout": Calls(*listed)}, payload.specs, payload.fields)
    evaluator = Evaluator(PartSink(tmp_path, 1, "e000g000", 100, 10**9))
    assert evaluator.score(payload)[0].equals(evaluator.score(as_lists)[0])


def test_an_evaluator_converts_only_the_columns_that_vary_value_by_value(monkeypatch):
    # The row ids (a range) and the attempts (all 1) are made whole; only the columns holding the function's
    # values are converted from one Python value per row, and the output shared with the component once.
    import pyarrow as pa

    payload = _payload([f"q{i}" for i in range(ROWS)])
    converted: list[int] = []
    real_array = pa.array

    def counting_array(values, *args, **kwargs):
        if isinstance(values, (list, range)):
            converted.append(len(values))
        return real_array(values, *args, **kwargs)

    monkeypatch.setattr(pa, "array", counting_array)
    table = payload.table()
    assert converted == [ROWS, ROWS]  # `input.query`, and `output` (the same objects as `shout.output`)
    assert table.column("row_id").to_pylist() == list(range(ROWS))
    assert table.column("attempts").to_pylist() == [1] * ROWS
    assert table.schema.field("row_id").type == pa.int64() == table.schema.field("attempts").type
