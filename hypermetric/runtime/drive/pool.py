"""The pool interface the driver schedules on, and `LocalPool`, which runs everything in this process."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from hypermetric.runtime.data.sharding import RowBatch
from hypermetric.runtime.drive.execute import CallPlan, run_batch
from hypermetric.runtime.drive.notices import FailureNotices
from hypermetric.runtime.options import RetryPolicy
from hypermetric.runtime.parts.sink import PartSink, committed_batches
from hypermetric.runtime.scoring.evaluate import Evaluator
from hypermetric.runtime.scoring.payload import BatchPayload

# (batch id, rows, rows that failed, and where the worker scored the batch itself the batch ids its flushes
# made durable, else None)
BatchStatus = tuple[int, int, int, "list[int] | None"]


class ActorLost(Exception):
    """A worker or evaluator process died; what it held must be sent again."""


class PayloadLost(Exception):
    """A batch's results were lost before an evaluator read them; the batch must run again."""


@dataclass(frozen=True, slots=True)
class EvaluatorConfig:
    """Where evaluators write parts and when they flush."""

    output_dir: Path
    run: int
    flush_rows: int
    flush_bytes: int

    def make(self, index: int, generation: int) -> Evaluator:
        writer = _writer(index, generation)
        return Evaluator(PartSink(self.output_dir, self.run, writer, self.flush_rows, self.flush_bytes))

    def committed_by(self, index: int, generation: int) -> set[int]:
        """The batches one evaluator generation wrote to parts (read from disk, whatever it replied)."""
        return committed_batches(self.output_dir, self.run, _writer(index, generation))


def _writer(index: int, generation: int) -> str:
    return f"e{index:03d}g{generation:03d}"


class Pool(Protocol):
    """Workers (stateless, run batches) and evaluators (stateful, score and flush), addressed by index.

    Where `scores_in_workers`, each worker holds an evaluator (of the same index) and scores the batches it
    runs itself: nothing is sent to an evaluator, and a worker lost is its evaluator lost."""

    scores_in_workers: bool

    def run(self, worker: int, batch: RowBatch) -> tuple[Any, Any]:
        """Starts a batch; returns handles to its status and to its payload (None where the worker scores)."""

    def ingest(self, evaluator: int, payloads: list[Any]) -> Any:
        """Sends payloads (handles or payloads) to an evaluator in one call; the handle yields the batch ids
        that became durable."""

    def close(self, evaluator: int) -> Any:
        """Asks an evaluator to flush; the handle yields committed batch ids."""

    def wait(self, handles: Collection[Any]) -> list[Any]:
        """Blocks until at least one handle is ready; returns the ready ones."""

    def result(self, handle: Any) -> Any:
        """The value of a ready handle; raises ActorLost or PayloadLost for infrastructure failures."""

    def replace_worker(self, worker: int) -> None:
        """Puts a fresh worker in place of a dead one (where workers score: `replace_evaluator` does)."""

    def replace_evaluator(self, evaluator: int, generation: int) -> None:
        """Puts a fresh evaluator (writing parts as `generation`) in place of a dead one."""

    def committed_by(self, evaluator: int, generation: int) -> set[int]:
        """The batches an evaluator generation made durable, as its parts on disk record them."""

    def shutdown(self) -> None:
        """Stops every actor."""


def status_of(payload: BatchPayload, committed: list[int] | None = None) -> BatchStatus:
    """A payload's batch id, row count and failed-row count, and what scoring it made durable if scored."""
    return payload.batch_id, len(payload), payload.failed, committed


def run_and_score(fn: Callable[..., Any], plan: CallPlan, retry: RetryPolicy, batch: RowBatch,
                  evaluator: Evaluator, notices: FailureNotices | None = None) -> BatchStatus:
    """Runs a batch and scores it with the worker's own evaluator (`scores_in_workers`)."""
    payload = run_batch(fn, plan, retry, batch, notices)
    return status_of(payload, evaluator.ingest(payload))


@dataclass(frozen=True, slots=True, eq=False)
class _Done:
    value: Any


class LocalPool:
    """Runs batches and evaluations synchronously in this process: the `parallel=False` mode. With
    `scores_in_workers`, worker i scores its batches with evaluator i, as a Ray pool's workers would."""

    def __init__(self, fn: Callable[..., Any], plan: CallPlan, retry: RetryPolicy, evaluators: int,
                 config: EvaluatorConfig, scores_in_workers: bool = False,
                 notices: FailureNotices | None = None) -> None:
        self._fn, self._plan, self._retry, self._config = fn, plan, retry, config
        self._notices = notices
        self._evaluators = [config.make(index, 0) for index in range(evaluators)]
        self.scores_in_workers = scores_in_workers

    def run(self, worker: int, batch: RowBatch) -> tuple[_Done, _Done | None]:
        if self.scores_in_workers:
            status = run_and_score(self._fn, self._plan, self._retry, batch, self._evaluators[worker],
                                   self._notices)
            return _Done(status), None
        payload = run_batch(self._fn, self._plan, self._retry, batch, self._notices)
        return _Done(status_of(payload)), _Done(payload)

    def ingest(self, evaluator: int, payloads: list[Any]) -> _Done:
        values = [payload.value if isinstance(payload, _Done) else payload for payload in payloads]
        return _Done(self._evaluators[evaluator].ingest_all(values))

    def close(self, evaluator: int) -> _Done:
        return _Done(self._evaluators[evaluator].close())

    def wait(self, handles: Collection[Any]) -> list[Any]:
        return list(handles)

    def result(self, handle: Any) -> Any:
        return handle.value

    def replace_worker(self, worker: int) -> None:
        """Nothing to replace: in-process workers do not die on their own."""

    def replace_evaluator(self, evaluator: int, generation: int) -> None:
        self._evaluators[evaluator] = self._config.make(evaluator, generation)

    def committed_by(self, evaluator: int, generation: int) -> set[int]:
        return self._config.committed_by(evaluator, generation)

    def shutdown(self) -> None:
        for evaluator in self._evaluators:
            evaluator.close()
