"""Memory a first status pass keeps per done job, when nothing tells it the recorded signatures are the
planned ones (no status cache yet, or a change to the pipeline made the cache's word void): it computes
each done job's digest to compare with its record, and keeps it (downstream jobs and the run record need
it) in a few bytes at the job's place in the pass's order, not as a string by id."""

from __future__ import annotations

import os

from finished import plan, tensor
from support.memory import kept_by

from hypermetric.store.staleness import Staleness
from hypermetric.store.status import JobStatus


def _first_pass(root: str, b: int) -> tuple[Staleness, int]:
    """A pass over a 20 x `b` tensor of done jobs never checked before; the bytes it left allocated."""
    os.makedirs(root)
    tensor(root, 20, b)
    staleness = Staleness(plan(root))  # planned afresh: no digest known

    def check() -> list[JobStatus]:
        return [status for _, status, _ in staleness.each()]

    statuses, kept = kept_by(check)
    assert statuses.count(JobStatus.COMPLETE) == 20 * b  # every done job's digest computed and found as recorded
    return staleness, kept - len(statuses) * 8  # (less the list of statuses itself)


def test_a_first_pass_keeps_a_few_bytes_per_done_job(tmp_path) -> None:
    _first_pass(str(tmp_path / "warmup"), 20)  # (the interpreter's free lists, which tracemalloc counts)
    _, small = _first_pass(str(tmp_path / "small"), 50)
    large, big = _first_pass(str(tmp_path / "large"), 500)
    learnt = large.signer._learned
    assert learnt is not None and len(learnt) == 10_000  # kept at their places, not by id
    # What tracemalloc does not see: the digests' anonymous mapping, 11 bytes a job.
    per_job = (big - small) / 9_000 + 11
    assert per_job < 40, f"{per_job:.0f} bytes kept per done job"  # (it was about 130, a string by id)
