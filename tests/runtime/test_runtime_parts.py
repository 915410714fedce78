"""The pieces of a run: columns and schemas, sharding, parts on disk, reconciliation, evaluators, driver."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import runtime_helpers as h

from hypermetric.runtime import Dataset, Metric, component
from hypermetric.runtime.data.dataset import FieldRef
from hypermetric.runtime.data.sharding import RowBatch, RowSet, auto_batch_size, iter_batches
from hypermetric.runtime.drive.driver import Driver
from hypermetric.runtime.drive.execute import CallPlan, run_batch
from hypermetric.runtime.drive.pool import ActorLost, EvaluatorConfig, LocalPool, PayloadLost
from hypermetric.runtime.options import RetryPolicy
from hypermetric.runtime.parts import reconcile
from hypermetric.runtime.parts.sink import PartSink, committed_batches, completed_rows, list_parts, next_run
from hypermetric.runtime.parts.tally import tally_table
from hypermetric.runtime.result.columns import column_order, concat, to_array, unify_types
from hypermetric.runtime.result.summary import MetricSummary
from hypermetric.runtime.scoring.evaluate import Evaluator


@pytest.mark.parametrize(("types", "expected"), [
    ([pa.int64(), pa.int64()], pa.int64()),
    ([pa.null(), pa.string()], pa.string()),
    ([pa.int64(), pa.float64()], pa.float64()),
    ([pa.int64(), pa.string()], pa.string()),
    ([pa.bool_(), pa.int64()], pa.string()),
    ([pa.null(), pa.null()], pa.null()),
])
def test_unify_types(types, expected):
    assert unify_types(types) == expected


def test_to_array_keeps_scalars_and_turns_the_rest_into_text():
    assert to_array([1, 2, None]).type == pa.int64()
    assert to_array([1, 2.5]).to_pylist() == [1.0, 2.5]
    assert to_array([{"b": 1, "a": [1]}]).to_pylist() == ['{"b": 1, "a": [1]}']
    assert to_array([1, "x"]).to_pylist() == ["1", "x"]
    assert to_array([2**70]).to_pylist() == [str(2**70)]


def test_column_order_is_canonical():
    names = ["attempts", "b.output", "a.Z", "error", "input.y", "output", "a.output", "row_id", "input.x",
             "eval_errors", "a.B.k"]
    assert column_order(names) == ["row_id", "input.y", "input.x", "output", "a.output", "a.B.k", "a.Z",
                                   "b.output", "error", "eval_errors", "attempts"]


def test_concat_unifies_parts_with_different_columns_and_types():
    one = pa.table({"row_id": [0], "output": [1], "a.M": [0.5]})
    two = pa.table({"row_id": [1], "output": ["x"], "error": ["E: bad"]})
    table = concat([one, two])
    assert table.column_names == ["row_id", "output", "a.M", "error"]
    assert table.to_pylist() == [{"row_id": 0, "output": "1", "a.M": 0.5, "error": None},
                                 {"row_id": 1, "output": "x", "a.M": None, "error": "E: bad"}]


def test_row_set_is_a_bitmap():
    rows = RowSet([0, 9, 9, 1000])
    assert len(rows) == 3 and 9 in rows and 1000 in rows and 8 not in rows and 10**6 not in rows
    assert -1 not in rows and "9" not in rows


def test_batches_skip_done_rows_and_stop_at_max_runs():
    dataset = Dataset.from_records([{"x": i} for i in range(10)])
    batches = list(iter_batches(dataset, 4, RowSet([1, 2, 5]), max_runs=5))
    assert [list(b.row_ids) for b in batches] == [[0, 3], [4, 6, 7]]
    assert [b.columns["x"] for b in batches] == [[0, 3], [4, 6, 7]]
    assert [b.batch_id for b in batches] == [0, 1]
    assert [list(b.row_ids) for b in iter_batches(dataset, 4, RowSet(), math.inf)] == [
        [0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_auto_batch_size():
    assert auto_batch_size(3, 10) == 1 and auto_batch_size(100_000, 2) == 1024
    assert auto_batch_size(1_000, 2) == 63 and auto_batch_size(None, 2) == 256


def _table(ids, error=None, value=None):
    return pa.table({"row_id": pa.array(ids, pa.int64()), "output": [value] * len(ids),
                     "error": pa.array([error] * len(ids), pa.string()), "attempts": [1] * len(ids)})


def test_part_sink_flushes_atomically_and_reports_committed_batches(tmp_path):
    sink = PartSink(tmp_path, 3, "e000g000", flush_rows=4, flush_bytes=10**9)
    assert sink.add(0, _table([0, 1])) == [] and sink.buffered_rows == 2
    assert sink.add(1, _table([2, 3])) == [0, 1] and sink.buffered_rows == 0
    assert sink.add(2, _table([4])) == [] and sink.flush() == [2] and sink.flush() == []
    assert [p.name for p in list_parts(tmp_path)] == ["part-00003-e000g000-000000.parquet",
                                                       "part-00003-e000g000-000001.parquet"]
    assert not list((tmp_path / "parts").glob(".*"))  # no temporary left behind
    assert next_run(tmp_path) == 4 and next_run(tmp_path / "fresh") == 1


def test_completed_rows_are_those_recorded_without_error(tmp_path):
    sink = PartSink(tmp_path, 1, "e000g000", flush_rows=100, flush_bytes=10**9)
    sink.add(0, _table([0, 1]))
    sink.add(1, _table([2], error="E: x"))
    sink.flush()
    done = completed_rows(tmp_path)
    assert 0 in done and 1 in done and 2 not in done and len(done) == 2


def test_reconcile_keeps_the_last_copy_of_each_row_across_windows(tmp_path, monkeypatch):
    monkeypatch.setattr(reconcile, "WINDOW_ROWS", 3)
    first = PartSink(tmp_path, 1, "e000g000", flush_rows=100, flush_bytes=10**9)
    first.add(0, _table([0, 1, 2, 3, 4, 5, 6], value=1))
    first.add(1, _table([7], error="E: no", value=1))
    first.flush()
    second = PartSink(tmp_path, 2, "e000g000", flush_rows=100, flush_bytes=10**9)
    second.add(0, _table([7, 3], value=2))
    second.flush()
    final = reconcile.reconcile(tmp_path)
    table = pq.read_table(final.path)
    assert table.column("row_id").to_pylist() == list(range(8))
    assert table.column("output").to_pylist() == [1, 1, 1, 2, 1, 1, 1, 2]
    assert (final.rows, final.failed) == (8, 0)
    assert pq.ParquetFile(final.path).metadata.num_row_groups == 3  # written window by window


def _scored(ids, scores, eval_errors, errors):
    table = _table(ids)
    return table.set_column(2, "error", pa.array(errors, pa.string())).append_column(
        "c.M", pa.array(scores, pa.float64())).append_column("eval_errors", pa.array(eval_errors, pa.string()))


def _write_scored_parts(directory):
    sink = PartSink(directory, 1, "e000g000", flush_rows=3, flush_bytes=10**9)
    sink.add(0, _scored([0, 1, 2], [1.0, None, 0.5], [None, '{"c.M": "E: x"}', None], [None, None, "E: y"]))
    sink.add(1, _scored([3, 4], [0.25, 0.0], [None, None], [None, None]))
    sink.flush()
    other = PartSink(directory, 1, "e001g000", flush_rows=3, flush_bytes=10**9)
    other.add(2, _scored([5, 6], [1.0, 1.0], ['{"c.M": "E: z", "c.N": "E: w"}', None], [None, None]))
    other.flush()


def test_reconcile_copies_disjoint_ordered_parts_and_adds_up_their_tallies(tmp_path, monkeypatch):
    _write_scored_parts(tmp_path / "fast")
    _write_scored_parts(tmp_path / "merged")
    fast = reconcile.reconcile(tmp_path / "fast")
    monkeypatch.setattr(reconcile, "_spans_in_order", lambda parts: None)  # the general path, to compare
    merged = reconcile.reconcile(tmp_path / "merged")
    assert pq.read_table(fast.path).equals(pq.read_table(merged.path))
    assert pq.read_table(fast.path).column("row_id").to_pylist() == list(range(7))
    assert (fast.rows, fast.failed, fast.metrics) == (merged.rows, merged.failed, merged.metrics) == (
        7, 1, (MetricSummary("c.M", 3.75 / 6, 6, 2), MetricSummary("c.N", None, 0, 1)))


def _no_windows(parts, schema):
    raise AssertionError("merged window by window")


def test_batches_recorded_out_of_order_are_laid_in_row_id_order_and_rows_recorded_twice_merged(
        tmp_path, monkeypatch):
    sink = PartSink(tmp_path, 1, "e000g000", flush_rows=100, flush_bytes=10**9)
    sink.add(0, _table([5, 6], value=1))
    sink.add(1, _table([0, 1], value=1))
    sink.flush()
    other = PartSink(tmp_path, 1, "e001g000", flush_rows=100, flush_bytes=10**9)
    other.add(2, _table([2, 3, 4], error="E: x", value=1))
    other.flush()
    with monkeypatch.context() as patch:
        patch.setattr(reconcile, "_windows", _no_windows)
        final = reconcile.reconcile(tmp_path)
    assert pq.read_table(final.path).column("row_id").to_pylist() == list(range(7))
    assert (final.rows, final.failed) == (7, 3)
    again = PartSink(tmp_path, 2, "e000g000", flush_rows=100, flush_bytes=10**9)
    again.add(0, _table([3], value=2))
    again.flush()
    final = reconcile.reconcile(tmp_path)
    table = pq.read_table(final.path)
    assert table.column("row_id").to_pylist() == list(range(7)) and (final.rows, final.failed) == (7, 2)
    assert table.column("output").to_pylist() == [1, 1, 1, 2, 1, 1, 1]


def test_parts_too_interleaved_to_hold_at_once_are_merged_window_by_window(tmp_path, monkeypatch):
    for writer, ids in (("e000g000", [[0, 1], [4, 5]]), ("e001g000", [[2, 3], [6]])):
        sink = PartSink(tmp_path, 1, writer, flush_rows=100, flush_bytes=10**9)
        for batch_id, batch in enumerate(ids):
            sink.add(batch_id, _table(batch, value=len(batch)))
        sink.flush()
    laid = pq.read_table(reconcile.reconcile(tmp_path).path)
    monkeypatch.setattr(reconcile, "MAX_OPEN_ROWS", 5)  # both parts (7 rows) would be held at once
    monkeypatch.setattr(reconcile, "WINDOW_ROWS", 3)
    merged = pq.read_table(reconcile.reconcile(tmp_path).path)
    assert laid.equals(merged) and merged.column("row_id").to_pylist() == list(range(7))


def test_evaluator_sets_up_each_metric_once_and_records_its_failures(tmp_path):
    class Counted(Metric):
        setups = 0

        def setup(self) -> None:
            type(self).setups += 1

        def score(self, value: int) -> float | None:
            return None if value == 2 else value

    class Broken(Metric):
        def setup(self) -> None:
            raise OSError("no model")

        def score(self, value: int) -> float:
            return 1.0

    class Wordy(Metric):
        def score(self, value: int) -> str:
            return "high"

    @component(evals=[Counted().use(value=component.output()), Broken().use(value=component.output()),
                      Wordy().use(value=component.output())])
    def ident(x: int) -> int:
        return x

    plan = CallPlan.bind(ident, (), {"x": FieldRef("x")})
    evaluator = Evaluator(PartSink(tmp_path, 1, "e000g000", flush_rows=100, flush_bytes=10**9))
    for batch_id, xs in enumerate(([1, 2], [3])):
        batch = RowBatch(batch_id, range(len(xs)), {"x": xs})
        evaluator.ingest(run_batch(ident, plan, RetryPolicy(0, 0.0, (Exception,)), batch))
    assert evaluator.close() == [0, 1] and Counted.setups == 1
    table = pq.read_table(list_parts(tmp_path)[0])
    assert table.column("ident.Counted").to_pylist() == [1.0, None, 3.0]
    errors = json.loads(table.column("eval_errors")[0].as_py())
    assert errors == {"ident.Broken": "setup failed: OSError: no model",
                      "ident.Wordy": "TypeError: score returned str, expected a number or a dict of numbers"}


def test_the_evaluators_tally_is_what_its_table_says(tmp_path):
    class Split(Metric):
        def score(self, value: int) -> dict[str, float] | None:
            if value == 3:
                raise ValueError("three")
            return None if value == 2 else {"low": value / 2, "output": 1.0}

    @component(evals=[Split().use(value=component.output()), h.Parity().use(value=component.output())])
    def ident(x: int) -> int:
        if x == 4:
            raise OSError("four")
        return x

    plan = CallPlan.bind(ident, (), {"x": FieldRef("x")})
    evaluator = Evaluator(PartSink(tmp_path, 1, "e000g000", flush_rows=100, flush_bytes=10**9))
    payload = run_batch(ident, plan, RetryPolicy(0, 0.0, (Exception,)), RowBatch(0, range(6), {"x": list(range(6))}))
    table, tally = evaluator.score(payload)
    assert tally == tally_table(table) and (tally.rows, tally.failed) == (6, 1)
    assert tally.counts == {"ident.Parity": 5, "ident.Split": 0, "ident.Split.low": 3}  # not .output
    assert tally.errors == {"ident.Split": 1}


@dataclass(frozen=True)
class _Lost:
    error: Exception


class _LossyPool(LocalPool):
    """A LocalPool whose handles may stand for a lost actor or payload (`_Lost`): their result raises."""

    def result(self, handle):
        if isinstance(handle, _Lost):
            raise handle.error
        return super().result(handle)


class _FaultyPool(_LossyPool):
    """A LocalPool whose workers die on chosen batches and whose evaluator dies (losing its buffer) once."""

    def __init__(self, *args, crash: dict[int, int], lose_evaluator_at: int, lose_payload: set[int],
                 poison: int = -1, crash_rows: dict[int, int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.crash, self.lose_evaluator_at, self.lose_payload = crash, lose_evaluator_at, lose_payload
        self.crash_rows = crash_rows or {}  # a row that kills the worker running it, that many times
        self.poison = poison  # a batch whose metrics kill every evaluator that scores them
        self.ingests = 0

    def run(self, worker, batch):
        if self.crash.get(batch.batch_id, 0) > 0:
            self.crash[batch.batch_id] -= 1
            return _Lost(ActorLost("worker died")), None
        killer = next((row for row in batch.row_ids if self.crash_rows.get(row, 0) > 0), None)
        if killer is not None:
            self.crash_rows[killer] -= 1
            return _Lost(ActorLost("worker died")), None
        return super().run(worker, batch)

    def ingest(self, evaluator, payloads):
        self.ingests += 1
        if self.ingests == self.lose_evaluator_at:
            self._evaluators[evaluator] = self._config.make(evaluator, 50)  # its buffer dies with it
            return _Lost(ActorLost("evaluator died"))
        values = [getattr(payload, "value", payload) for payload in payloads]
        if any(value.batch_id == self.poison and value.calls for value in values):
            # it dies scoring the poison batch, after buffering (and so losing) those before it
            for value in values[:[v.batch_id for v in values].index(self.poison)]:
                self._evaluators[evaluator].ingest(value)
            self._evaluators[evaluator] = self._config.make(evaluator, 50)
            return _Lost(ActorLost("evaluator died"))
        lost = [value.batch_id for value in values if value.batch_id in self.lose_payload]
        if lost:  # a payload that cannot be read fails the whole call before anything is scored
            self.lose_payload.difference_update(lost)
            return _Lost(PayloadLost("object lost"))
        return super().ingest(evaluator, payloads)



def test_driver_recovers_from_lost_workers_evaluators_and_payloads(tmp_path):
    plan = CallPlan.bind(h.square_or_fail, (), {"x": FieldRef("x"), "fail_on": -1})
    config = EvaluatorConfig(tmp_path, 1, flush_rows=9, flush_bytes=10**9)
    pool = _FaultyPool(h.square_or_fail, plan, RetryPolicy(0, 0.0, (Exception,)), 1, config,
                       crash={1: 1}, crash_rows={13: 5}, lose_evaluator_at=4, lose_payload={6})
    batches = iter_batches(Dataset.from_records([{"x": i} for i in range(30)]), 3, RowSet(), math.inf)
    stats = Driver(pool, batches, workers=2, evaluators=1, max_in_flight=9, crash_limit=3, plan=plan).run()
    # batch 1 crashes once; row 13 kills its batch (rows 12-14), then the half [13, 14], then itself 3 times.
    # (The evaluator dies in its 4th call: the 5th carries row 13's failure, which would then count an
    # evaluator's death too and fail the row as EvaluatorDied.)
    assert (stats.committed_rows, stats.lost_workers, stats.lost_evaluators) == (30, 1 + 1 + 1 + 3, 1)
    parts = list_parts(tmp_path)
    assert {p.name.split("-")[2] for p in parts} == {"e000g000", "e000g001"}
    recorded = [i for p in parts for i in pq.read_table(p).column("row_id").to_pylist()]
    assert sorted(recorded) == list(range(30))  # what was flushed stayed; what was lost was sent again
    table = pq.read_table(reconcile.reconcile(tmp_path).path)
    assert table.column("row_id").to_pylist() == list(range(30))
    errors = table.column("error").to_pylist()
    assert errors[13] == "WorkerDied: worker died"  # the row crashed past the limit, alone
    assert [i for i, e in enumerate(errors) if e is not None] == [13]  # its batch's other rows are recorded
    assert table.column("attempts").to_pylist()[13] == 3
    assert [v for i, v in enumerate(table.column("output").to_pylist()) if i != 13] == [
        i * i for i in range(30) if i != 13]
    assert stats.peak_in_flight_rows <= 9 + 9  # re-sent batches may briefly add to the bound


def test_progress_is_reported_after_every_event(tmp_path):
    seen = []
    plan = CallPlan.bind(h.square_or_fail, (), {"x": FieldRef("x"), "fail_on": 2})
    pool = LocalPool(h.square_or_fail, plan, RetryPolicy(0, 0.0, (Exception,)), 1,
                     EvaluatorConfig(Path(tmp_path), 1, 100, 10**9))
    batches = iter_batches(Dataset.from_records([{"x": i} for i in range(6)]), 2, RowSet(), math.inf)
    Driver(pool, batches, workers=1, evaluators=1, max_in_flight=4, crash_limit=3, plan=plan,
           progress=seen.append).run()
    assert seen[-1].committed_rows == 6 and seen[-1].failed_rows == 1 and seen[-1].in_flight_rows == 0
    assert max(p.in_flight_rows for p in seen) <= 4
    assert [p.acknowledged_rows for p in seen] == sorted(p.acknowledged_rows for p in seen)


def test_a_batch_that_keeps_killing_evaluators_fails_its_rows_after_the_crash_limit(tmp_path):
    @component(evals=[h.Parity().use(value=component.output())])
    def ident(x: int) -> int:
        return x

    plan = CallPlan.bind(ident, (), {"x": FieldRef("x")})
    pool = _FaultyPool(ident, plan, RetryPolicy(0, 0.0, (Exception,)), 1,
                       EvaluatorConfig(tmp_path, 1, flush_rows=4, flush_bytes=10**9),
                       crash={}, lose_evaluator_at=-1, lose_payload=set(), poison=2)
    batches = iter_batches(Dataset.from_records([{"x": i} for i in range(12)]), 2, RowSet(), math.inf)
    stats = Driver(pool, batches, workers=1, evaluators=1, max_in_flight=4, crash_limit=3, plan=plan).run()
    assert (stats.lost_evaluators, stats.failed_rows) == (3, 2)
    table = pq.read_table(reconcile.reconcile(tmp_path).path)
    assert table.column("row_id").to_pylist() == list(range(12))
    assert table.column("error").to_pylist()[4:6] == ["EvaluatorDied: evaluator died"] * 2
    assert table.column("ident.Parity").to_pylist() == [float(i % 2) if i not in (4, 5) else None
                                                          for i in range(12)]


class _DyingScorersPool(_LossyPool):
    """Workers that score their own batches (`evaluators=0`); a worker that dies loses the rows it buffered.
    Worker `dies` dies on its runs numbered in `at`; rows in `crash` kill whichever worker runs them (as many
    times as their count says)."""

    def __init__(self, *args, dies: int, at: set[int], crash: dict[int, int], **kwargs):
        super().__init__(*args, scores_in_workers=True, **kwargs)
        self.dies, self.at, self.crash, self.runs, self.deaths = dies, at, crash, 0, 0

    def _die(self, worker):
        self.deaths += 1
        self._evaluators[worker] = self._config.make(worker, 50)  # its buffer dies with it
        return _Lost(ActorLost("worker died")), None

    def run(self, worker, batch):
        killer = next((row for row in batch.row_ids if self.crash.get(row, 0) > 0), None)
        if killer is not None:
            self.crash[killer] -= 1
            return self._die(worker)
        if worker == self.dies:
            self.runs += 1
            if self.runs in self.at:
                return self._die(worker)
        return super().run(worker, batch)


def test_workers_that_score_their_own_batches_lose_nothing_when_they_die(tmp_path):
    plan = CallPlan.bind(h.square_or_fail, (), {"x": FieldRef("x"), "fail_on": -1})
    config = EvaluatorConfig(tmp_path, 1, flush_rows=6, flush_bytes=10**9)
    pool = _DyingScorersPool(h.square_or_fail, plan, RetryPolicy(0, 0.0, (Exception,)), 2, config,
                             dies=1, at={2, 4}, crash={25: 5})
    batches = iter_batches(Dataset.from_records([{"x": i} for i in range(36)]), 3, RowSet(), math.inf)
    seen = []
    stats = Driver(pool, batches, workers=2, evaluators=2, max_in_flight=9, crash_limit=3, plan=plan,
                   progress=seen.append).run()
    # row 25 kills its batch (rows 24-26), then the half [25, 26], then itself 3 times
    assert pool.deaths == 2 + 5 and stats.committed_rows == 36
    # A death seen after its worker was already replaced is not counted twice; each worker held an evaluator.
    assert 2 <= stats.lost_workers <= pool.deaths and stats.lost_evaluators == stats.lost_workers
    assert (seen[-1].in_flight_rows, seen[-1].acknowledged_rows, seen[-1].committed_rows) == (0, 36, 36)
    recorded = [i for p in list_parts(tmp_path) for i in pq.read_table(p).column("row_id").to_pylist()]
    assert sorted(recorded) == list(range(36))  # rows buffered by a dead worker were run again, once
    table = pq.read_table(reconcile.reconcile(tmp_path).path)
    assert table.column("row_id").to_pylist() == list(range(36))
    errors = table.column("error").to_pylist()
    assert [(i, e) for i, e in enumerate(errors) if e is not None] == [(25, "WorkerDied: worker died")]
    assert [v for i, v in enumerate(table.column("output").to_pylist()) if i != 25] == [
        i * i for i in range(36) if i != 25]


class _ReplyLostPool(_LossyPool):
    """A LocalPool whose evaluator dies right after an ingest that flushed a part, before it could reply."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.died = False

    def ingest(self, evaluator, payloads):
        done = super().ingest(evaluator, payloads)
        if done.value and not self.died:  # a part was written; the reply never leaves the dying process
            self.died = True
            return _Lost(ActorLost("evaluator died after writing a part"))
        return done



def test_a_part_written_by_an_evaluator_that_died_before_replying_is_not_written_again(tmp_path):
    plan = CallPlan.bind(h.square_or_fail, (), {"x": FieldRef("x"), "fail_on": -1})
    config = EvaluatorConfig(tmp_path, 1, flush_rows=6, flush_bytes=10**9)
    pool = _ReplyLostPool(h.square_or_fail, plan, RetryPolicy(0, 0.0, (Exception,)), 1, config)
    batches = iter_batches(Dataset.from_records([{"x": i} for i in range(12)]), 3, RowSet(), math.inf)
    seen = []
    stats = Driver(pool, batches, workers=1, evaluators=1, max_in_flight=6, crash_limit=3, plan=plan,
                   progress=seen.append).run()
    assert (stats.committed_rows, stats.lost_evaluators, stats.failed_rows) == (12, 1, 0)
    assert (seen[-1].in_flight_rows, seen[-1].acknowledged_rows, seen[-1].committed_rows) == (0, 12, 12)
    recorded = [i for p in list_parts(tmp_path) for i in pq.read_table(p).column("row_id").to_pylist()]
    assert sorted(recorded) == list(range(12))  # rows 0-5 are in the dead evaluator's part, once
    assert committed_batches(tmp_path, 1, "e000g000") == {0, 1}
