"""The driver when a worker that scores its own batches (`evaluators=0`) dies after a flush made batches
durable and before its replies came: those batches are committed once, from its parts, and never run again;
the rest runs again. Played on a scripted pool, so that the order of events is the same every time."""

from __future__ import annotations

from typing import Any

from hypermetric.runtime.data.sharding import RowBatch
from hypermetric.runtime.drive.driver import Driver
from hypermetric.runtime.drive.execute import CallPlan
from hypermetric.runtime.drive.pool import ActorLost


class _Handle:
    def __init__(self, value: Any = None, lost: bool = False) -> None:
        self.value, self.lost = value, lost


class ScriptedPool:
    """One worker scoring its own batches. Its first generation dies once it has run `dies_after` batches,
    having written `durable` of them to a part; every run it had taken fails with it."""

    scores_in_workers = True

    def __init__(self, dies_after: int, durable: set[int]) -> None:
        self.dies_after, self.durable = dies_after, durable
        self.generation = 0
        self.runs: list[int] = []
        self._taken: list[_Handle] = []

    def run(self, worker: int, batch: RowBatch) -> tuple[_Handle, None]:
        self.runs.append(batch.batch_id)
        if self.generation > 0:  # the replacement works
            return _Handle((batch.batch_id, len(batch), 0, [batch.batch_id])), None
        handle = _Handle()
        self._taken.append(handle)
        if len(self._taken) == self.dies_after:
            for taken in self._taken:
                taken.lost = True
        return handle, None

    def ingest(self, evaluator: int, payloads: list[Any]) -> _Handle:
        raise AssertionError("a worker that scores its batches sends nothing to an evaluator")

    def close(self, evaluator: int) -> _Handle:
        return _Handle([])

    def wait(self, handles: Any) -> list[Any]:
        return [h for h in handles if h.lost or h.value is not None]

    def result(self, handle: _Handle) -> Any:
        if handle.lost:
            raise ActorLost("the worker died")
        return handle.value

    def replace_worker(self, worker: int) -> None:
        raise AssertionError("a worker that scores its batches is replaced as an evaluator")

    def replace_evaluator(self, evaluator: int, generation: int) -> None:
        self.generation = generation

    def committed_by(self, evaluator: int, generation: int) -> set[int]:
        return set(self.durable) if generation == 0 else set()

    def shutdown(self) -> None:
        pass


def _drive(pool: ScriptedPool, batches: int) -> Any:
    source = iter([RowBatch(i, range(2 * i, 2 * i + 2), {"x": [2 * i, 2 * i + 1]}) for i in range(batches)])
    driver = Driver(pool, source, workers=1, evaluators=1, max_in_flight=100, crash_limit=3,
                    plan=CallPlan((), (), ()))
    return driver.run()


def test_the_batch_it_was_running_is_committed_from_its_part_not_split() -> None:
    pool = ScriptedPool(dies_after=2, durable={0})
    stats = _drive(pool, 3)
    assert stats.committed_rows == 6 and stats.failed_rows == 0 and stats.lost_workers == 1
    assert pool.runs.count(0) == 1  # never run again, in halves or whole
    assert pool.runs.count(1) == 2  # queued behind it: not durable, so run again


def test_a_batch_queued_behind_it_and_durable_too_is_not_run_again() -> None:
    pool = ScriptedPool(dies_after=2, durable={0, 1})
    stats = _drive(pool, 3)
    assert stats.committed_rows == 6 and stats.failed_rows == 0 and stats.lost_workers == 1
    assert pool.runs.count(0) == 1 and pool.runs.count(1) == 1 and pool.runs.count(2) == 1
