"""How many calls the driver makes per batch: batches whose runs end together go to an evaluator in one call
(a group as large as the runs queued on the workers feeding it), and the driver asks Ray once for every handle
already done. Counted, never timed."""

from __future__ import annotations

import math
import sys
import types

import pyarrow.parquet as pq
import runtime_helpers as h

from hypermetric.runtime import Dataset
from hypermetric.runtime.data.dataset import FieldRef
from hypermetric.runtime.data.sharding import RowSet, iter_batches
from hypermetric.runtime.drive.actors import RayPool
from hypermetric.runtime.drive.driver import BATCHES_PER_WORKER, MAX_BATCHES_PER_INGEST, Driver
from hypermetric.runtime.drive.execute import CallPlan
from hypermetric.runtime.drive.pool import EvaluatorConfig, LocalPool
from hypermetric.runtime.drive.ready import group_size
from hypermetric.runtime.options import RetryPolicy
from hypermetric.runtime.parts import reconcile
from hypermetric.runtime.session import IN_FLIGHT_BATCHES_PER_WORKER, WORKERS_PER_EVALUATOR


class _CountingPool(LocalPool):
    """A LocalPool that records how many batches each evaluator call carried, and to which evaluator."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[int, int]] = []

    def ingest(self, evaluator, payloads):
        self.calls.append((evaluator, len(payloads)))
        return super().ingest(evaluator, payloads)


class _OneAtATimePool(_CountingPool):
    """Runs end one at a time, as on a real cluster (a LocalPool's handles are all done at once)."""

    def wait(self, handles):
        return list(handles)[:1]


def _drive(tmp_path, *, rows: int, batch: int, workers: int, evaluators: int, max_in_flight: int,
           pool_class=_CountingPool):
    plan = CallPlan.bind(h.square_or_fail, (), {"x": FieldRef("x"), "fail_on": 5})
    config = EvaluatorConfig(tmp_path, 1, flush_rows=7, flush_bytes=10**9)
    pool = pool_class(h.square_or_fail, plan, RetryPolicy(0, 0.0, (Exception,)), evaluators, config)
    batches = iter_batches(Dataset.from_records([{"x": i} for i in range(rows)]), batch, RowSet(), math.inf)
    stats = Driver(pool, batches, workers=workers, evaluators=evaluators, max_in_flight=max_in_flight,
                   crash_limit=3, plan=plan).run()
    return pool, stats, pq.read_table(reconcile.reconcile(tmp_path).path)


def test_batches_whose_runs_end_together_go_to_an_evaluator_in_one_call(tmp_path):
    pool, stats, table = _drive(tmp_path, rows=60, batch=3, workers=4, evaluators=1, max_in_flight=24)
    sizes = [size for _, size in pool.calls]
    assert sum(sizes) == 20 and stats.committed_rows == 60 and stats.failed_rows == 1
    assert len(sizes) <= 20 // 8 + 1  # eight batches end together each time (four workers, two each)
    assert max(sizes) == MAX_BATCHES_PER_INGEST
    assert table.column("row_id").to_pylist() == list(range(60))
    assert table.column("output").to_pylist() == [None if i == 5 else i * i for i in range(60)]


def test_batches_that_end_together_are_shared_out_among_the_evaluators(tmp_path):
    pool, stats, table = _drive(tmp_path, rows=48, batch=3, workers=4, evaluators=2, max_in_flight=24)
    by_evaluator = {evaluator: sum(size for e, size in pool.calls if e == evaluator) for evaluator in (0, 1)}
    assert by_evaluator == {0: 8, 1: 8} and stats.committed_rows == 48
    assert table.column("row_id").to_pylist() == list(range(48))


def test_runs_ending_one_after_another_reach_the_evaluator_in_groups_of_the_runs_queued(tmp_path):
    # Two workers feeding one evaluator, each with two runs queued: a batch whose run ended waits for the
    # three runs queued behind it to end, and the four go in one call (each evaluator call costs the driver
    # and the evaluator a Ray task, whatever it carries): a quarter of a call per batch.
    pool, stats, table = _drive(tmp_path, rows=60, batch=3, workers=2, evaluators=1, max_in_flight=36,
                                pool_class=_OneAtATimePool)
    sizes = [size for _, size in pool.calls]
    assert sum(sizes) == 20 and stats.committed_rows == 60 and stats.failed_rows == 1
    assert len(sizes) == 5 and set(sizes) == {BATCHES_PER_WORKER * 2}
    assert table.column("row_id").to_pylist() == list(range(60))
    assert table.column("output").to_pylist() == [None if i == 5 else i * i for i in range(60)]


def test_the_default_in_flight_bound_leaves_room_for_a_group_held_and_one_scored():
    # Runs queued on every worker, a group held for each evaluator and a group being scored by each all fit
    # in flight at once; with less room, workers would wait for an evaluator's reply.
    for workers in range(1, 33):
        evaluators = math.ceil(workers / WORKERS_PER_EVALUATOR)
        group = group_size(workers, evaluators, BATCHES_PER_WORKER)
        assert group == min(MAX_BATCHES_PER_INGEST, workers * BATCHES_PER_WORKER // evaluators)
        assert IN_FLIGHT_BATCHES_PER_WORKER * workers >= workers * BATCHES_PER_WORKER + 2 * evaluators * group


def test_a_batch_is_not_held_when_no_run_is_pending(tmp_path):
    # Five batches in groups of four: the last one goes alone rather than wait for a run that will never come.
    pool, stats, _ = _drive(tmp_path, rows=15, batch=3, workers=2, evaluators=1, max_in_flight=36,
                            pool_class=_OneAtATimePool)
    assert [size for _, size in pool.calls] == [4, 1] and stats.committed_rows == 15


def test_the_driver_asks_ray_once_for_every_handle_already_done(monkeypatch):
    asked: list[tuple[int, float | None]] = []

    def wait(handles, num_returns=1, timeout=None):
        asked.append((num_returns, timeout))
        done = [handle for handle in handles if handle.startswith("done")]
        return done[:num_returns], [handle for handle in handles if handle not in done[:num_returns]]

    monkeypatch.setitem(sys.modules, "ray", types.SimpleNamespace(wait=wait))
    pool = RayPool.__new__(RayPool)  # no actors: only the driver's side of waiting
    assert pool.wait(["a", "done-1", "b", "done-2"]) == ["done-1", "done-2"]
    assert len(asked) == 1  # one round trip, however many are done
    asked.clear()
    monkeypatch.setattr(sys.modules["ray"], "wait", lambda handles, num_returns=1, timeout=None: (
        asked.append((num_returns, timeout)) or ([] if timeout == 0 else handles[:1], handles)))
    assert pool.wait(["a", "b"]) == ["a"]  # nothing done yet: it waits for the first
    assert asked == [(2, 0), (1, None)]
