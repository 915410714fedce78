"""Run batches waiting to go to an evaluator, and when to send them.

Every call to an evaluator costs the driver and the evaluator a fixed price (a Ray task each side: a submit,
a wait, a reply; about half a millisecond of CPU on the evaluator's side), whatever it carries; with a cheap
metric that price is a large part of a batch's cost. So a batch whose run has ended is held while other runs
are about to end, and a group goes in one call: as many batches as the runs queued on the workers feeding
one evaluator. Holding never stalls a run: a batch is held only while a run is pending, whose end either
completes the group or leaves nothing pending, and then everything held is sent. The driver's in-flight
bound leaves room for a group held, a group being scored and the runs queued (see `session`), so workers
keep running while a group waits.
"""

from __future__ import annotations

from hypermetric.runtime.drive.state import BatchState

MAX_BATCHES_PER_INGEST = 8  # batches handed to an evaluator in one call at most


def group_size(workers: int, evaluators: int, runs_per_worker: int) -> int:
    """Batches per evaluator call in a steady run: as many as the runs queued on the workers feeding each
    evaluator (they end one after the other), within the cap."""
    return max(1, min(MAX_BATCHES_PER_INGEST, workers * runs_per_worker // max(1, evaluators)))


class ReadyBatches:
    """The run batches not yet sent to an evaluator, in the order their runs ended."""

    def __init__(self, group: int) -> None:
        self._group = group
        self._held: list[BatchState] = []

    def add(self, state: BatchState) -> None:
        self._held.append(state)

    def take(self, runs_pending: int, evaluators: int) -> list[list[BatchState]]:
        """The calls to make now, each a list of batches (shared out among the evaluators); none while
        fewer than a group are held and a run is still pending."""
        if not self._held or (len(self._held) < self._group and runs_pending):
            return []
        held, self._held = self._held, []
        size = min(MAX_BATCHES_PER_INGEST, -(-len(held) // evaluators))
        return [held[start:start + size] for start in range(0, len(held), size)]
