"""The driver's bookkeeping: what it reports (`Progress`, `DriveStats`) and what it keeps per batch and per
pending handle."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from hypermetric.runtime.data.sharding import RowBatch


@dataclass(frozen=True, slots=True)
class Progress:
    """A snapshot of a run, given to the `progress` callback after every event."""

    read_rows: int
    in_flight_rows: int
    acknowledged_rows: int
    committed_rows: int
    failed_rows: int
    elapsed_seconds: float


@dataclass(frozen=True, slots=True)
class DriveStats:
    """What the driver saw: rows read and committed, the in-flight peak, and the actors it had to replace."""

    read_rows: int
    committed_rows: int
    failed_rows: int
    peak_in_flight_rows: int
    lost_workers: int
    lost_evaluators: int


@dataclass(frozen=True, slots=True)
class Wait:
    """What a pending handle stands for: a batch run, an ingest or a close, on which actor generation (an
    ingest may carry several batches: `batch_ids`)."""

    kind: str
    batch_id: int
    actor: int
    generation: int
    batch_ids: tuple[int, ...] = ()


@dataclass(slots=True)
class BatchState:
    """A batch the driver holds until it is committed: where it is scored, its payload, and its crashes."""

    batch: RowBatch
    evaluator: int = -1
    payload: Any = None
    crashes: int = 0
    failed: int = 0
    in_flight: bool = True


@dataclass(slots=True)
class Counters:
    """Rows at each stage of the run, and the actors replaced so far."""

    read: int = 0
    in_flight: int = 0
    peak: int = 0
    acknowledged: int = 0
    committed: int = 0
    failed: int = 0
    lost_workers: int = 0
    lost_evaluators: int = 0
    started: float = field(default_factory=time.monotonic)

    def progress(self) -> Progress:
        """Where the run stands now."""
        return Progress(self.read, self.in_flight, self.acknowledged, self.committed, self.failed,
                        time.monotonic() - self.started)
