"""What travels between the Ray backend's driver and its workers: a job's task argument and its outcome.

Both are bytes, which Ray passes on as they are (its own serialisation of objects costs far more). The
argument (`payload`) is what every job of a run shares, pickled once by the driver (`shared_options`),
followed by the job's id and attempt, then the job itself; a worker decodes the shared part once for all
the jobs of a run it gets (`unpack`), and the job only if it is to run it. A job is pickled as calls of its
dataclasses' constructors with their fields in order: rebuilding it so costs the worker about half of what
restoring each dataclass's state field by field costs, and pickling it so costs the driver less too. The
outcome (`outcome_bytes`) is a tuple of plain values, which names no class at all.

Driver and worker run the same package (the embedded Ray, a shipped package, or a worker whose fingerprint
was checked: `ray_package`); a worker with another package answers with the whole pickled `JobOutcome`, which
`read_outcome` reads as well.
"""

from __future__ import annotations

import io
import operator
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypermetric.execution.hooks import JobOptions
from hypermetric.execution.protocol import JobOutcome
from hypermetric.plan import job as plan_job
from hypermetric.plan.job import Job
from hypermetric.record import RecordBase
from hypermetric.store.status import JobStatus

_last: tuple[bytes, JobOptions, str | None] | None = None  # the shared bytes last unpacked, what they gave


def _by_fields(cls: type[RecordBase]) -> Callable[[Any], tuple[type, tuple]]:
    get = operator.attrgetter(*cls._fields)
    if len(cls._fields) == 1:
        return lambda obj: (cls, (get(obj),))
    return lambda obj: (cls, get(obj))


def _reducers() -> dict[type, Callable[[Any], tuple[type, tuple]]]:
    """For each record a job is made of (whose constructor takes its fields in order: none is computed):
    how to pickle it as that constructor call."""
    table = {}
    for cls in vars(plan_job).values():
        if (isinstance(cls, type) and issubclass(cls, RecordBase) and cls.__module__ == plan_job.__name__
                and cls._fields and not cls._derived):
            table[cls] = _by_fields(cls)
    return table


_REDUCERS = _reducers()


def shared_options(options: JobOptions, expected: str | None = None) -> bytes:
    """What every job of a run shares, pickled once: `options`, and the package fingerprint its worker must
    have (`ray_package`; None: any)."""
    return pickle.dumps((options, expected), pickle.HIGHEST_PROTOCOL)


def payload(options: bytes, job: Job, attempt: int, grace: float) -> bytes:
    """The argument of `ray_task.run_task`: `options` (`shared_options`), then the job's id, attempt and grace
    period, then the job itself (read only by a worker that runs it: `Unpacked.job`)."""
    buffer = io.BytesIO()
    buffer.write(options)
    buffer.write(pickle.dumps((job.id, attempt, grace), pickle.HIGHEST_PROTOCOL))
    pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _REDUCERS
    pickler.dump(job)
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class Unpacked:
    """A `payload` read up to the job itself."""

    options: JobOptions
    expected: str | None
    job_id: str
    attempt: int
    grace: float
    rest: memoryview

    def job(self) -> Job:
        return pickle.loads(self.rest)


def unpack(data: bytes) -> Unpacked:
    """A `payload`, all but the job decoded. Shared bytes that the last payload started with too are not
    decoded again: the same options object comes back."""
    global _last
    if _last is not None and data.startswith(_last[0]):
        shared, options, expected = _last
        stream = io.BytesIO(data)
        stream.seek(len(shared))
    else:
        stream = io.BytesIO(data)
        options, expected = pickle.load(stream)
        _last = (data[:stream.tell()], options, expected)
    job_id, attempt, grace = pickle.load(stream)
    return Unpacked(options, expected, job_id, attempt, grace, memoryview(data)[stream.tell():])


def outcome_bytes(outcome: JobOutcome) -> bytes:
    """`outcome` as a pickled tuple of plain values."""
    return pickle.dumps((outcome.job_id, outcome.status.name, outcome.attempt, outcome.exit_code,
                         outcome.reason, outcome.stderr_tail, outcome.start, outcome.end),
                        pickle.HIGHEST_PROTOCOL)


def read_outcome(data: bytes) -> JobOutcome:
    """The `JobOutcome` a task returned: `outcome_bytes`, or a whole pickled `JobOutcome`."""
    value = pickle.loads(data)
    if isinstance(value, JobOutcome):
        return value
    job_id, status, *rest = value
    return JobOutcome(job_id, JobStatus[status], *rest)
